/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-fd-limits"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-test-utils.h"

/* Running out of descriptors. A real daemon under a lowered RLIMIT_NOFILE
 * (soft and hard, as `ulimit -n` sets them) flooded with idle half-sent API
 * requests, then with peer connections; and the engine's own peer listener
 * with no descriptor left at all. The daemon must keep answering, stay
 * quiet, not spin, and recover by itself. */

#define HALF_HEADER "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Never-Ends: "
#define HEALTH "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
#define STDERR_MAX 4096

typedef struct {
  char        *dir;
  char        *err_path;
  GSubprocess *proc;
  guint16      peer_port;
  guint16      api_port;
} Daemon;

static guint child_limit;

static void
child_setup (gpointer data)
{
  struct rlimit rl = { child_limit, child_limit };

  setrlimit (RLIMIT_NOFILE, &rl);
  /* A failed assertion ends the test: the daemon goes with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* A blocking connection to 127.0.0.1:@port; NULL when it does not complete
 * within @timeout_s (a full accept queue). */
static GSocket *
connect_to (guint16 port,
            guint   timeout_s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (lo, port);
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_set_timeout (socket, timeout_s);
  if (!g_socket_connect (socket, address, NULL, &error))
    {
      g_test_message ("connect to port %u: %s", port, error->message);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

static void
send_text (GSocket    *socket,
           const char *text)
{
  g_autoptr(GError) error = NULL;

  g_socket_send (socket, text, strlen (text), NULL, &error);
  g_assert_no_error (error);
}

/* GET /api/health on a new connection: its status, 0 when there was no
 * answer within @timeout_s. */
static guint
health (guint16  port,
        guint    timeout_s,
        gint64  *took_us)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GSocket) socket = connect_to (port, timeout_s);
  g_autoptr(GString) reply = g_string_new (NULL);
  char buf[4096];
  gssize n;

  if (socket == NULL)
    return 0;
  send_text (socket, HEALTH);
  while ((n = g_socket_receive (socket, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (reply, buf, n);
  if (took_us)
    *took_us = g_get_monotonic_time () - start;
  if (!g_str_has_prefix (reply->str, "HTTP/1.1 "))
    return 0;
  return (guint) g_ascii_strtoull (reply->str + 9, NULL, 10);
}

/* The fields of /proc/PID/stat from the third (the state) on. */
static GStrv
proc_stat (GSubprocess *proc)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (proc));
  g_autofree char *stat = NULL;
  GStrv fields;
  char *end;

  g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
  /* Past the command name, which may hold spaces. */
  end = strrchr (stat, ')');
  g_assert_nonnull (end);
  fields = g_strsplit (end + 2, " ", 0);
  g_assert_cmpuint (g_strv_length (fields), >, 13);
  return fields;
}

static gboolean
daemon_alive (Daemon *d)
{
  g_auto(GStrv) fields = proc_stat (d->proc);

  return strcmp (fields[0], "Z") != 0;
}

/* CPU seconds the process has used: utime and stime, fields 14 and 15. */
static double
cpu_seconds (GSubprocess *proc)
{
  g_auto(GStrv) fields = proc_stat (proc);

  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) / sysconf (_SC_CLK_TCK);
}

static Daemon *
daemon_start (guint limit)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GError) error = NULL;
  Daemon *d = g_new0 (Daemon, 1);
  g_autofree char *state = NULL;
  g_autofree char *downloads = NULL;
  g_autofree char *peer_port = NULL;
  g_autofree char *api_port = NULL;
  gint64 end;

  d->dir = te_test_make_tmpdir ("fd-limits");
  d->err_path = g_build_filename (d->dir, "daemon.err", NULL);
  state = g_build_filename (d->dir, "state", NULL);
  downloads = g_build_filename (d->dir, "downloads", NULL);
  d->peer_port = te_test_free_port ();
  d->api_port = te_test_free_port ();
  peer_port = g_strdup_printf ("%u", d->peer_port);
  api_port = g_strdup_printf ("%u", d->api_port);

  child_limit = limit;
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  g_subprocess_launcher_setenv (launcher, "DOWNLOAD_PATH", downloads, TRUE);
  g_subprocess_launcher_setenv (launcher, "RPC_PORT", api_port, TRUE);
  g_subprocess_launcher_setenv (launcher, "RPC_USERNAME", "admin", TRUE);
  g_subprocess_launcher_setenv (launcher, "RPC_PASSWORD", "secret", TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, d->err_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  d->proc = g_subprocess_launcher_spawn (launcher, &error, te_test_cli_path (), "daemon",
                                         "--state-dir", state, "--port", peer_port, NULL);
  g_assert_no_error (error);

  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (health (d->api_port, 1, NULL) != 200)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_assert_true (daemon_alive (d));
      g_usleep (50 * 1000);
    }
  return d;
}

static gsize
daemon_stderr_size (Daemon *d)
{
  GStatBuf st;

  return g_stat (d->err_path, &st) == 0 ? (gsize) st.st_size : 0;
}

