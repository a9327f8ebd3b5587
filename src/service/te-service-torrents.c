/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service"

#include "config.h"

#include <string.h>

#include "te-outbound.h"
#include "te-remote-path.h"
#include "te-service-private.h"

/* /api/v1/torrents and one torrent's own routes; its files, peers and
 * trackers are in te-service-details.c. */

/* Torrent fields, in the order they are written. */
typedef enum {
  F_ID, F_NAME, F_STATE, F_PROGRESS, F_TOTAL_SIZE, F_WANTED_SIZE, F_HAVE_BYTES,
  F_DOWNLOADED, F_UPLOADED, F_DOWNLOAD_RATE, F_UPLOAD_RATE, F_RATIO, F_ETA,
  F_PEERS_CONNECTED, F_PEERS_KNOWN, F_SEEDS_CONNECTED, F_PIECES_HAVE, F_PIECES_TOTAL,
  F_QUEUE_POSITION, F_PRIORITY, F_SAVE_PATH, F_ADDED_AT, F_COMPLETED_AT, F_ERROR,
  F_INFO_HASH_V2, F_CHECK_PROGRESS, F_SEQUENTIAL, F_DOWNLOAD_LIMIT, F_UPLOAD_LIMIT,
  F_SEED_RATIO_LIMIT, F_SEED_TIME_LIMIT, F_MAGNET,
  N_FIELDS
} Field;

static const char * const field_names[N_FIELDS] = {
  "id", "name", "state", "progress", "totalSize", "wantedSize", "haveBytes",
  "downloaded", "uploaded", "downloadRate", "uploadRate", "ratio", "eta",
  "peersConnected", "peersKnown", "seedsConnected", "piecesHave", "piecesTotal",
  "queuePosition", "priority", "savePath", "addedAt", "completedAt", "error",
  "infoHashV2", "checkProgress", "sequential", "downloadLimit", "uploadLimit",
  "seedRatioLimit", "seedTimeLimit", "magnet",
};

/**
 * _te_torrent_append_json:
 * @fields: (nullable): the fields to write; all when `NULL`
 *
 * Writes one torrent as a JSON object, straight into @out.
 */
