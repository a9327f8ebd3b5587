/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-daemon"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>

#include "te-api.h"
#include "te-auth.h"
#include "te-cli.h"
#include "te-engine.h"
#include "te-service.h"
#include "te-service-settings.h"
#include "te-file-state-store.h"
#include "te-instance-lock.h"
#include "te-state-manager.h"
#include "te-torrent.h"
#include "te-watch-folder.h"

/* The headless engine: settings from the environment, state kept in a folder,
 * torrents added by dropping .torrent files (or .magnet files holding a link)
 * into a watch folder. Events go to stdout as JSON lines, in the format of the
 * remote API's WebSocket frames; logging goes to stderr. */

typedef struct {
  GMainLoop      *loop;
  TeEngine       *engine;
  TeStateManager *state;
  char           *watch_dir;
  TeWatchFolder  *watch;
  guint           status_id;
  char           *last_status;
  gboolean        stopping;
  int             status;
  TeService      *service;
  char           *settings_path;
} Daemon;

/* One JSON line: the envelope around @data, which is serialized JSON. */
static void
emit_line (const char *type,
           TeTorrent  *torrent,
           const char *data)
{
  g_autofree char *id = torrent ? te_torrent_dup_id (torrent) : NULL;

  /* Flushed once per main-loop turn, in daemon_poll(). */
  if (id)
    fprintf (stdout, "{\"type\":\"%s\",\"infoHash\":\"%s\",\"timestamp\":%" G_GINT64_FORMAT
             ",\"data\":%s}\n", type, id, g_get_real_time () / 1000, data);
  else
    fprintf (stdout, "{\"type\":\"%s\",\"infoHash\":null,\"timestamp\":%" G_GINT64_FORMAT
             ",\"data\":%s}\n", type, g_get_real_time () / 1000, data);
}

static void
emit_event (const char *type,
            TeTorrent  *torrent,
            JsonObject *data)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonObject) empty = data ? NULL : json_object_new ();
  g_autofree char *text = NULL;

  json_node_set_object (root, data ? data : empty);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  emit_line (type, torrent, text);
}

/* Per-torrent events, through the engine: one connection for all torrents. */

static void
state_changed_cb (TeEngine       *engine,
                  TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  Daemon         *d)
{
  /* The bulk of the events of a mass add: state names need no escaping. */
  g_autofree char *data = g_strdup_printf ("{\"from\":\"%s\",\"to\":\"%s\"}",
                                           te_torrent_state_to_string (from),
                                           te_torrent_state_to_string (to));

  emit_line ("torrent:state", torrent, data);
}

static void
completed_cb (TeEngine  *engine,
              TeTorrent *torrent,
              Daemon    *d)
{
  g_autoptr(JsonObject) data = json_object_new ();
  gint64 secs = MAX (te_torrent_get_completed_at (torrent) - te_torrent_get_added_at (torrent), 0);

  json_object_set_string_member (data, "name", te_torrent_get_name (torrent));
  json_object_set_int_member (data, "totalSize", (gint64) te_torrent_get_total_size (torrent));
  json_object_set_int_member (data, "downloadTime", secs);
  json_object_set_int_member (data, "averageSpeed", secs ? (gint64) te_torrent_get_total_size (torrent) / secs : 0);
  emit_event ("torrent:complete", torrent, data);
}

static void
error_cb (TeEngine           *engine,
          TeTorrent          *torrent,
          const TeErrorEvent *event,
          Daemon             *d)
{
  g_autoptr(JsonObject) data = json_object_new ();

  json_object_set_string_member (data, "category", te_error_category_to_string (event->category));
  json_object_set_string_member (data, "code", event->code);
  json_object_set_string_member (data, "message", event->message);
  if (event->details)
    json_object_set_string_member (data, "details", event->details);
  else
    json_object_set_null_member (data, "details");
  json_object_set_boolean_member (data, "recoverable", event->recoverable);
  json_object_set_string_member (data, "action", te_error_action_to_string (event->action));
  emit_event ("torrent:error", torrent, data);
}

