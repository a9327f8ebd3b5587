/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-tracker"

#include "config.h"

#include <string.h>

#include "te-bencode.h"
#include "te-outbound.h"
#include "te-tracker-private.h"

/* HTTP(S) trackers (BEP 3, 7, 23, 48) through libsoup, and their replies. */

#define READ_CHUNK          (64 * 1024)
#define DEFAULT_TIMEOUT_MS  30000
#define MAX_TRACKER_ID      256
#define MAX_IP_TEXT         64

static guint http_timeout_ms = DEFAULT_TIMEOUT_MS;

/**
 * te_tracker_set_http_timeout:
 * @ms: how long an HTTP request may take, or 0 for the default (30 s)
 *
 * A test hook; applies to requests started afterwards.
 */
void
te_tracker_set_http_timeout (guint ms)
{
  http_timeout_ms = ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
}

/* Replies */

static TeBValue *
decode_reply (const guint8  *body,
              gsize          len,
              GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(TeBValue) root = NULL;

  if (len > TE_TRACKER_MAX_REPLY_SIZE)
    {
      g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                   "Tracker reply is too large (%" G_GSIZE_FORMAT " bytes)", len);
      return NULL;
    }
  if (len == 0)
    {
      g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                           "Tracker reply is empty");
      return NULL;
    }

  root = te_bencode_decode (body, len, &local_error);
  if (root == NULL)
    {
      g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                   "Tracker reply is not bencoded: %s", local_error->message);
      return NULL;
    }
  if (te_bvalue_kind (root) != TE_BVALUE_DICT)
    {
      g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                           "Tracker reply is not a dictionary");
      return NULL;
    }
  return g_steal_pointer (&root);
}

/* FALSE with @error set when the tracker refused the request. */
static gboolean
check_failure (const TeBValue  *root,
               GError         **error)
{
  TeBValue *failure = te_bvalue_dict_get_kind (root, "failure reason", TE_BVALUE_STRING);
  g_autofree char *text = NULL;
  const guint8 *data;
  gsize len;

  if (failure == NULL)
    return TRUE;

  data = te_bvalue_get_string (failure, &len);
  text = _te_tracker_sanitize (data, len);
  g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_FAILURE_REASON,
                       *text != '\0' ? text : "Tracker refused the request");
  return FALSE;
}

static void
add_dict_peer (TePeerSet      *set,
               const TeBValue *peer)
{
  g_autoptr(GInetAddress) inet = NULL;
  char ip_text[MAX_IP_TEXT];
  TeBValue *ip;
  const guint8 *ip_data;
  gsize ip_len;
  gint64 port;

  if (te_bvalue_kind (peer) != TE_BVALUE_DICT)
    return;
  ip = te_bvalue_dict_get_kind (peer, "ip", TE_BVALUE_STRING);
  if (ip == NULL || !te_bvalue_dict_get_int (peer, "port", &port) || port <= 0 || port > 65535)
    return;

  ip_data = te_bvalue_get_string (ip, &ip_len);
  if (ip_len == 0 || ip_len >= sizeof ip_text || memchr (ip_data, '\0', ip_len) != NULL)
    return;
  memcpy (ip_text, ip_data, ip_len);
  ip_text[ip_len] = '\0';

  /* Host names would need a lookup each; literal addresses only. */
  inet = g_inet_address_new_from_string (ip_text);
  if (inet == NULL)
    return;
  _te_peer_set_add (set, g_inet_address_to_bytes (inet),
                    g_inet_address_get_native_size (inet), port);
}

static gboolean
parse_peers (const TeBValue  *root,
             TePeerSet       *set,
             GError         **error)
{
  TeBValue *peers = te_bvalue_dict_lookup (root, "peers");
  TeBValue *peers6 = te_bvalue_dict_lookup (root, "peers6");
  const guint8 *data;
  gsize len;

  if (peers != NULL && te_bvalue_kind (peers) == TE_BVALUE_STRING)
    {
      data = te_bvalue_get_string (peers, &len);
      if (len % 6 != 0)
        {
          g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                       "Compact peers take %" G_GSIZE_FORMAT " bytes, not a multiple of 6",
                       len);
          return FALSE;
        }
      _te_peer_set_add_compact (set, data, len, 6);
    }
  else if (peers != NULL && te_bvalue_kind (peers) == TE_BVALUE_LIST)
    {
      for (guint i = 0; i < te_bvalue_length (peers); i++)
        add_dict_peer (set, te_bvalue_list_nth (peers, i));
    }
  else if (peers != NULL)
    {
      g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                           "Peers are neither a string nor a list");
      return FALSE;
    }

  if (peers6 != NULL)
    {
      if (te_bvalue_kind (peers6) != TE_BVALUE_STRING)
        {
          g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                               "IPv6 peers are not a string");
          return FALSE;
        }
      data = te_bvalue_get_string (peers6, &len);
      if (len % 18 != 0)
        {
          g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                       "IPv6 peers take %" G_GSIZE_FORMAT " bytes, not a multiple of 18",
                       len);
          return FALSE;
        }
      _te_peer_set_add_compact (set, data, len, 18);
    }
  return TRUE;
}