void
_te_torrent_append_json (GString     *out,
                         TeTorrent   *t,
                         const guint *fields,
                         guint        n_fields)
{
  TeTorrentStats st;
  gboolean have_stats = FALSE;
  guint n = fields ? n_fields : N_FIELDS;

  g_string_append_c (out, '{');
  for (guint i = 0; i < n; i++)
    {
      Field f = fields ? fields[i] : i;

      if (i)
        g_string_append_c (out, ',');
      g_string_append_c (out, '"');
      g_string_append (out, field_names[f]);
      g_string_append (out, "\":");
      if (!have_stats && (f >= F_WANTED_SIZE && f <= F_PIECES_TOTAL) && f != F_RATIO && f != F_ETA)
        {
          te_torrent_get_stats (t, &st);
          have_stats = TRUE;
        }
      switch (f)
        {
        case F_ID:
          {
            g_autofree char *id = te_torrent_dup_id (t);
            te_api_append_string (out, id);
          }
          break;
        case F_NAME: te_api_append_string (out, te_torrent_get_name (t)); break;
        case F_STATE:
          g_string_append_printf (out, "\"%s\"", te_torrent_state_to_string (te_torrent_get_state (t)));
          break;
        case F_PROGRESS: g_string_append_printf (out, "%.4f", te_torrent_get_progress (t)); break;
        case F_TOTAL_SIZE: g_string_append_printf (out, "%" G_GUINT64_FORMAT, te_torrent_get_total_size (t)); break;
        case F_WANTED_SIZE: g_string_append_printf (out, "%" G_GUINT64_FORMAT, st.wanted_bytes); break;
        case F_HAVE_BYTES: g_string_append_printf (out, "%" G_GUINT64_FORMAT, st.have_bytes); break;
        case F_DOWNLOADED: g_string_append_printf (out, "%" G_GUINT64_FORMAT, st.downloaded); break;
        case F_UPLOADED: g_string_append_printf (out, "%" G_GUINT64_FORMAT, st.uploaded); break;
        case F_DOWNLOAD_RATE: g_string_append_printf (out, "%" G_GUINT64_FORMAT, st.download_rate); break;
        case F_UPLOAD_RATE: g_string_append_printf (out, "%" G_GUINT64_FORMAT, st.upload_rate); break;
        case F_RATIO: g_string_append_printf (out, "%.4f", te_torrent_get_ratio (t)); break;
        case F_ETA:
          {
            gint64 eta = te_torrent_get_eta (t);

            if (eta >= 0)
              g_string_append_printf (out, "%" G_GINT64_FORMAT, eta);
            else
              g_string_append (out, "null");
          }
          break;
        case F_PEERS_CONNECTED: g_string_append_printf (out, "%u", st.peers_connected); break;
        case F_PEERS_KNOWN: g_string_append_printf (out, "%u", st.peers_known); break;
        case F_SEEDS_CONNECTED: g_string_append_printf (out, "%u", st.seeds_connected); break;
        case F_PIECES_HAVE: g_string_append_printf (out, "%u", st.pieces_have); break;
        case F_PIECES_TOTAL: g_string_append_printf (out, "%u", st.pieces_total); break;
        case F_QUEUE_POSITION: g_string_append_printf (out, "%u", te_torrent_get_queue_position (t)); break;
        case F_PRIORITY:
          g_string_append_printf (out, "\"%s\"", te_queue_priority_to_string (te_torrent_get_priority (t)));
          break;
        case F_SAVE_PATH: te_api_append_string (out, te_torrent_get_save_path (t)); break;
        case F_ADDED_AT: te_api_append_time (out, te_torrent_get_added_at (t)); break;
        case F_COMPLETED_AT: te_api_append_time (out, te_torrent_get_completed_at (t)); break;
        case F_ERROR:
          {
            const TeErrorEvent *e = te_torrent_get_state (t) == TE_TORRENT_STATE_ERROR
                                    ? te_torrent_get_error_event (t) : NULL;

            if (e == NULL)
              {
                g_string_append (out, "null");
                break;
              }
            g_string_append_printf (out, "{\"category\":\"%s\",\"code\":", te_error_category_to_string (e->category));
            te_api_append_string (out, e->code ? e->code : "");
            g_string_append (out, ",\"message\":");
            te_api_append_string (out, e->message ? e->message : "");
            g_string_append_printf (out, ",\"recoverable\":%s,\"action\":\"%s\"}", e->recoverable ? "true" : "false",
                                    te_error_action_to_string (e->action));
          }
          break;
        case F_INFO_HASH_V2:
          if (te_torrent_get_info_hash_v2 (t))
            te_api_append_hex (out, te_torrent_get_info_hash_v2 (t), 32);
          else
            g_string_append (out, "null");
          break;
        case F_CHECK_PROGRESS: g_string_append_printf (out, "%.4f", te_torrent_get_check_progress (t)); break;
        case F_SEQUENTIAL: g_string_append (out, te_torrent_get_sequential (t) ? "true" : "false"); break;
        case F_DOWNLOAD_LIMIT:
        case F_UPLOAD_LIMIT:
          {
            guint64 down, up;

            te_torrent_get_limits (t, &down, &up);
            g_string_append_printf (out, "%" G_GUINT64_FORMAT, f == F_DOWNLOAD_LIMIT ? down : up);
          }
          break;
        case F_SEED_RATIO_LIMIT:
        case F_SEED_TIME_LIMIT:
          {
            double ratio;
            gint64 ms;

            te_torrent_get_seed_limits (t, &ratio, &ms);
            if (f == F_SEED_RATIO_LIMIT)
              {
                if (ratio < 0)
                  g_string_append (out, "null");
                else
                  g_string_append_printf (out, "%g", ratio);
              }
            else if (ms < 0)
              g_string_append (out, "null");
            else
              g_string_append_printf (out, "%" G_GINT64_FORMAT, ms / 1000);
          }
          break;
        case F_MAGNET:
          {
            g_autofree char *magnet = te_torrent_dup_magnet (t);

            if (magnet)
              te_api_append_string (out, magnet);
            else
              g_string_append (out, "null");
          }
          break;
        case N_FIELDS:
        default:
          g_assert_not_reached ();
        }
    }
  g_string_append_c (out, '}');
}

