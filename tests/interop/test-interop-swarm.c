/* SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "te-test-interop-swarm"

#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "te-interop-harness.h"
#include "te-test-utils.h"

/* Swarms on loopback: TorrentEdge's download and seed against Transmission,
 * libtorrent, aria2, opentracker, a peer that sends garbage and a tracker
 * that fails.
 *
 * Each scenario runs in a subprocess of its own (g_test_trap_subprocess),
 * so a failed assertion ends only that scenario. Its fixture stops the
 * peers it started when it returns; when it dies instead, they get SIGTERM
 * (PR_SET_PDEATHSIG) and the parent stops any left, by the ids the scenario
 * wrote down. The parent then removes the scenario's temporary folder; on
 * failure it first prints the tail of every peer's output, which the
 * scenario kept in files under logs/. */

/* Debian's python3-libtorrent only loads into Debian's interpreter. */

typedef struct
{
  const char *path;
  void      (*run) (Fixture *f);
} Scenario;

/* A multi-file v1 torrent from transmission-create, seeded by transmission-cli
 * announcing to opentracker over HTTP; TorrentEdge learns the seeder from the
 * tracker alone and dials it (Transmission never dials loopback peers). */
static void
scenario_transmission_seeder (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "tr.torrent");
  g_autofree char *config = fixture_path (f, "tr-config");
  g_autofree char *settings = g_build_filename (config, "settings.json", NULL);
  g_autofree char *dl = fixture_path (f, "dl");
  g_autofree char *got = g_build_filename (dl, "payload", NULL);
  guint16 tport = free_port (TRUE);
  g_autofree char *tr_port = g_strdup_printf ("%u", free_port (FALSE));
  g_autofree char *announce = g_strdup_printf ("http://127.0.0.1:%u/announce", tport);
  g_autofree char *hash = NULL;
  g_autoptr(GError) error = NULL;
  const char *create[] = { "transmission-create", "-o", torrent, "-t", announce, "-s", "64", src,
                           NULL };
  const char *tr_argv[] = { "transmission-cli", "-g", config, "-w", seed, "-p", tr_port,
                            "-B", "-M", "-et", "-v", torrent, NULL };
  Proc *te;

  require_program ("transmission-cli");
  require_program ("transmission-create");
  write_payload (seed, 11);
  run_ok (create);
  hash = info_hash (torrent);
  opentracker_start (f, tport, hash);

  /* TCP only, nothing but the tracker to find peers with. */
  g_assert_cmpint (g_mkdir_with_parents (config, 0700), ==, 0);
  g_file_set_contents (settings,
                       "{ \"dht-enabled\": false, \"lpd-enabled\": false, "
                       "\"utp-enabled\": false, \"pex-enabled\": true }\n", -1, &error);
  g_assert_no_error (error);
  proc_start (f, "transmission", tr_argv, NULL);
  wait_for_seeder (tport, hash);

  te = te_start (f, "te-download", "download", torrent, dl, NULL);
  te_assert_completes (te, DOWNLOAD_TIMEOUT_S);
  assert_same_tree (src, got);
}

/* libtorrent seeds, announcing to opentracker over UDP (BEP 15); TorrentEdge
 * finds it through the same UDP tracker only. */
static void
scenario_libtorrent_seeder_udp (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "lt.torrent");
  g_autofree char *dl = fixture_path (f, "dl");
  g_autofree char *got = g_build_filename (dl, "payload", NULL);
  guint16 tport = free_port (TRUE);
  g_autofree char *announce = g_strdup_printf ("udp://127.0.0.1:%u/announce", tport);
  g_autofree char *hash = NULL;
  Proc *lt, *te;

  require_python ();
  write_payload (seed, 21);
  lt_create (src, torrent, "--v1", 65536, announce);
  hash = info_hash (torrent);
  opentracker_start (f, tport, hash);

  /* "ready" waits for the seeder's first tracker reply. */
  lt = lt_start (f, "lt-seed", "seed", torrent, seed, NULL);
  wait_ready_port (lt);
  wait_for_seeder (tport, hash);

  te = te_start (f, "te-download", "download", torrent, dl, NULL);
  te_assert_completes (te, DOWNLOAD_TIMEOUT_S);
  assert_same_tree (src, got);
}

/* TorrentEdge seeds; a libtorrent leecher, told the address, and then an aria2
 * leecher, finding it through opentracker, each download everything. One
 * after the other, so that aria2 can only have had its data from TorrentEdge. */
