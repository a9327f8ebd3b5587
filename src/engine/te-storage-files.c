/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-storage"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-fd-budget.h"
#include "te-storage-private.h"

/* Open descriptors are cached for every storage of the process together: one
 * limit, one least-recently-used order, and when the process runs out of
 * descriptors the idle ones of every torrent can be given back.
 *
 * A cached descriptor outlives its path: a file deleted or replaced under us
 * still reads through it. So the path is looked at again (an lstat() whose
 * device and inode must be the descriptor's, on the worker that takes it)
 * when a descriptor is taken more than VALIDATE_US after its last look, and
 * for all of a storage's descriptors by te_storage_check_open_files(). */
#define VALIDATE_US G_USEC_PER_SEC

static GMutex cache_lock;           /* guards lru and every open_files */
static GQueue lru = G_QUEUE_INIT;   /* cached TeOpenFiles; retired ones are not in it */

static void
open_file_free (TeOpenFile *of)
{
  close (of->fd);
  g_free (of);
}

static void
close_all (GSList *files)
{
  g_slist_free_full (files, (GDestroyNotify) open_file_free);
}

/* With cache_lock held: takes @of out of the cache. It is closed now (after
 * the lock is dropped: @to_close) when nobody uses it, else by its last user. */
static void
uncache_locked (TeOpenFile  *of,
                GSList     **to_close)
{
  g_hash_table_remove (of->storage->open_files, GUINT_TO_POINTER (of->index));
  g_queue_unlink (&lru, &of->link);
  if (of->refs == 0)
    *to_close = g_slist_prepend (*to_close, of);
  else
    of->retired = TRUE;
}

/* Never more than the descriptor budget's share for data files: peers and
 * the remote API need descriptors too. */
static guint
open_files_limit (void)
{
  return MIN (TE_STORAGE_DEFAULT_MAX_OPEN_FILES, te_fd_budget_get_files ());
}

/* With cache_lock held: makes room for one more under @limit. */
static void
evict_locked (guint    limit,
              GSList **to_close)
{
  GList *l = lru.tail;

  while (l != NULL && lru.length >= limit)
    {
      TeOpenFile *of = l->data;

      l = l->prev;
      if (of->refs == 0)
        uncache_locked (of, to_close);
    }
}

/* Closes every idle cached descriptor of the process; returns how many. */
static guint
close_idle_everywhere (void)
{
  GSList *to_close = NULL;
  guint n;

  g_mutex_lock (&cache_lock);
  for (GList *l = lru.tail; l != NULL;)
    {
      TeOpenFile *of = l->data;

      l = l->prev;
      if (of->refs == 0)
        uncache_locked (of, &to_close);
    }
  g_mutex_unlock (&cache_lock);
  n = g_slist_length (to_close);
  close_all (to_close);
  return n;
}

/* open(2), once more after closing idle descriptors when the process has run
 * out of them. */
static int
open_retrying (const char *path,
               int         flags,
               mode_t      mode)
{
  int fd = open (path, flags, mode);

  if (fd < 0 && (errno == EMFILE || errno == ENFILE))
    {
      int err = errno;
      guint closed = close_idle_everywhere ();

      g_debug ("Out of descriptors opening “%s”: closed %u idle ones", path, closed);
      if (closed > 0)
        fd = open (path, flags, mode);
      else
        errno = err;
    }
  return fd;
}

