"""Classification losses: values against formulas (hypothesis included), the deliberate
differences from torch/optax/torchvision of docs/differences.md, sequence targets."""
from __future__ import annotations

import math

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
def _grads(out, *xs):
    return [g.numpy() for g in torch.autograd.grad(out, xs)]


def _leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@needs_torch
@pytest.mark.parametrize("name,prob", [("binary_cross_entropy", True), ("binary_cross_entropy_with_logits", False)])
def test_weighted_mean_follows_the_twin(name, prob):
    # default mean_over="elements": torch's own weight= (sum(w l) / numel), values and
    # gradients; mean_over="weights" is sum(w l) / sum(w)
    ours, theirs = getattr(L, name), getattr(F, name)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, size=(6, 3)) if prob else rng.normal(size=(6, 3))
    y = rng.uniform(size=(6, 3))
    w = rng.uniform(0.1, 3.0, size=(6, 3))
    xa, xb, wa = _leaf(x), _leaf(x), _leaf(w)
    got, want = ours(xa, _t(y), weight=wa), theirs(xb, _t(y), weight=_t(w))
    assert got.item() == pytest.approx(want.item(), rel=1e-13)
    g_ours, g_w = _grads(got, xa, wa)
    np.testing.assert_allclose(g_ours, _grads(want, xb)[0], rtol=1e-12, atol=1e-15)
    elementwise = theirs(_t(x), _t(y), reduction="none").numpy()
    assert want.item() == pytest.approx(np.mean(w * elementwise), rel=1e-13)
    np.testing.assert_allclose(g_w, elementwise / x.size, rtol=1e-12)  # torch has no d/dweight
    by_weights = float(ours(x, y, weight=w, mean_over="weights"))
    assert by_weights == pytest.approx(np.sum(w * elementwise) / np.sum(w), rel=1e-13)
    assert abs(by_weights - want.item()) > 1e-3  # the two rules differ on these inputs
    # a (C,) weight broadcast over the batch: torch's numel is the input's
    wc = rng.uniform(0.1, 3.0, size=(3,))
    assert float(ours(x, y, weight=wc)) == pytest.approx(theirs(_t(x), _t(y), weight=_t(wc)).item(), rel=1e-13)


@needs_torch
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "softmax_focal_loss"])
def test_class_weighted_mean_over(name):
    # default "weights" = torch's cross_entropy/nll_loss(weight=); "elements" = sum / N (every
    # position, ignored ones included)
    rng = np.random.default_rng(4)
    z = rng.normal(size=(7, 4)) * 2
    if name == "nll_loss":
        z = z - np.log(np.exp(z).sum(1, keepdims=True))
    t = rng.integers(0, 4, size=(7,))
    t[2] = -100
    w = rng.uniform(0.2, 2.0, size=(4,))
    kw = {"gamma": 0.0} if name == "softmax_focal_loss" else {}
    twin = F.nll_loss if name == "nll_loss" else F.cross_entropy
    ours = getattr(L, name)
    a, b = _leaf(z), _leaf(z)
    got = ours(a, torch.tensor(t), weight=_t(w), **kw)
    want = twin(b, torch.tensor(t), weight=_t(w))
    assert got.item() == pytest.approx(want.item(), rel=1e-13)
    np.testing.assert_allclose(_grads(got, a)[0], _grads(want, b)[0], rtol=1e-12, atol=1e-15)
    total = twin(_t(z), torch.tensor(t), weight=_t(w), reduction="sum").item()
    assert float(ours(z, t, weight=w, mean_over="elements", **kw)) == pytest.approx(total / 7, rel=1e-13)
    with pytest.raises(ValueError, match="mean_over must be one of"):
        ours(z, t, mean_over="valid", **kw)
    # every position ignored: the weight-sum mean is NaN (torch), the element mean 0 / N = 0
    none = np.full(7, -100)
    assert np.isnan(float(ours(z, none, weight=w, **kw)))
    assert float(ours(z, none, weight=w, mean_over="elements", **kw)) == 0.0