static void
torrent_added_cb (TeEngine  *engine,
                  TeTorrent *torrent,
                  Daemon    *d)
{
  g_autoptr(GString) data = g_string_new ("{\"name\":");

  te_api_append_string (data, te_torrent_get_name (torrent));
  g_string_append (data, ",\"savePath\":");
  te_api_append_string (data, te_torrent_get_save_path (torrent));
  g_string_append_c (data, '}');
  emit_line ("torrent:added", torrent, data->str);
}

static void
progress_event (TeTorrent *torrent)
{
  g_autoptr(JsonObject) data = json_object_new ();
  JsonObject *peers = json_object_new ();
  TeTorrentStats s;
  gint64 eta = te_torrent_get_eta (torrent);

  te_torrent_get_stats (torrent, &s);
  json_object_set_double_member (data, "percentage", 100.0 * te_torrent_get_progress (torrent));
  json_object_set_int_member (data, "downloadSpeed", (gint64) s.download_rate);
  json_object_set_int_member (data, "uploadSpeed", (gint64) s.upload_rate);
  json_object_set_int_member (data, "downloaded", (gint64) s.downloaded);
  json_object_set_int_member (data, "uploaded", (gint64) s.uploaded);
  json_object_set_int_member (data, "remaining", (gint64) (s.wanted_bytes > s.have_bytes ? s.wanted_bytes - s.have_bytes : 0));
  if (eta >= 0)
    json_object_set_int_member (data, "eta", eta);
  else
    json_object_set_null_member (data, "eta");
  json_object_set_int_member (peers, "connected", s.peers_connected);
  json_object_set_int_member (peers, "total", s.peers_known);
  json_object_set_object_member (data, "peers", peers);
  json_object_set_double_member (data, "ratio", te_torrent_get_ratio (torrent));
  json_object_set_string_member (data, "state", te_torrent_state_to_string (te_torrent_get_state (torrent)));
  emit_event ("torrent:progress", torrent, data);
}

/* Once a second: progress of active downloads, and the counts when they change. */
static gboolean
status_cb (gpointer user_data)
{
  Daemon *d = user_data;
  GPtrArray *torrents = te_engine_get_torrents (d->engine);
  guint counts[TE_TORRENT_STATE_COMPLETE + 1] = { 0 };
  g_autoptr(JsonObject) data = json_object_new ();
  g_autofree char *key = NULL;

  for (guint i = 0; i < torrents->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (torrents, i);
      TeTorrentState st = te_torrent_get_state (t);

      counts[st]++;
      if (st == TE_TORRENT_STATE_DOWNLOADING || st == TE_TORRENT_STATE_PENDING)
        progress_event (t);
    }
  key = g_strdup_printf ("%u %u %u %u %u %u %u %u %u", torrents->len, counts[0], counts[1],
                         counts[2], counts[3], counts[4], counts[5], counts[6], counts[7]);
  if (g_strcmp0 (key, d->last_status) == 0)
    return G_SOURCE_CONTINUE;
  g_free (d->last_status);
  d->last_status = g_steal_pointer (&key);
  json_object_set_int_member (data, "torrents", torrents->len);
  for (guint s = 0; s <= TE_TORRENT_STATE_COMPLETE; s++)
    json_object_set_int_member (data, te_torrent_state_to_string (s), counts[s]);
  emit_event ("daemon:status", NULL, data);
  return G_SOURCE_CONTINUE;
}

/* Before the main loop waits, the events of its last turn go out in one
 * write: thousands of torrents changing state at once would otherwise cost a
 * write each.
 *
 * Main-loop stalls: the time from one poll's return to the next poll is what
 * the loop spent dispatching; it costs two clock reads per iteration and no
 * wakeups, so it can stay on while idle CPU is measured. */

static gint64 stall_threshold_us;
static gint64 iteration_start_us;

