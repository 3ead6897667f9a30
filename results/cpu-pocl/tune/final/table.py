#!/usr/bin/env python3
"""Issue 16's goal table from two bench/cpu_compare.sh --rounds 2 invocations
(tuned and untuned, minutes apart), read by column name.

OpenBLAS's step time on this VM flips between two modes (linreg B = 1024:
27 or 97 us) from round to round, while clbatch's stays put; so each row
divides clbatch's median over its two rounds by OpenBLAS's fastest of all
four rounds: the speed OpenBLAS reaches undisturbed, which favours OpenBLAS.

With --rounds it prints instead each side's ratio as median (lowest-highest)
over its rounds, each round's clbatch step over that same OpenBLAS step."""
import csv, glob, os, statistics, sys

args = [a for a in sys.argv[1:] if a != "--rounds"]
per_round = len(args) < len(sys.argv) - 1
# The folder holding cpu-compare-tuned/ and cpu-compare-untuned/: the
# argument, else this script's own.
here = args[0] if args else os.path.dirname(os.path.abspath(__file__))

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
if per_round:
    print(f"{'device':<32} {'model':<8} {'B':>5}  {'untuned':>18}  {'tuned':>18}")
    for key in tuned:
        if key not in untuned:
            continue
        blas = min(tuned[key]["openblas"] + untuned[key]["openblas"])
        cells = []
        for side in (untuned, tuned):
            r = [x / blas for x in side[key]["clbatch"]]
            cells.append(f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})")
        print(f"{key[0][:32]:<32} {key[1]:<8} {key[2]:>5}  {cells[0]:>18}  {cells[1]:>18}")
    sys.exit(0)
print(f"{'device':<32} {'model':<8} {'B':>5}  {'OpenBLAS us':>12}  {'untuned us':>11} "
      f"{'ratio':>6}  {'tuned us':>9} {'ratio':>6}  {'tuned/untuned':>13}")
for key in tuned:
    if key[2] < 32 or key not in untuned:
        continue
    blas = min(tuned[key]["openblas"] + untuned[key]["openblas"])
    t, u = statistics.median(tuned[key]["clbatch"]), statistics.median(untuned[key]["clbatch"])
    print(f"{key[0][:32]:<32} {key[1]:<8} {key[2]:>5}  {blas * 1e6:12.1f}  {u * 1e6:11.1f} "
          f"{u / blas:6.2f}  {t * 1e6:9.1f} {t / blas:6.2f}  {t / u:13.2f}")
