/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
/* For g_memory_settings_backend_new(). */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "te-settings.h"
#include "test-settings.h"


const Row settings_rows[] = {
  { "DOWNLOAD_PATH", "download-path", FIELD (download_path), KIND_PATH,
    .text = "/srv/torrents" },
  { "LISTEN_PORT", "listen-port", FIELD (listen_port), KIND_UINT16, 0, 65535,
    "65535", .uint = 65535 },
  { "MAX_CONCURRENT_TORRENTS", "max-concurrent-torrents", FIELD (max_active_downloads),
    KIND_UINT, 0, 10000, "10000", .uint = 10000 },
  { "MAX_ACTIVE_SEEDS", "max-active-seeds", FIELD (max_active_seeds), KIND_UINT, 0, 100000,
    "100000", .uint = 100000 },
  { "MAX_PEER_CONNECTIONS", "max-peer-connections", FIELD (max_peers_per_torrent),
    KIND_UINT, 1, 10000, "1", .uint = 1 },
  { "MAX_GLOBAL_PEER_CONNECTIONS", "max-global-peer-connections", FIELD (max_peers_global),
    KIND_UINT, 1, 100000, "100000", .uint = 100000 },
  { "UPLOAD_LIMIT", "upload-limit", FIELD (upload_limit), KIND_UINT64, 0, G_MAXUINT64,
    "18446744073709551615", .uint = G_MAXUINT64 },
  { "DOWNLOAD_LIMIT", "download-limit", FIELD (download_limit), KIND_UINT64, 0, G_MAXUINT64,
    "1048576", .uint = 1048576 },
  { "SEED_RATIO_LIMIT", "seed-ratio-limit", FIELD (seed_ratio_limit), KIND_DOUBLE,
    .text = "0.25", .number = 0.25 },
  { "SEED_TIME_LIMIT", "seed-time-limit", FIELD (seed_time_limit_ms), KIND_UINT64,
    0, G_MAXUINT64, "86400000", .uint = 86400000 },
  { "AUTO_RESUME", "auto-resume", FIELD (auto_resume), KIND_BOOLEAN,
    .text = "OFF", .boolean = FALSE },
  { "VERIFY_ON_RESUME", "verify-on-resume", FIELD (verify_on_resume), KIND_BOOLEAN,
    .text = "Yes", .boolean = TRUE },
  { "STATE_SAVE_INTERVAL", "state-save-interval", FIELD (state_save_interval_ms),
    KIND_UINT, 100, 86400000, "100", .uint = 100 },
  { "MAX_PIECE_RETRIES", "max-piece-retries", FIELD (max_piece_retries), KIND_UINT, 1, 1000,
    "1000", .uint = 1000 },
  { "MAX_PEER_FAILURES_PER_PIECE", "max-peer-failures-per-piece",
    FIELD (max_peer_failures_per_piece), KIND_UINT, 1, 1000, "1", .uint = 1 },
  { "PEER_RECONNECT_DELAY", "peer-reconnect-delay", FIELD (peer_reconnect_delay_ms),
    KIND_UINT, 0, 86400000, "0", .uint = 0 },
  { "PEER_BAN_DURATION", "peer-ban-duration", FIELD (peer_ban_duration_ms), KIND_UINT64,
    0, G_MAXUINT64, "60000", .uint = 60000 },
  { "QUEUE_STALL_TIMEOUT", "queue-stall-timeout", FIELD (stall_timeout_s), KIND_UINT,
    1, 604800, "604800", .uint = 604800 },
  { "ENABLE_PEX", "enable-pex", FIELD (enable_pex), KIND_BOOLEAN,
    .text = "0", .boolean = FALSE },
  { "ALT_SPEED_ENABLED", "alt-speed-enabled", FIELD (alt_speed_enabled), KIND_BOOLEAN,
    .text = "on", .boolean = TRUE },
  { "ALT_DOWNLOAD_LIMIT", "alt-download-limit", FIELD (alt_download_limit), KIND_UINT64,
    0, G_MAXUINT64, "0", .uint = 0 },
  { "ALT_UPLOAD_LIMIT", "alt-upload-limit", FIELD (alt_upload_limit), KIND_UINT64,
    0, G_MAXUINT64, "2048", .uint = 2048 },
};
const gsize settings_n_rows = G_N_ELEMENTS (settings_rows);

