#!/usr/bin/python3
"""Trackers beyond plain announces, on 127.0.0.1:

  tracker_test.py --bttnode PATH SCENARIO

scrape_opentracker: a daemon seeds a torrent announced to opentracker and scrapes it (BEP 48);
a second peer announces and completes at the tracker; torrent-get's trackerStats show the
tracker's seeder, leecher and download counts with the time of the scrape.
https_announce: a TLS tracker (python http.server under ssl, with a certificate from a CA made
for the test) answers with the compact address of a libtorrent seeder; bttnode, given that CA
file, announces over https and downloads from the seeder it learnt from there.
"""
import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "daemon"))
from scenario_lib import (LT_CLIENT, MIB, PYTHON, Env, Fail, check, free_port,  # noqa: E402
                          runner_main, same_tree, wait_log, write_random)
from daemon_test import rpc_call  # noqa: E402

PIECE = 32 * 1024


class TrackerEnv(Env):
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-tracker-")

    def make_torrent(self, name, size, tracker):
        os.makedirs(self.path("src"), exist_ok=True)
        data = self.path("src", name)
        write_random(data, size)
        torrent = self.path(name + ".torrent")
        ih = self.run([PYTHON, LT_CLIENT, "make-torrent", data, torrent, "--tracker", tracker,
                       "--piece-size", str(PIECE)]).strip()
        return data, torrent, ih


def wait_for(what, cond, timeout, procs=(), show=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        for p in procs:
            if p.poll() is not None:
                raise Fail("%s exited with %s" % (p.name, p.returncode))
        time.sleep(0.2)
    raise Fail("%s not seen within %ss%s" % (what, timeout, " (last: %s)" % show() if show else ""))


def scrape_opentracker(env):
    env.start_tracker()
    data, torrent, ih = env.make_torrent("seeded.bin", 256 * 1024, env.announce_url)
    env.whitelist_add(ih)
    downloads = env.path("downloads")
    os.makedirs(downloads)
    os.link(data, os.path.join(downloads, "seeded.bin"))
    cfg = env.path("config.json")
    with open(cfg, "w") as f:
        json.dump({"download_dir": downloads, "state_dir": env.path("state"), "peer_port": 0,
                   "port_forwarding": False,
                   "rpc_port": 0, "rpc_enabled": True, "rpc_username": "u", "rpc_password": "p",
                   "tracker_scrape_interval": "1s"}, f)
    d = env.spawn("daemon", [env.bttnode, "run", "--config", cfg])
    port = int(wait_log(d, r"^rpc listening on 127\.0\.0\.1:(\d+)", 15)[-1].group(1))
    sid = None

    def rpc(method, **args):
        nonlocal sid
        ans, sid = rpc_call(port, "u:p", {"method": method, "arguments": args}, sid)
        check(ans.get("result") == "success", "%s: %s" % (method, ans))
        return ans["arguments"]

    with open(torrent, "rb") as f:
        rpc("torrent-add", metainfo=base64.b64encode(f.read()).decode())

    def stats():
        got = rpc("torrent-get", fields=["trackerStats", "percentDone"])["torrents"]
        return got[0]["trackerStats"][0] if got and got[0]["trackerStats"] else None

    first = wait_for("a scrape counting the daemon as a seeder",
                     lambda: (lambda s: s if s and s["hasScraped"] and s["seederCount"] == 1
                              else None)(stats()), 15, [d])
    check(first["lastScrapeSucceeded"], "scrape failed: %s" % first)
    check(first["hasAnnounced"] and first["lastAnnounceSucceeded"], "announce: %s" % first)
    check(first["leecherCount"] == 0 and first["downloadCount"] == 0, "first scrape: %s" % first)
    check(first["scrape"] == env.announce_url.replace("/announce", "/scrape"),
          "scrape URL %s" % first["scrape"])
    check(abs(first["lastScrapeTime"] - time.time()) < 30, "lastScrapeTime %s" % first)
    # Another peer starts, then completes, at the tracker: the next scrapes say so.
    peer = "&peer_id=-XX0001-abcdefghijkl&port=%d&uploaded=0&downloaded=0&compact=1" % free_port()
    env.tracker_get("announce", ih, peer + "&left=1000&event=started")
    wait_for("the leecher in a scrape",
             lambda: (lambda s: s and s["leecherCount"] == 1 and s["seederCount"] == 1)(stats()),
             10, [d], stats)
    env.tracker_get("announce", ih, peer + "&left=0&event=completed")
    last = wait_for("the completed download in a scrape",
                    lambda: (lambda s: s if s and s["downloadCount"] == 1 else None)(stats()), 10,
                    [d], stats)
    check(last["seederCount"] == 2 and last["leecherCount"] == 0, "last scrape: %s" % last)
    check(last["lastScrapeTime"] >= first["lastScrapeTime"], "scrape time went back")
    env.stop(d)
    check(d.returncode == 0, "daemon exit %s" % d.returncode)


def make_certificates(env):
    """A CA and a server certificate for 127.0.0.1 it signed; returns (ca, cert, key)."""
    ca_key, ca, key, csr, cert, ext = (env.path(n) for n in (
        "ca.key", "ca.pem", "server.key", "server.csr", "server.pem", "server.ext"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    env.run(["openssl", "req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca, "-days", "2",
                                                "-subj", "/CN=bttnode test CA"])
    env.run(["openssl", "req"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    env.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
             "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext])
    return ca, cert, key


def https_announce(env):
    ca, cert, key = make_certificates(env)
    announces = []
    seeder_port = free_port()

    class Tracker(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query, encoding="latin-1")
            announces.append((url.path, q))
            peers = bytes([127, 0, 0, 1]) + seeder_port.to_bytes(2, "big")
            body = b"d8:intervali60e5:peers6:" + peers + b"e"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tracker)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "https://127.0.0.1:%d/announce" % server.server_address[1]
        data, torrent, ih = env.make_torrent("payload.bin", 2 * MIB, url)
        seeder = env.spawn("lt-seeder", [PYTHON, LT_CLIENT, "seed", torrent, "--save",
                                         env.path("src"), "--port", str(seeder_port)])
        wait_log(seeder, r"seeding", 30)
        cfg = env.path("download.json")
        with open(cfg, "w") as f:
            json.dump({"tracker_ca_file": ca}, f)
        out = env.path("out")
        os.makedirs(out)
        dl = env.spawn("download", [env.bttnode, "download", torrent, "--out", out, "--port",
                                    str(free_port()), "--config", cfg])
        wait_for("the download", lambda: same_tree(env.path("src"), out), 20, [seeder])
        ours = [q for path, q in announces
                if path == "/announce" and q.get("info_hash", [""])[0].encode("latin-1")
                == bytes.fromhex(ih)]
        check(ours, "no announce of the torrent reached the https tracker: %s" % announces)
        check(ours[0].get("event") == ["started"], "first announce: %s" % ours[0])
        env.stop(dl)
    finally:
        server.shutdown()


SCENARIOS = {
    "scrape_opentracker": scrape_opentracker,
    "https_announce": https_announce,
}

if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, TrackerEnv))
