/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A pseudo-random generator of 8 bytes (SplitMix64) for tie-breaking and
 * shuffles: every torrent has a picker and a choker, and a GRand's 2.5 KiB
 * each would be most of an idle torrent's memory. Not for secrets. */
typedef struct {
  guint64 state;
} TeRand;

static inline void
te_rand_init (TeRand  *r,
              guint32  seed)
{
  r->state = seed;
}

static inline guint32
te_rand_int (TeRand *r)
{
  guint64 z = (r->state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return (guint32) ((z ^ (z >> 31)) >> 32);
}

/* Uniform in [begin, end), end > begin; the multiply-shift bias is below
 * 2^-32 · (end - begin), far under what a tie-break can notice. */
static inline gint32
te_rand_int_range (TeRand *r,
                   gint32  begin,
                   gint32  end)
{
  guint32 span = (guint32) end - (guint32) begin;

  return begin + (gint32) (((guint64) te_rand_int (r) * span) >> 32);
}

G_END_DECLS
