/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service"

#include "config.h"

#include <string.h>

#include "te-event-hub.h"
#include "te-service-connections.h"
#include "te-origin.h"
#include "te-service-private.h"
#include "rpc/te-transmission-rpc.h"

/* The remote-control server: one catch-all libsoup handler pair. The early
 * handler checks Host, the route, the body size and the token before the body
 * is read; the late one parses the body and runs the route. Replies are
 * written in te-service-reply.c. */

struct _TeService
{
  GObject            parent_instance;

  TeEngine          *engine;
  TeServiceConfig    config;
  SoupServer        *server;
  GBytes            *secret;
  TeAuthLimiter     *limiter;
  TeEventHub        *events;
  TeTransmissionRpc *rpc;
  SoupSession       *session;
  GHashTable        *allowed_hosts;
  GHashTable        *basic_ok;       /* HMACs of credentials already verified */
  guint16            port;
  gint64             started_us;
  guint              event_backlog;
  TeServiceConnections *connections;
  TeConnectionLimits   conn_limits;
};

enum {
  SIGNAL_SETTINGS_CHANGED,
  SIGNAL_CLOSE_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeService, te_service, G_TYPE_OBJECT)
G_DEFINE_QUARK (te-service-error-quark, te_service_error)

/**
 * te_service_config_init:
 *
 * Defaults: 127.0.0.1, port 9091, no credentials (te_service_start() refuses
 * to run without them).
 */
void
te_service_config_init (TeServiceConfig *config)
{
  memset (config, 0, sizeof *config);
  config->bind_address = g_strdup ("127.0.0.1");
  config->port = 9091;
}

void
te_service_config_clear (TeServiceConfig *config)
{
  g_clear_pointer (&config->bind_address, g_free);
  g_clear_pointer (&config->username, g_free);
  g_clear_pointer (&config->password_hash, g_free);
  g_clear_pointer (&config->secret_path, g_free);
  g_clear_pointer (&config->allowed_hosts, g_strfreev);
  g_clear_pointer (&config->cors_origins, g_strfreev);
  g_clear_pointer (&config->tls_certificate, g_free);
  g_clear_pointer (&config->tls_key, g_free);
}

void
te_service_config_copy (TeServiceConfig       *dest,
                        const TeServiceConfig *src)
{
  dest->bind_address = g_strdup (src->bind_address ? src->bind_address : "127.0.0.1");
  dest->port = src->port;
  dest->username = g_strdup (src->username);
  dest->password_hash = g_strdup (src->password_hash);
  dest->secret_path = g_strdup (src->secret_path);
  dest->allowed_hosts = g_strdupv (src->allowed_hosts);
  dest->cors_origins = g_strdupv (src->cors_origins);
  dest->tls_certificate = g_strdup (src->tls_certificate);
  dest->tls_key = g_strdup (src->tls_key);
}

static void
te_service_dispose (GObject *object)
{
  TeService *self = TE_SERVICE (object);

  te_service_stop (self);
  g_clear_object (&self->rpc);
  g_clear_object (&self->session);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (te_service_parent_class)->dispose (object);
}

static void
te_service_finalize (GObject *object)
{
  TeService *self = TE_SERVICE (object);

  te_service_config_clear (&self->config);
  g_clear_pointer (&self->allowed_hosts, g_hash_table_unref);
  g_clear_pointer (&self->basic_ok, g_hash_table_unref);
  g_clear_pointer (&self->limiter, te_auth_limiter_free);

  G_OBJECT_CLASS (te_service_parent_class)->finalize (object);
}

