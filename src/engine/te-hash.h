/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TE_SHA1_LEN   20
#define TE_SHA256_LEN 32
/* BEP 52 merkle leaves cover 16 KiB blocks. */
#define TE_MERKLE_BLOCK_SIZE 16384

void     te_sha1            (const void *data,
                             gsize       len,
                             guint8      out[TE_SHA1_LEN]);
void     te_sha256          (const void *data,
                             gsize       len,
                             guint8      out[TE_SHA256_LEN]);

void     te_merkle_pad_hash (guint        height,
                             guint8       out[TE_SHA256_LEN]);
void     te_merkle_root     (const guint8 *leaves,
                             gsize         n_leaves,
                             gsize         width,
                             guint         pad_height,
                             guint8        out[TE_SHA256_LEN]);
void     te_merkle_data_root (const guint8 *data,
                              gsize         len,
                              gsize         width,
                              guint8        out[TE_SHA256_LEN]);

guint    te_merkle_proof    (const guint8 *leaves,
                             gsize         n_leaves,
                             gsize         width,
                             guint         pad_height,
                             gsize         index,
                             gsize         length,
                             guint         proof_layers,
                             guint8       *out);
gboolean te_merkle_verify_proof (const guint8 *hashes,
                                 gsize         length,
                                 gsize         index,
                                 const guint8 *uncles,
                                 guint         n_uncles,
                                 guint         pad_height,
                                 const guint8  root[TE_SHA256_LEN]);

gsize    te_next_pow2       (gsize        n);
guint    te_log2            (gsize        pow2);

char    *te_hex_encode      (const guint8 *data,
                             gsize         len);
gboolean te_hex_decode      (const char   *hex,
                             gsize         hex_len,
                             guint8       *out,
                             gsize         out_len);

G_END_DECLS
