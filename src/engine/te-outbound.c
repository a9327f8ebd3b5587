/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-outbound"

#include "config.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "te-outbound.h"

/* The outbound request policy: every HTTP request made for the network or for
 * a URL someone gave us (announces, scrapes, adding a torrent by URL) goes
 * through te_outbound_send_async().
 *
 * libsoup never follows a redirect by itself; we follow at most
 * TE_OUTBOUND_MAX_REDIRECTS by hand. Each hop is sent on a new connection, so
 * libsoup reports the connection attempt ("network-event", CONNECTING), and the
 * address actually dialled is judged there, after name resolution and before a
 * byte is sent: a host name that resolves to loopback, or resolves differently
 * the second time, is judged by what it resolved to. A refused attempt has its
 * socket closed before connect() runs.
 *
 * The rules:
 *  - once a hop has reached a public address, every later hop must reach a
 *    public one too: a public server may not redirect to loopback, private
 *    (RFC 1918, fc00::/7, CGNAT), link-local, multicast or unspecified
 *    addresses. A local server named directly (a tracker on 127.0.0.1) works,
 *    and so do its redirects to other local addresses;
 *  - nothing may reach this process's own remote-control port on an address of
 *    this machine, however the request got there. */

G_DEFINE_QUARK (te-outbound-error-quark, te_outbound_error)

/* The remote-control ports of this process, with a count each */

G_LOCK_DEFINE_STATIC (own_ports);
static GHashTable *own_ports;

/**
 * te_outbound_add_own_port:
 * @port: a TCP port this process serves its remote-control API on
 *
 * Outbound requests to @port on any address of this machine are refused until
 * te_outbound_remove_own_port() is called as many times.
 */
void
te_outbound_add_own_port (guint16 port)
{
  guint count;

  g_return_if_fail (port != 0);

  G_LOCK (own_ports);
  if (own_ports == NULL)
    own_ports = g_hash_table_new (NULL, NULL);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (own_ports, GUINT_TO_POINTER (port)));
  g_hash_table_insert (own_ports, GUINT_TO_POINTER (port), GUINT_TO_POINTER (count + 1));
  G_UNLOCK (own_ports);
}

void
te_outbound_remove_own_port (guint16 port)
{
  guint count;

  g_return_if_fail (port != 0);

  G_LOCK (own_ports);
  count = own_ports ? GPOINTER_TO_UINT (g_hash_table_lookup (own_ports, GUINT_TO_POINTER (port)))
                    : 0;
  if (count > 1)
    g_hash_table_insert (own_ports, GUINT_TO_POINTER (port), GUINT_TO_POINTER (count - 1));
  else if (count == 1)
    g_hash_table_remove (own_ports, GUINT_TO_POINTER (port));
  if (own_ports != NULL && g_hash_table_size (own_ports) == 0)
    g_clear_pointer (&own_ports, g_hash_table_unref);
  G_UNLOCK (own_ports);
}

static gboolean
is_own_port (guint16 port)
{
  gboolean found;

  G_LOCK (own_ports);
  found = own_ports != NULL && g_hash_table_contains (own_ports, GUINT_TO_POINTER (port));
  G_UNLOCK (own_ports);
  return found;
}

/* Addresses */

/* The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d), or `NULL`. */
static GInetAddress *
unmap_ipv4 (GInetAddress *address)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  const guint8 *bytes;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return NULL;
  bytes = g_inet_address_to_bytes (address);
  if (memcmp (bytes, prefix, sizeof prefix) != 0)
    return NULL;
  return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
}

/**
 * te_outbound_address_is_public:
 * @address: an IPv4 or IPv6 address
 *
 * Whether @address is out on the internet: `FALSE` for unspecified, loopback,
 * private (RFC 1918, 100.64.0.0/10, fc00::/7, fec0::/10), link-local,
 * multicast and broadcast addresses, and for IPv4-mapped IPv6 forms of them.
 *
 * Returns: `TRUE` when @address is public
 */
