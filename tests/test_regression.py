"""Regression losses: values computed by hand and from formulas, the torch/Keras/scikit-learn
settings, the deliberate differences of docs/differences.md, errors."""
from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

import losses
import losses as L

try:
    import torch

    F = torch.nn.functional
except ImportError:  # the comparisons with torch are skipped, the rest runs
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")

PRED = np.array([2.5, 0.0, 2.1, 7.8])
TRUE = np.array([3.0, -0.5, 2.0, 8.0])
RNG = np.random.default_rng(2024)


def _torch():
    return pytest.importorskip("torch")


def _t(a, grad=True):
    torch = _torch()
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _f64(a):
    return torch.as_tensor(a, dtype=torch.float64)


# --------------------------------------------------------------------- hand-computed values --
def test_regression_values_computed_by_hand():
    # d = [-0.5, 0.5, 0.1, -0.2]: MSE = (0.25 + 0.25 + 0.01 + 0.04) / 4, MAE = 1.3 / 4
    assert float(L.mse_loss(PRED, TRUE)) == pytest.approx(0.1375, abs=1e-15)
    assert float(L.l1_loss(PRED, TRUE)) == pytest.approx(0.325, abs=1e-15)


def test_huber_equals_smooth_l1_at_one_by_hand():
    # last prediction 10.0: d = [-0.5, 0.5, 0.1, 2.0] -> 0.125 + 0.125 + 0.005 + (2 - 0.5) = 1.755
    pred = PRED.copy()
    pred[-1] = 10.0
    h = float(L.huber_loss(pred, TRUE, delta=1.0))
    s = float(L.smooth_l1_loss(pred, TRUE, beta=1.0))
    assert h == pytest.approx(0.43875, abs=1e-15)
    assert s == pytest.approx(0.43875, abs=1e-15)
    # a widely copied tutorial prints 0.0825 / 0.2250 / 0.4125 for these inputs: wrong
    assert min(abs(h - v) for v in (0.0825, 0.2250, 0.4125)) > 0.02


def test_huber_is_delta_times_smooth_l1():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=20) * 3, rng.normal(size=20)
    for b in (0.3, 2.0):
        np.testing.assert_allclose(L.huber_loss(x, y, delta=b), b * L.smooth_l1_loss(x, y, beta=b), rtol=1e-14)


def test_quantile_and_log_cosh_against_formulas():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50), rng.normal(size=50)
    d = y - x
    np.testing.assert_allclose(L.quantile_loss(x, y, q=0.9), np.mean(np.maximum(0.9 * d, -0.1 * d)), rtol=1e-14)
    np.testing.assert_allclose(L.log_cosh_loss(x, y), np.mean(np.log(np.cosh(d))), rtol=1e-13)
    assert float(L.log_cosh_loss(np.array([1e4]), np.array([0.0]))) == pytest.approx(1e4 - np.log(2), rel=1e-15)


# ------------------------------------------------- differences from torch (docs/differences.md) --
def _grads(out, *xs):
    return [g.numpy() for g in torch.autograd.grad(out, xs)]


@needs_torch
@pytest.mark.parametrize("name,default", [("mse_loss", "weights"), ("l1_loss", "weights"), ("huber_loss", "elements")])
def test_weighted_mean_follows_the_twin(name, default):
    # the default reproduces torch's own weight= (torch 2.13: mse_loss/l1_loss divide by
    # sum(w), huber_loss by numel), values and gradients; the other rule is one keyword away
    ours, theirs = getattr(L, name), getattr(F, name)
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.uniform(0.1, 3.0, size=(6, 3))
    xa, xb, wa, wb = _t(x), _t(x), _t(w), _t(w)
    got, want = ours(xa, _t(y, False), weight=wa), theirs(xb, _t(y, False), weight=wb)
    assert got.item() == pytest.approx(want.item(), rel=1e-13)
    for g1, g2 in zip(_grads(got, xa, wa), _grads(want, xb, wb)):
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)
    elementwise = theirs(_f64(x), _f64(y), reduction="none").numpy()
    by_rule = {"weights": np.sum(w * elementwise) / np.sum(w), "elements": np.mean(w * elementwise)}
    assert want.item() == pytest.approx(by_rule[default], rel=1e-13)
    other = {"weights": "elements", "elements": "weights"}[default]
    assert float(ours(x, y, weight=w, mean_over=other)) == pytest.approx(by_rule[other], rel=1e-13)
    assert abs(by_rule["weights"] - by_rule["elements"]) > 1e-3  # the two rules differ here


