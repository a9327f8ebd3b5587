/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "te-dashboard.h"
#include "te-rate-graph.h"
#include "te-test-utils.h"
#include "te-widget-test-utils.h"

/* 6 MiB at 1 MiB/s: about six seconds of download. */
#define SIZE (6 * 1024 * 1024)
#define RATE (1024 * 1024)

static const char *
label_text (GtkWidget  *dashboard,
            const char *name)
{
  GtkWidget *label = te_widget_test_find (dashboard, name);

  g_assert_nonnull (label);
  g_assert_true (GTK_IS_LABEL (label));
  return gtk_label_get_label (GTK_LABEL (label));
}

static char *
rate_text (guint64 rate)
{
  g_autofree char *size = g_format_size (rate);

  return g_strdup_printf ("%s/s", size);
}

/* The labels show what the engine reports, every second. */
static void
assert_figures (GtkWidget *dashboard,
                TeEngine  *engine)
{
  TeEngineStats stats;
  g_autofree char *down = NULL, *up = NULL, *downloaded = NULL, *uploaded = NULL, *peers = NULL;

  te_engine_get_stats (engine, &stats);
  down = rate_text (stats.download_rate);
  up = rate_text (stats.upload_rate);
  downloaded = g_format_size (stats.downloaded);
  uploaded = g_format_size (stats.uploaded);
  peers = g_strdup_printf ("%u", stats.peers_connected);
  g_assert_cmpstr (label_text (dashboard, "download-rate"), ==, down);
  g_assert_cmpstr (label_text (dashboard, "upload-rate"), ==, up);
  g_assert_cmpstr (label_text (dashboard, "downloaded"), ==, downloaded);
  g_assert_cmpstr (label_text (dashboard, "uploaded"), ==, uploaded);
  g_assert_cmpstr (label_text (dashboard, "peers"), ==, peers);
}

static void
rate_notify_cb (TeEngine   *engine,
                GParamSpec *pspec,
                guint64    *max)
{
  TeEngineStats stats;

  te_engine_get_stats (engine, &stats);
  *max = MAX (*max, stats.download_rate);
}

static gboolean
free_space_known (GtkWidget *dashboard)
{
  const char *text = label_text (dashboard, "free-space");

  return text[0] != '\0' && g_ascii_isdigit (text[0]);
}

