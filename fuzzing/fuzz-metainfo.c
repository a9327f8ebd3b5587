/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-bencode.h"
#include "te-hash.h"
#include "te-metainfo.h"
#include "te-path.h"

/* Parses the input as a .torrent and as a bare info dictionary. Whatever
 * parses must hold together: safe relative paths, sizes that add up, pieces
 * that fit the piece length, info hashes that match the info bytes, and the
 * torrent's info dictionary must parse alone to the same files. */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_path (const char *path)
{
  g_auto(GStrv) components = NULL;
  g_autofree char *copy = NULL;

  g_assert_nonnull (path);
  g_assert_true (g_utf8_validate (path, -1, NULL));
  g_assert_cmpint (path[0], !=, '\0');
  g_assert_cmpint (path[0], !=, '/');
  g_assert_cmpuint (strlen (path), <=, TE_PATH_MAX_LENGTH);

  /* No bidi controls or zero-width characters: stripping changes nothing. */
  copy = g_strdup (path);
  g_assert_cmpstr (te_path_strip_invisible (copy), ==, path);
  components = g_strsplit (path, "/", -1);
  for (guint i = 0; components[i] != NULL; i++)
    {
      g_assert_cmpstr (components[i], !=, "");
      g_assert_cmpstr (components[i], !=, ".");
      g_assert_cmpstr (components[i], !=, "..");
    }
}

static void
check_error (const GError *error)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == TE_METAINFO_ERROR
                 || error->domain == TE_BENCODE_ERROR
                 || error->domain == TE_PATH_ERROR);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
check_files (TeMetainfo *meta)
{
  guint n_files = te_metainfo_get_n_files (meta);
  guint64 total = 0;
  guint64 prev_end = 0;

  g_assert_cmpuint (n_files, >, 0);
  if (!te_metainfo_is_multi_file (meta))
    g_assert_cmpuint (n_files, ==, 1);

  for (guint i = 0; i < n_files; i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);

      g_assert_nonnull (f);
      check_path (f->path);
      /* Multi-file torrents keep their files in a folder named after the
       * torrent. A v1 single file is named by "name"; a v2 one by its file
       * tree entry, "name" being only for display. */
      if (te_metainfo_is_multi_file (meta))
        g_assert_true (g_str_has_prefix (f->path, te_metainfo_get_name (meta))
                       && f->path[strlen (te_metainfo_get_name (meta))] == '/');
      else if (te_metainfo_has_v1 (meta))
        g_assert_cmpstr (f->path, ==, te_metainfo_get_name (meta));
      else
        g_assert_null (strchr (f->path, '/'));

      /* Files lie in order and do not overlap. */
      g_assert_cmpuint (f->offset, >=, prev_end);
      g_assert_cmpuint (f->offset + f->length, <=, te_metainfo_get_span (meta));
      prev_end = f->offset + f->length;

      if (!(f->attrs & TE_FILE_ATTR_PAD))
        total += f->length;
      if (f->length > 0)
        {
          guint64 last_piece = (f->offset + f->length - 1) / te_metainfo_get_piece_length (meta);

          g_assert_cmpuint (te_metainfo_find_file (meta, f->offset), ==, i);
          g_assert_cmpuint (te_metainfo_find_file (meta, f->offset + f->length - 1), ==, i);
          /* Every byte of real data lies in some piece. */
          if (!(f->attrs & TE_FILE_ATTR_PAD))
            g_assert_cmpuint (last_piece, <, te_metainfo_get_n_pieces (meta));
        }
      if (f->layer != NULL)
        {
          g_assert_true (f->has_root);
          g_assert_cmpuint (f->n_layer, >, 0);
        }
      else
        g_assert_cmpuint (f->n_layer, ==, 0);
      if (!te_metainfo_has_v2 (meta))
        g_assert_false (f->has_root);
    }
  g_assert_cmpuint (total, ==, te_metainfo_get_total_size (meta));
  g_assert_cmpuint (total, >, 0);
  g_assert_cmpuint (te_metainfo_find_file (meta, te_metainfo_get_span (meta)), ==, G_MAXUINT);
}

