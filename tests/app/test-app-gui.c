/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-gui"

#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "te-add-dialog.h"
#include "te-application.h"
#include "te-details.h"
#include "te-format.h"
#include "te-gui-env.h"
#include "te-interop-harness.h"
#include "te-screenshot.h"
#include "te-test-utils.h"
#include "te-window.h"

/* The app in this process, on a private X display and session bus: a
 * .torrent opened as a user would (through the add dialog) downloads from a
 * libtorrent seeder until its row says 100 % and "Seeding"; screenshots of
 * the window's parts are taken during the download; a second `torrentedge
 * MAGNET` process hands its link to this instance instead of opening a
 * window of its own. */

#define PAYLOAD_SIZE   (24 * 1024 * 1024)
#define SEED_RATE      "2000000"   /* bytes/s: the download outlasts the screenshots (~6 s) */
#define TIMEOUT_S      120

typedef struct {
  TeGuiEnv       env;
  Fixture        fixture;
  TeApplication *app;
  char          *torrent_path;
  char          *info_hash;
  char          *shots;
  GPtrArray     *notifications;
  GDBusConnection *bus;  /* "summary: body" of each Notify call */
  guint16        seed_port;
  gboolean       body_done;
} Gui;

static Gui gui;

static void
spin_until (gboolean  (*done) (gpointer),
            gpointer   data,
            guint      timeout_s,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_test_message ("Timed out waiting for %s", what);
          g_assert_not_reached ();
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static gboolean
app_ready (gpointer data)
{
  return te_application_is_ready (data)
         && gtk_application_get_active_window (GTK_APPLICATION (data)) != NULL;
}

static TeAddDialog *
find_add_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0, n = g_list_model_get_n_items (toplevels); i < n; i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (TE_IS_ADD_DIALOG (w) && gtk_widget_get_mapped (GTK_WIDGET (w)))
        return TE_ADD_DIALOG (w);
    }
  return NULL;
}

static gboolean
has_add_dialog (gpointer data)
{
  return find_add_dialog () != NULL;
}

static guint
count_main_windows (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint count = 0;

  for (guint i = 0, n = g_list_model_get_n_items (toplevels); i < n; i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      count += TE_IS_WINDOW (w);
    }
  return count;
}

/* The row of @torrent in the list the window shows. */
static TeTorrent *
row_torrent (TeWindow   *window,
             const char *info_hash)
{
  GListModel *model = te_window_get_model (window);

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(TeTorrent) t = g_list_model_get_item (model, i);
      g_autofree char *id = te_torrent_dup_id (t);

      if (g_str_equal (id, info_hash))
        return t;
    }
  return NULL;
}

/* A label or progress bar under @widget showing @text. */
static gboolean
shows_text (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget)
      && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;
  if (GTK_IS_PROGRESS_BAR (widget) && gtk_widget_get_mapped (widget)
      && g_strcmp0 (gtk_progress_bar_get_text (GTK_PROGRESS_BAR (widget)), text) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    if (shows_text (child, text))
      return TRUE;
  return FALSE;
}

typedef struct {
  TeWindow   *window;
  const char *hash;
  double      min_progress;
} RowWait;

static gboolean
row_progressed (gpointer data)
{
  RowWait *w = data;
  TeTorrent *t = row_torrent (w->window, w->hash);

  return t != NULL && te_torrent_get_progress (t) >= w->min_progress;
}

static gboolean
row_seeding (gpointer data)
{
  RowWait *w = data;
  TeTorrent *t = row_torrent (w->window, w->hash);
  GtkWidget *list = te_window_get_part (w->window, "list");

  return t != NULL && te_torrent_get_progress (t) == 1.0
         && te_torrent_get_state (t) == TE_TORRENT_STATE_SEEDING
         && shows_text (list, te_format_state (TE_TORRENT_STATE_SEEDING))
         && shows_text (list, "100.0 %");
}

/* Screenshots */

static GBytes *
pixels (GdkTexture *texture)
{
  gsize stride = gdk_texture_get_width (texture) * 4;
  gsize size = stride * gdk_texture_get_height (texture);
  guchar *data = g_malloc (size);

  gdk_texture_download (texture, data, stride);
  return g_bytes_new_take (data, size);
}

