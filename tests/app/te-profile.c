/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-profile"

#include "config.h"
#include "config-app.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "te-application.h"
#include "te-window.h"

/* torrentedge-profile, the app as bench/ui measures it (built for the tests
 * only, never installed). Prints to stderr, one JSON object a line:
 *   {"event":"first-frame","ms":T}        since the process started
 *   {"event":"stall","ms":G,"phase":P}    a main-loop gap over 20 ms
 *   {"event":"summary","phase":P,"frames":N,"max_frame_gap_ms":F,
 *    "max_loop_gap_ms":L,"rss_kib":R,"torrents":N}   every TE_APP_PROFILE_SECONDS
 * Gaps are measured two ways: between frames while the list scrolls, and
 * between runs of a 10 ms timeout (a stall of the loop shows as a late one).
 * TE_APP_PROFILE_SCROLL=1 scrolls the torrent list up and down meanwhile;
 * TE_APP_PROFILE_QUIT=S quits after S seconds. */

#define TICK_MS 10

typedef struct {
  GtkWidget *window;
  gint64     start;
  gint64     last_frame;
  gint64     last_tick;
  gint64     max_frame_gap;
  gint64     max_loop_gap;
  guint      frames;
  gboolean   first_frame;
  gboolean   scroll;
  double     direction;
  gint64     report_every;
  gint64     next_report;
  gint64     quit_at;
  guint      tick_id;
} Profile;

static gint64
process_start_us (void)
{
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  g_autofree char *uptime = NULL;
  const char *after;
  double up;
  long ticks = sysconf (_SC_CLK_TCK);

  /* Field 22 of /proc/self/stat: start time in clock ticks after boot. */
  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)
      || !g_file_get_contents ("/proc/uptime", &uptime, NULL, NULL))
    return g_get_monotonic_time ();
  after = strrchr (stat, ')');
  if (after == NULL)
    return g_get_monotonic_time ();
  fields = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (fields) < 20)
    return g_get_monotonic_time ();
  up = g_ascii_strtod (uptime, NULL);
  /* Monotonic time runs with uptime (CLOCK_MONOTONIC, both since boot). */
  return g_get_monotonic_time () - (gint64) ((up - (double) g_ascii_strtoll (fields[19], NULL, 10) / ticks) * G_USEC_PER_SEC);
}

static long
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  return line ? strtol (line + 6, NULL, 10) : -1;
}

static const char *
phase (Profile *p)
{
  return p->scroll ? "scrolling" : "idle";
}

static void
scroll_step (Profile *p)
{
  GtkWidget *scroller = te_window_get_part (TE_WINDOW (p->window), "scroller");
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
  double value = gtk_adjustment_get_value (adj);
  double page = gtk_adjustment_get_page_size (adj);
  double upper = gtk_adjustment_get_upper (adj);

  if (value + page >= upper - 1)
    p->direction = -1;
  else if (value <= 0)
    p->direction = 1;
  gtk_adjustment_set_value (adj, value + p->direction * page * 0.5);
}

static gboolean
frame_cb (GtkWidget     *widget,
          GdkFrameClock *clock,
          gpointer       user_data)
{
  Profile *p = user_data;
  gint64 now = g_get_monotonic_time ();

  if (!p->first_frame)
    {
      p->first_frame = TRUE;
      fprintf (stderr, "{\"event\":\"first-frame\",\"ms\":%.1f}\n", (now - p->start) / 1000.0);
    }
  else
    p->max_frame_gap = MAX (p->max_frame_gap, now - p->last_frame);
  p->last_frame = now;
  p->frames++;
  if (p->scroll)
    scroll_step (p);
  return G_SOURCE_CONTINUE;
}

static gboolean
tick_cb (gpointer user_data)
{
  Profile *p = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 gap = now - p->last_tick;

  p->last_tick = now;
  if (gap > 20000)
    fprintf (stderr, "{\"event\":\"stall\",\"ms\":%.1f,\"phase\":\"%s\"}\n", gap / 1000.0, phase (p));
  p->max_loop_gap = MAX (p->max_loop_gap, gap);
  if (now >= p->next_report)
    {
      TeApplication *app = TE_APPLICATION (gtk_window_get_application (GTK_WINDOW (p->window)));
      guint n = app ? g_list_model_get_n_items (G_LIST_MODEL (te_application_get_engine (app))) : 0;

      fprintf (stderr, "{\"event\":\"summary\",\"phase\":\"%s\",\"frames\":%u,\"max_frame_gap_ms\":%.1f,"
               "\"max_loop_gap_ms\":%.1f,\"rss_kib\":%ld,\"torrents\":%u}\n",
               phase (p), p->frames, p->max_frame_gap / 1000.0, p->max_loop_gap / 1000.0, rss_kib (), n);
      p->frames = 0;
      p->max_frame_gap = 0;
      p->max_loop_gap = 0;
      p->next_report = now + p->report_every;
    }
  if (p->quit_at > 0 && now >= p->quit_at)
    {
      TeApplication *app = TE_APPLICATION (gtk_window_get_application (GTK_WINDOW (p->window)));

      p->quit_at = 0;
      if (app != NULL)
        te_application_quit (app);
    }
  return G_SOURCE_CONTINUE;
}

static void
profile_free (gpointer data)
{
  Profile *p = data;

  g_clear_handle_id (&p->tick_id, g_source_remove);
  g_free (p);
}

/* Starts measuring; the measurements end with the window. */
static void
profile_attach (GtkWidget *window)
{
  Profile *p = g_new0 (Profile, 1);
  const char *every = g_getenv ("TE_APP_PROFILE_SECONDS");
  const char *quit = g_getenv ("TE_APP_PROFILE_QUIT");

  p->window = window;
  p->start = process_start_us ();
  p->last_tick = g_get_monotonic_time ();
  p->scroll = g_strcmp0 (g_getenv ("TE_APP_PROFILE_SCROLL"), "1") == 0;
  p->direction = 1;
  p->report_every = (every ? g_ascii_strtoll (every, NULL, 10) : 5) * G_USEC_PER_SEC;
  p->next_report = p->last_tick + p->report_every;
  if (quit != NULL)
    p->quit_at = p->last_tick + g_ascii_strtoll (quit, NULL, 10) * G_USEC_PER_SEC;
  gtk_widget_add_tick_callback (window, frame_cb, p, NULL);
  p->tick_id = g_timeout_add_full (G_PRIORITY_DEFAULT, TICK_MS, tick_cb, p, NULL);
  g_object_set_data_full (G_OBJECT (window), "te-profile", p, profile_free);
}

static void
window_added_cb (GtkApplication *app,
                 GtkWindow      *window,
                 gpointer        user_data)
{
  if (TE_IS_WINDOW (window) && g_object_get_data (G_OBJECT (window), "te-profile") == NULL)
    profile_attach (GTK_WIDGET (window));
}

/* As src/app/main.c, measuring every main window. */
int
main (int    argc,
      char **argv)
{
  g_autoptr(TeApplication) app = NULL;
  int status;

  te_application_prepare_process ();
  app = te_application_new ();
  g_signal_connect (app, "window-added", G_CALLBACK (window_added_cb), NULL);
  status = g_application_run (G_APPLICATION (app), argc, argv);
  return status != 0 ? status : te_application_get_exit_status (app);
}
