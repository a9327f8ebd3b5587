/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-torrent-private.h"

/* BEP 3 and BEP 6 messages of one torrent's peers: availability, interest,
 * and their dispatch; requests and piece data we download are in
 * te-torrent-download.c, serving requests in te-torrent-upload.c. */

#define SNUB_US           (60 * G_USEC_PER_SEC)
#define IDLE_US           (180 * G_USEC_PER_SEC)
#define KEEPALIVE_US      (90 * G_USEC_PER_SEC)

gboolean
_te_torrent_protocol_error (TeTorrent  *self,
                PeerSlot   *slot,
                const char *reason,
                gboolean    strike)
{
  g_debug ("%s: %s: %s", self->name, te_peer_get_address_string (slot->peer), reason);
  if (strike)
    _te_torrent_report (self, te_error_event_new (TE_ERROR_CATEGORY_PROTOCOL, "bad_message", reason,
                                                  te_peer_get_address_string (slot->peer)));
  if (strike)
    _te_torrent_strike (self, te_peer_get_host_string (slot->peer), reason);
  te_peer_close (slot->peer, reason);
  return FALSE;
}

void
_te_torrent_slot_free (gpointer data)
{
  PeerSlot *slot = data;

  te_bitfield_free (slot->has);
  te_bitfield_free (slot->allowed_fast);
  g_clear_pointer (&slot->early_bitfield, g_bytes_unref);
  g_clear_pointer (&slot->pex_sent, g_ptr_array_unref);
  g_free (slot->listen_key);
  g_free (slot->requests);
  g_free (slot->incoming);
  g_free (slot);
}

gboolean
_te_torrent_peer_is_seed (TeTorrent *self,
              PeerSlot  *slot)
{
  return slot->has_all || (slot->has != NULL && te_bitfield_is_full (slot->has));
}

static guint
count_interesting (TeTorrent *self,
                   PeerSlot  *slot)
{
  guint n = 0, total = te_bitfield_size (self->have);

  for (guint p = 0; p < total; p++)
    if (te_bitfield_get (self->wanted, p) && !te_bitfield_get (self->have, p)
        && (slot->has_all || te_bitfield_get (slot->has, p)))
      n++;
  return n;
}

void
_te_torrent_recount_interest (TeTorrent *self,
                              PeerSlot  *slot)
{
  if (slot->has_all || slot->has)
    slot->interesting = count_interesting (self, slot);
  _te_torrent_update_interest (self, slot);
  _te_torrent_fill_requests (self, slot);
}

void
_te_torrent_update_interest (TeTorrent *self,
                             PeerSlot  *slot)
{
  gboolean want = self->metainfo != NULL && slot->interesting > 0
                  && self->state == TE_TORRENT_STATE_DOWNLOADING;

  if (want == slot->am_interested)
    return;
  slot->am_interested = want;
  te_peer_send_simple (slot->peer, want ? TE_WIRE_INTERESTED : TE_WIRE_NOT_INTERESTED);
}

/* Availability is counted once metadata and our own check are in: peers that
 * arrive earlier are counted from rechecked_cb through this same function. */
static void
count_availability (TeTorrent *self,
                    PeerSlot  *slot)
{
  if (self->picker == NULL)
    return;
  if (slot->has_all)
    te_picker_peer_add_all (self->picker);
  else if (slot->has)
    te_picker_peer_add_bitfield (self->picker, slot->has);
  slot->interesting = self->have ? count_interesting (self, slot) : 0;
}

static void
send_have_state (TeTorrent *self,
                 PeerSlot  *slot)
{
  gboolean known = self->have != NULL && self->state != TE_TORRENT_STATE_CHECKING;
  gsize len;
  const guint8 *bits;

  if (!known || te_bitfield_count (self->have) == 0 || self->super_seeding)
    {
      if (slot->fast)
        te_peer_send_simple (slot->peer, TE_WIRE_HAVE_NONE);
      return;
    }
  if (slot->fast && te_bitfield_is_full (self->have))
    {
      te_peer_send_simple (slot->peer, TE_WIRE_HAVE_ALL);
      return;
    }
  bits = te_bitfield_bytes (self->have, &len);
  te_peer_send_bitfield (slot->peer, bits, len);
}

/* An interested peer gets a free upload slot at once rather than on the next
 * 10 s rechoke; the choker reconsiders everyone then. */
