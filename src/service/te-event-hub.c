/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-event-hub"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "te-api.h"
#include "te-event-hub.h"
#include "te-peer.h"
#include "te-queue-manager.h"
#include "te-torrent.h"

/* Each client has a bounded queue. Frames go to libsoup only while the
 * client's socket accepts data, so libsoup holds at most one frame. While a
 * client is behind, progress batches replace each other (the latest wins)
 * and piece events are dropped; other events queue, and a client whose queue
 * passes the bound is closed with TE_EVENT_HUB_CLOSE_TOO_SLOW.
 *
 * Time bounds too, checked once a second: a client whose socket has taken
 * nothing for the stall timeout while frames wait, or that has not answered
 * the keepalive pings for that long, is closed the same way (even when few
 * events come, a client that never reads would otherwise stay for good). A
 * client that does not take the close frame either has its socket shut down
 * after a grace period. */

#define MAX_SUBSCRIPTIONS 4096
#define MAX_BACKLOG_BYTES (8 * 1024 * 1024)
#define MAX_INCOMING 65536
#define MAX_CLOSE_GRACE_US (5 * G_USEC_PER_SEC)

typedef enum {
  KIND_TERMINAL,   /* kept until sent */
  KIND_PIECE,      /* dropped while the client is behind */
} Kind;

typedef struct {
  TeEventHub              *hub;
  SoupWebsocketConnection *conn;
  GSocket                 *socket;
  GHashTable              *subscribed;   /* info-hash hex; NULL: all torrents */
  GQueue                   frames;       /* char * */
  gsize                    queued_bytes;
  char                    *progress;     /* the pending progress batch */
  GSource                  *writable;
  gint64                   waiting_since;  /* frames wait and the socket took none since; 0: none wait */
  gint64                   heard_at;       /* the last pong or message */
  gint64                   closing_since;
  gboolean                 closing;
  gboolean                 shut_down;
} Client;

struct _TeEventHub {
  TeEngine   *engine;
  GPtrArray  *clients;
  guint       progress_id;
  guint       max_backlog;
  guint       stall_timeout_ms;
};

static void client_flush (Client *c);

/* Frames */

static void
begin_event (GString    *s,
             const char *type,
             const char *id)
{
  g_string_append (s, "{\"type\":\"");
  g_string_append (s, type);
  g_string_append (s, "\",\"infoHash\":");
  if (id)
    te_api_append_string (s, id);
  else
    g_string_append (s, "null");
  g_string_append_printf (s, ",\"timestamp\":%" G_GINT64_FORMAT ",\"data\":{", g_get_real_time () / 1000);
}

static gboolean
wants (Client     *c,
       const char *id)
{
  return c->subscribed == NULL || id == NULL || g_hash_table_contains (c->subscribed, id);
}

static void
client_free (Client *c)
{
  if (c->writable)
    {
      g_source_destroy (c->writable);
      g_source_unref (c->writable);
    }
  g_signal_handlers_disconnect_by_data (c->conn, c);
  g_queue_clear_full (&c->frames, g_free);
  g_clear_pointer (&c->subscribed, g_hash_table_unref);
  g_free (c->progress);
  g_object_unref (c->socket);
  g_object_unref (c->conn);
  g_free (c);
}

