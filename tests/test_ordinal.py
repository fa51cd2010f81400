"""Ordinal regression: CORAL and CORN against coral-pytorch run on the same inputs (values and
gradients), the cumulative-link likelihood against an independent float64 formula of the
ordinal logistic model (statsmodels' OrderedModel likelihood written out), ordinal_targets
against coral's levels_from_labelbatch, errors and the docstring examples."""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import losses as L
from tests._torch import tensor as _t
from tests._torch import torch_or_skip as _torch

RNG = np.random.default_rng(20260113)
K = 5


def _coral():
    pytest.importorskip("coral_pytorch")
    import coral_pytorch.dataset
    import coral_pytorch.losses

    return coral_pytorch


# -------------------------------------------------------------------- ordinal_targets ----
def test_ordinal_targets_is_levels_from_labelbatch():
    coral = _coral()
    y = RNG.integers(0, K, size=(12,))
    ref = coral.dataset.levels_from_labelbatch(list(y), num_classes=K).numpy()
    got = L.ordinal_targets(y, K)
    assert got.shape == (12, K - 1) and np.array_equal(got, ref)


def test_ordinal_targets_shapes_dtypes_and_frameworks():
    torch = _torch()
    y = np.array([[0, 2], [1, 1]], dtype=np.int8)
    got = L.ordinal_targets(y, 3, dtype=np.float32)
    assert got.dtype == np.float32 and got.shape == (2, 2, 2)
    assert got.tolist() == [[[0, 0], [1, 1]], [[1, 0], [1, 0]]]
    assert L.ordinal_targets(torch.tensor([0, 2]), 3).dtype == torch.float32  # torch's default
    assert L.ordinal_targets(np.array([0]), 1).shape == (1, 0)


def test_ordinal_targets_errors():
    with pytest.raises(ValueError, match="levels"):
        L.ordinal_targets(np.array([0, 5]), 5)
    with pytest.raises(TypeError, match="levels"):
        L.ordinal_targets(np.array([0.0, 1.0]), 5)
    with pytest.raises(ValueError, match="num_classes"):
        L.ordinal_targets(np.array([0]), 0)
    with pytest.raises(TypeError, match="num_classes"):
        L.ordinal_targets(np.array([0]), 2.0)
    with pytest.raises(TypeError, match="dtype"):
        L.ordinal_targets(np.array([0]), 2, dtype=np.int64)


# ------------------------------------------------------------------------------- CORAL ----
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_coral_loss_is_coral_pytorch(reduction, weighted):
    coral = _coral()
    z = RNG.normal(size=(9, K - 1)) * 2
    y = RNG.integers(0, K, size=(9,))
    levels = L.ordinal_targets(y, K)
    lam = RNG.uniform(0.2, 2.0, size=(K - 1,)) if weighted else None
    zt, lt = _t(z, True), _t(lam, True) if weighted else None
    ref = coral.losses.coral_loss(zt, _t(levels), importance_weights=lt,
                                  reduction=None if reduction == "none" else reduction)
    zo, lo = _t(z, True), _t(lam, True) if weighted else None
    got = L.coral_loss(zo, _t(levels), task_weights=lo, reduction=reduction)
    up = _t(RNG.uniform(0.5, 2.0, size=ref.shape))
    (ref * up).sum().backward()
    (got * up).sum().backward()
    assert np.allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-13)
    assert np.allclose(zo.grad.numpy(), zt.grad.numpy(), rtol=1e-13)
    if weighted:
        assert np.allclose(lo.grad.numpy(), lt.grad.numpy(), rtol=1e-13)


def test_coral_loss_paper_example_and_large_logits():
    # coral-pytorch's documented example: 0.6920
    z = np.array([[2.1, 1.8, -2.1, -1.8], [1.9, -1.0, -1.5, -1.3], [1.9, 1.8, 1.7, 1.6]])
    assert round(float(L.coral_loss(z, L.ordinal_targets(np.array([2, 1, 4]), 5))), 4) == 0.692
    big = np.array([[1e4, -1e4]])
    assert np.allclose(L.coral_loss(big, np.array([[1.0, 0.0]])), 0.0)
    assert np.allclose(L.coral_loss(big, np.array([[0.0, 1.0]])), 2e4)


# -------------------------------------------------------------------------------- CORN ----
def test_corn_loss_is_coral_pytorch():
    coral = _coral()
    torch = _torch()
    z = RNG.normal(size=(10, K - 1)) * 2
    y = RNG.integers(0, K, size=(10,))
    y[0], y[1] = 0, K - 1
    zt, zo = _t(z, True), _t(z, True)
    ref = coral.losses.corn_loss(zt, torch.tensor(y), K)
    got = L.corn_loss(zo, _t(y))
    ref.backward()
    got.backward()
    assert np.isclose(got.item(), ref.item(), rtol=1e-13)
    assert np.allclose(zo.grad.numpy(), zt.grad.numpy(), rtol=1e-13)


