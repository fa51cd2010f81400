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


def _interleaved(fa, fb, repeat, warmup=2):
    """Median times of fa and fb, run alternately so load changes hit both equally."""
    for _ in range(warmup):
        fa()
        fb()
    ta, tb = [], []
    for _ in range(repeat):
        for fn, ts in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def _median_time(fn, repeat, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _torch_fns(n, c, backward):
    import torch

    import losses

    torch.manual_seed(0)
    x = torch.randn(n, c, dtype=torch.float32, requires_grad=backward)
    t = torch.randint(0, c, (n,))

    def make(f):
        def step():
            loss = f(x, t)
            if backward:
                loss.backward()
                x.grad = None

        return step

    return make(losses.cross_entropy), make(torch.nn.functional.cross_entropy)


def torch_pair(n, c, backward, repeat):
    return _interleaved(*_torch_fns(n, c, backward), repeat)


def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


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
    import threading

    peak, stop = [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.0005)

    base = _rss_bytes()
    thread = threading.Thread(target=sample)
    thread.start()
    loss = f(x, t)
    loss.backward()
    peak[0] = max(peak[0], _rss_bytes())
    stop.set()
    thread.join()
    return peak[0] - base


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
    return _interleaved(lambda: jax.block_until_ready(ours(x)), lambda: jax.block_until_ready(theirs(x)), repeat)


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
    a, b = torch_pair(32, 10, True, 2000)
    rows.append(("torch eager fwd+bwd 32x10", a, b, "F.cross_entropy"))
    a, b = torch_pair(32, 10, False, 2000)
    rows.append(("torch eager fwd 32x10", a, b, "F.cross_entropy"))
    if not args.quick:
        n, c = 4096, 32000
        a, b = torch_pair(n, c, True, 7)
        rows.append((f"torch eager fwd+bwd {n}x{c} f32", a, b, "F.cross_entropy"))
        mem = {}
        for which in ("ours", "theirs"):
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(c), which],
                                 capture_output=True, text=True, check=True)
            mem[which] = int(out.stdout.strip().splitlines()[-1])
        rows.append((f"torch peak memory {n}x{c} (MB)", mem["ours"] / 2**20, mem["theirs"] / 2**20, "F.cross_entropy"))
    try:
        for n, c in ([(32, 10)] if args.quick else [(32, 10), (4096, 32000)]):
            a, b = jax_case(n, c, 500 if n == 32 else 7)
            rows.append((f"jax.jit value_and_grad {n}x{c}", a, b, "optax.softmax_cross_entropy_with_integer_labels"))
    except ImportError as e:
        print(f"(jax/optax not installed: {e})")

    print(f"{'measurement':<40} {'ours':>12} {'peer':>12} {'ratio':>7}  peer")
    for label, a, b, peer in rows:
        unit = "" if "MB" in label else "s"
        ratio = f"{a / b:>7.2f}" if b else "    n/a"
        print(f"{label:<40} {a:>11.6g}{unit} {b:>11.6g}{unit} {ratio}  {peer}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{"measurement": r[0], "ours": r[1], "peer": r[2], "ratio": r[1] / r[2] if r[2] else None,
                        "peer_name": r[3]}
                       for r in rows], fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
