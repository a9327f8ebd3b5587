/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "te-announcer.h"
#include "te-ban-manager.h"
#include "te-choker.h"
#include "te-ext.h"
#include "te-peer.h"
#include "te-picker.h"
#include "te-storage.h"
#include "te-token-bucket.h"
#include "te-torrent.h"

G_BEGIN_DECLS

#define TE_PEER_MAX_REQUESTS 500   /* our pipeline cap per peer */
#define TE_PEER_MAX_INCOMING 500   /* the reqq we advertise */

/* What TeTorrent keeps per connection, as the TePeer's owner data. */
typedef struct {
  TeBlock  block;
  gint64   sent_us;
} Request;

typedef struct {
  TeTorrent      *torrent;
  TePeer         *peer;             /* not owned: the torrent's peers array owns it */
  gint64          connected_at;
  gboolean        handshaken;
  gboolean        fast;
  gboolean        extended;
  TeExtHandshake  ext;
  gboolean        ext_received;

  TeBitfield     *has;              /* NULL until known */
  gboolean        has_all;
  GBytes         *early_bitfield;   /* before metadata, for magnets */
  guint           interesting;      /* pieces they have that we want */

  gboolean        am_choking;
  gboolean        am_interested;
  gboolean        peer_choking;
  gboolean        peer_interested;
  TeBitfield     *allowed_fast;     /* pieces they let us fetch while choked */

  TeBlock         cancelled[64];    /* recently cancelled: late data for these is fine */
  guint           n_cancelled;
  Request        *requests;         /* ours to them, in flight */
  guint           n_requests;
  guint           max_requests;
  gint64          last_block_us;
  gboolean        snubbed;
  double          srtt_us;
  double          rttvar_us;

  TeBlock        *incoming;         /* theirs to us, queued */
  guint           n_incoming;
  guint           incoming_head;
  guint           reads_in_flight;

  guint64         down_payload;
  guint64         up_payload;
  guint64         down_sample;
  guint64         up_sample;
  guint64         down_rate;
  guint64         up_rate;

  char           *listen_key;       /* incoming peers: "host:port" they listen on */
  guint           super_offer;      /* piece advertised while super-seeding */
  gboolean        super_revealed;   /* shown everything: nobody else to spread to */
  gboolean        v2;               /* BEP 52 bit in their handshake */
  guint           hash_requests;
  guint           metadata_requests;
  gint64          last_pex_us;
  GPtrArray      *pex_sent;         /* addresses already told to this peer */
} PeerSlot;

typedef struct {
  GInetSocketAddress *address;
  char               *key;          /* "host:port" */
  guint               failures;
  gint64              next_attempt_us;
  gboolean            connected;
  gboolean            is_self;
} KnownPeer;

typedef struct {
  guint8     *data;
  guint32     size;
  guint       blocks;
  guint       received;
  GPtrArray  *contributors;         /* host strings, for blame on a hash failure */
} PieceBuf;

typedef struct {
  guint     piece;
  GBytes   *data;
  guint64   last_used;
} CachedPiece;

/* Piece-sized buffers, reused: released from worker threads, so locked. */
typedef struct {
  gint       ref;
  GMutex     lock;
  gsize      size;
  GPtrArray *free;
} BufferPool;

struct _TeTorrent
{
  GObject           parent_instance;