@needs_torch
def test_sigmoid_focal_weighted_mean_over():
    rng = np.random.default_rng(5)
    x, y, w = rng.normal(size=(5, 3)), (rng.uniform(size=(5, 3)) < 0.5) * 1.0, rng.uniform(0.1, 2, size=(5, 3))
    el = _torchvision_focal(_t(x), _t(y)).numpy()
    assert float(L.sigmoid_focal_loss(x, y, weight=w)) == pytest.approx(np.sum(w * el) / np.sum(w), rel=1e-13)
    assert float(L.sigmoid_focal_loss(x, y, weight=w, mean_over="elements")) == pytest.approx(np.mean(w * el), rel=1e-13)


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


# ------------------------------------------------------------------ honest edges (issue 10)
@needs_torch
def test_pos_weight_and_weight_accept_python_numbers():
    rng = np.random.default_rng(6)
    x, y = _t(rng.normal(size=(4, 3))), _t(rng.uniform(size=(4, 3)))
    want = F.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor(49.0, dtype=torch.float64))
    assert L.binary_cross_entropy_with_logits(x, y, pos_weight=49.0).item() == pytest.approx(want.item(), rel=1e-14)
    want = F.binary_cross_entropy_with_logits(x, y, weight=torch.tensor(0.5, dtype=torch.float64))
    assert L.binary_cross_entropy_with_logits(x, y, weight=0.5).item() == pytest.approx(want.item(), rel=1e-14)


@needs_torch
def test_bce_with_logits_and_focal_targets_outside_0_1_torch_computes_we_raise():
    # docs/differences.md: torch gives 0.404 for target 1.5; labels live in [0, 1]
    x, y = torch.tensor([0.3], dtype=torch.float64), torch.tensor([1.5], dtype=torch.float64)
    assert torch.isfinite(F.binary_cross_entropy_with_logits(x, y))
    with pytest.raises(ValueError, match=r"target must hold labels in \[0, 1\]"):
        L.binary_cross_entropy_with_logits(x, y)
    with pytest.raises(ValueError, match=r"target must hold labels in \[0, 1\]"):
        L.sigmoid_focal_loss(x, y)
    with pytest.raises(ValueError, match=r"target must hold labels in \[0, 1\]"):
        L.binary_cross_entropy_with_logits(x, torch.tensor([np.nan], dtype=torch.float64))


