"""Host reads per eager call: at most one (the folded value checks), none with checks off.

A host read is a device-to-host copy of a value (``bool(t)``, ``int(t)``, ``float(t)``,
``t.item()``): on a GPU each one waits for every queued kernel. torch routes every one of
them through ``aten._local_scalar_dense``, which a dispatch mode counts.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import losses
from losses.conformance.cases import all_cases

torch = pytest.importorskip("torch")
from losses import _validate, backends  # noqa: E402
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


_BAD_TARGETS = [
    ("in range", [0.0, 0.25, 1.0], None),
    ("a NaN", [0.0, float("nan"), 1.0], "got a NaN"),
    ("above", [0.0, 0.5, 1.5], r"got values in \[0.0, 1.5\]"),
    ("below", [-0.5, 0.5, 1.0], r"got values in \[-0.5, 1.0\]"),
    ("-inf", [float("-inf"), 0.5, 1.0], r"got values in \[-inf, 1.0\]"),
]


@pytest.mark.parametrize("what, target, error", _BAD_TARGETS, ids=[b[0] for b in _BAD_TARGETS])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_one_check_read_as_values_and_several_as_flags_refuse_alike(what, target, error, dtype):
    # one check in the call (the target of binary_cross_entropy_with_logits), two
    # (binary_cross_entropy: input and target, read together) and a helper outside a public
    # call all read the min and max and test them on the host: each must refuse exactly the
    # same values
    dt = getattr(torch, dtype)
    t = torch.tensor(target, dtype=dt)
    x = torch.tensor([0.3, -1.0, 2.0], dtype=dt)
    p = torch.tensor([0.2, 0.5, 0.9], dtype=dt)
    calls = {"one check": lambda: losses.binary_cross_entropy_with_logits(x, t),
             "two checks": lambda: losses.binary_cross_entropy(p, t),
             "outside a call": lambda: _validate.values_in(backends.namespace(t), t, "target", 0, 1)}
    for label, call in calls.items():
        if error is None:
            assert _HARNESS.host_reads(call)[1] <= 1, label
        else:
            with pytest.raises(ValueError, match=r"target must hold .*" + error):
                call()


@pytest.mark.parametrize("target, bad", [([0, 2, 1], False), ([0, 3, 1], True), ([-1, 0, 1], True),
                                         ([0, 2**40, 1], True)])
def test_class_index_check_read_as_values(target, bad):
    x = torch.randn(3, 3)
    call = lambda: losses.cross_entropy(x, torch.tensor(target))  # noqa: E731
    if bad:
        with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 2\]"):
            call()
    else:
        out, reads = _HARNESS.host_reads(call)
        assert reads <= 1
        x64 = x.double().numpy()
        want = np.mean(np.log(np.exp(x64).sum(1)) - x64[np.arange(3), target])  # float64 formula
        np.testing.assert_allclose(float(out), want, rtol=1e-5)


@pytest.mark.parametrize("target, first_bad", [
    ([1.0, -1.0, 1.0], None), ([-1.0, -1.0, -1.0], None), ([1.0, 0.0, -1.0], 0.0),
    ([1.0, float("nan"), -1.0], "nan"), ([1.0, 1.0000001, -1.0], 1.0000001), ([2.0, -1.0, 1.0], 2.0),
    ([-2.0, 2.0, 1.0], -2.0), ([1.0, -1.0, float("inf")], "inf")])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_plus_minus_one_targets_checked_through_their_absolute_values(target, first_bad, dtype):
    # {-1, 1} is checked as min |t| = max |t| = 1; the message still names the first bad value
    if dtype == "int64" and (first_bad in ("nan", "inf") or first_bad not in (None, 0.0, 2.0, -2.0)):
        pytest.skip("not an integer")
    t = torch.tensor(target, dtype=getattr(torch, dtype))
    a, b = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64), torch.tensor([0.1, 0.5, 2.5], dtype=torch.float64)
    call = lambda: losses.margin_ranking_loss(a, b, t, margin=0.1)  # noqa: E731
    if first_bad is None:
        out, reads = _HARNESS.host_reads(call)
        assert reads <= 1
        want = np.mean(np.maximum(0.0, -np.asarray(target) * (a.numpy() - b.numpy()) + 0.1))
        np.testing.assert_allclose(float(out), want, rtol=1e-12)
    else:
        got = "nan" if first_bad == "nan" else "inf" if first_bad == "inf" else repr(
            float(torch.tensor(first_bad, dtype=t.dtype if t.is_floating_point() else torch.float64)))
        with pytest.raises(ValueError, match=r"target must hold only the values \(-1, 1\), got " + got):
            call()


_SARSA_BAD = [
    ("valid", {}, None),
    ("a_tm1 above", {"a_tm1": [0, 3, 1]}, r"a_tm1 must hold class indices in \[0, 2\]"),
    ("a_t below", {"a_t": [0, -1, 1]}, r"a_t must hold class indices in \[0, 2\]"),
    ("a_t past 2**53", {"a_t": [0, 2**53 + 1, 1]}, r"a_t must hold class indices"),
    ("a_t at int64 max", {"a_t": [0, 2**63 - 1, 1]}, r"a_t must hold class indices"),
    ("discount above", {"discount_t": [0.5, 1.01, 0.0]}, r"discount_t must hold .*got values in"),
    ("discount NaN", {"discount_t": [0.5, float("nan"), 0.0]}, r"discount_t must hold .*NaN"),
    ("both: the first recorded wins", {"discount_t": [2.0, 0.5, 0.5], "a_t": [5, 0, 0]}, r"discount_t must hold"),
]


@pytest.mark.parametrize("what, bad, error", _SARSA_BAD, ids=[b[0] for b in _SARSA_BAD])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_checks_of_several_dtypes_are_read_together_and_refuse_alike(what, bad, error, dtype):
    # sarsa_loss checks a float array (discount_t) and two integer ones (a_tm1, a_t): their
    # minima and maxima are read in one host read (as float64) and each check tests its own
    dt = getattr(torch, dtype)
    args = {"q_tm1": torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 1.0]], dtype=dt),
            "a_tm1": [0, 2, 1], "r_t": torch.tensor([1.0, 0.0, -1.0], dtype=dt), "discount_t": [0.5, 0.9, 0.0],
            "q_t": torch.tensor([[0.5, 1.0, 2.0], [1.0, 1.0, 1.0], [3.0, 0.0, 0.0]], dtype=dt), "a_t": [2, 0, 1]}
    args.update(bad)
    for k in ("a_tm1", "a_t"):
        args[k] = torch.tensor(args[k], dtype=torch.int64)
    args["discount_t"] = torch.tensor(args["discount_t"], dtype=dt)
    call = lambda: losses.sarsa_loss(**args)  # noqa: E731
    if error is None:
        out, reads = _HARNESS.host_reads(call)
        assert reads == 1
        q, qn = args["q_tm1"].double().numpy(), args["q_t"].double().numpy()
        r, g = args["r_t"].double().numpy(), args["discount_t"].double().numpy()
        rows = np.arange(3)
        td = r + g * qn[rows, args["a_t"].numpy()] - q[rows, args["a_tm1"].numpy()]
        np.testing.assert_allclose(float(out), np.mean(td ** 2), rtol=1e-2 if dtype == "bfloat16" else 1e-6)
    else:
        with pytest.raises(ValueError, match=error):
            call()


def test_value_checks_read_values_without_autograd_warnings():
    # a checked argument that requires grad (a learned variance) is read detached: torch warns
    # when a tensor that requires grad is converted to a Python number
    import warnings

    x, y = torch.randn(8, 3), torch.randn(8, 3)
    var = torch.rand(8, 3).add_(0.1).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = losses.gaussian_nll_loss(x, y, var)
    want = 0.5 * torch.mean(torch.log(var.detach().double()) + (x - y).double() ** 2 / var.detach().double())
    assert abs(float(loss.detach()) - float(want)) < 1e-5
    loss.backward()
    assert var.grad is not None and bool(torch.isfinite(var.grad).all())


@pytest.mark.parametrize("paths", ["native", "generic"])
@pytest.mark.parametrize("bad", [None, "a_t", "discount_t"])
def test_checks_of_several_dtypes_fall_back_to_flags_without_float64(monkeypatch, bad, paths):
    # a device without float64 (Apple MPS) cannot join integer and float values in one array:
    # every check then contributes its boolean flag, still in one read
    import contextlib

    a_t = torch.tensor([2, 0, 7 if bad == "a_t" else 1])
    g = torch.tensor([0.5, 0.9, 1.5 if bad == "discount_t" else 0.0])
    if paths == "generic":
        xp = backends.generic_namespace("torch")
        astype = xp.astype

        def no_float64(x, dtype, *args, **kwargs):
            if dtype == torch.float64:
                raise TypeError("float64 is not supported on this device")
            return astype(x, dtype, *args, **kwargs)

        monkeypatch.setattr(xp, "astype", no_float64)
        scope = backends.generic_paths
    else:
        zeros = torch.zeros

        def no_float64(*args, dtype=None, **kwargs):
            if dtype == torch.float64:
                raise TypeError("float64 is not supported on this device")
            return zeros(*args, dtype=dtype, **kwargs)

        monkeypatch.setattr(torch, "zeros", no_float64)
        from losses.backends import torch as torch_backend

        monkeypatch.setattr(torch_backend, "_F64_ZEROS", {})  # no float64 zero made before
        scope = contextlib.nullcontext
    q = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 1.0]])
    call = lambda: losses.sarsa_loss(q, torch.tensor([0, 2, 1]), 0.0, g, q, a_t)  # noqa: E731
    with scope():
        if bad is None:
            out, reads = _HARNESS.host_reads(call)
            assert reads == 1
            rows = torch.arange(3)
            td = g.double() * q.double()[rows, a_t] - q.double()[rows, torch.tensor([0, 2, 1])]
            assert abs(float(out) - float(torch.mean(td ** 2))) < 1e-5
        else:
            with pytest.raises(ValueError, match=f"{bad} must hold"):
                call()


def test_cpu_values_are_read_in_place_as_a_transfer_would_read_them():
    # on the CPU each value is read where it lies (no transfer to wait for); a device reads
    # them in one promoted stack: the same numbers either way, NaN and large integers included
    from losses.backends import torch as torch_backend

    x = torch.tensor([0.25, float("nan"), -3.5], requires_grad=True)
    idx = torch.tensor([2**40 + 1, -7])
    values = [torch.max(x.detach()), torch.min(x[::2]), idx[0], idx[1], x[0] > 0, torch.sum(x[::2])]
    xp = backends.namespace(x=x)
    in_place = xp.host_scalars(values)
    with torch_backend.transfer_reads():
        stacked = xp.host_scalars(values)
    want = [float("nan"), -3.5, 2**40 + 1, -7, True, -3.25]
    for got in (in_place, stacked):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert (math.isnan(g) and math.isnan(w)) or g == w, (got, want)
    assert [type(v) for v in in_place] == [float, float, int, int, bool, float]
    # and a call's checks are still one read of one kind or the other, never a mix
    _, reads = _HARNESS.host_reads(lambda: xp.host_scalars(values))
    assert reads == 1


@pytest.mark.parametrize("bad", ["a_tm1", "a_t", "a_tm1-negative", "a_t-negative"])
def test_actions_checked_by_the_gather_are_still_explained(bad):
    # on the CPU the Q family's action checks wait for torch's gather to refuse an index: a
    # good call reads only its discount check, a bad index still gets the library's message
    # (negative ones included), and with value checks off torch's own error (never a number)
    q = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 1.0], [0.5, 0.5, 0.5]], requires_grad=True)
    g = torch.tensor([0.5, 0.9, 1.0, 0.0])
    a_tm1, a_t = torch.tensor([0, 2, 1, 1]), torch.tensor([2, 0, 1, 2])
    ns = backends.namespace(q)
    assert ns.gathers_checked(q) and not backends.generic_namespace("torch").gathers_checked(q)
    out, reads = _HARNESS.host_reads(lambda: losses.sarsa_loss(q, a_tm1, 0.5, g, q, a_t))
    assert reads == 1
    rows = torch.arange(4)
    qd = q.detach().double()
    want = torch.mean((0.5 + g.double() * qd[rows, a_t] - qd[rows, a_tm1]) ** 2)
    assert abs(float(out.detach()) - float(want)) < 1e-6
    name = bad.partition("-")[0]
    wrong = torch.tensor([0, -1, 1, 1]) if bad.endswith("negative") else torch.tensor([0, 3, 1, 1])
    args = {"a_tm1": a_tm1, "a_t": a_t, name: wrong}
    with pytest.raises(ValueError, match=rf"{name} must hold class indices in \[0, 2\]"):
        losses.sarsa_loss(q, args["a_tm1"], 0.5, g, q, args["a_t"])
    with losses.value_checks(False), pytest.raises((IndexError, RuntimeError), match="out of bounds"):
        losses.sarsa_loss(q, args["a_tm1"], 0.5, g, q, args["a_t"])
    # a failing earlier check of the same call is the one reported (the call's checks in order)
    with pytest.raises(ValueError, match=r"discount_t must hold values in \[0, 1\]"):
        losses.sarsa_loss(q, args["a_tm1"], 0.5, g + 1.5, q, args["a_t"])
