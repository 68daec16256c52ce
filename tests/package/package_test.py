#!/usr/bin/python3
"""Checks of the systemd unit and of the Debian package.

  package_test.py --bttnode PATH --build DIR unit|config|deb

unit: `systemd-analyze verify` passes clean on configs/bttnode.service (a copy whose ExecStart
      names the built program, since verify needs it to exist), and `systemd-analyze security`
      rates its exposure low.
config: `bttnode run` starts on configs/bttnode.json (its folders moved to a scratch root),
      answers session-get over RPC with the config's values, and exits 0 on SIGTERM.
deb:  `cpack -G DEB` of the build folder makes bttnode_*.deb whose control fields, files,
      conffile and maintainer scripts are the ones wanted, whose extracted tree verifies, and
      which `dpkg --dry-run -i` accepts. As root with no bttnode package installed, it is also
      installed for real (the program runs, the system user and the config's mode are made)
      and purged.
"""
import argparse
import base64
import glob
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import SOURCE, Fail, check  # noqa: E402

UNIT = os.path.join(SOURCE, "configs", "bttnode.service")
CONFIG = os.path.join(SOURCE, "configs", "bttnode.json")
EXEC_START = "/usr/bin/bttnode run --config /etc/bttnode/config.json"
# systemd-analyze security: 0 is fully locked down, 10 fully exposed; "OK" is below 4.
MAX_EXPOSURE = 2.5


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout + p.stderr


def unit_directives(text):
    d = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            d.setdefault(k.strip(), []).append(v.strip())
    return d


def check_unit_text(text):
    d = unit_directives(text)
    want = {
        "User": "bttnode", "StateDirectory": "bttnode", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "", "SystemCallFilter": "@system-service", "LimitCORE": "0",
        "Restart": "on-failure", "ExecStart": EXEC_START,
    }
    for k, v in want.items():
        check(d.get(k) == [v], "unit: %s=%s wanted, found %s" % (k, v, d.get(k)))
    check("RestrictAddressFamilies" in d, "unit: no RestrictAddressFamilies")
    check(int(d["LimitNOFILE"][0]) >= 65536, "unit: LimitNOFILE too low for many torrents")
    stop = d["TimeoutStopSec"][0]
    check(stop.isdigit() and int(stop) > 10, "unit: TimeoutStopSec %s not beyond 10 s" % stop)


def verify_with_program(text, program, work):
    """systemd-analyze verify of a unit's text with its ExecStart program at `program`: verify
    wants the program to exist (and --root wants a whole system tree beside it)."""
    copy = os.path.join(work, "verify", "bttnode.service")
    os.makedirs(os.path.dirname(copy), exist_ok=True)
    with open(copy, "w") as f:
        f.write(text.replace("ExecStart=/usr/bin/bttnode", "ExecStart=" + program))
    rc, out = run(["systemd-analyze", "verify", "--man=no", copy])
    check(rc == 0 and not out.strip(), "systemd-analyze verify: rc %d\n%s" % (rc, out))
    return copy


def scenario_unit(a, work):
    text = open(UNIT).read()
    check_unit_text(text)
    copy = verify_with_program(text, a.bttnode, work)
    # A unit with a mistake must not verify: the check above could not pass on anything.
    broken = os.path.join(work, "broken", "bttnode.service")
    os.makedirs(os.path.dirname(broken))
    with open(broken, "w") as f:
        f.write(text.replace("ExecStart=/usr/bin/bttnode", "ExecStart=/nonexistent/bttnode"))
    check(run(["systemd-analyze", "verify", "--man=no", broken])[0] != 0,
          "verify accepted a unit whose program is missing")
    rc, out = run(["systemd-analyze", "security", "--offline=true", copy])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    check(m, "systemd-analyze security: no exposure level\n" + out)
    print("exposure level %s" % m.group(1))
    check(float(m.group(1)) <= MAX_EXPOSURE, "exposure %s above %s" % (m.group(1), MAX_EXPOSURE))


def rpc_session_get(port, user, password):
    """session-get over the Transmission RPC (basic auth, the session-id handshake); None while
    the daemon is not listening yet."""
    sid = None
    auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": auth}
        if sid:
            headers["X-Transmission-Session-Id"] = sid
        try:
            conn.request("POST", "/transmission/rpc", json.dumps({"method": "session-get"}),
                         headers)
            r = conn.getresponse()
            body = r.read()
        except OSError:
            return None
        finally:
            conn.close()
        if r.status == 409:
            sid = r.getheader("X-Transmission-Session-Id")
            continue
        check(r.status == 200, "session-get: HTTP %d %s" % (r.status, body[:200]))
        return json.loads(body)
    raise Fail("session-get: 409 twice")


