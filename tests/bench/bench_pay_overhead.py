#!/usr/bin/python3
"""What btt_pay costs a seeder: one bttnode seeder -> one bttnode downloader on loopback,
as ordinary peers and paying (seed --keystore/--price, download --keystore/--max-price, on a
local devnet), in one run. Prints figures side by side; never fails on speed.

  bench_pay_overhead.py --bttnode PATH [--size-mib 1024] [--runs 5] [--settle-mib 256]
                        [--out-dir DIR]

Each run transfers the torrent once without and once with pay, alternating which goes first.
For each transfer: MB/s (from the first MiB on disk to the downloader's `complete:` line, so
start-up, where the paying downloader unlocks its keystore, and its final settlement, which
waits for a block, are left out and reported apart) and the seeder's CPU seconds (user+system
from /proc over the same span, counted from the moment the seeder is seeding); the
downloader's CPU seconds up to `complete:` are printed for reference. The summary gives the
median and the best of the runs; on a 2-core machine where seeder and downloader each take a
core, single runs vary by 10% and more, so the median is the figure to read.

The seeder's credit is set above the torrent size and settlements come every --settle-mib
MiB, so that the figure is the cost of the protocol (messages, accounting, signing, two
ledger commits synced to disk, verification through the full node) rather than the wait for
blocks a small credit imposes. That cost is per settlement, so the summary also gives it per
settlement. The downloader writes to --out-dir, by default /dev/shm when it has room, so that
the downloader's disk, which is not what is measured, adds no noise.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (Env, Fail, cpu_seconds, download_root, free_port,  # noqa: E402
                          wait_log, write_random)

TOKEN = "trc10:1002000"
PASSWORD = "bench-pay-overhead-only"


def transfer(env, name, seed_cmd, download_cmd, out_path, size):
    """Runs one transfer; returns (MB/s, seeder CPU s, settle s after complete, exit code,
    payment lines, downloader CPU s)."""
    seeder = env.spawn(name + "-seed", seed_cmd)
    try:
        # "seeding" comes once the data is verified, after any btt_pay set-up, so the span
        # below holds only the transfer in both cases.
        wait_log(seeder, r"^seeding ", 600)
        time.sleep(0.5)
        cpu0 = cpu_seconds(seeder.pid)
        t0 = time.time()
        # The transfer's own span starts when the first MiB is on disk, so that start-up
        # (the paying downloader unlocks its keystore: scrypt) is reported apart.
        first = {}
        out_file = os.path.join(out_path, "big.bin")

        def watch():
            while "stop" not in first:
                try:
                    if os.stat(out_file).st_blocks * 512 >= 2**20:
                        first.setdefault("t", time.time())
                        return
                except FileNotFoundError:
                    pass
                time.sleep(0.005)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        dl = subprocess.Popen(download_cmd, stdout=subprocess.PIPE,
                              stderr=open(env.path(name + "-download.log"), "wb"),
                              stdin=subprocess.DEVNULL, text=True, env=env.env)
        complete_at, cpu, dl_cpu, lines = None, None, None, []
        for line in dl.stdout:
            lines.append(line)
            if complete_at is None and line.startswith("complete:"):
                complete_at = time.time()
                cpu = cpu_seconds(seeder.pid) - cpu0
                dl_cpu = cpu_seconds(dl.pid)
        if complete_at is None:
            complete_at, cpu = time.time(), cpu_seconds(seeder.pid) - cpu0
            dl_cpu = cpu_seconds(dl.pid) if dl.poll() is None else 0.0
        rc = dl.wait()
        end = time.time()
        first["stop"] = True
        watcher.join()
        t1 = first.get("t", t0)
        with open(env.path(name + "-download.out"), "w") as f:
            f.writelines(lines)
        paid = [ln.strip() for ln in lines if ln.startswith("paid ") or "btt_pay: paid" in ln]
        return ((size - 2**20) / (complete_at - t1) / 1e6, cpu, end - complete_at, rc, paid,
                dl_cpu, t1 - t0)
    finally:
        env.stop(seeder, timeout=30)


def settlements(paid_lines):
    """The count in the downloader's closing `btt_pay: paid X T in N payments` line."""
    for line in paid_lines:
        m = re.search(r"btt_pay: paid .* in (\d+) payments", line)
        if m:
            return int(m.group(1))
    return 0


