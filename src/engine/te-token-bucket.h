/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A token bucket rate limiter. Time is passed in (g_get_monotonic_time() in the
 * engine), so it never sleeps and tests run on simulated time. A rate of 0 means
 * unlimited. Plain struct: embed it, te_token_bucket_init() it, no free needed. */
typedef struct {
  guint64 rate;      /* bytes per second, 0 = unlimited */
  double  tokens;    /* may go negative: debt for bytes already sent */
  double  burst;     /* most tokens that can accumulate */
  gint64  last_us;   /* last refill, G_MININT64 before the first */
} TeTokenBucket;

void    te_token_bucket_init      (TeTokenBucket *b,
                                   guint64        bytes_per_second);
void    te_token_bucket_set_rate  (TeTokenBucket *b,
                                   guint64        bytes_per_second);
guint64 te_token_bucket_available (TeTokenBucket *b,
                                   gint64         now_us);
guint64 te_token_bucket_take      (TeTokenBucket *b,
                                   guint64        want,
                                   gint64         now_us);
void    te_token_bucket_consume   (TeTokenBucket *b,
                                   guint64        bytes,
                                   gint64         now_us);
gint64  te_token_bucket_wait_us   (TeTokenBucket *b,
                                   guint64        want,
                                   gint64         now_us);
guint64 te_token_bucket_take2     (TeTokenBucket *a,
                                   TeTokenBucket *b,
                                   guint64        want,
                                   gint64         now_us);

G_END_DECLS
