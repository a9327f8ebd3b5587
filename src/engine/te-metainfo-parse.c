/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-metainfo"

#include "config.h"

#include <string.h>

#include "te-metainfo-private.h"
#include "te-path.h"

/* The info dictionary: names, files (v1 list, v2 tree, hybrid both), piece
 * layers and the layout of files in piece space. */

void
_te_file_clear (gpointer data)
{
  TeFile *f = data;

  g_free (f->path);
  g_free (f->layer);
}

char *
_te_metainfo_dup_text (const TeBValue *dict,
          const char     *key)
{
  TeBValue *v = te_bvalue_dict_get_kind (dict, key, TE_BVALUE_STRING);
  gsize len;
  const guint8 *s;

  if (v == NULL)
    return NULL;
  s = te_bvalue_get_string (v, &len);
  if (memchr (s, 0, len) != NULL)
    return NULL;
  if (!g_utf8_validate ((const char *) s, len, NULL))
    return g_utf8_make_valid ((const char *) s, len);
  return g_strndup ((const char *) s, len);
}

gboolean
_te_metainfo_missing (const char *what,
         GError    **error)
{
  g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_MISSING_FIELD,
               "Missing or mistyped field \"%s\"", what);
  return FALSE;
}

static gboolean
path_error (GError    **error,
            GError     *path_err,
            const char *where)
{
  g_propagate_prefixed_error (error, path_err, "%s: ", where);
  return FALSE;
}

static char *
join_path (TeMetainfo *self,
           GPtrArray  *components)
{
  GString *s = g_string_new (self->multi_file ? self->name : NULL);

  for (guint i = 0; i < components->len; i++)
    {
      if (s->len > 0)
        g_string_append_c (s, '/');
      g_string_append (s, g_ptr_array_index (components, i));
    }
  return g_string_free (s, FALSE);
}

static TeFileAttrs
parse_attrs (const TeBValue *dict)
{
  TeBValue *v = te_bvalue_dict_get_kind (dict, "attr", TE_BVALUE_STRING);
  TeFileAttrs attrs = 0;
  gsize len;
  const guint8 *s;

  if (v == NULL)
    return 0;
  s = te_bvalue_get_string (v, &len);
  for (gsize i = 0; i < len; i++)
    switch (s[i])
      {
      case 'p': attrs |= TE_FILE_ATTR_PAD; break;
      case 'x': attrs |= TE_FILE_ATTR_EXECUTABLE; break;
      case 'h': attrs |= TE_FILE_ATTR_HIDDEN; break;
      case 'l': attrs |= TE_FILE_ATTR_SYMLINK; break;
      default: break;
      }
  return attrs;
}

static gboolean
parse_length (const TeBValue *dict,
              guint64        *out,
              GError        **error)
{
  gint64 len;

  if (!te_bvalue_dict_get_int (dict, "length", &len))
    return _te_metainfo_missing ("length", error);
  /* 2^50 bytes per file keeps every sum below 2^63. */
  if (len < 0 || len > ((gint64) 1 << 50))
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FIELD,
                   "File length %" G_GINT64_FORMAT " is out of range", len);
      return FALSE;
    }
  *out = (guint64) len;
  return TRUE;
}

static gboolean
add_file (TeMetainfo *self,
          TePathSet  *paths,
          TeFile     *file,
          GError    **error)
{
  if (self->files->len >= TE_METAINFO_MAX_FILES)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_LARGE,
                   "More than %d files", TE_METAINFO_MAX_FILES);
      return FALSE;
    }
  /* Pad files are never written to disk, and creators reuse their names. */
  if (!(file->attrs & TE_FILE_ATTR_PAD))
    {
      GError *path_err = NULL;

      if (!te_path_set_add (paths, file->path, &path_err))
        return path_error (error, path_err, "Files");
    }
  g_array_append_val (self->files, *file);
  return TRUE;
}

