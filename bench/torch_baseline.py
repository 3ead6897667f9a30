#!/usr/bin/env python3
"""PyTorch baseline for clbatch: the same gradient step, timed the same way.

The step is written with explicit matrix products, not autograd, so that it
mirrors clbatch's kernels one for one (src/model/model.c): gather the batch rows by
the epoch's shuffled order, forward GEMM(s), the loss kernel that turns the
logits into dZ in place, the backward GEMMs, bias gradients as GEMVs with a
vector of ones, and the SGD update theta -= lr * g on one flat parameter tensor
whose layout is clbatch's (src/model/shape.h):

    linreg, softmax: W (D x C), b (C)       mlp: W1 (D x H), b1 (H), W2 (H x C), b2 (C)

Losses as in clbatch: linreg is the mean over the batch of sum_o (z_o - y_o)^2
(gradient (2/B) X^T r); softmax and mlp the mean softmax cross-entropy. TF32 is
off, so fp32 matrix products are true fp32 on NVIDIA GPUs.

Timing follows src/measure/measure.c: warm-up steps, one probe step that sizes rounds
of about 20 ms, per-step device times (CUDA events around each step on a GPU,
with one torch.cuda.synchronize() at the end of each round; perf_counter on
the CPU, where PyTorch is synchronous) until the coefficient of variation is
at most --target-cv after --min-time seconds or --max-time passes; then a
separate back-to-back run gives the wall time per step.

--check compares the step's gradient and update with float64 autograd on the
CPU for a small case (an independent derivation of the same gradient).
"""

import argparse
import csv
import math
import os
import platform
import statistics
import sys
import time

try:
    import torch
except ImportError:
    sys.exit("torch_baseline.py: PyTorch is not installed (pip install torch); "
             "the GPU host already has it with CUDA")

MODELS = ("linreg", "softmax", "mlp")
DTYPES = {"fp32": torch.float32, "fp64": torch.float64}
COLUMNS = ["model", "precision", "batch", "device", "step_s_median", "step_s_min",
           "wall_step_s", "samples_per_s",
           # Beyond the required columns: the rest of the statistics and the set-up.
           "step_s_p10", "step_s_p90", "step_cv", "reps", "gflops", "n_samples",
           "n_features", "n_hidden", "n_classes", "device_name", "timer", "threads",
           "torch_version", "method"]


def param_count(kind, d, h, c):
    return d * c + c if kind != "mlp" else d * h + h + h * c + c


def step_flops(kind, b, d, h, c):
    """FLOPs of one step: a copy of clb_shape_step_flops in src/model/shape.c
    (results/SCHEMA.md, "FLOP and byte counts"), so GFLOP/s columns compare."""
    p = param_count(kind, d, h, c)
    update = 2.0 * p
    loss = (3.0 if kind == "linreg" else 6.0) * b * c
    if kind != "mlp":
        return 2 * b * d * c + 2 * b * d * c + 2 * b * c + update + loss
    return (2 * b * d * h + 2 * b * h * c + 2 * b * h * c + 2 * b * h * c + 2 * b * d * h
            + 2 * b * h + 2 * b * c + update + loss + 2 * b * h + b * h)


def parse_batches(spec, n):
    """clbatch's --batch syntax: 1,2,4  1:N:x2  32:512:+32  N; duplicates dropped."""
    def bound(text):
        value = n if text == "N" else int(text)
        if value < 1 or value > n:
            raise ValueError(f"--batch: {text} is not between 1 and N = {n}")
        return value

    out = []
    for item in spec.split(","):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) == 1:
            values = [bound(parts[0])]
        elif len(parts) == 3 and parts[2][:1] in ("x", "+"):
            lo, hi, step = bound(parts[0]), bound(parts[1]), int(parts[2][1:])
            if step < (2 if parts[2][0] == "x" else 1):
                raise ValueError(f"--batch: bad step in '{item}'")
            values, b = [], lo
            while b <= hi:
                values.append(b)
                b = b * step if parts[2][0] == "x" else b + step
        else:
            raise ValueError(f"--batch: '{item}' is not a number, N, LO:HI:xF or LO:HI:+S")
        out.extend(v for v in values if v not in out)
    if not out:
        raise ValueError("--batch names no batch size")
    return out


