/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-paths"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "service-fixture.h"
#include "te-transmission-rpc.h"

/* Paths from the remote API: every folder a client names must lie in the
 * allowed roots (by default the download folder), symbolic links and “..”
 * resolved, and never in a hidden folder of the home folder. HOME is a
 * temporary folder holding an empty .ssh. */

#define PIECE (16 * 1024)

typedef struct {
  SvcFixture          svc;
  TeTransmissionRpc  *rpc;
  char               *downloads;
  char               *ssh;
  TeMetainfo         *meta;
  char               *meta_b64;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  GBytes *torrent;

  svc_fixture_setup (&f->svc, data);
  f->downloads = g_strdup (te_engine_get_settings (f->svc.engine)->download_path);
  /* The fixture allows its whole folder; these tests start from the
   * default, the download folder alone. */
  {
    TeEngineSettings settings;

    te_engine_settings_copy (&settings, te_engine_get_settings (f->svc.engine));
    g_clear_pointer (&settings.allowed_paths, g_strfreev);
    te_engine_set_settings (f->svc.engine, &settings);
    te_engine_settings_clear (&settings);
  }
  f->ssh = g_build_filename (g_get_home_dir (), ".ssh", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->ssh, 0700), ==, 0);
  f->meta = te_test_make_payload (f->svc.dir, "payload", 2 * PIECE + 3, 7);
  torrent = te_metainfo_get_torrent_bytes (f->meta);
  f->meta_b64 = g_base64_encode (g_bytes_get_data (torrent, NULL), g_bytes_get_size (torrent));
  f->rpc = te_transmission_rpc_new (f->svc.engine);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_finalize_object (g_steal_pointer (&f->rpc));
  svc_fixture_teardown (&f->svc, data);
  te_test_rm_rf (f->ssh);
  g_clear_object (&f->meta);
  g_free (f->meta_b64);
  g_free (f->downloads);
  g_free (f->ssh);
}

static void
set_allowed_paths (Fixture    *f,
                   const char *root)
{
  TeEngineSettings settings;

  te_engine_settings_copy (&settings, te_engine_get_settings (f->svc.engine));
  g_strfreev (settings.allowed_paths);
  settings.allowed_paths = g_strsplit (root, "\n", -1);
  te_engine_set_settings (f->svc.engine, &settings);
  te_engine_settings_clear (&settings);
}

/* Nothing was written into ~/.ssh. */
static void
assert_ssh_untouched (Fixture *f)
{
  g_autoptr(GDir) dir = g_dir_open (f->ssh, 0, NULL);

  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
}

static guint
n_torrents (Fixture *f)
{
  return te_engine_get_torrents (f->svc.engine)->len;
}

static char *
add_body (Fixture    *f,
          const char *save_path)
{
  return g_strdup_printf ("{\"metainfo\":\"%s\",\"savePath\":\"%s\",\"paused\":true}", f->meta_b64, save_path);
}

/* A 403 whose message names the path and says why. */
static void
assert_refused (JsonNode   *reply,
                const char *why)
{
  JsonObject *o = json_node_get_object (reply);
  const char *message = json_object_get_string_member (o, "message");

  g_test_message ("refused: %s", message);
  g_assert_cmpstr (json_object_get_string_member (o, "error"), ==, "forbidden");
  g_assert_nonnull (strstr (message, "refused"));
  g_assert_nonnull (strstr (message, why));
}

static void
test_rest_add (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *tilde = add_body (f, "~/.ssh");
  g_autofree char *absolute = add_body (f, f->ssh);
  g_autofree char *escaping_path = g_build_filename (f->downloads, "..", "..", "elsewhere", NULL);
  g_autofree char *escaping = add_body (f, escaping_path);
  g_autofree char *inside_path = g_build_filename (f->downloads, "films", NULL);
  g_autofree char *inside = add_body (f, inside_path);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;
  g_autoptr(GBytes) form = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autofree char *content_type = NULL;

  /* “~/.ssh” is not absolute here: the API takes absolute paths only. */
  a = svc_json (&f->svc, "POST", "/api/v1/torrents", tilde, 422);
  b = svc_json (&f->svc, "POST", "/api/v1/torrents", absolute, 403);
  assert_refused (b, ".ssh");
  c = svc_json (&f->svc, "POST", "/api/v1/torrents", escaping, 403);
  assert_refused (c, "outside");
  /* A sibling whose name starts like the root is outside it. */
  {
    g_autofree char *sibling_path = g_strconcat (f->downloads, "-evil", NULL);
    g_autofree char *sibling = add_body (f, sibling_path);

    e = svc_json (&f->svc, "POST", "/api/v1/torrents", sibling, 403);
    assert_refused (e, "outside");
  }

  form = svc_multipart (te_metainfo_get_torrent_bytes (f->meta), f->ssh, &content_type);
  g_assert_cmpuint (svc_request (&f->svc, "POST", "/api/v1/torrents", content_type, form, f->svc.token, &reply),
                    ==, 403);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), ".ssh"));
  g_assert_cmpuint (n_torrents (f), ==, 0);
  assert_ssh_untouched (f);

  /* Inside the download folder is fine, even a folder not made yet. */
  d = svc_json (&f->svc, "POST", "/api/v1/torrents", inside, 201);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (d), "savePath"), ==, inside_path);
  g_assert_cmpuint (n_torrents (f), ==, 1);
}

