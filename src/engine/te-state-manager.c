/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-state"

#include "config.h"

#include "te-hash.h"
#include "te-state-manager-private.h"

/* Keeps every torrent's resume state in a TeStateStore: saved when it changes
 * state, every STATE_SAVE_INTERVAL while it changes otherwise, and all at once
 * at shutdown (te_state_manager_flush_async()). One save per torrent is in
 * flight at a time; changes meanwhile are saved after it. The bitfield holds
 * only pieces whose hash verified and whose data was written. */

#define SOON_MS 500

/* A torrent added with its data to check is first saved when the check ends,
 * or after this long: adding thousands at once then writes each state once,
 * not once before and once after its check. */
#define FIRST_SAVE_HOLD_MS 5000

enum {
  SIGNAL_PROBLEM,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeStateManager, te_state_manager, G_TYPE_OBJECT)


static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_clear_object (&e->torrent);
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
  g_clear_handle_id (&self->hold_id, g_source_remove);
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

TePriority
_te_state_manager_file_priority (const char *name)
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
JsonObject *
_te_state_manager_unknown_members (JsonObject *doc)
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

  if (self->in_flight > 0 || self->pass_id != 0 || self->flushes->len == 0)
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
  else
    e->landed = TRUE;
  e->in_flight = FALSE;
  self->in_flight--;
  if (e->again)
    {
      e->again = FALSE;
      _te_state_manager_save_document (e);
    }
  else if (e->torrent == NULL)
    entry_free (e);
  check_flushes (self);
}

/* A document's hash, leaving out its time of writing. */
guint
_te_state_manager_document_hash (JsonObject *doc)
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

void
_te_state_manager_mark_saved (Entry *e,
            guint  hash)
{
  TeTorrent *t = e->torrent;

  e->saved_hash = hash;
  e->ever_saved = TRUE;
  /* What the store has already (restored, or saved before). */
  e->landed = TRUE;
  e->saved_serial = t->state_serial;
  e->saved_pieces = t->have ? te_bitfield_count (t->have) : 0;
  e->saved_down = t->stats.downloaded;
  e->saved_up = t->stats.uploaded;
}

static void
release_hold (Entry *e)
{
  if (e->hold_until == 0)
    return;
  e->hold_until = 0;
  e->manager->held--;
}