  TeEngine         *engine;         /* not owned */
  TeTorrentState    state;
  gboolean          running;         /* peers, trackers and the tick are on */
  gboolean          user_paused;
  gboolean          checking;
  gboolean          check_slot;      /* holds one of the engine's check slots */
  gboolean          check_waiting;   /* in the engine's queue for one */
  gboolean          watching_files;
  TeBitfield       *watched_have;    /* what the file watch is looking for */
  gint64            files_checked_us;
  gboolean          queued;          /* the queue has no slot for it now */
  gboolean          seed_done;       /* reached its ratio or seeding time */
  gboolean          ignore_seed_limits; /* resumed by hand after finishing */
  gboolean          recheck_on_resume;  /* data may have changed under us */
  TeBitfield       *restored;        /* saved bitfield, while its files are looked at */
  GError           *error;
  TeErrorEvent     *error_event;
  guint             error_serial;    /* errors so far: writes from before the last one are stale */
  guint             disk_retry_id;   /* stopped by a full disk: the timer that tries again */
  guint             disk_retry_ms;   /* its last wait, doubling while the disk stays full */
  guint             fd_wait_ms;      /* out of descriptors: the wait before I/O is tried again */
  gint64            fd_wait_us;      /* when the last such wait began */
  gint64            fd_logged_us;    /* when it was last logged */
  guint             serve_retry_id;  /* serving again after a read found no descriptor */
  guint             check_retry_id;  /* a check tried again after it found no descriptor */
  TeQueuePriority   priority;
  guint             queue_position;
  double            seed_ratio;      /* < 0: the engine's setting; 0: none */
  gint64            seed_time_ms;    /* < 0: the engine's setting; 0: none */
  gint64            added_at;        /* unix s */
  gint64            completed_at;    /* unix s, 0: not yet */
  gint64            running_since_us;
  gint64            seeding_since_us;
  gint64            last_payload_us; /* last downloaded block, for stall detection */
  double            check_progress;
  guint64           downloaded_base; /* totals from earlier sessions */
  guint64           uploaded_base;
  GPtrArray        *last_trackers;   /* TeTrackerInfo kept while the announcer is off */
  GBytes           *torrent_bytes;   /* the .torrent, or the fetched info dict, for the state store */
  guint             state_serial;    /* bumped by every change worth saving */
  gint64            published[20];   /* property values as last notified */
  char             *save_path;
  char             *name;
  guint8            info_hash[20];  /* v1, or v2 truncated: the wire and tracker id */
  guint8            info_hash_v2[32];
  gboolean          has_v1_hash;
  gboolean          has_v2_hash;
  gboolean          private;

  TeMetainfo       *metainfo;       /* NULL while fetching metadata */
  TeStorage        *storage;
  TePicker         *picker;
  TeBitfield       *have;
  TeBitfield       *wanted;
  GCancellable     *cancellable;
  gboolean          sequential;
  gboolean          super_seeding;
  TeSuperSeed      *super_seed;
  GHashTable       *file_priorities; /* file index → TePriority + 1, applied when metadata arrives */

  GPtrArray        *peers;           /* TePeer, owned */
  GHashTable       *known;           /* key → KnownPeer */
  TeAnnouncer      *announcer;
  GPtrArray        *magnet_trackers; /* for magnets until metadata */
  GPtrArray        *tracker_tiers;   /* the user's edited list, or NULL */
  TeChoker         *choker;
  guint             choke_round;
  TeTokenBucket     down_bucket;
  TeTokenBucket     up_bucket;
  guint             throttle_id;
  gsize             writes_pending;   /* bytes handed to the disk, not yet written */
  gboolean          write_paused;
  guint             upload_throttle_id;

  GHashTable       *pieces;          /* piece → PieceBuf in progress */
  BufferPool       *buffers;
  GQueue            cache;           /* CachedPiece, most recent first */
  gsize             cache_bytes;
  guint64           cache_clock;
  GHashTable       *reads;           /* piece → GPtrArray of PeerSlot waiting */

  GPtrArray        *layer_fetches;   /* v2 magnets: piece layers still to fetch */
  guint8           *metadata;        /* magnets: the info dict being fetched */
  gsize             metadata_size;
  TeBitfield       *metadata_have;
  guint8           *metadata_requested; /* per piece: 1 while asked */
  gint64            metadata_progress_us;

  gint64            last_tick_us;
  TeTorrentStats    stats;
  gboolean          bytes_dirty;     /* have/wanted bytes need a recount */
  guint64           down_total_sample;
  guint64           up_total_sample;
};

/* te-torrent.c */
void      _te_torrent_update_state       (TeTorrent          *self);
GPtrArray *_te_torrent_get_tiers         (TeTorrent          *self);
void      _te_piece_buf_free             (gpointer            data);
void      _te_torrent_detach             (TeTorrent          *self);
void      _te_torrent_set_tiers          (TeTorrent          *self,
                                          GPtrArray          *tiers);
