/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-transmission-rpc"

#include "config.h"

#include <math.h>
#include <string.h>

#include "te-transmission-rpc-private.h"

/* Reading a request's arguments: types checked, lengths limited, torrents
 * and files named the way Transmission clients name them. */

static JsonNode *
arg_node (TeRpcCall  *call,
          const char *key)
{
  JsonNode *node = json_object_get_member (call->args, key);

  return node && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

static gboolean
node_is_number (JsonNode *node)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

void
_te_rpc_call_fail (TeRpcCall  *call,
                   const char *format,
                   ...)
{
  va_list args;

  if (call->result != NULL)
    return;
  va_start (args, format);
  call->result = g_strdup_vprintf (format, args);
  va_end (args);
}

gboolean
_te_rpc_arg_double (TeRpcCall  *call,
                    const char *key,
                    double     *out)
{
  JsonNode *node = arg_node (call, key);

  if (node == NULL)
    return FALSE;
  if (!node_is_number (node))
    {
      _te_rpc_call_fail (call, "argument “%s” must be a number", key);
      return FALSE;
    }
  *out = json_node_get_double (node);
  if (!isfinite (*out))
    {
      _te_rpc_call_fail (call, "argument “%s” must be a finite number", key);
      return FALSE;
    }
  return TRUE;
}

gboolean
_te_rpc_arg_int (TeRpcCall  *call,
                 const char *key,
                 gint64     *out)
{
  JsonNode *node = arg_node (call, key);
  double d;

  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }
  if (!_te_rpc_arg_double (call, key, &d))
    return FALSE;
  if (d < -9e15 || d > 9e15)
    {
      _te_rpc_call_fail (call, "argument “%s” is out of range", key);
      return FALSE;
    }
  *out = (gint64) d;
  return TRUE;
}

gboolean
_te_rpc_arg_bool (TeRpcCall  *call,
                  const char *key,
                  gboolean   *out)
{
  JsonNode *node = arg_node (call, key);

  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      *out = json_node_get_boolean (node);
      return TRUE;
    }
  /* Transmission's own variant takes 0 and 1 for booleans; some clients send them. */
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64
      && (json_node_get_int (node) == 0 || json_node_get_int (node) == 1))
    {
      *out = json_node_get_int (node) == 1;
      return TRUE;
    }
  _te_rpc_call_fail (call, "argument “%s” must be a boolean", key);
  return FALSE;
}

const char *
_te_rpc_arg_string (TeRpcCall  *call,
                    const char *key)
{
  JsonNode *node = arg_node (call, key);

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      _te_rpc_call_fail (call, "argument “%s” must be a string", key);
      return NULL;
    }
  return json_node_get_string (node);
}

JsonArray *
_te_rpc_arg_array (TeRpcCall  *call,
                   const char *key)
{
  JsonNode *node = arg_node (call, key);
  JsonArray *array;

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      _te_rpc_call_fail (call, "argument “%s” must be an array", key);
      return NULL;
    }
  array = json_node_get_array (node);
  if (json_array_get_length (array) > TE_RPC_MAX_ARRAY)
    {
      _te_rpc_call_fail (call, "argument “%s” has more than %d elements", key, TE_RPC_MAX_ARRAY);
      return NULL;
    }
  return array;
}

/* Files: Transmission numbers the files without BEP 47 pad files. */

GArray *
_te_rpc_file_map (TeTorrent *torrent)
{
  TeMetainfo *meta = te_torrent_get_metainfo (torrent);
  GArray *map = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; meta && i < te_metainfo_get_n_files (meta); i++)
    if (!(te_metainfo_get_file (meta, i)->attrs & TE_FILE_ATTR_PAD))
      g_array_append_val (map, i);
  return map;
}

/**
 * _te_rpc_file_indices:
 * @map: from _te_rpc_file_map()
 * @out: (out): Transmission's file numbers (map them to the engine's with
 *   @map); every file for an empty array
 *
 * Returns: whether @key was given and valid
 */
