/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service"

#include "config.h"

#include <string.h>

#include "service-fixture.h"
#include "te-auth.h"

void
svc_fixture_setup (SvcFixture    *f,
                   gconstpointer  data)
{
  TeEngineSettings settings;
  TeServiceConfig config;
  g_autoptr(GError) error = NULL;
  g_autofree char *downloads = NULL;

  f->dir = te_test_make_tmpdir ("service");
  downloads = g_build_filename (f->dir, "downloads", NULL);
  g_mkdir_with_parents (downloads, 0700);
  te_engine_settings_init (&settings);
  settings.listen_port = 0;
  settings.seed_ratio_limit = 0;
  g_free (settings.download_path);
  settings.download_path = g_strdup (downloads);
  /* Paths from the remote API must lie in the allowed roots: here, the
   * test's whole folder. */
  settings.allowed_paths = g_strsplit (f->dir, "\n", -1);
  f->engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  g_assert_true (te_engine_start (f->engine, &error));
  g_assert_no_error (error);

  te_service_config_init (&config);
  config.port = 0;
  config.username = g_strdup (SVC_USER);
  config.password_hash = te_auth_hash_password (SVC_PASSWORD);
  config.secret_path = g_build_filename (f->dir, "secret", NULL);
  f->service = te_service_new (f->engine, &config);
  te_service_config_clear (&config);
  g_assert_true (te_service_start (f->service, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (te_service_get_port (f->service), >, 0);
  f->base = g_strdup_printf ("http://127.0.0.1:%u", te_service_get_port (f->service));
  f->session = soup_session_new_with_options ("timeout", 60, NULL);
}

void
svc_fixture_teardown (SvcFixture    *f,
                      gconstpointer  data)
{
  soup_session_abort (f->session);
  g_clear_object (&f->session);
  te_service_stop (f->service);
  g_clear_object (&f->service);
  te_engine_stop (f->engine);
  te_test_spin (50);
  g_clear_object (&f->engine);
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->token);
  g_free (f->base);
}

typedef struct {
  gboolean done;
  GBytes  *body;
  GError  *error;
} Wait;

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *w = user_data;

  w->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &w->error);
  w->done = TRUE;
}

guint
svc_request (SvcFixture  *f,
             const char  *method,
             const char  *path,
             const char  *content_type,
             GBytes      *body,
             const char  *token,
             GBytes     **out_body)
{
  g_autofree char *url = g_strconcat (f->base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  Wait w = { 0 };

  g_assert_nonnull (msg);
  if (body)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  if (token)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, sent_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  if (out_body)
    *out_body = w.body;
  else
    g_bytes_unref (w.body);
  return soup_message_get_status (msg);
}

/* A request whose reply must be @expected_status with a JSON body (or none for 204). */
JsonNode *
svc_json (SvcFixture *f,
          const char *method,
          const char *path,
          const char *json_body,
          guint       expected_status)
{
  g_autoptr(GBytes) body = json_body ? g_bytes_new (json_body, strlen (json_body)) : NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  guint status;

  if (f->token == NULL)
    f->token = svc_login (f);
  status = svc_request (f, method, path, "application/json", body, f->token, &reply);
  if (status != expected_status)
    g_test_message ("%s %s: %u %.*s", method, path, status, (int) g_bytes_get_size (reply),
                    (const char *) g_bytes_get_data (reply, NULL));
  g_assert_cmpuint (status, ==, expected_status);
  if (g_bytes_get_size (reply) == 0)
    return NULL;
  json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (parser));
}

char *
svc_login (SvcFixture *f)
{
  g_autofree char *json = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}", SVC_USER, SVC_PASSWORD);
  g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  g_assert_cmpuint (svc_request (f, "POST", "/api/v1/auth/login", "application/json", body, NULL, &reply), ==, 200);
  json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), &error);
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "tokenType"), ==, "Bearer");
  g_assert_cmpint (json_object_get_int_member (o, "expiresIn"), ==, 7 * 24 * 3600);
  return g_strdup (json_object_get_string_member (o, "token"));
}

typedef struct {
  guint16   port;
  GBytes   *request;
  GString  *response;
  gboolean  done;
} Raw;

static gpointer
raw_thread (gpointer data)
{
  Raw *r = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  GOutputStream *out;
  GInputStream *in;
  char buf[4096];
  gssize n;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", r->port, NULL, &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  /* The server may answer (413) and close before it has read everything. */
  g_output_stream_write_all (out, g_bytes_get_data (r->request, NULL), g_bytes_get_size (r->request), NULL, NULL, NULL);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 10);
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (r->response, buf, n);
  g_atomic_int_set (&r->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

char *
svc_raw (SvcFixture *f,
         const char *request,
         gsize       len)
{
  Raw r = { te_service_get_port (f->service), g_bytes_new (request, len), g_string_new (NULL), FALSE };
  GThread *thread = g_thread_new ("raw-client", raw_thread, &r);

  while (!g_atomic_int_get (&r.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
  g_bytes_unref (r.request);
  return g_string_free (r.response, FALSE);
}

guint
svc_raw_status (const char *response)
{
  if (!g_str_has_prefix (response, "HTTP/1.1 ") && !g_str_has_prefix (response, "HTTP/1.0 "))
    return 0;
  return (guint) g_ascii_strtoull (response + 9, NULL, 10);
}

GBytes *
svc_multipart (GBytes      *torrent,
               const char  *save_path,
               char       **content_type)
{
  g_autoptr(SoupMultipart) multipart = soup_multipart_new ("multipart/form-data");
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  GBytes *body = NULL;

  soup_multipart_append_form_file (multipart, "torrent", "upload.torrent", "application/x-bittorrent", torrent);
  if (save_path)
    soup_multipart_append_form_string (multipart, "savePath", save_path);
  soup_multipart_to_message (multipart, headers, &body);
  *content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  return body;
}

gssize
svc_receive_some (GSocket *socket,
                  char    *buf,
                  gsize    len,
                  guint    timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, buf, len, NULL, &error);

      if (n >= 0)
        return n;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) || g_get_monotonic_time () > deadline)
        return -1;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}
