/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* Extension messages (BEP 10): the handshake, metadata exchange for magnet
 * links (BEP 9) both ways, and peer exchange (BEP 11). */

#define METADATA_REQUESTS_PER_PEER 2
#define METADATA_STALL_US          (10 * G_USEC_PER_SEC)
#define PEX_INTERVAL_US            (60 * G_USEC_PER_SEC)
#define PEX_FIRST_US               (3 * G_USEC_PER_SEC)
#define PEX_MAX_ADDED              50

static gboolean
pex_allowed (TeTorrent *self)
{
  return te_engine_get_settings (self->engine)->enable_pex && !self->private;
}

void
_te_torrent_send_ext_handshake (TeTorrent *self,
                                PeerSlot  *slot)
{
  GInetSocketAddress *addr = te_peer_get_address (slot->peer);
  gint64 size = self->metainfo ? (gint64) g_bytes_get_size (te_metainfo_get_info_bytes (self->metainfo)) : 0;
  g_autoptr(GBytes) payload = te_ext_build_handshake (pex_allowed (self), size,
                                                      te_engine_get_port (self->engine), 500,
                                                      addr ? g_inet_socket_address_get_address (addr) : NULL,
                                                      /* A super-seed looks like a peer with
                                                       * little, or it is dropped as useless. */
                                                      _te_torrent_is_seeding (self)
                                                      && !self->super_seeding);

  te_peer_send_extended (slot->peer, TE_EXT_HANDSHAKE_ID, g_bytes_get_data (payload, NULL),
                         g_bytes_get_size (payload));
}

/* Metadata fetching (magnets) */

static guint
metadata_pieces (TeTorrent *self)
{
  return (guint) ((self->metadata_size + TE_EXT_METADATA_PIECE - 1) / TE_EXT_METADATA_PIECE);
}

static void
start_metadata (TeTorrent *self,
                gsize      size)
{
  self->metadata_size = size;
  self->metadata = g_malloc0 (size);
  self->metadata_have = te_bitfield_new (metadata_pieces (self));
  self->metadata_requested = g_malloc0 (metadata_pieces (self));
  self->metadata_progress_us = g_get_monotonic_time ();
}

static void
reset_metadata (TeTorrent *self)
{
  g_clear_pointer (&self->metadata, g_free);
  g_clear_pointer (&self->metadata_have, te_bitfield_free);
  g_clear_pointer (&self->metadata_requested, g_free);
  self->metadata_size = 0;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (slot)
        slot->metadata_requests = 0;
    }
}

void
_te_torrent_request_metadata (TeTorrent *self,
                              PeerSlot  *slot)
{
  guint n;

  if (self->metainfo != NULL || self->metadata == NULL || slot->ext.ut_metadata == 0
      || slot->ext.metadata_size != (gint64) self->metadata_size)
    return;
  n = metadata_pieces (self);
  for (guint p = 0; p < n && slot->metadata_requests < METADATA_REQUESTS_PER_PEER; p++)
    {
      g_autoptr(GBytes) msg = NULL;

      if (te_bitfield_get (self->metadata_have, p) || self->metadata_requested[p])
        continue;
      msg = te_ext_build_metadata (TE_METADATA_REQUEST, p, 0, NULL, 0);
      te_peer_send_extended (slot->peer, slot->ext.ut_metadata, g_bytes_get_data (msg, NULL),
                             g_bytes_get_size (msg));
      self->metadata_requested[p] = 1;
      slot->metadata_requests++;
    }
}

static void
request_metadata_everywhere (TeTorrent *self)
{
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (slot && slot->ext_received)
        _te_torrent_request_metadata (self, slot);
    }
}

static gboolean
metadata_matches (TeTorrent *self)
{
  if (self->has_v1_hash)
    {
      guint8 digest[TE_SHA1_LEN];

      te_sha1 (self->metadata, self->metadata_size, digest);
      return memcmp (digest, self->info_hash, TE_SHA1_LEN) == 0;
    }
  else
    {
      guint8 digest[TE_SHA256_LEN];

      te_sha256 (self->metadata, self->metadata_size, digest);
      return memcmp (digest, self->info_hash_v2, TE_SHA256_LEN) == 0;
    }
}

static void
metadata_complete (TeTorrent *self)
{
  g_autoptr(GBytes) info = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;

  if (!metadata_matches (self))
    {
      g_message ("%s: fetched metadata does not match the info-hash; fetching again", self->name);
      reset_metadata (self);
      return;
    }
  info = g_bytes_new_take (g_steal_pointer (&self->metadata), self->metadata_size);
  reset_metadata (self);
  meta = te_metainfo_new_from_info (info, &error);
  if (meta == NULL)
    {
      g_prefix_error (&error, "Metadata from peers is invalid: ");
      _te_torrent_fail (self, TE_ERROR_CATEGORY_METADATA, "invalid_torrent", g_steal_pointer (&error));
      return;
    }
  /* Kept as a .torrent for the state store. */
  {
    gsize len;
    const guint8 *raw = g_bytes_get_data (info, &len);
    GByteArray *doc = g_byte_array_sized_new (len + 9);

    g_byte_array_append (doc, (const guint8 *) "d4:info", 7);
    g_byte_array_append (doc, raw, len);
    g_byte_array_append (doc, (const guint8 *) "e", 1);
    g_clear_pointer (&self->torrent_bytes, g_bytes_unref);
    self->torrent_bytes = g_byte_array_free_to_bytes (doc);
  }
  _te_torrent_metadata_ready (self, meta, TRUE);
}

