/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-api"

#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "te-api.h"
#include "te-json-scan.h"
#include "te-torrent.h"


G_DEFINE_QUARK (te-api-error-quark, te_api_error)

static const struct {
  guint       status;
  const char *name;
} error_kinds[] = {
  [TE_API_ERROR_BAD_REQUEST] = { 400, "bad_request" },
  [TE_API_ERROR_UNAUTHORIZED] = { 401, "unauthorized" },
  [TE_API_ERROR_FORBIDDEN] = { 403, "forbidden" },
  [TE_API_ERROR_NOT_FOUND] = { 404, "not_found" },
  [TE_API_ERROR_METHOD_NOT_ALLOWED] = { 405, "method_not_allowed" },
  [TE_API_ERROR_CONFLICT] = { 409, "conflict" },
  [TE_API_ERROR_TOO_LARGE] = { 413, "payload_too_large" },
  [TE_API_ERROR_UNSUPPORTED_MEDIA_TYPE] = { 415, "unsupported_media_type" },
  [TE_API_ERROR_INVALID] = { 422, "invalid_value" },
  [TE_API_ERROR_UPGRADE_REQUIRED] = { 426, "upgrade_required" },
  [TE_API_ERROR_TOO_MANY_REQUESTS] = { 429, "too_many_requests" },
};

/**
 * te_api_error_status:
 *
 * Returns: the HTTP status for @error; 422 for errors of other domains
 * (the engine refusing a value)
 */
guint
te_api_error_status (const GError *error)
{
  if (error->domain == TE_API_ERROR && error->code >= 0 && (gsize) error->code < G_N_ELEMENTS (error_kinds))
    return error_kinds[error->code].status;
  return 422;
}

const char *
te_api_error_name (const GError *error)
{
  if (error->domain == TE_API_ERROR && error->code >= 0 && (gsize) error->code < G_N_ELEMENTS (error_kinds))
    return error_kinds[error->code].name;
  return "invalid_value";
}

/* One object and nothing after it, nested no deeper than TE_API_MAX_DEPTH,
 * before json-glib sees the text (see te_json_scan()). */
static gboolean
check_shape (const char  *data,
             gsize        len,
             GError     **error)
{
  gsize i = 0;

  while (i < len && g_ascii_isspace (data[i]))
    i++;
  if (i == len || data[i] != '{')
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The body must be a JSON object");
      return FALSE;
    }
  switch (te_json_scan (data, len, TE_API_MAX_DEPTH))
    {
    case TE_JSON_SCAN_TOO_DEEP:
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                   "The body nests deeper than %d levels", TE_API_MAX_DEPTH);
      return FALSE;
    case TE_JSON_SCAN_TRAILING:
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST,
                           "The body is not valid JSON: text after the object");
      return FALSE;
    case TE_JSON_SCAN_OK:
    default:
      return TRUE;
    }
}

static gboolean
is_json_type (const char *content_type)
{
  g_autofree char *type = NULL;
  const char *semi;

  if (content_type == NULL)
    return FALSE;
  semi = strchr (content_type, ';');
  type = g_strstrip (g_ascii_strdown (content_type, semi ? semi - content_type : -1));
  return strcmp (type, "application/json") == 0;
}

/**
 * te_api_parse_object:
 * @content_type: (nullable): the request's Content-Type
 *
 * Parses a JSON object body: 415 unless it is `application/json`, 400 when
 * it is not UTF-8, not JSON, too deep, or not an object.
 *
 * Returns: (transfer full): the object
 */
JsonObject *
te_api_parse_object (const char  *content_type,
                     const char  *data,
                     gsize        len,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  JsonNode *root;

  if (!is_json_type (content_type))
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_UNSUPPORTED_MEDIA_TYPE,
                           "The body must be application/json");
      return NULL;
    }
  if (len == 0)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The body is empty");
      return NULL;
    }
  if (len > TE_API_MAX_BODY)
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_TOO_LARGE, "The body is too large");
      return NULL;
    }
  if (!g_utf8_validate_len (data, len, NULL))
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The body is not UTF-8");
      return NULL;
    }
  if (!check_shape (data, len, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, &local))
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The body is not valid JSON: %s",
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "The body must be a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static const char *
type_name (TeApiType type)
{
  switch (type)
    {
    case TE_API_STRING: return "a string";
    case TE_API_BOOL: return "true or false";
    case TE_API_INT: return "an integer";
    case TE_API_NUMBER: return "a number";
    case TE_API_ARRAY: return "an array";
    case TE_API_OBJECT: return "an object";
    default: g_assert_not_reached ();
    }
}

