/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-file-state-store.h"
#include "te-queue-manager.h"
#include "te-state-manager.h"
#include "te-test-utils.h"
#include "te-torrent.h"
#include "te-torrent-private.h"

/* The engine's public face: queueing, errors and recovery, saved state,
 * moving data. Everything goes through TeEngine and TeTorrent. */

#define PIECE (16 * 1024)

static GInetSocketAddress *
local_address (TeEngine *engine)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (lo, te_engine_get_port (engine)));
}

static guint
count_state (TeTorrent      **torrents,
             guint            n,
             TeTorrentState   state)
{
  guint c = 0;

  for (guint i = 0; i < n; i++)
    c += te_torrent_get_state (torrents[i]) == state;
  return c;
}

/* With 5 torrents and 2 slots exactly 2 download; completing one starts the
 * next by priority; pausing frees a slot; a stalled one stops holding its slot. */
static void
test_queue (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-queue");
  g_autofree char *seed_dir = g_build_filename (dir, "seed", NULL);
  g_autofree char *down_dir = g_build_filename (dir, "down", NULL);
  g_autoptr(TeEngine) seeder = te_test_new_engine (0, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (2, 0);
  g_autoptr(GInetSocketAddress) seeder_addr = NULL;
  TeTorrent *t[5];
  const TeQueuePriority prio[5] = {
    TE_QUEUE_PRIORITY_NORMAL, TE_QUEUE_PRIORITY_NORMAL, TE_QUEUE_PRIORITY_LOW,
    TE_QUEUE_PRIORITY_HIGH, TE_QUEUE_PRIORITY_NORMAL,
  };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u.bin", i);
      g_autoptr(TeMetainfo) meta = te_test_make_payload (seed_dir, name, 12 * PIECE + i, i + 1);
      TeAddOptions options;

      if (i == 3)
        {
          TeTorrent *s = te_engine_add_torrent (seeder, meta, seed_dir, &error);
          g_assert_no_error (error);
          te_test_wait_state (s, TE_TORRENT_STATE_SEEDING);
        }
      te_add_options_init (&options);
      options.save_path = down_dir;
      options.priority = prio[i];
      t[i] = te_engine_add_torrent_full (leecher, meta, &options, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (te_torrent_get_queue_position (t[i]), ==, i);
    }
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (leecher)), ==, 5);

  /* High first, then normal by position. */
  te_test_wait_state (t[3], TE_TORRENT_STATE_DOWNLOADING);
  te_test_wait_state (t[0], TE_TORRENT_STATE_DOWNLOADING);
  te_test_spin (300);
  g_assert_cmpuint (count_state (t, 5, TE_TORRENT_STATE_DOWNLOADING), ==, 2);
  g_assert_cmpuint (count_state (t, 5, TE_TORRENT_STATE_QUEUED), ==, 3);

  /* t3 finishes: the next normal one (t1) takes its slot, not the low t2. */
  seeder_addr = local_address (seeder);
  te_torrent_add_peer (t[3], seeder_addr);
  te_test_wait_state (t[3], TE_TORRENT_STATE_SEEDING);
  te_test_wait_state (t[1], TE_TORRENT_STATE_DOWNLOADING);
  te_test_spin (300);
  g_assert_cmpint (te_torrent_get_state (t[0]), ==, TE_TORRENT_STATE_DOWNLOADING);
  g_assert_cmpint (te_torrent_get_state (t[2]), ==, TE_TORRENT_STATE_QUEUED);
  g_assert_cmpint (te_torrent_get_state (t[4]), ==, TE_TORRENT_STATE_QUEUED);

  /* Pausing t0 frees its slot for t4 (normal beats low). */
  te_torrent_pause (t[0]);
  g_assert_cmpint (te_torrent_get_state (t[0]), ==, TE_TORRENT_STATE_PAUSED);
  te_test_wait_state (t[4], TE_TORRENT_STATE_DOWNLOADING);
  g_assert_cmpint (te_torrent_get_state (t[2]), ==, TE_TORRENT_STATE_QUEUED);

  /* Resuming t0 waits for a slot. */
  te_torrent_start (t[0]);
  te_test_spin (300);
  g_assert_cmpint (te_torrent_get_state (t[0]), ==, TE_TORRENT_STATE_DOWNLOADING);
  g_assert_cmpuint (count_state (t, 5, TE_TORRENT_STATE_DOWNLOADING), ==, 2);

  /* Moving t2 to the front with high priority takes a slot from the last one. */
  te_engine_set_queue_position (leecher, t[2], 0);
  te_engine_set_priority (leecher, t[2], TE_QUEUE_PRIORITY_HIGH);
  te_test_wait_state (t[2], TE_TORRENT_STATE_DOWNLOADING);
  g_assert_cmpuint (te_torrent_get_queue_position (t[2]), ==, 0);
  te_test_spin (300);
  g_assert_cmpuint (count_state (t, 5, TE_TORRENT_STATE_DOWNLOADING), ==, 2);

  /* Nobody has their data: once stalled, none holds a slot, and all run. */
  te_queue_manager_set_stall_timeout (te_engine_get_queue (leecher), 1);
  for (guint i = 0; i < 5; i++)
    if (i != 3)
      te_test_wait_state (t[i], TE_TORRENT_STATE_DOWNLOADING);

  te_engine_stop (leecher);
  te_engine_stop (seeder);
  te_test_rm_rf (dir);
}

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          TeErrorEvent      **out)
{
  if (event->action == TE_ERROR_ACTION_PAUSE && *out == NULL)
    *out = te_error_event_copy (event);
}

