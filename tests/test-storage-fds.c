/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-test-utils.h"
#include "te-torrent.h"

/* Data files under a descriptor limit much lower than a torrent's file
 * count: the whole process (two engines, their peers, their checks) may open
 * only FD_LIMIT descriptors. A torrent of N_FILES files is checked, seeded
 * and downloaded all the same; a check that finds no descriptor at all waits
 * for one instead of stopping the torrent with an error. Its own executable:
 * the limit is the whole process's. */

#define FD_LIMIT 64
#define N_FILES  150
#define PIECE    (16 * 1024)

typedef struct {
  char       *dir;
  char       *payload;
  char       *seed_dir;
  char       *down_dir;
  TeMetainfo *meta;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  f->dir = te_test_make_tmpdir ("te-storage-fds");
  f->seed_dir = g_build_filename (f->dir, "seed", NULL);
  f->down_dir = g_build_filename (f->dir, "down", NULL);
  f->payload = g_build_filename (f->seed_dir, "many", NULL);
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%03u.bin", i);
      g_autofree char *path = g_build_filename (f->payload, name, NULL);

      te_test_write_random (path, 5000 + 97 * i, i + 1);
    }
  f->meta = te_test_make_torrent (f->payload, TE_TORRENT_V1, PIECE);
  g_assert_cmpuint (te_metainfo_get_n_files (f->meta), ==, N_FILES);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->payload);
  g_free (f->seed_dir);
  g_free (f->down_dir);
  g_clear_object (&f->meta);
}

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          gpointer            user_data)
{
  /* A shortage of descriptors is no error of the torrent's. */
  g_assert_cmpstr (event->code, !=, "too_many_open_files");
}

static GInetSocketAddress *
local_address (TeEngine *engine)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (lo, te_engine_get_port (engine)));
}

/* Opens descriptors until the process has none left. */
static GArray *
use_up_descriptors (void)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (int));

  for (;;)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

      if (fd < 0)
        {
          g_assert_cmpint (errno, ==, EMFILE);
          break;
        }
      g_array_append_val (fds, fd);
    }
  return fds;
}

static void
give_back_descriptors (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_unref (fds);
}

/* More files than descriptors: the seed checks them all, a leecher in the
 * same process downloads every one, byte for byte. */
static void
test_many_files (Fixture      *f,
                 gconstpointer unused)
{
  g_autoptr(TeEngine) seeder = te_test_new_engine (3, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (3, 0);
  g_autoptr(GInetSocketAddress) addr = local_address (seeder);
  g_autoptr(GPtrArray) want = NULL, got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *down_payload = g_build_filename (f->down_dir, "many", NULL);
  TeTorrent *seed, *leech;

  seed = te_engine_add_torrent (seeder, f->meta, f->seed_dir, &error);
  g_assert_no_error (error);
  g_signal_connect (seed, "error", G_CALLBACK (error_cb), NULL);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  g_assert_cmpfloat (te_torrent_get_progress (seed), ==, 1.0);

  leech = te_engine_add_torrent (leecher, f->meta, f->down_dir, &error);
  g_assert_no_error (error);
  g_signal_connect (leech, "error", G_CALLBACK (error_cb), NULL);
  te_torrent_add_peer (leech, addr);
  te_test_wait_state (leech, TE_TORRENT_STATE_SEEDING);

  want = te_test_list_tree (f->payload);
  got = te_test_list_tree (down_payload);
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    {
      g_autofree char *a = g_build_filename (f->payload, g_ptr_array_index (want, i), NULL);
      g_autofree char *b = g_build_filename (down_payload, g_ptr_array_index (got, i), NULL);
      g_autoptr(GBytes) x = te_test_read_file (a);
      g_autoptr(GBytes) y = te_test_read_file (b);

      g_assert_cmpstr (g_ptr_array_index (want, i), ==, g_ptr_array_index (got, i));
      g_assert_true (g_bytes_equal (x, y));
    }
  te_engine_stop (leecher);
  te_engine_stop (seeder);
}

/* No descriptor left at all: a check waits (the torrent stays checking,
 * without an error) and finishes once descriptors are free again. */
static void
test_check_waits (Fixture      *f,
                  gconstpointer unused)
{
  g_autoptr(TeEngine) seeder = te_test_new_engine (3, 0);
  g_autoptr(GError) error = NULL;
  GArray *fds;
  TeTorrent *seed;

  seed = te_engine_add_torrent (seeder, f->meta, f->seed_dir, &error);
  g_assert_no_error (error);
  g_signal_connect (seed, "error", G_CALLBACK (error_cb), NULL);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  /* Paused, it holds no descriptor: nothing idle is left to close. */
  te_torrent_pause (seed);
  te_test_spin (100);

  fds = use_up_descriptors ();
  g_assert_cmpuint (fds->len, >, 0);
  te_torrent_recheck (seed);
  te_test_spin (2000);
  g_assert_cmpint (te_torrent_get_state (seed), ==, TE_TORRENT_STATE_CHECKING);
  g_assert_null (te_torrent_get_error (seed));

  give_back_descriptors (fds);
  te_test_wait_state (seed, TE_TORRENT_STATE_PAUSED);
  g_assert_null (te_torrent_get_error (seed));
  g_assert_cmpfloat (te_torrent_get_progress (seed), ==, 1.0);
  te_engine_stop (seeder);
}

int
main (int    argc,
      char **argv)
{
  /* Hard and soft: an engine raising its soft limit cannot undo this. */
  struct rlimit rl = { FD_LIMIT, FD_LIMIT };

  if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
    g_error ("Cannot lower RLIMIT_NOFILE: %s", g_strerror (errno));
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/te/storage-fds/many-files", Fixture, NULL, fixture_setup, test_many_files,
              fixture_teardown);
  g_test_add ("/te/storage-fds/check-waits", Fixture, NULL, fixture_setup, test_check_waits,
              fixture_teardown);
  return g_test_run ();
}