static void
te_service_class_init (TeServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_service_dispose;
  object_class->finalize = te_service_finalize;

  /**
   * TeService::settings-changed:
   *
   * A client changed the engine's settings through the API (already applied
   * with te_engine_set_settings()); the owner may save them.
   */
  signals[SIGNAL_SETTINGS_CHANGED] =
    g_signal_new ("settings-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);

  /**
   * TeService::close-requested:
   *
   * A client asked the session to shut down (Transmission's `session-close`).
   * The owner that will stop the session, after the reply has gone out,
   * returns %TRUE; when none does, the client is told the server keeps running.
   *
   * Returns: %TRUE when the request is handled
   */
  signals[SIGNAL_CLOSE_REQUESTED] =
    g_signal_new ("close-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 0);
}

static void
te_service_init (TeService *self)
{
  /* Five tries at once, then one every 12 s per client address. */
  self->limiter = te_auth_limiter_new (5, 12);
  self->basic_ok = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * te_service_new:
 * @engine: the engine to control
 * @config: where to listen and who may come in; copied
 *
 * Returns: (transfer full): a service, not listening yet
 */
TeService *
te_service_new (TeEngine              *engine,
                const TeServiceConfig *config)
{
  TeService *self;

  g_return_val_if_fail (TE_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (TE_TYPE_SERVICE, NULL);
  self->engine = g_object_ref (engine);
  te_service_config_copy (&self->config, config);
  return self;
}

TeEngine *
te_service_get_engine (TeService *self)
{
  g_return_val_if_fail (TE_IS_SERVICE (self), NULL);
  return self->engine;
}

guint16
te_service_get_port (TeService *self)
{
  g_return_val_if_fail (TE_IS_SERVICE (self), 0);
  return self->port;
}

/* Accessors for the routes */

GBytes *_te_service_get_secret (TeService *self) { return self->secret; }
TeAuthLimiter *_te_service_get_limiter (TeService *self) { return self->limiter; }
const TeServiceConfig *_te_service_get_config (TeService *self) { return &self->config; }
gint64 _te_service_get_started_us (TeService *self) { return self->started_us; }
TeEventHub *_te_service_get_events (TeService *self) { return self->events; }

SoupSession *
_te_service_get_session (TeService *self)
{
  if (self->session == NULL)
    self->session = soup_session_new_with_options ("timeout", 30, "idle-timeout", 30, NULL);
  return self->session;
}

void
_te_service_settings_changed (TeService *self)
{
  g_signal_emit (self, signals[SIGNAL_SETTINGS_CHANGED], 0);
}

void
_te_service_set_event_limits (TeService *self,
                              guint      max_backlog_frames)
{
  self->event_backlog = max_backlog_frames;
  if (self->events)
    te_event_hub_set_max_backlog (self->events, max_backlog_frames);
}

/* Timeouts and caps of connections; they apply from the next start. */
void
_te_service_set_connection_limits (TeService                *self,
                                   const TeConnectionLimits *limits)
{
  self->conn_limits = *limits;
}

guint
_te_service_get_n_connections (TeService *self)
{
  return self->connections ? te_service_connections_get_n_open (self->connections) : 0;
}

GSocket *
_te_service_get_message_socket (TeService         *self,
                                SoupServerMessage *msg)
{
  return self->connections ? te_service_connections_get_socket (self->connections, msg)
                           : soup_server_message_get_socket (msg);
}

/* Host and Origin checks (te-origin.c) */

/* A state-changing request or a WebSocket upgrade: what a page of another
 * site could forge. */
static gboolean
needs_origin_check (SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);

  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0 && strcmp (method, "OPTIONS") != 0)
    return TRUE;
  return soup_message_headers_header_contains (req, "Upgrade", "websocket");
}

/* Routing */

static gboolean
match_pattern (const char  *pattern,
               const char  *path,
               char       **id)
{
  g_auto(GStrv) p = g_strsplit (pattern, "/", -1);
  g_auto(GStrv) s = g_strsplit (path, "/", -1);
  guint n = g_strv_length (p);

  if (g_strv_length (s) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (strcmp (p[i], "{id}") == 0)
        {
          if (*s[i] == '\0')
            return FALSE;
          if (id)
            {
              g_free (*id);
              *id = g_strdup (s[i]);
            }
        }
      else if (strcmp (p[i], s[i]) != 0)
        return FALSE;
    }
  return TRUE;
}

static const TeRoute *
find_route (const char  *method,
            const char  *path,
            char       **id,
            GString     *allowed)
{
  guint n;
  const TeRoute *routes = _te_service_get_routes (&n);
  const TeRoute *found = NULL;
  gsize len = strlen (path);
  g_autofree char *bare = NULL;

  /* Transmission's own server matches its RPC path as a prefix, and
   * transmission-remote 3 posts to "/transmission/rpc/" (trailing slash) by
   * default while version 4 and most other clients post to "/transmission/rpc".
   * The Transmission route takes both; the REST routes stay exact. */
  if (len > 1 && path[len - 1] == '/')
    bare = g_strndup (path, len - 1);

  for (guint i = 0; i < n; i++)
    {
      const char *p = path;

      if (!match_pattern (routes[i].pattern, p, NULL))
        {
          if (bare == NULL || !(routes[i].flags & TE_ROUTE_BASIC_AUTH)
              || !match_pattern (routes[i].pattern, bare, NULL))
            continue;
          p = bare;
        }
      if (allowed->len)
        g_string_append (allowed, ", ");
      g_string_append (allowed, routes[i].method);
      if (found == NULL && strcmp (routes[i].method, method) == 0)
        {
          found = &routes[i];
          match_pattern (routes[i].pattern, p, id);
        }
    }
  return found;
}

/* Credentials */

static char *
bearer_token (SoupServerMessage *msg,
              const TeRoute     *route,
              GHashTable        *query)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (h, "Authorization");

  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    return g_strdup (auth + 7);
  if (route->flags & TE_ROUTE_WEBSOCKET)
    {
      const char *protocols = soup_message_headers_get_list (h, "Sec-WebSocket-Protocol");
      if (protocols)
        {
          g_auto(GStrv) list = g_strsplit (protocols, ",", 16);

          for (guint i = 0; list[i]; i++)
            {
              const char *p = g_strstrip (list[i]);

              if (g_str_has_prefix (p, "bearer."))
                return g_strdup (p + 7);
            }
        }
      if (query && g_hash_table_lookup (query, "access_token"))
        return g_strdup (g_hash_table_lookup (query, "access_token"));
    }
  return NULL;
}

static gboolean
token_ok (TeService  *self,
          const char *token)
{
  g_autofree char *sub = NULL;
  g_autoptr(GError) error = NULL;

  if (token == NULL)
    return FALSE;
  sub = te_auth_token_verify (self->secret, token, g_get_real_time () / G_USEC_PER_SEC, &error);
  return sub != NULL && g_strcmp0 (sub, self->config.username) == 0;
}

static void
add_cors (TeService         *self,
          SoupServerMessage *msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  const char *origin = soup_message_headers_get_one (req, "Origin");

  if (origin == NULL || self->config.cors_origins == NULL)
    return;
  if (!g_strv_contains ((const char * const *) self->config.cors_origins, origin)
      && !g_strv_contains ((const char * const *) self->config.cors_origins, "*"))
    return;
  soup_message_headers_replace (resp, "Access-Control-Allow-Origin", origin);
  soup_message_headers_append (resp, "Vary", "Origin");
  if (soup_server_message_get_method (msg) == SOUP_METHOD_OPTIONS
      || strcmp (soup_server_message_get_method (msg), "OPTIONS") == 0)
    {
      soup_message_headers_replace (resp, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
      soup_message_headers_replace (resp, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, X-Transmission-Session-Id");
      soup_message_headers_replace (resp, "Access-Control-Max-Age", "600");
    }
  else
    soup_message_headers_replace (resp, "Access-Control-Expose-Headers", "Retry-After, X-Transmission-Session-Id");
}

/* Over the limit, the rest of the body is read and thrown away (libsoup has
 * no way to stop reading short of dropping the connection, and the client is
 * owed its 413); memory stays bounded either way. */
static void
discard_body (TeService         *self,
              SoupServerMessage *msg)
{
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  _te_service_reply_error (self, msg, 413, "payload_too_large", "The request body is too large");
}

static void
got_chunk_cb (SoupServerMessage *msg,
              GBytes            *chunk,
              TeService         *self)
{
  gsize limit = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), "te-limit"));
  gsize seen = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), "te-seen")) + g_bytes_get_size (chunk);

  g_object_set_data (G_OBJECT (msg), "te-seen", GSIZE_TO_POINTER (seen));
  if (seen > limit && soup_server_message_get_status (msg) != 413)
    {
      g_debug ("Request body over %" G_GSIZE_FORMAT " bytes: discarding it", limit);
      discard_body (self, msg);
    }
}