static void
check_pieces (TeMetainfo *meta)
{
  guint32 piece_length = te_metainfo_get_piece_length (meta);
  guint n_pieces = te_metainfo_get_n_pieces (meta);
  guint64 sum = 0;
  guint8 hash[TE_SHA256_LEN];
  gsize width;

  g_assert_cmpuint (n_pieces, <=, TE_METAINFO_MAX_PIECES);
  g_assert_cmpuint (piece_length, >=, TE_METAINFO_MIN_PIECE_SIZE);
  g_assert_cmpuint (piece_length, <=, TE_METAINFO_MAX_PIECE_SIZE);
  g_assert_cmpuint (piece_length & (piece_length - 1), ==, 0);
  g_assert_cmpuint (n_pieces, >, 0);

  for (guint p = 0; p < n_pieces; p++)
    {
      guint32 piece_size = te_metainfo_get_piece_size (meta, p);
      const guint8 *v1 = te_metainfo_get_piece_hash (meta, p);

      g_assert_cmpuint (piece_size, >, 0);
      g_assert_cmpuint (piece_size, <=, piece_length);
      g_assert_cmpuint (te_metainfo_get_piece_offset (meta, p), ==, (guint64) p * piece_length);
      sum += piece_size;

      if (te_metainfo_has_v1 (meta))
        g_assert_nonnull (v1);
      else
        g_assert_null (v1);

      width = 0;
      if (te_metainfo_get_piece_hash_v2 (meta, p, hash, &width))
        {
          g_assert_true (te_metainfo_has_v2 (meta));
          g_assert_cmpuint (width, >, 0);
          g_assert_cmpuint (width & (width - 1), ==, 0);
          g_assert_cmpuint (width, <=, piece_length / TE_MERKLE_BLOCK_SIZE);
          /* The tree covers the piece. */
          g_assert_cmpuint ((guint64) width * TE_MERKLE_BLOCK_SIZE, >=, piece_size);
        }
      else if (te_metainfo_has_v2 (meta) && !te_metainfo_needs_piece_layers (meta))
        {
          /* With every layer present, only pieces of padding lack a hash. */
          guint fi = te_metainfo_find_file (meta, te_metainfo_get_piece_offset (meta, p));

          g_assert_true (fi == G_MAXUINT
                         || (te_metainfo_get_file (meta, fi)->attrs & TE_FILE_ATTR_PAD));
        }
    }

  /* Out of range is refused, not read. */
  g_assert_false (te_metainfo_get_piece_hash_v2 (meta, n_pieces, hash, &width));

  /* v1 pieces tile the whole piece space. */
  if (te_metainfo_has_v1 (meta))
    g_assert_cmpuint (sum, ==, te_metainfo_get_span (meta));
  else
    g_assert_cmpuint (sum, >=, te_metainfo_get_total_size (meta));
}

static void
check_hashes (TeMetainfo *meta)
{
  GBytes *info = te_metainfo_get_info_bytes (meta);
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (meta);
  g_autofree char *hex_v2 = te_metainfo_dup_info_hash_v2_hex (meta);
  guint8 digest[TE_SHA256_LEN];
  gsize len = 0;
  const guint8 *bytes;

  g_assert_nonnull (info);
  bytes = g_bytes_get_data (info, &len);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpint (bytes[0], ==, 'd');
  g_assert_true (te_metainfo_has_v1 (meta) || te_metainfo_has_v2 (meta));

  if (te_metainfo_has_v1 (meta))
    {
      te_sha1 (bytes, len, digest);
      g_assert_cmpmem (te_metainfo_get_info_hash (meta), TE_SHA1_LEN, digest, TE_SHA1_LEN);
      g_assert_cmpuint (strlen (hex), ==, 2 * TE_SHA1_LEN);
    }
  else
    {
      g_assert_null (te_metainfo_get_info_hash (meta));
      g_assert_null (hex);
    }

  if (te_metainfo_has_v2 (meta))
    {
      te_sha256 (bytes, len, digest);
      g_assert_cmpmem (te_metainfo_get_info_hash_v2 (meta), TE_SHA256_LEN, digest, TE_SHA256_LEN);
      g_assert_cmpuint (strlen (hex_v2), ==, 2 * TE_SHA256_LEN);
    }
  else
    {
      g_assert_null (te_metainfo_get_info_hash_v2 (meta));
      g_assert_null (hex_v2);
    }
}

static void
check_extras (TeMetainfo *meta)
{
  GPtrArray *tiers = te_metainfo_get_tiers (meta);
  const char * const *seeds = te_metainfo_get_web_seeds (meta);
  const char *text;

  g_assert_nonnull (tiers);
  for (guint t = 0; t < tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (tiers, t);

      g_assert_nonnull (tier);
      for (guint u = 0; u < tier->len; u++)
        g_assert_true (g_utf8_validate (g_ptr_array_index (tier, u), -1, NULL));
    }
  g_assert_nonnull (seeds);
  for (guint i = 0; seeds[i] != NULL; i++)
    g_assert_true (g_utf8_validate (seeds[i], -1, NULL));

  text = te_metainfo_get_comment (meta);
  g_assert_true (text == NULL || g_utf8_validate (text, -1, NULL));
  text = te_metainfo_get_created_by (meta);
  g_assert_true (text == NULL || g_utf8_validate (text, -1, NULL));
  text = te_metainfo_get_source (meta);
  g_assert_true (text == NULL || g_utf8_validate (text, -1, NULL));
  (void) te_metainfo_is_private (meta);
  (void) te_metainfo_get_creation_date (meta);
}

