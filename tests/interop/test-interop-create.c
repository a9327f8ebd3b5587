/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test-interop-create"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "te-test-utils.h"

/* Debian's python3-libtorrent only loads into Debian's interpreter. */
#define PYTHON      "/usr/bin/python3"
#define TRACKER_URL "http://127.0.0.1:6969/announce"

typedef enum
{
  KIND_V1,
  KIND_V2,
  KIND_HYBRID,
} Kind;

static const char * const kind_flags[] = { "--v1", "--v2", "--hybrid" };
static const char * const kind_names[] = { "v1", "v2", "hybrid" };

typedef struct
{
  const char *path;
  gsize       size;
} PayloadFile;

typedef struct
{
  const char        *root;   /* top-level name inside the save folder */
  const PayloadFile *files;
  guint              n_files;
} Payload;

static const PayloadFile nested_files[] = {
  { "payload/top.bin", (1 << 20) + 3 },
  { "payload/sub/one.bin", 700000 },
  { "payload/sub/deep/two.bin", 2 << 20 },
  { "payload/sub/deep/notes.txt", 12345 },
};

/* Sizes just around block and piece boundaries. */
static const PayloadFile awkward_files[] = {
  { "payload/a.bin", 1 },
  { "payload/b/c.bin", 16383 },
  { "payload/b/d.bin", 16385 },
  { "payload/e/f/g.bin", (1 << 20) + 7 },
  { "payload/h.bin", 3 << 20 },
};

static const PayloadFile single_files[] = {
  { "single.bin", (3 << 20) + 11 },
};

static const Payload nested = { "payload", nested_files, G_N_ELEMENTS (nested_files) };
static const Payload awkward = { "payload", awkward_files, G_N_ELEMENTS (awkward_files) };
static const Payload single = { "single.bin", single_files, G_N_ELEMENTS (single_files) };

/* Transmission prints sizes through its own formatter: SI units for file
 * sizes, IEC units for the piece size, two decimals below 100 and one above. */
static const char * const tr_disk_units[] = { "kB", "MB", "GB", "TB" };
static const char * const tr_mem_units[] = { "KiB", "MiB", "GiB", "TiB" };

/* Running tools */

static const char *
lt_tool_path (void)
{
  const char *path = g_test_get_filename (G_TEST_DIST, "interop", "lt-tool.py", NULL);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE));
  return path;
}

static char *
run_expecting (const char * const *argv,
               int                 expected)
{
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_test_message ("running: %s", cmd);
  status = te_test_run (argv, &out, &err);
  if (status != expected)
    g_test_message ("exit status %d; stderr: %s", status, err);
  g_assert_cmpint (status, ==, expected);
  return g_steal_pointer (&out);
}

static JsonObject *
run_json (const char * const *argv,
          int                 expected)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = run_expecting (argv, expected);
  JsonNode *root;

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static JsonObject *
te_info (const char *torrent)
{
  const char *argv[] = { te_test_cli_path (), "info", torrent, "--json", NULL };

  return run_json (argv, 0);
}

static JsonObject *
lt_info (const char *torrent)
{
  const char *argv[] = { PYTHON, lt_tool_path (), "info", torrent, NULL };

  return run_json (argv, 0);
}

static void
te_create (const char *src,
           const char *out,
           Kind        kind,
           const char *piece_size)
{
  const char *argv[] = { te_test_cli_path (), "create", src, "-o", out, kind_flags[kind],
                         "--piece-size", piece_size, "--tracker", TRACKER_URL, NULL };
  g_free (run_expecting (argv, 0));
}

static void
lt_create (const char *src,
           const char *out,
           Kind        kind,
           guint       piece_size)
{
  g_autofree char *size = g_strdup_printf ("%u", piece_size);
  const char *argv[] = { PYTHON, lt_tool_path (), "create", src, out, kind_flags[kind],
                         "--piece-size", size, "--tracker", TRACKER_URL, NULL };
  g_free (run_expecting (argv, 0));
}

