/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-details.h"
#include "te-window.h"

G_BEGIN_DECLS

/* What te_window_state_filter matches. */
typedef enum {
  TE_FILTER_ALL,
  TE_FILTER_DOWNLOADING,
  TE_FILTER_SEEDING,
  TE_FILTER_PAUSED,
  TE_FILTER_COMPLETED,
  TE_FILTER_ERROR,
} TeStateFilter;

struct _TeWindow
{
  AdwApplicationWindow  parent_instance;

  TeApplication        *app;
  TeEngine             *engine;
  GSettings            *window_settings;

  /* Template widgets */
  AdwToastOverlay      *toasts;
  AdwViewStack         *view_stack;
  AdwFlap              *flap;
  GtkColumnView        *column_view;
  GtkWidget            *list_scroller;
  GtkSearchEntry       *search_entry;
  GtkDropDown          *state_dropdown;
  GtkStack             *list_stack;
  TeDetails            *details;
  GtkWidget            *dashboard_bin;
  GtkWidget            *swarm_bin;
  GtkWidget            *swarm_view;
  GtkWidget            *dashboard;
  GtkPopoverMenu       *row_menu;
  GtkToggleButton      *details_button;

  /* The list: engine → filter → sort → selection */
  GtkFilterListModel   *filter_model;
  GtkSortListModel     *sort_model;
  GtkMultiSelection    *selection;
  GtkFilter            *filter;
  TeStateFilter         state_filter;
  char                 *search_text;
  guint                 refilter_id;
  guint                 resort_id;
  TeTorrent            *selected;
};

/* te-window-columns.c */
void  _te_window_setup_columns    (TeWindow      *self);
void  _te_window_queue_refilter   (TeWindow      *self);
gboolean _te_window_filter_match  (TeWindow      *self,
                                   TeTorrent     *torrent);

/* te-window-actions.c */
void  _te_window_setup_actions    (TeWindow      *self);
void  _te_window_update_actions   (TeWindow      *self);
void  _te_window_popup_row_menu   (TeWindow      *self,
                                   GtkWidget     *cell,
                                   guint          position,
                                   double         x,
                                   double         y);
GPtrArray *_te_window_dup_selected (TeWindow     *self);

/* te-window-dnd.c */
void  _te_window_setup_dnd        (TeWindow      *self);

G_END_DECLS
