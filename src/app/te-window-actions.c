/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-window"

#include "config.h"

#include <glib/gi18n.h>

#include "te-add-dialog.h"
#include "te-window-private.h"

/* The window's actions: adding torrents (file chooser, magnet dialog, files
 * handed over by the application) and acting on the selected ones. */

/* A .torrent larger than this is not a torrent anyone made on purpose. */
#define MAX_TORRENT_FILE_SIZE (64 * 1024 * 1024)

GPtrArray *
_te_window_dup_selected (TeWindow *self)
{
  g_autoptr(GtkBitset) set = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  GPtrArray *torrents = g_ptr_array_new_with_free_func (g_object_unref);
  GtkBitsetIter iter;
  guint pos;

  for (gboolean ok = gtk_bitset_iter_init_first (&iter, set, &pos); ok;
       ok = gtk_bitset_iter_next (&iter, &pos))
    g_ptr_array_add (torrents, g_list_model_get_item (G_LIST_MODEL (self->sort_model), pos));
  return torrents;
}

static void set_enabled (TeWindow   *self,
                         const char *name,
                         gboolean    enabled);

/* Adding */

static gboolean
show_add_dialog (TeWindow *self)
{
  return g_settings_get_boolean (te_application_get_app_settings (self->app), "show-add-dialog");
}

static void
add_failed (TeWindow     *self,
            const char   *what,
            const GError *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE))
    message = g_strdup_printf (_("“%s” is already in the list"), what);
  else
    message = g_strdup_printf (_("Cannot add “%s”: %s"), what, error->message);
  te_window_show_error (self, message);
}

static void
add_torrent_bytes (TeWindow   *self,
                   const char *what,
                   GBytes     *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMetainfo) metainfo = te_metainfo_new_from_bytes (bytes, &error);
  g_autofree char *id = NULL;

  if (metainfo == NULL)
    {
      add_failed (self, what, error);
      return;
    }
  id = te_metainfo_dup_info_hash_hex (metainfo);
  if (id != NULL && te_engine_find_torrent (self->engine, id) != NULL)
    {
      g_set_error_literal (&error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE, "");
      add_failed (self, te_metainfo_get_name (metainfo), error);
      te_window_select_torrent (self, id);
      return;
    }
  if (show_add_dialog (self))
    {
      GtkWidget *dialog = te_add_dialog_new_for_torrent (GTK_WINDOW (self), self->engine, bytes, metainfo);

      gtk_window_present (GTK_WINDOW (dialog));
    }
  else if (te_engine_add_torrent_bytes (self->engine, bytes, NULL, &error) == NULL)
    add_failed (self, te_metainfo_get_name (metainfo), error);
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(TeWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (source));
  g_autoptr(GBytes) bytes = NULL;
  gsize len = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &len, NULL, &error))
    {
      add_failed (self, name, error);
      return;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  add_torrent_bytes (self, name, bytes);
}

static void
queried_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TeWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (G_FILE (source), result, &error);
  g_autofree char *name = g_file_get_basename (G_FILE (source));

  if (info == NULL)
    {
      add_failed (self, name, error);
      return;
    }
  if (g_file_info_get_size (info) > MAX_TORRENT_FILE_SIZE)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The file is larger than %d MiB"), MAX_TORRENT_FILE_SIZE / (1024 * 1024));
      add_failed (self, name, error);
      return;
    }
  g_file_load_contents_async (G_FILE (source), NULL, loaded_cb, g_steal_pointer (&self));
}

/**
 * te_window_add_magnet:
 * @uri: a magnet link
 *
 * Adds the magnet at once, so its metadata is fetched while the add dialog
 * (when enabled) waits for the user.
 */
void
te_window_add_magnet (TeWindow   *self,
                      const char *uri)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMagnet) magnet = NULL;
  TeTorrent *torrent;

  g_return_if_fail (TE_IS_WINDOW (self));

  magnet = te_magnet_parse (uri, &error);
  if (magnet == NULL)
    {
      add_failed (self, _("magnet link"), error);
      return;
    }
  torrent = te_engine_add_magnet_full (self->engine, magnet, NULL, &error);
  if (torrent == NULL)
    {
      add_failed (self, magnet->display_name ? magnet->display_name : _("magnet link"), error);
      return;
    }
  if (show_add_dialog (self))
    {
      GtkWidget *dialog = te_add_dialog_new_for_magnet (GTK_WINDOW (self), self->engine, torrent);

      gtk_window_present (GTK_WINDOW (dialog));
    }
}

