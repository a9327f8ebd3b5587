/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* A torrent's life: metadata (from a .torrent or fetched for a magnet), a check
 * of the data on disk, then downloading and seeding. Peers, wire messages and
 * extension messages live in te-torrent-peers.c, te-torrent-wire.c and
 * te-torrent-ext.c. */

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_METADATA,
  SIGNAL_PIECE_COMPLETED,
  SIGNAL_COMPLETED,
  SIGNAL_ERROR,
  SIGNAL_PEER_CONNECTED,
  SIGNAL_PEER_DISCONNECTED,
  SIGNAL_STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeTorrent, te_torrent, G_TYPE_OBJECT)

static void
known_peer_free (gpointer data)
{
  KnownPeer *k = data;

  g_clear_object (&k->address);
  g_free (k->key);
  g_free (k);
}

static void
piece_buf_free (gpointer data)
{
  PieceBuf *pb = data;

  g_free (pb->data);
  g_ptr_array_unref (pb->contributors);
  g_free (pb);
}

static void
te_torrent_dispose (GObject *object)
{
  TeTorrent *self = TE_TORRENT (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->throttle_id, g_source_remove);
  g_clear_handle_id (&self->upload_throttle_id, g_source_remove);
  if (self->peers)
    _te_torrent_drop_all_peers (self, "torrent removed");
  if (self->announcer)
    te_announcer_stop (self->announcer);
  g_clear_object (&self->announcer);
  g_clear_object (&self->storage);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (te_torrent_parent_class)->dispose (object);
}

static void
te_torrent_finalize (GObject *object)
{
  TeTorrent *self = TE_TORRENT (object);

  _te_torrent_cache_clear (self);
  g_clear_pointer (&self->peers, g_ptr_array_unref);
  g_clear_pointer (&self->known, g_hash_table_unref);
  g_clear_pointer (&self->pieces, g_hash_table_unref);
  g_clear_pointer (&self->buffers, _te_buffer_pool_unref);
  g_clear_pointer (&self->reads, g_hash_table_unref);
  g_clear_pointer (&self->file_priorities, g_hash_table_unref);
  g_clear_pointer (&self->layer_fetches, g_ptr_array_unref);
  g_clear_pointer (&self->super_seed, te_super_seed_free);
  g_clear_pointer (&self->magnet_trackers, g_ptr_array_unref);
  g_clear_pointer (&self->picker, te_picker_free);
  g_clear_pointer (&self->choker, te_choker_free);
  g_clear_pointer (&self->have, te_bitfield_free);
  g_clear_pointer (&self->wanted, te_bitfield_free);
  g_clear_pointer (&self->metadata_have, te_bitfield_free);
  g_clear_object (&self->metainfo);
  g_clear_error (&self->error);
  g_free (self->metadata);
  g_free (self->metadata_requested);
  g_free (self->save_path);
  g_free (self->name);

  G_OBJECT_CLASS (te_torrent_parent_class)->finalize (object);
}

static void
te_torrent_class_init (TeTorrentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_torrent_dispose;
  object_class->finalize = te_torrent_finalize;

  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_METADATA] =
    g_signal_new ("metadata-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PIECE_COMPLETED] =
    g_signal_new ("piece-completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_COMPLETED] =
    g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIGNAL_PEER_CONNECTED] =
    g_signal_new ("peer-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, TE_TYPE_PEER);
  /**
   * TeTorrent::stopped:
   *
   * After te_torrent_pause(): the trackers have been told we left (or gave no
   * answer in time). A program may exit now without leaving ghosts in swarms.
   */
  signals[SIGNAL_STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PEER_DISCONNECTED] =
    g_signal_new ("peer-disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 2, TE_TYPE_PEER, G_TYPE_STRING);
}

static void
te_torrent_init (TeTorrent *self)
{
  self->peers = g_ptr_array_new_with_free_func (g_object_unref);
  self->known = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, known_peer_free);
  self->pieces = g_hash_table_new_full (NULL, NULL, NULL, piece_buf_free);
  self->reads = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);
  self->file_priorities = g_hash_table_new (NULL, NULL);
  self->magnet_trackers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->choker = te_choker_new (4);
  self->cancellable = g_cancellable_new ();
  te_token_bucket_init (&self->down_bucket, 0);
  te_token_bucket_init (&self->up_bucket, 0);
}

