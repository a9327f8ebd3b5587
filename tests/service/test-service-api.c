/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-api"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "service-fixture.h"
#include "te-api.h"
#include "te-event-hub.h"
#include "te-service-private.h"
#include "te-service-settings.h"

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
  g_autoptr(GList) members = NULL;
  GHashTableIter iter;
  const char *name;

  /* The document the server serves, without credentials. */
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, &body), ==, 200);
  json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "openapi"), ==, "3.0.3");
  paths = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "paths");
  members = json_object_get_members (paths);
  for (GList *p = members; p; p = p->next)
    {
      JsonObject *ops = json_object_get_object_member (paths, p->data);
      g_autoptr(GList) methods = json_object_get_members (ops);

      for (GList *q = methods; q; q = q->next)
        if (strcmp (q->data, "parameters") != 0)
          {
            g_autofree char *method = g_ascii_strup (q->data, -1);

            g_hash_table_add (documented, g_strdup_printf ("%s %s", method, (char *) p->data));
          }
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
    g_assert_cmpint (svc_receive_some (socket, buf + pos, 1, 10000), ==, 1);
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
      gssize n = svc_receive_some (socket, buf, sizeof buf, 10000);

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

/* PATCHes @name to the integer @value; returns the reply's object. */
static JsonObject *
patch_setting (SvcFixture *f,
               const char *name,
               const char *value,
               guint       expected_status)
{
  g_autofree char *body = g_strdup_printf ("{\"%s\":%s}", name, value);
  g_autoptr(JsonNode) reply = svc_json (f, "PATCH", "/api/v1/session/settings", body, expected_status);

  g_assert_nonnull (reply);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply));
  return json_object_ref (json_node_get_object (reply));
}

/* A value past a bound is refused with 422 and a message naming the
 * setting, the value and the range; nothing changes. */
static void
assert_refused (SvcFixture *f,
                const char *name,
                const char *value,
                guint64     min,
                guint64     max,
                gint64      current)
{
  g_autoptr(JsonObject) error = patch_setting (f, name, value, 422);
  g_autofree char *range = g_strdup_printf ("from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, min, max);
  g_autoptr(JsonNode) now = NULL;
  const char *message;

  g_assert_cmpstr (json_object_get_string_member (error, "error"), ==, "invalid_value");
  message = json_object_get_string_member (error, "message");
  g_test_message ("%s=%s: %s", name, value, message);
  g_assert_nonnull (strstr (message, name));
  g_assert_nonnull (strstr (message, value));
  g_assert_nonnull (strstr (message, range));
  now = svc_json (f, "GET", "/api/v1/session/settings", NULL, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (now), name), ==, current);
}

/* The API takes each bound of the engine's settings and refuses one past it.
 * The three listed by value are the ones whose API bounds once drifted from
 * the engine's. */
