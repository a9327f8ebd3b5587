/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-parallel.h"

G_BEGIN_DECLS

#define TE_CREATOR_ERROR (te_creator_error_quark ())
GQuark te_creator_error_quark (void);

/**
 * TeCreatorError:
 * @TE_CREATOR_ERROR_NO_FILES: the source holds no data
 * @TE_CREATOR_ERROR_BAD_PIECE_SIZE: the requested piece size is not allowed
 * @TE_CREATOR_ERROR_BAD_NAME: a file name cannot go into a torrent
 * @TE_CREATOR_ERROR_CHANGED: a file changed size while it was hashed
 */
typedef enum {
  TE_CREATOR_ERROR_NO_FILES,
  TE_CREATOR_ERROR_BAD_PIECE_SIZE,
  TE_CREATOR_ERROR_BAD_NAME,
  TE_CREATOR_ERROR_CHANGED,
} TeCreatorError;

typedef enum {
  TE_TORRENT_V1     = 1 << 0,
  TE_TORRENT_V2     = 1 << 1,
  TE_TORRENT_HYBRID = TE_TORRENT_V1 | TE_TORRENT_V2,
} TeTorrentVersion;

#define TE_TYPE_CREATOR (te_creator_get_type ())
G_DECLARE_FINAL_TYPE (TeCreator, te_creator, TE, CREATOR, GObject)

TeCreator *te_creator_new               (const char          *path);
void       te_creator_set_version       (TeCreator           *self,
                                         TeTorrentVersion     version);
void       te_creator_set_piece_size    (TeCreator           *self,
                                         guint32              piece_size);
guint32    te_creator_get_piece_size    (TeCreator           *self);
void       te_creator_add_tracker_tier  (TeCreator           *self,
                                         const char * const  *urls);
void       te_creator_add_web_seed      (TeCreator           *self,
                                         const char          *url);
void       te_creator_set_private       (TeCreator           *self,
                                         gboolean             private_);
void       te_creator_set_comment       (TeCreator           *self,
                                         const char          *comment);
void       te_creator_set_source        (TeCreator           *self,
                                         const char          *source);
void       te_creator_set_creation_date (TeCreator           *self,
                                         gint64               date);

guint32    te_creator_pick_piece_size   (guint64              total_size);

void       te_creator_create_async      (TeCreator           *self,
                                         TeProgressFunc       progress,
                                         gpointer             progress_data,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
GBytes    *te_creator_create_finish     (TeCreator           *self,
                                         GAsyncResult        *result,
                                         GError             **error);

G_END_DECLS
