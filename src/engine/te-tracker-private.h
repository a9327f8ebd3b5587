/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-tracker.h"

G_BEGIN_DECLS

/* Shared by te-tracker.c (dispatch, reply parsing), te-tracker-http.c and
 * te-tracker-udp.c. Every function runs on the caller's main context. */

#define TE_TRACKER_DEFAULT_INTERVAL 1800
#define TE_TRACKER_MIN_INTERVAL     30
#define TE_TRACKER_MAX_INTERVAL     86400

/* Collects peers, dropping duplicates, port 0, unspecified addresses, and
 * everything past TE_TRACKER_MAX_PEERS. */
typedef struct _TePeerSet TePeerSet;

TePeerSet          *_te_peer_set_new               (void);
void                _te_peer_set_free              (TePeerSet          *set);
void                _te_peer_set_add               (TePeerSet          *set,
                                                    const guint8       *addr,
                                                    gsize               addr_len,
                                                    guint16             port);
/* Adds each (address, big-endian port) entry of a compact string; @stride is 6 or 18. */
void                _te_peer_set_add_compact       (TePeerSet          *set,
                                                    const guint8       *data,
                                                    gsize               len,
                                                    gsize               stride);
GPtrArray          *_te_peer_set_steal             (TePeerSet          *set);

TeAnnounceResponse *_te_announce_response_new      (void);
guint32             _te_tracker_clamp_interval     (gint64              seconds);
/* Printable, valid UTF-8 copy of tracker-supplied text, cut to a sane length. */
char               *_te_tracker_sanitize           (const guint8       *text,
                                                    gsize               len);

/* Turns a GIO/resolver error into a TE_TRACKER_ERROR (cancellation passes
 * through unchanged) and returns it on @task. Takes @error. */
void                _te_tracker_return_gio_error   (GTask              *task,
                                                    GError             *error);

/* The parsers of the UDP replies (BEP 15), past the action and transaction id
 * check; exposed for the fuzz target. @ipv6 selects 18-byte peers. */
TeAnnounceResponse *_te_tracker_parse_udp_announce (const guint8       *data,
                                                    gsize               len,
                                                    gboolean            ipv6,
                                                    GError            **error);
gboolean            _te_tracker_parse_udp_scrape   (const guint8       *data,
                                                    gsize               len,
                                                    TeScrapeResult     *out,
                                                    GError            **error);
gboolean            _te_tracker_parse_http_scrape  (const guint8       *body,
                                                    gsize               len,
                                                    const guint8        info_hash[20],
                                                    TeScrapeResult     *out,
                                                    GError            **error);

/* Each returns its result, a TeAnnounceResponse or a TeScrapeResult, on @task. */
void                _te_tracker_http_announce      (GTask                   *task,
                                                    SoupSession             *session,
                                                    const char              *url,
                                                    const TeAnnounceRequest *request);
void                _te_tracker_http_scrape        (GTask                   *task,
                                                    SoupSession             *session,
                                                    const char              *url,
                                                    const guint8             info_hash[20]);
void                _te_tracker_udp_announce       (GTask                   *task,
                                                    GUri                    *uri,
                                                    const TeAnnounceRequest *request);
void                _te_tracker_udp_scrape         (GTask                   *task,
                                                    GUri                    *uri,
                                                    const guint8             info_hash[20]);

G_END_DECLS
