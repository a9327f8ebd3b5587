/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-window"

#include "config.h"

#include <glib/gi18n.h>

#include "te-format.h"
#include "te-window-private.h"

/* The torrent list: one column per figure. A cell shows its torrent's
 * property and follows its notifications while bound; the handler goes
 * with the unbind, so recycled rows never update for the wrong torrent. */

typedef char *(*FormatFunc) (TeTorrent *torrent);

typedef struct {
  const char *id;
  const char *title;         /* translated at use */
  const char *property;      /* notified when the text changes */
  FormatFunc  format;
  const char *sort_property; /* numeric sort key, or NULL for a custom one */
  gboolean    volatile_sort; /* changes every second: re-sort while active */
  gboolean    expand;
  int         fixed_width;
} Column;

static char *
format_name (TeTorrent *t)
{
  return g_strdup (te_torrent_get_name (t));
}

static char *
format_size (TeTorrent *t)
{
  return te_format_size (te_torrent_get_total_size (t));
}

static char *
format_state (TeTorrent *t)
{
  return g_strdup (te_format_state (te_torrent_get_state (t)));
}

static char *
format_down (TeTorrent *t)
{
  guint64 rate;

  g_object_get (t, "download-rate", &rate, NULL);
  return te_format_rate (rate);
}

static char *
format_up (TeTorrent *t)
{
  guint64 rate;

  g_object_get (t, "upload-rate", &rate, NULL);
  return te_format_rate (rate);
}

static char *
format_eta (TeTorrent *t)
{
  TeTorrentState state = te_torrent_get_state (t);

  if (state != TE_TORRENT_STATE_DOWNLOADING)
    return g_strdup ("—");
  return te_format_eta (te_torrent_get_eta (t));
}

static char *
format_ratio (TeTorrent *t)
{
  return te_format_ratio (te_torrent_get_ratio (t));
}

static char *
format_peers (TeTorrent *t)
{
  guint connected, known;

  g_object_get (t, "peers-connected", &connected, "peers-known", &known, NULL);
  /* Translators: connected peers of known peers, e.g. “3 of 40” */
  return g_strdup_printf (_("%u of %u"), connected, known);
}

static const Column columns[] = {
  { "name", N_("Name"), "name", format_name, NULL, FALSE, TRUE, 0 },
  { "size", N_("Size"), "total-size", format_size, "total-size", FALSE, FALSE, 90 },
  { "progress", N_("Progress"), "progress", NULL, "progress", TRUE, FALSE, 140 },
  { "state", N_("State"), "state", format_state, NULL, TRUE, FALSE, 130 },
  { "down", N_("Down"), "download-rate", format_down, "download-rate", TRUE, FALSE, 100 },
  { "up", N_("Up"), "upload-rate", format_up, "upload-rate", TRUE, FALSE, 100 },
  { "eta", N_("Remaining"), "eta", format_eta, "eta", TRUE, FALSE, 110 },
  { "ratio", N_("Ratio"), "ratio", format_ratio, "ratio", TRUE, FALSE, 70 },
  { "peers", N_("Peers"), "peers-connected", format_peers, "peers-connected", TRUE, FALSE, 90 },
};

/* Cells */

static void
update_label (GtkListItem *item)
{
  const Column *col = g_object_get_data (G_OBJECT (item), "te-column");
  TeTorrent *torrent = gtk_list_item_get_item (item);
  GtkWidget *child = gtk_list_item_get_child (item);
  g_autofree char *text = NULL;

  if (torrent == NULL)
    return;
  if (col->format == NULL)
    {
      double progress = te_torrent_get_progress (torrent);
      g_autofree char *percent = g_strdup_printf ("%.1f %%", 100.0 * progress);

      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (child), progress);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (child), percent);
      return;
    }
  text = col->format (torrent);
  if (g_strcmp0 (gtk_label_get_text (GTK_LABEL (child)), text) != 0)
    gtk_label_set_text (GTK_LABEL (child), text);
}

