/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-engine-private.h"
#include "te-hash.h"
#include "te-torrent-private.h"

/* A torrent's life: metadata (from a .torrent or fetched for a magnet), a check
 * of the data on disk, then downloading and seeding. Checks and file
 * priorities live in te-torrent-check.c, the public controls in
 * te-torrent-control.c, peers, wire messages and extension messages in
 * te-torrent-peers.c, te-torrent-wire.c and te-torrent-ext.c. */

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

void
_te_piece_buf_free (gpointer data)
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
  g_clear_handle_id (&self->throttle_id, g_source_remove);
  g_clear_handle_id (&self->upload_throttle_id, g_source_remove);
  g_clear_handle_id (&self->disk_retry_id, g_source_remove);
  g_clear_handle_id (&self->serve_retry_id, g_source_remove);
  g_clear_handle_id (&self->check_retry_id, g_source_remove);
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
  g_clear_pointer (&self->tracker_tiers, g_ptr_array_unref);
  g_clear_pointer (&self->picker, te_picker_free);
  g_clear_pointer (&self->choker, te_choker_free);
  g_clear_pointer (&self->have, te_bitfield_free);
  g_clear_pointer (&self->restored, te_bitfield_free);
  g_clear_pointer (&self->watched_have, te_bitfield_free);
  g_clear_pointer (&self->wanted, te_bitfield_free);
  g_clear_pointer (&self->metadata_have, te_bitfield_free);
  g_clear_object (&self->metainfo);
  g_clear_error (&self->error);
  g_clear_pointer (&self->error_event, te_error_event_free);
  g_clear_pointer (&self->last_trackers, g_ptr_array_unref);
  g_clear_pointer (&self->torrent_bytes, g_bytes_unref);
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

  object_class->get_property = _te_torrent_get_property;
  _te_torrent_install_properties (object_class);

  /**
   * TeTorrent::state-changed:
   * @from: the state before
   * @to: the state now
   */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, TE_TYPE_TORRENT_STATE, TE_TYPE_TORRENT_STATE);
  signals[SIGNAL_METADATA] =
    g_signal_new ("metadata-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PIECE_COMPLETED] =
    g_signal_new ("piece-completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_COMPLETED] =
    g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  /**
   * TeTorrent::error:
   * @event: what happened and what the engine did about it
   *
   * Every error: those the engine recovers from by itself (a tracker down, a
   * bad peer, a piece that failed its hash) and those that stop the torrent
   * (see #TeErrorEvent.action).
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, TE_TYPE_ERROR_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
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
  self->magnet_trackers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->choker = te_choker_new (4);
  self->cancellable = g_cancellable_new ();
  self->queued = TRUE;
  self->seed_ratio = -1;
  self->seed_time_ms = -1;
  self->added_at = g_get_real_time () / G_USEC_PER_SEC;
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

G_DEFINE_ENUM_TYPE (TeTorrentState, te_torrent_state,
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_PENDING, "pending"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_CHECKING, "checking"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_QUEUED, "queued"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_DOWNLOADING, "downloading"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_SEEDING, "seeding"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_PAUSED, "paused"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_ERROR, "error"),
  G_DEFINE_ENUM_VALUE (TE_TORRENT_STATE_COMPLETE, "complete"))

G_DEFINE_ENUM_TYPE (TeQueuePriority, te_queue_priority,
  G_DEFINE_ENUM_VALUE (TE_QUEUE_PRIORITY_LOW, "low"),
  G_DEFINE_ENUM_VALUE (TE_QUEUE_PRIORITY_NORMAL, "normal"),
  G_DEFINE_ENUM_VALUE (TE_QUEUE_PRIORITY_HIGH, "high"))

static const char *
enum_nick (GType type,
           gint  value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);

  g_type_class_unref (klass);  /* static types: the class stays */
  return v ? v->value_nick : "unknown";
}

static gboolean
enum_from_nick (GType       type,
                const char *nick,
                gint       *value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = nick ? g_enum_get_value_by_nick (klass, nick) : NULL;

  g_type_class_unref (klass);
  if (v)
    *value = v->value;
  return v != NULL;
}

const char *
te_torrent_state_to_string (TeTorrentState state)
{
  return enum_nick (TE_TYPE_TORRENT_STATE, state);
}

gboolean
te_torrent_state_from_string (const char     *name,
                              TeTorrentState *state)
{
  gint v;

  if (!enum_from_nick (TE_TYPE_TORRENT_STATE, name, &v))
    return FALSE;
  *state = v;
  return TRUE;
}

const char *
te_queue_priority_to_string (TeQueuePriority priority)
{
  return enum_nick (TE_TYPE_QUEUE_PRIORITY, priority);
}

gboolean
te_queue_priority_from_string (const char      *name,
                               TeQueuePriority *priority)
{
  gint v;

  if (!enum_from_nick (TE_TYPE_QUEUE_PRIORITY, name, &v))
    return FALSE;
  *priority = v;
  return TRUE;
}

/* The state follows from a few facts; running (peers, trackers, the tick)
 * follows from the state. Everything that changes a fact calls
 * _te_torrent_update_state(). */

static gboolean
have_everything (TeTorrent *self)
{
  /* Pieces held back until their v2 layer arrives are still to come. */
  return self->picker != NULL && te_picker_is_complete (self->picker)
         && (self->layer_fetches == NULL || self->layer_fetches->len == 0);
}

static TeTorrentState
derive_state (TeTorrent *self)
{
  if (self->error)
    return TE_TORRENT_STATE_ERROR;
  if (self->checking)
    return TE_TORRENT_STATE_CHECKING;
  if (self->user_paused)
    return TE_TORRENT_STATE_PAUSED;
  if (self->metainfo == NULL)
    return self->queued ? TE_TORRENT_STATE_QUEUED : TE_TORRENT_STATE_PENDING;
  if (have_everything (self))
    {
      if (self->seed_done)
        return TE_TORRENT_STATE_COMPLETE;
      return self->queued ? TE_TORRENT_STATE_QUEUED : TE_TORRENT_STATE_SEEDING;
    }
  return self->queued ? TE_TORRENT_STATE_QUEUED : TE_TORRENT_STATE_DOWNLOADING;
}

static gboolean
should_run (TeTorrent *self)
{
  if (self->error || self->user_paused || self->queued || self->seed_done)
    return FALSE;
  /* A check keeps the peers that brought a magnet's metadata; it never starts
   * anything itself. */
  if (self->checking)
    return self->running;
  return TRUE;
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
announcer_error_cb (TeAnnouncer  *announcer,
                    const char   *url,
                    const GError *error,
                    gpointer      user_data)
{
  TeTorrent *self = user_data;
  const char *code = "failure_reason";

  if (error->domain == TE_TRACKER_ERROR)
    switch (error->code)
      {
      case TE_TRACKER_ERROR_HTTP_STATUS: code = "http_status"; break;
      case TE_TRACKER_ERROR_TIMEOUT: code = "timeout"; break;
      case TE_TRACKER_ERROR_DNS: code = "dns"; break;
      case TE_TRACKER_ERROR_NETWORK: code = "network"; break;
      case TE_TRACKER_ERROR_BAD_REPLY: code = "bad_reply"; break;
      default: break;
      }
  _te_torrent_report (self, te_error_event_new (TE_ERROR_CATEGORY_TRACKER, code, error->message, url));
}

static void
ensure_announcer (TeTorrent *self)
{
  GPtrArray *tiers = _te_torrent_get_tiers (self);

  if (self->announcer != NULL || tiers->len == 0)
    return;
  self->announcer = te_announcer_new (_te_engine_get_soup_session (self->engine), tiers,
                                      self->info_hash, te_engine_get_peer_id (self->engine),
                                      te_engine_get_port (self->engine));
  g_signal_connect (self->announcer, "peers", G_CALLBACK (announcer_peers_cb), self);
  g_signal_connect (self->announcer, "tracker-error", G_CALLBACK (announcer_error_cb), self);
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
start_running (TeTorrent *self)
{
  self->running = TRUE;
  self->running_since_us = g_get_monotonic_time ();
  ensure_announcer (self);
  if (self->announcer)
    {
      update_announcer_stats (self);
      te_announcer_start (self->announcer);
    }
  _te_torrent_connect_more (self);
}

static void
announcer_stopped_cb (TeTorrent *self)
{
  g_signal_emit (self, signals[SIGNAL_STOPPED], 0);
}

gboolean
_te_torrent_emit_stopped_idle (gpointer data)
{
  g_signal_emit (TE_TORRENT (data), signals[SIGNAL_STOPPED], 0);
  return G_SOURCE_REMOVE;
}

/* The tracker list changed: retire the announcer (its `stopped` announces go
 * out on their own) and, when running, start one on the new list. */
void
_te_torrent_reset_announcer (TeTorrent *self)
{
  if (self->announcer)
    {
      g_signal_handlers_disconnect_by_data (self->announcer, self);
      if (te_announcer_is_running (self->announcer))
        te_announcer_stop (self->announcer);
      g_clear_object (&self->announcer);
    }
  if (self->running)
    {
      ensure_announcer (self);
      if (self->announcer)
        {
          update_announcer_stats (self);
          te_announcer_start (self->announcer);
        }
    }
}

void
_te_torrent_stop_running (TeTorrent  *self,
                          const char *reason)
{
  self->running = FALSE;
  _te_torrent_drop_all_peers (self, reason);
  if (self->announcer)
    {
      g_clear_pointer (&self->last_trackers, g_ptr_array_unref);
      self->last_trackers = te_announcer_dup_trackers (self->announcer);
    }
  if (self->announcer && te_announcer_is_running (self->announcer))
    {
      /* The announcer lives on until its "stopped" announces are answered. */
      g_signal_handlers_disconnect_by_data (self->announcer, self);
      g_signal_connect_object (self->announcer, "stopped", G_CALLBACK (announcer_stopped_cb),
                               self, G_CONNECT_SWAPPED);
      te_announcer_stop (self->announcer);
    }
  else
    g_idle_add_full (G_PRIORITY_DEFAULT, _te_torrent_emit_stopped_idle, g_object_ref (self), g_object_unref);
  g_clear_object (&self->announcer);
}

void
_te_torrent_update_state (TeTorrent *self)
{
  TeTorrentState from = self->state;
  TeTorrentState to = derive_state (self);
  gboolean run = should_run (self);

  if (self->running && !run)
    _te_torrent_stop_running (self, te_torrent_state_to_string (to));
  if (from == to)
    {
      if (run && !self->running)
        start_running (self);
      return;
    }
  g_debug ("%s: %s → %s", self->name, te_torrent_state_to_string (from),
           te_torrent_state_to_string (to));
  self->state = to;
  /* Checking and queued are saved as what they lead to: moving through
   * them (thousands at a restart) changes nothing worth writing. */
  if (from != TE_TORRENT_STATE_CHECKING && from != TE_TORRENT_STATE_QUEUED
      && to != TE_TORRENT_STATE_CHECKING && to != TE_TORRENT_STATE_QUEUED)
    self->state_serial++;
  if (to == TE_TORRENT_STATE_SEEDING)
    self->seeding_since_us = g_get_monotonic_time ();
  if (run && !self->running)
    start_running (self);
  _te_torrent_recompute_stats (self, g_get_monotonic_time ());
  /* A handler may remove the torrent and so drop the last reference. */
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, from, to);
  _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_STATE_CHANGED, from, to);
  _te_torrent_publish (self);
  _te_engine_torrent_changed (self->engine, self);

  /* Finishing a download is news; coming back to seeding after a pause is not. */
  if (to == TE_TORRENT_STATE_SEEDING && from == TE_TORRENT_STATE_DOWNLOADING)
    {
      self->completed_at = g_get_real_time () / G_USEC_PER_SEC;
      if (self->announcer)
        te_announcer_completed (self->announcer);
      g_signal_emit (self, signals[SIGNAL_COMPLETED], 0);
      _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_COMPLETED);
    }
  g_object_unref (self);
}

