/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-state"

#include "config.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include <string.h>

#include "te-hash.h"
#include "te-queue-manager.h"
#include "te-state-manager.h"
#include "te-torrent-private.h"

/* Keeps every torrent's resume state in a TeStateStore: saved when it changes
 * state, every STATE_SAVE_INTERVAL while it changes otherwise, and all at once
 * at shutdown (te_state_manager_flush_async()). One save per torrent is in
 * flight at a time; changes meanwhile are saved after it. The bitfield holds
 * only pieces whose hash verified and whose data was written. */

#define SOON_MS 500

typedef struct {
  TeStateManager *manager;
  TeTorrent      *torrent;
  char           *id;
  JsonObject     *base;          /* as loaded: unknown fields are kept */
  guint           saved_serial;
  guint           saved_pieces;
  guint64         saved_down;
  guint64         saved_up;
  gboolean        ever_saved;
  gboolean        torrent_saved;
  gboolean        in_flight;
  gboolean        again;
  guint           saved_hash;    /* of the last document saved, but its time */
} Entry;

struct _TeStateManager
{
  GObject        parent_instance;

  TeEngine      *engine;         /* not owned */
  TeStateStore  *store;
  GHashTable    *entries;        /* TeTorrent → Entry */
  guint          interval_id;
  guint          interval_ms;
  guint          soon_id;
  GPtrArray     *flushes;        /* GTask waiting for in-flight saves */
  gboolean       restoring;
  guint          restores;       /* in progress */
  GPtrArray     *pass;           /* TeTorrent, still to look at in a save pass */
  gboolean       pass_state_only;
  guint          pass_id;
  guint          in_flight;
};

enum {
  SIGNAL_PROBLEM,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeStateManager, te_state_manager, G_TYPE_OBJECT)

static void save_document (Entry *e);

static void
entry_free (gpointer data)
{
  Entry *e = data;

  if (e->torrent)
    {
      g_signal_handlers_disconnect_by_data (e->torrent, e);
      g_object_unref (e->torrent);
    }
  g_clear_pointer (&e->base, json_object_unref);
  g_free (e->id);
  g_free (e);
}

static void
te_state_manager_dispose (GObject *object)
{
  TeStateManager *self = TE_STATE_MANAGER (object);

  g_clear_handle_id (&self->interval_id, g_source_remove);
  g_clear_handle_id (&self->soon_id, g_source_remove);
  g_clear_handle_id (&self->pass_id, g_source_remove);
  g_clear_pointer (&self->pass, g_ptr_array_unref);
  if (self->engine)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_weak_pointer (&self->engine);
  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->flushes, g_ptr_array_unref);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (te_state_manager_parent_class)->dispose (object);
}

static void
te_state_manager_class_init (TeStateManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = te_state_manager_dispose;

  /**
   * TeStateManager::problem:
   * @id: the torrent's id
   * @error: what was wrong: a save failed, or saved state was unreadable
   *   (and a backup was used, or the torrent was lost)
   */
  signals[SIGNAL_PROBLEM] =
    g_signal_new ("problem", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);
}

static void
te_state_manager_init (TeStateManager *self)
{
  self->entries = g_hash_table_new_full (NULL, NULL, NULL, entry_free);
  self->flushes = g_ptr_array_new_with_free_func (g_object_unref);
  self->pass = g_ptr_array_new_with_free_func (g_object_unref);
}

/* The document (REFERENCE.md, "State file") */

static const char *
file_priority_name (TePriority p)
{
  switch (p)
    {
    case TE_PRIORITY_HIGH: return "high";
    case TE_PRIORITY_LOW: return "low";
    case TE_PRIORITY_SKIP: return "skip";
    default: return "normal";
    }
}

