/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "te-engine.h"
#include "te-test-utils.h"
#include "te-torrent.h"
#include "te-transmission-rpc.h"

/* te_transmission_rpc_dispatch(): every method against a real engine, and
 * what malformed requests get. */

#define PIECE (32 * 1024)

typedef struct {
  char              *dir;
  char              *payload;     /* dir/payload: a.bin, sub/b.bin */
  TeMetainfo        *meta;
  char              *meta_b64;
  TeEngine          *engine;
  TeTransmissionRpc *rpc;
} Fixture;

static void
make_payload (const char *root,
              guint32     seed)
{
  g_autofree char *a = g_build_filename (root, "a.bin", NULL);
  g_autofree char *b = g_build_filename (root, "sub", "b.bin", NULL);

  te_test_write_random (a, 3 * PIECE + 5, seed);
  te_test_write_random (b, PIECE, seed + 1);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  GBytes *torrent;

  f->dir = te_test_make_tmpdir ("te-rpc");
  f->payload = g_build_filename (f->dir, "payload", NULL);
  make_payload (f->payload, 1);
  f->meta = te_test_make_torrent (f->payload, TE_TORRENT_V1, PIECE);
  torrent = te_metainfo_get_torrent_bytes (f->meta);
  f->meta_b64 = g_base64_encode (g_bytes_get_data (torrent, NULL), g_bytes_get_size (torrent));
  f->engine = te_test_new_engine (0, 0);
  /* Paths from the remote API must lie in the allowed roots: here, the
   * test's folder. */
  {
    TeEngineSettings settings;

    te_engine_settings_copy (&settings, te_engine_get_settings (f->engine));
    g_strfreev (settings.allowed_paths);
    settings.allowed_paths = g_strsplit (f->dir, "\n", -1);
    te_engine_set_settings (f->engine, &settings);
    te_engine_settings_clear (&settings);
  }
  f->rpc = te_transmission_rpc_new (f->engine);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  GPtrArray *torrents = te_engine_get_torrents (f->engine);

  /* A data check still running when the engine goes would outlive it. */
  for (guint i = 0; i < torrents->len; i++)
    while (te_torrent_get_state (g_ptr_array_index (torrents, i)) == TE_TORRENT_STATE_CHECKING)
      g_main_context_iteration (NULL, TRUE);
  g_assert_finalize_object (g_steal_pointer (&f->rpc));
  te_engine_stop (f->engine);
  te_test_finalize_object (g_steal_pointer (&f->engine));
  g_clear_object (&f->meta);
  te_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->payload);
  g_free (f->meta_b64);
}

/* Sends @request with ' standing for " (readable C literals); returns the
 * parsed answer. */
static JsonNode *
rpc (Fixture    *f,
     const char *request)
{
  g_autofree char *body = g_strdup (request);
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  JsonNode *node;

  g_strdelimit (body, "'", '"');
  answer = te_transmission_rpc_dispatch (f->rpc, body, strlen (body), &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);
  node = json_from_string (answer, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return node;
}

static const char *
result_of (JsonNode *answer)
{
  return json_object_get_string_member (json_node_get_object (answer), "result");
}

static JsonObject *
args_of (JsonNode *answer)
{
  return json_object_get_object_member (json_node_get_object (answer), "arguments");
}

static void
assert_success (JsonNode *answer)
{
  g_assert_cmpstr (result_of (answer), ==, "success");
}

static void
assert_fails (JsonNode   *answer,
              const char *needle)
{
  const char *result = result_of (answer);

  g_test_message ("result: %s", result);
  g_assert_cmpstr (result, !=, "success");
  g_assert_nonnull (strstr (result, needle));
}

static TeTorrent *
only_torrent (Fixture *f)
{
  GPtrArray *torrents = te_engine_get_torrents (f->engine);

  g_assert_cmpuint (torrents->len, ==, 1);
  return g_ptr_array_index (torrents, 0);
}

/* Adds the fixture's torrent paused, next to its data; returns its id. */
static gint64
add_fixture_torrent (Fixture    *f,
                     const char *extra)
{
  g_autofree char *request = g_strdup_printf ("{'method':'torrent-add','arguments':{'metainfo':'%s',"
                                              "'download-dir':'%s','paused':true%s}}",
                                              f->meta_b64, f->dir, extra);
  g_autoptr(JsonNode) answer = rpc (f, request);
  JsonObject *added;

  assert_success (answer);
  added = json_object_get_object_member (args_of (answer), "torrent-added");
  g_assert_nonnull (added);
  return json_object_get_int_member (added, "id");
}

static TePriority
file_priority (TeTorrent *torrent,
               guint      index)
{
  g_autoptr(GPtrArray) files = te_torrent_dup_files (torrent);

  return ((TeFileInfo *) g_ptr_array_index (files, index))->priority;
}

static void
test_session_get (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(JsonNode) all = rpc (f, "{'method':'session-get','tag':7}");
  g_autoptr(JsonNode) some = rpc (f, "{'method':'session-get','arguments':{'fields':['version','nope']}}");
  JsonObject *args = args_of (all);

  assert_success (all);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (all), "tag"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (args, "rpc-version"), ==, 17);
  g_assert_cmpstr (json_object_get_string_member (args, "session-id"), ==,
                   te_transmission_rpc_get_session_id (f->rpc));
  g_assert_cmpstr (json_object_get_string_member (args, "download-dir"), ==,
                   te_engine_get_settings (f->engine)->download_path);
  g_assert_cmpint (json_object_get_int_member (args, "peer-port"), ==, te_engine_get_port (f->engine));
  g_assert_false (json_object_get_boolean_member (args, "dht-enabled"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (args, "units"), "speed-bytes"), ==, 1000);

  assert_success (some);
  g_assert_cmpuint (json_object_get_size (args_of (some)), ==, 1);
  g_assert_true (json_object_has_member (args_of (some), "version"));
}