def test_bce_with_logits_target_check_skipped_under_jit_nan_goes_through():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    out = jax.jit(lambda y: L.binary_cross_entropy_with_logits(jnp.zeros(2), y, reduction="none"))(
        jnp.asarray([np.nan, 1.0]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(np.log(2.0), rel=1e-6)
    # sigmoid_focal_loss reads log(y) and log(1 - y): a NaN label stays NaN under jit
    out = jax.jit(lambda y: L.sigmoid_focal_loss(jnp.zeros(2), y, reduction="none"))(jnp.asarray([np.nan, 1.0]))
    assert np.isnan(out[0]) and np.isfinite(out[1])


@needs_torch
def test_kl_div_negative_target_torch_nan_we_raise():
    # docs/differences.md: torch returns NaN for a negative probability; we name the argument
    x, y = torch.tensor([-1.0], dtype=torch.float64), torch.tensor([-0.5], dtype=torch.float64)
    assert torch.isnan(F.kl_div(x, y, reduction="sum"))
    with pytest.raises(ValueError, match="target must be non-negative"):
        L.kl_div(x, y)
    # log_target=True: any real target is a log-probability
    assert torch.isfinite(L.kl_div(x, y, log_target=True))
    with pytest.raises(TypeError, match="log_target must be a bool"):
        L.kl_div(x, y, log_target=1)


@needs_torch
@pytest.mark.parametrize("poison", [np.inf, -np.inf])
@pytest.mark.parametrize("where", ["target", "weight"])
def test_cross_entropy_prob_targets_infinite_like_torch(poison, where):
    # -sum(y log_softmax(z)), torch's form: an infinite target/class weight gives torch's ±inf
    rng = np.random.default_rng(7)
    z, y, w = rng.normal(size=(3, 4)), rng.uniform(size=(3, 4)), rng.uniform(0.5, 2, size=(4,))
    if where == "target":
        y[0, 1] = poison
    else:
        w[1] = poison
    ours = L.cross_entropy(_t(z), _t(y), weight=_t(w), reduction="none")
    theirs = F.cross_entropy(_t(z), _t(y), weight=_t(w), reduction="none")
    np.testing.assert_array_equal(np.isinf(ours.numpy()), np.isinf(theirs.numpy()))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-13)


@needs_torch
@pytest.mark.parametrize("name", ["softmax_focal_loss", "cross_entropy"])
def test_infinite_logits_like_torch_cross_entropy(name):
    # a row holding +inf is NaN, a -inf target logit is +inf: torch's cross_entropy
    z = np.zeros((3, 4))
    z[0, 2] = np.inf  # non-target +inf
    z[1, 0] = -np.inf  # target -inf
    z[2, 3] = np.inf  # target +inf
    t = torch.tensor([0, 0, 3])
    kw = {"gamma": 0.0} if name == "softmax_focal_loss" else {}
    ours = getattr(L, name)(_t(z), t, reduction="none", **kw).numpy()
    theirs = F.cross_entropy(_t(z), t, reduction="none").numpy()
    np.testing.assert_array_equal(ours, theirs)  # [nan, inf, nan]


def test_nan_logit_gives_nan_and_ignored_rows_stay_silent():
    z = np.zeros((3, 4))
    z[0, 0] = np.nan  # read by every loss at row 0 (nll_loss reads only the target's entry)
    for name, kw in [("cross_entropy", {}), ("softmax_focal_loss", {}), ("nll_loss", {})]:
        fn = getattr(L, name)
        out = np.asarray(fn(z, np.array([0, 1, 2]), reduction="none", **kw))
        assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
        assert np.isfinite(float(fn(z, np.array([-100, 1, 2]), **kw)))  # rule 10


def test_class_loss_arguments_are_checked():
    z = np.zeros((3, 4))
    t = np.array([0, 1, 2])
    for name in ("cross_entropy", "nll_loss", "softmax_focal_loss"):
        fn = getattr(L, name)
        with pytest.raises(TypeError, match=r"\bignore_index must be an int"):
            fn(z, t, ignore_index=1.5)
        with pytest.raises(TypeError, match=r"\bignore_index must be an int"):
            fn(z, t, ignore_index=True)
        with pytest.raises(TypeError, match=r"\baxis must be an int"):
            fn(z, t, axis=True)
        with pytest.raises(TypeError, match=r"\btarget must hold integer class indices"):
            fn(z, t + 0j)
        with pytest.raises(TypeError, match=r"\bweight must have a real dtype"):
            fn(z, t, weight=np.ones(4) + 1j)
        with pytest.raises(TypeError, match=r"\btarget must be an array"):
            fn(z, 1)
    with pytest.raises(TypeError, match=r"\btarget must have a real dtype"):
        L.binary_cross_entropy(np.full(2, 0.5), np.array([1j, 0]))
    with pytest.raises(ValueError, match=r"\blabel_smoothing must be finite|label_smoothing must be <= 1"):
        L.cross_entropy(z, t, label_smoothing=float("inf"))
    with pytest.raises(TypeError, match=r"\bgamma must be a real number"):
        L.sigmoid_focal_loss(np.zeros(2), np.zeros(2), gamma=float("nan"))


# ------------------------------------------------------------------ kornia's focal loss
def _kornia_focal_loss(pred, target, alpha, gamma=2.0, reduction="mean", weight=None, ignore_index=-100):
    """``kornia.losses.focal_loss`` (kornia 0.7, ``kornia/losses/focal.py``) transcribed to
    NumPy float64 from its source: a one-hot masked per-class loss of shape ``(N, C, *)``,
    class 0 weighted by ``1 - alpha`` and every other class by ``alpha``, optional class
    ``weight``, ``"mean"`` over all N x C x positions. kornia is not installed here."""
    n_classes = pred.shape[1]
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    one_hot = (np.arange(n_classes).reshape([1, -1] + [1] * (pred.ndim - 2)) == safe[:, None]).astype(float)
    one_hot = one_hot * keep[:, None]
    m = pred.max(1, keepdims=True)
    log_p = pred - m - np.log(np.exp(pred - m).sum(1, keepdims=True))
    loss = -np.power(1.0 - np.exp(log_p), gamma) * log_p * one_hot
    shape = [-1] + [1] * (pred.ndim - 2)
    if alpha is not None:
        loss = np.array([1 - alpha] + [alpha] * (n_classes - 1)).reshape(shape) * loss
    if weight is not None:
        loss = weight.reshape(shape) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def test_softmax_focal_maps_to_kornia_with_class_weights_and_size():
    # kornia's alpha is not ours (a scalar on every class): it weighs class 0 by 1 - alpha and
    # the others by alpha, and its "mean" divides by classes x positions
    rng = np.random.default_rng(8)
    z = rng.normal(size=(4, 5, 3)) * 2
    t = rng.integers(0, 5, size=(4, 3))
    t[0, 0] = -100
    kw = rng.uniform(0.5, 2.0, size=(5,))
    for alpha, gamma in [(0.25, 2.0), (0.6, 0.5)]:
        a = np.array([1 - alpha] + [alpha] * 4)
        want = _kornia_focal_loss(z, t, alpha, gamma, weight=kw)
        ours = L.softmax_focal_loss(z, t, gamma=gamma, weight=a * kw, reduction="sum") / (5 * t.size)
        np.testing.assert_allclose(ours, want, rtol=1e-13)
        via_elements = L.softmax_focal_loss(z, t, gamma=gamma, weight=a * kw, mean_over="elements") / 5
        np.testing.assert_allclose(via_elements, want, rtol=1e-13)
        # our alpha is one factor on every class: not kornia's (the old docstring's claim)
        assert abs(float(L.softmax_focal_loss(z, t, gamma=gamma, alpha=alpha)) - want * 5) > 1e-3


# -- torch's own kernels (backends/torch_losses/classification.py) ----------------------------
def _spy(name):
    """Count the calls of ``torch.nn.functional.<name>`` (the kernels look it up per call)."""
    import unittest.mock

    return unittest.mock.patch.object(torch.nn.functional, name, wraps=getattr(torch.nn.functional, name))


@needs_torch
@pytest.mark.parametrize("pos_weight", [None, 2.5])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_kernel_matches_the_twin(pos_weight, reduction):
    z = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    y = torch.rand(6, 4, dtype=torch.float64)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    with _spy("binary_cross_entropy_with_logits") as spy:
        out = L.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction=reduction)
    assert spy.call_count == 1
    want = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction=reduction)
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(torch.autograd.grad(out.sum(), z)[0], torch.autograd.grad(want.sum(), z)[0])


