/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service"

#include "config.h"

#include <string.h>

#include "te-event-hub.h"
#include "te-service-private.h"
#include "te-service-settings.h"
#include "te-queue-manager.h"
#include "te-service-resources.h"

/* The routing table, and the routes that are not about one torrent. data/openapi.json
 * documents exactly these; tests/service/test-openapi.c holds the two together. */

static const TeRoute routes[] = {
  { "GET",    "/api/health",                          TE_ROUTE_PUBLIC, _te_route_health },
  { "GET",    "/api/v1/openapi.json",                 TE_ROUTE_PUBLIC, _te_route_openapi },
  { "POST",   "/api/v1/auth/login",                   TE_ROUTE_PUBLIC | TE_ROUTE_JSON, _te_route_login },
  { "GET",    "/api/v1/events",                       TE_ROUTE_WEBSOCKET, _te_route_events },
  { "GET",    "/api/v1/session/settings",             0, _te_route_settings_get },
  { "PATCH",  "/api/v1/session/settings",             TE_ROUTE_JSON, _te_route_settings_patch },
  { "GET",    "/api/v1/session/stats",                0, _te_route_stats },
  { "GET",    "/api/v1/session/alt-speed",            0, _te_route_alt_speed_get },
  { "PUT",    "/api/v1/session/alt-speed",            TE_ROUTE_JSON, _te_route_alt_speed_put },
  { "GET",    "/api/v1/torrents",                     0, _te_route_torrents_list },
  { "POST",   "/api/v1/torrents",                     TE_ROUTE_LARGE_BODY | TE_ROUTE_RAW_BODY, _te_route_torrents_add },
  { "GET",    "/api/v1/torrents/{id}",                TE_ROUTE_TORRENT, _te_route_torrent_get },
  { "PATCH",  "/api/v1/torrents/{id}",                TE_ROUTE_TORRENT | TE_ROUTE_JSON, _te_route_torrent_patch },
  { "DELETE", "/api/v1/torrents/{id}",                TE_ROUTE_TORRENT, _te_route_torrent_delete },
  { "POST",   "/api/v1/torrents/{id}/pause",          TE_ROUTE_TORRENT, _te_route_torrent_pause },
  { "POST",   "/api/v1/torrents/{id}/resume",         TE_ROUTE_TORRENT, _te_route_torrent_resume },
  { "POST",   "/api/v1/torrents/{id}/recheck",        TE_ROUTE_TORRENT, _te_route_torrent_recheck },
  { "POST",   "/api/v1/torrents/{id}/move",           TE_ROUTE_TORRENT | TE_ROUTE_JSON, _te_route_torrent_move },
  { "GET",    "/api/v1/torrents/{id}/files",          TE_ROUTE_TORRENT, _te_route_files_get },
  { "PATCH",  "/api/v1/torrents/{id}/files",          TE_ROUTE_TORRENT | TE_ROUTE_JSON, _te_route_files_patch },
  { "GET",    "/api/v1/torrents/{id}/peers",          TE_ROUTE_TORRENT, _te_route_peers_get },
  { "POST",   "/api/v1/torrents/{id}/peers",          TE_ROUTE_TORRENT | TE_ROUTE_JSON, _te_route_peers_add },
  { "GET",    "/api/v1/torrents/{id}/trackers",       TE_ROUTE_TORRENT, _te_route_trackers_get },
  { "POST",   "/api/v1/torrents/{id}/trackers",       TE_ROUTE_TORRENT | TE_ROUTE_JSON, _te_route_trackers_add },
  { "PATCH",  "/api/v1/torrents/{id}/trackers",       TE_ROUTE_TORRENT | TE_ROUTE_JSON, _te_route_trackers_replace },
  { "DELETE", "/api/v1/torrents/{id}/trackers",       TE_ROUTE_TORRENT, _te_route_trackers_remove },
  { "POST",   "/transmission/rpc",                    TE_ROUTE_BASIC_AUTH, _te_route_transmission },
};

const TeRoute *
_te_service_get_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}

/**
 * _te_service_dup_route_names:
 *
 * Returns: (transfer full): "METHOD /pattern" for every route
 */
char **
_te_service_dup_route_names (void)
{
  char **names = g_new0 (char *, G_N_ELEMENTS (routes) + 1);

  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    names[i] = g_strdup_printf ("%s %s", routes[i].method, routes[i].pattern);
  return names;
}

/* Health and the document */

