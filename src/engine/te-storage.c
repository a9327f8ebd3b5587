/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-storage"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-storage-private.h"

G_DEFINE_QUARK (te-storage-error-quark, te_storage_error)

/* Pieces onto files; the descriptors are kept in te-storage-files.c. */

G_DEFINE_FINAL_TYPE (TeStorage, te_storage, G_TYPE_OBJECT)

static void
te_storage_finalize (GObject *object)
{
  TeStorage *self = TE_STORAGE (object);

  te_storage_close_files (self);
  g_hash_table_unref (self->open_files);
  g_mutex_clear (&self->write_lock);
  g_clear_object (&self->metainfo);
  g_free (self->save_path);

  G_OBJECT_CLASS (te_storage_parent_class)->finalize (object);
}

static void
te_storage_class_init (TeStorageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = te_storage_finalize;
}

static void
te_storage_init (TeStorage *self)
{
  g_mutex_init (&self->write_lock);
  self->open_files = g_hash_table_new (NULL, NULL);
}

/**
 * te_storage_new:
 * @metainfo: the torrent
 * @save_path: the folder the torrent's files go in
 * @flags: #TeStorageFlags
 *
 * Returns: (transfer full): a storage mapping @metainfo's pieces onto files
 */
TeStorage *
te_storage_new (TeMetainfo     *metainfo,
                const char     *save_path,
                TeStorageFlags  flags)
{
  TeStorage *self;

  g_return_val_if_fail (TE_IS_METAINFO (metainfo), NULL);
  g_return_val_if_fail (save_path != NULL, NULL);

  self = g_object_new (TE_TYPE_STORAGE, NULL);
  self->metainfo = g_object_ref (metainfo);
  self->save_path = g_strdup (save_path);
  self->flags = flags;
  return self;
}

TeMetainfo *
te_storage_get_metainfo (TeStorage *self)
{
  return self->metainfo;
}

char *
te_storage_dup_file_path (TeStorage *self,
                          guint      file_index)
{
  const TeFile *f = te_metainfo_get_file (self->metainfo, file_index);

  /* f->path is made of sanitized components only, so this stays below save_path. */
  return g_build_filename (self->save_path, f->path, NULL);
}

/* An errno as a TE_STORAGE_ERROR naming @path; returns `FALSE`. */
gboolean
_te_storage_set_errno_error (GError    **error,
                             int         err,
                             const char *path,
                             const char *what)
{
  int code;

  switch (err)
    {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      code = TE_STORAGE_ERROR_NO_SPACE;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = TE_STORAGE_ERROR_PERMISSION;
      break;
    case ENOENT:
      code = TE_STORAGE_ERROR_MISSING;
      break;
    case EMFILE:
    case ENFILE:
      code = TE_STORAGE_ERROR_NO_DESCRIPTORS;
      break;
    default:
      code = TE_STORAGE_ERROR_IO;
      break;
    }
  g_set_error (error, TE_STORAGE_ERROR, code, "Cannot %s “%s”: %s", what, path, g_strerror (err));
  return FALSE;
}

typedef enum { OP_READ, OP_WRITE } Op;

static gboolean
do_io (TeStorage *self,
       Op         op,
       guint64    offset,
       guint8    *buf,
       gsize      len,
       GError   **error)
{
  TeMetainfo *meta = self->metainfo;
  guint n_files = te_metainfo_get_n_files (meta);
  guint fi;

  guint64 limit = te_metainfo_has_v1 (meta)
                  ? te_metainfo_get_span (meta)
                  : (guint64) te_metainfo_get_n_pieces (meta) * te_metainfo_get_piece_length (meta);

  if (offset > limit || len > limit - offset)
    {
      g_set_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_RANGE,
                   "Range %" G_GUINT64_FORMAT "+%" G_GSIZE_FORMAT " lies outside the torrent",
                   offset, len);
      return FALSE;
    }
  if (op == OP_WRITE && (self->flags & TE_STORAGE_FLAGS_READ_ONLY))
    {
      g_set_error_literal (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_PERMISSION,
                           "Storage is read-only");
      return FALSE;
    }

  fi = te_metainfo_find_file (meta, offset);
  if (fi == G_MAXUINT)
    {
      /* In a v2 alignment gap (rare): start at the next file. */
      for (fi = 0; fi < n_files; fi++)
        if (te_metainfo_get_file (meta, fi)->offset > offset)
          break;
    }
  while (len > 0)
    {
      const TeFile *f;
      guint64 in_file, chunk;
      TeOpenFile *of;

      if (fi >= n_files)
        {
          /* Past the last file: only gap bytes remain. */
          if (op == OP_READ)
            memset (buf, 0, len);
          return TRUE;
        }
      f = te_metainfo_get_file (meta, fi);
      if (f->length == 0 || offset >= f->offset + f->length)
        {
          fi++;
          continue;
        }
      if (offset < f->offset)
        {
          chunk = MIN (len, f->offset - offset);
          if (op == OP_READ)
            memset (buf, 0, chunk);
          offset += chunk;
          buf += chunk;
          len -= chunk;
          continue;
        }
      in_file = offset - f->offset;
      chunk = MIN (len, f->length - in_file);

      if (f->attrs & (TE_FILE_ATTR_PAD | TE_FILE_ATTR_SYMLINK))
        {
          /* Pad files read as zeros and are never created. */
          if (op == OP_READ)
            memset (buf, 0, chunk);
        }
      else
        {
          gsize done = 0;

          of = _te_storage_acquire (self, fi, op == OP_WRITE, error);
          if (of == NULL)
            return FALSE;
          /* Buffered writes to a file take the kernel's inode lock, which
           * spins while another writer holds it: waiting here sleeps instead,
           * and the other thread hashes its next piece meanwhile. */
          if (op == OP_WRITE)
            g_mutex_lock (&self->write_lock);
          while (done < chunk)
            {
              ssize_t r = op == OP_READ
                ? pread (of->fd, buf + done, chunk - done, (off_t) (in_file + done))
                : pwrite (of->fd, buf + done, chunk - done, (off_t) (in_file + done));

              if (r < 0 && errno == EINTR)
                continue;
              if (r < 0)
                {
                  g_autofree char *path = te_storage_dup_file_path (self, fi);
                  int err = errno;

                  if (op == OP_WRITE)
                    g_mutex_unlock (&self->write_lock);
                  _te_storage_release (of);
                  return _te_storage_set_errno_error (error, err, path, op == OP_READ ? "read" : "write");
                }
              if (r == 0)
                {
                  /* A file shorter than the torrent says: the rest reads as zeros. */
                  g_assert (op == OP_READ);
                  memset (buf + done, 0, chunk - done);
                  break;
                }
              done += r;
            }
          if (op == OP_WRITE)
            g_mutex_unlock (&self->write_lock);
          _te_storage_release (of);
        }
      offset += chunk;
      buf += chunk;
      len -= chunk;
      fi++;
    }
  return TRUE;
}

