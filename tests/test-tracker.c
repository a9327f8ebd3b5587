/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test-tracker"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <libsoup/soup.h>

#include "te-announcer.h"
#include "te-bencode.h"
#include "te-tracker.h"
#include "te-tracker-private.h"

/* Trackers against an in-process libsoup server and a fake UDP tracker, both
 * on loopback. Waits are bounded; retry delays come from the test hooks. */

#define WAIT_MS 10000

/* An info-hash holding the bytes that need escaping most. */
static const guint8 awkward_hash[20] = {
  0x00, 0xff, '%', '&', '=', '+', ' ', '?', '#', '/',
  'A', 'z', '0', '~', '.', '-', '_', 0x80, 0x7f, 0x01,
};
#define AWKWARD_HASH_ESCAPED "%00%FF%25%26%3D%2B%20%3F%23%2FAz0~.-_%80%7F%01"

static const guint8 peer_id[20] = "-TE0100-abcdefghijkl";

/* Waiting */

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context until @cond holds; fails after @ms. */
#define WAIT_UNTIL(cond, ms) G_STMT_START {                              \
    gboolean expired_ = FALSE;                                           \
    guint id_ = g_timeout_add ((ms), set_flag_cb, &expired_);            \
    while (!(cond) && !expired_)                                         \
      g_main_context_iteration (NULL, TRUE);                             \
    if (!expired_)                                                       \
      g_source_remove (id_);                                             \
    g_assert_true (cond);                                                \
  } G_STMT_END

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
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

