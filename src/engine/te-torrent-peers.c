/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-engine-private.h"
#include "te-torrent-private.h"

/* Connections of one torrent: which addresses to dial, the handshake, caps per
 * torrent, per address and in all, reconnect backoff, and choking. */

#define MAX_ATTEMPTS        5
#define BACKOFF_MAX_US      (300 * G_USEC_PER_SEC)
#define CONNECTS_PER_TICK   10
#define MAX_KNOWN           2000

/* PEER_RECONNECT_DELAY: the first wait; it doubles with each failure. */
static gint64
reconnect_delay_us (TeTorrent *self)
{
  return MAX ((gint64) te_engine_get_settings (self->engine)->peer_reconnect_delay_ms * 1000, 1000);
}

static gboolean
is_loopback (GInetSocketAddress *address)
{
  return g_inet_address_get_is_loopback (g_inet_socket_address_get_address (address));
}

static char *
address_key (GInetSocketAddress *address)
{
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (address));

  return g_strdup_printf ("%s:%u", host, g_inet_socket_address_get_port (address));
}

gboolean
_te_torrent_matches_hash (TeTorrent    *self,
                          const guint8  info_hash[20])
{
  /* A hybrid torrent is reachable under both hashes; v2 peers use the truncated one. */
  if (memcmp (self->info_hash, info_hash, 20) == 0)
    return TRUE;
  return self->has_v2_hash && memcmp (self->info_hash_v2, info_hash, 20) == 0;
}

guint
_te_torrent_count_peers (TeTorrent *self)
{
  return self->peers->len;
}

void
_te_torrent_learn_peer (TeTorrent          *self,
                        GInetSocketAddress *address)
{
  g_autofree char *key = NULL;
  KnownPeer *k;

  if (g_inet_socket_address_get_port (address) == 0
      || g_hash_table_size (self->known) >= MAX_KNOWN)
    return;
  key = address_key (address);
  if (g_hash_table_contains (self->known, key))
    return;
  k = g_new0 (KnownPeer, 1);
  k->address = g_object_ref (address);
  k->key = g_steal_pointer (&key);
  g_hash_table_insert (self->known, k->key, k);
}

/* An incoming peer told us where it listens: remember the address as one we
 * are connected to, so we do not dial it a second time. */
void
_te_torrent_learn_listener (TeTorrent          *self,
                            PeerSlot           *slot,
                            GInetSocketAddress *address)
{
  g_autofree char *key = address_key (address);
  KnownPeer *k;

  _te_torrent_learn_peer (self, address);
  k = g_hash_table_lookup (self->known, key);
  if (k == NULL)
    return;
  k->connected = TRUE;
  g_free (slot->listen_key);
  slot->listen_key = g_steal_pointer (&key);
}

static PeerSlot *
slot_new (TeTorrent *self,
          TePeer    *peer)
{
  PeerSlot *slot = g_new0 (PeerSlot, 1);

  slot->torrent = self;
  slot->peer = peer;
  slot->connected_at = g_get_monotonic_time ();
  slot->am_choking = TRUE;
  slot->peer_choking = TRUE;
  slot->max_requests = 16;
  slot->requests = g_new (Request, TE_PEER_MAX_REQUESTS);
  slot->incoming = g_new (TeBlock, TE_PEER_MAX_INCOMING);
  slot->srtt_us = 0;
  return slot;
}

