/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

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

  return g_test_run ();
}
