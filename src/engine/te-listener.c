/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-listener"
#define _GNU_SOURCE   /* accept4() */

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "te-listener.h"

/* Listening sockets that survive running out of descriptors. GSocketService
 * retries a failing accept at once, forever (a core at 100 % and a log line
 * each time); libsoup's listener gives up for good. Here, an accept that
 * fails for want of descriptors stops the watch and retries after a wait
 * that doubles from BACKOFF_MIN_MS to BACKOFF_MAX_MS, logging at most once
 * per LOG_INTERVAL_MS how often it happened. Connections wait meanwhile in
 * the kernel's queue. */

#define BACKLOG          128
#define ACCEPT_BATCH     64      /* per dispatch, so that a flood cannot hold the loop */
#define ADMIT_WAIT_MS    2
#define BACKOFF_MIN_MS   50
#define BACKOFF_MAX_MS   2000
#define LOG_INTERVAL_MS  10000

typedef struct {
  TeListener *listener;
  GSocket    *socket;
  GSource    *source;
} Listening;

struct _TeListener
{
  char                 *what;
  TeListenerAdmitFunc   admit;
  TeListenerAcceptFunc  accept;
  gpointer              user_data;
  GPtrArray            *sockets;        /* Listening */
  guint16               port;
  guint                 retry_id;
  guint                 backoff_ms;     /* 0 while accepting works */
  guint                 backoff_min_ms;
  guint                 backoff_max_ms;
  guint                 log_interval_ms;
  guint                 unlogged;       /* of them, since the last message */
  gint64                logged_at;
};

static gboolean accept_cb (GSocket      *socket,
                           GIOCondition  condition,
                           gpointer      data);

static void
listening_free (gpointer data)
{
  Listening *l = data;

  if (l->source)
    {
      g_source_destroy (l->source);
      g_source_unref (l->source);
    }
  g_socket_close (l->socket, NULL);
  g_object_unref (l->socket);
  g_free (l);
}

static void
watch (TeListener *self)
{
  for (guint i = 0; i < self->sockets->len; i++)
    {
      Listening *l = g_ptr_array_index (self->sockets, i);

      if (l->source != NULL)
        continue;
      l->source = g_socket_create_source (l->socket, G_IO_IN, NULL);
      g_source_set_callback (l->source, G_SOURCE_FUNC (accept_cb), l, NULL);
      g_source_set_name (l->source, "te-listener");
      g_source_attach (l->source, NULL);
    }
}

static void
unwatch (TeListener *self)
{
  for (guint i = 0; i < self->sockets->len; i++)
    {
      Listening *l = g_ptr_array_index (self->sockets, i);

      if (l->source == NULL)
        continue;
      g_source_destroy (l->source);
      g_clear_pointer (&l->source, g_source_unref);
    }
}

static gboolean
retry_cb (gpointer data)
{
  TeListener *self = data;

  self->retry_id = 0;
  watch (self);
  return G_SOURCE_REMOVE;
}

static void
pause_for (TeListener *self,
           guint       ms)
{
  unwatch (self);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->retry_id = g_timeout_add (ms, retry_cb, self);
}

/* Out of descriptors (or of kernel memory for one): wait, longer each time. */
static void
stall (TeListener *self,
       int         errsv)
{
  gint64 now = g_get_monotonic_time ();

  self->unlogged++;
  self->backoff_ms = self->backoff_ms ? MIN (self->backoff_ms * 2, self->backoff_max_ms)
                                      : self->backoff_min_ms;
  if (self->logged_at == 0 || now - self->logged_at >= (gint64) self->log_interval_ms * 1000)
    {
      g_message ("Cannot accept %s connections: %s; trying again in %u ms (%u time%s since the last message)",
                 self->what, g_strerror (errsv), self->backoff_ms, self->unlogged,
                 self->unlogged == 1 ? "" : "s");
      self->logged_at = now;
      self->unlogged = 0;
    }
  pause_for (self, self->backoff_ms);
}

/* Errors of the connection being accepted, not of the listener: Linux
 * reports a queued connection's network errors through accept(). */