static void
scenario_seed_to_aria2_and_libtorrent (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "te.torrent");
  g_autofree char *lt_dl = fixture_path (f, "lt-dl");
  g_autofree char *lt_got = g_build_filename (lt_dl, "payload", NULL);
  g_autofree char *aria_dl = fixture_path (f, "aria2-dl");
  g_autofree char *aria_got = g_build_filename (aria_dl, "payload", NULL);
  g_autofree char *aria_log = g_build_filename (f->logs, "aria2.log", NULL);
  g_autofree char *aria_dir = g_strdup_printf ("--dir=%s", aria_dl);
  g_autofree char *aria_log_opt = g_strdup_printf ("--log=%s", aria_log);
  g_autofree char *aria_port = g_strdup_printf ("--listen-port=%u", free_port (FALSE));
  guint16 tport = free_port (TRUE);
  g_autofree char *announce = g_strdup_printf ("http://127.0.0.1:%u/announce", tport);
  g_autofree char *hash = NULL;
  g_autofree char *peer = NULL;
  const char *create[] = { te_test_cli_path (), "create", src, "-o", torrent, "--v1",
                           "--piece-size", "64K", "--tracker", announce, NULL };
  const char *aria_argv[] = { "aria2c", "--no-conf", aria_dir, aria_port, aria_log_opt,
                              "--log-level=info", "--seed-time=0", "--enable-dht=false",
                              "--enable-dht6=false", "--bt-enable-lpd=false",
                              "--file-allocation=none", "--summary-interval=5",
                              "--console-log-level=notice", torrent, NULL };
  const char *lt_extra[3] = { "--peer", NULL, NULL };
  Proc *te, *lt, *aria;
  int status;

  require_python ();
  require_program ("aria2c");
  write_payload (seed, 31);
  run_ok (create);
  hash = info_hash (torrent);
  opentracker_start (f, tport, hash);

  te = te_start (f, "te-seed", "seed", torrent, seed, NULL);
  peer = g_strdup_printf ("127.0.0.1:%u", te_port (te));
  lt_extra[1] = peer;
  wait_for_seeder (tport, hash);

  lt = lt_start (f, "lt-leech", "leech", torrent, lt_dl, lt_extra);
  status = proc_wait (lt, DOWNLOAD_TIMEOUT_S);
  g_assert_cmpint (status, ==, 0);
  assert_same_tree (src, lt_got);

  aria = proc_start (f, "aria2", aria_argv, NULL);
  status = proc_wait (aria, DOWNLOAD_TIMEOUT_S);
  g_assert_cmpint (status, ==, 0);
  assert_same_tree (src, aria_got);

  /* The seeder is still there and stops cleanly. */
  g_assert_false (te->exited);
  g_assert_cmpint (proc_stop (te), ==, 0);
}

/* libtorrent seeds; TorrentEdge starts from a magnet link naming the seeder
 * (x.pe), fetches the info dictionary with ut_metadata (BEP 9), then the data. */
static void
scenario_magnet_from_libtorrent (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "lt.torrent");
  g_autofree char *dl = fixture_path (f, "dl");
  g_autofree char *got = g_build_filename (dl, "payload", NULL);
  g_autofree char *hash = NULL;
  g_autofree char *magnet = NULL;
  Proc *lt, *te;

  require_python ();
  write_payload (seed, 41);
  lt_create (src, torrent, "--v1", 32768, NULL);
  hash = info_hash (torrent);

  lt = lt_start (f, "lt-seed", "seed", torrent, seed, NULL);
  magnet = g_strdup_printf ("magnet:?xt=urn:btih:%s&dn=payload&x.pe=127.0.0.1:%u", hash,
                            wait_ready_port (lt));

  te = te_start (f, "te-download", "download", magnet, dl, NULL);
  te_assert_completes (te, DOWNLOAD_TIMEOUT_S);
  assert_same_tree (src, got);
}

/* One libtorrent seeder with a slow uplink, a TorrentEdge leecher and a
 * libtorrent leecher, all through opentracker: the leechers must trade to
 * finish, and TorrentEdge tells the libtorrent leecher about the seeder with
 * ut_pex (BEP 11). */