static gsize
body_limit (const TeRoute *route)
{
  if (route->flags & TE_ROUTE_BASIC_AUTH)
    return TE_TRANSMISSION_RPC_MAX_REQUEST;
  return (route->flags & TE_ROUTE_LARGE_BODY) ? TE_API_MAX_BODY : TE_API_MAX_SMALL_BODY;
}

static void
early_handler_cb (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  TeService *self = user_data;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GString) allowed = g_string_new (NULL);
  g_autofree char *id = NULL;
  const TeRoute *route;
  g_autofree char *token = NULL;
  const char *origin;
  gsize limit;

  if (!te_origin_host_allowed (self->allowed_hosts, soup_message_headers_get_one (req, "Host")))
    {
      _te_service_reply_error (self, msg, 403, "forbidden", "This Host is not allowed");
      return;
    }
  origin = soup_message_headers_get_one (req, "Origin");
  if (origin && needs_origin_check (msg)
      && !te_origin_allowed (self->allowed_hosts, (const char * const *) self->config.cors_origins, self->port,
                             origin, soup_message_headers_get_one (req, "Host")))
    {
      g_debug ("Refused a %s from Origin %s", method, origin);
      _te_service_reply_error (self, msg, 403, "forbidden",
                               "This Origin may not change anything: it is neither this server "
                               "nor one of the configured CORS origins");
      return;
    }
  add_cors (self, msg);
  route = find_route (method, path, &id, allowed);
  if (strcmp (method, "OPTIONS") == 0 && allowed->len)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allowed->str);
      soup_server_message_set_status (msg, 204, NULL);
      return;
    }
  if (route == NULL)
    {
      if (allowed->len == 0)
        _te_service_reply_error (self, msg, 404, "not_found", "No such route");
      else
        {
          soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allowed->str);
          _te_service_reply_error (self, msg, 405, "method_not_allowed", "This route does not take that method");
        }
      return;
    }
  g_object_set_data (G_OBJECT (msg), "te-route", (gpointer) route);
  g_object_set_data_full (G_OBJECT (msg), "te-id", g_steal_pointer (&id), g_free);

  limit = body_limit (route);
  if (soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH
      && (gsize) soup_message_headers_get_content_length (req) > limit)
    {
      discard_body (self, msg);
      return;
    }
  g_object_set_data (G_OBJECT (msg), "te-limit", GSIZE_TO_POINTER (limit));
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (got_chunk_cb), self, 0);

  if (!(route->flags & (TE_ROUTE_PUBLIC | TE_ROUTE_BASIC_AUTH))
      && !token_ok (self, (token = bearer_token (msg, route, query))))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                    "Bearer realm=\"TorrentEdge\"");
      _te_service_reply_error (self, msg, 401, "unauthorized", "A valid bearer token is required");
    }
}

