/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-picker"

#include "config.h"

#include <string.h>

#include "te-picker-private.h"

/* Pieces in progress: which blocks are received and who requested the others.
 * TePicker.active lists them, fewest blocks missing first, which is the order
 * they are continued in. Their records come from a pool sized for the largest
 * piece, so starting a piece allocates nothing once the pool has grown to the
 * most pieces ever in flight at once. */

static guint
missing (const Partial *pp)
{
  return pp->n_blocks - pp->n_received;
}

static void
active_swap (TePicker *p,
             guint     a,
             guint     b)
{
  Partial *pa = p->active->pdata[a], *pb = p->active->pdata[b];

  p->active->pdata[a] = pb;
  p->active->pdata[b] = pa;
  pb->rank = a;
  pa->rank = b;
}

static void
active_fix (TePicker *p,
            Partial  *pp)
{
  while (pp->rank > 0 && missing (p->active->pdata[pp->rank - 1]) > missing (pp))
    active_swap (p, pp->rank - 1, pp->rank);
  while (pp->rank + 1 < p->active->len && missing (p->active->pdata[pp->rank + 1]) < missing (pp))
    active_swap (p, pp->rank, pp->rank + 1);
}

Partial *
_te_picker_partial_get (TePicker *p,
                        guint     piece)
{
  Partial *pp = p->partial_of[piece];

  if (pp != NULL)
    return pp;
  if (p->pool->len > 0)
    pp = g_ptr_array_steal_index_fast (p->pool, p->pool->len - 1);
  else
    {
      pp = g_new0 (Partial, 1);
      pp->blocks = g_new0 (Block, p->max_blocks);
    }
  pp->piece = piece;
  pp->size = p->piece_size (piece, p->user_data);
  pp->n_blocks = n_blocks_for (pp->size);
  g_assert (pp->n_blocks <= p->max_blocks);
  pp->n_received = 0;
  pp->n_requested = 0;
  memset (pp->blocks, 0, pp->n_blocks * sizeof (Block));
  pp->rank = p->active->len;
  g_ptr_array_add (p->active, pp);
  p->partial_of[piece] = pp;
  active_fix (p, pp);
  return pp;
}

void
_te_picker_partial_release (TePicker *p,
                            Partial  *pp)
{
  g_ptr_array_remove_index (p->active, pp->rank);
  for (guint i = pp->rank; i < p->active->len; i++)
    ((Partial *) p->active->pdata[i])->rank = i;
  p->partial_of[pp->piece] = NULL;
  g_ptr_array_add (p->pool, pp);
}

/* A piece with nothing received or requested is the same as one never started. */
static void
partial_maybe_release (TePicker *p,
                       Partial  *pp)
{
  if (pp->n_received == 0 && pp->n_requested == 0)
    _te_picker_partial_release (p, pp);
}

static Block *
find_block (TePicker *p,
            guint     piece,
            guint32   begin,
            Partial **pp_out)
{
  Partial *pp;

  if (piece >= p->n_pieces || begin % TE_BLOCK_SIZE != 0)
    return NULL;
  pp = partial_at (p, piece);
  if (pp == NULL || begin / TE_BLOCK_SIZE >= pp->n_blocks)
    return NULL;
  *pp_out = pp;
  return &pp->blocks[begin / TE_BLOCK_SIZE];
}

static gboolean
block_has_requester (const Block *b,
                     gpointer     peer)
{
  for (guint i = 0; i < b->n_req; i++)
    if (b->req[i] == peer)
      return TRUE;
  return FALSE;
}

/* Returns TRUE when @peer was a requester. */
static gboolean
block_drop_requester (TePicker *p,
                      Partial  *pp,
                      Block    *b,
                      gpointer  peer)
{
  for (guint i = 0; i < b->n_req; i++)
    if (b->req[i] == peer)
      {
        b->req[i] = b->req[--b->n_req];
        if (b->n_req == 0 && !b->received)
          {
            pp->n_requested--;
            free_changed (p, pp->piece, 1);
          }
        return TRUE;
      }
  return FALSE;
}

static void
assign (TePicker *p,
        Pick     *k,
        Partial  *pp,
        guint     j)
{
  Block *b = &pp->blocks[j];
  TeBlock *out = &k->out[k->n++];

  if (b->n_req++ == 0)
    {
      pp->n_requested++;
      free_changed (p, pp->piece, -1);
    }
  b->req[b->n_req - 1] = k->peer;
  out->piece = pp->piece;
  out->begin = j * TE_BLOCK_SIZE;
  out->length = MIN (TE_BLOCK_SIZE, pp->size - out->begin);
}

void
_te_picker_take_free_blocks (TePicker *p,
                             Pick     *k,
                             Partial  *pp)
{
  for (guint j = 0; j < pp->n_blocks && k->n < k->max; j++)
    if (!pp->blocks[j].received && pp->blocks[j].n_req == 0)
      assign (p, k, pp, j);
}

/* Continues the pieces in progress the peer can give, fewest blocks missing first. */
void
_te_picker_pick_partials (TePicker *p,
                          Pick     *k)
{
  for (guint i = 0; i < p->active->len && k->n < k->max; i++)
    {
      Partial *pp = p->active->pdata[i];

      if (pp->n_blocks - pp->n_received - pp->n_requested > 0 &&
          is_wanted (p, pp->piece) && pick_can (k, pp->piece))
        _te_picker_take_free_blocks (p, k, pp);
    }
}