static void
test_session_set (Fixture       *f,
                  gconstpointer  data)
{
  const TeEngineSettings *s = te_engine_get_settings (f->engine);
  g_autoptr(JsonNode) a = rpc (f, "{'method':'session-set','arguments':{'speed-limit-down':100,"
                                  "'speed-limit-down-enabled':true,'download-queue-enabled':true,"
                                  "'download-queue-size':3,'seedRatioLimit':1.5,'seedRatioLimited':true,"
                                  "'alt-speed-up':20,'alt-speed-enabled':true}}");
  g_autoptr(JsonNode) b = NULL, c = NULL, d = NULL, e = NULL;

  assert_success (a);
  g_assert_cmpuint (s->download_limit, ==, 100000);
  g_assert_cmpuint (s->max_active_downloads, ==, 3);
  g_assert_cmpfloat (s->seed_ratio_limit, ==, 1.5);
  g_assert_cmpuint (s->alt_upload_limit, ==, 20000);
  g_assert_true (te_engine_get_alt_speed (f->engine));

  /* Off keeps the number, as Transmission does. */
  b = rpc (f, "{'method':'session-set','arguments':{'speed-limit-down-enabled':false}}");
  assert_success (b);
  g_assert_cmpuint (s->download_limit, ==, 0);
  c = rpc (f, "{'method':'session-get','arguments':{'fields':['speed-limit-down','speed-limit-down-enabled']}}");
  g_assert_cmpint (json_object_get_int_member (args_of (c), "speed-limit-down"), ==, 100);
  g_assert_false (json_object_get_boolean_member (args_of (c), "speed-limit-down-enabled"));

  /* Wrong types and values change nothing. */
  d = rpc (f, "{'method':'session-set','arguments':{'speed-limit-up':'fast','download-queue-size':1}}");
  assert_fails (d, "speed-limit-up");
  g_assert_cmpuint (s->max_active_downloads, ==, 3);
  e = rpc (f, "{'method':'session-set','arguments':{'download-dir':'relative/dir'}}");
  assert_fails (e, "not absolute");
}

