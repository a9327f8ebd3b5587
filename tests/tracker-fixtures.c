/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-tracker-fixtures"

#include "config.h"

#include <string.h>

#include "tracker-fixtures.h"

/* See tracker-fixtures.h. */

const guint8 tf_awkward_hash[20] = {
  0x00, 0xff, '%', '&', '=', '+', ' ', '?', '#', '/',
  'A', 'z', '0', '~', '.', '-', '_', 0x80, 0x7f, 0x01,
};

const guint8 tf_peer_id[20] = "-TE0100-abcdefghijkl";

/* Waiting */

gboolean
tf_set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}


typedef struct {
  gboolean      done;
  GAsyncResult *result;
} Wait;

static void
got_result_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Wait *w = user_data;

  w->result = g_object_ref (result);
  w->done = TRUE;
}

TeAnnounceResponse *
tf_announce_sync (SoupSession             *session,
                  const char              *url,
                  const TeAnnounceRequest *request,
                  GCancellable            *cancellable,
                  GError                 **error)
{
  Wait w = { 0 };
  TeAnnounceResponse *response;

  te_tracker_announce_async (session, url, request, cancellable, got_result_cb, &w);
  WAIT_UNTIL (w.done, 30000);
  response = te_tracker_announce_finish (w.result, error);
  g_object_unref (w.result);
  return response;
}

gboolean
tf_scrape_sync (SoupSession     *session,
                const char      *url,
                const guint8     info_hash[20],
                TeScrapeResult  *out,
                GError         **error)
{
  Wait w = { 0 };
  gboolean ok;

  te_tracker_scrape_async (session, url, info_hash, NULL, got_result_cb, &w);
  WAIT_UNTIL (w.done, 30000);
  ok = te_tracker_scrape_finish (w.result, out, error);
  g_object_unref (w.result);
  return ok;
}

void
tf_init_request (TeAnnounceRequest *request,
                 const guint8       info_hash[20])
{
  memset (request, 0, sizeof *request);
  memcpy (request->info_hash, info_hash, 20);
  memcpy (request->peer_id, tf_peer_id, 20);
  request->port = 51413;
  request->uploaded = 1;
  request->downloaded = 22;
  request->left = 333;
  request->event = TE_ANNOUNCE_EVENT_STARTED;
  request->numwant = -1;
  request->key = 0xdeadbeef;
}

/* Replies */

void
tf_set_int (TeBValue   *dict,
            const char *key,
            gint64      value)
{
  te_bvalue_dict_set (dict, key, te_bvalue_new_int (value));
}

void
tf_set_bytes (TeBValue   *dict,
              const char *key,
              const void *data,
              gsize       len)
{
  te_bvalue_dict_set (dict, key, te_bvalue_new_string (data, len));
}

GBytes *
tf_encode_free (TeBValue *dict)
{
  GBytes *bytes = te_bencode_encode (dict);

  te_bvalue_free (dict);
  return bytes;
}

void
tf_add_peer4 (GByteArray *out,
              guint8      a,
              guint8      b,
              guint8      c,
              guint8      d,
              guint16     port)
{
  guint8 entry[6] = { a, b, c, d, port >> 8, port & 0xff };

  g_byte_array_append (out, entry, 6);
}

GBytes *
tf_peers_reply (guint32     interval,
                const char *tracker_id)
{
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();

  tf_add_peer4 (peers, 10, 1, 2, 3, 4567);
  tf_add_peer4 (peers, 10, 1, 2, 4, 4568);
  tf_set_int (dict, "interval", interval);
  tf_set_bytes (dict, "peers", peers->data, peers->len);
  if (tracker_id != NULL)
    {
      tf_set_int (dict, "min interval", 1);
      tf_set_bytes (dict, "tracker id", tracker_id, strlen (tracker_id));
    }
  return tf_encode_free (dict);
}

