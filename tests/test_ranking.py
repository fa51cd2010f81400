"""Ranking losses: values and gradients against rax 0.4 (and optax for the softmax loss) run on
the same inputs (padded lists, tied labels, all-masked lists, weights), the reduction mapping,
the documented differences (the mean of nothing is NaN, NaN labels are not hidden), errors,
and the docs/ranking.md examples."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import losses as L

rax = pytest.importorskip("rax")
jax = pytest.importorskip("jax")
jnp = jax.numpy


@pytest.fixture(autouse=True)
def _x64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _approx(metric, temperature=1.0):
    """``rax.approx_t12n(metric, temperature)``, spelled out: rax 0.4's wrapper calls
    ``jax.util.wraps``, which JAX 0.10 no longer has; the body is these lines of t12n.py."""
    def step(x):
        return jax.nn.sigmoid(x / temperature)

    def loss(scores, labels, **kw):
        return -metric(scores, labels, rank_fn=functools.partial(rax.utils.approx_ranks, step_fn=step),
                       cutoff_fn=functools.partial(rax.utils.approx_cutoff, step_fn=step), **kw)

    return loss


# ours -> (rax twin, takes weights, extra keyword arguments)
TWINS = {
    "ranking_softmax_loss": (rax.softmax_loss, True, {}),
    "poly1_softmax_loss": (rax.poly1_softmax_loss, True, {"epsilon": 0.7}),
    "listmle_loss": (rax.listmle_loss, False, {}),
    "pairwise_hinge_loss": (rax.pairwise_hinge_loss, True, {}),
    "pairwise_logistic_loss": (rax.pairwise_logistic_loss, True, {}),
    "pairwise_mse_loss": (rax.pairwise_mse_loss, True, {}),
    "approx_ndcg_loss": (_approx(rax.ndcg_metric, 0.5), True, {}),
    "approx_mrr_loss": (_approx(rax.mrr_metric, 0.5), False, {}),
}
OURS_EXTRA = {"approx_ndcg_loss": {"temperature": 0.5}, "approx_mrr_loss": {"temperature": 0.5}}
PAIRWISE = ("pairwise_hinge_loss", "pairwise_logistic_loss", "pairwise_mse_loss")
REDUCE = {"mean": "mean", "sum": "sum", "none": None}


def _inputs(seed=0, shape=(5, 6)):
    """Scores, integer-graded labels with ties, a padding mask (list 1 has 2 valid items, list
    3 none: all masked), per-item weights."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=shape) * 1.5
    y = rng.integers(0, 4, size=shape).astype(np.float64)
    y[0, :3] = 2.0  # ties
    lengths = np.array([6, 2, 5, 0, 4])[: shape[0]]
    where = np.arange(shape[-1]) < lengths[:, None]
    w = rng.uniform(0.2, 2.0, size=shape)
    return s, y, where, w


def _rax_fn(name, s, y, where, w, reduction):
    fn, takes_w, kw = TWINS[name]
    kw = dict(kw)
    if where is not None:
        kw["where"] = where
    if w is not None and takes_w:
        kw["weights"] = w
    red = REDUCE[reduction]
    kw["reduce_fn"] = getattr(jnp, red) if red else None
    out = fn(s, y, **kw)
    if reduction == "none" and name in PAIRWISE:
        out = jnp.sum(out, axis=-1)  # rax gives the list_size**2 pair losses; ours their sum
    return out


def _ours(name, s, y, where, w, reduction):
    fn = getattr(L, name)
    _, takes_w, kw = TWINS[name]
    kw = {k: v for k, v in kw.items()} | OURS_EXTRA.get(name, {})
    if where is not None:
        kw["where"] = where
    if w is not None and takes_w:
        kw["weight"] = w
    return fn(s, y, reduction=reduction, **kw)


