/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The Host and Origin headers of requests to the remote API, parsed
 * strictly: DNS rebinding and cross-site request forgery defences. */

char     *te_origin_parse_host   (const char         *host,
                                  guint16            *port);
gboolean  te_origin_host_allowed (GHashTable         *allowed_names,
                                  const char         *host);
gboolean  te_origin_allowed      (GHashTable         *allowed_names,
                                  const char * const *cors_origins,
                                  guint16             port,
                                  const char         *origin,
                                  const char         *host);

G_END_DECLS
