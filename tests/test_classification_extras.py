"""Poly-1, distillation, generalized CE, soft F1; temperature recipe."""
import numpy as np
import pytest

import losses as L

RNG = np.random.default_rng(2024)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _torch():
    return pytest.importorskip("torch")


def _t(a, grad=True):
    torch = _torch()
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ------------------------------------------------------------------ poly1_cross_entropy
def test_poly1_numpy_formula_integer_targets():
    z = RNG.normal(size=(6, 4)) * 2
    t = RNG.integers(0, 4, size=(6,))
    logp = _log_softmax(z, 1)[np.arange(6), t]
    for eps in (2.0, 1.0, -1.0, 0.0):
        want = -logp + eps * (1 - np.exp(logp))
        np.testing.assert_allclose(L.poly1_cross_entropy(z, t, epsilon=eps, reduction="none"), want, rtol=1e-14)


def test_poly1_matches_torch_ce_plus_poly_term_with_weight_and_ignore():
    torch = _torch()
    F = torch.nn.functional
    z = RNG.normal(size=(7, 5)) * 2
    t = RNG.integers(0, 5, size=(7,))
    t[2] = -100
    w = RNG.uniform(0.2, 2, size=(5,))
    a, b = _t(z), _t(z)
    tt, wt = torch.tensor(t), torch.tensor(w)
    ours = L.poly1_cross_entropy(a, tt, epsilon=1.5, weight=wt)
    keep = tt != -100
    safe = torch.where(keep, tt, 0)
    wt_pos = torch.where(keep, wt[safe], torch.zeros(7, dtype=torch.float64))
    pt = torch.softmax(b, 1).gather(1, safe[:, None])[:, 0]
    theirs = (F.cross_entropy(b, tt, weight=wt, reduction="none") + wt_pos * 1.5 * (1 - pt)).sum() / wt_pos.sum()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(torch.autograd.grad(ours, a)[0].numpy(), torch.autograd.grad(theirs, b)[0].numpy(),
                               rtol=1e-12, atol=1e-12)


def test_poly1_epsilon0_is_cross_entropy():
    z = RNG.normal(size=(5, 3, 2))
    t = RNG.integers(0, 3, size=(5, 2))
    np.testing.assert_allclose(L.poly1_cross_entropy(z, t, epsilon=0.0), L.cross_entropy(z, t), rtol=1e-15)


def test_poly1_optax_twin():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    z = RNG.normal(size=(6, 4)) * 2
    y = RNG.uniform(size=(6, 4))
    y /= y.sum(-1, keepdims=True)
    onehot = np.eye(4)[RNG.integers(0, 4, size=(6,))]
    for labels in (y, onehot):
        for eps in (2.0, 0.5, -1.0):
            theirs = optax.losses.poly_loss_cross_entropy(jnp.asarray(z), jnp.asarray(labels), epsilon=eps)
            ours = L.poly1_cross_entropy(jnp.asarray(z), jnp.asarray(labels), epsilon=eps, axis=-1, reduction="none")
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    g1 = jax.grad(lambda a: L.poly1_cross_entropy(a, jnp.asarray(y), axis=-1, reduction="sum"))(jnp.asarray(z))
    g2 = jax.grad(lambda a: optax.losses.poly_loss_cross_entropy(a, jnp.asarray(y)).sum())(jnp.asarray(z))
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)
    # integer targets equal one-hot probability targets
    t = onehot.argmax(-1)
    np.testing.assert_allclose(L.poly1_cross_entropy(z, t, axis=-1, reduction="none"),
                               L.poly1_cross_entropy(z, onehot, axis=-1, reduction="none"), rtol=1e-13)


