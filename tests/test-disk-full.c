/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-test-utils.h"
#include "te-torrent.h"
#include "te-torrent-private.h"

/* A download folder that fills up: a real tmpfs of a few MiB. The torrent
 * saving there stops with a filesystem error naming the cause, another one
 * saving elsewhere goes on, and once there is room the first completes: by
 * itself, trying again after a (here shortened) while, or when resumed. */

#define PIECE (64 * 1024)
#define RETRY_FIRST_MS 500
#define RETRY_LAST_MS  1000

static void
run_ok (const char *const *argv)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = te_test_run (argv, &out, &err);

  if (status != 0)
    g_error ("%s failed (%d): %s", argv[0], status, err);
}

typedef struct {
  TeErrorEvent *first;
  guint         n_no_space;
} Errors;

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          Errors             *errors)
{
  if (event->category != TE_ERROR_CATEGORY_FILESYSTEM)
    return;
  if (errors->first == NULL)
    errors->first = te_error_event_copy (event);
  if (g_strcmp0 (event->code, "no_space") == 0)
    errors->n_no_space++;
}

static void
assert_same_file (const char *a,
                  const char *b)
{
  g_autoptr(GBytes) x = te_test_read_file (a);
  g_autoptr(GBytes) y = te_test_read_file (b);

  g_assert_true (g_bytes_equal (x, y));
}

/* @resume: resume by hand once there is room, else wait for the retry. */
static void
run_disk_full (gboolean resume)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-disk-full");
  g_autofree char *seed_dir = g_build_filename (dir, "seed", NULL);
  g_autofree char *small = g_build_filename (dir, "small", NULL);
  g_autofree char *roomy = g_build_filename (dir, "roomy", NULL);
  g_autofree char *big_src = g_build_filename (seed_dir, "big.bin", NULL);
  g_autofree char *other_src = g_build_filename (seed_dir, "other.bin", NULL);
  g_autofree char *big_dst = g_build_filename (small, "big.bin", NULL);
  g_autofree char *other_dst = g_build_filename (roomy, "other.bin", NULL);
  g_autoptr(TeMetainfo) big = NULL;
  g_autoptr(TeMetainfo) other = NULL;
  g_autoptr(TeEngine) seeder = te_test_new_engine (0, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (0, 0);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) seeder_addr = NULL;
  g_autoptr(GError) error = NULL;
  Errors errors = { 0 };
  TeErrorEvent *event;
  TeTorrent *a, *b;
  gint64 room_us;
  guint n;

  te_test_write_random (big_src, 6 * 1024 * 1024, 21);
  te_test_write_random (other_src, 2 * 1024 * 1024 + 5, 22);
  big = te_test_make_torrent (big_src, TE_TORRENT_V1, PIECE);
  other = te_test_make_torrent (other_src, TE_TORRENT_V1, PIECE);
  g_assert_cmpint (g_mkdir_with_parents (small, 0755), ==, 0);
  run_ok ((const char *[]) { "mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", small, NULL });

  g_assert_nonnull (te_engine_add_torrent (seeder, big, seed_dir, &error));
  g_assert_nonnull (te_engine_add_torrent (seeder, other, seed_dir, &error));
  g_assert_no_error (error);
  seeder_addr = g_inet_socket_address_new (lo, te_engine_get_port (seeder));

  a = te_engine_add_torrent (leecher, big, small, &error);
  g_assert_no_error (error);
  b = te_engine_add_torrent (leecher, other, roomy, &error);
  g_assert_no_error (error);
  g_signal_connect (a, "error", G_CALLBACK (error_cb), &errors);
  te_test_wait_state (a, TE_TORRENT_STATE_DOWNLOADING);
  te_test_wait_state (b, TE_TORRENT_STATE_DOWNLOADING);
  te_torrent_add_peer (a, G_INET_SOCKET_ADDRESS (seeder_addr));
  te_torrent_add_peer (b, G_INET_SOCKET_ADDRESS (seeder_addr));

  /* The small folder fills: that torrent stops, saying why and that it
   * will try again. */
  te_test_wait_state (a, TE_TORRENT_STATE_ERROR);
  event = errors.first;
  g_assert_nonnull (event);
  g_assert_cmpint (event->category, ==, TE_ERROR_CATEGORY_FILESYSTEM);
  g_assert_cmpstr (event->code, ==, "no_space");
  g_assert_cmpint (event->action, ==, TE_ERROR_ACTION_RETRY);
  g_assert_true (event->recoverable);
  g_assert_nonnull (strstr (event->message, g_strerror (ENOSPC)));
  g_assert_nonnull (strstr (event->message, "big.bin"));
  g_assert_nonnull (strstr (event->message, "trying again in 1 s"));
  g_assert_cmpstr (te_torrent_get_error (a)->message, ==, event->message);
  g_assert_cmpuint (te_bitfield_count (te_torrent_get_have (a)), <, te_metainfo_get_n_pieces (big));

  /* The other one, elsewhere, completes meanwhile. */
  te_test_wait_state (b, TE_TORRENT_STATE_SEEDING);
  assert_same_file (other_src, other_dst);
  g_assert_cmpint (te_torrent_get_state (a), ==, TE_TORRENT_STATE_ERROR);

  /* Still full: it tries again by itself, fails again and waits again. */
  n = errors.n_no_space;
  te_test_wait_count (&errors.n_no_space, n + 1);
  g_assert_cmpint (te_torrent_get_state (a), ==, TE_TORRENT_STATE_ERROR);
  g_assert_nonnull (strstr (te_torrent_get_error (a)->message, "trying again in"));

  /* Room is made; the first completes with verified data, by itself within
   * the retry delay and the transfer, or at once when resumed. */
  run_ok ((const char *[]) { "mount", "-o", "remount,size=16m", small, NULL });
  room_us = g_get_monotonic_time ();
  if (resume)
    {
      te_torrent_start (a);
      g_assert_null (te_torrent_get_error (a));
    }
  te_test_wait_state (a, TE_TORRENT_STATE_SEEDING);
  g_assert_cmpint (g_get_monotonic_time () - room_us, <, 30 * G_USEC_PER_SEC);
  assert_same_file (big_src, big_dst);

  te_engine_stop (leecher);
  te_engine_stop (seeder);
  /* Lazily: the leecher's last descriptors close as its workers finish. */
  run_ok ((const char *[]) { "umount", "-l", small, NULL });
  te_error_event_free (errors.first);
  te_test_rm_rf (dir);
}

