/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-announcer"

#include "config.h"

#include <string.h>

#include "te-announcer.h"

/* The trackers of one torrent (BEP 12). An announce round walks the tiers in
 * order and each tier's trackers in order, skipping trackers that are backing
 * off, until one answers; that tracker moves to the front of its tier and the
 * next round comes at its interval. Everything runs on the main context the
 * announcer was made on. */

#define DEFAULT_BACKOFF_BASE_MS  2000
#define BACKOFF_CAP_MS           (300 * 1000)
#define DEFAULT_STOP_TIMEOUT_MS  5000
/* announce_now() without a min interval from the tracker waits at least this. */
#define ANNOUNCE_NOW_FLOOR_S     30
#define FAILURES_FOR_WARNING     2
#define FAILURES_FOR_ERROR       5

typedef struct {
  char           *url;
  guint           tier;
  TeTrackerState  state;
  gint64          last_announce;        /* unix s */
  gint64          next_at;              /* monotonic µs, 0 when none is planned */
  gint64          not_before;           /* monotonic µs; backoff or refusal */
  guint           consecutive_failures;
  char           *last_error;
  char           *warning;
  gint64          seeders;
  gint64          leechers;
  guint           last_peer_count;
  char           *tracker_id;
  guint32         interval;             /* from its last reply, 0 before */
  gboolean        started;              /* took `started` since te_announcer_start() */
  gboolean        tried;                /* in the current round */
} Tracker;

typedef struct {
  TeAnnouncer     *self;         /* weak for announces (cleared on stop), strong for stops */
  Tracker         *tracker;
  TeAnnounceEvent  event;
  GCancellable    *cancellable;
  GSource         *timeout;      /* stops only */
} Call;

struct _TeAnnouncer
{
  GObject       parent_instance;

  SoupSession  *session;
  GMainContext *context;
  GPtrArray    *tiers;          /* GPtrArray of Tracker* */
  guint8        info_hash[20];
  guint8        peer_id[20];
  guint16       port;
  guint32       key;
  guint64       uploaded;
  guint64       downloaded;
  guint64       left;

  gboolean      running;
  gboolean      completed_pending;
  Call         *call;           /* the announce in flight */
  GSource      *timer;
  gint64        timer_at;       /* monotonic µs */
  GSource      *stopped_idle;
  guint         n_stopping;

  gint64        last_success;   /* monotonic µs, 0 never */
  guint32       interval;
  guint32       min_interval;

  guint         backoff_base_ms;
  guint         stop_timeout_ms;
};

G_DEFINE_FINAL_TYPE (TeAnnouncer, te_announcer, G_TYPE_OBJECT)

enum {
  SIGNAL_PEERS,
  SIGNAL_TRACKER_ERROR,
  SIGNAL_TRACKER_UPDATED,
  SIGNAL_STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void announce_next (TeAnnouncer *self);

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
tracker_free (gpointer data)
{
  Tracker *tracker = data;

  g_free (tracker->url);
  g_free (tracker->last_error);
  g_free (tracker->warning);
  g_free (tracker->tracker_id);
  g_free (tracker);
}

static void
call_free (Call *call)
{
  clear_source (&call->timeout);
  g_clear_object (&call->cancellable);
  g_free (call);
}

/**
 * te_tracker_info_free:
 * @info: (nullable): an entry of te_announcer_dup_trackers()
 */
void
te_tracker_info_free (TeTrackerInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->url);
  g_free (info->last_error);
  g_free (info->warning);
  g_free (info);
}

/* Abandons the announce in flight; its callback only frees it. */
static void
cancel_current (TeAnnouncer *self)
{
  Call *call = g_steal_pointer (&self->call);

  if (call == NULL)
    return;
  call->self = NULL;
  g_cancellable_cancel (call->cancellable);
}

static void
te_announcer_dispose (GObject *object)
{
  TeAnnouncer *self = TE_ANNOUNCER (object);

  self->running = FALSE;
  cancel_current (self);
  clear_source (&self->timer);
  clear_source (&self->stopped_idle);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (te_announcer_parent_class)->dispose (object);
}

static void
te_announcer_finalize (GObject *object)
{
  TeAnnouncer *self = TE_ANNOUNCER (object);

  g_ptr_array_unref (self->tiers);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (te_announcer_parent_class)->finalize (object);
}

