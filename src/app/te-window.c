/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-window"

#include "config.h"
#include "config-app.h"

#include <glib/gi18n.h>

#include "te-window-private.h"
#include "te-dashboard.h"
#include "te-swarm-view.h"

/* The main window: the torrents (a column view over the engine's model,
 * filtered and sorted) with a details pane, the dashboard and the swarm of
 * the selected torrent, in one view stack. Actions live in
 * te-window-actions.c, columns and filtering in te-window-columns.c, drag
 * and drop in te-window-dnd.c. */

G_DEFINE_FINAL_TYPE (TeWindow, te_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_APPLICATION_OBJECT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

TeWindow *
te_window_new (TeApplication *app)
{
  g_return_val_if_fail (TE_IS_APPLICATION (app), NULL);

  return g_object_new (TE_TYPE_WINDOW,
                       "application", app,
                       "te-application", app,
                       NULL);
}

/**
 * te_window_show_error:
 * @message: a sentence for people
 *
 * Shows @message in a toast that stays until dismissed.
 */
void
te_window_show_error (TeWindow   *self,
                      const char *message)
{
  AdwToast *toast;

  g_return_if_fail (TE_IS_WINDOW (self));

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 0);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toasts, toast);
}

/**
 * te_window_get_model:
 *
 * Returns: (transfer none): the torrents as the list shows them, filtered and sorted
 */
GListModel *
te_window_get_model (TeWindow *self)
{
  g_return_val_if_fail (TE_IS_WINDOW (self), NULL);

  return G_LIST_MODEL (self->sort_model);
}

/**
 * te_window_get_part:
 * @name: "list", "scroller", "details", "dashboard" or "swarm"
 *
 * Returns: (transfer none) (nullable): that part of the window, for screenshots
 */
GtkWidget *
te_window_get_part (TeWindow   *self,
                    const char *name)
{
  g_return_val_if_fail (TE_IS_WINDOW (self), NULL);

  if (g_str_equal (name, "list"))
    return GTK_WIDGET (self->flap);
  if (g_str_equal (name, "scroller"))
    return self->list_scroller;
  if (g_str_equal (name, "details"))
    return GTK_WIDGET (self->details);
  if (g_str_equal (name, "dashboard"))
    return self->dashboard;
  if (g_str_equal (name, "swarm"))
    return self->swarm_view;
  return NULL;
}

/**
 * te_window_show_page:
 * @name: "torrents", "dashboard" or "swarm"
 */
void
te_window_show_page (TeWindow   *self,
                     const char *name)
{
  g_return_if_fail (TE_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

/**
 * te_window_select_torrent:
 * @id: a torrent's id (its info-hash in hex)
 *
 * Selects the torrent, clearing the filters when they hide it.
 *
 * Returns: whether the torrent is in the list
 */
gboolean
te_window_select_torrent (TeWindow   *self,
                          const char *id)
{
  GListModel *model = G_LIST_MODEL (self->sort_model);
  TeTorrent *torrent;

  g_return_val_if_fail (TE_IS_WINDOW (self), FALSE);

  torrent = te_engine_find_torrent (self->engine, id);
  if (torrent == NULL)
    return FALSE;
  if (!_te_window_filter_match (self, torrent))
    {
      gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
      gtk_drop_down_set_selected (self->state_dropdown, TE_FILTER_ALL);
      g_clear_pointer (&self->search_text, g_free);
      self->state_filter = TE_FILTER_ALL;
      gtk_filter_changed (self->filter, GTK_FILTER_CHANGE_LESS_STRICT);
    }
  te_window_show_page (self, "torrents");
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(TeTorrent) item = g_list_model_get_item (model, i);

      if (item == torrent)
        {
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), i, TRUE);
          gtk_widget_activate_action (GTK_WIDGET (self->column_view), "list.scroll-to-item", "u", i);
          return TRUE;
        }
    }
  return FALSE;
}

/* Selection: the details, the swarm view and the actions follow the first
 * selected torrent. */

static void
set_selected (TeWindow  *self,
              TeTorrent *torrent)
{
  if (self->selected == torrent)
    return;
  g_set_object (&self->selected, torrent);
  te_details_set_torrent (self->details, torrent);
  te_swarm_view_set_torrent (TE_SWARM_VIEW (self->swarm_view), torrent);
}

static void
selection_changed_cb (TeWindow *self)
{
  g_autoptr(GtkBitset) set = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  g_autoptr(TeTorrent) torrent = NULL;

  if (!gtk_bitset_is_empty (set))
    torrent = g_list_model_get_item (G_LIST_MODEL (self->sort_model), gtk_bitset_get_minimum (set));
  set_selected (self, torrent);
  _te_window_update_actions (self);
}

