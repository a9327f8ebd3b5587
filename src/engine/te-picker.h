/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "te-bitfield.h"

G_BEGIN_DECLS

/* Requests are made in blocks of this size; the last block of a piece may be short. */
#define TE_BLOCK_SIZE 16384

/* In endgame a block may be requested from at most this many peers at once. */
#define TE_PICKER_ENDGAME_REQUESTERS 3

/* te_picker_block_received() reports at most this many peers to cancel. */
#define TE_PICKER_MAX_CANCEL 8

typedef struct {
  guint   piece;
  guint32 begin;
  guint32 length;
} TeBlock;

typedef enum {
  TE_PRIORITY_SKIP   = 0,
  TE_PRIORITY_LOW    = 1,
  TE_PRIORITY_NORMAL = 4,
  TE_PRIORITY_HIGH   = 7,
} TePriority;

/* Returns the size in bytes of @piece (never 0). */
typedef guint32 (*TePieceSizeFunc) (guint    piece,
                                    gpointer user_data);

/* The piece picker: which blocks to request from which peer. Pure logic, driven
 * by the peer and torrent code; peers are opaque pointers compared by identity.
 * Randomness comes from a per-picker generator seeded with g_random_int(), so a test
 * makes it deterministic with g_random_set_seed() before te_picker_new(). */
typedef struct _TePicker TePicker;

TePicker *te_picker_new                   (guint              n_pieces,
                                           TePieceSizeFunc    piece_size,
                                           gpointer           user_data);
void      te_picker_free                  (TePicker          *p);

void      te_picker_set_have              (TePicker          *p,
                                           const TeBitfield  *have);
gboolean  te_picker_has                   (TePicker          *p,
                                           guint              piece);
void      te_picker_set_priority          (TePicker          *p,
                                           guint              piece,
                                           TePriority         prio);
void      te_picker_set_sequential        (TePicker          *p,
                                           gboolean           sequential);
gboolean  te_picker_is_complete           (TePicker          *p);

void      te_picker_peer_add_bitfield     (TePicker          *p,
                                           const TeBitfield  *bf);
void      te_picker_peer_remove_bitfield  (TePicker          *p,
                                           const TeBitfield  *bf);
void      te_picker_peer_add_have         (TePicker          *p,
                                           guint              piece);
void      te_picker_peer_add_all          (TePicker          *p);
void      te_picker_peer_remove_all       (TePicker          *p);
guint     te_picker_get_availability      (TePicker          *p,
                                           guint              piece);

guint     te_picker_pick                  (TePicker          *p,
                                           gpointer           peer,
                                           const TeBitfield  *peer_has,
                                           const TeBitfield  *allowed_fast,
                                           gboolean           peer_choking,
                                           TeBlock           *out,
                                           guint              max);
void      te_picker_block_received        (TePicker          *p,
                                           gpointer           peer,
                                           guint              piece,
                                           guint32            begin,
                                           gpointer          *cancel_peers,
                                           guint             *n_cancel,
                                           gboolean          *piece_complete);
gboolean  te_picker_is_requested_by       (TePicker          *p,
                                           gpointer           peer,
                                           guint              piece,
                                           guint32            begin);
void      te_picker_cancel_block          (TePicker          *p,
                                           gpointer           peer,
                                           guint              piece,
                                           guint32            begin);
void      te_picker_peer_gone             (TePicker          *p,
                                           gpointer           peer);
void      te_picker_piece_verified        (TePicker          *p,
                                           guint              piece);
guint     te_picker_piece_failed          (TePicker          *p,
                                           guint              piece);
gboolean  te_picker_in_endgame            (TePicker          *p);
guint     te_picker_count_have            (TePicker          *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TePicker, te_picker_free)

G_END_DECLS
