/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-torrent"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-magnet.h"
#include "te-torrent-private.h"

/* What a UI or the remote API reads: figures recomputed once a second,
 * GObject properties notified at most that often, and snapshots of files,
 * peers and trackers. */

enum {
  PROP_0,
  PROP_NAME,
  PROP_INFO_HASH,
  PROP_SAVE_PATH,
  PROP_STATE,
  PROP_ERROR,
  PROP_TOTAL_SIZE,
  PROP_PROGRESS,
  PROP_CHECK_PROGRESS,
  PROP_DOWNLOADED,
  PROP_UPLOADED,
  PROP_DOWNLOAD_RATE,
  PROP_UPLOAD_RATE,
  PROP_ETA,
  PROP_RATIO,
  PROP_PEERS_CONNECTED,
  PROP_PEERS_KNOWN,
  PROP_PRIORITY,
  PROP_QUEUE_POSITION,
  N_PROPS
};

G_STATIC_ASSERT (N_PROPS <= G_N_ELEMENTS (((TeTorrent *) NULL)->published));

static GParamSpec *properties[N_PROPS];

void
_te_torrent_install_properties (GObjectClass *klass)
{
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  properties[PROP_INFO_HASH] = g_param_spec_string ("info-hash", NULL, NULL, NULL, ro);
  properties[PROP_SAVE_PATH] = g_param_spec_string ("save-path", NULL, NULL, NULL, ro);
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, TE_TYPE_TORRENT_STATE,
                                              TE_TORRENT_STATE_PENDING, ro);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, ro);
  properties[PROP_TOTAL_SIZE] = g_param_spec_uint64 ("total-size", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, ro);
  properties[PROP_CHECK_PROGRESS] = g_param_spec_double ("check-progress", NULL, NULL, 0, 1, 0, ro);
  properties[PROP_DOWNLOADED] = g_param_spec_uint64 ("downloaded", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_UPLOADED] = g_param_spec_uint64 ("uploaded", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_DOWNLOAD_RATE] = g_param_spec_uint64 ("download-rate", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_UPLOAD_RATE] = g_param_spec_uint64 ("upload-rate", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /**
   * TeTorrent:eta:
   *
   * Seconds until the wanted data is here, -1 when unknown.
   */
  properties[PROP_ETA] = g_param_spec_int64 ("eta", NULL, NULL, -1, G_MAXINT64, -1, ro);
  properties[PROP_RATIO] = g_param_spec_double ("ratio", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_PEERS_CONNECTED] = g_param_spec_uint ("peers-connected", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_PEERS_KNOWN] = g_param_spec_uint ("peers-known", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_PRIORITY] = g_param_spec_enum ("priority", NULL, NULL, TE_TYPE_QUEUE_PRIORITY,
                                                 TE_QUEUE_PRIORITY_NORMAL, ro);
  properties[PROP_QUEUE_POSITION] = g_param_spec_uint ("queue-position", NULL, NULL, 0, G_MAXUINT, 0, ro);
  g_object_class_install_properties (klass, N_PROPS, properties);
}

static guint64
total_downloaded (TeTorrent *self)
{
  return self->downloaded_base + self->stats.downloaded;
}

static guint64
total_uploaded (TeTorrent *self)
{
  return self->uploaded_base + self->stats.uploaded;
}

