/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-state"
#define _GNU_SOURCE   /* syncfs() */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-file-state-store.h"
#include "te-parallel.h"

/* The embedded state store: in one folder, per torrent, <id>.json (the state
 * document), <id>.json.1 … .5 (the previous versions, newest first) and
 * <id>.torrent. A save rotates the backups by renames, hard-links the current
 * version as .1, then replaces it with a fsynced temporary file: a crash at
 * any point leaves the old or the new version readable. All file work runs on
 * one worker thread, so saves of a torrent land in the order they were made;
 * saves waiting together share their syncs. */

/* From this many new files in a batch, one syncfs() replaces a fsync() each:
 * it writes their inodes a table block at a time and flushes the disk once,
 * where a fsync() each writes every inode alone and flushes every time. It
 * also writes other dirty data of the filesystem, which is why small batches
 * keep their fsync()s. */
#define SYNCFS_MIN_FILES 16

/* Saving is background work: the main loop goes first when the cores are busy. */
#define STORE_NICE 5

struct _TeFileStateStore
{
  GObject      parent_instance;

  char        *directory;
  GThreadPool *pool;           /* one thread, running drain() */
  GMutex       lock;
  GQueue       jobs;           /* Job, under the lock */
  gboolean     draining;       /* drain() is queued or running */
};

#define MAX_BATCH 256

static void te_file_state_store_iface_init (TeStateStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TeFileStateStore, te_file_state_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TE_TYPE_STATE_STORE,
                                                      te_file_state_store_iface_init))

typedef enum { JOB_SAVE, JOB_REMOVE, JOB_LIST, JOB_LOAD } JobKind;

typedef struct {
  JobKind  kind;
  GTask   *task;
  char    *id;
  char    *json;
  GBytes  *torrent;
  GStrv    ids;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->task);
  g_free (job->id);
  g_free (job->json);
  g_clear_pointer (&job->torrent, g_bytes_unref);
  g_strfreev (job->ids);
  g_free (job);
}

static char *
path_for (TeFileStateStore *self,
          const char       *id,
          const char       *suffix)
{
  g_autofree char *name = g_strconcat (id, suffix, NULL);

  return g_build_filename (self->directory, name, NULL);
}

static gboolean
set_errno_error (GError    **error,
                 const char *what,
                 const char *path)
{
  int err = errno;

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "Cannot %s “%s”: %s",
               what, path, g_strerror (err));
  return FALSE;
}

static gboolean
sync_directory (const char  *dir,
                GError     **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return set_errno_error (error, "open", dir);
  if (fsync (fd) != 0)
    {
      close (fd);
      return set_errno_error (error, "sync", dir);
    }
  close (fd);
  return TRUE;
}

/* Writes @path.tmp and leaves it open: the batch syncs them all, then renames. */
static int
write_temporary (const char   *path,
                 const guint8 *data,
                 gsize         len,
                 GError      **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  gsize done = 0;
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    return set_errno_error (error, "create", tmp), -1;
  while (done < len)
    {
      ssize_t n = write (fd, data + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, "write", tmp);
          close (fd);
          g_unlink (tmp);
          return -1;
        }
      done += (gsize) n;
    }
  return fd;
}

/* One save's files in a batch: each written to a temporary file first. */
typedef struct {
  Job    *job;
  char   *torrent_path;   /* NULL: no new .torrent */
  int     torrent_fd;
  char   *json_path;
  int     json_fd;
  GError *error;
} Pending;

