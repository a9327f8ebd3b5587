/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-add-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "te-add-dialog.h"
#include "te-file-node.h"
#include "te-file-view.h"
#include "te-format.h"

/* What the user sees before a torrent starts: its name, size and files
 * (wanted or not, priorities), the folder and whether to start paused.
 *
 * A .torrent is added only on "Add". A magnet is added at once by the
 * window, so peers send its metadata while this dialog is open; when it
 * arrives the torrent is paused (nothing is downloaded before the user
 * chose) and its files appear here. Cancel removes it again. */

struct _TeAddDialog
{
  AdwWindow     parent_instance;

  TeEngine     *engine;
  GBytes       *bytes;        /* .torrent mode */
  TeMetainfo   *metainfo;     /* known metadata: the file, or the magnet's once fetched */
  TeTorrent    *torrent;      /* magnet mode, or the result */
  GListStore   *tree;
  GPtrArray    *leaves;
  char         *folder;
  gboolean      done;

  AdwActionRow *name_row;
  AdwActionRow *size_row;
  AdwActionRow *folder_row;
  GtkSwitch    *paused_switch;
  GtkStack     *files_stack;
  GtkScrolledWindow *files_scroller;
  GtkLabel     *error_label;
};

G_DEFINE_FINAL_TYPE (TeAddDialog, te_add_dialog, ADW_TYPE_WINDOW)

static void
set_folder (TeAddDialog *self,
            const char  *folder)
{
  g_autofree char *display = g_filename_display_name (folder);

  g_free (self->folder);
  self->folder = g_strdup (folder);
  adw_action_row_set_subtitle (self->folder_row, display);
}

static void
show_metainfo (TeAddDialog *self)
{
  g_autofree char *size = te_format_size (te_metainfo_get_total_size (self->metainfo));
  GtkWidget *view = te_file_view_new (FALSE);

  adw_action_row_set_subtitle (self->name_row, te_metainfo_get_name (self->metainfo));
  adw_action_row_set_subtitle (self->size_row, size);
  g_clear_object (&self->tree);
  g_clear_pointer (&self->leaves, g_ptr_array_unref);
  self->tree = te_file_node_build_tree (self->metainfo, &self->leaves);
  te_file_view_set_tree (view, G_LIST_MODEL (self->tree));
  gtk_scrolled_window_set_child (self->files_scroller, view);
  gtk_stack_set_visible_child_name (self->files_stack, "files");
}

static void
metadata_received_cb (TeTorrent   *torrent,
                      TeAddDialog *self)
{
  /* Nothing downloads before the user chose the files. */
  te_torrent_pause (torrent);
  g_set_object (&self->metainfo, te_torrent_get_metainfo (torrent));
  show_metainfo (self);
}

static void
show_error (TeAddDialog  *self,
            const GError *error)
{
  gtk_label_set_text (self->error_label, error->message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
}

/* Wanted files and priorities onto the torrent. */
static void
apply_files (TeAddDialog *self)
{
  if (self->leaves == NULL)
    return;
  for (guint i = 0; i < self->leaves->len; i++)
    {
      TeFileNode *leaf = g_ptr_array_index (self->leaves, i);
      guint index = te_file_node_get_index (leaf);

      te_torrent_set_file_wanted (self->torrent, index, te_file_node_get_wanted (leaf));
      if (te_file_node_get_priority (leaf) != TE_PRIORITY_NORMAL)
        te_torrent_set_file_priority (self->torrent, index, te_file_node_get_priority (leaf));
    }
}

static void
moved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!te_engine_move_storage_finish (TE_ENGINE (source), result, &error))
    g_message ("Cannot move the new torrent: %s", error->message);
}

static gboolean
confirm_torrent (TeAddDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree gboolean *wanted = NULL;
  guint n = te_metainfo_get_n_files (self->metainfo);
  TeAddOptions options;

  te_add_options_init (&options);
  options.save_path = self->folder;
  options.paused = gtk_switch_get_active (self->paused_switch);
  wanted = g_new (gboolean, n);
  for (guint i = 0; i < n; i++)
    wanted[i] = TRUE;
  for (guint i = 0; i < self->leaves->len; i++)
    {
      TeFileNode *leaf = g_ptr_array_index (self->leaves, i);

      wanted[te_file_node_get_index (leaf)] = te_file_node_get_wanted (leaf);
    }
  options.wanted = wanted;
  options.n_wanted = n;
  self->torrent = te_engine_add_torrent_bytes (self->engine, self->bytes, &options, &error);
  if (self->torrent == NULL)
    {
      show_error (self, error);
      return FALSE;
    }
  g_object_ref (self->torrent);
  for (guint i = 0; i < self->leaves->len; i++)
    {
      TeFileNode *leaf = g_ptr_array_index (self->leaves, i);

      if (te_file_node_get_priority (leaf) != TE_PRIORITY_NORMAL)
        te_torrent_set_file_priority (self->torrent, te_file_node_get_index (leaf),
                                      te_file_node_get_priority (leaf));
    }
  return TRUE;
}

static void
confirm_magnet (TeAddDialog *self)
{
  g_signal_handlers_disconnect_by_data (self->torrent, self);
  apply_files (self);
  if (g_strcmp0 (self->folder, te_torrent_get_save_path (self->torrent)) != 0)
    te_engine_move_storage_async (self->engine, self->torrent, self->folder, NULL, NULL, NULL,
                                  moved_cb, NULL);
  if (gtk_switch_get_active (self->paused_switch))
    te_torrent_pause (self->torrent);
  else
    te_torrent_start (self->torrent);
}

