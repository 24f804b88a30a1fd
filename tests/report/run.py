#!/usr/bin/env python3
"""Checks what plot() and save(results, "x.html") write, and the
per-epoch progress lines, by structure rather than bytes (fonts differ
between machines):

* PNG: the size asked for, and each series' palette colour in the pixels;
* SVG: parses as XML; exactly one stroked path per series colour;
* PDF: a PDF file;
* HTML: self-contained (no network address), opened in headless
  Chromium: the DOM (--dump-dom; with JavaScript off, through the DevTools
  protocol, since --dump-dom needs JavaScript) has one table row per sweep
  point and one series per point in every chart, the page's script ran or
  did not, and a --screenshot is not blank and shows every series colour;
* progress: off a terminal, fit writes one line per epoch to stderr (none
  with MLP_PROGRESS=0) and stdout is the same either way.

Usage: python3 tests/report/run.py --mlp build/mlp [--chromium /usr/bin/chromium]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import png  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# runtime/report/chart.c's palette, first three entries
PALETTE = [(0x00, 0x72, 0xb2), (0xe6, 0x9f, 0x00), (0x00, 0x9e, 0x73)]
POINTS = 3
EPOCHS = 8

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL tests/report: " + what)
    return cond


def check_png(path, size, nseries):
    w, h, seen = png.colours(path)
    check((w, h) == size, "%s: size %dx%d, expected %dx%d" % (path, w, h, size[0], size[1]))
    for i in range(nseries):
        check(png.near(seen, PALETTE[i], 8) >= 20, "%s: series colour %s missing" % (path, PALETTE[i]))


def check_svg(path, nseries):
    tree = ET.parse(path)
    strokes = {}
    for el in tree.iter():
        if el.tag.rsplit("}", 1)[-1] != "path":
            continue
        m = re.search(r"stroke:rgb\(([\d.]+)%,([\d.]+)%,([\d.]+)%\)", el.get("style", ""))
        if m:
            rgb = tuple(round(float(v) * 255 / 100) for v in m.groups())
            strokes[rgb] = strokes.get(rgb, 0) + 1
    for i in range(nseries):
        check(strokes.get(PALETTE[i]) == 1, "%s: %s stroked paths of series %d's colour, expected 1"
              % (path, strokes.get(PALETTE[i], 0), i))


def chromium(args, browser, timeout=90):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--hide-scrollbars", "--user-data-dir=" + args["profile"]] + args["flags"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def dom_without_js(url, browser, profile, timeout=90):
    """The page's DOM after loading with JavaScript disabled, through the
    DevTools protocol on a pipe (--dump-dom itself needs JavaScript)."""
    import json
    import signal
    r1, w1 = os.pipe()   # to chromium (its fd 3)
    r2, w2 = os.pipe()   # from chromium (its fd 4)
    pid = os.fork()
    if pid == 0:
        a, b = os.dup(r1), os.dup(w2)
        os.dup2(a, 3)
        os.dup2(b, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.execv(browser, [browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--remote-debugging-pipe", "--user-data-dir=" + profile, "about:blank"])
    os.close(r1)
    os.close(w2)
    state = {"buf": b"", "id": 0}
    deadline = __import__("time").monotonic() + timeout

    def send(method, params=None, session=None):
        state["id"] += 1
        msg = {"id": state["id"], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(w1, json.dumps(msg).encode() + b"\0")
        return state["id"]

    def wait(pred):
        import select
        while True:
            while b"\0" in state["buf"]:
                m, state["buf"] = state["buf"].split(b"\0", 1)
                d = json.loads(m)
                if pred(d):
                    return d
            left = deadline - __import__("time").monotonic()
            if left <= 0 or not select.select([r2], [], [], left)[0]:
                raise RuntimeError("chromium did not answer in time")
            chunk = os.read(r2, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            state["buf"] += chunk

    def call(method, params=None, session=None):
        i = send(method, params, session)
        return wait(lambda d: d.get("id") == i).get("result", {})

    try:
        tid = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = call("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        call("Page.enable", session=sid)
        call("Emulation.setScriptExecutionDisabled", {"value": True}, session=sid)
        call("Page.navigate", {"url": url}, session=sid)
        wait(lambda d: d.get("method") == "Page.loadEventFired")
        root = call("DOM.getDocument", {"depth": 0}, session=sid)["root"]["nodeId"]
        return call("DOM.getOuterHTML", {"nodeId": root}, session=sid)["outerHTML"]
    finally:
        try:
            send("Browser.close")
        except OSError:
            pass
        os.close(w1)
        os.close(r2)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def check_dom(dom, what):
    body = re.search(r'<table class="results">.*?<tbody>(.*?)</tbody>', dom, re.S)
    rows = re.findall(r"<tr\b", body.group(1)) if body else []
    check(len(rows) == POINTS, "%s: %d table rows, expected %d" % (what, len(rows), POINTS))
    charts = re.findall(r'<figure class="chart" data-metric="(\w+)">(.*?)</figure>', dom, re.S)
    check(len(charts) == 4, "%s: %d charts, expected 4" % (what, len(charts)))
    for metric, svg in charts:
        n = len(re.findall(r'<polyline class="series"', svg))
        check(n == POINTS, "%s: chart %s has %d series, expected %d" % (what, metric, n, POINTS))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", required=True)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    opts = ap.parse_args()
    mlp = os.path.abspath(opts.mlp)
    env = dict(os.environ)
    env.pop("MLP_PROGRESS", None)
    # an ASan build: fontconfig's process-lifetime memory is not a leak of ours
    supp = os.path.join(ROOT, "tests", "lsan.supp")
    env["LSAN_OPTIONS"] = (env.get("LSAN_OPTIONS", "") + ":print_suppressions=0:suppressions=" + supp).lstrip(":")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([mlp, "tests/report/figures.mlp", tmp], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if not check(r.returncode == 0, "figures.mlp exited %d: %s" % (r.returncode, r.stderr[-500:])):
            return 1
        # progress: one line per epoch per point, on stderr only
        lines = r.stderr.decode().splitlines()
        pat = re.compile(r"^Epoch (\d+)/%d - \d+\.\d\ds - loss: \d+\.\d{4} - acc: \d\.\d{4} - "
                         r"val_loss: \d+\.\d{4} - val_acc: \d\.\d{4}$" % EPOCHS)
        check(len(lines) == POINTS * EPOCHS and all(pat.match(l) for l in lines),
              "progress: expected %d epoch lines on stderr, got %r" % (POINTS * EPOCHS, lines[:3]))
        quiet = subprocess.run([mlp, "tests/report/figures.mlp", tmp], cwd=ROOT,
                               env=dict(env, MLP_PROGRESS="0"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
        check(quiet.stderr == b"", "progress: MLP_PROGRESS=0 still wrote %r" % quiet.stderr[:200])
        check(quiet.stdout == r.stdout, "progress: stdout changed with MLP_PROGRESS=0")

        # the printed table and the CSV leave the history column out; the
        # JSON holds every epoch of it, in full precision, without seconds
        out = r.stdout.decode().splitlines()
        check(out[0].split() == ["lr", "test_acc"], "printed table columns: %r" % out[:1])
        csv = open(os.path.join(tmp, "study.csv")).read().splitlines()
        check(csv[0] == "lr,test_acc" and len(csv) == POINTS + 1, "study.csv: %r" % csv[:2])
        import json
        rows = json.load(open(os.path.join(tmp, "study.json")))
        check(len(rows) == POINTS, "study.json: %d rows" % len(rows))
        for row in rows:
            h = row.get("history", {})
            check(sorted(h) == ["acc", "loss", "val_acc", "val_loss"]
                  and all(len(h[k]) == EPOCHS for k in h), "study.json history: %r" % list(h))
            check(abs(row["test_acc"] - h["val_acc"][-1]) == 0, "test_acc is the last val_acc")
            check(any(len(repr(x)) > 10 for x in h["loss"]), "full precision: %r" % h["loss"][:2])
        check(float(csv[1].split(",")[1]) == rows[0]["test_acc"], "CSV keeps every digit")

        check_png(os.path.join(tmp, "history.png"), (800, 300), 2)
        check_png(os.path.join(tmp, "sweep.png"), (500, 320), POINTS)
        check_svg(os.path.join(tmp, "sweep.svg"), POINTS)
        pdf = open(os.path.join(tmp, "sweep.pdf"), "rb").read()
        check(pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:], "sweep.pdf: not a PDF")

        html = os.path.join(tmp, "study.html")
        text = open(html, encoding="utf-8").read()
        check(not re.search(r'(src|href)\s*=\s*"(https?:)?//', text),
              "study.html: refers to something on the network")
        url = "file://" + html
        profile = os.path.join(tmp, "profile")
        for js in (True, False):
            what = "study.html (JavaScript %s)" % ("on" if js else "off")
            if js:
                code, dom = chromium({"profile": profile, "flags": ["--dump-dom", url]},
                                     opts.chromium)
            else:
                try:
                    code, dom = 0, dom_without_js(url, opts.chromium, profile + "-nojs")
                except (RuntimeError, KeyError, OSError) as e:
                    code, dom = 1, str(e)
            if check(code == 0, "%s: chromium failed (%s)" % (what, dom[-200:] if code else "")):
                check_dom(dom, what)
                # the page's script marks <html> "js": it ran, or did not
                m = re.search(r'<html[^>]*class="(\w+)"', dom)
                check(m and m.group(1) == ("js" if js else "nojs"),
                      "%s: <html class> is %r" % (what, m and m.group(1)))
        shot = os.path.join(tmp, "shot.png")
        code, _ = chromium({"profile": profile,
                            "flags": ["--window-size=1280,1200", "--screenshot=" + shot, url]},
                           opts.chromium)
        if check(code == 0 and os.path.exists(shot), "screenshot: chromium exited %d" % code):
            w, h, seen = png.colours(shot)
            white = png.near(seen, (255, 255, 255), 4)
            check(len(seen) > 50 and white < w * h * 0.99, "screenshot: blank (%d colours)" % len(seen))
            for i in range(POINTS):
                check(png.near(seen, PALETTE[i], 24) >= 50,
                      "screenshot: series colour %s missing" % (PALETTE[i],))
    print("tests/report: %s" % ("%d failed" % len(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
