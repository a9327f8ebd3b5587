/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "te-engine.h"
#include "te-magnet.h"
#include "te-peer.h"
#include "te-test-utils.h"
#include "te-torrent.h"

/* The engine's torrent-… signals repeat each torrent's own: right after it,
 * with the same arguments, for torrents the engine holds and for no other.
 * A recorder logs both sides into one list; each torrent emission must be
 * followed at once by the engine's twin. */

#define PIECE (16 * 1024)

typedef struct {
  TeEngine   *engine;
  TeTorrent  *torrent;     /* the first torrent added, watched on both sides */
  GPtrArray  *log;         /* "T …" from the torrent, "E …" from the engine */
  gboolean    removed;
  guint       torrent_after_removal;
  guint       engine_after_removal;
  guint       n_completed;
  guint       n_metadata;
  guint       n_errors;
  guint       n_connected;
  guint       n_disconnected;
  guint       strays;
  GHashTable *pieces;      /* indices the engine reported */
} Recorder;

static void
record (Recorder   *rec,
        gboolean    from_engine,
        const char *format,
        ...) G_GNUC_PRINTF (3, 4);

static void
record (Recorder   *rec,
        gboolean    from_engine,
        const char *format,
        ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (rec->removed)
    {
      if (from_engine)
        rec->engine_after_removal++;
      else
        rec->torrent_after_removal++;
      return;
    }
  g_ptr_array_add (rec->log, g_strdup_printf ("%c %s", from_engine ? 'E' : 'T', text));
}

/* The torrent's side */

static void
t_state_cb (TeTorrent      *torrent,
            TeTorrentState  from,
            TeTorrentState  to,
            Recorder       *rec)
{
  record (rec, FALSE, "state %s %s", te_torrent_state_to_string (from), te_torrent_state_to_string (to));
}

static void
t_completed_cb (TeTorrent *torrent,
                Recorder  *rec)
{
  record (rec, FALSE, "completed");
}

static void
t_error_cb (TeTorrent          *torrent,
            const TeErrorEvent *event,
            Recorder           *rec)
{
  record (rec, FALSE, "error %s %s %p", event->code, te_error_action_to_string (event->action), event);
}

static void
t_piece_cb (TeTorrent *torrent,
            guint      index,
            Recorder  *rec)
{
  record (rec, FALSE, "piece %u", index);
}

static void
t_connected_cb (TeTorrent *torrent,
                TePeer    *peer,
                Recorder  *rec)
{
  record (rec, FALSE, "peer-connected %p", peer);
}

static void
t_disconnected_cb (TeTorrent  *torrent,
                   TePeer     *peer,
                   const char *reason,
                   Recorder   *rec)
{
  record (rec, FALSE, "peer-disconnected %p %s", peer, reason);
}

static void
t_metadata_cb (TeTorrent *torrent,
               Recorder  *rec)
{
  record (rec, FALSE, "metadata %s", te_torrent_get_name (torrent));
}

/* The engine's side */

/* Only the watched torrent may speak here; anything else (a torrent not
 * yet announced, say) is counted as a stray. */
static gboolean
mine (Recorder  *rec,
      TeTorrent *torrent)
{
  if (torrent == rec->torrent && rec->torrent != NULL)
    return TRUE;
  rec->strays++;
  return FALSE;
}

static void
e_state_cb (TeEngine       *engine,
            TeTorrent      *torrent,
            TeTorrentState  from,
            TeTorrentState  to,
            Recorder       *rec)
{
  if (!mine (rec, torrent))
    return;
  record (rec, TRUE, "state %s %s", te_torrent_state_to_string (from), te_torrent_state_to_string (to));
}

static void
e_completed_cb (TeEngine  *engine,
                TeTorrent *torrent,
                Recorder  *rec)
{
  if (!mine (rec, torrent))
    return;
  g_assert_cmpint (te_torrent_get_state (torrent), ==, TE_TORRENT_STATE_SEEDING);
  rec->n_completed++;
  record (rec, TRUE, "completed");
}

static void
e_error_cb (TeEngine           *engine,
            TeTorrent          *torrent,
            const TeErrorEvent *event,
            Recorder           *rec)
{
  if (!mine (rec, torrent))
    return;
  rec->n_errors++;
  record (rec, TRUE, "error %s %s %p", event->code, te_error_action_to_string (event->action), event);
}