static gint
daemon_poll (GPollFD *fds,
             guint    n_fds,
             gint     timeout)
{
  gint64 now;
  gint ret;

  fflush (stdout);
  if (stall_threshold_us == 0)
    return g_poll (fds, n_fds, timeout);
  now = g_get_monotonic_time ();
  if (iteration_start_us != 0 && now - iteration_start_us > stall_threshold_us)
    {
      g_autoptr(JsonObject) data = json_object_new ();

      json_object_set_double_member (data, "durationMs", (now - iteration_start_us) / 1000.0);
      emit_event ("daemon:stall", NULL, data);
      fflush (stdout);
    }
  ret = g_poll (fds, n_fds, timeout);
  iteration_start_us = g_get_monotonic_time ();
  return ret;
}

/* The watch folder */

static void
watch_failed_cb (TeWatchFolder *watch,
                 const char    *path,
                 const GError  *error,
                 Daemon        *d)
{
  g_warning ("%s: %s", path, error->message);
}

/* The remote API */

static void
save_settings_thread (GTask        *task,
                      gpointer      source,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  TeEngineSettings *settings = task_data;
  const char *path = g_object_get_data (G_OBJECT (task), "path");
  GError *error = NULL;

  if (te_service_settings_save_file (settings, path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
settings_saved_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning (_("Cannot save the settings: %s"), error->message);
}

static void
free_settings (gpointer data)
{
  te_engine_settings_clear (data);
  g_free (data);
}

/* Settings changed through the API are kept in settings.json (written atomically, off the main loop). */
static void
settings_changed_cb (TeService *service,
                     Daemon    *d)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, settings_saved_cb, NULL);
  TeEngineSettings *copy = g_new0 (TeEngineSettings, 1);

  te_engine_settings_copy (copy, te_engine_get_settings (d->engine));
  g_object_set_data_full (G_OBJECT (task), "path", g_strdup (d->settings_path), g_free);
  g_task_set_task_data (task, copy, free_settings);
  g_task_run_in_thread (task, save_settings_thread);
}

static char **
env_list (const char * const *env,
          const char         *name)
{
  const char *value = g_environ_getenv ((char **) env, name);
  g_auto(GStrv) parts = NULL;
  GPtrArray *list;

  if (value == NULL || *value == '\0')
    return NULL;
  parts = g_strsplit (value, ",", -1);
  list = g_ptr_array_new ();
  for (guint i = 0; parts[i]; i++)
    if (*g_strstrip (parts[i]))
      g_ptr_array_add (list, g_strdup (parts[i]));
  g_ptr_array_add (list, NULL);
  return (char **) g_ptr_array_free (list, FALSE);
}

/* With no password configured, the first start makes one, keeps only its
 * hash, and shows it once. */