@pytest.mark.parametrize("name", ["smooth_l1_loss", "log_cosh_loss", "quantile_loss", "asymmetric_mse_loss",
                                  "mean_squared_log_error", "mean_absolute_percentage_error"])
def test_weighted_mean_without_twin_divides_by_weight_sum(name):
    rng = np.random.default_rng(3)
    x, y, w = rng.uniform(0.1, 2, size=(5, 4)), rng.uniform(0.1, 2, size=(5, 4)), rng.uniform(0.1, 3, size=(5, 4))
    fn = getattr(L, name)
    el = np.asarray(fn(x, y, reduction="none"))
    assert float(fn(x, y, weight=w)) == pytest.approx(np.sum(w * el) / np.sum(w), rel=1e-13)
    assert float(fn(x, y, weight=w, mean_over="elements")) == pytest.approx(np.mean(w * el), rel=1e-13)
    # a Python number is a weight too: a constant weight leaves the mean unchanged
    assert float(fn(x, y, weight=2.0)) == pytest.approx(np.mean(el), rel=1e-13)
    with pytest.raises(ValueError, match="mean_over must be one of"):
        fn(x, y, weight=w, mean_over="numel")


@needs_torch
def test_smooth_l1_weight_and_keras_style_recipe():
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), rng.uniform(size=(4, 5))
    el = F.smooth_l1_loss(_f64(x), _f64(y), reduction="none", beta=0.5).numpy()
    assert float(L.smooth_l1_loss(x, y, beta=0.5, weight=w)) == pytest.approx((w * el).sum() / w.sum(), rel=1e-13)
    assert float(L.smooth_l1_loss(x, y, beta=0.5, weight=w, mean_over="elements")) == pytest.approx(
        (w * el).mean(), rel=1e-13)


def test_keras_style_last_axis_mean_recipe():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    per_row = np.mean(np.log(np.cosh(x - y)), axis=-1)  # keras.losses.log_cosh
    np.testing.assert_allclose(np.mean(L.log_cosh_loss(x, y, reduction="none"), axis=-1), per_row, rtol=1e-13)
    d = y - x
    pinball = np.mean(np.maximum(0.3 * d, -0.7 * d), axis=-1)  # TF-Addons pinball_loss(tau=0.3)
    np.testing.assert_allclose(np.mean(L.quantile_loss(x, y, q=0.3, reduction="none"), axis=-1), pinball, rtol=1e-13)


# ------------------------------------------------------------------ asymmetric_mse_loss
def test_asymmetric_mse_numpy_and_mse_setting():
    torch = _torch()
    x, y = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    d = x - y
    np.testing.assert_allclose(L.asymmetric_mse_loss(x, y, over_penalty=3.0, reduction="none"),
                               np.where(d > 0, 3.0, 1.0) * d * d, rtol=1e-15)
    a, b = _t(x), _t(x)
    ours, theirs = L.asymmetric_mse_loss(a, _t(y, False), over_penalty=1.0), torch.nn.functional.mse_loss(b, _t(y, False))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-14)
    np.testing.assert_allclose(torch.autograd.grad(ours, a)[0].numpy(), torch.autograd.grad(theirs, b)[0].numpy(),
                               rtol=1e-14)
    with pytest.raises(ValueError, match="over_penalty must be >= 0"):
        L.asymmetric_mse_loss(x, y, over_penalty=-1.0)


# ------------------------------------------------------------------ mean_squared_log_error
def _keras_msle(y_true, y_pred):
    eps = 1e-7
    return np.mean((np.log(np.maximum(y_pred, eps) + 1) - np.log(np.maximum(y_true, eps) + 1)) ** 2, axis=-1)


