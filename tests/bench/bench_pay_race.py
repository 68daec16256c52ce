#!/usr/bin/python3
"""btt_pay at the chain's real timing, in one run, side by side:

  bench_pay_race.py --bttnode PATH [--size-mib 96] [--rate-mib 16] [--gib 1]

1. The race: a seeder limited to --rate-mib MiB/s with default terms; one paying and three
   free downloaders (two bttnode, one libtorrent) of --size-mib start together. Payer and
   median free times on a devnet with 300 ms blocks and with mainnet's 3 s blocks.
2. Settlements and fees per GiB: one paid download of --gib GiB, no upload limit, at 3 s
   blocks, for TRX, TRC-10 BTTOLD and TRC-20 BTT; the fees are what the devnet's receipts say
   the payer burned.
Never fails on speed: it prints what it measured.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
sys.path.insert(0, os.path.join(os.path.dirname(here), "pay"))
import pay_scenarios as ps  # noqa: E402
from scenario_lib import MIB  # noqa: E402


def one(bttnode, block_ms, fn):
    env = ps.Env(os.path.abspath(bttnode))
    env.block_ms = block_ms
    ok = False
    try:
        r = fn(env)
        ok = True
        return r
    finally:
        env.cleanup(ok)


def race(bttnode, block_ms, size, rate):
    return one(bttnode, block_ms,
               lambda env: ps.race(env, ps.TRC20, rate, size, require=False, deadline_s=600))


def gib_transfer(bttnode, token, size):
    def run(env):
        price = ps.PRICES[token]
        seeder, payer, src, torrent, s, d, out = ps.paid_transfer(env, token, "gib", size, price)
        t0 = time.time()
        ps.wait_exit(d, 900)
        took = time.time() - t0
        lines = ps.paid_lines(d)
        ps.reconcile(env, seeder, payer)
        fees = sum(env.tx_fee(txid) for _, _, _, txid, _ in lines)
        return dict(seconds=took, settlements=len(lines), fees_sun=fees)
    return one(bttnode, 3000, run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--size-mib", type=int, default=96)
    ap.add_argument("--rate-mib", type=int, default=16)
    ap.add_argument("--gib", type=float, default=1.0)
    a = ap.parse_args()
    size, rate = a.size_mib * MIB, a.rate_mib * MIB
    rows = []
    for block_ms in (300, 3000):
        r = race(a.bttnode, block_ms, size, rate)
        rows.append((block_ms, r))
    gib = int(a.gib * 1024) * MIB
    fees = [(tok, gib_transfer(a.bttnode, tok, gib)) for tok in ("trx", ps.TRC10, ps.TRC20)]

    print("\n== the race: %d MiB, seeder limited to %d MiB/s, default terms, price 1000 per MiB"
          % (a.size_mib, a.rate_mib))
    print("%-10s %10s %14s %10s %12s" % ("blocks", "payer s", "median free s", "ratio",
                                         "settlements"))
    for block_ms, r in rows:
        print("%-10s %10.1f %14.1f %9.2fx %12d" % ("%d ms" % block_ms, r["payer"],
                                                   r["median_free"], r["median_free"] / r["payer"],
                                                   r["settlements"]))
    print("\n== one paid download of %.2f GiB at 3 s blocks, no upload limit" % (gib / 2**30))
    print("%-48s %8s %14s %16s" % ("token", "seconds", "settlements/GiB", "fees TRX/GiB"))
    for tok, r in fees:
        per = 2**30 / gib
        print("%-48s %8.1f %14.1f %16.3f" % (tok, r["seconds"], r["settlements"] * per,
                                            r["fees_sun"] * per / 1e6))


if __name__ == "__main__":
    main()
