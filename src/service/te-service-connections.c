/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "te-fd-budget.h"
#include "te-listener.h"
#include "te-service-connections.h"

/* The remote API's connections. The service owns the listening socket (a
 * TeListener: when descriptors run out it waits and tries again, where
 * libsoup's own listener stops for good) and hands each connection to
 * libsoup with soup_server_accept_iostream(), wrapped in TLS first when the
 * server has a certificate.
 *
 * Each connection is followed from accept to close through the server's
 * request signals; a message finds its connection by the remote address.
 * A connection that has not sent its first request's headers within the
 * header timeout (TLS handshake included), a keep-alive connection idle for
 * the idle timeout, and a request body or response that makes no progress
 * for as long are shut down: libsoup sees the end of the stream and closes
 * it. WebSockets are the event hub's to police. At the cap per address or in
 * all, the oldest connection that is still waiting for headers or idle is
 * shut down to make room for the new one, so a flood of idle or half-sent
 * requests cannot lock a client out; when none is, the new connection is
 * refused. Connections being shut down still hold descriptors: while a third
 * of the cap of them (at least 4) are waiting for libsoup, accepting waits. */

typedef enum {
  CONN_HEADERS,   /* the first request's headers are not in yet */
  CONN_IDLE,      /* keep-alive, between requests */
  CONN_BODY,      /* reading a request body */
  CONN_BUSY,      /* a handler has the request */
  CONN_WRITING,   /* the response is going out */
  CONN_UPGRADED,  /* a WebSocket now */
} ConnState;

static const char * const state_names[] = {
  "waiting for request headers", "idle", "reading a request body", "busy", "writing a response",
  "upgraded",
};

typedef struct {
  GSocket   *socket;
  char      *key;        /* "address port" of the client */
  char      *host;
  ConnState  state;
  gint64     deadline;   /* monotonic µs; 0 for none */
  gboolean   closing;    /* shut down; libsoup closes it next */
  gboolean   started;    /* its first request started: the next ones are keep-alive */
} Conn;

struct _TeServiceConnections
{
  GObject             parent_instance;

  SoupServer         *server;
  TeListener         *listener;
  TeConnectionLimits  limits;
  GQueue              conns;       /* Conn, oldest first */
  GHashTable         *by_key;      /* key → Conn */
  GHashTable         *per_host;    /* host → open connections (not closing) */
  guint               n_closing;
  guint               sweep_id;
};

G_DEFINE_FINAL_TYPE (TeServiceConnections, te_service_connections, G_TYPE_OBJECT)

static void
conn_free (Conn *c)
{
  g_object_unref (c->socket);
  g_free (c->key);
  g_free (c->host);
  g_free (c);
}

static char *
address_key (GSocketAddress  *address,
             char           **host)
{
  g_autofree char *ip = NULL;
  char *key;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  key = g_strdup_printf ("%s %u", ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
  if (host)
    *host = g_steal_pointer (&ip);
  return key;
}

static guint
host_count (TeServiceConnections *self,
            const char           *host)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->per_host, host));
}

static void
host_add (TeServiceConnections *self,
          const char           *host,
          int                   delta)
{
  guint n = host_count (self, host) + delta;

  if (n == 0)
    g_hash_table_remove (self->per_host, host);
  else
    g_hash_table_insert (self->per_host, g_strdup (host), GUINT_TO_POINTER (n));
}

static guint
max_total (TeServiceConnections *self)
{
  return self->limits.max_total ? self->limits.max_total : MAX (te_fd_budget_get_api () * 3 / 4, 1);
}

static guint
max_per_address (TeServiceConnections *self)
{
  return MIN (self->limits.max_per_address ? self->limits.max_per_address : TE_SERVICE_MAX_PER_ADDRESS,
              max_total (self));
}

static guint
max_closing (TeServiceConnections *self)
{
  return MAX (max_total (self) / 3, 4);
}

static guint
header_timeout_ms (TeServiceConnections *self)
{
  return self->limits.header_timeout_ms ? self->limits.header_timeout_ms : TE_SERVICE_HEADER_TIMEOUT_MS;
}

static guint
idle_timeout_ms (TeServiceConnections *self)
{
  return self->limits.idle_timeout_ms ? self->limits.idle_timeout_ms : TE_SERVICE_IDLE_TIMEOUT_MS;
}

