#!/usr/bin/env python3
"""Each run's median ratio to the per-row median over all runs, beside the
host_slowdown its reference step measured against the speed history."""
import csv
import statistics as st

runs = [line.split() for line in open("times.log")]
medians, slowdown, flagged = {}, {}, {}
for run, _, _ in runs:
    rows = [r for r in csv.DictReader(open(f"run-{run}.csv")) if r["status"] == "ok"]
    medians[run] = {(r["model"], r["batch"]): float(r["step_s_median"]) for r in rows}
    values = {r["host_slowdown"] for r in rows}
    slowdown[run] = values.pop() if len(values) == 1 else "?"
    flagged[run] = sum("slower than usual" in r["message"] for r in rows)
keys = set.intersection(*(set(m) for m in medians.values()))
reference = {k: st.median(m[k] for m in medians.values()) for k in keys}
print("run | start (s) | median ratio | p10 | p90 | host_slowdown | rows flagged slow")
print("---|---|---|---|---|---|---")
t0 = float(runs[0][1])
for run, start, _ in runs:
    ratios = sorted(medians[run][k] / reference[k] for k in keys)
    sd = f"{float(slowdown[run]):.3f}" if slowdown[run] not in ("", "?") else "—"
    print(f"{run} | {float(start) - t0:.0f} | {st.median(ratios):.3f} | {ratios[len(ratios) // 10]:.3f} | "
          f"{ratios[len(ratios) * 9 // 10]:.3f} | {sd} | {flagged[run]}/{len(medians[run])}")
