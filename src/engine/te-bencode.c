/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-bencode"

#include "config.h"

#include <string.h>

#include "te-bencode.h"

G_DEFINE_QUARK (te-bencode-error-quark, te_bencode_error)

typedef struct {
  guint8   *key;
  gsize     key_len;
  TeBValue *value;
} DictEntry;

struct _TeBValue {
  TeBValueKind kind;
  gboolean     has_span;
  gboolean     sorted;   /* dict entries are in strictly ascending key order */
  gsize        start;
  gsize        end;
  union {
    gint64 i;
    struct {
      guint8 *data;
      gsize   len;
    } s;
    struct {
      TeBValue **items;
      guint      n;
      guint      alloc;
    } l;
    struct {
      DictEntry *entries;
      guint      n;
      guint      alloc;
    } d;
  };
};

/* Construction and access */

static TeBValue *
bvalue_new (TeBValueKind kind)
{
  TeBValue *v = g_new0 (TeBValue, 1);

  v->kind = kind;
  v->sorted = TRUE;
  return v;
}

TeBValue *
te_bvalue_new_int (gint64 i)
{
  TeBValue *v = bvalue_new (TE_BVALUE_INT);

  v->i = i;
  return v;
}

TeBValue *
te_bvalue_new_string (const void *data,
                      gsize       len)
{
  TeBValue *v = bvalue_new (TE_BVALUE_STRING);

  /* Always NUL-terminated so text can be used as a C string after a length check. */
  v->s.data = g_malloc (len + 1);
  if (len > 0)
    memcpy (v->s.data, data, len);
  v->s.data[len] = 0;
  v->s.len = len;
  return v;
}

TeBValue *
te_bvalue_new_str (const char *str)
{
  return te_bvalue_new_string (str, strlen (str));
}

TeBValue *
te_bvalue_new_list (void)
{
  return bvalue_new (TE_BVALUE_LIST);
}

TeBValue *
te_bvalue_new_dict (void)
{
  return bvalue_new (TE_BVALUE_DICT);
}

void
te_bvalue_free (TeBValue *v)
{
  if (v == NULL)
    return;

  switch (v->kind)
    {
    case TE_BVALUE_STRING:
      g_free (v->s.data);
      break;
    case TE_BVALUE_LIST:
      for (guint i = 0; i < v->l.n; i++)
        te_bvalue_free (v->l.items[i]);
      g_free (v->l.items);
      break;
    case TE_BVALUE_DICT:
      for (guint i = 0; i < v->d.n; i++)
        {
          g_free (v->d.entries[i].key);
          te_bvalue_free (v->d.entries[i].value);
        }
      g_free (v->d.entries);
      break;
    case TE_BVALUE_INT:
    default:
      break;
    }
  g_free (v);
}

TeBValueKind
te_bvalue_kind (const TeBValue *v)
{
  return v->kind;
}

gboolean
te_bvalue_get_span (const TeBValue *v,
                    gsize          *start,
                    gsize          *end)
{
  if (!v->has_span)
    return FALSE;
  *start = v->start;
  *end = v->end;
  return TRUE;
}

gint64
te_bvalue_get_int (const TeBValue *v)
{
  g_return_val_if_fail (v->kind == TE_BVALUE_INT, 0);
  return v->i;
}

const guint8 *
te_bvalue_get_string (const TeBValue *v,
                      gsize          *len)
{
  g_return_val_if_fail (v->kind == TE_BVALUE_STRING, NULL);
  if (len)
    *len = v->s.len;
  return v->s.data;
}

guint
te_bvalue_length (const TeBValue *v)
{
  switch (v->kind)
    {
    case TE_BVALUE_LIST:
      return v->l.n;
    case TE_BVALUE_DICT:
      return v->d.n;
    case TE_BVALUE_STRING:
      return (guint) MIN (v->s.len, G_MAXUINT);
    case TE_BVALUE_INT:
    default:
      return 0;
    }
}

TeBValue *
te_bvalue_list_nth (const TeBValue *v,
                    guint           n)
{
  g_return_val_if_fail (v->kind == TE_BVALUE_LIST, NULL);
  return n < v->l.n ? v->l.items[n] : NULL;
}