static gboolean
uniform (GBytes *bytes)
{
  gsize len;
  const guint32 *px = g_bytes_get_data (bytes, &len);

  for (gsize i = 1; i < len / 4; i++)
    if (px[i] != px[0])
      return FALSE;
  return TRUE;
}

static GBytes *
shoot (GtkWidget  *widget,
       const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = g_strdup_printf ("%s/%s.png", gui.shots, name);
  GBytes *data;
  GStatBuf st;

  /* Drawn at least once since the last change. */
  for (guint i = 0; i < 20; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_true (gtk_widget_get_mapped (widget));
  texture = te_screenshot_widget (widget, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (texture), >, 100);
  g_assert_cmpint (gdk_texture_get_height (texture), >, 100);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 2000);
  data = pixels (texture);
  g_assert_false (uniform (data));
  g_test_message ("Wrote %s", path);
  return data;
}

static gboolean
is_mapped (gpointer widget)
{
  return gtk_widget_get_mapped (widget);
}

static void
take_screenshots (TeWindow *window)
{
  g_autoptr(GBytes) swarm1 = NULL;
  g_autoptr(GBytes) swarm2 = NULL;
  g_autoptr(GBytes) details = NULL;
  TeDetails *pane = TE_DETAILS (te_window_get_part (window, "details"));

  te_window_show_page (window, "torrents");
  g_assert_true (te_window_select_torrent (window, gui.info_hash));
  g_action_group_change_action_state (G_ACTION_GROUP (window), "show-details", g_variant_new_boolean (TRUE));
  spin_until (is_mapped, pane, 10, "the details pane");
  te_details_show_page (pane, "peers");
  /* The peers page refreshes once a second while shown. */
  te_test_spin (1500);
  g_assert_cmpuint (g_list_model_get_n_items (te_details_get_peers (pane)), >=, 1);
  g_bytes_unref (shoot (GTK_WIDGET (window), "main-window"));
  details = shoot (GTK_WIDGET (pane), "part-details-peers");
  te_details_show_page (pane, "pieces");
  g_bytes_unref (shoot (GTK_WIDGET (pane), "part-details-pieces"));
  te_details_show_page (pane, "overview");

  te_window_show_page (window, "dashboard");
  te_test_spin (1200);
  g_bytes_unref (shoot (te_window_get_part (window, "dashboard"), "part-dashboard"));
  g_bytes_unref (shoot (GTK_WIDGET (window), "dashboard-window"));

  te_window_show_page (window, "swarm");
  te_test_spin (1200);
  swarm1 = shoot (te_window_get_part (window, "swarm"), "part-swarm-1");
  te_test_spin (1500);
  swarm2 = shoot (te_window_get_part (window, "swarm"), "part-swarm-2");
  g_bytes_unref (shoot (GTK_WIDGET (window), "swarm-window"));
  /* The swarm moves while the download runs. */
  g_assert_false (g_bytes_equal (swarm1, swarm2));
  te_window_show_page (window, "torrents");
}

/* A notification server on the private bus, recording what it is sent. */

static const char notifications_xml[] =
  "<node><interface name='org.freedesktop.Notifications'>"
  "<method name='Notify'><arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='as' direction='in'/><arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "<arg type='u' direction='out'/></method>"
  "<method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "<method name='GetServerInformation'><arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "<arg type='s' direction='out'/><arg type='s' direction='out'/></method>"
  "</interface></node>";