static void
cell_pressed_cb (GtkGestureClick *gesture,
                 int              n_press,
                 double           x,
                 double           y,
                 GtkListItem     *item)
{
  GtkWidget *cell = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));
  TeWindow *self = TE_WINDOW (gtk_widget_get_root (cell));

  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  _te_window_popup_row_menu (self, cell, gtk_list_item_get_position (item), x, y);
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          const Column             *col)
{
  GtkWidget *child;
  GtkGesture *gesture;

  if (col->format == NULL)
    {
      child = gtk_progress_bar_new ();
      gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (child), TRUE);
      gtk_widget_set_valign (child, GTK_ALIGN_CENTER);
    }
  else
    {
      child = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (child), col->sort_property != NULL ? 1.0 : 0.0);
      gtk_label_set_ellipsize (GTK_LABEL (child), PANGO_ELLIPSIZE_END);
      if (!col->expand)
        gtk_widget_add_css_class (child, "numeric");
    }
  g_object_set_data (G_OBJECT (item), "te-column", (gpointer) col);
  gtk_list_item_set_child (item, child);

  /* The context menu: secondary click or a long press on any cell. */
  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  g_signal_connect (gesture, "pressed", G_CALLBACK (cell_pressed_cb), item);
  gtk_widget_add_controller (child, GTK_EVENT_CONTROLLER (gesture));
}

static void
torrent_notify_cb (TeTorrent   *torrent,
                   GParamSpec  *pspec,
                   GtkListItem *item)
{
  update_label (item);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         const Column             *col)
{
  TeTorrent *torrent = gtk_list_item_get_item (item);
  g_autofree char *signal = g_strconcat ("notify::", col->property, NULL);
  gulong id;

  id = g_signal_connect (torrent, signal, G_CALLBACK (torrent_notify_cb), item);
  g_object_set_data (G_OBJECT (item), "te-handler", GSIZE_TO_POINTER (id));
  if (g_str_equal (col->id, "eta") || g_str_equal (col->id, "peers"))
    {
      /* These texts also depend on the state or the known peers. */
      const char *also = g_str_equal (col->id, "eta") ? "notify::state" : "notify::peers-known";

      id = g_signal_connect (torrent, also, G_CALLBACK (torrent_notify_cb), item);
      g_object_set_data (G_OBJECT (item), "te-handler2", GSIZE_TO_POINTER (id));
    }
  update_label (item);
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           const Column             *col)
{
  TeTorrent *torrent = gtk_list_item_get_item (item);
  gulong id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (item), "te-handler"));
  gulong id2 = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (item), "te-handler2"));

  if (id != 0)
    g_signal_handler_disconnect (torrent, id);
  if (id2 != 0)
    g_signal_handler_disconnect (torrent, id2);
  g_object_set_data (G_OBJECT (item), "te-handler", NULL);
  g_object_set_data (G_OBJECT (item), "te-handler2", NULL);
}

/* Sorting */

static int
compare_name (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  return g_utf8_collate (te_torrent_get_name ((TeTorrent *) a), te_torrent_get_name ((TeTorrent *) b));
}

static int
compare_state (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  int sa = te_torrent_get_state ((TeTorrent *) a);
  int sb = te_torrent_get_state ((TeTorrent *) b);

  return (sa > sb) - (sa < sb);
}

static GtkSorter *
make_sorter (const Column *col)
{
  if (col->sort_property != NULL)
    return GTK_SORTER (gtk_numeric_sorter_new (gtk_property_expression_new (TE_TYPE_TORRENT, NULL,
                                                                              col->sort_property)));
  if (g_str_equal (col->id, "name"))
    return GTK_SORTER (gtk_custom_sorter_new (compare_name, NULL, NULL));
  return GTK_SORTER (gtk_custom_sorter_new (compare_state, NULL, NULL));
}

/* Sort models do not watch their items: every two seconds, the sorters of
 * figures that change every second say so; the column view passes that on
 * only for the columns it sorts by. */
static gboolean
resort_cb (gpointer user_data)
{
  TeWindow *self = user_data;
  GListModel *view_columns = gtk_column_view_get_columns (self->column_view);

  if (gtk_sorter_get_order (gtk_column_view_get_sorter (self->column_view)) == GTK_SORTER_ORDER_NONE)
    return G_SOURCE_CONTINUE;
  for (guint i = 0, n = g_list_model_get_n_items (view_columns); i < n; i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (view_columns, i);
      const Column *col = g_object_get_data (G_OBJECT (column), "te-column");

      if (col->volatile_sort)
        gtk_sorter_changed (gtk_column_view_column_get_sorter (column), GTK_SORTER_CHANGE_DIFFERENT);
    }
  return G_SOURCE_CONTINUE;
}

/* Filtering */