static void
test_settings_bounds (SvcFixture    *f,
                      gconstpointer  data)
{
  static const struct {
    const char *name;
    guint64     min;
    guint64     max;
    gsize       offset;
  } drifted[] = {
    { "maxActiveSeeds", 0, 100000, G_STRUCT_OFFSET (TeEngineSettings, max_active_seeds) },
    { "stateSaveIntervalMs", 100, 86400000, G_STRUCT_OFFSET (TeEngineSettings, state_save_interval_ms) },
    { "stallTimeoutSeconds", 1, 604800, G_STRUCT_OFFSET (TeEngineSettings, stall_timeout_s) },
  };
  const TeSettingInfo *infos;
  gsize n;

  for (gsize i = 0; i < G_N_ELEMENTS (drifted); i++)
    {
      const char *name = drifted[i].name;
      g_autofree char *min = g_strdup_printf ("%" G_GUINT64_FORMAT, drifted[i].min);
      g_autofree char *max = g_strdup_printf ("%" G_GUINT64_FORMAT, drifted[i].max);
      g_autofree char *below = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) drifted[i].min - 1);
      g_autofree char *above = g_strdup_printf ("%" G_GUINT64_FORMAT, drifted[i].max + 1);
      g_autoptr(JsonObject) at_min = NULL;
      g_autoptr(JsonObject) at_max = NULL;

      at_min = patch_setting (f, name, min, 200);
      g_assert_cmpint (json_object_get_int_member (at_min, name), ==, drifted[i].min);
      g_assert_cmpuint (G_STRUCT_MEMBER (guint, te_engine_get_settings (f->engine), drifted[i].offset),
                        ==, drifted[i].min);
      at_max = patch_setting (f, name, max, 200);
      g_assert_cmpint (json_object_get_int_member (at_max, name), ==, drifted[i].max);
      g_assert_cmpuint (G_STRUCT_MEMBER (guint, te_engine_get_settings (f->engine), drifted[i].offset),
                        ==, drifted[i].max);

      assert_refused (f, name, above, drifted[i].min, drifted[i].max, drifted[i].max);
      assert_refused (f, name, below, drifted[i].min, drifted[i].max, drifted[i].max);
      g_assert_cmpuint (G_STRUCT_MEMBER (guint, te_engine_get_settings (f->engine), drifted[i].offset),
                        ==, drifted[i].max);
    }

  /* Every other integer setting, with the engine's bounds. */
  infos = te_setting_info_list (&n);
  for (gsize i = 0; i < n; i++)
    {
      const TeSettingInfo *info = &infos[i];
      guint64 top = MIN (info->max, (guint64) G_MAXINT64);
      g_autofree char *min = g_strdup_printf ("%" G_GUINT64_FORMAT, info->min);
      g_autofree char *max = g_strdup_printf ("%" G_GUINT64_FORMAT, top);
      g_autoptr(JsonObject) at_min = NULL;
      g_autoptr(JsonObject) at_max = NULL;

      if (info->kind != TE_SETTING_KIND_UINT16 && info->kind != TE_SETTING_KIND_UINT
          && info->kind != TE_SETTING_KIND_UINT64)
        continue;
      at_min = patch_setting (f, info->json_name, min, 200);
      g_assert_cmpint (json_object_get_int_member (at_min, info->json_name), ==, info->min);
      at_max = patch_setting (f, info->json_name, max, 200);
      g_assert_cmpint (json_object_get_int_member (at_max, info->json_name), ==, top);
      if (info->max < G_MAXINT64)
        {
          g_autofree char *above = g_strdup_printf ("%" G_GUINT64_FORMAT, info->max + 1);

          assert_refused (f, info->json_name, above, info->min, info->max, top);
        }
    }

  /* A wrong type is still a bad request, not a bad value. */
  {
    g_autoptr(JsonObject) error = patch_setting (f, "maxActiveSeeds", "\"5\"", 400);

    g_assert_cmpstr (json_object_get_string_member (error, "error"), ==, "bad_request");
  }
  /* The ratio has no upper bound, but no negatives. */
  {
    g_autoptr(JsonObject) big = patch_setting (f, "seedRatioLimit", "5000000", 200);
    g_autoptr(JsonObject) error = patch_setting (f, "seedRatioLimit", "-0.5", 422);

    g_assert_cmpfloat (json_object_get_double_member (big, "seedRatioLimit"), ==, 5000000);
    g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "seedRatioLimit"));
    g_assert_cmpfloat (te_engine_get_settings (f->engine)->seed_ratio_limit, ==, 5000000);
  }
}

/* The served document states the engine's bounds, for reading and writing. */
static void
assert_schema_matches (JsonObject *schema,
                       gboolean    all_required)
{
  JsonObject *props = json_object_get_object_member (schema, "properties");
  const TeSettingInfo *infos;
  gsize n;

  infos = te_setting_info_list (&n);
  g_assert_cmpuint (json_object_get_size (props), ==, n);
  if (all_required)
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (schema, "required")), ==, n);
  for (gsize i = 0; i < n; i++)
    {
      const TeSettingInfo *info = &infos[i];
      JsonObject *p;
      const char *type;

      g_test_message ("%s", info->json_name);
      g_assert_true (json_object_has_member (props, info->json_name));
      p = json_object_get_object_member (props, info->json_name);
      type = json_object_get_string_member (p, "type");
      switch (info->kind)
        {
        case TE_SETTING_KIND_PATH:
          g_assert_cmpstr (type, ==, "string");
          break;
        case TE_SETTING_KIND_BOOLEAN:
          g_assert_cmpstr (type, ==, "boolean");
          break;
        case TE_SETTING_KIND_DOUBLE:
          g_assert_cmpstr (type, ==, "number");
          g_assert_cmpint (json_object_get_int_member (p, "minimum"), ==, 0);
          g_assert_false (json_object_has_member (p, "maximum"));
          break;
        case TE_SETTING_KIND_UINT16:
        case TE_SETTING_KIND_UINT:
        case TE_SETTING_KIND_UINT64:
          g_assert_cmpstr (type, ==, "integer");
          g_assert_cmpint (json_object_get_int_member (p, "minimum"), ==, info->min);
          if (info->max <= G_MAXINT64)
            g_assert_cmpint (json_object_get_int_member (p, "maximum"), ==, info->max);
          else
            g_assert_false (json_object_has_member (p, "maximum"));
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static void
test_settings_openapi (SvcFixture    *f,
                       gconstpointer  data)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *schemas;

  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, &body), ==, 200);
  json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  g_assert_no_error (error);
  schemas = json_object_get_object_member (json_object_get_object_member (
    json_node_get_object (json_parser_get_root (parser)), "components"), "schemas");
  assert_schema_matches (json_object_get_object_member (schemas, "Settings"), TRUE);
  assert_schema_matches (json_object_get_object_member (schemas, "SettingsPatch"), FALSE);
}