@needs_torch
def test_binary_kernels_are_not_used_where_semantics_differ():
    z = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    y = torch.rand(5, 3, dtype=torch.float64)
    with _spy("binary_cross_entropy_with_logits") as spy:
        L.binary_cross_entropy_with_logits(z, y, weight=torch.rand(5, 3, dtype=torch.float64))
        L.binary_cross_entropy_with_logits(z, y, pos_weight=torch.ones(3, dtype=torch.float64, requires_grad=True))
    assert spy.call_count == 0  # element weights: zero weights silence NaN; pos_weight gradient
    p = torch.rand(5, 3, dtype=torch.float64)
    for edge in (0.0, 1.0, 1e-13, 1 - 1e-13):  # torch's gradient is clamped there
        q = p.clone()
        q[1, 2] = edge
        q.requires_grad_()
        with _spy("binary_cross_entropy") as spy:
            out = L.binary_cross_entropy(q, y)
        assert spy.call_count == 0
        (g,) = torch.autograd.grad(out, q)
        with L.backends.generic_paths():
            (want,) = torch.autograd.grad(L.binary_cross_entropy(q, y), q)
        torch.testing.assert_close(g, want, rtol=0, atol=0)
    with _spy("binary_cross_entropy") as spy:
        out = L.binary_cross_entropy(p.detach(), y)  # no gradient needed: the kernel
        assert spy.call_count == 1
        interior = p.clone().requires_grad_()  # every p (1 - p) > 1e-12: the kernel, gradient too
        g_fast = torch.autograd.grad(L.binary_cross_entropy(interior, y), interior)[0]
        assert spy.call_count == 2
    torch.testing.assert_close(out, F.binary_cross_entropy(p.detach(), y))
    with L.backends.generic_paths():
        g_generic = torch.autograd.grad(L.binary_cross_entropy(interior, y), interior)[0]
    torch.testing.assert_close(g_fast, g_generic, rtol=1e-12, atol=1e-15)
    with L.value_checks(False), _spy("binary_cross_entropy") as spy:
        L.binary_cross_entropy(interior, y)  # unchecked: the fact is read in place on the CPU
        assert spy.call_count == 1
        L.binary_cross_entropy(q, y)  # ... and refuses the kernel at an edge
        assert spy.call_count == 1
        from losses.backends.torch import transfer_reads

        with transfer_reads():  # on a device, nothing is read back: the generic body
            L.binary_cross_entropy(interior, y)
        assert spy.call_count == 1


