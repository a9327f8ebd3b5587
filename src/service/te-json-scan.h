/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  TE_JSON_SCAN_OK,
  TE_JSON_SCAN_TOO_DEEP,    /* nested deeper than asked */
  TE_JSON_SCAN_TRAILING,    /* text after the top-level array or object */
} TeJsonScanResult;

TeJsonScanResult te_json_scan (const char *data,
                               gsize       length,
                               guint       max_depth);

G_END_DECLS
