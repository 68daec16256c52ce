#!/usr/bin/python3
"""A libtorrent peer for the interop tests (python3-libtorrent, uTP off, TCP on loopback).

  lt_client.py make-torrent SRC OUT.torrent --tracker URL [--piece-size N]
  lt_client.py download (TORRENT|MAGNET) --save DIR --port N [--peer HOST:PORT]... [--timeout S]
  lt_client.py seed TORRENT --save DIR --port N [--peer HOST:PORT]... [--corrupt]
                           [--upload-limit BYTES_PER_S]
  lt_client.py info-hash TORRENT

--encrypted: message stream encryption forced both ways (no plaintext peers).
--utp-only: uTP instead of TCP, both ways.
--fast-poll: look at the peers every 2 ms (as --encrypted does), to log their encryption.
--upload-limit: the seeder's upload rate. Loopback peers are in libtorrent's local peer
class, which is unlimited by default: the limit is set on the torrent and on that class both.

download exits 0 once the torrent is complete (and, for a magnet, writes nothing else);
seed runs until killed. Progress goes to stderr.
"""
import argparse
import os
import sys
import time

import libtorrent as lt


def loopback_settings(port, **overrides):
    """A libtorrent session on 127.0.0.1:port that finds no one by itself: TCP only, no DHT, LSD
    or port mapping, and many peers on the one address. `overrides` are settings_pack keys."""
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification,
    }
    settings.update(overrides)
    return settings


def add_torrent(ses, torrent, save, seed=False):
    """Adds a .torrent file; seed: the data is known complete (no check)."""
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = save
    if seed:
        p.flags |= lt.torrent_flags.seed_mode
    return ses.add_torrent(p)


def session(port, encrypted=False, utp_only=False):
    settings = loopback_settings(
        port,
        enable_outgoing_utp=utp_only,
        enable_incoming_utp=utp_only,
        enable_outgoing_tcp=not utp_only,
        enable_incoming_tcp=not utp_only,
        alert_mask=lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification,
        announce_to_all_trackers=True,
        announce_to_all_tiers=True)
    if encrypted:
        # Message stream encryption only, offered and accepted: no plaintext connection.
        settings["out_enc_policy"] = int(lt.enc_policy.forced)
        settings["in_enc_policy"] = int(lt.enc_policy.forced)
        settings["allowed_enc_level"] = int(lt.enc_level.both)
    return lt.session(settings)


RC4_ENCRYPTED = 1 << 19
PLAINTEXT_ENCRYPTED = 1 << 20


def note_encryption(h, seen):
    """Records how the peers of h are encrypted; prints each kind once."""
    for p in h.get_peer_info():
        if p.flags & (lt.peer_info.handshake | lt.peer_info.connecting):
            continue  # the encryption is known once the handshake is through
        kind = ("rc4" if p.flags & RC4_ENCRYPTED else
                "plaintext-method" if p.flags & PLAINTEXT_ENCRYPTED else "none")
        if kind not in seen:
            seen.add(kind)
            print("peer encryption: %s" % kind, file=sys.stderr, flush=True)


def add_peers(handle, peers):
    for p in peers or []:
        host, _, port = p.rpartition(":")
        handle.connect_peer((host.strip("[]"), int(port)), 0)


def cmd_make_torrent(a):
    fs = lt.file_storage()
    lt.add_files(fs, a.src)
    flags = lt.create_torrent.v1_only
    ct = lt.create_torrent(fs, a.piece_size, flags=flags)
    for t in a.tracker or []:
        ct.add_tracker(t)
    ct.set_creator("bttnode interop tests")
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(a.src)))
    with open(a.out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    print(str(lt.torrent_info(a.out).info_hash()))


def add(ses, a, seed):
    if a.source.startswith("magnet:"):
        params = lt.parse_magnet_uri(a.source)
        params.save_path = a.save
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(a.source)
        params.save_path = a.save
    if seed:
        params.flags |= lt.torrent_flags.seed_mode if a.corrupt else 0
    return ses.add_torrent(params)


def cmd_download(a):
    ses = session(a.port, a.encrypted, a.utp_only)
    seen = set()
    h = add(ses, a, False)
    add_peers(h, a.peer)
    deadline = time.time() + a.timeout
    last = 0
    while time.time() < deadline:
        s = h.status()
        note_encryption(h, seen)
        if s.has_metadata and s.is_seeding:
            # Make sure the data is on disk before the test compares files.
            h.flush_cache()
            time.sleep(0.5)
            print("complete", file=sys.stderr)
            return 0
        if time.time() - last > 2:
            last = time.time()
            print("state %s progress %.3f peers %d" % (s.state, s.progress, s.num_peers),
                  file=sys.stderr)
            add_peers(h, a.peer) if s.num_peers == 0 else None
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                print("error:", al.message(), file=sys.stderr)
        time.sleep(0.002 if a.encrypted or a.fast_poll else 0.2)
    print("timed out", file=sys.stderr)
    return 1


def limit_upload(ses, h, rate):
    ses.apply_settings({"upload_rate_limit": rate})
    for cls in (ses.local_peer_class_id, ses.global_peer_class_id):
        info = ses.get_peer_class(cls)
        info["upload_limit"] = rate
        ses.set_peer_class(cls, info)
    h.set_upload_limit(rate)


def cmd_seed(a):
    ses = session(a.port, a.encrypted, a.utp_only)
    seen = set()
    h = add(ses, a, True)
    if a.upload_limit:
        limit_upload(ses, h, a.upload_limit)
    if not a.corrupt:
        h.force_recheck()
    add_peers(h, a.peer)
    announced = False
    while True:
        s = h.status()
        if s.is_seeding and not announced:
            announced = True
            h.force_reannounce()
            print("seeding", flush=True)
        note_encryption(h, seen)
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                print("error:", al.message(), file=sys.stderr, flush=True)
        # Often enough to see the peer of a transfer over in tens of milliseconds.
        time.sleep(0.002 if a.encrypted or a.fast_poll else 0.2)


def cmd_info_hash(a):
    print(str(lt.torrent_info(a.source).info_hash()))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-torrent")
    m.add_argument("src")
    m.add_argument("out")
    m.add_argument("--tracker", action="append")
    m.add_argument("--piece-size", type=int, default=32768)
    for name in ("download", "seed"):
        d = sub.add_parser(name)
        d.add_argument("source")
        d.add_argument("--save", required=True)
        d.add_argument("--port", type=int, required=True)
        d.add_argument("--peer", action="append")
        d.add_argument("--timeout", type=float, default=120)
        d.add_argument("--corrupt", action="store_true")
        d.add_argument("--encrypted", action="store_true")
        d.add_argument("--utp-only", action="store_true")
        d.add_argument("--fast-poll", action="store_true")
        d.add_argument("--upload-limit", type=int, default=0)
    i = sub.add_parser("info-hash")
    i.add_argument("source")
    a = ap.parse_args()
    return {"make-torrent": cmd_make_torrent, "download": cmd_download, "seed": cmd_seed,
            "info-hash": cmd_info_hash}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main() or 0)