void
settings_assert_equal (const TeEngineSettings *a,
                       const TeEngineSettings *b)
{
  g_assert_cmpstr (a->download_path, ==, b->download_path);
  g_assert_cmpuint (a->listen_port, ==, b->listen_port);
  g_assert_cmpuint (a->max_active_downloads, ==, b->max_active_downloads);
  g_assert_cmpuint (a->max_active_seeds, ==, b->max_active_seeds);
  g_assert_cmpuint (a->max_peers_per_torrent, ==, b->max_peers_per_torrent);
  g_assert_cmpuint (a->max_peers_global, ==, b->max_peers_global);
  g_assert_cmpuint (a->max_per_ip, ==, b->max_per_ip);
  g_assert_cmpuint (a->download_limit, ==, b->download_limit);
  g_assert_cmpuint (a->upload_limit, ==, b->upload_limit);
  g_assert_cmpfloat (a->seed_ratio_limit, ==, b->seed_ratio_limit);
  g_assert_cmpuint (a->seed_time_limit_ms, ==, b->seed_time_limit_ms);
  g_assert_cmpint (a->auto_resume, ==, b->auto_resume);
  g_assert_cmpint (a->verify_on_resume, ==, b->verify_on_resume);
  g_assert_cmpuint (a->state_save_interval_ms, ==, b->state_save_interval_ms);
  g_assert_cmpuint (a->max_piece_retries, ==, b->max_piece_retries);
  g_assert_cmpuint (a->max_peer_failures_per_piece, ==, b->max_peer_failures_per_piece);
  g_assert_cmpuint (a->peer_reconnect_delay_ms, ==, b->peer_reconnect_delay_ms);
  g_assert_cmpuint (a->peer_ban_duration_ms, ==, b->peer_ban_duration_ms);
  g_assert_cmpuint (a->stall_timeout_s, ==, b->stall_timeout_s);
  g_assert_cmpint (a->enable_pex, ==, b->enable_pex);
  g_assert_cmpint (a->alt_speed_enabled, ==, b->alt_speed_enabled);
  g_assert_cmpuint (a->alt_download_limit, ==, b->alt_download_limit);
  g_assert_cmpuint (a->alt_upload_limit, ==, b->alt_upload_limit);
}

/* Sets @row's field of @s to the value @row->text stands for. */
void
settings_set_row_value (TeEngineSettings *s,
                        const Row        *row)
{
  gpointer field = G_STRUCT_MEMBER_P (s, row->offset);

  switch (row->kind)
    {
    case KIND_PATH:
      g_free (*(char **) field);
      *(char **) field = g_strdup (row->text);
      break;
    case KIND_UINT16:
      *(guint16 *) field = (guint16) row->uint;
      break;
    case KIND_UINT:
      *(guint *) field = (guint) row->uint;
      break;
    case KIND_UINT64:
      *(guint64 *) field = row->uint;
      break;
    case KIND_DOUBLE:
      *(double *) field = row->number;
      break;
    case KIND_BOOLEAN:
      *(gboolean *) field = row->boolean;
      break;
    default:
      g_assert_not_reached ();
    }
}

/* A floating variant of @n in the GSettings type of @kind. */
static GVariant *
int_variant (Kind    kind,
             guint64 n)
{
  switch (kind)
    {
    case KIND_UINT16:
      return g_variant_new_uint16 ((guint16) n);
    case KIND_UINT:
      return g_variant_new_uint32 ((guint32) n);
    case KIND_UINT64:
      return g_variant_new_uint64 (n);
    default:
      g_assert_not_reached ();
    }
}

static GVariant *
row_variant (const Row *row)
{
  switch (row->kind)
    {
    case KIND_PATH:
      return g_variant_new_string (row->text);
    case KIND_DOUBLE:
      return g_variant_new_double (row->number);
    case KIND_BOOLEAN:
      return g_variant_new_boolean (row->boolean);
    default:
      return int_variant (row->kind, row->uint);
    }
}

