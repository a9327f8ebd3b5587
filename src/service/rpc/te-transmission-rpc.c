/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-transmission-rpc"

#include "config.h"

#include <math.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "te-hash.h"
#include "te-json-scan.h"
#include "te-transmission-rpc-private.h"

/* A Transmission-compatible RPC endpoint over the engine's public API: the
 * session-id handshake, request parsing with limits, torrent ids, and the
 * method table. The methods live in te-transmission-rpc-{torrent,torrent-get,
 * session}.c. */

/* JSON nesting accepted; Transmission's deepest request nests 3 levels. */
#define MAX_DEPTH 32

G_DEFINE_QUARK (te-transmission-rpc-error-quark, te_transmission_rpc_error)

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_ALLOW_URL_FETCH,
  N_PROPS
};

enum {
  SIGNAL_CLOSE_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TeTransmissionRpc, te_transmission_rpc, G_TYPE_OBJECT)

/* Torrent ids */

void
_te_rpc_touch (TeRpcEntry *entry)
{
  entry->activity = g_get_real_time () / G_USEC_PER_SEC;
}

/* Activity comes through the engine's signals: one connection for all
 * torrents. A torrent without an entry was removed. */

static void
state_changed_cb (TeEngine          *engine,
                  TeTorrent         *torrent,
                  TeTorrentState     from,
                  TeTorrentState     to,
                  TeTransmissionRpc *self)
{
  TeRpcEntry *entry = g_hash_table_lookup (self->entries, torrent);

  if (entry == NULL)
    return;
  _te_rpc_touch (entry);
  if ((to == TE_TORRENT_STATE_DOWNLOADING || to == TE_TORRENT_STATE_SEEDING
       || to == TE_TORRENT_STATE_PENDING)
      && from != TE_TORRENT_STATE_DOWNLOADING && from != TE_TORRENT_STATE_SEEDING
      && from != TE_TORRENT_STATE_PENDING)
    entry->started = entry->activity;
}

static void
piece_completed_cb (TeEngine          *engine,
                    TeTorrent         *torrent,
                    guint              piece,
                    TeTransmissionRpc *self)
{
  TeRpcEntry *entry = g_hash_table_lookup (self->entries, torrent);

  if (entry != NULL)
    _te_rpc_touch (entry);
}

static void
entry_free (TeRpcEntry *entry)
{
  g_clear_pointer (&entry->skipped_priority, g_hash_table_unref);
  g_clear_object (&entry->torrent);
  g_free (entry);
}

static TeRpcEntry *
add_entry (TeTransmissionRpc *self,
           TeTorrent         *torrent)
{
  TeRpcEntry *entry = g_hash_table_lookup (self->entries, torrent);
  TeTorrentState state;

  if (entry != NULL)
    return entry;
  entry = g_new0 (TeRpcEntry, 1);
  entry->torrent = g_object_ref (torrent);
  entry->id = ++self->next_id;
  entry->skipped_priority = g_hash_table_new (NULL, NULL);
  entry->ratio_limit = 2.0;
  _te_rpc_touch (entry);
  state = te_torrent_get_state (torrent);
  if (state == TE_TORRENT_STATE_DOWNLOADING || state == TE_TORRENT_STATE_SEEDING
      || state == TE_TORRENT_STATE_PENDING)
    entry->started = entry->activity;
  g_hash_table_insert (self->entries, torrent, entry);
  g_hash_table_insert (self->by_id, GINT_TO_POINTER (entry->id), entry);
  return entry;
}

static void
torrent_added_cb (TeEngine          *engine,
                  TeTorrent         *torrent,
                  TeTransmissionRpc *self)
{
  add_entry (self, torrent);
  self->files_added++;
}

