/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "te-hash.h"
#include "te-magnet.h"

#define V1_HEX    "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
#define V1_HEX_UC "C12FE1C06BBA254A9DC9F519B335AA7C1367A88A"
#define V1_B32    "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"
/* sha2-256 of the empty string, as a multihash. */
#define V2_HEX    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define V2_MH     "1220" V2_HEX
#define XT_V1     "xt=urn:btih:" V1_HEX
#define XT_V2     "xt=urn:btmh:" V2_MH

static const guint8 v1_bytes[20] = {
  0xc1, 0x2f, 0xe1, 0xc0, 0x6b, 0xba, 0x25, 0x4a, 0x9d, 0xc9,
  0xf5, 0x19, 0xb3, 0x35, 0xaa, 0x7c, 0x13, 0x67, 0xa8, 0x8a,
};

static const guint8 v2_bytes[32] = {
  0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
  0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

static TeMagnet *
parse_ok (const char *uri)
{
  g_autoptr(GError) error = NULL;
  TeMagnet *magnet = te_magnet_parse (uri, &error);

  g_assert_no_error (error);
  g_assert_nonnull (magnet);
  return magnet;
}

static void
assert_strings (GPtrArray         *array,
                const char * const *expected)
{
  guint n = g_strv_length ((char **) expected);

  g_assert_cmpuint (array->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (array, i), ==, expected[i]);
}

static void
assert_same_strings (GPtrArray *a,
                     GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, g_ptr_array_index (b, i));
}

static void
assert_magnet_equal (const TeMagnet *a,
                     const TeMagnet *b)
{
  g_assert_cmpint (a->has_v1, ==, b->has_v1);
  g_assert_cmpmem (a->info_hash, 20, b->info_hash, 20);
  g_assert_cmpint (a->has_v2, ==, b->has_v2);
  g_assert_cmpmem (a->info_hash_v2, 32, b->info_hash_v2, 32);
  g_assert_cmpstr (a->display_name, ==, b->display_name);
  assert_same_strings (a->trackers, b->trackers);
  assert_same_strings (a->web_seeds, b->web_seeds);
  assert_same_strings (a->peers, b->peers);
  g_assert_cmpmem (a->select_only->data, a->select_only->len * sizeof (TeMagnetRange),
                   b->select_only->data, b->select_only->len * sizeof (TeMagnetRange));
}

static void
test_parse_hex (void)
{
  g_autoptr(TeMagnet) magnet = parse_ok ("magnet:?xt=urn:btih:" V1_HEX_UC);

  g_assert_true (magnet->has_v1);
  g_assert_false (magnet->has_v2);
  g_assert_cmpmem (magnet->info_hash, 20, v1_bytes, 20);
  g_assert_null (magnet->display_name);
  g_assert_cmpuint (magnet->trackers->len, ==, 0);
  g_assert_cmpuint (magnet->web_seeds->len, ==, 0);
  g_assert_cmpuint (magnet->peers->len, ==, 0);
  g_assert_cmpuint (magnet->select_only->len, ==, 0);
}

static void
test_parse_base32 (void)
{
  g_autoptr(TeMagnet) upper = parse_ok ("magnet:?xt=urn:btih:" V1_B32);
  g_autofree char *lower_uri = g_ascii_strdown ("magnet:?xt=urn:btih:" V1_B32, -1);
  g_autoptr(TeMagnet) lower = parse_ok (lower_uri);

  g_assert_true (upper->has_v1);
  g_assert_cmpmem (upper->info_hash, 20, v1_bytes, 20);
  g_assert_true (lower->has_v1);
  g_assert_cmpmem (lower->info_hash, 20, v1_bytes, 20);
}

static void
test_parse_btmh (void)
{
  g_autoptr(TeMagnet) magnet = parse_ok ("magnet:?" XT_V2 "&dn=v2only");

  g_assert_false (magnet->has_v1);
  g_assert_true (magnet->has_v2);
  g_assert_cmpmem (magnet->info_hash_v2, 32, v2_bytes, 32);
  g_assert_cmpstr (magnet->display_name, ==, "v2only");
}