/**
 * te_window_open_files:
 * @files: (array length=n_files): .torrent files, or magnet links as URIs
 *
 * Reads the files without blocking and adds each torrent, through the add
 * dialog when it is enabled.
 */
void
te_window_open_files (TeWindow  *self,
                      GFile    **files,
                      guint      n_files)
{
  g_return_if_fail (TE_IS_WINDOW (self));

  for (guint i = 0; i < n_files; i++)
    {
      if (g_file_has_uri_scheme (files[i], "magnet"))
        {
          g_autofree char *uri = g_file_get_uri (files[i]);

          te_window_add_magnet (self, uri);
          continue;
        }
      g_file_query_info_async (files[i], G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                               G_PRIORITY_DEFAULT, NULL, queried_cb, g_object_ref (self));
    }
}

static void
open_response_cb (GtkNativeDialog *chooser,
                  int              response,
                  TeWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0, n = g_list_model_get_n_items (files); i < n; i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      te_window_open_files (self, (GFile **) array->pdata, array->len);
    }
  g_object_unref (chooser);
}

static void
open_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Open Torrent Files"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Torrent files"));
  gtk_file_filter_add_mime_type (filter, "application/x-bittorrent");
  gtk_file_filter_add_suffix (filter, "torrent");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (open_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* The magnet dialog, pre-filled from the clipboard. */

static void
magnet_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    TeWindow         *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "te-entry");
  g_autofree char *uri = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_str_equal (response, "add") && uri[0] != '\0')
    te_window_add_magnet (self, uri);
}

static void
magnet_entry_changed_cb (GtkEditable      *entry,
                         AdwMessageDialog *dialog)
{
  const char *text = gtk_editable_get_text (entry);

  adw_message_dialog_set_response_enabled (dialog, "add", g_str_has_prefix (text, "magnet:?"));
}

static void
clipboard_text_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GtkEditable) entry = user_data;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);

  if (text != NULL)
    g_strstrip (text);
  if (text != NULL && g_str_has_prefix (text, "magnet:?") && gtk_editable_get_text (entry)[0] == '\0')
    {
      gtk_editable_set_text (entry, text);
      gtk_editable_select_region (entry, 0, -1);
    }
}

static void
add_magnet_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  GtkWidget *dialog, *entry;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Add Magnet Link"),
                                   _("Paste a magnet link to download its torrent"));
  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), "magnet:?xt=urn:btih:…");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Magnet link"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "add", _("_Add"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add", FALSE);
  g_object_set_data (G_OBJECT (dialog), "te-entry", entry);
  g_signal_connect (entry, "changed", G_CALLBACK (magnet_entry_changed_cb), dialog);
  g_signal_connect (dialog, "response", G_CALLBACK (magnet_response_cb), self);
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (widget), NULL,
                                 clipboard_text_cb, g_object_ref (entry));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Acting on the selection */

static void
each_selected (GtkWidget *widget,
               void     (*func) (TeTorrent *torrent))
{
  g_autoptr(GPtrArray) torrents = _te_window_dup_selected (TE_WINDOW (widget));

  for (guint i = 0; i < torrents->len; i++)
    func (g_ptr_array_index (torrents, i));
}

static void
pause_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  each_selected (widget, te_torrent_pause);
}

static void
resume_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  each_selected (widget, te_torrent_start);
}

static void
verify_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  each_selected (widget, te_torrent_recheck);
}

static void
all_action (GtkWidget  *widget,
            const char *name,
            GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  gboolean pause = g_str_equal (name, "win.pause-all");
  GPtrArray *torrents = te_engine_get_torrents (self->engine);
  g_autoptr(GPtrArray) copy = g_ptr_array_new_full (torrents->len, g_object_unref);

  /* Pausing may change the engine's array. */
  for (guint i = 0; i < torrents->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (torrents, i)));
  for (guint i = 0; i < copy->len; i++)
    {
      if (pause)
        te_torrent_pause (g_ptr_array_index (copy, i));
      else
        te_torrent_start (g_ptr_array_index (copy, i));
    }
}