/* Endgame: blocks already requested from others, never twice from one peer. */
void
_te_picker_pick_endgame (TePicker *p,
                         Pick     *k)
{
  /* First give a second requester to blocks that have one, then a third. */
  for (guint limit = 2; limit <= TE_PICKER_ENDGAME_REQUESTERS; limit++)
    for (guint i = 0; i < p->active->len && k->n < k->max; i++)
      {
        Partial *pp = p->active->pdata[i];

        if (!is_wanted (p, pp->piece) || !pick_can (k, pp->piece))
          continue;
        for (guint j = 0; j < pp->n_blocks && k->n < k->max; j++)
          {
            Block *b = &pp->blocks[j];

            if (!b->received && b->n_req > 0 && b->n_req < limit &&
                !block_has_requester (b, k->peer))
              assign (p, k, pp, j);
          }
      }
}

void
_te_picker_partial_free (gpointer data)
{
  Partial *pp = data;

  g_free (pp->blocks);
  g_free (pp);
}

/* Public API: blocks */

/**
 * te_picker_block_received:
 * @cancel_peers: (nullable): room for %TE_PICKER_MAX_CANCEL peers that also
 *   requested this block and should be sent a cancel
 *
 * Records a block. Data for a block nobody requested is kept when the piece is
 * still wanted; data for a piece we have is ignored.
 */
void
te_picker_block_received (TePicker  *p,
                          gpointer   peer,
                          guint      piece,
                          guint32    begin,
                          gpointer  *cancel_peers,
                          guint     *n_cancel,
                          gboolean  *piece_complete)
{
  Partial *pp = NULL;
  Block *b;
  guint n = 0;

  if (n_cancel != NULL)
    *n_cancel = 0;
  if (piece_complete != NULL)
    *piece_complete = FALSE;
  g_return_if_fail (p != NULL && piece < p->n_pieces);

  if (!is_wanted (p, piece) && partial_at (p, piece) == NULL)
    return;
  _te_picker_refresh (p);
  if (begin % TE_BLOCK_SIZE != 0 ||
      begin / TE_BLOCK_SIZE >= n_blocks_for (p->piece_size (piece, p->user_data)))
    return;
  _te_picker_partial_get (p, piece);
  b = find_block (p, piece, begin, &pp);
  if (b->received)
    return;

  for (guint i = 0; i < b->n_req; i++)
    if (b->req[i] != peer && cancel_peers != NULL && n < TE_PICKER_MAX_CANCEL)
      cancel_peers[n++] = b->req[i];
  if (b->n_req > 0)
    pp->n_requested--;
  else
    free_changed (p, piece, -1);
  b->n_req = 0;
  b->received = TRUE;
  pp->n_received++;
  active_fix (p, pp);

  if (n_cancel != NULL)
    *n_cancel = n;
  if (piece_complete != NULL)
    *piece_complete = pp->n_received == pp->n_blocks;
}

gboolean
te_picker_is_requested_by (TePicker *p,
                           gpointer  peer,
                           guint     piece,
                           guint32   begin)
{
  Partial *pp;
  Block *b;

  g_return_val_if_fail (p != NULL, FALSE);
  b = find_block (p, piece, begin, &pp);
  return b != NULL && block_has_requester (b, peer);
}

void
te_picker_cancel_block (TePicker *p,
                        gpointer  peer,
                        guint     piece,
                        guint32   begin)
{
  Partial *pp;
  Block *b;

  g_return_if_fail (p != NULL);
  b = find_block (p, piece, begin, &pp);
  if (b != NULL && block_drop_requester (p, pp, b, peer))
    partial_maybe_release (p, pp);
}

/* O(P * blocks per piece): on disconnect or choke only. */
void
te_picker_peer_gone (TePicker *p,
                     gpointer  peer)
{
  g_return_if_fail (p != NULL);

  for (guint i = p->active->len; i > 0; i--)
    {
      Partial *pp = p->active->pdata[i - 1];

      for (guint j = 0; j < pp->n_blocks; j++)
        block_drop_requester (p, pp, &pp->blocks[j], peer);
      partial_maybe_release (p, pp);
    }
}

guint
te_picker_piece_failed (TePicker *p,
                        guint     piece)
{
  Partial *pp;

  g_return_val_if_fail (p != NULL && piece < p->n_pieces, 0);

  if (p->fails == NULL)
    p->fails = g_new0 (guint16, p->n_pieces);
  if (p->fails[piece] < G_MAXUINT16)
    p->fails[piece]++;
  pp = partial_at (p, piece);
  if (pp != NULL)
    {
      for (guint j = 0; j < pp->n_blocks; j++)
        if (pp->blocks[j].received)
          {
            pp->blocks[j].received = FALSE;
            pp->n_received--;
            if (pp->blocks[j].n_req > 0)
              pp->n_requested++;
            else
              free_changed (p, piece, 1);
          }
      active_fix (p, pp);
      partial_maybe_release (p, pp);
    }
  return p->fails[piece];
}

