#!/usr/bin/python3
"""A libtorrent seeder whose upload is rate limited, for the daemon's restart scenarios:

  lt_seeder.py TORRENT --save DIR --port N --upload-limit BYTES_PER_S

Prints "seeding" once its data is checked, then runs until killed. Loopback peers are in
libtorrent's local peer class, which is unlimited by default: the limit is set on the
torrent and on that class both.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))
import lt_client  # noqa: E402
import libtorrent as lt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("torrent")
    ap.add_argument("--save", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upload-limit", type=int, required=True)
    a = ap.parse_args()
    ses = lt_client.session(a.port)
    ses.apply_settings({"upload_rate_limit": a.upload_limit})
    for cls in (ses.local_peer_class_id, ses.global_peer_class_id):
        info = ses.get_peer_class(cls)
        info["upload_limit"] = a.upload_limit
        ses.set_peer_class(cls, info)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(a.torrent)
    params.save_path = a.save
    h = ses.add_torrent(params)
    h.set_upload_limit(a.upload_limit)
    h.force_recheck()
    announced = False
    while True:
        s = h.status()
        if s.is_seeding and not announced:
            announced = True
            h.force_reannounce()
            print("seeding", flush=True)
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                print("error:", al.message(), file=sys.stderr, flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
