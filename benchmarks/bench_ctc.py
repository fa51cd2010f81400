"""CTC speed: ``losses.ctc_loss`` against torch's native CTC, measured in the same process.

    python benchmarks/bench_ctc.py [--T 200] [--N 16] [--C 32] [--S 50] [--repeat 7]

Prints a table of medians over ``--repeat`` runs (after one warm-up):

* eager forward on NumPy and PyTorch, and forward+backward on PyTorch, each with its ratio
  to ``torch.nn.functional.ctc_loss`` doing the same work (target: within 5x);
* ``jax.jit`` compile time of value-and-gradient (target: under 10 s at T=200, S=50) and the
  compiled run time.

The inputs are float32 log-softmax outputs with padded targets; every sequence uses all T
frames and a random target length in [S/2, S].
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from losses import ctc_loss  # noqa: E402


def median_time(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def inputs(T, N, C, S, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(T, N, C)).astype(np.float32)
    z -= z.max(axis=-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    targets = rng.integers(1, C, size=(N, S))
    input_lengths = np.full((N,), T)
    target_lengths = rng.integers(S // 2, S + 1, size=(N,))
    return lp, targets, input_lengths, target_lengths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, default=200)
    p.add_argument("--N", type=int, default=16)
    p.add_argument("--C", type=int, default=32)
    p.add_argument("--S", type=int, default=50)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    lp, tg, il, tl = inputs(args.T, args.N, args.C, args.S)
    rows = []

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:  # pragma: no cover
        torch = None
    if torch is not None:
        t_lp, t_tg, t_il, t_tl = (torch.from_numpy(np.ascontiguousarray(a)) for a in (lp, tg, il, tl))

        def fwd(fn):
            return lambda: fn(t_lp, t_tg, t_il, t_tl)

        def fwd_bwd(fn):
            def run():
                x = t_lp.clone().requires_grad_(True)
                fn(x, t_tg, t_il, t_tl).backward()
            return run

        with torch.no_grad():
            native_fwd = median_time(fwd(F.ctc_loss), args.repeat)
            ours_fwd = median_time(fwd(ctc_loss), args.repeat)
        native_fb = median_time(fwd_bwd(F.ctc_loss), args.repeat)
        ours_fb = median_time(fwd_bwd(ctc_loss), args.repeat)
        numpy_fwd = median_time(lambda: ctc_loss(lp, tg, il, tl), args.repeat)
        rows += [
            ("torch native F.ctc_loss", "forward", native_fwd, 1.0),
            ("losses.ctc_loss, NumPy", "forward", numpy_fwd, numpy_fwd / native_fwd),
            ("losses.ctc_loss, PyTorch", "forward", ours_fwd, ours_fwd / native_fwd),
            ("torch native F.ctc_loss", "forward+backward", native_fb, 1.0),
            ("losses.ctc_loss, PyTorch", "forward+backward", ours_fb, ours_fb / native_fb),
        ]
        got = float(ctc_loss(t_lp.double(), t_tg, t_il, t_tl))
        want = float(F.ctc_loss(t_lp.double(), t_tg, t_il, t_tl))
        assert abs(got - want) <= 1e-10 * max(1.0, abs(want)), (got, want)

    try:
        import jax
        import jax.numpy as jnp
    except ImportError:  # pragma: no cover
        jax = None
    if jax is not None:
        j_args = [jnp.asarray(a) for a in (lp, tg, il, tl)]
        step = jax.jit(jax.value_and_grad(lambda x, *rest: ctc_loss(x, *rest)))
        t0 = time.perf_counter()
        jax.block_until_ready(step(*j_args))
        first = time.perf_counter() - t0
        run = median_time(lambda: jax.block_until_ready(step(*j_args)), args.repeat)
        rows += [
            ("jax.jit(value_and_grad) compile", "first call - run", first - run, None),
            ("jax.jit(value_and_grad) run", "forward+backward", run, None),
        ]

    print(f"CTC benchmark: T={args.T}, N={args.N}, C={args.C}, S={args.S}, float32, "
          f"median of {args.repeat} runs")
    print(f"| {'what':<34} | {'pass':<18} | {'time (ms)':>10} | {'vs torch native':>15} |")
    print(f"|{'-' * 36}|{'-' * 20}|{'-' * 12}|{'-' * 17}|")
    for what, kind, t, ratio in rows:
        r = "" if ratio is None else f"{ratio:.2f}x"
        print(f"| {what:<34} | {kind:<18} | {t * 1e3:>10.2f} | {r:>15} |")
    return rows


if __name__ == "__main__":
    main()
