/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-creator"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-bencode.h"
#include "te-creator.h"
#include "te-hash.h"
#include "te-metainfo.h"
#include "te-path.h"

G_DEFINE_QUARK (te-creator-error-quark, te_creator_error)

typedef struct {
  char     **components;  /* path below the torrent's folder; empty for a single file */
  char      *source;      /* absolute path to read from; NULL for pad files */
  guint64    length;
  guint64    offset;      /* in piece space */
  gboolean   pad;
  gboolean   executable;
} Entry;

struct _TeCreator
{
  GObject           parent_instance;

  char             *path;
  TeTorrentVersion  version;
  guint32           piece_size;   /* 0 until chosen */
  GPtrArray        *tiers;        /* GStrv */
  GPtrArray        *web_seeds;
  gboolean          private;
  char             *comment;
  char             *created_by;
  char             *source;
  gint64            creation_date;
};

G_DEFINE_FINAL_TYPE (TeCreator, te_creator, G_TYPE_OBJECT)

static void
te_creator_finalize (GObject *object)
{
  TeCreator *self = TE_CREATOR (object);

  g_free (self->path);
  g_ptr_array_unref (self->tiers);
  g_ptr_array_unref (self->web_seeds);
  g_free (self->comment);
  g_free (self->created_by);
  g_free (self->source);

  G_OBJECT_CLASS (te_creator_parent_class)->finalize (object);
}

static void
te_creator_class_init (TeCreatorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = te_creator_finalize;
}

static void
te_creator_init (TeCreator *self)
{
  self->version = TE_TORRENT_V1;
  self->tiers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  self->web_seeds = g_ptr_array_new_with_free_func (g_free);
  self->created_by = g_strdup (TE_CREATED_BY);
  self->creation_date = g_get_real_time () / G_USEC_PER_SEC;
}

/**
 * te_creator_new:
 * @path: a file or a folder to make a torrent of
 *
 * Nothing is read until te_creator_create_async().
 *
 * Returns: (transfer full): a new creator
 */
TeCreator *
te_creator_new (const char *path)
{
  TeCreator *self = g_object_new (TE_TYPE_CREATOR, NULL);

  self->path = g_canonicalize_filename (path, NULL);
  return self;
}

void
te_creator_set_version (TeCreator        *self,
                        TeTorrentVersion  version)
{
  g_return_if_fail (version & TE_TORRENT_HYBRID);
  self->version = version;
}

/**
 * te_creator_set_piece_size:
 * @piece_size: a power of two ≥ 16 KiB, or 0 to choose from the total size
 */
void
te_creator_set_piece_size (TeCreator *self,
                           guint32    piece_size)
{
  self->piece_size = piece_size;
}

guint32
te_creator_get_piece_size (TeCreator *self)
{
  return self->piece_size;
}

void
te_creator_add_tracker_tier (TeCreator          *self,
                             const char * const *urls)
{
  g_return_if_fail (urls != NULL && urls[0] != NULL);
  g_ptr_array_add (self->tiers, g_strdupv ((char **) urls));
}

void
te_creator_add_web_seed (TeCreator  *self,
                         const char *url)
{
  g_ptr_array_add (self->web_seeds, g_strdup (url));
}

void
te_creator_set_private (TeCreator *self,
                        gboolean   private_)
{
  self->private = private_;
}

void
te_creator_set_comment (TeCreator  *self,
                        const char *comment)
{
  g_free (self->comment);
  self->comment = g_strdup (comment);
}

void
te_creator_set_source (TeCreator  *self,
                       const char *source)
{
  g_free (self->source);
  self->source = g_strdup (source);
}

/**
 * te_creator_set_creation_date:
 * @date: Unix seconds, or -1 to leave the date out
 */
void
te_creator_set_creation_date (TeCreator *self,
                              gint64     date)
{
  self->creation_date = date;
}

/**
 * te_creator_pick_piece_size:
 *
 * About 1500 pieces, between 16 KiB and 16 MiB: small enough to share early,
 * large enough to keep the .torrent small.
 */
guint32
te_creator_pick_piece_size (guint64 total_size)
{
  guint64 size = te_next_pow2 ((gsize) MAX (total_size / 1500, 1));

  return (guint32) CLAMP (size, 16 * 1024, 16 * 1024 * 1024);
}

/* Scanning (worker thread) */

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_strfreev (e->components);
  g_free (e->source);
}

