/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-queue"

#include "config.h"

#include "te-queue-manager.h"
#include "te-torrent-private.h"

/* Which torrents may run: at most N downloads and N seeds, by priority and
 * then queue position. A download that has received nothing for the stall
 * timeout keeps running but no longer holds its slot, so one dead torrent
 * cannot block the queue. */

struct _TeQueueManager
{
  GObject     parent_instance;

  GPtrArray  *order;            /* TeTorrent (not owned), by queue position */
  guint       max_downloads;    /* 0: no limit */
  guint       max_seeds;
  gint64      stall_timeout_us;
  guint       idle_id;
  gint64      evaluated_us;     /* when the last evaluation ran */
  guint       n_prioritized;    /* torrents with a priority other than normal */
  guint       holds;            /* te_queue_manager_hold() without release */
  gboolean    unfinished;       /* the last evaluation ran out of time */
};

/* With thousands of torrents an evaluation walks them all: checks finishing
 * one after another share one evaluation per this much time. */
#define EVALUATE_EVERY_US (50 * 1000)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeQueueManager, te_queue_manager, G_TYPE_OBJECT)

typedef enum {
  SLOT_NONE,
  SLOT_DOWNLOAD,
  SLOT_SEED,
} SlotKind;

static SlotKind
slot_kind (TeTorrent *t)
{
  if (t->error || t->user_paused || t->seed_done || (t->checking && !t->running))
    return SLOT_NONE;
  if (t->metainfo == NULL || !te_torrent_is_complete (t))
    return SLOT_DOWNLOAD;
  return SLOT_SEED;
}

static void
te_queue_manager_dispose (GObject *object)
{
  TeQueueManager *self = TE_QUEUE_MANAGER (object);

  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_pointer (&self->order, g_ptr_array_unref);
  G_OBJECT_CLASS (te_queue_manager_parent_class)->dispose (object);
}

