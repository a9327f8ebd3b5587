/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-cli"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te-cli.h"
#include "te-creator.h"
#include "te-metainfo.h"

typedef struct {
  GMainLoop     *loop;
  GBytes        *torrent;
  GError        *error;
  TeCliProgress *progress;
} CreateRun;

static void
progress_cb (guint    done,
             guint    total,
             gpointer user_data)
{
  CreateRun *run = user_data;

  te_cli_progress_update (run->progress, done, total);
}

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CreateRun *run = user_data;

  run->torrent = te_creator_create_finish (TE_CREATOR (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

/* "16384", "16K", "4M": a byte count. */
static gboolean
parse_size (const char *text,
            guint32    *out)
{
  char *end = NULL;
  guint64 v;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  switch (g_ascii_toupper (*end))
    {
    case 'K': v <<= 10; end++; break;
    case 'M': v <<= 20; end++; break;
    case 0: break;
    default: return FALSE;
    }
  if ((*end == 'i' || *end == 'I') && (end[1] == 'B' || end[1] == 'b'))
    end += 2;
  else if (*end == 'B' || *end == 'b')
    end++;
  if (*end != 0 || v > G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

int
te_cli_create (int    argc,
               char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *piece_size_text = NULL;
  g_autofree char *comment = NULL;
  g_autofree char *source = NULL;
  g_auto(GStrv) trackers = NULL;
  g_auto(GStrv) web_seeds = NULL;
  gboolean v1 = FALSE, v2 = FALSE, hybrid = FALSE, private_ = FALSE, no_date = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the .torrent"), N_("OUT") },
    { "v1", 0, 0, G_OPTION_ARG_NONE, &v1, N_("BitTorrent v1 (the default; every client reads it)"), NULL },
    { "v2", 0, 0, G_OPTION_ARG_NONE, &v2, N_("BitTorrent v2 only"), NULL },
    { "hybrid", 0, 0, G_OPTION_ARG_NONE, &hybrid, N_("v1 and v2 in one torrent"), NULL },
    { "tracker", 't', 0, G_OPTION_ARG_STRING_ARRAY, &trackers,
      N_("Tracker URL; each option is a tier, commas join URLs in one tier"), N_("URL") },
    { "web-seed", 'w', 0, G_OPTION_ARG_STRING_ARRAY, &web_seeds, N_("Web seed URL"), N_("URL") },
    { "piece-size", 's', 0, G_OPTION_ARG_STRING, &piece_size_text,
      N_("Piece size in bytes (K and M suffixes); chosen from the size when absent"), N_("N") },
    { "private", 'p', 0, G_OPTION_ARG_NONE, &private_, N_("Private torrent (no DHT or PEX)"), NULL },
    { "comment", 'c', 0, G_OPTION_ARG_STRING, &comment, N_("Comment"), N_("TEXT") },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, N_("Source tag (changes the info-hash)"), N_("TEXT") },
    { "no-date", 0, 0, G_OPTION_ARG_NONE, &no_date, N_("Leave out the creation date"), NULL },
    G_OPTION_ENTRY_NULL
  };
  /* Translators: the argument in --help, a placeholder for a file or folder. */
  g_autoptr(GOptionContext) context = g_option_context_new (N_("PATH"));
  g_autoptr(TeCreator) creator = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  CreateRun run = { 0 };
  guint32 piece_size = 0;

  g_option_context_set_summary (context, N_("Make a .torrent from a file or a folder."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 2)
    return te_cli_fail (_("create takes one file or folder"));
  if (output == NULL)
    return te_cli_fail (_("create needs -o OUT.torrent"));
  if (v1 + v2 + hybrid > 1)
    return te_cli_fail (_("choose one of --v1, --v2 and --hybrid"));
  if (piece_size_text && !parse_size (piece_size_text, &piece_size))
    return te_cli_fail (_("--piece-size “%s” is not a size"), piece_size_text);
  if (piece_size && (piece_size < TE_METAINFO_MIN_PIECE_SIZE
                     || piece_size > TE_METAINFO_MAX_PIECE_SIZE
                     || (piece_size & (piece_size - 1)) != 0))
    return te_cli_fail (_("--piece-size must be a power of two between 16K and 256M"));
  if (!g_file_test (argv[1], G_FILE_TEST_EXISTS))
    return te_cli_fail (_("%s: no such file or folder"), argv[1]);

  creator = te_creator_new (argv[1]);
  te_creator_set_version (creator, hybrid ? TE_TORRENT_HYBRID : v2 ? TE_TORRENT_V2 : TE_TORRENT_V1);
  te_creator_set_piece_size (creator, piece_size);
  te_creator_set_private (creator, private_);
  te_creator_set_comment (creator, comment);
  te_creator_set_source (creator, source);
  if (no_date)
    te_creator_set_creation_date (creator, -1);
  for (guint i = 0; trackers && trackers[i]; i++)
    {
      g_auto(GStrv) tier = g_strsplit (trackers[i], ",", -1);

      if (tier[0] == NULL || *tier[0] == 0)
        return te_cli_fail (_("--tracker needs a URL"));
      te_creator_add_tracker_tier (creator, (const char * const *) tier);
    }
  for (guint i = 0; web_seeds && web_seeds[i]; i++)
    te_creator_add_web_seed (creator, web_seeds[i]);

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.progress = te_cli_progress_new (_("Hashing"));
  te_creator_create_async (creator, progress_cb, &run, NULL, created_cb, &run);
  g_main_loop_run (loop);
  te_cli_progress_finish (run.progress);

  if (run.torrent == NULL)
    {
      int status = te_cli_fail ("%s", run.error->message);
      g_error_free (run.error);
      return status;
    }
  if (!te_cli_write_atomic (output, run.torrent, &error))
    {
      g_bytes_unref (run.torrent);
      return te_cli_fail ("%s", error->message);
    }

  {
    g_autoptr(TeMetainfo) meta = te_metainfo_new_from_bytes (run.torrent, NULL);
    g_autofree char *h1 = te_metainfo_dup_info_hash_hex (meta);
    g_autofree char *h2 = te_metainfo_dup_info_hash_v2_hex (meta);

    guint n_pieces = te_metainfo_get_n_pieces (meta);

    printf (g_dngettext (NULL, "Created %s: %u piece of %u bytes\n", "Created %s: %u pieces of %u bytes\n",
                         n_pieces),
            output, n_pieces, te_metainfo_get_piece_length (meta));
    if (h1)
      printf ("%s %s\n", _("Info-hash v1:"), h1);
    if (h2)
      printf ("%s %s\n", _("Info-hash v2:"), h2);
  }
  g_bytes_unref (run.torrent);
  return 0;
}