static int
entry_cmp (gconstpointer a,
           gconstpointer b)
{
  const Entry *ea = a, *eb = b;

  /* Component-wise byte order is the order of a v2 file tree. */
  for (guint i = 0; ; i++)
    {
      const char *ca = ea->components[i], *cb = eb->components[i];
      int r;

      if (ca == NULL || cb == NULL)
        return ca == cb ? 0 : ca == NULL ? -1 : 1;
      r = strcmp (ca, cb);
      if (r != 0)
        return r;
    }
}

static gboolean
check_name (const char *name,
            const char *where,
            GError    **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *clean = NULL;

  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_BAD_NAME,
                   "“%s” is not valid UTF-8", where);
      return FALSE;
    }
  clean = te_path_sanitize_component ((const guint8 *) name, strlen (name), NULL, 0, &local);
  if (clean == NULL || strcmp (clean, name) != 0)
    {
      g_set_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_BAD_NAME,
                   "“%s” cannot be shared: %s", where,
                   local ? local->message : "it contains a path separator");
      return FALSE;
    }
  return TRUE;
}

static gboolean
scan_dir (const char *dir_path,
          GPtrArray  *prefix,
          GArray     *entries,
          GError    **error)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir_path, name, NULL);
      GStatBuf st;

      /* Symbolic links and special files are not shared: they could point anywhere. */
      if (g_lstat (child, &st) != 0)
        {
          int err = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                       "Cannot read “%s”: %s", child, g_strerror (err));
          return FALSE;
        }
      if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
        continue;
      if (!check_name (name, child, error))
        return FALSE;

      g_ptr_array_add (prefix, (gpointer) name);
      if (S_ISDIR (st.st_mode))
        {
          if (!scan_dir (child, prefix, entries, error))
            return FALSE;
        }
      else
        {
          Entry e = { 0 };

          g_ptr_array_add (prefix, NULL);
          e.components = g_strdupv ((char **) prefix->pdata);
          g_ptr_array_remove_index (prefix, prefix->len - 1);
          e.source = g_steal_pointer (&child);
          e.length = (guint64) st.st_size;
          e.executable = (st.st_mode & S_IXUSR) != 0;
          g_array_append_val (entries, e);
        }
      g_ptr_array_remove_index (prefix, prefix->len - 1);
    }
  return TRUE;
}

/* Creation job */

typedef struct {
  TeCreator          *self;        /* options are read only while the job runs */
  GArray             *entries;     /* Entry, in piece-space order */
  gboolean            multi_file;
  char               *name;
  guint32             piece_size;
  guint               n_pieces;
  guint64             span;
  guint8             *v1_hashes;   /* n_pieces × 20 */
  guint8             *v2_hashes;   /* n_pieces × 32: piece-layer hash, or a small file's root */
  TeParallelProgress  progress;
  TeProgressFunc      progress_func;
  gpointer            progress_data;
  GSource            *watch;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  te_parallel_unwatch (&job->watch);
  g_clear_pointer (&job->entries, g_array_unref);
  g_free (job->name);
  g_free (job->v1_hashes);
  g_free (job->v2_hashes);
  g_object_unref (job->self);
  g_free (job);
}

