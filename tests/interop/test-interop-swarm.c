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
#define PYTHON             "/usr/bin/python3"
#define TMP_ENV            "TE_SWARM_TMP"
#define KEEP_ENV           "TE_SWARM_KEEP"   /* set it to keep the folders */
#define DOWNLOAD_TIMEOUT_S 90
#define READY_TIMEOUT_S    60
#define STOP_TIMEOUT_S     10
#define SCENARIO_TIMEOUT_S 300
#define LOG_TAIL           3000

typedef struct
{
  const char *path;
  gsize       size;
} PayloadFile;

/* Multi-file, with sizes off block and piece boundaries. */
static const PayloadFile payload_files[] = {
  { "payload/movie.bin", (4 << 20) + 4321 },
  { "payload/extras/one.bin", 1500000 },
  { "payload/extras/deep/two.bin", (1 << 20) - 1 },
  { "payload/extras/deep/tiny.txt", 777 },
  { "payload/readme.txt", 16385 },
};

typedef struct
{
  char        *name;
  char        *out_path;
  char        *err_path;
  GSubprocess *proc;
  gboolean     exited;
  int          status;
} Proc;

typedef struct
{
  char      *tmp;
  char      *logs;
  GPtrArray *procs;
} Fixture;

/* Output */

static void
note (const char *format,
      ...) G_GNUC_PRINTF (1, 2);

static void
note (const char *format,
      ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("# %s\n", text);
}

static char *
read_text (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

/* The last LOG_TAIL bytes of @text, from a character boundary. */
static const char *
tail (const char *text)
{
  gsize len = strlen (text);
  const char *start = len > LOG_TAIL ? text + len - LOG_TAIL : text;

  while ((*start & 0xc0) == 0x80)
    start++;
  return start;
}

/* Processes: each one's stdout and stderr go to files in logs/, which the
 * scenario reads as they grow, and its id and start time to the file pids,
 * for the parent to find any that outlived the scenario. */

/* Field 22 of /proc/@pid/stat, the start time, which tells a process from
 * a later one that got its id; NULL when it is gone or a zombie. */
static char *
process_start_time (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *end_of_name;

  if (!g_file_get_contents (path, &stat, NULL, NULL)
      || (end_of_name = strrchr (stat, ')')) == NULL)
    return NULL;
  /* From field 3, the state, on. */
  fields = g_strsplit (end_of_name + 2, " ", -1);
  if (g_strv_length (fields) < 20 || g_str_equal (fields[0], "Z"))
    return NULL;
  return g_strdup (fields[19]);
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
proc_exited_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Proc *p = user_data;
  GSubprocess *proc = G_SUBPROCESS (source);

  g_subprocess_wait_finish (proc, result, NULL);
  p->exited = TRUE;
  p->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
}

static void
record_pid (Fixture    *f,
            const char *pid)
{
  g_autofree char *path = g_build_filename (f->tmp, "pids", NULL);
  g_autofree char *start = process_start_time (pid);
  FILE *file;

  if (start == NULL)
    return;  /* gone already */
  file = fopen (path, "a");
  g_assert_nonnull (file);
  fprintf (file, "%s %s\n", pid, start);
  g_assert_cmpint (fclose (file), ==, 0);
}

static Proc *
proc_start (Fixture            *f,
            const char         *name,
            const char * const *argv,
            const char         *cwd)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
  g_autofree char *base = g_strdup_printf ("%02u-%s", f->procs->len, name);
  Proc *p = g_new0 (Proc, 1);

  p->name = g_strdup (name);
  p->out_path = g_strdup_printf ("%s/%s.out", f->logs, base);
  p->err_path = g_strdup_printf ("%s/%s.err", f->logs, base);
  g_subprocess_launcher_set_stdout_file_path (launcher, p->out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, p->err_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);

  note ("%s: %s", name, cmd);
  p->proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (p->proc, NULL, proc_exited_cb, p);
  record_pid (f, g_subprocess_get_identifier (p->proc));
  g_ptr_array_add (f->procs, p);
  return p;
}

