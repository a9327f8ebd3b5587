/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-transmission-rpc"

#include "config.h"

#include <string.h>

#include "te-remote-path.h"
#include "te-transmission-rpc-private.h"

/* Session methods. Keys for features the engine does not have (DHT, LPD,
 * uTP, port forwarding, blocklists, scheduled alternative speeds, scripts)
 * answer that they are off; setting them changes nothing, as Transmission
 * does with keys it does not know. */

#define RPC_VERSION 17
#define RPC_VERSION_MINIMUM 14
#define RPC_VERSION_SEMVER "5.3.0"

/* Transmission keeps speeds in kB/s as 32-bit unsigned numbers. */
#define MAX_SPEED_KBPS G_MAXUINT32

/* The engine's setting behind a Transmission key; its bounds are the ones
 * session-set enforces. */
static const TeSettingInfo *
setting (const char *json_name)
{
  const TeSettingInfo *info = te_setting_info_find (json_name);

  g_assert (info != NULL);
  return info;
}

/* Off is the longest stall timeout the engine has: the engine always
 * detects stalls, Transmission can be told not to. (So a timeout of exactly
 * that long, a week, reads as off.) */
static gboolean
stall_enabled (guint stall_timeout_s)
{
  return stall_timeout_s < setting ("stallTimeoutSeconds")->max;
}

static guint64
kbps (guint64 bytes_per_s)
{
  return (bytes_per_s + TE_RPC_SPEED_K - 1) / TE_RPC_SPEED_K;
}

static JsonArray *
units (const char *a,
       const char *b,
       const char *c,
       const char *d)
{
  JsonArray *array = json_array_new ();

  json_array_add_string_element (array, a);
  json_array_add_string_element (array, b);
  json_array_add_string_element (array, c);
  json_array_add_string_element (array, d);
  return array;
}