/* Every row's valid value, except @skip's. */
static char **
environ_with_all_rows (const char *skip)
{
  char **envp = NULL;

  for (gsize i = 0; i < settings_n_rows; i++)
    if (g_strcmp0 (settings_rows[i].env, skip) != 0)
      envp = g_environ_setenv (envp, settings_rows[i].env, settings_rows[i].text, TRUE);
  return envp;
}

static void
test_defaults (void)
{
  TeEngineSettings s;
  const char *downloads;
  g_autofree char *expected_path = NULL;

  te_engine_settings_init (&s);

  downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  expected_path = downloads ? g_strdup (downloads)
                            : g_build_filename (g_get_home_dir (), "Downloads", NULL);
  g_assert_cmpstr (s.download_path, ==, expected_path);
  g_assert_cmpuint (s.listen_port, ==, 51413);
  g_assert_cmpuint (s.max_active_downloads, ==, 3);
  g_assert_cmpuint (s.max_active_seeds, ==, 0);
  g_assert_cmpuint (s.max_peers_per_torrent, ==, 50);
  g_assert_cmpuint (s.max_peers_global, ==, 500);
  g_assert_cmpuint (s.max_per_ip, ==, 3);
  g_assert_cmpuint (s.download_limit, ==, 0);
  g_assert_cmpuint (s.upload_limit, ==, 0);
  g_assert_cmpfloat (s.seed_ratio_limit, ==, 2.0);
  g_assert_cmpuint (s.seed_time_limit_ms, ==, 0);
  g_assert_true (s.auto_resume);
  g_assert_false (s.verify_on_resume);
  g_assert_cmpuint (s.state_save_interval_ms, ==, 30000);
  g_assert_cmpuint (s.max_piece_retries, ==, 10);
  g_assert_cmpuint (s.max_peer_failures_per_piece, ==, 3);
  g_assert_cmpuint (s.peer_reconnect_delay_ms, ==, 5000);
  g_assert_cmpuint (s.peer_ban_duration_ms, ==, 3600000);
  g_assert_cmpuint (s.stall_timeout_s, ==, 600);
  g_assert_true (s.enable_pex);

  te_engine_settings_clear (&s);
  g_assert_null (s.download_path);
  te_engine_settings_clear (&s);
}

/* With no XDG Downloads folder (as in the isolated test home), ~/Downloads. */
static void
test_defaults_download_fallback (void)
{
  g_autofree char *fallback = g_build_filename (g_get_home_dir (), "Downloads", NULL);
  TeEngineSettings s;

  if (g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD) != NULL)
    {
      g_test_skip ("GLib reports an XDG Downloads folder");
      return;
    }
  te_engine_settings_init (&s);
  g_assert_cmpstr (s.download_path, ==, fallback);
  te_engine_settings_clear (&s);
}

static void
test_copy (void)
{
  TeEngineSettings a, b;

  te_engine_settings_init (&a);
  a.listen_port = 6881;
  a.seed_ratio_limit = 1.5;
  te_engine_settings_copy (&b, &a);
  settings_assert_equal (&a, &b);
  g_assert_true (a.download_path != b.download_path);

  /* Independent: clearing the source leaves the copy intact. */
  te_engine_settings_clear (&a);
  g_assert_nonnull (b.download_path);
  g_assert_cmpuint (b.listen_port, ==, 6881);
  te_engine_settings_clear (&b);
}

/* Each variable changes its own field and nothing else. */
static void
test_env_each (void)
{
  for (gsize i = 0; i < settings_n_rows; i++)
    {
      const Row *row = &settings_rows[i];
      g_auto(GStrv) envp = g_environ_setenv (NULL, row->env, row->text, TRUE);
      g_autoptr(GError) error = NULL;
      TeEngineSettings actual, expected;

      g_test_message ("%s=%s", row->env, row->text);
      te_engine_settings_init (&actual);
      te_engine_settings_init (&expected);
      settings_set_row_value (&expected, row);

      g_assert_true (te_engine_settings_apply_environment (&actual, (const char * const *) envp,
                                                           &error));
      g_assert_no_error (error);
      settings_assert_equal (&actual, &expected);

      te_engine_settings_clear (&actual);
      te_engine_settings_clear (&expected);
    }
}

