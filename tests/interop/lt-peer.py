#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A libtorrent peer for TorrentEdge's swarm tests. Run with Debian's
# interpreter (/usr/bin/python3): python3-libtorrent is built for it.
#
#   lt-peer.py seed TORRENT DATA_DIR --port N [--peer HOST:PORT]...
#                   [--upload-limit B/s] [--no-trackers] [--timeout S]
#   lt-peer.py leech TORRENT|MAGNET SAVE_DIR --port N [--peer HOST:PORT]...
#                   [--expect-pex] [--upload-limit B/s] [--no-trackers] [--timeout S]
#
# --no-trackers drops the torrent's trackers, for tests whose tracker must
# only hear from TorrentEdge.
#
# The session listens on 127.0.0.1:N only (0: any free port), over TCP only
# (no uTP), with DHT, local discovery, UPnP and NAT-PMP off, and accepts many
# connections from one address (every peer in a loopback swarm is
# 127.0.0.1). Libtorrent exempts local peers from rate limits through its
# local peer class; --upload-limit moves every address into the global class
# so that the limit holds on loopback too.
#
# Output is one JSON object per line on stdout:
#   {"event": "ready", "port": P}
#       seed: the data checked out and the first tracker replied (when the
#       torrent names one); leech: the torrent is added and listening.
#   {"event": "complete", "seconds": S}
#       leech: every piece passed its hash check.
#   {"event": "summary", "complete": B, "peers": [...], "pex_received": N}
#       leech: on completion (once a PEX message arrived, with --expect-pex);
#       seed: when stopped with SIGTERM or SIGINT; either: on timeout.
#
# Each entry of "peers" describes one remote peer, keyed by its peer id:
#   {"pid": hex, "pid_text": first 8 bytes ("-TE0100-"), "client": "...",
#    "endpoints": ["ip:port", ...], "blocks_from": N, "bytes_from": N,
#    "bytes_to": N, "pex_received": N}
# blocks_from counts block_finished_alert, which names the peer a block came
# from; bytes_from/bytes_to are the largest total_download/total_upload that
# peer_info reported (sampled every 100 ms, so a fast peer may be counted a
# little short; blocks_from is exact). A connection that TorrentEdge opened
# shows its ephemeral source port, so tests match peers by peer id prefix
# ("-TE"), not by address.
#
# PEX: libtorrent 2.0.8 (Debian's build keeps its logging) logs every ut_pex
# message it receives as a peer_log alert (category peer_log_notification),
# "<== PEX [ dropped: D added: A ]", and what it sends as "==> PEX_FULL" or
# "==> PEX_DIFF". pex_received counts the incoming ones. peer_info's source
# flags cannot tell: a peer first learnt from the tracker keeps that source.
#
# Exit status: 0 done, 2 timed out, 3 libtorrent reported an error.

import argparse
import json
import os
import signal
import sys
import time

import libtorrent as lt

POLL_MS = 100


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("lt-peer: %s\n" % msg)
    sys.stderr.flush()


def parse_peer(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        sys.exit("lt-peer: --peer takes HOST:PORT, not %r" % text)
    return host, int(port)


def make_session(port, upload_limit):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "user_agent": "lt-peer/%s" % lt.__version__,
        "alert_mask": lt.alert.category_t.error_notification
                      | lt.alert.category_t.status_notification
                      | lt.alert.category_t.storage_notification
                      | lt.alert.category_t.tracker_notification
                      | lt.alert.category_t.peer_notification
                      | lt.alert.category_t.block_progress_notification
                      | lt.alert.category_t.peer_log_notification,
    }
    ses = lt.session(settings)
    if upload_limit:
        # Local peers sit in an unlimited peer class by default.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
        settings = {"upload_rate_limit": upload_limit}
        ses.apply_settings(settings)
    return ses


def wait_listening(ses, deadline):
    while ses.listen_port() == 0:
        if time.monotonic() > deadline:
            log("never started listening")
            sys.exit(3)
        time.sleep(0.05)
    return ses.listen_port()


def endpoint_text(ep):
    return "%s:%d" % (ep[0], ep[1])


