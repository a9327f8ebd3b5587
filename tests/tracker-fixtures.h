/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-test-utils.h"
#include <gio/gio.h>
#include <libsoup/soup.h>

#include "te-bencode.h"
#include "te-tracker.h"

G_BEGIN_DECLS

/* What test-tracker, test-tracker-udp and test-announcer share: an
 * in-process libsoup tracker and a fake UDP tracker, both on loopback, and
 * bounded waits on the default main context. */

/* An info-hash holding the bytes that need escaping most. */
extern const guint8 tf_awkward_hash[20];
#define AWKWARD_HASH_ESCAPED "%00%FF%25%26%3D%2B%20%3F%23%2FAz0~.-_%80%7F%01"

extern const guint8 tf_peer_id[20];

/* Waiting */

gboolean             tf_set_flag_cb        (gpointer                  data);

/* Runs the default main context until @cond holds; fails after @ms. */
#define WAIT_UNTIL(cond, ms) G_STMT_START {                              \
    gboolean expired_ = FALSE;                                           \
    guint id_ = g_timeout_add ((ms), tf_set_flag_cb, &expired_);         \
    while (!(cond) && !expired_)                                         \
      g_main_context_iteration (NULL, TRUE);                             \
    if (!expired_)                                                       \
      g_source_remove (id_);                                             \
    g_assert_true (cond);                                                \
  } G_STMT_END


TeAnnounceResponse  *tf_announce_sync      (SoupSession              *session,
                                            const char               *url,
                                            const TeAnnounceRequest  *request,
                                            GCancellable             *cancellable,
                                            GError                  **error);
gboolean             tf_scrape_sync        (SoupSession              *session,
                                            const char               *url,
                                            const guint8              info_hash[20],
                                            TeScrapeResult           *out,
                                            GError                  **error);
/* tf_peer_id, port 51413, `started`, and small made-up stats. */
void                 tf_init_request       (TeAnnounceRequest        *request,
                                            const guint8              info_hash[20]);

/* Replies */

void                 tf_set_int            (TeBValue                 *dict,
                                            const char               *key,
                                            gint64                    value);
void                 tf_set_bytes          (TeBValue                 *dict,
                                            const char               *key,
                                            const void               *data,
                                            gsize                     len);
GBytes              *tf_encode_free        (TeBValue                 *dict);
void                 tf_add_peer4          (GByteArray               *out,
                                            guint8                    a,
                                            guint8                    b,
                                            guint8                    c,
                                            guint8                    d,
                                            guint16                   port);
/* Two compact peers, 10.1.2.3:4567 and 10.1.2.4:4568; with @tracker_id,
 * also a min interval of 1 s. */
GBytes              *tf_peers_reply        (guint32                   interval,
                                            const char               *tracker_id);
gboolean             tf_has_peer           (GPtrArray                *peers,
                                            const char               *ip,
                                            guint16                   port);

/* The HTTP server */

typedef struct {
  guint     status;     /* 0: never answer */
  GBytes   *body;
  gboolean  chunked;
} Reply;

typedef struct {
  char       *path;
  char       *raw_query;
  GHashTable *params;   /* name → GBytes, percent-decoded */
  gint64      at;       /* monotonic µs */
} Request;

typedef struct {
  GSocketService *service;
  SoupServer  *server;
  SoupSession *session;
  char        *base;
  GHashTable  *replies;    /* path → GPtrArray of Reply*; the last one repeats */
  GHashTable  *served;     /* path → count */
  GPtrArray   *requests;
  GPtrArray   *paused;     /* SoupServerMessage* never answered */
} Fixture;

void                 tf_fixture_setup      (Fixture                  *f,
                                            gconstpointer             data);
void                 tf_fixture_teardown   (Fixture                  *f,
                                            gconstpointer             data);

#define ADD_FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, tf_fixture_setup, func, tf_fixture_teardown)

/* Queues a reply for @path, taking @body. */
void                 tf_push_reply         (Fixture                  *f,
                                            const char               *path,
                                            guint                     status,
                                            GBytes                   *body);
void                 tf_push_text          (Fixture                  *f,
                                            const char               *path,
                                            guint                     status,
                                            const char               *text);
char                *tf_url_for            (Fixture                  *f,
                                            const char               *path);
Request             *tf_nth_request        (Fixture                  *f,
                                            guint                     n);
void                 tf_assert_param_bytes (Request                  *request,
                                            const char               *name,
                                            const guint8             *expected,
                                            gsize                     len);
/* @expected `NULL`: the parameter is absent. */
void                 tf_assert_param       (Request                  *request,
                                            const char               *name,
                                            const char               *expected);

/* A loopback TCP port nobody listens on. */
guint16              tf_closed_port        (void);

/* The fake UDP tracker (BEP 15) */

typedef struct {
  GSocket    *socket;
  GSource    *source;
  guint16     port;
  gboolean    ipv6;
  guint       drop;            /* datagrams to ignore first */
  gboolean    drop_all;
  const char *error_message;   /* answer requests with action 3 */
  gboolean    stray_first;     /* send a reply with a wrong transaction id first */
  guint       n_datagrams;
  guint       n_connect;
  guint       n_announce;
  guint       n_scrape;
  guint64     connection_id;
  GArray     *transaction_ids; /* guint32, of every datagram */
  guint8      last[98];        /* the last announce or scrape request */
} FakeUdp;

guint32              tf_rd32               (const guint8             *p);
guint64              tf_rd64               (const guint8             *p);

/* `NULL` when the address family is not available here. */
FakeUdp             *tf_fake_udp_new       (GSocketFamily             family);
void                 tf_fake_udp_free      (FakeUdp                  *fake);
char                *tf_fake_url           (FakeUdp                  *fake);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeUdp, tf_fake_udp_free)

G_END_DECLS