void
te_bvalue_list_append (TeBValue *list,
                       TeBValue *item)
{
  g_return_if_fail (list->kind == TE_BVALUE_LIST);

  if (list->l.n == list->l.alloc)
    {
      list->l.alloc = MAX (4, list->l.alloc * 2);
      list->l.items = g_renew (TeBValue *, list->l.items, list->l.alloc);
    }
  list->l.items[list->l.n++] = item;
}

static int
key_cmp (const guint8 *a,
         gsize         alen,
         const guint8 *b,
         gsize         blen)
{
  int r = memcmp (a, b, MIN (alen, blen));

  if (r != 0)
    return r;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Index of the key, or -(insertion point) - 1 when absent. Linear for unsorted input. */
static gssize
dict_find (const TeBValue *d,
           const guint8   *key,
           gsize           key_len)
{
  if (!d->sorted)
    {
      for (guint i = 0; i < d->d.n; i++)
        if (key_cmp (d->d.entries[i].key, d->d.entries[i].key_len, key, key_len) == 0)
          return i;
      return -(gssize) d->d.n - 1;
    }

  gssize lo = 0, hi = (gssize) d->d.n - 1;
  while (lo <= hi)
    {
      gssize mid = lo + (hi - lo) / 2;
      int r = key_cmp (d->d.entries[mid].key, d->d.entries[mid].key_len, key, key_len);

      if (r == 0)
        return mid;
      if (r < 0)
        lo = mid + 1;
      else
        hi = mid - 1;
    }
  return -lo - 1;
}

TeBValue *
te_bvalue_dict_lookup_len (const TeBValue *d,
                           const void     *key,
                           gsize           key_len)
{
  gssize i;

  g_return_val_if_fail (d->kind == TE_BVALUE_DICT, NULL);
  i = dict_find (d, key, key_len);
  return i >= 0 ? d->d.entries[i].value : NULL;
}

TeBValue *
te_bvalue_dict_lookup (const TeBValue *d,
                       const char     *key)
{
  return te_bvalue_dict_lookup_len (d, key, strlen (key));
}

TeBValue *
te_bvalue_dict_nth (const TeBValue *d,
                    guint           n,
                    const guint8  **key,
                    gsize          *key_len)
{
  g_return_val_if_fail (d->kind == TE_BVALUE_DICT, NULL);
  if (n >= d->d.n)
    return NULL;
  if (key)
    *key = d->d.entries[n].key;
  if (key_len)
    *key_len = d->d.entries[n].key_len;
  return d->d.entries[n].value;
}

static void
dict_insert_at (TeBValue     *d,
                guint         pos,
                guint8       *key,
                gsize         key_len,
                TeBValue     *value)
{
  if (d->d.n == d->d.alloc)
    {
      d->d.alloc = MAX (4, d->d.alloc * 2);
      d->d.entries = g_renew (DictEntry, d->d.entries, d->d.alloc);
    }
  memmove (&d->d.entries[pos + 1], &d->d.entries[pos], (d->d.n - pos) * sizeof (DictEntry));
  d->d.entries[pos] = (DictEntry) { key, key_len, value };
  d->d.n++;
}

void
te_bvalue_dict_set_len (TeBValue   *d,
                        const void *key,
                        gsize       key_len,
                        TeBValue   *value)
{
  gssize i;
  guint8 *k;

  g_return_if_fail (d->kind == TE_BVALUE_DICT);
  g_return_if_fail (d->sorted);

  i = dict_find (d, key, key_len);
  if (i >= 0)
    {
      te_bvalue_free (d->d.entries[i].value);
      d->d.entries[i].value = value;
      return;
    }
  k = g_malloc (key_len + 1);
  memcpy (k, key, key_len);
  k[key_len] = 0;
  dict_insert_at (d, (guint) (-i - 1), k, key_len, value);
}

void
te_bvalue_dict_set (TeBValue   *d,
                    const char *key,
                    TeBValue   *value)
{
  te_bvalue_dict_set_len (d, key, strlen (key), value);
}

TeBValue *
te_bvalue_dict_get_kind (const TeBValue *d,
                         const char     *key,
                         TeBValueKind    kind)
{
  TeBValue *v = te_bvalue_dict_lookup (d, key);

  return v != NULL && v->kind == kind ? v : NULL;
}

gboolean
te_bvalue_dict_get_int (const TeBValue *d,
                        const char     *key,
                        gint64         *out)
{
  TeBValue *v = te_bvalue_dict_get_kind (d, key, TE_BVALUE_INT);

  if (v == NULL)
    return FALSE;
  *out = v->i;
  return TRUE;
}

/* Decoder */

typedef struct {
  const guint8 *data;
  gsize         len;
  gsize         pos;
  guint         items;
} Decoder;

static gboolean
parse_uint (Decoder  *dec,
            guint8    terminator,
            guint64   max,
            guint64  *out,
            GError  **error,
            int       code,
            const char *what)
{
  gsize start = dec->pos;
  guint64 v = 0;

  while (dec->pos < dec->len && g_ascii_isdigit (dec->data[dec->pos]))
    {
      guint d = dec->data[dec->pos] - '0';

      if (v > (max - d) / 10)
        {
          g_set_error (error, TE_BENCODE_ERROR, code,
                       "%s at offset %" G_GSIZE_FORMAT " is too large", what, start);
          return FALSE;
        }
      v = v * 10 + d;
      dec->pos++;
    }

  if (dec->pos >= dec->len)
    {
      g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TRUNCATED,
                   "Input ends inside %s starting at offset %" G_GSIZE_FORMAT, what, start);
      return FALSE;
    }
  if (dec->pos == start)
    {
      g_set_error (error, TE_BENCODE_ERROR, code,
                   "%s at offset %" G_GSIZE_FORMAT " has no digits", what, start);
      return FALSE;
    }
  if (dec->data[dec->pos] != terminator)
    {
      g_set_error (error, TE_BENCODE_ERROR, code,
                   "Unexpected byte 0x%02x in %s at offset %" G_GSIZE_FORMAT,
                   dec->data[dec->pos], what, dec->pos);
      return FALSE;
    }
  if (dec->pos - start > 1 && dec->data[start] == '0')
    {
      g_set_error (error, TE_BENCODE_ERROR, code,
                   "%s at offset %" G_GSIZE_FORMAT " has a leading zero", what, start);
      return FALSE;
    }
  dec->pos++; /* terminator */
  *out = v;
  return TRUE;
}

