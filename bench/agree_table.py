#!/usr/bin/env python3
"""How far several `clbatch run` CSVs of the same plan agree (bench/agree.sh).

Reads each file by column NAME (results/SCHEMA.md; schema 1 files lack the
interval columns and are compared on medians only). Rows are matched on
host, platform, device, model, precision, batch and data placement; only
rows that are `ok` in every run are compared.

Per row: spread = max / min of the runs' step_s_median; within_5 / within_10
say whether spread - 1 <= 0.05 / 0.10; covered counts the ordered pairs
(i, j), i != j, where run i's [step_s_ci_low, step_s_ci_high] holds run j's
median; unstable lists the runs whose `stable` column is 0. Last, per run:
its intervals' median half width, its median host_spread and the range of
its host_slowdown, as far as its schema has them.
"""

import argparse
import csv
import itertools
import sys

KEY = ("host", "platform", "device", "model", "precision", "batch", "data_on")


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def read_runs(paths):
    runs = []
    for path in paths:
        rows = {}
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("status") == "ok":
                    rows[tuple(row[k] for k in KEY)] = row
        runs.append(rows)
    return runs


def compare(runs):
    common = set(runs[0])
    for rows in runs[1:]:
        common &= set(rows)
    order = sorted(common, key=lambda k: (k[:5], k[6], float(k[5])))
    table = []
    for key in order:
        rows = [r[key] for r in runs]
        medians = [number(r["step_s_median"]) for r in rows]
        lows = [number(r.get("step_s_ci_low")) for r in rows]
        highs = [number(r.get("step_s_ci_high")) for r in rows]
        pairs = covered = 0
        has_interval = all(lo == lo and hi == hi for lo, hi in zip(lows, highs))
        for i, j in itertools.permutations(range(len(rows)), 2):
            pairs += 1
            covered += int(lows[i] <= medians[j] <= highs[i])
        unstable = [i + 1 for i, r in enumerate(rows) if r.get("stable") == "0"]
        spread = max(medians) / min(medians)
        table.append({
            "device": key[2], "platform": key[1], "model": key[3], "precision": key[4],
            "batch": key[5], "data_on": key[6], "medians": medians,
            "spread": spread, "within_5": spread - 1 <= 0.05, "within_10": spread - 1 <= 0.10,
            "covered": covered if has_interval else None, "pairs": pairs,
            "unstable": unstable, "lows": lows, "highs": highs,
            "half_widths": [max(h - m, m - l) / m if has_interval else float("nan")
                            for m, l, h in zip(medians, lows, highs)],
        })
    return table


def print_table(table, n_runs, out):
    head = ["device", "model", "prec", "B"] + [f"run{i + 1} us" for i in range(n_runs)] + \
        ["max/min", "covered", "unstable"]
    print(" | ".join(head), file=out)
    for t in table:
        cells = [t["device"][:28], t["model"], t["precision"], t["batch"]]
        cells += [f"{m * 1e6:.1f}" for m in t["medians"]]
        cells.append(f"{t['spread']:.3f}" + ("" if t["within_10"] else " *"))
        cells.append("n/a" if t["covered"] is None else f"{t['covered']}/{t['pairs']}")
        cells.append(",".join(str(u) for u in t["unstable"]) or "-")
        print(" | ".join(cells), file=out)


def median(values):
    values = sorted(v for v in values if v == v)
    if not values:
        return float("nan")
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def run_conditions(runs, table):
    """Per run: the median half width of its compared rows' intervals, the
    median host_spread and the range of host_slowdown (schema 6 and 4)."""
    conditions = []
    for i, rows in enumerate(runs):
        spreads = [number(r.get("host_spread")) for r in rows.values()]
        slowdowns = [v for v in (number(r.get("host_slowdown")) for r in rows.values()) if v == v]
        conditions.append({
            "half_width": median(t["half_widths"][i] for t in table),
            "spread": median(spreads),
            "slowdown": (min(slowdowns), max(slowdowns)) if slowdowns else None,
        })
    return conditions


