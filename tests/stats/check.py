#!/usr/bin/python3
"""tests/stats/check.py --mlp MLP: stats.c's t distribution, summarize()
and compare() against independent values.

tests/stats/stats.mlp prints t quantiles and two-sided p-values, the
summary of a repeated sweep and the p-values of a paired and of a Welch
comparison. Each is checked against scipy.stats (Debian's python3-scipy,
in DEB_TEST; run with /usr/bin/python3) and Python's statistics module,
to a relative 1e-9; a few quantiles also against the printed tables
(Fisher & Yates), checked by hand. Exit status 1 on any failure."""
import argparse, math, statistics, subprocess, sys

try:
    from scipy import stats as st
except ImportError:
    st = None

ap = argparse.ArgumentParser()
ap.add_argument("--mlp", required=True)
args = ap.parse_args()

out = subprocess.run([args.mlp, "tests/stats/stats.mlp"], capture_output=True, text=True)
if out.returncode != 0:
    print("FAIL tests/stats: exit", out.returncode, out.stderr)
    sys.exit(1)

fail = 0
checked = 0


def close(got, want, what, tol=1e-9):
    global fail, checked
    checked += 1
    if not (abs(got - want) <= tol * max(1.0, abs(want))):
        fail += 1
        print(f"FAIL tests/stats: {what}: got {got!r}, want {want!r}")


# Tabulated two-sided 5% and 1% points (Student's t tables, by hand).
TABLE = {(0.975, 1): 12.706, (0.975, 2): 4.303, (0.975, 4): 2.776, (0.975, 10): 2.228,
         (0.975, 30): 2.042, (0.995, 4): 4.604, (0.995, 10): 3.169, (0.95, 29): 1.699}

data = {"A": [0.9712, 0.9741, 0.9730, 0.9725, 0.9750],
        "B": [0.9701, 0.9733, 0.9729, 0.9711, 0.9738],
        "C": [0.9612, 0.9576, 0.9590, 0.9581, 0.9602]}
rows = [line.split() for line in out.stdout.splitlines()]
for r in rows:
    if r[0] == "q":
        p, df, q = float(r[1]), float(r[2]), float(r[3])
        if (p, df) in TABLE:
            close(q, TABLE[(p, df)], f"t_quantile({p}, {df}) vs table", 2e-4)
        if st:
            # scipy's ppf is itself good to about 1e-9 only (its own sf at
            # its ppf is off by that much); its sf is tighter: check both.
            close(q, st.t.ppf(p, df), f"t_quantile({p}, {df}) vs ppf", 1e-8)
            close(st.t.cdf(q, df), p, f"cdf(t_quantile({p}, {df}))", 1e-12)
    elif r[0] == "p":
        t, df, p = float(r[1]), float(r[2]), float(r[3])
        if st:
            close(p, 2 * st.t.sf(abs(t), df), f"t_p({t}, {df})")
    elif r[0] == "s":
        x = data[r[1]]
        close(float(r[2]), len(x), f"n of {r[1]}")
        close(float(r[3]), statistics.mean(x), f"mean of {r[1]}")
        close(float(r[4]), statistics.stdev(x), f"sd of {r[1]}")
        close(float(r[5]), min(x), f"min of {r[1]}")
        close(float(r[6]), max(x), f"max of {r[1]}")
        q = st.t.ppf(0.975, len(x) - 1) if st else 2.7764451051977987
        close(float(r[7]), q * statistics.stdev(x) / math.sqrt(len(x)), f"ci of {r[1]}")
        close(float(r[8]), statistics.mean([2 * v for v in x]), f"mean of y for {r[1]}")
    elif r[0] == "c":
        if r[1] == "A":   # the best
            if r[2:] != ["nil", "nil", "nil"]:
                fail += 1
                print("FAIL tests/stats: the best group has a test:", r)
            continue
        d = [a - b for a, b in zip(data[r[1]], data["A"])]
        close(float(r[2]), statistics.mean(d), f"paired diff {r[1]}")
        if st:
            close(float(r[3]), st.ttest_rel(data[r[1]], data["A"]).pvalue, f"paired p {r[1]}")
        if " ".join(r[4:]) != "paired t, 5":
            fail += 1
            print("FAIL tests/stats: not a paired test:", r)
    elif r[0] == "w":
        u = [1.0, 2.5, 2.0, 3.1, 1.7]
        v = [2.9, 3.3, 4.0, 2.2, 3.8, 3.1, 3.6]
        if r[1] == "U":
            continue
        close(float(r[2]), statistics.mean(v) - statistics.mean(u), "Welch diff")
        if st:
            close(float(r[3]), st.ttest_ind(v, u, equal_var=False).pvalue, "Welch p")
        if " ".join(r[4:]) != "Welch t":
            fail += 1
            print("FAIL tests/stats: not Welch's test:", r)

if checked < 100:
    fail += 1
    print(f"FAIL tests/stats: only {checked} values checked")
print(f"tests/stats: {checked} values checked{'' if st else ' (no scipy: tables and statistics only)'}, "
      f"{fail} failed")
sys.exit(1 if fail else 0)