class Peers:
    """What each remote peer sent and received, keyed by peer id."""

    def __init__(self):
        self.by_key = {}

    def entry(self, pid, endpoint):
        raw = pid.to_bytes() if pid is not None else b""
        key = raw.hex() if any(raw) else "@" + endpoint
        e = self.by_key.get(key)
        if e is None:
            e = {"pid": raw.hex() if any(raw) else "",
                 "pid_text": raw[:8].decode("ascii", "replace") if any(raw) else "",
                 "client": "", "endpoints": [],
                 "blocks_from": 0, "bytes_from": 0, "bytes_to": 0, "pex_received": 0}
            self.by_key[key] = e
        if endpoint not in e["endpoints"]:
            e["endpoints"].append(endpoint)
        return e

    def sample(self, handle):
        for p in handle.get_peer_info():
            if not any(p.pid.to_bytes()):
                continue  # no handshake yet
            e = self.entry(p.pid, endpoint_text(p.ip))
            if p.client:
                client = p.client
                if isinstance(client, bytes):
                    client = client.decode("utf-8", "replace")
                e["client"] = client
            e["bytes_from"] = max(e["bytes_from"], p.total_download)
            e["bytes_to"] = max(e["bytes_to"], p.total_upload)

    def on_alert(self, a):
        if isinstance(a, lt.block_finished_alert):
            self.entry(a.pid, endpoint_text(a.endpoint))["blocks_from"] += 1
            return True
        if isinstance(a, lt.peer_log_alert):
            # ut_pex's log line for a message it received and parsed; what
            # it sends shows as "==> PEX_FULL" or "==> PEX_DIFF".
            if "<== PEX [" in a.message():
                self.entry(a.pid, endpoint_text(a.endpoint))["pex_received"] += 1
            return True
        return False

    def pex_total(self):
        return sum(e["pex_received"] for e in self.by_key.values())

    def report(self):
        return list(self.by_key.values())


stop_requested = False


def on_signal(signum, frame):
    global stop_requested
    stop_requested = True


def add_torrent(ses, source, save_path, upload_limit, no_trackers):
    if source.startswith("magnet:"):
        atp = lt.parse_magnet_uri(source)
        if no_trackers:
            atp.trackers = []
    else:
        atp = lt.add_torrent_params()
        with open(source, "rb") as f:
            meta = lt.bdecode(f.read())
        if no_trackers:
            meta.pop(b"announce", None)
            meta.pop(b"announce-list", None)
        atp.ti = lt.torrent_info(meta)
    atp.save_path = os.path.abspath(save_path)
    h = ses.add_torrent(atp)
    if upload_limit:
        h.set_upload_limit(upload_limit)
    return h


def run(args, seeding):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started = time.monotonic()
    deadline = started + args.timeout
    ses = make_session(args.port, args.upload_limit)
    port = wait_listening(ses, deadline)
    h = add_torrent(ses, args.torrent, args.data_dir, args.upload_limit, args.no_trackers)
    has_trackers = len(h.trackers()) > 0

    peers = Peers()
    ready = False
    tracker_replied = not has_trackers
    checked = False
    complete = False
    summary_due = False
    last_sample = 0.0

    def connect_peers():
        for host, peer_port in (parse_peer(p) for p in args.peer):
            h.connect_peer((host, peer_port))

    if not seeding:
        emit({"event": "ready", "port": port})
        ready = True
        connect_peers()

    status = 0
    while True:
        now = time.monotonic()
        if stop_requested:
            break
        if now > deadline:
            log("timed out after %.0f s" % args.timeout)
            status = 2
            break
        ses.wait_for_alert(POLL_MS)
        for a in ses.pop_alerts():
            if peers.on_alert(a):
                continue
            if isinstance(a, lt.torrent_error_alert):
                log(a.message())
                status = 3
            elif isinstance(a, lt.torrent_checked_alert):
                checked = True
            elif isinstance(a, lt.tracker_reply_alert):
                tracker_replied = True
            elif isinstance(a, lt.tracker_error_alert):
                log(a.message())
            elif isinstance(a, lt.torrent_finished_alert) and not seeding and not complete:
                complete = True
                peers.sample(h)
                emit({"event": "complete", "seconds": round(now - started, 1)})
        if status:
            break
        if now - last_sample >= POLL_MS / 1000.0:
            peers.sample(h)
            last_sample = now

        st = h.status()
        if seeding and checked and not ready:
            if not st.is_seeding:
                log("the data under %s does not match the torrent" % args.data_dir)
                status = 3
                break
            if tracker_replied:
                emit({"event": "ready", "port": port})
                ready = True
                connect_peers()
        if not seeding and complete and (not args.expect_pex or peers.pex_total() > 0):
            summary_due = True
            break

    peers.sample(h)
    emit({"event": "summary", "complete": bool(h.status().is_seeding),
          "progress": h.status().progress, "peers": peers.report(),
          "pex_received": peers.pex_total()})
    if status == 0 and not seeding and not summary_due:
        # Stopped before the download (or the PEX we waited for) was done.
        status = 2
    ses.pause()
    return status


def main():
    parser = argparse.ArgumentParser(prog="lt-peer.py")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("seed", "leech"):
        p = sub.add_parser(name)
        p.add_argument("torrent")
        p.add_argument("data_dir")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--peer", action="append", default=[])
        p.add_argument("--upload-limit", type=int, default=0)
        p.add_argument("--no-trackers", action="store_true")
        p.add_argument("--timeout", type=float, default=120.0)
        if name == "leech":
            p.add_argument("--expect-pex", action="store_true")
    args = parser.parse_args()
    sys.exit(run(args, args.command == "seed"))


if __name__ == "__main__":
    main()
