/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-picker"

#include "config.h"

#include <string.h>

#include "te-picker-private.h"

/* How the picker stays cheap with 100k pieces and 50 peers
 *
 * Wanted pieces (priority above SKIP, not had) live in one array, `order`, sorted
 * into buckets by (priority, availability): all of HIGH first, rarest first inside
 * a priority, then the unwanted pieces in a last bucket. `pos` is the inverse
 * permutation. When a piece's availability changes by one it moves to the
 * neighbouring bucket by one swap with the bucket's edge, O(1); a priority change
 * or a verified piece walks the buckets in between, O(7 * stride), stride being
 * the power of two above the highest availability. Bulk changes (a peer's whole
 * bitfield, set_have) re-sort with a stable counting sort, O(n). The array starts
 * as a random permutation and the sorts are stable, so pieces that tie keep a
 * per-picker random order: two peers do not both start on piece 0.
 *
 * Wanted pieces are also kept in one bitmap per priority level (64 pieces a word,
 * most significant bit first like the wire), which ANDed with a peer's bitfield
 * gives the sequential and random-first picks, and a fallback for rarest-first
 * when the peer has little we want.
 *
 * te_picker_pick() costs O(P + S + B): P in-progress pieces (tens), S the
 * positions scanned in `order` until enough pieces the peer has are found (a few
 * for most peers; capped, after which the bitmap fallback costs O(L * n / 64)
 * for L priority levels in use), B the blocks handed out. Nothing is allocated
 * per call: in-progress pieces come from a pool that only grows when more pieces
 * are in flight than ever before. te_picker_block_received() (te-picker-partial.c)
 * is O(1) plus keeping the in-progress list ordered by blocks missing, O(P) at
 * worst. */

#define MIN_STRIDE    8
#define MAX_STRIDE    1024          /* availabilities above this tie */
#define RANDOM_FIRST  4             /* pick at random until this many pieces are had */
#define TOP_K         16
#define BULK_DIVISOR  16            /* bitfields with more than n/16 pieces re-sort */

static inline guint
level_of (TePicker *p,
          guint     piece)
{
  return TE_PRIORITY_HIGH - p->prio[piece];
}

static inline guint
excluded_bucket (TePicker *p)
{
  return N_LEVELS * p->stride;
}

static inline guint
bucket_of (TePicker *p,
           guint     piece)
{
  if (!is_wanted (p, piece))
    return excluded_bucket (p);
  return level_of (p, piece) * p->stride + MIN (p->avail[piece], p->stride - 1);
}

static inline guint
free_blocks (TePicker *p,
             guint     piece)
{
  Partial *pp = partial_at (p, piece);

  if (pp == NULL)
    return n_blocks_for (p->piece_size (piece, p->user_data));
  return pp->n_blocks - pp->n_received - pp->n_requested;
}

static inline guint64
piece_mask (guint piece)
{
  return G_GUINT64_CONSTANT (1) << (63 - (piece & 63));
}

/* A word of a wire-order bitfield, zero-padded past its end; all ones for NULL. */
static inline guint64
load_word (const guint8 *bytes,
           gsize         len,
           guint         w)
{
  gsize off = (gsize) w * 8;
  guint64 word = 0;

  if (bytes == NULL)
    return G_MAXUINT64;
  if (off + 8 <= len)
    {
      memcpy (&word, bytes + off, 8);
      return GUINT64_FROM_BE (word);
    }
  for (gsize i = off; i < len; i++)
    word |= (guint64) bytes[i] << (56 - 8 * (i - off));
  return word;
}

/* Bucketed order */

static void
swap_positions (TePicker *p,
                guint     a,
                guint     b)
{
  guint32 pa = p->order[a], pb = p->order[b];

  p->order[a] = pb;
  p->order[b] = pa;
  p->pos[pb] = a;
  p->pos[pa] = b;
}

static void
move_piece (TePicker *p,
            guint     piece,
            guint     from,
            guint     to)
{
  for (; from < to; from++)
    {
      swap_positions (p, p->pos[piece], p->bucket_start[from + 1] - 1);
      p->bucket_start[from + 1]--;
    }
  for (; from > to; from--)
    {
      swap_positions (p, p->pos[piece], p->bucket_start[from]);
      p->bucket_start[from]++;
    }
}

