/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-metainfo"

#include "config.h"

#include <string.h>

#include "te-bencode.h"
#include "te-metainfo.h"
#include "te-path.h"

G_DEFINE_QUARK (te-metainfo-error-quark, te_metainfo_error)

struct _TeMetainfo
{
  GObject     parent_instance;

  GBytes     *torrent;      /* whole .torrent, NULL when built from an info dict */
  GBytes     *info;         /* the info dictionary's original bytes */
  char       *name;
  gboolean    multi_file;
  gboolean    has_v1;
  gboolean    has_v2;
  guint8      hash_v1[TE_SHA1_LEN];
  guint8      hash_v2[TE_SHA256_LEN];
  guint32     piece_length;
  guint       n_pieces;
  guint64     total_size;   /* real files only */
  guint64     span;         /* end of the piece space */
  guint8     *v1_hashes;
  gboolean    layers_missing;

  GArray     *files;        /* TeFile */
  GPtrArray  *tiers;        /* GPtrArray of char* */
  GStrv       web_seeds;
  gboolean    private;
  char       *comment;
  char       *created_by;
  char       *source;
  gint64      creation_date;
};

G_DEFINE_FINAL_TYPE (TeMetainfo, te_metainfo, G_TYPE_OBJECT)

static void
file_clear (gpointer data)
{
  TeFile *f = data;

  g_free (f->path);
  g_free (f->layer);
}

static void
te_metainfo_finalize (GObject *object)
{
  TeMetainfo *self = TE_METAINFO (object);

  g_clear_pointer (&self->torrent, g_bytes_unref);
  g_clear_pointer (&self->info, g_bytes_unref);
  g_clear_pointer (&self->files, g_array_unref);
  g_clear_pointer (&self->tiers, g_ptr_array_unref);
  g_clear_pointer (&self->web_seeds, g_strfreev);
  g_free (self->name);
  g_free (self->v1_hashes);
  g_free (self->comment);
  g_free (self->created_by);
  g_free (self->source);

  G_OBJECT_CLASS (te_metainfo_parent_class)->finalize (object);
}

static void
te_metainfo_class_init (TeMetainfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = te_metainfo_finalize;
}

static void
te_metainfo_init (TeMetainfo *self)
{
  self->files = g_array_new (FALSE, TRUE, sizeof (TeFile));
  g_array_set_clear_func (self->files, file_clear);
  self->tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->creation_date = -1;
}

/* Parsing helpers */

static char *
dup_text (const TeBValue *dict,
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

static gboolean
missing (const char *what,
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
    return missing ("length", error);
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
        return missing ("files", error);
      if (!parse_length (entry, &f.length, error))
        return FALSE;
      path = te_bvalue_dict_get_kind (entry, "path", TE_BVALUE_LIST);
      if (path == NULL)
        return missing ("path", error);
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
            return missing ("path", error);
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
          g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_FILE_TREE,
                       "File tree entry is not a dictionary");
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
          f.attrs = parse_attrs (leaf);
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
    return missing ("file tree", error);
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
        break;
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

static gboolean
parse_info (TeMetainfo     *self,
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
    return missing ("info", error);

  name = te_bvalue_dict_get_kind (info, "name", TE_BVALUE_STRING);
  name_utf8 = te_bvalue_dict_get_kind (info, "name.utf-8", TE_BVALUE_STRING);
  if (name == NULL)
    return missing ("name", error);
  self->name = te_path_sanitize_component (te_bvalue_get_string (name, NULL),
                                           te_bvalue_length (name),
                                           name_utf8 ? te_bvalue_get_string (name_utf8, NULL) : NULL,
                                           name_utf8 ? te_bvalue_length (name_utf8) : 0,
                                           &path_err);
  if (self->name == NULL)
    return path_error (error, path_err, "Torrent name");

  if (!te_bvalue_dict_get_int (info, "piece length", &piece_length))
    return missing ("piece length", error);
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
      self->has_v1 = TRUE;
    }
  if (!self->has_v1 && !self->has_v2)
    return missing ("pieces", error);

  if (te_bvalue_dict_get_int (info, "private", &priv))
    self->private = priv == 1;
  self->source = dup_text (info, "source");

  if (self->has_v2)
    {
      v2_files = g_array_new (FALSE, TRUE, sizeof (TeFile));
      g_array_set_clear_func (v2_files, file_clear);
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
      self->v1_hashes = g_memdup2 (te_bvalue_get_string (pieces, NULL), te_bvalue_length (pieces));
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
  if (expected > G_MAXINT32)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_LARGE,
                   "%" G_GUINT64_FORMAT " pieces is too many", expected);
      return FALSE;
    }
  self->n_pieces = (guint) expected;

  if (self->has_v2 && !parse_piece_layers (self, layers, error))
    return FALSE;
  return TRUE;
}

