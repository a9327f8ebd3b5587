/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Most addresses a TeBanManager remembers; past this the least recently struck
 * is forgotten. */
#define TE_BAN_MANAGER_MAX_ADDRESSES 65536

/* Strikes and bans per IP address (text, without port). A strike expires
 * @strike_decay_us after it was given; @max_strikes live strikes ban the address
 * for @ban_duration_us. Time is passed in. */
typedef struct _TeBanManager TeBanManager;

TeBanManager *te_ban_manager_new         (guint          max_strikes,
                                          gint64         ban_duration_us,
                                          gint64         strike_decay_us);
void          te_ban_manager_set_policy  (TeBanManager  *m,
                                          guint          max_strikes,
                                          gint64         ban_duration_us);
void          te_ban_manager_free        (TeBanManager  *m);
gboolean      te_ban_manager_strike      (TeBanManager  *m,
                                          const char    *address,
                                          const char    *reason,
                                          gint64         now_us);
gboolean      te_ban_manager_is_banned   (TeBanManager  *m,
                                          const char    *address,
                                          gint64         now_us);
guint         te_ban_manager_get_strikes (TeBanManager  *m,
                                          const char    *address,
                                          gint64         now_us);
void          te_ban_manager_prune       (TeBanManager  *m,
                                          gint64         now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeBanManager, te_ban_manager_free)

G_END_DECLS
