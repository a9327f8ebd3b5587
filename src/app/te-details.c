/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-details"

#include "config.h"
#include "config-app.h"

#include <glib/gi18n.h>

#include "te-details-private.h"
#include "te-format.h"
#include "te-piece-map.h"

/* Everything about the selected torrent: an overview, its files, peers,
 * trackers and pieces. The page on screen is refreshed once a second; pages
 * not shown cost nothing. Files, peers and trackers are in te-details-lists.c. */

G_DEFINE_FINAL_TYPE (TeDetails, te_details, ADW_TYPE_BIN)

static const struct {
  const char *key;
  const char *title;
} overview_rows[] = {
  { "name", N_("Name") },
  { "state", N_("State") },
  { "progress", N_("Progress") },
  { "size", N_("Size") },
  { "downloaded", N_("Downloaded") },
  { "uploaded", N_("Uploaded") },
  { "ratio", N_("Ratio") },
  { "pieces", N_("Pieces") },
  { "hash", N_("Info Hash") },
  { "hash-v2", N_("Info Hash v2") },
  { "save-path", N_("Save Path") },
  { "added", N_("Added") },
  { "completed", N_("Completed") },
  { "comment", N_("Comment") },
  { "error", N_("Last Error") },
  { "action", N_("Action Taken") },
};

static void
set_value (TeDetails  *self,
           const char *key,
           const char *text)
{
  GtkLabel *label = g_hash_table_lookup (self->values, key);

  g_assert (label != NULL);
  if (g_strcmp0 (gtk_label_get_text (label), text) != 0)
    gtk_label_set_text (label, text);
}

static void
take_value (TeDetails  *self,
            const char *key,
            char       *text)
{
  set_value (self, key, text);
  g_free (text);
}

static const char *
action_text (TeErrorAction action)
{
  switch (action)
    {
    case TE_ERROR_ACTION_RETRY:
      return _("Trying again");
    case TE_ERROR_ACTION_SKIP:
      return _("Dropped the peer and went on");
    case TE_ERROR_ACTION_PAUSE:
      return _("Paused until you resume it");
    case TE_ERROR_ACTION_ABORT:
    default:
      return _("Stopped: the torrent cannot go on");
    }
}

static void
overview_refresh (TeDetails *self)
{
  TeTorrent *t = self->torrent;
  const TeErrorEvent *event;
  TeMetainfo *meta;
  TeTorrentStats stats;

  te_torrent_get_stats (t, &stats);
  meta = te_torrent_get_metainfo (t);
  set_value (self, "name", te_torrent_get_name (t));
  set_value (self, "state", te_format_state (te_torrent_get_state (t)));
  take_value (self, "progress", g_strdup_printf ("%.2f %%", 100.0 * te_torrent_get_progress (t)));
  {
    g_autofree char *total = te_format_size (te_torrent_get_total_size (t));
    g_autofree char *wanted = te_format_size (stats.wanted_bytes);

    /* Translators: total size, then what is wanted of it */
    take_value (self, "size", g_strdup_printf (_("%s (%s wanted)"), total, wanted));
  }
  {
    guint64 downloaded, uploaded;

    g_object_get (t, "downloaded", &downloaded, "uploaded", &uploaded, NULL);
    take_value (self, "downloaded", te_format_size (downloaded));
    take_value (self, "uploaded", te_format_size (uploaded));
  }
  take_value (self, "ratio", te_format_ratio (te_torrent_get_ratio (t)));
  take_value (self, "pieces", g_strdup_printf (_("%u of %u"), stats.pieces_have, stats.pieces_total));
  take_value (self, "hash", te_torrent_dup_id (t));
  take_value (self, "hash-v2", te_torrent_get_info_hash_v2 (t)
                               ? te_format_hex (te_torrent_get_info_hash_v2 (t), 32)
                               : g_strdup ("—"));
  set_value (self, "save-path", te_torrent_get_save_path (t));
  take_value (self, "added", te_format_time (te_torrent_get_added_at (t)));
  take_value (self, "completed", te_format_time (te_torrent_get_completed_at (t)));
  set_value (self, "comment", meta && te_metainfo_get_comment (meta) ? te_metainfo_get_comment (meta) : "—");

  /* The error that stopped it, else the latest one the engine handled. */
  event = te_torrent_get_error_event (t);
  if (event == NULL)
    event = self->last_event;
  if (event != NULL)
    {
      if (event->details != NULL)
        take_value (self, "error", g_strdup_printf ("%s (%s)", event->message, event->details));
      else
        set_value (self, "error", event->message);
      set_value (self, "action", action_text (event->action));
    }
  else
    {
      set_value (self, "error", _("None"));
      set_value (self, "action", "—");
    }
}

static void
refresh (TeDetails *self)
{
  const char *page;

  if (self->torrent == NULL)
    return;
  page = gtk_stack_get_visible_child_name (self->stack);
  if (g_strcmp0 (page, "overview") == 0)
    overview_refresh (self);
  else if (g_strcmp0 (page, "files") == 0)
    _te_details_files_refresh (self);
  else if (g_strcmp0 (page, "peers") == 0)
    _te_details_peers_refresh (self);
  else if (g_strcmp0 (page, "trackers") == 0)
    _te_details_trackers_refresh (self);
}

static gboolean
refresh_cb (gpointer user_data)
{
  refresh (user_data);
  return G_SOURCE_CONTINUE;
}

