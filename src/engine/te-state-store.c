/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-state"

#include "config.h"

#include <string.h>

#include "te-state-store.h"

G_DEFINE_QUARK (te-state-error-quark, te_state_error)
G_DEFINE_INTERFACE (TeStateStore, te_state_store, G_TYPE_OBJECT)

static void
te_state_store_default_init (TeStateStoreInterface *iface)
{
}

void
te_state_record_free (TeStateRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_clear_pointer (&record->document, json_object_unref);
  g_clear_pointer (&record->torrent, g_bytes_unref);
  g_clear_error (&record->problem);
  g_free (record);
}

/**
 * te_state_id_is_valid:
 *
 * Ids are info-hashes in lowercase hex (40 or 64 digits): nothing else may
 * name a stored record, so an id can never become a path outside the store.
 */
gboolean
te_state_id_is_valid (const char *id)
{
  gsize len;

  if (id == NULL)
    return FALSE;
  len = strlen (id);
  if (len != 40 && len != 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
      return FALSE;
  return TRUE;
}

static gboolean
invalid (GError    **error,
         const char *field,
         const char *why)
{
  g_set_error (error, TE_STATE_ERROR, TE_STATE_ERROR_INVALID, "Field \"%s\" %s", field, why);
  return FALSE;
}

static gboolean
require_int (JsonObject  *doc,
             const char  *field,
             gint64      *out,
             GError     **error)
{
  JsonNode *n = json_object_get_member (doc, field);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return invalid (error, field, "is missing or not an integer");
  *out = json_node_get_int (n);
  if (*out < 0)
    return invalid (error, field, "is negative");
  return TRUE;
}

static const char *
optional_string (JsonObject *doc,
                 const char *field,
                 gboolean   *ok)
{
  JsonNode *n = json_object_get_member (doc, field);

  *ok = TRUE;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      *ok = FALSE;
      return NULL;
    }
  return json_node_get_string (n);
}

/**
 * te_state_document_validate:
 *
 * Checks the fields a resume needs (REFERENCE.md, "State file"). Unknown
 * fields are allowed and must be kept by whoever rewrites the document.
 */
gboolean
te_state_document_validate (JsonObject  *doc,
                            GError     **error)
{
  static const char * const states[] = {
    "pending", "checking", "queued", "downloading", "seeding", "paused", "error", "complete", NULL,
  };
  gint64 version, total_pieces, completed, v;
  gboolean ok1, ok2, ok3, ok4;
  const char *v1 = optional_string (doc, "infoHash", &ok1);
  const char *v2 = optional_string (doc, "infoHashV2", &ok2);
  const char *state = optional_string (doc, "state", &ok3);
  const char *bitfield = optional_string (doc, "bitfield", &ok4);
  gboolean ok;
  gsize len = 0;
  g_autofree guchar *bits = NULL;
  JsonNode *files;

  if (!require_int (doc, "version", &version, error))
    return FALSE;
  if (version != 1)
    return invalid (error, "version", "is not 1");
  if (!ok1 || !ok2 || (v1 == NULL && v2 == NULL)
      || (v1 && (strlen (v1) != 40 || !te_state_id_is_valid (v1)))
      || (v2 && (strlen (v2) != 64 || !te_state_id_is_valid (v2))))
    return invalid (error, "infoHash", "is missing or not a hex info-hash");
  if (optional_string (doc, "name", &ok) == NULL)
    return invalid (error, "name", "is missing or not a string");
  if (optional_string (doc, "savePath", &ok) == NULL)
    return invalid (error, "savePath", "is missing or not a string");
  if (!ok3 || state == NULL || !g_strv_contains (states, state))
    return invalid (error, "state", "is missing or not a known state");
  if (!require_int (doc, "totalSize", &v, error) || !require_int (doc, "pieceLength", &v, error)
      || !require_int (doc, "totalPieces", &total_pieces, error)
      || !require_int (doc, "completedPieces", &completed, error)
      || !require_int (doc, "addedAt", &v, error))
    return FALSE;
  if (!ok4 || bitfield == NULL)
    return invalid (error, "bitfield", "is missing or not a string");
  bits = g_base64_decode (bitfield, &len);
  if ((gint64) len != (total_pieces + 7) / 8)
    return invalid (error, "bitfield", "does not have one bit per piece");
  {
    gint64 count = 0;

    for (gsize i = 0; i < len; i++)
      count += __builtin_popcount (bits[i]);
    if (count != completed)
      return invalid (error, "completedPieces", "does not match the bitfield");
  }
  files = json_object_get_member (doc, "files");
  if (files == NULL || !JSON_NODE_HOLDS_ARRAY (files))
    return invalid (error, "files", "is missing or not an array");
  return TRUE;
}

void
te_state_store_save_async (TeStateStore        *self,
                           const char          *id,
                           JsonObject          *document,
                           GBytes              *torrent,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (TE_IS_STATE_STORE (self));
  TE_STATE_STORE_GET_IFACE (self)->save_async (self, id, document, torrent, cancellable,
                                               callback, user_data);
}

gboolean
te_state_store_save_finish (TeStateStore  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return TE_STATE_STORE_GET_IFACE (self)->save_finish (self, result, error);
}

/**
 * te_state_store_list_async:
 *
 * Lists the ids of every stored torrent, for te_state_store_load_async() a
 * few at a time: a large session is restored without holding all of its
 * documents at once.
 */
void
te_state_store_list_async (TeStateStore        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (TE_IS_STATE_STORE (self));
  TE_STATE_STORE_GET_IFACE (self)->list_async (self, cancellable, callback, user_data);
}

/**
 * te_state_store_list_finish:
 *
 * Returns: (transfer full): the ids, sorted
 */
GStrv
te_state_store_list_finish (TeStateStore  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return TE_STATE_STORE_GET_IFACE (self)->list_finish (self, result, error);
}

/**
 * te_state_store_load_async:
 * @ids: (array zero-terminated=1): ids from te_state_store_list_finish()
 */
void
te_state_store_load_async (TeStateStore        *self,
                           const char * const  *ids,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (TE_IS_STATE_STORE (self));
  g_return_if_fail (ids != NULL);
  TE_STATE_STORE_GET_IFACE (self)->load_async (self, ids, cancellable, callback, user_data);
}

/**
 * te_state_store_load_finish:
 *
 * Returns: (transfer full) (element-type TeStateRecord): a record for each
 *   id, in their order; one without a document (problem set) when its state
 *   is lost or gone
 */
GPtrArray *
te_state_store_load_finish (TeStateStore  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return TE_STATE_STORE_GET_IFACE (self)->load_finish (self, result, error);
}

void
te_state_store_remove_async (TeStateStore        *self,
                             const char          *id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (TE_IS_STATE_STORE (self));
  TE_STATE_STORE_GET_IFACE (self)->remove_async (self, id, cancellable, callback, user_data);
}

gboolean
te_state_store_remove_finish (TeStateStore  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return TE_STATE_STORE_GET_IFACE (self)->remove_finish (self, result, error);
}
