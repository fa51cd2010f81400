"""Bad inputs, one at a time, in a valid call of every public function.

The valid call is the function's first conformance case. Each kind below changes one thing
and runs the call eagerly on NumPy, PyTorch and JAX. An outcome is acceptable when it is

* a ``ValueError``/``TypeError`` whose message names the argument that was made bad
  (``\\bname\\b``), or for the kinds marked *loose* names some argument of the function, or
* for the kinds marked *may compute*, a result (the input is valid for that function, as
  in torch: broadcasting a 0-d argument, a list where torch takes one).

Anything else fails: an internal error (``IndexError``, ``RuntimeError``, ``AttributeError``,
an error that names no argument), or a result where an error is required. NaN, +-inf and
empty batches are the conformance suite's variants (every case, every backend, eager and
compiled), not repeated here.

Which arguments hold probabilities, class indices, signs or non-negative values is the
``DOMAINS`` table of each family's conformance case module; the ranges of hyper-parameters
are per name (``RANGES``: one name, one meaning, docs/vocabulary.md) with per-function
additions in the case modules' ``HYPER_RANGES``.
"""
from __future__ import annotations

import importlib
import inspect
import math
import re
import typing

import numpy as np
import pytest

import losses
from losses.backends.harness import harness
from losses.conformance.cases import all_cases

BACKENDS = [b for b in ("numpy", "torch", "jax") if importlib.util.find_spec(b) is not None]

# value domains of array arguments: the bad values injected (one element each)
DOMAIN_BAD = {
    "prob": (1.5, -0.5),        # probabilities / labels in [0, 1]
    "class": (10**6, -7),       # integer class indices (ignore_index aside)
    "nonneg": (-1.0,),          # >= 0: counts, variances, rates, weights
    "positive": (0.0, -1.0),    # > 0
    "pm1": (0.5,),              # labels in {-1, 1}
    "binary": (0.5,),           # labels in {0, 1}
}

# hyper-parameter ranges by name: the values that must be refused with an error naming it
RANGES = {
    "eps": (-1.0,),
    "temperature": (0.0, -1.0),
    "base_temperature": (0.0, -1.0),
    "gamma": (-1.0,),
    "label_smoothing": (-0.1, 1.5),
    "delta": (0.0, -1.0),
    "smooth": (-1.0,),
    "smooth_dr": (-1.0,),
    "axis": (7, -8),
    "blank": (-1,),
    "n": (0, -1),
    "clip_range": (-0.1,),
    "entropy_coef": (math.inf,),
    "value_coef": (math.inf,),
}

#: functions whose first case is not a valid "typical" call for these checks
SKIP = {"signed_distance_map", "boundary_distance_map"}  # NumPy/SciPy helpers with their own tests


def _tables():
    domains, ranges = {}, {}
    for family in losses.FAMILIES:
        module = importlib.import_module(f"losses.conformance.cases.{family}")
        domains.update(getattr(module, "DOMAINS", {}))
        ranges.update(getattr(module, "HYPER_RANGES", {}))
    return domains, ranges


DOMAINS, HYPER_RANGES = _tables()


def _first_cases():
    seen = {}
    for case in all_cases():
        seen.setdefault(case.loss_name, case)
    return [c for name, c in seen.items() if name not in SKIP]


CASES = _first_cases()


def _params(fn):
    return inspect.signature(fn).parameters


def _names_arg(exc, name) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", str(exc)) is not None


def _names_any(exc, fn) -> bool:
    return any(_names_arg(exc, p) for p in _params(fn))


def _convert(backend, arrays):
    ad = harness(backend)
    return {k: ad.asarray(v) if isinstance(v, np.ndarray) else v for k, v in arrays.items()}


def _call(case, backend, arrays, **kwargs):
    converted = _convert(backend, arrays)
    return case.loss(**converted, **{**case.kwargs, **kwargs})


def _outcome(case, backend, arrays, **kwargs):
    try:
        return "value", _call(case, backend, arrays, **kwargs)
    except (ValueError, TypeError) as e:
        return "error", e
    except Exception as e:  # noqa: BLE001 - an internal error is the finding
        return "internal", e


def _expect_error(case, backend, arrays, name, kind, /, *, loose=False, may_compute=False, **kwargs):
    what, got = _outcome(case, backend, arrays, **kwargs)
    label = f"{case.loss_name} ({kind}, {backend})"
    if what == "internal":
        raise AssertionError(f"{label}: internal error {type(got).__name__}: {got}")
    if what == "value":
        if may_compute:
            return
        raise AssertionError(f"{label}: returned a value; expected a ValueError/TypeError naming {name!r}")
    ok = _names_arg(got, name) or (loose and _names_any(got, case.loss))
    if not ok:
        raise AssertionError(f"{label}: {type(got).__name__} does not name {name!r}: {got}")


def _inputs(case):
    return case.gen(np.random.default_rng(0), 8)


def _array_args(case):
    return [k for k, v in _inputs(case).items() if isinstance(v, np.ndarray)]