TeTorrent *
_te_torrent_new (TeEngine   *engine,
                 const char *save_path)
{
  TeTorrent *self = g_object_new (TE_TYPE_TORRENT, NULL);

  self->engine = engine;
  self->save_path = g_strdup (save_path);
  return self;
}

const char *
te_torrent_state_to_string (TeTorrentState state)
{
  switch (state)
    {
    case TE_TORRENT_STATE_PENDING: return "pending";
    case TE_TORRENT_STATE_CHECKING: return "checking";
    case TE_TORRENT_STATE_DOWNLOADING: return "downloading";
    case TE_TORRENT_STATE_SEEDING: return "seeding";
    case TE_TORRENT_STATE_PAUSED: return "paused";
    case TE_TORRENT_STATE_ERROR: return "error";
    default: return "unknown";
    }
}

void
_te_torrent_set_state (TeTorrent      *self,
                       TeTorrentState  state)
{
  if (self->state == state)
    return;
  g_debug ("%s: %s → %s", self->name, te_torrent_state_to_string (self->state),
           te_torrent_state_to_string (state));
  self->state = state;
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

/* Takes @error. */
void
_te_torrent_fail (TeTorrent *self,
                  GError    *error)
{
  g_warning ("%s: %s", self->name, error->message);
  g_clear_error (&self->error);
  self->error = error;
  _te_torrent_drop_all_peers (self, error->message);
  _te_torrent_set_state (self, TE_TORRENT_STATE_ERROR);
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

gboolean
_te_torrent_is_seeding (TeTorrent *self)
{
  return self->state == TE_TORRENT_STATE_SEEDING;
}

void
_te_torrent_strike (TeTorrent  *self,
                    const char *host,
                    const char *reason)
{
  TeBanManager *bans = _te_engine_get_bans (self->engine);

  if (te_ban_manager_strike (bans, host, reason, g_get_monotonic_time ()))
    {
      g_message ("%s: banned %s: %s", self->name, host, reason);
      for (guint i = self->peers->len; i > 0; i--)
        {
          TePeer *peer = g_ptr_array_index (self->peers, i - 1);

          if (g_strcmp0 (te_peer_get_host_string (peer), host) == 0)
            te_peer_close (peer, "banned");
        }
    }
}

/* Metadata and checking */

static guint32
piece_size_cb (guint    piece,
               gpointer user_data)
{
  return te_metainfo_get_piece_size (TE_METAINFO (user_data), piece);
}

static TePriority
file_priority (TeTorrent *self,
               guint      index)
{
  gpointer v = g_hash_table_lookup (self->file_priorities, GUINT_TO_POINTER (index));

  return v ? (TePriority) (GPOINTER_TO_UINT (v) - 1) : TE_PRIORITY_NORMAL;
}

/* A piece takes the highest priority of the files with bytes in it; it is
 * wanted when any of them is. */
static void
apply_priorities (TeTorrent *self)
{
  TeMetainfo *meta = self->metainfo;
  guint n = te_metainfo_get_n_pieces (meta);
  guint64 pl = te_metainfo_get_piece_length (meta);
  g_autofree guint8 *prio = g_malloc0 (n);

  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      TePriority p = file_priority (self, i);

      if (f->length == 0 || (f->attrs & TE_FILE_ATTR_PAD) || p == TE_PRIORITY_SKIP)
        continue;
      /* v2 only, layer not fetched yet: its pieces could not be verified. */
      if (!te_metainfo_has_v1 (meta) && !_te_torrent_file_has_hashes (self, i))
        continue;
      for (guint64 piece = f->offset / pl; piece <= (f->offset + f->length - 1) / pl && piece < n; piece++)
        prio[piece] = MAX (prio[piece], (guint8) p);
    }
  g_clear_pointer (&self->wanted, te_bitfield_free);
  self->wanted = te_bitfield_new (n);
  for (guint p = 0; p < n; p++)
    {
      te_picker_set_priority (self->picker, p, (TePriority) prio[p]);
      if (prio[p] != TE_PRIORITY_SKIP)
        te_bitfield_set (self->wanted, p, TRUE);
    }
  self->bytes_dirty = TRUE;
}

static void
update_completion (TeTorrent *self)
{
  if (self->state == TE_TORRENT_STATE_PAUSED || self->state == TE_TORRENT_STATE_ERROR
      || self->picker == NULL)
    return;
  /* Pieces held back until their v2 layer arrives are still to come. */
  if (te_picker_is_complete (self->picker)
      && (self->layer_fetches == NULL || self->layer_fetches->len == 0))
    {
      if (self->state != TE_TORRENT_STATE_SEEDING)
        {
          gboolean was_downloading = self->state == TE_TORRENT_STATE_DOWNLOADING;

          _te_torrent_set_state (self, TE_TORRENT_STATE_SEEDING);
          if (was_downloading && self->announcer)
            te_announcer_completed (self->announcer);
          g_signal_emit (self, signals[SIGNAL_COMPLETED], 0);
        }
    }
  else
    _te_torrent_set_state (self, TE_TORRENT_STATE_DOWNLOADING);
}

static void
announcer_peers_cb (TeAnnouncer *announcer,
                    GPtrArray   *peers,
                    const char  *url,
                    gpointer     user_data)
{
  TeTorrent *self = user_data;

  for (guint i = 0; i < peers->len; i++)
    _te_torrent_learn_peer (self, g_ptr_array_index (peers, i));
  _te_torrent_connect_more (self);
}

static void
ensure_announcer (TeTorrent *self)
{
  GPtrArray *tiers = self->metainfo ? te_metainfo_get_tiers (self->metainfo) : self->magnet_trackers;

  if (self->announcer != NULL || tiers->len == 0)
    return;
  self->announcer = te_announcer_new (_te_engine_get_soup_session (self->engine), tiers,
                                      self->info_hash, te_engine_get_peer_id (self->engine),
                                      te_engine_get_port (self->engine));
  g_signal_connect (self->announcer, "peers", G_CALLBACK (announcer_peers_cb), self);
}

static void
update_announcer_stats (TeTorrent *self)
{
  guint64 left = 0;

  if (self->announcer == NULL)
    return;
  if (self->metainfo)
    left = self->stats.wanted_bytes > self->stats.have_bytes
           ? self->stats.wanted_bytes - self->stats.have_bytes : 0;
  else
    left = G_MAXINT64;
  te_announcer_set_stats (self->announcer, self->stats.uploaded, self->stats.downloaded, left);
}

static void
recompute_stats (TeTorrent *self,
                 gint64     now)
{
  TeTorrentStats *s = &self->stats;
  double secs = self->last_tick_us ? (now - self->last_tick_us) / (double) G_USEC_PER_SEC : 1.0;

  s->peers_connected = 0;
  s->seeds_connected = 0;
  for (guint i = 0; i < self->peers->len; i++)
    {
      TePeer *peer = g_ptr_array_index (self->peers, i);
      PeerSlot *slot = te_peer_get_owner_data (peer);

      if (slot == NULL || te_peer_get_state (peer) != TE_PEER_ACTIVE)
        continue;
      s->peers_connected++;
      if (slot->has_all || (slot->has && te_bitfield_is_full (slot->has)))
        s->seeds_connected++;
      if (secs > 0.05)
        {
          /* A short moving average: responsive, but not jumpy. */
          guint64 d = (guint64) ((slot->down_payload - slot->down_sample) / secs);
          guint64 u = (guint64) ((slot->up_payload - slot->up_sample) / secs);

          slot->down_rate = (slot->down_rate + 3 * d) / 4;
          slot->up_rate = (slot->up_rate + 3 * u) / 4;
          slot->down_sample = slot->down_payload;
          slot->up_sample = slot->up_payload;
        }
    }
  if (secs > 0.05)
    {
      s->download_rate = (s->download_rate + 3 * (guint64) ((s->downloaded - self->down_total_sample) / secs)) / 4;
      s->upload_rate = (s->upload_rate + 3 * (guint64) ((s->uploaded - self->up_total_sample) / secs)) / 4;
      self->down_total_sample = s->downloaded;
      self->up_total_sample = s->uploaded;
    }
  s->peers_known = g_hash_table_size (self->known);

  if (self->metainfo && self->have)
    {
      TeMetainfo *meta = self->metainfo;
      guint n = te_metainfo_get_n_pieces (meta);

      s->pieces_total = n;
      s->pieces_have = te_bitfield_count (self->have);
      /* Bytes: exact enough for progress (pad bytes counted as data). They
       * change only when a piece verifies, after a check, or when priorities
       * do, so the walk over every piece happens then, not every second. */
      if (!self->bytes_dirty)
        return;
      self->bytes_dirty = FALSE;
      s->have_bytes = 0;
      s->wanted_bytes = 0;
      for (guint p = 0; p < n; p++)
        {
          guint32 size = te_metainfo_get_piece_size (meta, p);
          gboolean has = te_bitfield_get (self->have, p);

          if (has)
            s->have_bytes += size;
          if (has || te_bitfield_get (self->wanted, p))
            s->wanted_bytes += size;
        }
    }
}

static gboolean
tick_cb (gpointer user_data)
{
  TeTorrent *self = user_data;
  gint64 now = g_get_monotonic_time ();

  recompute_stats (self, now);
  self->last_tick_us = now;

  for (guint i = self->peers->len; i > 0; i--)
    {
      TePeer *peer = g_ptr_array_index (self->peers, i - 1);
      PeerSlot *slot = te_peer_get_owner_data (peer);

      if (slot != NULL && te_peer_get_state (peer) == TE_PEER_ACTIVE)
        _te_torrent_check_timeouts (self, slot, now);
    }
  if (++self->choke_round % 10 == 0)
    _te_torrent_rechoke (self);
  _te_torrent_pex_tick (self, now);
  _te_torrent_hashes_tick (self);
  _te_torrent_connect_more (self);
  update_announcer_stats (self);
  return G_SOURCE_CONTINUE;
}

static void
start_running (TeTorrent *self)
{
  if (self->tick_id == 0)
    self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  ensure_announcer (self);
  if (self->announcer)
    te_announcer_start (self->announcer);
  _te_torrent_connect_more (self);
}

static void
rechecked_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TeTorrent) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeRecheckResult) r = te_storage_recheck_finish (TE_STORAGE (source), result, &error);

  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _te_torrent_fail (self, g_steal_pointer (&error));
      return;
    }
  te_bitfield_free (self->have);
  self->have = te_bitfield_copy (r->have);
  te_picker_set_have (self->picker, self->have);
  self->bytes_dirty = TRUE;
  recompute_stats (self, g_get_monotonic_time ());
  if (self->state == TE_TORRENT_STATE_PAUSED)
    {
      self->state_before_pause = TE_TORRENT_STATE_DOWNLOADING;
      return;
    }
  _te_torrent_set_state (self, TE_TORRENT_STATE_DOWNLOADING);
  update_completion (self);
  _te_torrent_announce_pieces (self);
  start_running (self);
}