static gboolean
handle_metadata (TeTorrent       *self,
                 PeerSlot        *slot,
                 const TeWireMsg *msg)
{
  TeMetadataMsg m;
  g_autoptr(GError) error = NULL;

  if (!te_ext_parse_metadata (msg->data, msg->data_len, &m, &error))
    {
      te_peer_close (slot->peer, error->message);
      return FALSE;
    }

  switch (m.type)
    {
    case TE_METADATA_REQUEST:
      {
        g_autoptr(GBytes) reply = NULL;
        GBytes *info = self->metainfo ? te_metainfo_get_info_bytes (self->metainfo) : NULL;
        gsize size = info ? g_bytes_get_size (info) : 0;

        if (slot->ext.ut_metadata == 0)
          return TRUE;
        if (info == NULL || (gsize) m.piece * TE_EXT_METADATA_PIECE >= size)
          reply = te_ext_build_metadata (TE_METADATA_REJECT, m.piece, 0, NULL, 0);
        else
          {
            gsize off = (gsize) m.piece * TE_EXT_METADATA_PIECE;

            reply = te_ext_build_metadata (TE_METADATA_DATA, m.piece, (gint64) size,
                                           (const guint8 *) g_bytes_get_data (info, NULL) + off,
                                           MIN (TE_EXT_METADATA_PIECE, size - off));
          }
        te_peer_send_extended (slot->peer, slot->ext.ut_metadata, g_bytes_get_data (reply, NULL),
                               g_bytes_get_size (reply));
        return TRUE;
      }

    case TE_METADATA_DATA:
      {
        gsize off, expected;

        if (slot->metadata_requests > 0)
          slot->metadata_requests--;
        if (self->metainfo != NULL || self->metadata == NULL)
          return TRUE;
        if ((gsize) m.total_size != self->metadata_size || m.piece >= metadata_pieces (self))
          {
            te_peer_close (slot->peer, "metadata piece out of range");
            _te_torrent_strike (self, te_peer_get_host_string (slot->peer), "bad metadata piece");
            return FALSE;
          }
        off = (gsize) m.piece * TE_EXT_METADATA_PIECE;
        expected = MIN (TE_EXT_METADATA_PIECE, self->metadata_size - off);
        if (m.data_len != expected)
          {
            te_peer_close (slot->peer, "metadata piece of the wrong size");
            return FALSE;
          }
        memcpy (self->metadata + off, m.data, m.data_len);
        te_bitfield_set (self->metadata_have, m.piece, TRUE);
        self->metadata_progress_us = g_get_monotonic_time ();
        if (te_bitfield_is_full (self->metadata_have))
          metadata_complete (self);
        else
          _te_torrent_request_metadata (self, slot);
        return TRUE;
      }

    case TE_METADATA_REJECT:
      if (slot->metadata_requests > 0)
        slot->metadata_requests--;
      if (self->metadata_requested && m.piece < metadata_pieces (self))
        self->metadata_requested[m.piece] = 0;
      return TRUE;

    default:
      return TRUE;
    }
}

/* Peer exchange */

static GInetSocketAddress *
listen_address (PeerSlot *slot)
{
  GInetSocketAddress *addr = te_peer_get_address (slot->peer);

  if (addr == NULL)
    return NULL;
  if (!te_peer_is_incoming (slot->peer))
    return g_object_ref (addr);
  /* Incoming peers listen on the port from their extension handshake. */
  if (slot->ext.port == 0)
    return NULL;
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (g_inet_socket_address_get_address (addr),
                                                           slot->ext.port));
}

static gboolean
same_address (GInetSocketAddress *a,
              GInetSocketAddress *b)
{
  return g_inet_socket_address_get_port (a) == g_inet_socket_address_get_port (b)
         && g_inet_address_equal (g_inet_socket_address_get_address (a),
                                  g_inet_socket_address_get_address (b));
}