/* session-set takes the engine's bounds, in Transmission's units. */
static void
test_session_set_bounds (Fixture       *f,
                         gconstpointer  data)
{
  static const struct {
    const char *request;
    const char *needle;
  } refused[] = {
    { "{'peer-limit-per-torrent':10001}", "“peer-limit-per-torrent” must be between 1 and 10000" },
    { "{'peer-limit-global':100001}", "“peer-limit-global” must be between 1 and 100000" },
    { "{'download-queue-size':10001}", "“download-queue-size” must be between 0 and 10000" },
    { "{'seed-queue-size':100001}", "“seed-queue-size” must be between 0 and 100000" },
    { "{'queue-stalled-minutes':10081}", "“queue-stalled-minutes” must be between 1 and 10080" },
    { "{'queue-stalled-minutes':0}", "“queue-stalled-minutes” must be between 1 and 10080" },
    { "{'seedRatioLimit':-0.5}", "seedRatioLimit: -0.5 is not a number of 0 or more" },
  };
  const TeEngineSettings *s = te_engine_get_settings (f->engine);
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL, d = NULL;

  a = rpc (f, "{'method':'session-set','arguments':{'peer-limit-per-torrent':10000,'peer-limit-global':100000,"
              "'seed-queue-enabled':true,'seed-queue-size':100000,'queue-stalled-enabled':true,"
              "'queue-stalled-minutes':30,'seedRatioLimit':5000000,'seedRatioLimited':true}}");
  assert_success (a);
  g_assert_cmpuint (s->max_peers_per_torrent, ==, 10000);
  g_assert_cmpuint (s->max_peers_global, ==, 100000);
  g_assert_cmpuint (s->max_active_seeds, ==, 100000);
  g_assert_cmpuint (s->stall_timeout_s, ==, 1800);
  g_assert_cmpfloat (s->seed_ratio_limit, ==, 5000000);

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *request = g_strdup_printf ("{'method':'session-set','arguments':%s}", refused[i].request);
      g_autoptr(JsonNode) answer = rpc (f, request);

      g_test_message ("%s", request);
      assert_fails (answer, refused[i].needle);
      g_assert_cmpuint (s->max_peers_per_torrent, ==, 10000);
      g_assert_cmpuint (s->max_active_seeds, ==, 100000);
      g_assert_cmpuint (s->stall_timeout_s, ==, 1800);
      g_assert_cmpfloat (s->seed_ratio_limit, ==, 5000000);
    }

  /* Off is the engine's longest stall timeout, never one below its minimum;
   * the minutes are kept for when it is switched on again. */
  b = rpc (f, "{'method':'session-set','arguments':{'queue-stalled-enabled':false}}");
  assert_success (b);
  g_assert_cmpuint (s->stall_timeout_s, ==, 604800);
  c = rpc (f, "{'method':'session-get','arguments':{'fields':['queue-stalled-enabled','queue-stalled-minutes']}}");
  g_assert_false (json_object_get_boolean_member (args_of (c), "queue-stalled-enabled"));
  g_assert_cmpint (json_object_get_int_member (args_of (c), "queue-stalled-minutes"), ==, 30);
  d = rpc (f, "{'method':'session-set','arguments':{'queue-stalled-enabled':true}}");
  assert_success (d);
  g_assert_cmpuint (s->stall_timeout_s, ==, 1800);
}

static void
test_session_stats (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *current;

  add_fixture_torrent (f, "");
  te_test_wait_state (only_torrent (f), TE_TORRENT_STATE_PAUSED);
  answer = rpc (f, "{'method':'session-stats'}");
  assert_success (answer);
  g_assert_cmpint (json_object_get_int_member (args_of (answer), "torrentCount"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (args_of (answer), "pausedTorrentCount"), ==, 1);
  current = json_object_get_object_member (args_of (answer), "current-stats");
  g_assert_nonnull (current);
  g_assert_cmpint (json_object_get_int_member (current, "filesAdded"), ==, 1);
  g_assert_true (json_object_has_member (args_of (answer), "cumulative-stats"));
}

static void
test_add_and_get (Fixture       *f,
                  gconstpointer  data)
{
  gint64 id = add_fixture_torrent (f, ",'files-unwanted':[1],'priority-high':[0]");
  TeTorrent *torrent = (te_test_wait_state (only_torrent (f), TE_TORRENT_STATE_PAUSED), only_torrent (f));
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (f->meta);
  g_autofree char *dup_request = g_strdup_printf ("{'method':'torrent-add','arguments':{'metainfo':'%s'}}",
                                                  f->meta_b64);
  g_autofree char *by_hash = g_strdup_printf ("{'method':'torrent-get','arguments':{'ids':['%s'],"
                                              "'fields':['id']}}", hex);
  g_autoptr(JsonNode) dup = rpc (f, dup_request);
  g_autoptr(JsonNode) get = rpc (f, "{'method':'torrent-get','arguments':{'fields':['id','name',"
                                    "'hashString','status','wanted','priorities','files','totalSize',"
                                    "'downloadDir','percentDone','eta','uploadRatio','no-such-field']}}");
  g_autoptr(JsonNode) table = rpc (f, "{'method':'torrent-get','arguments':{'format':'table',"
                                      "'fields':['id','name','id']}}");
  g_autoptr(JsonNode) hash = rpc (f, by_hash);
  g_autoptr(JsonNode) none = rpc (f, "{'method':'torrent-get','arguments':{'ids':[99],'fields':['id']}}");
  JsonObject *t;
  JsonArray *rows, *wanted;

  g_assert_cmpint (id, ==, 1);
  g_assert_cmpint (te_torrent_get_state (torrent), ==, TE_TORRENT_STATE_PAUSED);
  g_assert_cmpstr (te_torrent_get_save_path (torrent), ==, f->dir);
  g_assert_cmpint (file_priority (torrent, 0), ==, TE_PRIORITY_HIGH);
  g_assert_cmpint (file_priority (torrent, 1), ==, TE_PRIORITY_SKIP);

  assert_success (dup);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (args_of (dup), "torrent-duplicate"), "id"), ==, 1);
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 1);

  assert_success (get);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (args_of (get), "torrents")), ==, 1);
  t = json_array_get_object_element (json_object_get_array_member (args_of (get), "torrents"), 0);
  g_assert_false (json_object_has_member (t, "no-such-field"));
  g_assert_cmpstr (json_object_get_string_member (t, "name"), ==, "payload");
  g_assert_cmpstr (json_object_get_string_member (t, "hashString"), ==, hex);
  g_assert_cmpint (json_object_get_int_member (t, "status"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (t, "totalSize"), ==, 4 * PIECE + 5);
  g_assert_cmpstr (json_object_get_string_member (t, "downloadDir"), ==, f->dir);
  wanted = json_object_get_array_member (t, "wanted");
  g_assert_cmpint (json_array_get_int_element (wanted, 0), ==, 1);
  g_assert_cmpint (json_array_get_int_element (wanted, 1), ==, 0);
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (t, "priorities"), 0), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (t, "files"), 1), "name"),
                   ==, "payload/sub/b.bin");

  rows = json_object_get_array_member (args_of (table), "torrents");
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_array_get_array_element (rows, 0)), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (json_array_get_array_element (rows, 0), 1), ==, "name");
  g_assert_cmpint (json_array_get_int_element (json_array_get_array_element (rows, 1), 0), ==, 1);

  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (args_of (hash), "torrents")), ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (args_of (none), "torrents")), ==, 0);
}

