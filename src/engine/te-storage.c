/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-storage"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-storage.h"

G_DEFINE_QUARK (te-storage-error-quark, te_storage_error)

/* Enough for large multi-file torrents without running into the process's fd limit. */
#define MAX_OPEN_FILES 128

typedef struct {
  int      fd;
  gboolean writable;
  guint    refs;
  guint64  last_used;
} OpenFile;

struct _TeStorage
{
  GObject         parent_instance;

  TeMetainfo     *metainfo;
  char           *save_path;
  TeStorageFlags  flags;

  GMutex          lock;        /* guards open_files and clock */
  GMutex          write_lock;  /* one writer at a time: see do_io() */
  GHashTable     *open_files;  /* file index → OpenFile* */
  guint64         clock;
};

G_DEFINE_FINAL_TYPE (TeStorage, te_storage, G_TYPE_OBJECT)

static void
open_file_free (gpointer data)
{
  OpenFile *of = data;

  close (of->fd);
  g_free (of);
}

static void
te_storage_finalize (GObject *object)
{
  TeStorage *self = TE_STORAGE (object);

  g_hash_table_unref (self->open_files);
  g_mutex_clear (&self->lock);
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
  g_mutex_init (&self->lock);
  g_mutex_init (&self->write_lock);
  self->open_files = g_hash_table_new_full (NULL, NULL, NULL, open_file_free);
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

const char *
te_storage_get_save_path (TeStorage *self)
{
  return self->save_path;
}

char *
te_storage_dup_file_path (TeStorage *self,
                          guint      file_index)
{
  const TeFile *f = te_metainfo_get_file (self->metainfo, file_index);

  /* f->path is made of sanitized components only, so this stays below save_path. */
  return g_build_filename (self->save_path, f->path, NULL);
}

static gboolean
set_errno_error (GError    **error,
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
    default:
      code = TE_STORAGE_ERROR_IO;
      break;
    }
  g_set_error (error, TE_STORAGE_ERROR, code, "Cannot %s “%s”: %s", what, path, g_strerror (err));
  return FALSE;
}

static void
evict_locked (TeStorage *self)
{
  GHashTableIter iter;
  gpointer key, value;
  gpointer oldest_key = NULL;
  guint64 oldest = G_MAXUINT64;

  if (g_hash_table_size (self->open_files) < MAX_OPEN_FILES)
    return;
  g_hash_table_iter_init (&iter, self->open_files);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      OpenFile *of = value;

      if (of->refs == 0 && of->last_used < oldest)
        {
          oldest = of->last_used;
          oldest_key = key;
        }
    }
  if (oldest != G_MAXUINT64)
    g_hash_table_remove (self->open_files, oldest_key);
}

static int
open_path (TeStorage    *self,
           const TeFile *f,
           const char   *path,
           gboolean      writable,
           GError      **error)
{
  int fd;

  if (!writable)
    {
      fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        set_errno_error (error, errno, path, "open");
      return fd;
    }

  {
    g_autofree char *dir = g_path_get_dirname (path);
    struct stat st;

    if (g_mkdir_with_parents (dir, 0755) != 0)
      {
        set_errno_error (error, errno, dir, "create folder");
        return -1;
      }
    fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
               (f->attrs & TE_FILE_ATTR_EXECUTABLE) ? 0755 : 0644);
    if (fd < 0)
      {
        set_errno_error (error, errno, path, "open");
        return -1;
      }
    if (fstat (fd, &st) == 0 && (guint64) st.st_size < f->length)
      {
        int r;

        /* Sparse by default: the file takes its size now and its blocks as they arrive. */
        if (self->flags & TE_STORAGE_FLAGS_PREALLOCATE)
          r = posix_fallocate (fd, 0, (off_t) f->length);
        else
          r = ftruncate (fd, (off_t) f->length) == 0 ? 0 : errno;
        if (r != 0)
          {
            close (fd);
            set_errno_error (error, r, path, "allocate");
            return -1;
          }
      }
  }
  return fd;
}

static OpenFile *
acquire (TeStorage *self,
         guint      index,
         gboolean   writable,
         GError   **error)
{
  OpenFile *of;
  g_autofree char *path = NULL;
  int fd;

  g_mutex_lock (&self->lock);
  of = g_hash_table_lookup (self->open_files, GUINT_TO_POINTER (index));
  if (of != NULL && (of->writable || !writable))
    {
      of->refs++;
      of->last_used = ++self->clock;
      g_mutex_unlock (&self->lock);
      return of;
    }
  g_mutex_unlock (&self->lock);

  path = te_storage_dup_file_path (self, index);
  fd = open_path (self, te_metainfo_get_file (self->metainfo, index), path, writable, error);
  if (fd < 0)
    return NULL;

  g_mutex_lock (&self->lock);
  of = g_hash_table_lookup (self->open_files, GUINT_TO_POINTER (index));
  if (of != NULL && of->refs == 0)
    {
      /* Upgrade a read-only descriptor, or drop ours if another thread won the race. */
      if (!of->writable && writable)
        g_hash_table_remove (self->open_files, GUINT_TO_POINTER (index));
      else
        {
          close (fd);
          fd = -1;
        }
    }
  else if (of != NULL)
    {
      /* In use read-only by another thread: keep ours private to this call. */
      g_mutex_unlock (&self->lock);
      of = g_new0 (OpenFile, 1);
      of->fd = fd;
      of->writable = writable;
      of->refs = G_MAXUINT; /* marks an unshared descriptor */
      return of;
    }
  if (fd >= 0)
    {
      evict_locked (self);
      of = g_new0 (OpenFile, 1);
      of->fd = fd;
      of->writable = writable;
      g_hash_table_insert (self->open_files, GUINT_TO_POINTER (index), of);
    }
  of->refs++;
  of->last_used = ++self->clock;
  g_mutex_unlock (&self->lock);
  return of;
}

static void
release (TeStorage *self,
         OpenFile  *of)
{
  if (of->refs == G_MAXUINT)
    {
      open_file_free (of);
      return;
    }
  g_mutex_lock (&self->lock);
  of->refs--;
  g_mutex_unlock (&self->lock);
}

void
te_storage_close_files (TeStorage *self)
{
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->open_files);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((OpenFile *) value)->refs == 0)
      g_hash_table_iter_remove (&iter);
  g_mutex_unlock (&self->lock);
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
      OpenFile *of;

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

          of = acquire (self, fi, op == OP_WRITE, error);
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
                  release (self, of);
                  return set_errno_error (error, err, path, op == OP_READ ? "read" : "write");
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
          release (self, of);
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
  if (!te_storage_read (self, te_metainfo_get_piece_offset (self->metainfo, piece),
                        scratch, size, &local))
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
