#!/usr/bin/python3
"""Scenarios of `bttnode run` against real libtorrent peers on loopback, through opentracker.

  daemon_test.py --bttnode PATH SCENARIO

restart_sigterm / restart_kill9: the daemon downloads from a rate-limited libtorrent seeder,
is stopped (SIGTERM, which must exit 0 within 10 s) or killed (-9) part way, and restarted
with the same state folder: the torrent comes back with its id, and the bytes it downloads
after the restart are at most what was missing (per its saved record) plus a few pieces.
watch_folder: a .torrent and a .magnet dropped in the watch folder are added (renamed .added,
metainfo saved, downloaded); a bad file is renamed .invalid.
ratio_stop / ratio_remove: a seeding daemon reaches its ratio limit and stops or removes the
torrent.
"""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (LT_CLIENT, MIB, PYTHON, Env, Fail, assert_same, check,  # noqa: E402
                          free_port, runner_main, wait_exit, wait_log, write_random)

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 32 * 1024


class DaemonEnv(Env):
    stop_timeout = 15
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-daemon-")
        self.state = self.path("state")
        self.downloads = self.path("downloads")
        self.watch = self.path("watch")

    def make_torrent(self, name, size):
        """Random data in src/<name> and its .torrent (announcing to the tracker)."""
        os.makedirs(self.path("src"), exist_ok=True)
        data = self.path("src", name)
        write_random(data, size)
        torrent = self.path(name + ".torrent")
        ih = self.run([PYTHON, LT_CLIENT, "make-torrent", data, torrent, "--tracker",
                       self.announce_url, "--piece-size", str(PIECE)]).strip()
        self.whitelist_add(ih)
        return data, torrent, ih

    def config(self, **extra):
        c = {"download_dir": self.downloads, "state_dir": self.state, "watch_dir": self.watch,
             "peer_port": 0, "port_forwarding": False, "rpc_port": 0, "rpc_enabled": False,
             "watch_interval": 1,
             "state_interval": 1}
        c.update(extra)
        path = self.path("config.json")
        with open(path, "w") as f:
            json.dump(c, f)
        return path

    def start_daemon(self, config):
        p = self.spawn("daemon", [self.bttnode, "run", "--config", config])
        m = wait_log(p, r"^peer port (\d+)$", 15)
        p.port = int(m[-1].group(1))
        return p

    def drop(self, src, name=None):
        """Puts a file in the watch folder whole (written aside, then renamed in)."""
        os.makedirs(self.watch, exist_ok=True)
        name = name or os.path.basename(src)
        tmp = os.path.join(self.watch, "." + name + ".part")
        with open(src, "rb") as f, open(tmp, "wb") as g:
            g.write(f.read())
        # Older than a second, so the daemon does not wait for a writer to finish.
        past = time.time() - 5
        os.utime(tmp, (past, past))
        os.rename(tmp, os.path.join(self.watch, name))
        return os.path.join(self.watch, name)

    def record(self, ih):
        path = os.path.join(self.state, "torrents", ih + ".json")
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_record(self, ih, what, cond, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.record(ih)
            if r is not None and cond(r):
                return r
            daemons = [p for p in self.procs if p.name.startswith("daemon")]
            if daemons and daemons[-1].poll() is not None:
                raise Fail("%s exited with %s" % (daemons[-1].name, daemons[-1].returncode))
            time.sleep(0.2)
        raise Fail("torrent %s: %s not seen within %ss (record: %s)"
                   % (ih[:8], what, timeout, self.record(ih)))


def make_env(bttnode):
    env = DaemonEnv(bttnode)
    env.start_tracker()
    return env


def restart(env, kill9):
    size = 6 * MIB
    pieces = size // PIECE
    data, torrent, ih = env.make_torrent("payload.bin", size)
    seeder = env.spawn("seeder", [PYTHON, LT_CLIENT, "seed", torrent, "--save", env.path("src"),
                                  "--port", str(free_port()), "--upload-limit", str(512 * 1024)])
    wait_log(seeder, r"^seeding$", 20)
    cfg = env.config()
    d1 = env.start_daemon(cfg)
    env.drop(torrent)
    r = env.wait_record(ih, "40% of the pieces", lambda r: r.get("pieces_have", 0) >= pieces * 0.4,
                        30)
    first_id = r["id"]
    if kill9:
        # What the last record says was verified: the restart must not fetch it again.
        before = env.record(ih)
        env.kill9(d1)
    else:
        t0 = time.time()
        env.stop(d1, signal.SIGTERM)
        took = time.time() - t0
        check(d1.returncode == 0, "SIGTERM: the daemon exited with %s" % d1.returncode)
        check(took < 10, "SIGTERM: the daemon took %.1f s to exit" % took)
        env.log("SIGTERM: exited 0 in %.2f s" % took)
        before = env.record(ih)
    have, down1 = before["pieces_have"], before["downloaded"]
    env.log("%s with %d/%d pieces, %d bytes downloaded"
            % ("killed" if kill9 else "stopped", have, pieces, down1))
    check(have < pieces, "the download finished before the stop: nothing to resume")
    missing = size - have * PIECE
    d2 = env.start_daemon(cfg)
    wait_log(d2, r"^1 torrents in ", 10)
    r = env.wait_record(ih, "completion", lambda r: r.get("pieces_have") == pieces, 40)
    check(r["id"] == first_id, "the torrent's id changed across the restart: %s -> %s"
          % (first_id, r["id"]))
    env.stop(d2, signal.SIGTERM)
    check(d2.returncode == 0, "SIGTERM: the daemon exited with %s" % d2.returncode)
    after = env.record(ih)
    down2 = after["downloaded"] - down1
    env.log("after the restart: %d bytes downloaded, %d were missing" % (down2, missing))
    check(down2 <= missing + 4 * PIECE,
          "the restarted daemon downloaded %d bytes, but only %d were missing: verified "
          "pieces were fetched again" % (down2, missing))
    assert_same(env.path("src"), env.downloads)
    check(after["paused"] is False, "the torrent came back paused")


def restart_sigterm(env):
    restart(env, kill9=False)


def restart_kill9(env):
    restart(env, kill9=True)


def watch_folder(env):
    data_a, torrent_a, ih_a = env.make_torrent("a.bin", 1 * MIB)
    data_b, torrent_b, ih_b = env.make_torrent("b.bin", 1 * MIB)
    seed_port = free_port()
    seeder = env.spawn("seeder", [PYTHON, LT_CLIENT, "seed", torrent_a, "--save", env.path("src"),
                                  "--port", str(seed_port)])
    seeder_b = env.spawn("seeder_b", [PYTHON, LT_CLIENT, "seed", torrent_b, "--save",
                                      env.path("src"), "--port", str(free_port())])
    wait_log(seeder, r"^seeding$", 20)
    wait_log(seeder_b, r"^seeding$", 20)
    d = env.start_daemon(env.config())
    t0 = time.time()
    dropped = env.drop(torrent_a)
    magnet = env.path("b.magnet")
    with open(magnet, "w") as f:
        f.write("magnet:?xt=urn:btih:%s&dn=b.bin&tr=%s\n" % (ih_b, env.announce_url))
    dropped_m = env.drop(magnet)
    bad = env.path("junk.torrent")
    with open(bad, "wb") as f:
        f.write(b"this is not bencode")
    dropped_bad = env.drop(bad)
    deadline = time.time() + 10
    while time.time() < deadline and not (os.path.exists(dropped + ".added") and
                                          os.path.exists(dropped_m + ".added") and
                                          os.path.exists(dropped_bad + ".invalid")):
        time.sleep(0.1)
    check(os.path.exists(dropped + ".added"), "a.torrent was not renamed .added")
    check(os.path.exists(dropped_m + ".added"), "b.magnet was not renamed .added")
    check(os.path.exists(dropped_bad + ".invalid"), "junk.torrent was not renamed .invalid")
    env.log("watch folder took the files in %.1f s" % (time.time() - t0))
    wait_log(d, r"junk\.torrent is invalid", 5)
    env.wait_record(ih_a, "a complete", lambda r: r.get("pieces_have") == r.get("pieces"), 30)
    env.wait_record(ih_b, "b complete", lambda r: r.get("pieces", 0) > 0 and
                    r.get("pieces_have") == r.get("pieces"), 30)
    saved = os.path.join(env.state, "torrents", ih_b + ".torrent")
    check(os.path.exists(saved), "the magnet's metainfo was not saved")
    check(env.record(ih_b)["magnet"] == "", "the magnet link is still the torrent's source")
    env.stop(d, signal.SIGTERM)
    check(d.returncode == 0, "SIGTERM: exit %s" % d.returncode)
    assert_same(env.path("src"), env.downloads)
    # Restarted, the magnet torrent comes back from its saved metainfo.
    d2 = env.start_daemon(env.config())
    wait_log(d2, r"^2 torrents in ", 10)


def rpc_call(port, auth, body, sid=None):
    """One Transmission RPC call with the session-id handshake; returns (answer, sid)."""
    import base64
    import urllib.error
    import urllib.request
    for _ in range(2):
        req = urllib.request.Request("http://127.0.0.1:%d/transmission/rpc" % port,
                                     data=json.dumps(body).encode(), method="POST")
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        if sid:
            req.add_header("X-Transmission-Session-Id", sid)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r), sid
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise Fail("rpc answered %s" % e.code)
            sid = e.headers["X-Transmission-Session-Id"]
    raise Fail("no session id handshake")


