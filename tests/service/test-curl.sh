#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# curl against `torrentedge-cli daemon`: log in, list, add by upload, and the
# password the daemon makes when none is set. TAP output.
set -u

CLI=${TE_CLI:?set by meson}
dir=$(mktemp -d "${TMPDIR:-/tmp}/te-curl.XXXXXX")
pid=
n=0
failed=0

cleanup () {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

ok () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

json () {
  /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# Starts the daemon in $1 (state dir); sets $pid and $port.
start_daemon () {
  sd=$1
  shift
  : > "$sd.out"
  env DOWNLOAD_PATH="$dir/downloads" RPC_PORT=0 "$@" 2>"$sd.err" &
  pid=$!
  port=
  for _ in $(seq 1 100); do
    port=$(grep '"daemon:rpc"' "$sd.out" 2>/dev/null | json 'd["data"]["port"]' 2>/dev/null)
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  return 1
}

echo "1..9"
command -v curl >/dev/null || { echo "Bail out! curl is missing"; exit 1; }

mkdir -p "$dir/payload" "$dir/downloads"
head -c 300000 /dev/urandom > "$dir/payload/data.bin"
"$CLI" create -o "$dir/file.torrent" "$dir/payload" >/dev/null 2>&1
ok $? "create a torrent"

state="$dir/state"
mkdir -p "$state"
start_daemon "$state" RPC_USERNAME=alice RPC_PASSWORD=s3cret sh -c "exec \"$CLI\" daemon --state-dir \"$state\" --port 0 > \"$state.out\""
ok $? "daemon announces its API port"
base="http://127.0.0.1:$port"

code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/torrents")
[ "$code" = 401 ]; ok $? "no token: 401 (got $code)"

token=$(curl -s -f -H 'Content-Type: application/json' -d '{"username":"alice","password":"s3cret"}' \
        "$base/api/v1/auth/login" | json 'd["token"]')
[ -n "$token" ]; ok $? "login returns a token"

count=$(curl -s -f --compressed -H "Authorization: Bearer $token" "$base/api/v1/torrents" | json 'len(d["torrents"])')
[ "$count" = 0 ]; ok $? "list is empty at first (got $count)"

code=$(curl -s -o "$dir/added.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
       -F "torrent=@$dir/file.torrent;type=application/x-bittorrent" "$base/api/v1/torrents")
[ "$code" = 201 ] && [ "$(json 'd["name"]' < "$dir/added.json")" = payload ]; ok $? "add by upload: 201 (got $code)"

names=$(curl -s -f -H "Authorization: Bearer $token" "$base/api/v1/torrents?fields=id,name" | json '",".join(t["name"] for t in d["torrents"])')
[ "$names" = payload ]; ok $? "list shows it (got $names)"
kill "$pid"; wait "$pid"; pid=

# No password configured: one is made, printed once, and only its hash kept.
state2="$dir/state2"
mkdir -p "$state2"
start_daemon "$state2" sh -c "exec \"$CLI\" daemon --state-dir \"$state2\" --port 0 > \"$state2.out\""
password=$(sed -n 's/^  password: //p' "$state2.err")
[ -n "$password" ] && ! grep -rq "$password" "$state2"; ok $? "a made password is shown once and not stored"
base="http://127.0.0.1:$port"
token=$(curl -s -f -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$password\"}" \
        "$base/api/v1/auth/login" | json 'd["token"]')
[ -n "$token" ]; ok $? "the made password logs in"
exit $failed
