"""Regression losses: values computed by hand and from formulas, the torch/Keras/scikit-learn
settings, the deliberate differences of docs/differences.md, errors."""
from __future__ import annotations

import numpy as np
import pytest

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
@needs_torch
@pytest.mark.parametrize("name,prob", [("huber_loss", False)])
def test_weighted_mean_divides_by_weight_sum(name, prob):
    ours, theirs = getattr(L, name), getattr(F, name)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, size=(6, 3)) if prob else rng.normal(size=(6, 3))
    y = rng.uniform(size=(6, 3))
    w = rng.uniform(0.1, 3.0, size=(6, 3))
    got = float(ours(x, y, weight=w))
    elementwise = theirs(_f64(x), _f64(y), reduction="none").numpy()
    assert got == pytest.approx(np.sum(w * elementwise) / np.sum(w), rel=1e-13)
    torch_value = theirs(_f64(x), _f64(y), weight=_f64(w)).item()
    assert torch_value == pytest.approx(np.mean(w * elementwise), rel=1e-13)
    assert abs(got - torch_value) > 1e-3  # the difference is real on these inputs
    # torch's convention is reachable: sum / numel
    assert float(ours(x, y, weight=w, reduction="sum")) / x.size == pytest.approx(torch_value, rel=1e-13)


@needs_torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_weighted_mse_and_l1_agree_with_torch(name):
    # torch's own mse_loss/l1_loss(weight=) divide by sum(weight) too
    ours, theirs = getattr(L, name), getattr(F, name)
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.uniform(0.1, 3.0, size=(6, 3))
    assert float(ours(x, y, weight=w)) == pytest.approx(theirs(_f64(x), _f64(y), weight=_f64(w)).item(), rel=1e-13)


@needs_torch
def test_smooth_l1_weight_and_keras_style_recipe():
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), rng.uniform(size=(4, 5))
    el = F.smooth_l1_loss(_f64(x), _f64(y), reduction="none", beta=0.5).numpy()
    assert float(L.smooth_l1_loss(x, y, beta=0.5, weight=w)) == pytest.approx((w * el).sum() / w.sum(), rel=1e-13)


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
