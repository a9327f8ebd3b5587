/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "te-ext.h"
#include "te-wire.h"

#define MAX_LEN (128 * 1024)

static TeWireStatus
parse (const guint8 *buf,
       gsize         len,
       TeWireMsg    *msg,
       gsize        *consumed)
{
  return te_wire_parse (buf, len, MAX_LEN, msg, consumed);
}

static void
test_round_trip (void)
{
  guint8 buf[256];
  gsize n = 0, consumed;
  TeWireMsg msg;
  guint8 root[32];

  memset (root, 7, sizeof root);
  n += te_wire_write_simple (buf + n, TE_WIRE_INTERESTED);
  n += te_wire_write_index (buf + n, TE_WIRE_HAVE, 0x01020304);
  n += te_wire_write_request (buf + n, TE_WIRE_REQUEST, 5, 16384, 16384);
  n += te_wire_write_keepalive (buf + n);
  n += te_wire_write_hash_header (buf + n, TE_WIRE_HASH_REQUEST, root, 2, 4, 8, 3, 0);

  g_assert_cmpint (parse (buf, n, &msg, &consumed), ==, TE_WIRE_OK);
  g_assert_cmpuint (msg.id, ==, TE_WIRE_INTERESTED);
  g_assert_cmpuint (consumed, ==, 5);
  g_assert_cmpint (parse (buf + 5, n - 5, &msg, &consumed), ==, TE_WIRE_OK);
  g_assert_cmpuint (msg.id, ==, TE_WIRE_HAVE);
  g_assert_cmpuint (msg.index, ==, 0x01020304);
  g_assert_cmpint (parse (buf + 14, n - 14, &msg, &consumed), ==, TE_WIRE_OK);
  g_assert_cmpuint (msg.id, ==, TE_WIRE_REQUEST);
  g_assert_cmpuint (msg.index, ==, 5);
  g_assert_cmpuint (msg.begin, ==, 16384);
  g_assert_cmpuint (msg.length, ==, 16384);
  g_assert_cmpint (parse (buf + 31, n - 31, &msg, &consumed), ==, TE_WIRE_OK);
  g_assert_cmpuint (msg.id, ==, TE_WIRE_KEEPALIVE);
  g_assert_cmpint (parse (buf + 35, n - 35, &msg, &consumed), ==, TE_WIRE_OK);
  g_assert_cmpuint (msg.id, ==, TE_WIRE_HASH_REQUEST);
  g_assert_cmpmem (msg.pieces_root, 32, root, 32);
  g_assert_cmpuint (msg.base_layer, ==, 2);
  g_assert_cmpuint (msg.index, ==, 4);
  g_assert_cmpuint (msg.length, ==, 8);
  g_assert_cmpuint (msg.proof_layers, ==, 3);
  g_assert_cmpuint (35 + consumed, ==, n);
}

static void
test_piece_in_place (void)
{
  guint8 buf[13 + 100];
  TeWireMsg msg;
  gsize consumed;

  te_wire_write_piece_header (buf, 3, 32768, 100);
  memset (buf + 13, 0xab, 100);
  g_assert_cmpint (parse (buf, sizeof buf, &msg, &consumed), ==, TE_WIRE_OK);
  g_assert_cmpuint (msg.id, ==, TE_WIRE_PIECE);
  g_assert_cmpuint (msg.index, ==, 3);
  g_assert_cmpuint (msg.begin, ==, 32768);
  g_assert_cmpuint (msg.data_len, ==, 100);
  /* No copy: the block points into the receive buffer. */
  g_assert_true (msg.data == buf + 13);
}

static void
test_incomplete (void)
{
  guint8 buf[17];
  TeWireMsg msg;
  gsize consumed;

  te_wire_write_request (buf, TE_WIRE_REQUEST, 1, 2, 3);
  for (gsize len = 0; len < sizeof buf; len++)
    g_assert_cmpint (parse (buf, len, &msg, &consumed), ==, TE_WIRE_INCOMPLETE);
  g_assert_cmpint (parse (buf, sizeof buf, &msg, &consumed), ==, TE_WIRE_OK);
}

