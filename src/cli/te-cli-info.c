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

/* "Label:" and its value, the values in one column as long as a label
 * (translated or not) leaves room. */
static void
print_field (const char *label,
             const char *value)
{
  int pad = MAX (15 - (int) g_utf8_strlen (label, -1), 1);

  printf ("%s%*s%s\n", label, pad, "", value);
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
  guint64 total = te_metainfo_get_total_size (meta);
  g_autofree char *bytes = g_strdup_printf ("%" G_GUINT64_FORMAT, total);
  g_autofree char *total_text = NULL;
  g_autofree char *pieces_text = NULL;

  /* Translators: the total size, then the exact byte count: "1.0 MiB (1048576 bytes)". */
  total_text = g_strdup_printf (g_dngettext (NULL, "%s (%s byte)", "%s (%s bytes)",
                                             (gulong) MIN (total, G_MAXULONG)),
                                size, bytes);
  pieces_text = g_strdup_printf ("%u × %s", te_metainfo_get_n_pieces (meta), piece);

  print_field (_("Name:"), te_metainfo_get_name (meta));
  if (v1)
    print_field (_("Info-hash v1:"), v1);
  if (v2)
    print_field (_("Info-hash v2:"), v2);
  print_field (_("Version:"), version_name (meta));
  print_field (_("Total size:"), total_text);
  print_field (_("Pieces:"), pieces_text);
  /* Translators: whether the torrent is private. */
  print_field (_("Private:"), te_metainfo_is_private (meta) ? _("yes") : _("no"));
  if (te_metainfo_get_created_by (meta))
    print_field (_("Created by:"), te_metainfo_get_created_by (meta));
  if (date >= 0)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (date);
      g_autofree char *text = dt ? g_date_time_format_iso8601 (dt) : g_strdup (_("invalid"));

      print_field (_("Created on:"), text);
    }
  if (te_metainfo_get_comment (meta))
    print_field (_("Comment:"), te_metainfo_get_comment (meta));

  if (tiers->len > 0)
    {
      printf ("\n%s\n", _("Trackers:"));
      for (guint t = 0; t < tiers->len; t++)
        {
          GPtrArray *tier = g_ptr_array_index (tiers, t);
          g_autofree char *tier_text = g_strdup_printf (_("tier %u"), t + 1);

          for (guint i = 0; i < tier->len; i++)
            printf ("  %s  %s\n", tier_text, (char *) g_ptr_array_index (tier, i));
        }
    }
  if (seeds[0] != NULL)
    {
      printf ("\n%s\n", _("Web seeds:"));
      for (guint i = 0; seeds[i]; i++)
        printf ("  %s\n", seeds[i]);
    }

  printf ("\n%s\n", _("Files:"));
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

  print_field (_("Name:"), m->display_name ? m->display_name : _("(unknown until metadata arrives)"));
  if (v1)
    print_field (_("Info-hash v1:"), v1);
  if (v2)
    print_field (_("Info-hash v2:"), v2);
  for (guint i = 0; i < m->trackers->len; i++)
    print_field (_("Tracker:"), g_ptr_array_index (m->trackers, i));
  for (guint i = 0; i < m->web_seeds->len; i++)
    print_field (_("Web seed:"), g_ptr_array_index (m->web_seeds, i));
  for (guint i = 0; i < m->peers->len; i++)
    print_field (_("Peer:"), g_ptr_array_index (m->peers, i));
  for (guint i = 0; i < m->select_only->len; i++)
    {
      TeMagnetRange *r = &g_array_index (m->select_only, TeMagnetRange, i);
      g_autofree char *range = g_strdup_printf ("%u-%u", r->first, r->last);

      print_field (_("Select files:"), range);
    }
  return 0;
}

int
te_cli_info (int    argc,
             char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  /* Translators: the arguments in --help; FILE and MAGNET are placeholders. */
  g_autoptr(GOptionContext) context = g_option_context_new (N_("FILE.torrent|MAGNET"));
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, N_("Show a .torrent file or a magnet link."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!te_cli_parse_options (context, &argc, &argv))
    return 1;
  if (argc != 2)
    return te_cli_fail (_("info takes one .torrent file or magnet link"));

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
