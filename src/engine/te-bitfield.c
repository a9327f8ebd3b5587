/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-bitfield"

#include "config.h"

#include <string.h>

#include "te-bitfield.h"

struct _TeBitfield {
  guint   n_bits;
  guint   count;   /* kept current so progress is O(1) */
  guint8 *bits;
};

static gsize
n_bytes (guint n_bits)
{
  return (n_bits + 7) / 8;
}

TeBitfield *
te_bitfield_new (guint n_bits)
{
  TeBitfield *bf = g_new0 (TeBitfield, 1);

  bf->n_bits = n_bits;
  bf->bits = g_malloc0 (MAX (n_bytes (n_bits), 1));
  return bf;
}

TeBitfield *
te_bitfield_copy (const TeBitfield *bf)
{
  TeBitfield *copy = te_bitfield_new (bf->n_bits);

  memcpy (copy->bits, bf->bits, n_bytes (bf->n_bits));
  copy->count = bf->count;
  return copy;
}

void
te_bitfield_free (TeBitfield *bf)
{
  if (bf == NULL)
    return;
  g_free (bf->bits);
  g_free (bf);
}

guint
te_bitfield_size (const TeBitfield *bf)
{
  return bf->n_bits;
}

guint
te_bitfield_count (const TeBitfield *bf)
{
  return bf->count;
}

gboolean
te_bitfield_get (const TeBitfield *bf,
                 guint             bit)
{
  if (bit >= bf->n_bits)
    return FALSE;
  return (bf->bits[bit >> 3] >> (7 - (bit & 7))) & 1;
}

void
te_bitfield_set (TeBitfield *bf,
                 guint       bit,
                 gboolean    value)
{
  guint8 mask;

  g_return_if_fail (bit < bf->n_bits);
  mask = 0x80 >> (bit & 7);
  if (value && !(bf->bits[bit >> 3] & mask))
    {
      bf->bits[bit >> 3] |= mask;
      bf->count++;
    }
  else if (!value && (bf->bits[bit >> 3] & mask))
    {
      bf->bits[bit >> 3] &= ~mask;
      bf->count--;
    }
}

void
te_bitfield_set_all (TeBitfield *bf)
{
  gsize n = n_bytes (bf->n_bits);

  if (n == 0)
    return;
  memset (bf->bits, 0xff, n);
  if (bf->n_bits & 7)
    bf->bits[n - 1] = (guint8) (0xff << (8 - (bf->n_bits & 7)));
  bf->count = bf->n_bits;
}

gboolean
te_bitfield_is_full (const TeBitfield *bf)
{
  return bf->count == bf->n_bits;
}

const guint8 *
te_bitfield_bytes (const TeBitfield *bf,
                   gsize            *len)
{
  if (len)
    *len = n_bytes (bf->n_bits);
  return bf->bits;
}

/**
 * te_bitfield_load:
 *
 * Returns: `FALSE`, leaving @bf unchanged, when @len is wrong or a spare bit
 *   past the last piece is set
 */
gboolean
te_bitfield_load (TeBitfield   *bf,
                  const guint8 *bytes,
                  gsize         len)
{
  gsize n = n_bytes (bf->n_bits);
  guint count = 0;

  if (len != n)
    return FALSE;
  if ((bf->n_bits & 7) && (bytes[n - 1] & (0xff >> (bf->n_bits & 7))))
    return FALSE;
  memcpy (bf->bits, bytes, n);
  for (gsize i = 0; i < n; i++)
    count += __builtin_popcount (bytes[i]);
  bf->count = count;
  return TRUE;
}
