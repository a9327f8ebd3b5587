/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "te-auth.h"
#include "te-engine.h"
#include "te-service.h"
#include "te-test-utils.h"
#include "te-torrent.h"

/* Debian's transmission-remote (3.00) against the service on loopback, with
 * its router and its basic authentication, in the form people type
 * ("transmission-remote HOST:PORT", which posts to /transmission/rpc/);
 * each command checked on the engine, not only in its output. */

#define PIECE (32 * 1024)
#define REMOTE "transmission-remote"

typedef struct {
  char              *dir;
  char              *payload;       /* dir/payload: a.bin, sub/b.bin */
  char              *torrent_path;  /* dir/payload.torrent */
  TeMetainfo        *meta;
  TeEngine          *engine;
  TeService         *service;
  gboolean           auth_test;     /* the test passes --auth itself */
  char              *address;       /* 127.0.0.1:port */
} Fixture;

#define CREDENTIALS "user:secret"

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *a = NULL, *b = NULL;
  g_autoptr(GError) error = NULL;
  TeServiceConfig config;
  GBytes *bytes;

  g_assert_true (te_test_have_program (REMOTE));
  f->dir = te_test_make_tmpdir ("te-remote");
  f->payload = g_build_filename (f->dir, "payload", NULL);
  a = g_build_filename (f->payload, "a.bin", NULL);
  b = g_build_filename (f->payload, "sub", "b.bin", NULL);
  te_test_write_random (a, 20 * PIECE + 5, 11);
  te_test_write_random (b, 3 * PIECE, 12);
  f->meta = te_test_make_torrent (f->payload, TE_TORRENT_V1, PIECE);
  f->torrent_path = g_build_filename (f->dir, "payload.torrent", NULL);
  bytes = te_metainfo_get_torrent_bytes (f->meta);
  g_assert_true (g_file_set_contents (f->torrent_path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));
  g_assert_no_error (error);

  f->engine = te_test_new_engine (0, 0);
  /* Paths from the remote API must lie in the allowed roots: here, the
   * test's folder. */
  {
    TeEngineSettings settings;

    te_engine_settings_copy (&settings, te_engine_get_settings (f->engine));
    g_strfreev (settings.allowed_paths);
    settings.allowed_paths = g_strsplit (f->dir, "\n", -1);
    te_engine_set_settings (f->engine, &settings);
    te_engine_settings_clear (&settings);
  }
  f->auth_test = GPOINTER_TO_INT (data);
  te_service_config_init (&config);
  config.port = 0;
  config.username = g_strdup ("user");
  config.password_hash = te_auth_hash_password ("secret");
  f->service = te_service_new (f->engine, &config);
  te_service_config_clear (&config);
  g_assert_true (te_service_start (f->service, &error));
  g_assert_no_error (error);
  f->address = g_strdup_printf ("127.0.0.1:%u", te_service_get_port (f->service));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  te_service_stop (f->service);
  g_assert_finalize_object (g_steal_pointer (&f->service));
  GPtrArray *torrents = te_engine_get_torrents (f->engine);

  /* A data check still running when the engine goes would outlive it. */
  for (guint i = 0; i < torrents->len; i++)
    while (te_torrent_get_state (g_ptr_array_index (torrents, i)) == TE_TORRENT_STATE_CHECKING)
      g_main_context_iteration (NULL, TRUE);
  te_engine_stop (f->engine);
  te_test_finalize_object (g_steal_pointer (&f->engine));
  g_clear_object (&f->meta);
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->payload);
  g_free (f->torrent_path);
  g_free (f->address);
}

typedef struct {
  gboolean  done;
  char     *out;
  char     *err;
} Run;

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err, &error);
  g_assert_no_error (error);
  run->done = TRUE;
}

static gboolean
expired_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs transmission-remote with @first and the arguments after it while the
 * main loop serves it; returns its exit status, its output in @out. */
