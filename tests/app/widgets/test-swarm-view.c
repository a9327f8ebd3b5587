/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "te-swarm-view-private.h"
#include "te-test-utils.h"
#include "te-widget-test-utils.h"

/* 6 MiB at 1 MiB/s: the download lasts about six seconds. */
#define SIZE (6 * 1024 * 1024)
#define RATE (1024 * 1024)

static gboolean
wait_until (gboolean (*done) (gpointer),
            gpointer   data,
            guint      seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  return done (data);
}

static gboolean
has_flowing_node (gpointer data)
{
  TeSwarmView *view = data;

  for (guint i = 0; i < view->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (view->nodes, i);

      if (node->download_rate > 0 && node->alpha >= 1)
        return TRUE;
    }
  return FALSE;
}

static gboolean
no_nodes (gpointer data)
{
  return te_swarm_view_get_n_nodes (data) == 0;
}

static void
test_live_swarm (void)
{
  TeWidgetSwarm swarm;
  GtkWidget *view = te_swarm_view_new ();
  TeSwarmView *sv = TE_SWARM_VIEW (view);
  GtkWidget *window;
  g_autoptr(GdkTexture) first = NULL;
  g_autoptr(GdkTexture) second = NULL;
  g_autoptr(GdkTexture) by_client = NULL;
  g_autofree char *dir = te_test_make_tmpdir ("te-swarm-view");
  g_autofree char *seeder_port = NULL;
  TeSwarmNode *node;
  double x, y;

  te_widget_swarm_start (&swarm, SIZE, RATE);
  te_swarm_view_set_torrent (sv, swarm.leech);
  window = te_widget_test_show (view, 480, 480);

  /* The seeder appears as a node, its data flowing toward us. */
  g_assert_true (wait_until (has_flowing_node, sv, 30));
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 1);
  node = g_ptr_array_index (sv->nodes, 0);
  g_assert_cmpstr (node->address, ==, "127.0.0.1");
  g_assert_cmpuint (node->port, ==, te_engine_get_port (swarm.seeder));
  g_assert_cmpfloat (node->progress, ==, 1.0);
  g_assert_nonnull (strchr (node->flags, 'D'));
  g_assert_true (te_swarm_view_get_animating (sv));
  x = node->tx;
  y = node->ty;

  /* Two moments of the download look different: the dots have moved. */
  first = te_widget_test_render (view);
  g_assert_nonnull (first);
  te_widget_test_spin (300);
  second = te_widget_test_render (view);
  g_assert_cmpuint (te_widget_test_count_diff (first, second), >, 0);
  te_widget_test_save_png (second, dir, "swarm-view");

  /* Colouring by client is another picture of the same swarm. */
  te_swarm_view_set_color_mode (sv, TE_SWARM_COLOR_CLIENT);
  te_swarm_view_advance (sv, 0);
  by_client = te_widget_test_render (view);
  g_assert_cmpuint (te_widget_test_count_diff (second, by_client), >, 0);

  /* Refreshes keep the peer where it was placed. */
  te_widget_test_spin (1200);
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 1);
  node = g_ptr_array_index (sv->nodes, 0);
  g_assert_cmpfloat (node->tx, ==, x);
  g_assert_cmpfloat (node->ty, ==, y);

  /* Hidden, nothing ticks and nothing refreshes. */
  gtk_widget_set_visible (window, FALSE);
  g_assert_false (gtk_widget_get_mapped (view));
  g_assert_false (te_swarm_view_get_animating (sv));
  g_assert_cmpuint (sv->refresh_id, ==, 0);
  gtk_widget_set_visible (window, TRUE);
  te_widget_test_spin (100);
  g_assert_true (gtk_widget_get_mapped (view));
  g_assert_cmpuint (sv->refresh_id, !=, 0);

  /* The seeder goes: its node fades out for about a second, then the view
   * rests with no peers and no frame callback. */
  te_test_wait_state (swarm.leech, TE_TORRENT_STATE_SEEDING);
  te_torrent_pause (swarm.seed);
  g_assert_true (wait_until (no_nodes, sv, 10));
  te_widget_test_spin (100);
  g_assert_false (te_swarm_view_get_animating (sv));

  gtk_window_destroy (GTK_WINDOW (window));
  te_widget_swarm_stop (&swarm);
  te_test_rm_rf (dir);
}

