/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test-tracker-udp"

#include "config.h"

#include "tracker-fixtures.h"
#include "te-tracker-private.h"

/* UDP trackers (BEP 15) against the fake tracker on loopback. */

static TeAnnounceResponse *
udp_announce (FakeUdp  *fake,
              GError  **error)
{
  g_autofree char *url = tf_fake_url (fake);
  TeAnnounceRequest request;

  tf_init_request (&request, tf_awkward_hash);
  request.event = TE_ANNOUNCE_EVENT_COMPLETED;
  request.tracker_id = "ignored";
  return tf_announce_sync (NULL, url, &request, NULL, error);
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
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autoptr(TeAnnounceResponse) again = NULL;

  te_tracker_set_udp_timeout_base (0);
  response = udp_announce (fake, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake->n_connect, ==, 1);
  g_assert_cmpuint (fake->n_announce, ==, 1);

  /* The request, field by field. */
  g_assert_cmpuint (tf_rd32 (fake->last + 8), ==, 1);
  g_assert_cmpmem (fake->last + 16, 20, tf_awkward_hash, 20);
  g_assert_cmpmem (fake->last + 36, 20, tf_peer_id, 20);
  g_assert_cmpuint (tf_rd64 (fake->last + 56), ==, 22);     /* downloaded */
  g_assert_cmpuint (tf_rd64 (fake->last + 64), ==, 333);    /* left */
  g_assert_cmpuint (tf_rd64 (fake->last + 72), ==, 1);      /* uploaded */
  g_assert_cmpuint (tf_rd32 (fake->last + 80), ==, 1);      /* completed */
  g_assert_cmpuint (tf_rd32 (fake->last + 84), ==, 0);
  g_assert_cmpuint (tf_rd32 (fake->last + 88), ==, 0xdeadbeef);
  g_assert_cmpuint (tf_rd32 (fake->last + 92), ==, 0xffffffff);
  g_assert_cmpuint ((fake->last[96] << 8) | fake->last[97], ==, 51413);
  /* Connect and announce use their own transaction ids. */
  g_assert_cmpuint (tid (fake, 0), !=, tid (fake, 1));

  g_assert_cmpuint (response->interval, ==, 900);
  g_assert_cmpuint (response->min_interval, ==, 0);
  g_assert_cmpint (response->leechers, ==, 3);
  g_assert_cmpint (response->seeders, ==, 5);
  g_assert_null (response->tracker_id);
  g_assert_cmpuint (response->peers->len, ==, 2);
  g_assert_true (tf_has_peer (response->peers, "10.0.0.1", 6881));
  g_assert_true (tf_has_peer (response->peers, "10.0.0.2", 6882));

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
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV6);
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
  g_assert_true (tf_has_peer (response->peers, "2001:db8::9", 6881));
}

static void
test_udp_scrape (void)
{
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autofree char *url = tf_fake_url (fake);
  g_autoptr(GError) error = NULL;
  TeScrapeResult result = { 0 };

  g_assert_true (tf_scrape_sync (NULL, url, tf_awkward_hash, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.seeders, ==, 7);
  g_assert_cmpint (result.downloaded, ==, 11);
  g_assert_cmpint (result.leechers, ==, 13);
  g_assert_cmpuint (fake->n_scrape, ==, 1);
  g_assert_cmpuint (tf_rd32 (fake->last + 8), ==, 2);
  g_assert_cmpmem (fake->last + 16, 20, tf_awkward_hash, 20);
}

static void
test_udp_retransmit (void)
{
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
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
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
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
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
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
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
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
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
  TeAnnounceRequest request;

  /* Nobody listens there once the fake is gone: ICMP port unreachable. */
  url = tf_fake_url (fake);
  g_clear_pointer (&fake, tf_fake_udp_free);
  tf_init_request (&request, tf_awkward_hash);
  response = tf_announce_sync (NULL, url, &request, NULL, &error);
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
  g_assert_true (tf_has_peer (response->peers, "192.168.0.1", 6881));

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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_udp_tests ();

  return g_test_run ();
}