static void
handler_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  TeService *self = user_data;
  const TeRoute *route = g_object_get_data (G_OBJECT (msg), "te-route");
  TeCall *call;

  if (route == NULL)
    {
      _te_service_reply_error (self, msg, 404, "not_found", "No such route");
      return;
    }
  call = g_new0 (TeCall, 1);
  call->service = g_object_ref (self);
  call->msg = g_object_ref (msg);
  call->route = route;
  call->id = g_strdup (g_object_get_data (G_OBJECT (msg), "te-id"));
  call->query = query ? g_hash_table_ref (query) : NULL;

  if (route->flags & TE_ROUTE_TORRENT)
    {
      TeTorrent *t = te_engine_find_torrent (self->engine, call->id);

      if (t == NULL)
        {
          _te_call_reply_status (call, 404, "not_found", "No torrent has this id");
          _te_call_free (call);
          return;
        }
      call->torrent = g_object_ref (t);
    }
  if (route->flags & TE_ROUTE_JSON)
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      g_autoptr(GError) error = NULL;
      const char *type = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);

      call->body = te_api_parse_object (type, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
      if (call->body == NULL)
        {
          _te_call_reply_error (call, error);
          _te_call_free (call);
          return;
        }
    }
  route->handler (call);
  if (!call->paused)
    _te_call_free (call);
}

/* Transmission RPC: basic credentials, then the compatibility layer. */

static char *
credential_key (TeService  *self,
                const char *user,
                const char *password)
{
  g_autofree char *joined = g_strconcat (user, ":", password, NULL);

  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, g_bytes_get_data (self->secret, NULL),
                                    g_bytes_get_size (self->secret), joined, -1);
}

typedef struct {
  char *user;
  char *password;
  char *hash;
} BasicCheck;

static void
basic_check_free (BasicCheck *c)
{
  g_free (c->user);
  g_free (c->password);
  g_free (c->hash);
  g_free (c);
}

static void
basic_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  BasicCheck *c = task_data;

  g_task_return_boolean (task, te_auth_verify_password (c->password, c->hash));
}

