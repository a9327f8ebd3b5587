/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-engine.h"

G_BEGIN_DECLS

#define TE_TYPE_WATCH_FOLDER (te_watch_folder_get_type ())
G_DECLARE_FINAL_TYPE (TeWatchFolder, te_watch_folder, TE, WATCH_FOLDER, GObject)

TeWatchFolder *te_watch_folder_new      (TeEngine       *engine,
                                         const char     *path,
                                         GError        **error);
const char    *te_watch_folder_get_path (TeWatchFolder  *self);
gboolean       te_watch_folder_is_busy  (TeWatchFolder  *self);

G_END_DECLS
