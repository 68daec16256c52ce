#!/usr/bin/python3
"""Daemon scale benchmark: many seeding torrents in `bttnode run` beside Debian's
transmission-daemon, both driven by one Transmission RPC client (prints figures, never fails
on them).

  bench_daemon_scale.py [--bttnode PATH] [--torrents 1000,10000] [--daemons transmission,bttnode]

For each torrent count N, makes N small single-file torrents (16 KiB, one piece) with their
data present, then for each daemon in turn (one at a time, in a folder of its own, the data
shared):
  1. starts it and adds the N torrents over RPC (torrent-add, metainfo), waits until all seed;
  2. reads its VmRSS once they all seed (after a short settle);
  3. times torrent-get of every torrent with id,name,percentDone,rateUpload,uploadedEver,
     peersConnected: the median of 20 requests on one kept-alive connection, from sending
     the request to the last byte of the response;
  4. stops it with SIGTERM, starts it again on the same state and times from the start until
     torrent-get shows all N seeding again.
The RPC client does the X-Transmission-Session-Id handshake (409, then the header) with each,
and HTTP basic auth (both daemons are given the same user and password).
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import bencode, free_port, rss_kib  # noqa: E402

FILE_SIZE = 16 * 1024
PIECE = 16 * 1024
FIELDS = ["id", "name", "percentDone", "rateUpload", "uploadedEver", "peersConnected"]
SEEDING = 6  # Transmission's TR_STATUS_SEED
GET_RUNS = 20
# Both daemons ask for these (bttnode's RPC always has a password).
RPC_USER = "bench"
RPC_PASSWORD = "bench-password"


def make_torrents(work, n):
    """N single-file torrents in work/data; returns their metainfo (bytes)."""
    data = os.path.join(work, "data")
    os.makedirs(data)
    metainfo = []
    for i in range(n):
        name = "t%05d.bin" % i
        content = os.urandom(FILE_SIZE)
        with open(os.path.join(data, name), "wb") as f:
            f.write(content)
        pieces = b"".join(hashlib.sha1(content[o:o + PIECE]).digest()
                          for o in range(0, len(content), PIECE))
        info = {"name": name, "length": FILE_SIZE, "piece length": PIECE, "pieces": pieces}
        metainfo.append(bencode({"info": info, "created by": "bench_daemon_scale"}))
    return data, metainfo


class Rpc:
    """A Transmission RPC client on one kept-alive connection, with the session-id handshake."""

    def __init__(self, port, path="/transmission/rpc"):
        self.port = port
        self.path = path
        self.session_id = None
        self.conn = None
        self.handshakes = 0
        self.auth = "Basic " + base64.b64encode(
            ("%s:%s" % (RPC_USER, RPC_PASSWORD)).encode()).decode()

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def raw(self, body):
        """Sends one request body; returns (status, response bytes), redoing the handshake
        on 409 and reconnecting once if the kept-alive connection was closed."""
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            headers = {"Content-Type": "application/json", "Authorization": self.auth}
            if self.session_id:
                headers["X-Transmission-Session-Id"] = self.session_id
            try:
                self.conn.request("POST", self.path, body, headers)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.HTTPException, ConnectionError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            if r.status == 409:
                self.session_id = r.getheader("X-Transmission-Session-Id")
                self.handshakes += 1
                continue
            return r.status, data
        raise RuntimeError("no session id accepted")

    def call(self, method, **arguments):
        status, data = self.raw(json.dumps({"method": method, "arguments": arguments}))
        if status != 200:
            raise RuntimeError("%s: HTTP %d %s" % (method, status, data[:200]))
        reply = json.loads(data)
        if reply.get("result") != "success":
            raise RuntimeError("%s: %s" % (method, reply.get("result")))
        return reply.get("arguments", {})

    def timed_get(self):
        """torrent-get of every torrent with FIELDS: (seconds, torrents)."""
        body = json.dumps({"method": "torrent-get", "arguments": {"fields": FIELDS}})
        t0 = time.perf_counter()
        status, data = self.raw(body)
        dt = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError("torrent-get: HTTP %d" % status)
        return dt, json.loads(data)["arguments"]["torrents"]


class Daemon:
    """One daemon under test in its own folder: start, stop, pid, its RPC port."""

    def __init__(self, name, work, data):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.data = data
        self.rpc_port = free_port()
        self.peer_port = free_port()
        self.proc = None
        self.starts = 0

    def argv(self):
        raise NotImplementedError

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.dir, "%s.%d.log" % (self.name, self.starts)), "wb")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def stop(self, timeout=60):
        """SIGTERM; returns the seconds until it exited (SIGKILL after timeout)."""
        t0 = time.time()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return time.time() - t0

    def log_tail(self):
        path = os.path.join(self.dir, "%s.%d.log" % (self.name, self.starts))
        with open(path, "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")


class Transmission(Daemon):
    def __init__(self, work, data, binary):
        super().__init__("transmission", work, data)
        self.binary = binary
        settings = {
            "download-dir": data, "incomplete-dir-enabled": False,
            "rpc-enabled": True, "rpc-bind-address": "127.0.0.1", "rpc-port": self.rpc_port,
            "rpc-authentication-required": True, "rpc-username": RPC_USER,
            "rpc-password": RPC_PASSWORD, "rpc-whitelist-enabled": False,
            "rpc-host-whitelist-enabled": False,
            "peer-port": self.peer_port, "peer-port-random-on-start": False,
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
            "utp-enabled": False, "port-forwarding-enabled": False,
            "start-added-torrents": True, "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False, "download-queue-enabled": False,
            "seed-queue-enabled": False, "queue-stalled-enabled": False,
            "message-level": 1,
        }
        with open(os.path.join(self.dir, "settings.json"), "w") as f:
            json.dump(settings, f, indent=1)

    def argv(self):
        return [self.binary, "--foreground", "--config-dir", self.dir]


class Bttnode(Daemon):
    def __init__(self, work, data, binary):
        super().__init__("bttnode", work, data)
        self.binary = binary
        self.config = os.path.join(self.dir, "config.json")
        with open(self.config, "w") as f:
            json.dump({"download_dir": data, "state_dir": os.path.join(self.dir, "state"),
                       "peer_port": self.peer_port, "port_forwarding": False, "rpc_bind": "127.0.0.1",
                       "rpc_port": self.rpc_port, "rpc_username": RPC_USER,
                       "rpc_password": RPC_PASSWORD}, f, indent=1)

    def argv(self):
        return [self.binary, "run", "--config", self.config]


def wait_all_seeding(d, rpc, n, timeout):
    """Polls torrent-get (id, status) until n torrents seed; returns the seconds it took from
    the daemon's start. Refused connections while it starts are retried."""
    t0 = d.started
    deadline = time.time() + timeout
    while True:
        if d.proc.poll() is not None:
            raise RuntimeError("%s exited with %s:\n%s" % (d.name, d.proc.returncode,
                                                           d.log_tail()))
        try:
            torrents = rpc.call("torrent-get", fields=["id", "status"])["torrents"]
            if len(torrents) == n and all(t["status"] == SEEDING for t in torrents):
                return time.time() - t0
        except (ConnectionError, OSError, http.client.HTTPException):
            rpc.close()
        if time.time() > deadline:
            raise RuntimeError("%s: not all %d seeding within %d s" % (d.name, n, timeout))
        time.sleep(0.01)


