/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-window"

#include "config.h"

#include "te-window-private.h"

/* Drops onto the window: .torrent files from a file manager, magnet links
 * (or a list of them, one a line) as text from a browser. */

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         TeWindow      *self)
{
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = g_value_get_boxed (value);
      g_autoptr(GPtrArray) files = g_ptr_array_new ();

      for (GSList *l = list; l != NULL; l = l->next)
        g_ptr_array_add (files, l->data);
      te_window_open_files (self, (GFile **) files->pdata, files->len);
      return files->len > 0;
    }
  if (G_VALUE_HOLDS_STRING (value))
    {
      g_auto(GStrv) lines = g_strsplit (g_value_get_string (value), "\n", 64);
      gboolean any = FALSE;

      for (guint i = 0; lines[i] != NULL; i++)
        {
          char *line = g_strstrip (lines[i]);

          if (g_str_has_prefix (line, "magnet:?"))
            {
              te_window_add_magnet (self, line);
              any = TRUE;
            }
          else if (g_str_has_prefix (line, "file://") && g_str_has_suffix (line, ".torrent"))
            {
              g_autoptr(GFile) file = g_file_new_for_uri (line);

              te_window_open_files (self, &file, 1);
              any = TRUE;
            }
        }
      return any;
    }
  return FALSE;
}

void
_te_window_setup_dnd (TeWindow *self)
{
  GtkDropTarget *target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_STRING };

  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}
