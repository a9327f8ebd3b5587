/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-application"

#include "config.h"
#include "config-app.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <locale.h>

#include "te-application-private.h"
#include "te-fd-budget.h"
#include "te-preferences.h"
#include "te-window.h"

/* One process, one engine, one window. A second `torrentedge FILE` hands its
 * files to the running instance over D-Bus (G_APPLICATION_HANDLES_OPEN). */

G_DEFINE_FINAL_TYPE (TeApplication, te_application, ADW_TYPE_APPLICATION)

/**
 * te_application_prepare_process:
 *
 * What a process does before it makes its #TeApplication: locale and
 * translations, the descriptor limit (peers, data files and the remote API
 * all need descriptors) and the application's name.
 */
void
te_application_prepare_process (void)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  te_fd_budget_raise_limit ();
  g_set_application_name (_("TorrentEdge"));
}

TeApplication *
te_application_new (void)
{
  return g_object_new (TE_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/torrentedge/TorrentEdge",
                       NULL);
}

/**
 * te_application_get_engine:
 *
 * Returns: (transfer none): the engine, which lives as long as the app
 */
TeEngine *
te_application_get_engine (TeApplication *self)
{
  g_return_val_if_fail (TE_IS_APPLICATION (self), NULL);

  return self->engine;
}

GSettings *
te_application_get_settings (TeApplication *self)
{
  g_return_val_if_fail (TE_IS_APPLICATION (self), NULL);

  return self->settings;
}

GSettings *
te_application_get_app_settings (TeApplication *self)
{
  g_return_val_if_fail (TE_IS_APPLICATION (self), NULL);

  return self->app_settings;
}

/**
 * te_application_is_ready:
 *
 * Returns: whether saved torrents have been restored
 */
gboolean
te_application_is_ready (TeApplication *self)
{
  g_return_val_if_fail (TE_IS_APPLICATION (self), FALSE);

  return self->ready;
}

/**
 * te_application_get_exit_status:
 *
 * Returns: what the process should exit with once g_application_run()
 *   returns 0: 1 when another TorrentEdge had the state folder
 */
int
te_application_get_exit_status (TeApplication *self)
{
  g_return_val_if_fail (TE_IS_APPLICATION (self), 1);

  return self->exit_status;
}

static TeWindow *
get_window (TeApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (te_window_new (self));
  return TE_WINDOW (window);
}

/**
 * te_application_quit:
 *
 * Saves every torrent's state, stops the engine and ends the app once the
 * trackers have been told; the app stays alive (held) until then.
 */
void
te_application_quit (TeApplication *self)
{
  GList *windows;

  g_return_if_fail (TE_IS_APPLICATION (self));

  if (self->engine != NULL)
    _te_application_engine_stop (self);
  /* Destroying a window removes it from the list. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  te_application_quit (user_data);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  TeApplication *self = user_data;
  TeWindow *window = get_window (self);
  GtkWidget *prefs = te_preferences_new (self);

  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  TeApplication *self = user_data;
  const char *developers[] = { _("The TorrentEdge developers"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", get_window (self),
                        "application-name", _("TorrentEdge"),
                        "application-icon", APPLICATION_ID,
                        "version", PACKAGE_VERSION,
                        "developers", developers,
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "website", "https://github.com/torrentedge/torrentedge",
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

/* The manual, in the help browser; help:torrentedge is the installed help/C. */
static void
help_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  TeApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  gtk_show_uri (window, "help:torrentedge", GDK_CURRENT_TIME);
}

static void
show_torrent_action (GSimpleAction *action,
                     GVariant      *param,
                     gpointer       user_data)
{
  TeApplication *self = user_data;
  TeWindow *window = get_window (self);

  te_window_select_torrent (window, g_variant_get_string (param, NULL));
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
  { "help", help_action, NULL, NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "show-torrent", show_torrent_action, "s", NULL, NULL, { 0 } },
};

