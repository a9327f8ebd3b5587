/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-transmission-rpc"

#include "config.h"

#include <string.h>

#include "te-transmission-rpc-private.h"

/* torrent-get: one function per field, each reading the engine's public API.
 * Fields the engine has no truthful answer for are left out of the table, so
 * clients see them absent rather than invented. */

typedef struct {
  TeTransmissionRpc *rpc;
  TeRpcEntry        *entry;
  TeTorrent         *t;
  TeMetainfo        *meta;
  TeTorrentStats     stats;
  GPtrArray         *files;     /* lazily: TeFileInfo */
  GPtrArray         *peers;     /* lazily: TePeerInfo */
  GPtrArray         *trackers;  /* lazily: TeTrackerInfo */
  gint64             now;
} Ctx;

typedef JsonNode *(*FieldFunc) (Ctx *c);

static JsonNode *
node_int (gint64 v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (n, v);
  return n;
}

static JsonNode *
node_double (double v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_double (n, v);
  return n;
}

static JsonNode *
node_bool (gboolean v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_boolean (n, v);
  return n;
}

static JsonNode *
node_string (const char *v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (n, v ? v : "");
  return n;
}

static JsonNode *
node_take_array (JsonArray *a)
{
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  json_node_take_array (n, a);
  return n;
}

static GPtrArray *
files (Ctx *c)
{
  if (c->files == NULL)
    c->files = te_torrent_dup_files (c->t);
  return c->files;
}

static GPtrArray *
peers (Ctx *c)
{
  if (c->peers == NULL)
    c->peers = te_torrent_dup_peers (c->t);
  return c->peers;
}

static GPtrArray *
trackers (Ctx *c)
{
  if (c->trackers == NULL)
    c->trackers = te_torrent_dup_trackers (c->t);
  return c->trackers;
}

static guint64
downloaded_ever (Ctx *c)
{
  guint64 v = 0;

  g_object_get (c->t, "downloaded", &v, NULL);
  return v;
}

static guint64
uploaded_ever (Ctx *c)
{
  guint64 v = 0;

  g_object_get (c->t, "uploaded", &v, NULL);
  return v;
}

static guint64
left_until_done (Ctx *c)
{
  return c->stats.wanted_bytes > c->stats.have_bytes ? c->stats.wanted_bytes - c->stats.have_bytes : 0;
}

/* Transmission's file priorities: -1 low, 0 normal, 1 high. */
static int
file_priority (Ctx        *c,
               guint       index,
               TePriority  priority)
{
  if (priority == TE_PRIORITY_SKIP)
    {
      int stored = GPOINTER_TO_INT (g_hash_table_lookup (c->entry->skipped_priority, GUINT_TO_POINTER (index)));

      return stored ? stored - 2 : 0;
    }
  if (priority < TE_PRIORITY_NORMAL)
    return -1;
  return priority > TE_PRIORITY_NORMAL ? 1 : 0;
}

