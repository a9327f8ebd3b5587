/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test-tracker"

#include "config.h"

#include <string.h>

#include "tracker-fixtures.h"

/* Reply parsing, scrape URLs and error helpers; then HTTP trackers against the
 * in-process libsoup server. UDP is in test-tracker-udp.c, the announcer in
 * test-announcer.c. */

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

  tf_add_peer4 (peers, 10, 0, 0, 1, 6881);
  tf_add_peer4 (peers, 10, 0, 0, 2, 6882);
  tf_add_peer4 (peers, 10, 0, 0, 1, 6881);   /* duplicate */
  tf_add_peer4 (peers, 10, 0, 0, 3, 0);      /* port 0 */
  tf_add_peer4 (peers, 0, 0, 0, 0, 1);       /* unspecified */
  tf_add_peer4 (peers, 10, 0, 0, 1, 6883);   /* same host, other port */
  tf_set_int (dict, "interval", 900);
  tf_set_int (dict, "min interval", 60);
  tf_set_int (dict, "complete", 5);
  tf_set_int (dict, "incomplete", 7);
  tf_set_bytes (dict, "tracker id", "abc", 3);
  tf_set_bytes (dict, "warning message", "careful\n", 8);
  tf_set_bytes (dict, "peers", peers->data, peers->len);
  response = parse_ok (tf_encode_free (dict));

  g_assert_cmpuint (response->interval, ==, 900);
  g_assert_cmpuint (response->min_interval, ==, 60);
  g_assert_cmpint (response->seeders, ==, 5);
  g_assert_cmpint (response->leechers, ==, 7);
  g_assert_cmpstr (response->tracker_id, ==, "abc");
  g_assert_cmpstr (response->warning, ==, "careful ");
  g_assert_cmpuint (response->peers->len, ==, 3);
  g_assert_true (tf_has_peer (response->peers, "10.0.0.1", 6881));
  g_assert_true (tf_has_peer (response->peers, "10.0.0.2", 6882));
  g_assert_true (tf_has_peer (response->peers, "10.0.0.1", 6883));
}

