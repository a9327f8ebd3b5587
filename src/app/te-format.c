/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-format"

#include "config.h"

#include <glib/gi18n.h>

#include "te-format.h"

/* How figures read in the app: sizes and rates in SI units like the rest of
 * GNOME, times in the user's locale. */

char *
te_format_size (guint64 bytes)
{
  return g_format_size (bytes);
}

char *
te_format_rate (guint64 bytes_per_second)
{
  g_autofree char *size = NULL;

  if (bytes_per_second == 0)
    return g_strdup ("—");
  size = g_format_size (bytes_per_second);
  /* Translators: a transfer rate, e.g. “1.2 MB/s” */
  return g_strdup_printf (_("%s/s"), size);
}

char *
te_format_eta (gint64 seconds)
{
  if (seconds < 0)
    return g_strdup ("∞");
  if (seconds < 60)
    return g_strdup_printf (g_dngettext (NULL, "%d second", "%d seconds", seconds), (int) seconds);
  if (seconds < 3600)
    return g_strdup_printf (g_dngettext (NULL, "%d minute", "%d minutes", seconds / 60), (int) (seconds / 60));
  if (seconds < 86400)
    /* Translators: hours and minutes, e.g. “3 h 05 min” */
    return g_strdup_printf (_("%d h %02d min"), (int) (seconds / 3600), (int) (seconds % 3600 / 60));
  return g_strdup_printf (g_dngettext (NULL, "%d day", "%d days", seconds / 86400), (int) (seconds / 86400));
}

char *
te_format_ratio (double ratio)
{
  return g_strdup_printf ("%.2f", ratio);
}

char *
te_format_time (gint64 unix_seconds)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (unix_seconds <= 0)
    return g_strdup (_("Never"));
  utc = g_date_time_new_from_unix_utc (unix_seconds);
  if (utc == NULL)
    return g_strdup (_("Never"));
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%x %X");
}

const char *
te_format_state (TeTorrentState state)
{
  switch (state)
    {
    case TE_TORRENT_STATE_PENDING:
      return _("Fetching metadata");
    case TE_TORRENT_STATE_CHECKING:
      return _("Checking");
    case TE_TORRENT_STATE_QUEUED:
      return _("Queued");
    case TE_TORRENT_STATE_DOWNLOADING:
      return _("Downloading");
    case TE_TORRENT_STATE_SEEDING:
      return _("Seeding");
    case TE_TORRENT_STATE_PAUSED:
      return _("Paused");
    case TE_TORRENT_STATE_ERROR:
      return _("Error");
    case TE_TORRENT_STATE_COMPLETE:
      return _("Completed");
    default:
      g_assert_not_reached ();
    }
}

const char *
te_format_priority (TePriority priority)
{
  switch (priority)
    {
    case TE_PRIORITY_SKIP:
      return _("Skip");
    case TE_PRIORITY_LOW:
      return _("Low");
    case TE_PRIORITY_HIGH:
      return _("High");
    case TE_PRIORITY_NORMAL:
    default:
      return _("Normal");
    }
}

char *
te_format_hex (const guint8 *bytes,
               gsize         len)
{
  GString *s = g_string_sized_new (len * 2);

  if (bytes == NULL)
    return g_string_free (s, FALSE);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", bytes[i]);
  return g_string_free (s, FALSE);
}