static JsonNode *f_activity_date (Ctx *c) { return node_int (c->entry->activity); }
static JsonNode *f_added_date (Ctx *c) { return node_int (te_torrent_get_added_at (c->t)); }
static JsonNode *f_bandwidth_priority (Ctx *c) { return node_int (te_torrent_get_priority (c->t)); }
static JsonNode *f_done_date (Ctx *c) { return node_int (te_torrent_get_completed_at (c->t)); }
static JsonNode *f_download_dir (Ctx *c) { return node_string (te_torrent_get_save_path (c->t)); }
static JsonNode *f_downloaded_ever (Ctx *c) { return node_int ((gint64) downloaded_ever (c)); }
static JsonNode *f_edit_date (Ctx *c) { return node_int (0); }
static JsonNode *f_eta_idle (Ctx *c) { return node_int (-1); }
static JsonNode *f_group (Ctx *c) { return node_string (""); }
static JsonNode *f_have_unchecked (Ctx *c) { return node_int (0); }
static JsonNode *f_have_valid (Ctx *c) { return node_int ((gint64) c->stats.have_bytes); }
static JsonNode *f_honors_session_limits (Ctx *c) { return node_bool (TRUE); }
static JsonNode *f_id (Ctx *c) { return node_int (c->entry->id); }
static JsonNode *f_is_finished (Ctx *c) { return node_bool (te_torrent_get_state (c->t) == TE_TORRENT_STATE_COMPLETE); }
static JsonNode *f_is_private (Ctx *c) { return node_bool (c->meta && te_metainfo_is_private (c->meta)); }
static JsonNode *f_labels (Ctx *c) { return node_take_array (json_array_new ()); }
static JsonNode *f_left_until_done (Ctx *c) { return node_int ((gint64) left_until_done (c)); }
static JsonNode *f_metadata_percent (Ctx *c) { return node_double (c->meta ? 1.0 : 0.0); }
static JsonNode *f_name (Ctx *c) { return node_string (te_torrent_get_name (c->t)); }
static JsonNode *f_peers_connected (Ctx *c) { return node_int (c->stats.peers_connected); }
static JsonNode *f_percent_done (Ctx *c) { return node_double (te_torrent_get_progress (c->t)); }
static JsonNode *f_piece_count (Ctx *c) { return node_int (c->meta ? te_metainfo_get_n_pieces (c->meta) : 0); }
static JsonNode *f_piece_size (Ctx *c) { return node_int (c->meta ? te_metainfo_get_piece_length (c->meta) : 0); }
static JsonNode *f_queue_position (Ctx *c) { return node_int (te_torrent_get_queue_position (c->t)); }
static JsonNode *f_rate_download (Ctx *c) { return node_int ((gint64) c->stats.download_rate); }
static JsonNode *f_rate_upload (Ctx *c) { return node_int ((gint64) c->stats.upload_rate); }
static JsonNode *f_seed_idle_limit (Ctx *c) { return node_int (0); }
static JsonNode *f_seed_idle_mode (Ctx *c) { return node_int (0); }
static JsonNode *f_size_when_done (Ctx *c) { return node_int ((gint64) c->stats.wanted_bytes); }
static JsonNode *f_start_date (Ctx *c) { return node_int (c->entry->started); }
static JsonNode *f_status (Ctx *c) { return node_int (_te_rpc_status (c->t)); }
static JsonNode *f_total_size (Ctx *c) { return node_int ((gint64) te_torrent_get_total_size (c->t)); }
static JsonNode *f_uploaded_ever (Ctx *c) { return node_int ((gint64) uploaded_ever (c)); }
static JsonNode *f_comment (Ctx *c) { return node_string (c->meta ? te_metainfo_get_comment (c->meta) : NULL); }
static JsonNode *f_creator (Ctx *c) { return node_string (c->meta ? te_metainfo_get_created_by (c->meta) : NULL); }
static JsonNode *f_date_created (Ctx *c) { return node_int (c->meta ? te_metainfo_get_creation_date (c->meta) : 0); }
static JsonNode *f_file_count (Ctx *c) { return node_int (files (c)->len); }

static JsonNode *
f_hash (Ctx *c)
{
  g_autofree char *id = te_torrent_dup_id (c->t);

  return node_string (id);
}

static JsonNode *
f_corrupt_ever (Ctx *c)
{
  /* Each failed piece was thrown away whole. */
  return node_int (c->meta ? (gint64) c->stats.hash_failures * te_metainfo_get_piece_length (c->meta) : 0);
}

static JsonNode *
f_max_peers (Ctx *c)
{
  return node_int (te_engine_get_settings (c->rpc->engine)->max_peers_per_torrent);
}

static JsonNode *
f_percent_complete (Ctx *c)
{
  guint64 total = te_torrent_get_total_size (c->t);

  return node_double (total ? MIN ((double) c->stats.have_bytes / (double) total, 1.0) : 0.0);
}

static JsonNode *
f_recheck_progress (Ctx *c)
{
  return node_double (te_torrent_get_state (c->t) == TE_TORRENT_STATE_CHECKING
                      ? te_torrent_get_check_progress (c->t) : 0.0);
}

static JsonNode *
f_eta (Ctx *c)
{
  gint64 eta;

  /* Transmission: -1 not available (done, stopped), -2 unknown. */
  if (left_until_done (c) == 0 && c->meta)
    return node_int (-1);
  eta = te_torrent_get_eta (c->t);
  if (eta >= 0)
    return node_int (eta);
  return node_int (_te_rpc_status (c->t) == TE_RPC_STATUS_DOWNLOAD ? -2 : -1);
}