static void
set_state (TeServiceConnections *self,
           Conn                 *c,
           ConnState             state)
{
  gint64 now = g_get_monotonic_time ();

  c->state = state;
  switch (state)
    {
    case CONN_HEADERS:
      c->deadline = now + (gint64) header_timeout_ms (self) * 1000;
      break;
    case CONN_IDLE:
    case CONN_BODY:
    case CONN_WRITING:
      c->deadline = now + (gint64) idle_timeout_ms (self) * 1000;
      break;
    case CONN_BUSY:
    case CONN_UPGRADED:
    default:
      c->deadline = 0;
      break;
    }
}

/* Ends a connection the libsoup way: it reads the end of the stream, closes
 * the connection and forgets it. */
static void
shut (TeServiceConnections *self,
      Conn                 *c,
      const char           *why)
{
  g_assert (!c->closing);
  g_debug ("Closing the API connection from %s (%s): %s", c->key, state_names[c->state], why);
  g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
  c->closing = TRUE;
  self->n_closing++;
  host_add (self, c->host, -1);
}

static void
forget (TeServiceConnections *self,
        GList                *link)
{
  Conn *c = link->data;

  if (c->closing)
    self->n_closing--;
  else
    host_add (self, c->host, -1);
  g_hash_table_remove (self->by_key, c->key);
  g_queue_delete_link (&self->conns, link);
  conn_free (c);
}

/* Drops the connections libsoup has closed. */
static void
sweep_closed (TeServiceConnections *self)
{
  GList *link = self->conns.head;

  while (link != NULL)
    {
      GList *next = link->next;

      if (g_socket_is_closed (((Conn *) link->data)->socket))
        forget (self, link);
      link = next;
    }
}