/* v1: "length" for one file, or "files" */
static gboolean
parse_v1_files (TeMetainfo     *self,
                const TeBValue *info,
                TePathSet      *paths,
                GError        **error)
{
  TeBValue *list = te_bvalue_dict_get_kind (info, "files", TE_BVALUE_LIST);

  if (list == NULL)
    {
      TeFile f = { 0 };

      if (!parse_length (info, &f.length, error))
        return FALSE;
      f.path = g_strdup (self->name);
      f.attrs = parse_attrs (info);
      return add_file (self, paths, &f, error);
    }

  self->multi_file = TRUE;
  for (guint i = 0; i < te_bvalue_length (list); i++)
    {
      TeBValue *entry = te_bvalue_list_nth (list, i);
      TeBValue *path, *path_utf8;
      g_autoptr(GPtrArray) comps = g_ptr_array_new_with_free_func (g_free);
      TeFile f = { 0 };
      guint n;

      if (te_bvalue_kind (entry) != TE_BVALUE_DICT)
        return _te_metainfo_missing ("files", error);
      if (!parse_length (entry, &f.length, error))
        return FALSE;
      path = te_bvalue_dict_get_kind (entry, "path", TE_BVALUE_LIST);
      if (path == NULL)
        return _te_metainfo_missing ("path", error);
      path_utf8 = te_bvalue_dict_get_kind (entry, "path.utf-8", TE_BVALUE_LIST);
      n = te_bvalue_length (path);
      if (n == 0)
        {
          g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_EMPTY,
                       "File %u has an empty path", i);
          return FALSE;
        }
      if (path_utf8 != NULL && te_bvalue_length (path_utf8) != n)
        path_utf8 = NULL;

      f.attrs = parse_attrs (entry);
      for (guint c = 0; c < n; c++)
        {
          TeBValue *comp = te_bvalue_list_nth (path, c);
          TeBValue *comp_utf8 = path_utf8 ? te_bvalue_list_nth (path_utf8, c) : NULL;
          const guint8 *s, *u = NULL;
          gsize len, ulen = 0;
          GError *path_err = NULL;
          char *clean;

          if (te_bvalue_kind (comp) != TE_BVALUE_STRING)
            return _te_metainfo_missing ("path", error);
          s = te_bvalue_get_string (comp, &len);
          if (comp_utf8 != NULL && te_bvalue_kind (comp_utf8) == TE_BVALUE_STRING)
            u = te_bvalue_get_string (comp_utf8, &ulen);
          if (c == n - 1 && len >= 18 && memcmp (s, "_____padding_file_", 18) == 0)
            f.attrs |= TE_FILE_ATTR_PAD;
          clean = te_path_sanitize_component (s, len, u, ulen, &path_err);
          if (clean == NULL)
            return path_error (error, path_err, "File path");
          g_ptr_array_add (comps, clean);
        }
      f.path = join_path (self, comps);
      if (!add_file (self, paths, &f, error))
        {
          g_free (f.path);
          return FALSE;
        }
    }
  if (self->files->len == 0)
    {
      g_set_error_literal (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_NO_FILES,
                           "The file list is empty");
      return FALSE;
    }
  return TRUE;
}