static JsonNode *
f_upload_ratio (Ctx *c)
{
  guint64 up = uploaded_ever (c);
  guint64 down = downloaded_ever (c);

  /* Like Transmission: over what we had when nothing was downloaded; -1 for
   * none, -2 for infinite. */
  if (down == 0)
    down = c->stats.have_bytes;
  if (down > 0)
    return node_double ((double) up / (double) down);
  return node_double (up > 0 ? -2 : -1);
}

static JsonNode *
f_is_stalled (Ctx *c)
{
  guint stall = te_engine_get_settings (c->rpc->engine)->stall_timeout_s;
  TeRpcStatus status = _te_rpc_status (c->t);

  return node_bool (stall > 0 && (status == TE_RPC_STATUS_DOWNLOAD || status == TE_RPC_STATUS_SEED)
                    && c->now - c->entry->activity > stall);
}

/* Errors: 0 none, 1 tracker warning, 2 tracker error, 3 local error. */
static int
error_code (Ctx         *c,
            const char **message)
{
  const GError *error = te_torrent_get_error (c->t);

  *message = "";
  if (te_torrent_get_state (c->t) == TE_TORRENT_STATE_ERROR || error != NULL)
    {
      *message = error ? error->message : "Stopped by an error";
      return 3;
    }
  for (guint i = 0; i < trackers (c)->len; i++)
    {
      TeTrackerInfo *info = g_ptr_array_index (trackers (c), i);

      if (info->state == TE_TRACKER_STATE_ERROR && info->last_error)
        {
          *message = info->last_error;
          return 2;
        }
    }
  for (guint i = 0; i < trackers (c)->len; i++)
    {
      TeTrackerInfo *info = g_ptr_array_index (trackers (c), i);

      if (info->warning && *info->warning)
        {
          *message = info->warning;
          return 1;
        }
    }
  return 0;
}

static JsonNode *
f_error (Ctx *c)
{
  const char *message;

  return node_int (error_code (c, &message));
}

static JsonNode *
f_error_string (Ctx *c)
{
  const char *message;

  error_code (c, &message);
  return node_string (message);
}

static JsonNode *
f_limit (Ctx     *c,
         gboolean download,
         gboolean want_flag)
{
  guint64 down = 0, up = 0, limit, remembered;

  te_torrent_get_limits (c->t, &down, &up);
  limit = download ? down : up;
  remembered = download ? c->entry->down_kbps : c->entry->up_kbps;
  if (want_flag)
    return node_bool (limit > 0);
  return node_int ((gint64) (limit > 0 ? (limit + TE_RPC_SPEED_K - 1) / TE_RPC_SPEED_K : remembered));
}

static JsonNode *f_download_limit (Ctx *c) { return f_limit (c, TRUE, FALSE); }
static JsonNode *f_download_limited (Ctx *c) { return f_limit (c, TRUE, TRUE); }
static JsonNode *f_upload_limit (Ctx *c) { return f_limit (c, FALSE, FALSE); }
static JsonNode *f_upload_limited (Ctx *c) { return f_limit (c, FALSE, TRUE); }

static JsonNode *
f_seed_ratio_mode (Ctx *c)
{
  double ratio;
  gint64 time_ms;

  te_torrent_get_seed_limits (c->t, &ratio, &time_ms);
  if (ratio < 0)
    return node_int (TE_RPC_RATIO_GLOBAL);
  return node_int (ratio > 0 ? TE_RPC_RATIO_SINGLE : TE_RPC_RATIO_UNLIMITED);
}

static JsonNode *
f_seed_ratio_limit (Ctx *c)
{
  double ratio;
  gint64 time_ms;

  te_torrent_get_seed_limits (c->t, &ratio, &time_ms);
  return node_double (ratio > 0 ? ratio : c->entry->ratio_limit);
}

static JsonNode *
f_magnet_link (Ctx *c)
{
  g_autofree char *magnet = te_torrent_dup_magnet (c->t);

  return node_string (magnet);
}

static JsonNode *
f_files (Ctx *c)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < files (c)->len; i++)
    {
      TeFileInfo *f = g_ptr_array_index (files (c), i);
      JsonObject *o = json_object_new ();

      json_object_set_int_member (o, "bytesCompleted", (gint64) f->have_bytes);
      json_object_set_int_member (o, "length", (gint64) f->length);
      json_object_set_string_member (o, "name", f->path);
      json_array_add_object_element (a, o);
    }
  return node_take_array (a);
}

