/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "te-picker.h"

#define PEER(n) GUINT_TO_POINTER (n)

typedef struct {
  guint32 piece_length;
  guint64 total;
} Layout;

static guint32
layout_size (guint    piece,
             gpointer user_data)
{
  const Layout *l = user_data;
  guint64 start = (guint64) piece * l->piece_length;

  return (guint32) MIN ((guint64) l->piece_length, l->total - start);
}

static guint
n_pieces_of (const Layout *l)
{
  return (guint) ((l->total + l->piece_length - 1) / l->piece_length);
}

static TeBitfield *
bitfield_with (guint        n,
               const guint *pieces,
               guint        n_set)
{
  TeBitfield *bf = te_bitfield_new (n);

  for (guint i = 0; i < n_set; i++)
    te_bitfield_set (bf, pieces[i], TRUE);
  return bf;
}

static TeBitfield *
bitfield_full (guint n)
{
  TeBitfield *bf = te_bitfield_new (n);

  te_bitfield_set_all (bf);
  return bf;
}

/* Marks every block of @piece received, as if @peer sent them. */
static gboolean
receive_piece (TePicker *p,
               gpointer  peer,
               guint     piece,
               guint32   size)
{
  gboolean complete = FALSE;

  for (guint32 begin = 0; begin < size; begin += TE_BLOCK_SIZE)
    te_picker_block_received (p, peer, piece, begin, NULL, NULL, &complete);
  return complete;
}

static void
test_block_sizes (void)
{
  /* 40000-byte pieces, 170000 bytes: four full pieces and one of 10000. */
  Layout l = { 40000, 170000 };
  g_autoptr(TePicker) p = te_picker_new (n_pieces_of (&l), layout_size, &l);
  TeBlock out[64];
  guint64 total = 0;
  guint n;

  te_picker_set_sequential (p, TRUE);
  n = te_picker_pick (p, PEER (1), NULL, NULL, FALSE, out, G_N_ELEMENTS (out));
  g_assert_cmpuint (n, ==, 4 * 3 + 1);
  for (guint i = 0; i < n; i++)
    {
      guint j = i % 3;

      g_assert_cmpuint (out[i].piece, ==, i / 3);
      g_assert_cmpuint (out[i].begin, ==, j * TE_BLOCK_SIZE);
      if (out[i].piece == 4)
        g_assert_cmpuint (out[i].length, ==, 10000);
      else
        g_assert_cmpuint (out[i].length, ==, j < 2 ? TE_BLOCK_SIZE : 40000 - 2 * TE_BLOCK_SIZE);
      total += out[i].length;
    }
  g_assert_cmpuint (total, ==, l.total);
}

static const guint32 uneven_sizes[] = { 32768, 16385, 100, 50000, 16384 };

static guint32
uneven_size (guint    piece,
             gpointer user_data)
{
  return uneven_sizes[piece];
}

static void
test_uneven_pieces (void)
{
  g_autoptr(TePicker) p = te_picker_new (G_N_ELEMENTS (uneven_sizes), uneven_size, NULL);
  guint32 seen[G_N_ELEMENTS (uneven_sizes)] = { 0 };
  guint n_blocks[G_N_ELEMENTS (uneven_sizes)] = { 0 };
  TeBlock out[32];
  guint n;

  n = te_picker_pick (p, PEER (1), NULL, NULL, FALSE, out, G_N_ELEMENTS (out));
  g_assert_cmpuint (n, ==, 2 + 2 + 1 + 4 + 1);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (out[i].begin % TE_BLOCK_SIZE, ==, 0);
      g_assert_cmpuint (out[i].begin + out[i].length, <=, uneven_sizes[out[i].piece]);
      seen[out[i].piece] += out[i].length;
      n_blocks[out[i].piece]++;
    }
  for (guint i = 0; i < G_N_ELEMENTS (uneven_sizes); i++)
    g_assert_cmpuint (seen[i], ==, uneven_sizes[i]);
  g_assert_cmpuint (n_blocks[1], ==, 2);   /* 16384 + 1 */
  g_assert_cmpuint (n_blocks[3], ==, 4);   /* 3 * 16384 + 848 */

  g_assert_true (receive_piece (p, PEER (1), 2, 100));
  g_assert_true (receive_piece (p, PEER (1), 1, 16385));
}

