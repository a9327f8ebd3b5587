/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "te-hash.h"

G_BEGIN_DECLS

#define TE_METAINFO_ERROR (te_metainfo_error_quark ())
GQuark te_metainfo_error_quark (void);

/**
 * TeMetainfoError:
 * @TE_METAINFO_ERROR_TOO_LARGE: the .torrent file is larger than %TE_METAINFO_MAX_SIZE
 * @TE_METAINFO_ERROR_MISSING_FIELD: a required key is absent or of the wrong type
 * @TE_METAINFO_ERROR_BAD_FIELD: a key has an impossible value
 * @TE_METAINFO_ERROR_BAD_PIECE_LENGTH: piece length is not a power of two ≥ 16 KiB
 * @TE_METAINFO_ERROR_BAD_PIECES: the v1 `pieces` string is malformed
 * @TE_METAINFO_ERROR_SIZE_MISMATCH: file sizes and the piece count disagree
 * @TE_METAINFO_ERROR_BAD_VERSION: unsupported `meta version`
 * @TE_METAINFO_ERROR_BAD_FILE_TREE: the v2 file tree is malformed
 * @TE_METAINFO_ERROR_BAD_PIECE_LAYERS: piece layers are missing or do not match the file tree
 * @TE_METAINFO_ERROR_HYBRID_MISMATCH: the v1 and v2 parts of a hybrid torrent describe different files
 * @TE_METAINFO_ERROR_NO_FILES: the torrent holds no data
 * @TE_METAINFO_ERROR_TOO_MANY_PIECES: more pieces than %TE_METAINFO_MAX_PIECES
 */
typedef enum {
  TE_METAINFO_ERROR_TOO_LARGE,
  TE_METAINFO_ERROR_MISSING_FIELD,
  TE_METAINFO_ERROR_BAD_FIELD,
  TE_METAINFO_ERROR_BAD_PIECE_LENGTH,
  TE_METAINFO_ERROR_BAD_PIECES,
  TE_METAINFO_ERROR_SIZE_MISMATCH,
  TE_METAINFO_ERROR_BAD_VERSION,
  TE_METAINFO_ERROR_BAD_FILE_TREE,
  TE_METAINFO_ERROR_BAD_PIECE_LAYERS,
  TE_METAINFO_ERROR_HYBRID_MISMATCH,
  TE_METAINFO_ERROR_NO_FILES,
  TE_METAINFO_ERROR_TOO_MANY_PIECES,
} TeMetainfoError;

#define TE_METAINFO_MAX_SIZE        (64 * 1024 * 1024)
#define TE_METAINFO_MIN_PIECE_SIZE  (16 * 1024)
#define TE_METAINFO_MAX_PIECE_SIZE  (256 * 1024 * 1024)
#define TE_METAINFO_MAX_FILES       (1024 * 1024)
/* As libtorrent's max_pieces: 2^21 pieces (40 MiB of v1 hashes). */
#define TE_METAINFO_MAX_PIECES      (1u << 21)

typedef enum {
  TE_FILE_ATTR_PAD        = 1 << 0,
  TE_FILE_ATTR_EXECUTABLE = 1 << 1,
  TE_FILE_ATTR_HIDDEN     = 1 << 2,
  TE_FILE_ATTR_SYMLINK    = 1 << 3,
} TeFileAttrs;

/**
 * TeFile:
 * @path: relative to the save folder, '/'-separated; starts with the torrent's
 *   folder name in a multi-file torrent
 * @length: bytes
 * @offset: where the file starts in the torrent's piece space
 * @attrs: BEP 47 attributes
 * @has_root: whether @pieces_root is set (v2, non-empty files)
 * @pieces_root: the v2 merkle root
 * @layer: (nullable): the v2 piece layer, @n_layer hashes of 32 bytes
 * @n_layer: piece-layer hash count (0 for files of one piece or less)
 *
 * One file of a torrent. Read-only.
 */
