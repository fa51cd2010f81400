"""Multi-task and curriculum weighting: values against the papers' formulas in float64 NumPy
(scipy's Lambert W for SuperLoss), gradients on torch and JAX, errors, documented
differences, and the docs/multitask.md examples (PyTorch and JAX GradNorm included)."""
from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest

import losses as L
from tests._docs import doc_blocks

RNG = np.random.default_rng(7)
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _torch():
    return pytest.importorskip("torch")


def _t(a, grad=False):
    torch = _torch()
    t = torch.tensor(np.asarray(a), dtype=torch.float64)
    return t.requires_grad_(grad) if grad else t


# ---------------------------------------------------------------- uncertainty weighting ----
def test_uncertainty_weighted_kendall_forms():
    losses_, s = RNG.uniform(0.1, 3, size=3), RNG.normal(size=3)
    sigma2 = np.exp(s)
    # Gaussian likelihood: L / (2 sigma^2) + log sigma
    want = np.sum(losses_ / (2 * sigma2) + np.log(np.sqrt(sigma2)))
    assert np.isclose(L.uncertainty_weighted_loss(losses_, s), want, rtol=1e-14)
    # classification likelihood: L / sigma^2 + log sigma
    want = np.sum(losses_ / sigma2 + 0.5 * s)
    assert np.isclose(L.uncertainty_weighted_loss(losses_, s, precision_scale=1.0), want, rtol=1e-14)
    mixed = L.uncertainty_weighted_loss(losses_, s, precision_scale=(0.5, 1.0, 1.0), reduction="none")
    assert np.allclose(mixed, np.array([0.5, 1.0, 1.0]) * losses_ / sigma2 + 0.5 * s, rtol=1e-14)


def test_difference_uncertainty_widely_copied_form():
    # the common snippet sum(exp(-s) * L + s) is twice the paper's regression objective
    losses_, s = RNG.uniform(0.1, 3, size=4), RNG.normal(size=4)
    copied = np.sum(np.exp(-s) * losses_ + s)
    assert np.isclose(L.uncertainty_weighted_loss(losses_, s, precision_scale=1.0, log_var_scale=1.0), copied, rtol=1e-14)
    assert np.isclose(L.uncertainty_weighted_loss(losses_, s), 0.5 * copied, rtol=1e-14)


def test_uncertainty_optimum_and_torch_grad():
    torch = _torch()
    losses_ = RNG.uniform(0.1, 3, size=3)
    s = _t(np.log(losses_), True)  # optimum of the paper's form: s* = log L
    (g,) = torch.autograd.grad(L.uncertainty_weighted_loss(_t(losses_), s), s)
    assert torch.allclose(g, torch.zeros(3, dtype=torch.float64), atol=1e-15)
    s = _t(np.log(2 * losses_), True)  # classification form: s* = log 2L
    (g,) = torch.autograd.grad(L.uncertainty_weighted_loss(_t(losses_), s, precision_scale=1.0), s)
    assert torch.allclose(g, torch.zeros(3, dtype=torch.float64), atol=1e-15)
    tl, ts = _t(losses_, True), _t(RNG.normal(size=3), True)
    gl, gs = torch.autograd.grad(L.uncertainty_weighted_loss(tl, ts), [tl, ts])
    assert torch.allclose(gl, 0.5 * torch.exp(-ts.detach())) and torch.allclose(gs, 0.5 - 0.5 * torch.exp(-ts.detach()) * tl.detach())


def test_uncertainty_batched_and_errors():
    losses_, s = RNG.uniform(0.1, 3, size=(5, 3)), RNG.normal(size=3)
    assert np.isclose(L.uncertainty_weighted_loss(losses_, s, reduction="mean"),
                      np.mean(0.5 * np.exp(-s) * losses_ + 0.5 * s), rtol=1e-14)
    with pytest.raises(ValueError, match=r"log_vars of shape \(2,\) does not broadcast"):
        L.uncertainty_weighted_loss(losses_, s[:2])
    with pytest.raises(ValueError, match=r"precision_scale must have one value per task \(3\), got 2"):
        L.uncertainty_weighted_loss(losses_, s, precision_scale=(0.5, 1.0))
    with pytest.raises(ValueError, match="precision_scale must be >= 0"):
        L.uncertainty_weighted_loss(losses_, s, precision_scale=-1.0)
    with pytest.raises(TypeError, match="log_vars must have a real floating dtype"):
        L.uncertainty_weighted_loss(losses_, np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="precision_scale must be a non-negative number"):
        L.uncertainty_weighted_loss(losses_, s, precision_scale="half")


