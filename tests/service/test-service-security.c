/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-security"

#include "config.h"

#include <string.h>

#include "service-fixture.h"
#include "te-auth.h"

static void
assert_error_body (GBytes     *body,
                   const char *code)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  if (code)
    g_assert_cmpstr (json_object_get_string_member (o, "error"), ==, code);
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "message")), >, 0);
}

static void
test_no_token (SvcFixture    *f,
               gconstpointer  data)
{
  g_autoptr(GBytes) body = NULL;

  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, NULL, &body), ==, 401);
  assert_error_body (body, "unauthorized");
  g_clear_pointer (&body, g_bytes_unref);
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/session/settings", NULL, NULL, "not-a-token", &body), ==, 401);
  g_clear_pointer (&body, g_bytes_unref);
  /* Health needs none, and tells no secrets. */
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, &body), ==, 200);
  g_assert_null (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "downloadPath"));
}

static void
test_bad_tokens (SvcFixture    *f,
                 gconstpointer  data)
{
  g_autofree char *token = svc_login (f);
  g_autofree char *tampered = g_strdup (token);
  g_autofree char *secret_path = g_build_filename (f->dir, "secret", NULL);
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expired = NULL;
  g_autofree char *foreign = NULL;
  g_autofree char *wrong_user = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gsize n = strlen (tampered);
  g_autofree char *none = NULL;
  const char *dot;

  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, token, NULL), ==, 200);

  /* One changed character of the signature. */
  tampered[n - 2] = tampered[n - 2] == 'A' ? 'B' : 'A';
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, tampered, NULL), ==, 401);

  /* Well signed with the installation's secret, but past its expiry. */
  secret = te_auth_load_secret (secret_path, &error);
  g_assert_no_error (error);
  expired = te_auth_token_new (secret, SVC_USER, now - 8 * 24 * 3600, 7 * 24 * 3600);
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, expired, NULL), ==, 401);

  /* Signed with another secret, or for another user. */
  other = te_auth_load_secret (NULL, &error);
  foreign = te_auth_token_new (other, SVC_USER, now, 3600);
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, foreign, NULL), ==, 401);
  wrong_user = te_auth_token_new (secret, "mallory", now, 3600);
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, wrong_user, NULL), ==, 401);

  /* "alg": "none" with the signature cut off. */
  dot = strrchr (token, '.');
  none = g_strconcat ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", strchr (token, '.'), NULL);
  none[strlen (none) - strlen (dot) + 1] = '\0';
  g_assert_cmpuint (svc_request (f, "GET", "/api/v1/torrents", NULL, NULL, none, NULL), ==, 401);

  /* Wrong password. */
  {
    g_autoptr(GBytes) body = g_bytes_new_static ("{\"username\":\"admin\",\"password\":\"nope\"}", 38);
    g_autoptr(GBytes) reply = NULL;

    g_assert_cmpuint (svc_request (f, "POST", "/api/v1/auth/login", "application/json", body, NULL, &reply), ==, 401);
    assert_error_body (reply, "unauthorized");
  }
}

static void
test_host (SvcFixture    *f,
           gconstpointer  data)
{
  guint port = te_service_get_port (f->service);
  g_autofree char *evil = g_strdup_printf ("GET /api/health HTTP/1.1\r\nHost: evil.example:%u\r\nConnection: close\r\n\r\n", port);
  g_autofree char *local = g_strdup_printf ("GET /api/health HTTP/1.1\r\nHost: localhost:%u\r\nConnection: close\r\n\r\n", port);
  g_autofree char *v6 = g_strdup_printf ("GET /api/health HTTP/1.1\r\nHost: [::1]:%u\r\nConnection: close\r\n\r\n", port);
  g_autofree char *r1 = svc_raw (f, evil, strlen (evil));
  g_autofree char *r2 = svc_raw (f, local, strlen (local));
  g_autofree char *r3 = svc_raw (f, v6, strlen (v6));

  g_assert_cmpuint (svc_raw_status (r1), ==, 403);
  g_assert_nonnull (strstr (r1, "\"forbidden\""));
  g_assert_cmpuint (svc_raw_status (r2), ==, 200);
  g_assert_cmpuint (svc_raw_status (r3), ==, 200);
}

