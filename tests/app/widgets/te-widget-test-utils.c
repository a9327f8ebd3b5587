/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-widget-test"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <adwaita.h>

#include "te-test-utils.h"
#include "te-widget-test-utils.h"

#define PIECE (32 * 1024)

static GPid xvfb_pid;

static void
stop_xvfb (void)
{
  if (xvfb_pid <= 0)
    return;
  kill (xvfb_pid, SIGTERM);
  waitpid (xvfb_pid, NULL, 0);
  g_spawn_close_pid (xvfb_pid);
  xvfb_pid = 0;
}

/* Runs in the child: Xvfb gets SIGTERM if the test dies without cleaning up. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Xvfb picks a free display itself and writes its number to -displayfd.
 * Two starting at once may race for the same number and one gives up:
 * try again a few times. */
static gboolean
try_start_xvfb (void)
{
  const char *argv[] = {
    "Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-noreset",
    "-screen", "0", "1280x1024x24", NULL,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) line = g_string_new (NULL);
  int fds[2];
  int target = 3;
  char c;

  g_assert_cmpint (pipe (fds), ==, 0);
  g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL
                                    | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                    die_with_parent, NULL, -1, -1, -1, &fds[1], &target, 1,
                                    &xvfb_pid, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  close (fds[1]);
  while (read (fds[0], &c, 1) == 1 && c != '\n')
    g_string_append_c (line, c);
  close (fds[0]);
  if (line->len == 0)
    {
      stop_xvfb ();
      return FALSE;
    }
  g_string_prepend_c (line, ':');
  g_setenv ("DISPLAY", line->str, TRUE);
  return TRUE;
}

static void
start_xvfb (void)
{
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      if (try_start_xvfb ())
        return;
      g_usleep (g_random_int_range (50, 300) * 1000);
    }
  g_error ("Xvfb did not start");
}

void
te_widget_test_init (int    *argc,
                     char ***argv)
{
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);
  g_unsetenv ("WAYLAND_DISPLAY");
  start_xvfb ();
  g_test_init (argc, argv, NULL);
  gtk_init ();
  adw_init ();
}

int
te_widget_test_finish (int status)
{
  stop_xvfb ();
  return status;
}

void
te_widget_test_spin (guint ms)
{
  te_test_spin (ms);
}

GtkWidget *
te_widget_test_show (GtkWidget *child,
                     int        width,
                     int        height)
{
  GtkWidget *window = gtk_window_new ();
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  while ((!gtk_widget_get_mapped (child) || gtk_widget_get_width (child) == 0)
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gtk_widget_get_mapped (child));
  te_widget_test_spin (100);
  return window;
}

GdkTexture *
te_widget_test_render (GtkWidget *widget)
{
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderNode) node = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GskRenderer *renderer;

  /* Let a frame go by so that the widget's last drawing is current. Until
   * that frame is drawn the widget has nothing to show, and on a loaded
   * machine it can take longer than one spin. */
  gtk_widget_queue_draw (widget);
  while (node == NULL && g_get_monotonic_time () < deadline)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      te_widget_test_spin (60);
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  if (node == NULL)
    g_error ("%s drew nothing in 10 s", G_OBJECT_TYPE_NAME (widget));
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

static guchar *
download (GdkTexture *texture,
          gsize      *stride)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  guchar *data;

  *stride = (gsize) width * 4;
  data = g_malloc (*stride * height);
  gdk_texture_download (texture, data, *stride);
  return data;
}

guint
te_widget_test_count_diff (GdkTexture *a,
                           GdkTexture *b)
{
  gsize stride;
  g_autofree guchar *pa = NULL, *pb = NULL;
  int width = gdk_texture_get_width (a);
  int height = gdk_texture_get_height (a);
  guint n = 0;

  g_assert_cmpint (gdk_texture_get_width (b), ==, width);
  g_assert_cmpint (gdk_texture_get_height (b), ==, height);
  pa = download (a, &stride);
  pb = download (b, &stride);
  for (gsize i = 0; i < (gsize) width * height; i++)
    n += memcmp (pa + i * 4, pb + i * 4, 4) != 0;
  return n;
}

