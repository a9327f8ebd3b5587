#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/lt-swarm.py: the libtorrent side of bench/swarm. Run it with
# Debian's /usr/bin/python3 (python3-libtorrent is built for it).
#
#   lt-swarm.py create PAYLOAD OUT.torrent PIECE_BYTES TRACKER_URL
#       Write a private v1-only torrent of one file; print its info-hash.
#   lt-swarm.py seed TORRENT SAVE_DIR PORT
#       Check SAVE_DIR against TORRENT, print "ready" once seeding, then obey
#       commands read from stdin, one a line:
#         connect PORT   dial 127.0.0.1:PORT (for leechers that never dial
#                        loopback peers themselves, like Transmission)
#         begin NAME     start recording how many payload bytes go out per second
#         end NAME       print "timeline NAME: ..." (MiB sent in each second)
#         quit
#   lt-swarm.py leech TORRENT SAVE_DIR PORT HOST:PORT
#       Download TORRENT into SAVE_DIR from the peer HOST:PORT only (no
#       tracker), exit 0 once every piece has passed its hash check.
#
# Every session is TCP only, without DHT, local discovery or port mapping,
# and with protocol encryption disabled in both directions, so peers that
# do not speak MSE get a plain handshake on the first try.

import os
import select
import sys
import time

import libtorrent as lt

MIB = 1024 * 1024


def session(port):
    return lt.session({
        'listen_interfaces': '127.0.0.1:%d' % port,
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_incoming_utp': False,
        'enable_outgoing_utp': False,
        'allow_multiple_connections_per_ip': True,
        'out_enc_policy': lt.enc_policy.disabled,
        'in_enc_policy': lt.enc_policy.disabled,
        'hashing_threads': 2,
        'alert_mask': (lt.alert.category_t.error_notification
                       | lt.alert.category_t.status_notification),
    })


def report_errors(ses):
    finished = False
    for a in ses.pop_alerts():
        if isinstance(a, lt.torrent_finished_alert):
            finished = True
        elif a.category() & lt.alert.category_t.error_notification:
            print('libtorrent: %s' % a.message(), file=sys.stderr, flush=True)
    return finished


def add(ses, torrent, save_dir, trackers=True):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = os.path.abspath(save_dir)
    h = ses.add_torrent(atp)
    if not trackers:
        h.replace_trackers([])
    return h


def create(payload, out, piece, tracker):
    payload = os.path.abspath(payload)
    fs = lt.file_storage()
    lt.add_files(fs, payload)
    ct = lt.create_torrent(fs, int(piece), lt.create_torrent.v1_only)
    ct.set_priv(True)
    ct.add_tracker(tracker, 0)
    lt.set_piece_hashes(ct, os.path.dirname(payload))
    with open(out, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    print(str(lt.torrent_info(out).info_hashes().v1))


def seed(torrent, save_dir, port):
    ses = session(int(port))
    h = add(ses, torrent, save_dir)
    deadline = time.monotonic() + 600
    while not h.status().is_seeding:
        report_errors(ses)
        if time.monotonic() > deadline:
            sys.exit('seeder: still not seeding after 600 s (wrong SAVE_DIR?)')
        time.sleep(0.1)
    print('ready', flush=True)

    recording = None   # (name, start time, bytes sent at start, [bytes sent by each second])
    pending = b''
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        report_errors(ses)
        if recording:
            name, t0, up0, marks = recording
            elapsed = time.monotonic() - t0
            while len(marks) < int(elapsed):
                marks.append(h.status().total_payload_upload - up0)
        if not ready:
            continue
        chunk = os.read(0, 4096)
        if not chunk:
            break
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            cmd = line.decode().split()
            if not cmd:
                continue
            if cmd[0] == 'connect':
                h.connect_peer(('127.0.0.1', int(cmd[1])))
            elif cmd[0] == 'begin':
                recording = (cmd[1], time.monotonic(), h.status().total_payload_upload, [])
            elif cmd[0] == 'end' and recording:
                name, t0, up0, marks = recording
                total = h.status().total_payload_upload - up0
                per_second = [b - a for a, b in zip([0] + marks, marks + [total])]
                print('timeline %s: %s' % (name, ' '.join('%.0f' % (b / MIB) for b in per_second)),
                      flush=True)
                recording = None
            elif cmd[0] == 'quit':
                return


def leech(torrent, save_dir, port, peer):
    ses = session(int(port))
    h = add(ses, torrent, save_dir, trackers=False)
    host, peer_port = peer.rsplit(':', 1)
    h.connect_peer((host, int(peer_port)))
    deadline = time.monotonic() + 3600
    # torrent_finished_alert comes once every piece has passed its hash check.
    while not h.status().is_seeding:
        ses.wait_for_alert(1000)
        if report_errors(ses):
            break
        if time.monotonic() > deadline:
            sys.exit('leecher: not finished after an hour')


def main(argv):
    usage = ('usage: lt-swarm.py create PAYLOAD OUT PIECE TRACKER | '
             'seed TORRENT DIR PORT | leech TORRENT DIR PORT HOST:PORT')
    if len(argv) < 2:
        sys.exit(usage)
    cmd, args = argv[1], argv[2:]
    if cmd == 'create' and len(args) == 4:
        create(*args)
    elif cmd == 'seed' and len(args) == 3:
        seed(*args)
    elif cmd == 'leech' and len(args) == 4:
        leech(*args)
    else:
        sys.exit(usage)


if __name__ == '__main__':
    main(sys.argv)