static void
reply_basic_challenge (TeCall *call)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (call->msg), "WWW-Authenticate",
                                "Basic realm=\"TorrentEdge\"");
  _te_call_reply_status (call, 401, "unauthorized", "User name and password required");
}

static void
basic_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TeCall *call = user_data;
  TeService *self = call->service;
  BasicCheck *c = g_task_get_task_data (G_TASK (result));
  gboolean ok = g_task_propagate_boolean (G_TASK (result), NULL);

  if (!call->finished)
    {
      if (ok && g_strcmp0 (c->user, self->config.username) == 0)
        {
          /* Remember the credentials (as an HMAC) so the next request is quick. */
          if (g_hash_table_size (self->basic_ok) > 16)
            g_hash_table_remove_all (self->basic_ok);
          g_hash_table_add (self->basic_ok, credential_key (self, c->user, c->password));
          /* The compatibility layer replies (or pauses) before the message
           * resumes in a later dispatch. */
          _te_call_unpause (call);
          _te_service_handle_transmission (self, call->msg);
        }
      else
        reply_basic_challenge (call);
    }
  _te_call_free (call);
}

void
_te_route_transmission (TeCall *call)
{
  TeService *self = call->service;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (call->msg),
                                                   "Authorization");
  g_autofree guchar *decoded = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GTask) task = NULL;
  GSocketAddress *remote = soup_server_message_get_remote_address (call->msg);
  g_autofree char *client = NULL;
  BasicCheck *c;
  gsize len = 0;
  char *colon;
  guint retry;

  if (auth == NULL || g_ascii_strncasecmp (auth, "Basic ", 6) != 0 || strlen (auth) > 4096)
    {
      reply_basic_challenge (call);
      return;
    }
  decoded = g_base64_decode (auth + 6, &len);
  if (decoded == NULL || (colon = memchr (decoded, ':', len)) == NULL
      || memchr (decoded, '\0', len) != NULL)
    {
      reply_basic_challenge (call);
      return;
    }
  decoded = g_realloc (decoded, len + 1);
  decoded[len] = '\0';
  colon = strchr ((char *) decoded, ':');
  *colon = '\0';
  key = credential_key (self, (char *) decoded, colon + 1);
  if (g_hash_table_contains (self->basic_ok, key))
    {
      _te_service_handle_transmission (self, call->msg);
      return;
    }
  client = remote ? g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)))
                  : g_strdup ("unknown");
  if (!te_auth_limiter_take (self->limiter, client, g_get_monotonic_time (), &retry))
    {
      g_autofree char *s = g_strdup_printf ("%u", retry);

      soup_message_headers_replace (soup_server_message_get_response_headers (call->msg), "Retry-After", s);
      _te_call_reply_status (call, 429, "too_many_requests", "Too many attempts; try again later");
      return;
    }
  c = g_new0 (BasicCheck, 1);
  c->user = g_strdup ((char *) decoded);
  c->password = g_strdup (colon + 1);
  c->hash = g_strdup (self->config.password_hash);
  _te_call_pause (call);
  task = g_task_new (self, NULL, basic_done_cb, call);
  g_task_set_source_tag (task, _te_route_transmission);
  g_task_set_task_data (task, c, (GDestroyNotify) basic_check_free);
  g_task_run_in_thread (task, basic_thread);
}

static gboolean
rpc_close_requested_cb (TeTransmissionRpc *rpc,
                        TeService         *self)
{
  gboolean handled = FALSE;

  g_signal_emit (self, signals[SIGNAL_CLOSE_REQUESTED], 0, &handled);
  return handled;
}

void
_te_service_handle_transmission (TeService         *self,
                                 SoupServerMessage *msg)
{
  if (self->rpc == NULL)
    {
      self->rpc = te_transmission_rpc_new (self->engine);
      g_signal_connect_object (self->rpc, "close-requested", G_CALLBACK (rpc_close_requested_cb), self, 0);
    }
  te_transmission_rpc_handle (self->rpc, msg);
}

/* Life cycle */

