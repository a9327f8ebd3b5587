/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-engine-private.h"
#include "te-torrent-private.h"

/* What users of a torrent change: running or not, where its data is, its
 * files' priorities, its limits, its peers. */

/**
 * te_torrent_start:
 *
 * Resumes a paused torrent (it may wait in the queue), retries one stopped by
 * an error (checking its data first when it may have changed), or goes on
 * seeding one that reached its seeding limits.
 */
void
te_torrent_start (TeTorrent *self)
{
  self->user_paused = FALSE;
  self->state_serial++;
  if (_te_torrent_clear_error (self))
    return;
  if (self->state == TE_TORRENT_STATE_COMPLETE)
    {
      self->seed_done = FALSE;
      self->ignore_seed_limits = TRUE;
    }
  _te_torrent_update_state (self);
}

/**
 * te_torrent_pause:
 *
 * Stops the torrent until te_torrent_start(). #TeTorrent::stopped follows
 * once the trackers have been told.
 */
void
te_torrent_pause (TeTorrent *self)
{
  gboolean was_running = self->running;

  if (self->user_paused)
    return;
  self->user_paused = TRUE;
  self->state_serial++;
  /* Paused means paused: no retry after a full disk either. */
  g_clear_handle_id (&self->disk_retry_id, g_source_remove);
  _te_torrent_update_state (self);
  /* A paused torrent holds no descriptor: resuming opens its files again by
   * path, so a file deleted or replaced meanwhile is not read through an old
   * descriptor. */
  if (self->storage)
    te_storage_close_files (self->storage);
  if (!was_running)
    g_idle_add_full (G_PRIORITY_DEFAULT, _te_torrent_emit_stopped_idle, g_object_ref (self), g_object_unref);
}

/**
 * te_torrent_recheck:
 *
 * Checks all data on disk again; the torrent drops its peers meanwhile.
 */
void
te_torrent_recheck (TeTorrent *self)
{
  if (self->metainfo == NULL || self->checking)
    return;
  if (self->running)
    _te_torrent_stop_running (self, "checking");
  te_storage_close_files (self->storage);
  _te_torrent_start_check (self);
}

/**
 * te_torrent_set_save_path:
 * @save_path: an absolute folder that already holds (some of) the data
 *
 * Points the torrent at @save_path without moving anything, then checks
 * the data found there; use [method@Engine.move_storage_async] to move it.
 *
 * Returns: whether the path was taken (it must be absolute)
 */