static gboolean
parse_string_raw (Decoder       *dec,
                  const guint8 **out,
                  gsize         *out_len,
                  GError       **error)
{
  gsize start = dec->pos;
  guint64 len;

  if (!parse_uint (dec, ':', G_MAXSIZE, &len, error,
                   TE_BENCODE_ERROR_BAD_STRING_LENGTH, "String length"))
    return FALSE;
  if (len > dec->len - dec->pos)
    {
      g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_BAD_STRING_LENGTH,
                   "String at offset %" G_GSIZE_FORMAT " claims %" G_GUINT64_FORMAT
                   " bytes but only %" G_GSIZE_FORMAT " remain",
                   start, len, dec->len - dec->pos);
      return FALSE;
    }
  *out = dec->data + dec->pos;
  *out_len = len;
  dec->pos += len;
  return TRUE;
}

static TeBValue *decode_value (Decoder *dec, guint depth, GError **error);

static gboolean
count_item (Decoder  *dec,
            GError  **error)
{
  if (++dec->items > TE_BENCODE_MAX_ITEMS)
    {
      g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TOO_LARGE,
                   "More than %d values at offset %" G_GSIZE_FORMAT,
                   TE_BENCODE_MAX_ITEMS, dec->pos);
      return FALSE;
    }
  return TRUE;
}

static int
entry_cmp (gconstpointer a,
           gconstpointer b)
{
  const DictEntry *ea = a, *eb = b;

  return key_cmp (ea->key, ea->key_len, eb->key, eb->key_len);
}

/* Keys out of order are tolerated (some creators emit them) but duplicates are not:
 * two readers could otherwise disagree on what the torrent says. */
static gboolean
check_duplicates (TeBValue *d,
                  gsize     start,
                  GError  **error)
{
  g_autofree DictEntry *copy = g_memdup2 (d->d.entries, d->d.n * sizeof (DictEntry));

  qsort (copy, d->d.n, sizeof (DictEntry), entry_cmp);
  for (guint i = 1; i < d->d.n; i++)
    if (entry_cmp (&copy[i - 1], &copy[i]) == 0)
      {
        g_autofree char *printable = g_strescape ((const char *) copy[i].key, NULL);

        g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_DUPLICATE_KEY,
                     "Dictionary at offset %" G_GSIZE_FORMAT " has key \"%s\" twice",
                     start, printable);
        return FALSE;
      }
  return TRUE;
}

