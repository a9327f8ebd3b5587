/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test-interop-tracker"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "te-announcer.h"
#include "te-test-utils.h"
#include "tracker-fixtures.h"
#include "te-tracker.h"

/* Announces and scrapes against Debian's opentracker over HTTP and UDP.
 * Debian builds it whitelist-only, so each run writes a whitelist and a
 * config naming it, and starts its own tracker on a free loopback port. */

#define WAIT_MS 20000

/* One swarm per scenario, so counts do not mix. */
static const guint8 hash_http[20] = {
  0x00, 0xff, '%', '&', '=', '+', ' ', '?', 0x80, 0x7f, 'T', 'E', 0x01, 0x02, 0xfe, 0x10, 0x20,
  0x30, 0x40, 0x50,
};
static const guint8 hash_udp[20] = "TorrentEdge-udp-swrm";
static const guint8 hash_announcer[20] = "TorrentEdge-announce";
static const guint8 hash_probe[20] = "TorrentEdge-probe-00";

typedef struct {
  char        *dir;
  GSubprocess *tracker;
  guint16      port;
  SoupSession *session;
  char        *http_url;
  char        *udp_url;
} OtFixture;

static TeAnnounceResponse *
announce (OtFixture          *f,
          const char       *url,
          const guint8      info_hash[20],
          const char       *peer_id,
          guint16           port,
          guint64           left,
          TeAnnounceEvent   event,
          GError          **error)
{
  TeAnnounceRequest request;

  memset (&request, 0, sizeof request);
  memcpy (request.info_hash, info_hash, 20);
  memcpy (request.peer_id, peer_id, 20);
  request.port = port;
  request.left = left;
  request.event = event;
  request.numwant = -1;
  request.key = g_random_int ();
  return tf_announce_sync (f->session, url, &request, NULL, error);
}

static void
scrape (OtFixture        *f,
        const char     *url,
        const guint8    info_hash[20],
        TeScrapeResult *out)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tf_scrape_sync (f->session, url, info_hash, out, &error));
  g_assert_no_error (error);
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

/* The tracker */

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  /* opentracker drops its privileges before it reads the whitelist. */
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
}

static char *
hex (const guint8 hash[20])
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < 20; i++)
    g_string_append_printf (out, "%02x", hash[i]);
  return g_string_free (out, FALSE);
}

static gboolean
bind_loopback (GSocketType     type,
               GSocketProtocol protocol,
               guint16         port,
               guint16        *out_port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, type, protocol, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GSocketAddress) bound = NULL;

  if (socket == NULL || !g_socket_bind (socket, address, FALSE, NULL))
    return FALSE;
  bound = g_socket_get_local_address (socket, NULL);
  if (out_port != NULL)
    *out_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  return TRUE;
}

/* A port free for both TCP and UDP. */
static guint16
free_port (void)
{
  for (guint attempt = 0; attempt < 50; attempt++)
    {
      guint16 port = 0;

      if (bind_loopback (G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, 0, &port)
          && bind_loopback (G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, port, NULL))
        return port;
    }
  g_assert_not_reached ();
}

/* If the test aborts, the kernel ends opentracker with it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
tcp_port_open (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  g_socket_client_set_timeout (client, 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

static void
fixture_setup (OtFixture       *f,
               gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *whitelist = NULL;
  g_autofree char *config = NULL;
  g_autofree char *log = NULL;
  const guint8 *hashes[] = { hash_http, hash_udp, hash_announcer, hash_probe };
  GString *list = g_string_new (NULL);
  gint64 deadline;

  /* Fail, not skip, when the tracker is missing. */
  g_assert_true (te_test_have_program ("opentracker"));

  f->dir = te_test_make_tmpdir ("te-opentracker");
  g_assert_cmpint (g_chmod (f->dir, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (hashes); i++)
    {
      g_autofree char *line = hex (hashes[i]);

      g_string_append_printf (list, "%s\n", line);
    }
  whitelist = g_string_free (list, FALSE);
  write_file (f->dir, "whitelist", whitelist);

  /* As root, opentracker chroots into tracker.rootdir; paths are relative to it. */
  f->port = free_port ();
  config = g_strdup_printf ("listen.tcp_udp 127.0.0.1:%u\n"
                            "access.whitelist whitelist\n"
                            "tracker.rootdir %s\n",
                            f->port, f->dir);
  write_file (f->dir, "opentracker.conf", config);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  log = g_build_filename (f->dir, "opentracker.log", NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  f->tracker = g_subprocess_launcher_spawn (launcher, &error, "opentracker", "-f",
                                            "opentracker.conf", NULL);
  g_assert_no_error (error);

  f->http_url = g_strdup_printf ("http://127.0.0.1:%u/announce", f->port);
  f->udp_url = g_strdup_printf ("udp://127.0.0.1:%u/announce", f->port);
  f->session = soup_session_new ();
  te_tracker_set_udp_timeout_base (500);

  /* Ready once it listens and has read its whitelist. */
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!tcp_port_open (f->port))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      te_test_spin (50);
    }
  for (;;)
    {
      g_autoptr(GError) probe_error = NULL;
      g_autoptr(TeAnnounceResponse) response =
        announce (f, f->http_url, hash_probe, "-TE0100-probeprobepr", 1, 0,
                  TE_ANNOUNCE_EVENT_STOPPED, &probe_error);

      if (response != NULL)
        break;
      g_assert_error (probe_error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      te_test_spin (100);
    }
}

