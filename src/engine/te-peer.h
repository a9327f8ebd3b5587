/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-wire.h"

G_BEGIN_DECLS

#define TE_TYPE_PEER (te_peer_get_type ())
G_DECLARE_FINAL_TYPE (TePeer, te_peer, TE, PEER, GObject)

typedef enum {
  TE_PEER_CONNECTING,
  TE_PEER_HANDSHAKING,
  TE_PEER_ACTIVE,
  TE_PEER_CLOSED,
} TePeerState;

/**
 * TePeerHandler:
 * @handshake: the remote handshake arrived; return `FALSE` to refuse the peer.
 *   For incoming peers, call te_peer_set_local_handshake() before returning.
 * @ready: the handshake is through: send the opening messages
 * @message: one message; return `FALSE` after te_peer_close() to stop reading
 * @drained: the send queue fell below its low-water mark (send more pieces)
 * @closed: the connection ended; @reason says why
 *
 * How a peer reports to its owner. Calls are direct: no signal emission on the
 * per-message path.
 */
typedef struct {
  gboolean (*handshake) (TePeer *peer, const TeHandshake *hs, gpointer user_data);
  void     (*ready)     (TePeer *peer, gpointer user_data);
  gboolean (*message)   (TePeer *peer, const TeWireMsg *msg, gpointer user_data);
  void     (*drained)   (TePeer *peer, gpointer user_data);
  void     (*closed)    (TePeer *peer, const char *reason, gpointer user_data);
} TePeerHandler;

TePeer         *te_peer_new_outgoing        (GInetSocketAddress  *address,
                                             const TeHandshake   *local,
                                             const TePeerHandler *handler,
                                             gpointer             user_data);
TePeer         *te_peer_new_incoming        (GSocketConnection   *connection,
                                             const TePeerHandler *handler,
                                             gpointer             user_data);
void            te_peer_set_handler         (TePeer              *self,
                                             const TePeerHandler *handler,
                                             gpointer             user_data);
void            te_peer_set_local_handshake (TePeer              *self,
                                             const TeHandshake   *local);
void            te_peer_close               (TePeer              *self,
                                             const char          *reason);

TePeerState     te_peer_get_state           (TePeer              *self);
gboolean        te_peer_is_incoming         (TePeer              *self);
gboolean        te_peer_get_no_descriptors  (TePeer              *self);
GInetSocketAddress *te_peer_get_address     (TePeer              *self);
const char     *te_peer_get_address_string  (TePeer              *self);
const char     *te_peer_get_host_string     (TePeer              *self);
const TeHandshake *te_peer_get_remote_handshake (TePeer          *self);
gpointer        te_peer_get_owner_data      (TePeer              *self);
void            te_peer_set_owner_data      (TePeer              *self,
                                             gpointer             data,
                                             GDestroyNotify       destroy);
void            te_peer_set_max_message     (TePeer              *self,
                                             guint32              max_len);
void            te_peer_set_read_paused     (TePeer              *self,
                                             gboolean             paused);
gint64          te_peer_get_last_received   (TePeer              *self);
gsize           te_peer_get_send_queue      (TePeer              *self);

void            te_peer_send_simple         (TePeer              *self,
                                             TeWireId             id);
void            te_peer_send_index          (TePeer              *self,
                                             TeWireId             id,
                                             guint32              index);
void            te_peer_send_request        (TePeer              *self,
                                             TeWireId             id,
                                             guint32              index,
                                             guint32              begin,
                                             guint32              length);
void            te_peer_send_keepalive      (TePeer              *self);
void            te_peer_send_bitfield       (TePeer              *self,
                                             const guint8        *bits,
                                             gsize                len);
void            te_peer_send_extended       (TePeer              *self,
                                             guint8               ext_id,
                                             const guint8        *payload,
                                             gsize                len);
void            te_peer_send_piece          (TePeer              *self,
                                             guint32              index,
                                             guint32              begin,
                                             const guint8        *data,
                                             gsize                len);
void            te_peer_send_hashes         (TePeer              *self,
                                             TeWireId             id,
                                             const guint8         pieces_root[32],
                                             guint32              base_layer,
                                             guint32              index,
                                             guint32              length,
                                             guint32              proof_layers,
                                             const guint8        *hashes,
                                             guint32              n_hashes);

G_END_DECLS
