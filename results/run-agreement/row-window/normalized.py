#!/usr/bin/env python3
"""Tried offline, not adopted (2026-12-01): would dividing each row's median
step time by its host_slowdown make two back-to-back runs agree better?
Per pair: rows whose run-2 / run-1 ratio lies within +-5 % and +-10 %, raw
and normalized (step / host_slowdown). The reference/ pairs were measured
before host_slowdown covered the row's own turns (2347d9f), so their
normalization uses the whole set's reference.

    ./normalized.py 004056Z 004411Z 004653Z ../reference/2*Z
"""
import csv
import sys


def rows(path):
    out = {}
    for r in csv.DictReader(open(path, newline="", encoding="utf-8")):
        if r.get("status") != "ok" or not r["step_s_median"] or not r["host_slowdown"]:
            continue
        out[(r["model"], r["batch"])] = (float(r["step_s_median"]), float(r["host_slowdown"]))
    return out


def within(ratios, tolerance):
    return sum(abs(x - 1) <= tolerance for x in ratios)


print(f"{'pair':<22} {'rows':>4}  {'raw 5%':>6} {'raw 10%':>7}  {'norm 5%':>7} {'norm 10%':>8}")
for pair in sys.argv[1:]:
    a, b = rows(f"{pair}/run-1.csv"), rows(f"{pair}/run-2.csv")
    keys = [k for k in a if k in b]
    raw = [b[k][0] / a[k][0] for k in keys]
    norm = [(b[k][0] / b[k][1]) / (a[k][0] / a[k][1]) for k in keys]
    print(f"{pair:<22} {len(keys):>4}  {within(raw, .05):>6} {within(raw, .10):>7}  "
          f"{within(norm, .05):>7} {within(norm, .10):>8}")