static gboolean
wake_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context (in-process servers, exit watches) for @ms. */
static void
spin (guint ms)
{
  gboolean woke = FALSE;

  g_timeout_add (ms, wake_cb, &woke);
  while (!woke)
    g_main_context_iteration (NULL, TRUE);
}

static gint64
deadline_after (guint seconds)
{
  return g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
}

/* SIGTERM, then SIGKILL if @p is still there after STOP_TIMEOUT_S; returns
 * its exit status (-1 when a signal ended it). */
static int
proc_stop (Proc *p)
{
  gint64 deadline = deadline_after (STOP_TIMEOUT_S);

  if (!p->exited)
    g_subprocess_send_signal (p->proc, SIGTERM);
  while (!p->exited && g_get_monotonic_time () < deadline)
    spin (50);
  if (!p->exited)
    {
      note ("%s: still running %u s after SIGTERM; killing it", p->name, STOP_TIMEOUT_S);
      g_subprocess_force_exit (p->proc);
      while (!p->exited)
        spin (50);
    }
  return p->status;
}

/* The exit status, or -2 when @p was still running after @timeout_s (it is
 * then stopped). */
static int
proc_wait (Proc  *p,
           guint  timeout_s)
{
  gint64 deadline = deadline_after (timeout_s);

  while (!p->exited && g_get_monotonic_time () < deadline)
    spin (50);
  if (p->exited)
    return p->status;

  note ("%s: still running after %u s; stopping it", p->name, timeout_s);
  proc_stop (p);
  return -2;
}

static char *
proc_stdout (Proc *p)
{
  return read_text (p->out_path);
}

static char *
proc_stderr (Proc *p)
{
  return read_text (p->err_path);
}

/* The last JSON line on @p's stdout whose "event" is @event, or NULL. */
static JsonObject *
proc_event (Proc       *p,
            const char *event)
{
  g_autofree char *out = proc_stdout (p);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  JsonObject *found = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (lines[i][0] != '{' || !json_parser_load_from_data (parser, lines[i], -1, NULL))
        continue;
      root = json_parser_get_root (parser);
      if (!JSON_NODE_HOLDS_OBJECT (root)
          || g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (root),
                                                                    "event", ""), event) != 0)
        continue;
      g_clear_pointer (&found, json_object_unref);
      found = json_object_ref (json_node_get_object (root));
    }
  return found;
}

static JsonObject *
proc_wait_event (Proc       *p,
                 const char *event,
                 guint       timeout_s)
{
  gint64 deadline = deadline_after (timeout_s);
  JsonObject *obj;

  while ((obj = proc_event (p, event)) == NULL && !p->exited
         && g_get_monotonic_time () < deadline)
    spin (100);
  if (obj == NULL)
    obj = proc_event (p, event);
  if (obj == NULL)
    note ("%s: no \"%s\" line (%s)", p->name, event, p->exited ? "it exited" : "timed out");
  return obj;
}

static gboolean
proc_wait_stderr (Proc       *p,
                  const char *needle,
                  guint       timeout_s)
{
  gint64 deadline = deadline_after (timeout_s);

  for (;;)
    {
      g_autofree char *err = proc_stderr (p);
      gboolean exited = p->exited;

      if (strstr (err, needle) != NULL)
        return TRUE;
      if (exited || g_get_monotonic_time () >= deadline)
        {
          note ("%s: never printed “%s”", p->name, needle);
          return FALSE;
        }
      spin (100);
    }
}

/* Fixture: the folder comes from the parent process. */

static void
fixture_init (Fixture *f)
{
  const char *tmp = g_getenv (TMP_ENV);

  g_assert_nonnull (tmp);
  f->tmp = g_strdup (tmp);
  f->logs = g_build_filename (tmp, "logs", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->logs, 0755), ==, 0);
  f->procs = g_ptr_array_new ();
}