void
_te_torrent_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TeTorrent *self = TE_TORRENT (object);

  switch (prop_id)
    {
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_INFO_HASH: g_value_take_string (value, te_torrent_dup_id (self)); break;
    case PROP_SAVE_PATH: g_value_set_string (value, self->save_path); break;
    case PROP_STATE: g_value_set_enum (value, self->state); break;
    case PROP_ERROR: g_value_set_string (value, self->error ? self->error->message : NULL); break;
    case PROP_TOTAL_SIZE: g_value_set_uint64 (value, te_torrent_get_total_size (self)); break;
    case PROP_PROGRESS: g_value_set_double (value, te_torrent_get_progress (self)); break;
    case PROP_CHECK_PROGRESS: g_value_set_double (value, te_torrent_get_check_progress (self)); break;
    case PROP_DOWNLOADED: g_value_set_uint64 (value, total_downloaded (self)); break;
    case PROP_UPLOADED: g_value_set_uint64 (value, total_uploaded (self)); break;
    case PROP_DOWNLOAD_RATE: g_value_set_uint64 (value, self->stats.download_rate); break;
    case PROP_UPLOAD_RATE: g_value_set_uint64 (value, self->stats.upload_rate); break;
    case PROP_ETA: g_value_set_int64 (value, te_torrent_get_eta (self)); break;
    case PROP_RATIO: g_value_set_double (value, te_torrent_get_ratio (self)); break;
    case PROP_PEERS_CONNECTED: g_value_set_uint (value, self->stats.peers_connected); break;
    case PROP_PEERS_KNOWN: g_value_set_uint (value, self->stats.peers_known); break;
    case PROP_PRIORITY: g_value_set_enum (value, self->priority); break;
    case PROP_QUEUE_POSITION: g_value_set_uint (value, self->queue_position); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The value each property would notify, comparable as an integer. */
static gint64
published_value (TeTorrent *self,
                 guint      prop)
{
  switch (prop)
    {
    case PROP_NAME: return (gint64) g_str_hash (self->name ? self->name : "");
    case PROP_SAVE_PATH: return (gint64) g_str_hash (self->save_path ? self->save_path : "");
    case PROP_STATE: return self->state;
    case PROP_ERROR: return (gint64) GPOINTER_TO_SIZE (self->error);
    case PROP_TOTAL_SIZE: return (gint64) te_torrent_get_total_size (self);
    case PROP_PROGRESS: return (gint64) (te_torrent_get_progress (self) * 1e6);
    case PROP_CHECK_PROGRESS: return (gint64) (self->check_progress * 1e4);
    case PROP_DOWNLOADED: return (gint64) total_downloaded (self);
    case PROP_UPLOADED: return (gint64) total_uploaded (self);
    case PROP_DOWNLOAD_RATE: return (gint64) self->stats.download_rate;
    case PROP_UPLOAD_RATE: return (gint64) self->stats.upload_rate;
    case PROP_ETA: return te_torrent_get_eta (self);
    case PROP_RATIO: return (gint64) (te_torrent_get_ratio (self) * 1e4);
    case PROP_PEERS_CONNECTED: return self->stats.peers_connected;
    case PROP_PEERS_KNOWN: return self->stats.peers_known;
    case PROP_PRIORITY: return self->priority;
    case PROP_QUEUE_POSITION: return self->queue_position;
    default: return 0;
    }
}

/**
 * _te_torrent_publish:
 *
 * Notifies the properties whose values changed since the last call. Called
 * from the once-a-second tick and on state changes, so a busy torrent
 * notifies a few times a second at most however many pieces arrive.
 */
void
_te_torrent_publish (TeTorrent *self)
{
  gboolean frozen = FALSE;

  for (guint p = PROP_NAME; p < N_PROPS; p++)
    {
      gint64 v;

      /* Notified where they change (metadata, moves): hashing two strings
       * of every torrent every second showed at 10,000 torrents. */
      if (p == PROP_INFO_HASH || p == PROP_NAME || p == PROP_SAVE_PATH)
        continue;
      v = published_value (self, p);
      if (v == self->published[p])
        continue;
      self->published[p] = v;
      if (!frozen)
        {
          g_object_freeze_notify (G_OBJECT (self));
          frozen = TRUE;
        }
      g_object_notify_by_pspec (G_OBJECT (self), properties[p]);
    }
  if (frozen)
    g_object_thaw_notify (G_OBJECT (self));
}

void
_te_torrent_recompute_stats (TeTorrent *self,
                             gint64     now)
{
  TeTorrentStats *s = &self->stats;
  double secs = self->last_tick_us ? (now - self->last_tick_us) / (double) G_USEC_PER_SEC : 1.0;

  /* Nothing moved since the last time (the usual case for most of 10,000
   * seeds): every figure below would come out the same. Whatever changes
   * the pieces we have sets bytes_dirty. */
  if (self->peers->len == 0 && s->peers_connected == 0 && !self->bytes_dirty
      && s->download_rate == 0 && s->upload_rate == 0
      && s->downloaded == self->down_total_sample && s->uploaded == self->up_total_sample
      && s->peers_known == g_hash_table_size (self->known))
    return;

  s->peers_connected = 0;
  s->seeds_connected = 0;
  for (guint i = 0; i < self->peers->len; i++)
    {
      TePeer *peer = g_ptr_array_index (self->peers, i);
      PeerSlot *slot = te_peer_get_owner_data (peer);

      if (slot == NULL || te_peer_get_state (peer) != TE_PEER_ACTIVE)
        continue;
      s->peers_connected++;
      if (slot->has_all || (slot->has && te_bitfield_is_full (slot->has)))
        s->seeds_connected++;
      if (secs > 0.05)
        {
          /* A short moving average: responsive, but not jumpy. */
          guint64 d = (guint64) ((slot->down_payload - slot->down_sample) / secs);
          guint64 u = (guint64) ((slot->up_payload - slot->up_sample) / secs);

          slot->down_rate = (slot->down_rate + 3 * d) / 4;
          slot->up_rate = (slot->up_rate + 3 * u) / 4;
          slot->down_sample = slot->down_payload;
          slot->up_sample = slot->up_payload;
        }
    }
  if (secs > 0.05)
    {
      s->download_rate = (s->download_rate + 3 * (guint64) ((s->downloaded - self->down_total_sample) / secs)) / 4;
      s->upload_rate = (s->upload_rate + 3 * (guint64) ((s->uploaded - self->up_total_sample) / secs)) / 4;
      self->down_total_sample = s->downloaded;
      self->up_total_sample = s->uploaded;
    }
  if (!self->running)
    s->download_rate = s->upload_rate = 0;
  s->peers_known = g_hash_table_size (self->known);

  if (self->metainfo && self->have)
    {
      TeMetainfo *meta = self->metainfo;
      guint n = te_metainfo_get_n_pieces (meta);

      s->pieces_total = n;
      s->pieces_have = te_bitfield_count (self->have);
      /* Bytes: exact enough for progress (pad bytes counted as data). They
       * change only when a piece verifies, after a check, or when priorities
       * do, so the walk over every piece happens then, not every second. */
      if (!self->bytes_dirty)
        return;
      self->bytes_dirty = FALSE;
      s->have_bytes = 0;
      s->wanted_bytes = 0;
      for (guint p = 0; p < n; p++)
        {
          guint32 size = te_metainfo_get_piece_size (meta, p);
          gboolean has = te_bitfield_get (self->have, p);

          if (has)
            s->have_bytes += size;
          if (has || te_bitfield_get (self->wanted, p))
            s->wanted_bytes += size;
        }
    }
}

/* Public accessors */

TeTorrentState
te_torrent_get_state (TeTorrent *self)
{
  return self->state;
}

TeMetainfo *
te_torrent_get_metainfo (TeTorrent *self)
{
  return self->metainfo;
}

const char *
te_torrent_get_name (TeTorrent *self)
{
  return self->name;
}

const char *
te_torrent_get_save_path (TeTorrent *self)
{
  return self->save_path;
}

const GError *
te_torrent_get_error (TeTorrent *self)
{
  return self->error;
}

/**
 * te_torrent_get_error_event:
 *
 * Returns: (nullable): the error that stopped the torrent
 */
const TeErrorEvent *
te_torrent_get_error_event (TeTorrent *self)
{
  return self->error_event;
}

/**
 * te_torrent_dup_id:
 *
 * Returns: (transfer full): the v1 info-hash in hex, or the v2 one for v2-only torrents
 */
char *
te_torrent_dup_id (TeTorrent *self)
{
  if (self->has_v1_hash || !self->has_v2_hash)
    return te_hex_encode (self->info_hash, 20);
  return te_hex_encode (self->info_hash_v2, 32);
}

const guint8 *
te_torrent_get_info_hash_v2 (TeTorrent *self)
{
  return self->has_v2_hash ? self->info_hash_v2 : NULL;
}

guint64
te_torrent_get_total_size (TeTorrent *self)
{
  return self->metainfo ? te_metainfo_get_total_size (self->metainfo) : 0;
}

/**
 * te_torrent_get_progress:
 *
 * Returns: the verified share of the wanted data, 0 to 1
 */
double
te_torrent_get_progress (TeTorrent *self)
{
  const TeTorrentStats *s = &self->stats;

  if (self->metainfo == NULL || s->wanted_bytes == 0)
    return self->metainfo && self->have && te_bitfield_count (self->have) > 0 ? 1.0 : 0.0;
  return MIN ((double) s->have_bytes / (double) s->wanted_bytes, 1.0);
}

double
te_torrent_get_check_progress (TeTorrent *self)
{
  return self->checking ? self->check_progress : 1.0;
}

/**
 * te_torrent_get_ratio:
 *
 * Returns: uploaded over downloaded, or over what we had when we downloaded nothing
 */
double
te_torrent_get_ratio (TeTorrent *self)
{
  guint64 down = total_downloaded (self);

  if (down == 0)
    down = self->stats.have_bytes;
  return down ? (double) total_uploaded (self) / (double) down : 0.0;
}

gint64
te_torrent_get_eta (TeTorrent *self)
{
  const TeTorrentStats *s = &self->stats;

  if (s->wanted_bytes <= s->have_bytes)
    return self->metainfo ? 0 : -1;
  if (s->download_rate == 0 || self->state != TE_TORRENT_STATE_DOWNLOADING)
    return -1;
  return (gint64) ((s->wanted_bytes - s->have_bytes) / s->download_rate);
}

TeQueuePriority
te_torrent_get_priority (TeTorrent *self)
{
  return self->priority;
}

guint
te_torrent_get_queue_position (TeTorrent *self)
{
  return self->queue_position;
}

gint64
te_torrent_get_added_at (TeTorrent *self)
{
  return self->added_at;
}

gint64
te_torrent_get_completed_at (TeTorrent *self)
{
  return self->completed_at;
}

void
te_torrent_get_stats (TeTorrent      *self,
                      TeTorrentStats *stats)
{
  *stats = self->stats;
  /* Counts that are cheap stay exact between the once-a-second refreshes. */
  if (self->have)
    stats->pieces_have = te_bitfield_count (self->have);
}

const TeBitfield *
te_torrent_get_have (TeTorrent *self)
{
  return self->have;
}

gboolean
te_torrent_is_complete (TeTorrent *self)
{
  return self->picker != NULL && !self->checking
         && te_picker_is_complete (self->picker)
         && (self->layer_fetches == NULL || self->layer_fetches->len == 0);
}

/* Snapshots */

void
te_file_info_free (TeFileInfo *info)
{
  g_free (info->path);
  g_free (info);
}

void
te_peer_info_free (TePeerInfo *info)
{
  g_free (info->address);
  g_free (info->client);
  g_free (info);
}

/**
 * te_torrent_dup_files:
 *
 * Returns: (transfer container) (element-type TeFileInfo): the files but pad
 *   files, empty until the metadata is known
 */
GPtrArray *
te_torrent_dup_files (TeTorrent *self)
{
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) te_file_info_free);
  TeMetainfo *meta = self->metainfo;

  if (meta == NULL)
    return files;
  for (guint i = 0; i < te_metainfo_get_n_files (meta); i++)
    {
      const TeFile *f = te_metainfo_get_file (meta, i);
      TeFileInfo *info;
      guint64 pl = te_metainfo_get_piece_length (meta);
      guint first, last;

      if (f->attrs & TE_FILE_ATTR_PAD)
        continue;
      info = g_new0 (TeFileInfo, 1);
      info->path = g_strdup (f->path);
      info->length = f->length;
      info->offset = f->offset;
      info->priority = _te_torrent_file_priority (self, i);
      if (self->have && te_metainfo_get_file_pieces (meta, i, &first, &last))
        for (guint p = first; p <= last; p++)
          if (te_bitfield_get (self->have, p))
            {
              guint64 start = MAX (p * pl, f->offset);
              guint64 end = MIN ((p + 1) * pl, f->offset + f->length);

              info->have_bytes += end - start;
            }
      g_ptr_array_add (files, info);
    }
  return files;
}

