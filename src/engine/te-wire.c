/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-wire"

#include "config.h"

#include <string.h>

#include "te-wire.h"

static const char pstr[] = "\x13" "BitTorrent protocol";

static inline guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static inline void
put_u32 (guint8  *p,
         guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/**
 * te_wire_parse:
 * @buf: received bytes, starting at a message boundary
 * @len: how many
 * @max_len: the largest length prefix accepted
 * @msg: (out): the message, pointing into @buf
 * @consumed: (out): bytes the message took, on %TE_WIRE_OK
 */
TeWireStatus
te_wire_parse (const guint8 *buf,
               gsize         len,
               guint32       max_len,
               TeWireMsg    *msg,
               gsize        *consumed)
{
  guint32 n;
  const guint8 *p;

  if (len < 4)
    return TE_WIRE_INCOMPLETE;
  n = get_u32 (buf);
  if (n > max_len)
    return TE_WIRE_OVERSIZE;
  if (len - 4 < n)
    return TE_WIRE_INCOMPLETE;

  memset (msg, 0, sizeof *msg);
  *consumed = 4 + (gsize) n;
  if (n == 0)
    {
      msg->id = TE_WIRE_KEEPALIVE;
      return TE_WIRE_OK;
    }

  msg->id = buf[4];
  p = buf + 5;
  n -= 1;

  switch (msg->id)
    {
    case TE_WIRE_CHOKE:
    case TE_WIRE_UNCHOKE:
    case TE_WIRE_INTERESTED:
    case TE_WIRE_NOT_INTERESTED:
    case TE_WIRE_HAVE_ALL:
    case TE_WIRE_HAVE_NONE:
      return n == 0 ? TE_WIRE_OK : TE_WIRE_MALFORMED;

    case TE_WIRE_HAVE:
    case TE_WIRE_SUGGEST:
    case TE_WIRE_ALLOWED_FAST:
      if (n != 4)
        return TE_WIRE_MALFORMED;
      msg->index = get_u32 (p);
      return TE_WIRE_OK;

    case TE_WIRE_BITFIELD:
      msg->data = p;
      msg->data_len = n;
      return TE_WIRE_OK;

    case TE_WIRE_REQUEST:
    case TE_WIRE_CANCEL:
    case TE_WIRE_REJECT:
      if (n != 12)
        return TE_WIRE_MALFORMED;
      msg->index = get_u32 (p);
      msg->begin = get_u32 (p + 4);
      msg->length = get_u32 (p + 8);
      return TE_WIRE_OK;

    case TE_WIRE_PIECE:
      if (n < 8)
        return TE_WIRE_MALFORMED;
      msg->index = get_u32 (p);
      msg->begin = get_u32 (p + 4);
      msg->data = p + 8;
      msg->data_len = n - 8;
      msg->length = (guint32) msg->data_len;
      return TE_WIRE_OK;

    case TE_WIRE_PORT:
      if (n != 2)
        return TE_WIRE_MALFORMED;
      msg->port = (guint16) (p[0] << 8 | p[1]);
      return TE_WIRE_OK;

    case TE_WIRE_EXTENDED:
      if (n < 1)
        return TE_WIRE_MALFORMED;
      msg->ext_id = p[0];
      msg->data = p + 1;
      msg->data_len = n - 1;
      return TE_WIRE_OK;

    case TE_WIRE_HASH_REQUEST:
    case TE_WIRE_HASH_REJECT:
    case TE_WIRE_HASHES:
      if (n < TE_WIRE_HASH_HEADER
          || (msg->id != TE_WIRE_HASHES && n != TE_WIRE_HASH_HEADER)
          || (msg->id == TE_WIRE_HASHES && (n - TE_WIRE_HASH_HEADER) % 32 != 0))
        return TE_WIRE_MALFORMED;
      msg->pieces_root = p;
      msg->base_layer = get_u32 (p + 32);
      msg->index = get_u32 (p + 36);
      msg->length = get_u32 (p + 40);
      msg->proof_layers = get_u32 (p + 44);
      msg->data = p + TE_WIRE_HASH_HEADER;
      msg->data_len = n - TE_WIRE_HASH_HEADER;
      return TE_WIRE_OK;

    default:
      return TE_WIRE_UNKNOWN_ID;
    }
}

gboolean
te_wire_parse_handshake (const guint8 *buf,
                         gsize         len,
                         TeHandshake  *out)
{
  if (len < TE_WIRE_HANDSHAKE_LEN || memcmp (buf, pstr, 20) != 0)
    return FALSE;
  memcpy (out->reserved, buf + 20, 8);
  memcpy (out->info_hash, buf + 28, 20);
  memcpy (out->peer_id, buf + 48, 20);
  return TRUE;
}

const char *
te_wire_status_to_string (TeWireStatus status)
{
  switch (status)
    {
    case TE_WIRE_OK: return "ok";
    case TE_WIRE_INCOMPLETE: return "incomplete message";
    case TE_WIRE_OVERSIZE: return "message length over the limit";
    case TE_WIRE_MALFORMED: return "malformed message";
    case TE_WIRE_UNKNOWN_ID: return "unknown message";
    default: return "invalid status";
    }
}

gsize
te_wire_write_handshake (guint8       *out,
                         const guint8  reserved[8],
                         const guint8  info_hash[20],
                         const guint8  peer_id[20])
{
  memcpy (out, pstr, 20);
  memcpy (out + 20, reserved, 8);
  memcpy (out + 28, info_hash, 20);
  memcpy (out + 48, peer_id, 20);
  return TE_WIRE_HANDSHAKE_LEN;
}

gsize
te_wire_write_keepalive (guint8 *out)
{
  put_u32 (out, 0);
  return 4;
}

gsize
te_wire_write_simple (guint8   *out,
                      TeWireId  id)
{
  put_u32 (out, 1);
  out[4] = id;
  return 5;
}

gsize
te_wire_write_index (guint8   *out,
                     TeWireId  id,
                     guint32   index)
{
  put_u32 (out, 5);
  out[4] = id;
  put_u32 (out + 5, index);
  return 9;
}

gsize
te_wire_write_request (guint8   *out,
                       TeWireId  id,
                       guint32   index,
                       guint32   begin,
                       guint32   length)
{
  put_u32 (out, 13);
  out[4] = id;
  put_u32 (out + 5, index);
  put_u32 (out + 9, begin);
  put_u32 (out + 13, length);
  return 17;
}

gsize
te_wire_write_piece_header (guint8  *out,
                            guint32  index,
                            guint32  begin,
                            guint32  block_len)
{
  put_u32 (out, 9 + block_len);
  out[4] = TE_WIRE_PIECE;
  put_u32 (out + 5, index);
  put_u32 (out + 9, begin);
  return 13;
}

gsize
te_wire_write_bitfield_header (guint8  *out,
                               guint32  bitfield_len)
{
  put_u32 (out, 1 + bitfield_len);
  out[4] = TE_WIRE_BITFIELD;
  return 5;
}

gsize
te_wire_write_extended_header (guint8  *out,
                               guint8   ext_id,
                               guint32  payload_len)
{
  put_u32 (out, 2 + payload_len);
  out[4] = TE_WIRE_EXTENDED;
  out[5] = ext_id;
  return 6;
}

gsize
te_wire_write_hash_header (guint8       *out,
                           TeWireId      id,
                           const guint8  pieces_root[32],
                           guint32       base_layer,
                           guint32       index,
                           guint32       length,
                           guint32       proof_layers,
                           guint32       n_hashes)
{
  put_u32 (out, 1 + TE_WIRE_HASH_HEADER + n_hashes * 32);
  out[4] = id;
  memcpy (out + 5, pieces_root, 32);
  put_u32 (out + 37, base_layer);
  put_u32 (out + 41, index);
  put_u32 (out + 45, length);
  put_u32 (out + 49, proof_layers);
  return 5 + TE_WIRE_HASH_HEADER;
}
