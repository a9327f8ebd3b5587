/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "te-engine.h"
#include "te-torrent.h"

G_BEGIN_DECLS

#define TE_TYPE_ADD_DIALOG (te_add_dialog_get_type ())
G_DECLARE_FINAL_TYPE (TeAddDialog, te_add_dialog, TE, ADD_DIALOG, AdwWindow)

GtkWidget *te_add_dialog_new_for_torrent (GtkWindow  *parent,
                                          TeEngine   *engine,
                                          GBytes     *bytes,
                                          TeMetainfo *metainfo);
GtkWidget *te_add_dialog_new_for_magnet  (GtkWindow  *parent,
                                          TeEngine   *engine,
                                          TeTorrent  *torrent);
TeTorrent *te_add_dialog_get_torrent     (TeAddDialog *self);

G_END_DECLS
