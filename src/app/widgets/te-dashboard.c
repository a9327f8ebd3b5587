/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-dashboard"

#include "config.h"

#include <glib/gi18n.h>

#include "te-dashboard.h"
#include "te-rate-graph.h"
#include "te-torrent.h"

/* The engine at a glance: five minutes of global rates, the session's
 * totals, the torrents by state, and the free space where downloads go.
 * Figures follow the engine's once-a-second notifications; the graph gets a
 * sample on a timer of its own so that quiet seconds are plotted too. Free
 * space is asked of GIO asynchronously every few seconds while shown. */

#define FREE_SPACE_INTERVAL_S 5

/* Display order of the state rows. */
static const TeTorrentState state_order[] = {
  TE_TORRENT_STATE_DOWNLOADING,
  TE_TORRENT_STATE_SEEDING,
  TE_TORRENT_STATE_QUEUED,
  TE_TORRENT_STATE_PAUSED,
  TE_TORRENT_STATE_CHECKING,
  TE_TORRENT_STATE_PENDING,
  TE_TORRENT_STATE_COMPLETE,
  TE_TORRENT_STATE_ERROR,
};
#define N_STATES G_N_ELEMENTS (state_order)

struct _TeDashboard
{
  AdwBin        parent_instance;

  TeEngine     *engine;
  GPtrArray    *watched;       /* torrents whose state-changed we follow */
  guint         sample_id;
  guint         free_space_id;
  guint         recount_id;
  GCancellable *free_space_cancellable;

  TeRateGraph  *rate_graph;
  GtkLabel     *download_rate_label;
  GtkLabel     *upload_rate_label;
  GtkLabel     *downloaded_label;
  GtkLabel     *uploaded_label;
  GtkLabel     *ratio_label;
  GtkLabel     *peers_label;
  GtkLabel     *free_space_label;
  AdwActionRow *free_space_row;
  AdwPreferencesGroup *states_group;
  GtkLabel     *state_labels[N_STATES];
  GtkLabel     *total_label;
};

enum {
  PROP_0,
  PROP_ENGINE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TeDashboard, te_dashboard, ADW_TYPE_BIN)

static const char *
state_title (TeTorrentState state)
{
  switch (state)
    {
    case TE_TORRENT_STATE_PENDING: return _("Fetching metadata");
    case TE_TORRENT_STATE_CHECKING: return _("Checking");
    case TE_TORRENT_STATE_QUEUED: return _("Queued");
    case TE_TORRENT_STATE_DOWNLOADING: return _("Downloading");
    case TE_TORRENT_STATE_SEEDING: return _("Seeding");
    case TE_TORRENT_STATE_PAUSED: return _("Paused");
    case TE_TORRENT_STATE_ERROR: return _("Failed");
    case TE_TORRENT_STATE_COMPLETE: return _("Finished");
    default: g_assert_not_reached ();
    }
}

static void
set_rate (GtkLabel *label,
          guint64   rate)
{
  g_autofree char *size = g_format_size (rate);
  /* TRANSLATORS: a transfer rate, like "1.2 MB/s" */
  g_autofree char *text = g_strdup_printf (_("%s/s"), size);

  gtk_label_set_label (label, text);
}

static void
set_size (GtkLabel *label,
          guint64   size)
{
  g_autofree char *text = g_format_size (size);

  gtk_label_set_label (label, text);
}

static void
update_figures (TeDashboard *self)
{
  TeEngineStats stats;
  g_autofree char *peers = NULL;
  g_autofree char *ratio = NULL;

  te_engine_get_stats (self->engine, &stats);
  set_rate (self->download_rate_label, stats.download_rate);
  set_rate (self->upload_rate_label, stats.upload_rate);
  set_size (self->downloaded_label, stats.downloaded);
  set_size (self->uploaded_label, stats.uploaded);
  peers = g_strdup_printf ("%u", stats.peers_connected);
  gtk_label_set_label (self->peers_label, peers);
  if (stats.downloaded > 0)
    ratio = g_strdup_printf ("%.2f", (double) stats.uploaded / (double) stats.downloaded);
  else
    /* TRANSLATORS: the ratio before anything was downloaded */
    ratio = g_strdup (stats.uploaded > 0 ? "∞" : C_("ratio", "None"));
  gtk_label_set_label (self->ratio_label, ratio);
}

static void
stats_notify_cb (TeEngine    *engine,
                 GParamSpec  *pspec,
                 TeDashboard *self)
{
  update_figures (self);
}

static gboolean
sample_cb (gpointer user_data)
{
  TeDashboard *self = user_data;
  TeEngineStats stats;

  te_engine_get_stats (self->engine, &stats);
  te_rate_graph_push (self->rate_graph, stats.download_rate, stats.upload_rate);
  return G_SOURCE_CONTINUE;
}