def make_data(kind, n, d, c, seed, dtype):
    """Regression y = x w* + noise, or Gaussian class clusters (values only
    matter for ReLU and exp, not for speed). Generated on the CPU in float64."""
    gen = torch.Generator().manual_seed(seed)
    if kind == "linreg":
        x = torch.randn(n, d, generator=gen, dtype=torch.float64)
        w = torch.randn(d, c, generator=gen, dtype=torch.float64)
        y = x @ w + 0.1 * torch.randn(n, c, generator=gen, dtype=torch.float64)
        return x.to(dtype), y.to(dtype)
    centres = 2.0 * torch.randn(c, d, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, c, (n,), generator=gen)
    x = centres[labels] + torch.randn(n, d, generator=gen, dtype=torch.float64)
    return x.to(dtype), labels


def init_params(kind, d, h, c, seed, dtype):
    """Weights ~ N(0, 1/fan_in), biases 0, in clbatch's flat order."""
    gen = torch.Generator().manual_seed(seed ^ 0x5EED)
    if kind != "mlp":
        w = torch.randn(d * c, generator=gen, dtype=torch.float64) / math.sqrt(d)
        return torch.cat([w, torch.zeros(c, dtype=torch.float64)]).to(dtype)
    w1 = torch.randn(d * h, generator=gen, dtype=torch.float64) / math.sqrt(d)
    w2 = torch.randn(h * c, generator=gen, dtype=torch.float64) / math.sqrt(h)
    z = torch.zeros
    return torch.cat([w1, z(h, dtype=torch.float64), w2, z(c, dtype=torch.float64)]).to(dtype)


class Step:
    """One SGD step on batch `index` of the epoch order, all buffers preallocated."""

    def __init__(self, kind, d, h, c, batch, x, y, order, theta, lr):
        self.kind, self.d, self.h, self.c, self.b = kind, d, h, c, batch
        self.x, self.y, self.order, self.theta, self.lr = x, y, order, theta, lr
        self.full_steps = x.shape[0] // batch
        dev, dt = x.device, x.dtype
        self.grad = torch.zeros_like(theta)
        self.xb = torch.empty(batch, d, device=dev, dtype=dt)
        self.z = torch.empty(batch, c, device=dev, dtype=dt)
        self.ones = torch.ones(batch, device=dev, dtype=dt)
        self.minus_one = torch.full((batch, 1), -1.0, device=dev, dtype=dt)
        self.loss_rows = torch.empty(batch, device=dev, dtype=dt)
        t, g = theta, self.grad
        if kind != "mlp":
            self.w, self.bias = t[:d * c].view(d, c), t[d * c:]
            self.gw, self.gb = g[:d * c].view(d, c), g[d * c:]
        else:
            o1, o2, o3 = d * h, d * h + h, d * h + h + h * c
            self.w1, self.b1 = t[:o1].view(d, h), t[o1:o2]
            self.w2, self.b2 = t[o2:o3].view(h, c), t[o3:]
            self.gw1, self.gb1 = g[:o1].view(d, h), g[o1:o2]
            self.gw2, self.gb2 = g[o2:o3].view(h, c), g[o3:]
            self.hid = torch.empty(batch, h, device=dev, dtype=dt)
            self.dhid = torch.empty(batch, h, device=dev, dtype=dt)

    def loss(self, bias, idx):
        """clbatch's loss kernels: z (logits without bias) becomes dZ in place."""
        z, b = self.z, self.b
        z.add_(bias)
        if self.kind == "linreg":
            z.sub_(self.y.index_select(0, idx))
            torch.sum(z * z, dim=1, out=self.loss_rows)
            z.mul_(2.0 / b)
            return
        labels = self.y.index_select(0, idx).unsqueeze(1)
        logp = torch.log_softmax(z, dim=1)
        torch.neg(logp.gather(1, labels).squeeze(1), out=self.loss_rows)
        torch.exp(logp, out=z)
        z.scatter_add_(1, labels, self.minus_one)
        z.mul_(1.0 / b)

    def gradient(self, index):
        first = (index % self.full_steps) * self.b
        idx = self.order[first:first + self.b]
        torch.index_select(self.x, 0, idx, out=self.xb)  # gather_rows
        if self.kind != "mlp":
            torch.mm(self.xb, self.w, out=self.z)
            self.loss(self.bias, idx)
            torch.mm(self.xb.t(), self.z, out=self.gw)
            torch.mv(self.z.t(), self.ones, out=self.gb)
            return
        torch.mm(self.xb, self.w1, out=self.hid)
        self.hid.add_(self.b1).clamp_(min=0)  # bias_relu
        torch.mm(self.hid, self.w2, out=self.z)
        self.loss(self.b2, idx)
        torch.mm(self.hid.t(), self.z, out=self.gw2)
        torch.mv(self.z.t(), self.ones, out=self.gb2)
        torch.mm(self.z, self.w2.t(), out=self.dhid)
        self.dhid.masked_fill_(self.hid <= 0, 0)  # relu_backward
        torch.mm(self.xb.t(), self.dhid, out=self.gw1)
        torch.mv(self.dhid.t(), self.ones, out=self.gb1)

    def __call__(self, index):
        self.gradient(index)
        self.theta.add_(self.grad, alpha=-self.lr)


