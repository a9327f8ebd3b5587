/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "te-bencode.h"
#include "te-magnet.h"
#include "te-metainfo.h"
#include "te-path.h"

static char *
sanitize (const char  *name,
          GError     **error)
{
  return te_path_sanitize_component ((const guint8 *) name, strlen (name), NULL, 0, error);
}

static void
test_plain_names (void)
{
  const char *ok[] = { "a", "file.txt", "Ünïcødé ✓", ".hidden", "..dots", "a..b", "CONSOLE", "com10" };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *clean = sanitize (ok[i], &error);

      g_assert_no_error (error);
      g_assert_cmpstr (clean, ==, ok[i]);
    }
}

static void
test_separator_inside_component (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *clean = sanitize ("a/b\\c", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (clean, ==, "a_b_c");
}

static void
test_rejected (void)
{
  struct {
    const char *name;
    int         code;
  } cases[] = {
    { "", TE_PATH_ERROR_EMPTY },
    { ".", TE_PATH_ERROR_TRAVERSAL },
    { "..", TE_PATH_ERROR_TRAVERSAL },
    { "a/../../b", TE_PATH_ERROR_TRAVERSAL },
    { "a//b", TE_PATH_ERROR_EMPTY },
    { "/abs", TE_PATH_ERROR_ABSOLUTE },
    { "\\\\server\\share", TE_PATH_ERROR_ABSOLUTE },
    { "C:evil", TE_PATH_ERROR_ABSOLUTE },
    { "CON", TE_PATH_ERROR_RESERVED },
    { "con.txt", TE_PATH_ERROR_RESERVED },
    { "Lpt9.tar.gz", TE_PATH_ERROR_RESERVED },
    { "NUL .txt", TE_PATH_ERROR_RESERVED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *clean = sanitize (cases[i].name, &error);

      g_assert_null (clean);
      g_assert_error (error, TE_PATH_ERROR, cases[i].code);
    }
}

static void
test_too_long (void)
{
  g_autofree char *name = g_strnfill (256, 'x');
  g_autofree char *ok_name = g_strnfill (255, 'x');
  g_autoptr(GError) error = NULL;
  g_autofree char *clean = sanitize (name, &error);
  g_autofree char *ok = NULL;

  g_assert_null (clean);
  g_assert_error (error, TE_PATH_ERROR, TE_PATH_ERROR_TOO_LONG);
  g_clear_error (&error);
  ok = sanitize (ok_name, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (ok), ==, 255);
}

static void
test_nul (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *clean = te_path_sanitize_component ((const guint8 *) "a\0b", 3, NULL, 0, &error);

  g_assert_null (clean);
  g_assert_error (error, TE_PATH_ERROR, TE_PATH_ERROR_NUL);
}

static void
test_utf8_fallback (void)
{
  const guint8 latin1[] = { 'c', 'a', 'f', 0xe9 };
  const char *utf8 = "café";
  g_autoptr(GError) error = NULL;
  g_autofree char *preferred = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *bad_variant = NULL;

  /* The .utf-8 variant wins when it is valid. */
  preferred = te_path_sanitize_component (latin1, sizeof latin1, (const guint8 *) utf8,
                                          strlen (utf8), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (preferred, ==, "café");

  /* Without one, invalid bytes are escaped. */
  escaped = te_path_sanitize_component (latin1, sizeof latin1, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (escaped, ==, "caf%E9");

  /* An invalid variant is ignored. */
  bad_variant = te_path_sanitize_component ((const guint8 *) "x", 1, latin1, sizeof latin1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bad_variant, ==, "x");
}

/* Bidi controls and zero-width characters would make a name show one thing
 * and be another: "evil\u202Etxt.exe" reads "evilexe.txt". */
static void
test_invisible (void)
{
  struct {
    const char *name;
    const char *clean;
  } cases[] = {
    { "evil\u202Etxt.exe", "eviltxt.exe" },
    { "\u202Aa\u202Bb\u202Cc\u202Dd\u202Ee", "abcde" },
    { "\u2066x\u2067y\u2068z\u2069", "xyz" },
    { "\u200Eleft\u200Fright\u061C", "leftright" },
    { "zero\u200Bwidth\u200C\u200D\u2060\uFEFF.txt", "zerowidth.txt" },
    { "caf\u00E9 \u2713 \u05D0\u05D1", "caf\u00E9 \u2713 \u05D0\u05D1" },
  };
  struct {
    const char *name;
    int         code;
  } rejected[] = {
    { "\u202E", TE_PATH_ERROR_EMPTY },
    { "\u200B\uFEFF", TE_PATH_ERROR_EMPTY },
    { ".\u200B.", TE_PATH_ERROR_TRAVERSAL },
    { "a/\u202E./b", TE_PATH_ERROR_TRAVERSAL },
    { "\u2066/etc", TE_PATH_ERROR_ABSOLUTE },
    { "CO\u200DN", TE_PATH_ERROR_RESERVED },
  };
  const guint8 latin1[] = { 'x', 0xe9 };
  const char *variant = "\u202Evariant";
  g_autofree char *preferred = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *clean = sanitize (cases[i].name, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (clean, ==, cases[i].clean);
    }
  for (guint i = 0; i < G_N_ELEMENTS (rejected); i++)
    {
      g_autofree char *clean = sanitize (rejected[i].name, &error);

      g_assert_null (clean);
      g_assert_error (error, TE_PATH_ERROR, rejected[i].code);
      g_clear_error (&error);
    }
  /* The .utf-8 variant too. */
  preferred = te_path_sanitize_component (latin1, sizeof latin1, (const guint8 *) variant, strlen (variant), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (preferred, ==, "variant");
}

/* The torrent's name, its files' names, and a magnet's display name. */
static void
test_invisible_in_torrent (void)
{
  g_autoptr(TeBValue) root = te_bvalue_new_dict ();
  TeBValue *info = te_bvalue_new_dict ();
  TeBValue *files = te_bvalue_new_list ();
  TeBValue *file = te_bvalue_new_dict ();
  TeBValue *path = te_bvalue_new_list ();
  guint8 hash[TE_SHA1_LEN] = { 0 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(TeMagnet) magnet = NULL;
  g_autoptr(GError) error = NULL;
  const TeFile *f;

  te_bvalue_list_append (path, te_bvalue_new_str ("photo\u202Egpj.exe"));
  te_bvalue_dict_set (file, "length", te_bvalue_new_int (1000));
  te_bvalue_dict_set (file, "path", path);
  te_bvalue_list_append (files, file);
  te_bvalue_dict_set (info, "files", files);
  te_bvalue_dict_set (info, "name", te_bvalue_new_str ("Holiday\u202E4pm.scr"));
  te_bvalue_dict_set (info, "piece length", te_bvalue_new_int (16384));
  te_bvalue_dict_set (info, "pieces", te_bvalue_new_string (hash, sizeof hash));
  te_bvalue_dict_set (root, "info", info);
  bytes = te_bencode_encode (root);

  meta = te_metainfo_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (te_metainfo_get_name (meta), ==, "Holiday4pm.scr");
  f = te_metainfo_get_file (meta, 0);
  g_assert_cmpstr (f->path, ==, "Holiday4pm.scr/photogpj.exe");

  magnet = te_magnet_parse ("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
                            "&dn=movie%E2%80%AEkvm.exe", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (magnet->display_name, ==, "moviekvm.exe");
  g_assert_finalize_object (g_steal_pointer (&meta));
}

static void
test_path_set (void)
{
  g_autoptr(TePathSet) set = te_path_set_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *long_path = NULL;
  GString *s = g_string_new (NULL);

  g_assert_true (te_path_set_add (set, "t/a/b", &error));
  g_assert_true (te_path_set_add (set, "t/a/c", &error));
  g_assert_true (te_path_set_add (set, "t/ab", &error));
  g_assert_no_error (error);

  g_assert_false (te_path_set_add (set, "t/a/b", &error));
  g_assert_error (error, TE_PATH_ERROR, TE_PATH_ERROR_DUPLICATE);
  g_clear_error (&error);

  /* A file where another file needs a folder, both ways round. */
  g_assert_false (te_path_set_add (set, "t/a", &error));
  g_assert_error (error, TE_PATH_ERROR, TE_PATH_ERROR_DUPLICATE);
  g_clear_error (&error);
  g_assert_false (te_path_set_add (set, "t/ab/x", &error));
  g_assert_error (error, TE_PATH_ERROR, TE_PATH_ERROR_DUPLICATE);
  g_clear_error (&error);

  while (s->len <= TE_PATH_MAX_LENGTH)
    g_string_append (s, "d/");
  g_string_append (s, "f");
  long_path = g_string_free (s, FALSE);
  g_assert_false (te_path_set_add (set, long_path, &error));
  g_assert_error (error, TE_PATH_ERROR, TE_PATH_ERROR_TOO_LONG);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/path/plain", test_plain_names);
  g_test_add_func ("/te/path/separator", test_separator_inside_component);
  g_test_add_func ("/te/path/rejected", test_rejected);
  g_test_add_func ("/te/path/too-long", test_too_long);
  g_test_add_func ("/te/path/nul", test_nul);
  g_test_add_func ("/te/path/utf8-fallback", test_utf8_fallback);
  g_test_add_func ("/te/path/set", test_path_set);
  g_test_add_func ("/te/path/invisible", test_invisible);
  g_test_add_func ("/te/path/invisible-in-torrent", test_invisible_in_torrent);

  return g_test_run ();
}