static void
test_hybrid (void)
{
  /* btmh first, numbered names, other namespaces and unknown names mixed in. */
  g_autoptr(TeMagnet) magnet =
    parse_ok ("magnet:?x.foo=bar&xt.1=urn:btmh:" V2_MH "&xt.2=urn:sha1:ABCDEF&"
              "xt.3=urn:btih:" V1_HEX "&xt.4=urn:btih:" V1_B32 "&&tr=udp://t.example:6969");

  g_assert_true (magnet->has_v1);
  g_assert_cmpmem (magnet->info_hash, 20, v1_bytes, 20);
  g_assert_true (magnet->has_v2);
  g_assert_cmpmem (magnet->info_hash_v2, 32, v2_bytes, 32);
  assert_strings (magnet->trackers, (const char *[]) { "udp://t.example:6969", NULL });
}

static void
test_display_name (void)
{
  g_autoptr(TeMagnet) magnet =
    parse_ok ("magnet:?dn=Caf%C3%A9+au+lait%2B%26%3D+%E2%9C%93&" XT_V1
              "&tr=http://t.example/a+b&dn=second");
  g_autoptr(TeMagnet) raw = parse_ok ("magnet:?" XT_V1 "&dn=Café");

  /* '+' is a space only in dn; the first dn wins. */
  g_assert_cmpstr (magnet->display_name, ==, "Café au lait+&= ✓");
  assert_strings (magnet->trackers, (const char *[]) { "http://t.example/a+b", NULL });
  g_assert_cmpstr (raw->display_name, ==, "Café");
}

static void
test_trackers (void)
{
  g_autoptr(TeMagnet) magnet =
    parse_ok ("magnet:?" XT_V1
              "&tr=udp%3A%2F%2Ftracker.example.org%3A1337%2Fannounce"
              "&tr.1=http://a.example/announce?passkey=x%253Dy"
              "&tr.2=udp://tracker.example.org:1337/announce"
              "&tr=https://[2001:db8::1]:8443/announce"
              "&tr=wss://w.example/ws&TR=ws://w.example/ws");

  assert_strings (magnet->trackers, (const char *[]) {
    "udp://tracker.example.org:1337/announce",
    "http://a.example/announce?passkey=x%3Dy",
    "https://[2001:db8::1]:8443/announce",
    "wss://w.example/ws",
    "ws://w.example/ws",
    NULL,
  });
}

static void
test_web_seeds (void)
{
  g_autoptr(TeMagnet) magnet =
    parse_ok ("magnet:?ws=http%3A%2F%2Fmirror.example%2Ffiles%2F&" XT_V1
              "&ws.1=https://cdn.example/a%2520b.iso&ws=http://mirror.example/files/");

  assert_strings (magnet->web_seeds, (const char *[]) {
    "http://mirror.example/files/",
    "https://cdn.example/a%20b.iso",
    NULL,
  });
  g_assert_cmpuint (magnet->trackers->len, ==, 0);
}

static void
test_web_seed_space (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMagnet) magnet = te_magnet_parse ("magnet:?" XT_V1 "&ws=https://cdn.example/a%20b.iso", &error);

  /* A decoded space makes it an invalid URL. */
  g_assert_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_BAD_PARAMETER);
  g_assert_null (magnet);
}

static void
test_peers (void)
{
  g_autoptr(TeMagnet) magnet =
    parse_ok ("magnet:?" XT_V1
              "&x.pe=192.0.2.7:6881&x.pe.1=%5B2001%3Adb8%3A%3A5%5D%3A51413"
              "&x.pe=[::1]:0080&x.pe=peer.example.net:1&x.pe=192.0.2.7:6881");

  assert_strings (magnet->peers, (const char *[]) {
    "192.0.2.7:6881",
    "[2001:db8::5]:51413",
    "[::1]:80",
    "peer.example.net:1",
    NULL,
  });
}

