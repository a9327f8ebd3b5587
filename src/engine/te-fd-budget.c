/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-fd-budget"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "te-fd-budget.h"

/* Descriptors: the limit is raised to the hard one at start, as Transmission
 * and libtorrent do, then shared out. Peers get what the others leave, so
 * the global peer cap is min(setting, budget); the storage cache and the
 * remote API ask for their own shares. A process that runs out anyway backs
 * off (see te-listener.c) rather than failing: running out inside GLib itself
 * (a new main context, a cancellable's wakeup) aborts, which is why `other`
 * is kept free. */

/* More than this is never asked for: nothing here would use it, and some
 * libraries size tables by the limit. Also the kernel's default nr_open. */
#define LIMIT_MAX (1u << 20)

static guint cached_limit;

static guint
read_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return 1024;
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LIMIT_MAX)
    return LIMIT_MAX;
  return (guint) rl.rlim_cur;
}

static guint
get_limit (void)
{
  guint limit = g_atomic_int_get (&cached_limit);

  if (limit == 0)
    {
      limit = read_limit ();
      g_atomic_int_set (&cached_limit, limit);
    }
  return limit;
}

/**
 * te_fd_budget_raise_limit:
 *
 * Raises the soft descriptor limit to the hard one (at most 2^20). Called
 * once at start, before anything opens many descriptors.
 *
 * Returns: the limit now
 */
guint
te_fd_budget_raise_limit (void)
{
  struct rlimit rl;
  rlim_t target;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    {
      g_debug ("Cannot read the descriptor limit: %s", g_strerror (errno));
      return get_limit ();
    }
  target = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > LIMIT_MAX ? LIMIT_MAX : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < target)
    {
      rlim_t before = rl.rlim_cur;

      rl.rlim_cur = target;
      if (setrlimit (RLIMIT_NOFILE, &rl) == 0)
        g_debug ("Descriptor limit raised from %lu to %lu", (gulong) before, (gulong) target);
      else
        g_debug ("Cannot raise the descriptor limit from %lu to %lu: %s", (gulong) before,
                 (gulong) target, g_strerror (errno));
    }
  else
    g_debug ("Descriptor limit: %lu", (gulong) rl.rlim_cur);
  _te_fd_budget_reload ();
  return get_limit ();
}

/**
 * te_fd_budget_get:
 * @budget: (out caller-allocates): the shares
 *
 * Shares the limit out: `other` an eighth (12 to 256), the API a sixteenth
 * (8 to 256), data files an eighth (4 to 1024), peers the rest (at least 2).
 */
void
te_fd_budget_get (TeFdBudget *budget)
{
  guint limit = get_limit ();
  guint used;

  budget->limit = limit;
  budget->other = CLAMP (limit / 8, 12, 256);
  budget->api = CLAMP (limit / 16, 8, 256);
  budget->files = CLAMP (limit / 8, 4, 1024);
  used = budget->other + budget->api + budget->files;
  budget->peers = limit > used + 2 ? limit - used : 2;
}

/**
 * te_fd_budget_get_api:
 *
 * Returns: how many remote-API connections may be open at once, those
 *   being closed included
 */
guint
te_fd_budget_get_api (void)
{
  TeFdBudget b;

  te_fd_budget_get (&b);
  return b.api;
}

/**
 * te_fd_budget_get_files:
 *
 * Returns: how many data files may be open at once, in all torrents
 */
guint
te_fd_budget_get_files (void)
{
  TeFdBudget b;

  te_fd_budget_get (&b);
  return b.files;
}

/**
 * te_fd_budget_get_peers:
 *
 * Returns: how many peer connections may be open at once, those not past
 *   their handshake included
 */
guint
te_fd_budget_get_peers (void)
{
  TeFdBudget b;

  te_fd_budget_get (&b);
  return b.peers;
}

void
_te_fd_budget_reload (void)
{
  g_atomic_int_set (&cached_limit, read_limit ());
}
