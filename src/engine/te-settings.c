/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-settings"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "te-settings.h"

G_DEFINE_QUARK (te-settings-error-quark, te_settings_error)

/* The GSettings type of each kind's key, indexed by TeSettingKind. */
static const char * const kind_types[] = { "s", "q", "u", "t", "d", "b" };
G_STATIC_ASSERT (G_N_ELEMENTS (kind_types) == TE_SETTING_KIND_BOOLEAN + 1);

#define FIELD(f) G_STRUCT_OFFSET (TeEngineSettings, f)
#define KIND(k) TE_SETTING_KIND_##k

/* The one list of what can be configured: both loaders and the remote API
 * walk it, and the schema in data/ has exactly the keys named here with
 * these ranges (tests/test-settings.c checks it). A new setting is a field in
 * TeEngineSettings, a default in te_engine_settings_init() and a row here. */
static const TeSettingInfo settings_table[] = {
  { "DOWNLOAD_PATH", "download-path", "downloadPath",
    FIELD (download_path), KIND (PATH), 0, 0, NULL },
  { "LISTEN_PORT", "listen-port", "listenPort",
    FIELD (listen_port), KIND (UINT16), 0, G_MAXUINT16, NULL },
  { "MAX_CONCURRENT_TORRENTS", "max-concurrent-torrents", "maxActiveDownloads",
    FIELD (max_active_downloads), KIND (UINT), 0, 10000, NULL },
  { "MAX_ACTIVE_SEEDS", "max-active-seeds", "maxActiveSeeds",
    FIELD (max_active_seeds), KIND (UINT), 0, 100000, NULL },
  { "MAX_PEER_CONNECTIONS", "max-peer-connections", "maxPeersPerTorrent",
    FIELD (max_peers_per_torrent), KIND (UINT), 1, 10000, NULL },
  { "MAX_GLOBAL_PEER_CONNECTIONS", "max-global-peer-connections", "maxPeersGlobal",
    FIELD (max_peers_global), KIND (UINT), 1, 100000, NULL },
  /* Set only through the remote API: it has no variable or key. */
  { NULL, NULL, "maxPerIp",
    FIELD (max_per_ip), KIND (UINT), 1, 1000, NULL },
  { "UPLOAD_LIMIT", "upload-limit", "uploadLimit",
    FIELD (upload_limit), KIND (UINT64), 0, G_MAXUINT64, "bytes per second" },
  { "DOWNLOAD_LIMIT", "download-limit", "downloadLimit",
    FIELD (download_limit), KIND (UINT64), 0, G_MAXUINT64, "bytes per second" },
  { "SEED_RATIO_LIMIT", "seed-ratio-limit", "seedRatioLimit",
    FIELD (seed_ratio_limit), KIND (DOUBLE), 0, 0, NULL },
  { "SEED_TIME_LIMIT", "seed-time-limit", "seedTimeLimitMs",
    FIELD (seed_time_limit_ms), KIND (UINT64), 0, G_MAXUINT64, "milliseconds" },
  { "AUTO_RESUME", "auto-resume", "autoResume",
    FIELD (auto_resume), KIND (BOOLEAN), 0, 0, NULL },
  { "VERIFY_ON_RESUME", "verify-on-resume", "verifyOnResume",
    FIELD (verify_on_resume), KIND (BOOLEAN), 0, 0, NULL },
  { "STATE_SAVE_INTERVAL", "state-save-interval", "stateSaveIntervalMs",
    FIELD (state_save_interval_ms), KIND (UINT), 100, 86400000, "milliseconds" },
  { "MAX_PIECE_RETRIES", "max-piece-retries", "maxPieceRetries",
    FIELD (max_piece_retries), KIND (UINT), 1, 1000, NULL },
  { "MAX_PEER_FAILURES_PER_PIECE", "max-peer-failures-per-piece", "maxPeerFailuresPerPiece",
    FIELD (max_peer_failures_per_piece), KIND (UINT), 1, 1000, NULL },
  { "PEER_RECONNECT_DELAY", "peer-reconnect-delay", "peerReconnectDelayMs",
    FIELD (peer_reconnect_delay_ms), KIND (UINT), 0, 86400000, "milliseconds" },
  { "PEER_BAN_DURATION", "peer-ban-duration", "peerBanDurationMs",
    FIELD (peer_ban_duration_ms), KIND (UINT64), 0, G_MAXUINT64, "milliseconds" },
  { "QUEUE_STALL_TIMEOUT", "queue-stall-timeout", "stallTimeoutSeconds",
    FIELD (stall_timeout_s), KIND (UINT), 1, 604800, "seconds" },
  { "ENABLE_PEX", "enable-pex", "enablePex",
    FIELD (enable_pex), KIND (BOOLEAN), 0, 0, NULL },
  { "ALT_SPEED_ENABLED", "alt-speed-enabled", "altSpeedEnabled",
    FIELD (alt_speed_enabled), KIND (BOOLEAN), 0, 0, NULL },
  { "ALT_DOWNLOAD_LIMIT", "alt-download-limit", "altDownloadLimit",
    FIELD (alt_download_limit), KIND (UINT64), 0, G_MAXUINT64, "bytes per second" },
  { "ALT_UPLOAD_LIMIT", "alt-upload-limit", "altUploadLimit",
    FIELD (alt_upload_limit), KIND (UINT64), 0, G_MAXUINT64, "bytes per second" },
};

