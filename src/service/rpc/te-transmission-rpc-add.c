/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-transmission-rpc"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "te-hash.h"
#include "te-outbound.h"
#include "te-remote-path.h"
#include "te-transmission-rpc-private.h"

/* torrent-add: base64 metainfo, a magnet, a .torrent on the server's disk,
 * or one fetched over http(s). Reading, downloading and parsing run off the
 * main loop; the torrent is added on it. */

#define FETCH_CHUNK (64 * 1024)
#define FETCH_TIMEOUT_S 60

typedef struct {
  TeRpcCall    *call;
  char         *save_path;
  gboolean      paused;
  int           priority;
  SoupMessage  *message;
  GInputStream *stream;
  GByteArray   *data;
  char         *local_file;     /* a .torrent on the server: never shown */
} AddJob;

static void
add_job_return (AddJob *job)
{
  _te_rpc_call_return (job->call);
  g_clear_object (&job->message);
  g_clear_object (&job->stream);
  g_clear_pointer (&job->data, g_byte_array_unref);
  g_free (job->save_path);
  g_free (job->local_file);
  g_free (job);
}

static void
add_job_fail (AddJob     *job,
              const char *message)
{
  _te_rpc_call_fail (job->call, "%s", message);
  add_job_return (job);
}

static void
describe (TeRpcCall  *call,
          const char *key,
          TeTorrent  *torrent)
{
  JsonObject *o = json_object_new ();
  g_autofree char *hash = te_torrent_dup_id (torrent);

  json_object_set_string_member (o, "hashString", hash);
  json_object_set_int_member (o, "id", te_transmission_rpc_get_torrent_id (call->rpc, torrent));
  json_object_set_string_member (o, "name", te_torrent_get_name (torrent));
  json_object_set_object_member (call->out, key, o);
}

static void
fill_options (AddJob       *job,
              TeAddOptions *options)
{
  te_add_options_init (options);
  options->save_path = job->save_path;
  options->paused = job->paused;
  options->priority = job->priority;
}

/* File numbers are checked against the torrent before it is added, so a bad
 * request adds nothing. */
static gboolean
check_files (TeRpcCall  *call,
             TeMetainfo *meta)
{
  static const char * const keys[] = {
    "files-unwanted", "files-wanted", "priority-high", "priority-normal", "priority-low",
  };
  g_autoptr(GArray) map = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    if (!(te_metainfo_get_file (meta, i)->attrs & TE_FILE_ATTR_PAD))
      g_array_append_val (map, i);
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      g_autoptr(GArray) indices = NULL;

      _te_rpc_file_indices (call, keys[k], map, &indices);
    }
  return call->result == NULL;
}

static void
add_metainfo (AddJob     *job,
              TeMetainfo *meta)
{
  TeTransmissionRpc *self = job->call->rpc;
  g_autofree char *hex = te_metainfo_has_v1 (meta) ? te_metainfo_dup_info_hash_hex (meta)
                                                   : te_metainfo_dup_info_hash_v2_hex (meta);
  TeTorrent *torrent = te_engine_find_torrent (self->engine, hex);
  g_autoptr(GError) error = NULL;
  TeAddOptions options;

  if (torrent != NULL)
    {
      describe (job->call, "torrent-duplicate", torrent);
      add_job_return (job);
      return;
    }
  if (!check_files (job->call, meta))
    {
      add_job_return (job);
      return;
    }
  fill_options (job, &options);
  torrent = te_engine_add_torrent_full (self->engine, meta, &options, NULL, &error);
  if (torrent == NULL)
    {
      add_job_fail (job, error->message);
      return;
    }
  _te_rpc_apply_files (job->call, _te_rpc_lookup (self, torrent));
  describe (job->call, "torrent-added", torrent);
  add_job_return (job);
}

/* Parsing, on a worker: a .torrent may be tens of megabytes. */

static void
parse_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;
  TeMetainfo *meta = te_metainfo_new_from_bytes (task_data, &error);

  if (meta)
    g_task_return_pointer (task, meta, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
parsed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AddJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMetainfo) meta = g_task_propagate_pointer (G_TASK (result), &error);

  if (meta == NULL)
    {
      g_autofree char *message = NULL;

      /* The parser's message can quote bytes of the file; a file on the
       * server may be anything, so only its name is given back. */
      if (job->local_file != NULL)
        message = g_strdup_printf ("invalid or corrupt torrent file: “%s” is not a torrent file",
                                   job->local_file);
      else
        message = g_strdup_printf ("invalid or corrupt torrent file: %s", error->message);

      add_job_fail (job, message);
      return;
    }
  add_metainfo (job, meta);
}

