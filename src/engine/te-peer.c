/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-peer"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "te-peer.h"

/* A connection to one peer. Bytes are read into one buffer and parsed in place;
 * outgoing messages are written into another. Both grow to the largest message
 * once and are reused, so the per-message path does not allocate. */

#define CONNECT_TIMEOUT_S    10
#define HANDSHAKE_TIMEOUT_S  20
#define READ_CHUNK           (256 * 1024)
#define READ_BUDGET          (2 * 1024 * 1024) /* per dispatch, so one fast peer cannot starve others */
#define DEFAULT_MAX_MESSAGE  (128 * 1024)
#define SEND_LOW_WATER       (64 * 1024)
#define SEND_MAX             (8 * 1024 * 1024)  /* a peer that stops reading is dropped */

typedef struct {
  guint8 *data;
  gsize   head;   /* first unread byte */
  gsize   tail;   /* end of valid bytes */
  gsize   cap;
} Buf;

static guint8 *
buf_reserve (Buf   *b,
             gsize  n)
{
  if (b->cap - b->tail < n)
    {
      /* Move the unread bytes to the front first; grow only if that is not enough. */
      if (b->head > 0)
        {
          memmove (b->data, b->data + b->head, b->tail - b->head);
          b->tail -= b->head;
          b->head = 0;
        }
      if (b->cap - b->tail < n)
        {
          b->cap = MAX (b->cap * 2, b->tail + n);
          b->data = g_realloc (b->data, b->cap);
        }
    }
  return b->data + b->tail;
}

static inline gsize
buf_len (const Buf *b)
{
  return b->tail - b->head;
}

static inline void
buf_consume (Buf   *b,
             gsize  n)
{
  b->head += n;
  if (b->head == b->tail)
    b->head = b->tail = 0;
}

struct _TePeer
{
  GObject              parent_instance;

  TePeerState          state;
  gboolean             incoming;
  GInetSocketAddress  *address;
  char                *address_string;
  char                *host_string;
  GSocketConnection   *connection;
  GSocket             *socket;
  GCancellable        *cancellable;
  GSource             *in_source;
  GSource             *out_source;
  guint                timeout_id;

  TeHandshake          local;
  gboolean             local_sent;
  TeHandshake          remote;
  gboolean             remote_received;

  const TePeerHandler *handler;
  gpointer             handler_data;
  gpointer             owner_data;
  GDestroyNotify       owner_destroy;

  Buf                  in;
  Buf                  out;
  guint32              max_message;
  gboolean             read_paused;
  gboolean             in_dispatch;
  gboolean             no_descriptors;
  gint64               last_received;
};

G_DEFINE_FINAL_TYPE (TePeer, te_peer, G_TYPE_OBJECT)

static void update_watches (TePeer *self);

static void
clear_sources (TePeer *self)
{
  if (self->in_source)
    {
      g_source_destroy (self->in_source);
      g_clear_pointer (&self->in_source, g_source_unref);
    }
  if (self->out_source)
    {
      g_source_destroy (self->out_source);
      g_clear_pointer (&self->out_source, g_source_unref);
    }
  g_clear_handle_id (&self->timeout_id, g_source_remove);
}

static void
te_peer_dispose (GObject *object)
{
  TePeer *self = TE_PEER (object);

  clear_sources (self);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->connection)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->connection);
  self->socket = NULL;
  if (self->owner_destroy && self->owner_data)
    self->owner_destroy (self->owner_data);
  self->owner_data = NULL;

  G_OBJECT_CLASS (te_peer_parent_class)->dispose (object);
}

static void
te_peer_finalize (GObject *object)
{
  TePeer *self = TE_PEER (object);

  g_clear_object (&self->address);
  g_free (self->address_string);
  g_free (self->host_string);
  g_free (self->in.data);
  g_free (self->out.data);

  G_OBJECT_CLASS (te_peer_parent_class)->finalize (object);
}

