#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A hostile peer for TorrentEdge's swarm tests: it claims every piece and
# answers every request at once with random bytes, so every piece it serves
# fails its hash check.
#
#   bad-peer.py TORRENT --host ADDRESS --port N
#
# It listens on ADDRESS:N (N = 0: any free port) and never dials out. It
# answers the BitTorrent handshake for the torrent's info-hash (v1, or the
# truncated v2 hash) with no extension bits, sends a full bitfield and
# unchokes at once. Run it with Debian's /usr/bin/python3: it reads the
# torrent with python3-libtorrent.
#
# Output is one JSON object per line on stdout:
#   {"event": "ready", "port": P}
#   {"event": "connection", "count": N, "at": seconds since ready}
#   {"event": "closed", "count": N, "requests": R, "at": seconds since ready}
#       a connection ended (N so far), after R requests on it
#   {"event": "summary", "connections": N, "closed": N, "handshakes": N,
#    "requests": N, "blocks_sent": N, "bytes_sent": N,
#    "last_request_at": seconds or null}
# The summary comes when it is stopped with SIGTERM or SIGINT; it then exits 0.

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

import libtorrent as lt

PROTOCOL = b"BitTorrent protocol"
MAX_BLOCK = 128 * 1024

MSG_UNCHOKE = 1
MSG_INTERESTED = 2
MSG_BITFIELD = 5
MSG_REQUEST = 6
MSG_PIECE = 7

lock = threading.Lock()
stats = {"connections": 0, "closed": 0, "handshakes": 0, "requests": 0, "blocks_sent": 0,
         "bytes_sent": 0, "last_request_at": None}
started = time.monotonic()
stop = threading.Event()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return bytes(buf)


def send_message(sock, msg_id, payload=b""):
    sock.sendall(struct.pack(">IB", 1 + len(payload), msg_id) + payload)


def serve(sock, info_hashes, n_pieces):
    requests = 0
    try:
        sock.settimeout(60)
        pstrlen = recv_exact(sock, 1)[0]
        if recv_exact(sock, pstrlen) != PROTOCOL:
            return
        recv_exact(sock, 8)
        info_hash = recv_exact(sock, 20)
        recv_exact(sock, 20)
        if info_hash not in info_hashes:
            return
        with lock:
            stats["handshakes"] += 1
        peer_id = b"-BP0001-" + os.urandom(12)
        sock.sendall(bytes([len(PROTOCOL)]) + PROTOCOL + bytes(8) + info_hash + peer_id)

        bits = bytearray((n_pieces + 7) // 8)
        for i in range(n_pieces):
            bits[i // 8] |= 0x80 >> (i % 8)
        send_message(sock, MSG_BITFIELD, bytes(bits))
        send_message(sock, MSG_UNCHOKE)

        while not stop.is_set():
            length = struct.unpack(">I", recv_exact(sock, 4))[0]
            if length == 0:
                continue  # keep-alive
            body = recv_exact(sock, length)
            msg_id = body[0]
            if msg_id == MSG_INTERESTED:
                send_message(sock, MSG_UNCHOKE)
            elif msg_id == MSG_REQUEST and length == 13:
                index, begin, size = struct.unpack(">III", body[1:13])
                if size == 0 or size > MAX_BLOCK or index >= n_pieces:
                    return
                requests += 1
                with lock:
                    stats["requests"] += 1
                    stats["last_request_at"] = round(time.monotonic() - started, 2)
                send_message(sock, MSG_PIECE, struct.pack(">II", index, begin) + os.urandom(size))
                with lock:
                    stats["blocks_sent"] += 1
                    stats["bytes_sent"] += size
    except (OSError, ConnectionError):
        pass
    finally:
        sock.close()
        with lock:
            stats["closed"] += 1
            closed = stats["closed"]
        emit({"event": "closed", "count": closed, "requests": requests,
              "at": round(time.monotonic() - started, 2)})


def on_signal(signum, frame):
    stop.set()


def main():
    parser = argparse.ArgumentParser(prog="bad-peer.py")
    parser.add_argument("torrent")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    ti = lt.torrent_info(args.torrent)
    hashes = ti.info_hashes()
    info_hashes = set()
    if hashes.has_v1():
        info_hashes.add(hashes.v1.to_bytes())
    if hashes.has_v2():
        info_hashes.add(hashes.v2.to_bytes()[:20])

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(16)
    listener.settimeout(0.2)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    global started
    started = time.monotonic()
    emit({"event": "ready", "port": listener.getsockname()[1]})

    while not stop.is_set():
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            if stop.is_set():
                break
            raise
        with lock:
            stats["connections"] += 1
            count = stats["connections"]
        emit({"event": "connection", "count": count,
              "at": round(time.monotonic() - started, 2)})
        threading.Thread(target=serve, args=(sock, info_hashes, ti.num_pieces()),
                         daemon=True).start()

    listener.close()
    with lock:
        summary = dict(stats)
    summary["event"] = "summary"
    emit(summary)


if __name__ == "__main__":
    main()
