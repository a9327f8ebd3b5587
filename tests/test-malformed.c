/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-bencode.h"
#include "te-hash.h"
#include "te-magnet.h"
#include "te-metainfo.h"
#include "te-path.h"
#include "te-storage.h"
#include "te-test-utils.h"

/* Every row is one hostile or broken input and the exact error it must produce.
 * Torrents are built with the engine's own encoder from a valid base that each
 * row breaks in one place only, so the error cannot come from anywhere else. */

#define PIECE_LENGTH  16384
#define SINGLE_LENGTH 20000
#define BIG_LENGTH    40000 /* three v2 pieces: needs a piece layer */
#define SMALL_LENGTH  100
#define BIG_PAD       (3 * PIECE_LENGTH - BIG_LENGTH)
#define V1_HEX        "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
#define V1_OTHER      "0000000000000000000000000000000000000001"
#define V2_HEX        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define XT            "xt=urn:btih:" V1_HEX
#define L16           "llllllllllllllll"
#define L256          L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16

typedef enum {
  BASE_SINGLE,
  BASE_MULTI,
  BASE_V2,
  BASE_HYBRID,
} BaseKind;

typedef enum {
  INPUT_BENCODE,
  INPUT_TORRENT,
  INPUT_MAGNET,
} InputKind;

typedef struct _MalformedCase MalformedCase;
typedef TeBValue *(*BuildFunc) (const MalformedCase *c);

struct _MalformedCase {
  const char  *name;
  InputKind    kind;
  const char  *text;     /* bencode or magnet input; bytes appended to a built torrent */
  BuildFunc    build;    /* returns the torrent dictionary */
  BaseKind     base;     /* what a generic builder starts from */
  const char  *args[4];  /* for generic builders */
  gboolean     hostile;  /* a path that must never reach the disk */
  GQuark     (*domain) (void);
  int          code;
  const char  *message;  /* must appear in the error message */
};

/* Building blocks */

static TeBValue *
info_of (TeBValue *t)
{
  return te_bvalue_dict_lookup (t, "info");
}

/* A path list from "dir|name": components split at '|'; "" is the empty list. */
static TeBValue *
path_of (const char *spec)
{
  g_auto(GStrv) comps = g_strsplit (spec, "|", -1);
  TeBValue *path = te_bvalue_new_list ();

  for (guint i = 0; comps[i] != NULL; i++)
    te_bvalue_list_append (path, te_bvalue_new_str (comps[i]));
  return path;
}

static TeBValue *
file_entry (gint64    length,
            TeBValue *path)
{
  TeBValue *entry = te_bvalue_new_dict ();

  te_bvalue_dict_set (entry, "length", te_bvalue_new_int (length));
  te_bvalue_dict_set (entry, "path", path);
  return entry;
}

static TeBValue *
pad_entry (gint64 length)
{
  TeBValue *entry = file_entry (length, path_of (".pad|pad"));

  te_bvalue_dict_set (entry, "attr", te_bvalue_new_str ("p"));
  return entry;
}

static TeBValue *
list_of (TeBValue *first,
         ...)
{
  TeBValue *list = te_bvalue_new_list ();
  va_list args;

  va_start (args, first);
  for (TeBValue *v = first; v != NULL; v = va_arg (args, TeBValue *))
    te_bvalue_list_append (list, v);
  va_end (args);
  return list;
}

/* A copy of @dict without @key; values are deep-copied through the codec. */
static TeBValue *
dict_without (const TeBValue *dict,
              const char     *key)
{
  TeBValue *out = te_bvalue_new_dict ();

  for (guint i = 0; i < te_bvalue_length (dict); i++)
    {
      const guint8 *k;
      gsize k_len;
      TeBValue *v = te_bvalue_dict_nth (dict, i, &k, &k_len);
      g_autoptr(GBytes) bytes = NULL;

      if (k_len == strlen (key) && memcmp (k, key, k_len) == 0)
        continue;
      bytes = te_bencode_encode (v);
      te_bvalue_dict_set_len (out, k, k_len, te_bencode_decode (g_bytes_get_data (bytes, NULL),
                                                                g_bytes_get_size (bytes), NULL));
    }
  return out;
}

/* One zeroed v1 hash per piece of the files' span. */
static void
set_pieces (TeBValue *info)
{
  TeBValue *files = te_bvalue_dict_get_kind (info, "files", TE_BVALUE_LIST);
  gint64 span = 0, len;
  gsize n;
  g_autofree guint8 *hashes = NULL;

  if (files == NULL && te_bvalue_dict_get_int (info, "length", &len))
    span = len;
  for (guint i = 0; files != NULL && i < te_bvalue_length (files); i++)
    if (te_bvalue_kind (te_bvalue_list_nth (files, i)) == TE_BVALUE_DICT
        && te_bvalue_dict_get_int (te_bvalue_list_nth (files, i), "length", &len))
      span += len;
  n = (gsize) ((MAX (span, 0) + PIECE_LENGTH - 1) / PIECE_LENGTH);
  hashes = g_malloc0 (MAX (n, 1) * TE_SHA1_LEN);
  te_bvalue_dict_set (info, "pieces", te_bvalue_new_string (hashes, n * TE_SHA1_LEN));
}

