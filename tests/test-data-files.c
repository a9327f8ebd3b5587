/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-storage.h"
#include "te-test-utils.h"
#include "te-torrent.h"

/* Data files that change under a seed: a file deleted, or replaced by another
 * one of the same name, still reads through a descriptor opened before. The
 * seed must notice, stop with a filesystem error naming the file, and a check
 * afterwards must look at what the paths hold, not at the old descriptors. */

#define PIECE (16 * 1024)

typedef struct {
  char       *dir;
  char       *seed_dir;   /* <dir>/seed/payload/{data,keep}.bin */
  char       *data;       /* the file that changes */
  TeMetainfo *meta;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  g_autofree char *payload = NULL, *keep = NULL;

  f->dir = te_test_make_tmpdir ("te-data-files");
  f->seed_dir = g_build_filename (f->dir, "seed", NULL);
  payload = g_build_filename (f->seed_dir, "payload", NULL);
  f->data = g_build_filename (payload, "data.bin", NULL);
  keep = g_build_filename (payload, "keep.bin", NULL);
  te_test_write_random (f->data, 24 * PIECE + 300, 31);
  te_test_write_random (keep, 16 * PIECE, 32);
  f->meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->seed_dir);
  g_free (f->data);
  g_clear_object (&f->meta);
}

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          TeErrorEvent      **out)
{
  if (event->category == TE_ERROR_CATEGORY_FILESYSTEM && *out == NULL)
    *out = te_error_event_copy (event);
}

static guint
file_index (TeMetainfo *meta,
            const char *basename)
{
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    if (g_str_has_suffix (te_metainfo_get_file (meta, i)->path, basename))
      return i;
  g_assert_not_reached ();
}

/* After the check: none of data.bin's pieces, all pieces only keep.bin holds. */
static void
assert_data_missing (Fixture   *f,
                     TeTorrent *torrent)
{
  const TeBitfield *have = te_torrent_get_have (torrent);
  guint data_first, data_last, keep_first, keep_last, kept = 0;

  g_assert_true (te_metainfo_get_file_pieces (f->meta, file_index (f->meta, "data.bin"),
                                              &data_first, &data_last));
  g_assert_true (te_metainfo_get_file_pieces (f->meta, file_index (f->meta, "keep.bin"),
                                              &keep_first, &keep_last));
  for (guint p = data_first; p <= data_last; p++)
    g_assert_false (te_bitfield_get (have, p));
  for (guint p = keep_first; p <= keep_last; p++)
    if (p < data_first || p > data_last)
      {
        g_assert_true (te_bitfield_get (have, p));
        kept++;
      }
  g_assert_cmpuint (kept, >, 0);
  g_assert_cmpuint (te_bitfield_count (have), ==, kept);
  g_assert_cmpfloat (te_torrent_get_progress (torrent), <, 1.0);
}

static GInetSocketAddress *
local_address (TeEngine *engine)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (lo, te_engine_get_port (engine)));
}

static void
uploaded_cb (TeTorrent *torrent,
             guint      piece,
             guint     *count)
{
  (*count)++;
}

/* Deleted while a peer downloads from the seed: the error says so and names
 * the file; resuming checks the data again and finds data.bin's pieces gone
 * (before, the check read the deleted file through its old descriptor and
 * found everything). */
