/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-magnet"

#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-magnet.h"
#include "te-path.h"

/* Magnet links (BEP 9), with urn:btmh (BEP 9/52) and select-only (BEP 53). */

G_DEFINE_QUARK (te-magnet-error-quark, te_magnet_error)

#define MAGNET_PREFIX     "magnet:?"
#define MAGNET_PREFIX_LEN 8
#define MAX_VALUES        200
/* Values quoted in error messages are cut to this many bytes. */
#define MAX_SHOWN         64

typedef enum {
  PARAM_XT,
  PARAM_DN,
  PARAM_TR,
  PARAM_WS,
  PARAM_PE,
  PARAM_SO,
  N_PARAMS
} Param;

static const char * const param_names[N_PARAMS] = {
  "xt", "dn", "tr", "ws", "x.pe", "so",
};

static const char * const tracker_schemes[] = { "http", "https", "udp", "ws", "wss", NULL };
static const char * const web_seed_schemes[] = { "http", "https", NULL };

TeMagnet *
te_magnet_new (void)
{
  TeMagnet *magnet = g_new0 (TeMagnet, 1);

  magnet->trackers = g_ptr_array_new_with_free_func (g_free);
  magnet->web_seeds = g_ptr_array_new_with_free_func (g_free);
  magnet->peers = g_ptr_array_new_with_free_func (g_free);
  magnet->select_only = g_array_new (FALSE, FALSE, sizeof (TeMagnetRange));
  return magnet;
}

void
te_magnet_free (TeMagnet *magnet)
{
  if (magnet == NULL)
    return;
  g_free (magnet->display_name);
  g_ptr_array_unref (magnet->trackers);
  g_ptr_array_unref (magnet->web_seeds);
  g_ptr_array_unref (magnet->peers);
  g_array_unref (magnet->select_only);
  g_free (magnet);
}

/* A printable, bounded copy of untrusted text for error messages. */
static char *
shown (const char *value)
{
  gsize len = strlen (value);
  g_autofree char *cut = g_strndup (value, MIN (len, MAX_SHOWN));
  g_autofree char *escaped = g_strescape (cut, NULL);

  return len > MAX_SHOWN ? g_strconcat (escaped, "…", NULL) : g_steal_pointer (&escaped);
}

static gboolean fail (GError        **error,
                      TeMagnetError   code,
                      Param           param,
                      const char     *format,
                      ...) G_GNUC_PRINTF (4, 5);

/* Sets @error to "Parameter "name": <message>" and returns %FALSE. */
static gboolean
fail (GError        **error,
      TeMagnetError   code,
      Param           param,
      const char     *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, TE_MAGNET_ERROR, code, "Parameter \"%s\": %s", param_names[param], message);
  return FALSE;
}

/* Maps "tr", "tr.1", "x.pe.2"… to a known parameter, or -1. */
static int
lookup_param (const char *key,
              gsize       len)
{
  gsize digits = 0;

  while (digits < len && g_ascii_isdigit (key[len - 1 - digits]))
    digits++;
  if (digits > 0 && digits < len && key[len - 1 - digits] == '.')
    len -= digits + 1;

  for (int i = 0; i < N_PARAMS; i++)
    if (strlen (param_names[i]) == len && g_ascii_strncasecmp (key, param_names[i], len) == 0)
      return i;
  return -1;
}

static char *
percent_decode (Param        param,
                const char  *raw,
                gsize        len,
                GError     **error)
{
  g_autoptr(GString) out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      guchar c = raw[i];

      if (c == '%')
        {
          int hi = i + 2 < len ? g_ascii_xdigit_value (raw[i + 1]) : -1;
          int lo = i + 2 < len ? g_ascii_xdigit_value (raw[i + 2]) : -1;

          if (hi < 0 || lo < 0)
            {
              g_autofree char *escape = g_strndup (raw + i, MIN (len - i, 3));
              g_autofree char *s = shown (escape);

              fail (error, TE_MAGNET_ERROR_BAD_ENCODING, param, "bad percent-escape \"%s\"", s);
              return NULL;
            }
          c = (guchar) (hi << 4 | lo);
          i += 2;
          if (c == 0)
            {
              fail (error, TE_MAGNET_ERROR_BAD_ENCODING, param, "value contains an encoded NUL byte");
              return NULL;
            }
        }
      else if (c < 0x20 || c == 0x7f)
        {
          fail (error, TE_MAGNET_ERROR_BAD_ENCODING, param,
                "value contains a raw control character 0x%02x", c);
          return NULL;
        }
      else if (c == '+' && param == PARAM_DN)
        c = ' ';
      g_string_append_c (out, (char) c);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
base32_decode (const char *s,
               gsize       len,
               guint8     *out,
               gsize       out_len)
{
  guint32 acc = 0;
  guint bits = 0;
  gsize n = 0;

  if (len * 5 != out_len * 8)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = g_ascii_toupper (s[i]);
      guint v;

      if (c >= 'A' && c <= 'Z')
        v = c - 'A';
      else if (c >= '2' && c <= '7')
        v = c - '2' + 26;
      else
        return FALSE;
      acc = (acc << 5) | v;
      bits += 5;
      if (bits >= 8)
        {
          bits -= 8;
          out[n++] = (guint8) (acc >> bits);
          acc &= (1u << bits) - 1;
        }
    }
  return n == out_len;
}

