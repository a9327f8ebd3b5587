/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include <string.h>

#include "te-engine.h"
#include "te-hash.h"
#include "te-torrent-private.h"

G_DEFINE_QUARK (te-engine-error-quark, te_engine_error)

/* How many ports after the configured one to try when it is taken. */
#define PORT_TRIES 10

struct _TeEngine
{
  GObject           parent_instance;

  TeEngineSettings  settings;
  guint8            peer_id[20];
  GSocketService   *service;
  guint16           port;
  SoupSession      *soup;
  TeBanManager     *bans;
  TeTokenBucket     down_bucket;
  TeTokenBucket     up_bucket;
  GPtrArray        *torrents;
  GPtrArray        *pending;        /* incoming peers before their handshake */
};

G_DEFINE_FINAL_TYPE (TeEngine, te_engine, G_TYPE_OBJECT)

void
te_engine_settings_init (TeEngineSettings *s)
{
  memset (s, 0, sizeof *s);
  s->listen_port = 51413;
  s->max_peers_per_torrent = 50;
  s->max_peers_global = 500;
  s->max_per_ip = 3;
  s->max_piece_retries = 10;
  s->peer_ban_duration_s = 3600;
  s->enable_pex = TRUE;
}

static void
te_engine_dispose (GObject *object)
{
  TeEngine *self = TE_ENGINE (object);

  te_engine_stop (self);
  g_clear_pointer (&self->torrents, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_object (&self->soup);

  G_OBJECT_CLASS (te_engine_parent_class)->dispose (object);
}

static void
te_engine_finalize (GObject *object)
{
  TeEngine *self = TE_ENGINE (object);

  g_clear_pointer (&self->bans, te_ban_manager_free);

  G_OBJECT_CLASS (te_engine_parent_class)->finalize (object);
}

static void
te_engine_class_init (TeEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_engine_dispose;
  object_class->finalize = te_engine_finalize;
}

static void
te_engine_init (TeEngine *self)
{
  self->torrents = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
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
    self->settings = *settings;
  else
    te_engine_settings_init (&self->settings);

  /* BEP 20: client prefix, then random bytes. */
  memcpy (self->peer_id, prefix, 8);
  for (guint i = 8; i < 20; i++)
    self->peer_id[i] = (guint8) g_random_int_range ('0', 'z' + 1);

  self->soup = soup_session_new_with_options ("user-agent", TE_CREATED_BY, "timeout", 30,
                                              "max-conns-per-host", 4, NULL);
  self->bans = te_ban_manager_new (3, (gint64) self->settings.peer_ban_duration_s * G_USEC_PER_SEC,
                                   (gint64) 30 * 60 * G_USEC_PER_SEC);
  te_token_bucket_init (&self->down_bucket, self->settings.download_limit);
  te_token_bucket_init (&self->up_bucket, self->settings.upload_limit);
  return self;
}

/* Incoming connections: find the torrent the handshake names. */

static gboolean
pending_handshake_cb (TePeer            *peer,
                      const TeHandshake *hs,
                      gpointer           user_data)
{
  TeEngine *self = user_data;

  for (guint i = 0; i < self->torrents->len; i++)
    {
      TeTorrent *torrent = g_ptr_array_index (self->torrents, i);

      if (_te_torrent_matches_hash (torrent, hs->info_hash))
        {
          gboolean open;

          /* Hand the peer over: the pending list drops it, the torrent keeps it. */
          g_object_ref (peer);
          g_ptr_array_remove (self->pending, peer);
          _te_torrent_attach_incoming (torrent, peer);
          open = te_peer_get_state (peer) != TE_PEER_CLOSED;
          g_object_unref (peer);
          return open;
        }
    }
  return FALSE;
}

static gboolean
pending_message_cb (TePeer          *peer,
                    const TeWireMsg *msg,
                    gpointer         user_data)
{
  g_assert_not_reached ();
  return FALSE;
}

static void
pending_closed_cb (TePeer     *peer,
                   const char *reason,
                   gpointer    user_data)
{
  TeEngine *self = user_data;

  g_ptr_array_remove (self->pending, peer);
}

static const TePeerHandler pending_handler = {
  pending_handshake_cb,
  NULL,
  pending_message_cb,
  NULL,
  pending_closed_cb,
};

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  TeEngine *self = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autofree char *host = NULL;

  if (G_IS_INET_SOCKET_ADDRESS (remote))
    host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  if (host != NULL && te_ban_manager_is_banned (self->bans, host, g_get_monotonic_time ()))
    return TRUE;
  if (_te_engine_count_peers (self) + self->pending->len >= self->settings.max_peers_global)
    return TRUE;

  g_ptr_array_add (self->pending, te_peer_new_incoming (connection, &pending_handler, self));
  return TRUE;
}

/**
 * te_engine_start:
 *
 * Listens on the configured port, or the next free one of the ten after it.
 */