static void
maybe_unchoke (TeTorrent *self,
               PeerSlot  *slot)
{
  guint unchoked = 0;

  if (!slot->am_choking || !slot->peer_interested)
    return;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *other = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (other && !other->am_choking)
        unchoked++;
    }
  if (unchoked < 4)
    {
      slot->am_choking = FALSE;
      te_peer_send_simple (slot->peer, TE_WIRE_UNCHOKE);
    }
}

void
_te_torrent_peer_ready (TeTorrent *self,
                        PeerSlot  *slot)
{
  slot->super_offer = G_MAXUINT;
  send_have_state (self, slot);
  /* The first offer goes before anything that could make us look useless. */
  _te_torrent_super_seed_offer (self);
  if (slot->extended)
    _te_torrent_send_ext_handshake (self, slot);
  _te_torrent_request_hashes (self, slot);
}

void
_te_torrent_announce_pieces (TeTorrent *self)
{
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot == NULL || !slot->handshaken
          || te_peer_get_state (slot->peer) != TE_PEER_ACTIVE)
        continue;
      /* They got HAVE_NONE (or nothing) while we were checking. */
      for (guint p = 0; !self->super_seeding && p < te_bitfield_size (self->have); p++)
        if (te_bitfield_get (self->have, p))
          te_peer_send_index (slot->peer, TE_WIRE_HAVE, p);
      count_availability (self, slot);
      _te_torrent_update_interest (self, slot);
      _te_torrent_fill_requests (self, slot);
    }
}

static void
remove_incoming_waits (TeTorrent *self,
                       PeerSlot  *slot)
{
  GHashTableIter iter;
  gpointer value;

  if (self->reads == NULL)
    return;
  g_hash_table_iter_init (&iter, self->reads);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_remove (value, slot);
}

void
_te_torrent_peer_gone (TeTorrent *self,
                       PeerSlot  *slot)
{
  if (self->super_seed != NULL)
    te_super_seed_peer_gone (self->super_seed, slot);
  if (self->picker != NULL)
    {
      te_picker_peer_gone (self->picker, slot);
      if (slot->has_all)
        te_picker_peer_remove_all (self->picker);
      else if (slot->has && self->state != TE_TORRENT_STATE_CHECKING)
        te_picker_peer_remove_bitfield (self->picker, slot->has);
    }
  slot->n_requests = 0;
  remove_incoming_waits (self, slot);
}

static gboolean handle_have (TeTorrent *self, PeerSlot *slot, const TeWireMsg *msg);

static gboolean
handle_bitfield (TeTorrent       *self,
                 PeerSlot        *slot,
                 const TeWireMsg *msg)
{
  if (slot->has_all || (slot->early_bitfield != NULL && self->metainfo == NULL))
    return _te_torrent_protocol_error (self, slot, "a second bitfield", TRUE);
  if (slot->has != NULL && self->metainfo != NULL)
    {
      /* aria2 sends an updated bitfield mid-connection: take it as HAVEs. */
      g_autoptr(TeBitfield) update = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));

      if (!te_bitfield_load (update, msg->data, msg->data_len))
        return _te_torrent_protocol_error (self, slot, "bitfield of the wrong size or with spare bits set", TRUE);
      for (guint p = 0; p < te_bitfield_size (update); p++)
        if (te_bitfield_get (update, p) && !te_bitfield_get (slot->has, p))
          {
            TeWireMsg have = { .id = TE_WIRE_HAVE, .index = p };

            if (!handle_have (self, slot, &have))
              return FALSE;
          }
      return TRUE;
    }
  if (self->metainfo == NULL)
    {
      /* Kept until the metadata tells how many pieces there are. */
      if (msg->data_len > TE_EXT_MAX_METADATA / 20 / 8 + 1)
        return _te_torrent_protocol_error (self, slot, "bitfield too large", TRUE);
      slot->early_bitfield = g_bytes_new (msg->data, msg->data_len);
      return TRUE;
    }
  slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
  if (!te_bitfield_load (slot->has, msg->data, msg->data_len))
    return _te_torrent_protocol_error (self, slot, "bitfield of the wrong size or with spare bits set", TRUE);
  if (self->state != TE_TORRENT_STATE_CHECKING)
    count_availability (self, slot);
  if (_te_torrent_super_seed_active (self))
    {
      for (guint p = 0; p < te_bitfield_size (slot->has); p++)
        if (te_bitfield_get (slot->has, p))
          {
            if (self->super_seed == NULL)
              self->super_seed = te_super_seed_new (te_bitfield_size (slot->has));
            _te_torrent_super_seed_saw (self, slot, p);
          }
      _te_torrent_super_seed_offer (self);
    }
  return TRUE;
}