#undef KIND

/* A JSON value shown in an error message is cut to this many characters. */
#define MAX_SHOWN_CHARS 64

/* A parsed value; which member is set follows the setting's kind. */
typedef union {
  char     *path;     /* owned until store() takes it */
  guint64   uint;
  double    number;
  gboolean  boolean;
} Value;

static const char * const true_words[] = { "true", "1", "yes", "on" };
static const char * const false_words[] = { "false", "0", "no", "off" };

/**
 * te_setting_info_list:
 * @n_infos: (out): return location for the number of settings
 *
 * Lists every configurable field of [struct@EngineSettings], in the order the
 * remote API and the schema present them.
 *
 * Returns: (array length=n_infos) (transfer none): the engine's table of
 *   settings, valid for the life of the program
 */
const TeSettingInfo *
te_setting_info_list (gsize *n_infos)
{
  g_return_val_if_fail (n_infos != NULL, NULL);

  *n_infos = G_N_ELEMENTS (settings_table);
  return settings_table;
}

/**
 * te_setting_info_find:
 * @json_name: a setting's name in the remote API, such as `maxActiveSeeds`
 *
 * Looks a setting up by [struct@SettingInfo]'s @json_name.
 *
 * Returns: (nullable) (transfer none): the setting, or `NULL` if there is none
 *   of that name
 */
const TeSettingInfo *
te_setting_info_find (const char *json_name)
{
  g_return_val_if_fail (json_name != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (settings_table); i++)
    if (g_str_equal (settings_table[i].json_name, json_name))
      return &settings_table[i];
  return NULL;
}

static gboolean
is_table_entry (const TeSettingInfo *info)
{
  return info >= settings_table && info < settings_table + G_N_ELEMENTS (settings_table);
}

/**
 * te_engine_settings_init:
 * @settings: uninitialised settings
 *
 * Fills @settings with the defaults, which match the GSettings schema's.
 * Release it with [func@engine_settings_clear].
 */
void
te_engine_settings_init (TeEngineSettings *settings)
{
  const char *downloads;

  g_return_if_fail (settings != NULL);

  memset (settings, 0, sizeof *settings);

  downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  if (downloads != NULL)
    settings->download_path = g_strdup (downloads);
  else
    settings->download_path = g_build_filename (g_get_home_dir (), "Downloads", NULL);

  settings->listen_port = 51413;
  settings->max_active_downloads = 3;
  settings->max_active_seeds = 0;
  settings->max_peers_per_torrent = 50;
  settings->max_peers_global = 500;
  settings->max_per_ip = 3;
  settings->download_limit = 0;
  settings->upload_limit = 0;
  settings->seed_ratio_limit = 2.0;
  settings->seed_time_limit_ms = 0;
  settings->auto_resume = TRUE;
  settings->verify_on_resume = FALSE;
  settings->state_save_interval_ms = 30000;
  settings->max_piece_retries = 10;
  settings->max_peer_failures_per_piece = 3;
  settings->peer_reconnect_delay_ms = 5000;
  settings->peer_ban_duration_ms = 3600000;
  settings->stall_timeout_s = 600;
  settings->enable_pex = TRUE;
  settings->alt_speed_enabled = FALSE;
  settings->alt_download_limit = 51200;
  settings->alt_upload_limit = 51200;
}

