/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-bitfield.h"
#include "te-announcer.h"
#include "te-engine.h"
#include "te-error-event.h"
#include "te-metainfo.h"
#include "te-picker.h"

G_BEGIN_DECLS

#define TE_TORRENT_ERROR (te_torrent_error_quark ())
GQuark te_torrent_error_quark (void);

typedef enum {
  TE_TORRENT_ERROR_INVALID_TRACKER,   /* not an http(s)/udp URL, or too many */
  TE_TORRENT_ERROR_TRACKER_EXISTS,
  TE_TORRENT_ERROR_NO_TRACKER,        /* not one of the torrent's trackers */
} TeTorrentError;

#define TE_TYPE_TORRENT (te_torrent_get_type ())
G_DECLARE_FINAL_TYPE (TeTorrent, te_torrent, TE, TORRENT, GObject)

/**
 * TeTorrentState:
 * @TE_TORRENT_STATE_PENDING: fetching metadata from peers (magnets)
 * @TE_TORRENT_STATE_CHECKING: checking the data on disk
 * @TE_TORRENT_STATE_QUEUED: waiting for a download or seed slot
 * @TE_TORRENT_STATE_DOWNLOADING: fetching wanted pieces
 * @TE_TORRENT_STATE_SEEDING: has everything wanted, serves others
 * @TE_TORRENT_STATE_PAUSED: stopped by the user
 * @TE_TORRENT_STATE_ERROR: stopped by an error (see te_torrent_get_error())
 * @TE_TORRENT_STATE_COMPLETE: has everything, done seeding (ratio or time limit)
 */
typedef enum {
  TE_TORRENT_STATE_PENDING,
  TE_TORRENT_STATE_CHECKING,
  TE_TORRENT_STATE_QUEUED,
  TE_TORRENT_STATE_DOWNLOADING,
  TE_TORRENT_STATE_SEEDING,
  TE_TORRENT_STATE_PAUSED,
  TE_TORRENT_STATE_ERROR,
  TE_TORRENT_STATE_COMPLETE,
} TeTorrentState;

#define TE_TYPE_TORRENT_STATE (te_torrent_state_get_type ())
GType te_torrent_state_get_type (void) G_GNUC_CONST;

typedef enum {
  TE_QUEUE_PRIORITY_LOW = -1,
  TE_QUEUE_PRIORITY_NORMAL = 0,
  TE_QUEUE_PRIORITY_HIGH = 1,
} TeQueuePriority;

#define TE_TYPE_QUEUE_PRIORITY (te_queue_priority_get_type ())
GType te_queue_priority_get_type (void) G_GNUC_CONST;

const char *te_queue_priority_to_string (TeQueuePriority priority);
gboolean    te_queue_priority_from_string (const char     *name,
                                           TeQueuePriority *priority);
gboolean    te_torrent_state_from_string (const char      *name,
                                          TeTorrentState  *state);

/**
 * TeFileInfo:
 * @path: relative to the save path, with '/' between components
 * @length: bytes
 * @offset: where the file starts in the torrent
 * @have_bytes: verified bytes of this file
 * @priority: download priority (%TE_PRIORITY_SKIP when not wanted)
 */
typedef struct {
  char       *path;
  guint64     length;
  guint64     offset;
  guint64     have_bytes;
  TePriority  priority;
} TeFileInfo;

/**
 * TePeerInfo:
 * @address: the peer's IP address
 * @port: its port
 * @peer_id: its 20-byte id
 * @client: what it calls itself, or a name made from its peer id
 * @flags: Transmission-style letters for what is true today: D/d we want
 *   its data (d: it chokes us), U/u it wants ours (u: we choke it),
 *   O optimistic unchoke, S snubbed, I incoming. Transmission's X (from PEX),
 *   E (encrypted), H (from DHT) and T (uTP) are not set: the engine does not
 *   record where a peer address came from, and has no encryption, DHT or uTP
 * @download_rate: bytes/s from it
 * @upload_rate: bytes/s to it
 * @progress: how much of the torrent it has, 0 to 1
 * @am_choking: we choke it
 * @am_interested: we want pieces it has
 * @peer_choking: it chokes us
 * @peer_interested: it wants pieces we have
 */
typedef struct {
  char    *address;
  guint16  port;
  guint8   peer_id[20];
  char    *client;
  char     flags[16];
  guint64  download_rate;
  guint64  upload_rate;
  double   progress;
  gboolean am_choking;
  gboolean am_interested;
  gboolean peer_choking;
  gboolean peer_interested;
} TePeerInfo;

