/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TE_INSTANCE_LOCK_ERROR (te_instance_lock_error_quark ())
GQuark te_instance_lock_error_quark (void);

typedef enum {
  TE_INSTANCE_LOCK_ERROR_HELD,    /* another process holds the lock */
  TE_INSTANCE_LOCK_ERROR_FAILED,  /* the lock file cannot be opened or locked */
} TeInstanceLockError;

typedef struct _TeInstanceLock TeInstanceLock;

TeInstanceLock *te_instance_lock_acquire   (const char      *state_dir,
                                            GError         **error);
void            te_instance_lock_release   (TeInstanceLock  *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeInstanceLock, te_instance_lock_release)

G_END_DECLS