/* Torrents by state */

static void
recount (TeDashboard *self)
{
  guint counts[N_STATES] = { 0 };
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->engine));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TeTorrent) torrent = g_list_model_get_item (G_LIST_MODEL (self->engine), i);
      TeTorrentState state = te_torrent_get_state (torrent);

      for (guint s = 0; s < N_STATES; s++)
        if (state_order[s] == state)
          counts[s]++;
    }
  for (guint s = 0; s < N_STATES; s++)
    {
      g_autofree char *text = g_strdup_printf ("%u", counts[s]);

      gtk_label_set_label (self->state_labels[s], text);
    }
  {
    g_autofree char *text = g_strdup_printf ("%u", n);

    gtk_label_set_label (self->total_label, text);
  }
}

static gboolean
recount_cb (gpointer user_data)
{
  TeDashboard *self = user_data;

  self->recount_id = 0;
  recount (self);
  return G_SOURCE_REMOVE;
}

/* Many torrents change state together (a queue moving, a pause-all): count
 * once for the lot. */
static void
queue_recount (TeDashboard *self)
{
  if (self->recount_id == 0)
    self->recount_id = g_idle_add (recount_cb, self);
}

static void
state_changed_cb (TeTorrent      *torrent,
                  TeTorrentState  from,
                  TeTorrentState  to,
                  TeDashboard    *self)
{
  queue_recount (self);
}

static void
unwatch_all (TeDashboard *self)
{
  for (guint i = 0; i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (self->watched, i), state_changed_cb, self);
  g_ptr_array_set_size (self->watched, 0);
}

static void
items_changed_cb (GListModel  *model,
                  guint        position,
                  guint        removed,
                  guint        added,
                  TeDashboard *self)
{
  /* Follow exactly the torrents in the model, changing only the range that
   * changed: thousands of torrents arrive one items-changed at a time. */
  for (guint i = position; i < position + removed && i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (self->watched, i), state_changed_cb, self);
  g_ptr_array_remove_range (self->watched, position, MIN (removed, self->watched->len - position));
  for (guint i = 0; i < added; i++)
    {
      TeTorrent *torrent = g_list_model_get_item (model, position + i);

      g_signal_connect (torrent, "state-changed", G_CALLBACK (state_changed_cb), self);
      g_ptr_array_insert (self->watched, position + i, torrent);
    }
  queue_recount (self);
}

/* Free space */

static void
free_space_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_file_query_filesystem_info_finish (G_FILE (source), result, &error);
  TeDashboard *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = TE_DASHBOARD (user_data);
  g_clear_object (&self->free_space_cancellable);
  if (info == NULL || !g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE))
    {
      g_debug ("Free space of %s: %s", g_file_peek_path (G_FILE (source)),
               error ? error->message : "not reported");
      gtk_label_set_label (self->free_space_label, C_("free space", "Unknown"));
      return;
    }
  set_size (self->free_space_label,
            g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE));
}

static gboolean
query_free_space_cb (gpointer user_data)
{
  TeDashboard *self = user_data;
  const char *path = te_engine_get_settings (self->engine)->download_path;
  g_autoptr(GFile) file = NULL;

  /* One question at a time: a slow filesystem gets no pile of them. */
  if (self->free_space_cancellable != NULL)
    return G_SOURCE_CONTINUE;
  if (path == NULL)
    {
      gtk_label_set_label (self->free_space_label, C_("free space", "Unknown"));
      return G_SOURCE_CONTINUE;
    }
  adw_action_row_set_subtitle (self->free_space_row, path);
  file = g_file_new_for_path (path);
  self->free_space_cancellable = g_cancellable_new ();
  g_file_query_filesystem_info_async (file, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, G_PRIORITY_LOW,
                                      self->free_space_cancellable, free_space_cb, self);
  return G_SOURCE_CONTINUE;
}

static void
stop_free_space (TeDashboard *self)
{
  g_clear_handle_id (&self->free_space_id, g_source_remove);
  g_cancellable_cancel (self->free_space_cancellable);
  g_clear_object (&self->free_space_cancellable);
}

static void
te_dashboard_map (GtkWidget *widget)
{
  TeDashboard *self = TE_DASHBOARD (widget);

  GTK_WIDGET_CLASS (te_dashboard_parent_class)->map (widget);
  if (self->free_space_id == 0)
    {
      query_free_space_cb (self);
      self->free_space_id = g_timeout_add_seconds (FREE_SPACE_INTERVAL_S, query_free_space_cb, self);
    }
}

static void
te_dashboard_unmap (GtkWidget *widget)
{
  stop_free_space (TE_DASHBOARD (widget));
  GTK_WIDGET_CLASS (te_dashboard_parent_class)->unmap (widget);
}