static char *
stored_password_hash (const char  *state_dir,
                      GError     **error)
{
  g_autofree char *path = g_build_filename (state_dir, "rpc-password-hash", NULL);
  g_autofree char *hash = NULL;
  g_autofree char *password = NULL;
  guint8 raw[18];

  if (g_file_get_contents (path, &hash, NULL, NULL))
    return g_strdup (g_strstrip (hash));
  if (gnutls_rnd (GNUTLS_RND_KEY, raw, sizeof raw) != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("No random bytes for a password"));
      return NULL;
    }
  password = g_base64_encode (raw, sizeof raw);
  for (char *p = password; *p; p++)
    if (*p == '+' || *p == '/')
      *p = 'x';
  hash = te_auth_hash_password (password);
  if (!g_file_set_contents_full (path, hash, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return NULL;
  /* The “user:” and “password:” keys stay in English: scripts read the
   * password from its line. */
  fprintf (stderr, "\n%s\n", _("The remote API has no password set (RPC_PASSWORD): one was made for it."));
  fprintf (stderr, "  user: %s\n", _("the RPC_USERNAME value, or \"admin\""));
  fprintf (stderr, "  password: %s\n", password);
  fprintf (stderr, _("It is shown only this once; its hash is kept in %s."), path);
  fputs ("\n\n", stderr);
  return g_steal_pointer (&hash);
}

static gboolean close_requested_cb (TeService *service,
                                    Daemon    *d);

static gboolean
start_service (Daemon              *d,
               const char * const  *env,
               const char          *state_dir,
               GError             **error)
{
  TeServiceConfig config;
  const char *v;
  gboolean ok;

  te_service_config_init (&config);
  if ((v = g_environ_getenv ((char **) env, "RPC_PORT")))
    {
      guint64 port;

      if (!g_ascii_string_to_unsigned (v, 10, 0, 65535, &port, NULL))
        {
          g_set_error (error, TE_SERVICE_ERROR, TE_SERVICE_ERROR_CONFIG, _("RPC_PORT “%s” is not a port"), v);
          te_service_config_clear (&config);
          return FALSE;
        }
      config.port = (guint16) port;
    }
  if ((v = g_environ_getenv ((char **) env, "RPC_BIND_ADDRESS")))
    {
      g_free (config.bind_address);
      config.bind_address = g_strdup (v);
    }
  config.username = g_strdup (g_environ_getenv ((char **) env, "RPC_USERNAME"));
  if (config.username == NULL || *config.username == '\0')
    {
      g_free (config.username);
      config.username = g_strdup ("admin");
    }
  if ((v = g_environ_getenv ((char **) env, "RPC_PASSWORD")) && *v)
    config.password_hash = te_auth_hash_password (v);
  else if ((v = g_environ_getenv ((char **) env, "RPC_PASSWORD_HASH")) && *v)
    config.password_hash = g_strdup (v);
  else if ((config.password_hash = stored_password_hash (state_dir, error)) == NULL)
    {
      te_service_config_clear (&config);
      return FALSE;
    }
  config.secret_path = g_build_filename (state_dir, "rpc-secret", NULL);
  config.allowed_hosts = env_list (env, "RPC_ALLOWED_HOSTS");
  config.cors_origins = env_list (env, "RPC_CORS_ORIGINS");
  config.tls_certificate = g_strdup (g_environ_getenv ((char **) env, "RPC_TLS_CERT"));
  config.tls_key = g_strdup (g_environ_getenv ((char **) env, "RPC_TLS_KEY"));
  d->service = te_service_new (d->engine, &config);
  ok = te_service_start (d->service, error);
  if (ok)
    {
      g_autoptr(JsonObject) data = json_object_new ();

      json_object_set_string_member (data, "address", config.bind_address);
      json_object_set_int_member (data, "port", te_service_get_port (d->service));
      json_object_set_boolean_member (data, "tls", config.tls_certificate != NULL);
      emit_event ("daemon:rpc", NULL, data);
      g_signal_connect (d->service, "settings-changed", G_CALLBACK (settings_changed_cb), d);
      g_signal_connect (d->service, "close-requested", G_CALLBACK (close_requested_cb), d);
    }
  else
    g_clear_object (&d->service);
  te_service_config_clear (&config);
  return ok;
}

/* Life cycle */

static void
restored_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Daemon *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) data = json_object_new ();
  guint n = 0;

  if (!te_state_manager_restore_finish (TE_STATE_MANAGER (source), result, &n, &error))
    g_warning (_("Cannot restore saved torrents: %s"), error->message);
  json_object_set_int_member (data, "torrents", n);
  emit_event ("daemon:ready", NULL, data);
  /* After the restore: a file for a saved torrent finds it there. */
  if (d->watch_dir && !d->stopping)
    {
      d->watch = te_watch_folder_new (d->engine, d->watch_dir, &error);
      if (d->watch == NULL)
        g_warning (_("Cannot watch %s: %s"), d->watch_dir, error->message);
      else
        {
          /* A file is renamed once its torrent's state is saved. */
          te_watch_folder_set_state_manager (d->watch, d->state);
          g_signal_connect (d->watch, "failed", G_CALLBACK (watch_failed_cb), d);
        }
    }
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
stopped_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Daemon *d = user_data;

  te_engine_stop_finish (TE_ENGINE (source), result, NULL);
  /* The trackers are told we leave; give them a moment to answer. */
  g_timeout_add_seconds (2, quit_cb, d->loop);
}

