/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "torrentedge"

#include "config.h"

#include "te-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(TeApplication) app = NULL;
  int status;

  te_application_prepare_process ();
  app = te_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  return status != 0 ? status : te_application_get_exit_status (app);
}