static void
confirm_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  TeAddDialog *self = TE_ADD_DIALOG (widget);

  if (self->done)
    return;
  if (self->bytes != NULL)
    {
      if (!confirm_torrent (self))
        return;
    }
  else
    confirm_magnet (self);
  self->done = TRUE;
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
cancel (TeAddDialog *self)
{
  if (self->done)
    return;
  self->done = TRUE;
  if (self->bytes == NULL && self->torrent != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->torrent, self);
      te_engine_remove (self->engine, self->torrent, TRUE);
    }
}

static void
cancel_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  cancel (TE_ADD_DIALOG (widget));
  gtk_window_destroy (GTK_WINDOW (widget));
}

static void
folder_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    TeAddDialog     *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path != NULL)
        set_folder (self, path);
    }
  g_object_unref (chooser);
}

static void
choose_folder_action (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  TeAddDialog *self = TE_ADD_DIALOG (widget);
  g_autoptr(GFile) current = g_file_new_for_path (self->folder);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Save In"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), current, NULL);
  g_signal_connect (chooser, "response", G_CALLBACK (folder_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
te_add_dialog_close_request (GtkWindow *window)
{
  cancel (TE_ADD_DIALOG (window));
  return GTK_WINDOW_CLASS (te_add_dialog_parent_class)->close_request (window);
}

static void
te_add_dialog_dispose (GObject *object)
{
  TeAddDialog *self = TE_ADD_DIALOG (object);

  if (self->torrent != NULL)
    g_signal_handlers_disconnect_by_data (self->torrent, self);
  g_clear_object (&self->torrent);
  g_clear_object (&self->metainfo);
  g_clear_object (&self->engine);
  g_clear_object (&self->tree);
  g_clear_pointer (&self->leaves, g_ptr_array_unref);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), TE_TYPE_ADD_DIALOG);

  G_OBJECT_CLASS (te_add_dialog_parent_class)->dispose (object);
}

static void
te_add_dialog_finalize (GObject *object)
{
  g_free (TE_ADD_DIALOG (object)->folder);

  G_OBJECT_CLASS (te_add_dialog_parent_class)->finalize (object);
}

static void
te_add_dialog_class_init (TeAddDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = te_add_dialog_dispose;
  object_class->finalize = te_add_dialog_finalize;
  window_class->close_request = te_add_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torrentedge/TorrentEdge/te-add-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, size_row);
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, folder_row);
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, paused_switch);
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, files_stack);
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, files_scroller);
  gtk_widget_class_bind_template_child (widget_class, TeAddDialog, error_label);

  gtk_widget_class_install_action (widget_class, "add.confirm", NULL, confirm_action);
  gtk_widget_class_install_action (widget_class, "add.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "add.choose-folder", NULL, choose_folder_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "add.cancel", NULL);
}

static void
te_add_dialog_init (TeAddDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static TeAddDialog *
dialog_new (GtkWindow *parent,
            TeEngine  *engine)
{
  TeAddDialog *self = g_object_new (TE_TYPE_ADD_DIALOG, "transient-for", parent, NULL);

  self->engine = g_object_ref (engine);
  set_folder (self, te_engine_get_settings (engine)->download_path);
  return self;
}

/**
 * te_add_dialog_new_for_torrent:
 * @bytes: the .torrent file
 * @metainfo: @bytes parsed
 *
 * Returns: (transfer floating): a dialog that adds the torrent on "Add"
 */
GtkWidget *
te_add_dialog_new_for_torrent (GtkWindow  *parent,
                               TeEngine   *engine,
                               GBytes     *bytes,
                               TeMetainfo *metainfo)
{
  TeAddDialog *self = dialog_new (parent, engine);

  self->bytes = g_bytes_ref (bytes);
  self->metainfo = g_object_ref (metainfo);
  show_metainfo (self);
  return GTK_WIDGET (self);
}

/**
 * te_add_dialog_new_for_magnet:
 * @torrent: a magnet just added to @engine
 *
 * Returns: (transfer floating): a dialog that shows the files once peers
 *   sent them; cancelling removes @torrent
 */
GtkWidget *
te_add_dialog_new_for_magnet (GtkWindow *parent,
                              TeEngine  *engine,
                              TeTorrent *torrent)
{
  TeAddDialog *self = dialog_new (parent, engine);

  self->torrent = g_object_ref (torrent);
  set_folder (self, te_torrent_get_save_path (torrent));
  if (te_torrent_get_metainfo (torrent) != NULL)
    {
      self->metainfo = g_object_ref (te_torrent_get_metainfo (torrent));
      show_metainfo (self);
      return GTK_WIDGET (self);
    }
  adw_action_row_set_subtitle (self->name_row, te_torrent_get_name (torrent));
  adw_action_row_set_subtitle (self->size_row, _("Unknown until the metadata arrives"));
  g_signal_connect (torrent, "metadata-received", G_CALLBACK (metadata_received_cb), self);
  return GTK_WIDGET (self);
}

/**
 * te_add_dialog_get_torrent:
 *
 * Returns: (transfer none) (nullable): the magnet's torrent, or the one added
 */
TeTorrent *
te_add_dialog_get_torrent (TeAddDialog *self)
{
  g_return_val_if_fail (TE_IS_ADD_DIALOG (self), NULL);

  return self->torrent;
}
