#!/usr/bin/env python3
"""Before/after table for bench/ab.sh.

Reads DIR/base-R.csv and DIR/new-R.csv (one `clbatch run` CSV per side and
round, columns by name, results/SCHEMA.md) and prints per device, model,
precision and batch size: the median over rounds of each side's step_s_median,
ratio = new / base (below 1: new is faster), and the smallest and largest
per-round ratio, which show how much the machine's noise moves the answer;
then best n/b, the ratio of each side's fastest round. On a shared VM a slow
phase can last a whole run and make every row of it 1.2-1.3x slower, and
when such phases fall on one side in half the rounds they move the medians
(rows that both sides run alike read 1.07-1.11 here); a slow phase only
lengthens a run, so each side's fastest round is the estimate it moves least.
"""

import argparse
import csv
import glob
import os
import re
import statistics
import sys

KEY = ("device", "model", "precision", "batch")
NEEDED = (*KEY, "status", "step_s_median", "wall_step_s")


def read_side(directory, side):
    """{key: {round: (step, wall)}} for one side's CSVs."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, f"{side}-*.csv"))):
        match = re.fullmatch(rf"{side}-(\d+)\.csv", os.path.basename(path))
        if not match:
            continue
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
            if missing:
                sys.exit(f"ab_table.py: {path} has no column(s) {', '.join(missing)}")
            for row in reader:
                if row["status"] != "ok":
                    continue
                key = (row["device"], row["model"], row["precision"], int(row["batch"]))
                runs.setdefault(key, {})[int(match.group(1))] = (
                    float(row["step_s_median"]), float(row["wall_step_s"]))
    return runs


def seconds(value):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value / 1e-9:.4g} ns"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("directory", help="the folder bench/ab.sh wrote the per-round CSVs to")
    p.add_argument("--out", required=True, help="the table as CSV")
    args = p.parse_args()

    base, new = read_side(args.directory, "base"), read_side(args.directory, "new")
    keys = [k for k in base if k in new]
    if not keys:
        sys.exit("ab_table.py: no configuration has ok rows on both sides")
    table = []
    for key in keys:
        rounds = sorted(set(base[key]) & set(new[key]))
        if not rounds:
            continue
        b_step = statistics.median(base[key][r][0] for r in rounds)
        n_step = statistics.median(new[key][r][0] for r in rounds)
        b_wall = statistics.median(base[key][r][1] for r in rounds)
        n_wall = statistics.median(new[key][r][1] for r in rounds)
        per_round = [new[key][r][0] / base[key][r][0] for r in rounds]
        table.append({"device": key[0], "model": key[1], "precision": key[2], "batch": key[3],
                      "rounds": len(rounds), "base_step_s": b_step, "new_step_s": n_step,
                      "ratio_step": n_step / b_step, "ratio_min": min(per_round),
                      "ratio_max": max(per_round), "base_wall_step_s": b_wall,
                      "new_wall_step_s": n_wall, "ratio_wall": n_wall / b_wall,
                      "ratio_best": min(new[key][r][0] for r in rounds) /
                      min(base[key][r][0] for r in rounds)})

    head = (f"{'device':<22} {'model':<8} {'prec':<5} {'batch':>6}  {'base step':>10} "
            f"{'new step':>10} {'new/base':>8} {'(rounds)':>13}  {'wall n/b':>8}  "
            f"{'best n/b':>8}")
    print(head)
    print("-" * len(head))
    for t in table:
        print(f"{t['device'][:22]:<22} {t['model']:<8} {t['precision']:<5} {t['batch']:>6}  "
              f"{seconds(t['base_step_s']):>10} {seconds(t['new_step_s']):>10} "
              f"{t['ratio_step']:>8.3f} {t['ratio_min']:>6.2f}-{t['ratio_max']:<6.2f}  "
              f"{t['ratio_wall']:>8.3f}  {t['ratio_best']:>8.3f}")
    print("new/base = median step time of the new build / the base build (< 1: new is "
          "faster); (rounds): the smallest and largest per-round ratio; best n/b: the new "
          "side's fastest round / the base side's.")
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        for t in table:
            writer.writerow({k: (f"{v:.9g}" if isinstance(v, float) else v) for k, v in t.items()})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
