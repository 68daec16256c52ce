#!/usr/bin/python3
"""The daemon's web pages against a real `bttnode run` on loopback.

  web_test.py --bttnode PATH SCENARIO    (screenshot in $BTTNODE_SCREENSHOT_DIR, else the temp folder)

dashboard: a seeding daemon with one torrent; headless Chromium (dashboard.mjs, playwright-core)
loads / behind basic auth, finds the torrent's name and progress, pauses and resumes it from
the page, adds a second torrent by uploading its .torrent and removes it, sees no console
error, and saves a screenshot.
metrics: a libtorrent peer downloads the daemon's torrent; /metrics before and after shows the
upload counters (session and per torrent) moving by at least the torrent's size, the torrent
by state and its peers; `promtool check metrics` accepts both pages with no remark.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (LT_CLIENT, MIB, PYTHON, Env, Fail, check, free_port,  # noqa: E402
                          runner_main, wait_exit, wait_log, write_random)

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(os.path.dirname(HERE), "js")
USER, PASSWORD = "admin", "s3cret pass"
SCREENSHOT_DIR = os.environ.get("BTTNODE_SCREENSHOT_DIR", "")


class WebEnv(Env):
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-web-")
        self.downloads = self.path("downloads")
        self.watch = self.path("watch")

    def start_daemon(self):
        """A daemon with the RPC on a free port; returns it with .peer_port and .url."""
        c = {"download_dir": self.downloads, "state_dir": self.path("state"),
             "watch_dir": self.watch, "peer_port": 0, "port_forwarding": False,
             "rpc_port": free_port(),
             "rpc_username": USER, "rpc_password": PASSWORD, "watch_interval": 1}
        cfg = self.path("config.json")
        with open(cfg, "w") as f:
            json.dump(c, f)
        p = self.spawn("daemon", [self.bttnode, "run", "--config", cfg])
        p.peer_port = int(wait_log(p, r"^peer port (\d+)$", 15)[-1].group(1))
        m = wait_log(p, r"^rpc listening on ([^ ]+):(\d+)", 15)[-1]
        p.url = "http://127.0.0.1:%s" % m.group(2)
        return p

    def seeded_torrent(self, name, size):
        """Random data already in the download folder and its .torrent dropped in the watch
        folder: the daemon checks it and seeds. Returns (torrent path, info-hash)."""
        data = os.path.join(self.downloads, name)
        os.makedirs(self.downloads, exist_ok=True)
        write_random(data, size)
        torrent = self.path(name + ".torrent")
        ih = self.run([PYTHON, LT_CLIENT, "make-torrent", data, torrent, "--piece-size",
                       str(32 * 1024)]).strip()
        os.makedirs(self.watch, exist_ok=True)
        shutil.copy(torrent, os.path.join(self.watch, "." + name + ".part"))
        past = os.path.getmtime(torrent) - 5
        os.utime(os.path.join(self.watch, "." + name + ".part"), (past, past))
        os.rename(os.path.join(self.watch, "." + name + ".part"),
                  os.path.join(self.watch, name + ".torrent"))
        return torrent, ih


def get(url, auth=True):
    req = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def rpc(url, method, args=None):
    """One Transmission RPC call, with the session-id handshake."""
    token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    sid = ""
    for _ in range(2):
        req = urllib.request.Request(url + "/transmission/rpc", method="POST",
                                     data=json.dumps({"method": method,
                                                      "arguments": args or {}}).encode())
        req.add_header("Authorization", "Basic " + token)
        req.add_header("X-Transmission-Session-Id", sid)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            sid = e.headers["X-Transmission-Session-Id"]
    raise Fail("no session id from the RPC")


def wait_torrent(env, d, ih, what, cond, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        r = rpc(d.url, "torrent-get", {"ids": [ih], "fields": [
            "id", "name", "status", "percentDone", "uploadedEver", "peersConnected"]})
        ts = r.get("arguments", {}).get("torrents", [])
        if ts:
            last = ts[0]
            if cond(last):
                return last
        check(d.poll() is None, "the daemon exited with %s" % d.returncode)
        time.sleep(0.2)
    raise Fail("torrent %s: %s not seen within %ss (last: %s)" % (ih[:8], what, timeout, last))


def metric(page, name, labels=None):
    """The value of one sample of the page (labels: a substring of its label set)."""
    for line in page.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        if labels is None and m.group(2) is None or labels is not None and m.group(2) and \
                labels in m.group(2):
            return float(m.group(3))
    raise Fail("no sample %s%s in the page:\n%s" % (name, labels or "", page))


def promtool(env, page, tag):
    path = env.path("metrics-%s.txt" % tag)
    with open(path, "w") as f:
        f.write(page)
    with open(path) as f:
        r = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True,
                           text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "",
          "promtool check metrics (%s): exit %s: %s%s" % (tag, r.returncode, r.stdout, r.stderr))


def metrics(env):
    size = 3 * MIB
    d = env.start_daemon()
    torrent, ih = env.seeded_torrent("payload.bin", size)
    wait_torrent(env, d, ih, "seeding", lambda t: t["status"] == 6 and t["percentDone"] == 1)

    status, _, _ = get(d.url + "/metrics", auth=False)
    check(status == 401, "/metrics without credentials answered %s, not 401" % status)
    status, headers, before = get(d.url + "/metrics")
    check(status == 200, "/metrics answered %s" % status)
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "/metrics content type %r" % headers.get("Content-Type"))
    promtool(env, before, "before")
    up0 = metric(before, "bttnode_uploaded_bytes_total")
    t_up0 = metric(before, "bttnode_uploaded_bytes_total", 'info_hash="%s"' % ih)
    check(metric(before, "bttnode_torrents", 'state="seeding"') == 1,
          "bttnode_torrents{state=seeding} is not 1 before the transfer")

    leecher = env.lt_download("leecher", torrent, env.path("leech"),
                              peers=["127.0.0.1:%d" % d.peer_port], timeout=60)
    wait_exit(leecher, 70)
    check(open(env.path("leech", "payload.bin"), "rb").read() ==
          open(os.path.join(env.downloads, "payload.bin"), "rb").read(),
          "libtorrent's copy differs from the daemon's")
    wait_torrent(env, d, ih, "the upload counted", lambda t: t["uploadedEver"] >= size)

    status, _, after = get(d.url + "/metrics")
    check(status == 200, "/metrics answered %s after the transfer" % status)
    promtool(env, after, "after")
    up1 = metric(after, "bttnode_uploaded_bytes_total")
    t_up1 = metric(after, "bttnode_uploaded_bytes_total", 'info_hash="%s"' % ih)
    env.log("uploaded: session %d -> %d, torrent %d -> %d bytes (torrent %d)"
            % (up0, up1, t_up0, t_up1, size))
    check(up1 - up0 >= size, "the session's upload counter moved by %d < %d" % (up1 - up0, size))
    check(t_up1 - t_up0 >= size, "the torrent's upload counter moved by %d < %d"
          % (t_up1 - t_up0, size))
    check('name="payload.bin"' in after, "the per-torrent series does not carry the name")
    closed = sum(metric(after, "bttnode_connections_closed_total", 'reason="%s"' % r)
                 for r in ("remote_closed", "useless_peer", "network_error", "local_stop"))
    check(closed >= 1, "no closed connection counted after libtorrent left")
    check(metric(after, "bttnode_downloaded_bytes_total") == 0,
          "a seeding daemon counted downloaded bytes")


def dashboard(env):
    size = 1 * MIB + 12345
    d = env.start_daemon()
    _, ih = env.seeded_torrent("dashboard sample.bin", size)
    t = wait_torrent(env, d, ih, "seeding", lambda t: t["status"] == 6)
    # A second torrent, added and removed through the page's form.
    os.makedirs(env.path("other"), exist_ok=True)
    write_random(env.path("other", "uploaded.bin"), 100_000)
    upload = env.path("uploaded.torrent")
    env.run([PYTHON, LT_CLIENT, "make-torrent", env.path("other", "uploaded.bin"), upload])
    shot_dir = SCREENSHOT_DIR or env.dir
    os.makedirs(shot_dir, exist_ok=True)
    shot = os.path.join(shot_dir, "dashboard.png")
    r = subprocess.run(["node", os.path.join(HERE, "dashboard.mjs"), "--url", d.url, "--user", USER,
                        "--password", PASSWORD, "--name", t["name"], "--id", str(t["id"]),
                        "--screenshot", shot, "--js-dir", JS_DIR, "--add-torrent", upload,
                        "--add-name", "uploaded.bin", "--peer-port", str(d.peer_port)],
                       capture_output=True, text=True, timeout=120)
    sys.stdout.write(r.stdout)
    sys.stdout.write(r.stderr)
    check(r.returncode == 0, "the browser test failed (exit %s)" % r.returncode)
    check(os.path.getsize(shot) > 10_000, "the screenshot is too small to show the page")
    left = rpc(d.url, "torrent-get", {"fields": ["id", "name"]})["arguments"]["torrents"]
    check([x["name"] for x in left] == [t["name"]],
          "after the page's add and remove the daemon has %s" % left)
    env.log("screenshot: %s (%d bytes)" % (shot, os.path.getsize(shot)))


def make_env(bttnode):
    return WebEnv(bttnode)


if __name__ == "__main__":
    sys.exit(runner_main({"dashboard": dashboard, "metrics": metrics}, make_env))
