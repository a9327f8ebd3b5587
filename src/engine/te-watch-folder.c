/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-watch"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "te-magnet.h"
#include "te-metainfo.h"
#include "te-state-manager.h"
#include "te-torrent.h"
#include "te-watch-folder.h"

/* Adds the .torrent files (and .magnet files holding a link) dropped into a
 * folder, then renames each to *.added or *.invalid. Thousands may arrive at
 * once: a worker lists, reads and parses them a batch at a time, and the main
 * loop adds a batch in slices of a few milliseconds, so it never stalls. With
 * a state manager, a file is renamed only once its torrent's state is saved:
 * after a crash before that, the file is still there to be added again. */

#define BATCH_FILES     64
#define BATCH_BYTES     (16 * 1024 * 1024)
#define SLICE_US        4000
#define DEBOUNCE_MS     200
#define MAX_MAGNET_FILE (64 * 1024)
#define SAVED_POLL_MS   500

struct _TeWatchFolder
{
  GObject        parent_instance;

  TeEngine      *engine;
  char          *path;
  GFileMonitor  *monitor;
  GCancellable  *cancellable;
  guint          debounce_id;
  guint          add_id;
  gboolean       busy;          /* a scan is between its listing and its last rename */
  gboolean       rescan;        /* files arrived meanwhile */
  GPtrArray     *names;         /* of this scan, still to read */
  guint          next_name;
  GPtrArray     *batch;         /* Item, read and parsed, being added */
  GPtrArray     *done;          /* Item, added or refused, to rename */
  TeStateManager *state;        /* nullable */
  GPtrArray     *waiting;       /* Item, added, its state not saved yet */
  guint          wait_id;
  gboolean       round_running; /* a worker round is out */
};

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

enum {
  SIGNAL_ADDED,
  SIGNAL_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeWatchFolder, te_watch_folder, G_TYPE_OBJECT)

typedef struct {
  char       *path;
  TeMetainfo *metainfo;
  char       *magnet;
  TeTorrent  *torrent;          /* added from it, until its state is saved */
  GError     *error;
  const char *suffix;           /* ".added" or ".invalid", once handled */
} Item;

static void
item_free (gpointer data)
{
  Item *item = data;

  g_free (item->path);
  g_clear_object (&item->metainfo);
  g_free (item->magnet);
  g_clear_object (&item->torrent);
  g_clear_error (&item->error);
  g_free (item);
}

/* What one worker round gets and gives back. */
typedef struct {
  char      *dir;
  GPtrArray *renames;           /* Item */
  GPtrArray *names;             /* NULL: list the folder first */
  GHashTable *skip;             /* names added, waiting for their state */
  guint      next_name;
  GPtrArray *batch;             /* Item */
} Round;

static void
round_free (gpointer data)
{
  Round *r = data;

  g_free (r->dir);
  g_clear_pointer (&r->renames, g_ptr_array_unref);
  g_clear_pointer (&r->names, g_ptr_array_unref);
  g_clear_pointer (&r->batch, g_ptr_array_unref);
  g_clear_pointer (&r->skip, g_hash_table_unref);
  g_free (r);
}

static gboolean
wanted_name (const char *name)
{
  return g_str_has_suffix (name, ".torrent") || g_str_has_suffix (name, ".magnet");
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static GPtrArray *
list_folder (const char  *dir,
             GHashTable  *skip,
             GError     **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  GPtrArray *names;
  const char *name;

  if (d == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)) != NULL)
    if (wanted_name (name) && !g_hash_table_contains (skip, name))
      g_ptr_array_add (names, g_strdup (name));
  /* Oldest names first is what people expect of numbered downloads. */
  g_ptr_array_sort (names, compare_names);
  return names;
}