gboolean
te_outbound_address_is_public (GInetAddress *address)
{
  g_autoptr(GInetAddress) v4 = NULL;
  const guint8 *b;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);

  v4 = unmap_ipv4 (address);
  if (v4 != NULL)
    address = v4;

  if (g_inet_address_get_is_any (address)
      || g_inet_address_get_is_loopback (address)
      || g_inet_address_get_is_link_local (address)
      || g_inet_address_get_is_site_local (address)
      || g_inet_address_get_is_multicast (address))
    return FALSE;

  b = g_inet_address_to_bytes (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    {
      if (b[0] == 0                                     /* 0.0.0.0/8, "this network" */
          || (b[0] == 100 && (b[1] & 0xc0) == 64)       /* 100.64.0.0/10, CGNAT */
          || (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255))
        return FALSE;
    }
  else if ((b[0] & 0xfe) == 0xfc)                       /* fc00::/7, unique local */
    {
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_interface_address (GInetAddress *address)
{
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&list) != 0)
    return FALSE;
  for (struct ifaddrs *it = list; it != NULL && !found; it = it->ifa_next)
    {
      g_autoptr(GSocketAddress) sa = NULL;
      socklen_t len;

      if (it->ifa_addr == NULL)
        continue;
      if (it->ifa_addr->sa_family == AF_INET)
        len = sizeof (struct sockaddr_in);
      else if (it->ifa_addr->sa_family == AF_INET6)
        len = sizeof (struct sockaddr_in6);
      else
        continue;
      sa = g_socket_address_new_from_native (it->ifa_addr, len);
      found = sa != NULL && G_IS_INET_SOCKET_ADDRESS (sa)
              && g_inet_address_equal (address,
                                       g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
    }
  freeifaddrs (list);
  return found;
}

/* Whether a connection to @address reaches this machine. */
static gboolean
is_this_host (GInetAddress *address)
{
  g_autoptr(GInetAddress) v4 = unmap_ipv4 (address);

  if (v4 != NULL)
    address = v4;
  return g_inet_address_get_is_any (address)
         || g_inet_address_get_is_loopback (address)
         || is_interface_address (address);
}

/* Sending */

typedef struct {
  SoupSession  *session;
  SoupMessage  *msg;              /* the current hop */
  char         *noun;             /* "tracker", "server": what the peer is called in errors */
  GCancellable *hop_cancellable;  /* ours, cancelled to drop a redirect's body */
  GCancellable *caller;
  GSource      *caller_source;    /* cancels hop_cancellable when the caller's is */
  GError       *refusal;          /* why an attempt of this hop was refused */
  guint         redirects;
  gboolean      seen_public;      /* a hop has reached a public address */
  gboolean      checked;          /* the current hop's connection was judged */
} Send;

static void
drop_caller_source (Send *send)
{
  if (send->caller_source != NULL)
    g_source_destroy (send->caller_source);
  g_clear_pointer (&send->caller_source, g_source_unref);
}

static void
send_free (gpointer data)
{
  Send *send = data;

  drop_caller_source (send);
  if (send->msg != NULL)
    g_signal_handlers_disconnect_by_data (send->msg, send);
  g_clear_object (&send->msg);
  g_clear_object (&send->session);
  g_clear_object (&send->hop_cancellable);
  g_clear_object (&send->caller);
  g_clear_error (&send->refusal);
  g_free (send->noun);
  g_free (send);
}

static gboolean
cancel_hop_cb (GCancellable *caller,
               gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

/* A source on the current context that cancels @hop when @caller is cancelled:
 * dispatched from the loop, never from inside the "cancelled" emission. */
static GSource *
link_cancellables (GCancellable *caller,
                   GCancellable *hop)
{
  GSource *source = g_cancellable_source_new (caller);

  g_source_set_callback (source, G_SOURCE_FUNC (cancel_hop_cb), g_object_ref (hop),
                         g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

/* Judges one connection attempt; FALSE with @error set when it is refused. */
static gboolean
judge (Send                *send,
       GInetSocketAddress  *remote,
       GError             **error)
{
  GInetAddress *address = g_inet_socket_address_get_address (remote);
  guint16 port = g_inet_socket_address_get_port (remote);
  g_autofree char *text = g_inet_address_to_string (address);
  gboolean public = te_outbound_address_is_public (address);

  if (is_own_port (port) && is_this_host (address))
    {
      g_set_error (error, TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REFUSED,
                   "Request to %s port %u refused: it is this program's own remote-control port",
                   text, port);
      return FALSE;
    }
  if (!public && send->seen_public)
    {
      g_autofree char *noun = g_strdup (send->noun);

      noun[0] = g_ascii_toupper (noun[0]);
      g_set_error (error, TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REFUSED,
                   "%s redirect to %s refused: a public %s may not redirect to a local address",
                   noun, text, send->noun);
      return FALSE;
    }
  if (public)
    send->seen_public = TRUE;
  return TRUE;
}

static void
network_event_cb (SoupMessage        *msg,
                  GSocketClientEvent  event,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  Send *send = user_data;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(GError) error = NULL;

  if ((event != G_SOCKET_CLIENT_CONNECTING && event != G_SOCKET_CLIENT_CONNECTED)
      || !G_IS_SOCKET_CONNECTION (connection))
    return;

  /* While connecting, this is the address about to be dialled. */
  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (connection), NULL);
  if (remote != NULL && G_IS_INET_SOCKET_ADDRESS (remote)
      && judge (send, G_INET_SOCKET_ADDRESS (remote), &error))
    {
      send->checked = TRUE;
      return;
    }
  if (error == NULL)
    error = g_error_new_literal (TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REFUSED,
                                 "Request refused: the address it connects to is unknown");

  /* connect() on a closed socket fails at once; the request is never written. */
  g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)), NULL);
  g_debug ("%s", error->message);
  if (send->refusal == NULL)
    send->refusal = g_steal_pointer (&error);
}

