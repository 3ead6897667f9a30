#!/usr/bin/env python3
"""Per run of each pair here: the range of the rows' host_slowdown in each pass
(each row's reference step over its own turns), how many pass rows lay beyond
1.1, and how many combined rows say the host was slower than usual."""
import csv
import glob
import os
from collections import defaultdict

here = os.path.dirname(os.path.abspath(__file__))
for pair in sorted(glob.glob(os.path.join(here, "*Z"))):
    for run in ("run-1", "run-2"):
        by_pass, seen = defaultdict(list), defaultdict(int)
        for r in csv.DictReader(open(os.path.join(pair, run + ".passes.csv"))):
            key = (r["model"], r["batch"])
            seen[key] += 1
            if r["host_slowdown"]:
                by_pass[seen[key]].append(float(r["host_slowdown"]))
        rows = list(csv.DictReader(open(os.path.join(pair, run + ".csv"))))
        slow = sum("slower than usual" in r["message"] for r in rows)
        parts = [f"pass {p}: {min(v):.3f}-{max(v):.3f} ({sum(x > 1.1 for x in v)} beyond 1.1)"
                 for p, v in sorted(by_pass.items())]
        print(f"{os.path.basename(pair)} {run}: {'; '.join(parts)}; combined rows flagged "
              f"'slower than usual' {slow}/{len(rows)}")
