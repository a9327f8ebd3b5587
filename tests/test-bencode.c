/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "te-bencode.h"

/* Helpers */

static TeBValue *
decode_ok_len (const void *data,
               gsize       len)
{
  g_autoptr(GError) error = NULL;
  TeBValue *value = te_bencode_decode (data, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);
  return value;
}

static TeBValue *
decode_ok (const char *text)
{
  return decode_ok_len (text, strlen (text));
}

/* Returns the error so callers can look at its message. */
static GError *
decode_fail_len (const void *data,
                 gsize       len,
                 int         code)
{
  GError *error = NULL;
  g_autoptr(TeBValue) value = te_bencode_decode (data, len, &error);

  g_assert_error (error, TE_BENCODE_ERROR, code);
  g_assert_null (value);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  return error;
}

static void
assert_fails_len (const void *data,
                  gsize       len,
                  int         code)
{
  g_error_free (decode_fail_len (data, len, code));
}

static void
assert_fails (const char *text,
              int         code)
{
  assert_fails_len (text, strlen (text), code);
}

static void
assert_encodes_to_len (const TeBValue *value,
                       const void     *expected,
                       gsize           expected_len)
{
  g_autoptr(GBytes) bytes = te_bencode_encode (value);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpmem (data, len, expected, expected_len);
}

static void
assert_encodes_to (const TeBValue *value,
                   const char     *expected)
{
  assert_encodes_to_len (value, expected, strlen (expected));
}

/* Decoding and encoding again gives back the input, byte for byte. */
static void
assert_canonical (const char *text)
{
  g_autoptr(TeBValue) value = decode_ok (text);

  assert_encodes_to (value, text);
}

static void
assert_string (const TeBValue *value,
               const void     *expected,
               gsize           expected_len)
{
  const guint8 *data;
  gsize len = G_MAXSIZE;

  g_assert_cmpint (te_bvalue_kind (value), ==, TE_BVALUE_STRING);
  data = te_bvalue_get_string (value, &len);
  g_assert_nonnull (data);
  g_assert_cmpmem (data, len, expected, expected_len);
  /* Strings are always NUL-terminated past their length. */
  g_assert_cmpint (data[len], ==, 0);
}

static char *
nested (const char *open,
        guint       depth,
        const char *inner)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append (s, open);
  g_string_append (s, inner);
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, 'e');
  return g_string_free (s, FALSE);
}

/* Value kinds */

static void
test_int (void)
{
  static const struct {
    const char *text;
    gint64      value;
  } cases[] = {
    { "i0e", 0 },
    { "i1e", 1 },
    { "i42e", 42 },
    { "i-1e", -1 },
    { "i-42e", -42 },
    { "i1234567890123e", G_GINT64_CONSTANT (1234567890123) },
    { "i-1234567890123e", G_GINT64_CONSTANT (-1234567890123) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TeBValue) value = decode_ok (cases[i].text);

      g_assert_cmpint (te_bvalue_kind (value), ==, TE_BVALUE_INT);
      g_assert_cmpint (te_bvalue_get_int (value), ==, cases[i].value);
      g_assert_cmpuint (te_bvalue_length (value), ==, 0);
      assert_encodes_to (value, cases[i].text);
    }
}

static void
test_int_limits (void)
{
  g_autoptr(TeBValue) max = decode_ok ("i9223372036854775807e");
  g_autoptr(TeBValue) min = decode_ok ("i-9223372036854775808e");
  g_autoptr(TeBValue) built_max = te_bvalue_new_int (G_MAXINT64);
  g_autoptr(TeBValue) built_min = te_bvalue_new_int (G_MININT64);

  g_assert_cmpint (te_bvalue_get_int (max), ==, G_MAXINT64);
  g_assert_cmpint (te_bvalue_get_int (min), ==, G_MININT64);
  assert_encodes_to (built_max, "i9223372036854775807e");
  assert_encodes_to (built_min, "i-9223372036854775808e");
}

static void
test_int_overflow (void)
{
  /* One past each end of gint64. */
  assert_fails ("i9223372036854775808e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i-9223372036854775809e", TE_BENCODE_ERROR_BAD_INTEGER);
  /* Far past, and past guint64 too. */
  assert_fails ("i18446744073709551616e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i99999999999999999999999999999e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i-99999999999999999999999999999e", TE_BENCODE_ERROR_BAD_INTEGER);
}

