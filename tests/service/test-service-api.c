/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-api"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "service-fixture.h"
#include "te-event-hub.h"
#include "te-service-private.h"

/* The routing table and data/openapi.json name the same routes. */
static void
test_openapi_routes (SvcFixture    *f,
                     gconstpointer  data)
{
  g_auto(GStrv) routes = _te_service_dup_route_names ();
  g_autoptr(GHashTable) served = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) documented = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *paths;
  GHashTableIter iter;
  const char *name;

  /* The document the server serves, without credentials. */
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, &body), ==, 200);
  json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "openapi"), ==, "3.0.3");
  paths = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "paths");
  for (GList *l = json_object_get_members (paths), *p = l; p; p = p->next)
    {
      JsonObject *ops = json_object_get_object_member (paths, p->data);

      for (GList *m = json_object_get_members (ops), *q = m; q; q = q->next)
        {
          if (strcmp (q->data, "parameters") != 0)
            g_hash_table_add (documented, g_strdup_printf ("%s %s", g_ascii_strup (q->data, -1), (char *) p->data));
          if (q->next == NULL)
            g_list_free (m);
        }
      if (p->next == NULL)
        g_list_free (l);
    }
  for (guint i = 0; routes[i]; i++)
    {
      g_hash_table_add (served, routes[i]);
      if (!g_hash_table_contains (documented, routes[i]))
        g_error ("Route “%s” is not in data/openapi.json", routes[i]);
    }
  g_hash_table_iter_init (&iter, documented);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    if (!g_hash_table_contains (served, name))
      g_error ("data/openapi.json documents “%s”, which the server does not have", name);
  g_assert_cmpuint (g_hash_table_size (served), ==, g_hash_table_size (documented));
  g_assert_cmpuint (g_hash_table_size (served), >=, 25);
}

static gssize
receive_some (GSocket *socket,
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

/* A client that stops reading is cut off with a close code; the server keeps
 * only a bounded backlog for it meanwhile. */
static void
test_slow_client (SvcFixture    *f,
                  gconstpointer  data)
{
  g_autofree char *token = svc_login (f);
  g_autofree char *request = g_strdup_printf ("GET /api/v1/events?access_token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                              "Sec-WebSocket-Version: 13\r\n\r\n", token);
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, te_service_get_port (f->service));
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  g_autofree char *dir = g_build_filename (f->dir, "payload", NULL);
  g_autofree char *file = g_build_filename (dir, "x.bin", NULL);
  g_autoptr(TeMetainfo) meta = NULL;
  TeTorrent *t;
  char buf[65536];
  gsize pos;
  gboolean closed = FALSE;
  guint16 code = 0;

  te_test_write_random (file, 65536, 3);
  meta = te_test_make_torrent (dir, TE_TORRENT_V1, 16384);
  t = te_engine_add_torrent (f->engine, meta, f->dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);

  _te_service_set_event_limits (f->service, 64);
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  g_assert_true (g_socket_connect (socket, addr, NULL, &error));
  g_socket_set_blocking (socket, FALSE);
  g_assert_cmpint (g_socket_send (socket, request, strlen (request), NULL, &error), ==, (gssize) strlen (request));
  /* The response head, a byte at a time so no frame byte is taken with it. */
  for (pos = 0; pos < sizeof buf - 1 && !(pos >= 4 && memcmp (buf + pos - 4, "\r\n\r\n", 4) == 0); pos++)
    g_assert_cmpint (receive_some (socket, buf + pos, 1, 10000), ==, 1);
  buf[pos] = '\0';
  g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 101"));
  g_assert_cmpuint (te_event_hub_get_n_clients (_te_service_get_events (f->service)), ==, 1);

  /* Thousands of state events while the client reads nothing. */
  for (guint i = 0; i < 5000 && te_event_hub_get_n_clients (_te_service_get_events (f->service)) > 0; i++)
    {
      te_torrent_pause (t);
      te_torrent_start (t);
      if (i % 100 == 0)
        g_main_context_iteration (NULL, FALSE);
    }
  te_test_spin (100);
  g_assert_cmpuint (te_event_hub_get_n_clients (_te_service_get_events (f->service)), ==, 0);

  /* Reading now: what was sent, then a close frame saying why. */
  for (;;)
    {
      gssize n = receive_some (socket, buf, sizeof buf, 10000);

      if (n <= 0)
        break;
      g_byte_array_append (stream, (guint8 *) buf, n);
      for (pos = 0; pos + 2 <= stream->len;)
        {
          guint8 op = stream->data[pos] & 0x0f;
          guint64 len = stream->data[pos + 1] & 0x7f;
          gsize head = 2;

          if (len == 126)
            {
              if (pos + 4 > stream->len)
                break;
              len = (stream->data[pos + 2] << 8) | stream->data[pos + 3];
              head = 4;
            }
          else if (len == 127)
            {
              if (pos + 10 > stream->len)
                break;
              len = 0;
              for (guint i = 0; i < 8; i++)
                len = (len << 8) | stream->data[pos + 2 + i];
              head = 10;
            }
          if (pos + head + len > stream->len)
            break;
          if (op == 0x8 && len >= 2)
            {
              closed = TRUE;
              code = (stream->data[pos + head] << 8) | stream->data[pos + head + 1];
            }
          pos += head + len;
        }
      if (closed)
        break;
    }
  g_assert_true (closed);
  g_assert_cmpuint (code, ==, TE_EVENT_HUB_CLOSE_TOO_SLOW);
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, NULL), ==, 200);
}

/* Settings through the API reach the engine and the settings-changed signal. */
static void
changed_cb (TeService *service,
            guint     *count)
{
  (*count)++;
}

static void
test_settings (SvcFixture    *f,
               gconstpointer  data)
{
  g_autoptr(JsonNode) before = svc_json (f, "GET", "/api/v1/session/settings", NULL, 200);
  g_autoptr(JsonNode) after = NULL;
  g_autoptr(JsonNode) alt = NULL;
  g_autoptr(JsonNode) stats = NULL;
  guint changed = 0;

  g_assert_cmpint (json_object_get_int_member (json_node_get_object (before), "maxActiveDownloads"), ==, 3);
  g_signal_connect (f->service, "settings-changed", G_CALLBACK (changed_cb), &changed);
  after = svc_json (f, "PATCH", "/api/v1/session/settings", "{\"maxActiveDownloads\":7,\"uploadLimit\":123456}", 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (after), "maxActiveDownloads"), ==, 7);
  g_assert_cmpuint (te_engine_get_settings (f->engine)->max_active_downloads, ==, 7);
  g_assert_cmpuint (te_engine_get_settings (f->engine)->upload_limit, ==, 123456);
  g_assert_cmpuint (changed, ==, 1);

  alt = svc_json (f, "PUT", "/api/v1/session/alt-speed", "{\"enabled\":true}", 200);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (alt), "enabled"));
  g_assert_true (te_engine_get_alt_speed (f->engine));
  g_assert_cmpuint (changed, ==, 2);
  stats = svc_json (f, "GET", "/api/v1/session/stats", NULL, 200);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (stats), "altSpeedEnabled"));
  g_signal_handlers_disconnect_by_data (f->service, &changed);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/service/api/openapi-routes", SvcFixture, NULL, svc_fixture_setup, test_openapi_routes, svc_fixture_teardown);
  g_test_add ("/te/service/api/slow-client", SvcFixture, NULL, svc_fixture_setup, test_slow_client, svc_fixture_teardown);
  g_test_add ("/te/service/api/settings", SvcFixture, NULL, svc_fixture_setup, test_settings, svc_fixture_teardown);
  return g_test_run ();
}
