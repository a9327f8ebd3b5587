/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-path"

#include "config.h"

#include <string.h>

#include "te-path.h"

/* Names from a torrent are hostile until checked: every component that reaches the
 * disk passed through te_path_sanitize_component(), so a joined path always stays
 * below the save folder, and no name shows one thing while being another. */

G_DEFINE_QUARK (te-path-error-quark, te_path_error)

static const char * const reserved[] = {
  "CON", "PRN", "AUX", "NUL",
  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
  "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

gboolean
te_path_is_reserved (const char *component)
{
  gsize stem = strcspn (component, ".");

  /* Trailing spaces are dropped by Windows too: "CON .txt" is CON. */
  while (stem > 0 && component[stem - 1] == ' ')
    stem--;
  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (strlen (reserved[i]) == stem && g_ascii_strncasecmp (component, reserved[i], stem) == 0)
      return TRUE;
  return FALSE;
}

/* Invalid UTF-8 bytes become %XX, which keeps names distinct and readable. */
static char *
escape_invalid_utf8 (const char *s,
                     gsize       len)
{
  GString *out = g_string_sized_new (len + 8);
  const char *p = s, *end = s + len;

  while (p < end)
    {
      const char *valid_end;

      if (g_utf8_validate (p, end - p, &valid_end))
        {
          g_string_append_len (out, p, end - p);
          break;
        }
      g_string_append_len (out, p, valid_end - p);
      g_string_append_printf (out, "%%%02X", (guint8) *valid_end);
      p = valid_end + 1;
    }
  return g_string_free (out, FALSE);
}

/* Bidirectional overrides and zero-width characters: "evil\u202Etxt.exe" shows
 * as "evilexe.txt". libtorrent drops them too. */
static gboolean
is_invisible (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E)     /* LRE, RLE, PDF, LRO, RLO */
         || (c >= 0x2066 && c <= 0x2069)  /* LRI, RLI, FSI, PDI */
         || c == 0x200E || c == 0x200F    /* LRM, RLM */
         || c == 0x061C                   /* ALM */
         || (c >= 0x200B && c <= 0x200D)  /* ZWSP, ZWNJ, ZWJ */
         || c == 0x2060                   /* WJ */
         || c == 0xFEFF;                  /* ZWNBSP, BOM */
}

/**
 * te_path_strip_invisible:
 * @text: valid UTF-8, changed in place
 *
 * Removes bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E,
 * U+200F, U+061C) and zero-width characters (U+200B–U+200D, U+2060, U+FEFF)
 * from a name shown to the user or created on disk.
 *
 * Returns: @text
 */
char *
te_path_strip_invisible (char *text)
{
  char *out = text;

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p;)
    {
      const char *next = g_utf8_next_char (p);

      /* All of them take two or three bytes. */
      if ((guint8) *p < 0x80 || !is_invisible (g_utf8_get_char (p)))
        {
          memmove (out, p, next - p);
          out += next - p;
        }
      p = next;
    }
  *out = '\0';
  return text;
}

static gboolean
check_segment (const char *seg,
               gsize       len,
               const char *whole,
               GError    **error)
{
  if (len == 0)
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_EMPTY,
                   "Path \"%s\" has an empty component", whole);
      return FALSE;
    }
  if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_TRAVERSAL,
                   "Path \"%s\" contains \"%.*s\", which would leave the download folder",
                   whole, (int) len, seg);
      return FALSE;
    }
  return TRUE;
}

/**
 * te_path_sanitize_component:
 * @name: one path component as the torrent gives it
 * @len: its length
 * @utf8_name: (nullable): the `.utf-8` variant, preferred when it is valid
 * @utf8_len: its length
 * @error: a #TE_PATH_ERROR
 *
 * Returns: (transfer full): a component that is safe to create under the save folder
 */
char *
te_path_sanitize_component (const guint8  *name,
                            gsize          len,
                            const guint8  *utf8_name,
                            gsize          utf8_len,
                            GError       **error)
{
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;
  const char *p;

  if (utf8_name != NULL && memchr (utf8_name, 0, utf8_len) == NULL
      && g_utf8_validate ((const char *) utf8_name, utf8_len, NULL))
    {
      name = utf8_name;
      len = utf8_len;
    }

  shown = escape_invalid_utf8 ((const char *) name, strnlen ((const char *) name, len));
  if (memchr (name, 0, len) != NULL)
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_NUL,
                   "Path component \"%s\" contains a NUL byte", shown);
      return NULL;
    }
  text = te_path_strip_invisible (escape_invalid_utf8 ((const char *) name, len));

  if (text[0] == '/' || text[0] == '\\'
      || (g_ascii_isalpha (text[0]) && text[1] == ':'))
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_ABSOLUTE,
                   "Path \"%s\" is absolute", text);
      return NULL;
    }

  /* A separator inside one component: check each segment as if it were a path, then
   * keep it as one name with the separators replaced. */
  p = text;
  for (;;)
    {
      gsize seg = strcspn (p, "/\\");

      if (!check_segment (p, seg, text, error))
        return NULL;
      if (p[seg] == 0)
        break;
      p += seg + 1;
    }
  g_strdelimit (text, "/\\", '_');

  if (strlen (text) > TE_PATH_MAX_COMPONENT)
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_TOO_LONG,
                   "Path component of %" G_GSIZE_FORMAT " bytes is longer than the %d "
                   "filesystems allow", strlen (text), TE_PATH_MAX_COMPONENT);
      return NULL;
    }
  if (te_path_is_reserved (text))
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_RESERVED,
                   "Path component \"%s\" is a reserved device name", text);
      return NULL;
    }
  return g_steal_pointer (&text);
}

struct _TePathSet {
  GHashTable *files;
  GHashTable *dirs;
};

TePathSet *
te_path_set_new (void)
{
  TePathSet *set = g_new0 (TePathSet, 1);

  set->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  set->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return set;
}

void
te_path_set_free (TePathSet *set)
{
  if (set == NULL)
    return;
  g_hash_table_unref (set->files);
  g_hash_table_unref (set->dirs);
  g_free (set);
}

/**
 * te_path_set_add:
 * @set: the paths seen so far
 * @path: a relative path of sanitized components joined by '/'
 * @error: %TE_PATH_ERROR_DUPLICATE when it collides with a file or folder seen before
 */
gboolean
te_path_set_add (TePathSet  *set,
                 const char *path,
                 GError    **error)
{
  const char *slash;

  if (strlen (path) > TE_PATH_MAX_LENGTH)
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_TOO_LONG,
                   "Path of %" G_GSIZE_FORMAT " bytes is longer than the %d allowed",
                   strlen (path), TE_PATH_MAX_LENGTH);
      return FALSE;
    }
  if (g_hash_table_contains (set->files, path) || g_hash_table_contains (set->dirs, path))
    {
      g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_DUPLICATE,
                   "Two entries of the torrent map to \"%s\"", path);
      return FALSE;
    }
  for (slash = strchr (path, '/'); slash != NULL; slash = strchr (slash + 1, '/'))
    {
      g_autofree char *dir = g_strndup (path, slash - path);

      if (g_hash_table_contains (set->files, dir))
        {
          g_set_error (error, TE_PATH_ERROR, TE_PATH_ERROR_DUPLICATE,
                       "\"%s\" is both a file and the folder of \"%s\"", dir, path);
          return FALSE;
        }
      g_hash_table_add (set->dirs, g_steal_pointer (&dir));
    }
  g_hash_table_add (set->files, g_strdup (path));
  return TRUE;
}
