#!/usr/bin/python3
"""Interop tests: bttnode against real BitTorrent clients on 127.0.0.1, through opentracker
in whitelist mode. Each scenario is one CTest test:

  interop.py --bttnode PATH SCENARIO

Data is small (a few MiB): a single-file torrent with a short last piece and a multi-file
torrent with nested folders and an empty file, both with a 48 KiB (non power of two) piece
size. Files are compared byte for byte.
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (PYTHON, LT_CLIENT, Fail, Env as BaseEnv, assert_same,  # noqa: E402
                          free_port, log_text, read_exact, same_tree, runner_main, wait_exit, wait_log,
                          write_random)

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 49152


class Env(BaseEnv):
    log_tail = 3000
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-interop-")

    # ---- tracker
    def swarm_size(self, info_hash):
        try:
            d = lt.bdecode(self.tracker_get("scrape", info_hash))
            files = d[b"files"]
            entry = files[bytes.fromhex(info_hash)]
            return entry[b"complete"] + entry[b"incomplete"]
        except Exception:
            return 0

    def wait_swarm(self, info_hash, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.swarm_size(info_hash) >= n:
                return
            time.sleep(0.3)
        raise Fail("the tracker never saw %d peers" % n)

    # ---- data
    def make_data(self, kind):
        src = self.path("src-" + kind)
        os.makedirs(src)
        if kind == "single":
            target = os.path.join(src, "single.bin")
            write_random(target, 3 * 1024 * 1024 + 12345)  # short last piece
        else:
            target = os.path.join(src, "multi")
            files = {
                "a.bin": 1234567,
                "sub/b.bin": 777777,
                "sub/deeper/c.txt": 100003,
                "empty.txt": 0,
                "z/last.bin": 49151,
            }
            for rel, size in files.items():
                p = os.path.join(target, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                write_random(p, size)
        torrent = self.path(kind + ".torrent")
        out = subprocess.run([PYTHON, LT_CLIENT, "make-torrent", target, torrent, "--tracker",
                              self.announce_url, "--piece-size", str(PIECE)],
                             check=True, capture_output=True, text=True)
        info_hash = out.stdout.strip()
        self.whitelist_add(info_hash)
        return src, os.path.basename(target), torrent, info_hash

    # ---- clients
    def bttnode_seed(self, name, torrent, data, extra=()):
        port = free_port()
        p = self.spawn(name, [self.bttnode, "seed", torrent, "--data", data, "--port", str(port)]
                       + list(extra))
        wait_log(p, r"seeding ", 60)
        p.port = port
        return p

    def bttnode_download(self, name, source, out, peers=(), timeout=60, extra=()):
        port = free_port()
        argv = [self.bttnode, "download", source, "--out", out, "--port", str(port)]
        for peer in peers:
            argv += ["--peer", peer]
        return self.spawn(name, argv + list(extra))

    def lt_seed(self, name, torrent, save, corrupt=False):
        port = free_port()
        argv = [PYTHON, LT_CLIENT, "seed", torrent, "--save", save, "--port", str(port)]
        if corrupt:
            argv.append("--corrupt")
        p = self.spawn(name, argv)
        p.port = port
        if not corrupt:
            wait_log(p, r"seeding", 60)
        return p

    def transmission(self, name, torrent, out, encryption=0):
        port = free_port()
        conf = self.path(name + "-conf")
        os.makedirs(conf)
        with open(os.path.join(conf, "settings.json"), "w") as f:
            f.write('{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,'
                    ' "port-forwarding-enabled": false, "utp-enabled": false,'
                    ' "encryption": %d, "peer-port": %d, "speed-limit-up-enabled": false,'
                    ' "ratio-limit-enabled": false}' % (encryption, port))
        p = self.spawn(name, ["transmission-cli", "-g", conf, "-w", out, "-p", str(port),
                              torrent])
        p.port = port
        return p


def wait_same(a, b, timeout, procs=(), skip_empty=False):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if same_tree(a, b, skip_empty):
            return
        for p in procs:
            if p.poll() is not None and p.returncode != 0:
                raise Fail("%s exited with %s" % (p.name, p.returncode))
        time.sleep(0.5)
    raise Fail("files not complete after %ss" % timeout)


# ---------------------------------------------------------------- scenarios

def seed_to(env, kind, client):
    """bttnode seeds; `client` downloads through the tracker."""
    src, top, torrent, ih = env.make_data(kind)
    out = env.path("out-" + client)
    os.makedirs(out)
    if client == "transmission":
        # Transmission ignores loopback peers from the tracker: let it announce first, then
        # bttnode (announcing after it) dials it.
        t = env.transmission("transmission", torrent, out)
        env.wait_swarm(ih, 1)
        seed = env.bttnode_seed("bttnode-seed", torrent, src)
        wait_same(src, out, 60, [t, seed], skip_empty=True)
    else:
        seed = env.bttnode_seed("bttnode-seed", torrent, src)
        if client == "libtorrent":
            wait_exit(env.lt_download("lt", torrent, out, timeout=60), 70)
        elif client == "aria2":
            wait_exit(env.aria2("aria2", torrent, out), 70)
        assert_same(src, out)
    # The seeder stops cleanly on SIGINT (announcing stopped).
    rc = env.stop(seed, signal.SIGINT, timeout=20)
    if rc != 0:
        raise Fail("bttnode seed exited with %s on SIGINT" % rc)


def download_from(env, kind, client):
    """`client` seeds; bttnode downloads through the tracker."""
    src, top, torrent, ih = env.make_data(kind)
    if client == "libtorrent":
        env.lt_seed("lt-seed", torrent, src)
    elif client == "aria2":
        env.aria2("aria2-seed", torrent, src, seed=True)
    elif client == "transmission":
        env.transmission("transmission-seed", torrent, src)
    env.wait_swarm(ih, 1)
    out = env.path("out")
    d = env.bttnode_download("bttnode-dl", torrent, out)
    wait_exit(d, 90)
    assert_same(src, out)


def magnet_from_libtorrent(env):
    src, top, torrent, ih = env.make_data("multi")
    s = env.lt_seed("lt-seed", torrent, src)
    out = env.path("out")
    magnet = "magnet:?xt=urn:btih:%s&dn=multi" % ih
    d = env.bttnode_download("bttnode-dl", magnet, out, peers=["127.0.0.1:%d" % s.port])
    wait_exit(d, 60)
    assert_same(src, out)


def magnet_to_libtorrent(env):
    src, top, torrent, ih = env.make_data("multi")
    s = env.bttnode_seed("bttnode-seed", torrent, src)
    out = env.path("out")
    magnet = "magnet:?xt=urn:btih:%s&dn=multi" % ih
    wait_exit(env.lt_download("lt", magnet, out, peers=["127.0.0.1:%d" % s.port], timeout=60), 70)
    assert_same(src, out)


def swarm(env):
    src, top, torrent, ih = env.make_data("multi")
    seed = env.bttnode_seed("bttnode-seed", torrent, src)
    outs = {}
    procs = []
    for name in ("lt1", "lt2", "aria2", "bttnode1", "bttnode2"):
        out = env.path("out-" + name)
        os.makedirs(out)
        outs[name] = out
        if name.startswith("lt"):
            procs.append(env.lt_download(name, torrent, out, timeout=80))
        elif name == "aria2":
            procs.append(env.aria2(name, torrent, out))
        else:
            procs.append(env.bttnode_download(name, torrent, out,
                                              peers=["127.0.0.1:%d" % seed.port]))
    for p in procs:
        wait_exit(p, 90)
    for name, out in outs.items():
        assert_same(src, out)


def check_plain_peer(port, info_hash):
    """Connects like a client without the fast (BEP 6) and extension (BEP 10) bits, as rtorrent
    does, and fails if the seed sends it anything those bits would have to allow: have_all,
    have_none, reject, allowed_fast, suggest or extended messages."""
    ih = bytes.fromhex(info_hash)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + ih + b"-NF0001-plainpeer000")
        hs = read_exact(s, 68)
        if hs[28:48] != ih:
            raise Fail("the seed answered the handshake with another info-hash")
        # interested, then a request and its cancel: a seed that thinks we are fast would
        # answer the cancel (or a refused request) with a reject.
        s.sendall(struct.pack(">IB", 1, 2))
        s.sendall(struct.pack(">IBIII", 13, 6, 0, 0, 16384))
        s.sendall(struct.pack(">IBIII", 13, 8, 0, 0, 16384))
        ids = []
        deadline = time.time() + 3
        s.settimeout(0.5)
        while time.time() < deadline:
            try:
                (length,) = struct.unpack(">I", read_exact(s, 4))
                if length:
                    ids.append(read_exact(s, length)[0])
            except socket.timeout:
                continue
            except EOFError:
                raise Fail("the seed closed the connection of a peer without the fast bit")
    if not ids or ids[0] != 5:
        raise Fail("the seed's first message to a plain peer is %s, not a bitfield"
                   % (ids[:1] or "missing"))
    bad = sorted(set(ids) & {13, 14, 15, 16, 17, 20})
    if bad:
        raise Fail("the seed sent message ids %s to a peer without the fast/extension bits" % bad)


def rtorrent_download(env):
    src, top, torrent, ih = env.make_data("multi")
    seed = env.bttnode_seed("bttnode-seed", torrent, src)
    # rtorrent finds the seed only through the tracker and, given an empty peer list, waits a
    # whole announce interval: start it once the tracker knows the seed.
    env.wait_swarm(ih, 1)
    check_plain_peer(seed.port, ih)
    out = env.path("out")
    session = env.path("rt-session")
    os.makedirs(out)
    os.makedirs(session)
    port = free_port()
    rc = env.path("rtorrent.rc")
    # rtorrent keeps one peer per IP address. The tracker hands it both the seed and rtorrent
    # itself; were both on 127.0.0.1, rtorrent would keep whichever came first and, about half
    # the time, only ever dial itself. Bound to 127.0.0.2 it announces (and is listed) from
    # there, so the seed on 127.0.0.1 stays a peer of its own. bttnode has no MSE/PE, so
    # rtorrent dials in plain text rather than failing an encrypted handshake first.
    with open(rc, "w") as f:
        f.write("directory.default.set = %s\nsession.path.set = %s\n"
                "network.bind_address.set = 127.0.0.2\n"
                "network.port_range.set = %d-%d\nnetwork.port_random.set = no\n"
                "dht.mode.set = disable\nprotocol.pex.set = no\ntrackers.use_udp.set = no\n"
                "protocol.encryption.set = allow_incoming\n"
                "system.daemon.set = true\n"
                "schedule2 = load_once, 1, 0, \"load.start=%s\"\n"
                % (out, session, port, port, torrent))
    env.spawn("rtorrent", ["rtorrent", "-n", "-o", "import=" + rc],
              env=dict(env.env, HOME=env.dir, TERM="dumb"))
    wait_same(src, out, 60, [seed])


def corrupt_peer(env):
    """A peer that serves corrupt blocks: bttnode must fetch those pieces again from the good
    seed, finish with correct files, and ban the bad peer."""
    src, top, torrent, ih = env.make_data("single")
    good = env.bttnode_seed("bttnode-good", torrent, src, extra=["--max-up-rate", "300000"])
    bad_port = free_port()
    bad = env.spawn("bad-peer", [PYTHON, os.path.join(HERE, "bad_peer.py"), torrent, src,
                                 str(bad_port)])
    wait_log(bad, r"listening", 20)
    out = env.path("out")
    # The good seeder is reached over uTP and the bad peer over TCP. Blocks the bad peer sent
    # first are cancelled at the good one; when their piece fails they are asked for again,
    # and the reject answering the cancel must not be taken for a refusal of the new request.
    d = env.bttnode_download("bttnode-dl", torrent, out,
                             peers=["127.0.0.1:%d" % bad_port, "127.0.0.1:%d" % good.port])
    wait_exit(d, 90)
    assert_same(src, out)
    with open(d.log, "rb") as f:
        log = f.read()
    if b"banned 127.0.0.1:%d" % bad_port not in log:
        raise Fail("the corrupt peer was not banned")


def download_from_lt_seed(env, torrent, src, lt_flags, extra=()):
    """bttnode (with extra options) downloads from a libtorrent seeder started with lt_flags;
    returns the seeder."""
    port = free_port()
    s = env.spawn("lt-seed", [PYTHON, LT_CLIENT, "seed", torrent, "--save", src, "--port",
                              str(port)] + lt_flags)
    wait_log(s, r"seeding", 60)
    out = env.path("out")
    d = env.bttnode_download("bttnode-dl", torrent, out, peers=["127.0.0.1:%d" % port],
                             extra=extra)
    wait_exit(d, 90)
    assert_same(src, out)
    return s


def encrypted_libtorrent(env, direction):
    """A libtorrent that forces stream encryption both ways: bttnode (default settings) dials it
    and downloads, or it dials bttnode and downloads; the connection must be encrypted."""
    src, top, torrent, ih = env.make_data("multi")
    if direction == "download":
        lt_proc = download_from_lt_seed(env, torrent, src, ["--encrypted"])
    else:
        seed = env.bttnode_seed("bttnode-seed", torrent, src)
        out = env.path("out-lt")
        os.makedirs(out)
        lt_proc = env.spawn("lt", [PYTHON, LT_CLIENT, "download", torrent, "--save", out, "--port",
                                   str(free_port()), "--timeout", "60", "--encrypted", "--peer",
                                   "127.0.0.1:%d" % seed.port])
        wait_exit(lt_proc, 70)
        assert_same(src, out)
    # libtorrent saw its peer as encrypted (it would not have accepted one in plaintext).
    wait_log(lt_proc, r"^peer encryption: (rc4|plaintext-method)$", 10)
    if re.search(r"^peer encryption: none$", log_text(lt_proc), re.M):
        raise Fail("libtorrent had an unencrypted peer")


def download_required_from_libtorrent(env):
    """bttnode with --encryption require downloads from a libtorrent with default settings:
    libtorrent must see only RC4 (not even the plaintext method)."""
    src, top, torrent, ih = env.make_data("multi")
    s = download_from_lt_seed(env, torrent, src, ["--fast-poll"], extra=["--encryption", "require"])
    wait_log(s, r"^peer encryption: rc4$", 10)
    if re.search(r"^peer encryption: (none|plaintext-method)$", log_text(s), re.M):
        raise Fail("libtorrent saw bttnode unencrypted under --encryption require")


def seed_encrypted_to_transmission(env):
    """Transmission with encryption required (it offers and selects only RC4) downloads from a
    bttnode seeder with default settings, which dials it."""
    src, top, torrent, ih = env.make_data("single")
    out = env.path("out-transmission")
    os.makedirs(out)
    t = env.transmission("transmission", torrent, out, encryption=2)
    env.wait_swarm(ih, 1)
    seed = env.bttnode_seed("bttnode-seed", torrent, src)
    wait_same(src, out, 60, [t, seed], skip_empty=True)


SCENARIOS = {
    "seed_encrypted_to_transmission": seed_encrypted_to_transmission,
    "download_required_from_libtorrent": download_required_from_libtorrent,
    "download_encrypted_from_libtorrent": lambda e: encrypted_libtorrent(e, "download"),
    "seed_encrypted_to_libtorrent": lambda e: encrypted_libtorrent(e, "seed"),
    "seed_single_libtorrent": lambda e: seed_to(e, "single", "libtorrent"),
    "seed_multi_libtorrent": lambda e: seed_to(e, "multi", "libtorrent"),
    "seed_single_aria2": lambda e: seed_to(e, "single", "aria2"),
    "seed_multi_aria2": lambda e: seed_to(e, "multi", "aria2"),
    "seed_single_transmission": lambda e: seed_to(e, "single", "transmission"),
    "seed_multi_transmission": lambda e: seed_to(e, "multi", "transmission"),
    "download_from_libtorrent": lambda e: download_from(e, "multi", "libtorrent"),
    "download_from_aria2": lambda e: download_from(e, "multi", "aria2"),
    "download_from_transmission": lambda e: download_from(e, "multi", "transmission"),
    "magnet_from_libtorrent": magnet_from_libtorrent,
    "magnet_to_libtorrent": magnet_to_libtorrent,
    "swarm": swarm,
    "rtorrent_download": rtorrent_download,
    "corrupt_peer": corrupt_peer,
}


if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, Env, setup=lambda env: env.start_tracker()))
