/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TeListener TeListener;

/**
 * TeListenerAdmitFunc:
 *
 * Asked before each accept: `FALSE` leaves the next connection waiting in
 * the kernel's queue, and the listener asks again a few milliseconds later.
 */
typedef gboolean (*TeListenerAdmitFunc)  (gpointer  user_data);

/**
 * TeListenerAcceptFunc:
 * @socket: the new connection, non-blocking; the function takes a reference
 *   to keep it, else it is closed on return
 */
typedef void     (*TeListenerAcceptFunc) (GSocket  *socket,
                                          gpointer  user_data);

TeListener *te_listener_new         (const char            *what,
                                     TeListenerAdmitFunc    admit,
                                     TeListenerAcceptFunc   accept,
                                     gpointer               user_data);
void        te_listener_free        (TeListener            *self);
gboolean    te_listener_add_address (TeListener            *self,
                                     GInetSocketAddress    *address,
                                     GError               **error);
gboolean    te_listener_add_any     (TeListener            *self,
                                     guint16                port,
                                     GError               **error);
guint16     te_listener_get_port    (TeListener            *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeListener, te_listener_free)

G_END_DECLS
