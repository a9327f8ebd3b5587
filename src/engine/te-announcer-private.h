/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-announcer.h"

G_BEGIN_DECLS

/* Shared by te-announcer.c (the class and its API) and te-announcer-round.c
 * (announce rounds, retries and stopping). */

#define TE_ANNOUNCER_DEFAULT_BACKOFF_BASE_MS     2000
#define TE_ANNOUNCER_BACKOFF_CAP_MS              (300 * 1000)
#define TE_ANNOUNCER_DEFAULT_STOP_TIMEOUT_MS     5000
/* UDP retransmits for hours (BEP 15); the next tracker should not wait that long. */
#define TE_ANNOUNCER_DEFAULT_ATTEMPT_TIMEOUT_MS  (120 * 1000)
/* announce_now() without a min interval from the tracker waits at least this. */
#define TE_ANNOUNCER_ANNOUNCE_NOW_FLOOR_S        30
#define TE_ANNOUNCER_FAILURES_FOR_WARNING        2
#define TE_ANNOUNCER_FAILURES_FOR_ERROR          5

typedef struct {
  char           *url;
  guint           tier;
  TeTrackerState  state;
  gint64          last_announce;        /* unix s */
  gint64          next_at;              /* monotonic µs, 0 when none is planned */
  gint64          not_before;           /* monotonic µs; backoff or refusal */
  guint           consecutive_failures;
  char           *last_error;
  char           *warning;
  gint64          seeders;
  gint64          leechers;
  guint           last_peer_count;
  char           *tracker_id;
  guint32         interval;             /* from its last reply, 0 before */
  gboolean        started;              /* took `started` since te_announcer_start() */
  gboolean        tried;                /* in the current round */
} Tracker;

typedef struct {
  TeAnnouncer     *self;         /* weak for announces (cleared on stop), strong for stops */
  Tracker         *tracker;
  TeAnnounceEvent  event;
  GCancellable    *cancellable;
  GSource         *timeout;
  gboolean         timed_out;
} Call;

struct _TeAnnouncer
{
  GObject       parent_instance;

  SoupSession  *session;
  GMainContext *context;
  GPtrArray    *tiers;          /* GPtrArray of Tracker* */
  guint8        info_hash[20];
  guint8        peer_id[20];
  guint16       port;
  guint32       key;
  guint64       uploaded;
  guint64       downloaded;
  guint64       left;

  gboolean      running;
  gboolean      completed_pending;
  Call         *call;           /* the announce in flight */
  GSource      *timer;
  gint64        timer_at;       /* monotonic µs */
  GSource      *stopped_idle;
  guint         n_stopping;

  gint64        last_success;   /* monotonic µs, 0 never */
  guint32       interval;
  guint32       min_interval;

  guint         backoff_base_ms;
  guint         attempt_timeout_ms;
  guint         stop_timeout_ms;
};

enum {
  TE_ANNOUNCER_SIGNAL_PEERS,
  TE_ANNOUNCER_SIGNAL_TRACKER_ERROR,
  TE_ANNOUNCER_SIGNAL_TRACKER_UPDATED,
  TE_ANNOUNCER_SIGNAL_STOPPED,
  TE_ANNOUNCER_N_SIGNALS
};

extern guint _te_announcer_signals[TE_ANNOUNCER_N_SIGNALS];

void _te_announcer_clear_source   (GSource         **source);
void _te_announcer_schedule_at    (TeAnnouncer      *self,
                                   gint64            at);
void _te_announcer_cancel_current (TeAnnouncer      *self);
void _te_announcer_send_stopped   (TeAnnouncer      *self,
                                   Tracker          *tracker);
void _te_announcer_stop_finished  (TeAnnouncer      *self);

G_END_DECLS