static TeBValue *
decode_container (Decoder *dec,
                  gboolean is_dict,
                  guint    depth,
                  GError **error)
{
  gsize start = dec->pos;
  g_autoptr(TeBValue) v = bvalue_new (is_dict ? TE_BVALUE_DICT : TE_BVALUE_LIST);

  if (depth >= TE_BENCODE_MAX_DEPTH)
    {
      g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TOO_DEEP,
                   "Nesting deeper than %d at offset %" G_GSIZE_FORMAT,
                   TE_BENCODE_MAX_DEPTH, start);
      return NULL;
    }
  dec->pos++; /* 'l' or 'd' */

  for (;;)
    {
      if (dec->pos >= dec->len)
        {
          g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TRUNCATED,
                       "Input ends inside the %s starting at offset %" G_GSIZE_FORMAT,
                       is_dict ? "dictionary" : "list", start);
          return NULL;
        }
      if (dec->data[dec->pos] == 'e')
        break;
      if (!count_item (dec, error))
        return NULL;

      if (is_dict)
        {
          const guint8 *key;
          gsize key_len, key_pos = dec->pos;
          guint8 *kcopy;
          TeBValue *child;

          if (!g_ascii_isdigit (dec->data[dec->pos]))
            {
              g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_BAD_KEY,
                           "Dictionary key at offset %" G_GSIZE_FORMAT " is not a string",
                           key_pos);
              return NULL;
            }
          if (!parse_string_raw (dec, &key, &key_len, error))
            return NULL;
          if (dec->pos >= dec->len)
            {
              g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TRUNCATED,
                           "Dictionary key at offset %" G_GSIZE_FORMAT " has no value", key_pos);
              return NULL;
            }
          child = decode_value (dec, depth + 1, error);
          if (child == NULL)
            return NULL;
          if (v->d.n > 0)
            {
              DictEntry *last = &v->d.entries[v->d.n - 1];
              if (key_cmp (last->key, last->key_len, key, key_len) >= 0)
                v->sorted = FALSE;
            }
          kcopy = g_malloc (key_len + 1);
          memcpy (kcopy, key, key_len);
          kcopy[key_len] = 0;
          dict_insert_at (v, v->d.n, kcopy, key_len, child);
        }
      else
        {
          TeBValue *child = decode_value (dec, depth + 1, error);

          if (child == NULL)
            return NULL;
          te_bvalue_list_append (v, child);
        }
    }
  dec->pos++; /* 'e' */

  if (is_dict && !v->sorted && !check_duplicates (v, start, error))
    return NULL;

  v->has_span = TRUE;
  v->start = start;
  v->end = dec->pos;
  return g_steal_pointer (&v);
}

static TeBValue *
decode_value (Decoder *dec,
              guint    depth,
              GError **error)
{
  gsize start = dec->pos;
  TeBValue *v;
  guint8 c;

  g_assert (dec->pos < dec->len);
  c = dec->data[dec->pos];

  if (c == 'i')
    {
      gboolean neg = FALSE;
      guint64 mag;

      dec->pos++;
      if (dec->pos < dec->len && dec->data[dec->pos] == '-')
        {
          neg = TRUE;
          dec->pos++;
        }
      if (!parse_uint (dec, 'e', neg ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64, &mag,
                       error, TE_BENCODE_ERROR_BAD_INTEGER, "Integer"))
        return NULL;
      if (neg && mag == 0)
        {
          g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_BAD_INTEGER,
                       "Integer at offset %" G_GSIZE_FORMAT " is negative zero", start);
          return NULL;
        }
      v = te_bvalue_new_int (neg ? (gint64) (0 - mag) : (gint64) mag);
    }
  else if (g_ascii_isdigit (c))
    {
      const guint8 *s;
      gsize len;

      if (!parse_string_raw (dec, &s, &len, error))
        return NULL;
      v = te_bvalue_new_string (s, len);
    }
  else if (c == 'l' || c == 'd')
    {
      return decode_container (dec, c == 'd', depth, error);
    }
  else
    {
      g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_UNEXPECTED_BYTE,
                   "Unexpected byte 0x%02x at offset %" G_GSIZE_FORMAT, c, start);
      return NULL;
    }

  v->has_span = TRUE;
  v->start = start;
  v->end = dec->pos;
  return v;
}

