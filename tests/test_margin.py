"""Margin, ranking and hinge losses: torch/optax parity, Keras semantics, kinks, errors."""
import math

import numpy as np
import pytest

import losses as L

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(1234)


def _t(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _pm1(shape, rng=RNG):
    return np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)


def _assert_same(ours, theirs, wrt, rtol=1e-12, atol=1e-12):
    """Values and gradients of sum(out * v) agree (v makes 'none' reductions checkable)."""
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)
    v = torch.tensor(np.random.default_rng(0).uniform(0.5, 1.5, size=tuple(ours.shape)))
    g1 = torch.autograd.grad((ours * v).sum(), wrt[0])
    g2 = torch.autograd.grad((theirs * v).sum(), wrt[1])
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


# ------------------------------------------------------------------ torch twins, value + grad
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("margin", [1.0, 0.3, -0.5])
def test_hinge_embedding_matches_torch(reduction, margin):
    x, y = RNG.uniform(-1, 2, size=(6, 4)), _pm1((6, 4))
    a, b = _t(x), _t(x)
    _assert_same(L.hinge_embedding_loss(a, _t(y, False), margin=margin, reduction=reduction),
                 F.hinge_embedding_loss(b, _t(y, False), margin=margin, reduction=reduction), ([a], [b]))


def test_hinge_embedding_kink_subgradient_is_torchs():
    x = np.array([1.0, 0.5, 1.0, 2.0])
    y = np.array([-1.0, -1.0, 1.0, -1.0])
    a, b = _t(x), _t(x)
    _assert_same(L.hinge_embedding_loss(a, _t(y, False), reduction="sum"),
                 F.hinge_embedding_loss(b, _t(y, False), reduction="sum"), ([a], [b]))
    g = torch.autograd.grad(L.hinge_embedding_loss(a, _t(y, False), reduction="sum"), a)[0]
    assert g[0].item() == -1.0  # clamp_min lets the gradient through at margin - x == 0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_margin_matches_torch(reduction):
    x, y = RNG.normal(size=(5, 3)) * 3, _pm1((5, 3))
    a, b = _t(x), _t(x)
    _assert_same(L.soft_margin_loss(a, _t(y, False), reduction=reduction),
                 F.soft_margin_loss(b, _t(y, False), reduction=reduction), ([a], [b]))


def test_soft_margin_literature_value_and_large_scores():
    # log(1 + e^0) = log 2; for y x = -1e4 the loss is 1e4 (torch overflows to inf)
    x = np.array([0.0, -1e4, 1e4])
    y = np.array([1.0, 1.0, 1.0])
    out = L.soft_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(out, [np.log(2.0), 1e4, 0.0], rtol=1e-15, atol=0)
    a = _t(x)
    g = torch.autograd.grad(L.soft_margin_loss(a, _t(y, False), reduction="sum"), a)[0]
    np.testing.assert_allclose(g.numpy(), [-0.5, -1.0, 0.0], atol=1e-300)
    assert torch.isinf(F.soft_margin_loss(_t(x, False), _t(y, False), reduction="none")[1])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_matches_torch(reduction, weighted):
    x = RNG.normal(size=(6, 4)) * 2
    y = (RNG.uniform(size=(6, 4)) < 0.5).astype(float)
    w = _t(RNG.uniform(0.1, 2, size=(4,)), False) if weighted else None
    a, b = _t(x), _t(x)
    _assert_same(L.multilabel_soft_margin_loss(a, _t(y, False), weight=w, reduction=reduction),
                 F.multilabel_soft_margin_loss(b, _t(y, False), weight=w, reduction=reduction), ([a], [b]))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.4])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_matches_torch(p, margin, reduction, weighted):
    x = RNG.normal(size=(7, 5))
    t = torch.tensor(RNG.integers(0, 5, size=(7,)))
    w = _t(RNG.uniform(0.1, 2, size=(5,)), False) if weighted else None
    a, b = _t(x), _t(x)
    _assert_same(L.multi_margin_loss(a, t, p=p, margin=margin, weight=w, reduction=reduction),
                 F.multi_margin_loss(b, t, p=p, margin=margin, weight=w, reduction=reduction), ([a], [b]))


def test_multi_margin_kinks_and_1d():
    x = np.array([[1.0, 0.0, 2.0, 1.0], [0.0, 1.0, -1.0, 0.0]])  # margin - x_y + x_i == 0 at several i
    t = torch.tensor([0, 1])
    a, b = _t(x), _t(x)
    _assert_same(L.multi_margin_loss(a, t, reduction="sum"), F.multi_margin_loss(b, t, reduction="sum"), ([a], [b]))
    a, b = _t(x[0]), _t(x[0])
    _assert_same(L.multi_margin_loss(a, torch.tensor(2)), F.multi_margin_loss(b, torch.tensor([2])), ([a], [b]))


def test_multi_margin_weight_multiplies_after_the_power():
    # torch computes w_y * max(0, ...)^p (its docs write the weight inside the max)
    x = np.array([[0.0, 1.0, 0.5]])
    out = L.multi_margin_loss(x, np.array([0]), p=2, weight=np.array([3.0, 1.0, 1.0]))
    np.testing.assert_allclose(out, 3.0 * (2.0**2 + 1.5**2) / 3, rtol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_matches_torch(reduction):
    x = RNG.normal(size=(6, 5))
    t = torch.tensor([[3, 0, -1, 1, 2], [1, -1, 2, 2, 2], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0],
                      [2, 2, -1, 0, 0], [4, 1, 1, 4, -1]])
    a, b = _t(x), _t(x)
    _assert_same(L.multilabel_margin_loss(a, t, reduction=reduction),
                 F.multilabel_margin_loss(b, t, reduction=reduction), ([a], [b]))


def test_multilabel_margin_numpy_formula_and_kinks():
    x = np.array([[1.0, 0.0, 2.0, 1.0]])  # integer scores: 1 - (x_j - x_i) hits 0
    t = np.array([[0, 2, -1, 3]])
    targets, others = [0, 2], [1, 3]
    want = sum(max(0.0, 1 - (x[0, j] - x[0, i])) for j in targets for i in others) / 4
    np.testing.assert_allclose(L.multilabel_margin_loss(x, t), want, rtol=1e-15)
    a, b = _t(x), _t(x)
    _assert_same(L.multilabel_margin_loss(a, torch.tensor(t)), F.multilabel_margin_loss(b, torch.tensor(t)), ([a], [b]))
    a, b = _t(x[0]), _t(x[0])
    _assert_same(L.multilabel_margin_loss(a, torch.tensor(t[0])), F.multilabel_margin_loss(b, torch.tensor(t[0])),
                 ([a], [b]))


