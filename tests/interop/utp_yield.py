#!/usr/bin/python3
"""uTP gives way to TCP on a shared bottleneck, as LEDBAT intends.

A relay on 127.0.0.1 models a home uplink: one FIFO queue drained at RATE bytes/s, holding
at most QUEUE bytes (a router's buffer, QUEUE/RATE seconds of delay when full). Two flows share
it: a bttnode seeder's uTP datagrams to a bttnode downloader, and a TCP bulk transfer. The
uTP download runs alone first, then the TCP transfer starts beside it.

  utp_yield.py --bttnode PATH yields_to_tcp

Passes when uTP used the link alone, the TCP flow then took most of it, and uTP took the link
back once TCP was gone (the connection lived through it).
"""
import collections
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (Env as BaseEnv, check, free_port, runner_main, wait_log,  # noqa: E402
                          write_random)
import lt_client  # noqa: E402

RATE = 1_000_000   # bytes/s through the bottleneck
QUEUE = 300_000    # bytes: 300 ms of delay when full
TCP_FILL = 240_000
SIZE = 64 << 20    # more than the test moves: the download never finishes
ALONE, SHARED = 5.0, 8.0  # seconds of each phase


class Bottleneck:
    """A FIFO of (deliver, bytes) drained at RATE; full: UDP is dropped, TCP waits."""

    def __init__(self):
        self.q = collections.deque()
        self.queued = 0
        self.lock = threading.Condition()
        self.sent = collections.Counter()  # bytes delivered, by flow
        self.stop = False
        threading.Thread(target=self._pump, daemon=True).start()

    def offer(self, flow, data, deliver, wait):
        # The TCP flow, held back rather than dropped, fills the queue to TCP_FILL: a real TCP
        # sender's losses leave the rest of a drop-tail buffer free part of the time.
        with self.lock:
            while wait and self.queued + len(data) > TCP_FILL and not self.stop:
                self.lock.wait(0.05)
            if self.queued + len(data) > QUEUE:
                return False  # tail drop
            self.q.append((flow, data, deliver))
            self.queued += len(data)
            return True

    def _pump(self):
        credit, last = 0.0, time.monotonic()
        while not self.stop:
            time.sleep(0.001)
            now = time.monotonic()
            credit = min(credit + (now - last) * RATE, 20_000)
            last = now
            while True:
                with self.lock:
                    if not self.q or len(self.q[0][1]) > credit:
                        break
                    flow, data, deliver = self.q.popleft()
                    self.queued -= len(data)
                    self.lock.notify_all()
                credit -= len(data)
                try:
                    deliver(data)
                except OSError:
                    pass
                self.sent[flow] += len(data)


class UdpRelay:
    """Listens on one UDP port for the downloader and forwards to the seeder's port; the
    seeder's datagrams back to the downloader go through the bottleneck."""

    def __init__(self, neck, seeder_port):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.seeder = ("127.0.0.1", seeder_port)
        self.client = None
        self.neck = neck
        threading.Thread(target=self._up, daemon=True).start()
        threading.Thread(target=self._down, daemon=True).start()

    def _up(self):
        while True:
            data, addr = self.front.recvfrom(65536)
            self.client = addr
            self.back.sendto(data, self.seeder)  # acks and requests: not the bottleneck

    def _down(self):
        while True:
            data, _ = self.back.recvfrom(65536)
            if self.client:
                client = self.client
                self.neck.offer("utp", data, lambda d: self.front.sendto(d, client), False)


