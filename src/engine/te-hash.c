/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-hash"

#include "config.h"

#include <string.h>
#include <gnutls/crypto.h>

#include "te-hash.h"

/* GnuTLS picks the CPU's SHA instructions; GChecksum would not. */

void
te_sha1 (const void *data,
         gsize       len,
         guint8      out[TE_SHA1_LEN])
{
  int r = gnutls_hash_fast (GNUTLS_DIG_SHA1, data, len, out);
  g_assert (r == 0);
}

void
te_sha256 (const void *data,
           gsize       len,
           guint8      out[TE_SHA256_LEN])
{
  int r = gnutls_hash_fast (GNUTLS_DIG_SHA256, data, len, out);
  g_assert (r == 0);
}

gsize
te_next_pow2 (gsize n)
{
  gsize p = 1;

  while (p < n)
    p <<= 1;
  return p;
}

guint
te_log2 (gsize pow2)
{
  guint h = 0;

  while (((gsize) 1 << h) < pow2)
    h++;
  return h;
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

/**
 * te_merkle_pad_hash:
 * @height: 0 for a leaf
 *
 * The root of a subtree of 2^@height all-zero leaf hashes: what BEP 52 uses for
 * the part of a tree past the end of a file.
 */
void
te_merkle_pad_hash (guint  height,
                    guint8 out[TE_SHA256_LEN])
{
  memset (out, 0, TE_SHA256_LEN);
  for (guint h = 0; h < height; h++)
    hash_pair (out, out, out);
}

/**
 * te_merkle_root:
 * @leaves: @n_leaves hashes of %TE_SHA256_LEN bytes
 * @n_leaves: how many there are
 * @width: the tree's width in leaves, a power of two ≥ @n_leaves
 * @pad_height: height of the subtree each missing leaf stands for
 * @out: the root
 */
void
te_merkle_root (const guint8 *leaves,
                gsize         n_leaves,
                gsize         width,
                guint         pad_height,
                guint8        out[TE_SHA256_LEN])
{
  g_autofree guint8 *level = NULL;
  guint8 pad[TE_SHA256_LEN];
  gsize n = n_leaves;

  g_assert (width >= n_leaves && (width & (width - 1)) == 0);

  te_merkle_pad_hash (pad_height, pad);
  if (width == 1)
    {
      memcpy (out, n_leaves ? leaves : pad, TE_SHA256_LEN);
      return;
    }

  /* Only the real nodes are stored; the padding of every level is one known hash. */
  level = g_memdup2 (leaves, MAX (n, 1) * TE_SHA256_LEN);
  while (width > 1)
    {
      gsize parents = (n + 1) / 2;
      guint8 pair[2 * TE_SHA256_LEN];

      for (gsize i = 0; i < parents; i++)
        {
          memcpy (pair, level + 2 * i * TE_SHA256_LEN, TE_SHA256_LEN);
          if (2 * i + 1 < n)
            memcpy (pair + TE_SHA256_LEN, level + (2 * i + 1) * TE_SHA256_LEN, TE_SHA256_LEN);
          else
            memcpy (pair + TE_SHA256_LEN, pad, TE_SHA256_LEN);
          te_sha256 (pair, sizeof pair, level + i * TE_SHA256_LEN);
        }
      memcpy (pair, pad, TE_SHA256_LEN);
      memcpy (pair + TE_SHA256_LEN, pad, TE_SHA256_LEN);
      te_sha256 (pair, sizeof pair, pad);
      n = parents;
      width /= 2;
    }
  memcpy (out, n ? level : pad, TE_SHA256_LEN);
}

/**
 * te_merkle_data_root:
 * @data: bytes, hashed in %TE_MERKLE_BLOCK_SIZE leaves (the last may be short)
 * @len: their length
 * @width: tree width in leaves, a power of two ≥ the number of blocks
 * @out: the root
 */
void
te_merkle_data_root (const guint8 *data,
                     gsize         len,
                     gsize         width,
                     guint8        out[TE_SHA256_LEN])
{
  gsize n = (len + TE_MERKLE_BLOCK_SIZE - 1) / TE_MERKLE_BLOCK_SIZE;
  g_autofree guint8 *leaves = g_malloc (MAX (n, 1) * TE_SHA256_LEN);

  for (gsize i = 0; i < n; i++)
    {
      gsize off = i * TE_MERKLE_BLOCK_SIZE;
      te_sha256 (data + off, MIN (TE_MERKLE_BLOCK_SIZE, len - off), leaves + i * TE_SHA256_LEN);
    }
  te_merkle_root (leaves, n, width, 0, out);
}


/**
 * te_merkle_proof:
 * @leaves: the base layer, @n_leaves hashes; past them the tree is padded
 * @width: the padded width of the base layer, a power of two
 * @pad_height: height above the 16 KiB leaves of the base layer
 * @index: first requested hash, a multiple of @length
 * @length: hashes requested, a power of two ≥ 2
 * @proof_layers: ancestor layers asked for, counted from the base (BEP 52)
 * @out: room for @length hashes and one uncle per layer of the tree
 *
 * Writes a BEP 52 `hashes` payload: the requested hashes, then the uncle hash
 * of each proof layer that the requested hashes do not already cover, closest
 * to the base first.
 *
 * Returns: how many hashes were written
 */
guint
te_merkle_proof (const guint8 *leaves,
                 gsize         n_leaves,
                 gsize         width,
                 guint         pad_height,
                 gsize         index,
                 gsize         length,
                 guint         proof_layers,
                 guint8       *out)
{
  guint height = te_log2 (width);
  guint first = te_log2 (length);
  guint count = 0;
  g_autofree guint8 *level = g_malloc (MAX (width, 1) * TE_SHA256_LEN);
  gsize n = width, node = index;

  /* The padded base layer, then every layer above it, one at a time. */
  for (gsize i = 0; i < width; i++)
    {
      if (i < n_leaves)
        memcpy (level + i * TE_SHA256_LEN, leaves + i * TE_SHA256_LEN, TE_SHA256_LEN);
      else
        te_merkle_pad_hash (pad_height, level + i * TE_SHA256_LEN);
    }
  memcpy (out, level + index * TE_SHA256_LEN, length * TE_SHA256_LEN);
  count = (guint) length;

  for (guint j = 1; j < height; j++)
    {
      for (gsize i = 0; i < n / 2; i++)
        hash_pair (level + 2 * i * TE_SHA256_LEN, level + (2 * i + 1) * TE_SHA256_LEN,
                   level + i * TE_SHA256_LEN);
      n /= 2;
      node /= 2;
      /* Layers the requested hashes cover need no uncle. */
      if (j < first || j > proof_layers)
        continue;
      memcpy (out + (gsize) count * TE_SHA256_LEN, level + (node ^ 1) * TE_SHA256_LEN,
              TE_SHA256_LEN);
      count++;
    }
  return count;
}

/**
 * te_merkle_verify_proof:
 *
 * Checks @length hashes starting at @index of a base layer against @root,
 * with the uncles of a BEP 52 `hashes` message.
 */
gboolean
te_merkle_verify_proof (const guint8 *hashes,
                        gsize         length,
                        gsize         index,
                        const guint8 *uncles,
                        guint         n_uncles,
                        guint         pad_height,
                        const guint8  root[TE_SHA256_LEN])
{
  guint8 node[TE_SHA256_LEN];
  gsize pos = index / length;

  if (length < 2 || (length & (length - 1)) != 0 || index % length != 0)
    return FALSE;
  te_merkle_root (hashes, length, length, pad_height, node);
  for (guint u = 0; u < n_uncles; u++, pos /= 2)
    {
      if (pos % 2 == 0)
        hash_pair (node, uncles + (gsize) u * TE_SHA256_LEN, node);
      else
        hash_pair (uncles + (gsize) u * TE_SHA256_LEN, node, node);
    }
  return memcmp (node, root, TE_SHA256_LEN) == 0;
}

char *
te_hex_encode (const guint8 *data,
               gsize         len)
{
  static const char digits[] = "0123456789abcdef";
  char *s = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      s[2 * i] = digits[data[i] >> 4];
      s[2 * i + 1] = digits[data[i] & 15];
    }
  s[len * 2] = 0;
  return s;
}

gboolean
te_hex_decode (const char *hex,
               gsize       hex_len,
               guint8     *out,
               gsize       out_len)
{
  if (hex_len != out_len * 2)
    return FALSE;
  for (gsize i = 0; i < out_len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}
