/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service-settings"

#include "config.h"

#include <string.h>

#include "te-api.h"
#include "te-remote-path.h"
#include "te-service-settings.h"

/* The names, kinds and bounds are the engine's (te_setting_info_list()); this
 * file only maps them to the REST API's bodies and status codes. */

/**
 * te_service_settings_to_json:
 * @settings: the settings to show
 *
 * Returns: (transfer full): every setting, by its API name
 */
JsonObject *
te_service_settings_to_json (const TeEngineSettings *settings)
{
  JsonObject *o = json_object_new ();
  const TeSettingInfo *infos;
  gsize n_infos;

  g_return_val_if_fail (settings != NULL, o);

  infos = te_setting_info_list (&n_infos);
  for (gsize i = 0; i < n_infos; i++)
    json_object_set_member (o, infos[i].json_name, te_engine_settings_get_json (settings, &infos[i]));
  return o;
}

static TeApiType
api_type (TeSettingKind kind)
{
  switch (kind)
    {
    case TE_SETTING_KIND_PATH:
      return TE_API_STRING;
    case TE_SETTING_KIND_BOOLEAN:
      return TE_API_BOOL;
    case TE_SETTING_KIND_DOUBLE:
      return TE_API_NUMBER;
    case TE_SETTING_KIND_UINT16:
    case TE_SETTING_KIND_UINT:
    case TE_SETTING_KIND_UINT64:
      return TE_API_INT;
    default:
      g_assert_not_reached ();
    }
}

/* Applies @object to a copy of @settings and, if all went well, the copy to
 * @settings. With @file set, values the engine refuses are skipped with a
 * warning instead: a settings.json written by an older build may hold a
 * value whose range has since narrowed, and that should not stop the daemon. */
static gboolean
apply_object (TeEngineSettings  *settings,
              JsonObject        *object,
              const char        *file,
              GError           **error)
{
  g_autofree TeApiField *fields = NULL;
  const TeSettingInfo *infos;
  TeEngineSettings copy;
  gsize n_infos;

  infos = te_setting_info_list (&n_infos);
  /* Zeroed, so the entry after the last is the end marker. */
  fields = g_new0 (TeApiField, n_infos + 1);
  for (gsize i = 0; i < n_infos; i++)
    {
      fields[i].name = infos[i].json_name;
      fields[i].type = api_type (infos[i].kind);
    }
  if (!te_api_check_fields (object, fields, error))
    return FALSE;

  te_engine_settings_copy (&copy, settings);
  for (gsize i = 0; i < n_infos; i++)
    {
      JsonNode *node = json_object_get_member (object, infos[i].json_name);
      g_autoptr(GError) local = NULL;

      if (node == NULL || te_engine_settings_set_json (&copy, &infos[i], node, &local))
        continue;
      if (file != NULL)
        {
          g_warning ("%s: ignoring %s", file, local->message);
          continue;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      te_engine_settings_clear (&copy);
      return FALSE;
    }
  te_engine_settings_clear (settings);
  *settings = copy;
  return TRUE;
}

/**
 * te_service_settings_apply_json:
 * @settings: the settings to change
 * @object: a body naming settings by their API names
 * @error: return location for a #GError
 *
 * Applies the members of @object to @settings. All or nothing: on error
 * @settings is unchanged. Unknown names and values of the wrong type are
 * rejected with %TE_API_ERROR_BAD_REQUEST (400); values the engine does not
 * allow with the engine's %TE_SETTINGS_ERROR_INVALID (422), whose message
 * names the setting, the value and the allowed range. A download folder
 * outside the allowed roots (te_remote_path_check()) and any attempt to set
 * `allowedPaths` are refused with %TE_API_ERROR_FORBIDDEN (403).
 *
 * Returns: `TRUE` if every member was applied
 */
gboolean
te_service_settings_apply_json (TeEngineSettings  *settings,
                                JsonObject        *object,
                                GError           **error)
{
  TeEngineSettings changed;
  g_autofree char *resolved = NULL;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (object != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* The roots are the server's to set: a client that could widen them
   * could write anywhere. */
  if (json_object_has_member (object, "allowedPaths"))
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_FORBIDDEN,
                           "“allowedPaths” cannot be changed through the remote API; set it on the "
                           "server (ALLOWED_PATHS, or the allowed-paths key)");
      return FALSE;
    }
  te_engine_settings_copy (&changed, settings);
  if (!apply_object (&changed, object, NULL, error))
    {
      te_engine_settings_clear (&changed);
      return FALSE;
    }
  /* A new download folder must lie in the current roots, which are the
   * download folder itself unless allowed-paths names others. */
  if (g_strcmp0 (changed.download_path, settings->download_path) != 0)
    {
      resolved = te_remote_path_check (settings, "downloadPath", changed.download_path, error);
      if (resolved == NULL)
        {
          te_engine_settings_clear (&changed);
          return FALSE;
        }
      g_free (changed.download_path);
      changed.download_path = g_steal_pointer (&resolved);
    }
  te_engine_settings_clear (settings);
  *settings = changed;
  return TRUE;
}

/**
 * te_service_settings_load_file:
 * @settings: the settings to change
 * @path: a settings.json
 * @error: return location for a #GError
 *
 * Applies a settings.json written by te_service_settings_save_file(). A
 * missing file is not an error; a value outside the range this build allows
 * keeps the current one, with a warning.
 *
 * Returns: `TRUE` unless the file cannot be read, is not a JSON object of
 *   known settings of the right types
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

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  object = te_api_parse_object ("application/json", data, len, error);
  if (object == NULL || !apply_object (settings, object, path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_service_settings_save_file:
 * @settings: the settings to write
 * @path: where to write them
 * @error: return location for a #GError
 *
 * Writes @settings atomically (a temporary file renamed over @path).
 *
 * Returns: `TRUE` if the file was written
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
