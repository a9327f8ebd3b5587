/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "te-bencode.h"
#include "te-metainfo.h"

G_BEGIN_DECLS

struct _TeMetainfo
{
  GObject     parent_instance;

  GBytes     *torrent;      /* whole .torrent, NULL when built from an info dict */
  GBytes     *info;         /* the info dictionary's original bytes */
  char       *name;
  gboolean    multi_file;
  gboolean    has_v1;
  gboolean    has_v2;
  guint8      hash_v1[TE_SHA1_LEN];
  guint8      hash_v2[TE_SHA256_LEN];
  guint32     piece_length;
  guint       n_pieces;
  guint64     total_size;   /* real files only */
  guint64     span;         /* end of the piece space */
  const guint8 *v1_hashes;  /* inside @info */
  gboolean    layers_missing;

  GArray     *files;        /* TeFile */
  GPtrArray  *tiers;        /* GPtrArray of char* */
  GStrv       web_seeds;
  gboolean    private;
  char       *comment;
  char       *created_by;
  char       *source;
  gint64      creation_date;
};

void      _te_file_clear           (gpointer        data);
char     *_te_metainfo_dup_text    (const TeBValue *dict,
                                    const char     *key);
gboolean  _te_metainfo_missing     (const char     *what,
                                    GError        **error);
gboolean  _te_metainfo_parse_info  (TeMetainfo     *self,
                                    const TeBValue *info,
                                    const TeBValue *layers,
                                    GError        **error);

G_END_DECLS
