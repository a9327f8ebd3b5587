/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "te-bencode.h"
#include "te-hash.h"
#include "te-metainfo.h"
#include "te-test-utils.h"

#define PIECE (32 * 1024)

typedef struct {
  char *dir;
  char *payload;
} Fixture;

/* Sizes straddle block and piece boundaries on purpose. */
static const struct {
  const char *path;
  gsize       size;
} payload_files[] = {
  { "a.bin", 3 * PIECE + 5 },
  { "empty", 0 },
  { "sub/b.bin", 16383 },
  { "sub/c.bin", PIECE },
  { "z.txt", 1 },
};

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  f->dir = te_test_make_tmpdir ("te-metainfo");
  f->payload = g_build_filename (f->dir, "payload", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (payload_files); i++)
    {
      g_autofree char *p = g_build_filename (f->payload, payload_files[i].path, NULL);
      te_test_write_random (p, payload_files[i].size, i + 1);
    }
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->payload);
}

static void
assert_files (TeMetainfo *meta)
{
  guint j = 0;
  guint64 total = 0;

  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *file = te_metainfo_get_file (meta, i);
      g_autofree char *expected = NULL;

      if (file->attrs & TE_FILE_ATTR_PAD)
        continue;
      g_assert_cmpuint (j, <, G_N_ELEMENTS (payload_files));
      expected = g_strconcat ("payload/", payload_files[j].path, NULL);
      g_assert_cmpstr (file->path, ==, expected);
      g_assert_cmpuint (file->length, ==, payload_files[j].size);
      total += file->length;
      j++;
    }
  g_assert_cmpuint (j, ==, G_N_ELEMENTS (payload_files));
  g_assert_cmpuint (te_metainfo_get_total_size (meta), ==, total);
}

static void
test_v1 (Fixture      *f,
         gconstpointer data)
{
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (f->payload, TE_TORRENT_V1, PIECE);
  guint64 total = 3 * PIECE + 5 + 16383 + PIECE + 1;
  guint n = (guint) ((total + PIECE - 1) / PIECE);
  guint8 digest[TE_SHA1_LEN];

  g_assert_true (te_metainfo_has_v1 (meta));
  g_assert_false (te_metainfo_has_v2 (meta));
  g_assert_true (te_metainfo_is_multi_file (meta));
  g_assert_cmpstr (te_metainfo_get_name (meta), ==, "payload");
  g_assert_cmpuint (te_metainfo_get_piece_length (meta), ==, PIECE);
  g_assert_cmpuint (te_metainfo_get_n_pieces (meta), ==, n);
  g_assert_cmpuint (te_metainfo_get_span (meta), ==, total);
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, 0), ==, PIECE);
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, n - 1), ==, total - (guint64) (n - 1) * PIECE);
  g_assert_null (te_metainfo_get_info_hash_v2 (meta));
  assert_files (meta);

  /* The info-hash is the SHA-1 of the info dictionary's bytes. */
  te_sha1 (g_bytes_get_data (te_metainfo_get_info_bytes (meta), NULL),
           g_bytes_get_size (te_metainfo_get_info_bytes (meta)), digest);
  g_assert_cmpmem (digest, TE_SHA1_LEN, te_metainfo_get_info_hash (meta), TE_SHA1_LEN);
  g_assert_finalize_object (g_steal_pointer (&meta));
}