static int
open_path (TeStorage    *self,
           const TeFile *f,
           const char   *path,
           gboolean      writable,
           struct stat  *st,
           GError      **error)
{
  int fd;

  if (!writable)
    {
      fd = open_retrying (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
      if (fd < 0)
        _te_storage_set_errno_error (error, errno, path, "open");
      else if (fstat (fd, st) != 0)
        {
          _te_storage_set_errno_error (error, errno, path, "look at");
          close (fd);
          return -1;
        }
      return fd;
    }

  {
    g_autofree char *dir = g_path_get_dirname (path);

    if (g_mkdir_with_parents (dir, 0755) != 0)
      {
        _te_storage_set_errno_error (error, errno, dir, "create folder");
        return -1;
      }
    fd = open_retrying (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                        (f->attrs & TE_FILE_ATTR_EXECUTABLE) ? 0755 : 0644);
    if (fd < 0)
      {
        _te_storage_set_errno_error (error, errno, path, "open");
        return -1;
      }
    if (fstat (fd, st) != 0)
      {
        _te_storage_set_errno_error (error, errno, path, "look at");
        close (fd);
        return -1;
      }
    if ((guint64) st->st_size < f->length)
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
            _te_storage_set_errno_error (error, r, path, "allocate");
            return -1;
          }
      }
  }
  return fd;
}

/* Whether @of's path still leads to the file it was opened as. Blocking:
 * called on workers, by a user of @of (so the descriptor stays open). */
static gboolean
still_there (TeOpenFile  *of,
             const char  *path,
             GError     **error)
{
  struct stat st;
  int r = lstat (path, &st) == 0 ? 0 : errno;

  if (r == 0 && (st.st_dev != of->dev || st.st_ino != of->ino))
    {
      g_set_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_REPLACED,
                   "“%s” was replaced by another file while in use", path);
      return FALSE;
    }
  /* Other trouble looking (a folder made unreadable) shows on the next open,
   * but a descriptor whose file has no name left is deleted all the same. */
  if (r == ENOENT || r == ENOTDIR || (r != 0 && fstat (of->fd, &st) == 0 && st.st_nlink == 0))
    {
      g_set_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_MISSING,
                   "“%s” is missing: it was deleted while in use", path);
      return FALSE;
    }
  return TRUE;
}

void
_te_storage_release (TeOpenFile *of)
{
  gboolean last;

  g_mutex_lock (&cache_lock);
  last = --of->refs == 0 && of->retired;
  g_mutex_unlock (&cache_lock);
  if (last)
    open_file_free (of);
}

/* Takes @of out of the cache (its path no longer leads to it) and lets go. */
static void
release_stale (TeOpenFile *of)
{
  GSList *to_close = NULL;

  g_mutex_lock (&cache_lock);
  if (!of->retired)
    uncache_locked (of, &to_close);
  g_mutex_unlock (&cache_lock);
  _te_storage_release (of);
}

TeOpenFile *
_te_storage_acquire (TeStorage *self,
                     guint      index,
                     gboolean   writable,
                     GError   **error)
{
  g_autofree char *path = NULL;
  gint64 now = g_get_monotonic_time ();
  GSList *to_close = NULL;
  TeOpenFile *of, *cached;
  gboolean validate = FALSE;
  struct stat st;
  guint limit;
  int fd;

  g_mutex_lock (&cache_lock);
  of = g_hash_table_lookup (self->open_files, GUINT_TO_POINTER (index));
  if (of != NULL && (of->writable || !writable))
    {
      of->refs++;
      of->used_us = now;
      g_queue_unlink (&lru, &of->link);
      g_queue_push_head_link (&lru, &of->link);
      validate = now - of->checked_us >= VALIDATE_US;
      if (validate)
        of->checked_us = now;
    }
  else
    of = NULL;
  g_mutex_unlock (&cache_lock);

  if (of != NULL)
    {
      if (validate)
        {
          path = te_storage_dup_file_path (self, index);
          if (!still_there (of, path, error))
            {
              release_stale (of);
              return NULL;
            }
        }
      return of;
    }

  path = te_storage_dup_file_path (self, index);
  fd = open_path (self, te_metainfo_get_file (self->metainfo, index), path, writable, &st, error);
  if (fd < 0)
    return NULL;
  of = g_new0 (TeOpenFile, 1);
  of->storage = self;
  of->index = index;
  of->fd = fd;
  of->writable = writable;
  of->dev = st.st_dev;
  of->ino = st.st_ino;
  of->checked_us = now;
  of->used_us = now;
  of->link.data = of;

  limit = open_files_limit ();
  g_mutex_lock (&cache_lock);
  cached = g_hash_table_lookup (self->open_files, GUINT_TO_POINTER (index));
  if (cached != NULL && (cached->writable || !writable))
    {
      /* Another thread opened it meanwhile: use theirs. */
      to_close = g_slist_prepend (to_close, of);
      of = cached;
      g_queue_unlink (&lru, &of->link);
      g_queue_push_head_link (&lru, &of->link);
    }
  else
    {
      /* A read-only descriptor gives way to a writable one. */
      if (cached != NULL)
        uncache_locked (cached, &to_close);
      evict_locked (limit, &to_close);
      g_hash_table_insert (self->open_files, GUINT_TO_POINTER (index), of);
      g_queue_push_head_link (&lru, &of->link);
    }
  of->refs++;
  of->used_us = now;
  g_mutex_unlock (&cache_lock);
  close_all (to_close);
  return of;
}

