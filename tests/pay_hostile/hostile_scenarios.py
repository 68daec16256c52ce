#!/usr/bin/python3
"""Hostile btt_pay peers against a priced `bttnode seed` on its own devnet. Each scenario is
one CTest test:

  hostile_scenarios.py --bttnode PATH SCENARIO

Every scenario starts a devnet (blocks every 300 ms), imports genesis test keys as the paying
wallets (on stdin), creates a fresh seeder wallet, and seeds a random 8 MiB torrent at a
TRC-10 BTT price. pay_peer.py plays the downloader. The rules checked are those of
docs/btt_pay.md ("Verification by the seeder", "Serving and choking"); the seeder's credits
are read from its ledger (read-only) and, when available, `bttnode earnings --json`.
"""
import os
import re
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import pay_peer  # noqa: E402
from pay_peer import MIB, BLOCK, BlockQueue, Closed, PayPeer, Torrent  # noqa: E402
from scenario_lib import (Env as BaseEnv, Fail, assert_same, check, free_port,  # noqa: E402
                          genesis_json, log_text, runner_main, wait_log, write_random)

PASSWORD = "pay-hostile-test-only"
TOKEN = "trc10:1002000"
PRICE = 1000000           # base units (1 BTT with 6 decimals) per MiB
SIZE = 8 * MIB + 12345    # torrent payload
PIPELINE = 8              # requests a hostile peer keeps outstanding


class Env(BaseEnv):
    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-payhostile-", password=PASSWORD)
        os.environ.update(BTTNODE_PASSWORD=PASSWORD)  # for pay_peer's message sign
        self.genesis = genesis_json()

    # ---- chain and wallets
    def start_devnet(self, name="devnet"):
        return super().start_devnet(name)[1]

    def send(self, ks, node, to, amount, token=TOKEN, ledger=None):
        argv = [self.bttnode, "wallet", "send", "--keystore", ks, "--node", node, "--to", to,
                "--amount", str(amount), "--token", token, "--wait"]
        if ledger:
            argv += ["--ledger", ledger]
        txid = self.run(argv).splitlines()[0].strip()
        check(re.fullmatch(r"[0-9a-f]{64}", txid), "wallet send printed no txid: %r" % txid)
        self.log("paid %d %s to %s: txid %s" % (amount, token, to, txid))
        return txid

    # ---- torrent and seeder
    def make_torrent(self):
        data = self.path("seed", "payload.bin")
        os.makedirs(os.path.dirname(data))
        write_random(data, SIZE)
        torrent = self.path("payload.torrent")
        self.run([self.bttnode, "create-torrent", data, "-o", torrent,
                  "--piece-length", "256K"])
        return torrent

    def start_seeder(self, torrent, keystore, node, credit, extra=(), token=TOKEN, price=PRICE):
        port = free_port()
        p = self.spawn("seeder", [self.bttnode, "seed", torrent, "--data", self.path("seed"),
                                  "--port", str(port), "--keystore", keystore, "--node", node,
                                  "--token", token, "--price", str(price), "--credit",
                                  str(credit), *extra])
        wait_log(p, r"^seeding ", 60)
        wait_log(p, r"^btt_pay: selling at", 30)
        return p, port

    # ---- the seeder's credits
    def credits(self, keystore):
        """Rows of the seeder ledger's credits table (read-only), as dicts."""
        db = keystore + ".ledger.db"
        if not os.path.exists(db):
            return []
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute("SELECT * FROM credits")]
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        finally:
            con.close()

    def earnings_json(self, keystore):
        """`bttnode earnings --json` output, or None when the command is not there yet."""
        out = subprocess.run([self.bttnode, "earnings", "--keystore", keystore, "--json"],
                             capture_output=True, text=True, timeout=60, env=self.env)
        if out.returncode != 0:
            self.log("earnings --json: exit %d: %s" % (out.returncode, out.stderr.strip()))
            return None
        return out.stdout

    def assert_not_credited(self, keystore, txid):
        rows = self.credits(keystore)
        check(all(r["txid"].lower() != txid.lower() for r in rows),
              "the seeder's ledger credited txid %s: %r" % (txid, rows))
        text = self.earnings_json(keystore)
        if text is not None:
            check(txid.lower() not in text.lower(),
                  "bttnode earnings shows txid %s:\n%s" % (txid, text))

    def assert_credited_once(self, keystore, txid, amount):
        rows = [r for r in self.credits(keystore) if r["txid"].lower() == txid.lower()]
        check(len(rows) == 1, "txid %s credited %d times in the ledger" % (txid, len(rows)))
        check(int(rows[0]["amount"]) == amount,
              "txid %s credited %s, paid %d" % (txid, rows[0]["amount"], amount))
        text = self.earnings_json(keystore)
        if text is not None:
            check(txid.lower() in text.lower(), "bttnode earnings lacks txid %s" % txid)


