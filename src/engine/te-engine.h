/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-magnet.h"
#include "te-metainfo.h"

G_BEGIN_DECLS

#define TE_TYPE_ENGINE (te_engine_get_type ())
G_DECLARE_FINAL_TYPE (TeEngine, te_engine, TE, ENGINE, GObject)

typedef struct _TeTorrent TeTorrent;

#define TE_ENGINE_ERROR (te_engine_error_quark ())
GQuark te_engine_error_quark (void);

typedef enum {
  TE_ENGINE_ERROR_LISTEN,
  TE_ENGINE_ERROR_DUPLICATE,
} TeEngineError;

/**
 * TeEngineSettings:
 * @listen_port: first port to try (0: any free port)
 * @max_peers_per_torrent: connections per torrent
 * @max_peers_global: connections in all
 * @max_per_ip: connections per address (loopback is exempt: every test peer shares it)
 * @download_limit: bytes/s, 0 unlimited
 * @upload_limit: bytes/s, 0 unlimited
 * @max_piece_retries: hash failures before a piece is reported problematic
 * @peer_ban_duration_s: how long 3 strikes ban an address
 * @enable_pex: exchange peers (never for private torrents)
 */
typedef struct {
  guint16  listen_port;
  guint    max_peers_per_torrent;
  guint    max_peers_global;
  guint    max_per_ip;
  guint64  download_limit;
  guint64  upload_limit;
  guint    max_piece_retries;
  guint    peer_ban_duration_s;
  gboolean enable_pex;
} TeEngineSettings;

void          te_engine_settings_init   (TeEngineSettings       *settings);

TeEngine     *te_engine_new             (const TeEngineSettings *settings);
gboolean      te_engine_start           (TeEngine               *self,
                                         GError                **error);
void          te_engine_stop            (TeEngine               *self);
guint16       te_engine_get_port        (TeEngine               *self);
const guint8 *te_engine_get_peer_id     (TeEngine               *self);
const TeEngineSettings *te_engine_get_settings (TeEngine        *self);
void          te_engine_set_limits      (TeEngine               *self,
                                         guint64                 download,
                                         guint64                 upload);

TeTorrent    *te_engine_add_torrent     (TeEngine               *self,
                                         TeMetainfo             *metainfo,
                                         const char             *save_path,
                                         GError                **error);
TeTorrent    *te_engine_add_magnet      (TeEngine               *self,
                                         TeMagnet               *magnet,
                                         const char             *save_path,
                                         GError                **error);
void          te_engine_remove_torrent  (TeEngine               *self,
                                         TeTorrent              *torrent);
GPtrArray    *te_engine_get_torrents    (TeEngine               *self);

G_END_DECLS