static TePriority
file_priority_from_name (const char *name)
{
  if (g_strcmp0 (name, "high") == 0)
    return TE_PRIORITY_HIGH;
  if (g_strcmp0 (name, "low") == 0)
    return TE_PRIORITY_LOW;
  if (g_strcmp0 (name, "skip") == 0)
    return TE_PRIORITY_SKIP;
  return TE_PRIORITY_NORMAL;
}

static void
set_hex_or_null (JsonObject   *doc,
                 const char   *field,
                 const guint8 *hash,
                 gsize         len)
{
  if (hash)
    {
      g_autofree char *hex = te_hex_encode (hash, len);
      json_object_set_string_member (doc, field, hex);
    }
  else
    json_object_set_null_member (doc, field);
}

static void
set_time_or_null (JsonObject *doc,
                  const char *field,
                  gint64      t)
{
  if (t > 0)
    json_object_set_int_member (doc, field, t);
  else
    json_object_set_null_member (doc, field);
}

/* What te_state_manager_build_document() writes; the rest of a loaded
 * document is kept as it was. */
static const char * const known_members[] = {
  "version", "infoHash", "infoHashV2", "name", "totalSize", "pieceLength", "totalPieces",
  "completedPieces", "bitfield", "downloadedBytes", "uploadedBytes", "state", "queuePosition",
  "priority", "savePath", "files", "peers", "trackers", "limits", "addedAt", "completedAt",
  "lastModified", "magnet", NULL,
};

/* Only the members a later version added need keeping: with 10,000 torrents,
 * holding every loaded document would cost more than the torrents. */
static JsonObject *
unknown_members (JsonObject *doc)
{
  g_autoptr(GList) members = json_object_get_members (doc);
  JsonObject *unknown = NULL;

  for (GList *l = members; l; l = l->next)
    {
      if (g_strv_contains (known_members, l->data))
        continue;
      if (unknown == NULL)
        unknown = json_object_new ();
      json_object_set_member (unknown, l->data, json_node_copy (json_object_get_member (doc, l->data)));
    }
  return unknown;
}

/**
 * te_state_manager_build_document:
 * @base: (nullable): a document loaded earlier, whose unknown fields are kept
 *
 * Returns: (transfer full): @torrent's state document
 */
