/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service"

#include "config.h"

#include <string.h>

#include "service-fixture.h"
#include "te-auth.h"
#include "te-service-private.h"

/* The API's own connection handling: header and idle timeouts, room made
 * for new clients at the caps, keep-alive kept, HTTPS and WebSockets
 * through the service's listener. */

#define HALF_HEADER "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Never-Ends: "
#define HEALTH "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

/* A self-signed certificate for 127.0.0.1, valid until 2126. */
static const char cert_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBfzCCASWgAwIBAgIUf+RER8K3wO3+mGA+Aj6luksbZ3AwCgYIKoZIzj0EAwIw\n"
  "FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwODAxMzgxOVoYDzIxMjYxMTE0\n"
  "MDEzODE5WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO\n"
  "PQMBBwNCAARkivR976fnN26fvhzaDIyQiyUQT+gLbMRefUglqgCfgBUiODB510a+\n"
  "4g9RCmPtZg6WtjK2Eu2Z1A1SoGoWVWpLo1MwUTAdBgNVHQ4EFgQURKqJl7AkuLKZ\n"
  "+ol4nDO07od4B4wwHwYDVR0jBBgwFoAURKqJl7AkuLKZ+ol4nDO07od4B4wwDwYD\n"
  "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiB0AyFGW2uLicQjZIn00tyT\n"
  "R2R69Hec5qPKrwP7dYWXOQIhAKCZCEKVAdIrVT3lX92W0M1ilRmk9FBGOTUQBtXi\n"
  "z0W1\n"
  "-----END CERTIFICATE-----\n";
static const char key_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBywSe/xg0qRe4Q16\n"
  "g6/nslpnsubWXZfUEP/2+F5Kz7+hRANCAARkivR976fnN26fvhzaDIyQiyUQT+gL\n"
  "bMRefUglqgCfgBUiODB510a+4g9RCmPtZg6WtjK2Eu2Z1A1SoGoWVWpL\n"
  "-----END PRIVATE KEY-----\n";

static void
restart (SvcFixture               *f,
         const TeConnectionLimits *limits)
{
  g_autoptr(GError) error = NULL;

  te_service_stop (f->service);
  _te_service_set_connection_limits (f->service, limits);
  g_assert_true (te_service_start (f->service, &error));
  g_assert_no_error (error);
  g_free (f->base);
  f->base = g_strdup_printf ("http://127.0.0.1:%u", te_service_get_port (f->service));
}

/* Connected (the kernel completes it before the server accepts), then
 * non-blocking, for the main loop to keep turning. */
static GSocket *
raw_connect (SvcFixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (lo, te_service_get_port (f->service));
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static void
raw_send (GSocket    *socket,
          const char *text)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_send (socket, text, strlen (text), NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (n, ==, (gssize) strlen (text));
}

/* Reads what has come; TRUE once the server has closed the connection. */
static gboolean
raw_drain (GSocket *socket,
           GString *into)
{
  char buf[4096];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, &error);

      if (n > 0)
        {
          if (into)
            g_string_append_len (into, buf, n);
          continue;
        }
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return FALSE;
      return TRUE;
    }
}

/* Spins until the server closes @socket; returns the milliseconds it took,
 * or -1 if it stayed open @max_ms. */
static gint64
wait_closed (GSocket *socket,
             guint    max_ms)
{
  gint64 start = g_get_monotonic_time ();

  while (g_get_monotonic_time () - start < (gint64) max_ms * 1000)
    {
      if (raw_drain (socket, NULL))
        return (g_get_monotonic_time () - start) / 1000;
      te_test_spin (10);
    }
  return -1;
}

/* Spins until a whole reply to /api/health has come. */
static void
wait_health_reply (GSocket *socket)
{
  g_autoptr(GString) reply = g_string_new (NULL);
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      g_assert_false (raw_drain (socket, reply));
      if (strstr (reply->str, "\"status\":\"ok\"") != NULL)
        {
          g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 200"));
          return;
        }
      te_test_spin (10);
    }
  g_assert_not_reached ();
}

static void
test_header_timeout (SvcFixture    *f,
                     gconstpointer  data)
{
  TeConnectionLimits limits = { .header_timeout_ms = 400, .idle_timeout_ms = 30000 };
  g_autoptr(GSocket) half = NULL;
  g_autoptr(GSocket) silent = NULL;
  gint64 waited;

  restart (f, &limits);
  half = raw_connect (f);
  silent = raw_connect (f);
  raw_send (half, HALF_HEADER);
  te_test_spin (150);
  g_assert_false (raw_drain (half, NULL));
  g_assert_false (raw_drain (silent, NULL));
  g_assert_cmpuint (_te_service_get_n_connections (f->service), ==, 2);

  /* Half a header is no better than none. */
  waited = wait_closed (half, 3000);
  g_assert_cmpint (waited, >=, 0);
  g_assert_cmpint (wait_closed (silent, 1000), >=, 0);
  te_test_spin (50);
  g_assert_cmpuint (_te_service_get_n_connections (f->service), ==, 0);
  /* And the server takes new clients. */
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, NULL), ==, 200);
}

static void
test_idle_timeout (SvcFixture    *f,
                   gconstpointer  data)
{
  TeConnectionLimits limits = { .header_timeout_ms = 30000, .idle_timeout_ms = 500 };
  g_autoptr(GSocket) socket = NULL;
  gint64 waited;

  restart (f, &limits);
  socket = raw_connect (f);
  /* Two requests on one connection: keep-alive works... */
  raw_send (socket, HEALTH);
  wait_health_reply (socket);
  raw_send (socket, HEALTH);
  wait_health_reply (socket);
  /* ...until it has been idle too long. */
  waited = wait_closed (socket, 3000);
  g_assert_cmpint (waited, >=, 300);
}