static void
page_changed_cb (TeDetails *self)
{
  refresh (self);
}

static void
error_cb (TeTorrent          *torrent,
          const TeErrorEvent *event,
          TeDetails          *self)
{
  g_clear_pointer (&self->last_event, te_error_event_free);
  self->last_event = te_error_event_copy (event);
}

static void
metadata_cb (TeTorrent *torrent,
             TeDetails *self)
{
  _te_details_files_reset (self);
}

void
te_details_set_engine (TeDetails *self,
                       TeEngine  *engine)
{
  g_return_if_fail (TE_IS_DETAILS (self));

  g_set_object (&self->engine, engine);
}

/**
 * te_details_set_torrent:
 * @torrent: (nullable): the torrent to show
 */
void
te_details_set_torrent (TeDetails *self,
                        TeTorrent *torrent)
{
  g_return_if_fail (TE_IS_DETAILS (self));

  if (self->torrent == torrent)
    return;
  if (self->torrent != NULL)
    g_signal_handlers_disconnect_by_data (self->torrent, self);
  g_clear_pointer (&self->last_event, te_error_event_free);
  g_set_object (&self->torrent, torrent);
  if (torrent != NULL)
    {
      g_signal_connect (torrent, "error", G_CALLBACK (error_cb), self);
      g_signal_connect (torrent, "metadata-received", G_CALLBACK (metadata_cb), self);
    }
  te_piece_map_set_torrent (TE_PIECE_MAP (self->piece_map), torrent);
  g_list_store_remove_all (self->peers);
  g_list_store_remove_all (self->trackers);
  _te_details_files_reset (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->stack), torrent != NULL);
  if (torrent == NULL)
    for (guint i = 0; i < G_N_ELEMENTS (overview_rows); i++)
      set_value (self, overview_rows[i].key, "");
  refresh (self);
}

/**
 * te_details_show_page:
 * @name: "overview", "files", "peers", "trackers" or "pieces"
 */
void
te_details_show_page (TeDetails  *self,
                      const char *name)
{
  g_return_if_fail (TE_IS_DETAILS (self));

  gtk_stack_set_visible_child_name (self->stack, name);
}

/**
 * te_details_get_peers:
 *
 * Returns: (transfer none): the peers table's rows, as last refreshed
 */
GListModel *
te_details_get_peers (TeDetails *self)
{
  return G_LIST_MODEL (self->peers);
}

static void
te_details_map (GtkWidget *widget)
{
  TeDetails *self = TE_DETAILS (widget);

  GTK_WIDGET_CLASS (te_details_parent_class)->map (widget);
  refresh (self);
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add_seconds (1, refresh_cb, self);
}

static void
te_details_unmap (GtkWidget *widget)
{
  TeDetails *self = TE_DETAILS (widget);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  GTK_WIDGET_CLASS (te_details_parent_class)->unmap (widget);
}

static void
te_details_dispose (GObject *object)
{
  TeDetails *self = TE_DETAILS (object);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (self->torrent != NULL)
    g_signal_handlers_disconnect_by_data (self->torrent, self);
  g_clear_object (&self->torrent);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->last_event, te_error_event_free);
  g_clear_object (&self->files_tree);
  g_clear_pointer (&self->file_leaves, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), TE_TYPE_DETAILS);
  g_clear_object (&self->peers);
  g_clear_object (&self->trackers);
  g_clear_pointer (&self->values, g_hash_table_unref);

  G_OBJECT_CLASS (te_details_parent_class)->dispose (object);
}

static void
te_details_class_init (TeDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = te_details_dispose;
  widget_class->map = te_details_map;
  widget_class->unmap = te_details_unmap;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torrentedge/TorrentEdge/te-details.ui");
  gtk_widget_class_bind_template_child (widget_class, TeDetails, stack);
  gtk_widget_class_bind_template_child (widget_class, TeDetails, overview_grid);
  gtk_widget_class_bind_template_child (widget_class, TeDetails, files_stack);
  gtk_widget_class_bind_template_child (widget_class, TeDetails, files_scroller);
  gtk_widget_class_bind_template_child (widget_class, TeDetails, peers_view);
  gtk_widget_class_bind_template_child (widget_class, TeDetails, trackers_view);
  gtk_widget_class_bind_template_child (widget_class, TeDetails, pieces_bin);
  gtk_widget_class_bind_template_callback (widget_class, page_changed_cb);
}

static void
te_details_init (TeDetails *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->values = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < G_N_ELEMENTS (overview_rows); i++)
    {
      GtkWidget *title = gtk_label_new (_(overview_rows[i].title));
      GtkWidget *value = gtk_label_new (NULL);

      gtk_label_set_xalign (GTK_LABEL (title), 1);
      gtk_widget_set_valign (title, GTK_ALIGN_START);
      gtk_widget_add_css_class (title, "dim-label");
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (value), PANGO_WRAP_WORD_CHAR);
      gtk_widget_set_hexpand (value, TRUE);
      gtk_label_set_mnemonic_widget (GTK_LABEL (title), value);
      gtk_grid_attach (self->overview_grid, title, 0, i, 1, 1);
      gtk_grid_attach (self->overview_grid, value, 1, i, 1, 1);
      g_hash_table_insert (self->values, (gpointer) overview_rows[i].key, value);
    }
  self->piece_map = te_piece_map_new ();
  adw_bin_set_child (self->pieces_bin, self->piece_map);
  _te_details_setup_lists (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->stack), FALSE);
}
