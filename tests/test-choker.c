/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "te-choker.h"

#define PEER(n)  GUINT_TO_POINTER ((n) + 1)
#define SEC      ((gint64) G_USEC_PER_SEC)
#define NOW      (1000 * SEC)

static void
make_peers (TeChokerPeer *peers,
            guint         n)
{
  for (guint i = 0; i < n; i++)
    peers[i] = (TeChokerPeer) {
      .peer = PEER (i),
      .interested = TRUE,
      .download_rate = 1000 * (i + 1),
      .upload_rate = 1000 * (n - i),
      .connected_at_us = 0,
    };
}

/* Unchoked peers other than the optimistic one. */
static guint
regular_mask (TeChoker     *c,
              TeChokerPeer *peers,
              guint         n)
{
  guint mask = 0;

  for (guint i = 0; i < n; i++)
    if (peers[i].unchoked && peers[i].peer != te_choker_get_optimistic (c))
      mask |= 1u << i;
  return mask;
}

static void
test_top_by_rate (void)
{
  g_autoptr(TeChoker) c = NULL;
  TeChokerPeer peers[10];
  gpointer optimistic;
  guint n_unchoked = 0;

  g_random_set_seed (1);
  c = te_choker_new (4);
  make_peers (peers, 10);
  te_choker_rechoke (c, peers, 10, FALSE, NOW);

  /* Leeching: the four that give us most, by download_rate. */
  g_assert_cmphex (regular_mask (c, peers, 10), ==, 0x3c0);
  optimistic = te_choker_get_optimistic (c);
  g_assert_nonnull (optimistic);
  g_assert_cmpuint (GPOINTER_TO_UINT (optimistic) - 1, <, 6);
  for (guint i = 0; i < 10; i++)
    n_unchoked += peers[i].unchoked;
  g_assert_cmpuint (n_unchoked, ==, 5);
}

static void
test_seeding_by_upload (void)
{
  g_autoptr(TeChoker) c = NULL;
  TeChokerPeer peers[10];

  g_random_set_seed (2);
  c = te_choker_new (4);
  make_peers (peers, 10);
  te_choker_rechoke (c, peers, 10, TRUE, NOW);
  g_assert_cmphex (regular_mask (c, peers, 10), ==, 0x00f);
}

static void
test_snubbed_and_uninterested (void)
{
  g_autoptr(TeChoker) c = NULL;
  TeChokerPeer peers[10];

  g_random_set_seed (3);
  c = te_choker_new (4);
  make_peers (peers, 10);
  peers[9].snubbed = TRUE;          /* fastest, but snubbed */
  peers[8].interested = FALSE;      /* second fastest, not interested */
  peers[0].interested = FALSE;      /* slowest, not interested */
  te_choker_rechoke (c, peers, 10, FALSE, NOW);

  /* Regular: 7, 6, 5, 4. Downloaders rule: 8 is uninterested but faster than
   * the slowest regular peer, so it is unchoked too; 0 is not. */
  g_assert_true (peers[7].unchoked && peers[6].unchoked && peers[5].unchoked && peers[4].unchoked);
  g_assert_true (peers[8].unchoked);
  g_assert_false (peers[0].unchoked);
  if (te_choker_get_optimistic (c) != PEER (9))
    g_assert_false (peers[9].unchoked);
  g_assert_true (te_choker_get_optimistic (c) != PEER (8) && te_choker_get_optimistic (c) != PEER (0));
}

static void
test_optimistic_rotation (void)
{
  g_autoptr(TeChoker) c = NULL;
  TeChokerPeer peers[12];
  gpointer previous = NULL;

  g_random_set_seed (4);
  c = te_choker_new (4);
  make_peers (peers, 12);
  for (guint call = 0; call < 12; call++)
    {
      gpointer now;

      te_choker_rechoke (c, peers, 12, FALSE, NOW + call * 10 * SEC);
      now = te_choker_get_optimistic (c);
      g_assert_nonnull (now);
      if (call % 3 == 0)
        g_assert_true (now != previous);
      else
        g_assert_true (now == previous);
      for (guint i = 0; i < 12; i++)
        if (peers[i].peer == now)
          g_assert_true (peers[i].unchoked);
      previous = now;
    }

  /* The optimistic peer leaves: replaced at the next call, rotation round or not. */
  te_choker_peer_gone (c, previous);
  g_assert_null (te_choker_get_optimistic (c));
  for (guint i = 0; i < 12; i++)
    if (peers[i].peer == previous)
      peers[i].interested = FALSE;
  te_choker_rechoke (c, peers, 12, FALSE, NOW + 200 * SEC);
  g_assert_nonnull (te_choker_get_optimistic (c));
  g_assert_true (te_choker_get_optimistic (c) != previous);
}