/**
 * _te_torrent_metadata_ready:
 *
 * The torrent knows its files now (from a .torrent, or fetched for a magnet):
 * set up storage and the picker, then check what is already on disk.
 */
void
_te_torrent_metadata_ready (TeTorrent  *self,
                            TeMetainfo *metainfo)
{
  guint n = te_metainfo_get_n_pieces (metainfo);

  g_set_object (&self->metainfo, metainfo);
  g_free (self->name);
  self->name = g_strdup (te_metainfo_get_name (metainfo));
  self->has_v1_hash = te_metainfo_has_v1 (metainfo);
  self->has_v2_hash = te_metainfo_has_v2 (metainfo);
  if (self->has_v1_hash)
    memcpy (self->info_hash, te_metainfo_get_info_hash (metainfo), 20);
  else
    memcpy (self->info_hash, te_metainfo_get_info_hash_v2 (metainfo), 20);
  if (self->has_v2_hash)
    memcpy (self->info_hash_v2, te_metainfo_get_info_hash_v2 (metainfo), 32);
  self->private = te_metainfo_is_private (metainfo);

  self->storage = te_storage_new (metainfo, self->save_path, TE_STORAGE_FLAGS_NONE);
  self->have = te_bitfield_new (n);
  self->picker = te_picker_new (n, piece_size_cb, metainfo);
  te_picker_set_sequential (self->picker, self->sequential);
  _te_torrent_start_layer_fetch (self);
  apply_priorities (self);
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot != NULL)
        {
          te_peer_set_max_message (slot->peer, MAX (n / 8 + 16, 128 * 1024 + 64));
          _te_torrent_apply_early_bitfield (self, slot);
        }
    }
  g_signal_emit (self, signals[SIGNAL_METADATA], 0);

  if (self->state != TE_TORRENT_STATE_PAUSED)
    _te_torrent_set_state (self, TE_TORRENT_STATE_CHECKING);
  te_storage_recheck_async (self->storage, NULL, NULL, self->cancellable, rechecked_cb,
                            g_object_ref (self));
}

