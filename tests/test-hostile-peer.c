/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "te-engine.h"
#include "te-test-utils.h"
#include "te-torrent.h"
#include "te-wire.h"

/* A real engine seeds a torrent; a scripted client on a thread of its own
 * misbehaves in one way per case. The engine must hang up every time, and
 * ban an address that keeps at it. */

#define PIECE (32 * 1024)

typedef struct {
  char       *dir;
  TeEngine   *engine;
  TeTorrent  *torrent;
  guint       n_pieces;
} Fixture;

static void
state_cb (TeTorrent      *torrent,
          TeTorrentState  from,
          TeTorrentState  to,
          gboolean       *seeding)
{
  *seeding = te_torrent_get_state (torrent) == TE_TORRENT_STATE_SEEDING;
}

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  g_autofree char *payload = NULL;
  g_autoptr(TeMetainfo) meta = NULL;
  g_autoptr(GError) error = NULL;
  TeEngineSettings settings;
  gboolean seeding = FALSE;

  f->dir = te_test_make_tmpdir ("te-hostile");
  payload = g_build_filename (f->dir, "data.bin", NULL);
  te_test_write_random (payload, 10 * PIECE + 123, 5);
  meta = te_test_make_torrent (payload, TE_TORRENT_V1, PIECE);
  f->n_pieces = te_metainfo_get_n_pieces (meta);

  te_engine_settings_init (&settings);
  settings.listen_port = 0;
  f->engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  g_assert_true (te_engine_start (f->engine, &error));
  g_assert_no_error (error);
  f->torrent = te_engine_add_torrent (f->engine, meta, f->dir, &error);
  g_assert_no_error (error);
  g_signal_connect (f->torrent, "state-changed", G_CALLBACK (state_cb), &seeding);
  te_test_wait_for (&seeding);
  g_signal_handlers_disconnect_by_data (f->torrent, &seeding);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  te_engine_stop (f->engine);
  g_clear_object (&f->engine);
  te_test_rm_rf (f->dir);
  g_free (f->dir);
}

typedef struct {
  guint16      port;
  guint8       info_hash[20];
  GByteArray  *script;       /* sent after the handshakes */
  gboolean     handshake_ok; /* we got the engine's handshake */
  gboolean     closed;       /* the engine hung up on us */
  gsize        stop_after;   /* stop reading after this many bytes (0: read to the end) */
  GByteArray  *received;
  gboolean     done;
} Client;

static void
put_u32 (GByteArray *a,
         guint32     v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (a, b, 4);
}

static void
put_msg (GByteArray   *a,
         guint8        id,
         const guint8 *payload,
         gsize         len)
{
  put_u32 (a, (guint32) len + 1);
  g_byte_array_append (a, &id, 1);
  if (len)
    g_byte_array_append (a, payload, len);
}

static void
put_request (GByteArray *a,
             guint32     index,
             guint32     begin,
             guint32     length)
{
  guint8 p[12];

  for (int i = 0; i < 4; i++)
    {
      p[i] = index >> (24 - 8 * i);
      p[4 + i] = begin >> (24 - 8 * i);
      p[8 + i] = length >> (24 - 8 * i);
    }
  put_msg (a, TE_WIRE_REQUEST, p, 12);
}

