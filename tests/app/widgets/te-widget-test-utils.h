/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "te-engine.h"
#include "te-torrent.h"

G_BEGIN_DECLS

/* Starts a private Xvfb on a free display (it dies with the test), then
 * initialises the test framework, GTK and libadwaita. */
void        te_widget_test_init        (int         *argc,
                                        char      ***argv);
/* Stops the Xvfb; returns @status for main() to return. */
int         te_widget_test_finish      (int          status);

/* A window holding @child, presented and drawn. */
GtkWidget  *te_widget_test_show        (GtkWidget   *child,
                                        int          width,
                                        int          height);
/* Runs the main loop for @ms, letting frames be drawn. */
void        te_widget_test_spin        (guint        ms);
/* Renders @widget as it is now; NULL when it drew nothing. */
GdkTexture *te_widget_test_render      (GtkWidget   *widget);
/* Pixels of the same-sized textures @a and @b that differ. */
guint       te_widget_test_count_diff  (GdkTexture  *a,
                                        GdkTexture  *b);
/* Pixels that are not fully transparent. */
guint       te_widget_test_count_inked (GdkTexture  *texture);
/* Mean alpha over the texture, 0 to 1. */
double      te_widget_test_mean_alpha  (GdkTexture  *texture);
/* Saves @texture as @dir/@name.png and checks the file reads back the same
 * size with more than one colour. */
void        te_widget_test_save_png    (GdkTexture  *texture,
                                        const char  *dir,
                                        const char  *name);
/* The descendant of @root with widget name @name. */
GtkWidget  *te_widget_test_find        (GtkWidget   *root,
                                        const char  *name);

/* A seeder and a leecher engine over loopback, the seeder throttled so that
 * the download lasts a few seconds. */
typedef struct {
  char      *dir;
  TeEngine  *seeder;
  TeEngine  *leecher;
  TeTorrent *seed;
  TeTorrent *leech;
  guint      n_pieces;
} TeWidgetSwarm;

void        te_widget_swarm_start      (TeWidgetSwarm *swarm,
                                        gsize          size,
                                        guint64        rate);
void        te_widget_swarm_stop       (TeWidgetSwarm *swarm);

G_END_DECLS
