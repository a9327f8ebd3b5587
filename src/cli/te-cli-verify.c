/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-cli"

#include "config.h"

#include <stdio.h>
#include <json-glib/json-glib.h>

#include "te-cli.h"
#include "te-storage.h"

typedef struct {
  GMainLoop       *loop;
  TeRecheckResult *result;
  GError          *error;
  TeCliProgress   *progress;
} VerifyRun;

static void
progress_cb (guint    done,
             guint    total,
             gpointer user_data)
{
  VerifyRun *run = user_data;

  te_cli_progress_update (run->progress, done, total);
}

static void
rechecked_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  VerifyRun *run = user_data;

  run->result = te_storage_recheck_finish (TE_STORAGE (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

/* "3, 5, 7-9": bad pieces in ranges, so a missing file does not print thousands of numbers. */
static char *
format_ranges (const TeBitfield *have)
{
  GString *s = g_string_new (NULL);
  guint n = te_bitfield_size (have);

  for (guint i = 0; i < n; i++)
    {
      guint j = i;

      if (te_bitfield_get (have, i))
        continue;
      while (j + 1 < n && !te_bitfield_get (have, j + 1))
        j++;
      if (s->len)
        g_string_append (s, ", ");
      if (j == i)
        g_string_append_printf (s, "%u", i);
      else
        g_string_append_printf (s, "%u-%u", i, j);
      i = j;
    }
  return g_string_free (s, FALSE);
}

static void
print_json (TeRecheckResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  guint n = te_bitfield_size (r->have);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "totalPieces");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "goodPieces");
  json_builder_add_int_value (b, te_bitfield_count (r->have));
  json_builder_set_member_name (b, "badPieces");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    if (!te_bitfield_get (r->have, i))
      json_builder_add_int_value (b, i);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "missingFiles");
  json_builder_begin_array (b);
  for (guint i = 0; r->missing_files[i]; i++)
    json_builder_add_string_value (b, r->missing_files[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

int
te_cli_verify (int    argc,
               char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  /* Translators: the arguments in --help; FILE and DATA_DIR are placeholders. */
  g_autoptr(GOptionContext) context = g_option_context_new (N_("FILE.torrent DATA_DIR"));
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(TeStorage) storage = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeRecheckResult) result = NULL;
  VerifyRun run = { 0 };
  gboolean ok;

  g_option_context_set_summary (context,
                                N_("Check data against a .torrent. DATA_DIR is the folder the "
                                   "torrent was saved in.\nExit status 0 only when every piece verifies."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 3)
    return te_cli_fail (_("verify takes a .torrent file and a data folder"));
  if (!g_file_test (argv[2], G_FILE_TEST_IS_DIR))
    return te_cli_fail (_("%s: not a folder"), argv[2]);

  meta = te_metainfo_new_from_file (argv[1], &error);
  if (meta == NULL)
    return te_cli_fail ("%s: %s", argv[1], error->message);

  storage = te_storage_new (meta, argv[2], TE_STORAGE_FLAGS_READ_ONLY);
  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.progress = te_cli_progress_new (_("Verifying"));
  te_storage_recheck_async (storage, progress_cb, &run, NULL, rechecked_cb, &run);
  g_main_loop_run (loop);
  te_cli_progress_finish (run.progress);

  if (run.result == NULL)
    {
      int status = te_cli_fail ("%s", run.error->message);
      g_error_free (run.error);
      return status;
    }
  result = run.result;
  ok = te_bitfield_is_full (result->have);

  if (json)
    print_json (result);
  else
    {
      guint n = te_bitfield_size (result->have);
      guint good = te_bitfield_count (result->have);

      printf (g_dngettext (NULL, "%u of %u piece verified\n", "%u of %u pieces verified\n", n), good, n);
      if (!ok)
        {
          g_autofree char *bad = format_ranges (result->have);

          /* Translators: the number of bad pieces, then their numbers: "Bad pieces (3): 4, 7-8". */
          printf (g_dngettext (NULL, "Bad piece (%u): %s\n", "Bad pieces (%u): %s\n", n - good), n - good, bad);
        }
      for (guint i = 0; result->missing_files[i]; i++)
        printf (_("Missing file: %s\n"), result->missing_files[i]);
    }
  return ok ? 0 : 1;
}
