/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service"

#include "config.h"

#include <string.h>

#include "te-service-private.h"

/* Replies: JSON bodies with their headers, gzipped when the client takes it
 * and the body is worth it, and calls whose reply comes later. */

#define GZIP_MIN_SIZE 1024

static GBytes *
gzip (const char *data,
      gsize       len)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
  g_autoptr(GByteArray) out = g_byte_array_sized_new (len / 4 + 64);
  gsize done = 0;

  for (;;)
    {
      guint8 buf[16384];
      gsize read = 0, written = 0;
      GConverterResult r;

      r = g_converter_convert (G_CONVERTER (z), data + done, len - done, buf, sizeof buf,
                               G_CONVERTER_INPUT_AT_END, &read, &written, NULL);
      if (r == G_CONVERTER_ERROR)
        return NULL;
      done += read;
      g_byte_array_append (out, buf, written);
      if (r == G_CONVERTER_FINISHED)
        break;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
accepts_gzip (SoupServerMessage *msg)
{
  const char *ae = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                                  "Accept-Encoding");
  g_autoptr(GSList) codings = NULL;
  gboolean ok = FALSE;

  if (ae == NULL)
    return FALSE;
  codings = soup_header_parse_quality_list (ae, NULL);
  for (GSList *l = codings; l; l = l->next)
    if (g_ascii_strcasecmp (l->data, "gzip") == 0)
      ok = TRUE;
  g_slist_free_full (g_steal_pointer (&codings), g_free);
  return ok;
}

/* Status, headers and the whole body at once, so libsoup writes them together. */
static void
reply_bytes (SoupServerMessage *msg,
             guint              status,
             GBytes            *body)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autoptr(GBytes) zipped = NULL;

  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  if (g_bytes_get_size (body) >= GZIP_MIN_SIZE && accepts_gzip (msg))
    zipped = gzip (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  if (zipped)
    {
      soup_message_headers_replace (h, "Content-Encoding", "gzip");
      soup_message_headers_append (h, "Vary", "Accept-Encoding");
      body = zipped;
    }
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

void
_te_service_reply_error (TeService         *self,
                         SoupServerMessage *msg,
                         guint              status,
                         const char        *code,
                         const char        *message)
{
  g_autoptr(GString) s = g_string_new ("{\"error\":");
  g_autoptr(GBytes) body = NULL;

  te_api_append_string (s, code);
  g_string_append (s, ",\"message\":");
  te_api_append_string (s, message);
  g_string_append_c (s, '}');
  body = g_string_free_to_bytes (g_steal_pointer (&s));
  reply_bytes (msg, status, body);
}

static void
call_finished_cb (SoupServerMessage *msg,
                  TeCall            *call)
{
  call->finished = TRUE;
}

/* The reply comes later: keep the message waiting. */
void
_te_call_pause (TeCall *call)
{
  g_assert (!call->paused);
  call->paused = TRUE;
  g_signal_connect (call->msg, "finished", G_CALLBACK (call_finished_cb), call);
  soup_server_message_pause (call->msg);
}

/* The call goes on at once after all: the message is read on. */
void
_te_call_unpause (TeCall *call)
{
  g_assert (call->paused);
  g_signal_handlers_disconnect_by_func (call->msg, call_finished_cb, call);
  call->paused = FALSE;
  soup_server_message_unpause (call->msg);
}

void
_te_call_free (TeCall *call)
{
  if (call->paused)
    g_signal_handlers_disconnect_by_func (call->msg, call_finished_cb, call);
  g_clear_object (&call->service);
  g_clear_object (&call->msg);
  g_clear_object (&call->torrent);
  g_clear_pointer (&call->query, g_hash_table_unref);
  g_clear_pointer (&call->body, json_object_unref);
  g_free (call->id);
  g_free (call);
}

static void
resume (TeCall *call)
{
  if (call->paused && !call->finished)
    soup_server_message_unpause (call->msg);
}

/**
 * _te_call_reply:
 * @json: (transfer full): the body
 */
void
_te_call_reply (TeCall  *call,
                guint    status,
                GString *json)
{
  g_autoptr(GBytes) body = g_string_free_to_bytes (json);

  if (call->finished)
    return;
  reply_bytes (call->msg, status, body);
  resume (call);
}

void
_te_call_reply_node (TeCall   *call,
                     guint     status,
                     JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len;
  char *data;

  json_generator_set_root (gen, node);
  data = json_generator_to_data (gen, &len);
  _te_call_reply (call, status, g_string_new_len (data, len));
  g_free (data);
}

/**
 * _te_call_reply_object:
 * @object: (transfer full): the body
 */
void
_te_call_reply_object (TeCall     *call,
                       guint       status,
                       JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  _te_call_reply_node (call, status, node);
}

void
_te_call_reply_status (TeCall     *call,
                       guint       status,
                       const char *code,
                       const char *message)
{
  if (call->finished)
    return;
  _te_service_reply_error (call->service, call->msg, status, code, message);
  resume (call);
}

void
_te_call_reply_error (TeCall       *call,
                      const GError *error)
{
  _te_call_reply_status (call, te_api_error_status (error), te_api_error_name (error), error->message);
}