/* Pieces */

void
_te_torrent_piece_verified (TeTorrent *self,
                            guint      piece)
{
  te_bitfield_set (self->have, piece, TRUE);
  self->bytes_dirty = TRUE;
  te_picker_piece_verified (self->picker, piece);
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot == NULL || !slot->handshaken)
        continue;
      if (!self->super_seeding)
        te_peer_send_index (slot->peer, TE_WIRE_HAVE, piece);
      if (slot->interesting > 0 && (slot->has_all || (slot->has && te_bitfield_get (slot->has, piece))))
        {
          slot->interesting--;
          _te_torrent_update_interest (self, slot);
        }
    }
  g_signal_emit (self, signals[SIGNAL_PIECE_COMPLETED], 0, piece);
  update_completion (self);
}

/* Public API */

TeTorrentState
te_torrent_get_state (TeTorrent *self)
{
  return self->state;
}

TeMetainfo *
te_torrent_get_metainfo (TeTorrent *self)
{
  return self->metainfo;
}

const char *
te_torrent_get_name (TeTorrent *self)
{
  return self->name;
}

const char *
te_torrent_get_save_path (TeTorrent *self)
{
  return self->save_path;
}

const GError *
te_torrent_get_error (TeTorrent *self)
{
  return self->error;
}

