/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A piece bitfield in wire order: bit 7 of byte 0 is piece 0. */
typedef struct _TeBitfield TeBitfield;

TeBitfield   *te_bitfield_new        (guint              n_bits);
TeBitfield   *te_bitfield_copy       (const TeBitfield  *bf);
void          te_bitfield_free       (TeBitfield        *bf);
guint         te_bitfield_size       (const TeBitfield  *bf);
guint         te_bitfield_count      (const TeBitfield  *bf);
gboolean      te_bitfield_get        (const TeBitfield  *bf,
                                      guint              bit);
void          te_bitfield_set        (TeBitfield        *bf,
                                      guint              bit,
                                      gboolean           value);
void          te_bitfield_set_all    (TeBitfield        *bf);
gboolean      te_bitfield_is_full    (const TeBitfield  *bf);
const guint8 *te_bitfield_bytes      (const TeBitfield  *bf,
                                      gsize             *len);
gboolean      te_bitfield_load       (TeBitfield        *bf,
                                      const guint8      *bytes,
                                      gsize              len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeBitfield, te_bitfield_free)

G_END_DECLS
