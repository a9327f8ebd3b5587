/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-auth"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>

#include "te-auth.h"

/* Passwords: salted PBKDF2-HMAC-SHA256, stored as
 * "pbkdf2-sha256$ITERATIONS$SALT$HASH" (standard base64). Tokens: JWT HS256. */

#define PBKDF2_PREFIX     "pbkdf2-sha256"
#define PBKDF2_ITERATIONS 120000
#define PBKDF2_MAX_ITERATIONS 10000000
#define SALT_LEN          16
#define HASH_LEN          32
#define SECRET_LEN        32
#define MAX_TOKEN_LEN     4096

G_DEFINE_QUARK (te-auth-error-quark, te_auth_error)

/**
 * te_auth_equal:
 *
 * Compares two secrets in time that depends on their lengths only.
 *
 * Returns: whether they are the same bytes
 */
gboolean
te_auth_equal (const void *a,
               gsize       a_len,
               const void *b,
               gsize       b_len)
{
  const guint8 *x = a, *y = b;
  guint8 diff = a_len != b_len;
  gsize n = MIN (a_len, b_len);

  for (gsize i = 0; i < n; i++)
    diff |= x[i] ^ y[i];
  return diff == 0;
}

static gboolean
pbkdf2 (const char   *password,
        const guint8 *salt,
        gsize         salt_len,
        guint         iterations,
        guint8        out[HASH_LEN])
{
  gnutls_datum_t key = { (unsigned char *) password, strlen (password) };
  gnutls_datum_t s = { (unsigned char *) salt, salt_len };

  return gnutls_pbkdf2 (GNUTLS_MAC_SHA256, &key, &s, iterations, out, HASH_LEN) == 0;
}

/**
 * te_auth_hash_password:
 * @password: the password in clear
 *
 * Hashes @password with a fresh random salt. It takes tens of milliseconds
 * on purpose: call it from a worker thread when a main loop is running.
 *
 * Returns: (transfer full): the hash to store
 */
char *
te_auth_hash_password (const char *password)
{
  guint8 salt[SALT_LEN];
  guint8 hash[HASH_LEN];
  g_autofree char *salt64 = NULL;
  g_autofree char *hash64 = NULL;

  g_return_val_if_fail (password != NULL, NULL);

  if (gnutls_rnd (GNUTLS_RND_NONCE, salt, sizeof salt) != 0
      || !pbkdf2 (password, salt, sizeof salt, PBKDF2_ITERATIONS, hash))
    g_error ("The system cannot hash passwords");
  salt64 = g_base64_encode (salt, sizeof salt);
  hash64 = g_base64_encode (hash, sizeof hash);
  return g_strdup_printf (PBKDF2_PREFIX "$%u$%s$%s", PBKDF2_ITERATIONS, salt64, hash64);
}

/**
 * te_auth_verify_password:
 * @password: what the client sent
 * @hash: a hash from te_auth_hash_password()
 *
 * Returns: whether @password matches; `FALSE` for a malformed @hash
 */
gboolean
te_auth_verify_password (const char *password,
                         const char *hash)
{
  g_auto(GStrv) parts = NULL;
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *expected = NULL;
  guint8 got[HASH_LEN];
  gsize salt_len = 0, expected_len = 0;
  guint64 iterations;
  char *end;

  if (password == NULL || hash == NULL)
    return FALSE;
  parts = g_strsplit (hash, "$", 5);
  if (g_strv_length (parts) != 4 || strcmp (parts[0], PBKDF2_PREFIX) != 0)
    return FALSE;
  iterations = g_ascii_strtoull (parts[1], &end, 10);
  if (*end != '\0' || iterations == 0 || iterations > PBKDF2_MAX_ITERATIONS)
    return FALSE;
  salt = g_base64_decode (parts[2], &salt_len);
  expected = g_base64_decode (parts[3], &expected_len);
  if (salt_len == 0 || expected_len != HASH_LEN)
    return FALSE;
  if (!pbkdf2 (password, salt, salt_len, (guint) iterations, got))
    return FALSE;
  return te_auth_equal (got, sizeof got, expected, expected_len);
}

/**
 * te_auth_load_secret:
 * @path: (nullable): the secret's file; created with mode 0600 when missing
 *
 * Loads the per-installation token secret. Without a path the secret lives
 * in memory only: tokens stop working when the process exits.
 *
 * Returns: (transfer full): 32 bytes, or `NULL` with @error set
 */