void
te_torrent_get_stats (TeTorrent      *self,
                      TeTorrentStats *stats)
{
  *stats = self->stats;
  /* Counts that are cheap stay exact between the once-a-second refreshes. */
  if (self->have)
    stats->pieces_have = te_bitfield_count (self->have);
}

const TeBitfield *
te_torrent_get_have (TeTorrent *self)
{
  return self->have;
}

gboolean
te_torrent_is_complete (TeTorrent *self)
{
  return self->picker != NULL && self->state != TE_TORRENT_STATE_CHECKING
         && te_picker_is_complete (self->picker)
         && (self->layer_fetches == NULL || self->layer_fetches->len == 0);
}

void
te_torrent_start (TeTorrent *self)
{
  if (self->state == TE_TORRENT_STATE_PAUSED)
    {
      _te_torrent_set_state (self, self->state_before_pause);
      if (self->state == TE_TORRENT_STATE_DOWNLOADING || self->state == TE_TORRENT_STATE_SEEDING)
        update_completion (self);
    }
  if (self->state == TE_TORRENT_STATE_PENDING || self->state == TE_TORRENT_STATE_DOWNLOADING
      || self->state == TE_TORRENT_STATE_SEEDING)
    start_running (self);
}

static void
announcer_stopped_cb (TeTorrent *self)
{
  g_signal_emit (self, signals[SIGNAL_STOPPED], 0);
}

