/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-tracker"

#include "config.h"

#include <string.h>

#include "te-tracker-private.h"

/* UDP trackers (BEP 15). One non-blocking GSocket per request, connected to
 * the tracker's address so the kernel drops datagrams from anywhere else;
 * every step runs from sources on the caller's main context. */

#define PROTOCOL_ID             G_GUINT64_CONSTANT (0x41727101980)
#define ACTION_CONNECT          0
#define ACTION_ANNOUNCE         1
#define ACTION_SCRAPE           2
#define ACTION_ERROR            3
#define MAX_RETRANSMITS         8
#define CONNECTION_ID_LIFETIME  (60 * G_USEC_PER_SEC)
#define DEFAULT_TIMEOUT_BASE_MS 15000
#define DATAGRAM_MAX            65536

static guint udp_timeout_base_ms = DEFAULT_TIMEOUT_BASE_MS;

/* Connection ids by "address|port", shared by all requests of the process. */
typedef struct {
  guint64 id;
  gint64  expires;   /* monotonic µs */
} CachedId;

G_LOCK_DEFINE_STATIC (connection_ids);
static GHashTable *connection_ids;

/**
 * te_tracker_set_udp_timeout_base:
 * @ms: the first retransmission delay, or 0 for the default (15 s, BEP 15)
 *
 * A test hook: a request is sent again after @ms · 2^n (n = 0…8), then fails
 * with `TE_TRACKER_ERROR_TIMEOUT`. Applies to requests started afterwards.
 */
void
te_tracker_set_udp_timeout_base (guint ms)
{
  udp_timeout_base_ms = ms > 0 ? ms : DEFAULT_TIMEOUT_BASE_MS;
}

/* Byte order */

static void
put_be32 (guint8  *p,
          guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
put_be64 (guint8  *p,
          guint64  v)
{
  put_be32 (p, v >> 32);
  put_be32 (p + 4, v & 0xffffffff);
}

static guint32
get_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint64
get_be64 (const guint8 *p)
{
  return ((guint64) get_be32 (p) << 32) | get_be32 (p + 4);
}

/* Replies */

TeAnnounceResponse *
_te_tracker_parse_udp_announce (const guint8  *data,
                                gsize          len,
                                gboolean       ipv6,
                                GError       **error)
{
  TeAnnounceResponse *response;
  TePeerSet *set;
  gsize stride = ipv6 ? 18 : 6;

  if (len < 20)
    {
      g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                   "UDP announce reply is %" G_GSIZE_FORMAT " bytes, less than 20", len);
      return NULL;
    }

  response = _te_announce_response_new ();
  response->interval = _te_tracker_clamp_interval (get_be32 (data + 8));
  response->leechers = get_be32 (data + 12);
  response->seeders = get_be32 (data + 16);

  /* Later extensions may append bytes; a partial entry at the end is ignored. */
  set = _te_peer_set_new ();
  _te_peer_set_add_compact (set, data + 20, (len - 20) / stride * stride, stride);
  g_ptr_array_unref (response->peers);
  response->peers = _te_peer_set_steal (set);
  _te_peer_set_free (set);
  return response;
}

gboolean
_te_tracker_parse_udp_scrape (const guint8    *data,
                              gsize            len,
                              TeScrapeResult  *out,
                              GError         **error)
{
  if (len < 20)
    {
      g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                   "UDP scrape reply is %" G_GSIZE_FORMAT " bytes, less than 20", len);
      return FALSE;
    }
  out->seeders = get_be32 (data + 8);
  out->downloaded = get_be32 (data + 12);
  out->leechers = get_be32 (data + 16);
  return TRUE;
}

/* Requests */

typedef enum {
  PHASE_CONNECT,
  PHASE_REQUEST,
} Phase;

