/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-application.h"
#include "te-instance-lock.h"
#include "te-service.h"
#include "te-state-manager.h"

G_BEGIN_DECLS

struct _TeApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;        /* the engine's keys */
  GSettings      *app_settings;    /* .App: notifications, suspend, add dialog */
  GSettings      *remote_settings; /* .Remote */
  TeEngine       *engine;
  TeStateManager *state;
  TeService      *service;         /* remote control, while enabled */
  char           *state_dir;
  TeInstanceLock *lock;            /* one process per state folder */
  char           *locked_out;      /* why not, when another process has it */
  int             exit_status;
  GPtrArray      *pending_files;   /* GFile opened before the engine was ready */
  guint           inhibit_cookie;
  guint           n_downloading;
  guint           stop_timeout_id;
  guint           sigterm_id;
  guint           sigint_id;
  guint           ready : 1;
  guint           stopping : 1;
  guint           stopped : 1;
};

gboolean _te_application_engine_lock (TeApplication *self);
void  _te_application_engine_init     (TeApplication *self);
void  _te_application_engine_start    (TeApplication *self);
void  _te_application_engine_stop     (TeApplication *self);
void  _te_application_report          (TeApplication *self,
                                       const char    *message);
void  _te_application_update_inhibit  (TeApplication *self);
void  _te_application_remote_init     (TeApplication *self);
void  _te_application_remote_update   (TeApplication *self);
void  _te_application_remote_stop     (TeApplication *self);

G_END_DECLS
