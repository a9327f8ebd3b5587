/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-swarm"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "service-fixture.h"

/* A real download driven through the API: a second in-process engine seeds,
 * the service's engine fetches, a WebSocket client watches. */

#define A_SIZE (3 * 1024 * 1024)
#define B_SIZE (1024 * 1024)

typedef struct {
  SvcFixture  svc;
  TeEngine   *seeder;
  char       *seed_dir;
  GBytes     *torrent;
  char       *id;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autofree char *payload = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autoptr(TeCreator) creator = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;
  TeTorrent *t;

  svc_fixture_setup (&f->svc, data);
  f->seed_dir = g_build_filename (f->svc.dir, "seed", NULL);
  payload = g_build_filename (f->seed_dir, "payload", NULL);
  a = g_build_filename (payload, "a.bin", NULL);
  b = g_build_filename (payload, "b.bin", NULL);
  te_test_write_random (a, A_SIZE, 1);
  te_test_write_random (b, B_SIZE, 2);
  creator = te_creator_new (payload);
  te_creator_set_version (creator, TE_TORRENT_V1);
  te_creator_set_piece_size (creator, 65536);
  f->torrent = te_test_create_torrent (creator, &error);
  g_assert_no_error (error);
  meta = te_metainfo_new_from_bytes (f->torrent, &error);
  g_assert_no_error (error);
  f->id = te_metainfo_dup_info_hash_hex (meta);

  /* 512 KiB/s: the download lasts several seconds, long enough to watch. */
  f->seeder = te_test_new_engine (0, 512 * 1024);
  t = te_engine_add_torrent (f->seeder, meta, f->seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (t, TE_TORRENT_STATE_SEEDING);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  te_engine_stop (f->seeder);
  g_clear_object (&f->seeder);
  svc_fixture_teardown (&f->svc, data);
  g_bytes_unref (f->torrent);
  g_free (f->seed_dir);
  g_free (f->id);
}

static char *
peer_json (Fixture *f)
{
  return g_strdup_printf ("{\"address\":\"127.0.0.1\",\"port\":%u}", te_engine_get_port (f->seeder));
}

/* Polls the API until the torrent is in @state. */
static void
wait_api_state (Fixture    *f,
                const char *state)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/torrents/%s", f->id);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(JsonNode) n = svc_json (&f->svc, "GET", path, NULL, 200);
      const char *now = json_object_get_string_member (json_node_get_object (n), "state");

      if (g_strcmp0 (now, state) == 0)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("Torrent still “%s”, not “%s”", now, state);
      te_test_spin (200);
    }
}

static void
assert_same_file (Fixture    *f,
                  const char *dir,
                  const char *rel)
{
  g_autofree char *x = g_build_filename (f->seed_dir, rel, NULL);
  g_autofree char *y = g_build_filename (dir, rel, NULL);
  g_autoptr(GBytes) bx = te_test_read_file (x);
  g_autoptr(GBytes) by = te_test_read_file (y);

  g_assert_true (g_bytes_equal (bx, by));
}

/* WebSocket events */

typedef struct {
  GPtrArray *progress_times;    /* gint64 µs, one per batch naming our torrent */
  gboolean   complete;
  gboolean   added;
  guint      pieces;
  char      *id;
} Events;

static void
take_event (Events     *ev,
            JsonObject *o)
{
  const char *type = json_object_get_string_member (o, "type");
  const char *hash = json_object_get_string_member_with_default (o, "infoHash", "");
  JsonObject *data = json_object_get_object_member (o, "data");

  g_assert_nonnull (data);
  g_assert_true (json_object_has_member (o, "timestamp"));
  if (g_strcmp0 (hash, ev->id) != 0)
    return;
  if (g_str_equal (type, "torrent:complete"))
    {
      g_assert_cmpstr (json_object_get_string_member (data, "name"), ==, "payload");
      g_assert_cmpint (json_object_get_int_member (data, "totalSize"), ==, A_SIZE + B_SIZE);
      ev->complete = TRUE;
    }
  else if (g_str_equal (type, "torrent:added"))
    ev->added = TRUE;
  else if (g_str_equal (type, "torrent:piece"))
    ev->pieces++;
  else if (g_str_equal (type, "torrent:progress"))
    {
      g_assert_true (json_object_has_member (data, "percentage"));
      g_assert_true (json_object_has_member (data, "downloadSpeed"));
      g_assert_true (json_object_has_member (data, "eta"));
      g_assert_nonnull (json_object_get_object_member (data, "peers"));
    }
}