/* Rotates the backups and writes the temporaries; nothing is replaced yet. */
static void
save_prepare (TeFileStateStore *self,
              Pending          *p)
{
  Job *job = p->job;
  g_autofree char *first = path_for (self, job->id, ".json.1");
  gboolean first_save;

  p->torrent_fd = p->json_fd = -1;
  p->json_path = path_for (self, job->id, ".json");
  first_save = access (p->json_path, F_OK) != 0 && errno == ENOENT;
  if (job->torrent != NULL)
    {
      g_autofree char *torrent = path_for (self, job->id, ".torrent");

      if (!g_file_test (torrent, G_FILE_TEST_EXISTS))
        {
          p->torrent_fd = write_temporary (torrent, g_bytes_get_data (job->torrent, NULL),
                                           g_bytes_get_size (job->torrent), &p->error);
          if (p->torrent_fd < 0)
            return;
          p->torrent_path = g_steal_pointer (&torrent);
        }
    }

  /* .4 → .5 … .1 → .2, then the current version becomes .1 as well. */
  for (guint i = TE_FILE_STATE_STORE_BACKUPS - 1; i >= 1 && !first_save; i--)
    {
      g_autofree char *from_suffix = g_strdup_printf (".json.%u", i);
      g_autofree char *to_suffix = g_strdup_printf (".json.%u", i + 1);
      g_autofree char *from = path_for (self, job->id, from_suffix);
      g_autofree char *to = path_for (self, job->id, to_suffix);

      if (g_rename (from, to) != 0 && errno != ENOENT)
        {
          set_errno_error (&p->error, "rotate", from);
          return;
        }
    }
  if (!first_save && link (p->json_path, first) != 0 && errno != ENOENT)
    {
      set_errno_error (&p->error, "keep a backup of", p->json_path);
      return;
    }
  p->json_fd = write_temporary (p->json_path, (const guint8 *) job->json, strlen (job->json), &p->error);
}

static void
sync_and_close (int        *fd,
                const char *path,
                GError    **error)
{
  if (*fd < 0)
    return;
  if (fsync (*fd) != 0 && *error == NULL)
    {
      g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);

      set_errno_error (error, "sync", tmp);
    }
  close (*fd);
  *fd = -1;
}

/* Makes every temporary file of the batch durable and closes it. */
static void
sync_batch (TeFileStateStore *self,
            Pending          *pending,
            guint             n)
{
  guint files = 0;
  int any = -1;

  for (guint i = 0; i < n; i++)
    {
      files += (pending[i].torrent_fd >= 0) + (pending[i].json_fd >= 0);
      any = pending[i].json_fd >= 0 ? pending[i].json_fd : any;
    }
#ifdef __linux__
  if (files >= SYNCFS_MIN_FILES && any >= 0)
    {
      if (syncfs (any) == 0)
        {
          for (guint i = 0; i < n; i++)
            {
              if (pending[i].torrent_fd >= 0)
                close (pending[i].torrent_fd);
              if (pending[i].json_fd >= 0)
                close (pending[i].json_fd);
              pending[i].torrent_fd = pending[i].json_fd = -1;
            }
          return;
        }
      /* The fsync()s below say which files did not make it. */
      g_debug ("syncfs on %s: %s", self->directory, g_strerror (errno));
    }
#endif
  for (guint i = 0; i < n; i++)
    {
      sync_and_close (&pending[i].torrent_fd, pending[i].torrent_path, &pending[i].error);
      sync_and_close (&pending[i].json_fd, pending[i].json_path, &pending[i].error);
    }
}

static void
replace (const char  *path,
         GError     **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);

  if (*error != NULL)
    g_unlink (tmp);
  else if (g_rename (tmp, path) != 0)
    {
      set_errno_error (error, "replace", path);
      g_unlink (tmp);
    }
}

static void return_job (Job *job, GError *error);

/* Saves many torrents with one round of syncs: all temporaries are written,
 * then synced (the first sync flushes most of what the others would), then
 * renamed into place, then the folder is synced once. Each save is still
 * atomic: until its rename, the previous version stands. */
