/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "te-application.h"
#include "te-torrent.h"

G_BEGIN_DECLS

#define TE_TYPE_WINDOW (te_window_get_type ())
G_DECLARE_FINAL_TYPE (TeWindow, te_window, TE, WINDOW, AdwApplicationWindow)

TeWindow   *te_window_new             (TeApplication  *app);
void        te_window_set_accels      (GtkApplication *app);
void        te_window_open_files      (TeWindow       *self,
                                       GFile         **files,
                                       guint           n_files);
void        te_window_add_magnet      (TeWindow       *self,
                                       const char     *uri);
void        te_window_show_error      (TeWindow       *self,
                                       const char     *message);
gboolean    te_window_select_torrent  (TeWindow       *self,
                                       const char     *id);
GListModel *te_window_get_model       (TeWindow       *self);
GtkWidget  *te_window_get_part        (TeWindow       *self,
                                       const char     *name);
void        te_window_show_page       (TeWindow       *self,
                                       const char     *name);

G_END_DECLS