static void
test_select_only (void)
{
  static const TeMagnetRange expected[] = {
    { 0, 0 }, { 2, 2 }, { 4, 4 }, { 6, 8 }, { 10, 10 }, { 4294967295u, 4294967295u },
  };
  g_autoptr(TeMagnet) magnet = parse_ok ("magnet:?so=0,2,4,6-8&" XT_V1 "&so.1=10-10,4294967295");

  g_assert_cmpmem (magnet->select_only->data, magnet->select_only->len * sizeof (TeMagnetRange),
                   expected, sizeof expected);
}

static void
test_whitespace (void)
{
  g_autoptr(TeMagnet) magnet = parse_ok ("  \tMAGNET:?" XT_V1 "&dn=x\n");

  g_assert_cmpmem (magnet->info_hash, 20, v1_bytes, 20);
  g_assert_cmpstr (magnet->display_name, ==, "x");
}

static void
test_to_string (void)
{
  g_autoptr(TeMagnet) magnet =
    parse_ok ("magnet:?so=0,2,4-6,7-7&x.pe=[::1]:6881&ws=https://ws.example/f"
              "&tr=udp://t.example:1337/announce&tr=http://t.example/a?k=1%262"
              "&dn=a+b%26c%25+%C3%A9&" XT_V2 "&xt=urn:btih:" V1_B32);
  g_autofree char *s = te_magnet_to_string (magnet);
  g_autoptr(TeMagnet) empty = te_magnet_new ();
  g_autofree char *e = te_magnet_to_string (empty);

  g_assert_cmpstr (s, ==,
                   "magnet:?" XT_V1 "&" XT_V2 "&dn=a%20b%26c%25%20%C3%A9"
                   "&tr=udp://t.example:1337/announce&tr=http://t.example/a?k%3D1%262"
                   "&ws=https://ws.example/f&x.pe=%5B::1%5D:6881&so=0,2,4-6,7");
  g_assert_cmpstr (e, ==, "magnet:?");
}

static void
test_build (void)
{
  g_autoptr(TeMagnet) magnet = te_magnet_new ();
  g_autoptr(TeMagnet) back = NULL;
  g_autofree char *s = NULL;
  TeMagnetRange r = { 3, 5 };

  magnet->has_v1 = TRUE;
  memcpy (magnet->info_hash, v1_bytes, 20);
  magnet->display_name = g_strdup ("a&b=c+d#e%f");
  g_ptr_array_add (magnet->trackers, g_strdup ("http://t.example/ann?x=1&y=2"));
  g_array_append_val (magnet->select_only, r);

  s = te_magnet_to_string (magnet);
  g_assert_cmpstr (s, ==,
                   "magnet:?" XT_V1 "&dn=a%26b%3Dc%2Bd%23e%25f"
                   "&tr=http://t.example/ann?x%3D1%26y%3D2&so=3-5");
  back = parse_ok (s);
  assert_magnet_equal (magnet, back);
}

static void
test_round_trip (void)
{
  static const char * const uris[] = {
    "magnet:?" XT_V1,
    "magnet:?" XT_V2,
    "magnet:?xt=urn:btih:" V1_B32 "&" XT_V2 "&dn=Big+Buck+Bunny%20%F0%9F%90%B0",
    "magnet:?" XT_V1 "&tr=udp://a.example:1/x&tr=http://b.example/y?p=%2541&ws=http://w.example/",
    "magnet:?" XT_V1 "&x.pe=[fe80::1]:1&x.pe=10.0.0.1:65535&so=1-3,5,0",
    "magnet:?dn=%22quoted%22+%3Cangle%3E+%5Bsq%5D+%7Bcurly%7D+%5C&" XT_V1,
    "magnet:?" XT_V1 "&dn=~!$'()*,;:@/?&tr=wss://t.example/~a!$'()*,;:@/?q",
  };

  for (guint i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      g_autoptr(TeMagnet) first = parse_ok (uris[i]);
      g_autofree char *s1 = te_magnet_to_string (first);
      g_autoptr(TeMagnet) second = parse_ok (s1);
      g_autofree char *s2 = te_magnet_to_string (second);

      g_test_message ("round trip %u: %s -> %s", i, uris[i], s1);
      assert_magnet_equal (first, second);
      g_assert_cmpstr (s1, ==, s2);
    }
}