_KERNEL_KW = [{}, {"reduction": "sum"}, {"reduction": "none"}, {"mean_over": "elements"}, {"ignore_index": 2},
              {"axis": -1}]


@needs_torch
@pytest.mark.parametrize("name, kw", [("nll_loss", kw) for kw in _KERNEL_KW]
                         + [("cross_entropy", kw) for kw in _KERNEL_KW + [{"label_smoothing": 0.1}]])
def test_class_index_kernels_match_the_twin(name, kw):
    """The whole loss is one fused torch kernel (no per-position body), values and gradients
    those of the twin."""
    z = torch.randn(7, 3, 4, dtype=torch.float64)
    if name == "nll_loss":
        z = z.log_softmax(-1 if kw.get("axis") == -1 else 1)
    z.requires_grad_()
    t = torch.randint(0, 4, (7, 3)) if kw.get("axis") == -1 else torch.randint(0, 3, (7, 4))
    t[0, 0] = kw.get("ignore_index", -100)
    twin = getattr(F, name)
    with _spy(name) as spy:
        out = getattr(L, name)(z, t, **kw)
    assert spy.call_count == 1
    tkw = {k: v for k, v in kw.items() if k not in ("mean_over", "axis")}
    zt = z.movedim(-1, 1) if kw.get("axis") == -1 else z
    want = twin(zt, t, **tkw)
    if kw.get("mean_over") == "elements":
        want = twin(zt, t, reduction="sum") / t.numel()
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(torch.autograd.grad(out.sum(), z)[0], torch.autograd.grad(want.sum(), z)[0])


@needs_torch
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_kernels_leave_bad_class_indices_to_the_library_check(name):
    """torch's CPU kernel refuses an out-of-range index itself (no host read); the call then
    reports it as the library's ValueError naming ``target``, and counts no extra read."""
    z = torch.randn(4, 3, dtype=torch.float64).log_softmax(1)
    for bad in (3, -1, -7):
        t = torch.tensor([0, 1, bad, 2])
        with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 2\]"):
            getattr(L, name)(z, t)


@needs_torch
def test_nll_kernel_axis_and_class_weights():
    x = torch.randn(2, 3, 5, dtype=torch.float64).log_softmax(-1)
    t = torch.randint(0, 5, (2, 3))
    torch.testing.assert_close(L.nll_loss(x, t, axis=-1), F.nll_loss(x.movedim(-1, 1), t))
    with _spy("nll_loss") as spy:  # class weights: the generic body (zero weights silence -inf)
        L.nll_loss(x, t, axis=-1, weight=torch.rand(5, dtype=torch.float64))
    assert spy.call_count == 0


@needs_torch
@pytest.mark.parametrize("kw", [{}, {"reduction": "batchmean"}, {"reduction": "sum"}, {"log_target": True}])
def test_kl_div_kernel_matches_the_twin(kw):
    import warnings

    x = torch.randn(4, 6, dtype=torch.float64).log_softmax(1).requires_grad_()
    y = torch.randn(4, 6, dtype=torch.float64).softmax(1)
    if kw.get("log_target"):
        y = y.log()
    with _spy("kl_div") as spy, warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's "mean" warning is not ours
        out = L.kl_div(x, y, **kw)
    assert spy.call_count == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = F.kl_div(x, y, **kw)
    torch.testing.assert_close(out, want)
    with _spy("kl_div") as spy:  # torch's target gradient is NaN at y = 0
        L.kl_div(x, y.detach().requires_grad_(), **kw)
    assert spy.call_count == int(bool(kw.get("log_target")))  # log space: no y log y


# ------------------------------------------------------------- Keras 3 focal cross-entropies --
def _keras_jax():
    """Keras 3 on its JAX backend (as tests/test_keras.py), or skip."""
    import os
    import sys

    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "jax"
    jax = pytest.importorskip("jax")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip(f"keras is imported with the {keras.backend.backend()} backend")
    jax.config.update("jax_enable_x64", True)
    return keras, jax


