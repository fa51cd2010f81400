"""nox sessions: one test session per backend, the conformance matrix, lint, the docs site.

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
    session.run("ruff", "check", "losses", "backends", "conformance", "tests", "benchmarks", "noxfile.py",
                "docs/make_plots.py", "docs/_site")


@nox.session
def docs(session):
    """The docs site (mkdocs.yml) built into site/ with warnings as errors, then its pages checked.

    The API pages of docs/api/ must match their families' ``__all__`` (``python
    docs/_site/make_api.py`` rewrites them). ``python -m mkdocs serve`` previews the site.
    """
    session.install(*CONSTRAINTS, "-e", ".[site]", "pytest>=8", "numpy>=1.26")
    session.run("python", "docs/_site/make_api.py", "--check")
    session.run("python", "-m", "mkdocs", "build", "--strict", *session.posargs)
    session.run("python", "-m", "pytest", "-q", "tests/test_site.py", env={"LOSSES_SITE_DIR": "site"})
