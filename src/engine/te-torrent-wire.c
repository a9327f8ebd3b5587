/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* BEP 3 and BEP 6 messages of one torrent's peers: availability, interest,
 * requests both ways, piece data, and the per-peer pipeline. */

#define MIN_PIPELINE      32
#define PIPELINE_SECONDS  3
#define SNUB_US           (60 * G_USEC_PER_SEC)
#define IDLE_US           (180 * G_USEC_PER_SEC)
#define KEEPALIVE_US      (90 * G_USEC_PER_SEC)

gboolean
_te_torrent_protocol_error (TeTorrent  *self,
                PeerSlot   *slot,
                const char *reason,
                gboolean    strike)
{
  g_debug ("%s: %s: %s", self->name, te_peer_get_address_string (slot->peer), reason);
  if (strike)
    _te_torrent_report (self, te_error_event_new (TE_ERROR_CATEGORY_PROTOCOL, "bad_message", reason,
                                                  te_peer_get_address_string (slot->peer)));
  if (strike)
    _te_torrent_strike (self, te_peer_get_host_string (slot->peer), reason);
  te_peer_close (slot->peer, reason);
  return FALSE;
}

void
_te_torrent_slot_free (gpointer data)
{
  PeerSlot *slot = data;

  te_bitfield_free (slot->has);
  te_bitfield_free (slot->allowed_fast);
  g_clear_pointer (&slot->early_bitfield, g_bytes_unref);
  g_clear_pointer (&slot->pex_sent, g_ptr_array_unref);
  g_free (slot->listen_key);
  g_free (slot->requests);
  g_free (slot->incoming);
  g_free (slot);
}

gboolean
_te_torrent_peer_is_seed (TeTorrent *self,
              PeerSlot  *slot)
{
  return slot->has_all || (slot->has != NULL && te_bitfield_is_full (slot->has));
}

static guint
count_interesting (TeTorrent *self,
                   PeerSlot  *slot)
{
  guint n = 0, total = te_bitfield_size (self->have);

  for (guint p = 0; p < total; p++)
    if (te_bitfield_get (self->wanted, p) && !te_bitfield_get (self->have, p)
        && (slot->has_all || te_bitfield_get (slot->has, p)))
      n++;
  return n;
}

void
_te_torrent_recount_interest (TeTorrent *self,
                              PeerSlot  *slot)
{
  if (slot->has_all || slot->has)
    slot->interesting = count_interesting (self, slot);
  _te_torrent_update_interest (self, slot);
  _te_torrent_fill_requests (self, slot);
}

void
_te_torrent_update_interest (TeTorrent *self,
                             PeerSlot  *slot)
{
  gboolean want = self->metainfo != NULL && slot->interesting > 0
                  && self->state == TE_TORRENT_STATE_DOWNLOADING;

  if (want == slot->am_interested)
    return;
  slot->am_interested = want;
  te_peer_send_simple (slot->peer, want ? TE_WIRE_INTERESTED : TE_WIRE_NOT_INTERESTED);
}

/* Availability is counted once metadata and our own check are in: peers that
 * arrive earlier are counted from rechecked_cb through this same function. */
static void
count_availability (TeTorrent *self,
                    PeerSlot  *slot)
{
  if (self->picker == NULL)
    return;
  if (slot->has_all)
    te_picker_peer_add_all (self->picker);
  else if (slot->has)
    te_picker_peer_add_bitfield (self->picker, slot->has);
  slot->interesting = self->have ? count_interesting (self, slot) : 0;
}

static void
send_have_state (TeTorrent *self,
                 PeerSlot  *slot)
{
  gboolean known = self->have != NULL && self->state != TE_TORRENT_STATE_CHECKING;
  gsize len;
  const guint8 *bits;

  if (!known || te_bitfield_count (self->have) == 0 || self->super_seeding)
    {
      if (slot->fast)
        te_peer_send_simple (slot->peer, TE_WIRE_HAVE_NONE);
      return;
    }
  if (slot->fast && te_bitfield_is_full (self->have))
    {
      te_peer_send_simple (slot->peer, TE_WIRE_HAVE_ALL);
      return;
    }
  bits = te_bitfield_bytes (self->have, &len);
  te_peer_send_bitfield (slot->peer, bits, len);
}

