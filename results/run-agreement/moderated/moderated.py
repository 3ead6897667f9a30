#!/usr/bin/env python3
"""Tried offline, not adopted (2026-12-02): would moderated intervals make a
run's intervals hold the next run's medians more often?

A row's interval is the t interval of its kept passes' medians: with three
passes, two degrees of freedom, so t = 4.30 and a variance from three numbers.
The moderated t of Smyth (2004; limma's eBayes) pools every row of the device:
it fits a scaled inverse-chi-square prior (s0^2, d0) to the rows' relative
variances, shrinks each row's variance towards s0^2 and gives it d0 + d
degrees of freedom. Per pair: how many of the 2 x 39 intervals hold the other
run's median, with the intervals as written and moderated; their median half
width; and how much the two runs' means differ beyond what the passes' spread
explains (tau: the run-level standard deviation, relative).

    ./moderated.py ../passes/*-passes3 ../drift/*Z-passes* ../reference/2*Z ../row-window/0*Z

Standard library only; digamma, trigamma and the t quantile are computed here.
"""
import csv
import math
import re
import statistics
import sys


def digamma(x):
    result = 0.0
    while x < 6:
        result -= 1 / x
        x += 1
    f = 1 / (x * x)
    return result + math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f / 240)))


def trigamma(x):
    result = 0.0
    while x < 6:
        result += 1 / (x * x)
        x += 1
    f = 1 / (x * x)
    return result + 1 / x + f / 2 + f / x * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)))


def tetragamma(x):
    result = 0.0
    while x < 6:
        result -= 2 / x**3
        x += 1
    f = 1 / (x * x)
    return result - f - 1 / x**3 - f * f * (1 / 2 - f * (1 / 6 - f * (1 / 6 - f * 3 / 10)))


def trigamma_inverse(y):
    """limma's Newton iteration for trigamma(x) = y."""
    if y > 1e7:
        return 1 / math.sqrt(y)
    if y < 1e-6:
        return 1 / y
    x = 0.5 + 1 / y
    for _ in range(50):
        tri = trigamma(x)
        step = tri * (1 - tri / y) / tetragamma(x)
        x += step
        if -step / x < 1e-8:
            break
    return x


def t_cdf(t, nu):
    """Student's t CDF through the regularized incomplete beta (continued fraction)."""
    x = nu / (nu + t * t)
    a, b = nu / 2, 0.5
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) +
                     b * math.log1p(-x)) / a
    c, d, h = 1.0, 1 - (a + b) * x / (a + 1), 0.0
    d = 1 / d
    h = d
    for m in range(1, 200):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 / (1 + numerator * d)
            c = 1 + numerator / c
            h *= d * c
    tail = front * h / 2
    return 1 - tail if t > 0 else tail


def t_quantile(p, nu):
    if math.isinf(nu):
        return statistics.NormalDist().inv_cdf(p)
    lo, hi = 0.0, 1000.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, nu) < p else (lo, mid)
    return (lo + hi) / 2


def prior(variances, dofs):
    """Smyth's moment fit of (s0^2, d0) to the rows' variances (limma's fitFDist)."""
    e = [math.log(s2) - digamma(d / 2) + math.log(d / 2) for s2, d in zip(variances, dofs)]
    mean = statistics.fmean(e)
    spread = statistics.variance(e) - statistics.fmean(trigamma(d / 2) for d in dofs)
    if spread <= 0:
        return math.exp(mean), math.inf
    d0 = 2 * trigamma_inverse(spread)
    return math.exp(mean + digamma(d0 / 2) - math.log(d0 / 2)), d0


def key(row):
    return (row["device"], row["model"], row["precision"], row["batch"], row["data_on"])


def left_out(message):
    found = re.search(r"pass(?:es)? ([\d,]+) of \d+ left out", message or "")
    return {int(x) for x in found.group(1).split(",")} if found else set()


def run(prefix):
    """Per row: the kept passes' mean and relative variance, and the written interval."""
    written = {key(r): r for r in csv.DictReader(open(prefix + ".csv", encoding="utf-8"))}
    passes = {}
    for r in csv.DictReader(open(prefix + ".passes.csv", encoding="utf-8")):
        passes.setdefault(key(r), []).append(r)
    out = {}
    for k, r in written.items():
        dropped = left_out(r["message"])
        medians = [float(p["step_s_median"]) for i, p in enumerate(passes.get(k, []), 1)
                   if i not in dropped and p["status"] == "ok" and p["step_s_median"]]
        if len(medians) < 2 or r["status"] != "ok":
            continue
        mean = statistics.fmean(medians)
        out[k] = {"n": len(medians), "mean": float(r["step_s_median"]),
                  "s2": statistics.variance(medians) / mean**2,
                  "written": (float(r["step_s_ci_low"]), float(r["step_s_ci_high"]))}
    s0, d0 = prior([v["s2"] for v in out.values() if v["s2"] > 0],
                   [v["n"] - 1 for v in out.values() if v["s2"] > 0])
    for v in out.values():
        d = v["n"] - 1
        s2 = s0 if math.isinf(d0) else (d0 * s0 + d * v["s2"]) / (d0 + d)
        half = t_quantile(0.975, d0 + d) * math.sqrt(s2 / v["n"]) * v["mean"]
        v["moderated"] = (v["mean"] - half, v["mean"] + half)
    return out, (math.sqrt(s0), d0)


def pair(folder):
    one, prior_one = run(folder + "/run-1")
    two, prior_two = run(folder + "/run-2")
    keys = [k for k in one if k in two]
    held = {"written": 0, "moderated": 0}
    widths = {"written": [], "moderated": []}
    for a, b in ((one, two), (two, one)):
        for k in keys:
            for kind in held:
                low, high = a[k][kind]
                held[kind] += low <= b[k]["mean"] <= high
                widths[kind].append((high - low) / 2 / a[k]["mean"])
    d2 = statistics.fmean(math.log(one[k]["mean"] / two[k]["mean"])**2 for k in keys)
    se2 = statistics.fmean(one[k]["s2"] / one[k]["n"] + two[k]["s2"] / two[k]["n"] for k in keys)
    tau = math.sqrt(max(0.0, (d2 - se2) / 2))
    return len(keys), held, widths, tau, prior_one, prior_two


def main():
    print(f"{'pair':<26} {'rows':>4}  {'held: written':>13} {'moderated':>9}  "
          f"{'half width: written':>19} {'moderated':>9}  {'tau':>5}  prior (s0, d0) run 1 / run 2")
    for folder in sys.argv[1:]:
        n, held, widths, tau, p1, p2 = pair(folder)
        print(f"{folder:<26} {n:>4}  {held['written']:>10}/{2 * n} {held['moderated']:>6}/{2 * n}  "
              f"{statistics.median(widths['written']):>18.1%} "
              f"{statistics.median(widths['moderated']):>9.1%}  {tau:>5.1%}  "
              f"{p1[0]:.1%}, {p1[1]:.1f} / {p2[0]:.1%}, {p2[1]:.1f}")


if __name__ == "__main__":
    main()
