/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-application"

#include "config.h"

#include <glib/gi18n.h>

#include "te-application-private.h"
#include "te-service.h"

/* The remote-control service inside the app, on the same engine and main
 * loop, while the .Remote "enabled" key is on. Any change of its keys
 * restarts it with the new configuration. */

static void
stop_service (TeApplication *self)
{
  if (self->service == NULL)
    return;
  te_service_stop (self->service);
  g_clear_object (&self->service);
}

void
_te_application_remote_update (TeApplication *self)
{
  GSettings *s = self->remote_settings;
  g_autoptr(GError) error = NULL;
  TeServiceConfig config;

  stop_service (self);
  if (self->stopping || self->state == NULL || !g_settings_get_boolean (s, "enabled"))
    return;

  te_service_config_init (&config);
  g_free (config.bind_address);
  config.bind_address = g_settings_get_string (s, "bind-address");
  g_settings_get (s, "port", "q", &config.port);
  config.username = g_settings_get_string (s, "username");
  config.password_hash = g_settings_get_string (s, "password-hash");
  config.secret_path = g_build_filename (g_get_user_data_dir (), "torrentedge", "remote-secret", NULL);
  config.allowed_hosts = g_settings_get_strv (s, "allowed-hosts");
  config.cors_origins = g_settings_get_strv (s, "cors-origins");
  config.tls_certificate = g_settings_get_string (s, "tls-certificate");
  config.tls_key = g_settings_get_string (s, "tls-key");
  if (config.tls_certificate[0] == '\0')
    g_clear_pointer (&config.tls_certificate, g_free);
  if (config.tls_key[0] == '\0')
    g_clear_pointer (&config.tls_key, g_free);

  self->service = te_service_new (self->engine, &config);
  te_service_config_clear (&config);
  if (!te_service_start (self->service, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Cannot start remote control: %s"), error->message);

      g_clear_object (&self->service);
      _te_application_report (self, message);
      return;
    }
  g_message ("Remote control on port %u", te_service_get_port (self->service));
}

static void
remote_changed_cb (GSettings     *settings,
                   const char    *key,
                   TeApplication *self)
{
  _te_application_remote_update (self);
}

void
_te_application_remote_init (TeApplication *self)
{
  g_signal_connect (self->remote_settings, "changed", G_CALLBACK (remote_changed_cb), self);
  _te_application_remote_update (self);
}

void
_te_application_remote_stop (TeApplication *self)
{
  stop_service (self);
}