static void
torrent_removed_cb (TeEngine          *engine,
                    TeTorrent         *torrent,
                    gboolean           delete_data,
                    TeTransmissionRpc *self)
{
  TeRpcEntry *entry = g_hash_table_lookup (self->entries, torrent);
  TeRpcRemoved removed;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (entry == NULL)
    return;
  removed.id = entry->id;
  removed.when = now;
  /* Only the last minute's removals are ever reported. */
  while (self->removed->len > 0
         && g_array_index (self->removed, TeRpcRemoved, 0).when < now - TE_RPC_RECENT_S)
    g_array_remove_index (self->removed, 0);
  if (self->removed->len < TE_RPC_MAX_ARRAY)
    g_array_append_val (self->removed, removed);
  g_hash_table_remove (self->by_id, GINT_TO_POINTER (entry->id));
  g_hash_table_remove (self->entries, torrent);
}

TeRpcEntry *
_te_rpc_lookup (TeTransmissionRpc *self,
                TeTorrent         *torrent)
{
  return g_hash_table_lookup (self->entries, torrent);
}

/**
 * te_transmission_rpc_get_torrent_id:
 * @torrent: a torrent of the engine
 *
 * Returns: the number Transmission clients know @torrent by, stable for the
 *   endpoint's life and never reused; 0 for a torrent the engine does not hold
 */
int
te_transmission_rpc_get_torrent_id (TeTransmissionRpc *self,
                                    TeTorrent         *torrent)
{
  TeRpcEntry *entry;

  g_return_val_if_fail (TE_IS_TRANSMISSION_RPC (self), 0);
  entry = g_hash_table_lookup (self->entries, torrent);
  return entry ? entry->id : 0;
}

/* GObject */

static void
te_transmission_rpc_constructed (GObject *object)
{
  TeTransmissionRpc *self = TE_TRANSMISSION_RPC (object);
  GPtrArray *torrents;
  const TeEngineSettings *settings;
  guint8 random[24];

  G_OBJECT_CLASS (te_transmission_rpc_parent_class)->constructed (object);
  g_assert (self->engine != NULL);

  /* The session id is a CSRF token: unpredictable, like a password. */
  if (gnutls_rnd (GNUTLS_RND_NONCE, random, sizeof random) != 0)
    for (guint i = 0; i < sizeof random; i++)
      random[i] = (guint8) g_random_int ();
  self->session_id = te_hex_encode (random, sizeof random);

  torrents = te_engine_get_torrents (self->engine);
  for (guint i = 0; i < torrents->len; i++)
    add_entry (self, g_ptr_array_index (torrents, i));
  self->added_handler = g_signal_connect (self->engine, "torrent-added",
                                          G_CALLBACK (torrent_added_cb), self);
  self->removed_handler = g_signal_connect (self->engine, "torrent-removed",
                                            G_CALLBACK (torrent_removed_cb), self);
  g_signal_connect (self->engine, "torrent-state-changed", G_CALLBACK (state_changed_cb), self);
  g_signal_connect (self->engine, "torrent-piece-completed", G_CALLBACK (piece_completed_cb), self);

  settings = te_engine_get_settings (self->engine);
  self->speed_down_kbps = settings->download_limit / TE_RPC_SPEED_K;
  self->speed_up_kbps = settings->upload_limit / TE_RPC_SPEED_K;
  self->seed_ratio = settings->seed_ratio_limit > 0 ? settings->seed_ratio_limit : 2.0;
  /* Transmission's defaults stand in until a queue is switched on. */
  self->download_queue = settings->max_active_downloads ? settings->max_active_downloads : 5;
  self->seed_queue = settings->max_active_seeds ? settings->max_active_seeds : 10;
  self->stall_minutes = settings->stall_timeout_s ? MAX (settings->stall_timeout_s / 60, 1) : 30;
}

static void
te_transmission_rpc_dispose (GObject *object)
{
  TeTransmissionRpc *self = TE_TRANSMISSION_RPC (object);

  if (self->engine)
    {
      g_clear_signal_handler (&self->added_handler, self->engine);
      g_clear_signal_handler (&self->removed_handler, self->engine);
      g_signal_handlers_disconnect_by_data (self->engine, self);
    }
  if (self->entries)
    g_hash_table_remove_all (self->by_id);
  if (self->entries)
    g_hash_table_remove_all (self->entries);
  if (self->http)
    soup_session_abort (self->http);
  g_clear_object (&self->http);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (te_transmission_rpc_parent_class)->dispose (object);
}