# Keras's ops.mean/ops.sum compute float64 inputs with float32 accumulation (dtypes.result_type(
# x.dtype, "float32")): the reduced values agree with float64 to ~1e-7 relative
_KERAS_RTOL = 2e-6


def _settings(default, *others):
    """The parameter sets of a Keras comparison: ``default`` in the default run, the others
    (each a compile of Keras's and our eager JAX ops) in the slow tier."""
    return [default] + [pytest.param(*o, marks=pytest.mark.slow) for o in others]


@pytest.mark.parametrize("apply_class_balancing,from_logits,label_smoothing", _settings(
    (True, False, 0.2), (False, False, 0.0), (False, True, 0.0), (True, True, 0.0), (False, True, 0.2),
    (True, True, 0.2), (False, False, 0.2), (True, False, 0.0)))
def test_sigmoid_focal_reproduces_keras_binary_focal_crossentropy(apply_class_balancing, from_logits, label_smoothing):
    keras, jax = _keras_jax()
    jnp = jax.numpy
    rng = np.random.default_rng(11)
    z = rng.normal(size=(6, 5)) * 2.5                      # inside Keras's clip range
    y = (rng.random((6, 5)) < 0.4).astype(np.float64)
    pred = z if from_logits else 1 / (1 + np.exp(-z))
    alpha, gamma, eps = 0.3, 1.5, label_smoothing

    def ref(p):
        return keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma, from_logits=from_logits,
            label_smoothing=eps)(jnp.asarray(y), p)

    def ours(p):
        logits = p if from_logits else jnp.log(p) - jnp.log1p(-p)
        return L.sigmoid_focal_loss(logits, jnp.asarray(y * (1 - eps) + eps / 2),
                                    alpha=alpha if apply_class_balancing else -1, gamma=gamma)

    pk = jnp.asarray(pred)
    # compiled whole (eager JAX compiles every op on its own)
    ours_v, ref_v = jax.jit(jax.value_and_grad(ours)), jax.jit(jax.value_and_grad(ref))
    (v_ours, g_ours), (v_ref, g_ref) = ours_v(pk), ref_v(pk)
    np.testing.assert_allclose(float(v_ours), float(v_ref), rtol=_KERAS_RTOL)
    np.testing.assert_allclose(np.asarray(g_ours), np.asarray(g_ref), rtol=1e-5, atol=1e-8)
    # the functional form, averaged over the batch (sum_over_batch_size)
    fn = keras.losses.binary_focal_crossentropy(jnp.asarray(y), pk, apply_class_balancing=apply_class_balancing,
                                                alpha=alpha, gamma=gamma, from_logits=from_logits,
                                                label_smoothing=eps)
    np.testing.assert_allclose(float(v_ours), float(np.mean(fn)), rtol=_KERAS_RTOL)


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2, 1.0])
def test_bce_label_smoothing_reproduces_keras_binary_crossentropy(from_logits, label_smoothing):
    """Keras 3's binary_crossentropy(label_smoothing=eps) smooths y to y (1 - eps) + eps / 2
    and averages over the last axis; values and gradients on the same inputs."""
    keras, jax = _keras_jax()
    jnp = jax.numpy
    rng = np.random.default_rng(12)
    z = rng.normal(size=(6, 5)) * 2.5                      # inside Keras's clip range
    y = jnp.asarray(rng.uniform(size=(6, 5)))
    pred = jnp.asarray(z if from_logits else 1 / (1 + np.exp(-z)))
    fn = L.binary_cross_entropy_with_logits if from_logits else L.binary_cross_entropy

    def ours(p):
        return jnp.sum(jnp.mean(fn(p, y, label_smoothing=label_smoothing, reduction="none"), axis=-1) * cot)

    def ref(p):
        return jnp.sum(keras.losses.binary_crossentropy(y, p, from_logits=from_logits,
                                                        label_smoothing=label_smoothing) * cot)

    cot = jnp.asarray(rng.normal(size=(6,)))
    (v_ours, g_ours), (v_ref, g_ref) = jax.jit(jax.value_and_grad(ours))(pred), jax.jit(jax.value_and_grad(ref))(pred)
    np.testing.assert_allclose(float(v_ours), float(v_ref), rtol=_KERAS_RTOL)
    np.testing.assert_allclose(np.asarray(g_ours), np.asarray(g_ref), rtol=1e-5, atol=1e-8)
    # the mean reduction is Keras's sum_over_batch_size of the per-row means
    np.testing.assert_allclose(float(fn(pred, y, label_smoothing=label_smoothing)),
                               float(keras.losses.BinaryCrossentropy(from_logits=from_logits,
                                                                     label_smoothing=label_smoothing)(y, pred)),
                               rtol=_KERAS_RTOL)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_bce_label_smoothing_formula_smp_mapping_and_errors(name):
    """The smoothed target y (1 - eps) + eps / 2, written out in float64 NumPy; smp's
    SoftBCEWithLogitsLoss(smooth_factor=s) targets (1 - y) s + y (1 - s) are eps = 2 s."""
    rng = np.random.default_rng(13)
    z = rng.normal(size=(4, 3)) * 2
    p = 1 / (1 + np.exp(-z))
    y = (rng.uniform(size=(4, 3)) < 0.5).astype(np.float64)
    x = z if name.endswith("logits") else p
    fn = getattr(L, name)

    def bce(y_soft):  # -(y log p + (1 - y) log(1 - p)) from the logits, stable
        return ((1 - y_soft) * z + np.logaddexp(0, -z)).mean()

    for eps in (0.0, 0.1, 0.5, 1.0):
        np.testing.assert_allclose(fn(x, y, label_smoothing=eps), bce(y * (1 - eps) + eps / 2), rtol=1e-12)
    s = 0.1
    np.testing.assert_allclose(fn(x, y, label_smoothing=2 * s), bce((1 - y) * s + y * (1 - s)), rtol=1e-12)
    # eps = 1: every target is 1/2
    np.testing.assert_allclose(fn(x, y, label_smoothing=1.0), fn(x, np.full_like(y, 0.5)), rtol=1e-14)
    for bad in (-0.1, 1.5, math.inf):
        with pytest.raises(ValueError, match="label_smoothing"):
            fn(x, y, label_smoothing=bad)
    with pytest.raises(TypeError, match="label_smoothing"):
        fn(x, y, label_smoothing="0.1")


