/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-file-view"

#include "config.h"

#include <glib/gi18n.h>

#include "te-file-node.h"
#include "te-file-view.h"
#include "te-format.h"

/* A torrent's files as a tree (GtkTreeListModel over TeFileNode): a check
 * box for wanted, the size, the progress and a priority. Used by the add
 * dialog and the details. Cells bind to their node's properties while bound. */

static GListModel *
create_children_cb (gpointer item,
                    gpointer user_data)
{
  GListModel *children = te_file_node_get_children (item);

  return children ? g_object_ref (children) : NULL;
}

/* Bindings of a cell, dropped on unbind. */
static void
add_binding (GtkListItem *item,
             GBinding    *binding)
{
  GPtrArray *bindings = g_object_get_data (G_OBJECT (item), "te-bindings");

  if (bindings == NULL)
    {
      bindings = g_ptr_array_new ();
      g_object_set_data_full (G_OBJECT (item), "te-bindings", bindings, (GDestroyNotify) g_ptr_array_unref);
    }
  g_ptr_array_add (bindings, binding);
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *item)
{
  GPtrArray *bindings = g_object_get_data (G_OBJECT (item), "te-bindings");

  if (bindings == NULL)
    return;
  for (guint i = 0; i < bindings->len; i++)
    g_binding_unbind (g_ptr_array_index (bindings, i));
  g_ptr_array_set_size (bindings, 0);
}

/* Name: expander, check box, label */

static void
name_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item)
{
  GtkWidget *expander = gtk_tree_expander_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *check = gtk_check_button_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_tooltip_text (check, _("Download this"));
  gtk_box_append (GTK_BOX (box), check);
  gtk_box_append (GTK_BOX (box), label);
  gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), box);
  gtk_list_item_set_child (item, expander);
}

static void
name_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item)
{
  GtkTreeListRow *row = gtk_list_item_get_item (item);
  TeFileNode *node = gtk_tree_list_row_get_item (row);
  GtkWidget *expander = gtk_list_item_get_child (item);
  GtkWidget *box = gtk_tree_expander_get_child (GTK_TREE_EXPANDER (expander));
  GtkWidget *check = gtk_widget_get_first_child (box);
  GtkWidget *label = gtk_widget_get_last_child (box);

  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (expander), row);
  gtk_label_set_text (GTK_LABEL (label), te_file_node_get_name (node));
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  te_file_node_get_name (node), -1);
  add_binding (item, g_object_bind_property (node, "wanted", check, "active",
                                             G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL));
  add_binding (item, g_object_bind_property (node, "inconsistent", check, "inconsistent",
                                             G_BINDING_SYNC_CREATE));
  g_object_unref (node);
}

/* Size */

static void
label_setup_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
size_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item)
{
  g_autoptr(TeFileNode) node = gtk_tree_list_row_get_item (gtk_list_item_get_item (item));
  g_autofree char *size = g_format_size (te_file_node_get_size (node));

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), size);
}

/* Progress */

static void
progress_setup_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *item)
{
  GtkWidget *bar = gtk_progress_bar_new ();

  gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (bar), TRUE);
  gtk_list_item_set_child (item, bar);
}

static gboolean
percent_transform (GBinding     *binding,
                   const GValue *from,
                   GValue       *to,
                   gpointer      user_data)
{
  g_value_take_string (to, g_strdup_printf ("%.1f %%", 100.0 * g_value_get_double (from)));
  return TRUE;
}

static void
progress_bind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item)
{
  g_autoptr(TeFileNode) node = gtk_tree_list_row_get_item (gtk_list_item_get_item (item));
  GtkWidget *bar = gtk_list_item_get_child (item);

  add_binding (item, g_object_bind_property (node, "progress", bar, "fraction", G_BINDING_SYNC_CREATE));
  add_binding (item, g_object_bind_property_full (node, "progress", bar, "text", G_BINDING_SYNC_CREATE,
                                                  percent_transform, NULL, NULL, NULL));
}

/* Priority: High, Normal, Low */

static const TePriority priorities[] = { TE_PRIORITY_HIGH, TE_PRIORITY_NORMAL, TE_PRIORITY_LOW };

