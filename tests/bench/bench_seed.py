#!/usr/bin/python3
"""Seeding benchmark on loopback over TCP (prints figures, never fails on speed).

  bench_seed.py --bttnode PATH [--size-mib 1024] [--cases bt-lt,lt-lt,bt-bt]

Runs, with one torrent of SIZE MiB:
  1. bttnode seeds to a libtorrent leecher,
  2. libtorrent seeds to the same kind of leecher (libtorrent -> libtorrent),
  3. bttnode seeds to a bttnode leecher,
and prints MB/s, the seeder's CPU seconds per GiB (user+system from /proc, counted from
the moment the seeder is ready, so the start-up check is left out) and the leecher's.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(HERE))
from scenario_lib import cpu_seconds, free_port, rss_kib  # noqa: E402

LT_CLIENT = os.path.join(HERE, "..", "interop", "lt_client.py")
PY = "/usr/bin/python3"
def wait_for(path, needle, proc, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path, "rb") as f:
            if needle in f.read():
                return
        if proc.poll() is not None:
            raise RuntimeError("seeder exited early: see %s" % path)
        time.sleep(0.1)
    raise RuntimeError("seeder not ready: see %s" % path)


def run_case(work, name, seeder_cmd, ready, leecher_cmd, size):
    log = os.path.join(work, name + "-seed.log")
    seeder = subprocess.Popen(seeder_cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(log, ready, seeder, 600)
        time.sleep(0.5)
        cpu0 = cpu_seconds(seeder.pid)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        rc = subprocess.run(leecher_cmd, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, name + "-leech.log"), "wb")).returncode
        elapsed = time.time() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        leech_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        cpu = cpu_seconds(seeder.pid) - cpu0
        rss = rss_kib(seeder.pid)
    finally:
        seeder.terminate()
        try:
            seeder.wait(timeout=20)
        except subprocess.TimeoutExpired:
            seeder.kill()
    gib = size / 2**30
    status = "ok" if rc == 0 else "leecher exit %d" % rc
    print("%-26s %7.1f MB/s  seeder CPU %5.2f s/GiB  leecher CPU %5.2f s/GiB  "
          "seeder RSS %6.1f MiB  (%s)"
          % (name, size / elapsed / 1e6, cpu / gib, leech_cpu / gib, rss / 1024, status),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--cases", default="bt-lt,lt-lt,bt-bt",
                    help="comma-separated subset of bt-lt, lt-lt, bt-bt (seeder-leecher)")
    ap.add_argument("--leech-prefix", default="",
                    help="command put before the bttnode leecher, e.g. 'perf record -g -o F --'")
    a = ap.parse_args()
    cases = set(a.cases.split(","))
    leech_prefix = a.leech_prefix.split()
    unknown = cases - {"bt-lt", "lt-lt", "bt-bt"}
    if unknown:
        ap.error("unknown case(s): " + ",".join(sorted(unknown)))
    work = tempfile.mkdtemp(prefix="bttnode-bench-")
    env_state = os.path.join(work, "state")
    os.environ["BTTNODE_STATE_DIR"] = env_state
    try:
        src = os.path.join(work, "src")
        os.makedirs(src)
        data = os.path.join(src, "big.bin")
        size = a.size_mib * 2**20
        with open(data, "wb") as f, open("/dev/urandom", "rb") as r:
            for _ in range(a.size_mib):
                f.write(r.read(2**20))
        torrent = os.path.join(work, "big.torrent")
        subprocess.run([PY, LT_CLIENT, "make-torrent", data, torrent, "--piece-size",
                        str(1 << 20)], check=True, stdout=subprocess.DEVNULL)
        print("payload %d MiB, piece 1 MiB, TCP on 127.0.0.1" % a.size_mib, flush=True)

        def out_dir(n):
            d = os.path.join(work, "out-" + n)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            return d

        def lt_leech(port, n):
            return [PY, LT_CLIENT, "download", torrent, "--save", out_dir(n), "--port",
                    str(free_port()), "--peer", "127.0.0.1:%d" % port, "--timeout", "900"]

        if "bt-lt" in cases:
            p = free_port()
            run_case(work, "bttnode -> libtorrent",
                     [a.bttnode, "seed", torrent, "--data", src, "--port", str(p)], b"seeding ",
                     lt_leech(p, "a"), size)
        if "lt-lt" in cases:
            p = free_port()
            run_case(work, "libtorrent -> libtorrent",
                     [PY, LT_CLIENT, "seed", torrent, "--save", src, "--port", str(p)],
                     b"seeding", lt_leech(p, "b"), size)
        if "bt-bt" in cases:
            p = free_port()
            run_case(work, "bttnode -> bttnode",
                     [a.bttnode, "seed", torrent, "--data", src, "--port", str(p)],
                     b"seeding ",
                     leech_prefix + [a.bttnode, "download", torrent, "--out", out_dir("c"),
                                     "--port", str(free_port()), "--peer", "127.0.0.1:%d" % p],
                     size)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