def test_poly1_logits_1e4_finite():
    torch = _torch()
    z = _t([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    out = L.poly1_cross_entropy(z, torch.tensor([0, 0]), reduction="sum")
    np.testing.assert_allclose(out.item(), 2e4 + 2.0, rtol=1e-15)
    assert torch.isfinite(torch.autograd.grad(out, z)[0]).all()


def test_poly1_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="epsilon must be >= -1, got -2"):
        L.poly1_cross_entropy(z, np.zeros(3, dtype=int), epsilon=-2)
    with pytest.raises(ValueError, match=r"target must have shape \(3,\)"):
        L.poly1_cross_entropy(z, np.zeros((3, 1), dtype=int))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\]"):
        L.poly1_cross_entropy(z, np.array([0, 1, 7]))
    with pytest.raises(TypeError, match="read as class probabilities and must have input's shape"):
        L.poly1_cross_entropy(z, np.zeros(3))
    with pytest.raises(ValueError, match=r"weight must be a 1-D array of one weight per class, shape \(4,\)"):
        L.poly1_cross_entropy(z, np.zeros(3, dtype=int), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"target must hold class probabilities in \[0, 1\]"):
        L.poly1_cross_entropy(z, np.full((3, 4), 2.0))


# ------------------------------------------------------------------ distillation_loss
def test_distillation_matches_torch_kl_batchmean_t2():
    torch = _torch()
    F = torch.nn.functional
    s, t = RNG.normal(size=(6, 5)) * 2, RNG.normal(size=(6, 5)) * 2
    for T in (1.0, 2.0, 4.0):
        a, b, ta, tb = _t(s), _t(s), _t(t), _t(t)
        ours = L.distillation_loss(a, ta, temperature=T)
        theirs = F.kl_div(F.log_softmax(b / T, 1), F.softmax(tb / T, 1), reduction="batchmean") * T * T
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
        for g1, g2 in zip(torch.autograd.grad(ours, [a, ta]), torch.autograd.grad(theirs, [b, tb])):
            np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-12, atol=1e-12)


def test_distillation_with_hard_target_numpy_formula():
    s, t = RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5))
    y = RNG.integers(0, 5, size=(6,))
    T, alpha = 3.0, 0.25
    pt = _softmax(t / T)
    kl = (pt * (np.log(pt) - _log_softmax(s / T))).sum(1)
    ce = -_log_softmax(s)[np.arange(6), y]
    want = (alpha * T * T * kl + (1 - alpha) * ce).mean()
    np.testing.assert_allclose(L.distillation_loss(s, t, temperature=T, target=y, alpha=alpha), want, rtol=1e-13)
    # alpha defaults to 0.5 with a target
    np.testing.assert_allclose(L.distillation_loss(s, t, temperature=T, target=y),
                               (0.5 * T * T * kl + 0.5 * ce).mean(), rtol=1e-13)


def test_distillation_identical_logits_zero_and_seq_layout():
    s = RNG.normal(size=(4, 3, 5))
    np.testing.assert_allclose(L.distillation_loss(s, s, temperature=2.0), 0.0, atol=1e-15)
    t = RNG.normal(size=(4, 3, 5))
    per = L.distillation_loss(s, t, temperature=2.0, reduction="none")
    assert per.shape == (4, 5)
    last = L.distillation_loss(np.moveaxis(s, 1, -1), np.moveaxis(t, 1, -1), temperature=2.0, axis=-1,
                               reduction="none")
    np.testing.assert_allclose(per, last, rtol=1e-14)


def test_distillation_large_logits_finite():
    torch = _torch()
    s, t = _t([[1e4, -1e4, 0.0]]), _t([[-1e4, 1e4, 0.0]])
    out = L.distillation_loss(s, t, temperature=2.0)
    assert torch.isfinite(out)
    np.testing.assert_allclose(out.item(), 4.0 * 1e4, rtol=1e-12)
    assert all(torch.isfinite(g).all() for g in torch.autograd.grad(out, [s, t]))
    s32 = torch.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    t32 = torch.tensor([[-1e4, 1e4, 0.0]], requires_grad=True)
    out32 = L.distillation_loss(s32, t32, temperature=2.0)
    assert out32.dtype == torch.float32 and torch.isfinite(out32)
    assert all(torch.isfinite(g).all() for g in torch.autograd.grad(out32, [s32, t32]))