JsonObject *
te_state_manager_build_document (TeTorrent  *t,
                                 JsonObject *base)
{
  JsonObject *doc = json_object_new ();
  TeMetainfo *meta = t->metainfo;
  JsonArray *files = json_array_new ();
  JsonArray *peers = json_array_new ();
  JsonArray *trackers = json_array_new ();
  JsonObject *limits = json_object_new ();
  g_autoptr(GPtrArray) tinfo = te_torrent_dup_trackers (t);
  g_autofree char *bits = NULL;
  g_autofree char *magnet = NULL;
  guint n = meta ? te_metainfo_get_n_pieces (meta) : 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *state;

  if (base)
    {
      GList *members = json_object_get_members (base);

      for (GList *l = members; l; l = l->next)
        json_object_set_member (doc, l->data, json_node_copy (json_object_get_member (base, l->data)));
      g_list_free (members);
    }
  json_object_set_int_member (doc, "version", 1);
  set_hex_or_null (doc, "infoHash", t->has_v1_hash || !t->has_v2_hash ? t->info_hash : NULL, 20);
  set_hex_or_null (doc, "infoHashV2", t->has_v2_hash ? t->info_hash_v2 : NULL, 32);
  json_object_set_string_member (doc, "name", t->name ? t->name : "");
  json_object_set_int_member (doc, "totalSize", meta ? (gint64) te_metainfo_get_total_size (meta) : 0);
  json_object_set_int_member (doc, "pieceLength", meta ? (gint64) te_metainfo_get_piece_length (meta) : 0);
  json_object_set_int_member (doc, "totalPieces", n);
  if (t->have && !t->checking && te_bitfield_size (t->have) == n)
    {
      gsize len;
      const guint8 *raw = te_bitfield_bytes (t->have, &len);

      bits = g_base64_encode (raw, len);
      json_object_set_int_member (doc, "completedPieces", te_bitfield_count (t->have));
    }
  else if (t->restored)
    {
      /* Still looking at the files: what was saved stays the truth. */
      gsize len;
      const guint8 *raw = te_bitfield_bytes (t->restored, &len);

      bits = g_base64_encode (raw, len);
      json_object_set_int_member (doc, "completedPieces", te_bitfield_count (t->restored));
    }
  else
    {
      g_autofree guint8 *zero = g_malloc0 ((n + 7) / 8 + 1);

      bits = g_base64_encode (zero, (n + 7) / 8);
      json_object_set_int_member (doc, "completedPieces", 0);
    }
  json_object_set_string_member (doc, "bitfield", bits);
  json_object_set_int_member (doc, "downloadedBytes", (gint64) (t->downloaded_base + t->stats.downloaded));
  json_object_set_int_member (doc, "uploadedBytes", (gint64) (t->uploaded_base + t->stats.uploaded));
  /* A check in progress or a queue wait is not worth restoring as such. */
  state = te_torrent_state_to_string (t->state);
  if (t->user_paused)
    state = "paused";
  else if (t->restored && base && json_object_has_member (base, "state"))
    state = json_object_get_string_member (base, "state");
  else if (t->state == TE_TORRENT_STATE_CHECKING || t->state == TE_TORRENT_STATE_QUEUED)
    state = t->metainfo && te_torrent_is_complete (t) ? "seeding" : "downloading";
  json_object_set_string_member (doc, "state", state);
  json_object_set_int_member (doc, "queuePosition", t->queue_position);
  json_object_set_string_member (doc, "priority", te_queue_priority_to_string (t->priority));
  json_object_set_string_member (doc, "savePath", t->save_path);
  if (meta == NULL)
    {
      magnet = te_torrent_dup_magnet (t);
      json_object_set_string_member (doc, "magnet", magnet);
    }

  for (guint i = 0; meta && i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      TePriority p = _te_torrent_file_priority (t, i);
      JsonObject *fo = json_object_new ();

      json_object_set_string_member (fo, "path", f->path);
      json_object_set_int_member (fo, "length", (gint64) f->length);
      json_object_set_int_member (fo, "offset", (gint64) f->offset);
      json_object_set_string_member (fo, "priority", file_priority_name (p));
      json_object_set_boolean_member (fo, "wanted", p != TE_PRIORITY_SKIP);
      json_array_add_object_element (files, fo);
    }
  json_object_set_array_member (doc, "files", files);

  {
    GHashTableIter iter;
    gpointer value;
    guint count = 0;

    g_hash_table_iter_init (&iter, t->known);
    while (g_hash_table_iter_next (&iter, NULL, &value) && count < 50)
      {
        KnownPeer *k = value;
        JsonObject *po;
        g_autofree char *ip = NULL;

        if (k->is_self || k->failures > 0)
          continue;
        po = json_object_new ();
        ip = g_inet_address_to_string (g_inet_socket_address_get_address (k->address));
        json_object_set_string_member (po, "ip", ip);
        json_object_set_int_member (po, "port", g_inet_socket_address_get_port (k->address));
        json_object_set_int_member (po, "lastSeen", now);
        json_array_add_object_element (peers, po);
        count++;
      }
  }
  json_object_set_array_member (doc, "peers", peers);

  for (guint i = 0; i < tinfo->len; i++)
    {
      const TeTrackerInfo *ti = g_ptr_array_index (tinfo, i);
      JsonObject *to = json_object_new ();
      const char *ts = ti->state == TE_TRACKER_STATE_WORKING ? "working"
                       : ti->state == TE_TRACKER_STATE_WARNING ? "warning"
                       : ti->state == TE_TRACKER_STATE_ERROR ? "error" : "unknown";

      json_object_set_string_member (to, "url", ti->url);
      json_object_set_int_member (to, "tier", ti->tier);
      json_object_set_string_member (to, "state", ts);
      set_time_or_null (to, "lastAnnounce", ti->last_announce);
      json_array_add_object_element (trackers, to);
    }
  json_object_set_array_member (doc, "trackers", trackers);

  json_object_set_int_member (limits, "download", (gint64) t->down_bucket.rate);
  json_object_set_int_member (limits, "upload", (gint64) t->up_bucket.rate);
  if (t->seed_ratio >= 0)
    json_object_set_double_member (limits, "ratio", t->seed_ratio);
  else
    json_object_set_null_member (limits, "ratio");
  if (t->seed_time_ms >= 0)
    json_object_set_int_member (limits, "seedTime", t->seed_time_ms);
  else
    json_object_set_null_member (limits, "seedTime");
  json_object_set_object_member (doc, "limits", limits);
  json_object_set_int_member (doc, "addedAt", t->added_at);
  set_time_or_null (doc, "completedAt", t->completed_at);
  json_object_set_int_member (doc, "lastModified", now);
  return doc;
}