static void
tr_create (const char *src,
           const char *out,
           const char *piece_kib)
{
  const char *argv[] = { "transmission-create", "-o", out, "-t", TRACKER_URL,
                         "-s", piece_kib, src, NULL };
  g_free (run_expecting (argv, 0));
}

/* transmission-show's text output */

typedef struct
{
  char       *hash;
  gint64      piece_count;
  char       *piece_size;
  GHashTable *files;        /* path → size as printed */
} TrShow;

static void
tr_show_free (TrShow *show)
{
  g_free (show->hash);
  g_free (show->piece_size);
  g_hash_table_unref (show->files);
  g_free (show);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TrShow, tr_show_free)

static TrShow *
tr_show (const char *torrent)
{
  const char *argv[] = { "transmission-show", torrent, NULL };
  g_autofree char *out = run_expecting (argv, 0);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  TrShow *show = g_new0 (TrShow, 1);
  gboolean in_files = FALSE;

  show->piece_count = -1;
  show->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      if (*line == '\0')
        continue;
      if (in_files)
        {
          /* "  sub/dir/file.bin (1.05 MB)" */
          const char *open = strrchr (line, '(');

          g_assert_nonnull (open);
          g_assert_true (open > line + 1 && open[-1] == ' ' && g_str_has_suffix (open, ")"));
          g_hash_table_insert (show->files,
                               g_strndup (line, open - 1 - line),
                               g_strndup (open + 1, strlen (open) - 2));
        }
      else if (g_str_equal (line, "FILES"))
        in_files = TRUE;
      else if (g_str_has_prefix (line, "Hash: "))
        show->hash = g_strdup (line + strlen ("Hash: "));
      else if (g_str_has_prefix (line, "Piece Count: "))
        show->piece_count = g_ascii_strtoll (line + strlen ("Piece Count: "), NULL, 10);
      else if (g_str_has_prefix (line, "Piece Size: "))
        show->piece_size = g_strdup (line + strlen ("Piece Size: "));
    }

  g_assert_nonnull (show->hash);
  g_assert_nonnull (show->piece_size);
  g_assert_cmpint (show->piece_count, >, 0);
  return show;
}

static char *
tr_format_size (gint64              bytes,
                double              base,
                const char * const *units)
{
  double unit = base;
  double value;
  guint i = 0;

  while (i < 3 && (double) bytes >= unit * base)
    {
      unit *= base;
      i++;
    }
  value = (double) bytes / unit;
  return g_strdup_printf ("%.*f %s", value < 100 ? 2 : 1, value, units[i]);
}

/* JSON comparisons: each side is printed as "member=value" so a failed
 * assertion names the field and both values. */

static char *
describe_member (JsonObject *obj,
                 const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL)
    return g_strdup_printf ("%s missing", name);
  if (JSON_NODE_HOLDS_NULL (node))
    return g_strdup_printf ("%s=null", name);
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup_printf ("%s=%s", name, json_node_get_string (node));
  else
    {
      g_autofree char *text = json_to_string (node, FALSE);

      return g_strdup_printf ("%s=%s", name, text);
    }
}

static char *
describe_files (JsonObject *obj)
{
  JsonArray *files = json_object_get_array_member (obj, "files");
  GString *s = g_string_new ("files:");

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *file = json_array_get_object_element (files, i);

      g_string_append_printf (s, " %s=%" G_GINT64_FORMAT,
                              json_object_get_string_member (file, "path"),
                              json_object_get_int_member (file, "length"));
    }
  return g_string_free (s, FALSE);
}

static void
assert_same_member (JsonObject *ours,
                    JsonObject *theirs,
                    const char *name)
{
  g_autofree char *a = describe_member (ours, name);
  g_autofree char *b = describe_member (theirs, name);

  g_assert_cmpstr (a, ==, b);
}

static void
assert_same_files (JsonObject *ours,
                   JsonObject *theirs)
{
  g_autofree char *a = describe_files (ours);
  g_autofree char *b = describe_files (theirs);

  g_assert_cmpstr (a, ==, b);
}

