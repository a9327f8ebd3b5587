/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "test-settings.h"

/* The engine's table, which the remote API reads, against the rows of
 * test-settings.c. */

static const TeSettingInfo *
info_for_env (const char *env)
{
  const TeSettingInfo *infos;
  gsize n;

  infos = te_setting_info_list (&n);
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (infos[i].env, env) == 0)
      return &infos[i];
  return NULL;
}

static void
test_table_rows (void)
{
  /* Kind and TeSettingKind are written separately; map one to the other. */
  static const TeSettingKind kinds[] = {
    [KIND_PATH] = TE_SETTING_KIND_PATH, [KIND_UINT16] = TE_SETTING_KIND_UINT16,
    [KIND_UINT] = TE_SETTING_KIND_UINT, [KIND_UINT64] = TE_SETTING_KIND_UINT64,
    [KIND_DOUBLE] = TE_SETTING_KIND_DOUBLE, [KIND_BOOLEAN] = TE_SETTING_KIND_BOOLEAN,
  };
  const TeSettingInfo *infos;
  gsize n, with_env = 0;

  infos = te_setting_info_list (&n);
  for (gsize i = 0; i < n; i++)
    {
      /* A variable and a key come together, or not at all. */
      g_assert_true ((infos[i].env == NULL) == (infos[i].key == NULL));
      with_env += infos[i].env != NULL;
    }
  g_assert_cmpuint (with_env, ==, settings_n_rows);

  for (gsize i = 0; i < settings_n_rows; i++)
    {
      const Row *row = &settings_rows[i];
      const TeSettingInfo *info = info_for_env (row->env);

      g_test_message ("%s", row->env);
      g_assert_nonnull (info);
      g_assert_cmpstr (info->key, ==, row->key);
      g_assert_cmpuint (info->offset, ==, row->offset);
      g_assert_cmpint (info->kind, ==, kinds[row->kind]);
      g_assert_cmpuint (info->min, ==, row->min);
      g_assert_cmpuint (info->max, ==, row->max);
    }
}

static gboolean
is_camel_case (const char *name)
{
  if (!g_ascii_islower (name[0]))
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

/* Every setting has one API name of its own, and one field of its own. */
static void
test_table_json_names (void)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) offsets = g_hash_table_new (NULL, NULL);
  const TeSettingInfo *infos;
  gsize n;

  infos = te_setting_info_list (&n);
  /* The 23 fields of TeEngineSettings (assert_settings_equal() compares them). */
  g_assert_cmpuint (n, ==, 23);
  for (gsize i = 0; i < n; i++)
    {
      const TeSettingInfo *info = &infos[i];

      g_assert_nonnull (info->json_name);
      g_test_message ("%s", info->json_name);
      g_assert_true (is_camel_case (info->json_name));
      g_assert_true (g_hash_table_add (names, (gpointer) info->json_name));
      g_assert_true (g_hash_table_add (offsets, GSIZE_TO_POINTER (info->offset + 1)));
      g_assert_cmpuint (info->offset, <, sizeof (TeEngineSettings));
      g_assert_true (te_setting_info_find (info->json_name) == info);
      if (info->kind <= TE_SETTING_KIND_UINT64 && info->kind != TE_SETTING_KIND_PATH)
        g_assert_cmpuint (info->min, <=, info->max);
    }
  g_assert_null (te_setting_info_find ("bogus"));
  g_assert_null (te_setting_info_find ("MaxActiveSeeds"));
  g_assert_null (te_setting_info_find ("max-active-seeds"));
  g_assert_null (te_setting_info_find (""));
}

/* Every field read out as JSON and written into fresh settings gives the same
 * settings: no field lacks a row, and no two rows share one. */