static void
test_new_peers_preferred (void)
{
  g_autoptr(TeChoker) c = NULL;
  TeChokerPeer peers[15];
  guint counts[15] = { 0 };
  guint old_total = 0;
  const guint rounds = 3000;

  g_random_set_seed (5);
  c = te_choker_new (4);
  make_peers (peers, 15);
  /* Peers 0..9 compete for the optimistic slot; 10 is new, 11..14 are regular. */
  peers[10].download_rate = 0;
  peers[10].connected_at_us = NOW - 30 * SEC;
  for (guint r = 0; r < rounds; r++)
    {
      te_choker_rechoke (c, peers, 15, FALSE, NOW);
      for (guint i = 0; i < 15; i++)
        if (peers[i].peer == te_choker_get_optimistic (c))
          counts[i]++;
      te_choker_rechoke (c, peers, 15, FALSE, NOW);
      te_choker_rechoke (c, peers, 15, FALSE, NOW);
    }
  for (guint i = 0; i < 10; i++)
    old_total += counts[i];
  for (guint i = 11; i < 15; i++)
    g_assert_cmpuint (counts[i], ==, 0);
  g_assert_cmpuint (old_total + counts[10], ==, rounds);
  /* Weight 3 against 1 for each of ten old peers: about 3/13 of the rounds,
   * three times an old peer's share. */
  g_assert_cmpuint (counts[10], >, rounds / 6);
  g_assert_cmpuint (counts[10] * 10, >, 2 * old_total);
}

static void
test_few_peers (void)
{
  g_autoptr(TeChoker) c = te_choker_new (4);
  TeChokerPeer peers[2];

  te_choker_rechoke (c, NULL, 0, FALSE, NOW);
  g_assert_null (te_choker_get_optimistic (c));
  make_peers (peers, 2);
  te_choker_rechoke (c, peers, 2, FALSE, NOW);
  g_assert_true (peers[0].unchoked && peers[1].unchoked);
  g_assert_null (te_choker_get_optimistic (c));
}

static TeBitfield *
full_except (guint n,
             guint missing)
{
  TeBitfield *bf = te_bitfield_new (n);

  te_bitfield_set_all (bf);
  if (missing < n)
    te_bitfield_set (bf, missing, FALSE);
  return bf;
}

static void
test_super_seed (void)
{
  g_autoptr(TeSuperSeed) s = NULL;
  g_autoptr(TeBitfield) has_nothing = te_bitfield_new (8);
  guint a, b, c2, next;

  g_random_set_seed (6);
  s = te_super_seed_new (8);
  /* Pieces 0..5 are already in the swarm: offers go to 6 and 7. */
  for (guint i = 0; i < 6; i++)
    te_super_seed_peer_has (s, PEER (9), i);

  a = te_super_seed_offer (s, PEER (0), has_nothing);
  b = te_super_seed_offer (s, PEER (1), NULL);
  g_assert_cmpuint (a, >=, 6);
  g_assert_cmpuint (b, >=, 6);
  g_assert_cmpuint (a, !=, b);

  /* No new offer until the piece is seen elsewhere; the peer's own HAVE does not count. */
  g_assert_cmpuint (te_super_seed_offer (s, PEER (0), has_nothing), ==, G_MAXUINT);
  te_super_seed_peer_has (s, PEER (0), a);
  g_assert_cmpuint (te_super_seed_offer (s, PEER (0), has_nothing), ==, G_MAXUINT);
  te_super_seed_peer_has (s, PEER (2), a);
  {
    g_autoptr(TeBitfield) has_a = full_except (8, G_MAXUINT);

    for (guint i = 0; i < 8; i++)
      te_bitfield_set (has_a, i, i == a);
    next = te_super_seed_offer (s, PEER (0), has_a);
  }
  g_assert_cmpuint (next, !=, G_MAXUINT);
  g_assert_cmpuint (next, !=, a);
  g_assert_cmpuint (next, !=, b);
  g_assert_cmpuint (next, <, 6);   /* the least seen of what is left */

  /* A peer that has everything but one piece is offered that piece. */
  {
    g_autoptr(TeBitfield) lacks_3 = full_except (8, 3);

    c2 = te_super_seed_offer (s, PEER (3), lacks_3);
    g_assert_cmpuint (c2, ==, 3);
  }
  {
    g_autoptr(TeBitfield) full = full_except (8, G_MAXUINT);

    g_assert_cmpuint (te_super_seed_offer (s, PEER (4), full), ==, G_MAXUINT);
  }

  /* A peer leaving frees its piece for the next one. */
  te_super_seed_peer_gone (s, PEER (1));
  te_super_seed_peer_gone (s, PEER (42));
  {
    g_autoptr(TeBitfield) only_b_missing = full_except (8, b);

    g_assert_cmpuint (te_super_seed_offer (s, PEER (5), only_b_missing), ==, b);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/choker/top-by-rate", test_top_by_rate);
  g_test_add_func ("/te/choker/seeding-by-upload", test_seeding_by_upload);
  g_test_add_func ("/te/choker/snubbed-and-uninterested", test_snubbed_and_uninterested);
  g_test_add_func ("/te/choker/optimistic-rotation", test_optimistic_rotation);
  g_test_add_func ("/te/choker/new-peers-preferred", test_new_peers_preferred);
  g_test_add_func ("/te/choker/few-peers", test_few_peers);
  g_test_add_func ("/te/choker/super-seed", test_super_seed);

  return g_test_run ();
}