def _items(kinds):
    out = []
    for case in CASES:
        for kind in kinds:
            for arg in kind[1](case):
                for backend in BACKENDS:
                    out.append(pytest.param(case, kind[0], arg, backend,
                                            id=f"{case.loss_name}-{kind[0]}-{arg}-{backend}"))
    return out


def _float_args(case):
    return [k for k, v in _inputs(case).items() if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating)]


def _int_args(case):
    return [k for k, v in _inputs(case).items() if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.integer)]


# ---------------------------------------------------------------------- array arguments ----
ARRAY_KINDS = [
    ("complex", _array_args),
    ("integer_input", lambda c: _float_args(c)[:1]),
    ("shape", _array_args),
    ("zero_d", _array_args),
    ("list", _array_args),
    ("domain", lambda c: [a for a in DOMAINS.get(c.loss_name, {}) if a in _inputs(c)]),
]


@pytest.mark.parametrize("case,kind,arg,backend", _items(ARRAY_KINDS))
def test_bad_array_argument(case, kind, arg, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    arrays = dict(_inputs(case))
    x = arrays[arg]
    if kind == "complex":
        # complex anywhere is a TypeError naming the argument, before any value check
        arrays[arg] = x.astype(np.complex128) + 1j
        _expect_error(case, backend, arrays, arg, kind)
    elif kind == "integer_input":
        arrays[arg] = np.round(x).astype(np.int64)
        _expect_error(case, backend, arrays, arg, kind, may_compute=True)
    elif kind == "shape":
        if x.ndim == 0:
            pytest.skip("0-d argument")
        arrays[arg] = np.concatenate([x, x[..., :1]], axis=-1)
        _expect_error(case, backend, arrays, arg, kind, loose=True, may_compute=True)
    elif kind == "zero_d":
        if x.size == 0:
            pytest.skip("empty argument")
        arrays[arg] = np.asarray(x.reshape(-1)[0])
        _expect_error(case, backend, arrays, arg, kind, loose=True, may_compute=True)
    elif kind == "list":
        arrays[arg] = x.tolist()
        _expect_error(case, backend, arrays, arg, kind, may_compute=True)
    elif kind == "domain":
        domain = DOMAINS[case.loss_name][arg]
        for bad in DOMAIN_BAD[domain]:
            y = np.array(x, copy=True)
            if np.issubdtype(y.dtype, np.integer) and not float(bad).is_integer():
                continue
            y.reshape(-1)[0] = bad
            _expect_error(case, backend, {**arrays, arg: y}, arg, f"{kind} {domain}={bad}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss_name)
def test_mixed_frameworks_are_refused(case):
    pytest.importorskip("torch")
    names = _array_args(case)
    if len(names) < 2:
        pytest.skip("one array argument")
    arrays = _inputs(case)
    mixed = {k: (harness("torch").asarray(v) if k == names[0] else v) for k, v in arrays.items()}
    with pytest.raises(TypeError, match="one framework"):
        case.loss(**mixed, **case.kwargs)


@pytest.mark.parametrize("case", [c for c in CASES if "reduction" in _params(c.loss)], ids=lambda c: c.loss_name)
@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_reduction(case, backend):
    _expect_error(case, backend, _inputs(case), "reduction", "reduction", reduction="avg")


# --------------------------------------------------------------------- hyper-parameters ----
def _hyper_items():
    out = []
    for case in CASES:
        hints = typing.get_type_hints(case.loss)
        for name, p in _params(case.loss).items():
            if p.kind is not p.KEYWORD_ONLY or name == "reduction" or p.default is None:
                continue
            if isinstance(p.default, (bool, int, float, str)):
                for backend in BACKENDS[:1] + (["torch"] if "torch" in BACKENDS else []):
                    out.append(pytest.param(case, name, p.default, hints.get(name), backend,
                                            id=f"{case.loss_name}-{name}-{backend}"))
    return out


def _bad_hyper_values(name, default, fname):
    """(value, must_fail) pairs for a hyper-parameter."""
    if isinstance(default, bool):
        return [(1, True), ("yes", True), (None, True)]
    if isinstance(default, str):
        return [("bogus", True), (7, True)]
    values = [("abc", True), (None, False), (True, True), (math.nan, True)]
    values += [(v, True) for v in RANGES.get(name, ())]
    values += [(v, True) for v in HYPER_RANGES.get(fname, {}).get(name, ())]
    if isinstance(default, int):
        values.append((1.5, True))
    return values


@pytest.mark.parametrize("case,name,default,hint,backend", _hyper_items())
def test_bad_hyper_parameter(case, name, default, hint, backend):
    arrays = _inputs(case)
    for value, must_fail in _bad_hyper_values(name, default, case.loss_name):
        _expect_error(case, backend, arrays, name, f"{name}={value!r}", may_compute=not must_fail, **{name: value})


def test_tables_name_real_arguments():
    for fname, table in DOMAINS.items():
        assert fname in losses.__all__, fname
        params = _params(getattr(losses, fname))
        for arg, domain in table.items():
            assert arg in params and domain in DOMAIN_BAD, (fname, arg, domain)
    for fname, table in HYPER_RANGES.items():
        params = _params(getattr(losses, fname))
        for arg in table:
            assert arg in params, (fname, arg)