static int G_GNUC_NULL_TERMINATED
remote (Fixture     *f,
        char       **out,
        const char  *first,
        ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  Run run = { FALSE, NULL, NULL };
  gboolean expired = FALSE;
  guint timer;
  va_list args;

  g_ptr_array_add (argv, (char *) REMOTE);
  g_ptr_array_add (argv, f->address);
  if (!f->auth_test)
    {
      g_ptr_array_add (argv, (char *) "--auth");
      g_ptr_array_add (argv, (char *) CREDENTIALS);
    }
  va_start (args, first);
  for (const char *arg = first; arg; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  command = g_strjoinv (" ", (char **) argv->pdata);
  g_test_message ("$ %s", command);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicated_cb, &run);
  timer = g_timeout_add_seconds (60, expired_cb, &expired);
  while (!run.done && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);
  if (!run.done)
    {
      g_subprocess_force_exit (process);
      while (!run.done)
        g_main_context_iteration (NULL, TRUE);
      g_error ("%s did not finish in 60 s", command);
    }
  g_test_message ("%s%s", run.out, run.err);
  g_free (run.err);
  if (out)
    *out = run.out;
  else
    g_free (run.out);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

static TePriority
file_priority (TeTorrent *torrent,
               guint      index)
{
  g_autoptr(GPtrArray) files = te_torrent_dup_files (torrent);

  return ((TeFileInfo *) g_ptr_array_index (files, index))->priority;
}

/* The line of `-l` output for torrent @id. */
static char *
list_line (const char *out,
           int         id)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("%d ", id);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (g_strchug (lines[i]), prefix))
      return g_strdup (lines[i]);
  return NULL;
}

typedef struct {
  GBytes   *body;
  gboolean  done;
} Sent;

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sent *sent = user_data;
  g_autoptr(GError) error = NULL;

  sent->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
  sent->done = TRUE;
}

/* The server runs on this thread's main loop: send asynchronously. */
static GBytes *
send (SoupSession *session,
      SoupMessage *msg)
{
  Sent sent = { NULL, FALSE };

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, sent_cb, &sent);
  te_test_wait_for (&sent.done);
  return sent.body;
}

static void
test_handshake (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://%s/transmission/rpc", f->address);
  g_autoptr(SoupMessage) first = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr(SoupMessage) second = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr(SoupMessage) get = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(SoupMessage) garbage = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr(GBytes) request = g_bytes_new_static ("{\"method\":\"session-get\",\"tag\":3}", 32);
  g_autoptr(GBytes) bad = g_bytes_new_static ("{\"method\":", 10);
  g_autoptr(GBytes) body = NULL, bad_body = NULL;
  g_autofree char *basic = g_base64_encode ((const guchar *) CREDENTIALS, strlen (CREDENTIALS));
  g_autofree char *authorization = g_strconcat ("Basic ", basic, NULL);
  SoupMessage *all[] = { first, second, get, garbage };
  const char *id;

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    soup_message_headers_append (soup_message_get_request_headers (all[i]), "Authorization", authorization);

  soup_message_set_request_body_from_bytes (first, "application/json", request);
  g_bytes_unref (send (session, first));
  g_assert_cmpuint (soup_message_get_status (first), ==, SOUP_STATUS_CONFLICT);
  id = soup_message_headers_get_one (soup_message_get_response_headers (first), "X-Transmission-Session-Id");
  g_assert_nonnull (id);
  g_assert_cmpuint (strlen (id), >, 0);

  soup_message_set_request_body_from_bytes (second, "application/json", request);
  soup_message_headers_append (soup_message_get_request_headers (second), "X-Transmission-Session-Id", id);
  body = send (session, second);
  g_assert_cmpuint (soup_message_get_status (second), ==, SOUP_STATUS_OK);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "\"result\":\"success\""));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "\"tag\":3"));

  soup_message_headers_append (soup_message_get_request_headers (get), "X-Transmission-Session-Id", id);
  g_bytes_unref (send (session, get));
  g_assert_cmpuint (soup_message_get_status (get), ==, SOUP_STATUS_METHOD_NOT_ALLOWED);

  soup_message_set_request_body_from_bytes (garbage, "application/json", bad);
  soup_message_headers_append (soup_message_get_request_headers (garbage), "X-Transmission-Session-Id", id);
  bad_body = send (session, garbage);
  g_assert_cmpuint (soup_message_get_status (garbage), ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (bad_body, NULL), g_bytes_get_size (bad_body), "not JSON"));
}

