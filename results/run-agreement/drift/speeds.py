#!/usr/bin/env python3
"""Per run of each folder given: the speed of each pass (the median over
configurations of the pass's median over the configuration's median across
passes; 1.3 = the whole pass 30 % slower), how many passes the rows combine,
the median half width of the rows' intervals, the stable rows and the rows'
messages (the passes left out). Usage: speeds.py DIR...  (DIR/run-N.csv and
DIR/run-N.passes.csv, as bench/agree.sh leaves them)."""
import csv
import os
import statistics as st
import sys

for folder in sys.argv[1:]:
    for run in (1, 2):
        rows = list(csv.DictReader(open(f"{folder}/run-{run}.csv")))
        passes = list(csv.DictReader(open(f"{folder}/run-{run}.passes.csv")))
        by_config = {}
        for p in passes:
            if p["status"] == "ok":
                by_config.setdefault((p["model"], p["batch"]), []).append(float(p["step_s_median"]))
        n = max(len(v) for v in by_config.values())
        speeds = [st.median([v[i] / st.median(v) for v in by_config.values() if len(v) > i])
                  for i in range(n)]
        half = [(float(r["step_s_ci_high"]) - float(r["step_s_median"])) / float(r["step_s_median"])
                for r in rows if r["status"] == "ok"]
        messages = sorted({r["message"] for r in rows if r["message"]})
        print(f"{os.path.basename(folder.rstrip('/'))} run {run}: speeds "
              + " ".join(f"{s:.3f}" for s in speeds)
              + f" | rows combine {','.join(sorted({r['passes'] for r in rows}))} passes"
              + f" | interval half width median {100 * st.median(half):.1f} %"
              + f" | stable {sum(r['stable'] == '1' for r in rows)}/{len(rows)}"
              + (f" | {messages[0]}" if messages else ""))
