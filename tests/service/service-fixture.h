/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "te-service.h"
#include "te-test-utils.h"

G_BEGIN_DECLS

#define SVC_USER     "admin"
#define SVC_PASSWORD "correct horse battery staple"

/* An in-process engine with the service on a free loopback port. */
typedef struct {
  char        *dir;
  TeEngine    *engine;
  TeService   *service;
  SoupSession *session;
  char        *token;
  char        *base;
} SvcFixture;

void        svc_fixture_setup    (SvcFixture   *f,
                                  gconstpointer data);
void        svc_fixture_teardown (SvcFixture   *f,
                                  gconstpointer data);

/* A request through libsoup, spinning the main loop until it is answered. */
guint       svc_request          (SvcFixture   *f,
                                  const char   *method,
                                  const char   *path,
                                  const char   *content_type,
                                  GBytes       *body,
                                  const char   *token,
                                  GBytes      **out_body);
JsonNode   *svc_json             (SvcFixture   *f,
                                  const char   *method,
                                  const char   *path,
                                  const char   *json_body,
                                  guint         expected_status);
char       *svc_login            (SvcFixture   *f);
/* Raw bytes on a fresh connection (another thread); returns what came back. */
char       *svc_raw              (SvcFixture   *f,
                                  const char   *request,
                                  gsize         len);
guint       svc_raw_status       (const char   *response);
/* Receives from a non-blocking @socket, spinning the main context, for up
 * to @timeout_ms; -1 on an error or when the time is up. */
gssize      svc_receive_some     (GSocket      *socket,
                                  char         *buf,
                                  gsize         len,
                                  guint         timeout_ms);
/* A multipart/form-data body with @torrent in the part "torrent". */
GBytes     *svc_multipart        (GBytes       *torrent,
                                  const char   *save_path,
                                  char        **content_type);

G_END_DECLS
