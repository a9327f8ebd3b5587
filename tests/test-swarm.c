/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-hash.h"
#include "te-test-utils.h"
#include "te-torrent.h"

/* Engines talking to each other on loopback, in one process, through the
 * public API only. Real clients are in the interop suite. */

#define PIECE (32 * 1024)

typedef struct {
  char       *dir;
  char       *seed_dir;     /* holds payload/ */
  TeEngine   *engines[3];
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL;

  f->dir = te_test_make_tmpdir ("te-swarm");
  f->seed_dir = g_build_filename (f->dir, "seed", NULL);
  a = g_build_filename (f->seed_dir, "payload", "a.bin", NULL);
  b = g_build_filename (f->seed_dir, "payload", "sub", "b.bin", NULL);
  c = g_build_filename (f->seed_dir, "payload", "z.bin", NULL);
  te_test_write_random (a, 40 * PIECE + 77, 1);
  te_test_write_random (b, 3 * PIECE + 5, 2);
  te_test_write_random (c, 20 * PIECE, 3);
  for (guint i = 0; i < G_N_ELEMENTS (f->engines); i++)
    {
      TeEngineSettings settings;
      g_autoptr(GError) error = NULL;

      te_engine_settings_init (&settings);
      settings.listen_port = 0;
      settings.seed_ratio_limit = 0;
      f->engines[i] = te_engine_new (&settings);
      te_engine_settings_clear (&settings);
      g_assert_true (te_engine_start (f->engines[i], &error));
      g_assert_no_error (error);
    }
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (f->engines); i++)
    {
      te_engine_stop (f->engines[i]);
      te_test_finalize_object (g_steal_pointer (&f->engines[i]));
    }
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->seed_dir);
}

static void
flag_on_state_cb (TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  gboolean       *flag)
{
  if (te_torrent_get_state (torrent) == TE_TORRENT_STATE_SEEDING
      || te_torrent_get_state (torrent) == TE_TORRENT_STATE_ERROR)
    *flag = TRUE;
}

/* Runs the main loop until @torrent seeds (or 60 s pass, which fails). */
static void
wait_seeding (TeTorrent *torrent)
{
  gboolean done = te_torrent_get_state (torrent) == TE_TORRENT_STATE_SEEDING;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  gulong id = g_signal_connect (torrent, "state-changed", G_CALLBACK (flag_on_state_cb), &done);

  while (!done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (torrent, id);
  g_assert_cmpstr (te_torrent_state_to_string (te_torrent_get_state (torrent)), ==, "seeding");
}

static GInetSocketAddress *
engine_address (TeEngine *engine)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (lo, te_engine_get_port (engine)));
}

static void
assert_same (const char *seed_dir,
             const char *leech_dir,
             const char *rel)
{
  g_autofree char *a = g_build_filename (seed_dir, rel, NULL);
  g_autofree char *b = g_build_filename (leech_dir, rel, NULL);
  g_autoptr(GBytes) ba = te_test_read_file (a);
  g_autoptr(GBytes) bb = te_test_read_file (b);

  g_assert_true (g_bytes_equal (ba, bb));
}

static TeTorrent *
seed (Fixture    *f,
      TeMetainfo *meta)
{
  g_autoptr(GError) error = NULL;
  TeTorrent *t = te_engine_add_torrent (f->engines[0], meta, f->seed_dir, &error);

  g_assert_no_error (error);
  wait_seeding (t);
  return t;
}

