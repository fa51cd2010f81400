"""Metric-learning and self-supervised losses: literature formulas, peers, documented
differences and errors. Peer formulas are written here independently in float64 NumPy (or
run through torch / optax on the same inputs)."""
from __future__ import annotations

import numpy as np
import pytest

import losses as L

RNG = np.random.default_rng(1234)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _torch():
    return pytest.importorskip("torch")


def _jax():
    jax = pytest.importorskip("jax")
    return jax, jax.numpy


def _t(x, grad=False):
    torch = _torch()
    return torch.tensor(np.asarray(x), dtype=torch.float64, requires_grad=grad)


def _close(a, b, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                               rtol=rtol, atol=atol)


# --------------------------------------------------------------- NumPy reference formulas ----
def np_normalize(x, eps=1e-12):
    n = np.sqrt((x * x).sum(-1, keepdims=True))
    return x / np.maximum(n, eps)


def np_dist(e, distance="euclidean"):
    if distance == "cosine":
        en = np_normalize(e)
        return 1 - en @ en.T
    s = ((e[:, None, :] - e[None, :, :]) ** 2).sum(-1)
    return s if distance == "squared" else np.sqrt(s)


def np_mean_over(values, mean_over="valid"):
    v = np.array(values, dtype=np.float64)
    if mean_over == "nonzero":
        v = v[v > 0]
    return float(v.mean()) if v.size else 0.0


def np_ce(logits, target):
    """Mean softmax cross-entropy with integer targets (float64, max-shifted)."""
    m = logits.max(1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(1)) + m[:, 0]
    return float(np.mean(lse - logits[np.arange(len(target)), target]))


def _labels_with_positives(n=9, k=3, seed=0):
    return _rng(seed).permutation(np.arange(n) % k)


# ------------------------------------------------------------------------------ helpers ----
@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_torch(p, keepdim):
    torch = _torch()
    x1, x2 = _rng(1).normal(size=(2, 6, 4))
    a, b = _t(x1, True), _t(x2, True)
    want = torch.nn.functional.pairwise_distance(a, b, p=p, eps=1e-6, keepdim=keepdim)
    ga, gb = torch.autograd.grad(want.sum(), (a, b))
    a2, b2 = _t(x1, True), _t(x2, True)
    got = L.pairwise_distance(a2, b2, p=p, keepdim=keepdim)
    ha, hb = torch.autograd.grad(got.sum(), (a2, b2))
    assert got.shape == want.shape
    _close(got.detach(), want.detach())
    _close(ha, ga)
    _close(hb, gb)


def test_pairwise_distance_broadcasts_and_numpy_formula():
    x1 = _rng(2).normal(size=(5, 3))
    x2 = _rng(3).normal(size=(3,))
    got = L.pairwise_distance(x1, x2, p=3.0, eps=0.0)
    _close(got, (np.abs(x1 - x2) ** 3).sum(-1) ** (1 / 3))


def test_pairwise_distance_zero_distance_eps0_finite_gradient():
    """Zero distance with eps=0: value 0 and gradient 0 (as torch's masked norm gradient)."""
    torch = _torch()
    x = _rng(4).normal(size=(3, 4))
    a, b = _t(x, True), _t(x, True)
    got = L.pairwise_distance(a, b, eps=0.0)
    ga, gb = torch.autograd.grad(got.sum(), (a, b))
    _close(got.detach(), np.zeros(3))
    _close(ga, np.zeros((3, 4)))
    _close(gb, np.zeros((3, 4)))
    a, b = _t(x, True), _t(x, True)
    theirs = torch.nn.functional.pairwise_distance(a, b, eps=0.0)
    tg, _ = torch.autograd.grad(theirs.sum(), (a, b))
    _close(ga, tg)


def _torch_and_ours(fn_t, fn_o, arrays, reduce_sum=True):
    """Value and gradients of a torch function and ours on the same float64 inputs."""
    torch = _torch()
    ts = [_t(x, True) for x in arrays]
    want = fn_t(*ts)
    g_want = torch.autograd.grad(want.sum(), ts, allow_unused=True)
    ours = [_t(x, True) for x in arrays]
    got = fn_o(*ours)
    g_got = torch.autograd.grad(got.sum(), ours, allow_unused=True)
    g_want = [torch.zeros_like(t) if g is None else g for g, t in zip(g_want, ts)]  # p=0: no graph
    g_got = [torch.zeros_like(t) if g is None else g for g, t in zip(g_got, ours)]
    return got.detach(), want.detach(), g_got, g_want


def _diffs_with_zeros_and_ties(seed=70):
    """x1 - x2 holds integer differences: zeros in some rows, ties of the largest and of the
    smallest |difference| in others."""
    x2 = _rng(seed).normal(size=(6, 4))
    diff = np.array([[3.0, -3.0, 1.0, 2.0],    # tie of the max, unique min
                     [0.0, 1.0, -2.0, 2.0],    # a zero difference, tie of the max
                     [1.0, -1.0, 3.0, 2.0],    # tie of the min
                     [0.0, 0.0, 0.0, 0.0],     # identical rows
                     [2.5, -0.5, 1.5, 0.75],   # no tie, no zero
                     [-4.0, 1.0, 0.5, 2.0]])
    return x2 + diff, x2


@pytest.mark.parametrize("p", [-1.0, -2.5, 0.0, 0.5, float("inf"), -float("inf")])
@pytest.mark.parametrize("eps", [0.0, 1e-6])
def test_pairwise_distance_every_p_torch_takes(p, eps):
    """torch accepts any p: p < 0, p = 0 (a count), p = +-inf; values and gradients equal
    torch's, zeros (norm 0, gradient 0 for p < 0) and ties (split gradient) included."""
    x1, x2 = _diffs_with_zeros_and_ties()
    F = _torch().nn.functional
    for arrays in [(x1, x2), tuple(_rng(71).normal(size=(2, 5, 3)))]:
        got, want, g_got, g_want = _torch_and_ours(
            lambda a, b: F.pairwise_distance(a, b, p=p, eps=eps),
            lambda a, b: L.pairwise_distance(a, b, p=p, eps=eps), arrays)
        _close(got, want)
        for x, y in zip(g_got, g_want):
            _close(x, y)


def test_pairwise_distance_p_formulas():
    x1, x2 = _diffs_with_zeros_and_ties()
    v = np.abs(x1 - x2)
    _close(L.pairwise_distance(x1, x2, p=float("inf"), eps=0.0), v.max(-1))
    _close(L.pairwise_distance(x1, x2, p=-float("inf"), eps=0.0), v.min(-1))
    _close(L.pairwise_distance(x1, x2, p=0.0, eps=0.0), (v != 0).sum(-1))
    with np.errstate(divide="ignore"):
        want = np.where((v == 0).any(-1), 0.0, (v ** -1.0).sum(-1) ** -1.0)
    _close(L.pairwise_distance(x1, x2, p=-1.0, eps=0.0), want)


def test_pairwise_distance_p0_nan_difference_from_torch():
    """docs/differences.md: torch's p=0 "norm" counts a NaN difference as non-zero (a finite
    count); ours is NaN (DESIGN rule 5). Every other p gives NaN on both."""
    torch = _torch()
    x1, x2 = _rng(72).normal(size=(2, 3, 4))
    x1[1, 2] = np.nan
    ours = L.pairwise_distance(x1, x2, p=0.0)
    assert np.isnan(ours[1]) and np.isfinite(ours[[0, 2]]).all()
    theirs = torch.nn.functional.pairwise_distance(_t(x1), _t(x2), p=0.0).numpy()
    assert theirs[1] == 4.0
    for p in (-1.0, 1.0, 2.0, float("inf"), -float("inf")):
        assert np.isnan(L.pairwise_distance(x1, x2, p=p)[1])
        assert np.isnan(torch.nn.functional.pairwise_distance(_t(x1), _t(x2), p=p).numpy()[1])


def test_pairwise_distance_empty_feature_axis():
    """torch raises a RuntimeError for the norms without an identity on an empty axis; we raise
    a ValueError naming p. p > 0 and p = 0 give 0 (as torch)."""
    torch = _torch()
    x = np.zeros((3, 0))
    for p in (-1.0, float("inf"), -float("inf")):
        with pytest.raises(ValueError, match=r"p=.* needs a non-empty last \(feature\) axis"):
            L.pairwise_distance(x, x, p=p)
        with pytest.raises(ValueError, match=r"p=.* needs a non-empty last"):
            L.triplet_margin_loss(x, x, x, p=p)
        with pytest.raises(RuntimeError):
            torch.nn.functional.pairwise_distance(_t(x), _t(x), p=p)
    for p in (0.0, 2.0):
        _close(L.pairwise_distance(x, x, p=p), torch.nn.functional.pairwise_distance(_t(x), _t(x), p=p))


def test_pairwise_distance_0d_inputs_match_torch():
    """0-d inputs are vectors of one element, as torch (keepdim keeps the 0-d shape)."""
    F = _torch().nn.functional
    x1, x2 = np.asarray(1.5), np.asarray(-0.25)
    for kw in ({}, {"keepdim": True}, {"p": 3.0}, {"p": -1.0, "eps": 0.0}):
        got, want, g_got, g_want = _torch_and_ours(lambda a, b: F.pairwise_distance(a, b, **kw),
                                                   lambda a, b: L.pairwise_distance(a, b, **kw), (x1, x2))
        assert tuple(got.shape) == tuple(want.shape) == ()
        _close(got, want)
        for x, y in zip(g_got, g_want):
            _close(x, y)
    # a 0-d argument broadcasts against rows
    rows = _rng(73).normal(size=(4, 3))
    _close(L.pairwise_distance(rows, np.asarray(0.5)), F.pairwise_distance(_t(rows), _t(np.asarray(0.5))))


def test_negative_eps_refused_where_torch_computes():
    """docs/differences.md: eps is a bias >= 0 (issue #10); torch computes with eps < 0."""
    torch = _torch()
    x1, x2, x3 = _rng(74).normal(size=(3, 4, 3))
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.pairwise_distance(x1, x2, eps=-1.0)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.triplet_margin_loss(x1, x2, x3, eps=-1.0)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.cosine_similarity(x1, x2, eps=-1.0)
    assert torch.isfinite(torch.nn.functional.pairwise_distance(_t(x1), _t(x2), eps=-1.0)).all()
    assert torch.isfinite(torch.nn.functional.triplet_margin_loss(_t(x1), _t(x2), _t(x3), eps=-1.0))


def test_cosine_similarity_matches_torch_and_formula():
    torch = _torch()
    x1, x2 = _rng(5).normal(size=(2, 6, 4))
    a, b = _t(x1, True), _t(x2, True)
    want = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    ga, gb = torch.autograd.grad(want.sum(), (a, b))
    a2, b2 = _t(x1, True), _t(x2, True)
    got = L.cosine_similarity(a2, b2)
    ha, hb = torch.autograd.grad(got.sum(), (a2, b2))
    _close(got.detach(), want.detach())
    _close(ha, ga)
    _close(hb, gb)
    _close(L.cosine_similarity(x1, x2),
           (x1 * x2).sum(-1) / np.linalg.norm(x1, axis=-1) / np.linalg.norm(x2, axis=-1))
    _close(L.cosine_similarity(x1.T, x2.T, axis=0), L.cosine_similarity(x1, x2))


def test_cosine_similarity_zero_vector_value_and_gradient_equal_torch():
    torch = _torch()
    x1, x2 = _rng(6).normal(size=(2, 3, 4))
    x1[0] = 0.0
    x2[1] = 0.0
    a, b = _t(x1, True), _t(x2, True)
    want = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    ga, gb = torch.autograd.grad(want.sum(), (a, b))
    a2, b2 = _t(x1, True), _t(x2, True)
    got = L.cosine_similarity(a2, b2)
    ha, hb = torch.autograd.grad(got.sum(), (a2, b2))
    assert got[0].item() == 0.0 and got[1].item() == 0.0
    assert torch.isfinite(ha).all() and torch.isfinite(hb).all()
    _close(got.detach(), want.detach())
    _close(ha, ga, rtol=1e-12, atol=1e-4)  # magnitudes ~1e8 at the zero vector
    _close(hb, gb, rtol=1e-12, atol=1e-4)


def test_cosine_similarity_tiny_norm_gradient_difference_from_torch():
    """docs/differences.md: for 0 < ||x|| < eps our clamped norm is a constant for the
    gradient (as F.normalize); torch's cosine_similarity differentiates the unclamped norm."""
    torch = _torch()
    x1 = np.array([[1e-9, 0.0, 0.0]])
    x2 = np.array([[1.0, 2.0, 3.0]])
    a = _t(x1, True)
    got = L.cosine_similarity(a, _t(x2))
    (g,) = torch.autograd.grad(got.sum(), (a,))
    _close(g, x2 / (1e-8 * np.linalg.norm(x2)), rtol=1e-12)
    a = _t(x1, True)
    (tg,) = torch.autograd.grad(torch.nn.functional.cosine_similarity(a, _t(x2)).sum(), (a,))
    _close(got.detach(), torch.nn.functional.cosine_similarity(_t(x1), _t(x2)))
    assert not np.allclose(g.numpy()[0, 0], tg.numpy()[0, 0], rtol=1e-3)


def test_cosine_similarity_default_axis_difference_from_torch():
    """docs/differences.md: our default axis is -1, torch's dim=1 (same for 2-D inputs)."""
    torch = _torch()
    x1, x2 = _rng(7).normal(size=(2, 2, 3, 4))
    theirs = torch.nn.functional.cosine_similarity(_t(x1), _t(x2))  # dim=1
    assert tuple(theirs.shape) == (2, 4)
    assert L.cosine_similarity(x1, x2).shape == (2, 3)
    _close(L.cosine_similarity(x1, x2, axis=1), theirs)


def test_cosine_similarity_0d_inputs_and_axis0_match_torch():
    """torch accepts 0-d inputs (dim 0 or -1: a vector of one element, similarity +-1) and a
    0-d argument broadcast against an array."""
    F = _torch().nn.functional
    for x1, x2, axis in [(np.asarray(-1.5), np.asarray(2.0), 0), (np.asarray(3.0), np.asarray(2.0), -1),
                         (np.asarray(0.0), np.asarray(2.0), 0),
                         (np.asarray(0.7), _rng(75).normal(size=(3, 4)), 0),
                         (_rng(76).normal(size=(3, 4)), np.asarray(-0.7), 1),
                         (_rng(77).normal(size=(4,)), _rng(78).normal(size=(4,)), 0)]:
        got, want, g_got, g_want = _torch_and_ours(lambda a, b: F.cosine_similarity(a, b, dim=axis),
                                                   lambda a, b: L.cosine_similarity(a, b, axis=axis), (x1, x2))
        assert tuple(got.shape) == tuple(want.shape)
        _close(got, want)
        for x, y in zip(g_got, g_want):
            _close(x, y, rtol=1e-12, atol=1e-4)  # magnitudes ~1e8 at the zero scalar
    with pytest.raises(ValueError, match="axis must be an int in"):
        L.cosine_similarity(np.asarray(1.0), np.asarray(2.0), axis=1)


def test_cosine_similarity_eps0_matches_torch():
    """eps >= 0 as torch: with eps=0 a zero vector gives NaN (0 / 0) on both."""
    torch = _torch()
    x1, x2 = _rng(79).normal(size=(2, 3, 4))
    x1[0] = 0.0
    ours = L.cosine_similarity(x1, x2, eps=0.0)
    theirs = torch.nn.functional.cosine_similarity(_t(x1), _t(x2), dim=-1, eps=0.0).numpy()
    assert np.isnan(ours[0]) and np.isnan(theirs[0])
    _close(ours[1:], theirs[1:])


def test_cosine_similarity_optax_value():
    pytest.importorskip("optax")
    import optax

    _, jnp = _jax()
    x1, x2 = _rng(8).normal(size=(2, 5, 3))
    _close(L.cosine_similarity(jnp.asarray(x1), jnp.asarray(x2)),
           optax.cosine_similarity(jnp.asarray(x1), jnp.asarray(x2), epsilon=1e-16))


# ------------------------------------------------------------------------- contrastive ----
def _pairs(seed=9, n=8):
    x1, x2 = _rng(seed).normal(size=(2, n, 4)) * 0.6
    y = (np.arange(n) % 2).astype(np.float64)
    return x1, x2, y


@pytest.mark.parametrize("squared", [True, False])
def test_contrastive_loss_hadsell_formula(squared):
    x1, x2, y = _pairs()
    d = np.linalg.norm(x1 - x2, axis=-1)
    m = 1.3
    if squared:
        want = 0.5 * (y * d**2 + (1 - y) * np.maximum(m - d, 0) ** 2)
    else:
        want = 0.5 * (y * d + (1 - y) * np.maximum(m - d, 0))
    _close(L.contrastive_loss(x1, x2, y, margin=m, squared=squared, reduction="none"), want)
    _close(L.contrastive_loss(x1, x2, y, margin=m, squared=squared), want.mean())
    _close(L.contrastive_loss(x1, x2, y.astype(np.int64), margin=m, squared=squared, reduction="sum"),
           want.sum())