def test_distillation_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="alpha .* needs target"):
        L.distillation_loss(z, z, alpha=0.5)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        L.distillation_loss(z, z, temperature=0.0)
    with pytest.raises(ValueError, match="student_logits and teacher_logits must have the same shape"):
        L.distillation_loss(z, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"alpha must be <= 1"):
        L.distillation_loss(z, z, target=np.zeros(3, dtype=int), alpha=1.5)
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        L.distillation_loss(z, z, target=np.zeros(3))


# ------------------------------------------------------------------ temperature recipe
def test_temperature_scaled_cross_entropy_recipe():
    # documented recipe instead of a temperature= keyword: cross_entropy(logits / T, target)
    torch = _torch()
    F = torch.nn.functional
    z = RNG.normal(size=(6, 4)) * 3
    t = RNG.integers(0, 4, size=(6,))
    T = 2.5
    want = -_log_softmax(z / T, 1)[np.arange(6), t].mean()
    np.testing.assert_allclose(L.cross_entropy(z / T, t), want, rtol=1e-14)
    a, b = _t(z), _t(z)
    ours, theirs = L.cross_entropy(a / T, torch.tensor(t)), F.cross_entropy(b / T, torch.tensor(t))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(torch.autograd.grad(ours, a)[0].numpy(), torch.autograd.grad(theirs, b)[0].numpy(),
                               rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ generalized_cross_entropy
def test_gce_numpy_formula_and_limits():
    z = RNG.normal(size=(8, 5)) * 2
    t = RNG.integers(0, 5, size=(8,))
    p = _softmax(z)[np.arange(8), t]
    for q in (0.7, 0.3, 1.0):
        np.testing.assert_allclose(L.generalized_cross_entropy(z, t, q=q, reduction="none"), (1 - p**q) / q,
                                   rtol=1e-13)
    np.testing.assert_allclose(L.generalized_cross_entropy(z, t, q=1.0, reduction="none"), 1 - p, rtol=1e-13)
    np.testing.assert_allclose(L.generalized_cross_entropy(z, t, q=0.0), L.cross_entropy(z, t), rtol=1e-15)
    # q -> 0 tends to cross-entropy
    np.testing.assert_allclose(L.generalized_cross_entropy(z, t, q=1e-7), L.cross_entropy(z, t), rtol=1e-5)


def test_gce_keras_style_onehot_and_soft_targets():
    z = RNG.normal(size=(6, 4))
    y = np.eye(4)[RNG.integers(0, 4, size=(6,))]
    keras = (1 - (y * _softmax(z)).sum(-1) ** 0.7) / 0.7
    np.testing.assert_allclose(L.generalized_cross_entropy(z, y, axis=-1, reduction="none"), keras, rtol=1e-13)
    soft = RNG.uniform(size=(6, 4))
    soft /= soft.sum(-1, keepdims=True)
    want = (1 - (soft * _softmax(z)).sum(-1) ** 0.5) / 0.5
    np.testing.assert_allclose(L.generalized_cross_entropy(z, soft, q=0.5, axis=-1, reduction="none"), want,
                               rtol=1e-13)


def test_gce_weight_ignore_and_large_logits():
    torch = _torch()
    z = RNG.normal(size=(6, 3))
    t = np.array([0, 1, -100, 2, 1, 0])
    w = np.array([0.5, 2.0, 1.0])
    p = _softmax(z)[np.arange(6), np.where(t < 0, 0, t)]
    wt = np.where(t < 0, 0.0, w[np.where(t < 0, 0, t)])
    want = (wt * (1 - p**0.7) / 0.7).sum() / wt.sum()
    np.testing.assert_allclose(L.generalized_cross_entropy(z, t, weight=w), want, rtol=1e-13)
    a = _t([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    out = L.generalized_cross_entropy(a, torch.tensor([0, 0]), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [0.0, 1 / 0.7], atol=1e-15)
    assert torch.isfinite(torch.autograd.grad(out.sum(), a)[0]).all()


def test_gce_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="q must be <= 1, got 1.5"):
        L.generalized_cross_entropy(z, np.zeros(3, dtype=int), q=1.5)
    with pytest.raises(ValueError, match="weight is only supported with integer class targets"):
        L.generalized_cross_entropy(z, np.full((3, 4), 0.25), weight=np.ones(4))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\]"):
        L.generalized_cross_entropy(z, np.array([0, -3, 1]))


# ------------------------------------------------------------------ soft_f1_loss
def _np_f1(p, y, axis=None):
    tp, fp, fn = (p * y).sum(axis), (p * (1 - y)).sum(axis), ((1 - p) * y).sum(axis)
    return 1 - 2 * tp / (2 * tp + fp + fn + 1e-16)


def test_soft_f1_binary_and_macro_numpy():
    p = RNG.uniform(size=(8, 3))
    y = (RNG.uniform(size=(8, 3)) < 0.5).astype(float)
    np.testing.assert_allclose(L.soft_f1_loss(p, y), _np_f1(p, y), rtol=1e-14)
    np.testing.assert_allclose(L.soft_f1_loss(p, y, average="macro", reduction="none"), _np_f1(p, y, 0), rtol=1e-14)
    np.testing.assert_allclose(L.soft_f1_loss(p, y, average="macro"), _np_f1(p, y, 0).mean(), rtol=1e-14)
    np.testing.assert_allclose(L.soft_f1_loss(p, y, average="macro", reduction="sum"), _np_f1(p, y, 0).sum(),
                               rtol=1e-14)
    # hard predictions equal 1 - F1 (the literature F1)
    ph = (p > 0.5).astype(float)
    tp, fp, fn = (ph * y).sum(), (ph * (1 - y)).sum(), ((1 - ph) * y).sum()
    np.testing.assert_allclose(L.soft_f1_loss(ph, y, eps=0.0), 1 - 2 * tp / (2 * tp + fp + fn), rtol=1e-15)


def test_soft_f1_logits_axis_and_empty_class():
    torch = _torch()
    z = RNG.normal(size=(3, 6)) * 2
    y = (RNG.uniform(size=(3, 6)) < 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(L.soft_f1_loss(z, y, from_logits=True, average="macro", axis=0, reduction="none"),
                               _np_f1(p, y, 1), rtol=1e-13)
    a = _t(np.zeros((4, 2)))
    out = L.soft_f1_loss(a, _t(np.zeros((4, 2)), False), average="macro", eps=0.0, reduction="none")
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 1.0])
    assert torch.isfinite(torch.autograd.grad(out.sum(), a)[0]).all()


