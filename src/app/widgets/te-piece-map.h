/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "te-torrent.h"

G_BEGIN_DECLS

#define TE_TYPE_PIECE_MAP (te_piece_map_get_type ())
G_DECLARE_FINAL_TYPE (TePieceMap, te_piece_map, TE, PIECE_MAP, GtkWidget)

GtkWidget *te_piece_map_new         (void);
void       te_piece_map_set_torrent (TePieceMap *self,
                                     TeTorrent  *torrent);
TeTorrent *te_piece_map_get_torrent (TePieceMap *self);

G_END_DECLS