static void
e_piece_cb (TeEngine  *engine,
            TeTorrent *torrent,
            guint      index,
            Recorder  *rec)
{
  if (!mine (rec, torrent))
    return;
  g_hash_table_add (rec->pieces, GUINT_TO_POINTER (index));
  record (rec, TRUE, "piece %u", index);
}

static void
e_connected_cb (TeEngine  *engine,
                TeTorrent *torrent,
                TePeer    *peer,
                Recorder  *rec)
{
  if (!mine (rec, torrent))
    return;
  g_assert_true (TE_IS_PEER (peer));
  rec->n_connected++;
  record (rec, TRUE, "peer-connected %p", peer);
}

static void
e_disconnected_cb (TeEngine   *engine,
                   TeTorrent  *torrent,
                   TePeer     *peer,
                   const char *reason,
                   Recorder   *rec)
{
  if (!mine (rec, torrent))
    return;
  g_assert_true (TE_IS_PEER (peer));
  g_assert_nonnull (reason);
  rec->n_disconnected++;
  record (rec, TRUE, "peer-disconnected %p %s", peer, reason);
}

static void
e_metadata_cb (TeEngine  *engine,
               TeTorrent *torrent,
               Recorder  *rec)
{
  if (!mine (rec, torrent))
    return;
  g_assert_nonnull (te_torrent_get_metainfo (torrent));
  rec->n_metadata++;
  record (rec, TRUE, "metadata %s", te_torrent_get_name (torrent));
}

static void
e_added_cb (TeEngine  *engine,
            TeTorrent *torrent,
            Recorder  *rec)
{
  if (rec->torrent != NULL)
    return;
  rec->torrent = g_object_ref (torrent);
  g_signal_connect (torrent, "state-changed", G_CALLBACK (t_state_cb), rec);
  g_signal_connect (torrent, "completed", G_CALLBACK (t_completed_cb), rec);
  g_signal_connect (torrent, "error", G_CALLBACK (t_error_cb), rec);
  g_signal_connect (torrent, "piece-completed", G_CALLBACK (t_piece_cb), rec);
  g_signal_connect (torrent, "peer-connected", G_CALLBACK (t_connected_cb), rec);
  g_signal_connect (torrent, "peer-disconnected", G_CALLBACK (t_disconnected_cb), rec);
  g_signal_connect (torrent, "metadata-received", G_CALLBACK (t_metadata_cb), rec);
}

static void
e_removed_cb (TeEngine  *engine,
              TeTorrent *torrent,
              gboolean   delete_data,
              Recorder  *rec)
{
  if (torrent == rec->torrent)
    rec->removed = TRUE;
}

static void
recorder_init (Recorder *rec,
               TeEngine *engine)
{
  memset (rec, 0, sizeof *rec);
  rec->engine = engine;
  rec->log = g_ptr_array_new_with_free_func (g_free);
  rec->pieces = g_hash_table_new (NULL, NULL);
  g_signal_connect (engine, "torrent-added", G_CALLBACK (e_added_cb), rec);
  g_signal_connect (engine, "torrent-removed", G_CALLBACK (e_removed_cb), rec);
  g_signal_connect (engine, "torrent-state-changed", G_CALLBACK (e_state_cb), rec);
  g_signal_connect (engine, "torrent-completed", G_CALLBACK (e_completed_cb), rec);
  g_signal_connect (engine, "torrent-error", G_CALLBACK (e_error_cb), rec);
  g_signal_connect (engine, "torrent-piece-completed", G_CALLBACK (e_piece_cb), rec);
  g_signal_connect (engine, "torrent-peer-connected", G_CALLBACK (e_connected_cb), rec);
  g_signal_connect (engine, "torrent-peer-disconnected", G_CALLBACK (e_disconnected_cb), rec);
  g_signal_connect (engine, "torrent-metadata-received", G_CALLBACK (e_metadata_cb), rec);
}

static void
recorder_clear (Recorder *rec)
{
  g_signal_handlers_disconnect_by_data (rec->engine, rec);
  if (rec->torrent)
    g_signal_handlers_disconnect_by_data (rec->torrent, rec);
  g_clear_object (&rec->torrent);
  g_clear_pointer (&rec->log, g_ptr_array_unref);
  g_clear_pointer (&rec->pieces, g_hash_table_unref);
}