static void
assert_member_is (JsonObject *obj,
                  const char *name,
                  const char *expected)
{
  g_autofree char *a = describe_member (obj, name);
  g_autofree char *b = g_strdup_printf ("%s=%s", name, expected);

  g_assert_cmpstr (a, ==, b);
}

/* Our info and libtorrent's info of the same torrent agree. */
static void
assert_agrees_with_libtorrent (const char *torrent,
                               JsonObject *ours)
{
  g_autoptr(JsonObject) theirs = lt_info (torrent);
  static const char * const members[] = {
    "name", "infoHash", "infoHashV2", "pieceCount", "pieceLength", "totalSize",
  };

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    assert_same_member (ours, theirs, members[i]);
  assert_same_files (ours, theirs);
}

/* Our info and transmission-show of the same torrent agree. */
static void
assert_agrees_with_transmission (const char *torrent,
                                 JsonObject *ours)
{
  g_autoptr(TrShow) show = tr_show (torrent);
  g_autofree char *hash = g_strdup_printf ("infoHash=%s", show->hash);
  g_autofree char *our_hash = describe_member (ours, "infoHash");
  g_autofree char *piece_size = NULL;
  JsonArray *files = json_object_get_array_member (ours, "files");

  g_assert_cmpstr (our_hash, ==, hash);
  g_assert_cmpint (json_object_get_int_member (ours, "pieceCount"), ==, show->piece_count);
  piece_size = tr_format_size (json_object_get_int_member (ours, "pieceLength"),
                               1024, tr_mem_units);
  g_assert_cmpstr (piece_size, ==, show->piece_size);

  g_assert_cmpuint (json_array_get_length (files), ==, g_hash_table_size (show->files));
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *file = json_array_get_object_element (files, i);
      const char *path = json_object_get_string_member (file, "path");
      g_autofree char *size = tr_format_size (json_object_get_int_member (file, "length"),
                                              1000, tr_disk_units);
      g_autofree char *ours_text = g_strdup_printf ("%s (%s)", path, size);
      g_autofree char *theirs_text = g_strdup_printf ("%s (%s)", path,
                                                      (char *) g_hash_table_lookup (show->files, path));

      g_assert_cmpstr (ours_text, ==, theirs_text);
    }
}

/* Payloads */

static void
write_payload (const char    *save_dir,
               const Payload *payload,
               guint32        seed)
{
  for (guint i = 0; i < payload->n_files; i++)
    {
      g_autofree char *path = g_build_filename (save_dir, payload->files[i].path, NULL);

      te_test_write_random (path, payload->files[i].size, seed + i);
    }
}

static void
copy_tree (const char *from,
           const char *to)
{
  g_autoptr(GPtrArray) files = te_test_list_tree (from);

  g_assert_cmpuint (files->len, >, 0);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *src = g_build_filename (from, files->pdata[i], NULL);
      g_autofree char *dst = g_build_filename (to, files->pdata[i], NULL);
      g_autofree char *dir = g_path_get_dirname (dst);
      g_autoptr(GFile) src_file = g_file_new_for_path (src);
      g_autoptr(GFile) dst_file = g_file_new_for_path (dst);
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
      g_file_copy (src_file, dst_file, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }
}

static void
flip_byte (const char *path,
           long        offset)
{
  FILE *f = fopen (path, "r+b");
  int c;

  g_assert_nonnull (f);
  g_assert_cmpint (fseek (f, offset, SEEK_SET), ==, 0);
  c = fgetc (f);
  g_assert_cmpint (c, !=, EOF);
  g_assert_cmpint (fseek (f, offset, SEEK_SET), ==, 0);
  g_assert_cmpint (fputc (c ^ 0xff, f), !=, EOF);
  g_assert_cmpint (fclose (f), ==, 0);
}

/* Tests */