gboolean
te_torrent_set_save_path (TeTorrent   *self,
                          const char  *save_path,
                          GError     **error)
{
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (TE_IS_TORRENT (self), FALSE);
  g_return_val_if_fail (save_path != NULL, FALSE);

  if (!g_path_is_absolute (save_path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an absolute path", save_path);
      return FALSE;
    }
  canonical = g_canonicalize_filename (save_path, NULL);
  if (g_strcmp0 (canonical, self->save_path) == 0)
    return TRUE;
  if (self->running)
    _te_torrent_stop_running (self, "moving");
  _te_torrent_set_storage_path (self, canonical);
  if (self->metainfo)
    _te_torrent_start_check (self);
  return TRUE;
}

/**
 * te_torrent_announce_now:
 *
 * Asks the trackers for peers now instead of at their next interval, when
 * the torrent runs.
 */
void
te_torrent_announce_now (TeTorrent *self)
{
  g_return_if_fail (TE_IS_TORRENT (self));

  if (self->announcer)
    te_announcer_announce_now (self->announcer);
}

/* After the files moved: the storage is reopened at the new place. */
void
_te_torrent_set_storage_path (TeTorrent  *self,
                              const char *save_path)
{
  g_free (self->save_path);
  self->save_path = g_strdup (save_path);
  self->state_serial++;
  if (self->metainfo)
    {
      g_clear_object (&self->storage);
      self->storage = te_storage_new (self->metainfo, self->save_path, TE_STORAGE_FLAGS_NONE);
    }
  g_object_notify (G_OBJECT (self), "save-path");
}

void
te_torrent_set_sequential (TeTorrent *self,
                           gboolean   sequential)
{
  self->sequential = sequential;
  if (self->picker)
    te_picker_set_sequential (self->picker, sequential);
}

void
_te_torrent_priorities_changed (TeTorrent *self)
{
  if (self->picker == NULL)
    return;
  _te_torrent_apply_priorities (self);
  _te_torrent_update_state (self);
  for (guint i = 0; i < self->peers->len; i++)
    {
      PeerSlot *slot = te_peer_get_owner_data (g_ptr_array_index (self->peers, i));
      if (slot && slot->handshaken && self->have)
        _te_torrent_recount_interest (self, slot);
    }
}

void
te_torrent_set_file_priority (TeTorrent  *self,
                              guint       file_index,
                              TePriority  priority)
{
  g_return_if_fail (priority <= TE_PRIORITY_HIGH);
  _te_torrent_store_file_priority (self, file_index, priority);
  _te_torrent_priorities_changed (self);
}

void
te_torrent_set_file_wanted (TeTorrent *self,
                            guint      file_index,
                            gboolean   wanted)
{
  te_torrent_set_file_priority (self, file_index, wanted ? TE_PRIORITY_NORMAL : TE_PRIORITY_SKIP);
}

void
te_torrent_set_limits (TeTorrent *self,
                       guint64    download,
                       guint64    upload)
{
  te_token_bucket_set_rate (&self->down_bucket, download);
  te_token_bucket_set_rate (&self->up_bucket, upload);
}

/**
 * te_torrent_get_limits:
 * @download: (out) (optional): bytes/s, 0 when the torrent has no limit of its own
 * @upload: (out) (optional): bytes/s, 0 when the torrent has no limit of its own
 */
void
te_torrent_get_limits (TeTorrent *self,
                       guint64   *download,
                       guint64   *upload)
{
  g_return_if_fail (TE_IS_TORRENT (self));

  if (download)
    *download = self->down_bucket.rate;
  if (upload)
    *upload = self->up_bucket.rate;
}

/**
 * te_torrent_set_seed_limits:
 * @ratio: stop seeding at this ratio; negative for the engine's setting, 0 for none
 * @seed_time_ms: stop after seeding this long; negative for the engine's setting, 0 for none
 *
 * Raising a limit past what the torrent reached lets a completed torrent
 * seed again when it is started.
 */
void
te_torrent_set_seed_limits (TeTorrent *self,
                            double     ratio,
                            gint64     seed_time_ms)
{
  g_return_if_fail (TE_IS_TORRENT (self));

  if (self->seed_ratio == ratio && self->seed_time_ms == seed_time_ms)
    return;
  self->seed_ratio = ratio;
  self->seed_time_ms = seed_time_ms;
  self->state_serial++;
  _te_torrent_update_state (self);
}

/**
 * te_torrent_get_seed_limits:
 * @ratio: (out) (optional): negative when the engine's setting applies, 0 for none
 * @seed_time_ms: (out) (optional): negative when the engine's setting applies, 0 for none
 */
void
te_torrent_get_seed_limits (TeTorrent *self,
                            double    *ratio,
                            gint64    *seed_time_ms)
{
  g_return_if_fail (TE_IS_TORRENT (self));

  if (ratio)
    *ratio = self->seed_ratio;
  if (seed_time_ms)
    *seed_time_ms = self->seed_time_ms;
}

gboolean
te_torrent_get_sequential (TeTorrent *self)
{
  g_return_val_if_fail (TE_IS_TORRENT (self), FALSE);

  return self->sequential;
}

/**
 * te_torrent_set_super_seeding:
 *
 * BEP 16: while seeding, each peer is shown one rare piece at a time instead
 * of the whole bitfield, so a new torrent spreads with little upload. Takes
 * effect for peers that connect afterwards.
 */
void
te_torrent_set_super_seeding (TeTorrent *self,
                              gboolean   enabled)
{
  self->super_seeding = enabled;
}

/**
 * te_torrent_add_peer:
 *
 * A peer to try, as if a tracker had named it (Transmission does not dial
 * loopback peers itself, so tests hand them over this way).
 */
void
te_torrent_add_peer (TeTorrent          *self,
                     GInetSocketAddress *address)
{
  _te_torrent_learn_peer (self, address);
  if (self->state != TE_TORRENT_STATE_PAUSED && self->state != TE_TORRENT_STATE_ERROR
      && self->state != TE_TORRENT_STATE_CHECKING)
    _te_torrent_connect_more (self);
}
