/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "te-settings.h"

G_BEGIN_DECLS

/* The engine's settings as the REST API and settings.json name them. */

JsonObject *te_service_settings_to_json    (const TeEngineSettings *settings);
gboolean    te_service_settings_apply_json (TeEngineSettings       *settings,
                                            JsonObject             *object,
                                            GError                **error);
gboolean    te_service_settings_load_file  (TeEngineSettings       *settings,
                                            const char             *path,
                                            GError                **error);
gboolean    te_service_settings_save_file  (const TeEngineSettings *settings,
                                            const char             *path,
                                            GError                **error);

G_END_DECLS