static void
client_drop (Client     *c,
             gushort     code,
             const char *reason)
{
  if (c->closing)
    return;
  c->closing = TRUE;
  c->closing_since = g_get_monotonic_time ();
  g_queue_clear_full (&c->frames, g_free);
  g_clear_pointer (&c->progress, g_free);
  c->queued_bytes = 0;
  if (soup_websocket_connection_get_state (c->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (c->conn, code, reason);
}

static gboolean
socket_writable (Client *c)
{
  return (g_socket_condition_check (c->socket, G_IO_OUT) & G_IO_OUT) != 0;
}

static gboolean
writable_cb (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  Client *c = user_data;

  g_source_unref (c->writable);
  c->writable = NULL;
  client_flush (c);
  return G_SOURCE_REMOVE;
}

static gboolean
client_pending (Client *c)
{
  return c->frames.length > 0 || c->progress != NULL;
}

static void
client_flush (Client *c)
{
  gboolean sent = FALSE;

  while (!c->closing && client_pending (c) && socket_writable (c))
    {
      g_autofree char *frame = g_queue_pop_head (&c->frames);

      if (frame)
        c->queued_bytes -= strlen (frame);
      else
        frame = g_steal_pointer (&c->progress);
      soup_websocket_connection_send_text (c->conn, frame);
      sent = TRUE;
    }
  if (!client_pending (c))
    c->waiting_since = 0;
  else if (sent || c->waiting_since == 0)
    c->waiting_since = g_get_monotonic_time ();
  if (!c->closing && client_pending (c) && c->writable == NULL)
    {
      c->writable = g_socket_create_source (c->socket, G_IO_OUT, NULL);
      g_source_set_callback (c->writable, (GSourceFunc) G_CALLBACK (writable_cb), c, NULL);
      g_source_attach (c->writable, NULL);
    }
}

static void
client_push (Client *c,
             Kind    kind,
             const char *frame)
{
  gboolean behind = client_pending (c) || !socket_writable (c);

  if (c->closing)
    return;
  if (kind == KIND_PIECE && behind)
    return;
  g_queue_push_tail (&c->frames, g_strdup (frame));
  c->queued_bytes += strlen (frame);
  if (c->frames.length > c->hub->max_backlog || c->queued_bytes > MAX_BACKLOG_BYTES)
    {
      g_debug ("An event client fell %u frames behind: closing it", c->frames.length);
      client_drop (c, TE_EVENT_HUB_CLOSE_TOO_SLOW, "client too slow");
      return;
    }
  client_flush (c);
}

static void
broadcast (TeEventHub *hub,
           Kind        kind,
           const char *id,
           GString    *frame)
{
  for (guint i = 0; i < hub->clients->len; i++)
    {
      Client *c = g_ptr_array_index (hub->clients, i);

      if (wants (c, id))
        client_push (c, kind, frame->str);
    }
}

/* Engine events: the engine repeats every torrent's signals, so one
 * connection covers all torrents, and none reaches us for a removed one. */

static void
state_changed_cb (TeEngine       *engine,
                  TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  TeEventHub     *hub)
{
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autoptr(GString) s = g_string_new (NULL);

  if (hub->clients->len == 0)
    return;
  begin_event (s, "torrent:state", id);
  g_string_append_printf (s, "\"from\":\"%s\",\"to\":\"%s\"}}", te_torrent_state_to_string (from),
                          te_torrent_state_to_string (to));
  broadcast (hub, KIND_TERMINAL, id, s);
}

static void
piece_completed_cb (TeEngine   *engine,
                    TeTorrent  *torrent,
                    guint       index,
                    TeEventHub *hub)
{
  g_autofree char *id = NULL;
  g_autoptr(GString) s = NULL;
  TeTorrentStats st;

  if (hub->clients->len == 0)
    return;
  id = te_torrent_dup_id (torrent);
  s = g_string_new (NULL);
  te_torrent_get_stats (torrent, &st);
  begin_event (s, "torrent:piece", id);
  g_string_append_printf (s, "\"index\":%u,\"completedPieces\":%u,\"totalPieces\":%u}}", index,
                          st.pieces_have, st.pieces_total);
  broadcast (hub, KIND_PIECE, id, s);
}

static void
completed_cb (TeEngine   *engine,
              TeTorrent  *torrent,
              TeEventHub *hub)
{
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autoptr(GString) s = g_string_new (NULL);
  gint64 secs = MAX (te_torrent_get_completed_at (torrent) - te_torrent_get_added_at (torrent), 0);
  guint64 size = te_torrent_get_total_size (torrent);

  if (hub->clients->len == 0)
    return;
  begin_event (s, "torrent:complete", id);
  g_string_append (s, "\"name\":");
  te_api_append_string (s, te_torrent_get_name (torrent));
  g_string_append_printf (s, ",\"totalSize\":%" G_GUINT64_FORMAT ",\"downloadTime\":%" G_GINT64_FORMAT
                          ",\"averageSpeed\":%" G_GUINT64_FORMAT "}}", size, secs, secs ? size / secs : size);
  broadcast (hub, KIND_TERMINAL, id, s);
}

static void
error_cb (TeEngine           *engine,
          TeTorrent          *torrent,
          const TeErrorEvent *event,
          TeEventHub         *hub)
{
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autoptr(GString) s = g_string_new (NULL);

  if (hub->clients->len == 0)
    return;
  begin_event (s, "torrent:error", id);
  g_string_append_printf (s, "\"category\":\"%s\",\"code\":", te_error_category_to_string (event->category));
  te_api_append_string (s, event->code ? event->code : "");
  g_string_append (s, ",\"message\":");
  te_api_append_string (s, event->message ? event->message : "");
  g_string_append (s, ",\"details\":");
  if (event->details)
    te_api_append_string (s, event->details);
  else
    g_string_append (s, "null");
  g_string_append_printf (s, ",\"recoverable\":%s,\"action\":\"%s\"}}", event->recoverable ? "true" : "false",
                          te_error_action_to_string (event->action));
  broadcast (hub, KIND_TERMINAL, id, s);
}

static void
peer_event (TeEventHub *hub,
            TeTorrent  *torrent,
            TePeer     *peer,
            const char *type,
            const char *reason)
{
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autoptr(GString) s = g_string_new (NULL);
  const TeHandshake *hs = te_peer_get_remote_handshake (peer);
  GInetSocketAddress *addr = te_peer_get_address (peer);
  g_autofree char *ip = addr ? g_inet_address_to_string (g_inet_socket_address_get_address (addr)) : NULL;
  char client[9] = { 0 };

  if (hub->clients->len == 0)
    return;
  begin_event (s, type, id);
  g_string_append (s, "\"peerId\":");
  if (hs)
    {
      g_autofree char *hex = g_malloc (41);

      for (guint i = 0; i < 20; i++)
        g_snprintf (hex + 2 * i, 3, "%02x", hs->peer_id[i]);
      te_api_append_string (s, hex);
      /* Azureus-style ids name their client in the first eight bytes. */
      for (guint i = 0; i < 8; i++)
        client[i] = g_ascii_isprint (hs->peer_id[i]) ? hs->peer_id[i] : '?';
    }
  else
    g_string_append (s, "null");
  g_string_append (s, ",\"ip\":");
  te_api_append_string (s, ip ? ip : "");
  g_string_append_printf (s, ",\"port\":%u,\"client\":", addr ? g_inet_socket_address_get_port (addr) : 0);
  te_api_append_string (s, client);
  if (reason)
    {
      g_string_append (s, ",\"reason\":");
      te_api_append_string (s, reason);
    }
  g_string_append (s, "}}");
  broadcast (hub, KIND_TERMINAL, id, s);
}

static void
peer_connected_cb (TeEngine   *engine,
                   TeTorrent  *torrent,
                   TePeer     *peer,
                   TeEventHub *hub)
{
  peer_event (hub, torrent, peer, "peer:connected", NULL);
}

static void
peer_disconnected_cb (TeEngine   *engine,
                      TeTorrent  *torrent,
                      TePeer     *peer,
                      const char *reason,
                      TeEventHub *hub)
{
  peer_event (hub, torrent, peer, "peer:disconnected", reason ? reason : "");
}

static void
torrent_added_cb (TeEngine   *engine,
                  TeTorrent  *torrent,
                  TeEventHub *hub)
{
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autoptr(GString) s = g_string_new (NULL);

  if (hub->clients->len == 0)
    return;
  begin_event (s, "torrent:added", id);
  g_string_append (s, "\"name\":");
  te_api_append_string (s, te_torrent_get_name (torrent));
  g_string_append (s, ",\"savePath\":");
  te_api_append_string (s, te_torrent_get_save_path (torrent));
  g_string_append_printf (s, ",\"totalSize\":%" G_GUINT64_FORMAT "}}", te_torrent_get_total_size (torrent));
  broadcast (hub, KIND_TERMINAL, id, s);
}

static void
torrent_removed_cb (TeEngine   *engine,
                    TeTorrent  *torrent,
                    gboolean    delete_data,
                    TeEventHub *hub)
{
  g_autofree char *id = te_torrent_dup_id (torrent);
  g_autoptr(GString) s = g_string_new (NULL);

  if (hub->clients->len == 0)
    return;
  begin_event (s, "torrent:removed", id);
  g_string_append_printf (s, "\"deleteData\":%s}}", delete_data ? "true" : "false");
  broadcast (hub, KIND_TERMINAL, id, s);
}

static void
queue_changed_cb (TeQueueManager *queue,
                  TeEventHub     *hub)
{
  g_autoptr(GString) s = g_string_new (NULL);

  if (hub->clients->len == 0)
    return;
  begin_event (s, "queue:changed", NULL);
  g_string_append_printf (s, "\"activeDownloads\":%u,\"activeSeeds\":%u}}",
                          te_queue_manager_count_active (queue, FALSE), te_queue_manager_count_active (queue, TRUE));
  broadcast (hub, KIND_TERMINAL, NULL, s);
}

/* Progress, once a second, one frame per client */

static gboolean
is_active (TeTorrent            *t,
           const TeTorrentStats *st)
{
  switch (te_torrent_get_state (t))
    {
    case TE_TORRENT_STATE_PENDING:
    case TE_TORRENT_STATE_CHECKING:
    case TE_TORRENT_STATE_DOWNLOADING:
      return TRUE;
    case TE_TORRENT_STATE_SEEDING:
      return st->peers_connected > 0 || st->upload_rate > 0;
    default:
      return FALSE;
    }
}

static void
progress_event (GString   *s,
                TeTorrent *t,
                const char *id,
                const TeTorrentStats *st)
{
  gint64 eta = te_torrent_get_eta (t);

  begin_event (s, "torrent:progress", id);
  g_string_append_printf (s, "\"percentage\":%.2f,\"downloadSpeed\":%" G_GUINT64_FORMAT ",\"uploadSpeed\":%"
                          G_GUINT64_FORMAT ",\"downloaded\":%" G_GUINT64_FORMAT ",\"uploaded\":%" G_GUINT64_FORMAT
                          ",\"remaining\":%" G_GUINT64_FORMAT ",",
                          100.0 * te_torrent_get_progress (t), st->download_rate, st->upload_rate, st->downloaded,
                          st->uploaded, st->wanted_bytes > st->have_bytes ? st->wanted_bytes - st->have_bytes : 0);
  if (eta >= 0)
    g_string_append_printf (s, "\"eta\":%" G_GINT64_FORMAT ",", eta);
  else
    g_string_append (s, "\"eta\":null,");
  g_string_append_printf (s, "\"peers\":{\"connected\":%u,\"total\":%u},\"ratio\":%.4f,\"state\":\"%s\"}}",
                          st->peers_connected, st->peers_known, te_torrent_get_ratio (t),
                          te_torrent_state_to_string (te_torrent_get_state (t)));
}

/* The time bounds. */
static void
check_client (Client *c,
              gint64  now)
{
  gint64 timeout = (gint64) c->hub->stall_timeout_ms * 1000;
  gint64 keepalive = (gint64) soup_websocket_connection_get_keepalive_interval (c->conn) * G_USEC_PER_SEC;

  if (c->closing)
    {
      /* A client that never reads never takes the close frame either. */
      if (!c->shut_down && now - c->closing_since > MIN (timeout, MAX_CLOSE_GRACE_US))
        {
          g_debug ("An event client did not take its close frame: shutting its socket down");
          c->shut_down = TRUE;
          g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
        }
      return;
    }
  if (c->waiting_since && now - c->waiting_since > timeout)
    {
      g_debug ("An event client took nothing for %u ms: closing it", c->hub->stall_timeout_ms);
      client_drop (c, TE_EVENT_HUB_CLOSE_TOO_SLOW, "client too slow");
    }
  else if (now - c->heard_at > keepalive + timeout)
    {
      g_debug ("An event client answered no ping for %u ms: closing it", c->hub->stall_timeout_ms);
      client_drop (c, TE_EVENT_HUB_CLOSE_TOO_SLOW, "no answer to ping");
    }
}

static gboolean
progress_cb (gpointer user_data)
{
  TeEventHub *hub = user_data;
  GPtrArray *torrents;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) events = NULL;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < hub->clients->len; i++)
    check_client (g_ptr_array_index (hub->clients, i), now);
  if (hub->clients->len == 0)
    return G_SOURCE_CONTINUE;
  torrents = te_engine_get_torrents (hub->engine);
  ids = g_ptr_array_new_with_free_func (g_free);
  events = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < torrents->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (torrents, i);
      TeTorrentStats st;
      GString *s;
      char *id;

      te_torrent_get_stats (t, &st);
      if (!is_active (t, &st))
        continue;
      id = te_torrent_dup_id (t);
      s = g_string_new (NULL);
      progress_event (s, t, id, &st);
      g_ptr_array_add (ids, id);
      g_ptr_array_add (events, g_string_free (s, FALSE));
    }
  if (events->len == 0)
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < hub->clients->len; i++)
    {
      Client *c = g_ptr_array_index (hub->clients, i);
      g_autoptr(GString) batch = g_string_new ("[");

      if (c->closing)
        continue;
      for (guint j = 0; j < events->len; j++)
        if (wants (c, g_ptr_array_index (ids, j)))
          {
            if (batch->len > 1)
              g_string_append_c (batch, ',');
            g_string_append (batch, g_ptr_array_index (events, j));
          }
      if (batch->len == 1)
        continue;
      g_string_append_c (batch, ']');
      /* The latest batch replaces one the client has not taken yet. */
      g_free (c->progress);
      c->progress = g_string_free (g_steal_pointer (&batch), FALSE);
      client_flush (c);
    }
  return G_SOURCE_CONTINUE;
}

