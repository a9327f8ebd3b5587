/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-state"

#include "config.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include "te-queue-manager.h"
#include "te-state-manager-private.h"

/* Restoring */

static const char *
member_string (JsonObject *o,
               const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
         ? json_node_get_string (n) : NULL;
}

static gint64
member_int (JsonObject *o,
            const char *name,
            gint64      fallback)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64
         ? json_node_get_int (n) : fallback;
}

static double
member_double (JsonObject *o,
               const char *name,
               double      fallback)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return fallback;
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    return json_node_get_double (n);
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return (double) json_node_get_int (n);
  return fallback;
}

/* Trackers the user edited are in the document; a list that differs from the
 * torrent's own (by tier and URL) replaces it. */
static void
restore_trackers (TeTorrent  *t,
                  JsonObject *doc)
{
  JsonArray *saved = json_object_has_member (doc, "trackers")
                     ? json_object_get_array_member (doc, "trackers") : NULL;
  GPtrArray *current = _te_torrent_get_tiers (t);
  g_autoptr(GPtrArray) tiers = NULL;
  guint n_saved = 0, n_current = 0;
  gboolean same = TRUE;

  if (saved == NULL)
    return;
  tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < json_array_get_length (saved) && i < 200; i++)
    {
      JsonObject *to = json_array_get_object_element (saved, i);
      const char *url = to ? member_string (to, "url") : NULL;
      gint64 tier = to ? member_int (to, "tier", -1) : -1;

      if (url == NULL || tier < 0 || tier >= 200)
        continue;
      while (tiers->len <= (guint) tier)
        g_ptr_array_add (tiers, g_ptr_array_new_with_free_func (g_free));
      g_ptr_array_add (g_ptr_array_index (tiers, tier), g_strdup (url));
      n_saved++;
      if ((guint) tier >= current->len
          || !g_ptr_array_find_with_equal_func (g_ptr_array_index (current, tier), url,
                                                g_str_equal, NULL))
        same = FALSE;
    }
  for (guint i = 0; i < current->len; i++)
    n_current += ((GPtrArray *) g_ptr_array_index (current, i))->len;
  if (same && n_saved == n_current)
    return;
  /* Tiers left empty by a sparse document would be tried for nothing. */
  for (guint i = tiers->len; i > 0; i--)
    if (((GPtrArray *) g_ptr_array_index (tiers, i - 1))->len == 0)
      g_ptr_array_remove_index (tiers, i - 1);
  _te_torrent_set_tiers (t, g_steal_pointer (&tiers));
}