def bench_daemon(d, metainfo, timeout):
    n = len(metainfo)
    r = {}
    d.start()
    d.started = time.time()
    rpc = Rpc(d.rpc_port)
    while True:  # up and answering
        try:
            rpc.call("session-get")
            break
        except (ConnectionError, OSError, http.client.HTTPException):
            rpc.close()
            if d.proc.poll() is not None or time.time() - d.started > timeout:
                raise RuntimeError("%s did not answer RPC:\n%s" % (d.name, d.log_tail()))
            time.sleep(0.02)
    r["handshake"] = rpc.handshakes >= 1
    t0 = time.time()
    for m in metainfo:
        added = rpc.call("torrent-add", metainfo=base64.b64encode(m).decode(),
                         **{"download-dir": d.data})
        if "torrent-added" not in added:
            raise RuntimeError("%s: torrent-add: %s" % (d.name, added))
    r["add_s"] = time.time() - t0
    d.started = t0
    r["first_seed_s"] = wait_all_seeding(d, rpc, n, timeout)
    time.sleep(3)
    r["rss_kib"] = rss_kib(d.proc.pid)

    times = []
    for i in range(GET_RUNS + 2):
        dt, torrents = rpc.timed_get()
        if len(torrents) != n or set(torrents[0]) != set(FIELDS):
            raise RuntimeError("%s: torrent-get gave %d torrents, fields %s"
                               % (d.name, len(torrents), sorted(torrents[0])))
        if i >= 2:  # two warm-up requests
            times.append(dt)
    r["get_ms"] = statistics.median(times) * 1000
    r["get_min_ms"] = min(times) * 1000
    r["get_bytes"] = len(json.dumps({"torrents": torrents}))

    rpc.close()
    r["stop_s"] = d.stop()
    r["stop_rc"] = d.proc.returncode
    d.start()
    d.started = time.time()
    rpc = Rpc(d.rpc_port)
    r["restart_s"] = wait_all_seeding(d, rpc, n, timeout)
    r["rss_restart_kib"] = rss_kib(d.proc.pid)
    rpc.close()
    d.stop()
    return r