def test_contrastive_loss_tf_addons_setting():
    # tfa.losses.contrastive_loss(y, D, margin): mean(y D^2 + (1 - y) max(m - D, 0)^2)
    x1, x2, y = _pairs(10)
    d = np.linalg.norm(x1 - x2, axis=-1)
    tfa = np.mean(y * d**2 + (1 - y) * np.maximum(1.0 - d, 0) ** 2)
    _close(2 * L.contrastive_loss(x1, x2, y, margin=1.0), tfa)


def ref_pml_contrastive(x1, x2, y, pos_margin=0.0, neg_margin=1.0):
    """pytorch-metric-learning ContrastiveLoss on explicit pairs (indices_tuple), LpDistance(p=2,
    normalize_embeddings=False), MeanReducer: the loss dict has a "pos_loss" (relu(d - pos_margin)
    over the positive pairs) and a "neg_loss" (relu(neg_margin - d) over the negative pairs);
    the reducer averages each sub-loss on its own (an empty one is 0) and the total is their
    sum."""
    d = np.sqrt(((x1 - x2) ** 2).sum(-1))
    pos = np.maximum(d[y == 1] - pos_margin, 0)
    neg = np.maximum(neg_margin - d[y == 0], 0)
    return (pos.mean() if pos.size else 0.0) + (neg.mean() if neg.size else 0.0)


def test_contrastive_loss_pml_setting():
    """pml averages the positive and the negative pairs separately and adds the two means: the
    docstring's recipe from reduction="none"; not a multiple of our mean unless balanced."""
    x1, x2, _ = _pairs(11, n=9)
    y = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0], dtype=np.float64)  # 6 positive, 3 negative pairs
    pml = ref_pml_contrastive(x1, x2, y, neg_margin=0.8)
    per_pair = L.contrastive_loss(x1, x2, y, margin=0.8, squared=False, reduction="none")
    _close(2 * (per_pair[y == 1].mean() + per_pair[y == 0].mean()), pml)
    mean = L.contrastive_loss(x1, x2, y, margin=0.8, squared=False)
    assert not np.isclose(2 * mean, pml) and not np.isclose(4 * mean, pml)
    # balanced pairs: pml = 4 x our mean (the former claim "2x" was wrong)
    x1, x2, y = _pairs(12)
    _close(4 * L.contrastive_loss(x1, x2, y, margin=0.8, squared=False),
           ref_pml_contrastive(x1, x2, y, neg_margin=0.8))


def test_contrastive_loss_mean_over_is_pml_reducers():
    """mean_over= names pml's reducers: ContrastiveLoss run by pml on the pairs (i, N + i) of
    [x1; x2] (MeanReducer: "pos_neg"; its default AvgNonZeroReducer: "pos_neg_nonzero"), value
    and gradient; the float64 formulas (and "nonzero": the mean of the losses > 0) here."""
    torch = _torch()
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    from pytorch_metric_learning import distances, reducers

    x1, x2, _ = _pairs(11, n=9)
    x2[1] = x1[1]  # a similar pair at distance 0: a zero term, left out by "nonzero"
    y = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0], dtype=np.float64)
    d = np.sqrt(((x1 - x2) ** 2).sum(-1))
    pos, neg = 0.5 * d[y == 1], 0.5 * np.maximum(0.8 - d[y == 0], 0)
    per = np.where(y == 1, 0.5 * d, 0.5 * np.maximum(0.8 - d, 0))
    want = {"elements": per.mean(), "nonzero": per[per > 0].mean(), "pos_neg": pos.mean() + neg.mean(),
            "pos_neg_nonzero": pos[pos > 0].mean() + (neg[neg > 0].mean() if (neg > 0).any() else 0.0)}
    for m, w in want.items():
        _close(L.contrastive_loss(x1, x2, y, margin=0.8, squared=False, mean_over=m), w)
    i = torch.arange(9)
    p_i, n_i = i[torch.tensor(y) == 1], i[torch.tensor(y) == 0]
    for m, kw in (("pos_neg", {"reducer": reducers.MeanReducer()}), ("pos_neg_nonzero", {})):
        a, b = _t(x1, grad=True), _t(x2, grad=True)
        theirs = pml.ContrastiveLoss(pos_margin=0.0, neg_margin=0.8, distance=distances.LpDistance(
            normalize_embeddings=False), **kw)(torch.cat([a, b]), torch.zeros(18, dtype=torch.int64),
                                               (p_i, p_i + 9, n_i, n_i + 9))
        ours = 2 * L.contrastive_loss(a, b, torch.tensor(y), margin=0.8, squared=False, mean_over=m)
        _close(ours.item(), theirs.item())
        g1, g2 = torch.autograd.grad(ours, (a, b)), torch.autograd.grad(theirs, (a, b))
        for u, v in zip(g1, g2):
            _close(u, v)
    with pytest.raises(ValueError, match="mean_over"):
        L.contrastive_loss(x1, x2, y, mean_over="valid")
    # no dissimilar pair: its mean is 0 (pml's), the result finite
    _close(L.contrastive_loss(x1, x2, np.ones(9), squared=False, mean_over="pos_neg"), (0.5 * d).mean())


def test_contrastive_loss_infinite_distance_follows_hinge_embedding():
    """A dissimilar pair at an infinite distance has loss 0 (its label selects the hinge term,
    as torch's hinge_embedding_loss); a similar one inf; a NaN embedding gives NaN."""
    torch = _torch()
    x1, x2, y = _pairs(64)
    x1[0, 1] = np.inf  # y[0] = 0: dissimilar
    x1[1, 2] = -np.inf  # y[1] = 1: similar
    for squared in (True, False):
        none = L.contrastive_loss(x1, x2, y, margin=1.1, squared=squared, reduction="none")
        assert none[0] == 0.0 and none[1] == np.inf
        assert np.isfinite(none[2:]).all()
    d = torch.linalg.vector_norm(_t(x1) - _t(x2), dim=-1)
    want = torch.nn.functional.hinge_embedding_loss(d, _t(2 * y - 1), margin=1.1, reduction="none")
    _close(2 * L.contrastive_loss(x1, x2, y, margin=1.1, squared=False, reduction="none"), want)
    x1[0, 1] = np.nan
    none = L.contrastive_loss(x1, x2, y, reduction="none")
    assert np.isnan(none[0]) and np.isnan(L.contrastive_loss(x1, x2, y))


def test_contrastive_loss_complex_target_refused_before_value_checks():
    """Every argument's dtype before any value check: a complex target is a TypeError naming it
    (torch's min would fail first with NotImplementedError)."""
    torch = _torch()
    x1, x2, y = _pairs(65)
    for target in (y.astype(np.complex128), torch.tensor(y, dtype=torch.complex128)):
        a, b = (x1, x2) if isinstance(target, np.ndarray) else (_t(x1), _t(x2))
        with pytest.raises(TypeError, match="target must have a real dtype"):
            L.contrastive_loss(a, b, target)


def test_contrastive_loss_hinge_embedding_setting():
    torch = _torch()
    x1, x2, y = _pairs(12)
    a, b = _t(x1, True), _t(x2, True)
    want = torch.nn.functional.hinge_embedding_loss(torch.linalg.vector_norm(a - b, dim=-1), _t(2 * y - 1), margin=1.1)
    ga, gb = torch.autograd.grad(want, (a, b))
    a2, b2 = _t(x1, True), _t(x2, True)
    got = 2 * L.contrastive_loss(a2, b2, _t(y), margin=1.1, squared=False)
    ha, hb = torch.autograd.grad(got, (a2, b2))
    _close(got.detach(), want.detach())
    _close(ha, ga)
    _close(hb, gb)


def test_contrastive_loss_bool_and_int_targets_on_strict():
    xs = pytest.importorskip("array_api_strict")
    x1, x2, y = _pairs(61)
    want = L.contrastive_loss(x1, x2, y)
    _close(np.asarray(L.contrastive_loss(xs.asarray(x1), xs.asarray(x2), xs.asarray(y.astype(bool)))), want)
    _close(np.asarray(L.contrastive_loss(xs.asarray(x1), xs.asarray(x2), xs.asarray(y.astype(np.int8)))), want)


def test_contrastive_loss_zero_distance_finite_gradient():
    torch = _torch()
    x = _rng(13).normal(size=(4, 3))
    y = np.array([1.0, 0.0, 1.0, 0.0])
    a, b = _t(x, True), _t(x, True)
    out = L.contrastive_loss(a, b, _t(y), margin=2.0, reduction="none")
    ga, gb = torch.autograd.grad(out.sum(), (a, b))
    _close(out.detach(), 0.5 * (1 - y) * 4.0)
    _close(ga, np.zeros_like(x))
    _close(gb, np.zeros_like(x))


# ----------------------------------------------------------------------------- triplet ----
def _triplets(seed=14, n=7, d=4):
    return _rng(seed).normal(size=(3, n, d))


@pytest.mark.parametrize("kw", [
    {}, {"margin": 0.3}, {"p": 1.0}, {"p": 3.0, "eps": 1e-3}, {"swap": True}, {"swap": True, "p": 1.5},
    {"reduction": "none"}, {"reduction": "sum", "margin": 2.0}, {"eps": 0.0},
])
def test_triplet_margin_loss_matches_torch(kw):
    torch = _torch()
    arrays = _triplets()
    ts = [_t(x, True) for x in arrays]
    want = torch.nn.functional.triplet_margin_loss(*ts, **kw)
    g_want = torch.autograd.grad(want.sum(), ts)
    ours = [_t(x, True) for x in arrays]
    got = L.triplet_margin_loss(*ours, **kw)
    g_got = torch.autograd.grad(got.sum(), ours)
    assert got.shape == want.shape
    _close(got.detach(), want.detach())
    for a, b in zip(g_got, g_want):
        _close(a, b)


@pytest.mark.parametrize("p", [-1.0, 0.0, float("inf"), -float("inf")])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss_every_p_torch_takes(p, swap):
    F = _torch().nn.functional
    arrays = tuple(_triplets(21))
    kw = {"p": p, "swap": swap, "margin": 0.2 if p < 0 else 1.0, "reduction": "none"}
    got, want, g_got, g_want = _torch_and_ours(lambda *a: F.triplet_margin_loss(*a, **kw),
                                               lambda *a: L.triplet_margin_loss(*a, **kw), arrays)
    _close(got, want)
    for x, y in zip(g_got, g_want):
        _close(x, y)


def test_triplet_margin_loss_margin_must_be_positive_as_torch():
    torch = _torch()
    a, p, n = _triplets(22)
    for m in (0.0, -1.0):
        with pytest.raises(ValueError, match="margin must be > 0"):
            L.triplet_margin_loss(a, p, n, margin=m)
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            torch.nn.functional.triplet_margin_loss(_t(a), _t(p), _t(n), margin=m)
    # docs/differences.md: an infinite margin is refused; torch computes an infinite loss
    for f in (L.triplet_margin_loss, L.triplet_margin_with_distance_loss):
        with pytest.raises(ValueError, match="margin must be finite"):
            f(a, p, n, margin=float("inf"))
    assert torch.nn.functional.triplet_margin_loss(_t(a), _t(p), _t(n), margin=float("inf")) == float("inf")


def test_triplet_margin_loss_1d_inputs_match_torch():
    torch = _torch()
    a, p, n = _triplets(15, n=1)[:, 0]
    want = torch.nn.functional.triplet_margin_loss(_t(a), _t(p), _t(n), margin=3.0)
    _close(L.triplet_margin_loss(a, p, n, margin=3.0), want)


def test_triplet_margin_loss_kink_and_swap_tie_gradients_equal_torch():
    """Torch's subgradients: 1 at the hinge's kink (clamp_min), 1/2-1/2 at a swap tie."""
    torch = _torch()
    a = np.array([[0.0, 0.0, 0.0]])
    p = np.array([[1.0, 1.0, 0.0]])  # d_ap = 2 (p=1)
    n = np.array([[0.0, 0.0, 3.0]])  # d_an = 3 = d_pn? no: d_pn = 1 + 1 + 3 = 5
    for arrays, kw in [((a, p, n), {"margin": 1.0}),  # 1 + 2 - 3 == 0: kink
                       ((np.array([[1.0, 2.0]]), np.array([[2.0, 1.0]]), np.array([[0.0, 0.0]])),
                        {"margin": 5.0, "swap": True})]:  # d_an == d_pn == 3: tie
        ts = [_t(x, True) for x in arrays]
        want = torch.nn.functional.triplet_margin_loss(*ts, p=1.0, eps=0.0, **kw)
        g_want = torch.autograd.grad(want, ts)
        ours = [_t(x, True) for x in arrays]
        got = L.triplet_margin_loss(*ours, p=1.0, eps=0.0, **kw)
        g_got = torch.autograd.grad(got, ours)
        _close(got.detach(), want.detach())
        for x, y in zip(g_got, g_want):
            _close(x, y)
    # at the kink the gradient passes (torch's clamp_min): d/d negative = -sign(n - a) != 0
    assert np.abs(g_got[2].numpy()).sum() > 0


def test_triplet_margin_loss_optax_p2_eps0():
    pytest.importorskip("optax")
    import optax

    _, jnp = _jax()
    a, p, n = (jnp.asarray(x) for x in _triplets(16))
    want = optax.losses.triplet_margin_loss(a, p, n, norm_degree=2, margin=1.0, eps=0.0)
    _close(L.triplet_margin_loss(a, p, n, eps=0.0, reduction="none"), want)


def test_triplet_margin_loss_optax_p1_has_no_abs_ours_is_l1():
    """docs/differences.md: optax's norm_degree=1 sums signed differences; ours is the L1 norm."""
    pytest.importorskip("optax")
    import optax

    _, jnp = _jax()
    a, p, n = _triplets(17)
    want = np.maximum(np.abs(a - p).sum(-1) - np.abs(a - n).sum(-1) + 1.0, 0)
    _close(L.triplet_margin_loss(a, p, n, p=1.0, eps=0.0, reduction="none"), want)
    theirs = np.asarray(optax.losses.triplet_margin_loss(jnp.asarray(a), jnp.asarray(p), jnp.asarray(n),
                                                         norm_degree=1, eps=0.0))
    assert not np.allclose(theirs, want)
    _close(theirs, np.maximum((a - p).sum(-1) - (a - n).sum(-1) + 1.0, 0))


def test_triplet_margin_loss_optax_eps_placement_differs():
    """docs/differences.md: optax adds eps inside the root, torch and we add it to the differences."""
    pytest.importorskip("optax")
    import optax

    _, jnp = _jax()
    a, p, n = _triplets(18)
    ours = L.triplet_margin_loss(a, p, n, eps=1e-2, reduction="none")
    _close(ours, np.maximum(np.linalg.norm(a - p + 1e-2, axis=-1) - np.linalg.norm(a - n + 1e-2, axis=-1) + 1, 0))
    theirs = optax.losses.triplet_margin_loss(jnp.asarray(a), jnp.asarray(p), jnp.asarray(n), eps=1e-2)
    assert not np.allclose(np.asarray(theirs), ours, rtol=1e-6)


def test_triplet_margin_loss_zero_distance_eps0_finite_gradient():
    torch = _torch()
    a, _, n = _triplets(19)
    ts = [_t(a, True), _t(a.copy(), True), _t(n, True)]
    out = L.triplet_margin_loss(*ts, eps=0.0, margin=10.0)
    grads = torch.autograd.grad(out, ts)
    assert all(torch.isfinite(g).all() for g in grads)
    _close(out.detach(), np.mean(10.0 - np.linalg.norm(a - n, axis=-1)))


@pytest.mark.parametrize("cosine", [False, True])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss_matches_torch(cosine, swap):
    torch = _torch()
    F = torch.nn.functional
    arrays = _triplets(20)
    ts = [_t(x, True) for x in arrays]
    kw = {"swap": swap, "margin": 0.4}
    tdist = (lambda x, y: 1 - F.cosine_similarity(x, y)) if cosine else None
    odist = (lambda x, y: 1 - L.cosine_similarity(x, y)) if cosine else None
    want = F.triplet_margin_with_distance_loss(*ts, distance_function=tdist, **kw)
    g_want = torch.autograd.grad(want, ts)
    ours = [_t(x, True) for x in arrays]
    got = L.triplet_margin_with_distance_loss(*ours, distance_function=odist, **kw)
    g_got = torch.autograd.grad(got, ours)
    _close(got.detach(), want.detach())
    for x, y in zip(g_got, g_want):
        _close(x, y)


# ------------------------------------------------------------------------------ mining ----
def ref_batch_hard(e, y, margin=1.0, distance="euclidean", normalize=False, soft=False, mean_over="valid"):
    e = np_normalize(e) if normalize else e
    d = np_dist(e, distance)
    out = []
    for a in range(len(y)):
        pos = [j for j in range(len(y)) if y[j] == y[a] and j != a]
        neg = [k for k in range(len(y)) if y[k] != y[a]]
        if not pos or not neg:
            continue
        dap, dan = max(d[a, j] for j in pos), min(d[a, k] for k in neg)
        out.append(np.log1p(np.exp(dap - dan)) if soft else max(0.0, margin + dap - dan))
    return np_mean_over(out, mean_over)


def ref_batch_all(e, y, margin=1.0, distance="euclidean", normalize=False, mean_over="valid"):
    e = np_normalize(e) if normalize else e
    d = np_dist(e, distance)
    n = len(y)
    out = [max(0.0, margin + d[a, p] - d[a, k]) for a in range(n) for p in range(n) for k in range(n)
           if p != a and y[p] == y[a] and y[k] != y[a]]
    return np_mean_over(out, mean_over)


