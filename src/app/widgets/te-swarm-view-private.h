/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-swarm-view.h"

G_BEGIN_DECLS

/* World units: we sit at the origin, peers on rings around us. */
#define SWARM_N_RINGS 4
#define SWARM_N_LANES 3
#define SWARM_RING_RADIUS(ring) (90.0 + 55.0 * (ring))
#define SWARM_LANE_OFFSET 18.0
#define SWARM_EXTENT 310.0      /* the furthest a node reaches */
#define SWARM_SELF_RADIUS 14.0
#define SWARM_FADE_IN_S 0.5
#define SWARM_FADE_OUT_S 1.0

typedef struct {
  char    *key;           /* "address:port", stable across refreshes */
  char    *address;
  guint16  port;
  char    *client;
  char     flags[16];
  guint64  download_rate;
  guint64  upload_rate;
  double   progress;

  int      ring;
  int      lane;
  double   angle;
  double   x, y;          /* where it is drawn */
  double   tx, ty;        /* where it is going */
  double   radius;        /* drawn radius, easing to its rate's */
  double   alpha;         /* 0 to 1 while fading in, back to 0 when gone */
  gboolean departing;
  double   down_phase;    /* 0 to 1, the flow dots' offset along the edge */
  double   up_phase;
} TeSwarmNode;

struct _TeSwarmView
{
  GtkWidget         parent_instance;

  TeTorrent        *torrent;
  TeSwarmColorMode  color_mode;

  GPtrArray        *nodes;      /* TeSwarmNode, in arrival order */
  GHashTable       *by_key;     /* key → node, borrowed */

  guint             refresh_id;
  guint             tick_id;
  gint64            last_frame_us;

  double            zoom;
  double            pan_x, pan_y;
  double            zoom_begin;
  double            pan_begin_x, pan_begin_y;
  double            pointer_x, pointer_y;
  TeSwarmNode      *hover;
};

/* te-swarm-view-layout.c */
void         _te_swarm_node_free       (TeSwarmNode        *node);
void         _te_swarm_view_update     (TeSwarmView        *self,
                                        GPtrArray          *peers);
gboolean     _te_swarm_view_step       (TeSwarmView        *self,
                                        double              dt);
gboolean     _te_swarm_view_needs_tick (TeSwarmView        *self);
double       _te_swarm_node_target_radius (const TeSwarmNode *node);

/* te-swarm-view-draw.c */
void         _te_swarm_view_snapshot   (GtkWidget          *widget,
                                        GtkSnapshot        *snapshot);
double       _te_swarm_view_scale      (TeSwarmView        *self);
void         _te_swarm_view_to_screen  (TeSwarmView        *self,
                                        double              wx,
                                        double              wy,
                                        double             *sx,
                                        double             *sy);
TeSwarmNode *_te_swarm_view_pick       (TeSwarmView        *self,
                                        double              sx,
                                        double              sy);

G_END_DECLS