/* An interested peer gets a free upload slot at once rather than on the next
 * 10 s rechoke; the choker reconsiders everyone then. */
static void
maybe_unchoke (TeTorrent *self,
               PeerSlot  *slot)
{
  guint unchoked = 0;

  if (!slot->am_choking || !slot->peer_interested)
    return;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *other = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (other && !other->am_choking)
        unchoked++;
    }
  if (unchoked < 4)
    {
      slot->am_choking = FALSE;
      te_peer_send_simple (slot->peer, TE_WIRE_UNCHOKE);
    }
}

void
_te_torrent_peer_ready (TeTorrent *self,
                        PeerSlot  *slot)
{
  slot->super_offer = G_MAXUINT;
  send_have_state (self, slot);
  /* The first offer goes before anything that could make us look useless. */
  _te_torrent_super_seed_offer (self);
  if (slot->extended)
    _te_torrent_send_ext_handshake (self, slot);
  _te_torrent_request_hashes (self, slot);
}

void
_te_torrent_announce_pieces (TeTorrent *self)
{
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot == NULL || !slot->handshaken
          || te_peer_get_state (slot->peer) != TE_PEER_ACTIVE)
        continue;
      /* They got HAVE_NONE (or nothing) while we were checking. */
      for (guint p = 0; !self->super_seeding && p < te_bitfield_size (self->have); p++)
        if (te_bitfield_get (self->have, p))
          te_peer_send_index (slot->peer, TE_WIRE_HAVE, p);
      count_availability (self, slot);
      _te_torrent_update_interest (self, slot);
      _te_torrent_fill_requests (self, slot);
    }
}

static void
remove_incoming_waits (TeTorrent *self,
                       PeerSlot  *slot)
{
  GHashTableIter iter;
  gpointer value;

  if (self->reads == NULL)
    return;
  g_hash_table_iter_init (&iter, self->reads);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_remove (value, slot);
}

void
_te_torrent_peer_gone (TeTorrent *self,
                       PeerSlot  *slot)
{
  if (self->super_seed != NULL)
    te_super_seed_peer_gone (self->super_seed, slot);
  if (self->picker != NULL)
    {
      te_picker_peer_gone (self->picker, slot);
      if (slot->has_all)
        te_picker_peer_remove_all (self->picker);
      else if (slot->has && self->state != TE_TORRENT_STATE_CHECKING)
        te_picker_peer_remove_bitfield (self->picker, slot->has);
    }
  slot->n_requests = 0;
  remove_incoming_waits (self, slot);
}

/* Requests we send */

static guint32
pipeline_depth (PeerSlot *slot)
{
  guint64 by_rate = slot->down_rate * PIPELINE_SECONDS / TE_WIRE_BLOCK_SIZE;
  guint32 cap = slot->ext.reqq ? MIN (slot->ext.reqq, TE_PEER_MAX_REQUESTS) : 250;

  return (guint32) CLAMP (by_rate, MIN (MIN_PIPELINE, cap), cap);
}

static void update_peer_read_pause (TeTorrent *self, PeerSlot *slot);

void
_te_torrent_fill_requests (TeTorrent *self,
                           PeerSlot  *slot)
{
  TeBlock blocks[64];
  gboolean fast_only;

  if (self->picker == NULL || self->state != TE_TORRENT_STATE_DOWNLOADING || !slot->am_interested
      || te_peer_get_state (slot->peer) != TE_PEER_ACTIVE)
    return;
  fast_only = slot->peer_choking;
  if (fast_only && slot->allowed_fast == NULL)
    return;

  slot->max_requests = MAX (slot->max_requests, pipeline_depth (slot));
  slot->max_requests = MIN (slot->max_requests, pipeline_depth (slot) * 2);
  while (slot->n_requests < slot->max_requests)
    {
      guint want = MIN (G_N_ELEMENTS (blocks), slot->max_requests - slot->n_requests);
      guint n = te_picker_pick (self->picker, slot, slot->has_all ? NULL : slot->has,
                                slot->allowed_fast, slot->peer_choking, blocks, want);
      gint64 now = g_get_monotonic_time ();

      for (guint i = 0; i < n; i++)
        {
          slot->requests[slot->n_requests].block = blocks[i];
          slot->requests[slot->n_requests].sent_us = now;
          slot->n_requests++;
          te_peer_send_request (slot->peer, TE_WIRE_REQUEST, blocks[i].piece, blocks[i].begin,
                                blocks[i].length);
        }
      if (n < want)
        break;
    }
  update_peer_read_pause (self, slot);
}