# ------------------------------------------------------------------ dynamic weight average ----
def test_dwa_paper_formula():
    h = RNG.uniform(0.2, 2, size=(6, 4))
    r = h[-1] / h[-2]
    want = 4 * np.exp(r / 2.0) / np.sum(np.exp(r / 2.0))
    got = L.dynamic_weight_average(h)
    assert np.allclose(got, want, rtol=1e-14) and np.isclose(got.sum(), 4.0)
    assert np.allclose(L.dynamic_weight_average(h[:1]), 1.0)
    assert np.allclose(L.dynamic_weight_average(h, temperature=1e9), 1.0, atol=1e-8)
    h2 = h[-2:].copy()
    h2[0, 1] = 0.0  # previous loss 0 -> ratio 1
    r2 = np.array([r[0], 1.0, r[2], r[3]])
    assert np.allclose(L.dynamic_weight_average(h2, temperature=0.5), 4 * np.exp(r2 / 0.5) / np.exp(r2 / 0.5).sum())


def test_dwa_weights_are_constants():
    _torch()
    h = _t(RNG.uniform(0.2, 2, size=(3, 2)), True)
    w = L.dynamic_weight_average(h)
    assert not w.requires_grad


def test_dwa_errors():
    with pytest.raises(ValueError, match="loss_history must have at least 2 dimension"):
        L.dynamic_weight_average(np.ones(3))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        L.dynamic_weight_average(np.ones((2, 3)), temperature=0)
    with pytest.raises(ValueError, match="at least one epoch"):
        L.dynamic_weight_average(np.ones((0, 3)))


# ------------------------------------------------------------------------------ GradNorm ----
def _gradnorm_numpy(G, Lr, alpha):
    r = Lr / Lr.mean(-1, keepdims=True)
    return np.abs(G - G.mean(-1, keepdims=True) * r ** alpha)


def test_gradnorm_paper_formula():
    G, Lr = RNG.uniform(0.1, 3, size=4), RNG.uniform(0.2, 1, size=4)
    for alpha in (0.0, 0.5, 1.5, 3.0):
        assert np.isclose(L.gradnorm_loss(G, Lr, alpha=alpha), _gradnorm_numpy(G, Lr, alpha).sum(), rtol=1e-14)
    assert np.allclose(L.gradnorm_loss(G, Lr, reduction="none"), _gradnorm_numpy(G, Lr, 1.5), rtol=1e-14)


def test_gradnorm_target_constant_and_kink():
    torch = _torch()
    G, Lr = RNG.uniform(0.1, 3, size=4), RNG.uniform(0.2, 1, size=4)
    tg = _t(G, True)
    (g,) = torch.autograd.grad(L.gradnorm_loss(tg, _t(Lr)), tg)
    target = G.mean() * (Lr / Lr.mean()) ** 1.5
    assert np.allclose(g.numpy(), np.sign(G - target), rtol=1e-15)
    tg = _t([1.0, 2.0, 3.0], True)  # target = mean = 2 for equal ratios: kink at G[1]
    (g,) = torch.autograd.grad(L.gradnorm_loss(tg, _t(np.full(3, 0.5))), tg)
    assert np.allclose(g.numpy(), [-1.0, 0.0, 1.0])


def test_gradnorm_weight_gradient_chain_rule_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    # G_k = w_k * ||grad L_k||: dl/dw_k = sign(G_k - target_k) * ||grad L_k||
    norms = jnp.asarray(RNG.uniform(0.5, 2.0, size=3))
    ratios = jnp.asarray(RNG.uniform(0.3, 1.0, size=3))
    w = jnp.asarray([0.7, 1.1, 1.2])
    g = jax.grad(lambda w: L.gradnorm_loss(w * norms, ratios))(w)
    G = np.asarray(w * norms)
    target = G.mean() * (np.asarray(ratios) / np.asarray(ratios).mean()) ** 1.5
    assert np.allclose(np.asarray(g), np.sign(G - target) * np.asarray(norms), rtol=1e-14)


