/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "te-torrent.h"

G_BEGIN_DECLS

char       *te_format_size     (guint64         bytes);
char       *te_format_rate     (guint64         bytes_per_second);
char       *te_format_eta      (gint64          seconds);
char       *te_format_ratio    (double          ratio);
char       *te_format_time     (gint64          unix_seconds);
const char *te_format_state    (TeTorrentState  state);
const char *te_format_priority (TePriority      priority);
char       *te_format_hex      (const guint8   *bytes,
                                gsize           len);

G_END_DECLS
