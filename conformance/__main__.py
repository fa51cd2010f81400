"""``python -m losses.conformance``: run the cross-backend suite and print the loss x backend matrix.

Exit status 0 when every check passed (skips allowed), 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import engine
from .parallel import run_parallel

SYMBOL = {"pass": "✓", "fail": "✗", "skip": "-", None: "·"}


def _progress_printer(stream):
    tty = stream.isatty()
    state = {"last": -1, "t0": time.time()}

    def progress(i, total, check):
        width = 30
        done = int(width * i / max(total, 1))
        pct = int(100 * i / max(total, 1))
        label = "" if check is None else check.id[:60]
        if tty:
            stream.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{total} {label:<60}")
            if check is None:
                stream.write("\n")
            stream.flush()
        elif pct // 10 != state["last"] or check is None:
            state["last"] = pct // 10
            stream.write(f"[{'#' * done}{'.' * (width - done)}] {i}/{total} ({time.time() - state['t0']:.0f}s)\n")
            stream.flush()

    return progress


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m losses.conformance", description=__doc__)
    p.add_argument("--backend", action="append", help="only this backend (repeatable)")
    p.add_argument("--loss", action="append", help="only this loss (repeatable)")
    p.add_argument("--inductor", action="store_true",
                   help="also compile with torch inductor and every torch dtype (slow)")
    p.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown")
    p.add_argument("--json", metavar="PATH", help="write every check's result as JSON")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="print every failure in full")
    p.add_argument("-j", "--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="processes to run the checks in (default: the CPU count, at most 4)")
    args = p.parse_args(argv)

    kwargs = dict(backend_names=args.backend, loss_names=args.loss, include_slow=args.inductor)
    checks = engine.build_checks(**kwargs)
    if args.list:
        for c in checks:
            print(c.id)
        return 0
    from .. import backends

    shown = [b for b in backends.available_backends() if args.backend is None or b in args.backend]
    missing = [b for b in backends.BACKEND_NAMES if b not in backends.available_backends()]
    print(f"backends: {', '.join(shown)}" + (f" (not available here: {', '.join(missing)})" if missing else ""))
    t0 = time.time()
    progress = _progress_printer(sys.stderr)
    if args.jobs > 1 and len(checks) > 64:
        results = run_parallel(checks, kwargs, args.jobs, progress)
    else:
        results = engine.run_checks(checks, progress=progress)
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
            fh.write(render(mat, shown, fmt="markdown") + "\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({cid: {"status": st, "message": msg} for cid, (st, msg) in results.items()}, fh, indent=1)
    print(f"\n{n_pass} passed, {len(failed)} failed, {n_skip} skipped in {time.time() - t0:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
