#!/usr/bin/env python3
"""Sums the per-process files of bench/kernel_profile.so into one table per
platform: kernel, launches, mean device time per launch, total, share.

    bench/kernel_profile.py /tmp/prof/softmax-intel.*
"""
import sys
from collections import defaultdict

totals = defaultdict(lambda: [0, 0])
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            platform, kernel, launches, total_ns = line.rstrip("\n").split("\t")
            totals[(platform, kernel)][0] += int(launches)
            totals[(platform, kernel)][1] += int(total_ns)
for platform in sorted({p for p, _ in totals}):
    rows = sorted(((k, v) for (p, k), v in totals.items() if p == platform), key=lambda kv: -kv[1][1])
    all_ns = sum(v[1] for _, v in rows)
    print(f"{platform}")
    print(f"  {'kernel':28s} {'launches':>9s} {'us/launch':>10s} {'total ms':>9s} {'share':>6s}")
    for kernel, (launches, ns) in rows:
        print(f"  {kernel:28s} {launches:9d} {ns / launches / 1e3:10.1f} {ns / 1e6:9.1f} {100 * ns / all_ns:5.1f}%")