@functools.lru_cache(maxsize=None)
def _jitted(which, name, reduction, has_where, has_w):
    """``(value, gradient of sum(value * v) wrt the scores)`` of rax's or our loss on JAX, one
    ``jax.jit`` per signature (eager JAX compiles every primitive per shape: slower)."""
    fn = _rax_fn if which == "rax" else _ours

    def scalar(s, y, where, w, v):
        out = fn(name, s, y, where if has_where else None, w if has_w else None, reduction)
        return jnp.sum(out * v), out

    grad = jax.value_and_grad(scalar, has_aux=True)
    return jax.jit(lambda s, y, where, w, v: (lambda r: (r[0][1], r[1]))(grad(s, y, where, w, v)))


def _jax(which, name, s, y, where, w, reduction, v=None):
    f = _jitted(which, name, reduction, where is not None, w is not None)
    ones = np.ones_like(s)
    args = [jnp.asarray(a) for a in (s, y, ones > 0 if where is None else where, ones if w is None else w)]
    v = np.ones(s.shape[:-1]) if v is None else v
    out, g = f(*args, jnp.asarray(v))
    return np.asarray(out), np.asarray(g)


def _rax(name, s, y, where, w, reduction):
    return _jax("rax", name, s, y, where, w, reduction)[0]


COMBOS = [("mean", True, True), ("none", True, False)]
MORE_COMBOS = [("sum", False, False), ("mean", False, True)]


