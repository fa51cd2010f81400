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
    # every module of the three source folders is in the wheel, under losses/
    for folder, prefix in (("losses", "losses"), ("backends", "losses/backends"), ("conformance", "losses/conformance")):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).as_posix()
            if "__pycache__" in rel or (folder == "losses" and rel.split("/")[0] in ("backends", "conformance")):
                continue
            assert f"{prefix}/{rel}" in wheel_names, f"{prefix}/{rel} is missing from the wheel"
    # the unit tests are not part of the distribution
    assert not any(n.startswith("losses/tests") or "/test_" in n for n in wheel_names)


def test_metadata_declares_only_losses(wheel, wheel_names):
    (top_level,) = [n for n in wheel_names if n.endswith(".dist-info/top_level.txt")]
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(top_level).decode().split() == ["losses"]


# ------------------------------------------------------------------------------ vendoring ----
def _minimal_site(tmp_path, *modules):
    """A folder holding only ``modules`` (links into this environment's site-packages)."""
    import importlib.util

    site = tmp_path / "site"
    site.mkdir()
    for name in modules:
        origin = Path(importlib.util.find_spec(name).origin).parent
        (site / name).symlink_to(origin, target_is_directory=True)
        libs = origin.parent / f"{name}.libs"  # manylinux wheels keep shared libraries beside
        if libs.is_dir():
            (site / libs.name).symlink_to(libs, target_is_directory=True)
    return site


_RESEARCH_REPO_CHECK = r'''
import sys
import numpy as np
import myproject.third_party.losses as L

# the repo's own top-level losses.py and backends/ are untouched and still what they were
import losses, backends
assert losses.__file__.endswith("losses.py") and losses.MINE, losses.__file__
assert backends.MINE
assert L.__name__ == "myproject.third_party.losses"
assert L.backends.__name__ == "myproject.third_party.losses.backends"

x = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
t = np.array([0, 2])
want = np.mean([np.log(np.exp(r).sum()) - r[k] for r, k in zip(x, t)])
assert abs(float(L.cross_entropy(x, t)) - want) < 1e-12
assert abs(float(L.mse_loss(x, np.zeros_like(x))) - np.mean(x ** 2)) < 1e-12
assert not any(m.split(".")[0] in ("torch", "jax", "dask", "scipy") for m in sys.modules)
assert not hasattr(L, "conformance")
print("ok")
'''


def test_vendored_copy_imports_from_anywhere_beside_the_projects_own_names(tmp_path):
    repo = tmp_path / "research"
    third = repo / "myproject" / "third_party"
    third.mkdir(parents=True)
    for pkg in (repo / "myproject", third):
        (pkg / "__init__.py").write_text("")
    (repo / "losses.py").write_text("MINE = True\n")
    (repo / "backends").mkdir()
    (repo / "backends" / "__init__.py").write_text("MINE = True\n")

    proc = subprocess.run([sys.executable, "-m", "losses", "vendor", str(third)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    copied = third / "losses"
    assert (copied / "__init__.py").is_file() and (copied / "backends" / "_core.py").is_file()
    assert not (copied / "conformance").exists() and not (copied / "backends" / "harness").exists()
    assert not any(p.is_symlink() for p in copied.rglob("*"))
    # a second run refuses to overwrite without --force
    again = subprocess.run([sys.executable, "-m", "losses", "vendor", str(third)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert again.returncode == 1 and "--force" in again.stderr

    # only numpy and array-api-compat importable: no site-packages (-S), no installed losses
    site = _minimal_site(tmp_path, "numpy", "array_api_compat")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-S", "-c", _RESEARCH_REPO_CHECK],
                         capture_output=True, text=True, cwd=repo, env=env, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]


# ---------------------------------------------------------------- framework imports ----
_TORCH_WITHOUT_NUMPY = r'''
import sys

class _NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ModuleNotFoundError("numpy is not installed", name=name)
        return None

sys.meta_path.insert(0, _NoNumpy())
import warnings
warnings.simplefilter("ignore")
import torch
import losses

x = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]], requires_grad=True)
t = torch.tensor([0, 2])
loss = losses.cross_entropy(x, t) + losses.mse_loss(x, torch.zeros(2, 3)) + losses.dice_loss(x, t)
loss.backward()
assert torch.isfinite(loss) and x.grad is not None
assert "numpy" not in sys.modules
print("ok")
'''


def test_a_torch_call_needs_no_numpy(tmp_path):
    """The runtime side of the torch backend imports no NumPy (only the test harness does)."""
    pytest.importorskip("torch")
    proc = subprocess.run([sys.executable, "-c", _TORCH_WITHOUT_NUMPY], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


# ------------------------------------------------------------------------- type checker ----
_USER_SCRIPT = '''
import numpy as np
import losses

x = np.zeros((4, 3))
t = np.zeros(4, dtype=np.int64)
out = losses.cross_entropy(x, t, label_smoothing=0.1)
reveal_type(out)
reveal_type(losses.cross_entropy)
losses.cross_entropy(x, t, label_smothing=0.1)
losses.mse_loss(x, x, reduction="avg")
'''

_MYPY_INI = '''
[mypy]
cache_dir = {cache}
# the frameworks' own stubs are large and beside the point here
[mypy-torch.*,jax.*,jaxlib.*,dask.*,cupy.*,array_api_strict.*,optax.*,scipy.*]
follow_imports = skip
'''


def test_type_checker_sees_the_signatures(tmp_path):
    """mypy on a user's script outside the repository, through the installed package: the
    signature of ``losses.cross_entropy`` is seen, the result is typed by the input's array
    type, and a misspelt keyword and a bad reduction are reported."""
    pytest.importorskip("mypy")
    (tmp_path / "user.py").write_text(_USER_SCRIPT)
    (tmp_path / "mypy.ini").write_text(_MYPY_INI.format(cache=tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "user.py"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert 'user.py:8: note: Revealed type is "numpy.ndarray' in out, out
    sig = next(line for line in out.splitlines() if line.startswith("user.py:9:"))
    sig = sig.replace("builtins.", "").replace('"', "'")  # mypy versions print types differently
    for fragment in ("(input: ", "target: ", "label_smoothing: float =", "ignore_index: int =", "reduction: "):
        assert fragment in sig, (fragment, sig)
    assert all(f"Literal['{r}']" in sig for r in ("mean", "sum", "none")), sig
    assert 'user.py:10: error: Unexpected keyword argument "label_smothing"' in out, out
    assert "user.py:11: error: Argument \"reduction\"" in out, out
