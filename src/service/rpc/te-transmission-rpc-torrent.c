/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-transmission-rpc"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "te-remote-path.h"
#include "te-transmission-rpc-private.h"

/* Torrent methods but torrent-get: actions, torrent-set, removing, moving,
 * the queue. Adding is in te-transmission-rpc-add.c. */

static TePriority
priority_from_rpc (gint64 priority)
{
  if (priority < 0)
    return TE_PRIORITY_LOW;
  return priority > 0 ? TE_PRIORITY_HIGH : TE_PRIORITY_NORMAL;
}

/* Applies files-wanted, files-unwanted and priority-* to one torrent. The
 * engine keeps one priority per file with "skip" for unwanted files, so the
 * priority of an unwanted file is kept here until it is wanted again. */
gboolean
_te_rpc_apply_files (TeRpcCall  *call,
                     TeRpcEntry *entry)
{
  static const struct { const char *key; int priority; } prio_keys[] = {
    { "priority-high", 1 }, { "priority-normal", 0 }, { "priority-low", -1 },
  };
  g_autoptr(GArray) map = _te_rpc_file_map (entry->torrent);
  g_autoptr(GPtrArray) files = te_torrent_dup_files (entry->torrent);
  g_autoptr(GArray) indices = NULL;

  g_assert (files->len == map->len);
  if (_te_rpc_file_indices (call, "files-unwanted", map, &indices))
    {
      for (guint i = 0; i < indices->len; i++)
        {
          guint rpc = g_array_index (indices, guint, i);
          TeFileInfo *f = g_ptr_array_index (files, rpc);

          if (f->priority == TE_PRIORITY_SKIP)
            continue;
          g_hash_table_insert (entry->skipped_priority, GUINT_TO_POINTER (rpc),
                               GINT_TO_POINTER ((f->priority < TE_PRIORITY_NORMAL ? -1
                                                 : f->priority > TE_PRIORITY_NORMAL ? 1 : 0) + 2));
          te_torrent_set_file_wanted (entry->torrent, g_array_index (map, guint, rpc), FALSE);
          f->priority = TE_PRIORITY_SKIP;
        }
      g_clear_pointer (&indices, g_array_unref);
    }
  if (call->result)
    return FALSE;
  if (_te_rpc_file_indices (call, "files-wanted", map, &indices))
    {
      for (guint i = 0; i < indices->len; i++)
        {
          guint rpc = g_array_index (indices, guint, i);
          TeFileInfo *f = g_ptr_array_index (files, rpc);
          int stored = GPOINTER_TO_INT (g_hash_table_lookup (entry->skipped_priority, GUINT_TO_POINTER (rpc)));

          if (f->priority != TE_PRIORITY_SKIP)
            continue;
          f->priority = priority_from_rpc (stored ? stored - 2 : 0);
          g_hash_table_remove (entry->skipped_priority, GUINT_TO_POINTER (rpc));
          te_torrent_set_file_priority (entry->torrent, g_array_index (map, guint, rpc), f->priority);
        }
      g_clear_pointer (&indices, g_array_unref);
    }
  for (guint k = 0; k < G_N_ELEMENTS (prio_keys) && call->result == NULL; k++)
    {
      if (!_te_rpc_file_indices (call, prio_keys[k].key, map, &indices))
        continue;
      for (guint i = 0; i < indices->len; i++)
        {
          guint rpc = g_array_index (indices, guint, i);
          TeFileInfo *f = g_ptr_array_index (files, rpc);

          if (f->priority == TE_PRIORITY_SKIP)
            g_hash_table_insert (entry->skipped_priority, GUINT_TO_POINTER (rpc),
                                 GINT_TO_POINTER (prio_keys[k].priority + 2));
          else
            {
              f->priority = priority_from_rpc (prio_keys[k].priority);
              te_torrent_set_file_priority (entry->torrent, g_array_index (map, guint, rpc), f->priority);
            }
        }
      g_clear_pointer (&indices, g_array_unref);
    }
  return call->result == NULL;
}

/* torrent-start, -start-now, -stop, -verify, -reannounce */