static Item *
read_item (const char *dir,
           const char *name,
           gsize      *bytes)
{
  Item *item = g_new0 (Item, 1);

  item->path = g_build_filename (dir, name, NULL);
  if (g_str_has_suffix (name, ".magnet"))
    {
      g_autofree char *text = NULL;
      gsize len = 0;

      if (g_file_get_contents (item->path, &text, &len, &item->error))
        {
          if (len > MAX_MAGNET_FILE)
            g_set_error (&item->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "Larger than a magnet link can be (%" G_GSIZE_FORMAT " bytes)", len);
          else
            item->magnet = g_strstrip (g_steal_pointer (&text));
        }
      *bytes += len;
    }
  else
    {
      item->metainfo = te_metainfo_new_from_file (item->path, &item->error);
      if (item->metainfo)
        *bytes += g_bytes_get_size (te_metainfo_get_torrent_bytes (item->metainfo));
    }
  return item;
}

static void
round_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Round *r = task_data;
  GError *error = NULL;
  gsize bytes = 0;

  for (guint i = 0; r->renames && i < r->renames->len; i++)
    {
      Item *item = g_ptr_array_index (r->renames, i);
      g_autofree char *to = g_strconcat (item->path, item->suffix, NULL);

      /* Gone already (the user took it back) is fine. */
      if (g_rename (item->path, to) != 0 && errno != ENOENT)
        g_warning ("Cannot rename “%s”: %s", item->path, g_strerror (errno));
    }
  if (r->names == NULL)
    {
      r->names = list_folder (r->dir, r->skip, &error);
      if (r->names == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  r->batch = g_ptr_array_new_with_free_func (item_free);
  while (r->next_name < r->names->len && r->batch->len < BATCH_FILES && bytes < BATCH_BYTES
         && !g_cancellable_is_cancelled (cancellable))
    g_ptr_array_add (r->batch, read_item (r->dir, g_ptr_array_index (r->names, r->next_name++), &bytes));
  g_task_return_boolean (task, TRUE);
}

static void start_round (TeWatchFolder *self);

static void
finish_scan (TeWatchFolder *self)
{
  g_clear_pointer (&self->names, g_ptr_array_unref);
  if (self->rescan || self->done->len > 0)
    {
      self->rescan = FALSE;
      start_round (self);
      return;
    }
  /* Still busy until the files waiting for their state are renamed. */
  if (self->waiting->len > 0)
    return;
  self->busy = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
add_item (TeWatchFolder *self,
          Item          *item)
{
  g_autoptr(GError) error = NULL;
  TeTorrent *torrent = NULL;

  if (item->error == NULL)
    {
      if (item->metainfo)
        torrent = te_engine_add_torrent_full (self->engine, item->metainfo, NULL, NULL, &error);
      else
        torrent = te_engine_add_magnet_uri (self->engine, item->magnet, NULL, &error);
      /* Already there: the file did its job. */
      if (torrent == NULL && !g_error_matches (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE))
        item->error = g_steal_pointer (&error);
    }
  g_clear_object (&item->metainfo);
  if (torrent != NULL)
    item->torrent = g_object_ref (torrent);
  item->suffix = item->error ? ".invalid" : ".added";
  if (item->error)
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, item->path, item->error);
  else
    g_signal_emit (self, signals[SIGNAL_ADDED], 0, item->path, torrent);
}

/* Files whose torrents' state is saved now go to be renamed. */
static gboolean
saved_poll_cb (gpointer data)
{
  TeWatchFolder *self = data;
  guint moved = 0;

  for (guint i = self->waiting->len; i > 0; i--)
    {
      Item *item = g_ptr_array_index (self->waiting, i - 1);

      if (self->state && !te_state_manager_is_saved (self->state, item->torrent))
        continue;
      g_clear_object (&item->torrent);
      g_ptr_array_add (self->done, g_ptr_array_steal_index_fast (self->waiting, i - 1));
      moved++;
    }
  /* A scan going on renames them with its next round. */
  if (moved > 0 && self->add_id == 0 && !self->round_running)
    start_round (self);
  if (self->waiting->len > 0)
    return G_SOURCE_CONTINUE;
  self->wait_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
add_slice_cb (gpointer data)
{
  TeWatchFolder *self = data;
  gint64 end = g_get_monotonic_time () + SLICE_US;

  while (self->batch->len > 0)
    {
      Item *item = g_ptr_array_steal_index (self->batch, 0);

      add_item (self, item);
      if (item->torrent && self->state && !te_state_manager_is_saved (self->state, item->torrent))
        {
          g_ptr_array_add (self->waiting, item);
          if (self->wait_id == 0)
            self->wait_id = g_timeout_add (SAVED_POLL_MS, saved_poll_cb, self);
        }
      else
        g_ptr_array_add (self->done, item);
      if (g_get_monotonic_time () >= end && self->batch->len > 0)
        return G_SOURCE_CONTINUE;
    }
  self->add_id = 0;
  g_clear_pointer (&self->batch, g_ptr_array_unref);
  start_round (self);
  return G_SOURCE_REMOVE;
}

/* The task holds no reference to us: disposing cancels it, and a cancelled
 * round's result arrives without touching @user_data. */
static void
round_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Round *r = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  TeWatchFolder *self;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self = TE_WATCH_FOLDER (user_data);
      self->round_running = FALSE;
      g_warning ("Cannot read the watch folder %s: %s", self->path, error->message);
      finish_scan (self);
      return;
    }
  self = TE_WATCH_FOLDER (user_data);
  self->round_running = FALSE;
  self->names = g_steal_pointer (&r->names);
  self->next_name = r->next_name;
  if (r->batch->len == 0)
    {
      /* The last round only renamed. */
      finish_scan (self);
      return;
    }
  self->batch = g_steal_pointer (&r->batch);
  self->add_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, add_slice_cb, self, NULL);
}