static void
test_env_all (void)
{
  g_auto(GStrv) envp = environ_with_all_rows (NULL);
  g_autoptr(GError) error = NULL;
  TeEngineSettings actual, expected;

  te_engine_settings_init (&actual);
  te_engine_settings_init (&expected);
  for (gsize i = 0; i < settings_n_rows; i++)
    settings_set_row_value (&expected, &settings_rows[i]);

  /* Unrelated variables are ignored. */
  envp = g_environ_setenv (envp, "HOME", "/nowhere", TRUE);
  envp = g_environ_setenv (envp, "MAX_PER_IP", "junk", TRUE);

  g_assert_true (te_engine_settings_apply_environment (&actual, (const char * const *) envp,
                                                       &error));
  g_assert_no_error (error);
  settings_assert_equal (&actual, &expected);

  te_engine_settings_clear (&actual);
  te_engine_settings_clear (&expected);
}

static void
test_env_empty (void)
{
  g_auto(GStrv) envp = NULL;
  g_autoptr(GError) error = NULL;
  TeEngineSettings actual, defaults;

  for (gsize i = 0; i < settings_n_rows; i++)
    envp = g_environ_setenv (envp, settings_rows[i].env, "", TRUE);

  te_engine_settings_init (&actual);
  te_engine_settings_init (&defaults);
  g_assert_true (te_engine_settings_apply_environment (&actual, (const char * const *) envp,
                                                       &error));
  g_assert_no_error (error);
  settings_assert_equal (&actual, &defaults);

  /* No environment at all is the same. */
  g_assert_true (te_engine_settings_apply_environment (&actual, NULL, &error));
  g_assert_no_error (error);
  settings_assert_equal (&actual, &defaults);

  te_engine_settings_clear (&actual);
  te_engine_settings_clear (&defaults);
}

static void
test_env_booleans (void)
{
  static const struct {
    const char *text;
    gboolean    value;
  } cases[] = {
    { "true", TRUE }, { "TRUE", TRUE }, { "True", TRUE }, { "1", TRUE },
    { "yes", TRUE }, { "YES", TRUE }, { "on", TRUE }, { "On", TRUE },
    { "false", FALSE }, { "FALSE", FALSE }, { "0", FALSE }, { "no", FALSE },
    { "No", FALSE }, { "off", FALSE }, { "oFF", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GStrv) envp = NULL;
      g_autoptr(GError) error = NULL;
      TeEngineSettings s;

      envp = g_environ_setenv (envp, "AUTO_RESUME", cases[i].text, TRUE);
      envp = g_environ_setenv (envp, "VERIFY_ON_RESUME", cases[i].text, TRUE);
      envp = g_environ_setenv (envp, "ENABLE_PEX", cases[i].text, TRUE);

      /* Start from the opposite so each case is a change. */
      te_engine_settings_init (&s);
      s.auto_resume = s.verify_on_resume = s.enable_pex = !cases[i].value;
      g_assert_true (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                           &error));
      g_assert_no_error (error);
      g_assert_cmpint (s.auto_resume, ==, cases[i].value);
      g_assert_cmpint (s.verify_on_resume, ==, cases[i].value);
      g_assert_cmpint (s.enable_pex, ==, cases[i].value);
      te_engine_settings_clear (&s);
    }
}

static void
test_env_tilde (void)
{
  g_autofree char *expected = g_build_filename (g_get_home_dir (), "x", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = NULL;
  TeEngineSettings s;

  te_engine_settings_init (&s);

  envp = g_environ_setenv (envp, "DOWNLOAD_PATH", "~/x", TRUE);
  g_assert_true (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                       &error));
  g_assert_no_error (error);
  g_assert_cmpstr (s.download_path, ==, expected);
  g_assert_true (g_path_is_absolute (s.download_path));

  envp = g_environ_setenv (envp, "DOWNLOAD_PATH", "~", TRUE);
  g_assert_true (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                       &error));
  g_assert_no_error (error);
  g_assert_cmpstr (s.download_path, ==, g_get_home_dir ());

  te_engine_settings_clear (&s);
}

