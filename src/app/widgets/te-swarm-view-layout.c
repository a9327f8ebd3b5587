/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-swarm-view"

#include "config.h"

#include <math.h>
#include <string.h>

#include "te-swarm-view-private.h"

/* The swarm's model: one node per connected peer, kept across refreshes so
 * that peers stay where they were placed. A peer sits on the ring of its
 * progress (seeds nearest), at the middle of the widest free arc of that
 * ring when it arrives; it moves only when its progress takes it to another
 * ring. A peer that leaves stays a second, fading out. */

#define MIN_ARC 36.0          /* world units between neighbours on a lane */
#define EASE_RATE 6.0         /* 1/s: how quickly positions and sizes settle */

void
_te_swarm_node_free (TeSwarmNode *node)
{
  g_free (node->key);
  g_free (node->address);
  g_free (node->client);
  g_free (node);
}

static int
ring_for_progress (double progress)
{
  if (progress >= 0.999)
    return 0;
  if (progress >= 0.5)
    return 1;
  if (progress >= 0.1)
    return 2;
  return 3;
}

static double
lane_radius (int ring,
             int lane)
{
  static const double offsets[SWARM_N_LANES] = { 0, SWARM_LANE_OFFSET, -SWARM_LANE_OFFSET };

  return SWARM_RING_RADIUS (ring) + offsets[lane];
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* The middle of the widest gap between the nodes on a lane; returns the
 * gap's length along the lane. */
static double
widest_gap (TeSwarmView *self,
            TeSwarmNode *skip,
            int          ring,
            int          lane,
            double      *angle)
{
  g_autoptr(GArray) angles = g_array_new (FALSE, FALSE, sizeof (double));
  double best = -1;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *other = g_ptr_array_index (self->nodes, i);

      if (other != skip && other->ring == ring && other->lane == lane)
        g_array_append_val (angles, other->angle);
    }
  if (angles->len == 0)
    {
      /* Empty lanes start at different angles so rings do not line up. */
      *angle = -G_PI / 2 + ring * 0.61 + lane * 0.9;
      return 2 * G_PI * lane_radius (ring, lane);
    }
  g_array_sort (angles, compare_double);
  for (guint i = 0; i < angles->len; i++)
    {
      double from = g_array_index (angles, double, i);
      double to = i + 1 < angles->len ? g_array_index (angles, double, i + 1)
                                      : g_array_index (angles, double, 0) + 2 * G_PI;

      if (to - from > best)
        {
          best = to - from;
          *angle = fmod (from + best / 2, 2 * G_PI);
        }
    }
  return best * lane_radius (ring, lane);
}

static void
place (TeSwarmView *self,
       TeSwarmNode *node)
{
  double best_arc = -1;

  node->ring = ring_for_progress (node->progress);
  /* Mark it off every lane while the gaps are measured. */
  node->lane = -1;
  for (int lane = 0; lane < SWARM_N_LANES; lane++)
    {
      double angle = 0;
      double arc = widest_gap (self, node, node->ring, lane, &angle);

      /* The ring's own line first, the lanes beside it once it is crowded. */
      if (arc > best_arc + (lane == 0 ? 0 : MIN_ARC))
        {
          best_arc = arc;
          node->lane = lane;
          node->angle = angle;
        }
      if (lane == 0 && arc >= 2 * MIN_ARC)
        break;
    }
  node->tx = lane_radius (node->ring, node->lane) * cos (node->angle);
  node->ty = lane_radius (node->ring, node->lane) * sin (node->angle);
}

double
_te_swarm_node_target_radius (const TeSwarmNode *node)
{
  double rate = (double) node->download_rate + (double) node->upload_rate;

  return MIN (5.0 + 2.0 * log2 (1.0 + rate / 8192.0), 22.0);
}

/* Edges a second: a trickle still visibly moves, a fast peer streams. */
static double
flow_speed (guint64 rate)
{
  return CLAMP (0.12 + 0.1 * log2 (1.0 + rate / 16384.0), 0.12, 1.2);
}