static void
fixture_finish (Fixture *f)
{
  /* Newest first: leechers before seeders before trackers. */
  for (guint i = f->procs->len; i > 0; i--)
    proc_stop (g_ptr_array_index (f->procs, i - 1));
  for (guint i = 0; i < f->procs->len; i++)
    {
      Proc *p = g_ptr_array_index (f->procs, i);

      g_object_unref (p->proc);
      g_free (p->name);
      g_free (p->out_path);
      g_free (p->err_path);
      g_free (p);
    }
  g_ptr_array_unref (f->procs);
  g_free (f->logs);
  g_free (f->tmp);
}

static char *
fixture_path (Fixture    *f,
              const char *name)
{
  return g_build_filename (f->tmp, name, NULL);
}

static void
flush_status_run (GString   *out,
                  GPtrArray *run)
{
  for (guint i = 0; i < run->len; i++)
    {
      if (run->len > 3 && i == 1)
        {
          g_string_append_printf (out, "… %u more status lines\n", run->len - 3);
          i = run->len - 2;
        }
      g_string_append_printf (out, "%s\n", (char *) run->pdata[i]);
    }
  g_ptr_array_set_size (run, 0);
}

/* @text with runs of per-second status lines (ours, aria2's) cut short. */
static char *
collapse_status_lines (const char *text)
{
  g_autoptr(GRegex) status = g_regex_new ("^(\\S+ +[0-9.]+%|\\[#| \\*\\*\\* Download Progress)",
                                          0, 0, NULL);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GPtrArray) run = g_ptr_array_new ();
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_regex_match (status, lines[i], 0, NULL))
        {
          g_ptr_array_add (run, lines[i]);
          continue;
        }
      flush_status_run (out, run);
      g_string_append_printf (out, "%s\n", lines[i]);
    }
  flush_status_run (out, run);
  return g_string_free (out, FALSE);
}

/* Every log, for a failed scenario. */
static void
dump_logs (const char *tmp)
{
  g_autofree char *logs = g_build_filename (tmp, "logs", NULL);
  g_autoptr(GPtrArray) files = te_test_list_tree (logs);

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = g_build_filename (logs, files->pdata[i], NULL);
      g_autofree char *text = read_text (path);
      g_autofree char *short_text = collapse_status_lines (text);

      if (*text == '\0')
        continue;
      g_printerr ("==== %s (last %d bytes) ====\n%s\n", (char *) files->pdata[i], LOG_TAIL,
                  tail (short_text));
    }
}

/* Small tools */

static void
require_program (const char *program)
{
  if (!te_test_have_program (program))
    note ("%s is missing: install it to run the interop tests", program);
  g_assert_true (te_test_have_program (program));
}

static void
require_python (void)
{
  const char *argv[] = { PYTHON, "-c", "import libtorrent", NULL };
  gboolean ok = g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE) && te_test_run (argv, NULL, NULL) == 0;

  if (!ok)
    note ("%s cannot import libtorrent: install python3-libtorrent", PYTHON);
  g_assert_true (ok);
}

static const char *
script_path (const char *name)
{
  const char *path = g_test_get_filename (G_TEST_DIST, "interop", name, NULL);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  return path;
}

static void
run_ok (const char * const *argv)
{
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
  g_autofree char *err = NULL;
  int status;

  note ("running: %s", cmd);
  status = te_test_run (argv, NULL, &err);
  if (status != 0)
    note ("exit status %d; stderr: %s", status, err);
  g_assert_cmpint (status, ==, 0);
}

/* A port that is free for TCP (and UDP, when asked) on 127.0.0.1 right now. */
static guint16
free_port (gboolean udp_too)
{
  for (guint attempt = 0; attempt < 20; attempt++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
      g_autoptr(GSocket) tcp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, &error);
      g_autoptr(GSocketAddress) bound = NULL;
      g_autoptr(GSocket) udp = NULL;
      g_autoptr(GSocketAddress) same = NULL;
      guint16 port;

      g_assert_no_error (error);
      g_socket_bind (tcp, any, FALSE, &error);
      g_assert_no_error (error);
      bound = g_socket_get_local_address (tcp, &error);
      g_assert_no_error (error);
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
      if (!udp_too)
        return port;

      udp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                          &error);
      g_assert_no_error (error);
      same = g_inet_socket_address_new (lo, port);
      if (g_socket_bind (udp, same, FALSE, NULL))
        return port;
    }
  g_assert_not_reached ();
}