/* A torrent named "base" whose info holds no files yet. */
static TeBValue *
new_torrent (void)
{
  TeBValue *t = te_bvalue_new_dict ();
  TeBValue *info = te_bvalue_new_dict ();

  te_bvalue_dict_set (t, "announce", te_bvalue_new_str ("http://tracker.example/announce"));
  te_bvalue_dict_set (info, "name", te_bvalue_new_str ("base"));
  te_bvalue_dict_set (info, "piece length", te_bvalue_new_int (PIECE_LENGTH));
  te_bvalue_dict_set (t, "info", info);
  return t;
}

/* A valid v1 torrent: one file of SINGLE_LENGTH bytes when @files is NULL. */
static TeBValue *
v1_torrent (TeBValue *files)
{
  TeBValue *t = new_torrent ();

  if (files != NULL)
    te_bvalue_dict_set (info_of (t), "files", files);
  else
    te_bvalue_dict_set (info_of (t), "length", te_bvalue_new_int (SINGLE_LENGTH));
  set_pieces (info_of (t));
  return t;
}

/* The v2 leaf entry { "": { length, pieces root } }; no root when @root is NULL. */
static TeBValue *
v2_file (gint64        length,
         const guint8 *root,
         gsize         root_len)
{
  TeBValue *entry = te_bvalue_new_dict ();
  TeBValue *leaf = te_bvalue_new_dict ();

  te_bvalue_dict_set (leaf, "length", te_bvalue_new_int (length));
  if (root != NULL)
    te_bvalue_dict_set (leaf, "pieces root", te_bvalue_new_string (root, root_len));
  te_bvalue_dict_set_len (entry, "", 0, leaf);
  return entry;
}

/* The piece layer of big.bin and the merkle root it hashes to. */
static void
big_hashes (guint8 layer[3 * TE_SHA256_LEN],
            guint8 root[TE_SHA256_LEN])
{
  for (guint i = 0; i < 3; i++)
    {
      char seed[16];

      g_snprintf (seed, sizeof seed, "piece %u", i);
      te_sha256 (seed, strlen (seed), layer + i * TE_SHA256_LEN);
    }
  te_merkle_root (layer, 3, te_next_pow2 (3), te_log2 (PIECE_LENGTH / TE_MERKLE_BLOCK_SIZE), root);
}

static TeBValue *
layers_with (const guint8 *layer,
             gsize         len)
{
  TeBValue *layers = te_bvalue_new_dict ();
  guint8 full[3 * TE_SHA256_LEN], root[TE_SHA256_LEN];

  big_hashes (full, root);
  te_bvalue_dict_set_len (layers, root, TE_SHA256_LEN, te_bvalue_new_string (layer, len));
  return layers;
}

/* Turns @t into a v2 (or, with "pieces", hybrid) torrent of big.bin and small.txt. */
static TeBValue *
add_v2 (TeBValue *t)
{
  TeBValue *tree = te_bvalue_new_dict ();
  guint8 layer[3 * TE_SHA256_LEN], root[TE_SHA256_LEN], small_root[TE_SHA256_LEN];

  big_hashes (layer, root);
  te_sha256 ("small", 5, small_root);
  te_bvalue_dict_set (tree, "big.bin", v2_file (BIG_LENGTH, root, TE_SHA256_LEN));
  te_bvalue_dict_set (tree, "small.txt", v2_file (SMALL_LENGTH, small_root, TE_SHA256_LEN));
  te_bvalue_dict_set (info_of (t), "file tree", tree);
  te_bvalue_dict_set (info_of (t), "meta version", te_bvalue_new_int (2));
  te_bvalue_dict_set (t, "piece layers", layers_with (layer, sizeof layer));
  return t;
}

/* The v1 half of the hybrid: big.bin, a pad to the piece boundary, small.txt. */
static TeBValue *
hybrid_files (gint64 pad)
{
  TeBValue *files = list_of (file_entry (BIG_LENGTH, path_of ("big.bin")), NULL);

  if (pad > 0)
    te_bvalue_list_append (files, pad_entry (pad));
  te_bvalue_list_append (files, file_entry (SMALL_LENGTH, path_of ("small.txt")));
  return files;
}

static TeBValue *
make_base (BaseKind kind)
{
  switch (kind)
    {
    case BASE_SINGLE:
      return v1_torrent (NULL);
    case BASE_MULTI:
      return v1_torrent (list_of (file_entry (10000, path_of ("a.txt")),
                                  file_entry (10000, path_of ("dir|b.txt")), NULL));
    case BASE_V2:
      return add_v2 (new_torrent ());
    case BASE_HYBRID:
    default:
      return add_v2 (v1_torrent (hybrid_files (BIG_PAD)));
    }
}