typedef struct {
  char        *path;
  guint64      length;
  guint64      offset;
  TeFileAttrs  attrs;
  gboolean     has_root;
  guint8       pieces_root[TE_SHA256_LEN];
  guint8      *layer;
  guint        n_layer;
} TeFile;

#define TE_TYPE_METAINFO (te_metainfo_get_type ())
G_DECLARE_FINAL_TYPE (TeMetainfo, te_metainfo, TE, METAINFO, GObject)

TeMetainfo   *te_metainfo_new_from_bytes      (GBytes        *torrent,
                                               GError       **error);
TeMetainfo   *te_metainfo_new_from_file       (const char    *path,
                                               GError       **error);
TeMetainfo   *te_metainfo_new_from_info       (GBytes        *info,
                                               GError       **error);

const char   *te_metainfo_get_name            (TeMetainfo    *self);
gboolean      te_metainfo_has_v1              (TeMetainfo    *self);
gboolean      te_metainfo_has_v2              (TeMetainfo    *self);
const guint8 *te_metainfo_get_info_hash       (TeMetainfo    *self);
const guint8 *te_metainfo_get_info_hash_v2    (TeMetainfo    *self);
char         *te_metainfo_dup_info_hash_hex   (TeMetainfo    *self);
char         *te_metainfo_dup_info_hash_v2_hex (TeMetainfo   *self);
GBytes       *te_metainfo_get_info_bytes      (TeMetainfo    *self);
GBytes       *te_metainfo_get_torrent_bytes   (TeMetainfo    *self);
gboolean      te_metainfo_is_multi_file       (TeMetainfo    *self);
gboolean      te_metainfo_needs_piece_layers  (TeMetainfo    *self);
gboolean      te_metainfo_file_needs_layer    (TeMetainfo    *self,
                                               guint          file_index);
gboolean      te_metainfo_set_piece_layer     (TeMetainfo    *self,
                                               guint          file_index,
                                               const guint8  *hashes,
                                               gsize          n_hashes,
                                               GError       **error);

guint32       te_metainfo_get_piece_length    (TeMetainfo    *self);
guint         te_metainfo_get_n_pieces        (TeMetainfo    *self);
guint32       te_metainfo_get_piece_size      (TeMetainfo    *self,
                                               guint          piece);
guint32       te_metainfo_get_piece_padded_size (TeMetainfo  *self,
                                                 guint        piece);
guint64       te_metainfo_get_piece_offset    (TeMetainfo    *self,
                                               guint          piece);
const guint8 *te_metainfo_get_piece_hash      (TeMetainfo    *self,
                                               guint          piece);
gboolean      te_metainfo_get_piece_hash_v2   (TeMetainfo    *self,
                                               guint          piece,
                                               guint8         out[TE_SHA256_LEN],
                                               gsize         *tree_width);
guint64       te_metainfo_get_total_size      (TeMetainfo    *self);
guint64       te_metainfo_get_span            (TeMetainfo    *self);

guint         te_metainfo_get_n_files         (TeMetainfo    *self);
gboolean      te_metainfo_get_file_pieces     (TeMetainfo    *self,
                                              guint          index,
                                              guint         *first,
                                              guint         *last);
const TeFile *te_metainfo_get_file            (TeMetainfo    *self,
                                               guint          index);
guint         te_metainfo_find_file           (TeMetainfo    *self,
                                               guint64        offset);

GPtrArray    *te_metainfo_get_tiers           (TeMetainfo    *self);
const char * const *te_metainfo_get_web_seeds (TeMetainfo    *self);
gboolean      te_metainfo_is_private          (TeMetainfo    *self);
const char   *te_metainfo_get_comment         (TeMetainfo    *self);
const char   *te_metainfo_get_created_by      (TeMetainfo    *self);
const char   *te_metainfo_get_source          (TeMetainfo    *self);
gint64        te_metainfo_get_creation_date   (TeMetainfo    *self);

G_END_DECLS
