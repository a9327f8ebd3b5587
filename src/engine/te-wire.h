/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Peer wire messages (BEP 3, 6, 10, 52): parsed in place, written into the
 * caller's buffer. Nothing here allocates; a bad message is a status code. */

#define TE_WIRE_HANDSHAKE_LEN 68
#define TE_WIRE_BLOCK_SIZE    16384
#define TE_WIRE_HASH_HEADER   48   /* pieces root, base layer, index, length, proof layers */

typedef enum {
  TE_WIRE_CHOKE          = 0,
  TE_WIRE_UNCHOKE        = 1,
  TE_WIRE_INTERESTED     = 2,
  TE_WIRE_NOT_INTERESTED = 3,
  TE_WIRE_HAVE           = 4,
  TE_WIRE_BITFIELD       = 5,
  TE_WIRE_REQUEST        = 6,
  TE_WIRE_PIECE          = 7,
  TE_WIRE_CANCEL         = 8,
  TE_WIRE_PORT           = 9,
  TE_WIRE_SUGGEST        = 13,
  TE_WIRE_HAVE_ALL       = 14,
  TE_WIRE_HAVE_NONE      = 15,
  TE_WIRE_REJECT         = 16,
  TE_WIRE_ALLOWED_FAST   = 17,
  TE_WIRE_EXTENDED       = 20,
  TE_WIRE_HASH_REQUEST   = 21,
  TE_WIRE_HASHES         = 22,
  TE_WIRE_HASH_REJECT    = 23,
  TE_WIRE_KEEPALIVE      = 0xff,  /* not on the wire: a zero-length message */
} TeWireId;

typedef enum {
  TE_WIRE_OK,
  TE_WIRE_INCOMPLETE,   /* need more bytes */
  TE_WIRE_OVERSIZE,     /* length prefix over the limit */
  TE_WIRE_MALFORMED,    /* wrong length for its id */
  TE_WIRE_UNKNOWN_ID,
} TeWireStatus;

/* Reserved bits of the handshake */
#define TE_WIRE_RESERVED_EXTENDED(r) (((r)[5] & 0x10) != 0)
#define TE_WIRE_RESERVED_FAST(r)     (((r)[7] & 0x04) != 0)
#define TE_WIRE_RESERVED_V2(r)       (((r)[7] & 0x10) != 0)

typedef struct {
  guint8        reserved[8];
  guint8        info_hash[20];
  guint8        peer_id[20];
} TeHandshake;

/**
 * TeWireMsg:
 *
 * A parsed message. Pointers point into the buffer it was parsed from.
 * @index/@begin/@length: HAVE, SUGGEST, ALLOWED_FAST (@index); REQUEST, CANCEL,
 * REJECT (all three); PIECE (@index, @begin, @data); hash messages (@index and
 * @length, with @pieces_root, @base_layer, @proof_layers, and @data for HASHES).
 */
typedef struct {
  guint8        id;
  guint8        ext_id;
  guint16       port;
  guint32       index;
  guint32       begin;
  guint32       length;
  guint32       base_layer;
  guint32       proof_layers;
  const guint8 *pieces_root;
  const guint8 *data;
  gsize         data_len;
} TeWireMsg;

TeWireStatus  te_wire_parse                (const guint8 *buf,
                                            gsize         len,
                                            guint32       max_len,
                                            TeWireMsg    *msg,
                                            gsize        *consumed);
gboolean      te_wire_parse_handshake      (const guint8 *buf,
                                            gsize         len,
                                            TeHandshake  *out);
const char   *te_wire_status_to_string     (TeWireStatus  status);

gsize         te_wire_write_handshake      (guint8       *out,
                                            const guint8  reserved[8],
                                            const guint8  info_hash[20],
                                            const guint8  peer_id[20]);
gsize         te_wire_write_keepalive      (guint8       *out);
gsize         te_wire_write_simple         (guint8       *out,
                                            TeWireId      id);
gsize         te_wire_write_index          (guint8       *out,
                                            TeWireId      id,
                                            guint32       index);
gsize         te_wire_write_request        (guint8       *out,
                                            TeWireId      id,
                                            guint32       index,
                                            guint32       begin,
                                            guint32       length);
gsize         te_wire_write_piece_header   (guint8       *out,
                                            guint32       index,
                                            guint32       begin,
                                            guint32       block_len);
gsize         te_wire_write_bitfield_header (guint8      *out,
                                             guint32      bitfield_len);
gsize         te_wire_write_extended_header (guint8      *out,
                                             guint8       ext_id,
                                             guint32      payload_len);
gsize         te_wire_write_hash_header    (guint8       *out,
                                            TeWireId      id,
                                            const guint8  pieces_root[32],
                                            guint32       base_layer,
                                            guint32       index,
                                            guint32       length,
                                            guint32       proof_layers,
                                            guint32       n_hashes);

G_END_DECLS