static void
write_payload (const char *dir,
               guint32     seed)
{
  for (guint i = 0; i < G_N_ELEMENTS (payload_files); i++)
    {
      g_autofree char *path = g_build_filename (dir, payload_files[i].path, NULL);

      te_test_write_random (path, payload_files[i].size, seed + i);
    }
}

/* @actual holds exactly the files of @expected, byte for byte. */
static void
assert_same_tree (const char *expected,
                  const char *actual)
{
  g_autoptr(GPtrArray) want = te_test_list_tree (expected);
  g_autoptr(GPtrArray) got = te_test_list_tree (actual);
  g_autofree char *want_list = NULL;
  g_autofree char *got_list = NULL;

  g_ptr_array_add (want, NULL);
  g_ptr_array_add (got, NULL);
  want_list = g_strjoinv (" ", (char **) want->pdata);
  got_list = g_strjoinv (" ", (char **) got->pdata);
  g_assert_cmpstr (got_list, ==, want_list);

  for (guint i = 0; want->pdata[i] != NULL; i++)
    {
      g_autofree char *a = g_build_filename (expected, want->pdata[i], NULL);
      g_autofree char *b = g_build_filename (actual, want->pdata[i], NULL);
      g_autoptr(GBytes) da = te_test_read_file (a);
      g_autoptr(GBytes) db = te_test_read_file (b);

      if (!g_bytes_equal (da, db))
        note ("%s differs from %s", b, a);
      g_assert_true (g_bytes_equal (da, db));
    }
}

/* `torrentedge-cli info --json` of @torrent. */
static JsonObject *
te_info (const char *torrent)
{
  const char *argv[] = { te_test_cli_path (), "info", torrent, "--json", NULL };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  JsonNode *root;

  g_assert_cmpint (te_test_run (argv, &out, NULL), ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static char *
info_hash (const char *torrent)
{
  g_autoptr(JsonObject) info = te_info (torrent);

  g_assert_nonnull (json_object_get_string_member_with_default (info, "infoHash", NULL));
  return g_strdup (json_object_get_string_member (info, "infoHash"));
}

/* TorrentEdge */

static Proc *
te_start (Fixture            *f,
          const char         *name,
          const char         *command,
          const char         *source,
          const char         *dir,
          const char * const *extra)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;

  g_strv_builder_add_many (b, te_test_cli_path (), command, source, NULL);
  if (g_str_equal (command, "download"))
    g_strv_builder_add_many (b, "-o", dir, NULL);
  else
    g_strv_builder_add (b, dir);
  g_strv_builder_add_many (b, "--port", "0", NULL);
  if (extra != NULL)
    g_strv_builder_addv (b, (const char **) extra);
  argv = g_strv_builder_end (b);
  return proc_start (f, name, (const char * const *) argv, NULL);
}

/* The port TorrentEdge listens on, from “… on port N”. */
static guint16
te_port (Proc *p)
{
  g_autofree char *err = NULL;
  const char *at;

  g_assert_true (proc_wait_stderr (p, " on port ", READY_TIMEOUT_S));
  err = proc_stderr (p);
  at = strstr (err, " on port ") + strlen (" on port ");
  return (guint16) g_ascii_strtoull (at, NULL, 10);
}

/* Waits for a download to exit 0, with the data complete. */
static void
te_assert_completes (Proc  *p,
                     guint  timeout_s)
{
  int status = proc_wait (p, timeout_s);

  if (status != 0)
    {
      g_autofree char *err = proc_stderr (p);

      note ("%s exited with %d; stderr ends:\n%s", p->name, status, tail (err));
    }
  g_assert_cmpint (status, ==, 0);
}

/* A figure from the “Summary: …” line download and seed print at exit,
 * named by the words before it (“PEX sent”, “hash failures”). */
static gint64
te_summary_figure (Proc       *p,
                   const char *label)
{
  g_autofree char *err = proc_stderr (p);
  g_autofree char *needle = g_strdup_printf (" %s ", label);
  const char *line = strstr (err, "Summary: ");
  const char *at;

  if (line == NULL)
    note ("%s printed no summary", p->name);
  g_assert_nonnull (line);
  at = strstr (line, needle);
  if (at == NULL)
    note ("%s: no “%s” in its summary", p->name, label);
  g_assert_nonnull (at);
  return g_ascii_strtoll (at + strlen (needle), NULL, 10);
}

/* libtorrent */

static void
lt_create (const char *src,
           const char *out,
           const char *kind,
           guint       piece_size,
           const char *tracker)
{
  g_autofree char *size = g_strdup_printf ("%u", piece_size);
  const char *argv[] = { PYTHON, script_path ("lt-tool.py"), "create", src, out, kind,
                         "--piece-size", size, tracker ? "--tracker" : NULL, tracker, NULL };

  run_ok (argv);
}

static Proc *
lt_start (Fixture            *f,
          const char         *name,
          const char         *command,
          const char         *torrent,
          const char         *dir,
          const char * const *extra)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;

  g_strv_builder_add_many (b, PYTHON, script_path ("lt-peer.py"), command, torrent, dir,
                           "--port", "0", NULL);
  if (extra != NULL)
    g_strv_builder_addv (b, (const char **) extra);
  argv = g_strv_builder_end (b);
  return proc_start (f, name, (const char * const *) argv, NULL);
}