/* v2: the nested "file tree" */
static gboolean
parse_tree_node (TeMetainfo     *self,
                 const TeBValue *node,
                 GPtrArray      *comps,
                 GArray         *out,
                 GError        **error)
{
  for (guint i = 0; i < te_bvalue_length (node); i++)
    {
      const guint8 *key;
      gsize key_len;
      TeBValue *child = te_bvalue_dict_nth (node, i, &key, &key_len);
      TeBValue *leaf;
      GError *path_err = NULL;
      char *clean;
      gboolean ok;

      if (te_bvalue_kind (child) != TE_BVALUE_DICT)
        {
          g_autofree char *shown = g_strndup ((const char *) key, MIN (key_len, 64));

          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FILE_TREE,
                       "File tree entry \"%s\" is not a dictionary",
                       g_utf8_validate (shown, -1, NULL) ? shown : "(not UTF-8)");
          return FALSE;
        }
      if (key_len == 0)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FILE_TREE,
                       "File tree has a file entry beside folder entries");
          return FALSE;
        }
      clean = te_path_sanitize_component (key, key_len, NULL, 0, &path_err);
      if (clean == NULL)
        return path_error (error, path_err, "File tree");
      g_ptr_array_add (comps, clean);

      leaf = te_bvalue_dict_lookup_len (child, "", 0);
      if (leaf != NULL)
        {
          TeFile f = { 0 };
          TeBValue *root;

          if (te_bvalue_length (child) != 1 || te_bvalue_kind (leaf) != TE_BVALUE_DICT)
            {
              g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FILE_TREE,
                           "File tree entry \"%s\" is both a file and a folder", clean);
              return FALSE;
            }
          if (!parse_length (leaf, &f.length, error))
            return FALSE;
          /* Pad files exist only in v1 lists; every v2 tree entry is real data. */
          f.attrs = parse_attrs (leaf) & ~TE_FILE_ATTR_PAD;
          root = te_bvalue_dict_get_kind (leaf, "pieces root", TE_BVALUE_STRING);
          if (f.length > 0)
            {
              if (root == NULL || te_bvalue_length (root) != TE_SHA256_LEN)
                {
                  g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FILE_TREE,
                               "File \"%s\" has no valid \"pieces root\"", clean);
                  return FALSE;
                }
              memcpy (f.pieces_root, te_bvalue_get_string (root, NULL), TE_SHA256_LEN);
              f.has_root = TRUE;
            }
          if (out->len >= TE_METAINFO_MAX_FILES)
            {
              g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_LARGE,
                           "More than %d files", TE_METAINFO_MAX_FILES);
              return FALSE;
            }
          f.path = join_path (self, comps);
          g_array_append_val (out, f);
          ok = TRUE;
        }
      else
        {
          if (te_bvalue_length (child) == 0)
            {
              g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FILE_TREE,
                           "File tree folder \"%s\" is empty", clean);
              return FALSE;
            }
          ok = parse_tree_node (self, child, comps, out, error);
        }
      g_ptr_array_remove_index (comps, comps->len - 1);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_v2_files (TeMetainfo     *self,
                const TeBValue *info,
                GArray         *out,
                GError        **error)
{
  TeBValue *tree = te_bvalue_dict_get_kind (info, "file tree", TE_BVALUE_DICT);
  g_autoptr(GPtrArray) comps = g_ptr_array_new_with_free_func (g_free);
  const guint8 *key;
  gsize key_len;
  TeBValue *first;

  if (tree == NULL)
    return _te_metainfo_missing ("file tree", error);
  if (te_bvalue_length (tree) == 0)
    {
      g_set_error_literal (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_NO_FILES,
                           "The file tree is empty");
      return FALSE;
    }

  /* One file at the top of the tree is a single-file torrent, named by that entry. */
  first = te_bvalue_dict_nth (tree, 0, &key, &key_len);
  self->multi_file = !(te_bvalue_length (tree) == 1
                       && te_bvalue_kind (first) == TE_BVALUE_DICT
                       && te_bvalue_dict_lookup_len (first, "", 0) != NULL);
  return parse_tree_node (self, tree, comps, out, error);
}

static gboolean
parse_piece_layers (TeMetainfo     *self,
                    const TeBValue *layers,
                    GError        **error)
{
  guint pad_height = te_log2 (self->piece_length / TE_MERKLE_BLOCK_SIZE);

  for (guint i = 0; i < self->files->len; i++)
    {
      TeFile *f = &g_array_index (self->files, TeFile, i);
      guint n = (guint) ((f->length + self->piece_length - 1) / self->piece_length);
      TeBValue *layer;
      guint8 root[TE_SHA256_LEN];
      gsize len;

      if (!f->has_root || f->length <= self->piece_length)
        continue;
      layer = layers ? te_bvalue_dict_lookup_len (layers, f->pieces_root, TE_SHA256_LEN) : NULL;
      if (layer == NULL || te_bvalue_kind (layer) != TE_BVALUE_STRING)
        {
          if (layers == NULL)
            {
              /* From a magnet's info dict: layers come later from peers. */
              self->layers_missing = TRUE;
              continue;
            }
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
                       "No piece layer for \"%s\"", f->path);
          return FALSE;
        }
      te_bvalue_get_string (layer, &len);
      if (len != (gsize) n * TE_SHA256_LEN)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
                       "Piece layer of \"%s\" has %" G_GSIZE_FORMAT " bytes, expected %u",
                       f->path, len, n * TE_SHA256_LEN);
          return FALSE;
        }
      te_merkle_root (te_bvalue_get_string (layer, NULL), n, te_next_pow2 (n), pad_height, root);
      if (memcmp (root, f->pieces_root, TE_SHA256_LEN) != 0)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
                       "Piece layer of \"%s\" does not hash to its pieces root", f->path);
          return FALSE;
        }
      f->layer = g_memdup2 (te_bvalue_get_string (layer, NULL), len);
      f->n_layer = n;
    }
  return TRUE;
}

