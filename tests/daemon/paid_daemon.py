#!/usr/bin/python3
"""A selling `bttnode run` daemon against one paying `bttnode download` and one free libtorrent
leecher, on a devnet at mainnet's 3 s blocks:

  paid_daemon.py --bttnode PATH paid_daemon

After the downloads, what the daemon tells (RPC bttnode-earnings per torrent and per peer with
txids, torrent-get's bttnodeEarned and peers' bttnodePayer, /metrics' bttnode_earned_total)
agrees with the seller's ledger (`bttnode earnings`) and with the chain (the seller's TRC-20
balance, every txid found by gettransactioninfobyid). The daemon is then stopped (SIGTERM) and
started again: it reports the same earnings, and a second payer's download is credited too.
Before the restart the torrent is given its own price over the RPC (torrent-set bttnodePrice):
bttnode-terms shows it at once, a bad one is refused, it is still there after the restart, and
the second payer pays it.
"""
import base64
import json
import os
import re
import signal
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pay"))
from scenario_lib import MIB, assert_same, check, runner_main, wait_exit, wait_log  # noqa: E402
from pay_scenarios import (PASSWORD, TRC20, Env as PayEnv, Party, owed,  # noqa: E402
                           reconcile, wait_until)
from daemon_test import rpc_call  # noqa: E402

PRICE = 2 * 10**18 + 7  # BTT base units per MiB: odd, so a wrong rounding shows
OWN_PRICE = 3 * 10**18 + 11  # the torrent's own, from the restart on
SIZE = 3 * MIB + 12345
AUTH = "u:p"


class Env(PayEnv):
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode)
        self.sid = None

    def rpc(self, method, **arguments):
        ans, self.sid = rpc_call(self.rpc_port, AUTH, {"method": method, "arguments": arguments},
                                 self.sid)
        check(ans.get("result") == "success", "%s: %s" % (method, ans))
        return ans["arguments"]

    def metrics(self):
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % self.rpc_port)
        req.add_header("Authorization", "Basic " + base64.b64encode(AUTH.encode()).decode())
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def start_daemon(self, config):
        p = self.spawn("daemon", [self.bttnode, "run", "--config", config])
        p.port = int(wait_log(p, r"^peer port (\d+)$", 30)[-1].group(1))
        self.rpc_port = int(wait_log(p, r"^rpc listening on 127\.0\.0\.1:(\d+)", 15)[-1].group(1))
        wait_log(p, r"selling at ", 15)
        self.sid = None
        return p

    def torrent(self, fields):
        got = self.rpc("torrent-get", fields=fields)["torrents"]
        check(len(got) == 1, "the daemon holds %d torrents" % len(got))
        return got[0]


def earned_metric(text, token):
    """bttnode_earned_total{token=...} of a /metrics page (None when absent)."""
    for line in text.splitlines():
        m = re.match(r'^bttnode_earned_total\{token="([^"]*)"\} (\S+)$', line)
        if m and m.group(1) == token:
            return float(m.group(2))
    return None


def same_number(a, b):
    """A float64 counter against an exact integer: equal to the nearest double's precision."""
    return abs(a - b) <= abs(b) * 2.0**-50