/* Stable counting sort of `order` by bucket, choosing the stride afresh. */
static void
rebuild (TePicker *p)
{
  g_autofree guint *fill = NULL;
  guint32 *tmp;
  guint max_avail = 0, n_buckets;

  for (guint i = 0; i < p->n_pieces; i++)
    max_avail = MAX (max_avail, p->avail[i]);
  p->stride = MIN_STRIDE;
  while (p->stride <= max_avail && p->stride < MAX_STRIDE)
    p->stride *= 2;
  n_buckets = excluded_bucket (p) + 1;
  p->bucket_start = g_renew (guint, p->bucket_start, n_buckets + 1);
  memset (p->bucket_start, 0, (n_buckets + 1) * sizeof (guint));
  for (guint i = 0; i < p->n_pieces; i++)
    p->bucket_start[bucket_of (p, i) + 1]++;
  for (guint b = 1; b <= n_buckets; b++)
    p->bucket_start[b] += p->bucket_start[b - 1];
  fill = g_memdup2 (p->bucket_start, n_buckets * sizeof (guint));
  for (guint i = 0; i < p->n_pieces; i++)
    p->scratch[fill[bucket_of (p, p->order[i])]++] = p->order[i];
  tmp = p->order;
  p->order = p->scratch;
  p->scratch = tmp;
  for (guint i = 0; i < p->n_pieces; i++)
    p->pos[p->order[i]] = i;
}

/* Whether the derived structures are there and current. */
static inline gboolean
is_built (TePicker *p)
{
  return !p->stale && p->order != NULL;
}

static void
ensure_avail (TePicker *p)
{
  if (p->avail == NULL)
    p->avail = g_new0 (guint32, p->n_pieces);
}

static void
change_avail (TePicker *p,
              guint     piece,
              gboolean  up)
{
  guint from;

  if (!is_built (p))
    {
      if (up)
        p->avail[piece]++;
      else if (p->avail[piece] > 0)
        p->avail[piece]--;
      return;
    }
  from = bucket_of (p, piece);
  if (up)
    p->avail[piece]++;
  else if (p->avail[piece] > 0)
    p->avail[piece]--;
  else
    return;
  if (p->avail[piece] >= p->stride && p->stride < MAX_STRIDE)
    rebuild (p);
  else
    move_piece (p, piece, from, bucket_of (p, piece));
}

/* Wanted-set bookkeeping around a change of have or priority. */
static guint
piece_leave (TePicker *p,
             guint     piece)
{
  if (is_wanted (p, piece))
    {
      guint level = level_of (p, piece);

      p->n_unrequested -= free_blocks (p, piece);
      p->level_bits[level][piece >> 6] &= ~piece_mask (piece);
      p->level_count[level]--;
      p->n_wanted--;
    }
  return bucket_of (p, piece);
}

static void
piece_enter (TePicker *p,
             guint     piece,
             guint     from)
{
  if (is_wanted (p, piece))
    {
      guint level = level_of (p, piece);

      p->n_unrequested += free_blocks (p, piece);
      p->level_bits[level][piece >> 6] |= piece_mask (piece);
      p->level_count[level]++;
      p->n_wanted++;
    }
  move_piece (p, piece, from, bucket_of (p, piece));
}

/* Picking */

static void
start_piece (TePicker *p,
             Pick     *k,
             guint     piece)
{
  _te_picker_take_free_blocks (p, k, _te_picker_partial_get (p, piece));
}

/* Starts every new piece of @level the peer can give, in index order over [lo, hi). */
static void
scan_range (TePicker *p,
            Pick     *k,
            guint     level,
            guint     lo,
            guint     hi)
{
  const guint64 *bits = p->level_bits[level];

  if (lo >= hi)
    return;
  for (guint w = lo >> 6; w <= (hi - 1) >> 6 && k->n < k->max; w++)
    {
      guint64 word = bits[w];
      guint last;

      if (word == 0)
        continue;
      word &= load_word (k->has, k->has_len, w) & load_word (k->only, k->only_len, w);
      if (w == lo >> 6)
        word &= G_MAXUINT64 >> (lo & 63);
      last = (hi - 1) & 63;
      if (w == (hi - 1) >> 6 && last < 63)
        word &= ~(G_MAXUINT64 >> (last + 1));
      while (word != 0 && k->n < k->max)
        {
          guint piece = w * 64 + __builtin_clzll (word);

          word &= ~piece_mask (piece);
          if (p->partial_of[piece] == NULL)
            start_piece (p, k, piece);
        }
    }
}

static void
pick_sequential (TePicker *p,
                 Pick     *k)
{
  for (guint level = 0; level < N_LEVELS; level++)
    if (p->level_count[level] > 0)
      scan_range (p, k, level, 0, p->n_pieces);
}

