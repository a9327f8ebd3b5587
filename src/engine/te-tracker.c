/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-tracker"

#include "config.h"

#include <string.h>

#include "te-tracker-private.h"

/* One announce or scrape to one tracker: the entry points, which pick HTTP
 * (te-tracker-http.c) or UDP (te-tracker-udp.c) by the URL's scheme, and what
 * both share: peer lists, error mapping, the BEP 48 scrape URL rule. */

G_DEFINE_QUARK (te-tracker-error-quark, te_tracker_error)

#define MAX_TEXT 1024

typedef enum {
  URL_UNSUPPORTED,
  URL_HTTP,
  URL_UDP,
} UrlKind;

/* Responses */

TeAnnounceResponse *
_te_announce_response_new (void)
{
  TeAnnounceResponse *response = g_new0 (TeAnnounceResponse, 1);

  response->interval = TE_TRACKER_DEFAULT_INTERVAL;
  response->seeders = -1;
  response->leechers = -1;
  response->peers = g_ptr_array_new_with_free_func (g_object_unref);
  return response;
}

/**
 * te_announce_response_free:
 * @response: (nullable): a reply from te_tracker_announce_finish()
 */
void
te_announce_response_free (TeAnnounceResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->tracker_id);
  g_free (response->warning);
  g_clear_pointer (&response->peers, g_ptr_array_unref);
  g_free (response);
}

guint32
_te_tracker_clamp_interval (gint64 seconds)
{
  return CLAMP (seconds, TE_TRACKER_MIN_INTERVAL, TE_TRACKER_MAX_INTERVAL);
}

char *
_te_tracker_sanitize (const guint8 *text,
                      gsize         len)
{
  /* NUL bytes count as invalid UTF-8 and become U+FFFD. */
  char *valid = g_utf8_make_valid ((const char *) text, MIN (len, MAX_TEXT));

  for (char *p = valid; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || *p == 0x7f)
        *p = ' ';
    }
  return valid;
}

/* Peer sets */

struct _TePeerSet
{
  GPtrArray  *peers;
  GHashTable *seen;   /* GBytes of address + port */
};

TePeerSet *
_te_peer_set_new (void)
{
  TePeerSet *set = g_new0 (TePeerSet, 1);

  set->peers = g_ptr_array_new_with_free_func (g_object_unref);
  set->seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                     (GDestroyNotify) g_bytes_unref, NULL);
  return set;
}

void
_te_peer_set_free (TePeerSet *set)
{
  if (set == NULL)
    return;
  g_clear_pointer (&set->peers, g_ptr_array_unref);
  g_hash_table_unref (set->seen);
  g_free (set);
}

GPtrArray *
_te_peer_set_steal (TePeerSet *set)
{
  return g_steal_pointer (&set->peers);
}

static gboolean
all_zero (const guint8 *data,
          gsize         len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != 0)
        return FALSE;
    }
  return TRUE;
}

void
_te_peer_set_add (TePeerSet    *set,
                  const guint8 *addr,
                  gsize         addr_len,
                  guint16       port)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GBytes) key = NULL;
  guint8 key_data[18];

  g_assert (addr_len == 4 || addr_len == 16);

  if (port == 0 || set->peers->len >= TE_TRACKER_MAX_PEERS)
    return;
  /* An IPv4-mapped IPv6 address is the IPv4 peer. */
  if (addr_len == 16 && memcmp (addr, v4_mapped, sizeof v4_mapped) == 0)
    {
      addr += 12;
      addr_len = 4;
    }
  if (all_zero (addr, addr_len))
    return;

  memcpy (key_data, addr, addr_len);
  key_data[addr_len] = port >> 8;
  key_data[addr_len + 1] = port & 0xff;
  key = g_bytes_new (key_data, addr_len + 2);
  if (g_hash_table_contains (set->seen, key))
    return;
  g_hash_table_add (set->seen, g_steal_pointer (&key));

  inet = g_inet_address_new_from_bytes (addr, addr_len == 4 ? G_SOCKET_FAMILY_IPV4
                                                            : G_SOCKET_FAMILY_IPV6);
  g_ptr_array_add (set->peers, g_inet_socket_address_new (inet, port));
}