static void
test_non_canonical_int (void)
{
  assert_fails ("i-0e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i03e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i00e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i-03e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("ie", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i-e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i+1e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i--1e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i 1e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i1.5e", TE_BENCODE_ERROR_BAD_INTEGER);
  assert_fails ("i1x", TE_BENCODE_ERROR_BAD_INTEGER);
}

static void
test_truncated_int (void)
{
  assert_fails ("i", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("i-", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("i12", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("i-12", TE_BENCODE_ERROR_TRUNCATED);
}

static void
test_string (void)
{
  g_autoptr(TeBValue) spam = decode_ok ("4:spam");
  g_autoptr(TeBValue) empty = decode_ok ("0:");
  g_autoptr(TeBValue) digits = decode_ok ("10:0123456789");
  g_autoptr(TeBValue) tricky = decode_ok ("3:e:i");

  assert_string (spam, "spam", 4);
  g_assert_cmpuint (te_bvalue_length (spam), ==, 4);
  assert_string (empty, "", 0);
  g_assert_cmpuint (te_bvalue_length (empty), ==, 0);
  assert_string (digits, "0123456789", 10);
  assert_string (tricky, "e:i", 3);

  assert_canonical ("4:spam");
  assert_canonical ("0:");
}

static void
test_string_length_leading_zero (void)
{
  assert_fails ("03:abc", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("00:", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("l01:ae", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
}

static void
test_string_bad_length (void)
{
  assert_fails ("3abc", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("3-:abc", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  /* Larger than any gsize. */
  assert_fails ("99999999999999999999999:a", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("3", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("12", TE_BENCODE_ERROR_TRUNCATED);
}

static void
test_string_past_end (void)
{
  assert_fails ("5:abc", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("1:", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("l5:abce", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  assert_fails ("d3:foo9:bare", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  /* A key running past the end. */
  assert_fails ("d9:fooe", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  /* The largest gsize as a length */
  assert_fails ("18446744073709551615:a", TE_BENCODE_ERROR_BAD_STRING_LENGTH);
}

static void
test_binary_string (void)
{
  static const guint8 input[] = { '5', ':', 'a', 0, 'b', 0, 0xff };
  static const guint8 key_input[] = { 'd', '3', ':', 'k', 0, 'y', 'i', '7', 'e', 'e' };
  g_autoptr(TeBValue) value = decode_ok_len (input, sizeof input);
  g_autoptr(TeBValue) dict = decode_ok_len (key_input, sizeof key_input);
  g_autoptr(TeBValue) built = te_bvalue_new_string ("x\0y", 3);
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(TeBValue) decoded = NULL;
  const guint8 *key = NULL;
  gsize key_len = 0;
  TeBValue *item;

  assert_string (value, input + 2, 5);
  g_assert_cmpuint (te_bvalue_length (value), ==, 5);

  /* Keys with NUL bytes are looked up by length, never by C string. */
  item = te_bvalue_dict_lookup_len (dict, "k\0y", 3);
  g_assert_nonnull (item);
  g_assert_cmpint (te_bvalue_get_int (item), ==, 7);
  g_assert_null (te_bvalue_dict_lookup (dict, "k"));
  g_assert_null (te_bvalue_dict_lookup_len (dict, "k\0z", 3));
  item = te_bvalue_dict_nth (dict, 0, &key, &key_len);
  g_assert_nonnull (item);
  g_assert_cmpmem (key, key_len, "k\0y", 3);

  encoded = te_bencode_encode (built);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), "3:x\0y", 5);
  decoded = decode_ok_len (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded));
  assert_string (decoded, "x\0y", 3);
}

static void
test_list (void)
{
  g_autoptr(TeBValue) list = decode_ok ("l4:spami-3eleli0eee");
  g_autoptr(TeBValue) empty = decode_ok ("le");
  TeBValue *item;

  g_assert_cmpint (te_bvalue_kind (list), ==, TE_BVALUE_LIST);
  g_assert_cmpuint (te_bvalue_length (list), ==, 4);
  assert_string (te_bvalue_list_nth (list, 0), "spam", 4);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_list_nth (list, 1)), ==, -3);

  item = te_bvalue_list_nth (list, 2);
  g_assert_cmpint (te_bvalue_kind (item), ==, TE_BVALUE_LIST);
  g_assert_cmpuint (te_bvalue_length (item), ==, 0);

  item = te_bvalue_list_nth (list, 3);
  g_assert_cmpint (te_bvalue_kind (item), ==, TE_BVALUE_LIST);
  g_assert_cmpuint (te_bvalue_length (item), ==, 1);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_list_nth (item, 0)), ==, 0);
  g_assert_null (te_bvalue_list_nth (item, 1));

  g_assert_null (te_bvalue_list_nth (list, 4));
  g_assert_null (te_bvalue_list_nth (list, G_MAXUINT));

  g_assert_cmpint (te_bvalue_kind (empty), ==, TE_BVALUE_LIST);
  g_assert_cmpuint (te_bvalue_length (empty), ==, 0);
  g_assert_null (te_bvalue_list_nth (empty, 0));

  assert_canonical ("l4:spami-3eleli0eee");
  assert_canonical ("le");
}

static void
test_dict (void)
{
  g_autoptr(TeBValue) dict = decode_ok ("d3:bar4:spam3:fooi42e4:listli1ei2eee");
  g_autoptr(TeBValue) empty = decode_ok ("de");
  const guint8 *key = NULL;
  gsize key_len = 0;
  TeBValue *item;
  gint64 i = 0;

  g_assert_cmpint (te_bvalue_kind (dict), ==, TE_BVALUE_DICT);
  g_assert_cmpuint (te_bvalue_length (dict), ==, 3);

  assert_string (te_bvalue_dict_lookup (dict, "bar"), "spam", 4);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (dict, "foo")), ==, 42);
  item = te_bvalue_dict_lookup (dict, "list");
  g_assert_nonnull (item);
  g_assert_cmpuint (te_bvalue_length (item), ==, 2);
  g_assert_null (te_bvalue_dict_lookup (dict, "baz"));
  g_assert_null (te_bvalue_dict_lookup (dict, ""));
  g_assert_null (te_bvalue_dict_lookup (dict, "fo"));
  g_assert_null (te_bvalue_dict_lookup (dict, "fooo"));

  item = te_bvalue_dict_nth (dict, 1, &key, &key_len);
  g_assert_cmpmem (key, key_len, "foo", 3);
  g_assert_cmpint (te_bvalue_get_int (item), ==, 42);
  g_assert_null (te_bvalue_dict_nth (dict, 3, NULL, NULL));

  /* Typed lookups */
  g_assert_nonnull (te_bvalue_dict_get_kind (dict, "bar", TE_BVALUE_STRING));
  g_assert_null (te_bvalue_dict_get_kind (dict, "bar", TE_BVALUE_INT));
  g_assert_null (te_bvalue_dict_get_kind (dict, "nope", TE_BVALUE_STRING));
  g_assert_true (te_bvalue_dict_get_int (dict, "foo", &i));
  g_assert_cmpint (i, ==, 42);
  i = 5;
  g_assert_false (te_bvalue_dict_get_int (dict, "bar", &i));
  g_assert_false (te_bvalue_dict_get_int (dict, "nope", &i));
  g_assert_cmpint (i, ==, 5);

  g_assert_cmpint (te_bvalue_kind (empty), ==, TE_BVALUE_DICT);
  g_assert_cmpuint (te_bvalue_length (empty), ==, 0);
  g_assert_null (te_bvalue_dict_lookup (empty, "a"));
  g_assert_null (te_bvalue_dict_nth (empty, 0, NULL, NULL));

  assert_canonical ("d3:bar4:spam3:fooi42e4:listli1ei2eee");
  assert_canonical ("de");
  /* The empty string is a valid key, and sorts first. */
  assert_canonical ("d0:i1e1:ai2ee");
}

/* Structure errors */

static void
test_truncated_container (void)
{
  assert_fails ("l", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("l4:spam", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("li1eli2ee", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("d", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("d3:foo", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("d3:fooi1e", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("d3:food", TE_BENCODE_ERROR_TRUNCATED);
  assert_fails ("d4:infod1:ai1ee", TE_BENCODE_ERROR_TRUNCATED);
}

static void
test_unexpected_byte (void)
{
  g_autoptr(GError) error = NULL;

  assert_fails ("x", TE_BENCODE_ERROR_UNEXPECTED_BYTE);
  assert_fails ("e", TE_BENCODE_ERROR_UNEXPECTED_BYTE);
  assert_fails (" i1e", TE_BENCODE_ERROR_UNEXPECTED_BYTE);
  assert_fails ("d1:a-e", TE_BENCODE_ERROR_UNEXPECTED_BYTE);

  error = decode_fail_len ("lxe", 3, TE_BENCODE_ERROR_UNEXPECTED_BYTE);
  g_assert_nonnull (strstr (error->message, "offset 1"));
}

static void
test_empty_input (void)
{
  g_autoptr(GError) error = decode_fail_len ("", 0, TE_BENCODE_ERROR_TRUNCATED);

  g_assert_nonnull (strstr (error->message, "empty"));
  assert_fails_len (NULL, 0, TE_BENCODE_ERROR_TRUNCATED);
}

static void
test_trailing_data (void)
{
  g_autoptr(GError) error = NULL;

  assert_fails ("i1ei2e", TE_BENCODE_ERROR_TRAILING_DATA);
  assert_fails ("lee", TE_BENCODE_ERROR_TRAILING_DATA);
  assert_fails ("dex", TE_BENCODE_ERROR_TRAILING_DATA);
  assert_fails ("4:spam\n", TE_BENCODE_ERROR_TRAILING_DATA);
  assert_fails ("0:0:", TE_BENCODE_ERROR_TRAILING_DATA);

  /* A NUL after the value is trailing data too, not an end of input. */
  assert_fails_len ("i1e\0", 4, TE_BENCODE_ERROR_TRAILING_DATA);

  error = decode_fail_len ("i1ei2e", 6, TE_BENCODE_ERROR_TRAILING_DATA);
  g_assert_nonnull (strstr (error->message, "offset 3"));
}

static void
test_error_offsets (void)
{
  g_autoptr(GError) string_error = decode_fail_len ("l5:abce", 7,
                                                    TE_BENCODE_ERROR_BAD_STRING_LENGTH);
  g_autoptr(GError) int_error = decode_fail_len ("li1ei03ee", 9, TE_BENCODE_ERROR_BAD_INTEGER);
  g_autoptr(GError) key_error = decode_fail_len ("d1:ai1ei2ei3ee", 14, TE_BENCODE_ERROR_BAD_KEY);

  g_assert_nonnull (strstr (string_error->message, "offset 1"));
  /* The integer's digits start at offset 5. */
  g_assert_nonnull (strstr (int_error->message, "offset 5"));
  g_assert_nonnull (strstr (key_error->message, "offset 7"));
}

static void
test_bad_key (void)
{
  assert_fails ("di1ei2ee", TE_BENCODE_ERROR_BAD_KEY);
  assert_fails ("dlei1ee", TE_BENCODE_ERROR_BAD_KEY);
  assert_fails ("ddei1ee", TE_BENCODE_ERROR_BAD_KEY);
  assert_fails ("d1:ai1ei2ei3ee", TE_BENCODE_ERROR_BAD_KEY);
  assert_fails ("dxe", TE_BENCODE_ERROR_BAD_KEY);
}

static void
test_duplicate_key (void)
{
  static const guint8 nul_distinct[] = "d3:a\0bi1e3:a\0ci2ee";
  static const guint8 nul_same[] = "d3:a\0bi1e3:a\0bi2ee";
  g_autoptr(TeBValue) dict = NULL;

  /* Adjacent, as a sorted writer would emit them */
  assert_fails ("d1:ai1e1:ai2ee", TE_BENCODE_ERROR_DUPLICATE_KEY);
  assert_fails ("d1:ai1e1:bi2e1:bi3ee", TE_BENCODE_ERROR_DUPLICATE_KEY);
  /* Apart, in unsorted input */
  assert_fails ("d1:bi1e1:ai2e1:bi3ee", TE_BENCODE_ERROR_DUPLICATE_KEY);
  assert_fails ("d1:ci1e1:ai2e1:bi3e1:ai4ee", TE_BENCODE_ERROR_DUPLICATE_KEY);
  /* In a nested dictionary */
  assert_fails ("d4:infod1:xi1e1:xi1eee", TE_BENCODE_ERROR_DUPLICATE_KEY);
  /* The empty key twice */
  assert_fails ("d0:i1e0:i2ee", TE_BENCODE_ERROR_DUPLICATE_KEY);

  /* Binary keys that differ only after a NUL are different keys. */
  dict = decode_ok_len (nul_distinct, sizeof nul_distinct - 1);
  g_assert_cmpuint (te_bvalue_length (dict), ==, 2);
  assert_fails_len (nul_same, sizeof nul_same - 1, TE_BENCODE_ERROR_DUPLICATE_KEY);
}

static void
test_unsorted_keys (void)
{
  g_autoptr(TeBValue) dict = decode_ok ("d1:ci3e1:ai1e2:abi4e1:bi2ee");
  g_autoptr(TeBValue) copy = NULL;
  g_autoptr(GBytes) encoded = NULL;
  const guint8 *key = NULL;
  gsize key_len = 0;

  g_assert_cmpuint (te_bvalue_length (dict), ==, 4);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (dict, "a")), ==, 1);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (dict, "b")), ==, 2);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (dict, "c")), ==, 3);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (dict, "ab")), ==, 4);
  g_assert_null (te_bvalue_dict_lookup (dict, "d"));
  g_assert_null (te_bvalue_dict_lookup (dict, ""));

  /* Iteration keeps the order of the input... */
  g_assert_nonnull (te_bvalue_dict_nth (dict, 0, &key, &key_len));
  g_assert_cmpmem (key, key_len, "c", 1);
  g_assert_nonnull (te_bvalue_dict_nth (dict, 3, &key, &key_len));
  g_assert_cmpmem (key, key_len, "b", 1);

  /* ...while encoding makes it canonical. */
  assert_encodes_to (dict, "d1:ai1e2:abi4e1:bi2e1:ci3ee");
  encoded = te_bencode_encode (dict);
  copy = decode_ok_len (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded));
  assert_encodes_to (copy, "d1:ai1e2:abi4e1:bi2e1:ci3ee");

  /* Nested and at the top: lookups work in both. */
  {
    g_autoptr(TeBValue) outer = decode_ok ("d1:zd1:yi2e1:xi1ee1:ai0ee");
    TeBValue *inner = te_bvalue_dict_lookup (outer, "z");

    g_assert_nonnull (inner);
    g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (inner, "x")), ==, 1);
    g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (inner, "y")), ==, 2);
    g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (outer, "a")), ==, 0);
    assert_encodes_to (outer, "d1:ai0e1:zd1:xi1e1:yi2eee");
  }
}