@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_ranking_matches_torch(margin, reduction):
    x1, x2 = RNG.normal(size=(8,)), RNG.normal(size=(8,))
    x2[:3] = x1[:3] + np.where(_pm1((3,)) > 0, margin, margin)  # some exact kinks
    y = _pm1((8,))
    y[:3] = 1.0
    a1, a2, b1, b2 = _t(x1), _t(x2), _t(x1), _t(x2)
    _assert_same(L.margin_ranking_loss(a1, a2, _t(y, False), margin=margin, reduction=reduction),
                 F.margin_ranking_loss(b1, b2, _t(y, False), margin=margin, reduction=reduction),
                 ([a1, a2], [b1, b2]))


@pytest.mark.parametrize("margin", [0.0, 0.3, -0.4])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cosine_embedding_matches_torch(margin, reduction):
    x1, x2 = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    x1[3], x2[3] = [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]  # cos == 0: a kink for margin 0
    y = _pm1((6,))
    y[3] = -1.0
    a1, a2, b1, b2 = _t(x1), _t(x2), _t(x1), _t(x2)
    _assert_same(L.cosine_embedding_loss(a1, a2, _t(y, False), margin=margin, reduction=reduction),
                 F.cosine_embedding_loss(b1, b2, _t(y, False), margin=margin, reduction=reduction),
                 ([a1, a2], [b1, b2]))


def test_cosine_embedding_zero_vectors_finite_and_torchs():
    # zero vectors: cosine 0, finite value and gradient (~1e6 in size: 1/sqrt(1e-12)); the
    # gradient agrees with torch to rounding of that ill-conditioned expression (rtol 1e-8)
    x1, x2 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    x1[0] = 0.0
    x2[1] = 0.0
    x1[2] = x2[2] = 0.0
    y = np.array([1.0, -1.0, 1.0, -1.0])
    a1, a2, b1, b2 = _t(x1), _t(x2), _t(x1), _t(x2)
    ours = L.cosine_embedding_loss(a1, a2, _t(y, False), reduction="none")
    np.testing.assert_allclose(ours.detach().numpy()[:3], [1.0, 0.0, 1.0], rtol=0, atol=1e-15)
    _assert_same(ours, F.cosine_embedding_loss(b1, b2, _t(y, False), reduction="none"), ([a1, a2], [b1, b2]),
                 rtol=1e-8, atol=1e-12)
    g = torch.autograd.grad(L.cosine_embedding_loss(a1, a2, _t(y, False), reduction="sum"), [a1, a2])
    assert all(torch.isfinite(gi).all() for gi in g)


def test_cosine_embedding_1d():
    x1, x2 = RNG.normal(size=(4,)), RNG.normal(size=(4,))
    a1, a2, b1, b2 = _t(x1), _t(x2), _t(x1), _t(x2)
    y = torch.tensor(-1.0, dtype=torch.float64)
    _assert_same(L.cosine_embedding_loss(a1, a2, y), F.cosine_embedding_loss(b1[None], b2[None], y[None]),
                 ([a1, a2], [b1, b2]))