static gboolean
parse_xt (TeMagnet    *magnet,
          const char  *value,
          GError     **error)
{
  gboolean v1 = g_ascii_strncasecmp (value, "urn:btih:", 9) == 0;
  gboolean v2 = g_ascii_strncasecmp (value, "urn:btmh:", 9) == 0;
  const char *h;
  g_autofree char *s = NULL;
  guint8 hash[TE_SHA256_LEN];
  gsize len;

  /* Other namespaces (urn:sha1:, urn:ed2k:…) are not ours; ignore them. */
  if (!v1 && !v2)
    return TRUE;
  h = value + 9;
  len = strlen (h);
  s = shown (h);

  if (v1)
    {
      if (!(len == 40 && te_hex_decode (h, len, hash, TE_SHA1_LEN)) &&
          !(len == 32 && base32_decode (h, len, hash, TE_SHA1_LEN)))
        return fail (error, TE_MAGNET_ERROR_BAD_HASH, PARAM_XT,
                     "info-hash \"%s\" is neither 40 hex nor 32 base32 characters", s);
      if (magnet->has_v1 && memcmp (magnet->info_hash, hash, TE_SHA1_LEN) != 0)
        return fail (error, TE_MAGNET_ERROR_BAD_HASH, PARAM_XT, "two different urn:btih info-hashes");
      memcpy (magnet->info_hash, hash, TE_SHA1_LEN);
      magnet->has_v1 = TRUE;
      return TRUE;
    }

  /* A multihash: 0x12 = sha2-256, 0x20 = 32 bytes of digest. */
  if (len != 4 + 2 * TE_SHA256_LEN || strncmp (h, "1220", 4) != 0 ||
      !te_hex_decode (h + 4, len - 4, hash, TE_SHA256_LEN))
    return fail (error, TE_MAGNET_ERROR_BAD_HASH, PARAM_XT,
                 "multihash \"%s\" is not \"1220\" and 64 hex characters (sha2-256)", s);
  if (magnet->has_v2 && memcmp (magnet->info_hash_v2, hash, TE_SHA256_LEN) != 0)
    return fail (error, TE_MAGNET_ERROR_BAD_HASH, PARAM_XT, "two different urn:btmh info-hashes");
  memcpy (magnet->info_hash_v2, hash, TE_SHA256_LEN);
  magnet->has_v2 = TRUE;
  return TRUE;
}

static void
add_unique (GPtrArray *array,
            char      *value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), value))
      {
        g_free (value);
        return;
      }
  g_ptr_array_add (array, value);
}

static gboolean
parse_url (Param               param,
           const char         *value,
           const char         *quoted,
           const char * const *schemes,
           GPtrArray          *into,
           GError            **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *list = NULL;
  const char *scheme;
  const char *host;

  for (const char *p = value; *p; p++)
    if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f)
      return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, param,
                   "\"%s\" is not a valid URL (it has spaces, control or non-ASCII characters)", quoted);

  uri = g_uri_parse (value, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, param, "\"%s\" is not a valid URL", quoted);

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (!g_strv_contains (schemes, scheme))
    {
      list = g_strjoinv (", ", (char **) schemes);
      return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, param,
                   "URL \"%s\" has scheme \"%s\", expected one of %s", quoted, scheme, list);
    }
  if (host == NULL || *host == '\0')
    return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, param, "URL \"%s\" has no host", quoted);
  if (g_str_equal (scheme, "udp") && g_uri_get_port (uri) <= 0)
    return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, param, "UDP tracker URL \"%s\" has no port", quoted);

  add_unique (into, g_strdup (value));
  return TRUE;
}

static gboolean
is_hostname (const char *host,
             gsize       len)
{
  if (len == 0 || len > 253 || host[0] == '-' || host[0] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (host[i]) && host[i] != '-' && host[i] != '.')
      return FALSE;
  return TRUE;
}