static gboolean
handshake_cb (TePeer            *peer,
              const TeHandshake *hs,
              gpointer           user_data)
{
  TeTorrent *self = user_data;
  PeerSlot *slot = te_peer_get_owner_data (peer);

  if (!_te_torrent_matches_hash (self, hs->info_hash))
    return FALSE;

  /* Our own connection looped back: remember the address, ban nothing. */
  if (memcmp (hs->peer_id, te_engine_get_peer_id (self->engine), 20) == 0)
    {
      if (!te_peer_is_incoming (peer))
        {
          g_autofree char *key = address_key (te_peer_get_address (peer));
          KnownPeer *k = g_hash_table_lookup (self->known, key);

          if (k)
            k->is_self = TRUE;
        }
      te_peer_close (peer, "connected to ourselves");
      return FALSE;
    }
  /* The same peer twice (it dialled us while we dialled it): keep the first. */
  for (guint i = 0; i < self->peers->len; i++)
    {
      TePeer *other = g_ptr_array_index (self->peers, i);
      const TeHandshake *ohs = te_peer_get_remote_handshake (other);

      if (other != peer && ohs && te_peer_get_state (other) == TE_PEER_ACTIVE
          && memcmp (ohs->peer_id, hs->peer_id, 20) == 0)
        return FALSE;
    }

  if (!te_peer_is_incoming (peer))
    _te_engine_dial_succeeded (self->engine);
  slot->fast = TE_WIRE_RESERVED_FAST (hs->reserved);
  slot->v2 = TE_WIRE_RESERVED_V2 (hs->reserved);
  slot->extended = TE_WIRE_RESERVED_EXTENDED (hs->reserved);
  slot->handshaken = TRUE;
  if (self->metainfo)
    te_peer_set_max_message (peer, MAX (te_metainfo_get_n_pieces (self->metainfo) / 8 + 16,
                                        128 * 1024 + 64));
  return TRUE;
}

static void
ready_cb (TePeer   *peer,
          gpointer  user_data)
{
  TeTorrent *self = user_data;
  PeerSlot *slot = te_peer_get_owner_data (peer);

  g_object_ref (self);
  g_signal_emit_by_name (self, "peer-connected", peer);
  _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_PEER_CONNECTED, peer);
  if (te_peer_get_state (peer) == TE_PEER_ACTIVE)
    _te_torrent_peer_ready (self, slot);
  g_object_unref (self);
}

static gboolean
message_cb (TePeer          *peer,
            const TeWireMsg *msg,
            gpointer         user_data)
{
  TeTorrent *self = user_data;
  PeerSlot *slot = te_peer_get_owner_data (peer);

  return _te_torrent_handle_message (self, slot, msg);
}

static void
drained_cb (TePeer   *peer,
            gpointer  user_data)
{
  TeTorrent *self = user_data;
  PeerSlot *slot = te_peer_get_owner_data (peer);

  if (slot)
    _te_torrent_serve (self, slot);
}

static void
closed_cb (TePeer     *peer,
           const char *reason,
           gpointer    user_data)
{
  TeTorrent *self = user_data;
  PeerSlot *slot = te_peer_get_owner_data (peer);

  /* Removing it from the array below may drop the last reference. */
  g_object_ref (peer);
  if (!te_peer_is_incoming (peer))
    {
      g_autofree char *key = address_key (te_peer_get_address (peer));
      KnownPeer *k = g_hash_table_lookup (self->known, key);

      if (k != NULL)
        {
          k->connected = FALSE;
          if (te_peer_get_no_descriptors (peer))
            {
              /* Ours to wait out, not the address's failure: dialling pauses
               * everywhere, and this one is tried again after. */
              if (self->engine != NULL)
                _te_engine_dial_out_of_descriptors (self->engine, g_get_monotonic_time ());
              k->next_attempt_us = 0;
            }
          else if (slot == NULL || !slot->handshaken)
            {
              /* 5 s, 10 s, 20 s … 300 s, then give up on the address. */
              gint64 delay = MIN (reconnect_delay_us (self) << MIN (k->failures, 10), BACKOFF_MAX_US);

              k->failures++;
              k->next_attempt_us = g_get_monotonic_time () + delay;
              if (!k->is_self && self->running)
                _te_torrent_report (self, te_error_event_new (TE_ERROR_CATEGORY_PEER, "connect_failed",
                                                              reason, key));
              if (k->failures >= MAX_ATTEMPTS && !k->is_self)
                g_hash_table_remove (self->known, key);
            }
          else
            {
              k->failures = 0;
              k->next_attempt_us = g_get_monotonic_time () + reconnect_delay_us (self);
            }
        }
    }
  if (slot != NULL && slot->listen_key != NULL)
    {
      KnownPeer *k = g_hash_table_lookup (self->known, slot->listen_key);

      if (k != NULL)
        {
          k->connected = FALSE;
          k->next_attempt_us = g_get_monotonic_time () + reconnect_delay_us (self);
        }
    }
  if (slot != NULL)
    {
      if (slot->handshaken)
        {
          /* A handler may remove the torrent and so drop the last reference. */
          g_object_ref (self);
          g_signal_emit_by_name (self, "peer-disconnected", peer, reason);
          _te_engine_emit_torrent_signal (self->engine, self, TE_ENGINE_TORRENT_PEER_DISCONNECTED,
                                          peer, reason);
          g_object_unref (self);
        }
      _te_torrent_peer_gone (self, slot);
    }
  te_choker_peer_gone (self->choker, peer);
  g_ptr_array_remove (self->peers, peer);
  g_object_unref (peer);
}