static JsonNode *
f_file_stats (Ctx *c)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < files (c)->len; i++)
    {
      TeFileInfo *f = g_ptr_array_index (files (c), i);
      JsonObject *o = json_object_new ();

      json_object_set_int_member (o, "bytesCompleted", (gint64) f->have_bytes);
      json_object_set_boolean_member (o, "wanted", f->priority != TE_PRIORITY_SKIP);
      json_object_set_int_member (o, "priority", file_priority (c, i, f->priority));
      json_array_add_object_element (a, o);
    }
  return node_take_array (a);
}

static JsonNode *
f_priorities (Ctx *c)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < files (c)->len; i++)
    json_array_add_int_element (a, file_priority (c, i, ((TeFileInfo *) g_ptr_array_index (files (c), i))->priority));
  return node_take_array (a);
}

static JsonNode *
f_wanted (Ctx *c)
{
  JsonArray *a = json_array_new ();

  /* 0 and 1, as Transmission 3 sends them (its spec notes clients rely on it). */
  for (guint i = 0; i < files (c)->len; i++)
    json_array_add_int_element (a, ((TeFileInfo *) g_ptr_array_index (files (c), i))->priority != TE_PRIORITY_SKIP);
  return node_take_array (a);
}

static JsonNode *
f_pieces (Ctx *c)
{
  const TeBitfield *have = te_torrent_get_have (c->t);
  gsize len = 0;
  const guint8 *bytes;
  g_autofree char *b64 = NULL;

  if (have == NULL)
    return node_string ("");
  bytes = te_bitfield_bytes (have, &len);
  b64 = g_base64_encode (bytes, len);
  return node_string (b64);
}

static gboolean
has_flag (const TePeerInfo *p,
          char              flag)
{
  return strchr (p->flags, flag) != NULL;
}

static guint
count_peers (Ctx     *c,
             gboolean sending_to_us)
{
  guint n = 0;

  for (guint i = 0; i < peers (c)->len; i++)
    {
      TePeerInfo *p = g_ptr_array_index (peers (c), i);

      n += (sending_to_us ? p->download_rate : p->upload_rate) > 0;
    }
  return n;
}

static JsonNode *f_peers_getting (Ctx *c) { return node_int (count_peers (c, FALSE)); }
static JsonNode *f_peers_sending (Ctx *c) { return node_int (count_peers (c, TRUE)); }

static JsonNode *
f_peers (Ctx *c)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < peers (c)->len; i++)
    {
      TePeerInfo *p = g_ptr_array_index (peers (c), i);
      JsonObject *o = json_object_new ();

      json_object_set_string_member (o, "address", p->address);
      json_object_set_string_member (o, "clientName", p->client);
      /* The choke and interest fields come from the connection's state, not
       * from the letters (which show a choke only when someone is interested).
       * No encryption or uTP exists yet, so no peer is either. */
      json_object_set_boolean_member (o, "clientIsChoked", p->peer_choking);
      json_object_set_boolean_member (o, "clientIsInterested", p->am_interested);
      json_object_set_string_member (o, "flagStr", p->flags);
      json_object_set_boolean_member (o, "isDownloadingFrom", p->download_rate > 0);
      json_object_set_boolean_member (o, "isEncrypted", FALSE);
      json_object_set_boolean_member (o, "isIncoming", has_flag (p, 'I'));
      json_object_set_boolean_member (o, "isUploadingTo", p->upload_rate > 0);
      json_object_set_boolean_member (o, "isUTP", FALSE);
      json_object_set_boolean_member (o, "peerIsChoked", p->am_choking);
      json_object_set_boolean_member (o, "peerIsInterested", p->peer_interested);
      json_object_set_int_member (o, "port", p->port);
      json_object_set_double_member (o, "progress", p->progress);
      json_object_set_int_member (o, "rateToClient", (gint64) p->download_rate);
      json_object_set_int_member (o, "rateToPeer", (gint64) p->upload_rate);
      json_array_add_object_element (a, o);
    }
  return node_take_array (a);
}

