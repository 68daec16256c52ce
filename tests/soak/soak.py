#!/usr/bin/python3
"""A bounded soak on loopback: one p2p session seeding 200 torrents (bench_scale_host) while
hostile peers connect, send bad lengths, unrequested blocks, HAVE floods, ut_metadata and
REQUEST floods or garbage, and leave, and honest `bttnode download`s fetch torrents through
it. The seeder's resident memory and open descriptors are sampled every few seconds and must
stay flat; every honest download completes with the right bytes.

  soak.py --bttnode PATH --host PATH seeder [--seconds N]
"""
import argparse
import hashlib
import os
import random
import re
import select
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pay_hostile"))
from pay_peer import bdecode, bencode  # noqa: E402
from scenario_lib import Env, Fail, check, free_port, log_text, wait_log  # noqa: E402

TORRENTS = 200
PIECE = 16 * 1024
SIZE = 8 * PIECE + 1234        # each torrent's one file
HOSTILE_THREADS = 6
HONEST_AT_ONCE = 2
SAMPLE_EVERY = 3.0
RSS_GROWTH = 0.10              # allowed over the second half
SOCKET_GROWTH_IDLE = 2         # open sockets, idle before vs idle after
SOCKET_GROWTH_RUNNING = 8      # median of the last quarter vs the second quarter
# Each torrent keeps its file open once read (an LRU of descriptors per torrent): other
# descriptors may grow by one per torrent touched, never beyond.
HONEST_GAP = 0.3               # seconds between honest downloads


def make_torrents(env):
    tdir, ddir = env.path("torrents"), env.path("data")
    os.makedirs(tdir)
    os.makedirs(ddir)
    torrents = []
    for i in range(TORRENTS):
        name = "file%03d.bin" % i
        data = os.urandom(SIZE)
        with open(os.path.join(ddir, name), "wb") as f:
            f.write(data)
        pieces = b"".join(hashlib.sha1(data[o:o + PIECE]).digest()
                          for o in range(0, SIZE, PIECE))
        info = {"name": name, "piece length": PIECE, "pieces": pieces, "length": SIZE}
        path = os.path.join(tdir, "t%03d.torrent" % i)
        with open(path, "wb") as f:
            f.write(bencode({"info": info}))
        torrents.append(dict(path=path, name=name, data=data, info_hash=hashlib.sha1(bencode(info)).digest(),
                             pieces=(SIZE + PIECE - 1) // PIECE))
    return torrents


def sample(pid):
    """(VmRSS KiB, open sockets, other open descriptors) of the process."""
    with open("/proc/%d/status" % pid) as f:
        rss = int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))
    sockets = others = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:"):
            sockets += 1
        else:
            others += 1
    return rss, sockets, others


# ---- hostile peers


def handshake(sock, info_hash, ext=True):
    reserved = bytearray(8)
    if ext:
        reserved[5] |= 0x10
    sock.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + info_hash + os.urandom(20))


def msg(mid, payload=b""):
    return struct.pack(">IB", 1 + len(payload), mid) + payload


def drain(sock, seconds):
    """Reads and drops what the seeder sends for a while; returns it (up to 64 KiB)."""
    got = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.time()))
        if not r:
            break
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        if len(got) < 1 << 16:
            got += chunk
    return got


def seeder_metadata_id(data):
    """The seeder's ut_metadata id from its extended handshake in `data`, if there."""
    i = 68
    while i + 4 <= len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        body = data[i + 4:i + 4 + n]
        if len(body) < n:
            return None
        if n >= 2 and body[0] == 20 and body[1] == 0:
            try:
                return bdecode(body[2:]).get("m", {}).get("ut_metadata")
            except Exception:
                return None
        i += 4 + n
    return None