static void
test_env_invalid (void)
{
  static const struct {
    const char *env;
    const char *text;
  } cases[] = {
    { "MAX_CONCURRENT_TORRENTS", "abc" },
    { "MAX_CONCURRENT_TORRENTS", "10001" },
    { "MAX_CONCURRENT_TORRENTS", "-1" },
    { "MAX_CONCURRENT_TORRENTS", "5x" },
    { "MAX_CONCURRENT_TORRENTS", " 5" },
    { "MAX_CONCURRENT_TORRENTS", "5 " },
    { "MAX_CONCURRENT_TORRENTS", "+5" },
    { "MAX_CONCURRENT_TORRENTS", "0x10" },
    { "MAX_CONCURRENT_TORRENTS", "3.0" },
    { "MAX_CONCURRENT_TORRENTS", "1e3" },
    { "LISTEN_PORT", "65536" },
    { "LISTEN_PORT", "-1" },
    { "MAX_ACTIVE_SEEDS", "100001" },
    { "MAX_PEER_CONNECTIONS", "0" },
    { "MAX_PEER_CONNECTIONS", "10001" },
    { "MAX_GLOBAL_PEER_CONNECTIONS", "0" },
    { "MAX_GLOBAL_PEER_CONNECTIONS", "100001" },
    { "UPLOAD_LIMIT", "18446744073709551616" },
    { "UPLOAD_LIMIT", "-5" },
    { "DOWNLOAD_LIMIT", "1k" },
    { "SEED_RATIO_LIMIT", "nan" },
    { "SEED_RATIO_LIMIT", "inf" },
    { "SEED_RATIO_LIMIT", "-inf" },
    { "SEED_RATIO_LIMIT", "-1" },
    { "SEED_RATIO_LIMIT", "-0.5" },
    { "SEED_RATIO_LIMIT", "1.5x" },
    { "SEED_RATIO_LIMIT", " 1" },
    { "SEED_RATIO_LIMIT", "1e999" },
    { "SEED_RATIO_LIMIT", "ratio" },
    { "SEED_TIME_LIMIT", "forever" },
    { "AUTO_RESUME", "maybe" },
    { "AUTO_RESUME", "2" },
    { "AUTO_RESUME", "truee" },
    { "VERIFY_ON_RESUME", "y" },
    { "ENABLE_PEX", "enabled" },
    { "STATE_SAVE_INTERVAL", "99" },
    { "STATE_SAVE_INTERVAL", "86400001" },
    { "MAX_PIECE_RETRIES", "0" },
    { "MAX_PIECE_RETRIES", "1001" },
    { "MAX_PEER_FAILURES_PER_PIECE", "0" },
    { "MAX_PEER_FAILURES_PER_PIECE", "1001" },
    { "PEER_RECONNECT_DELAY", "86400001" },
    { "PEER_BAN_DURATION", "1h" },
    { "QUEUE_STALL_TIMEOUT", "0" },
    { "QUEUE_STALL_TIMEOUT", "604801" },
    { "DOWNLOAD_PATH", "relative/dir" },
    { "DOWNLOAD_PATH", "./x" },
    { "DOWNLOAD_PATH", "~user/x" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* Every other variable is valid, so staged values would show if they leaked. */
      g_auto(GStrv) envp = environ_with_all_rows (cases[i].env);
      g_autofree char *prefix = g_strconcat (cases[i].env, ": ", NULL);
      g_autofree char *quoted = g_strdup_printf ("“%s”", cases[i].text);
      g_autoptr(GError) error = NULL;
      TeEngineSettings s, before;

      g_test_message ("%s=%s", cases[i].env, cases[i].text);
      envp = g_environ_setenv (envp, cases[i].env, cases[i].text, TRUE);
      te_engine_settings_init (&s);
      g_free (s.download_path);
      s.download_path = g_strdup ("/before");
      s.listen_port = 1;
      te_engine_settings_copy (&before, &s);

      g_assert_false (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                            &error));
      g_assert_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, prefix));
      g_assert_nonnull (strstr (error->message, quoted));
      settings_assert_equal (&s, &before);

      te_engine_settings_clear (&s);
      te_engine_settings_clear (&before);
    }
}