/* A name for clients that do not send one, from their Azureus-style peer id. */
static char *
client_from_peer_id (const guint8 id[20])
{
  static const struct { const char *code; const char *name; } known[] = {
    { "TR", "Transmission" }, { "lt", "libtorrent" }, { "LT", "libtorrent" },
    { "qB", "qBittorrent" }, { "DE", "Deluge" }, { "UT", "µTorrent" }, { "TE", "TorrentEdge" },
    { "AZ", "Vuze" }, { "BT", "BitTorrent" }, { "WW", "WebTorrent" }, { "KT", "KTorrent" },
  };

  if (id[0] == '-' && id[7] == '-')
    {
      for (guint i = 0; i < G_N_ELEMENTS (known); i++)
        if (memcmp (id + 1, known[i].code, 2) == 0)
          return g_strdup_printf ("%s %c.%c%c", known[i].name, id[3], id[4], id[5]);
      if (g_ascii_isprint (id[1]) && g_ascii_isprint (id[2]))
        return g_strdup_printf ("%c%c %c.%c%c", id[1], id[2], id[3], id[4], id[5]);
    }
  if (memcmp (id, "A2-", 3) == 0)
    return g_strdup ("aria2");
  return g_strdup ("unknown");
}

/**
 * te_torrent_dup_peers:
 *
 * Returns: (transfer container) (element-type TePeerInfo): the connected peers
 */