/* A data file deleted under a seeding torrent: a filesystem error that pauses
 * it; once the file is back, resuming checks the data and seeds again. */
static void
test_deleted_file (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-deleted");
  g_autofree char *seed_dir = g_build_filename (dir, "seed", NULL);
  g_autofree char *down_dir = g_build_filename (dir, "down", NULL);
  g_autofree char *path = g_build_filename (seed_dir, "data.bin", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (seed_dir, "data.bin", 40 * PIECE, 7);
  g_autoptr(TeEngine) seeder = te_test_new_engine (3, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (3, 0);
  g_autoptr(GInetSocketAddress) addr = NULL;
  g_autoptr(GBytes) original = te_test_read_file (path);
  g_autoptr(GError) error = NULL;
  TeErrorEvent *event = NULL;
  TeTorrent *seed, *leech;

  seed = te_engine_add_torrent (seeder, meta, seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  g_signal_connect (seed, "error", G_CALLBACK (error_cb), &event);

  g_assert_cmpint (g_unlink (path), ==, 0);
  /* A peer comes: the seed looks at its files while serving. */
  te_engine_set_limits (leecher, 64 * 1024, 0);
  leech = te_engine_add_torrent (leecher, meta, down_dir, &error);
  g_assert_no_error (error);
  addr = local_address (seeder);
  te_torrent_add_peer (leech, addr);
  te_test_wait_state (seed, TE_TORRENT_STATE_ERROR);
  g_assert_nonnull (event);
  g_assert_cmpint (event->category, ==, TE_ERROR_CATEGORY_FILESYSTEM);
  g_assert_cmpstr (event->code, ==, "file_missing");
  g_assert_true (event->recoverable);
  g_assert_nonnull (strstr (event->message, "data.bin"));
  g_assert_nonnull (strstr (te_torrent_get_error (seed)->message, "missing"));
  g_assert_cmpint (te_torrent_get_state (leech), !=, TE_TORRENT_STATE_ERROR);

  /* The user puts the file back and resumes: a check, then seeding. */
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (original, NULL),
                                      g_bytes_get_size (original), NULL));
  te_torrent_start (seed);
  g_assert_cmpint (te_torrent_get_state (seed), ==, TE_TORRENT_STATE_CHECKING);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  g_assert_null (te_torrent_get_error (seed));
  g_assert_cmpfloat (te_torrent_get_progress (seed), ==, 1.0);

  te_error_event_free (event);
  te_engine_stop (leecher);
  te_engine_stop (seeder);
  te_test_rm_rf (dir);
}

static void
flushed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (te_state_manager_flush_finish (TE_STATE_MANAGER (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
flush (TeStateManager *manager)
{
  gboolean done = FALSE;

  te_state_manager_flush_async (manager, NULL, flushed_cb, &done);
  te_test_wait_for (&done);
}

typedef struct {
  gboolean done;
  guint    n;
} Restore;

static void
restored_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Restore *r = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (te_state_manager_restore_finish (TE_STATE_MANAGER (source), result, &r->n, &error));
  g_assert_no_error (error);
  r->done = TRUE;
}

static void
problem_cb (TeStateManager *manager,
            const char     *id,
            const GError   *error,
            char          **out)
{
  g_free (*out);
  *out = g_strdup (id);
}

/* Saved state comes back without a rehash when the files are unchanged; a
 * corrupt state file falls back to the newest good backup, and says so. */
static void
test_state_restore (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-state");
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *state_dir = g_build_filename (dir, "state", NULL);
  g_autofree char *data = g_build_filename (data_dir, "x.bin", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (data_dir, "x.bin", 30 * PIECE, 9);
  g_autofree char *id = te_metainfo_dup_info_hash_hex (meta);
  g_autofree char *json = NULL;
  g_autofree char *problem_id = NULL;
  g_autoptr(GError) error = NULL;
  Restore r = { 0 };
  TeTorrent *t;

  {
    g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
    g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
    g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));

    t = te_engine_add_torrent (engine, meta, data_dir, &error);
    g_assert_no_error (error);
    te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
    flush (manager);
    te_engine_set_priority (engine, t, TE_QUEUE_PRIORITY_HIGH);
    flush (manager);
    /* Saved as it ran: stopping must not be recorded. */
    g_clear_object (&manager);
    te_engine_stop (engine);
  }

  /* The newest file is cut short, as by a crash in the middle of a write
   * that was not atomic; its backup is whole. */
  json = g_build_filename (state_dir, id, NULL);
  {
    g_autofree char *path = g_strconcat (json, ".json", NULL);
    g_autofree char *backup = g_strconcat (json, ".json.1", NULL);
    g_autofree char *contents = NULL;
    gsize len;

    g_assert_true (g_file_test (backup, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    g_assert_nonnull (strstr (contents, "\"high\""));
    g_assert_true (g_file_set_contents (path, contents, (gssize) len / 2, NULL));
  }
  /* A piece changed on disk: a restore that rehashed would notice. */
  {
    FILE *f = fopen (data, "r+b");

    g_assert_nonnull (f);
    fseek (f, 5 * PIECE, SEEK_SET);
    fputs ("changed", f);
    fclose (f);
  }

  {
    g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
    g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
    g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));

    g_signal_connect (manager, "problem", G_CALLBACK (problem_cb), &problem_id);
    te_state_manager_restore_async (manager, NULL, restored_cb, &r);
    te_test_wait_for (&r.done);
    g_assert_cmpuint (r.n, ==, 1);
    g_assert_cmpstr (problem_id, ==, id);
    t = te_engine_find_torrent (engine, id);
    g_assert_nonnull (t);
    te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
    /* Restored from the backup, which predates the priority change; the
     * bitfield was trusted, so the changed piece still counts. */
    g_assert_cmpint (te_torrent_get_priority (t), ==, TE_QUEUE_PRIORITY_NORMAL);
    g_assert_cmpuint (te_bitfield_count (te_torrent_get_have (t)), ==, 30);

    /* A recheck finds the change. */
    te_torrent_recheck (t);
    te_test_wait_state (t, TE_TORRENT_STATE_DOWNLOADING);
    g_assert_false (te_bitfield_get (te_torrent_get_have (t), 5));
    g_assert_cmpuint (te_bitfield_count (te_torrent_get_have (t)), ==, 29);
    flush (manager);
    g_clear_object (&manager);
    te_engine_stop (engine);
  }
  te_test_rm_rf (dir);
}

static gboolean
state_saved (const char *state_dir,
             const char *id,
             const char *suffix)
{
  g_autofree char *name = g_strconcat (id, suffix, NULL);
  g_autofree char *path = g_build_filename (state_dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* A torrent added with data to check is first saved once its check ended, so
 * a mass add writes each state once; a flush still saves it at once, and one
 * removed meanwhile is never written. */
static void
test_first_save (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-first-save");
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *state_dir = g_build_filename (dir, "state", NULL);
  g_autoptr(TeMetainfo) meta_a = te_test_make_payload (data_dir, "a.bin", 40 * PIECE, 21);
  g_autoptr(TeMetainfo) meta_b = te_test_make_payload (data_dir, "b.bin", 20 * PIECE, 22);
  g_autoptr(TeMetainfo) meta_c = te_test_make_payload (data_dir, "c.bin", 20 * PIECE, 23);
  g_autofree char *a = te_metainfo_dup_info_hash_hex (meta_a);
  g_autofree char *b = te_metainfo_dup_info_hash_hex (meta_b);
  g_autofree char *c = te_metainfo_dup_info_hash_hex (meta_c);
  g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
  g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
  g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *doc;
  g_autofree char *json_name = g_strconcat (a, ".json", NULL);
  g_autofree char *json = g_build_filename (state_dir, json_name, NULL);
  TeTorrent *ta, *tc;
  gint64 deadline;

  ta = te_engine_add_torrent (engine, meta_a, data_dir, &error);
  g_assert_no_error (error);
  tc = te_engine_add_torrent (engine, meta_c, data_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (te_torrent_get_state (ta), ==, TE_TORRENT_STATE_CHECKING);
  te_engine_remove (engine, tc, FALSE);

  te_test_wait_state (ta, TE_TORRENT_STATE_SEEDING);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!state_saved (state_dir, a, ".json") && g_get_monotonic_time () < deadline)
    te_test_spin (50);
  /* Written once, after the check: no earlier version, all pieces in it. */
  g_assert_true (state_saved (state_dir, a, ".json"));
  g_assert_true (state_saved (state_dir, a, ".torrent"));
  g_assert_false (state_saved (state_dir, a, ".json.1"));
  g_assert_true (json_parser_load_from_file (parser, json, NULL));
  doc = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (doc, "completedPieces"), ==, 40);
  g_assert_cmpstr (json_object_get_string_member (doc, "state"), ==, "seeding");

  /* Added and flushed at once, still checking: saved by the flush. */
  g_assert_nonnull (te_engine_add_torrent (engine, meta_b, data_dir, &error));
  g_assert_no_error (error);
  flush (manager);
  g_assert_true (state_saved (state_dir, b, ".json"));
  g_assert_true (state_saved (state_dir, b, ".torrent"));

  te_test_spin (200);
  g_assert_false (state_saved (state_dir, c, ".json"));
  g_assert_false (state_saved (state_dir, c, ".torrent"));

  g_clear_object (&manager);
  te_engine_stop (engine);
  te_test_rm_rf (dir);
}

static void
moved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (te_engine_move_storage_finish (TE_ENGINE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
progress_cb (goffset  current,
             goffset  total,
             gpointer user_data)
{
  *(goffset *) user_data = current;
}

/* Moving a seeding torrent's data: files land in the new folder, whole, and
 * the torrent seeds from there. */
static void
test_move_storage (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-move");
  g_autofree char *from = g_build_filename (dir, "from", NULL);
  g_autofree char *to = g_build_filename (dir, "to", NULL);
  g_autofree char *old_path = g_build_filename (from, "m.bin", NULL);
  g_autofree char *new_path = g_build_filename (to, "m.bin", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (from, "m.bin", 20 * PIECE + 3, 11);
  g_autoptr(GBytes) original = te_test_read_file (old_path);
  g_autoptr(GBytes) moved = NULL;
  g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;
  goffset progress = 0;
  TeTorrent *t;

  t = te_engine_add_torrent (engine, meta, from, &error);
  g_assert_no_error (error);
  te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
  te_engine_move_storage_async (engine, t, to, progress_cb, &progress, NULL, moved_cb, &done);
  te_test_wait_for (&done);
  g_assert_cmpint (progress, ==, 20 * PIECE + 3);
  g_assert_false (g_file_test (old_path, G_FILE_TEST_EXISTS));
  moved = te_test_read_file (new_path);
  g_assert_true (g_bytes_equal (original, moved));
  g_assert_cmpstr (te_torrent_get_save_path (t), ==, to);
  te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
  te_torrent_recheck (t);
  te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
  g_assert_cmpuint (te_bitfield_count (te_torrent_get_have (t)), ==, 21);

  /* Removing with its data deletes the files. */
  te_engine_remove (engine, t, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (engine)), ==, 0);
  for (guint i = 0; i < 100 && g_file_test (new_path, G_FILE_TEST_EXISTS); i++)
    te_test_spin (20);
  g_assert_false (g_file_test (new_path, G_FILE_TEST_EXISTS));
  te_engine_stop (engine);
  te_test_rm_rf (dir);
}

static char *
tracker_list (TeTorrent *t)
{
  g_autoptr(GPtrArray) trackers = te_torrent_dup_trackers (t);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < trackers->len; i++)
    {
      const TeTrackerInfo *info = g_ptr_array_index (trackers, i);

      g_string_append_printf (s, "%s%u:%s", i ? " " : "", info->tier, info->url);
    }
  return g_string_free (s, FALSE);
}

/* Trackers edited by the user are announced to, checked, and come back after
 * a restart. */
static void
test_trackers (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-trackers");
  g_autofree char *state_dir = g_build_filename (dir, "state", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (dir, "t.bin", 4 * PIECE, 5);
  g_autofree char *id = te_metainfo_dup_info_hash_hex (meta);
  g_autoptr(GError) error = NULL;
  Restore r = { 0 };
  TeTorrent *t;

  {
    g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
    g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
    g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));
    g_autofree char *list = NULL;

    t = te_engine_add_torrent (engine, meta, dir, &error);
    g_assert_no_error (error);
    te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);

    g_assert_true (te_torrent_add_tracker (t, "http://127.0.0.1:9/announce", 0, &error));
    g_assert_no_error (error);
    g_assert_true (te_torrent_add_tracker (t, "udp://127.0.0.1:9", -1, &error));
    g_assert_true (te_torrent_add_tracker (t, "http://localhost:9/a", 0, &error));
    g_assert_false (te_torrent_add_tracker (t, "udp://127.0.0.1:9", 0, &error));
    g_assert_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_TRACKER_EXISTS);
    g_clear_error (&error);
    g_assert_false (te_torrent_add_tracker (t, "file:///etc/passwd", 0, &error));
    g_assert_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_INVALID_TRACKER);
    g_clear_error (&error);
    g_assert_false (te_torrent_remove_tracker (t, "http://nowhere/", &error));
    g_assert_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_NO_TRACKER);
    g_clear_error (&error);
    g_assert_true (te_torrent_replace_tracker (t, "http://localhost:9/a", "https://localhost:9/b",
                                               &error));
    g_assert_true (te_torrent_remove_tracker (t, "http://127.0.0.1:9/announce", &error));
    g_assert_no_error (error);
    list = tracker_list (t);
    g_assert_cmpstr (list, ==, "0:https://localhost:9/b 1:udp://127.0.0.1:9");
    flush (manager);
    g_clear_object (&manager);
    te_engine_stop (engine);
  }
  {
    g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
    g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
    g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));
    g_autofree char *list = NULL;

    te_state_manager_restore_async (manager, NULL, restored_cb, &r);
    te_test_wait_for (&r.done);
    t = te_engine_find_torrent (engine, id);
    g_assert_nonnull (t);
    list = tracker_list (t);
    g_assert_cmpstr (list, ==, "0:https://localhost:9/b 1:udp://127.0.0.1:9");
    g_clear_object (&manager);
    te_engine_stop (engine);
  }
  te_test_rm_rf (dir);
}