@needs_torch
def test_bce_with_logits_kernel_smoothing_transforms_the_target():
    z = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    y = torch.rand(6, 4, dtype=torch.float64, requires_grad=True)
    with _spy("binary_cross_entropy_with_logits") as spy:
        out = L.binary_cross_entropy_with_logits(z, y, label_smoothing=0.2)
    assert spy.call_count == 1  # the kernel, on the smoothed target
    with L.backends.generic_paths():
        want = L.binary_cross_entropy_with_logits(z, y, label_smoothing=0.2)
    torch.testing.assert_close(out, want, rtol=1e-15, atol=0)
    for a, b in zip(torch.autograd.grad(out, (z, y)), torch.autograd.grad(want, (z, y))):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("from_logits,label_smoothing", _settings((False, 0.15), (True, 0.0), (True, 0.15),
                                                                  (False, 0.0)))
def test_softmax_focal_reproduces_keras_categorical_focal_crossentropy(from_logits, label_smoothing):
    keras, jax = _keras_jax()
    jnp = jax.numpy
    rng = np.random.default_rng(12)
    z = rng.normal(size=(3, 4, 5)) * 2.0                   # classes last, extra axis averaged
    t = rng.integers(0, 5, size=(3, 4))
    onehot = np.eye(5)[t]
    pred = z if from_logits else np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    eps = label_smoothing

    def ref(p):
        return keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=from_logits,
                                                         label_smoothing=eps)(jnp.asarray(onehot), p)

    def ours(p):
        logits = p if from_logits else jnp.log(p)
        return L.softmax_focal_loss(logits, jnp.asarray(t), alpha=0.25, gamma=2.0, label_smoothing=eps, axis=-1)

    pk = jnp.asarray(pred)
    ours_v, ref_v = jax.jit(jax.value_and_grad(ours)), jax.jit(jax.value_and_grad(ref))
    (v_ours, g_ours), (v_ref, g_ref) = ours_v(pk), ref_v(pk)
    np.testing.assert_allclose(float(v_ours), float(v_ref), rtol=_KERAS_RTOL)
    np.testing.assert_allclose(np.asarray(g_ours), np.asarray(g_ref), rtol=1e-5, atol=1e-8)
    fn = keras.losses.categorical_focal_crossentropy(jnp.asarray(onehot), pk, alpha=0.25, gamma=2.0,
                                                     from_logits=from_logits, label_smoothing=eps)
    logits = pred if from_logits else np.log(pred)
    np.testing.assert_allclose(L.softmax_focal_loss(logits, t, alpha=0.25, gamma=2.0, label_smoothing=eps, axis=-1,
                                                    reduction="none"), np.asarray(fn), rtol=_KERAS_RTOL)