def autograd_reference(kind, d, h, c, x, y, idx, theta):
    """float64 CPU gradient of the batch-mean loss by autograd (independent of Step)."""
    t = theta.detach().to("cpu", torch.float64).clone().requires_grad_(True)
    xb = x.to("cpu", torch.float64)[idx.cpu()]
    yb = y.to("cpu")[idx.cpu()]
    if kind != "mlp":
        z = xb @ t[:d * c].view(d, c) + t[d * c:]
    else:
        o1, o2, o3 = d * h, d * h + h, d * h + h + h * c
        hid = torch.relu(xb @ t[:o1].view(d, h) + t[o1:o2])
        z = hid @ t[o2:o3].view(h, c) + t[o3:]
    if kind == "linreg":
        loss = ((z - yb.to(torch.float64)) ** 2).sum(dim=1).mean()
    else:
        loss = torch.nn.functional.cross_entropy(z, yb)
    loss.backward()
    return t.grad


def run_check(device, precisions, seed):
    failed = False
    cases = [("linreg", 13, 0, 1), ("linreg", 13, 0, 3), ("softmax", 13, 0, 5),
             ("mlp", 13, 17, 5)]
    for precision in precisions:
        dtype = DTYPES[precision]
        tolerance = 1e-4 if precision == "fp32" else 1e-10
        for kind, d, h, c in cases:
            n, b, lr = 96, 32, 0.1
            x, y = make_data(kind, n, d, c, seed, dtype)
            gen = torch.Generator().manual_seed(seed + 7)
            order = torch.randperm(n, generator=gen)
            theta = init_params(kind, d, h, c, seed, dtype)
            theta += 0.05 * torch.randn(theta.shape, generator=gen, dtype=dtype)
            before = theta.clone().to(torch.float64)
            theta = theta.to(device)
            step = Step(kind, d, h, c, b, x.to(device), y.to(device), order.to(device), theta, lr)
            step(1)  # the second batch: order[32:64]
            ref = autograd_reference(kind, d, h, c, x, y, order[b:2 * b], before)
            grad = step.grad.to("cpu", torch.float64)
            grad_err = ((grad - ref).abs().max() / ref.abs().max()).item()
            want = before - lr * ref
            upd = theta.to("cpu", torch.float64)
            update_err = ((upd - want).abs().max() / want.abs().max()).item()
            ok = grad_err <= tolerance and update_err <= tolerance
            failed |= not ok
            print(f"check {kind:<7} {precision} on {device} D={d} H={h} C={c} B={b}: max rel "
                  f"error gradient {grad_err:.3g}, update {update_err:.3g} "
                  f"(tolerance {tolerance:.0e}) {'ok' if ok else 'FAILED'}")
    return 1 if failed else 0


def quantile(sorted_values, q):
    """Linear interpolation between order statistics, as src/measure/stats.c does."""
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    if lo + 1 >= len(sorted_values):
        return sorted_values[-1]
    return sorted_values[lo] + (pos - lo) * (sorted_values[lo + 1] - sorted_values[lo])


def cv(values):
    if len(values) < 2:
        return math.inf
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean > 0 else math.inf


