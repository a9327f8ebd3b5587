/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-bencode.h"

/* Decodes the input. Whatever decodes must encode to bytes of the same length
 * (the encoder only reorders dictionary keys), decode again to the same
 * encoding, and, when every dictionary was already sorted, give back the
 * input byte for byte. */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Walks the tree checking what the accessors report. Returns whether every
 * dictionary below @value has its keys in strictly ascending order. */
static gboolean
check_value (const TeBValue *value,
             const uint8_t  *data,
             gsize           parent_start,
             gsize           parent_end)
{
  gsize start = 0, end = 0;
  gboolean canonical = TRUE;

  g_assert_true (te_bvalue_get_span (value, &start, &end));
  g_assert_cmpuint (parent_start, <=, start);
  g_assert_cmpuint (start, <, end);
  g_assert_cmpuint (end, <=, parent_end);

  switch (te_bvalue_kind (value))
    {
    case TE_BVALUE_INT:
      g_assert_cmpint (data[start], ==, 'i');
      g_assert_cmpint (data[end - 1], ==, 'e');
      break;

    case TE_BVALUE_STRING:
      {
        gsize len = 0;
        const guint8 *s = te_bvalue_get_string (value, &len);

        g_assert_nonnull (s);
        g_assert_cmpuint (len, <, end - start);
        g_assert_cmpmem (s, len, data + end - len, len);
        g_assert_cmpint (s[len], ==, 0);
        g_assert_cmpint (data[end - len - 1], ==, ':');
      }
      break;

    case TE_BVALUE_LIST:
      g_assert_cmpint (data[start], ==, 'l');
      g_assert_cmpint (data[end - 1], ==, 'e');
      for (guint i = 0; i < te_bvalue_length (value); i++)
        {
          TeBValue *item = te_bvalue_list_nth (value, i);

          g_assert_nonnull (item);
          canonical &= check_value (item, data, start + 1, end - 1);
        }
      g_assert_null (te_bvalue_list_nth (value, te_bvalue_length (value)));
      break;

    case TE_BVALUE_DICT:
      {
        const guint8 *prev_key = NULL;
        gsize prev_len = 0;

        g_assert_cmpint (data[start], ==, 'd');
        g_assert_cmpint (data[end - 1], ==, 'e');
        for (guint i = 0; i < te_bvalue_length (value); i++)
          {
            const guint8 *key = NULL;
            gsize key_len = 0;
            TeBValue *item = te_bvalue_dict_nth (value, i, &key, &key_len);

            g_assert_nonnull (item);
            g_assert_nonnull (key);
            /* Keys are unique, so a lookup finds this very entry. */
            g_assert_true (te_bvalue_dict_lookup_len (value, key, key_len) == item);
            if (prev_key != NULL)
              {
                int r = memcmp (prev_key, key, MIN (prev_len, key_len));

                if (r > 0 || (r == 0 && prev_len >= key_len))
                  canonical = FALSE;
              }
            prev_key = key;
            prev_len = key_len;
            canonical &= check_value (item, data, start + 1, end - 1);
          }
        g_assert_null (te_bvalue_dict_nth (value, te_bvalue_length (value), NULL, NULL));
      }
      break;

    default:
      g_assert_not_reached ();
    }

  return canonical;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static gboolean initialized;
  g_autoptr(TeBValue) value = NULL;
  g_autoptr(TeBValue) again = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GBytes) reencoded = NULL;
  g_autoptr(GError) error = NULL;
  gboolean canonical;
  gsize start = 0, end = 0;

  if (!initialized)
    {
      /* A critical or warning from the engine is a bug too. */
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      initialized = TRUE;
    }

  value = te_bencode_decode (data, size, &error);
  if (value == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == TE_BENCODE_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  g_assert_no_error (error);

  /* The top-level value spans the whole input. */
  g_assert_true (te_bvalue_get_span (value, &start, &end));
  g_assert_cmpuint (start, ==, 0);
  g_assert_cmpuint (end, ==, size);
  canonical = check_value (value, data, 0, size);

  encoded = te_bencode_encode (value);
  g_assert_cmpuint (g_bytes_get_size (encoded), ==, size);
  if (canonical)
    g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), data, size);

  again = te_bencode_decode (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  g_assert_true (check_value (again, g_bytes_get_data (encoded, NULL), 0, size));
  reencoded = te_bencode_encode (again);
  g_assert_true (g_bytes_equal (encoded, reencoded));

  return 0;
}