static void
parse_trackers (TeMetainfo     *self,
                const TeBValue *root)
{
  TeBValue *list = te_bvalue_dict_get_kind (root, "announce-list", TE_BVALUE_LIST);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  TeBValue *ws;

  for (guint t = 0; list != NULL && t < te_bvalue_length (list); t++)
    {
      TeBValue *tier = te_bvalue_list_nth (list, t);
      g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);

      if (te_bvalue_kind (tier) != TE_BVALUE_LIST)
        continue;
      for (guint i = 0; i < te_bvalue_length (tier); i++)
        {
          TeBValue *u = te_bvalue_list_nth (tier, i);
          const char *s;

          if (te_bvalue_kind (u) != TE_BVALUE_STRING)
            continue;
          s = (const char *) te_bvalue_get_string (u, NULL);
          if (*s == 0 || strlen (s) != te_bvalue_length (u) || !g_utf8_validate (s, -1, NULL)
              || g_hash_table_contains (seen, s))
            continue;
          g_hash_table_add (seen, g_strdup (s));
          g_ptr_array_add (urls, g_strdup (s));
        }
      if (urls->len > 0)
        g_ptr_array_add (self->tiers, g_steal_pointer (&urls));
    }

  if (self->tiers->len == 0)
    {
      g_autofree char *announce = dup_text (root, "announce");

      if (announce != NULL && *announce != 0)
        {
          GPtrArray *urls = g_ptr_array_new_with_free_func (g_free);

          g_ptr_array_add (urls, g_steal_pointer (&announce));
          g_ptr_array_add (self->tiers, urls);
        }
    }

  ws = te_bvalue_dict_lookup (root, "url-list");
  if (ws != NULL)
    {
      GStrvBuilder *b = g_strv_builder_new ();

      if (te_bvalue_kind (ws) == TE_BVALUE_STRING)
        {
          g_autofree char *s = dup_text (root, "url-list");
          if (s != NULL && *s != 0)
            g_strv_builder_add (b, s);
        }
      else if (te_bvalue_kind (ws) == TE_BVALUE_LIST)
        {
          for (guint i = 0; i < te_bvalue_length (ws); i++)
            {
              TeBValue *u = te_bvalue_list_nth (ws, i);
              const char *s;

              if (te_bvalue_kind (u) != TE_BVALUE_STRING)
                continue;
              s = (const char *) te_bvalue_get_string (u, NULL);
              if (*s != 0 && strlen (s) == te_bvalue_length (u) && g_utf8_validate (s, -1, NULL))
                g_strv_builder_add (b, s);
            }
        }
      self->web_seeds = g_strv_builder_end (b);
      g_strv_builder_unref (b);
    }
  if (self->web_seeds == NULL)
    self->web_seeds = g_new0 (char *, 1);
}

static TeMetainfo *
parse (GBytes   *torrent,
       GBytes   *info_only,
       GError  **error)
{
  g_autoptr(TeMetainfo) self = g_object_new (TE_TYPE_METAINFO, NULL);
  g_autoptr(TeBValue) root = NULL;
  GBytes *src = torrent ? torrent : info_only;
  const guint8 *data;
  gsize len, start, end;
  TeBValue *info;

  data = g_bytes_get_data (src, &len);
  if (len > TE_METAINFO_MAX_SIZE)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_LARGE,
                   "Torrent of %" G_GSIZE_FORMAT " bytes is larger than the %d allowed",
                   len, TE_METAINFO_MAX_SIZE);
      return NULL;
    }
  root = te_bencode_decode (data, len, error);
  if (root == NULL)
    return NULL;
  if (te_bvalue_kind (root) != TE_BVALUE_DICT)
    {
      g_set_error_literal (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_MISSING_FIELD,
                           "Torrent is not a dictionary");
      return NULL;
    }

  info = torrent ? te_bvalue_dict_get_kind (root, "info", TE_BVALUE_DICT) : root;
  if (info == NULL)
    {
      missing ("info", error);
      return NULL;
    }
  te_bvalue_get_span (info, &start, &end);
  self->info = g_bytes_new_from_bytes (src, start, end - start);
  if (torrent)
    self->torrent = g_bytes_ref (torrent);

  if (!parse_info (self, info,
                   torrent ? te_bvalue_dict_get_kind (root, "piece layers", TE_BVALUE_DICT) : NULL,
                   error))
    return NULL;
  if (torrent && self->has_v2 && self->layers_missing)
    {
      g_set_error_literal (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
                           "Missing field \"piece layers\"");
      return NULL;
    }

  if (self->has_v1)
    te_sha1 (data + start, end - start, self->hash_v1);
  if (self->has_v2)
    te_sha256 (data + start, end - start, self->hash_v2);

  if (torrent)
    {
      gint64 date;

      parse_trackers (self, root);
      self->comment = dup_text (root, "comment");
      self->created_by = dup_text (root, "created by");
      if (te_bvalue_dict_get_int (root, "creation date", &date))
        self->creation_date = date;
    }
  else
    self->web_seeds = g_new0 (char *, 1);

  return g_steal_pointer (&self);
}

