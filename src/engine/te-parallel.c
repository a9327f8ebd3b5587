/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-parallel"

#include "config.h"

#include <errno.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "te-parallel.h"

/* Hashing is CPU-bound and pieces are independent: one thread per core, each
 * pulling the next index from a shared counter, keeps every core busy without a
 * queue. Called from a worker thread, never from the main loop. */

typedef struct {
  guint               n_items;
  gsize               scratch_size;
  TeParallelFunc      func;
  gpointer            user_data;
  TeParallelProgress *progress;
  GCancellable       *cancellable;
  gint                next;
  gint                stop;
  GMutex              lock;
  GError             *error;
} Run;

/* Below this much work per thread, starting one costs more than it saves:
 * thousands of small torrents checked at once each hash in one thread. */
#define MIN_BYTES_PER_THREAD (4 * 1024 * 1024)

/* Read once: g_get_num_processors() reads a sysfs file on every call. */
guint
te_parallel_n_threads (void)
{
  static gsize n;

  if (g_once_init_enter (&n))
    g_once_init_leave (&n, MAX (1, MIN (g_get_num_processors (), 64)));
  return (guint) n;
}

static gpointer
run_worker (gpointer data)
{
  Run *run = data;
  g_autofree guint8 *scratch = g_malloc (MAX (run->scratch_size, 1));

  while (!g_atomic_int_get (&run->stop))
    {
      guint i = (guint) g_atomic_int_add (&run->next, 1);
      GError *error = NULL;

      if (i >= run->n_items)
        break;
      if (g_cancellable_set_error_if_cancelled (run->cancellable, &error)
          || !run->func (i, scratch, run->user_data, &error))
        {
          g_mutex_lock (&run->lock);
          if (run->error == NULL)
            run->error = error;
          else
            g_clear_error (&error);
          g_mutex_unlock (&run->lock);
          g_atomic_int_set (&run->stop, 1);
          break;
        }
      if (run->progress)
        g_atomic_int_inc (&run->progress->done);
    }
  return NULL;
}

/**
 * te_parallel_lower_priority:
 * @nice: the nice value to take
 *
 * Background work (checks, saving state) runs on threads of a lower priority
 * so that the main loop gets its turn when every core is busy. Once per
 * thread: a pool's thread keeps it for every job it runs.
 */
void
te_parallel_lower_priority (int nice)
{
#ifdef __linux__
  static GPrivate lowered;

  if (g_private_get (&lowered) != NULL)
    return;
  g_private_set (&lowered, GINT_TO_POINTER (1));
  /* Per thread on Linux. */
  if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), nice) != 0)
    g_debug ("Cannot lower the priority of a worker thread: %s", g_strerror (errno));
#endif
}

gboolean
te_parallel_run (guint               n_items,
                 gsize               scratch_size,
                 TeParallelFunc      func,
                 gpointer            user_data,
                 TeParallelProgress *progress,
                 GCancellable       *cancellable,
                 GError            **error)
{
  Run run = { n_items, scratch_size, func, user_data, progress, cancellable, 0, 0, { 0 }, NULL };
  guint64 work = (guint64) n_items * MAX (scratch_size, 1);
  guint n_threads = (guint) MIN ((guint64) te_parallel_n_threads (),
                                 MAX (work / MIN_BYTES_PER_THREAD, 1));
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();

  g_mutex_init (&run.lock);
  for (guint t = 1; t < n_threads; t++)
    g_ptr_array_add (threads, g_thread_new ("te-hash", run_worker, &run));
  run_worker (&run);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (g_ptr_array_index (threads, t));
  g_mutex_clear (&run.lock);

  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  TeParallelProgress *progress;
  guint               total;
  guint               last;
  TeProgressFunc      func;
  gpointer            user_data;
} Watch;

static gboolean
watch_tick_cb (gpointer data)
{
  Watch *w = data;
  guint done = (guint) g_atomic_int_get (&w->progress->done);

  if (done != w->last)
    {
      w->last = done;
      w->func (done, w->total, w->user_data);
    }
  return G_SOURCE_CONTINUE;
}

/**
 * te_parallel_watch:
 *
 * Polls @progress ten times a second on @context and reports changes to @func;
 * workers never call back themselves. Destroy the returned source when done.
 *
 * Returns: (transfer full): the attached source
 */
GSource *
te_parallel_watch (TeParallelProgress *progress,
                   guint               total,
                   TeProgressFunc      func,
                   gpointer            user_data,
                   GMainContext       *context)
{
  GSource *source = g_timeout_source_new (100);
  Watch *w = g_new0 (Watch, 1);

  w->progress = progress;
  w->total = total;
  w->func = func;
  w->user_data = user_data;
  g_source_set_callback (source, watch_tick_cb, w, g_free);
  g_source_set_name (source, "te-progress");
  g_source_attach (source, context);
  return source;
}

/**
 * te_parallel_unwatch:
 * @watch: (inout) (nullable): a source from te_parallel_watch(), cleared
 */
void
te_parallel_unwatch (GSource **watch)
{
  if (*watch == NULL)
    return;
  g_source_destroy (*watch);
  g_clear_pointer (watch, g_source_unref);
}