static gboolean
take_request (PeerSlot *slot,
              guint     piece,
              guint32   begin,
              gint64   *sent_us)
{
  for (guint i = 0; i < slot->n_requests; i++)
    if (slot->requests[i].block.piece == piece && slot->requests[i].block.begin == begin)
      {
        if (sent_us)
          *sent_us = slot->requests[i].sent_us;
        memmove (&slot->requests[i], &slot->requests[i + 1],
                 (slot->n_requests - i - 1) * sizeof (Request));
        slot->n_requests--;
        return TRUE;
      }
  return FALSE;
}

static void
remember_cancel (PeerSlot *slot,
                 TeBlock   b)
{
  slot->cancelled[slot->n_cancelled++ % G_N_ELEMENTS (slot->cancelled)] = b;
}

static gboolean
was_cancelled (PeerSlot *slot,
               guint     piece,
               guint32   begin)
{
  guint n = MIN (slot->n_cancelled, G_N_ELEMENTS (slot->cancelled));

  for (guint i = 0; i < n; i++)
    if (slot->cancelled[i].piece == piece && slot->cancelled[i].begin == begin)
      return TRUE;
  return FALSE;
}

static void
cancel_request (TeTorrent *self,
                PeerSlot  *slot,
                guint      index)
{
  TeBlock b = slot->requests[index].block;

  remember_cancel (slot, b);
  te_peer_send_request (slot->peer, TE_WIRE_CANCEL, b.piece, b.begin, b.length);
  te_picker_cancel_block (self->picker, slot, b.piece, b.begin);
  memmove (&slot->requests[index], &slot->requests[index + 1],
           (slot->n_requests - index - 1) * sizeof (Request));
  slot->n_requests--;
}


/* Reading stops while more than this waits for the disk, so a disk slower
 * than the network cannot grow memory without bound. */
#define WRITE_BACKLOG_MAX (8 * 1024 * 1024)

/* Payload only comes from peers we asked: only those stop being read, so the
 * control messages of everyone else (handshakes, PEX, their requests) still
 * get through while a limit or the disk holds downloads back. */
static void
update_peer_read_pause (TeTorrent *self,
                        PeerSlot  *slot)
{
  gboolean held = self->throttle_id != 0 || self->write_paused;

  te_peer_set_read_paused (slot->peer, held && slot->n_requests > 0);
}

static void
update_read_pause (TeTorrent *self)
{
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot != NULL)
        update_peer_read_pause (self, slot);
    }
}

static void
writes_changed (TeTorrent *self)
{
  gsize max = MAX (WRITE_BACKLOG_MAX, 2 * (gsize) te_metainfo_get_piece_length (self->metainfo));
  gboolean paused = self->write_paused ? self->writes_pending > max / 2
                                       : self->writes_pending > max;

  if (paused != self->write_paused)
    {
      self->write_paused = paused;
      update_read_pause (self);
    }
}

/* Download throttling: payload past the budget pauses reading until the
 * buckets refill, on a timer. */
static gboolean
throttle_done_cb (gpointer user_data)
{
  TeTorrent *self = user_data;

  self->throttle_id = 0;
  update_read_pause (self);
  return G_SOURCE_REMOVE;
}