static void
test_env_invalid_message (void)
{
  static const struct {
    const char *env;
    const char *text;
    const char *message;
  } cases[] = {
    { "MAX_CONCURRENT_TORRENTS", "abc",
      "MAX_CONCURRENT_TORRENTS: “abc” is not a whole number from 0 to 10000" },
    { "STATE_SAVE_INTERVAL", "30",
      "STATE_SAVE_INTERVAL: “30” is not a whole number from 100 to 86400000 (milliseconds)" },
    { "SEED_RATIO_LIMIT", "-1", "SEED_RATIO_LIMIT: “-1” is not a number of 0 or more" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GStrv) envp = g_environ_setenv (NULL, cases[i].env, cases[i].text, TRUE);
      g_autoptr(GError) error = NULL;
      TeEngineSettings s;

      te_engine_settings_init (&s);
      g_assert_false (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                            &error));
      g_assert_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      te_engine_settings_clear (&s);
    }
}

/* A byte string that is not UTF-8 still gives a UTF-8 message. */
static void
test_env_invalid_utf8 (void)
{
  g_auto(GStrv) envp = g_environ_setenv (NULL, "LISTEN_PORT", "80\xff", TRUE);
  g_autoptr(GError) error = NULL;
  TeEngineSettings s;

  te_engine_settings_init (&s);
  g_assert_false (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                        &error));
  g_assert_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_cmpuint (s.listen_port, ==, 51413);
  te_engine_settings_clear (&s);
}

/* GSettings, from the schema compiled into the build tree and a private
 * memory backend. */

