/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include "te-engine-private.h"
#include "te-fd-budget.h"
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

/* The global peer cap: the setting, within the descriptor budget. */
guint
_te_engine_max_peers (TeEngine *self)
{
  return MIN (self->settings.max_peers_global, te_fd_budget_get_peers ());
}

static void
incoming_cb (GSocket  *socket,
             gpointer  user_data)
{
  TeEngine *self = user_data;
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *host = NULL;

  if (G_IS_INET_SOCKET_ADDRESS (remote))
    host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  if (host != NULL && te_ban_manager_is_banned (self->bans, host, g_get_monotonic_time ()))
    return;
  if (_te_engine_count_peers (self) + self->pending->len >= _te_engine_max_peers (self))
    return;

  connection = g_socket_connection_factory_create_connection (socket);
  g_ptr_array_add (self->pending, te_peer_new_incoming (connection, &pending_handler, self));
}

/* Outgoing connections that fail for want of descriptors: no torrent dials
 * for a while (DIAL_BACKOFF_MIN_MS, doubling to DIAL_BACKOFF_MAX_MS), and the
 * address is not held to blame; the next dial that gets through ends it. */
#define DIAL_BACKOFF_MIN_MS 1000
#define DIAL_BACKOFF_MAX_MS 30000

gboolean
_te_engine_may_dial (TeEngine *self,
                     gint64    now)
{
  return now >= self->dials_resume_us;
}

void
_te_engine_dial_out_of_descriptors (TeEngine *self,
                                    gint64    now)
{
  /* Dials started together fail together: one step for all of them. */
  if (now < self->dials_resume_us)
    return;
  self->dials_backoff_ms = self->dials_backoff_ms ? MIN (self->dials_backoff_ms * 2, DIAL_BACKOFF_MAX_MS)
                                                  : DIAL_BACKOFF_MIN_MS;
  self->dials_resume_us = now + (gint64) self->dials_backoff_ms * 1000;
  g_debug ("Out of descriptors for outgoing connections: none for %u ms", self->dials_backoff_ms);
}

void
_te_engine_dial_succeeded (TeEngine *self)
{
  self->dials_backoff_ms = 0;
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

  if (self->listener != NULL)
    return TRUE;
  self->listener = te_listener_new ("peer", NULL, incoming_cb, self);
  if (self->settings.listen_port == 0)
    {
      if (!te_listener_add_any (self->listener, 0, &last))
        goto failed;
    }
  else
    {
      gboolean listening = FALSE;

      for (guint i = 0; i < PORT_TRIES && !listening; i++)
        {
          g_clear_error (&last);
          listening = te_listener_add_any (self->listener, (guint16) (self->settings.listen_port + i), &last);
        }
      if (!listening)
        goto failed;
    }
  self->port = te_listener_get_port (self->listener);
  return TRUE;

failed:
  g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_LISTEN, "Cannot listen for peers: %s",
               last->message);
  g_clear_pointer (&self->listener, te_listener_free);
  return FALSE;
}

static void
stop_listening (TeEngine *self)
{
  for (guint i = self->pending ? self->pending->len : 0; i > 0; i--)
    te_peer_close (g_ptr_array_index (self->pending, i - 1), "engine stopped");
  g_clear_pointer (&self->listener, te_listener_free);
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
