/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-storage"

#include "config.h"

#include <glib/gstdio.h>

#include "te-parallel.h"
#include "te-storage.h"

/* The asynchronous face of TeStorage: each operation runs the blocking call on a
 * worker thread and completes on the caller's main context.
 *
 * Block and piece I/O go to one pool of as many threads as there are cores:
 * more writers than that only queue on the filesystem's locks. Whole-torrent
 * checks have their own pool, whose threads run at a lower priority: a mass
 * check keeps every core busy, and the main loop must still get its turn. */

#define CHECK_THREADS_PER_CORE 4    /* the engine runs up to this many small checks */
#define CHECK_NICE 10

typedef struct {
  GTask           *task;
  GTaskThreadFunc  func;
} DiskJob;

/* @user_data is the nice value the pool's threads take, 0 to keep theirs. */
static void
pool_worker (gpointer data,
             gpointer user_data)
{
  DiskJob *job = data;

  if (GPOINTER_TO_INT (user_data) != 0)
    te_parallel_lower_priority (GPOINTER_TO_INT (user_data));
  job->func (job->task, g_task_get_source_object (job->task), g_task_get_task_data (job->task),
             g_task_get_cancellable (job->task));
  g_object_unref (job->task);
  g_free (job);
}

static void
run_on_pool (GThreadPool     **pool,
             guint             threads,
             int               nice,
             GTask            *task,
             GTaskThreadFunc   func)
{
  DiskJob *job;

  if (g_once_init_enter (pool))
    g_once_init_leave (pool, g_thread_pool_new (pool_worker, GINT_TO_POINTER (nice), (gint) threads,
                                                FALSE, NULL));
  job = g_new0 (DiskJob, 1);
  job->task = g_object_ref (task);
  job->func = func;
  g_thread_pool_push (*pool, job, NULL);
}

static void
run_on_disk_pool (GTask           *task,
                  GTaskThreadFunc  func)
{
  static GThreadPool *pool;

  run_on_pool (&pool, MAX (2, te_parallel_n_threads ()), 0, task, func);
}

/* Threads a check starts inherit its priority. */
static void
run_on_check_pool (GTask           *task,
                   GTaskThreadFunc  func)
{
  static GThreadPool *pool;

  run_on_pool (&pool, MAX (2, te_parallel_n_threads ()) * CHECK_THREADS_PER_CORE, CHECK_NICE,
               task, func);
}

typedef struct {
  guint    piece;
  guint32  begin;
  guint32  length;
  GBytes  *data;
} BlockOp;

static void
block_op_free (gpointer data)
{
  BlockOp *op = data;

  g_clear_pointer (&op->data, g_bytes_unref);
  g_free (op);
}

static gboolean
check_block (TeStorage *self,
             guint      piece,
             guint32    begin,
             gsize      length,
             GError   **error)
{
  TeMetainfo *meta = te_storage_get_metainfo (self);

  /* Up to the padded size: v2 alignment gaps read as zeros and take no writes. */
  if (piece >= te_metainfo_get_n_pieces (meta)
      || begin > te_metainfo_get_piece_padded_size (meta, piece)
      || length > te_metainfo_get_piece_padded_size (meta, piece) - begin)
    {
      g_set_error (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_RANGE,
                   "Block %u:%u+%" G_GSIZE_FORMAT " lies outside the torrent", piece, begin, length);
      return FALSE;
    }
  return TRUE;
}