static void
queue_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  g_autoptr(GPtrArray) torrents = _te_window_dup_selected (self);
  gboolean top = g_str_equal (name, "win.queue-top");
  guint last = g_list_model_get_n_items (G_LIST_MODEL (self->engine));

  for (guint i = 0; i < torrents->len; i++)
    {
      /* Keep their order: the first selected ends up first. */
      TeTorrent *t = g_ptr_array_index (torrents, top ? torrents->len - 1 - i : i);

      te_engine_set_queue_position (self->engine, t, top ? 0 : last);
    }
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    TeWindow         *self)
{
  GPtrArray *torrents = g_object_get_data (G_OBJECT (dialog), "te-torrents");
  GtkCheckButton *check = g_object_get_data (G_OBJECT (dialog), "te-delete");
  gboolean delete_data = gtk_check_button_get_active (check);

  if (!g_str_equal (response, "remove"))
    return;
  for (guint i = 0; i < torrents->len; i++)
    te_engine_remove (self->engine, g_ptr_array_index (torrents, i), delete_data);
}

static void
remove_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  GPtrArray *torrents = _te_window_dup_selected (self);
  g_autofree char *body = NULL;
  GtkWidget *dialog, *check;

  if (torrents->len == 0)
    {
      g_ptr_array_unref (torrents);
      return;
    }
  if (torrents->len == 1)
    body = g_strdup_printf (_("“%s” will be removed from the list."),
                            te_torrent_get_name (g_ptr_array_index (torrents, 0)));
  else
    body = g_strdup_printf (g_dngettext (NULL, "%u torrent will be removed from the list.",
                                         "%u torrents will be removed from the list.", torrents->len),
                            torrents->len);
  dialog = adw_message_dialog_new (GTK_WINDOW (self),
                                   g_dngettext (NULL, "Remove Torrent?", "Remove Torrents?", torrents->len),
                                   body);
  check = gtk_check_button_new_with_mnemonic (_("_Delete downloaded files"));
  gtk_widget_set_halign (check, GTK_ALIGN_CENTER);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), check);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "te-torrents", torrents, (GDestroyNotify) g_ptr_array_unref);
  g_object_set_data (G_OBJECT (dialog), "te-delete", check);
  g_signal_connect (dialog, "response", G_CALLBACK (remove_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
open_folder_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  TeTorrent *torrent = self->selected;
  g_autoptr(GFile) folder = NULL;
  g_autoptr(GFile) data = NULL;
  g_autofree char *uri = NULL;

  if (torrent == NULL)
    return;
  folder = g_file_new_for_path (te_torrent_get_save_path (torrent));
  data = g_file_get_child (folder, te_torrent_get_name (torrent));
  /* A multi-file torrent has its own folder; open that one. */
  if (te_torrent_get_metainfo (torrent) != NULL
      && te_metainfo_is_multi_file (te_torrent_get_metainfo (torrent)))
    uri = g_file_get_uri (data);
  else
    uri = g_file_get_uri (folder);
  /* The OpenURI portal inside a sandbox, the default file manager outside. */
  gtk_show_uri (GTK_WINDOW (self), uri, GDK_CURRENT_TIME);
}

static void
copy_magnet_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);
  g_autofree char *magnet = NULL;

  if (self->selected == NULL)
    return;
  magnet = te_torrent_dup_magnet (self->selected);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), magnet);
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (_("Magnet link copied")));
}

static void
search_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  TeWindow *self = TE_WINDOW (widget);

  te_window_show_page (self, "torrents");
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
show_page_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  te_window_show_page (TE_WINDOW (widget), g_variant_get_string (param, NULL));
}

void
_te_window_update_actions (TeWindow *self)
{
  g_autoptr(GtkBitset) set = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  gboolean any = !gtk_bitset_is_empty (set);
  gboolean one = self->selected != NULL;

  set_enabled (self, "pause", any);
  set_enabled (self, "resume", any);
  set_enabled (self, "remove", any);
  set_enabled (self, "verify", any);
  set_enabled (self, "queue-top", any);
  set_enabled (self, "queue-bottom", any);
  set_enabled (self, "open-folder", one);
  set_enabled (self, "copy-magnet", one);
}

