/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include "te-engine-private.h"
#include "te-torrent-private.h"

/* Trouble that passes by itself.
 *
 * A torrent stopped by a full disk (ENOSPC, EDQUOT) stays in error, saying
 * so and when it tries again, and tries again by itself, as libtorrent does:
 * after DISK_RETRY_FIRST_MS, then twice as long each time the disk is still
 * full, up to DISK_RETRY_LAST_MS. Resuming by hand tries at once.
 *
 * A process out of descriptors is no error at all: the storage has already
 * closed the idle descriptors of every torrent, so the read, write or check
 * that found none is tried again after a short wait (FD_WAIT_FIRST_MS,
 * doubling up to FD_WAIT_LAST_MS), and the torrent waits its turn. */

#define DISK_RETRY_FIRST_MS (30 * 1000)
#define DISK_RETRY_LAST_MS  (10 * 60 * 1000)
#define FD_WAIT_FIRST_MS    100
#define FD_WAIT_LAST_MS     (5 * 1000)
#define FD_WAIT_RESET_US    (30 * G_USEC_PER_SEC)  /* a shortage this long ago is over */
#define FD_LOG_INTERVAL_US  (10 * G_USEC_PER_SEC)

static guint disk_retry_first_ms = DISK_RETRY_FIRST_MS;
static guint disk_retry_last_ms = DISK_RETRY_LAST_MS;

/**
 * _te_torrent_set_disk_retry:
 * @first_ms: the first wait after the disk filled up; 0 for the default
 * @last_ms: the longest wait
 *
 * For tests. Main thread only; torrents already waiting keep their timer.
 */
void
_te_torrent_set_disk_retry (guint first_ms,
                            guint last_ms)
{
  disk_retry_first_ms = first_ms ? first_ms : DISK_RETRY_FIRST_MS;
  disk_retry_last_ms = MAX (last_ms, disk_retry_first_ms);
}

/**
 * _te_torrent_clear_error:
 *
 * Takes the torrent's error away, and its timer to try again: it runs again,
 * after a check of its data when that may have changed under it.
 *
 * Returns: whether a check started (the caller need not update the state)
 */
gboolean
_te_torrent_clear_error (TeTorrent *self)
{
  g_clear_handle_id (&self->disk_retry_id, g_source_remove);
  if (self->error == NULL)
    return FALSE;
  g_clear_error (&self->error);
  g_clear_pointer (&self->error_event, te_error_event_free);
  if (self->metainfo && self->recheck_on_resume)
    {
      self->recheck_on_resume = FALSE;
      _te_torrent_start_check (self);
      return TRUE;
    }
  return FALSE;
}

static gboolean
disk_retry_cb (gpointer user_data)
{
  TeTorrent *self = user_data;

  self->disk_retry_id = 0;
  if (self->engine == NULL || self->error == NULL || self->user_paused)
    return G_SOURCE_REMOVE;
  g_message ("%s: trying again after a full disk", self->name);
  self->state_serial++;
  if (!_te_torrent_clear_error (self))
    _te_torrent_update_state (self);
  return G_SOURCE_REMOVE;
}

static char *
format_wait (guint ms)
{
  guint s = (ms + 999) / 1000;

  if (s < 120)
    return g_strdup_printf ("%u s", s);
  return g_strdup_printf ("%u min", (s + 59) / 60);
}

/**
 * _te_torrent_schedule_disk_retry:
 * @error: the torrent's error, about to be set: its message gets the wait
 * @event: the event about to be emitted for it
 *
 * The disk is full: try again after a while, longer each time in a row.
 */
void
_te_torrent_schedule_disk_retry (TeTorrent    *self,
                                 GError       *error,
                                 TeErrorEvent *event)
{
  guint wait = self->disk_retry_ms == 0 ? disk_retry_first_ms
                                        : MIN (self->disk_retry_ms * 2, disk_retry_last_ms);
  g_autofree char *when = format_wait (wait);
  char *message = g_strdup_printf ("%s; trying again in %s", error->message, when);

  self->disk_retry_ms = wait;
  g_free (error->message);
  error->message = message;
  g_free (event->message);
  event->message = g_strdup (message);
  event->action = TE_ERROR_ACTION_RETRY;
  g_clear_handle_id (&self->disk_retry_id, g_source_remove);
  self->disk_retry_id = g_timeout_add (wait, disk_retry_cb, self);
}

/**
 * _te_torrent_descriptor_wait:
 * @error: (transfer full): the %TE_STORAGE_ERROR_NO_DESCRIPTORS error
 *
 * Logs the shortage (at most every FD_LOG_INTERVAL_US per torrent).
 *
 * Returns: how many milliseconds to wait before trying again
 */
guint
_te_torrent_descriptor_wait (TeTorrent *self,
                             GError    *error)
{
  gint64 now = g_get_monotonic_time ();

  if (self->fd_wait_ms == 0 || now - self->fd_wait_us >= FD_WAIT_RESET_US)
    self->fd_wait_ms = FD_WAIT_FIRST_MS;
  else
    self->fd_wait_ms = MIN (self->fd_wait_ms * 2, FD_WAIT_LAST_MS);
  self->fd_wait_us = now;
  if (self->fd_logged_us == 0 || now - self->fd_logged_us >= FD_LOG_INTERVAL_US)
    {
      self->fd_logged_us = now;
      g_message ("%s: %s; waiting for a descriptor", self->name, error->message);
    }
  g_error_free (error);
  return self->fd_wait_ms;
}

static gboolean
check_retry_cb (gpointer user_data)
{
  TeTorrent *self = user_data;

  self->check_retry_id = 0;
  if (self->engine != NULL && self->checking)
    _te_engine_queue_check (self->engine, self);
  return G_SOURCE_REMOVE;
}

/**
 * _te_torrent_retry_check_later:
 * @error: (transfer full): why the check could not go on
 *
 * A check that found no descriptor for a long while: the torrent stays
 * checking, and the check is queued again after a wait.
 */
void
_te_torrent_retry_check_later (TeTorrent *self,
                               GError    *error)
{
  guint wait = _te_torrent_descriptor_wait (self, error);

  g_clear_handle_id (&self->check_retry_id, g_source_remove);
  self->check_retry_id = g_timeout_add (wait, check_retry_cb, self);
}

static gboolean
serve_retry_cb (gpointer user_data)
{
  TeTorrent *self = user_data;

  self->serve_retry_id = 0;
  if (self->engine == NULL || !self->running)
    return G_SOURCE_REMOVE;
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));

      if (slot != NULL && slot->n_incoming > 0)
        _te_torrent_serve (self, slot);
    }
  return G_SOURCE_REMOVE;
}

/**
 * _te_torrent_serve_later:
 * @error: (transfer full): why a piece could not be read
 *
 * Peers' requests stay queued; they are served after a wait.
 */
void
_te_torrent_serve_later (TeTorrent *self,
                         GError    *error)
{
  guint wait = _te_torrent_descriptor_wait (self, error);

  if (self->serve_retry_id == 0)
    self->serve_retry_id = g_timeout_add (wait, serve_retry_cb, self);
}
