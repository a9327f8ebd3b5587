/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-details"

#include "config.h"

#include <glib/gi18n.h>

#include "te-details-private.h"
#include "te-file-node.h"
#include "te-file-view.h"
#include "te-format.h"
#include "te-text-row.h"

/* The details' lists: the file tree (changes go straight to the torrent),
 * and the peers and trackers, snapshots taken again every second while
 * their page is shown. */

/* Files */

static void
leaf_wanted_cb (TeFileNode *leaf,
                GParamSpec *pspec,
                TeDetails  *self)
{
  if (self->torrent != NULL)
    te_torrent_set_file_wanted (self->torrent, te_file_node_get_index (leaf), te_file_node_get_wanted (leaf));
}

static void
leaf_priority_cb (TeFileNode *leaf,
                  GParamSpec *pspec,
                  TeDetails  *self)
{
  if (self->torrent != NULL)
    te_torrent_set_file_priority (self->torrent, te_file_node_get_index (leaf), te_file_node_get_priority (leaf));
}

void
_te_details_files_reset (TeDetails *self)
{
  TeMetainfo *meta = self->torrent ? te_torrent_get_metainfo (self->torrent) : NULL;
  g_autoptr(GPtrArray) infos = NULL;

  if (self->file_leaves != NULL)
    for (guint i = 0; i < self->file_leaves->len; i++)
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->file_leaves, i), self);
  g_clear_object (&self->files_tree);
  g_clear_pointer (&self->file_leaves, g_ptr_array_unref);
  if (meta == NULL)
    {
      te_file_view_set_tree (self->file_view, NULL);
      gtk_stack_set_visible_child_name (self->files_stack, "waiting");
      return;
    }
  self->files_tree = te_file_node_build_tree (meta, &self->file_leaves);
  /* The torrent's choices, then follow the user's. Leaves and the files'
   * snapshot both skip pad files, in metainfo order. */
  infos = te_torrent_dup_files (self->torrent);
  for (guint i = 0; i < self->file_leaves->len && i < infos->len; i++)
    {
      TeFileNode *leaf = g_ptr_array_index (self->file_leaves, i);
      TeFileInfo *info = g_ptr_array_index (infos, i);

      te_file_node_set_wanted (leaf, info->priority != TE_PRIORITY_SKIP);
      if (info->priority != TE_PRIORITY_SKIP)
        te_file_node_set_priority (leaf, info->priority);
      te_file_node_set_have (leaf, info->have_bytes);
      g_signal_connect (leaf, "notify::wanted", G_CALLBACK (leaf_wanted_cb), self);
      g_signal_connect (leaf, "notify::priority", G_CALLBACK (leaf_priority_cb), self);
    }
  te_file_view_set_tree (self->file_view, G_LIST_MODEL (self->files_tree));
  gtk_stack_set_visible_child_name (self->files_stack, "files");
}

void
_te_details_files_refresh (TeDetails *self)
{
  g_autoptr(GPtrArray) infos = NULL;

  if (self->file_leaves == NULL)
    return;
  infos = te_torrent_dup_files (self->torrent);
  for (guint i = 0; i < self->file_leaves->len && i < infos->len; i++)
    {
      TeFileInfo *info = g_ptr_array_index (infos, i);

      te_file_node_set_have (g_ptr_array_index (self->file_leaves, i), info->have_bytes);
    }
}

/* Snapshot tables */

typedef struct {
  const char *title;
  gboolean    expand;
  gboolean    numeric;
  gboolean    progress;   /* a bar showing the row's fraction */
} TableColumn;

static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               const TableColumn        *col)
{
  GtkWidget *child;

  if (col->progress)
    {
      child = gtk_progress_bar_new ();
      gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (child), TRUE);
      gtk_widget_set_valign (child, GTK_ALIGN_CENTER);
    }
  else
    {
      child = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (child), col->numeric ? 1.0 : 0.0);
      gtk_label_set_ellipsize (GTK_LABEL (child), PANGO_ELLIPSIZE_END);
      if (col->numeric)
        gtk_widget_add_css_class (child, "numeric");
    }
  gtk_list_item_set_child (item, child);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  column_index)
{
  TeTextRow *row = gtk_list_item_get_item (item);
  GtkWidget *child = gtk_list_item_get_child (item);
  const char *text = te_text_row_get_text (row, GPOINTER_TO_UINT (column_index));

  if (GTK_IS_PROGRESS_BAR (child))
    {
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (child), te_text_row_get_fraction (row));
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (child), text);
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (child), text);
      gtk_widget_set_tooltip_text (child, text);
    }
}

static void
setup_table (GtkColumnView     *view,
             GListStore        *store,
             const TableColumn *columns,
             guint              n_columns)
{
  g_autoptr(GtkNoSelection) selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (store)));

  for (guint i = 0; i < n_columns; i++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      GtkColumnViewColumn *column;

      g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), (gpointer) &columns[i]);
      g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), GUINT_TO_POINTER (i));
      column = gtk_column_view_column_new (_(columns[i].title), factory);
      gtk_column_view_column_set_expand (column, columns[i].expand);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_append_column (view, column);
      g_object_unref (column);
    }
  gtk_column_view_set_model (view, GTK_SELECTION_MODEL (selection));
}