def attack(kind, port, t, rng):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        if kind == "garbage":
            sock.sendall(os.urandom(rng.randint(1, 4096)))
            drain(sock, 0.5)
            return
        if kind == "wrong_hash":
            handshake(sock, os.urandom(20))
            drain(sock, 0.5)
            return
        handshake(sock, t["info_hash"])
        sock.sendall(msg(20, b"\0" + bencode({"m": {"ut_metadata": 3}})))
        first = drain(sock, 0.3)
        if kind == "bad_length":
            sock.sendall(struct.pack(">I", rng.choice([0xFFFFFFF0, 1 << 24, 2 << 20])) + b"\x07")
        elif kind == "unrequested":
            for _ in range(rng.randint(4, 40)):
                index = rng.randrange(t["pieces"] + 2)
                sock.sendall(msg(7, struct.pack(">II", index, 0) + os.urandom(PIECE)))
        elif kind == "have_flood":
            sock.sendall(b"".join(msg(4, struct.pack(">I", rng.randrange(1 << 32)))
                                  for _ in range(rng.randint(1000, 20000))))
        elif kind == "metadata_flood":
            mid = seeder_metadata_id(first) or 2
            req = msg(20, bytes([mid]) + bencode({"msg_type": 0, "piece": 0}))
            sock.sendall(req * rng.randint(500, 10000))
        elif kind == "request_flood":
            sock.sendall(msg(2))
            sock.sendall(b"".join(
                msg(6, struct.pack(">III", rng.randrange(t["pieces"] + 3),
                                   rng.choice([0, 1, PIECE, 1 << 30]), PIECE))
                for _ in range(rng.randint(500, 20000))))
        elif kind == "slow_leave":
            sock.sendall(msg(2))
        drain(sock, rng.uniform(0.1, 2.0))
    finally:
        sock.close()


KINDS = ["garbage", "wrong_hash", "bad_length", "unrequested", "have_flood", "metadata_flood",
         "request_flood", "slow_leave"]


class Hostiles:
    def __init__(self, port, torrents, seed):
        self.port, self.torrents = port, torrents
        self.stopping = False
        self.counts = {k: 0 for k in KINDS}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(random.Random(seed + i),),
                                         daemon=True) for i in range(HOSTILE_THREADS)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(30)

    def _run(self, rng):
        while not self.stopping:
            kind = rng.choice(KINDS)
            try:
                attack(kind, self.port, rng.choice(self.torrents), rng)
            except (OSError, socket.timeout):
                pass  # the seeder hung up on us: as it should, often
            with self.lock:
                self.counts[kind] += 1


# ---- the run


