/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "te-cli.h"
#include "te-hash.h"
#include "te-magnet.h"
#include "te-metainfo.h"

static const char *
version_name (TeMetainfo *meta)
{
  if (te_metainfo_has_v1 (meta) && te_metainfo_has_v2 (meta))
    return "hybrid";
  return te_metainfo_has_v2 (meta) ? "v2" : "v1";
}

static void
add_nullable_string (JsonBuilder *b,
                     const char  *member,
                     const char  *value)
{
  json_builder_set_member_name (b, member);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_string_array (JsonBuilder        *b,
                  const char         *member,
                  const char * const *values,
                  guint               n)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    json_builder_add_string_value (b, values[i]);
  json_builder_end_array (b);
}

static void
print_json (JsonBuilder *b)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

static int
show_torrent_json (TeMetainfo *meta)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *v1 = te_metainfo_dup_info_hash_hex (meta);
  g_autofree char *v2 = te_metainfo_dup_info_hash_v2_hex (meta);
  GPtrArray *tiers = te_metainfo_get_tiers (meta);
  const char * const *seeds = te_metainfo_get_web_seeds (meta);

  json_builder_begin_object (b);
  add_nullable_string (b, "name", te_metainfo_get_name (meta));
  add_nullable_string (b, "infoHash", v1);
  add_nullable_string (b, "infoHashV2", v2);
  add_nullable_string (b, "version", version_name (meta));
  json_builder_set_member_name (b, "pieceLength");
  json_builder_add_int_value (b, te_metainfo_get_piece_length (meta));
  json_builder_set_member_name (b, "pieceCount");
  json_builder_add_int_value (b, te_metainfo_get_n_pieces (meta));
  json_builder_set_member_name (b, "totalSize");
  json_builder_add_int_value (b, (gint64) te_metainfo_get_total_size (meta));
  json_builder_set_member_name (b, "private");
  json_builder_add_boolean_value (b, te_metainfo_is_private (meta));

  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);

      if (f->attrs & TE_FILE_ATTR_PAD)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, f->path);
      json_builder_set_member_name (b, "length");
      json_builder_add_int_value (b, (gint64) f->length);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "trackers");
  json_builder_begin_array (b);
  for (guint t = 0; t < tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (tiers, t);
      json_builder_begin_array (b);
      for (guint i = 0; i < tier->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (tier, i));
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  add_string_array (b, "webSeeds", seeds, g_strv_length ((char **) seeds));
  add_nullable_string (b, "comment", te_metainfo_get_comment (meta));
  add_nullable_string (b, "createdBy", te_metainfo_get_created_by (meta));
  json_builder_set_member_name (b, "creationDate");
  if (te_metainfo_get_creation_date (meta) >= 0)
    json_builder_add_int_value (b, te_metainfo_get_creation_date (meta));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static int
show_torrent_text (TeMetainfo *meta)
{
  g_autofree char *v1 = te_metainfo_dup_info_hash_hex (meta);
  g_autofree char *v2 = te_metainfo_dup_info_hash_v2_hex (meta);
  g_autofree char *size = te_cli_format_size (te_metainfo_get_total_size (meta));
  g_autofree char *piece = te_cli_format_size (te_metainfo_get_piece_length (meta));
  GPtrArray *tiers = te_metainfo_get_tiers (meta);
  const char * const *seeds = te_metainfo_get_web_seeds (meta);
  gint64 date = te_metainfo_get_creation_date (meta);

  printf ("Name:          %s\n", te_metainfo_get_name (meta));
  if (v1)
    printf ("Info-hash v1:  %s\n", v1);
  if (v2)
    printf ("Info-hash v2:  %s\n", v2);
  printf ("Version:       %s\n", version_name (meta));
  printf ("Total size:    %s (%" G_GUINT64_FORMAT " bytes)\n", size, te_metainfo_get_total_size (meta));
  printf ("Pieces:        %u × %s\n", te_metainfo_get_n_pieces (meta), piece);
  printf ("Private:       %s\n", te_metainfo_is_private (meta) ? "yes" : "no");
  if (te_metainfo_get_created_by (meta))
    printf ("Created by:    %s\n", te_metainfo_get_created_by (meta));
  if (date >= 0)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (date);
      g_autofree char *text = dt ? g_date_time_format_iso8601 (dt) : g_strdup ("invalid");
      printf ("Created on:    %s\n", text);
    }
  if (te_metainfo_get_comment (meta))
    printf ("Comment:       %s\n", te_metainfo_get_comment (meta));

  if (tiers->len > 0)
    {
      printf ("\nTrackers:\n");
      for (guint t = 0; t < tiers->len; t++)
        {
          GPtrArray *tier = g_ptr_array_index (tiers, t);
          for (guint i = 0; i < tier->len; i++)
            printf ("  tier %u  %s\n", t + 1, (char *) g_ptr_array_index (tier, i));
        }
    }
  if (seeds[0] != NULL)
    {
      printf ("\nWeb seeds:\n");
      for (guint i = 0; seeds[i]; i++)
        printf ("  %s\n", seeds[i]);
    }

  printf ("\nFiles:\n");
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      g_autofree char *fsize = NULL;

      if (f->attrs & TE_FILE_ATTR_PAD)
        continue;
      fsize = te_cli_format_size (f->length);
      printf ("  %s (%s)\n", f->path, fsize);
    }
  return 0;
}