static void
te_announcer_class_init (TeAnnouncerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = te_announcer_dispose;
  object_class->finalize = te_announcer_finalize;

  /**
   * TeAnnouncer::peers:
   * @peers: (element-type GInetSocketAddress): the peers a tracker returned
   * @url: the tracker
   */
  signals[SIGNAL_PEERS] =
    g_signal_new ("peers", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_PTR_ARRAY, G_TYPE_STRING);
  /**
   * TeAnnouncer::tracker-error:
   * @url: the tracker
   * @error: a `TE_TRACKER_ERROR`
   */
  signals[SIGNAL_TRACKER_ERROR] =
    g_signal_new ("tracker-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);
  /**
   * TeAnnouncer::tracker-updated:
   * @url: the tracker whose te_announcer_dup_trackers() entry changed
   */
  signals[SIGNAL_TRACKER_UPDATED] =
    g_signal_new ("tracker-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * TeAnnouncer::stopped:
   *
   * After te_announcer_stop(), once every `stopped` announce has finished
   * or timed out.
   */
  signals[SIGNAL_STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
te_announcer_init (TeAnnouncer *self)
{
  self->tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->context = g_main_context_ref_thread_default ();
  self->key = g_random_int ();
  self->backoff_base_ms = DEFAULT_BACKOFF_BASE_MS;
  self->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
}

static Tracker *
find_tracker (TeAnnouncer *self,
              const char  *url)
{
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          Tracker *tracker = g_ptr_array_index (tier, i);

          if (strcmp (tracker->url, url) == 0)
            return tracker;
        }
    }
  return NULL;
}

static Tracker *
add_tracker (TeAnnouncer *self,
             const char  *url,
             guint        tier_index)
{
  Tracker *tracker;

  if (find_tracker (self, url) != NULL)
    return NULL;
  if (tier_index >= self->tiers->len)
    {
      tier_index = self->tiers->len;
      g_ptr_array_add (self->tiers, g_ptr_array_new_with_free_func (tracker_free));
    }

  tracker = g_new0 (Tracker, 1);
  tracker->url = g_strdup (url);
  tracker->tier = tier_index;
  tracker->seeders = -1;
  tracker->leechers = -1;
  g_ptr_array_add (g_ptr_array_index (self->tiers, tier_index), tracker);
  return tracker;
}

/**
 * te_announcer_new:
 * @session: the session for HTTP(S) trackers
 * @tiers: (element-type GPtrArray): tiers of tracker URLs, as
 *   te_metainfo_get_tiers() returns them
 *
 * The URLs within each tier are shuffled (BEP 12); duplicates are dropped.
 *
 * Returns: (transfer full): a stopped announcer
 */
TeAnnouncer *
te_announcer_new (SoupSession  *session,
                  GPtrArray    *tiers,
                  const guint8  info_hash[20],
                  const guint8  peer_id[20],
                  guint16       port)
{
  TeAnnouncer *self;

  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);
  g_return_val_if_fail (info_hash != NULL && peer_id != NULL, NULL);

  self = g_object_new (TE_TYPE_ANNOUNCER, NULL);
  self->session = g_object_ref (session);
  memcpy (self->info_hash, info_hash, 20);
  memcpy (self->peer_id, peer_id, 20);
  self->port = port;

  for (guint t = 0; tiers != NULL && t < tiers->len; t++)
    {
      GPtrArray *urls = g_ptr_array_index (tiers, t);
      g_autoptr(GPtrArray) shuffled = g_ptr_array_new ();
      guint tier_index = self->tiers->len;

      for (guint i = 0; i < urls->len; i++)
        g_ptr_array_add (shuffled, g_ptr_array_index (urls, i));
      for (guint i = shuffled->len; i > 1; i--)
        {
          guint j = g_random_int_range (0, i);
          gpointer tmp = shuffled->pdata[i - 1];

          shuffled->pdata[i - 1] = shuffled->pdata[j];
          shuffled->pdata[j] = tmp;
        }
      for (guint i = 0; i < shuffled->len; i++)
        add_tracker (self, g_ptr_array_index (shuffled, i), tier_index);
    }
  return self;
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
static void
schedule_at (TeAnnouncer *self,
             gint64       at)
{
  gint64 now = g_get_monotonic_time ();
  gint64 delay_ms = at > now ? (at - now + 999) / 1000 : 0;

  clear_source (&self->timer);
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
  gdouble ms = MIN ((gdouble) self->backoff_base_ms * (1u << shift), BACKOFF_CAP_MS);

  ms *= g_random_double_range (0.75, 1.25);
  return (gint64) (MIN (ms, BACKOFF_CAP_MS) * 1000);
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
  g_signal_emit (self, signals[SIGNAL_TRACKER_UPDATED], 0, tracker->url);
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
  schedule_at (self, next);

  if (response->peers->len > 0)
    g_signal_emit (self, signals[SIGNAL_PEERS], 0, response->peers, tracker->url);
  emit_updated (self, tracker);
}

static void
announce_failed (TeAnnouncer  *self,
                 Tracker      *tracker,
                 const GError *error)
{
  gint64 now = g_get_monotonic_time ();

  tracker->consecutive_failures++;
  if (tracker->consecutive_failures >= FAILURES_FOR_ERROR)
    tracker->state = TE_TRACKER_STATE_ERROR;
  else if (tracker->consecutive_failures >= FAILURES_FOR_WARNING)
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
  g_signal_emit (self, signals[SIGNAL_TRACKER_ERROR], 0, tracker->url, error);
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

  response = te_tracker_announce_finish (result, &error);
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
  Call *call = g_new0 (Call, 1);

  call->self = self;
  call->tracker = tracker;
  call->event = event_for (self, tracker);
  call->cancellable = g_cancellable_new ();
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
  clear_source (&self->timer);
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
    schedule_at (self, earliest);
}

/* Stopping */

static gboolean
stopped_idle_cb (gpointer user_data)
{
  TeAnnouncer *self = user_data;

  g_clear_pointer (&self->stopped_idle, g_source_unref);
  g_signal_emit (self, signals[SIGNAL_STOPPED], 0);
  return G_SOURCE_REMOVE;
}

static void
stop_finished (TeAnnouncer *self)
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

  response = te_tracker_announce_finish (result, &error);
  if (response != NULL)
    call->tracker->last_announce = g_get_real_time () / G_USEC_PER_SEC;
  else
    g_debug ("%s: stopped: %s", call->tracker->url, error->message);
  call_free (call);
  stop_finished (self);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  Call *call = user_data;

  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

static void
send_stopped (TeAnnouncer *self,
              Tracker     *tracker)
{
  TeAnnounceRequest request;
  Call *call = g_new0 (Call, 1);

  call->self = g_object_ref (self);
  call->tracker = tracker;
  call->event = TE_ANNOUNCE_EVENT_STOPPED;
  call->cancellable = g_cancellable_new ();
  call->timeout = g_timeout_source_new (self->stop_timeout_ms);
  g_source_set_callback (call->timeout, stop_timeout_cb, call, NULL);
  g_source_attach (call->timeout, self->context);
  self->n_stopping++;

  fill_request (self, tracker, TE_ANNOUNCE_EVENT_STOPPED, &request);
  te_tracker_announce_async (self->session, tracker->url, &request, call->cancellable,
                             stop_sent_cb, call);
}

/* Public API */

/**
 * te_announcer_start:
 *
 * Announces `started` now, then again at each tracker's interval.
 */
void
te_announcer_start (TeAnnouncer *self)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));

  if (self->running)
    return;
  self->running = TRUE;
  clear_source (&self->stopped_idle);
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          Tracker *tracker = g_ptr_array_index (tier, i);

          tracker->started = FALSE;
          tracker->tried = FALSE;
          tracker->not_before = 0;
          tracker->next_at = 0;
        }
    }
  self->last_success = 0;
  schedule_at (self, g_get_monotonic_time ());
}

