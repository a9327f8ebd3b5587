/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-magnet.h"

/* Parses the input as a magnet URI; whatever parses must survive
 * te_magnet_to_string() and parse back to the same magnet. */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
assert_same_strings (GPtrArray *a,
                     GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, g_ptr_array_index (b, i));
}

static void
assert_magnet_equal (const TeMagnet *a,
                     const TeMagnet *b)
{
  g_assert_cmpint (a->has_v1, ==, b->has_v1);
  g_assert_cmpint (a->has_v2, ==, b->has_v2);
  g_assert_cmpmem (a->info_hash, sizeof a->info_hash, b->info_hash, sizeof b->info_hash);
  g_assert_cmpmem (a->info_hash_v2, sizeof a->info_hash_v2, b->info_hash_v2, sizeof b->info_hash_v2);
  g_assert_cmpstr (a->display_name, ==, b->display_name);
  assert_same_strings (a->trackers, b->trackers);
  assert_same_strings (a->web_seeds, b->web_seeds);
  assert_same_strings (a->peers, b->peers);
  g_assert_cmpmem (a->select_only->data, a->select_only->len * sizeof (TeMagnetRange),
                   b->select_only->data, b->select_only->len * sizeof (TeMagnetRange));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *uri = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *again = NULL;
  g_autoptr(TeMagnet) magnet = NULL;
  g_autoptr(TeMagnet) reparsed = NULL;
  g_autoptr(GError) error = NULL;

  if (size > TE_MAGNET_MAX_LENGTH + 16)
    return 0;

  uri = g_malloc (size + 1);
  memcpy (uri, data, size);
  uri[size] = '\0';

  magnet = te_magnet_parse (uri, &error);
  if (magnet == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == TE_MAGNET_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  g_assert_no_error (error);
  g_assert_true (magnet->has_v1 || magnet->has_v2);
  g_assert_true (magnet->display_name == NULL ||
                 g_utf8_validate (magnet->display_name, -1, NULL));

  canonical = te_magnet_to_string (magnet);
  /* Escaping can grow a URI that was just under the limit past it. */
  if (strlen (canonical) > TE_MAGNET_MAX_LENGTH)
    return 0;

  reparsed = te_magnet_parse (canonical, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reparsed);
  assert_magnet_equal (magnet, reparsed);

  again = te_magnet_to_string (reparsed);
  g_assert_cmpstr (canonical, ==, again);
  return 0;
}