void
_te_peer_set_add_compact (TePeerSet    *set,
                          const guint8 *data,
                          gsize         len,
                          gsize         stride)
{
  g_assert (stride == 6 || stride == 18);

  for (gsize off = 0; off + stride <= len; off += stride)
    {
      const guint8 *port = data + off + stride - 2;

      _te_peer_set_add (set, data + off, stride - 2, (port[0] << 8) | port[1]);
    }
}

/* Errors */

void
_te_tracker_return_gio_error (GTask  *task,
                              GError *error)
{
  TeTrackerError code;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }

  if (error->domain == G_RESOLVER_ERROR
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND))
    code = TE_TRACKER_ERROR_DNS;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    code = TE_TRACKER_ERROR_TIMEOUT;
  else
    code = TE_TRACKER_ERROR_NETWORK;

  g_task_return_new_error (task, TE_TRACKER_ERROR, code, "%s", error->message);
  g_error_free (error);
}

/**
 * te_tracker_error_get_http_status:
 * @error: an error from te_tracker_announce_finish() or te_tracker_scrape_finish()
 *
 * Returns: the HTTP status of a `TE_TRACKER_ERROR_HTTP_STATUS` error, else 0
 */
guint
te_tracker_error_get_http_status (const GError *error)
{
  guint64 status;

  if (!g_error_matches (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_HTTP_STATUS)
      || !g_str_has_prefix (error->message, "HTTP "))
    return 0;
  status = g_ascii_strtoull (error->message + 5, NULL, 10);
  return status <= 999 ? (guint) status : 0;
}

/**
 * te_tracker_error_is_retryable:
 * @error: an error from te_tracker_announce_finish() or te_tracker_scrape_finish()
 *
 * Whether asking the same tracker again later may work: `TRUE` for timeouts,
 * DNS and network failures, HTTP 5xx, 408 and 429; `FALSE` for the other HTTP
 * statuses, refusals (failure reason), malformed replies, unsupported URLs and
 * errors of other domains (such as cancellation).
 */
gboolean
te_tracker_error_is_retryable (const GError *error)
{
  guint status;

  if (error == NULL || error->domain != TE_TRACKER_ERROR)
    return FALSE;

  switch ((TeTrackerError) error->code)
    {
    case TE_TRACKER_ERROR_HTTP_STATUS:
      status = te_tracker_error_get_http_status (error);
      return (status >= 500 && status <= 599) || status == 408 || status == 429;
    case TE_TRACKER_ERROR_TIMEOUT:
    case TE_TRACKER_ERROR_DNS:
    case TE_TRACKER_ERROR_NETWORK:
      return TRUE;
    case TE_TRACKER_ERROR_FAILURE_REASON:
    case TE_TRACKER_ERROR_BAD_REPLY:
    case TE_TRACKER_ERROR_UNSUPPORTED_URL:
    default:
      return FALSE;
    }
}

/* URLs */

static UrlKind
classify_url (const char  *url,
              GUri       **out_uri)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  const char *scheme;
  const char *host;
  UrlKind kind = URL_UNSUPPORTED;

  if (uri == NULL)
    return URL_UNSUPPORTED;
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    return URL_UNSUPPORTED;

  if (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0)
    kind = URL_HTTP;
  else if (g_ascii_strcasecmp (scheme, "udp") == 0 && g_uri_get_port (uri) > 0)
    kind = URL_UDP;

  if (out_uri != NULL)
    *out_uri = g_steal_pointer (&uri);
  return kind;
}

/* The last '/' in [start, end), or NULL. */
static const char *
find_last_slash (const char *start,
                 const char *end)
{
  for (const char *p = end; p > start; p--)
    {
      if (p[-1] == '/')
        return p - 1;
    }
  return NULL;
}

/**
 * te_tracker_scrape_url:
 * @announce_url: a tracker's announce URL
 *
 * Derives the scrape URL by the BEP 48 rule: the last path segment of an HTTP
 * URL must start with `announce`, which becomes `scrape`; the query stays.
 * UDP trackers scrape at their announce URL, which is returned unchanged.
 *
 * Returns: (transfer full) (nullable): the scrape URL, or `NULL` when the
 *   tracker cannot be scraped
 */