static void
account_download (TeTorrent *self,
                  gsize      len)
{
  TeTokenBucket *global = _te_engine_get_down_bucket (self->engine);
  gint64 now = g_get_monotonic_time ();
  gint64 wait;

  self->stats.downloaded += len;
  te_token_bucket_consume (&self->down_bucket, len, now);
  te_token_bucket_consume (global, len, now);
  wait = MAX (te_token_bucket_wait_us (&self->down_bucket, 1, now),
              te_token_bucket_wait_us (global, 1, now));
  if (wait > 0 && self->throttle_id == 0)
    {
      self->throttle_id = g_timeout_add (MAX (wait / 1000, 1), throttle_done_cb, self);
      update_read_pause (self);
    }
}

#define POOL_KEEP 8

static BufferPool *
buffer_pool_new (gsize size)
{
  BufferPool *pool = g_new0 (BufferPool, 1);

  pool->ref = 1;
  pool->size = size;
  g_mutex_init (&pool->lock);
  pool->free = g_ptr_array_new_with_free_func (g_free);
  return pool;
}

void
_te_buffer_pool_unref (BufferPool *pool)
{
  if (pool == NULL || !g_atomic_int_dec_and_test (&pool->ref))
    return;
  g_ptr_array_unref (pool->free);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

static guint8 *
buffer_pool_take (BufferPool *pool)
{
  guint8 *buf = NULL;

  g_mutex_lock (&pool->lock);
  if (pool->free->len > 0)
    buf = g_ptr_array_steal_index_fast (pool->free, pool->free->len - 1);
  g_mutex_unlock (&pool->lock);
  return buf ? buf : g_malloc (pool->size);
}

typedef struct {
  BufferPool *pool;
  guint8     *data;
} PooledBuffer;

static void
pooled_buffer_release (gpointer data)
{
  PooledBuffer *pb = data;

  g_mutex_lock (&pb->pool->lock);
  if (pb->pool->free->len < POOL_KEEP)
    {
      g_ptr_array_add (pb->pool->free, pb->data);
      pb->data = NULL;
    }
  g_mutex_unlock (&pb->pool->lock);
  g_free (pb->data);
  _te_buffer_pool_unref (pb->pool);
  g_free (pb);
}

/* Wraps a pool buffer so that dropping the GBytes, on whatever thread, gives it back. */
static GBytes *
pooled_bytes (BufferPool *pool,
              guint8     *data,
              gsize       len)
{
  PooledBuffer *pb = g_new0 (PooledBuffer, 1);

  pb->pool = pool;
  g_atomic_int_inc (&pool->ref);
  pb->data = data;
  return g_bytes_new_with_free_func (data, len, pooled_buffer_release, pb);
}

typedef struct {
  TeTorrent *torrent;
  guint      piece;
  gsize      size;
  guint      error_serial;
  GPtrArray *contributors;
} WriteOp;

static void
piece_written_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  WriteOp *op = user_data;
  TeTorrent *self = op->torrent;
  g_autoptr(GError) error = NULL;
  gboolean valid = FALSE;

  self->writes_pending -= op->size;
  if (self->metainfo != NULL)
    writes_changed (self);
  if (!te_storage_write_piece_finish (TE_STORAGE (source), result, &valid, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->picker
          && self->engine)
        {
          te_picker_piece_failed (self->picker, op->piece);
          /* Issued before an error the user has since dealt with (resumed
           * after freeing space): the piece is simply fetched again. */
          if (op->error_serial == self->error_serial)
            _te_torrent_fail_io (self, g_steal_pointer (&error));
          else
            g_debug ("%s: a write from before the last error: %s", self->name, error->message);
        }
    }
  else if (self->picker == NULL || self->state == TE_TORRENT_STATE_ERROR || self->engine == NULL)
    ;
  else if (valid)
    _te_torrent_piece_verified (self, op->piece);
  else
    {
      guint failures = te_picker_piece_failed (self->picker, op->piece);
      guint max = te_engine_get_settings (self->engine)->max_piece_retries;

      self->stats.hash_failures++;
      g_message ("%s: piece %u failed its hash check (%u times)", self->name, op->piece, failures);
      for (guint i = 0; i < op->contributors->len; i++)
        _te_torrent_strike (self, g_ptr_array_index (op->contributors, i), "sent bad data");
      if (failures >= max)
        {
          g_autofree char *msg = g_strdup_printf ("Piece %u failed its hash check %u times; "
                                                  "no longer requested", op->piece, failures);
          TeErrorEvent *event = te_error_event_new (TE_ERROR_CATEGORY_VERIFICATION,
                                                    "hash_mismatch", msg, NULL);

          /* Problematic: nobody seems to have good data for it. */
          event->recoverable = FALSE;
          event->action = TE_ERROR_ACTION_SKIP;
          te_picker_set_priority (self->picker, op->piece, TE_PRIORITY_SKIP);
          _te_torrent_report (self, event);
        }
      else
        {
          g_autofree char *msg = g_strdup_printf ("Piece %u failed its hash check; requesting it again",
                                                  op->piece);

          _te_torrent_report (self, te_error_event_new (TE_ERROR_CATEGORY_VERIFICATION,
                                                        "hash_mismatch", msg, NULL));
        }
    }

  /* Whatever happened, the peers may have more to do now. */
  for (guint i = 0; self->picker && i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (slot && slot->handshaken)
        _te_torrent_fill_requests (self, slot);
    }
  g_ptr_array_unref (op->contributors);
  g_object_unref (op->torrent);
  g_free (op);
}

