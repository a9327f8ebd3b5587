/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-metainfo"

#include "config.h"

#include <string.h>

#include "te-bencode.h"
#include "te-metainfo.h"
#include "te-metainfo-private.h"
#include "te-path.h"

G_DEFINE_QUARK (te-metainfo-error-quark, te_metainfo_error)

G_DEFINE_FINAL_TYPE (TeMetainfo, te_metainfo, G_TYPE_OBJECT)

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
  g_array_set_clear_func (self->files, _te_file_clear);
  self->tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->creation_date = -1;
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
      g_autofree char *announce = _te_metainfo_dup_text (root, "announce");

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
          g_autofree char *s = _te_metainfo_dup_text (root, "url-list");
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
      _te_metainfo_missing ("info", error);
      return NULL;
    }
  te_bvalue_get_span (info, &start, &end);
  self->info = g_bytes_new_from_bytes (src, start, end - start);
  if (torrent)
    self->torrent = g_bytes_ref (torrent);

  if (!_te_metainfo_parse_info (self, info,
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
      self->comment = _te_metainfo_dup_text (root, "comment");
      self->created_by = _te_metainfo_dup_text (root, "created by");
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

gboolean
te_metainfo_file_needs_layer (TeMetainfo *self,
                              guint       file_index)
{
  TeFile *f = &g_array_index (self->files, TeFile, file_index);

  g_return_val_if_fail (file_index < self->files->len, FALSE);
  return f->has_root && f->length > self->piece_length
         && g_atomic_pointer_get (&f->layer) == NULL;
}

/**
 * te_metainfo_set_piece_layer:
 * @hashes: the file's piece layer, @n_hashes of 32 bytes (padding not included)
 *
 * Installs a piece layer fetched from peers (BEP 52) once it hashes to the
 * file's pieces root. Called on the main thread before any piece of the file
 * is verified, so workers never see it change under them.
 */
gboolean
te_metainfo_set_piece_layer (TeMetainfo    *self,
                             guint          file_index,
                             const guint8  *hashes,
                             gsize          n_hashes,
                             GError       **error)
{
  TeFile *f;
  guint n;
  guint8 root[TE_SHA256_LEN];

  g_return_val_if_fail (file_index < self->files->len, FALSE);
  f = &g_array_index (self->files, TeFile, file_index);
  n = (guint) ((f->length + self->piece_length - 1) / self->piece_length);
  if (!te_metainfo_file_needs_layer (self, file_index) || n_hashes != n)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
                   "“%s” takes no piece layer of %" G_GSIZE_FORMAT " hashes", f->path, n_hashes);
      return FALSE;
    }
  te_merkle_root (hashes, n, te_next_pow2 (n), te_log2 (self->piece_length / TE_MERKLE_BLOCK_SIZE),
                  root);
  if (memcmp (root, f->pieces_root, TE_SHA256_LEN) != 0)
    {
      g_set_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
                   "Piece layer of “%s” does not hash to its pieces root", f->path);
      return FALSE;
    }
  f->n_layer = n;
  g_atomic_pointer_set (&f->layer, g_memdup2 (hashes, (gsize) n * TE_SHA256_LEN));

  self->layers_missing = FALSE;
  for (guint i = 0; i < self->files->len; i++)
    if (te_metainfo_file_needs_layer (self, i))
      self->layers_missing = TRUE;
  return TRUE;
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

/**
 * te_metainfo_get_piece_padded_size:
 *
 * The piece's size counting the alignment gap after its file in a v2 torrent:
 * other clients lay v2 files out with implicit padding and may ask for blocks
 * that reach into it (it reads as zeros), even past the last file. Same as
 * te_metainfo_get_piece_size() for v1 and hybrid torrents.
 */
guint32
te_metainfo_get_piece_padded_size (TeMetainfo *self,
                                   guint       piece)
{
  guint64 start = te_metainfo_get_piece_offset (self, piece);

  g_return_val_if_fail (piece < self->n_pieces, 0);
  /* libtorrent pads every file of a v2 torrent, the last one too. */
  if (!self->has_v1)
    return self->piece_length;
  return (guint32) MIN ((guint64) self->piece_length, self->span - start);
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
 * te_metainfo_get_file_pieces:
 * @index: a file
 * @first: (out): the first piece holding some of its bytes
 * @last: (out): the last one
 *
 * Returns: whether the file has bytes (and so pieces) at all
 */
gboolean
te_metainfo_get_file_pieces (TeMetainfo *self,
                             guint       index,
                             guint      *first,
                             guint      *last)
{
  const TeFile *f = te_metainfo_get_file (self, index);
  guint64 pl = self->piece_length;

  if (f == NULL || f->length == 0 || self->n_pieces == 0)
    return FALSE;
  *first = (guint) MIN (f->offset / pl, self->n_pieces - 1);
  *last = (guint) MIN ((f->offset + f->length - 1) / pl, self->n_pieces - 1);
  return TRUE;
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