/* A hybrid torrent's v1 file list must be the v2 tree plus pad files. */
static gboolean
merge_hybrid (TeMetainfo *self,
              GArray     *v2_files,
              GError    **error)
{
  guint j = 0;

  for (guint i = 0; i < self->files->len; i++)
    {
      TeFile *f = &g_array_index (self->files, TeFile, i);
      TeFile *g;

      if (f->attrs & TE_FILE_ATTR_PAD)
        continue;
      if (j >= v2_files->len)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_HYBRID_MISMATCH,
                       "v1 file \"%s\" is not in the v2 file tree", f->path);
          return FALSE;
        }
      g = &g_array_index (v2_files, TeFile, j++);
      if (strcmp (f->path, g->path) != 0 || f->length != g->length)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_HYBRID_MISMATCH,
                       "v1 file \"%s\" (%" G_GUINT64_FORMAT " bytes) differs from v2 file \"%s\" "
                       "(%" G_GUINT64_FORMAT " bytes)", f->path, f->length, g->path, g->length);
          return FALSE;
        }
      if (f->length > 0 && f->offset % self->piece_length != 0)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_HYBRID_MISMATCH,
                       "v1 file \"%s\" does not start on a piece boundary", f->path);
          return FALSE;
        }
      f->has_root = g->has_root;
      memcpy (f->pieces_root, g->pieces_root, TE_SHA256_LEN);
    }
  if (j != v2_files->len)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_HYBRID_MISMATCH,
                   "v1 and v2 file lists have different lengths");
      return FALSE;
    }
  return TRUE;
}

static gboolean
layout_files (TeMetainfo *self,
              gboolean    aligned,
              GError    **error)
{
  guint64 offset = 0;

  self->total_size = 0;
  for (guint i = 0; i < self->files->len; i++)
    {
      TeFile *f = &g_array_index (self->files, TeFile, i);

      /* v2 starts every file on a piece boundary, without pad files. */
      if (aligned && offset % self->piece_length != 0 && f->length > 0)
        offset += self->piece_length - offset % self->piece_length;
      f->offset = offset;
      offset += f->length;
      if (!(f->attrs & TE_FILE_ATTR_PAD))
        self->total_size += f->length;
    }
  self->span = offset;
  if (self->total_size == 0)
    {
      g_set_error_literal (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_NO_FILES,
                           "The torrent holds no data");
      return FALSE;
    }
  return TRUE;
}

/* The one limit, whichever way the torrent came in (file, watch folder, API,
 * magnet metadata). */
static gboolean
check_piece_count (guint64   n,
                   GError  **error)
{
  if (n > TE_METAINFO_MAX_PIECES)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_MANY_PIECES,
                   "The torrent has %" G_GUINT64_FORMAT " pieces; at most %u are allowed",
                   n, TE_METAINFO_MAX_PIECES);
      return FALSE;
    }
  return TRUE;
}

static guint64
count_v2_pieces (TeMetainfo *self)
{
  guint64 n = 0;

  for (guint i = 0; i < self->files->len; i++)
    {
      const TeFile *f = &g_array_index (self->files, TeFile, i);

      if (!(f->attrs & TE_FILE_ATTR_PAD))
        n += (f->length + self->piece_length - 1) / self->piece_length;
    }
  return n;
}