static gboolean
handle_piece (TeTorrent       *self,
              PeerSlot        *slot,
              const TeWireMsg *msg)
{
  guint n = te_metainfo_get_n_pieces (self->metainfo);
  gint64 sent_us = 0, now;
  PieceBuf *pb;
  gpointer cancel[8];
  guint n_cancel = 0;
  gboolean complete = FALSE;
  guint32 size;

  if (msg->index >= n)
    return _te_torrent_protocol_error (self, slot, "piece outside the torrent", TRUE);
  size = te_metainfo_get_piece_size (self->metainfo, msg->index);
  if (msg->begin >= size || msg->data_len > size - msg->begin || msg->data_len == 0)
    return _te_torrent_protocol_error (self, slot, "piece data outside its piece", TRUE);

  if (!take_request (slot, msg->index, msg->begin, &sent_us))
    {
      /* Late replies to cancelled requests are normal; data nobody asked for is not. */
      if (!was_cancelled (slot, msg->index, msg->begin))
        return _te_torrent_protocol_error (self, slot, "piece data that was not requested", TRUE);
      slot->down_payload += msg->data_len;
      account_download (self, msg->data_len);
      return TRUE;
    }
  else
    {
      /* RTT estimate, as TCP does it (RFC 6298). */
      double rtt = (double) (g_get_monotonic_time () - sent_us);

      if (slot->srtt_us == 0)
        {
          slot->srtt_us = rtt;
          slot->rttvar_us = rtt / 2;
        }
      else
        {
          slot->rttvar_us = 0.75 * slot->rttvar_us + 0.25 * ABS (slot->srtt_us - rtt);
          slot->srtt_us = 0.875 * slot->srtt_us + 0.125 * rtt;
        }
    }

  now = g_get_monotonic_time ();
  slot->last_block_us = now;
  self->last_payload_us = now;
  slot->snubbed = FALSE;
  slot->down_payload += msg->data_len;
  account_download (self, msg->data_len);

  if (te_bitfield_get (self->have, msg->index))
    return TRUE;
  pb = self->pieces ? g_hash_table_lookup (self->pieces, GUINT_TO_POINTER (msg->index)) : NULL;
  if (pb == NULL)
    {
      if (self->pieces == NULL)
        self->pieces = g_hash_table_new_full (NULL, NULL, NULL, _te_piece_buf_free);
      if (self->buffers == NULL)
        self->buffers = buffer_pool_new (te_metainfo_get_piece_length (self->metainfo));
      pb = g_new0 (PieceBuf, 1);
      pb->size = size;
      pb->data = buffer_pool_take (self->buffers);
      pb->contributors = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (self->pieces, GUINT_TO_POINTER (msg->index), pb);
    }
  memcpy (pb->data + msg->begin, msg->data, msg->data_len);
  {
    const char *host = te_peer_get_host_string (slot->peer);
    gboolean known = FALSE;

    for (guint i = 0; i < pb->contributors->len && !known; i++)
      known = strcmp (g_ptr_array_index (pb->contributors, i), host) == 0;
    if (!known)
      g_ptr_array_add (pb->contributors, g_strdup (host));
  }

  te_picker_block_received (self->picker, slot, msg->index, msg->begin, cancel, &n_cancel,
                            &complete);
  for (guint i = 0; i < n_cancel; i++)
    {
      PeerSlot *other = cancel[i];   /* the picker's peer handle is the slot */

      for (guint r = 0; r < other->n_requests; r++)
        if (other->requests[r].block.piece == msg->index
            && other->requests[r].block.begin == msg->begin)
          {
            te_peer_send_request (other->peer, TE_WIRE_CANCEL, msg->index, msg->begin,
                                  other->requests[r].block.length);
            remember_cancel (other, other->requests[r].block);
            memmove (&other->requests[r], &other->requests[r + 1],
                     (other->n_requests - r - 1) * sizeof (Request));
            other->n_requests--;
            break;
          }
    }

  if (complete)
    {
      WriteOp *op = g_new0 (WriteOp, 1);
      GBytes *data = pooled_bytes (self->buffers, g_steal_pointer (&pb->data), pb->size);

      op->torrent = g_object_ref (self);
      op->piece = msg->index;
      op->size = pb->size;
      op->error_serial = self->error_serial;
      op->contributors = g_ptr_array_ref (pb->contributors);
      self->writes_pending += pb->size;
      writes_changed (self);
      g_hash_table_remove (self->pieces, GUINT_TO_POINTER (msg->index));
      te_storage_write_piece_async (self->storage, msg->index, data, self->cancellable,
                                    piece_written_cb, op);
      g_bytes_unref (data);
    }

  _te_torrent_fill_requests (self, slot);
  return TRUE;
}