def ref_semi_hard(e, y, margin=1.0, distance="euclidean", normalize=False):
    e = np_normalize(e) if normalize else e
    d = np_dist(e, distance)
    n = len(y)
    out = []
    for a in range(n):
        neg = [k for k in range(n) if y[k] != y[a]]
        for p in range(n):
            if p == a or y[p] != y[a] or not neg:
                continue
            farther = [d[a, k] for k in neg if d[a, k] > d[a, p]]
            dn = min(farther) if farther else max(d[a, k] for k in neg)
            out.append(max(0.0, margin + d[a, p] - dn))
    return np_mean_over(out)


def ref_pml_semihard(e, y, margin):
    # TripletMarginMiner(margin, "semihard") + TripletMarginLoss(margin), LpDistance(normalize), AvgNonZero
    d = np_dist(np_normalize(e))
    n = len(y)
    out = [margin + d[a, p] - d[a, k] for a in range(n) for p in range(n) for k in range(n)
           if p != a and y[p] == y[a] and y[k] != y[a] and 0 < d[a, k] - d[a, p] <= margin]
    return np_mean_over(out, "nonzero")


# TF-Addons, transcribed: masked max/min, semi-hard and hard losses (exact distances)
def _tfa_masked_maximum(data, mask):
    mins = data.min(1, keepdims=True)
    return ((data - mins) * mask).max(1, keepdims=True) + mins


def _tfa_masked_minimum(data, mask):
    maxs = data.max(1, keepdims=True)
    return ((data - maxs) * mask).min(1, keepdims=True) + maxs


def tfa_triplet_semihard_loss(y, e, margin=1.0):
    pdist = np_dist(e)
    b = len(y)
    adjacency = y[:, None] == y[None, :]
    adjacency_not = ~adjacency
    pdist_tile = np.tile(pdist, (b, 1))
    mask = np.tile(adjacency_not, (b, 1)) & (pdist_tile > pdist.T.reshape(-1, 1))
    mask_final = (mask.astype(float).sum(1, keepdims=True) > 0).reshape(b, b).T
    neg_out = _tfa_masked_minimum(pdist_tile, mask.astype(float)).reshape(b, b).T
    neg_in = np.tile(_tfa_masked_maximum(pdist, adjacency_not.astype(float)), (1, b))
    semi = np.where(mask_final, neg_out, neg_in)
    loss_mat = margin + pdist - semi
    mask_pos = adjacency.astype(float) - np.eye(b)
    return np.maximum(loss_mat * mask_pos, 0).sum() / mask_pos.sum()


def tfa_triplet_hard_loss(y, e, margin=1.0, soft=False):
    pdist = np_dist(e)
    adjacency = y[:, None] == y[None, :]
    hp = _tfa_masked_maximum(pdist, adjacency.astype(float) - np.eye(len(y)))
    hn = _tfa_masked_minimum(pdist, (~adjacency).astype(float))
    loss = np.log1p(np.exp(hp - hn)) if soft else np.maximum(hp - hn + margin, 0)
    return loss.mean()


_MINING_KW = [
    {}, {"margin": 0.3}, {"distance": "squared"}, {"distance": "cosine", "margin": 0.2},
    {"normalize": True, "margin": 0.1}, {"mean_over": "nonzero", "margin": 0.5},
]


@pytest.mark.parametrize("kw", _MINING_KW)
def test_batch_hard_triplet_loss_formula(kw):
    e = _rng(21).normal(size=(9, 4))
    y = _labels_with_positives()
    want = ref_batch_hard(e, y, **kw)
    _close(L.batch_hard_triplet_loss(e, y, **kw), want)
    _close(L.batch_hard_triplet_loss(e, y, soft_margin=True), ref_batch_hard(e, y, soft=True))


