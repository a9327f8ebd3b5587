/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-rate-graph"

#include "config.h"

#include <glib/gi18n.h>

#include "te-rate-graph.h"

/* Download and upload rates over the last five minutes, as two filled lines.
 * The samples live in a fixed ring: a push never allocates. The legend's two
 * labels carry the theme's "accent" and "success" classes, and the lines take
 * their colours from them, so a stylesheet recolours both together. */

#define PLOT_MIN_HEIGHT 60
#define PLOT_NAT_HEIGHT 140
#define AXIS_GAP 6

struct _TeRateGraph
{
  GtkWidget  parent_instance;

  guint64    down[TE_RATE_GRAPH_SAMPLES];
  guint64    up[TE_RATE_GRAPH_SAMPLES];
  guint      head;       /* where the next sample goes */
  guint      n_samples;

  GtkWidget *legend;
  GtkWidget *down_label;
  GtkWidget *up_label;
};

G_DEFINE_FINAL_TYPE (TeRateGraph, te_rate_graph, GTK_TYPE_WIDGET)

static guint
ring_index (TeRateGraph *self,
            guint        index)
{
  return (self->head + TE_RATE_GRAPH_SAMPLES - self->n_samples + index) % TE_RATE_GRAPH_SAMPLES;
}

/* The top of the axis: 1, 2, 4, 5 or 8 times a power of ten bytes/s, at
 * least 1 kB/s, so that the half-way line is a round figure too. */
static guint64
nice_scale (guint64 max)
{
  static const guint mantissas[] = { 1, 2, 4, 5, 8, 10 };
  guint64 power = 1000;

  if (max <= power)
    return power;
  while (power * 10 < max && power <= G_MAXUINT64 / 100)
    power *= 10;
  for (guint i = 0; i < G_N_ELEMENTS (mantissas); i++)
    if (power * mantissas[i] >= max)
      return power * mantissas[i];
  return max;
}

static char *
format_rate (guint64 rate)
{
  g_autofree char *size = g_format_size (rate);

  /* TRANSLATORS: a transfer rate, like "1.2 MB/s" */
  return g_strdup_printf (_("%s/s"), size);
}

static GdkRGBA
label_color (GtkWidget *label)
{
  GdkRGBA color;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (label), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return color;
}

guint64
te_rate_graph_get_scale (TeRateGraph *self)
{
  guint64 max = 0;

  g_return_val_if_fail (TE_IS_RATE_GRAPH (self), 0);

  for (guint i = 0; i < self->n_samples; i++)
    {
      guint r = ring_index (self, i);

      max = MAX (max, MAX (self->down[r], self->up[r]));
    }
  return nice_scale (max);
}

static void
plot_series (TeRateGraph           *self,
             cairo_t               *cr,
             const guint64         *series,
             const graphene_rect_t *plot,
             guint64                scale,
             const GdkRGBA         *color)
{
  double step = plot->size.width / (TE_RATE_GRAPH_SAMPLES - 1);
  double right = plot->origin.x + plot->size.width;
  double bottom = plot->origin.y + plot->size.height;
  double first_x = right - (self->n_samples - 1) * step;

  if (self->n_samples == 0)
    return;

  cairo_new_path (cr);
  for (guint i = 0; i < self->n_samples; i++)
    {
      double value = (double) series[ring_index (self, i)] / (double) scale;
      double x = first_x + i * step;
      double y = bottom - MIN (value, 1.0) * plot->size.height;

      if (i == 0 && self->n_samples == 1)
        cairo_move_to (cr, x - step, y);
      if (i == 0 && self->n_samples > 1)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  gdk_cairo_set_source_rgba (cr, color);
  cairo_stroke_preserve (cr);

  cairo_line_to (cr, right, bottom);
  cairo_line_to (cr, self->n_samples == 1 ? right - step : first_x, bottom);
  cairo_close_path (cr);
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * 0.25);
  cairo_fill (cr);
}