static void
test_json_round_trip (void)
{
  TeEngineSettings src, dst, defaults;
  const TeSettingInfo *infos;
  gsize n;

  te_engine_settings_init (&src);
  for (gsize i = 0; i < settings_n_rows; i++)
    settings_set_row_value (&src, &settings_rows[i]);
  src.max_per_ip = 7;
  /* JSON integers stop at G_MAXINT64. */
  src.upload_limit = G_MAXINT64;

  te_engine_settings_init (&dst);
  te_engine_settings_init (&defaults);
  infos = te_setting_info_list (&n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(JsonNode) node = te_engine_settings_get_json (&src, &infos[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", infos[i].json_name);
      g_assert_true (te_engine_settings_set_json (&dst, &infos[i], node, &error));
      g_assert_no_error (error);
    }
  settings_assert_equal (&dst, &src);
  g_assert_cmpuint (dst.max_per_ip, !=, defaults.max_per_ip);

  te_engine_settings_clear (&src);
  te_engine_settings_clear (&dst);
  te_engine_settings_clear (&defaults);
}

static void
test_json_get (void)
{
  TeEngineSettings s;
  g_autoptr(JsonNode) path = NULL;
  g_autoptr(JsonNode) big = NULL;
  g_autoptr(JsonNode) ratio = NULL;
  g_autoptr(JsonNode) pex = NULL;

  te_engine_settings_init (&s);
  g_clear_pointer (&s.download_path, g_free);
  s.download_limit = G_MAXUINT64;
  s.seed_ratio_limit = 0.5;
  s.enable_pex = FALSE;

  path = te_engine_settings_get_json (&s, te_setting_info_find ("downloadPath"));
  g_assert_cmpstr (json_node_get_string (path), ==, "");
  big = te_engine_settings_get_json (&s, te_setting_info_find ("downloadLimit"));
  g_assert_cmpint (json_node_get_value_type (big), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_int (big), ==, G_MAXINT64);
  ratio = te_engine_settings_get_json (&s, te_setting_info_find ("seedRatioLimit"));
  g_assert_cmpint (json_node_get_value_type (ratio), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (ratio), ==, 0.5);
  pex = te_engine_settings_get_json (&s, te_setting_info_find ("enablePex"));
  g_assert_cmpint (json_node_get_value_type (pex), ==, G_TYPE_BOOLEAN);
  g_assert_false (json_node_get_boolean (pex));

  te_engine_settings_clear (&s);
}

/* Sets @json_name from @json; on failure returns the message. */
static char *
set_json_text (TeEngineSettings *s,
               const char       *json_name,
               const char       *json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = json_from_string (json, &error);
  g_assert_no_error (error);
  if (te_engine_settings_set_json (s, te_setting_info_find (json_name), node, &error))
    {
      g_assert_no_error (error);
      return NULL;
    }
  g_assert_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID);
  return g_strdup (error->message);
}

/* Each integer setting takes its bounds and refuses what lies beyond them,
 * leaving the settings as they were. */
static void
test_json_bounds (void)
{
  const TeSettingInfo *infos;
  gsize n;

  infos = te_setting_info_list (&n);
  for (gsize i = 0; i < n; i++)
    {
      const TeSettingInfo *info = &infos[i];
      g_autofree char *min = NULL;
      g_autofree char *max = NULL;
      g_autofree char *below = NULL;
      g_autofree char *above = NULL;
      g_autofree char *message = NULL;
      TeEngineSettings s, before;

      if (info->kind != TE_SETTING_KIND_UINT16 && info->kind != TE_SETTING_KIND_UINT
          && info->kind != TE_SETTING_KIND_UINT64)
        continue;
      g_test_message ("%s", info->json_name);
      te_engine_settings_init (&s);
      te_engine_settings_copy (&before, &s);

      min = g_strdup_printf ("%" G_GUINT64_FORMAT, info->min);
      max = g_strdup_printf ("%" G_GUINT64_FORMAT, MIN (info->max, (guint64) G_MAXINT64));
      below = info->min > 0 ? g_strdup_printf ("%" G_GUINT64_FORMAT, info->min - 1) : g_strdup ("-1");

      message = set_json_text (&s, info->json_name, min);
      g_assert_null (message);
      message = set_json_text (&s, info->json_name, max);
      g_assert_null (message);

      te_engine_settings_clear (&s);
      te_engine_settings_copy (&s, &before);
      message = set_json_text (&s, info->json_name, below);
      g_assert_nonnull (message);
      g_assert_true (g_str_has_prefix (message, info->json_name));
      g_assert_nonnull (strstr (message, below));
      g_clear_pointer (&message, g_free);
      if (info->max < G_MAXINT64)
        {
          above = g_strdup_printf ("%" G_GUINT64_FORMAT, info->max + 1);
          message = set_json_text (&s, info->json_name, above);
          g_assert_nonnull (message);
          g_assert_nonnull (strstr (message, above));
          g_assert_nonnull (strstr (message, min));
          g_assert_nonnull (strstr (message, max));
          g_clear_pointer (&message, g_free);
        }
      /* Numbers with a fraction, and other types, are not whole numbers. */
      message = set_json_text (&s, info->json_name, "1.5");
      g_assert_nonnull (message);
      g_clear_pointer (&message, g_free);
      message = set_json_text (&s, info->json_name, "\"5\"");
      g_assert_nonnull (message);
      g_clear_pointer (&message, g_free);
      settings_assert_equal (&s, &before);

      te_engine_settings_clear (&s);
      te_engine_settings_clear (&before);
    }
}

static void
test_json_invalid_message (void)
{
  static const struct {
    const char *name;
    const char *json;
    const char *message;
  } cases[] = {
    { "maxActiveSeeds", "100001", "maxActiveSeeds: 100001 is not a whole number from 0 to 100000" },
    { "stateSaveIntervalMs", "99",
      "stateSaveIntervalMs: 99 is not a whole number from 100 to 86400000 (milliseconds)" },
    { "stallTimeoutSeconds", "0",
      "stallTimeoutSeconds: 0 is not a whole number from 1 to 604800 (seconds)" },
    { "stallTimeoutSeconds", "604801",
      "stallTimeoutSeconds: 604801 is not a whole number from 1 to 604800 (seconds)" },
    { "maxPerIp", "0", "maxPerIp: 0 is not a whole number from 1 to 1000" },
    { "listenPort", "65536", "listenPort: 65536 is not a whole number from 0 to 65535" },
    { "uploadLimit", "-1", "uploadLimit: -1 is not a whole number (bytes per second)" },
    { "seedRatioLimit", "-0.5", "seedRatioLimit: -0.5 is not a number of 0 or more" },
    { "seedRatioLimit", "true", "seedRatioLimit: true is not a number of 0 or more" },
    { "downloadPath", "\"relative/dir\"",
      "downloadPath: \"relative/dir\" is not an absolute path (or one starting with “~/”)" },
    { "downloadPath", "\"\"",
      "downloadPath: \"\" is not an absolute path (or one starting with “~/”)" },
    { "enablePex", "1", "enablePex: 1 is not true or false (or yes/no, on/off, 1/0)" },
    { "autoResume", "null", "autoResume: null is not true or false (or yes/no, on/off, 1/0)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = NULL;
      TeEngineSettings s;

      te_engine_settings_init (&s);
      message = set_json_text (&s, cases[i].name, cases[i].json);
      g_assert_cmpstr (message, ==, cases[i].message);
      te_engine_settings_clear (&s);
    }
}

/* A long value is cut short in the message, still UTF-8. */
static void
test_json_invalid_long (void)
{
  g_autoptr(GString) json = g_string_new ("\"");
  g_autofree char *message = NULL;
  TeEngineSettings s;

  for (guint i = 0; i < 1000; i++)
    g_string_append (json, "é");
  g_string_append_c (json, '"');
  te_engine_settings_init (&s);
  message = set_json_text (&s, "downloadPath", json->str);
  g_assert_nonnull (message);
  g_assert_true (g_utf8_validate (message, -1, NULL));
  g_assert_cmpuint (g_utf8_strlen (message, -1), <, 150);
  g_assert_nonnull (strstr (message, "…"));
  te_engine_settings_clear (&s);
}

static void
test_json_valid (void)
{
  g_autofree char *home_x = g_build_filename (g_get_home_dir (), "x", NULL);
  TeEngineSettings s;

  te_engine_settings_init (&s);
  g_assert_null (set_json_text (&s, "downloadPath", "\"~/x\""));
  g_assert_cmpstr (s.download_path, ==, home_x);
  g_assert_null (set_json_text (&s, "downloadPath", "\"/srv/t\""));
  g_assert_cmpstr (s.download_path, ==, "/srv/t");
  /* A ratio may be written as an integer, and has no upper bound. */
  g_assert_null (set_json_text (&s, "seedRatioLimit", "3"));
  g_assert_cmpfloat (s.seed_ratio_limit, ==, 3.0);
  g_assert_null (set_json_text (&s, "seedRatioLimit", "1e300"));
  g_assert_cmpfloat (s.seed_ratio_limit, ==, 1e300);
  g_assert_null (set_json_text (&s, "seedRatioLimit", "0"));
  g_assert_cmpfloat (s.seed_ratio_limit, ==, 0.0);
  g_assert_null (set_json_text (&s, "verifyOnResume", "true"));
  g_assert_true (s.verify_on_resume);
  g_assert_null (set_json_text (&s, "maxPerIp", "1000"));
  g_assert_cmpuint (s.max_per_ip, ==, 1000);
  te_engine_settings_clear (&s);
}

void
settings_add_json_tests (void)
{
  g_test_add_func ("/te/settings/table/rows", test_table_rows);
  g_test_add_func ("/te/settings/table/json-names", test_table_json_names);
  g_test_add_func ("/te/settings/json/round-trip", test_json_round_trip);
  g_test_add_func ("/te/settings/json/get", test_json_get);
  g_test_add_func ("/te/settings/json/bounds", test_json_bounds);
  g_test_add_func ("/te/settings/json/invalid-message", test_json_invalid_message);
  g_test_add_func ("/te/settings/json/invalid-long", test_json_invalid_long);
  g_test_add_func ("/te/settings/json/valid", test_json_valid);
}
