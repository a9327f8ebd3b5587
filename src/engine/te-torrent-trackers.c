/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-torrent-private.h"

/* The user's tracker list. A torrent announces to its metainfo's (or magnet's)
 * tiers until the list is edited; from then on it keeps its own copy, which
 * the state file carries across restarts. */

G_DEFINE_QUARK (te-torrent-error-quark, te_torrent_error)

#define MAX_TRACKERS 200
#define MAX_URL_LENGTH 2048

/**
 * _te_torrent_get_tiers:
 *
 * Returns: (transfer none) (element-type GPtrArray): the tiers of tracker URLs in use
 */
GPtrArray *
_te_torrent_get_tiers (TeTorrent *self)
{
  if (self->tracker_tiers)
    return self->tracker_tiers;
  return self->metainfo ? te_metainfo_get_tiers (self->metainfo) : self->magnet_trackers;
}

static GPtrArray *
copy_tiers (GPtrArray *tiers)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  for (guint t = 0; t < tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (tiers, t);
      GPtrArray *c = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < tier->len; i++)
        g_ptr_array_add (c, g_strdup (g_ptr_array_index (tier, i)));
      g_ptr_array_add (copy, c);
    }
  return copy;
}

static gboolean
find_url (GPtrArray  *tiers,
          const char *url,
          guint      *tier_out,
          guint      *index_out)
{
  for (guint t = 0; t < tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (tiers, t);

      for (guint i = 0; i < tier->len; i++)
        if (strcmp (g_ptr_array_index (tier, i), url) == 0)
          {
            *tier_out = t;
            *index_out = i;
            return TRUE;
          }
    }
  return FALSE;
}

static guint
count_urls (GPtrArray *tiers)
{
  guint n = 0;

  for (guint t = 0; t < tiers->len; t++)
    n += ((GPtrArray *) g_ptr_array_index (tiers, t))->len;
  return n;
}

static gboolean
check_url (const char  *url,
           GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (url == NULL || *url == '\0' || strlen (url) > MAX_URL_LENGTH)
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_INVALID_TRACKER,
                   "A tracker URL must be 1 to %d characters long", MAX_URL_LENGTH);
      return FALSE;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || !(g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0
           || g_ascii_strcasecmp (scheme, "udp") == 0))
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_INVALID_TRACKER,
                   "“%s” is not an http, https or udp tracker URL", url);
      return FALSE;
    }
  return TRUE;
}

/* Owns the tiers from now on; the next announce goes to the new list. */
void
_te_torrent_set_tiers (TeTorrent *self,
                       GPtrArray *tiers)
{
  if (self->tracker_tiers != tiers)
    {
      g_clear_pointer (&self->tracker_tiers, g_ptr_array_unref);
      self->tracker_tiers = tiers;
    }
  g_clear_pointer (&self->last_trackers, g_ptr_array_unref);
  _te_torrent_reset_announcer (self);
}

/**
 * te_torrent_add_tracker:
 * @url: an http, https or udp announce URL
 * @tier: the tier to add it to, or -1 for a new last tier
 *
 * Returns: whether it was added (not when invalid or already there)
 */
gboolean
te_torrent_add_tracker (TeTorrent   *self,
                        const char  *url,
                        int          tier,
                        GError     **error)
{
  g_autoptr(GPtrArray) tiers = NULL;
  guint t, i;

  g_return_val_if_fail (TE_IS_TORRENT (self), FALSE);

  if (!check_url (url, error))
    return FALSE;
  tiers = copy_tiers (_te_torrent_get_tiers (self));
  if (find_url (tiers, url, &t, &i))
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_TRACKER_EXISTS,
                   "“%s” is already a tracker of this torrent", url);
      return FALSE;
    }
  if (count_urls (tiers) >= MAX_TRACKERS)
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_INVALID_TRACKER,
                   "A torrent has at most %d trackers", MAX_TRACKERS);
      return FALSE;
    }
  if (tier < 0 || (guint) tier >= tiers->len)
    {
      tier = tiers->len;
      g_ptr_array_add (tiers, g_ptr_array_new_with_free_func (g_free));
    }
  g_ptr_array_add (g_ptr_array_index (tiers, tier), g_strdup (url));
  _te_torrent_set_tiers (self, g_steal_pointer (&tiers));
  return TRUE;
}

/**
 * te_torrent_remove_tracker:
 * @url: one of the torrent's trackers
 *
 * Returns: whether it was removed (not when it is not a tracker of the torrent)
 */
gboolean
te_torrent_remove_tracker (TeTorrent   *self,
                           const char  *url,
                           GError     **error)
{
  g_autoptr(GPtrArray) tiers = NULL;
  guint t, i;

  g_return_val_if_fail (TE_IS_TORRENT (self), FALSE);

  tiers = copy_tiers (_te_torrent_get_tiers (self));
  if (url == NULL || !find_url (tiers, url, &t, &i))
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_NO_TRACKER,
                   "“%s” is not a tracker of this torrent", url ? url : "");
      return FALSE;
    }
  g_ptr_array_remove_index (g_ptr_array_index (tiers, t), i);
  if (((GPtrArray *) g_ptr_array_index (tiers, t))->len == 0)
    g_ptr_array_remove_index (tiers, t);
  _te_torrent_set_tiers (self, g_steal_pointer (&tiers));
  return TRUE;
}

/**
 * te_torrent_replace_tracker:
 * @old_url: one of the torrent's trackers
 * @new_url: the URL to announce to instead, in the same tier
 *
 * Returns: whether it was replaced
 */
gboolean
te_torrent_replace_tracker (TeTorrent   *self,
                            const char  *old_url,
                            const char  *new_url,
                            GError     **error)
{
  g_autoptr(GPtrArray) tiers = NULL;
  GPtrArray *tier;
  guint t, i, t2, i2;

  g_return_val_if_fail (TE_IS_TORRENT (self), FALSE);

  if (!check_url (new_url, error))
    return FALSE;
  tiers = copy_tiers (_te_torrent_get_tiers (self));
  if (old_url == NULL || !find_url (tiers, old_url, &t, &i))
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_NO_TRACKER,
                   "“%s” is not a tracker of this torrent", old_url ? old_url : "");
      return FALSE;
    }
  if (strcmp (old_url, new_url) != 0 && find_url (tiers, new_url, &t2, &i2))
    {
      g_set_error (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_TRACKER_EXISTS,
                   "“%s” is already a tracker of this torrent", new_url);
      return FALSE;
    }
  tier = g_ptr_array_index (tiers, t);
  g_free (tier->pdata[i]);
  tier->pdata[i] = g_strdup (new_url);
  _te_torrent_set_tiers (self, g_steal_pointer (&tiers));
  return TRUE;
}