static void
pick_random (TePicker *p,
             Pick     *k)
{
  for (guint level = 0; level < N_LEVELS; level++)
    if (p->level_count[level] > 0)
      {
        guint start = te_rand_int_range (&p->rand, 0, p->n_pieces);

        scan_range (p, k, level, start, p->n_pieces);
        scan_range (p, k, level, 0, start);
      }
}

/* Rarest-first through the bitmaps: the TOP_K best positions in `order` among
 * the pieces the peer can give, repeated while there is room. */
static void
pick_by_position (TePicker *p,
                  Pick     *k)
{
  while (k->n < k->max)
    {
      guint best[TOP_K];
      guint n_best = 0;

      for (guint level = 0; level < N_LEVELS; level++)
        {
          if (p->level_count[level] == 0)
            continue;
          for (guint w = 0; w < p->n_words; w++)
            {
              guint64 word = p->level_bits[level][w];

              if (word == 0)
                continue;
              word &= load_word (k->has, k->has_len, w) & load_word (k->only, k->only_len, w);
              while (word != 0)
                {
                  guint piece = w * 64 + __builtin_clzll (word);
                  guint at = p->pos[piece], j;

                  word &= ~piece_mask (piece);
                  if (p->partial_of[piece] != NULL || (n_best == TOP_K && at >= best[TOP_K - 1]))
                    continue;
                  j = MIN (n_best, TOP_K - 1);
                  for (; j > 0 && best[j - 1] > at; j--)
                    best[j] = best[j - 1];
                  best[j] = at;
                  n_best = MIN (n_best + 1, TOP_K);
                }
            }
        }
      for (guint j = 0; j < n_best && k->n < k->max; j++)
        start_piece (p, k, p->order[best[j]]);
      if (n_best < TOP_K)
        return;
    }
}

static void
pick_rarest (TePicker *p,
             Pick     *k)
{
  guint end = p->bucket_start[excluded_bucket (p)];
  guint budget = 256 + p->n_pieces / 32;

  for (guint i = 0; i < end && k->n < k->max; i++)
    {
      guint piece = p->order[i];

      if (p->partial_of[piece] == NULL && pick_can (k, piece))
        start_piece (p, k, piece);
      else if (--budget == 0)
        {
          pick_by_position (p, k);
          return;
        }
    }
}

/* Public API */

TePicker *
te_picker_new (guint           n_pieces,
               TePieceSizeFunc piece_size,
               gpointer        user_data)
{
  TePicker *p;

  g_return_val_if_fail (n_pieces > 0, NULL);
  g_return_val_if_fail (piece_size != NULL, NULL);

  p = g_new0 (TePicker, 1);
  p->n_pieces = n_pieces;
  p->piece_size = piece_size;
  p->user_data = user_data;
  te_rand_init (&p->rand, g_random_int ());
  p->have = te_bitfield_new (n_pieces);
  p->prio = g_malloc (n_pieces);
  memset (p->prio, TE_PRIORITY_NORMAL, n_pieces);
  p->n_words = (n_pieces + 63) / 64;
  p->pool = g_ptr_array_new ();
  p->active = g_ptr_array_new ();
  for (guint i = 0; i < n_pieces; i++)
    p->max_blocks = MAX (p->max_blocks, n_blocks_for (piece_size (i, user_data)));
  p->stale = TRUE;
  return p;
}

static void
free_derived (TePicker *p)
{
  for (guint level = 0; level < N_LEVELS; level++)
    {
      g_clear_pointer (&p->level_bits[level], g_free);
      p->level_count[level] = 0;
    }
  g_clear_pointer (&p->bucket_start, g_free);
  g_clear_pointer (&p->scratch, g_free);
  g_clear_pointer (&p->pos, g_free);
  g_clear_pointer (&p->order, g_free);
  g_clear_pointer (&p->partial_of, g_free);
  p->n_unrequested = 0;
  p->n_wanted = 0;
}

void
te_picker_free (TePicker *p)
{
  if (p == NULL)
    return;
  g_ptr_array_set_free_func (p->pool, _te_picker_partial_free);
  g_ptr_array_set_free_func (p->active, _te_picker_partial_free);
  g_ptr_array_unref (p->pool);
  g_ptr_array_unref (p->active);
  free_derived (p);
  g_free (p->fails);
  g_free (p->avail);
  g_free (p->prio);
  te_bitfield_free (p->have);
  g_free (p);
}

