/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-hash.h"
#include "te-outbound.h"
#include "te-engine-private.h"
#include "te-parallel.h"
#include "te-queue-manager.h"
#include "te-torrent-private.h"

G_DEFINE_QUARK (te-engine-error-quark, te_engine_error)

static void te_engine_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TeEngine, te_engine, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, te_engine_list_model_init))

enum {
  PROP_0,
  PROP_DOWNLOAD_RATE,
  PROP_UPLOAD_RATE,
  PROP_DOWNLOADED,
  PROP_UPLOADED,
  PROP_PEERS_CONNECTED,
  PROP_N_TORRENTS,
  PROP_PORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_TORRENT_ADDED,
  SIGNAL_TORRENT_REMOVED,
  SIGNAL_SETTINGS_CHANGED,
  SIGNAL_TORRENT_STATE_CHANGED,
  SIGNAL_TORRENT_COMPLETED,
  SIGNAL_TORRENT_ERROR,
  SIGNAL_TORRENT_PIECE_COMPLETED,
  SIGNAL_TORRENT_PEER_CONNECTED,
  SIGNAL_TORRENT_PEER_DISCONNECTED,
  SIGNAL_TORRENT_METADATA_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* GListModel */

static GType
list_get_item_type (GListModel *model)
{
  return TE_TYPE_TORRENT;
}

static guint
list_get_n_items (GListModel *model)
{
  return TE_ENGINE (model)->torrents->len;
}

static gpointer
list_get_item (GListModel *model,
               guint       position)
{
  TeEngine *self = TE_ENGINE (model);

  if (position >= self->torrents->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->torrents, position));
}

static void
te_engine_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = list_get_item_type;
  iface->get_n_items = list_get_n_items;
  iface->get_item = list_get_item;
}

