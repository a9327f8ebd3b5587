/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "te-engine.h"
#include "te-test-utils.h"
#include "te-torrent.h"
#include "crash-relay.h"

/* The daemon (torrentedge-cli daemon, a child process) downloads from an
 * in-process seeder and is killed with SIGKILL at three random points; each
 * restart must take up from the pieces its last state file records, and the
 * fourth run must finish with the right data.
 *
 * A seed never dials leechers, so the daemon finds the seeder the usual way:
 * the .torrent names an in-process tracker, which hands out the address of a
 * relay in front of the seeder. The relay reads the seeder's side of the wire
 * and records which pieces went out in which run: a piece the daemon had
 * recorded, sent again after a restart, fails the test. */

#define UPLOAD_LIMIT  (3 * 1024 * 1024)   /* about 8 s for the whole download */
#define WAIT_S        60
#define FINISH_S      120

/* Waiting, always with a time limit */

typedef gboolean (*Condition) (gpointer data);

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
wait_until (Condition   cond,
            gpointer    data,
            guint       seconds,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!cond (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (!cond (data))
    g_test_message ("Timed out after %u s waiting for %s", seconds, what);
  g_assert_true (cond (data));
}

static void
wait_for_flag (gboolean   *flag,
               guint       seconds,
               const char *what)
{
  wait_until (flag_set, flag, seconds, what);
}

static void
spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
}

/* Keeps g_main_context_iteration() from blocking for long. */
static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Bitfields, piece 0 in the high bit of byte 0 */

static guint
bits_count (const guint8 *bits)
{
  guint n = 0;

  for (guint i = 0; i < BF_LEN; i++)
    for (guint8 b = bits[i]; b; b &= b - 1)
      n++;
  return n;
}

static gboolean
bits_covers (const guint8 *super,
             const guint8 *sub)
{
  for (guint i = 0; i < BF_LEN; i++)
    if ((super[i] & sub[i]) != sub[i])
      return FALSE;
  return TRUE;
}

static char *
bits_list (const guint8 *bits)
{
  GString *s = g_string_new (NULL);

  for (guint p = 0; p < N_PIECES; p++)
    if (bits[p / 8] & (0x80 >> (p % 8)))
      g_string_append_printf (s, "%s%u", s->len ? " " : "", p);
  return g_string_free (s, FALSE);
}

/* The daemon */

typedef struct {
  GSubprocess      *proc;
  GDataInputStream *out;
  const char       *id;         /* our torrent's */
  guint             run;
  gboolean          ready;
  gboolean          seeding;
  gboolean          eof;
  gboolean          exited;
  guint             problems;   /* state:problem and torrent:error events */
} Daemon;

typedef struct {
  char    *dir;
  char    *seed_dir;
  char    *state_dir;
  char    *watch_dir;
  char    *down_dir;
  char    *state_file;
  char    *id;
  guint16  daemon_port;
  Tracker  tracker;
  Relay    relay;
} Crash;

static void
handle_line (Daemon     *d,
             const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *event, *data;
  const char *type, *hash;

  if (!json_parser_load_from_data (parser, line, -1, &error))
    g_test_message ("daemon %u printed a line that is not JSON: %s", d->run, line);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  event = json_node_get_object (json_parser_get_root (parser));
  type = json_object_get_string_member_with_default (event, "type", "");
  hash = json_object_get_string_member_with_default (event, "infoHash", NULL);
  g_assert_true (json_object_has_member (event, "timestamp"));
  g_assert_true (json_object_has_member (event, "data"));
  data = json_object_get_object_member (event, "data");
  g_assert_nonnull (data);

  if (g_str_equal (type, "daemon:ready"))
    d->ready = TRUE;
  else if (g_str_equal (type, "torrent:state") && g_strcmp0 (hash, d->id) == 0)
    {
      const char *to = json_object_get_string_member_with_default (data, "to", "");

      g_test_message ("daemon %u: %s → %s", d->run,
                      json_object_get_string_member_with_default (data, "from", ""), to);
      if (g_str_equal (to, "seeding"))
        d->seeding = TRUE;
    }
  else if (g_str_equal (type, "torrent:error") || g_str_equal (type, "state:problem"))
    {
      g_test_message ("daemon %u reported %s", d->run, line);
      d->problems++;
    }
}