static void
test_v2 (Fixture      *f,
         gconstpointer data)
{
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (f->payload, TE_TORRENT_V2, PIECE);
  g_autoptr(TeMetainfo) from_info = NULL;
  g_autoptr(GError) error = NULL;
  guint8 hash[TE_SHA256_LEN];
  gsize width = 0;
  const TeFile *a;

  g_assert_false (te_metainfo_has_v1 (meta));
  g_assert_true (te_metainfo_has_v2 (meta));
  /* Files start on piece boundaries: a.bin has 4 pieces, b and c one each, z one. */
  g_assert_cmpuint (te_metainfo_get_n_pieces (meta), ==, 4 + 1 + 1 + 1);
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, 3), ==, 5);
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, 4), ==, 16383);
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, 6), ==, 1);
  assert_files (meta);

  a = te_metainfo_get_file (meta, 0);
  g_assert_true (a->has_root);
  g_assert_cmpuint (a->n_layer, ==, 4);
  g_assert_true (te_metainfo_get_piece_hash_v2 (meta, 1, hash, &width));
  g_assert_cmpuint (width, ==, PIECE / TE_MERKLE_BLOCK_SIZE);
  g_assert_cmpmem (hash, TE_SHA256_LEN, a->layer + TE_SHA256_LEN, TE_SHA256_LEN);
  /* b.bin fits in one piece: its hash is the file's root over one 16 KiB leaf. */
  g_assert_true (te_metainfo_get_piece_hash_v2 (meta, 4, hash, &width));
  g_assert_cmpuint (width, ==, 1);
  g_assert_false (te_metainfo_get_file (meta, 1)->has_root);

  /* A magnet's info dictionary alone: same hash, layers still needed. */
  from_info = te_metainfo_new_from_info (te_metainfo_get_info_bytes (meta), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (te_metainfo_get_info_hash_v2 (from_info), TE_SHA256_LEN,
                   te_metainfo_get_info_hash_v2 (meta), TE_SHA256_LEN);
  g_assert_true (te_metainfo_needs_piece_layers (from_info));
  g_assert_false (te_metainfo_needs_piece_layers (meta));
  g_assert_false (te_metainfo_get_piece_hash_v2 (from_info, 1, hash, &width));
  g_assert_true (te_metainfo_get_piece_hash_v2 (from_info, 4, hash, &width));
  g_assert_finalize_object (g_steal_pointer (&from_info));
  g_assert_finalize_object (g_steal_pointer (&meta));
}

static void
test_hybrid (Fixture      *f,
             gconstpointer data)
{
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (f->payload, TE_TORRENT_HYBRID, PIECE);
  guint pads = 0;

  g_assert_true (te_metainfo_has_v1 (meta));
  g_assert_true (te_metainfo_has_v2 (meta));
  g_assert_cmpuint (te_metainfo_get_n_pieces (meta), ==, 7);
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *file = te_metainfo_get_file (meta, i);

      if (file->attrs & TE_FILE_ATTR_PAD)
        pads++;
      else if (file->length > 0)
        {
          g_assert_cmpuint (file->offset % PIECE, ==, 0);
          g_assert_true (file->has_root);
        }
    }
  g_assert_cmpuint (pads, ==, 2);
  /* v1 pieces include the padding; the span ends at the last file. */
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, 3), ==, PIECE);
  g_assert_cmpuint (te_metainfo_get_piece_size (meta, 6), ==, 1);
  assert_files (meta);
  g_assert_finalize_object (g_steal_pointer (&meta));
}

static void
test_single_file (Fixture      *f,
                  gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->payload, "a.bin", NULL);
  TeTorrentVersion versions[] = { TE_TORRENT_V1, TE_TORRENT_V2, TE_TORRENT_HYBRID };

  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      g_autoptr(TeMetainfo) meta = te_test_make_torrent (path, versions[i], 0);

      g_assert_false (te_metainfo_is_multi_file (meta));
      g_assert_cmpuint (te_metainfo_get_n_files (meta), ==, 1);
      g_assert_cmpstr (te_metainfo_get_file (meta, 0)->path, ==, "a.bin");
      g_assert_cmpuint (te_metainfo_get_total_size (meta), ==, 3 * PIECE + 5);
      /* Automatic piece size for a small file is the minimum. */
      g_assert_cmpuint (te_metainfo_get_piece_length (meta), ==, 16 * 1024);
      g_assert_finalize_object (g_steal_pointer (&meta));
    }
}

/* A hand-built v1 torrent for the optional keys. */
static GBytes *
build_v1 (void (*mutate) (TeBValue *root, TeBValue *info))
{
  g_autoptr(TeBValue) root = te_bvalue_new_dict ();
  TeBValue *info = te_bvalue_new_dict ();
  guint8 zeros[16384] = { 0 };
  guint8 hash[TE_SHA1_LEN];

  te_sha1 (zeros, sizeof zeros, hash);
  te_bvalue_dict_set (info, "name", te_bvalue_new_str ("zero.bin"));
  te_bvalue_dict_set (info, "length", te_bvalue_new_int (sizeof zeros));
  te_bvalue_dict_set (info, "piece length", te_bvalue_new_int (16384));
  te_bvalue_dict_set (info, "pieces", te_bvalue_new_string (hash, sizeof hash));
  te_bvalue_dict_set (root, "info", info);
  if (mutate)
    mutate (root, info);
  return te_bencode_encode (root);
}

static TeBValue *
strings (const char *first,
         ...)
{
  TeBValue *list = te_bvalue_new_list ();
  va_list args;

  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    te_bvalue_list_append (list, te_bvalue_new_str (s));
  va_end (args);
  return list;
}

