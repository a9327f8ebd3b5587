/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "te-engine.h"

G_BEGIN_DECLS

#define TE_TYPE_APPLICATION (te_application_get_type ())
G_DECLARE_FINAL_TYPE (TeApplication, te_application, TE, APPLICATION, AdwApplication)

void           te_application_prepare_process  (void);
TeApplication *te_application_new              (void);
TeEngine      *te_application_get_engine       (TeApplication *self);
GSettings     *te_application_get_settings     (TeApplication *self);
GSettings     *te_application_get_app_settings (TeApplication *self);
gboolean       te_application_is_ready         (TeApplication *self);
void           te_application_quit             (TeApplication *self);
int            te_application_get_exit_status  (TeApplication *self);

G_END_DECLS
