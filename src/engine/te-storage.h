/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-bitfield.h"
#include "te-metainfo.h"
#include "te-parallel.h"

G_BEGIN_DECLS

#define TE_STORAGE_ERROR (te_storage_error_quark ())
GQuark te_storage_error_quark (void);

/**
 * TeStorageError:
 * @TE_STORAGE_ERROR_IO: an input/output error
 * @TE_STORAGE_ERROR_NO_SPACE: the disk is full
 * @TE_STORAGE_ERROR_PERMISSION: the path may not be written or read
 * @TE_STORAGE_ERROR_MISSING: a file is missing
 * @TE_STORAGE_ERROR_RANGE: a request lies outside the torrent
 * @TE_STORAGE_ERROR_REPLACED: another file took the place of one in use
 * @TE_STORAGE_ERROR_NO_DESCRIPTORS: the process has no descriptor left to open
 *   a file, even after closing idle ones; transient
 */
typedef enum {
  TE_STORAGE_ERROR_IO,
  TE_STORAGE_ERROR_NO_SPACE,
  TE_STORAGE_ERROR_PERMISSION,
  TE_STORAGE_ERROR_MISSING,
  TE_STORAGE_ERROR_RANGE,
  TE_STORAGE_ERROR_REPLACED,
  TE_STORAGE_ERROR_NO_DESCRIPTORS,
} TeStorageError;

/* Descriptors all storages of the process keep open between uses, unless
 * the descriptor budget (te-fd-budget.h) gives files less. Descriptors in use
 * at the same time may exceed it by one per worker thread. */
#define TE_STORAGE_DEFAULT_MAX_OPEN_FILES 128

typedef enum {
  TE_STORAGE_FLAGS_NONE        = 0,
  TE_STORAGE_FLAGS_READ_ONLY   = 1 << 0,
  TE_STORAGE_FLAGS_PREALLOCATE = 1 << 1,
} TeStorageFlags;

/**
 * TeRecheckResult:
 * @have: pieces whose data verified
 * @missing_files: paths (as in #TeFile) of files that do not exist
 */
typedef struct {
  TeBitfield *have;
  GStrv       missing_files;
} TeRecheckResult;

void te_recheck_result_free (TeRecheckResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeRecheckResult, te_recheck_result_free)

#define TE_TYPE_STORAGE (te_storage_get_type ())
G_DECLARE_FINAL_TYPE (TeStorage, te_storage, TE, STORAGE, GObject)

TeStorage       *te_storage_new                 (TeMetainfo      *metainfo,
                                                 const char      *save_path,
                                                 TeStorageFlags   flags);
TeMetainfo      *te_storage_get_metainfo        (TeStorage       *self);
char            *te_storage_dup_file_path       (TeStorage       *self,
                                                 guint            file_index);

/* Blocking; safe from any thread. Offsets are in the torrent's piece space. */
gboolean         te_storage_read                (TeStorage       *self,
                                                 guint64          offset,
                                                 guint8          *buf,
                                                 gsize            len,
                                                 GError         **error);
gboolean         te_storage_write               (TeStorage       *self,
                                                 guint64          offset,
                                                 const guint8    *buf,
                                                 gsize            len,
                                                 GError         **error);
gboolean         te_storage_hash_piece          (TeStorage       *self,
                                                 guint            piece,
                                                 guint8          *scratch,
                                                 gboolean        *valid,
                                                 GError         **error);
gboolean         te_storage_check_piece_data    (TeMetainfo      *metainfo,
                                                 guint            piece,
                                                 const guint8    *data);
void             te_storage_close_files         (TeStorage       *self);
gboolean         te_storage_has_open_files      (TeStorage       *self);
gboolean         te_storage_check_open_files    (TeStorage       *self,
                                                 gint64           idle_us,
                                                 GError         **error);

/* Asynchronous: the work runs on a worker thread, the callback on the caller's context. */
void             te_storage_write_block_async   (TeStorage          *self,
                                                 guint               piece,
                                                 guint32             begin,
                                                 GBytes             *data,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
gboolean         te_storage_write_block_finish  (TeStorage          *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
void             te_storage_read_block_async    (TeStorage          *self,
                                                 guint               piece,
                                                 guint32             begin,
                                                 guint32             length,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
GBytes          *te_storage_read_block_finish   (TeStorage          *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
void             te_storage_write_piece_async   (TeStorage          *self,
                                                 guint               piece,
                                                 GBytes             *data,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
gboolean         te_storage_write_piece_finish  (TeStorage          *self,
                                                 GAsyncResult       *result,
                                                 gboolean           *valid,
                                                 GError            **error);
void             te_storage_verify_piece_async  (TeStorage          *self,
                                                 guint               piece,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
gboolean         te_storage_verify_piece_finish (TeStorage          *self,
                                                 GAsyncResult       *result,
                                                 gboolean           *valid,
                                                 GError            **error);
void             te_storage_check_files_async   (TeStorage          *self,
                                                 const TeBitfield   *have,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
gboolean         te_storage_check_files_finish  (TeStorage          *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
void             te_storage_recheck_async       (TeStorage          *self,
                                                 TeProgressFunc      progress,
                                                 gpointer            progress_data,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
TeRecheckResult *te_storage_recheck_finish      (TeStorage          *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);

G_END_DECLS