static void
reply_torrent (TeCall    *call,
               guint      status,
               TeTorrent *t)
{
  GString *s = g_string_sized_new (1024);

  _te_torrent_append_json (s, t, NULL, 0);
  _te_call_reply (call, status, s);
}

/* ?fields=a,b,c */
static GArray *
parse_fields (const char  *list,
              GError     **error)
{
  g_auto(GStrv) names = g_strsplit (list, ",", N_FIELDS * 2 + 1);
  g_autoptr(GArray) fields = g_array_new (FALSE, FALSE, sizeof (guint));
  guint seen = 0;

  if (g_strv_length (names) > N_FIELDS * 2)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "Too many “fields”");
      return NULL;
    }
  for (guint i = 0; names[i]; i++)
    {
      guint f = 0;

      while (f < N_FIELDS && strcmp (field_names[f], names[i]) != 0)
        f++;
      if (f == N_FIELDS)
        {
          g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "Unknown field “%s”", names[i]);
          return NULL;
        }
      if (!(seen & (1u << f)))
        g_array_append_val (fields, f);
      seen |= 1u << f;
    }
  return g_steal_pointer (&fields);
}

/* ?state=downloading,seeding */
static gboolean
parse_states (const char  *list,
              guint       *mask,
              GError     **error)
{
  g_auto(GStrv) names = g_strsplit (list, ",", 32);

  *mask = 0;
  for (guint i = 0; names[i]; i++)
    {
      TeTorrentState st;

      if (!te_torrent_state_from_string (names[i], &st))
        {
          g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "Unknown state “%s”", names[i]);
          return FALSE;
        }
      *mask |= 1u << st;
    }
  return TRUE;
}

void
_te_route_torrents_list (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  GPtrArray *torrents = te_engine_get_torrents (engine);
  const char *fields_arg = call->query ? g_hash_table_lookup (call->query, "fields") : NULL;
  const char *state_arg = call->query ? g_hash_table_lookup (call->query, "state") : NULL;
  g_autoptr(GArray) fields = NULL;
  g_autoptr(GError) error = NULL;
  guint mask = ~0u;
  GString *s;
  gboolean first = TRUE;

  if (fields_arg && (fields = parse_fields (fields_arg, &error)) == NULL)
    {
      _te_call_reply_error (call, error);
      return;
    }
  if (state_arg && !parse_states (state_arg, &mask, &error))
    {
      _te_call_reply_error (call, error);
      return;
    }
  s = g_string_sized_new (64 + torrents->len * (fields ? 32 * fields->len : 900));
  g_string_append (s, "{\"torrents\":[");
  for (guint i = 0; i < torrents->len; i++)
    {
      TeTorrent *t = g_ptr_array_index (torrents, i);

      if (!(mask & (1u << te_torrent_get_state (t))))
        continue;
      if (!first)
        g_string_append_c (s, ',');
      first = FALSE;
      _te_torrent_append_json (s, t, fields ? (guint *) fields->data : NULL, fields ? fields->len : 0);
    }
  g_string_append (s, "]}");
  _te_call_reply (call, 200, s);
}

void
_te_route_torrent_get (TeCall *call)
{
  reply_torrent (call, 200, call->torrent);
}

/* Adding */

