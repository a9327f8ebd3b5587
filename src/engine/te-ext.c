/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-ext"

#include "config.h"

#include <string.h>

#include "te-bencode.h"
#include "te-ext.h"

G_DEFINE_QUARK (te-ext-error-quark, te_ext_error)

static TeBValue *
decode_dict (const guint8 *data,
             gsize         len,
             gsize        *consumed,
             const char   *what,
             GError      **error)
{
  g_autoptr(GError) local = NULL;
  TeBValue *v;

  if (len > TE_EXT_MAX_MESSAGE)
    {
      g_set_error (error, TE_EXT_ERROR, TE_EXT_ERROR_TOO_LARGE, "%s of %" G_GSIZE_FORMAT
                   " bytes is too large", what, len);
      return NULL;
    }
  v = consumed ? te_bencode_decode_prefix (data, len, consumed, &local)
               : te_bencode_decode (data, len, &local);
  if (v == NULL)
    {
      g_set_error (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED, "%s: %s", what, local->message);
      return NULL;
    }
  if (te_bvalue_kind (v) != TE_BVALUE_DICT)
    {
      te_bvalue_free (v);
      g_set_error (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED, "%s is not a dictionary", what);
      return NULL;
    }
  return v;
}

static guint8
ext_id (const TeBValue *m,
        const char     *name)
{
  gint64 id;

  if (m == NULL || !te_bvalue_dict_get_int (m, name, &id) || id < 0 || id > 255)
    return 0;
  return (guint8) id;
}

/**
 * te_ext_parse_handshake:
 *
 * Reads what we use of a BEP 10 handshake; unknown keys are ignored, keys of
 * the wrong type are treated as absent.
 */
gboolean
te_ext_parse_handshake (const guint8    *data,
                        gsize            len,
                        TeExtHandshake  *out,
                        GError         **error)
{
  g_autoptr(TeBValue) d = decode_dict (data, len, NULL, "Extension handshake", error);
  TeBValue *m, *v, *ip;
  gint64 n;

  if (d == NULL)
    return FALSE;
  memset (out, 0, sizeof *out);
  out->metadata_size = -1;

  m = te_bvalue_dict_get_kind (d, "m", TE_BVALUE_DICT);
  out->ut_metadata = ext_id (m, "ut_metadata");
  out->ut_pex = ext_id (m, "ut_pex");
  if (te_bvalue_dict_get_int (d, "metadata_size", &n) && n > 0 && n <= TE_EXT_MAX_METADATA)
    out->metadata_size = n;
  if (te_bvalue_dict_get_int (d, "p", &n) && n > 0 && n < 65536)
    out->port = (guint16) n;
  if (te_bvalue_dict_get_int (d, "reqq", &n) && n > 0)
    out->reqq = (guint32) MIN (n, 100000);
  if (te_bvalue_dict_get_int (d, "upload_only", &n))
    out->upload_only = n != 0;
  v = te_bvalue_dict_get_kind (d, "v", TE_BVALUE_STRING);
  if (v != NULL)
    {
      gsize vlen;
      const guint8 *s = te_bvalue_get_string (v, &vlen);
      g_autofree char *text = g_utf8_make_valid ((const char *) s, MIN (vlen, sizeof out->client - 8));

      g_strlcpy (out->client, text, sizeof out->client);
    }
  ip = te_bvalue_dict_get_kind (d, "yourip", TE_BVALUE_STRING);
  if (ip != NULL && (te_bvalue_length (ip) == 4 || te_bvalue_length (ip) == 16))
    {
      out->yourip_len = te_bvalue_length (ip);
      memcpy (out->yourip, te_bvalue_get_string (ip, NULL), out->yourip_len);
    }
  return TRUE;
}