/* One block per piece: piece i has availability avail[i]. */
static Layout one_block = { TE_BLOCK_SIZE, 0 };

static TePicker *
picker_with_availability (guint        n,
                          const guint *special,
                          const guint *special_avail,
                          guint        n_special,
                          guint        base_avail)
{
  TePicker *p;

  one_block.total = (guint64) n * TE_BLOCK_SIZE;
  p = te_picker_new (n, layout_size, &one_block);
  for (guint peer = 0; peer < base_avail; peer++)
    {
      g_autoptr(TeBitfield) bf = bitfield_full (n);

      for (guint s = 0; s < n_special; s++)
        if (peer >= special_avail[s])
          te_bitfield_set (bf, special[s], FALSE);
      te_picker_peer_add_bitfield (p, bf);
    }
  for (guint s = 0; s < n_special; s++)
    g_assert_cmpuint (te_picker_get_availability (p, special[s]), ==, special_avail[s]);
  return p;
}

static guint
pick_one (TePicker         *p,
          gpointer          peer,
          const TeBitfield *peer_has)
{
  TeBlock block;

  if (te_picker_pick (p, peer, peer_has, NULL, FALSE, &block, 1) != 1)
    return G_MAXUINT;
  return block.piece;
}

static void
test_random_then_rarest (void)
{
  const guint special[] = { 17, 500, 900 };
  const guint avail[] = { 1, 2, 3 };
  guint firsts_rarest = 0;
  g_autoptr(GHashTable) firsts = g_hash_table_new (NULL, NULL);

  /* Fewer than four pieces had: random, so across pickers the first piece varies
   * and is seldom the rarest. */
  for (guint seed = 0; seed < 20; seed++)
    {
      g_autoptr(TePicker) p = NULL;
      guint piece;

      g_random_set_seed (seed);
      p = picker_with_availability (1000, special, avail, 3, 5);
      piece = pick_one (p, PEER (1), NULL);
      g_assert_cmpuint (piece, <, 1000);
      firsts_rarest += piece == 17;
      g_hash_table_add (firsts, GUINT_TO_POINTER (piece));
    }
  g_assert_cmpuint (firsts_rarest, <, 5);
  g_assert_cmpuint (g_hash_table_size (firsts), >, 10);

  /* Four pieces had: rarest first, whatever the seed. */
  for (guint seed = 0; seed < 5; seed++)
    {
      g_autoptr(TePicker) p = NULL;

      g_random_set_seed (seed);
      p = picker_with_availability (1000, special, avail, 3, 5);
      for (guint i = 0; i < 4; i++)
        {
          guint piece = pick_one (p, PEER (1), NULL);

          g_assert_true (receive_piece (p, PEER (1), piece, TE_BLOCK_SIZE));
          te_picker_piece_verified (p, piece);
        }
      g_assert_cmpuint (te_picker_count_have (p), ==, 4);
      if (te_picker_has (p, 17) || te_picker_has (p, 500) || te_picker_has (p, 900))
        continue;
      g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 17);
      g_assert_cmpuint (pick_one (p, PEER (2), NULL), ==, 500);
      g_assert_cmpuint (pick_one (p, PEER (3), NULL), ==, 900);
      g_assert_cmpuint (te_picker_get_availability (p, 900), ==, 3);
      te_picker_peer_add_all (p);
      g_assert_cmpuint (te_picker_get_availability (p, 900), ==, 4);
      te_picker_peer_remove_all (p);
    }
}

/* Leaves the random-first phase. */
static void
have_first (TePicker *p,
            guint     n)
{
  for (guint i = 0; i < n; i++)
    te_picker_piece_verified (p, i);
}