gboolean
_te_rpc_file_indices (TeRpcCall  *call,
                      const char *key,
                      GArray     *map,
                      GArray    **out)
{
  JsonArray *array = _te_rpc_arg_array (call, key);
  g_autoptr(GArray) indices = NULL;
  guint n;

  if (array == NULL)
    return FALSE;
  n = json_array_get_length (array);
  indices = g_array_sized_new (FALSE, FALSE, sizeof (guint), n ? n : map->len);
  for (guint i = 0; n == 0 && i < map->len; i++)
    g_array_append_val (indices, i);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      gint64 index;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          _te_rpc_call_fail (call, "“%s” must hold file numbers", key);
          return FALSE;
        }
      index = json_node_get_int (node);
      if (index < 0 || index >= map->len)
        {
          _te_rpc_call_fail (call, "file %" G_GINT64_FORMAT " in “%s” does not exist", index, key);
          return FALSE;
        }
      g_array_append_vals (indices, &(guint) { (guint) index }, 1);
    }
  *out = g_steal_pointer (&indices);
  return TRUE;
}

/* Which torrents a request names */

static gboolean
recently_active (TeRpcEntry *entry,
                 gint64      now)
{
  TeTorrentStats stats;

  te_torrent_get_stats (entry->torrent, &stats);
  if (stats.download_rate > 0 || stats.upload_rate > 0
      || te_torrent_get_state (entry->torrent) == TE_TORRENT_STATE_CHECKING)
    _te_rpc_touch (entry);
  return entry->activity >= now - TE_RPC_RECENT_S;
}

static void
select_one (TeRpcCall  *call,
            JsonNode   *node,
            GPtrArray  *out,
            GHashTable *seen)
{
  TeTransmissionRpc *self = call->rpc;
  TeRpcEntry *entry = NULL;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 id = json_node_get_int (node);

      if (id > 0 && id <= G_MAXINT)
        entry = g_hash_table_lookup (self->by_id, GINT_TO_POINTER ((int) id));
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      g_autofree char *hash = g_ascii_strdown (json_node_get_string (node), -1);
      TeTorrent *torrent = te_engine_find_torrent (self->engine, hash);

      if (torrent)
        entry = g_hash_table_lookup (self->entries, torrent);
    }
  else
    {
      _te_rpc_call_fail (call, "“ids” must hold torrent ids or hash strings");
      return;
    }
  if (entry && g_hash_table_add (seen, entry))
    g_ptr_array_add (out, entry);
}

/**
 * _te_rpc_select:
 * @recently_active: (out) (optional): whether `ids` was "recently-active"
 *
 * Returns: (transfer container) (element-type TeRpcEntry): the torrents `ids`
 *   names (all when absent), in the engine's order or the request's; `NULL`
 *   when `ids` is malformed (the call has failed)
 */
GPtrArray *
_te_rpc_select (TeRpcCall *call,
                gboolean  *is_recent)
{
  TeTransmissionRpc *self = call->rpc;
  JsonNode *ids = arg_node (call, "ids");
  g_autoptr(GPtrArray) out = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  GPtrArray *torrents = te_engine_get_torrents (self->engine);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (is_recent)
    *is_recent = FALSE;
  if (ids && JSON_NODE_HOLDS_VALUE (ids) && json_node_get_value_type (ids) == G_TYPE_STRING
      && strcmp (json_node_get_string (ids), "recently-active") == 0)
    {
      if (is_recent)
        *is_recent = TRUE;
      for (guint i = 0; i < torrents->len; i++)
        {
          TeRpcEntry *entry = g_hash_table_lookup (self->entries, g_ptr_array_index (torrents, i));

          if (entry && recently_active (entry, now))
            g_ptr_array_add (out, entry);
        }
      return g_steal_pointer (&out);
    }
  if (ids == NULL)
    {
      for (guint i = 0; i < torrents->len; i++)
        {
          TeRpcEntry *entry = g_hash_table_lookup (self->entries, g_ptr_array_index (torrents, i));

          if (entry)
            g_ptr_array_add (out, entry);
        }
      return g_steal_pointer (&out);
    }
  if (JSON_NODE_HOLDS_ARRAY (ids))
    {
      JsonArray *array = _te_rpc_arg_array (call, "ids");

      for (guint i = 0; array && i < json_array_get_length (array) && call->result == NULL; i++)
        select_one (call, json_array_get_element (array, i), out, seen);
    }
  else
    select_one (call, ids, out, seen);
  return call->result ? NULL : g_steal_pointer (&out);
}