static void
start_round (TeWatchFolder *self)
{
  g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, round_done_cb, self);
  Round *r = g_new0 (Round, 1);

  r->dir = g_strdup (self->path);
  r->renames = g_steal_pointer (&self->done);
  self->done = g_ptr_array_new_with_free_func (item_free);
  r->names = g_steal_pointer (&self->names);
  r->next_name = self->next_name;
  if (r->names == NULL)
    {
      /* A new listing: files waiting for their state are not news. */
      r->next_name = 0;
      r->skip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < self->waiting->len; i++)
        g_hash_table_add (r->skip, g_path_get_basename (((Item *) g_ptr_array_index (self->waiting, i))->path));
    }
  self->round_running = TRUE;
  g_task_set_task_data (task, r, round_free);
  g_task_run_in_thread (task, round_thread);
}

static gboolean
debounce_cb (gpointer data)
{
  TeWatchFolder *self = data;

  self->debounce_id = 0;
  if (self->round_running || self->add_id != 0)
    {
      self->rescan = TRUE;
      return G_SOURCE_REMOVE;
    }
  if (!self->busy)
    {
      self->busy = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
  start_round (self);
  return G_SOURCE_REMOVE;
}

static void
changed_cb (GFileMonitor      *monitor,
            GFile             *file,
            GFile             *other,
            GFileMonitorEvent  event,
            TeWatchFolder     *self)
{
  GFile *arrived = event == G_FILE_MONITOR_EVENT_RENAMED ? other : file;
  g_autofree char *name = NULL;

  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_MOVED_IN
      && event != G_FILE_MONITOR_EVENT_RENAMED && event != G_FILE_MONITOR_EVENT_CREATED)
    return;
  /* Our own renames to *.added are not news. */
  name = arrived ? g_file_get_basename (arrived) : NULL;
  if (name == NULL || !wanted_name (name))
    return;
  /* Many files arrive at once: one scan a moment after the last. */
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  self->debounce_id = g_timeout_add (DEBOUNCE_MS, debounce_cb, self);
}