typedef struct {
  const char *uri;
  TeMagnetError code;
  const char *needle;   /* must appear in the message */
} Malformed;

static const Malformed malformed[] = {
  { "", TE_MAGNET_ERROR_NOT_MAGNET, "magnet:?" },
  { "http://example.com/file.torrent", TE_MAGNET_ERROR_NOT_MAGNET, "magnet:?" },
  { "magnet:xt=urn:btih:" V1_HEX, TE_MAGNET_ERROR_NOT_MAGNET, "magnet:?" },
  { "magnet:?", TE_MAGNET_ERROR_MISSING_HASH, "\"xt\"" },
  { "magnet:?dn=foo&tr=http://t.example/", TE_MAGNET_ERROR_MISSING_HASH, "\"xt\"" },
  { "magnet:?xt=urn:sha1:ABCDEF&xt=urn:btihx:" V1_HEX, TE_MAGNET_ERROR_MISSING_HASH, "\"xt\"" },
  { "magnet:?xt=urn:btih:abc", TE_MAGNET_ERROR_BAD_HASH, "\"xt\": info-hash \"abc\" is neither 40 hex" },
  { "magnet:?xt=urn:btih:g12fe1c06bba254a9dc9f519b335aa7c1367a88a", TE_MAGNET_ERROR_BAD_HASH, "\"xt\"" },
  { "magnet:?xt=urn:btih:" V1_HEX "0", TE_MAGNET_ERROR_BAD_HASH, "\"xt\"" },
  { "magnet:?xt=urn:btih:1EX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", TE_MAGNET_ERROR_BAD_HASH, "\"xt\"" },
  { "magnet:?" XT_V1 "&xt=urn:btih:" V2_HEX "00000000", TE_MAGNET_ERROR_BAD_HASH, "\"xt\"" },
  { "magnet:?" XT_V1 "&xt=urn:btih:d12fe1c06bba254a9dc9f519b335aa7c1367a88a", TE_MAGNET_ERROR_BAD_HASH,
    "\"xt\": two different urn:btih" },
  { "magnet:?xt=urn:btmh:1320" V2_HEX, TE_MAGNET_ERROR_BAD_HASH, "\"xt\": multihash" },
  { "magnet:?xt=urn:btmh:" V2_HEX, TE_MAGNET_ERROR_BAD_HASH, "\"xt\"" },
  { "magnet:?xt=urn:btmh:1220" V1_HEX, TE_MAGNET_ERROR_BAD_HASH, "\"xt\"" },
  { "magnet:?" XT_V2 "&xt=urn:btmh:1220" V1_HEX V1_HEX "ffffffffffffffffffffffff", TE_MAGNET_ERROR_BAD_HASH,
    "\"xt\"" },
  { "magnet:?xt=urn:btih:" V1_HEX "&dn=%zz", TE_MAGNET_ERROR_BAD_ENCODING, "\"dn\": bad percent-escape \"%zz\"" },
  { "magnet:?" XT_V1 "&dn=abc%4", TE_MAGNET_ERROR_BAD_ENCODING, "\"dn\"" },
  { "magnet:?" XT_V1 "&dn=a%00b", TE_MAGNET_ERROR_BAD_ENCODING, "\"dn\": value contains an encoded NUL" },
  { "magnet:?" XT_V1 "&dn=%FF%FEab", TE_MAGNET_ERROR_BAD_ENCODING, "\"dn\": display name is not valid UTF-8" },
  { "magnet:?" XT_V1 "&dn=a\tb", TE_MAGNET_ERROR_BAD_ENCODING, "\"dn\"" },
  { "magnet:?xt=urn%3Abtih%3A" V1_HEX "%G0", TE_MAGNET_ERROR_BAD_ENCODING, "\"xt\"" },
  { "magnet:?" XT_V1 "&tr=ftp://t.example/announce", TE_MAGNET_ERROR_BAD_PARAMETER, "\"tr\": URL" },
  { "magnet:?" XT_V1 "&tr=tracker.example", TE_MAGNET_ERROR_BAD_PARAMETER, "\"tr\"" },
  { "magnet:?" XT_V1 "&tr=udp://t.example/announce", TE_MAGNET_ERROR_BAD_PARAMETER, "\"tr\": UDP" },
  { "magnet:?" XT_V1 "&tr=http:///announce", TE_MAGNET_ERROR_BAD_PARAMETER, "\"tr\"" },
  { "magnet:?" XT_V1 "&tr=http://t.example/%0Aevil", TE_MAGNET_ERROR_BAD_PARAMETER, "\"tr\"" },
  { "magnet:?" XT_V1 "&tr=", TE_MAGNET_ERROR_BAD_PARAMETER, "\"tr\": empty value" },
  { "magnet:?" XT_V1 "&dn", TE_MAGNET_ERROR_BAD_PARAMETER, "\"dn\": empty value" },
  { "magnet:?" XT_V1 "&ws=udp://w.example:80/", TE_MAGNET_ERROR_BAD_PARAMETER, "\"ws\"" },
  { "magnet:?" XT_V1 "&ws=wss://w.example/", TE_MAGNET_ERROR_BAD_PARAMETER, "\"ws\"" },
  { "magnet:?" XT_V1 "&x.pe=192.0.2.1", TE_MAGNET_ERROR_BAD_PARAMETER, "\"x.pe\"" },
  { "magnet:?" XT_V1 "&x.pe=::1:6881", TE_MAGNET_ERROR_BAD_PARAMETER, "\"x.pe\"" },
  { "magnet:?" XT_V1 "&x.pe=[192.0.2.1]:6881", TE_MAGNET_ERROR_BAD_PARAMETER, "\"x.pe\"" },
  { "magnet:?" XT_V1 "&x.pe=host.example:70000", TE_MAGNET_ERROR_BAD_PARAMETER, "\"x.pe\"" },
  { "magnet:?" XT_V1 "&x.pe=host.example:0", TE_MAGNET_ERROR_BAD_PARAMETER, "\"x.pe\"" },
  { "magnet:?" XT_V1 "&x.pe=bad_host:80", TE_MAGNET_ERROR_BAD_PARAMETER, "\"x.pe\"" },
  { "magnet:?" XT_V1 "&so=1,,2", TE_MAGNET_ERROR_BAD_PARAMETER, "\"so\": \"1,,2\" is not a valid index list" },
  { "magnet:?" XT_V1 "&so=8-6", TE_MAGNET_ERROR_BAD_PARAMETER, "\"so\"" },
  { "magnet:?" XT_V1 "&so=-1", TE_MAGNET_ERROR_BAD_PARAMETER, "\"so\"" },
  { "magnet:?" XT_V1 "&so=4294967296", TE_MAGNET_ERROR_BAD_PARAMETER, "\"so\"" },
  { "magnet:?" XT_V1 "&so=1,2,", TE_MAGNET_ERROR_BAD_PARAMETER, "\"so\"" },
  { "magnet:?" XT_V1 "&so=1-", TE_MAGNET_ERROR_BAD_PARAMETER, "\"so\"" },
};