/**
 * te_bencode_decode:
 * @data: the bencoded bytes
 * @len: their length
 * @error: return location for a #TE_BENCODE_ERROR
 *
 * Decodes exactly one value that spans all of @data. Every value records the byte
 * span it was decoded from, so hashes can be taken over the original bytes.
 *
 * Returns: (transfer full): the value, or `NULL` with @error set
 */
TeBValue *
te_bencode_decode (const guint8  *data,
                   gsize          len,
                   GError       **error)
{
  Decoder dec = { data, len, 0, 0 };
  g_autoptr(TeBValue) v = NULL;

  if (len == 0)
    {
      g_set_error_literal (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TRUNCATED,
                           "Input is empty");
      return NULL;
    }
  v = decode_value (&dec, 0, error);
  if (v == NULL)
    return NULL;
  if (dec.pos != len)
    {
      g_set_error (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TRAILING_DATA,
                   "%" G_GSIZE_FORMAT " bytes of trailing data at offset %" G_GSIZE_FORMAT,
                   len - dec.pos, dec.pos);
      return NULL;
    }
  return g_steal_pointer (&v);
}

/**
 * te_bencode_decode_prefix:
 * @consumed: (out): how many bytes the value took
 *
 * Decodes one value at the start of @data and leaves what follows it alone, as
 * ut_metadata messages need (a dictionary, then raw bytes).
 *
 * Returns: (transfer full): the value, or `NULL` with @error set
 */
TeBValue *
te_bencode_decode_prefix (const guint8  *data,
                          gsize          len,
                          gsize         *consumed,
                          GError       **error)
{
  Decoder dec = { data, len, 0, 0 };
  TeBValue *v;

  if (len == 0)
    {
      g_set_error_literal (error, TE_BENCODE_ERROR, TE_BENCODE_ERROR_TRUNCATED,
                           "Input is empty");
      return NULL;
    }
  v = decode_value (&dec, 0, error);
  if (v != NULL)
    *consumed = dec.pos;
  return v;
}

/* Encoder: always canonical (dictionary keys sorted). */

static void
encode_string (GByteArray   *out,
               const guint8 *s,
               gsize         len)
{
  char prefix[32];
  int n = g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", len);

  g_byte_array_append (out, (const guint8 *) prefix, n);
  g_byte_array_append (out, s, len);
}

void
te_bencode_encode_to (const TeBValue *v,
                      GByteArray     *out)
{
  char buf[32];
  int n;

  switch (v->kind)
    {
    case TE_BVALUE_INT:
      n = g_snprintf (buf, sizeof buf, "i%" G_GINT64_FORMAT "e", v->i);
      g_byte_array_append (out, (const guint8 *) buf, n);
      break;

    case TE_BVALUE_STRING:
      encode_string (out, v->s.data, v->s.len);
      break;

    case TE_BVALUE_LIST:
      g_byte_array_append (out, (const guint8 *) "l", 1);
      for (guint i = 0; i < v->l.n; i++)
        te_bencode_encode_to (v->l.items[i], out);
      g_byte_array_append (out, (const guint8 *) "e", 1);
      break;

    case TE_BVALUE_DICT:
      {
        g_autofree DictEntry *sorted = NULL;
        const DictEntry *entries = v->d.entries;

        if (!v->sorted)
          {
            sorted = g_memdup2 (v->d.entries, v->d.n * sizeof (DictEntry));
            qsort (sorted, v->d.n, sizeof (DictEntry), entry_cmp);
            entries = sorted;
          }
        g_byte_array_append (out, (const guint8 *) "d", 1);
        for (guint i = 0; i < v->d.n; i++)
          {
            encode_string (out, entries[i].key, entries[i].key_len);
            te_bencode_encode_to (entries[i].value, out);
          }
        g_byte_array_append (out, (const guint8 *) "e", 1);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

GBytes *
te_bencode_encode (const TeBValue *v)
{
  GByteArray *out = g_byte_array_new ();

  te_bencode_encode_to (v, out);
  return g_byte_array_free_to_bytes (out);
}
