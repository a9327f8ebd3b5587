/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-origin.h"

/* The remote API's Host and Origin checks: the input is a Host header, then
 * after a newline an Origin. A name that parses is lower-case and holds
 * nothing that could hide another host (userinfo, a path, spaces). */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char * const cors[] = { "https://ui.example", NULL };
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autofree char *name = NULL;
  char *origin = strchr (text, '\n');
  guint16 port = 1;

  if (origin)
    *origin++ = '\0';
  g_hash_table_add (names, "localhost");
  g_hash_table_add (names, "example.org");

  name = te_origin_parse_host (text, &port);
  if (name)
    {
      g_autofree char *lower = g_ascii_strdown (name, -1);

      g_assert_cmpstr (name, ==, lower);
      g_assert_cmpuint (strlen (name), >, 0);
      g_assert_null (strpbrk (name, "@/\\ ?#%"));
      if (strchr (text, ':') != NULL && text[0] != '[')
        g_assert_cmpuint (port, >, 0);
    }
  else
    g_assert_cmpuint (port, ==, 0);

  if (te_origin_host_allowed (names, text))
    g_assert_nonnull (name);
  if (origin)
    (void) te_origin_allowed (names, cors, 9091, origin, text);
  return 0;
}