gboolean
_te_window_filter_match (TeWindow  *self,
                         TeTorrent *torrent)
{
  TeTorrentState state = te_torrent_get_state (torrent);
  gboolean ok;

  switch (self->state_filter)
    {
    case TE_FILTER_DOWNLOADING:
      ok = state == TE_TORRENT_STATE_DOWNLOADING || state == TE_TORRENT_STATE_PENDING
           || (state == TE_TORRENT_STATE_QUEUED && !te_torrent_is_complete (torrent));
      break;
    case TE_FILTER_SEEDING:
      ok = state == TE_TORRENT_STATE_SEEDING;
      break;
    case TE_FILTER_PAUSED:
      ok = state == TE_TORRENT_STATE_PAUSED;
      break;
    case TE_FILTER_COMPLETED:
      ok = te_torrent_is_complete (torrent);
      break;
    case TE_FILTER_ERROR:
      ok = state == TE_TORRENT_STATE_ERROR;
      break;
    case TE_FILTER_ALL:
    default:
      ok = TRUE;
      break;
    }
  if (ok && self->search_text != NULL)
    {
      g_autofree char *name = g_utf8_casefold (te_torrent_get_name (torrent), -1);

      ok = strstr (name, self->search_text) != NULL;
    }
  return ok;
}

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  return _te_window_filter_match (user_data, item);
}

static gboolean
refilter_cb (gpointer user_data)
{
  TeWindow *self = user_data;

  self->refilter_id = 0;
  gtk_filter_changed (self->filter, GTK_FILTER_CHANGE_DIFFERENT);
  return G_SOURCE_REMOVE;
}

/* Many torrents change state at once (resume all): filter once after them. */
void
_te_window_queue_refilter (TeWindow *self)
{
  if (self->state_filter == TE_FILTER_ALL || self->refilter_id != 0)
    return;
  self->refilter_id = g_timeout_add (100, refilter_cb, self);
}

static void
torrent_state_cb (TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  TeWindow       *self)
{
  _te_window_queue_refilter (self);
}

static void
torrent_added_cb (TeEngine  *engine,
                  TeTorrent *torrent,
                  TeWindow  *self)
{
  g_signal_connect_object (torrent, "state-changed", G_CALLBACK (torrent_state_cb), self, 0);
}

void
_te_window_setup_columns (TeWindow *self)
{
  GListModel *torrents = G_LIST_MODEL (self->engine);

  self->filter = GTK_FILTER (gtk_custom_filter_new (filter_func, self, NULL));
  self->filter_model = gtk_filter_list_model_new (g_object_ref (torrents), self->filter);
  /* Thousands of torrents: filter in chunks rather than in one stall. */
  gtk_filter_list_model_set_incremental (self->filter_model, TRUE);
  self->sort_model = gtk_sort_list_model_new (G_LIST_MODEL (self->filter_model), NULL);
  gtk_sort_list_model_set_incremental (self->sort_model, TRUE);
  self->selection = gtk_multi_selection_new (G_LIST_MODEL (g_object_ref (self->sort_model)));

  for (guint i = 0; i < G_N_ELEMENTS (columns); i++)
    {
      const Column *col = &columns[i];
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      GtkColumnViewColumn *column;
      g_autoptr(GtkSorter) sorter = make_sorter (col);

      g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), (gpointer) col);
      g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), (gpointer) col);
      g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cb), (gpointer) col);
      column = gtk_column_view_column_new (_(col->title), factory);
      gtk_column_view_column_set_sorter (column, sorter);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_column_set_expand (column, col->expand);
      if (col->fixed_width > 0)
        gtk_column_view_column_set_fixed_width (column, col->fixed_width);
      g_object_set_data (G_OBJECT (column), "te-column", (gpointer) col);
      gtk_column_view_append_column (self->column_view, column);
      g_object_unref (column);
    }
  gtk_sort_list_model_set_sorter (self->sort_model, gtk_column_view_get_sorter (self->column_view));
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  self->resort_id = g_timeout_add_seconds (2, resort_cb, self);

  g_signal_connect_object (self->engine, "torrent-added", G_CALLBACK (torrent_added_cb), self, 0);
  for (guint i = 0, n = g_list_model_get_n_items (torrents); i < n; i++)
    {
      g_autoptr(TeTorrent) torrent = g_list_model_get_item (torrents, i);

      torrent_added_cb (self->engine, torrent, self);
    }
}