static void
items_changed_cb (TeWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->engine));

  gtk_stack_set_visible_child_name (self->list_stack, n > 0 ? "list" : "empty");
  /* The selected torrent may have been removed. */
  selection_changed_cb (self);
}

static void
search_changed_cb (TeWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  g_free (self->search_text);
  self->search_text = text[0] ? g_utf8_casefold (text, -1) : NULL;
  gtk_filter_changed (self->filter, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
state_filter_changed_cb (TeWindow *self)
{
  self->state_filter = gtk_drop_down_get_selected (self->state_dropdown);
  gtk_filter_changed (self->filter, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
row_activated_cb (TeWindow *self,
                  guint     position)
{
  adw_flap_set_reveal_flap (self->flap, TRUE);
}

static void
setup_pages (TeWindow *self)
{
  self->dashboard = te_dashboard_new (self->engine);
  adw_bin_set_child (ADW_BIN (self->dashboard_bin), self->dashboard);
  self->swarm_view = te_swarm_view_new ();
  adw_bin_set_child (ADW_BIN (self->swarm_bin), self->swarm_view);
}

static void
te_window_constructed (GObject *object)
{
  TeWindow *self = TE_WINDOW (object);

  G_OBJECT_CLASS (te_window_parent_class)->constructed (object);

  g_assert (self->app != NULL);
  self->engine = g_object_ref (te_application_get_engine (self->app));
  te_details_set_engine (self->details, self->engine);

  self->window_settings = g_settings_new (APPLICATION_ID ".Window");
  g_settings_bind (self->window_settings, "width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->window_settings, "height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->window_settings, "maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->window_settings, "show-details", self->flap, "reveal-flap", G_SETTINGS_BIND_DEFAULT);

  _te_window_setup_columns (self);
  g_signal_connect_object (self->selection, "selection-changed",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->engine, "items-changed",
                           G_CALLBACK (items_changed_cb), self, G_CONNECT_SWAPPED);
  setup_pages (self);
  _te_window_setup_actions (self);
  _te_window_setup_dnd (self);
  items_changed_cb (self);
}

static gboolean
te_window_close_request (GtkWindow *window)
{
  TeWindow *self = TE_WINDOW (window);

  /* Closing the window ends the app: te_application_quit() saves, stops
   * the engine and destroys the windows, this one included. */
  te_application_quit (self->app);
  return GDK_EVENT_STOP;
}

static void
te_window_dispose (GObject *object)
{
  TeWindow *self = TE_WINDOW (object);

  g_clear_handle_id (&self->refilter_id, g_source_remove);
  g_clear_handle_id (&self->resort_id, g_source_remove);
  if (self->row_menu != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->row_menu));
      self->row_menu = NULL;
    }
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->selected);
  gtk_widget_dispose_template (GTK_WIDGET (self), TE_TYPE_WINDOW);
  g_clear_object (&self->selection);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->window_settings);

  G_OBJECT_CLASS (te_window_parent_class)->dispose (object);
}

static void
te_window_finalize (GObject *object)
{
  TeWindow *self = TE_WINDOW (object);

  g_clear_object (&self->engine);
  g_free (self->search_text);

  G_OBJECT_CLASS (te_window_parent_class)->finalize (object);
}

static void
te_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TeWindow *self = TE_WINDOW (object);

  switch (prop_id)
    {
    case PROP_APPLICATION_OBJECT:
      self->app = g_value_get_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_window_class_init (TeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = te_window_constructed;
  object_class->dispose = te_window_dispose;
  object_class->finalize = te_window_finalize;
  object_class->set_property = te_window_set_property;
  window_class->close_request = te_window_close_request;

  /* Not "application": GtkWindow clears that when the window is removed. */
  properties[PROP_APPLICATION_OBJECT] =
    g_param_spec_object ("te-application", NULL, NULL, TE_TYPE_APPLICATION,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TE_TYPE_DETAILS);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torrentedge/TorrentEdge/te-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TeWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, column_view);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, list_scroller);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, state_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, list_stack);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, details);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, dashboard_bin);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, swarm_bin);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, row_menu);
  gtk_widget_class_bind_template_child (widget_class, TeWindow, details_button);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, state_filter_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
}

static void
te_window_init (TeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_parent (GTK_WIDGET (self->row_menu), GTK_WIDGET (self->column_view));
}