static gboolean
emit_stopped_idle (gpointer data)
{
  g_signal_emit (TE_TORRENT (data), signals[SIGNAL_STOPPED], 0);
  return G_SOURCE_REMOVE;
}

void
te_torrent_pause (TeTorrent *self)
{
  if (self->state == TE_TORRENT_STATE_PAUSED)
    return;
  self->state_before_pause = self->state;
  _te_torrent_set_state (self, TE_TORRENT_STATE_PAUSED);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  _te_torrent_drop_all_peers (self, "paused");
  if (self->announcer && te_announcer_is_running (self->announcer))
    {
      /* The announcer lives on until its "stopped" announces are answered. */
      g_signal_connect_object (self->announcer, "stopped", G_CALLBACK (announcer_stopped_cb),
                               self, G_CONNECT_SWAPPED);
      te_announcer_stop (self->announcer);
    }
  else
    g_idle_add_full (G_PRIORITY_DEFAULT, emit_stopped_idle, g_object_ref (self), g_object_unref);
  g_clear_object (&self->announcer);
}

void
te_torrent_set_sequential (TeTorrent *self,
                           gboolean   sequential)
{
  self->sequential = sequential;
  if (self->picker)
    te_picker_set_sequential (self->picker, sequential);
}

void
_te_torrent_priorities_changed (TeTorrent *self)
{
  if (self->picker == NULL)
    return;
  apply_priorities (self);
  update_completion (self);
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (slot && slot->handshaken && self->have)
        _te_torrent_recount_interest (self, slot);
    }
}

void
te_torrent_set_file_priority (TeTorrent  *self,
                              guint       file_index,
                              TePriority  priority)
{
  g_return_if_fail (priority <= TE_PRIORITY_HIGH);
  g_hash_table_insert (self->file_priorities, GUINT_TO_POINTER (file_index),
                       GUINT_TO_POINTER (priority + 1));
  _te_torrent_priorities_changed (self);
}

void
te_torrent_set_file_wanted (TeTorrent *self,
                            guint      file_index,
                            gboolean   wanted)
{
  te_torrent_set_file_priority (self, file_index, wanted ? TE_PRIORITY_NORMAL : TE_PRIORITY_SKIP);
}

void
te_torrent_set_limits (TeTorrent *self,
                       guint64    download,
                       guint64    upload)
{
  te_token_bucket_set_rate (&self->down_bucket, download);
  te_token_bucket_set_rate (&self->up_bucket, upload);
}

/**
 * te_torrent_set_super_seeding:
 *
 * BEP 16: while seeding, each peer is shown one rare piece at a time instead
 * of the whole bitfield, so a new torrent spreads with little upload. Takes
 * effect for peers that connect afterwards.
 */
void
te_torrent_set_super_seeding (TeTorrent *self,
                              gboolean   enabled)
{
  self->super_seeding = enabled;
}

/**
 * te_torrent_add_peer:
 *
 * A peer to try, as if a tracker had named it (Transmission does not dial
 * loopback peers itself, so tests hand them over this way).
 */
void
te_torrent_add_peer (TeTorrent          *self,
                     GInetSocketAddress *address)
{
  _te_torrent_learn_peer (self, address);
  if (self->state != TE_TORRENT_STATE_PAUSED && self->state != TE_TORRENT_STATE_ERROR
      && self->state != TE_TORRENT_STATE_CHECKING)
    _te_torrent_connect_more (self);
}
