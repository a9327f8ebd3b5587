/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-swarm-view"

#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "te-swarm-view-private.h"

/* Drawing the swarm with Cairo: guide rings, an edge to each peer with dots
 * flowing toward us for what we download and away for what we upload, the
 * peers as discs sized by rate with an arc for their progress, and a legend.
 * Colours are the theme's named colours, with the GNOME palette as a
 * fallback for themes that do not define them. */

#define MAX_LEGEND_CLIENTS 6

typedef struct {
  const char *name;
  const char *fallback;
} NamedColor;

static const NamedColor client_palette[] = {
  { "blue_3", "#3584e4" },
  { "green_4", "#2ec27e" },
  { "orange_3", "#ff7800" },
  { "purple_3", "#9141ac" },
  { "yellow_5", "#e5a50a" },
  { "red_3", "#e01b24" },
  { "brown_3", "#986a44" },
};

enum {
  STATE_DOWNLOADING,
  STATE_UPLOADING,
  STATE_BOTH,
  STATE_CHOKED,
  STATE_IDLE,
  N_STATES
};

static GdkRGBA
named_color (GtkWidget  *widget,
             const char *name,
             const char *fallback)
{
  GdkRGBA color;
  gboolean found;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  found = gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  if (!found)
    gdk_rgba_parse (&color, fallback);
  return color;
}

static GdkRGBA
foreground (GtkWidget *widget)
{
  GdkRGBA color;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return color;
}

static GdkRGBA
state_color (GtkWidget *widget,
             int        state)
{
  switch (state)
    {
    case STATE_DOWNLOADING:
      return named_color (widget, "accent_bg_color", "#3584e4");
    case STATE_UPLOADING:
      return named_color (widget, "success_bg_color", "#2ec27e");
    case STATE_BOTH:
      return named_color (widget, "purple_3", "#9141ac");
    case STATE_CHOKED:
      return named_color (widget, "warning_bg_color", "#e5a50a");
    default:
      {
        GdkRGBA fg = foreground (widget);

        fg.alpha *= 0.45;
        return fg;
      }
    }
}

static int
peer_state (const TeSwarmNode *node)
{
  gboolean down = strchr (node->flags, 'D') != NULL;
  gboolean up = strchr (node->flags, 'U') != NULL;

  if (down && up)
    return STATE_BOTH;
  if (down)
    return STATE_DOWNLOADING;
  if (up)
    return STATE_UPLOADING;
  if (strchr (node->flags, 'd') || strchr (node->flags, 'u'))
    return STATE_CHOKED;
  return STATE_IDLE;
}

/* "Transmission 4.0.2" and "Transmission 3.00" are one family. */
static char *
client_family (const char *client)
{
  gsize len = 0;

  if (client == NULL || *client == '\0')
    return g_strdup (_("Unknown"));
  while (client[len] && client[len] != ' ' && client[len] != '/' && !g_ascii_isdigit (client[len]))
    len++;
  return len > 0 ? g_strndup (client, len) : g_strdup (client);
}

static GdkRGBA
client_color (GtkWidget  *widget,
              const char *family)
{
  const NamedColor *c = &client_palette[g_str_hash (family) % G_N_ELEMENTS (client_palette)];

  return named_color (widget, c->name, c->fallback);
}

static GdkRGBA
node_color (TeSwarmView       *self,
            const TeSwarmNode *node)
{
  if (self->color_mode == TE_SWARM_COLOR_CLIENT)
    {
      g_autofree char *family = client_family (node->client);

      return client_color (GTK_WIDGET (self), family);
    }
  return state_color (GTK_WIDGET (self), peer_state (node));
}

double
_te_swarm_view_scale (TeSwarmView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  return MAX (MIN (width, height), 1) / (2 * SWARM_EXTENT) * self->zoom;
}

