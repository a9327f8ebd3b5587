/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service-settings"

#include "config.h"

#include <stddef.h>
#include <string.h>

#include "te-api.h"
#include "te-service-settings.h"

typedef enum {
  KIND_PATH,
  KIND_PORT,
  KIND_UINT,
  KIND_UINT64,
  KIND_RATIO,
  KIND_BOOL,
} Kind;

/* Every field of TeEngineSettings, with its JSON name and bounds. */
static const struct {
  const char *name;
  Kind        kind;
  gsize       offset;
  guint64     min;
  guint64     max;
} keys[] = {
  { "downloadPath", KIND_PATH, offsetof (TeEngineSettings, download_path), 0, 0 },
  { "listenPort", KIND_PORT, offsetof (TeEngineSettings, listen_port), 0, 65535 },
  { "maxActiveDownloads", KIND_UINT, offsetof (TeEngineSettings, max_active_downloads), 0, 10000 },
  { "maxActiveSeeds", KIND_UINT, offsetof (TeEngineSettings, max_active_seeds), 0, 10000 },
  { "maxPeersPerTorrent", KIND_UINT, offsetof (TeEngineSettings, max_peers_per_torrent), 1, 10000 },
  { "maxPeersGlobal", KIND_UINT, offsetof (TeEngineSettings, max_peers_global), 1, 100000 },
  { "maxPerIp", KIND_UINT, offsetof (TeEngineSettings, max_per_ip), 1, 1000 },
  { "downloadLimit", KIND_UINT64, offsetof (TeEngineSettings, download_limit), 0, G_MAXINT64 },
  { "uploadLimit", KIND_UINT64, offsetof (TeEngineSettings, upload_limit), 0, G_MAXINT64 },
  { "seedRatioLimit", KIND_RATIO, offsetof (TeEngineSettings, seed_ratio_limit), 0, 1000000 },
  { "seedTimeLimitMs", KIND_UINT64, offsetof (TeEngineSettings, seed_time_limit_ms), 0, G_MAXINT64 },
  { "autoResume", KIND_BOOL, offsetof (TeEngineSettings, auto_resume), 0, 0 },
  { "verifyOnResume", KIND_BOOL, offsetof (TeEngineSettings, verify_on_resume), 0, 0 },
  { "stateSaveIntervalMs", KIND_UINT, offsetof (TeEngineSettings, state_save_interval_ms), 1000, 86400000 },
  { "maxPieceRetries", KIND_UINT, offsetof (TeEngineSettings, max_piece_retries), 1, 1000 },
  { "maxPeerFailuresPerPiece", KIND_UINT, offsetof (TeEngineSettings, max_peer_failures_per_piece), 1, 1000 },
  { "peerReconnectDelayMs", KIND_UINT, offsetof (TeEngineSettings, peer_reconnect_delay_ms), 0, 86400000 },
  { "peerBanDurationMs", KIND_UINT64, offsetof (TeEngineSettings, peer_ban_duration_ms), 0, G_MAXINT64 },
  { "stallTimeoutSeconds", KIND_UINT, offsetof (TeEngineSettings, stall_timeout_s), 0, 86400 },
  { "enablePex", KIND_BOOL, offsetof (TeEngineSettings, enable_pex), 0, 0 },
  { "altSpeedEnabled", KIND_BOOL, offsetof (TeEngineSettings, alt_speed_enabled), 0, 0 },
  { "altDownloadLimit", KIND_UINT64, offsetof (TeEngineSettings, alt_download_limit), 0, G_MAXINT64 },
  { "altUploadLimit", KIND_UINT64, offsetof (TeEngineSettings, alt_upload_limit), 0, G_MAXINT64 },
};

#define FIELD(s, i, type) ((type *) ((guint8 *) (s) + keys[i].offset))

/**
 * te_service_settings_to_json:
 *
 * Returns: (transfer full): every setting, by its API name
 */
