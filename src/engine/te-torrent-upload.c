/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* What a torrent gives: requests served from a small cache of whole pieces,
 * paced by the upload buckets; piece-layer hashes with their proofs (BEP 52);
 * and super-seeding (BEP 16). */

#define SEND_HIGH_WATER   (512 * 1024)
#define CACHE_MAX_BYTES   (32 * 1024 * 1024)

gboolean
_te_torrent_super_seed_active (TeTorrent *self)
{
  return self->super_seeding && _te_torrent_is_seeding (self) && self->metainfo != NULL;
}

/* Offers each peer its next piece once its last one has spread. */
void
_te_torrent_super_seed_offer (TeTorrent *self)
{
  if (!_te_torrent_super_seed_active (self))
    return;
  if (self->super_seed == NULL)
    self->super_seed = te_super_seed_new (te_metainfo_get_n_pieces (self->metainfo));
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      guint piece;

      if (slot == NULL || !slot->handshaken || te_peer_get_state (slot->peer) != TE_PEER_ACTIVE
          || slot->has_all || slot->super_revealed)
        continue;
      piece = te_super_seed_offer (self->super_seed, slot, slot->has);
      if (piece != G_MAXUINT && piece != slot->super_offer)
        {
          slot->super_offer = piece;
          te_peer_send_index (slot->peer, TE_WIRE_HAVE, piece);
        }
    }
}

void
_te_torrent_super_seed_saw (TeTorrent *self,
                PeerSlot  *slot,
                guint      piece)
{
  guint others = 0;

  if (self->super_seed != NULL)
    te_super_seed_peer_has (self->super_seed, slot, piece);
  if (piece != slot->super_offer || slot->super_revealed)
    return;
  /* BEP 16 waits for the piece to show up elsewhere; with no other leecher
   * it never would, so this peer is shown everything instead. */
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *other = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (other && other != slot && other->handshaken && !_te_torrent_peer_is_seed (self, other))
        others++;
    }
  if (others == 0)
    {
      slot->super_revealed = TRUE;
      for (guint p = 0; p < te_bitfield_size (self->have); p++)
        if (!te_bitfield_get (slot->has, p))
          te_peer_send_index (slot->peer, TE_WIRE_HAVE, p);
    }
}


/* Requests we serve: whole pieces are read once into a small cache and sent
 * block by block from memory. */

void
_te_torrent_cache_clear (TeTorrent *self)
{
  CachedPiece *c;

  while ((c = g_queue_pop_head (&self->cache)) != NULL)
    {
      g_bytes_unref (c->data);
      g_free (c);
    }
  self->cache_bytes = 0;
}

static GBytes *
cache_lookup (TeTorrent *self,
              guint      piece)
{
  for (GList *l = self->cache.head; l != NULL; l = l->next)
    {
      CachedPiece *c = l->data;

      if (c->piece == piece)
        {
          c->last_used = ++self->cache_clock;
          if (l != self->cache.head)
            {
              g_queue_unlink (&self->cache, l);
              g_queue_push_head_link (&self->cache, l);
            }
          return c->data;
        }
    }
  return NULL;
}

static void
cache_insert (TeTorrent *self,
              guint      piece,
              GBytes    *data)
{
  CachedPiece *c = g_new0 (CachedPiece, 1);

  c->piece = piece;
  c->data = g_bytes_ref (data);
  c->last_used = ++self->cache_clock;
  g_queue_push_head (&self->cache, c);
  self->cache_bytes += g_bytes_get_size (data);
  while (self->cache_bytes > CACHE_MAX_BYTES && self->cache.length > 2)
    {
      CachedPiece *old = g_queue_pop_tail (&self->cache);

      self->cache_bytes -= g_bytes_get_size (old->data);
      g_bytes_unref (old->data);
      g_free (old);
    }
}

typedef struct {
  TeTorrent *torrent;
  guint      piece;
} ReadOp;