/* An engine dropped while a check runs: the check's end finds the torrent
 * cut off instead of reaching into the engine. */
static void
test_engine_gone (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-gone");
  g_autoptr(TeMetainfo) meta = te_test_make_payload (dir, "g.bin", 400 * PIECE, 3);
  TeEngine *engine = te_test_new_engine (3, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeTorrent) t = NULL;

  t = g_object_ref (te_engine_add_torrent (engine, meta, dir, &error));
  g_assert_no_error (error);
  g_assert_cmpint (te_torrent_get_state (t), ==, TE_TORRENT_STATE_CHECKING);
  te_engine_stop (engine);
  g_assert_finalize_object (engine);
  te_test_spin (300);
  g_assert_cmpint (te_torrent_get_state (t), !=, TE_TORRENT_STATE_SEEDING);
  te_test_rm_rf (dir);
}

static void
stopped_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (te_engine_stop_finish (TE_ENGINE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* Stopping in slices: peers are refused at once, and every torrent is paused
 * when the task completes. */
static void
test_stop_async (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-stop");
  g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  TeTorrent *torrents[12];
  gboolean done = FALSE;
  guint16 port = te_engine_get_port (engine);

  for (guint i = 0; i < G_N_ELEMENTS (torrents); i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u.bin", i);
      g_autoptr(TeMetainfo) meta = te_test_make_payload (dir, name, 4 * PIECE, 40 + i);

      torrents[i] = te_engine_add_torrent (engine, meta, dir, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (torrents); i++)
    te_test_wait_state (torrents[i], TE_TORRENT_STATE_SEEDING);

  te_engine_stop_async (engine, NULL, stopped_cb, &done);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (connection);
  te_test_wait_for (&done);
  g_assert_cmpuint (count_state (torrents, G_N_ELEMENTS (torrents), TE_TORRENT_STATE_PAUSED),
                    ==, G_N_ELEMENTS (torrents));
  te_test_rm_rf (dir);
}

/* Seeds with no peers are ticked only now and then; a seeding-time limit
 * still ends their seeding within a few seconds of it, each on its own. */
static void
test_seed_time_limit (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-seed-time");
  g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
  g_autoptr(GError) error = NULL;
  TeTorrent *torrents[6];
  gint64 limit_at, deadline;

  for (guint i = 0; i < G_N_ELEMENTS (torrents); i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u.bin", i);
      g_autoptr(TeMetainfo) meta = te_test_make_payload (dir, name, 2 * PIECE, 60 + i);

      torrents[i] = te_engine_add_torrent (engine, meta, dir, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (torrents); i++)
    te_test_wait_state (torrents[i], TE_TORRENT_STATE_SEEDING);
  /* Seeding long enough that the ticks treat them as quiet seeds. */
  te_test_spin (2500);
  g_assert_cmpuint (count_state (torrents, G_N_ELEMENTS (torrents), TE_TORRENT_STATE_SEEDING),
                    ==, G_N_ELEMENTS (torrents));

  for (guint i = 0; i < G_N_ELEMENTS (torrents); i++)
    te_torrent_set_seed_limits (torrents[i], 0, 3000);
  limit_at = g_get_monotonic_time ();
  deadline = limit_at + 10 * G_USEC_PER_SEC;
  while (count_state (torrents, G_N_ELEMENTS (torrents), TE_TORRENT_STATE_COMPLETE) < G_N_ELEMENTS (torrents)
         && g_get_monotonic_time () < deadline)
    te_test_spin (100);
  g_assert_cmpuint (count_state (torrents, G_N_ELEMENTS (torrents), TE_TORRENT_STATE_COMPLETE),
                    ==, G_N_ELEMENTS (torrents));
  /* Seeding began before the limit was set: it may end at once, and no later
   * than a quiet seed's turn after the limit (four seconds). */
  g_assert_cmpint (g_get_monotonic_time () - limit_at, <, 5 * G_USEC_PER_SEC);
  te_test_rm_rf (dir);
}

static void
count_cb (TeEngine *engine,
          gpointer  user_data)
{
  (*(guint *) user_data)++;
}

/* Settings changed at runtime reach the queue, the seeding limits and the
 * speed limits, alternative ones included. */
static void
test_runtime_settings (void)
{
  g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
  TeEngineSettings s;
  guint changes = 0;

  g_signal_connect (engine, "settings-changed", G_CALLBACK (count_cb), &changes);
  te_engine_settings_copy (&s, te_engine_get_settings (engine));
  s.max_active_downloads = 7;
  s.download_limit = 1000000;
  s.alt_download_limit = 2000;
  s.alt_upload_limit = 3000;
  s.seed_ratio_limit = 4.5;
  te_engine_set_settings (engine, &s);
  te_engine_settings_clear (&s);
  g_assert_cmpuint (changes, ==, 1);
  g_assert_cmpuint (te_engine_get_settings (engine)->max_active_downloads, ==, 7);
  g_assert_cmpuint (te_queue_manager_get_max_downloads (te_engine_get_queue (engine)), ==, 7);
  g_assert_cmpfloat (te_engine_get_settings (engine)->seed_ratio_limit, ==, 4.5);
  g_assert_cmpuint (_te_engine_get_down_bucket (engine)->rate, ==, 1000000);

  g_assert_false (te_engine_get_alt_speed (engine));
  te_engine_set_alt_speed (engine, TRUE);
  g_assert_true (te_engine_get_alt_speed (engine));
  g_assert_cmpuint (changes, ==, 2);
  g_assert_cmpuint (_te_engine_get_down_bucket (engine)->rate, ==, 2000);
  g_assert_cmpuint (_te_engine_get_up_bucket (engine)->rate, ==, 3000);
  te_engine_set_alt_speed (engine, TRUE);
  g_assert_cmpuint (changes, ==, 2);
  te_engine_set_alt_speed (engine, FALSE);
  g_assert_cmpuint (_te_engine_get_down_bucket (engine)->rate, ==, 1000000);
  g_assert_cmpuint (_te_engine_get_up_bucket (engine)->rate, ==, 0);
  te_engine_stop (engine);
}

/* A session larger than one restore batch comes back whole and in its saved
 * queue order, which is not the order the store lists it in. */
static void
test_restore_order (void)
{
  const guint n = 300;
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-order");
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *state_dir = g_build_filename (dir, "state", NULL);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  Restore r = { 0 };

  {
    g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
    g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
    g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));

    for (guint i = 0; i < n; i++)
      {
        g_autofree char *name = g_strdup_printf ("o%03u.bin", i);
        g_autoptr(TeMetainfo) meta = te_test_make_payload (data_dir, name, 1000 + i, 100 + i);
        TeTorrent *t = te_engine_add_torrent (engine, meta, data_dir, &error);

        g_assert_no_error (error);
        /* Each new one first: the saved order is the reverse of adding. */
        te_engine_set_queue_position (engine, t, 0);
      }
    for (guint i = 0; i < n; i++)
      {
        g_autoptr(TeTorrent) t = g_list_model_get_item (G_LIST_MODEL (engine), i);

        te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
        g_assert_cmpuint (te_torrent_get_queue_position (t), ==, n - 1 - i);
        g_ptr_array_add (ids, te_torrent_dup_id (t));
      }
    flush (manager);
    g_clear_object (&manager);
    te_engine_stop (engine);
  }

  {
    g_autoptr(TeEngine) engine = te_test_new_engine (3, 0);
    g_autoptr(TeFileStateStore) store = te_file_state_store_new (state_dir);
    g_autoptr(TeStateManager) manager = te_state_manager_new (engine, TE_STATE_STORE (store));

    te_state_manager_restore_async (manager, NULL, restored_cb, &r);
    te_test_wait_for (&r.done);
    g_assert_cmpuint (r.n, ==, n);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (engine)), ==, n);
    for (guint i = 0; i < n; i++)
      {
        TeTorrent *t = te_engine_find_torrent (engine, g_ptr_array_index (ids, i));

        g_assert_nonnull (t);
        g_assert_cmpuint (te_torrent_get_queue_position (t), ==, n - 1 - i);
        te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
      }
    g_clear_object (&manager);
    te_engine_stop (engine);
  }
  te_test_rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/te/engine/queue", test_queue);
  g_test_add_func ("/te/engine/deleted-file", test_deleted_file);
  g_test_add_func ("/te/engine/state-restore", test_state_restore);
  g_test_add_func ("/te/engine/restore-order", test_restore_order);
  g_test_add_func ("/te/engine/first-save", test_first_save);
  g_test_add_func ("/te/engine/move-storage", test_move_storage);
  g_test_add_func ("/te/engine/trackers", test_trackers);
  g_test_add_func ("/te/engine/runtime-settings", test_runtime_settings);
  g_test_add_func ("/te/engine/engine-gone", test_engine_gone);
  g_test_add_func ("/te/engine/stop-async", test_stop_async);
  g_test_add_func ("/te/engine/seed-time-limit", test_seed_time_limit);
  return g_test_run ();
}