static gboolean
priority_to_selected (GBinding     *binding,
                      const GValue *from,
                      GValue       *to,
                      gpointer      user_data)
{
  int priority = g_value_get_int (from);

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    if ((int) priorities[i] == priority)
      {
        g_value_set_uint (to, i);
        return TRUE;
      }
  return FALSE;
}

static gboolean
selected_to_priority (GBinding     *binding,
                      const GValue *from,
                      GValue       *to,
                      gpointer      user_data)
{
  guint selected = g_value_get_uint (from);

  if (selected >= G_N_ELEMENTS (priorities))
    return FALSE;
  g_value_set_int (to, priorities[selected]);
  return TRUE;
}

static void
priority_setup_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *item)
{
  const char *names[G_N_ELEMENTS (priorities) + 1] = { NULL };
  GtkWidget *dropdown;

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    names[i] = te_format_priority (priorities[i]);
  dropdown = gtk_drop_down_new_from_strings (names);

  gtk_widget_add_css_class (dropdown, "flat");
  gtk_widget_set_tooltip_text (dropdown, _("Priority"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Priority"), -1);
  gtk_list_item_set_child (item, dropdown);
}

static void
priority_bind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item)
{
  g_autoptr(TeFileNode) node = gtk_tree_list_row_get_item (gtk_list_item_get_item (item));

  add_binding (item, g_object_bind_property_full (node, "priority", gtk_list_item_get_child (item), "selected",
                                                  G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL,
                                                  priority_to_selected, selected_to_priority, NULL, NULL));
}

static void
add_column (GtkColumnView *view,
            const char    *title,
            GCallback      setup,
            GCallback      bind,
            gboolean       expand,
            int            width)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;

  g_signal_connect (factory, "setup", setup, NULL);
  g_signal_connect (factory, "bind", bind, NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cb), NULL);
  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (column, expand);
  gtk_column_view_column_set_resizable (column, TRUE);
  if (width > 0)
    gtk_column_view_column_set_fixed_width (column, width);
  gtk_column_view_append_column (view, column);
  g_object_unref (column);
}

/**
 * te_file_view_new:
 * @show_progress: whether to show each file's progress
 *
 * Returns: (transfer floating): an empty file tree
 */
GtkWidget *
te_file_view_new (gboolean show_progress)
{
  GtkWidget *view = gtk_column_view_new (NULL);

  gtk_widget_add_css_class (view, "data-table");
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Files"), -1);
  add_column (GTK_COLUMN_VIEW (view), _("Name"), G_CALLBACK (name_setup_cb), G_CALLBACK (name_bind_cb), TRUE, 0);
  add_column (GTK_COLUMN_VIEW (view), _("Size"), G_CALLBACK (label_setup_cb), G_CALLBACK (size_bind_cb), FALSE, 90);
  if (show_progress)
    add_column (GTK_COLUMN_VIEW (view), _("Progress"), G_CALLBACK (progress_setup_cb),
                G_CALLBACK (progress_bind_cb), FALSE, 120);
  add_column (GTK_COLUMN_VIEW (view), _("Priority"), G_CALLBACK (priority_setup_cb),
              G_CALLBACK (priority_bind_cb), FALSE, 110);
  return view;
}

/**
 * te_file_view_set_tree:
 * @root: (nullable): the top level of a tree of #TeFileNode
 */
void
te_file_view_set_tree (GtkWidget  *view,
                       GListModel *root)
{
  GtkTreeListModel *tree = NULL;
  g_autoptr(GtkNoSelection) selection = NULL;

  if (root != NULL)
    /* Expanded: most torrents have one folder; show what is in it. */
    tree = gtk_tree_list_model_new (g_object_ref (root), FALSE, root != NULL && g_list_model_get_n_items (root) == 1,
                                    create_children_cb, NULL, NULL);
  selection = gtk_no_selection_new (tree ? G_LIST_MODEL (tree) : NULL);
  gtk_column_view_set_model (GTK_COLUMN_VIEW (view), GTK_SELECTION_MODEL (selection));
}