/**
 * te_metainfo_new_from_bytes:
 * @torrent: the contents of a .torrent file
 * @error: a #TE_METAINFO_ERROR, #TE_PATH_ERROR or #TE_BENCODE_ERROR
 *
 * Parses and validates a torrent: v1, v2 or hybrid.
 *
 * Returns: (transfer full): the metainfo, or `NULL` with @error set
 */
TeMetainfo *
te_metainfo_new_from_bytes (GBytes  *torrent,
                            GError **error)
{
  g_return_val_if_fail (torrent != NULL, NULL);
  return parse (torrent, NULL, error);
}

/**
 * te_metainfo_new_from_info:
 * @info: a bencoded info dictionary, as fetched for a magnet link
 * @error: return location for an error
 *
 * For v2 torrents the piece layers are not part of the info dictionary;
 * te_metainfo_needs_piece_layers() tells whether they still have to be fetched.
 *
 * Returns: (transfer full): the metainfo, or `NULL` with @error set
 */
TeMetainfo *
te_metainfo_new_from_info (GBytes  *info,
                           GError **error)
{
  g_return_val_if_fail (info != NULL, NULL);
  return parse (NULL, info, error);
}

TeMetainfo *
te_metainfo_new_from_file (const char *path,
                           GError    **error)
{
  g_autoptr(GMappedFile) map = NULL;
  g_autoptr(GBytes) bytes = NULL;

  map = g_mapped_file_new (path, FALSE, error);
  if (map == NULL)
    return NULL;
  if (g_mapped_file_get_length (map) > TE_METAINFO_MAX_SIZE)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_LARGE,
                   "%s is larger than the %d bytes a torrent may have", path,
                   TE_METAINFO_MAX_SIZE);
      return NULL;
    }
  /* Copy: the file may change under a mapping. */
  bytes = g_bytes_new (g_mapped_file_get_contents (map), g_mapped_file_get_length (map));
  return te_metainfo_new_from_bytes (bytes, error);
}

/* Accessors */

const char *
te_metainfo_get_name (TeMetainfo *self)
{
  g_return_val_if_fail (TE_IS_METAINFO (self), NULL);
  return self->name;
}

gboolean
te_metainfo_has_v1 (TeMetainfo *self)
{
  return self->has_v1;
}

gboolean
te_metainfo_has_v2 (TeMetainfo *self)
{
  return self->has_v2;
}

const guint8 *
te_metainfo_get_info_hash (TeMetainfo *self)
{
  return self->has_v1 ? self->hash_v1 : NULL;
}

const guint8 *
te_metainfo_get_info_hash_v2 (TeMetainfo *self)
{
  return self->has_v2 ? self->hash_v2 : NULL;
}

char *
te_metainfo_dup_info_hash_hex (TeMetainfo *self)
{
  return self->has_v1 ? te_hex_encode (self->hash_v1, TE_SHA1_LEN) : NULL;
}

char *
te_metainfo_dup_info_hash_v2_hex (TeMetainfo *self)
{
  return self->has_v2 ? te_hex_encode (self->hash_v2, TE_SHA256_LEN) : NULL;
}

GBytes *
te_metainfo_get_info_bytes (TeMetainfo *self)
{
  return self->info;
}

GBytes *
te_metainfo_get_torrent_bytes (TeMetainfo *self)
{
  return self->torrent;
}

gboolean
te_metainfo_is_multi_file (TeMetainfo *self)
{
  return self->multi_file;
}

gboolean
te_metainfo_needs_piece_layers (TeMetainfo *self)
{
  return self->layers_missing;
}

guint32
te_metainfo_get_piece_length (TeMetainfo *self)
{
  return self->piece_length;
}

guint
te_metainfo_get_n_pieces (TeMetainfo *self)
{
  return self->n_pieces;
}

guint64
te_metainfo_get_piece_offset (TeMetainfo *self,
                              guint       piece)
{
  return (guint64) piece * self->piece_length;
}