/* Allocates the derived structures, the order a fresh random permutation. */
static void
allocate_derived (TePicker *p)
{
  ensure_avail (p);
  p->partial_of = g_new0 (Partial *, p->n_pieces);
  p->order = g_new (guint32, p->n_pieces);
  p->pos = g_new (guint32, p->n_pieces);
  p->scratch = g_new (guint32, p->n_pieces);
  for (guint level = 0; level < N_LEVELS; level++)
    p->level_bits[level] = g_new0 (guint64, p->n_words);
  for (guint i = 0; i < p->n_pieces; i++)
    {
      guint j = te_rand_int_range (&p->rand, 0, i + 1);

      p->order[i] = p->order[j];
      p->order[j] = i;
    }
}

/* Recomputes every derived structure after a bulk change: O(n). A picker with
 * nothing to fetch and nothing in progress frees them instead, which is what
 * keeps thousands of idle seeds small. */
void
_te_picker_refresh (TePicker *p)
{
  guint n_wanted = 0;

  if (!p->stale)
    return;
  p->stale = FALSE;
  for (guint i = 0; i < p->n_pieces; i++)
    n_wanted += is_wanted (p, i);
  if (n_wanted == 0 && p->active->len == 0)
    {
      free_derived (p);
      return;
    }
  if (p->order == NULL)
    allocate_derived (p);
  p->n_unrequested = 0;
  p->n_wanted = n_wanted;
  for (guint level = 0; level < N_LEVELS; level++)
    {
      memset (p->level_bits[level], 0, p->n_words * sizeof (guint64));
      p->level_count[level] = 0;
    }
  for (guint i = 0; i < p->n_pieces; i++)
    if (is_wanted (p, i))
      {
        p->n_unrequested += free_blocks (p, i);
        p->level_bits[level_of (p, i)][i >> 6] |= piece_mask (i);
        p->level_count[level_of (p, i)]++;
      }
  rebuild (p);
}

/* O(pieces in progress); the rest is redone on next use. */
void
te_picker_set_have (TePicker         *p,
                    const TeBitfield *have)
{
  gsize len;
  const guint8 *bytes;

  g_return_if_fail (p != NULL && have != NULL);
  g_return_if_fail (te_bitfield_size (have) == p->n_pieces);

  bytes = te_bitfield_bytes (have, &len);
  if (have != p->have)
    te_bitfield_load (p->have, bytes, len);
  for (guint i = p->active->len; i > 0; i--)
    {
      Partial *pp = p->active->pdata[i - 1];

      if (te_bitfield_get (p->have, pp->piece))
        _te_picker_partial_release (p, pp);
    }
  p->stale = TRUE;
}

gboolean
te_picker_has (TePicker *p,
               guint     piece)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return te_bitfield_get (p->have, piece);
}

void
te_picker_set_priority (TePicker   *p,
                        guint       piece,
                        TePriority  prio)
{
  guint from;

  g_return_if_fail (p != NULL && piece < p->n_pieces);

  prio = MIN ((guint) prio, TE_PRIORITY_HIGH);
  if (p->prio[piece] == prio)
    return;
  if (!is_built (p))
    {
      p->prio[piece] = prio;
      /* A piece to fetch again: a freed picker comes back on next use. */
      if (is_wanted (p, piece))
        p->stale = TRUE;
      return;
    }
  from = piece_leave (p, piece);
  p->prio[piece] = prio;
  piece_enter (p, piece, from);
}

void
te_picker_set_sequential (TePicker *p,
                          gboolean  sequential)
{
  g_return_if_fail (p != NULL);
  p->sequential = !!sequential;
}

gboolean
te_picker_is_complete (TePicker *p)
{
  g_return_val_if_fail (p != NULL, FALSE);
  _te_picker_refresh (p);
  return p->n_wanted == 0;
}

static void
peer_bitfield (TePicker         *p,
               const TeBitfield *bf,
               gboolean          up)
{
  gboolean bulk = te_bitfield_count (bf) > p->n_pieces / BULK_DIVISOR;
  gsize len;
  const guint8 *bytes = te_bitfield_bytes (bf, &len);

  for (guint w = 0; w < p->n_words; w++)
    {
      guint64 word = load_word (bytes, len, w);

      while (word != 0)
        {
          guint piece = w * 64 + __builtin_clzll (word);

          word &= ~piece_mask (piece);
          if (!bulk)
            change_avail (p, piece, up);
          else if (up)
            p->avail[piece]++;
          else if (p->avail[piece] > 0)
            p->avail[piece]--;
        }
    }
  if (bulk && is_built (p))
    rebuild (p);
}