@pytest.mark.parametrize("kw", _MINING_KW + [{"soft_margin": True}])
def test_batch_hard_gradient_equals_the_distance_matrix_route(kw):
    """The picked distances are computed again from the picked rows: value and gradient
    are those of the differentiable (N, N) distance matrix read at the picks (float64)."""
    torch = _torch()
    from losses._common import l2_normalize
    from losses.backends import namespace
    from losses.metric import _distance_matrix, _hard_select, _label_masks

    e = _rng(25).normal(size=(9, 4))
    e[4] = e[1]  # a duplicate positive pair: distance 0, zero gradient
    y = _labels_with_positives()
    x, yt = _t(e, True), torch.asarray(y)
    got = L.batch_hard_triplet_loss(x, yt, **kw)
    (g_got,) = torch.autograd.grad(got, (x,))
    x2 = _t(e, True)
    xp = namespace(e=x2)
    z = l2_normalize(xp, x2) if kw.get("normalize") else x2
    d = _distance_matrix(xp, z, kw.get("distance", "euclidean"))
    pos, neg = _label_masks(xp, z, yt)
    ip, i_n, valid = _hard_select(xp, d.detach(), pos, neg, "hard", "hard")
    gap = d.gather(1, ip[:, None])[:, 0] - d.gather(1, i_n[:, None])[:, 0]
    per = torch.nn.functional.softplus(gap) if kw.get("soft_margin") else torch.relu(kw.get("margin", 1.0) + gap)
    per = torch.where(valid, per, 0.0)
    count = valid if kw.get("mean_over") != "nonzero" else valid & (per > 0)
    want = per.sum() / count.sum()
    (g_want,) = torch.autograd.grad(want, (x2,))
    _close(got.detach(), want.detach(), rtol=1e-10)
    _close(g_got, g_want, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kw", _MINING_KW)
def test_batch_all_triplet_loss_formula(kw):
    e = _rng(22).normal(size=(9, 4))
    y = _labels_with_positives()
    _close(L.batch_all_triplet_loss(e, y, **kw), ref_batch_all(e, y, **kw))


@pytest.mark.parametrize("kw", [k for k in _MINING_KW if "mean_over" not in k])
def test_semi_hard_triplet_loss_formula(kw):
    e = _rng(23).normal(size=(9, 4))
    y = _labels_with_positives()
    _close(L.semi_hard_triplet_loss(e, y, **kw), ref_semi_hard(e, y, **kw))


def test_semi_hard_uses_fallback_farthest_negative():
    # anchor 0, positive 1 far away: no negative is farther than the positive -> farthest negative
    e = np.array([[0.0, 0.0], [10.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([0, 0, 1, 1])
    per_pair = L.semi_hard_triplet_loss(e, y, margin=1.0, reduction="none")
    _close(per_pair[0, 1], 1.0 + 10.0 - 2.0)
    _close(L.semi_hard_triplet_loss(e, y), ref_semi_hard(e, y))


def test_tf_addons_semihard_setting():
    e = _rng(24).normal(size=(10, 3))
    y = _labels_with_positives(10, 3, seed=2)
    for m in (1.0, 0.2):
        _close(L.semi_hard_triplet_loss(e, y, margin=m), tfa_triplet_semihard_loss(y, e, margin=m))


def test_tf_addons_semihard_difference_no_negatives():
    """docs/differences.md: TF-Addons keeps positive pairs whose anchor has no negative (loss
    margin + d_ap, its masked maximum over no negative being 0); we drop them (0 here)."""
    e = _rng(60).normal(size=(5, 3))
    y = np.zeros(5, dtype=np.int64)
    d = np_dist(e)
    tfa = tfa_triplet_semihard_loss(y, e, margin=1.0)
    _close(tfa, np.mean([1.0 + d[a, p] for a in range(5) for p in range(5) if a != p]))
    assert L.semi_hard_triplet_loss(e, y) == 0.0


def test_tf_addons_hard_setting():
    e = _rng(25).normal(size=(10, 3))
    y = _labels_with_positives(10, 3, seed=3)
    _close(L.batch_hard_triplet_loss(e, y, margin=0.7), tfa_triplet_hard_loss(y, e, margin=0.7))
    _close(L.batch_hard_triplet_loss(e, y, soft_margin=True), tfa_triplet_hard_loss(y, e, soft=True))


def test_tf_addons_hard_difference_anchor_without_positive():
    """docs/differences.md: TF-Addons averages over all anchors (hardest positive distance 0
    for an anchor without positives); we average over valid anchors."""
    e = _rng(26).normal(size=(7, 3))
    y = np.array([0, 0, 1, 1, 2, 2, 3])  # anchor 6 has no positive
    ours = L.batch_hard_triplet_loss(e, y)
    tfa = tfa_triplet_hard_loss(y, e)
    d = np_dist(e)
    lone = max(0.0, 1.0 - d[6, :6].min())
    _close(tfa * 7, ours * 6 + lone)
    assert not np.isclose(ours, tfa)


def test_pml_batch_hard_setting():
    e = _rng(27).normal(size=(9, 4))
    y = _labels_with_positives()
    got = L.batch_hard_triplet_loss(e, y, margin=0.05, normalize=True, mean_over="nonzero")
    _close(got, ref_batch_hard(e, y, margin=0.05, normalize=True, mean_over="nonzero"))


def test_pml_all_triplets_setting_and_hermans_ba_nonzero():
    e = _rng(28).normal(size=(9, 4))
    y = _labels_with_positives()
    d = np_dist(np_normalize(e))
    vals = [0.05 + d[a, p] - d[a, k] for a in range(9) for p in range(9) for k in range(9)
            if p != a and y[p] == y[a] and y[k] != y[a]]
    vals = [v for v in vals if v > 0]
    _close(L.batch_all_triplet_loss(e, y, margin=0.05, normalize=True, mean_over="nonzero"), np.mean(vals))


def test_pml_semihard_setting():
    e = _rng(29).normal(size=(12, 4))
    y = _labels_with_positives(12, 3, seed=4)
    for m in (0.2, 0.5):
        got = L.semi_hard_triplet_loss(e, y, margin=m, normalize=True, negatives="all", mean_over="nonzero")
        _close(got, ref_pml_semihard(e, y, m))


# ------------------------------------------------------------------------------ miners ----
def _mined(t):
    """pml's index tuple ``(a, p, n)``: the valid entries of our fixed-shape Triplets."""
    v = np.asarray(t.valid)
    return tuple(np.asarray(i)[v] for i in (t.anchor, t.positive, t.negative))


@pytest.mark.parametrize("pos", ["hard", "easy"])
@pytest.mark.parametrize("neg", ["hard", "easy"])
def test_batch_hard_mining_equals_pml_batch_easy_hard_miner(pos, neg):
    torch = _torch()
    miners = pytest.importorskip("pytorch_metric_learning.miners")
    e = _rng(40).normal(size=(12, 5))
    y = _labels_with_positives(12, 3, seed=5)
    y[0] = 9  # an anchor without a positive: left out by pml, not valid here
    a, p, a2, n = miners.BatchEasyHardMiner(pos_strategy=pos, neg_strategy=neg)(_t(e), torch.tensor(y))
    t = L.batch_hard_mining(e, y, normalize=True, positives=pos, negatives=neg)
    assert t.anchor.shape == t.valid.shape == (12,) and t.valid.dtype == np.bool_
    assert not t.valid[0] and t.positive[0] == t.negative[0] == 0
    for ours, theirs in zip(_mined(t), (a, p, n)):
        np.testing.assert_array_equal(ours, theirs.numpy())
    np.testing.assert_array_equal(a2.numpy(), a.numpy())
    if pos == neg == "hard":
        a, p, n = miners.BatchHardMiner()(_t(e), torch.tensor(y))
        for ours, theirs in zip(_mined(t), (a, p, n)):
            np.testing.assert_array_equal(ours, theirs.numpy())


@pytest.mark.parametrize("margin", [0.2, 0.5, 1.0])
def test_semi_hard_mining_all_equals_pml_triplet_margin_miner(margin):
    torch = _torch()
    miners = pytest.importorskip("pytorch_metric_learning.miners")
    e = _rng(41).normal(size=(10, 4))
    y = _labels_with_positives(10, 3, seed=6)
    a, p, n = miners.TripletMarginMiner(margin=margin, type_of_triplets="semihard")(_t(e), torch.tensor(y))
    t = L.semi_hard_mining(e, y, margin=margin, normalize=True, negatives="all")
    assert t.valid.shape == (10, 10, 10) and len(a) > 0
    for ours, theirs in zip(_mined(t), (a, p, n)):  # the same triplets in the same order
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_miners_take_the_first_index_on_ties_pml_any_tied_index():
    """Documented difference: on tied distances our miners pick the first index (argmax /
    argmin of the computed distances); pml's BatchHardMiner uses torch.max/min(dim=1), whose
    index among equal values torch leaves unspecified, on its own (cdist) distances, so it may
    pick another, equally hard sample."""
    torch = _torch()
    miners = pytest.importorskip("pytorch_metric_learning.miners")
    # integer embeddings, squared distances: exact integers, so exact ties
    e = _rng(3).integers(-2, 3, size=(30, 2)).astype(float)
    y = _rng(4).integers(0, 3, size=30)
    d = np_dist(e, "squared")
    t = L.batch_hard_mining(e, y, distance="squared")
    n_ties = 0
    for a in range(30):
        pos = [k for k in range(30) if y[k] == y[a] and k != a]
        neg = [k for k in range(30) if y[k] != y[a]]
        first_p = min(k for k in pos if d[a, k] == max(d[a, pos]))  # the first hardest positive
        first_n = min(k for k in neg if d[a, k] == min(d[a, neg]))
        assert (t.positive[a], t.negative[a]) == (first_p, first_n)
        n_ties += sum(d[a, k] == d[a, first_p] for k in pos) > 1
    assert n_ties > 0  # the batch has tied hardest positives
    # pml's default (normalised LpDistance) on tied directions: every pml pick is a hardest
    # sample, but not always the first one
    rng = _rng(2)
    e = rng.integers(-2, 3, size=(40, 3)).astype(float)
    e[(e == 0).all(axis=1)] = 1.0
    y = rng.integers(0, 4, size=40)
    a, p, n = (i.numpy() for i in miners.BatchHardMiner()(_t(e), torch.tensor(y)))
    t = L.batch_hard_mining(e, y, normalize=True)
    d = np_dist(np_normalize(e))
    for i, ai in enumerate(a):
        assert t.valid[ai]
        np.testing.assert_allclose(d[ai, p[i]], d[ai, t.positive[ai]], atol=1e-12)
        np.testing.assert_allclose(d[ai, n[i]], d[ai, t.negative[ai]], atol=1e-12)
    differs = (p != t.positive[a]) | (n != t.negative[a])
    assert differs.any()  # a tie broken differently: the same distance, another sample


def test_semi_hard_mining_closest_is_facenet_selection():
    """The FaceNet / TF-Addons negative of every positive pair, by brute force in NumPy: the
    closest negative farther than the positive, else the farthest negative."""
    e = _rng(42).normal(size=(11, 3))
    y = _labels_with_positives(11, 3, seed=7)
    y[3] = 8
    d = np_dist(e)
    t = L.semi_hard_mining(e, y)
    for a in range(11):
        neg = [k for k in range(11) if y[k] != y[a]]
        for p in range(11):
            ok = p != a and y[p] == y[a] and bool(neg)
            assert bool(t.valid[a, p]) == ok
            assert t.anchor[a, p] == a
            if not ok:
                assert t.positive[a, p] == t.negative[a, p] == a
                continue
            farther = [k for k in neg if d[a, k] > d[a, p]]
            want = min(farther, key=lambda k: d[a, k]) if farther else max(neg, key=lambda k: d[a, k])
            assert t.positive[a, p] == p and t.negative[a, p] == want


def test_mined_triplets_feed_triplet_margin_loss_tf_addons_and_pml():
    """A miner combined with another loss: the semi-hard triplets through triplet_margin_loss
    give TF-Addons' triplet_semihard_loss; the batch-hard ones, through pml's TripletMarginLoss
    with pml's miner output as indices_tuple, give pml's value."""
    e = _rng(43).normal(size=(9, 4))
    y = _labels_with_positives()
    t = L.semi_hard_mining(e, y)
    a, p, n = (np.asarray(i).reshape(-1) for i in t[:3])
    per = L.triplet_margin_loss(e[a], e[p], e[n], margin=1.0, eps=0.0, reduction="none")
    v = np.asarray(t.valid).reshape(-1)
    _close(per[v].mean(), tfa_triplet_semihard_loss(y, e, 1.0))
    torch = _torch()
    pml_losses = pytest.importorskip("pytorch_metric_learning.losses")
    miners = pytest.importorskip("pytorch_metric_learning.miners")
    x, labels = _t(e), torch.tensor(y)
    want = pml_losses.TripletMarginLoss(margin=0.3)(x, labels, miners.BatchHardMiner()(x, labels))
    a, p, n = _mined(L.batch_hard_mining(e, y, normalize=True))
    en = np_normalize(e)
    per = L.triplet_margin_loss(en[a], en[p], en[n], margin=0.3, eps=0.0, reduction="none")
    _close(per[per > 0].mean(), want.item())


def test_miners_select_nan_distances():
    """A NaN embedding: every distance to it is NaN, and argmax/argmin pick it first, so the
    loss computed on the mined triplets is NaN where it reads that row (rule 5)."""
    e = _rng(44).normal(size=(9, 3))
    y = _labels_with_positives()
    e[4, 1] = np.nan
    t = L.batch_hard_mining(e, y)
    for a in range(9):
        if a == 4:
            continue
        if y[a] == y[4]:
            assert t.positive[a] == 4
        else:
            assert t.negative[a] == 4
    s = L.semi_hard_mining(e, y)
    for a in range(9):
        if a != 4 and y[a] != y[4]:
            assert np.all(np.asarray(s.negative[a])[np.asarray(s.valid[a])] == 4)


def test_mining_losses_use_the_miners_selection():
    e = _rng(45).normal(size=(9, 4))
    y = _labels_with_positives()
    d = np_dist(e)
    t = L.batch_hard_mining(e, y)
    loss = np.maximum(0.0, 0.5 + d[t.anchor, t.positive] - d[t.anchor, t.negative])
    _close(L.batch_hard_triplet_loss(e, y, margin=0.5, reduction="none"), np.where(t.valid, loss, 0.0))
    s = L.semi_hard_mining(e, y)
    loss = np.maximum(0.0, 1.0 + d[s.anchor, s.positive] - d[s.anchor, s.negative])
    _close(L.semi_hard_triplet_loss(e, y, reduction="none"), np.where(s.valid, loss, 0.0))


def test_miners_empty_batch_and_errors():
    e, y = np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    assert [a.shape for a in L.batch_hard_mining(e, y)] == [(0,)] * 4
    assert [a.shape for a in L.semi_hard_mining(e, y, negatives="all")] == [(0, 0, 0)] * 4
    e, y = _rng(46).normal(size=(4, 2)), np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="positives"):
        L.batch_hard_mining(e, y, positives="semihard")
    with pytest.raises(ValueError, match="negatives"):
        L.batch_hard_mining(e, y, negatives="all")
    with pytest.raises(ValueError, match="negatives"):
        L.semi_hard_mining(e, y, negatives="hard")
    with pytest.raises(ValueError, match="margin"):
        L.semi_hard_mining(e, y, margin=float("inf"))
    with pytest.raises(TypeError, match="labels"):
        L.batch_hard_mining(e, y.astype(np.float64))


# ---------------------------------------------------------------------- indices_tuple ----
def _pml_miners():
    miners = pytest.importorskip("pytorch_metric_learning.miners")
    return [miners.BatchHardMiner(), miners.TripletMarginMiner(margin=0.3, type_of_triplets="semihard"),
            miners.MultiSimilarityMiner(), miners.PairMarginMiner(pos_margin=0.2, neg_margin=0.8)]


@pytest.mark.parametrize("k", range(4))
def test_indices_tuple_equals_pml_losses_values_and_gradients(k):
    """pml's TripletMarginLoss and MultiSimilarityLoss on a miner's triplets (a, p, n) or pairs
    (a1, p, a2, n): the same value and gradient through indices_tuple=."""
    torch = _torch()
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    e = _rng(50 + k).normal(size=(12, 5))
    y = _labels_with_positives(12, 3, seed=k)
    x, labels = _t(e, grad=True), torch.tensor(y)
    it = _pml_miners()[k](x, labels)
    for want, got in [
        (pml.TripletMarginLoss(margin=0.2)(x, labels, it),
         L.batch_all_triplet_loss(x, labels, margin=0.2, normalize=True, mean_over="nonzero", indices_tuple=it)),
        (pml.TripletMarginLoss(margin=0.2, reducer=pytest.importorskip("pytorch_metric_learning.reducers")
                               .MeanReducer())(x, labels, it),
         L.batch_all_triplet_loss(x, labels, margin=0.2, normalize=True, indices_tuple=it)),
        (pml.MultiSimilarityLoss(beta=10)(x, labels, it),
         L.multi_similarity_loss(x, labels, beta=10.0, indices_tuple=it)),
    ]:
        _close(got.item(), want.item(), rtol=1e-12)
        (gw,), (gg,) = torch.autograd.grad(want, x), torch.autograd.grad(got, x)
        _close(gg, gw, atol=1e-12)


def test_indices_tuple_formulas_and_miner_triplets():
    """Independent float64 formulas: the hinge of each given triplet; pairs combine every
    positive pair with every negative pair of the same anchor; a miner's Triplets is taken
    traceably (its valid entries)."""
    e = _rng(55).normal(size=(9, 4))
    y = _labels_with_positives()
    d = np_dist(e)
    a, p, n = np.array([0, 0, 4]), np.array([3, 6, 1]), np.array([1, 2, 8])
    per = np.maximum(0.0, 0.5 + d[a, p] - d[a, n])
    _close(L.batch_all_triplet_loss(e, y, margin=0.5, indices_tuple=(a, p, n), reduction="none"), per)
    a1, p1, a2, n2 = np.array([0, 4, 0]), np.array([3, 1, 6]), np.array([0, 4, 5]), np.array([1, 8, 2])
    want = [max(0.0, 0.5 + d[a1[i], p1[i]] - d[a2[j], n2[j]]) for i in range(3) for j in range(3) if a1[i] == a2[j]]
    _close(L.batch_all_triplet_loss(e, y, margin=0.5, indices_tuple=(a1, p1, a2, n2)), np.mean(want))
    t = L.semi_hard_mining(e, y)
    _close(L.batch_all_triplet_loss(e, y, indices_tuple=t), L.semi_hard_triplet_loss(e, y))
    _close(L.batch_all_triplet_loss(e, y, indices_tuple=tuple(np.asarray(i)[t.valid] for i in t[:3])),
           L.semi_hard_triplet_loss(e, y))
    empty = np.zeros(0, dtype=np.int64)
    assert float(L.batch_all_triplet_loss(e, y, indices_tuple=(empty, empty, empty))) == 0.0  # pml: 0


def test_indices_tuple_under_jit_and_compile():
    torch = _torch()
    jax, jnp = _jax()
    e = _rng(56).normal(size=(9, 4))
    y = _labels_with_positives()
    it = (np.array([0, 1, 4]), np.array([3, 7, 1]), np.array([1, 2, 8]))
    want = L.multi_similarity_loss(e, y, indices_tuple=it)
    f = jax.jit(lambda x, i: L.multi_similarity_loss(x, jnp.asarray(y), indices_tuple=i))
    _close(f(jnp.asarray(e), tuple(jnp.asarray(i) for i in it)), want)
    ty = torch.tensor(y)
    g = torch.compile(lambda x, i: L.batch_all_triplet_loss(x, ty, indices_tuple=i), fullgraph=True)
    _close(g(_t(e), tuple(torch.tensor(i) for i in it)).item(),
           L.batch_all_triplet_loss(e, y, indices_tuple=it))


def test_indices_tuple_errors_name_the_argument():
    e, y = _rng(57).normal(size=(6, 3)), np.array([0, 0, 1, 1, 2, 2])
    i = np.array([0, 1])
    with pytest.raises(TypeError, match="indices_tuple must be"):
        L.batch_all_triplet_loss(e, y, indices_tuple=(i, i))
    with pytest.raises(TypeError, match=r"indices_tuple\[1\] must have an integer dtype"):
        L.batch_all_triplet_loss(e, y, indices_tuple=(i, i.astype(float), i))
    with pytest.raises(ValueError, match=r"indices_tuple\[2\] must be 1-D"):
        L.multi_similarity_loss(e, y, indices_tuple=(i, i, i[None]))
    with pytest.raises(ValueError, match="same length"):
        L.batch_all_triplet_loss(e, y, indices_tuple=(i, i, i[:1]))
    with pytest.raises(ValueError, match="same length"):
        L.multi_similarity_loss(e, y, indices_tuple=(i, i[:1], i, i))
    with pytest.raises(ValueError, match=r"indices_tuple\[3\] must hold row indices of embeddings \(N = 6\)"):
        L.multi_similarity_loss(e, y, indices_tuple=(i, i, i, np.array([2, 6])))
    with pytest.raises(ValueError, match=r"indices_tuple\[0\] must hold row indices"):
        L.batch_all_triplet_loss(e, y, indices_tuple=(np.array([-1, 0]), i, i))
    with L.value_checks(False):  # the documented switch turns the range check off
        L.batch_all_triplet_loss(e, y, indices_tuple=(i, i, np.array([2, 5])))


def test_indices_tuple_with_group_is_refused():
    """Documented difference: indices_tuple= with group= is a ValueError (the indices of each
    member's shard would have to be global); pml's DistributedLossWrapper takes an
    indices_tuple. Under jax.vmap(axis_name=) the axis name is bound, as in shard_map."""
    jax, jnp = _jax()
    e = jnp.asarray(_rng(5).normal(size=(6, 3)))
    y = jnp.asarray(np.array([0, 0, 1, 1, 2, 2]))
    it = tuple(jnp.asarray(np.array(i)) for i in ([0, 2], [1, 3], [2, 0]))
    for fn in (L.multi_similarity_loss, L.batch_all_triplet_loss):
        assert np.isfinite(float(fn(e, y, indices_tuple=it)))  # fine without a group
        with pytest.raises(ValueError, match="indices_tuple= with a group= is not supported"):
            jax.vmap(lambda x, fn=fn: fn(x, y, group="i", indices_tuple=it), axis_name="i")(e[None])


def test_mining_reduction_none_shapes_and_sums():
    e = _rng(30).normal(size=(6, 3))
    y = np.array([0, 0, 1, 1, 2, 2])
    for f, shape in [(L.batch_hard_triplet_loss, (6,)), (L.batch_all_triplet_loss, (6, 6, 6)),
                     (L.semi_hard_triplet_loss, (6, 6))]:
        none = f(e, y, reduction="none")
        assert none.shape == shape
        _close(none.sum(), f(e, y, reduction="sum"))
    all_none = L.semi_hard_triplet_loss(e, y, negatives="all", reduction="none")
    assert all_none.shape == (6, 6, 6)


@pytest.mark.parametrize("f", [L.batch_hard_triplet_loss, L.batch_all_triplet_loss,
                               L.semi_hard_triplet_loss, L.supervised_contrastive_loss])
@pytest.mark.parametrize("case", ["one_class", "all_distinct", "identical"])
def test_mining_empty_masks_and_identical_inputs_finite(f, case):
    torch = _torch()
    e = _rng(31).normal(size=(6, 3))
    y = np.array([0, 0, 1, 1, 2, 2])
    if case == "one_class":
        y = np.zeros(6, dtype=np.int64)
    elif case == "all_distinct":
        y = np.arange(6)
    else:
        e = np.tile(e[:1], (6, 1))
    x = _t(e, True)
    out = f(x, torch.tensor(y))
    (g,) = torch.autograd.grad(out, (x,))
    assert torch.isfinite(out) and torch.isfinite(g).all()
    if case == "one_class" and f is L.supervised_contrastive_loss:
        assert out.item() > 0  # SupCon needs positives only: every anchor has some
    elif case != "identical":
        assert out.item() == 0.0
        _close(g, np.zeros_like(e))
    elif f is not L.supervised_contrastive_loss:
        assert out.item() == pytest.approx(1.0)  # all distances 0: loss = margin


def _nan_batch(seed=80, k=4):
    e = _rng(seed).normal(size=(9, 4))
    y = _labels_with_positives()
    e[k, 2] = np.nan
    return e, y, k


_MINING_NAN = [(f, kw) for f in (L.batch_hard_triplet_loss, L.batch_all_triplet_loss, L.semi_hard_triplet_loss)
               for kw in ({}, {"mean_over": "nonzero"},
                          {"distance": "cosine", "normalize": True, "margin": 0.2, "mean_over": "nonzero"})]
_MINING_NAN += [(L.semi_hard_triplet_loss, {"negatives": "all", "mean_over": "nonzero", "margin": 0.5}),
                (L.semi_hard_triplet_loss, {"negatives": "all", "normalize": True})]


@pytest.mark.parametrize("f, kw", _MINING_NAN)
def test_mining_nan_embedding_gives_nan_mean(f, kw):
    """A NaN embedding is never dropped by the mining (a NaN loss is not "<= 0", a NaN distance
    is selected): the mean is NaN, with every backend agreeing (conformance variants)."""
    e, y, _ = _nan_batch()
    assert np.isnan(f(e, y, **kw))
    assert np.isnan(f(e, y, reduction="sum", **{k: v for k, v in kw.items() if k != "mean_over"}))


def test_mining_nan_terms_are_the_terms_that_read_it():
    """reduction="none": exactly the valid terms that read the NaN sample k are NaN (k as
    anchor, positive or negative; semi-hard "closest" reads every negative of an anchor in
    its selection, so every pair of an anchor that has k as a negative is NaN)."""
    e, y, k = _nan_batch()
    n = len(y)
    same = y[:, None] == y[None, :]
    pos = same & ~np.eye(n, dtype=bool)
    neg = ~same
    # batch-all: triplets [a, p, n] with k in any role
    valid = pos[:, :, None] & neg[:, None, :]
    a_, p_, n_ = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    reads = (a_ == k) | (p_ == k) | (n_ == k)
    out = L.batch_all_triplet_loss(e, y, reduction="none")
    np.testing.assert_array_equal(np.isnan(out), valid & reads)
    # semi-hard "closest": pairs [a, p]
    a2, p2 = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    reads2 = (a2 == k) | (p2 == k) | neg[:, k][:, None]
    out = L.semi_hard_triplet_loss(e, y, reduction="none")
    np.testing.assert_array_equal(np.isnan(out), pos & reads2)
    # semi-hard "all": triplets with k in any role (a NaN gap is inside the band)
    out = L.semi_hard_triplet_loss(e, y, negatives="all", reduction="none")
    np.testing.assert_array_equal(np.isnan(out), valid & reads)
    # batch-hard: every anchor reads k (as its positive or its negative)
    assert np.isnan(L.batch_hard_triplet_loss(e, y, reduction="none")).all()
    # the clean batch: the semi-hard negative of some pair (a, p) was k; it stays NaN
    clean = e.copy()
    clean[k, 2] = 0.3
    d = np_dist(clean)
    assert any(neg[a, k] and pos[a, p] and d[a, k] > d[a, p] for a in range(n) for p in range(n))


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax", "array_api_strict", "dask"])
def test_empty_batch_rule(backend):
    """N = 0: "mean" is NaN, "sum" 0, "none" empty on every backend (issue #10, section 3);
    the mining losses' "mean of no valid term is 0" holds for non-empty batches only."""
    pytest.importorskip(backend)
    from losses.backends.harness import harness

    ad = harness(backend)
    e = ad.asarray(np.zeros((0, 4)))
    y = ad.asarray(np.zeros((0,), dtype=np.int64))
    calls = [
        (L.batch_hard_triplet_loss, (e, y), {}, (0,)),
        (L.batch_hard_triplet_loss, (e, y), {"soft_margin": True, "mean_over": "nonzero"}, (0,)),
        (L.batch_all_triplet_loss, (e, y), {"mean_over": "nonzero"}, (0, 0, 0)),
        (L.semi_hard_triplet_loss, (e, y), {}, (0, 0)),
        (L.semi_hard_triplet_loss, (e, y), {"negatives": "all"}, (0, 0, 0)),
        (L.supervised_contrastive_loss, (e, y), {}, (0,)),
        (L.nt_xent_loss, (e, e), {}, (0,)),
        (L.info_nce_loss, (e, e), {}, (0,)),
        (L.clip_loss, (e, e), {}, (0,)),
        (L.barlow_twins_loss, (e, e), {}, (0, 0)),
        (L.contrastive_loss, (e, e, ad.asarray(np.zeros((0,)))), {}, (0,)),
        (L.triplet_margin_loss, (e, e, e), {}, (0,)),
    ]
    for f, args, kw, none_shape in calls:
        mean = ad.to_numpy(f(*args, **kw, reduction="mean"))
        total = ad.to_numpy(f(*args, **kw, reduction="sum"))
        none = ad.to_numpy(f(*args, **kw, reduction="none"))
        assert mean.shape == () and np.isnan(mean), (f.__name__, kw, mean)
        assert total.shape == () and total == 0.0, (f.__name__, kw, total)
        assert none.shape == none_shape, (f.__name__, kw, none.shape)


def test_empty_batch_gradients_are_zero():
    torch = _torch()
    e = torch.zeros((0, 4), dtype=torch.float64, requires_grad=True)
    y = torch.zeros((0,), dtype=torch.int64)
    for f, args in [(L.batch_hard_triplet_loss, (y,)), (L.semi_hard_triplet_loss, (y,)),
                    (L.supervised_contrastive_loss, (y,)), (L.nt_xent_loss, (e,)), (L.barlow_twins_loss, (e,))]:
        (g,) = torch.autograd.grad(f(e, *args, reduction="sum"), (e,), allow_unused=True)
        assert g is None or (tuple(g.shape) == (0, 4))


def test_mining_gradients_equal_torch_jax_and_jit():
    torch = _torch()
    jax, jnp = _jax()
    e = _rng(32).normal(size=(9, 4))
    y = _labels_with_positives()
    # (the conformance suite runs every case under jit/compile; this is a quick smoke test)
    f, kw = L.semi_hard_triplet_loss, {"distance": "cosine"}
    x = _t(e, True)
    (gt,) = torch.autograd.grad(f(x, torch.tensor(y), **kw), (x,))
    value, gj = jax.jit(jax.value_and_grad(lambda z: f(z, jnp.asarray(y), **kw)))(jnp.asarray(e))
    _close(gt, gj)
    _close(value, f(e, y, **kw))


# ------------------------------------------------------------------------------- InfoNCE ----
def ref_info_nce(q, k, neg=None, t=0.1, mode="unpaired", normalize=True):
    if normalize:
        q, k = np_normalize(q), np_normalize(k)
        neg = None if neg is None else np_normalize(neg)
    if neg is None:
        return np_ce(q @ k.T / t, np.arange(len(q)))
    pos = (q * k).sum(-1, keepdims=True)
    negl = q @ neg.T if mode == "unpaired" else np.einsum("nd,nmd->nm", q, neg)
    return np_ce(np.concatenate([pos, negl], 1) / t, np.zeros(len(q), dtype=int))


@pytest.mark.parametrize("kw", [{}, {"temperature": 0.5}, {"normalize": False, "temperature": 3.0}])
@pytest.mark.parametrize("neg", [None, "unpaired", "paired"])
def test_info_nce_loss_formula(kw, neg):
    rng = _rng(33)
    q, k = rng.normal(size=(2, 6, 5))
    nk = None if neg is None else rng.normal(size=(4, 5) if neg == "unpaired" else (6, 4, 5))
    mode = neg or "unpaired"
    want = ref_info_nce(q, k, nk, kw.get("temperature", 0.1), mode, kw.get("normalize", True))
    _close(L.info_nce_loss(q, k, nk, negative_mode=mode, **kw), want)


def test_info_nce_moco_setting():
    # MoCo: normalised q, k and queue; logits = [q.k, q.queue^T] / 0.07, label 0
    rng = _rng(34)
    q, k = np_normalize(rng.normal(size=(2, 5, 8)))
    queue = np_normalize(rng.normal(size=(16, 8)))
    logits = np.concatenate([(q * k).sum(-1, keepdims=True), q @ queue.T], 1) / 0.07
    _close(L.info_nce_loss(q, k, queue, temperature=0.07), np_ce(logits, np.zeros(5, dtype=int)))


def test_info_nce_matches_torch_formula_with_gradients():
    torch = _torch()
    F = torch.nn.functional
    rng = _rng(35)
    arrays = [rng.normal(size=(6, 5)), rng.normal(size=(6, 5)), rng.normal(size=(6, 3, 5))]
    ts = [_t(x, True) for x in arrays]
    q, k, nk = (F.normalize(x, dim=-1) for x in ts)
    logits = torch.cat([(q * k).sum(-1, keepdim=True), (q.unsqueeze(1) @ nk.transpose(-2, -1)).squeeze(1)], 1)
    want = F.cross_entropy(logits / 0.2, torch.zeros(6, dtype=torch.long))
    gw = torch.autograd.grad(want, ts)
    ours = [_t(x, True) for x in arrays]
    got = L.info_nce_loss(*ours, temperature=0.2, negative_mode="paired")
    gg = torch.autograd.grad(got, ours)
    _close(got.detach(), want.detach())
    for a, b in zip(gg, gw):
        _close(a, b)


# ------------------------------------------------------------------------------- NT-Xent ----
def ref_nt_xent_paper(z1, z2, t):
    z = np_normalize(np.concatenate([z1, z2]))
    n2 = len(z)
    s = z @ z.T / t
    out = []
    for i in range(n2):
        j = (i + n2 // 2) % n2
        others = [s[i, k] for k in range(n2) if k != i]
        m = max(others)
        out.append(-s[i, j] + m + np.log(np.sum(np.exp(np.array(others) - m))))
    return np.mean(out)


def ref_simclr_reference(z1, z2, t):
    # SimCLR add_contrastive_loss: LARGE_NUM masking, CE of both directions, summed
    h1, h2 = np_normalize(z1), np_normalize(z2)
    n = len(h1)
    large = 1e9
    eye = np.eye(n)
    aa = h1 @ h1.T / t - eye * large
    bb = h2 @ h2.T / t - eye * large
    ab = h1 @ h2.T / t
    ba = h2 @ h1.T / t
    labels = np.arange(n)
    return np_ce(np.concatenate([ab, aa], 1), labels) + np_ce(np.concatenate([ba, bb], 1), labels)


@pytest.mark.parametrize("t", [0.5, 0.1, 0.01])
def test_nt_xent_paper_and_reference_settings(t):
    z1, z2 = _rng(36).normal(size=(2, 6, 5))
    _close(L.nt_xent_loss(z1, z2, temperature=t), ref_nt_xent_paper(z1, z2, t), rtol=1e-11)
    _close(L.nt_xent_loss(z1, z2, temperature=t, directions="sum"), ref_simclr_reference(z1, z2, t), rtol=1e-11)
    _close(L.nt_xent_loss(z1, z2, temperature=t, directions="sum"), 2 * L.nt_xent_loss(z1, z2, temperature=t))
    none = L.nt_xent_loss(z1, z2, temperature=t, reduction="none")
    assert none.shape == (6,)
    _close(none.sum(), L.nt_xent_loss(z1, z2, temperature=t, reduction="sum"))


def test_nt_xent_lightly_setting():
    # lightly NTXentLoss (no memory bank): CE over the 2N rows with the diagonal removed, mean
    z1, z2 = _rng(37).normal(size=(2, 5, 4))
    a, b = np_normalize(z1), np_normalize(z2)
    n = len(a)
    l00, l01, l10, l11 = (x @ y.T / 0.3 for x, y in [(a, a), (a, b), (b, a), (b, b)])
    keep = ~np.eye(n, dtype=bool)
    l00, l11 = l00[keep].reshape(n, n - 1), l11[keep].reshape(n, n - 1)
    logits = np.concatenate([np.concatenate([l01, l00], 1), np.concatenate([l10, l11], 1)], 0)
    _close(L.nt_xent_loss(z1, z2, temperature=0.3), np_ce(logits, np.tile(np.arange(n), 2)))


def test_nt_xent_optax_setting():
    pytest.importorskip("optax")
    import optax

    _, jnp = _jax()
    z1, z2 = _rng(38).normal(size=(2, 6, 5))
    labels = jnp.concatenate([jnp.arange(6), jnp.arange(6)])
    want = optax.losses.ntxent(jnp.asarray(np.concatenate([z1, z2])), labels, 0.2)
    _close(L.nt_xent_loss(z1, z2, temperature=0.2), want, rtol=1e-9)


def test_nt_xent_float32_temperature_0_01_no_overflow():
    torch = _torch()
    z1, z2 = _rng(39).normal(size=(2, 8, 6))
    z2 = z1 + 0.01 * z2  # confident positives: logits up to 1/0.01 = 100 (exp overflows float32)
    a = torch.tensor(z1, dtype=torch.float32, requires_grad=True)
    b = torch.tensor(z2, dtype=torch.float32, requires_grad=True)
    out = L.nt_xent_loss(a, b, temperature=0.01)
    ga, gb = torch.autograd.grad(out, (a, b))
    assert out.dtype == torch.float32
    assert torch.isfinite(out) and torch.isfinite(ga).all() and torch.isfinite(gb).all()
    _close(out.item(), ref_nt_xent_paper(z1, z2, 0.01), rtol=1e-4, atol=1e-5)


def test_nt_xent_zero_vector_and_identical_views_finite():
    torch = _torch()
    z = _rng(40).normal(size=(5, 4))
    z[0] = 0.0
    a, b = _t(z, True), _t(z.copy(), True)
    out = L.nt_xent_loss(a, b, temperature=0.05)
    ga, gb = torch.autograd.grad(out, (a, b))
    assert torch.isfinite(out) and torch.isfinite(ga).all() and torch.isfinite(gb).all()
    _close(out.detach(), ref_nt_xent_paper(z, z, 0.05))


# -------------------------------------------------------------------------------- SupCon ----
def ref_supcon_reference(features, labels, temperature=0.07, base_temperature=0.07):
    """HobbitLong/SupContrast SupConLoss (contrast_mode='all'), features (B, V, D)."""
    b, v, _ = features.shape
    contrast = np.concatenate([features[:, i] for i in range(v)], 0)
    mask = (labels[:, None] == labels[None, :]).astype(float)
    mask = np.tile(mask, (v, v))
    adc = contrast @ contrast.T / temperature
    logits = adc - adc.max(1, keepdims=True)
    logits_mask = 1 - np.eye(b * v)
    mask = mask * logits_mask
    exp_logits = np.exp(logits) * logits_mask
    log_prob = logits - np.log(exp_logits.sum(1, keepdims=True))
    n_pos = mask.sum(1)
    n_pos = np.where(n_pos < 1e-6, 1, n_pos)
    mean_log_prob_pos = (mask * log_prob).sum(1) / n_pos
    return float((-(temperature / base_temperature) * mean_log_prob_pos).mean())


def test_supcon_reference_setting_multiview():
    rng = _rng(41)
    feats = np_normalize(rng.normal(size=(6, 2, 5)))
    labels = np.array([0, 1, 0, 2, 1, 3])  # label 3: the other view is its only positive
    want = ref_supcon_reference(feats, labels, 0.07, 0.07)
    got = L.supervised_contrastive_loss(feats.reshape(12, 5), np.repeat(labels, 2), temperature=0.07,
                                        base_temperature=0.07, normalize=False)
    _close(got, want)
    want2 = ref_supcon_reference(feats, labels, 0.1, 0.05)
    _close(L.supervised_contrastive_loss(feats.reshape(12, 5), np.repeat(labels, 2), temperature=0.1,
                                         base_temperature=0.05), want2)


def test_supcon_reference_counts_anchors_without_positives_as_zero():
    """docs/differences.md: the reference's mean includes anchors without positives (as 0)."""
    rng = _rng(42)
    feats = np_normalize(rng.normal(size=(7, 1, 4)))
    labels = np.array([0, 0, 1, 1, 2, 2, 3])  # anchor 6 has no positive
    want = ref_supcon_reference(feats, labels, 0.1, 0.1)
    e = feats[:, 0]
    none = L.supervised_contrastive_loss(e, labels, reduction="none")
    _close(none.mean(), want)
    assert none[6] == 0.0
    _close(L.supervised_contrastive_loss(e, labels), none.sum() / 6)
    assert not np.isclose(L.supervised_contrastive_loss(e, labels), want)


def ref_pml_supcon(e, y, temperature):
    """pytorch-metric-learning SupConLoss(temperature) with its defaults (CosineSimilarity,
    AvgNonZeroReducer), transcribed: zero losses unless the batch has a positive *and* a
    negative pair; per anchor -mean over positives of (s_ip - logsumexp over a != i of s_ia),
    s = cos / t (max-shifted); the mean over the anchors with a loss > 0 (0 if none)."""
    n = len(y)
    same = y[:, None] == y[None, :]
    pos = same & ~np.eye(n, dtype=bool)
    neg = ~same
    if not (pos.any() and neg.any()):
        return 0.0
    z = np_normalize(e)
    mat = z @ z.T / temperature
    mat = mat - mat.max(1, keepdims=True)
    keep = pos | neg
    denom = np.log((np.exp(mat) * keep).sum(1, keepdims=True))
    log_prob = mat - denom
    losses = -(pos * log_prob).sum(1) / (pos.sum(1) + np.finfo(np.float64).tiny)
    nonzero = losses[losses > 0]
    return float(nonzero.mean()) if nonzero.size else 0.0


def test_supcon_pml_setting_and_no_negative_pair_difference():
    """docs/differences.md: pml's SupConLoss equals ours when the batch has a negative pair;
    with a single label pml returns 0, ours the SupCon value (every other sample a positive)."""
    e = _rng(66).normal(size=(8, 3))
    for y in (np.array([0, 0, 0, 1, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 1, 1, 1, 1]),
              np.array([0, 1, 2, 3, 4, 5, 6, 6])):  # the last: one positive pair only
        for t in (0.1, 0.5):
            _close(L.supervised_contrastive_loss(e, y, temperature=t), ref_pml_supcon(e, y, t), rtol=1e-11)
    one_label = np.zeros(8, dtype=np.int64)
    assert ref_pml_supcon(e, one_label, 0.1) == 0.0
    ours = L.supervised_contrastive_loss(e, one_label)
    z = np_normalize(e)
    s = z @ z.T / 0.1
    want = np.mean([-np.mean([s[i, p] - np.log(sum(np.exp(s[i, a]) for a in range(8) if a != i))
                              for p in range(8) if p != i]) for i in range(8)])
    _close(ours, want)
    assert ours > 0


def test_supcon_paper_formula_and_pml_setting():
    e = _rng(43).normal(size=(8, 3))
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    z = np_normalize(e)
    s = z @ z.T / 0.1
    losses = []
    for i in range(8):
        denom = np.log(sum(np.exp(s[i, a]) for a in range(8) if a != i))
        pos = [p for p in range(8) if p != i and y[p] == y[i]]
        losses.append(-np.mean([s[i, p] - denom for p in pos]))
    _close(L.supervised_contrastive_loss(e, y), np.mean(losses))


# ---------------------------------------------------------------------------------- CLIP ----
def ref_clip(i, t, s, normalize=True):
    if normalize:
        i, t = np_normalize(i), np_normalize(t)
    logits = s * i @ t.T
    labels = np.arange(len(i))
    return 0.5 * (np_ce(logits, labels) + np_ce(logits.T, labels))


def test_multi_positive_nt_xent_equals_optax_ntxent_and_pml():
    """optax.losses.ntxent(embeddings, labels, temperature) (every other sample of the label a
    positive, each pair's softmax over its positive and the negatives, the mean over the
    positive pairs): value and jax.grad; pml's NTXentLoss the same; and an independent float64
    formula; two views with labels [0..N-1, 0..N-1] are nt_xent_loss."""
    jax, jnp = _jax()
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    e = _rng(60).normal(size=(12, 5))
    y = _labels_with_positives(12, 4, seed=8)
    y[0] = 7  # an anchor without positives: no pair
    kw = {"temperature": 0.3, "denominator": "negatives", "mean_over": "pairs"}

    def ours(x):
        return L.supervised_contrastive_loss(x, jnp.asarray(y), **kw)

    def theirs(x):
        return optax.losses.ntxent(x, jnp.asarray(y), 0.3)

    x = jnp.asarray(e)
    _close(ours(x), theirs(x), rtol=1e-12)
    _close(jax.grad(ours)(x), jax.grad(theirs)(x), atol=1e-12)
    s = np_normalize(e) @ np_normalize(e).T / 0.3
    terms = [-(s[i, p] - np.log(np.exp(s[i, p]) + sum(np.exp(s[i, k]) for k in range(12) if y[k] != y[i])))
             for i in range(12) for p in range(12) if p != i and y[p] == y[i]]
    _close(L.supervised_contrastive_loss(e, y, **kw), np.mean(terms))
    torch = _torch()
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    _close(pml.NTXentLoss(temperature=0.3)(_t(e), torch.tensor(y)).item(),
           L.supervised_contrastive_loss(e, y, **kw), rtol=1e-12)
    z1, z2 = _rng(61).normal(size=(5, 4)), _rng(62).normal(size=(5, 4))
    two = np.concatenate([np.arange(5)] * 2)
    _close(L.supervised_contrastive_loss(np.concatenate([z1, z2]), two, **{**kw, "temperature": 0.5}),
           L.nt_xent_loss(z1, z2, temperature=0.5))
    # mean_over="pairs" weighs each anchor by its positives; "valid" (SupCon) does not
    none = L.supervised_contrastive_loss(e, y, denominator="negatives", temperature=0.3, reduction="none")
    n_pos = np.array([(y == y[i]).sum() - 1 for i in range(12)])
    _close(L.supervised_contrastive_loss(e, y, **kw), (none * n_pos).sum() / n_pos.sum())
    _close(L.supervised_contrastive_loss(e, y, denominator="negatives", temperature=0.3), none[n_pos > 0].mean())
    with pytest.raises(ValueError, match="denominator"):
        L.supervised_contrastive_loss(e, y, denominator="positives")
    with pytest.raises(ValueError, match="mean_over"):
        L.supervised_contrastive_loss(e, y, mean_over="nonzero")


def test_multi_positive_nt_xent_without_positive_pair_is_zero_where_optax_is_nan():
    """Documented difference: a batch without any positive pair (all labels distinct) gives
    optax.losses.ntxent NaN (0 / 0); supervised_contrastive_loss(denominator="negatives",
    mean_over="pairs") gives 0 with a zero gradient (the mean of no valid term), as pml's
    NTXentLoss."""
    jax, jnp = _jax()
    optax = pytest.importorskip("optax")
    e = _rng(63).normal(size=(4, 3))
    y = np.arange(4)
    kw = {"temperature": 0.3, "denominator": "negatives", "mean_over": "pairs"}
    assert np.isnan(float(optax.losses.ntxent(jnp.asarray(e), jnp.asarray(y), 0.3)))
    assert float(L.supervised_contrastive_loss(e, y, **kw)) == 0.0
    g = jax.grad(lambda x: L.supervised_contrastive_loss(x, jnp.asarray(y), **kw))(jnp.asarray(e))
    np.testing.assert_array_equal(np.asarray(g), 0.0)
    torch = _torch()
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    assert pml.NTXentLoss(temperature=0.3)(_t(e), torch.tensor(y)).item() == 0.0
    # one positive pair is enough: then the two agree (test above)
    y[1] = 0
    _close(L.supervised_contrastive_loss(e, y, **kw), optax.losses.ntxent(jnp.asarray(e), jnp.asarray(y), 0.3),
           rtol=1e-6)


def test_clip_loss_formula_and_open_clip_setting():
    i, t = _rng(44).normal(size=(2, 6, 5))
    _close(L.clip_loss(i, t, 14.0), ref_clip(i, t, 14.0))
    _close(L.clip_loss(i, t), ref_clip(i, t, 1 / 0.07))
    ni, nt = np_normalize(i), np_normalize(t)
    _close(L.clip_loss(ni, nt, 50.0, normalize=False), ref_clip(ni, nt, 50.0, normalize=False))
    _close(L.clip_loss(i, t, np.asarray(3.0)), L.clip_loss(i, t, 3.0))
    none = L.clip_loss(i, t, 3.0, reduction="none")
    assert none.shape == (6,)
    _close(none.mean(), ref_clip(i, t, 3.0))


def test_clip_loss_gradients_equal_torch_formula():
    torch = _torch()
    F = torch.nn.functional
    i, t = _rng(45).normal(size=(2, 6, 5))
    arrays = [i, t, np.asarray(7.0)]
    ts = [_t(x, True) for x in arrays]
    a, b = F.normalize(ts[0], dim=-1), F.normalize(ts[1], dim=-1)
    logits = ts[2] * a @ b.T
    lab = torch.arange(6)
    want = 0.5 * (F.cross_entropy(logits, lab) + F.cross_entropy(logits.T, lab))
    gw = torch.autograd.grad(want, ts)
    ours = [_t(x, True) for x in arrays]
    got = L.clip_loss(*ours)
    gg = torch.autograd.grad(got, ours)
    _close(got.detach(), want.detach())
    for x, y in zip(gg, gw):
        _close(x, y)


def test_clip_loss_logit_scale_checks():
    torch = _torch()
    i, t = _rng(67).normal(size=(2, 4, 3))
    with pytest.raises(ValueError, match="logit_scale must be > 0"):
        L.clip_loss(i, t, np.asarray(0.0))
    with pytest.raises(TypeError, match="logit_scale"):
        L.clip_loss(_t(i), _t(t), np.complex128(2.0))
    with pytest.raises(TypeError, match="logit_scale must have a real floating dtype"):
        L.clip_loss(_t(i), _t(t), torch.tensor(2.0 + 0j))
    with pytest.raises(TypeError, match="logit_scale"):
        L.clip_loss(i, t, float("nan"))
    assert np.isnan(L.clip_loss(i, t, np.asarray(np.nan)))  # a NaN array goes through (rule 5)


# -------------------------------------------------------------------------- Barlow Twins ----
def ref_barlow(z1, z2, lam=0.0051, eps=1e-5, ddof=0):
    def std(z):
        c = z - z.mean(0)
        return c / np.sqrt(c.var(0, ddof=ddof) + eps)

    n = len(z1)
    c = std(z1).T @ std(z2) / n
    on = ((np.diag(c) - 1) ** 2).sum()
    off = (c**2).sum() - (np.diag(c) ** 2).sum()
    return on + lam * off


def test_barlow_twins_reference_setting():
    torch = _torch()
    z1, z2 = _rng(46).normal(size=(2, 8, 5))
    _close(L.barlow_twins_loss(z1, z2), ref_barlow(z1, z2), rtol=1e-11)
    # the reference code itself: BatchNorm1d(affine=False) in training mode
    bn = torch.nn.BatchNorm1d(5, affine=False).double().train()
    a, b = _t(z1, True), _t(z2, True)
    c = bn(a).T @ bn(b) / 8
    want = (torch.diagonal(c) - 1).pow(2).sum() + 0.0051 * (c.pow(2).sum() - torch.diagonal(c).pow(2).sum())
    gw = torch.autograd.grad(want, (a, b))
    a2, b2 = _t(z1, True), _t(z2, True)
    got = L.barlow_twins_loss(a2, b2)
    gg = torch.autograd.grad(got, (a2, b2))
    _close(got.detach(), want.detach(), rtol=1e-11)
    for x, y in zip(gg, gw):
        _close(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("correction", [0, 1])
def test_barlow_twins_gradient_matches_batch_norm_reference(reduction, correction):
    """The batch mean is a constant for the gradient and sum(c^2) is formed with one
    full-size product: the gradients are still those of the standardisation with the mean
    in the graph (here: torch's batch_norm formula, far from zero-mean features)."""
    torch = _torch()
    z1, z2 = _rng(49).normal(size=(2, 9, 6))
    z1, z2 = 40.0 + 3.0 * z1, -7.0 + z2

    def want_terms(a, b):
        def std(z):
            c = z - z.mean(0)
            return c / torch.sqrt((c * c).sum(0) / (len(z) - correction) + 1e-5)

        c = std(a).T @ std(b) / len(a)
        eye = torch.eye(c.shape[0], dtype=torch.bool)
        return torch.where(eye, (1 - c) ** 2, 0.0051 * c**2)

    a, b = _t(z1, True), _t(z2, True)
    w = want_terms(a, b)
    want = {"sum": w.sum(), "mean": w.mean(), "none": w}[reduction]
    seed = torch.asarray(_rng(50).normal(size=(6, 6)))
    gw = torch.autograd.grad((want * seed).sum() if reduction == "none" else want, (a, b))
    a2, b2 = _t(z1, True), _t(z2, True)
    got = L.barlow_twins_loss(a2, b2, correction=correction, reduction=reduction)
    gg = torch.autograd.grad((got * seed).sum() if reduction == "none" else got, (a2, b2))
    _close(got.detach(), want.detach(), rtol=1e-10)
    for x, y in zip(gg, gw):
        _close(x, y, rtol=1e-8, atol=1e-12)


def test_barlow_twins_monai_lightly_setting_and_difference():
    """docs/differences.md: MONAI/lightly standardise with the unbiased std and no eps."""
    z1, z2 = _rng(47).normal(size=(2, 8, 5))

    def monai(x, y, lambd):
        xn = (x - x.mean(0)) / x.std(0, ddof=1)
        yn = (y - y.mean(0)) / y.std(0, ddof=1)
        c = xn.T @ yn / len(x)
        diff = (c - np.eye(c.shape[0])) ** 2
        diff[~np.eye(c.shape[0], dtype=bool)] *= lambd
        return diff.sum()

    want = monai(z1, z2, 5e-3)
    _close(L.barlow_twins_loss(z1, z2, lambda_=5e-3, eps=0.0, correction=1), want)
    assert not np.isclose(L.barlow_twins_loss(z1, z2, lambda_=5e-3), want, rtol=1e-3)
    terms = L.barlow_twins_loss(z1, z2, reduction="none")
    assert terms.shape == (5, 5)
    _close(terms.sum(), L.barlow_twins_loss(z1, z2))
    _close(terms.mean(), L.barlow_twins_loss(z1, z2, reduction="mean"))


def test_barlow_twins_constant_feature_eps0_finite():
    torch = _torch()
    z1, z2 = _rng(48).normal(size=(2, 6, 4))
    z1[:, 1] = 3.0
    a, b = _t(z1, True), _t(z2, True)
    out = L.barlow_twins_loss(a, b, eps=0.0)
    ga, gb = torch.autograd.grad(out, (a, b))
    assert torch.isfinite(out) and torch.isfinite(ga).all() and torch.isfinite(gb).all()
    # feature 1 of z1 is standardised to 0: C[1, :] = 0
    z1n = (z1 - z1.mean(0)) / np.where(z1.std(0) > 0, z1.std(0), 1.0)
    z1n[:, 1] = 0.0
    z2n = (z2 - z2.mean(0)) / z2.std(0)
    c = z1n.T @ z2n / 6
    want = ((np.diag(c) - 1) ** 2).sum() + 0.0051 * ((c**2).sum() - (np.diag(c) ** 2).sum())
    _close(out.detach(), want, rtol=1e-10)


def test_barlow_twins_empty_batch_has_no_terms():
    """docs/differences.md: N = 0 follows the library's empty-batch rule (no correlation, no
    terms); the reference formula gives NaN there (BatchNorm1d of an empty batch is empty, and
    C = 0 / 0)."""
    torch = _torch()
    F = torch.nn.functional
    z = np.zeros((0, 5))
    e = torch.zeros((0, 5), dtype=torch.float64)
    c = F.batch_norm(e, None, None, training=True).T @ F.batch_norm(e, None, None, training=True) / 0
    assert torch.isnan(c).all()
    assert L.barlow_twins_loss(z, z) == 0.0
    assert np.isnan(L.barlow_twins_loss(z, z, reduction="mean"))
    assert L.barlow_twins_loss(z, z, reduction="none").shape == (0, 0)
    assert L.barlow_twins_loss(z, z, correction=1) == 0.0
    with pytest.raises(ValueError, match="more than 1 sample"):
        L.barlow_twins_loss(np.zeros((1, 5)), np.zeros((1, 5)), correction=1)
    a = torch.zeros((0, 5), dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(L.barlow_twins_loss(a, a), (a,))
    assert tuple(g.shape) == (0, 5)


def test_barlow_twins_nan_goes_through():
    """A NaN feature is not standardised away as a constant one (DESIGN rule 5)."""
    z1, z2 = _rng(62).normal(size=(2, 6, 4))
    z1[2, 1] = np.nan
    assert np.isnan(L.barlow_twins_loss(z1, z2))
    assert np.isnan(L.barlow_twins_loss(z1, z2, eps=0.0, reduction="none")[1]).all()


# ---------------------------------------------------------------------- dtypes, tracing ----
def test_numpy_results_of_vectors_are_0d_arrays():
    """1-D inputs reduce to 0-d ``np.ndarray`` results, never NumPy scalars."""
    x1, x2, x3 = _rng(63).normal(size=(3, 4))
    for out in (L.pairwise_distance(x1, x2), L.cosine_similarity(x1, x2),
                L.triplet_margin_loss(x1, x2, x3, reduction="none"),
                L.triplet_margin_with_distance_loss(x1, x2, x3, reduction="none")):
        assert type(out) is np.ndarray and out.shape == ()


def test_dtypes_follow_the_inputs():
    torch = _torch()
    e = torch.tensor(_rng(49).normal(size=(6, 4)), dtype=torch.float16)
    y = torch.tensor([0, 0, 1, 1, 2, 2], dtype=torch.int32)
    for f in (L.batch_hard_triplet_loss, L.batch_all_triplet_loss, L.semi_hard_triplet_loss,
              L.supervised_contrastive_loss):
        assert f(e, y).dtype == torch.float16
    assert L.nt_xent_loss(e, e.to(torch.bfloat16)).dtype == torch.float32
    assert L.clip_loss(e.double(), e.float()).dtype == torch.float64
    assert L.barlow_twins_loss(e, e).dtype == torch.float16
    assert L.contrastive_loss(e.float(), e.float(), y % 2).dtype == torch.float32
    assert L.cosine_similarity(e, e).dtype == torch.float16


# ------------------------------------------------------------------------------ errors ----
X = np.zeros((4, 3))
Y = np.array([0, 0, 1, 1])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: L.pairwise_distance(X, np.zeros((4, 2))), ValueError, r"x1 of shape \(4, 3\) and x2 of shape \(4, 2\)"),
    (lambda: L.pairwise_distance(X, X, p=float("nan")), TypeError, "p must be a real number"),
    (lambda: L.pairwise_distance(X, X, p=True), TypeError, "p must be a real number"),
    (lambda: L.pairwise_distance(X, X, eps=-1.0), ValueError, "eps must be >= 0"),
    (lambda: L.pairwise_distance(X, X, keepdim=1), TypeError, "keepdim must be a bool"),
    (lambda: L.pairwise_distance([1.0, 2.0], X), TypeError, "x1 must be an array"),
    (lambda: L.pairwise_distance(X.astype(np.int64), X), TypeError, "x1 must have a real floating dtype"),
    (lambda: L.cosine_similarity(X, X, axis=2), ValueError, "axis must be an int"),
    (lambda: L.cosine_similarity(X, X, eps=-1.0), ValueError, "eps must be >= 0"),
    (lambda: L.cosine_similarity(X, X, axis=True), TypeError, "axis must be an int"),
    (lambda: L.cosine_similarity(X, X.astype(np.complex128)), TypeError, "x2 must have a real floating dtype"),
    (lambda: L.contrastive_loss(X, X, Y % 2, margin=float("inf")), ValueError, "margin must be finite"),
    (lambda: L.contrastive_loss(X, X, np.zeros(3)), ValueError, r"target must have shape \(4,\)"),
    (lambda: L.contrastive_loss(X, X, np.array([0, 1, 2, 0.0])), ValueError, r"target must hold pair labels in \[0, 1\]"),
    (lambda: L.contrastive_loss(X, X, Y % 2, squared="yes"), TypeError, "squared must be a bool"),
    (lambda: L.contrastive_loss(X, X, Y % 2, reduction="avg"), ValueError, "reduction must be one of"),
    (lambda: L.contrastive_loss(X, np.zeros((4, 2)), Y % 2), ValueError, "x1 and x2 must have the same shape"),
    (lambda: L.triplet_margin_loss(X, X, np.zeros((4, 2))), ValueError, "anchor and negative must have the same shape"),
    (lambda: L.triplet_margin_loss(*(np.zeros((2, 2, 2)),) * 3), ValueError, "all 2-D"),
    (lambda: L.triplet_margin_loss(X, X, X, margin=-1.0), ValueError, "margin must be > 0"),
    (lambda: L.triplet_margin_loss(X, X, X, swap="yes"), TypeError, "swap must be a bool"),
    (lambda: L.triplet_margin_with_distance_loss(X, X, X, swap=1), TypeError, "swap must be a bool"),
    (lambda: L.batch_hard_triplet_loss(X, Y, margin=float("nan")), TypeError, "margin must be a real number"),
    (lambda: L.batch_hard_triplet_loss(X, Y.astype(np.complex64)), TypeError, "labels must have an integer dtype"),
    (lambda: L.batch_all_triplet_loss(X, [0, 0, 1, 1]), TypeError, "labels must be an array"),
    (lambda: L.info_nce_loss(X, X, normalize=1), TypeError, "normalize must be a bool"),
    (lambda: L.info_nce_loss(X, X, temperature=float("inf")), ValueError, "temperature must be finite"),
    (lambda: L.triplet_margin_with_distance_loss(X, X, X, margin=0.0), ValueError, "margin must be > 0"),
    (lambda: L.triplet_margin_with_distance_loss(X, X, X, distance_function=3), TypeError, "distance_function must be callable"),
    (lambda: L.batch_hard_triplet_loss(X[0], Y[:3]), ValueError, r"embeddings must be 2-D"),
    (lambda: L.batch_hard_triplet_loss(X, Y[:3]), ValueError, r"labels must have shape \(4,\)"),
    (lambda: L.batch_all_triplet_loss(X, Y.astype(np.float64)), TypeError, "labels must have an integer dtype"),
    (lambda: L.batch_all_triplet_loss(X, Y, distance="l2"), ValueError, "distance must be one of"),
    (lambda: L.batch_all_triplet_loss(X, Y, mean_over="positive"), ValueError, "mean_over must be one of"),
    (lambda: L.semi_hard_triplet_loss(X, Y, negatives="hardest"), ValueError, "negatives must be one of"),
    (lambda: L.semi_hard_triplet_loss(X, Y, normalize=1), TypeError, "normalize must be a bool"),
    (lambda: L.batch_hard_triplet_loss(X, Y, soft_margin=None), TypeError, "soft_margin must be a bool"),
    (lambda: L.info_nce_loss(X, X, np.zeros((5, 2))), ValueError, r"negative_keys must have shape \(M, 3\)"),
    (lambda: L.info_nce_loss(X, X, np.zeros((5, 3)), negative_mode="paired"), ValueError, r"negative_keys must have shape \(4, M, 3\)"),
    (lambda: L.info_nce_loss(X, X, temperature=0), ValueError, "temperature must be > 0"),
    (lambda: L.info_nce_loss(X, X, negative_mode="shared"), ValueError, "negative_mode must be one of"),
    (lambda: L.info_nce_loss(X[0], X[0]), ValueError, "query must be 2-D"),
    (lambda: L.nt_xent_loss(X, X, directions="both"), ValueError, "directions must be one of"),
    (lambda: L.nt_xent_loss(X, X[:3]), ValueError, "z1 and z2 must have the same shape"),
    (lambda: L.nt_xent_loss(X, X, temperature=-0.5), ValueError, "temperature must be > 0"),
    (lambda: L.supervised_contrastive_loss(X, Y, base_temperature=0.0), ValueError, "base_temperature must be > 0"),
    (lambda: L.supervised_contrastive_loss(X, Y.astype(bool)), TypeError, "labels must have an integer dtype"),
    (lambda: L.clip_loss(X, X, -1.0), ValueError, "logit_scale must be > 0"),
    (lambda: L.clip_loss(X, X, np.ones(2)), ValueError, r"logit_scale must be a scalar"),
    (lambda: L.clip_loss(X, X, np.asarray(-2.0)), ValueError, "logit_scale must be > 0"),
    (lambda: L.clip_loss(X, X, "big"), TypeError, "logit_scale must be a positive number"),
    (lambda: L.clip_loss(X, X[:, :2]), ValueError, "image_embeddings and text_embeddings must have the same shape"),
    (lambda: L.barlow_twins_loss(X[:1], X[:1], correction=1), ValueError, "more than 1 sample"),
    (lambda: L.barlow_twins_loss(X, X, lambda_=-1.0), ValueError, "lambda_ must be >= 0"),
    (lambda: L.barlow_twins_loss(X, X, correction=2), ValueError, "correction must be one of"),
    (lambda: L.barlow_twins_loss(X, X, correction=True), TypeError, "correction must be the int 0 or 1"),
    (lambda: L.barlow_twins_loss(X, X, lambda_=float("inf")), ValueError, "lambda_ must be finite"),
    (lambda: L.barlow_twins_loss(X, X.astype(np.int32)), TypeError, "z2 must have a real floating dtype"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


_E, _Y = _rng(81).normal(size=(6, 3)), np.array([0, 0, 1, 1, 2, 2])
_REQUIRED = [
    (L.pairwise_distance, {"x1": _E, "x2": _E}),
    (L.cosine_similarity, {"x1": _E, "x2": _E}),
    (L.contrastive_loss, {"x1": _E, "x2": _E, "target": (_Y % 2).astype(np.float64)}),
    (L.triplet_margin_loss, {"anchor": _E, "positive": _E, "negative": _E}),
    (L.triplet_margin_with_distance_loss, {"anchor": _E, "positive": _E, "negative": _E}),
    (L.batch_hard_triplet_loss, {"embeddings": _E, "labels": _Y}),
    (L.batch_all_triplet_loss, {"embeddings": _E, "labels": _Y}),
    (L.semi_hard_triplet_loss, {"embeddings": _E, "labels": _Y}),
    (L.supervised_contrastive_loss, {"embeddings": _E, "labels": _Y}),
    (L.info_nce_loss, {"query": _E, "positive_key": _E}),
    (L.nt_xent_loss, {"z1": _E, "z2": _E}),
    (L.clip_loss, {"image_embeddings": _E, "text_embeddings": _E}),
    (L.barlow_twins_loss, {"z1": _E, "z2": _E}),
]


@pytest.mark.parametrize("f, arrays", _REQUIRED, ids=lambda v: getattr(v, "__name__", ""))
def test_required_arrays_refused_with_their_name(f, arrays):
    """None, a Python number or a string in place of a required array is a TypeError naming
    the argument, never an internal AttributeError (0-d arrays are what torch takes)."""
    for name in arrays:
        for bad in (None, 1.0, 2, True, "x"):
            with pytest.raises(TypeError, match=rf"\b{name}\b"):
                f(**{**arrays, name: bad})


def test_mixed_frameworks_rejected():
    torch = _torch()
    with pytest.raises(TypeError, match="one framework"):
        L.nt_xent_loss(torch.zeros(3, 2), np.zeros((3, 2)))


# ------------------------------------------------------------------ native speed paths ----
def _gram_inputs(n=40, dim=16, seed=3):
    rng = _rng(seed)
    e = rng.normal(size=(n, dim))
    e[5] = e[2]  # an exact duplicate: distance exactly 0, finite (zero) gradient
    return e, rng.integers(0, 4, size=n)


@pytest.mark.parametrize("distance", ["euclidean", "squared"])
def test_gram_distance_matrix_exact_zeros_and_torch_cdist(distance):
    """The Gram-matrix distances: diagonal and duplicate rows exactly 0 with a zero gradient
    (torch.cdist's matmul path leaves ~1e-8 on its diagonal), the rest the explicit
    differences' value (float64)."""
    torch = _torch()
    from losses.backends import namespace
    from losses.metric import _distance_matrix
    e, _ = _gram_inputs()
    x = _t(e, grad=True)
    d = _distance_matrix(namespace(e=x), x, distance)
    assert torch.all(torch.diagonal(d) == 0) and d[2, 5] == 0 and d[5, 2] == 0
    _close(d.detach(), np_dist(e, distance), rtol=1e-10, atol=1e-10)
    (d[2, 5] + d[5, 2] + torch.diagonal(d).sum()).backward(retain_graph=True)
    assert torch.all(x.grad == 0)
    x.grad = None
    d.sum().backward()
    assert torch.all(torch.isfinite(x.grad))


def test_mining_memory_is_quadratic():
    """No (N, N, D) difference tensor: the autograd graph of batch-hard at N=512, D=64 saves
    O(N^2) (a few N x N tensors), not N^2 D floats."""
    torch = _torch()
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    e = torch.randn(512, 64, requires_grad=True)
    y = torch.randint(0, 8, (512,))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        L.batch_hard_triplet_loss(e, y)
    assert max(saved) <= 512 * 512 * 8  # one N x N float (or int64) tensor at most


@pytest.mark.parametrize("kw", [{}, {"distance": "squared", "margin": 0.3}, {"distance": "cosine"}])
def test_semi_hard_sorted_selection_matches_cubic_reference(kw):
    """The O(N^2 log N) semi-hard selection = the N^3 comparison (ties, duplicates, fallback)."""
    rng = _rng(7)
    for trial in range(6):
        n = int(rng.integers(3, 14))
        e = rng.integers(-2, 3, size=(n, 2)).astype(np.float64) if trial % 2 else rng.normal(size=(n, 3))
        y = rng.integers(0, 3, size=n)
        d = np_dist(e, kw.get("distance", "euclidean"))
        m = kw.get("margin", 1.0)
        want = np.zeros((n, n))
        for a in range(n):
            negs = [k for k in range(n) if y[k] != y[a]]
            if not negs:
                continue
            for p in range(n):
                if p == a or y[p] != y[a]:
                    continue
                far = [d[a, k] for k in negs if d[a, k] > d[a, p]]
                dn = min(far) if far else max(d[a, k] for k in negs)
                want[a, p] = max(0.0, m + d[a, p] - dn)
        got = L.semi_hard_triplet_loss(e, y, reduction="none", **kw)
        _close(got, want, rtol=1e-9, atol=1e-9)


def test_semi_hard_nan_row_is_selected():
    e, y = _gram_inputs(12, 3)
    e[4, 1] = np.nan
    out = L.semi_hard_triplet_loss(e, y, reduction="none")
    bad = (y[:, None] == y[None, :]) & ~np.eye(12, dtype=bool)
    # every pair whose anchor has a NaN distance to a negative is NaN (a NaN is never dropped)
    rows = [a for a in range(12) if a == 4 or y[a] != y[4]]
    assert np.all(np.isnan(out[rows][bad[rows]]))


@pytest.mark.parametrize("p", [2.0, 1.5, 3.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_torch_kernel(p, keepdim):
    """1 < p < inf: torch's own kernel (NormBackward), values and gradients of the twin."""
    torch = _torch()
    rng = _rng(11)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    a[0] = b[0]
    xa, xb, ta, tb = _t(a, True), _t(b, True), _t(a, True), _t(b, True)
    got = L.pairwise_distance(xa, xb, p=p, keepdim=keepdim)
    want = torch.nn.functional.pairwise_distance(ta, tb, p=p, keepdim=keepdim)
    assert "Norm" in type(got.grad_fn).__name__
    _close(got.detach(), want.detach())
    got.sum().backward()
    want.sum().backward()
    _close(xa.grad, ta.grad)
    _close(xb.grad, tb.grad)


@pytest.mark.parametrize("p", [1.0, 0.5, 0.0, -1.0, float("inf")])
def test_pairwise_distance_generic_degrees(p):
    """p = 1, p < 1 and +-inf keep the generic body (torch differs on NaN rows or counts)."""
    x = _t(_rng(2).normal(size=(4, 3)), True)
    out = L.pairwise_distance(x, x * 2.0, p=p)
    assert "Norm" not in type(out.grad_fn).__name__


def test_pairwise_distance_generic_without_torch_paths():
    torch = _torch()
    from losses.backends import generic_paths
    x = _t(_rng(2).normal(size=(4, 3)), True)
    with generic_paths():
        out = L.pairwise_distance(x, x * 2.0)
    assert "Norm" not in type(out.grad_fn).__name__
    _close(out.detach(), torch.nn.functional.pairwise_distance(x, x * 2.0).detach())


@pytest.mark.parametrize("kw", [{}, {"swap": True, "margin": 0.5}, {"p": 3.0, "reduction": "none"}])
def test_triplet_margin_loss_uses_torch_distances(kw):
    torch = _torch()
    rng = _rng(5)
    arrs = [rng.normal(size=(7, 4)) for _ in range(3)]
    ours, theirs = [_t(v, True) for v in arrs], [_t(v, True) for v in arrs]
    got = L.triplet_margin_loss(*ours, **kw)
    want = torch.nn.functional.triplet_margin_loss(*theirs, **kw)
    _close(got.detach(), want.detach())
    got.sum().backward()
    want.sum().backward()
    for o, t in zip(ours, theirs):
        _close(o.grad, t.grad)
    # the distances are torch's NormBackward nodes
    from losses.backends.harness import harness

    assert any("Norm" in name for name in harness("torch").grad_fn_names(got))


def test_clip_loss_one_host_read_with_array_scale():
    torch = _torch()
    from losses.backends.harness import harness

    count = harness("torch").host_reads
    a, b = torch.randn(8, 5), torch.randn(8, 5)
    L.clip_loss(a, b, torch.tensor(10.0))
    assert count(lambda: L.clip_loss(a, b, torch.tensor(10.0)))[1] <= 1
    with L.value_checks(False):
        assert count(lambda: L.clip_loss(a, b, torch.tensor(10.0)))[1] == 0


def test_infinite_embedding_gives_non_finite_distances_and_a_nan_loss():
    """The Gram formula turns an infinite embedding into NaN/inf distances on its row (inf - inf),
    never a finite number; the mining losses then return NaN."""
    torch = _torch()
    from losses.backends import namespace
    from losses.metric import _distance_matrix
    e, y = _gram_inputs(n=12, dim=4)
    e[1, 0] = np.inf
    x = _t(e)
    d = _distance_matrix(namespace(e=x), x, "euclidean")
    others = torch.arange(12) != 1
    assert not torch.isfinite(d[1, others]).any() and not torch.isfinite(d[others, 1]).any()
    assert torch.isfinite(d[others][:, others]).all()
    for loss in (L.batch_hard_triplet_loss, L.batch_all_triplet_loss):
        assert torch.isnan(loss(x, torch.tensor(y))), loss.__name__


# ---------------------------------------------------- margin softmax losses (pml peers) ----
def _pml():
    _torch()
    return pytest.importorskip("pytorch_metric_learning.losses")


def _pml_run(module, param, matrix, x, y):
    """A pml loss module on float64 tensors with its class matrix ``param`` replaced by
    ``matrix`` (``W`` is stored ``(D, C)``: our ``linear_weight.T``): value and gradients of
    the embeddings and the matrix."""
    torch = _torch()
    from torch.func import functional_call

    xt, mt = _t(x, True), _t(matrix, True)
    module = module.double()
    value = functional_call(module, {param: mt.T if param == "W" else mt}, (xt, torch.tensor(y)))
    return (value.detach().numpy(), *[g.numpy() for g in torch.autograd.grad(value, (xt, mt))])


def _ours_run(fn, x, y, matrix, **kw):
    torch = _torch()
    xt, mt = _t(x, True), _t(matrix, True)
    value = fn(xt, torch.tensor(y), mt, **kw)
    return (value.detach().numpy(), *[g.numpy() for g in torch.autograd.grad(value, (xt, mt))])


def _class_batch(seed=0, n=12, d=6, c=5):
    rng = _rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n), rng.normal(size=(c, d))


def np_margin_softmax(x, y, w, target, scale, norm_scaled=False):
    """Independent float64 formula: normalised cosines, the target logit replaced, CE."""
    cos = np_normalize(x) @ np_normalize(w).T
    rows = np.arange(len(y))
    logits = cos.copy()
    logits[rows, y] = target(cos[rows, y])
    factor = scale * (np.linalg.norm(x, axis=1, keepdims=True) if norm_scaled else 1.0)
    return np_ce(factor * logits, y)


def np_arcface_target(c, margin_deg):
    m = np.radians(margin_deg)
    theta = np.arccos(np.clip(c, -1, 1))
    return np.where(theta <= np.pi - m, np.cos(theta + m), np.cos(theta) - m * np.sin(m))


def np_sphereface_target(c, m):
    theta = np.arccos(np.clip(c, -1, 1))
    k = np.floor(theta * m / np.pi)
    return (-1.0) ** k * np.cos(m * theta) - 2 * k


@pytest.mark.parametrize("kw", [{}, {"margin": 10.0, "scale": 30.0}, {"margin": 60.0, "scale": 4.0}])
def test_arcface_loss_matches_pml_and_the_paper_formula(kw):
    pml = _pml()
    x, y, w = _class_batch(1)
    want = _pml_run(pml.ArcFaceLoss(num_classes=5, embedding_size=6, **kw), "W", w, x, y)
    got = _ours_run(L.arcface_loss, x, y, w, **kw)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    ref = np_margin_softmax(x, y, w, lambda c: np_arcface_target(c, kw.get("margin", 28.6)), kw.get("scale", 64.0))
    _close(L.arcface_loss(x, y, w, **kw), ref, rtol=1e-11)


def test_arcface_loss_beyond_pi_minus_m_takes_the_linear_branch():
    pml = _pml()
    x, y, w = _class_batch(2)
    x = -w[y] + 0.05 * _rng(3).normal(size=x.shape)  # target angles near pi
    cos_t = (np_normalize(x) * np_normalize(w)[y]).sum(1)
    assert (np.arccos(cos_t) > np.pi - np.radians(28.6)).all()
    want = _pml_run(pml.ArcFaceLoss(num_classes=5, embedding_size=6, scale=8.0), "W", w, x, y)
    got = _ours_run(L.arcface_loss, x, y, w, scale=8.0)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    m = np.radians(28.6)
    ref = np_margin_softmax(x, y, w, lambda c: c - m * np.sin(m), 8.0)
    _close(got[0], ref, rtol=1e-12)


def test_arcface_loss_finite_gradient_at_cos_one_where_pml_is_not():
    """docs/differences.md: no acos, sin(theta) through the double-where square root."""
    pml = _pml()
    w = np.eye(3, 4) * 2.0
    y = np.array([0, 1, 2, 0])
    x = w[y] * 3.0  # target cosines exactly 1
    x[3] *= -1.0  # and exactly -1
    want = _pml_run(pml.ArcFaceLoss(num_classes=3, embedding_size=4), "W", w, x, y)
    got = _ours_run(L.arcface_loss, x, y, w)
    assert not all(np.isfinite(g).all() for g in want[1:])  # pml: acos'(+-1) is infinite
    _close(got[0], want[0], rtol=1e-12)
    assert all(np.isfinite(g).all() for g in got[1:])
    # the ref value: cos(0 + m) for the first three samples, -1 - m sin m for the last
    m = np.radians(28.6)
    ref = np_margin_softmax(x, y, w, lambda c: np.where(c > 0, np.cos(m), -1 - m * np.sin(m)), 64.0)
    _close(got[0], ref, rtol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"margin": 0.1, "scale": 10.0}, {"margin": -0.2, "scale": 2.0}])
def test_cosface_loss_matches_pml_and_the_paper_formula(kw):
    pml = _pml()
    x, y, w = _class_batch(4)
    want = _pml_run(pml.CosFaceLoss(num_classes=5, embedding_size=6, **kw), "W", w, x, y)
    got = _ours_run(L.cosface_loss, x, y, w, **kw)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    ref = np_margin_softmax(x, y, w, lambda c: c - kw.get("margin", 0.35), kw.get("scale", 64.0))
    _close(got[0], ref, rtol=1e-11)


@pytest.mark.parametrize("kw", [{}, {"margin": 1}, {"margin": 2, "scale": 0.5}, {"margin": 3, "scale": 2.0},
                                {"margin": 5}])
def test_sphereface_loss_matches_pml_and_the_paper_formula(kw):
    pml = _pml()
    x, y, w = _class_batch(5)
    want = _pml_run(pml.SphereFaceLoss(num_classes=5, embedding_size=6, **kw), "W", w, x, y)
    got = _ours_run(L.sphereface_loss, x, y, w, **kw)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    m = kw.get("margin", 4)
    ref = np_margin_softmax(x, y, w, lambda c: np_sphereface_target(c, m), kw.get("scale", 1.0), norm_scaled=True)
    _close(got[0], ref, rtol=1e-11)


def test_sphereface_margin_is_an_int_where_pml_truncates():
    """docs/differences.md: pml's SphereFaceLoss(margin=4.7) computes with int(4.7) = 4."""
    pml = _pml()
    x, y, w = _class_batch(6)
    want = _pml_run(pml.SphereFaceLoss(num_classes=5, embedding_size=6, margin=4.7), "W", w, x, y)
    _close(L.sphereface_loss(x, y, w, margin=4), want[0], rtol=1e-12)
    with pytest.raises(TypeError, match="margin must be an int"):
        L.sphereface_loss(x, y, w, margin=4.7)


def test_margin_softmax_reductions_and_empty_batch():
    x, y, w = _class_batch(7)
    for f in (L.arcface_loss, L.cosface_loss, L.sphereface_loss, L.proxy_nca_loss):
        per = np.asarray(f(x, y, w, reduction="none"))
        assert per.shape == (12,)
        _close(f(x, y, w, reduction="sum"), per.sum())
        _close(f(x, y, w), per.mean())
        empty = f(x[:0], y[:0], w)
        assert np.isnan(empty) and float(f(x[:0], y[:0], w, reduction="sum")) == 0.0


def test_margin_softmax_nan_goes_through():
    x, y, w = _class_batch(8)
    xn = x.copy()
    xn[2, 1] = np.nan
    wn = w.copy()
    wn[4, 0] = np.nan
    for f in (L.arcface_loss, L.cosface_loss, L.sphereface_loss, L.proxy_nca_loss, L.proxy_anchor_loss):
        assert np.isnan(f(x, y, wn))  # a class row is read by every sample
        if f is not L.proxy_anchor_loss:
            per = np.asarray(f(xn, y, w, reduction="none"))
            assert np.isnan(per[2]) and np.isfinite(np.delete(per, 2)).all()


# -------------------------------------------------- multi-similarity and circle losses ----
def _pair_batch(seed=0, n=12, d=6, k=3):
    rng = _rng(seed)
    return rng.normal(size=(n, d)), rng.permutation(np.arange(n) % k)


def _pml_pairs_run(module, x, y):
    torch = _torch()
    xt = _t(x, True)
    value = module(xt, torch.tensor(y))
    return value.detach().numpy(), torch.autograd.grad(value, xt)[0].numpy()


def _ours_pairs_run(fn, x, y, **kw):
    torch = _torch()
    xt = _t(x, True)
    value = fn(xt, torch.tensor(y), **kw)
    return value.detach().numpy(), torch.autograd.grad(value, xt)[0].numpy()


def np_multi_similarity(x, y, alpha=2.0, beta=50.0, base=0.5):
    s = np_normalize(x) @ np_normalize(x).T
    out = []
    for i in range(len(y)):
        pos = [j for j in range(len(y)) if y[j] == y[i] and j != i]
        neg = [j for j in range(len(y)) if y[j] != y[i]]
        lp = np.log1p(np.exp(-alpha * (s[i, pos] - base)).sum()) / alpha
        ln = np.log1p(np.exp(beta * (s[i, neg] - base)).sum()) / beta
        out.append(lp + ln)
    return np.array(out)


def np_circle(x, y, m=0.4, gamma=80.0):
    s = np_normalize(x) @ np_normalize(x).T
    out = []
    for i in range(len(y)):
        sp = np.array([s[i, j] for j in range(len(y)) if y[j] == y[i] and j != i])
        sn = np.array([s[i, j] for j in range(len(y)) if y[j] != y[i]])
        if not len(sp) or not len(sn):
            out.append(None)
            continue
        zp = -gamma * np.maximum(1 + m - sp, 0) * (sp - (1 - m))
        zn = gamma * np.maximum(sn + m, 0) * (sn - m)
        lse = lambda z: z.max() + np.log(np.exp(z - z.max()).sum())  # noqa: E731
        t = lse(zp) + lse(zn)
        out.append(max(t, 0) + np.log1p(np.exp(-abs(t))))
    return out


@pytest.mark.parametrize("kw", [{}, {"alpha": 1.0, "beta": 10.0, "base": 0.2}, {"alpha": 4.0, "beta": 40.0, "base": 1.0}])
def test_multi_similarity_loss_matches_pml_and_the_paper_formula(kw):
    pml = _pml()
    x, y = _pair_batch(10)
    want = _pml_pairs_run(pml.MultiSimilarityLoss(**kw), x, y)
    got = _ours_pairs_run(L.multi_similarity_loss, x, y, **kw)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    ref = np_multi_similarity(x, y, **kw)
    _close(L.multi_similarity_loss(x, y, reduction="none", **kw), ref, rtol=1e-11)
    _close(L.multi_similarity_loss(x, y, **kw), ref.mean(), rtol=1e-11)


def test_multi_similarity_anchor_without_positives_as_pml():
    pml = _pml()
    x, y = _pair_batch(11, n=6)
    y = np.array([0, 1, 2, 3, 4, 4])  # anchors 0..3 have no positive: only their negative term
    _close(L.multi_similarity_loss(x, y), np_multi_similarity(x, y).mean(), rtol=1e-11)
    want = _pml_pairs_run(pml.MultiSimilarityLoss(), x, y)
    got = _ours_pairs_run(L.multi_similarity_loss, x, y)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    assert float(L.multi_similarity_loss(x[:1], y[:1])) == 0.0  # one sample: no pair at all


@pytest.mark.parametrize("kw", [{}, {"margin": 0.25, "gamma": 16.0}, {"margin": 0.1, "gamma": 256.0}])
def test_circle_loss_matches_pml_and_the_paper_formula(kw):
    pml = _pml()
    x, y = _pair_batch(12)
    pk = {"m": kw["margin"], "gamma": kw["gamma"]} if kw else {}
    want = _pml_pairs_run(pml.CircleLoss(**pk), x, y)
    got = _ours_pairs_run(L.circle_loss, x, y, mean_over="nonzero", **kw)
    # pml's torch.nn.Softplus returns its input above 20 (an error of up to exp(-20) = 2e-9);
    # at gamma=16 the anchors' arguments lie just above 20
    tol = 1e-8 if kw.get("gamma") == 16.0 else 1e-10
    for a, b in zip(got, want):
        _close(a, b, rtol=tol, atol=1e-12)
    ref = np_circle(x, y, kw.get("margin", 0.4), kw.get("gamma", 80.0))
    _close(L.circle_loss(x, y, reduction="none", **kw), ref, rtol=1e-11)
    _close(L.circle_loss(x, y, **kw), np.mean(ref), rtol=1e-11)


def test_circle_loss_invalid_anchors_left_out_as_pml():
    pml = _pml()
    x, y = _pair_batch(13, n=7)
    y = np.array([0, 0, 1, 1, 2, 3, 3])  # anchor 4 has no positive
    per = np.asarray(L.circle_loss(x, y, gamma=16.0, reduction="none"))
    assert per[4] == 0.0 and (np.delete(per, 4) > 0).all()
    _close(L.circle_loss(x, y, gamma=16.0), np.delete(per, 4).mean(), rtol=1e-12)
    want = _pml_pairs_run(pml.CircleLoss(gamma=16.0), x, y)
    got = _ours_pairs_run(L.circle_loss, x, y, gamma=16.0, mean_over="nonzero")
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    one = L.circle_loss(x, np.zeros(7, dtype=np.int64))  # no negatives at all: 0, not NaN
    assert float(one) == 0.0


def test_circle_loss_keras_value_and_gradient_difference():
    """docs/differences.md: Keras 3's ``circle`` on normalised embeddings gives our values;
    it differentiates through the weights alpha, pml and we do not."""
    import os
    import sys

    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() not in ("jax", "torch"):
        pytest.skip("Keras on a backend the library does not run on")
    torch = _torch()
    x, y = _pair_batch(14)
    xn = np_normalize(x)
    k = keras.ops.convert_to_numpy(keras.losses.circle(y, xn))
    _close(L.circle_loss(xn, y, reduction="none"), k, rtol=1e-5, atol=1e-4)  # Keras computes in float32
    # the gradient with the weights differentiated (Keras's) differs from ours (pml's)
    xt = _t(xn, True)
    s = xt @ xt.T
    yt = torch.tensor(y)
    pos = (yt[:, None] == yt[None]) & ~torch.eye(len(y), dtype=torch.bool)
    neg = yt[:, None] != yt[None]
    zp = torch.where(pos, -80 * torch.relu(1.4 - s) * (s - 0.6), -torch.inf)
    zn = torch.where(neg, 80 * torch.relu(s + 0.4) * (s - 0.4), -torch.inf)
    undetached = torch.nn.functional.softplus(torch.logsumexp(zp, 1) + torch.logsumexp(zn, 1)).mean()
    g_keras = torch.autograd.grad(undetached, xt)[0].numpy()
    _close(undetached.detach().numpy(), L.circle_loss(xn, y), rtol=1e-12)
    g_ours = _ours_pairs_run(L.circle_loss, xn, y)[1]
    assert np.abs(g_keras - g_ours).max() > 1e-3


# --------------------------------------------------------------------------- proxy losses ----
def np_proxy_anchor(x, y, p, margin=0.1, alpha=32.0):
    cos = np_normalize(x) @ np_normalize(p).T
    c = p.shape[0]
    pos = [np.log1p(np.exp(-alpha * (cos[y == k, k] - margin)).sum()) for k in range(c) if (y == k).any()]
    neg = [np.log1p(np.exp(alpha * (cos[y != k, k] + margin)).sum()) for k in range(c)]
    return np.sum(pos) / len(pos) + np.sum(neg) / c, np.sum(pos) + np.sum(neg)


def np_proxy_nca(x, y, p, scale=1.0):
    d2 = ((np_normalize(x)[:, None, :] - np_normalize(p)[None]) ** 2).sum(-1)
    return np_ce(-scale * d2, y)


@pytest.mark.parametrize("kw", [{}, {"margin": 0.3, "alpha": 4.0}, {"margin": 0.0, "alpha": 64.0}])
def test_proxy_anchor_loss_matches_pml_and_the_paper_formula(kw):
    pml = _pml()
    x, y, p = _class_batch(20, c=7)  # some of the 7 classes have no sample
    want = _pml_run(pml.ProxyAnchorLoss(num_classes=7, embedding_size=6, **kw), "proxies", p, x, y)
    got = _ours_run(L.proxy_anchor_loss, x, y, p, **kw)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    mean, total = np_proxy_anchor(x, y, p, **kw)
    _close(got[0], mean, rtol=1e-11)
    _close(L.proxy_anchor_loss(x, y, p, reduction="sum", **kw), total, rtol=1e-11)


def test_proxy_anchor_loss_large_alpha_zero_row_and_nan():
    """Finite at a scale where the reference's log1p(sum(exp)) overflows (the terms are
    shifted by their masked maximum); a zero embedding row has a finite gradient (0 / eps);
    a NaN embedding gives NaN."""
    torch = _torch()
    x, y, p = _class_batch(24, c=7)
    x[3] = 0.0
    alpha = 2000.0  # exp(2000 * 1.1) overflows float64

    def stable(z):  # log(1 + sum exp(z)) in float64, shifted by max(0, max z)
        m = max(0.0, z.max()) if z.size else 0.0
        return m + np.log(np.exp(-m) + np.exp(z - m).sum())

    cos = np_normalize(x) @ np_normalize(p).T
    pos = [stable(-alpha * (cos[y == k, k] - 0.1)) for k in range(7) if (y == k).any()]
    neg = [stable(alpha * (cos[y != k, k] + 0.1)) for k in range(7)]
    a, b = _t(x, True), _t(p, True)
    out = L.proxy_anchor_loss(a, torch.asarray(y), b, alpha=alpha)
    _close(out.detach(), np.sum(pos) / len(pos) + np.sum(neg) / 7, rtol=1e-12)
    ga, gb = torch.autograd.grad(out, (a, b))
    assert torch.isfinite(ga).all() and torch.isfinite(gb).all()
    x[5, 2] = np.nan
    assert np.isnan(L.proxy_anchor_loss(x, y, p))
    assert np.isnan(L.proxy_anchor_loss(x, y, p, reduction="sum"))


def test_proxy_anchor_loss_empty_batch_and_no_reduction_none():
    """docs/differences.md: an empty batch gives NaN (the mean of nothing); pml returns 0."""
    pml = _pml()
    x, y, p = _class_batch(21)
    assert np.isnan(L.proxy_anchor_loss(x[:0], y[:0], p))
    assert float(L.proxy_anchor_loss(x[:0], y[:0], p, reduction="sum")) == 0.0
    assert float(_pml_run(pml.ProxyAnchorLoss(num_classes=5, embedding_size=6), "proxies", p, x[:0], y[:0])[0]) == 0.0
    with pytest.raises(ValueError, match="reduction"):
        L.proxy_anchor_loss(x, y, p, reduction="none")


@pytest.mark.parametrize("scale", [1.0, 0.3, 9.0])
def test_proxy_nca_loss_matches_pml_and_the_paper_formula(scale):
    pml = _pml()
    x, y, p = _class_batch(22)
    want = _pml_run(pml.ProxyNCALoss(num_classes=5, embedding_size=6, softmax_scale=scale), "proxies", p, x, y)
    got = _ours_run(L.proxy_nca_loss, x, y, p, scale=scale)
    for a, b in zip(got, want):
        _close(a, b, rtol=1e-10, atol=1e-12)
    _close(got[0], np_proxy_nca(x, y, p, scale), rtol=1e-11)


def test_proxy_nca_loss_underflow_is_finite_where_pml_drops_the_sample():
    """docs/differences.md: a true-class probability that underflows to 0 is dropped from
    pml's mean; ours is the log-softmax, finite, and counted."""
    pml = _pml()
    p = np.eye(3, 4)
    x = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]])
    y = np.array([0, 1, 0])  # the last sample is opposite its proxy: d^2 = 4 against 2 elsewhere
    scale = 400.0  # exp(-400 * 2) underflows in float64
    want = _pml_run(pml.ProxyNCALoss(num_classes=3, embedding_size=4, softmax_scale=scale), "proxies", p, x, y)
    per = np.asarray(L.proxy_nca_loss(x, y, p, scale=scale, reduction="none"))
    _close(per[2], scale * 2 + np.log(1 + 2 * np.exp(0.0)) - 0.0 - np.log(1.0), rtol=1e-3)  # ~800 + log 3
    assert np.isfinite(per).all()
    _close(want[0], per[:2].mean(), rtol=1e-12, atol=1e-12)  # pml: the mean of the other two
    _close(L.proxy_nca_loss(x, y, p, scale=scale), per.mean(), rtol=1e-12)


def test_new_metric_errors():
    x, y, w = _class_batch(23)
    for f in (L.arcface_loss, L.cosface_loss, L.sphereface_loss, L.proxy_anchor_loss, L.proxy_nca_loss):
        name = "proxies" if f.__name__.startswith("proxy") else "linear_weight"
        with pytest.raises(ValueError, match=rf"{name} must have shape \(C, 6\)"):
            f(x, y, w[:, :4])
        with pytest.raises(ValueError, match=name):
            f(x, y, w[:0])
        with pytest.raises(TypeError, match=name):
            f(x, y, w.astype(np.int64))
        with pytest.raises(ValueError, match=r"labels must hold class indices in \[0, 4\]"):
            f(x, np.where(y == 0, 5, y), w)
        with pytest.raises(TypeError, match="labels must have an integer dtype"):
            f(x, y.astype(np.float64), w)
    with pytest.raises(ValueError, match="margin must be < 180"):
        L.arcface_loss(x, y, w, margin=180.0)
    with pytest.raises(ValueError, match="scale must be > 0"):
        L.cosface_loss(x, y, w, scale=0.0)
    with pytest.raises(ValueError, match="margin must be an int >= 1"):
        L.sphereface_loss(x, y, w, margin=0)
    xe, ye = _pair_batch(24)
    with pytest.raises(ValueError, match="beta must be > 0"):
        L.multi_similarity_loss(xe, ye, beta=0.0)
    with pytest.raises(ValueError, match="base must be finite"):
        L.multi_similarity_loss(xe, ye, base=float("inf"))
    with pytest.raises(ValueError, match="mean_over"):
        L.circle_loss(xe, ye, mean_over="weights")
    with pytest.raises(ValueError, match="gamma must be > 0"):
        L.circle_loss(xe, ye, gamma=-1.0)


def test_new_metric_docstring_examples_run():
    import doctest

    for f in (L.arcface_loss, L.cosface_loss, L.sphereface_loss, L.multi_similarity_loss,
              L.proxy_anchor_loss, L.proxy_nca_loss):
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        for test in doctest.DocTestFinder().find(f, f.__name__, globs={}):
            runner.run(test)
        assert runner.summarize(verbose=False).failed == 0, f.__name__
        assert runner.summarize(verbose=False).attempted > 0, f.__name__


@pytest.mark.slow  # the conformance suite runs every case under jax.jit and torch.compile
def test_new_metric_losses_under_jax_jit_and_torch_compile():
    jax, jnp = _jax()
    torch = _torch()
    x, y, w = _class_batch(25)
    xe, ye = _pair_batch(25)
    calls = [(L.arcface_loss, (x, y, w)), (L.cosface_loss, (x, y, w)), (L.sphereface_loss, (x, y, w)),
             (L.proxy_anchor_loss, (x, y, w)), (L.proxy_nca_loss, (x, y, w)),
             (L.multi_similarity_loss, (xe, ye)), (L.circle_loss, (xe, ye))]
    for f, args in calls:
        want = np.asarray(f(*args))
        _close(jax.jit(f)(*[jnp.asarray(a, dtype=jnp.float32 if a.dtype.kind == "f" else a.dtype) for a in args]),
               want, rtol=2e-4, atol=1e-4)
        compiled = torch.compile(f, fullgraph=True, backend="eager")
        _close(compiled(*[torch.tensor(a) for a in args]).detach(), want, rtol=1e-10)
