/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-screenshot"

#include "config.h"

#include <glib/gi18n.h>

#include "te-screenshot.h"

/* A widget as it is on screen now, rendered with its window's renderer:
 * the screenshots of the metainfo and the GUI tests' checks of what is shown.
 * Built for the tests only: the installed app carries none of it. */

/**
 * te_screenshot_widget:
 * @widget: a mapped widget
 *
 * Returns: (transfer full) (nullable): the widget's pixels
 */
GdkTexture *
te_screenshot_widget (GtkWidget  *widget,
                      GError    **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  GtkNative *native;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  native = gtk_widget_get_native (widget);
  if (!gtk_widget_get_mapped (widget) || native == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is not on screen",
                   G_OBJECT_TYPE_NAME (widget));
      return NULL;
    }
  renderer = gtk_native_get_renderer (native);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s drew nothing", G_OBJECT_TYPE_NAME (widget));
      return NULL;
    }
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}
