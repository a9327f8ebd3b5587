/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-interop-harness"

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

#include "te-interop-harness.h"
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

/* Multi-file, with sizes off block and piece boundaries. */
const PayloadFile payload_files[] = {
  { "payload/movie.bin", (4 << 20) + 4321 },
  { "payload/extras/one.bin", 1500000 },
  { "payload/extras/deep/two.bin", (1 << 20) - 1 },
  { "payload/extras/deep/tiny.txt", 777 },
  { "payload/readme.txt", 16385 },
};

/* Output */


void
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
const char *
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

Proc *
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


gint64
deadline_after (guint seconds)
{
  return g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
}

/* SIGTERM, then SIGKILL if @p is still there after STOP_TIMEOUT_S; returns
 * its exit status (-1 when a signal ended it). */
int
proc_stop (Proc *p)
{
  gint64 deadline = deadline_after (STOP_TIMEOUT_S);

  if (!p->exited)
    g_subprocess_send_signal (p->proc, SIGTERM);
  while (!p->exited && g_get_monotonic_time () < deadline)
    te_test_spin (50);
  if (!p->exited)
    {
      note ("%s: still running %u s after SIGTERM; killing it", p->name, STOP_TIMEOUT_S);
      g_subprocess_force_exit (p->proc);
      while (!p->exited)
        te_test_spin (50);
    }
  return p->status;
}

/* The exit status, or -2 when @p was still running after @timeout_s (it is
 * then stopped). */
int
proc_wait (Proc  *p,
           guint  timeout_s)
{
  gint64 deadline = deadline_after (timeout_s);

  while (!p->exited && g_get_monotonic_time () < deadline)
    te_test_spin (50);
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

char *
proc_stderr (Proc *p)
{
  return read_text (p->err_path);
}

/* The last JSON line on @p's stdout whose "event" is @event, or NULL. */
JsonObject *
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
    te_test_spin (100);
  if (obj == NULL)
    obj = proc_event (p, event);
  if (obj == NULL)
    note ("%s: no \"%s\" line (%s)", p->name, event, p->exited ? "it exited" : "timed out");
  return obj;
}

gboolean
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
      te_test_spin (100);
    }
}

/* Fixture: the folder comes from the parent process. */

void
fixture_init (Fixture *f)
{
  const char *tmp = g_getenv (TMP_ENV);

  g_assert_nonnull (tmp);
  f->tmp = g_strdup (tmp);
  f->logs = g_build_filename (tmp, "logs", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->logs, 0755), ==, 0);
  f->procs = g_ptr_array_new ();
}

void
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

char *
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
void
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

void
require_program (const char *program)
{
  if (!te_test_have_program (program))
    note ("%s is missing: install it to run the interop tests", program);
  g_assert_true (te_test_have_program (program));
}

void
require_python (void)
{
  const char *argv[] = { PYTHON, "-c", "import libtorrent", NULL };
  gboolean ok = g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE) && te_test_run (argv, NULL, NULL) == 0;

  if (!ok)
    note ("%s cannot import libtorrent: install python3-libtorrent", PYTHON);
  g_assert_true (ok);
}

const char *
script_path (const char *name)
{
  const char *path = g_test_get_filename (G_TEST_DIST, "interop", name, NULL);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  return path;
}

void
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
guint16
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

void
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
void
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
JsonObject *
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

char *
info_hash (const char *torrent)
{
  g_autoptr(JsonObject) info = te_info (torrent);

  g_assert_nonnull (json_object_get_string_member_with_default (info, "infoHash", NULL));
  return g_strdup (json_object_get_string_member (info, "infoHash"));
}

/* TorrentEdge */

Proc *
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
guint16
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
void
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
gint64
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

void
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

Proc *
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
guint16
wait_ready_port (Proc *p)
{
  g_autoptr(JsonObject) ready = proc_wait_event (p, "ready", READY_TIMEOUT_S);

  g_assert_nonnull (ready);
  return (guint16) json_object_get_int_member (ready, "port");
}

/* The peers in an lt-peer.py summary whose peer id starts with @prefix. */
void
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

void
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
      te_test_spin (50);
    }
}

void
wait_for_seeder (guint16     port,
                 const char *hash)
{
  gint64 deadline = deadline_after (READY_TIMEOUT_S);

  while (tracker_seeders (port, hash) < 1)
    {
      if (g_get_monotonic_time () >= deadline)
        note ("the tracker never listed a seeder for %s", hash);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      te_test_spin (250);
    }
}

/* Scenarios */


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
void
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
