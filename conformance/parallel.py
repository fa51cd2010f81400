"""Running the checks in several processes (``python -m losses.conformance -j N``)."""
from __future__ import annotations

import multiprocessing

from . import engine

_WORKER_CHECKS = None


def _worker_init(kwargs):
    global _WORKER_CHECKS
    _WORKER_CHECKS = engine.build_checks(**kwargs)


def _worker_run(indices):
    chosen = [_WORKER_CHECKS[i] for i in indices]
    return list(engine.run_checks(chosen).items())


def run_parallel(checks, kwargs, jobs, progress):
    """Run the checks in ``jobs`` processes (spawned: each rebuilds the same check list)."""
    chunks = [list(range(i, min(i + 16, len(checks)))) for i in range(0, len(checks), 16)]
    # interleave so every process gets a mix of backends and losses
    chunks = chunks[0::2] + chunks[1::2]
    results, done = {}, 0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(kwargs,)) as pool:
        for part in pool.imap_unordered(_worker_run, chunks):
            results.update(part)
            done += len(part)
            progress(done, len(checks), checks[min(done, len(checks) - 1)])
    progress(len(checks), len(checks), None)
    return {c.id: results[c.id] for c in checks}