static void
save_batch (TeFileStateStore *self,
            GPtrArray        *jobs)
{
  g_autofree Pending *pending = g_new0 (Pending, jobs->len);
  GError *dir_error = NULL;

  if (g_mkdir_with_parents (self->directory, 0700) != 0)
    set_errno_error (&dir_error, "create folder", self->directory);
  for (guint i = 0; i < jobs->len; i++)
    {
      pending[i].job = g_ptr_array_index (jobs, i);
      pending[i].torrent_fd = pending[i].json_fd = -1;
      if (dir_error)
        pending[i].error = g_error_copy (dir_error);
      else
        save_prepare (self, &pending[i]);
    }
  sync_batch (self, pending, jobs->len);
  for (guint i = 0; i < jobs->len; i++)
    {
      if (pending[i].torrent_path)
        replace (pending[i].torrent_path, &pending[i].error);
      /* A .torrent that did not land leaves the state as it was. */
      replace (pending[i].json_path, &pending[i].error);
    }
  if (dir_error == NULL)
    {
      GError *error = NULL;

      if (!sync_directory (self->directory, &error))
        for (guint i = 0; i < jobs->len; i++)
          if (pending[i].error == NULL)
            pending[i].error = g_error_copy (error);
      g_clear_error (&error);
    }
  for (guint i = 0; i < jobs->len; i++)
    {
      return_job (pending[i].job, pending[i].error);
      g_free (pending[i].torrent_path);
      g_free (pending[i].json_path);
    }
  g_clear_error (&dir_error);
}

static JsonObject *
read_document (const char  *path,
               GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_mapped_file (parser, path, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TE_STATE_ERROR, TE_STATE_ERROR_INVALID, "“%s” is not a JSON object", path);
      return NULL;
    }
  if (!te_state_document_validate (json_node_get_object (root), error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static TeStateRecord *
load_one (TeFileStateStore *self,
          const char       *id)
{
  TeStateRecord *record = g_new0 (TeStateRecord, 1);
  g_autofree char *torrent = path_for (self, id, ".torrent");
  GError *first_error = NULL;

  record->id = g_strdup (id);
  for (guint i = 0; i <= TE_FILE_STATE_STORE_BACKUPS && record->document == NULL; i++)
    {
      g_autofree char *suffix = i == 0 ? g_strdup (".json") : g_strdup_printf (".json.%u", i);
      g_autofree char *path = path_for (self, id, suffix);
      GError *error = NULL;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      record->document = read_document (path, &error);
      if (record->document == NULL && first_error == NULL)
        first_error = error;
      else
        g_clear_error (&error);
      if (record->document != NULL)
        record->from_backup = i > 0 || first_error != NULL;
    }
  if (record->document == NULL)
    {
      g_set_error (&record->problem, TE_STATE_ERROR, TE_STATE_ERROR_LOST,
                   "No readable state for %s: %s", id,
                   first_error ? first_error->message : "no state file");
      g_clear_error (&first_error);
    }
  else
    record->problem = first_error;

  if (g_file_test (torrent, G_FILE_TEST_IS_REGULAR))
    {
      char *data = NULL;
      gsize len = 0;

      if (g_file_get_contents (torrent, &data, &len, NULL))
        record->torrent = g_bytes_new_take (data, len);
    }
  return record;
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

/* Every id with a state file or a backup of one, sorted. */
static GStrv
list_ids (TeFileStateStore *self,
          GError          **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDir) dir = NULL;
  GError *local = NULL;
  const char *name;

  dir = g_dir_open (self->directory, 0, &local);
  if (dir == NULL)
    {
      /* No folder yet: nothing was ever saved. */
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_error_free (local);
          return g_new0 (char *, 1);
        }
      g_propagate_error (error, local);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      const char *dot = strchr (name, '.');
      g_autofree char *id = NULL;

      if (dot == NULL || !g_str_has_prefix (dot, ".json") || g_str_has_suffix (name, ".tmp"))
        continue;
      id = g_strndup (name, dot - name);
      if (te_state_id_is_valid (id) && !g_hash_table_contains (seen, id))
        {
          g_ptr_array_add (ids, g_strdup (id));
          g_hash_table_add (seen, g_steal_pointer (&id));
        }
    }
  g_ptr_array_sort (ids, compare_ids);
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}

static GPtrArray *
load_some (TeFileStateStore   *self,
           const char * const *ids)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) te_state_record_free);

  for (guint i = 0; ids[i] != NULL; i++)
    g_ptr_array_add (records, load_one (self, ids[i]));
  return records;
}

