/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "te-hash.h"

/* FIPS 180 test vectors */
#define ABC          "abc"
#define TWO_BLOCKS   "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static void
assert_hex (const guint8 *digest,
            gsize         len,
            const char   *expected)
{
  g_autofree char *hex = te_hex_encode (digest, len);

  g_assert_cmpstr (hex, ==, expected);
}

static void
hash_pair (const guint8 *left,
           const guint8 *right,
           guint8        out[TE_SHA256_LEN])
{
  guint8 pair[2 * TE_SHA256_LEN];

  memcpy (pair, left, TE_SHA256_LEN);
  memcpy (pair + TE_SHA256_LEN, right, TE_SHA256_LEN);
  te_sha256 (pair, sizeof pair, out);
}

static void
test_sha1 (void)
{
  guint8 digest[TE_SHA1_LEN];

  te_sha1 (ABC, strlen (ABC), digest);
  assert_hex (digest, sizeof digest, "a9993e364706816aba3e25717850c26c9cd0d89d");

  te_sha1 ("", 0, digest);
  assert_hex (digest, sizeof digest, "da39a3ee5e6b4b0d3255bfef95601890afd80709");

  te_sha1 (TWO_BLOCKS, strlen (TWO_BLOCKS), digest);
  assert_hex (digest, sizeof digest, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void
test_sha256 (void)
{
  guint8 digest[TE_SHA256_LEN];

  te_sha256 (ABC, strlen (ABC), digest);
  assert_hex (digest, sizeof digest,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  te_sha256 ("", 0, digest);
  assert_hex (digest, sizeof digest,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  te_sha256 (TWO_BLOCKS, strlen (TWO_BLOCKS), digest);
  assert_hex (digest, sizeof digest,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_hex_encode (void)
{
  static const guint8 bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
  g_autofree char *hex = te_hex_encode (bytes, sizeof bytes);
  g_autofree char *empty = te_hex_encode (bytes, 0);

  g_assert_cmpstr (hex, ==, "00017f80abcdefff");
  g_assert_cmpstr (empty, ==, "");
}

static void
test_hex_decode (void)
{
  static const guint8 expected[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
  guint8 out[sizeof expected];
  guint8 small[2] = { 0x55, 0x55 };

  memset (out, 0x55, sizeof out);
  g_assert_true (te_hex_decode ("00017f80abcdefff", 16, out, sizeof out));
  g_assert_cmpmem (out, sizeof out, expected, sizeof expected);

  /* Upper and mixed case */
  memset (out, 0x55, sizeof out);
  g_assert_true (te_hex_decode ("00017F80ABcDeFfF", 16, out, sizeof out));
  g_assert_cmpmem (out, sizeof out, expected, sizeof expected);

  /* Only @hex_len characters are read. */
  g_assert_true (te_hex_decode ("abcdzz", 4, small, 2));
  g_assert_cmpuint (small[0], ==, 0xab);
  g_assert_cmpuint (small[1], ==, 0xcd);

  /* Nothing to decode */
  g_assert_true (te_hex_decode ("", 0, out, 0));

  /* Round trip through the encoder */
  {
    guint8 digest[TE_SHA256_LEN], back[TE_SHA256_LEN];
    g_autofree char *hex = NULL;

    te_sha256 (ABC, strlen (ABC), digest);
    hex = te_hex_encode (digest, sizeof digest);
    g_assert_true (te_hex_decode (hex, strlen (hex), back, sizeof back));
    g_assert_cmpmem (back, sizeof back, digest, sizeof digest);
  }
}

static void
test_hex_decode_bad (void)
{
  guint8 out[4];

  /* Wrong length for the output: short, long, odd */
  g_assert_false (te_hex_decode ("0001", 4, out, 4));
  g_assert_false (te_hex_decode ("0001020304", 10, out, 4));
  g_assert_false (te_hex_decode ("0001020", 7, out, 4));
  g_assert_false (te_hex_decode ("000102030", 9, out, 4));
  g_assert_false (te_hex_decode ("", 0, out, 4));

  /* Characters that are not hex digits, in either half of a byte */
  g_assert_false (te_hex_decode ("0001020g", 8, out, 4));
  g_assert_false (te_hex_decode ("000102g0", 8, out, 4));
  g_assert_false (te_hex_decode ("G0010203", 8, out, 4));
  g_assert_false (te_hex_decode ("00 10203", 8, out, 4));
  g_assert_false (te_hex_decode ("0x010203", 8, out, 4));
  g_assert_false (te_hex_decode ("-1010203", 8, out, 4));
  g_assert_false (te_hex_decode ("0001\xc3\xa9" "0203", 8, out, 4));
  g_assert_false (te_hex_decode ("00010\0" "03", 8, out, 4));
}

static void
test_next_pow2 (void)
{
  g_assert_cmpuint (te_next_pow2 (0), ==, 1);
  g_assert_cmpuint (te_next_pow2 (1), ==, 1);
  g_assert_cmpuint (te_next_pow2 (2), ==, 2);
  g_assert_cmpuint (te_next_pow2 (3), ==, 4);
  g_assert_cmpuint (te_next_pow2 (4), ==, 4);
  g_assert_cmpuint (te_next_pow2 (5), ==, 8);
  g_assert_cmpuint (te_next_pow2 (1000), ==, 1024);
  g_assert_cmpuint (te_next_pow2 (16384), ==, 16384);
  g_assert_cmpuint (te_next_pow2 (16385), ==, 32768);
  g_assert_cmpuint (te_next_pow2 (((gsize) 1 << 40) - 1), ==, (gsize) 1 << 40);
}

static void
test_log2 (void)
{
  g_assert_cmpuint (te_log2 (1), ==, 0);
  g_assert_cmpuint (te_log2 (2), ==, 1);
  g_assert_cmpuint (te_log2 (4), ==, 2);
  g_assert_cmpuint (te_log2 (1024), ==, 10);
  g_assert_cmpuint (te_log2 (16384), ==, 14);
  g_assert_cmpuint (te_log2 ((gsize) 1 << 40), ==, 40);

  /* The two agree on every power of two up to 2^62. */
  for (guint h = 0; h < 63; h++)
    {
      gsize p = (gsize) 1 << h;

      g_assert_cmpuint (te_next_pow2 (p), ==, p);
      g_assert_cmpuint (te_log2 (p), ==, h);
    }
}

static void
test_merkle_pad_hash (void)
{
  static const guint8 zeros[2 * TE_SHA256_LEN] = { 0 };
  guint8 pad[TE_SHA256_LEN], expected[TE_SHA256_LEN];
  guint8 pad1[TE_SHA256_LEN], pad2[TE_SHA256_LEN];

  memset (pad, 0xaa, sizeof pad);
  te_merkle_pad_hash (0, pad);
  g_assert_cmpmem (pad, sizeof pad, zeros, TE_SHA256_LEN);

  te_merkle_pad_hash (1, pad1);
  te_sha256 (zeros, sizeof zeros, expected);
  g_assert_cmpmem (pad1, sizeof pad1, expected, sizeof expected);
  assert_hex (pad1, sizeof pad1,
              "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b");

  te_merkle_pad_hash (2, pad2);
  hash_pair (pad1, pad1, expected);
  g_assert_cmpmem (pad2, sizeof pad2, expected, sizeof expected);

  /* Each height is the hash of two of the one below. */
  for (guint h = 1; h < 20; h++)
    {
      guint8 below[TE_SHA256_LEN], here[TE_SHA256_LEN];

      te_merkle_pad_hash (h - 1, below);
      te_merkle_pad_hash (h, here);
      hash_pair (below, below, expected);
      g_assert_cmpmem (here, sizeof here, expected, sizeof expected);
    }
}

/* Three distinct leaf hashes */
static void
make_leaves (guint8 leaves[3 * TE_SHA256_LEN])
{
  te_sha256 ("leaf 0", 6, leaves);
  te_sha256 ("leaf 1", 6, leaves + TE_SHA256_LEN);
  te_sha256 ("leaf 2", 6, leaves + 2 * TE_SHA256_LEN);
}

static void
test_merkle_root_one (void)
{
  guint8 leaves[3 * TE_SHA256_LEN];
  guint8 root[TE_SHA256_LEN], expected[TE_SHA256_LEN], pad[TE_SHA256_LEN];

  make_leaves (leaves);

  /* A tree of width one is its leaf. */
  te_merkle_root (leaves, 1, 1, 0, root);
  g_assert_cmpmem (root, sizeof root, leaves, TE_SHA256_LEN);
  te_merkle_root (leaves, 1, 1, 5, root);
  g_assert_cmpmem (root, sizeof root, leaves, TE_SHA256_LEN);

  /* One leaf in a tree of two: paired with a zero hash */
  memset (pad, 0, sizeof pad);
  hash_pair (leaves, pad, expected);
  te_merkle_root (leaves, 1, 2, 0, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* ...or with the root of a padding subtree */
  te_merkle_pad_hash (3, pad);
  hash_pair (leaves, pad, expected);
  te_merkle_root (leaves, 1, 2, 3, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);
}

static void
test_merkle_root_two (void)
{
  guint8 leaves[3 * TE_SHA256_LEN];
  guint8 root[TE_SHA256_LEN], expected[TE_SHA256_LEN], pad[TE_SHA256_LEN];
  guint8 left[TE_SHA256_LEN], right[TE_SHA256_LEN];

  make_leaves (leaves);

  hash_pair (leaves, leaves + TE_SHA256_LEN, expected);
  te_merkle_root (leaves, 2, 2, 0, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);
  /* The padding height does not matter when nothing is padded. */
  te_merkle_root (leaves, 2, 2, 4, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* Two leaves in a tree of four */
  hash_pair (leaves, leaves + TE_SHA256_LEN, left);
  memset (pad, 0, sizeof pad);
  hash_pair (pad, pad, right);
  hash_pair (left, right, expected);
  te_merkle_root (leaves, 2, 4, 0, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);
}

static void
test_merkle_root_three (void)
{
  guint8 leaves[3 * TE_SHA256_LEN];
  guint8 root[TE_SHA256_LEN], expected[TE_SHA256_LEN], pad[TE_SHA256_LEN];
  guint8 left[TE_SHA256_LEN], right[TE_SHA256_LEN];
  guint8 pad2[TE_SHA256_LEN], quarter[TE_SHA256_LEN];

  make_leaves (leaves);

  /* Width 4, zero padding: H(H(a|b) | H(c|0)) */
  memset (pad, 0, sizeof pad);
  hash_pair (leaves, leaves + TE_SHA256_LEN, left);
  hash_pair (leaves + 2 * TE_SHA256_LEN, pad, right);
  hash_pair (left, right, expected);
  te_merkle_root (leaves, 3, 4, 0, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* Width 4, each missing leaf standing for a subtree of height 2 */
  te_merkle_pad_hash (2, pad);
  hash_pair (leaves + 2 * TE_SHA256_LEN, pad, right);
  hash_pair (left, right, expected);
  te_merkle_root (leaves, 3, 4, 2, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* Width 8: the right half is all padding. */
  memset (pad, 0, sizeof pad);
  hash_pair (leaves + 2 * TE_SHA256_LEN, pad, right);
  hash_pair (left, right, quarter);
  te_merkle_pad_hash (2, pad2);
  hash_pair (quarter, pad2, expected);
  te_merkle_root (leaves, 3, 8, 0, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);
}

static void
test_merkle_data_root_small (void)
{
  g_autofree guint8 *data = g_malloc (TE_MERKLE_BLOCK_SIZE);
  guint8 root[TE_SHA256_LEN], expected[TE_SHA256_LEN], pad[TE_SHA256_LEN];

  for (gsize i = 0; i < TE_MERKLE_BLOCK_SIZE; i++)
    data[i] = (guint8) (i * 7 + 3);

  /* Shorter than a block: the root is the hash of the bytes, unpadded. */
  te_sha256 (data, 1000, expected);
  te_merkle_data_root (data, 1000, 1, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  te_sha256 (data, 1, expected);
  te_merkle_data_root (data, 1, 1, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* Exactly one block */
  te_sha256 (data, TE_MERKLE_BLOCK_SIZE, expected);
  te_merkle_data_root (data, TE_MERKLE_BLOCK_SIZE, 1, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* One short block in a tree of two */
  te_sha256 (data, 1000, expected);
  memset (pad, 0, sizeof pad);
  hash_pair (expected, pad, expected);
  te_merkle_data_root (data, 1000, 2, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);
}

static void
test_merkle_data_root_blocks (void)
{
  gsize len = 2 * TE_MERKLE_BLOCK_SIZE + 100;
  g_autofree guint8 *data = g_malloc (len);
  guint8 leaves[3 * TE_SHA256_LEN];
  guint8 root[TE_SHA256_LEN], expected[TE_SHA256_LEN], zero[TE_SHA256_LEN];
  guint8 left[TE_SHA256_LEN], right[TE_SHA256_LEN];

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i ^ (i >> 8));

  /* Leaves hashed by hand; the last block is 100 bytes and not padded. */
  te_sha256 (data, TE_MERKLE_BLOCK_SIZE, leaves);
  te_sha256 (data + TE_MERKLE_BLOCK_SIZE, TE_MERKLE_BLOCK_SIZE, leaves + TE_SHA256_LEN);
  te_sha256 (data + 2 * TE_MERKLE_BLOCK_SIZE, 100, leaves + 2 * TE_SHA256_LEN);

  memset (zero, 0, sizeof zero);
  hash_pair (leaves, leaves + TE_SHA256_LEN, left);
  hash_pair (leaves + 2 * TE_SHA256_LEN, zero, right);
  hash_pair (left, right, expected);

  te_merkle_data_root (data, len, 4, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* Same as te_merkle_root over the leaf hashes */
  te_merkle_root (leaves, 3, 4, 0, expected);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);

  /* Two full blocks, width two */
  hash_pair (leaves, leaves + TE_SHA256_LEN, expected);
  te_merkle_data_root (data, 2 * TE_MERKLE_BLOCK_SIZE, 2, root);
  g_assert_cmpmem (root, sizeof root, expected, sizeof expected);
}


/* BEP 52 proofs: every aligned range of every length verifies against the
 * root, with the uncles te_merkle_proof() picks; a changed hash does not. */
static void
test_merkle_proof (void)
{
  const guint pad_height = 1;
  guint n_leaves = 11;                 /* padded to 16 */
  gsize width = te_next_pow2 (n_leaves);
  g_autofree guint8 *leaves = g_malloc (n_leaves * TE_SHA256_LEN);
  g_autofree guint8 *out = g_malloc ((width + 8) * TE_SHA256_LEN);
  guint8 root[TE_SHA256_LEN];

  for (guint i = 0; i < n_leaves; i++)
    te_sha256 (&i, sizeof i, leaves + i * TE_SHA256_LEN);
  te_merkle_root (leaves, n_leaves, width, pad_height, root);

  for (gsize length = 2; length <= width; length *= 2)
    for (gsize index = 0; index < width; index += length)
      {
        guint n = te_merkle_proof (leaves, n_leaves, width, pad_height, index, length, 64, out);
        guint n_uncles = n - (guint) length;

        g_assert_cmpuint (n_uncles, ==, te_log2 (width) - te_log2 (length));
        g_assert_true (te_merkle_verify_proof (out, length, index, out + length * TE_SHA256_LEN,
                                               n_uncles, pad_height, root));
        out[5] ^= 1;
        g_assert_false (te_merkle_verify_proof (out, length, index, out + length * TE_SHA256_LEN,
                                                n_uncles, pad_height, root));
      }

  /* Fewer proof layers: only the uncles up to that layer. */
  g_assert_cmpuint (te_merkle_proof (leaves, n_leaves, width, pad_height, 4, 2, 2, out), ==, 2 + 2);
  g_assert_cmpuint (te_merkle_proof (leaves, n_leaves, width, pad_height, 4, 2, 0, out), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/hash/sha1", test_sha1);
  g_test_add_func ("/te/hash/sha256", test_sha256);
  g_test_add_func ("/te/hash/hex-encode", test_hex_encode);
  g_test_add_func ("/te/hash/hex-decode", test_hex_decode);
  g_test_add_func ("/te/hash/hex-decode-bad", test_hex_decode_bad);
  g_test_add_func ("/te/hash/next-pow2", test_next_pow2);
  g_test_add_func ("/te/hash/log2", test_log2);
  g_test_add_func ("/te/hash/merkle-pad-hash", test_merkle_pad_hash);
  g_test_add_func ("/te/hash/merkle-root-one", test_merkle_root_one);
  g_test_add_func ("/te/hash/merkle-root-two", test_merkle_root_two);
  g_test_add_func ("/te/hash/merkle-root-three", test_merkle_root_three);
  g_test_add_func ("/te/hash/merkle-data-root-small", test_merkle_data_root_small);
  g_test_add_func ("/te/hash/merkle-data-root-blocks", test_merkle_data_root_blocks);

  g_test_add_func ("/te/hash/merkle-proof", test_merkle_proof);

  return g_test_run ();
}
