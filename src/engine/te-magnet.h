/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TE_MAGNET_ERROR (te_magnet_error_quark ())
GQuark te_magnet_error_quark (void);

typedef enum {
  TE_MAGNET_ERROR_NOT_MAGNET,
  TE_MAGNET_ERROR_BAD_ENCODING,
  TE_MAGNET_ERROR_MISSING_HASH,
  TE_MAGNET_ERROR_BAD_HASH,
  TE_MAGNET_ERROR_BAD_PARAMETER,
  TE_MAGNET_ERROR_TOO_LONG,
} TeMagnetError;

#define TE_MAGNET_MAX_LENGTH (64 * 1024)

typedef struct {
  guint first;
  guint last;
} TeMagnetRange;

typedef struct {
  gboolean   has_v1;
  guint8     info_hash[20];
  gboolean   has_v2;
  guint8     info_hash_v2[32];
  char      *display_name;
  GPtrArray *trackers;
  GPtrArray *web_seeds;
  GPtrArray *peers;
  GArray    *select_only;
} TeMagnet;

TeMagnet *te_magnet_new       (void);
void      te_magnet_free      (TeMagnet       *magnet);
TeMagnet *te_magnet_parse     (const char     *uri,
                               GError        **error);
char     *te_magnet_to_string (const TeMagnet *magnet);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeMagnet, te_magnet_free)

G_END_DECLS