/* A peer with few pieces goes through the bitmap path, not the scan. */
static void
test_rarest_sparse_peer (void)
{
  const guint special[] = { 7000, 8000, 9000 };
  const guint avail[] = { 3, 1, 2 };
  g_autoptr(TePicker) p = NULL;
  g_autoptr(TeBitfield) sparse = bitfield_with (10000, special, 3);

  g_random_set_seed (42);
  p = picker_with_availability (10000, special, avail, 3, 4);
  /* Make the three special pieces the most common ones, for the scan to miss. */
  for (guint i = 0; i < 40; i++)
    te_picker_peer_add_bitfield (p, sparse);
  have_first (p, 4);
  g_assert_cmpuint (pick_one (p, PEER (1), sparse), ==, 8000);
  g_assert_cmpuint (pick_one (p, PEER (1), sparse), ==, 9000);
  g_assert_cmpuint (pick_one (p, PEER (1), sparse), ==, 7000);
  g_assert_cmpuint (pick_one (p, PEER (1), sparse), ==, G_MAXUINT);

  te_picker_peer_remove_bitfield (p, sparse);
  g_assert_cmpuint (te_picker_get_availability (p, 8000), ==, 40);
}

static void
test_ties_per_picker (void)
{
  guint a[4], b[4];
  gboolean differ = FALSE;

  for (guint seed = 1; seed <= 4; seed++)
    for (guint round = 0; round < 2; round++)
      {
        g_autoptr(TePicker) p = NULL;

        g_random_set_seed (seed);
        p = picker_with_availability (1000, NULL, NULL, 0, 3);
        have_first (p, 4);
        (round == 0 ? a : b)[seed - 1] = pick_one (p, PEER (1), NULL);
      }
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpuint (a[i], ==, b[i]);
      differ |= a[i] != a[0];
    }
  g_assert_true (differ);
}

static void
test_priorities (void)
{
  const guint special[] = { 50, 9 };
  const guint avail[] = { 1, 6 };
  g_autoptr(TePicker) p = NULL;
  guint n = 200;

  g_random_set_seed (7);
  p = picker_with_availability (n, special, avail, 2, 6);
  have_first (p, 4);
  te_picker_set_priority (p, 9, TE_PRIORITY_HIGH);
  te_picker_set_priority (p, 50, TE_PRIORITY_LOW);
  for (guint i = 100; i < n; i++)
    te_picker_set_priority (p, i, TE_PRIORITY_SKIP);

  /* HIGH beats a rarer NORMAL piece; LOW comes after every NORMAL one. */
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 9);
  for (guint i = 0; i < 100 - 4 - 2; i++)
    {
      guint piece = pick_one (p, PEER (1), NULL);

      g_assert_cmpuint (piece, <, 100);
      g_assert_cmpuint (piece, !=, 50);
    }
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 50);
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, G_MAXUINT);

  g_assert_false (te_picker_is_complete (p));
  for (guint i = 4; i < 100; i++)
    {
      g_assert_true (receive_piece (p, PEER (1), i, TE_BLOCK_SIZE));
      te_picker_piece_verified (p, i);
    }
  g_assert_true (te_picker_is_complete (p));
  g_assert_cmpuint (te_picker_count_have (p), ==, 100);

  /* Wanting a skipped piece again makes it pickable. */
  te_picker_set_priority (p, 150, TE_PRIORITY_NORMAL);
  g_assert_false (te_picker_is_complete (p));
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 150);
}

static void
test_partial_first (void)
{
  Layout l = { 4 * TE_BLOCK_SIZE, 100 * 4 * TE_BLOCK_SIZE };
  g_autoptr(TePicker) p = te_picker_new (n_pieces_of (&l), layout_size, &l);
  TeBlock out[4];
  guint almost, barely;

  g_autoptr(TeBitfield) not_almost = bitfield_full (100);
  TeBlock first[4];

  /* Piece "almost": 3 of 4 blocks in. Piece "barely": 1 of 4. */
  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, first, 4), ==, 4);
  almost = first[0].piece;
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (first[i].piece, ==, almost);
  te_bitfield_set (not_almost, almost, FALSE);
  g_assert_cmpuint (te_picker_pick (p, PEER (1), not_almost, NULL, FALSE, out, 4), ==, 4);
  barely = out[0].piece;
  g_assert_cmpuint (barely, !=, almost);

  for (guint i = 0; i < 3; i++)
    te_picker_block_received (p, PEER (1), almost, first[i].begin, NULL, NULL, NULL);
  te_picker_cancel_block (p, PEER (1), almost, first[3].begin);
  te_picker_block_received (p, PEER (1), barely, out[0].begin, NULL, NULL, NULL);
  for (guint i = 1; i < 4; i++)
    te_picker_cancel_block (p, PEER (1), barely, out[i].begin);

  /* Another peer continues "almost" first, then "barely", then something new. */
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, NULL, FALSE, out, 1), ==, 1);
  g_assert_cmpuint (out[0].piece, ==, almost);
  g_assert_cmpuint (out[0].begin, ==, 3 * TE_BLOCK_SIZE);
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, NULL, FALSE, out, 4), ==, 4);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (out[i].piece, ==, barely);
  g_assert_cmpuint (out[3].piece, !=, barely);
  g_assert_cmpuint (out[3].piece, !=, almost);
}