static void
piece_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  ReadOp *op = user_data;
  TeTorrent *self = op->torrent;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = te_storage_read_block_finish (TE_STORAGE (source), result, &error);
  g_autoptr(GPtrArray) waiting = NULL;

  if (self->reads)
    g_hash_table_steal_extended (self->reads, GUINT_TO_POINTER (op->piece), NULL,
                                 (gpointer *) &waiting);
  if (data == NULL)
    {
      /* No descriptor left: the requests stay queued and are served later. */
      if (g_error_matches (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_NO_DESCRIPTORS) && self->engine)
        _te_torrent_serve_later (self, g_steal_pointer (&error));
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->engine)
        _te_torrent_fail_io (self, g_steal_pointer (&error));
    }
  else
    {
      cache_insert (self, op->piece, data);
      for (guint i = 0; waiting && i < waiting->len; i++)
        _te_torrent_serve (self, g_ptr_array_index (waiting, i));
    }
  g_object_unref (op->torrent);
  g_free (op);
}

static gboolean
upload_throttle_done_cb (gpointer user_data)
{
  TeTorrent *self = user_data;

  self->upload_throttle_id = 0;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (slot && slot->n_incoming > 0)
        _te_torrent_serve (self, slot);
    }
  return G_SOURCE_REMOVE;
}

void
_te_torrent_serve (TeTorrent *self,
                   PeerSlot  *slot)
{
  TeTokenBucket *global = _te_engine_get_up_bucket (self->engine);

  while (slot->n_incoming > 0 && te_peer_get_state (slot->peer) == TE_PEER_ACTIVE
         && te_peer_get_send_queue (slot->peer) < SEND_HIGH_WATER)
    {
      TeBlock *b = &slot->incoming[slot->incoming_head];
      GBytes *piece = cache_lookup (self, b->piece);
      gint64 now = g_get_monotonic_time ();
      guint64 granted;

      if (piece == NULL)
        {
          GPtrArray *waiting;

          if (self->reads == NULL)
            self->reads = g_hash_table_new_full (NULL, NULL, NULL,
                                                 (GDestroyNotify) g_ptr_array_unref);
          waiting = g_hash_table_lookup (self->reads, GUINT_TO_POINTER (b->piece));

          if (waiting == NULL)
            {
              ReadOp *op = g_new0 (ReadOp, 1);

              op->torrent = g_object_ref (self);
              op->piece = b->piece;
              waiting = g_ptr_array_new ();
              g_hash_table_insert (self->reads, GUINT_TO_POINTER (b->piece), waiting);
              te_storage_read_block_async (self->storage, b->piece, 0,
                                           te_metainfo_get_piece_padded_size (self->metainfo, b->piece),
                                           self->cancellable, piece_read_cb, op);
            }
          if (!g_ptr_array_find (waiting, slot, NULL))
            g_ptr_array_add (waiting, slot);
          return;
        }

      granted = te_token_bucket_take2 (&self->up_bucket, global, b->length, now);
      if (granted < b->length)
        {
          gint64 wait = MAX (te_token_bucket_wait_us (&self->up_bucket, b->length, now),
                             te_token_bucket_wait_us (global, b->length, now));

          /* Give back what was granted: the block goes whole or not at all. */
          if (granted > 0)
            {
              te_token_bucket_consume (&self->up_bucket, 0, now);
              self->up_bucket.tokens += granted;
              global->tokens += granted;
            }
          if (self->upload_throttle_id == 0)
            self->upload_throttle_id = g_timeout_add (MAX (wait / 1000, 1),
                                                      upload_throttle_done_cb, self);
          return;
        }
      {
        TePeer *peer = slot->peer;
        guint32 length = b->length;

        /* Take the block off the queue first: a failed send closes the peer
         * and frees its slot, @b with it. */
        slot->incoming_head = (slot->incoming_head + 1) % TE_PEER_MAX_INCOMING;
        slot->n_incoming--;
        g_object_ref (peer);
        te_peer_send_piece (peer, b->piece, b->begin,
                            (const guint8 *) g_bytes_get_data (piece, NULL) + b->begin, length);
        if (te_peer_get_state (peer) == TE_PEER_CLOSED)
          {
            g_object_unref (peer);
            return;
          }
        g_object_unref (peer);
        slot->up_payload += length;
        self->stats.uploaded += length;
      }
    }
}