const TePeerHandler _te_torrent_peer_handler = {
  handshake_cb,
  ready_cb,
  message_cb,
  drained_cb,
  closed_cb,
};

static void
local_handshake (TeTorrent   *self,
                 TeHandshake *hs)
{
  memset (hs, 0, sizeof *hs);
  hs->reserved[5] |= 0x10;      /* BEP 10 extension protocol */
  hs->reserved[7] |= 0x04;      /* BEP 6 fast extension */
  if (self->has_v2_hash)
    hs->reserved[7] |= 0x10;    /* BEP 52 */
  memcpy (hs->info_hash, self->info_hash, 20);
  memcpy (hs->peer_id, te_engine_get_peer_id (self->engine), 20);
}

static gboolean
accepting (TeTorrent *self)
{
  return self->running;
}

static gboolean
may_connect_to (TeTorrent          *self,
                GInetSocketAddress *address)
{
  const TeEngineSettings *settings = te_engine_get_settings (self->engine);
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (address));

  if (te_ban_manager_is_banned (_te_engine_get_bans (self->engine), host, g_get_monotonic_time ()))
    return FALSE;
  if (self->peers->len >= settings->max_peers_per_torrent
      || _te_engine_count_peers (self->engine) >= _te_engine_max_peers (self->engine))
    return FALSE;
  /* Every test peer shares 127.0.0.1, so the per-address cap spares loopback. */
  if (!is_loopback (address)
      && _te_engine_count_peers_for_host (self->engine, host) >= settings->max_per_ip)
    return FALSE;
  return TRUE;
}

void
_te_torrent_attach_incoming (TeTorrent *self,
                             TePeer    *peer)
{
  TeHandshake hs;

  if (!accepting (self) || !may_connect_to (self, te_peer_get_address (peer)))
    {
      te_peer_close (peer, "not accepting peers");
      return;
    }
  local_handshake (self, &hs);
  te_peer_set_local_handshake (peer, &hs);
  te_peer_set_owner_data (peer, slot_new (self, peer), _te_torrent_slot_free);
  te_peer_set_handler (peer, &_te_torrent_peer_handler, self);
  g_ptr_array_add (self->peers, g_object_ref (peer));
  /* The engine's handler saw the handshake; run ours now for the same checks. */
  if (!handshake_cb (peer, te_peer_get_remote_handshake (peer), self))
    te_peer_close (peer, "handshake refused");
}

static gboolean
is_connected_to (TeTorrent *self,
                 KnownPeer *k)
{
  if (k->connected)
    return TRUE;
  for (guint i = 0; i < self->peers->len; i++)
    {
      GInetSocketAddress *a = te_peer_get_address (g_ptr_array_index (self->peers, i));

      if (a && g_inet_socket_address_get_port (a) == g_inet_socket_address_get_port (k->address)
          && g_inet_address_equal (g_inet_socket_address_get_address (a),
                                   g_inet_socket_address_get_address (k->address)))
        return TRUE;
    }
  return FALSE;
}