static void
test_rest_symlink (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *link = g_build_filename (f->downloads, "innocent", NULL);
  g_autofree char *below = g_build_filename (link, "keys", NULL);
  g_autofree char *through = add_body (f, link);
  g_autofree char *deeper = add_body (f, below);
  g_autoptr(JsonNode) a = NULL, b = NULL;

  g_assert_cmpint (symlink (f->ssh, link), ==, 0);
  a = svc_json (&f->svc, "POST", "/api/v1/torrents", through, 403);
  assert_refused (a, ".ssh");
  b = svc_json (&f->svc, "POST", "/api/v1/torrents", deeper, 403);
  assert_refused (b, ".ssh");
  g_assert_cmpuint (n_torrents (f), ==, 0);
  assert_ssh_untouched (f);
}

static void
test_rest_settings (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *to_ssh = g_strdup_printf ("{\"downloadPath\":\"%s\"}", f->ssh);
  g_autofree char *sub = g_build_filename (f->downloads, "sub", NULL);
  g_autofree char *to_sub = g_strdup_printf ("{\"downloadPath\":\"%s\"}", sub);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;

  a = svc_json (&f->svc, "PATCH", "/api/v1/session/settings", to_ssh, 403);
  assert_refused (a, ".ssh");
  b = svc_json (&f->svc, "PATCH", "/api/v1/session/settings", "{\"downloadPath\":\"~/.ssh\"}", 403);
  assert_refused (b, ".ssh");
  c = svc_json (&f->svc, "PATCH", "/api/v1/session/settings", "{\"downloadPath\":\"/etc\"}", 403);
  assert_refused (c, "outside");
  g_assert_cmpstr (te_engine_get_settings (f->svc.engine)->download_path, ==, f->downloads);

  /* The roots cannot be widened from outside. */
  d = svc_json (&f->svc, "PATCH", "/api/v1/session/settings", "{\"allowedPaths\":[\"/\"]}", 403);
  g_assert_nonnull (strstr (json_object_get_string_member (json_node_get_object (d), "message"), "allowedPaths"));
  g_assert_null (te_engine_get_settings (f->svc.engine)->allowed_paths);

  e = svc_json (&f->svc, "PATCH", "/api/v1/session/settings", to_sub, 200);
  g_assert_cmpstr (te_engine_get_settings (f->svc.engine)->download_path, ==, sub);
}

static void
test_rest_move (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *inside_path = g_build_filename (f->downloads, "films", NULL);
  g_autofree char *inside = add_body (f, inside_path);
  g_autofree char *to_ssh = g_strdup_printf ("{\"savePath\":\"%s\"}", f->ssh);
  g_autoptr(JsonNode) added = NULL, moved = NULL;
  g_autofree char *route = NULL;

  added = svc_json (&f->svc, "POST", "/api/v1/torrents", inside, 201);
  route = g_strdup_printf ("/api/v1/torrents/%s/move",
                           json_object_get_string_member (json_node_get_object (added), "id"));
  moved = svc_json (&f->svc, "POST", route, to_ssh, 403);
  assert_refused (moved, ".ssh");
  g_assert_cmpstr (te_torrent_get_save_path (g_ptr_array_index (te_engine_get_torrents (f->svc.engine), 0)),
                   ==, inside_path);
  assert_ssh_untouched (f);
}