def test_cosine_similarity_loss_matches_torch_and_is_finite_at_zero():
    x, y = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    x[0] = 0.0
    a, b = _t(x), _t(x)
    ours = L.cosine_similarity_loss(a, _t(y, False), reduction="none")
    np.testing.assert_allclose(ours.detach().numpy(),
                               (1 - F.cosine_similarity(b, _t(y, False), dim=-1, eps=1e-8)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    assert ours[0].item() == 1.0
    g = torch.autograd.grad(L.cosine_similarity_loss(a, _t(y, False), reduction="sum"), a)[0]
    assert torch.isfinite(g).all()
    # away from zero vectors the gradient is torch's too
    a, b = _t(x[1:]), _t(x[1:])
    _assert_same(L.cosine_similarity_loss(a, _t(y[1:], False), reduction="none"),
                 1 - F.cosine_similarity(b, _t(y[1:], False), dim=-1), ([a], [b]))


def test_cosine_similarity_loss_numpy_formula_axis_and_weight():
    x, y = RNG.normal(size=(3, 6)), RNG.normal(size=(3, 6))
    w = RNG.uniform(0.1, 1, size=(6,))
    cos = (x * y).sum(0) / np.linalg.norm(x, axis=0) / np.linalg.norm(y, axis=0)
    np.testing.assert_allclose(L.cosine_similarity_loss(x, y, axis=0, weight=w), (w * (1 - cos)).sum() / w.sum(),
                               rtol=1e-13)


def test_cosine_similarity_loss_optax_twin_and_nan_difference():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, y = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    for eps in (0.0, 1e-8):
        theirs = optax.losses.cosine_distance(jnp.asarray(x), jnp.asarray(y), epsilon=eps)
        np.testing.assert_allclose(L.cosine_similarity_loss(jnp.asarray(x), jnp.asarray(y), reduction="none"),
                                   theirs, rtol=1e-12, atol=1e-12)
    g1 = jax.grad(lambda a: L.cosine_similarity_loss(a, jnp.asarray(y), reduction="sum"))(jnp.asarray(x))
    g2 = jax.grad(lambda a: optax.losses.cosine_distance(a, jnp.asarray(y)).sum())(jnp.asarray(x))
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)
    # docs/differences.md: optax (epsilon=0) is NaN at a zero vector, ours is finite
    z = np.zeros_like(x)
    assert np.isnan(np.asarray(optax.losses.cosine_distance(jnp.asarray(z), jnp.asarray(y)))).all()
    ours = L.cosine_similarity_loss(jnp.asarray(z), jnp.asarray(y), reduction="none")
    np.testing.assert_array_equal(ours, np.ones(5))
    g = jax.grad(lambda a: L.cosine_similarity_loss(a, jnp.asarray(y), reduction="sum"))(jnp.asarray(z))
    assert np.isfinite(np.asarray(g)).all()


# ------------------------------------------------------------------ SVM hinge
def _keras_hinge(y_true, y_pred, squared=False):
    # keras.losses.hinge: converts labels to +-1 only when every label is 0 or 1
    y_true = np.asarray(y_true, dtype=np.float64)
    if np.all((y_true == 0) | (y_true == 1)):
        y_true = 2 * y_true - 1
    h = np.maximum(1 - y_true * y_pred, 0)
    return np.mean(h**2 if squared else h, axis=-1)


@pytest.mark.parametrize("squared", [False, True])
def test_hinge_keras_settings(squared):
    fn = L.squared_hinge_loss if squared else L.hinge_loss
    x = RNG.normal(size=(6, 4)) * 2
    y01 = (RNG.uniform(size=(6, 4)) < 0.5).astype(float)
    np.testing.assert_allclose(fn(x, y01, target_encoding="01", reduction="none").mean(-1), _keras_hinge(y01, x, squared),
                               rtol=1e-14)
    ypm = 2 * y01 - 1
    np.testing.assert_allclose(fn(x, ypm, reduction="none").mean(-1), _keras_hinge(ypm, x, squared), rtol=1e-14)


def test_hinge_optax_twin():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, y = RNG.normal(size=(6, 4)) * 2, _pm1((6, 4))
    np.testing.assert_allclose(L.hinge_loss(jnp.asarray(x), jnp.asarray(y), reduction="none"),
                               optax.losses.hinge_loss(jnp.asarray(x), jnp.asarray(y)), rtol=1e-15)
    np.testing.assert_allclose(L.squared_hinge_loss(jnp.asarray(x), jnp.asarray(y), reduction="none"),
                               optax.losses.hinge_loss(jnp.asarray(x), jnp.asarray(y)) ** 2, rtol=1e-15)
    g1 = jax.grad(lambda a: L.hinge_loss(a, jnp.asarray(y), reduction="sum"))(jnp.asarray(x))
    g2 = jax.grad(lambda a: optax.losses.hinge_loss(a, jnp.asarray(y)).sum())(jnp.asarray(x))
    np.testing.assert_allclose(g1, g2, rtol=1e-15)


def test_hinge_kink_subgradient_is_zero_optax_splits():
    # docs/differences.md: at y x == 1 our subgradient is 0; optax's jnp.maximum gives -y/2
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, y = jnp.asarray([1.0, -1.0]), jnp.asarray([1.0, -1.0])
    ours = jax.grad(lambda a: L.hinge_loss(a, y, reduction="sum"))(x)
    theirs = jax.grad(lambda a: optax.losses.hinge_loss(a, y).sum())(x)
    np.testing.assert_array_equal(ours, [0.0, 0.0])
    np.testing.assert_array_equal(theirs, [-0.5, 0.5])
    a = _t([1.0, -1.0])
    g = torch.autograd.grad(L.hinge_loss(a, _t([1.0, -1.0], False), reduction="sum"), a)[0]
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_hinge_weighted_mean():
    x, y, w = RNG.normal(size=(5,)), _pm1((5,)), RNG.uniform(0.1, 2, size=(5,))
    h = np.maximum(0, 1 - y * x)
    np.testing.assert_allclose(L.hinge_loss(x, y, weight=w), (w * h).sum() / w.sum(), rtol=1e-14)
    np.testing.assert_allclose(L.squared_hinge_loss(x, y, weight=w, reduction="sum"), (w * h * h).sum(), rtol=1e-14)


def _keras_categorical_hinge(y_true, y_pred):
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(0.0, neg - pos + 1.0)


def test_multiclass_hinge_numpy_formula_and_keras():
    x = RNG.normal(size=(8, 5))
    t = RNG.integers(0, 5, size=(8,))
    x[np.arange(8), (t + 1) % 5] = np.abs(x[np.arange(8), (t + 1) % 5])  # some non-target score >= 0
    others = np.where(np.eye(5, dtype=bool)[t], -np.inf, x)
    want = np.maximum(0, 1 + others.max(1) - x[np.arange(8), t])
    np.testing.assert_allclose(L.multiclass_hinge_loss(x, t, reduction="none"), want, rtol=1e-13)
    np.testing.assert_allclose(L.multiclass_hinge_loss(x, t, reduction="none"),
                               _keras_categorical_hinge(np.eye(5)[t], x), rtol=1e-13)


def test_multiclass_hinge_all_negative_non_targets_differs_from_keras():
    # docs/differences.md: Keras takes max((1 - y) * x), whose zeros beat negative scores
    x = np.array([[0.5, -2.0, -3.0], [-1.5, -0.4, -2.0]])
    t = np.array([0, 2])
    ours = L.multiclass_hinge_loss(x, t, reduction="none")
    np.testing.assert_allclose(ours, [0.0, max(0.0, 1 + (-0.4) - (-2.0))], rtol=1e-15)
    keras = _keras_categorical_hinge(np.eye(3)[t], x)
    np.testing.assert_allclose(keras, [0.5, 3.0])  # Keras' (wrong) values
    assert not np.allclose(ours, keras)


def test_multiclass_hinge_optax_twin():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.asarray(RNG.normal(size=(8, 5)))
    x = x.at[0].set(-jnp.abs(x[0]))  # a row of negative scores
    t = jnp.asarray(RNG.integers(0, 5, size=(8,)))
    np.testing.assert_allclose(L.multiclass_hinge_loss(x, t, reduction="none"),
                               optax.losses.multiclass_hinge_loss(x, t), rtol=1e-15, atol=1e-15)
    g1 = jax.grad(lambda a: L.multiclass_hinge_loss(a, t, reduction="sum"))(x)
    g2 = jax.grad(lambda a: optax.losses.multiclass_hinge_loss(a, t).sum())(x)
    np.testing.assert_allclose(g1, g2, rtol=1e-15, atol=1e-15)


def test_multiclass_hinge_gradient_goes_to_first_max():
    x = _t([[0.0, 2.0, 2.0, -1.0]])
    g = torch.autograd.grad(L.multiclass_hinge_loss(x, torch.tensor([0])), x)[0]
    np.testing.assert_array_equal(g.numpy(), [[-1.0, 1.0, 0.0, 0.0]])


def _tied_scores(rng, shape):
    """Small integer scores (many ties) with NaN, +-inf and signed zeros sprinkled in, and a
    first row of -inf (every other score -inf: the target itself is the first maximal one)."""
    x = rng.integers(-2, 3, size=shape).astype(np.float64)
    spots = rng.random(shape) < 0.12
    x[spots] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], size=spots.sum())
    x[0] = -np.inf
    return x


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf - inf
@pytest.mark.parametrize("fn", ["multiclass_hinge_loss", "multiclass_perceptron_loss"])
def test_crammer_singer_traced_search_picks_argmax(fn):
    # op by op the best other class is argmax's; a trace (jax.jit, Dask) finds it with a
    # maximum and a least position instead: the same values and gradients, ties and NaN included
    jax = pytest.importorskip("jax")
    da = pytest.importorskip("dask.array")
    from losses.backends import generic_paths

    jnp = jax.numpy
    loss = getattr(L, fn)
    rng = np.random.default_rng(7)
    for shape, axis in [((40, 5), None), ((6, 5, 3), 1), ((6, 3, 5), -1)]:
        x = _tied_scores(rng, shape)
        t = rng.integers(0, 5, size=tuple(s for s in shape if s != 5))
        t.reshape(-1)[0] = 0
        xt = _t(x)
        with generic_paths():  # relu0's generic gradient (torch.relu passes none at NaN), as JAX's
            ref = loss(xt, torch.tensor(t), axis=axis, reduction="none")
        g_ref = torch.autograd.grad(ref.sum(), xt)[0].numpy()
        tj = jnp.asarray(t)
        out = jax.jit(lambda a: loss(a, tj, axis=axis, reduction="none"))(jnp.asarray(x))
        g = jax.jit(jax.grad(lambda a: loss(a, tj, axis=axis, reduction="none").sum()))(jnp.asarray(x))
        np.testing.assert_array_equal(np.asarray(out), ref.detach().numpy())
        np.testing.assert_array_equal(np.asarray(g), g_ref)
        lazy = loss(da.from_array(x, chunks=2), da.from_array(t, chunks=2), axis=axis, reduction="none")
        np.testing.assert_array_equal(np.asarray(lazy.compute()), loss(x, t, axis=axis, reduction="none"))