static void
te_engine_dispose (GObject *object)
{
  TeEngine *self = TE_ENGINE (object);

  te_engine_stop (self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_queue_clear (&self->checks);
  /* Disk work may still hold torrents: it must find them cut off, not
   * reach into an engine that is gone. */
  for (guint i = 0; self->torrents && i < self->torrents->len; i++)
    _te_torrent_detach (g_ptr_array_index (self->torrents, i));
  g_clear_object (&self->queue);
  g_clear_pointer (&self->by_hash, g_hash_table_unref);
  g_clear_pointer (&self->torrents, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_object (&self->soup);
  te_engine_set_remote_control_port (self, 0);

  G_OBJECT_CLASS (te_engine_parent_class)->dispose (object);
}

static void
te_engine_finalize (GObject *object)
{
  TeEngine *self = TE_ENGINE (object);

  g_clear_pointer (&self->bans, te_ban_manager_free);
  te_engine_settings_clear (&self->settings);

  G_OBJECT_CLASS (te_engine_parent_class)->finalize (object);
}

static void
te_engine_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  TeEngine *self = TE_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DOWNLOAD_RATE: g_value_set_uint64 (value, self->stats.download_rate); break;
    case PROP_UPLOAD_RATE: g_value_set_uint64 (value, self->stats.upload_rate); break;
    case PROP_DOWNLOADED: g_value_set_uint64 (value, self->stats.downloaded); break;
    case PROP_UPLOADED: g_value_set_uint64 (value, self->stats.uploaded); break;
    case PROP_PEERS_CONNECTED: g_value_set_uint (value, self->stats.peers_connected); break;
    case PROP_N_TORRENTS: g_value_set_uint (value, self->torrents->len); break;
    case PROP_PORT: g_value_set_uint (value, self->port); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_engine_class_init (TeEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = te_engine_dispose;
  object_class->finalize = te_engine_finalize;
  object_class->get_property = te_engine_get_property;

  properties[PROP_DOWNLOAD_RATE] = g_param_spec_uint64 ("download-rate", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_UPLOAD_RATE] = g_param_spec_uint64 ("upload-rate", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_DOWNLOADED] = g_param_spec_uint64 ("downloaded", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_UPLOADED] = g_param_spec_uint64 ("uploaded", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_PEERS_CONNECTED] = g_param_spec_uint ("peers-connected", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_TORRENTS] = g_param_spec_uint ("n-torrents", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TeEngine::torrent-added:
   * @torrent: the new torrent
   */
  signals[SIGNAL_TORRENT_ADDED] =
    g_signal_new ("torrent-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, TE_TYPE_TORRENT);
  /**
   * TeEngine::torrent-removed:
   * @torrent: the torrent, stopped
   * @delete_data: whether its data is being deleted
   */
  signals[SIGNAL_TORRENT_REMOVED] =
    g_signal_new ("torrent-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, TE_TYPE_TORRENT, G_TYPE_BOOLEAN);
  /**
   * TeEngine::settings-changed:
   *
   * The settings changed through [method@Engine.set_settings] or one of the
   * narrower setters; read them with [method@Engine.get_settings].
   */
  signals[SIGNAL_SETTINGS_CHANGED] =
    g_signal_new ("settings-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);

  /* Each torrent signal below is repeated here, right after the torrent's
   * own emission, for every torrent the engine holds: a listener of all
   * torrents connects once to the engine rather than to each torrent. */

  /**
   * TeEngine::torrent-state-changed:
   * @torrent: the torrent
   * @from: the state before
   * @to: the state now
   *
   * [signal@Torrent::state-changed] of any torrent of the engine, emitted
   * after the torrent's own. Like the other torrent-… signals, it is not
   * emitted for a torrent before [signal@Engine::torrent-added] or after
   * [signal@Engine::torrent-removed].
   */
  signals[SIGNAL_TORRENT_STATE_CHANGED] =
    g_signal_new ("torrent-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 3, TE_TYPE_TORRENT, TE_TYPE_TORRENT_STATE,
                  TE_TYPE_TORRENT_STATE);
  /**
   * TeEngine::torrent-completed:
   * @torrent: the torrent that finished downloading
   *
   * [signal@Torrent::completed] of any torrent of the engine, emitted after
   * the torrent's own.
   */
  signals[SIGNAL_TORRENT_COMPLETED] =
    g_signal_new ("torrent-completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, TE_TYPE_TORRENT);
  /**
   * TeEngine::torrent-error:
   * @torrent: the torrent
   * @event: what happened and what the engine did about it
   *
   * [signal@Torrent::error] of any torrent of the engine, emitted after the
   * torrent's own: errors the engine recovers from and those that stop the
   * torrent.
   */
  signals[SIGNAL_TORRENT_ERROR] =
    g_signal_new ("torrent-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, TE_TYPE_TORRENT, TE_TYPE_ERROR_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * TeEngine::torrent-piece-completed:
   * @torrent: the torrent
   * @index: the piece, verified and written
   *
   * [signal@Torrent::piece-completed] of any torrent of the engine, emitted
   * after the torrent's own.
   */
  signals[SIGNAL_TORRENT_PIECE_COMPLETED] =
    g_signal_new ("torrent-piece-completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 2, TE_TYPE_TORRENT, G_TYPE_UINT);
  /**
   * TeEngine::torrent-peer-connected:
   * @torrent: the torrent
   * @peer: the peer, past its handshake
   *
   * [signal@Torrent::peer-connected] of any torrent of the engine, emitted
   * after the torrent's own.
   */
  signals[SIGNAL_TORRENT_PEER_CONNECTED] =
    g_signal_new ("torrent-peer-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 2, TE_TYPE_TORRENT, TE_TYPE_PEER);
  /**
   * TeEngine::torrent-peer-disconnected:
   * @torrent: the torrent
   * @peer: the peer, closed
   * @reason: why the connection ended
   *
   * [signal@Torrent::peer-disconnected] of any torrent of the engine,
   * emitted after the torrent's own.
   */
  signals[SIGNAL_TORRENT_PEER_DISCONNECTED] =
    g_signal_new ("torrent-peer-disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 3, TE_TYPE_TORRENT, TE_TYPE_PEER, G_TYPE_STRING);
  /**
   * TeEngine::torrent-metadata-received:
   * @torrent: the torrent, a magnet whose metadata just arrived
   *
   * [signal@Torrent::metadata-received] of any torrent of the engine,
   * emitted after the torrent's own.
   */
  signals[SIGNAL_TORRENT_METADATA_RECEIVED] =
    g_signal_new ("torrent-metadata-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, TE_TYPE_TORRENT);
}

/* Info-hashes are uniform: their first bytes are a hash already. */
static guint
hash_info_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
equal_info_hash (gconstpointer a,
                 gconstpointer b)
{
  return memcmp (a, b, 20) == 0;
}

/* The keys point into the torrent: it leaves the index before it changes
 * its hashes (metadata of a magnet) or goes away. */
void
_te_engine_index_torrent (TeEngine  *self,
                          TeTorrent *torrent,
                          gboolean   present)
{
  const guint8 *keys[2] = { torrent->info_hash, torrent->has_v2_hash ? torrent->info_hash_v2 : NULL };

  for (guint i = 0; i < G_N_ELEMENTS (keys) && self->by_hash; i++)
    if (keys[i] == NULL)
      continue;
    else if (present)
      g_hash_table_replace (self->by_hash, (gpointer) keys[i], torrent);
    else if (g_hash_table_lookup (self->by_hash, keys[i]) == torrent)
      g_hash_table_remove (self->by_hash, keys[i]);
}

TeTorrent *
_te_engine_lookup_hash (TeEngine     *self,
                        const guint8  info_hash[20])
{
  return g_hash_table_lookup (self->by_hash, info_hash);
}

static void
te_engine_init (TeEngine *self)
{
  self->torrents = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_hash = g_hash_table_new (hash_info_hash, equal_info_hash);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
}

/* One timer for every torrent: a stopped torrent costs nothing but a branch.
 * A seed with no peers and no traffic has nothing to update but its seeding
 * time: it is ticked every QUIET_ROUNDS seconds, its turn set by its index so
 * that each second takes a share of them. */
#define QUIET_ROUNDS 4

static gboolean
tick_cb (gpointer user_data)
{
  TeEngine *self = user_data;
  gint64 now = g_get_monotonic_time ();
  TeEngineStats s = { 0 };
  gboolean downloading = FALSE;

  for (guint i = 0; i < self->torrents->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (self->torrents, i);

      if (t->running)
        {
          gboolean quiet = t->state == TE_TORRENT_STATE_SEEDING && t->stats.peers_connected == 0
                           && t->stats.download_rate == 0 && t->stats.upload_rate == 0;

          if (!quiet || (i + self->rounds) % QUIET_ROUNDS == 0)
            _te_torrent_tick (t, now);
          s.download_rate += t->stats.download_rate;
          s.upload_rate += t->stats.upload_rate;
          s.peers_connected += t->stats.peers_connected;
          downloading |= t->state == TE_TORRENT_STATE_DOWNLOADING || t->state == TE_TORRENT_STATE_PENDING;
        }
      s.downloaded += t->stats.downloaded;
      s.uploaded += t->stats.uploaded;
    }
  self->rounds++;
  /* Session totals: a removed torrent's bytes stay counted. */
  s.downloaded += self->removed_down;
  s.uploaded += self->removed_up;
  g_object_freeze_notify (G_OBJECT (self));
  if (s.download_rate != self->stats.download_rate)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOWNLOAD_RATE]);
  if (s.upload_rate != self->stats.upload_rate)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPLOAD_RATE]);
  if (s.downloaded != self->stats.downloaded)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOWNLOADED]);
  if (s.uploaded != self->stats.uploaded)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPLOADED]);
  if (s.peers_connected != self->stats.peers_connected)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEERS_CONNECTED]);
  self->stats = s;
  g_object_thaw_notify (G_OBJECT (self));

  /* Stalled downloads give up their slot: look every few seconds while any runs. */
  if (downloading && ++self->ticks % 5 == 0)
    te_queue_manager_update (self->queue);
  return G_SOURCE_CONTINUE;
}

/**
 * te_engine_new:
 * @settings: (nullable): the session settings; defaults when `NULL`
 *
 * Returns: (transfer full): a new engine, not yet listening
 */
TeEngine *
te_engine_new (const TeEngineSettings *settings)
{
  TeEngine *self = g_object_new (TE_TYPE_ENGINE, NULL);
  const char *prefix = TE_PEER_ID_PREFIX;

  if (settings)
    te_engine_settings_copy (&self->settings, settings);
  else
    te_engine_settings_init (&self->settings);
  self->queue = te_queue_manager_new (self->settings.max_active_downloads,
                                      self->settings.max_active_seeds,
                                      self->settings.stall_timeout_s);
  self->tick_id = g_timeout_add_seconds (1, tick_cb, self);

  /* BEP 20: client prefix, then random bytes. */
  memcpy (self->peer_id, prefix, 8);
  for (guint i = 8; i < 20; i++)
    self->peer_id[i] = (guint8) g_random_int_range ('0', 'z' + 1);

  self->soup = soup_session_new_with_options ("user-agent", TE_CREATED_BY, "timeout", 30,
                                              "max-conns-per-host", 4, NULL);
  self->bans = te_ban_manager_new (MAX (self->settings.max_peer_failures_per_piece, 1), (gint64) MIN (self->settings.peer_ban_duration_ms, (guint64) G_MAXINT64 / 1000) * 1000,
                                   (gint64) 30 * 60 * G_USEC_PER_SEC);
  te_token_bucket_init (&self->down_bucket, 0);
  te_token_bucket_init (&self->up_bucket, 0);
  _te_engine_apply_limits (self);
  return self;
}

guint16
te_engine_get_port (TeEngine *self)
{
  return self->port;
}

/**
 * te_engine_set_remote_control_port:
 * @self: an engine
 * @port: the TCP port the remote-control API listens on, or 0 when it stopped
 *
 * Outbound HTTP requests (announces, scrapes, torrents fetched by URL) to this
 * port on an address of this machine are refused, however they got there.
 */
void
te_engine_set_remote_control_port (TeEngine *self,
                                   guint16   port)
{
  g_return_if_fail (TE_IS_ENGINE (self));

  if (self->remote_control_port == port)
    return;
  if (self->remote_control_port != 0)
    te_outbound_remove_own_port (self->remote_control_port);
  self->remote_control_port = port;
  if (port != 0)
    te_outbound_add_own_port (port);
}

guint16
te_engine_get_remote_control_port (TeEngine *self)
{
  g_return_val_if_fail (TE_IS_ENGINE (self), 0);

  return self->remote_control_port;
}

const guint8 *
te_engine_get_peer_id (TeEngine *self)
{
  return self->peer_id;
}

void
_te_engine_announce_added (TeEngine  *self,
                           TeTorrent *torrent)
{
  _te_engine_index_torrent (self, torrent, TRUE);
  g_list_model_items_changed (G_LIST_MODEL (self), self->torrents->len - 1, 0, 1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TORRENTS]);
  g_signal_emit (self, signals[SIGNAL_TORRENT_ADDED], 0, torrent);
}

/**
 * _te_engine_emit_torrent_signal:
 * @self: (nullable): the torrent's engine; `NULL` once detached
 * @which: the signal, followed by the torrent signal's own arguments
 *
 * Repeats a torrent signal as the engine's, for a torrent the engine holds:
 * not one still being added, nor one removed (both are out of the index).
 */
void
_te_engine_emit_torrent_signal (TeEngine              *self,
                                TeTorrent             *torrent,
                                TeEngineTorrentSignal  which,
                                ...)
{
  va_list args;

  if (self == NULL || self->by_hash == NULL
      || _te_engine_lookup_hash (self, torrent->info_hash) != torrent)
    return;
  va_start (args, which);
  switch (which)
    {
    case TE_ENGINE_TORRENT_STATE_CHANGED:
      {
        TeTorrentState from = (TeTorrentState) va_arg (args, int);
        TeTorrentState to = (TeTorrentState) va_arg (args, int);

        g_signal_emit (self, signals[SIGNAL_TORRENT_STATE_CHANGED], 0, torrent, from, to);
      }
      break;
    case TE_ENGINE_TORRENT_COMPLETED:
      g_signal_emit (self, signals[SIGNAL_TORRENT_COMPLETED], 0, torrent);
      break;
    case TE_ENGINE_TORRENT_ERROR:
      g_signal_emit (self, signals[SIGNAL_TORRENT_ERROR], 0, torrent,
                     va_arg (args, const TeErrorEvent *));
      break;
    case TE_ENGINE_TORRENT_PIECE_COMPLETED:
      g_signal_emit (self, signals[SIGNAL_TORRENT_PIECE_COMPLETED], 0, torrent, va_arg (args, guint));
      break;
    case TE_ENGINE_TORRENT_PEER_CONNECTED:
      g_signal_emit (self, signals[SIGNAL_TORRENT_PEER_CONNECTED], 0, torrent, va_arg (args, TePeer *));
      break;
    case TE_ENGINE_TORRENT_PEER_DISCONNECTED:
      {
        TePeer *peer = va_arg (args, TePeer *);
        const char *reason = va_arg (args, const char *);

        g_signal_emit (self, signals[SIGNAL_TORRENT_PEER_DISCONNECTED], 0, torrent, peer, reason);
      }
      break;
    case TE_ENGINE_TORRENT_METADATA_RECEIVED:
      g_signal_emit (self, signals[SIGNAL_TORRENT_METADATA_RECEIVED], 0, torrent);
      break;
    default:
      g_assert_not_reached ();
    }
  va_end (args);
}

/* Removal: deleting data happens on a worker thread. */

static void
delete_data_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  GPtrArray *paths = task_data;
  g_autoptr(GError) first = NULL;

  /* Files first, then the folders they leave empty, deepest first. */
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      if (g_unlink (path) != 0 && errno != ENOENT && first == NULL)
        {
          int err = errno;
          first = g_error_new (G_IO_ERROR, g_io_error_from_errno (err), "Cannot delete “%s”: %s",
                               path, g_strerror (err));
        }
    }
  for (guint i = 0; i < paths->len; i++)
    _te_remove_empty_parents (g_object_get_data (G_OBJECT (task), "root"),
                              g_ptr_array_index (paths, i));
  if (first)
    g_task_return_error (task, g_steal_pointer (&first));
  else
    g_task_return_boolean (task, TRUE);
}