static gboolean
job_scan (Job     *job,
          GError **error)
{
  TeCreator *self = job->self;
  g_autofree char *name = g_path_get_basename (self->path);
  GStatBuf st;
  g_autoptr(GArray) files = g_array_new (FALSE, TRUE, sizeof (Entry));
  guint64 total = 0, offset = 0;

  g_array_set_clear_func (files, entry_clear);
  if (g_stat (self->path, &st) != 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                   "Cannot read “%s”: %s", self->path, g_strerror (err));
      return FALSE;
    }
  if (!check_name (name, self->path, error))
    return FALSE;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GPtrArray) prefix = g_ptr_array_new ();

      job->multi_file = TRUE;
      if (!scan_dir (self->path, prefix, files, error))
        return FALSE;
      g_array_sort (files, entry_cmp);
    }
  else if (S_ISREG (st.st_mode))
    {
      Entry e = { 0 };

      e.components = g_new0 (char *, 1);
      e.source = g_strdup (self->path);
      e.length = (guint64) st.st_size;
      e.executable = (st.st_mode & S_IXUSR) != 0;
      g_array_append_val (files, e);
    }

  for (guint i = 0; i < files->len; i++)
    total += g_array_index (files, Entry, i).length;
  if (total == 0)
    {
      g_set_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_NO_FILES,
                   "“%s” holds no data to share", self->path);
      return FALSE;
    }

  job->piece_size = self->piece_size ? self->piece_size : te_creator_pick_piece_size (total);
  if (job->piece_size < TE_METAINFO_MIN_PIECE_SIZE || job->piece_size > TE_METAINFO_MAX_PIECE_SIZE
      || (job->piece_size & (job->piece_size - 1)) != 0)
    {
      g_set_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_BAD_PIECE_SIZE,
                   "Piece size %u is not a power of two between 16 KiB and 256 MiB",
                   job->piece_size);
      return FALSE;
    }

  /* Lay the files out in piece space: v1 back to back, v2 each on a piece
   * boundary, hybrid with pad files so both agree (BEP 47). */
  for (guint i = 0; i < files->len; i++)
    {
      Entry *e = &g_array_index (files, Entry, i);
      guint64 rem = offset % job->piece_size;

      if (rem != 0 && e->length > 0 && (self->version & TE_TORRENT_V2))
        {
          if (self->version == TE_TORRENT_HYBRID)
            {
              Entry pad = { 0 };

              pad.components = g_new0 (char *, 3);
              pad.components[0] = g_strdup (".pad");
              pad.components[1] = g_strdup_printf ("%" G_GUINT64_FORMAT, job->piece_size - rem);
              pad.length = job->piece_size - rem;
              pad.offset = offset;
              pad.pad = TRUE;
              g_array_append_val (job->entries, pad);
            }
          offset += job->piece_size - rem;
        }
      e->offset = offset;
      offset += e->length;
      g_array_append_val (job->entries, *e);
    }
  g_array_set_clear_func (files, NULL); /* moved into job->entries */

  job->span = offset;
  job->n_pieces = (guint) ((offset + job->piece_size - 1) / job->piece_size);
  job->name = g_steal_pointer (&name);
  job->v1_hashes = g_malloc0 ((gsize) job->n_pieces * TE_SHA1_LEN);
  job->v2_hashes = g_malloc0 ((gsize) job->n_pieces * TE_SHA256_LEN);
  self->piece_size = job->piece_size;
  return TRUE;
}

/* Index of the entry holding @offset, or of the next one after a gap. */
static guint
find_entry (GArray  *entries,
            guint64  offset)
{
  guint lo = 0, hi = entries->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const Entry *e = &g_array_index (entries, Entry, mid);

      if (e->offset + e->length <= offset)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static gboolean
read_span (Job     *job,
           guint64  offset,
           guint8  *buf,
           gsize    len,
           GError **error)
{
  for (guint i = find_entry (job->entries, offset); len > 0; i++)
    {
      const Entry *e;
      gsize chunk, done = 0;
      int fd;

      if (i >= job->entries->len)
        {
          memset (buf, 0, len);
          break;
        }
      e = &g_array_index (job->entries, Entry, i);
      if (e->length == 0)
        continue;
      if (offset < e->offset)
        {
          chunk = (gsize) MIN ((guint64) len, e->offset - offset);
          memset (buf, 0, chunk);
          buf += chunk, offset += chunk, len -= chunk;
        }
      chunk = (gsize) MIN ((guint64) len, e->offset + e->length - offset);
      if (e->pad)
        {
          memset (buf, 0, chunk);
          buf += chunk, offset += chunk, len -= chunk;
          continue;
        }

      fd = open (e->source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        {
          int err = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                       "Cannot open “%s”: %s", e->source, g_strerror (err));
          return FALSE;
        }
      while (done < chunk)
        {
          ssize_t r = pread (fd, buf + done, chunk - done, (off_t) (offset - e->offset + done));

          if (r < 0 && errno == EINTR)
            continue;
          if (r <= 0)
            {
              int err = errno;

              close (fd);
              if (r == 0)
                g_set_error (error, TE_CREATOR_ERROR, TE_CREATOR_ERROR_CHANGED,
                             "“%s” became shorter while it was read", e->source);
              else
                g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                             "Cannot read “%s”: %s", e->source, g_strerror (err));
              return FALSE;
            }
          done += (gsize) r;
        }
      close (fd);
      buf += chunk, offset += chunk, len -= chunk;
    }
  return TRUE;
}