def test_soft_f1_errors():
    p = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"average must be one of \('binary', 'macro'\), got 'micro'"):
        L.soft_f1_loss(p, p, average="micro")
    with pytest.raises(ValueError, match=r"input must hold probabilities \(or from_logits=True\) in \[0, 1\]"):
        L.soft_f1_loss(p * 3, p)
    with pytest.raises(ValueError, match=r"target must hold labels in \[0, 1\]"):
        L.soft_f1_loss(p, p - 1)
    with pytest.raises(ValueError, match="axis must be an int"):
        L.soft_f1_loss(p, p, average="macro", axis=2)


# ------------------------------------------------------------------ honest edges (issue 10)
def test_distillation_target_must_be_an_integer_array():
    z = np.zeros((3, 4))
    with pytest.raises(TypeError, match=r"\btarget must be an array, got float"):
        L.distillation_loss(z, z, target=-1.0)
    with pytest.raises(TypeError, match=r"\btarget must hold integer class indices"):
        L.distillation_loss(z, z, target=np.zeros(3) + 0j)
    with pytest.raises(TypeError, match=r"\bteacher_logits must have a real dtype"):
        L.distillation_loss(z, z + 1j)
    with pytest.raises(TypeError, match=r"\balpha must be a real number"):
        L.distillation_loss(z, z, target=np.zeros(3, dtype=int), alpha="half")
    with pytest.raises(ValueError, match=r"\btemperature must be finite"):
        L.distillation_loss(z, z, temperature=float("inf"))


def test_soft_f1_checks_axis_and_flags_for_every_average():
    p = np.full((3, 2), 0.5)
    for average in ("binary", "macro"):
        with pytest.raises(ValueError, match=r"\baxis must be an int in \[-2, 1\]"):
            L.soft_f1_loss(p, p, average=average, axis=7)
    with pytest.raises(TypeError, match=r"\baxis must be an int or None"):
        L.soft_f1_loss(p, p, axis=True)
    with pytest.raises(TypeError, match=r"\bfrom_logits must be a bool"):
        L.soft_f1_loss(p, p, from_logits=1)
    with pytest.raises(ValueError, match=r"\beps must be >= 0"):
        L.soft_f1_loss(p, p, eps=-1.0)