/* A root that holds the home folder still does not open its hidden folders. */
static void
test_hidden_in_root (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *films = g_build_filename (g_get_home_dir (), "Films", NULL);
  g_autofree char *config = g_build_filename (g_get_home_dir (), ".config", "autostart", NULL);
  g_autofree char *to_ssh = add_body (f, f->ssh);
  g_autofree char *to_config = add_body (f, config);
  g_autofree char *to_films = add_body (f, films);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL;

  set_allowed_paths (f, g_get_home_dir ());
  a = svc_json (&f->svc, "POST", "/api/v1/torrents", to_ssh, 403);
  assert_refused (a, "hidden folder ~/.ssh");
  b = svc_json (&f->svc, "POST", "/api/v1/torrents", to_config, 403);
  assert_refused (b, "hidden folder ~/.config");
  c = svc_json (&f->svc, "POST", "/api/v1/torrents", to_films, 201);
  g_assert_cmpuint (n_torrents (f), ==, 1);
  assert_ssh_untouched (f);
}

/* Transmission RPC */

static JsonNode *
rpc (Fixture    *f,
     const char *request)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = te_transmission_rpc_dispatch (f->rpc, request, strlen (request), &error);
  JsonNode *node;

  g_assert_no_error (error);
  node = json_from_string (answer, &error);
  g_assert_no_error (error);
  return node;
}

static const char *
result_of (JsonNode *answer)
{
  return json_object_get_string_member (json_node_get_object (answer), "result");
}

static void
assert_rpc_refused (JsonNode   *answer,
                    const char *why)
{
  const char *result = result_of (answer);

  g_test_message ("result: %s", result);
  g_assert_cmpstr (result, !=, "success");
  g_assert_nonnull (strstr (result, "refused"));
  g_assert_nonnull (strstr (result, why));
}

static void
test_rpc_session_set (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *download = g_strdup_printf ("{\"method\":\"session-set\",\"arguments\":"
                                               "{\"download-dir\":\"%s\"}}", f->ssh);
  g_autofree char *incomplete = g_strdup_printf ("{\"method\":\"session-set\",\"arguments\":"
                                                 "{\"incomplete-dir\":\"%s\"}}", f->ssh);
  g_autofree char *sub = g_build_filename (f->downloads, "tv", NULL);
  g_autofree char *fine = g_strdup_printf ("{\"method\":\"session-set\",\"arguments\":"
                                           "{\"download-dir\":\"%s\"}}", sub);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL;

  a = rpc (f, download);
  assert_rpc_refused (a, ".ssh");
  b = rpc (f, incomplete);
  assert_rpc_refused (b, ".ssh");
  g_assert_cmpstr (te_engine_get_settings (f->svc.engine)->download_path, ==, f->downloads);
  c = rpc (f, fine);
  g_assert_cmpstr (result_of (c), ==, "success");
  g_assert_cmpstr (te_engine_get_settings (f->svc.engine)->download_path, ==, sub);

  /* What session-get said comes back unchanged: no change, so no refusal,
   * even when the roots no longer hold the download folder. */
  {
    g_autofree char *other = g_build_filename (f->svc.dir, "other", NULL);
    g_autofree char *echo = g_strdup_printf ("{\"method\":\"session-set\",\"arguments\":"
                                             "{\"download-dir\":\"%s\",\"incomplete-dir\":\"%s\"}}",
                                             sub, sub);
    g_autoptr(JsonNode) d = NULL;

    set_allowed_paths (f, other);
    d = rpc (f, echo);
    g_assert_cmpstr (result_of (d), ==, "success");
  }
}

static void
test_rpc_torrent_add (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *to_ssh = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":"
                                             "{\"metainfo\":\"%s\",\"download-dir\":\"%s\",\"paused\":true}}",
                                             f->meta_b64, f->ssh);
  g_autoptr(JsonNode) a = NULL;

  a = rpc (f, to_ssh);
  assert_rpc_refused (a, ".ssh");
  g_assert_cmpuint (n_torrents (f), ==, 0);
  assert_ssh_untouched (f);
}