def test_first_max_counts_positions_in_integers_beyond_the_float_range():
    # float16 holds every integer only up to 2048: more classes count positions in integers
    from losses.backends import namespace
    from losses.margin import _first_max

    rng = np.random.default_rng(3)
    for n in (300, 3000):
        v = rng.integers(-3, 4, size=(4, n)).astype(np.float16)
        v[1, [5, n - 7]] = np.nan
        xp = namespace(v)
        got = _first_max(xp, v, xp.arange(n), 1, eager=False)
        np.testing.assert_array_equal(got, np.argmax(v, axis=1))


def test_multiclass_hinge_axis_and_weight():
    x = RNG.normal(size=(4, 3, 2))
    t = RNG.integers(0, 3, size=(4, 2))
    w = RNG.uniform(0.1, 2, size=(4, 2))
    per = L.multiclass_hinge_loss(x, t, reduction="none")
    last = L.multiclass_hinge_loss(np.moveaxis(x, 1, -1), t, axis=-1, reduction="none")
    np.testing.assert_allclose(per, last, rtol=1e-15)
    np.testing.assert_allclose(L.multiclass_hinge_loss(x, t, weight=w, margin=0.5),
                               (w * L.multiclass_hinge_loss(x, t, margin=0.5, reduction="none")).sum() / w.sum(),
                               rtol=1e-14)


