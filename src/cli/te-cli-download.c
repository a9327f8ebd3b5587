/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-cli"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib-unix.h>

#include "te-cli.h"
#include "te-engine.h"
#include "te-torrent.h"

/* download and seed: one torrent in an engine of its own, with a status line. */

typedef struct {
  GMainLoop  *loop;
  TeEngine   *engine;
  TeTorrent  *torrent;
  gboolean    seed_only;
  double      seed_ratio;     /* < 0: none */
  gint64      seed_time_us;   /* < 0: none */
  gint64      seeding_since;
  gint64      started;
  gboolean    tty;
  int         status;
  gboolean    stopping;
} Run;

static char *
format_rate (guint64 bytes_per_second)
{
  g_autofree char *size = g_format_size_full (bytes_per_second, G_FORMAT_SIZE_IEC_UNITS);

  /* Translators: a transfer rate, "1.5 MiB/s". */
  return g_strdup_printf (_("%s/s"), size);
}

/* The state in the status line; in English, the engine's names for them. */
static const char *
state_label (TeTorrentState state)
{
  switch (state)
    {
    case TE_TORRENT_STATE_PENDING: return C_("torrent state", "pending");
    case TE_TORRENT_STATE_CHECKING: return C_("torrent state", "checking");
    case TE_TORRENT_STATE_QUEUED: return C_("torrent state", "queued");
    case TE_TORRENT_STATE_DOWNLOADING: return C_("torrent state", "downloading");
    case TE_TORRENT_STATE_SEEDING: return C_("torrent state", "seeding");
    case TE_TORRENT_STATE_PAUSED: return C_("torrent state", "paused");
    case TE_TORRENT_STATE_ERROR: return C_("torrent state", "error");
    case TE_TORRENT_STATE_COMPLETE: return C_("torrent state", "complete");
    default: return te_torrent_state_to_string (state);
    }
}

static void
print_status (Run *run)
{
  TeTorrentStats s;
  g_autofree char *down = NULL, *up = NULL, *eta = NULL, *figures = NULL;
  const char *state;
  double pct;

  te_torrent_get_stats (run->torrent, &s);
  pct = s.wanted_bytes ? 100.0 * (double) MIN (s.have_bytes, s.wanted_bytes) / (double) s.wanted_bytes : 0;
  down = format_rate (s.download_rate);
  up = format_rate (s.upload_rate);
  if (s.download_rate > 0 && s.wanted_bytes > s.have_bytes)
    {
      guint64 left = (s.wanted_bytes - s.have_bytes) / s.download_rate;
      eta = g_strdup_printf ("%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT, left / 60, left % 60);
    }
  else
    eta = g_strdup ("--:--");

  state = state_label (te_torrent_get_state (run->torrent));
  /* Translators: the status line of download and seed, after the state and
   * the percentage done; the rates, the time left (minutes:seconds) and the
   * peers connected / known. */
  figures = g_strdup_printf (_("down %s  up %s  ETA %s  peers %u/%u"),
                             down, up, eta, s.peers_connected, s.peers_known);
  /* The state padded to 11 characters, not bytes. */
  fprintf (stderr, "%s%s%*s %5.1f%%  %s%s", run->tty ? "\r" : "", state,
           MAX (11 - (int) g_utf8_strlen (state, -1), 0), "", pct, figures,
           run->tty ? "\033[K" : "\n");
  fflush (stderr);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
finish (Run *run,
        int  status)
{
  if (run->stopping)
    return;
  run->stopping = TRUE;
  run->status = status;
  if (run->tty)
    fputc ('\n', stderr);
  /* Pausing closes the peers and tells the trackers we leave; quit once they
   * answered, or after a few seconds if they do not. */
  g_signal_connect_swapped (run->torrent, "stopped", G_CALLBACK (g_main_loop_quit), run->loop);
  g_timeout_add_seconds (3, quit_cb, run->loop);
  te_torrent_pause (run->torrent);
}

/* The engine stops seeding at the ratio or time limit (state "complete");
 * without either, a download ends as soon as it is complete. */
static gboolean
seeding_done (Run *run)
{
  if (run->seed_only)
    return FALSE;
  if (te_torrent_get_state (run->torrent) == TE_TORRENT_STATE_COMPLETE)
    return TRUE;
  return run->seed_ratio < 0 && run->seed_time_us < 0;
}

static gboolean
tick_cb (gpointer user_data)
{
  Run *run = user_data;

  if (run->stopping)
    return G_SOURCE_CONTINUE;
  print_status (run);
  if ((te_torrent_get_state (run->torrent) == TE_TORRENT_STATE_SEEDING
       || te_torrent_get_state (run->torrent) == TE_TORRENT_STATE_COMPLETE) && seeding_done (run))
    finish (run, 0);
  return G_SOURCE_CONTINUE;
}

static void
completed_cb (TeTorrent *torrent,
              Run       *run)
{
  double secs = (g_get_monotonic_time () - run->started) / (double) G_USEC_PER_SEC;
  TeTorrentStats s;

  te_torrent_get_stats (torrent, &s);
  run->seeding_since = g_get_monotonic_time ();
  if (!run->seed_only)
    {
      TeMetainfo *meta = te_torrent_get_metainfo (torrent);
      g_autofree char *size = g_format_size_full (te_metainfo_get_total_size (meta),
                                                  G_FORMAT_SIZE_IEC_UNITS);

      if (run->tty)
        fputc ('\n', stderr);
      /* Not translated: bench/swarm reads this line. */
      fprintf (stderr, "Complete: %s verified in %.1f s\n", size, secs);
    }
  if (seeding_done (run))
    finish (run, 0);
}

static void
state_changed_cb (TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  Run            *run)
{
  if (te_torrent_get_state (torrent) == TE_TORRENT_STATE_SEEDING && run->seed_only
      && !te_torrent_is_complete (torrent))
    fprintf (stderr, "torrentedge-cli: %s\n", _("warning: the data is incomplete; seeding what verified"));
}

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          Run                *run)
{
  /* A full disk waits for room and tries again by itself: say so, and keep
   * running. Other trouble the engine gets over is not news on a terminal. */
  if (event->action == TE_ERROR_ACTION_RETRY && event->category == TE_ERROR_CATEGORY_FILESYSTEM)
    {
      if (run->tty)
        fputc ('\n', stderr);
      fprintf (stderr, "torrentedge-cli: %s: %s\n", _("warning"), event->message);
      return;
    }
  if (event->action == TE_ERROR_ACTION_RETRY || event->action == TE_ERROR_ACTION_SKIP)
    {
      g_debug ("%s: %s", event->code, event->message);
      return;
    }
  if (run->tty)
    fputc ('\n', stderr);
  te_cli_fail ("%s", event->message);
  if (te_torrent_get_state (torrent) == TE_TORRENT_STATE_ERROR)
    finish (run, 1);
}

static gboolean
signal_cb (gpointer user_data)
{
  Run *run = user_data;

  if (run->stopping)
    g_main_loop_quit (run->loop);
  else
    finish (run, te_torrent_is_complete (run->torrent) ? 0 : 1);
  return G_SOURCE_CONTINUE;
}

static gboolean
add_peers (TeTorrent *torrent,
           char     **peers)
{
  for (guint i = 0; peers && peers[i]; i++)
    {
      g_autoptr(GSocketConnectable) c = g_network_address_parse (peers[i], 0, NULL);
      g_autoptr(GInetAddress) ip = NULL;
      g_autoptr(GSocketAddress) sa = NULL;

      if (c == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (c)) == 0)
        return FALSE;
      ip = g_inet_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (c)));
      if (ip == NULL)
        return FALSE;
      sa = g_inet_socket_address_new (ip, g_network_address_get_port (G_NETWORK_ADDRESS (c)));
      te_torrent_add_peer (torrent, G_INET_SOCKET_ADDRESS (sa));
    }
  return TRUE;
}

