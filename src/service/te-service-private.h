/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "te-api.h"
#include "te-auth.h"
#include "te-service-connections.h"
#include "te-service.h"
#include "te-torrent.h"

G_BEGIN_DECLS

typedef struct _TeEventHub TeEventHub;

typedef enum {
  TE_ROUTE_PUBLIC      = 1 << 0,  /* no credentials */
  TE_ROUTE_JSON        = 1 << 1,  /* a JSON object body, parsed before the handler */
  TE_ROUTE_LARGE_BODY  = 1 << 2,  /* up to TE_API_MAX_BODY, not TE_API_MAX_SMALL_BODY */
  TE_ROUTE_RAW_BODY    = 1 << 3,  /* the handler reads the body itself */
  TE_ROUTE_BASIC_AUTH  = 1 << 4,  /* HTTP basic credentials instead of a token */
  TE_ROUTE_WEBSOCKET   = 1 << 5,  /* token also from Sec-WebSocket-Protocol or ?access_token */
  TE_ROUTE_TORRENT     = 1 << 6,  /* the {id} segment names a torrent (404 if unknown) */
} TeRouteFlags;

typedef struct _TeCall TeCall;
typedef void (*TeRouteHandler) (TeCall *call);

typedef struct {
  const char     *method;
  const char     *pattern;    /* segments; "{id}" matches one */
  TeRouteFlags    flags;
  TeRouteHandler  handler;
} TeRoute;

struct _TeCall {
  TeService         *service;
  SoupServerMessage *msg;
  const TeRoute     *route;
  char              *id;
  TeTorrent         *torrent;
  GHashTable        *query;
  JsonObject        *body;
  gboolean           paused;
  gboolean           finished;
};

/* The routing table (te-service-routes.c) */
const TeRoute *_te_service_get_routes    (guint             *n_routes);
char         **_te_service_dup_route_names (void);

/* Replies (te-service.c) */
void     _te_call_pause              (TeCall            *call);
void     _te_call_unpause            (TeCall            *call);
void     _te_call_free               (TeCall            *call);
void     _te_call_reply              (TeCall            *call,
                                      guint              status,
                                      GString           *json);
void     _te_call_reply_node         (TeCall            *call,
                                      guint              status,
                                      JsonNode          *node);
void     _te_call_reply_object       (TeCall            *call,
                                      guint              status,
                                      JsonObject        *object);
void     _te_call_reply_error        (TeCall            *call,
                                      const GError      *error);
void     _te_call_reply_status       (TeCall            *call,
                                      guint              status,
                                      const char        *code,
                                      const char        *message);
void     _te_service_reply_error     (TeService         *self,
                                      SoupServerMessage *msg,
                                      guint              status,
                                      const char        *code,
                                      const char        *message);

/* State shared with the routes */
GBytes        *_te_service_get_secret     (TeService *self);
TeAuthLimiter *_te_service_get_limiter    (TeService *self);
const TeServiceConfig *_te_service_get_config (TeService *self);
gint64         _te_service_get_started_us (TeService *self);
SoupSession   *_te_service_get_session    (TeService *self);
TeEventHub    *_te_service_get_events     (TeService *self);
void           _te_service_settings_changed (TeService *self);
GBytes        *_te_service_get_openapi    (void);
void           _te_service_handle_transmission (TeService *self,
                                                SoupServerMessage *msg);
GSocket       *_te_service_get_message_socket (TeService         *self,
                                               SoupServerMessage *msg);

/* Torrents as JSON (te-service-torrents.c) */
void     _te_torrent_append_json     (GString           *out,
                                      TeTorrent         *torrent,
                                      const guint       *fields,
                                      guint              n_fields);

/* Route handlers */
void     _te_route_health            (TeCall *call);
void     _te_route_openapi           (TeCall *call);
void     _te_route_login             (TeCall *call);
void     _te_route_events            (TeCall *call);
void     _te_route_transmission      (TeCall *call);
void     _te_route_settings_get      (TeCall *call);
void     _te_route_settings_patch    (TeCall *call);
void     _te_route_stats             (TeCall *call);
void     _te_route_alt_speed_get     (TeCall *call);
void     _te_route_alt_speed_put     (TeCall *call);
void     _te_route_torrents_list     (TeCall *call);
void     _te_route_torrents_add      (TeCall *call);
void     _te_route_torrent_get       (TeCall *call);
void     _te_route_torrent_patch     (TeCall *call);
void     _te_route_torrent_delete    (TeCall *call);
void     _te_route_torrent_pause     (TeCall *call);
void     _te_route_torrent_resume    (TeCall *call);
void     _te_route_torrent_recheck   (TeCall *call);
void     _te_route_torrent_move      (TeCall *call);
void     _te_route_files_get         (TeCall *call);
void     _te_route_files_patch       (TeCall *call);
void     _te_route_peers_get         (TeCall *call);
void     _te_route_peers_add         (TeCall *call);
void     _te_route_trackers_get      (TeCall *call);
void     _te_route_trackers_add      (TeCall *call);
void     _te_route_trackers_replace  (TeCall *call);
void     _te_route_trackers_remove   (TeCall *call);

/* Test hooks */
void     _te_service_set_event_limits (TeService *self,
                                       guint      max_backlog_frames);
void     _te_service_set_connection_limits (TeService                *self,
                                            const TeConnectionLimits *limits);
guint    _te_service_get_n_connections (TeService *self);

G_END_DECLS