/**
 * te_tracker_parse_http_reply:
 * @body: the body of an HTTP tracker's announce reply
 *
 * Returns: (transfer full): the reply, or `NULL` with a `TE_TRACKER_ERROR`
 *   (`FAILURE_REASON` or `BAD_REPLY`)
 */
TeAnnounceResponse *
te_tracker_parse_http_reply (const guint8  *body,
                             gsize          len,
                             GError       **error)
{
  g_autoptr(TeBValue) root = NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  TePeerSet *set;
  TeBValue *value;
  const guint8 *data;
  gsize data_len;
  gint64 number;

  g_return_val_if_fail (body != NULL || len == 0, NULL);

  root = decode_reply (body, len, error);
  if (root == NULL || !check_failure (root, error))
    return NULL;

  response = _te_announce_response_new ();
  if (te_bvalue_dict_get_int (root, "interval", &number))
    response->interval = _te_tracker_clamp_interval (number);
  if (te_bvalue_dict_get_int (root, "min interval", &number) && number > 0)
    response->min_interval = MIN (number, TE_TRACKER_MAX_INTERVAL);
  if (te_bvalue_dict_get_int (root, "complete", &number) && number >= 0)
    response->seeders = number;
  if (te_bvalue_dict_get_int (root, "incomplete", &number) && number >= 0)
    response->leechers = number;

  /* Sent back verbatim, so kept only when it is a sane C string. */
  value = te_bvalue_dict_get_kind (root, "tracker id", TE_BVALUE_STRING);
  if (value != NULL)
    {
      data = te_bvalue_get_string (value, &data_len);
      if (data_len > 0 && data_len <= MAX_TRACKER_ID && memchr (data, '\0', data_len) == NULL)
        response->tracker_id = g_strndup ((const char *) data, data_len);
    }
  value = te_bvalue_dict_get_kind (root, "warning message", TE_BVALUE_STRING);
  if (value != NULL)
    {
      data = te_bvalue_get_string (value, &data_len);
      response->warning = _te_tracker_sanitize (data, data_len);
    }

  set = _te_peer_set_new ();
  if (!parse_peers (root, set, error))
    {
      _te_peer_set_free (set);
      return NULL;
    }
  g_ptr_array_unref (response->peers);
  response->peers = _te_peer_set_steal (set);
  _te_peer_set_free (set);

  return g_steal_pointer (&response);
}

gboolean
_te_tracker_parse_http_scrape (const guint8    *body,
                               gsize            len,
                               const guint8     info_hash[20],
                               TeScrapeResult  *out,
                               GError         **error)
{
  g_autoptr(TeBValue) root = NULL;
  TeBValue *files;
  TeBValue *entry;
  gint64 number;

  root = decode_reply (body, len, error);
  if (root == NULL || !check_failure (root, error))
    return FALSE;

  files = te_bvalue_dict_get_kind (root, "files", TE_BVALUE_DICT);
  if (files == NULL)
    {
      g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                           "Scrape reply has no files dictionary");
      return FALSE;
    }

  /* A torrent the tracker does not know has nobody in its swarm. */
  out->seeders = out->leechers = out->downloaded = 0;
  entry = te_bvalue_dict_lookup_len (files, info_hash, 20);
  if (entry == NULL)
    return TRUE;
  if (te_bvalue_kind (entry) != TE_BVALUE_DICT)
    {
      g_set_error_literal (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                           "Scrape entry is not a dictionary");
      return FALSE;
    }
  out->seeders = te_bvalue_dict_get_int (entry, "complete", &number) && number >= 0 ? number : -1;
  out->leechers = te_bvalue_dict_get_int (entry, "incomplete", &number) && number >= 0 ? number
                                                                                        : -1;
  out->downloaded = te_bvalue_dict_get_int (entry, "downloaded", &number) && number >= 0 ? number
                                                                                         : -1;
  return TRUE;
}