/* Saving */

static void
check_flushes (TeStateManager *self)
{
  g_autoptr(GPtrArray) done = NULL;

  if (self->in_flight > 0 || self->flushes->len == 0)
    return;
  /* A callback may drop the last reference to us. */
  done = g_steal_pointer (&self->flushes);
  self->flushes = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < done->len; i++)
    g_task_return_boolean (g_ptr_array_index (done, i), TRUE);
}

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Entry *e = user_data;
  g_autoptr(TeStateManager) self = e->manager;  /* the save's reference */
  g_autoptr(GError) error = NULL;

  if (!te_state_store_save_finish (TE_STATE_STORE (source), result, &error))
    {
      g_warning ("Cannot save the state of %s: %s", e->id, error->message);
      g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, e->id, error);
    }
  e->in_flight = FALSE;
  self->in_flight--;
  if (e->again)
    {
      e->again = FALSE;
      save_document (e);
    }
  else if (e->torrent == NULL)
    entry_free (e);
  check_flushes (self);
}

/* A document's hash, leaving out its time of writing. */
static guint
document_hash (JsonObject *doc)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  gboolean dated = json_object_has_member (doc, "lastModified");
  gint64 modified = dated ? json_object_get_int_member (doc, "lastModified") : 0;

  if (dated)
    json_object_remove_member (doc, "lastModified");
  json_node_set_object (root, doc);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if (dated)
    json_object_set_int_member (doc, "lastModified", modified);
  return g_str_hash (text);
}

static void
mark_saved (Entry *e,
            guint  hash)
{
  TeTorrent *t = e->torrent;

  e->saved_hash = hash;
  e->ever_saved = TRUE;
  e->saved_serial = t->state_serial;
  e->saved_pieces = t->have ? te_bitfield_count (t->have) : 0;
  e->saved_down = t->stats.downloaded;
  e->saved_up = t->stats.uploaded;
}

static void
save_document (Entry *e)
{
  TeStateManager *self = e->manager;
  TeTorrent *t = e->torrent;
  g_autoptr(JsonObject) doc = NULL;
  GBytes *torrent = NULL;

  if (e->in_flight)
    {
      e->again = TRUE;
      return;
    }
  doc = te_state_manager_build_document (t, e->base);
  /* Nothing new (a restart brings thousands of torrents back as they were
   * saved): no write. */
  {
    guint hash = document_hash (doc);

    if (e->ever_saved && hash == e->saved_hash)
      {
        mark_saved (e, hash);
        return;
      }
    e->saved_hash = hash;
  }
  if (!e->torrent_saved)
    torrent = t->torrent_bytes ? t->torrent_bytes
                               : (t->metainfo ? te_metainfo_get_torrent_bytes (t->metainfo) : NULL);
  e->saved_serial = t->state_serial;
  e->saved_pieces = t->have ? te_bitfield_count (t->have) : 0;
  e->saved_down = t->stats.downloaded;
  e->saved_up = t->stats.uploaded;
  e->ever_saved = TRUE;
  e->torrent_saved |= torrent != NULL;
  e->in_flight = TRUE;
  self->in_flight++;
  g_object_ref (self);
  te_state_store_save_async (self->store, e->id, doc, torrent, NULL, saved_cb, e);
}

