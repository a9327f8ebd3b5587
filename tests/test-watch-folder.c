/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "te-file-state-store.h"
#include "te-test-utils.h"
#include "te-watch-folder.h"

/* The watch folder adds what it finds there and what arrives later, more
 * files than one batch, and marks each file added or invalid. */

#define PIECE (16 * 1024)
#define N_TORRENTS 150   /* more than two of the folder's read batches */

typedef struct {
  guint      added;
  guint      duplicates;
  GPtrArray *failed;     /* "path: message" */
} Seen;

static void
added_cb (TeWatchFolder *watch,
          const char    *path,
          TeTorrent     *torrent,
          Seen          *seen)
{
  if (torrent)
    seen->added++;
  else
    seen->duplicates++;
}

static void
failed_cb (TeWatchFolder *watch,
           const char    *path,
           const GError  *error,
           Seen          *seen)
{
  g_ptr_array_add (seen->failed, g_strdup_printf ("%s: %s", path, error->message));
}

static void
wait_idle (TeWatchFolder *watch)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  /* The first scan starts from an idle callback; files arriving later wait out the debounce. */
  te_test_spin (400);
  while (te_watch_folder_is_busy (watch))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Returns the torrent's id. */
static char *
write_torrent (const char *data_dir,
               const char *watch_dir,
               guint       i)
{
  g_autofree char *name = g_strdup_printf ("p%03u.bin", i);
  g_autofree char *path = g_build_filename (data_dir, name, NULL);
  g_autofree char *tname = g_strdup_printf ("t%03u.torrent", i);
  g_autofree char *tpath = g_build_filename (watch_dir, tname, NULL);
  g_autoptr(TeMetainfo) meta = NULL;
  GBytes *bytes;

  te_test_write_random (path, PIECE + i, 7000 + i);
  meta = te_test_make_torrent (path, TE_TORRENT_V1, PIECE);
  bytes = te_metainfo_get_torrent_bytes (meta);
  g_assert_true (g_file_set_contents (tpath, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), NULL));
  return te_metainfo_dup_info_hash_hex (meta);
}

static gboolean
exists (const char *dir,
        const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_watch (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-watch");
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *watch_dir = g_build_filename (dir, "watch", NULL);
  g_autoptr(TeEngine) engine = te_test_new_engine (0, 0);
  g_autoptr(TeWatchFolder) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bad = g_build_filename (watch_dir, "broken.torrent", NULL);
  g_autofree char *magnet = g_build_filename (watch_dir, "m.magnet", NULL);
  g_autofree char *again = g_build_filename (watch_dir, "again.torrent", NULL);
  g_autofree char *first = g_build_filename (watch_dir, "t000.torrent.added", NULL);
  Seen seen = { 0, 0, g_ptr_array_new_with_free_func (g_free) };

  g_assert_cmpint (g_mkdir_with_parents (watch_dir, 0755), ==, 0);
  /* Already there when the watch starts: more than one batch, one broken file. */
  for (guint i = 0; i < N_TORRENTS; i++)
    g_free (write_torrent (data_dir, watch_dir, i));
  g_assert_true (g_file_set_contents (bad, "d4:infod4:name", -1, NULL));

  watch = te_watch_folder_new (engine, watch_dir, &error);
  g_assert_no_error (error);
  g_signal_connect (watch, "added", G_CALLBACK (added_cb), &seen);
  g_signal_connect (watch, "failed", G_CALLBACK (failed_cb), &seen);
  wait_idle (watch);

  g_assert_cmpuint (seen.added, ==, N_TORRENTS);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (engine)), ==, N_TORRENTS);
  g_assert_cmpuint (seen.failed->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (seen.failed, 0), bad));
  g_assert_true (exists (watch_dir, "broken.torrent.invalid"));
  for (guint i = 0; i < N_TORRENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%03u.torrent", i);
      g_autofree char *marked = g_strdup_printf ("t%03u.torrent.added", i);

      g_assert_false (exists (watch_dir, name));
      g_assert_true (exists (watch_dir, marked));
    }

  /* Arriving later: a magnet link, and the same torrent again, which counts as done. */
  g_assert_true (g_file_set_contents (magnet, "  magnet:?xt=urn:btih:"
                                      "0123456789abcdef0123456789abcdef01234567&dn=later\n", -1, NULL));
  g_assert_cmpint (link (first, again), ==, 0);
  wait_idle (watch);
  g_assert_cmpuint (seen.added, ==, N_TORRENTS + 1);
  g_assert_cmpuint (seen.duplicates, ==, 1);
  g_assert_nonnull (te_engine_find_torrent (engine, "0123456789abcdef0123456789abcdef01234567"));
  g_assert_true (exists (watch_dir, "m.magnet.added"));
  g_assert_true (exists (watch_dir, "again.torrent.added"));
  g_assert_cmpuint (seen.failed->len, ==, 1);

  g_clear_object (&watch);
  g_ptr_array_unref (seen.failed);
  te_engine_stop (engine);
  te_test_rm_rf (dir);
}