static void
notifications_call_cb (GDBusConnection       *connection,
                       const char            *sender,
                       const char            *path,
                       const char            *interface,
                       const char            *method,
                       GVariant              *params,
                       GDBusMethodInvocation *invocation,
                       gpointer               user_data)
{
  if (g_str_equal (method, "Notify"))
    {
      const char *summary, *body;

      g_variant_get_child (params, 3, "&s", &summary);
      g_variant_get_child (params, 4, "&s", &body);
      g_ptr_array_add (gui.notifications, g_strdup_printf ("%s: %s", summary, body));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", gui.notifications->len));
    }
  else if (g_str_equal (method, "GetCapabilities"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new_parsed ("(@as ['body'],)"));
  else if (g_str_equal (method, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ssss)", "test", "test", "1", "1.2"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
start_notification_server (void)
{
  static const GDBusInterfaceVTable vtable = { notifications_call_cb, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  GDBusConnection *bus;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 owner = 0;

  /* Kept: the name goes with the last reference to the connection. */
  gui.bus = bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  gui.notifications = g_ptr_array_new_with_free_func (g_free);
  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.Notifications", 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &owner);
  /* 1: the primary owner */
  g_assert_cmpuint (owner, ==, 1);
}

static gboolean
notified (gpointer data)
{
  for (guint i = 0; i < gui.notifications->len; i++)
    if (g_str_equal (g_ptr_array_index (gui.notifications, i), data))
      return TRUE;
  return FALSE;
}

/* The second process */

typedef struct {
  TeEngine *engine;
  guint     n;
} CountWait;

static gboolean
has_torrents (gpointer data)
{
  CountWait *w = data;

  return g_list_model_get_n_items (G_LIST_MODEL (w->engine)) >= w->n;
}

static gboolean
subprocess_done (gpointer data)
{
  return g_subprocess_get_identifier (data) == NULL;
}

static gboolean
has_row (gpointer window)
{
  return row_torrent (window, "0123456789abcdef0123456789abcdef01234567") != NULL;
}

static void
second_instance (TeWindow *window)
{
  const char *magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=second-instance";
  const char *argv[] = { g_getenv ("TE_APP"), magnet, NULL };
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  TeEngine *engine = te_application_get_engine (gui.app);
  CountWait w = { engine, 2 };
  TeTorrent *added;

  g_assert_nonnull (argv[0]);
  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  spin_until (has_torrents, &w, 30, "the magnet of the second process");
  added = te_engine_find_torrent (engine, "0123456789abcdef0123456789abcdef01234567");
  g_assert_nonnull (added);
  g_assert_cmpstr (te_torrent_get_name (added), ==, "second-instance");
  /* The list filters and sorts in chunks: the row shows up a moment later. */
  spin_until (has_row, window, 10, "the magnet's row");
  /* The remote instance exits at once; no second window anywhere. */
  spin_until (subprocess_done, proc, 30, "the second process to exit");
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_assert_cmpuint (count_main_windows (), ==, 1);
  /* Its add dialog waits for metadata that no peer has: cancelling removes it. */
  spin_until (has_add_dialog, NULL, 10, "the magnet's add dialog");
  g_assert_true (te_add_dialog_get_torrent (find_add_dialog ()) == added);
  gtk_widget_activate_action (GTK_WIDGET (find_add_dialog ()), "add.cancel", NULL);
  g_assert_null (te_engine_find_torrent (engine, "0123456789abcdef0123456789abcdef01234567"));
}

static gboolean
body_cb (gpointer user_data)
{
  TeWindow *window;
  g_autoptr(GFile) file = g_file_new_for_path (gui.torrent_path);
  TeTorrent *torrent;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) seeder = g_inet_socket_address_new (lo, gui.seed_port);
  RowWait w;

  spin_until (app_ready, gui.app, 30, "the app to restore its state");
  window = TE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (gui.app)));
  g_assert_cmpuint (g_list_model_get_n_items (te_window_get_model (window)), ==, 0);

  /* Opened as the file manager would: through the add dialog. */
  g_application_open (G_APPLICATION (gui.app), &file, 1, "");
  spin_until (has_add_dialog, NULL, 10, "the add dialog");
  gtk_widget_activate_action (GTK_WIDGET (find_add_dialog ()), "add.confirm", NULL);
  g_assert_null (find_add_dialog ());
  torrent = te_engine_find_torrent (te_application_get_engine (gui.app), gui.info_hash);
  g_assert_nonnull (torrent);
  te_torrent_add_peer (torrent, G_INET_SOCKET_ADDRESS (seeder));

  w = (RowWait) { window, gui.info_hash, 0.15 };
  spin_until (row_progressed, &w, TIMEOUT_S, "the download to start");
  take_screenshots (window);
  g_assert_cmpfloat (te_torrent_get_progress (torrent), <, 1.0);
  spin_until (row_seeding, &w, TIMEOUT_S, "the row to show 100 % and seeding");
  spin_until (notified, "Download Finished: payload.bin", 10, "the notification");

  second_instance (window);

  gui.body_done = TRUE;
  te_application_quit (gui.app);
  return G_SOURCE_REMOVE;
}

static void
test_download_and_second_instance (void)
{
  g_autofree char *payload_dir = g_build_filename (gui.env.tmp, "seed", NULL);
  g_autofree char *payload = g_build_filename (payload_dir, "payload.bin", NULL);
  g_autofree char *downloads = g_build_filename (gui.env.tmp, "downloads", NULL);
  g_autofree char *state_file = NULL;
  g_autoptr(TeCreator) creator = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GSettings) app_settings = NULL;
  const char *extra[] = { "--upload-limit", SEED_RATE, "--no-trackers", NULL };
  Proc *seed;
  int status;

  require_python ();
  te_test_write_random (payload, PAYLOAD_SIZE, 42);
  creator = te_creator_new (payload);
  te_creator_set_piece_size (creator, 256 * 1024);
  bytes = te_test_create_torrent (creator, &error);
  g_assert_no_error (error);
  meta = te_metainfo_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  gui.info_hash = te_metainfo_dup_info_hash_hex (meta);
  gui.torrent_path = g_build_filename (gui.env.tmp, "payload.torrent", NULL);
  g_assert_true (g_file_set_contents (gui.torrent_path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), NULL));

  seed = lt_start (&gui.fixture, "seed", "seed", gui.torrent_path, payload_dir, extra);
  gui.seed_port = wait_ready_port (seed);

  /* GSETTINGS_BACKEND=memory: what is set here is what the app reads. */
  settings = g_settings_new ("io.github.torrentedge.TorrentEdge");
  g_settings_set (settings, "listen-port", "q", (guint16) 0);
  g_settings_set_string (settings, "download-path", downloads);
  app_settings = g_settings_new ("io.github.torrentedge.TorrentEdge.App");
  g_settings_set_boolean (app_settings, "show-add-dialog", TRUE);

  start_notification_server ();
  gui.app = te_application_new ();
  g_idle_add (body_cb, NULL);
  status = g_application_run (G_APPLICATION (gui.app), 0, NULL);
  g_assert_true (gui.body_done);
  g_assert_cmpint (status, ==, 0);
  g_clear_object (&gui.app);

  /* Saved on the way out: the torrent is restored next time. */
  state_file = g_strdup_printf ("%s/data/torrentedge/state/%s.json", gui.env.tmp, gui.info_hash);
  g_assert_true (g_file_test (state_file, G_FILE_TEST_IS_REGULAR));
  /* And the bytes on disk are the seeder's. */
  {
    g_autofree char *got = g_build_filename (downloads, "payload.bin", NULL);
    g_autoptr(GBytes) expected = te_test_read_file (payload);
    g_autoptr(GBytes) actual = te_test_read_file (got);

    g_assert_true (g_bytes_equal (expected, actual));
  }
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  te_gui_env_start (&gui.env);
  g_setenv (TMP_ENV, gui.env.tmp, TRUE);
  fixture_init (&gui.fixture);
  gui.shots = g_strdup (g_getenv ("TE_SCREENSHOT_DIR"));
  if (gui.shots == NULL)
    gui.shots = g_build_filename (gui.env.tmp, "shots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (gui.shots, 0755), ==, 0);
  gtk_init ();
  /* Every change shows at once: the screenshots need no waiting for transitions. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_test_add_func ("/app/gui/download-and-second-instance", test_download_and_second_instance);
  ret = g_test_run ();

  fixture_finish (&gui.fixture);
  te_gui_env_stop (&gui.env);
  g_free (gui.shots);
  g_free (gui.torrent_path);
  g_free (gui.info_hash);
  g_clear_pointer (&gui.notifications, g_ptr_array_unref);
  g_clear_object (&gui.bus);
  return ret;
}
