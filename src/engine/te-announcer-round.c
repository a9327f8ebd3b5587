/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-announcer"

#include "config.h"

#include <string.h>

#include "te-announcer-private.h"

/* Announce rounds (BEP 12): which tracker to ask next, what to do with its
 * answer or failure, when to ask again, and the `stopped` announces. */

static void announce_next (TeAnnouncer *self);

void
_te_announcer_clear_source (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static gboolean
call_timeout_cb (gpointer user_data)
{
  Call *call = user_data;

  call->timed_out = TRUE;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

static Call *
call_new (TeAnnouncer     *self,
          Tracker         *tracker,
          TeAnnounceEvent  event,
          guint            timeout_ms)
{
  Call *call = g_new0 (Call, 1);

  call->tracker = tracker;
  call->event = event;
  call->cancellable = g_cancellable_new ();
  call->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (call->timeout, call_timeout_cb, call, NULL);
  g_source_attach (call->timeout, self->context);
  return call;
}

/* The result of a call, with our own time limit reported as a timeout. */
static TeAnnounceResponse *
call_finish (Call          *call,
             GAsyncResult  *result,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  TeAnnounceResponse *response = te_tracker_announce_finish (result, &local_error);

  if (response != NULL)
    return response;
  if (call->timed_out && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_TIMEOUT,
                 "Tracker did not answer in time");
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

static void
call_free (Call *call)
{
  _te_announcer_clear_source (&call->timeout);
  g_clear_object (&call->cancellable);
  g_free (call);
}

/* Abandons the announce in flight; its callback only frees it. */
void
_te_announcer_cancel_current (TeAnnouncer *self)
{
  Call *call = g_steal_pointer (&self->call);

  if (call == NULL)
    return;
  call->self = NULL;
  g_cancellable_cancel (call->cancellable);
}

/* Scheduling */

static gboolean
timer_cb (gpointer user_data)
{
  TeAnnouncer *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  self->timer_at = 0;
  if (self->running && self->call == NULL)
    announce_next (self);
  return G_SOURCE_REMOVE;
}

/* Runs the next round at @at (monotonic µs), replacing any planned one. */
void
_te_announcer_schedule_at (TeAnnouncer *self,
                           gint64       at)
{
  gint64 now = g_get_monotonic_time ();
  gint64 delay_ms = at > now ? (at - now + 999) / 1000 : 0;

  _te_announcer_clear_source (&self->timer);
  /* Long waits need no millisecond precision; let them coalesce. */
  if (delay_ms >= 60 * 1000)
    self->timer = g_timeout_source_new_seconds (MIN (delay_ms / 1000, G_MAXUINT));
  else
    self->timer = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_attach (self->timer, self->context);
  self->timer_at = MAX (at, now);
}

static gint64
backoff_us (TeAnnouncer *self,
            guint        failures)
{
  guint shift = MIN (failures > 0 ? failures - 1 : 0, 20);
  gdouble ms = MIN ((gdouble) self->backoff_base_ms * (1u << shift),
                    TE_ANNOUNCER_BACKOFF_CAP_MS);

  ms *= g_random_double_range (0.75, 1.25);
  return (gint64) (MIN (ms, TE_ANNOUNCER_BACKOFF_CAP_MS) * 1000);
}

static void
clear_tried (TeAnnouncer *self)
{
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        ((Tracker *) g_ptr_array_index (tier, i))->tried = FALSE;
    }
}

static TeAnnounceEvent
event_for (TeAnnouncer *self,
           Tracker     *tracker)
{
  if (!tracker->started)
    return TE_ANNOUNCE_EVENT_STARTED;
  if (self->completed_pending)
    return TE_ANNOUNCE_EVENT_COMPLETED;
  return TE_ANNOUNCE_EVENT_NONE;
}

static void
fill_request (TeAnnouncer       *self,
              Tracker           *tracker,
              TeAnnounceEvent    event,
              TeAnnounceRequest *request)
{
  memset (request, 0, sizeof *request);
  memcpy (request->info_hash, self->info_hash, 20);
  memcpy (request->peer_id, self->peer_id, 20);
  request->port = self->port;
  request->uploaded = self->uploaded;
  request->downloaded = self->downloaded;
  request->left = self->left;
  request->event = event;
  request->numwant = event == TE_ANNOUNCE_EVENT_STOPPED ? 0 : -1;
  request->key = self->key;
  request->tracker_id = tracker->tracker_id;
}

static void
emit_updated (TeAnnouncer *self,
              Tracker     *tracker)
{
  g_signal_emit (self, _te_announcer_signals[TE_ANNOUNCER_SIGNAL_TRACKER_UPDATED], 0,
                 tracker->url);
}

/* Announces */

static void
move_to_front (TeAnnouncer *self,
               Tracker     *tracker)
{
  GPtrArray *tier = g_ptr_array_index (self->tiers, tracker->tier);
  guint index;

  if (g_ptr_array_find (tier, tracker, &index) && index > 0)
    {
      g_ptr_array_steal_index (tier, index);
      g_ptr_array_insert (tier, 0, tracker);
    }
}

static void
announce_succeeded (TeAnnouncer        *self,
                    Tracker            *tracker,
                    TeAnnounceEvent     event,
                    TeAnnounceResponse *response)
{
  gint64 now = g_get_monotonic_time ();
  gint64 next;

  tracker->state = TE_TRACKER_STATE_WORKING;
  tracker->consecutive_failures = 0;
  g_clear_pointer (&tracker->last_error, g_free);
  g_free (tracker->warning);
  tracker->warning = g_strdup (response->warning);
  tracker->seeders = response->seeders;
  tracker->leechers = response->leechers;
  tracker->last_peer_count = response->peers->len;
  tracker->interval = response->interval;
  tracker->not_before = 0;
  tracker->started = TRUE;
  if (response->tracker_id != NULL)
    {
      g_free (tracker->tracker_id);
      tracker->tracker_id = g_strdup (response->tracker_id);
    }
  if (event == TE_ANNOUNCE_EVENT_COMPLETED)
    self->completed_pending = FALSE;
  move_to_front (self, tracker);

  self->last_success = now;
  self->interval = response->interval;
  self->min_interval = response->min_interval;
  clear_tried (self);

  if (self->completed_pending)
    next = now;
  else
    next = now + (gint64) MAX (response->interval, response->min_interval) * G_USEC_PER_SEC;
  tracker->next_at = next;
  _te_announcer_schedule_at (self, next);

  if (response->peers->len > 0)
    g_signal_emit (self, _te_announcer_signals[TE_ANNOUNCER_SIGNAL_PEERS], 0,
                   response->peers, tracker->url);
  emit_updated (self, tracker);
}

static void
announce_failed (TeAnnouncer  *self,
                 Tracker      *tracker,
                 const GError *error)
{
  gint64 now = g_get_monotonic_time ();

  tracker->consecutive_failures++;
  if (tracker->consecutive_failures >= TE_ANNOUNCER_FAILURES_FOR_ERROR)
    tracker->state = TE_TRACKER_STATE_ERROR;
  else if (tracker->consecutive_failures >= TE_ANNOUNCER_FAILURES_FOR_WARNING)
    tracker->state = TE_TRACKER_STATE_WARNING;
  g_free (tracker->last_error);
  tracker->last_error = g_strdup (error->message);

  if (te_tracker_error_is_retryable (error))
    {
      tracker->not_before = now + backoff_us (self, tracker->consecutive_failures);
    }
  else
    {
      /* A refusal or a client error will not change by asking again soon. */
      guint32 interval = tracker->interval ? tracker->interval
                         : self->interval ? self->interval : 1800;

      tracker->not_before = now + (gint64) interval * G_USEC_PER_SEC;
    }
  tracker->next_at = tracker->not_before;

  g_debug ("%s: %s", tracker->url, error->message);
  g_signal_emit (self, _te_announcer_signals[TE_ANNOUNCER_SIGNAL_TRACKER_ERROR], 0,
                 tracker->url, error);
  emit_updated (self, tracker);
}

static void
announced_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(TeAnnouncer) self = call->self ? g_object_ref (call->self) : NULL;
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  Tracker *tracker = call->tracker;
  TeAnnounceEvent event = call->event;

  response = call_finish (call, result, &error);
  if (self != NULL)
    {
      g_assert (self->call == call);
      self->call = NULL;
    }
  call_free (call);
  if (self == NULL)
    return;   /* stopped or disposed meanwhile */

  tracker->last_announce = g_get_real_time () / G_USEC_PER_SEC;

  if (response != NULL)
    {
      announce_succeeded (self, tracker, event, response);
      return;
    }

  announce_failed (self, tracker, error);
  /* The handlers may have stopped us or started another round. */
  if (self->running && self->call == NULL)
    announce_next (self);
}

static void
send_announce (TeAnnouncer *self,
               Tracker     *tracker)
{
  TeAnnounceRequest request;
  Call *call = call_new (self, tracker, event_for (self, tracker), self->attempt_timeout_ms);

  call->self = self;
  self->call = call;
  tracker->tried = TRUE;

  fill_request (self, tracker, call->event, &request);
  g_debug ("Announcing to %s (event %d)", tracker->url, call->event);
  te_tracker_announce_async (self->session, tracker->url, &request, call->cancellable,
                             announced_cb, call);
}

/* Tries the next tracker of this round; when none is left, plans the next
 * round for the earliest moment a tracker may be asked again. */
static void
announce_next (TeAnnouncer *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 earliest = G_MAXINT64;

  g_assert (self->call == NULL);
  _te_announcer_clear_source (&self->timer);
  self->timer_at = 0;

  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          Tracker *tracker = g_ptr_array_index (tier, i);

          if (tracker->tried || tracker->not_before > now)
            continue;
          send_announce (self, tracker);
          return;
        }
    }

  clear_tried (self);
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        earliest = MIN (earliest, ((Tracker *) g_ptr_array_index (tier, i))->not_before);
    }
  if (earliest != G_MAXINT64)
    _te_announcer_schedule_at (self, earliest);
}