static gboolean
remove_all (TeFileStateStore *self,
            const char       *id,
            GError          **error)
{
  const char *suffixes[] = { ".json", ".json.tmp", ".torrent", ".torrent.tmp" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = path_for (self, id, suffixes[i]);

      if (g_unlink (path) != 0 && errno != ENOENT)
        return set_errno_error (error, "remove", path);
    }
  for (guint i = 1; i <= TE_FILE_STATE_STORE_BACKUPS; i++)
    {
      g_autofree char *suffix = g_strdup_printf (".json.%u", i);
      g_autofree char *path = path_for (self, id, suffix);

      if (g_unlink (path) != 0 && errno != ENOENT)
        return set_errno_error (error, "remove", path);
    }
  return TRUE;
}

static gboolean
unref_task_cb (gpointer data)
{
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

/* After its task returned. */
static void
release_job (Job *job)
{
  GTask *task = g_steal_pointer (&job->task);
  GSource *source;

  /* The task may hold the last reference to the store: drop it on the
   * caller's context, never here, where finalizing would wait on this thread.
   * An attached source, not g_main_context_invoke(): that one may run the
   * callback right here when it can acquire the context. */
  source = g_idle_source_new ();
  g_source_set_callback (source, unref_task_cb, task, NULL);
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
  job_free (job);
}

/* Takes @error. */
static void
return_job (Job    *job,
            GError *error)
{
  if (error)
    g_task_return_error (job->task, error);
  else
    g_task_return_boolean (job->task, TRUE);
  release_job (job);
}

static void
run_job (TeFileStateStore *self,
         Job              *job)
{
  GError *error = NULL;

  switch (job->kind)
    {
    case JOB_REMOVE:
      remove_all (self, job->id, &error);
      return_job (job, error);
      break;
    case JOB_LOAD:
      g_task_return_pointer (job->task, load_some (self, (const char * const *) job->ids),
                             (GDestroyNotify) g_ptr_array_unref);
      release_job (job);
      break;
    case JOB_LIST:
      {
        GStrv ids = list_ids (self, &error);

        if (ids)
          g_task_return_pointer (job->task, ids, (GDestroyNotify) g_strfreev);
        else
          g_task_return_error (job->task, error);
        release_job (job);
      }
      break;
    case JOB_SAVE:
    default:
      g_assert_not_reached ();
    }
}

/* The pool's one thread drains the queue: runs of saves go out as one
 * batch, removes and loads one at a time, all in the order they came. */
static void
drain (gpointer data,
       gpointer user_data)
{
  TeFileStateStore *self = user_data;

  te_parallel_lower_priority (STORE_NICE);
  for (;;)
    {
      g_autoptr(GPtrArray) saves = g_ptr_array_new ();
      g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
      Job *other = NULL;

      g_mutex_lock (&self->lock);
      while (saves->len < MAX_BATCH && !g_queue_is_empty (&self->jobs))
        {
          Job *job = g_queue_peek_head (&self->jobs);

          if (job->kind != JOB_SAVE)
            {
              if (saves->len == 0)
                other = g_queue_pop_head (&self->jobs);
              break;
            }
          /* A second save of one torrent waits for the next batch. */
          if (!g_hash_table_add (ids, job->id))
            break;
          g_ptr_array_add (saves, g_queue_pop_head (&self->jobs));
        }
      if (saves->len == 0 && other == NULL)
        {
          self->draining = FALSE;
          g_mutex_unlock (&self->lock);
          return;
        }
      g_mutex_unlock (&self->lock);
      if (saves->len > 0)
        save_batch (self, saves);
      else
        run_job (self, other);
    }
}

static void
queue_job (TeFileStateStore    *self,
           JobKind              kind,
           const char          *id,
           char                *json,
           GBytes              *torrent,
           const char * const  *ids,
           gpointer             source_tag,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  Job *job = g_new0 (Job, 1);
  gboolean start;

  job->kind = kind;
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  if (id != NULL && !te_state_id_is_valid (id))
    {
      g_task_return_new_error (job->task, TE_STATE_ERROR, TE_STATE_ERROR_BAD_ID,
                               "“%s” is not an info-hash", id);
      g_free (json);
      job_free (job);
      return;
    }
  job->id = g_strdup (id);
  job->json = json;
  job->torrent = torrent ? g_bytes_ref (torrent) : NULL;
  job->ids = g_strdupv ((char **) ids);
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->jobs, job);
  start = !self->draining;
  self->draining = TRUE;
  g_mutex_unlock (&self->lock);
  if (start)
    g_thread_pool_push (self->pool, GINT_TO_POINTER (1), NULL);
}