static void send_hop (GTask *task);

static void
discard_stream (Send         *send,
                GInputStream *stream)
{
  /* Cancelled first, so closing does not read the rest of the body. */
  g_cancellable_cancel (send->hop_cancellable);
  g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

static void
stream_link_free (gpointer data)
{
  GSource *source = data;

  g_source_destroy (source);
  g_source_unref (source);
}

static gboolean
is_redirect (guint status)
{
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The next hop's message, or `NULL` with @error set. */
static SoupMessage *
follow (Send    *send,
        GError **error)
{
  SoupMessageHeaders *response = soup_message_get_response_headers (send->msg);
  const char *location = soup_message_headers_get_one (response, "Location");
  GUri *base = soup_message_get_uri (send->msg);
  g_autoptr(GUri) next = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;
  const char *method;
  SoupMessage *msg;
  SoupMessageHeadersIter iter;
  const char *name;
  const char *value;
  gboolean same_origin;

  if (send->redirects >= TE_OUTBOUND_MAX_REDIRECTS)
    {
      g_set_error (error, TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REDIRECT,
                   "Too many redirects (more than %u)", TE_OUTBOUND_MAX_REDIRECTS);
      return NULL;
    }
  if (location == NULL || *location == '\0')
    {
      g_set_error (error, TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REDIRECT,
                   "HTTP %u redirect without a Location", soup_message_get_status (send->msg));
      return NULL;
    }
  next = g_uri_parse_relative (base, location, SOUP_HTTP_URI_FLAGS, &local_error);
  if (next == NULL)
    {
      g_set_error (error, TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REDIRECT,
                   "Redirect to an invalid URL: %s", local_error->message);
      return NULL;
    }
  scheme = g_uri_get_scheme (next);
  if (g_uri_get_host (next) == NULL || *g_uri_get_host (next) == '\0'
      || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_set_error (error, TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REDIRECT,
                   "Redirect refused: only http and https URLs with a host are followed");
      return NULL;
    }

  /* A body is not carried over, so only GET and HEAD keep their method. */
  method = soup_message_get_method (send->msg);
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    method = SOUP_METHOD_GET;
  msg = soup_message_new_from_uri (method, next);
  same_origin = g_ascii_strcasecmp (scheme, g_uri_get_scheme (base)) == 0
                && g_ascii_strcasecmp (g_uri_get_host (next), g_uri_get_host (base)) == 0
                && g_uri_get_port (next) == g_uri_get_port (base);
  soup_message_headers_iter_init (&iter, soup_message_get_request_headers (send->msg));
  while (soup_message_headers_iter_next (&iter, &name, &value))
    {
      /* Credentials stay with the host they were meant for. */
      if (g_ascii_strcasecmp (name, "Host") == 0 || g_ascii_strcasecmp (name, "Connection") == 0
          || (!same_origin && (g_ascii_strcasecmp (name, "Cookie") == 0
                               || g_ascii_strcasecmp (name, "Authorization") == 0)))
        continue;
      soup_message_headers_append (soup_message_get_request_headers (msg), name, value);
    }
  return msg;
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Send *send = g_task_get_task_data (task);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessage *next;

  stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (stream == NULL)
    {
      /* The refusal, rather than the "socket is closed" it caused. */
      if (send->refusal != NULL)
        g_task_return_error (task, g_steal_pointer (&send->refusal));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_clear_error (&send->refusal);

  /* A hop whose connection was never judged (libsoup reused one against our
   * flags) is judged now: its request went out, but its answer is not used. */
  if (!send->checked)
    {
      GSocketAddress *remote = soup_message_get_remote_address (send->msg);

      if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote)
          || !judge (send, G_INET_SOCKET_ADDRESS (remote), &error))
        {
          discard_stream (send, stream);
          if (error == NULL)
            error = g_error_new_literal (TE_OUTBOUND_ERROR, TE_OUTBOUND_ERROR_REFUSED,
                                         "Request refused: the address it reached is unknown");
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  if (!is_redirect (soup_message_get_status (send->msg)))
    {
      /* The caller's cancellable keeps reaching the body's reads. */
      if (send->caller_source != NULL)
        g_object_set_data_full (G_OBJECT (stream), "te-outbound-link",
                                g_steal_pointer (&send->caller_source), stream_link_free);
      g_task_return_pointer (task, g_steal_pointer (&stream), g_object_unref);
      return;
    }

  discard_stream (send, stream);
  next = follow (send, &error);
  if (next == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_signal_handlers_disconnect_by_data (send->msg, send);
  g_object_unref (send->msg);
  send->msg = next;
  send->redirects++;
  send_hop (g_steal_pointer (&task));
}

/* Takes @task. */
static void
send_hop (GTask *task)
{
  Send *send = g_task_get_task_data (task);

  drop_caller_source (send);
  g_clear_object (&send->hop_cancellable);
  send->hop_cancellable = g_cancellable_new ();
  if (send->caller != NULL)
    send->caller_source = link_cancellables (send->caller, send->hop_cancellable);
  send->checked = FALSE;

  soup_message_add_flags (send->msg, SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_NEW_CONNECTION);
  /* Never reused, so not kept either: no idle descriptor per request. */
  soup_message_headers_replace (soup_message_get_request_headers (send->msg), "Connection", "close");
  g_signal_connect (send->msg, "network-event", G_CALLBACK (network_event_cb), send);
  soup_session_send_async (send->session, send->msg, G_PRIORITY_DEFAULT, send->hop_cancellable,
                           sent_cb, task);
}

/**
 * te_outbound_send_async:
 * @session: the session to send with
 * @msg: the request
 * @peer_noun: what the server is called in error messages ("tracker", "server")
 * @cancellable: (nullable): cancels the request, and later the reads of its body
 * @callback: called with the result
 * @user_data: for @callback
 *
 * Sends @msg like soup_session_send_async(), following redirects by hand and
 * applying the outbound request policy to every connection (see the top of
 * te-outbound.c). A refusal is a `TE_OUTBOUND_ERROR_REFUSED` naming the
 * address and the reason.
 */
void
te_outbound_send_async (SoupSession         *session,
                        SoupMessage         *msg,
                        const char          *peer_noun,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;
  Send *send;

  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (SOUP_IS_MESSAGE (msg));
  g_return_if_fail (peer_noun != NULL && *peer_noun != '\0');

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, te_outbound_send_async);
  g_task_set_check_cancellable (task, FALSE);

  send = g_new0 (Send, 1);
  send->session = g_object_ref (session);
  send->msg = g_object_ref (msg);
  send->noun = g_strdup (peer_noun);
  send->caller = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, send, send_free);

  send_hop (task);
}

/**
 * te_outbound_send_finish:
 * @result: the result given to the callback
 * @final_msg: (out) (optional) (transfer full): the message of the last hop,
 *   which holds the status and headers of the answer
 * @error: return location for an error
 *
 * Returns: (transfer full): the body of the answer, or `NULL` with @error set
 */
GInputStream *
te_outbound_send_finish (GAsyncResult  *result,
                         SoupMessage  **final_msg,
                         GError       **error)
{
  GTask *task = G_TASK (result);
  Send *send;
  GInputStream *stream;

  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (task) == te_outbound_send_async, NULL);

  send = g_task_get_task_data (task);
  stream = g_task_propagate_pointer (task, error);
  if (final_msg != NULL)
    *final_msg = stream != NULL ? g_object_ref (send->msg) : NULL;
  return stream;
}
