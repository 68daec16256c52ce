#!/usr/bin/python3
"""Scale benchmark: memory of one process holding many torrents and many peer connections
(prints figures, never fails on them).

  bench_scale.py --host PATH/bench_scale_host [--torrents 1000] [--connections 500]

Makes TORRENTS small single-file torrents (64 KiB, 16 KiB pieces) and, for each of
  1. bttnode: bench_scale_host, one p2p::Session seeding them all,
  2. libtorrent (python3-libtorrent, same torrents, same data, uTP off),
reads VmRSS from /proc with the session empty, with every torrent added and seeding, and with
CONNECTIONS peer connections open (raw sockets doing a real BitTorrent handshake and
`interested`, spread over the torrents, one per torrent while there are enough). Each
connection must see the seed's handshake and bitfield before it counts. Prints RSS per
torrent and per connection for both.
"""
import argparse
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import PYTHON, read_exact, rss_kib  # noqa: E402

FILE_SIZE = 64 * 1024
PIECE = 16 * 1024


def make_torrents(work, n):
    import libtorrent as lt
    data = os.path.join(work, "data")
    tdir = os.path.join(work, "torrents")
    os.makedirs(data)
    os.makedirs(tdir)
    hashes = []
    for i in range(n):
        name = "t%05d.bin" % i
        path = os.path.join(data, name)
        with open(path, "wb") as f:
            f.write(os.urandom(FILE_SIZE))
        fs = lt.file_storage()
        lt.add_files(fs, path)
        ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
        lt.set_piece_hashes(ct, data)
        out = os.path.join(tdir, "t%05d.torrent" % i)
        with open(out, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        hashes.append(bytes.fromhex(str(lt.torrent_info(out).info_hash())))
    return tdir, data, hashes


def open_connections(port, hashes, count):
    """Opens `count` connections, each a handshake + interested on one torrent, and waits for
    the seed's handshake and first message (its bitfield). Returns the open sockets."""
    socks = []
    for i in range(count):
        ih = hashes[i % len(hashes)]
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        peer_id = b"-SC0001-" + b"%012d" % i
        # Extension bit set, like most clients, so the seed keeps its per-peer extension state.
        reserved = b"\0\0\0\0\0\x10\0\x04"
        s.sendall(b"\x13BitTorrent protocol" + reserved + ih + peer_id)
        socks.append(s)
    for s in socks:
        hs = read_exact(s, 68)
        if hs[0] != 19:
            raise RuntimeError("not a BitTorrent handshake")
        s.sendall(struct.pack(">IB", 1, 2))  # interested
    for s in socks:
        # Read until the bitfield (or have_all) arrived.
        while True:
            (length,) = struct.unpack(">I", read_exact(s, 4))
            if not length:
                continue
            msg_id = read_exact(s, length)[0]
            if msg_id in (5, 14):
                break
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def wait_line(proc, prefix, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("host exited before printing %r" % prefix)
        line = line.decode().strip()
        if line.startswith(prefix):
            return line
    raise RuntimeError("no %r within %ss" % (prefix, timeout))


def wait_peers(proc, n, timeout):
    """bench_scale_host prints 'peers N rss K' every second; waits for N >= n."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        line = wait_line(proc, "peers ", timeout)
        last = line
        if int(line.split()[1]) >= n:
            return int(line.split()[1])
    raise RuntimeError("host holds fewer than %d peers: %s" % (n, last))


def measure(name, p, hashes, conns):
    """Reads the figures of a host process p (bench_scale_host, or LT_HOST below): RSS with
    the session empty, with every torrent seeding, and with `conns` connections open. Returns
    (empty, with torrents, with connections, connections held, seconds to open them)."""
    try:
        empty = int(wait_line(p, "rss_empty ", 120).split()[1])
        added = wait_line(p, "torrents ", 600)
        with_torrents = int(wait_line(p, "rss_torrents ", 60).split()[1])
        port = int(wait_line(p, "ready ", 60).split()[1])
        if "seeding %d" % len(hashes) not in added:
            raise RuntimeError("%s: not every torrent is seeding: %s" % (name, added))
        t0 = time.time()
        socks = open_connections(port, hashes, conns)
        setup = time.time() - t0
        held = wait_peers(p, conns, 60)
        time.sleep(2)
        with_conns = rss_kib(p.pid)
        close_all(socks)
        return empty, with_torrents, with_conns, held, setup
    finally:
        p.stdin.close()  # the host's cue to exit
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def measure_bttnode(host, work, tdir, data, hashes, conns):
    state = os.path.join(work, "bttnode-state")
    env = dict(os.environ, BTTNODE_STATE_DIR=state)
    return measure("bttnode", subprocess.Popen([host, tdir, data, state], stdin=subprocess.PIPE,
                                               stdout=subprocess.PIPE, env=env), hashes, conns)


LT_HOST = r'''
import sys, time, os, libtorrent as lt
tdir, data = sys.argv[1], sys.argv[2]
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "connections_limit": 5000, "listen_queue_size": 512,
    "active_limit": 5000, "active_seeds": 5000,
    "active_downloads": 5000, "active_checking": 5000,
    "alert_mask": lt.alert.category_t.error_notification,
})
time.sleep(1)
infos = [lt.torrent_info(os.path.join(tdir, f)) for f in sorted(os.listdir(tdir))]
print("rss_empty", rss(), flush=True)
handles = []
for ti in infos:
    p = lt.add_torrent_params()
    p.ti = ti
    p.save_path = data
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    handles.append(ses.add_torrent(p))
del infos
deadline = time.time() + 600
while time.time() < deadline:
    seeds = len(ses.get_torrent_status(lambda st: st.is_seeding, 0))
    if seeds == len(handles):
        break
    time.sleep(0.5)
print("torrents", len(handles), "seeding", seeds, flush=True)
print("rss_torrents", rss(), flush=True)
print("ready", ses.listen_port(), flush=True)
while True:
    # One call for all torrents: a status() per handle would stall libtorrent's thread.
    n = sum(st.num_peers for st in ses.get_torrent_status(lambda st: st.num_peers > 0, 0))
    print("peers", n, "rss", rss(), flush=True)
    if sys.stdin in __import__("select").select([sys.stdin], [], [], 1)[0]:
        if not sys.stdin.read(1):
            break
'''


def measure_libtorrent(tdir, data, hashes, conns):
    return measure("libtorrent", subprocess.Popen([PYTHON, "-c", LT_HOST, tdir, data],
                                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE),
                   hashes, conns)


def report(name, n_torrents, n_conns, r):
    empty, with_torrents, with_conns, held, setup = r
    per_torrent = (with_torrents - empty) / n_torrents
    per_conn = (with_conns - with_torrents) / n_conns
    print("%-10s RSS empty %7.1f MiB | %d torrents %7.1f MiB (%5.1f KiB/torrent) | "
          "+%d connections %7.1f MiB (%5.1f KiB/connection, %d held, opened in %.1f s)"
          % (name, empty / 1024, n_torrents, with_torrents / 1024, per_torrent, n_conns,
             with_conns / 1024, per_conn, held, setup), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True, help="path of the built bench_scale_host")
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--skip-libtorrent", action="store_true")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * a.connections + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    work = tempfile.mkdtemp(prefix="bttnode-bench-scale-")
    try:
        t0 = time.time()
        tdir, data, hashes = make_torrents(work, a.torrents)
        print("made %d torrents of %d KiB in %.1f s" % (a.torrents, FILE_SIZE // 1024,
                                                       time.time() - t0), flush=True)
        report("bttnode", a.torrents, a.connections,
               measure_bttnode(os.path.abspath(a.host), work, tdir, data, hashes,
                               a.connections))
        if not a.skip_libtorrent:
            report("libtorrent", a.torrents, a.connections,
                   measure_libtorrent(tdir, data, hashes, a.connections))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