static void
test_depth (void)
{
  /* Every container counts, the top-level one included. */
  g_autofree char *below = nested ("l", TE_BENCODE_MAX_DEPTH - 1, "i1e");
  g_autofree char *at = nested ("l", TE_BENCODE_MAX_DEPTH, "");
  g_autofree char *over = nested ("l", TE_BENCODE_MAX_DEPTH + 1, "");
  g_autofree char *mixed_over = nested ("ld1:a", TE_BENCODE_MAX_DEPTH / 2 + 1, "");
  g_autoptr(TeBValue) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *where = NULL;
  TeBValue *inner;
  guint lists = 0;

  value = decode_ok (below);
  inner = value;
  while (te_bvalue_kind (inner) == TE_BVALUE_LIST)
    {
      g_assert_cmpuint (te_bvalue_length (inner), ==, 1);
      inner = te_bvalue_list_nth (inner, 0);
      lists++;
    }
  g_assert_cmpuint (lists, ==, TE_BENCODE_MAX_DEPTH - 1);
  g_assert_cmpint (te_bvalue_get_int (inner), ==, 1);
  assert_encodes_to (value, below);
  g_clear_pointer (&value, te_bvalue_free);

  value = decode_ok (at);
  assert_encodes_to (value, at);

  /* The first container past the limit starts at offset TE_BENCODE_MAX_DEPTH. */
  error = decode_fail_len (over, strlen (over), TE_BENCODE_ERROR_TOO_DEEP);
  where = g_strdup_printf ("offset %d", TE_BENCODE_MAX_DEPTH);
  g_assert_nonnull (strstr (error->message, where));

  /* Lists and dictionaries count alike. */
  assert_fails (mixed_over, TE_BENCODE_ERROR_TOO_DEEP);
}

