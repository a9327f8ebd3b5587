/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The harness of the swarm interop tests: processes of real clients, their
 * cleanup even when a scenario crashes, free ports, opentracker, and the
 * TorrentEdge and libtorrent command lines. */

#define PYTHON             "/usr/bin/python3"
#define TMP_ENV            "TE_SWARM_TMP"
#define KEEP_ENV           "TE_SWARM_KEEP"   /* set it to keep the folders */
#define DOWNLOAD_TIMEOUT_S 90
#define READY_TIMEOUT_S    60
#define STOP_TIMEOUT_S     10
#define SCENARIO_TIMEOUT_S 300
#define LOG_TAIL           3000

typedef struct
{
  const char *path;
  gsize       size;
} PayloadFile;

extern const PayloadFile payload_files[];
#define N_PAYLOAD_FILES 5


typedef struct
{
  char        *name;
  char        *out_path;
  char        *err_path;
  GSubprocess *proc;
  gboolean     exited;
  int          status;
} Proc;

typedef struct
{
  char      *tmp;
  char      *logs;
  GPtrArray *procs;
} Fixture;

void note (const char *format, ...) G_GNUC_PRINTF (1, 2);
const char * tail (const char *text);
Proc * proc_start (Fixture *f, const char *name, const char * const *argv, const char *cwd);
gint64 deadline_after (guint seconds);
int proc_stop (Proc *p);
int proc_wait (Proc *p, guint timeout_s);
char * proc_stderr (Proc *p);
JsonObject * proc_event (Proc *p, const char *event);
gboolean proc_wait_stderr (Proc *p, const char *needle, guint timeout_s);
void fixture_init (Fixture *f);
void fixture_finish (Fixture *f);
char * fixture_path (Fixture *f, const char *name);
void dump_logs (const char *tmp);
void require_program (const char *program);
void require_python (void);
const char * script_path (const char *name);
void run_ok (const char * const *argv);
guint16 free_port (gboolean udp_too);
void write_payload (const char *dir, guint32 seed);
void assert_same_tree (const char *expected, const char *actual);
JsonObject * te_info (const char *torrent);
char * info_hash (const char *torrent);
Proc * te_start (Fixture *f, const char *name, const char *command, const char *source, const char *dir, const char * const *extra);
guint16 te_port (Proc *p);
void te_assert_completes (Proc *p, guint timeout_s);
gint64 te_summary_figure (Proc *p, const char *label);
void lt_create (const char *src, const char *out, const char *kind, guint piece_size, const char *tracker);
Proc * lt_start (Fixture *f, const char *name, const char *command, const char *torrent, const char *dir, const char * const *extra);
guint16 wait_ready_port (Proc *p);
void lt_peer_totals (JsonObject *summary, const char *prefix, gint64 *blocks_from, gint64 *pex_received);
void opentracker_start (Fixture *f, guint16 port, const char *hash);
void wait_for_seeder (guint16 port, const char *hash);
void stop_leftovers (const char *tmp);

G_END_DECLS
