/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-engine-private.h"
#include "te-torrent-private.h"

/* A torrent's data on disk: which pieces its files' priorities make wanted,
 * the check of what is there (whole, or trusting saved state when the files
 * look unchanged), and a seed's look at its files now and then. */

#define FILE_WATCH_US (5 * G_USEC_PER_SEC)

/* The tables of in-flight pieces, reads and file priorities are made when
 * first needed: most of 10,000 torrents are idle seeds that never use them. */
TePriority
_te_torrent_file_priority (TeTorrent *self,
                           guint      index)
{
  gpointer v = self->file_priorities
               ? g_hash_table_lookup (self->file_priorities, GUINT_TO_POINTER (index)) : NULL;

  return v ? (TePriority) (GPOINTER_TO_UINT (v) - 1) : TE_PRIORITY_NORMAL;
}

void
_te_torrent_store_file_priority (TeTorrent  *self,
                                 guint       index,
                                 TePriority  priority)
{
  if (self->file_priorities == NULL)
    self->file_priorities = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (self->file_priorities, GUINT_TO_POINTER (index),
                       GUINT_TO_POINTER (priority + 1));
}

/* A piece takes the highest priority of the files with bytes in it; it is
 * wanted when any of them is. */
void
_te_torrent_apply_priorities (TeTorrent *self)
{
  TeMetainfo *meta = self->metainfo;
  guint n = te_metainfo_get_n_pieces (meta);
  g_autofree guint8 *prio = g_malloc0 (n);

  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      TePriority p = _te_torrent_file_priority (self, i);
      guint first, last;

      if ((f->attrs & TE_FILE_ATTR_PAD) || p == TE_PRIORITY_SKIP
          || !te_metainfo_get_file_pieces (meta, i, &first, &last))
        continue;
      /* v2 only, layer not fetched yet: its pieces could not be verified. */
      if (!te_metainfo_has_v1 (meta) && !_te_torrent_file_has_hashes (self, i))
        continue;
      for (guint piece = first; piece <= last; piece++)
        prio[piece] = MAX (prio[piece], (guint8) p);
    }
  g_clear_pointer (&self->wanted, te_bitfield_free);
  self->wanted = te_bitfield_new (n);
  for (guint p = 0; p < n; p++)
    {
      te_picker_set_priority (self->picker, p, (TePriority) prio[p]);
      if (prio[p] != TE_PRIORITY_SKIP)
        te_bitfield_set (self->wanted, p, TRUE);
    }
  self->bytes_dirty = TRUE;
}

static void
watched_files_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TeTorrent) self = user_data;
  g_autoptr(GError) error = NULL;

  self->watching_files = FALSE;
  if (!te_storage_check_files_finish (TE_STORAGE (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && self->running && self->engine && source == (GObject *) self->storage)
    _te_torrent_fail_io (self, g_steal_pointer (&error));
}

/* A running torrent with peers, or with files open, looks at its files now
 * and then (on a worker: a few stat() calls per file): a file deleted or
 * replaced under it still reads through an open descriptor, but the user's
 * data is gone. Descriptors idle for long are closed on the way, so a quiet
 * seed soon holds none and stops looking. */
void
_te_torrent_watch_files (TeTorrent *self,
                         gint64     now)
{
  if (self->watching_files || self->storage == NULL || self->have == NULL
      || now - self->files_checked_us < FILE_WATCH_US)
    return;
  if (self->peers->len == 0 && !te_storage_has_open_files (self->storage))
    return;
  self->files_checked_us = now;
  self->watching_files = TRUE;
  /* A copy: a check may replace the bitfield while the worker reads it. */
  g_clear_pointer (&self->watched_have, te_bitfield_free);
  self->watched_have = te_bitfield_copy (self->have);
  te_storage_check_files_async (self->storage, self->watched_have, self->cancellable,
                                watched_files_cb, g_object_ref (self));
}

static void
check_done (TeTorrent  *self,
            TeBitfield *have)
{
  te_bitfield_free (self->have);
  self->have = have;
  te_picker_set_have (self->picker, self->have);
  self->bytes_dirty = TRUE;
  self->checking = FALSE;
  self->check_progress = 1.0;
  self->state_serial++;
  _te_torrent_recompute_stats (self, g_get_monotonic_time ());
  _te_torrent_update_state (self);
  if (self->running)
    _te_torrent_announce_pieces (self);
}

static void
rechecked_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TeTorrent) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeRecheckResult) r = te_storage_recheck_finish (TE_STORAGE (source), result, &error);

  if (self->engine == NULL)
    return;
  _te_engine_check_done (self->engine, self);
  if (r == NULL)
    {
      /* Out of descriptors for a long while: still checking, again later. */
      if (g_error_matches (error, TE_STORAGE_ERROR, TE_STORAGE_ERROR_NO_DESCRIPTORS))
        _te_torrent_retry_check_later (self, g_steal_pointer (&error));
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->checking = FALSE;
          _te_torrent_fail_io (self, g_steal_pointer (&error));
        }
      return;
    }
  check_done (self, g_steal_pointer (&r->have));
}

static void
check_progress_cb (guint    done,
                   guint    total,
                   gpointer user_data)
{
  TeTorrent *self = user_data;

  self->check_progress = total ? (double) done / total : 1.0;
  _te_torrent_publish (self);
}

/* Called by the engine when a check slot is free: checks run a few at a time,
 * so thousands of added torrents finish at the disk's pace. */
void
_te_torrent_run_check (TeTorrent *self)
{
  te_storage_recheck_async (self->storage, check_progress_cb, self, self->cancellable,
                            rechecked_cb, g_object_ref (self));
}

void
_te_torrent_start_check (TeTorrent *self)
{
  self->checking = TRUE;
  self->check_progress = 0;
  _te_torrent_update_state (self);
  _te_engine_queue_check (self->engine, self);
}

static void
files_checked_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TeTorrent) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TeBitfield) have = g_steal_pointer (&self->restored);

  if (!te_storage_check_files_finish (TE_STORAGE (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->engine == NULL)
        return;
      /* Something changed on disk since the state was saved: look at it all. */
      g_message ("%s: %s; checking the data", self->name, error->message);
      _te_torrent_start_check (self);
      return;
    }
  if (self->engine == NULL)
    return;
  check_done (self, g_steal_pointer (&have));
}

/**
 * _te_torrent_restore:
 * @have: (transfer full): verified pieces from saved state
 * @verify: check all data anyway
 *
 * After _te_torrent_metadata_ready() for a torrent from saved state: trusts
 * @have when the files are still there with their sizes, else checks.
 */
void
_te_torrent_restore (TeTorrent  *self,
                     TeBitfield *have,
                     gboolean    verify)
{
  g_clear_pointer (&self->restored, te_bitfield_free);
  if (verify || te_bitfield_size (have) != te_metainfo_get_n_pieces (self->metainfo))
    {
      te_bitfield_free (have);
      _te_torrent_start_check (self);
      return;
    }
  self->restored = have;
  self->checking = TRUE;
  _te_torrent_update_state (self);
  te_storage_check_files_async (self->storage, self->restored, self->cancellable,
                                files_checked_cb, g_object_ref (self));
}
