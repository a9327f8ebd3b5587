/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  TE_ERROR_CATEGORY_TRACKER,
  TE_ERROR_CATEGORY_PEER,
  TE_ERROR_CATEGORY_FILESYSTEM,
  TE_ERROR_CATEGORY_PROTOCOL,
  TE_ERROR_CATEGORY_VERIFICATION,
  TE_ERROR_CATEGORY_METADATA,
} TeErrorCategory;

/* What the engine does about an error (REFERENCE.md, "Error categories"). */
typedef enum {
  TE_ERROR_ACTION_RETRY,    /* try again: another tracker, another peer */
  TE_ERROR_ACTION_SKIP,     /* drop the peer, go on */
  TE_ERROR_ACTION_PAUSE,    /* pause the torrent until the user resumes it */
  TE_ERROR_ACTION_ABORT,    /* stop the torrent: it cannot go on */
} TeErrorAction;

/**
 * TeErrorEvent:
 * @category: what went wrong
 * @code: a short stable name, e.g. "no_space", "hash_mismatch"
 * @message: a sentence for people
 * @details: (nullable): more, e.g. the tracker URL, the peer address or the path
 * @recoverable: whether the engine goes on by itself
 * @action: what the engine did
 * @timestamp_ms: Unix time in milliseconds
 */
typedef struct {
  TeErrorCategory  category;
  char            *code;
  char            *message;
  char            *details;
  gboolean         recoverable;
  TeErrorAction    action;
  gint64           timestamp_ms;
} TeErrorEvent;

#define TE_TYPE_ERROR_EVENT (te_error_event_get_type ())
GType         te_error_event_get_type   (void) G_GNUC_CONST;

TeErrorEvent *te_error_event_new        (TeErrorCategory     category,
                                         const char         *code,
                                         const char         *message,
                                         const char         *details);
TeErrorEvent *te_error_event_copy       (const TeErrorEvent *event);
void          te_error_event_free       (TeErrorEvent       *event);
const char   *te_error_category_to_string (TeErrorCategory  category);
const char   *te_error_action_to_string (TeErrorAction      action);
const char   *te_error_code_from_gerror (const GError       *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TeErrorEvent, te_error_event_free)

G_END_DECLS