static void
te_transmission_rpc_finalize (GObject *object)
{
  TeTransmissionRpc *self = TE_TRANSMISSION_RPC (object);

  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_pointer (&self->removed, g_array_unref);
  g_free (self->session_id);
  G_OBJECT_CLASS (te_transmission_rpc_parent_class)->finalize (object);
}

static void
te_transmission_rpc_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  TeTransmissionRpc *self = TE_TRANSMISSION_RPC (object);

  switch (prop_id)
    {
    case PROP_ENGINE: g_value_set_object (value, self->engine); break;
    case PROP_ALLOW_URL_FETCH: g_value_set_boolean (value, self->allow_url_fetch); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_transmission_rpc_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  TeTransmissionRpc *self = TE_TRANSMISSION_RPC (object);

  switch (prop_id)
    {
    case PROP_ENGINE: self->engine = g_value_dup_object (value); break;
    case PROP_ALLOW_URL_FETCH:
      te_transmission_rpc_set_allow_url_fetch (self, g_value_get_boolean (value));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_transmission_rpc_class_init (TeTransmissionRpcClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = te_transmission_rpc_constructed;
  object_class->dispose = te_transmission_rpc_dispose;
  object_class->finalize = te_transmission_rpc_finalize;
  object_class->get_property = te_transmission_rpc_get_property;
  object_class->set_property = te_transmission_rpc_set_property;

  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL, TE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * TeTransmissionRpc:allow-url-fetch:
   *
   * Whether `torrent-add` may download a .torrent from an http(s) URL a
   * client names. On by default, as in Transmission.
   */
  properties[PROP_ALLOW_URL_FETCH] =
    g_param_spec_boolean ("allow-url-fetch", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY
                          | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TeTransmissionRpc::close-requested:
   *
   * A client sent `session-close`. A handler that will shut the session down
   * returns %TRUE; when none does, the client is told the server will not.
   *
   * Returns: %TRUE when the request is handled
   */
  signals[SIGNAL_CLOSE_REQUESTED] =
    g_signal_new ("close-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 0);
}

static void
te_transmission_rpc_init (TeTransmissionRpc *self)
{
  self->entries = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) entry_free);
  self->by_id = g_hash_table_new (NULL, NULL);
  self->removed = g_array_new (FALSE, FALSE, sizeof (TeRpcRemoved));
  self->start_added = TRUE;
  self->created = g_get_real_time () / G_USEC_PER_SEC;
}

/**
 * te_transmission_rpc_new:
 * @engine: the engine to control
 *
 * Returns: (transfer full): an endpoint speaking Transmission's RPC protocol
 */
TeTransmissionRpc *
te_transmission_rpc_new (TeEngine *engine)
{
  g_return_val_if_fail (TE_IS_ENGINE (engine), NULL);
  return g_object_new (TE_TYPE_TRANSMISSION_RPC, "engine", engine, NULL);
}

/**
 * te_transmission_rpc_get_engine:
 *
 * Returns: (transfer none): the engine
 */
TeEngine *
te_transmission_rpc_get_engine (TeTransmissionRpc *self)
{
  g_return_val_if_fail (TE_IS_TRANSMISSION_RPC (self), NULL);
  return self->engine;
}

/**
 * te_transmission_rpc_get_session_id:
 *
 * Returns: the value clients must send in `X-Transmission-Session-Id`
 */
const char *
te_transmission_rpc_get_session_id (TeTransmissionRpc *self)
{
  g_return_val_if_fail (TE_IS_TRANSMISSION_RPC (self), NULL);
  return self->session_id;
}

void
te_transmission_rpc_set_allow_url_fetch (TeTransmissionRpc *self,
                                         gboolean           allow)
{
  g_return_if_fail (TE_IS_TRANSMISSION_RPC (self));
  allow = !!allow;
  if (self->allow_url_fetch == allow)
    return;
  self->allow_url_fetch = allow;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOW_URL_FETCH]);
}