static gboolean
entry_dirty (Entry *e)
{
  TeTorrent *t = e->torrent;

  return !e->ever_saved || e->saved_serial != t->state_serial
         || e->saved_pieces != (t->have ? te_bitfield_count (t->have) : 0)
         || e->saved_down != t->stats.downloaded || e->saved_up != t->stats.uploaded;
}

/* A pass over thousands of torrents builds a document for each changed one:
 * it runs in slices of a few milliseconds, over torrents taken at its start. */
#define SAVE_SLICE_US 4000

static gboolean
save_pass_cb (gpointer data)
{
  TeStateManager *self = data;
  gint64 end = g_get_monotonic_time () + SAVE_SLICE_US;

  while (self->pass->len > 0)
    {
      g_autoptr(TeTorrent) t = g_ptr_array_steal_index_fast (self->pass, self->pass->len - 1);
      Entry *e = g_hash_table_lookup (self->entries, t);

      if (e && (self->pass_state_only ? (!e->ever_saved || e->saved_serial != t->state_serial)
                                      : entry_dirty (e)))
        save_document (e);
      if (g_get_monotonic_time () >= end && self->pass->len > 0)
        return G_SOURCE_CONTINUE;
    }
  self->pass_id = 0;
  return G_SOURCE_REMOVE;
}

static void
save_dirty (TeStateManager *self,
            gboolean        state_only)
{
  GHashTableIter iter;
  gpointer key;

  /* A restore saves what it must itself; the rest waits for it to end. A
   * pass already going on covers what changed since it began only in part:
   * the next one gets the rest. */
  if (self->restores > 0 || self->pass_id != 0)
    return;
  g_ptr_array_set_size (self->pass, 0);
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (self->pass, g_object_ref (key));
  self->pass_state_only = state_only;
  if (save_pass_cb (self))
    self->pass_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, save_pass_cb, self, NULL);
}

static gboolean
soon_cb (gpointer data)
{
  TeStateManager *self = data;

  self->soon_id = 0;
  save_dirty (self, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
interval_cb (gpointer data)
{
  save_dirty (TE_STATE_MANAGER (data), FALSE);
  return G_SOURCE_CONTINUE;
}

static void
schedule_interval (TeStateManager *self)
{
  guint interval = te_engine_get_settings (self->engine)->state_save_interval_ms;

  if (interval == self->interval_ms && self->interval_id != 0)
    return;
  g_clear_handle_id (&self->interval_id, g_source_remove);
  self->interval_ms = interval;
  self->interval_id = g_timeout_add (MAX (interval, 100), interval_cb, self);
}

static void
settings_changed_cb (TeEngine       *engine,
                     TeStateManager *self)
{
  schedule_interval (self);
}

static void
state_changed_cb (TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  Entry          *e)
{
  /* State changes are saved soon, many at once. */
  if (e->manager->soon_id == 0)
    e->manager->soon_id = g_timeout_add (SOON_MS, soon_cb, e->manager);
}

static Entry *
track (TeStateManager *self,
       TeTorrent      *torrent)
{
  Entry *e = g_hash_table_lookup (self->entries, torrent);

  if (e)
    return e;
  e = g_new0 (Entry, 1);
  e->manager = self;
  e->torrent = g_object_ref (torrent);
  e->id = te_torrent_dup_id (torrent);
  g_hash_table_insert (self->entries, torrent, e);
  g_signal_connect (torrent, "state-changed", G_CALLBACK (state_changed_cb), e);
  g_signal_connect_swapped (torrent, "metadata-received", G_CALLBACK (save_document), e);
  return e;
}

static void
torrent_added_cb (TeEngine       *engine,
                  TeTorrent      *torrent,
                  TeStateManager *self)
{
  Entry *e = track (self, torrent);

  /* Restored torrents are saved once their saved fields are applied. */
  if (!self->restoring)
    save_document (e);
}

static void
removed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!te_state_store_remove_finish (TE_STATE_STORE (source), result, &error))
    g_warning ("Cannot remove saved state: %s", error->message);
}

