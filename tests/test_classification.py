"""Classification losses: values against formulas (hypothesis included), the deliberate
differences from torch/optax/torchvision of docs/differences.md, sequence targets."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import losses as L
from losses.conformance.cases._peers import torchvision_sigmoid_focal as _torchvision_focal

try:
    import torch

    F = torch.nn.functional
except ImportError:  # the comparisons with torch are skipped, the rest runs
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def _t(a):
    return torch.as_tensor(a, dtype=torch.float64)


# ------------------------------------------------------------------------ values by formula --
def test_cross_entropy_uniform_logits_is_log_c():
    z = np.zeros((3, 7))
    t = np.array([0, 3, 6])
    assert float(L.cross_entropy(z, t)) == pytest.approx(np.log(7), rel=1e-15)


def test_softmax_focal_against_formula_and_cross_entropy():
    rng = np.random.default_rng(2)
    z, t = rng.normal(size=(6, 4)) * 2, rng.integers(0, 4, size=6)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    lpt = logp[np.arange(6), t]
    want = np.mean(-0.25 * (1 - np.exp(lpt)) ** 2 * lpt)
    np.testing.assert_allclose(L.softmax_focal_loss(z, t, gamma=2.0, alpha=0.25), want, rtol=1e-13)
    np.testing.assert_allclose(L.softmax_focal_loss(z, t, gamma=0.0), L.cross_entropy(z, t), rtol=1e-14)


# ---------------------------------------------------------------- properties (hypothesis) ----
_logit = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (3, 4), elements=_logit), st.lists(st.integers(0, 3), min_size=3, max_size=3))
def test_cross_entropy_matches_log_softmax_formula_for_any_logits(z, t):
    t = np.array(t)
    m = z.max(axis=1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    want = -logp[np.arange(3), t].mean()
    got = float(L.cross_entropy(z, t))
    assert np.isfinite(got)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12 * max(1.0, np.abs(z).max()))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (5,), elements=_logit), arrays(np.float64, (5,), elements=st.floats(0, 1)))
def test_bce_with_logits_matches_stable_formula_for_any_logits(z, y):
    want = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    got = float(L.binary_cross_entropy_with_logits(z, y))
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


# ------------------------------------------------- differences from torch (docs/differences.md) --
@needs_torch
@pytest.mark.parametrize("name,prob", [("binary_cross_entropy", True), ("binary_cross_entropy_with_logits", False)])
def test_weighted_mean_divides_by_weight_sum(name, prob):
    ours, theirs = getattr(L, name), getattr(F, name)
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


@needs_torch
def test_optax_returns_nan_for_out_of_range_labels():
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    z, t = jnp.zeros((2, 3)), jnp.array([0, 3])
    assert np.isnan(np.asarray(optax.softmax_cross_entropy_with_integer_labels(z, t))[1])
    with pytest.raises(ValueError, match="class indices"):
        L.cross_entropy(z, t)
    with pytest.raises(IndexError):
        F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))


@needs_torch
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


@needs_torch
def test_kl_div_target_gradient_at_zero_is_finite():
    x = torch.log(torch.tensor([0.3, 0.7], dtype=torch.float64))
    t = torch.tensor([0.0, 0.5], dtype=torch.float64, requires_grad=True)
    ours, theirs = L.kl_div(x, t, reduction="sum"), F.kl_div(x, t, reduction="sum")
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-15)
    (g_ours,) = torch.autograd.grad(ours, t)
    (g_theirs,) = torch.autograd.grad(theirs, t)
    assert torch.isnan(g_theirs[0]) and g_ours[0].item() == pytest.approx(-x[0].item())
    assert g_ours[1].item() == pytest.approx(g_theirs[1].item(), rel=1e-14)


@needs_torch
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


# ------------------------------------------------------- sequence targets (cross_entropy) --
# Sequence targets (seq2seq teacher forcing) with cross_entropy: no reshape needed.
#
# Two layouts, both compared with ``torch.nn.functional.cross_entropy`` on float64 inputs
# (values and gradients to 1e-12):
#
# * torch's ``(N, C, L)`` logits with ``(N, L)`` targets (class axis 1, the default);
# * decoder output ``(B, L, V)`` with ``(B, L)`` targets via ``axis=-1`` (torch needs a
#   ``permute(0, 2, 1)`` or a ``reshape(-1, V)``).
#
# Padding positions hold ``ignore_index`` and are excluded from the mean's denominator.
PAD = -100


def _batch(rng, b=4, length=6, v=7, pad=PAD):
    logits = rng.normal(size=(b, length, v)) * 2
    tokens = rng.integers(0, v, size=(b, length))
    lengths = np.array([6, 3, 1, 5])[:b]
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = pad  # right padding
    return logits, tokens


def _grad(out, x):
    return torch.autograd.grad(out, x)[0].numpy()


def test_sequence_logits_axis_last_matches_permuted_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = torch.randn(2, 6, 11, dtype=torch.float64)  # (B, L, V)
    t = torch.randint(0, 11, (2, 6))
    t[:, -2:] = -100
    got = L.cross_entropy(z, t, axis=-1)
    want = F.cross_entropy(z.permute(0, 2, 1), t)
    assert abs(got - want).item() < 1e-12


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_blv_axis_last_matches_torch_permuted_and_reshaped(reduction):
    logits, tokens = _batch(np.random.default_rng(0))
    a = torch.tensor(logits, requires_grad=True)
    b = torch.tensor(logits, requires_grad=True)
    t = torch.tensor(tokens)
    ours = L.cross_entropy(a, t, axis=-1, ignore_index=PAD, reduction=reduction)
    theirs = F.cross_entropy(b.permute(0, 2, 1), t, ignore_index=PAD, reduction=reduction)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = torch.tensor(np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(ours.shape)))
    g_ours = _grad((ours * v).sum(), a)
    np.testing.assert_allclose(g_ours, _grad((theirs * v).sum(), b), rtol=1e-12, atol=1e-12)
    if reduction != "none":
        c = torch.tensor(logits, requires_grad=True)
        flat = F.cross_entropy(c.reshape(-1, logits.shape[-1]), t.reshape(-1), ignore_index=PAD, reduction=reduction)
        np.testing.assert_allclose(ours.item(), flat.item(), rtol=1e-12)
        np.testing.assert_allclose(g_ours / v.numpy(), _grad(flat, c), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ncl_layout_matches_torch(reduction):
    logits, tokens = _batch(np.random.default_rng(2))
    ncl = np.moveaxis(logits, -1, 1)  # (N, C, L)
    a = torch.tensor(ncl, requires_grad=True)
    b = torch.tensor(ncl, requires_grad=True)
    t = torch.tensor(tokens)
    ours = L.cross_entropy(a, t, ignore_index=PAD, reduction=reduction)
    theirs = F.cross_entropy(b, t, ignore_index=PAD, reduction=reduction)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = torch.tensor(np.random.default_rng(3).uniform(0.5, 1.5, size=tuple(ours.shape)))
    np.testing.assert_allclose(_grad((ours * v).sum(), a), _grad((theirs * v).sum(), b), rtol=1e-12, atol=1e-12)


def test_mean_divides_by_real_tokens_only():
    logits, tokens = _batch(np.random.default_rng(4))
    keep = tokens != PAD
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, np.where(keep, tokens, 0)[..., None], -1)[..., 0]
    want = nll[keep].sum() / keep.sum()  # per-token mean over real tokens (torch's rule)
    np.testing.assert_allclose(L.cross_entropy(logits, tokens, axis=-1, ignore_index=PAD), want, rtol=1e-13)
    none = L.cross_entropy(logits, tokens, axis=-1, ignore_index=PAD, reduction="none")
    np.testing.assert_array_equal(none[~keep], 0.0)


@needs_torch
def test_custom_pad_id_weights_and_label_smoothing():
    rng = np.random.default_rng(5)
    logits, tokens = _batch(rng, pad=0)  # pad token id 0 (a valid class id)
    w = rng.uniform(0.5, 2.0, size=(7,))
    a = torch.tensor(logits, requires_grad=True)
    b = torch.tensor(logits, requires_grad=True)
    t, wt = torch.tensor(tokens), torch.tensor(w)
    ours = L.cross_entropy(a, t, axis=-1, ignore_index=0, weight=wt, label_smoothing=0.1)
    theirs = F.cross_entropy(b.permute(0, 2, 1), t, ignore_index=0, weight=wt, label_smoothing=0.1)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(_grad(ours, a), _grad(theirs, b), rtol=1e-12, atol=1e-12)


@needs_torch
def test_all_padding_is_nan_with_zero_gradient():
    logits = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    t = torch.full((2, 3), PAD)
    out = L.cross_entropy(logits, t, axis=-1, ignore_index=PAD)
    assert torch.isnan(out) and torch.isnan(F.cross_entropy(logits.permute(0, 2, 1), t, ignore_index=PAD))
    g = torch.autograd.grad(out, logits)[0]
    assert torch.equal(g, torch.zeros_like(g))


def test_out_of_range_token_raises_but_padding_is_fine():
    logits = np.zeros((1, 3, 4))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\] \(or ignore_index=-100\)"):
        L.cross_entropy(logits, np.array([[1, 4, PAD]]), axis=-1)
    with pytest.raises(ValueError, match=r"target must have shape \(1, 3\)"):
        L.cross_entropy(logits, np.array([[1, 2]]), axis=-1)


@needs_torch
def test_jax_jit_sequence_loss():
    jax = pytest.importorskip("jax")
    logits, tokens = _batch(np.random.default_rng(6))
    f = jax.jit(jax.value_and_grad(lambda z, t: L.cross_entropy(z, t, axis=-1, ignore_index=PAD)))
    val, g = f(jax.numpy.asarray(logits), jax.numpy.asarray(tokens))
    a = torch.tensor(logits, requires_grad=True)
    ref = F.cross_entropy(a.permute(0, 2, 1), torch.tensor(tokens), ignore_index=PAD)
    np.testing.assert_allclose(float(val), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g), _grad(ref, a), rtol=1e-12, atol=1e-12)