static gboolean
hash_piece (guint     piece,
            guint8   *scratch,
            gpointer  user_data,
            GError  **error)
{
  Job *job = user_data;
  TeTorrentVersion version = job->self->version;
  guint64 start = (guint64) piece * job->piece_size;
  guint i = find_entry (job->entries, start);
  const Entry *e = i < job->entries->len ? &g_array_index (job->entries, Entry, i) : NULL;
  guint64 end = MIN (start + job->piece_size, job->span);
  gsize size;

  /* Without v1, a piece ends where its file does. */
  if (version == TE_TORRENT_V2 && e != NULL)
    end = MIN (end, e->offset + e->length);
  size = (gsize) (end - start);

  if (!read_span (job, start, scratch, size, error))
    return FALSE;

  if (version & TE_TORRENT_V1)
    te_sha1 (scratch, size, job->v1_hashes + (gsize) piece * TE_SHA1_LEN);

  if ((version & TE_TORRENT_V2) && e != NULL && !e->pad)
    {
      gsize file_part = (gsize) MIN ((guint64) size, e->offset + e->length - start);
      gsize blocks = (file_part + TE_MERKLE_BLOCK_SIZE - 1) / TE_MERKLE_BLOCK_SIZE;
      gsize width = e->length <= job->piece_size ? te_next_pow2 (blocks)
                                                 : job->piece_size / TE_MERKLE_BLOCK_SIZE;

      te_merkle_data_root (scratch, file_part, width,
                           job->v2_hashes + (gsize) piece * TE_SHA256_LEN);
    }
  return TRUE;
}

/* Building the .torrent */

static TeBValue *
str_list (char **strv)
{
  TeBValue *list = te_bvalue_new_list ();

  for (guint i = 0; strv[i] != NULL; i++)
    te_bvalue_list_append (list, te_bvalue_new_str (strv[i]));
  return list;
}

static void
add_to_tree (TeBValue    *tree,
             char       **components,
             TeBValue    *leaf)
{
  TeBValue *node = tree;

  for (guint i = 0; components[i] != NULL; i++)
    {
      TeBValue *next = te_bvalue_dict_lookup (node, components[i]);

      if (next == NULL)
        {
          next = te_bvalue_new_dict ();
          te_bvalue_dict_set (node, components[i], next);
        }
      node = next;
    }
  te_bvalue_dict_set (node, "", leaf);
}