/* The port of a peer script that printed {"event": "ready", "port": N}. */
static guint16
wait_ready_port (Proc *p)
{
  g_autoptr(JsonObject) ready = proc_wait_event (p, "ready", READY_TIMEOUT_S);

  g_assert_nonnull (ready);
  return (guint16) json_object_get_int_member (ready, "port");
}

/* The peers in an lt-peer.py summary whose peer id starts with @prefix. */
static void
lt_peer_totals (JsonObject *summary,
                const char *prefix,
                gint64     *blocks_from,
                gint64     *pex_received)
{
  JsonArray *peers = json_object_get_array_member (summary, "peers");

  *blocks_from = *pex_received = 0;
  for (guint i = 0; i < json_array_get_length (peers); i++)
    {
      JsonObject *peer = json_array_get_object_element (peers, i);
      const char *pid = json_object_get_string_member_with_default (peer, "pid_text", NULL);

      if (pid == NULL || !g_str_has_prefix (pid, prefix))
        continue;
      *blocks_from += json_object_get_int_member (peer, "blocks_from");
      *pex_received += json_object_get_int_member (peer, "pex_received");
    }
}

/* Trackers, seen from outside */

/* The body of http://127.0.0.1:@port@path_query, or NULL. */
static GByteArray *
tracker_get (guint16     port,
             const char *path_query)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                                              path_query);
  GByteArray *reply = g_byte_array_new ();
  guint8 buf[4096];
  gssize n;

  g_socket_client_set_timeout (client, 5);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (conn == NULL
      || !g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                                     request, strlen (request), NULL, NULL, NULL))
    {
      g_byte_array_unref (reply);
      return NULL;
    }
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)),
                                   buf, sizeof buf, NULL, NULL)) > 0)
    g_byte_array_append (reply, buf, n);
  g_byte_array_append (reply, (const guint8 *) "", 1);
  return reply;
}

static char *
percent_encode_hex (const char *hex)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    g_string_append_printf (s, "%%%c%c", hex[i], hex[i + 1]);
  return g_string_free (s, FALSE);
}

/* TRUE once the tracker serves @hash: it reads its whitelist on a thread of
 * its own, so the first announces may be refused. A "stopped" announce
 * leaves no peer behind. */
