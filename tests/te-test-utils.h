/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "te-creator.h"
#include "te-engine.h"
#include "te-metainfo.h"
#include "te-torrent.h"

G_BEGIN_DECLS

/* A fresh folder under the test's temporary directory; removed by te_test_rm_rf(). */
char     *te_test_make_tmpdir     (const char  *prefix);
void      te_test_rm_rf           (const char  *path);

/* Writes @size pseudo-random bytes derived from @seed, creating parent folders. */
void      te_test_write_random    (const char  *path,
                                   gsize        size,
                                   guint32      seed);
GBytes   *te_test_read_file       (const char  *path);

/* Path of torrentedge-cli, from $TE_CLI (set by meson). */
const char *te_test_cli_path      (void);

/* Runs @argv with a time limit, capturing output. Returns the exit status
 * (or -1 when the process did not exit normally). */
int       te_test_run             (const char * const *argv,
                                   char       **out_stdout,
                                   char       **out_stderr);

/* TRUE when @program is on PATH; interop tests fail, not skip, when a peer is missing. */
gboolean  te_test_have_program    (const char  *program);

/* Files under @root, relative paths, sorted, for comparing trees. */
GPtrArray *te_test_list_tree      (const char  *root);

/* Runs te_creator_create_async() to completion on a private main context. */
GBytes     *te_test_create_torrent (TeCreator   *creator,
                                    GError     **error);
TeMetainfo *te_test_make_torrent   (const char  *path,
                                    TeTorrentVersion version,
                                    guint32      piece_size);
/* @dir/@name filled with @size pseudo-random bytes from @seed, and a v1
 * torrent of it with 16 KiB pieces. */
TeMetainfo *te_test_make_payload   (const char  *dir,
                                    const char  *name,
                                    gsize        size,
                                    guint32      seed);

/* Like g_assert_finalize_object(), for objects that were the source of a GTask
 * run in a thread: the worker drops its reference just after the callback. */
void        te_test_finalize_object (gpointer   object);

/* Spins the thread-default main context until *@flag is set. */
void        te_test_wait_for       (gboolean    *flag);
/* A loopback TCP port nobody listens on, for a process started next to take. */
guint16     te_test_free_port      (void);
/* Spins the main context until *@count reaches @n; fails after a minute. */
void        te_test_wait_count     (guint       *count,
                                    guint        n);
/* Spins the main context for @ms milliseconds. */
void        te_test_spin           (guint        ms);
/* Spins the main context until @torrent is in @state; fails after 60 s. */
void        te_test_wait_state     (TeTorrent   *torrent,
                                    TeTorrentState state);
/* A started engine on a free port that never stops seeding by itself. */
TeEngine   *te_test_new_engine     (guint        max_downloads,
                                    guint64      upload_limit);

G_END_DECLS
