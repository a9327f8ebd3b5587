/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Five minutes of one sample a second. */
#define TE_RATE_GRAPH_SAMPLES 300

#define TE_TYPE_RATE_GRAPH (te_rate_graph_get_type ())
G_DECLARE_FINAL_TYPE (TeRateGraph, te_rate_graph, TE, RATE_GRAPH, GtkWidget)

GtkWidget *te_rate_graph_new            (void);
void       te_rate_graph_push           (TeRateGraph *self,
                                         guint64      download_rate,
                                         guint64      upload_rate);
guint      te_rate_graph_get_n_samples  (TeRateGraph *self);
void       te_rate_graph_get_sample     (TeRateGraph *self,
                                         guint        index,
                                         guint64     *download_rate,
                                         guint64     *upload_rate);
guint64    te_rate_graph_get_scale      (TeRateGraph *self);

G_END_DECLS
