/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define TE_TRACKER_ERROR (te_tracker_error_quark ())
GQuark te_tracker_error_quark (void);

/**
 * TeTrackerError:
 * @TE_TRACKER_ERROR_HTTP_STATUS: the tracker answered with an HTTP error status;
 *   the message starts with "HTTP <status>", see te_tracker_error_get_http_status()
 * @TE_TRACKER_ERROR_FAILURE_REASON: the tracker refused the request; the message is its text
 * @TE_TRACKER_ERROR_TIMEOUT: no answer in time
 * @TE_TRACKER_ERROR_DNS: the tracker's host name did not resolve
 * @TE_TRACKER_ERROR_NETWORK: connecting, sending or receiving failed
 * @TE_TRACKER_ERROR_BAD_REPLY: the reply is malformed or too large
 * @TE_TRACKER_ERROR_UNSUPPORTED_URL: the URL is invalid or of a scheme we do not speak
 */
typedef enum {
  TE_TRACKER_ERROR_HTTP_STATUS,
  TE_TRACKER_ERROR_FAILURE_REASON,
  TE_TRACKER_ERROR_TIMEOUT,
  TE_TRACKER_ERROR_DNS,
  TE_TRACKER_ERROR_NETWORK,
  TE_TRACKER_ERROR_BAD_REPLY,
  TE_TRACKER_ERROR_UNSUPPORTED_URL,
} TeTrackerError;

typedef enum {
  TE_ANNOUNCE_EVENT_NONE,
  TE_ANNOUNCE_EVENT_STARTED,
  TE_ANNOUNCE_EVENT_COMPLETED,
  TE_ANNOUNCE_EVENT_STOPPED,
} TeAnnounceEvent;

/* Replies larger than this are refused, and at most this many peers are kept. */
#define TE_TRACKER_MAX_REPLY_SIZE (4 * 1024 * 1024)
#define TE_TRACKER_MAX_PEERS      2000

typedef struct {
  guint8          info_hash[20];     /* v1, or v2 truncated to 20 bytes (BEP 52) */
  guint8          peer_id[20];
  guint16         port;
  guint64         uploaded;
  guint64         downloaded;
  guint64         left;
  TeAnnounceEvent event;
  gint            numwant;           /* -1 = tracker default */
  guint32         key;
  const char     *tracker_id;        /* nullable, from a previous reply */
} TeAnnounceRequest;

typedef struct {
  guint32     interval;              /* seconds, within [30, 86400]; 1800 when not given */
  guint32     min_interval;          /* 0 if not given */
  char       *tracker_id;            /* nullable */
  char       *warning;               /* nullable, "warning message" */
  gint64      seeders;               /* -1 if unknown */
  gint64      leechers;              /* -1 if unknown */
  GPtrArray  *peers;                 /* GInetSocketAddress*, IPv4 and IPv6, deduplicated */
} TeAnnounceResponse;

typedef struct {
  gint64 seeders;
  gint64 leechers;
  gint64 downloaded;                 /* -1 if unknown */
} TeScrapeResult;

void                te_announce_response_free       (TeAnnounceResponse       *response);

void                te_tracker_announce_async       (SoupSession              *session,
                                                     const char               *url,
                                                     const TeAnnounceRequest  *request,
                                                     GCancellable             *cancellable,
                                                     GAsyncReadyCallback       callback,
                                                     gpointer                  user_data);
TeAnnounceResponse *te_tracker_announce_finish      (GAsyncResult             *result,
                                                     GError                  **error);

void                te_tracker_scrape_async         (SoupSession              *session,
                                                     const char               *url,
                                                     const guint8              info_hash[20],
                                                     GCancellable             *cancellable,
                                                     GAsyncReadyCallback       callback,
                                                     gpointer                  user_data);
gboolean            te_tracker_scrape_finish        (GAsyncResult             *result,
                                                     TeScrapeResult           *out,
                                                     GError                  **error);

char               *te_tracker_scrape_url           (const char               *announce_url);

TeAnnounceResponse *te_tracker_parse_http_reply     (const guint8             *body,
                                                     gsize                     len,
                                                     GError                  **error);

gboolean            te_tracker_error_is_retryable   (const GError             *error);
guint               te_tracker_error_get_http_status (const GError            *error);

/* Test hooks; the defaults are 15000 ms (BEP 15) and 30000 ms. */
void                te_tracker_set_udp_timeout_base (guint                     ms);
void                te_tracker_set_http_timeout     (guint                     ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeAnnounceResponse, te_announce_response_free)

G_END_DECLS