static void
test_depth_dicts (void)
{
  g_autoptr(GString) ok = g_string_new (NULL);
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(TeBValue) value = NULL;

  /* TE_BENCODE_MAX_DEPTH dictionaries, the innermost empty */
  for (guint i = 0; i < TE_BENCODE_MAX_DEPTH - 1; i++)
    g_string_append (ok, "d1:a");
  g_string_append (ok, "de");
  for (guint i = 0; i < TE_BENCODE_MAX_DEPTH - 1; i++)
    g_string_append_c (ok, 'e');

  g_string_append (deep, "d1:a");
  g_string_append_len (deep, ok->str, ok->len);
  g_string_append_c (deep, 'e');

  value = decode_ok_len (ok->str, ok->len);
  assert_encodes_to (value, ok->str);
  assert_fails_len (deep->str, deep->len, TE_BENCODE_ERROR_TOO_DEEP);
}

static void
test_very_deep (void)
{
  /* Far past the limit: refused without recursing all the way down. */
  gsize n = 1000000;
  g_autofree char *open = g_malloc (n);

  memset (open, 'l', n);
  assert_fails_len (open, n, TE_BENCODE_ERROR_TOO_DEEP);
}

/* A list of @n empty strings */
static char *
long_list (gsize  n,
           gsize *len)
{
  char *data;

  *len = 2 * n + 2;
  data = g_malloc (*len);
  data[0] = 'l';
  for (gsize i = 0; i < n; i++)
    memcpy (data + 1 + 2 * i, "0:", 2);
  data[*len - 1] = 'e';
  return data;
}

