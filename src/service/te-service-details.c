/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-service"

#include "config.h"

#include <string.h>

#include "te-service-private.h"

/* One torrent's files, peers and trackers: /api/v1/torrents/{id}/files,
 * …/peers and …/trackers. */

/* Files */

static const char *
file_priority_name (TePriority p)
{
  switch (p)
    {
    case TE_PRIORITY_HIGH: return "high";
    case TE_PRIORITY_LOW: return "low";
    default: return "normal";
    }
}

static void
reply_files (TeCall *call)
{
  g_autoptr(GPtrArray) files = te_torrent_dup_files (call->torrent);
  GString *s = g_string_new ("{\"files\":[");

  for (guint i = 0; files && i < files->len; i++)
    {
      TeFileInfo *f = g_ptr_array_index (files, i);

      if (i)
        g_string_append_c (s, ',');
      g_string_append_printf (s, "{\"index\":%u,\"path\":", i);
      te_api_append_string (s, f->path);
      g_string_append_printf (s, ",\"length\":%" G_GUINT64_FORMAT ",\"offset\":%" G_GUINT64_FORMAT
                              ",\"haveBytes\":%" G_GUINT64_FORMAT ",\"wanted\":%s,\"priority\":\"%s\"}",
                              f->length, f->offset, f->have_bytes, f->priority == TE_PRIORITY_SKIP ? "false" : "true",
                              file_priority_name (f->priority));
    }
  g_string_append (s, "]}");
  _te_call_reply (call, 200, s);
}

void
_te_route_files_get (TeCall *call)
{
  reply_files (call);
}

void
_te_route_files_patch (TeCall *call)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) changes = te_api_parse_files_patch (call->body, &error);
  g_autoptr(GPtrArray) files = NULL;

  if (changes == NULL)
    {
      _te_call_reply_error (call, error);
      return;
    }
  files = te_torrent_dup_files (call->torrent);
  if (files == NULL || files->len == 0)
    {
      _te_call_reply_status (call, 409, "conflict", "The torrent's metadata has not arrived yet");
      return;
    }
  /* All checked before any is applied. */
  for (guint i = 0; i < changes->len; i++)
    if (g_array_index (changes, TeApiFileChange, i).index >= files->len)
      {
        g_autofree char *m = g_strdup_printf ("No file has index %u", g_array_index (changes, TeApiFileChange, i).index);

        _te_call_reply_status (call, 422, "invalid_value", m);
        return;
      }
  for (guint i = 0; i < changes->len; i++)
    {
      TeApiFileChange *c = &g_array_index (changes, TeApiFileChange, i);

      if (c->has_priority)
        te_torrent_set_file_priority (call->torrent, c->index, c->priority);
      if (c->has_wanted)
        te_torrent_set_file_wanted (call->torrent, c->index, c->wanted);
    }
  reply_files (call);
}

/* Peers */

void
_te_route_peers_get (TeCall *call)
{
  g_autoptr(GPtrArray) peers = te_torrent_dup_peers (call->torrent);
  GString *s = g_string_new ("{\"peers\":[");

  for (guint i = 0; peers && i < peers->len; i++)
    {
      TePeerInfo *p = g_ptr_array_index (peers, i);

      if (i)
        g_string_append_c (s, ',');
      g_string_append (s, "{\"address\":");
      te_api_append_string (s, p->address);
      g_string_append_printf (s, ",\"port\":%u,\"peerId\":", p->port);
      te_api_append_hex (s, p->peer_id, 20);
      g_string_append (s, ",\"client\":");
      te_api_append_string (s, p->client ? p->client : "");
      g_string_append (s, ",\"flags\":");
      te_api_append_string (s, p->flags);
      g_string_append_printf (s, ",\"downloadRate\":%" G_GUINT64_FORMAT ",\"uploadRate\":%" G_GUINT64_FORMAT
                              ",\"progress\":%.4f}", p->download_rate, p->upload_rate, p->progress);
    }
  g_string_append (s, "]}");
  _te_call_reply (call, 200, s);
}