static void
torrent_removed_cb (TeEngine       *engine,
                    TeTorrent      *torrent,
                    gboolean        delete_data,
                    TeStateManager *self)
{
  Entry *e = g_hash_table_lookup (self->entries, torrent);
  g_autofree char *id = te_torrent_dup_id (torrent);

  if (e)
    {
      g_hash_table_steal (self->entries, torrent);
      g_signal_handlers_disconnect_by_data (torrent, e);
      g_clear_object (&e->torrent);
      e->again = FALSE;
      if (!e->in_flight)
        entry_free (e);
    }
  /* Removes land after any save in flight: the store keeps each id's order. */
  te_state_store_remove_async (self->store, id, NULL, removed_cb, NULL);
}

/**
 * te_state_manager_new:
 *
 * Returns: (transfer full): a manager saving @engine's torrents into @store
 *   from now on; te_state_manager_restore_async() brings back saved ones
 */
TeStateManager *
te_state_manager_new (TeEngine     *engine,
                      TeStateStore *store)
{
  TeStateManager *self = g_object_new (TE_TYPE_STATE_MANAGER, NULL);

  g_set_weak_pointer (&self->engine, engine);
  self->store = g_object_ref (store);
  g_signal_connect (engine, "torrent-added", G_CALLBACK (torrent_added_cb), self);
  g_signal_connect (engine, "torrent-removed", G_CALLBACK (torrent_removed_cb), self);
  g_signal_connect (engine, "settings-changed", G_CALLBACK (settings_changed_cb), self);
  schedule_interval (self);
  return self;
}

TeStateStore *
te_state_manager_get_store (TeStateManager *self)
{
  return self->store;
}

/**
 * te_state_manager_flush_async:
 *
 * Saves every torrent that changed and completes once all saves landed: call
 * it before exiting.
 */
void
te_state_manager_flush_async (TeStateManager      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GHashTableIter iter;
  gpointer value;

  g_task_set_source_tag (task, te_state_manager_flush_async);
  /* Everything now, in one go: this is the last save before stopping. */
  g_clear_handle_id (&self->pass_id, g_source_remove);
  g_ptr_array_set_size (self->pass, 0);
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (entry_dirty (value))
      save_document (value);
  g_ptr_array_add (self->flushes, task);
  check_flushes (self);
}

gboolean
te_state_manager_flush_finish (TeStateManager  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

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
  g_autofree gboolean *wanted = NULL;
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
      p = file_priority_from_name (member_string (fo, "priority"));
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
    Entry *e = track (self, t);

    g_clear_pointer (&e->base, json_object_unref);
    e->base = unknown_members (doc);
    e->torrent_saved = TRUE;
    /* What is on disk is what was loaded: once the torrent is back where it
     * was (checked, seeding), its document matches and is not rewritten. A
     * bad newest file is replaced at once. */
    if (r->from_backup)
      save_document (e);
    else
      mark_saved (e, document_hash (doc));
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
      g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, record->id, record->problem);
    }
  if (record->document == NULL)
    return;
  self->restoring = TRUE;
  t = restore_one (self, record, &problem);
  self->restoring = FALSE;
  if (t == NULL)
    {
      g_message ("Cannot restore %s: %s", record->id, problem->message);
      g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, record->id, problem);
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
