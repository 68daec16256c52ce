"""What the Python scenario runners and benchmark scripts under tests/ share: a scratch folder
with the processes started in it (each with its own log and process group), waits on those
logs, file tree comparisons, free ports, /proc figures, opentracker, the devnet and its
wallets, and the command line of a scenario runner. Standard library only.

A script in a folder below tests/ imports it after putting tests/ first on sys.path:

  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
"""
import argparse
import filecmp
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

TESTS = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(TESTS)
GENESIS = os.path.join(SOURCE, "configs", "devnet-genesis.json")
LT_CLIENT = os.path.join(TESTS, "interop", "lt_client.py")
PYTHON = "/usr/bin/python3"
MIB = 1 << 20
TICK = os.sysconf("SC_CLK_TCK")


class Fail(Exception):
    """A check of the scenario failed (printed without a traceback)."""


def check(cond, what):
    if not cond:
        raise Fail(what)


def genesis_json():
    with open(GENESIS) as f:
        return json.load(f)


# ------------------------------------------------------------------ ports, sockets, /proc

def free_port():
    """A port free on 127.0.0.1 for TCP and for UDP (opentracker listens on both)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def bencode(v):
    """Bencodes ints, str/bytes, lists and dicts (keys sorted, as BEP 3 asks)."""
    if isinstance(v, bool):
        raise TypeError("bool in bencode")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, (bytes, bytearray)):
        return b"%d:%s" % (len(v), bytes(v))
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in items) + b"e"
    raise TypeError("cannot bencode %r" % type(v))


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed")
        buf += chunk
    return buf


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------------ logs and exits

def log_text(p):
    """Everything process p (from Env.spawn) has printed so far."""
    with open(p.log, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_log(p, pattern, timeout, count=1):
    """Waits until the log of p holds `count` matches of the regex (^ and $ match at every
    line); returns the matches (re.Match objects)."""
    deadline = time.time() + timeout
    rx = re.compile(pattern, re.M)
    while True:
        found = list(rx.finditer(log_text(p)))
        if len(found) >= count:
            return found
        if p.poll() is not None:
            # One last read: the line may have come just before the exit.
            found = list(rx.finditer(log_text(p)))
            if len(found) >= count:
                return found
            raise Fail("%s exited with %s before printing /%s/" % (p.name, p.returncode, pattern))
        if time.time() > deadline:
            raise Fail("%s did not print /%s/ within %ss" % (p.name, pattern, timeout))
        time.sleep(0.1)


def wait_exit(p, timeout, want=0):
    """Waits for p to exit; fails unless it exits with `want` (any code when want is None)."""
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail("%s did not finish within %ss" % (p.name, timeout))
    if want is not None and rc != want:
        raise Fail("%s exited with %s" % (p.name, rc))
    return rc


# ------------------------------------------------------------------ file trees

def write_random(path, size):
    """Writes `size` random bytes to path, a MiB at a time."""
    with open(path, "wb") as f, open("/dev/urandom", "rb") as rnd:
        left = size
        while left:
            chunk = rnd.read(min(left, MIB))
            f.write(chunk)
            left -= len(chunk)


def download_root(size, fallback, asked=None):
    """A new folder for benchmark downloads: in `asked` if given, else in /dev/shm when it has
    room for two copies of `size` bytes (so that the machine's disk, which a benchmark of
    peers does not mean to measure, adds no noise), else in `fallback`."""
    if asked is None:
        room = shutil.disk_usage("/dev/shm").free if os.path.isdir("/dev/shm") else 0
        asked = "/dev/shm" if room > 2 * size + 2**30 else fallback
    return tempfile.mkdtemp(prefix="bttnode-bench-out-", dir=asked)


def same_tree(a, b, skip_empty=False):
    """True when every file under a has an identical copy under b."""
    for root, _, files in os.walk(a):
        for fn in files:
            pa = os.path.join(root, fn)
            pb = os.path.join(b, os.path.relpath(pa, a))
            if skip_empty and os.path.getsize(pa) == 0:
                continue
            if not os.path.isfile(pb) or not filecmp.cmp(pa, pb, shallow=False):
                return False
    return True


def assert_same(a, b, skip_empty=False):
    check(same_tree(a, b, skip_empty),
          "downloaded files differ from the originals (%s vs %s)" % (a, b))


# ------------------------------------------------------------------ the scratch folder

class Env:
    """A temp folder and the processes a scenario starts in it.

    Each process logs (stdout and stderr) to <name>.log in the folder and runs in a process
    group of its own, so that stopping it stops its children too. The subclasses of the
    suites set the class attributes below."""

    stop_timeout = 15   # seconds between SIGTERM and SIGKILL
    run_timeout = 120   # seconds a one-shot command (run) may take
    log_tail = 4000     # characters of each log printed when the scenario failed
    # What becomes of the folder: "never" kept; "failed": kept when the scenario failed;
    # "asked": kept when BTTNODE_KEEP_TEMP is set. Never kept under CI.
    keep = "never"

    def __init__(self, bttnode, prefix, password=None):
        self.bttnode = bttnode
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)  # opentracker drops privileges and must still read in it
        self.procs = []
        self.logs = []
        self.t0 = time.time()
        self.env = dict(os.environ, BTTNODE_STATE_DIR=self.path("state"))
        self.env.pop("BTTNODE_API_KEY", None)
        if password:
            self.env["BTTNODE_PASSWORD"] = password
        self.tracker = None
        self.tracker_port = None

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def log(self, text):
        print("[%6.1fs] %s" % (time.time() - self.t0, text), flush=True)

    # ---- processes
    def spawn(self, name, argv, stdin=subprocess.DEVNULL, env=None):
        """Starts argv with its output in a log of its own; a name used before gets
        <name>.2.log, <name>.3.log... The process carries .name and .log."""
        n = sum(1 for nm, _ in self.logs if nm == name or nm.startswith(name + "."))
        tag = name if n == 0 else "%s.%d" % (name, n + 1)
        log = self.path(tag + ".log")
        with open(log, "wb") as f:
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=stdin,
                                 env=env or self.env, start_new_session=True)
        p.name = tag
        p.log = log
        p.started = time.time()
        self.procs.append(p)
        self.logs.append((tag, log))
        return p

    def run(self, argv, stdin_text=None, timeout=None):
        """Runs a command to its end; fails on a non-zero exit. Returns its stdout."""
        r = subprocess.run(argv, input=stdin_text, capture_output=True, text=True, env=self.env,
                           timeout=timeout or self.run_timeout)
        if r.returncode != 0:
            raise Fail("%s failed (%s): %s%s" % (" ".join(argv[:3]), r.returncode, r.stdout,
                                                 r.stderr))
        return r.stdout

    def stop(self, p, sig=signal.SIGTERM, timeout=None):
        """Sends sig to p's process group, then SIGKILL if it has not exited in time."""
        if p.poll() is not None:
            return p.returncode
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return p.wait(timeout=timeout or self.stop_timeout)
        except subprocess.TimeoutExpired:
            return self.kill9(p)

    def kill9(self, p):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return p.wait()

    def cleanup(self, ok):
        """Stops every process (the last started first); on failure prints the end of each
        log; removes the folder unless `keep` says otherwise."""
        for p in reversed(self.procs):
            self.stop(p, timeout=5)
        if not ok:
            for name, log in self.logs:
                try:
                    with open(log, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                text = data.decode("utf-8", "replace")
                if len(text) > self.log_tail:
                    text = "...\n" + text[-self.log_tail:]
                print("---- %s (%d bytes of log)" % (name, len(data)))
                print(text)
        kept = {"never": False, "failed": not ok,
                "asked": bool(os.environ.get("BTTNODE_KEEP_TEMP"))}[self.keep]
        if kept and not os.environ.get("CI"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the devnet and its wallets
    # Block interval of the devnets a runner starts; incentive scenarios run at mainnet's 3 s
    # with its chain parameters (devnet_profile "mainnet").
    block_ms = 300
    devnet_profile = None

    def start_devnet(self, name="devnet", port=0, timeout=30):
        """Starts `bttnode devnet` (a block every block_ms, state in <name>-state.json) and
        waits until it listens; returns (process, its URL without a trailing slash)."""
        p = self.spawn(name, [self.bttnode, "devnet", "--listen", "127.0.0.1:%d" % port,
                              "--genesis", GENESIS, "--block-ms", str(self.block_ms),
                              "--state", self.path(name + "-state.json")]
                       + (["--profile", self.devnet_profile] if self.devnet_profile else []))
        m = wait_log(p, r"devnet listening on (http://\S+)", timeout)
        return p, m[-1].group(1).rstrip("/")

    def import_genesis(self, name):
        """A keystore of the funded genesis test account `name` (the key goes on stdin);
        returns (keystore, address)."""
        key = [a for a in genesis_json()["accounts"] if a["name"] == name][0]["private_key"]
        ks = self.path(name + ".keystore.json")
        self.run([self.bttnode, "wallet", "import", "--keystore", ks], stdin_text=key + "\n")
        return ks, self.address(ks)

    def new_wallet(self, name):
        """A fresh keystore; returns (keystore, address)."""
        ks = self.path(name + ".keystore.json")
        self.run([self.bttnode, "wallet", "create", "--keystore", ks])
        return ks, self.address(ks)

    def address(self, ks):
        out = self.run([self.bttnode, "wallet", "address", "--keystore", ks]).strip()
        check(re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", out), "bad address %r" % out)
        return out

    # ---- opentracker, in whitelist mode
    def start_tracker(self):
        self.tracker_port = free_port()
        self.whitelist = self.path("whitelist")
        open(self.whitelist, "w").close()
        os.chmod(self.whitelist, 0o644)
        conf = self.path("opentracker.conf")
        with open(conf, "w") as f:
            f.write("listen.tcp_udp 127.0.0.1:%d\naccess.whitelist %s\n"
                    % (self.tracker_port, self.whitelist))
        os.chmod(conf, 0o644)
        self.tracker = self.spawn("opentracker", ["opentracker", "-f", conf])
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.tracker_port), timeout=1):
                    return
            except OSError:
                if time.time() > deadline:
                    raise Fail("opentracker did not start")
                time.sleep(0.1)

    @property
    def announce_url(self):
        return "http://127.0.0.1:%d/announce" % self.tracker_port

    def tracker_get(self, what, info_hash, extra=""):
        """The raw answer of the tracker's /announce or /scrape for info_hash (hex)."""
        ih = urllib.parse.quote(bytes.fromhex(info_hash))
        url = "http://127.0.0.1:%d/%s?info_hash=%s%s" % (self.tracker_port, what, ih, extra)
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read()

    def announce_ok(self, info_hash):
        try:
            # A probe from port 1 with event=stopped leaves no trace in the swarm.
            body = self.tracker_get("announce", info_hash,
                                    "&peer_id=-PROBE-0000000000000&port=1&uploaded=0"
                                    "&downloaded=0&left=0&compact=1&event=stopped")
        except Exception:  # not up yet, or an answer cut short
            return False
        return body.startswith(b"d") and b"failure reason" not in body

    def whitelist_add(self, info_hash):
        with open(self.whitelist, "a") as f:
            f.write(info_hash + "\n")
        # opentracker reloads the list on SIGHUP, in a thread: poll until accepted.
        os.kill(self.tracker.pid, signal.SIGHUP)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.announce_ok(info_hash):
                return
            time.sleep(0.2)
        raise Fail("opentracker never accepted %s" % info_hash)

    # ---- other clients
    def lt_download(self, name, source, save, peers=(), timeout=60, extra=()):
        """libtorrent (lt_client.py) downloads a .torrent or magnet into save."""
        argv = [PYTHON, LT_CLIENT, "download", source, "--save", save, "--port",
                str(free_port()), "--timeout", str(timeout)] + list(extra)
        for peer in peers:
            argv += ["--peer", peer]
        return self.spawn(name, argv)

    def aria2(self, name, torrent, out, seed=False):
        """aria2c downloads torrent into out and exits, or (seed) checks and seeds it."""
        port = free_port()
        argv = ["aria2c", "--dir=" + out, "--enable-dht=false", "--enable-dht6=false",
                "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                "--listen-port=%d" % port, "--file-allocation=none", "--summary-interval=0",
                "--console-log-level=notice", "--bt-tracker-interval=5",
                "--bt-stop-timeout=120", "--allow-overwrite=true"]
        if seed:
            argv += ["--check-integrity=true", "--seed-ratio=0.0"]
        else:
            argv += ["--seed-time=0"]
        p = self.spawn(name, argv + [torrent])
        p.port = port
        return p


# ------------------------------------------------------------------ the runner's command line

def runner_main(scenarios, make_env, setup=None):
    """`SCRIPT --bttnode PATH SCENARIO` runs one scenario of the dict `scenarios` (name ->
    function of an Env made by make_env(bttnode)), `SCRIPT --bttnode PATH list` names them.
    setup(env), when given, runs first. Returns the exit code: 0 when the scenario passed."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("scenario", choices=sorted(scenarios) + ["list"])
    a = ap.parse_args()
    if a.scenario == "list":
        print("\n".join(sorted(scenarios)))
        return 0
    env = make_env(os.path.abspath(a.bttnode))
    ok = False
    try:
        if setup:
            setup(env)
        scenarios[a.scenario](env)
        ok = True
    except Fail as e:
        print("FAIL:", e)
    except Exception:
        traceback.print_exc()
    finally:
        env.cleanup(ok)
    print("%s: %s (%.1f s)" % (a.scenario, "passed" if ok else "FAILED", time.time() - env.t0))
    return 0 if ok else 1
