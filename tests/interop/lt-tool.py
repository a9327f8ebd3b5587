#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Reference answers from libtorrent for TorrentEdge's interop tests.
# Run with Debian's interpreter (/usr/bin/python3): python3-libtorrent is
# built for it.
#
#   lt-tool.py create SRC OUT --v1|--v2|--hybrid [--piece-size N] [--tracker URL]...
#   lt-tool.py info FILE
#   lt-tool.py verify FILE SAVE_PATH

import argparse
import json
import os
import sys
import time

import libtorrent as lt

CHECK_TIMEOUT = 120.0


def hex_or_none(digest, present):
    if not present:
        return None
    return digest.to_bytes().hex()


def cmd_create(args):
    src = os.path.abspath(args.src)
    fs = lt.file_storage()
    lt.add_files(fs, src)
    if fs.num_files() == 0:
        sys.exit("lt-tool: no files under %s" % src)

    if args.kind == "v1":
        flags = lt.create_torrent.v1_only
    elif args.kind == "v2":
        flags = lt.create_torrent.v2_only
    else:
        flags = 0

    ct = lt.create_torrent(fs, args.piece_size, flags)
    for tier, url in enumerate(args.tracker):
        ct.add_tracker(url, tier)
    ct.set_creator("lt-tool (libtorrent %s)" % lt.__version__)
    lt.set_piece_hashes(ct, os.path.dirname(src))

    with open(args.out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def real_files(fs):
    files = []
    for i in range(fs.num_files()):
        if fs.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        files.append({"path": fs.file_path(i), "length": fs.file_size(i)})
    return files


def cmd_info(args):
    ti = lt.torrent_info(args.file)
    hashes = ti.info_hashes()
    files = real_files(ti.files())
    out = {
        "name": ti.name(),
        "infoHash": hex_or_none(hashes.v1, hashes.has_v1()),
        "infoHashV2": hex_or_none(hashes.v2, hashes.has_v2()),
        "pieceCount": ti.num_pieces(),
        "pieceLength": ti.piece_length(),
        "totalSize": sum(f["length"] for f in files),
        "files": files,
    }
    print(json.dumps(out))


def make_session():
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.error_notification
                      | lt.alert.category_t.status_notification
                      | lt.alert.category_t.storage_notification,
    }
    return lt.session(settings)


def cmd_verify(args):
    ti = lt.torrent_info(args.file)
    ses = make_session()

    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = os.path.abspath(args.save_path)
    # libtorrent does not hash-check a paused torrent, so add it running with
    # stop_when_ready: it pauses itself as soon as checking is done. There is
    # no resume data, so this first check hashes every piece on disk, which
    # is the recheck we want.
    atp.flags = lt.torrent_flags.stop_when_ready
    h = ses.add_torrent(atp)

    deadline = time.monotonic() + CHECK_TIMEOUT
    checked = False
    while not checked:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            sys.exit("lt-tool: timed out waiting for libtorrent's check")
        ses.wait_for_alert(int(min(remaining, 1.0) * 1000))
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                checked = True
            elif isinstance(a, lt.torrent_error_alert):
                sys.exit("lt-tool: %s" % a.message())

    bad = [i for i in range(ti.num_pieces()) if not h.have_piece(i)]
    print(json.dumps({"badPieces": bad}))
    ses.remove_torrent(h)


def main():
    parser = argparse.ArgumentParser(prog="lt-tool.py")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("create")
    p.add_argument("src")
    p.add_argument("out")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--v1", dest="kind", action="store_const", const="v1")
    kind.add_argument("--v2", dest="kind", action="store_const", const="v2")
    kind.add_argument("--hybrid", dest="kind", action="store_const", const="hybrid")
    p.add_argument("--piece-size", type=int, default=0)
    p.add_argument("--tracker", action="append", default=[])
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("info")
    p.add_argument("file")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("verify")
    p.add_argument("file")
    p.add_argument("save_path")
    p.set_defaults(func=cmd_verify)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
