/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "te-torrent.h"

G_BEGIN_DECLS

#define TE_TYPE_DETAILS (te_details_get_type ())
G_DECLARE_FINAL_TYPE (TeDetails, te_details, TE, DETAILS, AdwBin)

void        te_details_set_engine  (TeDetails  *self,
                                    TeEngine   *engine);
void        te_details_set_torrent (TeDetails  *self,
                                    TeTorrent  *torrent);
void        te_details_show_page   (TeDetails  *self,
                                    const char *name);
GListModel *te_details_get_peers   (TeDetails  *self);

G_END_DECLS
