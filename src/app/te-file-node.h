/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-metainfo.h"
#include "te-picker.h"

G_BEGIN_DECLS

#define TE_TYPE_FILE_NODE (te_file_node_get_type ())
G_DECLARE_FINAL_TYPE (TeFileNode, te_file_node, TE, FILE_NODE, GObject)

GListStore *te_file_node_build_tree     (TeMetainfo  *metainfo,
                                         GPtrArray  **leaves);
const char *te_file_node_get_name       (TeFileNode  *self);
guint64     te_file_node_get_size       (TeFileNode  *self);
double      te_file_node_get_progress   (TeFileNode  *self);
int         te_file_node_get_index      (TeFileNode  *self);
GListModel *te_file_node_get_children   (TeFileNode  *self);
gboolean    te_file_node_get_wanted     (TeFileNode  *self);
gboolean    te_file_node_get_inconsistent (TeFileNode *self);
void        te_file_node_set_wanted     (TeFileNode  *self,
                                         gboolean     wanted);
TePriority  te_file_node_get_priority   (TeFileNode  *self);
void        te_file_node_set_priority   (TeFileNode  *self,
                                         TePriority   priority);
void        te_file_node_set_have       (TeFileNode  *self,
                                         guint64      have_bytes);

G_END_DECLS