void
_te_swarm_view_to_screen (TeSwarmView *self,
                          double       wx,
                          double       wy,
                          double      *sx,
                          double      *sy)
{
  double scale = _te_swarm_view_scale (self);

  *sx = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 + self->pan_x + wx * scale;
  *sy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 + self->pan_y + wy * scale;
}

/* Discs stay legible on a small widget and do not balloon when zoomed. */
static double
screen_radius (TeSwarmView *self,
               double       world_radius)
{
  return world_radius * CLAMP (_te_swarm_view_scale (self), 0.6, 2.5);
}

TeSwarmNode *
_te_swarm_view_pick (TeSwarmView *self,
                     double       sx,
                     double       sy)
{
  TeSwarmNode *best = NULL;
  double best_d = G_MAXDOUBLE;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);
      double x, y, d;

      if (node->departing)
        continue;
      _te_swarm_view_to_screen (self, node->x, node->y, &x, &y);
      d = hypot (x - sx, y - sy);
      if (d <= screen_radius (self, node->radius) + 4 && d < best_d)
        {
          best = node;
          best_d = d;
        }
    }
  return best;
}

static void
set_color (cairo_t       *cr,
           const GdkRGBA *color,
           double         alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static void
draw_flow (cairo_t       *cr,
           double         from_x,
           double         from_y,
           double         to_x,
           double         to_y,
           double         phase,
           double         side,
           double         dot,
           const GdkRGBA *color,
           double         alpha)
{
  double dx = to_x - from_x, dy = to_y - from_y;
  double len = hypot (dx, dy);
  guint n = MAX (2, (guint) (len / 40));
  /* The two directions run side by side, a few pixels apart. */
  double ox = len > 0 ? -dy / len * side : 0;
  double oy = len > 0 ? dx / len * side : 0;

  set_color (cr, color, alpha);
  for (guint i = 0; i < n; i++)
    {
      double t = fmod (phase + (double) i / n, 1.0);

      cairo_new_sub_path (cr);
      cairo_arc (cr, from_x + dx * t + ox, from_y + dy * t + oy, dot, 0, 2 * G_PI);
    }
  cairo_fill (cr);
}

static void
draw_legend (TeSwarmView *self,
             cairo_t     *cr,
             int          height)
{
  GtkWidget *widget = GTK_WIDGET (self);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) colors = g_array_new (FALSE, FALSE, sizeof (GdkRGBA));
  GdkRGBA fg = foreground (widget);
  double y;

  if (self->color_mode == TE_SWARM_COLOR_CLIENT)
    {
      for (guint i = 0; i < self->nodes->len && names->len < MAX_LEGEND_CLIENTS; i++)
        {
          TeSwarmNode *node = g_ptr_array_index (self->nodes, i);
          g_autofree char *family = client_family (node->client);
          GdkRGBA color = client_color (widget, family);
          gboolean listed = FALSE;

          for (guint j = 0; j < names->len && !listed; j++)
            listed = g_str_equal (g_ptr_array_index (names, j), family);
          if (!listed)
            {
              g_array_append_val (colors, color);
              g_ptr_array_add (names, g_steal_pointer (&family));
            }
        }
    }
  else
    {
      const char *labels[N_STATES] = {
        _("Downloading from"), _("Uploading to"), _("Both ways"), _("Choked"), _("Idle"),
      };

      for (int s = 0; s < N_STATES; s++)
        {
          GdkRGBA color = state_color (widget, s);

          g_array_append_val (colors, color);
          g_ptr_array_add (names, g_strdup (labels[s]));
        }
    }

  y = height - 8.0 - names->len * 16.0;
  for (guint i = 0; i < names->len; i++, y += 16)
    {
      g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, g_ptr_array_index (names, i));

      set_color (cr, &g_array_index (colors, GdkRGBA, i), 1.0);
      cairo_arc (cr, 14, y + 8, 4.5, 0, 2 * G_PI);
      cairo_fill (cr);
      set_color (cr, &fg, 0.75);
      cairo_move_to (cr, 24, y);
      pango_cairo_show_layout (cr, layout);
    }
}