def test_msle_keras_and_default():
    x, y = RNG.normal(size=(5, 3)) * 2, RNG.normal(size=(5, 3)) * 2
    np.testing.assert_allclose(L.mean_squared_log_error(x, y, clip_min=1e-7, reduction="none").mean(-1),
                               _keras_msle(y, x), rtol=1e-13)
    xp, yp = np.abs(x), np.abs(y)
    np.testing.assert_allclose(L.mean_squared_log_error(xp, yp), np.mean((np.log1p(xp) - np.log1p(yp)) ** 2),
                               rtol=1e-14)
    with pytest.raises(ValueError, match="input must be > -1, got a minimum of -2.0"):
        L.mean_squared_log_error(np.array([-2.0, 1.0]), np.ones(2))
    with pytest.raises(ValueError, match="clip_min must be > -1"):
        L.mean_squared_log_error(xp, yp, clip_min=-1.0)


# ------------------------------------------------------------------ mean_absolute_percentage_error
def _keras_mape(y_true, y_pred):
    return 100.0 * np.mean(np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), 1e-7)), axis=-1)


def _sklearn_mape(y_true, y_pred):
    eps = np.finfo(np.float64).eps
    return np.mean(np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), eps))


def test_mape_keras_and_sklearn_settings():
    x, y = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    y[0, 0] = 0.0
    np.testing.assert_allclose(L.mean_absolute_percentage_error(x, y, reduction="none").mean(-1), _keras_mape(y, x),
                               rtol=1e-14)
    np.testing.assert_allclose(
        L.mean_absolute_percentage_error(x, y, eps=np.finfo(np.float64).eps, percent=False), _sklearn_mape(y, x),
        rtol=1e-14)
    with pytest.raises(ValueError, match="eps must be > 0"):
        L.mean_absolute_percentage_error(x, y, eps=0.0)
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.mean_absolute_percentage_error(x, y[:, :2])


def test_mape_subgradients_zero_at_kinks():
    torch = _torch()
    x, y = _t([1.0, 2.0]), _t([1.0, 0.0])
    g = torch.autograd.grad(L.mean_absolute_percentage_error(x, y, reduction="sum"), [x, y])
    np.testing.assert_allclose(g[0].numpy(), [0.0, 100.0 / 1e-7], rtol=1e-15)
    np.testing.assert_allclose(g[1].numpy(), [0.0, -100.0 / 1e-7], rtol=1e-15)


# ------------------------------------------------------------------ honest edges (issue 10)
_NAN_CALLS = {
    "mse_loss": {}, "l1_loss": {}, "huber_loss": {"delta": 0.5}, "smooth_l1_loss": {"beta": 0.5},
    "log_cosh_loss": {}, "quantile_loss": {"q": 0.3}, "asymmetric_mse_loss": {},
    "mean_squared_log_error": {"clip_min": 1e-7}, "mean_absolute_percentage_error": {},
}


@pytest.mark.parametrize("name", sorted(_NAN_CALLS))
@pytest.mark.parametrize("where", ["input", "target"])
def test_nan_goes_through_kinks_and_clips(name, where):
    # IEEE: every element that reads a NaN is NaN (torch's l1_loss([nan, 1, 2, 3], 0) is nan)
    x, y = np.array([np.nan, 1.0, 2.0, 3.0]), np.array([0.0, 0.5, 2.0, -1.0])
    if where == "target":
        x, y = np.array([0.0, 1.0, 2.0, 3.0]), np.array([np.nan, 0.5, 2.0, -1.0])
    fn = getattr(L, name)
    out = np.asarray(fn(x, y, reduction="none", **_NAN_CALLS[name]))
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
    assert np.isnan(float(fn(x, y, **_NAN_CALLS[name])))
    # a weight of 0 silences it (DESIGN rule 10)
    w = np.array([0.0, 1.0, 1.0, 1.0])
    assert np.isfinite(float(fn(x, y, weight=w, **_NAN_CALLS[name])))


@needs_torch
def test_nan_l1_and_msle_clip_match_torch_and_ieee():
    x = np.array([np.nan, 1.0, 2.0, 3.0])
    assert np.isnan(float(L.l1_loss(x, np.zeros(4)))) and torch.isnan(F.l1_loss(_f64(x), torch.zeros(4, dtype=torch.float64)))
    # the Keras clip max(v, 1e-7) of NaN is NaN (numpy.maximum's rule), not the floor
    keras = np.mean((np.log1p(np.maximum(x, 1e-7)) - np.log1p(np.maximum(np.ones(4), 1e-7))) ** 2)
    assert np.isnan(keras) and np.isnan(float(L.mean_squared_log_error(x, np.ones(4), clip_min=1e-7)))


