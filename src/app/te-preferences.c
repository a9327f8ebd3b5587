/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "te-auth.h"
#include "te-preferences.h"

/* Every control is bound to its GSettings key; the app applies changes to
 * the engine as the keys change. Limits are shown in kB/s and times in
 * minutes, stored in bytes/s and milliseconds. */

struct _TePreferences
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  GSettings            *app_settings;
  GSettings            *remote_settings;

  AdwActionRow         *download_folder_row;
  AdwEntryRow          *remote_address;
  AdwEntryRow          *remote_username;
  AdwPasswordEntryRow  *remote_password;
};

G_DEFINE_FINAL_TYPE (TePreferences, te_preferences, ADW_TYPE_PREFERENCES_WINDOW)

typedef enum {
  UNIT_PLAIN,
  UNIT_KB,       /* bytes/s shown as kB/s */
  UNIT_MINUTES,  /* milliseconds shown as minutes */
} Unit;

/* Spin buttons and switches of the template, and their keys. */
static const struct {
  const char *widget;
  int         schema;    /* 0: engine, 1: .App, 2: .Remote */
  const char *key;
  Unit        unit;
} bindings[] = {
  { "show_add_dialog", 1, "show-add-dialog", UNIT_PLAIN },
  { "auto_resume", 0, "auto-resume", UNIT_PLAIN },
  { "verify_on_resume", 0, "verify-on-resume", UNIT_PLAIN },
  { "notify_completed", 1, "notify-completed", UNIT_PLAIN },
  { "notify_errors", 1, "notify-errors", UNIT_PLAIN },
  { "prevent_suspend", 1, "prevent-suspend", UNIT_PLAIN },
  { "download_limit", 0, "download-limit", UNIT_KB },
  { "upload_limit", 0, "upload-limit", UNIT_KB },
  { "alt_speed_enabled", 0, "alt-speed-enabled", UNIT_PLAIN },
  { "alt_download_limit", 0, "alt-download-limit", UNIT_KB },
  { "alt_upload_limit", 0, "alt-upload-limit", UNIT_KB },
  { "listen_port", 0, "listen-port", UNIT_PLAIN },
  { "max_peers", 0, "max-peer-connections", UNIT_PLAIN },
  { "max_global_peers", 0, "max-global-peer-connections", UNIT_PLAIN },
  { "enable_pex", 0, "enable-pex", UNIT_PLAIN },
  { "max_downloads", 0, "max-concurrent-torrents", UNIT_PLAIN },
  { "max_seeds", 0, "max-active-seeds", UNIT_PLAIN },
  { "stall_timeout", 0, "queue-stall-timeout", UNIT_PLAIN },
  { "seed_ratio", 0, "seed-ratio-limit", UNIT_PLAIN },
  { "seed_time", 0, "seed-time-limit", UNIT_MINUTES },
  { "remote_enabled", 2, "enabled", UNIT_PLAIN },
  { "remote_port", 2, "port", UNIT_PLAIN },
};

static gboolean
get_mapping (GValue   *value,
             GVariant *variant,
             gpointer  user_data)
{
  Unit unit = GPOINTER_TO_INT (user_data);
  double v;

  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT64))
    v = (double) g_variant_get_uint64 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT32))
    v = g_variant_get_uint32 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT16))
    v = g_variant_get_uint16 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_DOUBLE))
    v = g_variant_get_double (variant);
  else
    return FALSE;
  if (unit == UNIT_KB)
    v /= 1000.0;
  else if (unit == UNIT_MINUTES)
    v /= 60000.0;
  g_value_set_double (value, v);
  return TRUE;
}

static GVariant *
set_mapping (const GValue       *value,
             const GVariantType *type,
             gpointer            user_data)
{
  Unit unit = GPOINTER_TO_INT (user_data);
  double v = g_value_get_double (value);

  if (unit == UNIT_KB)
    v *= 1000.0;
  else if (unit == UNIT_MINUTES)
    v *= 60000.0;
  if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT64))
    return g_variant_new_uint64 ((guint64) v);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT32))
    return g_variant_new_uint32 ((guint32) v);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT16))
    return g_variant_new_uint16 ((guint16) v);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_DOUBLE))
    return g_variant_new_double (v);
  return NULL;
}

