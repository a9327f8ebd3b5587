/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include "te-engine-private.h"
#include "te-queue-manager.h"
#include "te-torrent-private.h"

/* Settings of a running engine. Most are read where they are used (peer caps,
 * PEX, retries, seeding limits), so changing the copy here is enough; the
 * rest are pushed into the objects that cache them. */

/**
 * te_engine_get_settings:
 *
 * Returns: (transfer none): the settings in effect
 */
const TeEngineSettings *
te_engine_get_settings (TeEngine *self)
{
  g_return_val_if_fail (TE_IS_ENGINE (self), NULL);

  return &self->settings;
}

void
_te_engine_apply_limits (TeEngine *self)
{
  const TeEngineSettings *s = &self->settings;

  te_token_bucket_set_rate (&self->down_bucket,
                            s->alt_speed_enabled ? s->alt_download_limit : s->download_limit);
  te_token_bucket_set_rate (&self->up_bucket,
                            s->alt_speed_enabled ? s->alt_upload_limit : s->upload_limit);
}

static void
changed (TeEngine *self)
{
  g_signal_emit_by_name (self, "settings-changed");
}

/**
 * te_engine_set_settings:
 * @settings: the new settings
 *
 * Applies @settings to the running engine: speed limits (normal and
 * alternative), queue sizes and the stall timeout, seeding limits, peer caps,
 * PEX, retries and bans, and the state save interval. The download path is
 * used for torrents added later; a new listening port takes effect at the
 * next [method@Engine.start].
 */
void
te_engine_set_settings (TeEngine               *self,
                        const TeEngineSettings *settings)
{
  TeEngineSettings old;

  g_return_if_fail (TE_IS_ENGINE (self));
  g_return_if_fail (settings != NULL);
  g_return_if_fail (settings != &self->settings);

  old = self->settings;
  te_engine_settings_copy (&self->settings, settings);

  _te_engine_apply_limits (self);
  te_queue_manager_set_limits (self->queue, settings->max_active_downloads,
                               settings->max_active_seeds);
  te_queue_manager_set_stall_timeout (self->queue, settings->stall_timeout_s);
  te_ban_manager_set_policy (self->bans, MAX (settings->max_peer_failures_per_piece, 1),
                             (gint64) MIN (settings->peer_ban_duration_ms,
                                           (guint64) G_MAXINT64 / 1000) * 1000);
  /* Seeding limits are checked on the tick; a torrent past a new limit stops
   * there, one under it (again) resumes when the user starts it. */
  for (guint i = 0; i < self->torrents->len; i++)
    _te_torrent_update_state (g_ptr_array_index (self->torrents, i));

  te_engine_settings_clear (&old);
  changed (self);
}

/**
 * te_engine_set_limits:
 * @download: bytes/s, 0 unlimited
 * @upload: bytes/s, 0 unlimited
 *
 * Sets the normal global speed limits (in effect unless the alternative
 * limits are on).
 */
void
te_engine_set_limits (TeEngine *self,
                      guint64   download,
                      guint64   upload)
{
  g_return_if_fail (TE_IS_ENGINE (self));

  self->settings.download_limit = download;
  self->settings.upload_limit = upload;
  _te_engine_apply_limits (self);
  changed (self);
}

/**
 * te_engine_set_alt_speed:
 * @enabled: whether the alternative limits replace the normal ones
 */
void
te_engine_set_alt_speed (TeEngine *self,
                         gboolean  enabled)
{
  g_return_if_fail (TE_IS_ENGINE (self));

  enabled = !!enabled;
  if (self->settings.alt_speed_enabled == enabled)
    return;
  self->settings.alt_speed_enabled = enabled;
  _te_engine_apply_limits (self);
  changed (self);
}

gboolean
te_engine_get_alt_speed (TeEngine *self)
{
  g_return_val_if_fail (TE_IS_ENGINE (self), FALSE);

  return self->settings.alt_speed_enabled;
}

