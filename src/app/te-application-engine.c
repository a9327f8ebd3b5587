/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-application"

#include "config.h"
#include "config-app.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "te-application-private.h"
#include "te-file-state-store.h"
#include "te-torrent.h"
#include "te-window.h"

/* The engine's life inside the app: settings from GSettings (and their live
 * changes), state restored at start and flushed at the end, notifications
 * and the suspend inhibitor driven by the torrents' signals. */

#define STOP_GRACE_S 2

void
_te_application_report (TeApplication *self,
                        const char    *message)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  g_message ("%s", message);
  if (window != NULL)
    te_window_show_error (TE_WINDOW (window), message);
}

/* Settings */

static void
read_settings (TeApplication    *self,
               TeEngineSettings *settings)
{
  te_engine_settings_init (settings);
  te_engine_settings_apply_gsettings (settings, self->settings);
}

static void
apply_settings (TeApplication *self)
{
  TeEngineSettings settings;

  read_settings (self, &settings);
  te_engine_set_settings (self->engine, &settings);
  te_engine_settings_clear (&settings);
}

static void
settings_changed_cb (GSettings     *gsettings,
                     const char    *key,
                     TeApplication *self)
{
  if (self->engine != NULL && !self->stopping)
    apply_settings (self);
}

static void
app_settings_changed_cb (GSettings     *gsettings,
                         const char    *key,
                         TeApplication *self)
{
  if (g_str_equal (key, "prevent-suspend"))
    _te_application_update_inhibit (self);
}

/* Suspend */

void
_te_application_update_inhibit (TeApplication *self)
{
  gboolean want = !self->stopping && self->n_downloading > 0
                  && g_settings_get_boolean (self->app_settings, "prevent-suspend");
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (want && self->inhibit_cookie == 0)
    self->inhibit_cookie = gtk_application_inhibit (GTK_APPLICATION (self), window,
                                                    GTK_APPLICATION_INHIBIT_SUSPEND,
                                                    _("Downloading torrents"));
  else if (!want && self->inhibit_cookie != 0)
    {
      gtk_application_uninhibit (GTK_APPLICATION (self), self->inhibit_cookie);
      self->inhibit_cookie = 0;
    }
}

/* Torrents */

static void
notify_torrent (TeApplication *self,
                TeTorrent     *torrent,
                const char    *kind,
                const char    *title,
                const char    *body)
{
  g_autoptr(GNotification) notification = g_notification_new (title);
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autofree char *notification_id = g_strdup_printf ("%s-%s", kind, id);

  g_notification_set_body (notification, body);
  g_notification_set_default_action_and_target (notification, "app.show-torrent", "s", id);
  g_application_send_notification (G_APPLICATION (self), notification_id, notification);
}

/* Torrent events come through the engine: one connection for all torrents. */

static void
completed_cb (TeEngine      *engine,
              TeTorrent     *torrent,
              TeApplication *self)
{
  if (!g_settings_get_boolean (self->app_settings, "notify-completed"))
    return;
  notify_torrent (self, torrent, "complete", _("Download Finished"), te_torrent_get_name (torrent));
}

static void
error_cb (TeEngine           *engine,
          TeTorrent          *torrent,
          const TeErrorEvent *event,
          TeApplication      *self)
{
  g_autofree char *body = NULL;

  /* Only what stops the torrent: the engine retries the rest by itself. */
  if (event->recoverable || !g_settings_get_boolean (self->app_settings, "notify-errors"))
    return;
  body = g_strdup_printf ("%s: %s", te_torrent_get_name (torrent), event->message);
  notify_torrent (self, torrent, "error", _("Download Failed"), body);
}

static void
state_changed_cb (TeEngine       *engine,
                  TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  TeApplication  *self)
{
  if (from == TE_TORRENT_STATE_DOWNLOADING)
    self->n_downloading--;
  if (to == TE_TORRENT_STATE_DOWNLOADING)
    self->n_downloading++;
  _te_application_update_inhibit (self);
}

static void
torrent_added_cb (TeEngine      *engine,
                  TeTorrent     *torrent,
                  TeApplication *self)
{
  if (te_torrent_get_state (torrent) == TE_TORRENT_STATE_DOWNLOADING)
    {
      self->n_downloading++;
      _te_application_update_inhibit (self);
    }
}

static void
torrent_removed_cb (TeEngine      *engine,
                    TeTorrent     *torrent,
                    gboolean       delete_data,
                    TeApplication *self)
{
  if (te_torrent_get_state (torrent) == TE_TORRENT_STATE_DOWNLOADING)
    {
      self->n_downloading--;
      _te_application_update_inhibit (self);
    }
}

static void
problem_cb (TeStateManager *manager,
            const char     *id,
            const GError   *error,
            TeApplication  *self)
{
  g_autofree char *message = g_strdup_printf (_("Saved state of a torrent is damaged: %s"), error->message);

  _te_application_report (self, message);
}

/* Start: the state folder's lock, folders on a worker, then the engine,
 * then the saved torrents. */

/* One process per state folder: a daemon (torrentedge-cli daemon) on the
 * same folder would write the same state and data files. Making the folder
 * and taking the lock are two quick calls on a local folder, done before
 * the first window. Returns FALSE, with self->locked_out saying why, when
 * another process holds the lock; a lock that cannot be taken at all (a
 * read-only folder) is reported and the app runs, as it did before. */
