/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-api"

#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "te-api.h"
#include "te-json-scan.h"
#include "te-torrent.h"

/* The request bodies of the REST API, each checked field by field into a
 * plain struct: adding torrents (JSON or multipart), changing a torrent or
 * its files, logging in, trackers, peers, moves, speed settings. */

#define MAX_FILE_CHANGES 100000
#define MAX_PEERS 200

static gboolean
parse_queue_priority (const char  *name,
                      int         *out,
                      GError     **error)
{
  TeQueuePriority p;

  if (!te_queue_priority_from_string (name, &p))
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID,
                   "“priority” must be “high”, “normal” or “low”, not “%s”", name);
      return FALSE;
    }
  *out = p;
  return TRUE;
}

static gboolean
check_path (const char  *name,
            const char  *path,
            GError     **error)
{
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be an absolute path", name);
      return FALSE;
    }
  return TRUE;
}

void
te_api_add_request_clear (TeApiAddRequest *req)
{
  g_clear_pointer (&req->magnet, g_free);
  g_clear_pointer (&req->metainfo, g_bytes_unref);
  g_clear_pointer (&req->url, g_free);
  g_clear_pointer (&req->save_path, g_free);
  g_clear_pointer (&req->wanted, g_array_unref);
  g_clear_pointer (&req->peers, g_ptr_array_unref);
}

static gboolean
check_peer (const char  *s,
            GError     **error)
{
  g_autoptr(GSocketConnectable) addr = NULL;

  addr = g_network_address_parse (s, 0, NULL);
  if (addr == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (addr)) == 0
      || !g_hostname_is_ip_address (g_network_address_get_hostname (G_NETWORK_ADDRESS (addr))))
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID,
                   "“peers” entries must be IP:PORT ([IPv6]:PORT), not “%s”", s);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_api_parse_add:
 *
 * The JSON form of “add a torrent”: exactly one of `metainfo` (base64 of a
 * .torrent), `magnet` or `url`, and options.
 */