static void
replace_rows (GListStore *store,
              GPtrArray  *rows)
{
  g_list_store_splice (store, 0, g_list_model_get_n_items (G_LIST_MODEL (store)), rows->pdata, rows->len);
}

static char **
end_cells (GPtrArray *cells)
{
  g_ptr_array_add (cells, NULL);
  return (char **) g_ptr_array_free (cells, FALSE);
}

/* Peers */

static const TableColumn peer_columns[] = {
  { N_("Address"), TRUE, FALSE, FALSE },
  { N_("Client"), TRUE, FALSE, FALSE },
  { N_("Flags"), FALSE, FALSE, FALSE },
  { N_("Down"), FALSE, TRUE, FALSE },
  { N_("Up"), FALSE, TRUE, FALSE },
  { N_("Has"), FALSE, FALSE, TRUE },
};

static int
compare_peers (gconstpointer a,
               gconstpointer b)
{
  const TePeerInfo *pa = *(TePeerInfo **) a;
  const TePeerInfo *pb = *(TePeerInfo **) b;
  guint64 ra = pa->download_rate + pa->upload_rate;
  guint64 rb = pb->download_rate + pb->upload_rate;

  return (rb > ra) - (rb < ra);
}

void
_te_details_peers_refresh (TeDetails *self)
{
  g_autoptr(GPtrArray) peers = te_torrent_dup_peers (self->torrent);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);

  /* The busiest first. */
  g_ptr_array_sort (peers, compare_peers);
  for (guint i = 0; i < peers->len; i++)
    {
      TePeerInfo *p = g_ptr_array_index (peers, i);
      GPtrArray *b = g_ptr_array_new ();

      g_ptr_array_add (b, strchr (p->address, ':') ? g_strdup_printf ("[%s]:%u", p->address, p->port)
                                                       : g_strdup_printf ("%s:%u", p->address, p->port));
      g_ptr_array_add (b, g_strdup (p->client ? p->client : ""));
      g_ptr_array_add (b, g_strdup (p->flags));
      g_ptr_array_add (b, te_format_rate (p->download_rate));
      g_ptr_array_add (b, te_format_rate (p->upload_rate));
      g_ptr_array_add (b, g_strdup_printf ("%.0f %%", 100.0 * p->progress));
      g_ptr_array_add (rows, te_text_row_new (end_cells (b), p->progress));
    }
  replace_rows (self->peers, rows);
}

/* Trackers */

static const TableColumn tracker_columns[] = {
  { N_("Tier"), FALSE, TRUE, FALSE },
  { N_("Address"), TRUE, FALSE, FALSE },
  { N_("State"), FALSE, FALSE, FALSE },
  { N_("Last Announce"), FALSE, FALSE, FALSE },
  { N_("Seeds"), FALSE, TRUE, FALSE },
  { N_("Leechers"), FALSE, TRUE, FALSE },
  { N_("Message"), TRUE, FALSE, FALSE },
};

static const char *
tracker_state (TeTrackerState state)
{
  switch (state)
    {
    case TE_TRACKER_STATE_WORKING:
      return _("Working");
    case TE_TRACKER_STATE_WARNING:
      return _("Warning");
    case TE_TRACKER_STATE_ERROR:
      return _("Error");
    case TE_TRACKER_STATE_UNKNOWN:
    default:
      return _("Not contacted yet");
    }
}

static char *
count_or_dash (gint64 n)
{
  return n < 0 ? g_strdup ("—") : g_strdup_printf ("%" G_GINT64_FORMAT, n);
}

void
_te_details_trackers_refresh (TeDetails *self)
{
  g_autoptr(GPtrArray) trackers = te_torrent_dup_trackers (self->torrent);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < trackers->len; i++)
    {
      TeTrackerInfo *t = g_ptr_array_index (trackers, i);
      GPtrArray *b = g_ptr_array_new ();

      g_ptr_array_add (b, g_strdup_printf ("%u", t->tier + 1));
      g_ptr_array_add (b, g_strdup (t->url));
      g_ptr_array_add (b, g_strdup (tracker_state (t->state)));
      g_ptr_array_add (b, te_format_time (t->last_announce));
      g_ptr_array_add (b, count_or_dash (t->seeders));
      g_ptr_array_add (b, count_or_dash (t->leechers));
      g_ptr_array_add (b, g_strdup (t->last_error ? t->last_error : t->warning ? t->warning : ""));
      g_ptr_array_add (rows, te_text_row_new (end_cells (b), 0));
    }
  replace_rows (self->trackers, rows);
}

void
_te_details_setup_lists (TeDetails *self)
{
  self->file_view = te_file_view_new (TRUE);
  gtk_scrolled_window_set_child (self->files_scroller, self->file_view);
  self->peers = g_list_store_new (TE_TYPE_TEXT_ROW);
  self->trackers = g_list_store_new (TE_TYPE_TEXT_ROW);
  setup_table (self->peers_view, self->peers, peer_columns, G_N_ELEMENTS (peer_columns));
  setup_table (self->trackers_view, self->trackers, tracker_columns, G_N_ELEMENTS (tracker_columns));
}