def agree(env, ih, seller, total, payers, this_run):
    """The RPC, torrent-get, /metrics, the ledger and the chain all say `total` was earned
    (this_run of it since the daemon started), from the addresses `payers`. Returns the
    credited txids."""
    _, credits = env.ledger(seller.ks)
    ledger_total = sum(int(c["amount"]) for c in credits)
    check(ledger_total == total, "the ledger credits %d, expected %d" % (ledger_total, total))
    grew, _ = seller.growth()
    check(grew == total, "the seller's BTT grew by %d on chain, expected %d" % (grew, total))

    rep = env.rpc("bttnode-earnings")
    tors = [t for t in rep["torrents"] if t["info_hash"] == ih]
    check(len(tors) == 1, "bttnode-earnings has no entry for the torrent: %s" % rep)
    t = tors[0]
    check(t["id"] == 1, "bttnode-earnings names torrent id %s" % t["id"])
    check(int(t["totals"][TRC20]["earned"]) == total,
          "bttnode-earnings per torrent: %s, expected %d" % (t["totals"][TRC20], total))
    check(int(rep["totals"][TRC20]["earned"]) == total, "bttnode-earnings totals: %s"
          % rep["totals"])
    rpc_txids, froms, peer_sum = [], set(), 0
    for peer in t["peers"]:
        s = sum(int(c["amount"]) for c in peer["credits"])
        check(int(peer["totals"][TRC20]["earned"]) == s,
              "peer %s: totals %s, credits sum %d" % (peer["peer"], peer["totals"], s))
        peer_sum += s
        for c in peer["credits"]:
            check(re.fullmatch(r"[0-9a-f]{64}", c["txid"] or ""), "credit txid %r" % c["txid"])
            rpc_txids.append(c["txid"])
            froms.add(c["from"])
    check(peer_sum == total, "per-peer credits sum to %d, expected %d" % (peer_sum, total))
    check(sorted(rpc_txids) == sorted(c["txid"] for c in credits),
          "the RPC's txids differ from the ledger's")
    check(len(set(rpc_txids)) == len(rpc_txids), "a txid is reported twice")
    check(froms == set(payers), "credits from %s, expected %s" % (froms, payers))
    for txid in rpc_txids:
        info = env.tx_info(txid)
        check(info.get("blockNumber") and info.get("receipt", {}).get("result") == "SUCCESS",
              "txid %s is not a successful transaction on chain: %s" % (txid, info))
    live = [e for e in rep["this_run"] if e["info_hash"] == ih]
    check(len(live) == 1 and int(live[0]["earned"]) == this_run,
          "this_run says %s, expected %d" % (live, this_run))

    tg = env.torrent(["id", "bttnodeEarned", "bttnodeToken", "bttnodePayers"])
    check(tg["bttnodeEarned"] == str(total), "torrent-get bttnodeEarned %r, expected %d"
          % (tg["bttnodeEarned"], total))
    check(tg["bttnodeToken"] == TRC20, "torrent-get bttnodeToken %r" % tg["bttnodeToken"])
    check(tg["bttnodePayers"] == len(payers), "torrent-get bttnodePayers %r" % tg["bttnodePayers"])

    got = earned_metric(env.metrics(), TRC20)
    check((got is None and this_run == 0) or (got is not None and same_number(got, this_run)),
          "/metrics bttnode_earned_total %s, this run earned %d" % (got, this_run))
    env.note("agree: %d earned in %d credits (%d this run)" % (total, len(rpc_txids), this_run))
    return rpc_txids


def paying_download(env, name, ks, out, daemon, free=None, max_price=PRICE):
    """A paying download from the daemon (and the free leecher beside it, when given). Returns
    the payer addresses torrent-get's peers named while it ran."""
    d = env.download(name, env.torrent_file, out, ["127.0.0.1:%d" % daemon.port], ks, TRC20,
                     max_price)
    seen, free_named, metric_payers = set(), [], 0
    while d.poll() is None:
        m = re.search(r"^bttnode_payers (\S+)$", env.metrics(), re.M)
        metric_payers = max(metric_payers, float(m.group(1)) if m else 0)
        check(time.time() - d.started < 60, "%s did not finish within 60 s" % name)
        for p in env.torrent(["peers"])["peers"]:
            if p.get("bttnodePayer"):
                seen.add(p["bttnodePayer"])
                if "libtorrent" in p.get("clientName", "").lower():
                    free_named.append(p)
        time.sleep(0.2)
    wait_exit(d, 1)
    if free:
        wait_exit(free, 60)
        assert_same(env.src, env.path("free"))
    assert_same(env.src, out)
    env.note("%s took %.1f s" % (name, time.time() - d.started))
    check(not free_named, "a free libtorrent peer has a payer: %s" % free_named)
    check(metric_payers == 1, "/metrics bttnode_payers peaked at %s with one payer connected"
          % metric_payers)
    return seen


def check_own_price(env, own):
    """torrent-get and bttnode-terms give the torrent's own price as set."""
    tg = env.torrent(["bttnodePrice", "bttnodeSell", "bttnodeOverrides"])
    check(tg["bttnodePrice"] == str(OWN_PRICE) and tg["bttnodeSell"] is True,
          "torrent-get: %s, expected the price %d" % (tg, OWN_PRICE))
    check(tg["bttnodeOverrides"]["bttnodePrice"] == own, "torrent-get: overrides %s" % tg)
    terms = env.rpc("bttnode-terms", ids=[1])["torrents"][0]
    check(terms["sell"]["price_per_mib"] == str(OWN_PRICE), "bttnode-terms: %s" % terms)