void
_te_route_health (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  GPtrArray *torrents = te_engine_get_torrents (engine);
  guint counts[TE_TORRENT_STATE_COMPLETE + 1] = { 0 };
  TeEngineStats stats;
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < torrents->len; i++)
    counts[te_torrent_get_state (g_ptr_array_index (torrents, i))]++;
  te_engine_get_stats (engine, &stats);
  g_string_append_printf (s, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime\":%" G_GINT64_FORMAT
                          ",\"torrents\":{\"total\":%u", PACKAGE_VERSION,
                          (g_get_monotonic_time () - _te_service_get_started_us (call->service)) / G_USEC_PER_SEC,
                          torrents->len);
  for (guint st = 0; st <= TE_TORRENT_STATE_COMPLETE; st++)
    g_string_append_printf (s, ",\"%s\":%u", te_torrent_state_to_string (st), counts[st]);
  g_string_append_printf (s, "},\"peersConnected\":%u}", stats.peers_connected);
  _te_call_reply (call, 200, s);
}

GBytes *
_te_service_get_openapi (void)
{
  return g_resource_lookup_data (te_service_get_resource (),
                                 "/io/github/torrentedge/TorrentEdge/service/openapi.json",
                                 G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
}

void
_te_route_openapi (TeCall *call)
{
  g_autoptr(GBytes) doc = _te_service_get_openapi ();
  gsize len;
  const char *data = g_bytes_get_data (doc, &len);

  _te_call_reply (call, 200, g_string_new_len (data, len));
}

/* Login */

typedef struct {
  char *username;
  char *password;
  char *expected_user;
  char *hash;
  char *client;
} Login;

static void
login_free (Login *l)
{
  g_free (l->username);
  if (l->password)
    memset (l->password, 0, strlen (l->password));
  g_free (l->password);
  g_free (l->expected_user);
  g_free (l->hash);
  g_free (l->client);
  g_free (l);
}

static void
login_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Login *l = task_data;
  gboolean user_ok = te_auth_equal (l->username, strlen (l->username), l->expected_user, strlen (l->expected_user));
  /* The hash runs whatever the name, so timing does not tell names apart. */
  gboolean password_ok = te_auth_verify_password (l->password, l->hash);

  g_task_return_boolean (task, user_ok && password_ok);
}

static void
login_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TeCall *call = user_data;
  Login *l = g_task_get_task_data (G_TASK (result));

  if (g_task_propagate_boolean (G_TASK (result), NULL))
    {
      g_autofree char *token = te_auth_token_new (_te_service_get_secret (call->service), l->username,
                                                  g_get_real_time () / G_USEC_PER_SEC, TE_AUTH_TOKEN_LIFETIME_S);
      JsonObject *o = json_object_new ();

      te_auth_limiter_reset (_te_service_get_limiter (call->service), l->client);
      json_object_set_string_member (o, "token", token);
      json_object_set_string_member (o, "tokenType", "Bearer");
      json_object_set_int_member (o, "expiresIn", TE_AUTH_TOKEN_LIFETIME_S);
      _te_call_reply_object (call, 200, o);
    }
  else
    _te_call_reply_status (call, 401, "unauthorized", "Wrong user name or password");
  _te_call_free (call);
}

static char *
client_address (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    return g_strdup ("unknown");
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

void
_te_route_login (TeCall *call)
{
  const TeServiceConfig *config = _te_service_get_config (call->service);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *client = client_address (call->msg);
  Login *l;
  guint retry = 0;

  if (!te_auth_limiter_take (_te_service_get_limiter (call->service), client, g_get_monotonic_time (), &retry))
    {
      g_autofree char *s = g_strdup_printf ("%u", retry);

      soup_message_headers_replace (soup_server_message_get_response_headers (call->msg), "Retry-After", s);
      _te_call_reply_status (call, 429, "too_many_requests", "Too many login attempts; try again later");
      return;
    }
  l = g_new0 (Login, 1);
  if (!te_api_parse_login (call->body, &l->username, &l->password, &error))
    {
      login_free (l);
      _te_call_reply_error (call, error);
      return;
    }
  l->expected_user = g_strdup (config->username);
  l->hash = g_strdup (config->password_hash);
  l->client = g_steal_pointer (&client);
  _te_call_pause (call);
  task = g_task_new (call->service, NULL, login_done_cb, call);
  g_task_set_source_tag (task, _te_route_login);
  g_task_set_task_data (task, l, (GDestroyNotify) login_free);
  g_task_run_in_thread (task, login_thread);
}

/* Events */

typedef struct {
  TeService *service;
  GSocket   *socket;
  char      *info_hashes;
} Upgrade;

static void
upgrade_free (gpointer data,
              GClosure *closure)
{
  Upgrade *u = data;

  g_object_unref (u->service);
  g_object_unref (u->socket);
  g_free (u->info_hashes);
  g_free (u);
}

static void
upgraded_cb (SoupServerMessage *msg,
             Upgrade           *u)
{
  TeEventHub *hub = _te_service_get_events (u->service);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(SoupWebsocketConnection) conn = NULL;

  g_object_ref (msg);
  stream = soup_server_message_steal_connection (msg);
  conn = soup_websocket_connection_new (stream, soup_server_message_get_uri (msg), SOUP_WEBSOCKET_CONNECTION_SERVER,
                                        soup_message_headers_get_one (req, "Origin"),
                                        soup_message_headers_get_one (resp, "Sec-WebSocket-Protocol"), NULL);
  if (hub)
    te_event_hub_add_client (hub, conn, u->socket, u->info_hashes);
  else
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
  g_object_unref (msg);
}

void
_te_route_events (TeCall *call)
{
  static char *protocols[] = { "torrentedge.events", NULL };
  SoupMessageHeaders *req = soup_server_message_get_request_headers (call->msg);
  const char *offered = soup_message_headers_get_list (req, "Sec-WebSocket-Protocol");
  const char *subscribe = call->query ? g_hash_table_lookup (call->query, "infoHashes") : NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket = _te_service_get_message_socket (call->service, call->msg);
  Upgrade *u;

  if (!soup_websocket_server_check_handshake (call->msg, NULL, offered ? protocols : NULL, NULL, &error)
      || socket == NULL)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (call->msg), "Upgrade", "websocket");
      _te_call_reply_status (call, 426, "upgrade_required",
                             error ? error->message : "This route takes WebSocket connections only");
      return;
    }
  if (subscribe && strlen (subscribe) > 4096 * 65)
    {
      _te_call_reply_status (call, 400, "bad_request", "Too many info-hashes");
      return;
    }
  soup_websocket_server_process_handshake (call->msg, NULL, offered ? protocols : NULL, NULL, NULL);
  u = g_new0 (Upgrade, 1);
  u->service = g_object_ref (call->service);
  u->socket = g_object_ref (socket);
  u->info_hashes = g_strdup (subscribe);
  g_signal_connect_data (call->msg, "wrote-informational", G_CALLBACK (upgraded_cb), u, upgrade_free, 0);
}