static gpointer
client_thread (gpointer data)
{
  Client *c = data;
  g_autoptr(GSocketClient) sc = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  GInputStream *in;
  GOutputStream *out;
  guint8 hs[TE_WIRE_HANDSHAKE_LEN], reply[TE_WIRE_HANDSHAKE_LEN], id[20], buf[65536];
  guint8 reserved[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0x04 };
  gsize got = 0;
  gint64 deadline;

  g_socket_client_set_timeout (sc, 10);
  conn = g_socket_client_connect_to_host (sc, "127.0.0.1", c->port, NULL, &error);
  g_assert_no_error (error);
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));

  for (guint i = 0; i < 20; i++)
    id[i] = (guint8) g_random_int ();
  te_wire_write_handshake (hs, reserved, c->info_hash, id);
  g_output_stream_write_all (out, hs, sizeof hs, NULL, NULL, &error);
  g_assert_no_error (error);
  if (g_input_stream_read_all (in, reply, sizeof reply, &got, NULL, NULL) && got == sizeof reply)
    c->handshake_ok = TRUE;

  if (c->script->len > 0)
    g_output_stream_write_all (out, c->script->data, c->script->len, NULL, NULL, NULL);

  /* Read whatever comes until the engine hangs up (or 10 s pass). */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GError) read_error = NULL;
      gssize n = g_input_stream_read (in, buf, sizeof buf, NULL, &read_error);

      if (n <= 0)
        {
          c->closed = TRUE;
          break;
        }
      g_byte_array_append (c->received, buf, n);
      if (c->stop_after && c->received->len >= c->stop_after)
        break;
    }
  g_atomic_int_set (&c->done, TRUE);
  return NULL;
}

static gboolean
run_client_full (Fixture    *f,
                 GByteArray *script,
                 gsize       stop_after,
                 GByteArray *received,
                 gboolean   *handshake_ok)
{
  Client c = { 0 };
  GThread *thread;
  TeMetainfo *meta = te_torrent_get_metainfo (f->torrent);

  c.port = te_engine_get_port (f->engine);
  memcpy (c.info_hash, te_metainfo_get_info_hash (meta), 20);
  c.script = script;
  c.stop_after = stop_after;
  c.received = received;
  thread = g_thread_new ("hostile", client_thread, &c);
  while (!g_atomic_int_get (&c.done))
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_thread_join (thread);
  if (handshake_ok)
    *handshake_ok = c.handshake_ok;
  return c.closed;
}

static gboolean
run_client (Fixture    *f,
            GByteArray *script,
            gboolean   *handshake_ok)
{
  g_autoptr(GByteArray) received = g_byte_array_new ();

  return run_client_full (f, script, 0, received, handshake_ok);
}

typedef void (*Script) (GByteArray *a, guint n_pieces);

static void
script_oversize (GByteArray *a, guint n)
{
  put_u32 (a, 64 * 1024 * 1024);
  g_byte_array_append (a, (const guint8 *) "\x07", 1);
}

static void
script_unknown (GByteArray *a, guint n)
{
  put_msg (a, 99, NULL, 0);
}

static void
script_malformed (GByteArray *a, guint n)
{
  put_msg (a, TE_WIRE_HAVE, (const guint8 *) "\x00\x01", 2);
}

static void
script_bitfield_length (GByteArray *a, guint n)
{
  guint8 bits[64] = { 0 };

  put_msg (a, TE_WIRE_BITFIELD, bits, (n + 7) / 8 + 3);
}

static void
script_bitfield_spare (GByteArray *a, guint n)
{
  guint8 bits[64];

  memset (bits, 0xff, sizeof bits);   /* every spare bit past the last piece set */
  put_msg (a, TE_WIRE_BITFIELD, bits, (n + 7) / 8);
}

static void
script_request_outside (GByteArray *a, guint n)
{
  put_msg (a, TE_WIRE_INTERESTED, NULL, 0);
  put_request (a, n + 5, 0, 16384);
}

static void
script_request_length (GByteArray *a, guint n)
{
  put_msg (a, TE_WIRE_INTERESTED, NULL, 0);
  put_request (a, 0, 0, 1024 * 1024);
}

static void
script_request_past_piece (GByteArray *a, guint n)
{
  put_msg (a, TE_WIRE_INTERESTED, NULL, 0);
  put_request (a, 0, PIECE - 100, 16384);
}

static void
script_unrequested_piece (GByteArray *a, guint n)
{
  guint8 p[8 + 64] = { 0 };

  /* We are a seed: piece data that nobody asked for is dropped with the peer. */
  put_msg (a, TE_WIRE_PIECE, p, sizeof p);
}

static void
script_request_flood (GByteArray *a, guint n)
{
  put_msg (a, TE_WIRE_INTERESTED, NULL, 0);
  /* More than the 500 requests our handshake allows, faster than they are served. */
  for (guint i = 0; i < 700; i++)
    put_request (a, i % n, 0, 16384);
}

