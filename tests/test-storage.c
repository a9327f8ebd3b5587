/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "te-storage.h"
#include "te-test-utils.h"

#define PIECE (32 * 1024)

typedef struct {
  char       *dir;
  char       *source;   /* the seed's copy: <dir>/src/payload */
  char       *target;   /* an empty save folder: <dir>/dst */
  TeMetainfo *meta;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  TeTorrentVersion version = GPOINTER_TO_INT (data);
  g_autofree char *a = NULL, *b = NULL, *c = NULL;

  f->dir = te_test_make_tmpdir ("te-storage");
  f->source = g_build_filename (f->dir, "src", "payload", NULL);
  f->target = g_build_filename (f->dir, "dst", NULL);
  a = g_build_filename (f->source, "a.bin", NULL);
  b = g_build_filename (f->source, "d", "b.bin", NULL);
  c = g_build_filename (f->source, "d", "c.bin", NULL);
  te_test_write_random (a, 2 * PIECE + 100, 1);
  te_test_write_random (b, 20000, 2);
  te_test_write_random (c, PIECE * 3, 3);
  f->meta = te_test_make_torrent (f->source, version, PIECE);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->source);
  g_free (f->target);
  te_test_finalize_object (f->meta);
}

typedef struct {
  gboolean         done;
  gboolean         ok;
  gboolean         valid;
  GBytes          *bytes;
  TeRecheckResult *recheck;
  GError          *error;
} Wait;

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Wait *w = user_data;

  w->ok = te_storage_write_block_finish (TE_STORAGE (source), result, &w->error);
  w->done = TRUE;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *w = user_data;

  w->bytes = te_storage_read_block_finish (TE_STORAGE (source), result, &w->error);
  w->done = TRUE;
}

static void
verified_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Wait *w = user_data;

  w->ok = te_storage_verify_piece_finish (TE_STORAGE (source), result, &w->valid, &w->error);
  w->done = TRUE;
}

static void
rechecked_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Wait *w = user_data;

  w->recheck = te_storage_recheck_finish (TE_STORAGE (source), result, &w->error);
  w->done = TRUE;
}

