"""Running the checks in several processes (``python -m losses.conformance -j N``).

The worker processes are spawned (each rebuilds the same check list) and stopped with the
parent: Ctrl-C or SIGTERM terminates every worker before the parent exits.
"""
from __future__ import annotations

import multiprocessing
import signal

from . import engine

_WORKER_CHECKS = None


def _worker_init(kwargs):
    global _WORKER_CHECKS
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C for everyone
    _WORKER_CHECKS = engine.build_checks(**kwargs)


def _worker_run(indices):
    chosen = [_WORKER_CHECKS[i] for i in indices]
    return list(engine.run_checks(chosen).items())


class Interrupted(Exception):
    """The run was stopped by SIGINT/SIGTERM (the workers are terminated)."""


def run_parallel(checks, kwargs, jobs, progress, chunk=8):
    """Run the checks in ``jobs`` processes; ``progress(done, total, check)`` after each chunk."""
    chunks = [list(range(i, min(i + chunk, len(checks)))) for i in range(0, len(checks), chunk)]
    # interleave so every process gets a mix of backends and losses
    chunks = chunks[0::2] + chunks[1::2]
    by_id = {c.id: c for c in checks}
    results, done = {}, 0
    ctx = multiprocessing.get_context("spawn")
    pool = ctx.Pool(jobs, initializer=_worker_init, initargs=(kwargs,))

    def stop(signum, frame):
        pool.terminate()
        raise Interrupted(signal.Signals(signum).name)

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for part in pool.imap_unordered(_worker_run, chunks):
            results.update(part)
            done += len(part)
            last = by_id[part[-1][0]] if part else None
            progress(done, len(checks), last)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    progress(len(checks), len(checks), None)
    return {c.id: results[c.id] for c in checks}