static void
test_control (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (f->meta);
  g_autofree char *magnet = g_strdup ("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=other");
  g_autofree char *a_bin = g_build_filename (f->payload, "a.bin", NULL);
  g_autofree char *b_bin = g_build_filename (f->payload, "sub", "b.bin", NULL);
  g_autofree char *out = NULL, *line = NULL, *hash_line = NULL;
  TeTorrent *torrent;
  gint64 deadline;

  /* -a reads the file and sends it as metainfo; -w sets its folder. */
  g_assert_cmpint (remote (f, &out, "-a", f->torrent_path, "-w", f->dir, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "responded: \"success\""));
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 1);
  torrent = te_engine_find_torrent (f->engine, hex);
  g_assert_nonnull (torrent);
  g_assert_cmpstr (te_torrent_get_save_path (torrent), ==, f->dir);
  te_test_wait_state (torrent, TE_TORRENT_STATE_SEEDING);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-l", NULL), ==, 0);
  line = list_line (out, 1);
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, "100%"));
  g_assert_nonnull (strstr (line, "payload"));

  g_assert_cmpint (remote (f, NULL, "-t", "1", "-S", NULL), ==, 0);
  g_assert_cmpint (te_torrent_get_state (torrent), ==, TE_TORRENT_STATE_PAUSED);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&line, g_free);
  g_assert_cmpint (remote (f, &out, "-l", NULL), ==, 0);
  line = list_line (out, 1);
  g_assert_nonnull (strstr (line, "Stopped"));
  g_assert_cmpint (remote (f, NULL, "-t", "1", "-s", NULL), ==, 0);
  g_assert_cmpint (te_torrent_get_state (torrent), !=, TE_TORRENT_STATE_PAUSED);

  /* Files: -G 1 skips sub/b.bin, -g 1 wants it again. */
  g_assert_cmpint (remote (f, NULL, "-t", "1", "-G", "1", NULL), ==, 0);
  g_assert_cmpint (file_priority (torrent, 1), ==, TE_PRIORITY_SKIP);
  g_assert_cmpint (file_priority (torrent, 0), ==, TE_PRIORITY_NORMAL);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-t", "1", "-f", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "payload (2 files)"));
  g_assert_nonnull (strstr (out, "1: 100% Normal   No   98.30 kB  payload/sub/b.bin"));
  g_assert_cmpint (remote (f, NULL, "-t", "1", "-g", "1", "-ph", "0", NULL), ==, 0);
  g_assert_cmpint (file_priority (torrent, 1), ==, TE_PRIORITY_NORMAL);
  g_assert_cmpint (file_priority (torrent, 0), ==, TE_PRIORITY_HIGH);

  /* Details, trackers, peers, session. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-t", "1", "-i", NULL), ==, 0);
  hash_line = g_strdup_printf ("  Hash: %s\n", hex);
  g_assert_nonnull (strstr (out, hash_line));
  g_assert_nonnull (strstr (out, "  Percent Done: 100%"));
  g_assert_nonnull (strstr (out, "  Location: "));
  g_assert_cmpint (remote (f, NULL, "-t", "1", "-it", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-t", "1", "-pi", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Address"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-si", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "  RPC version: 17"));
  g_assert_nonnull (strstr (out, "LIMITS"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-st", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "CURRENT SESSION"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-pt", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "Error: port-test is not supported"));

  /* A speed limit in kB/s lands in bytes/s. */
  g_assert_cmpint (remote (f, NULL, "-d", "250", NULL), ==, 0);
  g_assert_cmpuint (te_engine_get_settings (f->engine)->download_limit, ==, 250000);

  /* A magnet, then removing it alone and the first with its data. */
  g_assert_cmpint (remote (f, NULL, "-a", magnet, "-w", f->dir, NULL), ==, 0);
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 2);
  g_assert_nonnull (te_engine_find_torrent (f->engine, "0123456789abcdef0123456789abcdef01234567"));
  g_assert_cmpint (remote (f, NULL, "-t", "2", "-r", NULL), ==, 0);
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 1);
  g_assert_true (g_file_test (a_bin, G_FILE_TEST_EXISTS));

  g_assert_cmpint (remote (f, NULL, "-t", "1", "--remove-and-delete", NULL), ==, 0);
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 0);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((g_file_test (a_bin, G_FILE_TEST_EXISTS) || g_file_test (b_bin, G_FILE_TEST_EXISTS))
         && g_get_monotonic_time () < deadline)
    te_test_spin (20);
  g_assert_false (g_file_test (a_bin, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (b_bin, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (f->torrent_path, G_FILE_TEST_EXISTS));
}

static void
test_auth (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (remote (f, NULL, "-l", NULL), !=, 0);
  g_assert_cmpint (remote (f, NULL, "--auth", "user:wrong", "-l", NULL), !=, 0);
  g_assert_cmpint (remote (f, NULL, "--auth", "user:secret", "-a", f->torrent_path, "-w", f->dir, NULL), ==, 0);
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 1);
  g_assert_cmpint (remote (f, &out, "--auth", "user:secret", "-l", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "payload"));
}