static gboolean
tracker_accepts (guint16     port,
                 const char *hash)
{
  g_autofree char *encoded = percent_encode_hex (hash);
  g_autofree char *query = g_strdup_printf ("/announce?info_hash=%s&peer_id=-XX0000-probeprobe12"
                                            "&port=9&uploaded=0&downloaded=0&left=0&compact=1"
                                            "&event=stopped", encoded);
  g_autoptr(GByteArray) reply = tracker_get (port, query);

  return reply != NULL && strstr ((const char *) reply->data, "\r\n\r\nd") != NULL
         && strstr ((const char *) reply->data, "failure reason") == NULL;
}

/* The "complete" count in the tracker's scrape for @hash, or -1. */
static gint64
tracker_seeders (guint16     port,
                 const char *hash)
{
  g_autofree char *encoded = percent_encode_hex (hash);
  g_autofree char *query = g_strdup_printf ("/scrape?info_hash=%s", encoded);
  g_autoptr(GByteArray) reply = tracker_get (port, query);
  const char *at;

  if (reply == NULL)
    return -1;
  at = strstr ((const char *) reply->data, "8:completei");
  return at ? g_ascii_strtoll (at + strlen ("8:completei"), NULL, 10) : -1;
}

/* opentracker: Debian builds it whitelist-only, so the info-hashes go into a
 * whitelist named by a config file. It chroots into its folder when started
 * as root, so the config names the whitelist relative to it. */

static void
opentracker_start (Fixture    *f,
                   guint16     port,
                   const char *hash)
{
  g_autofree char *dir = fixture_path (f, "opentracker");
  g_autofree char *whitelist = g_build_filename (dir, "whitelist.txt", NULL);
  g_autofree char *config = g_build_filename (dir, "opentracker.conf", NULL);
  g_autofree char *list = g_strdup_printf ("%s\n", hash);
  g_autofree char *conf = g_strdup_printf ("listen.tcp_udp 127.0.0.1:%u\n"
                                           "access.whitelist whitelist.txt\n"
                                           "tracker.rootdir %s\n", port, dir);
  const char *argv[] = { "opentracker", "-f", config, NULL };
  g_autoptr(GError) error = NULL;
  gint64 deadline = deadline_after (READY_TIMEOUT_S);
  Proc *p;

  require_program ("opentracker");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_file_set_contents (whitelist, list, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (config, conf, -1, &error);
  g_assert_no_error (error);
  p = proc_start (f, "opentracker", argv, dir);

  while (!tracker_accepts (port, hash))
    {
      if (p->exited || g_get_monotonic_time () >= deadline)
        note ("opentracker never accepted announces for %s", hash);
      g_assert_false (p->exited);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      spin (50);
    }
}

static void
wait_for_seeder (guint16     port,
                 const char *hash)
{
  gint64 deadline = deadline_after (READY_TIMEOUT_S);

  while (tracker_seeders (port, hash) < 1)
    {
      if (g_get_monotonic_time () >= deadline)
        note ("the tracker never listed a seeder for %s", hash);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      spin (250);
    }
}

/* Scenarios */

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
    spin (100);
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
static guint
signal_leftovers (char **lines,
                  int    sig)
{
  guint alive = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 2);
      g_autofree char *start = NULL;

      if (g_strv_length (fields) != 2 || (start = process_start_time (fields[0])) == NULL
          || !g_str_equal (start, fields[1]))
        continue;
      alive++;
      if (sig != 0)
        kill ((pid_t) g_ascii_strtoll (fields[0], NULL, 10), sig);
    }
  return alive;
}

/* The peers a scenario started get SIGTERM when it dies (PR_SET_PDEATHSIG),
 * but a process that changes its user id, as opentracker does when started
 * as root, loses that setting: stop whatever is left of them, by id. */
static void
stop_leftovers (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "pids", NULL);
  g_autofree char *text = read_text (path);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  static const int signals[] = { SIGTERM, SIGKILL };

  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      gint64 deadline = deadline_after (STOP_TIMEOUT_S);

      if (signal_leftovers (lines, signals[i]) == 0)
        return;
      while (signal_leftovers (lines, 0) > 0 && g_get_monotonic_time () < deadline)
        g_usleep (G_USEC_PER_SEC / 10);
    }
}

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
