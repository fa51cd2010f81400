"""``python -m losses vendor DEST``: copy the library into a project as one folder.

The copy is ``DEST/losses/``: the loss functions and ``losses.backends`` (without the
conformance suite and the test harness), importable from wherever it is dropped, e.g. as
``myproject.third_party.losses`` (every import inside the package is relative). Its only
runtime dependency is ``array-api-compat``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

#: folders of the installed package that a vendored copy leaves out
EXCLUDED = ("conformance", "harness", "__pycache__")


def vendor(dest: str | Path, *, force: bool = False) -> Path:
    """Copy the package into ``dest/losses`` and return that path.

    Symlinks of a source checkout are followed, so the copy is plain files. An existing
    ``dest/losses`` is replaced only with ``force=True`` (``FileExistsError`` otherwise).
    """
    from . import __version__

    src = Path(__file__).resolve().parent
    target = Path(dest) / "losses"
    if target.exists():
        if not force:
            raise FileExistsError(f"{target} exists; pass --force to replace it")
        shutil.rmtree(target)
    shutil.copytree(src, target, symlinks=False, ignore=shutil.ignore_patterns(*EXCLUDED, "*.pyc", "__main__.py"))
    (target / "VENDORED.txt").write_text(
        f"losses {__version__}, vendored with `python -m losses vendor`.\n"
        "Runtime dependency: array-api-compat. Re-run the command to update this copy.\n"
    )
    return target


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m losses", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("vendor", help="copy the library (without the suite) into DEST/losses")
    v.add_argument("dest", help="folder to create losses/ in, e.g. myproject/third_party")
    v.add_argument("--force", action="store_true", help="replace an existing DEST/losses")
    args = p.parse_args(argv)
    try:
        target = vendor(args.dest, force=args.force)
    except FileExistsError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"vendored into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