static void
finish_add (TeCall          *call,
            TeApiAddRequest *req)
{
  TeEngine *engine = te_service_get_engine (call->service);
  g_autoptr(GError) error = NULL;
  TeAddOptions options;
  TeTorrent *t;

  te_add_options_init (&options);
  options.save_path = req->save_path;
  options.paused = req->paused;
  options.priority = req->priority;
  options.sequential = req->sequential;
  if (req->wanted)
    {
      options.wanted = (const gboolean *) req->wanted->data;
      options.n_wanted = req->wanted->len;
    }
  if (req->metainfo)
    t = te_engine_add_torrent_bytes (engine, req->metainfo, &options, &error);
  else
    t = te_engine_add_magnet_uri (engine, req->magnet, &options, &error);
  if (t == NULL)
    {
      if (g_error_matches (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE))
        _te_call_reply_status (call, 409, "conflict", error->message);
      else
        _te_call_reply_status (call, 422, "invalid_value", error->message);
      return;
    }
  for (guint i = 0; req->peers && i < req->peers->len; i++)
    {
      g_autoptr(GSocketConnectable) addr = g_network_address_parse (g_ptr_array_index (req->peers, i), 0, NULL);
      g_autoptr(GInetAddress) ip = g_inet_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (addr)));
      g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (ip, g_network_address_get_port (G_NETWORK_ADDRESS (addr)));

      te_torrent_add_peer (t, G_INET_SOCKET_ADDRESS (sa));
    }
  reply_torrent (call, 201, t);
}

typedef struct {
  TeCall          *call;
  TeApiAddRequest  req;
  GInputStream    *stream;
  GByteArray      *data;
} Fetch;

static void
fetch_free (Fetch *f)
{
  te_api_add_request_clear (&f->req);
  g_clear_object (&f->stream);
  g_clear_pointer (&f->data, g_byte_array_unref);
  g_free (f);
}

static void
fetch_fail (Fetch      *f,
            const char *message)
{
  g_autofree char *m = g_strdup_printf ("Cannot fetch the torrent: %s", message);

  _te_call_reply_status (f->call, 422, "invalid_value", m);
  _te_call_free (f->call);
  fetch_free (f);
}

static void
fetch_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fetch *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (chunk == NULL)
    {
      fetch_fail (f, error->message);
      return;
    }
  if (g_bytes_get_size (chunk) > 0)
    {
      if (f->data->len + g_bytes_get_size (chunk) > TE_API_MAX_BODY)
        {
          fetch_fail (f, "it is larger than 16 MiB");
          return;
        }
      g_byte_array_append (f->data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      g_input_stream_read_bytes_async (f->stream, 65536, G_PRIORITY_DEFAULT, NULL, fetch_read_cb, f);
      return;
    }
  f->req.metainfo = g_byte_array_free_to_bytes (g_steal_pointer (&f->data));
  finish_add (f->call, &f->req);
  _te_call_free (f->call);
  fetch_free (f);
}

static void
fetch_sent_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fetch *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  f->stream = te_outbound_send_finish (result, &msg, &error);
  if (f->stream == NULL)
    {
      fetch_fail (f, error->message);
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
    {
      g_autofree char *m = g_strdup_printf ("HTTP status %u", soup_message_get_status (msg));

      fetch_fail (f, m);
      return;
    }
  if (soup_message_headers_get_content_length (soup_message_get_response_headers (msg)) > TE_API_MAX_BODY)
    {
      fetch_fail (f, "it is larger than 16 MiB");
      return;
    }
  f->data = g_byte_array_new ();
  g_input_stream_read_bytes_async (f->stream, 65536, G_PRIORITY_DEFAULT, NULL, fetch_read_cb, f);
}

/* A folder from a client must lie in the allowed roots; *path becomes the
 * resolved folder, so a symbolic link swapped in later changes nothing. */
static gboolean
check_save_path (TeCall  *call,
                 char   **path,
                 GError **error)
{
  TeEngine *engine = te_service_get_engine (call->service);
  char *resolved = te_remote_path_check (te_engine_get_settings (engine), "savePath", *path, error);

  if (resolved == NULL)
    return FALSE;
  g_free (*path);
  *path = resolved;
  return TRUE;
}