static TeAnnounceResponse *
announce_sync (SoupSession             *session,
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

static gboolean
scrape_sync (SoupSession     *session,
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

static void
init_request (TeAnnounceRequest *request,
              const guint8       info_hash[20])
{
  memset (request, 0, sizeof *request);
  memcpy (request->info_hash, info_hash, 20);
  memcpy (request->peer_id, peer_id, 20);
  request->port = 51413;
  request->uploaded = 1;
  request->downloaded = 22;
  request->left = 333;
  request->event = TE_ANNOUNCE_EVENT_STARTED;
  request->numwant = -1;
  request->key = 0xdeadbeef;
}

/* Replies */

static void
set_int (TeBValue   *dict,
         const char *key,
         gint64      value)
{
  te_bvalue_dict_set (dict, key, te_bvalue_new_int (value));
}

static void
set_bytes (TeBValue   *dict,
           const char *key,
           const void *data,
           gsize       len)
{
  te_bvalue_dict_set (dict, key, te_bvalue_new_string (data, len));
}

static GBytes *
encode_free (TeBValue *dict)
{
  GBytes *bytes = te_bencode_encode (dict);

  te_bvalue_free (dict);
  return bytes;
}

static void
add_peer4 (GByteArray *out,
           guint8      a,
           guint8      b,
           guint8      c,
           guint8      d,
           guint16     port)
{
  guint8 entry[6] = { a, b, c, d, port >> 8, port & 0xff };

  g_byte_array_append (out, entry, 6);
}

static GBytes *
peers_reply (guint32     interval,
             const char *tracker_id)
{
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();

  add_peer4 (peers, 10, 1, 2, 3, 4567);
  add_peer4 (peers, 10, 1, 2, 4, 4568);
  set_int (dict, "interval", interval);
  set_bytes (dict, "peers", peers->data, peers->len);
  if (tracker_id != NULL)
    {
      set_int (dict, "min interval", 1);
      set_bytes (dict, "tracker id", tracker_id, strlen (tracker_id));
    }
  return encode_free (dict);
}

static gboolean
has_peer (GPtrArray  *peers,
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

typedef struct {
  guint     status;     /* 0: never answer */
  GBytes   *body;
  gboolean  chunked;
} Reply;

typedef struct {
  char       *path;
  char       *raw_query;
  GHashTable *params;   /* name → GBytes, percent-decoded */
  gint64      at;       /* monotonic µs */
} Request;

typedef struct {
  GSocketService *service;
  SoupServer  *server;
  SoupSession *session;
  char        *base;
  GHashTable  *replies;    /* path → GPtrArray of Reply*; the last one repeats */
  GHashTable  *served;     /* path → count */
  GPtrArray   *requests;
  GPtrArray   *paused;     /* SoupServerMessage* never answered */
} Fixture;

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

static void
push_reply (Fixture    *f,
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

static void
push_text (Fixture    *f,
           const char *path,
           guint       status,
           const char *text)
{
  push_reply (f, path, status, g_bytes_new (text, strlen (text)));
}

static char *
url_for (Fixture    *f,
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

static void
fixture_setup (Fixture       *f,
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

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  for (guint i = 0; i < f->paused->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (f->paused, i);

      soup_server_message_set_status (msg, 503, NULL);
      soup_server_message_unpause (msg);
    }
  g_clear_object (&f->session);
  spin (20);
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

static Request *
nth_request (Fixture *f,
             guint    n)
{
  g_assert_cmpuint (f->requests->len, >, n);
  return g_ptr_array_index (f->requests, n);
}

static void
assert_param_bytes (Request      *request,
                    const char   *name,
                    const guint8 *expected,
                    gsize         len)
{
  GBytes *value = g_hash_table_lookup (request->params, name);

  g_assert_nonnull (value);
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value), expected, len);
}

static void
assert_param (Request    *request,
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

/* Parsing and URLs */

static void
test_scrape_url (void)
{
  static const struct {
    const char *announce;
    const char *scrape;
  } cases[] = {
    { "http://example.com/announce", "http://example.com/scrape" },
    { "http://example.com/x/announce", "http://example.com/x/scrape" },
    { "http://example.com/announce.php", "http://example.com/scrape.php" },
    { "http://example.com/announce-v2", "http://example.com/scrape-v2" },
    { "http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644" },
    { "http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4" },
    { "https://t.example:8443/a/announce?pk=xyz", "https://t.example:8443/a/scrape?pk=xyz" },
    { "http://example.com/announce#frag", "http://example.com/scrape#frag" },
    { "http://example.com/announce/x?announce", NULL },
    { "http://example.com/x%064announce", NULL },
    { "http://example.com/xannounce", NULL },
    { "http://example.com/announce/", NULL },
    { "http://example.com/a", NULL },
    { "http://example.com", NULL },
    { "udp://tracker.example:6969/announce", "udp://tracker.example:6969/announce" },
    { "udp://tracker.example:6969", "udp://tracker.example:6969" },
    { "udp://tracker.example/announce", NULL },
    { "wss://tracker.example/announce", NULL },
    { "not a url", NULL },
    { "http:///announce", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *scrape = te_tracker_scrape_url (cases[i].announce);

      g_test_message ("%s", cases[i].announce);
      g_assert_cmpstr (scrape, ==, cases[i].scrape);
    }
}

static TeAnnounceResponse *
parse_ok (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  TeAnnounceResponse *response = te_tracker_parse_http_reply (data, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (response);
  g_bytes_unref (bytes);
  return response;
}

static void
assert_bad_reply (const void *data,
                  gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = te_tracker_parse_http_reply (data, len, &error);

  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_false (te_tracker_error_is_retryable (error));
}

static void
test_parse_compact (void)
{
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();
  g_autoptr(TeAnnounceResponse) response = NULL;

  add_peer4 (peers, 10, 0, 0, 1, 6881);
  add_peer4 (peers, 10, 0, 0, 2, 6882);
  add_peer4 (peers, 10, 0, 0, 1, 6881);   /* duplicate */
  add_peer4 (peers, 10, 0, 0, 3, 0);      /* port 0 */
  add_peer4 (peers, 0, 0, 0, 0, 1);       /* unspecified */
  add_peer4 (peers, 10, 0, 0, 1, 6883);   /* same host, other port */
  set_int (dict, "interval", 900);
  set_int (dict, "min interval", 60);
  set_int (dict, "complete", 5);
  set_int (dict, "incomplete", 7);
  set_bytes (dict, "tracker id", "abc", 3);
  set_bytes (dict, "warning message", "careful\n", 8);
  set_bytes (dict, "peers", peers->data, peers->len);
  response = parse_ok (encode_free (dict));

  g_assert_cmpuint (response->interval, ==, 900);
  g_assert_cmpuint (response->min_interval, ==, 60);
  g_assert_cmpint (response->seeders, ==, 5);
  g_assert_cmpint (response->leechers, ==, 7);
  g_assert_cmpstr (response->tracker_id, ==, "abc");
  g_assert_cmpstr (response->warning, ==, "careful ");
  g_assert_cmpuint (response->peers->len, ==, 3);
  g_assert_true (has_peer (response->peers, "10.0.0.1", 6881));
  g_assert_true (has_peer (response->peers, "10.0.0.2", 6882));
  g_assert_true (has_peer (response->peers, "10.0.0.1", 6883));
}

static TeBValue *
dict_peer (const char *ip,
           gint64      port)
{
  TeBValue *peer = te_bvalue_new_dict ();

  if (ip != NULL)
    set_bytes (peer, "ip", ip, strlen (ip));
  set_bytes (peer, "peer id", "01234567890123456789", 20);
  set_int (peer, "port", port);
  return peer;
}

static void
test_parse_dict_peers (void)
{
  TeBValue *dict = te_bvalue_new_dict ();
  TeBValue *list = te_bvalue_new_list ();
  g_autoptr(TeAnnounceResponse) response = NULL;

  te_bvalue_list_append (list, dict_peer ("192.168.1.1", 1000));
  te_bvalue_list_append (list, dict_peer ("2001:db8::1", 2000));
  te_bvalue_list_append (list, dict_peer ("192.168.1.1", 1000));
  te_bvalue_list_append (list, dict_peer ("tracker.example", 3));
  te_bvalue_list_append (list, dict_peer ("1.2.3.4", 0));
  te_bvalue_list_append (list, dict_peer ("1.2.3.4", 70000));
  te_bvalue_list_append (list, dict_peer (NULL, 5));
  te_bvalue_list_append (list, te_bvalue_new_int (12));
  set_int (dict, "interval", 1200);
  te_bvalue_dict_set (dict, "peers", list);
  response = parse_ok (encode_free (dict));

  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_true (has_peer (response->peers, "192.168.1.1", 1000));
  g_assert_true (has_peer (response->peers, "2001:db8::1", 2000));
  g_assert_cmpint (response->seeders, ==, -1);
  g_assert_cmpint (response->leechers, ==, -1);
  g_assert_null (response->tracker_id);
  g_assert_null (response->warning);
}

static void
test_parse_peers6 (void)
{
  static const guint8 peers6[36] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xc8, 0xd5,
    /* ::ffff:10.1.2.3, the IPv4 peer again */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3, 0x11, 0xd7,
  };
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();
  g_autoptr(TeAnnounceResponse) response = NULL;
  GSocketFamily families[2];

  add_peer4 (peers, 10, 1, 2, 3, 4567);
  set_bytes (dict, "peers", peers->data, peers->len);
  set_bytes (dict, "peers6", peers6, sizeof peers6);
  response = parse_ok (encode_free (dict));

  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_true (has_peer (response->peers, "10.1.2.3", 4567));
  g_assert_true (has_peer (response->peers, "2001:db8::2", 51413));
  for (guint i = 0; i < 2; i++)
    families[i] = g_socket_address_get_family (g_ptr_array_index (response->peers, i));
  g_assert_cmpint (families[0], ==, G_SOCKET_FAMILY_IPV4);
  g_assert_cmpint (families[1], ==, G_SOCKET_FAMILY_IPV6);
}

static void
test_parse_intervals (void)
{
  static const struct {
    const char *reply;
    guint32     interval;
    guint32     min_interval;
  } cases[] = {
    { "d5:peers0:e", 1800, 0 },
    { "d8:intervali5e5:peers0:e", 30, 0 },
    { "d8:intervali-5e5:peers0:e", 30, 0 },
    { "d8:intervali1000000000e12:min intervali1000000000e5:peers0:e", 86400, 86400 },
    { "d8:intervali600e12:min intervali-3e5:peers0:e", 600, 0 },
    { "d8:intervali600e12:min intervali10e5:peers0:e", 600, 10 },
    { "d8:interval3:abc5:peers0:e", 1800, 0 },
    { "de", 1800, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TeAnnounceResponse) response =
        parse_ok (g_bytes_new_static (cases[i].reply, strlen (cases[i].reply)));

      g_assert_cmpuint (response->interval, ==, cases[i].interval);
      g_assert_cmpuint (response->min_interval, ==, cases[i].min_interval);
      g_assert_cmpuint (response->peers->len, ==, 0);
    }
}

static void
test_parse_failure (void)
{
  static const char reply[] = "d14:failure reason19:bad\001torrent \xff\xfe here5:peers0:e";
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;

  response = te_tracker_parse_http_reply ((const guint8 *) reply, strlen (reply), &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_true (g_str_has_prefix (error->message, "bad torrent "));
  g_assert_true (g_str_has_suffix (error->message, " here"));
  g_assert_false (te_tracker_error_is_retryable (error));
}

static void
test_parse_malformed (void)
{
  static const char * const replies[] = {
    "not bencode",
    "",
    "le",
    "i42e",
    "d8:intervali1800e",                     /* truncated */
    "d8:intervali1800ee5:extra",             /* trailing data */
    "d5:peers7:abcdefge",                    /* not a multiple of 6 */
    "d5:peers5:abcdee",
    "d6:peers617:abcdefghijklmnopqe",        /* not a multiple of 18 */
    "d5:peersi3ee",
    "d5:peers0:6:peers6lee",
  };
  gsize big_len = 5 * 1024 * 1024;
  g_autofree char *big = g_malloc (big_len);
  int head;

  for (guint i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      g_test_message ("%s", replies[i]);
      assert_bad_reply (replies[i], strlen (replies[i]));
    }

  /* A well-formed but 5 MiB reply. */
  head = g_snprintf (big, big_len, "d3:pad%" G_GSIZE_FORMAT ":", big_len - 16);
  memset (big + head, 'x', big_len - head);
  big[head + big_len - 16] = 'e';
  assert_bad_reply (big, head + big_len - 16 + 1);
}

static void
test_parse_max_peers (void)
{
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();
  g_autoptr(TeAnnounceResponse) response = NULL;

  for (guint i = 0; i < 2500; i++)
    add_peer4 (peers, 10, 2, i >> 8, i & 0xff, 6881);
  set_bytes (dict, "peers", peers->data, peers->len);
  response = parse_ok (encode_free (dict));
  g_assert_cmpuint (response->peers->len, ==, TE_TRACKER_MAX_PEERS);
}

static void
test_error_helpers (void)
{
  static const struct {
    TeTrackerError code;
    const char    *message;
    guint          status;
    gboolean       retryable;
  } cases[] = {
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 500 Internal Server Error", 500, TRUE },
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 503", 503, TRUE },
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 429 Too Many Requests", 429, TRUE },
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 408", 408, TRUE },
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 404 Not Found", 404, FALSE },
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 403", 403, FALSE },
    { TE_TRACKER_ERROR_HTTP_STATUS, "HTTP 304", 304, FALSE },
    { TE_TRACKER_ERROR_TIMEOUT, "slow", 0, TRUE },
    { TE_TRACKER_ERROR_DNS, "no such host", 0, TRUE },
    { TE_TRACKER_ERROR_NETWORK, "refused", 0, TRUE },
    { TE_TRACKER_ERROR_FAILURE_REASON, "HTTP 500", 0, FALSE },
    { TE_TRACKER_ERROR_BAD_REPLY, "junk", 0, FALSE },
    { TE_TRACKER_ERROR_UNSUPPORTED_URL, "wss", 0, FALSE },
  };
  g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "x");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (TE_TRACKER_ERROR, cases[i].code,
                                                     cases[i].message);

      g_assert_cmpuint (te_tracker_error_get_http_status (error), ==, cases[i].status);
      g_assert_cmpint (te_tracker_error_is_retryable (error), ==, cases[i].retryable);
    }
  g_assert_false (te_tracker_error_is_retryable (cancelled));
  g_assert_false (te_tracker_error_is_retryable (NULL));
}

static void
add_parse_tests (void)
{
  g_test_add_func ("/te/tracker/scrape-url", test_scrape_url);
  g_test_add_func ("/te/tracker/parse/compact", test_parse_compact);
  g_test_add_func ("/te/tracker/parse/dict-peers", test_parse_dict_peers);
  g_test_add_func ("/te/tracker/parse/peers6", test_parse_peers6);
  g_test_add_func ("/te/tracker/parse/intervals", test_parse_intervals);
  g_test_add_func ("/te/tracker/parse/failure-reason", test_parse_failure);
  g_test_add_func ("/te/tracker/parse/malformed", test_parse_malformed);
  g_test_add_func ("/te/tracker/parse/max-peers", test_parse_max_peers);
  g_test_add_func ("/te/tracker/errors", test_error_helpers);
}

/* HTTP */

static guint16
closed_port (void)
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

static void
assert_announce_error (Fixture    *f,
                       const char *url,
                       GQuark      domain,
                       int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  init_request (&request, awkward_hash);
  response = announce_sync (f->session, url, &request, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, domain, code);
}

static void
test_http_announce (Fixture       *f,
                    gconstpointer  data)
{
  static const guint8 peers6[18] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0x1a, 0xe1,
  };
  g_autofree char *url = url_for (f, "/a/announce?passkey=s3cr%2Ft");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autofree char *expected_hash = g_strdup_printf ("info_hash=%s&", AWKWARD_HASH_ESCAPED);
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();
  TeAnnounceRequest request;
  Request *seen;

  add_peer4 (peers, 10, 1, 2, 3, 4567);
  add_peer4 (peers, 10, 1, 2, 4, 4568);
  set_int (dict, "interval", 900);
  set_int (dict, "min interval", 120);
  set_int (dict, "complete", 3);
  set_int (dict, "incomplete", 4);
  set_bytes (dict, "tracker id", "tid-1", 5);
  set_bytes (dict, "warning message", "be nice", 7);
  set_bytes (dict, "peers", peers->data, peers->len);
  set_bytes (dict, "peers6", peers6, sizeof peers6);
  push_reply (f, "/a/announce", 200, encode_free (dict));

  init_request (&request, awkward_hash);
  request.tracker_id = "xyz 1&";
  response = announce_sync (f->session, url, &request, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (response->interval, ==, 900);
  g_assert_cmpuint (response->min_interval, ==, 120);
  g_assert_cmpint (response->seeders, ==, 3);
  g_assert_cmpint (response->leechers, ==, 4);
  g_assert_cmpstr (response->tracker_id, ==, "tid-1");
  g_assert_cmpstr (response->warning, ==, "be nice");
  g_assert_cmpuint (response->peers->len, ==, 3);
  g_assert_true (has_peer (response->peers, "10.1.2.3", 4567));
  g_assert_true (has_peer (response->peers, "10.1.2.4", 4568));
  g_assert_true (has_peer (response->peers, "2001:db8::7", 6881));

  g_assert_cmpuint (f->requests->len, ==, 1);
  seen = nth_request (f, 0);
  g_assert_cmpstr (seen->path, ==, "/a/announce");
  /* The tracker's own query comes first, untouched. */
  g_assert_true (g_str_has_prefix (seen->raw_query, "passkey=s3cr%2Ft&"));
  g_assert_nonnull (strstr (seen->raw_query, expected_hash));
  assert_param_bytes (seen, "info_hash", awkward_hash, 20);
  assert_param_bytes (seen, "peer_id", peer_id, 20);
  assert_param (seen, "passkey", "s3cr/t");
  assert_param (seen, "port", "51413");
  assert_param (seen, "uploaded", "1");
  assert_param (seen, "downloaded", "22");
  assert_param (seen, "left", "333");
  assert_param (seen, "compact", "1");
  assert_param (seen, "event", "started");
  assert_param (seen, "numwant", NULL);
  assert_param (seen, "key", "DEADBEEF");
  assert_param (seen, "trackerid", "xyz 1&");
}

static void
test_http_events (Fixture       *f,
                  gconstpointer  data)
{
  static const struct {
    TeAnnounceEvent  event;
    const char      *text;
  } cases[] = {
    { TE_ANNOUNCE_EVENT_NONE, NULL },
    { TE_ANNOUNCE_EVENT_STARTED, "started" },
    { TE_ANNOUNCE_EVENT_COMPLETED, "completed" },
    { TE_ANNOUNCE_EVENT_STOPPED, "stopped" },
  };
  g_autofree char *url = url_for (f, "/e/announce");

  push_reply (f, "/e/announce", 200, peers_reply (1800, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TeAnnounceResponse) response = NULL;
      TeAnnounceRequest request;

      init_request (&request, awkward_hash);
      request.event = cases[i].event;
      request.numwant = i * 25;
      response = announce_sync (f->session, url, &request, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (response->peers->len, ==, 2);
      assert_param (nth_request (f, i), "event", cases[i].text);
      assert_param (nth_request (f, i), "trackerid", NULL);
    }
  assert_param (nth_request (f, 0), "numwant", "0");
  assert_param (nth_request (f, 3), "numwant", "75");
}

static void
test_http_status (Fixture       *f,
                  gconstpointer  data)
{
  static const struct {
    guint    status;
    gboolean retryable;
  } cases[] = {
    { 404, FALSE },
    { 403, FALSE },
    { 500, TRUE },
    { 503, TRUE },
    { 429, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/status%u/announce", cases[i].status);
      g_autofree char *url = url_for (f, path);
      g_autofree char *code = g_strdup_printf ("HTTP %u", cases[i].status);
      g_autoptr(GError) error = NULL;
      g_autoptr(TeAnnounceResponse) response = NULL;
      TeAnnounceRequest request;

      push_text (f, path, cases[i].status, "d14:failure reason4:nopee");
      init_request (&request, awkward_hash);
      response = announce_sync (f->session, url, &request, NULL, &error);
      g_assert_null (response);
      g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_HTTP_STATUS);
      g_assert_true (g_str_has_prefix (error->message, code));
      g_assert_cmpuint (te_tracker_error_get_http_status (error), ==, cases[i].status);
      g_assert_cmpint (te_tracker_error_is_retryable (error), ==, cases[i].retryable);
    }
}

static void
test_http_failure_reason (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/f/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  push_text (f, "/f/announce", 200, "d14:failure reason22:torrent not registerede");
  init_request (&request, awkward_hash);
  response = announce_sync (f->session, url, &request, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
  g_assert_cmpstr (error->message, ==, "torrent not registered");
}

static void
test_http_malformed (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const bodies[] = {
    "<html>not bencode</html>",
    "d5:peers7:abcdefge",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autofree char *path = g_strdup_printf ("/m%u/announce", i);
      g_autofree char *url = url_for (f, path);

      push_text (f, path, 200, bodies[i]);
      assert_announce_error (f, url, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
    }
}

static void
test_http_too_large (Fixture       *f,
                     gconstpointer  data)
{
  gsize size = 5 * 1024 * 1024;
  g_autofree char *big = g_malloc (size);
  g_autofree char *plain = url_for (f, "/big/announce");
  g_autofree char *chunked = url_for (f, "/chunked/announce");
  g_autofree char *after = url_for (f, "/after/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  GPtrArray *list;
  TeAnnounceRequest request;

  memset (big, 'x', size);
  push_reply (f, "/big/announce", 200, g_bytes_new (big, size));
  push_reply (f, "/chunked/announce", 200, g_bytes_new (big, size));
  list = g_hash_table_lookup (f->replies, "/chunked/announce");
  ((Reply *) g_ptr_array_index (list, 0))->chunked = TRUE;
  push_reply (f, "/after/announce", 200, peers_reply (1800, NULL));

  assert_announce_error (f, plain, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
  assert_announce_error (f, chunked, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);

  /* The session still works afterwards. */
  init_request (&request, awkward_hash);
  response = announce_sync (f->session, after, &request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (response->peers->len, ==, 2);
}

static void
test_http_timeout (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/hang/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;
  gint64 start = g_get_monotonic_time ();

  push_reply (f, "/hang/announce", 0, NULL);
  te_tracker_set_http_timeout (200);
  init_request (&request, awkward_hash);
  response = announce_sync (f->session, url, &request, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_TIMEOUT);
  g_assert_true (te_tracker_error_is_retryable (error));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_http_cancel (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/hang/announce");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  push_reply (f, "/hang/announce", 0, NULL);
  g_timeout_add (50, cancel_cb, cancellable);
  init_request (&request, awkward_hash);
  response = announce_sync (f->session, url, &request, cancellable, &error);
  g_assert_null (response);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_http_dead (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/announce", closed_port ());
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  init_request (&request, awkward_hash);
  response = announce_sync (f->session, url, &request, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_NETWORK);
  g_assert_true (te_tracker_error_is_retryable (error));
}

static void
test_unsupported_url (Fixture       *f,
                      gconstpointer  data)
{
  static const char * const urls[] = {
    "wss://tracker.example/announce",
    "udp://tracker.example/announce",
    "ftp://tracker.example/announce",
    "not a url",
    "http:///announce",
  };
  g_autofree char *http = url_for (f, "/a/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    assert_announce_error (f, urls[i], TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL);

  /* HTTP needs a session. */
  init_request (&request, awkward_hash);
  response = announce_sync (NULL, http, &request, NULL, &error);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL);
  g_assert_cmpuint (f->requests->len, ==, 0);
}

static void
test_http_scrape (Fixture       *f,
                  gconstpointer  data)
{
  static const guint8 other_hash[20] = "ABCDEFGHIJKLMNOPQRST";
  static const guint8 unknown_hash[20] = "unknown-unknown-unkn";
  g_autofree char *announce = url_for (f, "/s/announce.php?k=1");
  g_autofree char *scrape = url_for (f, "/s/scrape.php?k=1");
  g_autofree char *not_scrapable = url_for (f, "/s/tracker");
  g_autofree char *refusing = url_for (f, "/r/announce");
  g_autoptr(GError) error = NULL;
  TeBValue *dict = te_bvalue_new_dict ();
  TeBValue *files = te_bvalue_new_dict ();
  TeBValue *entry = te_bvalue_new_dict ();
  TeBValue *other = te_bvalue_new_dict ();
  TeScrapeResult result = { 0 };

  set_int (entry, "complete", 11);
  set_int (entry, "incomplete", 19);
  set_int (entry, "downloaded", 13772);
  set_int (other, "complete", 1);
  set_int (other, "incomplete", 2);
  set_int (other, "downloaded", 3);
  te_bvalue_dict_set_len (files, awkward_hash, 20, entry);
  te_bvalue_dict_set_len (files, other_hash, 20, other);
  te_bvalue_dict_set (dict, "files", files);
  push_reply (f, "/s/scrape.php", 200, encode_free (dict));
  push_text (f, "/r/scrape", 200, "d14:failure reason10:no scrapese");

  g_assert_true (scrape_sync (f->session, announce, awkward_hash, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.seeders, ==, 11);
  g_assert_cmpint (result.leechers, ==, 19);
  g_assert_cmpint (result.downloaded, ==, 13772);
  g_assert_cmpstr (nth_request (f, 0)->path, ==, "/s/scrape.php");
  assert_param_bytes (nth_request (f, 0), "info_hash", awkward_hash, 20);
  assert_param (nth_request (f, 0), "k", "1");
  assert_param (nth_request (f, 0), "peer_id", NULL);

  /* A scrape URL is taken as it is; a torrent the tracker does not list has nobody. */
  g_assert_true (scrape_sync (f->session, scrape, unknown_hash, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.seeders, ==, 0);
  g_assert_cmpint (result.leechers, ==, 0);
  g_assert_cmpint (result.downloaded, ==, 0);

  g_assert_false (scrape_sync (f->session, not_scrapable, awkward_hash, &result, &error));
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL);
  g_clear_error (&error);

  g_assert_false (scrape_sync (f->session, refusing, awkward_hash, &result, &error));
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
  g_assert_cmpstr (error->message, ==, "no scrapes");
  g_assert_cmpuint (f->requests->len, ==, 3);
}

#define ADD_FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

static void
add_http_tests (void)
{
  ADD_FIXTURE_TEST ("/te/tracker/http/announce", test_http_announce);
  ADD_FIXTURE_TEST ("/te/tracker/http/events", test_http_events);
  ADD_FIXTURE_TEST ("/te/tracker/http/status", test_http_status);
  ADD_FIXTURE_TEST ("/te/tracker/http/failure-reason", test_http_failure_reason);
  ADD_FIXTURE_TEST ("/te/tracker/http/malformed", test_http_malformed);
  ADD_FIXTURE_TEST ("/te/tracker/http/too-large", test_http_too_large);
  ADD_FIXTURE_TEST ("/te/tracker/http/timeout", test_http_timeout);
  ADD_FIXTURE_TEST ("/te/tracker/http/cancel", test_http_cancel);
  ADD_FIXTURE_TEST ("/te/tracker/http/dead", test_http_dead);
  ADD_FIXTURE_TEST ("/te/tracker/http/scrape", test_http_scrape);
  ADD_FIXTURE_TEST ("/te/tracker/unsupported-url", test_unsupported_url);
}

/* UDP: a fake BEP 15 tracker */

#define UDP_PROTOCOL_ID G_GUINT64_CONSTANT (0x41727101980)

typedef struct {
  GSocket    *socket;
  GSource    *source;
  guint16     port;
  gboolean    ipv6;
  guint       drop;            /* datagrams to ignore first */
  gboolean    drop_all;
  const char *error_message;   /* answer requests with action 3 */
  gboolean    stray_first;     /* send a reply with a wrong transaction id first */
  guint       n_datagrams;
  guint       n_connect;
  guint       n_announce;
  guint       n_scrape;
  guint64     connection_id;
  GArray     *transaction_ids; /* guint32, of every datagram */
  guint8      last[98];        /* the last announce or scrape request */
} FakeUdp;

static void
be32 (guint8  *p,
      guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static guint32
rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint64
rd64 (const guint8 *p)
{
  return ((guint64) rd32 (p) << 32) | rd32 (p + 4);
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
  action = rd32 (buf + 8);
  tid = rd32 (buf + 12);
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
      g_assert_cmpuint (rd64 (buf), ==, UDP_PROTOCOL_ID);
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
  if (rd64 (buf) != fake->connection_id)
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

/* NULL when the address family is not available here. */
static FakeUdp *
fake_udp_new (GSocketFamily family)
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

static void
fake_udp_free (FakeUdp *fake)
{
  g_source_destroy (fake->source);
  g_source_unref (fake->source);
  g_object_unref (fake->socket);
  g_array_unref (fake->transaction_ids);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeUdp, fake_udp_free)

static char *
fake_url (FakeUdp *fake)
{
  return g_strdup_printf (fake->ipv6 ? "udp://[::1]:%u/announce" : "udp://127.0.0.1:%u/announce",
                          fake->port);
}

static TeAnnounceResponse *
udp_announce (FakeUdp  *fake,
              GError  **error)
{
  g_autofree char *url = fake_url (fake);
  TeAnnounceRequest request;

  init_request (&request, awkward_hash);
  request.event = TE_ANNOUNCE_EVENT_COMPLETED;
  request.tracker_id = "ignored";
  return announce_sync (NULL, url, &request, NULL, error);
}

static guint32
tid (FakeUdp *fake,
     guint    n)
{
  g_assert_cmpuint (fake->transaction_ids->len, >, n);
  return g_array_index (fake->transaction_ids, guint32, n);
}

static void
test_udp_announce (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autoptr(TeAnnounceResponse) again = NULL;

  te_tracker_set_udp_timeout_base (0);
  response = udp_announce (fake, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake->n_connect, ==, 1);
  g_assert_cmpuint (fake->n_announce, ==, 1);

  /* The request, field by field. */
  g_assert_cmpuint (rd32 (fake->last + 8), ==, 1);
  g_assert_cmpmem (fake->last + 16, 20, awkward_hash, 20);
  g_assert_cmpmem (fake->last + 36, 20, peer_id, 20);
  g_assert_cmpuint (rd64 (fake->last + 56), ==, 22);     /* downloaded */
  g_assert_cmpuint (rd64 (fake->last + 64), ==, 333);    /* left */
  g_assert_cmpuint (rd64 (fake->last + 72), ==, 1);      /* uploaded */
  g_assert_cmpuint (rd32 (fake->last + 80), ==, 1);      /* completed */
  g_assert_cmpuint (rd32 (fake->last + 84), ==, 0);
  g_assert_cmpuint (rd32 (fake->last + 88), ==, 0xdeadbeef);
  g_assert_cmpuint (rd32 (fake->last + 92), ==, 0xffffffff);
  g_assert_cmpuint ((fake->last[96] << 8) | fake->last[97], ==, 51413);
  /* Connect and announce use their own transaction ids. */
  g_assert_cmpuint (tid (fake, 0), !=, tid (fake, 1));

  g_assert_cmpuint (response->interval, ==, 900);
  g_assert_cmpuint (response->min_interval, ==, 0);
  g_assert_cmpint (response->leechers, ==, 3);
  g_assert_cmpint (response->seeders, ==, 5);
  g_assert_null (response->tracker_id);
  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_true (has_peer (response->peers, "10.0.0.1", 6881));
  g_assert_true (has_peer (response->peers, "10.0.0.2", 6882));

  /* The connection id is reused within its minute. */
  again = udp_announce (fake, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake->n_connect, ==, 1);
  g_assert_cmpuint (fake->n_announce, ==, 2);
  g_assert_cmpuint (fake->n_datagrams, ==, 3);
}

static void
test_udp_ipv6 (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;

  if (fake == NULL)
    {
      g_test_skip ("No IPv6 loopback here");
      return;
    }
  response = udp_announce (fake, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (response->peers->len, ==, 1);
  g_assert_true (has_peer (response->peers, "2001:db8::9", 6881));
}

static void
test_udp_scrape (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autofree char *url = fake_url (fake);
  g_autoptr(GError) error = NULL;
  TeScrapeResult result = { 0 };

  g_assert_true (scrape_sync (NULL, url, awkward_hash, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.seeders, ==, 7);
  g_assert_cmpint (result.downloaded, ==, 11);
  g_assert_cmpint (result.leechers, ==, 13);
  g_assert_cmpuint (fake->n_scrape, ==, 1);
  g_assert_cmpuint (rd32 (fake->last + 8), ==, 2);
  g_assert_cmpmem (fake->last + 16, 20, awkward_hash, 20);
}

static void
test_udp_retransmit (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;

  fake->drop = 2;
  te_tracker_set_udp_timeout_base (20);
  response = udp_announce (fake, &error);
  te_tracker_set_udp_timeout_base (0);
  g_assert_no_error (error);
  g_assert_cmpuint (response->peers->len, ==, 2);

  /* Connect sent three times (same transaction id), then the announce. */
  g_assert_cmpuint (fake->n_datagrams, ==, 4);
  g_assert_cmpuint (fake->n_connect, ==, 1);
  g_assert_cmpuint (fake->n_announce, ==, 1);
  g_assert_cmpuint (tid (fake, 0), ==, tid (fake, 1));
  g_assert_cmpuint (tid (fake, 1), ==, tid (fake, 2));
  g_assert_cmpuint (tid (fake, 2), !=, tid (fake, 3));
}

static void
test_udp_timeout (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  gint64 start = g_get_monotonic_time ();

  fake->drop_all = TRUE;
  te_tracker_set_udp_timeout_base (2);
  response = udp_announce (fake, &error);
  te_tracker_set_udp_timeout_base (0);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_TIMEOUT);
  g_assert_true (te_tracker_error_is_retryable (error));
  /* n = 0…8: nine sends, waiting 2 · (2^9 - 1) ms in all. */
  g_assert_cmpuint (fake->n_datagrams, ==, 9);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * 511 * 1000);
}

static void
test_udp_error (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;

  fake->error_message = "torrent not allowed";
  response = udp_announce (fake, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
  g_assert_cmpstr (error->message, ==, "torrent not allowed");
  g_assert_false (te_tracker_error_is_retryable (error));
}

static void
test_udp_stray (void)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;

  fake->stray_first = TRUE;
  response = udp_announce (fake, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_cmpuint (fake->n_announce, ==, 1);
  g_assert_cmpuint (fake->n_datagrams, ==, 2);
}

static void
test_udp_refused (void)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  TeAnnounceRequest request;

  /* Nobody listens there once the fake is gone: ICMP port unreachable. */
  url = fake_url (fake);
  g_clear_pointer (&fake, fake_udp_free);
  init_request (&request, awkward_hash);
  response = announce_sync (NULL, url, &request, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_NETWORK);
}

static void
test_udp_parse (void)
{
  static const guint8 short_reply[12] = { 0, 0, 0, 1 };
  guint8 reply[20 + 6 + 3] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2,
                               192, 168, 0, 1, 0x1a, 0xe1, 1, 2, 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeScrapeResult scrape;

  /* Trailing bytes that make no whole peer are ignored; intervals are clamped. */
  response = _te_tracker_parse_udp_announce (reply, sizeof reply, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (response->interval, ==, 30);
  g_assert_cmpint (response->leechers, ==, 1);
  g_assert_cmpint (response->seeders, ==, 2);
  g_assert_cmpuint (response->peers->len, ==, 1);
  g_assert_true (has_peer (response->peers, "192.168.0.1", 6881));

  g_assert_null (_te_tracker_parse_udp_announce (short_reply, sizeof short_reply, FALSE, &error));
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
  g_clear_error (&error);
  g_assert_false (_te_tracker_parse_udp_scrape (short_reply, sizeof short_reply, &scrape, &error));
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
}

static void
add_udp_tests (void)
{
  g_test_add_func ("/te/tracker/udp/announce", test_udp_announce);
  g_test_add_func ("/te/tracker/udp/ipv6", test_udp_ipv6);
  g_test_add_func ("/te/tracker/udp/scrape", test_udp_scrape);
  g_test_add_func ("/te/tracker/udp/retransmit", test_udp_retransmit);
  g_test_add_func ("/te/tracker/udp/timeout", test_udp_timeout);
  g_test_add_func ("/te/tracker/udp/error", test_udp_error);
  g_test_add_func ("/te/tracker/udp/stray", test_udp_stray);
  g_test_add_func ("/te/tracker/udp/refused", test_udp_refused);
  g_test_add_func ("/te/tracker/udp/parse", test_udp_parse);
}

/* The announcer */

typedef struct {
  guint       n_peers_signals;
  guint       n_peers;
  char       *peers_url;
  GPtrArray  *errors;      /* GError* */
  GArray     *states;      /* TeTrackerState of the first tracker at each error */
  guint       n_updated;
  gboolean    stopped;
} Events;

static void
peers_cb (TeAnnouncer *announcer,
          GPtrArray   *peers,
          const char  *url,
          Events      *ev)
{
  ev->n_peers_signals++;
  ev->n_peers += peers->len;
  g_free (ev->peers_url);
  ev->peers_url = g_strdup (url);
  for (guint i = 0; i < peers->len; i++)
    g_assert_true (G_IS_INET_SOCKET_ADDRESS (g_ptr_array_index (peers, i)));
}

static void
tracker_error_cb (TeAnnouncer  *announcer,
                  const char   *url,
                  const GError *error,
                  Events       *ev)
{
  g_autoptr(GPtrArray) trackers = te_announcer_dup_trackers (announcer);
  TeTrackerInfo *first = g_ptr_array_index (trackers, 0);

  g_assert_nonnull (url);
  g_ptr_array_add (ev->errors, g_error_copy (error));
  g_array_append_val (ev->states, first->state);
}

static void
tracker_updated_cb (TeAnnouncer *announcer,
                    const char  *url,
                    Events      *ev)
{
  ev->n_updated++;
}

static void
stopped_cb (TeAnnouncer *announcer,
            Events      *ev)
{
  ev->stopped = TRUE;
}

static void
events_clear (Events *ev)
{
  g_free (ev->peers_url);
  g_ptr_array_unref (ev->errors);
  g_array_unref (ev->states);
}

static GPtrArray *
make_tiers (const char *first,
            ...)
{
  GPtrArray *tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  const char *tier = first;
  va_list args;

  /* Each argument is one tier: URLs separated by spaces. */
  va_start (args, first);
  for (; tier != NULL; tier = va_arg (args, const char *))
    {
      g_auto(GStrv) urls = g_strsplit (tier, " ", -1);
      GPtrArray *list = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; urls[i] != NULL; i++)
        g_ptr_array_add (list, g_strdup (urls[i]));
      g_ptr_array_add (tiers, list);
    }
  va_end (args);
  return tiers;
}

static TeAnnouncer *
make_announcer (Fixture   *f,
                GPtrArray *tiers,
                Events    *ev)
{
  TeAnnouncer *announcer = te_announcer_new (f->session, tiers, awkward_hash, peer_id, 6881);

  ev->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  ev->states = g_array_new (FALSE, FALSE, sizeof (TeTrackerState));
  g_signal_connect (announcer, "peers", G_CALLBACK (peers_cb), ev);
  g_signal_connect (announcer, "tracker-error", G_CALLBACK (tracker_error_cb), ev);
  g_signal_connect (announcer, "tracker-updated", G_CALLBACK (tracker_updated_cb), ev);
  g_signal_connect (announcer, "stopped", G_CALLBACK (stopped_cb), ev);
  te_announcer_set_stats (announcer, 10, 20, 30);
  g_ptr_array_unref (tiers);
  return announcer;
}

static void
stop_and_finalize (TeAnnouncer *announcer,
                   Events      *ev)
{
  te_announcer_stop (announcer);
  WAIT_UNTIL (ev->stopped, WAIT_MS);
  g_assert_false (te_announcer_is_running (announcer));
  g_assert_finalize_object (announcer);
}

static TeTrackerInfo *
info_for (GPtrArray  *trackers,
          const char *url)
{
  for (guint i = 0; i < trackers->len; i++)
    {
      TeTrackerInfo *info = g_ptr_array_index (trackers, i);

      if (strcmp (info->url, url) == 0)
        return info;
    }
  g_assert_not_reached ();
}

static void
test_announcer_retry (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/r/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  push_text (f, "/r/announce", 500, "oops");
  push_text (f, "/r/announce", 500, "oops");
  push_reply (f, "/r/announce", 200, peers_reply (1800, NULL));
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_set_backoff_base_ms (announcer, 10);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);

  g_assert_cmpuint (ev.n_peers, ==, 2);
  g_assert_cmpstr (ev.peers_url, ==, url);
  g_assert_cmpuint (ev.errors->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      GError *error = g_ptr_array_index (ev.errors, i);

      g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_HTTP_STATUS);
      g_assert_cmpuint (te_tracker_error_get_http_status (error), ==, 500);
    }
  g_assert_cmpuint (f->requests->len, ==, 3);
  /* `started` until a tracker took it; then the stats as set. */
  for (guint i = 0; i < 3; i++)
    assert_param (nth_request (f, i), "event", "started");
  assert_param (nth_request (f, 2), "uploaded", "10");
  assert_param (nth_request (f, 2), "downloaded", "20");
  assert_param (nth_request (f, 2), "left", "30");
  assert_param (nth_request (f, 2), "port", "6881");
  assert_param_bytes (nth_request (f, 2), "info_hash", awkward_hash, 20);

  trackers = te_announcer_dup_trackers (announcer);
  g_assert_cmpuint (trackers->len, ==, 1);
  info = g_ptr_array_index (trackers, 0);
  g_assert_cmpint (info->state, ==, TE_TRACKER_STATE_WORKING);
  g_assert_cmpuint (info->consecutive_failures, ==, 0);
  g_assert_null (info->last_error);
  g_assert_cmpuint (info->last_peer_count, ==, 2);
  g_assert_cmpint (info->last_announce, >, 0);
  g_assert_cmpint (info->next_announce, >=, g_get_real_time () / G_USEC_PER_SEC + 1790);

  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (f->requests->len, ==, 4);
  assert_param (nth_request (f, 3), "event", "stopped");
  assert_param (nth_request (f, 3), "numwant", "0");
  events_clear (&ev);
}

static void
test_announcer_dead_tier (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *dead = g_strdup_printf ("http://127.0.0.1:%u/announce", closed_port ());
  g_autofree char *good = url_for (f, "/g/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  push_reply (f, "/g/announce", 200, peers_reply (1800, NULL));
  announcer = make_announcer (f, make_tiers (dead, good, NULL), &ev);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);

  g_assert_cmpstr (ev.peers_url, ==, good);
  g_assert_cmpuint (ev.errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (ev.errors, 0), TE_TRACKER_ERROR,
                  TE_TRACKER_ERROR_NETWORK);

  trackers = te_announcer_dup_trackers (announcer);
  g_assert_cmpuint (trackers->len, ==, 2);
  info = g_ptr_array_index (trackers, 0);
  g_assert_cmpstr (info->url, ==, dead);
  g_assert_cmpuint (info->tier, ==, 0);
  g_assert_cmpuint (info->consecutive_failures, ==, 1);
  g_assert_nonnull (info->last_error);
  info = g_ptr_array_index (trackers, 1);
  g_assert_cmpstr (info->url, ==, good);
  g_assert_cmpuint (info->tier, ==, 1);
  g_assert_cmpint (info->state, ==, TE_TRACKER_STATE_WORKING);

  /* Only the tracker that took `started` hears `stopped`. */
  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (f->requests->len, ==, 2);
  assert_param (nth_request (f, 1), "event", "stopped");
  events_clear (&ev);
}

static void
test_announcer_same_tier (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *dead = g_strdup_printf ("http://127.0.0.1:%u/announce", closed_port ());
  g_autofree char *good = url_for (f, "/g/announce");
  g_autofree char *tier = g_strdup_printf ("%s %s", dead, good);
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;

  push_reply (f, "/g/announce", 200, peers_reply (1800, NULL));
  announcer = make_announcer (f, make_tiers (tier, NULL), &ev);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);
  g_assert_cmpstr (ev.peers_url, ==, good);

  /* Whatever the shuffle did, the tracker that answered now comes first. */
  trackers = te_announcer_dup_trackers (announcer);
  g_assert_cmpuint (trackers->len, ==, 2);
  g_assert_cmpstr (((TeTrackerInfo *) g_ptr_array_index (trackers, 0))->url, ==, good);
  g_assert_cmpuint (info_for (trackers, dead)->consecutive_failures, ==, ev.errors->len);
  g_assert_cmpuint (ev.errors->len, <=, 1);

  stop_and_finalize (announcer, &ev);
  events_clear (&ev);
}

static void
test_announcer_not_retried (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/nf/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  push_text (f, "/nf/announce", 404, "no");
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_set_backoff_base_ms (announcer, 1);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.errors->len == 1, WAIT_MS);

  /* A retryable failure would have been retried many times by now. */
  spin (300);
  g_assert_cmpuint (ev.errors->len, ==, 1);
  g_assert_cmpuint (f->requests->len, ==, 1);
  g_assert_false (te_tracker_error_is_retryable (g_ptr_array_index (ev.errors, 0)));

  trackers = te_announcer_dup_trackers (announcer);
  info = g_ptr_array_index (trackers, 0);
  g_assert_cmpint (info->state, ==, TE_TRACKER_STATE_UNKNOWN);
  g_assert_cmpuint (info->consecutive_failures, ==, 1);
  g_assert_nonnull (strstr (info->last_error, "404"));
  g_assert_cmpint (info->next_announce, >=, g_get_real_time () / G_USEC_PER_SEC + 1790);

  /* announce_now() does not override the wait either. */
  te_announcer_announce_now (announcer);
  spin (100);
  g_assert_cmpuint (f->requests->len, ==, 1);

  /* Nothing ever worked: stopping sends nothing. */
  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (f->requests->len, ==, 1);
  events_clear (&ev);
}

static void
test_announcer_health (Fixture       *f,
                       gconstpointer  data)
{
  static const TeTrackerState expected[] = {
    TE_TRACKER_STATE_UNKNOWN, TE_TRACKER_STATE_WARNING, TE_TRACKER_STATE_WARNING,
    TE_TRACKER_STATE_WARNING, TE_TRACKER_STATE_ERROR, TE_TRACKER_STATE_ERROR,
  };
  g_autofree char *url = url_for (f, "/h/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  push_text (f, "/h/announce", 503, "busy");
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_set_backoff_base_ms (announcer, 1);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.errors->len >= G_N_ELEMENTS (expected), WAIT_MS);
  te_announcer_stop (announcer);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpint (g_array_index (ev.states, TeTrackerState, i), ==, expected[i]);
  trackers = te_announcer_dup_trackers (announcer);
  info = g_ptr_array_index (trackers, 0);
  g_assert_cmpint (info->state, ==, TE_TRACKER_STATE_ERROR);
  g_assert_cmpuint (info->consecutive_failures, ==, ev.errors->len);
  g_assert_cmpuint (f->requests->len, ==, ev.errors->len);
  g_assert_cmpuint (info->next_announce, ==, 0);

  WAIT_UNTIL (ev.stopped, WAIT_MS);
  g_assert_finalize_object (announcer);
  events_clear (&ev);
}

static void
test_announcer_tracker_id (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/t/announce");
  Events ev = { 0 };
  TeAnnouncer *announcer;

  /* interval 1800, min interval 1, tracker id T-42 */
  push_reply (f, "/t/announce", 200, peers_reply (1800, "T-42"));
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);
  assert_param (nth_request (f, 0), "event", "started");
  assert_param (nth_request (f, 0), "trackerid", NULL);

  /* Early, but not before the min interval; the tracker id comes back. */
  te_announcer_announce_now (announcer);
  te_announcer_announce_now (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 2, WAIT_MS);
  g_assert_cmpuint (f->requests->len, ==, 2);
  g_assert_cmpint (nth_request (f, 1)->at - nth_request (f, 0)->at, >=, G_USEC_PER_SEC);
  assert_param (nth_request (f, 1), "event", NULL);
  assert_param (nth_request (f, 1), "trackerid", "T-42");

  te_announcer_completed (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 3, WAIT_MS);
  assert_param (nth_request (f, 2), "event", "completed");
  assert_param (nth_request (f, 2), "trackerid", "T-42");

  /* `completed` goes out once. */
  spin (1200);
  te_announcer_announce_now (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 4, WAIT_MS);
  assert_param (nth_request (f, 3), "event", NULL);

  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (f->requests->len, ==, 5);
  assert_param (nth_request (f, 4), "event", "stopped");
  assert_param (nth_request (f, 4), "trackerid", "T-42");
  g_assert_cmpuint (ev.errors->len, ==, 0);
  events_clear (&ev);
}

static void
test_announcer_udp (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autofree char *url = fake_url (fake);
  g_autofree char *unsupported = g_strdup ("wss://tracker.example/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;

  announcer = make_announcer (f, make_tiers (unsupported, NULL), &ev);
  te_announcer_add_tracker (announcer, url, 7);
  te_announcer_add_tracker (announcer, url, 0);   /* a duplicate: ignored */
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);
  g_assert_cmpstr (ev.peers_url, ==, url);
  g_assert_cmpuint (ev.n_peers, ==, 2);
  g_assert_cmpuint (ev.errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (ev.errors, 0), TE_TRACKER_ERROR,
                  TE_TRACKER_ERROR_UNSUPPORTED_URL);

  trackers = te_announcer_dup_trackers (announcer);
  g_assert_cmpuint (trackers->len, ==, 2);
  g_assert_cmpuint (info_for (trackers, url)->tier, ==, 1);
  g_assert_cmpint (info_for (trackers, url)->seeders, ==, 5);
  g_assert_cmpint (info_for (trackers, url)->leechers, ==, 3);
  g_assert_cmpuint (rd32 (fake->last + 80), ==, 2);   /* started */

  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (fake->n_announce, ==, 2);
  g_assert_cmpuint (rd32 (fake->last + 80), ==, 3);   /* stopped */
  g_assert_cmpuint (rd32 (fake->last + 92), ==, 0);   /* numwant */
  events_clear (&ev);
}

static void
test_announcer_udp_timeout (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(FakeUdp) fake = fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autofree char *udp = fake_url (fake);
  g_autofree char *http = url_for (f, "/g/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  GError *error;

  /* A silent UDP tracker would keep retransmitting for hours (BEP 15);
   * the announcer gives up on it after its attempt timeout. */
  fake->drop_all = TRUE;
  push_reply (f, "/g/announce", 200, peers_reply (1800, NULL));
  announcer = make_announcer (f, make_tiers (udp, http, NULL), &ev);
  te_announcer_set_attempt_timeout_ms (announcer, 200);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);

  g_assert_cmpstr (ev.peers_url, ==, http);
  g_assert_cmpuint (ev.errors->len, ==, 1);
  error = g_ptr_array_index (ev.errors, 0);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_TIMEOUT);
  g_assert_cmpuint (fake->n_datagrams, ==, 1);
  trackers = te_announcer_dup_trackers (announcer);
  g_assert_cmpuint (info_for (trackers, udp)->consecutive_failures, ==, 1);
  g_assert_cmpint (info_for (trackers, http)->state, ==, TE_TRACKER_STATE_WORKING);

  stop_and_finalize (announcer, &ev);
  events_clear (&ev);
}

static void
test_announcer_dispose_in_flight (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/hang/announce");
  Events ev = { 0 };
  TeAnnouncer *announcer;

  push_reply (f, "/hang/announce", 0, NULL);
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_start (announcer);
  WAIT_UNTIL (f->requests->len == 1, WAIT_MS);

  /* Dropping the announcer abandons the request; nothing fires afterwards. */
  g_assert_finalize_object (announcer);
  spin (50);
  g_assert_cmpuint (ev.n_updated, ==, 0);
  g_assert_cmpuint (ev.errors->len, ==, 0);
  events_clear (&ev);
}

static void
add_announcer_tests (void)
{
  ADD_FIXTURE_TEST ("/te/announcer/retry", test_announcer_retry);
  ADD_FIXTURE_TEST ("/te/announcer/dead-tier", test_announcer_dead_tier);
  ADD_FIXTURE_TEST ("/te/announcer/same-tier", test_announcer_same_tier);
  ADD_FIXTURE_TEST ("/te/announcer/not-retried", test_announcer_not_retried);
  ADD_FIXTURE_TEST ("/te/announcer/health", test_announcer_health);
  ADD_FIXTURE_TEST ("/te/announcer/tracker-id", test_announcer_tracker_id);
  ADD_FIXTURE_TEST ("/te/announcer/udp", test_announcer_udp);
  ADD_FIXTURE_TEST ("/te/announcer/udp-timeout", test_announcer_udp_timeout);
  ADD_FIXTURE_TEST ("/te/announcer/dispose-in-flight", test_announcer_dispose_in_flight);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_parse_tests ();
  add_http_tests ();
  add_udp_tests ();
  add_announcer_tests ();

  return g_test_run ();
}