typedef struct {
  gboolean           scrape;
  TeAnnounceRequest  request;     /* tracker_id unused: BEP 15 has none */
  char              *host;
  guint16            port;
  char              *cache_key;
  gboolean           ipv6;
  GSocket           *socket;
  GSource           *recv_source;
  GSource           *timer;
  GSource           *cancel_source;
  Phase              phase;
  guint32            transaction_id;
  guint64            connection_id;
  gint64             connection_expires;
  guint              attempt;     /* n in base · 2^n */
  gboolean           done;
  guint8            *buffer;
} UdpCall;

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
udp_call_free (gpointer data)
{
  UdpCall *call = data;

  clear_source (&call->recv_source);
  clear_source (&call->timer);
  clear_source (&call->cancel_source);
  g_clear_object (&call->socket);
  g_free (call->host);
  g_free (call->cache_key);
  g_free (call->buffer);
  g_free (call);
}

/* Ends the request: the sources hold the references to @task, so they go last. */
static void
finish (GTask *task)
{
  UdpCall *call = g_task_get_task_data (task);

  call->done = TRUE;
  clear_source (&call->recv_source);
  clear_source (&call->timer);
  clear_source (&call->cancel_source);
}

static void
fail (GTask          *task,
      TeTrackerError  code,
      const char     *message)
{
  g_object_ref (task);
  finish (task);
  g_task_return_new_error (task, TE_TRACKER_ERROR, code, "%s", message);
  g_object_unref (task);
}

static void
fail_gio (GTask  *task,
          GError *error)
{
  g_object_ref (task);
  finish (task);
  _te_tracker_return_gio_error (task, error);
  g_object_unref (task);
}

static void
forget_connection_id (UdpCall *call)
{
  G_LOCK (connection_ids);
  if (connection_ids != NULL && call->cache_key != NULL)
    g_hash_table_remove (connection_ids, call->cache_key);
  G_UNLOCK (connection_ids);
}

static void
remember_connection_id (UdpCall *call)
{
  CachedId *cached = g_new (CachedId, 1);

  cached->id = call->connection_id;
  cached->expires = call->connection_expires;
  G_LOCK (connection_ids);
  if (connection_ids == NULL)
    connection_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (connection_ids, g_strdup (call->cache_key), cached);
  G_UNLOCK (connection_ids);
}

static gboolean
use_cached_connection_id (UdpCall *call)
{
  CachedId *cached = NULL;
  gboolean found = FALSE;

  G_LOCK (connection_ids);
  if (connection_ids != NULL)
    cached = g_hash_table_lookup (connection_ids, call->cache_key);
  if (cached != NULL && cached->expires <= g_get_monotonic_time ())
    {
      g_hash_table_remove (connection_ids, call->cache_key);
    }
  else if (cached != NULL)
    {
      call->connection_id = cached->id;
      call->connection_expires = cached->expires;
      found = TRUE;
    }
  G_UNLOCK (connection_ids);
  return found;
}

static gsize
build_packet (UdpCall *call,
              guint8  *buf)
{
  static const guint32 events[] = { 0, 2, 1, 3 };   /* none, started, completed, stopped */
  const TeAnnounceRequest *r = &call->request;

  if (call->phase == PHASE_CONNECT)
    {
      put_be64 (buf, PROTOCOL_ID);
      put_be32 (buf + 8, ACTION_CONNECT);
      put_be32 (buf + 12, call->transaction_id);
      return 16;
    }

  put_be64 (buf, call->connection_id);
  put_be32 (buf + 8, call->scrape ? ACTION_SCRAPE : ACTION_ANNOUNCE);
  put_be32 (buf + 12, call->transaction_id);
  memcpy (buf + 16, r->info_hash, 20);
  if (call->scrape)
    return 36;

  memcpy (buf + 36, r->peer_id, 20);
  put_be64 (buf + 56, r->downloaded);
  put_be64 (buf + 64, r->left);
  put_be64 (buf + 72, r->uploaded);
  put_be32 (buf + 80, r->event < G_N_ELEMENTS (events) ? events[r->event] : 0);
  put_be32 (buf + 84, 0);   /* IP address: the sender's */
  put_be32 (buf + 88, r->key);
  put_be32 (buf + 92, (guint32) (r->numwant >= 0 ? r->numwant : -1));
  buf[96] = r->port >> 8;
  buf[97] = r->port & 0xff;
  return 98;
}