static void
test_sequential (void)
{
  const guint missing[] = { 0 };
  g_autoptr(TePicker) p = NULL;
  g_autoptr(TeBitfield) lacks_first = bitfield_full (50);

  one_block.total = 50 * TE_BLOCK_SIZE;
  p = te_picker_new (50, layout_size, &one_block);
  te_bitfield_set (lacks_first, missing[0], FALSE);
  te_picker_set_sequential (p, TRUE);
  te_picker_peer_add_have (p, 40);   /* rarity does not matter */

  g_assert_cmpuint (pick_one (p, PEER (1), lacks_first), ==, 1);
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 0);
  for (guint i = 2; i < 10; i++)
    g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, i);
  te_picker_set_priority (p, 30, TE_PRIORITY_HIGH);
  te_picker_set_priority (p, 10, TE_PRIORITY_SKIP);
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 30);
  g_assert_cmpuint (pick_one (p, PEER (1), NULL), ==, 11);
}

static void
test_endgame (void)
{
  Layout l = { 2 * TE_BLOCK_SIZE, 3 * 2 * TE_BLOCK_SIZE };
  g_autoptr(TePicker) p = te_picker_new (3, layout_size, &l);
  TeBlock out[16], dup[16];
  gpointer cancel[TE_PICKER_MAX_CANCEL];
  guint n_cancel = 99;
  gboolean complete = TRUE;

  g_assert_false (te_picker_in_endgame (p));
  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, out, 5), ==, 5);
  g_assert_false (te_picker_in_endgame (p));
  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, out + 5, 16), ==, 1);
  g_assert_true (te_picker_in_endgame (p));

  /* Never twice to the same peer; up to three peers per block. */
  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, dup, 16), ==, 0);
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, NULL, FALSE, dup, 16), ==, 6);
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, NULL, FALSE, dup, 16), ==, 0);
  g_assert_cmpuint (te_picker_pick (p, PEER (3), NULL, NULL, FALSE, dup, 16), ==, 6);
  g_assert_cmpuint (te_picker_pick (p, PEER (4), NULL, NULL, FALSE, dup, 16), ==, 0);
  for (guint i = 0; i < 6; i++)
    for (guint peer = 1; peer <= 3; peer++)
      g_assert_true (te_picker_is_requested_by (p, PEER (peer), out[i].piece, out[i].begin));

  /* The block arrives from peer 2: cancel it at 1 and 3. */
  te_picker_block_received (p, PEER (2), out[0].piece, out[0].begin, cancel, &n_cancel, &complete);
  g_assert_cmpuint (n_cancel, ==, 2);
  g_assert_false (complete);
  g_assert_true ((cancel[0] == PEER (1) && cancel[1] == PEER (3)) ||
                 (cancel[0] == PEER (3) && cancel[1] == PEER (1)));
  for (guint peer = 1; peer <= 3; peer++)
    g_assert_false (te_picker_is_requested_by (p, PEER (peer), out[0].piece, out[0].begin));
  g_assert_cmpuint (te_picker_pick (p, PEER (4), NULL, NULL, FALSE, dup, 16), ==, 0);

  /* Every requester of a block gives up: it is free again, endgame is over. */
  for (guint peer = 1; peer <= 3; peer++)
    te_picker_cancel_block (p, PEER (peer), out[1].piece, out[1].begin);
  g_assert_false (te_picker_in_endgame (p));
  g_assert_cmpuint (te_picker_pick (p, PEER (4), NULL, NULL, FALSE, dup, 1), ==, 1);
  g_assert_cmpuint (dup[0].piece, ==, out[1].piece);
  g_assert_cmpuint (dup[0].begin, ==, out[1].begin);
  g_assert_true (te_picker_in_endgame (p));
}

