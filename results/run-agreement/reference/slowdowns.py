#!/usr/bin/env python3
"""Per run of each pair here: the host_slowdown of each pass (passes file)
and of the rows, and how many rows say the host was slower than usual."""
import csv
import glob
import os

here = os.path.dirname(os.path.abspath(__file__))
for pair in sorted(glob.glob(os.path.join(here, "*Z"))):
    for run in ("run-1", "run-2"):
        passes = list(csv.DictReader(open(os.path.join(pair, run + ".passes.csv"))))
        per_pass = sorted({r["host_slowdown"] for r in passes}, key=lambda v: passes.index(
            next(r for r in passes if r["host_slowdown"] == v)))
        rows = list(csv.DictReader(open(os.path.join(pair, run + ".csv"))))
        slow = sum("slower than usual" in r["message"] for r in rows)
        unstable = sum(r["stable"] == "0" for r in rows)
        print(f"{os.path.basename(pair)} {run}: passes {len(per_pass)}, host_slowdown per pass "
              f"{', '.join(f'{float(v):.3f}' for v in per_pass)}; rows unstable {unstable}/{len(rows)}, "
              f"of which 'slower than usual' {slow}")