static void
print_summary (Run *run)
{
  TeTorrentStats s;
  g_autofree char *down = NULL, *up = NULL;

  te_torrent_get_stats (run->torrent, &s);
  down = g_format_size_full (s.downloaded, G_FORMAT_SIZE_IEC_UNITS);
  up = g_format_size_full (s.uploaded, G_FORMAT_SIZE_IEC_UNITS);
  /* Not translated: scripts and the interop tests read its figures. */
  fprintf (stderr, "Summary: downloaded %s, uploaded %s, %u/%u pieces, hash failures %u, "
           "PEX sent %u received %u\n", down, up, s.pieces_have, s.pieces_total, s.hash_failures,
           s.pex_sent, s.pex_received);
}

static int
run_torrent (const char *source,
             const char *save_path,
             gboolean    seed_only,
             gboolean    super_seed,
             double      seed_ratio,
             gint64      seed_time_s,
             gboolean    sequential,
             char      **peers,
             gint        port,
             gint64      download_limit,
             gint64      upload_limit)
{
  TeEngineSettings settings;
  g_autoptr(TeEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  Run run = { 0 };
  TeTorrent *torrent;
  guint tick, sigint, sigterm;

  te_engine_settings_init (&settings);
  {
    g_auto(GStrv) env = g_get_environ ();

    if (!te_engine_settings_apply_environment (&settings, (const char * const *) env, &error))
      {
        te_engine_settings_clear (&settings);
        return te_cli_fail ("%s", error->message);
      }
  }
  if (port >= 0)
    settings.listen_port = (guint16) port;
  if (download_limit >= 0)
    settings.download_limit = (guint64) download_limit;
  if (upload_limit >= 0)
    settings.upload_limit = (guint64) upload_limit;
  /* One torrent, seeding until told: the limits are ours, not the defaults. */
  settings.max_active_downloads = 0;
  settings.seed_ratio_limit = seed_ratio > 0 && !seed_only ? seed_ratio : 0;
  settings.seed_time_limit_ms = seed_time_s > 0 && !seed_only ? (guint64) seed_time_s * 1000 : 0;
  engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  if (!te_engine_start (engine, &error))
    return te_cli_fail ("%s", error->message);

  if (g_str_has_prefix (source, "magnet:"))
    {
      g_autoptr(TeMagnet) magnet = te_magnet_parse (source, &error);

      if (magnet == NULL)
        return te_cli_fail ("%s", error->message);
      torrent = te_engine_add_magnet (engine, magnet, save_path, &error);
    }
  else
    {
      g_autoptr(TeMetainfo) meta = te_metainfo_new_from_file (source, &error);

      if (meta == NULL)
        return te_cli_fail ("%s: %s", source, error->message);
      torrent = te_engine_add_torrent (engine, meta, save_path, &error);
    }
  if (torrent == NULL)
    return te_cli_fail ("%s", error->message);
  if (!add_peers (torrent, peers))
    return te_cli_fail (_("--peer takes HOST:PORT with a numeric address"));
  te_torrent_set_sequential (torrent, sequential);
  te_torrent_set_super_seeding (torrent, super_seed);

  run.loop = loop;
  run.engine = engine;
  run.torrent = torrent;
  run.seed_only = seed_only;
  run.seed_ratio = seed_ratio;
  run.seed_time_us = seed_time_s >= 0 ? seed_time_s * G_USEC_PER_SEC : -1;
  run.started = g_get_monotonic_time ();
  run.tty = isatty (STDERR_FILENO);
  g_signal_connect (torrent, "completed", G_CALLBACK (completed_cb), &run);
  g_signal_connect (torrent, "state-changed", G_CALLBACK (state_changed_cb), &run);
  g_signal_connect (torrent, "error", G_CALLBACK (error_cb), &run);
  tick = g_timeout_add_seconds (1, tick_cb, &run);
  sigint = g_unix_signal_add (SIGINT, signal_cb, &run);
  sigterm = g_unix_signal_add (SIGTERM, signal_cb, &run);

  /* Not translated: the interop tests and scripts take the port from it. */
  fprintf (stderr, "%s “%s” on port %u\n", seed_only ? "Seeding" : "Downloading",
           te_torrent_get_name (torrent), te_engine_get_port (engine));
  g_main_loop_run (loop);
  print_summary (&run);

  g_source_remove (tick);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handlers_disconnect_by_data (torrent, &run);
  te_engine_stop (engine);
  return run.status;
}

int
te_cli_download (int    argc,
                 char **argv)
{
  g_autofree char *output = NULL;
  g_auto(GStrv) peers = NULL;
  double seed_ratio = -1;
  gint seed_time = -1, port = -1;
  gint64 down_limit = -1, up_limit = -1;
  gboolean sequential = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Folder to save into (default: current)"), N_("DIR") },
    { "seed-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &seed_ratio, N_("Seed until uploaded/size reaches R"), N_("R") },
    { "seed-time", 0, 0, G_OPTION_ARG_INT, &seed_time, N_("Seed for this many seconds"), N_("SECONDS") },
    { "sequential", 0, 0, G_OPTION_ARG_NONE, &sequential, N_("Fetch pieces in order"), NULL },
    { "peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &peers, N_("Also connect to this peer"), N_("HOST:PORT") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Listening port (0: any free port)"), N_("N") },
    { "download-limit", 0, 0, G_OPTION_ARG_INT64, &down_limit, N_("Download limit, bytes/s"), N_("N") },
    { "upload-limit", 0, 0, G_OPTION_ARG_INT64, &up_limit, N_("Upload limit, bytes/s"), N_("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("FILE.torrent|MAGNET"));

  g_option_context_set_summary (context,
                                N_("Download a torrent; exit status 0 once the data is complete and "
                                   "verified (and seeded as asked)."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 2)
    return te_cli_fail (_("download takes one .torrent file or magnet link"));
  if (port > 65535 || port < -1)
    return te_cli_fail (_("--port must be between 0 and 65535"));
  return run_torrent (argv[1], output ? output : ".", FALSE, FALSE, seed_ratio, seed_time, sequential,
                      peers, port, down_limit, up_limit);
}

int
te_cli_seed (int    argc,
             char **argv)
{
  g_auto(GStrv) peers = NULL;
  gint port = -1;
  gint64 up_limit = 0;
  gboolean super_seed = FALSE;
  GOptionEntry entries[] = {
    { "super-seed", 0, 0, G_OPTION_ARG_NONE, &super_seed,
      N_("Show each peer one rare piece at a time (BEP 16), for a first seed"), NULL },
    { "peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &peers, N_("Also connect to this peer"), N_("HOST:PORT") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Listening port (0: any free port)"), N_("N") },
    { "upload-limit", 0, 0, G_OPTION_ARG_INT64, &up_limit, N_("Upload limit, bytes/s"), N_("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("FILE.torrent DATA_DIR"));

  g_option_context_set_summary (context, N_("Verify the data, then seed it until stopped."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 3)
    return te_cli_fail (_("seed takes a .torrent file and a data folder"));
  if (!g_file_test (argv[2], G_FILE_TEST_IS_DIR))
    return te_cli_fail (_("%s: not a folder"), argv[2]);
  if (port > 65535 || port < -1)
    return te_cli_fail (_("--port must be between 0 and 65535"));
  return run_torrent (argv[1], argv[2], TRUE, super_seed, -1, -1, FALSE, peers, port, 0, up_limit);
}
