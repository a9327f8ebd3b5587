/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-state-store.h"

G_BEGIN_DECLS

#define TE_FILE_STATE_STORE_BACKUPS 5

#define TE_TYPE_FILE_STATE_STORE (te_file_state_store_get_type ())
G_DECLARE_FINAL_TYPE (TeFileStateStore, te_file_state_store, TE, FILE_STATE_STORE, GObject)

TeFileStateStore *te_file_state_store_new      (const char       *directory);

G_END_DECLS