static void
te_watch_folder_dispose (GObject *object)
{
  TeWatchFolder *self = TE_WATCH_FOLDER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  g_clear_handle_id (&self->add_id, g_source_remove);
  g_clear_handle_id (&self->wait_id, g_source_remove);
  g_clear_object (&self->state);
  if (self->monitor)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (te_watch_folder_parent_class)->dispose (object);
}

static void
te_watch_folder_finalize (GObject *object)
{
  TeWatchFolder *self = TE_WATCH_FOLDER (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->batch, g_ptr_array_unref);
  g_clear_pointer (&self->done, g_ptr_array_unref);
  g_clear_pointer (&self->waiting, g_ptr_array_unref);
  g_free (self->path);
  G_OBJECT_CLASS (te_watch_folder_parent_class)->finalize (object);
}

static void
te_watch_folder_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TeWatchFolder *self = TE_WATCH_FOLDER (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_watch_folder_class_init (TeWatchFolderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_watch_folder_dispose;
  object_class->finalize = te_watch_folder_finalize;
  object_class->get_property = te_watch_folder_get_property;

  /**
   * TeWatchFolder:busy:
   *
   * Whether files found in the folder are still being added.
   */
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY
                                                | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TeWatchFolder::added:
   * @path: the file, before it is renamed to *.added
   * @torrent: (nullable): the torrent, or `NULL` when it was there already
   */
  signals[SIGNAL_ADDED] = g_signal_new ("added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                        G_TYPE_STRING, TE_TYPE_TORRENT);
  /**
   * TeWatchFolder::failed:
   * @path: the file, before it is renamed to *.invalid
   * @error: (type GError): what is wrong with it
   */
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         G_TYPE_STRING, G_TYPE_POINTER);
}

static void
te_watch_folder_init (TeWatchFolder *self)
{
  self->cancellable = g_cancellable_new ();
  self->done = g_ptr_array_new_with_free_func (item_free);
  self->waiting = g_ptr_array_new_with_free_func (item_free);
}

/**
 * te_watch_folder_new:
 * @path: the folder, created if missing
 *
 * Adds to @engine what is in @path now, and what arrives there later.
 *
 * Returns: (transfer full): the watch, or `NULL` when @path cannot be watched
 */
TeWatchFolder *
te_watch_folder_new (TeEngine    *engine,
                     const char  *path,
                     GError     **error)
{
  g_autoptr(TeWatchFolder) self = NULL;
  g_autoptr(GFile) dir = NULL;

  g_return_val_if_fail (TE_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int err = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                   "Cannot create the watch folder %s: %s", path, g_strerror (err));
      return NULL;
    }
  self = g_object_new (TE_TYPE_WATCH_FOLDER, NULL);
  self->engine = g_object_ref (engine);
  self->path = g_canonicalize_filename (path, NULL);
  dir = g_file_new_for_path (self->path);
  self->monitor = g_file_monitor_directory (dir, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
  if (self->monitor == NULL)
    return NULL;
  g_signal_connect (self->monitor, "changed", G_CALLBACK (changed_cb), self);
  /* What is there already. */
  self->debounce_id = g_idle_add (debounce_cb, self);
  return g_steal_pointer (&self);
}

/**
 * te_watch_folder_set_state_manager:
 * @manager: (nullable): the manager saving the engine's torrents
 *
 * From now on, a file is renamed to *.added only once the state of the
 * torrent it added is saved by @manager: a crash in between leaves the file
 * to be added again at the next start.
 */
void
te_watch_folder_set_state_manager (TeWatchFolder  *self,
                                   TeStateManager *manager)
{
  g_return_if_fail (TE_IS_WATCH_FOLDER (self));
  g_set_object (&self->state, manager);
}

/**
 * te_watch_folder_is_busy:
 *
 * Returns: whether files found in the folder are still being added
 */
gboolean
te_watch_folder_is_busy (TeWatchFolder *self)
{
  g_return_val_if_fail (TE_IS_WATCH_FOLDER (self), FALSE);
  return self->busy;
}