static void
data_deleted_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("%s", error->message);
}

/**
 * te_engine_remove:
 * @delete_data: also delete the torrent's files from disk
 *
 * Stops the torrent and forgets it.
 */
void
te_engine_remove (TeEngine  *self,
                  TeTorrent *torrent,
                  gboolean   delete_data)
{
  guint index;

  if (!g_ptr_array_find (self->torrents, torrent, &index))
    return;
  g_object_ref (torrent);
  te_torrent_pause (torrent);
  g_cancellable_cancel (torrent->cancellable);
  if (torrent->check_waiting)
    {
      g_queue_remove (&self->checks, torrent);
      torrent->check_waiting = FALSE;
    }
  _te_engine_index_torrent (self, torrent, FALSE);
  te_queue_manager_remove (self->queue, torrent);
  self->removed_down += torrent->stats.downloaded;
  self->removed_up += torrent->stats.uploaded;
  g_ptr_array_remove_index (self->torrents, index);
  g_list_model_items_changed (G_LIST_MODEL (self), index, 1, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TORRENTS]);
  g_signal_emit (self, signals[SIGNAL_TORRENT_REMOVED], 0, torrent, delete_data);

  if (delete_data && torrent->metainfo && torrent->storage)
    {
      GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GTask) task = g_task_new (NULL, NULL, data_deleted_cb, NULL);
      TeMetainfo *meta = torrent->metainfo;

      te_storage_close_files (torrent->storage);
      for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
        if (!(te_metainfo_get_file (meta, i)->attrs & TE_FILE_ATTR_PAD))
          g_ptr_array_add (paths, te_storage_dup_file_path (torrent->storage, i));
      g_object_set_data_full (G_OBJECT (task), "root", g_strdup (torrent->save_path), g_free);
      g_task_set_task_data (task, paths, (GDestroyNotify) g_ptr_array_unref);
      g_task_run_in_thread (task, delete_data_thread);
    }
  g_object_unref (torrent);
}