static void
test_download (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(TeEngine) seeder = te_test_new_engine (0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) seed_address = g_inet_socket_address_new (lo, te_engine_get_port (seeder));
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (f->meta);
  g_autofree char *out = NULL, *line = NULL;
  TeTorrent *seed, *leech;
  const char *files[] = { "payload/a.bin", "payload/sub/b.bin" };

  seed = te_engine_add_torrent (seeder, f->meta, f->dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);

  g_assert_cmpint (remote (f, &out, "-a", f->torrent_path, "-w", leech_dir, NULL), ==, 0);
  leech = te_engine_find_torrent (f->engine, hex);
  g_assert_nonnull (leech);
  /* No tracker on loopback: the test names the seeder as one would. */
  te_torrent_add_peer (leech, G_INET_SOCKET_ADDRESS (seed_address));
  te_test_wait_state (leech, TE_TORRENT_STATE_SEEDING);

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *a = g_build_filename (f->dir, files[i], NULL);
      g_autofree char *b = g_build_filename (leech_dir, files[i], NULL);
      g_autoptr(GBytes) ba = te_test_read_file (a);
      g_autoptr(GBytes) bb = te_test_read_file (b);

      g_assert_true (g_bytes_equal (ba, bb));
    }

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (remote (f, &out, "-l", NULL), ==, 0);
  line = list_line (out, 1);
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, " 100% "));
  g_assert_nonnull (strstr (line, " Done "));
  g_assert_true (strstr (line, " Idle ") || strstr (line, " Seeding "));
  g_assert_nonnull (strstr (line, "payload"));

  te_engine_stop (seeder);
  te_test_finalize_object (g_steal_pointer (&seeder));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/transmission-remote/handshake", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_handshake, fixture_teardown);
  g_test_add ("/te/transmission-remote/control", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_control, fixture_teardown);
  g_test_add ("/te/transmission-remote/auth", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_auth, fixture_teardown);
  g_test_add ("/te/transmission-remote/download", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_download, fixture_teardown);

  return g_test_run ();
}
