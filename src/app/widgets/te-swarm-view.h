/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "te-torrent.h"

G_BEGIN_DECLS

/**
 * TeSwarmColorMode:
 * @TE_SWARM_COLOR_STATE: colour peers by choke and interest state
 * @TE_SWARM_COLOR_CLIENT: colour peers by their client software
 */
typedef enum {
  TE_SWARM_COLOR_STATE,
  TE_SWARM_COLOR_CLIENT,
} TeSwarmColorMode;

#define TE_TYPE_SWARM_COLOR_MODE (te_swarm_color_mode_get_type ())
GType te_swarm_color_mode_get_type (void) G_GNUC_CONST;

#define TE_TYPE_SWARM_VIEW (te_swarm_view_get_type ())
G_DECLARE_FINAL_TYPE (TeSwarmView, te_swarm_view, TE, SWARM_VIEW, GtkWidget)

GtkWidget       *te_swarm_view_new            (void);
void             te_swarm_view_set_torrent    (TeSwarmView      *self,
                                               TeTorrent        *torrent);
TeTorrent       *te_swarm_view_get_torrent    (TeSwarmView      *self);
void             te_swarm_view_set_color_mode (TeSwarmView      *self,
                                               TeSwarmColorMode  mode);
TeSwarmColorMode te_swarm_view_get_color_mode (TeSwarmView      *self);
void             te_swarm_view_reset_view     (TeSwarmView      *self);

guint            te_swarm_view_get_n_nodes    (TeSwarmView      *self);
gboolean         te_swarm_view_get_animating  (TeSwarmView      *self);
void             te_swarm_view_refresh        (TeSwarmView      *self);
void             te_swarm_view_advance        (TeSwarmView      *self,
                                               guint             ms);

G_END_DECLS