GBytes *
te_auth_load_secret (const char  *path,
                     GError     **error)
{
  guint8 secret[SECRET_LEN];
  g_autofree char *data = NULL;
  gsize len = 0;
  int fd;

  if (path != NULL && g_file_get_contents (path, &data, &len, NULL))
    {
      if (len != SECRET_LEN)
        {
          g_set_error (error, TE_AUTH_ERROR, TE_AUTH_ERROR_SECRET,
                       "The token secret “%s” has %" G_GSIZE_FORMAT " bytes, not %d", path, len,
                       SECRET_LEN);
          return NULL;
        }
      return g_bytes_new (data, len);
    }
  if (gnutls_rnd (GNUTLS_RND_KEY, secret, sizeof secret) != 0)
    {
      g_set_error_literal (error, TE_AUTH_ERROR, TE_AUTH_ERROR_SECRET, "No random bytes for the token secret");
      return NULL;
    }
  if (path == NULL)
    return g_bytes_new (secret, sizeof secret);

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, secret, sizeof secret) != sizeof secret || fsync (fd) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        {
          close (fd);
          g_unlink (path);
        }
      g_set_error (error, TE_AUTH_ERROR, TE_AUTH_ERROR_SECRET, "Cannot create the token secret “%s”: %s",
                   path, g_strerror (saved));
      return NULL;
    }
  close (fd);
  return g_bytes_new (secret, sizeof secret);
}

/* JWT pieces */

