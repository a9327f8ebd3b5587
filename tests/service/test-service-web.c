/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-web"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "service-fixture.h"
#include "te-auth.h"
#include "te-event-hub.h"
#include "te-service-private.h"

/* What a browser can do to the API: forged requests from another site's page
 * (Origin), DNS rebinding with a crafted Host, and event clients that stop
 * reading. */

#define CORS_ORIGIN "https://ui.example"

/* The fixture's service again, with one CORS origin configured. */
static void
web_setup (SvcFixture    *f,
           gconstpointer  data)
{
  const char *origins[] = { CORS_ORIGIN, NULL };
  g_autoptr(GError) error = NULL;
  TeServiceConfig config;

  svc_fixture_setup (f, data);
  te_service_stop (f->service);
  g_clear_object (&f->service);

  te_service_config_init (&config);
  config.port = 0;
  config.username = g_strdup (SVC_USER);
  config.password_hash = te_auth_hash_password (SVC_PASSWORD);
  config.secret_path = g_build_filename (f->dir, "secret", NULL);
  config.cors_origins = g_strdupv ((char **) origins);
  f->service = te_service_new (f->engine, &config);
  te_service_config_clear (&config);
  g_assert_true (te_service_start (f->service, &error));
  g_assert_no_error (error);
  g_free (f->base);
  f->base = g_strdup_printf ("http://127.0.0.1:%u", te_service_get_port (f->service));
}

static guint
request_with (SvcFixture *f,
              const char *method,
              const char *path,
              const char *host,
              const char *origin,
              const char *extra,
              const char *body,
              char      **out_reply)
{
  g_autofree char *default_host = g_strdup_printf ("127.0.0.1:%u", te_service_get_port (f->service));
  g_autoptr(GString) req = g_string_new (NULL);
  g_autofree char *reply = NULL;
  guint status;

  g_string_append_printf (req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path,
                          host ? host : default_host);
  if (origin)
    g_string_append_printf (req, "Origin: %s\r\n", origin);
  if (extra)
    g_string_append (req, extra);
  if (body)
    g_string_append_printf (req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen (body));
  g_string_append (req, "\r\n");
  if (body)
    g_string_append (req, body);
  reply = svc_raw (f, req->str, req->len);
  status = svc_raw_status (reply);
  if (out_reply)
    *out_reply = g_steal_pointer (&reply);
  return status;
}

static guint
patch_settings (SvcFixture *f,
                const char *origin,
                char      **out_reply)
{
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s\r\n", f->token);

  return request_with (f, "PATCH", "/api/v1/session/settings", NULL, origin, auth, "{}", out_reply);
}

/* State-changing requests from a page that is neither ours nor a configured
 * CORS origin are refused; requests without Origin (curl, scripts) are not. */
static void
test_origin (SvcFixture    *f,
             gconstpointer  data)
{
  guint port = te_service_get_port (f->service);
  g_autofree char *own = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_autofree char *own_name = g_strdup_printf ("http://localhost:%u", port);
  g_autofree char *own_v6 = g_strdup_printf ("http://[::1]:%u", port);
  g_autofree char *other_port = g_strdup_printf ("http://127.0.0.1:%u", port == 1 ? 2 : port - 1);
  g_autofree char *userinfo = g_strdup_printf ("http://127.0.0.1:%u@evil.example", port);
  g_autofree char *rpc_auth = NULL;
  g_autofree char *basic = NULL;
  const char *evil[] = {
    "https://evil.example", "null", "http://evil.example", "file://", "http://127.0.0.1.evil.example",
  };

  f->token = svc_login (f);

  g_assert_cmpuint (patch_settings (f, NULL, NULL), ==, 200);
  g_assert_cmpuint (patch_settings (f, own, NULL), ==, 200);
  g_assert_cmpuint (patch_settings (f, own_name, NULL), ==, 200);
  g_assert_cmpuint (patch_settings (f, own_v6, NULL), ==, 200);
  g_assert_cmpuint (patch_settings (f, CORS_ORIGIN, NULL), ==, 200);

  for (guint i = 0; i < G_N_ELEMENTS (evil); i++)
    {
      g_autofree char *reply = NULL;

      g_assert_cmpuint (patch_settings (f, evil[i], &reply), ==, 403);
      g_assert_nonnull (strstr (reply, "\"error\":\"forbidden\""));
      g_assert_nonnull (strstr (reply, "Origin"));
    }
  g_assert_cmpuint (patch_settings (f, other_port, NULL), ==, 403);
  g_assert_cmpuint (patch_settings (f, userinfo, NULL), ==, 403);

  /* Every state-changing method, and Transmission RPC, whatever the credentials. */
  g_assert_cmpuint (request_with (f, "POST", "/api/v1/auth/login", NULL, "https://evil.example", NULL,
                                  "{\"username\":\"x\",\"password\":\"y\"}", NULL), ==, 403);
  g_assert_cmpuint (request_with (f, "DELETE", "/api/v1/torrents/0123456789abcdef0123456789abcdef01234567",
                                  NULL, "https://evil.example", NULL, NULL, NULL), ==, 403);
  basic = g_base64_encode ((const guchar *) SVC_USER ":" SVC_PASSWORD, strlen (SVC_USER ":" SVC_PASSWORD));
  rpc_auth = g_strdup_printf ("Authorization: Basic %s\r\n", basic);
  g_assert_cmpuint (request_with (f, "POST", "/transmission/rpc", NULL, "https://evil.example", rpc_auth,
                                  "{\"method\":\"session-get\"}", NULL), ==, 403);
  g_assert_cmpuint (request_with (f, "POST", "/transmission/rpc", NULL, NULL, rpc_auth,
                                  "{\"method\":\"session-get\"}", NULL), !=, 403);

  /* Reads are CORS's business: answered, without an Allow-Origin. */
  g_assert_cmpuint (request_with (f, "GET", "/api/health", NULL, "https://evil.example", NULL, NULL, NULL), ==, 200);
}