static void
test_torrent_set (Fixture       *f,
                  gconstpointer  data)
{
  TeTorrent *torrent;
  guint64 down = 0, up = 0;
  double ratio;
  gint64 seed_time;
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL, g = NULL, h = NULL, i = NULL;
  g_autoptr(GPtrArray) trackers = NULL;

  add_fixture_torrent (f, "");
  torrent = only_torrent (f);

  /* An unwanted file keeps the priority it was given meanwhile. */
  a = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'priority-high':[0]}}");
  assert_success (a);
  g_assert_cmpint (file_priority (torrent, 0), ==, TE_PRIORITY_HIGH);
  b = rpc (f, "{'method':'torrent-set','arguments':{'ids':[1],'files-unwanted':[0]}}");
  g_assert_cmpint (file_priority (torrent, 0), ==, TE_PRIORITY_SKIP);
  c = rpc (f, "{'method':'torrent-get','arguments':{'ids':1,'fields':['priorities','wanted']}}");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (
                     json_array_get_object_element (json_object_get_array_member (args_of (c), "torrents"), 0),
                     "priorities"), 0), ==, 1);
  d = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'files-wanted':[0]}}");
  g_assert_cmpint (file_priority (torrent, 0), ==, TE_PRIORITY_HIGH);

  /* Limits in kB/s; off keeps the number. */
  e = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'downloadLimit':50,'downloadLimited':true}}");
  assert_success (e);
  te_torrent_get_limits (torrent, &down, &up);
  g_assert_cmpuint (down, ==, 50000);
  g_assert_cmpuint (up, ==, 0);
  g_clear_pointer (&e, json_node_unref);
  e = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'downloadLimited':false}}");
  te_torrent_get_limits (torrent, &down, &up);
  g_assert_cmpuint (down, ==, 0);
  /* The torrent's own ratio, then none, then the session's again. */
  g_clear_pointer (&e, json_node_unref);
  e = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'seedRatioMode':1,'seedRatioLimit':3}}");
  assert_success (e);
  te_torrent_get_seed_limits (torrent, &ratio, &seed_time);
  g_assert_cmpfloat (ratio, ==, 3);
  g = rpc (f, "{'method':'torrent-get','arguments':{'fields':['downloadLimit','downloadLimited','seedRatioMode','seedRatioLimit']}}");
  {
    JsonObject *t = json_array_get_object_element (json_object_get_array_member (args_of (g), "torrents"), 0);

    g_assert_cmpint (json_object_get_int_member (t, "downloadLimit"), ==, 50);
    g_assert_false (json_object_get_boolean_member (t, "downloadLimited"));
    g_assert_cmpint (json_object_get_int_member (t, "seedRatioMode"), ==, 1);
    g_assert_cmpfloat (json_object_get_double_member (t, "seedRatioLimit"), ==, 3);
  }
  g_clear_pointer (&e, json_node_unref);
  e = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'seedRatioMode':2}}");
  assert_success (e);
  te_torrent_get_seed_limits (torrent, &ratio, &seed_time);
  g_assert_cmpfloat (ratio, ==, 0);
  g_clear_pointer (&e, json_node_unref);
  e = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'seedRatioMode':0}}");
  assert_success (e);
  te_torrent_get_seed_limits (torrent, &ratio, &seed_time);
  g_assert_cmpfloat (ratio, <, 0);

  /* Trackers by URL, then by id. */
  h = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'trackerAdd':['http://127.0.0.1:9/announce']}}");
  assert_success (h);
  trackers = te_torrent_dup_trackers (torrent);
  g_assert_cmpuint (trackers->len, ==, 1);
  g_assert_cmpstr (((TeTrackerInfo *) g_ptr_array_index (trackers, 0))->url, ==, "http://127.0.0.1:9/announce");
  g_clear_pointer (&trackers, g_ptr_array_unref);
  g_clear_pointer (&h, json_node_unref);
  h = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'trackerRemove':[0]}}");
  assert_success (h);
  trackers = te_torrent_dup_trackers (torrent);
  g_assert_cmpuint (trackers->len, ==, 0);

  i = rpc (f, "{'method':'torrent-set','arguments':{'ids':1,'files-wanted':[5]}}");
  assert_fails (i, "does not exist");

  /* Without "move" the torrent is pointed at a copy of its data elsewhere,
   * which is checked there: nothing is moved. */
  {
    g_autofree char *other = g_build_filename (f->dir, "other", NULL);
    g_autofree char *request = g_strdup_printf ("{\"method\":\"torrent-set-location\","
                                                "\"arguments\":{\"ids\":1,\"location\":\"%s\","
                                                "\"move\":false}}", other);
    const char *cp[] = { "cp", "-a", f->payload, other, NULL };
    g_autoptr(JsonNode) j = NULL;
    int status = -1;

    g_assert_cmpint (g_mkdir_with_parents (other, 0700), ==, 0);
    g_assert_true (g_spawn_sync (NULL, (char **) cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                 NULL, NULL, &status, NULL));
    g_assert_cmpint (status, ==, 0);
    j = rpc (f, request);
    assert_success (j);
    g_assert_cmpstr (te_torrent_get_save_path (torrent), ==, other);
    g_assert_true (g_file_test (f->payload, G_FILE_TEST_EXISTS));
    g_assert_cmpint (te_torrent_get_state (torrent), ==, TE_TORRENT_STATE_CHECKING);
    te_test_wait_state (torrent, TE_TORRENT_STATE_PAUSED);
    g_assert_true (te_bitfield_is_full (te_torrent_get_have (torrent)));
  }
}

