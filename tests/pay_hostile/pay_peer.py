#!/usr/bin/python3
"""A raw BitTorrent peer that speaks btt_pay (docs/btt_pay.md) to a priced `bttnode seed`,
written with the standard library alone so that it can misbehave in ways a real client never
would. hostile_scenarios.py drives it; it also runs on its own:

  pay_peer.py --bttnode PATH --torrent FILE --seeder HOST:PORT --keystore F MODE [options]

MODE is one of
  honest        requests the whole torrent, never more than `credit` ahead of what it paid,
                and pays each invoice for real (`bttnode wallet send`), then settles it
  stops_paying  binds, bids, requests blocks and never settles
  forged        binds, bids, receives a little and settles a random txid
  settle        binds, bids, receives a little and settles --txid/--amount as given

The keystore password comes from BTTNODE_PASSWORD, as for bttnode itself. The bind text is
signed by `bttnode message sign`. The peer does not set the fast-extension bit, so a CHOKE
from the seeder drops every request it holds (BEP 3).
"""
import argparse
import hashlib
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import bencode  # noqa: E402

MIB = 1 << 20
BLOCK = 16384
PAY_LOCAL_ID = 7  # the id we ask the seeder to use for btt_pay messages it sends us

# BEP 3 message ids
CHOKE, UNCHOKE, INTERESTED, NOT_INTERESTED, HAVE, BITFIELD, REQUEST, PIECE, CANCEL = range(9)
HAVE_ALL, HAVE_NONE, REJECT_REQUEST, EXTENDED = 14, 15, 16, 20


# ---- bdecode, by hand (bencode is scenario_lib's)


def bdecode_at(data, i):
    """Decodes the value at data[i:]; returns (value, end). Dict keys become str."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode_at(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode_at(data, i)
            v, i = bdecode_at(data, i)
            out[k.decode("latin-1")] = v
        return out, i + 1
    if c.isdigit():
        colon = data.index(b":", i)
        n = int(data[i:colon])
        start = colon + 1
        if start + n > len(data):
            raise ValueError("truncated string")
        return data[start:start + n], start + n
    raise ValueError("bad bencode at %d" % i)


def bdecode(data):
    v, end = bdecode_at(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after bencode")
    return v


def owed(nbytes, price):
    """The spec's one rounding rule: floor(bytes x price / MiB)."""
    return nbytes * price // MIB


def as_int(v):
    """An amount: a bencoded integer or a decimal byte string."""
    return int(v) if isinstance(v, int) else int(v.decode())


class Torrent:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            raw = f.read()
        top, _ = bdecode_at(raw, 0)
        # The info hash is over the info dictionary's own bytes: find where it starts.
        i = 1
        while raw[i:i + 1] != b"e":
            k, i = bdecode_at(raw, i)
            start = i
            v, i = bdecode_at(raw, i)
            if k == b"info":
                self.info_hash = hashlib.sha1(raw[start:i]).digest()
        info = top["info"]
        self.piece_length = info["piece length"]
        if "length" in info:
            self.length = info["length"]
        else:
            self.length = sum(f["length"] for f in info["files"])
        self.num_pieces = len(info["pieces"]) // 20

    def piece_size(self, index):
        if index == self.num_pieces - 1:
            return self.length - index * self.piece_length
        return self.piece_length

    def blocks(self):
        """Every (piece, offset, size) of the torrent, in order."""
        for p in range(self.num_pieces):
            size = self.piece_size(p)
            for off in range(0, size, BLOCK):
                yield p, off, min(BLOCK, size - off)


class Closed(Exception):
    pass


