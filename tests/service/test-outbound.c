/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE  /* unshare () */
#define G_LOG_DOMAIN "test-outbound"

#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service-fixture.h"
#include "te-outbound.h"
#include "te-tracker.h"

/* The outbound request policy (te-outbound.c) against hostile redirects.
 *
 * The test runs in a network namespace of its own (CLONE_NEWNET, so root),
 * where two TEST-NET-2 addresses sit on `lo` and play public servers: a
 * tracker (and torrent host) on PUBLIC_A answers every request with a redirect
 * chosen by the test; PUBLIC_B is a second public tracker. A canary on
 * 127.0.0.1 (and one on ::1) counts what reaches it. Nothing leaves the
 * namespace. */

#define PUBLIC_A "198.51.100.7"
#define PUBLIC_B "198.51.100.8"
#define WAIT_MS  20000
#define TRACKER_REPLY "d8:intervali1800e5:peers6:\x0a\x01\x02\x03\x11\xd7" "e"

static gboolean have_namespace;
static char *namespace_error;

typedef struct {
  SoupServer *server;
  char       *base;       /* http://host:port */
  guint16     port;
  guint       hits;
  char       *redirect;   /* answer every request with a 302 here, when set */
} Server;

typedef struct {
  SvcFixture   svc;
  SoupSession *session;
  Server       public_a;
  Server       public_b;
  Server       canary;
  Server       canary6;   /* port 0 when ::1 cannot be bound */
} Fixture;

/* The namespace */

static gboolean
add_address (int         fd,
             const char *label,
             const char *text)
{
  struct ifreq ifr;
  struct sockaddr_in *sin = (struct sockaddr_in *) &ifr.ifr_addr;

  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, label, IFNAMSIZ);
  sin->sin_family = AF_INET;
  inet_pton (AF_INET, text, &sin->sin_addr);
  if (ioctl (fd, SIOCSIFADDR, &ifr) != 0)
    return FALSE;
  inet_pton (AF_INET, "255.255.255.255", &sin->sin_addr);
  return ioctl (fd, SIOCSIFNETMASK, &ifr) == 0;
}

/* Before anything starts a thread: a thread keeps the namespace it was
 * created in. */
static void
enter_namespace (void)
{
  struct ifreq ifr;
  int fd;

  if (unshare (CLONE_NEWNET) != 0)
    {
      namespace_error = g_strdup_printf ("unshare (CLONE_NEWNET): %s (needs root)",
                                         g_strerror (errno));
      return;
    }
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, "lo", IFNAMSIZ);
  g_assert_cmpint (ioctl (fd, SIOCGIFFLAGS, &ifr), ==, 0);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  g_assert_cmpint (ioctl (fd, SIOCSIFFLAGS, &ifr), ==, 0);
  g_assert_true (add_address (fd, "lo:1", PUBLIC_A));
  g_assert_true (add_address (fd, "lo:2", PUBLIC_B));
  close (fd);
  have_namespace = TRUE;
}

/* The servers */

static void
server_cb (SoupServer        *soup,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Server *server = user_data;

  server->hits++;
  if (server->redirect != NULL)
    {
      soup_server_message_set_redirect (msg, 302, server->redirect);
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, TRACKER_REPLY,
                                    sizeof TRACKER_REPLY - 1);
}

static gboolean
server_start (Server     *server,
              const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);
  g_autoptr(GSocketAddress) bind_to = g_inet_socket_address_new (address, 0);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;
  GSList *listeners;

  server->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server->server, NULL, server_cb, server, NULL);
  if (!soup_server_listen (server->server, bind_to, 0, &error))
    {
      g_test_message ("Cannot listen on %s: %s", host, error->message);
      g_clear_object (&server->server);
      return FALSE;
    }
  listeners = soup_server_get_listeners (server->server);
  local = g_socket_get_local_address (listeners->data, &error);
  g_slist_free (listeners);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  server->base = g_strdup_printf (strchr (host, ':') ? "http://[%s]:%u" : "http://%s:%u",
                                  host, server->port);
  return TRUE;
}

static void
server_stop (Server *server)
{
  if (server->server != NULL)
    soup_server_disconnect (server->server);
  g_clear_object (&server->server);
  g_clear_pointer (&server->base, g_free);
  g_clear_pointer (&server->redirect, g_free);
}

