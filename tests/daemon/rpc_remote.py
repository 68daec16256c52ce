#!/usr/bin/python3
"""Debian's transmission-remote (3.00), unchanged, drives `bttnode run` over the RPC against
libtorrent peers on loopback through opentracker: -si, -st, -a (a .torrent file and a
magnet), -l, -t N -i, --stop, --start, -v, -u/-d/-U/-D, -r, --remove-and-delete and --exit. A torrent
added by RPC downloads from a libtorrent seeder, then seeds to a libtorrent leecher.

  rpc_remote.py --bttnode PATH remote
  rpc_remote.py --bttnode PATH bench_torrent_get   (torrent-get of 1,000 torrents, median of 20)
"""
import base64
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import scenario_lib as sl  # noqa: E402
from scenario_lib import Fail, check  # noqa: E402

REMOTE = "/usr/bin/transmission-remote"
USER, PASSWORD = "alice", "correct horse"


class Env(sl.Env):
    keep = "failed"

    def start_daemon(self, extra=None):
        self.rpc_port = sl.free_port()
        self.peer_port = sl.free_port()
        conf = {
            "download_dir": self.path("downloads"),
            "state_dir": self.path("state"),
            "peer_port": self.peer_port, "port_forwarding": False,
            "rpc_bind": "127.0.0.1",
            "rpc_port": self.rpc_port,
            "rpc_username": USER,
            "rpc_password": PASSWORD,
        }
        conf.update(extra or {})
        path = self.path("bttnode.json")
        with open(path, "w") as f:
            json.dump(conf, f)
        self.daemon = self.spawn("daemon", [self.bttnode, "run", "--config", path])
        sl.wait_log(self.daemon, r"rpc listening on", 30)
        return self.daemon

    def remote(self, *args, ok=True, timeout=60):
        argv = [REMOTE, "127.0.0.1:%d" % self.rpc_port, "-n", "%s:%s" % (USER, PASSWORD)]
        argv += list(args)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        out = r.stdout + r.stderr
        if ok and r.returncode != 0:
            raise Fail("transmission-remote %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                                   out))
        return out

    def rows(self):
        """-l as {id: (done, status, name)}."""
        rows = {}
        for line in self.remote("-l").splitlines():
            # Greedy up to the status: an ETA of "Unknown" comes before it on the line.
            m = re.match(r"\s*(\d+)\*?\s+(n/a|\d+%)\s+.*\s{2}(Stopped|Finished|Will Verify|"
                         r"Verifying(?: \(\d+%\))?|Queued|Up & Down|Downloading|Uploading|"
                         r"Seeding|Idle)\s+(\S.*)$", line)
            if m:
                rows[int(m.group(1))] = (m.group(2), m.group(3), m.group(4).strip())
        return rows

    def wait_row(self, tid, want, timeout=60, what=""):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.rows().get(tid)
            if last and want(last):
                return last
            time.sleep(0.3)
        raise Fail("torrent %d never %s; last -l row %r" % (tid, what, last))


def make_data(env, name, size):
    src = env.path("seed", name)
    os.makedirs(os.path.dirname(src), exist_ok=True)
    sl.write_random(src, size)
    torrent = env.path(name + ".torrent")
    out = env.run([sl.PYTHON, sl.LT_CLIENT, "make-torrent", src, torrent, "--tracker",
                   env.announce_url, "--piece-size", "65536"])
    ih = out.strip().splitlines()[-1]
    env.whitelist_add(ih)
    return torrent, ih


def lt_seed(env, name, torrent):
    p = env.spawn(name, [sl.PYTHON, sl.LT_CLIENT, "seed", torrent, "--save", env.path("seed"),
                         "--port", str(sl.free_port())])
    sl.wait_log(p, r"seeding", 30)
    return p


def scenario_remote(env):
    env.start_tracker()
    alpha, alpha_ih = make_data(env, "alpha.bin", 3_000_000)
    beta, beta_ih = make_data(env, "beta.bin", 1_500_000)
    seeder = lt_seed(env, "lt-seed", alpha)
    seeder_b = lt_seed(env, "lt-seed-beta", beta)
    env.start_daemon()

    si = env.remote("-si")
    check("RPC version: 16" in si, "-si: no RPC version in %r" % si)
    check("Listenport: %d" % env.peer_port in si, "-si: no listen port in %r" % si)
    check("Upload speed limit: Unlimited" in si, "-si: no LIMITS block in %r" % si)

    # A wrong password is refused the way transmission-remote reports it.
    r = subprocess.run([REMOTE, "127.0.0.1:%d" % env.rpc_port, "-n", USER + ":wrong", "-l"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "401" in r.stdout + r.stderr, "wrong password: %r" % (r,))

    out = env.remote("-a", alpha)
    check('responded: "success"' in out, "-a file: %r" % out)
    env.wait_row(1, lambda r: r[0] == "100%", 90, "downloaded")
    sl.assert_same(env.path("seed", "alpha.bin"), env.path("downloads", "alpha.bin"))
    env.log("alpha downloaded by RPC")

    info = env.remote("-t", "1", "-i")
    for want in ("Name: alpha.bin", "Hash: " + alpha_ih, "Percent Done: 100%",
                 "Total size: 3.00 MB", "Public torrent"):
        check(want in info, "-i: no %r in %r" % (want, info))
    st = env.remote("-st")
    check(re.search(r"Downloaded:\s+3\.0\d MB", st), "-st: %r" % st)

    # It seeds: a libtorrent leecher downloads from the daemon alone, over uTP only and
    # encrypted only, so that the peer list must show the live connection as both (T and E).
    # The torrent's upload limit stretches the transfer over a few seconds to look at it.
    env.stop(seeder)
    env.remote("-t", "1", "-u", "1000")
    leech = env.lt_download("lt-leech", alpha, env.path("leech"),
                            peers=["127.0.0.1:%d" % env.peer_port],
                            extra=["--utp-only", "--encrypted"])
    flags = None
    deadline = time.time() + 30
    while flags is None and time.time() < deadline and leech.poll() is None:
        for line in env.remote("-t", "1", "-pi").splitlines()[1:]:
            cols = line.split()
            if len(cols) > 2 and cols[0].startswith("127.0.0.1"):
                flags = cols[1]
        time.sleep(0.2)
    check(flags is not None, "-pi never listed the libtorrent leecher")
    check("T" in flags and "E" in flags, "-pi flags %r: not uTP and encrypted" % flags)
    env.log("the leecher's connection in -pi: flags %s" % flags)
    env.remote("-t", "1", "-U")
    sl.wait_exit(leech, 90)
    sl.assert_same(env.path("seed", "alpha.bin"), env.path("leech", "alpha.bin"))
    env.log("alpha seeded to libtorrent")
    st = env.remote("-st")
    check(re.search(r"Uploaded:\s+3\.0\d MB", st), "-st after seeding: %r" % st)

    env.remote("-t", "1", "--stop")
    env.wait_row(1, lambda r: r[1] in ("Stopped", "Finished"), 20, "stopped")
    env.remote("-t", "1", "--start")
    env.wait_row(1, lambda r: r[1] in ("Seeding", "Idle", "Uploading"), 20, "seeding again")
    env.remote("-t", "1", "-v")
    env.wait_row(1, lambda r: r[0] == "100%" and r[1] in ("Seeding", "Idle", "Uploading"), 30,
                 "verified")

    env.remote("-u", "120", "-d", "250")
    si = env.remote("-si")
    check("Upload speed limit: 120 kB/s" in si and "Download speed limit: 250 kB/s" in si,
          "-u/-d not in -si: %r" % si)
    env.remote("-U", "-D")
    si = env.remote("-si")
    check("Upload speed limit: Unlimited" in si and "Download speed limit: Unlimited" in si,
          "-U/-D not in -si: %r" % si)

    # A magnet: the name from dn at once, the data from the libtorrent seeder through the tracker.
    magnet = "magnet:?xt=urn:btih:%s&dn=beta.bin&tr=%s" % (beta_ih, env.announce_url)
    out = env.remote("-a", magnet)
    check('responded: "success"' in out, "-a magnet: %r" % out)
    rows = env.rows()
    check(rows.get(2) and rows[2][2] == "beta.bin", "magnet row: %r" % rows)
    env.wait_row(2, lambda r: r[0] == "100%", 90, "downloaded by magnet")
    sl.assert_same(env.path("seed", "beta.bin"), env.path("downloads", "beta.bin"))
    env.log("beta downloaded by magnet")

    # The same .torrent again is a duplicate, not a second torrent.
    out = env.remote("-a", beta)
    check('responded: "success"' in out and set(env.rows()) == {1, 2}, "duplicate: %r" % out)

    env.remote("-t", "2", "-r")
    check(2 not in env.rows(), "-r left torrent 2")
    check(os.path.exists(env.path("downloads", "beta.bin")), "-r deleted the data")
    env.remote("-t", "1", "--remove-and-delete")
    check(env.rows() == {}, "torrents left: %r" % env.rows())
    deadline = time.time() + 10
    while os.path.exists(env.path("downloads", "alpha.bin")) and time.time() < deadline:
        time.sleep(0.1)
    check(not os.path.exists(env.path("downloads", "alpha.bin")),
          "--remove-and-delete left the file")
    env.stop(seeder_b)
    # --exit is session-close: the daemon shuts down as on SIGTERM.
    env.remote("--exit")
    sl.wait_exit(env.daemon, 30)


class Rpc:
    """A minimal RPC client on one kept-alive connection, with the session-id handshake."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.sid = ""
        token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        self.auth = "Basic " + token

    def call(self, method, **arguments):
        body = json.dumps({"method": method, "arguments": arguments})
        for _ in range(2):
            self.conn.request("POST", "/transmission/rpc", body=body, headers={
                "X-Transmission-Session-Id": self.sid, "Authorization": self.auth})
            r = self.conn.getresponse()
            data = r.read()
            if r.status == 409:
                self.sid = r.getheader("X-Transmission-Session-Id")
                continue
            check(r.status == 200, "%s: HTTP %d %r" % (method, r.status, data[:200]))
            return json.loads(data)
        raise Fail("no session id")


def scenario_bench_torrent_get(env):
    n = int(os.environ.get("BENCH_TORRENTS", "1000"))
    env.start_daemon()
    rpc = Rpc(env.rpc_port)
    src = env.path("data")
    os.makedirs(src)
    t0 = time.time()
    for i in range(n):
        name = "t%05d.bin" % i
        with open(os.path.join(src, name), "wb") as f:
            f.write(os.urandom(16384))
    # One python process makes all the .torrent files (a process each would take minutes).
    env.run([sl.PYTHON, "-c", (
        "import libtorrent as lt,sys,os\n"
        "src,out=sys.argv[1],sys.argv[2]\n"
        "for name in sorted(os.listdir(src)):\n"
        "  fs=lt.file_storage();lt.add_files(fs,os.path.join(src,name))\n"
        "  ct=lt.create_torrent(fs,16384,flags=lt.create_torrent.v1_only)\n"
        "  lt.set_piece_hashes(ct,src)\n"
        "  open(os.path.join(out,name+'.torrent'),'wb').write(lt.bencode(ct.generate()))\n"),
        src, env.dir])
    for i in range(n):
        name = "t%05d.bin" % i
        with open(env.path(name + ".torrent"), "rb") as f:
            meta = base64.b64encode(f.read()).decode()
        a = rpc.call("torrent-add", metainfo=meta, **{"download-dir": src})
        check(a["result"] == "success", "add: %r" % a)
    env.log("%d torrents added in %.1f s" % (n, time.time() - t0))
    fields = ["id", "name", "percentDone", "rateUpload", "uploadedEver", "peersConnected"]
    deadline = time.time() + 300
    while time.time() < deadline:
        got = rpc.call("torrent-get", fields=["status"])["arguments"]["torrents"]
        seeding = sum(1 for t in got if t["status"] == 6)
        if seeding == n:
            break
        time.sleep(1)
    env.log("%d of %d seeding" % (seeding, n))
    times = []
    for _ in range(20):
        t = time.perf_counter()
        got = rpc.call("torrent-get", fields=fields)
        times.append(time.perf_counter() - t)
        check(len(got["arguments"]["torrents"]) == n, "torrent-get answered %d" %
              len(got["arguments"]["torrents"]))
    print("torrent-get of %d torrents, %d fields: median %.2f ms (min %.2f, max %.2f)" % (
        n, len(fields), statistics.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3))


SCENARIOS = {"remote": scenario_remote, "bench_torrent_get": scenario_bench_torrent_get}

if __name__ == "__main__":
    sys.exit(sl.runner_main(SCENARIOS, lambda b: Env(b, "bttnode-rpc-")))
