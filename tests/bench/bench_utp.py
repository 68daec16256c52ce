#!/usr/bin/python3
"""uTP throughput on loopback, three pairs in one run, side by side:

  bttnode -> bttnode, bttnode -> libtorrent, libtorrent -> libtorrent (all over uTP)

  bench_utp.py --bttnode PATH [--mib N] [--runs N]

Prints MB/s and the CPU seconds both peers spent per GiB moved. libtorrent runs in this
process with TCP off (so it speaks uTP only); the bttnode pair dials uTP first. Never fails on
a slow machine: it reports what it measured (a transfer that does not finish is reported as
such). The goal is the bttnode pair at twice the libtorrent pair or more.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))
from scenario_lib import cpu_seconds, free_port, write_random  # noqa: E402
import lt_client  # noqa: E402

GIB = 1 << 30


def lt_session():
    port = free_port()
    s = lt.session(lt_client.loopback_settings(
        port, enable_outgoing_tcp=False, enable_incoming_tcp=False, enable_outgoing_utp=True,
        enable_incoming_utp=True, alert_mask=0))
    s.port = port
    return s


add = lt_client.add_torrent


def wait_log(path, text, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


class Bench:
    def __init__(self, bttnode, mib, work):
        self.bttnode = bttnode
        self.dir = work
        self.size = mib << 20
        self.src = os.path.join(work, "src")
        os.makedirs(self.src)
        write_random(os.path.join(self.src, "data.bin"), self.size)
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(self.src, "data.bin"))
        ct = lt.create_torrent(fs, 1 << 20, flags=lt.create_torrent.v1_only)
        lt.set_piece_hashes(ct, self.src)
        self.torrent = os.path.join(work, "data.torrent")
        with open(self.torrent, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        self.env = dict(os.environ, BTTNODE_STATE_DIR=os.path.join(work, "state"))
        self.n = 0

    def out(self):
        self.n += 1
        d = os.path.join(self.dir, "out%d" % self.n)
        os.makedirs(d)
        return d

    def spawn(self, name, argv):
        log = os.path.join(self.dir, "%s-%d.log" % (name, self.n))
        with open(log, "wb") as f:
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=self.env,
                                 start_new_session=True)
        p.logpath = log
        return p

    def seed(self):
        port = free_port()
        p = self.spawn("seed", [self.bttnode, "seed", self.torrent, "--data", self.src,
                                "--port", str(port)])
        if not wait_log(p.logpath, "seeding ", 120):
            p.kill()
            return None, None
        return p, port

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def bttnode_pair(self, timeout):
        seed, port = self.seed()
        if not seed:
            return None
        c0 = cpu_seconds(seed.pid)
        t0 = time.time()
        d = self.spawn("dl", [self.bttnode, "download", self.torrent, "--out", self.out(),
                              "--port", str(free_port()), "--peer", "127.0.0.1:%d" % port])
        try:
            _, status, ru = os.wait4(d.pid, 0) if timeout is None else wait4_timeout(d, timeout)
        except TimeoutError:
            self.stop(d)
            self.stop(seed)
            return None
        d.returncode = status
        wall = time.time() - t0
        cpu = cpu_seconds(seed.pid) - c0 + ru.ru_utime + ru.ru_stime
        self.stop(seed)
        return (wall, cpu) if status == 0 else None

    def bttnode_to_lt(self, timeout):
        seed, port = self.seed()
        if not seed:
            return None
        ses = lt_session()
        c0, p0 = cpu_seconds(seed.pid), time.process_time()
        t0 = time.time()
        h = add(ses, self.torrent, self.out())
        h.connect_peer(("127.0.0.1", port), 0)
        ok = wait_seeding(h, timeout)
        wall = time.time() - t0
        cpu = cpu_seconds(seed.pid) - c0 + time.process_time() - p0
        self.stop(seed)
        del ses
        return (wall, cpu) if ok else None

    def lt_pair(self, timeout):
        a, b = lt_session(), lt_session()
        add(a, self.torrent, self.src, seed=True)
        time.sleep(0.5)
        p0 = time.process_time()
        t0 = time.time()
        h = add(b, self.torrent, self.out())
        h.connect_peer(("127.0.0.1", a.port), 0)
        ok = wait_seeding(h, timeout)
        wall = time.time() - t0
        cpu = time.process_time() - p0
        del a, b
        return (wall, cpu) if ok else None


def wait4_timeout(p, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            return pid, status, ru
        time.sleep(0.01)
    raise TimeoutError()


def wait_seeding(h, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if h.status().is_seeding:
            return True
        time.sleep(0.02)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bttnode-bench-utp-")
    try:
        b = Bench(os.path.abspath(a.bttnode), a.mib, work)
        rows = []
        for name, fn in (("bttnode -> bttnode", b.bttnode_pair),
                         ("bttnode -> libtorrent", b.bttnode_to_lt),
                         ("libtorrent -> libtorrent", b.lt_pair)):
            best = None
            for _ in range(a.runs):
                r = fn(a.timeout)
                if r and (best is None or r[0] < best[0]):
                    best = r
            rows.append((name, best))
        print("uTP on loopback, %d MiB, best of %d" % (a.mib, a.runs))
        print("%-26s %10s %16s" % ("pair", "MB/s", "CPU s per GiB"))
        rate = {}
        for name, r in rows:
            if r is None:
                print("%-26s %10s %16s" % (name, "did not finish", "-"))
                continue
            wall, cpu = r
            rate[name] = b.size / wall / 1e6
            print("%-26s %10.1f %16.2f" % (name, rate[name], cpu * GIB / b.size))
        bt, ltp = rate.get("bttnode -> bttnode"), rate.get("libtorrent -> libtorrent")
        if bt and ltp:
            print("bttnode pair / libtorrent pair: %.2fx (goal 2x)" % (bt / ltp))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
