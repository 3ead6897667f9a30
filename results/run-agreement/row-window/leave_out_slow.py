#!/usr/bin/env python3
"""A rule tried offline and not adopted: combine each run's pass rows with and
without leaving out the passes whose own host_slowdown (the row's turns) is
beyond 1.1, when two others remain; compare the two runs as bench/agree.sh
does (ratio of medians, intervals covering the other run's median).
The passes the device's drift rule left out are read from the combined rows.

    ./leave_out_slow.py 004056Z 004411Z 004653Z ../reference/2*Z
"""
import csv
import math
import re
import statistics
import sys

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365}
LIMIT = 0.10

def combine(passes, leave_out_slow):
    ok = [p for p in passes if p['status'] == 'ok']
    if leave_out_slow:
        quiet = [p for p in ok if not (p['host_slowdown'] and float(p['host_slowdown']) > 1 + LIMIT)]
        if len(quiet) >= 2:
            ok = quiet
    meds = [float(p['step_s_median']) for p in ok]
    m = statistics.mean(meds)
    if len(meds) < 2:
        return m, float(ok[0]['step_s_ci_low']), float(ok[0]['step_s_ci_high']), len(meds)
    hw = T95[len(meds) - 1] * statistics.stdev(meds) / math.sqrt(len(meds))
    return m, max(m - hw, 0), m + hw, len(meds)

def runs(d, n):
    out = {}
    for r in csv.DictReader(open(f'{d}/run-{n}.passes.csv')):
        out.setdefault((r['model'], r['batch']), []).append(r)
    # the passes the device's drift rule left out, as the combined row names them
    for r in csv.DictReader(open(f'{d}/run-{n}.csv')):
        m = re.search(r'pass(?:es)? ([0-9,]+) of [0-9]+ left out', r['message'])
        if m:
            gone = {int(x) for x in m.group(1).split(',')}
            k = (r['model'], r['batch'])
            out[k] = [p for i, p in enumerate(out[k], 1) if i not in gone]
    return out

def compare(d, leave_out):
    a, b = runs(d, 1), runs(d, 2)
    w5 = w10 = cov = tot = dropped = 0
    for k in a:
        ma, la, ha, na = combine(a[k], leave_out)
        mb, lb, hb, nb = combine(b[k], leave_out)
        dropped += (len(a[k]) - na) + (len(b[k]) - nb)
        r = max(ma, mb) / min(ma, mb)
        w5 += r <= 1.05
        w10 += r <= 1.10
        cov += (la <= mb <= ha) + (lb <= ma <= hb)
        tot += 1
    return f'within 5%: {w5}/{tot}  10%: {w10}/{tot}  covered {cov}/{2*tot}  passes left out {dropped}'

for d in sys.argv[1:]:
    print(d)
    print('  all passes      ', compare(d, False))
    print('  slow passes out ', compare(d, True))