def test_corn_loss_formula_reductions_and_spatial():
    z = RNG.normal(size=(6, 3))
    y = RNG.integers(0, 4, size=(6,))
    k = np.arange(3)
    enters = (y[:, None] >= k).astype(float)
    label = (y[:, None] > k).astype(float)
    terms = enters * (np.logaddexp(0, z) - label * z)
    assert np.allclose(L.corn_loss(z, y, reduction="none"), terms, rtol=1e-14)
    assert np.isclose(L.corn_loss(z, y, reduction="sum"), terms.sum(), rtol=1e-14)
    assert np.isclose(L.corn_loss(z, y), terms.sum() / enters.sum(), rtol=1e-14)
    zs = RNG.normal(size=(2, 3, 4))
    ys = RNG.integers(0, 4, size=(2, 4))
    flat = L.corn_loss(np.moveaxis(zs, 1, -1).reshape(8, 3), ys.reshape(8), reduction="sum")
    assert np.isclose(L.corn_loss(zs, ys, reduction="sum"), flat, rtol=1e-14)


def test_corn_loss_errors_and_empty_batch():
    with pytest.raises(ValueError, match="target"):
        L.corn_loss(np.zeros((2, 3)), np.array([0, 4]))
    with pytest.raises(TypeError, match="target"):
        L.corn_loss(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="target"):
        L.corn_loss(np.zeros((2, 3)), np.array([0, 1, 2]))
    assert np.isnan(L.corn_loss(np.zeros((0, 3)), np.zeros((0,), dtype=np.int64)))


# --------------------------------------------------------------------- cumulative link ----
def _expit(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _ordered_logit_nll(eta, y, cut):
    """-log P(y | eta) of the proportional-odds model, statsmodels' OrderedModel(distr="logit")
    likelihood written out: F(cut_y - x b) - F(cut_{y-1} - x b), F the logistic cdf."""
    thresholds = [-math.inf, *cut, math.inf]
    out = []
    for e, k in zip(eta, y):
        hi = 1.0 if thresholds[k + 1] == math.inf else _expit(thresholds[k + 1] - e)
        lo = 0.0 if thresholds[k] == -math.inf else _expit(thresholds[k] - e)
        out.append(-math.log(hi - lo))
    return np.array(out)


def test_cumulative_link_is_the_ordered_logit_likelihood():
    eta = RNG.normal(size=(15,)) * 2
    y = RNG.integers(0, K, size=(15,))
    cut = np.array([-1.5, -0.2, 0.4, 2.0])
    got = L.cumulative_link_loss(eta, y, cut, reduction="none")
    assert np.allclose(got, _ordered_logit_nll(eta, y, cut), rtol=1e-13)
    # the probabilities of the K levels sum to 1
    total = sum(np.exp(-L.cumulative_link_loss(eta, np.full(15, k), cut, reduction="none")) for k in range(K))
    assert np.allclose(total, 1.0, rtol=1e-14)


def test_cumulative_link_gradients_against_torch_formula():
    torch = _torch()
    eta = RNG.normal(size=(11,))
    y = RNG.integers(0, 4, size=(11,))
    cut = np.array([-1.0, 0.1, 1.3])
    e1, c1 = _t(eta, True), _t(cut, True)
    padded = torch.cat([torch.tensor([-math.inf], dtype=torch.float64), c1, torch.tensor([math.inf], dtype=torch.float64)])
    yt = torch.tensor(y)
    ref = -torch.log(torch.sigmoid(padded[yt + 1] - e1) - torch.sigmoid(padded[yt] - e1)).mean()
    ref.backward()
    e2, c2 = _t(eta, True), _t(cut, True)
    got = L.cumulative_link_loss(e2, yt, c2)
    got.backward()
    assert np.isclose(got.item(), ref.item(), rtol=1e-13)
    assert np.allclose(e2.grad.numpy(), e1.grad.numpy(), rtol=1e-12)
    assert np.allclose(c2.grad.numpy(), c1.grad.numpy(), rtol=1e-12)


def test_cumulative_link_far_scores_are_finite_in_log_space():
    # sigma(theta - 60) - sigma(theta' - 60) underflows the naive difference; log space does not
    cut = np.array([-1.0, 1.0])
    got = L.cumulative_link_loss(np.array([60.0, -60.0, 60.0]), np.array([0, 2, 1]), cut, reduction="none")
    assert np.all(np.isfinite(got))
    assert np.isclose(got[0], 61.0, rtol=1e-12) and np.isclose(got[1], 61.0, rtol=1e-12)
    want = -(math.log(_expit(1 - 60.0)) + math.log1p(-math.exp(-2.0)))  # sigma(b) sigma(-a)(1 - e^-(b-a)), sigma(-a)~1
    assert np.isclose(got[2], want, rtol=1e-10)


def test_cumulative_link_weights_and_errors():
    eta = RNG.normal(size=(6,))
    y = RNG.integers(0, 3, size=(6,))
    cut = np.array([-0.5, 0.5])
    w = RNG.uniform(0.5, 2.0, size=(6,))
    per = L.cumulative_link_loss(eta, y, cut, reduction="none")
    assert np.isclose(L.cumulative_link_loss(eta, y, cut, weight=w), (w * per).sum() / w.sum(), rtol=1e-14)
    with pytest.raises(ValueError, match="cutpoints"):
        L.cumulative_link_loss(eta, y, np.array([0.5, -0.5]))
    with pytest.raises(ValueError, match="cutpoints"):
        L.cumulative_link_loss(eta, y, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="target"):
        L.cumulative_link_loss(eta, np.full(6, 3), cut)
    with pytest.raises(TypeError, match="cutpoints"):
        L.cumulative_link_loss(eta, y, np.array([0, 1]))
    with pytest.raises(TypeError, match="target"):
        L.cumulative_link_loss(eta, y.astype(float), cut)


def test_docstring_examples_run():
    import losses.ordinal as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0
