"""nox sessions: one test session per backend, the conformance matrix, lint.

torch is pinned through .ci/constraints.txt (the CPU wheel); an unpinned torch requirement
would pull the CUDA build.
"""
from __future__ import annotations

import shutil

import nox

nox.options.sessions = ["lint", "tests", "conformance"]
CONSTRAINTS = ("-c", ".ci/constraints.txt")
EXTRAS = {
    "numpy": "test",
    "torch": "test,torch",
    "jax": "test,jax,peers",
    "strict": "test",
    "dask": "test,dask",
    "cupy": "test,cupy",
}
BACKENDS = {
    "numpy": "numpy",
    "torch": "numpy,torch",
    "jax": "numpy,jax",
    "strict": "numpy,array_api_strict",
    "dask": "numpy,dask",
    "cupy": "numpy,cupy",
}


@nox.session
@nox.parametrize("backend", list(EXTRAS), ids=list(EXTRAS))
def tests(session, backend):
    """Unit tests and the conformance matrix restricted to one backend (plus the NumPy reference)."""
    if backend == "cupy" and shutil.which("nvidia-smi") is None:
        session.skip("CuPy needs a CUDA GPU; none on this machine")
    session.install(*CONSTRAINTS, "-e", f".[{EXTRAS[backend]}]")
    session.run("python", "-m", "pytest", "-n", "2", *session.posargs,
                env={"LOSSES_BACKENDS": BACKENDS[backend]})


@nox.session
def conformance(session):
    """``python -m losses.conformance`` over every backend installable here; writes the matrix."""
    session.install(*CONSTRAINTS, "-e", ".[dev]")
    session.run("python", "-m", "losses.conformance", "--markdown", "docs/conformance.md", *session.posargs)


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "losses", "backends", "conformance", "tests", "benchmarks", "noxfile.py")
