#!/usr/bin/env python3
"""Data loading against a hostile download mirror and a hostile file system.

A small HTTP server (http.server, a thread of this script, 127.0.0.1, an
ephemeral port) plays the mirror; each scenario runs `mlp -e 'mnist()'` with
an empty data path, a scratch cache and MLP_DATA_MIRRORS pointing at one of
its behaviours:

  /trickle/  announces the full length, then sends 2 bytes a second
  /slow/     sends 4 kB a second forever (fast enough for the stall check)
  /huge/     sends data as fast as it can, with no length, forever
  /missing/  404

and checks that mlp gives up (too slow, timed out, too large), that Ctrl-C
stops a download within seconds, that SIGTERM's leftover temporary file is
removed by the next run, that nothing is downloaded behind a data folder
that cannot be used, and that save() keeps the old file when the new one
cannot be written. Run by `make check`:

    python3 tests/data/hostile.py --mlp build/mlp
"""
import argparse
import http.server
import os
import resource
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

REQUESTS = []


class Mirror(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        REQUESTS.append(self.path)
        kind = self.path.split("/")[1]
        try:
            if kind == "trickle":
                self.send_response(200)
                self.send_header("Content-Length", "10000000")
                self.end_headers()
                for _ in range(600):
                    self.wfile.write(b"\x1f\x8b")
                    self.wfile.flush()
                    time.sleep(1)
            elif kind == "slow":
                self.send_response(200)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                for _ in range(6000):
                    self.wfile.write(b"\0" * 400)
                    self.wfile.flush()
                    time.sleep(0.1)
            elif kind == "huge":
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                block = b"\0" * (1 << 20)
                for _ in range(1000):
                    self.wfile.write(block)
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


FAILURES = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)
        if detail:
            print("     " + detail.replace("\n", "\n     "))


class Scratch:
    """An empty data path, a cache, a working directory."""

    def __init__(self, port):
        self.dir = tempfile.mkdtemp(prefix="mlp-hostile-")
        self.cache = os.path.join(self.dir, "cache")
        self.empty = os.path.join(self.dir, "empty")
        os.makedirs(self.empty)
        self.port = port

    def env(self, mirror, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.lower().endswith("_proxy")}
        env.update(MLP_DATA_PATH=self.empty, XDG_CACHE_HOME=self.cache,
                   HOME=self.dir,
                   MLP_DATA_MIRRORS="http://127.0.0.1:%d/%s/" % (self.port, mirror))
        env.update(extra)
        return env

    def temporaries(self):
        d = os.path.join(self.cache, "mlp", "mnist")
        if not os.path.isdir(d):
            return []
        return [f for f in os.listdir(d)
                if f.startswith(".") and not f.endswith(".sha256")]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run(mlp, scratch, mirror, script="mnist()", timeout=60, **env):
    t0 = time.monotonic()
    p = subprocess.run([mlp, "-e", script], cwd=scratch.dir, capture_output=True,
                       text=True, env=scratch.env(mirror, **env), timeout=timeout)
    return p, time.monotonic() - t0


def wait_for_download(scratch, proc, limit=30):
    """Until the download's temporary file exists (a loaded machine may take
    a while to get there), or the process ends."""
    t0 = time.monotonic()
    while not scratch.temporaries() and proc.poll() is None and time.monotonic() - t0 < limit:
        time.sleep(0.1)
    time.sleep(0.5)


