/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-test"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "te-test-utils.h"

char *
te_test_make_tmpdir (const char *prefix)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpl = g_strdup_printf ("%s-XXXXXX", prefix);
  char *dir = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  return dir;
}

void
te_test_rm_rf (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) en = NULL;
  GFileInfo *info;

  if (g_file_query_file_type (file, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL)
      == G_FILE_TYPE_DIRECTORY)
    {
      en = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                      G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
      while (en != NULL && (info = g_file_enumerator_next_file (en, NULL, NULL)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);
          te_test_rm_rf (child);
          g_object_unref (info);
        }
    }
  g_remove (path);
}

void
te_test_write_random (const char *path,
                      gsize       size,
                      guint32     seed)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree guint32 *buf = g_malloc (1 << 20);
  guint32 x = seed * 2654435761u + 1;
  FILE *f;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  f = fopen (path, "wb");
  g_assert_nonnull (f);
  while (size > 0)
    {
      gsize chunk = MIN (size, (gsize) 1 << 20);

      for (gsize i = 0; i < (chunk + 3) / 4; i++)
        {
          /* xorshift32: cheap and reproducible */
          x ^= x << 13;
          x ^= x >> 17;
          x ^= x << 5;
          buf[i] = x;
        }
      g_assert_cmpuint (fwrite (buf, 1, chunk, f), ==, chunk);
      size -= chunk;
    }
  g_assert_cmpint (fclose (f), ==, 0);
}

GBytes *
te_test_read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

const char *
te_test_cli_path (void)
{
  const char *cli = g_getenv ("TE_CLI");

  g_assert_nonnull (cli);
  return cli;
}

int
te_test_run (const char * const *argv,
             char              **out_stdout,
             char              **out_stderr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) out = NULL, err = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE
                           | G_SUBPROCESS_FLAGS_STDIN_INHERIT;

  proc = g_subprocess_newv (argv, flags, &error);
  g_assert_no_error (error);
  g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);

  if (out_stdout)
    *out_stdout = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  if (out_stderr)
    *out_stderr = g_strndup (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

  if (!g_subprocess_get_if_exited (proc))
    return -1;
  return g_subprocess_get_exit_status (proc);
}

gboolean
te_test_have_program (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);

  return path != NULL;
}

static void
list_tree_rec (const char *root,
               const char *rel,
               GPtrArray  *out)
{
  g_autofree char *full = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GDir) dir = g_dir_open (full, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = rel ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        list_tree_rec (root, child_rel, out);
      else
        g_ptr_array_add (out, g_steal_pointer (&child_rel));
    }
}

static int
str_cmp (gconstpointer a,
         gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
te_test_list_tree (const char *root)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  list_tree_rec (root, NULL, out);
  g_ptr_array_sort (out, str_cmp);
  return out;
}

typedef struct {
  gboolean  done;
  GBytes   *bytes;
  GError   *error;
} CreateWait;

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CreateWait *w = user_data;

  w->bytes = te_creator_create_finish (TE_CREATOR (source), result, &w->error);
  w->done = TRUE;
}

void
te_test_wait_for (gboolean *flag)
{
  GMainContext *context = g_main_context_get_thread_default ();

  while (!*flag)
    g_main_context_iteration (context, TRUE);
}

GBytes *
te_test_create_torrent (TeCreator  *creator,
                        GError    **error)
{
  CreateWait w = { 0 };

  te_creator_create_async (creator, NULL, NULL, NULL, created_cb, &w);
  te_test_wait_for (&w.done);
  if (w.error)
    g_propagate_error (error, w.error);
  return w.bytes;
}

TeMetainfo *
te_test_make_payload (const char *dir,
                      const char *name,
                      gsize       size,
                      guint32     seed)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  te_test_write_random (path, size, seed);
  return te_test_make_torrent (path, TE_TORRENT_V1, 16 * 1024);
}

TeMetainfo *
te_test_make_torrent (const char       *path,
                      TeTorrentVersion  version,
                      guint32           piece_size)
{
  g_autoptr(TeCreator) creator = te_creator_new (path);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  TeMetainfo *meta;

  te_creator_set_version (creator, version);
  te_creator_set_piece_size (creator, piece_size);
  bytes = te_test_create_torrent (creator, &error);
  g_assert_no_error (error);
  meta = te_metainfo_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  return meta;
}

void
te_test_finalize_object (gpointer object)
{
  gpointer weak = object;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_assert_true (G_IS_OBJECT (object));
  g_object_add_weak_pointer (object, &weak);
  g_object_unref (object);
  while (g_atomic_pointer_get (&weak) != NULL && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (g_atomic_pointer_get (&weak));
}

static gboolean
expired_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
te_test_spin (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, expired_cb, &expired);
  te_test_wait_for (&expired);
}

void
te_test_wait_state (TeTorrent      *torrent,
                    TeTorrentState  state)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (60, expired_cb, &expired);

  while (te_torrent_get_state (torrent) != state && !expired)
    g_main_context_iteration (context, TRUE);
  if (!expired)
    g_source_remove (id);
  if (te_torrent_get_state (torrent) != state)
    g_error ("%s: still %s, expected %s", te_torrent_get_name (torrent),
             te_torrent_state_to_string (te_torrent_get_state (torrent)),
             te_torrent_state_to_string (state));
}

guint16
te_test_free_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);
  guint16 port;

  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  return port;
}

void
te_test_wait_count (guint *count,
                    guint  n)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (60, expired_cb, &expired);

  while (*count < n && !expired)
    g_main_context_iteration (context, TRUE);
  if (!expired)
    g_source_remove (id);
  if (*count < n)
    g_error ("Waited a minute for %u, got %u", n, *count);
}

TeEngine *
te_test_new_engine (guint   max_downloads,
                    guint64 upload_limit)
{
  TeEngineSettings settings;
  g_autoptr(GError) error = NULL;
  TeEngine *engine;

  te_engine_settings_init (&settings);
  settings.listen_port = 0;
  settings.seed_ratio_limit = 0;
  settings.max_active_downloads = max_downloads;
  settings.upload_limit = upload_limit;
  engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  g_assert_true (te_engine_start (engine, &error));
  g_assert_no_error (error);
  return engine;
}