static void
test_transmission_made (void)
{
  static const struct {
    const Payload *payload;
    const char    *piece_kib;
  } cases[] = {
    { &nested, "32" },
    { &single, "256" },
  };
  g_autofree char *tmp = te_test_make_tmpdir ("te-interop-create");

  g_assert_true (te_test_have_program ("transmission-create"));
  g_assert_true (te_test_have_program ("transmission-show"));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *src = g_build_filename (tmp, cases[i].payload->root, NULL);
      g_autofree char *name = g_strdup_printf ("tr-%u.torrent", i);
      g_autofree char *torrent = g_build_filename (tmp, name, NULL);
      g_autoptr(JsonObject) ours = NULL;
      g_autofree char *trackers = NULL;

      write_payload (tmp, cases[i].payload, 100 + 10 * i);
      tr_create (src, torrent, cases[i].piece_kib);
      ours = te_info (torrent);
      assert_member_is (ours, "version", "v1");
      assert_agrees_with_transmission (torrent, ours);

      trackers = describe_member (ours, "trackers");
      g_assert_cmpstr (trackers, ==, "trackers=[[\"" TRACKER_URL "\"]]");
    }

  te_test_rm_rf (tmp);
}

static void
test_libtorrent_made (gconstpointer data)
{
  Kind kind = GPOINTER_TO_INT (data);
  /* 0 lets libtorrent choose; v2 needs a power of two of at least 16 KiB. */
  static const guint piece_sizes[] = { 0, 16384, 32768 };
  g_autofree char *tmp = te_test_make_tmpdir ("te-interop-create");
  g_autofree char *src = g_build_filename (tmp, awkward.root, NULL);
  g_autofree char *torrent = g_build_filename (tmp, "lt.torrent", NULL);
  g_autoptr(JsonObject) ours = NULL;

  write_payload (tmp, &awkward, 200 + kind);
  lt_create (src, torrent, kind, piece_sizes[kind]);
  ours = te_info (torrent);
  assert_member_is (ours, "version", kind_names[kind]);
  assert_agrees_with_libtorrent (torrent, ours);

  te_test_rm_rf (tmp);
}

static void
test_torrentedge_made (gconstpointer data)
{
  Kind kind = GPOINTER_TO_INT (data);
  static const struct {
    const Payload *payload;
    const char    *piece_size;
    gint64         piece_bytes;
  } cases[] = {
    { &awkward, "32K", 32768 },
    { &single, "16384", 16384 },
    { &nested, "1M", 1 << 20 },
  };
  g_autofree char *tmp = te_test_make_tmpdir ("te-interop-create");

  if (kind == KIND_V1)
    g_assert_true (te_test_have_program ("transmission-show"));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = g_strdup_printf ("data-%u", i);
      g_autofree char *save = g_build_filename (tmp, dir, NULL);
      g_autofree char *src = g_build_filename (save, cases[i].payload->root, NULL);
      g_autofree char *name = g_strdup_printf ("te-%u.torrent", i);
      g_autofree char *torrent = g_build_filename (tmp, name, NULL);
      g_autoptr(JsonObject) ours = NULL;

      write_payload (save, cases[i].payload, 300 + 10 * i + kind);
      te_create (src, torrent, kind, cases[i].piece_size);
      ours = te_info (torrent);
      assert_member_is (ours, "version", kind_names[kind]);
      g_assert_cmpint (json_object_get_int_member (ours, "pieceLength"), ==,
                       cases[i].piece_bytes);
      assert_agrees_with_libtorrent (torrent, ours);
      if (kind == KIND_V1)
        assert_agrees_with_transmission (torrent, ours);
    }

  te_test_rm_rf (tmp);
}

static gboolean
array_has_string (JsonArray  *array,
                  const char *str)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), str) == 0)
      return TRUE;
  return FALSE;
}

/* Checks @save_dir with our verify and with libtorrent, asserts both name
 * the same bad pieces, and returns our report. */