static void
te_dashboard_constructed (GObject *object)
{
  TeDashboard *self = TE_DASHBOARD (object);

  G_OBJECT_CLASS (te_dashboard_parent_class)->constructed (object);

  g_assert (TE_IS_ENGINE (self->engine));
  g_signal_connect_object (self->engine, "notify::download-rate", G_CALLBACK (stats_notify_cb), self, 0);
  g_signal_connect_object (self->engine, "notify::upload-rate", G_CALLBACK (stats_notify_cb), self, 0);
  g_signal_connect_object (self->engine, "notify::downloaded", G_CALLBACK (stats_notify_cb), self, 0);
  g_signal_connect_object (self->engine, "notify::uploaded", G_CALLBACK (stats_notify_cb), self, 0);
  g_signal_connect_object (self->engine, "notify::peers-connected", G_CALLBACK (stats_notify_cb), self, 0);
  g_signal_connect_object (self->engine, "items-changed", G_CALLBACK (items_changed_cb), self, 0);
  items_changed_cb (G_LIST_MODEL (self->engine), 0, 0,
                    g_list_model_get_n_items (G_LIST_MODEL (self->engine)), self);
  recount (self);
  update_figures (self);
  self->sample_id = g_timeout_add_seconds (1, sample_cb, self);
}

static void
te_dashboard_dispose (GObject *object)
{
  TeDashboard *self = TE_DASHBOARD (object);

  stop_free_space (self);
  g_clear_handle_id (&self->sample_id, g_source_remove);
  g_clear_handle_id (&self->recount_id, g_source_remove);
  if (self->watched)
    unwatch_all (self);
  if (self->engine)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  gtk_widget_dispose_template (GTK_WIDGET (self), TE_TYPE_DASHBOARD);

  G_OBJECT_CLASS (te_dashboard_parent_class)->dispose (object);
}

static void
te_dashboard_finalize (GObject *object)
{
  TeDashboard *self = TE_DASHBOARD (object);

  g_clear_pointer (&self->watched, g_ptr_array_unref);

  G_OBJECT_CLASS (te_dashboard_parent_class)->finalize (object);
}

static void
te_dashboard_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TeDashboard *self = TE_DASHBOARD (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_dashboard_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TeDashboard *self = TE_DASHBOARD (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_dashboard_class_init (TeDashboardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = te_dashboard_constructed;
  object_class->dispose = te_dashboard_dispose;
  object_class->finalize = te_dashboard_finalize;
  object_class->get_property = te_dashboard_get_property;
  object_class->set_property = te_dashboard_set_property;
  widget_class->map = te_dashboard_map;
  widget_class->unmap = te_dashboard_unmap;

  /**
   * TeDashboard:engine:
   *
   * The engine whose figures are shown.
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL, TE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TE_TYPE_RATE_GRAPH);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/torrentedge/TorrentEdge/widgets/te-dashboard.ui");
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, rate_graph);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, download_rate_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, upload_rate_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, downloaded_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, uploaded_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, ratio_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, peers_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, free_space_label);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, free_space_row);
  gtk_widget_class_bind_template_child (widget_class, TeDashboard, states_group);
}

static GtkLabel *
add_count_row (TeDashboard *self,
               const char  *title,
               const char  *name)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new ("0");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_name (label, name);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_RELATION_LABELLED_BY, row, NULL, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  adw_preferences_group_add (self->states_group, row);
  return GTK_LABEL (label);
}

static void
te_dashboard_init (TeDashboard *self)
{
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint s = 0; s < N_STATES; s++)
    {
      g_autofree char *name = g_strconcat ("count-", te_torrent_state_to_string (state_order[s]), NULL);

      self->state_labels[s] = add_count_row (self, state_title (state_order[s]), name);
    }
  self->total_label = add_count_row (self, _("All torrents"), "count-all");
}

/**
 * te_dashboard_new:
 * @engine: the engine to show
 *
 * Creates a dashboard of @engine's figures.
 *
 * Returns: (transfer floating): a new [class@Dashboard]
 */
GtkWidget *
te_dashboard_new (TeEngine *engine)
{
  g_return_val_if_fail (TE_IS_ENGINE (engine), NULL);

  return g_object_new (TE_TYPE_DASHBOARD, "engine", engine, NULL);
}

/**
 * te_dashboard_get_engine:
 * @self: a [class@Dashboard]
 *
 * Returns: (transfer none): the engine shown
 */
TeEngine *
te_dashboard_get_engine (TeDashboard *self)
{
  g_return_val_if_fail (TE_IS_DASHBOARD (self), NULL);

  return self->engine;
}
