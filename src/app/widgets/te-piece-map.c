/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-piece-map"

#include "config.h"

#include <glib/gi18n.h>

#include "te-piece-map.h"

/* The torrent's pieces as a grid of cells. With more pieces than cells fit,
 * a cell stands for a run of pieces and is shaded by the fraction it has.
 * Completed pieces arrive in bursts: redraws they cause are coalesced to at
 * most four a second, and a one-second timer catches everything else
 * (rechecks, a magnet getting its metadata). */

#define CELL 10           /* pixels, gap included */
#define GAP 1
#define COALESCE_MS 250
#define MIN_HEIGHT 24
#define NAT_HEIGHT 64

struct _TePieceMap
{
  GtkWidget  parent_instance;

  TeTorrent *torrent;
  gulong     piece_handler;
  guint      refresh_id;
  guint      coalesce_id;
  guint      last_have;   /* for the accessible label */
  guint      last_total;
};

enum {
  PROP_0,
  PROP_TORRENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TePieceMap, te_piece_map, GTK_TYPE_WIDGET)

/* How many of pieces [first, last) @have holds: whole bytes by popcount. */
static guint
count_range (const guint8 *bytes,
             guint         first,
             guint         last)
{
  guint n = 0;
  guint i = first;

  while (i < last && (i & 7) != 0)
    {
      n += (bytes[i >> 3] >> (7 - (i & 7))) & 1;
      i++;
    }
  while (i + 8 <= last)
    {
      n += __builtin_popcount (bytes[i >> 3]);
      i += 8;
    }
  while (i < last)
    {
      n += (bytes[i >> 3] >> (7 - (i & 7))) & 1;
      i++;
    }
  return n;
}

static void
update_description (TePieceMap *self)
{
  const TeBitfield *have = self->torrent ? te_torrent_get_have (self->torrent) : NULL;
  guint total = have ? te_bitfield_size (have) : 0;
  guint count = have ? te_bitfield_count (have) : 0;
  g_autofree char *text = NULL;

  if (total == self->last_total && count == self->last_have && total != 0)
    return;
  self->last_total = total;
  self->last_have = count;
  if (total == 0)
    text = g_strdup (_("No pieces to show"));
  else
    /* TRANSLATORS: how screen readers describe the piece map */
    text = g_strdup_printf (_("Pieces: %u of %u downloaded"), count, total);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

static void
te_piece_map_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  TePieceMap *self = TE_PIECE_MAP (widget);
  const TeBitfield *have = self->torrent ? te_torrent_get_have (self->torrent) : NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  guint n_pieces = have ? te_bitfield_size (have) : 0;
  guint cols = MAX (width / CELL, 1);
  guint rows = MAX (height / CELL, 1);
  guint n_cells;
  double cell_w, cell_h;
  const guint8 *bytes;
  gsize n_bytes;
  GdkRGBA color;
  cairo_t *cr;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (n_pieces == 0)
    {
      cairo_rectangle (cr, 0, 0, width, height);
      cairo_set_source_rgba (cr, color.red, color.green, color.blue, color.alpha * 0.12);
      cairo_fill (cr);
      cairo_destroy (cr);
      return;
    }

  /* One piece a cell when they fit; the cells then stretch to fill rows. */
  n_cells = MIN (n_pieces, cols * rows);
  rows = (n_cells + cols - 1) / cols;
  /* As few columns as those rows need: the last row is (nearly) full. */
  cols = (n_cells + rows - 1) / rows;
  cell_w = (double) width / cols;
  cell_h = (double) height / rows;
  bytes = te_bitfield_bytes (have, &n_bytes);
  g_assert (n_bytes >= (n_pieces + 7) / 8);

  for (guint c = 0; c < n_cells; c++)
    {
      guint first = (guint) ((guint64) c * n_pieces / n_cells);
      guint last = (guint) ((guint64) (c + 1) * n_pieces / n_cells);
      double fraction = last > first ? (double) count_range (bytes, first, last) / (last - first) : 0;
      double x = (c % cols) * cell_w;
      double y = (c / cols) * cell_h;
      double gap = cell_w > 3 * GAP && cell_h > 3 * GAP ? GAP : 0;

      cairo_rectangle (cr, x, y, cell_w - gap, cell_h - gap);
      /* An empty cell is a faint trough; full ones take the accent colour. */
      cairo_set_source_rgba (cr, color.red, color.green, color.blue,
                             color.alpha * (0.12 + 0.88 * fraction));
      cairo_fill (cr);
    }
  cairo_destroy (cr);
}