def summarize(results, runs, size):
    free, paid = results["free"], results["paid"]
    gib = size / 2**30
    rows = [("throughput MB/s", [r[0] for r in free], [r[0] for r in paid], max, "%.1f"),
            ("seeder CPU s per GiB", [r[1] / gib for r in free], [r[1] / gib for r in paid], min,
             "%.2f"),
            ("downloader CPU s (reference)", [r[5] for r in free], [r[5] for r in paid], min,
             "%.2f")]
    print()
    print("%-30s %12s %12s %9s %12s %12s %9s" % (
        "of %d runs" % runs, "median free", "median paid", "overhead", "best free",
        "best paid", "overhead"))
    for label, f, p, best, fmt in rows:
        mf, mp, bf, bp = statistics.median(f), statistics.median(p), best(f), best(p)
        # Overhead is what pay loses: less throughput, or more CPU.
        sign = -1 if best is max else 1
        print("%-30s %12s %12s %8.1f%% %12s %12s %8.1f%%" % (
            label, fmt % mf, fmt % mp, sign * (mp - mf) / mf * 100, fmt % bf, fmt % bp,
            sign * (bp - bf) / bf * 100))
    n = statistics.median(settlements(r[4]) for r in paid)
    extra = size / 1e6 / statistics.median(r[0] for r in paid) - \
        size / 1e6 / statistics.median(r[0] for r in free)
    print("settlements per paid transfer: %g; median time added per settlement: %.1f ms%s"
          % (n, extra / max(n, 1) * 1000,
             " (below zero: the difference is within run-to-run noise)" if extra < 0 else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--price", type=int, default=1000, help="TRC-10 BTT base units per MiB")
    ap.add_argument("--settle-mib", type=int, default=256,
                    help="the seeder's --min-settle, in MiB worth of price")
    ap.add_argument("--out-dir", help="where the downloader writes (default: /dev/shm when "
                    "it has room for two copies, else the run's own folder)")
    a = ap.parse_args()
    env = Env(os.path.abspath(a.bttnode), "bttnode-bench-pay-", password=PASSWORD)
    env.keep = "failed"  # the logs of a failed run stay for a look
    bttnode, work = env.bttnode, env.dir
    ok = False
    try:
        # Chain and wallets: the payer is a funded genesis test key (on stdin), the seeder new.
        _, node = env.start_devnet(timeout=60)
        payer_ks, _ = env.import_genesis("alice")
        seeder_ks, _ = env.new_wallet("seeder")

        src = os.path.join(work, "src")
        os.makedirs(src)
        data = os.path.join(src, "big.bin")
        size = a.size_mib * 2**20
        write_random(data, size)
        torrent = os.path.join(work, "big.torrent")
        env.run([bttnode, "create-torrent", data, "-o", torrent, "--piece-length", "1M"],
                timeout=3600)
        out_root = download_root(size, work, a.out_dir)
        print("payload %d MiB, piece 1 MiB, TCP on 127.0.0.1, downloads into %s; paid case: "
              "%d %s per MiB, credit %d MiB, settlements every %d MiB, devnet blocks every "
              "300 ms" % (a.size_mib, out_root, a.price, TOKEN, a.size_mib + 64, a.settle_mib),
              flush=True)

        def out_dir(n):
            shutil.rmtree(out_root, ignore_errors=True)  # one download on disk at a time
            d = os.path.join(out_root, "out-" + n)
            os.makedirs(d)
            return d

        def case(name, paying, run):
            p = free_port()
            seed = [bttnode, "seed", torrent, "--data", src, "--port", str(p)]
            down = [bttnode, "download", torrent, "--out", out_dir("%s%d" % (name, run)),
                    "--port", str(free_port()), "--peer", "127.0.0.1:%d" % p]
            if paying:
                seed += ["--keystore", seeder_ks, "--node", node, "--token", TOKEN, "--price",
                         str(a.price), "--credit", "%dM" % (a.size_mib + 64), "--min-settle",
                         str(a.price * a.settle_mib)]
                down += ["--keystore", payer_ks, "--node", node, "--token", TOKEN,
                         "--max-price", str(a.price)]
            return transfer(env, "%s%d" % (name, run), seed, down, down[4], size)

        results = {"free": [], "paid": []}
        try:
            for run in range(a.runs):
                # Interleaved, and each goes first in turn, so that a busy moment or a warm
                # cache favours neither.
                for name in (("free", "paid") if run % 2 == 0 else ("paid", "free")):
                    try:
                        r = case(name, name == "paid", run)
                    except Fail as e:
                        print("  run %d %-5s failed: %s" % (run + 1, name, e), flush=True)
                        continue
                    results[name].append(r)
                    mbs, cpu, settle, rc, paid, dl_cpu, startup = r
                    print("  run %d %-5s %8.1f MB/s   seeder CPU %6.2f s   downloader CPU "
                          "%6.2f s   start-up %4.2f s   %s%s" % (
                              run + 1, name, mbs, cpu, dl_cpu, startup,
                              "ok" if rc == 0 else "downloader exit %d" % rc,
                              "   final settlement %.1f s after complete" % settle
                              if name == "paid" else ""), flush=True)
                    for line in paid:
                        print("        " + line, flush=True)
        finally:
            shutil.rmtree(out_root, ignore_errors=True)

        if not results["free"] or not results["paid"]:
            print("no figures to compare")
            return 1
        summarize(results, a.runs, size)
        if any(r[3] for r in results["free"] + results["paid"]):
            print("note: a downloader exited non-zero; see the logs")
            return 0
        ok = True
    finally:
        env.cleanup(ok)


if __name__ == "__main__":
    sys.exit(main())
