/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "te-engine.h"
#include "te-transmission-rpc.h"

/* Feeds the input to te_transmission_rpc_dispatch() as one request body. An
 * answer, when there is one, must be a JSON object with a "result" string.
 *
 * The endpoint acts on the disk (deleting data, moving it, choosing where it
 * goes) and on the network (fetching URLs): requests are stripped of those
 * arguments before they run, and URL fetching is off, so fuzzing touches
 * nothing outside the engine's own temporary folder. */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static const char * const disk_arguments[] = { "delete-local-data", "location", "download-dir" };

static TeEngine *engine;
static TeTransmissionRpc *rpc;

static void
init (void)
{
  TeEngineSettings settings;
  g_autofree char *dir = g_dir_make_tmp ("te-fuzz-rpc-XXXXXX", NULL);

  g_assert_nonnull (dir);
  te_engine_settings_init (&settings);
  g_free (settings.download_path);
  settings.download_path = g_strdup (dir);
  engine = te_engine_new (&settings);
  te_engine_settings_clear (&settings);
  rpc = te_transmission_rpc_new (engine);
  te_transmission_rpc_set_allow_url_fetch (rpc, FALSE);
}

/* The body to run: the input itself, or re-encoded without the arguments
 * that act on the disk. */
static char *
sanitize (const char *body,
          gsize       length,
          gsize      *out_length)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = NULL;
  JsonNode *node;
  JsonObject *args;
  gboolean changed = FALSE;

  *out_length = length;
  if (!json_parser_load_from_data (parser, body, (gssize) length, NULL)
      || json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_memdup2 (body, length);
  node = json_object_get_member (json_node_get_object (json_parser_get_root (parser)), "arguments");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return g_memdup2 (body, length);
  args = json_node_get_object (node);
  for (guint i = 0; i < G_N_ELEMENTS (disk_arguments); i++)
    if (json_object_has_member (args, disk_arguments[i]))
      {
        json_object_remove_member (args, disk_arguments[i]);
        changed = TRUE;
      }
  if (!changed)
    return g_memdup2 (body, length);
  generator = json_generator_new ();
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, out_length);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  g_autofree char *answer = NULL;
  GPtrArray *torrents;
  gsize length;

  if (engine == NULL)
    init ();
  /* Small inputs only: the sanitizer's own parse has no nesting limit. */
  if (size > 4096)
    return 0;
  body = sanitize ((const char *) data, size, &length);
  answer = te_transmission_rpc_dispatch (rpc, body, length, &error);
  if (answer == NULL)
    g_assert_nonnull (error);
  else
    {
      g_autoptr(JsonNode) node = json_from_string (answer, &error);

      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      g_assert_nonnull (json_object_get_string_member (json_node_get_object (node), "result"));
    }

  /* Each input starts from an empty engine. */
  torrents = te_engine_get_torrents (engine);
  while (torrents->len > 0)
    te_engine_remove (engine, g_ptr_array_index (torrents, torrents->len - 1), FALSE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}
