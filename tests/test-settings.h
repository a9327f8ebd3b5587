/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-settings.h"

/* Shared by test-settings.c (defaults, environment, GSettings) and
 * test-settings-json.c (the engine's table and its JSON face). */

typedef enum {
  KIND_PATH,
  KIND_UINT16,
  KIND_UINT,
  KIND_UINT64,
  KIND_DOUBLE,
  KIND_BOOLEAN,
} Kind;

/* Written from the documented variables, not copied from te-settings.c, so a
 * wrong field or range there shows up here. */
typedef struct {
  const char *env;
  const char *key;
  gsize       offset;
  Kind        kind;
  guint64     min;        /* integer kinds */
  guint64     max;
  const char *text;       /* a valid value that is not the default */
  guint64     uint;       /* what @text means */
  double      number;
  gboolean    boolean;
} Row;

#define FIELD(f) G_STRUCT_OFFSET (TeEngineSettings, f)

extern const Row   settings_rows[];
extern const gsize settings_n_rows;

void settings_assert_equal   (const TeEngineSettings *a,
                              const TeEngineSettings *b);
void settings_set_row_value  (TeEngineSettings       *s,
                              const Row              *row);
void settings_add_json_tests (void);
