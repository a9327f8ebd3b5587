/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-engine.h"
#include "te-state-manager.h"

G_BEGIN_DECLS

#define TE_TYPE_WATCH_FOLDER (te_watch_folder_get_type ())
G_DECLARE_FINAL_TYPE (TeWatchFolder, te_watch_folder, TE, WATCH_FOLDER, GObject)

TeWatchFolder *te_watch_folder_new      (TeEngine       *engine,
                                         const char     *path,
                                         GError        **error);
gboolean       te_watch_folder_is_busy  (TeWatchFolder  *self);
void           te_watch_folder_set_state_manager (TeWatchFolder  *self,
                                                  TeStateManager *manager);

G_END_DECLS