/**
 * te_engine_get_torrents:
 *
 * Returns: (transfer none) (element-type TeTorrent): the torrents
 */
GPtrArray *
te_engine_get_torrents (TeEngine *self)
{
  return self->torrents;
}

TeQueueManager *
te_engine_get_queue (TeEngine *self)
{
  return self->queue;
}

void
te_engine_set_queue_position (TeEngine  *self,
                              TeTorrent *torrent,
                              guint      position)
{
  te_queue_manager_move (self->queue, torrent, position);
}

void
te_engine_set_priority (TeEngine        *self,
                        TeTorrent       *torrent,
                        int              priority)
{
  te_queue_manager_set_priority (self->queue, torrent, priority);
}

void
te_engine_get_stats (TeEngine      *self,
                     TeEngineStats *stats)
{
  *stats = self->stats;
}

/* Checks run a few at a time so that thousands of torrents added at once are
 * checked at the disk's pace without thousands of open files. A small torrent
 * hashes in one thread and spends as long again waiting for the main loop
 * between its steps: more of those run at once, so the cores stay busy. */
#define SMALL_CHECK_BYTES (4 * 1024 * 1024)
#define SMALL_CHECKS_PER_CORE 4

static void
run_checks (TeEngine *self)
{
  guint cores = MAX (te_parallel_n_threads (), 2);

  while (!g_queue_is_empty (&self->checks))
    {
      TeTorrent *t = g_queue_peek_head (&self->checks);
      gboolean small = te_torrent_get_total_size (t) <= SMALL_CHECK_BYTES;

      if (self->checks_running >= (small ? cores * SMALL_CHECKS_PER_CORE : cores))
        break;
      g_queue_pop_head (&self->checks);

      t->check_waiting = FALSE;
      self->checks_running++;
      t->check_slot = TRUE;
      _te_torrent_run_check (t);
    }
}

