/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "te-file-state-store.h"
#include "te-test-utils.h"

#define ID "0123456789abcdef0123456789abcdef01234567"

typedef struct {
  char             *dir;
  TeFileStateStore *store;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  g_autofree char *parent = te_test_make_tmpdir ("te-state");

  f->dir = g_build_filename (parent, "state", NULL);   /* created by the first save */
  g_free (g_steal_pointer (&parent));
  f->store = te_file_state_store_new (f->dir);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  g_autofree char *parent = g_path_get_dirname (f->dir);

  te_test_finalize_object (g_steal_pointer (&f->store));
  te_test_rm_rf (parent);
  g_free (f->dir);
}

/* A valid document with @completed of 10 pieces done. */
static JsonObject *
make_document (guint completed)
{
  JsonObject *doc = json_object_new ();
  guint8 bits[2] = { 0, 0 };
  g_autofree char *b64 = NULL;

  for (guint i = 0; i < completed; i++)
    bits[i / 8] |= 0x80 >> (i % 8);
  b64 = g_base64_encode (bits, sizeof bits);
  json_object_set_int_member (doc, "version", 1);
  json_object_set_string_member (doc, "infoHash", ID);
  json_object_set_null_member (doc, "infoHashV2");
  json_object_set_string_member (doc, "name", "payload");
  json_object_set_int_member (doc, "totalSize", 10 * 16384);
  json_object_set_int_member (doc, "pieceLength", 16384);
  json_object_set_int_member (doc, "totalPieces", 10);
  json_object_set_int_member (doc, "completedPieces", completed);
  json_object_set_string_member (doc, "bitfield", b64);
  json_object_set_string_member (doc, "state", "downloading");
  json_object_set_string_member (doc, "savePath", "/tmp/x");
  json_object_set_array_member (doc, "files", json_array_new ());
  json_object_set_int_member (doc, "addedAt", 1700000000);
  return doc;
}

typedef struct {
  gboolean   done;
  gboolean   ok;
  GStrv      ids;
  GPtrArray *records;
  GError    *error;
} Wait;

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Wait *w = user_data;

  w->ok = te_state_store_save_finish (TE_STATE_STORE (source), result, &w->error);
  w->done = TRUE;
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Wait *w = user_data;

  w->records = te_state_store_load_finish (TE_STATE_STORE (source), result, &w->error);
  w->done = TRUE;
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Wait *w = user_data;

  w->ids = te_state_store_list_finish (TE_STATE_STORE (source), result, &w->error);
  w->done = TRUE;
}

static void
removed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Wait *w = user_data;

  w->ok = te_state_store_remove_finish (TE_STATE_STORE (source), result, &w->error);
  w->done = TRUE;
}

