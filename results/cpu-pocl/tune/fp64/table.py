#!/usr/bin/env python3
"""fp64 step time, tuned over untuned, per round (ABBA: rounds 1 and 4 untuned first)."""
import csv
import statistics as st

def medians(v, r):
    return {(x["model"], int(x["batch"])): float(x["step_s_median"])
            for x in csv.DictReader(open(f"steps/step-{v}-{r}.csv")) if x["status"] == "ok"}

rounds = [1, 2, 3, 4]
keys = sorted(medians("tuned", 1))
print("model B | untuned us (median of 4) | tuned us | tuned/untuned per round (min-max) | median")
for k in keys:
    u = [medians("untuned", r)[k] for r in rounds]
    t = [medians("tuned", r)[k] for r in rounds]
    ratios = [a / b for a, b in zip(t, u)]
    print(f"{k[0]} {k[1]} | {st.median(u) * 1e6:.0f} | {st.median(t) * 1e6:.0f} | "
          f"{min(ratios):.2f}-{max(ratios):.2f} | {st.median(ratios):.2f}")
