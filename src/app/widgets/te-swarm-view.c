/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-swarm-view"

#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "te-swarm-view-private.h"

/* A live picture of the selected torrent's peers around us. The peer list is
 * read once a second while the widget is on screen; between reads, the
 * frame clock drives fades, settling and the flow of data along the edges.
 * There is no frame callback while unmapped or while nothing moves, so an
 * idle or hidden swarm view costs nothing. */

#define REFRESH_S 1
#define MAX_STEP_S 0.1
#define MIN_ZOOM 0.3
#define MAX_ZOOM 8.0

enum {
  PROP_0,
  PROP_TORRENT,
  PROP_COLOR_MODE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ENUM_TYPE (TeSwarmColorMode, te_swarm_color_mode,
                    G_DEFINE_ENUM_VALUE (TE_SWARM_COLOR_STATE, "state"),
                    G_DEFINE_ENUM_VALUE (TE_SWARM_COLOR_CLIENT, "client"))

G_DEFINE_FINAL_TYPE (TeSwarmView, te_swarm_view, GTK_TYPE_WIDGET)

static void
update_description (TeSwarmView *self)
{
  guint peers = 0, from = 0, to = 0;
  g_autofree char *text = NULL;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);

      if (node->departing)
        continue;
      peers++;
      from += node->download_rate > 0;
      to += node->upload_rate > 0;
    }
  /* TRANSLATORS: how screen readers describe the swarm view */
  text = g_strdup_printf (_("Swarm: %u peers connected, downloading from %u, uploading to %u"),
                          peers, from, to);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  TeSwarmView *self = TE_SWARM_VIEW (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  double dt = self->last_frame_us ? (now - self->last_frame_us) / (double) G_USEC_PER_SEC : 0;
  gboolean more;

  self->last_frame_us = now;
  more = _te_swarm_view_step (self, CLAMP (dt, 0, MAX_STEP_S));
  gtk_widget_queue_draw (widget);
  if (more)
    return G_SOURCE_CONTINUE;
  self->tick_id = 0;
  return G_SOURCE_REMOVE;
}

static void
ensure_tick (TeSwarmView *self)
{
  if (self->tick_id != 0 || !gtk_widget_get_mapped (GTK_WIDGET (self))
      || !_te_swarm_view_needs_tick (self))
    return;
  self->last_frame_us = 0;
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
}

static void
stop_tick (TeSwarmView *self)
{
  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
  self->tick_id = 0;
}

/**
 * te_swarm_view_refresh:
 * @self: a [class@SwarmView]
 *
 * Reads the torrent's peers now rather than at the next one-second refresh.
 */