class TcpFlow:
    """A bulk TCP transfer from a sender socket to a receiver socket, through the bottleneck."""

    def __init__(self, neck):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        self.sender = socket.create_connection(srv.getsockname())
        relay_in, _ = srv.accept()
        srv2 = socket.socket()
        srv2.bind(("127.0.0.1", 0))
        srv2.listen(1)
        relay_out = socket.create_connection(srv2.getsockname())
        self.receiver, _ = srv2.accept()
        srv.close()
        srv2.close()
        self.neck = neck
        self.running = True
        threading.Thread(target=self._send, daemon=True).start()
        threading.Thread(target=self._relay, args=(relay_in, relay_out), daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

        self.running = True

    def stop(self):
        self.running = False

    def _send(self):
        chunk = b"\0" * 65536
        try:
            while self.running:
                self.sender.sendall(chunk)
            self.sender.close()
        except OSError:
            pass

    def _relay(self, src, dst):
        # Reads only when the queue has room: the sender's TCP feels the bottleneck.
        while not self.neck.stop:
            data = src.recv(1448)
            if not data:
                return
            self.neck.offer("tcp", data, dst.sendall, True)

    def _drain(self):
        while self.receiver.recv(65536):
            pass


class Env(BaseEnv):
    log_tail = 3000
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-utp-yield-")


def rate_over(neck, flow, seconds):
    before = neck.sent[flow]
    time.sleep(seconds)
    return (neck.sent[flow] - before) / seconds


def yields_to_tcp(env):
    src = env.path("src")
    os.makedirs(src)
    write_random(os.path.join(src, "data.bin"), SIZE)
    torrent = env.path("data.torrent")
    env.run(["/usr/bin/python3", lt_client.__file__, "make-torrent",
             os.path.join(src, "data.bin"), torrent, "--piece-size", str(1 << 20)])
    seed_port = free_port()
    seed = env.spawn("bttnode-seed", [env.bttnode, "seed", torrent, "--data", src, "--port",
                                      str(seed_port), "--no-dht", "--no-lsd"])
    wait_log(seed, r"seeding ", 60)
    neck = Bottleneck()
    relay = UdpRelay(neck, seed_port)
    # The downloader is told of the relay's port only: TCP there finds no listener, so the
    # peer connection is uTP through the bottleneck.
    env.spawn("bttnode-dl", [env.bttnode, "download", torrent, "--out", env.path("out"),
                             "--port", str(free_port()), "--peer", "127.0.0.1:%d" % relay.port,
                             "--no-dht", "--no-lsd"])
    deadline = time.time() + 20
    while neck.sent["utp"] < 200_000 and time.time() < deadline:
        time.sleep(0.1)
    check(neck.sent["utp"] >= 200_000, "the uTP download never started through the relay")
    time.sleep(1.0)  # past slow start
    utp_alone = rate_over(neck, "utp", ALONE)
    tcp = TcpFlow(neck)
    time.sleep(2.0)  # the TCP flow fills the queue; LEDBAT sees the delay and backs off
    before = dict(neck.sent)
    time.sleep(SHARED)
    tcp_shared = (neck.sent["tcp"] - before.get("tcp", 0)) / SHARED
    utp_shared = (neck.sent["utp"] - before.get("utp", 0)) / SHARED
    tcp.stop()
    time.sleep(3.0)  # the queue drains; uTP sees the delay fall and grows again
    utp_after = rate_over(neck, "utp", 3.0)
    neck.stop = True
    env.log("bottleneck %.2f MB/s, %d KB queue" % (RATE / 1e6, QUEUE // 1000))
    env.log("uTP alone: %.2f MB/s" % (utp_alone / 1e6))
    env.log("with TCP:  uTP %.2f MB/s, TCP %.2f MB/s" % (utp_shared / 1e6, tcp_shared / 1e6))
    env.log("TCP gone:  uTP %.2f MB/s" % (utp_after / 1e6))
    check(utp_alone >= 0.6 * RATE, "uTP alone used only %.0f of %d bytes/s" % (utp_alone, RATE))
    check(tcp_shared >= 0.6 * RATE,
          "TCP got only %.0f bytes/s beside uTP (uTP %.0f)" % (tcp_shared, utp_shared))
    check(utp_shared <= 0.15 * RATE, "uTP kept %.0f bytes/s beside TCP" % utp_shared)
    check(utp_after >= 0.6 * RATE, "uTP came back to only %.0f bytes/s" % utp_after)


SCENARIOS = {"yields_to_tcp": yields_to_tcp}

if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, Env))