static gboolean handle_have (TeTorrent *self, PeerSlot *slot, const TeWireMsg *msg);

static gboolean
handle_bitfield (TeTorrent       *self,
                 PeerSlot        *slot,
                 const TeWireMsg *msg)
{
  if (slot->has_all || (slot->early_bitfield != NULL && self->metainfo == NULL))
    return _te_torrent_protocol_error (self, slot, "a second bitfield", TRUE);
  if (slot->has != NULL && self->metainfo != NULL)
    {
      /* aria2 sends an updated bitfield mid-connection: take it as HAVEs. */
      g_autoptr(TeBitfield) update = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));

      if (!te_bitfield_load (update, msg->data, msg->data_len))
        return _te_torrent_protocol_error (self, slot, "bitfield of the wrong size or with spare bits set", TRUE);
      for (guint p = 0; p < te_bitfield_size (update); p++)
        if (te_bitfield_get (update, p) && !te_bitfield_get (slot->has, p))
          {
            TeWireMsg have = { .id = TE_WIRE_HAVE, .index = p };

            if (!handle_have (self, slot, &have))
              return FALSE;
          }
      return TRUE;
    }
  if (self->metainfo == NULL)
    {
      /* Kept until the metadata tells how many pieces there are. */
      if (msg->data_len > TE_EXT_MAX_METADATA / 20 / 8 + 1)
        return _te_torrent_protocol_error (self, slot, "bitfield too large", TRUE);
      slot->early_bitfield = g_bytes_new (msg->data, msg->data_len);
      return TRUE;
    }
  slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
  if (!te_bitfield_load (slot->has, msg->data, msg->data_len))
    return _te_torrent_protocol_error (self, slot, "bitfield of the wrong size or with spare bits set", TRUE);
  if (self->state != TE_TORRENT_STATE_CHECKING)
    count_availability (self, slot);
  if (_te_torrent_super_seed_active (self))
    {
      for (guint p = 0; p < te_bitfield_size (slot->has); p++)
        if (te_bitfield_get (slot->has, p))
          {
            if (self->super_seed == NULL)
              self->super_seed = te_super_seed_new (te_bitfield_size (slot->has));
            _te_torrent_super_seed_saw (self, slot, p);
          }
      _te_torrent_super_seed_offer (self);
    }
  return TRUE;
}