static void
test_room_for_new_clients (SvcFixture    *f,
                           gconstpointer  data)
{
  TeConnectionLimits limits = { .max_total = 4 };
  g_autoptr(GPtrArray) flood = g_ptr_array_new_with_free_func (g_object_unref);
  guint closed = 0;
  gint64 start;

  restart (f, &limits);
  for (guint i = 0; i < 20; i++)
    {
      GSocket *s = raw_connect (f);

      raw_send (s, HALF_HEADER);
      g_ptr_array_add (flood, s);
    }
  /* The flood is taken in and the oldest of it closed as it comes. */
  start = g_get_monotonic_time ();
  while (closed < 16 && g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC)
    {
      te_test_spin (10);
      g_assert_cmpuint (_te_service_get_n_connections (f->service), <=, 4);
      closed = 0;
      for (guint i = 0; i < flood->len; i++)
        closed += raw_drain (g_ptr_array_index (flood, i), NULL);
    }
  g_assert_cmpuint (closed, ==, 16);
  for (guint i = 16; i < flood->len; i++)
    g_assert_false (raw_drain (g_ptr_array_index (flood, i), NULL));

  /* A real client gets in at once. */
  start = g_get_monotonic_time ();
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, NULL), ==, 200);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_cmpuint (_te_service_get_n_connections (f->service), <=, 4);
}

static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  return TRUE;
}

static guint
https_get (SoupSession *session,
           const char  *url)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  return soup_message_get_status (msg);
}

typedef struct {
  SoupSession *session;
  char        *url;
  guint        status[2];
  gboolean     done;
} HttpsGet;

/* The service runs on this thread's main loop: the client on another. */
static gpointer
https_thread (gpointer data)
{
  HttpsGet *g = data;

  g->status[0] = https_get (g->session, g->url);
  g->status[1] = https_get (g->session, g->url);
  g_atomic_int_set (&g->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_https (SvcFixture    *f,
            gconstpointer  data)
{
  g_autofree char *cert = g_build_filename (f->dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (f->dir, "key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeService) https = NULL;
  TeServiceConfig config;
  HttpsGet get = { 0 };
  GThread *thread;

  g_file_set_contents (cert, cert_pem, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (key, key_pem, -1, &error);
  g_assert_no_error (error);
  te_service_config_init (&config);
  config.port = 0;
  config.username = g_strdup (SVC_USER);
  config.password_hash = te_auth_hash_password (SVC_PASSWORD);
  config.secret_path = g_build_filename (f->dir, "secret", NULL);
  config.tls_certificate = g_strdup (cert);
  config.tls_key = g_strdup (key);
  https = te_service_new (f->engine, &config);
  te_service_config_clear (&config);
  g_assert_true (te_service_start (https, &error));
  g_assert_no_error (error);

  get.session = soup_session_new ();
  get.url = g_strdup_printf ("https://127.0.0.1:%u/api/health", te_service_get_port (https));
  thread = g_thread_new ("https-client", https_thread, &get);
  while (!g_atomic_int_get (&get.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
  g_assert_cmpuint (get.status[0], ==, 200);
  g_assert_cmpuint (get.status[1], ==, 200);
  /* Both on one connection. */
  g_assert_cmpuint (_te_service_get_n_connections (https), ==, 1);

  soup_session_abort (get.session);
  g_object_unref (get.session);
  g_free (get.url);
  te_service_stop (https);
}

typedef struct {
  SoupWebsocketConnection *conn;
  GError                  *error;
  gboolean                 done;
} Connect;

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Connect *c = user_data;

  c->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &c->error);
  c->done = TRUE;
}

static void
test_websocket_not_idle (SvcFixture    *f,
                         gconstpointer  data)
{
  TeConnectionLimits limits = { .header_timeout_ms = 300, .idle_timeout_ms = 300 };
  g_autofree char *url = NULL;
  g_autofree char *bearer = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  char *protocols[3] = { "torrentedge.events", NULL, NULL };
  Connect c = { 0 };

  restart (f, &limits);
  f->token = svc_login (f);
  url = g_strdup_printf ("%s/api/v1/events", f->base);
  msg = soup_message_new ("GET", url);
  bearer = g_strconcat ("bearer.", f->token, NULL);
  protocols[1] = bearer;
  soup_session_websocket_connect_async (f->session, msg, NULL, protocols, G_PRIORITY_DEFAULT, NULL,
                                        connected_cb, &c);
  te_test_wait_for (&c.done);
  g_assert_no_error (c.error);
  /* Quiet for longer than the idle timeout: the event hub's to judge. */
  te_test_spin (1000);
  g_assert_cmpint (soup_websocket_connection_get_state (c.conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_close (c.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  te_test_spin (100);
  g_object_unref (c.conn);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/service/connections/header-timeout", SvcFixture, NULL, svc_fixture_setup,
              test_header_timeout, svc_fixture_teardown);
  g_test_add ("/service/connections/idle-timeout", SvcFixture, NULL, svc_fixture_setup,
              test_idle_timeout, svc_fixture_teardown);
  g_test_add ("/service/connections/room-for-new-clients", SvcFixture, NULL, svc_fixture_setup,
              test_room_for_new_clients, svc_fixture_teardown);
  g_test_add ("/service/connections/https", SvcFixture, NULL, svc_fixture_setup,
              test_https, svc_fixture_teardown);
  g_test_add ("/service/connections/websocket-not-idle", SvcFixture, NULL, svc_fixture_setup,
              test_websocket_not_idle, svc_fixture_teardown);
  return g_test_run ();
}