def rpc_frontend(env):
    """`bttnode run` serves the RPC on a port of its choosing, with the credentials it made."""
    import base64
    data, torrent, ih = env.make_torrent("r.bin", 256 * 1024)
    d = env.spawn("daemon", [env.bttnode, "run", "--config",
                             env.config(rpc_enabled=True, rpc_username="u")])
    m = wait_log(d, r"^rpc listening on 127\.0\.0\.1:(\d+)", 15)
    port = int(m[-1].group(1))
    pw = wait_log(d, r"^rpc credentials: user u, password (\S+)", 1)[-1].group(1)
    with open(torrent, "rb") as f:
        meta = base64.b64encode(f.read()).decode()
    ans, sid = rpc_call(port, "u:" + pw, {"method": "torrent-add",
                                          "arguments": {"metainfo": meta, "paused": True}})
    check(ans.get("result") == "success", "torrent-add: %s" % ans)
    ans, sid = rpc_call(port, "u:" + pw, {"method": "torrent-get",
                                          "arguments": {"fields": ["id", "name", "hashString"]}},
                        sid)
    got = ans["arguments"]["torrents"]
    check(len(got) == 1 and got[0]["hashString"] == ih and got[0]["id"] == 1,
          "torrent-get: %s" % got)
    check(env.record(ih)["paused"], "the torrent added paused is not paused")
    add_by_slow_url(env, port, "u:" + pw, sid)
    env.stop(d, signal.SIGTERM)
    check(d.returncode == 0, "SIGTERM: exit %s" % d.returncode)