static void
scenario_three_peer_swarm_with_pex (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "lt.torrent");
  g_autofree char *te_dl = fixture_path (f, "te-dl");
  g_autofree char *te_got = g_build_filename (te_dl, "payload", NULL);
  g_autofree char *lt_dl = fixture_path (f, "lt-dl");
  g_autofree char *lt_got = g_build_filename (lt_dl, "payload", NULL);
  guint16 tport = free_port (TRUE);
  g_autofree char *announce = g_strdup_printf ("http://127.0.0.1:%u/announce", tport);
  g_autofree char *hash = NULL;
  g_autofree char *te_peer = NULL;
  g_autoptr(JsonObject) summary = NULL;
  const char *seed_extra[] = { "--upload-limit", "600000", NULL };
  const char *te_extra[] = { "--seed-time", "120", NULL };
  const char *leech_extra[] = { "--expect-pex", "--peer", NULL, NULL };
  gint64 blocks_from_te, pex_from_te;
  Proc *lt_seed, *te, *lt_leech;
  int status;

  require_python ();
  write_payload (seed, 51);
  lt_create (src, torrent, "--v1", 65536, announce);
  hash = info_hash (torrent);
  opentracker_start (f, tport, hash);

  lt_seed = lt_start (f, "lt-seed", "seed", torrent, seed, seed_extra);
  wait_ready_port (lt_seed);
  wait_for_seeder (tport, hash);

  te = te_start (f, "te-download", "download", torrent, te_dl, te_extra);
  te_peer = g_strdup_printf ("127.0.0.1:%u", te_port (te));
  leech_extra[2] = te_peer;
  lt_leech = lt_start (f, "lt-leech", "leech", torrent, lt_dl, leech_extra);

  status = proc_wait (lt_leech, DOWNLOAD_TIMEOUT_S);
  summary = proc_event (lt_leech, "summary");
  g_assert_nonnull (summary);
  lt_peer_totals (summary, "-TE", &blocks_from_te, &pex_from_te);
  note ("libtorrent leecher: %" G_GINT64_FORMAT " blocks and %" G_GINT64_FORMAT
        " PEX messages from TorrentEdge", blocks_from_te, pex_from_te);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (json_object_get_boolean_member (summary, "complete"));
  assert_same_tree (src, lt_got);
  g_assert_cmpint (blocks_from_te, >, 0);
  g_assert_cmpint (pex_from_te, >, 0);

  /* TorrentEdge finished too, and is seeding until stopped. */
  g_assert_true (proc_wait_stderr (te, "Complete:", DOWNLOAD_TIMEOUT_S));
  g_assert_cmpint (proc_stop (te), ==, 0);
  assert_same_tree (src, te_got);
  g_assert_cmpint (te_summary_figure (te, "PEX sent"), >, 0);
}

/* Every connection bad-peer.py accepted has ended. */
static gboolean
all_closed (Proc *bad_peer)
{
  g_autoptr(JsonObject) opened = proc_event (bad_peer, "connection");
  g_autoptr(JsonObject) closed = proc_event (bad_peer, "closed");

  return opened != NULL && closed != NULL
         && json_object_get_int_member (closed, "count")
              >= json_object_get_int_member (opened, "count");
}

/* A slow libtorrent seeder on 127.0.0.1 and a peer on 127.0.0.2 that answers
 * every request with garbage. TorrentEdge must ban the garbage peer (bans are
 * by address, hence the second loopback address), never come back to it, and
 * finish from the honest seeder. */
