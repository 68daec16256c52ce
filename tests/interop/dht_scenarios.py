#!/usr/bin/python3
"""DHT scenarios (BEP 5): bttnode with a DHT of python3-libtorrent nodes on 127.0.0.1, no
tracker anywhere. Each scenario is one CTest test:

  dht_scenarios.py --bttnode PATH SCENARIO

krpc_answers            bttnode's KRPC answers, checked message by message over a raw socket
magnet_from_libtorrent  bttnode downloads a trackerless magnet from a libtorrent seeder
seed_to_libtorrent      a libtorrent leecher with only the magnet finds a bttnode seeder
in_libtorrent_table     bttnode's node ends up in the routing tables of libtorrent nodes
"""
import os
import socket
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (Fail, Env as BaseEnv, assert_same, bencode, check, free_port,  # noqa: E402
                          runner_main, wait_exit, wait_log, write_random)
import lt_client  # noqa: E402

PIECE = 32768


class Env(BaseEnv):
    log_tail = 3000
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-dht-")
        self.nodes = []  # libtorrent sessions of the DHT

    def cleanup(self, ok):
        self.nodes = []
        super().cleanup(ok)

    # ---- the libtorrent DHT
    def lt_session(self, port, dht=True):
        settings = lt_client.loopback_settings(
            port,
            enable_dht=dht,
            dht_bootstrap_nodes="",
            dht_restrict_routing_ips=False,
            dht_restrict_search_ips=False,
            dht_prefer_verified_node_ids=False,
            dht_block_ratelimit=100000,
            dht_upload_rate_limit=1000000,
            dht_announce_interval=5,
            alert_mask=lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification
            | lt.alert.category_t.dht_notification)
        s = lt.session(settings)
        s.port = port
        return s

    def lt_dht(self, n):
        """n libtorrent nodes, each told of every other."""
        for _ in range(n):
            self.nodes.append(self.lt_session(free_port()))
        self.mesh()
        deadline = time.time() + 10
        while time.time() < deadline:
            if all(len(table_of(s)) >= n - 1 for s in self.nodes):
                self.log("libtorrent DHT of %d nodes ready" % n)
                return
            time.sleep(0.2)
        raise Fail("the libtorrent nodes never learnt of each other")

    def mesh(self):
        for s in self.nodes:
            for o in self.nodes:
                if o is not s:
                    s.add_dht_node(("127.0.0.1", o.port))

    def bootstrap_args(self):
        args = []
        for s in self.nodes:
            args += ["--dht-bootstrap", "127.0.0.1:%d" % s.port]
        return args

    # ---- data
    def make_torrent(self, size=3 * 1024 * 1024 + 1234):
        src = self.path("src")
        os.makedirs(src)
        write_random(os.path.join(src, "payload.bin"), size)
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(src, "payload.bin"))
        ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
        lt.set_piece_hashes(ct, src)
        torrent = self.path("payload.torrent")
        with open(torrent, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        info = lt.torrent_info(torrent)
        return src, torrent, info

    def bttnode_seed(self, name, torrent, data, extra=()):
        port = free_port()
        p = self.spawn(name, [self.bttnode, "seed", torrent, "--data", data, "--port", str(port)]
                       + list(extra))
        wait_log(p, r"seeding ", 20)
        p.port = port
        return p


def table_of(s):
    """The (ip, port) of the nodes in a libtorrent session's routing table."""
    state = s.save_state(lt.save_state_flags_t.save_dht_state)
    dht = state.get(b"dht state") or {}
    out = set()
    for n in dht.get(b"nodes", []):
        if len(n) == 6:
            out.add((socket.inet_ntoa(n[:4]), int.from_bytes(n[4:6], "big")))
    return out


def wait_announced(env, port, timeout=15, kick=None):
    """Waits until a libtorrent node of env hears an announce_peer for a peer on port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if kick:
            kick()
        for s in env.nodes:
            for a in s.pop_alerts():
                if isinstance(a, lt.dht_announce_alert) and a.port == port:
                    return
        time.sleep(0.5)
    raise Fail("no libtorrent node heard an announce for port %d" % port)


# ---------------------------------------------------------------- a tiny bencoder for KRPC

def bdec(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = bdec(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = bdec(data, i)
            v, i = bdec(data, i)
            out[k] = v
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


class Krpc:
    """A raw UDP socket that sends KRPC queries to one node and reads its answers."""

    def __init__(self, port, node_id):
        self.to = ("127.0.0.1", port)
        self.id = node_id
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.n = 0

    def send_raw(self, data, timeout=2.0):
        """Sends data; returns the first answer (not a query bttnode sends us), or None."""
        self.sock.sendto(data, self.to)
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                reply, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                return None
            msg, used = bdec(reply)
            check(used == len(reply), "trailing bytes after the answer: %r" % reply)
            if msg.get(b"y") != b"q":  # bttnode's own lookups may ask us things: not answers
                return msg

    def query(self, q, args, tid=None, extra=None):
        self.n += 1
        tid = tid if tid is not None else b"t" + bytes([self.n])
        msg = {"t": tid, "y": "q", "q": q, "a": dict(args, id=self.id)}
        msg.update(extra or {})
        reply = self.send_raw(bencode(msg))
        check(reply is not None, "no answer to %s" % q)
        check(reply.get(b"t") == tid, "%s: transaction id not echoed: %r" % (q, reply))
        return reply


def expect_response(reply, what):
    check(reply.get(b"y") == b"r", "%s: expected a response, got %r" % (what, reply))
    r = reply[b"r"]
    check(len(r.get(b"id", b"")) == 20, "%s: no 20-byte id in %r" % (what, r))
    return r


def expect_error(reply, code, what):
    check(reply.get(b"y") == b"e", "%s: expected an error, got %r" % (what, reply))
    e = reply[b"e"]
    check(isinstance(e, list) and len(e) == 2 and e[0] == code and isinstance(e[1], bytes),
          "%s: expected error %d, got %r" % (what, code, e))


def compact_nodes(blob):
    check(len(blob) % 26 == 0, "nodes is not a whole number of 26-byte entries")
    return [(blob[i:i + 20], socket.inet_ntoa(blob[i + 20:i + 24]),
             int.from_bytes(blob[i + 24:i + 26], "big")) for i in range(0, len(blob), 26)]


# ---------------------------------------------------------------- scenarios

def krpc_answers(env):
    src, torrent, info = env.make_torrent(256 * 1024)
    dead = free_port()  # nobody answers there: bttnode's DHT has no one but us
    seed = env.bttnode_seed("bttnode-seed", torrent, src, ["--dht-bootstrap", "127.0.0.1:%d" % dead])
    a = Krpc(seed.port, os.urandom(20))
    b = Krpc(seed.port, os.urandom(20))

    # ping, with a binary transaction id
    r = expect_response(a.query("ping", {}, tid=b"\x00\xff"), "ping")
    node_id = r[b"id"]
    env.log("ping answered, node id %s" % node_id.hex())

    # b queries once, so bttnode knows of it; find_node for b's id must name it
    expect_response(b.query("ping", {}), "ping from b")
    r = expect_response(a.query("find_node", {"target": b.id}), "find_node")
    nodes = compact_nodes(r.get(b"nodes", b""))
    check((b.id, "127.0.0.1", b.port) in nodes, "find_node did not return the node it knows: %r"
          % nodes)
    check(len(nodes) <= 8, "find_node returned more than K nodes")

    # get_peers: a token, and nodes since nobody announced yet
    ih = os.urandom(20)
    r = expect_response(a.query("get_peers", {"info_hash": ih}), "get_peers")
    token = r.get(b"token")
    check(token, "get_peers gave no token")
    check(b"values" not in r, "values for an info-hash nobody announced")
    compact_nodes(r.get(b"nodes", b""))

    # announce_peer with the token, then get_peers returns the peer in values
    expect_response(a.query("announce_peer", {"info_hash": ih, "port": 40001, "token": token}),
                    "announce_peer")
    r = expect_response(b.query("get_peers", {"info_hash": ih}), "get_peers after announce")
    values = r.get(b"values", [])
    check(b"\x7f\x00\x00\x01" + (40001).to_bytes(2, "big") in values,
          "the announced peer is not in values: %r" % values)

    # implied_port: the peer is stored under the datagram's source port
    expect_response(a.query("announce_peer", {"info_hash": ih, "port": 1, "implied_port": 1,
                                              "token": token}), "announce_peer implied_port")
    r = expect_response(b.query("get_peers", {"info_hash": ih}), "get_peers after implied_port")
    check(b"\x7f\x00\x00\x01" + a.port.to_bytes(2, "big") in r.get(b"values", []),
          "implied_port not honoured: %r" % r.get(b"values"))

    # a forged token, and a token given to another address (none here: a made-up one)
    expect_error(a.query("announce_peer", {"info_hash": ih, "port": 40002, "token": b"forged!!"}),
                 203, "announce_peer with a forged token")
    r = expect_response(b.query("get_peers", {"info_hash": ih}), "get_peers after forged")
    check(b"\x7f\x00\x00\x01" + (40002).to_bytes(2, "big") not in r.get(b"values", []),
          "a forged token's peer was stored")

    # malformed queries
    expect_error(a.query("find_node", {}), 203, "find_node without target")
    expect_error(a.query("get_peers", {"info_hash": b"short"}), 203, "get_peers with a short hash")
    expect_error(a.query("frobnicate", {}), 204, "unknown method")
    reply = a.send_raw(b"d1:q4:ping1:t2:zz1:y1:qe")  # no arguments
    check(reply is not None, "no answer to a ping without arguments")
    expect_error(reply, 203, "ping without arguments")
    check(a.send_raw(b"d1:q4:ping1:t2:zz1:y1:q", timeout=0.5) is None,
          "an answer to a truncated datagram")
    check(a.send_raw(b"not bencode", timeout=0.5) is None, "an answer to garbage")
    # still alive and answering after all that
    expect_response(a.query("ping", {}), "ping at the end")
    env.stop(seed)


def magnet_from_libtorrent(env):
    env.lt_dht(3)
    src, torrent, info = env.make_torrent()
    seeder = env.lt_session(free_port())
    env.nodes.append(seeder)
    env.mesh()
    h = seeder.add_torrent({"ti": info, "save_path": src,
                            "flags": lt.torrent_flags.seed_mode})
    ih = info.info_hash()
    # Until the seeder's announce is in the DHT, a lookup finds nobody.
    wait_announced(env, seeder.port, kick=h.force_dht_announce)
    env.log("seeder announced on the DHT")
    out = env.path("out")
    magnet = "magnet:?xt=urn:btih:%s" % str(ih)
    t0 = time.time()
    d = env.spawn("bttnode-dl", [env.bttnode, "download", magnet, "--out", out, "--port",
                                 str(free_port())] + env.bootstrap_args())
    wait_exit(d, 25)
    env.log("bttnode downloaded the magnet in %.1f s" % (time.time() - t0))
    assert_same(src, out)


def seed_to_libtorrent(env):
    env.lt_dht(3)
    src, torrent, info = env.make_torrent()
    seed = env.bttnode_seed("bttnode-seed", torrent, src, env.bootstrap_args())
    ih = info.info_hash()
    wait_announced(env, seed.port)
    env.log("bttnode announced on the DHT")
    leecher = env.lt_session(free_port())
    env.nodes.append(leecher)
    env.mesh()
    out = env.path("out")
    params = lt.parse_magnet_uri("magnet:?xt=urn:btih:%s" % str(ih))
    params.save_path = out
    h = leecher.add_torrent(params)
    t0 = time.time()
    deadline = t0 + 25
    while not h.status().is_seeding:
        if time.time() > deadline:
            raise Fail("the libtorrent leecher did not finish (%s, %d peers)"
                       % (h.status().state, h.status().num_peers))
        time.sleep(0.2)
    env.log("libtorrent downloaded from bttnode in %.1f s" % (time.time() - t0))
    h.flush_cache()
    time.sleep(0.5)
    assert_same(src, out)
    env.stop(seed)


def in_libtorrent_table(env):
    env.lt_dht(4)
    src, torrent, info = env.make_torrent(256 * 1024)
    seed = env.bttnode_seed("bttnode-seed", torrent, src, env.bootstrap_args())
    me = ("127.0.0.1", seed.port)
    deadline = time.time() + 20
    while True:
        having = [s.port for s in env.nodes if me in table_of(s)]
        if len(having) >= 2:
            break
        if time.time() > deadline:
            raise Fail("bttnode is in the tables of %d libtorrent nodes only" % len(having))
        time.sleep(0.3)
    env.log("bttnode is in the routing tables of %d of %d libtorrent nodes"
            % (len(having), len(env.nodes)))
    env.stop(seed)


SCENARIOS = {
    "krpc_answers": krpc_answers,
    "magnet_from_libtorrent": magnet_from_libtorrent,
    "seed_to_libtorrent": seed_to_libtorrent,
    "in_libtorrent_table": in_libtorrent_table,
}

if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, Env))