static void
copy_info (TeSwarmNode      *node,
           const TePeerInfo *info)
{
  if (g_strcmp0 (node->client, info->client) != 0)
    {
      g_free (node->client);
      node->client = g_strdup (info->client);
    }
  memcpy (node->flags, info->flags, sizeof node->flags);
  node->flags[sizeof node->flags - 1] = '\0';
  node->download_rate = info->download_rate;
  node->upload_rate = info->upload_rate;
  node->progress = CLAMP (info->progress, 0.0, 1.0);
}

static void
depart (TeSwarmNode *node)
{
  node->departing = TRUE;
  node->download_rate = 0;
  node->upload_rate = 0;
}

/* Merges a fresh list of peers (`NULL`: none) into the nodes. */
void
_te_swarm_view_update (TeSwarmView *self,
                       GPtrArray   *peers)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; peers != NULL && i < peers->len; i++)
    {
      const TePeerInfo *info = g_ptr_array_index (peers, i);
      g_autofree char *key = g_strdup_printf ("%s:%u", info->address, info->port);
      TeSwarmNode *node = g_hash_table_lookup (self->by_key, key);

      if (node == NULL)
        {
          node = g_new0 (TeSwarmNode, 1);
          node->address = g_strdup (info->address);
          node->port = info->port;
          node->key = g_steal_pointer (&key);
          copy_info (node, info);
          node->lane = -1;
          node->ring = -1;
          place (self, node);
          node->x = node->tx;
          node->y = node->ty;
          node->radius = _te_swarm_node_target_radius (node);
          g_ptr_array_add (self->nodes, node);
          g_hash_table_insert (self->by_key, node->key, node);
        }
      else
        {
          copy_info (node, info);
          node->departing = FALSE;
          if (ring_for_progress (node->progress) != node->ring)
            place (self, node);
        }
      g_hash_table_add (seen, node);
    }

  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);

      if (!node->departing && !g_hash_table_contains (seen, node))
        depart (node);
    }
}

static gboolean
settle (double *value,
        double  target,
        double  k,
        double  epsilon)
{
  *value += (target - *value) * k;
  if (fabs (target - *value) < epsilon)
    {
      *value = target;
      return FALSE;
    }
  return TRUE;
}

/* Advances every animation by @dt seconds; returns whether anything is still
 * moving. */
gboolean
_te_swarm_view_step (TeSwarmView *self,
                     double       dt)
{
  double k = 1.0 - exp (-dt * EASE_RATE);
  gboolean moving = FALSE;

  for (guint i = self->nodes->len; i-- > 0;)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);

      if (node->departing)
        {
          node->alpha -= dt / SWARM_FADE_OUT_S;
          if (node->alpha <= 0)
            {
              if (self->hover == node)
                self->hover = NULL;
              g_hash_table_remove (self->by_key, node->key);
              g_ptr_array_remove_index (self->nodes, i);
              continue;
            }
          moving = TRUE;
        }
      else if (node->alpha < 1)
        {
          node->alpha = MIN (1.0, node->alpha + dt / SWARM_FADE_IN_S);
          moving = TRUE;
        }

      moving |= settle (&node->x, node->tx, k, 0.3);
      moving |= settle (&node->y, node->ty, k, 0.3);
      moving |= settle (&node->radius, _te_swarm_node_target_radius (node), k, 0.05);

      if (node->download_rate > 0)
        {
          node->down_phase = fmod (node->down_phase + dt * flow_speed (node->download_rate), 1.0);
          moving = TRUE;
        }
      if (node->upload_rate > 0)
        {
          node->up_phase = fmod (node->up_phase + dt * flow_speed (node->upload_rate), 1.0);
          moving = TRUE;
        }
    }
  return moving;
}

/* Whether a frame would change anything: no peers, no frames. */
gboolean
_te_swarm_view_needs_tick (TeSwarmView *self)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);

      if (node->departing || node->alpha < 1 || node->download_rate > 0 || node->upload_rate > 0
          || node->x != node->tx || node->y != node->ty
          || node->radius != _te_swarm_node_target_radius (node))
        return TRUE;
    }
  return FALSE;
}
