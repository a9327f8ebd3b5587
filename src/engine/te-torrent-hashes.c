/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* BEP 52 piece layers for a v2 torrent fetched by magnet: the info dictionary
 * has only each file's root, so the piece hashes come from peers, a chunk of
 * up to 512 at a time with the proof that ties it to the root. A file's pieces
 * are not requested until its layer is complete. */

#define CHUNK_MAX         512
#define REQUESTS_PER_PEER 8
#define STALE_US          (15 * G_USEC_PER_SEC)

typedef struct {
  guint    file;
  guint    n;           /* hashes in the layer */
  gsize    width;       /* padded to a power of two */
  guint    chunk;       /* hashes per request */
  guint    n_chunks;
  guint8  *hashes;      /* width × 32 */
  guint8  *state;       /* per chunk: 0 wanted, 1 asked, 2 verified */
  gint64  *asked_at;
} LayerFetch;

static void
layer_fetch_free (gpointer data)
{
  LayerFetch *lf = data;

  g_free (lf->hashes);
  g_free (lf->state);
  g_free (lf->asked_at);
  g_free (lf);
}

static guint
layer_height (TeTorrent *self)
{
  return te_log2 (te_metainfo_get_piece_length (self->metainfo) / TE_MERKLE_BLOCK_SIZE);
}

void
_te_torrent_start_layer_fetch (TeTorrent *self)
{
  TeMetainfo *meta = self->metainfo;
  guint32 pl = te_metainfo_get_piece_length (meta);

  if (!te_metainfo_needs_piece_layers (meta))
    return;
  if (self->layer_fetches == NULL)
    self->layer_fetches = g_ptr_array_new_with_free_func (layer_fetch_free);
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      LayerFetch *lf;

      if (!te_metainfo_file_needs_layer (meta, i))
        continue;
      lf = g_new0 (LayerFetch, 1);
      lf->file = i;
      lf->n = (guint) ((f->length + pl - 1) / pl);
      lf->width = te_next_pow2 (lf->n);
      lf->chunk = (guint) MIN (CHUNK_MAX, lf->width);
      lf->n_chunks = (lf->n + lf->chunk - 1) / lf->chunk;
      lf->hashes = g_malloc0 (lf->width * TE_SHA256_LEN);
      lf->state = g_malloc0 (lf->n_chunks);
      lf->asked_at = g_new0 (gint64, lf->n_chunks);
      g_ptr_array_add (self->layer_fetches, lf);
    }
}

gboolean
_te_torrent_file_has_hashes (TeTorrent *self,
                             guint      file_index)
{
  return !te_metainfo_file_needs_layer (self->metainfo, file_index);
}

void
_te_torrent_request_hashes (TeTorrent *self,
                            PeerSlot  *slot)
{
  gint64 now = g_get_monotonic_time ();

  /* The reserved bit marks v2 support in hybrid swarms; in a v2-only swarm
   * every peer speaks v2 (libtorrent leaves the bit clear there). */
  if (self->layer_fetches == NULL || (!slot->v2 && self->has_v1_hash)
      || te_peer_get_state (slot->peer) != TE_PEER_ACTIVE)
    return;
  for (guint i = 0; i < self->layer_fetches->len && slot->hash_requests < REQUESTS_PER_PEER; i++)
    {
      LayerFetch *lf = g_ptr_array_index (self->layer_fetches, i);
      const TeFile *f = te_metainfo_get_file (self->metainfo, lf->file);

      for (guint c = 0; c < lf->n_chunks && slot->hash_requests < REQUESTS_PER_PEER; c++)
        {
          if (lf->state[c] == 2 || (lf->state[c] == 1 && now - lf->asked_at[c] < STALE_US))
            continue;
          lf->state[c] = 1;
          lf->asked_at[c] = now;
          slot->hash_requests++;
          /* Proof layers count up to, not including, the root (BEP 52 numbering;
           * libtorrent rejects more): every uncle up to the root. */
          te_peer_send_hashes (slot->peer, TE_WIRE_HASH_REQUEST, f->pieces_root, layer_height (self),
                               c * lf->chunk, lf->chunk, te_log2 (lf->width) - 1, NULL, 0);
        }
    }
}

static void
layer_complete (TeTorrent  *self,
                LayerFetch *lf)
{
  g_autoptr(GError) error = NULL;

  if (!te_metainfo_set_piece_layer (self->metainfo, lf->file, lf->hashes, lf->n, &error))
    {
      /* Every chunk verified against the root, so this cannot be the peers' fault. */
      g_warning ("%s: %s", self->name, error->message);
      memset (lf->state, 0, lf->n_chunks);
      return;
    }
  g_ptr_array_remove (self->layer_fetches, lf);
  _te_torrent_priorities_changed (self);
}

static LayerFetch *
find_fetch (TeTorrent    *self,
            const guint8 *root)
{
  for (guint i = 0; self->layer_fetches && i < self->layer_fetches->len; i++)
    {
      LayerFetch *lf = g_ptr_array_index (self->layer_fetches, i);

      if (memcmp (te_metainfo_get_file (self->metainfo, lf->file)->pieces_root, root, 32) == 0)
        return lf;
    }
  return NULL;
}

gboolean
_te_torrent_handle_hashes (TeTorrent       *self,
                           PeerSlot        *slot,
                           const TeWireMsg *msg)
{
  LayerFetch *lf = find_fetch (self, msg->pieces_root);
  guint c;
  gsize n_hashes = msg->data_len / TE_SHA256_LEN;

  if (slot->hash_requests > 0)
    slot->hash_requests--;
  if (lf == NULL || msg->length != lf->chunk || msg->index % lf->chunk != 0
      || msg->base_layer != layer_height (self))
    return TRUE;    /* an answer to nothing we still need */
  c = msg->index / lf->chunk;
  if (c >= lf->n_chunks || lf->state[c] == 2)
    return TRUE;

  if (msg->id == TE_WIRE_HASH_REJECT)
    {
      lf->state[c] = 0;
      return TRUE;
    }
  if (n_hashes < msg->length
      || !te_merkle_verify_proof (msg->data, msg->length, msg->index,
                                  msg->data + (gsize) msg->length * TE_SHA256_LEN,
                                  (guint) (n_hashes - msg->length), layer_height (self),
                                  te_metainfo_get_file (self->metainfo, lf->file)->pieces_root))
    {
      lf->state[c] = 0;
      _te_torrent_strike (self, te_peer_get_host_string (slot->peer), "hashes that fail their proof");
      te_peer_close (slot->peer, "hashes that fail their proof");
      return FALSE;
    }
  memcpy (lf->hashes + (gsize) msg->index * TE_SHA256_LEN, msg->data,
          (gsize) msg->length * TE_SHA256_LEN);
  lf->state[c] = 2;
  for (guint i = 0; i < lf->n_chunks; i++)
    if (lf->state[i] != 2)
      {
        _te_torrent_request_hashes (self, slot);
        return TRUE;
      }
  layer_complete (self, lf);
  return TRUE;
}

void
_te_torrent_hashes_tick (TeTorrent *self)
{
  if (self->layer_fetches == NULL || self->layer_fetches->len == 0)
    return;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot != NULL && slot->handshaken)
        _te_torrent_request_hashes (self, slot);
    }
}
