/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GdkTexture *te_screenshot_widget (GtkWidget   *widget,
                                  GError     **error);

G_END_DECLS
