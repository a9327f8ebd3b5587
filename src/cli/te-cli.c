/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-cli"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-cli.h"
#include "te-fd-budget.h"

static const struct {
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *summary;
} commands[] = {
  { "info",   te_cli_info,   N_("Show a .torrent file or a magnet link") },
  { "create", te_cli_create, N_("Make a .torrent from a file or a folder") },
  { "verify", te_cli_verify, N_("Check downloaded data against a .torrent") },
  { "download", te_cli_download, N_("Download a .torrent or a magnet link") },
  { "seed",   te_cli_seed,   N_("Seed downloaded data") },
  { "daemon", te_cli_daemon, N_("Run the engine headless, with saved state") },
};

int
te_cli_fail (const char *format,
             ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  /* One line, whatever the message holds. */
  g_strdelimit (msg, "\n\r", ' ');
  fprintf (stderr, "torrentedge-cli: %s\n", msg);
  return 1;
}

gboolean
te_cli_parse_options (GOptionContext *context,
                      int            *argc,
                      char         ***argv)
{
  g_autoptr(GError) error = NULL;

  /* Option descriptions, summaries and parameter strings are marked N_():
   * GOption translates them when it prints --help. */
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      te_cli_fail ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

char *
te_cli_format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

gboolean
te_cli_write_atomic (const char *path,
                     GBytes     *bytes,
                     GError    **error)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  /* g_file_set_contents writes a temporary file, fsyncs and renames. */
  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

static void
usage (FILE *out)
{
  /* Translators: COMMAND and OPTION are placeholders; the command names
   * listed below stay in English. */
  fprintf (out, "%s\n\n%s\n", _("Usage: torrentedge-cli COMMAND [OPTION…]"), _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n", _("Run “torrentedge-cli COMMAND --help” for a command's options."));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* Peers, data files and the remote API all need descriptors. */
  te_fd_budget_raise_limit ();

  if (argc < 2)
    {
      usage (stderr);
      return 1;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("torrentedge-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  return te_cli_fail (_("unknown command “%s” (try --help)"), argv[1]);
}