GBytes *
te_ext_build_handshake (gboolean      with_pex,
                        gint64        metadata_size,
                        guint16       port,
                        guint32       reqq,
                        GInetAddress *yourip,
                        gboolean      upload_only)
{
  g_autoptr(TeBValue) d = te_bvalue_new_dict ();
  TeBValue *m = te_bvalue_new_dict ();

  te_bvalue_dict_set (m, "ut_metadata", te_bvalue_new_int (TE_EXT_UT_METADATA_ID));
  if (with_pex)
    te_bvalue_dict_set (m, "ut_pex", te_bvalue_new_int (TE_EXT_UT_PEX_ID));
  te_bvalue_dict_set (d, "m", m);
  if (metadata_size > 0)
    te_bvalue_dict_set (d, "metadata_size", te_bvalue_new_int (metadata_size));
  if (port > 0)
    te_bvalue_dict_set (d, "p", te_bvalue_new_int (port));
  if (reqq > 0)
    te_bvalue_dict_set (d, "reqq", te_bvalue_new_int (reqq));
  if (upload_only)
    te_bvalue_dict_set (d, "upload_only", te_bvalue_new_int (1));
  te_bvalue_dict_set (d, "v", te_bvalue_new_str (TE_CREATED_BY));
  if (yourip != NULL)
    te_bvalue_dict_set (d, "yourip",
                        te_bvalue_new_string (g_inet_address_to_bytes (yourip),
                                              g_inet_address_get_native_size (yourip)));
  return te_bencode_encode (d);
}

gboolean
te_ext_parse_metadata (const guint8   *data,
                       gsize           len,
                       TeMetadataMsg  *out,
                       GError        **error)
{
  gsize consumed = 0;
  g_autoptr(TeBValue) d = decode_dict (data, len, &consumed, "ut_metadata message", error);
  gint64 type, piece, total;

  if (d == NULL)
    return FALSE;
  memset (out, 0, sizeof *out);
  if (!te_bvalue_dict_get_int (d, "msg_type", &type) || type < 0 || type > 2
      || !te_bvalue_dict_get_int (d, "piece", &piece) || piece < 0
      || piece >= TE_EXT_MAX_METADATA / TE_EXT_METADATA_PIECE)
    {
      g_set_error_literal (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED,
                           "ut_metadata message lacks a valid msg_type or piece");
      return FALSE;
    }
  out->type = (TeMetadataType) type;
  out->piece = (guint) piece;
  if (out->type == TE_METADATA_DATA)
    {
      if (!te_bvalue_dict_get_int (d, "total_size", &total) || total <= 0
          || total > TE_EXT_MAX_METADATA)
        {
          g_set_error_literal (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED,
                               "ut_metadata data lacks a valid total_size");
          return FALSE;
        }
      out->total_size = total;
      out->data = data + consumed;
      out->data_len = len - consumed;
      if (out->data_len > TE_EXT_METADATA_PIECE)
        {
          g_set_error_literal (error, TE_EXT_ERROR, TE_EXT_ERROR_TOO_LARGE,
                               "ut_metadata piece is larger than 16 KiB");
          return FALSE;
        }
    }
  else if (consumed != len)
    {
      g_set_error_literal (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED,
                           "ut_metadata request carries trailing data");
      return FALSE;
    }
  return TRUE;
}

GBytes *
te_ext_build_metadata (TeMetadataType  type,
                       guint           piece,
                       gint64          total_size,
                       const guint8   *data,
                       gsize           len)
{
  g_autoptr(TeBValue) d = te_bvalue_new_dict ();
  GByteArray *out = g_byte_array_new ();

  te_bvalue_dict_set (d, "msg_type", te_bvalue_new_int (type));
  te_bvalue_dict_set (d, "piece", te_bvalue_new_int (piece));
  if (type == TE_METADATA_DATA)
    te_bvalue_dict_set (d, "total_size", te_bvalue_new_int (total_size));
  te_bencode_encode_to (d, out);
  if (type == TE_METADATA_DATA)
    g_byte_array_append (out, data, len);
  return g_byte_array_free_to_bytes (out);
}