void
_te_state_manager_save_document (Entry *e)
{
  TeStateManager *self = e->manager;
  TeTorrent *t = e->torrent;
  g_autoptr(JsonObject) doc = NULL;
  GBytes *torrent = NULL;

  release_hold (e);

  if (e->in_flight)
    {
      e->again = TRUE;
      return;
    }
  doc = te_state_manager_build_document (t, e->base);
  /* Nothing new (a restart brings thousands of torrents back as they were
   * saved): no write. */
  {
    guint hash = _te_state_manager_document_hash (doc);

    if (e->ever_saved && hash == e->saved_hash)
      {
        _te_state_manager_mark_saved (e, hash);
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

      if (e && !self->pass_flush && e->hold_until != 0 && e->hold_until > g_get_monotonic_time ())
        e = NULL;
      if (e && (self->pass_state_only ? (!e->ever_saved || e->saved_serial != t->state_serial)
                                      : entry_dirty (e)))
        _te_state_manager_save_document (e);
      if (g_get_monotonic_time () >= end && self->pass->len > 0)
        return G_SOURCE_CONTINUE;
    }
  self->pass_id = 0;
  self->pass_flush = FALSE;
  check_flushes (self);
  return G_SOURCE_REMOVE;
}

static void
start_pass (TeStateManager *self,
            gboolean        state_only,
            gboolean        flush)
{
  GHashTableIter iter;
  gpointer key;

  g_clear_handle_id (&self->pass_id, g_source_remove);
  g_ptr_array_set_size (self->pass, 0);
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (self->pass, g_object_ref (key));
  self->pass_state_only = state_only;
  self->pass_flush = flush;
  /* A flush must go on even while the loop is busy with default work. */
  self->pass_id = g_idle_add_full (flush ? G_PRIORITY_DEFAULT : G_PRIORITY_DEFAULT_IDLE,
                                   save_pass_cb, self, NULL);
}

static void
save_dirty (TeStateManager *self,
            gboolean        state_only)
{
  /* A restore saves what it must itself; the rest waits for it to end. A
   * pass already going on covers what changed since it began only in part:
   * the next one gets the rest. */
  if (self->restores > 0 || self->pass_id != 0)
    return;
  start_pass (self, state_only, FALSE);
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

/* Saves the held torrents whose hold ran out; comes back while any is held. */
static gboolean
hold_cb (gpointer data)
{
  TeStateManager *self = data;

  save_dirty (self, TRUE);
  if (self->held > 0)
    return G_SOURCE_CONTINUE;
  self->hold_id = 0;
  return G_SOURCE_REMOVE;
}

static void
hold_first_save (Entry *e)
{
  TeStateManager *self = e->manager;

  e->hold_until = g_get_monotonic_time () + FIRST_SAVE_HOLD_MS * G_TIME_SPAN_MILLISECOND;
  self->held++;
  if (self->hold_id == 0)
    self->hold_id = g_timeout_add (FIRST_SAVE_HOLD_MS / 5, hold_cb, self);
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

/* Torrent events come through the engine: one connection for all torrents
 * (10,000 torrents would otherwise cost 20,000 handlers). Only tracked
 * torrents count: an untracked one was removed, or is not ours yet. */

static void
torrent_state_changed_cb (TeEngine       *engine,
                          TeTorrent      *torrent,
                          TeTorrentState  from,
                          TeTorrentState  to,
                          TeStateManager *self)
{
  Entry *e = g_hash_table_lookup (self->entries, torrent);

  if (e == NULL)
    return;
  if (from == TE_TORRENT_STATE_CHECKING && to != TE_TORRENT_STATE_CHECKING)
    release_hold (e);
  /* State changes are saved soon, many at once. */
  if (self->soon_id == 0)
    self->soon_id = g_timeout_add (SOON_MS, soon_cb, self);
}

static void
torrent_metadata_received_cb (TeEngine       *engine,
                              TeTorrent      *torrent,
                              TeStateManager *self)
{
  Entry *e = g_hash_table_lookup (self->entries, torrent);

  if (e != NULL)
    _te_state_manager_save_document (e);
}

Entry *
_te_state_manager_track (TeStateManager *self,
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
  return e;
}

static void
torrent_added_cb (TeEngine       *engine,
                  TeTorrent      *torrent,
                  TeStateManager *self)
{
  Entry *e = _te_state_manager_track (self, torrent);

  /* Restored torrents are saved once their saved fields are applied. */
  if (self->restoring)
    return;
  if (torrent->checking)
    hold_first_save (e);
  else
    _te_state_manager_save_document (e);
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
      release_hold (e);
      g_hash_table_steal (self->entries, torrent);
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
  g_signal_connect (engine, "torrent-state-changed", G_CALLBACK (torrent_state_changed_cb), self);
  g_signal_connect (engine, "torrent-metadata-received", G_CALLBACK (torrent_metadata_received_cb), self);
  schedule_interval (self);
  return self;
}

/**
 * te_state_manager_is_saved:
 *
 * Whether @torrent's state is in the store, so a restart brings it back. A
 * torrent the manager does not keep (removed, or restored and saved before)
 * counts as saved: there is nothing to wait for.
 */
gboolean
te_state_manager_is_saved (TeStateManager *self,
                           TeTorrent      *torrent)
{
  Entry *e;

  g_return_val_if_fail (TE_IS_STATE_MANAGER (self), FALSE);
  e = g_hash_table_lookup (self->entries, torrent);
  return e == NULL || e->landed;
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

  g_task_set_source_tag (task, te_state_manager_flush_async);
  /* Everything that changed, held or not, in slices like any pass; done when
   * the pass is over and every save landed. */
  start_pass (self, FALSE, TRUE);
  g_ptr_array_add (self->flushes, task);
}

gboolean
te_state_manager_flush_finish (TeStateManager  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
_te_state_manager_report_problem (TeStateManager *self,
                                  const char     *id,
                                  const GError   *error)
{
  g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, id, error);
}