def test_renormalize_task_weights():
    w = RNG.uniform(0.1, 2, size=(2, 5))
    assert np.allclose(L.renormalize_task_weights(w), 5 * w / w.sum(-1, keepdims=True), rtol=1e-15)
    assert np.allclose(L.renormalize_task_weights(w, total=1.0).sum(-1), 1.0)
    assert np.array_equal(L.renormalize_task_weights(task_weights=w), L.renormalize_task_weights(w))
    assert np.isnan(L.renormalize_task_weights(np.zeros(3))).all()
    with pytest.raises(ValueError, match="total must be > 0"):
        L.renormalize_task_weights(w, total=0)


def test_gradnorm_negative_grad_norms_are_refused_eagerly():
    G, Lr = np.array([1.0, -0.5, 2.0]), np.array([0.5, 0.7, 0.9])
    with pytest.raises(ValueError, match="grad_norms must be non-negative, got a minimum of -0.5"):
        L.gradnorm_loss(G, Lr)
    _torch()
    with pytest.raises(ValueError, match="grad_norms must be non-negative"):
        L.gradnorm_loss(_t(G, True), _t(Lr))
    # NaN is not refused: it propagates (a diverged norm must not become a silent number)
    out = L.gradnorm_loss(np.array([1.0, np.nan, 2.0]), Lr, reduction="none")
    assert np.isnan(out).all()  # the mean gradient norm reads every task
    jax = pytest.importorskip("jax")
    # under jit the values cannot be checked: the formula is computed
    got = jax.jit(lambda g: L.gradnorm_loss(g, jax.numpy.asarray(Lr)))(jax.numpy.asarray(G))
    assert np.isclose(float(got), _gradnorm_numpy(G, Lr, 1.5).sum(), rtol=1e-13)


def test_multitask_hyper_parameters_are_checked_by_name():
    losses_, s = RNG.uniform(0.1, 3, size=3), RNG.normal(size=3)
    for kw, name in (({"precision_scale": math.inf}, "precision_scale"), ({"log_var_scale": math.inf}, "log_var_scale"),
                     ({"precision_scale": (0.5, math.inf, 1.0)}, r"precision_scale\[1\]")):
        with pytest.raises(ValueError, match=f"{name} must be finite"):
            L.uncertainty_weighted_loss(losses_, s, **kw)
    with pytest.raises(TypeError, match="log_var_scale must be a real number"):
        L.uncertainty_weighted_loss(losses_, s, log_var_scale=math.nan)
    with pytest.raises(ValueError, match="alpha must be finite"):
        L.gradnorm_loss(np.ones(3), np.ones(3), alpha=math.inf)
    with pytest.raises(ValueError, match="total must be finite"):
        L.renormalize_task_weights(np.ones(3), total=math.inf)
    with pytest.raises(ValueError, match="lambda_ must be finite"):
        L.super_loss(np.ones(3), tau=1.0, lambda_=math.inf)
    with pytest.raises(ValueError, match="tau must be finite"):  # gave a silent -inf
        L.super_loss(np.ones(3), tau=math.inf)
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match="rescale must be a bool"):
            L.curriculum_weights(np.ones(3), 0.5, rescale=bad)
    with pytest.raises(TypeError, match="progress must be a real number"):
        L.curriculum_weights(np.ones(3), math.nan)
    with pytest.raises(TypeError, match="threshold must be a real number"):
        L.self_paced_weights(np.ones(3), math.nan)


def test_multitask_complex_and_list_arguments_are_refused_by_name():
    with pytest.raises(TypeError, match="loss_ratios must have a real dtype"):
        L.gradnorm_loss(np.ones(3), np.ones(3) + 1j)
    _torch()
    with pytest.raises(TypeError, match="loss_ratios must have a real dtype"):  # was torch's NotImplementedError
        L.gradnorm_loss(_t(np.ones(3)), _t(np.ones(3)).to(dtype=_torch().complex128))
    with pytest.raises(TypeError, match="progress must have a real dtype"):
        L.curriculum_weights(np.ones(3), np.asarray(0.5 + 1j))
    with pytest.raises(TypeError, match="tau must have a real dtype"):
        L.super_loss(np.ones(3), tau=np.asarray(1.0 + 0j))
    with pytest.raises(TypeError, match="grad_norms must be an array"):
        L.gradnorm_loss([1.0, 2.0], np.ones(2))
    with pytest.raises(TypeError, match="loss_history must be an array"):
        L.dynamic_weight_average([[1.0, 2.0]])


