/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
/* For g_memory_settings_backend_new(). */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "te-settings.h"

typedef enum {
  KIND_PATH,
  KIND_UINT16,
  KIND_UINT,
  KIND_UINT64,
  KIND_DOUBLE,
  KIND_BOOLEAN,
} Kind;

/* Written from the documented variables, not copied from te-settings.c, so a
 * wrong field or range there shows up here. */
typedef struct {
  const char *env;
  const char *key;
  gsize       offset;
  Kind        kind;
  guint64     min;        /* integer kinds */
  guint64     max;
  const char *text;       /* a valid value that is not the default */
  guint64     uint;       /* what @text means */
  double      number;
  gboolean    boolean;
} Row;

#define FIELD(f) G_STRUCT_OFFSET (TeEngineSettings, f)

static const Row rows[] = {
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

static void
assert_settings_equal (const TeEngineSettings *a,
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
static void
set_row_value (TeEngineSettings *s,
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

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    if (g_strcmp0 (rows[i].env, skip) != 0)
      envp = g_environ_setenv (envp, rows[i].env, rows[i].text, TRUE);
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
  assert_settings_equal (&a, &b);
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
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const Row *row = &rows[i];
      g_auto(GStrv) envp = g_environ_setenv (NULL, row->env, row->text, TRUE);
      g_autoptr(GError) error = NULL;
      TeEngineSettings actual, expected;

      g_test_message ("%s=%s", row->env, row->text);
      te_engine_settings_init (&actual);
      te_engine_settings_init (&expected);
      set_row_value (&expected, row);

      g_assert_true (te_engine_settings_apply_environment (&actual, (const char * const *) envp,
                                                           &error));
      g_assert_no_error (error);
      assert_settings_equal (&actual, &expected);

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
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    set_row_value (&expected, &rows[i]);

  /* Unrelated variables are ignored. */
  envp = g_environ_setenv (envp, "HOME", "/nowhere", TRUE);
  envp = g_environ_setenv (envp, "MAX_PER_IP", "junk", TRUE);

  g_assert_true (te_engine_settings_apply_environment (&actual, (const char * const *) envp,
                                                       &error));
  g_assert_no_error (error);
  assert_settings_equal (&actual, &expected);

  te_engine_settings_clear (&actual);
  te_engine_settings_clear (&expected);
}

static void
test_env_empty (void)
{
  g_auto(GStrv) envp = NULL;
  g_autoptr(GError) error = NULL;
  TeEngineSettings actual, defaults;

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    envp = g_environ_setenv (envp, rows[i].env, "", TRUE);

  te_engine_settings_init (&actual);
  te_engine_settings_init (&defaults);
  g_assert_true (te_engine_settings_apply_environment (&actual, (const char * const *) envp,
                                                       &error));
  g_assert_no_error (error);
  assert_settings_equal (&actual, &defaults);

  /* No environment at all is the same. */
  g_assert_true (te_engine_settings_apply_environment (&actual, NULL, &error));
  g_assert_no_error (error);
  assert_settings_equal (&actual, &defaults);

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
      assert_settings_equal (&s, &before);

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

/* The engine's table, which the remote API reads, against the rows here. */

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
  g_assert_cmpuint (with_env, ==, G_N_ELEMENTS (rows));

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const Row *row = &rows[i];
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
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    set_row_value (&src, &rows[i]);
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
  assert_settings_equal (&dst, &src);
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
      assert_settings_equal (&s, &before);

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
  assert_settings_equal (&actual, &defaults);

  te_engine_settings_clear (&actual);
  te_engine_settings_clear (&defaults);
}

static void
test_gsettings_each (Fixture       *f,
                     gconstpointer  data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const Row *row = &rows[i];
      TeEngineSettings actual, expected;

      g_test_message ("%s", row->key);
      te_engine_settings_init (&actual);
      te_engine_settings_init (&expected);
      set_row_value (&expected, row);

      g_assert_true (g_settings_set_value (f->settings, row->key, row_variant (row)));
      te_engine_settings_apply_gsettings (&actual, f->settings);
      assert_settings_equal (&actual, &expected);

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
 * variable's range. */
static void
test_gsettings_keys (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const types[] = { "s", "q", "u", "t", "d", "b" };
  g_auto(GStrv) keys = g_settings_schema_list_keys (f->schema);

  g_assert_cmpuint (g_strv_length (keys), ==, G_N_ELEMENTS (rows));
  for (guint k = 0; keys[k] != NULL; k++)
    {
      gboolean found = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (rows) && !found; i++)
        found = g_str_equal (rows[i].key, keys[k]);
      if (!found)
        g_test_message ("schema key %s has no variable", keys[k]);
      g_assert_true (found);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const Row *row = &rows[i];
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
  g_test_add_func ("/te/settings/table/rows", test_table_rows);
  g_test_add_func ("/te/settings/table/json-names", test_table_json_names);
  g_test_add_func ("/te/settings/json/round-trip", test_json_round_trip);
  g_test_add_func ("/te/settings/json/get", test_json_get);
  g_test_add_func ("/te/settings/json/bounds", test_json_bounds);
  g_test_add_func ("/te/settings/json/invalid-message", test_json_invalid_message);
  g_test_add_func ("/te/settings/json/invalid-long", test_json_invalid_long);
  g_test_add_func ("/te/settings/json/valid", test_json_valid);
  g_test_add ("/te/settings/gsettings/defaults", Fixture, NULL,
              fixture_setup, test_gsettings_defaults, fixture_teardown);
  g_test_add ("/te/settings/gsettings/each", Fixture, NULL,
              fixture_setup, test_gsettings_each, fixture_teardown);
  g_test_add ("/te/settings/gsettings/typed", Fixture, NULL,
              fixture_setup, test_gsettings_typed, fixture_teardown);
  g_test_add ("/te/settings/gsettings/keys", Fixture, NULL,
              fixture_setup, test_gsettings_keys, fixture_teardown);

  return g_test_run ();
}