static void
mutate_optional (TeBValue *root,
                 TeBValue *info)
{
  TeBValue *tiers = te_bvalue_new_list ();

  te_bvalue_list_append (tiers, strings ("http://a/announce", "udp://b:80", NULL));
  te_bvalue_list_append (tiers, strings ("http://a/announce", "http://c/announce", NULL));
  te_bvalue_list_append (tiers, te_bvalue_new_list ());
  te_bvalue_dict_set (root, "announce", te_bvalue_new_str ("http://ignored/announce"));
  te_bvalue_dict_set (root, "announce-list", tiers);
  te_bvalue_dict_set (root, "url-list", te_bvalue_new_str ("http://seed/files/"));
  te_bvalue_dict_set (root, "comment", te_bvalue_new_str ("hello"));
  te_bvalue_dict_set (root, "created by", te_bvalue_new_str ("test"));
  te_bvalue_dict_set (root, "creation date", te_bvalue_new_int (1700000000));
  te_bvalue_dict_set (info, "private", te_bvalue_new_int (1));
  te_bvalue_dict_set (info, "source", te_bvalue_new_str ("SRC"));
  te_bvalue_dict_set (info, "name.utf-8", te_bvalue_new_str ("zéro.bin"));
}

static void
test_optional_keys (void)
{
  g_autoptr(GBytes) bytes = build_v1 (mutate_optional);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMetainfo) meta = te_metainfo_new_from_bytes (bytes, &error);
  GPtrArray *tiers, *tier;

  g_assert_no_error (error);
  tiers = te_metainfo_get_tiers (meta);
  /* announce-list wins over announce; duplicates and empty tiers drop out. */
  g_assert_cmpuint (tiers->len, ==, 2);
  tier = g_ptr_array_index (tiers, 0);
  g_assert_cmpuint (tier->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (tier, 1), ==, "udp://b:80");
  tier = g_ptr_array_index (tiers, 1);
  g_assert_cmpuint (tier->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (tier, 0), ==, "http://c/announce");
  g_assert_cmpstr (te_metainfo_get_web_seeds (meta)[0], ==, "http://seed/files/");
  g_assert_null (te_metainfo_get_web_seeds (meta)[1]);
  g_assert_cmpstr (te_metainfo_get_comment (meta), ==, "hello");
  g_assert_cmpstr (te_metainfo_get_created_by (meta), ==, "test");
  g_assert_cmpstr (te_metainfo_get_source (meta), ==, "SRC");
  g_assert_cmpint (te_metainfo_get_creation_date (meta), ==, 1700000000);
  g_assert_true (te_metainfo_is_private (meta));
  g_assert_cmpstr (te_metainfo_get_name (meta), ==, "zéro.bin");
  g_assert_finalize_object (g_steal_pointer (&meta));
}

static void
mutate_bitcomet_padding (TeBValue *root,
                         TeBValue *info)
{
  TeBValue *files = te_bvalue_new_list ();
  TeBValue *a = te_bvalue_new_dict (), *pad = te_bvalue_new_dict ();

  te_bvalue_dict_set (a, "length", te_bvalue_new_int (1000));
  te_bvalue_dict_set (a, "path", strings ("a", NULL));
  te_bvalue_dict_set (pad, "length", te_bvalue_new_int (16384 - 1000));
  te_bvalue_dict_set (pad, "path", strings ("_____padding_file_0_", NULL));
  te_bvalue_list_append (files, a);
  te_bvalue_list_append (files, pad);
  te_bvalue_dict_set (info, "files", files);
  te_bvalue_dict_set (info, "length", te_bvalue_new_int (0));
}

static void
test_legacy_padding (void)
{
  g_autoptr(GBytes) bytes = build_v1 (mutate_bitcomet_padding);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMetainfo) meta = te_metainfo_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (te_metainfo_get_n_files (meta), ==, 2);
  g_assert_cmpuint (te_metainfo_get_file (meta, 1)->attrs & TE_FILE_ATTR_PAD, !=, 0);
  g_assert_cmpuint (te_metainfo_get_total_size (meta), ==, 1000);
  g_assert_cmpuint (te_metainfo_get_span (meta), ==, 16384);
  g_assert_finalize_object (g_steal_pointer (&meta));
}

