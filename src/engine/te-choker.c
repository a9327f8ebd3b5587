/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-choker"

#include "config.h"

#include <stdlib.h>

#include "te-choker.h"
#include "te-rand.h"

/* The choker (BEP 3, as libtorrent and Transmission do it), every 10 s:
 *
 * - Regular slots go to the best interested, non-snubbed peers by rate: while
 *   leeching what they give us (download_rate), while seeding what we give them
 *   (upload_rate, so peers that take data fast get it). Ties are broken at random
 *   afresh each round, so at start-up, when every rate is 0, slots are spread.
 * - One optimistic unchoke among the other interested peers, snubbed ones
 *   included (it is their chance to show they reciprocate). It rotates on every
 *   third call (30 s), or sooner when its peer left, lost interest or earned a
 *   regular slot. Peers connected less than 60 s ago weigh three times as much:
 *   they have nothing to trade yet. The previous optimistic peer is not picked
 *   again while another candidate exists.
 * - The "downloaders" rule: uninterested peers with a better rate than the
 *   slowest regular peer are unchoked too (all uninterested peers with any rate
 *   when the regular slots are not full). They cost nothing until they become
 *   interested, and then they can start at once; the next round sorts it out.
 *
 * Super-seeding (BEP 16): each peer is offered one piece, the rarest not
 * currently offered to someone else and not had by the peer; it gets another
 * only once its piece has been announced by a different peer, i.e. it shared
 * what we gave it. */

#define OPTIMISTIC_ROUNDS  3
#define NEW_PEER_US        (60 * G_USEC_PER_SEC)
#define NEW_PEER_WEIGHT    3

struct _TeChoker {
  guint     regular_slots;
  guint64   n_calls;
  gpointer  optimistic;
  TeRand    rand;
};

typedef struct {
  guint   index;
  guint64 rate;
  guint32 tie;
} Ranked;

TeChoker *
te_choker_new (guint regular_slots)
{
  TeChoker *c = g_new0 (TeChoker, 1);

  c->regular_slots = regular_slots;
  te_rand_init (&c->rand, g_random_int ());
  return c;
}

void
te_choker_free (TeChoker *c)
{
  if (c == NULL)
    return;
  g_free (c);
}

static guint64
rate_of (const TeChokerPeer *peer,
         gboolean            seeding)
{
  return seeding ? peer->upload_rate : peer->download_rate;
}

static int
ranked_compare (const void *a,
                const void *b)
{
  const Ranked *ra = a, *rb = b;

  if (ra->rate != rb->rate)
    return ra->rate > rb->rate ? -1 : 1;
  if (ra->tie != rb->tie)
    return ra->tie < rb->tie ? -1 : 1;
  return 0;
}

static gboolean
optimistic_candidate (const TeChokerPeer *peer)
{
  return peer->interested && !peer->unchoked;
}

static gint
choose_optimistic (TeChoker     *c,
                   TeChokerPeer *peers,
                   guint         n_peers,
                   gint64        now_us)
{
  guint total = 0, n_candidates = 0, r = 0;
  gboolean skip_previous;

  for (guint i = 0; i < n_peers; i++)
    if (optimistic_candidate (&peers[i]))
      n_candidates++;
  skip_previous = c->optimistic != NULL && n_candidates > 1;

  for (guint pass = 0; pass < 2; pass++)
    {
      for (guint i = 0; i < n_peers; i++)
        {
          guint weight;

          if (!optimistic_candidate (&peers[i]) || (skip_previous && peers[i].peer == c->optimistic))
            continue;
          weight = now_us - peers[i].connected_at_us < NEW_PEER_US ? NEW_PEER_WEIGHT : 1;
          if (pass == 0)
            total += weight;
          else if (r < weight)
            return i;
          else
            r -= weight;
        }
      if (total == 0)
        return -1;
      r = te_rand_int_range (&c->rand, 0, total);
    }
  g_assert_not_reached ();
  return -1;
}

/**
 * te_choker_rechoke:
 * @peers: (array length=n_peers): every connected peer; `unchoked` is set
 *
 * Decides who is unchoked for the next 10 s. Call it every 10 s.
 */
void
te_choker_rechoke (TeChoker     *c,
                   TeChokerPeer *peers,
                   guint         n_peers,
                   gboolean      seeding,
                   gint64        now_us)
{
  g_autofree Ranked *ranked = NULL;
  guint n_ranked = 0, n_regular;
  guint64 threshold = 0;
  gboolean rotate;
  gint current = -1, chosen;

  g_return_if_fail (c != NULL);
  g_return_if_fail (peers != NULL || n_peers == 0);

  rotate = c->n_calls++ % OPTIMISTIC_ROUNDS == 0;
  ranked = g_new (Ranked, MAX (n_peers, 1));
  for (guint i = 0; i < n_peers; i++)
    {
      peers[i].unchoked = FALSE;
      if (peers[i].peer == c->optimistic && c->optimistic != NULL)
        current = i;
      if (peers[i].interested && !peers[i].snubbed)
        {
          ranked[n_ranked].index = i;
          ranked[n_ranked].rate = rate_of (&peers[i], seeding);
          ranked[n_ranked].tie = te_rand_int (&c->rand);
          n_ranked++;
        }
    }
  qsort (ranked, n_ranked, sizeof (Ranked), ranked_compare);
  n_regular = MIN (n_ranked, c->regular_slots);
  for (guint j = 0; j < n_regular; j++)
    peers[ranked[j].index].unchoked = TRUE;
  if (n_regular > 0 && n_regular == c->regular_slots)
    threshold = ranked[n_regular - 1].rate;

  if (!rotate && current >= 0 && optimistic_candidate (&peers[current]))
    chosen = current;
  else
    chosen = choose_optimistic (c, peers, n_peers, now_us);
  c->optimistic = chosen >= 0 ? peers[chosen].peer : NULL;
  if (chosen >= 0)
    peers[chosen].unchoked = TRUE;

  if (c->regular_slots > 0)
    for (guint i = 0; i < n_peers; i++)
      if (!peers[i].interested && !peers[i].snubbed && rate_of (&peers[i], seeding) > threshold)
        peers[i].unchoked = TRUE;
}

