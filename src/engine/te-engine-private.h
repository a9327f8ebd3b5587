/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "te-ban-manager.h"
#include "te-engine.h"
#include "te-listener.h"
#include "te-token-bucket.h"

G_BEGIN_DECLS

/* Shared by te-engine.c and the files that split its work (te-engine-add.c,
 * te-engine-move.c, te-engine-session.c, te-engine-settings.c). */
struct _TeEngine
{
  GObject           parent_instance;

  TeEngineSettings  settings;
  guint8            peer_id[20];
  TeListener       *listener;       /* the peer port */
  guint16           port;
  guint16           remote_control_port;  /* refused to outbound requests */
  SoupSession      *soup;
  TeBanManager     *bans;
  TeTokenBucket     down_bucket;
  TeTokenBucket     up_bucket;
  GPtrArray        *torrents;
  GHashTable       *by_hash;        /* 20-byte info-hash (v1 or v2 truncated) → TeTorrent */
  GPtrArray        *pending;        /* incoming peers before their handshake */
  TeQueueManager   *queue;
  GQueue            checks;         /* torrents waiting to check their data */
  guint             checks_running;
  guint             tick_id;
  guint             ticks;
  guint             rounds;         /* of the tick, for quiet seeds' turns */
  TeEngineStats     stats;
  guint64           removed_down;   /* session totals of removed torrents */
  guint64           removed_up;
  gint64            dials_resume_us; /* no outgoing connections before, for want of descriptors */
  guint             dials_backoff_ms;
};

void _te_engine_announce_added (TeEngine  *self,
                                TeTorrent *torrent);
void _te_engine_apply_limits   (TeEngine  *self);
void _te_engine_index_torrent  (TeEngine  *self,
                                TeTorrent *torrent,
                                gboolean   present);
TeTorrent *_te_engine_lookup_hash (TeEngine     *self,
                                   const guint8  info_hash[20]);

/* Descriptors (te-engine-session.c) */
guint    _te_engine_max_peers          (TeEngine *self);
gboolean _te_engine_may_dial           (TeEngine *self,
                                        gint64    now);
void     _te_engine_dial_out_of_descriptors (TeEngine *self,
                                             gint64    now);
void     _te_engine_dial_succeeded     (TeEngine *self);

/* The torrent signals the engine repeats as its torrent-… signals; the
 * arguments that follow each are the torrent signal's own. */
typedef enum {
  TE_ENGINE_TORRENT_STATE_CHANGED,     /* TeTorrentState from, TeTorrentState to */
  TE_ENGINE_TORRENT_COMPLETED,
  TE_ENGINE_TORRENT_ERROR,             /* const TeErrorEvent *event */
  TE_ENGINE_TORRENT_PIECE_COMPLETED,   /* guint index */
  TE_ENGINE_TORRENT_PEER_CONNECTED,    /* TePeer *peer */
  TE_ENGINE_TORRENT_PEER_DISCONNECTED, /* TePeer *peer, const char *reason */
  TE_ENGINE_TORRENT_METADATA_RECEIVED,
} TeEngineTorrentSignal;

void _te_engine_emit_torrent_signal (TeEngine              *self,
                                     TeTorrent             *torrent,
                                     TeEngineTorrentSignal  which,
                                     ...);

G_END_DECLS