static TeRecheckResult *
recheck (TeStorage *storage)
{
  Wait w = { 0 };

  te_storage_recheck_async (storage, NULL, NULL, NULL, rechecked_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  return w.recheck;
}

static gboolean
verify_piece (TeStorage *storage,
              guint      piece)
{
  Wait w = { 0 };

  te_storage_verify_piece_async (storage, piece, NULL, verified_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  return w.valid;
}

/* Copies every piece from the seed's storage to a fresh one in 16 KiB blocks. */
static void
copy_all (TeStorage *from,
          TeStorage *to)
{
  TeMetainfo *meta = te_storage_get_metainfo (from);

  for (guint p = 0; p < te_metainfo_get_n_pieces (meta); p++)
    {
      guint32 size = te_metainfo_get_piece_size (meta, p);

      for (guint32 begin = 0; begin < size; begin += 16384)
        {
          guint32 len = MIN (16384, size - begin);
          Wait r = { 0 }, w = { 0 };

          te_storage_read_block_async (from, p, begin, len, NULL, read_cb, &r);
          te_test_wait_for (&r.done);
          g_assert_no_error (r.error);
          g_assert_cmpuint (g_bytes_get_size (r.bytes), ==, len);

          te_storage_write_block_async (to, p, begin, r.bytes, NULL, written_cb, &w);
          te_test_wait_for (&w.done);
          g_assert_no_error (w.error);
          g_assert_true (w.ok);
          g_bytes_unref (r.bytes);
        }
    }
}

static void
assert_same_file (const char *a,
                  const char *b)
{
  g_autoptr(GBytes) ba = te_test_read_file (a);
  g_autoptr(GBytes) bb = te_test_read_file (b);

  g_assert_true (g_bytes_equal (ba, bb));
}

static void
test_round_trip (Fixture      *f,
                 gconstpointer data)
{
  g_autofree char *src_parent = g_path_get_dirname (f->source);
  g_autoptr(TeStorage) seed = te_storage_new (f->meta, src_parent, TE_STORAGE_FLAGS_READ_ONLY);
  g_autoptr(TeStorage) leech = te_storage_new (f->meta, f->target, TE_STORAGE_FLAGS_NONE);
  g_autoptr(TeRecheckResult) before = NULL, after = NULL;
  const char *names[] = { "a.bin", "d/b.bin", "d/c.bin" };

  before = recheck (leech);
  g_assert_cmpuint (te_bitfield_count (before->have), ==, 0);
  g_assert_cmpuint (g_strv_length (before->missing_files), ==, 3);
  g_assert_false (verify_piece (leech, 0));

  copy_all (seed, leech);
  for (guint p = 0; p < te_metainfo_get_n_pieces (f->meta); p++)
    g_assert_true (verify_piece (leech, p));

  after = recheck (leech);
  g_assert_true (te_bitfield_is_full (after->have));
  g_assert_cmpuint (g_strv_length (after->missing_files), ==, 0);

  /* Pad files are never created; the data is byte for byte the seed's. */
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *a = g_build_filename (f->source, names[i], NULL);
      g_autofree char *b = g_build_filename (f->target, "payload", names[i], NULL);
      assert_same_file (a, b);
    }
  {
    g_autoptr(GPtrArray) tree = te_test_list_tree (f->target);
    g_assert_cmpuint (tree->len, ==, 3);
  }
  te_test_finalize_object (g_steal_pointer (&seed));
  te_test_finalize_object (g_steal_pointer (&leech));
}

static void
test_damage (Fixture      *f,
             gconstpointer data)
{
  g_autofree char *src_parent = g_path_get_dirname (f->source);
  g_autoptr(TeStorage) storage = te_storage_new (f->meta, src_parent, TE_STORAGE_FLAGS_NONE);
  g_autofree char *a = g_build_filename (f->source, "a.bin", NULL);
  g_autofree char *b = g_build_filename (f->source, "d", "b.bin", NULL);
  g_autoptr(TeRecheckResult) result = NULL;
  guint n = te_metainfo_get_n_pieces (f->meta);
  guint8 byte;
  FILE *fp;

  /* Flip one byte in the second piece of a.bin; delete b.bin. */
  fp = fopen (a, "r+b");
  g_assert_nonnull (fp);
  g_assert_cmpint (fseek (fp, PIECE + 7, SEEK_SET), ==, 0);
  g_assert_cmpuint (fread (&byte, 1, 1, fp), ==, 1);
  byte ^= 0x40;
  g_assert_cmpint (fseek (fp, PIECE + 7, SEEK_SET), ==, 0);
  g_assert_cmpuint (fwrite (&byte, 1, 1, fp), ==, 1);
  g_assert_cmpint (fclose (fp), ==, 0);
  g_assert_cmpint (g_unlink (b), ==, 0);

  result = recheck (storage);
  g_assert_cmpuint (g_strv_length (result->missing_files), ==, 1);
  g_assert_cmpstr (result->missing_files[0], ==, "payload/d/b.bin");
  g_assert_true (te_bitfield_get (result->have, 0));
  g_assert_false (te_bitfield_get (result->have, 1));
  g_assert_false (te_bitfield_is_full (result->have));
  /* c.bin's last piece is untouched whatever the layout. */
  g_assert_true (te_bitfield_get (result->have, n - 1));
  te_test_finalize_object (g_steal_pointer (&storage));
}

static void
test_errors (Fixture      *f,
             gconstpointer data)
{
  g_autofree char *blocker = g_build_filename (f->dir, "not-a-folder", NULL);
  g_autoptr(TeStorage) ro = te_storage_new (f->meta, f->target, TE_STORAGE_FLAGS_READ_ONLY);
  g_autoptr(TeStorage) blocked = NULL;
  g_autoptr(GBytes) block = g_bytes_new_take (g_malloc0 (16384), 16384);
  g_autoptr(GError) error = NULL;
  guint8 buf[16];
  Wait w = { 0 };

  /* Outside the torrent */
  te_storage_write_block_async (ro, te_metainfo_get_n_pieces (f->meta), 0, block, NULL,
                                written_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_error (w.error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_RANGE);
  g_clear_error (&w.error);
  g_assert_false (te_storage_read (ro, te_metainfo_get_span (f->meta) - 4, buf, 8, &error));
  g_assert_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_RANGE);
  g_clear_error (&error);

  /* Read-only */
  g_assert_false (te_storage_write (ro, 0, buf, sizeof buf, &error));
  g_assert_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_PERMISSION);
  g_clear_error (&error);

  /* Missing file */
  g_assert_false (te_storage_read (ro, 0, buf, sizeof buf, &error));
  g_assert_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "a.bin"));
  g_clear_error (&error);

  /* The save folder is a file: the error names the path. */
  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  blocked = te_storage_new (f->meta, blocker, TE_STORAGE_FLAGS_NONE);
  g_assert_false (te_storage_write (blocked, 0, buf, sizeof buf, &error));
  g_assert_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "not-a-folder"));
  te_test_finalize_object (g_steal_pointer (&ro));
  te_test_finalize_object (g_steal_pointer (&blocked));
}