/* Requests */

static void
append_escaped (GString      *out,
                const guint8 *data,
                gsize         len)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~')
        g_string_append_c (out, c);
      else
        g_string_append_printf (out, "%%%02X", c);
    }
}

/* @url with our parameters added to its query; any fragment is dropped. */
static GString *
start_query (const char *url)
{
  GString *out = g_string_new_len (url, strcspn (url, "#"));
  char last;

  if (strchr (out->str, '?') == NULL)
    g_string_append_c (out, '?');
  last = out->str[out->len - 1];
  if (last != '?' && last != '&')
    g_string_append_c (out, '&');
  return out;
}

static char *
build_announce_url (const char              *url,
                    const TeAnnounceRequest *request)
{
  static const char * const events[] = { NULL, "started", "completed", "stopped" };
  GString *out = start_query (url);

  g_string_append (out, "info_hash=");
  append_escaped (out, request->info_hash, 20);
  g_string_append (out, "&peer_id=");
  append_escaped (out, request->peer_id, 20);
  g_string_append_printf (out, "&port=%u&uploaded=%" G_GUINT64_FORMAT
                          "&downloaded=%" G_GUINT64_FORMAT "&left=%" G_GUINT64_FORMAT
                          "&compact=1",
                          request->port, request->uploaded, request->downloaded, request->left);
  if (request->event < G_N_ELEMENTS (events) && events[request->event] != NULL)
    g_string_append_printf (out, "&event=%s", events[request->event]);
  if (request->numwant >= 0)
    g_string_append_printf (out, "&numwant=%d", request->numwant);
  g_string_append_printf (out, "&key=%08X", request->key);
  if (request->tracker_id != NULL)
    {
      g_string_append (out, "&trackerid=");
      append_escaped (out, (const guint8 *) request->tracker_id, strlen (request->tracker_id));
    }
  return g_string_free (out, FALSE);
}

static char *
build_scrape_url (const char   *url,
                  const guint8  info_hash[20])
{
  GString *out = start_query (url);

  g_string_append (out, "info_hash=");
  append_escaped (out, info_hash, 20);
  return g_string_free (out, FALSE);
}

typedef struct {
  SoupMessage  *msg;
  GCancellable *cancellable;    /* ours: cancelled on timeout or by the caller's */
  GSource      *timeout_source;
  GSource      *cancel_source;
  GInputStream *stream;
  GByteArray   *body;
  gboolean      timed_out;
  gboolean      eof;
  gboolean      scrape;
  guint8        info_hash[20];
} HttpCall;

static void
stop_sources (HttpCall *call)
{
  if (call->timeout_source != NULL)
    g_source_destroy (call->timeout_source);
  g_clear_pointer (&call->timeout_source, g_source_unref);
  if (call->cancel_source != NULL)
    g_source_destroy (call->cancel_source);
  g_clear_pointer (&call->cancel_source, g_source_unref);
}

static void
http_call_free (gpointer data)
{
  HttpCall *call = data;

  stop_sources (call);
  if (call->stream != NULL)
    {
      /* Abandon whatever is left unread without blocking in a synchronous close. */
      if (!call->eof)
        g_cancellable_cancel (call->cancellable);
      g_input_stream_close_async (call->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    }
  g_clear_object (&call->stream);
  g_clear_object (&call->msg);
  g_clear_object (&call->cancellable);
  g_clear_pointer (&call->body, g_byte_array_unref);
  g_free (call);
}

static gboolean
timeout_cb (gpointer user_data)
{
  HttpCall *call = user_data;

  call->timed_out = TRUE;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
caller_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  HttpCall *call = user_data;

  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

static void
fail (GTask  *task,
      GError *error)
{
  HttpCall *call = g_task_get_task_data (task);

  stop_sources (call);
  if (call->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_TIMEOUT,
                               "Tracker did not answer within %u ms", http_timeout_ms);
      g_error_free (error);
    }
  else if (error->domain == SOUP_SESSION_ERROR || error->domain == TE_OUTBOUND_ERROR)
    {
      /* Unparsable replies, redirect loops, bad and refused redirects. */
      g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                               "%s", error->message);
      g_error_free (error);
    }
  else
    {
      _te_tracker_return_gio_error (task, error);
    }
}