static void
test_peer_gone (void)
{
  Layout l = { 4 * TE_BLOCK_SIZE, 10 * 4 * TE_BLOCK_SIZE };
  g_autoptr(TePicker) p = te_picker_new (10, layout_size, &l);
  TeBlock a[8], b[8];

  te_picker_set_sequential (p, TRUE);
  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, a, 6), ==, 6);
  te_picker_block_received (p, PEER (1), a[0].piece, a[0].begin, NULL, NULL, NULL);
  te_picker_peer_gone (p, PEER (1));
  for (guint i = 0; i < 6; i++)
    g_assert_false (te_picker_is_requested_by (p, PEER (1), a[i].piece, a[i].begin));

  /* The five outstanding blocks come back, the partial piece first. */
  g_assert_cmpuint (a[0].piece, ==, 0);
  g_assert_cmpuint (a[4].piece, ==, 1);
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, NULL, FALSE, b, 5), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_cmpuint (b[i].piece, ==, a[i + 1].piece);
      g_assert_cmpuint (b[i].begin, ==, a[i + 1].begin);
      g_assert_true (te_picker_is_requested_by (p, PEER (2), b[i].piece, b[i].begin));
    }
}

static void
test_piece_failed (void)
{
  Layout l = { 3 * TE_BLOCK_SIZE, 8 * 3 * TE_BLOCK_SIZE };
  g_autoptr(TePicker) p = te_picker_new (8, layout_size, &l);
  TeBlock out[3];
  gboolean complete = FALSE;
  guint piece;

  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, out, 3), ==, 3);
  piece = out[0].piece;
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpuint (out[i].piece, ==, piece);
      g_assert_false (complete);
      te_picker_block_received (p, PEER (1), piece, out[i].begin, NULL, NULL, &complete);
    }
  g_assert_true (complete);
  /* A duplicate block changes nothing. */
  te_picker_block_received (p, PEER (1), piece, out[0].begin, NULL, NULL, &complete);
  g_assert_false (complete);

  for (guint round = 1; round <= 2; round++)
    {
      g_autoptr(TeBitfield) only = bitfield_with (8, &piece, 1);
      TeBlock again[3];

      g_assert_cmpuint (te_picker_piece_failed (p, piece), ==, round);
      g_assert_cmpuint (te_picker_pick (p, PEER (2), only, NULL, FALSE, again, 3), ==, 3);
      for (guint i = 0; i < 3; i++)
        g_assert_cmpuint (again[i].piece, ==, piece);
      g_assert_true (receive_piece (p, PEER (2), piece, l.piece_length));
    }
  g_assert_false (te_picker_has (p, piece));
  te_picker_piece_verified (p, piece);
  g_assert_true (te_picker_has (p, piece));
  g_assert_cmpuint (te_picker_count_have (p), ==, 1);
  g_assert_cmpuint (te_picker_piece_failed (p, (piece + 1) % 8), ==, 1);
}

/* A complete picker keeps only what it needs to come back: availability,
 * priorities and have. Whatever makes a piece wanted again brings the rest. */