void
_te_torrent_connect_more (TeTorrent *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 now = g_get_monotonic_time ();
  guint started = 0;

  if (!accepting (self) || self->state == TE_TORRENT_STATE_CHECKING)
    return;
  /* A seed has nothing to fetch: it waits for leechers to come. */
  if (self->state == TE_TORRENT_STATE_SEEDING)
    return;
  if (!_te_engine_may_dial (self->engine, now))
    return;

  g_hash_table_iter_init (&iter, self->known);
  while (g_hash_table_iter_next (&iter, NULL, &value) && started < CONNECTS_PER_TICK)
    {
      KnownPeer *k = value;
      TeHandshake hs;
      TePeer *peer;

      if (k->is_self || k->next_attempt_us > now || is_connected_to (self, k))
        continue;
      if (!may_connect_to (self, k->address))
        {
          if (self->peers->len >= te_engine_get_settings (self->engine)->max_peers_per_torrent)
            break;
          continue;
        }
      local_handshake (self, &hs);
      peer = te_peer_new_outgoing (k->address, &hs, &_te_torrent_peer_handler, self);
      te_peer_set_owner_data (peer, slot_new (self, peer), _te_torrent_slot_free);
      g_ptr_array_add (self->peers, peer);
      k->connected = TRUE;
      started++;
    }
}

void
_te_torrent_drop_all_peers (TeTorrent  *self,
                            const char *reason)
{
  while (self->peers->len > 0)
    {
      TePeer *peer = g_object_ref (g_ptr_array_index (self->peers, self->peers->len - 1));

      te_peer_close (peer, reason);
      /* closed_cb removed it; a peer closed before we attached has no handler of ours. */
      g_ptr_array_remove (self->peers, peer);
      g_object_unref (peer);
    }
}

void
_te_torrent_rechoke (TeTorrent *self)
{
  g_autofree TeChokerPeer *cp = g_new0 (TeChokerPeer, MAX (self->peers->len, 1));
  guint n = 0;

  for (guint i = 0; i < self->peers->len; i++)
    {
      TePeer *peer = g_ptr_array_index (self->peers, i);
      PeerSlot *slot = te_peer_get_owner_data (peer);

      if (slot == NULL || !slot->handshaken || te_peer_get_state (peer) != TE_PEER_ACTIVE)
        continue;
      cp[n].peer = slot;
      cp[n].interested = slot->peer_interested;
      cp[n].snubbed = slot->snubbed;
      cp[n].download_rate = slot->down_rate;
      cp[n].upload_rate = slot->up_rate;
      cp[n].connected_at_us = slot->connected_at;
      cp[n].unchoked = !slot->am_choking;
      n++;
    }
  te_choker_rechoke (self->choker, cp, n, _te_torrent_is_seeding (self), g_get_monotonic_time ());
  for (guint i = 0; i < n; i++)
    {
      PeerSlot *slot = cp[i].peer;

      if (cp[i].unchoked && slot->am_choking)
        {
          slot->am_choking = FALSE;
          te_peer_send_simple (slot->peer, TE_WIRE_UNCHOKE);
        }
      else if (!cp[i].unchoked && !slot->am_choking)
        {
          slot->am_choking = TRUE;
          te_peer_send_simple (slot->peer, TE_WIRE_CHOKE);
          /* Without the fast extension a choke discards their requests;
           * with it each one gets an explicit reject. */
          while (slot->n_incoming > 0)
            {
              TeBlock *b = &slot->incoming[slot->incoming_head];

              if (slot->fast)
                te_peer_send_request (slot->peer, TE_WIRE_REJECT, b->piece, b->begin, b->length);
              slot->incoming_head = (slot->incoming_head + 1) % TE_PEER_MAX_INCOMING;
              slot->n_incoming--;
            }
        }
    }
}
