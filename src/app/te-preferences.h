/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "te-application.h"

G_BEGIN_DECLS

#define TE_TYPE_PREFERENCES (te_preferences_get_type ())
G_DECLARE_FINAL_TYPE (TePreferences, te_preferences, TE, PREFERENCES, AdwPreferencesWindow)

GtkWidget *te_preferences_new (TeApplication *app);

G_END_DECLS