/* A WebSocket upgrade: returns the status line's code; the connection stays
 * open in *out_socket when it is 101. */
static guint
upgrade (SvcFixture  *f,
         const char  *origin,
         GSocket    **out_socket)
{
  g_autofree char *request = g_strdup_printf ("GET /api/v1/events?access_token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                              "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n", f->token,
                                              origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "");
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, te_service_get_port (f->service));
  g_autoptr(GError) error = NULL;
  char head[4096];
  gsize pos;

  /* A small receive buffer: a client that does not read is soon behind. */
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  g_assert_true (g_socket_connect (socket, addr, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  g_assert_cmpint (g_socket_send (socket, request, strlen (request), NULL, &error), ==, (gssize) strlen (request));
  /* The response head, a byte at a time so no frame byte is taken with it. */
  for (pos = 0; pos < sizeof head - 1 && !(pos >= 4 && memcmp (head + pos - 4, "\r\n\r\n", 4) == 0); pos++)
    g_assert_cmpint (svc_receive_some (socket, head + pos, 1, 10000), ==, 1);
  head[pos] = '\0';
  if (out_socket)
    *out_socket = g_steal_pointer (&socket);
  return svc_raw_status (head);
}

static void
test_origin_websocket (SvcFixture    *f,
                       gconstpointer  data)
{
  TeEventHub *hub = _te_service_get_events (f->service);
  g_autofree char *own = g_strdup_printf ("http://127.0.0.1:%u", te_service_get_port (f->service));
  g_autoptr(GSocket) plain = NULL;
  g_autoptr(GSocket) ours = NULL;
  g_autoptr(GSocket) configured = NULL;

  f->token = svc_login (f);
  g_assert_cmpuint (upgrade (f, "https://evil.example", NULL), ==, 403);
  g_assert_cmpuint (upgrade (f, "null", NULL), ==, 403);
  g_assert_cmpuint (te_event_hub_get_n_clients (hub), ==, 0);

  g_assert_cmpuint (upgrade (f, NULL, &plain), ==, 101);
  g_assert_cmpuint (upgrade (f, own, &ours), ==, 101);
  g_assert_cmpuint (upgrade (f, CORS_ORIGIN, &configured), ==, 101);
  g_assert_cmpuint (te_event_hub_get_n_clients (hub), ==, 3);
}

/* Host is parsed strictly: what a lenient parser would read as 127.0.0.1 is
 * refused. */
static void
test_host (SvcFixture    *f,
           gconstpointer  data)
{
  guint port = te_service_get_port (f->service);
  g_autofree char *userinfo = g_strdup_printf ("127.0.0.1:%u@attacker.example", port);
  g_autofree char *userinfo_v6 = g_strdup_printf ("[::1]:%u@attacker.example", port);
  g_autofree char *user_first = g_strdup_printf ("attacker.example@127.0.0.1:%u", port);
  g_autofree char *after_bracket = g_strdup_printf ("[::1]x:%u", port);
  g_autofree char *two_ports = g_strdup_printf ("127.0.0.1:%u:%u", port, port);
  g_autofree char *ok_v4 = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *ok_v6 = g_strdup_printf ("[::1]:%u", port);
  g_autofree char *ok_name = g_strdup_printf ("LocalHost:%u", port);
  const char *refused[] = {
    userinfo, userinfo_v6, user_first, after_bracket, two_ports,
    "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:80a", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:+80",
    "[::1]x", "[127.0.0.1]", "[::1", "[::1%eth0]", "[::1%]", "127.0.0.1%00", "127.0.0.1 x", ":8080", "[]:80",
  };
  const char *accepted[] = { ok_v4, ok_v6, ok_name, "127.0.0.1", "[::1]", "localhost" };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *reply = NULL;
      guint status = request_with (f, "GET", "/api/health", refused[i], NULL, NULL, NULL, &reply);

      if (status != 403 && status != 400)
        g_error ("Host “%s” was answered with %u", refused[i], status);
      g_assert_null (strstr (reply, "\"status\":\"ok\""));
    }
  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      guint status = request_with (f, "GET", "/api/health", accepted[i], NULL, NULL, NULL, NULL);

      if (status != 200)
        g_error ("Host “%s” was answered with %u", accepted[i], status);
    }
  /* The one from the report, exactly: 403 from the Host check. */
  g_assert_cmpuint (request_with (f, "GET", "/api/health", userinfo, NULL, NULL, NULL, NULL), ==, 403);
}