static void
parse_bytes (AddJob *job,
             GBytes *bytes)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, parsed_cb, job);

  g_task_set_source_tag (task, parse_bytes);
  g_task_set_task_data (task, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, parse_thread);
}

/* A .torrent on the server's disk */

/* One descriptor for the checks and the read: O_NOFOLLOW, so a link put in
 * place of the checked file is not followed; O_NONBLOCK, so opening a pipe
 * does not wait; and never more than a torrent file can hold, even when the
 * file grows after it was looked at. */
static void
read_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  const char *path = task_data;
  g_autoptr(GByteArray) data = NULL;
  struct stat st;
  int fd, err;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      err = errno;
      if (fd >= 0)
        close (fd);
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (err),
                               "cannot read “%s”: %s", path, g_strerror (err));
      return;
    }
  /* Devices and pipes could be read forever. */
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                               "“%s” is not a regular file", path);
      return;
    }
  if (st.st_size > TE_METAINFO_MAX_SIZE)
    {
      close (fd);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               "“%s” is larger than a torrent file can be", path);
      return;
    }
  data = g_byte_array_sized_new ((guint) st.st_size + 1);
  for (;;)
    {
      guint8 buf[FETCH_CHUNK];
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          err = errno;
          close (fd);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (err),
                                   "cannot read “%s”: %s", path, g_strerror (err));
          return;
        }
      if (n == 0)
        break;
      if (data->len + (gsize) n > TE_METAINFO_MAX_SIZE)
        {
          close (fd);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                   "“%s” is larger than a torrent file can be", path);
          return;
        }
      g_byte_array_append (data, buf, (guint) n);
    }
  close (fd);
  g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&data)),
                         (GDestroyNotify) g_bytes_unref);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AddJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_task_propagate_pointer (G_TASK (result), &error);

  if (bytes == NULL)
    {
      add_job_fail (job, error->message);
      return;
    }
  parse_bytes (job, bytes);
}

static void
read_file (AddJob     *job,
           const char *path)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *resolved = NULL;

  if (!g_path_is_absolute (path))
    {
      g_autofree char *message = g_strdup_printf ("“%s” is neither a URL, a magnet link nor an "
                                                  "absolute path on the server", path);

      add_job_fail (job, message);
      return;
    }
  /* Only files in the allowed roots: a client must not read the server's
   * other files, nor learn which exist. */
  resolved = te_remote_path_check (te_engine_get_settings (job->call->rpc->engine), "filename", path, &error);
  if (resolved == NULL)
    {
      add_job_fail (job, error->message);
      return;
    }
  job->local_file = g_strdup (path);
  task = g_task_new (NULL, NULL, read_cb, job);
  g_task_set_source_tag (task, read_file);
  g_task_set_task_data (task, g_steal_pointer (&resolved), g_free);
  g_task_run_in_thread (task, read_thread);
}

/* A .torrent over http(s), with a size limit */

static void fetch_read_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
fetch_read_more (AddJob *job)
{
  g_input_stream_read_bytes_async (job->stream, FETCH_CHUNK, G_PRIORITY_DEFAULT, NULL,
                                   fetch_read_cb, job);
}

static void
fetch_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AddJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  g_autoptr(GBytes) all = NULL;

  if (chunk == NULL)
    {
      g_autofree char *message = g_strdup_printf ("couldn't fetch torrent: %s", error->message);

      add_job_fail (job, message);
      return;
    }
  if (g_bytes_get_size (chunk) > 0)
    {
      if (job->data->len + g_bytes_get_size (chunk) > TE_METAINFO_MAX_SIZE)
        {
          add_job_fail (job, "couldn't fetch torrent: it is larger than a torrent file can be");
          return;
        }
      g_byte_array_append (job->data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      fetch_read_more (job);
      return;
    }
  all = g_byte_array_free_to_bytes (g_steal_pointer (&job->data));
  parse_bytes (job, all);
}

static void
fetch_sent_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AddJob *job = user_data;
  g_autoptr(GError) error = NULL;
  guint status;
  goffset length;

  g_clear_object (&job->message);
  job->stream = te_outbound_send_finish (result, &job->message, &error);
  if (job->stream == NULL)
    {
      g_autofree char *message = g_strdup_printf ("couldn't fetch torrent: %s", error->message);

      add_job_fail (job, message);
      return;
    }
  status = soup_message_get_status (job->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_autofree char *message = g_strdup_printf ("couldn't fetch torrent: HTTP %u %s", status,
                                                  soup_message_get_reason_phrase (job->message));

      add_job_fail (job, message);
      return;
    }
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (job->message));
  if (length > TE_METAINFO_MAX_SIZE)
    {
      add_job_fail (job, "couldn't fetch torrent: it is larger than a torrent file can be");
      return;
    }
  job->data = g_byte_array_new ();
  fetch_read_more (job);
}