static gboolean timer_cb (gpointer user_data);

/* Sends the current packet and waits base · 2^attempt for the answer. */
static void
send_packet (GTask *task)
{
  UdpCall *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  guint8 packet[98];
  gsize len = build_packet (call, packet);
  guint64 delay_ms = (guint64) udp_timeout_base_ms << call->attempt;

  if (g_socket_send (call->socket, (const char *) packet, len, NULL, &error) < 0
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      /* A lost datagram is retransmitted; anything else (such as an ICMP
       * port unreachable reported here) ends the request. */
      fail_gio (task, g_steal_pointer (&error));
      return;
    }

  clear_source (&call->timer);
  call->timer = g_timeout_source_new (MIN (delay_ms, G_MAXUINT));
  g_source_set_callback (call->timer, timer_cb, g_object_ref (task), g_object_unref);
  g_source_attach (call->timer, g_task_get_context (task));
}

static void
new_phase (UdpCall *call,
           Phase    phase)
{
  call->phase = phase;
  call->transaction_id = g_random_int ();
}

static gboolean
timer_cb (gpointer user_data)
{
  GTask *task = user_data;
  UdpCall *call = g_task_get_task_data (task);

  if (call->attempt >= MAX_RETRANSMITS)
    {
      forget_connection_id (call);
      fail (task, TE_TRACKER_ERROR_TIMEOUT, "UDP tracker did not answer");
      return G_SOURCE_REMOVE;
    }
  call->attempt++;
  /* A connection id is good for a minute; past that, connect again. */
  if (call->phase == PHASE_REQUEST && call->connection_expires <= g_get_monotonic_time ())
    {
      forget_connection_id (call);
      new_phase (call, PHASE_CONNECT);
    }
  send_packet (task);
  return G_SOURCE_REMOVE;
}

/* Handles one datagram; TRUE once the request is over. */
static gboolean
handle_datagram (GTask        *task,
                 const guint8 *data,
                 gsize         len)
{
  UdpCall *call = g_task_get_task_data (task);
  GError *error = NULL;
  guint32 action;

  if (len < 8 || get_be32 (data + 4) != call->transaction_id)
    return FALSE;
  action = get_be32 (data);

  if (action == ACTION_ERROR)
    {
      g_autofree char *text = _te_tracker_sanitize (data + 8, len - 8);

      /* The usual complaint is a stale connection id. */
      forget_connection_id (call);
      fail (task, TE_TRACKER_ERROR_FAILURE_REASON,
            *text != '\0' ? text : "UDP tracker refused the request");
      return TRUE;
    }

  if (call->phase == PHASE_CONNECT)
    {
      if (action != ACTION_CONNECT || len < 16)
        return FALSE;
      call->connection_id = get_be64 (data + 8);
      call->connection_expires = g_get_monotonic_time () + CONNECTION_ID_LIFETIME;
      remember_connection_id (call);
      new_phase (call, PHASE_REQUEST);
      call->attempt = 0;
      send_packet (task);
      return call->done;
    }

  if (!call->scrape && action == ACTION_ANNOUNCE)
    {
      TeAnnounceResponse *response = _te_tracker_parse_udp_announce (data, len, call->ipv6,
                                                                     &error);

      g_object_ref (task);
      finish (task);
      if (response != NULL)
        g_task_return_pointer (task, response, (GDestroyNotify) te_announce_response_free);
      else
        g_task_return_error (task, error);
      g_object_unref (task);
      return TRUE;
    }

  if (call->scrape && action == ACTION_SCRAPE)
    {
      TeScrapeResult scrape;

      g_object_ref (task);
      finish (task);
      if (_te_tracker_parse_udp_scrape (data, len, &scrape, &error))
        g_task_return_pointer (task, g_memdup2 (&scrape, sizeof scrape), g_free);
      else
        g_task_return_error (task, error);
      g_object_unref (task);
      return TRUE;
    }

  return FALSE;
}