static void
te_peer_class_init (TePeerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_peer_dispose;
  object_class->finalize = te_peer_finalize;
}

static void
te_peer_init (TePeer *self)
{
  self->max_message = DEFAULT_MAX_MESSAGE;
  self->cancellable = g_cancellable_new ();
  self->last_received = g_get_monotonic_time ();
}

static void
set_address (TePeer             *self,
             GInetSocketAddress *address)
{
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  guint16 port = g_inet_socket_address_get_port (address);

  g_set_object (&self->address, address);
  g_free (self->host_string);
  g_free (self->address_string);
  self->host_string = g_steal_pointer (&host);
  if (g_inet_socket_address_get_address (address)
      && g_inet_address_get_family (g_inet_socket_address_get_address (address)) == G_SOCKET_FAMILY_IPV6)
    self->address_string = g_strdup_printf ("[%s]:%u", self->host_string, port);
  else
    self->address_string = g_strdup_printf ("%s:%u", self->host_string, port);
}

/**
 * te_peer_close:
 * @reason: why, for logs and events
 *
 * Ends the connection and tells the owner through its `closed` handler, once.
 */
void
te_peer_close (TePeer     *self,
               const char *reason)
{
  const TePeerHandler *handler = self->handler;

  if (self->state == TE_PEER_CLOSED)
    return;
  self->state = TE_PEER_CLOSED;
  clear_sources (self);
  g_cancellable_cancel (self->cancellable);
  if (self->connection)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);

  g_debug ("%s: closed: %s", self->address_string, reason);
  g_object_ref (self);
  if (handler && handler->closed)
    handler->closed (self, reason, self->handler_data);
  g_object_unref (self);
}

static gboolean
timeout_cb (gpointer user_data)
{
  TePeer *self = user_data;

  self->timeout_id = 0;
  te_peer_close (self, self->state == TE_PEER_CONNECTING ? "connect timed out"
                                                          : "handshake timed out");
  return G_SOURCE_REMOVE;
}

static void
flush (TePeer *self)
{
  g_autoptr(GError) error = NULL;
  gsize before = buf_len (&self->out);

  while (buf_len (&self->out) > 0 && self->state != TE_PEER_CLOSED && self->socket)
    {
      gssize n = g_socket_send_with_blocking (self->socket,
                                              (const char *) self->out.data + self->out.head,
                                              buf_len (&self->out), FALSE, NULL, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          te_peer_close (self, error->message);
          return;
        }
      buf_consume (&self->out, (gsize) n);
    }
  update_watches (self);

  if (before >= SEND_LOW_WATER && buf_len (&self->out) < SEND_LOW_WATER
      && self->state == TE_PEER_ACTIVE && self->handler && self->handler->drained
      && !self->in_dispatch)
    self->handler->drained (self, self->handler_data);
}

static void
send_local_handshake (TePeer *self)
{
  guint8 *p = buf_reserve (&self->out, TE_WIRE_HANDSHAKE_LEN);

  self->out.tail += te_wire_write_handshake (p, self->local.reserved, self->local.info_hash,
                                             self->local.peer_id);
  self->local_sent = TRUE;
}

