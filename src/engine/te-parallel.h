/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Work on item @index with @scratch, a per-thread buffer. FALSE stops the run. */
typedef gboolean (*TeParallelFunc) (guint     index,
                                    guint8   *scratch,
                                    gpointer  user_data,
                                    GError  **error);

/* Called on the main context with the items done so far. */
typedef void (*TeProgressFunc) (guint    done,
                                guint    total,
                                gpointer user_data);

typedef struct {
  gint  done;   /* items finished, read with g_atomic_int_get for progress */
} TeParallelProgress;

guint    te_parallel_n_threads (void);
void     te_parallel_lower_priority (int nice);
gboolean te_parallel_run       (guint               n_items,
                                gsize               scratch_size,
                                TeParallelFunc      func,
                                gpointer            user_data,
                                TeParallelProgress *progress,
                                GCancellable       *cancellable,
                                GError            **error);

GSource *te_parallel_watch     (TeParallelProgress *progress,
                                guint               total,
                                TeProgressFunc      func,
                                gpointer            user_data,
                                GMainContext       *context);

void     te_parallel_unwatch   (GSource           **watch);

G_END_DECLS