/* With a state manager, a file is marked added only once its torrent's state
 * is on disk: at no moment is there a *.added file without the state that
 * brings its torrent back after a crash. */
static void
test_after_save (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-watch-save");
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *watch_dir = g_build_filename (dir, "watch", NULL);
  g_autofree char *state_dir = g_build_filename (dir, "state", NULL);
  g_autoptr(TeEngine) engine = te_test_new_engine (0, 0);
  g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
  g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));
  g_autoptr(TeWatchFolder) watch = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint marked = 0, seen_waiting = 0;

  g_assert_cmpint (g_mkdir_with_parents (watch_dir, 0755), ==, 0);
  for (guint i = 0; i < 40; i++)
    g_ptr_array_add (ids, write_torrent (data_dir, watch_dir, i));
  watch = te_watch_folder_new (engine, watch_dir, &error);
  g_assert_no_error (error);
  te_watch_folder_set_state_manager (watch, manager);

  while (marked < ids->len)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
      marked = 0;
      for (guint i = 0; i < ids->len; i++)
        {
          g_autofree char *name = g_strdup_printf ("t%03u.torrent.added", i);
          g_autofree char *json = g_strconcat (g_ptr_array_index (ids, i), ".json", NULL);
          gboolean added = te_engine_find_torrent (engine, g_ptr_array_index (ids, i)) != NULL;

          if (exists (watch_dir, name))
            {
              g_assert_true (exists (state_dir, json));
              marked++;
            }
          else if (added && !exists (state_dir, json))
            seen_waiting++;
        }
    }
  /* The wait was real: torrents were in the engine, their files not yet marked. */
  g_assert_cmpuint (seen_waiting, >, 0);
  wait_idle (watch);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (engine)), ==, ids->len);

  g_clear_object (&watch);
  g_clear_object (&manager);
  te_engine_stop (engine);
  te_test_rm_rf (dir);
}

/* The piece limit holds here as through the API: 2^21 + 1 pieces (a 40 MiB
 * .torrent, under the 64 MiB file limit) is refused and marked invalid. */
static void
test_too_many_pieces (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-watch-pieces");
  g_autofree char *watch_dir = g_build_filename (dir, "watch", NULL);
  g_autofree char *huge = g_build_filename (watch_dir, "huge.torrent", NULL);
  g_autoptr(TeEngine) engine = te_test_new_engine (0, 0);
  g_autoptr(TeWatchFolder) watch = NULL;
  g_autoptr(GError) error = NULL;
  guint64 n = (guint64) TE_METAINFO_MAX_PIECES + 1;
  g_autofree char *head = g_strdup_printf ("d4:infod6:lengthi%" G_GUINT64_FORMAT "e4:name4:huge"
                                           "12:piece lengthi16384e6:pieces%" G_GUINT64_FORMAT ":",
                                           n * 16384, n * 20);
  gsize len = strlen (head) + n * 20 + 2;
  g_autofree char *data = g_malloc0 (len);
  Seen seen = { 0, 0, g_ptr_array_new_with_free_func (g_free) };

  memcpy (data, head, strlen (head));
  memcpy (data + len - 2, "ee", 2);
  g_assert_cmpint (g_mkdir_with_parents (watch_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (huge, data, len, NULL));
  g_clear_pointer (&data, g_free);

  watch = te_watch_folder_new (engine, watch_dir, &error);
  g_assert_no_error (error);
  g_signal_connect (watch, "added", G_CALLBACK (added_cb), &seen);
  g_signal_connect (watch, "failed", G_CALLBACK (failed_cb), &seen);
  wait_idle (watch);

  g_assert_cmpuint (seen.added, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (engine)), ==, 0);
  g_assert_cmpuint (seen.failed->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (seen.failed, 0), "2097153 pieces; at most 2097152"));
  g_assert_true (exists (watch_dir, "huge.torrent.invalid"));

  g_clear_object (&watch);
  g_ptr_array_unref (seen.failed);
  te_engine_stop (engine);
  te_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/watch-folder/adds-and-marks", test_watch);
  g_test_add_func ("/watch-folder/marks-after-save", test_after_save);
  g_test_add_func ("/watch-folder/too-many-pieces", test_too_many_pieces);
  return g_test_run ();
}