gboolean
te_transmission_rpc_get_allow_url_fetch (TeTransmissionRpc *self)
{
  g_return_val_if_fail (TE_IS_TRANSMISSION_RPC (self), FALSE);
  return self->allow_url_fetch;
}

/* Status */

TeRpcStatus
_te_rpc_status (TeTorrent *torrent)
{
  switch (te_torrent_get_state (torrent))
    {
    case TE_TORRENT_STATE_PENDING:
    case TE_TORRENT_STATE_DOWNLOADING:
      return TE_RPC_STATUS_DOWNLOAD;
    case TE_TORRENT_STATE_CHECKING:
      return TE_RPC_STATUS_CHECK;
    case TE_TORRENT_STATE_QUEUED:
      return te_torrent_get_metainfo (torrent) && te_torrent_is_complete (torrent)
             ? TE_RPC_STATUS_SEED_WAIT : TE_RPC_STATUS_DOWNLOAD_WAIT;
    case TE_TORRENT_STATE_SEEDING:
      return TE_RPC_STATUS_SEED;
    case TE_TORRENT_STATE_PAUSED:
    case TE_TORRENT_STATE_ERROR:
    case TE_TORRENT_STATE_COMPLETE:
    default:
      return TE_RPC_STATUS_STOPPED;
    }
}

/* Requests */

/* Deep nesting and trailing text are refused before json-glib sees the body
 * (see te_json_scan()). */
static gboolean
check_depth (const char *body,
             gsize       length,
             GError    **error)
{
  switch (te_json_scan (body, length, MAX_DEPTH))
    {
    case TE_JSON_SCAN_TOO_DEEP:
      g_set_error (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_PARSE,
                   "The request nests deeper than %d levels", MAX_DEPTH);
      return FALSE;
    case TE_JSON_SCAN_TRAILING:
      g_set_error_literal (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_PARSE,
                           "The request is not valid JSON: text after the object");
      return FALSE;
    case TE_JSON_SCAN_OK:
    default:
      return TRUE;
    }
}

static void
call_free (TeRpcCall *call)
{
  g_clear_pointer (&call->root, json_node_unref);
  g_clear_pointer (&call->out, json_object_unref);
  g_free (call->result);
  g_clear_object (&call->rpc);
  g_free (call);
}

static TeRpcCall *
call_parse (TeTransmissionRpc *self,
            const char        *body,
            gsize              length,
            GError           **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  TeRpcCall *call;
  JsonObject *object;
  JsonNode *tag;

  if (length > TE_TRANSMISSION_RPC_MAX_REQUEST)
    {
      g_set_error (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_TOO_LARGE,
                   "The request is larger than %d bytes", TE_TRANSMISSION_RPC_MAX_REQUEST);
      return NULL;
    }
  if (!check_depth (body, length, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, body, (gssize) length, &local))
    {
      g_set_error (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_PARSE,
                   "The request is not JSON: %s", local->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_PARSE,
                   "The request is not a JSON object");
      return NULL;
    }

  call = g_new0 (TeRpcCall, 1);
  call->rpc = g_object_ref (self);
  call->root = json_parser_steal_root (parser);
  call->out = json_object_new ();
  object = json_node_get_object (call->root);
  tag = json_object_get_member (object, "tag");
  if (tag && JSON_NODE_HOLDS_VALUE (tag) && json_node_get_value_type (tag) == G_TYPE_INT64)
    {
      call->has_tag = TRUE;
      call->tag = json_node_get_int (tag);
    }
  if (json_object_has_member (object, "arguments"))
    {
      JsonNode *args = json_object_get_member (object, "arguments");

      if (JSON_NODE_HOLDS_OBJECT (args))
        call->args = json_node_get_object (args);
      else
        _te_rpc_call_fail (call, "“arguments” must be an object");
    }
  if (call->args == NULL)
    {
      /* An empty object owned by the root, so every method can read it. */
      JsonObject *empty = json_object_new ();

      json_object_set_object_member (object, "arguments", empty);
      call->args = empty;
    }
  return call;
}