static void
test_malformed (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TeMagnet) magnet = NULL;

      g_test_message ("case %u: %s", i, malformed[i].uri);
      magnet = te_magnet_parse (malformed[i].uri, &error);
      g_assert_error (error, TE_MAGNET_ERROR, (gint) malformed[i].code);
      g_assert_null (magnet);
      g_assert_nonnull (strstr (error->message, malformed[i].needle));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

static void
test_too_long (void)
{
  g_autoptr(GString) uri = g_string_new ("magnet:?" XT_V1 "&dn=");
  g_autoptr(GString) many = g_string_new ("magnet:?" XT_V1);
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMagnet) magnet = NULL;

  /* Exactly at the limit is fine. */
  while (uri->len < TE_MAGNET_MAX_LENGTH)
    g_string_append_c (uri, 'a');
  magnet = parse_ok (uri->str);
  g_assert_cmpuint (strlen (magnet->display_name), ==, TE_MAGNET_MAX_LENGTH - strlen ("magnet:?" XT_V1 "&dn="));
  g_clear_pointer (&magnet, te_magnet_free);

  g_string_append_c (uri, 'a');
  magnet = te_magnet_parse (uri->str, &error);
  g_assert_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_TOO_LONG);
  g_assert_nonnull (strstr (error->message, "65536"));
  g_assert_null (magnet);
  g_clear_error (&error);

  for (guint i = 0; i < 200; i++)
    g_string_append_printf (many, "&tr.%u=http://t%u.example/", i, i);
  magnet = parse_ok (many->str);
  g_assert_cmpuint (magnet->trackers->len, ==, 200);
  g_assert_cmpstr (g_ptr_array_index (magnet->trackers, 199), ==, "http://t199.example/");
  g_clear_pointer (&magnet, te_magnet_free);

  g_string_append (many, "&tr=http://t0.example/");
  magnet = te_magnet_parse (many->str, &error);
  g_assert_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_TOO_LONG);
  g_assert_nonnull (strstr (error->message, "\"tr\""));
  g_assert_null (magnet);
}

