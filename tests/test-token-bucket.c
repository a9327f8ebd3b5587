/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "te-token-bucket.h"

#define SEC   ((gint64) G_USEC_PER_SEC)
#define T0    (5000 * SEC)
#define KiB   1024
#define MiB   (1024 * 1024)

static void
test_follows_rate (void)
{
  TeTokenBucket b;
  guint64 total = 0;

  te_token_bucket_init (&b, 100000);
  /* Starts with a full burst (one second's worth), then earns the rate. */
  g_assert_cmpuint (te_token_bucket_take (&b, 1000000, T0), ==, 100000);
  g_assert_cmpuint (te_token_bucket_take (&b, 1000000, T0), ==, 0);
  g_assert_cmpuint (te_token_bucket_take (&b, 1000000, T0 + SEC / 2), ==, 50000);
  g_assert_cmpuint (te_token_bucket_take (&b, 10, T0 + SEC / 2 + 100), ==, 10);

  /* Ten simulated seconds of greedy 1 ms ticks: rate * 10 within one tick. */
  te_token_bucket_init (&b, 100000);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  for (gint64 t = T0; t <= T0 + 10 * SEC; t += 1000)
    total += te_token_bucket_take (&b, 1 * MiB, t);
  g_assert_cmpuint (total, >=, 1000000 - 100);
  g_assert_cmpuint (total, <=, 1000000);
}

static void
test_burst (void)
{
  TeTokenBucket b;

  te_token_bucket_init (&b, 100000);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 + 100 * SEC), ==, 100000);

  /* At most 4 MiB, at least one 16 KiB block. */
  te_token_bucket_init (&b, 100 * MiB);
  g_assert_cmpuint (te_token_bucket_available (&b, T0), ==, 4 * MiB);
  te_token_bucket_init (&b, 1000);
  g_assert_cmpuint (te_token_bucket_available (&b, T0), ==, 16 * KiB);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 + 3600 * SEC), ==, 16 * KiB);

  /* Changing the rate keeps what was earned, up to the new burst. */
  te_token_bucket_init (&b, 1 * MiB);
  te_token_bucket_available (&b, T0);
  te_token_bucket_set_rate (&b, 200000);
  g_assert_cmpuint (te_token_bucket_available (&b, T0), ==, 200000);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 + SEC / 4), ==, 50000);
}

static void
test_debt (void)
{
  TeTokenBucket b;

  te_token_bucket_init (&b, 100000);
  te_token_bucket_consume (&b, 300000, T0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0), ==, 0);
  g_assert_cmpuint (te_token_bucket_take (&b, 1, T0 + SEC), ==, 0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 + 2 * SEC), ==, 0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 + 3 * SEC), ==, 100000);
}

static void
test_wait (void)
{
  TeTokenBucket b;
  gint64 wait;

  te_token_bucket_init (&b, 100000);
  g_assert_cmpint (te_token_bucket_wait_us (&b, 16384, T0), ==, 0);
  te_token_bucket_take (&b, G_MAXUINT64, T0);

  /* 16384 bytes at 100000 B/s: 163840 us. */
  wait = te_token_bucket_wait_us (&b, 16384, T0);
  g_assert_cmpint (wait, ==, 163840);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 + wait - 1), ==, 16383);
  g_assert_cmpint (te_token_bucket_wait_us (&b, 16384, T0 + wait - 1), ==, 1);
  g_assert_cmpuint (te_token_bucket_take (&b, 16384, T0 + wait), ==, 16384);

  /* A wait rounds up, so that the tokens are there when the timer fires. */
  te_token_bucket_init (&b, 3);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  wait = te_token_bucket_wait_us (&b, 1, T0);
  g_assert_cmpint (wait, ==, 333334);
  g_assert_cmpuint (te_token_bucket_take (&b, 1, T0 + wait), ==, 1);

  /* More than the burst can never be had at once: wait for a full bucket. */
  te_token_bucket_init (&b, 100000);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  g_assert_cmpint (te_token_bucket_wait_us (&b, 10 * MiB, T0), ==, SEC);

  /* Debt is waited off too. */
  te_token_bucket_consume (&b, 100000, T0);
  g_assert_cmpint (te_token_bucket_wait_us (&b, 50000, T0), ==, 3 * SEC / 2);
}

static void
test_take2 (void)
{
  TeTokenBucket torrent, global;

  te_token_bucket_init (&torrent, 100000);
  te_token_bucket_init (&global, 50000);
  g_assert_cmpuint (te_token_bucket_take2 (&torrent, &global, 1 * MiB, T0), ==, 50000);
  g_assert_cmpuint (te_token_bucket_available (&torrent, T0), ==, 50000);
  g_assert_cmpuint (te_token_bucket_available (&global, T0), ==, 0);
  g_assert_cmpuint (te_token_bucket_take2 (&torrent, &global, 1 * MiB, T0 + SEC), ==, 50000);
  g_assert_cmpuint (te_token_bucket_available (&torrent, T0 + SEC), ==, 50000);
  g_assert_cmpuint (te_token_bucket_take2 (&torrent, &global, 10, T0 + SEC), ==, 0);

  /* An unlimited level leaves the other in charge. */
  te_token_bucket_init (&global, 0);
  g_assert_cmpuint (te_token_bucket_take2 (&torrent, &global, 1 * MiB, T0 + SEC), ==, 50000);
  g_assert_cmpuint (te_token_bucket_take2 (&global, &torrent, 1 * MiB, T0 + 2 * SEC), ==, 100000);
}

static void
test_unlimited (void)
{
  TeTokenBucket b;

  te_token_bucket_init (&b, 0);
  g_assert_cmpuint (te_token_bucket_take (&b, 123456789, T0), ==, 123456789);
  g_assert_cmpuint (te_token_bucket_available (&b, T0), ==, G_MAXUINT64);
  te_token_bucket_consume (&b, 1000 * MiB, T0);
  g_assert_cmpint (te_token_bucket_wait_us (&b, 1000 * MiB, T0), ==, 0);

  /* Limiting later starts from a full bucket; lifting the limit again works. */
  te_token_bucket_set_rate (&b, 20000);
  g_assert_cmpuint (te_token_bucket_take (&b, 1 * MiB, T0), ==, 20000);
  g_assert_cmpuint (te_token_bucket_take (&b, 1 * MiB, T0), ==, 0);
  te_token_bucket_set_rate (&b, 0);
  g_assert_cmpuint (te_token_bucket_take (&b, 1 * MiB, T0), ==, 1 * MiB);
}

static void
test_clock_backwards (void)
{
  TeTokenBucket b;

  te_token_bucket_init (&b, 100000);
  te_token_bucket_take (&b, G_MAXUINT64, T0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 - 10 * SEC), ==, 0);
  g_assert_cmpuint (te_token_bucket_available (&b, T0 - 9 * SEC), ==, 100000);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/token-bucket/follows-rate", test_follows_rate);
  g_test_add_func ("/te/token-bucket/burst", test_burst);
  g_test_add_func ("/te/token-bucket/debt", test_debt);
  g_test_add_func ("/te/token-bucket/wait", test_wait);
  g_test_add_func ("/te/token-bucket/take2", test_take2);
  g_test_add_func ("/te/token-bucket/unlimited", test_unlimited);
  g_test_add_func ("/te/token-bucket/clock-backwards", test_clock_backwards);

  return g_test_run ();
}