/**
 * te_engine_settings_clear:
 * @settings: settings filled by [func@engine_settings_init] or [func@engine_settings_copy]
 *
 * Frees what @settings owns. Clearing twice is harmless.
 */
void
te_engine_settings_clear (TeEngineSettings *settings)
{
  g_return_if_fail (settings != NULL);

  g_clear_pointer (&settings->download_path, g_free);
  g_clear_pointer (&settings->allowed_paths, g_strfreev);
}

/**
 * te_engine_settings_copy:
 * @dest: uninitialised or cleared settings
 * @src: the settings to copy
 *
 * Makes @dest a deep copy of @src; release it with [func@engine_settings_clear].
 */
void
te_engine_settings_copy (TeEngineSettings       *dest,
                         const TeEngineSettings *src)
{
  g_return_if_fail (dest != NULL);
  g_return_if_fail (src != NULL);

  *dest = *src;
  dest->download_path = g_strdup (src->download_path);
  dest->allowed_paths = g_strdupv (src->allowed_paths);
}

/* "~" and "~/…" name the home folder; anything else must already be absolute.
 * Returns NULL for a relative path. */
static char *
expand_path (const char *text)
{
  if (g_str_equal (text, "~"))
    return g_strdup (g_get_home_dir ());
  if (g_str_has_prefix (text, "~/"))
    return g_build_filename (g_get_home_dir (), text + 2, NULL);
  if (g_path_is_absolute (text))
    return g_strdup (text);
  return NULL;
}

/* ALLOWED_PATHS and the allowed-paths key: a list of folders, not a row of
 * the table, since the remote API must neither set nor show it. Empty
 * entries are skipped; *out is NULL for an empty list. Returns the first
 * entry that is not absolute, or NULL. */
static const char *
expand_path_list (const char * const  *texts,
                  char              ***out)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  *out = NULL;
  for (gsize i = 0; texts[i] != NULL; i++)
    {
      char *path;

      if (texts[i][0] == '\0')
        continue;
      path = expand_path (texts[i]);
      if (path == NULL)
        return texts[i];
      g_ptr_array_add (paths, path);
    }
  if (paths->len == 0)
    return NULL;
  g_ptr_array_add (paths, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
  return NULL;
}

static gboolean
parse_boolean (const char *text,
               gboolean   *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (true_words); i++)
    {
      if (g_ascii_strcasecmp (text, true_words[i]) == 0)
        {
          *out = TRUE;
          return TRUE;
        }
      if (g_ascii_strcasecmp (text, false_words[i]) == 0)
        {
          *out = FALSE;
          return TRUE;
        }
    }
  return FALSE;
}

/* g_ascii_strtod() skips leading space and takes "nan", "inf" and a prefix;
 * a setting should be the whole text and a finite amount. */
static gboolean
parse_number (const char *text,
              double     *out)
{
  char *end = NULL;
  double d;

  if (g_ascii_isspace (text[0]))
    return FALSE;
  errno = 0;
  d = g_ascii_strtod (text, &end);
  if (errno != 0 || end == text || *end != '\0' || !isfinite (d) || d < 0)
    return FALSE;
  *out = d;
  return TRUE;
}

