/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "te-rate-graph.h"
#include "te-test-utils.h"
#include "te-widget-test-utils.h"

static void
test_ring (void)
{
  TeRateGraph *graph = g_object_ref_sink (TE_RATE_GRAPH (te_rate_graph_new ()));
  guint64 down, up;

  g_assert_cmpuint (te_rate_graph_get_n_samples (graph), ==, 0);
  for (guint i = 0; i < 1000; i++)
    te_rate_graph_push (graph, i * 1000, i * 10);

  /* Exactly the last 300 pushes, oldest first. */
  g_assert_cmpuint (te_rate_graph_get_n_samples (graph), ==, TE_RATE_GRAPH_SAMPLES);
  g_assert_cmpuint (TE_RATE_GRAPH_SAMPLES, ==, 300);
  for (guint i = 0; i < TE_RATE_GRAPH_SAMPLES; i++)
    {
      te_rate_graph_get_sample (graph, i, &down, &up);
      g_assert_cmpuint (down, ==, (700 + i) * 1000);
      g_assert_cmpuint (up, ==, (700 + i) * 10);
    }
  /* The axis tops the largest sample held with a round figure: 999 kB/s → 1 MB/s. */
  g_assert_cmpuint (te_rate_graph_get_scale (graph), ==, 1000 * 1000);

  g_assert_finalize_object (graph);
}

static char *
legend_text (GtkWidget *graph,
             guint      index)
{
  GtkWidget *legend = gtk_widget_get_first_child (graph);
  GtkWidget *label = gtk_widget_get_first_child (legend);

  while (index-- > 0)
    label = gtk_widget_get_next_sibling (label);
  return g_strdup (gtk_label_get_label (GTK_LABEL (label)));
}

static void
test_render (void)
{
  GtkWidget *graph = te_rate_graph_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) quiet = NULL;
  g_autoptr(GdkTexture) busy = NULL;
  g_autoptr(GdkTexture) scaled = NULL;
  g_autofree char *dir = te_test_make_tmpdir ("te-rate-graph");
  g_autofree char *down_size = NULL, *up_size = NULL, *down_text = NULL, *up_text = NULL;

  window = te_widget_test_show (graph, 480, 220);
  for (guint i = 0; i < 60; i++)
    te_rate_graph_push (TE_RATE_GRAPH (graph), 0, 0);
  quiet = te_widget_test_render (graph);
  g_assert_nonnull (quiet);

  /* A minute of traffic rising then falling. */
  for (guint i = 0; i < 60; i++)
    te_rate_graph_push (TE_RATE_GRAPH (graph), (i < 30 ? i : 60 - i) * 40000, 15000 + i * 100);
  busy = te_widget_test_render (graph);
  g_assert_nonnull (busy);
  g_assert_cmpint (gdk_texture_get_width (busy), ==, gtk_widget_get_width (graph));
  /* The lines and their fills cover part of the plot: many pixels change. */
  g_assert_cmpuint (te_widget_test_count_diff (quiet, busy), >, 500);
  te_widget_test_save_png (busy, dir, "rate-graph");

  /* The legend says the newest rates in human units. */
  down_size = g_format_size (40000);
  down_text = legend_text (graph, 0);
  up_text = legend_text (graph, 1);
  g_assert_nonnull (strstr (down_text, down_size));
  up_size = g_format_size (20900);
  g_assert_nonnull (strstr (up_text, up_size));

  /* Resized, it redraws to the new size. */
  gtk_window_set_default_size (GTK_WINDOW (window), 300, 160);
  te_widget_test_spin (200);
  scaled = te_widget_test_render (graph);
  g_assert_cmpint (gdk_texture_get_width (scaled), <, gdk_texture_get_width (busy));
  g_assert_cmpuint (te_widget_test_count_inked (scaled), >, 0);

  gtk_window_destroy (GTK_WINDOW (window));
  te_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  te_widget_test_init (&argc, &argv);

  g_test_add_func ("/te/rate-graph/ring", test_ring);
  g_test_add_func ("/te/rate-graph/render", test_render);

  return te_widget_test_finish (g_test_run ());
}