def test_every_argument_dtype_is_checked_first():
    x = np.array([0.5, 1.0])
    for name in _NAN_CALLS:
        fn = getattr(L, name)
        with pytest.raises(TypeError, match=r"\btarget must have a real dtype"):
            fn(x, np.array([1 + 5j, 2j]))
        with pytest.raises(TypeError, match=r"\bweight must have a real dtype"):
            fn(x, x, weight=np.array([1 + 1j, 1.0]))
        with pytest.raises(TypeError, match=r"\btarget must be an array of a supported framework"):
            fn(x, [1.0, 2.0])
    # integer and bool targets are cast (the library's policy): the float64 formula
    assert float(L.mse_loss(x, np.array([1, 0]))) == pytest.approx(((0.5 - 1) ** 2 + 1.0) / 2, rel=1e-15)
    assert float(L.l1_loss(x, np.array([True, False]))) == pytest.approx(0.75, rel=1e-15)


@needs_torch
def test_complex_target_is_a_type_error_before_value_checks_on_torch():
    # torch's min() has no complex kernel: the dtype check must come before the value check
    x = torch.tensor([0.5, 1.0], dtype=torch.float64)
    with pytest.raises(TypeError, match=r"\btarget\b"):
        L.mean_squared_log_error(x, torch.tensor([1 + 1j, 2j]))
    with pytest.raises(TypeError, match=r"\binput must have a real floating dtype"):
        L.mean_squared_log_error(torch.tensor([1 + 1j, 2j]), x)


@pytest.mark.parametrize("name,kwargs,match", [
    ("huber_loss", {"delta": float("nan")}, "delta"), ("huber_loss", {"delta": float("inf")}, "delta"),
    ("smooth_l1_loss", {"beta": -1.0}, "beta"), ("smooth_l1_loss", {"beta": "1"}, "beta"),
    ("quantile_loss", {"q": 1.5}, "q"), ("quantile_loss", {"q": True}, "q"),
    ("asymmetric_mse_loss", {"over_penalty": float("nan")}, "over_penalty"),
    ("mean_squared_log_error", {"clip_min": float("inf")}, "clip_min"),
    ("mean_absolute_percentage_error", {"eps": -1.0}, "eps"),
    ("mean_absolute_percentage_error", {"percent": 1}, "percent"),
])
def test_hyper_parameters_are_checked(name, kwargs, match):
    x = np.array([0.5, 1.0])
    with pytest.raises((ValueError, TypeError), match=rf"\b{match}\b"):
        getattr(L, name)(x, x, **kwargs)


@pytest.mark.parametrize("name", sorted(_NAN_CALLS))
def test_empty_batch(name):
    fn, kw = getattr(L, name), _NAN_CALLS[name]
    e = np.zeros((0, 3))
    assert np.isnan(float(fn(e, e, **kw)))
    assert float(fn(e, e, reduction="sum", **kw)) == 0.0
    assert np.asarray(fn(e, e, reduction="none", **kw)).shape == (0, 3)
    assert np.isnan(float(fn(e, e, weight=e, **kw))) and np.isnan(float(fn(e, e, weight=e, mean_over="elements", **kw)))


@needs_torch
def test_mape_float16_at_1e4_computes_in_float32():
    # DESIGN rule 7: float16 is computed in float32 and only the result is cast back, so the
    # gradients are float32's rounded to float16 (finite wherever they fit float16)
    x = np.array([1e4, -1e4, 3e4, 2.0])
    y = np.array([5e3, 1e4, 2e4, 1e4])
    a = torch.tensor(x, dtype=torch.float16, requires_grad=True)
    b = torch.tensor(y, dtype=torch.float16, requires_grad=True)
    out = L.mean_absolute_percentage_error(a, b, reduction="sum")
    assert out.dtype == torch.float16
    ga, gb = torch.autograd.grad(out, [a, b])
    assert torch.isfinite(out) and torch.isfinite(ga).all() and torch.isfinite(gb).all()
    # the exact float64 derivatives, rounded to float16
    xh, yh = a.detach().double().numpy(), b.detach().double().numpy()
    want_x = 100 * np.sign(xh - yh) / np.abs(yh)
    want_y = 100 * (-np.sign(xh - yh) / np.abs(yh) - np.abs(xh - yh) * np.sign(yh) / yh**2)
    np.testing.assert_allclose(ga.double().numpy(), want_x.astype(np.float16), rtol=1e-3)
    np.testing.assert_allclose(gb.double().numpy(), want_y.astype(np.float16), rtol=1e-3)
    assert float(out) == pytest.approx(float(np.sum(100 * np.abs(xh - yh) / np.abs(yh))), rel=1e-3)