void
_te_window_popup_row_menu (TeWindow  *self,
                           GtkWidget *cell,
                           guint      position,
                           double     x,
                           double     y)
{
  graphene_point_t point;

  if (!gtk_selection_model_is_selected (GTK_SELECTION_MODEL (self->selection), position))
    gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), position, TRUE);
  if (!gtk_widget_compute_point (cell, GTK_WIDGET (self->column_view),
                                 &GRAPHENE_POINT_INIT (x, y), &point))
    return;
  gtk_popover_set_pointing_to (GTK_POPOVER (self->row_menu),
                               &(GdkRectangle) { (int) point.x, (int) point.y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->row_menu));
}

static const struct {
  const char *name;
  const char *param;
  void      (*activate) (GtkWidget  *widget,
                         const char *name,
                         GVariant   *param);
} actions[] = {
  { "win.open", NULL, open_action },
  { "win.add-magnet", NULL, add_magnet_action },
  { "win.pause", NULL, pause_action },
  { "win.resume", NULL, resume_action },
  { "win.verify", NULL, verify_action },
  { "win.remove", NULL, remove_action },
  { "win.pause-all", NULL, all_action },
  { "win.resume-all", NULL, all_action },
  { "win.queue-top", NULL, queue_action },
  { "win.queue-bottom", NULL, queue_action },
  { "win.open-folder", NULL, open_folder_action },
  { "win.copy-magnet", NULL, copy_magnet_action },
  { "win.search", NULL, search_action },
  { "win.show-page", "s", show_page_action },
};

static void
activate_cb (GSimpleAction *action,
             GVariant      *param,
             TeWindow      *self)
{
  g_autofree char *name = g_strconcat ("win.", g_action_get_name (G_ACTION (action)), NULL);

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_str_equal (actions[i].name, name))
      actions[i].activate (GTK_WIDGET (self), name, param);
}

static void
set_enabled (TeWindow   *self,
             const char *name,
             gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

/* Shortcuts, shown in gtk/help-overlay.ui. */
static const struct {
  const char *action;
  const char *accels[3];
} accels[] = {
  { "win.open", { "<Control>o", NULL } },
  { "win.add-magnet", { "<Control>u", NULL } },
  { "win.pause", { "<Control>p", NULL } },
  { "win.resume", { "<Control>r", NULL } },
  { "win.remove", { "Delete", NULL } },
  { "win.open-folder", { "<Control><Shift>o", NULL } },
  { "win.copy-magnet", { "<Control><Shift>c", NULL } },
  { "win.search", { "<Control>f", NULL } },
  { "win.show-details", { "F9", NULL } },
  { "win.alt-speed-enabled", { "<Control>t", NULL } },
  { "win.show-page('torrents')", { "<Alt>1", NULL } },
  { "win.show-page('dashboard')", { "<Alt>2", NULL } },
  { "win.show-page('swarm')", { "<Alt>3", NULL } },
};

void
te_window_set_accels (GtkApplication *app)
{
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (app, accels[i].action, accels[i].accels);
}

void
_te_window_setup_actions (TeWindow *self)
{
  g_autoptr(GAction) alt_speed = NULL;
  g_autoptr(GPropertyAction) details = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_autoptr(GSimpleAction) action = NULL;

      action = g_simple_action_new (actions[i].name + 4, actions[i].param ? G_VARIANT_TYPE (actions[i].param) : NULL);
      g_signal_connect_object (action, "activate", G_CALLBACK (activate_cb), self, 0);
      g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (action));
    }
  /* Stateful ones: a GSettings key and a widget property. */
  alt_speed = g_settings_create_action (te_application_get_settings (self->app), "alt-speed-enabled");
  g_action_map_add_action (G_ACTION_MAP (self), alt_speed);
  details = g_property_action_new ("show-details", self->flap, "reveal-flap");
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (details));
  _te_window_update_actions (self);
}