/* Returns FALSE when the peer was closed. */
static gboolean
process_input (TePeer *self)
{
  while (self->state != TE_PEER_CLOSED)
    {
      const guint8 *p = self->in.data + self->in.head;
      gsize len = buf_len (&self->in);

      if (!self->remote_received)
        {
          if (len < TE_WIRE_HANDSHAKE_LEN)
            return TRUE;
          if (!te_wire_parse_handshake (p, len, &self->remote))
            {
              te_peer_close (self, "not a BitTorrent handshake");
              return FALSE;
            }
          buf_consume (&self->in, TE_WIRE_HANDSHAKE_LEN);
          self->remote_received = TRUE;
          if (!self->handler->handshake (self, &self->remote, self->handler_data))
            {
              te_peer_close (self, "handshake refused");
              return FALSE;
            }
          if (self->state == TE_PEER_CLOSED)
            return FALSE;
          if (!self->local_sent)
            send_local_handshake (self);
          g_clear_handle_id (&self->timeout_id, g_source_remove);
          self->state = TE_PEER_ACTIVE;
          if (self->handler->ready)
            self->handler->ready (self, self->handler_data);
          flush (self);
          continue;
        }

      {
        TeWireMsg msg;
        gsize consumed = 0;
        TeWireStatus status = te_wire_parse (p, len, self->max_message, &msg, &consumed);

        if (status == TE_WIRE_INCOMPLETE)
          return TRUE;
        if (status != TE_WIRE_OK)
          {
            te_peer_close (self, te_wire_status_to_string (status));
            return FALSE;
          }
        if (!self->handler->message (self, &msg, self->handler_data))
          {
            te_peer_close (self, "protocol error");
            return FALSE;
          }
        if (self->state == TE_PEER_CLOSED)
          return FALSE;
        buf_consume (&self->in, consumed);
      }
    }
  return FALSE;
}

