/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define TE_OUTBOUND_ERROR (te_outbound_error_quark ())
GQuark te_outbound_error_quark (void);

/**
 * TeOutboundError:
 * @TE_OUTBOUND_ERROR_REFUSED: the request would reach an address the policy
 *   forbids (a public server redirecting to a local one, or this process's own
 *   remote-control port)
 * @TE_OUTBOUND_ERROR_REDIRECT: a redirect without a usable `Location`, to a
 *   scheme other than http(s), or one too many
 */
typedef enum {
  TE_OUTBOUND_ERROR_REFUSED,
  TE_OUTBOUND_ERROR_REDIRECT,
} TeOutboundError;

/* At most this many redirects are followed for one request. */
#define TE_OUTBOUND_MAX_REDIRECTS 5

gboolean      te_outbound_address_is_public       (GInetAddress        *address);

void          te_outbound_add_own_port            (guint16              port);
void          te_outbound_remove_own_port         (guint16              port);

void          te_outbound_send_async              (SoupSession         *session,
                                                   SoupMessage         *msg,
                                                   const char          *peer_noun,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GInputStream *te_outbound_send_finish             (GAsyncResult        *result,
                                                   SoupMessage        **final_msg,
                                                   GError             **error);

G_END_DECLS