void
te_swarm_view_refresh (TeSwarmView *self)
{
  g_autoptr(GPtrArray) peers = NULL;

  g_return_if_fail (TE_IS_SWARM_VIEW (self));

  if (self->torrent)
    peers = te_torrent_dup_peers (self->torrent);
  _te_swarm_view_update (self, peers);
  update_description (self);
  ensure_tick (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
refresh_cb (gpointer user_data)
{
  te_swarm_view_refresh (user_data);
  return G_SOURCE_CONTINUE;
}

static void
te_swarm_view_map (GtkWidget *widget)
{
  TeSwarmView *self = TE_SWARM_VIEW (widget);

  GTK_WIDGET_CLASS (te_swarm_view_parent_class)->map (widget);
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add_seconds (REFRESH_S, refresh_cb, self);
  te_swarm_view_refresh (self);
}

static void
te_swarm_view_unmap (GtkWidget *widget)
{
  TeSwarmView *self = TE_SWARM_VIEW (widget);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  stop_tick (self);
  GTK_WIDGET_CLASS (te_swarm_view_parent_class)->unmap (widget);
}

static gboolean
te_swarm_view_query_tooltip (GtkWidget  *widget,
                             int         x,
                             int         y,
                             gboolean    keyboard_mode,
                             GtkTooltip *tooltip)
{
  TeSwarmView *self = TE_SWARM_VIEW (widget);
  TeSwarmNode *node = _te_swarm_view_pick (self, x, y);
  g_autofree char *down = NULL, *up = NULL, *markup = NULL;
  double sx, sy, r;

  if (node == NULL)
    return FALSE;
  down = g_format_size (node->download_rate);
  up = g_format_size (node->upload_rate);
  /* TRANSLATORS: a peer's details; flags are Transmission's letters */
  markup = g_markup_printf_escaped (_("<b>%s</b> port %u\n"
                                      "Client: %s\n"
                                      "Flags: %s\n"
                                      "Download: %s/s\n"
                                      "Upload: %s/s\n"
                                      "Progress: %.1f%%"),
                                    node->address, node->port,
                                    node->client ? node->client : "",
                                    node->flags, down, up, node->progress * 100);
  gtk_tooltip_set_markup (tooltip, markup);
  _te_swarm_view_to_screen (self, node->x, node->y, &sx, &sy);
  r = node->radius * CLAMP (_te_swarm_view_scale (self), 0.6, 2.5) + 4;
  gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { sx - r, sy - r, 2 * r, 2 * r });
  return TRUE;
}

static void
motion_cb (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           TeSwarmView              *self)
{
  TeSwarmNode *node = _te_swarm_view_pick (self, x, y);

  self->pointer_x = x;
  self->pointer_y = y;
  if (node != self->hover)
    {
      self->hover = node;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion,
          TeSwarmView              *self)
{
  if (self->hover != NULL)
    {
      self->hover = NULL;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

/* Zooms keeping the world point under (@px, @py) where it is. */
static void
zoom_at (TeSwarmView *self,
         double       zoom,
         double       px,
         double       py)
{
  double cx = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  double cy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
  double factor;

  zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  factor = zoom / self->zoom;
  self->pan_x = px - cx - (px - cx - self->pan_x) * factor;
  self->pan_y = py - cy - (py - cy - self->pan_y) * factor;
  self->zoom = zoom;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll,
           double                    dx,
           double                    dy,
           TeSwarmView              *self)
{
  zoom_at (self, self->zoom * pow (1.15, -dy), self->pointer_x, self->pointer_y);
  return GDK_EVENT_STOP;
}

static void
zoom_begin_cb (GtkGesture       *gesture,
               GdkEventSequence *sequence,
               TeSwarmView      *self)
{
  self->zoom_begin = self->zoom;
}

static void
zoom_scale_changed_cb (GtkGestureZoom *gesture,
                       double          scale,
                       TeSwarmView    *self)
{
  double x, y;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  zoom_at (self, self->zoom_begin * scale, x, y);
}

static void
drag_begin_cb (GtkGestureDrag *gesture,
               double          x,
               double          y,
               TeSwarmView    *self)
{
  self->pan_begin_x = self->pan_x;
  self->pan_begin_y = self->pan_y;
}

static void
drag_update_cb (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                TeSwarmView    *self)
{
  self->pan_x = self->pan_begin_x + dx;
  self->pan_y = self->pan_begin_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
key_pressed_cb (GtkEventControllerKey *key,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                TeSwarmView           *self)
{
  double cx = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  double cy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;

  switch (keyval)
    {
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      zoom_at (self, self->zoom * 1.25, cx, cy);
      return GDK_EVENT_STOP;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      zoom_at (self, self->zoom / 1.25, cx, cy);
      return GDK_EVENT_STOP;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
      te_swarm_view_reset_view (self);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

static void
te_swarm_view_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  *minimum = 160;
  *natural = 420;
}

static void
te_swarm_view_dispose (GObject *object)
{
  TeSwarmView *self = TE_SWARM_VIEW (object);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  stop_tick (self);
  g_clear_object (&self->torrent);

  G_OBJECT_CLASS (te_swarm_view_parent_class)->dispose (object);
}

static void
te_swarm_view_finalize (GObject *object)
{
  TeSwarmView *self = TE_SWARM_VIEW (object);

  g_clear_pointer (&self->by_key, g_hash_table_unref);
  g_clear_pointer (&self->nodes, g_ptr_array_unref);

  G_OBJECT_CLASS (te_swarm_view_parent_class)->finalize (object);
}

static void
te_swarm_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TeSwarmView *self = TE_SWARM_VIEW (object);

  switch (prop_id)
    {
    case PROP_TORRENT:
      g_value_set_object (value, self->torrent);
      break;
    case PROP_COLOR_MODE:
      g_value_set_enum (value, self->color_mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_swarm_view_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  TeSwarmView *self = TE_SWARM_VIEW (object);

  switch (prop_id)
    {
    case PROP_TORRENT:
      te_swarm_view_set_torrent (self, g_value_get_object (value));
      break;
    case PROP_COLOR_MODE:
      te_swarm_view_set_color_mode (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_swarm_view_class_init (TeSwarmViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = te_swarm_view_dispose;
  object_class->finalize = te_swarm_view_finalize;
  object_class->get_property = te_swarm_view_get_property;
  object_class->set_property = te_swarm_view_set_property;
  widget_class->snapshot = _te_swarm_view_snapshot;
  widget_class->measure = te_swarm_view_measure;
  widget_class->map = te_swarm_view_map;
  widget_class->unmap = te_swarm_view_unmap;
  widget_class->query_tooltip = te_swarm_view_query_tooltip;

  /**
   * TeSwarmView:torrent: (nullable)
   *
   * The torrent whose peers are shown.
   */
  properties[PROP_TORRENT] =
    g_param_spec_object ("torrent", NULL, NULL, TE_TYPE_TORRENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TeSwarmView:color-mode:
   *
   * Whether peers are coloured by choke and interest state or by client.
   */
  properties[PROP_COLOR_MODE] =
    g_param_spec_enum ("color-mode", NULL, NULL, TE_TYPE_SWARM_COLOR_MODE, TE_SWARM_COLOR_STATE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "swarmview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
te_swarm_view_init (TeSwarmView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *controller;
  GtkGesture *gesture;

  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) _te_swarm_node_free);
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  self->zoom = 1.0;

  gtk_widget_set_has_tooltip (widget, TRUE);
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (widget, controller);

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect (gesture, "begin", G_CALLBACK (zoom_begin_cb), self);
  g_signal_connect (gesture, "scale-changed", G_CALLBACK (zoom_scale_changed_cb), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_drag_new ();
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (widget, controller);

  update_description (self);
}

/**
 * te_swarm_view_new:
 *
 * Creates a view of a torrent's swarm.
 *
 * Returns: (transfer floating): a new [class@SwarmView]
 */
GtkWidget *
te_swarm_view_new (void)
{
  return g_object_new (TE_TYPE_SWARM_VIEW, NULL);
}

/**
 * te_swarm_view_set_torrent:
 * @self: a [class@SwarmView]
 * @torrent: (nullable): the torrent whose peers to show
 *
 * Shows @torrent's swarm; the previous torrent's peers go at once.
 */
void
te_swarm_view_set_torrent (TeSwarmView *self,
                           TeTorrent   *torrent)
{
  g_return_if_fail (TE_IS_SWARM_VIEW (self));
  g_return_if_fail (torrent == NULL || TE_IS_TORRENT (torrent));

  if (!g_set_object (&self->torrent, torrent))
    return;
  self->hover = NULL;
  g_hash_table_remove_all (self->by_key);
  g_ptr_array_set_size (self->nodes, 0);
  te_swarm_view_reset_view (self);
  te_swarm_view_refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TORRENT]);
}

/**
 * te_swarm_view_get_torrent:
 * @self: a [class@SwarmView]
 *
 * Returns: (nullable) (transfer none): the torrent shown
 */
TeTorrent *
te_swarm_view_get_torrent (TeSwarmView *self)
{
  g_return_val_if_fail (TE_IS_SWARM_VIEW (self), NULL);

  return self->torrent;
}

/**
 * te_swarm_view_set_color_mode:
 * @self: a [class@SwarmView]
 * @mode: what the peers' colours say
 */
void
te_swarm_view_set_color_mode (TeSwarmView      *self,
                              TeSwarmColorMode  mode)
{
  g_return_if_fail (TE_IS_SWARM_VIEW (self));
  g_return_if_fail (mode == TE_SWARM_COLOR_STATE || mode == TE_SWARM_COLOR_CLIENT);

  if (self->color_mode == mode)
    return;
  self->color_mode = mode;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLOR_MODE]);
}

/**
 * te_swarm_view_get_color_mode:
 * @self: a [class@SwarmView]
 *
 * Returns: what the peers' colours say
 */
TeSwarmColorMode
te_swarm_view_get_color_mode (TeSwarmView *self)
{
  g_return_val_if_fail (TE_IS_SWARM_VIEW (self), TE_SWARM_COLOR_STATE);

  return self->color_mode;
}

/**
 * te_swarm_view_reset_view:
 * @self: a [class@SwarmView]
 *
 * Undoes zooming and panning.
 */
void
te_swarm_view_reset_view (TeSwarmView *self)
{
  g_return_if_fail (TE_IS_SWARM_VIEW (self));

  self->zoom = 1.0;
  self->pan_x = self->pan_y = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * te_swarm_view_get_n_nodes:
 * @self: a [class@SwarmView]
 *
 * Returns: how many peers are drawn, those still fading out included
 */
guint
te_swarm_view_get_n_nodes (TeSwarmView *self)
{
  g_return_val_if_fail (TE_IS_SWARM_VIEW (self), 0);

  return self->nodes->len;
}

/**
 * te_swarm_view_get_animating:
 * @self: a [class@SwarmView]
 *
 * Returns: whether a frame-clock callback is installed
 */
gboolean
te_swarm_view_get_animating (TeSwarmView *self)
{
  g_return_val_if_fail (TE_IS_SWARM_VIEW (self), FALSE);

  return self->tick_id != 0;
}

/**
 * te_swarm_view_advance:
 * @self: a [class@SwarmView]
 * @ms: milliseconds
 *
 * Runs the animations forward by @ms, in frame-sized steps, without the
 * frame clock: for tests and screenshots that need a given moment.
 */
void
te_swarm_view_advance (TeSwarmView *self,
                       guint        ms)
{
  g_return_if_fail (TE_IS_SWARM_VIEW (self));

  for (guint done = 0; done < ms; done += 16)
    _te_swarm_view_step (self, MIN (16, ms - done) / 1000.0);
  update_description (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