static void
test_disk_full_retry (void)
{
  run_disk_full (FALSE);
}

static void
test_disk_full_resume (void)
{
  run_disk_full (TRUE);
}

int
main (int   argc,
      char *argv[])
{
  /* Mounting needs root: without it, the test runs again as root of its own
   * user and mount namespace. */
  if (getuid () != 0 && g_getenv ("TE_IN_NAMESPACE") == NULL)
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();

      g_setenv ("TE_IN_NAMESPACE", "1", TRUE);
      g_ptr_array_add (args, (char *) "unshare");
      g_ptr_array_add (args, (char *) "--user");
      g_ptr_array_add (args, (char *) "--map-root-user");
      g_ptr_array_add (args, (char *) "--mount");
      for (int i = 0; i < argc; i++)
        g_ptr_array_add (args, argv[i]);
      g_ptr_array_add (args, NULL);
      execvp ("unshare", (char **) args->pdata);
      g_printerr ("Cannot run unshare to get a mount namespace: %s\n", g_strerror (errno));
      return 1;
    }
  g_test_init (&argc, &argv, NULL);
  _te_torrent_set_disk_retry (RETRY_FIRST_MS, RETRY_LAST_MS);
  g_test_add_func ("/te/recovery/disk-full/retry", test_disk_full_retry);
  g_test_add_func ("/te/recovery/disk-full/resume", test_disk_full_resume);
  return g_test_run ();
}
