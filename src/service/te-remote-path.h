/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "te-settings.h"

G_BEGIN_DECLS

char *te_remote_path_check (const TeEngineSettings  *settings,
                            const char              *name,
                            const char              *path,
                            GError                 **error);

G_END_DECLS