typedef struct {
  GSettingsSchema  *schema;
  GSettingsBackend *backend;
  GSettings        *settings;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *dir = g_getenv ("GSETTINGS_SCHEMA_DIR");
  g_autoptr(GSettingsSchemaSource) source = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (dir);
  source = g_settings_schema_source_new_from_directory (dir, NULL, TRUE, &error);
  g_assert_no_error (error);
  f->schema = g_settings_schema_source_lookup (source, TE_SETTINGS_SCHEMA_ID, FALSE);
  g_assert_nonnull (f->schema);
  f->backend = g_memory_settings_backend_new ();
  f->settings = g_settings_new_full (f->schema, f->backend, NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_finalize_object (g_steal_pointer (&f->settings));
  g_assert_finalize_object (g_steal_pointer (&f->backend));
  g_clear_pointer (&f->schema, g_settings_schema_unref);
}

/* An untouched GSettings changes nothing: the schema's defaults are
 * te_engine_settings_init()'s, and an empty download-path keeps the path. */
static void
test_gsettings_defaults (Fixture       *f,
                         gconstpointer  data)
{
  TeEngineSettings actual, defaults;

  te_engine_settings_init (&defaults);
  te_engine_settings_init (&actual);
  te_engine_settings_apply_gsettings (&actual, f->settings);
  settings_assert_equal (&actual, &defaults);

  te_engine_settings_clear (&actual);
  te_engine_settings_clear (&defaults);
}

static void
test_gsettings_each (Fixture       *f,
                     gconstpointer  data)
{
  for (gsize i = 0; i < settings_n_rows; i++)
    {
      const Row *row = &settings_rows[i];
      TeEngineSettings actual, expected;

      g_test_message ("%s", row->key);
      te_engine_settings_init (&actual);
      te_engine_settings_init (&expected);
      settings_set_row_value (&expected, row);

      g_assert_true (g_settings_set_value (f->settings, row->key, row_variant (row)));
      te_engine_settings_apply_gsettings (&actual, f->settings);
      settings_assert_equal (&actual, &expected);

      g_settings_reset (f->settings, row->key);
      te_engine_settings_clear (&actual);
      te_engine_settings_clear (&expected);
    }
}

static void
test_gsettings_typed (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *tilde = g_build_filename (g_get_home_dir (), "Media", NULL);
  TeEngineSettings s;

  g_assert_true (g_settings_set_string (f->settings, "download-path", "~/Media"));
  g_assert_true (g_settings_set_uint (f->settings, "max-concurrent-torrents", 8));
  g_assert_true (g_settings_set_uint (f->settings, "queue-stall-timeout", 30));
  g_assert_true (g_settings_set_uint64 (f->settings, "upload-limit", 65536));
  g_assert_true (g_settings_set_uint64 (f->settings, "peer-ban-duration", 1000));
  g_assert_true (g_settings_set_double (f->settings, "seed-ratio-limit", 0.0));
  g_assert_true (g_settings_set_boolean (f->settings, "verify-on-resume", TRUE));
  g_assert_true (g_settings_set_boolean (f->settings, "enable-pex", FALSE));
  g_assert_true (g_settings_set_value (f->settings, "listen-port", g_variant_new_uint16 (0)));

  te_engine_settings_init (&s);
  te_engine_settings_apply_gsettings (&s, f->settings);
  g_assert_cmpstr (s.download_path, ==, tilde);
  g_assert_cmpuint (s.max_active_downloads, ==, 8);
  g_assert_cmpuint (s.stall_timeout_s, ==, 30);
  g_assert_cmpuint (s.upload_limit, ==, 65536);
  g_assert_cmpuint (s.peer_ban_duration_ms, ==, 1000);
  g_assert_cmpfloat (s.seed_ratio_limit, ==, 0.0);
  g_assert_true (s.verify_on_resume);
  g_assert_false (s.enable_pex);
  g_assert_cmpuint (s.listen_port, ==, 0);
  /* Untouched keys stay at their defaults. */
  g_assert_cmpuint (s.max_peers_per_torrent, ==, 50);

  /* The environment, applied after, wins. */
  {
    g_auto(GStrv) envp = g_environ_setenv (NULL, "MAX_CONCURRENT_TORRENTS", "2", TRUE);
    g_autoptr(GError) error = NULL;

    g_assert_true (te_engine_settings_apply_environment (&s, (const char * const *) envp,
                                                         &error));
    g_assert_no_error (error);
    g_assert_cmpuint (s.max_active_downloads, ==, 2);
    g_assert_cmpuint (s.stall_timeout_s, ==, 30);
  }

  te_engine_settings_clear (&s);
}

static gboolean
schema_accepts (GSettingsSchemaKey *key,
                GVariant           *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  return g_settings_schema_key_range_check (key, owned);
}

/* The schema has exactly one key per variable, of the right type, with the
 * variable's range; and allowed-paths, which is no row of the table. */
static void
test_gsettings_keys (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const types[] = { "s", "q", "u", "t", "d", "b" };
  g_auto(GStrv) keys = g_settings_schema_list_keys (f->schema);

  g_assert_cmpuint (g_strv_length (keys), ==, settings_n_rows + 1);
  g_assert_true (g_strv_contains ((const char * const *) keys, "allowed-paths"));
  for (guint k = 0; keys[k] != NULL; k++)
    {
      gboolean found = g_str_equal (keys[k], "allowed-paths");

      for (gsize i = 0; i < settings_n_rows && !found; i++)
        found = g_str_equal (settings_rows[i].key, keys[k]);
      if (!found)
        g_test_message ("schema key %s has no variable", keys[k]);
      g_assert_true (found);
    }

  for (gsize i = 0; i < settings_n_rows; i++)
    {
      const Row *row = &settings_rows[i];
      g_autoptr(GSettingsSchemaKey) key = NULL;

      g_test_message ("%s", row->key);
      g_assert_true (g_settings_schema_has_key (f->schema, row->key));
      key = g_settings_schema_get_key (f->schema, row->key);
      g_assert_cmpstr (g_variant_type_peek_string (g_settings_schema_key_get_value_type (key)),
                       ==, types[row->kind]);

      switch (row->kind)
        {
        case KIND_UINT16:
        case KIND_UINT:
        case KIND_UINT64:
          g_assert_true (schema_accepts (key, int_variant (row->kind, row->min)));
          g_assert_true (schema_accepts (key, int_variant (row->kind, row->max)));
          if (row->min > 0)
            g_assert_false (schema_accepts (key, int_variant (row->kind, row->min - 1)));
          if ((row->kind == KIND_UINT && row->max < G_MAXUINT32) ||
              (row->kind == KIND_UINT16 && row->max < G_MAXUINT16))
            g_assert_false (schema_accepts (key, int_variant (row->kind, row->max + 1)));
          break;
        case KIND_DOUBLE:
          g_assert_true (schema_accepts (key, g_variant_new_double (0.0)));
          g_assert_true (schema_accepts (key, g_variant_new_double (1e9)));
          g_assert_false (schema_accepts (key, g_variant_new_double (-0.5)));
          break;
        default:
          break;
        }
    }
}

/* allowed-paths: a list from the key or from ALLOWED_PATHS (“:” between
 * folders), copied with the settings; a relative entry is refused. */
static void
test_allowed_paths (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const keyed[] = { "/srv/media", "~/Films", NULL };
  g_autofree char *films = g_build_filename (g_get_home_dir (), "Films", NULL);
  g_autoptr(GError) error = NULL;
  TeEngineSettings s, copy;

  te_engine_settings_init (&s);
  g_assert_null (s.allowed_paths);
  g_assert_true (g_settings_set_strv (f->settings, "allowed-paths", keyed));
  te_engine_settings_apply_gsettings (&s, f->settings);
  g_assert_cmpuint (g_strv_length (s.allowed_paths), ==, 2);
  g_assert_cmpstr (s.allowed_paths[0], ==, "/srv/media");
  g_assert_cmpstr (s.allowed_paths[1], ==, films);

  te_engine_settings_copy (&copy, &s);
  g_assert_true (copy.allowed_paths != s.allowed_paths);
  g_assert_cmpstrv (copy.allowed_paths, s.allowed_paths);
  te_engine_settings_clear (&copy);

  {
    g_auto(GStrv) envp = g_environ_setenv (NULL, "ALLOWED_PATHS", "/data::/mnt/b", TRUE);

    g_assert_true (te_engine_settings_apply_environment (&s, (const char * const *) envp, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (s.allowed_paths), ==, 2);
    g_assert_cmpstr (s.allowed_paths[0], ==, "/data");
    g_assert_cmpstr (s.allowed_paths[1], ==, "/mnt/b");
  }
  {
    g_auto(GStrv) envp = g_environ_setenv (NULL, "ALLOWED_PATHS", "/data:relative", TRUE);

    g_assert_false (te_engine_settings_apply_environment (&s, (const char * const *) envp, &error));
    g_assert_error (error, TE_SETTINGS_ERROR, TE_SETTINGS_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "ALLOWED_PATHS"));
    g_assert_nonnull (strstr (error->message, "relative"));
    /* Unchanged. */
    g_assert_cmpstr (s.allowed_paths[0], ==, "/data");
  }
  te_engine_settings_clear (&s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/te/settings/defaults", test_defaults);
  g_test_add_func ("/te/settings/defaults-download-fallback", test_defaults_download_fallback);
  g_test_add_func ("/te/settings/copy", test_copy);
  g_test_add_func ("/te/settings/env/each", test_env_each);
  g_test_add_func ("/te/settings/env/all", test_env_all);
  g_test_add_func ("/te/settings/env/empty", test_env_empty);
  g_test_add_func ("/te/settings/env/booleans", test_env_booleans);
  g_test_add_func ("/te/settings/env/tilde", test_env_tilde);
  g_test_add_func ("/te/settings/env/invalid", test_env_invalid);
  g_test_add_func ("/te/settings/env/invalid-message", test_env_invalid_message);
  g_test_add_func ("/te/settings/env/invalid-utf8", test_env_invalid_utf8);
  settings_add_json_tests ();
  g_test_add ("/te/settings/gsettings/defaults", Fixture, NULL,
              fixture_setup, test_gsettings_defaults, fixture_teardown);
  g_test_add ("/te/settings/gsettings/each", Fixture, NULL,
              fixture_setup, test_gsettings_each, fixture_teardown);
  g_test_add ("/te/settings/gsettings/typed", Fixture, NULL,
              fixture_setup, test_gsettings_typed, fixture_teardown);
  g_test_add ("/te/settings/gsettings/keys", Fixture, NULL,
              fixture_setup, test_gsettings_keys, fixture_teardown);
  g_test_add ("/te/settings/allowed-paths", Fixture, NULL,
              fixture_setup, test_allowed_paths, fixture_teardown);

  return g_test_run ();
}