/* Accepts "host:port", "1.2.3.4:port" and "[v6]:port". */
static gboolean
parse_peer (TeMagnet    *magnet,
            const char  *value,
            const char  *quoted,
            GError     **error)
{
  const char *colon = strrchr (value, ':');
  gsize host_len = colon != NULL ? (gsize) (colon - value) : 0;
  guint port = 0;
  gboolean ok = colon != NULL && colon[1] != '\0' && strlen (colon + 1) <= 5;

  for (const char *p = colon != NULL ? colon + 1 : ""; ok && *p; p++)
    {
      ok = g_ascii_isdigit (*p);
      port = port * 10 + (guint) (*p - '0');
    }
  ok = ok && port >= 1 && port <= 65535;

  if (ok && host_len >= 2 && value[0] == '[' && value[host_len - 1] == ']')
    {
      g_autofree char *inner = g_strndup (value + 1, host_len - 2);

      ok = strchr (inner, ':') != NULL && g_hostname_is_ip_address (inner);
    }
  else
    ok = ok && is_hostname (value, host_len);

  if (!ok)
    return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, PARAM_PE,
                 "\"%s\" is not host:port, a.b.c.d:port or [IPv6]:port with a port from 1 to 65535",
                 quoted);

  add_unique (magnet->peers, g_strdup_printf ("%.*s:%u", (int) host_len, value, port));
  return TRUE;
}

static gboolean
parse_index (const char **p,
             guint       *out)
{
  guint64 v = 0;
  const char *start = *p;

  for (; g_ascii_isdigit (**p); (*p)++)
    {
      v = v * 10 + (guint) (**p - '0');
      if (v > G_MAXUINT)
        return FALSE;
    }
  *out = (guint) v;
  return *p != start;
}

/* BEP 53: "0,2,4,6-8"; ranges are inclusive. */
static gboolean
parse_so (TeMagnet    *magnet,
          const char  *value,
          const char  *quoted,
          GError     **error)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (TeMagnetRange));
  const char *p = value;

  for (;;)
    {
      TeMagnetRange r;
      gboolean ok = parse_index (&p, &r.first);

      r.last = r.first;
      if (ok && *p == '-')
        {
          p++;
          ok = parse_index (&p, &r.last) && r.first <= r.last;
        }
      if (!ok || (*p != ',' && *p != '\0'))
        return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, PARAM_SO,
                     "\"%s\" is not a valid index list (comma-separated indices or ascending "
                     "ranges like 6-8)", quoted);
      g_array_append_val (ranges, r);
      if (*p++ == '\0')
        break;
    }

  g_array_append_vals (magnet->select_only, ranges->data, ranges->len);
  return TRUE;
}

static gboolean
parse_segment (TeMagnet    *magnet,
               guint        counts[N_PARAMS],
               const char  *seg,
               gsize        len,
               GError     **error)
{
  const char *eq = memchr (seg, '=', len);
  gsize key_len = eq != NULL ? (gsize) (eq - seg) : len;
  gsize raw_len = eq != NULL ? len - key_len - 1 : 0;
  int param = lookup_param (seg, key_len);
  g_autofree char *value = NULL;
  g_autofree char *quoted = NULL;

  if (param < 0)
    return TRUE;
  if (++counts[param] > MAX_VALUES)
    return fail (error, TE_MAGNET_ERROR_TOO_LONG, param, "more than %u values", MAX_VALUES);
  if (raw_len == 0)
    return fail (error, TE_MAGNET_ERROR_BAD_PARAMETER, param, "empty value");

  value = percent_decode (param, eq + 1, raw_len, error);
  if (value == NULL)
    return FALSE;
  quoted = shown (value);

  switch ((Param) param)
    {
    case PARAM_XT:
      return parse_xt (magnet, value, error);
    case PARAM_DN:
      if (!g_utf8_validate (value, -1, NULL))
        return fail (error, TE_MAGNET_ERROR_BAD_ENCODING, param, "display name is not valid UTF-8");
      /* Shown as the torrent's name until the metadata arrives. */
      if (magnet->display_name == NULL && *te_path_strip_invisible (value) != '\0')
        magnet->display_name = g_steal_pointer (&value);
      return TRUE;
    case PARAM_TR:
      return parse_url (param, value, quoted, tracker_schemes, magnet->trackers, error);
    case PARAM_WS:
      return parse_url (param, value, quoted, web_seed_schemes, magnet->web_seeds, error);
    case PARAM_PE:
      return parse_peer (magnet, value, quoted, error);
    case PARAM_SO:
      return parse_so (magnet, value, quoted, error);
    case N_PARAMS:
    default:
      break;
    }
  g_assert_not_reached ();
  return FALSE;
}

/**
 * te_magnet_parse:
 * @uri: a magnet URI
 * @error: return location for a #TeMagnetError
 *
 * Parses a BitTorrent magnet link. Surrounding whitespace is ignored.
 *
 * Returns: (transfer full): the magnet, or `NULL` with @error set
 */
