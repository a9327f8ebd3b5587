/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-ext.h"
#include "te-wire.h"

/* Peer wire input as a peer could send it: a handshake, then messages, each
 * parsed in place with the same limit a torrent uses; extension payloads go
 * through their parsers too. */
int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  TeHandshake hs;
  gsize off = 0;

  if (te_wire_parse_handshake (data, size, &hs))
    off = TE_WIRE_HANDSHAKE_LEN;

  while (off < size)
    {
      TeWireMsg msg;
      gsize consumed = 0;
      TeWireStatus status = te_wire_parse (data + off, size - off, 128 * 1024, &msg, &consumed);

      if (status != TE_WIRE_OK)
        break;
      g_assert_cmpuint (consumed, >=, 4);
      g_assert_cmpuint (consumed, <=, size - off);
      if (msg.data != NULL)
        {
          g_assert_true (msg.data >= data + off && msg.data + msg.data_len <= data + off + consumed);
          /* Touch every byte so ASan sees any overread. */
          volatile guint8 sum = 0;
          for (gsize i = 0; i < msg.data_len; i++)
            sum += msg.data[i];
          (void) sum;
        }
      if (msg.id == TE_WIRE_EXTENDED)
        {
          TeExtHandshake ext;
          TeMetadataMsg meta;
          g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
          g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func (g_object_unref);
          g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;

          if (te_ext_parse_handshake (msg.data, msg.data_len, &ext, &e1))
            g_assert_true (ext.yourip_len == 0 || ext.yourip_len == 4 || ext.yourip_len == 16);
          if (te_ext_parse_metadata (msg.data, msg.data_len, &meta, &e2) && meta.type == TE_METADATA_DATA)
            g_assert_cmpuint (meta.data_len, <=, TE_EXT_METADATA_PIECE);
          if (te_ext_parse_pex (msg.data, msg.data_len, added, dropped, &e3))
            g_assert_cmpuint (added->len, <=, 2 * TE_EXT_MAX_PEX_PEERS);
        }
      off += consumed;
    }
  return 0;
}