static void
call_run (TeRpcCall *call)
{
  JsonObject *object = json_node_get_object (call->root);
  JsonNode *method_node = json_object_get_member (object, "method");
  const char *method;

  if (call->result != NULL)
    {
      _te_rpc_call_return (call);
      return;
    }
  if (method_node == NULL || !JSON_NODE_HOLDS_VALUE (method_node)
      || json_node_get_value_type (method_node) != G_TYPE_STRING)
    {
      _te_rpc_call_fail (call, "no method name");
      _te_rpc_call_return (call);
      return;
    }
  method = json_node_get_string (method_node);

  if (strcmp (method, "torrent-get") == 0)
    _te_rpc_torrent_get (call);
  else if (strcmp (method, "torrent-add") == 0)
    _te_rpc_torrent_add (call);
  else if (strcmp (method, "torrent-set") == 0)
    _te_rpc_torrent_set (call);
  else if (strcmp (method, "torrent-remove") == 0)
    _te_rpc_torrent_remove (call);
  else if (strcmp (method, "torrent-set-location") == 0)
    _te_rpc_torrent_set_location (call);
  else if (strcmp (method, "torrent-start") == 0 || strcmp (method, "torrent-start-now") == 0
           || strcmp (method, "torrent-stop") == 0 || strcmp (method, "torrent-verify") == 0
           || strcmp (method, "torrent-reannounce") == 0)
    _te_rpc_torrent_action (call, method);
  else if (g_str_has_prefix (method, "queue-move-"))
    _te_rpc_queue_move (call, method);
  else if (strcmp (method, "session-get") == 0)
    _te_rpc_session_get (call);
  else if (strcmp (method, "session-set") == 0)
    _te_rpc_session_set (call);
  else if (strcmp (method, "session-stats") == 0)
    _te_rpc_session_stats (call);
  else if (strcmp (method, "free-space") == 0)
    _te_rpc_free_space (call);
  else if (strcmp (method, "port-test") == 0)
    _te_rpc_port_test (call);
  else if (strcmp (method, "session-close") == 0)
    _te_rpc_session_close (call);
  else if (strcmp (method, "group-get") == 0)
    {
      /* No bandwidth groups exist here: an honest empty list. */
      json_object_set_array_member (call->out, "group", json_array_new ());
      _te_rpc_call_return (call);
    }
  else
    {
      g_autofree char *name = g_utf8_make_valid (method, MIN (strlen (method), 64));

      _te_rpc_call_fail (call, "method name not recognized: %s", name);
      _te_rpc_call_return (call);
    }
}

static char *
call_to_json (TeRpcCall *call)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "result", call->result ? call->result : "success");
  json_object_set_object_member (object, "arguments",
                                 call->result ? json_object_new () : json_object_ref (call->out));
  if (call->has_tag)
    json_object_set_int_member (object, "tag", call->tag);
  json_node_take_object (root, object);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/**
 * _te_rpc_call_return:
 *
 * Sends the answer. Every method calls it exactly once; the call is freed.
 */
void
_te_rpc_call_return (TeRpcCall *call)
{
  g_assert (!call->returned);
  call->returned = TRUE;
  call->on_return (call);
  call_free (call);
}

/* HTTP */

static void
reply_json (SoupServerMessage *msg,
            guint              status,
            char              *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=UTF-8",
                                    SOUP_MEMORY_TAKE, json, strlen (json));
}