/* Builders, driven by the row */

static TeBValue *
build_base (const MalformedCase *c)
{
  return make_base (c->base);
}

static TeBValue *
decode_arg (const char *text)
{
  TeBValue *v = te_bencode_decode ((const guint8 *) text, strlen (text), NULL);

  g_assert_nonnull (v);
  return v;
}

/* Sets info key args[0] to the bencoded args[1], or removes it when that is NULL. */
static TeBValue *
set_info (const MalformedCase *c)
{
  TeBValue *t = make_base (c->base);

  if (c->args[1] != NULL)
    te_bvalue_dict_set (info_of (t), c->args[0], decode_arg (c->args[1]));
  else
    te_bvalue_dict_set (t, "info", dict_without (info_of (t), c->args[0]));
  return t;
}

/* The same on the top-level dictionary. */
static TeBValue *
set_root (const MalformedCase *c)
{
  g_autoptr(TeBValue) t = make_base (c->base);

  if (c->args[1] == NULL)
    return dict_without (t, c->args[0]);
  te_bvalue_dict_set (t, c->args[0], decode_arg (c->args[1]));
  return g_steal_pointer (&t);
}

/* A multi-file torrent with one file per argument, as path_of() reads it. */
static TeBValue *
with_files (const MalformedCase *c)
{
  TeBValue *files = te_bvalue_new_list ();

  for (guint i = 0; i < G_N_ELEMENTS (c->args) && c->args[i] != NULL; i++)
    te_bvalue_list_append (files, file_entry (1000, path_of (c->args[i])));
  return v1_torrent (files);
}

/* Adds the v2 file-tree entry args[0], a file of SMALL_LENGTH bytes unless args[1]
 * names another shape. */
static TeBValue *
with_tree_entry (const MalformedCase *c)
{
  TeBValue *t = make_base (c->base);
  const char *shape = c->args[1] ? c->args[1] : "";
  guint8 root[TE_SHA256_LEN];
  TeBValue *entry;

  te_sha256 (c->args[0], strlen (c->args[0]), root);
  if (g_str_equal (shape, "no-root"))
    entry = v2_file (SMALL_LENGTH, NULL, 0);
  else if (g_str_equal (shape, "short-root"))
    entry = v2_file (SMALL_LENGTH, root, TE_SHA256_LEN - 1);
  else if (g_str_equal (shape, "negative"))
    entry = v2_file (-5, root, TE_SHA256_LEN);
  else if (g_str_equal (shape, "huge"))
    entry = v2_file ((gint64) 1 << 50, root, TE_SHA256_LEN);
  else
    entry = v2_file (SMALL_LENGTH, root, TE_SHA256_LEN);
  if (g_str_equal (shape, "mixed"))
    te_bvalue_dict_set (entry, "inner.txt", v2_file (SMALL_LENGTH, root, TE_SHA256_LEN));
  te_bvalue_dict_set (te_bvalue_dict_lookup (info_of (t), "file tree"), c->args[0], entry);
  return t;
}

/* big.bin's piece layer cut short (args[0] "short") or with one hash changed. */
static TeBValue *
with_bad_layer (const MalformedCase *c)
{
  TeBValue *t = make_base (BASE_V2);
  guint8 layer[3 * TE_SHA256_LEN], root[TE_SHA256_LEN];
  gboolean cut = g_str_equal (c->args[0], "short");

  big_hashes (layer, root);
  layer[2 * TE_SHA256_LEN] ^= 0x01;
  te_bvalue_dict_set (t, "piece layers", layers_with (layer, (cut ? 2 : 3) * TE_SHA256_LEN));
  return t;
}

/* The hybrid with its v1 file list changed as args[0] says. */
static TeBValue *
with_hybrid_files (const MalformedCase *c)
{
  const char *how = c->args[0];
  TeBValue *t = make_base (BASE_HYBRID);
  TeBValue *files = hybrid_files (g_str_equal (how, "unaligned") ? 0
                                  : g_str_equal (how, "long-pad") ? BIG_PAD + PIECE_LENGTH
                                  : BIG_PAD);
  TeBValue *small = te_bvalue_list_nth (files, te_bvalue_length (files) - 1);

  if (g_str_equal (how, "length"))
    te_bvalue_dict_set (small, "length", te_bvalue_new_int (2 * SMALL_LENGTH));
  else if (g_str_equal (how, "name"))
    te_bvalue_dict_set (small, "path", path_of ("other.txt"));
  else if (g_str_equal (how, "v1-extra"))
    {
      /* Padded, so that the piece counts agree and only the file lists differ. */
      te_bvalue_list_append (files, pad_entry (PIECE_LENGTH - SMALL_LENGTH));
      te_bvalue_list_append (files, file_entry (PIECE_LENGTH, path_of ("extra.bin")));
    }
  te_bvalue_dict_set (info_of (t), "files", files);
  set_pieces (info_of (t));
  return t;
}