void
_te_rpc_torrent_action (TeRpcCall  *call,
                        const char *method)
{
  g_autoptr(GPtrArray) selected = _te_rpc_select (call, NULL);

  if (selected == NULL)
    {
      _te_rpc_call_return (call);
      return;
    }
  if (strcmp (method, "torrent-reannounce") == 0)
    {
      for (guint i = 0; i < selected->len; i++)
        te_torrent_announce_now (((TeRpcEntry *) g_ptr_array_index (selected, i))->torrent);
      _te_rpc_call_return (call);
      return;
    }
  for (guint i = 0; i < selected->len; i++)
    {
      TeRpcEntry *entry = g_ptr_array_index (selected, i);

      _te_rpc_touch (entry);
      if (strcmp (method, "torrent-stop") == 0)
        te_torrent_pause (entry->torrent);
      else if (strcmp (method, "torrent-verify") == 0)
        te_torrent_recheck (entry->torrent);
      else
        {
          /* No slot is taken by force here: start-now puts the torrent first
           * in the queue, so it is the next to run. */
          if (strcmp (method, "torrent-start-now") == 0)
            te_engine_set_queue_position (call->rpc->engine, entry->torrent, 0);
          te_torrent_start (entry->torrent);
        }
    }
  _te_rpc_call_return (call);
}

/* torrent-remove */

void
_te_rpc_torrent_remove (TeRpcCall *call)
{
  g_autoptr(GPtrArray) selected = _te_rpc_select (call, NULL);
  gboolean delete_data = FALSE;

  _te_rpc_arg_bool (call, "delete-local-data", &delete_data);
  if (selected == NULL || call->result)
    {
      _te_rpc_call_return (call);
      return;
    }
  for (guint i = 0; i < selected->len; i++)
    {
      /* The entry goes away with the engine's torrent-removed signal. */
      g_autoptr(TeTorrent) torrent = g_object_ref (((TeRpcEntry *) g_ptr_array_index (selected, i))->torrent);

      te_engine_remove (call->rpc->engine, torrent, delete_data);
    }
  _te_rpc_call_return (call);
}

/* Moving data: one torrent after the other, the answer after the last. */

typedef struct {
  TeRpcCall *call;
  GPtrArray *torrents;   /* TeTorrent, refs */
  guint      next;
  char      *location;
} MoveJob;

static void move_next (MoveJob *job);

static void
moved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  MoveJob *job = user_data;
  g_autoptr(GError) error = NULL;

  if (!te_engine_move_storage_finish (TE_ENGINE (source), result, &error))
    _te_rpc_call_fail (job->call, "%s", error->message);
  move_next (job);
}

static void
move_next (MoveJob *job)
{
  if (job->call->result == NULL && job->next < job->torrents->len)
    {
      TeTorrent *torrent = g_ptr_array_index (job->torrents, job->next++);

      te_engine_move_storage_async (job->call->rpc->engine, torrent, job->location,
                                    NULL, NULL, NULL, moved_cb, job);
      return;
    }
  _te_rpc_call_return (job->call);
  g_ptr_array_unref (job->torrents);
  g_free (job->location);
  g_free (job);
}

static void
move_all (TeRpcCall  *call,
          GPtrArray  *selected,
          const char *location)
{
  MoveJob *job = g_new0 (MoveJob, 1);

  job->call = call;
  job->location = g_strdup (location);
  job->torrents = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < selected->len; i++)
    {
      TeRpcEntry *entry = g_ptr_array_index (selected, i);

      /* A magnet without metadata has no files yet; its folder is set when
       * they come, so only torrents with files move. */
      if (g_strcmp0 (te_torrent_get_save_path (entry->torrent), location) != 0)
        g_ptr_array_add (job->torrents, g_object_ref (entry->torrent));
    }
  move_next (job);
}

/* The resolved folder, if it lies in the allowed roots. */
static char *
check_location (TeRpcCall  *call,
                const char *location)
{
  g_autoptr(GError) error = NULL;
  char *resolved;

  if (!g_path_is_absolute (location))
    {
      _te_rpc_call_fail (call, "location “%s” is not an absolute path", location);
      return NULL;
    }
  resolved = te_remote_path_check (te_engine_get_settings (call->rpc->engine), "location", location, &error);
  if (resolved == NULL)
    _te_rpc_call_fail (call, "%s", error->message);
  return resolved;
}

