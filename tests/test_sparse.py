"""Sparse and Fenchel–Young losses: values and gradients against the entmax package and optax
run on the same inputs, the closed-form gradient p − e_y at ties, independent float64 NumPy
formulas, the documented differences, errors and the docstring examples."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import losses as L
from tests._torch import tensor as _t
from tests._torch import torch_or_skip as _torch

RNG = np.random.default_rng(20260112)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _scores(n=9, c=6, scale=2.0):
    return RNG.normal(size=(n, c)) * scale, RNG.integers(0, c, size=(n,))


def _ties():
    z = np.array([[1.0, 1.0, 0.0, -1.0, 0.0], [2.0, 0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5, 0.5],
                  [3.0, 1.0, 2.0, 2.0, -4.0], [1.0, 0.0, 0.0, 0.0, 0.0]])
    return z, np.array([0, 1, 2, 3, 0])


# --------------------------------------------------------------- independent NumPy maps ----
def _np_sparsemax(z):
    """Projection onto the simplex by the definition: the largest k with
    1 + k z_(k) > sum_{j<=k} z_(j) (Held et al. 1974)."""
    out = np.zeros_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        k = max(j for j in range(1, len(s) + 1) if 1 + j * s[j - 1] > s[:j].sum())
        tau = (s[:k].sum() - 1) / k
        out[i] = np.maximum(row - tau, 0)
    return out


def _np_entmax_alpha(z, alpha, iters=200):
    """alpha-entmax by a float64 bisection of sum [(alpha-1) z - tau]_+^(1/(alpha-1)) = 1
    (200 halvings: exact to rounding)."""
    out = np.zeros_like(z)
    for i, row in enumerate(z):
        x = (alpha - 1) * row
        lo, hi = x.max() - 1.0, x.max()
        for _ in range(iters):
            mid = (lo + hi) / 2
            if (np.maximum(x - mid, 0) ** (1 / (alpha - 1))).sum() >= 1:
                lo = mid
            else:
                hi = mid
        p = np.maximum(x - lo, 0) ** (1 / (alpha - 1))
        out[i] = p / p.sum()
    return out


def _np_fy(z, y, p, alpha):
    """The Fenchel–Young loss of the Tsallis alpha-negentropy at the prediction p."""
    omega = (1 - (p ** alpha).sum(1)) / (alpha * (alpha - 1))
    return omega + (p * z).sum(1) - z[np.arange(len(y)), y]


def test_multiclass_sparsemax_is_the_numpy_projection_formula():
    z, y = _scores()
    p = _np_sparsemax(z)
    assert np.allclose(L.multiclass_sparsemax_loss(z, y, reduction="none"), _np_fy(z, y, p, 2.0), rtol=1e-13)


@pytest.mark.parametrize("alpha", [1.5, 1.25, 2.0, 3.0])
def test_entmax_bisect_is_the_numpy_alpha_entmax(alpha):
    z, y = _scores(6, 5)
    p = _np_entmax_alpha(z, alpha)
    got = L.entmax_bisect_loss(z, y, alpha=alpha, n_iter=60, reduction="none")
    assert np.allclose(got, _np_fy(z, y, p, alpha), rtol=1e-10, atol=1e-12)


def test_entmax15_closed_form_equals_the_bisection():
    z, y = _scores(6, 7)
    p = _np_entmax_alpha(z, 1.5)
    assert np.allclose(L.entmax15_loss(z, y, reduction="none"), _np_fy(z, y, p, 1.5), rtol=1e-12, atol=1e-13)


def test_sparsemax_loss_is_zero_at_a_margin_of_one():
    # p = e_y exactly when z_y beats every other score by >= 1 (Martins & Astudillo, Prop. 3)
    z = np.array([[2.0, 1.0, 0.0], [2.0, 1.1, 0.0]])
    got = L.multiclass_sparsemax_loss(z, np.array([0, 0]), reduction="none")
    assert got[0] == 0.0 and got[1] > 0


# ----------------------------------------------------------------- peers: entmax package ----
_ENTMAX = [("multiclass_sparsemax_loss", "sparsemax_loss", {}), ("entmax15_loss", "entmax15_loss", {}),
           ("entmax_bisect_loss", "entmax_bisect_loss", {}),
           ("entmax_bisect_loss", "entmax_bisect_loss", {"alpha": 1.7, "n_iter": 40})]


@pytest.mark.parametrize("ours,theirs,kw", _ENTMAX, ids=[f"{a}-{b}-{k}" for a, b, k in _ENTMAX])
@pytest.mark.parametrize("inputs", ["random", "ties"])
def test_entmax_package_values_and_gradients(ours, theirs, kw, inputs):
    entmax = pytest.importorskip("entmax")
    z, y = _scores(7, 5) if inputs == "random" else _ties()
    upstream = RNG.uniform(0.5, 2.0, size=len(y))  # a non-uniform cotangent
    zt = _t(z, True)
    ref = getattr(entmax, theirs)(zt, _t(y), **kw)
    (ref * _t(upstream)).sum().backward()
    zo = _t(z, True)
    got = getattr(L, ours)(zo, _t(y), reduction="none", **kw)
    (got * _t(upstream)).sum().backward()
    assert np.allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-13)
    assert np.allclose(zo.grad.numpy(), zt.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_entmax_modules_reduction_and_ignore_index():
    entmax = pytest.importorskip("entmax")
    # the modules ignore only a non-negative ignore_index (a negative one reaches the scatter)
    z, y = _scores(8, 5)
    y[[1, 4]] = 4
    for ours, module in [(L.multiclass_sparsemax_loss, entmax.SparsemaxLoss(k=None, ignore_index=4)),
                         (L.entmax15_loss, entmax.Entmax15Loss(k=None, ignore_index=4)),
                         (L.entmax_bisect_loss, entmax.EntmaxBisectLoss(alpha=1.5, n_iter=50, ignore_index=4))]:
        ref = module(_t(z), _t(y)).item()  # "elementwise_mean" over the kept targets
        assert np.isclose(float(ours(z, y, ignore_index=4)), ref, rtol=1e-12)
        module.reduction = "sum"
        assert np.isclose(float(ours(z, y, ignore_index=4, reduction="sum")), module(_t(z), _t(y)).item(),
                          rtol=1e-12)


@pytest.mark.parametrize("fn", [L.multiclass_sparsemax_loss, L.entmax15_loss, L.entmax_bisect_loss])
def test_gradient_is_p_minus_onehot_at_ties_in_jax(fn):
    """jax.grad of the sort-based forward is exactly p − e_y (the entmax backward), ties and
    scores on the threshold included."""
    jax = _jax()
    import jax.numpy as jnp

    z, y = _ties()
    g = np.asarray(jax.grad(lambda a: fn(a, jnp.asarray(y), reduction="sum"))(jnp.asarray(z)))
    if fn is L.multiclass_sparsemax_loss:
        p = _np_sparsemax(z)
    else:
        p = _np_entmax_alpha(z, 1.5)
    want = p - np.eye(z.shape[1])[y]
    assert np.allclose(g, want, atol=1e-12)


def test_class_weights_weight_the_samples_by_their_target_class():
    z, y = _scores(8, 4)
    w = RNG.uniform(0.5, 2.0, size=4)
    per = L.entmax15_loss(z, y, reduction="none")
    assert np.isclose(L.entmax15_loss(z, y, weight=w), (w[y] * per).sum() / w[y].sum(), rtol=1e-13)
    assert np.isclose(L.entmax15_loss(z, y, weight=w, mean_over="elements"), (w[y] * per).mean(), rtol=1e-13)


def test_class_axis_and_spatial_inputs():
    z = RNG.normal(size=(3, 4, 2))
    y = RNG.integers(0, 4, size=(3, 2))
    flat = L.multiclass_sparsemax_loss(np.moveaxis(z, 1, -1).reshape(6, 4), y.reshape(6), reduction="none")
    assert np.allclose(L.multiclass_sparsemax_loss(z, y, reduction="none").reshape(6), flat, rtol=1e-14)
    assert np.allclose(L.multiclass_sparsemax_loss(np.moveaxis(z, 1, -1), y, axis=-1, reduction="none"),
                       L.multiclass_sparsemax_loss(z, y, reduction="none"), rtol=1e-14)


def test_masked_classes_are_finite_where_the_entmax_package_gives_nan():
    entmax = pytest.importorskip("entmax")
    z, y = _scores(4, 5)
    z[:, -1] = -np.inf
    y = np.minimum(y, 3)
    theirs = entmax.entmax15_loss(_t(z), _t(y)).numpy()
    assert np.all(np.isnan(theirs))  # docs/differences.md: <p, z> reads 0 * -inf
    ours = L.entmax15_loss(z, y, reduction="none")
    assert np.allclose(ours, L.entmax15_loss(z[:, :-1], y, reduction="none"), rtol=1e-13)


def test_nan_scores_give_nan():
    z, y = _scores(3, 4)
    z[1, 2] = np.nan
    for fn in (L.multiclass_sparsemax_loss, L.entmax15_loss, L.entmax_bisect_loss):
        out = fn(z, y, reduction="none")
        assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]])), fn.__name__


# ------------------------------------------------------------------------ peers: optax ----
@pytest.mark.slow  # the conformance peers compare the values with optax by default
def test_optax_sparsemax_losses_values_and_gradients():
    jax = _jax()
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    z, y = _scores(7, 5)
    for zz, yy in ((z, y), _ties()):
        ref = lambda a: optax.losses.multiclass_sparsemax_loss(a, jnp.asarray(yy)).sum()  # noqa: E731
        ours = lambda a: L.multiclass_sparsemax_loss(a, jnp.asarray(yy), reduction="sum")  # noqa: E731
        assert np.isclose(float(ours(jnp.asarray(zz))), float(ref(jnp.asarray(zz))), rtol=1e-13)
        assert np.allclose(jax.grad(ours)(jnp.asarray(zz)), jax.grad(ref)(jnp.asarray(zz)), atol=1e-12)
    x = RNG.normal(size=(20,)) * 1.5
    t = (RNG.uniform(size=20) < 0.5).astype(np.float64)
    ref = lambda a: optax.losses.sparsemax_loss(a, jnp.asarray(t)).sum()  # noqa: E731
    ours = lambda a: L.sparsemax_loss(a, jnp.asarray(t), reduction="sum")  # noqa: E731
    assert np.isclose(float(ours(jnp.asarray(x))), float(ref(jnp.asarray(x))), rtol=1e-14)
    assert np.allclose(jax.grad(ours)(jnp.asarray(x)), jax.grad(ref)(jnp.asarray(x)), atol=1e-14)


def test_binary_sparsemax_formula_and_its_gradient_is_sparse_sigmoid_minus_label():
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    for label in (0.0, 1.0):
        u = (1 - 2 * label) * x
        want = np.where(u <= -1, 0.0, np.where(u >= 1, u, (u + 1) ** 2 / 4))
        assert np.allclose(L.sparsemax_loss(x, np.full_like(x, label), reduction="none"), want, rtol=1e-15)
    torch = _torch()
    xt = _t(x, True)
    L.sparsemax_loss(xt, torch.ones_like(xt), reduction="sum").backward()
    assert np.allclose(xt.grad.numpy(), np.clip((x + 1) / 2, 0, 1) - 1, atol=1e-15)


def test_binary_sparsemax_is_multiclass_sparsemax_on_two_scores():
    x = RNG.normal(size=(10,)) * 2
    t = (RNG.uniform(size=10) < 0.5).astype(np.int64)
    pair = np.stack([-x / 2, x / 2], axis=1)  # scores (z/2 for class 1, -z/2 for class 0)
    assert np.allclose(L.sparsemax_loss(x, t.astype(np.float64), reduction="none"),
                       L.multiclass_sparsemax_loss(pair, t, reduction="none"), rtol=1e-13, atol=1e-15)


def test_optax_perceptrons_values_and_gradients_off_the_kinks():
    jax = _jax()
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    x = RNG.normal(size=(12,))
    t = np.where(RNG.uniform(size=12) < 0.5, -1.0, 1.0)
    ref = lambda a: optax.losses.perceptron_loss(a, jnp.asarray(t)).sum()  # noqa: E731
    ours = lambda a: L.perceptron_loss(a, jnp.asarray(t), reduction="sum")  # noqa: E731
    assert np.isclose(float(ours(jnp.asarray(x))), float(ref(jnp.asarray(x))), rtol=1e-15)
    assert np.allclose(jax.grad(ours)(jnp.asarray(x)), jax.grad(ref)(jnp.asarray(x)), atol=0)
    z, y = _scores(9, 5)
    ref = lambda a: optax.losses.multiclass_perceptron_loss(a, jnp.asarray(y)).sum()  # noqa: E731
    ours = lambda a: L.multiclass_perceptron_loss(a, jnp.asarray(y), reduction="sum")  # noqa: E731
    assert np.isclose(float(ours(jnp.asarray(z))), float(ref(jnp.asarray(z))), rtol=1e-14)
    assert np.allclose(jax.grad(ours)(jnp.asarray(z)), jax.grad(ref)(jnp.asarray(z)), atol=0)


def test_difference_perceptron_kink_subgradients():
    """docs/differences.md: 0 at y x = 0 and at a target tied with the best score (optax's
    jnp.maximum gives -y/2, jnp.max splits over the tied maxima)."""
    torch = _torch()
    x = _t([0.0, 0.0], True)
    L.perceptron_loss(x, _t([1.0, -1.0]), reduction="sum").backward()
    assert x.grad.tolist() == [0.0, 0.0]
    z = _t([[2.0, 2.0, 0.0], [1.0, 3.0, 3.0]], True)
    out = L.multiclass_perceptron_loss(z, _t([0, 0]), reduction="none")
    assert out.detach().tolist() == [0.0, 2.0]
    out.sum().backward()
    # a tie with the target: 0; a tie between others: the first maximal one (argmax)
    assert z.grad.tolist() == [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]]
    assert torch.equal(L.multiclass_perceptron_loss(z.detach(), _t([0, 0]), reduction="none"),
                       L.multiclass_hinge_loss(z.detach(), _t([0, 0]), margin=0.0, reduction="none"))


def test_multiclass_perceptron_infinite_ties_are_ties_and_nan_goes_through():
    """max_j x_j - x_y with a tie giving 0 (gradient 0), infinite scores included (where
    inf - inf has no value); a NaN anywhere in the row gives NaN."""
    inf, nan = float("inf"), float("nan")
    z = _t([[inf, inf, 0.0], [inf, 1.0, 0.0], [-inf, -inf, -inf], [1.0, inf, 0.0],
            [nan, 1.0, 0.0], [1.0, 2.0, nan], [0.5, 2.0, -1.0]], True)
    y = _t([1, 0, 2, 0, 1, 1, 0])
    out = L.multiclass_perceptron_loss(z, y, reduction="none")
    got = out.detach().tolist()
    assert got[:3] == [0.0, 0.0, 0.0] and got[3] == inf and np.isnan(got[4]) and np.isnan(got[5])
    assert got[6] == 1.5
    out[[0, 1, 2, 6]].sum().backward()
    assert z.grad[:3].tolist() == [[0.0] * 3] * 3
    assert z.grad[6].tolist() == [-1.0, 1.0, 0.0]


def test_perceptron_target_encoding_01():
    x = RNG.normal(size=(8,))
    t01 = (RNG.uniform(size=8) < 0.5).astype(np.float64)
    assert np.array_equal(L.perceptron_loss(x, t01, target_encoding="01", reduction="none"),
                          np.maximum(0.0, -(2 * t01 - 1) * x))


def test_optax_divergences_and_safe_cross_entropy():
    jax = _jax()
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    z = RNG.normal(size=(6, 5))
    t = RNG.uniform(0.1, 2.0, size=(6, 5))
    for ours, theirs in ((L.generalized_kl_divergence, optax.losses.generalized_kl_divergence),
                         (L.convex_kl_divergence, optax.losses.convex_kl_divergence)):
        f = lambda a: ours(a, jnp.asarray(t), reduction="sum")  # noqa: E731
        g = lambda a: theirs(a, jnp.asarray(t)).sum()  # noqa: E731
        assert np.isclose(float(f(jnp.asarray(z))), float(g(jnp.asarray(z))), rtol=1e-13)
        assert np.allclose(jax.grad(f)(jnp.asarray(z)), jax.grad(g)(jnp.asarray(z)), rtol=1e-13)
    p = t / t.sum(1, keepdims=True)
    z[:, 2] = -np.inf
    p[:, 2] = 0.0
    p /= p.sum(1, keepdims=True)
    f = lambda a: L.safe_softmax_cross_entropy(a, jnp.asarray(p), reduction="sum")  # noqa: E731
    g = lambda a: optax.safe_softmax_cross_entropy(a, jnp.asarray(p)).sum()  # noqa: E731
    assert np.isclose(float(f(jnp.asarray(z))), float(g(jnp.asarray(z))), rtol=1e-13)
    gf, gg = np.asarray(jax.grad(f)(jnp.asarray(z))), np.asarray(jax.grad(g)(jnp.asarray(z)))
    assert np.all(np.isfinite(gf)) and np.allclose(gf, gg, atol=1e-14)


def test_generalized_kl_formula_and_zero_targets():
    z = RNG.normal(size=(4, 3))
    t = RNG.uniform(0.0, 2.0, size=(4, 3))
    t[0, 1] = 0.0
    want = np.sum(np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t * z + np.exp(z) - t, axis=1)
    assert np.allclose(L.generalized_kl_divergence(z, t, reduction="none"), want, rtol=1e-14)
    # normalised on both sides it is KL(t || p), torch's kl_div summed over the classes
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    q = t / t.sum(1, keepdims=True)
    assert np.allclose(L.generalized_kl_divergence(np.log(p), q, reduction="none"),
                       L.kl_div(np.log(p), q, reduction="none").sum(1), rtol=1e-12, atol=1e-15)


def test_difference_generalized_kl_zero_mass_at_log_zero():
    """docs/differences.md: t_j = 0 at z_j = -inf contributes 0 (optax: NaN)."""
    z = np.array([[-np.inf, 0.0]])
    t = np.array([[0.0, 1.0]])
    assert float(L.generalized_kl_divergence(z, t)) == 0.0
    optax = pytest.importorskip("optax")
    _jax()
    assert np.isnan(float(optax.losses.generalized_kl_divergence(z, t)[0]))


def test_safe_cross_entropy_where_torch_gives_nan():
    torch = _torch()
    z = np.array([[0.0, 1.0, -np.inf], [2.0, -1.0, 0.5]])
    t = np.array([[0.3, 0.7, 0.0], [0.2, 0.3, 0.5]])
    assert np.isnan(torch.nn.functional.cross_entropy(_t(z), _t(t), reduction="none")[0].item())
    got = L.safe_softmax_cross_entropy(z, t, reduction="none")
    lse = np.log(np.exp(z[0, :2]).sum())
    assert np.isclose(got[0], -(0.3 * (0 - lse) + 0.7 * (1 - lse)), rtol=1e-14)
    assert np.isclose(got[1], torch.nn.functional.cross_entropy(_t(z), _t(t), reduction="none")[1].item(), rtol=1e-14)


# -------------------------------------------------------------------------------- errors ----
def test_errors_name_the_argument():
    z, y = _scores(4, 3)
    with pytest.raises(ValueError, match="alpha"):
        L.entmax_bisect_loss(z, y, alpha=1.0)
    with pytest.raises(ValueError, match="n_iter"):
        L.entmax_bisect_loss(z, y, n_iter=0)
    with pytest.raises(TypeError, match="n_iter"):
        L.entmax_bisect_loss(z, y, n_iter=2.0)
    with pytest.raises(ValueError, match="target"):
        L.entmax15_loss(z, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="target"):
        L.sparsemax_loss(np.zeros(3), np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="target"):
        L.generalized_kl_divergence(np.zeros((2, 2)), np.array([[1.0, -0.1], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="target"):
        L.perceptron_loss(np.zeros(2), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="target"):
        L.safe_softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match="input"):
        L.multiclass_sparsemax_loss(y, y)


def test_docstring_examples_run():
    import losses.sparse as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 9 and result.failed == 0


def test_safe_softmax_infinite_target_gradient_is_the_closed_form_on_every_path():
    torch = pytest.importorskip("torch")
    from losses import backends

    z = torch.tensor([[0.3, -1.2, 2.0, 0.5]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[0.2, -float("inf"), 0.3, 0.5]], dtype=torch.float64)
    L.safe_softmax_cross_entropy(z, t, reduction="sum").backward()
    p = torch.softmax(z.detach(), -1)
    want = -t + p * t.sum()  # the closed form: -inf, NaN at the infinite target (inf - inf)
    assert bool(torch.isinf(want).sum() == 3)
    torch.testing.assert_close(z.grad, want, rtol=0, atol=0, equal_nan=True)
    z.grad = None
    with backends.generic_paths():  # the array-API body, with the framework's stop_gradient
        L.safe_softmax_cross_entropy(z, t, reduction="sum").backward()
    torch.testing.assert_close(z.grad, want, rtol=0, atol=0, equal_nan=True)
