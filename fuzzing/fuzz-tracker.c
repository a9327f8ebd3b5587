/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-tracker-private.h"

/* Feeds the input to every tracker reply parser: HTTP announce and scrape
 * (bencoded) and UDP announce (IPv4 and IPv6 peers) and scrape (binary).
 * Each must either fail with a TE_TRACKER_ERROR whose message is valid UTF-8,
 * or return a reply within the documented limits. */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* The torrent the scrape parser looks for; the seed corpus uses it. */
static const guint8 scrape_hash[20] = "hhhhhhhhhhhhhhhhhhhh";

static void
check_error (const GError *error)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == TE_TRACKER_ERROR);
  g_assert_true (error->code == TE_TRACKER_ERROR_FAILURE_REASON
                 || error->code == TE_TRACKER_ERROR_BAD_REPLY);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
check_response (const TeAnnounceResponse *response,
                gsize                     max_peers)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_cmpuint (response->interval, >=, 30);
  g_assert_cmpuint (response->interval, <=, 86400);
  g_assert_cmpuint (response->min_interval, <=, 86400);
  g_assert_true (response->warning == NULL || g_utf8_validate (response->warning, -1, NULL));
  g_assert_true (response->tracker_id == NULL || *response->tracker_id != '\0');
  g_assert_cmpuint (response->peers->len, <=, MIN (max_peers, TE_TRACKER_MAX_PEERS));

  for (guint i = 0; i < response->peers->len; i++)
    {
      GInetSocketAddress *peer = g_ptr_array_index (response->peers, i);
      g_autofree char *text = NULL;

      g_assert_true (G_IS_INET_SOCKET_ADDRESS (peer));
      g_assert_cmpuint (g_inet_socket_address_get_port (peer), !=, 0);
      g_assert_false (g_inet_address_get_is_any (g_inet_socket_address_get_address (peer)));
      text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (peer));
      g_assert_true (g_hash_table_add (seen, g_steal_pointer (&text)));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size > TE_TRACKER_MAX_REPLY_SIZE + 16)
    return 0;

  /* HTTP announce */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TeAnnounceResponse) response = te_tracker_parse_http_reply (data, size, &error);

    if (response == NULL)
      check_error (error);
    else
      check_response (response, size / 6);
  }

  /* HTTP scrape */
  {
    g_autoptr(GError) error = NULL;
    TeScrapeResult scrape;

    if (_te_tracker_parse_http_scrape (data, size, scrape_hash, &scrape, &error))
      {
        g_assert_cmpint (scrape.seeders, >=, -1);
        g_assert_cmpint (scrape.leechers, >=, -1);
        g_assert_cmpint (scrape.downloaded, >=, -1);
      }
    else
      {
        check_error (error);
      }
  }

  /* UDP announce, both address families */
  for (guint ipv6 = 0; ipv6 < 2; ipv6++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TeAnnounceResponse) response =
        _te_tracker_parse_udp_announce (data, size, ipv6, &error);

      if (response == NULL)
        {
          check_error (error);
          g_assert_cmpuint (size, <, 20);
        }
      else
        {
          check_response (response, (size - 20) / (ipv6 ? 18 : 6));
          g_assert_cmpint (response->seeders, >=, 0);
          g_assert_cmpint (response->leechers, >=, 0);
        }
    }

  /* UDP scrape */
  {
    g_autoptr(GError) error = NULL;
    TeScrapeResult scrape;

    if (_te_tracker_parse_udp_scrape (data, size, &scrape, &error))
      g_assert_cmpuint (size, >=, 20);
    else
      check_error (error);
  }

  return 0;
}