static void
script_fast_without_extension (GByteArray *a, guint n)
{
  put_msg (a, TE_WIRE_HAVE_ALL, NULL, 0);
  put_msg (a, TE_WIRE_HAVE_ALL, NULL, 0);   /* a second "bitfield" */
}

static void
script_metadata_out_of_range (GByteArray *a, guint n)
{
  const char ext[] = "\x00" "d1:md11:ut_metadatai3eee";
  const char req[] = "\x01" "d8:msg_typei0e5:piecei90000ee";

  put_msg (a, TE_WIRE_EXTENDED, (const guint8 *) ext, sizeof ext - 1);
  put_msg (a, TE_WIRE_EXTENDED, (const guint8 *) req, sizeof req - 1);
}

static const struct {
  const char *name;
  Script      script;
} cases[] = {
  { "oversize", script_oversize },
  { "unknown-message", script_unknown },
  { "malformed-have", script_malformed },
  { "bitfield-length", script_bitfield_length },
  { "bitfield-spare-bits", script_bitfield_spare },
  { "request-outside", script_request_outside },
  { "request-length", script_request_length },
  { "request-past-piece", script_request_past_piece },
  { "unrequested-piece", script_unrequested_piece },
  { "request-flood", script_request_flood },
  { "second-bitfield", script_fast_without_extension },
  { "metadata-out-of-range", script_metadata_out_of_range },
};

static void
test_case (Fixture      *f,
           gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autoptr(GByteArray) script = g_byte_array_new ();
  gboolean handshake_ok = FALSE;

  cases[i].script (script, f->n_pieces);
  g_assert_true (run_client (f, script, &handshake_ok));
  g_assert_true (handshake_ok);
}

static void
test_ban (Fixture      *f,
          gconstpointer data)
{
  gboolean handshake_ok = FALSE;

  /* Three protocol violations from one address: the third bans it, and the
   * next connection is refused before any handshake. */
  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(GByteArray) script = g_byte_array_new ();

      script_request_outside (script, f->n_pieces);
      g_assert_true (run_client (f, script, &handshake_ok));
      g_assert_true (handshake_ok);
    }
  {
    g_autoptr(GByteArray) script = g_byte_array_new ();

    g_assert_true (run_client (f, script, &handshake_ok));
    g_assert_false (handshake_ok);
  }
}

static void
test_polite (Fixture      *f,
             gconstpointer data)
{
  g_autoptr(GByteArray) script = g_byte_array_new ();
  g_autoptr(GByteArray) received = g_byte_array_new ();
  gboolean handshake_ok = FALSE, got_block = FALSE;
  gsize off = 0;

  /* The same engine serves a peer that behaves: the block it asks for arrives. */
  put_msg (script, TE_WIRE_INTERESTED, NULL, 0);
  put_request (script, 1, 0, 16384);
  g_assert_false (run_client_full (f, script, 16384 + 13, received, &handshake_ok));
  g_assert_true (handshake_ok);
  while (off + 5 <= received->len)
    {
      TeWireMsg msg;
      gsize consumed;

      if (te_wire_parse (received->data + off, received->len - off, 1 << 20, &msg, &consumed)
          != TE_WIRE_OK)
        break;
      if (msg.id == TE_WIRE_PIECE && msg.index == 1 && msg.begin == 0 && msg.data_len == 16384)
        got_block = TRUE;
      off += consumed;
    }
  g_assert_true (got_block);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/te/hostile-peer/%s", cases[i].name);
      g_test_add (path, Fixture, GUINT_TO_POINTER (i), fixture_setup, test_case, fixture_teardown);
    }
  g_test_add ("/te/hostile-peer/ban", Fixture, NULL, fixture_setup, test_ban, fixture_teardown);
  g_test_add ("/te/hostile-peer/polite-peer-served", Fixture, NULL, fixture_setup, test_polite,
              fixture_teardown);

  return g_test_run ();
}