/* SIGTERM and SIGINT (a session ending, Ctrl+C in a terminal): save first. */
static gboolean
unix_signal_cb (gpointer user_data)
{
  te_application_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static void
te_application_startup (GApplication *app)
{
  TeApplication *self = TE_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };
  static const char *help_accels[] = { "F1", NULL };

  G_APPLICATION_CLASS (te_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.help", help_accels);
  te_window_set_accels (GTK_APPLICATION (self));

  if (!_te_application_engine_lock (self))
    {
      /* Nothing starts: activate and open only say why, and the app ends
       * with status 1 once that is closed. */
      g_printerr ("%s\n", self->locked_out);
      self->exit_status = 1;
      self->stopped = TRUE;
      return;
    }
  _te_application_engine_init (self);
  _te_application_engine_start (self);
  self->sigterm_id = g_unix_signal_add (SIGTERM, unix_signal_cb, self);
  self->sigint_id = g_unix_signal_add (SIGINT, unix_signal_cb, self);
}

/* Another TorrentEdge has the state folder: say so in a window of its own,
 * since a desktop launch shows no terminal. */
static gboolean
show_locked_out (TeApplication *self)
{
  GtkWindow *dialog;

  if (self->locked_out == NULL)
    return FALSE;
  dialog = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (dialog == NULL)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *header = adw_header_bar_new ();
      GtkWidget *page = adw_status_page_new ();

      adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), gtk_label_new (NULL));
      gtk_widget_add_css_class (header, "flat");
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (page), "dialog-error-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (page), _("TorrentEdge Is Already Running"));
      adw_status_page_set_description (ADW_STATUS_PAGE (page), self->locked_out);
      gtk_widget_set_vexpand (page, TRUE);
      gtk_box_append (GTK_BOX (box), header);
      gtk_box_append (GTK_BOX (box), page);
      dialog = GTK_WINDOW (adw_window_new ());
      gtk_window_set_title (dialog, _("TorrentEdge"));
      gtk_window_set_default_size (dialog, 480, 360);
      adw_window_set_content (ADW_WINDOW (dialog), box);
      gtk_window_set_application (dialog, GTK_APPLICATION (self));
    }
  gtk_window_present (dialog);
  return TRUE;
}

static void
te_application_activate (GApplication *app)
{
  if (show_locked_out (TE_APPLICATION (app)))
    return;
  gtk_window_present (GTK_WINDOW (get_window (TE_APPLICATION (app))));
}

static void
te_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  TeApplication *self = TE_APPLICATION (app);
  TeWindow *window;

  if (show_locked_out (self))
    return;
  window = get_window (self);
  gtk_window_present (GTK_WINDOW (window));
  if (!self->ready)
    {
      /* Restored torrents first, so a file already in the list is found. */
      for (int i = 0; i < n_files; i++)
        g_ptr_array_add (self->pending_files, g_object_ref (files[i]));
      return;
    }
  te_window_open_files (window, files, n_files);
}

static void
te_application_shutdown (GApplication *app)
{
  TeApplication *self = TE_APPLICATION (app);

  /* Ended without te_application_quit() (a signal, g_application_quit()):
   * still save, spinning the context ourselves. */
  if (!self->stopped)
    {
      _te_application_engine_stop (self);
      while (!self->stopped)
        g_main_context_iteration (NULL, TRUE);
    }
  G_APPLICATION_CLASS (te_application_parent_class)->shutdown (app);
}

static void
te_application_dispose (GObject *object)
{
  TeApplication *self = TE_APPLICATION (object);

  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_object (&self->service);
  g_clear_object (&self->state);
  if (self->engine)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  g_clear_object (&self->settings);
  g_clear_object (&self->app_settings);
  g_clear_object (&self->remote_settings);
  g_clear_pointer (&self->pending_files, g_ptr_array_unref);

  G_OBJECT_CLASS (te_application_parent_class)->dispose (object);
}

static void
te_application_finalize (GObject *object)
{
  TeApplication *self = TE_APPLICATION (object);

  g_free (self->state_dir);
  g_free (self->locked_out);
  g_clear_pointer (&self->lock, te_instance_lock_release);

  G_OBJECT_CLASS (te_application_parent_class)->finalize (object);
}

static void
te_application_class_init (TeApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = te_application_dispose;
  object_class->finalize = te_application_finalize;
  app_class->startup = te_application_startup;
  app_class->activate = te_application_activate;
  app_class->open = te_application_open;
  app_class->shutdown = te_application_shutdown;
}

static void
te_application_init (TeApplication *self)
{
  self->pending_files = g_ptr_array_new_with_free_func (g_object_unref);
}
