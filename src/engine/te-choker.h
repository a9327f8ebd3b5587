/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "te-bitfield.h"

G_BEGIN_DECLS

/* What the choker needs to know about one connected peer. Rates are bytes per
 * second: @download_rate is what the peer gives us, @upload_rate what we give it.
 * @unchoked is the output of te_choker_rechoke(). */
typedef struct {
  gpointer peer;
  gboolean interested;
  gboolean snubbed;
  guint64  download_rate;
  guint64  upload_rate;
  gint64   connected_at_us;
  gboolean unchoked;
} TeChokerPeer;

/* BEP 3 tit-for-tat. Randomness comes from a per-object TeRand seeded with
 * g_random_int(): g_random_set_seed() before te_choker_new() makes it repeatable. */
typedef struct _TeChoker TeChoker;

TeChoker *te_choker_new            (guint          regular_slots);
void      te_choker_free           (TeChoker      *c);
void      te_choker_rechoke        (TeChoker      *c,
                                    TeChokerPeer  *peers,
                                    guint          n_peers,
                                    gboolean       seeding,
                                    gint64         now_us);
gpointer  te_choker_get_optimistic (TeChoker      *c);
void      te_choker_peer_gone      (TeChoker      *c,
                                    gpointer       peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeChoker, te_choker_free)

/* BEP 16 super-seeding: which piece to advertise to each peer. */
typedef struct _TeSuperSeed TeSuperSeed;

TeSuperSeed *te_super_seed_new       (guint              n_pieces);
void         te_super_seed_free      (TeSuperSeed       *s);
guint        te_super_seed_offer     (TeSuperSeed       *s,
                                      gpointer           peer,
                                      const TeBitfield  *peer_has);
void         te_super_seed_peer_has  (TeSuperSeed       *s,
                                      gpointer           peer,
                                      guint              piece);
void         te_super_seed_peer_gone (TeSuperSeed       *s,
                                      gpointer           peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeSuperSeed, te_super_seed_free)

G_END_DECLS