static void
scenario_bad_peer_banned (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "lt.torrent");
  g_autofree char *dl = fixture_path (f, "dl");
  g_autofree char *got = g_build_filename (dl, "payload", NULL);
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) summary = NULL;
  const char *seed_extra[] = { "--upload-limit", "700000", NULL };
  const char *te_extra[] = { "--peer", NULL, "--peer", NULL, NULL };
  gint64 deadline;
  Proc *lt, *bad_peer, *te;

  require_python ();
  write_payload (seed, 61);
  lt_create (src, torrent, "--v1", 32768, NULL);

  lt = lt_start (f, "lt-seed", "seed", torrent, seed, seed_extra);
  good = g_strdup_printf ("127.0.0.1:%u", wait_ready_port (lt));
  {
    const char *argv[] = { PYTHON, script_path ("bad-peer.py"), torrent, "--host", "127.0.0.2",
                           "--port", "0", NULL };

    bad_peer = proc_start (f, "bad-peer", argv, NULL);
  }
  bad = g_strdup_printf ("127.0.0.2:%u", wait_ready_port (bad_peer));

  te_extra[1] = bad;
  te_extra[3] = good;
  te = te_start (f, "te-download", "download", torrent, dl, te_extra);

  /* Banned within the first pieces, and hung up on at once: the bad peer
   * sees every connection closed while the download still runs. */
  g_assert_true (proc_wait_stderr (te, "banned 127.0.0.2", DOWNLOAD_TIMEOUT_S));
  deadline = deadline_after (5);
  while (!all_closed (bad_peer) && g_get_monotonic_time () < deadline)
    te_test_spin (100);
  g_assert_true (all_closed (bad_peer));
  g_assert_false (te->exited);

  te_assert_completes (te, DOWNLOAD_TIMEOUT_S);
  assert_same_tree (src, got);

  g_assert_cmpint (proc_stop (bad_peer), ==, 0);
  summary = proc_event (bad_peer, "summary");
  g_assert_nonnull (summary);
  note ("bad peer: %" G_GINT64_FORMAT " connections, %" G_GINT64_FORMAT " requests answered",
        json_object_get_int_member (summary, "connections"),
        json_object_get_int_member (summary, "requests"));

  /* It was used, then banned, and only the bad address was. */
  err = proc_stderr (te);
  g_assert_cmpint (json_object_get_int_member (summary, "requests"), >, 0);
  g_assert_cmpint (te_summary_figure (te, "hash failures"), >, 0);
  g_assert_null (strstr (err, "banned 127.0.0.1"));
  /* Connections before the ban may have been retried; none came after it. */
  g_assert_cmpint (json_object_get_int_member (summary, "connections"), ==,
                   json_object_get_int_member (summary, "closed"));
  g_assert_cmpint (json_object_get_int_member (summary, "connections"), <=, 3);
}

/* Trackers that fail before one answers: the first tier is a closed port,
 * the second an HTTP tracker in this process that answers 500 twice, then a
 * peer list naming the libtorrent seeder. TorrentEdge must move on from the
 * dead tier and retry the failing one (backoff 2 s · 2^n) until it answers. */

typedef struct
{
  guint   announces;      /* from TorrentEdge */
  guint   failures_left;
  guint16 seeder_port;
} FlakyTracker;

static void
flaky_announce_cb (SoupServer        *server,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  FlakyTracker *t = user_data;
  const char *peer_id = query ? g_hash_table_lookup (query, "peer_id") : NULL;
  g_autoptr(GByteArray) body = g_byte_array_new ();
  const char *head = "d8:intervali1800e5:peers6:";
  guint8 peer[6] = { 127, 0, 0, 1, t->seeder_port >> 8, t->seeder_port & 0xff };

  if (peer_id == NULL || !g_str_has_prefix (peer_id, "-TE"))
    {
      soup_server_message_set_status (msg, 400, NULL);
      return;
    }
  t->announces++;
  note ("tracker: announce %u from TorrentEdge", t->announces);
  if (t->failures_left > 0)
    {
      t->failures_left--;
      soup_server_message_set_status (msg, 500, NULL);
      return;
    }
  g_byte_array_append (body, (const guint8 *) head, strlen (head));
  g_byte_array_append (body, peer, sizeof peer);
  g_byte_array_append (body, (const guint8 *) "e", 1);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
                                    (const char *) body->data, body->len);
}

static void
scenario_tracker_failover (Fixture *f)
{
  g_autofree char *seed = fixture_path (f, "seed");
  g_autofree char *src = g_build_filename (seed, "payload", NULL);
  g_autofree char *torrent = fixture_path (f, "te.torrent");
  g_autofree char *dl = fixture_path (f, "dl");
  g_autofree char *got = g_build_filename (dl, "payload", NULL);
  g_autofree char *dead = g_strdup_printf ("http://127.0.0.1:%u/announce", free_port (FALSE));
  g_autofree char *live = NULL;
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) info = NULL;
  GSList *uris;
  FlakyTracker tracker = { 0, 2, 0 };
  const char *seed_extra[] = { "--no-trackers", NULL };
  Proc *lt, *te;

  require_python ();
  soup_server_add_handler (server, "/announce", flaky_announce_cb, &tracker, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_assert_nonnull (uris);
  live = g_strdup_printf ("http://127.0.0.1:%d/announce", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  write_payload (seed, 71);
  {
    const char *create[] = { te_test_cli_path (), "create", src, "-o", torrent, "--v1",
                             "--piece-size", "64K", "--tracker", dead, "--tracker", live, NULL };

    run_ok (create);
  }
  info = te_info (torrent);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (info, "trackers")),
                    ==, 2);

  lt = lt_start (f, "lt-seed", "seed", torrent, seed, seed_extra);
  tracker.seeder_port = wait_ready_port (lt);

  te = te_start (f, "te-download", "download", torrent, dl, NULL);
  te_assert_completes (te, DOWNLOAD_TIMEOUT_S);
  assert_same_tree (src, got);
  g_assert_cmpuint (tracker.failures_left, ==, 0);
  g_assert_cmpuint (tracker.announces, >=, 3);

  soup_server_disconnect (server);
}

