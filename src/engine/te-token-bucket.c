/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-token-bucket"

#include "config.h"

#include "te-token-bucket.h"

/* Tokens are bytes. They accrue at `rate` per second up to `burst`: one second's
 * worth, at least one 16 KiB block (so a block can always pass) and at most
 * 4 MiB (so a long idle spell does not turn into a flood). A bucket starts full.
 * Every call is O(1) and allocates nothing. */

#define MIN_BURST  16384.0
#define MAX_BURST  (4.0 * 1024 * 1024)
#define NOT_STARTED G_MININT64
/* Absorbs rounding so that waiting wait_us() really makes the tokens available. */
#define EPSILON     1e-6

static double
burst_for (guint64 rate)
{
  return CLAMP ((double) rate, MIN_BURST, MAX_BURST);
}

void
te_token_bucket_init (TeTokenBucket *b,
                      guint64        bytes_per_second)
{
  g_return_if_fail (b != NULL);

  b->rate = bytes_per_second;
  b->burst = burst_for (bytes_per_second);
  b->tokens = b->burst;
  b->last_us = NOT_STARTED;
}

/* Tokens already earned are kept, up to the new burst; debt is kept too. */
void
te_token_bucket_set_rate (TeTokenBucket *b,
                          guint64        bytes_per_second)
{
  g_return_if_fail (b != NULL);

  if (b->rate == 0)
    {
      te_token_bucket_init (b, bytes_per_second);
      return;
    }
  b->rate = bytes_per_second;
  b->burst = burst_for (bytes_per_second);
  b->tokens = MIN (b->tokens, b->burst);
}

static void
refill (TeTokenBucket *b,
        gint64         now_us)
{
  if (b->last_us != NOT_STARTED && now_us > b->last_us)
    {
      double earned = (double) (now_us - b->last_us) * (double) b->rate / G_USEC_PER_SEC;

      b->tokens = MIN (b->tokens + earned, b->burst);
    }
  /* A clock that went backwards restarts from now rather than stalling. */
  if (b->last_us == NOT_STARTED || now_us != b->last_us)
    b->last_us = now_us;
}

guint64
te_token_bucket_available (TeTokenBucket *b,
                           gint64         now_us)
{
  g_return_val_if_fail (b != NULL, 0);

  if (b->rate == 0)
    return G_MAXUINT64;
  refill (b, now_us);
  return b->tokens + EPSILON >= 1 ? (guint64) (b->tokens + EPSILON) : 0;
}

guint64
te_token_bucket_take (TeTokenBucket *b,
                      guint64        want,
                      gint64         now_us)
{
  guint64 grant;

  g_return_val_if_fail (b != NULL, 0);

  if (b->rate == 0)
    return want;
  grant = MIN (want, te_token_bucket_available (b, now_us));
  b->tokens -= (double) grant;
  return grant;
}

void
te_token_bucket_consume (TeTokenBucket *b,
                         guint64        bytes,
                         gint64         now_us)
{
  g_return_if_fail (b != NULL);

  if (b->rate == 0)
    return;
  refill (b, now_us);
  b->tokens -= (double) bytes;
}

/**
 * te_token_bucket_wait_us:
 *
 * Returns: 0 when @want bytes (at most the burst) can be taken now, else how
 *   long to wait for them, rounded up
 */
gint64
te_token_bucket_wait_us (TeTokenBucket *b,
                         guint64        want,
                         gint64         now_us)
{
  double need, us;

  g_return_val_if_fail (b != NULL, 0);

  if (b->rate == 0)
    return 0;
  refill (b, now_us);
  need = MIN ((double) want, b->burst) - b->tokens;
  if (need <= EPSILON)
    return 0;
  us = (need - EPSILON / 2) * G_USEC_PER_SEC / (double) b->rate;
  return MAX ((gint64) us + ((double) (gint64) us < us), 1);
}

/* Grants what both levels can give (torrent and global), taken from both. */
guint64
te_token_bucket_take2 (TeTokenBucket *a,
                       TeTokenBucket *b,
                       guint64        want,
                       gint64         now_us)
{
  guint64 grant;

  g_return_val_if_fail (a != NULL && b != NULL, 0);

  grant = MIN (want, te_token_bucket_available (a, now_us));
  grant = MIN (grant, te_token_bucket_available (b, now_us));
  if (a->rate != 0)
    a->tokens -= (double) grant;
  if (b->rate != 0)
    b->tokens -= (double) grant;
  return grant;
}