gboolean
te_api_parse_add (JsonObject       *object,
                  TeApiAddRequest  *req,
                  GError          **error)
{
  static const TeApiField fields[] = {
    TE_API_FIELD ("metainfo", TE_API_STRING), TE_API_FIELD ("magnet", TE_API_STRING), TE_API_FIELD ("url", TE_API_STRING),
    TE_API_FIELD ("savePath", TE_API_STRING), TE_API_FIELD ("paused", TE_API_BOOL), TE_API_FIELD ("priority", TE_API_STRING),
    TE_API_FIELD ("wanted", TE_API_ARRAY), TE_API_FIELD ("sequential", TE_API_BOOL), TE_API_FIELD ("peers", TE_API_ARRAY),
    TE_API_FIELD_END
  };
  guint sources = 0;

  memset (req, 0, sizeof *req);
  /* metainfo strings may be long: checked separately from the 4 KiB rule. */
  if (json_object_has_member (object, "metainfo"))
    {
      JsonNode *n = json_object_get_member (object, "metainfo");
      g_autoptr(JsonObject) rest = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *node;
      guchar *raw;
      gsize raw_len = 0;
      const char *s;

      if (!te_api_node_has_type (n, TE_API_STRING))
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "“metainfo” must be a string");
          return FALSE;
        }
      json_object_iter_init (&iter, object);
      while (json_object_iter_next (&iter, &name, &node))
        if (strcmp (name, "metainfo") != 0)
          json_object_set_member (rest, name, json_node_ref (node));
      if (!te_api_check_fields (rest, fields, error))
        return FALSE;
      s = json_node_get_string (n);
      for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=' && *p != '\n' && *p != '\r')
          {
            g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“metainfo” is not base64");
            return FALSE;
          }
      raw = g_base64_decode (s, &raw_len);
      if (raw_len == 0)
        {
          g_free (raw);
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“metainfo” is empty");
          return FALSE;
        }
      req->metainfo = g_bytes_new_take (raw, raw_len);
      sources++;
    }
  else if (!te_api_check_fields (object, fields, error))
    return FALSE;

  if (json_object_has_member (object, "magnet"))
    {
      req->magnet = g_strdup (json_object_get_string_member (object, "magnet"));
      sources++;
    }
  if (json_object_has_member (object, "url"))
    {
      const char *url = json_object_get_string_member (object, "url");
      g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0
                          && g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)
          || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“url” must be an http or https URL");
          return FALSE;
        }
      req->url = g_strdup (url);
      sources++;
    }
  if (sources != 1)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                           "Give exactly one of “metainfo”, “magnet” and “url”");
      return FALSE;
    }
  if (json_object_has_member (object, "savePath"))
    {
      const char *path = json_object_get_string_member (object, "savePath");

      if (!check_path ("savePath", path, error))
        return FALSE;
      req->save_path = g_strdup (path);
    }
  req->paused = json_object_get_boolean_member_with_default (object, "paused", FALSE);
  req->sequential = json_object_get_boolean_member_with_default (object, "sequential", FALSE);
  if (json_object_has_member (object, "priority")
      && !parse_queue_priority (json_object_get_string_member (object, "priority"), &req->priority, error))
    return FALSE;
  if (json_object_has_member (object, "wanted"))
    {
      JsonArray *a = json_object_get_array_member (object, "wanted");
      guint n = json_array_get_length (a);

      if (n > MAX_FILE_CHANGES)
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“wanted” has too many entries");
          return FALSE;
        }
      req->wanted = g_array_sized_new (FALSE, FALSE, sizeof (gboolean), n);
      for (guint i = 0; i < n; i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          gboolean w;

          if (!te_api_node_has_type (e, TE_API_BOOL))
            {
              g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                                   "“wanted” must be an array of true or false");
              return FALSE;
            }
          w = json_node_get_boolean (e);
          g_array_append_val (req->wanted, w);
        }
    }
  if (json_object_has_member (object, "peers"))
    {
      JsonArray *a = json_object_get_array_member (object, "peers");
      guint n = json_array_get_length (a);

      if (n > MAX_PEERS)
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“peers” has too many entries");
          return FALSE;
        }
      req->peers = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < n; i++)
        {
          JsonNode *e = json_array_get_element (a, i);

          if (!te_api_node_has_type (e, TE_API_STRING))
            {
              g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                                   "“peers” must be an array of strings");
              return FALSE;
            }
          if (!check_peer (json_node_get_string (e), error))
            return FALSE;
          g_ptr_array_add (req->peers, g_strdup (json_node_get_string (e)));
        }
    }
  return TRUE;
}