static void
check_metainfo (TeMetainfo *meta)
{
  const char *name = te_metainfo_get_name (meta);

  g_assert_nonnull (name);
  check_path (name);
  g_assert_null (strchr (name, '/'));

  check_files (meta);
  check_pieces (meta);
  check_hashes (meta);
  check_extras (meta);
}

/* The same info dictionary must describe the same files however it arrives. */
static void
assert_same_files (TeMetainfo *a,
                   TeMetainfo *b)
{
  g_assert_cmpstr (te_metainfo_get_name (a), ==, te_metainfo_get_name (b));
  g_assert_cmpint (te_metainfo_has_v1 (a), ==, te_metainfo_has_v1 (b));
  g_assert_cmpint (te_metainfo_has_v2 (a), ==, te_metainfo_has_v2 (b));
  g_assert_cmpuint (te_metainfo_get_piece_length (a), ==, te_metainfo_get_piece_length (b));
  g_assert_cmpuint (te_metainfo_get_n_pieces (a), ==, te_metainfo_get_n_pieces (b));
  g_assert_cmpuint (te_metainfo_get_total_size (a), ==, te_metainfo_get_total_size (b));
  g_assert_cmpuint (te_metainfo_get_span (a), ==, te_metainfo_get_span (b));
  g_assert_cmpuint (te_metainfo_get_n_files (a), ==, te_metainfo_get_n_files (b));
  for (guint i = 0; i < te_metainfo_get_n_files (a); i++)
    {
      const TeFile *fa = te_metainfo_get_file (a, i);
      const TeFile *fb = te_metainfo_get_file (b, i);

      g_assert_cmpstr (fa->path, ==, fb->path);
      g_assert_cmpuint (fa->length, ==, fb->length);
      g_assert_cmpuint (fa->offset, ==, fb->offset);
      g_assert_cmpint (fa->attrs, ==, fb->attrs);
      g_assert_cmpint (fa->has_root, ==, fb->has_root);
      g_assert_cmpmem (fa->pieces_root, TE_SHA256_LEN, fb->pieces_root, TE_SHA256_LEN);
    }
  if (te_metainfo_has_v1 (a))
    g_assert_cmpmem (te_metainfo_get_info_hash (a), TE_SHA1_LEN,
                     te_metainfo_get_info_hash (b), TE_SHA1_LEN);
  if (te_metainfo_has_v2 (a))
    g_assert_cmpmem (te_metainfo_get_info_hash_v2 (a), TE_SHA256_LEN,
                     te_metainfo_get_info_hash_v2 (b), TE_SHA256_LEN);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static gboolean initialized;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(TeMetainfo) from_info = NULL;
  g_autoptr(GError) error = NULL;

  if (!initialized)
    {
      /* A critical or warning from the engine is a bug too. */
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      initialized = TRUE;
    }

  bytes = g_bytes_new_static (data, size);

  meta = te_metainfo_new_from_bytes (bytes, &error);
  if (meta == NULL)
    check_error (error);
  else
    {
      g_assert_no_error (error);
      check_metainfo (meta);
      g_assert_true (te_metainfo_get_torrent_bytes (meta) == bytes);

      /* Its info dictionary alone, as a magnet download would fetch it */
      from_info = te_metainfo_new_from_info (te_metainfo_get_info_bytes (meta), &error);
      g_assert_no_error (error);
      g_assert_nonnull (from_info);
      check_metainfo (from_info);
      assert_same_files (meta, from_info);
      g_assert_null (te_metainfo_get_torrent_bytes (from_info));
      g_clear_object (&from_info);
    }
  g_clear_error (&error);

  /* The whole input as a bare info dictionary */
  from_info = te_metainfo_new_from_info (bytes, &error);
  if (from_info == NULL)
    check_error (error);
  else
    {
      g_assert_no_error (error);
      check_metainfo (from_info);
      g_assert_null (te_metainfo_get_torrent_bytes (from_info));
    }

  return 0;
}
