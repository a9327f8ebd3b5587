/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test-announcer"

#include "config.h"

#include <string.h>

#include "te-announcer.h"
#include "tracker-fixtures.h"

/* The announcer against the in-process HTTP tracker and the fake UDP tracker.
 * Waits are bounded; retry delays come from the test hooks. */

#define WAIT_MS 10000

/* Recording the announcer's signals */

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
  TeAnnouncer *announcer = te_announcer_new (f->session, tiers, tf_awkward_hash, tf_peer_id, 6881);

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
  g_autofree char *url = tf_url_for (f, "/r/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  tf_push_text (f, "/r/announce", 500, "oops");
  tf_push_text (f, "/r/announce", 500, "oops");
  tf_push_reply (f, "/r/announce", 200, tf_peers_reply (1800, NULL));
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
    tf_assert_param (tf_nth_request (f, i), "event", "started");
  tf_assert_param (tf_nth_request (f, 2), "uploaded", "10");
  tf_assert_param (tf_nth_request (f, 2), "downloaded", "20");
  tf_assert_param (tf_nth_request (f, 2), "left", "30");
  tf_assert_param (tf_nth_request (f, 2), "port", "6881");
  tf_assert_param_bytes (tf_nth_request (f, 2), "info_hash", tf_awkward_hash, 20);

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
  tf_assert_param (tf_nth_request (f, 3), "event", "stopped");
  tf_assert_param (tf_nth_request (f, 3), "numwant", "0");
  events_clear (&ev);
}

static void
test_announcer_dead_tier (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *dead = g_strdup_printf ("http://127.0.0.1:%u/announce", tf_closed_port ());
  g_autofree char *good = tf_url_for (f, "/g/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  tf_push_reply (f, "/g/announce", 200, tf_peers_reply (1800, NULL));
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
  tf_assert_param (tf_nth_request (f, 1), "event", "stopped");
  events_clear (&ev);
}

static void
test_announcer_same_tier (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *dead = g_strdup_printf ("http://127.0.0.1:%u/announce", tf_closed_port ());
  g_autofree char *good = tf_url_for (f, "/g/announce");
  g_autofree char *tier = g_strdup_printf ("%s %s", dead, good);
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;

  tf_push_reply (f, "/g/announce", 200, tf_peers_reply (1800, NULL));
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
  g_autofree char *url = tf_url_for (f, "/nf/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  tf_push_text (f, "/nf/announce", 404, "no");
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_set_backoff_base_ms (announcer, 1);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.errors->len == 1, WAIT_MS);

  /* A retryable failure would have been retried many times by now. */
  te_test_spin (300);
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
  te_test_spin (100);
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
  g_autofree char *url = tf_url_for (f, "/h/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  TeTrackerInfo *info;

  tf_push_text (f, "/h/announce", 503, "busy");
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
  g_autofree char *url = tf_url_for (f, "/t/announce");
  Events ev = { 0 };
  TeAnnouncer *announcer;

  /* interval 1800, min interval 1, tracker id T-42 */
  tf_push_reply (f, "/t/announce", 200, tf_peers_reply (1800, "T-42"));
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 1, WAIT_MS);
  tf_assert_param (tf_nth_request (f, 0), "event", "started");
  tf_assert_param (tf_nth_request (f, 0), "trackerid", NULL);

  /* Early, but not before the min interval; the tracker id comes back. */
  te_announcer_announce_now (announcer);
  te_announcer_announce_now (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 2, WAIT_MS);
  g_assert_cmpuint (f->requests->len, ==, 2);
  g_assert_cmpint (tf_nth_request (f, 1)->at - tf_nth_request (f, 0)->at, >=, G_USEC_PER_SEC);
  tf_assert_param (tf_nth_request (f, 1), "event", NULL);
  tf_assert_param (tf_nth_request (f, 1), "trackerid", "T-42");

  te_announcer_completed (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 3, WAIT_MS);
  tf_assert_param (tf_nth_request (f, 2), "event", "completed");
  tf_assert_param (tf_nth_request (f, 2), "trackerid", "T-42");

  /* `completed` goes out once. */
  te_test_spin (1200);
  te_announcer_announce_now (announcer);
  WAIT_UNTIL (ev.n_peers_signals == 4, WAIT_MS);
  tf_assert_param (tf_nth_request (f, 3), "event", NULL);

  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (f->requests->len, ==, 5);
  tf_assert_param (tf_nth_request (f, 4), "event", "stopped");
  tf_assert_param (tf_nth_request (f, 4), "trackerid", "T-42");
  g_assert_cmpuint (ev.errors->len, ==, 0);
  events_clear (&ev);
}

static void
test_announcer_udp (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autofree char *url = tf_fake_url (fake);
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
  g_assert_cmpuint (tf_rd32 (fake->last + 80), ==, 2);   /* started */

  stop_and_finalize (announcer, &ev);
  g_assert_cmpuint (fake->n_announce, ==, 2);
  g_assert_cmpuint (tf_rd32 (fake->last + 80), ==, 3);   /* stopped */
  g_assert_cmpuint (tf_rd32 (fake->last + 92), ==, 0);   /* numwant */
  events_clear (&ev);
}

static void
test_announcer_udp_timeout (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(FakeUdp) fake = tf_fake_udp_new (G_SOCKET_FAMILY_IPV4);
  g_autofree char *udp = tf_fake_url (fake);
  g_autofree char *http = tf_url_for (f, "/g/announce");
  g_autoptr(GPtrArray) trackers = NULL;
  Events ev = { 0 };
  TeAnnouncer *announcer;
  GError *error;

  /* A silent UDP tracker would keep retransmitting for hours (BEP 15);
   * the announcer gives up on it after its attempt timeout. */
  fake->drop_all = TRUE;
  tf_push_reply (f, "/g/announce", 200, tf_peers_reply (1800, NULL));
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
  g_autofree char *url = tf_url_for (f, "/hang/announce");
  Events ev = { 0 };
  TeAnnouncer *announcer;

  tf_push_reply (f, "/hang/announce", 0, NULL);
  announcer = make_announcer (f, make_tiers (url, NULL), &ev);
  te_announcer_start (announcer);
  WAIT_UNTIL (f->requests->len == 1, WAIT_MS);

  /* Dropping the announcer abandons the request; nothing fires afterwards. */
  g_assert_finalize_object (announcer);
  te_test_spin (50);
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

  add_announcer_tests ();

  return g_test_run ();
}
