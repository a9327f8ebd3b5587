/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-schemathesis"

#include "config.h"

#include <string.h>

#include "service-fixture.h"

/* schemathesis (from _venv-tests, see tests/requirements.txt) against the
 * served OpenAPI document with a logged-in session: no 5xx, no reply the
 * document does not allow. A missing tool fails the test. */

typedef struct {
  gboolean  done;
  char     *output;
  GError   *error;
} Wait;

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Wait *w = user_data;

  if (g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &w->output, NULL, &w->error)
      && !g_subprocess_get_successful (G_SUBPROCESS (source)))
    g_set_error (&w->error, G_SPAWN_EXIT_ERROR, g_subprocess_get_exit_status (G_SUBPROCESS (source)),
                 "schemathesis found problems (its report is above)");
  w->done = TRUE;
}

static void
test_schemathesis (SvcFixture    *f,
                   gconstpointer  data)
{
  const char *root = g_getenv ("TE_SOURCE_ROOT");
  g_autofree char *tool = g_build_filename (root ? root : ".", "_venv-tests", "bin", "schemathesis", NULL);
  g_autofree char *token = svc_login (f);
  g_autofree char *header = g_strconcat ("Authorization: Bearer ", token, NULL);
  g_autofree char *url = g_strconcat (f->base, "/api/v1/openapi.json", NULL);
  /* Its report goes into the TAP stream as comments. */
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cwd = te_test_make_tmpdir ("schemathesis");
  Wait w = { 0 };

  if (!g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("%s is missing: create _venv-tests with /usr/bin/python3 -m venv and pip install -r "
             "tests/requirements.txt (.ci/setup test does it)", tool);
  /* Its report folder and caches go to a temporary folder. */
  g_subprocess_launcher_set_cwd (launcher, cwd);
  g_subprocess_launcher_setenv (launcher, "NO_COLOR", "1", TRUE);
  g_subprocess_launcher_setenv (launcher, "SCHEMATHESIS_TELEMETRY", "false", TRUE);
  proc = g_subprocess_launcher_spawn (launcher, &error, tool, "run", url,
                                      "--header", header,
                                      "--checks", "all",
                                      "--hypothesis-max-examples", "40",
                                      "--hypothesis-deadline", "5000",
                                      "--hypothesis-database", "none",
                                      "--no-color",
                                      NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, exited_cb, &w);
  /* The server runs on this thread: keep serving while it tests. */
  te_test_wait_for (&w.done);
  if (w.output)
    {
      g_auto(GStrv) lines = g_strsplit (w.output, "\n", -1);

      for (guint i = 0; lines[i]; i++)
        if (*lines[i])
          g_test_message ("%s", lines[i]);
      g_free (w.output);
    }
  g_assert_no_error (w.error);
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, NULL), ==, 200);
  te_test_rm_rf (cwd);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/service/schemathesis", SvcFixture, NULL, svc_fixture_setup, test_schemathesis, svc_fixture_teardown);
  return g_test_run ();
}
