"""Packaging: one import package ``losses``, relocatable, typed.

The wheel is built from a copy of the working tree (so the checkout stays clean) with pip's
usual isolated build, as a user's ``pip install .`` would.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SKIP = shutil.ignore_patterns(".git", "build", "dist", ".venv", ".nox", "*.egg-info", "__pycache__",
                               ".pytest_cache", ".hypothesis", "docs", "benchmarks")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src") / "losses-src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_SKIP)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = out.glob("losses-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_installs_one_top_level_package(wheel_names):
    top = {n.split("/", 1)[0] for n in wheel_names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"losses"}, f"top-level entries of the wheel: {sorted(top)}"
    for required in ("losses/__init__.py", "losses/py.typed", "losses/backends/_core.py",
                     "losses/backends/torch.py", "losses/conformance/__main__.py",
                     "losses/conformance/engine.py", "losses/conformance/cases/regression.py"):
        assert required in wheel_names, f"{required} is missing from the wheel"
    # the unit tests are not part of the distribution
    assert not any(n.startswith("losses/tests") or "/test_" in n for n in wheel_names)


def test_metadata_declares_only_losses(wheel, wheel_names):
    (top_level,) = [n for n in wheel_names if n.endswith(".dist-info/top_level.txt")]
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(top_level).decode().split() == ["losses"]