/* Whether @node holds a value of @type. */
gboolean
te_api_node_has_type (JsonNode  *node,
                      TeApiType  type)
{
  GType vt;

  switch (type)
    {
    case TE_API_ARRAY: return JSON_NODE_HOLDS_ARRAY (node);
    case TE_API_OBJECT: return JSON_NODE_HOLDS_OBJECT (node);
    default: break;
    }
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  vt = json_node_get_value_type (node);
  switch (type)
    {
    case TE_API_STRING: return vt == G_TYPE_STRING;
    case TE_API_BOOL: return vt == G_TYPE_BOOLEAN;
    case TE_API_INT: return vt == G_TYPE_INT64;
    case TE_API_NUMBER: return vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE;
    default: return FALSE;
    }
}

/**
 * te_api_check_fields:
 * @fields: known members, ending with an entry whose name is `NULL`
 *
 * Rejects members not in @fields (naming them all), members of the wrong
 * type, missing required members, and strings longer than 4 KiB.
 */
gboolean
te_api_check_fields (JsonObject       *object,
                     const TeApiField *fields,
                     GError          **error)
{
  g_autoptr(GString) unknown = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, &node))
    {
      const TeApiField *f = fields;

      while (f->name && strcmp (f->name, name) != 0)
        f++;
      if (f->name == NULL)
        {
          if (unknown == NULL)
            unknown = g_string_new (NULL);
          else
            g_string_append (unknown, ", ");
          g_string_append_printf (unknown, "“%s”", name);
          continue;
        }
      if (JSON_NODE_HOLDS_NULL (node) && f->nullable)
        continue;
      if (!te_api_node_has_type (node, f->type))
        {
          g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "“%s” must be %s%s", name,
                       type_name (f->type), f->nullable ? " or null" : "");
          return FALSE;
        }
      if (f->type == TE_API_STRING && strlen (json_node_get_string (node)) > TE_API_MAX_STRING)
        {
          g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "“%s” is too long", name);
          return FALSE;
        }
    }
  if (unknown)
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "Unknown fields: %s", unknown->str);
      return FALSE;
    }
  for (const TeApiField *f = fields; f->name; f++)
    if (f->required && !json_object_has_member (object, f->name))
      {
        g_set_error (error, TE_API_ERROR, TE_API_ERROR_BAD_REQUEST, "“%s” is required", f->name);
        return FALSE;
      }
  return TRUE;
}

/**
 * te_api_get_uint:
 *
 * Reads an integer member already checked by te_api_check_fields(); 422
 * when it is negative or above @max.
 */
gboolean
te_api_get_uint (JsonObject  *object,
                 const char  *name,
                 guint64      max,
                 guint64     *out,
                 GError     **error)
{
  gint64 v = json_object_get_int_member (object, name);

  if (v < 0 || (guint64) v > max)
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be between 0 and %" G_GUINT64_FORMAT,
                   name, max);
      return FALSE;
    }
  *out = (guint64) v;
  return TRUE;
}

/* Appends @s as a JSON string literal. */
void
te_api_append_string (GString    *out,
                      const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      guchar c = *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

/* Appends @len bytes as a string of lowercase hex digits. */
void
te_api_append_hex (GString      *out,
                   const guint8 *bytes,
                   gsize         len)
{
  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", bytes[i]);
  g_string_append_c (out, '"');
}

/* Appends a Unix time, or null when there is none (0 or less). */
void
te_api_append_time (GString *out,
                    gint64   t)
{
  if (t > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, t);
  else
    g_string_append (out, "null");
}