# ---- helpers shared by the scenarios


# The hostile peer's identity, the same on every connection of a scenario: on loopback,
# where every peer shares one address, a seeder can only ban a peer id and a listen port.
IDENTITY = dict(peer_id=b"-PY0001-" + os.urandom(12), listen_port=free_port())


def connect(env, torrent, port, payer_ks, payer_addr):
    """A peer that is bound and has bid the asking price."""
    peer = PayPeer(torrent, "127.0.0.1", port, log=env.log, **IDENTITY)
    terms = peer.wait_terms()
    check(terms.get("v") == 1, "terms v is %r" % terms.get("v"))
    check(terms["token"].decode() == TOKEN, "terms token %r" % terms["token"])
    check(terms["price"] == PRICE, "terms price %r" % terms["price"])
    check(len(terms["nonce"]) == 16, "terms nonce is %d bytes" % len(terms["nonce"]))
    peer.bind(env.bttnode, payer_ks, payer_addr)
    peer.bid()
    return peer


def download_some(peer, nbytes, timeout=60):
    """Receives at least `nbytes` payload bytes (the peer stays within credit)."""
    blocks = BlockQueue(peer.torrent, cycle=True)
    deadline = time.time() + timeout
    while peer.bytes < nbytes:
        check(time.time() < deadline, "only %d of %d bytes served in %ds"
              % (peer.bytes, nbytes, timeout))
        peer.request_blocks(blocks, PIPELINE, limit_bytes=nbytes)
        peer.poll(0.2)


def wait_reject(peer, timeout=150):
    """Waits for the first reject; returns its reason. A seeder that hangs up right after
    the reject (a ban) is fine as long as the reject came first. The timeout leaves room for
    a seeder that gives an unknown txid a grace period (it may still be on its way). Fails on
    a receipt that came meanwhile."""
    receipts = len(peer.receipts)
    try:
        peer.wait(lambda: peer.rejects or len(peer.receipts) > receipts, timeout,
                  "a reject or receipt")
    except Closed:
        pass
    check(len(peer.receipts) == receipts, "the seeder sent a receipt: %r"
          % peer.receipts[receipts:])
    check(peer.rejects, "the seeder closed the connection without a reject")
    return peer.rejects[0]["reason"].decode()


def connection_refused(env, torrent, port, settle=6.0):
    """True when a new connection from us (same peer id and listen port) is refused or
    closed at once; False when it stays open or is served."""
    try:
        p = PayPeer(torrent, "127.0.0.1", port, log=None, timeout=10, **IDENTITY)
    except (OSError, RuntimeError, TimeoutError, Closed):
        return True
    try:
        deadline = time.time() + settle
        while time.time() < deadline:
            p.poll(0.2)
            if p.bytes or not p.choked:
                return False
        return False
    except Closed:
        return True
    finally:
        p.close()


def assert_banned(env, peer, seeder, torrent, port, timeout=30):
    """The seeder hung up on `peer`, refuses a new connection and says `banned`."""
    try:
        peer.wait(lambda: False, timeout, "the seeder to close the connection")
    except Closed:
        pass
    except TimeoutError:
        raise Fail("the seeder kept the connection open %ds after the offence" % timeout)
    check(connection_refused(env, torrent, port), "a new connection was served after the ban")
    wait_log(seeder, r"^banned ", 10)


def setup(env, credit, seeder_extra=(), token=TOKEN, price=PRICE):
    node = env.start_devnet()
    payer_ks, payer = env.import_genesis("alice")
    seeder_ks, seeder_addr = env.new_wallet("seeder")
    torrent_path = env.make_torrent()
    seeder, port = env.start_seeder(torrent_path, seeder_ks, node, credit, seeder_extra, token,
                                    price)
    return dict(node=node, payer_ks=payer_ks, payer=payer, seeder_ks=seeder_ks,
                seeder_addr=seeder_addr, torrent=Torrent(torrent_path), seeder=seeder,
                port=port)


# ---- scenarios


