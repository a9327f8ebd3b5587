/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* Downloading from one torrent's peers: the requests we keep in flight per
 * peer, cancels, piece data into pooled buffers, writes to disk and their
 * verification, and pausing reads while the disk or the rate limit lags. */

#define MIN_PIPELINE      32
#define PIPELINE_SECONDS  3

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

gboolean
_te_torrent_take_request (PeerSlot *slot,
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

void
_te_torrent_cancel_request (TeTorrent *self,
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
  GBytes    *data;       /* kept to write again when no descriptor was left */
} WriteOp;

static void piece_written_cb (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data);

static void
write_op_free (WriteOp *op)
{
  g_ptr_array_unref (op->contributors);
  g_bytes_unref (op->data);
  g_object_unref (op->torrent);
  g_free (op);
}

static void
write_piece (TeTorrent *self,
             WriteOp   *op)
{
  self->writes_pending += op->size;
  writes_changed (self);
  te_storage_write_piece_async (self->storage, op->piece, op->data, self->cancellable,
                                piece_written_cb, op);
}

static gboolean
write_again_cb (gpointer user_data)
{
  WriteOp *op = user_data;
  TeTorrent *self = op->torrent;

  self->writes_pending -= op->size;
  if (self->metainfo != NULL)
    writes_changed (self);
  if (self->engine != NULL && self->picker != NULL && self->storage != NULL
      && op->error_serial == self->error_serial && !g_cancellable_is_cancelled (self->cancellable))
    {
      write_piece (self, op);
      return G_SOURCE_REMOVE;
    }
  if (self->picker != NULL)
    te_picker_piece_failed (self->picker, op->piece);
  write_op_free (op);
  return G_SOURCE_REMOVE;
}

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
  if (!te_storage_write_piece_finish (TE_STORAGE (source), result, &valid, &error)
      && g_error_matches (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_NO_DESCRIPTORS)
      && self->engine && self->picker && op->error_serial == self->error_serial)
    {
      /* The piece waits in memory (the write backlog still counts it, so
       * reading from peers pauses if many do) until a descriptor is free. */
      guint wait = _te_torrent_descriptor_wait (self, g_steal_pointer (&error));

      self->writes_pending += op->size;
      writes_changed (self);
      g_timeout_add (wait, write_again_cb, op);
      return;
    }
  if (error != NULL)
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
  write_op_free (op);
}

gboolean
_te_torrent_handle_piece (TeTorrent       *self,
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

  if (!_te_torrent_take_request (slot, msg->index, msg->begin, &sent_us))
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
      op->data = data;
      g_hash_table_remove (self->pieces, GUINT_TO_POINTER (msg->index));
      write_piece (self, op);
    }

  _te_torrent_fill_requests (self, slot);
  return TRUE;
}
