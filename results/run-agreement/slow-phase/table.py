#!/usr/bin/env python3
"""Each run's median ratio to the per-row median over all runs, beside the
host canary measured while it ran (runs.sh writes times.log and canary.log)."""
import csv
import statistics as st

runs = [line.split() for line in open("times.log")]
canary = [list(map(float, line.split())) for line in open("canary.log") if len(line.split()) == 5]
medians = {}
for run, _, _ in runs:
    rows = csv.DictReader(open(f"run-{run}.csv"))
    medians[run] = {(r["model"], r["batch"]): float(r["step_s_median"]) for r in rows if r["status"] == "ok"}
keys = set.intersection(*(set(m) for m in medians.values()))
reference = {k: st.median(m[k] for m in medians.values()) for k in keys}
print("run | start (s) | median ratio | p10 | p90 | canary compute ms | canary memory ms")
print("---|---|---|---|---|---|---")
t0 = float(runs[0][1])
for run, start, end in runs:
    ratios = sorted(medians[run][k] / reference[k] for k in keys)
    during = [c for c in canary if float(start) <= c[0] <= float(end)]
    print(f"{run} | {float(start) - t0:.0f} | {st.median(ratios):.3f} | {ratios[len(ratios) // 10]:.3f} | "
          f"{ratios[len(ratios) * 9 // 10]:.3f} | {st.median(c[2] for c in during):.2f} | "
          f"{st.median(c[4] for c in during):.2f}")
