/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-engine.h"
#include "te-state-store.h"

G_BEGIN_DECLS

#define TE_TYPE_STATE_MANAGER (te_state_manager_get_type ())
G_DECLARE_FINAL_TYPE (TeStateManager, te_state_manager, TE, STATE_MANAGER, GObject)

TeStateManager *te_state_manager_new             (TeEngine         *engine,
                                                  TeStateStore     *store);
gboolean        te_state_manager_is_saved        (TeStateManager   *self,
                                                  TeTorrent        *torrent);
void            te_state_manager_restore_async   (TeStateManager   *self,
                                                  GCancellable     *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer          user_data);
gboolean        te_state_manager_restore_finish  (TeStateManager   *self,
                                                  GAsyncResult     *result,
                                                  guint            *n_restored,
                                                  GError          **error);
void            te_state_manager_flush_async     (TeStateManager   *self,
                                                  GCancellable     *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer          user_data);
gboolean        te_state_manager_flush_finish    (TeStateManager   *self,
                                                  GAsyncResult     *result,
                                                  GError          **error);

JsonObject     *te_state_manager_build_document  (TeTorrent        *torrent,
                                                  JsonObject       *base);

G_END_DECLS