static TeTorrent *
restore_one (TeStateManager *self,
             TeStateRecord  *r,
             GError        **error)
{
  JsonObject *doc = r->document;
  const TeEngineSettings *settings = te_engine_get_settings (self->engine);
  const char *state = member_string (doc, "state");
  const char *magnet = member_string (doc, "magnet");
  JsonArray *files = json_object_get_array_member (doc, "files");
  TeAddOptions options;
  TeQueuePriority priority = TE_QUEUE_PRIORITY_NORMAL;
  TeTorrent *t;
  JsonObject *limits;
  JsonArray *peers;

  te_add_options_init (&options);
  options.save_path = member_string (doc, "savePath");
  options.paused = g_strcmp0 (state, "paused") == 0 || !settings->auto_resume;
  if (te_queue_priority_from_string (member_string (doc, "priority"), &priority))
    options.priority = priority;

  if (r->torrent)
    {
      g_autoptr(TeMetainfo) meta = te_metainfo_new_from_bytes (r->torrent, error);
      g_autoptr(TeBitfield) have = NULL;
      gsize len = 0;
      g_autofree guchar *bits = g_base64_decode (member_string (doc, "bitfield"), &len);

      if (meta == NULL)
        return NULL;
      if ((gint64) te_metainfo_get_n_pieces (meta) != member_int (doc, "totalPieces", -1))
        {
          g_set_error (error, TE_STATE_ERROR, TE_STATE_ERROR_INVALID,
                       "The saved state does not fit the saved torrent");
          return NULL;
        }
      have = te_bitfield_new (te_metainfo_get_n_pieces (meta));
      if (!te_bitfield_load (have, bits, len))
        {
          g_set_error (error, TE_STATE_ERROR, TE_STATE_ERROR_INVALID,
                       "The saved bitfield does not fit the torrent");
          return NULL;
        }
      t = te_engine_add_torrent_full (self->engine, meta, &options,
                                      g_steal_pointer (&have), error);
      if (t == NULL)
        return NULL;
      /* A torrent stopped by an error may have lost data: look at all of it. */
      if (g_strcmp0 (state, "error") == 0)
        te_torrent_recheck (t);
    }
  else if (magnet)
    {
      t = te_engine_add_magnet_uri (self->engine, magnet, &options, error);
      if (t == NULL)
        return NULL;
    }
  else
    {
      g_set_error (error, TE_STATE_ERROR, TE_STATE_ERROR_INVALID,
                   "Neither the torrent nor a magnet link was saved");
      return NULL;
    }

  for (guint i = 0; t->metainfo && i < json_array_get_length (files); i++)
    {
      JsonObject *fo = json_array_get_object_element (files, i);
      TePriority p;

      if (fo == NULL)
        continue;
      p = _te_state_manager_file_priority (member_string (fo, "priority"));
      if (json_object_has_member (fo, "wanted") && !json_object_get_boolean_member (fo, "wanted"))
        p = TE_PRIORITY_SKIP;
      /* Pad files are not in the document: match by offset. */
      for (guint j = 0; j < te_metainfo_get_n_files (t->metainfo); j++)
        if ((gint64) te_metainfo_get_file (t->metainfo, j)->offset == member_int (fo, "offset", -1)
            && !(te_metainfo_get_file (t->metainfo, j)->attrs & TE_FILE_ATTR_PAD))
          {
            if (p != TE_PRIORITY_NORMAL)
              te_torrent_set_file_priority (t, j, p);
            break;
          }
    }
  t->downloaded_base = (guint64) MAX (member_int (doc, "downloadedBytes", 0), 0);
  t->uploaded_base = (guint64) MAX (member_int (doc, "uploadedBytes", 0), 0);
  t->added_at = member_int (doc, "addedAt", t->added_at);
  t->completed_at = member_int (doc, "completedAt", 0);
  t->seed_done = g_strcmp0 (state, "complete") == 0;
  limits = json_object_has_member (doc, "limits") ? json_object_get_object_member (doc, "limits") : NULL;
  if (limits)
    {
      te_torrent_set_limits (t, (guint64) MAX (member_int (limits, "download", 0), 0),
                             (guint64) MAX (member_int (limits, "upload", 0), 0));
      t->seed_ratio = member_double (limits, "ratio", -1);
      t->seed_time_ms = member_int (limits, "seedTime", -1);
    }
  restore_trackers (t, doc);
  peers = json_object_has_member (doc, "peers") ? json_object_get_array_member (doc, "peers") : NULL;
  for (guint i = 0; peers && i < json_array_get_length (peers); i++)
    {
      JsonObject *po = json_array_get_object_element (peers, i);
      g_autoptr(GInetAddress) ip = po ? g_inet_address_new_from_string (member_string (po, "ip") ? member_string (po, "ip") : "")
                                      : NULL;
      gint64 port = po ? member_int (po, "port", 0) : 0;

      if (ip && port > 0 && port < 65536)
        {
          g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (ip, (guint16) port);
          _te_torrent_learn_peer (t, G_INET_SOCKET_ADDRESS (sa));
        }
    }
  {
    Entry *e = _te_state_manager_track (self, t);

    g_clear_pointer (&e->base, json_object_unref);
    e->base = _te_state_manager_unknown_members (doc);
    e->torrent_saved = TRUE;
    /* What is on disk is what was loaded: once the torrent is back where it
     * was (checked, seeding), its document matches and is not rewritten. A
     * bad newest file is replaced at once. */
    if (r->from_backup)
      _te_state_manager_save_document (e);
    else
      _te_state_manager_mark_saved (e, _te_state_manager_document_hash (doc));
  }
  _te_torrent_update_state (t);
  return t;
}