void
te_picker_peer_add_bitfield (TePicker         *p,
                             const TeBitfield *bf)
{
  g_return_if_fail (p != NULL && bf != NULL);
  g_return_if_fail (te_bitfield_size (bf) == p->n_pieces);
  ensure_avail (p);
  peer_bitfield (p, bf, TRUE);
}

void
te_picker_peer_remove_bitfield (TePicker         *p,
                                const TeBitfield *bf)
{
  g_return_if_fail (p != NULL && bf != NULL);
  g_return_if_fail (te_bitfield_size (bf) == p->n_pieces);
  ensure_avail (p);
  peer_bitfield (p, bf, FALSE);
}

void
te_picker_peer_add_have (TePicker *p,
                         guint     piece)
{
  g_return_if_fail (p != NULL && piece < p->n_pieces);
  ensure_avail (p);
  change_avail (p, piece, TRUE);
}

/* Seeds raise every piece alike, which changes no order: a counter is enough. */
void
te_picker_peer_add_all (TePicker *p)
{
  g_return_if_fail (p != NULL);
  p->n_seeds++;
}

void
te_picker_peer_remove_all (TePicker *p)
{
  g_return_if_fail (p != NULL);
  if (p->n_seeds > 0)
    p->n_seeds--;
}

guint
te_picker_get_availability (TePicker *p,
                            guint     piece)
{
  g_return_val_if_fail (p != NULL && piece < p->n_pieces, 0);
  return (p->avail != NULL ? p->avail[piece] : 0) + p->n_seeds;
}

/**
 * te_picker_pick:
 *
 * Fills @out with up to @max blocks to request from @peer: blocks of pieces
 * already in progress first (fewest blocks missing first), then new pieces in
 * sequential, random-first or rarest-first order, then endgame duplicates.
 * While @peer_choking only pieces in @allowed_fast qualify (none without it).
 *
 * Returns: the number of blocks written
 */
guint
te_picker_pick (TePicker         *p,
                gpointer          peer,
                const TeBitfield *peer_has,
                const TeBitfield *allowed_fast,
                gboolean          peer_choking,
                TeBlock          *out,
                guint             max)
{
  Pick k = { .peer = peer, .out = out, .max = max };

  g_return_val_if_fail (p != NULL && peer != NULL, 0);
  g_return_val_if_fail (out != NULL || max == 0, 0);
  g_return_val_if_fail (peer_has == NULL || te_bitfield_size (peer_has) == p->n_pieces, 0);
  g_return_val_if_fail (allowed_fast == NULL || te_bitfield_size (allowed_fast) == p->n_pieces, 0);

  if (peer_choking)
    {
      if (allowed_fast == NULL)
        return 0;
      k.only = te_bitfield_bytes (allowed_fast, &k.only_len);
    }
  if (peer_has != NULL)
    k.has = te_bitfield_bytes (peer_has, &k.has_len);

  _te_picker_refresh (p);
  if (p->order == NULL)
    return 0;
  _te_picker_pick_partials (p, &k);
  if (k.n < k.max)
    {
      if (p->sequential)
        pick_sequential (p, &k);
      else if (te_bitfield_count (p->have) < RANDOM_FIRST)
        pick_random (p, &k);
      else
        pick_rarest (p, &k);
    }
  if (k.n < k.max && te_picker_in_endgame (p))
    _te_picker_pick_endgame (p, &k);
  return k.n;
}

/* Outstanding requests for the piece are forgotten: later data for it is ignored. */
void
te_picker_piece_verified (TePicker *p,
                          guint     piece)
{
  guint from;

  g_return_if_fail (p != NULL && piece < p->n_pieces);

  if (te_bitfield_get (p->have, piece))
    return;
  if (!is_built (p))
    {
      te_bitfield_set (p->have, piece, TRUE);
      if (partial_at (p, piece) != NULL)
        _te_picker_partial_release (p, partial_at (p, piece));
      return;
    }
  from = piece_leave (p, piece);
  te_bitfield_set (p->have, piece, TRUE);
  if (p->partial_of[piece] != NULL)
    _te_picker_partial_release (p, p->partial_of[piece]);
  piece_enter (p, piece, from);
  if (p->n_wanted == 0 && p->active->len == 0)
    free_derived (p);
}

/* Every wanted block not yet received is requested by someone. */
gboolean
te_picker_in_endgame (TePicker *p)
{
  g_return_val_if_fail (p != NULL, FALSE);
  _te_picker_refresh (p);
  return p->n_unrequested == 0 && p->n_wanted > 0;
}

guint
te_picker_count_have (TePicker *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return te_bitfield_count (p->have);
}