TeMagnet *
te_magnet_parse (const char  *uri,
                 GError     **error)
{
  g_autoptr(TeMagnet) magnet = NULL;
  guint counts[N_PARAMS] = { 0 };
  gsize start = 0;
  gsize end;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  end = strlen (uri);
  if (end > TE_MAGNET_MAX_LENGTH)
    {
      g_set_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_TOO_LONG,
                   "Magnet URI is %" G_GSIZE_FORMAT " bytes long, over the limit of %u bytes",
                   end, TE_MAGNET_MAX_LENGTH);
      return NULL;
    }
  while (start < end && g_ascii_isspace (uri[start]))
    start++;
  while (end > start && g_ascii_isspace (uri[end - 1]))
    end--;

  if (end - start < MAGNET_PREFIX_LEN ||
      g_ascii_strncasecmp (uri + start, MAGNET_PREFIX, MAGNET_PREFIX_LEN) != 0)
    {
      g_set_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_NOT_MAGNET,
                   "Not a magnet URI: it does not start with \"" MAGNET_PREFIX "\"");
      return NULL;
    }

  magnet = te_magnet_new ();
  for (gsize pos = start + MAGNET_PREFIX_LEN; pos < end;)
    {
      const char *amp = memchr (uri + pos, '&', end - pos);
      gsize seg_len = amp != NULL ? (gsize) (amp - (uri + pos)) : end - pos;

      if (seg_len > 0 && !parse_segment (magnet, counts, uri + pos, seg_len, error))
        return NULL;
      pos += seg_len + 1;
    }

  if (!magnet->has_v1 && !magnet->has_v2)
    {
      g_set_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_MISSING_HASH,
                   "Parameter \"xt\": no urn:btih or urn:btmh info-hash");
      return NULL;
    }
  return g_steal_pointer (&magnet);
}

/* Keeps RFC 3986 query characters except the ones meaningful to us: & = + % # [ ]. */
static void
append_param (GString    *s,
              const char *name,
              const char *value)
{
  if (s->len > MAGNET_PREFIX_LEN)
    g_string_append_c (s, '&');
  g_string_append (s, name);
  g_string_append_c (s, '=');
  for (const guchar *p = (const guchar *) value; *p; p++)
    {
      if (g_ascii_isalnum (*p) || strchr ("-._~!$'()*,;:@/?", *p) != NULL)
        g_string_append_c (s, (char) *p);
      else
        g_string_append_printf (s, "%%%02X", *p);
    }
}

/**
 * te_magnet_to_string:
 * @magnet: a #TeMagnet
 *
 * Builds the canonical magnet URI: `urn:btih` in lowercase hex first, then
 * `urn:btmh`, `dn`, `tr`, `ws`, `x.pe` and `so`.
 *
 * Returns: (transfer full): the URI
 */
char *
te_magnet_to_string (const TeMagnet *magnet)
{
  GString *s;

  g_return_val_if_fail (magnet != NULL, NULL);

  s = g_string_new (MAGNET_PREFIX);
  if (magnet->has_v1)
    {
      g_autofree char *hex = te_hex_encode (magnet->info_hash, sizeof magnet->info_hash);
      g_autofree char *urn = g_strconcat ("urn:btih:", hex, NULL);

      append_param (s, "xt", urn);
    }
  if (magnet->has_v2)
    {
      g_autofree char *hex = te_hex_encode (magnet->info_hash_v2, sizeof magnet->info_hash_v2);
      g_autofree char *urn = g_strconcat ("urn:btmh:1220", hex, NULL);

      append_param (s, "xt", urn);
    }
  if (magnet->display_name != NULL)
    append_param (s, "dn", magnet->display_name);
  for (guint i = 0; i < magnet->trackers->len; i++)
    append_param (s, "tr", g_ptr_array_index (magnet->trackers, i));
  for (guint i = 0; i < magnet->web_seeds->len; i++)
    append_param (s, "ws", g_ptr_array_index (magnet->web_seeds, i));
  for (guint i = 0; i < magnet->peers->len; i++)
    append_param (s, "x.pe", g_ptr_array_index (magnet->peers, i));
  if (magnet->select_only->len > 0)
    {
      g_autoptr(GString) so = g_string_new (NULL);

      for (guint i = 0; i < magnet->select_only->len; i++)
        {
          const TeMagnetRange *r = &g_array_index (magnet->select_only, TeMagnetRange, i);

          if (i > 0)
            g_string_append_c (so, ',');
          g_string_append_printf (so, "%u", r->first);
          if (r->last != r->first)
            g_string_append_printf (so, "-%u", r->last);
        }
      append_param (s, "so", so->str);
    }
  return g_string_free (s, FALSE);
}