static gboolean
form_bool (const char  *name,
           const char  *value,
           gboolean    *out,
           GError     **error)
{
  if (strcmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out = TRUE;
  else if (strcmp (value, "false") == 0 || strcmp (value, "0") == 0)
    *out = FALSE;
  else
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be true or false", name);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_api_parse_add_multipart:
 *
 * The upload form of “add a torrent”: a `multipart/form-data` body with the
 * .torrent in the part named `torrent`, and optional text parts `savePath`,
 * `paused`, `priority` and `sequential`.
 */
gboolean
te_api_parse_add_multipart (const char       *content_type,
                            GBytes           *body,
                            TeApiAddRequest  *req,
                            GError          **error)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_MULTIPART);
  g_autoptr(GBytes) terminated = NULL;
  g_autoptr(SoupMultipart) multipart = NULL;
  gsize body_len = g_bytes_get_size (body);
  char *copy;
  int n;

  memset (req, 0, sizeof *req);
  /* libsoup 3.2 looks for the end of a part's headers with strstr(): give
   * it a terminating NUL so a part without one cannot make it read past
   * the body (found by fuzz-api). */
  copy = g_malloc (body_len + 1);
  if (body_len)
    memcpy (copy, g_bytes_get_data (body, NULL), body_len);
  copy[body_len] = '\0';
  terminated = g_bytes_new_take (copy, body_len);
  soup_message_headers_replace (headers, "Content-Type", content_type);
  multipart = soup_multipart_new_from_message (headers, terminated);
  if (multipart == NULL)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The multipart body is malformed");
      return FALSE;
    }
  n = soup_multipart_get_length (multipart);
  for (int i = 0; i < n; i++)
    {
      SoupMessageHeaders *part_headers;
      GBytes *part_body;
      g_autoptr(GHashTable) params = NULL;
      g_autofree char *value = NULL;
      const char *name;
      gsize len;
      const char *data;

      if (!soup_multipart_get_part (multipart, i, &part_headers, &part_body)
          || !soup_message_headers_get_content_disposition (part_headers, NULL, &params)
          || (name = g_hash_table_lookup (params, "name")) == NULL)
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "A form part has no name");
          return FALSE;
        }
      if (strcmp (name, "torrent") == 0)
        {
          if (req->metainfo || g_bytes_get_size (part_body) == 0)
            {
              g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                                   "Give one non-empty “torrent” part");
              return FALSE;
            }
          req->metainfo = g_bytes_ref (part_body);
          continue;
        }
      data = g_bytes_get_data (part_body, &len);
      if (len > TE_API_MAX_STRING || !g_utf8_validate_len (data, len, NULL))
        {
          g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The part “%s” is not short UTF-8 text", name);
          return FALSE;
        }
      value = g_strndup (data, len);
      if (strcmp (name, "savePath") == 0)
        {
          if (!check_path ("savePath", value, error))
            return FALSE;
          g_free (req->save_path);
          req->save_path = g_steal_pointer (&value);
        }
      else if (strcmp (name, "paused") == 0)
        {
          if (!form_bool (name, value, &req->paused, error))
            return FALSE;
        }
      else if (strcmp (name, "sequential") == 0)
        {
          if (!form_bool (name, value, &req->sequential, error))
            return FALSE;
        }
      else if (strcmp (name, "priority") == 0)
        {
          if (!parse_queue_priority (value, &req->priority, error))
            return FALSE;
        }
      else
        {
          g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "Unknown fields: “%s”", name);
          return FALSE;
        }
    }
  if (req->metainfo == NULL)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The form has no “torrent” part");
      return FALSE;
    }
  return TRUE;
}

/**
 * te_api_parse_torrent_patch:
 *
 * Queue position and priority, per-torrent limits (bytes/s, 0 none), seed
 * limits (`null` for the engine's, 0 for none) and modes.
 */