static void
test_rpc_set_location (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *inside = g_build_filename (f->downloads, "films", NULL);
  g_autofree char *add = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":"
                                          "{\"metainfo\":\"%s\",\"download-dir\":\"%s\",\"paused\":true}}",
                                          f->meta_b64, inside);
  g_autofree char *away = g_strdup_printf ("{\"method\":\"torrent-set-location\",\"arguments\":"
                                           "{\"ids\":[1],\"location\":\"%s\",\"move\":true}}", f->ssh);
  g_autofree char *point = g_strdup_printf ("{\"method\":\"torrent-set-location\",\"arguments\":"
                                            "{\"ids\":[1],\"location\":\"%s\",\"move\":false}}", f->ssh);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL;
  TeTorrent *t;

  a = rpc (f, add);
  g_assert_cmpstr (result_of (a), ==, "success");
  g_assert_cmpuint (n_torrents (f), ==, 1);
  t = g_ptr_array_index (te_engine_get_torrents (f->svc.engine), 0);
  b = rpc (f, away);
  assert_rpc_refused (b, ".ssh");
  c = rpc (f, point);
  assert_rpc_refused (c, ".ssh");
  g_assert_cmpstr (te_torrent_get_save_path (t), ==, inside);
  assert_ssh_untouched (f);
}

/* A .torrent on the server: only in the roots, and its bytes never shown. */
static void
test_rpc_local_file (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *secret = g_build_filename (f->downloads, "notes.torrent", NULL);
  g_autofree char *good = g_build_filename (f->downloads, "payload.torrent", NULL);
  GBytes *bytes = te_metainfo_get_torrent_bytes (f->meta);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL;
  g_autofree char *read_secret = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":"
                                                  "{\"filename\":\"%s\",\"paused\":true}}", secret);
  g_autofree char *read_good = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":"
                                                "{\"filename\":\"%s\",\"paused\":true}}", good);
  const char *result;

  a = rpc (f, "{\"method\":\"torrent-add\",\"arguments\":{\"filename\":\"/etc/passwd\"}}");
  assert_rpc_refused (a, "outside");
  g_assert_null (strstr (result_of (a), "root"));

  /* Not a torrent: the answer says so without quoting it (“r” is 0x72). */
  g_assert_true (g_file_set_contents (secret, "root:x:0:0:secret", -1, NULL));
  b = rpc (f, read_secret);
  result = result_of (b);
  g_test_message ("result: %s", result);
  g_assert_cmpstr (result, !=, "success");
  g_assert_nonnull (strstr (result, "not a torrent file"));
  g_assert_null (strstr (result, "0x72"));
  g_assert_null (strstr (result, "secret"));
  g_assert_null (strstr (result, "root"));

  /* A pipe is not waited on; a file too large is not read. */
  {
    g_autofree char *fifo = g_build_filename (f->downloads, "pipe.torrent", NULL);
    g_autofree char *big = g_build_filename (f->downloads, "big.torrent", NULL);
    g_autofree char *read_fifo = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":"
                                                  "{\"filename\":\"%s\"}}", fifo);
    g_autofree char *read_big = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":"
                                                 "{\"filename\":\"%s\"}}", big);
    g_autoptr(JsonNode) d = NULL, e = NULL;
    FILE *fp;

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    d = rpc (f, read_fifo);
    g_assert_nonnull (strstr (result_of (d), "not a regular file"));
    fp = fopen (big, "w");
    g_assert_nonnull (fp);
    g_assert_cmpint (ftruncate (fileno (fp), TE_METAINFO_MAX_SIZE + 1), ==, 0);
    fclose (fp);
    e = rpc (f, read_big);
    g_assert_nonnull (strstr (result_of (e), "larger than a torrent file can be"));
  }

  g_assert_true (g_file_set_contents (good, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL));
  c = rpc (f, read_good);
  g_assert_cmpstr (result_of (c), ==, "success");
  g_assert_cmpuint (n_torrents (f), ==, 1);
}

static void
add (const char *path,
     void      (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *home = NULL;
  int status;

  /* A home folder of our own, before GLib reads and caches it. */
  home = g_dir_make_tmp ("te-paths-home-XXXXXX", NULL);
  g_assert_nonnull (home);
  g_setenv ("HOME", home, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpstr (g_get_home_dir (), ==, home);

  add ("/te/service/paths/rest-add", test_rest_add);
  add ("/te/service/paths/rest-symlink", test_rest_symlink);
  add ("/te/service/paths/rest-settings", test_rest_settings);
  add ("/te/service/paths/rest-move", test_rest_move);
  add ("/te/service/paths/hidden-in-root", test_hidden_in_root);
  add ("/te/service/paths/rpc-session-set", test_rpc_session_set);
  add ("/te/service/paths/rpc-torrent-add", test_rpc_torrent_add);
  add ("/te/service/paths/rpc-set-location", test_rpc_set_location);
  add ("/te/service/paths/rpc-local-file", test_rpc_local_file);

  status = g_test_run ();
  te_test_rm_rf (home);
  return status;
}