static void
redirect_to (Server     *server,
             const char *url)
{
  g_free (server->redirect);
  server->redirect = g_strdup (url);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  if (!have_namespace)
    return;
  svc_fixture_setup (&f->svc, NULL);
  f->session = soup_session_new_with_options ("timeout", 20, NULL);
  g_assert_true (server_start (&f->public_a, PUBLIC_A));
  g_assert_true (server_start (&f->public_b, PUBLIC_B));
  g_assert_true (server_start (&f->canary, "127.0.0.1"));
  server_start (&f->canary6, "::1");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (!have_namespace)
    return;
  soup_session_abort (f->session);
  g_clear_object (&f->session);
  svc_fixture_teardown (&f->svc, NULL);
  server_stop (&f->public_a);
  server_stop (&f->public_b);
  server_stop (&f->canary);
  server_stop (&f->canary6);
}

static gboolean
need_namespace (void)
{
  if (have_namespace)
    return TRUE;
  g_test_skip (namespace_error);
  return FALSE;
}

/* Announcing */

static void
got_result_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static TeAnnounceResponse *
announce (Fixture     *f,
          const char  *url,
          GError     **error)
{
  TeAnnounceRequest request = { 0 };
  GAsyncResult *result = NULL;
  TeAnnounceResponse *response;

  memset (request.info_hash, 0xab, 20);
  memcpy (request.peer_id, "-TE0000-outbound-tst", 20);
  request.port = 51413;
  request.left = 1000;
  request.numwant = -1;
  te_tracker_announce_async (f->session, url, &request, NULL, got_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  response = te_tracker_announce_finish (result, error);
  g_object_unref (result);
  return response;
}

/* Announces to PUBLIC_A, which redirects to @target: the announce must fail
 * with a refusal whose message holds @reason. */
static void
assert_redirect_refused (Fixture    *f,
                         const char *target,
                         const char *reason)
{
  g_autofree char *url = g_strconcat (f->public_a.base, "/announce", NULL);
  g_autoptr(GError) error = NULL;
  TeAnnounceResponse *response;

  redirect_to (&f->public_a, target);
  response = announce (f, url, &error);
  g_assert_null (response);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", target, error->message);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
  g_assert_nonnull (strstr (error->message, "refused"));
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_cmpuint (f->public_a.hits, ==, 1);
}

static void
test_address_classes (void)
{
  static const char * const local[] = {
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "100.64.0.1", "100.127.255.254", "169.254.1.1", "0.0.0.0", "0.1.2.3", "224.0.0.1",
    "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:192.168.0.1",
  };
  static const char * const public[] = {
    "198.51.100.7", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1", "192.169.0.1",
    "2001:db8::1", "2a00:1450::1", "::ffff:8.8.8.8",
  };

  for (guint i = 0; i < G_N_ELEMENTS (local); i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_from_string (local[i]);

      g_assert_nonnull (a);
      if (te_outbound_address_is_public (a))
        g_error ("%s is taken for a public address", local[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (public); i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_from_string (public[i]);

      g_assert_nonnull (a);
      if (!te_outbound_address_is_public (a))
        g_error ("%s is taken for a local address", public[i]);
    }
}

/* A torrent whose tracker redirects to loopback: the tracker shows why, and
 * the canary never hears a request. */
static void
test_torrent_redirect_to_loopback (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *canary = NULL;
  g_autofree char *tracker = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *save = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *last_error = NULL;
  TeAddOptions options;
  TeTorrent *t;
  gint64 until;

  if (!need_namespace ())
    return;
  canary = g_strconcat (f->canary.base, "/announce", NULL);
  tracker = g_strconcat (f->public_a.base, "/announce", NULL);
  redirect_to (&f->public_a, canary);
  escaped = g_uri_escape_string (tracker, NULL, FALSE);
  uri = g_strconcat ("magnet:?xt=urn:btih:", "0123456789abcdef0123456789abcdef01234567",
                     "&dn=canary&tr=", escaped, NULL);
  save = g_build_filename (f->svc.dir, "downloads", NULL);
  te_add_options_init (&options);
  options.save_path = save;
  t = te_engine_add_magnet_uri (f->svc.engine, uri, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);

  until = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  while (last_error == NULL && g_get_monotonic_time () < until)
    {
      g_autoptr(GPtrArray) trackers = te_torrent_dup_trackers (t);
      TeTrackerInfo *info;

      g_assert_cmpuint (trackers->len, ==, 1);
      info = g_ptr_array_index (trackers, 0);
      if (info->last_error != NULL)
        last_error = g_strdup (info->last_error);
      else
        te_test_spin (50);
    }
  g_assert_nonnull (last_error);
  g_test_message ("Tracker error: %s", last_error);
  g_assert_nonnull (strstr (last_error, "redirect to 127.0.0.1 refused"));
  g_assert_nonnull (strstr (last_error, "local address"));
  g_assert_cmpuint (f->public_a.hits, >=, 1);
  g_assert_cmpuint (f->canary.hits, ==, 0);
}

static void
test_redirect_to_ipv6_loopback (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *target = NULL;

  if (!need_namespace ())
    return;
  if (f->canary6.server == NULL)
    {
      g_test_skip ("::1 cannot be bound in this namespace (IPv6 is off)");
      return;
    }
  target = g_strconcat (f->canary6.base, "/announce", NULL);
  assert_redirect_refused (f, target, "to ::1");
  g_assert_cmpuint (f->canary6.hits, ==, 0);
}

/* A name that resolves to loopback is judged by the address it resolves to. */
static void
test_redirect_to_localhost_name (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *target = NULL;

  if (!need_namespace ())
    return;
  target = g_strdup_printf ("http://localhost:%u/announce", f->canary.port);
  assert_redirect_refused (f, target, "a public tracker may not redirect to a local address");
  g_assert_cmpuint (f->canary.hits, ==, 0);
}

static void
test_redirect_to_private (Fixture       *f,
                          gconstpointer  data)
{
  if (!need_namespace ())
    return;
  /* Nothing listens there; the attempt must not even be made. */
  assert_redirect_refused (f, "http://10.11.12.13:8080/announce", "to 10.11.12.13");
}

/* Whoever redirects there, and even when named directly, the remote-control
 * port of this process is out of reach. */
static void
test_own_port (Fixture       *f,
               gconstpointer  data)
{
  guint16 port;
  g_autofree char *rpc = NULL;
  g_autofree char *direct = NULL;
  g_autoptr(GError) error = NULL;
  TeAnnounceResponse *response;

  if (!need_namespace ())
    return;
  port = te_service_get_port (f->svc.service);
  g_assert_cmpuint (te_engine_get_remote_control_port (f->svc.engine), ==, port);

  rpc = g_strdup_printf ("http://127.0.0.1:%u/transmission/rpc", port);
  assert_redirect_refused (f, rpc, "own remote-control port");

  direct = g_strdup_printf ("http://127.0.0.1:%u/announce", port);
  response = announce (f, direct, &error);
  g_assert_null (response);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "own remote-control port"));

  /* Once the service stops, the engine forgets the port. */
  te_service_stop (f->svc.service);
  g_assert_cmpuint (te_engine_get_remote_control_port (f->svc.engine), ==, 0);
}

static void
test_public_to_public (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *url = NULL;
  g_autofree char *target = NULL;
  g_autoptr(GError) error = NULL;
  TeAnnounceResponse *response;

  if (!need_namespace ())
    return;
  url = g_strconcat (f->public_a.base, "/announce", NULL);
  target = g_strconcat (f->public_b.base, "/announce", NULL);
  redirect_to (&f->public_a, target);
  response = announce (f, url, &error);
  g_assert_no_error (error);
  g_assert_nonnull (response);
  g_assert_cmpuint (response->peers->len, ==, 1);
  te_announce_response_free (response);
  g_assert_cmpuint (f->public_a.hits, ==, 1);
  g_assert_cmpuint (f->public_b.hits, ==, 1);
}

/* A local tracker named directly keeps working, and so do its redirects to
 * other local addresses; endless redirects are cut off. */
static void
test_local_tracker (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  Server hop = { 0 };
  TeAnnounceResponse *response;

  if (!need_namespace ())
    return;
  url = g_strconcat (f->canary.base, "/announce", NULL);
  response = announce (f, url, &error);
  g_assert_no_error (error);
  g_assert_nonnull (response);
  te_announce_response_free (response);
  g_assert_cmpuint (f->canary.hits, ==, 1);

  g_assert_true (server_start (&hop, "127.0.0.2"));
  redirect_to (&hop, url);
  g_free (url);
  url = g_strconcat (hop.base, "/announce", NULL);
  response = announce (f, url, &error);
  g_assert_no_error (error);
  g_assert_nonnull (response);
  te_announce_response_free (response);
  g_assert_cmpuint (f->canary.hits, ==, 2);

  /* A loop */
  redirect_to (&hop, url);
  response = announce (f, url, &error);
  g_assert_null (response);
  g_assert_error (error, TE_TRACKER_ERROR, TE_TRACKER_ERROR_BAD_REPLY);
  g_assert_nonnull (strstr (error->message, "Too many redirects"));
  g_assert_cmpuint (hop.hits, ==, 1 + TE_OUTBOUND_MAX_REDIRECTS + 1);
  server_stop (&hop);
}

/* Adding a torrent by URL, through the REST API and through the Transmission
 * RPC: a public host redirecting to loopback gets a clear error. */
static void
test_rest_add_by_url (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *target = NULL;
  g_autofree char *body = NULL;
  g_autoptr(JsonNode) reply = NULL;
  const char *message;

  if (!need_namespace ())
    return;
  target = g_strconcat (f->canary.base, "/secret.torrent", NULL);
  redirect_to (&f->public_a, target);
  body = g_strdup_printf ("{\"url\":\"%s/x.torrent\"}", f->public_a.base);
  reply = svc_json (&f->svc, "POST", "/api/v1/torrents", body, 422);
  message = json_object_get_string_member (json_node_get_object (reply), "message");
  g_test_message ("%s", message);
  g_assert_nonnull (strstr (message, "Server redirect to 127.0.0.1 refused"));
  g_assert_cmpuint (f->public_a.hits, ==, 1);
  g_assert_cmpuint (f->canary.hits, ==, 0);
}

static guint
rpc_post (Fixture     *f,
          const char  *json,
          const char  *session_id,
          char       **out_session_id,
          GBytes     **out_body)
{
  g_autofree char *url = g_strconcat (f->svc.base, "/transmission/rpc", NULL);
  g_autofree char *credentials = g_strdup_printf ("%s:%s", SVC_USER, SVC_PASSWORD);
  g_autofree char *encoded = g_base64_encode ((const guchar *) credentials, strlen (credentials));
  g_autofree char *auth = g_strconcat ("Basic ", encoded, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  GAsyncResult *result = NULL;

  soup_message_headers_replace (h, "Authorization", auth);
  if (session_id != NULL)
    soup_message_headers_replace (h, "X-Transmission-Session-Id", session_id);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, got_result_cb,
                                    &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  *out_body = soup_session_send_and_read_finish (f->session, result, &error);
  g_object_unref (result);
  g_assert_no_error (error);
  if (out_session_id != NULL)
    *out_session_id = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                              "X-Transmission-Session-Id"));
  return soup_message_get_status (msg);
}

