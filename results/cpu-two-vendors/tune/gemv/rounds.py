#!/usr/bin/env python3
"""Per-round spread behind table.txt: each clbatch round's step time over
OpenBLAS's fastest step of all four rounds (tuned and untuned invocations),
as in ../../../cpu-pocl/tune/final/table.py, printed as median (lowest-highest)."""
import csv, glob, os, statistics

here = os.path.dirname(os.path.abspath(__file__))

def rounds(kind):
    rows = {}
    for path in sorted(glob.glob(os.path.join(here, f"cpu-compare-{kind}", "*.r?.csv"))):
        for r in csv.DictReader(open(path, newline="", encoding="utf-8")):
            key = (r["clbatch_device"], r["model"], int(r["batch"]))
            rows.setdefault(key, {"clbatch": [], "openblas": []})
            rows[key]["clbatch"].append(float(r["clbatch_step_s"]))
            rows[key]["openblas"].append(float(r["baseline_step_s"]))
    return rows

tuned, untuned = rounds("tuned"), rounds("untuned")
print(f"{'device':<32} {'model':<8} {'B':>5}  {'untuned':>18}  {'tuned':>18}")
for key in tuned:
    blas = min(tuned[key]["openblas"] + untuned[key]["openblas"])
    cells = []
    for side in (untuned, tuned):
        r = [x / blas for x in side[key]["clbatch"]]
        cells.append(f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})")
    print(f"{key[0][:32]:<32} {key[1]:<8} {key[2]:>5}  {cells[0]:>18}  {cells[1]:>18}")