static void
test_transfer (Fixture      *f,
               gconstpointer data)
{
  g_autofree char *payload = g_build_filename (f->seed_dir, "payload", NULL);
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (payload, GPOINTER_TO_INT (data), PIECE);
  g_autoptr(GInetSocketAddress) seeder = engine_address (f->engines[0]);
  g_autoptr(GError) error = NULL;
  TeTorrent *leech;
  TeTorrentStats stats;

  seed (f, meta);
  leech = te_engine_add_torrent (f->engines[1], meta, leech_dir, &error);
  g_assert_no_error (error);
  te_torrent_add_peer (leech, seeder);
  wait_seeding (leech);

  assert_same (f->seed_dir, leech_dir, "payload/a.bin");
  assert_same (f->seed_dir, leech_dir, "payload/sub/b.bin");
  assert_same (f->seed_dir, leech_dir, "payload/z.bin");
  te_torrent_get_stats (leech, &stats);
  g_assert_cmpuint (stats.hash_failures, ==, 0);
  g_assert_cmpuint (stats.downloaded, >=, te_metainfo_get_total_size (meta));
  g_assert_true (te_torrent_is_complete (leech));
}

static void
test_ipv6 (Fixture      *f,
           gconstpointer data)
{
  g_autofree char *payload = g_build_filename (f->seed_dir, "payload", NULL);
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  g_autoptr(GInetAddress) lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) seeder = g_inet_socket_address_new (lo6, te_engine_get_port (f->engines[0]));
  g_autoptr(GError) error = NULL;
  TeTorrent *leech;

  seed (f, meta);
  leech = te_engine_add_torrent (f->engines[1], meta, leech_dir, &error);
  g_assert_no_error (error);
  te_torrent_add_peer (leech, G_INET_SOCKET_ADDRESS (seeder));
  wait_seeding (leech);
  assert_same (f->seed_dir, leech_dir, "payload/a.bin");
}

static void
test_magnet (Fixture      *f,
             gconstpointer data)
{
  g_autofree char *payload = g_build_filename (f->seed_dir, "payload", NULL);
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (meta);
  g_autofree char *uri = g_strdup_printf ("magnet:?xt=urn:btih:%s&dn=payload&x.pe=127.0.0.1:%u",
                                          hex, te_engine_get_port (f->engines[0]));
  g_autoptr(TeMagnet) magnet = te_magnet_parse (uri, NULL);
  g_autoptr(GError) error = NULL;
  TeTorrent *leech;
  TeMetainfo *fetched;

  seed (f, meta);
  leech = te_engine_add_magnet (f->engines[1], magnet, leech_dir, &error);
  g_assert_no_error (error);
  /* Without metadata: queued for a slot, then fetching it from peers. */
  g_assert_cmpint (te_torrent_get_state (leech), ==, TE_TORRENT_STATE_QUEUED);
  g_assert_null (te_torrent_get_metainfo (leech));
  wait_seeding (leech);

  /* The metadata came from the peer and hashes to the magnet's info-hash. */
  fetched = te_torrent_get_metainfo (leech);
  g_assert_nonnull (fetched);
  g_assert_cmpmem (te_metainfo_get_info_hash (fetched), 20, te_metainfo_get_info_hash (meta), 20);
  g_assert_cmpuint (te_metainfo_get_n_files (fetched), ==, 3);
  assert_same (f->seed_dir, leech_dir, "payload/a.bin");
  assert_same (f->seed_dir, leech_dir, "payload/z.bin");
}

static void
test_magnet_v2 (Fixture      *f,
                gconstpointer data)
{
  /* 1101 pieces of 16 KiB: the layer comes in three chunks of 512, each with
   * the uncle hashes that tie it to the file's root. */
  g_autofree char *dir = g_build_filename (f->seed_dir, "big", NULL);
  g_autofree char *big = g_build_filename (dir, "big.bin", NULL);
  g_autofree char *small = g_build_filename (dir, "small.bin", NULL);
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autoptr(TeMetainfo) meta = NULL;
  g_autofree char *hex = NULL, *uri = NULL;
  g_autoptr(TeMagnet) magnet = NULL;
  g_autoptr(GError) error = NULL;
  TeTorrent *leech;

  te_test_write_random (big, 1100 * 16384 + 5, 7);
  te_test_write_random (small, 40000, 8);
  meta = te_test_make_torrent (dir, TE_TORRENT_V2, 16384);
  g_assert_cmpuint (te_metainfo_get_file (meta, 0)->n_layer, ==, 1101);
  hex = te_metainfo_dup_info_hash_v2_hex (meta);
  uri = g_strdup_printf ("magnet:?xt=urn:btmh:1220%s&x.pe=127.0.0.1:%u", hex,
                         te_engine_get_port (f->engines[0]));
  magnet = te_magnet_parse (uri, &error);
  g_assert_no_error (error);
  seed (f, meta);

  leech = te_engine_add_magnet (f->engines[1], magnet, leech_dir, &error);
  g_assert_no_error (error);
  wait_seeding (leech);
  g_assert_false (te_metainfo_needs_piece_layers (te_torrent_get_metainfo (leech)));
  assert_same (f->seed_dir, leech_dir, "big/big.bin");
  assert_same (f->seed_dir, leech_dir, "big/small.bin");
}