static gboolean
readable_cb (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  GTask *task = user_data;
  UdpCall *call = g_task_get_task_data (task);

  while (!call->done)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      n = g_socket_receive (socket, (char *) call->buffer, DATAGRAM_MAX, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n < 0)
        {
          fail_gio (task, g_steal_pointer (&error));
          return G_SOURCE_REMOVE;
        }
      if (handle_datagram (task, call->buffer, n))
        return G_SOURCE_REMOVE;
    }
  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  GTask *task = user_data;

  fail_gio (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

static void
resolved_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UdpCall *call = g_task_get_task_data (task);
  g_autolist(GInetAddress) addresses = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *address_text = NULL;
  GCancellable *cancellable = g_task_get_cancellable (task);
  GMainContext *context = g_task_get_context (task);
  GInetAddress *inet;
  GError *error = NULL;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  if (addresses == NULL)
    {
      _te_tracker_return_gio_error (task, error);
      return;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error_if_cancelled (task);
      return;
    }

  inet = addresses->data;
  call->ipv6 = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6;
  address = g_inet_socket_address_new (inet, call->port);
  address_text = g_inet_address_to_string (inet);
  call->cache_key = g_strdup_printf ("%s|%u", address_text, call->port);

  call->socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_DATAGRAM,
                               G_SOCKET_PROTOCOL_UDP, &error);
  if (call->socket == NULL)
    {
      _te_tracker_return_gio_error (task, error);
      return;
    }
  g_socket_set_blocking (call->socket, FALSE);
  if (!g_socket_connect (call->socket, address, NULL, &error))
    {
      _te_tracker_return_gio_error (task, error);
      return;
    }

  call->buffer = g_malloc (DATAGRAM_MAX);
  call->recv_source = g_socket_create_source (call->socket, G_IO_IN, NULL);
  g_source_set_callback (call->recv_source, G_SOURCE_FUNC (readable_cb),
                         g_object_ref (task), g_object_unref);
  g_source_attach (call->recv_source, context);
  if (cancellable != NULL)
    {
      call->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (call->cancel_source, G_SOURCE_FUNC (cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (call->cancel_source, context);
    }

  new_phase (call, use_cached_connection_id (call) ? PHASE_REQUEST : PHASE_CONNECT);
  send_packet (task);
}

static void
start (GTask                   *task,
       GUri                    *uri,
       gboolean                 scrape,
       const TeAnnounceRequest *request,
       const guint8             info_hash[20])
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  UdpCall *call = g_new0 (UdpCall, 1);

  call->scrape = scrape;
  if (request != NULL)
    call->request = *request;
  else
    memcpy (call->request.info_hash, info_hash, 20);
  call->request.tracker_id = NULL;
  call->host = g_strdup (g_uri_get_host (uri));
  call->port = g_uri_get_port (uri);
  g_task_set_task_data (task, call, udp_call_free);

  g_resolver_lookup_by_name_async (resolver, call->host, g_task_get_cancellable (task),
                                   resolved_cb, g_object_ref (task));
}

void
_te_tracker_udp_announce (GTask                   *task,
                          GUri                    *uri,
                          const TeAnnounceRequest *request)
{
  start (task, uri, FALSE, request, NULL);
}

void
_te_tracker_udp_scrape (GTask        *task,
                        GUri         *uri,
                        const guint8  info_hash[20])
{
  start (task, uri, TRUE, NULL, info_hash);
}
