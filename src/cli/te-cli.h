/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <glib/gi18n.h>

G_BEGIN_DECLS

int  te_cli_info    (int argc, char **argv);
int  te_cli_create  (int argc, char **argv);
int  te_cli_verify  (int argc, char **argv);
int  te_cli_download (int argc, char **argv);
int  te_cli_seed     (int argc, char **argv);
int  te_cli_daemon   (int argc, char **argv);

/* One-line error on stderr; returns the exit status for bad input. */
int  te_cli_fail    (const char *format,
                     ...) G_GNUC_PRINTF (1, 2);
gboolean te_cli_parse_options (GOptionContext *context,
                               int            *argc,
                               char         ***argv);
char *te_cli_format_size (guint64 bytes);
gboolean te_cli_write_atomic (const char *path,
                              GBytes     *bytes,
                              GError    **error);

/* A progress line: redrawn in place on a terminal, one line a second otherwise. */
typedef struct _TeCliProgress TeCliProgress;

TeCliProgress *te_cli_progress_new    (const char    *label);
void           te_cli_progress_update (TeCliProgress *progress,
                                       guint64        done,
                                       guint64        total);
void           te_cli_progress_finish (TeCliProgress *progress);

G_END_DECLS
