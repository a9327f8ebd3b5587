/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include "te-engine-private.h"
#include "te-torrent-private.h"

/* The session's listening socket, the peers that connect to it before they
 * say which torrent they want, and stopping it all. */

/* How many ports after the configured one to try when it is taken. */
#define PORT_TRIES 10

/* Incoming connections: find the torrent the handshake names. */

static gboolean
pending_handshake_cb (TePeer            *peer,
                      const TeHandshake *hs,
                      gpointer           user_data)
{
  TeEngine *self = user_data;
  TeTorrent *torrent = _te_engine_lookup_hash (self, hs->info_hash);
  gboolean open;

  if (torrent == NULL)
    return FALSE;
  /* Hand the peer over: the pending list drops it, the torrent keeps it. */
  g_object_ref (peer);
  g_ptr_array_remove (self->pending, peer);
  _te_torrent_attach_incoming (torrent, peer);
  open = te_peer_get_state (peer) != TE_PEER_CLOSED;
  g_object_unref (peer);
  return open;
}

static gboolean
pending_message_cb (TePeer          *peer,
                    const TeWireMsg *msg,
                    gpointer         user_data)
{
  g_assert_not_reached ();
  return FALSE;
}

static void
pending_closed_cb (TePeer     *peer,
                   const char *reason,
                   gpointer    user_data)
{
  TeEngine *self = user_data;

  g_ptr_array_remove (self->pending, peer);
}

static const TePeerHandler pending_handler = {
  pending_handshake_cb,
  NULL,
  pending_message_cb,
  NULL,
  pending_closed_cb,
};

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  TeEngine *self = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autofree char *host = NULL;

  if (G_IS_INET_SOCKET_ADDRESS (remote))
    host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  if (host != NULL && te_ban_manager_is_banned (self->bans, host, g_get_monotonic_time ()))
    return TRUE;
  if (_te_engine_count_peers (self) + self->pending->len >= self->settings.max_peers_global)
    return TRUE;

  g_ptr_array_add (self->pending, te_peer_new_incoming (connection, &pending_handler, self));
  return TRUE;
}

/**
 * te_engine_start:
 *
 * Listens on the configured port, or the next free one of the ten after it.
 */
gboolean
te_engine_start (TeEngine  *self,
                 GError   **error)
{
  g_autoptr(GError) last = NULL;

  if (self->service != NULL)
    return TRUE;
  self->service = g_socket_service_new ();
  if (self->settings.listen_port == 0)
    {
      self->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (self->service), NULL, &last);
      if (self->port == 0)
        goto failed;
    }
  else
    {
      for (guint i = 0; i < PORT_TRIES && self->port == 0; i++)
        {
          guint16 port = (guint16) (self->settings.listen_port + i);

          g_clear_error (&last);
          if (g_socket_listener_add_inet_port (G_SOCKET_LISTENER (self->service), port, NULL, &last))
            self->port = port;
        }
      if (self->port == 0)
        goto failed;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  return TRUE;

failed:
  g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_LISTEN, "Cannot listen for peers: %s",
               last->message);
  g_clear_object (&self->service);
  return FALSE;
}

static void
stop_listening (TeEngine *self)
{
  for (guint i = self->pending ? self->pending->len : 0; i > 0; i--)
    te_peer_close (g_ptr_array_index (self->pending, i - 1), "engine stopped");
  if (self->service)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
}

/**
 * te_engine_stop:
 *
 * Pauses every torrent (trackers are told) and stops listening for peers.
 */
void
te_engine_stop (TeEngine *self)
{
  for (guint i = 0; self->torrents && i < self->torrents->len; i++)
    te_torrent_pause (g_ptr_array_index (self->torrents, i));
  stop_listening (self);
}

/* Stopping in slices: pausing thousands of torrents in one main-loop turn
 * stalls it for a tenth of a second. */
#define STOP_SLICE_US 4000

typedef struct {
  GPtrArray *torrents;   /* still to pause, last first */
} Stop;

static void
stop_free (gpointer data)
{
  Stop *stop = data;

  g_ptr_array_unref (stop->torrents);
  g_free (stop);
}

static gboolean
stop_slice_cb (gpointer data)
{
  GTask *task = data;
  Stop *stop = g_task_get_task_data (task);
  gint64 end = g_get_monotonic_time () + STOP_SLICE_US;

  while (stop->torrents->len > 0)
    {
      g_autoptr(TeTorrent) t = g_ptr_array_steal_index_fast (stop->torrents, stop->torrents->len - 1);

      te_torrent_pause (t);
      if (g_get_monotonic_time () >= end && stop->torrents->len > 0)
        return G_SOURCE_CONTINUE;
    }
  g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

/**
 * te_engine_stop_async:
 *
 * Like te_engine_stop(), pausing the torrents a few milliseconds' worth at a
 * time so that the main loop keeps turning: no new peers are taken from the
 * start, and the task completes once every torrent is paused.
 */
void
te_engine_stop_async (TeEngine            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Stop *stop = g_new0 (Stop, 1);
  g_autoptr(GSource) source = g_idle_source_new ();

  g_task_set_source_tag (task, te_engine_stop_async);
  stop->torrents = g_ptr_array_new_full (self->torrents->len, g_object_unref);
  for (guint i = self->torrents->len; i > 0; i--)
    g_ptr_array_add (stop->torrents, g_object_ref (g_ptr_array_index (self->torrents, i - 1)));
  g_task_set_task_data (task, stop, stop_free);
  stop_listening (self);
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, stop_slice_cb, g_object_ref (task), g_object_unref);
  g_source_set_name (source, "te-engine-stop");
  g_source_attach (source, g_main_context_get_thread_default ());
}

gboolean
te_engine_stop_finish (TeEngine      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
