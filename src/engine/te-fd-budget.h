/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * TeFdBudget:
 * @limit: the process's descriptor limit (the soft `RLIMIT_NOFILE`)
 * @other: kept for everything else: standard streams, main-loop wakeups,
 *   listening sockets, tracker connections, state files, the watch folder
 * @api: remote-API connections
 * @files: open data files
 * @peers: peer connections
 *
 * How the process's descriptors are shared. The shares add up to @limit
 * unless it is under 26; then they overlap, and whoever comes second waits.
 */
typedef struct {
  guint limit;
  guint other;
  guint api;
  guint files;
  guint peers;
} TeFdBudget;

guint    te_fd_budget_raise_limit   (void);
void     te_fd_budget_get           (TeFdBudget *budget);
guint    te_fd_budget_get_api       (void);
guint    te_fd_budget_get_files     (void);
guint    te_fd_budget_get_peers     (void);

/* Tests: read the limit again after changing it. */
void     _te_fd_budget_reload       (void);

G_END_DECLS