static void
test_too_large (SvcFixture    *f,
                gconstpointer  data)
{
  g_autofree char *token = svc_login (f);
  g_autofree char *head = g_strdup_printf ("PATCH /api/v1/session/settings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                                           "Content-Length: 5000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", token);
  g_autofree char *reply = svc_raw (f, head, strlen (head));
  gsize big_len = 2 * 1024 * 1024;
  g_autofree char *big = g_malloc (big_len);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) out = NULL;

  g_assert_cmpuint (svc_raw_status (reply), ==, 413);
  g_assert_nonnull (strstr (reply, "payload_too_large"));

  /* Through a real client too, sending it all. */
  memset (big, ' ', big_len);
  big[0] = '{';
  big[big_len - 1] = '}';
  body = g_bytes_new_take (g_steal_pointer (&big), big_len);
  g_assert_cmpuint (svc_request (f, "PATCH", "/api/v1/session/settings", "application/json", body, token, &out), ==, 413);
  assert_error_body (out, "payload_too_large");
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, NULL), ==, 200);
}

static GPtrArray *
malformed_bodies (void)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  const char *valid = "{\"maxActiveDownloads\":4,\"uploadLimit\":1000,\"enablePex\":true,\"downloadPath\":\"/tmp\"}";
  const char *fixed[] = {
    "", " ", "null", "[]", "42", "\"s\"", "true", "{", "}", "{\"a\"", "{\"a\":}", "{,}", "{\"maxActiveDownloads\":}",
    "{\"maxActiveDownloads\":\"4\"}", "{\"maxActiveDownloads\":4.5}", "{\"maxActiveDownloads\":-1}",
    "{\"maxActiveDownloads\":1e400}", "{\"maxActiveDownloads\":99999999999999999999999999}",
    "{\"uploadLimit\":-9223372036854775808}", "{\"uploadLimit\":18446744073709551616}",
    "{\"enablePex\":\"yes\"}", "{\"enablePex\":1}", "{\"enablePex\":null}", "{\"downloadPath\":42}",
    "{\"downloadPath\":\"relative/path\"}", "{\"downloadPath\":[]}", "{\"seedRatioLimit\":\"2\"}",
    "{\"seedRatioLimit\":-0.5}", "{\"seedRatioLimit\":1e308}", "{\"listenPort\":70000}", "{\"nosuchfield\":1}",
    "{\"maxActiveDownloads\":1,\"bogus\":2,\"other\":3}", "{\"maxActiveDownloads\":1}garbage",
    "{\"a\":\"\\ud800\"}", "{\"a\":\"\\x\"}", "{'a':1}", "{a:1}", "{\"a\":1,}", "[1,2,3", "{\"a\":[1,2,]}",
    "\xff\xfe{}", "{\"downloadPath\":\"\xc3\x28\"}", "{\"maxPeersPerTorrent\":0}", "{\"stateSaveIntervalMs\":5}",
    "{\"maxActiveDownloads\":true}", "{\"altDownloadLimit\":{}}", "{\"verifyOnResume\":[true]}",
    "NaN", "{\"uploadLimit\":NaN}", "{\"uploadLimit\":Infinity}", "{\"uploadLimit\":0x10}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (a, g_strdup (fixed[i]));
  /* Deep nesting, inside and outside objects. */
  for (guint depth = 20; a->len < 60; depth *= 2)
    {
      GString *s = g_string_new ("{\"maxActiveDownloads\":");

      for (guint i = 0; i < depth; i++)
        g_string_append_c (s, '[');
      for (guint i = 0; i < depth; i++)
        g_string_append_c (s, ']');
      g_string_append_c (s, '}');
      g_ptr_array_add (a, g_string_free (s, FALSE));
      s = g_string_new (NULL);
      for (guint i = 0; i < depth * 10; i++)
        g_string_append (s, "{\"a\":");
      g_ptr_array_add (a, g_string_free (s, FALSE));
    }
  /* Every truncation of a valid body. */
  for (gsize cut = 1; a->len < 100 && cut < strlen (valid) - 1; cut += 2)
    g_ptr_array_add (a, g_strndup (valid, cut));
  g_assert_cmpuint (a->len, >=, 100);
  return a;
}