static int
show_magnet (TeMagnet *m,
             gboolean  json)
{
  g_autofree char *v1 = m->has_v1 ? te_hex_encode (m->info_hash, TE_SHA1_LEN) : NULL;
  g_autofree char *v2 = m->has_v2 ? te_hex_encode (m->info_hash_v2, TE_SHA256_LEN) : NULL;

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      add_nullable_string (b, "name", m->display_name);
      add_nullable_string (b, "infoHash", v1);
      add_nullable_string (b, "infoHashV2", v2);
      add_string_array (b, "trackers", (const char * const *) m->trackers->pdata, m->trackers->len);
      add_string_array (b, "webSeeds", (const char * const *) m->web_seeds->pdata, m->web_seeds->len);
      add_string_array (b, "peers", (const char * const *) m->peers->pdata, m->peers->len);
      json_builder_set_member_name (b, "selectOnly");
      json_builder_begin_array (b);
      for (guint i = 0; i < m->select_only->len; i++)
        {
          TeMagnetRange *r = &g_array_index (m->select_only, TeMagnetRange, i);
          for (guint f = r->first; f <= r->last && f - r->first < 100000; f++)
            json_builder_add_int_value (b, f);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      print_json (b);
      return 0;
    }

  printf ("Name:          %s\n", m->display_name ? m->display_name : "(unknown until metadata arrives)");
  if (v1)
    printf ("Info-hash v1:  %s\n", v1);
  if (v2)
    printf ("Info-hash v2:  %s\n", v2);
  for (guint i = 0; i < m->trackers->len; i++)
    printf ("Tracker:       %s\n", (char *) g_ptr_array_index (m->trackers, i));
  for (guint i = 0; i < m->web_seeds->len; i++)
    printf ("Web seed:      %s\n", (char *) g_ptr_array_index (m->web_seeds, i));
  for (guint i = 0; i < m->peers->len; i++)
    printf ("Peer:          %s\n", (char *) g_ptr_array_index (m->peers, i));
  for (guint i = 0; i < m->select_only->len; i++)
    {
      TeMagnetRange *r = &g_array_index (m->select_only, TeMagnetRange, i);
      printf ("Select files:  %u-%u\n", r->first, r->last);
    }
  return 0;
}

int
te_cli_info (int    argc,
             char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE.torrent|MAGNET");
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, "Show a .torrent file or a magnet link.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 2)
    return te_cli_fail ("info takes one .torrent file or magnet link");

  if (g_str_has_prefix (argv[1], "magnet:"))
    {
      g_autoptr(TeMagnet) m = te_magnet_parse (argv[1], &error);

      if (m == NULL)
        return te_cli_fail ("%s", error->message);
      return show_magnet (m, json);
    }
  else
    {
      g_autoptr(TeMetainfo) meta = te_metainfo_new_from_file (argv[1], &error);

      if (meta == NULL)
        return te_cli_fail ("%s: %s", argv[1], error->message);
      return json ? show_torrent_json (meta) : show_torrent_text (meta);
    }
}
