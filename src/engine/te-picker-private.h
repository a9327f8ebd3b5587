/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-picker.h"
#include "te-rand.h"

G_BEGIN_DECLS

/* Shared by te-picker.c (piece order, policies) and te-picker-partial.c (pieces
 * in progress, blocks, endgame). */

#define N_LEVELS 7   /* priorities 1..7; level 0 is HIGH */

typedef struct {
  gpointer req[TE_PICKER_ENDGAME_REQUESTERS];
  guint8   n_req;
  guint8   received;
} Block;

typedef struct {
  guint    piece;
  guint32  size;
  guint    n_blocks;
  guint    n_received;
  guint    n_requested;   /* blocks not received with at least one requester */
  guint    rank;          /* index in TePicker.active */
  Block   *blocks;        /* TePicker.max_blocks of them */
} Partial;

struct _TePicker {
  guint            n_pieces;
  TePieceSizeFunc  piece_size;
  gpointer         user_data;
  TeRand           rand;
  guint            max_blocks;
  gboolean         sequential;

  TeBitfield      *have;
  guint8          *prio;
  guint32         *avail;          /* NULL until a peer told us what it has */
  guint16         *fails;          /* NULL until a piece failed its hash */
  Partial        **partial_of;
  guint            n_seeds;

  /* The structures below are derived from have, prio and avail. After a bulk
   * change (set_have, priorities before first use) they are rebuilt on next use;
   * with nothing to fetch they are freed (order == NULL): a seed keeps only the
   * arrays above. */
  gboolean         stale;
  guint            n_wanted;       /* pieces with priority above SKIP not had */

  guint32         *order;
  guint32         *pos;
  guint32         *scratch;
  guint           *bucket_start;   /* N_LEVELS * stride + 2 entries */
  guint            stride;

  guint64         *level_bits[N_LEVELS];
  guint            level_count[N_LEVELS];
  guint            n_words;

  GPtrArray       *pool;           /* free Partials */
  GPtrArray       *active;         /* in-progress pieces, fewest blocks missing first */
  guint64          n_unrequested;  /* blocks of wanted pieces neither received nor requested */
};

typedef struct {
  gpointer      peer;
  const guint8 *has;    /* NULL: the peer has every piece */
  gsize         has_len;
  const guint8 *only;   /* allowed-fast set while choked */
  gsize         only_len;
  TeBlock      *out;
  guint         n;
  guint         max;
} Pick;

static inline guint
n_blocks_for (guint32 size)
{
  return MAX ((size + TE_BLOCK_SIZE - 1) / TE_BLOCK_SIZE, 1);
}

static inline gboolean
is_wanted (TePicker *p,
           guint     piece)
{
  return p->prio[piece] != TE_PRIORITY_SKIP && !te_bitfield_get (p->have, piece);
}

static inline void
free_changed (TePicker *p,
              guint     piece,
              gint      delta)
{
  if (is_wanted (p, piece))
    p->n_unrequested += delta;
}

static inline Partial *
partial_at (TePicker *p,
            guint     piece)
{
  return p->partial_of != NULL ? p->partial_of[piece] : NULL;
}

static inline gboolean
bytes_get (const guint8 *bytes,
           guint         bit)
{
  return (bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
}

static inline gboolean
pick_can (const Pick *k,
          guint       piece)
{
  return (k->has == NULL || bytes_get (k->has, piece)) &&
         (k->only == NULL || bytes_get (k->only, piece));
}

void     _te_picker_refresh             (TePicker *p);
Partial *_te_picker_partial_get         (TePicker *p,
                                        guint     piece);
void     _te_picker_partial_release     (TePicker *p,
                                        Partial  *pp);
void     _te_picker_partial_free        (gpointer  data);
void     _te_picker_take_free_blocks    (TePicker *p,
                                        Pick     *k,
                                        Partial  *pp);
void     _te_picker_pick_partials       (TePicker *p,
                                        Pick     *k);
void     _te_picker_pick_endgame        (TePicker *p,
                                        Pick     *k);

G_END_DECLS