static void
save (Fixture    *f,
      const char *id,
      JsonObject *doc,
      GBytes     *torrent)
{
  Wait w = { 0 };

  te_state_store_save_async (TE_STATE_STORE (f->store), id, doc, torrent, NULL, saved_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
}

static guint count_records (Fixture *f);

static GPtrArray *
load (Fixture *f)
{
  Wait w = { 0 };
  g_auto(GStrv) ids = NULL;

  te_state_store_list_async (TE_STATE_STORE (f->store), NULL, listed_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  ids = g_steal_pointer (&w.ids);
  w.done = FALSE;
  te_state_store_load_async (TE_STATE_STORE (f->store), (const char * const *) ids, NULL,
                             loaded_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  return w.records;
}

static guint
count_records (Fixture *f)
{
  g_autoptr(GPtrArray) records = load (f);

  return records->len;
}

static char *
state_path (Fixture    *f,
            const char *suffix)
{
  g_autofree char *name = g_strconcat (ID, suffix, NULL);

  return g_build_filename (f->dir, name, NULL);
}

static void
test_round_trip (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr(JsonObject) doc = make_document (3);
  g_autoptr(GBytes) torrent = g_bytes_new_static ("d4:infode", 9);
  g_autoptr(GPtrArray) records = NULL;
  TeStateRecord *r;

  /* Fields we do not know are kept (forward compatibility). */
  json_object_set_string_member (doc, "fromTheFuture", "kept");
  g_assert_cmpuint (count_records (f), ==, 0);
  save (f, ID, doc, torrent);

  records = load (f);
  g_assert_cmpuint (records->len, ==, 1);
  r = g_ptr_array_index (records, 0);
  g_assert_cmpstr (r->id, ==, ID);
  g_assert_no_error (r->problem);
  g_assert_false (r->from_backup);
  g_assert_cmpint (json_object_get_int_member (r->document, "completedPieces"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (r->document, "fromTheFuture"), ==, "kept");
  g_assert_true (g_bytes_equal (r->torrent, torrent));
}

static void
test_backups (Fixture      *f,
              gconstpointer data)
{
  g_autoptr(GPtrArray) records = NULL;

  /* Saved without waiting: saves of one torrent land in order. */
  for (guint i = 1; i <= 7; i++)
    {
      g_autoptr(JsonObject) doc = make_document (i);
      te_state_store_save_async (TE_STATE_STORE (f->store), ID, doc, NULL, NULL, NULL, NULL);
    }
  records = load (f);
  g_assert_cmpint (json_object_get_int_member (((TeStateRecord *) records->pdata[0])->document,
                                               "completedPieces"), ==, 7);

  /* The five versions before the newest, and no more. */
  for (guint i = 1; i <= 6; i++)
    {
      g_autofree char *suffix = g_strdup_printf (".json.%u", i);
      g_autofree char *path = state_path (f, suffix);
      g_assert_cmpint (g_file_test (path, G_FILE_TEST_EXISTS), ==, i <= TE_FILE_STATE_STORE_BACKUPS);
    }
}

/* Many torrents saved at once share their syncs (one syncfs() for the batch)
 * and each still lands whole; a first save keeps no backup. */
static void
test_many_at_once (Fixture      *f,
                   gconstpointer data)
{
  const guint n = 40;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint files = 0;

  for (guint round = 1; round <= 2; round++)
    {
      Wait w = { 0 };

      for (guint i = 0; i < n; i++)
        {
          g_autofree char *id = g_strdup_printf ("%040x", i + 1);
          g_autoptr(JsonObject) doc = make_document (round == 1 ? i % 10 : 10);
          char *text = g_strdup_printf ("d4:infod4:name40:%se", id);
          g_autoptr(GBytes) torrent = g_bytes_new_take (text, strlen (text));

          json_object_set_string_member (doc, "infoHash", id);
          te_state_store_save_async (TE_STATE_STORE (f->store), id, doc, torrent, NULL,
                                     i == n - 1 ? saved_cb : NULL, i == n - 1 ? &w : NULL);
        }
      /* Saves land in order: the last one done means all are. */
      te_test_wait_for (&w.done);
      g_assert_no_error (w.error);
    }

  dir = g_dir_open (f->dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_false (g_str_has_suffix (name, ".tmp"));
      g_assert_false (g_str_has_suffix (name, ".json.2"));
      files++;
    }
  /* .torrent, .json and the first version as .json.1, for each. */
  g_assert_cmpuint (files, ==, 3 * n);

  records = load (f);
  g_assert_cmpuint (records->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      TeStateRecord *r = g_ptr_array_index (records, i);
      g_autofree char *expected = g_strdup_printf ("d4:infod4:name40:%se", r->id);
      g_autofree char *backup_name = g_strconcat (r->id, ".json.1", NULL);
      g_autofree char *backup = g_build_filename (f->dir, backup_name, NULL);
      g_autoptr(JsonParser) parser = json_parser_new ();
      guint index = (guint) g_ascii_strtoull (r->id, NULL, 16) - 1;

      g_assert_no_error (r->problem);
      g_assert_cmpint (json_object_get_int_member (r->document, "completedPieces"), ==, 10);
      g_assert_cmpstr (json_object_get_string_member (r->document, "infoHash"), ==, r->id);
      g_assert_cmpmem (g_bytes_get_data (r->torrent, NULL), g_bytes_get_size (r->torrent),
                       expected, strlen (expected));
      g_assert_true (json_parser_load_from_file (parser, backup, NULL));
      g_assert_cmpint (json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)),
                                                   "completedPieces"), ==, index % 10);
    }
}

static void
test_corrupt_falls_back (Fixture      *f,
                         gconstpointer data)
{
  g_autofree char *current = state_path (f, ".json");
  g_autoptr(GPtrArray) records = NULL;
  TeStateRecord *r;

  for (guint i = 4; i <= 6; i++)
    {
      g_autoptr(JsonObject) doc = make_document (i);
      save (f, ID, doc, NULL);
    }
  /* Truncated mid-write by a crash or a full disk */
  g_assert_cmpint (truncate (current, 40), ==, 0);

  records = load (f);
  g_assert_cmpuint (records->len, ==, 1);
  r = g_ptr_array_index (records, 0);
  g_assert_true (r->from_backup);
  g_assert_nonnull (r->problem);
  g_assert_nonnull (strstr (r->problem->message, ID ".json"));
  g_assert_cmpint (json_object_get_int_member (r->document, "completedPieces"), ==, 5);
}

static void
test_all_corrupt_reported (Fixture      *f,
                           gconstpointer data)
{
  g_autofree char *current = state_path (f, ".json");
  g_autofree char *backup = state_path (f, ".json.1");
  g_autoptr(GPtrArray) records = NULL;
  TeStateRecord *r;

  for (guint i = 1; i <= 2; i++)
    {
      g_autoptr(JsonObject) doc = make_document (i);
      save (f, ID, doc, NULL);
    }
  g_assert_true (g_file_set_contents (current, "{ \"version\": 1 }", -1, NULL));
  g_assert_true (g_file_set_contents (backup, "not json", -1, NULL));

  records = load (f);
  g_assert_cmpuint (records->len, ==, 1);
  r = g_ptr_array_index (records, 0);
  g_assert_null (r->document);
  g_assert_error (r->problem, TE_STATE_ERROR, TE_STATE_ERROR_LOST);
}

static void
test_remove (Fixture      *f,
             gconstpointer data)
{
  g_autoptr(GBytes) torrent = g_bytes_new_static ("d4:infode", 9);
  g_autoptr(GPtrArray) tree = NULL;
  Wait w = { 0 };

  for (guint i = 1; i <= 3; i++)
    {
      g_autoptr(JsonObject) doc = make_document (i);
      save (f, ID, doc, torrent);
    }
  te_state_store_remove_async (TE_STATE_STORE (f->store), ID, NULL, removed_cb, &w);
  te_test_wait_for (&w.done);
  g_assert_no_error (w.error);
  tree = te_test_list_tree (f->dir);
  g_assert_cmpuint (tree->len, ==, 0);
  g_assert_cmpuint (count_records (f), ==, 0);
}

static void
test_bad_id (Fixture      *f,
             gconstpointer data)
{
  g_autoptr(JsonObject) doc = make_document (1);
  const char *ids[] = { "../../etc/passwd", "ABCDEF0123456789abcdef0123456789abcdef01", "", "1234" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      Wait w = { 0 };

      te_state_store_save_async (TE_STATE_STORE (f->store), ids[i], doc, NULL, NULL, saved_cb, &w);
      te_test_wait_for (&w.done);
      g_assert_error (w.error, TE_STATE_ERROR, TE_STATE_ERROR_BAD_ID);
      g_clear_error (&w.error);
    }
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
}

static void
test_validate (void)
{
  struct {
    const char *field;
    int         kind;   /* 0 remove, 1 bad value */
  } cases[] = {
    { "version", 1 }, { "infoHash", 1 }, { "name", 0 }, { "savePath", 0 }, { "state", 1 },
    { "totalPieces", 0 }, { "completedPieces", 1 }, { "bitfield", 1 }, { "files", 0 },
    { "addedAt", 0 },
  };
  g_autoptr(JsonObject) good = make_document (2);

  g_assert_true (te_state_document_validate (good, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) doc = make_document (2);
      g_autoptr(GError) error = NULL;

      if (cases[i].kind == 0)
        json_object_remove_member (doc, cases[i].field);
      else if (g_str_equal (cases[i].field, "version"))
        json_object_set_int_member (doc, "version", 2);
      else if (g_str_equal (cases[i].field, "infoHash"))
        json_object_set_string_member (doc, "infoHash", "zz");
      else if (g_str_equal (cases[i].field, "state"))
        json_object_set_string_member (doc, "state", "flying");
      else if (g_str_equal (cases[i].field, "completedPieces"))
        json_object_set_int_member (doc, "completedPieces", 9);
      else
        json_object_set_string_member (doc, "bitfield", "AAAA");
      g_assert_false (te_state_document_validate (doc, &error));
      g_assert_error (error, TE_STATE_ERROR, TE_STATE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].field));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/te/state-store/round-trip", Fixture, NULL, fixture_setup, test_round_trip,
              fixture_teardown);
  g_test_add ("/te/state-store/backups", Fixture, NULL, fixture_setup, test_backups,
              fixture_teardown);
  g_test_add ("/te/state-store/many-at-once", Fixture, NULL, fixture_setup, test_many_at_once,
              fixture_teardown);
  g_test_add ("/te/state-store/corrupt-falls-back", Fixture, NULL, fixture_setup,
              test_corrupt_falls_back, fixture_teardown);
  g_test_add ("/te/state-store/all-corrupt-reported", Fixture, NULL, fixture_setup,
              test_all_corrupt_reported, fixture_teardown);
  g_test_add ("/te/state-store/remove", Fixture, NULL, fixture_setup, test_remove,
              fixture_teardown);
  g_test_add ("/te/state-store/bad-id", Fixture, NULL, fixture_setup, test_bad_id,
              fixture_teardown);
  g_test_add_func ("/te/state-store/validate", test_validate);

  return g_test_run ();
}