void
_te_route_peers_add (TeCall *call)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GSocketAddress) sa = NULL;
  guint16 port;

  if (!te_api_parse_peer_add (call->body, &address, &port, &error))
    {
      _te_call_reply_error (call, error);
      return;
    }
  sa = g_inet_socket_address_new_from_string (address, port);
  te_torrent_add_peer (call->torrent, G_INET_SOCKET_ADDRESS (sa));
  soup_server_message_set_status (call->msg, 202, NULL);
  soup_server_message_set_response (call->msg, "application/json", SOUP_MEMORY_STATIC, "{}", 2);
}

/* Trackers */

static const char *
tracker_state_name (TeTrackerState s)
{
  switch (s)
    {
    case TE_TRACKER_STATE_WORKING: return "working";
    case TE_TRACKER_STATE_WARNING: return "warning";
    case TE_TRACKER_STATE_ERROR: return "error";
    default: return "unknown";
    }
}

static void
append_nullable (GString    *s,
                 const char *v)
{
  if (v)
    te_api_append_string (s, v);
  else
    g_string_append (s, "null");
}

static void
reply_trackers (TeCall *call,
                guint   status)
{
  g_autoptr(GPtrArray) trackers = te_torrent_dup_trackers (call->torrent);
  GString *s = g_string_new ("{\"trackers\":[");

  for (guint i = 0; trackers && i < trackers->len; i++)
    {
      TeTrackerInfo *t = g_ptr_array_index (trackers, i);

      if (i)
        g_string_append_c (s, ',');
      g_string_append (s, "{\"url\":");
      te_api_append_string (s, t->url);
      g_string_append_printf (s, ",\"tier\":%u,\"state\":\"%s\",\"lastAnnounce\":", t->tier,
                              tracker_state_name (t->state));
      te_api_append_time (s, t->last_announce);
      g_string_append (s, ",\"nextAnnounce\":");
      te_api_append_time (s, t->next_announce);
      g_string_append (s, ",\"lastError\":");
      append_nullable (s, t->last_error);
      g_string_append (s, ",\"warning\":");
      append_nullable (s, t->warning);
      g_string_append (s, ",\"seeders\":");
      if (t->seeders >= 0)
        g_string_append_printf (s, "%" G_GINT64_FORMAT, t->seeders);
      else
        g_string_append (s, "null");
      g_string_append (s, ",\"leechers\":");
      if (t->leechers >= 0)
        g_string_append_printf (s, "%" G_GINT64_FORMAT, t->leechers);
      else
        g_string_append (s, "null");
      g_string_append_c (s, '}');
    }
  g_string_append (s, "]}");
  _te_call_reply (call, status, s);
}

static void
reply_tracker_error (TeCall       *call,
                     const GError *error)
{
  if (g_error_matches (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_TRACKER_EXISTS))
    _te_call_reply_status (call, 409, "conflict", error->message);
  else if (g_error_matches (error, TE_TORRENT_ERROR, TE_TORRENT_ERROR_NO_TRACKER))
    _te_call_reply_status (call, 404, "not_found", error->message);
  else
    _te_call_reply_status (call, 422, "invalid_value", error->message);
}

void
_te_route_trackers_get (TeCall *call)
{
  reply_trackers (call, 200);
}

void
_te_route_trackers_add (TeCall *call)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  int tier;

  if (!te_api_parse_tracker_add (call->body, &url, &tier, &error))
    _te_call_reply_error (call, error);
  else if (!te_torrent_add_tracker (call->torrent, url, tier, &error))
    reply_tracker_error (call, error);
  else
    reply_trackers (call, 201);
}

void
_te_route_trackers_replace (TeCall *call)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *new_url = NULL;

  if (!te_api_parse_tracker_replace (call->body, &url, &new_url, &error))
    _te_call_reply_error (call, error);
  else if (!te_torrent_replace_tracker (call->torrent, url, new_url, &error))
    reply_tracker_error (call, error);
  else
    reply_trackers (call, 200);
}

void
_te_route_trackers_remove (TeCall *call)
{
  g_autoptr(GError) error = NULL;
  const char *url = call->query ? g_hash_table_lookup (call->query, "url") : NULL;

  if (url == NULL)
    _te_call_reply_status (call, 400, "bad_request", "The “url” query parameter is required");
  else if (!te_torrent_remove_tracker (call->torrent, url, &error))
    reply_tracker_error (call, error);
  else
    reply_trackers (call, 200);
}