void      _te_torrent_reset_announcer    (TeTorrent          *self);
void      _te_torrent_fail               (TeTorrent          *self,
                                          TeErrorCategory     category,
                                          const char         *code,
                                          GError             *error);
void      _te_torrent_fail_io            (TeTorrent          *self,
                                          GError             *error);
void      _te_torrent_report             (TeTorrent          *self,
                                          TeErrorEvent       *event);

/* te-torrent-retry.c: trouble that passes (a full disk, no descriptor left) */
gboolean  _te_torrent_clear_error        (TeTorrent          *self);
void      _te_torrent_schedule_disk_retry (TeTorrent         *self,
                                          GError             *error,
                                          TeErrorEvent       *event);
guint     _te_torrent_descriptor_wait    (TeTorrent          *self,
                                          GError             *error);
void      _te_torrent_retry_check_later  (TeTorrent          *self,
                                          GError             *error);
void      _te_torrent_serve_later        (TeTorrent          *self,
                                          GError             *error);
void      _te_torrent_set_disk_retry     (guint               first_ms,
                                          guint               last_ms);
void      _te_torrent_tick               (TeTorrent          *self,
                                          gint64              now);
void      _te_torrent_set_queued         (TeTorrent          *self,
                                          gboolean            queued);
gboolean  _te_torrent_is_stalled         (TeTorrent          *self,
                                          gint64              now,
                                          gint64              timeout_us);
void      _te_torrent_stop_running       (TeTorrent          *self,
                                          const char         *reason);
gboolean  _te_torrent_emit_stopped_idle  (gpointer            data);
void      _te_torrent_metadata_ready     (TeTorrent          *self,
                                          TeMetainfo         *metainfo,
                                          gboolean            check);
void      _te_torrent_strike             (TeTorrent          *self,
                                          const char         *host,
                                          const char         *reason);
void      _te_torrent_piece_verified     (TeTorrent          *self,
                                          guint               piece);
gboolean  _te_torrent_is_seeding         (TeTorrent          *self);

/* te-torrent-check.c: file priorities, data checks */
TePriority _te_torrent_file_priority     (TeTorrent          *self,
                                          guint               index);
void      _te_torrent_store_file_priority (TeTorrent         *self,
                                          guint               index,
                                          TePriority          priority);
void      _te_torrent_restore            (TeTorrent          *self,
                                          TeBitfield         *have,
                                          gboolean            verify);
void      _te_torrent_run_check          (TeTorrent          *self);
void      _te_torrent_apply_priorities   (TeTorrent          *self);
void      _te_torrent_start_check        (TeTorrent          *self);
void      _te_torrent_watch_files        (TeTorrent          *self,
                                          gint64              now);

/* te-torrent-control.c: what users change */
void      _te_torrent_set_storage_path   (TeTorrent          *self,
                                          const char         *save_path);
void      _te_torrent_priorities_changed (TeTorrent          *self);

/* te-torrent-stats.c: figures and what UIs read */
void      _te_torrent_recompute_stats    (TeTorrent          *self,
                                          gint64              now);
void      _te_torrent_publish            (TeTorrent          *self);
void      _te_torrent_install_properties (GObjectClass       *klass);
void      _te_torrent_get_property       (GObject            *object,
                                          guint               prop_id,
                                          GValue             *value,
                                          GParamSpec         *pspec);

/* te-torrent-peers.c: connections */
extern const TePeerHandler _te_torrent_peer_handler;
TeTorrent *_te_torrent_new               (TeEngine           *engine,
                                          const char         *save_path);
void      _te_torrent_attach_incoming    (TeTorrent          *self,
                                          TePeer             *peer);
gboolean  _te_torrent_matches_hash       (TeTorrent          *self,
                                          const guint8        info_hash[20]);
void      _te_torrent_connect_more       (TeTorrent          *self);
void      _te_torrent_learn_peer         (TeTorrent          *self,
                                          GInetSocketAddress *address);
void      _te_torrent_learn_listener     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          GInetSocketAddress *address);
void      _te_torrent_drop_all_peers     (TeTorrent          *self,
                                          const char         *reason);