/* Clients */

static gboolean
set_subscriptions (Client     *c,
                   const char *list)
{
  g_auto(GStrv) ids = NULL;
  GHashTable *set;

  if (list == NULL || strcmp (list, "all") == 0 || *list == '\0')
    {
      g_clear_pointer (&c->subscribed, g_hash_table_unref);
      return TRUE;
    }
  ids = g_strsplit (list, ",", MAX_SUBSCRIPTIONS + 1);
  if (g_strv_length (ids) > MAX_SUBSCRIPTIONS)
    return FALSE;
  set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; ids[i]; i++)
    g_hash_table_add (set, g_ascii_strdown (g_strstrip (ids[i]), -1));
  g_clear_pointer (&c->subscribed, g_hash_table_unref);
  c->subscribed = set;
  return TRUE;
}

/* A client may change what it follows: {"subscribe": ["hex", …]} or {"subscribe": "all"}. */
static void
message_cb (SoupWebsocketConnection *conn,
            int                      type,
            GBytes                  *message,
            Client                  *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(GString) list = g_string_new (NULL);
  static const TeApiField fields[] = { TE_API_FIELD ("subscribe", TE_API_ARRAY), TE_API_FIELD_END };
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  JsonNode *sub;

  c->heard_at = g_get_monotonic_time ();
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      client_drop (c, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA, "text frames only");
      return;
    }
  o = te_api_parse_object ("application/json", data, len, &error);
  sub = o ? json_object_get_member (o, "subscribe") : NULL;
  if (sub && JSON_NODE_HOLDS_VALUE (sub) && json_node_get_value_type (sub) == G_TYPE_STRING
      && strcmp (json_node_get_string (sub), "all") == 0)
    {
      set_subscriptions (c, NULL);
      return;
    }
  if (o && !te_api_check_fields (o, fields, &error))
    g_clear_pointer (&o, json_object_unref);
  if (o == NULL || sub == NULL)
    {
      client_drop (c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "expected {\"subscribe\": [info-hashes] | \"all\"}");
      return;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (sub)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (sub), i);

      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING
          || strchr (json_node_get_string (e), ',') != NULL)
        {
          client_drop (c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "info-hashes must be strings");
          return;
        }
      if (list->len)
        g_string_append_c (list, ',');
      g_string_append (list, json_node_get_string (e));
    }
  /* An empty array follows nothing: keep a set that matches no torrent. */
  if (list->len == 0)
    g_string_append (list, "-");
  if (!set_subscriptions (c, list->str))
    client_drop (c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "too many info-hashes");
}

