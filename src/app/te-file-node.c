/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-file-node"

#include "config.h"

#include "te-file-node.h"

/* A file or folder of a torrent, for the file trees of the add dialog and
 * the details. Leaves carry the metainfo's file index; a folder sums its
 * children and shows a mixed check box when only some are wanted. Changes
 * made on a folder reach every leaf below it, and each leaf notifies, so the
 * owner applies them to the torrent by watching the leaves only. */

struct _TeFileNode
{
  GObject     parent_instance;

  char       *name;
  int         index;           /* -1 for folders */
  guint64     size;
  guint64     have;
  gboolean    wanted;
  gboolean    inconsistent;
  TePriority  priority;
  TeFileNode *parent;          /* not owned */
  GListStore *children;        /* folders only */
};

G_DEFINE_FINAL_TYPE (TeFileNode, te_file_node, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_SIZE,
  PROP_PROGRESS,
  PROP_WANTED,
  PROP_INCONSISTENT,
  PROP_PRIORITY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static TeFileNode *
node_new (const char *name,
          int         index,
          TeFileNode *parent)
{
  TeFileNode *self = g_object_new (TE_TYPE_FILE_NODE, NULL);

  self->name = g_strdup (name);
  self->index = index;
  self->parent = parent;
  if (index < 0)
    self->children = g_list_store_new (TE_TYPE_FILE_NODE);
  return self;
}

static TeFileNode *
find_child (GListStore *store,
            const char *name)
{
  for (guint i = 0, n = g_list_model_get_n_items (G_LIST_MODEL (store)); i < n; i++)
    {
      TeFileNode *child = g_list_model_get_item (G_LIST_MODEL (store), i);

      g_object_unref (child);  /* the store keeps it */
      if (child->index < 0 && g_str_equal (child->name, name))
        return child;
    }
  return NULL;
}

/**
 * te_file_node_build_tree:
 * @leaves: (out) (element-type TeFileNode): the files in metainfo order, pad files left out
 *
 * Returns: (transfer full): the top level of the tree
 */
GListStore *
te_file_node_build_tree (TeMetainfo  *metainfo,
                         GPtrArray  **leaves)
{
  GListStore *root = g_list_store_new (TE_TYPE_FILE_NODE);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_object_unref);
  /* Folders by path, so thousands of files do not search lists. */
  g_autoptr(GHashTable) folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0, n = te_metainfo_get_n_files (metainfo); i < n; i++)
    {
      const TeFile *f = te_metainfo_get_file (metainfo, i);
      g_auto(GStrv) parts = NULL;
      GListStore *store = root;
      TeFileNode *parent = NULL;
      g_autoptr(GString) prefix = g_string_new (NULL);
      TeFileNode *leaf;
      guint n_parts;

      if (f->attrs & TE_FILE_ATTR_PAD)
        continue;
      parts = g_strsplit (f->path, "/", -1);
      n_parts = g_strv_length (parts);
      for (guint p = 0; p + 1 < n_parts; p++)
        {
          TeFileNode *folder;

          g_string_append_printf (prefix, "%s/", parts[p]);
          folder = g_hash_table_lookup (folders, prefix->str);
          if (folder == NULL)
            {
              folder = find_child (store, parts[p]);
              if (folder == NULL)
                {
                  folder = node_new (parts[p], -1, parent);
                  g_list_store_append (store, folder);
                  g_object_unref (folder);
                }
              g_hash_table_insert (folders, g_strdup (prefix->str), folder);
            }
          folder->size += f->length;
          parent = folder;
          store = folder->children;
        }
      leaf = node_new (n_parts > 0 ? parts[n_parts - 1] : f->path, (int) i, parent);
      leaf->size = f->length;
      g_list_store_append (store, leaf);
      g_ptr_array_add (files, leaf);
    }
  *leaves = files;
  return root;
}

const char *
te_file_node_get_name (TeFileNode *self)
{
  return self->name;
}

guint64
te_file_node_get_size (TeFileNode *self)
{
  return self->size;
}

double
te_file_node_get_progress (TeFileNode *self)
{
  return self->size ? (double) self->have / (double) self->size : 1.0;
}

int
te_file_node_get_index (TeFileNode *self)
{
  return self->index;
}

/**
 * te_file_node_get_children:
 *
 * Returns: (transfer none) (nullable): the folder's children, `NULL` for a file
 */
GListModel *
te_file_node_get_children (TeFileNode *self)
{
  return self->children ? G_LIST_MODEL (self->children) : NULL;
}

gboolean
te_file_node_get_wanted (TeFileNode *self)
{
  return self->wanted;
}

gboolean
te_file_node_get_inconsistent (TeFileNode *self)
{
  return self->inconsistent;
}

