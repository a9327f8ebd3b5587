/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TE_STATE_ERROR (te_state_error_quark ())
GQuark te_state_error_quark (void);

/**
 * TeStateError:
 * @TE_STATE_ERROR_INVALID: a state document is malformed or misses a required field
 * @TE_STATE_ERROR_BAD_ID: an id is not a hex info-hash
 * @TE_STATE_ERROR_LOST: a torrent's state and every backup of it are unreadable
 */
typedef enum {
  TE_STATE_ERROR_INVALID,
  TE_STATE_ERROR_BAD_ID,
  TE_STATE_ERROR_LOST,
} TeStateError;

/**
 * TeStateRecord:
 * @id: the torrent's id (v1 info-hash in hex, or v2 when v2-only)
 * @document: the state document (see REFERENCE.md, "State file"); `NULL` when lost
 * @torrent: (nullable): the .torrent, when one was saved
 * @from_backup: the newest document was unreadable and a backup was used
 * @problem: (nullable): what was wrong with what could not be used
 */
typedef struct {
  char       *id;
  JsonObject *document;
  GBytes     *torrent;
  gboolean    from_backup;
  GError     *problem;
} TeStateRecord;

void te_state_record_free (TeStateRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeStateRecord, te_state_record_free)

gboolean te_state_id_is_valid          (const char  *id);
gboolean te_state_document_validate    (JsonObject  *document,
                                        GError     **error);

#define TE_TYPE_STATE_STORE (te_state_store_get_type ())
G_DECLARE_INTERFACE (TeStateStore, te_state_store, TE, STATE_STORE, GObject)

/**
 * TeStateStoreInterface:
 *
 * Where torrents' resume state lives. The embedded default keeps files
 * (#TeFileStateStore); other stores may keep it elsewhere, so nothing here
 * speaks of files. Saves of one id complete in the order they were made.
 */
struct _TeStateStoreInterface
{
  GTypeInterface parent_iface;

  void        (*save_async)     (TeStateStore        *self,
                                 const char          *id,
                                 JsonObject          *document,
                                 GBytes              *torrent,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
  gboolean    (*save_finish)    (TeStateStore        *self,
                                 GAsyncResult        *result,
                                 GError             **error);
  void        (*remove_async)   (TeStateStore        *self,
                                 const char          *id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
  gboolean    (*remove_finish)  (TeStateStore        *self,
                                 GAsyncResult        *result,
                                 GError             **error);
  void        (*list_async)     (TeStateStore        *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
  GStrv       (*list_finish)    (TeStateStore        *self,
                                 GAsyncResult        *result,
                                 GError             **error);
  void        (*load_async)     (TeStateStore        *self,
                                 const char * const  *ids,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
  GPtrArray * (*load_finish)    (TeStateStore        *self,
                                 GAsyncResult        *result,
                                 GError             **error);
};

void       te_state_store_save_async      (TeStateStore        *self,
                                           const char          *id,
                                           JsonObject          *document,
                                           GBytes              *torrent,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean   te_state_store_save_finish     (TeStateStore        *self,
                                           GAsyncResult        *result,
                                           GError             **error);
void       te_state_store_remove_async    (TeStateStore        *self,
                                           const char          *id,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean   te_state_store_remove_finish   (TeStateStore        *self,
                                           GAsyncResult        *result,
                                           GError             **error);
void       te_state_store_list_async      (TeStateStore        *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GStrv      te_state_store_list_finish     (TeStateStore        *self,
                                           GAsyncResult        *result,
                                           GError             **error);
void       te_state_store_load_async      (TeStateStore        *self,
                                           const char * const  *ids,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GPtrArray *te_state_store_load_finish     (TeStateStore        *self,
                                           GAsyncResult        *result,
                                           GError             **error);

G_END_DECLS