static void
pong_cb (SoupWebsocketConnection *conn,
         GBytes                  *message,
         Client                  *c)
{
  c->heard_at = g_get_monotonic_time ();
}

static void
closed_cb (SoupWebsocketConnection *conn,
           Client                  *c)
{
  TeEventHub *hub = c->hub;

  g_ptr_array_remove (hub->clients, c);
}

/**
 * te_event_hub_add_client:
 * @socket: the connection's socket, to see whether it takes more data
 * @info_hashes: (nullable): comma-separated info-hashes to follow; all when `NULL`
 */
void
te_event_hub_add_client (TeEventHub              *hub,
                         SoupWebsocketConnection *conn,
                         GSocket                 *socket,
                         const char              *info_hashes)
{
  Client *c = g_new0 (Client, 1);

  c->hub = hub;
  c->conn = g_object_ref (conn);
  c->socket = g_object_ref (socket);
  g_queue_init (&c->frames);
  c->heard_at = g_get_monotonic_time ();
  set_subscriptions (c, info_hashes);
  /* Events are small: a modest kernel buffer keeps a stalled client cheap. */
  g_socket_set_option (socket, SOL_SOCKET, SO_SNDBUF, 256 * 1024, NULL);
  soup_websocket_connection_set_max_incoming_payload_size (conn, MAX_INCOMING);
  /* Pings find dead peers and clients that never read: both stop answering. */
  soup_websocket_connection_set_keepalive_interval (conn, CLAMP (hub->stall_timeout_ms / 1000, 1,
                                                                 TE_EVENT_HUB_KEEPALIVE_S));
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), c);
  g_signal_connect (conn, "pong", G_CALLBACK (pong_cb), c);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), c);
  g_ptr_array_add (hub->clients, c);
}