static gboolean
connection_error (int errsv)
{
  switch (errsv)
    {
    case ECONNABORTED:
    case EPERM:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
#ifdef ENONET
    case ENONET:
#endif
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
accept_cb (GSocket      *socket,
           GIOCondition  condition,
           gpointer      data)
{
  Listening *l = data;
  TeListener *self = l->listener;

  for (guint n = 0; n < ACCEPT_BATCH; n++)
    {
      g_autoptr(GSocket) client = NULL;
      g_autoptr(GError) error = NULL;
      int fd;

      if (self->admit != NULL && !self->admit (self->user_data))
        {
          pause_for (self, ADMIT_WAIT_MS);
          break;
        }
      fd = accept4 (g_socket_get_fd (socket), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        {
          int errsv = errno;

          if (errsv == EINTR || connection_error (errsv))
            continue;
          if (errsv != EAGAIN && errsv != EWOULDBLOCK)
            stall (self, errsv);
          break;
        }
      /* On failure the socket owns the descriptor and closes it. */
      client = g_socket_new_from_fd (fd, &error);
      if (client == NULL)
        {
          g_debug ("Dropping a new %s connection: %s", self->what, error->message);
          continue;
        }
      if (self->backoff_ms != 0)
        {
          g_debug ("Accepting %s connections again", self->what);
          self->backoff_ms = 0;
        }
      self->accept (client, self->user_data);
    }
  return G_SOURCE_CONTINUE;
}

/**
 * te_listener_new:
 * @what: what it listens for, for log messages ("peer", "remote API")
 * @admit: (nullable): asked before each accept
 * @accept: given each new connection
 *
 * Returns: (transfer full): a listener without sockets yet
 */
TeListener *
te_listener_new (const char           *what,
                 TeListenerAdmitFunc   admit,
                 TeListenerAcceptFunc  accept,
                 gpointer              user_data)
{
  TeListener *self = g_new0 (TeListener, 1);

  g_return_val_if_fail (accept != NULL, NULL);

  self->what = g_strdup (what);
  self->admit = admit;
  self->accept = accept;
  self->user_data = user_data;
  self->sockets = g_ptr_array_new_with_free_func (listening_free);
  self->backoff_min_ms = BACKOFF_MIN_MS;
  self->backoff_max_ms = BACKOFF_MAX_MS;
  self->log_interval_ms = LOG_INTERVAL_MS;
  return self;
}

/**
 * te_listener_free:
 *
 * Closes the listening sockets. Connections already accepted are the
 * accept function's.
 */
void
te_listener_free (TeListener *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_ptr_array_unref (self->sockets);
  g_free (self->what);
  g_free (self);
}

static GSocket *
listen_on (GInetSocketAddress  *address,
           gboolean             v6only,
           GError             **error)
{
  GSocketFamily family = g_socket_address_get_family (G_SOCKET_ADDRESS (address));
  g_autoptr(GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);

  if (socket == NULL)
    return NULL;
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, v6only, NULL);
  g_socket_set_listen_backlog (socket, BACKLOG);
  if (!g_socket_bind (socket, G_SOCKET_ADDRESS (address), TRUE, error)
      || !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static guint16
bound_port (GSocket *socket)
{
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);

  return G_IS_INET_SOCKET_ADDRESS (local) ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) : 0;
}

static void
add_socket (TeListener *self,
            GSocket    *socket)
{
  Listening *l = g_new0 (Listening, 1);

  l->listener = self;
  l->socket = socket;
  g_ptr_array_add (self->sockets, l);
  if (self->port == 0)
    self->port = bound_port (socket);
  if (self->retry_id == 0)
    watch (self);
}

/**
 * te_listener_add_address:
 * @address: the address and port to listen on (port 0: any free one)
 *
 * Listens on one address; an IPv6 one takes IPv6 connections only.
 */
gboolean
te_listener_add_address (TeListener          *self,
                         GInetSocketAddress  *address,
                         GError             **error)
{
  GSocket *socket = listen_on (address, TRUE, error);

  if (socket == NULL)
    return FALSE;
  add_socket (self, socket);
  return TRUE;
}

/**
 * te_listener_add_any:
 * @port: the port, or 0 for any free one
 *
 * Listens on every interface, IPv6 and IPv4: one dual-stack socket where the
 * system has them, else one of each on the same port.
 */
gboolean
te_listener_add_any (TeListener  *self,
                     guint16      port,
                     GError     **error)
{
  g_autoptr(GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address6 = g_inet_socket_address_new (any6, port);
  g_autoptr(GSocketAddress) address4 = NULL;
  g_autoptr(GError) error6 = NULL;
  g_autoptr(GSocket) socket6 = listen_on (G_INET_SOCKET_ADDRESS (address6), FALSE, &error6);
  g_autoptr(GSocket) socket4 = NULL;

  if (socket6 == NULL && g_error_matches (error6, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      g_propagate_error (error, g_steal_pointer (&error6));
      return FALSE;
    }
  if (socket6 != NULL && g_socket_speaks_ipv4 (socket6))
    {
      add_socket (self, g_steal_pointer (&socket6));
      return TRUE;
    }
  /* No IPv6, or IPv6 only: IPv4 on the same port. */
  address4 = g_inet_socket_address_new (any4, socket6 ? bound_port (socket6) : port);
  socket4 = listen_on (G_INET_SOCKET_ADDRESS (address4), FALSE, error);
  if (socket4 == NULL)
    return FALSE;
  add_socket (self, g_steal_pointer (&socket4));
  if (socket6 != NULL)
    add_socket (self, g_steal_pointer (&socket6));
  return TRUE;
}

guint16
te_listener_get_port (TeListener *self)
{
  return self->port;
}