static void
file_save_async (TeStateStore        *store,
                 const char          *id,
                 JsonObject          *document,
                 GBytes              *torrent,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), document);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  /* Serialised now, on the caller's thread: the document may change after. */
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  queue_job (TE_FILE_STATE_STORE (store), JOB_SAVE, id, json_generator_to_data (gen, NULL),
             torrent, NULL, file_save_async, cancellable, callback, user_data);
}

static gboolean
file_bool_finish (TeStateStore  *store,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
file_remove_async (TeStateStore        *store,
                   const char          *id,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  queue_job (TE_FILE_STATE_STORE (store), JOB_REMOVE, id, NULL, NULL, NULL, file_remove_async,
             cancellable, callback, user_data);
}

static void
file_list_async (TeStateStore        *store,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  queue_job (TE_FILE_STATE_STORE (store), JOB_LIST, NULL, NULL, NULL, NULL, file_list_async,
             cancellable, callback, user_data);
}

static GStrv
file_list_finish (TeStateStore  *store,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
file_load_async (TeStateStore        *store,
                 const char * const  *ids,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  TeFileStateStore *self = TE_FILE_STATE_STORE (store);

  for (guint i = 0; ids[i] != NULL; i++)
    if (!te_state_id_is_valid (ids[i]))
      {
        g_task_report_new_error (self, callback, user_data, file_load_async, TE_STATE_ERROR,
                                 TE_STATE_ERROR_BAD_ID, "“%s” is not an info-hash", ids[i]);
        return;
      }
  queue_job (self, JOB_LOAD, NULL, NULL, NULL, ids, file_load_async, cancellable, callback,
             user_data);
}

static GPtrArray *
file_load_finish (TeStateStore  *store,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
te_file_state_store_iface_init (TeStateStoreInterface *iface)
{
  iface->save_async = file_save_async;
  iface->save_finish = file_bool_finish;
  iface->remove_async = file_remove_async;
  iface->remove_finish = file_bool_finish;
  iface->list_async = file_list_async;
  iface->list_finish = file_list_finish;
  iface->load_async = file_load_async;
  iface->load_finish = file_load_finish;
}

static void
te_file_state_store_finalize (GObject *object)
{
  TeFileStateStore *self = TE_FILE_STATE_STORE (object);

  /* Pending jobs hold a reference through their tasks, so none is left here. */
  g_thread_pool_free (self->pool, FALSE, TRUE);
  g_mutex_clear (&self->lock);
  g_free (self->directory);

  G_OBJECT_CLASS (te_file_state_store_parent_class)->finalize (object);
}

static void
te_file_state_store_class_init (TeFileStateStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = te_file_state_store_finalize;
}

static void
te_file_state_store_init (TeFileStateStore *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->jobs);
}

/**
 * te_file_state_store_new:
 * @directory: the folder to keep state in (created on the first save)
 *
 * Returns: (transfer full): a store keeping one JSON file per torrent
 */
TeFileStateStore *
te_file_state_store_new (const char *directory)
{
  TeFileStateStore *self = g_object_new (TE_TYPE_FILE_STATE_STORE, NULL);

  self->directory = g_strdup (directory);
  self->pool = g_thread_pool_new (drain, self, 1, FALSE, NULL);
  return self;
}