def soak(env, host, seconds):
    torrents = make_torrents(env)
    seeder = env.spawn("seeder", [host, env.path("torrents"), env.path("data"),
                                  env.path("state")], stdin=subprocess.PIPE)
    port = int(wait_log(seeder, r"^ready (\d+)$", 120)[0].group(1))
    m = re.search(r"^torrents (\d+) seeding (\d+)$", log_text(seeder), re.M)
    check(m and m.group(1) == m.group(2) == str(TORRENTS), "not seeding every torrent: %r"
          % (m and m.group(0)))
    time.sleep(1)
    idle_before = sample(seeder.pid)
    env.log("seeding %d torrents on port %d: rss %d KiB, %d sockets and %d other fds idle"
            % ((TORRENTS, port) + idle_before))

    hostiles = Hostiles(port, torrents, 1234)
    hostiles.start()
    honest = []           # (process, torrent, out, started)
    done, failed = [], []
    samples = []          # (t, rss KiB, fds)
    rng = random.Random(99)
    t0 = time.time()
    next_sample = t0
    last_honest = 0.0
    while time.time() - t0 < seconds:
        now = time.time()
        if now >= next_sample:
            check(seeder.poll() is None, "the seeder exited with %s" % seeder.returncode)
            samples.append((now - t0,) + sample(seeder.pid))
            next_sample += SAMPLE_EVERY
        for item in list(honest):
            p, t, out, started = item
            if p.poll() is not None:
                honest.remove(item)
                got = b""
                if os.path.exists(os.path.join(out, t["name"])):
                    with open(os.path.join(out, t["name"]), "rb") as f:
                        got = f.read()
                if p.returncode == 0 and got == t["data"]:
                    done.append(now - started)
                    # Its log is of no interest any more: keep a failure's readable.
                    env.logs = [x for x in env.logs if x[0] != p.name]
                    env.procs.remove(p)
                else:
                    failed.append("%s: exit %s, %d of %d bytes right" % (
                        p.name, p.returncode, len(got) if got == t["data"] else 0, SIZE))
            elif now - started > 90:
                env.stop(p)
                honest.remove(item)
                failed.append("%s: not complete after 90 s" % p.name)
        while len(honest) < HONEST_AT_ONCE and now - last_honest >= HONEST_GAP:
            last_honest = now
            t = rng.choice(torrents)
            out = env.path("dl%d" % (len(done) + len(failed) + len(honest)))
            p = env.spawn("honest", [env.bttnode, "download", t["path"], "--out", out,
                                     "--port", str(free_port()), "--peer",
                                     "127.0.0.1:%d" % port])
            honest.append((p, t, out, time.time()))
        time.sleep(0.1)
    hostiles.stop()
    for p, t, out, started in honest:
        try:
            p.wait(60)
            done.append(time.time() - started)
        except subprocess.TimeoutExpired:
            env.stop(p)
            failed.append("%s: not complete at the end" % p.name)
    time.sleep(5)  # the seeder's side of the last connections closes
    idle_after = sample(seeder.pid)

    env.log("hostile connections: %s (%d in all)" % (
        ", ".join("%s %d" % kv for kv in sorted(hostiles.counts.items())),
        sum(hostiles.counts.values())))
    env.log("honest downloads: %d complete and verified, median %.2f s, max %.2f s; %d failed"
            % (len(done), statistics.median(done) if done else 0, max(done) if done else 0,
               len(failed)))
    n = len(samples)
    q2 = samples[n // 4:n // 2]
    q4 = samples[3 * n // 4:]
    second_half = samples[n // 2:]
    rss_q2 = statistics.median(s[1] for s in q2)
    rss_q4 = statistics.median(s[1] for s in q4)
    rss_mid = samples[n // 2][1]
    rss_max = max(s[1] for s in second_half)
    sockets_q2 = statistics.median(s[2] for s in q2)
    sockets_q4 = statistics.median(s[2] for s in q4)
    others_max = max(s[3] for s in samples)
    env.log("rss KiB every %.0f s: %s" % (SAMPLE_EVERY, " ".join(str(s[1]) for s in samples)))
    env.log("sockets: %s" % " ".join(str(s[2]) for s in samples))
    env.log("other fds: %s" % " ".join(str(s[3]) for s in samples))
    env.log("rss: idle %d KiB before, %d after; 2nd quarter median %d, last quarter median %d "
            "(%+.1f%%); at half time %d, highest after it %d (%+.1f%%)"
            % (idle_before[0], idle_after[0], rss_q2, rss_q4, 100.0 * (rss_q4 - rss_q2) / rss_q2,
               rss_mid, rss_max, 100.0 * (rss_max - rss_mid) / rss_mid))
    env.log("sockets: idle %d before, %d after; 2nd quarter median %d, last quarter median %d; "
            "other fds: idle %d before, %d after, at most %d (bound %d + %d torrents)"
            % (idle_before[1], idle_after[1], sockets_q2, sockets_q4, idle_before[2],
               idle_after[2], others_max, idle_before[2], TORRENTS))

    check(not failed, "honest downloads failed: %s" % "; ".join(failed[:5]))
    check(len(done) >= 10, "only %d honest downloads in %d s" % (len(done), seconds))
    check(rss_q4 <= rss_q2 * (1 + RSS_GROWTH),
          "memory grew %.1f%% over the second half" % (100.0 * (rss_q4 - rss_q2) / rss_q2))
    check(rss_max <= rss_mid * (1 + 2 * RSS_GROWTH),
          "memory reached %d KiB after %d KiB at half time" % (rss_max, rss_mid))
    check(idle_after[1] <= idle_before[1] + SOCKET_GROWTH_IDLE,
          "%d sockets open when idle after, %d before" % (idle_after[1], idle_before[1]))
    check(sockets_q4 <= sockets_q2 + SOCKET_GROWTH_RUNNING,
          "sockets grew from %d to %d over the second half" % (sockets_q2, sockets_q4))
    check(others_max <= idle_before[2] + TORRENTS,
          "%d descriptors other than sockets, beyond one per torrent (%d + %d)"
          % (others_max, idle_before[2], TORRENTS))
    check(not re.search(r"^bench_scale_host: ", log_text(seeder), re.M), "the seeder failed")
    t1 = time.time()
    rc = env.stop(seeder)
    env.log("SIGTERM to exit: %.2f s (exit %s)" % (time.time() - t1, rc))
    check(time.time() - t1 <= 10, "the seeder took %.1f s to stop" % (time.time() - t1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--host", required=True, help="bench_scale_host")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 200)))
    a = ap.parse_args()
    env = Env(os.path.abspath(a.bttnode), "bttnode-soak-")
    ok = False
    try:
        soak(env, os.path.abspath(a.host), a.seconds)
        ok = True
    except Fail as e:
        print("FAIL:", e)
    finally:
        env.cleanup(ok)
    print("soak: %s (%.1f s)" % ("passed" if ok else "FAILED", time.time() - env.t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