/* Checks the range, then runs @func on the disk pool with a BlockOp. */
static void
start_block_op (TeStorage          *self,
                gpointer            source_tag,
                guint               piece,
                guint32             begin,
                guint32             length,
                GBytes             *data,
                GTaskThreadFunc     func,
                GCancellable       *cancellable,
                GAsyncReadyCallback callback,
                gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  BlockOp *op;

  g_task_set_source_tag (task, source_tag);
  if (!check_block (self, piece, begin, data ? g_bytes_get_size (data) : length, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  op = g_new0 (BlockOp, 1);
  op->piece = piece;
  op->begin = begin;
  op->length = length;
  op->data = data ? g_bytes_ref (data) : NULL;
  g_task_set_task_data (task, op, block_op_free);
  run_on_disk_pool (task, func);
}

static void
write_block_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  TeStorage *self = source;
  BlockOp *op = task_data;
  GError *error = NULL;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (op->data, &len);

  if (te_storage_write (self, te_metainfo_get_piece_offset (te_storage_get_metainfo (self), op->piece) + op->begin,
                        bytes, len, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
te_storage_write_block_async (TeStorage          *self,
                              guint               piece,
                              guint32             begin,
                              GBytes             *data,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data)
{
  start_block_op (self, te_storage_write_block_async, piece, begin, 0, data, write_block_thread,
                  cancellable, callback, user_data);
}

gboolean
te_storage_write_block_finish (TeStorage     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
read_block_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  TeStorage *self = source;
  BlockOp *op = task_data;
  GError *error = NULL;
  guint8 *buf = g_malloc (MAX (op->length, 1));

  TeMetainfo *meta = te_storage_get_metainfo (self);

  if (te_storage_read (self, te_metainfo_get_piece_offset (meta, op->piece) + op->begin,
                       buf, op->length, &error)
      && op->begin == 0 && op->length == te_metainfo_get_piece_padded_size (meta, op->piece)
      && !te_storage_check_piece_data (meta, op->piece, buf))
    {
      /* Whole pieces are served only as they verified: data changed or cut
       * short under us must not reach other peers. */
      g_set_error (&error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_IO,
                   "Piece %u on disk no longer matches its hash: its files changed or were truncated",
                   op->piece);
    }
  if (error == NULL)
    g_task_return_pointer (task, g_bytes_new_take (buf, op->length),
                           (GDestroyNotify) g_bytes_unref);
  else
    {
      g_free (buf);
      g_task_return_error (task, error);
    }
}

void
te_storage_read_block_async (TeStorage          *self,
                             guint               piece,
                             guint32             begin,
                             guint32             length,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  start_block_op (self, te_storage_read_block_async, piece, begin, length, NULL, read_block_thread,
                  cancellable, callback, user_data);
}

GBytes *
te_storage_read_block_finish (TeStorage     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A downloaded piece: hashed from memory, written only when it verified, so a
 * piece on disk is never newer than its verification. */
static void
write_piece_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  TeStorage *self = source;
  BlockOp *op = task_data;
  TeMetainfo *meta = te_storage_get_metainfo (self);
  GError *error = NULL;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (op->data, &len);

  if (len != te_metainfo_get_piece_size (meta, op->piece)
      || !te_storage_check_piece_data (meta, op->piece, bytes))
    {
      g_task_return_int (task, FALSE);
      return;
    }
  if (!te_storage_write (self, te_metainfo_get_piece_offset (meta, op->piece), bytes, len, &error))
    g_task_return_error (task, error);
  else
    g_task_return_int (task, TRUE);
}

void
te_storage_write_piece_async (TeStorage          *self,
                              guint               piece,
                              GBytes             *data,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data)
{
  start_block_op (self, te_storage_write_piece_async, piece, 0, 0, data, write_piece_thread,
                  cancellable, callback, user_data);
}

/**
 * te_storage_write_piece_finish:
 * @valid: (out): whether the piece matched its hashes (and was written)
 *
 * Returns: `FALSE` with @error set when writing failed
 */
gboolean
te_storage_write_piece_finish (TeStorage     *self,
                               GAsyncResult  *result,
                               gboolean      *valid,
                               GError       **error)
{
  return te_storage_verify_piece_finish (self, result, valid, error);
}

static void
verify_piece_thread (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  TeStorage *self = source;
  guint piece = GPOINTER_TO_UINT (task_data);
  g_autofree guint8 *scratch = g_malloc (te_metainfo_get_piece_length (te_storage_get_metainfo (self)));
  GError *error = NULL;
  gboolean valid = FALSE;

  if (te_storage_hash_piece (self, piece, scratch, &valid, &error))
    g_task_return_int (task, valid);
  else
    g_task_return_error (task, error);
}

void
te_storage_verify_piece_async (TeStorage          *self,
                               guint               piece,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, te_storage_verify_piece_async);
  if (piece >= te_metainfo_get_n_pieces (te_storage_get_metainfo (self)))
    {
      g_task_return_new_error (task, TE_STORAGE_ERROR, TE_STORAGE_ERROR_RANGE,
                               "Piece %u does not exist", piece);
      return;
    }
  g_task_set_task_data (task, GUINT_TO_POINTER (piece), NULL);
  run_on_disk_pool (task, verify_piece_thread);
}

gboolean
te_storage_verify_piece_finish (TeStorage     *self,
                                GAsyncResult  *result,
                                gboolean      *valid,
                                GError       **error)
{
  GError *local = NULL;
  gssize r;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  r = g_task_propagate_int (G_TASK (result), &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  *valid = r != 0;
  return TRUE;
}

/* Full recheck */

/* How long a check waits for a descriptor to open a file with. */
#define NO_DESCRIPTOR_FIRST_WAIT_US (10 * 1000)
#define NO_DESCRIPTOR_LAST_WAIT_US  G_USEC_PER_SEC
#define NO_DESCRIPTOR_MAX_WAIT_US   (60 * G_USEC_PER_SEC)

typedef struct {
  TeStorage          *self;
  TeBitfield         *have;
  GCancellable       *cancellable;  /* the task's */
  GMutex              lock;
  TeParallelProgress  progress;
  GSource            *timer;
} Recheck;

static void
recheck_free (gpointer data)
{
  Recheck *rc = data;

  te_parallel_unwatch (&rc->timer);
  te_bitfield_free (rc->have);
  g_mutex_clear (&rc->lock);
  g_free (rc);
}

void
te_recheck_result_free (TeRecheckResult *result)
{
  if (result == NULL)
    return;
  te_bitfield_free (result->have);
  g_strfreev (result->missing_files);
  g_free (result);
}

static gboolean
recheck_piece (guint     piece,
               guint8   *scratch,
               gpointer  user_data,
               GError  **error)
{
  Recheck *rc = user_data;
  gboolean valid = FALSE;
  GError *local = NULL;
  gulong wait_us = NO_DESCRIPTOR_FIRST_WAIT_US;
  gint64 since = 0;

  /* Out of descriptors: a check waits on its own (low-priority) thread for
   * some to be closed rather than failing; only a long shortage ends it. */
  while (!te_storage_hash_piece (rc->self, piece, scratch, &valid, &local))
    {
      gint64 now = g_get_monotonic_time ();

      if (!g_error_matches (local, TE_STORAGE_ERROR, TE_STORAGE_ERROR_NO_DESCRIPTORS)
          || (since != 0 && now - since >= NO_DESCRIPTOR_MAX_WAIT_US))
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (rc->cancellable, error))
        {
          g_error_free (local);
          return FALSE;
        }
      if (since == 0)
        since = now;
      g_clear_error (&local);
      g_usleep (wait_us);
      wait_us = MIN (wait_us * 2, NO_DESCRIPTOR_LAST_WAIT_US);
    }
  if (valid)
    {
      g_mutex_lock (&rc->lock);
      te_bitfield_set (rc->have, piece, TRUE);
      g_mutex_unlock (&rc->lock);
    }
  return TRUE;
}

static void
recheck_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  TeStorage *self = source;
  Recheck *rc = task_data;
  TeMetainfo *meta = te_storage_get_metainfo (self);
  GStrvBuilder *missing = g_strv_builder_new ();
  TeRecheckResult *result;
  GError *error = NULL;

  /* What the paths hold now is checked, not what descriptors opened before
   * (a deleted file reads on through them). */
  te_storage_close_files (self);
  rc->cancellable = cancellable;
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      g_autofree char *path = NULL;

      if (f->attrs & (TE_FILE_ATTR_PAD | TE_FILE_ATTR_SYMLINK))
        continue;
      path = te_storage_dup_file_path (self, i);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_strv_builder_add (missing, f->path);
    }

  if (!te_parallel_run (te_metainfo_get_n_pieces (meta), te_metainfo_get_piece_length (meta),
                        recheck_piece, rc, &rc->progress, cancellable, &error))
    {
      g_strv_builder_unref (missing);
      g_task_return_error (task, error);
      return;
    }

  result = g_new0 (TeRecheckResult, 1);
  result->have = te_bitfield_copy (rc->have);
  result->missing_files = g_strv_builder_end (missing);
  g_strv_builder_unref (missing);
  g_task_return_pointer (task, result, (GDestroyNotify) te_recheck_result_free);
}

/**
 * te_storage_recheck_async:
 * @progress: (nullable): called on the caller's main context about ten times a second
 *
 * Hashes every piece on all cores and reports which verified and which files
 * are missing.
 */
void
te_storage_recheck_async (TeStorage          *self,
                          TeProgressFunc      progress,
                          gpointer            progress_data,
                          GCancellable       *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Recheck *rc = g_new0 (Recheck, 1);

  g_task_set_source_tag (task, te_storage_recheck_async);
  rc->self = self;
  rc->have = te_bitfield_new (te_metainfo_get_n_pieces (te_storage_get_metainfo (self)));
  g_mutex_init (&rc->lock);
  if (progress != NULL)
    rc->timer = te_parallel_watch (&rc->progress, te_metainfo_get_n_pieces (te_storage_get_metainfo (self)),
                                   progress, progress_data, g_task_get_context (task));
  g_task_set_task_data (task, rc, recheck_free);
  run_on_check_pool (task, recheck_thread);
}

TeRecheckResult *
te_storage_recheck_finish (TeStorage     *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Files against saved state */

/* A torrent's descriptors unused for this long are closed when its files are
 * looked at: a quiet seed holds none. */
#define IDLE_CLOSE_US (60 * G_USEC_PER_SEC)

static void
check_files_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  TeStorage *self = source;
  TeBitfield *have = task_data;
  TeMetainfo *meta = te_storage_get_metainfo (self);
  GError *error = NULL;

  if (!te_storage_check_open_files (self, IDLE_CLOSE_US, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      g_autofree char *path = NULL;
      gboolean needed = FALSE;
      guint first, last;
      GStatBuf st;

      if ((f->attrs & TE_FILE_ATTR_PAD) || !te_metainfo_get_file_pieces (meta, i, &first, &last))
        continue;
      for (guint p = first; p <= last && !needed; p++)
        needed = te_bitfield_get (have, p);
      if (!needed)
        continue;
      path = te_storage_dup_file_path (self, i);
      if (g_stat (path, &st) != 0)
        {
          g_task_return_new_error (task, TE_STORAGE_ERROR, TE_STORAGE_ERROR_MISSING,
                                   "“%s” is missing", path);
          return;
        }
      if ((guint64) st.st_size < f->length)
        {
          g_task_return_new_error (task, TE_STORAGE_ERROR, TE_STORAGE_ERROR_MISSING,
                                   "“%s” is shorter than it should be", path);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

/**
 * te_storage_check_files_async:
 * @have: pieces believed to be on disk; must stay alive until the callback
 *
 * Looks, without reading them, whether the files holding @have's pieces are
 * all there and long enough: cheap enough to run for every torrent at start.
 * Open descriptors are looked at too (te_storage_check_open_files()), and
 * those idle for a minute closed.
 */
void
te_storage_check_files_async (TeStorage          *self,
                              const TeBitfield   *have,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, te_storage_check_files_async);
  g_task_set_task_data (task, (gpointer) have, NULL);
  run_on_disk_pool (task, check_files_thread);
}

gboolean
te_storage_check_files_finish (TeStorage     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
