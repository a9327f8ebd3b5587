/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-details.h"

G_BEGIN_DECLS

struct _TeDetails
{
  AdwBin         parent_instance;

  TeEngine      *engine;
  TeTorrent     *torrent;
  TeErrorEvent  *last_event;     /* the latest error the torrent reported */
  guint          refresh_id;

  /* Overview: value labels by key */
  GHashTable    *values;
  GtkGrid       *overview_grid;
  GtkStack      *stack;
  GtkStack      *files_stack;
  GtkScrolledWindow *files_scroller;
  GtkWidget     *file_view;
  GtkColumnView *peers_view;
  GtkColumnView *trackers_view;
  AdwBin        *pieces_bin;
  GtkWidget     *piece_map;

  GListStore    *files_tree;
  GPtrArray     *file_leaves;
  GListStore    *peers;
  GListStore    *trackers;
};

/* te-details-lists.c */
void  _te_details_setup_lists      (TeDetails *self);
void  _te_details_files_reset      (TeDetails *self);
void  _te_details_files_refresh    (TeDetails *self);
void  _te_details_peers_refresh    (TeDetails *self);
void  _te_details_trackers_refresh (TeDetails *self);

G_END_DECLS
