/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Request bodies of the REST API: parsed and checked here, with no engine, so
 * the routes and the fuzz target run the same code. */

#define TE_API_ERROR (te_api_error_quark ())
GQuark te_api_error_quark (void);

typedef enum {
  TE_API_ERROR_BAD_REQUEST,             /* 400: malformed, wrong types, unknown fields */
  TE_API_ERROR_UNAUTHORIZED,            /* 401 */
  TE_API_ERROR_FORBIDDEN,               /* 403 */
  TE_API_ERROR_NOT_FOUND,               /* 404 */
  TE_API_ERROR_METHOD_NOT_ALLOWED,      /* 405 */
  TE_API_ERROR_CONFLICT,                /* 409 */
  TE_API_ERROR_TOO_LARGE,               /* 413 */
  TE_API_ERROR_UNSUPPORTED_MEDIA_TYPE,  /* 415 */
  TE_API_ERROR_INVALID,                 /* 422: well-formed, values not acceptable */
  TE_API_ERROR_UPGRADE_REQUIRED,        /* 426 */
  TE_API_ERROR_TOO_MANY_REQUESTS,       /* 429 */
} TeApiError;

/* Bodies nest at most this deep; checked before the JSON parser recurses. */
#define TE_API_MAX_DEPTH 16
/* Longest string member a request may have. */
#define TE_API_MAX_STRING 4096
/* The largest body any route takes (a .torrent upload); others take less. */
#define TE_API_MAX_BODY (16 * 1024 * 1024)
#define TE_API_MAX_SMALL_BODY (1024 * 1024)

guint       te_api_error_status     (const GError  *error);
const char *te_api_error_name       (const GError  *error);

JsonObject *te_api_parse_object     (const char    *content_type,
                                     const char    *data,
                                     gsize          len,
                                     GError       **error);

/* Bodies */

typedef struct {
  char       *magnet;
  GBytes     *metainfo;
  char       *url;
  char       *save_path;
  gboolean    paused;
  int         priority;
  GArray     *wanted;          /* gboolean per file, or NULL */
  gboolean    sequential;
  GPtrArray  *peers;           /* "host:port" strings to dial at once */
} TeApiAddRequest;

void      te_api_add_request_clear  (TeApiAddRequest  *req);
gboolean  te_api_parse_add          (JsonObject       *object,
                                     TeApiAddRequest  *req,
                                     GError          **error);
gboolean  te_api_parse_add_multipart (const char      *content_type,
                                     GBytes           *body,
                                     TeApiAddRequest  *req,
                                     GError          **error);

typedef struct {
  gboolean has_queue_position;  guint    queue_position;
  gboolean has_priority;        int      priority;
  gboolean has_download_limit;  guint64  download_limit;
  gboolean has_upload_limit;    guint64  upload_limit;
  gboolean has_seed_ratio;      double   seed_ratio;       /* negative: the engine's */
  gboolean has_seed_time;       gint64   seed_time_ms;     /* negative: the engine's */
  gboolean has_sequential;      gboolean sequential;
  gboolean has_super_seeding;   gboolean super_seeding;
} TeApiTorrentPatch;

gboolean  te_api_parse_torrent_patch (JsonObject       *object,
                                      TeApiTorrentPatch *patch,
                                      GError          **error);

typedef struct {
  guint    index;
  gboolean has_wanted;
  gboolean wanted;
  gboolean has_priority;
  int      priority;             /* a TePriority other than skip */
} TeApiFileChange;

GArray   *te_api_parse_files_patch  (JsonObject       *object,
                                     GError          **error);

gboolean  te_api_parse_login        (JsonObject       *object,
                                     char            **username,
                                     char            **password,
                                     GError          **error);
gboolean  te_api_parse_tracker_add  (JsonObject       *object,
                                     char            **url,
                                     int              *tier,
                                     GError          **error);
gboolean  te_api_parse_tracker_replace (JsonObject    *object,
                                     char            **url,
                                     char            **new_url,
                                     GError          **error);
gboolean  te_api_parse_peer_add     (JsonObject       *object,
                                     char            **address,
                                     guint16          *port,
                                     GError          **error);
gboolean  te_api_parse_move         (JsonObject       *object,
                                     char            **save_path,
                                     GError          **error);
gboolean  te_api_parse_alt_speed    (JsonObject       *object,
                                     gboolean         *enabled,
                                     GError          **error);

/* Small helpers the routes share */

typedef enum {
  TE_API_STRING,
  TE_API_BOOL,
  TE_API_INT,
  TE_API_NUMBER,
  TE_API_ARRAY,
  TE_API_OBJECT,
} TeApiType;

typedef struct {
  const char *name;
  TeApiType   type;
  gboolean    nullable;
  gboolean    required;
} TeApiField;

#define TE_API_FIELD(name, type)          { name, type, FALSE, FALSE }
#define TE_API_FIELD_REQUIRED(name, type) { name, type, FALSE, TRUE }
#define TE_API_FIELD_NULLABLE(name, type) { name, type, TRUE, FALSE }
#define TE_API_FIELD_END                  { NULL, 0, FALSE, FALSE }

gboolean  te_api_node_has_type      (JsonNode         *node,
                                     TeApiType         type);
gboolean  te_api_check_fields       (JsonObject       *object,
                                     const TeApiField *fields,
                                     GError          **error);
gboolean  te_api_get_uint           (JsonObject       *object,
                                     const char       *name,
                                     guint64           max,
                                     guint64          *out,
                                     GError          **error);
void      te_api_append_string      (GString          *out,
                                     const char       *s);
void      te_api_append_hex         (GString          *out,
                                     const guint8     *bytes,
                                     gsize             len);
void      te_api_append_time        (GString          *out,
                                     gint64            t);

G_END_DECLS