static void
fetch (AddJob     *job,
       const char *url)
{
  TeTransmissionRpc *self = job->call->rpc;
  const char *cookies = _te_rpc_arg_string (job->call, "cookies");

  if (!self->allow_url_fetch)
    {
      add_job_fail (job, "adding torrents from URLs is turned off on this server");
      return;
    }
  job->message = soup_message_new (SOUP_METHOD_GET, url);
  if (job->message == NULL)
    {
      add_job_fail (job, "couldn't fetch torrent: the URL is not valid");
      return;
    }
  if (cookies && *cookies)
    soup_message_headers_replace (soup_message_get_request_headers (job->message), "Cookie", cookies);
  if (self->http == NULL)
    self->http = soup_session_new_with_options ("timeout", FETCH_TIMEOUT_S,
                                                "user-agent", PACKAGE_NAME "/" PACKAGE_VERSION,
                                                NULL);
  te_outbound_send_async (self->http, job->message, "server", NULL, fetch_sent_cb, job);
}

/* A magnet */

static void
add_magnet (AddJob     *job,
            const char *uri)
{
  TeTransmissionRpc *self = job->call->rpc;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMagnet) magnet = te_magnet_parse (uri, &error);
  g_autofree char *hex = NULL;
  TeTorrent *torrent;
  TeAddOptions options;

  if (magnet == NULL)
    {
      g_autofree char *message = g_strdup_printf ("invalid magnet link: %s", error->message);

      add_job_fail (job, message);
      return;
    }
  hex = magnet->has_v1 ? te_hex_encode (magnet->info_hash, 20) : te_hex_encode (magnet->info_hash_v2, 32);
  torrent = te_engine_find_torrent (self->engine, hex);
  if (torrent != NULL)
    {
      describe (job->call, "torrent-duplicate", torrent);
      add_job_return (job);
      return;
    }
  /* The files are not known before the metadata comes: per-file choices
   * cannot be applied to a magnet yet. */
  fill_options (job, &options);
  torrent = te_engine_add_magnet_full (self->engine, magnet, &options, &error);
  if (torrent == NULL)
    {
      add_job_fail (job, error->message);
      return;
    }
  describe (job->call, "torrent-added", torrent);
  add_job_return (job);
}

void
_te_rpc_torrent_add (TeRpcCall *call)
{
  TeTransmissionRpc *self = call->rpc;
  const char *filename = _te_rpc_arg_string (call, "filename");
  const char *metainfo = _te_rpc_arg_string (call, "metainfo");
  const char *dir = _te_rpc_arg_string (call, "download-dir");
  g_autofree char *save_path = NULL;
  gboolean paused = !self->start_added;
  gint64 priority = 0;
  AddJob *job;

  _te_rpc_arg_bool (call, "paused", &paused);
  if (_te_rpc_arg_int (call, "bandwidthPriority", &priority) && (priority < -1 || priority > 1))
    _te_rpc_call_fail (call, "“bandwidthPriority” must be -1, 0 or 1");
  _te_rpc_arg_string (call, "cookies");
  if (call->result == NULL && filename == NULL && metainfo == NULL)
    _te_rpc_call_fail (call, "no filename or metainfo specified");
  if (call->result == NULL && dir && !g_path_is_absolute (dir))
    _te_rpc_call_fail (call, "download directory path is not absolute");
  /* The folder must lie in the allowed roots; the resolved one is used. */
  if (call->result == NULL && dir)
    {
      g_autoptr(GError) error = NULL;

      save_path = te_remote_path_check (te_engine_get_settings (self->engine), "download-dir", dir, &error);
      if (save_path == NULL)
        _te_rpc_call_fail (call, "%s", error->message);
    }
  if (call->result)
    {
      _te_rpc_call_return (call);
      return;
    }

  job = g_new0 (AddJob, 1);
  job->call = call;
  job->save_path = g_steal_pointer (&save_path);
  job->paused = paused;
  job->priority = (int) priority;
  if (metainfo)
    {
      gsize length = 0;
      g_autoptr(GBytes) bytes = NULL;
      guchar *decoded;

      decoded = g_base64_decode (metainfo, &length);
      bytes = g_bytes_new_take (decoded, length);
      parse_bytes (job, bytes);
    }
  else if (g_str_has_prefix (filename, "magnet:"))
    add_magnet (job, filename);
  else if (g_ascii_strncasecmp (filename, "http://", 7) == 0
           || g_ascii_strncasecmp (filename, "https://", 8) == 0)
    fetch (job, filename);
  else
    read_file (job, filename);
}
