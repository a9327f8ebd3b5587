/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "te-engine.h"

G_BEGIN_DECLS

#define TE_TYPE_DASHBOARD (te_dashboard_get_type ())
G_DECLARE_FINAL_TYPE (TeDashboard, te_dashboard, TE, DASHBOARD, AdwBin)

GtkWidget *te_dashboard_new        (TeEngine    *engine);
TeEngine  *te_dashboard_get_engine (TeDashboard *self);

G_END_DECLS
