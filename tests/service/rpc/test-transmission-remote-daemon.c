/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "te-test-utils.h"

/* Debian's transmission-remote (3.00) against the real daemon
 * (torrentedge-cli daemon, $TE_CLI) with the service's own router, in the
 * form people type: "transmission-remote HOST:PORT", whose URL is
 * /transmission/rpc/ with a trailing slash. */

#define PIECE (32 * 1024)
#define REMOTE "transmission-remote"

typedef struct {
  char        *dir;
  char        *state;
  char        *downloads;
  char        *torrent_path;
  char        *address;         /* 127.0.0.1:port of the API */
  guint16      api_port;
  GSubprocess *proc;
  gboolean     exited;
} Fixture;

/* Runs transmission-remote 127.0.0.1:PORT --auth user:secret and the
 * arguments after @first; returns its exit status, its output in @out. */
static int G_GNUC_NULL_TERMINATED
remote (Fixture     *f,
        char       **out,
        const char  *first,
        ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *command = NULL;
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  va_list args;
  int status;

  g_ptr_array_add (argv, (char *) REMOTE);
  g_ptr_array_add (argv, f->address);
  g_ptr_array_add (argv, (char *) "--auth");
  g_ptr_array_add (argv, (char *) "user:secret");
  va_start (args, first);
  for (const char *arg = first; arg; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  command = g_strjoinv (" ", (char **) argv->pdata);
  status = te_test_run ((const char * const *) argv->pdata, &stdout_text, &stderr_text);
  g_test_message ("$ %s → %d\n%s%s", command, status, stdout_text, stderr_text);
  if (out)
    *out = g_steal_pointer (&stdout_text);
  return status;
}

static guint
health (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GString) reply = g_string_new (NULL);
  const char *request = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  GInputStream *in;
  char buf[1024];
  gssize n;

  g_socket_client_set_timeout (client, 2);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (conn == NULL)
    return 0;
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request,
                                  strlen (request), NULL, NULL, NULL))
    return 0;
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (reply, buf, n);
  if (!g_str_has_prefix (reply->str, "HTTP/1.1 "))
    return 0;
  return (guint) g_ascii_strtoull (reply->str + 9, NULL, 10);
}

static void
waited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Fixture *f = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  f->exited = TRUE;
}

/* A failed assertion aborts the test: the daemon must not outlive it. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
daemon_start (Fixture *f)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autofree char *api_port = g_strdup_printf ("%u", f->api_port);
  g_autofree char *peer_port = g_strdup_printf ("%u", te_test_free_port ());
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_setenv (launcher, "DOWNLOAD_PATH", f->downloads, TRUE);
  g_subprocess_launcher_setenv (launcher, "RPC_PORT", api_port, TRUE);
  g_subprocess_launcher_setenv (launcher, "RPC_USERNAME", "user", TRUE);
  g_subprocess_launcher_setenv (launcher, "RPC_PASSWORD", "secret", TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  f->exited = FALSE;
  f->proc = g_subprocess_launcher_spawn (launcher, &error, te_test_cli_path (), "daemon",
                                         "--state-dir", f->state, "--port", peer_port, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (f->proc, NULL, waited_cb, f);
  while (health (f->api_port) != 200)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_false (f->exited);
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (50 * 1000);
    }
}

/* Waits at most @seconds for the daemon to exit; returns its exit status. */
static int
daemon_wait (Fixture *f,
             guint    seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  int status;

  while (!f->exited && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (20 * 1000);
    }
  if (!f->exited)
    {
      g_subprocess_force_exit (f->proc);
      while (!f->exited)
        g_main_context_iteration (NULL, TRUE);
      g_clear_object (&f->proc);
      g_error ("The daemon did not exit within %u s", seconds);
    }
  status = g_subprocess_get_if_exited (f->proc) ? g_subprocess_get_exit_status (f->proc) : -1;
  g_clear_object (&f->proc);
  return status;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *payload = NULL, *a = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  g_assert_true (te_test_have_program (REMOTE));
  f->dir = te_test_make_tmpdir ("te-remote-daemon");
  f->state = g_build_filename (f->dir, "state", NULL);
  f->downloads = g_build_filename (f->dir, "downloads", NULL);
  payload = g_build_filename (f->downloads, "payload", NULL);
  a = g_build_filename (payload, "a.bin", NULL);
  te_test_write_random (a, 4 * PIECE + 5, 21);
  meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  f->torrent_path = g_build_filename (f->dir, "payload.torrent", NULL);
  bytes = te_metainfo_get_torrent_bytes (meta);
  g_assert_true (g_file_set_contents (f->torrent_path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));
  g_assert_no_error (error);
  f->api_port = te_test_free_port ();
  f->address = g_strdup_printf ("127.0.0.1:%u", f->api_port);
  daemon_start (f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->proc)
    {
      g_subprocess_send_signal (f->proc, SIGTERM);
      g_assert_cmpint (daemon_wait (f, 20), ==, 0);
    }
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->state);
  g_free (f->downloads);
  g_free (f->torrent_path);
  g_free (f->address);
}

/* "transmission-remote HOST:PORT" posts to /transmission/rpc/: the daemon
 * answers it (it answered 404 "No such route" before). */
static void
test_default_url (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *out = NULL, *listed = NULL;

  g_assert_cmpint (remote (f, &out, "-l", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Sum:"));
  g_assert_cmpint (remote (f, NULL, "-a", f->torrent_path, NULL), ==, 0);
  g_assert_cmpint (remote (f, &listed, "-l", NULL), ==, 0);
  g_assert_nonnull (strstr (listed, "payload"));
}

/* --exit (session-close) is answered with success, then the daemon saves
 * its state and exits 0 as on SIGTERM; the next start has the torrent. */
static void
test_exit (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *out = NULL;
  gint64 start;

  g_assert_cmpint (remote (f, NULL, "-a", f->torrent_path, NULL), ==, 0);
  start = g_get_monotonic_time ();
  g_assert_cmpint (remote (f, NULL, "--exit", NULL), ==, 0);
  g_assert_cmpint (daemon_wait (f, 10), ==, 0);
  g_test_message ("exited %.1f s after session-close",
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  /* The API is gone with it. */
  g_assert_cmpuint (health (f->api_port), ==, 0);

  daemon_start (f);
  g_assert_cmpint (remote (f, &out, "-l", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "payload"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/transmission-remote-daemon/default-url", Fixture, NULL,
              fixture_setup, test_default_url, fixture_teardown);
  g_test_add ("/te/transmission-remote-daemon/exit", Fixture, NULL,
              fixture_setup, test_exit, fixture_teardown);

  return g_test_run ();
}