static void
test_hostile (void)
{
  static const struct {
    const char  *bytes;
    gsize        len;
    TeWireStatus status;
  } cases[] = {
    { "\x7f\xff\xff\xff\x07", 5, TE_WIRE_OVERSIZE },          /* 2 GiB length prefix */
    { "\x00\x02\x00\x01\x07", 5, TE_WIRE_OVERSIZE },          /* just over the limit */
    { "\x00\x00\x00\x02\x00\x00", 6, TE_WIRE_MALFORMED },     /* choke with payload */
    { "\x00\x00\x00\x04\x04\x00\x00\x01", 8, TE_WIRE_MALFORMED }, /* short have */
    { "\x00\x00\x00\x0c\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40", 16, TE_WIRE_MALFORMED },
    { "\x00\x00\x00\x08\x07\x00\x00\x00\x01\x00\x00\x00", 12, TE_WIRE_MALFORMED }, /* piece w/o begin */
    { "\x00\x00\x00\x01\x14", 5, TE_WIRE_MALFORMED },         /* extended without an id */
    { "\x00\x00\x00\x01\x63", 5, TE_WIRE_UNKNOWN_ID },
    { "\x00\x00\x00\x02\x09\x1a", 6, TE_WIRE_MALFORMED },     /* short port */
    { "\x00\x00\x00\x02\x0e\x00", 6, TE_WIRE_MALFORMED },     /* have-all with payload */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TeWireMsg msg;
      gsize consumed;
      g_autofree guint8 *padded = g_malloc0 (cases[i].len + 64);

      memcpy (padded, cases[i].bytes, cases[i].len);
      g_assert_cmpint (parse (padded, cases[i].len, &msg, &consumed), ==, cases[i].status);
    }
  {
    /* A hashes message whose hash list is not a multiple of 32 bytes */
    guint8 buf[5 + 48 + 31];
    TeWireMsg msg;
    gsize consumed;
    guint8 root[32] = { 0 };

    te_wire_write_hash_header (buf, TE_WIRE_HASHES, root, 0, 0, 1, 0, 0);
    buf[3] = 1 + 48 + 31;
    g_assert_cmpint (parse (buf, sizeof buf, &msg, &consumed), ==, TE_WIRE_MALFORMED);
  }
}

static void
test_handshake (void)
{
  guint8 buf[TE_WIRE_HANDSHAKE_LEN];
  guint8 reserved[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0x05 };
  guint8 hash[20], id[20];
  TeHandshake hs;

  memset (hash, 1, sizeof hash);
  memset (id, 2, sizeof id);
  te_wire_write_handshake (buf, reserved, hash, id);
  g_assert_true (te_wire_parse_handshake (buf, sizeof buf, &hs));
  g_assert_true (TE_WIRE_RESERVED_EXTENDED (hs.reserved));
  g_assert_true (TE_WIRE_RESERVED_FAST (hs.reserved));
  g_assert_false (TE_WIRE_RESERVED_V2 (hs.reserved));
  g_assert_cmpmem (hs.info_hash, 20, hash, 20);
  g_assert_cmpmem (hs.peer_id, 20, id, 20);

  g_assert_false (te_wire_parse_handshake (buf, sizeof buf - 1, &hs));
  buf[0] = 18;
  g_assert_false (te_wire_parse_handshake (buf, sizeof buf, &hs));
  buf[0] = 19;
  buf[5] = 'X';
  g_assert_false (te_wire_parse_handshake (buf, sizeof buf, &hs));
}