static gboolean
load_tls (TeService  *self,
          GError    **error)
{
  g_autoptr(GTlsCertificate) cert = NULL;

  if (self->config.tls_certificate == NULL && self->config.tls_key == NULL)
    return TRUE;
  if (self->config.tls_certificate == NULL || self->config.tls_key == NULL)
    {
      g_set_error_literal (error, TE_SERVICE_ERROR, TE_SERVICE_ERROR_CONFIG,
                           "HTTPS needs both a certificate and a key");
      return FALSE;
    }
  cert = g_tls_certificate_new_from_files (self->config.tls_certificate, self->config.tls_key, error);
  if (cert == NULL)
    {
      g_prefix_error (error, "Cannot load the TLS certificate: ");
      return FALSE;
    }
  soup_server_set_tls_certificate (self->server, cert);
  return TRUE;
}

/**
 * te_service_start:
 *
 * Listens on the configured address. Refuses to start without a user name
 * and a password hash.
 *
 * Returns: whether it listens now
 */
gboolean
te_service_start (TeService  *self,
                  GError    **error)
{
  g_autoptr(GInetAddress) addr = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(SoupServer) server = NULL;

  g_return_val_if_fail (TE_IS_SERVICE (self), FALSE);

  if (self->server)
    return TRUE;
  if (self->config.username == NULL || *self->config.username == '\0' || self->config.password_hash == NULL)
    {
      g_set_error_literal (error, TE_SERVICE_ERROR, TE_SERVICE_ERROR_CONFIG,
                           "The remote API needs a user name and a password");
      return FALSE;
    }
  addr = g_inet_address_new_from_string (self->config.bind_address);
  if (addr == NULL)
    {
      g_set_error (error, TE_SERVICE_ERROR, TE_SERVICE_ERROR_CONFIG, "“%s” is not an IP address",
                   self->config.bind_address);
      return FALSE;
    }
  if (self->secret == NULL && (self->secret = te_auth_load_secret (self->config.secret_path, error)) == NULL)
    return FALSE;

  server = soup_server_new ("server-header", "TorrentEdge/" PACKAGE_VERSION " ", NULL);
  self->server = g_steal_pointer (&server);
  if (!load_tls (self, error))
    {
      g_clear_object (&self->server);
      return FALSE;
    }
  /* The service accepts connections itself (te-service-connections.c). */
  sockaddr = g_inet_socket_address_new (addr, self->config.port);
  self->connections = te_service_connections_new (self->server, &self->conn_limits);
  if (!te_service_connections_listen (self->connections, G_INET_SOCKET_ADDRESS (sockaddr), error))
    {
      g_prefix_error (error, "Cannot listen on %s port %u: ", self->config.bind_address, self->config.port);
      g_clear_object (&self->connections);
      g_clear_object (&self->server);
      return FALSE;
    }
  self->port = te_service_connections_get_port (self->connections);

  self->allowed_hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (self->allowed_hosts, g_strdup ("localhost"));
  g_hash_table_add (self->allowed_hosts, g_ascii_strdown (self->config.bind_address, -1));
  for (guint i = 0; self->config.allowed_hosts && self->config.allowed_hosts[i]; i++)
    g_hash_table_add (self->allowed_hosts, g_ascii_strdown (self->config.allowed_hosts[i], -1));

  self->events = te_event_hub_new (self->engine);
  if (self->event_backlog)
    te_event_hub_set_max_backlog (self->events, self->event_backlog);
  soup_server_add_early_handler (self->server, NULL, early_handler_cb, self, NULL);
  soup_server_add_handler (self->server, NULL, handler_cb, self, NULL);
  self->started_us = g_get_monotonic_time ();
  te_engine_set_remote_control_port (self->engine, self->port);
  g_debug ("Remote API on %s port %u", self->config.bind_address, self->port);
  return TRUE;
}

/**
 * te_service_stop:
 *
 * Closes the listening socket and every client connection.
 */
void
te_service_stop (TeService *self)
{
  g_return_if_fail (TE_IS_SERVICE (self));

  if (self->events)
    te_event_hub_close (self->events);
  g_clear_pointer (&self->events, te_event_hub_free);
  if (self->connections)
    te_service_connections_close (self->connections);
  g_clear_object (&self->connections);
  if (self->server)
    {
      soup_server_disconnect (self->server);
      g_clear_object (&self->server);
    }
  g_clear_pointer (&self->allowed_hosts, g_hash_table_unref);
  g_clear_pointer (&self->secret, g_bytes_unref);
  if (self->port != 0)
    te_engine_set_remote_control_port (self->engine, 0);
  self->port = 0;
}
