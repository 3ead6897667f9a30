#!/usr/bin/env python3
"""Summarises several rounds of joined clbatch/baseline CSVs (join_results.py).

On a shared machine one round's ratio can be off by a factor of two when a
slow phase hits one side only; rounds that alternate the order (bench/
cpu_compare.sh --rounds) and a per-row range say how far the ratio moves.
Per (device, model, precision, batch): the median of the rounds' ratios and
their lowest and highest, read by column name.
"""

import argparse
import csv
import statistics
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rounds", nargs="+", help="joined CSVs, one per round")
    p.add_argument("--name", required=True, help="the baseline's name for the table")
    p.add_argument("--out", required=True, help="the summary CSV to write")
    args = p.parse_args()

    ratios, order = {}, []
    for path in args.rounds:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                key = (row["clbatch_device"], row["model"], row["precision"], int(row["batch"]))
                if key not in ratios:
                    ratios[key] = []
                    order.append(key)
                if row["ratio_step"]:
                    ratios[key].append(float(row["ratio_step"]))
    if not order:
        sys.exit("rounds_summary.py: no rows in " + ", ".join(args.rounds))

    print(f"{'device':<34} {'model':<8} {'prec':<5} {'batch':>6}  {'ratio':>7}  {'range':>13}  rounds")
    rows = []
    for key in order:
        values = ratios[key]
        if not values:
            continue
        median = statistics.median(values)
        rows.append({"device": key[0], "model": key[1], "precision": key[2], "batch": key[3],
                     "ratio_median": f"{median:.4g}", "ratio_min": f"{min(values):.4g}",
                     "ratio_max": f"{max(values):.4g}", "rounds": len(values)})
        print(f"{key[0][:34]:<34} {key[1]:<8} {key[2]:<5} {key[3]:>6}  {median:7.2f}  "
              f"{min(values):6.2f}-{max(values):<6.2f}  {len(values)}")
    print(f"ratio = clbatch median step time / {args.name} median step time, the median over "
          "rounds; range: the rounds' lowest and highest")
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