static void
test_too_many_items (void)
{
  gsize len = 0;
  g_autofree char *at_limit = long_list (TE_BENCODE_MAX_ITEMS, &len);
  g_autofree char *over = NULL;
  g_autoptr(TeBValue) value = decode_ok_len (at_limit, len);

  g_assert_cmpuint (te_bvalue_length (value), ==, TE_BENCODE_MAX_ITEMS);
  g_clear_pointer (&value, te_bvalue_free);

  /* One more than the document may hold */
  over = long_list (TE_BENCODE_MAX_ITEMS + 1, &len);
  assert_fails_len (over, len, TE_BENCODE_ERROR_TOO_LARGE);
}

/* Spans */

static void
assert_span (const TeBValue *value,
             const char     *input,
             const char     *expected)
{
  gsize start = G_MAXSIZE, end = G_MAXSIZE;

  g_assert_nonnull (value);
  g_assert_true (te_bvalue_get_span (value, &start, &end));
  g_assert_cmpuint (start, <=, end);
  g_assert_cmpuint (end, <=, strlen (input));
  g_assert_cmpmem (input + start, end - start, expected, strlen (expected));
}

static void
test_span (void)
{
  const char *input = "d4:infod1:ai1eee";
  g_autoptr(TeBValue) root = decode_ok (input);
  TeBValue *info = te_bvalue_dict_lookup (root, "info");
  gsize start = 0, end = 0;

  g_assert_true (te_bvalue_get_span (info, &start, &end));
  g_assert_cmpuint (start, ==, 7);
  g_assert_cmpuint (end, ==, 15);
  assert_span (info, input, "d1:ai1ee");
  assert_span (root, input, input);
  assert_span (te_bvalue_dict_lookup (info, "a"), input, "i1e");
}

