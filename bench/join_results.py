#!/usr/bin/env python3
"""Joins a `clbatch run` CSV with a baseline CSV and prints the ratios.

Used by bench/cpu_compare.sh (baseline: bench/cpu_reference) and
bench/compare.sh (baseline: bench/torch_baseline.py). Both files are read by
column NAME from their header lines (results/SCHEMA.md for clbatch), never by
position. Rows are matched on model, precision and batch size; the shapes
(n_samples, n_features, n_hidden, n_classes) must agree or the row is refused.

ratio = clbatch step_s_median / baseline step_s_median: above 1 the baseline
is faster, below 1 clbatch is.
"""

import argparse
import csv
import sys

OUT_COLUMNS = ["host", "timestamp", "model", "precision", "batch", "n_samples", "n_features",
               "n_hidden", "n_classes", "clbatch_device", "clbatch_device_type", "clbatch_status",
               "clbatch_step_s", "clbatch_wall_step_s", "baseline", "baseline_device",
               "baseline_step_s", "baseline_wall_step_s", "ratio_step", "ratio_wall",
               "clbatch_gflops", "clbatch_pct_peak_flops", "clbatch_peak_gflops",
               "baseline_gflops"]
SHAPE = ("n_samples", "n_features", "n_hidden", "n_classes")


def read_rows(path, required):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"join_results.py: {path} has no column(s) {', '.join(missing)}")
        return list(reader)


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def fmt(value, spec):
    return "" if value is None else format(value, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clbatch", required=True, help="CSV written by clbatch run")
    p.add_argument("--baseline", required=True, help="CSV of the baseline")
    p.add_argument("--name", required=True, help="the baseline's name for the table")
    p.add_argument("--out", required=True, help="the joined CSV to write")
    p.add_argument("--peak", action="store_true",
                   help="add the fp32 mlp GFLOP/s and %% of measured peak summary")
    args = p.parse_args()

    cl_rows = read_rows(args.clbatch, ["host", "timestamp", "device", "device_type", "model",
                                       "precision", "batch", "status", "step_s_median",
                                       "wall_step_s", "gflops", "pct_peak_flops",
                                       "peak_gflops", *SHAPE])
    base_rows = read_rows(args.baseline, ["model", "precision", "batch", "step_s_median",
                                          "wall_step_s", "gflops", *SHAPE])
    baseline = {(r["model"], r["precision"], int(r["batch"])): r for r in base_rows}

    joined = []
    for r in cl_rows:
        key = (r["model"], r["precision"], int(r["batch"]))
        b = baseline.get(key)
        if b is None:
            continue
        for column in SHAPE:
            if int(float(r[column] or 0)) != int(float(b[column] or 0)):
                sys.exit(f"join_results.py: {key}: {column} is {r[column]} for clbatch but "
                         f"{b[column]} for {args.name}: the two did not run the same plan")
        cl_step, cl_wall = number(r["step_s_median"]), number(r["wall_step_s"])
        b_step, b_wall = number(b["step_s_median"]), number(b["wall_step_s"])
        joined.append({
            "host": r["host"], "timestamp": r["timestamp"], "model": key[0],
            "precision": key[1], "batch": key[2],
            **{c: r[c] for c in SHAPE},
            "clbatch_device": r["device"], "clbatch_device_type": r["device_type"],
            "clbatch_status": r["status"], "clbatch_step_s": cl_step,
            "clbatch_wall_step_s": cl_wall, "baseline": args.name,
            "baseline_device": b.get("device_name") or b.get("device") or b.get("library", ""),
            "baseline_step_s": b_step, "baseline_wall_step_s": b_wall,
            "ratio_step": cl_step / b_step if cl_step and b_step else None,
            "ratio_wall": cl_wall / b_wall if cl_wall and b_wall else None,
            "clbatch_gflops": number(r["gflops"]),
            "clbatch_pct_peak_flops": number(r["pct_peak_flops"]),
            "clbatch_peak_gflops": number(r["peak_gflops"]),
            "baseline_gflops": number(b["gflops"]),
        })
    if not joined:
        sys.exit("join_results.py: no (model, precision, batch) is in both files")

    name = args.name
    head = (f"{'model':<8} {'prec':<5} {'batch':>6}  {'clbatch s':>11} {name + ' s':>11} "
            f"{'ratio':>7}  {'wall ratio':>10}  {'clbatch GF/s':>12} {'%peak':>6} "
            f"{name + ' GF/s':>12}")
    print(head)
    print("-" * len(head))
    for j in joined:
        status = "" if j["clbatch_status"] == "ok" else f"  (clbatch: {j['clbatch_status']})"
        print(f"{j['model']:<8} {j['precision']:<5} {j['batch']:>6}  "
              f"{fmt(j['clbatch_step_s'], '11.4g')} {fmt(j['baseline_step_s'], '11.4g')} "
              f"{fmt(j['ratio_step'], '7.2f')}  {fmt(j['ratio_wall'], '10.2f')}  "
              f"{fmt(j['clbatch_gflops'], '12.3f')} {fmt(j['clbatch_pct_peak_flops'], '6.1f')} "
              f"{fmt(j['baseline_gflops'], '12.3f')}{status}")
    print(f"ratio = clbatch median step time / {name} median step time (> 1: {name} is "
          "faster); wall ratio: the same for back-to-back wall time per step.")

    if args.peak:
        mlp = [j for j in joined if j["model"] == "mlp" and j["precision"] == "fp32"
               and j["clbatch_gflops"] is not None]
        if mlp:
            best = max(mlp, key=lambda j: j["clbatch_gflops"])
            print(f"mlp fp32 (GEMM-heavy): CLBlast reaches {best['clbatch_gflops']:.1f} GFLOP/s "
                  f"at B = {best['batch']}, {fmt(best['clbatch_pct_peak_flops'], '.1f')} % of "
                  f"the measured peak ({fmt(best['clbatch_peak_gflops'], '.1f')} GFLOP/s, "
                  f"clbatch peak); {name} at that B: "
                  f"{fmt(best['baseline_gflops'], '.1f')} GFLOP/s.")

    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=OUT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for j in joined:
            writer.writerow({k: (f"{v:.9g}" if isinstance(v, float) else v)
                             for k, v in j.items()})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
