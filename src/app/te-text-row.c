/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-text-row"

#include "config.h"

#include "te-text-row.h"

/* One row of a snapshot table (peers, trackers): its cells as text, already
 * formatted, and one fraction for a progress column. Rows are replaced, not
 * updated, when the snapshot is taken again. */

struct _TeTextRow
{
  GObject   parent_instance;

  char    **texts;
  guint     n_texts;
  double    fraction;
};

G_DEFINE_FINAL_TYPE (TeTextRow, te_text_row, G_TYPE_OBJECT)

/**
 * te_text_row_new:
 * @texts: (transfer full): the cells
 * @fraction: 0 to 1
 */
TeTextRow *
te_text_row_new (char   **texts,
                 double   fraction)
{
  TeTextRow *self = g_object_new (TE_TYPE_TEXT_ROW, NULL);

  self->texts = texts;
  self->n_texts = g_strv_length (texts);
  self->fraction = CLAMP (fraction, 0.0, 1.0);
  return self;
}

const char *
te_text_row_get_text (TeTextRow *self,
                      guint      column)
{
  g_return_val_if_fail (TE_IS_TEXT_ROW (self), NULL);

  return column < self->n_texts ? self->texts[column] : "";
}

double
te_text_row_get_fraction (TeTextRow *self)
{
  g_return_val_if_fail (TE_IS_TEXT_ROW (self), 0.0);

  return self->fraction;
}

static void
te_text_row_finalize (GObject *object)
{
  g_strfreev (TE_TEXT_ROW (object)->texts);

  G_OBJECT_CLASS (te_text_row_parent_class)->finalize (object);
}

static void
te_text_row_class_init (TeTextRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = te_text_row_finalize;
}

static void
te_text_row_init (TeTextRow *self)
{
}