static void
test_span_nested (void)
{
  const char *input = "l4:spamld1:xi-5eee0:e";
  g_autoptr(TeBValue) root = decode_ok (input);
  TeBValue *inner = te_bvalue_list_nth (root, 1);
  TeBValue *dict = te_bvalue_list_nth (inner, 0);

  assert_span (root, input, input);
  assert_span (te_bvalue_list_nth (root, 0), input, "4:spam");
  assert_span (inner, input, "ld1:xi-5eee");
  assert_span (dict, input, "d1:xi-5ee");
  assert_span (te_bvalue_dict_lookup (dict, "x"), input, "i-5e");
  assert_span (te_bvalue_list_nth (root, 2), input, "0:");
}

static void
test_span_built (void)
{
  g_autoptr(TeBValue) value = te_bvalue_new_int (1);
  gsize start = 17, end = 23;

  /* Values that were not decoded have no span. */
  g_assert_false (te_bvalue_get_span (value, &start, &end));
  g_assert_cmpuint (start, ==, 17);
  g_assert_cmpuint (end, ==, 23);
}

/* Encoder */

static void
test_encode_sorts_keys (void)
{
  g_autoptr(TeBValue) dict = te_bvalue_new_dict ();
  g_autoptr(TeBValue) copy = NULL;
  g_autoptr(GBytes) encoded = NULL;
  const char *expected = "d0:i0e1:Ai1e1:ai2e2:aai3e1:bi4e4:zetai5e1:\xffi6ee";

  /* Out of order, with prefixes, upper case and a high byte (keys compare
   * as unsigned bytes, shorter first on a common prefix). */
  te_bvalue_dict_set (dict, "zeta", te_bvalue_new_int (5));
  te_bvalue_dict_set (dict, "\xff", te_bvalue_new_int (6));
  te_bvalue_dict_set (dict, "aa", te_bvalue_new_int (3));
  te_bvalue_dict_set (dict, "b", te_bvalue_new_int (4));
  te_bvalue_dict_set (dict, "a", te_bvalue_new_int (2));
  te_bvalue_dict_set (dict, "A", te_bvalue_new_int (1));
  te_bvalue_dict_set (dict, "", te_bvalue_new_int (0));

  g_assert_cmpuint (te_bvalue_length (dict), ==, 7);
  assert_encodes_to (dict, expected);

  encoded = te_bencode_encode (dict);
  copy = decode_ok_len (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded));
  for (guint i = 0; i < te_bvalue_length (copy); i++)
    {
      TeBValue *v = te_bvalue_dict_nth (copy, i, NULL, NULL);

      g_assert_cmpint (te_bvalue_get_int (v), ==, i);
    }
}