static void
te_queue_manager_class_init (TeQueueManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = te_queue_manager_dispose;

  /**
   * TeQueueManager::changed:
   *
   * Queue positions, priorities or which torrents run changed.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
te_queue_manager_init (TeQueueManager *self)
{
  self->order = g_ptr_array_new ();
}

TeQueueManager *
te_queue_manager_new (guint max_downloads,
                      guint max_seeds,
                      guint stall_timeout_s)
{
  TeQueueManager *self = g_object_new (TE_TYPE_QUEUE_MANAGER, NULL);

  self->max_downloads = max_downloads;
  self->max_seeds = max_seeds;
  self->stall_timeout_us = (gint64) MAX (stall_timeout_s, 1) * G_USEC_PER_SEC;
  return self;
}

void
te_queue_manager_set_limits (TeQueueManager *self,
                             guint           max_downloads,
                             guint           max_seeds)
{
  self->max_downloads = max_downloads;
  self->max_seeds = max_seeds;
  te_queue_manager_update (self);
}

guint
te_queue_manager_get_max_downloads (TeQueueManager *self)
{
  return self->max_downloads;
}

guint
te_queue_manager_get_max_seeds (TeQueueManager *self)
{
  return self->max_seeds;
}

void
te_queue_manager_set_stall_timeout (TeQueueManager *self,
                                    guint           seconds)
{
  self->stall_timeout_us = (gint64) MAX (seconds, 1) * G_USEC_PER_SEC;
  te_queue_manager_update (self);
}

static void
renumber (TeQueueManager *self,
          guint           from)
{
  for (guint i = from; i < self->order->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (self->order, i);

      if (t->queue_position != i)
        {
          t->queue_position = i;
          t->state_serial++;
          _te_torrent_publish (t);
        }
    }
}

void
te_queue_manager_add (TeQueueManager *self,
                      TeTorrent      *torrent)
{
  g_ptr_array_add (self->order, torrent);
  self->n_prioritized += torrent->priority != TE_QUEUE_PRIORITY_NORMAL;
  renumber (self, self->order->len - 1);
  te_queue_manager_update (self);
}

void
te_queue_manager_remove (TeQueueManager *self,
                         TeTorrent      *torrent)
{
  guint index;

  if (!g_ptr_array_find (self->order, torrent, &index))
    return;
  g_ptr_array_remove_index (self->order, index);
  self->n_prioritized -= torrent->priority != TE_QUEUE_PRIORITY_NORMAL;
  renumber (self, index);
  te_queue_manager_update (self);
}

/**
 * te_queue_manager_move:
 * @position: the new position, 0 first; past the end means last
 */
void
te_queue_manager_move (TeQueueManager *self,
                       TeTorrent      *torrent,
                       guint           position)
{
  guint index;

  if (!g_ptr_array_find (self->order, torrent, &index))
    return;
  position = MIN (position, self->order->len - 1);
  if (position == index)
    return;
  g_ptr_array_remove_index (self->order, index);
  g_ptr_array_insert (self->order, (gint) position, torrent);
  renumber (self, MIN (index, position));
  te_queue_manager_update (self);
}

void
te_queue_manager_set_priority (TeQueueManager  *self,
                               TeTorrent       *torrent,
                               TeQueuePriority  priority)
{
  if (torrent->priority == priority)
    return;
  if (g_ptr_array_find (self->order, torrent, NULL))
    self->n_prioritized += (priority != TE_QUEUE_PRIORITY_NORMAL) - (torrent->priority != TE_QUEUE_PRIORITY_NORMAL);
  torrent->priority = priority;
  torrent->state_serial++;
  _te_torrent_publish (torrent);
  te_queue_manager_update (self);
}

/* Starting or stopping thousands at once (a session restored) is spread
 * over main-loop turns: each evaluation changes torrents for this long at
 * most, then the next one, right after, goes on from the same order. */
#define EVALUATE_BUDGET_US 4000

static gboolean evaluate_idle (gpointer data);

static gboolean
evaluate_one (TeQueueManager *self,
              TeTorrent      *t,
              gint64          now,
              gint64          deadline,
              guint          *downloads,
              guint          *seeds)
{
  gboolean allow = FALSE;

  switch (slot_kind (t))
    {
    case SLOT_DOWNLOAD:
      allow = self->max_downloads == 0 || *downloads < self->max_downloads;
      if (allow && !_te_torrent_is_stalled (t, now, self->stall_timeout_us))
        (*downloads)++;
      break;
    case SLOT_SEED:
      allow = self->max_seeds == 0 || *seeds < self->max_seeds;
      if (allow)
        (*seeds)++;
      break;
    case SLOT_NONE:
    default:
      break;
    }
  if (t->queued != allow)
    return FALSE;
  if (g_get_monotonic_time () > deadline)
    {
      self->unfinished = TRUE;
      return FALSE;
    }
  g_object_ref (t);
  _te_torrent_set_queued (t, !allow);
  g_object_unref (t);
  return TRUE;
}

/**
 * te_queue_manager_evaluate:
 *
 * Grants and takes slots now, by priority and then queue position. Torrents
 * that want none stay marked queued, so resuming one waits for a slot rather
 * than running past the limit.
 */
void
te_queue_manager_evaluate (TeQueueManager *self)
{
  /* A copy: a state change may reach a handler that moves or removes one. */
  g_autoptr(GPtrArray) order = g_ptr_array_copy (self->order, NULL, NULL);
  gint64 now = g_get_monotonic_time ();
  gint64 deadline = now + EVALUATE_BUDGET_US;
  guint downloads = 0, seeds = 0;
  gboolean changed = FALSE;

  g_clear_handle_id (&self->idle_id, g_source_remove);
  if (self->holds > 0)
    return;
  self->evaluated_us = now;
  self->unfinished = FALSE;
  /* The order is by position already: one pass per priority instead of a
   * sort, and only the normal one when nobody has another. */
  for (int priority = TE_QUEUE_PRIORITY_HIGH; priority >= TE_QUEUE_PRIORITY_LOW; priority--)
    for (guint i = 0; (self->n_prioritized > 0 || priority == TE_QUEUE_PRIORITY_NORMAL) && i < order->len; i++)
      {
        TeTorrent *t = g_ptr_array_index (order, i);

        if ((int) t->priority == priority)
          changed |= evaluate_one (self, t, now, deadline, &downloads, &seeds);
      }
  if (self->unfinished && self->idle_id == 0)
    self->idle_id = g_idle_add (evaluate_idle, self);
  if (changed)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static gboolean
evaluate_idle (gpointer data)
{
  TeQueueManager *self = data;

  self->idle_id = 0;
  te_queue_manager_evaluate (self);
  return G_SOURCE_REMOVE;
}

/**
 * te_queue_manager_update:
 *
 * Evaluates soon: many changes in a row cost one evaluation.
 */
void
te_queue_manager_update (TeQueueManager *self)
{
  gint64 since;

  if (self->idle_id != 0 || self->holds > 0)
    return;
  since = g_get_monotonic_time () - self->evaluated_us;
  if (since >= EVALUATE_EVERY_US)
    self->idle_id = g_idle_add (evaluate_idle, self);
  else
    self->idle_id = g_timeout_add ((guint) ((EVALUATE_EVERY_US - since) / 1000) + 1, evaluate_idle, self);
}

/**
 * te_queue_manager_hold:
 *
 * Grants and takes no slots until te_queue_manager_release(): while a
 * session is restored over many main-loop turns, torrents do not start by
 * the order they happen to come back in.
 */
void
te_queue_manager_hold (TeQueueManager *self)
{
  self->holds++;
}

void
te_queue_manager_release (TeQueueManager *self)
{
  g_return_if_fail (self->holds > 0);
  if (--self->holds == 0)
    te_queue_manager_update (self);
}

/**
 * te_queue_manager_sort:
 * @compare: orders two `TeTorrent *const *`
 *
 * Puts the whole queue in a new order at once.
 */
void
te_queue_manager_sort (TeQueueManager   *self,
                       GCompareDataFunc  compare,
                       gpointer          user_data)
{
  g_ptr_array_sort_with_data (self->order, compare, user_data);
  renumber (self, 0);
  te_queue_manager_update (self);
}

guint
te_queue_manager_count_active (TeQueueManager *self,
                               gboolean        seeds)
{
  guint n = 0;

  for (guint i = 0; i < self->order->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (self->order, i);

      if (t->running && (seeds ? t->state == TE_TORRENT_STATE_SEEDING
                               : t->state == TE_TORRENT_STATE_DOWNLOADING
                                 || t->state == TE_TORRENT_STATE_PENDING))
        n++;
    }
  return n;
}