/* For magnets: peers' bitfields waited for the metadata. */
void
_te_torrent_apply_early_bitfield (TeTorrent *self,
                                  PeerSlot  *slot)
{
  if (slot->has_all || slot->has != NULL)
    return;
  slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
  if (slot->early_bitfield != NULL
      && !te_bitfield_load (slot->has, g_bytes_get_data (slot->early_bitfield, NULL),
                            g_bytes_get_size (slot->early_bitfield)))
    {
      g_clear_pointer (&slot->early_bitfield, g_bytes_unref);
      _te_torrent_protocol_error (self, slot, "bitfield of the wrong size", TRUE);
      return;
    }
  g_clear_pointer (&slot->early_bitfield, g_bytes_unref);
}

static gboolean
handle_have (TeTorrent       *self,
             PeerSlot        *slot,
             const TeWireMsg *msg)
{
  if (slot->has_all)
    return TRUE;
  if (self->metainfo == NULL)
    return TRUE;
  if (msg->index >= te_metainfo_get_n_pieces (self->metainfo))
    return _te_torrent_protocol_error (self, slot, "have outside the torrent", TRUE);
  if (slot->has == NULL)
    slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
  if (te_bitfield_get (slot->has, msg->index))
    return TRUE;
  te_bitfield_set (slot->has, msg->index, TRUE);
  if (self->state == TE_TORRENT_STATE_CHECKING)
    return TRUE;
  te_picker_peer_add_have (self->picker, msg->index);
  if (_te_torrent_super_seed_active (self))
    {
      _te_torrent_super_seed_saw (self, slot, msg->index);
      _te_torrent_super_seed_offer (self);
    }
  if (te_bitfield_get (self->wanted, msg->index) && !te_bitfield_get (self->have, msg->index))
    {
      slot->interesting++;
      _te_torrent_update_interest (self, slot);
      _te_torrent_fill_requests (self, slot);
    }
  if (_te_torrent_is_seeding (self) && _te_torrent_peer_is_seed (self, slot))
    {
      te_peer_close (slot->peer, "both are seeds");
      return FALSE;
    }
  return TRUE;
}