static void
test_rpc_add_by_url (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *target = NULL;
  g_autofree char *json = NULL;
  g_autofree char *session_id = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  const char *result;

  if (!need_namespace ())
    return;
  target = g_strconcat (f->canary.base, "/secret.torrent", NULL);
  redirect_to (&f->public_a, target);
  json = g_strdup_printf ("{\"method\":\"torrent-add\",\"arguments\":{\"filename\":\"%s/x.torrent\"}}",
                          f->public_a.base);
  g_assert_cmpuint (rpc_post (f, json, NULL, &session_id, &first), ==, 409);
  g_assert_nonnull (session_id);
  g_assert_cmpuint (rpc_post (f, json, session_id, NULL, &answer), ==, 200);
  node = json_from_string (g_bytes_get_data (answer, NULL), &error);
  g_assert_no_error (error);
  result = json_object_get_string_member (json_node_get_object (node), "result");
  g_test_message ("%s", result);
  g_assert_nonnull (strstr (result, "Server redirect to 127.0.0.1 refused"));
  g_assert_cmpuint (f->public_a.hits, ==, 1);
  g_assert_cmpuint (f->canary.hits, ==, 0);
}

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  enter_namespace ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/outbound/address-classes", test_address_classes);
  ADD ("/outbound/torrent-redirect-to-loopback", test_torrent_redirect_to_loopback);
  ADD ("/outbound/redirect-to-ipv6-loopback", test_redirect_to_ipv6_loopback);
  ADD ("/outbound/redirect-to-localhost-name", test_redirect_to_localhost_name);
  ADD ("/outbound/redirect-to-private", test_redirect_to_private);
  ADD ("/outbound/own-port", test_own_port);
  ADD ("/outbound/public-to-public", test_public_to_public);
  ADD ("/outbound/local-tracker", test_local_tracker);
  ADD ("/outbound/rest-add-by-url", test_rest_add_by_url);
  ADD ("/outbound/rpc-add-by-url", test_rpc_add_by_url);

  return g_test_run ();
}