static void
finish_body (GTask *task)
{
  HttpCall *call = g_task_get_task_data (task);
  GError *error = NULL;

  stop_sources (call);
  if (call->scrape)
    {
      TeScrapeResult scrape;

      if (_te_tracker_parse_http_scrape (call->body->data, call->body->len, call->info_hash,
                                         &scrape, &error))
        g_task_return_pointer (task, g_memdup2 (&scrape, sizeof scrape), g_free);
      else
        g_task_return_error (task, error);
    }
  else
    {
      TeAnnounceResponse *response;

      response = te_tracker_parse_http_reply (call->body->data, call->body->len, &error);
      if (response != NULL)
        g_task_return_pointer (task, response, (GDestroyNotify) te_announce_response_free);
      else
        g_task_return_error (task, error);
    }
}

static void read_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data);

static void
read_more (GTask *task)
{
  HttpCall *call = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (call->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   call->cancellable, read_cb, g_object_ref (task));
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HttpCall *call = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;
  gsize size;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (bytes == NULL)
    {
      fail (task, error);
      return;
    }

  size = g_bytes_get_size (bytes);
  if (size == 0)
    {
      call->eof = TRUE;
      finish_body (task);
      return;
    }
  if (call->body->len + size > TE_TRACKER_MAX_REPLY_SIZE)
    {
      stop_sources (call);
      g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                               "Tracker reply is larger than %u bytes",
                               TE_TRACKER_MAX_REPLY_SIZE);
      return;
    }
  g_byte_array_append (call->body, g_bytes_get_data (bytes, NULL), size);
  read_more (task);
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HttpCall *call = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  GError *error = NULL;
  guint status;

  g_clear_object (&call->msg);
  call->stream = te_outbound_send_finish (result, &call->msg, &error);
  if (call->stream == NULL)
    {
      fail (task, error);
      return;
    }

  status = soup_message_get_status (call->msg);
  if (status < 200 || status > 299)
    {
      const char *phrase = soup_message_get_reason_phrase (call->msg);
      g_autofree char *shown = _te_tracker_sanitize ((const guint8 *) (phrase ? phrase : ""),
                                                      phrase ? strlen (phrase) : 0);

      stop_sources (call);
      g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_HTTP_STATUS,
                               "HTTP %u%s%s", status, *shown ? " " : "", shown);
      return;
    }

  headers = soup_message_get_response_headers (call->msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > TE_TRACKER_MAX_REPLY_SIZE)
    {
      stop_sources (call);
      g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY,
                               "Tracker reply is too large (%" G_GINT64_FORMAT " bytes)",
                               (gint64) soup_message_headers_get_content_length (headers));
      return;
    }

  call->body = g_byte_array_new ();
  read_more (task);
}

static void
start (GTask        *task,
       SoupSession  *session,
       const char   *url,
       gboolean      scrape,
       const guint8  info_hash[20])
{
  GMainContext *context = g_task_get_context (task);
  GCancellable *caller = g_task_get_cancellable (task);
  HttpCall *call;
  SoupMessage *msg;

  msg = soup_message_new (SOUP_METHOD_GET, url);
  if (msg == NULL)
    {
      g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL,
                               "Cannot request “%s”", url);
      return;
    }

  call = g_new0 (HttpCall, 1);
  call->msg = msg;
  call->scrape = scrape;
  if (info_hash != NULL)
    memcpy (call->info_hash, info_hash, 20);
  call->cancellable = g_cancellable_new ();
  g_task_set_task_data (task, call, http_call_free);

  call->timeout_source = g_timeout_source_new (http_timeout_ms);
  g_source_set_callback (call->timeout_source, timeout_cb, call, NULL);
  g_source_attach (call->timeout_source, context);
  if (caller != NULL)
    {
      call->cancel_source = g_cancellable_source_new (caller);
      g_source_set_callback (call->cancel_source, G_SOURCE_FUNC (caller_cancelled_cb), call, NULL);
      g_source_attach (call->cancel_source, context);
    }

  te_outbound_send_async (session, msg, "tracker", call->cancellable, sent_cb, g_object_ref (task));
}

void
_te_tracker_http_announce (GTask                   *task,
                           SoupSession             *session,
                           const char              *url,
                           const TeAnnounceRequest *request)
{
  g_autofree char *full = build_announce_url (url, request);

  start (task, session, full, FALSE, NULL);
}

void
_te_tracker_http_scrape (GTask        *task,
                         SoupSession  *session,
                         const char   *url,
                         const guint8  info_hash[20])
{
  g_autofree char *full = build_scrape_url (url, info_hash);

  start (task, session, full, TRUE, info_hash);
}
