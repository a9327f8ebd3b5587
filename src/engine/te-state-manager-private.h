/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-state-manager.h"
#include "te-torrent-private.h"

G_BEGIN_DECLS

/* Shared by the saving half (te-state-manager.c) and the restoring half
 * (te-state-manager-restore.c). */

typedef struct {
  TeStateManager *manager;
  TeTorrent      *torrent;
  char           *id;
  JsonObject     *base;          /* as loaded: unknown fields are kept */
  guint           saved_serial;
  guint           saved_pieces;
  guint64         saved_down;
  guint64         saved_up;
  gboolean        ever_saved;
  gboolean        landed;        /* a save reached the store */
  gboolean        torrent_saved;
  gboolean        in_flight;
  gboolean        again;
  guint           saved_hash;    /* of the last document saved, but its time */
  gint64          hold_until;    /* monotonic µs: a new torrent's first save waits for its check */
} Entry;

struct _TeStateManager
{
  GObject        parent_instance;

  TeEngine      *engine;         /* not owned */
  TeStateStore  *store;
  GHashTable    *entries;        /* TeTorrent → Entry */
  guint          interval_id;
  guint          interval_ms;
  guint          soon_id;
  GPtrArray     *flushes;        /* GTask waiting for in-flight saves */
  gboolean       restoring;
  guint          restores;       /* in progress */
  GPtrArray     *pass;           /* TeTorrent, still to look at in a save pass */
  gboolean       pass_state_only;
  gboolean       pass_flush;     /* for a flush: holds do not count */
  guint          pass_id;
  guint          in_flight;
  guint          held;           /* entries with hold_until set */
  guint          hold_id;
};

Entry     *_te_state_manager_track           (TeStateManager *self,
                                              TeTorrent      *torrent);
void       _te_state_manager_save_document   (Entry          *e);
void       _te_state_manager_mark_saved      (Entry          *e,
                                              guint           hash);
guint      _te_state_manager_document_hash   (JsonObject     *doc);
JsonObject *_te_state_manager_unknown_members (JsonObject    *doc);
TePriority _te_state_manager_file_priority   (const char     *name);
void       _te_state_manager_report_problem  (TeStateManager *self,
                                              const char     *id,
                                              const GError   *error);

G_END_DECLS
