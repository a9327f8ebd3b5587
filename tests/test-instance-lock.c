/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-instance-lock"

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "te-instance-lock.h"
#include "te-test-utils.h"

/* One process per state folder: the lock itself, then real daemons
 * (torrentedge-cli daemon, $TE_CLI) on one --state-dir: the second is
 * turned away naming the first's PID, and after the first is killed with
 * SIGKILL a new one starts. */

#define WAIT_S 30

/* Two descriptors of one file conflict under flock() even in one process,
 * so a second acquire here stands for a second process. */
static void
test_lock (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-lock");
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  g_autofree char *expected = g_strdup_printf ("Another TorrentEdge (PID %ld) is using %s", (long) getpid (), dir);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  TeInstanceLock *first, *second;

  first = te_instance_lock_acquire (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpint (atol (contents), ==, getpid ());

  second = te_instance_lock_acquire (dir, &error);
  g_assert_null (second);
  g_assert_error (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_HELD);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  te_instance_lock_release (first);
  second = te_instance_lock_acquire (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  te_instance_lock_release (second);

  /* A folder that is not there is an error, not a crash. */
  {
    g_autofree char *missing = g_build_filename (dir, "missing", NULL);

    g_assert_null (te_instance_lock_acquire (missing, &error));
    g_assert_error (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_FAILED);
  }
  te_test_rm_rf (dir);
}

typedef struct {
  char *dir;
  char *state;
  char *downloads;
} Fixture;

static GSubprocess *
spawn_daemon (Fixture            *f,
              GSubprocessFlags    flags,
              GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_setenv (launcher, "DOWNLOAD_PATH", f->downloads, TRUE);
  g_subprocess_launcher_setenv (launcher, "LISTEN_PORT", "0", TRUE);
  return g_subprocess_launcher_spawn (launcher, error, te_test_cli_path (), "daemon",
                                      "--no-rpc", "--state-dir", f->state, NULL);
}

/* Reads the daemon's events until daemon:ready; FALSE at the end of its
 * output. */
static gboolean
wait_ready (GSubprocess *proc)
{
  g_autoptr(GDataInputStream) out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));

  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, NULL);

      if (line == NULL)
        return FALSE;
      if (strstr (line, "\"daemon:ready\"") != NULL)
        return TRUE;
    }
}

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  char **err = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, NULL, err, &error));
  g_assert_no_error (error);
}

/* What @proc wrote on stderr until it exited; a process still running
 * after WAIT_S is killed, and the test fails. */
static void
communicate (GSubprocess  *proc,
             char        **err)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  *err = NULL;
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, communicated_cb, err);
  while (*err == NULL && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (10000);
    }
  if (*err == NULL)
    {
      g_subprocess_force_exit (proc);
      while (*err == NULL)
        g_main_context_iteration (NULL, TRUE);
      g_test_message ("the second daemon was still running after %d s", WAIT_S);
    }
  g_assert_true (g_subprocess_wait (proc, NULL, NULL));
}

static void
kill_and_reap (GSubprocess *proc,
               int          sig)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (proc, sig);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_assert_no_error (error);
}

static void
test_daemons (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) first = NULL;
  g_autoptr(GSubprocess) second = NULL;
  g_autoptr(GSubprocess) third = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *first_pid = NULL;

  f.dir = te_test_make_tmpdir ("te-lock-daemon");
  f.state = g_build_filename (f.dir, "state", NULL);
  f.downloads = g_build_filename (f.dir, "downloads", NULL);

  first = spawn_daemon (&f, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  g_assert_true (wait_ready (first));
  first_pid = g_strdup (g_subprocess_get_identifier (first));

  /* A second daemon on the same folder: status 1, one line naming the first. */
  second = spawn_daemon (&f, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  communicate (second, &err);
  g_test_message ("second daemon: %s", err);
  g_assert_true (g_subprocess_get_if_exited (second));
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  expected = g_strdup_printf ("torrentedge-cli: Another TorrentEdge (PID %s) is using %s\n", first_pid, f.state);
  g_assert_cmpstr (err, ==, expected);

  /* SIGKILL leaves no stale lock behind. */
  kill_and_reap (first, SIGKILL);
  g_assert_true (g_subprocess_get_if_signaled (first));
  third = spawn_daemon (&f, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  g_assert_true (wait_ready (third));
  kill_and_reap (third, SIGTERM);
  g_assert_true (g_subprocess_get_if_exited (third));
  g_assert_cmpint (g_subprocess_get_exit_status (third), ==, 0);

  te_test_rm_rf (f.dir);
  g_free (f.dir);
  g_free (f.state);
  g_free (f.downloads);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/te/instance-lock/lock", test_lock);
  g_test_add_func ("/te/instance-lock/daemons", test_daemons);

  return g_test_run ();
}