gboolean
tf_has_peer (GPtrArray  *peers,
             const char *ip,
             guint16     port)
{
  for (guint i = 0; i < peers->len; i++)
    {
      GInetSocketAddress *sa = g_ptr_array_index (peers, i);
      g_autofree char *text = g_inet_address_to_string (g_inet_socket_address_get_address (sa));

      if (strcmp (text, ip) == 0 && g_inet_socket_address_get_port (sa) == port)
        return TRUE;
    }
  return FALSE;
}

/* The HTTP server */

static void
reply_free (gpointer data)
{
  Reply *reply = data;

  g_clear_pointer (&reply->body, g_bytes_unref);
  g_free (reply);
}

static void
request_free (gpointer data)
{
  Request *request = data;

  g_free (request->path);
  g_free (request->raw_query);
  g_hash_table_unref (request->params);
  g_free (request);
}

void
tf_push_reply (Fixture    *f,
               const char *path,
               guint       status,
               GBytes     *body)
{
  GPtrArray *list = g_hash_table_lookup (f->replies, path);
  Reply *reply = g_new0 (Reply, 1);

  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (reply_free);
      g_hash_table_insert (f->replies, g_strdup (path), list);
    }
  reply->status = status;
  reply->body = body;
  g_ptr_array_add (list, reply);
}

void
tf_push_text (Fixture    *f,
              const char *path,
              guint       status,
              const char *text)
{
  tf_push_reply (f, path, status, g_bytes_new (text, strlen (text)));
}

char *
tf_url_for (Fixture    *f,
            const char *path)
{
  return g_strconcat (f->base, path, NULL);
}

static GHashTable *
parse_query (const char *query)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) g_bytes_unref);
  g_auto(GStrv) pairs = g_strsplit (query ? query : "", "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      char *eq = strchr (pairs[i], '=');
      g_autofree char *name = NULL;
      GBytes *value;

      if (eq == NULL)
        continue;
      name = g_uri_unescape_segment (pairs[i], eq, NULL);
      value = g_uri_unescape_bytes (eq + 1, -1, NULL, NULL);
      g_assert_nonnull (name);
      g_assert_nonnull (value);
      g_hash_table_replace (params, g_steal_pointer (&name), value);
    }
  return params;
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Fixture *f = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  Request *request = g_new0 (Request, 1);
  GPtrArray *list = g_hash_table_lookup (f->replies, path);
  guint served = GPOINTER_TO_UINT (g_hash_table_lookup (f->served, path));
  Reply *reply;

  request->path = g_strdup (path);
  request->raw_query = g_strdup (g_uri_get_query (uri));
  request->params = parse_query (request->raw_query);
  request->at = g_get_monotonic_time ();
  g_ptr_array_add (f->requests, request);
  g_hash_table_insert (f->served, g_strdup (path), GUINT_TO_POINTER (served + 1));

  if (list == NULL)
    {
      soup_server_message_set_status (msg, 404, NULL);
      return;
    }
  reply = g_ptr_array_index (list, MIN (served, list->len - 1));
  if (reply->status == 0)
    {
      g_ptr_array_add (f->paused, g_object_ref (msg));
      soup_server_message_pause (msg);
      return;
    }

  soup_server_message_set_status (msg, reply->status, NULL);
  if (reply->body != NULL && reply->chunked)
    {
      SoupMessageBody *body = soup_server_message_get_response_body (msg);
      gsize size = g_bytes_get_size (reply->body);
      const guint8 *data = g_bytes_get_data (reply->body, NULL);

      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                         SOUP_ENCODING_CHUNKED);
      for (gsize off = 0; off < size; off += 65536)
        soup_message_body_append (body, SOUP_MEMORY_COPY, data + off, MIN (65536, size - off));
      soup_message_body_complete (body);
    }
  else if (reply->body != NULL)
    {
      gsize size;
      const char *data = g_bytes_get_data (reply->body, &size);

      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, data, size);
    }
}

/* libsoup 3.2's own listener leaks the sockets of connections that clients
 * close while idle, so connections are accepted here and handed over. */