static void
te_rate_graph_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  TeRateGraph *self = TE_RATE_GRAPH (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int legend_height = gtk_widget_get_height (self->legend);
  guint64 scale = te_rate_graph_get_scale (self);
  g_autofree char *top_text = format_rate (scale);
  g_autofree char *half_text = format_rate (scale / 2);
  PangoLayout *top = gtk_widget_create_pango_layout (widget, top_text);
  PangoLayout *half = gtk_widget_create_pango_layout (widget, half_text);
  GdkRGBA fg, down_color, up_color;
  graphene_rect_t plot;
  int top_w, top_h, half_w, half_h, axis_w;
  cairo_t *cr;

  gtk_widget_snapshot_child (widget, self->legend, snapshot);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  down_color = label_color (self->down_label);
  up_color = label_color (self->up_label);

  pango_layout_get_pixel_size (top, &top_w, &top_h);
  pango_layout_get_pixel_size (half, &half_w, &half_h);
  axis_w = MAX (top_w, half_w) + AXIS_GAP;
  /* Half a line of text above the top grid line, for its label. */
  graphene_rect_init (&plot, axis_w, legend_height + top_h / 2.0 + 2,
                      MAX (width - axis_w - 1, 1), MAX (height - legend_height - top_h / 2.0 - 3, 1));

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  /* Grid: the top, the half-way line and a tick a minute. */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.15);
  for (guint i = 0; i <= 2; i++)
    {
      double y = round (plot.origin.y + plot.size.height * i / 2.0) + 0.5;

      cairo_move_to (cr, plot.origin.x, y);
      cairo_line_to (cr, plot.origin.x + plot.size.width, y);
    }
  for (guint minute = 0; minute <= TE_RATE_GRAPH_SAMPLES / 60; minute++)
    {
      double x = round (plot.origin.x + plot.size.width * minute * 60 / (TE_RATE_GRAPH_SAMPLES - 1.0)) + 0.5;

      cairo_move_to (cr, MIN (x, plot.origin.x + plot.size.width - 0.5), plot.origin.y);
      cairo_line_to (cr, MIN (x, plot.origin.x + plot.size.width - 0.5), plot.origin.y + plot.size.height);
    }
  cairo_stroke (cr);

  cairo_save (cr);
  cairo_rectangle (cr, plot.origin.x, plot.origin.y - 1, plot.size.width, plot.size.height + 1);
  cairo_clip (cr);
  plot_series (self, cr, self->down, &plot, scale, &down_color);
  plot_series (self, cr, self->up, &plot, scale, &up_color);
  cairo_restore (cr);

  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
  cairo_move_to (cr, axis_w - AXIS_GAP - top_w, plot.origin.y - top_h / 2.0);
  pango_cairo_show_layout (cr, top);
  cairo_move_to (cr, axis_w - AXIS_GAP - half_w, plot.origin.y + plot.size.height / 2.0 - half_h / 2.0);
  pango_cairo_show_layout (cr, half);

  cairo_destroy (cr);
  g_object_unref (top);
  g_object_unref (half);
}

static void
te_rate_graph_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  TeRateGraph *self = TE_RATE_GRAPH (widget);
  int legend_min, legend_nat;

  gtk_widget_measure (self->legend, orientation, -1, &legend_min, &legend_nat, NULL, NULL);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MAX (legend_min, 160);
      *natural = MAX (legend_nat, 360);
    }
  else
    {
      *minimum = legend_min + PLOT_MIN_HEIGHT;
      *natural = legend_nat + PLOT_NAT_HEIGHT;
    }
}

static void
te_rate_graph_size_allocate (GtkWidget *widget,
                             int        width,
                             int        height,
                             int        baseline)
{
  TeRateGraph *self = TE_RATE_GRAPH (widget);
  int legend_height;

  gtk_widget_measure (self->legend, GTK_ORIENTATION_VERTICAL, width, NULL, &legend_height, NULL, NULL);
  gtk_widget_allocate (self->legend, width, legend_height, -1, NULL);
}