/* A restore runs over many main-loop turns: ids are listed, then loaded a
 * batch at a time on the store's thread, and each batch is added in slices of
 * a few milliseconds. Only one batch of documents is in memory at a time. */

#define RESTORE_BATCH    128
#define RESTORE_SLICE_US 4000

typedef struct {
  GStrv       ids;
  guint       next_id;
  GPtrArray  *records;        /* TeStateRecord, the batch being added */
  guint       next_record;
  GPtrArray  *loaded;         /* the next batch, loaded meanwhile */
  gboolean    loading;
  GHashTable *positions;      /* TeTorrent → saved queue position */
  guint       restored;
  guint       idle_id;
  gboolean    held;           /* the queue waits for the whole session */
} Restore;

static void
restore_free (gpointer data)
{
  Restore *r = data;

  g_strfreev (r->ids);
  g_clear_pointer (&r->records, g_ptr_array_unref);
  g_clear_pointer (&r->loaded, g_ptr_array_unref);
  g_clear_pointer (&r->positions, g_hash_table_unref);
  g_clear_handle_id (&r->idle_id, g_source_remove);
  g_free (r);
}

static void
restore_record (TeStateManager *self,
                Restore        *r,
                TeStateRecord  *record)
{
  g_autoptr(GError) problem = NULL;
  TeTorrent *t;

  if (record->problem)
    {
      g_message ("Saved state of %s: %s%s", record->id, record->problem->message,
                 record->document ? "; using the newest good backup" : "");
      _te_state_manager_report_problem (self, record->id, record->problem);
    }
  if (record->document == NULL)
    return;
  self->restoring = TRUE;
  t = restore_one (self, record, &problem);
  self->restoring = FALSE;
  if (t == NULL)
    {
      g_message ("Cannot restore %s: %s", record->id, problem->message);
      _te_state_manager_report_problem (self, record->id, problem);
      return;
    }
  g_hash_table_insert (r->positions, t,
                       GINT_TO_POINTER (CLAMP (member_int (record->document, "queuePosition", 0), 0, G_MAXINT)));
  r->restored++;
}

/* Restored torrents by their saved positions; any added meanwhile after them. */
static gint
compare_positions (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  GHashTable *positions = user_data;
  TeTorrent *ta = *(TeTorrent **) a;
  TeTorrent *tb = *(TeTorrent **) b;
  gpointer pa, pb;
  gint64 ka, kb;

  ka = g_hash_table_lookup_extended (positions, ta, NULL, &pa) ? GPOINTER_TO_INT (pa)
                                                                : (gint64) G_MAXINT + 1 + ta->queue_position;
  kb = g_hash_table_lookup_extended (positions, tb, NULL, &pb) ? GPOINTER_TO_INT (pb)
                                                                : (gint64) G_MAXINT + 1 + tb->queue_position;
  return ka < kb ? -1 : ka > kb;
}

static void
restore_done (GTask  *task,
              GError *error)
{
  TeStateManager *self = g_task_get_source_object (task);
  Restore *r = g_task_get_task_data (task);

  if (r->held && self->engine)
    {
      TeQueueManager *queue = te_engine_get_queue (self->engine);

      te_queue_manager_sort (queue, compare_positions, r->positions);
      te_queue_manager_release (queue);
    }
  r->held = FALSE;
  self->restores--;
  g_clear_pointer (&r->records, g_ptr_array_unref);
#ifdef HAVE_MALLOC_TRIM
  /* The documents were parsed on a worker thread, whose malloc arena keeps
   * what was freed: give the space of a large restore back to the system. */
  malloc_trim (0);
#endif
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, r->restored);
}

static void load_next (GTask *task);
static gboolean restore_slice_cb (gpointer data);

/* Adds @records in slices; the store loads the batch after meanwhile. */
static void
start_batch (GTask     *task,
             GPtrArray *records)
{
  Restore *r = g_task_get_task_data (task);

  r->records = records;
  r->next_record = 0;
  r->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, restore_slice_cb,
                                g_object_ref (task), g_object_unref);
  load_next (task);
}