/**
 * _te_torrent_report:
 * @event: (transfer full): an error the engine recovers from by itself
 */
void
_te_torrent_report (TeTorrent    *self,
                    TeErrorEvent *event)
{
  g_debug ("%s: %s error %s: %s", self->name, te_error_category_to_string (event->category),
           event->code, event->message);
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, event);
  _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_ERROR, event);
  g_object_unref (self);
  te_error_event_free (event);
}

/* A storage error: its code says what went wrong (no_space, file_missing…).
 * Running out of descriptors is no error: whoever met it tries again. */
void
_te_torrent_fail_io (TeTorrent *self,
                     GError    *error)
{
  const char *code = te_error_code_from_gerror (error);

  if (g_error_matches (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_NO_DESCRIPTORS))
    {
      _te_torrent_descriptor_wait (self, error);
      return;
    }
  _te_torrent_fail (self, TE_ERROR_CATEGORY_FILESYSTEM, code, error);
}

/**
 * _te_torrent_fail:
 * @error: (transfer full): what stopped the torrent
 *
 * Stops the torrent. Filesystem errors pause it until the user resumes it
 * (and then the data is checked again, since it may have changed), a full
 * disk until it is resumed or tries again by itself; metadata errors end it.
 */
void
_te_torrent_fail (TeTorrent       *self,
                  TeErrorCategory  category,
                  const char      *code,
                  GError          *error)
{
  TeErrorEvent *event;

  /* Writes in flight fail the same way: the first one tells. */
  if (self->error != NULL)
    {
      g_debug ("%s: also %s", self->name, error->message);
      g_error_free (error);
      return;
    }
  event = te_error_event_new (category, code, error->message, self->save_path);
  if (category == TE_ERROR_CATEGORY_FILESYSTEM && g_strcmp0 (code, "no_space") == 0)
    _te_torrent_schedule_disk_retry (self, error, event);
  self->error_serial++;
  /* Not a warning: the event carries it to whoever shows errors. */
  g_message ("%s: %s", self->name, error->message);
  g_clear_error (&self->error);
  self->error = error;
  g_clear_pointer (&self->error_event, te_error_event_free);
  self->error_event = te_error_event_copy (event);
  if (category == TE_ERROR_CATEGORY_FILESYSTEM
      && g_strcmp0 (code, "no_space") != 0 && g_strcmp0 (code, "permission_denied") != 0)
    self->recheck_on_resume = TRUE;
  self->state_serial++;
  g_object_ref (self);
  _te_torrent_update_state (self);
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, event);
  _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_ERROR, event);
  g_object_unref (self);
  te_error_event_free (event);
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