def fmt_row(label, values):
    return "  %-44s" % label + "".join("%18s" % v for v in values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", help="the bttnode program (without it: transmission only)")
    ap.add_argument("--transmission", default="/usr/bin/transmission-daemon")
    ap.add_argument("--torrents", default="1000,10000")
    ap.add_argument("--daemons", default="transmission,bttnode")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per wait")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    a = ap.parse_args()
    names = [x for x in a.daemons.split(",") if x]
    if "bttnode" in names and not a.bttnode:
        names.remove("bttnode")
    version = subprocess.run([a.transmission, "--version"], capture_output=True,
                             text=True).stderr.strip() or "transmission-daemon"
    print("transmission: %s; bttnode: %s" % (version, a.bttnode or "not run"))

    results = {}
    for n in [int(x) for x in a.torrents.split(",")]:
        work = tempfile.mkdtemp(prefix="bench-daemon-scale-")
        try:
            t0 = time.time()
            data, metainfo = make_torrents(work, n)
            print("%d torrents of %d KiB made in %.1f s" % (n, FILE_SIZE // 1024,
                                                            time.time() - t0), flush=True)
            for name in names:
                d = (Transmission(work, data, a.transmission) if name == "transmission"
                     else Bttnode(work, data, os.path.abspath(a.bttnode)))
                try:
                    results[(n, name)] = bench_daemon(d, metainfo, a.timeout)
                    print("  %s done: %s" % (name, json.dumps(results[(n, name)])), flush=True)
                except Exception as e:  # a daemon that fails is reported, the other still runs
                    print("  %s failed: %s" % (name, e), flush=True)
                finally:
                    d.stop(timeout=20)
        finally:
            if a.keep:
                print("kept " + work)
            else:
                shutil.rmtree(work, ignore_errors=True)

    print()
    print(fmt_row("", names))
    for n in sorted({k[0] for k in results}):
        print("%d torrents" % n)
        rows = [
            ("RSS, all seeding (MiB)", lambda r: "%.1f" % (r["rss_kib"] / 1024)),
            ("torrent-get, 6 fields, median of %d (ms)" % GET_RUNS,
             lambda r: "%.2f" % r["get_ms"]),
            ("torrent-get, fastest of %d (ms)" % GET_RUNS, lambda r: "%.2f" % r["get_min_ms"]),
            ("restart until all seeding again (s)", lambda r: "%.2f" % r["restart_s"]),
            ("SIGTERM until exit (s)", lambda r: "%.2f (rc %s)" % (r["stop_s"], r["stop_rc"])),
            ("torrent-add of all, over RPC (s)", lambda r: "%.1f" % r["add_s"]),
            ("added until all seeding (s)", lambda r: "%.2f" % r["first_seed_s"]),
            ("RSS after the restart (MiB)", lambda r: "%.1f" % (r["rss_restart_kib"] / 1024)),
        ]
        for label, f in rows:
            print(fmt_row(label, [f(results[(n, x)]) if (n, x) in results else "-"
                                  for x in names]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
