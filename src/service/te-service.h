/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "te-engine.h"

G_BEGIN_DECLS

/**
 * TeServiceConfig:
 * @bind_address: the address to listen on ("127.0.0.1" by default)
 * @port: the port; 0 for any free port
 * @username: the one user allowed in
 * @password_hash: from te_auth_hash_password(); never a password in clear
 * @secret_path: (nullable): the file holding the token secret, created when
 *   missing; `NULL` keeps a secret in memory (tokens die with the process)
 * @allowed_hosts: (nullable): Host names accepted besides localhost, the
 *   loopback literals and the bound address
 * @cors_origins: (nullable): origins allowed by CORS; none by default
 * @tls_certificate: (nullable): PEM certificate; with @tls_key, serve HTTPS
 * @tls_key: (nullable): PEM private key
 */
typedef struct {
  char     *bind_address;
  guint16   port;
  char     *username;
  char     *password_hash;
  char     *secret_path;
  char    **allowed_hosts;
  char    **cors_origins;
  char     *tls_certificate;
  char     *tls_key;
} TeServiceConfig;

#define TE_SERVICE_ERROR (te_service_error_quark ())
GQuark te_service_error_quark (void);

typedef enum {
  TE_SERVICE_ERROR_CONFIG,   /* missing credentials, bad address, bad TLS files */
  TE_SERVICE_ERROR_LISTEN,
} TeServiceError;

#define TE_TYPE_SERVICE (te_service_get_type ())
G_DECLARE_FINAL_TYPE (TeService, te_service, TE, SERVICE, GObject)

void       te_service_config_init   (TeServiceConfig       *config);
void       te_service_config_clear  (TeServiceConfig       *config);
void       te_service_config_copy   (TeServiceConfig       *dest,
                                     const TeServiceConfig *src);

TeService *te_service_new           (TeEngine              *engine,
                                     const TeServiceConfig *config);
gboolean   te_service_start         (TeService             *self,
                                     GError               **error);
void       te_service_stop          (TeService             *self);
guint16    te_service_get_port      (TeService             *self);
TeEngine  *te_service_get_engine    (TeService             *self);

G_END_DECLS