static void
test_encode_replace (void)
{
  g_autoptr(TeBValue) dict = te_bvalue_new_dict ();

  te_bvalue_dict_set (dict, "k", te_bvalue_new_str ("old"));
  te_bvalue_dict_set (dict, "j", te_bvalue_new_int (1));
  /* Replacing frees the old value (valgrind checks) and keeps one entry. */
  te_bvalue_dict_set (dict, "k", te_bvalue_new_str ("new"));
  te_bvalue_dict_set_len (dict, "k\0x", 3, te_bvalue_new_int (2));

  g_assert_cmpuint (te_bvalue_length (dict), ==, 3);
  assert_string (te_bvalue_dict_lookup (dict, "k"), "new", 3);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup_len (dict, "k\0x", 3)), ==, 2);
  assert_encodes_to_len (dict, "d1:ji1e1:k3:new3:k\0xi2ee", 24);
}

static void
test_encode_round_trip (void)
{
  g_autoptr(TeBValue) root = te_bvalue_new_dict ();
  g_autoptr(TeBValue) decoded = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  TeBValue *info = te_bvalue_new_dict ();
  TeBValue *files = te_bvalue_new_list ();
  TeBValue *tier = te_bvalue_new_list ();
  TeBValue *announce = te_bvalue_new_list ();
  static const guint8 blob[] = { 0, 1, 2, 0xfe, 0xff, 'e', ':', 0 };

  for (guint i = 0; i < 3; i++)
    {
      TeBValue *file = te_bvalue_new_dict ();
      TeBValue *path = te_bvalue_new_list ();
      g_autofree char *name = g_strdup_printf ("file-%u", i);

      te_bvalue_list_append (path, te_bvalue_new_str ("dir"));
      te_bvalue_list_append (path, te_bvalue_new_str (name));
      te_bvalue_dict_set (file, "path", path);
      te_bvalue_dict_set (file, "length", te_bvalue_new_int ((gint64) i * 1000));
      te_bvalue_list_append (files, file);
    }
  te_bvalue_dict_set (info, "piece length", te_bvalue_new_int (16384));
  te_bvalue_dict_set (info, "name", te_bvalue_new_str ("name"));
  te_bvalue_dict_set (info, "files", files);
  te_bvalue_dict_set (info, "pieces", te_bvalue_new_string (blob, sizeof blob));
  te_bvalue_list_append (tier, te_bvalue_new_str ("http://example.org/announce"));
  te_bvalue_list_append (announce, tier);
  te_bvalue_list_append (announce, te_bvalue_new_list ());
  te_bvalue_dict_set (root, "info", info);
  te_bvalue_dict_set (root, "announce-list", announce);
  te_bvalue_dict_set (root, "min", te_bvalue_new_int (G_MININT64));
  te_bvalue_dict_set (root, "max", te_bvalue_new_int (G_MAXINT64));
  te_bvalue_dict_set (root, "empty", te_bvalue_new_string (NULL, 0));

  first = te_bencode_encode (root);
  decoded = decode_ok_len (g_bytes_get_data (first, NULL), g_bytes_get_size (first));
  second = te_bencode_encode (decoded);
  g_assert_true (g_bytes_equal (first, second));

  /* Spot-check that the decoded tree holds what was built. */
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (decoded, "min")), ==, G_MININT64);
  g_assert_cmpint (te_bvalue_get_int (te_bvalue_dict_lookup (decoded, "max")), ==, G_MAXINT64);
  assert_string (te_bvalue_dict_lookup (decoded, "empty"), "", 0);
  info = te_bvalue_dict_get_kind (decoded, "info", TE_BVALUE_DICT);
  g_assert_nonnull (info);
  assert_string (te_bvalue_dict_lookup (info, "pieces"), blob, sizeof blob);
  files = te_bvalue_dict_get_kind (info, "files", TE_BVALUE_LIST);
  g_assert_nonnull (files);
  g_assert_cmpuint (te_bvalue_length (files), ==, 3);
  {
    TeBValue *file = te_bvalue_list_nth (files, 2);
    TeBValue *path = te_bvalue_dict_get_kind (file, "path", TE_BVALUE_LIST);
    gint64 length = 0;

    g_assert_true (te_bvalue_dict_get_int (file, "length", &length));
    g_assert_cmpint (length, ==, 2000);
    assert_string (te_bvalue_list_nth (path, 1), "file-2", 6);
  }
}

