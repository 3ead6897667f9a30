#!/usr/bin/env python3
"""Offline, before `host_spread` was added (2026-12-02): would adding the
host's spread between passes of many runs to each row's interval make a run's
intervals hold the next run's medians?

For each run of a pair: the speed-history lines (the reference step of one
pass each) of PoCL's device with `tuned` 0 or 2 written before the run
started, the latest 30; their spread is 1.4826 x the MAD of ln(time). Each
row's written interval (the passes' t interval) is widened to
mean +- sqrt(h^2 + (1.96 x spread x mean)^2). Per pair: intervals that hold
the other run's median, written and widened; their median half width; rows
whose half width exceeds +-10 % (unstable by --passes-ci).

    ./host_spread.py ../reference/2*Z=../reference/speed-history.csv \\
        ../row-window/0*Z=../row-window/speed-history.csv

Each argument is PAIR_FOLDER=HISTORY (the history that pair's runs read).
"""
import csv
import math
import statistics
import sys

Z = 1.959963984540054
WINDOW = 30


def history(path):
    return [(r["timestamp"], float(r["reference_step_s"]))
            for r in csv.DictReader(open(path, encoding="utf-8"))
            if r["tuned"] in ("0", "2") and r["device"].startswith("pthread")]


def spread_before(lines, start):
    times = [seconds for stamp, seconds in lines if stamp < start][-WINDOW:]
    if len(times) < 8:
        return float("nan")
    logs = [math.log(t) for t in times]
    center = statistics.median(logs)
    return 1.482602218505602 * statistics.median(abs(x - center) for x in logs)


def rows(path):
    return {(r["device"], r["model"], r["precision"], r["batch"], r["data_on"]): r
            for r in csv.DictReader(open(path, encoding="utf-8")) if r["status"] == "ok"}


def pair(folder, lines):
    runs = [rows(f"{folder}/run-{i}.csv") for i in (1, 2)]
    spreads = [spread_before(lines, min(r["timestamp"] for r in run.values())) for run in runs]
    held = {"written": 0, "widened": 0}
    widths = {"written": [], "widened": []}
    wide = {"written": 0, "widened": 0}
    n = 0
    for mine, other, spread in ((runs[0], runs[1], spreads[0]), (runs[1], runs[0], spreads[1])):
        for key, row in mine.items():
            if key not in other:
                continue
            n += 1
            mean = float(row["step_s_median"])
            half = (float(row["step_s_ci_high"]) - float(row["step_s_ci_low"])) / 2
            target = float(other[key]["step_s_median"])
            for kind, h in (("written", half), ("widened", math.hypot(half, Z * spread * mean))):
                held[kind] += mean - h <= target <= mean + h
                widths[kind].append(h / mean)
                wide[kind] += h / mean > 0.10
    return n, spreads, held, widths, wide


def main():
    print(f"{'pair':<24} {'spread run 1, 2':>16}  {'held: written':>13} {'widened':>7}  "
          f"{'half width: written':>19} {'widened':>7}  {'> +-10 %: written':>17} {'widened':>7}")
    for argument in sys.argv[1:]:
        folder, path = argument.split("=", 1)
        n, spreads, held, widths, wide = pair(folder, history(path))
        print(f"{folder:<24} {spreads[0]:>7.1%}, {spreads[1]:>6.1%}  {held['written']:>10}/{n} "
              f"{held['widened']:>4}/{n}  {statistics.median(widths['written']):>19.1%} "
              f"{statistics.median(widths['widened']):>7.1%}  {wide['written']:>17} "
              f"{wide['widened']:>7}")


if __name__ == "__main__":
    main()
