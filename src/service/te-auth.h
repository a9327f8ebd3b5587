/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TE_AUTH_ERROR (te_auth_error_quark ())
GQuark te_auth_error_quark (void);

typedef enum {
  TE_AUTH_ERROR_INVALID_TOKEN,   /* malformed, bad signature or wrong algorithm */
  TE_AUTH_ERROR_EXPIRED,         /* well signed but past its expiry */
  TE_AUTH_ERROR_SECRET,          /* the secret file cannot be read or created */
} TeAuthError;

/* Seven days, as the remote API promises. */
#define TE_AUTH_TOKEN_LIFETIME_S (7 * 24 * 3600)

char     *te_auth_hash_password    (const char   *password);
gboolean  te_auth_verify_password  (const char   *password,
                                    const char   *hash);
gboolean  te_auth_equal            (const void   *a,
                                    gsize         a_len,
                                    const void   *b,
                                    gsize         b_len);

GBytes   *te_auth_load_secret      (const char   *path,
                                    GError      **error);
char     *te_auth_token_new        (GBytes       *secret,
                                    const char   *subject,
                                    gint64        now_s,
                                    gint64        lifetime_s);
char     *te_auth_token_verify     (GBytes       *secret,
                                    const char   *token,
                                    gint64        now_s,
                                    GError      **error);

/* Login attempts per client address. */
typedef struct _TeAuthLimiter TeAuthLimiter;

TeAuthLimiter *te_auth_limiter_new    (guint           burst,
                                       guint           refill_s);
void           te_auth_limiter_free   (TeAuthLimiter  *limiter);
gboolean       te_auth_limiter_take   (TeAuthLimiter  *limiter,
                                       const char     *address,
                                       gint64          now_us,
                                       guint          *retry_after_s);
void           te_auth_limiter_reset  (TeAuthLimiter  *limiter,
                                       const char     *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeAuthLimiter, te_auth_limiter_free)

G_END_DECLS