static void
test_ext_handshake (void)
{
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("10.1.2.3");
  g_autoptr(GBytes) built = te_ext_build_handshake (TRUE, 12345, 6881, 500, ip, TRUE);
  g_autoptr(GError) error = NULL;
  TeExtHandshake ext;
  const char *weird = "d1:md11:ut_metadatai300e6:ut_pex3:abce13:metadata_sizei-5e1:pi70000e"
                      "4:reqqi0e1:v3:x\xffye";

  g_assert_true (te_ext_parse_handshake (g_bytes_get_data (built, NULL), g_bytes_get_size (built),
                                         &ext, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ext.ut_metadata, ==, TE_EXT_UT_METADATA_ID);
  g_assert_cmpuint (ext.ut_pex, ==, TE_EXT_UT_PEX_ID);
  g_assert_cmpint (ext.metadata_size, ==, 12345);
  g_assert_cmpuint (ext.port, ==, 6881);
  g_assert_cmpuint (ext.reqq, ==, 500);
  g_assert_true (ext.upload_only);
  g_assert_cmpuint (ext.yourip_len, ==, 4);
  g_assert_cmpmem (ext.yourip, 4, "\x0a\x01\x02\x03", 4);
  g_assert_true (g_str_has_prefix (ext.client, "TorrentEdge"));

  /* Out-of-range values are treated as absent, not trusted. */
  g_assert_true (te_ext_parse_handshake ((const guint8 *) weird, strlen (weird), &ext, &error));
  g_assert_cmpuint (ext.ut_metadata, ==, 0);
  g_assert_cmpuint (ext.ut_pex, ==, 0);
  g_assert_cmpint (ext.metadata_size, ==, -1);
  g_assert_cmpuint (ext.port, ==, 0);
  g_assert_cmpuint (ext.reqq, ==, 0);
  g_assert_true (g_utf8_validate (ext.client, -1, NULL));

  g_assert_false (te_ext_parse_handshake ((const guint8 *) "li1ee", 5, &ext, &error));
  g_assert_error (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED);
}

static void
test_metadata_messages (void)
{
  g_autoptr(GBytes) data = te_ext_build_metadata (TE_METADATA_DATA, 2, 40000, (const guint8 *) "xyz", 3);
  g_autoptr(GBytes) req = te_ext_build_metadata (TE_METADATA_REQUEST, 1, 0, NULL, 0);
  g_autoptr(GError) error = NULL;
  TeMetadataMsg m;
  const struct {
    const char *text;
    int         code;
  } bad[] = {
    { "d8:msg_typei0ee", TE_EXT_ERROR_MALFORMED },                          /* no piece */
    { "d8:msg_typei7e5:piecei0ee", TE_EXT_ERROR_MALFORMED },                /* unknown type */
    { "d8:msg_typei0e5:piecei-1ee", TE_EXT_ERROR_MALFORMED },               /* negative piece */
    { "d8:msg_typei0e5:piecei99999ee", TE_EXT_ERROR_MALFORMED },            /* piece past 32 MiB */
    { "d8:msg_typei1e5:piecei0e10:total_sizei999999999ee", TE_EXT_ERROR_MALFORMED },
    { "d8:msg_typei0e5:piecei0eeTRAILING", TE_EXT_ERROR_MALFORMED },        /* request with data */
  };

  g_assert_true (te_ext_parse_metadata (g_bytes_get_data (data, NULL), g_bytes_get_size (data), &m, &error));
  g_assert_cmpint (m.type, ==, TE_METADATA_DATA);
  g_assert_cmpuint (m.piece, ==, 2);
  g_assert_cmpint (m.total_size, ==, 40000);
  g_assert_cmpmem (m.data, m.data_len, "xyz", 3);
  g_assert_true (te_ext_parse_metadata (g_bytes_get_data (req, NULL), g_bytes_get_size (req), &m, &error));
  g_assert_cmpint (m.type, ==, TE_METADATA_REQUEST);
  g_assert_cmpuint (m.piece, ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (te_ext_parse_metadata ((const guint8 *) bad[i].text, strlen (bad[i].text), &m, &error));
      g_assert_error (error, TE_EXT_ERROR, bad[i].code);
    }
  {
    /* A data piece larger than 16 KiB */
    g_autofree guint8 *big = g_malloc0 (TE_EXT_METADATA_PIECE + 1);
    g_autoptr(GBytes) oversized = te_ext_build_metadata (TE_METADATA_DATA, 0, 40000, big,
                                                         TE_EXT_METADATA_PIECE + 1);
    g_clear_error (&error);
    g_assert_false (te_ext_parse_metadata (g_bytes_get_data (oversized, NULL),
                                           g_bytes_get_size (oversized), &m, &error));
    g_assert_error (error, TE_EXT_ERROR, TE_EXT_ERROR_TOO_LARGE);
  }
}

static void
test_pex (void)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GBytes) msg = NULL;
  g_autoptr(GError) error = NULL;
  const char *addrs[] = { "1.2.3.4", "::1", "5.6.7.8" };

  for (guint i = 0; i < G_N_ELEMENTS (addrs); i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_from_string (addrs[i]);
      g_ptr_array_add (out, g_inet_socket_address_new (a, 6881 + i));
    }
  msg = te_ext_build_pex (out, NULL);
  g_assert_true (te_ext_parse_pex (g_bytes_get_data (msg, NULL), g_bytes_get_size (msg), added,
                                   dropped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added->len, ==, 3);
  g_assert_cmpuint (dropped->len, ==, 0);
  for (guint i = 0; i < added->len; i++)
    {
      GInetSocketAddress *sa = g_ptr_array_index (added, i);
      g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (sa));
      guint16 port = g_inet_socket_address_get_port (sa);

      /* IPv4 entries come first, then IPv6. */
      g_assert_true ((g_str_equal (host, "1.2.3.4") && port == 6881)
                     || (g_str_equal (host, "5.6.7.8") && port == 6883)
                     || (g_str_equal (host, "::1") && port == 6882));
    }

  g_ptr_array_set_size (added, 0);
  g_assert_false (te_ext_parse_pex ((const guint8 *) "d5:added5:12345e", 16, added, dropped, &error));
  g_assert_error (error, TE_EXT_ERROR, TE_EXT_ERROR_MALFORMED);
  g_clear_error (&error);
  /* Port 0 entries are dropped, not dialled. */
  g_assert_true (te_ext_parse_pex ((const guint8 *) "d5:added6:\x01\x02\x03\x04\x00\x00" "e", 17, added,
                                   dropped, &error));
  g_assert_cmpuint (added->len, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/wire/round-trip", test_round_trip);
  g_test_add_func ("/te/wire/piece-in-place", test_piece_in_place);
  g_test_add_func ("/te/wire/incomplete", test_incomplete);
  g_test_add_func ("/te/wire/hostile", test_hostile);
  g_test_add_func ("/te/wire/handshake", test_handshake);
  g_test_add_func ("/te/wire/ext-handshake", test_ext_handshake);
  g_test_add_func ("/te/wire/metadata", test_metadata_messages);
  g_test_add_func ("/te/wire/pex", test_pex);

  return g_test_run ();
}
