/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-torrent-private.h"

/* Moving a torrent's data to another folder: rename where the filesystem
 * allows, else copy and delete. A file's source goes only after its copy is
 * complete, and a failure moves back what was moved, so data is never lost. */

typedef struct {
  TeTorrent             *torrent;
  char                  *from;
  char                  *to;
  GPtrArray             *paths;        /* relative, of non-pad files */
  gboolean               was_paused;
  GFileProgressCallback  progress;
  gpointer               progress_data;
  guint64                total;
  gint64                 done;         /* atomic: bytes moved */
  guint                  progress_id;
  guint                  wait_id;
} MoveOp;

static void
move_op_free (gpointer data)
{
  MoveOp *op = data;

  g_clear_handle_id (&op->progress_id, g_source_remove);
  g_clear_handle_id (&op->wait_id, g_source_remove);
  g_object_unref (op->torrent);
  g_free (op->from);
  g_free (op->to);
  g_ptr_array_unref (op->paths);
  g_free (op);
}

static gboolean
move_one (const char    *src,
          const char    *dst,
          MoveOp        *op,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autofree char *dir = g_path_get_dirname (dst);
  g_autoptr(GFile) fsrc = NULL;
  g_autoptr(GFile) fdst = NULL;
  GStatBuf st;

  if (g_stat (src, &st) != 0)
    return TRUE;  /* never downloaded: nothing to move */
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "Cannot create “%s”: %s",
                   dir, g_strerror (err));
      return FALSE;
    }
  if (g_rename (src, dst) == 0)
    {
      g_atomic_pointer_add (&op->done, st.st_size);
      return TRUE;
    }
  if (errno != EXDEV)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "Cannot move “%s”: %s",
                   src, g_strerror (err));
      return FALSE;
    }
  fsrc = g_file_new_for_path (src);
  fdst = g_file_new_for_path (dst);
  if (!g_file_copy (fsrc, fdst, G_FILE_COPY_OVERWRITE | G_FILE_COPY_NOFOLLOW_SYMLINKS, cancellable,
                    NULL, NULL, error))
    {
      g_file_delete (fdst, NULL, NULL);
      return FALSE;
    }
  /* The copy must be on disk before the original goes. */
  {
    int fd = g_open (dst, O_RDONLY, 0);

    if (fd < 0 || fsync (fd) != 0)
      {
        int err = errno;
        if (fd >= 0)
          close (fd);
        g_file_delete (fdst, NULL, NULL);
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "Cannot write “%s”: %s",
                     dst, g_strerror (err));
        return FALSE;
      }
    close (fd);
  }
  g_atomic_pointer_add (&op->done, st.st_size);
  return g_file_delete (fsrc, NULL, error);
}

/* Removes the folders above @path that are left empty, up to @root
 * (excluded). Runs on worker threads. */
void
_te_remove_empty_parents (const char *root,
                          const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  while (g_str_has_prefix (dir, root) && strlen (dir) > strlen (root) && g_rmdir (dir) == 0)
    {
      char *up = g_path_get_dirname (dir);
      g_free (dir);
      dir = up;
    }
}

static void
move_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  MoveOp *op = task_data;
  GError *error = NULL;
  guint moved = 0;

  for (; moved < op->paths->len; moved++)
    {
      const char *rel = g_ptr_array_index (op->paths, moved);
      g_autofree char *src = g_build_filename (op->from, rel, NULL);
      g_autofree char *dst = g_build_filename (op->to, rel, NULL);

      if (!move_one (src, dst, op, cancellable, &error))
        break;
    }
  if (error == NULL)
    {
      for (guint i = 0; i < op->paths->len; i++)
        {
          g_autofree char *src = g_build_filename (op->from, g_ptr_array_index (op->paths, i), NULL);
          _te_remove_empty_parents (op->from, src);
        }
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* Put back what went: the torrent stays where it was. */
  while (moved-- > 0)
    {
      const char *rel = g_ptr_array_index (op->paths, moved);
      g_autofree char *src = g_build_filename (op->from, rel, NULL);
      g_autofree char *dst = g_build_filename (op->to, rel, NULL);
      g_autoptr(GError) back = NULL;

      if (!move_one (dst, src, op, NULL, &back))
        g_warning ("Cannot move “%s” back: %s", dst, back->message);
      _te_remove_empty_parents (op->to, dst);
    }
  g_task_return_error (task, error);
}

static gboolean
progress_cb (gpointer data)
{
  MoveOp *op = data;

  if (op->progress)
    op->progress ((goffset) g_atomic_pointer_get (&op->done), (goffset) op->total, op->progress_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
start_when_idle_cb (gpointer data)
{
  GTask *task = data;
  MoveOp *op = g_task_get_task_data (task);

  /* Writes handed to the disk before the pause go to the old place first. */
  if (op->torrent->writes_pending > 0)
    return G_SOURCE_CONTINUE;
  op->wait_id = 0;
  if (op->torrent->storage)
    te_storage_close_files (op->torrent->storage);
  op->progress_id = g_timeout_add (250, progress_cb, op);
  g_task_run_in_thread (task, move_thread);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
moved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *outer = user_data;
  MoveOp *op = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&op->progress_id, g_source_remove);
  progress_cb (op);
  if (g_task_propagate_boolean (G_TASK (result), &error))
    _te_torrent_set_storage_path (op->torrent, op->to);
  if (!op->was_paused)
    te_torrent_start (op->torrent);
  if (error)
    g_task_return_error (outer, g_steal_pointer (&error));
  else
    g_task_return_boolean (outer, TRUE);
  g_object_unref (outer);
}

/**
 * te_engine_move_storage_async:
 * @save_path: the new folder
 * @progress: (nullable) (scope notified): called in this thread with bytes moved
 *
 * Moves the torrent's data to @save_path, on this filesystem or another,
 * pausing the torrent meanwhile. On failure everything stays where it was.
 */
void
te_engine_move_storage_async (TeEngine              *self,
                              TeTorrent             *torrent,
                              const char            *save_path,
                              GFileProgressCallback  progress,
                              gpointer               progress_data,
                              GCancellable          *cancellable,
                              GAsyncReadyCallback    callback,
                              gpointer               user_data)
{
  GTask *outer = g_task_new (self, cancellable, callback, user_data);
  GTask *inner;
  MoveOp *op;

  g_task_set_source_tag (outer, te_engine_move_storage_async);
  if (!g_path_is_absolute (save_path))
    {
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "“%s” is not an absolute path", save_path);
      g_object_unref (outer);
      return;
    }
  op = g_new0 (MoveOp, 1);
  op->torrent = g_object_ref (torrent);
  op->from = g_strdup (torrent->save_path);
  op->to = g_canonicalize_filename (save_path, NULL);
  op->paths = g_ptr_array_new_with_free_func (g_free);
  op->progress = progress;
  op->progress_data = progress_data;
  op->was_paused = torrent->user_paused;
  for (guint i = 0; torrent->metainfo && i < te_metainfo_get_n_files (torrent->metainfo); i++)
    {
      const TeFile *f = te_metainfo_get_file (torrent->metainfo, i);

      if (!(f->attrs & TE_FILE_ATTR_PAD))
        {
          g_ptr_array_add (op->paths, g_strdup (f->path));
          op->total += f->length;
        }
    }
  te_torrent_pause (torrent);
  inner = g_task_new (NULL, cancellable, moved_cb, outer);
  g_task_set_task_data (inner, op, move_op_free);
  op->wait_id = g_timeout_add (20, start_when_idle_cb, inner);
}

gboolean
te_engine_move_storage_finish (TeEngine      *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