static void
test_unwanted_file (Fixture      *f,
                    gconstpointer data)
{
  g_autofree char *payload = g_build_filename (f->seed_dir, "payload", NULL);
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autofree char *skipped = g_build_filename (leech_dir, "payload", "a.bin", NULL);
  /* v2 puts every file on its own pieces, so skipping one touches no other. */
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (payload, TE_TORRENT_V2, PIECE);
  g_autoptr(GInetSocketAddress) seeder = engine_address (f->engines[0]);
  g_autoptr(GError) error = NULL;
  TeTorrent *leech;
  TeTorrentStats stats;

  seed (f, meta);
  leech = te_engine_add_torrent (f->engines[1], meta, leech_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (te_metainfo_get_file (meta, 0)->path, ==, "payload/a.bin");
  te_torrent_set_file_wanted (leech, 0, FALSE);
  te_torrent_add_peer (leech, seeder);
  wait_seeding (leech);

  assert_same (f->seed_dir, leech_dir, "payload/sub/b.bin");
  assert_same (f->seed_dir, leech_dir, "payload/z.bin");
  g_assert_false (g_file_test (skipped, G_FILE_TEST_EXISTS));
  /* None of a.bin's pieces (the first 41) was fetched; all of the others were. */
  for (guint p = 0; p < te_metainfo_get_n_pieces (meta); p++)
    g_assert_cmpint (te_bitfield_get (te_torrent_get_have (leech), p), ==, p >= 41);
  te_torrent_get_stats (leech, &stats);
  g_assert_cmpuint (stats.hash_failures, ==, 0);
}

static void
count_cb (guint *count)
{
  (*count)++;
}

static void
test_download_limit (Fixture      *f,
                     gconstpointer data)
{
  g_autofree char *payload = g_build_filename (f->seed_dir, "payload", "z.bin", NULL);
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  g_autoptr(GInetSocketAddress) seeder = engine_address (f->engines[0]);
  g_autoptr(GError) error = NULL;
  TeTorrent *leech;
  gint64 start, took;
  guint connections = 0;
  g_autofree char *seed_payload_dir = g_build_filename (f->seed_dir, "payload", NULL);
  TeTorrent *s = te_engine_add_torrent (f->engines[0], meta, seed_payload_dir, &error);

  g_assert_no_error (error);
  wait_seeding (s);
  /* 640 KiB at 128 KiB/s after a one-second burst, with up to one 256 KiB
   * socket read of overshoot: at least 2 s. Only a lower bound is checked (with
   * margin); an upper bound would be a timing test. */
  leech = te_engine_add_torrent (f->engines[1], meta, leech_dir, &error);
  g_assert_no_error (error);
  te_torrent_set_limits (leech, 128 * 1024, 0);
  g_signal_connect_swapped (leech, "peer-connected", G_CALLBACK (count_cb), &connections);
  start = g_get_monotonic_time ();
  te_torrent_add_peer (leech, seeder);
  wait_seeding (leech);
  took = g_get_monotonic_time () - start;
  if (took < 3 * G_USEC_PER_SEC / 2)
    {
      TeTorrentStats stats;
      guint64 limit;

      /* Say enough to tell a throttle that let data through from data that
       * came another way. */
      te_torrent_get_stats (leech, &stats);
      te_torrent_get_limits (leech, &limit, NULL);
      g_error ("Downloaded in %" G_GINT64_FORMAT " ms: %" G_GUINT64_FORMAT " bytes of payload "
               "received over %u connection(s), limit %" G_GUINT64_FORMAT " B/s",
               took / 1000, stats.downloaded, connections, limit);
    }
  assert_same (seed_payload_dir, leech_dir, "z.bin");
}

static void
test_pex (Fixture      *f,
          gconstpointer data)
{
  g_autofree char *payload = g_build_filename (f->seed_dir, "payload", NULL);
  g_autofree char *b_dir = g_build_filename (f->dir, "b", NULL);
  g_autofree char *c_dir = g_build_filename (f->dir, "c", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  g_autoptr(GInetSocketAddress) addr_a = engine_address (f->engines[0]);
  g_autoptr(GInetSocketAddress) addr_b = engine_address (f->engines[1]);
  g_autoptr(GError) error = NULL;
  TeTorrent *b, *c;
  TeTorrentStats stats;
  gint64 deadline;

  seed (f, meta);
  /* B knows the seeder A; C knows only B. */
  b = te_engine_add_torrent (f->engines[1], meta, b_dir, &error);
  g_assert_no_error (error);
  te_torrent_set_limits (b, 64 * 1024, 0);
  te_torrent_add_peer (b, addr_a);
  c = te_engine_add_torrent (f->engines[2], meta, c_dir, &error);
  g_assert_no_error (error);
  te_torrent_add_peer (c, addr_b);

  /* B tells C about A in its first PEX message; C then connects to A. */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  do
    {
      g_main_context_iteration (NULL, TRUE);
      te_torrent_get_stats (c, &stats);
    }
  while (stats.pex_received == 0 && g_get_monotonic_time () < deadline);
  g_assert_cmpuint (stats.pex_received, >, 0);
  wait_seeding (c);
  /* Figures refresh once a second. */
  deadline = g_get_monotonic_time () + 1500 * 1000;
  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  te_torrent_get_stats (c, &stats);
  g_assert_cmpuint (stats.peers_known, >=, 2);
  assert_same (f->seed_dir, c_dir, "payload/a.bin");
  te_torrent_get_stats (b, &stats);
  g_assert_cmpuint (stats.pex_sent, >, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/swarm/transfer/v1", Fixture, GINT_TO_POINTER (TE_TORRENT_V1),
              fixture_setup, test_transfer, fixture_teardown);
  g_test_add ("/te/swarm/transfer/v2", Fixture, GINT_TO_POINTER (TE_TORRENT_V2),
              fixture_setup, test_transfer, fixture_teardown);
  g_test_add ("/te/swarm/transfer/hybrid", Fixture, GINT_TO_POINTER (TE_TORRENT_HYBRID),
              fixture_setup, test_transfer, fixture_teardown);
  g_test_add ("/te/swarm/ipv6", Fixture, NULL, fixture_setup, test_ipv6, fixture_teardown);
  g_test_add ("/te/swarm/magnet", Fixture, NULL, fixture_setup, test_magnet, fixture_teardown);
  g_test_add ("/te/swarm/magnet-v2", Fixture, NULL, fixture_setup, test_magnet_v2,
              fixture_teardown);
  g_test_add ("/te/swarm/unwanted-file", Fixture, NULL, fixture_setup, test_unwanted_file,
              fixture_teardown);
  g_test_add ("/te/swarm/download-limit", Fixture, NULL, fixture_setup, test_download_limit,
              fixture_teardown);
  g_test_add ("/te/swarm/pex", Fixture, NULL, fixture_setup, test_pex, fixture_teardown);

  return g_test_run ();
}