def start(mlp, scratch, mirror, **env):
    return subprocess.Popen([mlp, "-e", "mnist()"], cwd=scratch.dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=scratch.env(mirror, **env))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", default="build/mlp")
    mlp = os.path.abspath(ap.parse_args().mlp)
    srv = Server(("127.0.0.1", 0), Mirror)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    # 1. A trickle of 2 bytes/s is too slow (before: waited forever).
    s = Scratch(port)
    try:
        p, secs = run(mlp, s, "trickle", MLP_DOWNLOAD_STALL="2", timeout=60)
        check(p.returncode == 70 and "too slow: under 1024 bytes/s for 2 s" in p.stderr
              and secs < 20, "trickling mirror given up on (%.1f s)" % secs, p.stderr)
        check(s.temporaries() == [], "no temporary left after a stalled download",
              str(s.temporaries()))
    except subprocess.TimeoutExpired:
        check(False, "trickling mirror given up on (hung for 60 s)")
    s.close()

    # 2. Fast enough never to stall, but no transfer outlives the timeout.
    s = Scratch(port)
    try:
        p, secs = run(mlp, s, "slow", MLP_DOWNLOAD_TIMEOUT="3", timeout=60)
        check(p.returncode == 70 and "timed out after 3 s" in p.stderr and secs < 20,
              "overall download timeout (%.1f s)" % secs, p.stderr)
    except subprocess.TimeoutExpired:
        check(False, "overall download timeout (hung for 60 s)")
    s.close()

    # 3. More bytes than the file can be (47,040,016 inflated for MNIST's
    #    train-images, so ~47.2 MB compressed at most).
    s = Scratch(port)
    try:
        p, secs = run(mlp, s, "huge", timeout=120)
        check(p.returncode == 70 and "larger than the 47151489 bytes the file can be"
              in p.stderr, "endless download capped at the file's size", p.stderr)
        check(s.temporaries() == [], "no temporary left after an oversized download")
    except subprocess.TimeoutExpired:
        check(False, "endless download capped (still running after 120 s)")
    s.close()

    # 4. Ctrl-C stops a download (before: ignored until the stall check).
    s = Scratch(port)
    proc = start(mlp, s, "trickle")
    wait_for_download(s, proc)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
        secs = time.monotonic() - t0
        check(proc.returncode == 70 and "error: mnist: interrupted" in err and secs < 5,
              "Ctrl-C stops a download (%.1f s after the signal)" % secs, err)
        check(s.temporaries() == [], "no temporary left after Ctrl-C")
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        check(False, "Ctrl-C stops a download (still running 10 s after SIGINT)")
    s.close()

    # 5. SIGTERM kills mid-download and leaves its temporary; the next run
    #    removes it, since its process is gone (before: kept for good).
    s = Scratch(port)
    proc = start(mlp, s, "trickle")
    wait_for_download(s, proc)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    left = s.temporaries()
    check(len(left) == 1, "SIGTERM leaves one temporary behind", str(left))
    p, _ = run(mlp, s, "missing")
    check(p.returncode == 70 and s.temporaries() == [],
          "the next run removes the dead process's temporary", str(s.temporaries()))
    s.close()

    # 6. A data folder that cannot be used: said, and nothing downloaded
    #    behind it (before: "not on the data path", or a quiet download).
    s = Scratch(port)
    d = os.path.join(s.empty, "mnist")
    os.makedirs(d)
    for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte"]:
        open(os.path.join(d, f + ".gz"), "wb").close()
    os.mkfifo(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    before = len(REQUESTS)
    p, _ = run(mlp, s, "huge")
    check(p.returncode == 70 and "mnist: found on the data path but not usable" in p.stderr
          and "t10k-labels-idx1-ubyte.gz is a FIFO (named pipe), not a regular file"
          in p.stderr and len(REQUESTS) == before,
          "unusable data folder explained, nothing downloaded", p.stderr)
    s.close()

    # 6b. An unreadable file and a dangling link where the folder should be
    #     (as an unprivileged user: root reads anything).
    s = Scratch(port)
    os.chmod(s.dir, 0o755)
    os.chmod(s.empty, 0o755)
    d = os.path.join(s.empty, "mnist")
    os.makedirs(d)
    for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
        open(os.path.join(d, f + ".gz"), "wb").close()
    os.chmod(os.path.join(d, "train-labels-idx1-ubyte.gz"), 0)
    other = os.path.join(s.dir, "other")
    os.makedirs(os.path.join(other))
    os.symlink("/nonexistent/mnist", os.path.join(other, "mnist"))
    env = s.env("huge", MLP_DATA_PATH=s.empty + ":" + other)

    def unprivileged():
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)

    before = len(REQUESTS)
    p = subprocess.run([mlp, "-e", "mnist()"], cwd=s.dir, capture_output=True, text=True,
                       env=env, preexec_fn=unprivileged, timeout=60)
    check(p.returncode == 70
          and "train-labels-idx1-ubyte.gz: cannot open: Permission denied" in p.stderr
          and other + "/mnist is a dangling symbolic link" in p.stderr
          and len(REQUESTS) == before,
          "unreadable file and dangling folder link explained", p.stderr)
    s.close()

    # 7. One prefix: "mnist: not found ...", not "mnist: mnist: not found".
    s = Scratch(port)
    env = s.env("missing")
    del env["HOME"]
    del env["XDG_CACHE_HOME"]
    p = subprocess.run([mlp, "-e", "mnist()"], cwd=s.dir, capture_output=True, text=True,
                       env=env, timeout=60)
    check("error: mnist: not found on the data path" in p.stderr
          and "mnist: mnist:" not in p.stderr, "mnist's message has one prefix", p.stderr)
    s.close()

    # 8. save() on a file that cannot be written in full keeps the old file
    #    (before: truncated it first, then failed halfway).
    s = Scratch(port)
    out = os.path.join(s.dir, "results.csv")
    with open(out, "w") as f:
        f.write("old,results\n1,2\n")

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    script = ('let r = sweep a in list(range(100)) { report(b=a*a) }\n'
              'save(r, "%s")\n' % out)
    script_path = os.path.join(s.dir, "save.mlp")
    with open(script_path, "w") as f:
        f.write(script)
    p = subprocess.run([mlp, script_path], cwd=s.dir, capture_output=True, text=True,
                       preexec_fn=small_files, timeout=60)
    with open(out) as f:
        kept = f.read()
    check(p.returncode == 74 and "(the old file, if any, is kept): File too large" in p.stderr
          and kept == "old,results\n1,2\n"
          and [f for f in os.listdir(s.dir) if ".tmp." in f] == [],
          "save keeps the old file when the new one cannot be written",
          p.stderr + "\nfile now: " + repr(kept[:60]))
    p = subprocess.run([mlp, script_path], cwd=s.dir, capture_output=True, text=True,
                       timeout=60)
    with open(out) as f:
        lines = f.read().splitlines()
    check(p.returncode == 0 and len(lines) == 101 and lines[-1] == "99,9801",
          "save replaces the file when it can", p.stderr)
    s.close()

    srv.shutdown()
    print("%d failed" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
