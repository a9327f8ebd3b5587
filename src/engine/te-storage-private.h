/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sys/types.h>

#include "te-storage.h"

G_BEGIN_DECLS

/* Shared by te-storage.c (mapping pieces onto files) and te-storage-files.c
 * (the descriptors). */

typedef struct {
  TeStorage *storage;     /* not owned */
  guint      index;
  int        fd;
  gboolean   writable;
  gboolean   retired;     /* out of the cache: closed when its last user lets go */
  guint      refs;
  dev_t      dev;
  ino_t      ino;
  gint64     checked_us;  /* when the path last led to this file */
  gint64     used_us;
  GList      link;        /* in the cache's LRU list, most recent first */
} TeOpenFile;

struct _TeStorage
{
  GObject         parent_instance;

  TeMetainfo     *metainfo;
  char           *save_path;
  TeStorageFlags  flags;

  GMutex          write_lock;  /* one writer at a time: see do_io() */
  GHashTable     *open_files;  /* file index → TeOpenFile*, under the cache's lock */
};


gboolean    _te_storage_set_errno_error (GError    **error,
                                         int         err,
                                         const char *path,
                                         const char *what);
TeOpenFile *_te_storage_acquire         (TeStorage  *self,
                                         guint       index,
                                         gboolean    writable,
                                         GError    **error);
void        _te_storage_release         (TeOpenFile *of);

G_END_DECLS
