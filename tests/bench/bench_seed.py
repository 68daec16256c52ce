#!/usr/bin/python3
"""Seeding benchmark on loopback over TCP (prints figures, never fails on speed).

  bench_seed.py --bttnode PATH [--size-mib 1024] [--cases bt-lt,lt-lt,bt-bt] [--runs 1]
                [--out-dir DIR]

Runs, with one torrent of SIZE MiB:
  1. bttnode seeds to a libtorrent leecher,
  2. libtorrent seeds to the same kind of leecher (libtorrent -> libtorrent),
  3. bttnode seeds to a bttnode leecher,
and prints MB/s, the seeder's CPU seconds per GiB (user+system from /proc, counted from
the moment the seeder is ready, so the start-up check is left out) and the leecher's, then
the ratios of bttnode to libtorrent (medians when --runs is above 1).

Every leecher writes to the same place: --out-dir, by default /dev/shm when it has room, so
that the figures are those of the peers and not of the machine's disk. On a small virtual
machine the disk caps a bttnode leecher well below what it reaches in memory, and varies from
run to run; pass --out-dir to measure with a disk.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(HERE))
from scenario_lib import cpu_seconds, download_root, free_port, rss_kib  # noqa: E402

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
    figures = (size / elapsed / 1e6, cpu / gib, leech_cpu / gib)
    print("%-26s %7.1f MB/s  seeder CPU %5.2f s/GiB  leecher CPU %5.2f s/GiB  "
          "seeder RSS %6.1f MiB  (%s)" % ((name,) + figures + (rss / 1024, status)), flush=True)
    return figures if rc == 0 else None


def summarize(results):
    """Medians of each case, and bttnode against libtorrent."""
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)]
           for k, v in results.items() if v}
    print("\nmedians of %d run(s):" % max(len(v) for v in results.values()))
    for k in ("bt-lt", "lt-lt", "bt-bt"):
        if k in med:
            print("%-26s %7.1f MB/s  seeder CPU %5.2f s/GiB  leecher CPU %5.2f s/GiB"
                  % ((CASE_NAMES[k],) + tuple(med[k])))
    if "lt-lt" in med:
        lt = med["lt-lt"]
        if "bt-bt" in med:
            print("bttnode -> bttnode moves %.2fx the MB/s of libtorrent -> libtorrent"
                  % (med["bt-bt"][0] / lt[0]))
        if "bt-lt" in med:
            print("seeding to a libtorrent leecher, bttnode uses %.2fx the CPU per GiB of a "
                  "libtorrent seeder" % (med["bt-lt"][1] / lt[1]))


CASE_NAMES = {"bt-lt": "bttnode -> libtorrent", "lt-lt": "libtorrent -> libtorrent",
              "bt-bt": "bttnode -> bttnode"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--cases", default="bt-lt,lt-lt,bt-bt",
                    help="comma-separated subset of bt-lt, lt-lt, bt-bt (seeder-leecher)")
    ap.add_argument("--runs", type=int, default=1, help="times each case runs, in turn")
    ap.add_argument("--out-dir", help="where the leechers write (default: /dev/shm when it "
                    "has room for two copies, else the run's own folder)")
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
        out_root = download_root(size, work, a.out_dir)
        print("payload %d MiB, piece 1 MiB, TCP on 127.0.0.1, leechers write into %s"
              % (a.size_mib, out_root), flush=True)

        def out_dir():
            shutil.rmtree(out_root, ignore_errors=True)  # one download on disk at a time
            d = os.path.join(out_root, "out")
            os.makedirs(d)
            return d

        def lt_leech(port):
            return [PY, LT_CLIENT, "download", torrent, "--save", out_dir(), "--port",
                    str(free_port()), "--peer", "127.0.0.1:%d" % port, "--timeout", "900"]

        def bt_seed(port):
            return [a.bttnode, "seed", torrent, "--data", src, "--port", str(port)]

        runners = {
            "bt-lt": lambda p: (bt_seed(p), b"seeding ", lt_leech(p)),
            "lt-lt": lambda p: ([PY, LT_CLIENT, "seed", torrent, "--save", src, "--port",
                                 str(p)], b"seeding", lt_leech(p)),
            "bt-bt": lambda p: (bt_seed(p), b"seeding ",
                                leech_prefix + [a.bttnode, "download", torrent, "--out",
                                                out_dir(), "--port", str(free_port()),
                                                "--peer", "127.0.0.1:%d" % p]),
        }
        results = {k: [] for k in runners}
        try:
            for _ in range(a.runs):
                for k in ("bt-lt", "lt-lt", "bt-bt"):
                    if k in cases:
                        seed_cmd, ready, leech_cmd = runners[k](free_port())
                        r = run_case(work, CASE_NAMES[k], seed_cmd, ready, leech_cmd, size)
                        if r:
                            results[k].append(r)
        finally:
            shutil.rmtree(out_root, ignore_errors=True)
        summarize(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
