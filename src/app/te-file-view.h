/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GtkWidget *te_file_view_new      (gboolean    show_progress);
void       te_file_view_set_tree (GtkWidget  *view,
                                  GListModel *root);

G_END_DECLS