@pytest.mark.parametrize("combos", [
    pytest.param(COMBOS, id="default"), pytest.param(MORE_COMBOS, id="more", marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", list(TWINS))
def test_values_and_gradients_are_rax(name, combos):
    s, y, where, w = _inputs(seed=len(name))
    for reduction, masked, weighted in combos:
        m, ww = (where if masked else None), (w if weighted else None)
        what = f"{name} reduction={reduction} masked={masked} weighted={weighted}"
        v = np.random.default_rng(1).normal(size=s.shape[:-1]) if reduction == "none" else None
        want, g_want = _jax("rax", name, s, y, m, ww, reduction, v)
        got = np.asarray(_ours(name, s, y, m, ww, reduction))  # NumPy
        assert got.shape == want.shape, what
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, err_msg=what)
        # gradients wrt the scores: jax.grad of rax against jax.grad of ours (jitted)
        got_j, g_got = _jax("ours", name, s, y, m, ww, reduction, v)
        np.testing.assert_allclose(got_j, want, rtol=1e-12, atol=1e-13, err_msg=what)
        np.testing.assert_allclose(g_got, g_want, rtol=1e-10, atol=1e-12, err_msg=what)


def test_softmax_loss_is_optax():
    optax = pytest.importorskip("optax")
    s, y, where, w = _inputs(3)
    for red, fn in (("mean", jnp.mean), ("sum", jnp.sum), ("none", None)):
        want = optax.losses.ranking_softmax_loss(jnp.asarray(s), jnp.asarray(y), where=jnp.asarray(where),
                                                 weights=jnp.asarray(w), reduce_fn=fn)
        got = L.ranking_softmax_loss(s, y, where=where, weight=w, reduction=red)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)

        def theirs(x, fn=fn):
            out = optax.losses.ranking_softmax_loss(x, jnp.asarray(y), where=jnp.asarray(where),
                                                    weights=jnp.asarray(w), reduce_fn=fn)
            return jnp.sum(out)

        def mine(x, red=red):
            return jnp.sum(L.ranking_softmax_loss(x, jnp.asarray(y), where=jnp.asarray(where),
                                                  weight=jnp.asarray(w), reduction=red))

        np.testing.assert_allclose(jax.jit(jax.grad(mine))(jnp.asarray(s)), jax.jit(jax.grad(theirs))(jnp.asarray(s)),
                                   rtol=1e-10, atol=1e-12)


def _softmax_formula(s, y, valid):
    """An independent float64 formula of the softmax loss per list."""
    out = []
    for si, yi, vi in zip(s, y, valid):
        if not vi.any():
            out.append(0.0)
            continue
        z = si[vi]
        lse = np.log(np.sum(np.exp(z - z.max()))) + z.max()
        out.append(-np.sum(yi[vi] * (z - lse)))
    return np.array(out)


def test_softmax_loss_numpy_formula():
    s, y, where, _ = _inputs(4)
    np.testing.assert_allclose(L.ranking_softmax_loss(s, y, where=where, reduction="none"),
                               _softmax_formula(s, y, where), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", list(TWINS))
def test_all_masked_list_is_zero_and_not_counted(name):
    # list 3 of the inputs has no valid item: 0 in "none", not in the mean's denominator
    s, y, where, _ = _inputs(5)
    per = np.asarray(_ours(name, s, y, where, None, "none"))
    assert per[3] == 0.0
    want = np.asarray(_rax(name, s, y, where, None, "mean"))
    np.testing.assert_allclose(_ours(name, s, y, where, None, "mean"), want, rtol=1e-12)


@pytest.mark.parametrize("name", list(TWINS))
def test_difference_mean_of_nothing_is_nan_where_rax_gives_zero(name):
    s, y, _, _ = _inputs(6)
    where = np.zeros_like(s, dtype=bool)
    assert float(_rax(name, s, y, where, None, "mean")) == 0.0
    got = _ours(name, s, y, where, None, "mean")
    assert math.isnan(float(got))
    assert float(_ours(name, s, y, where, None, "sum")) == 0.0
    # the NaN of an empty mean has a zero (finite) gradient
    value, g = _jax("ours", name, s, y, where, None, "mean")
    assert math.isnan(float(value))
    assert np.all(g == 0.0)


@pytest.mark.parametrize("name", ["pairwise_hinge_loss", "pairwise_logistic_loss"])
def test_difference_all_tied_labels_give_nan_mean(name):
    # no pair with y_i > y_j anywhere: rax's per-pair mean is 0, ours NaN (the mean of nothing)
    s = np.random.default_rng(0).normal(size=(3, 4))
    y = np.ones_like(s)
    assert float(_rax(name, s, y, None, None, "mean")) == 0.0
    assert math.isnan(float(_ours(name, s, y, None, None, "mean")))
    np.testing.assert_array_equal(_ours(name, s, y, None, None, "none"), np.zeros(3))


@pytest.mark.parametrize("name", list(TWINS))
def test_masked_items_are_never_read(name):
    # NaN and inf in padded positions change nothing (rax's values too)
    s, y, where, w = _inputs(7)
    s2, y2, w2 = s.copy(), y.copy(), w.copy()
    s2[~where] = np.nan
    y2[~where] = np.inf
    w2[~where] = np.nan
    want = np.asarray(_ours(name, s, y, where, w, "none"))
    np.testing.assert_array_equal(_ours(name, s2, y2, where, w2, "none"), want)
    np.testing.assert_allclose(_ours(name, s2, y2, where, w2, "mean"), _rax(name, s2, y2, where, w2, "mean"),
                               rtol=1e-12)


@pytest.mark.parametrize("name", list(TWINS))
def test_nan_in_a_valid_label_or_score_gives_nan(name):
    s, y, where, _ = _inputs(8)
    for arr in ("scores", "labels"):
        s2, y2 = s.copy(), y.copy()
        (s2 if arr == "scores" else y2)[0, 1] = np.nan
        per = np.asarray(_ours(name, s2, y2, where, None, "none"))
        assert np.isnan(per[0]), (arr, per)
        assert np.all(np.isfinite(per[1:]))
        assert math.isnan(float(_ours(name, s2, y2, where, None, "mean")))


def test_difference_rax_hides_a_nan_label_of_the_pairwise_and_listmle_losses():
    s, y, _, _ = _inputs(9)
    y[0, 1] = np.nan
    for name in ("pairwise_hinge_loss", "listmle_loss"):
        assert np.isfinite(float(_rax(name, s, y, None, None, "sum")))
        assert math.isnan(float(_ours(name, s, y, None, None, "sum")))


def test_listmle_ties_keep_the_list_order():
    # with tied labels the stable order is the order in the list (rax without key=)
    s = np.array([[0.3, -1.0, 2.0, 0.5]])
    y = np.array([[1.0, 1.0, 0.0, 1.0]])
    # order: items 0, 1, 3 (tied, in list order), then item 2
    z = s[0, [0, 1, 3, 2]]
    want = -sum(z[k] - np.log(np.sum(np.exp(z[k:]))) for k in range(4))
    np.testing.assert_allclose(L.listmle_loss(s, y), want, rtol=1e-14)


def test_listmle_is_finite_for_huge_score_gaps():
    # the suffix log-sum-exp holds scores 1e4 apart (an exp of the gap underflows)
    s = np.array([[1e4, -1e4, 0.0, 3.0]])
    y = np.array([[0.0, 3.0, 2.0, 1.0]])
    z = s[0, [1, 2, 3, 0]]
    want = -sum(z[k] - (z[k:].max() + np.log(np.sum(np.exp(z[k:] - z[k:].max())))) for k in range(4))
    got = L.listmle_loss(s, y)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    _, g = _jax("ours", "listmle_loss", s, y, None, None, "sum")
    assert np.all(np.isfinite(g))


def test_pairwise_hinge_subgradient_at_the_kink_is_rax():
    # s_i - s_j = 1 exactly: jax.nn.relu's subgradient 0, as ours
    s = np.array([[1.0, 0.0, 0.5]])
    y = np.array([[1.0, 0.0, 0.0]])
    _, g_ours = _jax("ours", "pairwise_hinge_loss", s, y, None, None, "sum")
    _, g_rax = _jax("rax", "pairwise_hinge_loss", s, y, None, None, "sum")
    np.testing.assert_array_equal(g_ours, g_rax)
    np.testing.assert_array_equal(g_ours, [[-1.0, 0.0, 1.0]])  # the kink pair (0, 1) gives 0


def test_approx_ndcg_numpy_formula():
    s, y, where, w = _inputs(10)
    T = 0.7
    want = []
    for si, yi, vi, wi in zip(s, y, where, w):
        z, g = si[vi], (2.0 ** yi[vi] - 1) * wi[vi]
        n = len(z)
        if n == 0:
            want.append(0.0)
            continue
        rank = 1 + np.array([sum(1 / (1 + np.exp(-(z[j] - z[i]) / T)) for j in range(n) if j != i) for i in range(n)])
        dcg = np.sum(g / np.log2(1 + rank))
        idcg = np.sum(np.sort(g)[::-1] / np.log2(np.arange(n) + 2.0))
        want.append(-dcg / (idcg if idcg != 0 else 1.0))
    got = L.approx_ndcg_loss(s, y, where=where, weight=w, temperature=T, reduction="none")
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


def test_integer_and_bool_labels_are_cast():
    s, y, where, _ = _inputs(11)
    for name in TWINS:
        want = _ours(name, s, y, where, None, "none")
        np.testing.assert_array_equal(_ours(name, s, y.astype(np.int32), where, None, "none"), want)


@pytest.mark.parametrize("name", list(TWINS))
def test_errors_name_the_argument(name):
    fn = getattr(L, name)
    s, y, where, _ = _inputs(12)
    with pytest.raises(ValueError, match="labels"):
        fn(s, y[:, :3])
    with pytest.raises(TypeError, match="where"):
        fn(s, y, where=where.astype(np.float64))
    with pytest.raises(ValueError, match="where"):
        fn(s, y, where=where[:, :2])
    with pytest.raises(TypeError, match="scores"):
        fn(s.astype(np.int64), y)
    with pytest.raises(ValueError, match="reduction"):
        fn(s, y, reduction="batchmean")
    if "temperature" in OURS_EXTRA.get(name, {}):
        for bad in (0.0, -1.0, math.inf):
            with pytest.raises(ValueError, match="temperature"):
                fn(s, y, temperature=bad)
    if TWINS[name][1]:
        with pytest.raises(ValueError, match="weight"):
            fn(s, y, weight=np.ones((2, 2)))


def test_poly1_epsilon_must_be_finite():
    s, y, _, _ = _inputs(13)
    with pytest.raises(ValueError, match="epsilon"):
        L.poly1_softmax_loss(s, y, epsilon=math.inf)
    with pytest.raises(TypeError, match="epsilon"):
        L.poly1_softmax_loss(s, y, epsilon="1")


def test_docs_examples():
    from tests._docs import doc_blocks, run_block

    blocks = doc_blocks("ranking.md")
    assert blocks
    for i in range(len(blocks)):
        run_block("ranking.md", i)