static void
line_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Daemon *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);

  g_assert_no_error (error);
  if (line == NULL)
    {
      d->eof = TRUE;
      return;
    }
  handle_line (d, line);
  g_data_input_stream_read_line_async (d->out, G_PRIORITY_DEFAULT, NULL, line_cb, d);
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Daemon *d = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  d->exited = TRUE;
}

static void
child_setup (gpointer data)
{
#ifdef __linux__
  /* A failed assertion ends the test: the daemon goes with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static Daemon *
daemon_start (Crash *c,
              guint  run)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *port = g_strdup_printf ("%u", c->daemon_port);
  g_autofree char *log_name = g_strdup_printf ("daemon-%u.log", run);
  g_autofree char *log = g_build_filename (c->dir, log_name, NULL);
  g_autoptr(GError) error = NULL;
  Daemon *d = g_new0 (Daemon, 1);

  d->id = c->id;
  d->run = run;
  /* Warnings are the daemon's to print, not to die of. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_setenv (launcher, "DOWNLOAD_PATH", c->down_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "LISTEN_PORT", port, TRUE);
  g_subprocess_launcher_setenv (launcher, "STATE_SAVE_INTERVAL", "200", TRUE);
  g_subprocess_launcher_setenv (launcher, "SEED_RATIO_LIMIT", "0", TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  d->proc = g_subprocess_launcher_spawn (launcher, &error, te_test_cli_path (), "daemon",
                                         "--state-dir", c->state_dir,
                                         "--watch-dir", c->watch_dir, NULL);
  g_assert_no_error (error);
  d->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (d->proc));
  g_subprocess_wait_async (d->proc, NULL, exited_cb, d);
  g_data_input_stream_read_line_async (d->out, G_PRIORITY_DEFAULT, NULL, line_cb, d);
  wait_for_flag (&d->ready, WAIT_S, "daemon:ready");
  return d;
}

/* Waits for the process to end and its output to close. */
static void
daemon_reap (Daemon *d)
{
  wait_for_flag (&d->exited, WAIT_S, "the daemon to exit");
  wait_for_flag (&d->eof, WAIT_S, "the end of the daemon's output");
  g_assert_cmpuint (d->problems, ==, 0);
}

static void
daemon_free (Daemon *d)
{
  g_assert_true (d->exited && d->eof);
  g_clear_object (&d->out);
  g_clear_object (&d->proc);
  g_free (d);
}

/* The state file */

typedef struct {
  guint   completed;
  guint8  bits[BF_LEN];
  gint64  downloaded;
  char    state[32];
} Snapshot;

/* The state file as it is on disk; FALSE when there is none yet. What is
 * there must always be whole: a kill never leaves it torn. */
static gboolean
read_state (const char *path,
            Snapshot   *snap)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree guchar *bits = NULL;
  JsonObject *doc;
  gsize len = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  doc = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member_with_default (doc, "totalPieces", -1), ==, N_PIECES);
  g_assert_true (json_object_has_member (doc, "completedPieces"));
  bits = g_base64_decode (json_object_get_string_member_with_default (doc, "bitfield", ""), &len);
  g_assert_cmpuint (len, ==, BF_LEN);
  memcpy (snap->bits, bits, BF_LEN);
  snap->completed = (guint) json_object_get_int_member_with_default (doc, "completedPieces", -1);
  g_assert_cmpuint (snap->completed, ==, bits_count (snap->bits));
  snap->downloaded = json_object_get_int_member_with_default (doc, "downloadedBytes", -1);
  g_strlcpy (snap->state, json_object_get_string_member_with_default (doc, "state", ""),
             sizeof snap->state);
  return TRUE;
}


/* 15 % to 80 % of the pieces, in one band per kill so each lands later, and
 * always past what the last run recorded. */
static guint
pick_threshold (guint run,
                guint recorded)
{
  static const guint lo[N_KILLS] = { 15, 38, 61 };
  static const guint hi[N_KILLS] = { 33, 55, 76 };
  guint t = (guint) g_test_rand_int_range (lo[run], hi[run] + 1);

  return MIN (MAX (t, recorded + 4), N_PIECES - 8);
}

static TeMetainfo *
make_torrent (const char *path,
              const char *tracker)
{
  g_autoptr(TeCreator) creator = te_creator_new (path);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  const char *tier[] = { tracker, NULL };
  TeMetainfo *meta;

  te_creator_set_version (creator, TE_TORRENT_V1);
  te_creator_set_piece_size (creator, PIECE);
  te_creator_add_tracker_tier (creator, tier);
  bytes = te_test_create_torrent (creator, &error);
  g_assert_no_error (error);
  meta = te_metainfo_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  return meta;
}

