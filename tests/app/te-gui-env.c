/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-gui-env"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "te-gui-env.h"
#include "te-test-utils.h"

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts @argv with the write end of a pipe as fd 3 and returns the first
 * line the program writes there. */
static GSubprocess *
spawn_reporting (const char * const *argv,
                 char              **line)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  GSubprocess *proc;
  int fds[2];
  char c;

  g_assert_cmpint (pipe (fds), ==, 0);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  /* The launcher holds the write end until it is freed. */
  g_clear_object (&launcher);
  while (read (fds[0], &c, 1) == 1 && c != '\n')
    g_string_append_c (text, c);
  close (fds[0]);
  g_assert_cmpuint (text->len, >, 0);
  *line = g_string_free (g_steal_pointer (&text), FALSE);
  return proc;
}

void
te_gui_env_start (TeGuiEnv *env)
{
  const char *xvfb_argv[] = { "Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24",
                              "-nolisten", "tcp", "-noreset", NULL };
  const char *bus_argv[] = { "dbus-daemon", "--session", "--nofork", "--print-address=3", NULL };
  const char *dirs[] = { "data", "config", "cache", "runtime", "downloads", NULL };
  g_autofree char *display = NULL;
  g_autofree char *address = NULL;

  g_assert_true (te_test_have_program ("Xvfb"));
  g_assert_true (te_test_have_program ("dbus-daemon"));
  env->tmp = te_test_make_tmpdir ("gui");
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *dir = g_build_filename (env->tmp, dirs[i], NULL);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    }
  {
    g_autofree char *data = g_build_filename (env->tmp, "data", NULL);
    g_autofree char *config = g_build_filename (env->tmp, "config", NULL);
    g_autofree char *cache = g_build_filename (env->tmp, "cache", NULL);
    g_autofree char *runtime = g_build_filename (env->tmp, "runtime", NULL);

    g_setenv ("XDG_DATA_HOME", data, TRUE);
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("XDG_CACHE_HOME", cache, TRUE);
    g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);
  }

  env->xvfb = spawn_reporting (xvfb_argv, &display);
  {
    g_autofree char *name = g_strdup_printf (":%s", display);

    g_setenv ("DISPLAY", name, TRUE);
  }
  env->bus = spawn_reporting (bus_argv, &address);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  /* Software rendering, the same on every machine; no accessibility bus. */
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);
  g_setenv ("GIO_USE_PORTALS", "0", TRUE);
  g_test_message ("Display %s, bus %s", g_getenv ("DISPLAY"), address);
}

static void
stop_process (GSubprocess *proc)
{
  if (proc == NULL)
    return;
  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);
  g_object_unref (proc);
}

void
te_gui_env_stop (TeGuiEnv *env)
{
  stop_process (g_steal_pointer (&env->bus));
  stop_process (g_steal_pointer (&env->xvfb));
  if (env->tmp != NULL && g_getenv ("TE_GUI_KEEP") == NULL)
    te_test_rm_rf (env->tmp);
  g_clear_pointer (&env->tmp, g_free);
}
