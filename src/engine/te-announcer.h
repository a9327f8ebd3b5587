/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "te-tracker.h"

G_BEGIN_DECLS

/**
 * TeTrackerState:
 * @TE_TRACKER_STATE_UNKNOWN: not answered yet
 * @TE_TRACKER_STATE_WORKING: the last announce worked
 * @TE_TRACKER_STATE_WARNING: 2 to 4 announces in a row failed
 * @TE_TRACKER_STATE_ERROR: 5 or more announces in a row failed
 */
typedef enum {
  TE_TRACKER_STATE_UNKNOWN,
  TE_TRACKER_STATE_WORKING,
  TE_TRACKER_STATE_WARNING,
  TE_TRACKER_STATE_ERROR,
} TeTrackerState;

typedef struct {
  char           *url;
  guint           tier;
  TeTrackerState  state;
  gint64          last_announce;         /* unix s of the last attempt, 0 never */
  gint64          next_announce;         /* unix s, 0 when none is planned */
  guint           consecutive_failures;
  char           *last_error;            /* nullable */
  gint64          seeders;               /* -1 if unknown */
  gint64          leechers;              /* -1 if unknown */
  guint           last_peer_count;
  char           *warning;               /* nullable, the last reply's warning message */
} TeTrackerInfo;

void        te_tracker_info_free            (TeTrackerInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeTrackerInfo, te_tracker_info_free)

#define TE_TYPE_ANNOUNCER (te_announcer_get_type ())
G_DECLARE_FINAL_TYPE (TeAnnouncer, te_announcer, TE, ANNOUNCER, GObject)

TeAnnouncer *te_announcer_new                (SoupSession   *session,
                                              GPtrArray     *tiers,
                                              const guint8   info_hash[20],
                                              const guint8   peer_id[20],
                                              guint16        port);
void         te_announcer_start              (TeAnnouncer   *self);
void         te_announcer_stop               (TeAnnouncer   *self);
void         te_announcer_completed          (TeAnnouncer   *self);
void         te_announcer_announce_now       (TeAnnouncer   *self);
void         te_announcer_set_stats          (TeAnnouncer   *self,
                                              guint64        uploaded,
                                              guint64        downloaded,
                                              guint64        left);
void         te_announcer_add_tracker        (TeAnnouncer   *self,
                                              const char    *url,
                                              guint          tier);
GPtrArray   *te_announcer_dup_trackers       (TeAnnouncer   *self);
gboolean     te_announcer_is_running         (TeAnnouncer   *self);

/* Test hooks */
void         te_announcer_set_backoff_base_ms (TeAnnouncer  *self,
                                               guint         ms);
void         te_announcer_set_attempt_timeout_ms (TeAnnouncer *self,
                                                  guint        ms);

G_END_DECLS