void      _te_torrent_rechoke            (TeTorrent          *self);
guint     _te_torrent_count_peers        (TeTorrent          *self);

/* te-torrent-wire.c: messages */
gboolean  _te_torrent_handle_message     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const TeWireMsg    *msg);
void      _te_torrent_peer_ready         (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_torrent_announce_pieces    (TeTorrent          *self);
void      _te_torrent_recount_interest   (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_torrent_update_interest    (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_torrent_check_timeouts     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          gint64              now);
void      _te_torrent_slot_free          (gpointer            data);
void      _te_torrent_peer_gone          (TeTorrent          *self,
                                          PeerSlot           *slot);

gboolean  _te_torrent_protocol_error     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const char         *reason,
                                          gboolean            strike);
gboolean  _te_torrent_peer_is_seed       (TeTorrent          *self,
                                          PeerSlot           *slot);

/* te-torrent-download.c: our requests, piece data, writes */
void      _te_torrent_fill_requests      (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_buffer_pool_unref          (BufferPool         *pool);
gboolean  _te_torrent_take_request       (PeerSlot           *slot,
                                          guint               piece,
                                          guint32             begin,
                                          gint64             *sent_us);
void      _te_torrent_cancel_request     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          guint               index);
gboolean  _te_torrent_handle_piece       (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const TeWireMsg    *msg);

/* te-torrent-upload.c: serving requests and hashes, super-seeding */
void      _te_torrent_serve              (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_torrent_super_seed_offer   (TeTorrent          *self);
void      _te_torrent_cache_clear        (TeTorrent          *self);
gboolean  _te_torrent_handle_request     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const TeWireMsg    *msg);
void      _te_torrent_handle_cancel      (PeerSlot           *slot,
                                          const TeWireMsg    *msg);
void      _te_torrent_serve_hashes       (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const TeWireMsg    *msg);
gboolean  _te_torrent_super_seed_active  (TeTorrent          *self);
void      _te_torrent_super_seed_saw     (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          guint               piece);

/* te-torrent-ext.c: extension messages (metadata, PEX) */
gboolean  _te_torrent_handle_extended    (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const TeWireMsg    *msg);
void      _te_torrent_send_ext_handshake (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_torrent_request_metadata   (TeTorrent          *self,
                                          PeerSlot           *slot);
void      _te_torrent_pex_tick           (TeTorrent          *self,
                                          gint64              now);
void      _te_torrent_apply_early_bitfield (TeTorrent        *self,
                                            PeerSlot         *slot);

/* te-torrent-hashes.c: BEP 52 piece layers from peers */
void      _te_torrent_start_layer_fetch  (TeTorrent          *self);
gboolean  _te_torrent_file_has_hashes    (TeTorrent          *self,
                                          guint               file_index);
void      _te_torrent_request_hashes     (TeTorrent          *self,
                                          PeerSlot           *slot);
gboolean  _te_torrent_handle_hashes      (TeTorrent          *self,
                                          PeerSlot           *slot,
                                          const TeWireMsg    *msg);
void      _te_torrent_hashes_tick        (TeTorrent          *self);

/* te-engine.c */
SoupSession   *_te_engine_get_soup_session (TeEngine         *engine);
TeBanManager  *_te_engine_get_bans         (TeEngine         *engine);
TeTokenBucket *_te_engine_get_down_bucket  (TeEngine         *engine);
TeTokenBucket *_te_engine_get_up_bucket    (TeEngine         *engine);
guint          _te_engine_count_peers      (TeEngine         *engine);
void           _te_engine_torrent_changed  (TeEngine         *engine,
                                            TeTorrent        *torrent);
void           _te_remove_empty_parents    (const char       *root,
                                            const char       *path);
void           _te_engine_queue_check      (TeEngine         *engine,
                                            TeTorrent        *torrent);
void           _te_engine_check_done       (TeEngine         *engine,
                                            TeTorrent        *torrent);
guint          _te_engine_count_peers_for_host (TeEngine     *engine,
                                            const char       *host);

G_END_DECLS