void
_te_rpc_torrent_set_location (TeRpcCall *call)
{
  g_autoptr(GPtrArray) selected = _te_rpc_select (call, NULL);
  const char *given = _te_rpc_arg_string (call, "location");
  g_autofree char *location = NULL;
  gboolean move = FALSE;

  _te_rpc_arg_bool (call, "move", &move);
  if (given == NULL && call->result == NULL)
    _te_rpc_call_fail (call, "“location” is required");
  if (selected == NULL || call->result || (location = check_location (call, given)) == NULL)
    {
      _te_rpc_call_return (call);
      return;
    }
  if (!move)
    {
      /* The data is already there: point the torrents at it and check it. */
      for (guint i = 0; i < selected->len && call->result == NULL; i++)
        {
          g_autoptr(GError) error = NULL;
          TeRpcEntry *entry = g_ptr_array_index (selected, i);

          if (!te_torrent_set_save_path (entry->torrent, location, &error))
            _te_rpc_call_fail (call, "%s", error->message);
        }
      _te_rpc_call_return (call);
      return;
    }
  move_all (call, selected, location);
}

/* torrent-set */

/* Transmission keeps a torrent's own ratio and a mode (the session's, its
 * own, none); the engine keeps one value (< 0 the session's, 0 none). */
static void
set_seed_ratio (TeRpcEntry *entry,
                gboolean    have_ratio,
                double      ratio,
                gboolean    have_mode,
                gint64      mode)
{
  double current;
  gint64 time_ms;

  te_torrent_get_seed_limits (entry->torrent, &current, &time_ms);
  if (have_ratio)
    entry->ratio_limit = ratio;
  if (!have_mode)
    mode = current < 0 ? TE_RPC_RATIO_GLOBAL : current > 0 ? TE_RPC_RATIO_SINGLE : TE_RPC_RATIO_UNLIMITED;
  switch (mode)
    {
    case TE_RPC_RATIO_GLOBAL:
      current = -1;
      break;
    case TE_RPC_RATIO_SINGLE:
      current = entry->ratio_limit;
      break;
    default:
      current = 0;
      break;
    }
  te_torrent_set_seed_limits (entry->torrent, current, time_ms);
}

static void
set_limits (TeRpcCall  *call,
            TeRpcEntry *entry,
            gboolean    have_down,
            gint64      down_kbps,
            gboolean    have_down_on,
            gboolean    down_on,
            gboolean    have_up,
            gint64      up_kbps,
            gboolean    have_up_on,
            gboolean    up_on)
{
  guint64 down = 0, up = 0;

  te_torrent_get_limits (entry->torrent, &down, &up);
  if (down > 0 && entry->down_kbps == 0)
    entry->down_kbps = (down + TE_RPC_SPEED_K - 1) / TE_RPC_SPEED_K;
  if (up > 0 && entry->up_kbps == 0)
    entry->up_kbps = (up + TE_RPC_SPEED_K - 1) / TE_RPC_SPEED_K;
  if (have_down)
    entry->down_kbps = (guint64) down_kbps;
  if (have_up)
    entry->up_kbps = (guint64) up_kbps;
  if (!have_down_on)
    down_on = down > 0;
  if (!have_up_on)
    up_on = up > 0;
  /* A limit of 0 kB/s stops the transfer in Transmission; the engine's 0
   * means no limit, so the nearest is one byte a second. */
  down = down_on ? MAX (entry->down_kbps * TE_RPC_SPEED_K, 1) : 0;
  up = up_on ? MAX (entry->up_kbps * TE_RPC_SPEED_K, 1) : 0;
  te_torrent_set_limits (entry->torrent, down, up);
}