gpointer
te_choker_get_optimistic (TeChoker *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->optimistic;
}

void
te_choker_peer_gone (TeChoker *c,
                     gpointer  peer)
{
  g_return_if_fail (c != NULL);
  if (c->optimistic == peer)
    c->optimistic = NULL;
}

/* Super-seeding */

typedef struct {
  guint    offered;   /* G_MAXUINT: none */
  gboolean spread;    /* another peer announced the offered piece */
} SeedPeer;

struct _TeSuperSeed {
  guint       n_pieces;
  guint32    *seen;        /* announcements seen per piece */
  guint32    *n_offered;   /* peers whose outstanding offer is this piece */
  GHashTable *peers;       /* peer → SeedPeer */
  TeRand      rand;
};

TeSuperSeed *
te_super_seed_new (guint n_pieces)
{
  TeSuperSeed *s = g_new0 (TeSuperSeed, 1);

  s->n_pieces = n_pieces;
  s->seen = g_new0 (guint32, MAX (n_pieces, 1));
  s->n_offered = g_new0 (guint32, MAX (n_pieces, 1));
  s->peers = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  te_rand_init (&s->rand, g_random_int ());
  return s;
}

void
te_super_seed_free (TeSuperSeed *s)
{
  if (s == NULL)
    return;
  g_hash_table_unref (s->peers);
  g_free (s->n_offered);
  g_free (s->seen);
  g_free (s);
}

/* Rarest piece the peer lacks, preferring ones not offered to anyone: O(n),
 * once per piece spread. Ties go to the first after a random start. */
static guint
choose_piece (TeSuperSeed      *s,
              const TeBitfield *peer_has)
{
  guint start = te_rand_int_range (&s->rand, 0, s->n_pieces);
  guint best = G_MAXUINT;
  guint64 best_key = G_MAXUINT64;

  for (guint k = 0; k < s->n_pieces; k++)
    {
      guint piece = (start + k) % s->n_pieces;
      guint64 key;

      if (peer_has != NULL && te_bitfield_get (peer_has, piece))
        continue;
      key = ((guint64) (s->n_offered[piece] > 0) << 32) | s->seen[piece];
      if (key < best_key)
        {
          best_key = key;
          best = piece;
        }
    }
  return best;
}

/**
 * te_super_seed_offer:
 * @peer_has: (nullable): what the peer has announced
 *
 * Returns: the piece to advertise to @peer with a HAVE, or `G_MAXUINT` when there
 *   is nothing new for it (its previous piece has not spread yet)
 */
guint
te_super_seed_offer (TeSuperSeed      *s,
                     gpointer          peer,
                     const TeBitfield *peer_has)
{
  SeedPeer *st;
  guint piece;

  g_return_val_if_fail (s != NULL, G_MAXUINT);
  g_return_val_if_fail (peer_has == NULL || te_bitfield_size (peer_has) == s->n_pieces, G_MAXUINT);

  if (s->n_pieces == 0)
    return G_MAXUINT;
  st = g_hash_table_lookup (s->peers, peer);
  if (st == NULL)
    {
      st = g_new0 (SeedPeer, 1);
      st->offered = G_MAXUINT;
      g_hash_table_insert (s->peers, peer, st);
    }
  if (st->offered != G_MAXUINT)
    {
      if (!st->spread)
        return G_MAXUINT;
      s->n_offered[st->offered]--;
      st->offered = G_MAXUINT;
    }
  piece = choose_piece (s, peer_has);
  if (piece != G_MAXUINT)
    {
      st->offered = piece;
      st->spread = FALSE;
      s->n_offered[piece]++;
    }
  return piece;
}

/**
 * te_super_seed_peer_has:
 *
 * Records that @peer announced @piece (a HAVE, or each piece of its bitfield).
 */
void
te_super_seed_peer_has (TeSuperSeed *s,
                        gpointer     peer,
                        guint        piece)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (s != NULL && piece < s->n_pieces);

  if (s->seen[piece] < G_MAXUINT32)
    s->seen[piece]++;
  if (s->n_offered[piece] == 0)
    return;
  g_hash_table_iter_init (&iter, s->peers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      SeedPeer *st = value;

      if (key != peer && st->offered == piece)
        st->spread = TRUE;
    }
}

void
te_super_seed_peer_gone (TeSuperSeed *s,
                         gpointer     peer)
{
  SeedPeer *st;

  g_return_if_fail (s != NULL);

  st = g_hash_table_lookup (s->peers, peer);
  if (st == NULL)
    return;
  if (st->offered != G_MAXUINT)
    s->n_offered[st->offered]--;
  g_hash_table_remove (s->peers, peer);
}