# ------------------------------------------------------------------ errors
def test_errors():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"target must hold only the values \(-1, 1\), got 0.0"):
        L.hinge_embedding_loss(x, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.soft_margin_loss(x, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="weight of shape"):
        L.multilabel_soft_margin_loss(x, x, weight=np.ones(3))
    with pytest.raises(ValueError, match="p must be 1 or 2, got 3"):
        L.multi_margin_loss(x, np.zeros(3, dtype=int), p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: target must have shape \(3,\).*got \(3, 1\)"):
        L.multi_margin_loss(x, np.zeros((3, 1), dtype=int))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\].*between 4 and 4"):
        L.multi_margin_loss(x, np.array([0, 4, 1]))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        L.multi_margin_loss(x, np.zeros(3))
    with pytest.raises(ValueError, match=r"weight must have one weight per class, shape \(4,\)"):
        L.multi_margin_loss(x, np.zeros(3, dtype=int), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"target must hold class indices \(or -1 padding\) in \[-1, 3\]"):
        L.multilabel_margin_loss(x, np.full((3, 4), -2))
    with pytest.raises(TypeError, match="input must have a real floating dtype"):
        L.multilabel_margin_loss(np.zeros((3, 4), dtype=int), np.zeros((3, 4), dtype=int))
    with pytest.raises(ValueError, match="input1 and input2 must have the same shape"):
        L.margin_ranking_loss(np.zeros(3), np.zeros(4), np.ones(3))
    with pytest.raises(ValueError, match="target of shape"):
        L.margin_ranking_loss(np.zeros(3), np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match=r"margin must be <= 1"):
        L.cosine_embedding_loss(x, x, np.ones(3), margin=2.0)
    with pytest.raises(ValueError, match=r"target must have shape \(3,\)"):
        L.cosine_embedding_loss(x, x, np.ones(4))
    with pytest.raises(ValueError, match=r"input1 must have shape \(N, D\) or \(D,\)"):
        L.cosine_embedding_loss(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="eps must be > 0"):
        L.cosine_similarity_loss(x, x, eps=0.0)
    with pytest.raises(ValueError, match=r"target_encoding must be one of \('pm1', '01'\), got 'bool'"):
        L.hinge_loss(x, np.ones((3, 4)), target_encoding="bool")
    with pytest.raises(ValueError, match=r"target must hold only the values \(0, 1\), got -1.0"):
        L.hinge_loss(x, -np.ones((3, 4)), target_encoding="01")
    with pytest.raises(ValueError, match=r"target must hold only the values \(-1, 1\)"):
        L.squared_hinge_loss(x, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="at least 2 classes"):
        L.multiclass_hinge_loss(np.zeros((3, 1)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.multiclass_hinge_loss(x, np.zeros(3, dtype=int), reduction="avg")
    with pytest.raises(TypeError, match="margin must be a real number"):
        L.hinge_embedding_loss(x, np.ones((3, 4)), margin="1")


def test_torch_accepts_other_target_values_we_raise():
    # docs/differences.md: torch silently computes with labels other than -1/1
    x, y = torch.ones(3, dtype=torch.float64), torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
    assert torch.isfinite(F.hinge_embedding_loss(x, y))
    assert torch.isfinite(F.cosine_embedding_loss(x[None].repeat(3, 1), x[None].repeat(3, 1), y))
    with pytest.raises(ValueError, match="target must hold only the values"):
        L.hinge_embedding_loss(x, y)
    with pytest.raises(ValueError, match="target must hold only the values"):
        L.cosine_embedding_loss(x[None].repeat(3, 1), x[None].repeat(3, 1), y)
    with pytest.raises(ValueError, match="target must hold only the values"):
        L.margin_ranking_loss(x, x, y)


def test_jit_skips_value_checks_and_matches():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, y = jnp.asarray(RNG.normal(size=(4, 3))), jnp.asarray(_pm1((4, 3)))
    f = jax.jit(lambda a, b: L.hinge_embedding_loss(a, b, margin=0.5))
    np.testing.assert_allclose(f(x, y), L.hinge_embedding_loss(np.asarray(x), np.asarray(y), margin=0.5), rtol=1e-14)
    t = jnp.asarray(RNG.integers(0, 3, size=(4,)))
    g = jax.jit(jax.grad(lambda a, tt: L.multiclass_hinge_loss(a, tt)))(x, t)
    assert np.isfinite(np.asarray(g)).all()


def test_label_checks_skip_concrete_arrays_closed_over_by_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    y = jnp.asarray(_pm1((4,)))
    x2 = jnp.asarray(RNG.normal(size=(4,)))
    f = jax.jit(jax.grad(lambda a: L.margin_ranking_loss(a, x2, y, margin=0.1)))
    assert np.isfinite(np.asarray(f(jnp.asarray(RNG.normal(size=(4,)))))).all()
    t = jnp.asarray(RNG.integers(0, 3, size=(4,)))
    g = jax.jit(jax.grad(lambda a: L.multiclass_hinge_loss(a, t)))(jnp.asarray(RNG.normal(size=(4, 3))))
    assert np.isfinite(np.asarray(g)).all()
    v = jnp.asarray([1.0, 2.0])
    out = jax.jit(lambda a: L.mean_squared_log_error(a, v))(jnp.asarray([0.5, 0.5]))
    assert np.isfinite(float(out))


# ------------------------------------------------------------------ issue 10: honest edges
def test_nan_scores_propagate_where_torch_kernels_drop_them():
    # docs/differences.md: torch's multi_margin_loss / multilabel_margin_loss kernels skip a
    # NaN term (``if (z > 0)`` is false for NaN) and return a finite loss; ours is NaN
    x = RNG.normal(size=(3, 4))
    x[0, 1] = np.nan
    t = np.array([0, 2, 3])
    ours = L.multi_margin_loss(x, t, reduction="none")
    theirs = F.multi_margin_loss(torch.tensor(x), torch.tensor(t), reduction="none").numpy()
    assert np.isnan(ours[0]) and np.isfinite(theirs[0])
    np.testing.assert_allclose(ours[1:], theirs[1:], rtol=1e-12)
    tl = np.array([[0, -1, 0, 0], [2, 1, -1, 0], [3, -1, 0, 0]])
    ours = L.multilabel_margin_loss(x, tl, reduction="none")
    theirs = F.multilabel_margin_loss(torch.tensor(x), torch.tensor(tl), reduction="none").numpy()
    assert np.isnan(ours[0]) and np.isfinite(theirs[0])
    np.testing.assert_allclose(ours[1:], theirs[1:], rtol=1e-12)
    assert np.isnan(L.multi_margin_loss(x, t)) and np.isnan(L.multilabel_margin_loss(x, tl))


@pytest.mark.parametrize("fn", ["hinge_loss", "squared_hinge_loss", "margin_ranking_loss", "hinge_embedding_loss",
                                "soft_margin_loss", "multiclass_hinge_loss", "cosine_embedding_loss"])
def test_nan_input_gives_nan(fn):
    x = RNG.normal(size=(4, 3))
    x[1, 2] = np.nan
    y = _pm1((4, 3))
    if fn == "margin_ranking_loss":
        out = L.margin_ranking_loss(x, np.zeros((4, 3)), y, reduction="none")
    elif fn == "multiclass_hinge_loss":
        out = L.multiclass_hinge_loss(x, np.array([0, 0, 1, 2]), reduction="none")
    elif fn == "cosine_embedding_loss":
        out = L.cosine_embedding_loss(x, np.ones((4, 3)), y[:, 0], reduction="none")
    else:
        out = getattr(L, fn)(x, y, reduction="none")
    nan = np.isnan(np.asarray(out))
    assert nan.reshape(-1)[5 if out.ndim == 2 else 1] and nan.sum() == 1


def test_nan_target_is_refused_eagerly_and_nan_under_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.asarray(RNG.uniform(0, 2, size=(4,)))
    y = jnp.asarray([1.0, np.nan, -1.0, 1.0])
    with pytest.raises(ValueError, match="target must hold only the values"):
        L.hinge_embedding_loss(x, y)
    out = jax.jit(lambda a, b: L.hinge_embedding_loss(a, b, reduction="none"))(x, y)
    assert np.isnan(out[1]) and np.isfinite(np.asarray(out)[[0, 2, 3]]).all()
    a, b = jnp.asarray(RNG.normal(size=(4, 3))), jnp.asarray(RNG.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="target must hold only the values"):
        L.cosine_embedding_loss(a, b, y)
    out = jax.jit(lambda a, b, t: L.cosine_embedding_loss(a, b, t, reduction="none"))(a, b, y)
    assert np.isnan(out[1]) and np.isfinite(np.asarray(out)[[0, 2, 3]]).all()
    # torch returns a number for a NaN label (docs/differences.md: labels are checked)
    assert torch.isfinite(F.hinge_embedding_loss(torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y))))


def test_multi_margin_accepts_torchs_shapes():
    # a (C,) input with a target of shape (1,) or (), a 0-d input (one class), (1, C) with a 0-d target
    for x, t in [(RNG.normal(size=(5,)), np.array([3])), (RNG.normal(size=(5,)), np.array(3)),
                 (np.array(0.7), np.array(0)), (np.array(0.7), np.array([0])), (RNG.normal(size=(1, 4)), np.array(2))]:
        for reduction in ("none", "mean", "sum"):
            a, b = _t(x), _t(x)
            ours = L.multi_margin_loss(a, torch.tensor(t), reduction=reduction)
            theirs = F.multi_margin_loss(b, torch.tensor(t), reduction=reduction)
            _assert_same(ours, theirs, ([a], [b]))
    w = RNG.uniform(0.5, 2, size=(5,))
    a, b = _t(RNG.normal(size=(5,))), None
    b = a.detach().clone().requires_grad_(True)
    _assert_same(L.multi_margin_loss(a, torch.tensor([1]), weight=_t(w, False), reduction="none"),
                 F.multi_margin_loss(b, torch.tensor([1]), weight=_t(w, False), reduction="none"), ([a], [b]))
    with pytest.raises(ValueError, match=r"target must have shape \(\) or \(1,\)"):
        L.multi_margin_loss(np.zeros(5), np.array([1, 2]))
    with pytest.raises(TypeError, match="target must be an array of integer class indices"):
        L.multi_margin_loss(np.zeros(5), 1)


def test_multilabel_margin_accepts_0d_like_torch():
    for x, t in [(np.array(0.3), np.array(0)), (np.array(0.3), np.array([-1])), (np.array([0.3]), np.array(0))]:
        for reduction in ("none", "mean"):
            a, b = _t(x), _t(x)
            _assert_same(L.multilabel_margin_loss(a, torch.tensor(t), reduction=reduction),
                         F.multilabel_margin_loss(b, torch.tensor(t), reduction=reduction), ([a], [b]))
    with pytest.raises(ValueError, match=r"target must have 4 element\(s\)"):
        L.multilabel_margin_loss(np.zeros(4), np.zeros(3, dtype=int))


def test_multilabel_soft_margin_accepts_targets_outside_01_like_torch():
    x, y = RNG.normal(size=(5, 4)), RNG.uniform(-1.5, 2.5, size=(5, 4))
    a, b = _t(x), _t(x)
    _assert_same(L.multilabel_soft_margin_loss(a, _t(y, False), reduction="none"),
                 F.multilabel_soft_margin_loss(b, _t(y, False), reduction="none"), ([a], [b]))


def test_multilabel_soft_margin_infinite_logits_follow_torch():
    # torch's formula y softplus(-x) + (1 - y) softplus(x): inf where a label is positive at
    # x = -inf, NaN for 0 * inf; ours is written the same way, so the IEEE results agree
    inf = np.inf
    x = np.array([[inf, -inf, inf, -inf, -inf, inf]])
    y = np.array([[1.0, 1.0, 0.0, 0.0, 0.5, 0.5]])
    ours = L.multilabel_soft_margin_loss(x[:, :, None], y[:, :, None], reduction="none")
    theirs = F.multilabel_soft_margin_loss(torch.tensor(x[:, :, None]), torch.tensor(y[:, :, None]),
                                           reduction="none").numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert ours[0, 1] == inf and ours[0, 2] == inf and ours[0, 4] == inf
    w = np.array([0.5, 2.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(
        L.multilabel_soft_margin_loss(x, y, weight=w, reduction="none"),
        F.multilabel_soft_margin_loss(torch.tensor(x), torch.tensor(y), weight=torch.tensor(w), reduction="none").numpy())


@pytest.mark.parametrize("fn", ["multi_margin_loss", "multilabel_soft_margin_loss"])
def test_weighted_mean_follows_torch_and_mean_over_weights(fn):
    x = RNG.normal(size=(7, 5))
    w = RNG.uniform(0.1, 2, size=(5,))
    if fn == "multi_margin_loss":
        t = RNG.integers(0, 5, size=(7,))
        tt = torch.tensor(t)
        per = np.array([sum(max(0.0, 1 - x[n, t[n]] + x[n, i]) for i in range(5) if i != t[n]) / 5 for n in range(7)])
        num, den = (w[t] * per).sum(), w[t].sum()
    else:
        t = (RNG.uniform(size=(7, 5)) < 0.5).astype(float)
        tt = _t(t, False)
        sp = np.logaddexp(0, -x), np.logaddexp(0, x)
        elem = t * sp[0] + (1 - t) * sp[1]
        num, den = (w * elem).sum() / 5, w.sum() * 7 / 5
    fl = getattr(L, fn)
    ft = getattr(F, fn)
    # default: torch's rule, the number of samples
    a, b = _t(x), _t(x)
    _assert_same(fl(a, tt, weight=_t(w, False)), ft(b, tt, weight=_t(w, False)), ([a], [b]))
    np.testing.assert_allclose(fl(x, t, weight=w), num / 7, rtol=1e-13)
    np.testing.assert_allclose(fl(x, t, weight=w, mean_over="elements"), num / 7, rtol=1e-13)
    # mean_over="weights": the weight sum (independent float64 formula)
    np.testing.assert_allclose(fl(x, t, weight=w, mean_over="weights"), num / den, rtol=1e-13)
    np.testing.assert_allclose(fl(x, t, weight=w, mean_over="weights").item(),
                               ft(_t(x), tt, weight=_t(w, False), reduction="sum").item() / den, rtol=1e-13)
    # without weights both are the plain mean
    np.testing.assert_allclose(fl(x, t, mean_over="weights"), fl(x, t), rtol=1e-15)
    with pytest.raises(ValueError, match="mean_over must be one of"):
        fl(x, t, mean_over="classes")


@pytest.mark.parametrize("fn", ["hinge_loss", "squared_hinge_loss", "multiclass_hinge_loss", "cosine_similarity_loss"])
def test_mean_over_elements_divides_by_the_number_of_losses(fn):
    x = RNG.normal(size=(6, 4))
    if fn == "multiclass_hinge_loss":
        t, w = RNG.integers(0, 4, size=(6,)), RNG.uniform(0.1, 2, size=(6,))
        others = np.where(np.eye(4, dtype=bool)[t], -np.inf, x)
        per = np.maximum(0, 1 + others.max(1) - x[np.arange(6), t])
    elif fn == "cosine_similarity_loss":
        t, w = RNG.normal(size=(6, 4)), RNG.uniform(0.1, 2, size=(6,))
        per = 1 - (x * t).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(t, axis=1)
    else:
        t, w = _pm1((6, 4)), RNG.uniform(0.1, 2, size=(6, 4))
        per = np.maximum(0, 1 - t * x) ** (2 if fn == "squared_hinge_loss" else 1)
    fl = getattr(L, fn)
    np.testing.assert_allclose(fl(x, t, weight=w), (w * per).sum() / w.sum(), rtol=1e-13)
    np.testing.assert_allclose(fl(x, t, weight=w, mean_over="elements"), (w * per).sum() / per.size, rtol=1e-13)


def test_complex_arguments_are_type_errors_naming_them():
    x = RNG.normal(size=(4, 3))
    y = _pm1((4, 3))
    for backend in (np.asarray, torch.tensor):
        c = backend(y.astype(np.complex128))
        with pytest.raises(TypeError, match=r"\btarget\b.*complex"):
            L.hinge_embedding_loss(backend(x), c)
        with pytest.raises(TypeError, match=r"\btarget\b.*complex"):
            L.multilabel_soft_margin_loss(backend(x), backend(y.astype(np.complex128) * 0))
        with pytest.raises(TypeError, match=r"\bweight\b.*complex"):
            L.hinge_loss(backend(x), backend(y), weight=c)
        with pytest.raises(TypeError, match=r"\binput2\b.*complex"):
            L.cosine_embedding_loss(backend(x), c, backend(y[:, 0]))
        with pytest.raises(TypeError, match=r"\bweight\b.*complex"):
            L.multi_margin_loss(backend(x), backend(np.array([0, 1, 2, 0])), weight=backend(np.ones(3, complex)))
    with pytest.raises(TypeError, match=r"\binput\b must be an array"):
        L.soft_margin_loss([1.0, 2.0], np.ones(2))


def test_hyper_parameters_are_checked():
    x, y = RNG.normal(size=(4, 3)), _pm1((4, 3))
    for bad in (np.nan, np.inf, True, "1"):
        with pytest.raises((TypeError, ValueError), match=r"\bmargin\b"):
            L.hinge_embedding_loss(x, y, margin=bad)
        with pytest.raises((TypeError, ValueError), match=r"\bmargin\b"):
            L.margin_ranking_loss(x, x, y, margin=bad)
    for bad in (np.nan, np.inf, 0.0, -1.0):
        with pytest.raises((TypeError, ValueError), match=r"\beps\b"):
            L.cosine_similarity_loss(x, x, eps=bad)
    with pytest.raises(TypeError, match=r"\baxis\b"):
        L.cosine_similarity_loss(x, x, axis=True)
    with pytest.raises(TypeError, match=r"\baxis\b"):
        L.multiclass_hinge_loss(x, np.zeros(4, dtype=int), axis=True)
    for bad in (True, 1.5, "2", np.nan):
        with pytest.raises(ValueError, match=r"p must be 1 or 2"):
            L.multi_margin_loss(x, np.zeros(4, dtype=int), p=bad)


def test_shapes_must_match_where_torch_broadcasts():
    # docs/differences.md ("Shapes must match"): torch broadcasts these; we raise
    a, b = torch.randn(3, 1, dtype=torch.float64), torch.ones(3, 4, dtype=torch.float64)
    assert F.hinge_embedding_loss(a, b, reduction="none").shape == (3, 4)
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.hinge_embedding_loss(a, b)
    c = torch.randn(3, 4, dtype=torch.float64)
    assert F.margin_ranking_loss(a, c, b, reduction="none").shape == (3, 4)
    with pytest.raises(ValueError, match="input1 and input2 must have the same shape"):
        L.margin_ranking_loss(a, c, b)


@pytest.mark.parametrize("fn", ["multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
                                "hinge_loss", "multiclass_hinge_loss"])
def test_empty_batch(fn):
    x = torch.zeros(0, 4, dtype=torch.float64, requires_grad=True)
    t = {"multi_margin_loss": torch.zeros(0, dtype=torch.long), "multiclass_hinge_loss": torch.zeros(0, dtype=torch.long),
         "multilabel_margin_loss": torch.zeros(0, 4, dtype=torch.long)}.get(fn, torch.zeros(0, 4, dtype=torch.float64))
    fl = getattr(L, fn)
    assert torch.isnan(fl(x, t))
    assert fl(x, t, reduction="sum").item() == 0.0
    assert fl(x, t, reduction="none").numel() == 0
    g = torch.autograd.grad(fl(x, t, reduction="sum"), x)[0]
    assert g.shape == x.shape


# ------------------------------------------------------------------ native kernels (torch)
def _spy(monkeypatch, name):
    calls = []
    real = getattr(F, name)

    def spy(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, name, spy)
    return calls


@pytest.mark.parametrize("name", ["hinge_embedding_loss", "margin_ranking_loss", "soft_margin_loss",
                                  "cosine_embedding_loss"])
def test_losses_whose_torch_kernel_differs_keep_the_generic_body(monkeypatch, name):
    calls = _spy(monkeypatch, name)
    x = _t(RNG.normal(size=(4, 3)))
    if name == "margin_ranking_loss":
        getattr(L, name)(x, _t(RNG.normal(size=(4, 3))), _t(_pm1((4, 3)), False))
    elif name == "cosine_embedding_loss":
        getattr(L, name)(x, _t(RNG.normal(size=(4, 3))), _t(_pm1((4,)), False))
    else:
        getattr(L, name)(x, _t(_pm1((4, 3)), False))
    assert calls == []


@pytest.mark.parametrize("mean_over", ["elements", "weights"])
def test_multilabel_soft_margin_kernel_only_for_torchs_weighted_mean(monkeypatch, mean_over):
    calls = _spy(monkeypatch, "multilabel_soft_margin_loss")
    x = _t(RNG.normal(size=(5, 4)))
    y = _t((RNG.uniform(size=(5, 4)) < 0.5).astype(float), False)
    w = _t(RNG.uniform(0.5, 2, size=(4,)))
    L.multilabel_soft_margin_loss(x, y, weight=w, mean_over=mean_over)
    assert calls == (["multilabel_soft_margin_loss"] if mean_over == "elements" else [])


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf])
def test_multi_margin_kernel_only_for_finite_scores(monkeypatch, bad):
    """torch's kernel drops a NaN margin: it runs only when every score is finite (read with
    the value checks, one host read); a non-finite score takes the generic body, whose value
    is NaN for NaN scores and matches torch's for infinities."""
    calls = _spy(monkeypatch, "multi_margin_loss")
    x = RNG.normal(size=(4, 3))
    if bad is not None:
        x[1, 2] = bad
    t = torch.tensor([0, 2, 1, 1])
    out = L.multi_margin_loss(_t(x), t)
    assert calls == ([] if bad is not None else ["multi_margin_loss"])
    # independent float64 formula: mean_i sum_{j != y_i} max(0, 1 - x_{i y_i} + x_ij) / C
    ref = np.mean([sum(max(0.0, 1 - x[i, t[i]] + x[i, j]) if not np.isnan(1 - x[i, t[i]] + x[i, j])
                       else np.nan for j in range(3) if j != t[i]) / 3 for i in range(4)])
    np.testing.assert_allclose(float(out), ref)
    with L.value_checks(False):  # unchecked: on the CPU the finiteness is read in place
        calls.clear()
        np.testing.assert_allclose(float(L.multi_margin_loss(_t(x), t)), ref)
        assert calls == ([] if bad is not None else ["multi_margin_loss"])
        from losses.backends.torch import transfer_reads

        calls.clear()
        with transfer_reads():  # on a device nothing is read back: the generic body
            L.multi_margin_loss(_t(x), t)
        assert calls == []
    w = _t(RNG.uniform(0.5, 2, size=(3,)))
    calls.clear()
    L.multi_margin_loss(_t(x), t, weight=w, mean_over="weights")
    assert calls == []


def _mlm_target(rng, n, c, dup=False):
    t = np.full((n, c), -1)
    for i in range(n):
        k = int(rng.integers(0, c + 1))
        t[i, :k] = rng.integers(0, c, size=k) if dup else rng.permutation(c)[:k]
        if k < c:
            t[i, k + 1:] = rng.integers(-1, c, size=c - k - 1)
    return t


def _listed(row):
    """The target classes of one row: the indices before the first negative one."""
    listed = []
    for v in row:
        if v < 0:
            break
        listed.append(int(v))
    return listed


def _mlm_pairwise(x, t):
    """The definition, pair by pair (NaN through: a pair counts unless its margin is <= 0)."""
    n, c = x.shape
    out = np.zeros(n)
    for r in range(n):
        listed = _listed(t[r])
        for j in listed:
            for i in range(c):
                if i not in listed:
                    z = 1 - x[r, j] + x[r, i]
                    out[r] += 0.0 if z <= 0 else z
    return out / c


@pytest.mark.parametrize("native", [True, False])
def test_multilabel_margin_nonfinite_scores_torch_kernel_and_sorted_body_agree(native):
    """NaN and equal infinities make a pair's margin NaN: the row is NaN and the pair's gradient
    is counted, on torch's kernel (with its correction) and on the sorted generic body."""
    rng = np.random.default_rng(7)
    import contextlib
    ctx = contextlib.nullcontext if native else L.backends.generic_paths
    for trial in range(60):
        n, c = int(rng.integers(1, 5)), int(rng.integers(1, 7))
        x = rng.integers(-2, 3, size=(n, c)).astype(float) if trial % 2 else rng.normal(size=(n, c))
        for _ in range(int(rng.integers(0, 3))):
            x[rng.integers(n), rng.integers(c)] = rng.choice([np.nan, np.inf, -np.inf])
        t = _mlm_target(rng, n, c, dup=trial % 3 == 0)
        with np.errstate(invalid="ignore"):
            want = _mlm_pairwise(x, t)
        a = _t(x)
        with ctx():
            got = L.multilabel_margin_loss(a, torch.tensor(t), reduction="none")
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-12)
        (g,) = torch.autograd.grad(got.sum(), a)
        # the pairwise gradient: -1/C per counted pair to the target, +1/C to the non-target
        gw = np.zeros_like(x)
        with np.errstate(invalid="ignore"):
            counted = 1 - x[:, :, None] + x[:, None, :] <= 0  # [r, j, i]: not a violated pair
        for r in range(n):
            listed = _listed(t[r])
            for j in listed:
                for i in range(c):
                    if i not in listed and not counted[r, j, i]:
                        gw[r, j] -= 1 / c
                        gw[r, i] += 1 / c
        np.testing.assert_allclose(g.numpy(), gw, rtol=1e-12, atol=1e-12)


