/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-origin"

#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "te-origin.h"

/* A Host header is RFC 3986's host [":" port] and nothing more: no userinfo
 * ("127.0.0.1:9091@attacker.example" is not 127.0.0.1), nothing after an IPv6
 * literal, a port of digits in range. Anything else is refused rather than
 * guessed at. An Origin is scheme "://" host [":" port]. */

static gboolean
parse_port (const char *s,
            guint16    *port)
{
  guint value = 0;

  if (*s == '\0' || strlen (s) > 5)
    return FALSE;
  for (const char *p = s; *p; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      value = value * 10 + (guint) (*p - '0');
    }
  if (value == 0 || value > G_MAXUINT16)
    return FALSE;
  *port = (guint16) value;
  return TRUE;
}

static gboolean
is_reg_name (const char *name,
             gsize       len)
{
  if (len == 0 || len > 253)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '-' && name[i] != '.' && name[i] != '_')
      return FALSE;
  return TRUE;
}

/**
 * te_origin_parse_host:
 * @host: (nullable): a Host header, or the authority of an Origin
 * @port: (out) (optional): the port, 0 when it names none
 *
 * Returns: (transfer full) (nullable): the lower-cased name (an IPv6 literal
 *   without its brackets), or `NULL` when @host is malformed
 */
char *
te_origin_parse_host (const char *host,
                      guint16    *port)
{
  g_autofree char *name = NULL;
  const char *rest;
  guint16 p = 0;

  if (port)
    *port = 0;
  if (host == NULL || *host == '\0')
    return NULL;
  if (host[0] == '[')
    {
      const char *end = strchr (host, ']');

      if (end == NULL)
        return NULL;
      name = g_ascii_strdown (host + 1, end - host - 1);
      /* No zone ("%eth0"): GLib would take anything after it. */
      if (strspn (name, "0123456789abcdef:.") != strlen (name) || strchr (name, ':') == NULL
          || !g_hostname_is_ip_address (name))
        return NULL;
      rest = end + 1;
    }
  else
    {
      gsize len = strcspn (host, ":");

      if (!is_reg_name (host, len))
        return NULL;
      name = g_ascii_strdown (host, len);
      rest = host + len;
    }
  if (*rest == ':' && !parse_port (rest + 1, &p))
    return NULL;
  if (*rest != ':' && *rest != '\0')
    return NULL;
  if (port)
    *port = p;
  return g_steal_pointer (&name);
}

static gboolean
name_allowed (GHashTable *allowed_names,
              const char *name)
{
  g_autoptr(GInetAddress) addr = NULL;

  if (g_hash_table_contains (allowed_names, name))
    return TRUE;
  addr = g_inet_address_new_from_string (name);
  return addr && g_inet_address_get_is_loopback (addr);
}

/**
 * te_origin_host_allowed:
 * @allowed_names: lower-case host names and addresses the server answers to
 * @host: (nullable): the request's Host header
 *
 * Loopback addresses are always allowed. The DNS rebinding defence: a page
 * of attacker.example whose name now resolves to 127.0.0.1 still says
 * attacker.example.
 */
gboolean
te_origin_host_allowed (GHashTable *allowed_names,
                        const char *host)
{
  g_autofree char *name = te_origin_parse_host (host, NULL);

  return name != NULL && name_allowed (allowed_names, name);
}

/**
 * te_origin_allowed:
 * @allowed_names: as for te_origin_host_allowed()
 * @cors_origins: (nullable): configured origins, exact; "*" allows all
 * @port: the server's port
 * @origin: the request's Origin header
 * @host: (nullable): its Host header, already allowed
 *
 * Whether a page of @origin may change things: ours (an allowed name on our
 * port, or the very Host the request came to, as behind a proxy) or a
 * configured CORS origin. "null" (a sandboxed page, file://) is not.
 */
gboolean
te_origin_allowed (GHashTable         *allowed_names,
                   const char * const *cors_origins,
                   guint16             port,
                   const char         *origin,
                   const char         *host)
{
  g_autofree char *name = NULL;
  g_autofree char *same = NULL;
  const char *authority;
  guint16 given, default_port;

  if (cors_origins && (g_strv_contains (cors_origins, origin) || g_strv_contains (cors_origins, "*")))
    return TRUE;
  if (g_str_has_prefix (origin, "http://"))
    default_port = 80;
  else if (g_str_has_prefix (origin, "https://"))
    default_port = 443;
  else
    return FALSE;
  authority = strstr (origin, "://") + 3;
  name = te_origin_parse_host (authority, &given);
  if (name == NULL)
    return FALSE;
  if (port != 0 && (given ? given : default_port) == port && name_allowed (allowed_names, name))
    return TRUE;
  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (authority, host) == 0)
    return TRUE;
  /* "http://h" is the same origin as Host "h:80". */
  if (given)
    return FALSE;
  same = g_strdup_printf ("%s:%u", authority, default_port);
  return g_ascii_strcasecmp (same, host) == 0;
}