def test_soft_f1_empty_batch():
    # binary: no element, no loss (the rule of every loss); macro: every label of an empty
    # batch is an empty class, loss 1 (the documented convention)
    torch = _torch()
    e = _t(np.zeros((0, 3)))
    assert torch.isnan(L.soft_f1_loss(e, _t(np.zeros((0, 3)), False)))
    out = L.soft_f1_loss(e, _t(np.zeros((0, 3)), False), reduction="sum")
    assert out.item() == 0.0
    assert torch.isfinite(torch.autograd.grad(out, e)[0]).all()
    assert L.soft_f1_loss(np.zeros((0, 3)), np.zeros((0, 3)), reduction="none").shape == (0,)
    np.testing.assert_array_equal(L.soft_f1_loss(np.zeros((0, 3)), np.zeros((0, 3)), average="macro",
                                                 reduction="none"), [1.0, 1.0, 1.0])


def test_soft_f1_nan_goes_through_under_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    p = np.full((3, 2), 0.5)
    p[0, 0] = np.nan
    y = np.ones((3, 2))
    out = jax.jit(lambda a: L.soft_f1_loss(a, jnp.asarray(y), average="macro", reduction="none"))(jnp.asarray(p))
    assert np.isnan(out[0]) and np.isfinite(out[1])  # only the label that reads it
    with pytest.raises(ValueError, match="input must hold probabilities"):  # eagerly: refused
        L.soft_f1_loss(p, y)


def test_gce_probability_targets_nan_under_jit():
    # log(y) of a NaN label is NaN, not -inf (the log-space p_t of probability targets)
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    z = RNG.normal(size=(2, 3))
    y = np.array([[np.nan, 0.5, 0.5], [0.2, 0.3, 0.5]])
    out = jax.jit(lambda t: L.generalized_cross_entropy(jnp.asarray(z), t, axis=-1, reduction="none"))(jnp.asarray(y))
    assert np.isnan(out[0]) and np.isfinite(out[1])


@pytest.mark.parametrize("name", ["poly1_cross_entropy", "generalized_cross_entropy"])
def test_class_weighted_mean_over(name):
    z = RNG.normal(size=(7, 4)) * 2
    t = RNG.integers(0, 4, size=(7,))
    t[3] = -100
    w = RNG.uniform(0.2, 2.0, size=(4,))
    fn = getattr(L, name)
    el = np.asarray(fn(z, t, reduction="none"))  # unweighted, 0 at the ignored position
    wt = np.where(t < 0, 0.0, w[np.where(t < 0, 0, t)])
    np.testing.assert_allclose(fn(z, t, weight=w), np.sum(wt * el) / np.sum(wt), rtol=1e-13)
    np.testing.assert_allclose(fn(z, t, weight=w, mean_over="elements"), np.sum(wt * el) / 7, rtol=1e-13)
    with pytest.raises(ValueError, match="mean_over must be one of"):
        fn(z, t, mean_over="nonzero")
    with pytest.raises(TypeError, match=r"\bignore_index must be an int"):
        fn(z, t, ignore_index=None)


def test_poly1_infinite_logits_like_torch_cross_entropy():
    torch = _torch()
    F = torch.nn.functional
    z = np.zeros((2, 3))
    z[0, 1] = np.inf  # a row holding +inf: NaN
    z[1, 0] = -np.inf  # the target's logit -inf: +inf
    t = torch.tensor([0, 0])
    want = F.cross_entropy(_t(z, False), t, reduction="none").numpy()
    for fn in (L.poly1_cross_entropy, L.generalized_cross_entropy):
        kw = {"epsilon": 0.0} if fn is L.poly1_cross_entropy else {"q": 0.0}
        np.testing.assert_array_equal(fn(_t(z, False), t, reduction="none", **kw).numpy(), want)
