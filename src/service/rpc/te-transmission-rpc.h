/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "te-engine.h"

G_BEGIN_DECLS

#define TE_TRANSMISSION_RPC_ERROR (te_transmission_rpc_error_quark ())
GQuark te_transmission_rpc_error_quark (void);

/**
 * TeTransmissionRpcError:
 * @TE_TRANSMISSION_RPC_ERROR_TOO_LARGE: the request body is larger than
 *   %TE_TRANSMISSION_RPC_MAX_REQUEST
 * @TE_TRANSMISSION_RPC_ERROR_PARSE: the body is not a JSON object, or nests too deep
 */
typedef enum {
  TE_TRANSMISSION_RPC_ERROR_TOO_LARGE,
  TE_TRANSMISSION_RPC_ERROR_PARSE,
} TeTransmissionRpcError;

/* Room for a base64 .torrent of about 24 MiB. */
#define TE_TRANSMISSION_RPC_MAX_REQUEST (32 * 1024 * 1024)
#define TE_TRANSMISSION_RPC_SESSION_HEADER "X-Transmission-Session-Id"

#define TE_TYPE_TRANSMISSION_RPC (te_transmission_rpc_get_type ())
G_DECLARE_FINAL_TYPE (TeTransmissionRpc, te_transmission_rpc, TE, TRANSMISSION_RPC, GObject)

TeTransmissionRpc *te_transmission_rpc_new      (TeEngine           *engine);
TeEngine          *te_transmission_rpc_get_engine (TeTransmissionRpc *self);
const char        *te_transmission_rpc_get_session_id (TeTransmissionRpc *self);
void               te_transmission_rpc_set_allow_url_fetch (TeTransmissionRpc *self,
                                                            gboolean           allow);
gboolean           te_transmission_rpc_get_allow_url_fetch (TeTransmissionRpc *self);
void               te_transmission_rpc_handle   (TeTransmissionRpc  *self,
                                                 SoupServerMessage  *msg);
char              *te_transmission_rpc_dispatch (TeTransmissionRpc  *self,
                                                 const char         *body,
                                                 gsize               length,
                                                 GError            **error);
int                te_transmission_rpc_get_torrent_id (TeTransmissionRpc *self,
                                                       TeTorrent         *torrent);

G_END_DECLS