GPtrArray *
te_torrent_dup_peers (TeTorrent *self)
{
  GPtrArray *peers = g_ptr_array_new_with_free_func ((GDestroyNotify) te_peer_info_free);
  gpointer optimistic = te_choker_get_optimistic (self->choker);
  guint n = self->metainfo ? te_metainfo_get_n_pieces (self->metainfo) : 0;

  for (guint i = 0; i < self->peers->len; i++)
    {
      TePeer *peer = g_ptr_array_index (self->peers, i);
      PeerSlot *slot = te_peer_get_owner_data (peer);
      GInetSocketAddress *addr = te_peer_get_address (peer);
      TePeerInfo *info;
      GString *flags;

      if (slot == NULL || !slot->handshaken || addr == NULL)
        continue;
      info = g_new0 (TePeerInfo, 1);
      info->address = g_inet_address_to_string (g_inet_socket_address_get_address (addr));
      info->port = g_inet_socket_address_get_port (addr);
      memcpy (info->peer_id, te_peer_get_remote_handshake (peer)->peer_id, 20);
      info->client = slot->ext_received && slot->ext.client[0]
                     ? g_utf8_make_valid (slot->ext.client, -1) : client_from_peer_id (info->peer_id);
      info->download_rate = slot->down_rate;
      info->upload_rate = slot->up_rate;
      if (slot->has_all)
        info->progress = 1.0;
      else if (slot->has && n > 0)
        info->progress = (double) te_bitfield_count (slot->has) / n;
      info->am_choking = slot->am_choking;
      info->am_interested = slot->am_interested;
      info->peer_choking = slot->peer_choking;
      info->peer_interested = slot->peer_interested;

      flags = g_string_new (NULL);
      if (slot->am_interested)
        g_string_append_c (flags, slot->peer_choking ? 'd' : 'D');
      if (slot->peer_interested)
        g_string_append_c (flags, slot->am_choking ? 'u' : 'U');
      if (optimistic == slot)
        g_string_append_c (flags, 'O');
      if (slot->snubbed)
        g_string_append_c (flags, 'S');
      if (te_peer_is_incoming (peer))
        g_string_append_c (flags, 'I');
      g_strlcpy (info->flags, flags->str, sizeof info->flags);
      g_string_free (flags, TRUE);
      g_ptr_array_add (peers, info);
    }
  return peers;
}