gboolean
_te_application_engine_lock (TeApplication *self)
{
  g_autoptr(GError) error = NULL;

  self->state_dir = g_build_filename (g_get_user_data_dir (), "torrentedge", "state", NULL);
  if (g_mkdir_with_parents (self->state_dir, 0700) != 0)
    return TRUE;
  self->lock = te_instance_lock_acquire (self->state_dir, &error);
  if (self->lock != NULL)
    return TRUE;
  if (!g_error_matches (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_HELD))
    {
      g_warning ("%s", error->message);
      return TRUE;
    }
  self->locked_out = g_strdup (error->message);
  return FALSE;
}

void
_te_application_engine_init (TeApplication *self)
{
  TeEngineSettings settings;

  self->settings = g_settings_new (TE_SETTINGS_SCHEMA_ID);
  self->app_settings = g_settings_new (TE_SETTINGS_SCHEMA_ID ".App");
  self->remote_settings = g_settings_new (TE_SETTINGS_SCHEMA_ID ".Remote");
  if (self->state_dir == NULL)
    self->state_dir = g_build_filename (g_get_user_data_dir (), "torrentedge", "state", NULL);

  read_settings (self, &settings);
  self->engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);

  g_signal_connect (self->settings, "changed", G_CALLBACK (settings_changed_cb), self);
  g_signal_connect (self->app_settings, "changed", G_CALLBACK (app_settings_changed_cb), self);
  g_signal_connect (self->engine, "torrent-added", G_CALLBACK (torrent_added_cb), self);
  g_signal_connect (self->engine, "torrent-removed", G_CALLBACK (torrent_removed_cb), self);
  g_signal_connect_object (self->engine, "torrent-completed", G_CALLBACK (completed_cb), self, 0);
  g_signal_connect_object (self->engine, "torrent-error", G_CALLBACK (error_cb), self, 0);
  g_signal_connect_object (self->engine, "torrent-state-changed", G_CALLBACK (state_changed_cb), self, 0);
}

static void
restored_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TeApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  GtkWindow *window;
  guint n = 0;

  if (!te_state_manager_restore_finish (TE_STATE_MANAGER (source), result, &n, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Cannot restore saved torrents: %s"), error->message);

      _te_application_report (self, message);
    }
  g_debug ("Restored %u torrents", n);
  self->ready = TRUE;
  g_application_release (G_APPLICATION (self));
  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window != NULL && self->pending_files->len > 0)
    {
      g_autoptr(GPtrArray) files = g_steal_pointer (&self->pending_files);

      self->pending_files = g_ptr_array_new_with_free_func (g_object_unref);
      te_window_open_files (TE_WINDOW (window), (GFile **) files->pdata, files->len);
    }
}

static void
make_folders_thread (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  const char * const *dirs = task_data;

  for (guint i = 0; dirs[i] != NULL; i++)
    if (g_mkdir_with_parents (dirs[i], i == 0 ? 0700 : 0755) != 0)
      {
        int saved = errno;

        g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                 _("Cannot create the folder “%s”: %s"), dirs[i], g_strerror (saved));
        return;
      }
  g_task_return_boolean (task, TRUE);
}

static void
folders_ready_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TeApplication *self = TE_APPLICATION (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeFileStateStore) store = NULL;

  if (self->stopping)
    {
      /* Quit while the folders were made: nothing was restored, nothing to save. */
      g_application_release (G_APPLICATION (self));
      return;
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    _te_application_report (self, error->message);
  if (!te_engine_start (self->engine, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Cannot accept connections from peers: %s"),
                                                  error->message);

      _te_application_report (self, message);
    }
  store = te_file_state_store_new (self->state_dir);
  self->state = te_state_manager_new (self->engine, TE_STATE_STORE (store));
  g_signal_connect (self->state, "problem", G_CALLBACK (problem_cb), self);
  te_state_manager_restore_async (self->state, NULL, restored_cb, g_object_ref (self));
  _te_application_remote_init (self);
}

void
_te_application_engine_start (TeApplication *self)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, folders_ready_cb, NULL);
  const char **dirs = g_new0 (const char *, 3);

  dirs[0] = g_strdup (self->state_dir);
  dirs[1] = g_strdup (te_engine_get_settings (self->engine)->download_path);
  g_task_set_task_data (task, dirs, (GDestroyNotify) g_strfreev);
  g_task_set_source_tag (task, _te_application_engine_start);
  /* Held until the saved torrents are back: an `open` that started the app
   * must not end it before then. */
  g_application_hold (G_APPLICATION (self));
  g_task_run_in_thread (task, make_folders_thread);
}

/* Stop */

static gboolean
stopped_cb (gpointer user_data)
{
  TeApplication *self = user_data;

  self->stop_timeout_id = 0;
  self->stopped = TRUE;
  g_application_release (G_APPLICATION (self));
  return G_SOURCE_REMOVE;
}

static void
flushed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  TeApplication *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!te_state_manager_flush_finish (TE_STATE_MANAGER (source), result, &error))
    g_message ("Cannot save the state of the torrents: %s", error->message);
  /* Saved as they run: stopping the torrents now must not be recorded. */
  g_signal_handlers_disconnect_by_data (self->state, self);
  g_clear_object (&self->state);
  _te_application_remote_stop (self);
  te_engine_stop (self->engine);
  /* The trackers are told we leave; give them a moment to answer. */
  self->stop_timeout_id = g_timeout_add_seconds (STOP_GRACE_S, stopped_cb, self);
}

void
_te_application_engine_stop (TeApplication *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  _te_application_update_inhibit (self);
  g_application_hold (G_APPLICATION (self));
  if (self->state == NULL)
    {
      /* Quit before the folders were even made: nothing to save. */
      te_engine_stop (self->engine);
      self->stop_timeout_id = g_idle_add (stopped_cb, self);
      return;
    }
  te_state_manager_flush_async (self->state, NULL, flushed_cb, self);
}