/* What a valid value looks like, for error messages. */
static char *
describe_expected (const TeSettingInfo *s)
{
  g_autofree char *what = NULL;

  switch (s->kind)
    {
    case TE_SETTING_KIND_PATH:
      return g_strdup ("an absolute path (or one starting with “~/”)");
    case TE_SETTING_KIND_BOOLEAN:
      return g_strdup ("true or false (or yes/no, on/off, 1/0)");
    case TE_SETTING_KIND_DOUBLE:
      return g_strdup ("a number of 0 or more");
    case TE_SETTING_KIND_UINT16:
    case TE_SETTING_KIND_UINT:
    case TE_SETTING_KIND_UINT64:
      if (s->min == 0 && s->max == G_MAXUINT64)
        what = g_strdup ("a whole number");
      else
        what = g_strdup_printf ("a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                                s->min, s->max);
      if (s->unit != NULL)
        return g_strdup_printf ("%s (%s)", what, s->unit);
      return g_steal_pointer (&what);
    default:
      g_assert_not_reached ();
    }
}

static gboolean
parse_env_value (const TeSettingInfo *s,
                 const char    *text,
                 Value         *out,
                 GError       **error)
{
  g_autofree char *expected = NULL;
  g_autofree char *shown = NULL;
  gboolean ok = FALSE;

  switch (s->kind)
    {
    case TE_SETTING_KIND_PATH:
      out->path = expand_path (text);
      ok = out->path != NULL;
      break;
    case TE_SETTING_KIND_UINT16:
    case TE_SETTING_KIND_UINT:
    case TE_SETTING_KIND_UINT64:
      ok = g_ascii_string_to_unsigned (text, 10, s->min, s->max, &out->uint, NULL);
      break;
    case TE_SETTING_KIND_DOUBLE:
      ok = parse_number (text, &out->number);
      break;
    case TE_SETTING_KIND_BOOLEAN:
      ok = parse_boolean (text, &out->boolean);
      break;
    default:
      g_assert_not_reached ();
    }
  if (ok)
    return TRUE;

  /* The environment is not guaranteed to be UTF-8; messages are. */
  shown = g_utf8_make_valid (text, -1);
  expected = describe_expected (s);
  g_set_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID,
               "%s: “%s” is not %s", s->env, shown, expected);
  return FALSE;
}

/* Takes out->path for TE_SETTING_KIND_PATH. The value has been range-checked. */
static void
store (TeEngineSettings *settings,
       const TeSettingInfo    *s,
       Value            *value)
{
  gpointer field = G_STRUCT_MEMBER_P (settings, s->offset);

  switch (s->kind)
    {
    case TE_SETTING_KIND_PATH:
      g_free (*(char **) field);
      *(char **) field = g_steal_pointer (&value->path);
      break;
    case TE_SETTING_KIND_UINT16:
      g_assert (value->uint <= G_MAXUINT16);
      *(guint16 *) field = (guint16) value->uint;
      break;
    case TE_SETTING_KIND_UINT:
      g_assert (value->uint <= G_MAXUINT);
      *(guint *) field = (guint) value->uint;
      break;
    case TE_SETTING_KIND_UINT64:
      *(guint64 *) field = value->uint;
      break;
    case TE_SETTING_KIND_DOUBLE:
      *(double *) field = value->number;
      break;
    case TE_SETTING_KIND_BOOLEAN:
      *(gboolean *) field = value->boolean;
      break;
    default:
      g_assert_not_reached ();
    }
}

/**
 * te_engine_settings_apply_environment:
 * @settings: settings to update
 * @envp: (nullable) (array zero-terminated=1): an environment, as from g_get_environ()
 * @error: return location for a #GError
 *
 * Overrides @settings with the variables set in @envp (`DOWNLOAD_PATH`,
 * `MAX_CONCURRENT_TORRENTS`, `LISTEN_PORT`, …). Unset or empty variables keep
 * the current value. Apply this after [func@engine_settings_apply_gsettings]
 * so the environment wins.
 *
 * Returns: `TRUE` on success; `FALSE` with %TE_SETTINGS_ERROR_INVALID naming
 *   the first bad variable, in which case @settings is unchanged
 */
gboolean
te_engine_settings_apply_environment (TeEngineSettings   *settings,
                                      const char * const *envp,
                                      GError            **error)
{
  TeEngineSettings staged;
  const char *text;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Nothing lands in @settings until every variable has parsed. */
  te_engine_settings_copy (&staged, settings);
  for (gsize i = 0; i < G_N_ELEMENTS (settings_table); i++)
    {
      const TeSettingInfo *s = &settings_table[i];
      const char *text;
      Value value;

      if (s->env == NULL)
        continue;
      text = g_environ_getenv ((char **) envp, s->env);
      if (text == NULL || text[0] == '\0')
        continue;
      if (!parse_env_value (s, text, &value, error))
        {
          te_engine_settings_clear (&staged);
          return FALSE;
        }
      store (&staged, s, &value);
    }

  text = g_environ_getenv ((char **) envp, "ALLOWED_PATHS");
  if (text != NULL && text[0] != '\0')
    {
      g_auto(GStrv) parts = g_strsplit (text, G_SEARCHPATH_SEPARATOR_S, -1);
      char **paths = NULL;
      const char *bad = expand_path_list ((const char * const *) parts, &paths);

      if (bad != NULL)
        {
          g_autofree char *shown = g_utf8_make_valid (bad, -1);

          g_set_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID,
                       "ALLOWED_PATHS: “%s” is not an absolute path (or one starting with “~/”)", shown);
          te_engine_settings_clear (&staged);
          return FALSE;
        }
      g_strfreev (staged.allowed_paths);
      staged.allowed_paths = paths;
    }

  te_engine_settings_clear (settings);
  *settings = staged;
  return TRUE;
}

