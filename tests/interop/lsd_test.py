#!/usr/bin/python3
"""Local service discovery (BEP 14) between two bttnode processes on this host:

  lsd_test.py --bttnode PATH SCENARIO

lsd_two_nodes: a seeder and a downloader of a torrent with no tracker, given no peer, on a
discovery port of the test's own (multicast loops back to the host's own sockets): the
downloader finds the seeder through the announces alone and completes.
lsd_private: the same with a private torrent: nothing is announced and nothing found (the
downloader is stopped after a few announce rounds with nothing).
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import (LT_CLIENT, MIB, PYTHON, Env, Fail, check, free_port,  # noqa: E402
                          log_text, runner_main, same_tree, wait_log, write_random)


class LsdEnv(Env):
    keep = "failed"

    def __init__(self, bttnode):
        super().__init__(bttnode, "bttnode-lsd-")
        self.lsd_port = free_port()

    def config(self, name, **extra):
        path = self.path(name + ".json")
        c = {"lsd": True, "lsd_port": self.lsd_port}
        c.update(extra)
        with open(path, "w") as f:
            json.dump(c, f)
        return path


def make_torrent(env, private):
    os.makedirs(env.path("src"))
    data = env.path("src", "payload.bin")
    write_random(data, 1 * MIB + 777)
    torrent = env.path("payload.torrent")
    env.run([PYTHON, LT_CLIENT, "make-torrent", data, torrent, "--piece-size", "32768"])
    if private:
        # info gets private=1: a new info-hash, and no discovery for it.
        raw = open(torrent, "rb").read()
        check(raw.endswith(b"ee") and b"4:infod" in raw, "unexpected torrent layout")
        # info is the outer dictionary's last key, and "private" sorts after its other keys:
        # it goes just before the two closing e's.
        end = len(raw) - 2
        raw = raw[:end] + b"7:privatei1e" + raw[end:]
        open(torrent, "wb").write(raw)
    return data, torrent


def lsd_run(env, private):
    data, torrent = make_torrent(env, private)
    log = ["--log", "info,lsd=debug"]
    seed = env.spawn("seed", [env.bttnode] + log + ["seed", torrent, "--data", env.path("src"),
                                                    "--port", str(free_port()), "--config",
                                                    env.config("seed")])
    wait_log(seed, r"seeding ", 30)
    out = env.path("out")
    os.makedirs(out)
    dl = env.spawn("download", [env.bttnode] + log + ["download", torrent, "--out", out,
                                                      "--port", str(free_port()), "--config",
                                                      env.config("download")])
    deadline = time.time() + (6 if private else 20)
    while time.time() < deadline and not same_tree(env.path("src"), out):
        if seed.poll() is not None:
            raise Fail("the seeder exited with %s" % seed.returncode)
        time.sleep(0.2)
    done = same_tree(env.path("src"), out)
    if private:
        check(not done, "a private torrent was found through local discovery")
        check("local peer" not in log_text(seed) + log_text(dl),
              "a private torrent's peer came from local discovery")
    else:
        check(done, "the downloader never completed through local discovery")
        check("local peer" in log_text(seed) + log_text(dl), "no local peer was logged")
    env.stop(dl)


SCENARIOS = {
    "lsd_two_nodes": lambda env: lsd_run(env, False),
    "lsd_private": lambda env: lsd_run(env, True),
}

if __name__ == "__main__":
    sys.exit(runner_main(SCENARIOS, LsdEnv))
