#!/usr/bin/python3
"""Checking benchmark: a transfer keeps its rate while many torrents are checked in the same
process, and torrents added at once all check within the time their data takes to hash
(prints figures, never fails on them).

  bench_checking.py --host PATH/bench_checking_host [--torrents 1000] [--torrent-mib 2]
                    [--big-mib 1024] [--rate-mib 40] [--work DIR]

bench_checking_host seeds one large torrent (upload limited to RATE MiB/s; 0: unlimited) to a
libtorrent leecher run here; once the transfer is steady it adds TORRENTS torrents of
TORRENT_MIB each at once, every one needing a full check, and reports the transfer's rate in
the 5 s before and while they were checked, and how long it took until all were checking or
seeding, and all seeding, beside the time a single thread takes only to hash the same data.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--torrent-mib", type=float, default=2)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--rate-mib", type=float, default=40)
    ap.add_argument("--work", help="keep the data here between runs")
    a = ap.parse_args()
    import libtorrent as lt

    work = a.work or tempfile.mkdtemp(prefix="bench-checking-")
    leech_dir = os.path.join(work, "leech")
    shutil.rmtree(leech_dir, ignore_errors=True)
    os.makedirs(leech_dir)
    host = subprocess.Popen(
        [a.host, work, str(a.torrents), str(int(a.torrent_mib * (1 << 20))),
         str(a.big_mib << 20), str(int(a.rate_mib * (1 << 20)))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = []
    got = threading.Condition()

    def reader():
        for line in host.stdout:
            with got:
                lines.append(line.strip())
                got.notify_all()

    threading.Thread(target=reader, daemon=True).start()

    def wait_for(prefix, timeout):
        deadline = time.time() + timeout
        with got:
            while time.time() < deadline:
                for l in lines:
                    if l.startswith(prefix):
                        return l
                got.wait(0.5)
        raise SystemExit("bench_checking_host said no %r in %d s" % (prefix, timeout))

    def value(prefix):
        return float(wait_for(prefix + " ", 1).split()[1])

    try:
        hash_line = wait_for("hash_only_s", 1800)
        port = int(wait_for("ready", 600).split()[1])
        ses = lt.session({
            "listen_interfaces": "127.0.0.1:0",
            "enable_outgoing_utp": False, "enable_incoming_utp": False, "enable_dht": False,
            "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        })
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(os.path.join(work, "big.torrent"))
        params.save_path = leech_dir
        h = ses.add_torrent(params)
        h.connect_peer(("127.0.0.1", port), 0)
        time.sleep(6)  # a steady transfer, and five seconds of it before the checks
        if h.status().progress >= 0.99:
            raise SystemExit("the transfer ended before the checks: raise --big-mib or lower --rate-mib")
        host.stdin.write("check\n")
        host.stdin.flush()
        wait_for("rate_ratio", 1800)
        progress = h.status().progress
        host.stdin.write("quit\n")
        host.stdin.flush()
        host.wait(30)
        hash_only = float(hash_line.split()[1])
        print("bench_checking: %d torrents of %.1f MiB (%.0f MiB), transfer of %d MiB limited to %s"
              % (a.torrents, a.torrent_mib, a.torrents * a.torrent_mib, a.big_mib,
                 "%.0f MiB/s" % a.rate_mib if a.rate_mib else "nothing"))
        print("  transfer rate   before %8.2f MiB/s   while checking %8.2f MiB/s   (%.1f%%)"
              % (value("rate_before_MiBps"), value("rate_while_MiBps"),
                 100 * value("rate_ratio")))
        print("  %d torrents     added in %.3f s; all checking or seeding after %.2f s; "
              "all seeding after %.2f s" % (a.torrents, value("add_s"),
                                            value("all_checking_or_seeding_s"),
                                            value("all_seeding_s")))
        print("  hashing alone   %.2f s (one thread, same data)" % hash_only)
        print("  leecher progress at the end: %.1f%%" % (100 * progress))
    finally:
        if host.poll() is None:
            host.kill()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
