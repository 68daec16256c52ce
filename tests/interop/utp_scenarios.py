#!/usr/bin/python3
"""uTP scenarios: bttnode and python3-libtorrent on 127.0.0.1 with no tracker, each peer
named to the other. libtorrent runs in this process so its peers' flags can be read as the
transfer runs (bit 1 << 17 of peer_info.flags: the peer's socket is uTP).

  utp_scenarios.py --bttnode PATH SCENARIO
"""
import os
import re
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (Fail, Env as BaseEnv, assert_same, free_port, log_text,  # noqa: E402
                          runner_main, wait_exit, wait_log, write_random)
import lt_client  # noqa: E402

UTP_SOCKET = 1 << 17
SIZE = 4 * 1024 * 1024 + 4321
PIECE = 65536


class Env(BaseEnv):
    log_tail = 3000
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-utp-")
        self.lt = []

    def make_data(self):
        src = self.path("src")
        os.makedirs(src)
        write_random(os.path.join(src, "data.bin"), SIZE)
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(src, "data.bin"))
        ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
        lt.set_piece_hashes(ct, src)
        torrent = self.path("data.torrent")
        with open(torrent, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        return src, torrent

    def lt_session(self, tcp=False, utp=True):
        port = free_port()
        s = lt.session(lt_client.loopback_settings(
            port, enable_outgoing_tcp=tcp, enable_incoming_tcp=tcp, enable_outgoing_utp=utp,
            enable_incoming_utp=utp))
        s.port = port
        self.lt.append(s)
        return s

    def bttnode_seed(self, torrent, data, extra=()):
        port = free_port()
        p = self.spawn("bttnode-seed", [self.bttnode, "seed", torrent, "--data", data, "--port",
                                        str(port)] + list(extra))
        wait_log(p, r"seeding ", 20)
        p.port = port
        return p

    def bttnode_download(self, torrent, out, peer, extra=()):
        return self.spawn("bttnode-dl", [self.bttnode, "download", torrent, "--out", out,
                                         "--port", str(free_port()), "--peer", peer]
                          + list(extra))


add = lt_client.add_torrent


class Watch:
    """The kinds of connection libtorrent had with peers that got through the handshake."""

    def __init__(self):
        self.utp = self.tcp = 0
        self.seen = set()

    def poll(self, h):
        for p in h.get_peer_info():
            if p.flags & (lt.peer_info.handshake | lt.peer_info.connecting):
                continue
            key = (p.ip, p.flags & UTP_SOCKET)
            if key in self.seen:
                continue
            self.seen.add(key)
            if p.flags & UTP_SOCKET:
                self.utp += 1
            else:
                self.tcp += 1


def wait_lt(h, watch, timeout, procs=(), what="libtorrent to finish"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        watch.poll(h)
        if h.status().is_seeding:
            return
        for p in procs:
            if p.poll() is not None and p.returncode != 0:
                raise Fail("%s exited with %s" % (p.name, p.returncode))
        time.sleep(0.01)
    raise Fail("timed out waiting for " + what)


def watch_until_exit(h, watch, p, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        watch.poll(h)
        time.sleep(0.01)
    return wait_exit(p, 1)


def lt_downloads_from_bttnode(env):
    """A libtorrent with TCP off downloads from a bttnode seeder: it dials uTP."""
    src, torrent = env.make_data()
    seed = env.bttnode_seed(torrent, src)
    ses = env.lt_session(tcp=False)
    out = env.path("out")
    os.makedirs(out)
    h = add(ses, torrent, out)
    h.connect_peer(("127.0.0.1", seed.port), 0)
    w = Watch()
    wait_lt(h, w, 20, [seed])
    assert_same(src, out)
    if w.utp == 0 or w.tcp != 0:
        raise Fail("libtorrent's connections: %d uTP, %d TCP" % (w.utp, w.tcp))


def bttnode_downloads_from_lt(env):
    """bttnode downloads from a libtorrent seeder with TCP off (its TCP port accepts and
    resets): bttnode dials uTP."""
    src, torrent = env.make_data()
    ses = env.lt_session(tcp=False)
    h = add(ses, torrent, src, seed=True)
    out = env.path("out")
    d = env.bttnode_download(torrent, out, "127.0.0.1:%d" % ses.port)
    w = Watch()
    watch_until_exit(h, w, d, 25)
    assert_same(src, out)
    if w.utp == 0 or w.tcp != 0:
        raise Fail("libtorrent's connections: %d uTP, %d TCP" % (w.utp, w.tcp))


def no_utp_against_utp_only(env):
    """With --no-utp, bttnode reaches no libtorrent that takes uTP only, either way."""
    src, torrent = env.make_data()
    ses = env.lt_session(tcp=False)
    h = add(ses, torrent, src, seed=True)
    out = env.path("out")
    d = env.bttnode_download(torrent, out, "127.0.0.1:%d" % ses.port, ["--no-utp"])
    w = Watch()
    deadline = time.time() + 6
    while time.time() < deadline and d.poll() is None:
        w.poll(h)
        time.sleep(0.01)
    env.stop(d)
    # And a libtorrent dialling a --no-utp seeder over uTP is refused.
    seed = env.bttnode_seed(torrent, src, ["--no-utp"])
    ses2 = env.lt_session(tcp=False)
    out2 = env.path("out2")
    os.makedirs(out2)
    h2 = add(ses2, torrent, out2)
    h2.connect_peer(("127.0.0.1", seed.port), 0)
    w2 = Watch()
    deadline = time.time() + 5
    while time.time() < deadline:
        w2.poll(h2)
        time.sleep(0.01)
    if w.utp or w.tcp or w2.utp or w2.tcp:
        raise Fail("a connection was made: %d/%d uTP, %d/%d TCP" % (w.utp, w2.utp, w.tcp, w2.tcp))
    if h2.status().total_wanted_done:
        raise Fail("libtorrent got data from a --no-utp seeder over uTP")


def no_utp_uses_tcp(env):
    """With --no-utp, bttnode downloads from a libtorrent that has both over TCP."""
    src, torrent = env.make_data()
    ses = env.lt_session(tcp=True, utp=True)
    h = add(ses, torrent, src, seed=True)
    out = env.path("out")
    d = env.bttnode_download(torrent, out, "127.0.0.1:%d" % ses.port, ["--no-utp"])
    w = Watch()
    watch_until_exit(h, w, d, 25)
    assert_same(src, out)
    if w.utp != 0 or w.tcp == 0:
        raise Fail("libtorrent's connections: %d uTP, %d TCP" % (w.utp, w.tcp))


def udp_datagrams():
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    return int(lines[1][lines[0].index("InDatagrams")])


def bttnode_pair(env):
    """bttnode downloads from bttnode over uTP: the datagrams carried the data."""
    src, torrent = env.make_data()
    seed = env.bttnode_seed(torrent, src)
    before = udp_datagrams()
    out = env.path("out")
    d = env.bttnode_download(torrent, out, "127.0.0.1:%d" % seed.port)
    wait_exit(d, 25)
    assert_same(src, out)
    got = udp_datagrams() - before
    if got < SIZE // 1500:
        raise Fail("only %d UDP datagrams for %d bytes: not over uTP" % (got, SIZE))


SCENARIOS = {
    "lt_downloads_from_bttnode": lt_downloads_from_bttnode,
    "bttnode_downloads_from_lt": bttnode_downloads_from_lt,
    "no_utp_against_utp_only": no_utp_against_utp_only,
    "no_utp_uses_tcp": no_utp_uses_tcp,
    "bttnode_pair": bttnode_pair,
}

if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, Env))