/**
 * te_announcer_stop:
 *
 * Abandons any announce in flight and sends `stopped` to every tracker that
 * took `started`, each with a short time limit. [signal@Announcer::stopped]
 * follows once they are all done; the announcer keeps itself alive until then.
 */
void
te_announcer_stop (TeAnnouncer *self)
{
  Tracker *in_flight = NULL;

  g_return_if_fail (TE_IS_ANNOUNCER (self));

  if (!self->running)
    return;
  self->running = FALSE;
  clear_source (&self->timer);
  self->timer_at = 0;
  /* A `started` in flight may have reached the tracker: tell it too. */
  if (self->call != NULL && self->call->event == TE_ANNOUNCE_EVENT_STARTED)
    in_flight = self->call->tracker;
  cancel_current (self);

  self->n_stopping++;
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          Tracker *tracker = g_ptr_array_index (tier, i);

          if (tracker->started || tracker == in_flight)
            send_stopped (self, tracker);
          tracker->started = FALSE;
          tracker->next_at = 0;
        }
    }
  stop_finished (self);
}

/**
 * te_announcer_completed:
 *
 * Sends `completed` now (once), if the announcer is running.
 */
void
te_announcer_completed (TeAnnouncer *self)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));

  if (!self->running)
    return;
  self->completed_pending = TRUE;
  if (self->call == NULL)
    schedule_at (self, g_get_monotonic_time ());
}