static gboolean
in_cb (GSocket      *socket,
       GIOCondition  condition,
       gpointer      user_data)
{
  TePeer *self = user_data;
  gsize budget = READ_BUDGET;

  g_object_ref (self);
  self->in_dispatch = TRUE;
  while (budget > 0 && self->state != TE_PEER_CLOSED && !self->read_paused)
    {
      g_autoptr(GError) error = NULL;
      guint8 *dst = buf_reserve (&self->in, READ_CHUNK);
      gssize n = g_socket_receive_with_blocking (socket, (char *) dst, READ_CHUNK, FALSE, NULL,
                                                 &error);

      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            te_peer_close (self, error->message);
          break;
        }
      if (n == 0)
        {
          te_peer_close (self, "connection closed by peer");
          break;
        }
      self->in.tail += (gsize) n;
      self->last_received = g_get_monotonic_time ();
      budget -= MIN (budget, (gsize) n);
      if (!process_input (self))
        break;
    }
  self->in_dispatch = FALSE;
  if (self->state != TE_PEER_CLOSED)
    flush (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
out_cb (GSocket      *socket,
        GIOCondition  condition,
        gpointer      user_data)
{
  TePeer *self = user_data;

  g_object_ref (self);
  flush (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static void
update_watches (TePeer *self)
{
  gboolean want_in = self->state != TE_PEER_CLOSED && self->socket && !self->read_paused;
  gboolean want_out = self->state != TE_PEER_CLOSED && self->socket && buf_len (&self->out) > 0;

  if (want_in && self->in_source == NULL)
    {
      self->in_source = g_socket_create_source (self->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (self->in_source, G_SOURCE_FUNC (in_cb), self, NULL);
      g_source_attach (self->in_source, NULL);
    }
  else if (!want_in && self->in_source != NULL)
    {
      g_source_destroy (self->in_source);
      g_clear_pointer (&self->in_source, g_source_unref);
    }
  if (want_out && self->out_source == NULL)
    {
      self->out_source = g_socket_create_source (self->socket, G_IO_OUT, NULL);
      g_source_set_callback (self->out_source, G_SOURCE_FUNC (out_cb), self, NULL);
      g_source_attach (self->out_source, NULL);
    }
  else if (!want_out && self->out_source != NULL)
    {
      g_source_destroy (self->out_source);
      g_clear_pointer (&self->out_source, g_source_unref);
    }
}

static void
start_io (TePeer            *self,
          GSocketConnection *connection)
{
  g_set_object (&self->connection, connection);
  self->socket = g_socket_connection_get_socket (connection);
  g_socket_set_option (self->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  self->state = TE_PEER_HANDSHAKING;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  self->timeout_id = g_timeout_add_seconds (HANDSHAKE_TIMEOUT_S, timeout_cb, self);
  if (!self->incoming)
    send_local_handshake (self);
  flush (self);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TePeer) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (self->state == TE_PEER_CLOSED)
    return;
  if (connection == NULL)
    {
      self->no_descriptors = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES);
      te_peer_close (self, error->message);
      return;
    }
  start_io (self, connection);
}

/**
 * te_peer_new_outgoing:
 * @local: our handshake (reserved bits, info-hash, peer id)
 *
 * Connects and sends @local; the handler's `handshake` sees the reply.
 *
 * Returns: (transfer full): the peer
 */
TePeer *
te_peer_new_outgoing (GInetSocketAddress  *address,
                      const TeHandshake   *local,
                      const TePeerHandler *handler,
                      gpointer             user_data)
{
  TePeer *self = g_object_new (TE_TYPE_PEER, NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  set_address (self, address);
  self->local = *local;
  self->handler = handler;
  self->handler_data = user_data;
  self->state = TE_PEER_CONNECTING;
  self->timeout_id = g_timeout_add_seconds (CONNECT_TIMEOUT_S, timeout_cb, self);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), self->cancellable,
                                 connected_cb, g_object_ref (self));
  return self;
}

/**
 * te_peer_new_incoming:
 *
 * Waits for the remote handshake; the handler's `handshake` must then call
 * te_peer_set_local_handshake() for the torrent it names.
 *
 * Returns: (transfer full): the peer
 */
TePeer *
te_peer_new_incoming (GSocketConnection   *connection,
                      const TePeerHandler *handler,
                      gpointer             user_data)
{
  TePeer *self = g_object_new (TE_TYPE_PEER, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);

  if (G_IS_INET_SOCKET_ADDRESS (remote))
    set_address (self, G_INET_SOCKET_ADDRESS (remote));
  else
    {
      self->address_string = g_strdup ("unknown");
      self->host_string = g_strdup ("unknown");
    }
  self->incoming = TRUE;
  self->handler = handler;
  self->handler_data = user_data;
  start_io (self, connection);
  return self;
}

void
te_peer_set_handler (TePeer              *self,
                     const TePeerHandler *handler,
                     gpointer             user_data)
{
  self->handler = handler;
  self->handler_data = user_data;
}

void
te_peer_set_local_handshake (TePeer            *self,
                             const TeHandshake *local)
{
  self->local = *local;
}

TePeerState
te_peer_get_state (TePeer *self)
{
  return self->state;
}

gboolean
te_peer_is_incoming (TePeer *self)
{
  return self->incoming;
}

/**
 * te_peer_get_no_descriptors:
 *
 * Returns: whether connecting failed because the process had no descriptor
 *   left: the address is not to blame
 */
gboolean
te_peer_get_no_descriptors (TePeer *self)
{
  return self->no_descriptors;
}

GInetSocketAddress *
te_peer_get_address (TePeer *self)
{
  return self->address;
}

const char *
te_peer_get_address_string (TePeer *self)
{
  return self->address_string;
}

const char *
te_peer_get_host_string (TePeer *self)
{
  return self->host_string;
}

const TeHandshake *
te_peer_get_remote_handshake (TePeer *self)
{
  return self->remote_received ? &self->remote : NULL;
}

gpointer
te_peer_get_owner_data (TePeer *self)
{
  return self->owner_data;
}

void
te_peer_set_owner_data (TePeer         *self,
                        gpointer        data,
                        GDestroyNotify  destroy)
{
  if (self->owner_destroy && self->owner_data)
    self->owner_destroy (self->owner_data);
  self->owner_data = data;
  self->owner_destroy = destroy;
}

void
te_peer_set_max_message (TePeer  *self,
                         guint32  max_len)
{
  self->max_message = max_len;
}

void
te_peer_set_read_paused (TePeer   *self,
                         gboolean  paused)
{
  if (self->read_paused == paused)
    return;
  self->read_paused = paused;
  update_watches (self);
}

gint64
te_peer_get_last_received (TePeer *self)
{
  return self->last_received;
}

gsize
te_peer_get_send_queue (TePeer *self)
{
  return buf_len (&self->out);
}

/* Sending: write into the buffer, then try the socket at once. While a message
 * is being dispatched the flush waits for the end of the read loop, so replies
 * to a burst of requests leave in few system calls. */

static guint8 *
out_reserve (TePeer *self,
             gsize   n)
{
  return buf_reserve (&self->out, n);
}

static void
out_commit (TePeer *self,
            gsize   n)
{
  self->out.tail += n;
  if (buf_len (&self->out) > SEND_MAX)
    {
      te_peer_close (self, "peer does not read what it asks for");
      return;
    }
  if (!self->in_dispatch)
    flush (self);
}

void
te_peer_send_simple (TePeer   *self,
                     TeWireId  id)
{
  if (self->state != TE_PEER_ACTIVE)
    return;
  out_commit (self, te_wire_write_simple (out_reserve (self, 5), id));
}

void
te_peer_send_index (TePeer   *self,
                    TeWireId  id,
                    guint32   index)
{
  if (self->state != TE_PEER_ACTIVE)
    return;
  out_commit (self, te_wire_write_index (out_reserve (self, 9), id, index));
}

void
te_peer_send_request (TePeer   *self,
                      TeWireId  id,
                      guint32   index,
                      guint32   begin,
                      guint32   length)
{
  if (self->state != TE_PEER_ACTIVE)
    return;
  out_commit (self, te_wire_write_request (out_reserve (self, 17), id, index, begin, length));
}

void
te_peer_send_keepalive (TePeer *self)
{
  if (self->state != TE_PEER_ACTIVE)
    return;
  out_commit (self, te_wire_write_keepalive (out_reserve (self, 4)));
}

void
te_peer_send_bitfield (TePeer       *self,
                       const guint8 *bits,
                       gsize         len)
{
  guint8 *p;

  if (self->state != TE_PEER_ACTIVE)
    return;
  p = out_reserve (self, 5 + len);
  te_wire_write_bitfield_header (p, (guint32) len);
  memcpy (p + 5, bits, len);
  out_commit (self, 5 + len);
}

void
te_peer_send_extended (TePeer       *self,
                       guint8        ext_id,
                       const guint8 *payload,
                       gsize         len)
{
  guint8 *p;

  if (self->state != TE_PEER_ACTIVE)
    return;
  p = out_reserve (self, 6 + len);
  te_wire_write_extended_header (p, ext_id, (guint32) len);
  memcpy (p + 6, payload, len);
  out_commit (self, 6 + len);
}

void
te_peer_send_piece (TePeer       *self,
                    guint32       index,
                    guint32       begin,
                    const guint8 *data,
                    gsize         len)
{
  guint8 *p;

  if (self->state != TE_PEER_ACTIVE)
    return;
  p = out_reserve (self, 13 + len);
  te_wire_write_piece_header (p, index, begin, (guint32) len);
  memcpy (p + 13, data, len);
  out_commit (self, 13 + len);
}

void
te_peer_send_hashes (TePeer       *self,
                     TeWireId      id,
                     const guint8  pieces_root[32],
                     guint32       base_layer,
                     guint32       index,
                     guint32       length,
                     guint32       proof_layers,
                     const guint8 *hashes,
                     guint32       n_hashes)
{
  gsize header = 5 + TE_WIRE_HASH_HEADER;
  guint8 *p;

  if (self->state != TE_PEER_ACTIVE)
    return;
  p = out_reserve (self, header + (gsize) n_hashes * 32);
  te_wire_write_hash_header (p, id, pieces_root, base_layer, index, length, proof_layers, n_hashes);
  if (n_hashes > 0)
    memcpy (p + header, hashes, (gsize) n_hashes * 32);
  out_commit (self, header + (gsize) n_hashes * 32);
}