static void
test_actions_and_queue (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *other = g_build_filename (f->dir, "other", NULL);
  g_autoptr(TeMetainfo) meta2 = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *request = NULL;
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;
  GBytes *bytes;
  TeTorrent *first, *second;

  add_fixture_torrent (f, "");
  first = only_torrent (f);
  make_payload (other, 7);
  meta2 = te_test_make_torrent (other, TE_TORRENT_V1, PIECE);
  bytes = te_metainfo_get_torrent_bytes (meta2);
  b64 = g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  request = g_strdup_printf ("{'method':'torrent-add','arguments':{'metainfo':'%s','download-dir':'%s',"
                             "'paused':true}}", b64, f->dir);
  a = rpc (f, request);
  assert_success (a);
  second = g_ptr_array_index (te_engine_get_torrents (f->engine), 1);
  g_assert_cmpuint (te_torrent_get_queue_position (second), ==, 1);
  te_test_wait_state (first, TE_TORRENT_STATE_PAUSED);
  te_test_wait_state (second, TE_TORRENT_STATE_PAUSED);

  b = rpc (f, "{'method':'queue-move-top','arguments':{'ids':[2]}}");
  assert_success (b);
  g_assert_cmpuint (te_torrent_get_queue_position (second), ==, 0);
  g_assert_cmpuint (te_torrent_get_queue_position (first), ==, 1);
  g_clear_pointer (&b, json_node_unref);
  b = rpc (f, "{'method':'queue-move-down','arguments':{'ids':[2]}}");
  g_assert_cmpuint (te_torrent_get_queue_position (second), ==, 1);

  c = rpc (f, "{'method':'torrent-start','arguments':{'ids':[1]}}");
  assert_success (c);
  g_assert_cmpint (te_torrent_get_state (first), !=, TE_TORRENT_STATE_PAUSED);
  g_assert_cmpint (te_torrent_get_state (second), ==, TE_TORRENT_STATE_PAUSED);
  te_test_wait_state (first, TE_TORRENT_STATE_SEEDING);
  d = rpc (f, "{'method':'torrent-stop'}");
  g_assert_cmpint (te_torrent_get_state (first), ==, TE_TORRENT_STATE_PAUSED);
  e = rpc (f, "{'method':'torrent-reannounce','arguments':{'ids':[1]}}");
  assert_success (e);
}

