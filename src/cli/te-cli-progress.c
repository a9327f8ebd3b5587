/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-cli"

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "te-cli.h"

struct _TeCliProgress {
  char    *label;
  gboolean tty;
  gint64   started;
  gint64   last_draw;
  gboolean drawn;
  guint64  total;
};

TeCliProgress *
te_cli_progress_new (const char *label)
{
  TeCliProgress *p = g_new0 (TeCliProgress, 1);

  p->label = g_strdup (label);
  p->tty = isatty (STDERR_FILENO);
  p->started = g_get_monotonic_time ();
  return p;
}

static void
draw (TeCliProgress *p,
      guint64        done,
      guint64        total,
      gboolean       final)
{
  double frac = total ? (double) done / (double) total : 1.0;
  double elapsed = (g_get_monotonic_time () - p->started) / (double) G_USEC_PER_SEC;
  g_autofree char *eta = NULL;

  if (final)
    {
      /* Translators: seconds the whole run took. */
      eta = g_strdup_printf (_("%.1f s"), elapsed);
    }
  else if (frac > 0.01 && elapsed > 0.5)
    {
      guint64 left = (guint64) (elapsed / frac - elapsed + 0.5);
      g_autofree char *mmss = g_strdup_printf ("%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT,
                                               left / 60, left % 60);

      /* Translators: the time left, as minutes:seconds. */
      eta = g_strdup_printf (_("ETA %s"), mmss);
    }
  else
    eta = g_strdup_printf (_("ETA %s"), "--:--");

  if (p->tty)
    {
      char bar[31];
      guint fill = (guint) (frac * 30);

      for (guint i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '-';
      bar[30] = 0;
      fprintf (stderr, "\r%s [%s] %5.1f%% %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %s\033[K",
               p->label, bar, frac * 100, done, total, eta);
      if (final)
        fputc ('\n', stderr);
    }
  else
    fprintf (stderr, "%s %.1f%% %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %s\n",
             p->label, frac * 100, done, total, eta);
  fflush (stderr);
  p->drawn = TRUE;
}

void
te_cli_progress_update (TeCliProgress *p,
                        guint64        done,
                        guint64        total)
{
  gint64 now = g_get_monotonic_time ();
  /* A terminal is redrawn ten times a second; a log gets a line a second. */
  gint64 interval = p->tty ? G_USEC_PER_SEC / 10 : G_USEC_PER_SEC;

  p->total = total;

  if (p->drawn && now - p->last_draw < interval)
    return;
  p->last_draw = now;
  draw (p, done, total, FALSE);
}

void
te_cli_progress_finish (TeCliProgress *p)
{
  if (p == NULL)
    return;
  if (p->drawn || p->tty)
    draw (p, p->total, p->total, TRUE);
  g_free (p->label);
  g_free (p);
}