TePriority
te_file_node_get_priority (TeFileNode *self)
{
  return self->priority;
}

/* A folder's state from its children. */
static void
update_folder (TeFileNode *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->children));
  guint n_wanted = 0;
  gboolean mixed = FALSE;
  gboolean wanted, inconsistent;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TeFileNode) child = g_list_model_get_item (G_LIST_MODEL (self->children), i);

      n_wanted += child->wanted;
      mixed |= child->inconsistent;
    }
  wanted = n_wanted > 0;
  inconsistent = mixed || (n_wanted > 0 && n_wanted < n);
  g_object_freeze_notify (G_OBJECT (self));
  if (wanted != self->wanted)
    {
      self->wanted = wanted;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WANTED]);
    }
  if (inconsistent != self->inconsistent)
    {
      self->inconsistent = inconsistent;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INCONSISTENT]);
    }
  g_object_thaw_notify (G_OBJECT (self));
  if (self->parent)
    update_folder (self->parent);
}

static void
set_wanted_down (TeFileNode *self,
                 gboolean    wanted)
{
  if (self->children)
    {
      for (guint i = 0, n = g_list_model_get_n_items (G_LIST_MODEL (self->children)); i < n; i++)
        {
          g_autoptr(TeFileNode) child = g_list_model_get_item (G_LIST_MODEL (self->children), i);

          set_wanted_down (child, wanted);
        }
    }
  if (self->inconsistent)
    {
      self->inconsistent = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INCONSISTENT]);
    }
  if (self->wanted != wanted)
    {
      self->wanted = wanted;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WANTED]);
    }
}

void
te_file_node_set_wanted (TeFileNode *self,
                         gboolean    wanted)
{
  g_return_if_fail (TE_IS_FILE_NODE (self));

  wanted = !!wanted;
  if (self->wanted == wanted && !self->inconsistent)
    return;
  set_wanted_down (self, wanted);
  if (self->parent)
    update_folder (self->parent);
}

void
te_file_node_set_priority (TeFileNode *self,
                           TePriority  priority)
{
  g_return_if_fail (TE_IS_FILE_NODE (self));

  if (self->children)
    for (guint i = 0, n = g_list_model_get_n_items (G_LIST_MODEL (self->children)); i < n; i++)
      {
        g_autoptr(TeFileNode) child = g_list_model_get_item (G_LIST_MODEL (self->children), i);

        te_file_node_set_priority (child, priority);
      }
  if (self->priority != priority)
    {
      self->priority = priority;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRIORITY]);
    }
}

static void
add_have (TeFileNode *self,
          gint64      delta)
{
  self->have += delta;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
  if (self->parent)
    add_have (self->parent, delta);
}

/* A leaf's verified bytes; its folders follow. */
void
te_file_node_set_have (TeFileNode *self,
                       guint64     have_bytes)
{
  g_return_if_fail (TE_IS_FILE_NODE (self));

  if (self->have != have_bytes)
    add_have (self, (gint64) have_bytes - (gint64) self->have);
}

static void
te_file_node_finalize (GObject *object)
{
  TeFileNode *self = TE_FILE_NODE (object);

  g_free (self->name);
  g_clear_object (&self->children);

  G_OBJECT_CLASS (te_file_node_parent_class)->finalize (object);
}

static void
te_file_node_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TeFileNode *self = TE_FILE_NODE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, te_file_node_get_progress (self));
      break;
    case PROP_WANTED:
      g_value_set_boolean (value, self->wanted);
      break;
    case PROP_INCONSISTENT:
      g_value_set_boolean (value, self->inconsistent);
      break;
    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_file_node_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TeFileNode *self = TE_FILE_NODE (object);

  switch (prop_id)
    {
    case PROP_WANTED:
      te_file_node_set_wanted (self, g_value_get_boolean (value));
      break;
    case PROP_PRIORITY:
      te_file_node_set_priority (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
te_file_node_class_init (TeFileNodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = te_file_node_finalize;
  object_class->get_property = te_file_node_get_property;
  object_class->set_property = te_file_node_set_property;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  properties[PROP_SIZE] = g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, ro);
  properties[PROP_WANTED] = g_param_spec_boolean ("wanted", NULL, NULL, TRUE, rw);
  properties[PROP_INCONSISTENT] = g_param_spec_boolean ("inconsistent", NULL, NULL, FALSE, ro);
  properties[PROP_PRIORITY] = g_param_spec_int ("priority", NULL, NULL, TE_PRIORITY_SKIP, TE_PRIORITY_HIGH,
                                                TE_PRIORITY_NORMAL, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
te_file_node_init (TeFileNode *self)
{
  self->wanted = TRUE;
  self->priority = TE_PRIORITY_NORMAL;
  self->index = -1;
}