static void
seed_limits_tick (TeTorrent *self,
                  gint64     now)
{
  const TeEngineSettings *settings = te_engine_get_settings (self->engine);
  double ratio_limit = self->seed_ratio >= 0 ? self->seed_ratio : settings->seed_ratio_limit;
  gint64 time_limit_ms = self->seed_time_ms >= 0 ? self->seed_time_ms
                                                 : (gint64) settings->seed_time_limit_ms;

  if (self->state != TE_TORRENT_STATE_SEEDING || self->ignore_seed_limits)
    return;
  if ((ratio_limit > 0 && te_torrent_get_ratio (self) >= ratio_limit)
      || (time_limit_ms > 0 && now - self->seeding_since_us >= time_limit_ms * 1000))
    {
      g_message ("%s: done seeding", self->name);
      self->seed_done = TRUE;
      _te_torrent_update_state (self);
    }
}

/* Once a second, for running torrents, from the engine's single timer. */
void
_te_torrent_tick (TeTorrent *self,
                  gint64     now)
{
  _te_torrent_recompute_stats (self, now);
  self->last_tick_us = now;

  for (guint i = self->peers->len; i > 0; i--)
    {
      TePeer *peer = g_ptr_array_index (self->peers, i - 1);
      PeerSlot *slot = te_peer_get_owner_data (peer);

      if (slot != NULL && te_peer_get_state (peer) == TE_PEER_ACTIVE)
        _te_torrent_check_timeouts (self, slot, now);
    }
  if (++self->choke_round % 10 == 0 && self->peers->len > 0)
    _te_torrent_rechoke (self);
  _te_torrent_pex_tick (self, now);
  _te_torrent_hashes_tick (self);
  if (self->state != TE_TORRENT_STATE_SEEDING)
    _te_torrent_connect_more (self);
  update_announcer_stats (self);
  _te_torrent_watch_files (self, now);
  _te_torrent_publish (self);
  seed_limits_tick (self, now);
}

