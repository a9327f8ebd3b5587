/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "te-creator.h"
#include "te-metainfo.h"
#include "te-test-utils.h"

typedef struct {
  char *dir;
  char *payload;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  g_autofree char *a = NULL, *b = NULL, *empty = NULL;

  f->dir = te_test_make_tmpdir ("te-creator");
  f->payload = g_build_filename (f->dir, "payload", NULL);
  a = g_build_filename (f->payload, "a.bin", NULL);
  b = g_build_filename (f->payload, "x", "y", "b.bin", NULL);
  empty = g_build_filename (f->payload, "x", "empty", NULL);
  te_test_write_random (a, 100000, 1);
  te_test_write_random (b, 5 * 1024 * 1024 + 3, 2);
  te_test_write_random (empty, 0, 3);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->payload);
}

static TeMetainfo *
create (TeCreator *creator)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  TeMetainfo *meta;

  bytes = te_test_create_torrent (creator, &error);
  g_assert_no_error (error);
  meta = te_metainfo_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  return meta;
}

static void
test_options (Fixture      *f,
              gconstpointer data)
{
  g_autoptr(TeCreator) creator = te_creator_new (f->payload);
  g_autoptr(TeMetainfo) meta = NULL;
  const char *tier1[] = { "http://t1/announce", "http://t1b/announce", NULL };
  const char *tier2[] = { "udp://t2:6969", NULL };
  GPtrArray *tiers;

  te_creator_set_version (creator, GPOINTER_TO_INT (data));
  te_creator_add_tracker_tier (creator, tier1);
  te_creator_add_tracker_tier (creator, tier2);
  te_creator_add_web_seed (creator, "http://seed/");
  te_creator_set_private (creator, TRUE);
  te_creator_set_comment (creator, "a comment");
  te_creator_set_creation_date (creator, -1);
  meta = create (creator);

  tiers = te_metainfo_get_tiers (meta);
  g_assert_cmpuint (tiers->len, ==, 2);
  g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (tiers, 0))->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index ((GPtrArray *) g_ptr_array_index (tiers, 1), 0), ==,
                   "udp://t2:6969");
  g_assert_cmpstr (te_metainfo_get_web_seeds (meta)[0], ==, "http://seed/");
  g_assert_true (te_metainfo_is_private (meta));
  g_assert_cmpstr (te_metainfo_get_comment (meta), ==, "a comment");
  g_assert_cmpint (te_metainfo_get_creation_date (meta), ==, -1);
  g_assert_nonnull (strstr (te_metainfo_get_created_by (meta), "TorrentEdge"));
  /* ~5.2 MiB / 1500 rounds up to 4 KiB, clamped to the 16 KiB minimum */
  g_assert_cmpuint (te_metainfo_get_piece_length (meta), ==, 16384);
  g_assert_cmpuint (te_creator_get_piece_size (creator), ==, 16384);
  g_assert_cmpuint (te_metainfo_get_total_size (meta), ==, 100000 + 5 * 1024 * 1024 + 3);
  g_assert_finalize_object (g_steal_pointer (&meta));
  te_test_finalize_object (g_steal_pointer (&creator));
}

static void
test_same_input_same_hash (Fixture      *f,
                           gconstpointer data)
{
  g_autoptr(TeMetainfo) a = NULL, b = NULL;
  g_autoptr(TeCreator) ca = te_creator_new (f->payload);
  g_autoptr(TeCreator) cb = te_creator_new (f->payload);

  /* Hashing runs on several threads; the result must not depend on their order. */
  te_creator_set_version (ca, TE_TORRENT_HYBRID);
  te_creator_set_version (cb, TE_TORRENT_HYBRID);
  te_creator_set_piece_size (ca, 16384);
  te_creator_set_piece_size (cb, 16384);
  a = create (ca);
  b = create (cb);
  g_assert_cmpmem (te_metainfo_get_info_hash (a), 20, te_metainfo_get_info_hash (b), 20);
  g_assert_cmpmem (te_metainfo_get_info_hash_v2 (a), 32, te_metainfo_get_info_hash_v2 (b), 32);
}

static void
test_skips_symlinks (Fixture      *f,
                     gconstpointer data)
{
  g_autofree char *link = g_build_filename (f->payload, "passwd", NULL);
  g_autoptr(TeCreator) creator = te_creator_new (f->payload);
  g_autoptr(TeMetainfo) meta = NULL;

  g_assert_cmpint (symlink ("/etc/passwd", link), ==, 0);
  meta = create (creator);
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    g_assert_null (strstr (te_metainfo_get_file (meta, i)->path, "passwd"));
  g_assert_cmpuint (te_metainfo_get_n_files (meta), ==, 3);
}

static void
test_errors (Fixture      *f,
             gconstpointer data)
{
  g_autofree char *empty_dir = g_build_filename (f->dir, "nothing", NULL);
  g_autofree char *bad_name = g_build_filename (f->payload, "CON", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  {
    g_autoptr(TeCreator) creator = te_creator_new (empty_dir);
    g_assert_cmpint (g_mkdir (empty_dir, 0755), ==, 0);
    bytes = te_test_create_torrent (creator, &error);
    g_assert_null (bytes);
    g_assert_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_NO_FILES);
    g_clear_error (&error);
  }
  {
    g_autoptr(TeCreator) creator = te_creator_new (f->payload);
    te_creator_set_piece_size (creator, 20000);
    bytes = te_test_create_torrent (creator, &error);
    g_assert_null (bytes);
    g_assert_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_BAD_PIECE_SIZE);
    g_clear_error (&error);
  }
  {
    g_autoptr(TeCreator) creator = te_creator_new (f->payload);
    te_test_write_random (bad_name, 10, 9);
    bytes = te_test_create_torrent (creator, &error);
    g_assert_null (bytes);
    g_assert_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_BAD_NAME);
    g_assert_nonnull (strstr (error->message, "CON"));
    g_clear_error (&error);
  }
}

static void
test_pick_piece_size (void)
{
  g_assert_cmpuint (te_creator_pick_piece_size (1), ==, 16384);
  g_assert_cmpuint (te_creator_pick_piece_size ((guint64) 1 << 30), ==, 1024 * 1024);
  g_assert_cmpuint (te_creator_pick_piece_size ((guint64) 1 << 40), ==, 16 * 1024 * 1024);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/creator/options/v1", Fixture, GINT_TO_POINTER (TE_TORRENT_V1),
              fixture_setup, test_options, fixture_teardown);
  g_test_add ("/te/creator/options/v2", Fixture, GINT_TO_POINTER (TE_TORRENT_V2),
              fixture_setup, test_options, fixture_teardown);
  g_test_add ("/te/creator/options/hybrid", Fixture, GINT_TO_POINTER (TE_TORRENT_HYBRID),
              fixture_setup, test_options, fixture_teardown);
  g_test_add ("/te/creator/deterministic", Fixture, NULL, fixture_setup,
              test_same_input_same_hash, fixture_teardown);
  g_test_add ("/te/creator/skips-symlinks", Fixture, NULL, fixture_setup, test_skips_symlinks,
              fixture_teardown);
  g_test_add ("/te/creator/errors", Fixture, NULL, fixture_setup, test_errors, fixture_teardown);
  g_test_add_func ("/te/creator/pick-piece-size", test_pick_piece_size);

  return g_test_run ();
}