static void
test_sparse_and_preallocated (Fixture      *f,
                              gconstpointer data)
{
  g_autofree char *sparse_dir = g_build_filename (f->dir, "sparse", NULL);
  g_autofree char *full_dir = g_build_filename (f->dir, "full", NULL);
  g_autoptr(TeStorage) sparse = te_storage_new (f->meta, sparse_dir, TE_STORAGE_FLAGS_NONE);
  g_autoptr(TeStorage) full = te_storage_new (f->meta, full_dir, TE_STORAGE_FLAGS_PREALLOCATE);
  const TeFile *c = te_metainfo_get_file (f->meta, te_metainfo_get_n_files (f->meta) - 1);
  g_autofree char *sparse_c = g_build_filename (sparse_dir, c->path, NULL);
  g_autofree char *full_c = g_build_filename (full_dir, c->path, NULL);
  g_autoptr(GError) error = NULL;
  guint8 buf[100] = { 1 };
  struct stat st;

  g_assert_true (te_storage_write (sparse, c->offset, buf, sizeof buf, &error));
  g_assert_true (te_storage_write (full, c->offset, buf, sizeof buf, &error));
  g_assert_no_error (error);

  g_assert_cmpint (stat (sparse_c, &st), ==, 0);
  g_assert_cmpuint (st.st_size, ==, c->length);
  g_assert_cmpuint ((guint64) st.st_blocks * 512, <, c->length);
  g_assert_cmpint (stat (full_c, &st), ==, 0);
  g_assert_cmpuint (st.st_size, ==, c->length);
  g_assert_cmpuint ((guint64) st.st_blocks * 512, >=, c->length);
  te_test_finalize_object (g_steal_pointer (&sparse));
  te_test_finalize_object (g_steal_pointer (&full));
}

int
main (int    argc,
      char **argv)
{
  const struct {
    const char      *name;
    TeTorrentVersion version;
  } versions[] = {
    { "v1", TE_TORRENT_V1 }, { "v2", TE_TORRENT_V2 }, { "hybrid", TE_TORRENT_HYBRID },
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      gconstpointer v = GINT_TO_POINTER (versions[i].version);
      g_autofree char *rt = g_strdup_printf ("/te/storage/%s/round-trip", versions[i].name);
      g_autofree char *dmg = g_strdup_printf ("/te/storage/%s/damage", versions[i].name);

      g_test_add (rt, Fixture, v, fixture_setup, test_round_trip, fixture_teardown);
      g_test_add (dmg, Fixture, v, fixture_setup, test_damage, fixture_teardown);
    }
  g_test_add ("/te/storage/errors", Fixture, GINT_TO_POINTER (TE_TORRENT_V1),
              fixture_setup, test_errors, fixture_teardown);
  g_test_add ("/te/storage/sparse-and-preallocated", Fixture, GINT_TO_POINTER (TE_TORRENT_V1),
              fixture_setup, test_sparse_and_preallocated, fixture_teardown);

  return g_test_run ();
}