gboolean
te_api_parse_torrent_patch (JsonObject         *object,
                            TeApiTorrentPatch  *patch,
                            GError            **error)
{
  static const TeApiField fields[] = {
    TE_API_FIELD ("queuePosition", TE_API_INT), TE_API_FIELD ("priority", TE_API_STRING),
    TE_API_FIELD ("downloadLimit", TE_API_INT), TE_API_FIELD ("uploadLimit", TE_API_INT),
    TE_API_FIELD_NULLABLE ("seedRatioLimit", TE_API_NUMBER), TE_API_FIELD_NULLABLE ("seedTimeLimit", TE_API_INT),
    TE_API_FIELD ("sequential", TE_API_BOOL), TE_API_FIELD ("superSeeding", TE_API_BOOL),
    TE_API_FIELD_END
  };
  guint64 v;

  memset (patch, 0, sizeof *patch);
  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  if (json_object_get_size (object) == 0)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The body changes nothing");
      return FALSE;
    }
  if ((patch->has_queue_position = json_object_has_member (object, "queuePosition")))
    {
      if (!te_api_get_uint (object, "queuePosition", G_MAXINT32, &v, error))
        return FALSE;
      patch->queue_position = (guint) v;
    }
  if ((patch->has_priority = json_object_has_member (object, "priority"))
      && !parse_queue_priority (json_object_get_string_member (object, "priority"), &patch->priority, error))
    return FALSE;
  if ((patch->has_download_limit = json_object_has_member (object, "downloadLimit"))
      && !te_api_get_uint (object, "downloadLimit", G_MAXINT64, &patch->download_limit, error))
    return FALSE;
  if ((patch->has_upload_limit = json_object_has_member (object, "uploadLimit"))
      && !te_api_get_uint (object, "uploadLimit", G_MAXINT64, &patch->upload_limit, error))
    return FALSE;
  if ((patch->has_seed_ratio = json_object_has_member (object, "seedRatioLimit")))
    {
      if (json_object_get_null_member (object, "seedRatioLimit"))
        patch->seed_ratio = -1;
      else
        {
          patch->seed_ratio = json_object_get_double_member (object, "seedRatioLimit");
          if (!(patch->seed_ratio >= 0 && patch->seed_ratio <= 1e6))
            {
              g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID,
                                   "“seedRatioLimit” must be between 0 and 1000000");
              return FALSE;
            }
        }
    }
  if ((patch->has_seed_time = json_object_has_member (object, "seedTimeLimit")))
    {
      if (json_object_get_null_member (object, "seedTimeLimit"))
        patch->seed_time_ms = -1;
      else
        {
          /* Seconds in the API, milliseconds in the engine. */
          if (!te_api_get_uint (object, "seedTimeLimit", G_MAXINT64 / 1000, &v, error))
            return FALSE;
          patch->seed_time_ms = (gint64) v * 1000;
        }
    }
  if ((patch->has_sequential = json_object_has_member (object, "sequential")))
    patch->sequential = json_object_get_boolean_member (object, "sequential");
  if ((patch->has_super_seeding = json_object_has_member (object, "superSeeding")))
    patch->super_seeding = json_object_get_boolean_member (object, "superSeeding");
  return TRUE;
}

static gboolean
parse_file_priority (const char  *name,
                     int         *out,
                     GError     **error)
{
  if (strcmp (name, "high") == 0)
    *out = TE_PRIORITY_HIGH;
  else if (strcmp (name, "normal") == 0)
    *out = TE_PRIORITY_NORMAL;
  else if (strcmp (name, "low") == 0)
    *out = TE_PRIORITY_LOW;
  else
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID,
                   "File “priority” must be “high”, “normal” or “low”, not “%s”", name);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_api_parse_files_patch:
 *
 * `{ "files": [ { "index": N, "wanted": BOOL, "priority": "high|normal|low" } ] }`;
 * indexes are checked against the torrent by the caller.
 *
 * Returns: (transfer full): #TeApiFileChange entries
 */
GArray *
te_api_parse_files_patch (JsonObject  *object,
                          GError     **error)
{
  static const TeApiField fields[] = { TE_API_FIELD_REQUIRED ("files", TE_API_ARRAY), TE_API_FIELD_END };
  static const TeApiField entry_fields[] = {
    TE_API_FIELD_REQUIRED ("index", TE_API_INT), TE_API_FIELD ("wanted", TE_API_BOOL), TE_API_FIELD ("priority", TE_API_STRING), TE_API_FIELD_END
  };
  g_autoptr(GArray) changes = NULL;
  JsonArray *files;
  guint n;

  if (!te_api_check_fields (object, fields, error))
    return NULL;
  files = json_object_get_array_member (object, "files");
  n = json_array_get_length (files);
  if (n == 0 || n > MAX_FILE_CHANGES)
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“files” must have 1 to %d entries", MAX_FILE_CHANGES);
      return NULL;
    }
  changes = g_array_sized_new (FALSE, TRUE, sizeof (TeApiFileChange), n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (files, i);
      TeApiFileChange c = { 0 };
      JsonObject *o;
      guint64 index;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "“files” entries must be objects");
          return NULL;
        }
      o = json_node_get_object (e);
      if (!te_api_check_fields (o, entry_fields, error)
          || !te_api_get_uint (o, "index", G_MAXUINT32, &index, error))
        return NULL;
      c.index = (guint) index;
      if ((c.has_wanted = json_object_has_member (o, "wanted")))
        c.wanted = json_object_get_boolean_member (o, "wanted");
      if ((c.has_priority = json_object_has_member (o, "priority"))
          && !parse_file_priority (json_object_get_string_member (o, "priority"), &c.priority, error))
        return NULL;
      if (!c.has_wanted && !c.has_priority)
        {
          g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                               "A “files” entry must set “wanted” or “priority”");
          return NULL;
        }
      g_array_append_val (changes, c);
    }
  return g_steal_pointer (&changes);
}