static void
daemon_stop (Daemon *d)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  g_subprocess_send_signal (d->proc, SIGTERM);
  g_subprocess_wait (d->proc, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (d->err_path, &err, NULL, NULL);
  g_test_message ("daemon stderr (%" G_GSIZE_FORMAT " bytes): %.2000s", daemon_stderr_size (d),
                  err ? err : "");
  g_object_unref (d->proc);
  te_test_rm_rf (d->dir);
  g_free (d->dir);
  g_free (d->err_path);
  g_free (d);
}

/* Starts @n connections to @port at once (without waiting for the server to
 * take each, as a flood would), sends @text on those that get through
 * within a few seconds, and returns them. */
static GPtrArray *
flood (guint16     port,
       guint       n,
       const char *text)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (lo, port);
  g_autoptr(GPtrArray) started = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *connected = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

      g_assert_no_error (error);
      g_socket_set_blocking (s, FALSE);
      if (!g_socket_connect (s, address, NULL, &error))
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
      g_ptr_array_add (started, s);
    }
  for (guint i = 0; i < started->len; i++)
    {
      GSocket *s = g_ptr_array_index (started, i);

      if (g_socket_condition_timed_wait (s, G_IO_OUT, MAX (end - g_get_monotonic_time (), 0), NULL, NULL)
          && g_socket_check_connect_result (s, NULL))
        {
          if (text)
            send_text (s, text);
          g_ptr_array_add (connected, g_object_ref (s));
        }
    }
  return connected;
}

/* More idle connections sending half a header than the limit allows: the API
 * still answers at once, and again once they are gone. */
static void
test_api_half_headers (void)
{
  Daemon *d = daemon_start (64);
  g_autoptr(GPtrArray) half = flood (d->api_port, 100, HALF_HEADER);
  gint64 took = 0;

  g_test_message ("%u connections sent half a header", half->len);
  g_assert_cmpuint (health (d->api_port, 2, &took), ==, 200);
  g_test_message ("health answered in %" G_GINT64_FORMAT " ms", took / 1000);
  g_assert_cmpint (took, <, G_USEC_PER_SEC);

  g_ptr_array_set_size (half, 0);
  g_usleep (300 * 1000);
  g_assert_cmpuint (health (d->api_port, 2, NULL), ==, 200);
  g_assert_true (daemon_alive (d));
  g_assert_cmpuint (daemon_stderr_size (d), <, STDERR_MAX);
  daemon_stop (d);
}

/* 30 connections to the peer port under `ulimit -n 24`: no spinning, no
 * flood of log lines, and the port takes connections again after. */
static void
test_peer_flood (void)
{
  Daemon *d = daemon_start (24);
  g_autoptr(GPtrArray) peers = flood (d->peer_port, 30, NULL);
  g_autoptr(GSocket) late = NULL;
  guint8 handshake[68] = { 19 };
  double before;
  double used;
  char buf[128];
  gssize n;

  g_test_message ("%u peer connections", peers->len);
  before = cpu_seconds (d->proc);
  g_usleep (3 * G_USEC_PER_SEC);
  used = cpu_seconds (d->proc) - before;
  g_test_message ("daemon CPU: %.2f s in 3 s; stderr %" G_GSIZE_FORMAT " bytes", used,
                  daemon_stderr_size (d));
  g_assert_cmpfloat (used, <, 0.6);
  g_assert_cmpuint (daemon_stderr_size (d), <, STDERR_MAX);
  g_assert_cmpuint (health (d->api_port, 2, NULL), ==, 200);

  /* Once they are gone, a peer is taken in: its handshake names no torrent
   * of the daemon's, so the daemon reads it and hangs up. */
  g_ptr_array_set_size (peers, 0);
  g_usleep (300 * 1000);
  late = connect_to (d->peer_port, 3);
  g_assert_nonnull (late);
  memcpy (handshake + 1, "BitTorrent protocol", 19);
  for (guint i = 28; i < sizeof handshake; i++)
    handshake[i] = (guint8) g_random_int ();
  g_assert_cmpint (g_socket_send (late, (const char *) handshake, sizeof handshake, NULL, NULL), ==,
                   sizeof handshake);
  n = g_socket_receive (late, buf, sizeof buf, NULL, NULL);
  g_assert_cmpint (n, ==, 0);
  g_assert_cmpuint (daemon_stderr_size (d), <, STDERR_MAX);
  daemon_stop (d);
}

/* The engine's peer listener with no descriptor left */

static guint log_lines;

static void
count_log_cb (const char     *domain,
              GLogLevelFlags  level,
              const char     *message,
              gpointer        user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE))
    log_lines++;
}