def measure(step, cuda, args):
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    index = 0
    for _ in range(args.warmup):
        step(index)
        index += 1
    sync()
    start = time.perf_counter()
    step(index)
    index += 1
    sync()
    probe = time.perf_counter() - start
    per_round = min(1000, max(1, int(0.02 / probe) if probe > 0 else 1000))
    times, timed, started = [], 0.0, time.perf_counter()
    while True:
        round_start = time.perf_counter()
        if cuda:
            events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                      for _ in range(per_round)]
            for begin, end in events:
                begin.record()
                step(index)
                end.record()
                index += 1
            torch.cuda.synchronize()  # once per round, like clbatch's clFinish
            times.extend(begin.elapsed_time(end) * 1e-3 for begin, end in events)
        else:
            for _ in range(per_round):
                t0 = time.perf_counter()
                step(index)
                times.append(time.perf_counter() - t0)
                index += 1
        timed += time.perf_counter() - round_start
        enough = timed >= args.min_time and len(times) >= 5
        if (enough and cv(times) <= args.target_cv) or \
                time.perf_counter() - started >= args.max_time:
            break
    spread = cv(times)
    times.sort()
    wall_steps = 3 * per_round
    sync()
    wall_start = time.perf_counter()
    for _ in range(wall_steps):
        step(index)
        index += 1
    sync()
    wall = (time.perf_counter() - wall_start) / wall_steps
    return {"step_s_median": quantile(times, 0.5), "step_s_min": times[0],
            "step_s_p10": quantile(times, 0.1), "step_s_p90": quantile(times, 0.9),
            "step_cv": spread, "reps": len(times), "wall_step_s": wall}


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="linreg,softmax,mlp")
    parser.add_argument("--precision", default="fp32", help="fp32, fp64 or both (fp32,fp64)")
    parser.add_argument("--batch", default="1:N:x2,N")
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--outputs", type=int, default=1, help="linreg outputs")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-shuffle", action="store_true")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"),
                        help="auto: CUDA when available, else the CPU")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--max-time", type=float, default=2.0)
    parser.add_argument("--target-cv", type=float, default=0.02)
    parser.add_argument("--out", help="write the rows to this CSV (default: stdout only)")
    parser.add_argument("--check", action="store_true",
                        help="compare the step's gradient with float64 autograd on the CPU")
    args = parser.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_baseline.py: --device cuda, but this PyTorch sees no CUDA device "
                 f"(torch {torch.__version__})")
    device = "cuda" if args.device == "cuda" or (
        args.device == "auto" and torch.cuda.is_available()) else "cpu"
    cuda = device == "cuda"
    name = torch.cuda.get_device_name(0) if cuda else cpu_name()
    models = [m for m in args.model.split(",") if m]
    precisions = [p for p in args.precision.split(",") if p]
    for m in models:
        if m not in MODELS:
            sys.exit(f"torch_baseline.py: --model: unknown '{m}' (linreg, softmax, mlp)")
    for p in precisions:
        if p not in DTYPES:
            sys.exit(f"torch_baseline.py: --precision: '{p}' is not fp32 or fp64")
    try:
        batches = parse_batches(args.batch, args.samples)
    except ValueError as err:
        sys.exit(f"torch_baseline.py: {err}")

    print(f"PyTorch {torch.__version__} on {'CUDA' if cuda else 'the CPU'}: {name}"
          f"{'' if cuda else f' ({torch.get_num_threads()} threads)'}; explicit matmuls, "
          "no autograd; TF32 off", file=sys.stderr)
    if args.check:
        return run_check(device, precisions, args.seed)

    out = None
    writer = None
    if args.out:
        out = open(args.out, "w", newline="", encoding="utf-8")
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
    print(f"{'model':<8} {'prec':<5} {'batch':>7} {'step_s_median':>14} {'wall_step_s':>14} "
          f"{'samples/s':>14} {'GFLOP/s':>10}")
    for kind in models:
        d, c = args.features, args.outputs if kind == "linreg" else args.classes
        h = args.hidden if kind == "mlp" else 0
        for precision in precisions:
            dtype = DTYPES[precision]
            x, y = make_data(kind, args.samples, d, c, args.seed, dtype)
            x, y = x.to(device), y.to(device)
            for b in batches:
                gen = torch.Generator().manual_seed(args.seed + b)  # one order per batch size
                order = (torch.arange(args.samples) if args.no_shuffle
                         else torch.randperm(args.samples, generator=gen)).to(device)
                theta = init_params(kind, d, h, c, args.seed, dtype).to(device)
                step = Step(kind, d, h, c, b, x, y, order, theta, args.lr)
                t = measure(step, cuda, args)
                gflops = step_flops(kind, b, d, h, c) / t["step_s_median"] / 1e9
                row = dict(t, model=kind, precision=precision, batch=b, device=device,
                           samples_per_s=b / t["step_s_median"], gflops=gflops,
                           n_samples=args.samples, n_features=d, n_hidden=h, n_classes=c,
                           device_name=name, timer="cuda_events" if cuda else "perf_counter",
                           threads="" if cuda else torch.get_num_threads(),
                           torch_version=torch.__version__, method="explicit_matmul")
                print(f"{kind:<8} {precision:<5} {b:>7} {t['step_s_median']:>14.6g} "
                      f"{t['wall_step_s']:>14.6g} {b / t['step_s_median']:>14.6g} "
                      f"{gflops:>10.4g}", flush=True)
                if writer:
                    writer.writerow({k: (f"{v:.9g}" if isinstance(v, float) else v)
                                     for k, v in row.items()})
                    out.flush()
                del step, theta
            del x, y
            if cuda:
                torch.cuda.empty_cache()
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
