/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TE_PATH_ERROR (te_path_error_quark ())
GQuark te_path_error_quark (void);

/**
 * TePathError:
 * @TE_PATH_ERROR_EMPTY: a path component is empty
 * @TE_PATH_ERROR_NUL: a component contains a NUL byte
 * @TE_PATH_ERROR_TRAVERSAL: a component is `.` or `..`
 * @TE_PATH_ERROR_ABSOLUTE: the path is absolute or names a drive
 * @TE_PATH_ERROR_TOO_LONG: a component or the whole path is longer than filesystems allow
 * @TE_PATH_ERROR_RESERVED: a component is a name Windows reserves (CON, NUL, COM1…)
 * @TE_PATH_ERROR_DUPLICATE: two files map to the same path, or a file to a folder
 */
typedef enum {
  TE_PATH_ERROR_EMPTY,
  TE_PATH_ERROR_NUL,
  TE_PATH_ERROR_TRAVERSAL,
  TE_PATH_ERROR_ABSOLUTE,
  TE_PATH_ERROR_TOO_LONG,
  TE_PATH_ERROR_RESERVED,
  TE_PATH_ERROR_DUPLICATE,
} TePathError;

#define TE_PATH_MAX_COMPONENT 255
#define TE_PATH_MAX_LENGTH    3072

char     *te_path_sanitize_component (const guint8  *name,
                                      gsize          len,
                                      const guint8  *utf8_name,
                                      gsize          utf8_len,
                                      GError       **error);
gboolean  te_path_is_reserved        (const char    *component);
char     *te_path_strip_invisible    (char          *text);

typedef struct _TePathSet TePathSet;

TePathSet *te_path_set_new           (void);
void       te_path_set_free          (TePathSet     *set);
gboolean   te_path_set_add           (TePathSet     *set,
                                      const char    *path,
                                      GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TePathSet, te_path_set_free)

G_END_DECLS