/**
 * te_storage_close_files:
 *
 * Closes the storage's descriptors (those in use as soon as their reads and
 * writes end), so that its files are opened again by path: after they were
 * moved, before a check, when the torrent stops.
 */
void
te_storage_close_files (TeStorage *self)
{
  GSList *to_close = NULL;
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&cache_lock);
  g_hash_table_iter_init (&iter, self->open_files);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      TeOpenFile *of = value;

      /* uncache_locked() would remove from the table under the iterator. */
      g_queue_unlink (&lru, &of->link);
      if (of->refs == 0)
        to_close = g_slist_prepend (to_close, of);
      else
        of->retired = TRUE;
      g_hash_table_iter_remove (&iter);
    }
  g_mutex_unlock (&cache_lock);
  close_all (to_close);
}

/**
 * te_storage_has_open_files:
 *
 * Returns: whether the storage keeps descriptors open
 */
gboolean
te_storage_has_open_files (TeStorage *self)
{
  gboolean any;

  g_mutex_lock (&cache_lock);
  any = g_hash_table_size (self->open_files) > 0;
  g_mutex_unlock (&cache_lock);
  return any;
}

/**
 * te_storage_check_open_files:
 * @idle_us: close descriptors unused for this long; 0 to keep them
 *
 * Blocking. Looks whether each open descriptor's path still leads to its
 * file: a file deleted or replaced while open would otherwise go on being
 * read (and served) through the descriptor.
 *
 * Returns: `FALSE` with a %TE_STORAGE_ERROR_MISSING or
 *   %TE_STORAGE_ERROR_REPLACED error naming the first such file
 */
gboolean
te_storage_check_open_files (TeStorage  *self,
                             gint64      idle_us,
                             GError    **error)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  GSList *to_close = NULL;
  GHashTableIter iter;
  gpointer value;
  gboolean ok = TRUE;

  g_mutex_lock (&cache_lock);
  g_hash_table_iter_init (&iter, self->open_files);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      TeOpenFile *of = value;

      if (idle_us > 0 && of->refs == 0 && now - of->used_us >= idle_us)
        {
          g_queue_unlink (&lru, &of->link);
          to_close = g_slist_prepend (to_close, of);
          g_hash_table_iter_remove (&iter);
          continue;
        }
      of->refs++;
      of->checked_us = now;
      g_ptr_array_add (files, of);
    }
  g_mutex_unlock (&cache_lock);
  close_all (to_close);

  for (guint i = 0; i < files->len; i++)
    {
      TeOpenFile *of = g_ptr_array_index (files, i);
      g_autofree char *path = NULL;

      if (ok)
        {
          path = te_storage_dup_file_path (self, of->index);
          ok = still_there (of, path, error);
          if (!ok)
            {
              release_stale (of);
              continue;
            }
        }
      _te_storage_release (of);
    }
  return ok;
}
