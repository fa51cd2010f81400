"""The conformance checks under pytest: the same checks as ``python -m losses.conformance``, one test each."""
from __future__ import annotations

import pytest

import losses
from losses.conformance import engine
from losses.conformance.cases import all_cases

_CHECKS = engine.build_checks(include_slow=True)


@pytest.mark.parametrize(
    "check",
    [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in _CHECKS],
)
def test_conformance(check):
    try:
        check.run()
    except engine.Skip as e:
        pytest.skip(str(e))


def test_every_public_loss_has_cases():
    covered = {c.loss_name for c in all_cases()}
    missing = [name for name in losses.__all__ if name not in covered]
    assert not missing, f"public functions without conformance cases: {missing}"


def test_case_ids_are_unique():
    ids = [c.id for c in all_cases()]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate case ids: {dupes}"


def test_cupy_backend_runs_the_matrix_where_a_gpu_exists():
    """CuPy is covered by the same checks as every backend when it is available; here it is
    only reported, since the CuPy checks need a CUDA GPU."""
    from losses import backends

    if "cupy" not in backends.available_backends():
        pytest.skip("CuPy is not installed or no CUDA GPU is present: the CuPy checks are not run")
    assert any(c.backend == "cupy" for c in _CHECKS)