static void
session_fill (TeTransmissionRpc *self,
              JsonObject        *o)
{
  const TeEngineSettings *s = te_engine_get_settings (self->engine);
  JsonObject *u = json_object_new ();

  json_object_set_int_member (o, "alt-speed-down", (gint64) kbps (s->alt_download_limit));
  json_object_set_boolean_member (o, "alt-speed-enabled", te_engine_get_alt_speed (self->engine));
  json_object_set_int_member (o, "alt-speed-time-begin", 540);
  json_object_set_int_member (o, "alt-speed-time-day", 127);
  json_object_set_boolean_member (o, "alt-speed-time-enabled", FALSE);
  json_object_set_int_member (o, "alt-speed-time-end", 1020);
  json_object_set_int_member (o, "alt-speed-up", (gint64) kbps (s->alt_upload_limit));
  json_object_set_boolean_member (o, "blocklist-enabled", FALSE);
  json_object_set_int_member (o, "blocklist-size", 0);
  json_object_set_string_member (o, "blocklist-url", "");
  json_object_set_int_member (o, "cache-size-mb", 0);
  json_object_set_string_member (o, "default-trackers", "");
  json_object_set_boolean_member (o, "dht-enabled", FALSE);
  json_object_set_string_member (o, "download-dir", s->download_path ? s->download_path : "");
  json_object_set_boolean_member (o, "download-queue-enabled", s->max_active_downloads > 0);
  json_object_set_int_member (o, "download-queue-size",
                              s->max_active_downloads ? s->max_active_downloads : self->download_queue);
  /* Peer connections are never encrypted here; "tolerated" is the nearest
   * of Transmission's three words. */
  json_object_set_string_member (o, "encryption", "tolerated");
  json_object_set_boolean_member (o, "idle-seeding-limit-enabled", FALSE);
  json_object_set_int_member (o, "idle-seeding-limit", 30);
  json_object_set_boolean_member (o, "incomplete-dir-enabled", FALSE);
  json_object_set_string_member (o, "incomplete-dir", s->download_path ? s->download_path : "");
  json_object_set_boolean_member (o, "lpd-enabled", FALSE);
  json_object_set_int_member (o, "peer-limit-global", s->max_peers_global);
  json_object_set_int_member (o, "peer-limit-per-torrent", s->max_peers_per_torrent);
  json_object_set_boolean_member (o, "peer-port-random-on-start", FALSE);
  json_object_set_int_member (o, "peer-port", te_engine_get_port (self->engine)
                                              ? te_engine_get_port (self->engine) : s->listen_port);
  json_object_set_boolean_member (o, "pex-enabled", s->enable_pex);
  json_object_set_boolean_member (o, "port-forwarding-enabled", FALSE);
  json_object_set_boolean_member (o, "queue-stalled-enabled", stall_enabled (s->stall_timeout_s));
  json_object_set_int_member (o, "queue-stalled-minutes", stall_enabled (s->stall_timeout_s)
                                                          ? MAX (s->stall_timeout_s / 60, 1) : self->stall_minutes);
  json_object_set_boolean_member (o, "rename-partial-files", FALSE);
  json_object_set_int_member (o, "rpc-version", RPC_VERSION);
  json_object_set_int_member (o, "rpc-version-minimum", RPC_VERSION_MINIMUM);
  json_object_set_string_member (o, "rpc-version-semver", RPC_VERSION_SEMVER);
  json_object_set_boolean_member (o, "script-torrent-added-enabled", FALSE);
  json_object_set_string_member (o, "script-torrent-added-filename", "");
  json_object_set_boolean_member (o, "script-torrent-done-enabled", FALSE);
  json_object_set_string_member (o, "script-torrent-done-filename", "");
  json_object_set_boolean_member (o, "script-torrent-done-seeding-enabled", FALSE);
  json_object_set_string_member (o, "script-torrent-done-seeding-filename", "");
  json_object_set_boolean_member (o, "seed-queue-enabled", s->max_active_seeds > 0);
  json_object_set_int_member (o, "seed-queue-size", s->max_active_seeds ? s->max_active_seeds : self->seed_queue);
  json_object_set_double_member (o, "seedRatioLimit", s->seed_ratio_limit > 0 ? s->seed_ratio_limit : self->seed_ratio);
  json_object_set_boolean_member (o, "seedRatioLimited", s->seed_ratio_limit > 0);
  json_object_set_string_member (o, "session-id", self->session_id);
  json_object_set_boolean_member (o, "speed-limit-down-enabled", s->download_limit > 0);
  json_object_set_int_member (o, "speed-limit-down",
                              (gint64) (s->download_limit ? kbps (s->download_limit) : self->speed_down_kbps));
  json_object_set_boolean_member (o, "speed-limit-up-enabled", s->upload_limit > 0);
  json_object_set_int_member (o, "speed-limit-up",
                              (gint64) (s->upload_limit ? kbps (s->upload_limit) : self->speed_up_kbps));
  json_object_set_boolean_member (o, "start-added-torrents", self->start_added);
  json_object_set_boolean_member (o, "trash-original-torrent-files", FALSE);
  json_object_set_array_member (u, "speed-units", units ("kB/s", "MB/s", "GB/s", "TB/s"));
  json_object_set_int_member (u, "speed-bytes", 1000);
  json_object_set_array_member (u, "size-units", units ("kB", "MB", "GB", "TB"));
  json_object_set_int_member (u, "size-bytes", 1000);
  json_object_set_array_member (u, "memory-units", units ("KiB", "MiB", "GiB", "TiB"));
  json_object_set_int_member (u, "memory-bytes", 1024);
  json_object_set_object_member (o, "units", u);
  json_object_set_boolean_member (o, "utp-enabled", FALSE);
  json_object_set_string_member (o, "version", "4.0.6 (" PACKAGE_NAME " " PACKAGE_VERSION ")");
}

void
_te_rpc_session_get (TeRpcCall *call)
{
  JsonArray *fields = _te_rpc_arg_array (call, "fields");
  g_autoptr(JsonObject) all = NULL;

  if (call->result)
    {
      _te_rpc_call_return (call);
      return;
    }
  if (fields == NULL || json_array_get_length (fields) == 0)
    {
      session_fill (call->rpc, call->out);
      _te_rpc_call_return (call);
      return;
    }
  all = json_object_new ();
  session_fill (call->rpc, all);
  for (guint i = 0; i < json_array_get_length (fields); i++)
    {
      JsonNode *node = json_array_get_element (fields, i);
      const char *name;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          _te_rpc_call_fail (call, "“fields” must hold field names");
          break;
        }
      name = json_node_get_string (node);
      if (json_object_has_member (all, name) && !json_object_has_member (call->out, name))
        json_object_set_member (call->out, name, json_object_dup_member (all, name));
    }
  _te_rpc_call_return (call);
}

