/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TE_BENCODE_ERROR (te_bencode_error_quark ())
GQuark te_bencode_error_quark (void);

/**
 * TeBencodeError:
 * @TE_BENCODE_ERROR_TRUNCATED: the input ended inside a value
 * @TE_BENCODE_ERROR_BAD_INTEGER: an integer is empty, non-canonical or out of range
 * @TE_BENCODE_ERROR_BAD_STRING_LENGTH: a string length is malformed or points past the input
 * @TE_BENCODE_ERROR_UNEXPECTED_BYTE: a byte that cannot start a value
 * @TE_BENCODE_ERROR_TOO_DEEP: lists and dictionaries nest deeper than the limit
 * @TE_BENCODE_ERROR_TRAILING_DATA: bytes follow the top-level value
 * @TE_BENCODE_ERROR_BAD_KEY: a dictionary key is not a string
 * @TE_BENCODE_ERROR_DUPLICATE_KEY: a dictionary holds the same key twice
 * @TE_BENCODE_ERROR_TOO_LARGE: the input or a container exceeds a size limit
 */
typedef enum {
  TE_BENCODE_ERROR_TRUNCATED,
  TE_BENCODE_ERROR_BAD_INTEGER,
  TE_BENCODE_ERROR_BAD_STRING_LENGTH,
  TE_BENCODE_ERROR_UNEXPECTED_BYTE,
  TE_BENCODE_ERROR_TOO_DEEP,
  TE_BENCODE_ERROR_TRAILING_DATA,
  TE_BENCODE_ERROR_BAD_KEY,
  TE_BENCODE_ERROR_DUPLICATE_KEY,
  TE_BENCODE_ERROR_TOO_LARGE,
} TeBencodeError;

/* Nesting deeper than this is refused; v2 file trees need one level per path component. */
#define TE_BENCODE_MAX_DEPTH 256
/* At most this many items in all containers of one document together. */
#define TE_BENCODE_MAX_ITEMS (2 * 1024 * 1024)

typedef enum {
  TE_BVALUE_INT,
  TE_BVALUE_STRING,
  TE_BVALUE_LIST,
  TE_BVALUE_DICT,
} TeBValueKind;

typedef struct _TeBValue TeBValue;

TeBValue     *te_bencode_decode        (const guint8  *data,
                                        gsize          len,
                                        GError       **error);
TeBValue     *te_bencode_decode_prefix (const guint8  *data,
                                        gsize          len,
                                        gsize         *consumed,
                                        GError       **error);
GBytes       *te_bencode_encode        (const TeBValue *value);
void          te_bencode_encode_to     (const TeBValue *value,
                                        GByteArray     *out);

TeBValue     *te_bvalue_new_int        (gint64          v);
TeBValue     *te_bvalue_new_string     (const void     *data,
                                        gsize           len);
TeBValue     *te_bvalue_new_str        (const char     *str);
TeBValue     *te_bvalue_new_list       (void);
TeBValue     *te_bvalue_new_dict       (void);
void          te_bvalue_free           (TeBValue       *value);

TeBValueKind  te_bvalue_kind           (const TeBValue *value);
gboolean      te_bvalue_get_span       (const TeBValue *value,
                                        gsize          *start,
                                        gsize          *end);
gint64        te_bvalue_get_int        (const TeBValue *value);
const guint8 *te_bvalue_get_string     (const TeBValue *value,
                                        gsize          *len);
guint         te_bvalue_length         (const TeBValue *value);
TeBValue     *te_bvalue_list_nth       (const TeBValue *value,
                                        guint           n);
void          te_bvalue_list_append    (TeBValue       *list,
                                        TeBValue       *item);
TeBValue     *te_bvalue_dict_lookup    (const TeBValue *dict,
                                        const char     *key);
TeBValue     *te_bvalue_dict_lookup_len (const TeBValue *dict,
                                         const void     *key,
                                         gsize           key_len);
TeBValue     *te_bvalue_dict_nth       (const TeBValue *dict,
                                        guint           n,
                                        const guint8  **key,
                                        gsize          *key_len);
void          te_bvalue_dict_set       (TeBValue       *dict,
                                        const char     *key,
                                        TeBValue       *value);
void          te_bvalue_dict_set_len   (TeBValue       *dict,
                                        const void     *key,
                                        gsize           key_len,
                                        TeBValue       *value);

/* Typed lookups: NULL / FALSE when absent or of another kind. */
TeBValue     *te_bvalue_dict_get_kind  (const TeBValue *dict,
                                        const char     *key,
                                        TeBValueKind    kind);
gboolean      te_bvalue_dict_get_int   (const TeBValue *dict,
                                        const char     *key,
                                        gint64         *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeBValue, te_bvalue_free)

G_END_DECLS