char *
te_tracker_scrape_url (const char *announce_url)
{
  const char *authority;
  const char *path;
  const char *path_end;
  const char *slash;
  const char *segment;

  g_return_val_if_fail (announce_url != NULL, NULL);

  switch (classify_url (announce_url, NULL))
    {
    case URL_UDP:
      return g_strdup (announce_url);
    case URL_HTTP:
      break;
    case URL_UNSUPPORTED:
    default:
      return NULL;
    }

  /* Edit the text itself so that nothing else of the URL changes. */
  authority = strstr (announce_url, "://");
  g_assert (authority != NULL);
  authority += 3;
  path = authority + strcspn (authority, "/?#");
  path_end = path + strcspn (path, "?#");
  slash = find_last_slash (path, path_end);
  if (slash == NULL)
    return NULL;
  segment = slash + 1;
  if (path_end - segment < 8 || memcmp (segment, "announce", 8) != 0)
    return NULL;

  return g_strdup_printf ("%.*sscrape%s",
                          (int) (segment - announce_url), announce_url, segment + 8);
}

/* Entry points */

/**
 * te_tracker_announce_async:
 * @session: (nullable): the session for HTTP(S) trackers
 * @url: an `http`, `https` or `udp` announce URL
 * @request: what to announce; copied
 *
 * Announces once to one tracker, without retrying elsewhere: that is
 * [class@Announcer]'s job. HTTP requests give up after 30 s; UDP requests
 * retransmit as BEP 15 says before giving up.
 */
void
te_tracker_announce_async (SoupSession             *session,
                           const char              *url,
                           const TeAnnounceRequest *request,
                           GCancellable            *cancellable,
                           GAsyncReadyCallback      callback,
                           gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) uri = NULL;

  g_return_if_fail (session == NULL || SOUP_IS_SESSION (session));
  g_return_if_fail (url != NULL);
  g_return_if_fail (request != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, te_tracker_announce_async);

  switch (classify_url (url, &uri))
    {
    case URL_HTTP:
      if (session != NULL)
        {
          _te_tracker_http_announce (task, session, url, request);
          return;
        }
      break;
    case URL_UDP:
      _te_tracker_udp_announce (task, uri, request);
      return;
    case URL_UNSUPPORTED:
    default:
      break;
    }
  g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL,
                           "Cannot announce to “%s”", url);
}

/**
 * te_tracker_announce_finish:
 *
 * Returns: (transfer full): the tracker's reply, or `NULL` with @error set
 */
TeAnnounceResponse *
te_tracker_announce_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == te_tracker_announce_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * te_tracker_scrape_async:
 * @session: (nullable): the session for HTTP(S) trackers
 * @url: the tracker's announce URL (its scrape URL works too)
 * @info_hash: the torrent to ask about
 */
void
te_tracker_scrape_async (SoupSession         *session,
                         const char          *url,
                         const guint8         info_hash[20],
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *scrape_url = NULL;

  g_return_if_fail (session == NULL || SOUP_IS_SESSION (session));
  g_return_if_fail (url != NULL);
  g_return_if_fail (info_hash != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, te_tracker_scrape_async);

  switch (classify_url (url, &uri))
    {
    case URL_HTTP:
      scrape_url = te_tracker_scrape_url (url);
      if (scrape_url == NULL)
        {
          const char *path = g_uri_get_path (uri);
          const char *last = strrchr (path, '/');

          /* Already a scrape URL? */
          if (last != NULL && g_str_has_prefix (last + 1, "scrape"))
            scrape_url = g_strdup (url);
        }
      if (session != NULL && scrape_url != NULL)
        {
          _te_tracker_http_scrape (task, session, scrape_url, info_hash);
          return;
        }
      break;
    case URL_UDP:
      _te_tracker_udp_scrape (task, uri, info_hash);
      return;
    case URL_UNSUPPORTED:
    default:
      break;
    }
  g_task_return_new_error (task, TE_TRACKER_ERROR, TE_TRACKER_ERROR_UNSUPPORTED_URL,
                           "Cannot scrape “%s”", url);
}

/**
 * te_tracker_scrape_finish:
 * @out: (out caller-allocates): the counts, set on success
 *
 * A torrent missing from the tracker's reply is reported with zero counts.
 */
gboolean
te_tracker_scrape_finish (GAsyncResult    *result,
                          TeScrapeResult  *out,
                          GError         **error)
{
  g_autofree TeScrapeResult *scrape = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == te_tracker_scrape_async,
                        FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  scrape = g_task_propagate_pointer (G_TASK (result), error);
  if (scrape == NULL)
    return FALSE;
  *out = *scrape;
  return TRUE;
}