/* The schema's ranges make bad values unlikely, but a path can still be
 * relative and an installed schema can be older or newer than this table.
 * Returns FALSE to keep the current value. */
static gboolean
read_gsettings_value (const TeSettingInfo *s,
                      GVariant      *variant,
                      Value         *out)
{
  switch (s->kind)
    {
    case TE_SETTING_KIND_PATH:
      {
        const char *text = g_variant_get_string (variant, NULL);

        /* Empty means the default, the XDG Downloads folder. */
        if (text[0] == '\0')
          return FALSE;
        out->path = expand_path (text);
        if (out->path == NULL)
          {
            g_warning ("Ignoring %s “%s”: not an absolute path", s->key, text);
            return FALSE;
          }
        return TRUE;
      }
    case TE_SETTING_KIND_UINT16:
      out->uint = g_variant_get_uint16 (variant);
      break;
    case TE_SETTING_KIND_UINT:
      out->uint = g_variant_get_uint32 (variant);
      break;
    case TE_SETTING_KIND_UINT64:
      out->uint = g_variant_get_uint64 (variant);
      break;
    case TE_SETTING_KIND_DOUBLE:
      out->number = g_variant_get_double (variant);
      if (!isfinite (out->number) || out->number < 0)
        {
          g_warning ("Ignoring %s %g: not a number of 0 or more", s->key, out->number);
          return FALSE;
        }
      return TRUE;
    case TE_SETTING_KIND_BOOLEAN:
      out->boolean = g_variant_get_boolean (variant);
      return TRUE;
    default:
      g_assert_not_reached ();
    }

  if (out->uint < s->min || out->uint > s->max)
    {
      g_warning ("Ignoring %s %" G_GUINT64_FORMAT ": outside %" G_GUINT64_FORMAT
                 "–%" G_GUINT64_FORMAT, s->key, out->uint, s->min, s->max);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_engine_settings_apply_gsettings:
 * @settings: settings to update
 * @gsettings: a #GSettings for %TE_SETTINGS_SCHEMA_ID
 *
 * Reads every key of the schema into @settings. An empty `download-path`
 * keeps the current path.
 */
void
te_engine_settings_apply_gsettings (TeEngineSettings *settings,
                                    GSettings        *gsettings)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  g_return_if_fail (settings != NULL);
  g_return_if_fail (G_IS_SETTINGS (gsettings));

  g_object_get (gsettings, "settings-schema", &schema, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (settings_table); i++)
    {
      const TeSettingInfo *s = &settings_table[i];
      g_autoptr(GVariant) variant = NULL;
      Value value;

      /* An installed schema older than this build lacks the newer keys. */
      if (s->key == NULL || !g_settings_schema_has_key (schema, s->key))
        continue;
      variant = g_settings_get_value (gsettings, s->key);
      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE (kind_types[s->kind])))
        {
          g_critical ("Key %s has type %s, expected %s", s->key,
                      g_variant_get_type_string (variant), kind_types[s->kind]);
          continue;
        }
      if (read_gsettings_value (s, variant, &value))
        store (settings, s, &value);
    }

  if (g_settings_schema_has_key (schema, "allowed-paths"))
    {
      g_auto(GStrv) texts = g_settings_get_strv (gsettings, "allowed-paths");
      char **paths = NULL;
      const char *bad = expand_path_list ((const char * const *) texts, &paths);

      if (bad != NULL)
        g_warning ("Ignoring allowed-paths: “%s” is not an absolute path", bad);
      else
        {
          g_strfreev (settings->allowed_paths);
          settings->allowed_paths = paths;
        }
    }
}