static void
send_pex (TeTorrent *self,
          PeerSlot  *slot)
{
  g_autoptr(GPtrArray) current = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) added = g_ptr_array_new ();
  g_autoptr(GPtrArray) dropped = g_ptr_array_new ();
  g_autoptr(GBytes) payload = NULL;

  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *other = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      GInetSocketAddress *addr;

      if (other == NULL || other == slot || !other->handshaken
          || te_peer_get_state (other->peer) != TE_PEER_ACTIVE)
        continue;
      addr = listen_address (other);
      if (addr != NULL)
        g_ptr_array_add (current, addr);
    }
  if (slot->pex_sent == NULL)
    slot->pex_sent = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < current->len && added->len < PEX_MAX_ADDED; i++)
    {
      gboolean known = FALSE;

      for (guint j = 0; j < slot->pex_sent->len && !known; j++)
        known = same_address (g_ptr_array_index (current, i), g_ptr_array_index (slot->pex_sent, j));
      if (!known)
        g_ptr_array_add (added, g_ptr_array_index (current, i));
    }
  for (guint j = slot->pex_sent->len; j > 0; j--)
    {
      gboolean still = FALSE;

      for (guint i = 0; i < current->len && !still; i++)
        still = same_address (g_ptr_array_index (current, i), g_ptr_array_index (slot->pex_sent, j - 1));
      if (!still)
        g_ptr_array_add (dropped, g_object_ref (g_ptr_array_index (slot->pex_sent, j - 1)));
    }

  payload = te_ext_build_pex (added, dropped);
  te_peer_send_extended (slot->peer, slot->ext.ut_pex, g_bytes_get_data (payload, NULL),
                         g_bytes_get_size (payload));
  self->stats.pex_sent++;

  for (guint i = 0; i < dropped->len; i++)
    for (guint j = 0; j < slot->pex_sent->len; j++)
      if (same_address (g_ptr_array_index (dropped, i), g_ptr_array_index (slot->pex_sent, j)))
        {
          g_ptr_array_remove_index_fast (slot->pex_sent, j);
          break;
        }
  for (guint i = 0; i < dropped->len; i++)
    g_object_unref (g_ptr_array_index (dropped, i));
  for (guint i = 0; i < added->len; i++)
    g_ptr_array_add (slot->pex_sent, g_object_ref (g_ptr_array_index (added, i)));
}

void
_te_torrent_pex_tick (TeTorrent *self,
                      gint64     now)
{
  /* Metadata requests that went unanswered are offered to other peers. */
  if (self->metadata != NULL && now - self->metadata_progress_us > METADATA_STALL_US)
    {
      memset (self->metadata_requested, 0, metadata_pieces (self));
      for (guint i = 0; i < self->peers->len; i++)
        {
          PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
          if (slot)
            slot->metadata_requests = 0;
        }
      self->metadata_progress_us = now;
      request_metadata_everywhere (self);
    }

  if (!pex_allowed (self))
    return;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot == NULL || !slot->ext_received || slot->ext.ut_pex == 0
          || te_peer_get_state (slot->peer) != TE_PEER_ACTIVE)
        continue;
      if (slot->last_pex_us == 0 ? now - slot->connected_at >= PEX_FIRST_US
                                 : now - slot->last_pex_us >= PEX_INTERVAL_US)
        {
          slot->last_pex_us = now;
          send_pex (self, slot);
        }
    }
}

static gboolean
handle_pex (TeTorrent       *self,
            PeerSlot        *slot,
            const TeWireMsg *msg)
{
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  if (!pex_allowed (self))
    return TRUE;
  if (!te_ext_parse_pex (msg->data, msg->data_len, added, NULL, &error))
    {
      te_peer_close (slot->peer, error->message);
      return FALSE;
    }
  self->stats.pex_received++;
  for (guint i = 0; i < added->len; i++)
    _te_torrent_learn_peer (self, g_ptr_array_index (added, i));
  _te_torrent_connect_more (self);
  return TRUE;
}

gboolean
_te_torrent_handle_extended (TeTorrent       *self,
                             PeerSlot        *slot,
                             const TeWireMsg *msg)
{
  g_autoptr(GError) error = NULL;

  if (!slot->extended)
    {
      te_peer_close (slot->peer, "extension message without the extension bit");
      return FALSE;
    }
  switch (msg->ext_id)
    {
    case TE_EXT_HANDSHAKE_ID:
      if (!te_ext_parse_handshake (msg->data, msg->data_len, &slot->ext, &error))
        {
          te_peer_close (slot->peer, error->message);
          return FALSE;
        }
      slot->ext_received = TRUE;
      if (te_peer_is_incoming (slot->peer) && slot->ext.port != 0)
        {
          g_autoptr(GInetSocketAddress) addr = listen_address (slot);
          if (addr)
            _te_torrent_learn_listener (self, slot, addr);
        }
      if (self->metainfo == NULL && self->metadata == NULL && slot->ext.metadata_size > 0)
        start_metadata (self, (gsize) slot->ext.metadata_size);
      _te_torrent_request_metadata (self, slot);
      return TRUE;

    case TE_EXT_UT_METADATA_ID:
      return handle_metadata (self, slot, msg);

    case TE_EXT_UT_PEX_ID:
      return handle_pex (self, slot, msg);

    default:
      /* An extension we did not offer: ignored, as BEP 10 allows. */
      return TRUE;
    }
}