static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, &error);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, &error);

  g_assert_no_error (error);
  soup_server_accept_iostream (f->server, G_IO_STREAM (connection), local, remote, &error);
  g_assert_no_error (error);
  return TRUE;
}

void
tf_fixture_setup (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  f->replies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) g_ptr_array_unref);
  f->served = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->requests = g_ptr_array_new_with_free_func (request_free);
  f->paused = g_ptr_array_new_with_free_func (g_object_unref);

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, server_cb, f, NULL);
  f->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (f->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  g_signal_connect (f->service, "incoming", G_CALLBACK (incoming_cb), f);
  f->base = g_strdup_printf ("http://127.0.0.1:%u",
                             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  f->session = soup_session_new ();
  te_tracker_set_http_timeout (0);
  te_tracker_set_udp_timeout_base (0);
}

void
tf_fixture_teardown (Fixture       *f,
                     gconstpointer  data)
{
  for (guint i = 0; i < f->paused->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (f->paused, i);

      soup_server_message_set_status (msg, 503, NULL);
      soup_server_message_unpause (msg);
    }
  g_clear_object (&f->session);
  te_test_spin (20);
  g_socket_service_stop (f->service);
  g_socket_listener_close (G_SOCKET_LISTENER (f->service));
  g_clear_object (&f->service);
  soup_server_disconnect (f->server);
  g_assert_finalize_object (f->server);
  g_ptr_array_unref (f->paused);
  g_ptr_array_unref (f->requests);
  g_hash_table_unref (f->served);
  g_hash_table_unref (f->replies);
  g_free (f->base);
}

Request *
tf_nth_request (Fixture *f,
                guint    n)
{
  g_assert_cmpuint (f->requests->len, >, n);
  return g_ptr_array_index (f->requests, n);
}

void
tf_assert_param_bytes (Request      *request,
                       const char   *name,
                       const guint8 *expected,
                       gsize         len)
{
  GBytes *value = g_hash_table_lookup (request->params, name);

  g_assert_nonnull (value);
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value), expected, len);
}

void
tf_assert_param (Request    *request,
                 const char *name,
                 const char *expected)
{
  GBytes *value = g_hash_table_lookup (request->params, name);

  if (expected == NULL)
    {
      g_assert_null (value);
      return;
    }
  g_assert_nonnull (value);
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value),
                   expected, strlen (expected));
}