/* A client that never reads (and so never answers a ping) is closed once the
 * stall timeout has passed, even though few events come; one that reads
 * stays. */
static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SoupWebsocketConnection **conn = user_data;
  g_autoptr(GError) error = NULL;

  *conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
}

static void
test_silent_client (SvcFixture    *f,
                    gconstpointer  data)
{
  TeEventHub *hub = _te_service_get_events (f->service);
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(SoupWebsocketConnection) reader = NULL;
  g_autoptr(GSocket) silent = NULL;
  gint64 start, deadline;
  gboolean eof = FALSE;
  char buf[65536];

  te_event_hub_set_stall_timeout (hub, 1000);
  f->token = svc_login (f);
  url = g_strdup_printf ("%s/api/v1/events?access_token=%s", f->base, f->token);
  msg = soup_message_new ("GET", url);
  soup_session_websocket_connect_async (f->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, connected_cb, &reader);
  while (reader == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (upgrade (f, NULL, &silent), ==, 101);
  g_assert_cmpuint (te_event_hub_get_n_clients (hub), ==, 2);

  /* A few events, and then nothing. */
  start = g_get_monotonic_time ();
  deadline = start + 15 * G_USEC_PER_SEC;
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (patch_settings (f, NULL, NULL), ==, 200);
  while (te_event_hub_get_n_clients (hub) > 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  /* Not before the bound. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1000 * 1000);

  /* Closed for real: what was queued, then the end of the stream. */
  while (!eof)
    {
      gssize n = svc_receive_some (silent, buf, sizeof buf, 100);

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      eof = n == 0;
      if (n < 0)
        {
          g_autoptr(GError) error = NULL;

          /* A reset is an end too; a timeout is not. */
          if (g_socket_condition_check (silent, G_IO_IN | G_IO_HUP | G_IO_ERR) & (G_IO_HUP | G_IO_ERR))
            eof = g_socket_receive (silent, buf, sizeof buf, NULL, &error) <= 0
                  && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
        }
    }

  /* The client that reads answered every ping and is still there. */
  g_assert_cmpint (soup_websocket_connection_get_state (reader), ==, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpuint (te_event_hub_get_n_clients (hub), ==, 1);
  soup_websocket_connection_close (reader, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  while (soup_websocket_connection_get_state (reader) != SOUP_WEBSOCKET_STATE_CLOSED)
    g_main_context_iteration (NULL, TRUE);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/service/web/origin", SvcFixture, NULL, web_setup, test_origin, svc_fixture_teardown);
  g_test_add ("/te/service/web/origin-websocket", SvcFixture, NULL, web_setup, test_origin_websocket,
              svc_fixture_teardown);
  g_test_add ("/te/service/web/host", SvcFixture, NULL, web_setup, test_host, svc_fixture_teardown);
  g_test_add ("/te/service/web/silent-client", SvcFixture, NULL, web_setup, test_silent_client,
              svc_fixture_teardown);

  return g_test_run ();
}