static TePeerInfo *
fake_peer (const char *address,
           guint16     port,
           double      progress,
           guint64     down)
{
  TePeerInfo *info = g_new0 (TePeerInfo, 1);

  info->address = g_strdup (address);
  info->port = port;
  info->client = g_strdup ("Transmission 4.0.2");
  g_strlcpy (info->flags, down ? "DE" : "dE", sizeof info->flags);
  info->download_rate = down;
  info->progress = progress;
  return info;
}

/* Placement and fades, driven with deterministic time: peers spread over
 * free slots, keep their places, and departed ones fade out in a second. */
static void
test_layout (void)
{
  TeSwarmView *sv = g_object_ref_sink (TE_SWARM_VIEW (te_swarm_view_new ()));
  g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func ((GDestroyNotify) te_peer_info_free);
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < 24; i++)
    g_ptr_array_add (peers, fake_peer ("10.0.0.1", 6881 + i, i < 12 ? 1.0 : 0.3, i % 3 ? 20000 : 0));
  _te_swarm_view_update (sv, peers);
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 24);

  /* No two peers share a spot. */
  for (guint i = 0; i < sv->nodes->len; i++)
    for (guint j = i + 1; j < sv->nodes->len; j++)
      {
        TeSwarmNode *a = g_ptr_array_index (sv->nodes, i);
        TeSwarmNode *b = g_ptr_array_index (sv->nodes, j);

        g_assert_cmpfloat (hypot (a->tx - b->tx, a->ty - b->ty), >, 10.0);
      }
  /* Seeds sit nearer than the others. */
  g_assert_cmpfloat (hypot (((TeSwarmNode *) sv->nodes->pdata[0])->tx, ((TeSwarmNode *) sv->nodes->pdata[0])->ty),
                     <, hypot (((TeSwarmNode *) sv->nodes->pdata[20])->tx, ((TeSwarmNode *) sv->nodes->pdata[20])->ty));

  /* Fading in takes half a second. */
  te_swarm_view_advance (sv, 250);
  g_assert_cmpfloat (((TeSwarmNode *) sv->nodes->pdata[0])->alpha, <, 1.0);
  te_swarm_view_advance (sv, 300);
  g_assert_cmpfloat (((TeSwarmNode *) sv->nodes->pdata[0])->alpha, ==, 1.0);
  for (guint i = 0; i < sv->nodes->len; i++)
    {
      double tx = ((TeSwarmNode *) sv->nodes->pdata[i])->tx;

      g_array_append_val (xs, tx);
    }

  /* Half leave: still drawn while they fade, gone after a second; the
   * others have not moved. */
  g_ptr_array_remove_range (peers, 0, 12);
  _te_swarm_view_update (sv, peers);
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 24);
  te_swarm_view_advance (sv, 600);
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 24);
  te_swarm_view_advance (sv, 500);
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 12);
  for (guint i = 0; i < sv->nodes->len; i++)
    g_assert_cmpfloat (((TeSwarmNode *) sv->nodes->pdata[i])->tx, ==, g_array_index (xs, double, i + 12));

  /* A newcomer goes into the freed space, not onto anyone. */
  g_ptr_array_add (peers, fake_peer ("10.0.0.2", 7000, 1.0, 0));
  _te_swarm_view_update (sv, peers);
  for (guint i = 0; i + 1 < sv->nodes->len; i++)
    {
      TeSwarmNode *a = g_ptr_array_index (sv->nodes, i);
      TeSwarmNode *b = g_ptr_array_index (sv->nodes, sv->nodes->len - 1);

      g_assert_cmpfloat (hypot (a->tx - b->tx, a->ty - b->ty), >, 30.0);
    }

  /* Nobody left: nothing to animate once the fades are over. */
  _te_swarm_view_update (sv, NULL);
  g_assert_true (_te_swarm_view_needs_tick (sv));
  te_swarm_view_advance (sv, 1100);
  g_assert_cmpuint (te_swarm_view_get_n_nodes (sv), ==, 0);
  g_assert_false (_te_swarm_view_needs_tick (sv));

  g_assert_finalize_object (sv);
}

int
main (int    argc,
      char **argv)
{
  te_widget_test_init (&argc, &argv);

  g_test_add_func ("/te/swarm-view/layout", test_layout);
  g_test_add_func ("/te/swarm-view/live-swarm", test_live_swarm);

  return te_widget_test_finish (g_test_run ());
}