def test_multilabel_margin_kernel_is_torchs(monkeypatch):
    calls = _spy(monkeypatch, "multilabel_margin_loss")
    x = _t(RNG.normal(size=(3, 5)))
    L.multilabel_margin_loss(x, torch.tensor(_mlm_target(RNG, 3, 5)))
    assert calls == ["multilabel_margin_loss"]
    with L.backends.generic_paths():
        L.multilabel_margin_loss(x, torch.tensor(_mlm_target(RNG, 3, 5)))
    assert calls == ["multilabel_margin_loss"]


def test_multilabel_margin_generic_body_is_linear_in_memory():
    """Many classes: no (N, C, C) grid (it would need ~12 GB here)."""
    rng = np.random.default_rng(3)
    n, c = 3, 40000
    x = rng.normal(size=(n, c))
    t = np.full((n, c), -1)
    t[:, :3] = rng.integers(0, c, size=(n, 3))
    got = L.multilabel_margin_loss(x, t, reduction="none")
    want = np.zeros(n)
    for r in range(n):
        listed = [int(v) for v in t[r, :3]]
        mask = np.ones(c, bool)
        mask[listed] = False
        for j in listed:
            want[r] += np.maximum(0, 1 - x[r, j] + x[r, mask]).sum()
    np.testing.assert_allclose(got, want / c, rtol=1e-10)