def add_by_slow_url(env, port, auth, sid):
    """A torrent-add of a URL whose server takes 2 s: the daemon answers other calls meanwhile,
    and the add's answer comes once the torrent is added."""
    import http.server
    import threading
    _, torrent, ih = env.make_torrent("u.bin", 64 * 1024)
    with open(torrent, "rb") as f:
        body = f.read()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(2)
            self.send_response(200 if self.path == "/u.torrent" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/u.torrent" % web.server_address[1]
    added = {}

    def add():
        added["answer"] = rpc_call(port, auth, {"method": "torrent-add", "tag": 7,
                                                "arguments": {"filename": url, "paused": True}},
                                   sid)[0]
    t = threading.Thread(target=add)
    t.start()
    time.sleep(0.3)
    t0 = time.time()
    ans, _ = rpc_call(port, auth, {"method": "session-get"}, sid)
    took = time.time() - t0
    check(ans.get("result") == "success" and took < 1.0,
          "session-get while a URL is fetched took %.2f s: %s" % (took, ans))
    t.join(15)
    web.shutdown()
    got = added.get("answer", {})
    check(got.get("result") == "success" and got.get("tag") == 7 and
          got["arguments"]["torrent-added"]["hashString"] == ih, "torrent-add by URL: %s" % got)


def ratio(env, action):
    size = 2 * MIB
    data, torrent, ih = env.make_torrent("seeded.bin", size)
    os.makedirs(env.downloads, exist_ok=True)
    os.link(data, os.path.join(env.downloads, "seeded.bin"))
    d = env.start_daemon(env.config(ratio_limit=0.5, limit_action=action))
    env.drop(torrent)
    env.wait_record(ih, "seeding", lambda r: r.get("pieces_have") == r.get("pieces") and
                    r.get("pieces", 0) > 0, 20)
    leech = env.lt_download("leecher", torrent, env.path("leech"),
                            peers=["127.0.0.1:%d" % d.port], timeout=40)
    m = wait_log(d, r"^torrent (\d+) reached its ratio limit: (\w+)$", 40)
    check(m[-1].group(2) == ("removed" if action == "remove" else "stopped"),
          "the limit did %s" % m[-1].group(2))
    if action == "remove":
        deadline = time.time() + 5
        while env.record(ih) is not None and time.time() < deadline:
            time.sleep(0.1)
        check(env.record(ih) is None, "the removed torrent's record is still there")
        check(os.path.exists(os.path.join(env.downloads, "seeded.bin")),
              "remove (without delete) deleted the data")
    else:
        r = env.wait_record(ih, "paused", lambda r: r["paused"], 5)
        check(r["uploaded"] >= 0.5 * size, "stopped at ratio %.2f" % (r["uploaded"] / size))
        # Still stopped after a restart.
        env.stop(d, signal.SIGTERM)
        d2 = env.start_daemon(env.config(ratio_limit=0.5, limit_action=action))
        wait_log(d2, r"^1 torrents in ", 10)
        time.sleep(2)
        check(env.record(ih)["paused"], "the stopped torrent started again after a restart")
    env.stop(leech)


def ratio_stop(env):
    ratio(env, "stop")


def ratio_remove(env):
    ratio(env, "remove")


SCENARIOS = {
    "restart_sigterm": restart_sigterm,
    "restart_kill9": restart_kill9,
    "watch_folder": watch_folder,
    "ratio_stop": ratio_stop,
    "ratio_remove": ratio_remove,
    "rpc_frontend": rpc_frontend,
}

if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, make_env))