/* Every torrent emission is followed at once by the engine's, with the same
 * arguments, and the engine emits nothing else. */
static void
assert_paired (Recorder *rec)
{
  g_assert_cmpuint (rec->strays, ==, 0);
  g_assert_cmpuint (rec->log->len % 2, ==, 0);
  for (guint i = 0; i < rec->log->len; i += 2)
    {
      const char *t = g_ptr_array_index (rec->log, i);
      const char *e = g_ptr_array_index (rec->log, i + 1);

      if (t[0] != 'T' || e[0] != 'E' || strcmp (t + 1, e + 1) != 0)
        g_error ("entry %u: “%s” then “%s”", i, t, e);
    }
}

static gboolean
logged (Recorder   *rec,
        const char *entry)
{
  for (guint i = 0; i < rec->log->len; i++)
    if (g_str_equal (g_ptr_array_index (rec->log, i), entry))
      return TRUE;
  /* What was logged instead, to see why. */
  for (guint i = 0; i < rec->log->len; i++)
    g_test_message ("%s", (char *) g_ptr_array_index (rec->log, i));
  return FALSE;
}

/* A magnet downloaded from a second engine on loopback: its metadata, every
 * piece, the states it goes through, completion, and its peer coming and
 * going all reach the engine's listeners. The seeder's side: its data
 * checked, the peer connected. */
