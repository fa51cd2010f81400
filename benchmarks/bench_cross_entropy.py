"""cross_entropy against the native peers: eager torch (time and peak memory) and jax.jit.

    python benchmarks/bench_cross_entropy.py            # all measurements
    python benchmarks/bench_cross_entropy.py --quick    # small shapes only

Times are medians over repeated runs, ratios are measured in the same process. Peak memory of
the large case is measured in a fresh subprocess per implementation (max RSS growth over the
inputs already allocated), so the two numbers do not disturb each other.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def _median_time(fn, repeat, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def torch_case(n, c, which, repeat):
    import torch

    import losses

    torch.manual_seed(0)
    x = torch.randn(n, c, dtype=torch.float32, requires_grad=True)
    t = torch.randint(0, c, (n,))
    f = losses.cross_entropy if which == "ours" else torch.nn.functional.cross_entropy

    def step():
        loss = f(x, t)
        loss.backward()
        x.grad = None

    return _median_time(step, repeat)


def torch_forward(n, c, which, repeat):
    import torch

    import losses

    x = torch.randn(n, c)
    t = torch.randint(0, c, (n,))
    f = losses.cross_entropy if which == "ours" else torch.nn.functional.cross_entropy
    return _median_time(lambda: f(x, t), repeat)


def peak_memory_child(n, c, which):
    """Runs in a subprocess: max RSS growth (bytes) of one forward+backward."""
    import torch

    import losses

    torch.set_num_threads(1)
    x = torch.randn(n, c, dtype=torch.float32, requires_grad=True)
    t = torch.randint(0, c, (n,))
    f = losses.cross_entropy if which == "ours" else torch.nn.functional.cross_entropy
    # warm up the kernels on a small input so their one-off allocations are not counted
    small = torch.randn(8, c, requires_grad=True)
    f(small, t[:8]).backward()
    del small
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loss = f(x, t)
    loss.backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak - base) * 1024


def jax_case(n, c, repeat):
    import jax
    import jax.numpy as jnp
    import optax

    import losses

    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (n, c), dtype=jnp.float32)
    t = jax.random.randint(key, (n,), 0, c)
    ours = jax.jit(jax.value_and_grad(lambda z: losses.cross_entropy(z, t)))
    theirs = jax.jit(jax.value_and_grad(lambda z: optax.softmax_cross_entropy_with_integer_labels(z, t).mean()))
    a = _median_time(lambda: jax.block_until_ready(ours(x)), repeat)
    b = _median_time(lambda: jax.block_until_ready(theirs(x)), repeat)
    return a, b


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--child", nargs=3, metavar=("N", "C", "WHICH"), help=argparse.SUPPRESS)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    if args.child:
        n, c, which = int(args.child[0]), int(args.child[1]), args.child[2]
        print(peak_memory_child(n, c, which))
        return 0

    rows = []
    small = (32, 10)
    for label, fn, rep in [
        ("torch eager fwd+bwd 32x10", lambda w: torch_case(*small, w, 2000), None),
        ("torch eager fwd 32x10", lambda w: torch_forward(*small, w, 2000), None),
    ]:
        ours, theirs = fn("ours"), fn("theirs")
        rows.append((label, ours, theirs, "F.cross_entropy"))
    if not args.quick:
        n, c = 4096, 32000
        ours, theirs = torch_case(n, c, "ours", 7), torch_case(n, c, "theirs", 7)
        rows.append((f"torch eager fwd+bwd {n}x{c} f32", ours, theirs, "F.cross_entropy"))
        mem = {}
        for which in ("ours", "theirs"):
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(c), which],
                                 capture_output=True, text=True, check=True)
            mem[which] = int(out.stdout.strip().splitlines()[-1])
        rows.append((f"torch peak memory {n}x{c} (MB)", mem["ours"] / 2**20, mem["theirs"] / 2**20, "F.cross_entropy"))
    try:
        for n, c in ([(32, 10)] if args.quick else [(32, 10), (4096, 32000)]):
            a, b = jax_case(n, c, 50 if n == 32 else 7)
            rows.append((f"jax.jit value_and_grad {n}x{c}", a, b, "optax.softmax_cross_entropy_with_integer_labels"))
    except ImportError as e:
        print(f"(jax/optax not installed: {e})")

    print(f"{'measurement':<40} {'ours':>12} {'peer':>12} {'ratio':>7}  peer")
    for label, a, b, peer in rows:
        unit = "" if "MB" in label else "s"
        print(f"{label:<40} {a:>11.6g}{unit} {b:>11.6g}{unit} {a / b:>7.2f}  {peer}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{"measurement": r[0], "ours": r[1], "peer": r[2], "ratio": r[1] / r[2], "peer_name": r[3]}
                       for r in rows], fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