def test_gradnorm_errors():
    with pytest.raises(ValueError, match="grad_norms and loss_ratios must have the same shape"):
        L.gradnorm_loss(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        L.gradnorm_loss(np.ones(3), np.ones(3), alpha=-1)
    with pytest.raises(ValueError, match="loss_ratios must be non-negative"):
        L.gradnorm_loss(np.ones(3), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(TypeError, match="grad_norms must have a real floating dtype"):
        L.gradnorm_loss(np.ones(3, dtype=np.int32), np.ones(3))


# ---------------------------------------------------------------------------- curriculum ----
def test_curriculum_weights_threshold_and_renormalisation():
    d = RNG.uniform(0, 1, size=10)
    p = 0.45
    m = (d <= p).astype(np.float64)
    assert np.allclose(L.curriculum_weights(d, p), m * len(d) / m.sum(), rtol=1e-15)
    assert np.all(L.curriculum_weights(d, p, rescale=False) == m)
    assert np.all(L.curriculum_weights(d, -1.0) == 0)  # nobody admitted: zeros, not NaN
    assert np.allclose(L.curriculum_weights(d, 2.0), 1.0)
    d[3] = p  # ties are admitted (difficulty <= progress)
    assert L.curriculum_weights(d, p, rescale=False)[3] == 1
    assert np.allclose(L.curriculum_weights(d, np.asarray(p)), L.curriculum_weights(d, p))
    # a 0-d difficulty gives a 0-d NumPy array, not a NumPy scalar
    for rescale in (True, False):
        out = L.curriculum_weights(np.asarray(0.3), 0.5, rescale=rescale)
        assert type(out) is np.ndarray and out.shape == () and out == 1


def test_curriculum_weights_jit_progress_array():
    jax = pytest.importorskip("jax")
    d = jax.numpy.asarray(RNG.uniform(0, 1, size=8))
    f = jax.jit(L.curriculum_weights)
    for p in (0.2, 0.6, -1.0):
        got = np.asarray(f(d, jax.numpy.asarray(p)))
        assert np.allclose(got, L.curriculum_weights(np.asarray(d), p))
    assert np.all(np.isfinite(np.asarray(f(d, jax.numpy.asarray(-1.0)))))


def test_curriculum_weights_nan_goes_through():
    # a NaN difficulty gave weight 0 (d <= p is False for NaN): now NaN
    d = np.array([0.1, np.nan, 0.4, 0.9])
    mask = L.curriculum_weights(d, 0.5, rescale=False)
    assert mask[0] == 1 and np.isnan(mask[1]) and mask[2] == 1 and mask[3] == 0
    assert np.isnan(L.curriculum_weights(d, 0.5)).all()  # the count reads every element
    assert np.isnan(L.curriculum_weights(np.array([0.1, 0.4]), np.asarray(np.nan), rescale=False)).all()
    # +-inf difficulties are ordinary comparisons
    assert np.array_equal(L.curriculum_weights(np.array([-np.inf, np.inf]), 0.5, rescale=False), [1.0, 0.0])
    jax = pytest.importorskip("jax")
    got = np.asarray(jax.jit(lambda x: L.curriculum_weights(x, 0.5, rescale=False))(jax.numpy.asarray(d)))
    assert np.array_equal(got, mask, equal_nan=True)


def test_self_paced_weights_nan_goes_through():
    l = np.array([0.2, np.nan, 1.5, 0.6])
    hard = L.self_paced_weights(l, 1.0)
    linear = L.self_paced_weights(l, 1.0, regime="linear")
    assert np.array_equal(hard, [1.0, np.nan, 0.0, 1.0], equal_nan=True)
    assert np.allclose(linear, [0.8, np.nan, 0.0, 0.4], equal_nan=True, rtol=1e-15)
    lam = np.array([1.0, 1.0, np.nan, 1.0])
    assert np.isnan(L.self_paced_weights(np.full(4, 0.5), lam)[2])
    assert np.isnan(L.self_paced_weights(np.full(4, 0.5), lam, regime="linear")[2])
    _torch()
    got = L.self_paced_weights(_t(l), 1.0, regime="linear")
    assert np.allclose(got.numpy(), linear, equal_nan=True, rtol=1e-15)


def test_self_paced_linear_threshold_array_must_be_positive():
    with pytest.raises(ValueError, match="threshold must be > 0"):
        L.self_paced_weights(np.ones(3), np.array([1.0, 0.0, 2.0]), regime="linear")
    # any threshold for "hard"; integer threshold arrays are accepted and cast
    assert np.array_equal(L.self_paced_weights(np.array([0.5, 1.5]), np.array([0, 2])), [0.0, 1.0])
    assert np.allclose(L.self_paced_weights(np.array([0.5, 1.5]), np.array([1, 2]), regime="linear"), [0.5, 0.25])
    jax = pytest.importorskip("jax")
    # under jit a non-positive threshold cannot be refused: weight 0
    f = jax.jit(lambda t: L.self_paced_weights(jax.numpy.asarray([0.5, 0.5]), t, regime="linear"))
    assert np.array_equal(np.asarray(f(jax.numpy.asarray([0.0, 1.0]))), [0.0, 0.5])


def test_self_paced_weights():
    l = np.array([0.1, 0.5, 0.9, 1.0, 2.0])
    assert np.all(L.self_paced_weights(l, 1.0) == [1, 1, 1, 0, 0])  # strict <, Kumar et al.
    assert np.allclose(L.self_paced_weights(l, 1.0, regime="linear"), [0.9, 0.5, 0.1, 0.0, 0.0])
    assert np.all(L.self_paced_weights(l, 0.0) == 0)
    out = L.self_paced_weights(np.asarray(0.5), 1.0, regime="linear")
    assert type(out) is np.ndarray and out.shape == () and out == 0.5
    assert np.allclose(L.self_paced_weights(l, np.asarray(1.0), regime="linear"),
                       L.self_paced_weights(l, 1.0, regime="linear"))
    _torch()
    tl = _t(l, True)
    assert not L.self_paced_weights(tl, 1.0, regime="linear").requires_grad


def test_curriculum_errors():
    with pytest.raises(TypeError, match="difficulty must have a real floating dtype"):
        L.curriculum_weights(np.arange(3), 1.0)
    with pytest.raises(TypeError, match="progress must be a real number or an array, got str"):
        L.curriculum_weights(np.ones(3), "half")
    with pytest.raises(ValueError, match="regime must be one of"):
        L.self_paced_weights(np.ones(3), 1.0, regime="soft")
    with pytest.raises(ValueError, match="threshold must be > 0"):
        L.self_paced_weights(np.ones(3), 0.0, regime="linear")
    with pytest.raises(ValueError, match=r"threshold of shape \(2,\) does not broadcast"):
        L.self_paced_weights(np.ones(3), np.ones(2))


# ---------------------------------------------------------------------------- SuperLoss ----
def _super_loss_numpy(l, tau, lam):
    special = pytest.importorskip("scipy.special")
    beta = (l - tau) / lam
    free = beta > -2 / np.e
    y = 0.5 * np.where(free, beta, 0.0)
    # the clamp puts easy samples on the branch point W(-1/e) = -1 (scipy returns NaN there)
    sigma = np.where(free, np.exp(-special.lambertw(y).real), np.e)
    return (l - tau) * sigma + lam * np.log(sigma) ** 2, sigma


@pytest.mark.parametrize("tau,lam", [(math.log(10), 1.0), (1.0, 0.25), (0.0, 5.0)])
def test_super_loss_matches_scipy_lambertw(tau, lam):
    l = np.concatenate([RNG.uniform(0, 5, size=50), [0.0, tau, tau - 2 * lam / np.e, 1e4, 1e-12]])
    want, _ = _super_loss_numpy(l, tau, lam)
    got = L.super_loss(l, tau=tau, lambda_=lam, reduction="none")
    assert np.allclose(got, want, rtol=1e-13, atol=1e-13)


def test_super_loss_is_the_minimum_over_sigma():
    l, tau, lam = RNG.uniform(0, 4, size=6), 1.5, 0.5
    got = L.super_loss(l, tau=tau, lambda_=lam, reduction="none")
    sig = np.exp(np.linspace(-8, 1, 20001))[None, :]
    brute = ((l[:, None] - tau) * sig + lam * np.log(sig) ** 2).min(1)
    assert np.all(got <= brute + 1e-12) and np.allclose(got, brute, atol=1e-6)


def test_super_loss_gradient_is_sigma_on_torch_and_jax():
    torch = _torch()
    jax = pytest.importorskip("jax")
    l = np.concatenate([RNG.uniform(0, 4, size=8), [0.0, 0.0]])  # includes the clamped branch point
    _, sigma = _super_loss_numpy(l, 1.2, 1.0)
    tl = _t(l, True)
    (gt,) = torch.autograd.grad(L.super_loss(tl, tau=1.2, reduction="sum"), tl)
    gj = jax.grad(lambda x: L.super_loss(x, tau=1.2, reduction="sum"))(jax.numpy.asarray(l))
    assert np.allclose(gt.numpy(), sigma, rtol=1e-13) and np.allclose(np.asarray(gj), sigma, rtol=1e-13)
    assert np.all(np.isfinite(gt.numpy()))
    assert np.isclose(gt[-1].item(), math.e, rtol=1e-15)  # clamped: sigma* = e


def test_super_loss_float32_and_tau_array():
    l = RNG.uniform(0, 4, size=16)
    want, _ = _super_loss_numpy(l, 1.3, 1.0)
    got32 = L.super_loss(l.astype(np.float32), tau=1.3)
    assert got32.dtype == np.float32 and np.isclose(got32, want.mean(), rtol=1e-5)
    assert np.isclose(L.super_loss(l, tau=np.asarray(1.3)), want.mean(), rtol=1e-14)


def test_super_loss_errors():
    with pytest.raises(ValueError, match="lambda_ must be > 0"):
        L.super_loss(np.ones(3), tau=1.0, lambda_=0.0)
    with pytest.raises(TypeError, match="losses must have a real floating dtype"):
        L.super_loss(np.ones(3, dtype=np.int64), tau=1.0)
    with pytest.raises(TypeError, match="tau must be a real number or an array, got NoneType"):
        L.super_loss(np.ones(3), tau=None)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.super_loss(np.ones(3), tau=1.0, reduction="batchmean")




def test_docs_gradnorm_examples_present():
    blocks = doc_blocks("multitask.md")
    assert any("torch.autograd.grad" in b and "gradnorm_loss" in b for b in blocks)
    assert any("jax.grad" in b and "gradnorm_loss" in b for b in blocks)


def test_gradnorm_torch_norms_match_manual_computation():
    """The torch recipe of the docs: autograd norms equal w_k * ||grad_W L_k|| and are differentiable."""
    torch = _torch()
    torch.manual_seed(1)
    W = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 3, dtype=torch.float64)
    w = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    task = [((x @ W) ** 2).mean(), (x @ W).sin().sum()]
    norms = torch.stack([torch.autograd.grad(w[k] * task[k], W, retain_graph=True, create_graph=True)[0].norm()
                         for k in range(2)])
    plain = torch.stack([torch.autograd.grad(task[k], W, retain_graph=True)[0].norm() for k in range(2)])
    assert torch.allclose(norms, w.detach() * plain, rtol=1e-12)
    ratios = torch.tensor([0.9, 0.6], dtype=torch.float64)
    (gw,) = torch.autograd.grad(L.gradnorm_loss(norms, ratios), w)
    target = norms.detach().mean() * (ratios / ratios.mean()) ** 1.5
    assert torch.allclose(gw, torch.sign(norms.detach() - target) * plain, rtol=1e-12)


# ------------------------------------------------------ select-free and read-back paths ----
def test_hard_indicators_at_ties_neighbours_and_non_finite_values():
    # [l < lam] and [d <= p] by ceil(clip(difference, 0, 1)): exact at the threshold and at
    # its float neighbours, 0 and 1 (never -0) elsewhere, NaN only where the value is NaN
    for dtype in (np.float32, np.float64):
        for lam in (1.0, 0.1, 0.0, -0.0, -2.5, 1e-40, 3e38, -3e38):
            b = dtype(lam)
            x = np.concatenate([RNG.uniform(-3, 3, size=64), [b, np.nextafter(b, dtype(np.inf)),
                                np.nextafter(b, dtype(-np.inf)), np.nan, np.inf, -np.inf, 0.0, -0.0]]).astype(dtype)
            for got, want in ((L.self_paced_weights(x, lam), x < b),
                              (L.curriculum_weights(x, lam, rescale=False), x <= b)):
                want = np.where(np.isnan(x), np.nan, want.astype(dtype))
                assert got.dtype == dtype and np.array_equal(got, want, equal_nan=True), (dtype, lam)
                assert not np.signbit(got[~np.isnan(got)]).any(), (dtype, lam)
    # an infinite threshold number takes the comparison path: [inf < inf] is 0, not NaN
    assert np.array_equal(L.self_paced_weights(np.array([np.inf, 1.0]), math.inf), [0.0, 1.0])
    assert np.array_equal(L.curriculum_weights(np.array([-np.inf, 1.0]), -math.inf, rescale=False), [1.0, 0.0])


def _dwa_numpy(h, temperature=2.0):
    prev = h[-2]
    r = np.where(prev == 0, 1.0, h[-1] / np.where(prev == 0, 1.0, prev)) / temperature
    e = np.exp(r - r.max(-1, keepdims=True))
    return h.shape[-1] * e / e.sum(-1, keepdims=True)


def test_dynamic_weight_average_read_back_path_equals_the_select():
    # eagerly, a history whose previous losses are all non-zero of one sign skips the select
    # (one host read); any zero or mixed signs, traced calls and value checks off take it
    torch = _torch()
    positive = RNG.uniform(0.2, 2.0, size=(3, 4, 5))
    zero = positive.copy()
    zero[-2, 1, 2] = 0.0
    mixed = positive.copy()
    mixed[-2, 2, 0] = -0.5
    for h in (positive, -positive, zero, mixed):
        for checks in (True, False):
            with L.value_checks(checks):
                assert np.allclose(L.dynamic_weight_average(h), _dwa_numpy(h), rtol=1e-14)
                assert np.allclose(L.dynamic_weight_average(torch.tensor(h)).numpy(), _dwa_numpy(h), rtol=1e-14)
    nan = positive.copy()
    nan[-2, 0, 0] = np.nan
    got = L.dynamic_weight_average(nan)
    assert np.isnan(got[0]).all() and np.isfinite(got[1:]).all()


def test_renormalize_task_weights_zero_sum_rows_keep_a_zero_gradient():
    torch = _torch()
    w = _t(np.array([[0.5, 1.0, 2.5], [0.0, 0.0, 0.0], [1.0, -1.0, 0.0]]), True)
    out = L.renormalize_task_weights(w)
    assert np.allclose(out[0].detach().numpy(), 3 * np.array([0.5, 1.0, 2.5]) / 4.0, rtol=1e-15)
    assert torch.isnan(out[1:]).all()
    (g,) = torch.autograd.grad(torch.nansum(out * torch.arange(1.0, 4.0, dtype=out.dtype)), w)
    assert torch.isfinite(g).all() and (g[1:] == 0).all()


def test_gradnorm_target_rows_with_zero_mean_ratio_and_nan():
    G = np.array([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0], [1.0, 3.0, 2.0]])
    Lr = np.array([[0.5, 1.0, 1.5], [0.0, 0.0, 0.0], [np.nan, 1.0, 1.0]])
    per = L.gradnorm_loss(G, Lr, alpha=1.5, reduction="none")
    assert np.allclose(per[0], np.abs(G[0] - 2.0 * (Lr[0] / 1.0) ** 1.5), rtol=1e-14)
    assert np.allclose(per[1], np.abs(G[1] - 2.0), rtol=0)  # a zero mean ratio: r = 1
    assert np.isnan(per[2]).all()
    assert np.isfinite(L.gradnorm_loss(G, Lr, alpha=0.0, reduction="none")).all()  # alpha = 0 ignores L


def test_self_paced_linear_array_threshold_with_and_without_value_checks():
    # checked eagerly, a valid threshold array takes the plain clip; unchecked, the guarded
    # form: the same values, and a threshold <= 0 gives weight 0 where no check refuses it
    l = np.array([0.2, 1.5, 0.8, np.nan, np.inf, -np.inf, 1.2])
    for lam in (np.array(1.2), np.full(7, 1.2), np.array([1.2, 2.0, 0.5, 1.0, 1.0, 1.0, np.nan])):
        want = np.where(np.isnan(lam) | np.isnan(l), np.nan, np.clip(1 - l / lam, 0, None))
        assert np.array_equal(L.self_paced_weights(l, lam, regime="linear"), want, equal_nan=True)
        with L.value_checks(False):
            assert np.array_equal(L.self_paced_weights(l, lam, regime="linear"), want, equal_nan=True)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        L.self_paced_weights(l, np.array(0.0), regime="linear")
    with L.value_checks(False):
        assert np.array_equal(L.self_paced_weights(l, np.array(0.0), regime="linear"), np.zeros(7))
