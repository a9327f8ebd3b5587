/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-announcer"

#include "config.h"

#include <string.h>

#include "te-announcer-private.h"

/* The trackers of one torrent (BEP 12). An announce round walks the tiers in
 * order and each tier's trackers in order, skipping trackers that are backing
 * off, until one answers; that tracker moves to the front of its tier and the
 * next round comes at its interval. Everything runs on the main context the
 * announcer was made on. */

G_DEFINE_FINAL_TYPE (TeAnnouncer, te_announcer, G_TYPE_OBJECT)

guint _te_announcer_signals[TE_ANNOUNCER_N_SIGNALS];

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

static void
te_announcer_dispose (GObject *object)
{
  TeAnnouncer *self = TE_ANNOUNCER (object);

  self->running = FALSE;
  _te_announcer_cancel_current (self);
  _te_announcer_clear_source (&self->timer);
  _te_announcer_clear_source (&self->stopped_idle);
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
  _te_announcer_signals[TE_ANNOUNCER_SIGNAL_PEERS] =
    g_signal_new ("peers", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_PTR_ARRAY, G_TYPE_STRING);
  /**
   * TeAnnouncer::tracker-error:
   * @url: the tracker
   * @error: a `TE_TRACKER_ERROR`
   */
  _te_announcer_signals[TE_ANNOUNCER_SIGNAL_TRACKER_ERROR] =
    g_signal_new ("tracker-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);
  /**
   * TeAnnouncer::tracker-updated:
   * @url: the tracker whose te_announcer_dup_trackers() entry changed
   */
  _te_announcer_signals[TE_ANNOUNCER_SIGNAL_TRACKER_UPDATED] =
    g_signal_new ("tracker-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * TeAnnouncer::stopped:
   *
   * After te_announcer_stop(), once every `stopped` announce has finished
   * or timed out.
   */
  _te_announcer_signals[TE_ANNOUNCER_SIGNAL_STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
te_announcer_init (TeAnnouncer *self)
{
  self->tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->context = g_main_context_ref_thread_default ();
  self->key = g_random_int ();
  self->backoff_base_ms = TE_ANNOUNCER_DEFAULT_BACKOFF_BASE_MS;
  self->attempt_timeout_ms = TE_ANNOUNCER_DEFAULT_ATTEMPT_TIMEOUT_MS;
  self->stop_timeout_ms = TE_ANNOUNCER_DEFAULT_STOP_TIMEOUT_MS;
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
  _te_announcer_clear_source (&self->stopped_idle);
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
  _te_announcer_schedule_at (self, g_get_monotonic_time ());
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
  _te_announcer_clear_source (&self->timer);
  self->timer_at = 0;
  /* A `started` in flight may have reached the tracker: tell it too. */
  if (self->call != NULL && self->call->event == TE_ANNOUNCE_EVENT_STARTED)
    in_flight = self->call->tracker;
  _te_announcer_cancel_current (self);

  self->n_stopping++;
  for (guint t = 0; t < self->tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (self->tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          Tracker *tracker = g_ptr_array_index (tier, i);

          if (tracker->started || tracker == in_flight)
            _te_announcer_send_stopped (self, tracker);
          tracker->started = FALSE;
          tracker->next_at = 0;
        }
    }
  _te_announcer_stop_finished (self);
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
    _te_announcer_schedule_at (self, g_get_monotonic_time ());
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
      guint32 wait = self->min_interval ? self->min_interval
                                        : TE_ANNOUNCER_ANNOUNCE_NOW_FLOOR_S;

      at = MAX (at, self->last_success + (gint64) wait * G_USEC_PER_SEC);
    }
  if (self->timer != NULL && self->timer_at <= at)
    return;
  _te_announcer_schedule_at (self, at);
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
    _te_announcer_schedule_at (self, g_get_monotonic_time ());
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
          if (self->running && tracker->next_at > now)
            info->next_announce = (real_now + tracker->next_at - now) / G_USEC_PER_SEC;
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

  self->backoff_base_ms = ms > 0 ? ms : TE_ANNOUNCER_DEFAULT_BACKOFF_BASE_MS;
}

/**
 * te_announcer_set_attempt_timeout_ms:
 * @ms: how long one announce may take before the next tracker is tried
 *   (default 120000)
 */
void
te_announcer_set_attempt_timeout_ms (TeAnnouncer *self,
                                     guint        ms)
{
  g_return_if_fail (TE_IS_ANNOUNCER (self));

  self->attempt_timeout_ms = ms > 0 ? ms : TE_ANNOUNCER_DEFAULT_ATTEMPT_TIMEOUT_MS;
}