/**
 * te_announcer_announce_now:
 *
 * Asks for peers early, but not before the tracker's min interval (or 30 s
 * when it gave none) has passed since the last answer.
 */
void
te_announcer_announce_now (TeAnnouncer *self)
{
  gint64 at;

  g_return_if_fail (TE_IS_ANNOUNCER (self));

  if (!self->running || self->call != NULL)
    return;
  at = g_get_monotonic_time ();
  if (self->last_success != 0)
    {
      guint32 wait = self->min_interval ? self->min_interval : ANNOUNCE_NOW_FLOOR_S;

      at = MAX (at, self->last_success + (gint64) wait * G_USEC_PER_SEC);
    }
  if (self->timer != NULL && self->timer_at <= at)
    return;
  schedule_at (self, at);
}

void
te_announcer_set_stats (TeAnnouncer *self,
                        guint64      uploaded,
                        guint64      downloaded,
                        guint64      left)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));

  self->uploaded = uploaded;
  self->downloaded = downloaded;
  self->left = left;
}

/**
 * te_announcer_add_tracker:
 * @tier: the tier index; past the last tier, a new tier is added at the end
 *
 * Adds @url at the end of a tier, unless it is already known.
 */
void
te_announcer_add_tracker (TeAnnouncer *self,
                          const char  *url,
                          guint        tier)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));
  g_return_if_fail (url != NULL);

  if (add_tracker (self, url, tier) == NULL)
    return;
  if (self->running && self->call == NULL && self->timer == NULL)
    schedule_at (self, g_get_monotonic_time ());
}

/**
 * te_announcer_dup_trackers:
 *
 * Returns: (transfer full) (element-type TeTrackerInfo): the trackers, tier by
 *   tier in the order they are tried
 */
GPtrArray *
te_announcer_dup_trackers (TeAnnouncer *self)
{
  GPtrArray *out;
  gint64 now = g_get_monotonic_time ();
  gint64 real_now = g_get_real_time ();

  g_return_val_if_fail (TE_IS_ANNOUNCER (self), NULL);

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) te_tracker_info_free);
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          Tracker *tracker = g_ptr_array_index (tier, i);
          TeTrackerInfo *info = g_new0 (TeTrackerInfo, 1);

          info->url = g_strdup (tracker->url);
          info->tier = tracker->tier;
          info->state = tracker->state;
          info->last_announce = tracker->last_announce;
          if (self->running && tracker->next_at != 0)
            info->next_announce = (real_now + MAX (tracker->next_at - now, 0)) / G_USEC_PER_SEC;
          info->consecutive_failures = tracker->consecutive_failures;
          info->last_error = g_strdup (tracker->last_error);
          info->warning = g_strdup (tracker->warning);
          info->seeders = tracker->seeders;
          info->leechers = tracker->leechers;
          info->last_peer_count = tracker->last_peer_count;
          g_ptr_array_add (out, info);
        }
    }
  return out;
}

gboolean
te_announcer_is_running (TeAnnouncer *self)
{
  g_return_val_if_fail (TE_IS_ANNOUNCER (self), FALSE);

  return self->running;
}

/**
 * te_announcer_set_backoff_base_ms:
 * @ms: the first retry delay after a retryable failure (default 2000)
 *
 * A test hook: retries wait @ms · 2^(n-1) ± 25 %, at most 300 s.
 */
void
te_announcer_set_backoff_base_ms (TeAnnouncer *self,
                                  guint        ms)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));

  self->backoff_base_ms = ms > 0 ? ms : DEFAULT_BACKOFF_BASE_MS;
}

/**
 * te_announcer_set_stop_timeout_ms:
 * @ms: how long each `stopped` announce may take (default 5000)
 */
void
te_announcer_set_stop_timeout_ms (TeAnnouncer *self,
                                  guint        ms)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));

  self->stop_timeout_ms = ms > 0 ? ms : DEFAULT_STOP_TIMEOUT_MS;
}