static TeBValue *
nul_in_name (const MalformedCase *c G_GNUC_UNUSED)
{
  TeBValue *t = make_base (BASE_SINGLE);

  te_bvalue_dict_set (info_of (t), "name", te_bvalue_new_string ("a\0b", 3));
  return t;
}

/* The table */

#define H20    "01234567890123456789"
#define X20    "xxxxxxxxxxxxxxxxxxxx"
#define X100   X20 X20 X20 X20 X20
#define X300   X100 X100 X100
#define X200x4 X100 X100 "|" X100 X100 "|" X100 X100 "|" X100 X100
#define ROW(n, k, d, c) .name = n, .kind = k, .domain = d, .code = c
#define BENC(n, t, c, m) \
  { ROW ("bencode/" n, INPUT_BENCODE, te_bencode_error_quark, TE_BENCODE_ERROR_##c), .text = t, .message = m }
#define TORRENT(n, t, d, c, m) { ROW (n, INPUT_TORRENT, d, c), .text = t, .message = m }
#define META(n, b, base_, c, m, ...) \
  { ROW ("metainfo/" n, INPUT_TORRENT, te_metainfo_error_quark, TE_METAINFO_ERROR_##c), \
    .build = b, .base = BASE_##base_, .args = { __VA_ARGS__ }, .message = m }
#define PATH(n, b, base_, c, m, ...) \
  { ROW ("path/" n, INPUT_TORRENT, te_path_error_quark, TE_PATH_ERROR_##c), \
    .build = b, .base = BASE_##base_, .args = { __VA_ARGS__ }, .hostile = TRUE, .message = m }
#define MAGNET(n, u, c, m) \
  { ROW ("magnet/" n, INPUT_MAGNET, te_magnet_error_quark, TE_MAGNET_ERROR_##c), .text = u, .message = m }

static const MalformedCase cases[] = {
  BENC ("empty", "", TRUNCATED, "Input is empty"),
  BENC ("leading-zero", "i03e", BAD_INTEGER, "has a leading zero"),
  BENC ("negative-zero", "i-0e", BAD_INTEGER, "is negative zero"),
  BENC ("no-digits", "ie", BAD_INTEGER, "has no digits"),
  BENC ("int-overflow", "i9223372036854775808e", BAD_INTEGER, "is too large"),
  BENC ("int-garbage", "i1x", BAD_INTEGER, "Unexpected byte 0x78 in Integer"),
  BENC ("truncated-int", "i12", TRUNCATED, "Input ends inside Integer"),
  BENC ("truncated-list", "l4:spami1e", TRUNCATED, "Input ends inside the list"),
  BENC ("truncated-dict", "d1:ai1e", TRUNCATED, "Input ends inside the dictionary"),
  BENC ("key-without-value", "d1:a", TRUNCATED, "has no value"),
  BENC ("truncated-length", "12", TRUNCATED, "Input ends inside String length"),
  BENC ("string-past-end", "5:abc", BAD_STRING_LENGTH, "claims 5 bytes but only 3 remain"),
  BENC ("string-length-zero-padded", "03:abc", BAD_STRING_LENGTH, "has a leading zero"),
  BENC ("string-length-huge", "99999999999999999999999:a", BAD_STRING_LENGTH, "is too large"),
  BENC ("negative-string-length", "l-3:abce", UNEXPECTED_BYTE, "Unexpected byte 0x2d at offset 1"),
  BENC ("bad-byte", "x", UNEXPECTED_BYTE, "Unexpected byte 0x78 at offset 0"),
  BENC ("deep-nesting", L256 L16, TOO_DEEP, "Nesting deeper than 256"),
  BENC ("trailing-garbage", "i1eXYZ", TRAILING_DATA, "3 bytes of trailing data at offset 3"),
  BENC ("integer-key", "di1ei2ee", BAD_KEY, "is not a string"),
  BENC ("list-key", "dle1:ae", BAD_KEY, "Dictionary key at offset 1 is not a string"),
  BENC ("duplicate-key", "d1:bi1e1:ai2e1:bi3ee", DUPLICATE_KEY, "has key \"b\" twice"),
  BENC ("duplicate-adjacent-key", "d1:ai1e1:ai2ee", DUPLICATE_KEY, "has key \"a\" twice"),
  TORRENT ("bencode/torrent-too-deep", "d7:comment" L256 L16, te_bencode_error_quark,
           TE_BENCODE_ERROR_TOO_DEEP, "Nesting deeper than 256"),
  TORRENT ("bencode/torrent-truncated", "d4:infod4:name4:base", te_bencode_error_quark,
           TE_BENCODE_ERROR_TRUNCATED, "Input ends inside the dictionary starting at offset 7"),
  { ROW ("bencode/torrent-trailing-garbage", INPUT_TORRENT, te_bencode_error_quark, TE_BENCODE_ERROR_TRAILING_DATA),
    .build = build_base, .text = "junk", .message = "4 bytes of trailing data" },

  TORRENT ("metainfo/not-a-dict", "l4:infoe", te_metainfo_error_quark, TE_METAINFO_ERROR_MISSING_FIELD,
           "Torrent is not a dictionary"),
  META ("missing-info", set_root, SINGLE, MISSING_FIELD, "field \"info\"", "info"),
  META ("info-not-dict", set_root, SINGLE, MISSING_FIELD, "field \"info\"", "info", "4:info"),
  META ("missing-name", set_info, SINGLE, MISSING_FIELD, "field \"name\"", "name"),
  META ("missing-piece-length", set_info, SINGLE, MISSING_FIELD, "field \"piece length\"", "piece length"),
  META ("piece-length-not-pow2", set_info, SINGLE, BAD_PIECE_LENGTH,
        "Piece length 20000 is not a power of two", "piece length", "i20000e"),
  META ("piece-length-small", set_info, SINGLE, BAD_PIECE_LENGTH,
        "Piece length 8192 is not a power of two between 16 KiB", "piece length", "i8192e"),
  META ("piece-length-negative", set_info, SINGLE, BAD_PIECE_LENGTH, "Piece length -16384",
        "piece length", "i-16384e"),
  META ("missing-pieces", set_info, SINGLE, MISSING_FIELD, "field \"pieces\"", "pieces"),
  META ("pieces-not-multiple-of-20", set_info, SINGLE, BAD_PIECES, "not a string of 20-byte hashes",
        "pieces", "30:" H20 "0123456789"),
  META ("pieces-not-string", set_info, SINGLE, BAD_PIECES, "not a string of 20-byte hashes",
        "pieces", "l20:" H20 "20:" H20 "e"),
  META ("piece-count-mismatch", set_info, SINGLE, SIZE_MISMATCH, "3 piece hashes for 20000 bytes, expected 2",
        "pieces", "60:" H20 H20 H20),
  META ("missing-length", set_info, SINGLE, MISSING_FIELD, "field \"length\"", "length"),
  META ("negative-length", set_info, SINGLE, BAD_FIELD, "File length -1 is out of range", "length", "i-1e"),
  META ("huge-length", set_info, SINGLE, BAD_FIELD, "is out of range", "length", "i1152921504606846976e"),
  META ("no-data", set_info, SINGLE, NO_FILES, "The torrent holds no data", "length", "i0e"),
  META ("empty-file-list", set_info, MULTI, NO_FILES, "The file list is empty", "files", "le"),
  META ("file-not-dict", set_info, MULTI, MISSING_FIELD, "field \"files\"", "files", "l5:a.txte"),
  META ("component-not-string", set_info, MULTI, MISSING_FIELD, "field \"path\"",
        "files", "ld6:lengthi1000e4:pathl3:diri7eeee"),
  META ("bad-meta-version", set_info, SINGLE, BAD_VERSION, "Unsupported meta version 3", "meta version", "i3e"),
  META ("v2-missing-file-tree", set_info, V2, MISSING_FIELD, "field \"file tree\"", "file tree"),
  META ("v2-empty-file-tree", set_info, V2, NO_FILES, "The file tree is empty", "file tree", "de"),
  META ("v2-entry-not-dict", set_info, V2, BAD_FILE_TREE, "is not a dictionary", "file tree", "d5:x.txti1ee"),
  META ("v2-file-and-folder", with_tree_entry, V2, BAD_FILE_TREE,
        "\"mixed\" is both a file and a folder", "mixed", "mixed"),
  META ("v2-missing-pieces-root", with_tree_entry, V2, BAD_FILE_TREE,
        "File \"small.txt\" has no valid \"pieces root\"", "small.txt", "no-root"),
  META ("v2-short-pieces-root", with_tree_entry, V2, BAD_FILE_TREE,
        "File \"small.txt\" has no valid \"pieces root\"", "small.txt", "short-root"),
  META ("v2-empty-folder", set_info, V2, BAD_FILE_TREE, "folder \"empty\" is empty", "file tree", "d5:emptydee"),
  META ("v2-file-beside-folders", with_tree_entry, V2, BAD_FILE_TREE, "file entry beside folder entries", ""),
  META ("v2-negative-length", with_tree_entry, V2, BAD_FIELD, "File length -5 is out of range",
        "small.txt", "negative"),
  META ("v2-too-many-pieces", with_tree_entry, V2, TOO_MANY_PIECES, "pieces; at most 2097152 are allowed",
        "huge.bin", "huge"),
  META ("v2-missing-piece-layers", set_root, V2, BAD_PIECE_LAYERS, "Missing field \"piece layers\"", "piece layers"),
  META ("v2-no-layer-for-file", set_root, V2, BAD_PIECE_LAYERS, "No piece layer for \"base/big.bin\"",
        "piece layers", "de"),
  META ("v2-layer-wrong-length", with_bad_layer, V2, BAD_PIECE_LAYERS,
        "Piece layer of \"base/big.bin\" has 64 bytes, expected 96", "short"),
  META ("v2-layer-wrong-hash", with_bad_layer, V2, BAD_PIECE_LAYERS,
        "Piece layer of \"base/big.bin\" does not hash to its pieces root", "flipped"),
  META ("hybrid-length-differs", with_hybrid_files, HYBRID, HYBRID_MISMATCH,
        "v1 file \"base/small.txt\" (200 bytes) differs from v2 file \"base/small.txt\" (100 bytes)", "length"),
  META ("hybrid-name-differs", with_hybrid_files, HYBRID, HYBRID_MISMATCH,
        "v1 file \"base/other.txt\" (100 bytes) differs from v2 file \"base/small.txt\"", "name"),
  META ("hybrid-unaligned", with_hybrid_files, HYBRID, HYBRID_MISMATCH,
        "v1 file \"base/small.txt\" does not start on a piece boundary", "unaligned"),
  META ("hybrid-piece-count", with_hybrid_files, HYBRID, HYBRID_MISMATCH, "v1 has 5 pieces, v2 4", "long-pad"),
  META ("hybrid-v2-extra-file", with_tree_entry, HYBRID, HYBRID_MISMATCH,
        "v1 and v2 file lists have different lengths", "zzz.txt"),
  /* Padding makes the piece counts agree; the file lists still must. */
  META ("hybrid-v1-extra-file", with_hybrid_files, HYBRID, HYBRID_MISMATCH,
        "is not in the v2 file tree", "v1-extra"),

  PATH ("traversal", with_files, MULTI, TRAVERSAL, "contains \"..\", which would leave", "..|..|etc|passwd"),
  PATH ("traversal-in-component", with_files, MULTI, TRAVERSAL, "Path \"a/../../b\" contains \"..\"", "a/../../b"),
  PATH ("traversal-backslash", with_files, MULTI, TRAVERSAL, "contains \"..\"", "..\\evil"),
  PATH ("dot", with_files, MULTI, TRAVERSAL, "contains \".\"", "dir|."),
  PATH ("dot-dot-name", set_info, SINGLE, TRAVERSAL, "Torrent name: Path \"..\" contains", "name", "2:.."),
  PATH ("absolute-name", set_info, SINGLE, ABSOLUTE, "Torrent name: Path \"/abs\" is absolute", "name", "4:/abs"),
  PATH ("absolute-name-multi", set_info, MULTI, ABSOLUTE, "Path \"/abs\" is absolute", "name", "4:/abs"),
  PATH ("absolute-component", with_files, MULTI, ABSOLUTE, "File path: Path \"/abs\" is absolute", "dir|/abs"),
  PATH ("drive-letter", with_files, MULTI, ABSOLUTE, "Path \"C:evil\" is absolute", "C:evil"),
  PATH ("empty-component", with_files, MULTI, EMPTY, "has an empty component", "a||b"),
  PATH ("empty-path", with_files, MULTI, EMPTY, "File 0 has an empty path", ""),
  PATH ("nul-in-name", nul_in_name, SINGLE, NUL, "contains a NUL byte"),
  PATH ("reserved-con", with_files, MULTI, RESERVED, "\"CON\" is a reserved device name", "CON"),
  PATH ("reserved-con-txt", set_info, SINGLE, RESERVED, "\"con.txt\" is a reserved device name", "name", "7:con.txt"),
  PATH ("reserved-lpt1", with_files, MULTI, RESERVED, "\"LPT1\" is a reserved device name", "dir|LPT1"),
  PATH ("long-component", set_info, SINGLE, TOO_LONG, "Path component of 300 bytes", "name", "300:" X300),
  /* 16 components of 200 bytes under "base": 3220 bytes in all. */
  PATH ("long-path", with_files, MULTI, TOO_LONG, "Path of 3220 bytes is longer than the 3072 allowed",
        X200x4 "|" X200x4 "|" X200x4 "|" X200x4),
  PATH ("same-path-twice", with_files, MULTI, DUPLICATE, "Two entries of the torrent map to \"base/a.txt\"",
        "a.txt", "a.txt"),
  PATH ("file-is-folder", with_files, MULTI, DUPLICATE,
        "\"base/a\" is both a file and the folder of \"base/a/b\"", "a", "a|b"),
  PATH ("same-after-sanitizing", with_files, MULTI, DUPLICATE, "map to \"base/a_b\"", "a/b", "a_b"),
  PATH ("v2-dot-dot-key", with_tree_entry, V2, TRAVERSAL, "File tree: Path \"..\" contains", ".."),
  PATH ("v2-reserved-key", with_tree_entry, V2, RESERVED, "\"aux.tar.gz\" is a reserved device name", "aux.tar.gz"),

  MAGNET ("not-magnet", "http://example.com/?" XT, NOT_MAGNET, "does not start with \"magnet:?\""),
  MAGNET ("no-xt", "magnet:?dn=file&tr=http://t.example/a", MISSING_HASH, "no urn:btih or urn:btmh"),
  MAGNET ("other-urn-only", "magnet:?xt=urn:sha1:abcdef", MISSING_HASH, "no urn:btih or urn:btmh"),
  MAGNET ("short-hex", "magnet:?xt=urn:btih:c12fe1c06bba", BAD_HASH, "neither 40 hex nor 32 base32"),
  MAGNET ("long-hex", "magnet:?xt=urn:btih:" V1_HEX "00", BAD_HASH, "neither 40 hex nor 32 base32"),
  MAGNET ("not-hex", "magnet:?xt=urn:btih:g12fe1c06bba254a9dc9f519b335aa7c1367a88a", BAD_HASH,
          "neither 40 hex nor 32 base32"),
  MAGNET ("bad-base32", "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1", BAD_HASH,
          "neither 40 hex nor 32 base32"),
  MAGNET ("two-hashes", "magnet:?" XT "&xt=urn:btih:" V1_OTHER, BAD_HASH, "two different urn:btih"),
  MAGNET ("bad-percent", "magnet:?" XT "&dn=a%zz", BAD_ENCODING, "bad percent-escape \"%zz\""),
  MAGNET ("cut-percent", "magnet:?" XT "&dn=a%4", BAD_ENCODING, "bad percent-escape \"%4\""),
  MAGNET ("encoded-nul", "magnet:?" XT "&dn=a%00b", BAD_ENCODING, "encoded NUL byte"),
  MAGNET ("btmh-wrong-function", "magnet:?xt=urn:btmh:1114" V2_HEX, BAD_HASH, "is not \"1220\" and 64 hex"),
  MAGNET ("btmh-short", "magnet:?xt=urn:btmh:1220e3b0c442", BAD_HASH, "is not \"1220\" and 64 hex"),
  MAGNET ("pe-bad-port", "magnet:?" XT "&x.pe=peer.example:70000", BAD_PARAMETER,
          "\"peer.example:70000\" is not host:port"),
  MAGNET ("pe-no-port", "magnet:?" XT "&x.pe=10.0.0.1", BAD_PARAMETER, "\"10.0.0.1\" is not host:port"),
  MAGNET ("so-descending", "magnet:?" XT "&so=8-6", BAD_PARAMETER, "\"8-6\" is not a valid index list"),
  MAGNET ("so-empty-item", "magnet:?" XT "&so=1,,3", BAD_PARAMETER, "\"1,,3\" is not a valid index list"),
  MAGNET ("empty-value", "magnet:?" XT "&dn=", BAD_PARAMETER, "Parameter \"dn\": empty value"),
  MAGNET ("tracker-scheme", "magnet:?" XT "&tr=ftp://t.example/a", BAD_PARAMETER, "has scheme \"ftp\""),
};

/* Running a row */

static TeMetainfo *
parse_torrent (const MalformedCase *c,
               GError             **error)
{
  g_autoptr(TeBValue) t = c->build ? c->build (c) : NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;

  if (t != NULL)
    te_bencode_encode_to (t, out);
  if (c->text != NULL)
    g_byte_array_append (out, (const guint8 *) c->text, strlen (c->text));
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&out));
  return te_metainfo_new_from_bytes (bytes, error);
}

static gboolean
run_case (const MalformedCase *c,
          GError             **error)
{
  switch (c->kind)
    {
    case INPUT_BENCODE:
      {
        g_autoptr(TeBValue) v = te_bencode_decode ((const guint8 *) c->text, strlen (c->text), error);
        return v != NULL;
      }
    case INPUT_MAGNET:
      {
        g_autoptr(TeMagnet) magnet = te_magnet_parse (c->text, error);
        return magnet != NULL;
      }
    case INPUT_TORRENT:
    default:
      {
        g_autoptr(TeMetainfo) metainfo = parse_torrent (c, error);
        return metainfo != NULL;
      }
    }
}

static void
test_case (gconstpointer data)
{
  const MalformedCase *c = data;
  g_autoptr(GError) error = NULL;
  gboolean parsed = run_case (c, &error);

  if (parsed)
    g_test_message ("%s was accepted", c->name);
  g_assert_false (parsed);
  g_assert_error (error, c->domain (), c->code);
  if (strstr (error->message, c->message) == NULL)
    g_test_message ("\"%s\" does not contain \"%s\"", error->message, c->message);
  g_assert_nonnull (strstr (error->message, c->message));
}

/* Every base the rows start from is valid: each row's error is its own. */
static void
test_bases_parse (void)
{
  for (BaseKind kind = BASE_SINGLE; kind <= BASE_HYBRID; kind++)
    {
      MalformedCase c = { .build = build_base, .base = kind };
      g_autoptr(GError) error = NULL;
      g_autoptr(TeMetainfo) metainfo = parse_torrent (&c, &error);

      g_assert_no_error (error);
      g_assert_nonnull (metainfo);
      g_assert_cmpint (te_metainfo_has_v1 (metainfo), ==, kind != BASE_V2);
      g_assert_cmpint (te_metainfo_has_v2 (metainfo), ==, kind >= BASE_V2);
    }
}

/* No hostile path may parse; for any that does, say where its files would go. */
static void
test_hostile_never_parse (void)
{
  const char *target = "/save/target";
  g_autoptr(GString) report = g_string_new (NULL);
  guint n_hostile = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TeMetainfo) metainfo = NULL;
      g_autoptr(GError) error = NULL;

      if (!cases[i].hostile)
        continue;
      n_hostile++;
      metainfo = parse_torrent (&cases[i], &error);
      if (metainfo == NULL)
        continue;
      g_string_append_printf (report, "%s parsed:", cases[i].name);
      for (guint f = 0; f < te_metainfo_get_n_files (metainfo); f++)
        {
          const char *path = te_metainfo_get_file (metainfo, f)->path;
          g_autofree char *full = g_build_filename (target, path, NULL);
          g_autofree char *canon = g_canonicalize_filename (full, NULL);
          gboolean inside = g_str_has_prefix (canon, target) && canon[strlen (target)] == '/';

          g_string_append_printf (report, " \"%s\"%s", path, inside ? "" : " (outside the target)");
        }
      g_string_append_c (report, '\n');
    }
  g_assert_cmpuint (n_hostile, >=, 20);
  g_assert_cmpstr (report->str, ==, "");
}

/* Names that are unsafe as given but sanitizable land inside the target folder. */
static void
test_sanitized_names_stay_inside (void)
{
  g_autofree char *parent = te_test_make_tmpdir ("te-malformed");
  g_autofree char *target = g_build_filename (parent, "target", NULL);
  g_autoptr(TeBValue) t = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TeMetainfo) metainfo = NULL;
  g_autoptr(GPtrArray) tree = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *zeros = g_malloc0 (PIECE_LENGTH);
  TeBValue *odd = file_entry (7000, path_of ("dir|\xff\xfename"));
  TeBValue *latin1 = file_entry (3000, path_of ("raw-\xe9"));
  TeStorage *storage;
  const char * const expected[] = {
    "target/top_level/a_b",
    "target/top_level/c_d",
    "target/top_level/dir/%FF%FEname",
    "target/top_level/utf8-\xc3\xa9",
  };

  te_bvalue_dict_set (latin1, "path.utf-8", path_of ("utf8-\xc3\xa9"));
  t = v1_torrent (list_of (file_entry (5000, path_of ("a/b")),
                           file_entry (6000, path_of ("c\\d")), odd, latin1, NULL));
  te_bvalue_dict_set (info_of (t), "name", te_bvalue_new_str ("top/level"));
  bytes = te_bencode_encode (t);
  metainfo = te_metainfo_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (te_metainfo_get_name (metainfo), ==, "top_level");

  g_assert_cmpint (g_mkdir (target, 0755), ==, 0);
  storage = te_storage_new (metainfo, target, TE_STORAGE_FLAGS_NONE);
  for (guint64 offset = 0; offset < te_metainfo_get_span (metainfo); offset += PIECE_LENGTH)
    {
      gsize len = MIN (PIECE_LENGTH, te_metainfo_get_span (metainfo) - offset);

      g_assert_true (te_storage_write (storage, offset, zeros, len, &error));
      g_assert_no_error (error);
    }
  te_storage_close_files (storage);
  g_assert_finalize_object (storage);

  tree = te_test_list_tree (parent);
  g_assert_cmpuint (tree->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (g_ptr_array_index (tree, i), ==, expected[i]);
  te_test_rm_rf (parent);
}

static void
test_file_too_large (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-malformed");
  g_autofree char *path = g_build_filename (dir, "huge.torrent", NULL);
  g_autoptr(TeMetainfo) metainfo = NULL;
  g_autoptr(GError) error = NULL;

  /* Sparse: no 64 MiB are written. */
  g_assert_true (g_file_set_contents (path, "d", 1, NULL));
  g_assert_cmpint (truncate (path, (off_t) TE_METAINFO_MAX_SIZE + 1), ==, 0);
  metainfo = te_metainfo_new_from_file (path, &error);
  g_assert_null (metainfo);
  g_assert_error (error, TE_METAINFO_ERROR, TE_METAINFO_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "is larger than the 67108864 bytes"));
  te_test_rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/malformed/bases-parse", test_bases_parse);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/te/malformed/", cases[i].name, NULL);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/te/malformed/hostile-never-parse", test_hostile_never_parse);
  g_test_add_func ("/te/malformed/sanitized-names-stay-inside", test_sanitized_names_stay_inside);
  g_test_add_func ("/te/malformed/file-too-large", test_file_too_large);

  return g_test_run ();
}
