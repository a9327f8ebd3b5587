/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-remote-path"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "te-api.h"
#include "te-remote-path.h"

/* Where the remote API may point the engine: every folder or file a client
 * names (a save path, a new download folder, a .torrent on the server) must
 * lie in one of the allowed roots once “..” and symbolic links are resolved,
 * and never in a hidden folder of the home folder (~/.ssh, ~/.config, …).
 * One login must not be enough to write ~/.ssh/authorized_keys or a file in
 * ~/.config/autostart. Local callers (the app's UI, the CLI) do not come
 * through here. */

/* Resolves the symbolic links of the longest part of @path that exists and
 * appends the rest, which does not exist and so holds no link. @path is
 * absolute and canonical (no “.”, “..” or “//”). NULL with errno set when
 * an existing part cannot be resolved (a loop, no permission). */
static char *
resolve (const char *path)
{
  g_autofree char *head = g_strdup (path);
  g_autoptr(GPtrArray) tail = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      char *real = realpath (head, NULL);
      char *parent;

      if (real != NULL)
        {
          GString *out = g_string_new (real);

          free (real);
          for (guint i = tail->len; i > 0; i--)
            {
              if (out->len == 0 || out->str[out->len - 1] != '/')
                g_string_append_c (out, '/');
              g_string_append (out, g_ptr_array_index (tail, i - 1));
            }
          return g_string_free (out, FALSE);
        }
      if (errno != ENOENT && errno != ENOTDIR)
        return NULL;
      if (strcmp (head, "/") == 0)
        return NULL;
      g_ptr_array_add (tail, g_path_get_basename (head));
      parent = g_path_get_dirname (head);
      g_free (head);
      head = parent;
    }
}

/* @path is @root or lies below it. */
static gboolean
is_within (const char *path,
           const char *root)
{
  gsize n = strlen (root);

  if (n > 1 && root[n - 1] == '/')
    n--;
  if (strncmp (path, root, n) != 0)
    return FALSE;
  return path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/');
}

/* The hidden folder of the home folder that @path lies in (“.ssh”), or NULL. */
static char *
hidden_home_folder (const char *path,
                    const char *home)
{
  const char *rest;
  gsize n = strlen (home);

  if (n <= 1 || strncmp (path, home, n) != 0 || path[n] != '/')
    return NULL;
  rest = path + n + 1;
  if (rest[0] != '.')
    return NULL;
  return g_strndup (rest, strcspn (rest, "/"));
}

static char *
canonical_root (const char *root)
{
  g_autofree char *canonical = g_canonicalize_filename (root, "/");
  char *real = resolve (canonical);

  return real != NULL ? real : g_steal_pointer (&canonical);
}

/**
 * te_remote_path_check:
 * @settings: the engine's settings, for the allowed roots
 * @name: what the client called the path (“savePath”, “download-dir”), for
 *   the message
 * @path: the path as the client gave it
 * @error: return location for a #GError
 *
 * Checks a path that came through the remote API against
 * @settings->allowed_paths (or, when that is empty, the download folder).
 *
 * Returns: (transfer full) (nullable): the path with “..” and symbolic links
 *   resolved, which the caller must use instead of @path; `NULL` with
 *   %TE_API_ERROR_INVALID when @path is not absolute, or
 *   %TE_API_ERROR_FORBIDDEN with a message that says why
 */
char *
te_remote_path_check (const TeEngineSettings  *settings,
                      const char              *name,
                      const char              *path,
                      GError                 **error)
{
  const char *default_roots[] = { settings->download_path, NULL };
  const char * const *roots = (const char * const *) settings->allowed_paths;
  g_autofree char *canonical = NULL;
  g_autofree char *resolved = NULL;
  g_autofree char *home = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *hidden = NULL;
  g_autoptr(GString) listed = g_string_new (NULL);

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (name != NULL && path != NULL, NULL);

  shown = g_utf8_make_valid (path, -1);
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, TE_API_ERROR, TE_API_ERROR_INVALID, "“%s” must be an absolute path", name);
      return NULL;
    }
  canonical = g_canonicalize_filename (path, "/");
  resolved = resolve (canonical);
  if (resolved == NULL)
    {
      int err = errno;

      g_set_error (error, TE_API_ERROR, TE_API_ERROR_FORBIDDEN, "“%s” %s cannot be resolved: %s",
                   name, shown, g_strerror (err));
      return NULL;
    }

  home = canonical_root (g_get_home_dir ());
  hidden = hidden_home_folder (resolved, home);
  if (hidden == NULL)
    hidden = hidden_home_folder (canonical, home);

  if (roots == NULL || roots[0] == NULL)
    roots = default_roots;
  for (gsize i = 0; roots[i] != NULL; i++)
    {
      g_autofree char *root = canonical_root (roots[i]);
      g_autofree char *root_hidden = NULL;

      g_string_append_printf (listed, "%s%s", i ? ", " : "", root);
      if (!is_within (resolved, root))
        continue;
      /* A root named inside a hidden folder was chosen on purpose. */
      root_hidden = hidden_home_folder (root, home);
      if (hidden != NULL && g_strcmp0 (hidden, root_hidden) != 0)
        break;
      return g_steal_pointer (&resolved);
    }

  if (hidden != NULL)
    g_set_error (error, TE_API_ERROR, TE_API_ERROR_FORBIDDEN,
                 "“%s” %s is refused: it lies in the hidden folder ~/%s, which the remote API may not write to",
                 name, shown, hidden);
  else
    {
      g_autofree char *shown_roots = g_utf8_make_valid (listed->str, -1);

      g_set_error (error, TE_API_ERROR, TE_API_ERROR_FORBIDDEN,
                   "“%s” %s is refused: it is outside the folders the remote API may use (%s); "
                   "the server's allowed-paths setting names them",
                   name, shown, shown_roots);
    }
  return NULL;
}