gboolean
te_engine_start (TeEngine  *self,
                 GError   **error)
{
  g_autoptr(GError) last = NULL;

  if (self->service != NULL)
    return TRUE;
  self->service = g_socket_service_new ();
  if (self->settings.listen_port == 0)
    {
      self->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (self->service), NULL, &last);
      if (self->port == 0)
        goto failed;
    }
  else
    {
      for (guint i = 0; i < PORT_TRIES && self->port == 0; i++)
        {
          guint16 port = (guint16) (self->settings.listen_port + i);

          g_clear_error (&last);
          if (g_socket_listener_add_inet_port (G_SOCKET_LISTENER (self->service), port, NULL, &last))
            self->port = port;
        }
      if (self->port == 0)
        goto failed;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  return TRUE;

failed:
  g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_LISTEN, "Cannot listen for peers: %s",
               last->message);
  g_clear_object (&self->service);
  return FALSE;
}

void
te_engine_stop (TeEngine *self)
{
  for (guint i = 0; self->torrents && i < self->torrents->len; i++)
    te_torrent_pause (g_ptr_array_index (self->torrents, i));
  for (guint i = self->pending ? self->pending->len : 0; i > 0; i--)
    te_peer_close (g_ptr_array_index (self->pending, i - 1), "engine stopped");
  if (self->service)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
}

guint16
te_engine_get_port (TeEngine *self)
{
  return self->port;
}

const guint8 *
te_engine_get_peer_id (TeEngine *self)
{
  return self->peer_id;
}

const TeEngineSettings *
te_engine_get_settings (TeEngine *self)
{
  return &self->settings;
}

void
te_engine_set_limits (TeEngine *self,
                      guint64   download,
                      guint64   upload)
{
  self->settings.download_limit = download;
  self->settings.upload_limit = upload;
  te_token_bucket_set_rate (&self->down_bucket, download);
  te_token_bucket_set_rate (&self->up_bucket, upload);
}

static TeTorrent *
find_torrent (TeEngine     *self,
              const guint8  info_hash[20])
{
  for (guint i = 0; i < self->torrents->len; i++)
    if (_te_torrent_matches_hash (g_ptr_array_index (self->torrents, i), info_hash))
      return g_ptr_array_index (self->torrents, i);
  return NULL;
}

/**
 * te_engine_add_torrent:
 *
 * Returns: (transfer none): the torrent, checking its data and then starting
 */
TeTorrent *
te_engine_add_torrent (TeEngine    *self,
                       TeMetainfo  *metainfo,
                       const char  *save_path,
                       GError     **error)
{
  TeTorrent *torrent;
  const guint8 *hash = te_metainfo_has_v1 (metainfo) ? te_metainfo_get_info_hash (metainfo)
                                                     : te_metainfo_get_info_hash_v2 (metainfo);

  if (find_torrent (self, hash) != NULL)
    {
      g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE,
                   "“%s” is already added", te_metainfo_get_name (metainfo));
      return NULL;
    }
  torrent = _te_torrent_new (self, save_path);
  g_ptr_array_add (self->torrents, torrent);
  _te_torrent_metadata_ready (torrent, metainfo);
  return torrent;
}

/**
 * te_engine_add_magnet:
 *
 * Returns: (transfer none): the torrent, fetching its metadata from peers
 */
TeTorrent *
te_engine_add_magnet (TeEngine   *self,
                      TeMagnet   *magnet,
                      const char *save_path,
                      GError    **error)
{
  TeTorrent *torrent;

  if (find_torrent (self, magnet->has_v1 ? magnet->info_hash : magnet->info_hash_v2) != NULL)
    {
      g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE,
                   "This magnet link's torrent is already added");
      return NULL;
    }
  torrent = _te_torrent_new (self, save_path);
  g_ptr_array_add (self->torrents, torrent);
  if (magnet->has_v1)
    {
      memcpy (torrent->info_hash, magnet->info_hash, 20);
      torrent->has_v1_hash = TRUE;
    }
  else
    memcpy (torrent->info_hash, magnet->info_hash_v2, 20);
  if (magnet->has_v2)
    {
      memcpy (torrent->info_hash_v2, magnet->info_hash_v2, 32);
      torrent->has_v2_hash = TRUE;
    }
  torrent->name = g_strdup (magnet->display_name ? magnet->display_name : "magnet");
  for (guint i = 0; i < magnet->trackers->len; i++)
    {
      GPtrArray *tier = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (tier, g_strdup (g_ptr_array_index (magnet->trackers, i)));
      g_ptr_array_add (torrent->magnet_trackers, tier);
    }
  for (guint i = 0; i < magnet->peers->len; i++)
    {
      g_autoptr(GSocketConnectable) c = g_network_address_parse (g_ptr_array_index (magnet->peers, i),
                                                                 6881, NULL);
      GNetworkAddress *na = G_NETWORK_ADDRESS (c);
      g_autoptr(GInetAddress) ip = na ? g_inet_address_new_from_string (g_network_address_get_hostname (na))
                                      : NULL;

      if (ip != NULL)
        {
          g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (ip, g_network_address_get_port (na));
          _te_torrent_learn_peer (torrent, G_INET_SOCKET_ADDRESS (sa));
        }
    }
  _te_torrent_set_state (torrent, TE_TORRENT_STATE_PENDING);
  te_torrent_start (torrent);
  return torrent;
}

void
te_engine_remove_torrent (TeEngine  *self,
                          TeTorrent *torrent)
{
  te_torrent_pause (torrent);
  g_ptr_array_remove (self->torrents, torrent);
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