static void
fixture_teardown (OtFixture       *f,
                  gconstpointer  data)
{
  g_autofree char *log = g_build_filename (f->dir, "opentracker.log", NULL);
  g_autofree char *output = NULL;

  if (f->tracker != NULL)
    {
      g_subprocess_force_exit (f->tracker);
      g_subprocess_wait (f->tracker, NULL, NULL);
      g_clear_object (&f->tracker);
    }
  if (g_file_get_contents (log, &output, NULL, NULL) && *output != '\0')
    g_test_message ("opentracker: %s", output);

  te_tracker_set_udp_timeout_base (0);
  g_clear_object (&f->session);
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->http_url);
  g_free (f->udp_url);
}

/* Tests */

/* Two peers announce over @url: a leecher, then a seeder, which must be told
 * about the leecher; both scrapes must count one of each. */
static void
check_swarm (OtFixture      *f,
             const char   *url,
             const guint8  info_hash[20],
             guint16       first_port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) first = NULL;
  g_autoptr(TeAnnounceResponse) second = NULL;
  TeScrapeResult http_counts = { 0 };
  TeScrapeResult udp_counts = { 0 };

  first = announce (f, url, info_hash, "-TE0100-aaaaaaaaaaaa", first_port, 1000,
                    TE_ANNOUNCE_EVENT_STARTED, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (first->interval, >=, 30);

  second = announce (f, url, info_hash, "-TE0100-bbbbbbbbbbbb", first_port + 1, 0,
                     TE_ANNOUNCE_EVENT_STARTED, &error);
  g_assert_no_error (error);
  g_assert_true (has_peer (second->peers, "127.0.0.1", first_port));
  g_assert_cmpint (second->seeders, ==, 1);
  g_assert_cmpint (second->leechers, ==, 1);

  scrape (f, f->http_url, info_hash, &http_counts);
  scrape (f, f->udp_url, info_hash, &udp_counts);
  g_assert_cmpint (http_counts.seeders, ==, 1);
  g_assert_cmpint (http_counts.leechers, ==, 1);
  g_assert_cmpint (udp_counts.seeders, ==, 1);
  g_assert_cmpint (udp_counts.leechers, ==, 1);
  g_assert_cmpint (udp_counts.downloaded, ==, http_counts.downloaded);
}

static void
test_http (OtFixture       *f,
           gconstpointer  data)
{
  check_swarm (f, f->http_url, hash_http, 41001);
}

static void
test_udp (OtFixture       *f,
          gconstpointer  data)
{
  check_swarm (f, f->udp_url, hash_udp, 42001);
}

static void
test_not_whitelisted (OtFixture       *f,
                      gconstpointer  data)
{
  static const guint8 unknown[20] = "not-on-the-whitelist";
  g_autoptr(GError) error = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;

  response = announce (f, f->http_url, unknown, "-TE0100-cccccccccccc", 43001, 10,
                       TE_ANNOUNCE_EVENT_STARTED, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON);
  g_assert_false (te_tracker_error_is_retryable (error));
}

typedef struct {
  guint    n_peers;
  gboolean seen_self;
  gboolean stopped;
} Events;

static void
peers_cb (TeAnnouncer *announcer,
          GPtrArray   *peers,
          const char  *url,
          Events      *ev)
{
  ev->n_peers++;
  ev->seen_self |= has_peer (peers, "127.0.0.1", 44001);
}

static void
stopped_cb (TeAnnouncer *announcer,
            Events      *ev)
{
  ev->stopped = TRUE;
}

static void
test_announcer (OtFixture       *f,
                gconstpointer  data)
{
  static const guint8 peer_id[20] = "-TE0100-announcer000";
  g_autoptr(GPtrArray) tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) trackers = NULL;
  GPtrArray *tier = g_ptr_array_new_with_free_func (g_free);
  TeScrapeResult counts = { 0 };
  TeAnnouncer *announcer;
  Events ev = { 0 };

  g_ptr_array_add (tier, g_strdup (f->udp_url));
  g_ptr_array_add (tiers, tier);
  announcer = te_announcer_new (f->session, tiers, hash_announcer, peer_id, 44001);
  te_announcer_add_tracker (announcer, f->http_url, 1);
  g_signal_connect (announcer, "peers", G_CALLBACK (peers_cb), &ev);
  g_signal_connect (announcer, "stopped", G_CALLBACK (stopped_cb), &ev);
  te_announcer_set_stats (announcer, 0, 0, 5000);
  te_announcer_start (announcer);
  WAIT_UNTIL (ev.n_peers == 1, WAIT_MS);

  /* opentracker lists the announcing peer itself. */
  g_assert_true (ev.seen_self);
  trackers = te_announcer_dup_trackers (announcer);
  g_assert_cmpstr (((TeTrackerInfo *) g_ptr_array_index (trackers, 0))->url, ==, f->udp_url);
  g_assert_cmpint (((TeTrackerInfo *) g_ptr_array_index (trackers, 0))->state, ==,
                   TE_TRACKER_STATE_WORKING);
  scrape (f, f->http_url, hash_announcer, &counts);
  g_assert_cmpint (counts.leechers, ==, 1);

  /* `stopped` takes us out of the swarm. */
  te_announcer_stop (announcer);
  WAIT_UNTIL (ev.stopped, WAIT_MS);
  g_assert_finalize_object (announcer);
  scrape (f, f->udp_url, hash_announcer, &counts);
  g_assert_cmpint (counts.leechers, ==, 0);
  g_assert_cmpint (counts.seeders, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/interop/tracker/http", OtFixture, NULL, fixture_setup, test_http,
              fixture_teardown);
  g_test_add ("/te/interop/tracker/udp", OtFixture, NULL, fixture_setup, test_udp,
              fixture_teardown);
  g_test_add ("/te/interop/tracker/not-whitelisted", OtFixture, NULL, fixture_setup,
              test_not_whitelisted, fixture_teardown);
  g_test_add ("/te/interop/tracker/announcer", OtFixture, NULL, fixture_setup, test_announcer,
              fixture_teardown);

  return g_test_run ();
}