/* Clients being sent events (not those on their way out). */
guint
te_event_hub_get_n_clients (TeEventHub *hub)
{
  guint n = 0;

  for (guint i = 0; i < hub->clients->len; i++)
    n += !((Client *) g_ptr_array_index (hub->clients, i))->closing;
  return n;
}

void
te_event_hub_set_max_backlog (TeEventHub *hub,
                              guint       frames)
{
  hub->max_backlog = MAX (frames, 1);
}

/**
 * te_event_hub_set_stall_timeout:
 * @timeout_ms: how long a client may take nothing while frames wait, or leave
 *   pings unanswered; %TE_EVENT_HUB_STALL_TIMEOUT_MS by default
 *
 * Applies to clients added afterwards (their keepalive interval follows it).
 */
void
te_event_hub_set_stall_timeout (TeEventHub *hub,
                                guint       timeout_ms)
{
  hub->stall_timeout_ms = MAX (timeout_ms, 1);
}

TeEventHub *
te_event_hub_new (TeEngine *engine)
{
  TeEventHub *hub = g_new0 (TeEventHub, 1);

  hub->engine = g_object_ref (engine);
  hub->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  hub->max_backlog = TE_EVENT_HUB_MAX_BACKLOG;
  hub->stall_timeout_ms = TE_EVENT_HUB_STALL_TIMEOUT_MS;
  g_signal_connect (engine, "torrent-added", G_CALLBACK (torrent_added_cb), hub);
  g_signal_connect (engine, "torrent-removed", G_CALLBACK (torrent_removed_cb), hub);
  g_signal_connect (engine, "torrent-state-changed", G_CALLBACK (state_changed_cb), hub);
  g_signal_connect (engine, "torrent-piece-completed", G_CALLBACK (piece_completed_cb), hub);
  g_signal_connect (engine, "torrent-completed", G_CALLBACK (completed_cb), hub);
  g_signal_connect (engine, "torrent-error", G_CALLBACK (error_cb), hub);
  g_signal_connect (engine, "torrent-peer-connected", G_CALLBACK (peer_connected_cb), hub);
  g_signal_connect (engine, "torrent-peer-disconnected", G_CALLBACK (peer_disconnected_cb), hub);
  g_signal_connect (te_engine_get_queue (engine), "changed", G_CALLBACK (queue_changed_cb), hub);
  hub->progress_id = g_timeout_add_seconds (1, progress_cb, hub);
  return hub;
}

/* Says goodbye to every client. */
void
te_event_hub_close (TeEventHub *hub)
{
  for (guint i = 0; i < hub->clients->len; i++)
    client_drop (g_ptr_array_index (hub->clients, i), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
}

void
te_event_hub_free (TeEventHub *hub)
{
  g_clear_handle_id (&hub->progress_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (hub->engine, hub);
  g_signal_handlers_disconnect_by_data (te_engine_get_queue (hub->engine), hub);
  g_ptr_array_unref (hub->clients);
  g_object_unref (hub->engine);
  g_free (hub);
}