/**
 * te_engine_settings_get_json:
 * @settings: the settings to read
 * @info: a setting from [func@setting_info_list]
 *
 * Reads one setting as the remote API shows it: a path as a string (empty
 * when unset), a number or a boolean. JSON integers are signed 64-bit, so a
 * 64-bit field above `G_MAXINT64` reads as `G_MAXINT64`.
 *
 * Returns: (transfer full): the value of @info in @settings
 */
JsonNode *
te_engine_settings_get_json (const TeEngineSettings *settings,
                             const TeSettingInfo    *info)
{
  gconstpointer field;
  JsonNode *node;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (info != NULL && is_table_entry (info), NULL);

  field = G_STRUCT_MEMBER_P (settings, info->offset);
  node = json_node_alloc ();
  switch (info->kind)
    {
    case TE_SETTING_KIND_PATH:
      {
        const char *path = *(char * const *) field;

        return json_node_init_string (node, path != NULL ? path : "");
      }
    case TE_SETTING_KIND_UINT16:
      return json_node_init_int (node, *(const guint16 *) field);
    case TE_SETTING_KIND_UINT:
      return json_node_init_int (node, *(const guint *) field);
    case TE_SETTING_KIND_UINT64:
      return json_node_init_int (node, (gint64) MIN (*(const guint64 *) field, (guint64) G_MAXINT64));
    case TE_SETTING_KIND_DOUBLE:
      return json_node_init_double (node, *(const double *) field);
    case TE_SETTING_KIND_BOOLEAN:
      return json_node_init_boolean (node, *(const gboolean *) field);
    default:
      g_assert_not_reached ();
    }
}

/* FALSE when @node is not a value of @s's kind within its bounds. */
static gboolean
read_json_value (const TeSettingInfo *s,
                 JsonNode            *node,
                 Value               *out)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  gint64 n;

  switch (s->kind)
    {
    case TE_SETTING_KIND_PATH:
      if (type != G_TYPE_STRING)
        return FALSE;
      out->path = expand_path (json_node_get_string (node));
      return out->path != NULL;
    case TE_SETTING_KIND_UINT16:
    case TE_SETTING_KIND_UINT:
    case TE_SETTING_KIND_UINT64:
      if (type != G_TYPE_INT64)
        return FALSE;
      n = json_node_get_int (node);
      if (n < 0 || (guint64) n < s->min || (guint64) n > s->max)
        return FALSE;
      out->uint = (guint64) n;
      return TRUE;
    case TE_SETTING_KIND_DOUBLE:
      if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
        return FALSE;
      out->number = json_node_get_double (node);
      return isfinite (out->number) && out->number >= 0;
    case TE_SETTING_KIND_BOOLEAN:
      if (type != G_TYPE_BOOLEAN)
        return FALSE;
      out->boolean = json_node_get_boolean (node);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

/* @node as JSON text, cut short: it can be any size a client sent. */
static char *
show_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  if (g_utf8_strlen (text, -1) <= MAX_SHOWN_CHARS)
    return g_steal_pointer (&text);
  {
    g_autofree char *head = g_utf8_substring (text, 0, MAX_SHOWN_CHARS - 1);

    return g_strconcat (head, "…", NULL);
  }
}

/**
 * te_engine_settings_set_json:
 * @settings: the settings to change
 * @info: a setting from [func@setting_info_list]
 * @node: the new value, as the remote API names it
 * @error: return location for a #GError
 *
 * Sets one setting from a JSON value, after checking it as the environment
 * is checked: a path must be absolute (or start with `~/`), an integer must
 * be within @info's bounds, a number finite and not negative.
 *
 * Returns: `TRUE` if @settings took the value; `FALSE` with
 *   %TE_SETTINGS_ERROR_INVALID naming the setting, the value and what is
 *   allowed, in which case @settings is unchanged
 */
gboolean
te_engine_settings_set_json (TeEngineSettings     *settings,
                             const TeSettingInfo  *info,
                             JsonNode             *node,
                             GError              **error)
{
  g_autofree char *expected = NULL;
  g_autofree char *shown = NULL;
  Value value;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (info != NULL && is_table_entry (info), FALSE);
  g_return_val_if_fail (node != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (read_json_value (info, node, &value))
    {
      store (settings, info, &value);
      return TRUE;
    }

  shown = show_json (node);
  expected = describe_expected (info);
  g_set_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID,
               "%s: %s is not %s", info->json_name, shown, expected);
  return FALSE;
}