/* For magnets: peers' bitfields waited for the metadata. */
void
_te_torrent_apply_early_bitfield (TeTorrent *self,
                                  PeerSlot  *slot)
{
  if (slot->has_all || slot->has != NULL)
    return;
  slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
  if (slot->early_bitfield != NULL
      && !te_bitfield_load (slot->has, g_bytes_get_data (slot->early_bitfield, NULL),
                            g_bytes_get_size (slot->early_bitfield)))
    {
      g_clear_pointer (&slot->early_bitfield, g_bytes_unref);
      _te_torrent_protocol_error (self, slot, "bitfield of the wrong size", TRUE);
      return;
    }
  g_clear_pointer (&slot->early_bitfield, g_bytes_unref);
}

static gboolean
handle_have (TeTorrent       *self,
             PeerSlot        *slot,
             const TeWireMsg *msg)
{
  if (slot->has_all)
    return TRUE;
  if (self->metainfo == NULL)
    return TRUE;
  if (msg->index >= te_metainfo_get_n_pieces (self->metainfo))
    return _te_torrent_protocol_error (self, slot, "have outside the torrent", TRUE);
  if (slot->has == NULL)
    slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
  if (te_bitfield_get (slot->has, msg->index))
    return TRUE;
  te_bitfield_set (slot->has, msg->index, TRUE);
  if (self->state == TE_TORRENT_STATE_CHECKING)
    return TRUE;
  te_picker_peer_add_have (self->picker, msg->index);
  if (_te_torrent_super_seed_active (self))
    {
      _te_torrent_super_seed_saw (self, slot, msg->index);
      _te_torrent_super_seed_offer (self);
    }
  if (te_bitfield_get (self->wanted, msg->index) && !te_bitfield_get (self->have, msg->index))
    {
      slot->interesting++;
      _te_torrent_update_interest (self, slot);
      _te_torrent_fill_requests (self, slot);
    }
  if (_te_torrent_is_seeding (self) && _te_torrent_peer_is_seed (self, slot))
    {
      te_peer_close (slot->peer, "both are seeds");
      return FALSE;
    }
  return TRUE;
}