/* settings.json: what is saved loads back; a value an older build allowed
 * and this one does not is skipped with a warning; an unknown member or a
 * wrong type is an error naming the file. */
static void
test_settings_file (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("settings-file");
  g_autofree char *path = g_build_filename (dir, "settings.json", NULL);
  g_autoptr(GError) error = NULL;
  TeEngineSettings saved, loaded;

  te_engine_settings_init (&saved);
  saved.max_active_seeds = 100000;
  saved.state_save_interval_ms = 100;
  saved.stall_timeout_s = 604800;
  saved.max_per_ip = 9;
  saved.seed_ratio_limit = 0.75;
  g_assert_true (te_service_settings_save_file (&saved, path, &error));
  g_assert_no_error (error);
  te_engine_settings_init (&loaded);
  g_assert_true (te_service_settings_load_file (&loaded, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (loaded.max_active_seeds, ==, 100000);
  g_assert_cmpuint (loaded.state_save_interval_ms, ==, 100);
  g_assert_cmpuint (loaded.stall_timeout_s, ==, 604800);
  g_assert_cmpuint (loaded.max_per_ip, ==, 9);
  g_assert_cmpfloat (loaded.seed_ratio_limit, ==, 0.75);
  te_engine_settings_clear (&loaded);

  g_assert_true (g_file_set_contents (path, "{\"stallTimeoutSeconds\":0,\"maxActiveSeeds\":5}", -1, &error));
  g_assert_no_error (error);
  te_engine_settings_init (&loaded);
  g_test_expect_message ("te-service-settings", G_LOG_LEVEL_WARNING, "*ignoring stallTimeoutSeconds: 0*");
  g_assert_true (te_service_settings_load_file (&loaded, path, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (loaded.stall_timeout_s, ==, 600);
  g_assert_cmpuint (loaded.max_active_seeds, ==, 5);
  te_engine_settings_clear (&loaded);

  g_assert_true (g_file_set_contents (path, "{\"maxActiveSeeds\":5,\"bogus\":1}", -1, &error));
  g_assert_no_error (error);
  te_engine_settings_init (&loaded);
  g_assert_false (te_service_settings_load_file (&loaded, path, &error));
  g_assert_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_cmpuint (loaded.max_active_seeds, ==, 0);
  te_engine_settings_clear (&loaded);
  te_engine_settings_clear (&saved);
  te_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/service/api/openapi-routes", SvcFixture, NULL, svc_fixture_setup, test_openapi_routes, svc_fixture_teardown);
  g_test_add ("/te/service/api/slow-client", SvcFixture, NULL, svc_fixture_setup, test_slow_client, svc_fixture_teardown);
  g_test_add ("/te/service/api/settings", SvcFixture, NULL, svc_fixture_setup, test_settings, svc_fixture_teardown);
  g_test_add ("/te/service/api/settings-bounds", SvcFixture, NULL, svc_fixture_setup, test_settings_bounds,
              svc_fixture_teardown);
  g_test_add ("/te/service/api/settings-openapi", SvcFixture, NULL, svc_fixture_setup, test_settings_openapi,
              svc_fixture_teardown);
  g_test_add_func ("/te/service/api/settings-file", test_settings_file);
  return g_test_run ();
}