static void
te_piece_map_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 4 * CELL;
      *natural = 40 * CELL;
    }
  else
    {
      *minimum = MIN_HEIGHT;
      *natural = NAT_HEIGHT;
    }
}

static void
redraw (TePieceMap *self)
{
  update_description (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
coalesced_cb (gpointer user_data)
{
  TePieceMap *self = user_data;

  self->coalesce_id = 0;
  redraw (self);
  return G_SOURCE_REMOVE;
}

static void
piece_completed_cb (TeTorrent  *torrent,
                    guint       piece,
                    TePieceMap *self)
{
  if (self->coalesce_id == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->coalesce_id = g_timeout_add (COALESCE_MS, coalesced_cb, self);
}

static gboolean
refresh_cb (gpointer user_data)
{
  redraw (user_data);
  return G_SOURCE_CONTINUE;
}

static void
start_timer (TePieceMap *self)
{
  if (self->refresh_id == 0 && self->torrent != NULL && gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->refresh_id = g_timeout_add_seconds (1, refresh_cb, self);
}

static void
stop_timers (TePieceMap *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->coalesce_id, g_source_remove);
}

static void
te_piece_map_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (te_piece_map_parent_class)->map (widget);
  start_timer (TE_PIECE_MAP (widget));
}

static void
te_piece_map_unmap (GtkWidget *widget)
{
  stop_timers (TE_PIECE_MAP (widget));
  GTK_WIDGET_CLASS (te_piece_map_parent_class)->unmap (widget);
}

static void
te_piece_map_dispose (GObject *object)
{
  te_piece_map_set_torrent (TE_PIECE_MAP (object), NULL);

  G_OBJECT_CLASS (te_piece_map_parent_class)->dispose (object);
}

static void
te_piece_map_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TePieceMap *self = TE_PIECE_MAP (object);

  switch (prop_id)
    {
    case PROP_TORRENT:
      g_value_set_object (value, self->torrent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_piece_map_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TePieceMap *self = TE_PIECE_MAP (object);

  switch (prop_id)
    {
    case PROP_TORRENT:
      te_piece_map_set_torrent (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_piece_map_class_init (TePieceMapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = te_piece_map_dispose;
  object_class->get_property = te_piece_map_get_property;
  object_class->set_property = te_piece_map_set_property;
  widget_class->snapshot = te_piece_map_snapshot;
  widget_class->measure = te_piece_map_measure;
  widget_class->map = te_piece_map_map;
  widget_class->unmap = te_piece_map_unmap;

  /**
   * TePieceMap:torrent: (nullable)
   *
   * The torrent whose pieces are shown.
   */
  properties[PROP_TORRENT] =
    g_param_spec_object ("torrent", NULL, NULL, TE_TYPE_TORRENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "piecemap");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
te_piece_map_init (TePieceMap *self)
{
  /* The theme's accent colour becomes the widget's foreground. */
  gtk_widget_add_css_class (GTK_WIDGET (self), "accent");
  update_description (self);
}

/**
 * te_piece_map_new:
 *
 * Creates a map of a torrent's pieces.
 *
 * Returns: (transfer floating): a new [class@PieceMap]
 */
GtkWidget *
te_piece_map_new (void)
{
  return g_object_new (TE_TYPE_PIECE_MAP, NULL);
}

/**
 * te_piece_map_set_torrent:
 * @self: a [class@PieceMap]
 * @torrent: (nullable): the torrent to show
 *
 * Shows @torrent's pieces, or nothing when `NULL`.
 */
void
te_piece_map_set_torrent (TePieceMap *self,
                          TeTorrent  *torrent)
{
  g_return_if_fail (TE_IS_PIECE_MAP (self));
  g_return_if_fail (torrent == NULL || TE_IS_TORRENT (torrent));

  if (self->torrent == torrent)
    return;

  stop_timers (self);
  if (self->torrent)
    g_clear_signal_handler (&self->piece_handler, self->torrent);
  g_set_object (&self->torrent, torrent);
  if (self->torrent)
    self->piece_handler = g_signal_connect (self->torrent, "piece-completed",
                                            G_CALLBACK (piece_completed_cb), self);
  start_timer (self);
  self->last_total = G_MAXUINT;
  redraw (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TORRENT]);
}

/**
 * te_piece_map_get_torrent:
 * @self: a [class@PieceMap]
 *
 * Returns: (nullable) (transfer none): the torrent shown
 */
TeTorrent *
te_piece_map_get_torrent (TePieceMap *self)
{
  g_return_val_if_fail (TE_IS_PIECE_MAP (self), NULL);

  return self->torrent;
}