static gboolean
restore_slice_cb (gpointer data)
{
  GTask *task = data;
  TeStateManager *self = g_task_get_source_object (task);
  Restore *r = g_task_get_task_data (task);
  gint64 end = g_get_monotonic_time () + RESTORE_SLICE_US;

  if (self->engine == NULL)
    {
      r->idle_id = 0;
      g_clear_pointer (&r->records, g_ptr_array_unref);
      g_clear_pointer (&r->loaded, g_ptr_array_unref);
      /* Else the batch in flight comes back to this. */
      if (!r->loading)
        restore_done (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The engine is gone"));
      return G_SOURCE_REMOVE;
    }
  while (r->next_record < r->records->len)
    {
      restore_record (self, r, g_ptr_array_index (r->records, r->next_record++));
      if (g_get_monotonic_time () >= end && r->next_record < r->records->len)
        return G_SOURCE_CONTINUE;
    }
  r->idle_id = 0;
  g_clear_pointer (&r->records, g_ptr_array_unref);
  if (r->loaded)
    start_batch (task, g_steal_pointer (&r->loaded));
  else if (!r->loading)
    restore_done (task, NULL);
  /* Else the batch in flight starts when it arrives. */
  return G_SOURCE_REMOVE;
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Restore *r = g_task_get_task_data (task);
  GError *error = NULL;
  GPtrArray *records = te_state_store_load_finish (TE_STATE_STORE (source), result, &error);

  r->loading = FALSE;
  if (records == NULL)
    {
      g_clear_handle_id (&r->idle_id, g_source_remove);
      restore_done (task, error);
      return;
    }
  if (r->records == NULL)
    start_batch (task, records);
  else
    r->loaded = records;
}

/* Loads the next batch, if there is one and none is on its way. */
static void
load_next (GTask *task)
{
  TeStateManager *self = g_task_get_source_object (task);
  Restore *r = g_task_get_task_data (task);
  g_autofree const char **batch = NULL;
  guint n = 0;

  if (r->loading || r->loaded || r->ids[r->next_id] == NULL || self->engine == NULL)
    return;
  batch = g_new0 (const char *, RESTORE_BATCH + 1);
  while (n < RESTORE_BATCH && r->ids[r->next_id] != NULL)
    batch[n++] = r->ids[r->next_id++];
  r->loading = TRUE;
  te_state_store_load_async (self->store, batch, g_task_get_cancellable (task), loaded_cb,
                             g_object_ref (task));
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TeStateManager *self = g_task_get_source_object (task);
  Restore *r = g_task_get_task_data (task);
  GError *error = NULL;

  r->ids = te_state_store_list_finish (TE_STATE_STORE (source), result, &error);
  if (r->ids == NULL)
    {
      restore_done (task, error);
      return;
    }
  if (self->engine == NULL)
    {
      restore_done (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The engine is gone"));
      return;
    }
  te_queue_manager_hold (te_engine_get_queue (self->engine));
  r->held = TRUE;
  if (r->ids[0] == NULL)
    restore_done (task, NULL);
  else
    load_next (task);
}

/**
 * te_state_manager_restore_async:
 *
 * Adds the saved torrents to the engine. Their data is not rehashed when
 * its files are as the state says (unless the settings ask for it). A
 * corrupt state falls back to its newest good backup; each problem is
 * reported by #TeStateManager::problem. The main loop keeps running
 * meanwhile; the torrents start by their saved queue order once all are back.
 */
void
te_state_manager_restore_async (TeStateManager      *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Restore *r = g_new0 (Restore, 1);

  r->positions = g_hash_table_new (NULL, NULL);
  self->restores++;
  g_task_set_task_data (task, r, restore_free);
  g_task_set_source_tag (task, te_state_manager_restore_async);
  te_state_store_list_async (self->store, cancellable, listed_cb, task);
}

gboolean
te_state_manager_restore_finish (TeStateManager  *self,
                                 GAsyncResult    *result,
                                 guint           *n_restored,
                                 GError         **error)
{
  gssize n = g_task_propagate_int (G_TASK (result), error);

  if (n < 0)
    return FALSE;
  if (n_restored)
    *n_restored = (guint) n;
  return TRUE;
}
