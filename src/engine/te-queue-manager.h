/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-torrent.h"

G_BEGIN_DECLS

#define TE_TYPE_QUEUE_MANAGER (te_queue_manager_get_type ())
G_DECLARE_FINAL_TYPE (TeQueueManager, te_queue_manager, TE, QUEUE_MANAGER, GObject)

TeQueueManager *te_queue_manager_new           (guint            max_downloads,
                                                guint            max_seeds,
                                                guint            stall_timeout_s);
void            te_queue_manager_set_limits    (TeQueueManager  *self,
                                                guint            max_downloads,
                                                guint            max_seeds);
void            te_queue_manager_set_stall_timeout (TeQueueManager *self,
                                                guint            seconds);
void            te_queue_manager_add           (TeQueueManager  *self,
                                                TeTorrent       *torrent);
void            te_queue_manager_remove        (TeQueueManager  *self,
                                                TeTorrent       *torrent);
void            te_queue_manager_move          (TeQueueManager  *self,
                                                TeTorrent       *torrent,
                                                guint            position);
void            te_queue_manager_set_priority  (TeQueueManager  *self,
                                                TeTorrent       *torrent,
                                                TeQueuePriority  priority);
guint           te_queue_manager_get_max_downloads (TeQueueManager *self);
guint           te_queue_manager_get_max_seeds (TeQueueManager  *self);
void            te_queue_manager_update        (TeQueueManager  *self);
void            te_queue_manager_evaluate      (TeQueueManager  *self);
void            te_queue_manager_hold          (TeQueueManager  *self);
void            te_queue_manager_release       (TeQueueManager  *self);
void            te_queue_manager_sort          (TeQueueManager  *self,
                                                GCompareDataFunc compare,
                                                gpointer         user_data);
guint           te_queue_manager_count_active  (TeQueueManager  *self,
                                                gboolean         seeds);

G_END_DECLS
