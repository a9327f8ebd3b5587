/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "torrentedge"

#include "config.h"
#include "config-app.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "te-application.h"
#include "te-fd-budget.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(TeApplication) app = NULL;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* Peers, data files and the remote API all need descriptors. */
  te_fd_budget_raise_limit ();

  g_set_application_name (_("TorrentEdge"));
  app = te_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  return status != 0 ? status : te_application_get_exit_status (app);
}
