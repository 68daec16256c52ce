#!/usr/bin/python3
"""End-to-end scenarios of btt_pay on the devnet. Each scenario is one CTest test:

  pay_scenarios.py --bttnode PATH SCENARIO

Every scenario starts its own devnet, funded wallets (genesis test keys, handed over on
stdin), a fresh seeder wallet, random data and a torrent; then priced `bttnode seed` and
paying `bttnode download` processes. Balances are read from the devnet's HTTP API directly:
the chain is the truth both ledgers are compared against.
"""
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (MIB, Env as BaseEnv, Fail, assert_same, check,  # noqa: E402
                          free_port, genesis_json, log_text, same_tree, runner_main,
                          wait_exit, wait_log, write_random)

PASSWORD = "bttnode-pay-tests-only"  # for the throw-away keystores of these tests

GENESIS_JSON = genesis_json()
TRC10 = "trc10:" + GENESIS_JSON["trc10"]["id"]
TRC20 = "trc20:" + GENESIS_JSON["trc20"]["contract_address"]


def owed(nbytes, price):
    """The spec's one rounding rule: floor(bytes * price / 2^20)."""
    return nbytes * price // MIB


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58_to_hex(addr):
    """21-byte TRON address (41...) of a base58check string, as hex."""
    n = 0
    for ch in addr:
        n = n * 58 + _B58.index(ch)
    raw = n.to_bytes(25, "big")
    return raw[:21].hex()


# ------------------------------------------------------------------ processes and the chain