/* "udp://tracker.example.org:80/announce" → "udp://tracker.example.org:80" */
static char *
tracker_host (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup (url);
  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("%s://%s:%d", g_uri_get_scheme (uri), g_uri_get_host (uri), g_uri_get_port (uri));
  return g_strdup_printf ("%s://%s", g_uri_get_scheme (uri), g_uri_get_host (uri));
}

/* The name people know a tracker by: the label before the top-level domain. */
static char *
tracker_sitename (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_auto(GStrv) labels = NULL;
  guint n;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup ("");
  labels = g_strsplit (g_uri_get_host (uri), ".", -1);
  n = g_strv_length (labels);
  if (n >= 2 && !g_hostname_is_ip_address (g_uri_get_host (uri)))
    return g_strdup (labels[n - 2]);
  return g_strdup (g_uri_get_host (uri));
}

/* BEP 48: an http(s) announce URL ending in /announce scrapes at /scrape. */
static char *
tracker_scrape (const char *url)
{
  const char *slash = strrchr (url, '/');

  if (g_str_has_prefix (url, "http") && slash && g_str_has_prefix (slash, "/announce"))
    return g_strdup_printf ("%.*s/scrape%s", (int) (slash - url), url, slash + strlen ("/announce"));
  return g_strdup ("");
}

static JsonNode *
f_trackers (Ctx *c)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < trackers (c)->len; i++)
    {
      TeTrackerInfo *t = g_ptr_array_index (trackers (c), i);
      JsonObject *o = json_object_new ();
      g_autofree char *scrape = tracker_scrape (t->url);
      g_autofree char *site = tracker_sitename (t->url);

      json_object_set_string_member (o, "announce", t->url);
      json_object_set_int_member (o, "id", i);
      json_object_set_string_member (o, "scrape", scrape);
      json_object_set_string_member (o, "sitename", site);
      json_object_set_int_member (o, "tier", t->tier);
      json_array_add_object_element (a, o);
    }
  return node_take_array (a);
}

static JsonNode *
f_tracker_list (Ctx *c)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < trackers (c)->len; i++)
    {
      TeTrackerInfo *t = g_ptr_array_index (trackers (c), i);

      if (i > 0)
        g_string_append (s, ((TeTrackerInfo *) g_ptr_array_index (trackers (c), i - 1))->tier != t->tier
                            ? "\n\n" : "\n");
      g_string_append (s, t->url);
    }
  return node_string (s->str);
}

static JsonNode *
f_tracker_stats (Ctx *c)
{
  JsonArray *a = json_array_new ();
  TeRpcStatus status = _te_rpc_status (c->t);
  gboolean running = status == TE_RPC_STATUS_DOWNLOAD || status == TE_RPC_STATUS_SEED;

  for (guint i = 0; i < trackers (c)->len; i++)
    {
      TeTrackerInfo *t = g_ptr_array_index (trackers (c), i);
      JsonObject *o = json_object_new ();
      g_autofree char *host = tracker_host (t->url);
      g_autofree char *scrape = tracker_scrape (t->url);
      g_autofree char *site = tracker_sitename (t->url);
      gboolean announced = t->last_announce > 0;
      gboolean succeeded = announced && t->consecutive_failures == 0;
      /* Transmission's tr_tracker_state: 0 inactive, 1 waiting. */
      int announce_state = running && t->next_announce > 0 ? 1 : 0;

      json_object_set_string_member (o, "announce", t->url);
      json_object_set_int_member (o, "announceState", announce_state);
      json_object_set_int_member (o, "downloadCount", -1);
      json_object_set_boolean_member (o, "hasAnnounced", announced);
      json_object_set_boolean_member (o, "hasScraped", FALSE);
      json_object_set_string_member (o, "host", host);
      json_object_set_int_member (o, "id", i);
      json_object_set_boolean_member (o, "isBackup", FALSE);
      json_object_set_int_member (o, "lastAnnouncePeerCount", t->last_peer_count);
      json_object_set_string_member (o, "lastAnnounceResult",
                                     succeeded ? "Success" : t->last_error ? t->last_error : "");
      json_object_set_int_member (o, "lastAnnounceStartTime", t->last_announce);
      json_object_set_boolean_member (o, "lastAnnounceSucceeded", succeeded);
      json_object_set_int_member (o, "lastAnnounceTime", t->last_announce);
      json_object_set_boolean_member (o, "lastAnnounceTimedOut", FALSE);
      json_object_set_string_member (o, "lastScrapeResult", "");
      json_object_set_int_member (o, "lastScrapeStartTime", 0);
      json_object_set_boolean_member (o, "lastScrapeSucceeded", FALSE);
      json_object_set_int_member (o, "lastScrapeTime", 0);
      json_object_set_boolean_member (o, "lastScrapeTimedOut", FALSE);
      json_object_set_int_member (o, "leecherCount", t->leechers);
      json_object_set_int_member (o, "nextAnnounceTime", t->next_announce);
      json_object_set_int_member (o, "nextScrapeTime", 0);
      json_object_set_string_member (o, "scrape", scrape);
      json_object_set_int_member (o, "scrapeState", 0);
      json_object_set_int_member (o, "seederCount", t->seeders);
      json_object_set_string_member (o, "sitename", site);
      json_object_set_int_member (o, "tier", t->tier);
      json_array_add_object_element (a, o);
    }
  return node_take_array (a);
}