static void
http_return (TeRpcCall *call)
{
  SoupServerMessage *msg = call->data;

  reply_json (msg, SOUP_STATUS_OK, call_to_json (call));
  if (call->paused)
    soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static gboolean
session_id_matches (TeTransmissionRpc *self,
                    const char        *sent)
{
  gsize n = strlen (self->session_id);
  guint8 diff = 0;

  if (sent == NULL || strlen (sent) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    diff |= (guint8) (sent[i] ^ self->session_id[i]);
  return diff == 0;
}

/**
 * te_transmission_rpc_handle:
 * @msg: a request to the RPC path whose host, size and credentials the
 *   server has checked
 *
 * Answers one request: 409 with the session id when the client has not sent
 * the right one (the handshake every Transmission client does), else the
 * method's JSON answer. A method that waits (a download, the disk) pauses
 * @msg and answers later.
 */
void
te_transmission_rpc_handle (TeTransmissionRpc *self,
                            SoupServerMessage *msg)
{
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  TeRpcCall *call;
  const char *sent;

  g_return_if_fail (TE_IS_TRANSMISSION_RPC (self));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  soup_message_headers_replace (response_headers, TE_TRANSMISSION_RPC_SESSION_HEADER, self->session_id);
  sent = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                       TE_TRANSMISSION_RPC_SESSION_HEADER);
  if (!session_id_matches (self, sent))
    {
      g_autofree char *text = g_strdup_printf ("<h1>409: Conflict</h1><p>Your request had an invalid "
                                               "session id. Send the header %s: %s</p>",
                                               TE_TRANSMISSION_RPC_SESSION_HEADER, self->session_id);

      soup_server_message_set_status (msg, SOUP_STATUS_CONFLICT, NULL);
      soup_server_message_set_response (msg, "text/html; charset=UTF-8", SOUP_MEMORY_COPY,
                                        text, strlen (text));
      return;
    }
  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_POST) != 0)
    {
      soup_message_headers_replace (response_headers, "Allow", "POST");
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  body = soup_server_message_get_request_body (msg);
  bytes = soup_message_body_flatten (body);
  call = call_parse (self, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  if (call == NULL)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "result");
      json_builder_add_string_value (builder, error->message);
      json_builder_set_member_name (builder, "arguments");
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      reply_json (msg, g_error_matches (error, TE_TRANSMISSION_RPC_ERROR,
                                        TE_TRANSMISSION_RPC_ERROR_TOO_LARGE)
                       ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE : SOUP_STATUS_BAD_REQUEST,
                  json_generator_to_data (generator, NULL));
      return;
    }

  /* Paused before the method runs; an answer ready at once unpauses it
   * again before libsoup looks. */
  call->on_return = http_return;
  call->data = g_object_ref (msg);
  call->paused = TRUE;
  soup_server_message_pause (msg);
  call_run (call);
}

/* Without HTTP */

typedef struct {
  char     *json;
  gboolean  done;
} DispatchAnswer;

static void
dispatch_return (TeRpcCall *call)
{
  DispatchAnswer *answer = call->data;

  answer->json = call_to_json (call);
  answer->done = TRUE;
}

/**
 * te_transmission_rpc_dispatch:
 * @body: (array length=length): a request body
 *
 * Runs one request without HTTP, for tests and fuzzing. Methods that wait
 * (a download, the disk) are waited for by iterating the thread-default main
 * context; the server uses te_transmission_rpc_handle(), which never blocks.
 *
 * Returns: (transfer full): the JSON answer, or `NULL` with @error set when
 *   @body is too large or not a JSON object
 */
char *
te_transmission_rpc_dispatch (TeTransmissionRpc *self,
                              const char        *body,
                              gsize              length,
                              GError           **error)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  DispatchAnswer answer = { NULL, FALSE };
  TeRpcCall *call;

  g_return_val_if_fail (TE_IS_TRANSMISSION_RPC (self), NULL);
  g_return_val_if_fail (body != NULL || length == 0, NULL);

  call = call_parse (self, body ? body : "", length, error);
  if (call == NULL)
    return NULL;
  call->on_return = dispatch_return;
  call->data = &answer;
  call_run (call);
  while (!answer.done)
    g_main_context_iteration (context, TRUE);
  return answer.json;
}
