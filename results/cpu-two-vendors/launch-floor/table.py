#!/usr/bin/env python3
"""Kernels per step, the cost of one launch and the launch floor against the
step, per platform, model and batch size, from run.csv here (table.txt)."""
import csv
import os

here = os.path.dirname(os.path.abspath(__file__))
print(f"{'platform':14s} {'model':8s} {'B':>5s} {'kernels':>7s} {'us/launch':>9s} "
      f"{'floor us':>8s} {'step us':>8s} {'floor/step':>10s}")
for r in csv.DictReader(open(os.path.join(here, "run.csv"))):
    floor, kernels, step = (float(r[k]) for k in ("launch_floor_s", "kernels_per_step",
                                                  "step_s_median"))
    print(f"{r['platform'][:14]:14s} {r['model']:8s} {r['batch']:>5s} {kernels:7.0f} "
          f"{1e6 * floor / kernels:9.2f} {1e6 * floor:8.1f} {1e6 * step:8.1f} "
          f"{100 * floor / step:9.0f}%")