static JsonNode *
f_webseeds (Ctx *c)
{
  JsonArray *a = json_array_new ();
  const char * const *seeds = c->meta ? te_metainfo_get_web_seeds (c->meta) : NULL;

  for (guint i = 0; seeds && seeds[i]; i++)
    json_array_add_string_element (a, seeds[i]);
  return node_take_array (a);
}

static const struct {
  const char *name;
  FieldFunc   func;
} fields[] = {
  { "activityDate", f_activity_date },
  { "addedDate", f_added_date },
  { "bandwidthPriority", f_bandwidth_priority },
  { "comment", f_comment },
  { "corruptEver", f_corrupt_ever },
  { "creator", f_creator },
  { "dateCreated", f_date_created },
  { "doneDate", f_done_date },
  { "downloadDir", f_download_dir },
  { "downloadedEver", f_downloaded_ever },
  { "downloadLimit", f_download_limit },
  { "downloadLimited", f_download_limited },
  { "editDate", f_edit_date },
  { "error", f_error },
  { "errorString", f_error_string },
  { "eta", f_eta },
  { "etaIdle", f_eta_idle },
  { "file-count", f_file_count },
  { "files", f_files },
  { "fileStats", f_file_stats },
  { "group", f_group },
  { "hashString", f_hash },
  { "haveUnchecked", f_have_unchecked },
  { "haveValid", f_have_valid },
  { "honorsSessionLimits", f_honors_session_limits },
  { "id", f_id },
  { "isFinished", f_is_finished },
  { "isPrivate", f_is_private },
  { "isStalled", f_is_stalled },
  { "labels", f_labels },
  { "leftUntilDone", f_left_until_done },
  { "magnetLink", f_magnet_link },
  { "maxConnectedPeers", f_max_peers },
  { "metadataPercentComplete", f_metadata_percent },
  { "name", f_name },
  { "peer-limit", f_max_peers },
  { "peers", f_peers },
  { "peersConnected", f_peers_connected },
  { "peersGettingFromUs", f_peers_getting },
  { "peersSendingToUs", f_peers_sending },
  { "percentComplete", f_percent_complete },
  { "percentDone", f_percent_done },
  { "pieces", f_pieces },
  { "pieceCount", f_piece_count },
  { "pieceSize", f_piece_size },
  { "priorities", f_priorities },
  { "queuePosition", f_queue_position },
  { "rateDownload", f_rate_download },
  { "rateUpload", f_rate_upload },
  { "recheckProgress", f_recheck_progress },
  { "seedIdleLimit", f_seed_idle_limit },
  { "seedIdleMode", f_seed_idle_mode },
  { "seedRatioLimit", f_seed_ratio_limit },
  { "seedRatioMode", f_seed_ratio_mode },
  { "sizeWhenDone", f_size_when_done },
  { "startDate", f_start_date },
  { "status", f_status },
  { "totalSize", f_total_size },
  { "trackerList", f_tracker_list },
  { "trackers", f_trackers },
  { "trackerStats", f_tracker_stats },
  { "uploadedEver", f_uploaded_ever },
  { "uploadLimit", f_upload_limit },
  { "uploadLimited", f_upload_limited },
  { "uploadRatio", f_upload_ratio },
  { "wanted", f_wanted },
  { "webseeds", f_webseeds },
};

