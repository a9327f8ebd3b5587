/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The remote API's listening socket and its connections, with their
 * timeouts and caps. */

/* A connection has this long to send its first request's headers. */
#define TE_SERVICE_HEADER_TIMEOUT_MS (10 * 1000)
/* A keep-alive connection may wait this long for its next request; a
 * request body or a response may stall this long. */
#define TE_SERVICE_IDLE_TIMEOUT_MS (60 * 1000)
/* Connections from one address, at most. */
#define TE_SERVICE_MAX_PER_ADDRESS 64

/**
 * TeConnectionLimits:
 * @header_timeout_ms: 0 for %TE_SERVICE_HEADER_TIMEOUT_MS
 * @idle_timeout_ms: 0 for %TE_SERVICE_IDLE_TIMEOUT_MS
 * @max_per_address: 0 for %TE_SERVICE_MAX_PER_ADDRESS
 * @max_total: 0 for three quarters of the descriptor budget's API share
 *   (the rest covers connections being closed)
 */
typedef struct {
  guint header_timeout_ms;
  guint idle_timeout_ms;
  guint max_per_address;
  guint max_total;
} TeConnectionLimits;

#define TE_TYPE_SERVICE_CONNECTIONS (te_service_connections_get_type ())
G_DECLARE_FINAL_TYPE (TeServiceConnections, te_service_connections, TE, SERVICE_CONNECTIONS, GObject)

TeServiceConnections *te_service_connections_new        (SoupServer               *server,
                                                         const TeConnectionLimits *limits);
gboolean              te_service_connections_listen     (TeServiceConnections     *self,
                                                         GInetSocketAddress       *address,
                                                         GError                  **error);
guint16               te_service_connections_get_port   (TeServiceConnections     *self);
GSocket              *te_service_connections_get_socket (TeServiceConnections     *self,
                                                         SoupServerMessage        *msg);
guint                 te_service_connections_get_n_open (TeServiceConnections     *self);
void                  te_service_connections_close      (TeServiceConnections     *self);

G_END_DECLS
