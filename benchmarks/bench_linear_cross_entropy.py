"""linear_cross_entropy against the naive head (``F.linear`` + ``F.cross_entropy``), torch's
chunked ``F.linear_cross_entropy(options=LinearCrossEntropyOptions())`` and, under
``jax.jit``, the naive jnp formula: peak memory and time of one forward+backward (float32,
``"mean"``, gradients of the features and the head's weight).

    python benchmarks/bench_linear_cross_entropy.py                   # N=4096, D=512, V=32000 and 64000
    python benchmarks/bench_linear_cross_entropy.py --vocab 32000 --repeat 3
    python benchmarks/bench_linear_cross_entropy.py --quick           # small shapes, a smoke run

* torch peak memory: a fresh process per implementation and shape; the bytes allocated on top
  of the inputs during one forward+backward, from the allocation/free events of
  ``torch.profiler`` (``profile_memory=True``; ``benchmarks/matrix.py``'s ``peak_bytes``);
* JAX peak memory: ``memory_analysis()`` of the compiled ``jax.jit(jax.value_and_grad)``
  executable (temporaries + outputs; the arguments are the same for both);
* time: medians of interleaved runs in one process per framework, one thread
  (``torch.set_num_threads(1)``, XLA on one thread), warm-up excluded.

Writes ``benchmarks/results/linear_cross_entropy.json`` and a Markdown summary next to it
(memory per token, throughput in tokens/s, the ratios against the targets).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
IMPLS = ("naive", "torch_chunked", "ours")
#: the targets: ours / naive peak memory (torch and jax), ours / torch chunked, ours / naive time
TARGETS = {"torch_mem_vs_naive": 0.15, "torch_mem_vs_torch_chunked": 1.0, "torch_time_vs_naive": 1.3,
           "jax_mem_vs_naive": 0.15}


def _torch_inputs(n, d, v):
    import torch

    torch.manual_seed(0)
    x = (torch.randn(n, d) / d ** 0.5).requires_grad_()
    w = (torch.randn(v, d) / d ** 0.5).requires_grad_()
    t = torch.randint(0, v, (n,))
    return x, w, t


def _torch_step(impl, x, w, t):
    import torch
    import torch.nn.functional as F

    import losses

    if impl == "naive":
        def loss():
            return F.cross_entropy(F.linear(x, w), t)
    elif impl == "torch_chunked":
        opts = torch.nn.LinearCrossEntropyOptions()

        def loss():
            return F.linear_cross_entropy(x, w, t, options=opts)
    else:
        def loss():
            return losses.linear_cross_entropy(x, w, t)

    def step():
        out = loss()
        out.backward()
        x.grad = w.grad = None
        return out

    return step


def child_torch_memory(impl, n, d, v):
    import torch

    sys.path.insert(0, str(HERE))
    from matrix import peak_bytes

    torch.set_num_threads(1)
    x, w, t = _torch_inputs(n, d, v)
    step = _torch_step(impl, x, w, t)
    return {"peak_bytes": peak_bytes(step)}


def _interleaved(fns, repeat, warmup=1):
    for _ in range(warmup):
        for f in fns.values():
            f()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(ts) for k, ts in times.items()}


def child_torch_time(n, d, v, repeat):
    import torch

    torch.set_num_threads(1)
    x, w, t = _torch_inputs(n, d, v)
    fns = {impl: _torch_step(impl, x, w, t) for impl in IMPLS}
    values = {impl: float(fns[impl]().detach()) for impl in IMPLS}
    return {"seconds": _interleaved(fns, repeat), "values": values}


def child_jax(n, d, v, repeat):
    import jax
    import jax.numpy as jnp
    import numpy as np

    import losses

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(n, d)) / d ** 0.5, dtype=jnp.float32)
    w = jnp.asarray(rng.normal(size=(v, d)) / d ** 0.5, dtype=jnp.float32)
    t = jnp.asarray(rng.integers(0, v, size=(n,)), dtype=jnp.int32)

    def naive(x, w, t):
        z = x @ w.T
        return jnp.mean(jax.nn.logsumexp(z, axis=-1) - jnp.take_along_axis(z, t[:, None], axis=-1)[:, 0])

    out = {}
    fns = {}
    for name, f in (("naive", naive), ("ours", losses.linear_cross_entropy)):
        compiled = jax.jit(jax.value_and_grad(f, argnums=(0, 1))).lower(x, w, t).compile()
        mem = compiled.memory_analysis()
        out[name] = {"temp_bytes": int(mem.temp_size_in_bytes), "output_bytes": int(mem.output_size_in_bytes),
                     "peak_bytes": int(mem.temp_size_in_bytes + mem.output_size_in_bytes),
                     "value": float(compiled(x, w, t)[0])}

        def run(c=compiled):
            jax.block_until_ready(c(x, w, t))

        fns[name] = run
    for name, s in _interleaved(fns, repeat).items():
        out[name]["seconds"] = s
    return out


def _child(args):
    env = dict(os.environ)
    env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if res.returncode:
        raise RuntimeError(f"child {args} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure(n, d, v, repeat):
    row = {"N": n, "D": d, "V": v, "torch": {}, "jax": None}
    for impl in IMPLS:
        row["torch"][impl] = _child(["torch_memory", impl, n, d, v])
        print(f"  torch {impl:14s} peak {row['torch'][impl]['peak_bytes'] / 2**20:9.1f} MiB", flush=True)
    timing = _child(["torch_time", n, d, v, repeat])
    for impl in IMPLS:
        row["torch"][impl]["seconds"] = timing["seconds"][impl]
        row["torch"][impl]["value"] = timing["values"][impl]
        print(f"  torch {impl:14s} {timing['seconds'][impl]:8.3f} s", flush=True)
    row["jax"] = _child(["jax", n, d, v, repeat])
    for impl in ("naive", "ours"):
        j = row["jax"][impl]
        print(f"  jax   {impl:14s} peak {j['peak_bytes'] / 2**20:9.1f} MiB  {j['seconds']:8.3f} s", flush=True)
    tt, jj = row["torch"], row["jax"]
    row["ratios"] = {
        "torch_mem_vs_naive": tt["ours"]["peak_bytes"] / tt["naive"]["peak_bytes"],
        "torch_mem_vs_torch_chunked": tt["ours"]["peak_bytes"] / tt["torch_chunked"]["peak_bytes"],
        "torch_time_vs_naive": tt["ours"]["seconds"] / tt["naive"]["seconds"],
        "jax_mem_vs_naive": jj["ours"]["peak_bytes"] / jj["naive"]["peak_bytes"],
    }
    return row


def markdown(data) -> str:
    lines = [
        "# linear_cross_entropy: peak memory and time of one forward+backward",
        "",
        f"{data['date']}, {data['machine']}, torch {data['torch']}, jax {data['jax']}, one thread, float32, "
        "`reduction=\"mean\"`, gradients of `input` and `linear_weight`; peak memory on top of the inputs "
        "(torch: profiler allocation events, a fresh process each; JAX: the compiled executable's "
        "`memory_analysis()`, temporaries + outputs); time: medians of "
        f"{data['repeat']} interleaved runs. Produced by `python benchmarks/bench_linear_cross_entropy.py`.",
        "",
        "| N x D x V | framework | implementation | peak MiB | KiB / token | s / step | tokens / s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in data["rows"]:
        shape = f"{row['N']} x {row['D']} x {row['V']}"
        items = [("torch", k, row["torch"][k]) for k in IMPLS] + [("jax (jit)", k, row["jax"][k]) for k in ("naive", "ours")]
        names = {"naive": "naive (`F.linear` + `F.cross_entropy` / jnp)", "torch_chunked":
                 "`F.linear_cross_entropy(options=LinearCrossEntropyOptions())`", "ours": "`losses.linear_cross_entropy`"}
        for fw, k, m in items:
            lines.append(f"| {shape} | {fw} | {names[k]} | {m['peak_bytes'] / 2**20:.1f} | "
                         f"{m['peak_bytes'] / row['N'] / 1024:.1f} | {m['seconds']:.3f} | {row['N'] / m['seconds']:.0f} |")
    lines += ["", "| N x D x V | ratio | measured | target | |", "|---|---|---:|---:|---|"]
    for row in data["rows"]:
        for k, target in TARGETS.items():
            r = row["ratios"][k]
            lines.append(f"| {row['N']} x {row['D']} x {row['V']} | {k} | {r:.3f} | <= {target} | "
                         f"{'pass' if r <= target else 'FAIL'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", type=int, nargs="+", default=[32000, 64000])
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--features", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="N=256, D=64, V=2000: a smoke run")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS / "linear_cross_entropy.json")
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "torch_memory":
            out = child_torch_memory(rest[0], *map(int, rest[1:]))
        elif kind == "torch_time":
            out = child_torch_time(*map(int, rest))
        else:
            out = child_jax(*map(int, rest))
        print(json.dumps(out))
        return
    n, d, vocab = (256, 64, [2000]) if args.quick else (args.rows, args.features, args.vocab)
    import jax
    import torch

    data = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()} {platform.processor()} "
            f"({os.cpu_count()} CPUs)", "torch": torch.__version__, "jax": jax.__version__,
            "repeat": args.repeat, "targets": TARGETS, "rows": []}
    for v in vocab:
        print(f"N={n} D={d} V={v}", flush=True)
        data["rows"].append(measure(n, d, v, args.repeat))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(data))
    print(markdown(data))


if __name__ == "__main__":
    main()