static int
find_field (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (strcmp (fields[i].name, name) == 0)
      return (int) i;
  return -1;
}

static void
ctx_init (Ctx               *c,
          TeTransmissionRpc *rpc,
          TeRpcEntry        *entry,
          gint64             now)
{
  memset (c, 0, sizeof *c);
  c->rpc = rpc;
  c->entry = entry;
  c->t = entry->torrent;
  c->meta = te_torrent_get_metainfo (c->t);
  c->now = now;
  te_torrent_get_stats (c->t, &c->stats);
  if (c->stats.download_rate > 0 || c->stats.upload_rate > 0)
    _te_rpc_touch (entry);
}

static void
ctx_clear (Ctx *c)
{
  g_clear_pointer (&c->files, g_ptr_array_unref);
  g_clear_pointer (&c->peers, g_ptr_array_unref);
  g_clear_pointer (&c->trackers, g_ptr_array_unref);
}

void
_te_rpc_torrent_get (TeRpcCall *call)
{
  TeTransmissionRpc *self = call->rpc;
  JsonArray *requested = _te_rpc_arg_array (call, "fields");
  const char *format = _te_rpc_arg_string (call, "format");
  g_autoptr(GPtrArray) selected = NULL;
  g_autoptr(GArray) wanted = g_array_new (FALSE, FALSE, sizeof (int));
  JsonArray *torrents;
  gboolean table, recent = FALSE;
  gboolean seen[G_N_ELEMENTS (fields)] = { FALSE };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (requested == NULL && call->result == NULL)
    _te_rpc_call_fail (call, "“fields” is required");
  if (format && strcmp (format, "objects") != 0 && strcmp (format, "table") != 0)
    _te_rpc_call_fail (call, "“format” must be “objects” or “table”");
  if (call->result)
    {
      _te_rpc_call_return (call);
      return;
    }
  table = format && strcmp (format, "table") == 0;

  /* Known fields, each once, in the order asked; unknown ones are skipped
   * as Transmission does. */
  for (guint i = 0; i < json_array_get_length (requested); i++)
    {
      JsonNode *node = json_array_get_element (requested, i);
      int index;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          _te_rpc_call_fail (call, "“fields” must hold field names");
          _te_rpc_call_return (call);
          return;
        }
      index = find_field (json_node_get_string (node));
      if (index >= 0 && !seen[index])
        {
          seen[index] = TRUE;
          g_array_append_val (wanted, index);
        }
    }

  selected = _te_rpc_select (call, &recent);
  if (selected == NULL)
    {
      _te_rpc_call_return (call);
      return;
    }

  torrents = json_array_new ();
  if (table)
    {
      JsonArray *keys = json_array_new ();

      for (guint f = 0; f < wanted->len; f++)
        json_array_add_string_element (keys, fields[g_array_index (wanted, int, f)].name);
      json_array_add_array_element (torrents, keys);
    }
  for (guint i = 0; i < selected->len; i++)
    {
      Ctx c;
      JsonArray *row = table ? json_array_new () : NULL;
      JsonObject *object = table ? NULL : json_object_new ();

      ctx_init (&c, self, g_ptr_array_index (selected, i), now);
      for (guint f = 0; f < wanted->len; f++)
        {
          int index = g_array_index (wanted, int, f);
          JsonNode *value = fields[index].func (&c);

          if (table)
            json_array_add_element (row, value);
          else
            json_object_set_member (object, fields[index].name, value);
        }
      ctx_clear (&c);
      if (table)
        json_array_add_array_element (torrents, row);
      else
        json_array_add_object_element (torrents, object);
    }
  json_object_set_array_member (call->out, "torrents", torrents);

  if (recent)
    {
      JsonArray *removed = json_array_new ();

      for (guint i = 0; i < self->removed->len; i++)
        {
          TeRpcRemoved *r = &g_array_index (self->removed, TeRpcRemoved, i);

          if (r->when >= now - TE_RPC_RECENT_S)
            json_array_add_int_element (removed, r->id);
        }
      json_object_set_array_member (call->out, "removed", removed);
    }
  _te_rpc_call_return (call);
}