JsonObject *
te_service_settings_to_json (const TeEngineSettings *settings)
{
  JsonObject *o = json_object_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    switch (keys[i].kind)
      {
      case KIND_PATH:
        json_object_set_string_member (o, keys[i].name, *FIELD (settings, i, char *) ? *FIELD (settings, i, char *) : "");
        break;
      case KIND_PORT:
        json_object_set_int_member (o, keys[i].name, *FIELD (settings, i, guint16));
        break;
      case KIND_UINT:
        json_object_set_int_member (o, keys[i].name, *FIELD (settings, i, guint));
        break;
      case KIND_UINT64:
        json_object_set_int_member (o, keys[i].name, (gint64) MIN (*FIELD (settings, i, guint64), (guint64) G_MAXINT64));
        break;
      case KIND_RATIO:
        json_object_set_double_member (o, keys[i].name, *FIELD (settings, i, double));
        break;
      case KIND_BOOL:
        json_object_set_boolean_member (o, keys[i].name, *FIELD (settings, i, gboolean));
        break;
      default:
        g_assert_not_reached ();
      }
  return o;
}

/**
 * te_service_settings_apply_json:
 *
 * Applies the members of @object to @settings. All or nothing: on error
 * @settings is unchanged. Unknown names are rejected (400), values out of
 * range too (422).
 */
gboolean
te_service_settings_apply_json (TeEngineSettings  *settings,
                                JsonObject        *object,
                                GError           **error)
{
  TeApiField fields[G_N_ELEMENTS (keys) + 1];
  TeEngineSettings copy;

  memset (fields, 0, sizeof fields);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      fields[i].name = keys[i].name;
      fields[i].type = keys[i].kind == KIND_PATH ? TE_API_STRING
                       : keys[i].kind == KIND_BOOL ? TE_API_BOOL
                       : keys[i].kind == KIND_RATIO ? TE_API_NUMBER : TE_API_INT;
    }
  if (!te_api_check_fields (object, fields, error))
    return FALSE;

  te_engine_settings_copy (&copy, settings);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const char *name = keys[i].name;
      guint64 v;
      double r;

      if (!json_object_has_member (object, name))
        continue;
      switch (keys[i].kind)
        {
        case KIND_PATH:
          {
            const char *path = json_object_get_string_member (object, name);

            if (!g_path_is_absolute (path))
              {
                g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be an absolute path", name);
                goto failed;
              }
            g_free (*FIELD (&copy, i, char *));
            *FIELD (&copy, i, char *) = g_strdup (path);
          }
          break;
        case KIND_BOOL:
          *FIELD (&copy, i, gboolean) = json_object_get_boolean_member (object, name);
          break;
        case KIND_RATIO:
          r = json_object_get_double_member (object, name);
          if (!(r >= keys[i].min && r <= keys[i].max))
            {
              g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be between %" G_GUINT64_FORMAT
                           " and %" G_GUINT64_FORMAT, name, keys[i].min, keys[i].max);
              goto failed;
            }
          *FIELD (&copy, i, double) = r;
          break;
        default:
          if (!te_api_get_uint (object, name, keys[i].max, &v, error))
            goto failed;
          if (v < keys[i].min)
            {
              g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be between %" G_GUINT64_FORMAT
                           " and %" G_GUINT64_FORMAT, name, keys[i].min, keys[i].max);
              goto failed;
            }
          if (keys[i].kind == KIND_PORT)
            *FIELD (&copy, i, guint16) = (guint16) v;
          else if (keys[i].kind == KIND_UINT)
            *FIELD (&copy, i, guint) = (guint) v;
          else
            *FIELD (&copy, i, guint64) = v;
          break;
        }
    }
  te_engine_settings_clear (settings);
  *settings = copy;
  return TRUE;

failed:
  te_engine_settings_clear (&copy);
  return FALSE;
}

/**
 * te_service_settings_load_file:
 *
 * Applies a settings.json written by te_service_settings_save_file(). A
 * missing file is not an error.
 */
gboolean
te_service_settings_load_file (TeEngineSettings  *settings,
                               const char        *path,
                               GError           **error)
{
  g_autofree char *data = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  object = te_api_parse_object ("application/json", data, len, error);
  if (object == NULL || !te_service_settings_apply_json (settings, object, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_service_settings_save_file:
 *
 * Writes @settings atomically (a temporary file renamed over @path).
 */
gboolean
te_service_settings_save_file (const TeEngineSettings  *settings,
                               const char              *path,
                               GError                 **error)
{
  g_autoptr(JsonObject) object = te_service_settings_to_json (settings);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *data = NULL;
  gsize len;

  json_node_set_object (root, object);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  data = json_generator_to_data (gen, &len);
  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}