static gboolean
sweep_cb (gpointer data)
{
  TeServiceConnections *self = data;
  gint64 now = g_get_monotonic_time ();

  sweep_closed (self);
  for (GList *l = self->conns.head; l != NULL; l = l->next)
    {
      Conn *c = l->data;

      if (!c->closing && c->deadline != 0 && now >= c->deadline)
        shut (self, c, c->state == CONN_HEADERS ? "no request headers in time" : "timed out");
    }
  if (self->conns.length == 0)
    {
      self->sweep_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
ensure_sweep (TeServiceConnections *self)
{
  guint interval;

  if (self->sweep_id != 0)
    return;
  interval = CLAMP (MIN (header_timeout_ms (self), idle_timeout_ms (self)) / 4, 10, 1000);
  self->sweep_id = g_timeout_add (interval, sweep_cb, self);
}

/* Shuts the oldest connection (of @host, or of anyone) that is waiting for
 * headers or idle. */
static gboolean
evict (TeServiceConnections *self,
       const char           *host)
{
  for (GList *l = self->conns.head; l != NULL; l = l->next)
    {
      Conn *c = l->data;

      if (c->closing || (host != NULL && strcmp (c->host, host) != 0))
        continue;
      if (c->state == CONN_HEADERS || c->state == CONN_IDLE)
        {
          shut (self, c, host ? "too many connections from its address" : "too many connections");
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
admit_cb (gpointer data)
{
  TeServiceConnections *self = data;

  sweep_closed (self);
  return self->n_closing < max_closing (self);
}

static void
accept_cb (GSocket  *socket,
           gpointer  data)
{
  TeServiceConnections *self = data;
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *key = address_key (remote, &host);
  GTlsCertificate *cert = soup_server_get_tls_certificate (self->server);
  Conn *c;

  if (key == NULL || local == NULL || g_hash_table_contains (self->by_key, key))
    return;
  if (host_count (self, host) >= max_per_address (self) && !evict (self, host))
    {
      g_debug ("Refusing an API connection from %s: %u open from there, none idle", host, host_count (self, host));
      return;
    }
  if (self->conns.length - self->n_closing >= max_total (self) && !evict (self, NULL))
    {
      g_debug ("Refusing an API connection from %s: %u open, none idle", host,
               self->conns.length - self->n_closing);
      return;
    }

  /* Replies go out as headers then body: with Nagle's algorithm the body
   * would wait for the client's delayed ACK, some 40 ms a request. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  stream = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
  if (cert != NULL)
    {
      static const char * const protocols[] = { "http/1.1", "http/1.0", NULL };
      GIOStream *tls = g_tls_server_connection_new (stream, cert, &error);

      if (tls == NULL)
        {
          g_debug ("Dropping an API connection from %s: %s", host, error->message);
          return;
        }
      g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
      g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (tls), protocols);
      g_object_unref (stream);
      stream = tls;
    }

  /* libsoup starts the first request at once: known before it does. */
  c = g_new0 (Conn, 1);
  c->socket = g_object_ref (socket);
  c->key = g_steal_pointer (&key);
  c->host = g_steal_pointer (&host);
  set_state (self, c, CONN_HEADERS);
  g_queue_push_tail (&self->conns, c);
  g_hash_table_insert (self->by_key, c->key, c);
  host_add (self, c->host, 1);
  ensure_sweep (self);
  if (!soup_server_accept_iostream (self->server, stream, local, remote, &error))
    {
      g_debug ("Dropping an API connection from %s: %s", c->host, error->message);
      shut (self, c, "not taken");
    }
}

/* Messages */

static Conn *
conn_for (TeServiceConnections *self,
          SoupServerMessage    *msg)
{
  const char *key = g_object_get_data (G_OBJECT (msg), "te-connection");

  return key ? g_hash_table_lookup (self->by_key, key) : NULL;
}

static void
got_headers_cb (SoupServerMessage    *msg,
                TeServiceConnections *self)
{
  Conn *c = conn_for (self, msg);

  if (c != NULL && !c->closing)
    set_state (self, c, CONN_BODY);
}

/* A body chunk came in, or a piece of the response went out: progress. */
static void
progress (TeServiceConnections *self,
          SoupServerMessage    *msg)
{
  Conn *c = conn_for (self, msg);

  if (c != NULL && !c->closing && (c->state == CONN_BODY || c->state == CONN_WRITING))
    set_state (self, c, c->state);
}

static void
got_chunk_cb (SoupServerMessage    *msg,
              GBytes               *chunk,
              TeServiceConnections *self)
{
  progress (self, msg);
}

static void
wrote_body_data_cb (SoupServerMessage    *msg,
                    guint                 n_bytes,
                    TeServiceConnections *self)
{
  progress (self, msg);
}

static void
wrote_headers_cb (SoupServerMessage    *msg,
                  TeServiceConnections *self)
{
  Conn *c = conn_for (self, msg);

  if (c != NULL && !c->closing && c->state != CONN_UPGRADED)
    set_state (self, c, CONN_WRITING);
}

static void
wrote_informational_cb (SoupServerMessage    *msg,
                        TeServiceConnections *self)
{
  Conn *c = conn_for (self, msg);

  if (c != NULL && !c->closing && soup_server_message_get_status (msg) == SOUP_STATUS_SWITCHING_PROTOCOLS)
    set_state (self, c, CONN_UPGRADED);
}

static void
request_started_cb (SoupServer           *server,
                    SoupServerMessage    *msg,
                    TeServiceConnections *self)
{
  g_autofree char *key = address_key (soup_server_message_get_remote_address (msg), NULL);
  Conn *c = key ? g_hash_table_lookup (self->by_key, key) : NULL;

  if (c == NULL)
    return;
  g_object_set_data_full (G_OBJECT (msg), "te-connection", g_steal_pointer (&key), g_free);
  if (c->started && !c->closing)
    set_state (self, c, CONN_IDLE);
  c->started = TRUE;
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (got_headers_cb), self, 0);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (got_chunk_cb), self, 0);
  g_signal_connect_object (msg, "wrote-headers", G_CALLBACK (wrote_headers_cb), self, 0);
  g_signal_connect_object (msg, "wrote-body-data", G_CALLBACK (wrote_body_data_cb), self, 0);
  g_signal_connect_object (msg, "wrote-informational", G_CALLBACK (wrote_informational_cb), self, 0);
}

static void
request_read_cb (SoupServer           *server,
                 SoupServerMessage    *msg,
                 TeServiceConnections *self)
{
  Conn *c = conn_for (self, msg);

  if (c != NULL && !c->closing)
    set_state (self, c, CONN_BUSY);
}

static void
request_done_cb (SoupServer           *server,
                 SoupServerMessage    *msg,
                 TeServiceConnections *self)
{
  Conn *c = conn_for (self, msg);

  if (c != NULL && !c->closing && c->state != CONN_UPGRADED)
    set_state (self, c, CONN_IDLE);
}

/* libsoup keeps a connection alive after a response only while the server
 * has a listener of its own (request_finished() in soup-server.c). It gets
 * one that never yields a connection: one end of a socket pair whose other
 * end is closed. Its accept fails once, and libsoup stops watching it. */
static gboolean
add_keepalive_anchor (SoupServer  *server,
                      GError     **error)
{
  g_autoptr(GSocket) socket = NULL;
  int fds[2];
  gboolean ok;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "Cannot make a socket pair: %s",
                   g_strerror (errsv));
      return FALSE;
    }
  socket = g_socket_new_from_fd (fds[0], error);
  ok = socket != NULL && soup_server_listen_socket (server, socket, 0, error);
  close (fds[1]);
  return ok;
}

/* Life cycle */

static void
te_service_connections_dispose (GObject *object)
{
  TeServiceConnections *self = TE_SERVICE_CONNECTIONS (object);

  te_service_connections_close (self);
  if (self->server)
    g_signal_handlers_disconnect_by_data (self->server, self);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (te_service_connections_parent_class)->dispose (object);
}

static void
te_service_connections_finalize (GObject *object)
{
  TeServiceConnections *self = TE_SERVICE_CONNECTIONS (object);

  g_hash_table_unref (self->by_key);
  g_hash_table_unref (self->per_host);

  G_OBJECT_CLASS (te_service_connections_parent_class)->finalize (object);
}

static void
te_service_connections_class_init (TeServiceConnectionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_service_connections_dispose;
  object_class->finalize = te_service_connections_finalize;
}

static void
te_service_connections_init (TeServiceConnections *self)
{
  g_queue_init (&self->conns);
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  self->per_host = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * te_service_connections_new:
 * @server: the server to hand connections to
 * @limits: (nullable): timeouts and caps; the defaults when `NULL`
 *
 * Returns: (transfer full): connections, not listening yet
 */
TeServiceConnections *
te_service_connections_new (SoupServer               *server,
                            const TeConnectionLimits *limits)
{
  TeServiceConnections *self = g_object_new (TE_TYPE_SERVICE_CONNECTIONS, NULL);

  self->server = g_object_ref (server);
  if (limits)
    self->limits = *limits;
  g_signal_connect (server, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (server, "request-read", G_CALLBACK (request_read_cb), self);
  g_signal_connect (server, "request-finished", G_CALLBACK (request_done_cb), self);
  g_signal_connect (server, "request-aborted", G_CALLBACK (request_done_cb), self);
  return self;
}

/**
 * te_service_connections_listen:
 * @address: where (port 0: any free one)
 */
gboolean
te_service_connections_listen (TeServiceConnections  *self,
                               GInetSocketAddress    *address,
                               GError               **error)
{
  g_return_val_if_fail (self->listener == NULL, FALSE);

  self->listener = te_listener_new ("remote API", admit_cb, accept_cb, self);
  if (!te_listener_add_address (self->listener, address, error)
      || !add_keepalive_anchor (self->server, error))
    {
      g_clear_pointer (&self->listener, te_listener_free);
      return FALSE;
    }
  return TRUE;
}

guint16
te_service_connections_get_port (TeServiceConnections *self)
{
  return self->listener ? te_listener_get_port (self->listener) : 0;
}

/**
 * te_service_connections_get_socket:
 *
 * Returns: (transfer none) (nullable): the socket @msg came on
 */
GSocket *
te_service_connections_get_socket (TeServiceConnections *self,
                                   SoupServerMessage    *msg)
{
  Conn *c = conn_for (self, msg);

  return c ? c->socket : soup_server_message_get_socket (msg);
}

/**
 * te_service_connections_get_n_open:
 *
 * Returns: connections open and not being closed
 */
guint
te_service_connections_get_n_open (TeServiceConnections *self)
{
  sweep_closed (self);
  return self->conns.length - self->n_closing;
}

/**
 * te_service_connections_close:
 *
 * Stops listening. The connections are the server's to close
 * (soup_server_disconnect()).
 */
void
te_service_connections_close (TeServiceConnections *self)
{
  g_clear_pointer (&self->listener, te_listener_free);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  while (self->conns.head != NULL)
    forget (self, self->conns.head);
}