static void
test_long_value_message (void)
{
  g_autoptr(GString) uri = g_string_new ("magnet:?xt=urn:btih:");
  g_autoptr(GError) error = NULL;
  g_autoptr(TeMagnet) magnet = NULL;

  for (guint i = 0; i < 1000; i++)
    g_string_append (uri, "%C3");
  magnet = te_magnet_parse (uri->str, &error);
  g_assert_error (error, TE_MAGNET_ERROR, TE_MAGNET_ERROR_BAD_HASH);
  g_assert_null (magnet);
  /* Quoted values are cut short and escaped. */
  g_assert_cmpuint (strlen (error->message), <, 400);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/te/magnet/parse-hex", test_parse_hex);
  g_test_add_func ("/te/magnet/parse-base32", test_parse_base32);
  g_test_add_func ("/te/magnet/parse-btmh", test_parse_btmh);
  g_test_add_func ("/te/magnet/hybrid", test_hybrid);
  g_test_add_func ("/te/magnet/display-name", test_display_name);
  g_test_add_func ("/te/magnet/trackers", test_trackers);
  g_test_add_func ("/te/magnet/web-seeds", test_web_seeds);
  g_test_add_func ("/te/magnet/web-seed-space", test_web_seed_space);
  g_test_add_func ("/te/magnet/peers", test_peers);
  g_test_add_func ("/te/magnet/select-only", test_select_only);
  g_test_add_func ("/te/magnet/whitespace", test_whitespace);
  g_test_add_func ("/te/magnet/to-string", test_to_string);
  g_test_add_func ("/te/magnet/build", test_build);
  g_test_add_func ("/te/magnet/round-trip", test_round_trip);
  g_test_add_func ("/te/magnet/malformed", test_malformed);
  g_test_add_func ("/te/magnet/too-long", test_too_long);
  g_test_add_func ("/te/magnet/long-value-message", test_long_value_message);

  return g_test_run ();
}