static GBytes *
build_torrent (Job *job)
{
  TeCreator *self = job->self;
  g_autoptr(TeBValue) torrent = te_bvalue_new_dict ();
  TeBValue *info = te_bvalue_new_dict ();
  TeBValue *files = te_bvalue_new_list ();
  TeBValue *tree = te_bvalue_new_dict ();
  TeBValue *layers = te_bvalue_new_dict ();
  guint pad_height = te_log2 (job->piece_size / TE_MERKLE_BLOCK_SIZE);

  for (guint i = 0; i < job->entries->len; i++)
    {
      const Entry *e = &g_array_index (job->entries, Entry, i);
      TeBValue *v1 = te_bvalue_new_dict ();

      te_bvalue_dict_set (v1, "length", te_bvalue_new_int ((gint64) e->length));
      if (e->pad || e->executable)
        te_bvalue_dict_set (v1, "attr", te_bvalue_new_str (e->pad ? "p" : "x"));
      if (job->multi_file)
        te_bvalue_dict_set (v1, "path", str_list (e->components));
      te_bvalue_list_append (files, v1);

      if ((self->version & TE_TORRENT_V2) && !e->pad)
        {
          TeBValue *leaf = te_bvalue_new_dict ();
          g_autofree char **single = NULL;

          te_bvalue_dict_set (leaf, "length", te_bvalue_new_int ((gint64) e->length));
          if (e->executable)
            te_bvalue_dict_set (leaf, "attr", te_bvalue_new_str ("x"));
          if (e->length > 0)
            {
              guint first = (guint) (e->offset / job->piece_size);
              guint n = (guint) ((e->length + job->piece_size - 1) / job->piece_size);
              const guint8 *hashes = job->v2_hashes + (gsize) first * TE_SHA256_LEN;
              guint8 root[TE_SHA256_LEN];

              if (n == 1)
                memcpy (root, hashes, TE_SHA256_LEN);
              else
                {
                  te_merkle_root (hashes, n, te_next_pow2 (n), pad_height, root);
                  te_bvalue_dict_set_len (layers, root, TE_SHA256_LEN,
                                          te_bvalue_new_string (hashes, (gsize) n * TE_SHA256_LEN));
                }
              te_bvalue_dict_set (leaf, "pieces root", te_bvalue_new_string (root, TE_SHA256_LEN));
            }
          if (job->multi_file)
            add_to_tree (tree, e->components, leaf);
          else
            {
              single = g_new0 (char *, 2);
              single[0] = job->name;
              add_to_tree (tree, single, leaf);
            }
        }
    }

  if (self->version & TE_TORRENT_V1)
    {
      if (job->multi_file)
        te_bvalue_dict_set (info, "files", g_steal_pointer (&files));
      else
        te_bvalue_dict_set (info, "length",
                            te_bvalue_new_int ((gint64) g_array_index (job->entries, Entry, 0).length));
      te_bvalue_dict_set (info, "pieces",
                          te_bvalue_new_string (job->v1_hashes, (gsize) job->n_pieces * TE_SHA1_LEN));
    }
  if (self->version & TE_TORRENT_V2)
    {
      te_bvalue_dict_set (info, "file tree", g_steal_pointer (&tree));
      te_bvalue_dict_set (info, "meta version", te_bvalue_new_int (2));
    }
  te_bvalue_dict_set (info, "name", te_bvalue_new_str (job->name));
  te_bvalue_dict_set (info, "piece length", te_bvalue_new_int (job->piece_size));
  if (self->private)
    te_bvalue_dict_set (info, "private", te_bvalue_new_int (1));
  if (self->source)
    te_bvalue_dict_set (info, "source", te_bvalue_new_str (self->source));

  if (self->tiers->len > 0)
    {
      TeBValue *list = te_bvalue_new_list ();

      te_bvalue_dict_set (torrent, "announce",
                          te_bvalue_new_str (((char **) self->tiers->pdata[0])[0]));
      for (guint i = 0; i < self->tiers->len; i++)
        te_bvalue_list_append (list, str_list (self->tiers->pdata[i]));
      te_bvalue_dict_set (torrent, "announce-list", list);
    }
  if (self->comment)
    te_bvalue_dict_set (torrent, "comment", te_bvalue_new_str (self->comment));
  if (self->created_by)
    te_bvalue_dict_set (torrent, "created by", te_bvalue_new_str (self->created_by));
  if (self->creation_date >= 0)
    te_bvalue_dict_set (torrent, "creation date", te_bvalue_new_int (self->creation_date));
  te_bvalue_dict_set (torrent, "info", info);
  if ((self->version & TE_TORRENT_V2) && te_bvalue_length (layers) > 0)
    te_bvalue_dict_set (torrent, "piece layers", g_steal_pointer (&layers));
  if (self->web_seeds->len > 0)
    {
      g_ptr_array_add (self->web_seeds, NULL);
      te_bvalue_dict_set (torrent, "url-list", str_list ((char **) self->web_seeds->pdata));
      g_ptr_array_remove_index (self->web_seeds, self->web_seeds->len - 1);
    }

  if (files)
    te_bvalue_free (files);
  if (tree)
    te_bvalue_free (tree);
  if (layers)
    te_bvalue_free (layers);
  return te_bencode_encode (torrent);
}

static void
create_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TeMetainfo) check = NULL;

  if (!job_scan (job, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->progress_func)
    job->watch = te_parallel_watch (&job->progress, job->n_pieces, job->progress_func,
                                    job->progress_data, g_task_get_context (task));
  if (!te_parallel_run (job->n_pieces, job->piece_size, hash_piece, job, &job->progress,
                        cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bytes = build_torrent (job);

  /* What we write must be what we read back. */
  check = te_metainfo_new_from_bytes (bytes, &error);
  if (check == NULL)
    {
      g_prefix_error (&error, "Created torrent does not parse: ");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&bytes), (GDestroyNotify) g_bytes_unref);
}

/**
 * te_creator_create_async:
 * @progress: (nullable): called on the caller's context with pieces hashed so far
 *
 * Scans the source, hashes it on all cores and builds the .torrent.
 */
void
te_creator_create_async (TeCreator          *self,
                         TeProgressFunc      progress,
                         gpointer            progress_data,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Job *job = g_new0 (Job, 1);

  g_task_set_source_tag (task, te_creator_create_async);
  job->self = g_object_ref (self);
  job->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (job->entries, entry_clear);
  job->progress_func = progress;
  job->progress_data = progress_data;
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, create_thread);
}

/**
 * te_creator_create_finish:
 *
 * Returns: (transfer full): the bencoded .torrent, or `NULL` with @error set
 */
GBytes *
te_creator_create_finish (TeCreator     *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
