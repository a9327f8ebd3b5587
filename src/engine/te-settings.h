/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TE_SETTINGS_ERROR (te_settings_error_quark ())
GQuark te_settings_error_quark (void);

typedef enum {
  TE_SETTINGS_ERROR_INVALID,     /* a value does not parse or is out of range */
} TeSettingsError;

/* The GSettings schema id of the app's settings (data/). */
#define TE_SETTINGS_SCHEMA_ID "io.github.torrentedge.TorrentEdge"

/**
 * TeEngineSettings:
 * @download_path: where new torrents are saved (owned; te_engine_settings_clear() frees it)
 * @listen_port: first port to try (0: any free port)
 * @max_active_downloads: downloads running at once, the rest queue (0: no limit)
 * @max_active_seeds: seeds running at once (0: no limit)
 * @max_peers_per_torrent: connections per torrent
 * @max_peers_global: connections in all
 * @max_per_ip: connections per address (loopback is exempt: every test peer shares it)
 * @download_limit: bytes/s, 0 unlimited
 * @upload_limit: bytes/s, 0 unlimited
 * @seed_ratio_limit: stop seeding at this upload/size ratio (0: never)
 * @seed_time_limit_ms: stop seeding after this long (0: never)
 * @auto_resume: restart torrents that were running when the engine stopped
 * @verify_on_resume: recheck all data when restoring state
 * @state_save_interval_ms: how often changed state is saved
 * @max_piece_retries: hash failures before a piece is reported problematic
 * @max_peer_failures_per_piece: bad pieces a peer may take part in before it is banned
 * @peer_reconnect_delay_ms: first wait before dialling a failed peer again (doubles)
 * @peer_ban_duration_ms: how long a banned address stays banned
 * @stall_timeout_s: a download without payload for this long stops holding a queue slot
 * @enable_pex: exchange peers (never for private torrents)
 * @alt_speed_enabled: use the alternative limits instead of @download_limit and @upload_limit
 * @alt_download_limit: bytes/s while @alt_speed_enabled, 0 unlimited
 * @alt_upload_limit: bytes/s while @alt_speed_enabled, 0 unlimited
 * @allowed_paths: (nullable) (array zero-terminated=1): the folders that paths
 *   given through the remote API must lie in; `NULL` or empty means
 *   @download_path. Set only locally (`ALLOWED_PATHS`, the `allowed-paths`
 *   key), never through the remote API, so a client cannot widen it.
 */
typedef struct {
  char     *download_path;
  guint16   listen_port;
  guint     max_active_downloads;
  guint     max_active_seeds;
  guint     max_peers_per_torrent;
  guint     max_peers_global;
  guint     max_per_ip;
  guint64   download_limit;
  guint64   upload_limit;
  double    seed_ratio_limit;
  guint64   seed_time_limit_ms;
  gboolean  auto_resume;
  gboolean  verify_on_resume;
  guint     state_save_interval_ms;
  guint     max_piece_retries;
  guint     max_peer_failures_per_piece;
  guint     peer_reconnect_delay_ms;
  guint64   peer_ban_duration_ms;
  guint     stall_timeout_s;
  gboolean  enable_pex;
  gboolean  alt_speed_enabled;
  guint64   alt_download_limit;
  guint64   alt_upload_limit;
  char    **allowed_paths;
} TeEngineSettings;

/**
 * TeSettingKind:
 * @TE_SETTING_KIND_PATH: a `char *` absolute path; GSettings type `s`, a JSON string
 * @TE_SETTING_KIND_UINT16: a `guint16`; `q`, a JSON integer
 * @TE_SETTING_KIND_UINT: a `guint`; `u`, a JSON integer
 * @TE_SETTING_KIND_UINT64: a `guint64`; `t`, a JSON integer
 * @TE_SETTING_KIND_DOUBLE: a finite `double` of 0 or more; `d`, a JSON number
 * @TE_SETTING_KIND_BOOLEAN: a `gboolean`; `b`, a JSON boolean
 *
 * The type of a field of [struct@EngineSettings].
 */
typedef enum {
  TE_SETTING_KIND_PATH,
  TE_SETTING_KIND_UINT16,
  TE_SETTING_KIND_UINT,
  TE_SETTING_KIND_UINT64,
  TE_SETTING_KIND_DOUBLE,
  TE_SETTING_KIND_BOOLEAN,
} TeSettingKind;

/**
 * TeSettingInfo:
 * @env: (nullable): the environment variable, or `NULL` for a setting only the
 *   remote API changes
 * @key: (nullable): the key in the %TE_SETTINGS_SCHEMA_ID schema, or `NULL`
 * @json_name: the member name in the REST API and in the daemon's
 *   `settings.json`
 * @offset: where the field is in [struct@EngineSettings]; read and write it
 *   with [func@engine_settings_get_json] and [func@engine_settings_set_json]
 * @kind: the field's type
 * @min: the smallest value allowed, for the integer kinds
 * @max: the largest value allowed, for the integer kinds
 * @unit: (nullable): the unit of an integer, as error messages show it
 *
 * One configurable field of [struct@EngineSettings]. The engine's table of
 * them, from [func@setting_info_list], is the one place a setting's names,
 * kind and bounds are written: the environment, GSettings and the remote API
 * all read it.
 */
typedef struct {
  const char    *env;
  const char    *key;
  const char    *json_name;
  gsize          offset;
  TeSettingKind  kind;
  guint64        min;
  guint64        max;
  const char    *unit;
} TeSettingInfo;

const TeSettingInfo *te_setting_info_list (gsize                  *n_infos);
const TeSettingInfo *te_setting_info_find (const char             *json_name);

void     te_engine_settings_init          (TeEngineSettings        *settings);
void     te_engine_settings_clear         (TeEngineSettings        *settings);
void     te_engine_settings_copy          (TeEngineSettings        *dest,
                                           const TeEngineSettings  *src);
gboolean te_engine_settings_apply_environment (TeEngineSettings    *settings,
                                           const char * const      *envp,
                                           GError                 **error);
void     te_engine_settings_apply_gsettings (TeEngineSettings      *settings,
                                           GSettings               *gsettings);

JsonNode *te_engine_settings_get_json     (const TeEngineSettings  *settings,
                                           const TeSettingInfo     *info);
gboolean  te_engine_settings_set_json     (TeEngineSettings        *settings,
                                           const TeSettingInfo     *info,
                                           JsonNode                *node,
                                           GError                 **error);

G_END_DECLS
