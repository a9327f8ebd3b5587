/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A private desktop for GUI tests: an Xvfb display, a session bus and
 * temporary XDG folders, set in this process's environment (so child
 * processes share them). */
typedef struct {
  char        *tmp;
  GSubprocess *xvfb;
  GSubprocess *bus;
} TeGuiEnv;

void  te_gui_env_start (TeGuiEnv *env);
void  te_gui_env_stop  (TeGuiEnv *env);

G_END_DECLS
