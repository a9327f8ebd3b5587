/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "te-torrent.h"
#include "te-transmission-rpc.h"

G_BEGIN_DECLS

/* Transmission counts speeds in kB/s of 1000 bytes (its `units` say so). */
#define TE_RPC_SPEED_K 1000
/* Longest array argument accepted (ids, fields, file indices, trackers). */
#define TE_RPC_MAX_ARRAY (1024 * 1024)
/* How long a torrent counts as recently active or recently removed. */
#define TE_RPC_RECENT_S 60

/* Transmission's status numbers (tr_torrent_activity). */
typedef enum {
  TE_RPC_STATUS_STOPPED = 0,
  TE_RPC_STATUS_CHECK_WAIT = 1,
  TE_RPC_STATUS_CHECK = 2,
  TE_RPC_STATUS_DOWNLOAD_WAIT = 3,
  TE_RPC_STATUS_DOWNLOAD = 4,
  TE_RPC_STATUS_SEED_WAIT = 5,
  TE_RPC_STATUS_SEED = 6,
} TeRpcStatus;

/* Transmission's seedRatioMode (tr_ratiolimit). */
enum {
  TE_RPC_RATIO_GLOBAL = 0,
  TE_RPC_RATIO_SINGLE = 1,
  TE_RPC_RATIO_UNLIMITED = 2,
};

/* What the endpoint knows of a torrent beyond the engine: its number, when
 * it was last active, and the Transmission-side values the engine keeps in
 * another shape (a limit remembered while it is switched off, the priority
 * of a file that is not wanted). */
typedef struct {
  TeTorrent  *torrent;
  int         id;
  gint64      activity;        /* unix s */
  gint64      started;         /* unix s, 0 when not run since we knew it */
  GHashTable *skipped_priority; /* file index → Transmission priority + 2 */
  guint64     down_kbps;
  guint64     up_kbps;
  double      ratio_limit;     /* the last single-torrent ratio set */
} TeRpcEntry;

struct _TeTransmissionRpc
{
  GObject      parent_instance;

  TeEngine    *engine;
  char        *session_id;
  GHashTable  *entries;        /* TeTorrent* → TeRpcEntry* (owned) */
  GHashTable  *by_id;          /* id → TeRpcEntry* */
  int          next_id;
  GArray      *removed;        /* TeRpcRemoved, oldest first */
  SoupSession *http;
  gboolean     allow_url_fetch;
  gboolean     start_added;
  guint64      speed_down_kbps; /* remembered while the limit is off */
  guint64      speed_up_kbps;
  double       seed_ratio;      /* remembered while the ratio limit is off */
  guint        download_queue;  /* remembered while the queue is off */
  guint        seed_queue;
  guint        stall_minutes;
  gint64       created;         /* unix s */
  guint        files_added;
  gulong       added_handler;
  gulong       removed_handler;
};

typedef struct {
  int    id;
  gint64 when;
} TeRpcRemoved;

/* One request on its way to an answer. Methods fill @out or set @result,
 * then call _te_rpc_call_return() once, at once or from a callback. */
typedef struct _TeRpcCall TeRpcCall;
typedef void (*TeRpcReturnFunc) (TeRpcCall *call);

struct _TeRpcCall
{
  TeTransmissionRpc *rpc;
  JsonNode          *root;
  JsonObject        *args;       /* never NULL: empty when the request had none */
  gboolean           has_tag;
  gint64             tag;
  JsonObject        *out;
  char              *result;     /* NULL: success */
  gboolean           returned;
  TeRpcReturnFunc    on_return;
  gpointer           data;       /* the SoupServerMessage, or the dispatch's answer slot */
  gboolean           paused;
};

void        _te_rpc_call_return     (TeRpcCall          *call);
void        _te_rpc_call_fail       (TeRpcCall          *call,
                                     const char         *format,
                                     ...) G_GNUC_PRINTF (2, 3);

/* Arguments: FALSE when absent or of the wrong type; the latter also fails
 * the call, so callers test call->result after a FALSE when it matters. */
gboolean    _te_rpc_arg_int         (TeRpcCall          *call,
                                     const char         *key,
                                     gint64             *out);
gboolean    _te_rpc_arg_double      (TeRpcCall          *call,
                                     const char         *key,
                                     double             *out);
gboolean    _te_rpc_arg_bool        (TeRpcCall          *call,
                                     const char         *key,
                                     gboolean           *out);
const char *_te_rpc_arg_string      (TeRpcCall          *call,
                                     const char         *key);
JsonArray  *_te_rpc_arg_array       (TeRpcCall          *call,
                                     const char         *key);
GPtrArray  *_te_rpc_select          (TeRpcCall          *call,
                                     gboolean           *recently_active);

TeRpcEntry *_te_rpc_lookup          (TeTransmissionRpc  *self,
                                     TeTorrent          *torrent);
void        _te_rpc_touch           (TeRpcEntry         *entry);

/* Mapping shared by torrent-get and session-stats. */
TeRpcStatus _te_rpc_status          (TeTorrent          *torrent);
GArray     *_te_rpc_file_map        (TeTorrent          *torrent);
gboolean    _te_rpc_file_indices    (TeRpcCall          *call,
                                     const char         *key,
                                     GArray             *map,
                                     GArray            **out);

gboolean    _te_rpc_apply_files     (TeRpcCall          *call,
                                     TeRpcEntry         *entry);

/* Methods, by family. */
void _te_rpc_torrent_get            (TeRpcCall *call);
void _te_rpc_torrent_action         (TeRpcCall *call,
                                     const char *method);
void _te_rpc_torrent_add            (TeRpcCall *call);
void _te_rpc_torrent_set            (TeRpcCall *call);
void _te_rpc_torrent_remove         (TeRpcCall *call);
void _te_rpc_torrent_set_location   (TeRpcCall *call);
void _te_rpc_queue_move             (TeRpcCall *call,
                                     const char *method);
void _te_rpc_session_get            (TeRpcCall *call);
void _te_rpc_session_set            (TeRpcCall *call);
void _te_rpc_session_stats          (TeRpcCall *call);
void _te_rpc_free_space             (TeRpcCall *call);
void _te_rpc_port_test              (TeRpcCall *call);
void _te_rpc_session_close          (TeRpcCall *call);

G_END_DECLS