def scenario_config(a, work):
    """The shipped config, its folders moved under a scratch root, runs the daemon: every key
    in it is one the daemon knows, the RPC answers where it says with the credentials made at
    the first start (the config names none), and SIGTERM stops it."""
    cfg = json.loads(open(CONFIG).read().replace("/var/lib/bttnode", work + "/var"))
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    cfg["rpc_port"], cfg["peer_port"] = ports
    cfg["port_forwarding"] = False  # no router is asked from a test
    path = os.path.join(work, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    log = open(os.path.join(work, "run.log"), "wb")
    p = subprocess.Popen([a.bttnode, "run", "--config", path], stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 30
        reply = None
        while reply is None:
            check(p.poll() is None, "bttnode run exited with %s:\n%s"
                  % (p.returncode, open(log.name, errors="replace").read()[-2000:]))
            check(time.time() < deadline, "no RPC on port %d within 30 s" % cfg["rpc_port"])
            time.sleep(0.1)
            pw_file = os.path.join(cfg["state_dir"], "rpc-password")
            if os.path.exists(pw_file):
                check(os.stat(pw_file).st_mode & 0o077 == 0, "rpc-password readable by others")
                password = open(pw_file).read().strip()
                if password:
                    reply = rpc_session_get(cfg["rpc_port"], "bttnode", password)
        check(reply.get("result") == "success", "session-get: %s" % reply)
        args = reply.get("arguments", {})
        check(args.get("download-dir") == cfg["download_dir"],
              "download-dir %s, config %s" % (args.get("download-dir"), cfg["download_dir"]))
        check(args.get("peer-port") == cfg["peer_port"], "peer-port %s" % args.get("peer-port"))
        for key in ["download_dir", "state_dir", "watch_dir"]:
            check(os.path.isdir(cfg[key]), "%s %s not made" % (key, cfg[key]))
        t0 = time.time()
        os.killpg(p.pid, signal.SIGTERM)
        rc = p.wait(timeout=15)
        check(rc == 0, "bttnode run exited %d on SIGTERM" % rc)
        print("ran on the shipped config; SIGTERM to exit %.2f s" % (time.time() - t0))
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def build_deb(a, work):
    out = os.path.join(work, "out")
    t0 = time.time()
    rc, log = run(["cpack", "-G", "DEB", "--config", os.path.join(a.build, "CPackConfig.cmake"),
                   "-B", out])
    check(rc == 0, "cpack failed:\n" + log)
    debs = glob.glob(os.path.join(out, "bttnode_*.deb"))
    check(len(debs) == 1, "cpack made %s" % debs)
    print("built %s in %.1f s (%d KiB)" % (os.path.basename(debs[0]), time.time() - t0,
                                           os.path.getsize(debs[0]) // 1024))
    return debs[0]


def check_control(deb, version):
    fields = {}
    for k in ["Package", "Version", "Architecture", "Depends", "Section", "Maintainer",
              "Description"]:
        rc, v = run(["dpkg-deb", "-f", deb, k])
        fields[k] = v.strip()
    print("Depends: " + fields["Depends"])
    check(fields["Package"] == "bttnode", "Package: %s" % fields["Package"])
    check(fields["Version"] == version, "Version %s, project %s" % (fields["Version"], version))
    rc, arch = run(["dpkg", "--print-architecture"])
    check(fields["Architecture"] == arch.strip(), "Architecture: %s" % fields["Architecture"])
    check(fields["Maintainer"] and fields["Description"], "Maintainer or Description empty")
    deps = [d.strip().split()[0] for d in fields["Depends"].split(",") if d.strip()]
    for lib in ["adduser", "libc6", "libstdc++6", "libssl3", "libsqlite3-0", "libsecp256k1-1"]:
        check(lib in deps, "Depends lacks %s: %s" % (lib, fields["Depends"]))


def check_contents(deb, work):
    rc, listing = run(["dpkg-deb", "-c", deb])
    check(rc == 0, "dpkg-deb -c: " + listing)
    files = {}
    for line in listing.splitlines():
        parts = line.split()
        files[parts[-1].lstrip(".")] = parts[0]
    for path, mode in [("/usr/bin/bttnode", "-rwxr-xr-x"),
                       ("/lib/systemd/system/bttnode.service", "-rw-r--r--"),
                       ("/etc/bttnode/config.json", "-rw-r--r--"),
                       ("/usr/share/doc/bttnode/README.md", "-rw-r--r--")]:
        check(files.get(path) == mode, "%s: %s, wanted %s" % (path, files.get(path), mode))
    stray = [p for p in files if not p.endswith("/") and not p.startswith(
        ("/usr/bin/", "/lib/systemd/system/", "/etc/bttnode/", "/usr/share/doc/bttnode/"))]
    check(not stray, "files outside the package's places: %s" % stray)

    ctrl = os.path.join(work, "control")
    check(run(["dpkg-deb", "-e", deb, ctrl])[0] == 0, "dpkg-deb -e failed")
    conffiles = open(os.path.join(ctrl, "conffiles")).read().split()
    check(conffiles == ["/etc/bttnode/config.json"], "conffiles: %s" % conffiles)
    for script in ["postinst", "prerm", "postrm"]:
        path = os.path.join(ctrl, script)
        check(os.access(path, os.X_OK), "%s not executable" % script)
        check(run(["sh", "-n", path])[0] == 0, "%s: shell syntax error" % script)

    root = os.path.join(work, "root")
    check(run(["dpkg-deb", "-x", deb, root])[0] == 0, "dpkg-deb -x failed")
    for packaged, source in [("lib/systemd/system/bttnode.service", UNIT),
                             ("etc/bttnode/config.json", CONFIG)]:
        check(open(os.path.join(root, packaged)).read() == open(source).read(),
              "%s differs from %s" % (packaged, source))
    program = os.path.join(root, "usr/bin/bttnode")
    verify_with_program(open(os.path.join(root, "lib/systemd/system/bttnode.service")).read(),
                        program, work)
    rc, out = run([program, "--version"])
    check(rc == 0 and out.strip(), "packaged bttnode --version: rc %d %s" % (rc, out))
    return out.strip()


def installed(name):
    rc, out = run(["dpkg-query", "-W", "-f=${Status}", name])
    return rc == 0 and "installed" in out.split()


def round_trip(deb, version_text):
    """A real install and purge, only where it cannot disturb anything."""
    if os.geteuid() != 0 or installed("bttnode") or os.path.exists("/usr/bin/bttnode"):
        print("real install skipped (not root, or bttnode already present)")
        return
    had_user = True
    try:
        pwd.getpwnam("bttnode")
    except KeyError:
        had_user = False
    rc, out = run(["dpkg", "-i", deb])
    if rc != 0 and "lock" in out:
        print("real install skipped (dpkg is busy)\n" + out)
        return
    try:
        check(rc == 0, "dpkg -i: rc %d\n%s" % (rc, out))
        check(installed("bttnode"), "dpkg-query: bttnode not installed after dpkg -i")
        rc, out = run(["/usr/bin/bttnode", "--version"])
        check(rc == 0 and out.strip() == version_text, "installed bttnode --version: %s" % out)
        user = pwd.getpwnam("bttnode")
        check(user.pw_dir == "/var/lib/bttnode", "bttnode user home %s" % user.pw_dir)
        st = os.stat("/etc/bttnode/config.json")
        check(st.st_mode & 0o777 == 0o640 and st.st_uid == 0
              and grp.getgrgid(st.st_gid).gr_name == "bttnode",
              "config.json mode %o owner %d:%d" % (st.st_mode & 0o777, st.st_uid, st.st_gid))
        rc, out = run(["dpkg-query", "-W", "-f=${Conffiles}", "bttnode"])
        check("/etc/bttnode/config.json" in out.split(), "dpkg lists no conffile: %s" % out)
        rc, out = run(["dpkg", "-L", "bttnode"])
        check("/lib/systemd/system/bttnode.service" in out.split(), "dpkg -L lacks the unit")
        print("installed: %s, user bttnode uid %d, config 0640 root:bttnode"
              % (version_text, user.pw_uid))
    finally:
        rc, out = run(["dpkg", "-P", "bttnode"])
        if not had_user:
            run(["deluser", "--system", "bttnode"])
            run(["delgroup", "--system", "bttnode"])
    check(rc == 0, "dpkg -P: " + out)
    check(not installed("bttnode"), "bttnode still installed after dpkg -P")
    for path in ["/usr/bin/bttnode", "/lib/systemd/system/bttnode.service",
                 "/etc/bttnode/config.json"]:
        check(not os.path.exists(path), "%s left after purge" % path)
    rc, out = run(["dpkg-statoverride", "--list", "/etc/bttnode/config.json"])
    check(rc != 0, "statoverride left after purge: " + out)
    print("purged")


def scenario_deb(a, work):
    version = re.search(r"project\(bttnode VERSION ([0-9.]+)",
                        open(os.path.join(SOURCE, "CMakeLists.txt")).read()).group(1)
    deb = build_deb(a, work)
    check_control(deb, version)
    version_text = check_contents(deb, work)
    rc, out = run(["dpkg", "--dry-run", "-i", deb])
    check(rc == 0, "dpkg --dry-run -i: rc %d\n%s" % (rc, out))
    round_trip(deb, version_text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bttnode", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("scenario", choices=["unit", "config", "deb"])
    a = ap.parse_args()
    a.bttnode = os.path.abspath(a.bttnode)
    a.build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="bttnode-package-")
    t0 = time.time()
    ok = False
    try:
        {"unit": scenario_unit, "config": scenario_config, "deb": scenario_deb}[a.scenario](a, work)
        ok = True
    except Fail as e:
        print("FAIL:", e)
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept " + work)
    print("%s: %s (%.1f s)" % (a.scenario, "passed" if ok else "FAILED", time.time() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