gboolean
te_api_parse_login (JsonObject  *object,
                    char       **username,
                    char       **password,
                    GError     **error)
{
  static const TeApiField fields[] = {
    TE_API_FIELD_REQUIRED ("username", TE_API_STRING), TE_API_FIELD_REQUIRED ("password", TE_API_STRING), TE_API_FIELD_END
  };

  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  *username = g_strdup (json_object_get_string_member (object, "username"));
  *password = g_strdup (json_object_get_string_member (object, "password"));
  return TRUE;
}

gboolean
te_api_parse_tracker_add (JsonObject  *object,
                          char       **url,
                          int         *tier,
                          GError     **error)
{
  static const TeApiField fields[] = { TE_API_FIELD_REQUIRED ("url", TE_API_STRING), TE_API_FIELD ("tier", TE_API_INT), TE_API_FIELD_END };
  guint64 v;

  /* The URL itself is the engine's to judge (te_torrent_add_tracker()). */
  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  *tier = -1;
  if (json_object_has_member (object, "tier"))
    {
      if (!te_api_get_uint (object, "tier", 1000, &v, error))
        return FALSE;
      *tier = (int) v;
    }
  *url = g_strdup (json_object_get_string_member (object, "url"));
  return TRUE;
}

gboolean
te_api_parse_tracker_replace (JsonObject  *object,
                              char       **url,
                              char       **new_url,
                              GError     **error)
{
  static const TeApiField fields[] = {
    TE_API_FIELD_REQUIRED ("url", TE_API_STRING), TE_API_FIELD_REQUIRED ("newUrl", TE_API_STRING), TE_API_FIELD_END
  };

  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  *url = g_strdup (json_object_get_string_member (object, "url"));
  *new_url = g_strdup (json_object_get_string_member (object, "newUrl"));
  return TRUE;
}

gboolean
te_api_parse_peer_add (JsonObject  *object,
                       char       **address,
                       guint16     *port,
                       GError     **error)
{
  static const TeApiField fields[] = {
    TE_API_FIELD_REQUIRED ("address", TE_API_STRING), TE_API_FIELD_REQUIRED ("port", TE_API_INT), TE_API_FIELD_END
  };
  guint64 p;
  const char *a;

  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  a = json_object_get_string_member (object, "address");
  if (!g_hostname_is_ip_address (a))
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“address” must be an IP address");
      return FALSE;
    }
  if (!te_api_get_uint (object, "port", 65535, &p, error))
    return FALSE;
  if (p == 0)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“port” must be between 1 and 65535");
      return FALSE;
    }
  *address = g_strdup (a);
  *port = (guint16) p;
  return TRUE;
}

gboolean
te_api_parse_move (JsonObject  *object,
                   char       **save_path,
                   GError     **error)
{
  static const TeApiField fields[] = { TE_API_FIELD_REQUIRED ("savePath", TE_API_STRING), TE_API_FIELD_END };
  const char *path;

  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  path = json_object_get_string_member (object, "savePath");
  if (!check_path ("savePath", path, error))
    return FALSE;
  *save_path = g_strdup (path);
  return TRUE;
}

gboolean
te_api_parse_alt_speed (JsonObject  *object,
                        gboolean    *enabled,
                        GError     **error)
{
  static const TeApiField fields[] = { TE_API_FIELD_REQUIRED ("enabled", TE_API_BOOL), TE_API_FIELD_END };

  if (!te_api_check_fields (object, fields, error))
    return FALSE;
  *enabled = json_object_get_boolean_member (object, "enabled");
  return TRUE;
}