static void
test_complete_and_back (void)
{
  Layout l = { 2 * TE_BLOCK_SIZE, 6 * 2 * TE_BLOCK_SIZE };
  g_autoptr(TePicker) p = te_picker_new (6, layout_size, &l);
  g_autoptr(TeBitfield) all = bitfield_full (6);
  guint peer1[] = { 1, 2 }, missing[] = { 0, 1, 3, 5 }, one[] = { 2 };
  g_autoptr(TeBitfield) has1 = bitfield_with (6, peer1, G_N_ELEMENTS (peer1));
  g_autoptr(TeBitfield) most = bitfield_with (6, missing, G_N_ELEMENTS (missing));
  g_autoptr(TeBitfield) only2 = bitfield_with (6, one, 1);
  TeBlock out[16];
  gboolean complete = TRUE;
  guint n;

  te_picker_set_have (p, all);
  g_assert_true (te_picker_is_complete (p));
  g_assert_false (te_picker_in_endgame (p));
  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, FALSE, out, 16), ==, 0);

  /* Peers come and go while it is complete. */
  te_picker_peer_add_bitfield (p, has1);
  te_picker_peer_add_have (p, 3);
  te_picker_peer_add_have (p, 2);
  te_picker_peer_add_all (p);
  te_picker_set_priority (p, 4, TE_PRIORITY_HIGH);
  te_picker_set_priority (p, 0, TE_PRIORITY_SKIP);
  g_assert_true (te_picker_is_complete (p));
  g_assert_cmpuint (te_picker_get_availability (p, 0), ==, 1);
  g_assert_cmpuint (te_picker_get_availability (p, 2), ==, 3);
  g_assert_cmpuint (te_picker_get_availability (p, 3), ==, 2);

  /* Pieces 2 and 4 are lost (a recheck): wanted again, in priority order. */
  te_picker_set_have (p, most);
  g_assert_false (te_picker_is_complete (p));
  g_assert_cmpuint (te_picker_count_have (p), ==, 4);
  n = te_picker_pick (p, PEER (2), NULL, NULL, FALSE, out, 16);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpuint (out[0].piece, ==, 4);
  g_assert_cmpuint (out[1].piece, ==, 4);
  g_assert_cmpuint (out[2].piece, ==, 2);
  g_assert_true (te_picker_in_endgame (p));
  g_assert_true (receive_piece (p, PEER (2), 4, l.piece_length));
  te_picker_piece_verified (p, 4);
  g_assert_false (te_picker_is_complete (p));
  g_assert_true (receive_piece (p, PEER (2), 2, l.piece_length));
  te_picker_piece_verified (p, 2);
  g_assert_true (te_picker_is_complete (p));
  g_assert_cmpuint (te_picker_pick (p, PEER (1), has1, NULL, FALSE, out, 16), ==, 0);
  g_assert_cmpuint (te_picker_get_availability (p, 2), ==, 3);

  /* A skipped piece made wanted again is fetched. */
  te_picker_peer_remove_bitfield (p, has1);
  te_picker_set_have (p, most);
  te_picker_set_priority (p, 2, TE_PRIORITY_SKIP);
  te_picker_set_priority (p, 4, TE_PRIORITY_SKIP);
  g_assert_true (te_picker_is_complete (p));
  te_picker_set_priority (p, 2, TE_PRIORITY_LOW);
  g_assert_false (te_picker_is_complete (p));
  g_assert_cmpuint (te_picker_get_availability (p, 2), ==, 2);
  n = te_picker_pick (p, PEER (3), only2, NULL, FALSE, out, 16);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (out[0].piece, ==, 2);

  /* The data turns out to be there after all: the piece in flight is dropped
   * and late blocks for it are ignored. */
  te_picker_set_have (p, all);
  g_assert_true (te_picker_is_complete (p));
  te_picker_block_received (p, PEER (3), 2, 0, NULL, NULL, &complete);
  g_assert_false (complete);
  g_assert_false (te_picker_is_requested_by (p, PEER (3), 2, 0));
  te_picker_cancel_block (p, PEER (3), 2, TE_BLOCK_SIZE);
  te_picker_peer_gone (p, PEER (3));
  g_assert_cmpuint (te_picker_piece_failed (p, 2), ==, 1);
  g_assert_true (te_picker_is_complete (p));
}

static void
test_allowed_fast (void)
{
  const guint fast[] = { 5, 9 };
  g_autoptr(TePicker) p = NULL;
  g_autoptr(TeBitfield) allowed = bitfield_with (100, fast, 2);
  g_autoptr(TeBitfield) peer_has = bitfield_full (100);
  TeBlock out[8];
  guint n;

  one_block.total = 100 * TE_BLOCK_SIZE;
  p = te_picker_new (100, layout_size, &one_block);
  te_bitfield_set (peer_has, 9, FALSE);

  g_assert_cmpuint (te_picker_pick (p, PEER (1), NULL, NULL, TRUE, out, 8), ==, 0);
  n = te_picker_pick (p, PEER (1), peer_has, allowed, TRUE, out, 8);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].piece, ==, 5);
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, allowed, TRUE, out, 8), ==, 1);
  g_assert_cmpuint (out[0].piece, ==, 9);
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, allowed, TRUE, out, 8), ==, 0);
  /* Unchoked, the allowed-fast set no longer limits. */
  g_assert_cmpuint (te_picker_pick (p, PEER (2), NULL, allowed, FALSE, out, 8), ==, 8);
}