static gboolean
set_trackers (TeRpcCall  *call,
              TeRpcEntry *entry)
{
  JsonArray *add = _te_rpc_arg_array (call, "trackerAdd");
  JsonArray *remove = _te_rpc_arg_array (call, "trackerRemove");
  JsonArray *replace = _te_rpc_arg_array (call, "trackerReplace");
  const char *list = _te_rpc_arg_string (call, "trackerList");
  g_autoptr(GPtrArray) current = te_torrent_dup_trackers (entry->torrent);
  g_autoptr(GError) error = NULL;

  if (call->result)
    return FALSE;
  /* Ids are positions in the list torrent-get showed. */
  for (guint i = 0; replace && i + 1 < json_array_get_length (replace) && error == NULL; i += 2)
    {
      JsonNode *id = json_array_get_element (replace, i);
      JsonNode *url = json_array_get_element (replace, i + 1);
      gint64 n = JSON_NODE_HOLDS_VALUE (id) && json_node_get_value_type (id) == G_TYPE_INT64
                 ? json_node_get_int (id) : -1;

      if (n < 0 || n >= current->len || !JSON_NODE_HOLDS_VALUE (url)
          || json_node_get_value_type (url) != G_TYPE_STRING)
        {
          _te_rpc_call_fail (call, "“trackerReplace” must hold pairs of a tracker id and a URL");
          return FALSE;
        }
      te_torrent_replace_tracker (entry->torrent, ((TeTrackerInfo *) g_ptr_array_index (current, n))->url,
                                  json_node_get_string (url), &error);
    }
  for (guint i = 0; remove && i < json_array_get_length (remove) && error == NULL; i++)
    {
      JsonNode *id = json_array_get_element (remove, i);
      gint64 n = JSON_NODE_HOLDS_VALUE (id) && json_node_get_value_type (id) == G_TYPE_INT64
                 ? json_node_get_int (id) : -1;

      if (n < 0 || n >= current->len)
        {
          _te_rpc_call_fail (call, "“trackerRemove” must hold tracker ids");
          return FALSE;
        }
      te_torrent_remove_tracker (entry->torrent, ((TeTrackerInfo *) g_ptr_array_index (current, n))->url, &error);
    }
  for (guint i = 0; add && i < json_array_get_length (add) && error == NULL; i++)
    {
      JsonNode *url = json_array_get_element (add, i);

      if (!JSON_NODE_HOLDS_VALUE (url) || json_node_get_value_type (url) != G_TYPE_STRING)
        {
          _te_rpc_call_fail (call, "“trackerAdd” must hold URLs");
          return FALSE;
        }
      te_torrent_add_tracker (entry->torrent, json_node_get_string (url), -1, &error);
    }
  if (list && error == NULL)
    {
      g_auto(GStrv) lines = g_strsplit (list, "\n", TE_RPC_MAX_ARRAY);
      g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
      int tier = 0;
      gboolean tier_used = FALSE;

      for (guint i = 0; lines[i]; i++)
        {
          g_strstrip (lines[i]);
          if (*lines[i])
            g_hash_table_add (wanted, lines[i]);
        }
      for (guint i = 0; i < current->len && error == NULL; i++)
        {
          const char *url = ((TeTrackerInfo *) g_ptr_array_index (current, i))->url;

          if (!g_hash_table_contains (wanted, url))
            te_torrent_remove_tracker (entry->torrent, url, &error);
        }
      /* A blank line starts the next tier. */
      for (guint i = 0; lines[i] && error == NULL; i++)
        {
          gboolean known = FALSE;

          if (*lines[i] == '\0')
            {
              tier += tier_used;
              tier_used = FALSE;
              continue;
            }
          tier_used = TRUE;
          for (guint j = 0; j < current->len && !known; j++)
            known = strcmp (((TeTrackerInfo *) g_ptr_array_index (current, j))->url, lines[i]) == 0;
          if (!known)
            te_torrent_add_tracker (entry->torrent, lines[i], tier, &error);
        }
    }
  if (error)
    _te_rpc_call_fail (call, "%s", error->message);
  return call->result == NULL;
}