static void
test_malformed (SvcFixture    *f,
                gconstpointer  data)
{
  g_autofree char *token = svc_login (f);
  g_autoptr(GPtrArray) bodies = malformed_bodies ();
  const char *paths[][2] = {
    { "PATCH", "/api/v1/session/settings" }, { "POST", "/api/v1/torrents" },
    { "PUT", "/api/v1/session/alt-speed" },
  };

  for (guint i = 0; i < bodies->len; i++)
    {
      const char *text = g_ptr_array_index (bodies, i);
      g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
      g_autoptr(GBytes) reply = NULL;
      guint status = svc_request (f, paths[i % 3][0], paths[i % 3][1], "application/json", body, token, &reply);

      if (status < 400 || status >= 500)
        g_test_message ("body %u (%s) got %u", i, text, status);
      g_assert_cmpuint (status, >=, 400);
      g_assert_cmpuint (status, <, 500);
      assert_error_body (reply, NULL);
    }
  /* The wrong media type, and bodies naming unknown fields. */
  {
    g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
    g_autoptr(GBytes) reply = NULL;

    g_assert_cmpuint (svc_request (f, "PATCH", "/api/v1/session/settings", "text/plain", body, token, &reply), ==, 415);
    g_clear_pointer (&reply, g_bytes_unref);
    g_clear_pointer (&body, g_bytes_unref);
    body = g_bytes_new_static ("{\"maxActiveDownloads\":1,\"bogus\":2}", 34);
    g_assert_cmpuint (svc_request (f, "PATCH", "/api/v1/session/settings", "application/json", body, token, &reply), ==, 400);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), "bogus"));
    g_clear_pointer (&reply, g_bytes_unref);
    g_clear_pointer (&body, g_bytes_unref);
    body = g_bytes_new_static ("{\"maxActiveDownloads\":-1}", 25);
    g_assert_cmpuint (svc_request (f, "PATCH", "/api/v1/session/settings", "application/json", body, token, &reply), ==, 422);
  }
  /* Still serving, and nothing was applied. */
  g_assert_cmpuint (svc_request (f, "GET", "/api/health", NULL, NULL, NULL, NULL), ==, 200);
  g_assert_cmpuint (te_engine_get_settings (f->engine)->max_active_downloads, ==, 3);
}

static void
test_brute_force (SvcFixture    *f,
                  gconstpointer  data)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"username\":\"admin\",\"password\":\"guess\"}", 39);
  guint limited = 0, refused = 0;

  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *url = g_strconcat (f->base, "/api/v1/auth/login", NULL);
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) reply = NULL;
      guint status;

      status = svc_request (f, "POST", "/api/v1/auth/login", "application/json", body, NULL, &reply);
      if (status == 429)
        {
          limited++;
          assert_error_body (reply, "too_many_requests");
        }
      else
        {
          g_assert_cmpuint (status, ==, 401);
          refused++;
        }
    }
  g_assert_cmpuint (refused, ==, 5);
  g_assert_cmpuint (limited, ==, 7);
  /* The Retry-After header comes with it. */
  {
    g_autofree char *req = g_strdup_printf ("POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                            "application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    g_autofree char *reply = svc_raw (f, req, strlen (req));

    g_assert_cmpuint (svc_raw_status (reply), ==, 429);
    g_assert_nonnull (strstr (reply, "Retry-After: "));
  }
}

static void
test_headers (SvcFixture    *f,
              gconstpointer  data)
{
  g_autofree char *req = g_strdup ("GET /api/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                                   "Accept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n");
  g_autofree char *reply = svc_raw (f, req, strlen (req));
  g_autofree char *plain_req = g_strdup ("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  g_autofree char *plain = svc_raw (f, plain_req, strlen (plain_req));
  g_autofree char *unknown_req = g_strdup ("GET /api/v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  g_autofree char *unknown = svc_raw (f, unknown_req, strlen (unknown_req));

  g_assert_cmpuint (svc_raw_status (reply), ==, 200);
  g_assert_nonnull (strstr (reply, "Content-Encoding: gzip"));
  /* No CORS unless configured. */
  g_assert_null (strstr (reply, "Access-Control-Allow-Origin"));
  g_assert_null (strstr (plain, "Content-Encoding"));
  g_assert_cmpuint (svc_raw_status (unknown), ==, 404);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/service/security/no-token", SvcFixture, NULL, svc_fixture_setup, test_no_token, svc_fixture_teardown);
  g_test_add ("/te/service/security/bad-tokens", SvcFixture, NULL, svc_fixture_setup, test_bad_tokens, svc_fixture_teardown);
  g_test_add ("/te/service/security/host", SvcFixture, NULL, svc_fixture_setup, test_host, svc_fixture_teardown);
  g_test_add ("/te/service/security/too-large", SvcFixture, NULL, svc_fixture_setup, test_too_large, svc_fixture_teardown);
  g_test_add ("/te/service/security/malformed", SvcFixture, NULL, svc_fixture_setup, test_malformed, svc_fixture_teardown);
  g_test_add ("/te/service/security/brute-force", SvcFixture, NULL, svc_fixture_setup, test_brute_force, svc_fixture_teardown);
  g_test_add ("/te/service/security/headers", SvcFixture, NULL, svc_fixture_setup, test_headers, svc_fixture_teardown);
  return g_test_run ();
}