static void
test_deleted (Fixture      *f,
              gconstpointer unused)
{
  g_autofree char *down_dir = g_build_filename (f->dir, "down", NULL);
  g_autoptr(TeEngine) seeder = te_test_new_engine (3, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (3, 0);
  g_autoptr(GInetSocketAddress) addr = local_address (seeder);
  g_autoptr(GError) error = NULL;
  TeErrorEvent *event = NULL;
  TeTorrent *seed, *leech;
  guint received = 0;

  seed = te_engine_add_torrent (seeder, f->meta, f->seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  g_signal_connect (seed, "error", G_CALLBACK (error_cb), &event);

  /* A slow download, so that the seed reads data.bin while it is deleted. */
  te_engine_set_limits (leecher, 4 * PIECE, 0);
  leech = te_engine_add_torrent (leecher, f->meta, down_dir, &error);
  g_assert_no_error (error);
  g_signal_connect (leech, "piece-completed", G_CALLBACK (uploaded_cb), &received);
  te_torrent_add_peer (leech, addr);
  te_test_wait_count (&received, 2);

  g_assert_cmpint (g_unlink (f->data), ==, 0);
  te_test_wait_state (seed, TE_TORRENT_STATE_ERROR);
  g_assert_nonnull (event);
  g_assert_cmpstr (event->code, ==, "file_missing");
  g_assert_true (event->recoverable);
  g_assert_nonnull (strstr (event->message, "data.bin"));
  g_assert_nonnull (strstr (event->message, "was deleted"));
  g_assert_cmpstr (te_torrent_get_error (seed)->message, ==, event->message);

  /* Resuming checks again: data.bin's pieces are missing now, the rest is
   * there, and the torrent downloads what it lost. */
  te_engine_stop (leecher);
  te_torrent_start (seed);
  g_assert_cmpint (te_torrent_get_state (seed), ==, TE_TORRENT_STATE_CHECKING);
  te_test_wait_state (seed, TE_TORRENT_STATE_DOWNLOADING);
  g_assert_null (te_torrent_get_error (seed));
  assert_data_missing (f, seed);

  te_error_event_free (event);
  te_engine_stop (seeder);
}

/* Replaced by another file of the same size while seeding, without a peer
 * in sight: the seed's look at its open files sees a different inode behind
 * the name. A check afterwards finds data.bin's pieces wrong. */
static void
test_replaced (Fixture      *f,
               gconstpointer unused)
{
  g_autofree char *other = g_strconcat (f->data, ".new", NULL);
  g_autoptr(TeEngine) seeder = te_test_new_engine (3, 0);
  g_autoptr(GError) error = NULL;
  TeErrorEvent *event = NULL;
  struct stat before, after;
  TeTorrent *seed;

  seed = te_engine_add_torrent (seeder, f->meta, f->seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  g_signal_connect (seed, "error", G_CALLBACK (error_cb), &event);

  g_assert_cmpint (g_stat (f->data, &before), ==, 0);
  te_test_write_random (other, before.st_size, 99);
  g_assert_cmpint (g_rename (other, f->data), ==, 0);
  g_assert_cmpint (g_stat (f->data, &after), ==, 0);
  g_assert_cmpuint (after.st_size, ==, before.st_size);
  g_assert_cmpuint (after.st_ino, !=, before.st_ino);

  te_test_wait_state (seed, TE_TORRENT_STATE_ERROR);
  g_assert_nonnull (event);
  g_assert_cmpstr (event->code, ==, "file_replaced");
  g_assert_nonnull (strstr (event->message, "data.bin"));
  g_assert_nonnull (strstr (event->message, "was replaced"));

  te_torrent_start (seed);
  g_assert_cmpint (te_torrent_get_state (seed), ==, TE_TORRENT_STATE_CHECKING);
  te_test_wait_state (seed, TE_TORRENT_STATE_DOWNLOADING);
  g_assert_null (te_torrent_get_error (seed));
  assert_data_missing (f, seed);

  te_error_event_free (event);
  te_engine_stop (seeder);
}

/* Storage alone: te_storage_check_open_files() names a replaced file, the
 * next read goes to the new one; a deleted one is missing, and a recheck
 * says so even with a descriptor open before. */
static void
test_storage_open_files (Fixture      *f,
                         gconstpointer unused)
{
  g_autoptr(TeStorage) storage = te_storage_new (f->meta, f->seed_dir, TE_STORAGE_FLAGS_READ_ONLY);
  g_autofree char *other = g_strconcat (f->data, ".new", NULL);
  const TeFile *data = te_metainfo_get_file (f->meta, file_index (f->meta, "data.bin"));
  const TeFile *keep = te_metainfo_get_file (f->meta, file_index (f->meta, "keep.bin"));
  g_autoptr(GBytes) replacement = NULL;
  g_autoptr(GError) error = NULL;
  guint8 buf[64];

  g_assert_true (te_storage_read (storage, data->offset, buf, sizeof buf, &error));
  g_assert_no_error (error);
  g_assert_true (te_storage_has_open_files (storage));
  g_assert_true (te_storage_check_open_files (storage, 0, &error));
  g_assert_no_error (error);

  te_test_write_random (other, data->length, 77);
  replacement = te_test_read_file (other);
  g_assert_cmpint (g_rename (other, f->data), ==, 0);
  g_assert_false (te_storage_check_open_files (storage, 0, &error));
  g_assert_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_REPLACED);
  g_assert_nonnull (strstr (error->message, "data.bin"));
  g_clear_error (&error);
  g_assert_true (te_storage_read (storage, data->offset, buf, sizeof buf, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buf, sizeof buf, g_bytes_get_data (replacement, NULL), sizeof buf);

  g_assert_cmpint (g_unlink (f->data), ==, 0);
  g_assert_false (te_storage_check_open_files (storage, 0, &error));
  g_assert_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "was deleted"));
  g_clear_error (&error);

  /* Idle descriptors are closed when asked. */
  g_assert_true (te_storage_read (storage, keep->offset, buf, sizeof buf, &error));
  g_assert_no_error (error);
  g_usleep (2000);
  g_assert_true (te_storage_check_open_files (storage, 1000, &error));
  g_assert_no_error (error);
  g_assert_false (te_storage_has_open_files (storage));
  te_test_finalize_object (g_steal_pointer (&storage));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/te/data-files/deleted", Fixture, NULL, fixture_setup, test_deleted,
              fixture_teardown);
  g_test_add ("/te/data-files/replaced", Fixture, NULL, fixture_setup, test_replaced,
              fixture_teardown);
  g_test_add ("/te/data-files/storage-open-files", Fixture, NULL, fixture_setup,
              test_storage_open_files, fixture_teardown);
  return g_test_run ();
}