static char *
base64url_encode (const guint8 *data,
                  gsize         len)
{
  char *s = g_base64_encode (data, len);
  gsize j = 0;

  for (gsize i = 0; s[i]; i++)
    {
      if (s[i] == '=')
        break;
      s[j++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    }
  s[j] = '\0';
  return s;
}

static guint8 *
base64url_decode (const char *s,
                  gsize       s_len,
                  gsize      *out_len)
{
  g_autoptr(GString) b = g_string_sized_new (s_len + 4);

  for (gsize i = 0; i < s_len; i++)
    {
      char c = s[i];

      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (!g_ascii_isalnum (c))
        return NULL;
      g_string_append_c (b, c);
    }
  if (b->len % 4 == 1)
    return NULL;
  while (b->len % 4)
    g_string_append_c (b, '=');
  return g_base64_decode (b->str, out_len);
}

static char *
sign (GBytes     *secret,
      const char *data,
      gsize       len)
{
  guint8 mac[32];
  gsize key_len;
  const guint8 *key = g_bytes_get_data (secret, &key_len);

  if (gnutls_hmac_fast (GNUTLS_MAC_SHA256, key, key_len, data, len, mac) != 0)
    g_error ("The system cannot compute HMAC-SHA256");
  return base64url_encode (mac, sizeof mac);
}

/**
 * te_auth_token_new:
 * @secret: from te_auth_load_secret()
 * @subject: the user name
 * @now_s: Unix time
 * @lifetime_s: seconds until it expires
 *
 * Returns: (transfer full): a signed JWT (HS256)
 */
char *
te_auth_token_new (GBytes     *secret,
                   const char *subject,
                   gint64      now_s,
                   gint64      lifetime_s)
{
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *h64 = NULL;
  g_autofree char *p64 = NULL;
  g_autofree char *signing = NULL;
  g_autofree char *sig = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sub");
  json_builder_add_string_value (b, subject ? subject : "");
  json_builder_set_member_name (b, "iat");
  json_builder_add_int_value (b, now_s);
  json_builder_set_member_name (b, "exp");
  json_builder_add_int_value (b, now_s + lifetime_s);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  payload = json_generator_to_data (gen, NULL);

  h64 = base64url_encode ((const guint8 *) header, strlen (header));
  p64 = base64url_encode ((const guint8 *) payload, strlen (payload));
  signing = g_strconcat (h64, ".", p64, NULL);
  sig = sign (secret, signing, strlen (signing));
  return g_strconcat (signing, ".", sig, NULL);
}

static JsonObject *
decode_part (const char *s,
             gsize       len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree guint8 *raw = NULL;
  gsize raw_len = 0;
  JsonNode *root;

  raw = base64url_decode (s, len, &raw_len);
  if (raw == NULL || raw_len == 0
      || !json_parser_load_from_data (parser, (const char *) raw, raw_len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static gboolean
int_member (JsonObject *o,
            const char *name,
            gint64     *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

/**
 * te_auth_token_verify:
 * @secret: the installation's secret
 * @token: what the client sent
 * @now_s: Unix time
 *
 * Checks the signature first (in constant time), then the header and expiry.
 *
 * Returns: (transfer full): the token's subject, or `NULL` with @error set
 */
char *
te_auth_token_verify (GBytes      *secret,
                      const char  *token,
                      gint64       now_s,
                      GError     **error)
{
  const char *dot1, *dot2;
  g_autofree char *expected = NULL;
  g_autoptr(JsonObject) header = NULL;
  g_autoptr(JsonObject) payload = NULL;
  const char *sig;
  gint64 exp;
  JsonNode *sub;

  if (token == NULL || strlen (token) > MAX_TOKEN_LEN
      || (dot1 = strchr (token, '.')) == NULL || (dot2 = strchr (dot1 + 1, '.')) == NULL
      || strchr (dot2 + 1, '.') != NULL)
    goto invalid;
  sig = dot2 + 1;
  expected = sign (secret, token, dot2 - token);
  if (!te_auth_equal (expected, strlen (expected), sig, strlen (sig)))
    goto invalid;
  header = decode_part (token, dot1 - token);
  payload = decode_part (dot1 + 1, dot2 - dot1 - 1);
  if (header == NULL || payload == NULL
      || g_strcmp0 (json_object_get_string_member_with_default (header, "alg", ""), "HS256") != 0)
    goto invalid;
  sub = json_object_get_member (payload, "sub");
  if (!int_member (payload, "exp", &exp) || sub == NULL || json_node_get_value_type (sub) != G_TYPE_STRING)
    goto invalid;
  if (exp <= now_s)
    {
      g_set_error_literal (error, TE_AUTH_ERROR, TE_AUTH_ERROR_EXPIRED, "The token has expired");
      return NULL;
    }
  return g_strdup (json_node_get_string (sub));

invalid:
  g_set_error_literal (error, TE_AUTH_ERROR, TE_AUTH_ERROR_INVALID_TOKEN, "The token is not valid");
  return NULL;
}

/* Login rate limit: a token bucket per client address. */

#define LIMITER_MAX_ADDRESSES 4096

typedef struct {
  double tokens;
  gint64 updated_us;
} Bucket;

struct _TeAuthLimiter {
  GHashTable *buckets;
  guint       burst;
  guint       refill_s;
};

/**
 * te_auth_limiter_new:
 * @burst: attempts allowed at once
 * @refill_s: seconds to earn one more attempt
 */
TeAuthLimiter *
te_auth_limiter_new (guint burst,
                     guint refill_s)
{
  TeAuthLimiter *l = g_new0 (TeAuthLimiter, 1);

  l->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  l->burst = MAX (burst, 1);
  l->refill_s = MAX (refill_s, 1);
  return l;
}

void
te_auth_limiter_free (TeAuthLimiter *limiter)
{
  g_hash_table_unref (limiter->buckets);
  g_free (limiter);
}

static void
refill (TeAuthLimiter *l,
        Bucket        *b,
        gint64         now_us)
{
  double earned = (double) (now_us - b->updated_us) / (G_USEC_PER_SEC * (double) l->refill_s);

  b->tokens = MIN ((double) l->burst, b->tokens + MAX (earned, 0));
  b->updated_us = now_us;
}

/* Keeps the table bounded: forget addresses whose bucket is full again. */
static void
prune (TeAuthLimiter *l,
       gint64         now_us)
{
  GHashTableIter iter;
  Bucket *b;

  g_hash_table_iter_init (&iter, l->buckets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &b))
    {
      refill (l, b, now_us);
      if (b->tokens >= l->burst)
        g_hash_table_iter_remove (&iter);
    }
  /* Still full: a flood from many addresses; start over rather than grow. */
  if (g_hash_table_size (l->buckets) >= LIMITER_MAX_ADDRESSES)
    g_hash_table_remove_all (l->buckets);
}

/**
 * te_auth_limiter_take:
 * @retry_after_s: (out): when refused, seconds until the next attempt is allowed
 *
 * Returns: whether @address may try now
 */
gboolean
te_auth_limiter_take (TeAuthLimiter *limiter,
                      const char    *address,
                      gint64         now_us,
                      guint         *retry_after_s)
{
  Bucket *b = g_hash_table_lookup (limiter->buckets, address);

  if (b == NULL)
    {
      if (g_hash_table_size (limiter->buckets) >= LIMITER_MAX_ADDRESSES)
        prune (limiter, now_us);
      b = g_new0 (Bucket, 1);
      b->tokens = limiter->burst;
      b->updated_us = now_us;
      g_hash_table_insert (limiter->buckets, g_strdup (address), b);
    }
  refill (limiter, b, now_us);
  if (b->tokens >= 1)
    {
      b->tokens -= 1;
      return TRUE;
    }
  if (retry_after_s)
    *retry_after_s = (guint) MAX (1, (1 - b->tokens) * limiter->refill_s + 0.999);
  return FALSE;
}

/* A successful login forgets the address's failures. */
void
te_auth_limiter_reset (TeAuthLimiter *limiter,
                       const char    *address)
{
  g_hash_table_remove (limiter->buckets, address);
}