static void
save_bytes (const char *path,
            GBytes     *bytes)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

static void
test_sigkill_resume (void)
{
  Crash c = { 0 };
  g_autofree char *payload = NULL, *downloaded = NULL, *torrent_file = NULL, *watched = NULL;
  g_autofree char *state_name = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) want = NULL, got = NULL;
  TeEngine *engine;
  TeTorrent *seeder;
  guint8 recorded[BF_LEN] = { 0 };
  guint8 all_sent[BF_LEN] = { 0 };
  gint64 recorded_downloaded = 0;
  guint wake;

  wake = g_timeout_add (20, wake_cb, NULL);
  c.dir = te_test_make_tmpdir ("crash");
  g_test_message ("Working in %s (daemon logs: daemon-N.log)", c.dir);
  c.seed_dir = g_build_filename (c.dir, "seed", NULL);
  c.state_dir = g_build_filename (c.dir, "state", NULL);
  c.watch_dir = g_build_filename (c.dir, "watch", NULL);
  c.down_dir = g_build_filename (c.dir, "down", NULL);
  payload = g_build_filename (c.seed_dir, "payload.bin", NULL);
  downloaded = g_build_filename (c.down_dir, "payload.bin", NULL);
  torrent_file = g_build_filename (c.dir, "payload.torrent", NULL);
  watched = g_build_filename (c.watch_dir, "payload.torrent", NULL);
  g_assert_cmpint (g_mkdir_with_parents (c.watch_dir, 0755), ==, 0);

  te_test_write_random (payload, (gsize) N_PIECES * PIECE, 0x5eed);
  crash_tracker_start (&c.tracker);
  meta = make_torrent (payload, c.tracker.url);
  g_assert_cmpuint (te_metainfo_get_n_pieces (meta), ==, N_PIECES);
  c.id = te_metainfo_dup_info_hash_hex (meta);
  state_name = g_strconcat (c.id, ".json", NULL);
  c.state_file = g_build_filename (c.state_dir, state_name, NULL);
  save_bytes (torrent_file, te_metainfo_get_torrent_bytes (meta));

  engine = te_test_new_engine (0, UPLOAD_LIMIT);
  seeder = te_engine_add_torrent (engine, meta, c.seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seeder, TE_TORRENT_STATE_SEEDING);

  crash_relay_start (&c.relay, te_engine_get_port (engine));
  c.tracker.seeder_port = te_engine_get_port (engine);
  c.tracker.relay_port = c.relay.port;
  c.daemon_port = te_test_free_port ();

  /* Added once, through the watch folder; every later run restores it. */
  save_bytes (watched, te_metainfo_get_torrent_bytes (meta));

  for (guint run = 0; run < N_RUNS; run++)
    {
      guint8 before[BF_LEN];
      guint n_before = bits_count (recorded);
      guint threshold = 0;
      guint64 up_start, up_end, bound;
      gint64 min_downloaded = G_MAXINT64;
      g_autofree char *overlap_list = NULL;
      guint8 overlap[BF_LEN];
      gboolean overlapping = FALSE;
      TeTorrentStats s;
      Snapshot snap, last = { 0 };
      Daemon *d;

      memcpy (before, recorded, BF_LEN);
      memcpy (last.bits, recorded, BF_LEN);
      te_torrent_get_stats (seeder, &s);
      up_start = s.uploaded;
      c.relay.run = run;
      d = daemon_start (&c, run);

      if (run < N_KILLS)
        {
          gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
          gboolean reached = FALSE;

          threshold = pick_threshold (run, n_before);
          /* Every state seen from now on holds at least what was recorded,
           * and only grows. */
          while (!reached && g_get_monotonic_time () < deadline)
            {
              spin (50);
              if (!read_state (c.state_file, &snap))
                continue;
              g_assert_true (bits_covers (snap.bits, last.bits));
              min_downloaded = MIN (min_downloaded, snap.downloaded);
              last = snap;
              reached = snap.completed >= threshold;
            }
          if (!reached)
            g_test_message ("Run %u: timed out waiting for %u pieces in the state file (it has %u)",
                            run, threshold, last.completed);
          g_assert_true (reached);
          g_assert_false (d->exited);
          g_subprocess_send_signal (d->proc, SIGKILL);
          daemon_reap (d);
          g_assert_true (g_subprocess_get_if_signaled (d->proc));
          g_assert_cmpint (g_subprocess_get_term_sig (d->proc), ==, SIGKILL);
        }
      else
        {
          wait_for_flag (&d->seeding, FINISH_S, "the download to complete");
          g_subprocess_send_signal (d->proc, SIGTERM);
          daemon_reap (d);
          if (g_subprocess_get_if_signaled (d->proc))
            g_test_message ("Run %u: the daemon died of signal %d on SIGTERM (see daemon-%u.log)",
                            run, g_subprocess_get_term_sig (d->proc), run);
          g_assert_true (g_subprocess_get_if_exited (d->proc));
          g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
        }
      daemon_free (d);

      /* The seeder has seen the connections go. */
      wait_until (crash_relay_idle, &c.relay, WAIT_S, "the relay's connections to close");
      spin (200);
      te_torrent_get_stats (seeder, &s);
      up_end = s.uploaded;

      /* The state the next run starts from: whole, and not behind. */
      g_assert_true (read_state (c.state_file, &snap));
      g_assert_true (bits_covers (snap.bits, before));
      min_downloaded = MIN (min_downloaded, snap.downloaded);
      memcpy (recorded, snap.bits, BF_LEN);

      /* No piece recorded before this run was sent again in it. */
      for (guint i = 0; i < BF_LEN; i++)
        {
          overlap[i] = c.relay.sent[run][i] & before[i];
          overlapping |= overlap[i] != 0;
          all_sent[i] |= c.relay.sent[run][i];
        }
      overlap_list = bits_list (overlap);
      bound = (guint64) (N_PIECES - n_before + 2) * PIECE;
      g_test_message ("Run %u: %s at %u pieces; recorded %u before, %u after; "
                      "seeder sent %" G_GUINT64_FORMAT " bytes (bound %" G_GUINT64_FORMAT "), "
                      "the relay saw %" G_GUINT64_FORMAT " bytes of %u pieces over %u connection(s); "
                      "recorded pieces sent again: %s; downloadedBytes %" G_GINT64_FORMAT
                      " → %" G_GINT64_FORMAT " (lowest seen %" G_GINT64_FORMAT ")",
                      run, run < N_KILLS ? "killed" : "finished",
                      run < N_KILLS ? threshold : N_PIECES, n_before, snap.completed,
                      up_end - up_start, bound, c.relay.payload[run],
                      bits_count (c.relay.sent[run]), c.relay.n_accepted[run],
                      overlapping ? overlap_list : "none",
                      recorded_downloaded, snap.downloaded, min_downloaded);
      /* The restart keeps the totals too. */
      g_assert_cmpint (min_downloaded, >=, recorded_downloaded);
      recorded_downloaded = snap.downloaded;

      g_assert_cmpuint (c.relay.n_accepted[run], >, 0);
      g_assert_false (overlapping);
      g_assert_cmpuint (up_end - up_start, <=, bound);
      /* Everything the seeder sent went through the relay (what it queued
       * for a connection that was then cut never arrived there). */
      g_assert_cmpuint (c.relay.payload[run], <=, up_end - up_start);
      if (run == N_KILLS)
        g_assert_cmpuint (c.relay.payload[run], ==, up_end - up_start);
      if (run < N_KILLS)
        g_assert_cmpuint (snap.completed, >=, threshold);
      else
        {
          g_assert_cmpuint (snap.completed, ==, N_PIECES);
          g_assert_cmpstr (snap.state, ==, "seeding");
        }
    }

  /* Every piece came from the seeder at some point, and the data is right. */
  g_assert_cmpuint (bits_count (all_sent), ==, N_PIECES);
  want = te_test_read_file (payload);
  got = te_test_read_file (downloaded);
  g_assert_cmpuint (g_bytes_get_size (got), ==, g_bytes_get_size (want));
  g_assert_true (g_bytes_equal (got, want));
  g_assert_cmpuint (c.tracker.n_answered, >=, N_RUNS);

  te_engine_stop (engine);
  te_test_finalize_object (engine);
  crash_relay_stop (&c.relay);
  crash_tracker_stop (&c.tracker);
  g_source_remove (wake);
  te_test_rm_rf (c.dir);
  g_free (c.dir);
  g_free (c.seed_dir);
  g_free (c.state_dir);
  g_free (c.watch_dir);
  g_free (c.down_dir);
  g_free (c.state_file);
  g_free (c.id);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/crash/sigkill-resume", test_sigkill_resume);

  return g_test_run ();
}