void te_file_info_free (TeFileInfo *info);
void te_peer_info_free (TePeerInfo *info);

/**
 * TeTorrentStats:
 *
 * Figures for progress displays, recomputed once a second.
 */
typedef struct {
  guint64 have_bytes;        /* verified, wanted or not */
  guint64 wanted_bytes;
  guint64 downloaded;        /* payload received */
  guint64 uploaded;          /* payload sent */
  guint64 download_rate;     /* bytes/s */
  guint64 upload_rate;
  guint   peers_connected;
  guint   peers_known;
  guint   seeds_connected;
  guint   pieces_have;
  guint   pieces_total;
  guint   hash_failures;
  guint   pex_received;      /* PEX messages from peers */
  guint   pex_sent;
} TeTorrentStats;

TeTorrentState  te_torrent_get_state        (TeTorrent            *self);
const char     *te_torrent_state_to_string  (TeTorrentState        state);
TeMetainfo     *te_torrent_get_metainfo     (TeTorrent            *self);
const char     *te_torrent_get_name         (TeTorrent            *self);
const char     *te_torrent_get_save_path    (TeTorrent            *self);
const GError   *te_torrent_get_error        (TeTorrent            *self);
const TeErrorEvent *te_torrent_get_error_event (TeTorrent         *self);
char           *te_torrent_dup_id           (TeTorrent            *self);
const guint8   *te_torrent_get_info_hash_v2 (TeTorrent            *self);
guint64         te_torrent_get_total_size   (TeTorrent            *self);
double          te_torrent_get_progress     (TeTorrent            *self);
double          te_torrent_get_ratio        (TeTorrent            *self);
gint64          te_torrent_get_eta          (TeTorrent            *self);
TeQueuePriority te_torrent_get_priority     (TeTorrent            *self);
guint           te_torrent_get_queue_position (TeTorrent          *self);
gint64          te_torrent_get_added_at     (TeTorrent            *self);
gint64          te_torrent_get_completed_at (TeTorrent            *self);
double          te_torrent_get_check_progress (TeTorrent          *self);
GPtrArray      *te_torrent_dup_files        (TeTorrent            *self);
GPtrArray      *te_torrent_dup_peers        (TeTorrent            *self);
GPtrArray      *te_torrent_dup_trackers     (TeTorrent            *self);
char           *te_torrent_dup_magnet       (TeTorrent            *self);
void            te_torrent_get_stats        (TeTorrent            *self,
                                             TeTorrentStats       *stats);
const TeBitfield *te_torrent_get_have       (TeTorrent            *self);
gboolean        te_torrent_is_complete      (TeTorrent            *self);

void            te_torrent_start            (TeTorrent            *self);
void            te_torrent_pause            (TeTorrent            *self);
void            te_torrent_recheck          (TeTorrent            *self);
void            te_torrent_set_seed_limits  (TeTorrent            *self,
                                             double                ratio,
                                             gint64                seed_time_ms);
void            te_torrent_set_sequential   (TeTorrent            *self,
                                             gboolean              sequential);
void            te_torrent_set_file_wanted  (TeTorrent            *self,
                                             guint                 file_index,
                                             gboolean              wanted);
void            te_torrent_set_file_priority (TeTorrent           *self,
                                              guint                file_index,
                                              TePriority           priority);
void            te_torrent_set_limits       (TeTorrent            *self,
                                             guint64               download,
                                             guint64               upload);
void            te_torrent_get_limits       (TeTorrent            *self,
                                             guint64              *download,
                                             guint64              *upload);
gboolean        te_torrent_set_save_path    (TeTorrent            *self,
                                             const char           *save_path,
                                             GError              **error);
void            te_torrent_announce_now     (TeTorrent            *self);
void            te_torrent_get_seed_limits  (TeTorrent            *self,
                                             double               *ratio,
                                             gint64               *seed_time_ms);
gboolean        te_torrent_get_sequential   (TeTorrent            *self);
gboolean        te_torrent_add_tracker      (TeTorrent            *self,
                                             const char           *url,
                                             int                   tier,
                                             GError              **error);
gboolean        te_torrent_remove_tracker   (TeTorrent            *self,
                                             const char           *url,
                                             GError              **error);
gboolean        te_torrent_replace_tracker  (TeTorrent            *self,
                                             const char           *old_url,
                                             const char           *new_url,
                                             GError              **error);
void            te_torrent_set_super_seeding (TeTorrent           *self,
                                              gboolean             enabled);
void            te_torrent_add_peer         (TeTorrent            *self,
                                             GInetSocketAddress   *address);

G_END_DECLS
