/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "te-bitfield.h"
#include "te-piece-map.h"
#include "te-test-utils.h"
#include "te-widget-test-utils.h"

/* 4 MiB of 32 KiB pieces at 768 KiB/s: about five seconds. */
#define SIZE (4 * 1024 * 1024)
#define RATE (768 * 1024)

static guint
have_count (TeTorrent *torrent)
{
  const TeBitfield *have = te_torrent_get_have (torrent);

  return have ? te_bitfield_count (have) : 0;
}

static void
test_follows_download (void)
{
  TeWidgetSwarm swarm;
  GtkWidget *map = te_piece_map_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) early = NULL;
  g_autoptr(GdkTexture) later = NULL;
  g_autoptr(GdkTexture) done = NULL;
  g_autoptr(GdkTexture) empty = NULL;
  double alpha_early, alpha_later, alpha_done;
  guint have_early;
  gint64 deadline;

  te_widget_swarm_start (&swarm, SIZE, RATE);
  g_assert_cmpuint (swarm.n_pieces, ==, 128);
  te_piece_map_set_torrent (TE_PIECE_MAP (map), swarm.leech);
  g_assert_true (te_piece_map_get_torrent (TE_PIECE_MAP (map)) == swarm.leech);
  window = te_widget_test_show (map, 400, 80);

  /* Early: some pieces, far from all. */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (have_count (swarm.leech) < 8 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  early = te_widget_test_render (map);
  have_early = have_count (swarm.leech);
  g_assert_cmpuint (have_early, >=, 8);
  g_assert_cmpuint (have_early, <, swarm.n_pieces / 2);

  /* Later: at least 40 more pieces; the map follows from its own refreshes. */
  while (have_count (swarm.leech) < have_early + 40 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  te_widget_test_spin (400);
  later = te_widget_test_render (map);
  g_assert_cmpuint (te_widget_test_count_diff (early, later), >, 0);

  te_test_wait_state (swarm.leech, TE_TORRENT_STATE_SEEDING);
  te_widget_test_spin (400);
  done = te_widget_test_render (map);

  /* Filled cells are opaque, missing ones faint: ink grows with progress. */
  alpha_early = te_widget_test_mean_alpha (early);
  alpha_later = te_widget_test_mean_alpha (later);
  alpha_done = te_widget_test_mean_alpha (done);
  g_assert_cmpfloat (alpha_early, <, alpha_later);
  g_assert_cmpfloat (alpha_later, <, alpha_done);
  g_assert_cmpfloat (alpha_done, >, 0.75);

  /* Without a torrent: only the trough. */
  te_piece_map_set_torrent (TE_PIECE_MAP (map), NULL);
  empty = te_widget_test_render (map);
  g_assert_cmpfloat (te_widget_test_mean_alpha (empty), <, alpha_early);

  gtk_window_destroy (GTK_WINDOW (window));
  te_widget_swarm_stop (&swarm);
}

/* More pieces than cells: a cell stands for a run and is shaded by the
 * fraction it has; the unmapped map runs no timer. */
static void
test_many_pieces (void)
{
  TeWidgetSwarm swarm;
  GtkWidget *map = te_piece_map_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *dir = te_test_make_tmpdir ("te-piece-map");

  /* 16 MiB: 512 pieces in a 100×20 map of 10-pixel cells (20 cells). */
  te_widget_swarm_start (&swarm, 16 * 1024 * 1024, 0);
  te_test_wait_state (swarm.leech, TE_TORRENT_STATE_SEEDING);
  te_piece_map_set_torrent (TE_PIECE_MAP (map), swarm.leech);
  window = te_widget_test_show (map, 100, 20);
  texture = te_widget_test_render (map);
  g_assert_nonnull (texture);
  te_widget_test_save_png (texture, dir, "piece-map");
  /* Every cell full: nearly all pixels opaque but the gaps. */
  g_assert_cmpfloat (te_widget_test_mean_alpha (texture), >, 0.75);

  gtk_window_destroy (GTK_WINDOW (window));
  te_widget_swarm_stop (&swarm);
  te_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  te_widget_test_init (&argc, &argv);

  g_test_add_func ("/te/piece-map/follows-download", test_follows_download);
  g_test_add_func ("/te/piece-map/many-pieces", test_many_pieces);

  return te_widget_test_finish (g_test_run ());
}
