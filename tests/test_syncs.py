"""Host reads per eager call: at most one (the folded value checks), none with checks off.

A host read is a device-to-host copy of a value (``bool(t)``, ``int(t)``, ``float(t)``,
``t.item()``): on a GPU each one waits for every queued kernel. torch routes every one of
them through ``aten._local_scalar_dense``, which a dispatch mode counts.
"""
from __future__ import annotations

import numpy as np
import pytest

import losses
from losses.conformance.cases import all_cases

torch = pytest.importorskip("torch")
from losses.backends.harness import harness  # noqa: E402

_HARNESS = harness("torch")


def _first_cases():
    seen = {}
    for case in all_cases():
        if case.backends is None or "torch" in case.backends:
            seen.setdefault(case.loss_name, case)
    return list(seen.values())


def _torch_args(case):
    rng = np.random.default_rng(0)
    out = {}
    for k, v in case.gen(rng, 8).items():
        out[k] = torch.from_numpy(np.array(v, order="C")) if isinstance(v, np.ndarray) else v  # 0-d stays 0-d
    return out


def _reads(case, **flags):
    args = _torch_args(case)
    case.loss(**args, **case.kwargs)  # warm caches (namespaces, imports)
    return _HARNESS.host_reads(lambda: case.loss(**args, **case.kwargs))[1]


@pytest.mark.parametrize("case", _first_cases(), ids=lambda c: c.loss_name)
def test_at_most_one_host_read_per_call(case):
    assert _reads(case) <= 1, f"{case.id}: {_reads(case)} host reads in one eager call"


@pytest.mark.parametrize("case", _first_cases(), ids=lambda c: c.loss_name)
def test_no_host_read_with_value_checks_off(case):
    with losses.value_checks(False):
        n = _reads(case)
    assert n == 0, f"{case.id}: {n} host reads with value checks off"


def test_the_folded_checks_still_refuse_bad_values():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="target must hold class indices in \\[0, 2\\]"):
        losses.cross_entropy(x, torch.tensor([0, 1, 2, 5]))
    with losses.value_checks(False), pytest.raises((IndexError, RuntimeError)):
        losses.cross_entropy(x, torch.tensor([0, 1, 2, 5]))  # unchecked: torch's own error


def test_value_checks_switch_is_scoped_and_typed():
    with losses.value_checks(False):
        with losses.value_checks(True):
            with pytest.raises(ValueError):
                losses.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))
        losses.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([1.0]))
    with pytest.raises(ValueError):
        losses.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))
    with pytest.raises(TypeError, match="enabled must be a bool"):
        with losses.value_checks("no"):
            pass