static void
flushed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Daemon *d = user_data;
  g_autoptr(GError) error = NULL;

  if (!te_state_manager_flush_finish (TE_STATE_MANAGER (source), result, &error))
    {
      g_warning (_("Cannot save state: %s"), error->message);
      d->status = 1;
    }
  /* Saved as they run: stopping the torrents now must not be recorded. */
  g_clear_object (&d->state);
  if (d->service)
    te_service_stop (d->service);
  te_engine_stop_async (d->engine, NULL, stopped_cb, d);
}

static gboolean
signal_cb (gpointer user_data)
{
  Daemon *d = user_data;

  if (!d->stopping)
    {
      d->stopping = TRUE;
      /* Files not added yet stay for the next start. */
      g_clear_object (&d->watch);
      g_message (_("Saving state and stopping"));
      te_state_manager_flush_async (d->state, NULL, flushed_cb, d);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
close_idle_cb (gpointer user_data)
{
  signal_cb (user_data);
  return G_SOURCE_REMOVE;
}

/* Transmission's session-close: the same way out as SIGTERM (state saved,
 * trackers told), begun from a fresh dispatch so the reply goes out first;
 * the service closes its connections only once the state is flushed. */
static gboolean
close_requested_cb (TeService *service,
                    Daemon    *d)
{
  g_message (_("A remote client asked the daemon to stop"));
  g_idle_add_full (G_PRIORITY_LOW, close_idle_cb, d, NULL);
  return TRUE;
}

static void
problem_cb (TeStateManager *manager,
            const char     *id,
            const GError   *error,
            Daemon         *d)
{
  g_autoptr(JsonObject) data = json_object_new ();

  json_object_set_string_member (data, "id", id);
  json_object_set_string_member (data, "message", error->message);
  emit_event ("state:problem", NULL, data);
}

int
te_cli_daemon (int    argc,
               char **argv)
{
  g_autofree char *state_dir = NULL;
  g_autofree char *watch_dir = NULL;
  g_autofree char *download_dir = NULL;
  gint port = -1;
  gboolean no_rpc = FALSE;
  gint stall_ms = 0;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, N_("Where resume state is kept (default: the user data folder)"), N_("DIR") },
    { "watch-dir", 0, 0, G_OPTION_ARG_FILENAME, &watch_dir, N_("Add .torrent and .magnet files dropped here"), N_("DIR") },
    { "download-dir", 0, 0, G_OPTION_ARG_FILENAME, &download_dir, N_("Save new torrents here (default: DOWNLOAD_PATH)"), N_("DIR") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Listening port (default: LISTEN_PORT or 51413)"), N_("N") },
    { "no-rpc", 0, 0, G_OPTION_ARG_NONE, &no_rpc, N_("Do not start the remote API"), NULL },
    { "report-stalls", 0, 0, G_OPTION_ARG_INT, &stall_ms, N_("Print a daemon:stall event for each main-loop iteration longer than MS milliseconds"), N_("MS") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeFileStateStore) store = NULL;
  g_autoptr(TeInstanceLock) lock = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_auto(GStrv) env = g_get_environ ();
  TeEngineSettings settings;
  Daemon d = { 0 };
  guint sigint, sigterm;

  /* Translators: the environment variable names and --no-rpc stay as they are. */
  g_option_context_set_summary (context,
                                N_("Run the engine headless. Settings come from the environment "
                                   "(DOWNLOAD_PATH, MAX_CONCURRENT_TORRENTS, …); events are printed "
                                   "on stdout as JSON lines; SIGTERM saves state and exits.\n\n"
                                   "The remote API (REST, WebSocket and Transmission RPC) runs unless --no-rpc:\n"
                                   "  RPC_PORT (9091), RPC_BIND_ADDRESS (127.0.0.1), RPC_USERNAME (admin),\n"
                                   "  RPC_PASSWORD (hashed at start) or RPC_PASSWORD_HASH, RPC_ALLOWED_HOSTS and\n"
                                   "  RPC_CORS_ORIGINS (comma-separated), RPC_TLS_CERT and RPC_TLS_KEY (PEM files).\n"
                                   "Without a password the first start makes a random one, prints it once on\n"
                                   "stderr and keeps only its hash in the state folder: the API is never open\n"
                                   "without credentials. Settings changed through the API are saved in\n"
                                   "settings.json in the state folder and loaded at start; the environment wins."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 1)
    return te_cli_fail (_("daemon takes no arguments"));

  if (state_dir == NULL)
    state_dir = g_build_filename (g_get_user_data_dir (), "torrentedge", "state", NULL);
  /* One process per state folder, before anything in it is read: a second
   * daemon (or the app) would write the same state and data files. */
  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    return te_cli_fail (_("Cannot create the state folder %s: %s"), state_dir, g_strerror (errno));
  lock = te_instance_lock_acquire (state_dir, &error);
  if (lock == NULL)
    return te_cli_fail ("%s", error->message);
  d.settings_path = g_build_filename (state_dir, "settings.json", NULL);
  te_engine_settings_init (&settings);
  if (!te_service_settings_load_file (&settings, d.settings_path, &error)
      || !te_engine_settings_apply_environment (&settings, (const char * const *) env, &error))
    {
      te_engine_settings_clear (&settings);
      g_free (d.settings_path);
      return te_cli_fail ("%s", error->message);
    }
  if (download_dir)
    {
      g_free (settings.download_path);
      settings.download_path = g_canonicalize_filename (download_dir, NULL);
    }
  if (port >= 0 && port <= 65535)
    settings.listen_port = (guint16) port;
  if (g_mkdir_with_parents (state_dir, 0700) != 0
      || g_mkdir_with_parents (settings.download_path, 0755) != 0)
    {
      te_engine_settings_clear (&settings);
      return te_cli_fail (_("Cannot create the state or download folder: %s"), g_strerror (errno));
    }

  if (stall_ms > 0)
    stall_threshold_us = (gint64) stall_ms * 1000;
  setvbuf (stdout, NULL, _IOFBF, 64 * 1024);
  g_main_context_set_poll_func (NULL, daemon_poll);
  d.loop = loop;
  d.engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  if (!te_engine_start (d.engine, &error))
    {
      g_object_unref (d.engine);
      return te_cli_fail ("%s", error->message);
    }
  g_message (_("Listening for peers on port %u; state in %s"), te_engine_get_port (d.engine), state_dir);
  store = te_file_state_store_new (state_dir);
  d.state = te_state_manager_new (d.engine, TE_STATE_STORE (store));
  g_signal_connect (d.engine, "torrent-added", G_CALLBACK (torrent_added_cb), &d);
  g_signal_connect (d.engine, "torrent-state-changed", G_CALLBACK (state_changed_cb), &d);
  g_signal_connect (d.engine, "torrent-completed", G_CALLBACK (completed_cb), &d);
  g_signal_connect (d.engine, "torrent-error", G_CALLBACK (error_cb), &d);
  g_signal_connect (d.state, "problem", G_CALLBACK (problem_cb), &d);
  if (watch_dir)
    d.watch_dir = g_canonicalize_filename (watch_dir, NULL);
  if (!no_rpc && !start_service (&d, (const char * const *) env, state_dir, &error))
    {
      g_clear_object (&d.state);
      te_engine_stop (d.engine);
      g_object_unref (d.engine);
      g_free (d.settings_path);
      return te_cli_fail (_("Cannot start the remote API: %s"), error->message);
    }
  te_state_manager_restore_async (d.state, NULL, restored_cb, &d);
  d.status_id = g_timeout_add_seconds (1, status_cb, &d);
  sigint = g_unix_signal_add (SIGINT, signal_cb, &d);
  sigterm = g_unix_signal_add (SIGTERM, signal_cb, &d);

  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_handle_id (&d.status_id, g_source_remove);
  g_clear_object (&d.watch);
  g_clear_object (&d.state);
  if (d.service)
    {
      g_signal_handlers_disconnect_by_data (d.service, &d);
      te_service_stop (d.service);
      g_clear_object (&d.service);
    }
  g_signal_handlers_disconnect_by_data (d.engine, &d);
  g_object_unref (d.engine);
  g_free (d.settings_path);
  g_free (d.watch_dir);
  g_free (d.last_status);
  return d.status;
}