class Env(BaseEnv):
    block_ms = 3000  # TRON mainnet's block interval and chain parameters: what payers meet
    devnet_profile = "mainnet"
    stop_timeout = 20
    run_timeout = 60
    log_tail = 6000
    keep = "asked"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-pay-", password=PASSWORD)
        self.node_url = None
        self.devnet_port = None
        self.devnet_proc = None
        self.figures = []

    def note(self, text):
        print(text, flush=True)
        self.figures.append(text)

    # ---- devnet
    def start_devnet(self):
        """Starts the devnet, again on the port of the last one when restarted."""
        p, self.node_url = super().start_devnet(port=self.devnet_port or 0)
        self.devnet_port = int(self.node_url.rsplit(":", 1)[1])
        self.devnet_proc = p
        # Blocks are produced: the head moves.
        first = self.head()
        deadline = time.time() + 10
        while self.head() <= first:
            if time.time() > deadline:
                raise Fail("the devnet produces no blocks")
            time.sleep(0.1)
        return p

    def stop_devnet(self):
        rc = self.stop(self.devnet_proc, signal.SIGTERM, timeout=20)
        check(rc == 0, "devnet exited with %s on SIGTERM" % rc)

    def api(self, name, body, timeout=10):
        req = urllib.request.Request(self.node_url + "/wallet/" + name,
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")

    def head(self):
        return int(self.api("getnowblock", {})["block_header"]["raw_data"].get("number", 0))

    def balance(self, addr, token):
        if token.startswith("trc20:"):
            contract = token[6:]
            param = "0" * 24 + base58_to_hex(addr)[2:]
            r = self.api("triggerconstantcontract",
                         {"owner_address": addr, "contract_address": contract,
                          "function_selector": "balanceOf(address)", "parameter": param,
                          "visible": True})
            res = r.get("constant_result") or []
            check(len(res) == 1, "balanceOf gave no result: %s" % r)
            return int(res[0] or "0", 16)
        acct = self.api("getaccount", {"address": addr, "visible": True})
        if token == "trx":
            return int(acct.get("balance", 0))
        asset = token.split(":", 1)[1]
        for entry in acct.get("assetV2", []):
            if entry.get("key") == asset:
                return int(entry.get("value", 0))
        return 0

    def balances(self, addr, token):
        """(token balance, TRX balance) of addr."""
        return self.balance(addr, token), self.balance(addr, "trx")

    def tx_info(self, txid):
        return self.api("gettransactioninfobyid", {"value": txid})

    def tx_on_chain(self, txid):
        return bool(self.tx_info(txid).get("blockNumber"))

    def tx_fee(self, txid):
        return int(self.tx_info(txid).get("fee", 0))

    # ---- wallets
    def ledger(self, ks):
        """(payments, credits) of the ledger of keystore ks, as lists of dicts."""
        db = ks + ".ledger.db"
        if not os.path.exists(db):
            return [], []
        r = subprocess.run([self.bttnode, "earnings", "--keystore", ks, "--json"],
                           capture_output=True, text=True, env=self.env, timeout=60)
        if r.returncode != 0:
            raise Fail("bttnode earnings --keystore %s --json failed (%s): %s%s"
                       % (ks, r.returncode, r.stdout, r.stderr))
        j = json.loads(r.stdout)
        payments, credits = [], []
        for t in j.get("torrents", []):
            for peer in t.get("peers", []):
                for c in peer.get("credits", []):
                    credits.append(dict(c, info_hash=t.get("info_hash"), peer=peer.get("peer")))
                for p in peer.get("payments", []):
                    payments.append(dict(p, info_hash=t.get("info_hash"), peer=peer.get("peer")))
        return payments, credits

    # ---- data and torrents
    def make_torrent(self, name, size, piece_length=None, tracker=None):
        src = self.path("src-" + name)
        os.makedirs(src)
        target = os.path.join(src, name + ".bin")
        write_random(target, size)
        torrent = self.path(name + ".torrent")
        argv = [self.bttnode, "create-torrent", target, "-o", torrent]
        if piece_length:
            argv += ["--piece-length", str(piece_length)]
        if tracker:
            argv += ["-t", tracker]
        out = self.run(argv)
        m = re.search(r"info-hash ([0-9a-f]{40})", out)
        check(m, "create-torrent printed no info-hash: %s" % out)
        return src, torrent, m.group(1)

    # ---- bttnode
    def seed(self, name, torrent, src, ks=None, token=None, price=None, port=None, extra=()):
        port = port or free_port()
        argv = [self.bttnode, "seed", torrent, "--data", src, "--port", str(port)]
        if ks:
            argv += ["--keystore", ks, "--node", self.node_url, "--token", token,
                     "--price", str(price)]
        p = self.spawn(name, argv + list(extra))
        p.argv = argv + list(extra)
        p.port = port
        wait_log(p, r"^seeding ", 60)
        if ks:
            wait_log(p, r"^btt_pay: selling at ", 30)
        return p

    def download(self, name, torrent, out, peers=(), ks=None, token=None, max_price=None,
                 extra=()):
        argv = [self.bttnode, "download", torrent, "--out", out, "--port", str(free_port())]
        for peer in peers:
            argv += ["--peer", peer]
        if ks:
            argv += ["--keystore", ks, "--node", self.node_url, "--token", token,
                     "--max-price", str(max_price)]
        argv += list(extra)
        p = self.spawn(name, argv)
        p.argv = argv
        return p

    def respawn(self, p):
        q = self.spawn(p.name.split(".")[0], p.argv)
        q.argv = p.argv
        q.port = getattr(p, "port", None)
        return q


# ------------------------------------------------------------------ what the logs say

PAID_RE = r"^paid (\d+) (\S+) to (T\w+) txid ([0-9a-f]{64}) (confirmed|broadcast|pending)$"
CREDITED_RE = r"^credited (\d+) (\S+) from (T\w+) txid ([0-9a-f]{64}) peer (\S+)$"


def paid_lines(p):
    return re.findall(PAID_RE, log_text(p), re.M)


def credited_lines(p):
    return re.findall(CREDITED_RE, log_text(p), re.M)


# ------------------------------------------------------------------ ledger checks

class Party:
    """A wallet and its balances at the start of the scenario."""

    def __init__(self, env, ks, addr, token):
        self.env, self.ks, self.addr, self.token = env, ks, addr, token
        self.start_token, self.start_trx = env.balances(addr, token)

    def growth(self):
        tok, trx = self.env.balances(self.addr, self.token)
        return tok - self.start_token, trx - self.start_trx


def wait_until(cond, timeout, step=0.5):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            return v
        time.sleep(step)


def reconcile(env, seeder, payer, expect_paid=None, min_paid=1, settle_timeout=60,
              all_settled=False, none_failed=False):
    """The chain is the truth: compares both ledgers with it and with each other.

    seeder, payer: Party. expect_paid: the exact total the payer must have paid (or None).
    all_settled: every debt has a confirmed payment. none_failed: no attempt failed either.
    Returns the total paid."""
    token = seeder.token

    # In-flight payments settle and the seeder credits what it receives (it verifies after
    # the downloader has gone): wait for both, then compare.
    def settled():
        pays, creds = env.ledger(payer.ks)[0], env.ledger(seeder.ks)[1]
        final = all(p["state"] in ("confirmed", "failed") for p in pays)
        conf = sum(int(p["amount"]) for p in pays if p["state"] == "confirmed")
        return final and conf == sum(int(c["amount"]) for c in creds)
    wait_until(settled, settle_timeout, 1.0)

    payments, _ = env.ledger(payer.ks)
    _, credits = env.ledger(seeder.ks)
    describe = "payer ledger:\n  %s\nseeder credits:\n  %s" % (
        "\n  ".join("%s %s %s %s %s" % (p["state"], p["amount"], p["txid"], p["debt_key"],
                                        p.get("fail_reason")) for p in payments),
        "\n  ".join("%s %s" % (c["amount"], c["txid"]) for c in credits))
    print(describe)

    # Credits: unique txids, all to the seeder, of the right token, each on chain.
    ctx = [c["txid"] for c in credits]
    check(len(ctx) == len(set(ctx)), "a txid is credited twice")
    for c in credits:
        check(c["to"] == seeder.addr, "credit %s is not to the seeder" % c["txid"])
        check(c["token"] == token, "credit %s is in %s, not %s" % (c["txid"], c["token"], token))
        check(env.tx_on_chain(c["txid"]), "credited txid %s is not on chain" % c["txid"])
    credited = sum(int(c["amount"]) for c in credits)

    # Payments: every txid once; one confirmed attempt per debt at most; each state true on
    # chain; nothing left in flight.
    ptx = [p["txid"] for p in payments if p["txid"]]
    check(len(ptx) == len(set(ptx)), "a txid appears twice in the payer ledger")
    by_debt = {}
    for p in payments:
        check(p["token"] == token, "payment %s in %s, not %s" % (p["id"], p["token"], token))
        check(p["to"] == seeder.addr, "payment %s is not to the seeder" % p["id"])
        check(p["state"] in ("confirmed", "failed"),
              "payment %s (%s) still %s after the download finished"
              % (p["id"], p["txid"], p["state"]))
        if p["state"] == "confirmed":
            by_debt.setdefault(p["debt_key"], []).append(p)
            info = env.tx_info(p["txid"])
            check(info.get("blockNumber"), "confirmed payment %s is not on chain" % p["txid"])
            if token.startswith("trc20:"):
                check(info.get("receipt", {}).get("result") == "SUCCESS",
                      "confirmed TRC-20 payment %s did not succeed: %s" % (p["txid"], info))
            check(p["txid"] in ctx, "confirmed payment %s was never credited by the seeder"
                  % p["txid"])
        elif p["txid"] and p.get("fail_reason") != "reverted":
            check(not env.tx_on_chain(p["txid"]),
                  "payment %s is failed (%s) in the ledger but is on chain"
                  % (p["txid"], p.get("fail_reason")))
    for debt, ps in by_debt.items():
        check(len(ps) == 1, "debt %s was paid %d times" % (debt, len(ps)))
    if all_settled:
        for p in payments:
            check(p["debt_key"] in by_debt, "debt %s has no confirmed payment" % p["debt_key"])
    if none_failed:
        for p in payments:
            check(p["state"] == "confirmed", "payment %s (%s) failed: %s %s"
                  % (p["id"], p["txid"], p.get("fail_reason"), p.get("error")))
    paid = sum(int(p["amount"]) for p in payments if p["state"] == "confirmed")
    check(set(ctx) <= set(ptx), "the seeder credits a txid the payer never sent")

    # The chain: the seeder grew by what it credited; the payer fell by what it paid plus
    # the fees of every transaction it put on chain.
    grew_tok, grew_trx = seeder.growth()
    check(grew_tok == credited,
          "seeder's %s balance grew by %d on chain, its ledger credits %d"
          % (token, grew_tok, credited))
    if token != "trx":
        check(grew_trx == 0, "seeder's TRX changed by %d in a %s scenario" % (grew_trx, token))
    check(paid == credited, "payer paid %d (confirmed), seeder credited %d" % (paid, credited))
    fees = sum(env.tx_fee(t) for t in ptx if env.tx_on_chain(t))
    fell_tok, fell_trx = payer.growth()
    fell_tok, fell_trx = -fell_tok, -fell_trx
    if token == "trx":
        check(fell_trx == paid + fees, "payer's TRX fell by %d, expected paid %d + fees %d"
              % (fell_trx, paid, fees))
    else:
        check(fell_tok == paid, "payer's %s fell by %d, paid %d" % (token, fell_tok, paid))
        check(fell_trx == fees, "payer's TRX fell by %d, fees %d" % (fell_trx, fees))

    if expect_paid is not None:
        check(paid == expect_paid, "paid %d, the spec's rounding gives %d" % (paid, expect_paid))
    check(paid >= min_paid, "payer paid only %d" % paid)
    env.note("paid %d %s in %d payments (%d attempts), fees %d sun; seeder credited %d in %d"
             % (paid, token, len(by_debt), len(payments), fees, credited, len(credits)))
    return paid


def setup_pair(env, token, payer_name="alice"):
    """The devnet, a funded payer and a fresh seeder wallet; returns (seeder, payer)."""
    env.start_devnet()
    pks, paddr = env.import_genesis(payer_name)
    sks, saddr = env.new_wallet("seeder")
    return Party(env, sks, saddr, token), Party(env, pks, paddr, token)


def paid_transfer(env, token, name, size, price, seed_extra=()):
    """setup_pair, a random torrent of `size` bytes, a seeder selling it at `price` and a
    paying downloader started against it. Returns (seeder, payer, src, torrent, the seed
    process, the download process, the download's folder)."""
    seeder, payer = setup_pair(env, token)
    src, torrent, ih = env.make_torrent(name, size)
    s = env.seed("seed", torrent, src, seeder.ks, token, price, extra=seed_extra)
    out = env.path("out")
    d = env.download("download", torrent, out, ["127.0.0.1:%d" % s.port], payer.ks, token,
                     price)
    return seeder, payer, src, torrent, s, d, out


# ------------------------------------------------------------------ scenarios

PRICES = {"trx": 1234567, TRC10: 987654, TRC20: 2 * 10**18 + 7}


def paid_download(env, token):
    """One paying download from a priced seeder: exact amounts, both ledgers, the chain."""
    price = PRICES[token]
    size = 5 * MIB + 12345
    seeder, payer, src, torrent, s, d, out = paid_transfer(env, token, "paid", size, price)
    wait_exit(d, 150)
    env.note("download took %.1f s" % (time.time() - d.started))
    assert_same(src, out)
    check(re.search(r"^complete: ", log_text(d), re.M), "no 'complete:' line")
    lines = paid_lines(d)
    check(lines, "the download printed no 'paid' line")
    expect = owed(size, price)
    paid = reconcile(env, seeder, payer, expect_paid=expect, all_settled=True, none_failed=True)
    # The printed lines agree with the ledger.
    m = re.search(r"^btt_pay: paid (\d+) (\S+) in (\d+) payments$", log_text(d), re.M)
    check(m, "no 'btt_pay: paid TOTAL' line at exit")
    check(int(m.group(1)) == paid, "exit line says %s, ledger %d" % (m.group(1), paid))
    for amount, tok, to, txid, state in lines:
        check(tok == token and to == seeder.addr, "paid line for %s %s" % (tok, to))
    # The seeder's summary on SIGINT.
    rc = env.stop(s, signal.SIGINT)
    check(rc == 0, "seeder exited with %s on SIGINT" % rc)
    m = re.search(r"^earned (\d+) (\S+) in (\d+) payments$", log_text(s), re.M)
    check(m and int(m.group(1)) == paid, "seeder's 'earned' line does not say %d" % paid)
    check(len(credited_lines(s)) == int(m.group(3)), "credited lines and earned count differ")


RACE_PEER_FLAGS = ["--no-lsd", "--no-dht"]


def race(env, token, rate, size, piece_length=None, price=1000, free_lt=True,
         deadline_s=300, require=True, lead=2.0, peer_flags=RACE_PEER_FLAGS, payer_extra=()):
    """A seeder limited to `rate` with default terms at `price`; one payer and three free
    downloaders (two bttnode, one libtorrent) of `size` start together. Returns the finish
    times (s) by name, after checking every copy and reconciling the payer with the chain.
    The payer must finish `lead` times sooner than the median free one. `peer_flags` go to
    every bttnode downloader, `payer_extra` to the payer alone."""
    seeder, payer = setup_pair(env, token)
    src, torrent, ih = env.make_torrent("race", size, piece_length=piece_length)
    s = env.seed("seed", torrent, src, seeder.ks, token, price,
                 extra=["--max-up-rate", str(rate)])
    peer = ["127.0.0.1:%d" % s.port]
    procs, outs = {}, {}
    names = ["payer", "free1", "free2", "free_lt" if free_lt else "free3"]
    t0 = time.time()
    for name in names:
        outs[name] = env.path("out-" + name)
        os.makedirs(outs[name], exist_ok=True)
        # All of them run on this host, standing for peers far apart: the DHT (through the
        # seeder's node, which they learn of by the port message) and local discovery would
        # join them into one swarm whose links between downloaders are far faster than the
        # seeder's limit. The race is for the seeder's upload, as in a swarm of home links
        # (priority_swarm runs the joined swarm).
        if name == "payer":
            procs[name] = env.download(name, torrent, outs[name], peer, payer.ks, token, price,
                                       extra=list(peer_flags) + list(payer_extra))
        elif name == "free_lt":
            procs[name] = env.lt_download(name, torrent, outs[name], peer, timeout=deadline_s)
        else:
            procs[name] = env.download(name, torrent, outs[name], peer, extra=peer_flags)
    done = {}
    deadline = t0 + deadline_s
    while len(done) < len(procs):
        for name, p in procs.items():
            if name in done:
                continue
            text = log_text(p)
            if re.search(r"^complete", text, re.M):
                done[name] = time.time() - t0
            elif p.poll() is not None:
                if p.returncode == 0:
                    done[name] = time.time() - t0
                else:
                    raise Fail("%s exited with %s before completing" % (name, p.returncode))
        check(time.time() < deadline, "not all finished in %d s: %s" % (deadline_s, done))
        time.sleep(0.1)
    for p in procs.values():
        wait_exit(p, 90)
    for out in outs.values():
        assert_same(src, out)
    check(not re.search(r"^banned ", log_text(s), re.M), "the seeder banned someone: %s"
          % re.findall(r"^banned .*$", log_text(s), re.M))
    free = sorted(done[n] for n in done if n != "payer")
    median = statistics.median(free)
    settlements = len(paid_lines(procs["payer"]))
    env.note("race %s at %s B/s, %d MiB%s, %d ms blocks: payer %.1f s, free %s, median free "
             "%.1f s (%.2fx), %d settlements"
             % (token, rate, size // MIB,
                ", %d KiB pieces" % (piece_length // 1024) if piece_length else "",
                env.block_ms, done["payer"], ", ".join("%.1f s" % t for t in free), median,
                median / done["payer"], settlements))
    reconcile(env, seeder, payer)
    done["settlements"] = settlements
    done["median_free"] = median
    if not require:
        return done
    check(done["payer"] * lead <= median,
          "payer finished in %.1f s, not %gx sooner than the median free one (%.1f s)"
          % (done["payer"], lead, median))
    return done


def priority(env):
    """At 3 s blocks, a seeder limited to 16 MiB/s: the payer finishes in half the median
    free time (the product's promise, as the chain really runs)."""
    race(env, TRC20, 16 * MIB, 96 * MIB)


def priority_slow(env):
    """The same race under a 4 MiB/s upload limit."""
    race(env, TRC20, 4 * MIB, 96 * MIB, deadline_s=400)


def priority_big_pieces(env):
    """The same race with 4 MiB pieces: an honest payer is never held up or banned."""
    race(env, TRC20, 16 * MIB, 96 * MIB, piece_length=4 * MIB)


def priority_swarm(env, uncapped=False):
    """The race with the DHT and local discovery on: the downloaders find one another and
    their links are far faster than the seeder's limit. While buying, the payer's upload is
    held (buy.upload_while_buying), so what it got first does not carry the free peers along
    while it downloads: 1.2-1.3x here, 1.02x without the hold (`uncapped`, run by hand). Once
    complete it seeds unheld while it settles, and over loopback the free peers take the rest
    from it in about a second: that, not the hold, bounds the lead this race can show."""
    race(env, TRC20, 16 * MIB, 64 * MIB, peer_flags=[], deadline_s=120, lead=1.15,
         payer_extra=["--upload-while-buying", "0"] if uncapped else [],
         require=not uncapped)


GIB = 1024 * MIB


def gib_download(env, token, extra=(), seeder=None, payer=None, s=None, name="gib"):
    """A paid download of 1 GiB from a seeder with default terms, no upload limit. Returns
    (seeder, payer, seed process, download process)."""
    need = (2 if seeder is None else 1) * GIB + 256 * MIB
    free = shutil.disk_usage(env.dir).free
    if free < need:
        raise Fail("%d MiB free in %s, a GiB download needs %d: it would wait for space"
                   % (free // MIB, env.dir, need // MIB))
    if seeder is None:
        seeder, payer = setup_pair(env, token)
        src, torrent, ih = env.make_torrent(name, GIB, piece_length=MIB)
        s = env.seed("seed", torrent, src, seeder.ks, token, PRICES[token])
        s.src, s.torrent = src, torrent
    out = env.path("out-" + name)
    d = env.download(name, s.torrent, out, ["127.0.0.1:%d" % s.port], payer.ks, token,
                     PRICES[token], extra=extra)
    d.out = out
    return seeder, payer, s, d


def fees_agree(env, payer, lines):
    """The fees the payer's ledger (earnings --json) recorded are the chain's receipts'."""
    pays = env.ledger(payer.ks)[0]
    by_txid = {p["txid"]: p for p in pays if p.get("txid")}
    total = 0
    for _, _, _, txid, _ in lines:
        chain_fee = env.tx_fee(txid)
        recorded = by_txid.get(txid, {}).get("fee_sun")
        check(recorded is not None and int(recorded) == chain_fee,
              "txid %s: the ledger says fee %r, the chain %d" % (txid, recorded, chain_fee))
        total += chain_fee
    return total


def fees(env, token):
    """At mainnet's parameters and 3 s blocks, a paid GiB at defaults makes at most a dozen
    settlements; the fees in the ledger and in earnings are the chain's."""
    seeder, payer, s, d = gib_download(env, token)
    wait_exit(d, 240)
    assert_same(s.src, d.out)
    lines = paid_lines(d)
    paid = reconcile(env, seeder, payer, all_settled=True)
    total = fees_agree(env, payer, lines)
    m = re.search(r"^btt_pay: one settlement costs (.*)$", log_text(d), re.M)
    check(m, "the payer did not say what a settlement costs before paying")
    shutil.rmtree(d.out, ignore_errors=True)  # the next GiB needs the room
    env.note("fees %s: 1 GiB in %d settlements, %.3f TRX of fees (%s); estimate: %s"
             % (token, len(lines), total / 1e6, paid, m.group(1)))
    check(1 <= len(lines) <= 12, "%d settlements for a GiB at defaults" % len(lines))
    return seeder, payer, s, total, len(lines)


def fees_trx(env):
    fees(env, "trx")


def fees_trc10(env):
    fees(env, TRC10)


def fees_trc20(env):
    """TRC-20 BTT, then the same GiB again under a fee cap that holds (its fees stay under
    it) and under one that cannot hold (reported before downloading, then it stops)."""
    seeder, payer, s, total, n = fees(env, TRC20)
    per_settlement = total / max(n, 1)
    # A cap that holds: room for twice the settlements the plan needs.
    cap_trx = 2.5 * total / 1e6
    _, _, _, d = gib_download(env, TRC20, ["--fee-cap", "%.6f" % cap_trx], seeder, payer, s,
                              name="capped")
    wait_exit(d, 240)
    assert_same(s.src, d.out)
    lines = paid_lines(d)
    shutil.rmtree(d.out, ignore_errors=True)
    capped = fees_agree(env, payer, lines)
    env.note("fees under a cap of %.3f TRX/GiB: %d settlements, %.3f TRX"
             % (cap_trx, len(lines), capped / 1e6))
    check(lines, "the capped download paid nothing")
    check(capped <= cap_trx * 1e6, "fees %.3f TRX above the cap %.3f" % (capped / 1e6, cap_trx))
    # A cap below a single settlement's fee cannot hold: said before downloading, then stop.
    low = per_settlement / 2 / 1e6
    _, _, _, d = gib_download(env, TRC20, ["--fee-cap", "%.6f" % low, "--over-fee-cap", "stop"],
                              seeder, payer, s, name="low")
    rc = wait_exit(d, 120, want=None)
    check(rc == 3, "a download whose fee cap cannot hold exited %s, not 3" % rc)
    text = log_text(d)
    check(re.search(r"stopped: .*above the cap", text), "no reason given for stopping:\n%s"
          % text[-2000:])
    check(not paid_lines(d), "it paid although the cap could not hold")


def mixed_swarm(env):
    """A priced seeder, one paying bttnode, a libtorrent and an aria2c leecher."""
    token = TRC10
    seeder, payer = setup_pair(env, token)
    env.start_tracker()
    price = 500000
    size = 6 * MIB + 777
    src, torrent, ih = env.make_torrent("mixed", size, tracker=env.announce_url)
    env.whitelist_add(ih)
    # An upload limit keeps everyone in the swarm together for a while.
    s = env.seed("seed", torrent, src, seeder.ks, token, price, extra=["--max-up-rate", "1M"])
    peer = ["127.0.0.1:%d" % s.port]
    outs = {n: env.path("out-" + n) for n in ("payer", "lt", "aria2")}
    for o in outs.values():
        os.makedirs(o)
    # The payer starts first so that it gets (and pays for) bytes from the seeder, not only
    # from the other leechers; they join once it has paid.
    procs = [env.download("payer", torrent, outs["payer"], peer, payer.ks, token, price)]
    wait_log(procs[0], PAID_RE, 60)
    procs += [env.lt_download("lt", torrent, outs["lt"], peer, timeout=150),
              env.aria2("aria2", torrent, outs["aria2"])]
    for p in procs:
        wait_exit(p, 180)
    for o in outs.values():
        assert_same(src, o)
    # The payer may also get pieces from the other leechers: it pays for the verified bytes
    # it got from the seeder, at most the whole torrent.
    paid = reconcile(env, seeder, payer)
    check(paid <= owed(size, price), "paid %d, more than the whole torrent (%d)"
          % (paid, owed(size, price)))


def downloader_killed(env):
    """kill -9 of the paying downloader while it pays; the same command again."""
    token = "trx"
    price = 300000
    size = 10 * MIB + 4321
    # 1 MiB/s and a settlement every 256 KiB worth: payments are in flight most of the time.
    seeder, payer, src, torrent, s, d, out = paid_transfer(
        env, token, "dlkill", size, price,
        ["--max-up-rate", "1M", "--min-settle", str(owed(MIB // 4, price))])
    wait_log(d, PAID_RE, 90)
    time.sleep(random.uniform(0.0, 1.5))
    env.kill9(d)
    before = paid_lines(d)
    env.note("killed the downloader after %d paid line(s)" % len(before))
    check(not os.path.exists(out) or not same_tree(src, out), "already complete when killed")
    d2 = env.respawn(d)
    wait_exit(d2, 150)
    assert_same(src, out)
    paid = reconcile(env, seeder, payer)
    # What the killed run had received but not yet paid is the seeder's risk, bounded by the
    # credit (4 MiB by default); otherwise both runs together paid for the whole torrent, and
    # no piece twice (one unit of rounding per run).
    low, high = owed(size - 4 * MIB, price) - 2, owed(size, price) + 2
    check(low <= paid <= high, "paid %d for a torrent owing %d (allowed %d..%d)"
          % (paid, owed(size, price), low, high))


def seeder_killed(env):
    """kill -9 of the seeder after it credited a payment; restarted on the same ledger."""
    token = "trx"
    price = 300000
    size = 8 * MIB + 999
    extra = ["--max-up-rate", "1M", "--min-settle", str(owed(MIB // 2, price))]
    seeder, payer, src, torrent, s, d, out = paid_transfer(env, token, "sdkill", size, price,
                                                           extra)
    wait_log(s, CREDITED_RE, 90)
    env.kill9(s)
    env.note("killed the seeder after %d credited line(s)" % len(credited_lines(s)))
    time.sleep(1)
    env.seed("seed", torrent, src, seeder.ks, token, price, port=s.port, extra=extra)
    # The downloader reconnects to its --peer; if it has not within 30 s, run it again.
    try:
        rc = d.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    if rc != 0 or not same_tree(src, out):
        env.note("downloader did not finish by itself after the seeder restart (rc %s): "
                 "restarted it" % rc)
        env.stop(d, signal.SIGINT, timeout=40)
        d2 = env.respawn(d)
        wait_exit(d2, 120)
    assert_same(src, out)
    reconcile(env, seeder, payer)


def node_down(env):
    """The full node stops for ~10 s mid-download, then comes back with its state."""
    token = "trx"
    price = 200000
    size = 12 * MIB + 55
    seeder, payer, src, torrent, s, d, out = paid_transfer(env, token, "nodedown", size, price,
                                                           ["--max-up-rate", "1M"])
    wait_log(d, PAID_RE, 90)
    env.stop_devnet()
    env.note("devnet stopped after %d paid line(s)" % len(paid_lines(d)))
    down_at = time.time()
    while time.time() - down_at < 10:
        check(d.poll() is None or d.returncode == 0,
              "the download exited with %s while the node was down" % d.returncode)
        check(s.poll() is None, "the seeder exited with %s while the node was down"
              % s.returncode)
        time.sleep(0.2)
    env.start_devnet()
    env.note("devnet back on port %d" % env.devnet_port)
    wait_exit(d, 180)
    assert_same(src, out)
    # One session from start to end: it pays exactly for the torrent. Payments that expired
    # while the node was down may fail, as long as a later attempt pays their debt.
    reconcile(env, seeder, payer, expect_paid=owed(size, price), all_settled=True)


SCENARIOS = {
    "paid_trx": lambda e: paid_download(e, "trx"),
    "paid_trc10": lambda e: paid_download(e, TRC10),
    "paid_trc20": lambda e: paid_download(e, TRC20),
    "priority": priority,
    "mixed_swarm": mixed_swarm,
    "priority_slow": priority_slow,
    "priority_big_pieces": priority_big_pieces,
    "priority_swarm": priority_swarm,
    "priority_swarm_uncapped": lambda e: priority_swarm(e, uncapped=True),
    "fees_trx": fees_trx,
    "fees_trc10": fees_trc10,
    "fees_trc20": fees_trc20,
    "downloader_killed": downloader_killed,
    "seeder_killed": seeder_killed,
    "node_down": node_down,
}


if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, Env))