static gboolean
in_range (TeRpcCall  *call,
          const char *key,
          gint64     *value,
          gint64      min,
          gint64      max)
{
  if (!_te_rpc_arg_int (call, key, value))
    return FALSE;
  if (*value < min || *value > max)
    {
      _te_rpc_call_fail (call, "“%s” must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                         key, min, max);
      return FALSE;
    }
  return TRUE;
}

/* The engine's bounds of @info, in units of @scale of its own (60 for
 * minutes of seconds), no larger than @cap: what @key may be. */
static gboolean
in_setting_range (TeRpcCall           *call,
                  const char          *key,
                  gint64              *value,
                  const TeSettingInfo *info,
                  guint64              scale,
                  guint64              cap)
{
  guint64 min = info->min / scale + (info->min % scale != 0);
  guint64 max = MIN (info->max / scale, cap);

  g_assert (max <= G_MAXINT64);
  return in_range (call, key, value, (gint64) min, (gint64) max);
}

/* Enabled or not, and the number to use when enabled; the engine stores 0
 * (for stalls, its longest timeout) for "off", so the number is remembered
 * here meanwhile. @current is 0 when off. */
static gboolean
toggle (TeRpcCall           *call,
        const char          *enabled_key,
        const char          *value_key,
        guint64              current,
        guint64             *remembered,
        const TeSettingInfo *info,
        guint64              scale,
        guint64              cap)
{
  gboolean enabled = current > 0;
  gint64 value;

  if (current > 0)
    *remembered = current;
  _te_rpc_arg_bool (call, enabled_key, &enabled);
  if (in_setting_range (call, value_key, &value, info, scale, cap))
    *remembered = (guint64) value;
  return enabled;
}

/* A limit of 0 kB/s stops all traffic in Transmission; the engine's 0 means
 * unlimited, so the nearest is one byte a second. */
static guint64
speed_limit (gboolean enabled,
             guint64  kb)
{
  return enabled ? MAX (kb * TE_RPC_SPEED_K, 1) : 0;
}

void
_te_rpc_session_set (TeRpcCall *call)
{
  TeTransmissionRpc *self = call->rpc;
  TeEngineSettings s = { 0 };
  gint64 value;
  double ratio;
  gboolean flag, ratio_limited;
  const char *dir = _te_rpc_arg_string (call, "download-dir");
  const char *incomplete = _te_rpc_arg_string (call, "incomplete-dir");

  te_engine_settings_copy (&s, te_engine_get_settings (self->engine));

  /* Folders must lie in the allowed roots (te_remote_path_check()), judged
   * by the settings as they were, so a new download folder cannot widen
   * them. The engine has no incomplete folder: the key is checked, as
   * Transmission would refuse it, and then ignored. */
  /* Clients send back what session-get gave them: an unchanged folder is no
   * change, whatever the roots. */
  if (g_strcmp0 (dir, s.download_path) == 0)
    dir = NULL;
  if (g_strcmp0 (incomplete, s.download_path) == 0)
    incomplete = NULL;
  if (dir && !g_path_is_absolute (dir))
    _te_rpc_call_fail (call, "download directory path is not absolute");
  else if (dir)
    {
      g_autoptr(GError) error = NULL;
      char *resolved = te_remote_path_check (te_engine_get_settings (self->engine), "download-dir", dir, &error);

      if (resolved == NULL)
        _te_rpc_call_fail (call, "%s", error->message);
      else
        {
          g_free (s.download_path);
          s.download_path = resolved;
        }
    }
  if (incomplete && call->result == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *resolved = te_remote_path_check (te_engine_get_settings (self->engine),
                                                        "incomplete-dir", incomplete, &error);

      if (resolved == NULL)
        _te_rpc_call_fail (call, "%s", error->message);
    }

  /* Speeds: kB/s here, bytes/s in the engine. */
  flag = toggle (call, "speed-limit-down-enabled", "speed-limit-down", kbps (s.download_limit),
                 &self->speed_down_kbps, setting ("downloadLimit"), TE_RPC_SPEED_K, MAX_SPEED_KBPS);
  s.download_limit = speed_limit (flag, self->speed_down_kbps);
  flag = toggle (call, "speed-limit-up-enabled", "speed-limit-up", kbps (s.upload_limit),
                 &self->speed_up_kbps, setting ("uploadLimit"), TE_RPC_SPEED_K, MAX_SPEED_KBPS);
  s.upload_limit = speed_limit (flag, self->speed_up_kbps);
  if (in_setting_range (call, "alt-speed-down", &value, setting ("altDownloadLimit"),
                        TE_RPC_SPEED_K, MAX_SPEED_KBPS))
    s.alt_download_limit = (guint64) value * TE_RPC_SPEED_K;
  if (in_setting_range (call, "alt-speed-up", &value, setting ("altUploadLimit"),
                        TE_RPC_SPEED_K, MAX_SPEED_KBPS))
    s.alt_upload_limit = (guint64) value * TE_RPC_SPEED_K;
  _te_rpc_arg_bool (call, "alt-speed-enabled", &s.alt_speed_enabled);

  /* Queues. */
  {
    guint64 downloads = self->download_queue, seeds = self->seed_queue, stall = self->stall_minutes;
    const TeSettingInfo *stall_info = setting ("stallTimeoutSeconds");

    flag = toggle (call, "download-queue-enabled", "download-queue-size", s.max_active_downloads,
                   &downloads, setting ("maxActiveDownloads"), 1, G_MAXUINT);
    self->download_queue = (guint) MAX (downloads, 1);
    s.max_active_downloads = flag ? self->download_queue : 0;
    flag = toggle (call, "seed-queue-enabled", "seed-queue-size", s.max_active_seeds,
                   &seeds, setting ("maxActiveSeeds"), 1, G_MAXUINT);
    self->seed_queue = (guint) MAX (seeds, 1);
    s.max_active_seeds = flag ? self->seed_queue : 0;
    flag = toggle (call, "queue-stalled-enabled", "queue-stalled-minutes",
                   stall_enabled (s.stall_timeout_s) ? MAX (s.stall_timeout_s / 60, 1) : 0,
                   &stall, stall_info, 60, G_MAXUINT / 60);
    self->stall_minutes = (guint) MAX (stall, 1);
    s.stall_timeout_s = flag ? self->stall_minutes * 60 : (guint) stall_info->max;
  }

  /* Seeding. */
  ratio_limited = s.seed_ratio_limit > 0;
  if (s.seed_ratio_limit > 0)
    self->seed_ratio = s.seed_ratio_limit;
  _te_rpc_arg_bool (call, "seedRatioLimited", &ratio_limited);
  if (_te_rpc_arg_double (call, "seedRatioLimit", &ratio))
    {
      g_autoptr(JsonNode) node = json_node_init_double (json_node_alloc (), ratio);
      g_autoptr(GError) error = NULL;

      /* The engine checks it; the value that counts is set just below. */
      if (te_engine_settings_set_json (&s, setting ("seedRatioLimit"), node, &error))
        self->seed_ratio = ratio;
      else
        _te_rpc_call_fail (call, "%s", error->message);
    }
  s.seed_ratio_limit = ratio_limited ? self->seed_ratio : 0;

  /* Peers. */
  if (in_setting_range (call, "peer-limit-global", &value, setting ("maxPeersGlobal"), 1, G_MAXUINT))
    s.max_peers_global = (guint) value;
  if (in_setting_range (call, "peer-limit-per-torrent", &value, setting ("maxPeersPerTorrent"), 1, G_MAXUINT))
    s.max_peers_per_torrent = (guint) value;
  if (in_setting_range (call, "peer-port", &value, setting ("listenPort"), 1, G_MAXUINT16))
    s.listen_port = (guint16) value;
  _te_rpc_arg_bool (call, "pex-enabled", &s.enable_pex);
  flag = self->start_added;
  _te_rpc_arg_bool (call, "start-added-torrents", &flag);

  if (call->result == NULL)
    {
      self->start_added = flag;
      te_engine_set_settings (self->engine, &s);
    }
  te_engine_settings_clear (&s);
  _te_rpc_call_return (call);
}

void
_te_rpc_session_stats (TeRpcCall *call)
{
  TeTransmissionRpc *self = call->rpc;
  GPtrArray *torrents = te_engine_get_torrents (self->engine);
  TeEngineStats stats;
  guint active = 0, paused = 0;
  gint64 seconds = g_get_real_time () / G_USEC_PER_SEC - self->created;

  te_engine_get_stats (self->engine, &stats);
  for (guint i = 0; i < torrents->len; i++)
    {
      if (_te_rpc_status (g_ptr_array_index (torrents, i)) == TE_RPC_STATUS_STOPPED)
        paused++;
      else
        active++;
    }
  json_object_set_int_member (call->out, "activeTorrentCount", active);
  json_object_set_int_member (call->out, "downloadSpeed", (gint64) stats.download_rate);
  json_object_set_int_member (call->out, "pausedTorrentCount", paused);
  json_object_set_int_member (call->out, "torrentCount", torrents->len);
  json_object_set_int_member (call->out, "uploadSpeed", (gint64) stats.upload_rate);
  /* The engine keeps no totals across runs: the cumulative figures are this
   * run's. */
  for (guint k = 0; k < 2; k++)
    {
      JsonObject *o = json_object_new ();

      json_object_set_int_member (o, "uploadedBytes", (gint64) stats.uploaded);
      json_object_set_int_member (o, "downloadedBytes", (gint64) stats.downloaded);
      json_object_set_int_member (o, "filesAdded", self->files_added);
      json_object_set_int_member (o, "sessionCount", 1);
      json_object_set_int_member (o, "secondsActive", MAX (seconds, 0));
      json_object_set_object_member (call->out, k ? "cumulative-stats" : "current-stats", o);
    }
  _te_rpc_call_return (call);
}

/* free-space: statfs on a worker, the disk may be slow or gone. */

static void
free_space_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  g_autoptr(GFile) file = g_file_new_for_path (task_data);
  GError *error = NULL;
  GFileInfo *info = g_file_query_filesystem_info (file, G_FILE_ATTRIBUTE_FILESYSTEM_FREE ","
                                                  G_FILE_ATTRIBUTE_FILESYSTEM_SIZE, cancellable, &error);

  if (info)
    g_task_return_pointer (task, info, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
free_space_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TeRpcCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_task_propagate_pointer (G_TASK (result), &error);

  if (info == NULL)
    {
      _te_rpc_call_fail (call, "%s", error->message);
      _te_rpc_call_return (call);
      return;
    }
  json_object_set_string_member (call->out, "path", g_task_get_task_data (G_TASK (result)));
  json_object_set_int_member (call->out, "size-bytes",
                              (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE));
  json_object_set_int_member (call->out, "total_size",
                              (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_SIZE));
  _te_rpc_call_return (call);
}

void
_te_rpc_free_space (TeRpcCall *call)
{
  const char *path = _te_rpc_arg_string (call, "path");
  g_autoptr(GTask) task = NULL;

  if (path == NULL && call->result == NULL)
    _te_rpc_call_fail (call, "“path” is required");
  if (path && !g_path_is_absolute (path))
    _te_rpc_call_fail (call, "directory path is not absolute");
  if (call->result)
    {
      _te_rpc_call_return (call);
      return;
    }
  task = g_task_new (NULL, NULL, free_space_cb, call);
  g_task_set_source_tag (task, _te_rpc_free_space);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, free_space_thread);
}

void
_te_rpc_port_test (TeRpcCall *call)
{
  /* Testing needs a host outside that connects back; there is none, so no
   * port-is-open is claimed either way. */
  _te_rpc_call_fail (call, "port-test is not supported: this server has no outside host to test "
                     "its peer port from");
  _te_rpc_call_return (call);
}

void
_te_rpc_session_close (TeRpcCall *call)
{
  gboolean handled = FALSE;

  g_signal_emit_by_name (call->rpc, "close-requested", &handled);
  if (!handled)
    _te_rpc_call_fail (call, "session-close is not supported: this server keeps running");
  _te_rpc_call_return (call);
}