guint
te_metainfo_find_file (TeMetainfo *self,
                       guint64     offset)
{
  guint lo = 0, hi = self->files->len;

  /* Last file starting at or before @offset, skipping empty files. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (self->files, TeFile, mid).offset <= offset)
        lo = mid + 1;
      else
        hi = mid;
    }
  while (lo > 0)
    {
      const TeFile *f = &g_array_index (self->files, TeFile, lo - 1);

      if (f->length > 0)
        return offset < f->offset + f->length ? lo - 1 : G_MAXUINT;
      lo--;
    }
  return G_MAXUINT;
}

/* When there is no v1 piece space, pieces end where their file ends. */
static guint
piece_v2_file (TeMetainfo *self,
               guint       piece)
{
  return te_metainfo_find_file (self, te_metainfo_get_piece_offset (self, piece));
}

guint32
te_metainfo_get_piece_size (TeMetainfo *self,
                            guint       piece)
{
  guint64 start = te_metainfo_get_piece_offset (self, piece);
  guint64 end;

  g_return_val_if_fail (piece < self->n_pieces, 0);
  if (self->has_v1)
    end = self->span;
  else
    {
      const TeFile *f = &g_array_index (self->files, TeFile, piece_v2_file (self, piece));
      end = f->offset + f->length;
    }
  return (guint32) MIN ((guint64) self->piece_length, end - start);
}

const guint8 *
te_metainfo_get_piece_hash (TeMetainfo *self,
                            guint       piece)
{
  g_return_val_if_fail (piece < self->n_pieces, NULL);
  return self->v1_hashes ? self->v1_hashes + (gsize) piece * TE_SHA1_LEN : NULL;
}

/**
 * te_metainfo_get_piece_hash_v2:
 * @self: a #TeMetainfo
 * @piece: piece index
 * @out: the expected merkle root of the piece's file data
 * @tree_width: (out): how many 16 KiB leaves that root spans
 *
 * Returns: `FALSE` when the torrent has no v2 hashes for @piece (v1 only,
 *   piece layers not fetched yet, or a piece that is all padding)
 */
gboolean
te_metainfo_get_piece_hash_v2 (TeMetainfo *self,
                               guint       piece,
                               guint8      out[TE_SHA256_LEN],
                               gsize      *tree_width)
{
  guint fi;
  const TeFile *f;

  if (!self->has_v2 || piece >= self->n_pieces)
    return FALSE;
  fi = piece_v2_file (self, piece);
  if (fi == G_MAXUINT)
    return FALSE;
  f = &g_array_index (self->files, TeFile, fi);
  if (!f->has_root)
    return FALSE;

  if (f->length <= self->piece_length)
    {
      memcpy (out, f->pieces_root, TE_SHA256_LEN);
      *tree_width = te_next_pow2 ((f->length + TE_MERKLE_BLOCK_SIZE - 1) / TE_MERKLE_BLOCK_SIZE);
      return TRUE;
    }
  if (f->layer == NULL)
    return FALSE;
  memcpy (out, f->layer + (gsize) (piece - f->offset / self->piece_length) * TE_SHA256_LEN,
          TE_SHA256_LEN);
  *tree_width = self->piece_length / TE_MERKLE_BLOCK_SIZE;
  return TRUE;
}

guint64
te_metainfo_get_total_size (TeMetainfo *self)
{
  return self->total_size;
}

guint64
te_metainfo_get_span (TeMetainfo *self)
{
  return self->span;
}

guint
te_metainfo_get_n_files (TeMetainfo *self)
{
  return self->files->len;
}

const TeFile *
te_metainfo_get_file (TeMetainfo *self,
                      guint       index)
{
  g_return_val_if_fail (index < self->files->len, NULL);
  return &g_array_index (self->files, TeFile, index);
}

/**
 * te_metainfo_get_tiers:
 *
 * Returns: (transfer none) (element-type GPtrArray): tracker tiers, each a
 *   #GPtrArray of URLs
 */
GPtrArray *
te_metainfo_get_tiers (TeMetainfo *self)
{
  return self->tiers;
}

const char * const *
te_metainfo_get_web_seeds (TeMetainfo *self)
{
  return (const char * const *) self->web_seeds;
}

gboolean
te_metainfo_is_private (TeMetainfo *self)
{
  return self->private;
}

const char *
te_metainfo_get_comment (TeMetainfo *self)
{
  return self->comment;
}

const char *
te_metainfo_get_created_by (TeMetainfo *self)
{
  return self->created_by;
}

const char *
te_metainfo_get_source (TeMetainfo *self)
{
  return self->source;
}

gint64
te_metainfo_get_creation_date (TeMetainfo *self)
{
  return self->creation_date;
}
