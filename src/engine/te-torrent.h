/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-bitfield.h"
#include "te-engine.h"
#include "te-metainfo.h"
#include "te-picker.h"

G_BEGIN_DECLS

#define TE_TYPE_TORRENT (te_torrent_get_type ())
G_DECLARE_FINAL_TYPE (TeTorrent, te_torrent, TE, TORRENT, GObject)

typedef enum {
  TE_TORRENT_STATE_PENDING,      /* awaiting metadata */
  TE_TORRENT_STATE_CHECKING,
  TE_TORRENT_STATE_DOWNLOADING,
  TE_TORRENT_STATE_SEEDING,
  TE_TORRENT_STATE_PAUSED,
  TE_TORRENT_STATE_ERROR,
} TeTorrentState;

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
void            te_torrent_get_stats        (TeTorrent            *self,
                                             TeTorrentStats       *stats);
const TeBitfield *te_torrent_get_have       (TeTorrent            *self);
gboolean        te_torrent_is_complete      (TeTorrent            *self);

void            te_torrent_start            (TeTorrent            *self);
void            te_torrent_pause            (TeTorrent            *self);
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
void            te_torrent_set_super_seeding (TeTorrent           *self,
                                              gboolean             enabled);
void            te_torrent_add_peer         (TeTorrent            *self,
                                             GInetSocketAddress   *address);

G_END_DECLS