def paid_daemon(env):
    env.start_devnet()
    sks, saddr = env.new_wallet("seller")
    aks, aaddr = env.import_genesis("alice")
    bks, baddr = env.import_genesis("bob")
    seller = Party(env, sks, saddr, TRC20)
    alice = Party(env, aks, aaddr, TRC20)
    env.src, env.torrent_file, ih = env.make_torrent("paid", SIZE)
    pw = env.path("password")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    cfg = env.path("config.json")
    with open(cfg, "w") as f:
        json.dump({"download_dir": env.src, "state_dir": env.path("daemon-state"),
                   "peer_port": 0, "port_forwarding": False, "rpc_port": 0, "rpc_username": "u",
                   "rpc_password": "p",
                   "state_interval": 1,
                   "sell": {"enabled": True, "keystore": sks, "password_file": pw,
                            "node": env.node_url, "token": "btt", "price": str(PRICE)}}, f)
    daemon = env.start_daemon(cfg)
    with open(env.torrent_file, "rb") as f:
        env.rpc("torrent-add", metainfo=base64.b64encode(f.read()).decode())
    seeding = wait_until(lambda: env.torrent(["status", "percentDone"])["status"] == 6, 20, 0.2)
    check(seeding, "the daemon does not seed its data: %s" % env.torrent(["status", "percentDone"]))

    # One payer and one free leecher at once.
    os.makedirs(env.path("free"))
    free = env.lt_download("free", env.torrent_file, env.path("free"),
                           ["127.0.0.1:%d" % daemon.port], timeout=60)
    seen = paying_download(env, "alice", aks, env.path("out-alice"), daemon, free)
    check(seen == {aaddr}, "torrent-get's peers named payers %s, expected %s" % (seen, aaddr))
    first = reconcile(env, seller, alice, expect_paid=owed(SIZE, PRICE), all_settled=True,
                      none_failed=True)
    txids = agree(env, ih, seller, first, {aaddr}, first)

    # The torrent's own price, in whole BTT: its terms at once; a bad one changes nothing.
    own = "3.000000000000000011btt"
    env.rpc("torrent-set", ids=[1], bttnodePrice=own)
    check_own_price(env, own)
    ans, env.sid = rpc_call(env.rpc_port, AUTH, {"method": "torrent-set", "arguments": {
        "ids": [1], "bttnodePrice": "1trx"}}, env.sid)
    check("bttnodePrice" in ans.get("result", ""), "a price in TRX for a BTT torrent: %s" % ans)
    check_own_price(env, own)

    # A restart: the same earnings, from the ledger; the metrics count this run only.
    t0 = time.time()
    rc = env.stop(daemon, signal.SIGTERM)
    check(rc == 0, "SIGTERM: the daemon exited with %s" % rc)
    env.note("SIGTERM: exited 0 in %.2f s" % (time.time() - t0))
    daemon = env.start_daemon(cfg)
    wait_log(daemon, r"^1 torrents in ", 10)
    again = wait_until(lambda: env.torrent(["status"])["status"] == 6, 20, 0.2)
    check(again, "the torrent is not seeding after the restart")
    check(sorted(agree(env, ih, seller, first, {aaddr}, 0)) == sorted(txids),
          "the txids changed across the restart")

    # A second payer after the restart is credited in the same ledger, at the torrent's price.
    check_own_price(env, own)
    bob = Party(env, bks, baddr, TRC20)
    seen = paying_download(env, "bob", bks, env.path("out-bob"), daemon, max_price=OWN_PRICE)
    check(seen == {baddr}, "after the restart, torrent-get's peers named payers %s" % seen)
    second = owed(SIZE, OWN_PRICE)

    def settled():
        pays = env.ledger(bks)[0]
        creds = env.ledger(sks)[1]
        return (pays and all(p["state"] == "confirmed" for p in pays)
                and sum(int(c["amount"]) for c in creds) == first + second)
    check(wait_until(settled, 60, 1.0), "bob's payments did not settle: %s / %s"
          % (env.ledger(bks)[0], env.ledger(sks)[1]))
    pays = env.ledger(bks)[0]
    check(sum(int(p["amount"]) for p in pays) == second,
          "bob paid %d, the spec's rounding gives %d" % (sum(int(p["amount"]) for p in pays),
                                                        second))
    fell, _ = bob.growth()
    check(-fell == second, "bob's BTT fell by %d on chain, he paid %d" % (-fell, second))
    agree(env, ih, seller, first + second, {aaddr, baddr}, second)
    rc = env.stop(daemon, signal.SIGTERM)
    check(rc == 0, "SIGTERM: the daemon exited with %s" % rc)


if __name__ == "__main__":
    sys.exit(runner_main({"paid_daemon": paid_daemon}, Env))
