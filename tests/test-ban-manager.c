/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "te-ban-manager.h"

#define MIN_US  (60 * (gint64) G_USEC_PER_SEC)
#define HOUR_US (60 * MIN_US)
#define T0      (1000 * HOUR_US)

static TeBanManager *
new_manager (void)
{
  return te_ban_manager_new (3, HOUR_US, 30 * MIN_US);
}

static void
test_three_strikes (void)
{
  g_autoptr(TeBanManager) m = new_manager ();

  g_assert_false (te_ban_manager_strike (m, "192.0.2.1", "bad piece", T0));
  g_assert_false (te_ban_manager_strike (m, "192.0.2.1", "bad piece", T0 + MIN_US));
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "192.0.2.1", T0 + MIN_US), ==, 2);
  g_assert_false (te_ban_manager_is_banned (m, "192.0.2.1", T0 + MIN_US));
  g_assert_true (te_ban_manager_strike (m, "192.0.2.1", "bad piece", T0 + 2 * MIN_US));
  g_assert_true (te_ban_manager_is_banned (m, "192.0.2.1", T0 + 2 * MIN_US));

  /* Further strikes while banned do not ban again; others are unaffected. */
  g_assert_false (te_ban_manager_strike (m, "192.0.2.1", "bad piece", T0 + 3 * MIN_US));
  g_assert_false (te_ban_manager_is_banned (m, "192.0.2.2", T0 + 3 * MIN_US));
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "192.0.2.2", T0), ==, 0);
  g_assert_false (te_ban_manager_strike (m, "2001:db8::1", NULL, T0));
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "2001:db8::1", T0), ==, 1);
}

static void
test_ban_expires (void)
{
  g_autoptr(TeBanManager) m = new_manager ();

  for (guint i = 0; i < 3; i++)
    te_ban_manager_strike (m, "198.51.100.7", "unrequested data", T0);
  g_assert_true (te_ban_manager_is_banned (m, "198.51.100.7", T0 + HOUR_US - 1));
  g_assert_false (te_ban_manager_is_banned (m, "198.51.100.7", T0 + HOUR_US));

  /* It starts over with a clean slate. */
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "198.51.100.7", T0 + HOUR_US), ==, 0);
  g_assert_false (te_ban_manager_strike (m, "198.51.100.7", "again", T0 + HOUR_US));
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "198.51.100.7", T0 + HOUR_US), ==, 1);
}

static void
test_strikes_decay (void)
{
  g_autoptr(TeBanManager) m = new_manager ();

  te_ban_manager_strike (m, "203.0.113.5", "bad piece", T0);
  te_ban_manager_strike (m, "203.0.113.5", "bad piece", T0 + 20 * MIN_US);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "203.0.113.5", T0 + 29 * MIN_US), ==, 2);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "203.0.113.5", T0 + 30 * MIN_US), ==, 1);

  /* The first strike has expired: a third one is only the second. */
  g_assert_false (te_ban_manager_strike (m, "203.0.113.5", "bad piece", T0 + 31 * MIN_US));
  g_assert_false (te_ban_manager_is_banned (m, "203.0.113.5", T0 + 31 * MIN_US));
  g_assert_true (te_ban_manager_strike (m, "203.0.113.5", "bad piece", T0 + 40 * MIN_US));
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "203.0.113.5", T0 + 2 * HOUR_US), ==, 0);
}

static void
test_prune (void)
{
  g_autoptr(TeBanManager) m = new_manager ();

  te_ban_manager_strike (m, "192.0.2.10", "x", T0);
  for (guint i = 0; i < 3; i++)
    te_ban_manager_strike (m, "192.0.2.11", "x", T0);
  te_ban_manager_strike (m, "192.0.2.12", "x", T0 + 20 * MIN_US);

  /* Decayed strikes go, bans and live strikes stay. */
  te_ban_manager_prune (m, T0 + 40 * MIN_US);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "192.0.2.10", T0 + 40 * MIN_US), ==, 0);
  g_assert_true (te_ban_manager_is_banned (m, "192.0.2.11", T0 + 40 * MIN_US));
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "192.0.2.12", T0 + 40 * MIN_US), ==, 1);
  te_ban_manager_prune (m, T0 + 2 * HOUR_US);
  g_assert_false (te_ban_manager_is_banned (m, "192.0.2.11", T0 + 2 * HOUR_US));
}

static void
test_bounded (void)
{
  g_autoptr(TeBanManager) m = new_manager ();
  const guint extra = 100;

  for (guint i = 0; i < TE_BAN_MANAGER_MAX_ADDRESSES + extra; i++)
    {
      char address[32];

      g_snprintf (address, sizeof address, "10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff);
      te_ban_manager_strike (m, address, "flood", T0 + i);
      if (i == 1000)
        {
          /* Struck again, so it is not among the oldest. */
          te_ban_manager_strike (m, "10.0.0.0", "flood", T0 + i);
        }
    }
  /* The least recently struck addresses were forgotten, not the newest. */
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "10.0.0.1", T0 + 1000), ==, 0);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "10.0.0.50", T0 + 1000), ==, 0);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "10.0.0.0", T0 + 1000), ==, 2);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "10.0.0.200", T0 + 1000), ==, 1);
  g_assert_cmpuint (te_ban_manager_get_strikes (m, "10.1.0.99", T0 + 1000), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/ban-manager/three-strikes", test_three_strikes);
  g_test_add_func ("/te/ban-manager/ban-expires", test_ban_expires);
  g_test_add_func ("/te/ban-manager/strikes-decay", test_strikes_decay);
  g_test_add_func ("/te/ban-manager/prune", test_prune);
  g_test_add_func ("/te/ban-manager/bounded", test_bounded);

  return g_test_run ();
}