static double
own_cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
run_listener_out_of_descriptors (void)
{
  TeEngineSettings settings;
  g_autoptr(TeEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) spare = g_array_new (FALSE, FALSE, sizeof (int));
  GSocket *clients[5];
  guint8 handshake[68] = { 19 };
  struct rlimit rl;
  double before;
  gint64 end;
  guint closed = 0;

  /* Counted, and not fatal: the old listener warned. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_log_set_default_handler (count_log_cb, NULL);

  te_engine_settings_init (&settings);
  settings.listen_port = 0;
  engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  g_assert_true (te_engine_start (engine, &error));
  g_assert_no_error (error);

  memcpy (handshake + 1, "BitTorrent protocol", 19);
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      clients[i] = connect_to (te_engine_get_port (engine), 2);
      g_assert_nonnull (clients[i]);
      g_socket_send (clients[i], (const char *) handshake, sizeof handshake, NULL, &error);
      g_assert_no_error (error);
      g_socket_set_blocking (clients[i], FALSE);
    }

  /* No descriptor left: a low limit, filled up. */
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  rl.rlim_cur = 256;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  for (;;)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

      if (fd < 0)
        {
          g_assert_cmpint (errno, ==, EMFILE);
          break;
        }
      g_array_append_val (spare, fd);
    }
  log_lines = 0;
  before = own_cpu_seconds ();
  te_test_spin (2000);
  g_test_message ("out of descriptors for 2 s: %.2f s of CPU, %u log lines",
                  own_cpu_seconds () - before, log_lines);
  g_assert_cmpfloat (own_cpu_seconds () - before, <, 0.4);
  g_assert_cmpuint (log_lines, <=, 2);

  /* Descriptors again: the waiting peers are taken in (and dropped, as
   * their handshake names no torrent) within the longest wait. */
  for (guint i = 0; i < spare->len; i++)
    close (g_array_index (spare, int, i));
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (closed < G_N_ELEMENTS (clients) && g_get_monotonic_time () < end)
    {
      char buf[64];

      te_test_spin (20);
      closed = 0;
      for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
        closed += g_socket_receive (clients[i], buf, sizeof buf, NULL, NULL) == 0;
    }
  g_assert_cmpuint (closed, ==, G_N_ELEMENTS (clients));
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    g_object_unref (clients[i]);
  te_engine_stop (engine);
}

static void
test_listener_out_of_descriptors (void)
{
  /* The lowered limit stays in the child. */
  if (g_test_subprocess ())
    {
      run_listener_out_of_descriptors ();
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Outgoing connections with no descriptor left: the torrent waits instead
 * of reporting the peer as failing (and, after a few tries, forgetting it),
 * and downloads once descriptors are back. */

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          gpointer            user_data)
{
  guint *errors = user_data;

  g_test_message ("error: %s: %s", event->code, event->message);
  (*errors)++;
}

static void
run_dial_out_of_descriptors (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("fd-dial");
  g_autofree char *seed_dir = g_build_filename (dir, "seed", NULL);
  g_autofree char *leech_dir = g_build_filename (dir, "leech", NULL);
  g_autoptr(TeEngine) seeder = te_test_new_engine (1, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (1, 0);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (seed_dir, "data.bin", 256 * 1024, 7);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (lo, te_engine_get_port (seeder));
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) warm = NULL;
  g_autoptr(GArray) spare = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GError) error = NULL;
  TeTorrent *seed;
  TeTorrent *leech;
  struct rlimit rl;
  guint errors = 0;

  /* Not fatal: the seeder's listener may run out too, and say so. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_log_set_default_handler (count_log_cb, NULL);
  seed = te_engine_add_torrent (seeder, meta, seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  leech = te_engine_add_torrent (leecher, meta, leech_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (leech, TE_TORRENT_STATE_DOWNLOADING);
  /* GIO sets up its proxy resolver on the first connection: not at zero. */
  warm = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  g_io_stream_close (G_IO_STREAM (warm), NULL, NULL);

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  rl.rlim_cur = 256;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  for (;;)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

      if (fd < 0)
        break;
      g_array_append_val (spare, fd);
    }
  g_signal_connect (leech, "error", G_CALLBACK (error_cb), &errors);
  te_torrent_add_peer (leech, G_INET_SOCKET_ADDRESS (address));
  te_test_spin (3000);
  g_assert_cmpuint (errors, ==, 0);
  g_assert_cmpint (te_torrent_get_state (leech), ==, TE_TORRENT_STATE_DOWNLOADING);

  for (guint i = 0; i < spare->len; i++)
    close (g_array_index (spare, int, i));
  te_test_wait_state (leech, TE_TORRENT_STATE_SEEDING);
  g_assert_cmpuint (errors, ==, 0);
  g_signal_handlers_disconnect_by_data (leech, &errors);
  te_engine_stop (leecher);
  te_engine_stop (seeder);
  te_test_rm_rf (dir);
}

static void
test_dial_out_of_descriptors (void)
{
  if (g_test_subprocess ())
    {
      run_dial_out_of_descriptors ();
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hardening/fd/api-half-headers", test_api_half_headers);
  g_test_add_func ("/hardening/fd/peer-flood", test_peer_flood);
  g_test_add_func ("/hardening/fd/listener-out-of-descriptors", test_listener_out_of_descriptors);
  g_test_add_func ("/hardening/fd/dial-out-of-descriptors", test_dial_out_of_descriptors);
  return g_test_run ();
}