guint16
tf_closed_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  g_socket_close (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* The fake UDP tracker */

#define UDP_PROTOCOL_ID G_GUINT64_CONSTANT (0x41727101980)

static void
be32 (guint8  *p,
      guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

guint32
tf_rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

guint64
tf_rd64 (const guint8 *p)
{
  return ((guint64) tf_rd32 (p) << 32) | tf_rd32 (p + 4);
}

static void
fake_send (FakeUdp        *fake,
           GSocketAddress *to,
           const guint8   *data,
           gsize           len)
{
  g_autoptr(GError) error = NULL;

  g_socket_send_to (fake->socket, to, (const char *) data, len, NULL, &error);
  g_assert_no_error (error);
}

static void
fake_handle (FakeUdp        *fake,
             GSocketAddress *from,
             const guint8   *buf,
             gsize           len)
{
  guint8 reply[256];
  guint32 action;
  guint32 tid;
  gsize n = 0;

  g_assert_cmpuint (len, >=, 16);
  action = tf_rd32 (buf + 8);
  tid = tf_rd32 (buf + 12);
  g_array_append_val (fake->transaction_ids, tid);
  if (fake->drop_all || fake->drop > 0)
    {
      if (fake->drop > 0)
        fake->drop--;
      return;
    }

  if (fake->error_message != NULL)
    {
      be32 (reply, 3);
      be32 (reply + 4, tid);
      n = 8 + strlen (fake->error_message);
      memcpy (reply + 8, fake->error_message, n - 8);
      fake_send (fake, from, reply, n);
      return;
    }

  if (action == 0)
    {
      g_assert_cmpuint (len, ==, 16);
      g_assert_cmpuint (tf_rd64 (buf), ==, UDP_PROTOCOL_ID);
      fake->n_connect++;
      fake->connection_id = ((guint64) g_random_int () << 32) | g_random_int ();
      be32 (reply, 0);
      be32 (reply + 4, tid);
      be32 (reply + 8, fake->connection_id >> 32);
      be32 (reply + 12, fake->connection_id & 0xffffffff);
      fake_send (fake, from, reply, 16);
      return;
    }

  /* Requests with a connection id we never gave are ignored, as trackers do. */
  if (tf_rd64 (buf) != fake->connection_id)
    return;
  memcpy (fake->last, buf, MIN (len, sizeof fake->last));

  if (action == 1)
    {
      g_assert_cmpuint (len, ==, 98);
      fake->n_announce++;
      be32 (reply, 1);
      be32 (reply + 4, tid);
      be32 (reply + 8, 900);
      be32 (reply + 12, 3);    /* leechers */
      be32 (reply + 16, 5);    /* seeders */
      n = 20;
      if (fake->ipv6)
        {
          static const guint8 peer6[18] = {
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0x1a, 0xe1,
          };

          memcpy (reply + n, peer6, 18);
          n += 18;
        }
      else
        {
          static const guint8 peers[] = {
            10, 0, 0, 1, 0x1a, 0xe1,
            10, 0, 0, 2, 0x1a, 0xe2,
            10, 0, 0, 1, 0x1a, 0xe1,   /* duplicate */
            10, 0, 0, 3, 0, 0,         /* port 0 */
          };

          memcpy (reply + n, peers, sizeof peers);
          n += sizeof peers;
        }
    }
  else if (action == 2)
    {
      g_assert_cmpuint (len, ==, 36);
      fake->n_scrape++;
      be32 (reply, 2);
      be32 (reply + 4, tid);
      be32 (reply + 8, 7);     /* seeders */
      be32 (reply + 12, 11);   /* completed */
      be32 (reply + 16, 13);   /* leechers */
      n = 20;
    }
  else
    {
      g_assert_not_reached ();
    }

  if (fake->stray_first)
    {
      be32 (reply + 4, tid + 1);
      fake_send (fake, from, reply, n);
      be32 (reply + 4, tid);
      fake->stray_first = FALSE;
    }
  fake_send (fake, from, reply, n);
}

static gboolean
fake_readable_cb (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  FakeUdp *fake = user_data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocketAddress) from = NULL;
      guint8 buf[2048];
      gssize n;

      n = g_socket_receive_from (socket, &from, (char *) buf, sizeof buf, NULL, &error);
      if (n < 0)
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
          return G_SOURCE_CONTINUE;
        }
      fake->n_datagrams++;
      fake_handle (fake, from, buf, n);
    }
}

FakeUdp *
tf_fake_udp_new (GSocketFamily family)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (family);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;
  FakeUdp *fake;

  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  if (socket == NULL || !g_socket_bind (socket, address, FALSE, &error))
    return NULL;
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);

  fake = g_new0 (FakeUdp, 1);
  fake->socket = g_steal_pointer (&socket);
  fake->ipv6 = family == G_SOCKET_FAMILY_IPV6;
  fake->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  fake->transaction_ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  fake->source = g_socket_create_source (fake->socket, G_IO_IN, NULL);
  g_source_set_callback (fake->source, G_SOURCE_FUNC (fake_readable_cb), fake, NULL);
  g_source_attach (fake->source, NULL);
  return fake;
}

void
tf_fake_udp_free (FakeUdp *fake)
{
  g_source_destroy (fake->source);
  g_source_unref (fake->source);
  g_object_unref (fake->socket);
  g_array_unref (fake->transaction_ids);
  g_free (fake);
}

char *
tf_fake_url (FakeUdp *fake)
{
  return g_strdup_printf (fake->ipv6 ? "udp://[::1]:%u/announce" : "udp://127.0.0.1:%u/announce",
                          fake->port);
}