gboolean
te_storage_read (TeStorage *self,
                 guint64    offset,
                 guint8    *buf,
                 gsize      len,
                 GError   **error)
{
  return do_io (self, OP_READ, offset, buf, len, error);
}

gboolean
te_storage_write (TeStorage    *self,
                  guint64       offset,
                  const guint8 *buf,
                  gsize         len,
                  GError      **error)
{
  return do_io (self, OP_WRITE, offset, (guint8 *) buf, len, error);
}

/**
 * te_storage_check_piece_data:
 * @metainfo: the torrent
 * @piece: piece index
 * @data: the piece's bytes (te_metainfo_get_piece_size() of them)
 *
 * Checks every hash the torrent has for @piece: SHA-1 for v1, the SHA-256
 * merkle root for v2, both for hybrid torrents.
 *
 * Returns: whether @data is the piece
 */
gboolean
te_storage_check_piece_data (TeMetainfo   *metainfo,
                             guint         piece,
                             const guint8 *data)
{
  guint32 size = te_metainfo_get_piece_size (metainfo, piece);
  const guint8 *expected_v1 = te_metainfo_get_piece_hash (metainfo, piece);
  guint8 expected_v2[TE_SHA256_LEN];
  gsize width;
  gboolean checked = FALSE;

  if (expected_v1 != NULL)
    {
      guint8 digest[TE_SHA1_LEN];

      te_sha1 (data, size, digest);
      if (memcmp (digest, expected_v1, TE_SHA1_LEN) != 0)
        return FALSE;
      checked = TRUE;
    }
  if (te_metainfo_get_piece_hash_v2 (metainfo, piece, expected_v2, &width))
    {
      guint64 start = te_metainfo_get_piece_offset (metainfo, piece);
      const TeFile *f = te_metainfo_get_file (metainfo, te_metainfo_find_file (metainfo, start));
      gsize file_part = (gsize) MIN ((guint64) size, f->offset + f->length - start);
      guint8 root[TE_SHA256_LEN];

      te_merkle_data_root (data, file_part, width, root);
      if (memcmp (root, expected_v2, TE_SHA256_LEN) != 0)
        return FALSE;
      checked = TRUE;
    }
  return checked;
}

/**
 * te_storage_hash_piece:
 * @scratch: a buffer of at least the piece length
 * @valid: (out): whether the data on disk verified
 *
 * Reads and checks one piece. Missing or short files make the piece invalid,
 * not an error; other filesystem failures are errors.
 */
gboolean
te_storage_hash_piece (TeStorage *self,
                       guint      piece,
                       guint8    *scratch,
                       gboolean  *valid,
                       GError   **error)
{
  GError *local = NULL;
  guint32 size;

  g_return_val_if_fail (piece < te_metainfo_get_n_pieces (self->metainfo), FALSE);

  size = te_metainfo_get_piece_size (self->metainfo, piece);
  for (guint tries = 0;; tries++)
    {
      if (te_storage_read (self, te_metainfo_get_piece_offset (self->metainfo, piece),
                           scratch, size, &local))
        break;
      /* A file replaced while open: its descriptor is closed now, and what
       * its path holds is what gets checked. */
      if (tries > 0 || !g_error_matches (local, TE_STORAGE_ERROR, TE_STORAGE_ERROR_REPLACED))
        break;
      g_clear_error (&local);
    }
  if (local != NULL)
    {
      if (g_error_matches (local, TE_STORAGE_ERROR, TE_STORAGE_ERROR_MISSING))
        {
          g_error_free (local);
          *valid = FALSE;
          return TRUE;
        }
      g_propagate_error (error, local);
      return FALSE;
    }
  *valid = te_storage_check_piece_data (self->metainfo, piece, scratch);
  return TRUE;
}
