/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-ban-manager"

#include "config.h"

#include <string.h>

#include "te-ban-manager.h"

/* One entry per address that was struck recently or is banned: the times of
 * its live strikes (at most max_strikes, oldest first) and when its ban ends.
 * Entries sit in a queue by last strike so that, past
 * TE_BAN_MANAGER_MAX_ADDRESSES, the one struck longest ago is forgotten in O(1):
 * many addresses can wipe older strikes that way, but memory stays bounded. A
 * strike_decay_us of 0 or less means strikes never expire. */

#define NOT_BANNED G_MININT64

typedef struct {
  char   *address;
  GList   link;           /* in TeBanManager.lru; data is the entry */
  gint64  banned_until;
  guint   n_strikes;
  gint64  strikes[];
} Entry;

struct _TeBanManager {
  guint       max_strikes;
  gint64      ban_duration_us;
  gint64      strike_decay_us;
  GHashTable *entries;     /* address → Entry, owned */
  GQueue      lru;         /* least recently struck first */
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->address);
  g_free (e);
}

TeBanManager *
te_ban_manager_new (guint  max_strikes,
                    gint64 ban_duration_us,
                    gint64 strike_decay_us)
{
  TeBanManager *m = g_new0 (TeBanManager, 1);

  m->max_strikes = MAX (max_strikes, 1);
  m->ban_duration_us = ban_duration_us;
  m->strike_decay_us = strike_decay_us;
  m->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init (&m->lru);
  return m;
}

/* New settings apply to later strikes and bans; current bans keep their end. */
void
te_ban_manager_set_policy (TeBanManager *m,
                           guint         max_strikes,
                           gint64        ban_duration_us)
{
  m->max_strikes = MAX (max_strikes, 1);
  m->ban_duration_us = ban_duration_us;
}

void
te_ban_manager_free (TeBanManager *m)
{
  if (m == NULL)
    return;
  /* The queue links live inside the entries. */
  g_hash_table_unref (m->entries);
  g_free (m);
}

static void
entry_remove (TeBanManager *m,
              Entry        *e)
{
  g_queue_unlink (&m->lru, &e->link);
  g_hash_table_remove (m->entries, e->address);
}

static void
entry_decay (TeBanManager *m,
             Entry        *e,
             gint64        now_us)
{
  guint expired = 0;

  if (m->strike_decay_us <= 0)
    return;
  while (expired < e->n_strikes && now_us - e->strikes[expired] >= m->strike_decay_us)
    expired++;
  if (expired == 0)
    return;
  memmove (e->strikes, e->strikes + expired, (e->n_strikes - expired) * sizeof (gint64));
  e->n_strikes -= expired;
}

static gboolean
entry_banned (const Entry *e,
              gint64       now_us)
{
  return e->banned_until != NOT_BANNED && now_us < e->banned_until;
}

/**
 * te_ban_manager_strike:
 * @reason: what the address did, for the log
 *
 * Returns: `TRUE` when this strike bans @address; `FALSE` when it does not, or
 *   when the address was banned already
 */
gboolean
te_ban_manager_strike (TeBanManager *m,
                       const char   *address,
                       const char   *reason,
                       gint64        now_us)
{
  Entry *e;

  g_return_val_if_fail (m != NULL && address != NULL, FALSE);

  e = g_hash_table_lookup (m->entries, address);
  if (e == NULL)
    {
      if (g_hash_table_size (m->entries) >= TE_BAN_MANAGER_MAX_ADDRESSES)
        entry_remove (m, m->lru.head->data);
      e = g_malloc0 (sizeof (Entry) + m->max_strikes * sizeof (gint64));
      e->address = g_strdup (address);
      e->link.data = e;
      e->banned_until = NOT_BANNED;
      g_hash_table_insert (m->entries, e->address, e);
    }
  else
    g_queue_unlink (&m->lru, &e->link);
  g_queue_push_tail_link (&m->lru, &e->link);

  if (entry_banned (e, now_us))
    return FALSE;
  entry_decay (m, e, now_us);
  e->strikes[e->n_strikes++] = now_us;
  if (e->n_strikes < m->max_strikes)
    return FALSE;

  e->n_strikes = 0;
  e->banned_until = now_us + m->ban_duration_us;
  g_info ("Banned %s for %" G_GINT64_FORMAT " s: %s", address,
          m->ban_duration_us / G_USEC_PER_SEC, reason ? reason : "no reason given");
  return TRUE;
}

gboolean
te_ban_manager_is_banned (TeBanManager *m,
                          const char   *address,
                          gint64        now_us)
{
  Entry *e;

  g_return_val_if_fail (m != NULL && address != NULL, FALSE);

  e = g_hash_table_lookup (m->entries, address);
  return e != NULL && entry_banned (e, now_us);
}

guint
te_ban_manager_get_strikes (TeBanManager *m,
                            const char   *address,
                            gint64        now_us)
{
  Entry *e;

  g_return_val_if_fail (m != NULL && address != NULL, 0);

  e = g_hash_table_lookup (m->entries, address);
  if (e == NULL)
    return 0;
  entry_decay (m, e, now_us);
  return e->n_strikes;
}

/* O(addresses tracked); call it now and then, e.g. once a minute. */
void
te_ban_manager_prune (TeBanManager *m,
                      gint64        now_us)
{
  GList *l, *next;

  g_return_if_fail (m != NULL);

  for (l = m->lru.head; l != NULL; l = next)
    {
      Entry *e = l->data;

      next = l->next;
      entry_decay (m, e, now_us);
      if (!entry_banned (e, now_us) && e->n_strikes == 0)
        entry_remove (m, e);
    }
}