def test_keras_focal_clips_confident_predictions_we_do_not():
    """docs/differences.md: Keras clips p to [1e-7, 1 - 1e-7]; beyond |z| = 16.1 its loss is
    a constant, ours the exact focal loss (a float64 formula written here)."""
    keras, jax = _keras_jax()
    jnp = jax.numpy
    z, y = np.array([[-25.0, 20.0]]), np.array([[1.0, 0.0]])  # confidently wrong
    p = 1 / (1 + np.exp(-z))
    exact = np.mean((1 - (y * p + (1 - y) * (1 - p))) ** 2 * (np.logaddexp(0, z) - y * z))
    ours = float(L.sigmoid_focal_loss(z, y, alpha=-1, gamma=2.0))
    k = float(keras.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)(jnp.asarray(y), jnp.asarray(z)))
    assert ours == pytest.approx(exact, rel=1e-13) and ours == pytest.approx(22.5, rel=1e-6)
    # both terms clipped near -log(1e-7) = 16.1 (1 - 1e-7 is rounded in float32 by Keras)
    assert k == pytest.approx(-np.log(1e-7), rel=0.01)
    zc = np.array([[30.0, 0.0, 0.0]])                      # class 0 confident, target class 1
    t = np.array([1])
    ours_c = float(L.softmax_focal_loss(zc, t, alpha=0.25, gamma=2.0, axis=-1))
    k_c = float(keras.losses.CategoricalFocalCrossentropy(from_logits=True)(jnp.asarray(np.eye(3)[t]), jnp.asarray(zc)))
    assert ours_c == pytest.approx(0.25 * (30.0 + np.log1p(2 * np.exp(-30.0))), rel=1e-12)
    assert k_c == pytest.approx(-0.25 * np.log(1e-7), rel=1e-5)


def test_softmax_focal_label_smoothing_against_formula():
    """(1-ε) FL(t) + ε/C Σ_c FL(c), each with its own focal factor, in float64 NumPy; class
    weights and ignored positions as cross_entropy's label smoothing."""
    rng = np.random.default_rng(13)
    z, t = rng.normal(size=(7, 4)) * 2, rng.integers(0, 4, size=(7,))
    t[2] = -100
    w = rng.uniform(0.5, 2.0, size=4)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    fl = -((1 - np.exp(logp)) ** 0.5) * logp               # every class's focal term, gamma = 0.5
    keep = t != -100
    ts = np.where(keep, t, 0)
    per = (0.8 * w[ts] * fl[np.arange(7), ts] + 0.2 / 4 * (w * fl).sum(1)) * keep
    got = L.softmax_focal_loss(z, t, gamma=0.5, weight=w, label_smoothing=0.2, reduction="none")
    np.testing.assert_allclose(got, per, rtol=1e-13)
    assert float(L.softmax_focal_loss(z, t, gamma=0.5, weight=w, label_smoothing=0.2)) == pytest.approx(
        per.sum() / (w[ts] * keep).sum(), rel=1e-13)
    # gamma = 0: cross_entropy's label smoothing
    np.testing.assert_allclose(L.softmax_focal_loss(z, t, gamma=0.0, weight=w, label_smoothing=0.2),
                               L.cross_entropy(z, t, weight=w, label_smoothing=0.2), rtol=1e-13)
    np.testing.assert_array_equal(L.softmax_focal_loss(z, t, label_smoothing=0.0), L.softmax_focal_loss(z, t))
    zn = z.copy()
    zn[0, 1] = np.nan
    assert np.isnan(L.softmax_focal_loss(zn, t, label_smoothing=0.1, reduction="none")[0])
    for bad in (-0.1, 1.5, float("inf")):
        with pytest.raises(ValueError, match="label_smoothing"):
            L.softmax_focal_loss(z, t, label_smoothing=bad)
    with pytest.raises(TypeError, match="label_smoothing"):
        L.softmax_focal_loss(z, t, label_smoothing="0.1")