static gboolean
parse_compact (const TeBValue *d,
               const char     *key,
               gsize           stride,
               GPtrArray      *out,
               GError        **error)
{
  TeBValue *v = te_bvalue_dict_get_kind (d, key, TE_BVALUE_STRING);
  const guint8 *s;
  gsize len;

  if (v == NULL || out == NULL)
    return TRUE;
  s = te_bvalue_get_string (v, &len);
  if (len % stride != 0)
    {
      g_set_error (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED,
                   "ut_pex \"%s\" is not a list of %" G_GSIZE_FORMAT "-byte entries", key, stride);
      return FALSE;
    }
  for (gsize i = 0; i < len && out->len < TE_EXT_MAX_PEX_PEERS; i += stride)
    {
      GSocketFamily family = stride == 6 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6;
      g_autoptr(GInetAddress) addr = g_inet_address_new_from_bytes (s + i, family);
      guint16 port = (guint16) (s[i + stride - 2] << 8 | s[i + stride - 1]);

      if (port == 0)
        continue;
      g_ptr_array_add (out, g_inet_socket_address_new (addr, port));
    }
  return TRUE;
}

gboolean
te_ext_parse_pex (const guint8  *data,
                  gsize          len,
                  GPtrArray     *added,
                  GPtrArray     *dropped,
                  GError       **error)
{
  g_autoptr(TeBValue) d = decode_dict (data, len, NULL, "ut_pex message", error);

  if (d == NULL)
    return FALSE;
  return parse_compact (d, "added", 6, added, error)
         && parse_compact (d, "added6", 18, added, error)
         && parse_compact (d, "dropped", 6, dropped, error)
         && parse_compact (d, "dropped6", 18, dropped, error);
}

static void
build_compact (TeBValue   *d,
               GPtrArray  *addrs,
               const char *key4,
               const char *key6)
{
  g_autoptr(GByteArray) v4 = g_byte_array_new ();
  g_autoptr(GByteArray) v6 = g_byte_array_new ();

  for (guint i = 0; addrs && i < addrs->len && i < TE_EXT_MAX_PEX_PEERS; i++)
    {
      GInetSocketAddress *sa = g_ptr_array_index (addrs, i);
      GInetAddress *a = g_inet_socket_address_get_address (sa);
      guint16 port = g_inet_socket_address_get_port (sa);
      guint8 pb[2] = { port >> 8, port & 0xff };
      GByteArray *dst = g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4 ? v4 : v6;

      g_byte_array_append (dst, g_inet_address_to_bytes (a), g_inet_address_get_native_size (a));
      g_byte_array_append (dst, pb, 2);
    }
  te_bvalue_dict_set (d, key4, te_bvalue_new_string (v4->data, v4->len));
  if (v6->len > 0)
    te_bvalue_dict_set (d, key6, te_bvalue_new_string (v6->data, v6->len));
}

GBytes *
te_ext_build_pex (GPtrArray *added,
                  GPtrArray *dropped)
{
  g_autoptr(TeBValue) d = te_bvalue_new_dict ();

  build_compact (d, added, "added", "added6");
  if (added && added->len > 0)
    {
      /* One flag byte per IPv4 peer; 0x10 would claim reachability we have not checked. */
      g_autofree guint8 *flags = g_malloc0 (MAX (added->len, 1));
      guint n4 = 0;

      for (guint i = 0; i < added->len && i < TE_EXT_MAX_PEX_PEERS; i++)
        if (g_inet_address_get_family (g_inet_socket_address_get_address (g_ptr_array_index (added, i)))
            == G_SOCKET_FAMILY_IPV4)
          n4++;
      te_bvalue_dict_set (d, "added.f", te_bvalue_new_string (flags, n4));
    }
  build_compact (d, dropped, "dropped", "dropped6");
  return te_bencode_encode (d);
}