static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *a_bin = g_build_filename (f->payload, "a.bin", NULL);
  g_autoptr(JsonNode) removed = NULL, recent = NULL;
  gint64 id;

  add_fixture_torrent (f, "");
  removed = rpc (f, "{'method':'torrent-remove','arguments':{'ids':[1],'delete-local-data':false}}");
  assert_success (removed);
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 0);
  g_assert_true (g_file_test (a_bin, G_FILE_TEST_EXISTS));

  recent = rpc (f, "{'method':'torrent-get','arguments':{'ids':'recently-active','fields':['id']}}");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (args_of (recent), "removed"), 0), ==, 1);

  /* Ids are never reused. */
  id = add_fixture_torrent (f, "");
  g_assert_cmpint (id, ==, 2);
}

static void
test_free_space (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *request = g_strdup_printf ("{'method':'free-space','arguments':{'path':'%s'}}", f->dir);
  g_autoptr(JsonNode) ok = rpc (f, request);
  g_autoptr(JsonNode) missing = rpc (f, "{'method':'free-space','arguments':{'path':'/nonexistent/te-rpc'}}");
  g_autoptr(JsonNode) relative = rpc (f, "{'method':'free-space','arguments':{'path':'here'}}");
  g_autoptr(JsonNode) port = rpc (f, "{'method':'port-test'}");
  g_autoptr(JsonNode) close = rpc (f, "{'method':'session-close'}");

  assert_success (ok);
  g_assert_cmpstr (json_object_get_string_member (args_of (ok), "path"), ==, f->dir);
  g_assert_cmpint (json_object_get_int_member (args_of (ok), "size-bytes"), >, 0);
  g_assert_cmpint (json_object_get_int_member (args_of (ok), "total_size"), >=,
                   json_object_get_int_member (args_of (ok), "size-bytes"));
  g_assert_cmpstr (result_of (missing), !=, "success");
  assert_fails (relative, "not absolute");
  assert_fails (port, "not supported");
  g_assert_false (json_object_has_member (args_of (port), "port-is-open"));
  assert_fails (close, "not supported");
}

static void
test_magnet (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (f->meta);
  g_autofree char *request = g_strdup_printf ("{'method':'torrent-add','arguments':{'filename':"
                                              "'magnet:?xt=urn:btih:%s&dn=named','paused':true,"
                                              "'download-dir':'%s'}}", hex, f->dir);
  g_autoptr(JsonNode) added = rpc (f, request);
  g_autoptr(JsonNode) again = rpc (f, request);
  g_autoptr(JsonNode) bad = rpc (f, "{'method':'torrent-add','arguments':{'filename':'magnet:?xt=urn:btih:zz'}}");
  TeTorrent *torrent;

  assert_success (added);
  torrent = only_torrent (f);
  g_assert_cmpstr (te_torrent_get_name (torrent), ==, "named");
  g_assert_nonnull (json_object_get_object_member (args_of (again), "torrent-duplicate"));
  assert_fails (bad, "invalid magnet");
}