gboolean
_te_torrent_handle_request (TeTorrent       *self,
                PeerSlot        *slot,
                const TeWireMsg *msg)
{
  guint32 size;

  if (self->metainfo == NULL || msg->index >= te_metainfo_get_n_pieces (self->metainfo))
    return _te_torrent_protocol_error (self, slot, "request outside the torrent", TRUE);
  size = te_metainfo_get_piece_padded_size (self->metainfo, msg->index);
  if (msg->length == 0 || msg->length > TE_WIRE_BLOCK_SIZE || msg->begin >= size
      || msg->length > size - msg->begin)
    {
      g_debug ("%s: bad request %u:%u+%u (piece of %u bytes)", self->name, msg->index,
               msg->begin, msg->length, size);
      return _te_torrent_protocol_error (self, slot, "request of a bad length", TRUE);
    }

  if (!te_bitfield_get (self->have, msg->index) || (slot->am_choking)
      || self->state == TE_TORRENT_STATE_CHECKING)
    {
      if (slot->fast)
        te_peer_send_request (slot->peer, TE_WIRE_REJECT, msg->index, msg->begin, msg->length);
      return TRUE;
    }
  if (slot->n_incoming >= TE_PEER_MAX_INCOMING)
    return _te_torrent_protocol_error (self, slot, "more requests than the advertised queue", TRUE);

  slot->incoming[(slot->incoming_head + slot->n_incoming) % TE_PEER_MAX_INCOMING] =
    (TeBlock) { msg->index, msg->begin, msg->length };
  slot->n_incoming++;
  _te_torrent_serve (self, slot);
  return TRUE;
}

void
_te_torrent_handle_cancel (PeerSlot        *slot,
               const TeWireMsg *msg)
{
  for (guint i = 0; i < slot->n_incoming; i++)
    {
      guint at = (slot->incoming_head + i) % TE_PEER_MAX_INCOMING;
      TeBlock *b = &slot->incoming[at];

      if (b->piece == msg->index && b->begin == msg->begin && b->length == msg->length)
        {
          /* Close the gap by shifting the later entries down. */
          for (guint j = i; j + 1 < slot->n_incoming; j++)
            slot->incoming[(slot->incoming_head + j) % TE_PEER_MAX_INCOMING] =
              slot->incoming[(slot->incoming_head + j + 1) % TE_PEER_MAX_INCOMING];
          slot->n_incoming--;
          return;
        }
    }
}


/* BEP 52: piece-layer hashes with their proof, from the layers of a .torrent
 * (a torrent fetched by magnet has none to give). Anything else is rejected. */
void
_te_torrent_serve_hashes (TeTorrent       *self,
              PeerSlot        *slot,
              const TeWireMsg *msg)
{
  const TeFile *file = NULL;
  guint32 pl;
  gsize width;
  guint height;
  g_autofree guint8 *out = NULL;
  guint n;

  for (guint i = 0; self->metainfo && i < te_metainfo_get_n_files (self->metainfo); i++)
    {
      const TeFile *f = te_metainfo_get_file (self->metainfo, i);

      if (f->has_root && f->layer != NULL && memcmp (f->pieces_root, msg->pieces_root, 32) == 0)
        {
          file = f;
          break;
        }
    }
  if (file == NULL)
    goto reject;
  pl = te_metainfo_get_piece_length (self->metainfo);
  height = te_log2 (pl / TE_MERKLE_BLOCK_SIZE);
  width = te_next_pow2 (file->n_layer);
  if (msg->base_layer != height || msg->length < 2 || msg->length > 512
      || (msg->length & (msg->length - 1)) != 0 || msg->index % msg->length != 0
      || msg->index >= width || msg->length > width || msg->proof_layers > 64)
    goto reject;

  out = g_malloc ((msg->length + te_log2 (width) + 1) * TE_SHA256_LEN);
  n = te_merkle_proof (file->layer, file->n_layer, width, height, msg->index, msg->length,
                       msg->proof_layers, out);
  te_peer_send_hashes (slot->peer, TE_WIRE_HASHES, msg->pieces_root, msg->base_layer, msg->index,
                       msg->length, msg->proof_layers, out, n);
  return;

reject:
  te_peer_send_hashes (slot->peer, TE_WIRE_HASH_REJECT, msg->pieces_root, msg->base_layer,
                       msg->index, msg->length, msg->proof_layers, NULL, 0);
}