guint
te_widget_test_count_inked (GdkTexture *texture)
{
  gsize stride;
  g_autofree guchar *p = download (texture, &stride);
  gsize n_pixels = (gsize) gdk_texture_get_width (texture) * gdk_texture_get_height (texture);
  guint n = 0;

  /* gdk_texture_download() gives premultiplied ARGB32: alpha is byte 3. */
  for (gsize i = 0; i < n_pixels; i++)
    n += p[i * 4 + 3] != 0;
  return n;
}

double
te_widget_test_mean_alpha (GdkTexture *texture)
{
  gsize stride;
  g_autofree guchar *p = download (texture, &stride);
  gsize n_pixels = (gsize) gdk_texture_get_width (texture) * gdk_texture_get_height (texture);
  double sum = 0;

  for (gsize i = 0; i < n_pixels; i++)
    sum += p[i * 4 + 3];
  return sum / n_pixels / 255.0;
}

void
te_widget_test_save_png (GdkTexture *texture,
                         const char *dir,
                         const char *name)
{
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GdkTexture) back = NULL;
  g_autoptr(GError) error = NULL;
  gsize stride;
  g_autofree guchar *p = NULL;
  gsize n_pixels;
  gboolean varied = FALSE;

  g_assert_true (gdk_texture_save_to_png (texture, path));
  back = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (back), ==, gdk_texture_get_width (texture));
  g_assert_cmpint (gdk_texture_get_height (back), ==, gdk_texture_get_height (texture));
  p = download (back, &stride);
  n_pixels = (gsize) gdk_texture_get_width (back) * gdk_texture_get_height (back);
  for (gsize i = 1; i < n_pixels && !varied; i++)
    varied = memcmp (p, p + i * 4, 4) != 0;
  g_assert_true (varied);
}

GtkWidget *
te_widget_test_find (GtkWidget  *root,
                     const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = te_widget_test_find (child, name);

      if (found)
        return found;
    }
  return NULL;
}

static TeEngine *
new_engine (const char *download_path,
            guint64     upload_limit)
{
  TeEngineSettings settings;
  g_autoptr(GError) error = NULL;
  TeEngine *engine;

  te_engine_settings_init (&settings);
  settings.listen_port = 0;
  settings.seed_ratio_limit = 0;
  settings.upload_limit = upload_limit;
  g_free (settings.download_path);
  settings.download_path = g_strdup (download_path);
  engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  g_assert_true (te_engine_start (engine, &error));
  g_assert_no_error (error);
  return engine;
}

void
te_widget_swarm_start (TeWidgetSwarm *swarm,
                       gsize          size,
                       guint64        rate)
{
  g_autofree char *seed_dir = NULL, *leech_dir = NULL, *payload = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) seeder = NULL;
  g_autoptr(GError) error = NULL;

  memset (swarm, 0, sizeof *swarm);
  swarm->dir = te_test_make_tmpdir ("te-widgets");
  seed_dir = g_build_filename (swarm->dir, "seed", NULL);
  leech_dir = g_build_filename (swarm->dir, "leech", NULL);
  payload = g_build_filename (seed_dir, "payload.bin", NULL);
  g_assert_cmpint (g_mkdir_with_parents (leech_dir, 0755), ==, 0);
  te_test_write_random (payload, size, 7);
  meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  swarm->n_pieces = te_metainfo_get_n_pieces (meta);

  swarm->seeder = new_engine (seed_dir, rate);
  swarm->leecher = new_engine (leech_dir, 0);
  swarm->seed = te_engine_add_torrent (swarm->seeder, meta, seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (swarm->seed, TE_TORRENT_STATE_SEEDING);
  swarm->leech = te_engine_add_torrent (swarm->leecher, meta, leech_dir, &error);
  g_assert_no_error (error);
  seeder = g_inet_socket_address_new (lo, te_engine_get_port (swarm->seeder));
  te_torrent_add_peer (swarm->leech, G_INET_SOCKET_ADDRESS (seeder));
}

void
te_widget_swarm_stop (TeWidgetSwarm *swarm)
{
  te_engine_stop (swarm->leecher);
  te_engine_stop (swarm->seeder);
  swarm->seed = NULL;
  swarm->leech = NULL;
  te_test_finalize_object (g_steal_pointer (&swarm->leecher));
  te_test_finalize_object (g_steal_pointer (&swarm->seeder));
  te_test_rm_rf (swarm->dir);
  g_clear_pointer (&swarm->dir, g_free);
}