@pytest.mark.parametrize("checks", [True, False])
def test_multilabel_margin_kernel_nan_with_and_without_value_checks(checks):
    """Checks on: finiteness is read with the checks (plain kernel for a finite batch); off:
    nothing is read and the correction term keeps NaN scores NaN."""
    x = np.array([[0.5, np.nan, -1.0, 2.0], [0.1, 0.2, 0.3, 0.4]])
    t = torch.tensor([[0, 2, -1, 1], [3, -1, 0, 0]])
    a = _t(x)
    with L.value_checks(checks):
        out = L.multilabel_margin_loss(a, t, reduction="none")
    want = _mlm_pairwise(x, t.numpy())
    np.testing.assert_allclose(out.detach().numpy(), want)
    (g,) = torch.autograd.grad(out.sum(), a)
    with L.backends.generic_paths():
        b = _t(x)
        (gw,) = torch.autograd.grad(L.multilabel_margin_loss(b, t, reduction="none").sum(), b)
    np.testing.assert_allclose(g[:, [0, 2, 3]].numpy(), gw[:, [0, 2, 3]].numpy())
    fin = _t(x[1:])
    with L.value_checks(checks):
        out = L.multilabel_margin_loss(fin, t[1:])
    np.testing.assert_allclose(out.item(), F.multilabel_margin_loss(fin, t[1:]).item())