static void
test_follows_engine (void)
{
  TeWidgetSwarm swarm;
  GtkWidget *dashboard;
  GtkWidget *window;
  TeRateGraph *graph;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GFile) folder = NULL;
  g_autoptr(GFileInfo) fs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *free_text = NULL;
  g_autofree char *dir = te_test_make_tmpdir ("te-dashboard");
  guint64 max_rate = 0, max_sample = 0, up;
  gboolean seen_downloading = FALSE;
  gint64 deadline;

  te_widget_swarm_start (&swarm, SIZE, RATE);
  g_signal_connect (swarm.leecher, "notify::download-rate", G_CALLBACK (rate_notify_cb), &max_rate);
  dashboard = te_dashboard_new (swarm.leecher);
  g_assert_true (te_dashboard_get_engine (TE_DASHBOARD (dashboard)) == swarm.leecher);
  window = te_widget_test_show (dashboard, 900, 900);
  g_assert_cmpstr (label_text (dashboard, "count-all"), ==, "1");

  /* While the download runs, each second: one downloading torrent, and the
   * rates and totals the engine reports. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (te_torrent_get_state (swarm.leech) != TE_TORRENT_STATE_SEEDING && g_get_monotonic_time () < deadline)
    {
      te_widget_test_spin (500);
      if (te_torrent_get_state (swarm.leech) == TE_TORRENT_STATE_DOWNLOADING)
        {
          /* The state label follows on the next idle. */
          te_widget_test_spin (10);
          if (te_torrent_get_state (swarm.leech) != TE_TORRENT_STATE_DOWNLOADING)
            continue;
          g_assert_cmpstr (label_text (dashboard, "count-downloading"), ==, "1");
          g_assert_cmpstr (label_text (dashboard, "count-seeding"), ==, "0");
          seen_downloading = TRUE;
        }
      assert_figures (dashboard, swarm.leecher);
    }
  g_assert_true (seen_downloading);
  g_assert_cmpint (te_torrent_get_state (swarm.leech), ==, TE_TORRENT_STATE_SEEDING);
  /* The seeder's limit shows in the rates the engine and the labels had. */
  g_assert_cmpuint (max_rate, >, RATE / 4);
  g_assert_cmpuint (max_rate, <, RATE * 2);

  te_widget_test_spin (100);
  g_assert_cmpstr (label_text (dashboard, "count-downloading"), ==, "0");
  g_assert_cmpstr (label_text (dashboard, "count-seeding"), ==, "1");
  g_assert_cmpstr (label_text (dashboard, "count-all"), ==, "1");
  /* Everything came down: once the engine's next one-second figures are
   * out, the session total is at least the torrent, and so says the label. */
  {
    TeEngineStats stats;

    deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    do
      {
        te_widget_test_spin (100);
        te_engine_get_stats (swarm.leecher, &stats);
      }
    while (stats.downloaded < SIZE && g_get_monotonic_time () < deadline);
    g_assert_cmpuint (stats.downloaded, >=, SIZE);
  }
  assert_figures (dashboard, swarm.leecher);

  /* The graph had a sample a second, the download among them. */
  /* Unnamed widgets go by their type's name. */
  graph = TE_RATE_GRAPH (te_widget_test_find (dashboard, "TeRateGraph"));
  g_assert_cmpuint (te_rate_graph_get_n_samples (graph), >=, 4);
  for (guint i = 0; i < te_rate_graph_get_n_samples (graph); i++)
    {
      guint64 down;

      te_rate_graph_get_sample (graph, i, &down, &up);
      max_sample = MAX (max_sample, down);
    }
  g_assert_cmpuint (max_sample, >, RATE / 4);

  /* Free space of the download folder, as GIO reports it. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!free_space_known (dashboard) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (free_space_known (dashboard));
  folder = g_file_new_for_path (te_engine_get_settings (swarm.leecher)->download_path);
  fs = g_file_query_filesystem_info (folder, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, &error);
  g_assert_no_error (error);
  free_text = g_format_size (g_file_info_get_attribute_uint64 (fs, G_FILE_ATTRIBUTE_FILESYSTEM_FREE));
  /* Other processes write too: compare the figures to a few percent. */
  g_assert_cmpfloat (fabs (g_ascii_strtod (label_text (dashboard, "free-space"), NULL)
                           - g_ascii_strtod (free_text, NULL)),
                     <=, g_ascii_strtod (free_text, NULL) * 0.05 + 0.1);

  /* A second torrent, added paused: counted at once under its state. */
  {
    g_autofree char *payload = g_build_filename (swarm.dir, "other.bin", NULL);
    g_autoptr(TeMetainfo) meta = NULL;
    TeAddOptions options;
    TeTorrent *paused;
    g_autofree char *name = NULL;

    te_test_write_random (payload, 64 * 1024, 3);
    meta = te_test_make_torrent (payload, TE_TORRENT_V1, 16 * 1024);
    te_add_options_init (&options);
    options.save_path = swarm.dir;
    options.paused = TRUE;
    paused = te_engine_add_torrent_full (swarm.leecher, meta, &options, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (paused);
    te_widget_test_spin (200);
    g_assert_cmpstr (label_text (dashboard, "count-all"), ==, "2");
    g_assert_cmpint (te_torrent_get_state (paused), ==, TE_TORRENT_STATE_PAUSED);
    name = g_strconcat ("count-", te_torrent_state_to_string (TE_TORRENT_STATE_PAUSED), NULL);
    g_assert_cmpstr (label_text (dashboard, name), ==, "1");
  }

  texture = te_widget_test_render (dashboard);
  g_assert_nonnull (texture);
  te_widget_test_save_png (texture, dir, "dashboard");

  gtk_window_destroy (GTK_WINDOW (window));
  te_widget_swarm_stop (&swarm);
  te_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  te_widget_test_init (&argc, &argv);

  g_test_add_func ("/te/dashboard/follows-engine", test_follows_engine);

  return te_widget_test_finish (g_test_run ());
}
