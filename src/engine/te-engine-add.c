/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-engine"

#include "config.h"

#include <string.h>

#include "te-engine-private.h"
#include "te-hash.h"
#include "te-queue-manager.h"
#include "te-torrent-private.h"

/* Adding torrents: from metainfo, .torrent bytes or files, and magnets. */

/**
 * te_engine_find_torrent:
 * @id: a v1 info-hash (40 hex digits) or a v2 one (64)
 *
 * Returns: (transfer none) (nullable): the torrent
 */
TeTorrent *
te_engine_find_torrent (TeEngine   *self,
                        const char *id)
{
  guint8 hash[32];
  gsize len = id ? strlen (id) : 0;

  if ((len != 40 && len != 64) || !te_hex_decode (id, len, hash, len / 2))
    return NULL;
  return _te_engine_lookup_hash (self, hash);
}

void
te_add_options_init (TeAddOptions *options)
{
  memset (options, 0, sizeof *options);
  options->priority = TE_QUEUE_PRIORITY_NORMAL;
}

static TeTorrent *
add_common (TeEngine           *self,
            const TeAddOptions *options)
{
  TeAddOptions defaults;
  TeTorrent *torrent;

  if (options == NULL)
    {
      te_add_options_init (&defaults);
      options = &defaults;
    }
  torrent = _te_torrent_new (self, options->save_path ? options->save_path
                                                      : self->settings.download_path);
  torrent->user_paused = options->paused;
  torrent->priority = options->priority;
  torrent->sequential = options->sequential;
  for (guint i = 0; options->wanted && i < options->n_wanted; i++)
    if (!options->wanted[i])
      _te_torrent_store_file_priority (torrent, i, TE_PRIORITY_SKIP);
  g_ptr_array_add (self->torrents, torrent);
  te_queue_manager_add (self->queue, torrent);
  return torrent;
}

/**
 * te_engine_add_torrent_full:
 * @metainfo: the torrent
 * @options: (nullable): where and how; defaults when `NULL`
 * @restore: (nullable) (transfer full): verified pieces from saved state; the
 *   data is then checked only if its files changed (or the settings say so)
 *
 * Returns: (transfer none): the torrent, checking its data and then queued to run
 */
TeTorrent *
te_engine_add_torrent_full (TeEngine           *self,
                            TeMetainfo         *metainfo,
                            const TeAddOptions *options,
                            TeBitfield         *restore,
                            GError            **error)
{
  TeTorrent *torrent;
  const guint8 *hash = te_metainfo_has_v1 (metainfo) ? te_metainfo_get_info_hash (metainfo)
                                                     : te_metainfo_get_info_hash_v2 (metainfo);

  if (_te_engine_lookup_hash (self, hash) != NULL)
    {
      g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE,
                   "“%s” is already added", te_metainfo_get_name (metainfo));
      if (restore)
        te_bitfield_free (restore);
      return NULL;
    }
  torrent = add_common (self, options);
  _te_torrent_metadata_ready (torrent, metainfo, restore == NULL);
  if (restore)
    _te_torrent_restore (torrent, restore, self->settings.verify_on_resume);
  _te_engine_announce_added (self, torrent);
  return torrent;
}

/**
 * te_engine_add_torrent:
 *
 * Returns: (transfer none): the torrent, checking its data and then queued to run
 */
TeTorrent *
te_engine_add_torrent (TeEngine    *self,
                       TeMetainfo  *metainfo,
                       const char  *save_path,
                       GError     **error)
{
  TeAddOptions options;

  te_add_options_init (&options);
  options.save_path = save_path;
  return te_engine_add_torrent_full (self, metainfo, &options, NULL, error);
}

/**
 * te_engine_add_torrent_bytes:
 * @bytes: a .torrent file's contents
 *
 * Returns: (transfer none): the torrent
 */
TeTorrent *
te_engine_add_torrent_bytes (TeEngine           *self,
                             GBytes             *bytes,
                             const TeAddOptions *options,
                             GError            **error)
{
  g_autoptr(TeMetainfo) meta = te_metainfo_new_from_bytes (bytes, error);

  if (meta == NULL)
    return NULL;
  return te_engine_add_torrent_full (self, meta, options, NULL, error);
}

/**
 * te_engine_add_magnet_full:
 *
 * Returns: (transfer none): the torrent, fetching its metadata from peers once it runs
 */
TeTorrent *
te_engine_add_magnet_full (TeEngine           *self,
                           TeMagnet           *magnet,
                           const TeAddOptions *options,
                           GError            **error)
{
  TeTorrent *torrent;

  if (_te_engine_lookup_hash (self, magnet->has_v1 ? magnet->info_hash : magnet->info_hash_v2) != NULL)
    {
      g_set_error (error, TE_ENGINE_ERROR, TE_ENGINE_ERROR_DUPLICATE,
                   "This magnet link's torrent is already added");
      return NULL;
    }
  torrent = add_common (self, options);
  if (magnet->has_v1)
    {
      memcpy (torrent->info_hash, magnet->info_hash, 20);
      torrent->has_v1_hash = TRUE;
    }
  else
    memcpy (torrent->info_hash, magnet->info_hash_v2, 20);
  if (magnet->has_v2)
    {
      memcpy (torrent->info_hash_v2, magnet->info_hash_v2, 32);
      torrent->has_v2_hash = TRUE;
    }
  torrent->name = g_strdup (magnet->display_name ? magnet->display_name : "magnet");
  for (guint i = 0; i < magnet->trackers->len; i++)
    {
      GPtrArray *tier = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (tier, g_strdup (g_ptr_array_index (magnet->trackers, i)));
      g_ptr_array_add (torrent->magnet_trackers, tier);
    }
  for (guint i = 0; i < magnet->peers->len; i++)
    {
      g_autoptr(GSocketConnectable) c = g_network_address_parse (g_ptr_array_index (magnet->peers, i),
                                                                 6881, NULL);
      GNetworkAddress *na = G_NETWORK_ADDRESS (c);
      g_autoptr(GInetAddress) ip = na ? g_inet_address_new_from_string (g_network_address_get_hostname (na))
                                      : NULL;

      if (ip != NULL)
        {
          g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (ip, g_network_address_get_port (na));
          _te_torrent_learn_peer (torrent, G_INET_SOCKET_ADDRESS (sa));
        }
    }
  _te_torrent_update_state (torrent);
  _te_engine_announce_added (self, torrent);
  return torrent;
}

TeTorrent *
te_engine_add_magnet (TeEngine   *self,
                      TeMagnet   *magnet,
                      const char *save_path,
                      GError    **error)
{
  TeAddOptions options;

  te_add_options_init (&options);
  options.save_path = save_path;
  return te_engine_add_magnet_full (self, magnet, &options, error);
}

TeTorrent *
te_engine_add_magnet_uri (TeEngine           *self,
                          const char         *uri,
                          const TeAddOptions *options,
                          GError            **error)
{
  g_autoptr(TeMagnet) magnet = te_magnet_parse (uri, error);

  if (magnet == NULL)
    return NULL;
  return te_engine_add_magnet_full (self, magnet, options, error);
}
