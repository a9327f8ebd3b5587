/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-magnet.h"
#include "te-metainfo.h"
#include "te-settings.h"

G_BEGIN_DECLS

#define TE_TYPE_ENGINE (te_engine_get_type ())
G_DECLARE_FINAL_TYPE (TeEngine, te_engine, TE, ENGINE, GObject)

typedef struct _TeTorrent TeTorrent;
typedef struct _TeQueueManager TeQueueManager;
typedef struct _TeBitfield TeBitfield;

#define TE_ENGINE_ERROR (te_engine_error_quark ())
GQuark te_engine_error_quark (void);

typedef enum {
  TE_ENGINE_ERROR_LISTEN,
  TE_ENGINE_ERROR_DUPLICATE,
} TeEngineError;


/**
 * TeAddOptions:
 * @save_path: (nullable): the folder for the data; the settings' download path when `NULL`
 * @paused: add it paused
 * @priority: its queue priority (a #TeQueuePriority)
 * @wanted: (nullable) (array length=n_wanted): per file, whether to download it; all when `NULL`
 * @sequential: fetch pieces in order
 */
typedef struct {
  const char     *save_path;
  gboolean        paused;
  int             priority;
  const gboolean *wanted;
  guint           n_wanted;
  gboolean        sequential;
} TeAddOptions;

/**
 * TeEngineStats:
 *
 * Figures over all torrents, refreshed once a second.
 */
typedef struct {
  guint64 download_rate;
  guint64 upload_rate;
  guint64 downloaded;        /* payload this session */
  guint64 uploaded;
  guint   peers_connected;
} TeEngineStats;

void          te_add_options_init       (TeAddOptions           *options);

TeEngine     *te_engine_new             (const TeEngineSettings *settings);
gboolean      te_engine_start           (TeEngine               *self,
                                         GError                **error);
void          te_engine_stop            (TeEngine               *self);
void          te_engine_stop_async      (TeEngine               *self,
                                         GCancellable           *cancellable,
                                         GAsyncReadyCallback     callback,
                                         gpointer                user_data);
gboolean      te_engine_stop_finish     (TeEngine               *self,
                                         GAsyncResult           *result,
                                         GError                **error);
guint16       te_engine_get_port        (TeEngine               *self);
void          te_engine_set_remote_control_port (TeEngine       *self,
                                                 guint16         port);
guint16       te_engine_get_remote_control_port (TeEngine       *self);
const guint8 *te_engine_get_peer_id     (TeEngine               *self);
const TeEngineSettings *te_engine_get_settings (TeEngine        *self);
void          te_engine_set_settings    (TeEngine               *self,
                                         const TeEngineSettings *settings);
void          te_engine_set_limits      (TeEngine               *self,
                                         guint64                 download,
                                         guint64                 upload);
void          te_engine_set_alt_speed   (TeEngine               *self,
                                         gboolean                enabled);
gboolean      te_engine_get_alt_speed   (TeEngine               *self);

TeTorrent    *te_engine_add_torrent     (TeEngine               *self,
                                         TeMetainfo             *metainfo,
                                         const char             *save_path,
                                         GError                **error);
TeTorrent    *te_engine_add_magnet      (TeEngine               *self,
                                         TeMagnet               *magnet,
                                         const char             *save_path,
                                         GError                **error);
TeTorrent    *te_engine_add_torrent_full (TeEngine              *self,
                                         TeMetainfo             *metainfo,
                                         const TeAddOptions     *options,
                                         TeBitfield             *restore,
                                         GError                **error);
TeTorrent    *te_engine_add_torrent_bytes (TeEngine             *self,
                                         GBytes                 *bytes,
                                         const TeAddOptions     *options,
                                         GError                **error);
TeTorrent    *te_engine_add_magnet_full (TeEngine               *self,
                                         TeMagnet               *magnet,
                                         const TeAddOptions     *options,
                                         GError                **error);
TeTorrent    *te_engine_add_magnet_uri  (TeEngine               *self,
                                         const char             *uri,
                                         const TeAddOptions     *options,
                                         GError                **error);
void          te_engine_remove          (TeEngine               *self,
                                         TeTorrent              *torrent,
                                         gboolean                delete_data);
TeTorrent    *te_engine_find_torrent    (TeEngine               *self,
                                         const char             *id);
GPtrArray    *te_engine_get_torrents    (TeEngine               *self);
TeQueueManager *te_engine_get_queue     (TeEngine               *self);
void          te_engine_set_queue_position (TeEngine            *self,
                                         TeTorrent              *torrent,
                                         guint                   position);
void          te_engine_set_priority    (TeEngine               *self,
                                         TeTorrent              *torrent,
                                         int                     priority);
void          te_engine_get_stats       (TeEngine               *self,
                                         TeEngineStats          *stats);
void          te_engine_move_storage_async (TeEngine            *self,
                                         TeTorrent              *torrent,
                                         const char             *save_path,
                                         GFileProgressCallback   progress,
                                         gpointer                progress_data,
                                         GCancellable           *cancellable,
                                         GAsyncReadyCallback     callback,
                                         gpointer                user_data);
gboolean      te_engine_move_storage_finish (TeEngine           *self,
                                         GAsyncResult           *result,
                                         GError                **error);

G_END_DECLS