static void
update_folder_row (TePreferences *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "download-path");

  adw_action_row_set_subtitle (self->download_folder_row,
                               path[0] ? path : _("The Downloads folder"));
}

static void
folder_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    TePreferences   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path != NULL)
        g_settings_set_string (self->settings, "download-path", path);
    }
  g_object_unref (chooser);
}

static void
choose_folder_cb (TePreferences *self)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Download Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (folder_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
password_apply_cb (TePreferences *self)
{
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->remote_password));
  g_autofree char *hash = NULL;

  if (password[0] == '\0')
    return;
  /* Only the salted hash is kept. */
  hash = te_auth_hash_password (password);
  g_settings_set_string (self->remote_settings, "password-hash", hash);
  gtk_editable_set_text (GTK_EDITABLE (self->remote_password), "");
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (_("Password changed")));
}

static void
text_apply_cb (AdwEntryRow *row,
               GSettings   *settings)
{
  const char *key = g_object_get_data (G_OBJECT (row), "te-key");

  g_settings_set_string (settings, key, gtk_editable_get_text (GTK_EDITABLE (row)));
}

static void
bind_text (TePreferences *self,
           AdwEntryRow   *row,
           const char    *key)
{
  g_autofree char *value = g_settings_get_string (self->remote_settings, key);

  gtk_editable_set_text (GTK_EDITABLE (row), value);
  g_object_set_data (G_OBJECT (row), "te-key", (gpointer) key);
  g_signal_connect_object (row, "apply", G_CALLBACK (text_apply_cb), self->remote_settings, 0);
}

GtkWidget *
te_preferences_new (TeApplication *app)
{
  TePreferences *self = g_object_new (TE_TYPE_PREFERENCES, NULL);
  GSettings *schemas[3];

  self->settings = g_object_ref (te_application_get_settings (app));
  self->app_settings = g_object_ref (te_application_get_app_settings (app));
  self->remote_settings = g_settings_new (TE_SETTINGS_SCHEMA_ID ".Remote");
  schemas[0] = self->settings;
  schemas[1] = self->app_settings;
  schemas[2] = self->remote_settings;

  for (guint i = 0; i < G_N_ELEMENTS (bindings); i++)
    {
      GObject *widget = gtk_widget_get_template_child (GTK_WIDGET (self), TE_TYPE_PREFERENCES, bindings[i].widget);
      GSettings *settings = schemas[bindings[i].schema];

      g_assert (widget != NULL);
      if (GTK_IS_SWITCH (widget))
        g_settings_bind (settings, bindings[i].key, widget, "active", G_SETTINGS_BIND_DEFAULT);
      else
        g_settings_bind_with_mapping (settings, bindings[i].key, widget, "value", G_SETTINGS_BIND_DEFAULT,
                                      get_mapping, set_mapping, GINT_TO_POINTER (bindings[i].unit), NULL);
    }
  g_signal_connect_object (self->settings, "changed::download-path",
                           G_CALLBACK (update_folder_row), self, G_CONNECT_SWAPPED);
  update_folder_row (self);
  bind_text (self, self->remote_address, "bind-address");
  bind_text (self, self->remote_username, "username");
  return GTK_WIDGET (self);
}

static void
te_preferences_dispose (GObject *object)
{
  TePreferences *self = TE_PREFERENCES (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TE_TYPE_PREFERENCES);
  g_clear_object (&self->settings);
  g_clear_object (&self->app_settings);
  g_clear_object (&self->remote_settings);

  G_OBJECT_CLASS (te_preferences_parent_class)->dispose (object);
}

static void
te_preferences_class_init (TePreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = te_preferences_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torrentedge/TorrentEdge/te-preferences.ui");
  for (guint i = 0; i < G_N_ELEMENTS (bindings); i++)
    gtk_widget_class_bind_template_child_full (widget_class, bindings[i].widget, FALSE, 0);
  gtk_widget_class_bind_template_child (widget_class, TePreferences, download_folder_row);
  gtk_widget_class_bind_template_child (widget_class, TePreferences, remote_address);
  gtk_widget_class_bind_template_child (widget_class, TePreferences, remote_username);
  gtk_widget_class_bind_template_child (widget_class, TePreferences, remote_password);
  gtk_widget_class_bind_template_callback (widget_class, choose_folder_cb);
  gtk_widget_class_bind_template_callback (widget_class, password_apply_cb);
}

static void
te_preferences_init (TePreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