static void
message_cb (SoupWebsocketConnection *conn,
            int                      type,
            GBytes                  *message,
            Events                  *ev)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_data (parser, g_bytes_get_data (message, NULL), g_bytes_get_size (message), &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  if (JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *a = json_node_get_array (root);
      gboolean ours = FALSE;

      /* A progress batch: one frame, every active torrent the client follows. */
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonObject *o = json_array_get_object_element (a, i);

          g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "torrent:progress");
          take_event (ev, o);
          ours |= g_strcmp0 (json_object_get_string_member (o, "infoHash"), ev->id) == 0;
        }
      if (ours)
        {
          gint64 *t = g_new (gint64, 1);

          *t = g_get_monotonic_time ();
          g_ptr_array_add (ev->progress_times, t);
        }
    }
  else
    take_event (ev, json_node_get_object (root));
}

typedef struct {
  gboolean                 done;
  SoupWebsocketConnection *conn;
  GError                  *error;
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

/* As a browser would: the token as a subprotocol. */
static SoupWebsocketConnection *
connect_events (Fixture    *f,
                const char *query)
{
  g_autofree char *url = g_strdup_printf ("%s/api/v1/events%s", f->svc.base, query ? query : "");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autofree char *bearer = NULL;
  char *protocols[3] = { "torrentedge.events", NULL, NULL };
  Connect c = { 0 };

  if (f->svc.token == NULL)
    f->svc.token = svc_login (&f->svc);
  bearer = g_strconcat ("bearer.", f->svc.token, NULL);
  protocols[1] = bearer;
  soup_session_websocket_connect_async (f->svc.session, msg, NULL, protocols, G_PRIORITY_DEFAULT, NULL,
                                        connected_cb, &c);
  te_test_wait_for (&c.done);
  g_assert_no_error (c.error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (c.conn), ==, "torrentedge.events");
  return c.conn;
}

static void
test_upload_events (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *query = g_strdup_printf ("?infoHashes=%s", f->id);
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  g_autofree char *content_type = NULL;
  g_autofree char *save = g_build_filename (f->svc.dir, "upload", NULL);
  g_autoptr(GBytes) form = svc_multipart (f->torrent, save, &content_type);
  g_autoptr(GBytes) reply = NULL;
  g_autofree char *peers_path = g_strdup_printf ("/api/v1/torrents/%s/peers", f->id);
  g_autofree char *peer = peer_json (f);
  g_autoptr(JsonNode) added = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Events ev = { g_ptr_array_new_with_free_func (g_free), FALSE, FALSE, 0, f->id };
  gint64 started, deadline;

  ws = connect_events (f, query);
  g_signal_connect (ws, "message", G_CALLBACK (message_cb), &ev);

  g_assert_cmpuint (svc_request (&f->svc, "POST", "/api/v1/torrents", content_type, form, f->svc.token, &reply), ==, 201);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), NULL));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "id"), ==, f->id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "savePath"), ==, save);
  /* The same torrent again is a conflict. */
  g_clear_pointer (&reply, g_bytes_unref);
  g_assert_cmpuint (svc_request (&f->svc, "POST", "/api/v1/torrents", content_type, form, f->svc.token, &reply), ==, 409);

  added = svc_json (&f->svc, "POST", peers_path, peer, 202);
  started = g_get_monotonic_time ();
  deadline = started + 60 * G_USEC_PER_SEC;
  while (!ev.complete && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (ev.complete);
  g_assert_true (ev.added);
  g_assert_cmpuint (ev.pieces, >, 0);
  /* About one progress batch a second while it ran. */
  g_test_message ("%u progress batches in %.1f s", ev.progress_times->len,
                  (g_get_monotonic_time () - started) / 1e6);
  g_assert_cmpuint (ev.progress_times->len, >=, 2);
  for (guint i = 1; i < ev.progress_times->len; i++)
    {
      gint64 gap = *(gint64 *) g_ptr_array_index (ev.progress_times, i) - *(gint64 *) g_ptr_array_index (ev.progress_times, i - 1);

      g_assert_cmpint (gap, >, 500 * 1000);
      g_assert_cmpint (gap, <, 2000 * 1000);
    }
  assert_same_file (f, save, "payload/a.bin");
  assert_same_file (f, save, "payload/b.bin");
  soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_signal_handlers_disconnect_by_data (ws, &ev);
  g_ptr_array_unref (ev.progress_times);
}

