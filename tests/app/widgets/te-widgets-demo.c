/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-widgets-demo"

#include "config.h"

#include <stdlib.h>
#include <adwaita.h>

#include "te-dashboard.h"
#include "te-piece-map.h"
#include "te-rate-graph.h"
#include "te-swarm-view.h"
#include "te-test-utils.h"
#include "te-widget-test-utils.h"

/* The dashboard, swarm view and piece map over a live swarm on loopback: a
 * throttled seeder, the engine shown, and a few other leechers it trades
 * with. With --screenshot DIR, writes a PNG of each widget a few seconds
 * into the download and exits. */

#define N_OTHERS 3

typedef struct {
  TeWidgetSwarm  swarm;
  TeEngine      *others[N_OTHERS];
  GtkWidget     *window;
  GtkWidget     *dashboard;
  GtkWidget     *swarm_view;
  GtkWidget     *piece_map;
  GMainLoop     *loop;
  const char    *screenshot_dir;
  int            status;
} Demo;

static GInetSocketAddress *
loopback (TeEngine *engine)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (lo, te_engine_get_port (engine)));
}

/* Leechers that join the shown engine and the seeder: we upload to them. */
static void
add_others (Demo *demo)
{
  TeMetainfo *meta = te_torrent_get_metainfo (demo->swarm.leech);
  g_autoptr(GInetSocketAddress) seeder = loopback (demo->swarm.seeder);
  g_autoptr(GInetSocketAddress) shown = loopback (demo->swarm.leecher);

  for (guint i = 0; i < N_OTHERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("other-%u", i);
      g_autofree char *dir = g_build_filename (demo->swarm.dir, name, NULL);
      g_autoptr(GError) error = NULL;
      TeTorrent *torrent;

      demo->others[i] = te_test_new_engine (4, 0);
      /* Slower than us, so that they ask us for pieces. */
      te_engine_set_limits (demo->others[i], 200 * 1024 * (i + 1), 0);
      torrent = te_engine_add_torrent (demo->others[i], meta, dir, &error);
      if (torrent == NULL)
        g_error ("%s", error->message);
      te_torrent_add_peer (torrent, shown);
      if (i > 0)
        te_torrent_add_peer (torrent, seeder);
    }
}

static gboolean
write_screenshot (GtkWidget  *widget,
                  const char *dir,
                  const char *name)
{
  g_autoptr(GdkTexture) texture = te_widget_test_render (widget);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  if (texture == NULL || !gdk_texture_save_to_png (texture, path))
    {
      g_printerr ("Could not write %s\n", path);
      return FALSE;
    }
  g_print ("%s\n", path);
  return TRUE;
}

static gboolean
screenshot_cb (gpointer user_data)
{
  Demo *demo = user_data;
  GtkWidget *graph = te_widget_test_find (demo->dashboard, "TeRateGraph");
  gboolean ok = TRUE;

  if (g_mkdir_with_parents (demo->screenshot_dir, 0755) != 0)
    {
      g_printerr ("Could not create %s\n", demo->screenshot_dir);
      demo->status = EXIT_FAILURE;
      g_main_loop_quit (demo->loop);
      return G_SOURCE_REMOVE;
    }
  ok &= write_screenshot (demo->window, demo->screenshot_dir, "window");
  ok &= write_screenshot (demo->dashboard, demo->screenshot_dir, "dashboard");
  ok &= write_screenshot (graph, demo->screenshot_dir, "rate-graph");
  ok &= write_screenshot (demo->swarm_view, demo->screenshot_dir, "swarm-view");
  ok &= write_screenshot (demo->piece_map, demo->screenshot_dir, "piece-map");
  te_swarm_view_set_color_mode (TE_SWARM_VIEW (demo->swarm_view), TE_SWARM_COLOR_CLIENT);
  ok &= write_screenshot (demo->swarm_view, demo->screenshot_dir, "swarm-view-clients");
  demo->status = ok ? EXIT_SUCCESS : EXIT_FAILURE;
  g_main_loop_quit (demo->loop);
  return G_SOURCE_REMOVE;
}

static void
color_toggled_cb (GtkToggleButton *button,
                  Demo            *demo)
{
  te_swarm_view_set_color_mode (TE_SWARM_VIEW (demo->swarm_view),
                                gtk_toggle_button_get_active (button) ? TE_SWARM_COLOR_CLIENT
                                                                      : TE_SWARM_COLOR_STATE);
}

static gboolean
close_request_cb (GtkWindow *window,
                  Demo      *demo)
{
  g_main_loop_quit (demo->loop);
  return FALSE;
}

static void
build_window (Demo *demo)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *toggle = gtk_toggle_button_new_with_label ("Colour by client");

  demo->window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (demo->window), "TorrentEdge widgets");
  gtk_window_set_default_size (GTK_WINDOW (demo->window), 1400, 860);
  demo->dashboard = te_dashboard_new (demo->swarm.leecher);
  demo->swarm_view = te_swarm_view_new ();
  demo->piece_map = te_piece_map_new ();
  te_swarm_view_set_torrent (TE_SWARM_VIEW (demo->swarm_view), demo->swarm.leech);
  te_piece_map_set_torrent (TE_PIECE_MAP (demo->piece_map), demo->swarm.leech);
  gtk_widget_set_vexpand (demo->swarm_view, TRUE);
  gtk_widget_set_halign (toggle, GTK_ALIGN_START);
  g_signal_connect (toggle, "toggled", G_CALLBACK (color_toggled_cb), demo);
  gtk_widget_set_margin_start (side, 6);
  gtk_widget_set_margin_end (side, 6);
  gtk_widget_set_margin_bottom (side, 6);
  gtk_box_append (GTK_BOX (side), demo->swarm_view);
  gtk_box_append (GTK_BOX (side), demo->piece_map);
  gtk_box_append (GTK_BOX (side), toggle);
  gtk_paned_set_start_child (GTK_PANED (paned), demo->dashboard);
  gtk_paned_set_end_child (GTK_PANED (paned), side);
  gtk_paned_set_position (GTK_PANED (paned), 720);
  gtk_window_set_child (GTK_WINDOW (demo->window), paned);
  g_signal_connect (demo->window, "close-request", G_CALLBACK (close_request_cb), demo);
  gtk_window_present (GTK_WINDOW (demo->window));
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *screenshot_dir = NULL;
  guint64 rate = 512 * 1024;
  int seconds = 6;
  GOptionEntry entries[] = {
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &screenshot_dir, "Write PNGs of each widget to DIR and exit", "DIR" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Seconds of download before the screenshots (6)", "N" },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- TorrentEdge widgets over a local swarm");
  g_autoptr(GError) error = NULL;
  Demo demo = { 0 };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  gtk_init ();
  adw_init ();

  /* 24 MiB at 512 KiB/s from the seeder: most of a minute to watch. */
  te_widget_swarm_start (&demo.swarm, 24 * 1024 * 1024, rate);
  add_others (&demo);
  demo.loop = g_main_loop_new (NULL, FALSE);
  demo.screenshot_dir = screenshot_dir;
  build_window (&demo);
  if (screenshot_dir != NULL)
    g_timeout_add_seconds (MAX (seconds, 1), screenshot_cb, &demo);
  g_main_loop_run (demo.loop);

  if (demo.window != NULL)
    gtk_window_destroy (GTK_WINDOW (demo.window));
  for (guint i = 0; i < N_OTHERS; i++)
    {
      te_engine_stop (demo.others[i]);
      g_clear_object (&demo.others[i]);
    }
  te_widget_swarm_stop (&demo.swarm);
  g_main_loop_unref (demo.loop);
  return demo.status;
}
