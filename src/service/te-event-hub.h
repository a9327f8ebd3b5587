/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "te-engine.h"

G_BEGIN_DECLS

/* WebSocket clients of /api/v1/events and the engine signals they follow. */

typedef struct _TeEventHub TeEventHub;

/* Frames queued for a client before it is cut off as too slow. */
#define TE_EVENT_HUB_MAX_BACKLOG 1024
/* How long a client may take nothing while events wait for it, or leave
 * keepalive pings unanswered, before it is closed. */
#define TE_EVENT_HUB_STALL_TIMEOUT_MS (30 * 1000)
/* Seconds between keepalive pings (less when the stall timeout is shorter). */
#define TE_EVENT_HUB_KEEPALIVE_S 30
/* The close code sent to a client that fell too far behind. */
#define TE_EVENT_HUB_CLOSE_TOO_SLOW SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION

TeEventHub *te_event_hub_new             (TeEngine                *engine);
void        te_event_hub_free            (TeEventHub              *hub);
void        te_event_hub_close           (TeEventHub              *hub);
void        te_event_hub_set_max_backlog (TeEventHub              *hub,
                                          guint                    frames);
void        te_event_hub_set_stall_timeout (TeEventHub            *hub,
                                          guint                    timeout_ms);
void        te_event_hub_add_client      (TeEventHub              *hub,
                                          SoupWebsocketConnection *conn,
                                          GSocket                 *socket,
                                          const char              *info_hashes);
guint       te_event_hub_get_n_clients   (TeEventHub              *hub);

G_END_DECLS