def sign_message(bttnode, keystore, text):
    out = subprocess.run([bttnode, "message", "sign", "--keystore", keystore, "--message", text],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("message sign failed: %s" % out.stderr.strip())
    sig = out.stdout.strip()
    if sig.startswith("0x"):
        sig = sig[2:]
    raw = bytes.fromhex(sig)
    if len(raw) != 65:
        raise RuntimeError("signature is not 65 bytes: %s" % out.stdout)
    return raw


def bind_text(chain, info_hash, seeder_id, leecher_id, nonce):
    return "\n".join([
        "btt_pay bind v1",
        "chain:%s" % chain,
        "info_hash:%s" % info_hash.hex(),
        "seeder:%s" % seeder_id.hex(),
        "leecher:%s" % leecher_id.hex(),
        "nonce:%s" % nonce.hex(),
    ])


class PayPeer:
    """One connection to a seeder. Everything it saw is kept in attributes for the tests."""

    def __init__(self, torrent, host, port, log=None, timeout=30, peer_id=None,
                 listen_port=None, version=1):
        self.version = version        # the btt_pay version it advertises and speaks
        self.torrent = torrent
        self.host, self.port = host, port
        self.log = log or (lambda s: None)
        # A peer that comes back keeps its identity: its peer id and the listen port it
        # announces ("p"), which is how a seeder tells peers apart on one address (loopback).
        self.peer_id = peer_id or b"-PY0001-" + os.urandom(12)
        self.listen_port = listen_port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.last_send = time.time()
        self.closed = False
        self.seeder_id = None
        self.seeder_pay_id = None     # the id the seeder gave btt_pay in its "m"
        self.seeder_ext = None        # its extended handshake
        self.choked = True
        self.unchoked_ever = False
        self.chokes = 0               # CHOKE messages after a first UNCHOKE
        self.bytes = 0                # payload bytes received in PIECE messages
        self.bytes_at_choke = None    # payload bytes when the first CHOKE after UNCHOKE came
        self.pieces_after_choke = 0   # payload bytes received while choked
        self.terms = None
        self.invoices, self.receipts, self.rejects, self.others = [], [], [], []
        self.outstanding = {}         # (piece, offset) -> size, requested and not received
        self.requested_bytes = 0
        self.dropped = []             # requests the seeder dropped by choking
        self._handshake()

    # ---- wire
    def _send(self, data):
        self.sock.sendall(data)
        self.last_send = time.time()

    def send_msg(self, msg_id, payload=b""):
        self._send(struct.pack(">IB", 1 + len(payload), msg_id) + payload)

    def send_ext(self, ext_id, body):
        self.send_msg(EXTENDED, bytes([ext_id]) + body)

    def send_pay(self, kind, **fields):
        if self.seeder_pay_id is None:
            raise RuntimeError("the seeder did not advertise btt_pay")
        d = {"t": kind, "v": self.version}
        d.update(fields)
        self.log("-> %s %s" % (kind, {k: (v.hex() if isinstance(v, bytes) and k in
                                              ("txid", "sig") else v)
                                       for k, v in fields.items()}))
        self.send_ext(self.seeder_pay_id, bencode(d))

    def _recv_into_buf(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            chunk = self.sock.recv(1 << 18)
        except (ConnectionResetError, socket.timeout, OSError):
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed()
        self.buf += chunk
        return True

    def _read_exact(self, n, timeout):
        deadline = time.time() + timeout
        while len(self.buf) < n:
            if time.time() > deadline:
                raise TimeoutError("no data from the seeder")
            self._recv_into_buf(deadline - time.time())
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _handshake(self):
        reserved = bytearray(8)
        reserved[5] |= 0x10  # BEP 10 extension protocol
        self._send(b"\x13BitTorrent protocol" + bytes(reserved) + self.torrent.info_hash
                   + self.peer_id)
        ext = {"m": {"btt_pay": PAY_LOCAL_ID}, "v": "pay_peer 1",
               "btt_pay": {"v": self.version, "role": "leech"}}
        if self.listen_port:
            ext["p"] = self.listen_port
        self.send_ext(0, bencode(ext))
        hs = self._read_exact(68, 30)
        if hs[:20] != b"\x13BitTorrent protocol" or hs[28:48] != self.torrent.info_hash:
            raise RuntimeError("bad handshake from the seeder")
        if not hs[25] & 0x10:
            raise RuntimeError("the seeder does not speak BEP 10")
        self.seeder_id = hs[48:68]
        self.send_msg(INTERESTED)

    def poll(self, timeout):
        """Reads and handles every complete message that arrives within `timeout` seconds
        (returns earlier once something was handled). Raises Closed when the seeder hangs up."""
        deadline = time.time() + timeout
        handled = False
        if time.time() - self.last_send > 30:
            self._send(b"\0\0\0\0")  # keep-alive while we wait on the seeder
        while True:
            while len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) < 4 + n:
                    break
                body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                if n:
                    self._handle(body)
                handled = True
            if handled:
                return True
            left = deadline - time.time()
            if left <= 0:
                return False
            self._recv_into_buf(left)

    def _handle(self, body):
        mid = body[0]
        if mid == CHOKE:
            if not self.choked and self.unchoked_ever:
                self.chokes += 1
                if self.bytes_at_choke is None:
                    self.bytes_at_choke = self.bytes
                self.log("<- CHOKE after %d payload bytes" % self.bytes)
            self.choked = True
            # No fast extension: the seeder dropped every request; ask again once unchoked.
            for (index, begin), size in self.outstanding.items():
                self.dropped.append((index, begin, size))
                self.requested_bytes -= size
            self.outstanding.clear()
        elif mid == UNCHOKE:
            if self.choked:
                self.log("<- UNCHOKE")
            self.choked = False
            self.unchoked_ever = True
        elif mid == PIECE:
            index, begin = struct.unpack(">II", body[1:9])
            size = len(body) - 9
            self.bytes += size
            if self.choked:
                self.pieces_after_choke += size
            self.outstanding.pop((index, begin), None)
        elif mid == EXTENDED:
            self._handle_ext(body[1], body[2:])
        # bitfield, have, have_all, ... : the seeder has everything, nothing to keep

    def _handle_ext(self, ext_id, payload):
        if ext_id == 0:
            self.seeder_ext = bdecode(payload)
            m = self.seeder_ext.get("m", {})
            if "btt_pay" in m and m["btt_pay"]:
                self.seeder_pay_id = m["btt_pay"]
            return
        if ext_id != PAY_LOCAL_ID:
            return
        msg = bdecode(payload)
        kind = msg.get("t", b"").decode("latin-1")
        if kind == "terms":
            self.terms = msg
            self.log("<- terms price %s credit %s min_settle %s token %s"
                     % (msg.get("price"), msg.get("credit"), msg.get("min_settle"),
                        msg.get("token")))
        elif kind == "invoice":
            self.invoices.append(msg)
            self.log("<- invoice seq %s bytes %s owed %s paid %s carried %s" % (
                msg.get("seq"), msg.get("bytes"), msg.get("owed"), msg.get("paid"),
                msg.get("carried", 0)))
        elif kind == "receipt":
            self.receipts.append(msg)
            self.log("<- receipt txid %s credited %s paid %s%s" % (
                msg.get("txid", b"").hex(), msg.get("credited"), msg.get("paid"),
                " provisional" if msg.get("prov") == 1 else ""))
        elif kind == "reject":
            self.rejects.append(msg)
            self.log("<- reject %s txid %s %s" % (
                msg.get("reason"), msg.get("txid", b"").hex(), msg.get("msg", b"")))
        else:
            self.others.append(msg)

    def wait(self, pred, timeout, what):
        deadline = time.time() + timeout
        while not pred():
            if time.time() > deadline:
                raise TimeoutError("timed out waiting for %s" % what)
            self.poll(min(0.5, deadline - time.time()))

    # ---- btt_pay steps
    def wait_terms(self, timeout=30):
        self.wait(lambda: self.seeder_ext is not None, timeout, "the extended handshake")
        if self.seeder_pay_id is None:
            raise RuntimeError("the seeder's extended handshake has no btt_pay: %r"
                               % self.seeder_ext)
        self.wait(lambda: self.terms is not None, timeout, "terms")
        return self.terms

    @property
    def price(self):
        return self.terms["price"]

    @property
    def credit(self):
        return self.terms["credit"]

    @property
    def min_settle(self):
        return as_int(self.terms["min_settle"])

    @property
    def seeder_addr(self):
        return self.terms["addr"].decode()

    def bind(self, bttnode, keystore, address, nonce=None):
        t = self.terms
        text = bind_text(t["chain"].decode(), self.torrent.info_hash, self.seeder_id,
                         self.peer_id, nonce if nonce is not None else t["nonce"])
        sig = sign_message(bttnode, keystore, text)
        self.send_pay("bind", addr=address, sig=sig)

    def bid(self, price=None):
        self.send_pay("bid", price=self.price if price is None else price)

    def settle(self, txid, amount, tx=None):
        if isinstance(txid, str):
            txid = bytes.fromhex(txid)
        fields = dict(txid=txid, amount=amount)
        if tx is not None:
            fields["tx"] = tx  # version 2: the signed Transaction's protobuf bytes
        self.send_pay("settle", **fields)

    # ---- downloading
    def request_blocks(self, blocks, pipeline, limit_bytes=None):
        """Keeps up to `pipeline` requests outstanding from the iterator `blocks` while
        unchoked; stops adding when requested bytes would pass `limit_bytes`."""
        if self.choked:
            return
        while len(self.outstanding) < pipeline:
            nxt = self.dropped[0] if self.dropped else blocks.peek()
            if nxt is None:
                return
            p, off, size = nxt
            if limit_bytes is not None and self.requested_bytes + size > limit_bytes:
                return
            if self.dropped:
                self.dropped.pop(0)
            else:
                next(blocks)
            self.send_msg(REQUEST, struct.pack(">III", p, off, size))
            self.outstanding[(p, off)] = size
            self.requested_bytes += size

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class BlockQueue:
    """The torrent's blocks in order, optionally round and round (for peers that must be
    served more than the torrent holds)."""

    def __init__(self, torrent, cycle=False):
        self.torrent, self.cycle = torrent, cycle
        self._it = iter(torrent.blocks())
        self._next = None
        self._fill()

    def _fill(self):
        try:
            self._next = next(self._it)
        except StopIteration:
            if self.cycle:
                self._it = iter(self.torrent.blocks())
                self._next = next(self._it)
            else:
                self._next = None

    def peek(self):
        return self._next

    def __next__(self):
        v = self._next
        if v is None:
            raise StopIteration
        self._fill()
        return v


def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def signed_transaction(bttnode, keystore, node_url, token, sender, to, amount, env=None):
    """A transfer built offline with `bttnode tx build` on the node's current block and signed
    with `bttnode tx sign`, never broadcast. Returns (txid hex, protobuf Transaction bytes)."""
    import json
    import urllib.request
    req = urllib.request.Request(node_url + "/wallet/getnowblock", data=b"{}",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        block = json.loads(r.read())
    ts = int(block["block_header"]["raw_data"]["timestamp"])
    built = subprocess.run([bttnode, "tx", "build", "--token", token, "--from", sender, "--to", to,
                            "--amount", str(amount), "--ref-block", block["blockID"],
                            "--timestamp", str(ts), "--expiration", str(ts + 60000),
                            "--fee-limit", "100000000"],
                           capture_output=True, text=True, check=True, env=env).stdout
    signed = subprocess.run([bttnode, "tx", "sign", "--keystore", keystore], input=built,
                            capture_output=True, text=True, check=True, env=env).stdout
    tx = json.loads(signed.splitlines()[0])
    raw = bytes.fromhex(tx["raw_data_hex"])
    sig = bytes.fromhex(tx["signature"][0])
    return tx["txID"], b"\x0a" + varint(len(raw)) + raw + b"\x12" + varint(len(sig)) + sig


def wallet_send(bttnode, keystore, node, to, amount, token, ledger=None, timeout=120):
    """Pays for real; returns the txid (first line of `wallet send`)."""
    argv = [bttnode, "wallet", "send", "--keystore", keystore, "--node", node, "--to", to,
            "--amount", str(amount), "--token", token, "--wait"]
    if ledger:
        argv += ["--ledger", ledger]
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError("wallet send failed (%d): %s %s" % (out.returncode, out.stdout,
                                                                out.stderr))
    return out.stdout.splitlines()[0].strip()


def start_wallet_send(bttnode, keystore, node, to, amount, token):
    argv = [bttnode, "wallet", "send", "--keystore", keystore, "--node", node, "--to", to,
            "--amount", str(amount), "--token", token, "--wait"]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run_honest(peer, args, address, token, log, timeout=180):
    """Downloads the whole torrent once, never asking for more than `credit` bytes beyond
    what its payments cover, and pays what each invoice asks (as the spec's `due`)."""
    blocks = BlockQueue(peer.torrent)
    paid = 0          # amount settled (sent in settle messages)
    credited = 0      # amount the seeder's receipts say it credited
    paying = None     # (Popen, amount) of a payment in flight
    settled = []      # (txid, amount)
    deadline = time.time() + timeout
    total = peer.torrent.length
    complete_at = None
    while True:
        if time.time() > deadline:
            raise TimeoutError("honest download not done after %ds (%d of %d bytes)"
                               % (timeout, peer.bytes, total))
        covered = credited * MIB // peer.price
        # Stay a block under the seeder's credit so that an honest peer is never over it.
        peer.request_blocks(blocks, 16, limit_bytes=covered + peer.credit - BLOCK)
        peer.poll(0.2)
        credited = sum(as_int(r["credited"]) for r in peer.receipts)
        if paying:
            proc, amount = paying
            if proc.poll() is not None:
                out, err = proc.communicate()
                if proc.returncode != 0:
                    raise RuntimeError("wallet send failed: %s" % err)
                txid = out.splitlines()[0].strip()
                peer.settle(txid, amount)
                settled.append((txid, amount))
                paid += amount
                paying = None
            continue
        due = due_of(peer, paid)
        if peer.bytes >= total and complete_at is None:
            complete_at = time.time()
        # Done once an invoice covers every byte (or, failing that, a while after the end).
        done = complete_at is not None and (
            (peer.invoices and as_int(peer.invoices[-1]["bytes"]) >= total)
            or time.time() - complete_at > 15)
        if due > 0 and (due >= peer.min_settle or done):
            log("paying %d for %d bytes" % (due, peer.bytes))
            paying = (start_wallet_send(args.bttnode, args.keystore, args.node, peer.seeder_addr,
                                        due, token), due)
        elif done and due == 0:
            break
    # Wait for the receipts of everything settled.
    peer.wait(lambda: len(peer.receipts) + len(peer.rejects) >= len(settled), 120, "receipts")
    return settled


def due_of(peer, paid):
    """The spec's due: min(invoice.owed, owed(verified bytes, bid)) - already paid. The
    peer does not hash-check, so every received byte counts as verified here."""
    if not peer.invoices:
        return 0
    inv_owed = as_int(peer.invoices[-1]["owed"])
    return max(0, min(inv_owed, owed(peer.bytes, peer.price)) - paid)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["honest", "stops_paying", "forged", "settle"])
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--seeder", required=True, help="HOST:PORT")
    ap.add_argument("--keystore", required=True)
    ap.add_argument("--node", help="full node URL (honest mode pays through it)")
    ap.add_argument("--txid")
    ap.add_argument("--amount", type=int)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()

    def log(s):
        print(s, flush=True)

    addr = subprocess.run([args.bttnode, "wallet", "address", "--keystore", args.keystore],
                          capture_output=True, text=True, check=True).stdout.strip()
    host, port = args.seeder.rsplit(":", 1)
    torrent = Torrent(args.torrent)
    peer = PayPeer(torrent, host, int(port), log)
    try:
        terms = peer.wait_terms()
        peer.bind(args.bttnode, args.keystore, addr)
        peer.bid()
        if args.mode == "honest":
            settled = run_honest(peer, args, addr, terms["token"].decode(), log)
            print(json.dumps({"settled": settled, "bytes": peer.bytes,
                              "chokes": peer.chokes,
                              "rejects": [r["reason"].decode() for r in peer.rejects]}))
            return 0
        blocks = BlockQueue(torrent, cycle=True)
        end = time.time() + args.seconds
        settled = False
        while time.time() < end:
            peer.request_blocks(blocks, 8)
            peer.poll(0.2)
            if args.mode in ("forged", "settle") and not settled and peer.bytes >= MIB // 2:
                txid = os.urandom(32) if args.mode == "forged" else args.txid
                peer.settle(txid, args.amount or peer.price)
                settled = True
        print(json.dumps({"bytes": peer.bytes, "bytes_at_choke": peer.bytes_at_choke,
                          "rejects": [r["reason"].decode() for r in peer.rejects],
                          "receipts": len(peer.receipts)}))
    except Closed:
        print(json.dumps({"closed_by_seeder": True, "bytes": peer.bytes,
                          "rejects": [r["reason"].decode() for r in peer.rejects]}))
    finally:
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