# -- torch's own kernels (backends/torch_losses/regression.py) --------------------------------
def _spy(name):
    """Count the calls of ``torch.nn.functional.<name>`` (the kernels look it up per call)."""
    import unittest.mock

    import torch.nn.functional as F

    return unittest.mock.patch.object(F, name, wraps=getattr(F, name))


@pytest.mark.parametrize("loss, twin, kw", [
    ("mse_loss", "mse_loss", {}),
    ("l1_loss", "l1_loss", {}),
    ("huber_loss", "huber_loss", {"delta": 0.7}),
    ("smooth_l1_loss", "smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", "l1_loss", {"beta": 0.0}),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_torch_kernel_is_used_and_matches_the_twin(loss, twin, kw, reduction):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    y = torch.randn(6, 5, dtype=torch.float64)
    with _spy(twin) as spy:
        out = getattr(L, loss)(x, y, reduction=reduction, **kw)
    assert spy.call_count == 1
    tkw = {"beta": kw["beta"]} if twin == "smooth_l1_loss" else {"delta": kw["delta"]} if kw.get("delta") else {}
    want = getattr(F, twin)(x, y, reduction=reduction, **tkw)
    torch.testing.assert_close(out, want)
    g, = torch.autograd.grad(out.sum(), x)
    gw, = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(g, gw)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_weighted_calls_use_the_element_kernel_under_the_library_reduction(loss):
    torch = pytest.importorskip("torch")

    x = torch.randn(4, 3, dtype=torch.float64)
    x[0, 0] = float("nan")
    y = torch.randn(4, 3, dtype=torch.float64)
    w = torch.rand(4, 3, dtype=torch.float64) + 0.1
    w[0, 0] = 0.0  # a zero weight silences the NaN (torch's weight= gives NaN)
    twin = "l1_loss" if loss == "l1_loss" else loss
    with _spy(twin) as spy:
        out = getattr(L, loss)(x, y, weight=w)
    assert spy.call_count == 1 and spy.call_args.kwargs["reduction"] == "none"
    with losses.backends.generic_paths():
        want = getattr(L, loss)(x, y, weight=w)
    assert torch.isfinite(out)
    torch.testing.assert_close(out, want)


def test_l1_subgradient_at_zero_and_nan_gradient_on_every_path():
    torch = pytest.importorskip("torch")

    x = torch.tensor([0.0, 1.0, float("nan")], dtype=torch.float64, requires_grad=True)
    y = torch.zeros(3, dtype=torch.float64)
    for generic in (False, True):
        ctx = losses.backends.generic_paths() if generic else contextlib.nullcontext()
        with ctx:
            g, = torch.autograd.grad(L.l1_loss(x, y, reduction="sum"), x)
        assert g[0] == 0 and g[1] == 1


def test_kink_helpers_torch_native_and_generic_agree_but_at_nan():
    torch = pytest.importorskip("torch")
    from losses import _common

    values = [-2.0, -0.0, 0.0, 3.0, math.nan]
    want = {"abs0": [-1, 0, 0, 1], "relu0": [0, 0, 0, 1], "relu1": [0, 1, 1, 1]}  # d/dx, finite x
    for name, grad in want.items():
        helper = getattr(_common, name)
        got = {}
        for ctx in (contextlib.nullcontext, L.backends.generic_paths):
            x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
            with ctx():
                y = helper(L.backends.namespace(x), x)
            (g,) = torch.autograd.grad(y.sum(), x)
            assert torch.isnan(y[-1]) and y[:-1].tolist() == [abs(v) if name == "abs0" else max(v, 0)
                                                              for v in values[:-1]]
            got[ctx] = g.tolist()
        native, generic = got[contextlib.nullcontext], got[L.backends.generic_paths]
        assert native[:-1] == generic[:-1] == grad, name
        assert native[-1] == (0.0 if name in ("abs0", "relu1") else 1.0) and generic[-1] == 1.0, name