static void
serve_torrent_cb (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  Fixture *f = user_data;
  GBytes *bytes = te_metainfo_get_torrent_bytes (f->meta);

  if (strcmp (path, "/t.torrent") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/x-bittorrent", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
test_add_sources (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autofree char *base = NULL, *get = NULL, *missing = NULL, *file_request = NULL;
  g_autofree char *torrent_path = g_build_filename (f->dir, "t.torrent", NULL);
  g_autoptr(JsonNode) corrupt = NULL, relative = NULL, not_found = NULL, fetched = NULL;
  g_autoptr(JsonNode) refused = NULL, from_file = NULL;
  GBytes *bytes = te_metainfo_get_torrent_bytes (f->meta);

  corrupt = rpc (f, "{'method':'torrent-add','arguments':{'metainfo':'bm90IGEgdG9ycmVudA=='}}");
  assert_fails (corrupt, "invalid or corrupt torrent file");
  relative = rpc (f, "{'method':'torrent-add','arguments':{'filename':'some.torrent'}}");
  assert_fails (relative, "absolute path");

  soup_server_add_handler (server, NULL, serve_torrent_cb, f, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  missing = g_strdup_printf ("{'method':'torrent-add','arguments':{'filename':'%smissing','paused':true}}", base);
  not_found = rpc (f, missing);
  assert_fails (not_found, "404");

  te_transmission_rpc_set_allow_url_fetch (f->rpc, FALSE);
  get = g_strdup_printf ("{'method':'torrent-add','arguments':{'filename':'%st.torrent','paused':true,"
                         "'download-dir':'%s'}}", base, f->dir);
  refused = rpc (f, get);
  assert_fails (refused, "turned off");
  g_assert_cmpuint (te_engine_get_torrents (f->engine)->len, ==, 0);
  te_transmission_rpc_set_allow_url_fetch (f->rpc, TRUE);
  fetched = rpc (f, get);
  assert_success (fetched);
  g_assert_cmpstr (te_torrent_get_name (only_torrent (f)), ==, "payload");

  /* A path on the server's disk: here a duplicate of what was fetched. */
  g_assert_true (g_file_set_contents (torrent_path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));
  file_request = g_strdup_printf ("{'method':'torrent-add','arguments':{'filename':'%s'}}", torrent_path);
  from_file = rpc (f, file_request);
  g_assert_nonnull (json_object_get_object_member (args_of (from_file), "torrent-duplicate"));
}

static void
assert_parse_error (Fixture    *f,
                    const char *body,
                    gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = te_transmission_rpc_dispatch (f->rpc, body, length, &error);

  g_assert_null (answer);
  g_assert_error (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_PARSE);
}

static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  static const struct { const char *request; const char *needle; } cases[] = {
    { "{'method':5}", "no method name" },
    { "{}", "no method name" },
    { "{'method':'torrent-explode'}", "not recognized" },
    { "{'method':'queue-move-sideways'}", "not recognized" },
    { "{'method':'session-get','arguments':[]}", "must be an object" },
    { "{'method':'torrent-get','arguments':{'fields':'id'}}", "fields" },
    { "{'method':'torrent-get','arguments':{}}", "fields" },
    { "{'method':'torrent-get','arguments':{'fields':[1]}}", "field names" },
    { "{'method':'torrent-get','arguments':{'fields':['id'],'ids':{}}}", "ids" },
    { "{'method':'torrent-get','arguments':{'fields':['id'],'ids':[true]}}", "ids" },
    { "{'method':'torrent-get','arguments':{'fields':['id'],'format':'csv'}}", "format" },
    { "{'method':'torrent-add','arguments':{}}", "no filename or metainfo" },
    { "{'method':'torrent-add','arguments':{'metainfo':7}}", "metainfo" },
    { "{'method':'torrent-add','arguments':{'filename':'/x','download-dir':'rel'}}", "not absolute" },
    { "{'method':'torrent-remove','arguments':{'delete-local-data':'yes'}}", "delete-local-data" },
    { "{'method':'torrent-set','arguments':{'downloadLimit':-5}}", "speed limits" },
    { "{'method':'torrent-set','arguments':{'seedRatioLimit':-1}}", "seedRatioLimit" },
    { "{'method':'torrent-set-location','arguments':{'location':'rel','move':true}}", "absolute path" },
    { "{'method':'session-set','arguments':{'peer-limit-global':0}}", "peer-limit-global" },
  };
  g_autoptr(GString) huge = g_string_new ("{\"method\":\"torrent-get\",\"arguments\":{\"fields\":[");
  g_autoptr(GString) deep = g_string_new ("{\"method\":\"session-get\",\"arguments\":{\"x\":");
  g_autoptr(GError) error = NULL;
  g_autofree char *big = NULL;
  g_autofree char *answer = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = rpc (f, cases[i].request);

      g_test_message ("%s", cases[i].request);
      assert_fails (node, cases[i].needle);
    }

  assert_parse_error (f, "{\"method\":\"session-get\"", 23);
  assert_parse_error (f, "[1,2]", 5);
  assert_parse_error (f, "", 0);
  assert_parse_error (f, "{\"method\":\"session-get\xff\"}", 25);
  /* Text after the object: json-glib would leak what it built. */
  assert_parse_error (f, "{\"method\":\"session-get\"} {}", 27);
  /* The length is honoured: what follows is never read. */
  answer = te_transmission_rpc_dispatch (f->rpc, "{\"method\":\"port-test\"}garbage", 22, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (answer, "port-test"));

  for (guint i = 0; i < 100000; i++)
    g_string_append (deep, "[");
  assert_parse_error (f, deep->str, deep->len);

  for (guint i = 0; i < 1100000; i++)
    g_string_append (huge, i ? ",\"id\"" : "\"id\"");
  g_string_append (huge, "]}}");
  {
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *text = te_transmission_rpc_dispatch (f->rpc, huge->str, huge->len, &error);

    g_assert_no_error (error);
    node = json_from_string (text, &error);
    assert_fails (node, "more than");
  }

  big = g_malloc0 (TE_TRANSMISSION_RPC_MAX_REQUEST + 1);
  memset (big, ' ', TE_TRANSMISSION_RPC_MAX_REQUEST + 1);
  g_clear_pointer (&answer, g_free);
  answer = te_transmission_rpc_dispatch (f->rpc, big, TE_TRANSMISSION_RPC_MAX_REQUEST + 1, &error);
  g_assert_null (answer);
  g_assert_error (error, TE_TRANSMISSION_RPC_ERROR, TE_TRANSMISSION_RPC_ERROR_TOO_LARGE);
}

/* A peer's fields say what is true of the connection. Our seed serves a
 * leecher that never has anything we want: it chokes us all along, which
 * the letters do not show (they show a choke only when someone is
 * interested), so the fields come from the connection's state. No
 * encryption or uTP exists. */
static void
test_peers (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(TeEngine) leecher = te_test_new_engine (0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) our_address = g_inet_socket_address_new (lo, te_engine_get_port (f->engine));
  g_autofree char *leech_dir = g_build_filename (f->dir, "leech", NULL);
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(JsonNode) answer = NULL;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  TeTorrent *leech, *mine;
  TePeerInfo *info;
  JsonObject *peer;
  const char *flags;

  mine = te_engine_add_torrent (f->engine, f->meta, f->dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (mine, TE_TORRENT_STATE_SEEDING);
  leech = te_engine_add_torrent (leecher, f->meta, leech_dir, &error);
  g_assert_no_error (error);
  te_torrent_add_peer (leech, G_INET_SOCKET_ADDRESS (our_address));

  for (;;)
    {
      g_clear_pointer (&infos, g_ptr_array_unref);
      infos = te_torrent_dup_peers (mine);
      if (infos->len == 1)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
  info = g_ptr_array_index (infos, 0);
  /* Read at the same turn of the main loop as @infos. */
  answer = rpc (f, "{'method':'torrent-get','arguments':{'fields':['peers']}}");
  assert_success (answer);
  peer = json_array_get_object_element (json_object_get_array_member (
           json_array_get_object_element (json_object_get_array_member (args_of (answer), "torrents"), 0),
           "peers"), 0);
  g_test_message ("flags “%s”: am_choking %d am_interested %d peer_choking %d peer_interested %d",
                  info->flags, info->am_choking, info->am_interested, info->peer_choking, info->peer_interested);
  g_assert_false (info->am_interested);
  g_assert_true (info->peer_choking);
  g_assert_true (json_object_get_boolean_member (peer, "clientIsChoked"));
  g_assert_false (json_object_get_boolean_member (peer, "clientIsInterested"));
  g_assert_cmpint (json_object_get_boolean_member (peer, "peerIsChoked"), ==, info->am_choking);
  g_assert_cmpint (json_object_get_boolean_member (peer, "peerIsInterested"), ==, info->peer_interested);
  g_assert_false (json_object_get_boolean_member (peer, "isEncrypted"));
  g_assert_false (json_object_get_boolean_member (peer, "isUTP"));
  g_assert_true (json_object_get_boolean_member (peer, "isIncoming"));
  flags = json_object_get_string_member (peer, "flagStr");
  g_assert_cmpstr (flags, ==, info->flags);
  g_assert_null (strpbrk (flags, "XEHT"));

  te_test_wait_state (leech, TE_TORRENT_STATE_SEEDING);
  te_engine_stop (leecher);
  te_test_finalize_object (g_steal_pointer (&leecher));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/te/transmission-rpc/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("session-get", test_session_get);
  ADD ("session-set", test_session_set);
  ADD ("session-set-bounds", test_session_set_bounds);
  ADD ("session-stats", test_session_stats);
  ADD ("torrent-add-get", test_add_and_get);
  ADD ("torrent-set", test_torrent_set);
  ADD ("actions-queue", test_actions_and_queue);
  ADD ("torrent-remove", test_remove);
  ADD ("free-space-port-test", test_free_space);
  ADD ("magnet", test_magnet);
  ADD ("add-sources", test_add_sources);
  ADD ("malformed", test_malformed);
  ADD ("peers", test_peers);
#undef ADD

  return g_test_run ();
}