gboolean
_te_metainfo_parse_info (TeMetainfo     *self,
            const TeBValue *info,
            const TeBValue *layers,
            GError        **error)
{
  g_autoptr(TePathSet) paths = te_path_set_new ();
  g_autoptr(GArray) v2_files = NULL;
  TeBValue *name, *name_utf8, *pieces;
  GError *path_err = NULL;
  gint64 piece_length, meta_version, priv;
  guint64 expected;

  if (te_bvalue_kind (info) != TE_BVALUE_DICT)
    return _te_metainfo_missing ("info", error);

  name = te_bvalue_dict_get_kind (info, "name", TE_BVALUE_STRING);
  name_utf8 = te_bvalue_dict_get_kind (info, "name.utf-8", TE_BVALUE_STRING);
  if (name == NULL)
    return _te_metainfo_missing ("name", error);
  self->name = te_path_sanitize_component (te_bvalue_get_string (name, NULL),
                                           te_bvalue_length (name),
                                           name_utf8 ? te_bvalue_get_string (name_utf8, NULL) : NULL,
                                           name_utf8 ? te_bvalue_length (name_utf8) : 0,
                                           &path_err);
  if (self->name == NULL)
    return path_error (error, path_err, "Torrent name");

  if (!te_bvalue_dict_get_int (info, "piece length", &piece_length))
    return _te_metainfo_missing ("piece length", error);
  if (piece_length < TE_METAINFO_MIN_PIECE_SIZE || piece_length > TE_METAINFO_MAX_PIECE_SIZE
      || (piece_length & (piece_length - 1)) != 0)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LENGTH,
                   "Piece length %" G_GINT64_FORMAT " is not a power of two between 16 KiB "
                   "and 256 MiB", piece_length);
      return FALSE;
    }
  self->piece_length = (guint32) piece_length;

  if (te_bvalue_dict_get_int (info, "meta version", &meta_version))
    {
      if (meta_version != 2)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_VERSION,
                       "Unsupported meta version %" G_GINT64_FORMAT, meta_version);
          return FALSE;
        }
      self->has_v2 = TRUE;
    }
  pieces = te_bvalue_dict_lookup (info, "pieces");
  if (pieces != NULL)
    {
      if (te_bvalue_kind (pieces) != TE_BVALUE_STRING
          || te_bvalue_length (pieces) % TE_SHA1_LEN != 0)
        {
          g_set_error_literal (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECES,
                               "Field \"pieces\" is not a string of 20-byte hashes");
          return FALSE;
        }
      /* Before the files are read: the hashes alone say how many pieces. */
      if (!check_piece_count (te_bvalue_length (pieces) / TE_SHA1_LEN, error))
        return FALSE;
      self->has_v1 = TRUE;
    }
  if (!self->has_v1 && !self->has_v2)
    return _te_metainfo_missing ("pieces", error);

  if (te_bvalue_dict_get_int (info, "private", &priv))
    self->private = priv == 1;
  self->source = _te_metainfo_dup_text (info, "source");

  if (self->has_v2)
    {
      v2_files = g_array_new (FALSE, TRUE, sizeof (TeFile));
      g_array_set_clear_func (v2_files, _te_file_clear);
      if (!parse_v2_files (self, info, v2_files, error))
        return FALSE;
    }

  if (self->has_v1)
    {
      if (!parse_v1_files (self, info, paths, error))
        return FALSE;
      if (!layout_files (self, FALSE, error))
        return FALSE;
      if (v2_files != NULL && !merge_hybrid (self, v2_files, error))
        return FALSE;
    }
  else
    {
      for (guint i = 0; i < v2_files->len; i++)
        {
          TeFile *f = &g_array_index (v2_files, TeFile, i);
          GError *dup_err = NULL;

          if (!te_path_set_add (paths, f->path, &dup_err))
            return path_error (error, dup_err, "File tree");
        }
      /* Hand the entries over without copying the strings twice. */
      g_array_set_clear_func (v2_files, NULL);
      g_array_append_vals (self->files, v2_files->data, v2_files->len);
      if (!layout_files (self, TRUE, error))
        return FALSE;
    }

  if (self->has_v1)
    {
      expected = (self->span + self->piece_length - 1) / self->piece_length;
      if (te_bvalue_length (pieces) / TE_SHA1_LEN != expected)
        {
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_SIZE_MISMATCH,
                       "%u piece hashes for %" G_GUINT64_FORMAT " bytes, expected %" G_GUINT64_FORMAT,
                       te_bvalue_length (pieces) / TE_SHA1_LEN, self->span, expected);
          return FALSE;
        }
      /* Point into the kept info bytes rather than copy 20 bytes a piece. */
      gsize info_start, info_end, pieces_start, pieces_end;
      gboolean spans = te_bvalue_get_span (info, &info_start, &info_end)
                       && te_bvalue_get_span (pieces, &pieces_start, &pieces_end);

      g_assert (spans && pieces_end <= info_end);
      self->v1_hashes = (const guint8 *) g_bytes_get_data (self->info, NULL)
                        + (pieces_end - info_start) - te_bvalue_length (pieces);
      g_assert (memcmp (self->v1_hashes, te_bvalue_get_string (pieces, NULL),
                        te_bvalue_length (pieces)) == 0);
    }
  else
    expected = count_v2_pieces (self);

  if (self->has_v1 && self->has_v2 && count_v2_pieces (self) != expected)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_HYBRID_MISMATCH,
                   "v1 has %" G_GUINT64_FORMAT " pieces, v2 %" G_GUINT64_FORMAT,
                   expected, count_v2_pieces (self));
      return FALSE;
    }
  if (!check_piece_count (expected, error))
    return FALSE;
  self->n_pieces = (guint) expected;

  if (self->has_v2 && !parse_piece_layers (self, layers, error))
    return FALSE;
  return TRUE;
}