/* Stopping */

static gboolean
stopped_idle_cb (gpointer user_data)
{
  TeAnnouncer *self = user_data;

  g_clear_pointer (&self->stopped_idle, g_source_unref);
  g_signal_emit (self, _te_announcer_signals[TE_ANNOUNCER_SIGNAL_STOPPED], 0);
  return G_SOURCE_REMOVE;
}

void
_te_announcer_stop_finished (TeAnnouncer *self)
{
  g_assert (self->n_stopping > 0);
  if (--self->n_stopping > 0 || self->stopped_idle != NULL)
    return;
  self->stopped_idle = g_idle_source_new ();
  g_source_set_callback (self->stopped_idle, stopped_idle_cb, g_object_ref (self), g_object_unref);
  g_source_attach (self->stopped_idle, self->context);
}

static void
stop_sent_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(TeAnnouncer) self = g_steal_pointer (&call->self);
  g_autoptr(TeAnnounceResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  response = call_finish (call, result, &error);
  if (response != NULL)
    call->tracker->last_announce = g_get_real_time () / G_USEC_PER_SEC;
  else
    g_debug ("%s: stopped: %s", call->tracker->url, error->message);
  call_free (call);
  _te_announcer_stop_finished (self);
}

void
_te_announcer_send_stopped (TeAnnouncer *self,
                            Tracker     *tracker)
{
  TeAnnounceRequest request;
  Call *call = call_new (self, tracker, TE_ANNOUNCE_EVENT_STOPPED, self->stop_timeout_ms);

  call->self = g_object_ref (self);
  self->n_stopping++;

  fill_request (self, tracker, TE_ANNOUNCE_EVENT_STOPPED, &request);
  te_tracker_announce_async (self->session, tracker->url, &request, call->cancellable,
                             stop_sent_cb, call);
}