static TeBValue *
dict_peer (const char *ip,
           gint64      port)
{
  TeBValue *peer = te_bvalue_new_dict ();

  if (ip != NULL)
    tf_set_bytes (peer, "ip", ip, strlen (ip));
  tf_set_bytes (peer, "peer id", "01234567890123456789", 20);
  tf_set_int (peer, "port", port);
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
  tf_set_int (dict, "interval", 1200);
  te_bvalue_dict_set (dict, "peers", list);
  response = parse_ok (tf_encode_free (dict));

  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_true (tf_has_peer (response->peers, "192.168.1.1", 1000));
  g_assert_true (tf_has_peer (response->peers, "2001:db8::1", 2000));
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

  tf_add_peer4 (peers, 10, 1, 2, 3, 4567);
  tf_set_bytes (dict, "peers", peers->data, peers->len);
  tf_set_bytes (dict, "peers6", peers6, sizeof peers6);
  response = parse_ok (tf_encode_free (dict));

  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_true (tf_has_peer (response->peers, "10.1.2.3", 4567));
  g_assert_true (tf_has_peer (response->peers, "2001:db8::2", 51413));
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
    tf_add_peer4 (peers, 10, 2, i >> 8, i & 0xff, 6881);
  tf_set_bytes (dict, "peers", peers->data, peers->len);
  response = parse_ok (tf_encode_free (dict));
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

static void
assert_announce_error (Fixture    *f,
                       const char *url,
                       GQuark      domain,
                       int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (f->session, url, &request, NULL, &error);
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
  g_autofree char *url = tf_url_for (f, "/a/announce?passkey=s3cr%2Ft");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autofree char *expected_hash = g_strdup_printf ("info_hash=%s&", AWKWARD_HASH_ESCAPED);
  TeBValue *dict = te_bvalue_new_dict ();
  g_autoptr(GByteArray) peers = g_byte_array_new ();
  TeAnnounceRequest request;
  Request *seen;

  tf_add_peer4 (peers, 10, 1, 2, 3, 4567);
  tf_add_peer4 (peers, 10, 1, 2, 4, 4568);
  tf_set_int (dict, "interval", 900);
  tf_set_int (dict, "min interval", 120);
  tf_set_int (dict, "complete", 3);
  tf_set_int (dict, "incomplete", 4);
  tf_set_bytes (dict, "tracker id", "tid-1", 5);
  tf_set_bytes (dict, "warning message", "be nice", 7);
  tf_set_bytes (dict, "peers", peers->data, peers->len);
  tf_set_bytes (dict, "peers6", peers6, sizeof peers6);
  tf_push_reply (f, "/a/announce", 200, tf_encode_free (dict));

  tf_init_request (&request, tf_awkward_hash);
  request.tracker_id = "xyz 1&";
  response = tf_announce_sync (f->session, url, &request, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (response->interval, ==, 900);
  g_assert_cmpuint (response->min_interval, ==, 120);
  g_assert_cmpint (response->seeders, ==, 3);
  g_assert_cmpint (response->leechers, ==, 4);
  g_assert_cmpstr (response->tracker_id, ==, "tid-1");
  g_assert_cmpstr (response->warning, ==, "be nice");
  g_assert_cmpuint (response->peers->len, ==, 3);
  g_assert_true (tf_has_peer (response->peers, "10.1.2.3", 4567));
  g_assert_true (tf_has_peer (response->peers, "10.1.2.4", 4568));
  g_assert_true (tf_has_peer (response->peers, "2001:db8::7", 6881));

  g_assert_cmpuint (f->requests->len, ==, 1);
  seen = tf_nth_request (f, 0);
  g_assert_cmpstr (seen->path, ==, "/a/announce");
  /* The tracker's own query comes first, untouched. */
  g_assert_true (g_str_has_prefix (seen->raw_query, "passkey=s3cr%2Ft&"));
  g_assert_nonnull (strstr (seen->raw_query, expected_hash));
  tf_assert_param_bytes (seen, "info_hash", tf_awkward_hash, 20);
  tf_assert_param_bytes (seen, "peer_id", tf_peer_id, 20);
  tf_assert_param (seen, "passkey", "s3cr/t");
  tf_assert_param (seen, "port", "51413");
  tf_assert_param (seen, "uploaded", "1");
  tf_assert_param (seen, "downloaded", "22");
  tf_assert_param (seen, "left", "333");
  tf_assert_param (seen, "compact", "1");
  tf_assert_param (seen, "event", "started");
  tf_assert_param (seen, "numwant", NULL);
  tf_assert_param (seen, "key", "DEADBEEF");
  tf_assert_param (seen, "trackerid", "xyz 1&");
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
  g_autofree char *url = tf_url_for (f, "/e/announce");

  tf_push_reply (f, "/e/announce", 200, tf_peers_reply (1800, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TeAnnounceResponse) response = NULL;
      TeAnnounceRequest request;

      tf_init_request (&request, tf_awkward_hash);
      request.event = cases[i].event;
      request.numwant = i * 25;
      response = tf_announce_sync (f->session, url, &request, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (response->peers->len, ==, 2);
      tf_assert_param (tf_nth_request (f, i), "event", cases[i].text);
      tf_assert_param (tf_nth_request (f, i), "trackerid", NULL);
    }
  tf_assert_param (tf_nth_request (f, 0), "numwant", "0");
  tf_assert_param (tf_nth_request (f, 3), "numwant", "75");
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
      g_autofree char *url = tf_url_for (f, path);
      g_autofree char *code = g_strdup_printf ("HTTP %u", cases[i].status);
      g_autoptr(GError) error = NULL;
      g_autoptr(TeAnnounceResponse) response = NULL;
      TeAnnounceRequest request;

      tf_push_text (f, path, cases[i].status, "d14:failure reason4:nopee");
      tf_init_request (&request, tf_awkward_hash);
      response = tf_announce_sync (f->session, url, &request, NULL, &error);
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
  g_autofree char *url = tf_url_for (f, "/f/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  tf_push_text (f, "/f/announce", 200, "d14:failure reason22:torrent not registerede");
  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (f->session, url, &request, NULL, &error);
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
      g_autofree char *url = tf_url_for (f, path);

      tf_push_text (f, path, 200, bodies[i]);
      assert_announce_error (f, url, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
    }
}

static void
test_http_too_large (Fixture       *f,
                     gconstpointer  data)
{
  gsize size = 5 * 1024 * 1024;
  g_autofree char *big = g_malloc (size);
  g_autofree char *plain = tf_url_for (f, "/big/announce");
  g_autofree char *chunked = tf_url_for (f, "/chunked/announce");
  g_autofree char *after = tf_url_for (f, "/after/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  GPtrArray *list;
  TeAnnounceRequest request;

  memset (big, 'x', size);
  tf_push_reply (f, "/big/announce", 200, g_bytes_new (big, size));
  tf_push_reply (f, "/chunked/announce", 200, g_bytes_new (big, size));
  list = g_hash_table_lookup (f->replies, "/chunked/announce");
  ((Reply *) g_ptr_array_index (list, 0))->chunked = TRUE;
  tf_push_reply (f, "/after/announce", 200, tf_peers_reply (1800, NULL));

  assert_announce_error (f, plain, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
  assert_announce_error (f, chunked, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);

  /* The session still works afterwards. */
  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (f->session, after, &request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (response->peers->len, ==, 2);
}

static void
test_http_timeout (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *url = tf_url_for (f, "/hang/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;
  gint64 start = g_get_monotonic_time ();

  tf_push_reply (f, "/hang/announce", 0, NULL);
  te_tracker_set_http_timeout (200);
  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (f->session, url, &request, NULL, &error);
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
  g_autofree char *url = tf_url_for (f, "/hang/announce");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  tf_push_reply (f, "/hang/announce", 0, NULL);
  g_timeout_add (50, cancel_cb, cancellable);
  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (f->session, url, &request, cancellable, &error);
  g_assert_null (response);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_http_dead (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/announce", tf_closed_port ());
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (f->session, url, &request, NULL, &error);
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
  g_autofree char *http = tf_url_for (f, "/a/announce");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TeAnnounceRequest request;

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    assert_announce_error (f, urls[i], TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL);

  /* HTTP needs a session. */
  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (NULL, http, &request, NULL, &error);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL);
  g_assert_cmpuint (f->requests->len, ==, 0);
}

static void
test_http_scrape (Fixture       *f,
                  gconstpointer  data)
{
  static const guint8 other_hash[20] = "ABCDEFGHIJKLMNOPQRST";
  static const guint8 unknown_hash[20] = "unknown-unknown-unkn";
  g_autofree char *announce = tf_url_for (f, "/s/announce.php?k=1");
  g_autofree char *scrape = tf_url_for (f, "/s/scrape.php?k=1");
  g_autofree char *not_scrapable = tf_url_for (f, "/s/tracker");
  g_autofree char *refusing = tf_url_for (f, "/r/announce");
  g_autoptr(GError) error = NULL;
  TeBValue *dict = te_bvalue_new_dict ();
  TeBValue *files = te_bvalue_new_dict ();
  TeBValue *entry = te_bvalue_new_dict ();
  TeBValue *other = te_bvalue_new_dict ();
  TeScrapeResult result = { 0 };

  tf_set_int (entry, "complete", 11);
  tf_set_int (entry, "incomplete", 19);
  tf_set_int (entry, "downloaded", 13772);
  tf_set_int (other, "complete", 1);
  tf_set_int (other, "incomplete", 2);
  tf_set_int (other, "downloaded", 3);
  te_bvalue_dict_set_len (files, tf_awkward_hash, 20, entry);
  te_bvalue_dict_set_len (files, other_hash, 20, other);
  te_bvalue_dict_set (dict, "files", files);
  tf_push_reply (f, "/s/scrape.php", 200, tf_encode_free (dict));
  tf_push_text (f, "/r/scrape", 200, "d14:failure reason10:no scrapese");

  g_assert_true (tf_scrape_sync (f->session, announce, tf_awkward_hash, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.seeders, ==, 11);
  g_assert_cmpint (result.leechers, ==, 19);
  g_assert_cmpint (result.downloaded, ==, 13772);
  g_assert_cmpstr (tf_nth_request (f, 0)->path, ==, "/s/scrape.php");
  tf_assert_param_bytes (tf_nth_request (f, 0), "info_hash", tf_awkward_hash, 20);
  tf_assert_param (tf_nth_request (f, 0), "k", "1");
  tf_assert_param (tf_nth_request (f, 0), "peer_id", NULL);

  /* A scrape URL is taken as it is; a torrent the tracker does not list has nobody. */
  g_assert_true (tf_scrape_sync (f->session, scrape, unknown_hash, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.seeders, ==, 0);
  g_assert_cmpint (result.leechers, ==, 0);
  g_assert_cmpint (result.downloaded, ==, 0);

  g_assert_false (tf_scrape_sync (f->session, not_scrapable, tf_awkward_hash, &result, &error));
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL);
  g_clear_error (&error);

  g_assert_false (tf_scrape_sync (f->session, refusing, tf_awkward_hash, &result, &error));
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
  g_assert_cmpstr (error->message, ==, "no scrapes");
  g_assert_cmpuint (f->requests->len, ==, 3);
}

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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_parse_tests ();
  add_http_tests ();

  return g_test_run ();
}