/* Session */

void
_te_route_settings_get (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);

  _te_call_reply_object (call, 200, te_service_settings_to_json (te_engine_get_settings (engine)));
}

void
_te_route_settings_patch (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  g_autoptr(GError) error = NULL;
  TeEngineSettings settings;

  te_engine_settings_copy (&settings, te_engine_get_settings (engine));
  if (!te_service_settings_apply_json (&settings, call->body, &error))
    {
      te_engine_settings_clear (&settings);
      _te_call_reply_error (call, error);
      return;
    }
  te_engine_set_settings (engine, &settings);
  te_engine_settings_clear (&settings);
  _te_service_settings_changed (call->service);
  _te_route_settings_get (call);
}

void
_te_route_stats (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  GPtrArray *torrents = te_engine_get_torrents (engine);
  TeQueueManager *queue = te_engine_get_queue (engine);
  TeEngineStats stats;
  GString *s = g_string_new (NULL);

  te_engine_get_stats (engine, &stats);
  g_string_append_printf (s, "{\"downloadRate\":%" G_GUINT64_FORMAT ",\"uploadRate\":%" G_GUINT64_FORMAT
                          ",\"downloaded\":%" G_GUINT64_FORMAT ",\"uploaded\":%" G_GUINT64_FORMAT
                          ",\"peersConnected\":%u,\"torrents\":%u,\"activeDownloads\":%u,\"activeSeeds\":%u"
                          ",\"altSpeedEnabled\":%s,\"uptime\":%" G_GINT64_FORMAT "}",
                          stats.download_rate, stats.upload_rate, stats.downloaded, stats.uploaded,
                          stats.peers_connected, torrents->len, te_queue_manager_count_active (queue, FALSE),
                          te_queue_manager_count_active (queue, TRUE),
                          te_engine_get_alt_speed (engine) ? "true" : "false",
                          (g_get_monotonic_time () - _te_service_get_started_us (call->service)) / G_USEC_PER_SEC);
  _te_call_reply (call, 200, s);
}

void
_te_route_alt_speed_get (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  const TeEngineSettings *settings = te_engine_get_settings (engine);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "{\"enabled\":%s,\"downloadLimit\":%" G_GUINT64_FORMAT ",\"uploadLimit\":%"
                          G_GUINT64_FORMAT "}", te_engine_get_alt_speed (engine) ? "true" : "false",
                          settings->alt_download_limit, settings->alt_upload_limit);
  _te_call_reply (call, 200, s);
}

void
_te_route_alt_speed_put (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  g_autoptr(GError) error = NULL;
  gboolean enabled;

  if (!te_api_parse_alt_speed (call->body, &enabled, &error))
    {
      _te_call_reply_error (call, error);
      return;
    }
  if (enabled != te_engine_get_alt_speed (engine))
    {
      te_engine_set_alt_speed (engine, enabled);
      _te_service_settings_changed (call->service);
    }
  _te_route_alt_speed_get (call);
}