/* 65536 pieces, 50 peers with random bitfields: every block is handed out once
 * until endgame and the counters agree. Not timed: see te-picker.c for the cost. */
static void
test_many_peers (void)
{
  const guint n = 65536, n_peers = 50;
  g_autoptr(TePicker) p = NULL;
  g_autoptr(GPtrArray) has = g_ptr_array_new_with_free_func ((GDestroyNotify) te_bitfield_free);
  g_autoptr(GHashTable) handed = g_hash_table_new (NULL, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  TeBlock out[16];
  guint received = 0;

  g_random_set_seed (3);
  one_block.total = (guint64) n * TE_BLOCK_SIZE;
  p = te_picker_new (n, layout_size, &one_block);
  for (guint peer = 0; peer < n_peers; peer++)
    {
      TeBitfield *bf = te_bitfield_new (n);

      for (guint i = 0; i < n; i++)
        if ((guint) g_rand_int_range (rand, 0, 100) < 5 + peer)
          te_bitfield_set (bf, i, TRUE);
      te_picker_peer_add_bitfield (p, bf);
      g_ptr_array_add (has, bf);
    }
  for (guint round = 0; round < 2000; round++)
    {
      guint peer = g_rand_int_range (rand, 0, n_peers);
      guint got = te_picker_pick (p, PEER (peer + 1), has->pdata[peer], NULL, FALSE, out, 16);

      g_assert_cmpuint (got, >, 0);
      for (guint i = 0; i < got; i++)
        {
          gboolean complete;

          g_assert_true (te_bitfield_get (has->pdata[peer], out[i].piece));
          g_assert_false (g_hash_table_contains (handed, GUINT_TO_POINTER (out[i].piece)));
          g_hash_table_add (handed, GUINT_TO_POINTER (out[i].piece));
          if (i % 2 == 0)
            {
              te_picker_block_received (p, PEER (peer + 1), out[i].piece, 0, NULL, NULL, &complete);
              g_assert_true (complete);
              te_picker_piece_verified (p, out[i].piece);
              received++;
            }
        }
    }
  g_assert_cmpuint (te_picker_count_have (p), ==, received);
  g_assert_false (te_picker_in_endgame (p));
  for (guint peer = 0; peer < n_peers; peer++)
    {
      te_picker_peer_gone (p, PEER (peer + 1));
      te_picker_peer_remove_bitfield (p, has->pdata[peer]);
    }
  for (guint i = 0; i < n; i += 97)
    g_assert_cmpuint (te_picker_get_availability (p, i), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/picker/block-sizes", test_block_sizes);
  g_test_add_func ("/te/picker/uneven-pieces", test_uneven_pieces);
  g_test_add_func ("/te/picker/random-then-rarest", test_random_then_rarest);
  g_test_add_func ("/te/picker/rarest-sparse-peer", test_rarest_sparse_peer);
  g_test_add_func ("/te/picker/ties-per-picker", test_ties_per_picker);
  g_test_add_func ("/te/picker/priorities", test_priorities);
  g_test_add_func ("/te/picker/partial-first", test_partial_first);
  g_test_add_func ("/te/picker/sequential", test_sequential);
  g_test_add_func ("/te/picker/endgame", test_endgame);
  g_test_add_func ("/te/picker/peer-gone", test_peer_gone);
  g_test_add_func ("/te/picker/piece-failed", test_piece_failed);
  g_test_add_func ("/te/picker/allowed-fast", test_allowed_fast);
  g_test_add_func ("/te/picker/complete-and-back", test_complete_and_back);
  g_test_add_func ("/te/picker/many-peers", test_many_peers);

  return g_test_run ();
}