/* libtorrent makes and seeds a v2-only and a hybrid torrent; TorrentEdge
 * downloads each, told the seeder's address. */
static void
scenario_v2_and_hybrid_from_libtorrent (Fixture *f)
{
  static const char * const kinds[] = { "--v2", "--hybrid" };

  require_python ();
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      const char *kind = kinds[i] + 2;
      g_autofree char *seed_name = g_strdup_printf ("seed-%s", kind);
      g_autofree char *seed = fixture_path (f, seed_name);
      g_autofree char *src = g_build_filename (seed, "payload", NULL);
      g_autofree char *torrent_name = g_strdup_printf ("%s.torrent", kind);
      g_autofree char *torrent = fixture_path (f, torrent_name);
      g_autofree char *dl_name = g_strdup_printf ("dl-%s", kind);
      g_autofree char *dl = fixture_path (f, dl_name);
      g_autofree char *got = g_build_filename (dl, "payload", NULL);
      g_autofree char *lt_name = g_strdup_printf ("lt-seed-%s", kind);
      g_autofree char *te_name = g_strdup_printf ("te-download-%s", kind);
      g_autofree char *peer = NULL;
      const char *te_extra[] = { "--peer", NULL, NULL };
      Proc *lt, *te;

      write_payload (seed, 81 + 10 * i);
      lt_create (src, torrent, kinds[i], 32768, NULL);
      lt = lt_start (f, lt_name, "seed", torrent, seed, NULL);
      peer = g_strdup_printf ("127.0.0.1:%u", wait_ready_port (lt));
      te_extra[1] = peer;

      te = te_start (f, te_name, "download", torrent, dl, te_extra);
      te_assert_completes (te, DOWNLOAD_TIMEOUT_S);
      assert_same_tree (src, got);
      proc_stop (lt);
    }
}

/* Sends @sig (unless 0) to the processes listed in @lines that still run;
 * returns how many do. */
static const Scenario scenarios[] = {
  { "/interop/swarm/transmission-seeder-http-tracker", scenario_transmission_seeder },
  { "/interop/swarm/libtorrent-seeder-udp-tracker", scenario_libtorrent_seeder_udp },
  { "/interop/swarm/seed-to-aria2-and-libtorrent", scenario_seed_to_aria2_and_libtorrent },
  { "/interop/swarm/magnet-from-libtorrent", scenario_magnet_from_libtorrent },
  { "/interop/swarm/three-peer-swarm-with-pex", scenario_three_peer_swarm_with_pex },
  { "/interop/swarm/bad-peer-banned", scenario_bad_peer_banned },
  { "/interop/swarm/tracker-failover", scenario_tracker_failover },
  { "/interop/swarm/v2-and-hybrid-from-libtorrent", scenario_v2_and_hybrid_from_libtorrent },
};

static void
test_scenario (gconstpointer data)
{
  const Scenario *s = data;
  g_autofree char *tmp = NULL;

  if (g_test_subprocess ())
    {
      Fixture f = { 0 };

      fixture_init (&f);
      s->run (&f);
      fixture_finish (&f);
      return;
    }

  tmp = te_test_make_tmpdir ("te-interop-swarm");
  g_setenv (TMP_ENV, tmp, TRUE);
  g_test_trap_subprocess (NULL, (guint64) SCENARIO_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (TMP_ENV);
  stop_leftovers (tmp);
  if (!g_test_trap_has_passed ())
    dump_logs (tmp);
  if (g_getenv (KEEP_ENV) != NULL)
    g_printerr ("# %s: kept %s\n", s->path, tmp);
  else
    te_test_rm_rf (tmp);

  /* One failed scenario must not stop the others. */
  g_test_set_nonfatal_assertions ();
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    g_test_add_data_func (scenarios[i].path, &scenarios[i], test_scenario);

  return g_test_run ();
}