void
_te_swarm_view_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  TeSwarmView *self = TE_SWARM_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double scale = _te_swarm_view_scale (self);
  double dot = CLAMP (2.2 * scale, 1.5, 4.0);
  GdkRGBA fg = foreground (widget);
  GdkRGBA down_color = state_color (widget, STATE_DOWNLOADING);
  GdkRGBA up_color = state_color (widget, STATE_UPLOADING);
  double cx, cy;
  cairo_t *cr;

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  _te_swarm_view_to_screen (self, 0, 0, &cx, &cy);

  /* Guide rings, one per progress band: seeds nearest. */
  cairo_set_line_width (cr, 1);
  set_color (cr, &fg, 0.07);
  for (int ring = 0; ring < SWARM_N_RINGS; ring++)
    {
      cairo_new_sub_path (cr);
      cairo_arc (cr, cx, cy, SWARM_RING_RADIUS (ring) * scale, 0, 2 * G_PI);
    }
  cairo_stroke (cr);

  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);
      double x, y;

      _te_swarm_view_to_screen (self, node->x, node->y, &x, &y);
      set_color (cr, &fg, 0.15 * node->alpha);
      cairo_set_line_width (cr, 1 + MIN (log2 (1.0 + (node->download_rate + node->upload_rate) / 65536.0), 3.0));
      cairo_move_to (cr, cx, cy);
      cairo_line_to (cr, x, y);
      cairo_stroke (cr);
      if (node->download_rate > 0)
        draw_flow (cr, x, y, cx, cy, node->down_phase, 3, dot, &down_color, node->alpha);
      if (node->upload_rate > 0)
        draw_flow (cr, cx, cy, x, y, node->up_phase, 3, dot, &up_color, node->alpha);
    }

  for (guint i = 0; i < self->nodes->len; i++)
    {
      TeSwarmNode *node = g_ptr_array_index (self->nodes, i);
      GdkRGBA color = node_color (self, node);
      double r = screen_radius (self, node->radius);
      double x, y;

      _te_swarm_view_to_screen (self, node->x, node->y, &x, &y);
      cairo_new_sub_path (cr);
      cairo_arc (cr, x, y, r, 0, 2 * G_PI);
      set_color (cr, &color, node->alpha);
      cairo_fill_preserve (cr);
      set_color (cr, &fg, (node == self->hover ? 0.9 : 0.25) * node->alpha);
      cairo_set_line_width (cr, node == self->hover ? 2.5 : 1);
      cairo_stroke (cr);

      /* How much of the torrent the peer has, as an arc around it. */
      if (node->progress > 0)
        {
          set_color (cr, &fg, 0.6 * node->alpha);
          cairo_set_line_width (cr, 2);
          cairo_arc (cr, x, y, r + 3, -G_PI / 2, -G_PI / 2 + 2 * G_PI * node->progress);
          cairo_stroke (cr);
        }
    }

  /* Us, in the middle. */
  cairo_new_sub_path (cr);
  cairo_arc (cr, cx, cy, screen_radius (self, SWARM_SELF_RADIUS), 0, 2 * G_PI);
  set_color (cr, &down_color, 1.0);
  cairo_fill_preserve (cr);
  set_color (cr, &fg, 0.5);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);

  if (self->nodes->len == 0)
    {
      g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget,
                                                                      self->torrent ? _("No peers connected")
                                                                                    : _("No torrent selected"));
      int tw, th;

      pango_layout_get_pixel_size (layout, &tw, &th);
      set_color (cr, &fg, 0.55);
      cairo_move_to (cr, (width - tw) / 2.0, cy + screen_radius (self, SWARM_SELF_RADIUS) + 8);
      pango_cairo_show_layout (cr, layout);
    }
  else
    draw_legend (self, cr, height);

  cairo_destroy (cr);
}
