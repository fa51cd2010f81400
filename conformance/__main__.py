"""``python -m losses.conformance``: run the cross-backend suite and print the loss x backend matrix.

By default the smoke matrix (each public function's first case on every installed backend:
value, gradients, jax.jit, one NaN variant, the peers; every native fast path), in about three
minutes on two cores. ``--full`` runs every case, ``--inductor`` everything.
Exit status 0 when every check passed (skips allowed), 1 otherwise, 130 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

from . import engine
from .parallel import Interrupted, run_parallel

SYMBOL = {"pass": "✓", "fail": "✗", "skip": "-", None: "·"}


class _Progress:
    """Progress on ``stream``: a bar on a terminal; otherwise a line every 10% and at least
    every ``every`` seconds (a heartbeat thread keeps printing while a long check runs), each
    with the count, the elapsed time, an ETA and the current loss."""

    def __init__(self, stream, every: float = 10.0):
        self.stream, self.every, self.tty = stream, every, stream.isatty()
        self.t0 = self.last_print = time.time()
        self.done, self.total, self.loss, self.last_decile = 0, 0, "", -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def __call__(self, i, total, check):
        with self._lock:
            self.done, self.total = i, total
            if check is not None:
                self.loss = check.loss
            decile = int(10 * i / max(total, 1))
            if self.tty:
                width = 30
                bar = "#" * int(width * i / max(total, 1))
                self.stream.write(f"\r[{bar:<{width}}] {i}/{total} {self._eta()} {self.loss:<40}")
                if check is None:
                    self.stream.write("\n")
                self.stream.flush()
            elif decile != self.last_decile or check is None:
                self.last_decile = decile
                self._line()
        if self._thread is None and not self.tty:
            self._thread = threading.Thread(target=self._heartbeat, daemon=True)
            self._thread.start()
        if check is None:
            self._stop.set()

    def _eta(self) -> str:
        elapsed = time.time() - self.t0
        if not self.done:
            return f"{elapsed:.0f}s"
        left = elapsed / self.done * (self.total - self.done)
        return f"{elapsed:.0f}s, ETA {left:.0f}s"

    def _line(self):
        pct = 100 * self.done / max(self.total, 1)
        self.stream.write(f"{self.done}/{self.total} checks ({pct:.0f}%) {self._eta()} {self.loss}\n")
        self.stream.flush()
        self.last_print = time.time()

    def _heartbeat(self):
        while not self._stop.wait(1.0):
            with self._lock:
                if time.time() - self.last_print >= self.every:
                    self._line()


def render(mat, backends_shown, fmt="text"):
    cols = [c for c in engine.COLUMNS if c != "peer"]
    rows = []
    header = ["loss"] + backends_shown + ["peers"]
    for loss, per_backend in mat.items():
        cells = []
        for b in backends_shown:
            cell = per_backend.get(b, {})
            cells.append("".join(SYMBOL[cell.get(c)] for c in cols))
        peer_status = [cell.get("peer") for cell in per_backend.values() if "peer" in cell]
        if not peer_status:
            peer = SYMBOL[None]
        else:
            peer = SYMBOL["fail"] if "fail" in peer_status else SYMBOL["pass"] if "pass" in peer_status else SYMBOL["skip"]
        rows.append([loss] + cells + [peer])
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
        lines.append("Each backend cell is value / grad / jit (✓ pass, ✗ fail, - skipped, · not applicable).")
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    out.append("")
    out.append("cells: value grad jit (✓ pass, ✗ fail, - skipped, · n/a); jit includes vmap and "
               "the one-compile-for-all-batch-sizes check")
    return "\n".join(out)


def _markdown_header(tier, path, missing, n_pass, n_fail, n_skip, losses=None) -> str:
    flag = {"smoke": "", "default": " --full", "full": " --inductor"}.get(tier, "")
    flag += f" --loss {' '.join(losses)}" if losses else ""
    absent = f", not available: {', '.join(missing)}" if missing else ""
    return (f"# Conformance matrix\n\nWritten by `python -m losses.conformance{flag} --markdown {path}` "
            f"({tier} run, CPU{absent}): {n_pass} passed, {n_fail} failed, {n_skip} skipped. Rows are "
            "the public functions and the native fast paths of the primitives; each backend cell is "
            "value / grad / jit (jit includes vmap and the one-compile-for-all-batch-sizes check).\n\n")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check"]:
        from ._check import main as check_main

        return check_main(argv[1:])
    p = argparse.ArgumentParser(
        prog="python -m losses.conformance", description=__doc__,
        epilog="python -m losses.conformance check MODULE:FUNCTION --like LOSS checks your own "
               "implementation against the library's cases (see --help of that command).")
    p.add_argument("--full", action="store_true",
                   help="every case (pytest's default selection) instead of the smoke matrix "
                        "(the default with --loss)")
    p.add_argument("--smoke", action="store_true", help="the smoke matrix also with --loss")
    p.add_argument("--inductor", action="store_true",
                   help="everything: --full, slow checks, torch inductor and every torch dtype (slow)")
    p.add_argument("--backend", action="append", help="only this backend (repeatable)")
    p.add_argument("--loss", action="append", help="only this loss (repeatable)")
    p.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown")
    p.add_argument("--json", metavar="PATH", help="write every check's result as JSON")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="print every failure in full")
    p.add_argument("-j", "--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="processes to run the checks in (default: the CPU count, at most 4)")
    args = p.parse_args(argv)

    full = args.full or (args.loss is not None and not args.smoke)
    tier = "full" if args.inductor else "default" if full else "smoke"
    kwargs = dict(backend_names=args.backend, loss_names=args.loss, tier=tier)
    checks = engine.build_checks(**kwargs)
    if args.list:
        for c in checks:
            print(c.id)
        return 0
    from .. import backends

    shown = [b for b in backends.available_backends() if args.backend is None or b in args.backend]
    missing = [b for b in backends.BACKEND_NAMES if b not in backends.available_backends()]
    print(f"{tier} matrix: {len(checks)} checks; backends: {', '.join(shown)}"
          + (f" (not available here: {', '.join(missing)})" if missing else ""), flush=True)
    t0 = time.time()
    progress = _Progress(sys.stderr)
    try:
        if args.jobs > 1 and len(checks) > 64:
            results = run_parallel(checks, kwargs, args.jobs, progress)
        else:
            results = engine.run_checks(checks, progress=progress)
    except (Interrupted, KeyboardInterrupt) as e:
        print(f"\ninterrupted ({e or 'SIGINT'}): stopped every worker", file=sys.stderr)
        return 130
    mat = engine.matrix(checks, results)
    print(render(mat, shown))
    failed = [(cid, msg) for cid, (st, msg) in results.items() if st == "fail"]
    n_pass = sum(1 for st, _ in results.values() if st == "pass")
    n_skip = sum(1 for st, _ in results.values() if st == "skip")
    if failed:
        print("\nfailures:")
        for cid, msg in failed if args.verbose else failed[:50]:
            print(f"  {cid}: {msg}")
        if not args.verbose and len(failed) > 50:
            print(f"  ... and {len(failed) - 50} more (use -v)")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(_markdown_header(tier, args.markdown, missing, n_pass, len(failed), n_skip, args.loss)
                     + render(mat, shown, fmt="markdown") + "\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({cid: {"status": st, "message": msg} for cid, (st, msg) in results.items()}, fh, indent=1)
    print(f"\n{n_pass} passed, {len(failed)} failed, {n_skip} skipped in {time.time() - t0:.0f}s"
          + ("" if tier != "smoke" else " (smoke matrix; --full for every case)"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
