/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "crash-relay.h"

#define HANDSHAKE_LEN 68
#define MSG_PIECE     7

/* The tracker */

static guint16
query_port (const char *query)
{
  g_auto(GStrv) params = g_strsplit (query ? query : "", "&", -1);

  for (guint i = 0; params[i]; i++)
    if (g_str_has_prefix (params[i], "port="))
      return (guint16) g_ascii_strtoull (params[i] + 5, NULL, 10);
  return 0;
}

static void
announce_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Tracker *t = user_data;
  guint16 port = query_port (g_uri_get_query (soup_server_message_get_uri (msg)));
  g_autoptr(GString) body = g_string_new ("d8:intervali1800e5:peers");

  if (port != 0 && port != t->seeder_port && t->relay_port != 0)
    {
      const guint8 peer[6] = { 127, 0, 0, 1, t->relay_port >> 8, t->relay_port & 0xff };

      g_string_append (body, "6:");
      g_string_append_len (body, (const char *) peer, sizeof peer);
      t->n_answered++;
    }
  else
    g_string_append (body, "0:");
  g_string_append_c (body, 'e');
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, body->str, body->len);
}

void
crash_tracker_start (Tracker *t)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  t->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (t->server, "/announce", announce_cb, t, NULL);
  soup_server_listen_local (t->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (t->server);
  g_assert_nonnull (uris);
  t->url = g_strdup_printf ("http://127.0.0.1:%d/announce", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

void
crash_tracker_stop (Tracker *t)
{
  soup_server_disconnect (t->server);
  g_clear_object (&t->server);
  g_clear_pointer (&t->url, g_free);
}


/* The relay */

typedef struct {
  Relay             *relay;
  guint              run;
  GSocketConnection *down;              /* the daemon's */
  GSocketConnection *up;                /* to the seeder */
  GCancellable      *cancellable;
  GByteArray        *pending;           /* seeder → daemon bytes not parsed yet */
  GBytes            *writing;
  gboolean           handshaken;
  guint              directions;        /* still running */
} Link;

static guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
link_free (Link *link)
{
  g_io_stream_close (G_IO_STREAM (link->down), NULL, NULL);
  if (link->up)
    g_io_stream_close (G_IO_STREAM (link->up), NULL, NULL);
  g_clear_object (&link->down);
  g_clear_object (&link->up);
  g_clear_object (&link->cancellable);
  g_byte_array_unref (link->pending);
  g_clear_pointer (&link->writing, g_bytes_unref);
  link->relay->n_links--;
  g_free (link);
}

/* One side hung up: hang up the other, and stop both directions. */
static void
link_direction_done (Link *link)
{
  g_cancellable_cancel (link->cancellable);
  g_socket_shutdown (g_socket_connection_get_socket (link->down), TRUE, TRUE, NULL);
  g_socket_shutdown (g_socket_connection_get_socket (link->up), TRUE, TRUE, NULL);
  if (--link->directions == 0)
    link_free (link);
}

static void
link_parse (Link   *link,
            GBytes *bytes)
{
  Relay *relay = link->relay;
  GByteArray *p = link->pending;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  g_byte_array_append (p, data, size);
  if (!link->handshaken)
    {
      if (p->len < HANDSHAKE_LEN)
        return;
      g_assert_cmpuint (p->data[0], ==, 19);
      g_byte_array_remove_range (p, 0, HANDSHAKE_LEN);
      link->handshaken = TRUE;
    }
  while (p->len >= 4)
    {
      guint32 len = rd32 (p->data);

      g_assert_cmpuint (len, <=, 2 * 1024 * 1024);
      if (p->len - 4 < len)
        break;
      if (len >= 9 && p->data[4] == MSG_PIECE)
        {
          guint32 index = rd32 (p->data + 5);

          g_assert_cmpuint (index, <, N_PIECES);
          relay->sent[link->run][index / 8] |= 0x80 >> (index % 8);
          relay->payload[link->run] += len - 9;
        }
      g_byte_array_remove_range (p, 0, 4 + len);
    }
}

static void link_read (Link *link);

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Link *link = user_data;

  g_clear_pointer (&link->writing, g_bytes_unref);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    link_direction_done (link);
  else
    link_read (link);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Link *link = user_data;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);

  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      link_direction_done (link);
      return;
    }
  link_parse (link, bytes);
  link->writing = g_bytes_ref (bytes);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (link->down)),
                                   g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   G_PRIORITY_DEFAULT, link->cancellable, written_cb, link);
}

static void
link_read (Link *link)
{
  g_input_stream_read_bytes_async (g_io_stream_get_input_stream (G_IO_STREAM (link->up)),
                                   64 * 1024, G_PRIORITY_DEFAULT, link->cancellable,
                                   read_cb, link);
}

static void
spliced_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, NULL);
  link_direction_done (user_data);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Link *link = user_data;

  link->up = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, NULL);
  if (link->up == NULL)
    {
      link_free (link);
      return;
    }
  link->directions = 2;
  g_output_stream_splice_async (g_io_stream_get_output_stream (G_IO_STREAM (link->up)),
                                g_io_stream_get_input_stream (G_IO_STREAM (link->down)),
                                G_OUTPUT_STREAM_SPLICE_NONE, G_PRIORITY_DEFAULT,
                                link->cancellable, spliced_cb, link);
  link_read (link);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  Relay *relay = user_data;
  Link *link = g_new0 (Link, 1);

  link->relay = relay;
  link->run = relay->run;
  link->down = g_object_ref (connection);
  link->cancellable = g_cancellable_new ();
  link->pending = g_byte_array_new ();
  relay->n_links++;
  relay->n_accepted[relay->run]++;
  g_socket_client_connect_async (relay->client, G_SOCKET_CONNECTABLE (relay->seeder),
                                 link->cancellable, connected_cb, link);
  return TRUE;
}

void
crash_relay_start (Relay   *relay,
                   guint16  seeder_port)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  relay->seeder = g_inet_socket_address_new (lo, seeder_port);
  relay->client = g_socket_client_new ();
  relay->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (relay->service), any, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  relay->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (relay->service, "incoming", G_CALLBACK (incoming_cb), relay);
}

gboolean
crash_relay_idle (gpointer data)
{
  return ((Relay *) data)->n_links == 0;
}

void
crash_relay_stop (Relay *relay)
{
  g_socket_service_stop (relay->service);
  g_socket_listener_close (G_SOCKET_LISTENER (relay->service));
  g_clear_object (&relay->service);
  g_clear_object (&relay->client);
  g_clear_object (&relay->seeder);
}