gboolean
_te_torrent_handle_message (TeTorrent       *self,
                            PeerSlot        *slot,
                            const TeWireMsg *msg)
{
  switch (msg->id)
    {
    case TE_WIRE_KEEPALIVE:
      return TRUE;

    case TE_WIRE_CHOKE:
      slot->peer_choking = TRUE;
      if (!slot->fast && self->picker)
        {
          /* Without the fast extension a choke drops our requests silently. */
          te_picker_peer_gone (self->picker, slot);
          slot->n_requests = 0;
        }
      return TRUE;

    case TE_WIRE_UNCHOKE:
      slot->peer_choking = FALSE;
      _te_torrent_fill_requests (self, slot);
      return TRUE;

    case TE_WIRE_INTERESTED:
      slot->peer_interested = TRUE;
      maybe_unchoke (self, slot);
      return TRUE;

    case TE_WIRE_NOT_INTERESTED:
      slot->peer_interested = FALSE;
      return TRUE;

    case TE_WIRE_HAVE:
      return handle_have (self, slot, msg);

    case TE_WIRE_BITFIELD:
      if (!handle_bitfield (self, slot, msg))
        return FALSE;
      _te_torrent_update_interest (self, slot);
      if (_te_torrent_is_seeding (self) && _te_torrent_peer_is_seed (self, slot))
        {
          te_peer_close (slot->peer, "both are seeds");
          return FALSE;
        }
      return TRUE;

    case TE_WIRE_HAVE_ALL:
    case TE_WIRE_HAVE_NONE:
      if (!slot->fast)
        return _te_torrent_protocol_error (self, slot, "fast-extension message without the extension", TRUE);
      if (slot->has != NULL && self->metainfo != NULL && !slot->has_all)
        {
          /* aria2 says "have all" when it completes, after bitfields and HAVEs. */
          for (guint p = 0; msg->id == TE_WIRE_HAVE_ALL && p < te_bitfield_size (slot->has); p++)
            if (!te_bitfield_get (slot->has, p))
              {
                TeWireMsg have = { .id = TE_WIRE_HAVE, .index = p };

                if (!handle_have (self, slot, &have))
                  return FALSE;
              }
          return TRUE;
        }
      if (slot->has_all || slot->early_bitfield != NULL)
        return _te_torrent_protocol_error (self, slot, "a second bitfield", TRUE);
      if (msg->id == TE_WIRE_HAVE_ALL)
        slot->has_all = TRUE;
      else if (self->metainfo)
        slot->has = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
      if (self->metainfo && self->state != TE_TORRENT_STATE_CHECKING)
        count_availability (self, slot);
      _te_torrent_update_interest (self, slot);
      if (_te_torrent_is_seeding (self) && _te_torrent_peer_is_seed (self, slot))
        {
          te_peer_close (slot->peer, "both are seeds");
          return FALSE;
        }
      return TRUE;

    case TE_WIRE_REQUEST:
      return _te_torrent_handle_request (self, slot, msg);

    case TE_WIRE_CANCEL:
      _te_torrent_handle_cancel (slot, msg);
      return TRUE;

    case TE_WIRE_PIECE:
      if (self->metainfo == NULL || self->picker == NULL)
        return _te_torrent_protocol_error (self, slot, "piece data before metadata", TRUE);
      return _te_torrent_handle_piece (self, slot, msg);

    case TE_WIRE_REJECT:
      if (!slot->fast)
        return _te_torrent_protocol_error (self, slot, "reject without the fast extension", TRUE);
      if (self->picker && _te_torrent_take_request (slot, msg->index, msg->begin, NULL))
        {
          te_picker_cancel_block (self->picker, slot, msg->index, msg->begin);
          _te_torrent_fill_requests (self, slot);
        }
      return TRUE;

    case TE_WIRE_ALLOWED_FAST:
      if (self->metainfo == NULL)
        return TRUE;
      if (msg->index >= te_metainfo_get_n_pieces (self->metainfo))
        return _te_torrent_protocol_error (self, slot, "allowed-fast outside the torrent", TRUE);
      if (slot->allowed_fast == NULL)
        slot->allowed_fast = te_bitfield_new (te_metainfo_get_n_pieces (self->metainfo));
      te_bitfield_set (slot->allowed_fast, msg->index, TRUE);
      _te_torrent_fill_requests (self, slot);
      return TRUE;

    case TE_WIRE_SUGGEST:
    case TE_WIRE_PORT:
      return TRUE;

    case TE_WIRE_EXTENDED:
      return _te_torrent_handle_extended (self, slot, msg);

    case TE_WIRE_HASH_REQUEST:
      _te_torrent_serve_hashes (self, slot, msg);
      return TRUE;

    case TE_WIRE_HASHES:
    case TE_WIRE_HASH_REJECT:
      return _te_torrent_handle_hashes (self, slot, msg);

    default:
      return _te_torrent_protocol_error (self, slot, "unknown message", TRUE);
    }
}

void
_te_torrent_check_timeouts (TeTorrent *self,
                            PeerSlot  *slot,
                            gint64     now)
{
  gint64 timeout = slot->srtt_us > 0
                   ? (gint64) CLAMP (2 * slot->srtt_us + 4 * slot->rttvar_us,
                                     4 * G_USEC_PER_SEC, 60 * G_USEC_PER_SEC)
                   : 20 * G_USEC_PER_SEC;

  if (now - te_peer_get_last_received (slot->peer) > IDLE_US)
    {
      te_peer_close (slot->peer, "idle");
      return;
    }
  if (now - te_peer_get_last_received (slot->peer) > KEEPALIVE_US)
    te_peer_send_keepalive (slot->peer);

  if (self->picker == NULL)
    return;
  if (slot->n_requests > 0 && slot->last_block_us > 0 && now - slot->last_block_us > SNUB_US)
    slot->snubbed = TRUE;

  /* Oldest first: requests are kept in the order they were sent. */
  while (slot->n_requests > 0 && now - slot->requests[0].sent_us > timeout)
    _te_torrent_cancel_request (self, slot, 0);
  _te_torrent_fill_requests (self, slot);
}