void
_te_route_torrents_add (TeCall *call)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (call->msg);
  const char *type = soup_message_headers_get_content_type (h, NULL);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (call->msg));
  g_autoptr(GError) error = NULL;
  TeApiAddRequest req = { 0 };

  if (type && g_ascii_strcasecmp (type, "multipart/form-data") == 0)
    {
      if (!te_api_parse_add_multipart (soup_message_headers_get_one (h, "Content-Type"), body, &req, &error))
        goto failed;
    }
  else
    {
      g_autoptr(JsonObject) o = te_api_parse_object (type, g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                                     &error);

      if (o == NULL || !te_api_parse_add (o, &req, &error))
        goto failed;
    }
  /* Checked before a URL is fetched: a refused request costs nothing. */
  if (req.save_path && !check_save_path (call, &req.save_path, &error))
    goto failed;
  if (req.url)
    {
      Fetch *f = g_new0 (Fetch, 1);
      g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, req.url);

      if (msg == NULL)
        {
          te_api_add_request_clear (&req);
          g_free (f);
          _te_call_reply_status (call, 422, "invalid_value", "“url” is not a valid URL");
          return;
        }
      f->call = call;
      f->req = req;
      _te_call_pause (call);
      te_outbound_send_async (_te_service_get_session (call->service), msg, "server", NULL,
                              fetch_sent_cb, f);
      return;
    }
  finish_add (call, &req);
  te_api_add_request_clear (&req);
  return;

failed:
  te_api_add_request_clear (&req);
  _te_call_reply_error (call, error);
}

/* Actions */

void
_te_route_torrent_pause (TeCall *call)
{
  te_torrent_pause (call->torrent);
  reply_torrent (call, 200, call->torrent);
}

void
_te_route_torrent_resume (TeCall *call)
{
  te_torrent_start (call->torrent);
  reply_torrent (call, 200, call->torrent);
}

void
_te_route_torrent_recheck (TeCall *call)
{
  te_torrent_recheck (call->torrent);
  reply_torrent (call, 200, call->torrent);
}

void
_te_route_torrent_delete (TeCall *call)
{
  const char *arg = call->query ? g_hash_table_lookup (call->query, "deleteData") : NULL;
  gboolean delete_data = FALSE;

  if (arg && strcmp (arg, "true") == 0)
    delete_data = TRUE;
  else if (arg && strcmp (arg, "false") != 0)
    {
      _te_call_reply_status (call, 400, "bad_request", "“deleteData” must be true or false");
      return;
    }
  te_engine_remove (te_service_get_engine (call->service), call->torrent, delete_data);
  soup_server_message_set_status (call->msg, 204, NULL);
}

void
_te_route_torrent_patch (TeCall *call)
{
  TeEngine *engine = te_service_get_engine (call->service);
  g_autoptr(GError) error = NULL;
  TeApiTorrentPatch p;
  TeTorrent *t = call->torrent;

  if (!te_api_parse_torrent_patch (call->body, &p, &error))
    {
      _te_call_reply_error (call, error);
      return;
    }
  if (p.has_priority)
    te_engine_set_priority (engine, t, p.priority);
  if (p.has_queue_position)
    te_engine_set_queue_position (engine, t, p.queue_position);
  if (p.has_download_limit || p.has_upload_limit)
    {
      guint64 down, up;

      te_torrent_get_limits (t, &down, &up);
      te_torrent_set_limits (t, p.has_download_limit ? p.download_limit : down,
                             p.has_upload_limit ? p.upload_limit : up);
    }
  if (p.has_seed_ratio || p.has_seed_time)
    {
      double ratio;
      gint64 ms;

      te_torrent_get_seed_limits (t, &ratio, &ms);
      te_torrent_set_seed_limits (t, p.has_seed_ratio ? p.seed_ratio : ratio, p.has_seed_time ? p.seed_time_ms : ms);
    }
  if (p.has_sequential)
    te_torrent_set_sequential (t, p.sequential);
  if (p.has_super_seeding)
    te_torrent_set_super_seeding (t, p.super_seeding);
  reply_torrent (call, 200, t);
}

static void
moved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  TeCall *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!te_engine_move_storage_finish (TE_ENGINE (source), result, &error))
    _te_call_reply_status (call, 409, "conflict", error->message);
  else
    reply_torrent (call, 200, call->torrent);
  _te_call_free (call);
}

void
_te_route_torrent_move (TeCall *call)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (!te_api_parse_move (call->body, &path, &error) || !check_save_path (call, &path, &error))
    {
      _te_call_reply_error (call, error);
      return;
    }
  _te_call_pause (call);
  te_engine_move_storage_async (te_service_get_engine (call->service), call->torrent, path, NULL, NULL, NULL,
                                moved_cb, call);
}