static JsonObject *
verify_both (const char *torrent,
             const char *save_dir,
             int         expected)
{
  const char *te_argv[] = { te_test_cli_path (), "verify", torrent, save_dir, "--json", NULL };
  const char *lt_argv[] = { PYTHON, lt_tool_path (), "verify", torrent, save_dir, NULL };
  g_autoptr(JsonObject) ours = run_json (te_argv, expected);
  g_autoptr(JsonObject) theirs = run_json (lt_argv, 0);
  g_autofree char *our_bad = describe_member (ours, "badPieces");
  g_autofree char *their_bad = describe_member (theirs, "badPieces");
  gint64 bad = json_array_get_length (json_object_get_array_member (ours, "badPieces"));

  g_test_message ("ours: %s", our_bad);
  g_assert_cmpstr (our_bad, ==, their_bad);
  g_assert_cmpint (json_object_get_int_member (ours, "goodPieces") + bad, ==,
                   json_object_get_int_member (ours, "totalPieces"));
  return g_steal_pointer (&ours);
}

static void
test_verify (gconstpointer data)
{
  Kind kind = GPOINTER_TO_INT (data);
  g_autofree char *tmp = te_test_make_tmpdir ("te-interop-create");
  g_autofree char *intact = g_build_filename (tmp, "intact", NULL);
  g_autofree char *damaged = g_build_filename (tmp, "damaged", NULL);
  g_autofree char *src = g_build_filename (intact, awkward.root, NULL);
  g_autofree char *torrent = g_build_filename (tmp, "verify.torrent", NULL);
  g_autofree char *flipped = g_build_filename (damaged, "payload/e/f/g.bin", NULL);
  g_autofree char *truncated = g_build_filename (damaged, "payload/h.bin", NULL);
  g_autofree char *deleted = g_build_filename (damaged, "payload/b/c.bin", NULL);
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonObject) report = NULL;
  g_autofree char *bad = NULL;

  write_payload (intact, &awkward, 400 + kind);
  te_create (src, torrent, kind, "32K");
  info = te_info (torrent);
  g_assert_cmpint (json_object_get_int_member (info, "pieceCount"), >, 100);

  /* Three bytes more than a piece apart, a truncated file, a missing file. */
  copy_tree (intact, damaged);
  flip_byte (flipped, 1000);
  flip_byte (flipped, 70000);
  flip_byte (flipped, 140000);
  g_assert_cmpint (truncate (truncated, 100000), ==, 0);
  g_assert_cmpint (g_remove (deleted), ==, 0);

  report = verify_both (torrent, damaged, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "badPieces")),
                    >=, 3);
  g_assert_cmpint (json_object_get_int_member (report, "totalPieces"), ==,
                   json_object_get_int_member (info, "pieceCount"));
  g_assert_true (array_has_string (json_object_get_array_member (report, "missingFiles"),
                                   "payload/b/c.bin"));
  g_clear_pointer (&report, json_object_unref);

  report = verify_both (torrent, intact, 0);
  bad = describe_member (report, "badPieces");
  g_assert_cmpstr (bad, ==, "badPieces=[]");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "missingFiles")),
                    ==, 0);

  te_test_rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/interop/create/transmission-made", test_transmission_made);
  for (Kind kind = KIND_V1; kind <= KIND_HYBRID; kind++)
    {
      g_autofree char *lt_path = g_strdup_printf ("/interop/create/libtorrent-made/%s",
                                                  kind_names[kind]);
      g_autofree char *te_path = g_strdup_printf ("/interop/create/torrentedge-made/%s",
                                                  kind_names[kind]);

      g_test_add_data_func (lt_path, GINT_TO_POINTER (kind), test_libtorrent_made);
      g_test_add_data_func (te_path, GINT_TO_POINTER (kind), test_torrentedge_made);
    }
  g_test_add_data_func ("/interop/create/verify/v1", GINT_TO_POINTER (KIND_V1), test_verify);
  g_test_add_data_func ("/interop/create/verify/v2", GINT_TO_POINTER (KIND_V2), test_verify);
  g_test_add_data_func ("/interop/create/verify/hybrid", GINT_TO_POINTER (KIND_HYBRID),
                        test_verify);

  return g_test_run ();
}
