"""Each deliberate difference from torch/optax listed in docs/differences.md (core losses)."""
from __future__ import annotations

import numpy as np
import pytest

import losses as L
from losses.conformance.cases._peers import torchvision_sigmoid_focal as _torchvision_focal

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(a):
    return torch.as_tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("ours,theirs,prob", [
    (L.huber_loss, F.huber_loss, False),
    (L.binary_cross_entropy, F.binary_cross_entropy, True),
    (L.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, False),
])
def test_weighted_mean_divides_by_weight_sum(ours, theirs, prob):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, size=(6, 3)) if prob else rng.normal(size=(6, 3))
    y = rng.uniform(size=(6, 3))
    w = rng.uniform(0.1, 3.0, size=(6, 3))
    got = float(ours(x, y, weight=w))
    elementwise = theirs(_t(x), _t(y), reduction="none").numpy()
    assert got == pytest.approx(np.sum(w * elementwise) / np.sum(w), rel=1e-13)
    torch_value = theirs(_t(x), _t(y), weight=_t(w)).item()
    assert torch_value == pytest.approx(np.mean(w * elementwise), rel=1e-13)
    assert abs(got - torch_value) > 1e-3  # the difference is real on these inputs
    # torch's convention is reachable: sum / numel
    assert float(ours(x, y, weight=w, reduction="sum")) / x.size == pytest.approx(torch_value, rel=1e-13)


@pytest.mark.parametrize("ours,theirs", [(L.mse_loss, F.mse_loss), (L.l1_loss, F.l1_loss)])
def test_weighted_mse_and_l1_agree_with_torch(ours, theirs):
    # torch's own mse_loss/l1_loss(weight=) divide by sum(weight) too
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.uniform(0.1, 3.0, size=(6, 3))
    assert float(ours(x, y, weight=w)) == pytest.approx(theirs(_t(x), _t(y), weight=_t(w)).item(), rel=1e-13)


def test_smooth_l1_weight_and_keras_style_recipe():
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), rng.uniform(size=(4, 5))
    el = F.smooth_l1_loss(_t(x), _t(y), reduction="none", beta=0.5).numpy()
    assert float(L.smooth_l1_loss(x, y, beta=0.5, weight=w)) == pytest.approx((w * el).sum() / w.sum(), rel=1e-13)


def test_keras_style_last_axis_mean_recipe():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    per_row = np.mean(np.log(np.cosh(x - y)), axis=-1)  # keras.losses.log_cosh
    np.testing.assert_allclose(np.mean(L.log_cosh_loss(x, y, reduction="none"), axis=-1), per_row, rtol=1e-13)
    d = y - x
    pinball = np.mean(np.maximum(0.3 * d, -0.7 * d), axis=-1)  # TF-Addons pinball_loss(tau=0.3)
    np.testing.assert_allclose(np.mean(L.quantile_loss(x, y, q=0.3, reduction="none"), axis=-1), pinball, rtol=1e-13)


def test_optax_returns_nan_for_out_of_range_labels():
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    z, t = jnp.zeros((2, 3)), jnp.array([0, 3])
    assert np.isnan(np.asarray(optax.softmax_cross_entropy_with_integer_labels(z, t))[1])
    with pytest.raises(ValueError, match="class indices"):
        L.cross_entropy(z, t)
    with pytest.raises(IndexError):
        F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))


def test_bce_gradient_at_saturated_probabilities():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    ours = L.binary_cross_entropy(p, y, reduction="sum")
    theirs = F.binary_cross_entropy(p, y, reduction="sum")
    assert ours.item() == theirs.item() == 200.0
    (g_ours,) = torch.autograd.grad(ours, p)
    (g_theirs,) = torch.autograd.grad(theirs, p)
    # clamped logs (p=0,y=1 and p=1,y=0): derivative of the clamp, 0; torch: (p - y) / 1e-12.
    # p=0,y=0 and p=1,y=1: the exact one-sided derivative (1-y)/(1-p) = 1 and -y/p = -1;
    # torch: 0
    assert g_ours.tolist() == [0.0, 0.0, 1.0, -1.0]
    assert g_theirs[0].item() == pytest.approx(-1e12) and g_theirs[1].item() == pytest.approx(1e12)
    assert g_theirs[2:].tolist() == [0.0, 0.0]


def test_kl_div_target_gradient_at_zero_is_finite():
    x = torch.log(torch.tensor([0.3, 0.7], dtype=torch.float64))
    t = torch.tensor([0.0, 0.5], dtype=torch.float64, requires_grad=True)
    ours, theirs = L.kl_div(x, t, reduction="sum"), F.kl_div(x, t, reduction="sum")
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-15)
    (g_ours,) = torch.autograd.grad(ours, t)
    (g_theirs,) = torch.autograd.grad(theirs, t)
    assert torch.isnan(g_theirs[0]) and g_ours[0].item() == pytest.approx(-x[0].item())
    assert g_ours[1].item() == pytest.approx(g_theirs[1].item(), rel=1e-14)


def test_sigmoid_focal_defaults_and_finite_gamma_below_one():
    x = torch.randn(5, 3, dtype=torch.float64)
    y = (torch.rand(5, 3) > 0.5).to(torch.float64)
    assert L.sigmoid_focal_loss(x, y).ndim == 0
    assert L.sigmoid_focal_loss(x, y).item() == pytest.approx(_torchvision_focal(x, y).mean().item(), rel=1e-13)
    torch.testing.assert_close(L.sigmoid_focal_loss(x, y, reduction="none"), _torchvision_focal(x, y), rtol=1e-13, atol=0)
    xc = torch.tensor([30.0, -30.0, 1e4], requires_grad=True)
    yc = torch.tensor([1.0, 0.0, 1.0])
    (g_tv,) = torch.autograd.grad(_torchvision_focal(xc, yc, gamma=0.5).sum(), xc)
    (g,) = torch.autograd.grad(L.sigmoid_focal_loss(xc, yc, gamma=0.5, reduction="sum"), xc)
    assert torch.isnan(g_tv).any()
    assert torch.isfinite(g).all()