static void
test_magnet_pause_resume_remove (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *save = g_build_filename (f->svc.dir, "magnet", NULL);
  g_autofree char *body = g_strdup_printf ("{\"magnet\":\"magnet:?xt=urn:btih:%s&dn=payload\",\"savePath\":\"%s\","
                                           "\"peers\":[\"127.0.0.1:%u\"]}", f->id, save, te_engine_get_port (f->seeder));
  g_autofree char *path = g_strdup_printf ("/api/v1/torrents/%s", f->id);
  g_autofree char *pause = g_strdup_printf ("%s/pause", path);
  g_autofree char *resume = g_strdup_printf ("%s/resume", path);
  g_autofree char *remove = g_strdup_printf ("%s?deleteData=true", path);
  g_autofree char *a = g_build_filename (save, "payload", "a.bin", NULL);
  g_autofree char *b = g_build_filename (save, "payload", "b.bin", NULL);
  g_autoptr(JsonNode) added = svc_json (&f->svc, "POST", "/api/v1/torrents", body, 201);
  g_autoptr(JsonNode) paused = NULL;
  g_autoptr(JsonNode) list = NULL;
  gint64 deadline;

  wait_api_state (f, "seeding");
  assert_same_file (f, save, "payload/a.bin");

  paused = svc_json (&f->svc, "POST", pause, NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (paused), "state"), ==, "paused");
  g_clear_pointer (&paused, json_node_unref);
  paused = svc_json (&f->svc, "POST", resume, NULL, 200);
  wait_api_state (f, "seeding");

  list = svc_json (&f->svc, "GET", "/api/v1/torrents?fields=id,state&state=seeding", NULL, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (list), "torrents")), ==, 1);
  g_assert_cmpuint (json_object_get_size (json_array_get_object_element (
                      json_object_get_array_member (json_node_get_object (list), "torrents"), 0)), ==, 2);

  g_assert_null (svc_json (&f->svc, "DELETE", remove, NULL, 204));
  svc_json (&f->svc, "GET", path, NULL, 404);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((g_file_test (a, G_FILE_TEST_EXISTS) || g_file_test (b, G_FILE_TEST_EXISTS))
         && g_get_monotonic_time () < deadline)
    te_test_spin (50);
  g_assert_false (g_file_test (a, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (b, G_FILE_TEST_EXISTS));
}

static void
test_file_selection (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *save = g_build_filename (f->svc.dir, "select", NULL);
  g_autofree char *b64 = g_base64_encode (g_bytes_get_data (f->torrent, NULL), g_bytes_get_size (f->torrent));
  g_autofree char *body = g_strdup_printf ("{\"metainfo\":\"%s\",\"savePath\":\"%s\",\"paused\":true,\"peers\":[\"127.0.0.1:%u\"]}",
                                           b64, save, te_engine_get_port (f->seeder));
  g_autofree char *files_path = g_strdup_printf ("/api/v1/torrents/%s/files", f->id);
  g_autofree char *resume = g_strdup_printf ("/api/v1/torrents/%s/resume", f->id);
  g_autofree char *peers = g_strdup_printf ("/api/v1/torrents/%s/peers", f->id);
  g_autofree char *peer = peer_json (f);
  g_autofree char *b = g_build_filename (save, "payload", "b.bin", NULL);
  g_autoptr(JsonNode) added = svc_json (&f->svc, "POST", "/api/v1/torrents", body, 201);
  g_autoptr(JsonNode) files = svc_json (&f->svc, "GET", files_path, NULL, 200);
  g_autoptr(JsonNode) changed = NULL;
  g_autoptr(JsonNode) resumed = NULL;
  g_autoptr(JsonNode) dialled = NULL;
  JsonArray *list = json_object_get_array_member (json_node_get_object (files), "files");
  g_autofree char *patch = NULL;
  gint64 b_index = -1;

  /* Added paused: it checks the (missing) data, then waits. */
  wait_api_state (f, "paused");
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  for (guint i = 0; i < 2; i++)
    if (g_str_has_suffix (json_object_get_string_member (json_array_get_object_element (list, i), "path"), "b.bin"))
      b_index = json_object_get_int_member (json_array_get_object_element (list, i), "index");
  g_assert_cmpint (b_index, >=, 0);

  /* An index past the end is refused and nothing changes. */
  svc_json (&f->svc, "PATCH", files_path, "{\"files\":[{\"index\":0,\"wanted\":false},{\"index\":7,\"wanted\":false}]}", 422);
  patch = g_strdup_printf ("{\"files\":[{\"index\":%" G_GINT64_FORMAT ",\"wanted\":false}]}", b_index);
  changed = svc_json (&f->svc, "PATCH", files_path, patch, 200);
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (
                    json_object_get_array_member (json_node_get_object (changed), "files"), b_index), "wanted"));

  resumed = svc_json (&f->svc, "POST", resume, NULL, 200);
  dialled = svc_json (&f->svc, "POST", peers, peer, 202);
  wait_api_state (f, "seeding");
  assert_same_file (f, save, "payload/a.bin");
  g_assert_false (g_file_test (b, G_FILE_TEST_EXISTS));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/service/swarm/upload-events", Fixture, NULL, setup, test_upload_events, teardown);
  g_test_add ("/te/service/swarm/magnet-pause-resume-remove", Fixture, NULL, setup,
              test_magnet_pause_resume_remove, teardown);
  g_test_add ("/te/service/swarm/file-selection", Fixture, NULL, setup, test_file_selection, teardown);
  return g_test_run ();
}