void
_te_torrent_set_queued (TeTorrent *self,
                        gboolean   queued)
{
  if (self->queued == queued)
    return;
  self->queued = queued;
  _te_torrent_update_state (self);
}

/**
 * _te_torrent_is_stalled:
 *
 * A running download that has received nothing for @timeout_us; the queue
 * lets another torrent have its slot.
 */
gboolean
_te_torrent_is_stalled (TeTorrent *self,
                        gint64     now,
                        gint64     timeout_us)
{
  if (!self->running || (self->state != TE_TORRENT_STATE_DOWNLOADING
                         && self->state != TE_TORRENT_STATE_PENDING))
    return FALSE;
  return now - MAX (self->last_payload_us, self->running_since_us) >= timeout_us;
}

/* The engine is being disposed: cancel what is in flight, and let callbacks
 * that still come see that the torrent is cut off. */
void
_te_torrent_detach (TeTorrent *self)
{
  g_cancellable_cancel (self->cancellable);
  self->engine = NULL;
}

/**
 * _te_torrent_metadata_ready:
 * @check: check the data on disk now (else _te_torrent_restore() follows)
 *
 * The torrent knows its files now (from a .torrent, or fetched for a magnet):
 * set up storage and the picker, then check what is already on disk.
 */
void
_te_torrent_metadata_ready (TeTorrent  *self,
                            TeMetainfo *metainfo,
                            gboolean    check)
{
  guint n = te_metainfo_get_n_pieces (metainfo);
  gboolean indexed;

  g_set_object (&self->metainfo, metainfo);
  if (g_strcmp0 (self->name, te_metainfo_get_name (metainfo)) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (te_metainfo_get_name (metainfo));
      g_object_notify (G_OBJECT (self), "name");
    }
  /* A magnet's metadata may bring a second hash, or make v1 the wire id. */
  indexed = self->engine && _te_engine_lookup_hash (self->engine, self->info_hash) == self;
  if (indexed)
    _te_engine_index_torrent (self->engine, self, FALSE);
  self->has_v1_hash = te_metainfo_has_v1 (metainfo);
  self->has_v2_hash = te_metainfo_has_v2 (metainfo);
  if (self->has_v1_hash)
    memcpy (self->info_hash, te_metainfo_get_info_hash (metainfo), 20);
  else
    memcpy (self->info_hash, te_metainfo_get_info_hash_v2 (metainfo), 20);
  if (self->has_v2_hash)
    memcpy (self->info_hash_v2, te_metainfo_get_info_hash_v2 (metainfo), 32);
  if (indexed)
    _te_engine_index_torrent (self->engine, self, TRUE);
  self->private = te_metainfo_is_private (metainfo);

  self->storage = te_storage_new (metainfo, self->save_path, TE_STORAGE_FLAGS_NONE);
  self->have = te_bitfield_new (n);
  self->picker = te_picker_new (n, piece_size_cb, metainfo);
  te_picker_set_sequential (self->picker, self->sequential);
  _te_torrent_start_layer_fetch (self);
  _te_torrent_apply_priorities (self);
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot != NULL)
        {
          te_peer_set_max_message (slot->peer, MAX (n / 8 + 16, 128 * 1024 + 64));
          _te_torrent_apply_early_bitfield (self, slot);
        }
    }
  self->state_serial++;
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_METADATA], 0);
  _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_METADATA_RECEIVED);
  if (check)
    _te_torrent_start_check (self);
  g_object_unref (self);
}

/* Pieces */

void
_te_torrent_piece_verified (TeTorrent *self,
                            guint      piece)
{
  te_bitfield_set (self->have, piece, TRUE);
  self->bytes_dirty = TRUE;
  self->disk_retry_ms = 0;   /* the disk had room: a next full disk starts over */
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
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_PIECE_COMPLETED], 0, piece);
  _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_PIECE_COMPLETED, piece);
  _te_torrent_update_state (self);
  g_object_unref (self);
}