static void
test_encode_canonical_input (void)
{
  /* Already canonical documents encode back to the same bytes. */
  assert_canonical ("d8:announce27:http://example.org/announce4:infod6:lengthi5e"
                    "4:name5:a.txt12:piece lengthi16384e6:pieces0:ee");
  assert_canonical ("li-9223372036854775808ei9223372036854775807e0:lee");
  assert_canonical ("d1:ad1:bd1:cleeee");
}

static void
test_encode_to_appends (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(TeBValue) list = te_bvalue_new_list ();

  g_byte_array_append (out, (const guint8 *) "prefix", 6);
  te_bvalue_list_append (list, te_bvalue_new_int (-1));
  te_bvalue_list_append (list, te_bvalue_new_str (""));
  te_bencode_encode_to (list, out);
  g_assert_cmpmem (out->data, out->len, "prefixli-1e0:e", 14);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/bencode/int", test_int);
  g_test_add_func ("/te/bencode/int-limits", test_int_limits);
  g_test_add_func ("/te/bencode/int-overflow", test_int_overflow);
  g_test_add_func ("/te/bencode/non-canonical-int", test_non_canonical_int);
  g_test_add_func ("/te/bencode/truncated-int", test_truncated_int);
  g_test_add_func ("/te/bencode/string", test_string);
  g_test_add_func ("/te/bencode/string-length-leading-zero", test_string_length_leading_zero);
  g_test_add_func ("/te/bencode/string-bad-length", test_string_bad_length);
  g_test_add_func ("/te/bencode/string-past-end", test_string_past_end);
  g_test_add_func ("/te/bencode/binary-string", test_binary_string);
  g_test_add_func ("/te/bencode/list", test_list);
  g_test_add_func ("/te/bencode/dict", test_dict);
  g_test_add_func ("/te/bencode/truncated-container", test_truncated_container);
  g_test_add_func ("/te/bencode/unexpected-byte", test_unexpected_byte);
  g_test_add_func ("/te/bencode/empty-input", test_empty_input);
  g_test_add_func ("/te/bencode/trailing-data", test_trailing_data);
  g_test_add_func ("/te/bencode/error-offsets", test_error_offsets);
  g_test_add_func ("/te/bencode/bad-key", test_bad_key);
  g_test_add_func ("/te/bencode/duplicate-key", test_duplicate_key);
  g_test_add_func ("/te/bencode/unsorted-keys", test_unsorted_keys);
  g_test_add_func ("/te/bencode/depth", test_depth);
  g_test_add_func ("/te/bencode/depth-dicts", test_depth_dicts);
  g_test_add_func ("/te/bencode/very-deep", test_very_deep);
  g_test_add_func ("/te/bencode/too-many-items", test_too_many_items);
  g_test_add_func ("/te/bencode/span", test_span);
  g_test_add_func ("/te/bencode/span-nested", test_span_nested);
  g_test_add_func ("/te/bencode/span-built", test_span_built);
  g_test_add_func ("/te/bencode/encode-sorts-keys", test_encode_sorts_keys);
  g_test_add_func ("/te/bencode/encode-replace", test_encode_replace);
  g_test_add_func ("/te/bencode/encode-round-trip", test_encode_round_trip);
  g_test_add_func ("/te/bencode/encode-canonical-input", test_encode_canonical_input);
  g_test_add_func ("/te/bencode/encode-to-appends", test_encode_to_appends);

  return g_test_run ();
}