static void
test_find_file (Fixture      *f,
                gconstpointer data)
{
  g_autoptr(TeMetainfo) meta = te_test_make_torrent (f->payload, TE_TORRENT_V2, PIECE);

  /* a.bin, empty, sub/b.bin at 4 pieces, sub/c.bin at 5, z.txt at 6 */
  g_assert_cmpuint (te_metainfo_find_file (meta, 0), ==, 0);
  g_assert_cmpuint (te_metainfo_find_file (meta, 3 * PIECE + 4), ==, 0);
  g_assert_cmpuint (te_metainfo_find_file (meta, 3 * PIECE + 5), ==, G_MAXUINT);
  g_assert_cmpuint (te_metainfo_find_file (meta, 4 * PIECE), ==, 2);
  g_assert_cmpuint (te_metainfo_find_file (meta, 5 * PIECE + PIECE - 1), ==, 3);
  g_assert_cmpuint (te_metainfo_find_file (meta, 6 * PIECE), ==, 4);
  g_assert_cmpuint (te_metainfo_find_file (meta, 6 * PIECE + 1), ==, G_MAXUINT);
  g_assert_finalize_object (g_steal_pointer (&meta));
}

/* One more piece than allowed: the hashes alone are 40 MiB, so the parser
 * counts them before it reads the files. */
static GBytes *
too_many_v1_pieces (void)
{
  guint64 n = (guint64) TE_METAINFO_MAX_PIECES + 1;
  g_autofree char *head = g_strdup_printf ("d4:infod6:lengthi%" G_GUINT64_FORMAT "e4:name4:huge"
                                           "12:piece lengthi16384e6:pieces%" G_GUINT64_FORMAT ":",
                                           n * 16384, n * TE_SHA1_LEN);
  gsize head_len = strlen (head);
  gsize len = head_len + n * TE_SHA1_LEN + 2;
  guint8 *data = g_malloc0 (len);

  memcpy (data, head, head_len);
  memcpy (data + len - 2, "ee", 2);
  return g_bytes_new_take (data, len);
}

static void
test_too_many_pieces (void)
{
  g_autoptr(GBytes) v1 = too_many_v1_pieces ();
  g_autoptr(TeBValue) root = te_bvalue_new_dict ();
  TeBValue *info = te_bvalue_new_dict ();
  TeBValue *tree = te_bvalue_new_dict ();
  TeBValue *node = te_bvalue_new_dict ();
  TeBValue *leaf = te_bvalue_new_dict ();
  guint8 root_hash[TE_SHA256_LEN] = { 1 };
  g_autoptr(GBytes) v2 = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;

  meta = te_metainfo_new_from_bytes (v1, &error);
  g_assert_null (meta);
  g_assert_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_MANY_PIECES);
  g_assert_nonnull (strstr (error->message, "2097153 pieces; at most 2097152"));
  g_clear_error (&error);

  /* v2: one file of as many pieces, refused before its piece layer is looked for. */
  te_bvalue_dict_set (leaf, "length", te_bvalue_new_int ((gint64) (TE_METAINFO_MAX_PIECES + 1) * 16384));
  te_bvalue_dict_set (leaf, "pieces root", te_bvalue_new_string (root_hash, sizeof root_hash));
  te_bvalue_dict_set (node, "", leaf);
  te_bvalue_dict_set (tree, "huge", node);
  te_bvalue_dict_set (info, "file tree", tree);
  te_bvalue_dict_set (info, "meta version", te_bvalue_new_int (2));
  te_bvalue_dict_set (info, "name", te_bvalue_new_str ("huge"));
  te_bvalue_dict_set (info, "piece length", te_bvalue_new_int (16384));
  te_bvalue_dict_set (root, "info", info);
  v2 = te_bencode_encode (root);
  meta = te_metainfo_new_from_bytes (v2, &error);
  g_assert_null (meta);
  g_assert_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_MANY_PIECES);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/metainfo/v1", Fixture, NULL, fixture_setup, test_v1, fixture_teardown);
  g_test_add ("/te/metainfo/v2", Fixture, NULL, fixture_setup, test_v2, fixture_teardown);
  g_test_add ("/te/metainfo/hybrid", Fixture, NULL, fixture_setup, test_hybrid, fixture_teardown);
  g_test_add ("/te/metainfo/single-file", Fixture, NULL, fixture_setup, test_single_file,
              fixture_teardown);
  g_test_add ("/te/metainfo/find-file", Fixture, NULL, fixture_setup, test_find_file,
              fixture_teardown);
  g_test_add_func ("/te/metainfo/optional-keys", test_optional_keys);
  g_test_add_func ("/te/metainfo/legacy-padding", test_legacy_padding);
  g_test_add_func ("/te/metainfo/too-many-pieces", test_too_many_pieces);

  return g_test_run ();
}