/**
 * te_torrent_dup_trackers:
 *
 * Returns: (transfer container) (element-type TeTrackerInfo): the trackers, as
 *   last seen while the torrent ran
 */
GPtrArray *
te_torrent_dup_trackers (TeTorrent *self)
{
  GPtrArray *tiers;
  GPtrArray *out;

  if (self->announcer)
    return te_announcer_dup_trackers (self->announcer);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) te_tracker_info_free);
  if (self->last_trackers)
    {
      for (guint i = 0; i < self->last_trackers->len; i++)
        {
          const TeTrackerInfo *t = g_ptr_array_index (self->last_trackers, i);
          TeTrackerInfo *c = g_memdup2 (t, sizeof *t);

          c->url = g_strdup (t->url);
          c->last_error = g_strdup (t->last_error);
          c->warning = g_strdup (t->warning);
          c->next_announce = 0;
          g_ptr_array_add (out, c);
        }
      return out;
    }
  tiers = _te_torrent_get_tiers (self);
  for (guint t = 0; t < tiers->len; t++)
    {
      GPtrArray *tier = g_ptr_array_index (tiers, t);

      for (guint i = 0; i < tier->len; i++)
        {
          TeTrackerInfo *c = g_new0 (TeTrackerInfo, 1);

          c->url = g_strdup (g_ptr_array_index (tier, i));
          c->tier = t;
          c->seeders = c->leechers = -1;
          g_ptr_array_add (out, c);
        }
    }
  return out;
}

/**
 * te_torrent_dup_magnet:
 *
 * Returns: (transfer full): a magnet link for the torrent
 */
char *
te_torrent_dup_magnet (TeTorrent *self)
{
  g_autoptr(GPtrArray) trackers = te_torrent_dup_trackers (self);
  g_autoptr(TeMagnet) m = te_magnet_new ();

  m->has_v1 = self->has_v1_hash;
  m->has_v2 = self->has_v2_hash;
  memcpy (m->info_hash, self->info_hash, 20);
  memcpy (m->info_hash_v2, self->info_hash_v2, 32);
  m->display_name = g_strdup (self->name);
  for (guint i = 0; i < trackers->len; i++)
    g_ptr_array_add (m->trackers, g_strdup (((TeTrackerInfo *) g_ptr_array_index (trackers, i))->url));
  return te_magnet_to_string (m);
}