def take_credit(env, s, credit):
    """Connects, binds, bids and requests blocks until the seeder chokes us; checks the
    choke came at credit (give or take what was in flight). Returns the peer."""
    inflight = PIPELINE * BLOCK
    peer = connect(env, s["torrent"], s["port"], s["payer_ks"], s["payer"])
    blocks = BlockQueue(s["torrent"], cycle=True)
    deadline = time.time() + 60
    while peer.bytes_at_choke is None:
        check(time.time() < deadline, "never choked: %d unpaid bytes served (credit %d)"
              % (peer.bytes, credit))
        peer.request_blocks(blocks, PIPELINE)
        peer.poll(0.2)
    env.log("choked after %d bytes (credit %d, %d in flight)" % (peer.bytes_at_choke, credit,
                                                                inflight))
    check(peer.bytes_at_choke >= credit - inflight,
          "choked after only %d bytes, before the credit of %d" % (peer.bytes_at_choke, credit))
    check(peer.bytes_at_choke <= credit + inflight,
          "choked only after %d bytes (credit %d + %d in flight)"
          % (peer.bytes_at_choke, credit, inflight))
    check(peer.invoices, "no invoice before the choke")
    return peer


def scenario_stops_paying(env):
    """Choked at credit; still asking while choked, never paying: banned."""
    credit = 1 * MIB
    # A small credit needs a small minimum settlement, or the seeder refuses its own terms.
    s = setup(env, credit, ["--min-settle", str(PRICE // 4)])
    peer = take_credit(env, s, credit)
    # Choked: the seeder must not send more, however much we ask (the peer has no fast
    # extension: requests while choked are dropped, never answered). Keep asking until the
    # seeder gives up on us.
    t0 = time.time()
    closed = False
    try:
        while time.time() - t0 < 90:
            peer.send_msg(pay_peer.REQUEST, struct.pack(">III", 0, 0, BLOCK))
            peer.poll(0.5)
    except Closed:
        closed = True
    env.log("%s after %.1f s choked" % ("closed" if closed else "still connected",
                                        time.time() - t0))
    check(peer.pieces_after_choke == 0, "%d payload bytes sent after the CHOKE"
          % peer.pieces_after_choke)
    check(closed, "a choked peer that never pays is still connected after 90 s")
    check(connection_refused(env, s["torrent"], s["port"]),
          "a new connection was served after the ban")
    wait_log(s["seeder"], r"^banned ", 10)
    check(not env.credits(s["seeder_ks"]), "credits without any payment")


def scenario_reconnects_unpaid(env):
    """Choked at credit, then reconnecting under the same address (and peer id and listen
    port) to take more, never paying: the seeder must not let the unpaid bytes of that payer
    pass credit x 1.5 (the spec's tolerance) without a ban."""
    credit = 1 * MIB
    inflight = PIPELINE * BLOCK
    s = setup(env, credit, ["--min-settle", str(PRICE // 4)])
    peer = take_credit(env, s, credit)
    total = peer.bytes
    peer.close()
    time.sleep(1)  # let the seeder see the close, or it refuses our peer id as a duplicate
    tolerance = credit + credit // 2
    banned = False
    carried_seen = 0
    for attempt in range(3):
        try:
            p = connect(env, s["torrent"], s["port"], s["payer_ks"], s["payer"])
        except (Closed, OSError, TimeoutError, RuntimeError) as e:
            env.log("reconnect %d refused: %s" % (attempt + 1, e))
            banned = True
            break
        blocks = BlockQueue(s["torrent"], cycle=True)
        end = time.time() + 6
        try:
            while time.time() < end:
                p.request_blocks(blocks, PIPELINE)
                if p.choked:  # pending requests while choked
                    p.send_msg(pay_peer.REQUEST, struct.pack(">III", 0, 0, BLOCK))
                p.poll(0.2)
        except Closed:
            env.log("reconnect %d: closed by the seeder after %d more bytes"
                    % (attempt + 1, p.bytes))
            total += p.bytes
            banned = True
            break
        finally:
            p.close()
            time.sleep(1)
        carried_seen = max([carried_seen] + [i.get("carried", 0) for i in p.invoices])
        total += p.bytes
        env.log("reconnect %d: %d more bytes, %d unpaid in all" % (attempt + 1, p.bytes, total))
        if total > tolerance + 2 * inflight:
            break  # already past what the seeder should ever have let us take
    check(banned or total <= tolerance + 2 * inflight,
          "never banned: %d unpaid bytes served over %d connections (credit %d)"
          % (total, attempt + 2, credit))
    check(total <= tolerance + 2 * inflight,
          "%d unpaid bytes served before the ban (credit %d, tolerance x1.5 = %d)"
          % (total, credit, tolerance))
    check(banned or carried_seen >= credit,
          "the invoices of later sessions do not show the carried debt (max %d)" % carried_seen)
    check(not env.credits(s["seeder_ks"]), "credits without any payment")


def settle_scenario(env, pay, expected, credit=2 * MIB, seeder_extra=()):
    """Binds, downloads a little, pays through `pay(s)` -> (txid, amount) and settles it:
    the seeder must reject it with one of `expected`, credit nothing, and ban the peer."""
    s = setup(env, credit, seeder_extra)
    peer = connect(env, s["torrent"], s["port"], s["payer_ks"], s["payer"])
    download_some(peer, MIB)
    txid, amount = pay(s)
    peer.settle(txid, amount)
    reason = wait_reject(peer)
    env.log("rejected: %s" % reason)
    check(reason in expected, "reject reason %r, expected %s" % (reason, " or ".join(expected)))
    rej = peer.rejects[0]
    if "txid" in rej:
        check(rej["txid"] == bytes.fromhex(txid), "the reject names another txid")
    wait_log(s["seeder"], r"^refused txid %s.*%s" % (txid, reason), 10)
    env.assert_not_credited(s["seeder_ks"], txid)
    assert_banned(env, peer, s["seeder"], s["torrent"], s["port"])
    env.assert_not_credited(s["seeder_ks"], txid)
    return s


def scenario_forged_settle(env):
    settle_scenario(env, lambda s: (os.urandom(32).hex(), PRICE), ["unknown_tx"])


def scenario_wrong_recipient(env):
    carol = [a for a in env.genesis["accounts"] if a["name"] == "carol"][0]["address"]
    settle_scenario(env, lambda s: (env.send(s["payer_ks"], s["node"], carol, PRICE), PRICE),
                    ["wrong_recipient"])


def scenario_wrong_token(env):
    # The seeder sells for TRC-10 BTT; the peer pays the same number of sun in TRX.
    settle_scenario(env, lambda s: (env.send(s["payer_ks"], s["node"], s["seeder_addr"], PRICE,
                                             token="trx"), PRICE), ["wrong_token"])


def scenario_wrong_amount(env):
    # Pays half and claims the full price in the settle.
    settle_scenario(env, lambda s: (env.send(s["payer_ks"], s["node"], s["seeder_addr"],
                                             PRICE // 2), PRICE), ["wrong_amount"])


def scenario_wrong_sender(env):
    def pay(s):
        bob_ks, _ = env.import_genesis("bob")
        return env.send(bob_ks, s["node"], s["seeder_addr"], PRICE), PRICE
    settle_scenario(env, pay, ["wrong_sender"])


def scenario_wrong_chain(env):
    def pay(s):
        other = env.start_devnet("devnet2")
        return env.send(s["payer_ks"], other, s["seeder_addr"], PRICE,
                        ledger=env.path("devnet2.ledger.db")), PRICE
    settle_scenario(env, pay, ["unknown_tx", "wrong_chain"])


def scenario_replayed_tx(env):
    s = setup(env, 2 * MIB)
    peer = connect(env, s["torrent"], s["port"], s["payer_ks"], s["payer"])
    download_some(peer, MIB)
    txid = env.send(s["payer_ks"], s["node"], s["seeder_addr"], PRICE)
    peer.settle(txid, PRICE)
    peer.wait(lambda: peer.receipts or peer.rejects, 60, "a receipt")
    check(not peer.rejects, "a correct payment was rejected: %r" % peer.rejects)
    r = peer.receipts[0]
    check(r["txid"] == bytes.fromhex(txid), "the receipt names another txid")
    check(pay_peer.as_int(r["credited"]) == PRICE, "credited %r of %d" % (r["credited"], PRICE))
    wait_log(s["seeder"], r"^credited %d .*txid %s" % (PRICE, txid), 10)
    env.assert_credited_once(s["seeder_ks"], txid, PRICE)

    peer.settle(txid, PRICE)
    reason = wait_reject(peer)
    env.log("replay rejected: %s" % reason)
    check(reason == "replayed_tx", "reject reason %r, expected replayed_tx" % reason)
    check(len(peer.receipts) == 1, "a second receipt for the replay")
    env.assert_credited_once(s["seeder_ks"], txid, PRICE)
    assert_banned(env, peer, s["seeder"], s["torrent"], s["port"])
    env.assert_credited_once(s["seeder_ks"], txid, PRICE)


def scenario_unconfirmed(env):
    """A real payment settled before its block has the seeder's --confirmations: answered
    `unconfirmed` with no credit and no ban, then credited once the confirmations are there."""
    confirmations = 30  # about 9 s of 300 ms blocks, well past the seeder's quick rechecks
    s = setup(env, 4 * MIB, ["--confirmations", str(confirmations)])
    peer = connect(env, s["torrent"], s["port"], s["payer_ks"], s["payer"])
    download_some(peer, MIB)
    txid = env.send(s["payer_ks"], s["node"], s["seeder_addr"], PRICE)  # in a block: 1 conf
    t0 = time.time()
    peer.settle(txid, PRICE)
    reason = wait_reject(peer, timeout=30)
    env.log("%s after %.1f s" % (reason, time.time() - t0))
    check(reason == "unconfirmed", "reject reason %r, expected unconfirmed" % reason)
    check(peer.rejects[0].get("txid") == bytes.fromhex(txid), "the reject names another txid")
    check(b"confirmations" in peer.rejects[0].get("msg", b""),
          "the reject does not say how far the confirmations are: %r" % peer.rejects[0])
    env.assert_not_credited(s["seeder_ks"], txid)
    wait_log(s["seeder"], r"^txid %s .*not confirmed yet" % txid, 10)
    # Not a refusal: the connection stays open and the receipt follows the confirmations.
    peer.wait(lambda: peer.receipts, 90, "the receipt once the block is confirmed")
    receipt = peer.receipts[0]
    check(receipt["txid"] == bytes.fromhex(txid), "the receipt names another txid")
    check(pay_peer.as_int(receipt["credited"]) == PRICE, "credited %r" % receipt["credited"])
    env.assert_credited_once(s["seeder_ks"], txid, PRICE)
    check(len(peer.rejects) == 1, "more rejects: %r" % peer.rejects)
    check(not re.search(r"(?m)^banned ", log_text(s["seeder"])), "the seeder banned the payer")


def scenario_honest(env):
    # Payments take a few blocks each: a credit of 6 MiB and settlements of 4 MiB keep the
    # count low while the peer stays within credit all along.
    s = setup(env, 6 * MIB, ["--min-settle", str(4 * PRICE)])
    peer = connect(env, s["torrent"], s["port"], s["payer_ks"], s["payer"])

    class Args:
        bttnode, keystore, node = env.bttnode, s["payer_ks"], s["node"]
    settled = pay_peer.run_honest(peer, Args, s["payer"], TOKEN, env.log, timeout=180)
    env.log("downloaded %d bytes, %d settlements" % (peer.bytes, len(settled)))
    check(peer.bytes >= s["torrent"].length, "only %d of %d bytes" % (peer.bytes,
                                                                      s["torrent"].length))
    check(not peer.rejects, "rejects: %r" % peer.rejects)
    check(peer.chokes == 0, "an honest peer within credit was choked %d times" % peer.chokes)
    check(len(peer.receipts) == len(settled), "%d receipts for %d settlements"
          % (len(peer.receipts), len(settled)))
    total = sum(a for _, a in settled)
    expected = pay_peer.owed(s["torrent"].length, PRICE)
    check(total == expected, "paid %d in all, owed(%d bytes) is %d"
          % (total, s["torrent"].length, expected))
    receipts = {r["txid"].hex(): pay_peer.as_int(r["credited"]) for r in peer.receipts}
    for txid, amount in settled:
        check(receipts.get(txid) == amount, "receipt for %s: %r, paid %d"
              % (txid, receipts.get(txid), amount))
        env.assert_credited_once(s["seeder_ks"], txid, amount)
    check(pay_peer.as_int(peer.receipts[-1]["paid"]) == total,
          "the last receipt says %r paid, %d settled" % (peer.receipts[-1]["paid"], total))
    # The chain agrees: the fresh seeder wallet holds exactly what was credited.
    bal = env.run([env.bttnode, "wallet", "balance", "--keystore", s["seeder_ks"], "--node",
                   s["node"]])
    m = re.search(r"(?m)^trc10:1002000: (\d+)", bal)
    env.log("seeder balance:\n" + bal.strip())
    check(m and int(m.group(1)) == total, "the seeder's TRC-10 balance is not %d:\n%s"
          % (total, bal))
    check("banned" not in log_text(s["seeder"]), "the seeder banned the honest peer")


def scenario_free_rider(env):
    """A fresh address with no balance bids an absurd price it could never pay: it gets no
    priority and no credit (told `unfunded`, served as an ordinary peer), and a real payer
    beside it keeps the seeder's rate."""
    rate = 2 * MIB
    env.block_ms = 3000
    s = setup(env, 4 * MIB, ["--max-up-rate", str(rate)])
    ks, addr = env.new_wallet("rider")
    rider = PayPeer(s["torrent"], "127.0.0.1", s["port"], log=env.log, **IDENTITY)
    rider.wait_terms()
    rider.bind(env.bttnode, ks, addr)
    rider.bid(price=str(10 ** 30))
    blocks = BlockQueue(s["torrent"], cycle=True)
    deadline = time.time() + 20
    while not rider.rejects:
        check(time.time() < deadline, "no reject for an unfunded bid of 10^30 per MiB")
        rider.request_blocks(blocks, PIPELINE)
        rider.poll(0.1)
    reason = rider.rejects[0]["reason"].decode()
    check(reason == "unfunded", "the unfunded bid was answered %r, not 'unfunded'" % reason)
    # A real payer (bttnode) starts while the rider keeps asking for blocks.
    out = env.path("out-payer")
    payer = env.spawn("payer", [env.bttnode, "download", s["torrent"].path, "--out", out,
                                "--port", str(free_port()), "--peer", "127.0.0.1:%d" % s["port"],
                                "--keystore", s["payer_ks"], "--node", s["node"], "--token",
                                TOKEN, "--max-price", str(PRICE)])
    t0 = time.time()
    rider_start = rider.bytes
    while payer.poll() is None:
        check(time.time() - t0 < 120, "the payer did not finish in 120 s")
        if not rider.closed:
            try:
                rider.request_blocks(blocks, PIPELINE)
                rider.poll(0.05)
            except Closed:
                pass
        else:
            time.sleep(0.05)
        if not hasattr(payer, "done_at") and re.search(r"^complete: ", log_text(payer), re.M):
            payer.done_at = time.time() - t0
            payer.rider_bytes = rider.bytes - rider_start
    check(payer.returncode == 0, "the payer exited with %s" % payer.returncode)
    took = getattr(payer, "done_at", time.time() - t0)
    rider_bytes = getattr(payer, "rider_bytes", rider.bytes - rider_start)
    ideal = SIZE / (0.9 * rate)
    env.log("payer %.1f s (ideal %.1f s at 90%% of %d B/s); the rider got %d bytes meanwhile"
            % (took, ideal, rate, rider_bytes))
    check(took <= ideal * 1.5 + 3, "the payer took %.1f s beside the rider (ideal %.1f s)"
          % (took, ideal))
    check(rider_bytes <= SIZE // 3, "the rider got %d bytes while the payer downloaded %d"
          % (rider_bytes, SIZE))
    check(not re.search(r"^banned ", log_text(s["seeder"]), re.M),
          "the seeder banned someone: the rider is an ordinary peer, the payer honest")


def scenario_double_spend(env):
    """A version-2 payer settles with a signed TRC-20 transfer after draining its balance with
    another transaction: the seeder's node accepts it, so it is credited provisionally, but it
    reverts in its block. The seeder bans the payer, and what it served unpaid stays within the
    bound of the spec: (1 + 0.5) x min(max_credit, credit + 2V) + V, V its provisional limit."""
    env.block_ms = 3000  # mainnet's: the latency provisional credit has to cover
    token = "trc20:" + env.genesis["trc20"]["contract_address"]
    price = 10 ** 18  # one BTT per MiB
    credit, rate = 4 * MIB, 2 * MIB
    s = setup(env, credit, ["--max-up-rate", str(rate)], token=token, price=price)
    peer = PayPeer(s["torrent"], "127.0.0.1", s["port"], log=env.log, version=2, **IDENTITY)
    terms = peer.wait_terms()
    check(terms.get("v") == 2, "terms v is %r, not 2" % terms.get("v"))
    peer.bind(env.bttnode, s["payer_ks"], s["payer"])
    peer.bid()
    download_some(peer, 3 * MIB)
    # The drain: every BTT of the payer goes elsewhere, in a block, before it settles.
    bal = env.run([env.bttnode, "wallet", "balance", "--keystore", s["payer_ks"], "--node",
                   s["node"], "--trc20", env.genesis["trc20"]["contract_address"]])
    m = re.search(r"(?m)^trc20:\S+: (\d+)", bal)
    check(m, "no TRC-20 balance in:\n%s" % bal)
    _, sink = env.new_wallet("sink")
    env.send(s["payer_ks"], s["node"], sink, int(m.group(1)), token=token)
    amount = pay_peer.owed(peer.bytes, price)
    txid, tx = pay_peer.signed_transaction(env.bttnode, s["payer_ks"], s["node"], token,
                                           s["payer"], s["seeder_addr"], amount, env=env.env)
    peer.settle(txid, amount, tx=tx)
    # Take what the provisional credit allows until the seeder finds the transaction failed.
    blocks = BlockQueue(s["torrent"], cycle=True)
    deadline = time.time() + 60
    try:
        while time.time() < deadline:
            peer.request_blocks(blocks, PIPELINE)
            peer.poll(0.1)
    except Closed:
        pass
    check(peer.closed, "the seeder still serves a payer whose payment reverted")
    provisional = [r for r in peer.receipts if r.get("prov") == 1]
    env.log("served %d bytes unpaid; %d provisional receipts; rejects %r"
            % (peer.bytes, len(provisional), [r["reason"] for r in peer.rejects]))
    check(provisional, "the node-accepted transfer got no provisional credit")
    check(any(r["reason"] == b"failed_tx" for r in peer.rejects),
          "the reverted transfer was not refused as failed_tx: %r" % peer.rejects)
    wait_log(s["seeder"], r"^banned ", 10)
    # The bound: V is at most twice the measured rate (under the limit, with 25% for bursts)
    # times the settlement latency (a 3 s block + 1 s).
    v = max(credit, int(2 * rate * 1.25 * 4))
    bound = int(1.5 * min(1024 * MIB, credit + 2 * v)) + v
    check(peer.bytes <= bound, "served %d bytes unpaid, above the bound %d" % (peer.bytes, bound))
    env.assert_not_credited(s["seeder_ks"], txid)


# ---- settlement flood


class DelayProxy:
    """A TCP relay to (host, port) that holds each request chunk `delay` seconds: the seeder's
    full node seen across a network (the answers come back at once)."""

    def __init__(self, host, port, delay):
        self.target, self.delay = (host, port), delay
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, server, self.delay),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, 0), daemon=True).start()

    @staticmethod
    def _pipe(src, dst, delay):
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def node_of(url):
    m = re.match(r"https?://([^:/]+):(\d+)", url)
    return m.group(1), int(m.group(2))


class Flood:
    """`peers` hostile peers, each bound to an address without a record, sending settlements
    of random txids as fast as the seeder takes them (it answers `busy` beyond its caps), and
    coming back under a new peer id when banned, until `total` are sent or stop()."""

    def __init__(self, env, torrent, port, wallets, peers, total):
        self.env, self.torrent, self.port = env, torrent, port
        self.wallets, self.total = wallets, total
        self.sent = 0
        self.busy = 0
        self.bans = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(peers)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(30)

    def _take(self, n):
        with self.lock:
            n = min(n, self.total - self.sent)
            self.sent += max(n, 0)
            return n

    def _run(self, i):
        ks, addr = self.wallets[i % len(self.wallets)]
        while not self.stopping and self.sent < self.total:
            try:
                peer = PayPeer(self.torrent, "127.0.0.1", self.port, timeout=10,
                               listen_port=free_port())
                peer.wait_terms()
                peer.bind(self.env.bttnode, ks, addr)
                answered = 0
                while not self.stopping:
                    n = self._take(8)
                    if n <= 0:
                        break
                    for _ in range(n):
                        peer.settle(os.urandom(32), PRICE)
                    # About 128 a second from 16 peers: the flood lasts the honest download.
                    deadline = time.time() + 1.0
                    while time.time() < deadline:
                        peer.poll(0.1)
                    busy = sum(1 for r in peer.rejects[answered:] if r["reason"] == b"busy")
                    answered = len(peer.rejects)
                    with self.lock:
                        self.busy += busy
                while not self.stopping:
                    peer.poll(0.2)  # stays, its settlements under verification
            except Closed:
                with self.lock:
                    self.bans += 1
            except (OSError, RuntimeError, TimeoutError):
                time.sleep(0.2)


def receipt_delays(env, payer, seeder, timeout):
    """Waits for the download `payer` to finish; returns its settlements' delays in seconds
    from its "paid ... txid" line to the seeder's "credited ... txid" line, each seen by
    polling both logs."""
    paid_at, credited_at = {}, {}
    deadline = time.time() + timeout
    paid_rx = re.compile(r"^paid \d+ \S+ to \S+ txid ([0-9a-f]{64})", re.M)
    cred_rx = re.compile(r"^credited \d+ \S+ from \S+ txid ([0-9a-f]{64})", re.M)
    while True:
        now = time.time()
        for m in paid_rx.finditer(log_text(payer)):
            paid_at.setdefault(m.group(1), now)
        for m in cred_rx.finditer(log_text(seeder)):
            credited_at.setdefault(m.group(1), now)
        if payer.poll() is not None and all(t in credited_at for t in paid_at):
            break
        check(now < deadline, "the payer's download and receipts not done in %ds: %d paid, "
              "%d credited" % (timeout, len(paid_at),
                               sum(1 for t in paid_at if t in credited_at)))
        time.sleep(0.05)
    check(payer.returncode == 0, "the payer's download exited with %s" % payer.returncode)
    check(paid_at, "the payer paid nothing")
    return [credited_at[t] - paid_at[t] for t in paid_at]


def paying_download(env, s, name, ks):
    out = env.path(name)
    argv = [env.bttnode, "download", s["torrent"].path, "--out", out, "--port",
            str(free_port()), "--peer", "127.0.0.1:%d" % s["port"], "--keystore", ks,
            "--node", s["node"], "--token", TOKEN, "--max-price", str(PRICE)]
    p = env.spawn(name, argv)
    p.out = out
    return p


def scenario_settlement_flood(env):
    """Hostile peers flood the seeder with settlements of random txids through a full node
    43 ms away while an honest bttnode payer downloads: the payer's receipts come about as
    soon as without the flood, it is not banned, and the seeder stops within 10 s."""
    node = env.start_devnet()
    proxy = DelayProxy(*node_of(node), delay=float(os.environ.get("FLOOD_NODE_DELAY", "0.043")))
    seeder_node = "http://127.0.0.1:%d" % proxy.port
    alice_ks, alice = env.import_genesis("alice")
    bob_ks, bob = env.import_genesis("bob")
    seeder_ks, seeder_addr = env.new_wallet("seeder")
    wallets = [env.new_wallet("mallory%d" % i) for i in range(4)]
    torrent_path = env.make_torrent()
    seeder, port = env.start_seeder(torrent_path, seeder_ks, seeder_node, 2 * MIB,
                                    ["--min-settle", str(PRICE)])
    s = dict(node=node, torrent=Torrent(torrent_path), port=port)

    quiet = receipt_delays(env, paying_download(env, s, "alice", alice_ks), seeder, 180)
    env.log("without the flood: %d settlements, receipt delay median %.2f s, max %.2f s"
            % (len(quiet), statistics.median(quiet), max(quiet)))

    total = int(os.environ.get("FLOOD_SETTLEMENTS", "2000"))
    flood = Flood(env, s["torrent"], port, wallets, peers=16, total=total)
    flood.start()
    # The flood under way before the honest payer (a new one, without a record) starts.
    deadline = time.time() + 60
    while flood.sent < min(total, 300):
        check(time.time() < deadline, "the flood sent only %d settlements in 60 s" % flood.sent)
        time.sleep(0.1)
    bob_p = paying_download(env, s, "bob", bob_ks)
    flooded = receipt_delays(env, bob_p, seeder, 240)
    env.log("with the flood (%d fake settlements sent, %d answered busy, %d hostile "
            "sessions ended): %d settlements, receipt delay median %.2f s, max %.2f s"
            % (flood.sent, flood.busy, flood.bans, len(flooded), statistics.median(flooded),
               max(flooded)))
    assert_same(env.path("seed"), bob_p.out)
    bound = max(quiet) + 2.0
    check(max(flooded) <= bound, "a receipt under the flood came %.2f s after its payment, "
          "beyond %.2f s (the slowest without it + 2 s)" % (max(flooded), bound))
    # No ban of the honest payer: none of the connections its credits came on.
    text = log_text(seeder)
    honest = set(re.findall(r"^credited \d+ \S+ from %s txid \S+ peer (\S+)$" % bob, text,
                            re.M))
    check(honest, "no credit of %s in the seeder's log" % bob)
    banned = set(re.findall(r"^banned (\S+):", text, re.M))
    check(not honest & banned, "the seeder banned the honest payer: %s" % (honest & banned))
    check(not re.search(r"refused: (?!busy)", log_text(bob_p)),
          "the honest payer was refused: %s" % re.findall(r"refused: .*$", log_text(bob_p),
                                                          re.M))

    # Stopped in the middle of a flood, the seeder finishes within 10 s.
    flood.total = flood.sent + 2000
    time.sleep(2)
    t0 = time.time()
    env.stop(seeder, timeout=30)
    took = time.time() - t0
    flood.stop()
    env.log("SIGTERM to exit under the flood: %.2f s" % took)
    check(took <= 10, "the seeder took %.1f s to exit after SIGTERM" % took)


SCENARIOS = {name[len("scenario_"):]: fn for name, fn in globals().items()
             if name.startswith("scenario_")}


if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, Env))
