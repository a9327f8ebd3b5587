/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "te-error-event.h"
#include "te-storage.h"

G_DEFINE_BOXED_TYPE (TeErrorEvent, te_error_event, te_error_event_copy, te_error_event_free)

/* Each category has one policy; keeping it here keeps every emitter honest. */
static const struct {
  const char    *name;
  gboolean       recoverable;
  TeErrorAction  action;
} categories[] = {
  [TE_ERROR_CATEGORY_TRACKER]      = { "tracker", TRUE, TE_ERROR_ACTION_RETRY },
  [TE_ERROR_CATEGORY_PEER]         = { "peer", TRUE, TE_ERROR_ACTION_SKIP },
  [TE_ERROR_CATEGORY_FILESYSTEM]   = { "filesystem", TRUE, TE_ERROR_ACTION_PAUSE },
  [TE_ERROR_CATEGORY_PROTOCOL]     = { "protocol", TRUE, TE_ERROR_ACTION_SKIP },
  [TE_ERROR_CATEGORY_VERIFICATION] = { "verification", TRUE, TE_ERROR_ACTION_RETRY },
  [TE_ERROR_CATEGORY_METADATA]     = { "metadata", FALSE, TE_ERROR_ACTION_ABORT },
};

/**
 * te_error_event_new:
 *
 * Returns: (transfer full): an event stamped now, with the category's policy
 */
TeErrorEvent *
te_error_event_new (TeErrorCategory  category,
                    const char      *code,
                    const char      *message,
                    const char      *details)
{
  TeErrorEvent *e = g_new0 (TeErrorEvent, 1);

  g_return_val_if_fail (category <= TE_ERROR_CATEGORY_METADATA, NULL);
  e->category = category;
  e->code = g_strdup (code);
  e->message = g_strdup (message);
  e->details = g_strdup (details);
  e->recoverable = categories[category].recoverable;
  e->action = categories[category].action;
  e->timestamp_ms = g_get_real_time () / 1000;
  return e;
}

TeErrorEvent *
te_error_event_copy (const TeErrorEvent *event)
{
  TeErrorEvent *e = g_memdup2 (event, sizeof *event);

  e->code = g_strdup (event->code);
  e->message = g_strdup (event->message);
  e->details = g_strdup (event->details);
  return e;
}

void
te_error_event_free (TeErrorEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->code);
  g_free (event->message);
  g_free (event->details);
  g_free (event);
}

const char *
te_error_category_to_string (TeErrorCategory category)
{
  return category <= TE_ERROR_CATEGORY_METADATA ? categories[category].name : "unknown";
}

const char *
te_error_action_to_string (TeErrorAction action)
{
  switch (action)
    {
    case TE_ERROR_ACTION_RETRY: return "retry";
    case TE_ERROR_ACTION_SKIP: return "skip";
    case TE_ERROR_ACTION_PAUSE: return "pause";
    case TE_ERROR_ACTION_ABORT: return "abort";
    default: return "unknown";
    }
}

/**
 * te_error_code_from_gerror:
 *
 * The filesystem code for a storage or I/O error.
 */
const char *
te_error_code_from_gerror (const GError *error)
{
  if (error->domain == TE_STORAGE_ERROR)
    switch (error->code)
      {
      case TE_STORAGE_ERROR_NO_SPACE: return "no_space";
      case TE_STORAGE_ERROR_PERMISSION: return "permission_denied";
      case TE_STORAGE_ERROR_MISSING: return "file_missing";
      case TE_STORAGE_ERROR_REPLACED: return "file_replaced";
      case TE_STORAGE_ERROR_NO_DESCRIPTORS: return "too_many_open_files";
      default: return "io_error";
      }
  if (error->domain == G_IO_ERROR)
    switch (error->code)
      {
      case G_IO_ERROR_NO_SPACE: return "no_space";
      case G_IO_ERROR_PERMISSION_DENIED: return "permission_denied";
      case G_IO_ERROR_NOT_FOUND: return "file_missing";
      case G_IO_ERROR_TOO_MANY_OPEN_FILES: return "too_many_open_files";
      default: return "io_error";
      }
  return "io_error";
}