void
_te_rpc_torrent_set (TeRpcCall *call)
{
  TeTransmissionRpc *self = call->rpc;
  g_autoptr(GPtrArray) selected = _te_rpc_select (call, NULL);
  gint64 down_kbps = 0, up_kbps = 0, mode = 0, position = 0, priority = 0;
  gboolean down_on = FALSE, up_on = FALSE, sequential = FALSE;
  double ratio = 0;
  gboolean have_down = _te_rpc_arg_int (call, "downloadLimit", &down_kbps);
  gboolean have_down_on = _te_rpc_arg_bool (call, "downloadLimited", &down_on);
  gboolean have_up = _te_rpc_arg_int (call, "uploadLimit", &up_kbps);
  gboolean have_up_on = _te_rpc_arg_bool (call, "uploadLimited", &up_on);
  gboolean have_ratio = _te_rpc_arg_double (call, "seedRatioLimit", &ratio);
  gboolean have_mode = _te_rpc_arg_int (call, "seedRatioMode", &mode);
  gboolean have_position = _te_rpc_arg_int (call, "queuePosition", &position);
  gboolean have_priority = _te_rpc_arg_int (call, "bandwidthPriority", &priority);
  gboolean have_sequential = _te_rpc_arg_bool (call, "sequentialDownload", &sequential);
  const char *location = _te_rpc_arg_string (call, "location");

  if (call->result == NULL && ((have_down && (down_kbps < 0 || down_kbps > G_MAXUINT32))
                               || (have_up && (up_kbps < 0 || up_kbps > G_MAXUINT32))))
    _te_rpc_call_fail (call, "speed limits must be between 0 and %u kB/s", G_MAXUINT32);
  if (call->result == NULL && have_ratio && (ratio < 0 || ratio > 1e6))
    _te_rpc_call_fail (call, "“seedRatioLimit” must be between 0 and 1000000");
  if (call->result == NULL && have_mode && (mode < 0 || mode > 2))
    _te_rpc_call_fail (call, "“seedRatioMode” must be 0, 1 or 2");
  if (call->result == NULL && have_position && position < 0)
    _te_rpc_call_fail (call, "“queuePosition” must not be negative");
  if (call->result == NULL && have_priority && (priority < -1 || priority > 1))
    _te_rpc_call_fail (call, "“bandwidthPriority” must be -1, 0 or 1");
  if (location && call->result == NULL)
    check_location (call, location);
  if (selected == NULL || call->result)
    {
      _te_rpc_call_return (call);
      return;
    }

  for (guint i = 0; i < selected->len && call->result == NULL; i++)
    {
      TeRpcEntry *entry = g_ptr_array_index (selected, i);

      _te_rpc_touch (entry);
      if (!_te_rpc_apply_files (call, entry))
        break;
      if (have_down || have_down_on || have_up || have_up_on)
        set_limits (call, entry, have_down, down_kbps, have_down_on, down_on,
                    have_up, up_kbps, have_up_on, up_on);
      if (have_position)
        te_engine_set_queue_position (self->engine, entry->torrent, (guint) MIN (position, G_MAXUINT));
      if (have_priority)
        te_engine_set_priority (self->engine, entry->torrent, (int) priority);
      if (have_sequential)
        te_torrent_set_sequential (entry->torrent, sequential);
      if (have_ratio || have_mode)
        set_seed_ratio (entry, have_ratio, ratio, have_mode, mode);
      set_trackers (call, entry);
    }
  if (location && call->result == NULL)
    {
      move_all (call, selected, location);
      return;
    }
  _te_rpc_call_return (call);
}

/* queue-move-top, -up, -down, -bottom */

static gint
by_position (gconstpointer a,
             gconstpointer b)
{
  guint pa = te_torrent_get_queue_position ((*(TeRpcEntry **) a)->torrent);
  guint pb = te_torrent_get_queue_position ((*(TeRpcEntry **) b)->torrent);

  return pa < pb ? -1 : pa > pb;
}

void
_te_rpc_queue_move (TeRpcCall  *call,
                    const char *method)
{
  TeEngine *engine = call->rpc->engine;
  g_autoptr(GPtrArray) selected = _te_rpc_select (call, NULL);
  const char *where = method + strlen ("queue-move-");
  gboolean top = strcmp (where, "top") == 0;
  gboolean up = strcmp (where, "up") == 0;
  gboolean down = strcmp (where, "down") == 0;
  gboolean bottom = strcmp (where, "bottom") == 0;

  if (!top && !up && !down && !bottom)
    {
      g_autofree char *name = g_utf8_make_valid (method, MIN (strlen (method), 64));

      _te_rpc_call_fail (call, "method name not recognized: %s", name);
    }
  if (selected == NULL || call->result)
    {
      _te_rpc_call_return (call);
      return;
    }
  /* In queue order, walked so that the moved torrents keep theirs. */
  g_ptr_array_sort (selected, by_position);
  for (guint k = 0; k < selected->len; k++)
    {
      guint i = top || down ? selected->len - 1 - k : k;
      TeTorrent *torrent = ((TeRpcEntry *) g_ptr_array_index (selected, i))->torrent;
      guint position = te_torrent_get_queue_position (torrent);

      if (top)
        position = 0;
      else if (up)
        position = position > 0 ? position - 1 : 0;
      else if (down)
        position = position + 1;
      else
        position = G_MAXUINT;
      te_engine_set_queue_position (engine, torrent, position);
    }
  _te_rpc_call_return (call);
}