gboolean
_te_torrent_handle_message (TeTorrent       *self,
                            PeerSlot        *slot,
                            const TeWireMsg *msg)
{
  switch (msg->id)
    {
    case TE_WIRE_KEEPALIVE:
      return TRUE;

    case TE_WIRE_CHOKE:
      slot->peer_choking = TRUE;
      if (!slot->fast && self->picker)
        {
          /* Without the fast extension a choke drops our requests silently. */
          te_picker_peer_gone (self->picker, slot);
          slot->n_requests = 0;
        }
      return TRUE;

    case TE_WIRE_UNCHOKE:
      slot->peer_choking = FALSE;
      _te_torrent_fill_requests (self, slot);
      return TRUE;

    case TE_WIRE_INTERESTED:
      slot->peer_interested = TRUE;
      maybe_unchoke (self, slot);
      return TRUE;

    case TE_WIRE_NOT_INTERESTED:
      slot->peer_interested = FALSE;
      return TRUE;

    case TE_WIRE_HAVE:
      return handle_have (self, slot, msg);

    case TE_WIRE_BITFIELD:
      if (!handle_bitfield (self, slot, msg))
        return FALSE;
      _te_torrent_update_interest (self, slot);
      if (_te_torrent_is_seeding (self) && _te_torrent_peer_is_seed (self, slot))
        {
          te_peer_close (slot->peer, "both are seeds");
          return FALSE;
        }
      return TRUE;

    case TE_WIRE_HAVE_ALL:
    case TE_WIRE_HAVE_NONE:
      if (!slot->fast)
        return _te_torrent_protocol_error (self, slot, "fast-extension message without the extension", TRUE);
      if (slot->has != NULL && self->metainfo != NULL && !slot->has_all)
        {
          /* aria2 says "have all" when it completes, after bitfields and HAVEs. */
          for (guint p = 0; msg->id == TE_WIRE_HAVE_ALL && p < te_bitfield_size (slot->has); p++)
            if (!te_bitfield_get (slot->has, p))
              {
                TeWireMsg have = { .id = TE_WIRE_HAVE, .index = p };

                if (!handle_have (self, slot, &have))
                  return FALSE;
              }
          return TRUE;
        }
      if (slot->has_all || slot->early_bitfield != NULL)
        return _te_torrent_protocol_error (self, slot, "a second bitfield", TRUE);
      if (msg->id == TE_WIRE_HAVE_ALL)
        slot->has_all = TRUE;
      else if (self->metainfo)
        slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
      if (self->metainfo && self->state != TE_TORRENT_STATE_CHECKING)
        count_availability (self, slot);
      _te_torrent_update_interest (self, slot);
      if (_te_torrent_is_seeding (self) && _te_torrent_peer_is_seed (self, slot))
        {
          te_peer_close (slot->peer, "both are seeds");
          return FALSE;
        }
      return TRUE;

    case TE_WIRE_REQUEST:
      return _te_torrent_handle_request (self, slot, msg);

    case TE_WIRE_CANCEL:
      _te_torrent_handle_cancel (slot, msg);
      return TRUE;

    case TE_WIRE_PIECE:
      if (self->metainfo == NULL || self->picker == NULL)
        return _te_torrent_protocol_error (self, slot, "piece data before metadata", TRUE);
      return handle_piece (self, slot, msg);

    case TE_WIRE_REJECT:
      if (!slot->fast)
        return _te_torrent_protocol_error (self, slot, "reject without the fast extension", TRUE);
      if (self->picker && take_request (slot, msg->index, msg->begin, NULL))
        {
          te_picker_cancel_block (self->picker, slot, msg->index, msg->begin);
          _te_torrent_fill_requests (self, slot);
        }
      return TRUE;

    case TE_WIRE_ALLOWED_FAST:
      if (self->metainfo == NULL)
        return TRUE;
      if (msg->index >= te_metainfo_get_n_pieces (self->metainfo))
        return _te_torrent_protocol_error (self, slot, "allowed-fast outside the torrent", TRUE);
      if (slot->allowed_fast == NULL)
        slot->allowed_fast = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
      te_bitfield_set (slot->allowed_fast, msg->index, TRUE);
      _te_torrent_fill_requests (self, slot);
      return TRUE;

    case TE_WIRE_SUGGEST:
    case TE_WIRE_PORT:
      return TRUE;

    case TE_WIRE_EXTENDED:
      return _te_torrent_handle_extended (self, slot, msg);

    case TE_WIRE_HASH_REQUEST:
      _te_torrent_serve_hashes (self, slot, msg);
      return TRUE;

    case TE_WIRE_HASHES:
    case TE_WIRE_HASH_REJECT:
      return _te_torrent_handle_hashes (self, slot, msg);

    default:
      return _te_torrent_protocol_error (self, slot, "unknown message", TRUE);
    }
}

void
_te_torrent_check_timeouts (TeTorrent *self,
                            PeerSlot  *slot,
                            gint64     now)
{
  gint64 timeout = slot->srtt_us > 0
                   ? (gint64) CLAMP (2 * slot->srtt_us + 4 * slot->rttvar_us,
                                     4 * G_USEC_PER_SEC, 60 * G_USEC_PER_SEC)
                   : 20 * G_USEC_PER_SEC;

  if (now - te_peer_get_last_received (slot->peer) > IDLE_US)
    {
      te_peer_close (slot->peer, "idle");
      return;
    }
  if (now - te_peer_get_last_received (slot->peer) > KEEPALIVE_US)
    te_peer_send_keepalive (slot->peer);

  if (self->picker == NULL)
    return;
  if (slot->n_requests > 0 && slot->last_block_us > 0 && now - slot->last_block_us > SNUB_US)
    slot->snubbed = TRUE;

  /* Oldest first: requests are kept in the order they were sent. */
  while (slot->n_requests > 0 && now - slot->requests[0].sent_us > timeout)
    cancel_request (self, slot, 0);
  _te_torrent_fill_requests (self, slot);
}
