/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define TE_TYPE_TEXT_ROW (te_text_row_get_type ())
G_DECLARE_FINAL_TYPE (TeTextRow, te_text_row, TE, TEXT_ROW, GObject)

TeTextRow  *te_text_row_new          (char       **texts,
                                      double       fraction);
const char *te_text_row_get_text     (TeTextRow   *self,
                                      guint        column);
double      te_text_row_get_fraction (TeTextRow   *self);

G_END_DECLS
