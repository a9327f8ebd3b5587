/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "te-api.h"
#include "te-settings.h"
#include "te-service-settings.h"

/* The REST API's request bodies: the first byte picks a route's parser, the
 * rest is the body, run through the same parsing and checks as the server
 * (te_api_parse_object, then the route's validator). Every failure must come
 * with an error from the API's domain and a message. */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);
int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);

static void
check (gboolean  ok,
       GError   *error)
{
  if (ok)
    g_assert_null (error);
  else
    {
      g_assert_nonnull (error);
      /* Ours, or the engine refusing a setting's value (422). */
      g_assert_true (error->domain == TE_API_ERROR || error->domain == TE_SETTINGS_ERROR);
      g_assert_cmpuint (strlen (error->message), >, 0);
      g_assert_cmpuint (te_api_error_status (error), >=, 400);
      g_assert_cmpuint (te_api_error_status (error), <, 500);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GBytes) body = NULL;
  TeApiAddRequest add = { 0 };
  guint route;

  if (size < 1)
    return 0;
  route = data[0] % 11;
  data++;
  size--;

  if (route == 10)
    {
      /* The upload form, with a fixed boundary. */
      body = g_bytes_new (data, size);
      check (te_api_parse_add_multipart ("multipart/form-data; boundary=XyZ", body, &add, &error), error);
      te_api_add_request_clear (&add);
      return 0;
    }
  object = te_api_parse_object ("application/json", (const char *) data, size, &error);
  if (object == NULL)
    {
      check (FALSE, error);
      return 0;
    }
  switch (route)
    {
    case 0:
      check (te_api_parse_add (object, &add, &error), error);
      te_api_add_request_clear (&add);
      break;
    case 1:
      {
        TeApiTorrentPatch patch;

        check (te_api_parse_torrent_patch (object, &patch, &error), error);
      }
      break;
    case 2:
      {
        g_autoptr(GArray) changes = te_api_parse_files_patch (object, &error);

        check (changes != NULL, error);
      }
      break;
    case 3:
      {
        TeEngineSettings settings;

        te_engine_settings_init (&settings);
        check (te_service_settings_apply_json (&settings, object, &error), error);
        te_engine_settings_clear (&settings);
      }
      break;
    case 4:
      {
        g_autofree char *user = NULL;
        g_autofree char *password = NULL;

        check (te_api_parse_login (object, &user, &password, &error), error);
      }
      break;
    case 5:
      {
        g_autofree char *url = NULL;
        int tier;

        check (te_api_parse_tracker_add (object, &url, &tier, &error), error);
      }
      break;
    case 6:
      {
        g_autofree char *url = NULL;
        g_autofree char *new_url = NULL;

        check (te_api_parse_tracker_replace (object, &url, &new_url, &error), error);
      }
      break;
    case 7:
      {
        g_autofree char *address = NULL;
        guint16 port;

        check (te_api_parse_peer_add (object, &address, &port, &error), error);
      }
      break;
    case 8:
      {
        g_autofree char *path = NULL;

        check (te_api_parse_move (object, &path, &error), error);
      }
      break;
    default:
      {
        gboolean enabled;

        check (te_api_parse_alt_speed (object, &enabled, &error), error);
      }
      break;
    }
  return 0;
}

/* GLib and json-glib set up caches the first time a path runs (types, quarks,
 * the printf machinery); run every parser once, passing and failing, so
 * LeakSanitizer does not count those against the first input that reaches them. */
int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  static const char * const warm[] = {
    "{\"magnet\":\"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567\",\"peers\":[\"127.0.0.1:1\"]}",
    "{\"url\":\"http://127.0.0.1/a\",\"priority\":\"high\",\"wanted\":[true]}",
    "{\"queuePosition\":2,\"priority\":\"x\",\"seedRatioLimit\":1.5,\"seedTimeLimit\":null}",
    "{\"files\":[{\"index\":0,\"wanted\":false,\"priority\":\"low\"}]}",
    "{\"maxActiveDownloads\":4,\"downloadPath\":\"/tmp\",\"seedRatioLimit\":-1}",
    "{\"username\":\"a\",\"password\":\"b\"}",
    "{\"url\":\"udp://h:1/a\",\"tier\":2000}",
    "{\"url\":\"a\",\"newUrl\":\"http://h/\"}",
    "{\"address\":\"::1\",\"port\":0}",
    "{\"savePath\":\"rel\"}",
    "{\"enabled\":1,\"x\":2}",
    "{bad", "[]", "{\"a\":\"\\ud800\"}",
  };

  for (guint round = 0; round < 2; round++)
    for (guint r = 0; r < 11; r++)
      for (gsize i = 0; i < G_N_ELEMENTS (warm); i++)
        {
          g_autofree guint8 *input = g_malloc (strlen (warm[i]) + 1);

          input[0] = r;
          memcpy (input + 1, warm[i], strlen (warm[i]));
          LLVMFuzzerTestOneInput (input, strlen (warm[i]) + 1);
        }
  return 0;
}