void
_te_engine_queue_check (TeEngine  *self,
                        TeTorrent *torrent)
{
  if (!torrent->check_waiting)
    {
      g_queue_push_tail (&self->checks, torrent);
      torrent->check_waiting = TRUE;
    }
  run_checks (self);
}

void
_te_engine_check_done (TeEngine  *self,
                       TeTorrent *torrent)
{
  if (torrent->check_slot)
    {
      torrent->check_slot = FALSE;
      self->checks_running--;
    }
  run_checks (self);
}

void
_te_engine_torrent_changed (TeEngine  *self,
                            TeTorrent *torrent)
{
  te_queue_manager_update (self->queue);
}

SoupSession *
_te_engine_get_soup_session (TeEngine *self)
{
  return self->soup;
}

TeBanManager *
_te_engine_get_bans (TeEngine *self)
{
  return self->bans;
}

TeTokenBucket *
_te_engine_get_down_bucket (TeEngine *self)
{
  return &self->down_bucket;
}

TeTokenBucket *
_te_engine_get_up_bucket (TeEngine *self)
{
  return &self->up_bucket;
}

guint
_te_engine_count_peers (TeEngine *self)
{
  guint n = 0;

  for (guint i = 0; i < self->torrents->len; i++)
    n += _te_torrent_count_peers (g_ptr_array_index (self->torrents, i));
  return n;
}

guint
_te_engine_count_peers_for_host (TeEngine   *self,
                                 const char *host)
{
  guint n = 0;

  for (guint i = 0; i < self->torrents->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (self->torrents, i);

      for (guint j = 0; j < t->peers->len; j++)
        if (g_strcmp0 (te_peer_get_host_string (g_ptr_array_index (t->peers, j)), host) == 0)
          n++;
    }
  return n;
}