def print_conditions(conditions, out):
    for i, c in enumerate(conditions):
        parts = []
        if c["half_width"] == c["half_width"]:
            parts.append(f"intervals +-{100 * c['half_width']:.1f} % (median)")
        if c["spread"] == c["spread"]:
            parts.append(f"host_spread {c['spread']:.3f}")
        if c["slowdown"]:
            parts.append(f"host_slowdown {c['slowdown'][0]:.2f}-{c['slowdown'][1]:.2f}")
        if parts:
            print(f"  run {i + 1}: " + "; ".join(parts), file=out)


def summary(table, times, out):
    n = len(table)
    if n == 0:
        print("no row is ok in every run", file=out)
        return
    w5 = sum(t["within_5"] for t in table)
    w10 = sum(t["within_10"] for t in table)
    print(f"rows compared: {n}", file=out)
    print(f"  within +-5 %:  {w5}/{n} ({100 * w5 / n:.0f} %)", file=out)
    print(f"  within +-10 %: {w10}/{n} ({100 * w10 / n:.0f} %)", file=out)
    spreads = sorted(t["spread"] for t in table)
    print(f"  max/min: median {spreads[n // 2]:.3f}, worst {spreads[-1]:.3f}", file=out)
    with_ci = [t for t in table if t["covered"] is not None]
    if with_ci:
        covered = sum(t["covered"] for t in with_ci)
        pairs = sum(t["pairs"] for t in with_ci)
        full = sum(t["covered"] == t["pairs"] for t in with_ci)
        print(f"  interval covers the other run's median: {covered}/{pairs} pairs "
              f"({100 * covered / pairs:.0f} %); every pair in {full}/{len(with_ci)} rows",
              file=out)
        n_runs = len(with_ci[0]["medians"])
        for i, j in itertools.permutations(range(n_runs), 2):
            hits = sum(t["lows"][i] <= t["medians"][j] <= t["highs"][i] for t in with_ci)
            print(f"    run {i + 1}'s interval holds run {j + 1}'s median: {hits}/{len(with_ci)} "
                  f"rows ({100 * hits / len(with_ci):.0f} %)", file=out)
        flagged = [t for t in table if t["unstable"]]
        outside = [t for t in table if not t["within_10"]]
        unflagged_outside = [t for t in outside if not t["unstable"]]
        print(f"  rows flagged unstable in some run: {len(flagged)}; rows outside +-10 %: "
              f"{len(outside)}, of which not flagged: {len(unflagged_outside)}", file=out)
    else:
        print("  (no intervals: schema 1 files)", file=out)
    if times:
        print("  whole run: " + ", ".join(f"run {r} {s:.1f} s" for r, s in times), file=out)


def write_csv(table, n_runs, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["platform", "device", "model", "precision", "batch", "data_on"] +
                   [f"run{i + 1}_step_s_median" for i in range(n_runs)] +
                   [f"run{i + 1}_half_width" for i in range(n_runs)] +
                   ["max_over_min", "covered_pairs", "pairs", "unstable_runs"])
        for t in table:
            w.writerow([t["platform"], t["device"], t["model"], t["precision"], t["batch"],
                        t["data_on"]] + [f"{m:.9g}" for m in t["medians"]] +
                       [f"{h:.6g}" for h in t["half_widths"]] +
                       [f"{t['spread']:.6g}", "" if t["covered"] is None else t["covered"],
                        t["pairs"], " ".join(str(u) for u in t["unstable"])])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", help="results CSVs of the same plan (2 or more)")
    parser.add_argument("--times", help="times.txt of bench/agree.sh (run, seconds)")
    parser.add_argument("--out", help="write the per-row table here as CSV")
    args = parser.parse_args()
    if len(args.csv) < 2:
        parser.error("give at least two results CSVs")
    runs = read_runs(args.csv)
    table = compare(runs)
    times = []
    if args.times:
        with open(args.times, encoding="utf-8") as f:
            times = [(int(a), float(b)) for a, b in (line.split() for line in f if line.strip())]
    print_table(table, len(runs), sys.stdout)
    print()
    summary(table, times, sys.stdout)
    if table:
        print_conditions(run_conditions(runs, table), sys.stdout)
    if args.out:
        write_csv(table, len(runs), args.out)


if __name__ == "__main__":
    main()