static void
update_labels (TeRateGraph *self)
{
  guint64 down = 0, up = 0;
  g_autofree char *down_text = NULL;
  g_autofree char *up_text = NULL;
  g_autofree char *down_label = NULL;
  g_autofree char *up_label = NULL;
  g_autofree char *description = NULL;

  if (self->n_samples > 0)
    te_rate_graph_get_sample (self, self->n_samples - 1, &down, &up);
  down_text = format_rate (down);
  up_text = format_rate (up);
  /* TRANSLATORS: the legend of the download line, with the current rate */
  down_label = g_strdup_printf (_("Download %s"), down_text);
  /* TRANSLATORS: the legend of the upload line, with the current rate */
  up_label = g_strdup_printf (_("Upload %s"), up_text);
  gtk_label_set_label (GTK_LABEL (self->down_label), down_label);
  gtk_label_set_label (GTK_LABEL (self->up_label), up_label);

  /* TRANSLATORS: how screen readers describe the rate graph */
  description = g_strdup_printf (_("Transfer rates over the last five minutes: download %s, upload %s"),
                                 down_text, up_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);
}

static void
te_rate_graph_dispose (GObject *object)
{
  TeRateGraph *self = TE_RATE_GRAPH (object);

  g_clear_pointer (&self->legend, gtk_widget_unparent);
  self->down_label = NULL;
  self->up_label = NULL;

  G_OBJECT_CLASS (te_rate_graph_parent_class)->dispose (object);
}

static void
te_rate_graph_class_init (TeRateGraphClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = te_rate_graph_dispose;
  widget_class->snapshot = te_rate_graph_snapshot;
  widget_class->measure = te_rate_graph_measure;
  widget_class->size_allocate = te_rate_graph_size_allocate;

  gtk_widget_class_set_css_name (widget_class, "rategraph");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static GtkWidget *
legend_label (const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_add_css_class (label, css_class);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  return label;
}

static void
te_rate_graph_init (TeRateGraph *self)
{
  self->legend = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->down_label = legend_label ("accent");
  self->up_label = legend_label ("success");
  gtk_widget_add_css_class (self->down_label, "download");
  gtk_widget_add_css_class (self->up_label, "upload");
  gtk_box_append (GTK_BOX (self->legend), self->down_label);
  gtk_box_append (GTK_BOX (self->legend), self->up_label);
  gtk_widget_set_parent (self->legend, GTK_WIDGET (self));
  update_labels (self);
}

/**
 * te_rate_graph_new:
 *
 * Creates a graph of download and upload rates over the last five minutes.
 *
 * Returns: (transfer floating): a new [class@RateGraph]
 */
GtkWidget *
te_rate_graph_new (void)
{
  return g_object_new (TE_TYPE_RATE_GRAPH, NULL);
}

/**
 * te_rate_graph_push:
 * @self: a [class@RateGraph]
 * @download_rate: bytes/s received
 * @upload_rate: bytes/s sent
 *
 * Adds the newest sample, dropping the oldest once there are
 * %TE_RATE_GRAPH_SAMPLES. Meant to be called once a second.
 */
void
te_rate_graph_push (TeRateGraph *self,
                    guint64      download_rate,
                    guint64      upload_rate)
{
  g_return_if_fail (TE_IS_RATE_GRAPH (self));

  self->down[self->head] = download_rate;
  self->up[self->head] = upload_rate;
  self->head = (self->head + 1) % TE_RATE_GRAPH_SAMPLES;
  if (self->n_samples < TE_RATE_GRAPH_SAMPLES)
    self->n_samples++;
  update_labels (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * te_rate_graph_get_n_samples:
 * @self: a [class@RateGraph]
 *
 * Returns: how many samples the graph holds, at most %TE_RATE_GRAPH_SAMPLES
 */
guint
te_rate_graph_get_n_samples (TeRateGraph *self)
{
  g_return_val_if_fail (TE_IS_RATE_GRAPH (self), 0);

  return self->n_samples;
}

/**
 * te_rate_graph_get_sample:
 * @self: a [class@RateGraph]
 * @index: 0 for the oldest sample held
 * @download_rate: (out) (optional): its download rate
 * @upload_rate: (out) (optional): its upload rate
 *
 * Reads back one sample.
 */
void
te_rate_graph_get_sample (TeRateGraph *self,
                          guint        index,
                          guint64     *download_rate,
                          guint64     *upload_rate)
{
  guint r;

  g_return_if_fail (TE_IS_RATE_GRAPH (self));
  g_return_if_fail (index < self->n_samples);

  r = ring_index (self, index);
  if (download_rate)
    *download_rate = self->down[r];
  if (upload_rate)
    *upload_rate = self->up[r];
}
