/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-json-scan"

#include "config.h"

#include "te-json-scan.h"

/**
 * te_json_scan:
 * @data: request text, not necessarily valid JSON
 * @max_depth: how many arrays and objects may nest
 *
 * A first pass over a request body before json-glib sees it. json-glib 1.6
 * recurses once per level, so deep nesting could exhaust the stack, and it
 * leaks what it built when text follows the value: both are refused here.
 * Everything else (syntax, types) is left to the parser.
 *
 * Returns: what was found
 */
TeJsonScanResult
te_json_scan (const char *data,
              gsize       length,
              guint       max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0;
  gsize i = 0;

  while (i < length && g_ascii_isspace (data[i]))
    i++;
  if (i == length || (data[i] != '{' && data[i] != '['))
    return TE_JSON_SCAN_OK;
  for (; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            return TE_JSON_SCAN_TOO_DEEP;
        }
      else if ((c == ']' || c == '}') && depth > 0 && --depth == 0)
        break;
    }
  for (i++; i < length; i++)
    if (!g_ascii_isspace (data[i]))
      return TE_JSON_SCAN_TRAILING;
  return TE_JSON_SCAN_OK;
}