static void
test_download (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-signals-download");
  g_autofree char *seed_dir = g_build_filename (dir, "seed", NULL);
  g_autofree char *down_dir = g_build_filename (dir, "down", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (seed_dir, "payload.bin", 24 * PIECE + 100, 3);
  g_autofree char *hex = te_metainfo_dup_info_hash_hex (meta);
  g_autoptr(TeEngine) seeder = te_test_new_engine (0, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (0, 0);
  g_autofree char *uri = NULL;
  g_autoptr(TeMagnet) magnet = NULL;
  g_autoptr(GError) error = NULL;
  Recorder seed_rec, leech_rec;
  TeTorrent *seed, *leech;
  guint n_pieces = te_metainfo_get_n_pieces (meta);

  recorder_init (&seed_rec, seeder);
  recorder_init (&leech_rec, leecher);

  seed = te_engine_add_torrent (seeder, meta, seed_dir, &error);
  g_assert_no_error (error);
  g_assert_true (seed_rec.torrent == seed);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);
  /* Its data was checked, then it waited for its turn to seed. */
  g_assert_true (logged (&seed_rec, "E state checking queued"));
  g_assert_true (logged (&seed_rec, "E state queued seeding"));
  g_assert_cmpuint (seed_rec.n_completed, ==, 0);

  uri = g_strdup_printf ("magnet:?xt=urn:btih:%s&dn=payload&x.pe=127.0.0.1:%u", hex,
                         te_engine_get_port (seeder));
  magnet = te_magnet_parse (uri, &error);
  g_assert_no_error (error);
  leech = te_engine_add_magnet (leecher, magnet, down_dir, &error);
  g_assert_no_error (error);
  g_assert_true (leech_rec.torrent == leech);
  te_test_wait_state (leech, TE_TORRENT_STATE_SEEDING);

  g_assert_cmpuint (leech_rec.n_metadata, ==, 1);
  g_assert_true (logged (&leech_rec, "E metadata payload.bin"));
  g_assert_cmpuint (leech_rec.n_completed, ==, 1);
  g_assert_true (logged (&leech_rec, "E state downloading seeding"));
  g_assert_cmpuint (g_hash_table_size (leech_rec.pieces), ==, n_pieces);
  g_assert_cmpuint (leech_rec.n_connected, >=, 1);
  g_assert_cmpuint (seed_rec.n_connected, >=, 1);
  /* Completion follows the state change that makes it. */
  for (guint i = 0; i < leech_rec.log->len; i++)
    if (g_str_equal (g_ptr_array_index (leech_rec.log, i), "E completed"))
      g_assert_cmpstr (g_ptr_array_index (leech_rec.log, i - 2), ==, "E state downloading seeding");

  /* The seeder goes away: the leecher's peer is gone. */
  te_engine_stop (seeder);
  while (leech_rec.n_disconnected == 0)
    te_test_spin (50);

  assert_paired (&seed_rec);
  assert_paired (&leech_rec);
  g_assert_cmpuint (seed_rec.n_errors, ==, 0);

  te_engine_stop (leecher);
  recorder_clear (&seed_rec);
  recorder_clear (&leech_rec);
  te_test_rm_rf (dir);
}

/* A data file deleted under a seeding torrent: the error that pauses it
 * reaches the engine's listeners with the very event the torrent emitted. */
static void
test_error (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-signals-error");
  g_autofree char *seed_dir = g_build_filename (dir, "seed", NULL);
  g_autofree char *down_dir = g_build_filename (dir, "down", NULL);
  g_autofree char *path = g_build_filename (seed_dir, "data.bin", NULL);
  g_autoptr(TeMetainfo) meta = te_test_make_payload (seed_dir, "data.bin", 40 * PIECE, 7);
  g_autoptr(TeEngine) seeder = te_test_new_engine (3, 0);
  g_autoptr(TeEngine) leecher = te_test_new_engine (3, 0);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = NULL;
  g_autoptr(GError) error = NULL;
  Recorder rec;
  TeTorrent *seed, *leech;
  gboolean found = FALSE;

  recorder_init (&rec, seeder);
  seed = te_engine_add_torrent (seeder, meta, seed_dir, &error);
  g_assert_no_error (error);
  te_test_wait_state (seed, TE_TORRENT_STATE_SEEDING);

  g_assert_cmpint (g_unlink (path), ==, 0);
  /* A peer comes: the seed looks at its files while serving. */
  te_engine_set_limits (leecher, 64 * 1024, 0);
  leech = te_engine_add_torrent (leecher, meta, down_dir, &error);
  g_assert_no_error (error);
  addr = g_inet_socket_address_new (lo, te_engine_get_port (seeder));
  te_torrent_add_peer (leech, G_INET_SOCKET_ADDRESS (addr));
  te_test_wait_state (seed, TE_TORRENT_STATE_ERROR);

  g_assert_cmpuint (rec.n_errors, >=, 1);
  g_assert_true (logged (&rec, "E state seeding error"));
  for (guint i = 0; i < rec.log->len; i++)
    found |= g_str_has_prefix (g_ptr_array_index (rec.log, i), "E error file_missing pause ");
  g_assert_true (found);
  assert_paired (&rec);

  te_engine_stop (leecher);
  te_engine_stop (seeder);
  recorder_clear (&rec);
  te_test_rm_rf (dir);
}

/* Removing a torrent stops it (that state change still counts), then the
 * engine says nothing more about it, even when the torrent itself speaks. */
static void
test_removed (void)
{
  g_autofree char *dir = te_test_make_tmpdir ("te-engine-signals-removed");
  g_autoptr(TeMetainfo) meta = te_test_make_payload (dir, "data.bin", 8 * PIECE, 11);
  g_autoptr(TeEngine) engine = te_test_new_engine (0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeTorrent) torrent = NULL;
  Recorder rec;

  recorder_init (&rec, engine);
  torrent = te_engine_add_torrent (engine, meta, dir, &error);
  g_assert_no_error (error);
  g_object_ref (torrent);
  te_test_wait_state (torrent, TE_TORRENT_STATE_SEEDING);

  te_engine_remove (engine, torrent, FALSE);
  g_assert_true (rec.removed);
  g_assert_cmpstr (g_ptr_array_index (rec.log, rec.log->len - 1), ==, "E state seeding paused");
  assert_paired (&rec);

  /* Started again through a reference kept: the torrent changes state and
   * says so; the engine it left stays silent. */
  te_torrent_start (torrent);
  g_assert_cmpint (te_torrent_get_state (torrent), !=, TE_TORRENT_STATE_PAUSED);
  te_torrent_pause (torrent);
  te_test_spin (200);
  g_assert_cmpuint (rec.torrent_after_removal, >=, 2);
  g_assert_cmpuint (rec.engine_after_removal, ==, 0);
  g_assert_cmpuint (rec.strays, ==, 0);

  te_engine_stop (engine);
  recorder_clear (&rec);
  te_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/engine-signals/download", test_download);
  g_test_add_func ("/te/engine-signals/error", test_error);
  g_test_add_func ("/te/engine-signals/removed", test_removed);
  return g_test_run ();
}
