/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* BEP 10 extension messages: the handshake, ut_metadata (BEP 9), ut_pex (BEP 11). */

#define TE_EXT_ERROR (te_ext_error_quark ())
GQuark te_ext_error_quark (void);

typedef enum {
  TE_EXT_ERROR_MALFORMED,
  TE_EXT_ERROR_TOO_LARGE,
} TeExtError;

/* Our ids for the extensions, sent in our handshake's "m". */
#define TE_EXT_HANDSHAKE_ID   0
#define TE_EXT_UT_METADATA_ID 1
#define TE_EXT_UT_PEX_ID      2

#define TE_EXT_MAX_MESSAGE     (1024 * 1024)
#define TE_EXT_METADATA_PIECE  16384
#define TE_EXT_MAX_METADATA    (32 * 1024 * 1024)
#define TE_EXT_MAX_PEX_PEERS   200

typedef struct {
  guint8   ut_metadata;      /* their id, 0 = not supported */
  guint8   ut_pex;
  gint64   metadata_size;    /* -1 = unknown */
  guint16  port;             /* their listening port, 0 = unknown */
  guint32  reqq;             /* 0 = not given */
  char     client[64];
  guint8   yourip[16];
  guint    yourip_len;       /* 4 or 16 when given */
  gboolean upload_only;
} TeExtHandshake;

gboolean  te_ext_parse_handshake   (const guint8        *data,
                                    gsize                len,
                                    TeExtHandshake      *out,
                                    GError             **error);
GBytes   *te_ext_build_handshake   (gboolean             with_pex,
                                    gint64               metadata_size,
                                    guint16              port,
                                    guint32              reqq,
                                    GInetAddress        *yourip,
                                    gboolean             upload_only);

typedef enum {
  TE_METADATA_REQUEST = 0,
  TE_METADATA_DATA    = 1,
  TE_METADATA_REJECT  = 2,
} TeMetadataType;

typedef struct {
  TeMetadataType type;
  guint          piece;
  gint64         total_size;     /* DATA only */
  const guint8  *data;           /* DATA only: points into the message */
  gsize          data_len;
} TeMetadataMsg;

gboolean  te_ext_parse_metadata    (const guint8        *data,
                                    gsize                len,
                                    TeMetadataMsg       *out,
                                    GError             **error);
GBytes   *te_ext_build_metadata    (TeMetadataType       type,
                                    guint                piece,
                                    gint64               total_size,
                                    const guint8        *data,
                                    gsize                len);

/* Both arrays hold GInetSocketAddress; @added_flags may be NULL. */
gboolean  te_ext_parse_pex         (const guint8        *data,
                                    gsize                len,
                                    GPtrArray           *added,
                                    GPtrArray           *dropped,
                                    GError             **error);
GBytes   *te_ext_build_pex         (GPtrArray           *added,
                                    GPtrArray           *dropped);

G_END_DECLS
