"""Segmentation losses against independent float64 formulas of the papers and of the peers
(MONAI, segmentation_models_pytorch, optax, the Lovasz and boundary-loss reference code),
transcribed here from their documented semantics."""
from __future__ import annotations

import numpy as np
import pytest

import losses as L

RNG = np.random.default_rng(1234)


# ------------------------------------------------------------------------ NumPy helpers ----
def softmax(z, axis=1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def onehot(t, c):
    return np.moveaxis(np.eye(c)[t], -1, 1)


def data(n=4, c=3, spatial=(5, 6), seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c, *spatial)) * 2, rng.integers(0, c, size=(n, *spatial))


def monai_dice(p, g, *, include_background=True, squared_pred=False, jaccard=False, smooth_nr=1e-5,
               smooth_dr=1e-5, batch=False, weight=None):
    """MONAI DiceLoss (reduction='mean') on probabilities p and one-hot g, (N, C, ...)."""
    if not include_background:
        p, g = p[:, 1:], g[:, 1:]
    axes = tuple(range(2, p.ndim))
    if batch:
        axes = (0,) + axes
    inter = (p * g).sum(axes)
    den = (g * g).sum(axes) + (p * p).sum(axes) if squared_pred else g.sum(axes) + p.sum(axes)
    if jaccard:
        den = 2.0 * (den - inter)
    f = 1.0 - (2.0 * inter + smooth_nr) / (den + smooth_dr)
    if weight is not None:
        f = f * weight
    return f.mean()


def smp_score(p, g, kind, smooth=0.0, eps=1e-7, alpha=0.5, beta=0.5):
    """segmentation_models_pytorch soft scores over dims (0, 2) of (N, C, S) arrays."""
    dims = (0, 2)
    inter = (p * g).sum(dims)
    if kind == "dice":
        return (2 * inter + smooth) / np.maximum((p + g).sum(dims) + smooth, eps)
    if kind == "jaccard":
        return (inter + smooth) / np.maximum((p + g).sum(dims) - inter + smooth, eps)
    fp, fn = (p * (1 - g)).sum(dims), ((1 - p) * g).sum(dims)
    return (inter + smooth) / np.maximum(inter + alpha * fp + beta * fn + smooth, eps)


def smp_loss(z, t, kind, mode="multiclass", ignore_index=None, log_loss=False, classes=None, **kw):
    """smp DiceLoss / JaccardLoss / TverskyLoss (from_logits=True, gamma=1): per-class scores,
    ``1 - score`` or ``-log(clamp_min(score, 1e-7))``, absent classes zeroed, then the
    ``classes`` entries kept, then the mean."""
    n, c = z.shape[:2]
    p = softmax(z) if mode == "multiclass" else sigmoid(z)
    p = p.reshape(n, c, -1)
    if mode == "multiclass":
        tt = t.reshape(n, -1)
        if ignore_index is not None:
            m = tt != ignore_index
            p = p * m[:, None]
            g = np.moveaxis(np.eye(c)[np.where(m, tt, 0)], -1, 1) * m[:, None]
        else:
            g = np.moveaxis(np.eye(c)[tt], -1, 1)
    else:
        g = t.reshape(n, c, -1).astype(float)
    score = smp_score(p, g, kind, **kw)
    loss = -np.log(np.maximum(score, 1e-7)) if log_loss else 1 - score
    loss = loss * (g.sum((0, 2)) > 0)
    if classes is not None:
        loss = loss[list(classes)]
    return loss.mean()


# ------------------------------------------------------------------------------ values ----
@pytest.mark.parametrize("kw, monai_kw", [
    ({}, {}),
    ({"squared_denominator": True}, {"squared_pred": True}),
    ({"batch": True}, {"batch": True}),
    ({"include_background": False}, {"include_background": False}),
])
def test_dice_reproduces_monai(kw, monai_kw):
    z, t = data()
    got = L.dice_loss(z, t, smooth=1e-5, **kw)
    want = monai_dice(softmax(z), onehot(t, 3), **monai_kw)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_dice_monai_weight_is_mean_of_weighted_matrix():
    z, t = data()
    w = np.array([0.2, 1.0, 3.0])
    want = monai_dice(softmax(z), onehot(t, 3), weight=w)
    got_matrix = L.dice_loss(z, t, smooth=1e-5, weight=w, reduction="none")
    np.testing.assert_allclose(got_matrix.mean(), want, rtol=1e-12)
    # mean_over="elements" is MONAI's rule: the weighted matrix averaged over its entries
    np.testing.assert_allclose(L.dice_loss(z, t, smooth=1e-5, weight=w, mean_over="elements"), want, rtol=1e-12)
    # ours: sum(w l) / sum(w) over the matrix (docs/differences.md)
    l = L.dice_loss(z, t, smooth=1e-5, reduction="none")
    np.testing.assert_allclose(L.dice_loss(z, t, smooth=1e-5, weight=w), (l * w).sum() / (w.sum() * 4), rtol=1e-12)
    assert not np.isclose(L.dice_loss(z, t, smooth=1e-5, weight=w), want)


def test_jaccard_reproduces_monai_jaccard_with_half_smoothing():
    z, t = data()
    want = monai_dice(softmax(z), onehot(t, 3), jaccard=True, smooth_nr=1e-3, smooth_dr=1e-3)
    np.testing.assert_allclose(L.jaccard_loss(z, t, smooth=0.5e-3), want, rtol=1e-12)


@pytest.mark.parametrize("loss, kind, extra", [
    (L.dice_loss, "dice", {}),
    (L.jaccard_loss, "jaccard", {}),
    (L.tversky_loss, "tversky", {"alpha_fp": 0.3, "beta_fn": 0.7}),
])
def test_reproduces_smp_with_absent_class(loss, kind, extra):
    z, t = data(c=4)
    t = np.where(t == 3, 0, t)  # class 3 absent from the target
    smp_kw = {"alpha": extra["alpha_fp"], "beta": extra["beta_fn"]} if extra else {}
    want = smp_loss(z, t, kind, **smp_kw)
    got = loss(z, t, batch=True, mask_absent=True, **extra)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # without mask_absent the absent (but predicted) class counts with loss ~1
    assert loss(z, t, batch=True, **extra) > got


def test_dice_reproduces_smp_ignore_index_and_binary_multilabel():
    z, t = data()
    t = np.where(RNG.uniform(size=t.shape) < 0.2, 255, t)
    np.testing.assert_allclose(L.dice_loss(z, t, batch=True, mask_absent=True, ignore_index=255),
                               smp_loss(z, t, "dice", ignore_index=255), rtol=1e-12)
    zb = RNG.normal(size=(4, 1, 5, 6))
    tb = RNG.integers(0, 2, size=(4, 5, 6))
    np.testing.assert_allclose(L.dice_loss(zb, tb, mode="binary", batch=True, mask_absent=True),
                               smp_loss(zb, tb[:, None], "dice", mode="binary"), rtol=1e-12)
    tm = RNG.integers(0, 2, size=z.shape)
    np.testing.assert_allclose(L.dice_loss(z, tm, mode="multilabel", batch=True, mask_absent=True),
                               smp_loss(z, tm, "dice", mode="multilabel"), rtol=1e-12)


def test_dice_and_tversky_reproduce_optax():
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    z, t = data()
    zc, gc = jnp.asarray(np.moveaxis(z, 1, -1)), jnp.asarray(np.moveaxis(onehot(t, 3), 1, -1))
    want = float(optax.losses.dice_loss(zc, gc, smooth=1.0).mean())
    np.testing.assert_allclose(L.dice_loss(z, onehot(t, 3), smooth=2.0), want, rtol=1e-12)
    want = float(optax.losses.dice_loss(zc, gc, smooth=1.0, alpha=0.3, beta=0.7).mean())
    np.testing.assert_allclose(L.tversky_loss(z, t, alpha_fp=0.3, beta_fn=0.7, smooth=1.0), want, rtol=1e-12)


def test_tversky_special_cases_and_weight_names():
    z, t = data()
    np.testing.assert_allclose(L.tversky_loss(z, t, alpha_fp=0.5, beta_fn=0.5), L.dice_loss(z, t), rtol=1e-12)
    np.testing.assert_allclose(L.tversky_loss(z, t, alpha_fp=1, beta_fn=1), L.jaccard_loss(z, t), rtol=1e-12)
    # alpha_fp weighs false positives: a prediction that covers everything (many FP)
    zb = np.full((1, 1, 4, 4), 5.0)
    tb = np.zeros((1, 4, 4), dtype=int)
    tb[0, 0, 0] = 1
    assert L.tversky_loss(zb, tb, mode="binary", alpha_fp=0.9, beta_fn=0.1) > \
        L.tversky_loss(zb, tb, mode="binary", alpha_fp=0.1, beta_fn=0.9)


def test_focal_tversky_formula():
    z, t = data()
    p, g = softmax(z).reshape(4, 3, -1), onehot(t, 3).reshape(4, 3, -1)
    tp = (p * g).sum(-1)
    ti = tp / (tp + 0.3 * (p * (1 - g)).sum(-1) + 0.7 * ((1 - p) * g).sum(-1))
    np.testing.assert_allclose(L.focal_tversky_loss(z, t), ((1 - ti) ** 0.75).mean(), rtol=1e-12)
    np.testing.assert_allclose(L.focal_tversky_loss(z, t, gamma=1.0), L.tversky_loss(z, t), rtol=1e-12)


def test_focal_tversky_perfect_match_finite_gradient():
    torch = pytest.importorskip("torch")
    t = np.array([[[0, 1], [1, 0]]])
    z = torch.tensor(np.where(onehot(t, 2) == 1, 1e4, -1e4), requires_grad=True)
    out = L.focal_tversky_loss(z, torch.tensor(t))
    out.backward()
    assert out.item() == 0.0 and torch.isfinite(z.grad).all()


def monai_gdl(p, g, smooth=1e-5, batch=False, w_type="square"):
    axes = tuple(range(2, p.ndim)) if not batch else (0,) + tuple(range(2, p.ndim))
    inter = (p * g).sum(axes)
    go, po = g.sum(axes), p.sum(axes)
    with np.errstate(divide="ignore"):
        w = 1 / go ** 2 if w_type == "square" else (1 / go if w_type == "simple" else np.ones_like(go))
    infs = np.isinf(w)
    w[infs] = 0
    w = w + infs * (w.max() if batch else w.max(axis=1, keepdims=True))
    d = 0 if batch else 1
    f = 1 - (2 * (inter * w).sum(d) + smooth) / (((go + po) * w).sum(d) + smooth)
    return f.mean()


@pytest.mark.parametrize("kw", [{}, {"batch": True}, {"weight_type": "simple"}])
def test_generalized_dice_reproduces_monai_with_absent_class(kw):
    z, t = data(c=4)
    t = np.where(t == 2, 0, t)
    want = monai_gdl(softmax(z), onehot(t, 4), batch=kw.get("batch", False), w_type=kw.get("weight_type", "square"))
    got = L.generalized_dice_loss(z, t, smooth=1e-5, **kw)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_generalized_dice_sudre_formula_and_finite_gradient():
    torch = pytest.importorskip("torch")
    z, t = data()
    p, g = softmax(z).reshape(4, 3, -1), onehot(t, 3).reshape(4, 3, -1)
    w = 1 / g.sum(-1) ** 2
    want = (1 - 2 * (w * (p * g).sum(-1)).sum(-1) / (w * (p + g).sum(-1)).sum(-1)).mean()
    np.testing.assert_allclose(L.generalized_dice_loss(z, t), want, rtol=1e-12)
    zt = torch.tensor(z, requires_grad=True)
    L.generalized_dice_loss(zt, torch.tensor(np.zeros_like(t)), include_background=False).backward()
    assert torch.isfinite(zt.grad).all()


def test_empty_class_gives_zero_with_finite_gradients():
    torch = pytest.importorskip("torch")
    z, t = data()
    z[:, 2] = -1e4
    t = np.where(t == 2, 1, t)
    for loss in (L.dice_loss, L.jaccard_loss, L.tversky_loss, L.focal_tversky_loss):
        zt = torch.tensor(z, requires_grad=True)
        out = loss(zt, torch.tensor(t), reduction="none")
        assert torch.all(out[:, 2] == 0), loss.__name__
        out.sum().backward()
        assert torch.isfinite(zt.grad).all(), loss.__name__
    # MONAI's 1e-5 smoothing: a class absent from the target but predicted with a little mass
    # has a loss close to 1 (ours with smooth=1e-5 agrees; mask_absent=True gives 0)
    z2 = z.copy()
    z2[:, 2] = -8.0
    monai = monai_dice(softmax(z2), onehot(t, 3), weight=np.array([0, 0, 1.0])) * 3
    assert monai > 0.9
    l = L.dice_loss(z2, t, smooth=1e-5, reduction="none")
    np.testing.assert_allclose(l[:, 2].mean(), monai, rtol=1e-12)
    assert np.all(L.dice_loss(z2, t, mask_absent=True, reduction="none")[:, 2] == 0)


def test_extreme_logits_finite():
    torch = pytest.importorskip("torch")
    z, t = data()
    z = np.sign(z) * 1e4
    for loss in (L.dice_loss, L.jaccard_loss, L.tversky_loss, L.focal_tversky_loss, L.generalized_dice_loss,
                 L.lovasz_softmax_loss, L.dice_ce_loss):
        zt = torch.tensor(z, requires_grad=True)
        out = loss(zt, torch.tensor(t))
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(zt.grad).all(), loss.__name__


def test_dice_gradient_matches_torch_formula():
    torch = pytest.importorskip("torch")
    z, t = data()
    z1 = torch.tensor(z, requires_grad=True)
    L.dice_loss(z1, torch.tensor(t), smooth=0.5, squared_denominator=True).backward()
    z2 = torch.tensor(z, requires_grad=True)
    p = torch.softmax(z2, 1)
    g = torch.nn.functional.one_hot(torch.tensor(t), 3).permute(0, 3, 1, 2).double()
    inter = (p * g).sum((2, 3))
    ref = (1 - (2 * inter + 0.5) / ((p * p).sum((2, 3)) + (g * g).sum((2, 3)) + 0.5)).mean()
    ref.backward()
    torch.testing.assert_close(z1.grad, z2.grad, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- Lovasz ----
def lovasz_grad(gt_sorted):
    gts = gt_sorted.sum()
    inter = gts - np.cumsum(gt_sorted)
    union = gts + np.cumsum(1 - gt_sorted)
    jac = 1 - inter / union
    jac[1:] = jac[1:] - jac[:-1]
    return jac


def ref_lovasz_softmax_flat(p, y, classes="present"):
    """Berman et al.'s lovasz_softmax_flat: p (P, C), y (P,)."""
    if p.size == 0:
        return 0.0
    c = p.shape[1]
    losses = []
    for k in (range(c) if classes in ("all", "present") else classes):
        fg = (y == k).astype(float)
        if classes == "present" and fg.sum() == 0:
            continue
        err = np.abs(fg - p[:, k])
        order = np.argsort(-err, kind="stable")
        losses.append(np.dot(err[order], lovasz_grad(fg[order])))
    return np.mean(losses) if losses else 0.0


def ref_lovasz_softmax(probas, labels, classes="present", per_image=False, ignore=None):
    def flat(pr, lb):
        c = pr.shape[1]
        pr = np.moveaxis(pr, 1, -1).reshape(-1, c)
        lb = lb.reshape(-1)
        if ignore is not None:
            keep = lb != ignore
            pr, lb = pr[keep], lb[keep]
        return pr, lb
    if per_image:
        return np.mean([ref_lovasz_softmax_flat(*flat(p[None], l[None]), classes) for p, l in zip(probas, labels, strict=True)])
    return ref_lovasz_softmax_flat(*flat(probas, labels), classes)


@pytest.mark.parametrize("kw", [
    {}, {"per_image": True}, {"classes": "all"}, {"classes": [0, 2], "per_image": True},
    {"ignore_index": 255}, {"ignore_index": 255, "per_image": True},
])
def test_lovasz_softmax_reproduces_reference(kw):
    z, t = data()
    t = t.copy()
    t[0] = np.where(t[0] == 1, 0, t[0])  # class 1 absent from image 0
    if "ignore_index" in kw:
        t = np.where(RNG.uniform(size=t.shape) < 0.3, 255, t)
    p = softmax(z)
    want = ref_lovasz_softmax(p, t, kw.get("classes", "present"), kw.get("per_image", False), kw.get("ignore_index"))
    np.testing.assert_allclose(L.lovasz_softmax_loss(z, t, **kw), want, rtol=1e-12)
    np.testing.assert_allclose(L.lovasz_softmax_loss(p, t, from_logits=False, **kw), want, rtol=1e-12)


def test_lovasz_softmax_gradient_matches_torch_reference():
    torch = pytest.importorskip("torch")
    z, t = data()
    z1 = torch.tensor(z, requires_grad=True)
    L.lovasz_softmax_loss(z1, torch.tensor(t), per_image=True).backward()
    z2 = torch.tensor(z, requires_grad=True)
    p = torch.softmax(z2, 1)
    total = 0
    for i in range(4):
        pi, ti = p[i].reshape(3, -1), torch.tensor(t[i].reshape(-1))
        ls = []
        for k in range(3):
            fg = (ti == k).double()
            if fg.sum() == 0:
                continue
            err = (fg - pi[k]).abs()
            es, perm = torch.sort(err, descending=True, stable=True)
            ls.append(torch.dot(es, torch.tensor(lovasz_grad(fg[perm].numpy()))))
        total = total + sum(ls) / len(ls)
    (total / 4).backward()
    torch.testing.assert_close(z1.grad, z2.grad, rtol=1e-12, atol=1e-12)


def ref_lovasz_hinge(logits, labels, per_image=True, ignore=None):
    def flat(lg, lb):
        lg, lb = lg.reshape(-1), lb.reshape(-1)
        if ignore is not None:
            keep = lb != ignore
            lg, lb = lg[keep], lb[keep]
        if lg.size == 0:
            return 0.0
        err = 1 - lg * (2 * lb - 1)
        order = np.argsort(-err, kind="stable")
        return np.dot(np.maximum(err[order], 0), lovasz_grad(lb[order].astype(float)))
    if per_image:
        return np.mean([flat(a, b) for a, b in zip(logits, labels, strict=True)])
    return flat(logits, labels)


@pytest.mark.parametrize("kw", [{}, {"per_image": False}, {"ignore_index": 255}, {"ignore_index": 255, "per_image": False}])
def test_lovasz_hinge_reproduces_reference(kw):
    z = RNG.normal(size=(4, 5, 6)) * 2
    t = RNG.integers(0, 2, size=(4, 5, 6))
    if "ignore_index" in kw:
        t = np.where(RNG.uniform(size=t.shape) < 0.3, 255, t)
    want = ref_lovasz_hinge(z, t, kw.get("per_image", True), kw.get("ignore_index"))
    np.testing.assert_allclose(L.lovasz_hinge_loss(z, t, **kw), want, rtol=1e-12)
    assert L.lovasz_hinge_loss(z, t, reduction="none", **kw).shape == ((4,) if kw.get("per_image", True) else ())


def test_lovasz_hinge_gradient_matches_torch_reference():
    torch = pytest.importorskip("torch")
    z = RNG.normal(size=(3, 4, 4))
    t = RNG.integers(0, 2, size=(3, 4, 4))
    z1 = torch.tensor(z, requires_grad=True)
    L.lovasz_hinge_loss(z1, torch.tensor(t)).backward()
    z2 = torch.tensor(z, requires_grad=True)
    total = 0
    for i in range(3):
        lb = torch.tensor(t[i].reshape(-1)).double()
        err = 1 - z2[i].reshape(-1) * (2 * lb - 1)
        es, perm = torch.sort(err, descending=True, stable=True)
        total = total + torch.dot(torch.nn.functional.relu(es), torch.tensor(lovasz_grad(lb[perm].numpy())))
    (total / 3).backward()
    torch.testing.assert_close(z1.grad, z2.grad, rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------------- boundary ----
def test_signed_distance_map_pinned_values():
    t = np.zeros((1, 1, 5), dtype=int)
    t[0, 0, 2] = 1
    d = L.signed_distance_map(t, num_classes=2)
    np.testing.assert_array_equal(d[0, 1, 0], [2, 1, 0, 1, 2])
    np.testing.assert_array_equal(d[0, 0, 0], [-1, 0, 1, 0, -1])
    t = np.zeros((1, 1, 7), dtype=int)
    t[0, 0, 1:6] = 1
    np.testing.assert_array_equal(L.signed_distance_map(t, num_classes=2)[0, 1, 0], [1, 0, -1, -2, -1, 0, 1])
    # absent class and full mask -> zeros
    assert np.all(L.signed_distance_map(np.zeros((2, 3, 3), dtype=int), num_classes=2) == 0)


def test_signed_distance_map_brute_force_2d_and_spacing():
    m = np.zeros((6, 7), dtype=bool)
    m[1:4, 2:6] = True
    ii, jj = np.indices(m.shape)
    pts_in, pts_out = np.argwhere(m), np.argwhere(~m)
    want = np.zeros(m.shape)
    for i, j in np.ndindex(m.shape):
        if m[i, j]:
            want[i, j] = -(np.sqrt(((pts_out - [i, j]) ** 2).sum(1)).min() - 1)
        else:
            want[i, j] = np.sqrt(((pts_in - [i, j]) ** 2).sum(1)).min()
    got = L.signed_distance_map(m[None, None])
    np.testing.assert_allclose(got[0, 0], want, rtol=1e-12)
    sp = L.signed_distance_map(m[None, None], spacing=(2.0, 1.0))
    assert sp[0, 0, 5, 3] == 2 * got[0, 0, 5, 3]  # purely vertical distance doubles


def test_boundary_loss_reference_and_settings():
    z, t = data()
    dist = L.signed_distance_map(t, num_classes=3)
    p = softmax(z)
    np.testing.assert_allclose(L.boundary_loss(p, dist), (p[:, 1:] * dist[:, 1:]).mean(), rtol=1e-12)
    np.testing.assert_allclose(L.boundary_loss(p, dist, include_background=True), (p * dist).mean(), rtol=1e-12)
    np.testing.assert_allclose(L.boundary_loss(z, dist, from_logits=True), L.boundary_loss(p, dist), rtol=1e-12)
    # perfect prediction gives the minimum (negative) value
    perfect = L.boundary_loss(onehot(t, 3).astype(float), dist)
    assert perfect <= L.boundary_loss(p, dist)


# ---------------------------------------------------------------------- combinations ----
def test_dice_ce_reproduces_monai_dicece():
    torch = pytest.importorskip("torch")
    z, t = data()
    ce = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(t)).item()
    want = 0.4 * monai_dice(softmax(z), onehot(t, 3)) + 1.5 * ce
    np.testing.assert_allclose(L.dice_ce_loss(z, t, smooth=1e-5, lambda_dice=0.4, lambda_ce=1.5), want, rtol=1e-12)
    # binary: BCE with logits
    zb, tb = RNG.normal(size=(4, 1, 5, 6)), RNG.integers(0, 2, size=(4, 5, 6))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(zb), torch.tensor(tb[:, None]).double()).item()
    want = monai_dice(sigmoid(zb), tb[:, None].astype(float)) + bce
    np.testing.assert_allclose(L.dice_ce_loss(zb, tb, mode="binary", smooth=1e-5), want, rtol=1e-12)


def test_dice_ce_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    z, t = data()
    z1 = torch.tensor(z, requires_grad=True)
    L.dice_ce_loss(z1, torch.tensor(t), ce_weight=torch.tensor([0.3, 1.0, 2.0], dtype=torch.float64)).backward()
    z2 = torch.tensor(z, requires_grad=True)
    p = torch.softmax(z2, 1)
    g = torch.nn.functional.one_hot(torch.tensor(t), 3).permute(0, 3, 1, 2).double()
    dice = (1 - 2 * (p * g).sum((2, 3)) / (p.sum((2, 3)) + g.sum((2, 3)))).mean()
    ce = torch.nn.functional.cross_entropy(z2, torch.tensor(t), weight=torch.tensor([0.3, 1.0, 2.0], dtype=torch.float64))
    (dice + ce).backward()
    torch.testing.assert_close(z1.grad, z2.grad, rtol=1e-12, atol=1e-12)


def test_combo_loss_formula():
    z, t = RNG.normal(size=(4, 1, 5, 6)) * 3, RNG.integers(0, 2, size=(4, 5, 6))
    p, y = sigmoid(z), t[:, None].astype(float)
    alpha, beta = 0.7, 0.3
    wce = -(beta * y * np.log(p) + (1 - beta) * (1 - y) * np.log(1 - p)).mean()
    ax = (2, 3)
    dice = (1 - (2 * (p * y).sum(ax) + 1) / (p.sum(ax) + y.sum(ax) + 1)).mean()
    np.testing.assert_allclose(L.combo_loss(z, t, alpha=alpha, beta=beta), alpha * wce + (1 - alpha) * dice, rtol=1e-12)
    # the paper subtracts the Dice coefficient: ours minus (1 - alpha)
    paper = alpha * wce - (1 - alpha) * (1 - dice)
    np.testing.assert_allclose(L.combo_loss(z, t, alpha=alpha, beta=beta) - (1 - alpha), paper, rtol=1e-12)


@pytest.mark.parametrize("loss", [L.dice_ce_loss, L.combo_loss])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_combinations_return_0d_numpy_arrays(loss, reduction):
    """The sum of two reduced terms is a 0-d ``np.ndarray``, not a NumPy scalar; ``"none"`` is
    refused (the Dice and cross-entropy terms have different shapes)."""
    z, t = RNG.normal(size=(2, 1, 5, 6)), RNG.integers(0, 2, size=(2, 5, 6))
    out = loss(z, t, mode="binary", reduction=reduction)
    assert type(out) is np.ndarray and out.shape == () and out.dtype == np.float64
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss(z, t, mode="binary", reduction="none")


# -------------------------------------------------------------------- dtypes/backends ----
@pytest.mark.parametrize("loss", [L.dice_loss, L.generalized_dice_loss, L.lovasz_softmax_loss, L.dice_ce_loss])
def test_dtype_preserved(loss):
    torch = pytest.importorskip("torch")
    z, t = data()
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        out = loss(torch.tensor(z, dtype=dt), torch.tensor(t))
        assert out.dtype == dt
        np.testing.assert_allclose(out.double().item(), float(loss(z, t)), rtol=2e-2)


def test_jax_jit_matches_numpy():
    jax = pytest.importorskip("jax")
    z, t = data()
    for loss in (L.dice_loss, L.lovasz_softmax_loss, L.lovasz_hinge_loss):
        args = (z, t) if loss is not L.lovasz_hinge_loss else (z[:, 0], t % 2)
        got = jax.jit(loss)(*map(jax.numpy.asarray, args))
        np.testing.assert_allclose(float(got), float(loss(*args)), rtol=1e-12)


# ----------------------------------------------------------------------------- errors ----
def test_errors():
    z, t = data()
    with pytest.raises(ValueError, match="mode must be one of"):
        L.dice_loss(z, t, mode="softmax")
    with pytest.raises(ValueError, match=r"mode='binary' expects input of shape \(N, 1"):
        L.dice_loss(z, t, mode="binary")
    with pytest.raises(ValueError, match="needs a dense target"):
        L.dice_loss(z, t, mode="multilabel")
    with pytest.raises(ValueError, match=r"target must have input's shape .* or shape \(4, 5, 6\)"):
        L.dice_loss(z, t[:, :4])
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        L.dice_loss(z, t.astype(float))
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 2\]"):
        L.dice_loss(z, t + 1)
    with pytest.raises(ValueError, match=r"input must hold probabilities"):
        L.dice_loss(z, t, from_logits=False)
    with pytest.raises(ValueError, match=r"target must hold one-hot labels or probabilities in \[0, 1\]"):
        L.dice_loss(z, 2 * onehot(t, 3))
    with pytest.raises(ValueError, match=r"weight must hold one weight per class, shape \(3,\)"):
        L.dice_loss(z, t, weight=np.ones(4))
    with pytest.raises(ValueError, match="weight must be non-negative"):
        L.dice_loss(z, t, weight=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="smooth must be >= 0"):
        L.dice_loss(z, t, smooth=-1)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.jaccard_loss(z, t, reduction="batchmean")
    with pytest.raises(TypeError, match="batch must be a bool"):
        L.dice_loss(z, t, batch=1)
    for loss in (L.dice_loss, L.jaccard_loss, L.tversky_loss, L.focal_tversky_loss, L.generalized_dice_loss):
        with pytest.raises(TypeError, match="batch must be a bool"):
            loss(z, t, batch=1)
        with pytest.raises(TypeError, match="include_background must be a bool"):
            loss(z, t, include_background=0)
        with pytest.raises(TypeError, match="ignore_index must be an int or None"):
            loss(z, t, ignore_index=2.0)
        with pytest.raises(ValueError, match="reduction must be one of"):
            loss(z, t, reduction="avg")
        if loss is not L.generalized_dice_loss:
            with pytest.raises(TypeError, match="mask_absent must be a bool"):
                loss(z, t, mask_absent=None)
    with pytest.raises(TypeError, match="squared_denominator must be a bool"):
        L.dice_loss(z, t, squared_denominator=1)
    with pytest.raises(ValueError, match=r"lovasz_softmax_loss: input must have shape \(N, C, \*spatial\)"):
        L.lovasz_softmax_loss(z[0, 0, 0], t[0, 0])
    with pytest.raises(ValueError, match="alpha_fp must be >= 0"):
        L.tversky_loss(z, t, alpha_fp=-0.1)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        L.focal_tversky_loss(z, t, gamma=0)
    with pytest.raises(ValueError, match="weight_type must be one of"):
        L.generalized_dice_loss(z, t, weight_type="log")
    with pytest.raises(ValueError, match="classes must be 'present', 'all' or a non-empty sequence"):
        L.lovasz_softmax_loss(z, t, classes=[5])
    with pytest.raises(ValueError, match="classes must be one of"):
        L.lovasz_softmax_loss(z, t, classes="some")
    with pytest.raises(ValueError, match=r"target must hold binary labels in \[0, 1\]"):
        L.lovasz_hinge_loss(z[:, 0], t)
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.lovasz_hinge_loss(z[:, 0], t[:, :3])
    with pytest.raises(ValueError, match="input and distance_maps must have the same shape"):
        L.boundary_loss(z, z[:, :2])
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.dice_ce_loss(z, t, reduction="none")
    with pytest.raises(ValueError, match="ce_weight applies to mode='multiclass' only"):
        L.dice_ce_loss(z[:, :1], t % 2, mode="binary", ce_weight=np.ones(1))
    with pytest.raises(ValueError, match="mode must be one of"):
        L.combo_loss(z, t, mode="multiclass")
    with pytest.raises(ValueError, match="alpha must be <= 1"):
        L.combo_loss(z[:, :1], t % 2, alpha=2)
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 1\]"):
        L.signed_distance_map(t, num_classes=2)
    with pytest.raises(ValueError, match="spacing must be a positive number"):
        L.signed_distance_map(t, num_classes=3, spacing=(1.0, -1.0))


# --------------------------------------------------------------------- honest edges (#10) ----
OVERLAP = (L.dice_loss, L.jaccard_loss, L.tversky_loss, L.focal_tversky_loss, L.generalized_dice_loss)


def keras_tversky(y_true, y_pred, alpha, beta):
    """keras.losses.tversky as released in Keras 3 (keras/src/losses/losses.py), transcribed:
    ``inputs = y_true``, ``targets = y_pred`` flattened over the whole batch,
    ``fp = sum((1 - targets) * inputs)`` (the missed foreground: false negatives in the usual
    naming) weighted by ``alpha``, ``fn = sum(targets * (1 - inputs))`` (false positives)
    weighted by ``beta``, and ``backend.epsilon() = 1e-7`` in the denominator only."""
    inputs, targets = y_true.reshape(-1), y_pred.reshape(-1)
    intersection = (inputs * targets).sum()
    fp = ((1 - targets) * inputs).sum()
    fn = (targets * (1 - inputs)).sum()
    return 1 - intersection / (intersection + fp * alpha + fn * beta + 1e-7)


def test_tversky_keras_swaps_alpha_and_beta():
    """Keras's alpha multiplies the false negatives: Tversky(alpha=a, beta=b) is ours with
    alpha_fp=b, beta_fn=a (pooled over the batch, up to Keras's 1e-7)."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0.6, 0.95, size=(3, 1, 4, 5))  # over-predicts: false positives dominate
    y = rng.integers(0, 2, size=(3, 4, 5))
    want = keras_tversky(y[:, None].astype(float), p, alpha=0.3, beta=0.7)
    got = L.tversky_loss(p, y, mode="binary", from_logits=False, batch=True, alpha_fp=0.7, beta_fn=0.3)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    by_name = L.tversky_loss(p, y, mode="binary", from_logits=False, batch=True, alpha_fp=0.3, beta_fn=0.7)
    assert abs(float(by_name) - want) > 1e-3


@pytest.mark.parametrize("loss", OVERLAP + (L.lovasz_softmax_loss, L.dice_ce_loss))
def test_empty_batch_mean_nan_sum_zero_none_empty(loss):
    torch = pytest.importorskip("torch")
    z = torch.zeros((0, 3, 3, 4), dtype=torch.float64, requires_grad=True)
    t = torch.zeros((0, 3, 4), dtype=torch.int64)
    assert torch.isnan(loss(z, t, reduction="mean"))
    out = loss(z, t, reduction="sum")
    assert out.item() == 0.0
    out.backward()
    assert z.grad.shape == z.shape
    if loss is not L.dice_ce_loss:
        assert loss(z, t, reduction="none").numel() == 0


@pytest.mark.parametrize("per_image", [True, False])
def test_lovasz_empty_batch_has_no_group(per_image):
    """per_image=False pools the pixels of the batch into one loss; an empty batch has none:
    NaN mean, zero sum, an empty (0,) "none" (the reference returns an empty tensor)."""
    z, t = np.zeros((0, 3, 2, 3)), np.zeros((0, 2, 3), dtype=int)
    for loss, args in ((L.lovasz_softmax_loss, (z, t)), (L.lovasz_hinge_loss, (z[:, 0], t))):
        assert np.isnan(loss(*args, per_image=per_image))
        assert loss(*args, per_image=per_image, reduction="sum") == 0
        assert loss(*args, per_image=per_image, reduction="none").shape == (0,)
    # a non-empty batch keeps the 0-d pooled loss
    assert L.lovasz_softmax_loss(*data(n=2), reduction="none").shape == ()


def test_boundary_loss_empty_batch():
    z = np.zeros((0, 3, 3, 4))
    assert np.isnan(L.boundary_loss(z, z))
    assert L.boundary_loss(z, z, reduction="sum") == 0
    assert L.boundary_loss(z, z, reduction="none").shape == (0, 2, 3, 4)


def test_nan_target_goes_through_absent_class_masks_under_jit():
    """Value checks refuse a NaN target eagerly; under jit (no value checks) the NaN must come
    out of the mask_absent and generalised-Dice weight masks instead of a number."""
    jax = pytest.importorskip("jax")
    z, t = data(n=2)
    g = onehot(t, 3)
    g[0, 1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="target"):
        L.dice_loss(z, g, mask_absent=True)
    jz, jg = jax.numpy.asarray(z), jax.numpy.asarray(g)
    out = jax.jit(lambda a, b: L.dice_loss(a, b, mask_absent=True, reduction="none"))(jz, jg)
    assert np.isnan(out[0, 1]) and np.isfinite(out[1]).all()
    out = jax.jit(lambda a, b: L.dice_loss(a, b, batch=True, mask_absent=True, reduction="none"))(jz, jg)
    assert np.isnan(out[1])
    out = jax.jit(lambda a, b: L.generalized_dice_loss(a, b, reduction="none"))(jz, jg)
    assert np.isnan(out[0]) and np.isfinite(out[1])


@pytest.mark.parametrize("loss", OVERLAP + (L.lovasz_softmax_loss,))
def test_nan_logit_gives_nan_and_ignored_pixel_is_silenced(loss):
    z, t = data(n=2)
    bad = z.copy()
    bad[1, 0, 2, 3] = np.nan
    kw = {"per_image": True} if loss is L.lovasz_softmax_loss else {}
    assert np.isnan(loss(bad, t, **kw))
    # the same pixel ignored: prediction and target are removed there (rule 10), so the loss
    # is the one with any finite logit at that pixel
    ti = t.copy()
    ti[1, 2, 3] = 255
    got = loss(bad, ti, ignore_index=255, **kw)
    fine = z.copy()
    fine[1, :, 2, 3] = 7.0
    np.testing.assert_allclose(got, loss(fine, ti, ignore_index=255, **kw), rtol=1e-12)
    assert np.isfinite(got)


def test_dice_ignored_pixel_nan_matches_smp_formula():
    z, t = data()
    t = np.where(RNG.uniform(size=t.shape) < 0.2, 255, t)
    bad = z.copy()
    i = np.argwhere(t == 255)[0]
    bad[i[0], :, i[1], i[2]] = np.nan
    want = smp_loss(np.where(np.isnan(bad), 0.0, bad), t, "dice", ignore_index=255)
    np.testing.assert_allclose(L.dice_loss(bad, t, batch=True, mask_absent=True, ignore_index=255), want,
                               rtol=1e-12)


def test_focal_tversky_and_lovasz_hinge_nan_through():
    z, t = data(n=2)
    z[0, 1, 1, 1] = np.nan
    out = L.focal_tversky_loss(z, t, reduction="none")
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()  # softmax row: every class of sample 0
    zh = RNG.normal(size=(3, 4, 5))
    th = RNG.integers(0, 2, size=(3, 4, 5))
    zh[1, 2, 2] = np.nan
    out = L.lovasz_hinge_loss(zh, th, reduction="none")
    assert np.isnan(out[1]) and np.isfinite(out[[0, 2]]).all()
    assert np.isnan(L.lovasz_hinge_loss(zh, th, per_image=False))


@pytest.mark.parametrize("loss", OVERLAP + (L.lovasz_softmax_loss, L.dice_ce_loss))
def test_torch_func_vmap_per_sample(loss):
    """Plain torch.func.vmap (no grad around it) works and maps per sample: each sample is a
    batch of C images with C classes (the one-hot is built without moveaxis)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z, t = rng.normal(size=(4, 3, 3, 5)), rng.integers(0, 3, size=(4, 3, 5))
    kw = {"per_image": True, "reduction": "none"} if loss is L.lovasz_softmax_loss else {}
    want = np.stack([np.asarray(loss(z[i], t[i], **kw)) for i in range(4)])
    got = torch.func.vmap(lambda a, b: loss(a, b, **kw))(torch.tensor(z), torch.tensor(t))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    jax = pytest.importorskip("jax")
    got = jax.vmap(lambda a, b: loss(a, b, **kw))(jax.numpy.asarray(z), jax.numpy.asarray(t))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6 if got.dtype == np.float32 else 1e-12)


def test_dice_ce_binary_ignore_index_averages_kept_pixels():
    """The BCE term of dice_ce_loss with ignore_index is torch's BCE-with-logits averaged over
    the kept pixels only (independent of binary_cross_entropy_with_logits's weighted mean)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    zb = RNG.normal(size=(3, 1, 4, 5))
    tb = np.where(RNG.uniform(size=(3, 4, 5)) < 0.3, 9, RNG.integers(0, 2, size=(3, 4, 5)))
    keep = tb != 9
    zk = torch.tensor(zb[:, 0][keep])
    bce = F.binary_cross_entropy_with_logits(zk, torch.tensor(tb[keep]).double()).item()
    dice = L.dice_loss(zb, tb, mode="binary", ignore_index=9)
    np.testing.assert_allclose(L.dice_ce_loss(zb, tb, mode="binary", ignore_index=9), dice + bce, rtol=1e-12)
    bce_sum = F.binary_cross_entropy_with_logits(zk, torch.tensor(tb[keep]).double(), reduction="sum").item()
    np.testing.assert_allclose(L.dice_ce_loss(zb, tb, mode="binary", ignore_index=9, reduction="sum"),
                               L.dice_loss(zb, tb, mode="binary", ignore_index=9, reduction="sum") + bce_sum,
                               rtol=1e-12)


def test_mean_over_elements_is_weighted_matrix_mean():
    z, t = data()
    w = np.array([0.0, 1.0, 3.0])
    for loss in (L.dice_loss, L.jaccard_loss, L.tversky_loss, L.focal_tversky_loss):
        l = loss(z, t, reduction="none")
        np.testing.assert_allclose(loss(z, t, weight=w, mean_over="elements"), (l * w).mean(), rtol=1e-12)
        np.testing.assert_allclose(loss(z, t, weight=w), (l * w).sum() / (4 * w.sum()), rtol=1e-12)
        np.testing.assert_allclose(loss(z, t, mean_over="elements"), l.mean(), rtol=1e-12)  # no weight: no effect
        with pytest.raises(ValueError, match="mean_over must be one of"):
            loss(z, t, mean_over="valid")


def test_boundary_loss_accepts_integer_distance_maps():
    z, t = data()
    dist = L.signed_distance_map(t, num_classes=3)
    rounded = np.round(dist)
    p = softmax(z)
    np.testing.assert_allclose(L.boundary_loss(p, rounded.astype(np.int64)), (p[:, 1:] * rounded[:, 1:]).mean(),
                               rtol=1e-12)


def test_every_argument_dtype_and_hyper_parameter_checked():
    torch = pytest.importorskip("torch")
    z, t = data(n=2)
    zt, tt = torch.tensor(z), torch.tensor(t)
    g = torch.tensor(onehot(t, 3))
    # complex anywhere: a TypeError naming the argument, before any value check (torch's
    # min/max of a complex tensor would raise NotImplementedError)
    with pytest.raises(TypeError, match=r"\btarget must have a real dtype"):
        L.dice_loss(zt, g + 0j)
    with pytest.raises(TypeError, match=r"\bweight must have a real dtype"):
        L.dice_loss(zt, tt, weight=torch.tensor([1, 2, 3j]))
    with pytest.raises(TypeError, match=r"\bce_weight must have a real dtype"):
        L.dice_ce_loss(zt, tt + 7, ce_weight=torch.tensor([1, 2, 3j]))  # (before the index check)
    with pytest.raises(TypeError, match=r"\btarget must have a real dtype"):
        L.lovasz_hinge_loss(zt[:, 0], tt % 2 + 0j)
    with pytest.raises(TypeError, match=r"\bdistance_maps must have a real dtype"):
        L.boundary_loss(zt, zt * 1j)
    # lists, numbers and mixed frameworks name the argument
    with pytest.raises(TypeError, match=r"\binput\b"):
        L.dice_loss(z.tolist(), t)
    with pytest.raises(TypeError, match=r"\btarget\b"):
        L.lovasz_softmax_loss(z, t.tolist())
    with pytest.raises(TypeError, match=r"\bweight must be an array"):
        L.dice_loss(z, t, weight=2.0)
    with pytest.raises(TypeError, match=r"\btarget must be an array"):
        L.dice_loss(z, 1.0)
    # hyper-parameters: type, NaN, inf and range, each named
    for kw, exc, name in [({"smooth": np.inf}, ValueError, "smooth"), ({"smooth": np.nan}, TypeError, "smooth"),
                          ({"smooth_dr": -1.0}, ValueError, "smooth_dr"), ({"smooth": "1"}, TypeError, "smooth")]:
        with pytest.raises(exc, match=rf"\b{name} must"):
            L.dice_loss(z, t, **kw)
    with pytest.raises(ValueError, match="alpha_fp must be finite"):
        L.tversky_loss(z, t, alpha_fp=np.inf)
    with pytest.raises(ValueError, match="beta_fn must be finite"):
        L.focal_tversky_loss(z, t, beta_fn=np.inf)
    with pytest.raises(ValueError, match="gamma must be finite"):
        L.focal_tversky_loss(z, t, gamma=np.inf)
    with pytest.raises(ValueError, match="lambda_ce must be finite"):
        L.dice_ce_loss(z, t, lambda_ce=np.inf)
    with pytest.raises(TypeError, match="lambda_dice must be a real number"):
        L.dice_ce_loss(z, t, lambda_dice=None)
    with pytest.raises(TypeError, match="per_image must be a bool"):
        L.lovasz_hinge_loss(z[:, 0], t % 2, per_image=1)
    with pytest.raises(TypeError, match="from_logits must be a bool"):
        L.boundary_loss(z, z, from_logits="yes")


def test_signed_distance_map_argument_checks():
    t = np.zeros((1, 3, 4), dtype=int)
    t[0, 1, 1] = 1
    with pytest.raises(TypeError, match="dtype must be a real NumPy floating dtype"):
        L.signed_distance_map(t, num_classes=2, dtype="int64")
    with pytest.raises(TypeError, match="dtype must be a real NumPy floating dtype"):
        L.signed_distance_map(t, num_classes=2, dtype="bogus")
    assert L.signed_distance_map(t, num_classes=2, dtype="float32").dtype == np.float32
    with pytest.raises(ValueError, match="spacing must be a positive number"):
        L.signed_distance_map(t, num_classes=2, spacing=np.nan)
    with pytest.raises(ValueError, match="spacing must be a positive number"):
        L.signed_distance_map(t, num_classes=2, spacing="abc")
    with pytest.raises(TypeError, match="num_classes must be an int"):
        L.signed_distance_map(t, num_classes=2.0)
    with pytest.raises(TypeError, match="target of class indices must have an integer dtype"):
        L.signed_distance_map(t.astype(float), num_classes=2)
    with pytest.raises(TypeError, match="target must have a real dtype"):
        L.signed_distance_map(t[:, None] + 0j)
    with pytest.raises(ValueError, match="must not hold NaN"):
        L.signed_distance_map(np.where(t[:, None] == 1, np.nan, 0.0))


# ------------------------------------------------- MONAI DiceFocal / MaskedDice, MCC (smp) ----
def _monai(name):
    monai_losses = pytest.importorskip("monai.losses")
    return getattr(monai_losses, name)


def _torch_pair(z, t):
    torch = pytest.importorskip("torch")
    return torch.tensor(z, requires_grad=True), torch.tensor(t)


def _assert_same_value_and_grad(ours, theirs, z, rtol):
    """``ours(zt)``, ``theirs(zt)`` on copies of the same float64 logits: values and grads."""
    torch = pytest.importorskip("torch")
    z1, z2 = torch.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    a, b = ours(z1), theirs(z2)
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=rtol)
    np.testing.assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)


def seg_data_absent(n=3, c=4, spatial=(5, 6), seed=7):
    """Logits and labels with class c-1 absent from sample 0."""
    z, t = data(n=n, c=c, spatial=spatial, seed=seed)
    t[0] = np.where(t[0] == c - 1, 0, t[0])
    return z, t


@pytest.mark.parametrize("kw, monai_kw", [
    ({}, {}),
    ({"gamma": 1.5, "lambda_dice": 0.3, "lambda_focal": 2.0}, {"gamma": 1.5, "lambda_dice": 0.3, "lambda_focal": 2.0}),
    ({"gamma": 0.5, "alpha": 0.25}, {"gamma": 0.5, "alpha": 0.25}),
    ({"include_background": False}, {"include_background": False}),
    ({"batch": True, "squared_denominator": True}, {"batch": True, "squared_pred": True}),
    ({"weight": [0.5, 1.0, 2.0, 3.0], "mean_over": "elements"}, {"weight": [0.5, 1.0, 2.0, 3.0]}),
])
def test_dice_focal_reproduces_monai_softmax(kw, monai_kw):
    """MONAI DiceFocalLoss(softmax=True, to_onehot_y=True): softmax Dice + sigmoid focal per
    channel, values and gradients (MONAI's focal term runs in float32: rtol 1e-6)."""
    torch = pytest.importorskip("torch")
    DiceFocalLoss = _monai("DiceFocalLoss")
    z, t = seg_data_absent()
    tt = torch.tensor(t)
    kw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
    peer = DiceFocalLoss(softmax=True, to_onehot_y=True, **monai_kw)
    _assert_same_value_and_grad(lambda x: L.dice_focal_loss(x, tt, smooth=1e-5, **kw),
                                lambda x: peer(x, tt[:, None]), z, rtol=1e-6)


def test_dice_focal_reproduces_monai_sigmoid_multilabel_and_formula():
    torch = pytest.importorskip("torch")
    DiceFocalLoss = _monai("DiceFocalLoss")
    z, _ = data(seed=3)
    y = RNG.integers(0, 2, size=z.shape).astype(np.float64)
    y[1, 2] = 0  # channel 2 empty in sample 1
    yt = torch.tensor(y)
    peer = DiceFocalLoss(sigmoid=True, gamma=2.0)
    _assert_same_value_and_grad(lambda x: L.dice_focal_loss(x, yt, mode="multilabel", smooth=1e-5),
                                lambda x: peer(x, yt), z, rtol=1e-6)
    # independent float64 formula: Dice (per sample, sigmoid) + mean sigmoid focal (gamma 2)
    p = sigmoid(z)
    dice = monai_dice(p, y, smooth_nr=0.0, smooth_dr=0.0)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pt = y * p + (1 - y) * (1 - p)
    focal = ((1 - pt) ** 2 * bce).mean()
    np.testing.assert_allclose(L.dice_focal_loss(z, y, mode="multilabel"), dice + focal, rtol=1e-12)


@pytest.mark.parametrize("kw, monai_kw", [
    ({}, {}),
    ({"gamma": 1.5, "alpha": 0.3, "lambda_focal": 2.0}, {"gamma": 1.5, "alpha": 0.3, "lambda_focal": 2.0}),
    ({"include_background": False, "batch": True}, {"include_background": False, "batch": True}),
    ({"weight": [0.5, 1.0, 2.0, 3.0]}, {"weight": [0.5, 1.0, 2.0, 3.0]}),
])
def test_dice_focal_sum_reproduces_monai(kw, monai_kw):
    """MONAI DiceFocalLoss(reduction="sum"): its focal term averages every (sample, channel)
    over the pixels, then sums: focal_spatial_mean=True (MONAI's focal term in float32)."""
    torch = pytest.importorskip("torch")
    DiceFocalLoss = _monai("DiceFocalLoss")
    z, t = seg_data_absent()
    tt = torch.tensor(t)
    kw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
    peer = DiceFocalLoss(softmax=True, to_onehot_y=True, reduction="sum", **monai_kw)
    _assert_same_value_and_grad(
        lambda x: L.dice_focal_loss(x, tt, smooth=1e-5, reduction="sum", focal_spatial_mean=True, **kw),
        lambda x: peer(x, tt[:, None]), z, rtol=1e-6)
    # without it, the focal sum is over every pixel: S = 30 times MONAI's
    assert abs(float(L.dice_focal_loss(torch.tensor(z), tt, smooth=1e-5, reduction="sum", **kw))
               - float(peer(torch.tensor(z), tt[:, None]))) > 1.0
    y = torch.tensor(RNG.integers(0, 2, size=z.shape).astype(np.float64))
    peer = DiceFocalLoss(sigmoid=True, reduction="sum", **monai_kw)
    _assert_same_value_and_grad(
        lambda x: L.dice_focal_loss(x, y, mode="multilabel", smooth=1e-5, reduction="sum", focal_spatial_mean=True,
                                    **kw),
        lambda x: peer(x, y), z, rtol=1e-6)


def test_dice_focal_spatial_mean_formula_ignore_index_and_errors():
    """focal_spatial_mean: the per-(n, c) mean over the kept pixels, then the reduction
    (independent float64 formula); a sample whose pixels are all ignored adds 0."""
    z, t = data(seed=5)
    t = np.where(RNG.uniform(size=t.shape) < 0.25, 255, t)
    t[1] = 255  # nothing kept in sample 1
    keep = t != 255
    p, y = sigmoid(z), onehot(np.where(keep, t, 0), 3)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pt = y * p + (1 - y) * (1 - p)
    fl = (1 - pt) ** 1.5 * bce * keep[:, None]
    count = keep.sum((1, 2))[:, None]
    per_nc = np.where(count > 0, fl.sum((2, 3)) / np.maximum(count, 1), 0.0)
    for reduction, focal in (("sum", per_nc.sum()), ("mean", per_nc.mean())):
        dice = L.dice_loss(z, t, ignore_index=255, reduction=reduction)
        got = L.dice_focal_loss(z, t, ignore_index=255, reduction=reduction, gamma=1.5, focal_spatial_mean=True)
        np.testing.assert_allclose(got, dice + focal, rtol=1e-12)
    # without ignored pixels and reduction="mean", the mean of the means is the mean
    z, t = data(seed=6)
    np.testing.assert_allclose(L.dice_focal_loss(z, t, focal_spatial_mean=True), L.dice_focal_loss(z, t),
                               rtol=1e-13)
    with pytest.raises(TypeError, match="focal_spatial_mean"):
        L.dice_focal_loss(z, t, focal_spatial_mean=1)


@pytest.mark.parametrize("alpha", [None, 0.3])
def test_focal_losses_reproduce_monai_focal_sum(alpha):
    """MONAI FocalLoss(reduction="sum") sums the per-(sample, channel) means over the S
    pixels: sigmoid_focal_loss(z, y, weight=1/S, reduction="sum"), and with use_softmax=True
    softmax_focal_loss(z, t, weight=[1 - a, a, ..., a] / S, reduction="sum") (docs/segmentation.md)."""
    torch = pytest.importorskip("torch")
    FocalLoss = _monai("FocalLoss")
    z, t = seg_data_absent()
    S = t[0].size
    y = torch.tensor(onehot(t, z.shape[1]))
    cw = np.array([0.5, 1.0, 2.0, 3.0])
    peer = FocalLoss(reduction="sum", gamma=1.5, alpha=alpha, weight=cw.tolist())
    w = torch.tensor(cw.reshape(1, -1, 1, 1) / S)
    _assert_same_value_and_grad(
        lambda x: L.sigmoid_focal_loss(x, y, alpha=-1 if alpha is None else alpha, gamma=1.5, weight=w, reduction="sum"),
        lambda x: peer(x, y), z, rtol=1e-6)
    # reduction="mean" is the mean over every element
    _assert_same_value_and_grad(
        lambda x: L.sigmoid_focal_loss(x, y, alpha=-1 if alpha is None else alpha, gamma=1.5),
        lambda x: FocalLoss(gamma=1.5, alpha=alpha)(x, y), z, rtol=1e-6)
    tt = torch.tensor(t)
    peer = FocalLoss(reduction="sum", gamma=1.5, alpha=alpha, use_softmax=True, to_onehot_y=True)
    a = np.ones(z.shape[1]) if alpha is None else np.array([1 - alpha] + [alpha] * (z.shape[1] - 1))
    _assert_same_value_and_grad(
        lambda x: L.softmax_focal_loss(x, tt, gamma=1.5, weight=torch.tensor(a / S), reduction="sum"),
        lambda x: peer(x, tt[:, None]), z, rtol=1e-6)


def test_dice_focal_ignore_index_and_sum():
    """ignore_index removes the pixels from both terms: the focal mean is over the kept
    pixels' channels (independent formula; MONAI's DiceFocalLoss has no ignore_index)."""
    z, t = data(seed=4)
    t = np.where(RNG.uniform(size=t.shape) < 0.25, 255, t)
    keep = t != 255
    p, y = sigmoid(z), onehot(np.where(keep, t, 0), 3)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pt = y * p + (1 - y) * (1 - p)
    fl = (1 - pt) ** 2 * bce * keep[:, None]
    dice_m = L.dice_loss(z, t, ignore_index=255)
    np.testing.assert_allclose(L.dice_focal_loss(z, t, ignore_index=255),
                               dice_m + fl.sum() / (3 * keep.sum()), rtol=1e-12)
    dice_s = L.dice_loss(z, t, ignore_index=255, reduction="sum")
    np.testing.assert_allclose(L.dice_focal_loss(z, t, ignore_index=255, reduction="sum", lambda_focal=0.5),
                               dice_s + 0.5 * fl.sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.dice_focal_loss(z, t, reduction="none")
    with pytest.raises(ValueError, match="alpha must be <= 1"):
        L.dice_focal_loss(z, t, alpha=1.5)
    with pytest.raises(ValueError, match="lambda_focal must be >= 0"):
        L.dice_focal_loss(z, t, lambda_focal=-1.0)


@pytest.mark.parametrize("kw", [{}, {"batch": True, "include_background": False}, {"squared_denominator": True}])
def test_masked_dice_reproduces_monai(kw):
    """MONAI MaskedDiceLoss(softmax=True) on a one-hot target, per-sample and shared masks,
    values and gradients; a mask of ones is dice_loss."""
    torch = pytest.importorskip("torch")
    MaskedDiceLoss = _monai("MaskedDiceLoss")
    z, t = seg_data_absent()
    g = torch.tensor(onehot(t, 4))
    mkw = {"squared_pred" if k == "squared_denominator" else k: v for k, v in kw.items()}
    peer = MaskedDiceLoss(softmax=True, **mkw)
    for mask in ((RNG.uniform(size=(3, 1, 5, 6)) < 0.6).astype(np.float64), RNG.uniform(size=(1, 1, 5, 6))):
        m = torch.tensor(mask)
        _assert_same_value_and_grad(lambda x, m=m: L.masked_dice_loss(x, g, m, smooth=1e-5, **kw),
                                    lambda x, m=m: peer(x, g, m), z, rtol=1e-12)
        # class indices: the same region removed from every class
        np.testing.assert_allclose(L.masked_dice_loss(z, t, mask, smooth=1e-5, **kw),
                                   L.masked_dice_loss(z, onehot(t, 4), mask, smooth=1e-5, **kw), rtol=1e-12)
    np.testing.assert_allclose(L.masked_dice_loss(z, t, np.ones((1, 1, 5, 6), dtype=bool), **kw),
                               L.dice_loss(z, t, **kw), rtol=1e-12)


def test_masked_dice_formula_nan_outside_region_and_errors():
    z, t = data(seed=5)
    m = (RNG.uniform(size=(4, 1, 5, 6)) < 0.5).astype(np.float64)
    p, g = softmax(z) * m, onehot(t, 3) * m
    inter = (p * g).sum((2, 3))
    want = (1 - 2 * inter / (p.sum((2, 3)) + g.sum((2, 3)))).mean()
    np.testing.assert_allclose(L.masked_dice_loss(z, t, m), want, rtol=1e-12)
    # a NaN logit outside the region is silenced, inside it goes through
    out_px = np.argwhere(m[:, 0] == 0)[0]
    in_px = np.argwhere(m[:, 0] == 1)[0]
    bad = z.copy()
    bad[out_px[0], 1, out_px[1], out_px[2]] = np.nan
    np.testing.assert_allclose(L.masked_dice_loss(bad, t, m), want, rtol=1e-12)
    bad[in_px[0], 1, in_px[1], in_px[2]] = np.nan
    assert np.isnan(L.masked_dice_loss(bad, t, m))
    with pytest.raises(ValueError, match=r"mask must have shape \(4, 1, 5, 6\) or \(1, 1, 5, 6\)"):
        L.masked_dice_loss(z, t, m[:, :, :4])
    with pytest.raises(ValueError, match=r"mask must have shape"):
        L.masked_dice_loss(z, t, np.ones((4, 3, 5, 6)))
    with pytest.raises(ValueError, match="mask"):
        L.masked_dice_loss(z, t, -m)
    with pytest.raises(TypeError, match="mask must be an array"):
        L.masked_dice_loss(z, t, None)
    with pytest.raises(TypeError, match="mask must have a real dtype"):
        L.masked_dice_loss(z, t, m + 0j)


def smp_mcc(p, y, eps=1e-5):
    """segmentation_models_pytorch MCCLoss (binary probabilities, one MCC over the batch),
    transcribed: eps added to each confusion entry."""
    p, y = p.reshape(-1), y.reshape(-1).astype(float)
    tp, tn = (p * y).sum() + eps, ((1 - p) * (1 - y)).sum() + eps
    fp, fn = (p * (1 - y)).sum() + eps, ((1 - p) * y).sum() + eps
    return 1 - (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))


def test_mcc_reproduces_smp_binary_batch():
    rng = np.random.default_rng(11)
    p = rng.uniform(size=(3, 1, 5, 6))
    y = rng.integers(0, 2, size=(3, 5, 6))
    got = L.mcc_loss(p, y, mode="binary", from_logits=False, batch=True)
    np.testing.assert_allclose(got, smp_mcc(p, y), rtol=1e-12)
    np.testing.assert_allclose(L.mcc_loss(p, y[:, None].astype(float), mode="binary", from_logits=False, batch=True,
                                          eps=0.1), smp_mcc(p, y, eps=0.1), rtol=1e-12)
    # per sample (the default): one MCC per image, averaged
    want = np.mean([smp_mcc(p[i], y[i]) for i in range(3)])
    np.testing.assert_allclose(L.mcc_loss(p, y, mode="binary", from_logits=False), want, rtol=1e-12)


def test_mcc_perfect_prediction_is_zero_unlike_smp():
    """A perfect prediction has loss 0 (an empty image predicted empty too); smp's eps gives
    1 - MCC_eps there (about 0.5 for the empty image: docs/differences.md)."""
    torch = pytest.importorskip("torch")
    y = np.zeros((2, 1, 3, 4))
    y[0, 0, 1, 1:3] = 1  # image 1: no foreground
    out = L.mcc_loss(y, y, mode="binary", from_logits=False, reduction="none")
    np.testing.assert_array_equal(out, np.zeros((2, 1)))
    assert abs(smp_mcc(y[1], y[1]) - 0.5) < 1e-3
    z = torch.tensor(np.where(y == 1, 1e4, -1e4), requires_grad=True)
    loss = L.mcc_loss(z, torch.tensor(y), mode="binary")
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(z.grad).all()


@pytest.mark.parametrize("kw", [{}, {"batch": True}, {"include_background": False}])
def test_mcc_reproduces_monai(kw):
    """MONAI MCCLoss(softmax=True, to_onehot_y=True) (smooth_dr=1e-5 under the root) = eps=0,
    values and gradients, with a class absent from one sample (MONAI: MCC 0 there)."""
    torch = pytest.importorskip("torch")
    MCCLoss = _monai("MCCLoss")
    z, t = seg_data_absent()
    tt = torch.tensor(t)
    peer = MCCLoss(softmax=True, to_onehot_y=True, **kw)
    _assert_same_value_and_grad(lambda x: L.mcc_loss(x, tt, eps=0.0, **kw), lambda x: peer(x, tt[:, None]), z,
                                rtol=1e-8)
    # sigmoid, multilabel target
    y = torch.tensor(RNG.integers(0, 2, size=z.shape).astype(np.float64))
    peer = MCCLoss(sigmoid=True, **kw)
    _assert_same_value_and_grad(lambda x: L.mcc_loss(x, y, mode="multilabel", eps=0.0, **kw), lambda x: peer(x, y), z,
                                rtol=1e-8)


def test_mcc_ignore_index_and_eps_zero_edge():
    z, t = data(seed=8)
    t = np.where(RNG.uniform(size=t.shape) < 0.3, 255, t)
    keep = (t != 255)[:, None]
    p, g = softmax(z) * keep, onehot(np.where(keep[:, 0], t, 0), 3) * keep
    ax = (2, 3)
    tp, fp, fn = (p * g).sum(ax), (p * (1 - g)).sum(ax), ((1 - p) * g).sum(ax)
    tn = ((1 - p) * (1 - g) * keep).sum(ax)
    e = 1e-5
    tp, fp, fn, tn = tp + e, fp + e, fn + e, tn + e
    mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    np.testing.assert_allclose(L.mcc_loss(z, t, ignore_index=255), (1 - mcc).mean(), rtol=1e-12)
    # eps=0, nothing predicted for class 1 (TP + FP = 0) but present: MCC 0, loss 1, finite grad
    torch = pytest.importorskip("torch")
    zz = np.zeros((1, 2, 2, 2))
    zz[0, 0] = 1e4
    zz[0, 1] = -1e4
    tt = np.array([[[0, 1], [0, 0]]])
    x = torch.tensor(zz, requires_grad=True)
    out = L.mcc_loss(x, torch.tensor(tt), eps=0.0, reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 1.0]])
    out.sum().backward()
    assert torch.isfinite(x.grad).all()
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.mcc_loss(z, t, eps=-1.0)


def test_masked_dice_class_indices_differ_from_monai_to_onehot():
    """MONAI's to_onehot_y multiplies the indices by the mask: masked pixels become class-0
    target pixels there. Ours removes them from every class (= MONAI on a one-hot target)."""
    torch = pytest.importorskip("torch")
    MaskedDiceLoss = _monai("MaskedDiceLoss")
    z, t = seg_data_absent()
    mask = (RNG.uniform(size=(3, 1, 5, 6)) < 0.5).astype(np.float64)
    zt, tt, mt = torch.tensor(z), torch.tensor(t), torch.tensor(mask)
    theirs = MaskedDiceLoss(softmax=True, to_onehot_y=True)(zt, tt[:, None], mt).item()
    ours = float(L.masked_dice_loss(z, t, mask, smooth=1e-5))
    assert abs(theirs - ours) > 1e-3
    # MONAI's value is the Dice of the masked prediction against "masked-out = class 0"
    t0 = np.where(mask[:, 0] == 0, 0, t)
    p, g = softmax(z) * mask, onehot(t0, 4)
    np.testing.assert_allclose(theirs, monai_dice(p, g), rtol=1e-12)


# ------------------------------------------------ smp's log_loss / classes, MONAI soft_label ----
@pytest.mark.parametrize("loss, kind, extra", [
    (L.dice_loss, "dice", {}),
    (L.jaccard_loss, "jaccard", {}),
    (L.tversky_loss, "tversky", {"alpha_fp": 0.3, "beta_fn": 0.7}),
])
@pytest.mark.parametrize("smp_kw", [{"log_loss": True}, {"classes": [3, 1]}, {"classes": [2], "log_loss": True}])
def test_log_loss_and_classes_reproduce_smp(loss, kind, extra, smp_kw):
    z, t = data(c=4)
    t = np.where(t == 3, 0, t)  # class 3 absent from the target (zeroed before the selection)
    t = np.where(RNG.uniform(size=t.shape) < 0.2, 255, t)
    tv = {"alpha": extra["alpha_fp"], "beta": extra["beta_fn"]} if extra else {}
    want = smp_loss(z, t, kind, ignore_index=255, **tv, **smp_kw)
    got = loss(z, t, batch=True, mask_absent=True, ignore_index=255, **extra, **smp_kw)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_log_loss_floor_classes_columns_and_errors():
    torch = pytest.importorskip("torch")
    z, t = data(c=3)
    # a class predicted nowhere: score 0, -log clamps at 1e-7 (finite value and gradient)
    zz = z.copy()
    zz[:, 2] = -1e4
    x = torch.tensor(zz, requires_grad=True)
    out = L.dice_loss(x, torch.tensor(t), log_loss=True, reduction="none")
    np.testing.assert_allclose(out[:, 2].detach().numpy(), -np.log(1e-7), rtol=1e-6)
    out.sum().backward()
    assert torch.isfinite(x.grad).all()
    # -log(score) per class, the loss matrix restricted to the listed columns (in that order)
    full = L.dice_loss(z, t, reduction="none")
    np.testing.assert_allclose(L.dice_loss(z, t, log_loss=True, reduction="none"), -np.log(1 - full), rtol=1e-12)
    np.testing.assert_allclose(L.dice_loss(z, t, classes=[2, 0], reduction="none"), full[:, [2, 0]], rtol=1e-12)
    nobg = L.jaccard_loss(z, t, include_background=False, reduction="none")
    np.testing.assert_allclose(L.jaccard_loss(z, t, include_background=False, classes=[2], reduction="none"),
                               nobg[:, [1]], rtol=1e-12)
    w = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(L.tversky_loss(z, t, weight=w, classes=[0, 2]),
                               (L.tversky_loss(z, t, reduction="none")[:, [0, 2]] * w[[0, 2]]).sum() / (4 * 3.5),
                               rtol=1e-12)
    with pytest.raises(ValueError, match=r"classes must be a non-empty sequence of distinct channel indices in \[1, 2\]"):
        L.dice_loss(z, t, include_background=False, classes=[0])
    with pytest.raises(ValueError, match="classes must be a non-empty sequence"):
        L.dice_loss(z, t, classes=[1, 1])
    with pytest.raises(ValueError, match="classes must be a non-empty sequence"):
        L.dice_loss(z, t, classes=[])
    with pytest.raises(TypeError, match="classes must be None or a sequence"):
        L.dice_loss(z, t, classes=1)
    with pytest.raises(TypeError, match="log_loss must be a bool"):
        L.jaccard_loss(z, t, log_loss=1)
    with pytest.raises(TypeError, match="soft_label must be a bool"):
        L.dice_loss(z, t, soft_label="yes")


def _soft_target(shape, seed=9):
    rng = np.random.default_rng(seed)
    g = rng.dirichlet(np.full(shape[1], 2.0), size=(shape[0],) + shape[2:])
    return np.ascontiguousarray(np.moveaxis(g, -1, 1))


@pytest.mark.parametrize("kw", [{}, {"batch": True, "include_background": False}, {"squared_denominator": True}])
def test_soft_label_reproduces_monai(kw):
    """MONAI DiceLoss(softmax=True, soft_label=True) on soft targets, values and gradients."""
    torch = pytest.importorskip("torch")
    DiceLoss = _monai("DiceLoss")
    z, _ = data(seed=6)
    g = torch.tensor(_soft_target(z.shape))
    mkw = {"squared_pred" if k == "squared_denominator" else k: v for k, v in kw.items()}
    peer = DiceLoss(softmax=True, soft_label=True, **mkw)
    _assert_same_value_and_grad(lambda x: L.dice_loss(x, g, smooth=1e-5, soft_label=True, **kw),
                                lambda x: peer(x, g), z, rtol=1e-12)


def test_soft_label_formula_and_hard_targets_unchanged():
    z, t = data(seed=2)
    g = _soft_target(z.shape)
    p = softmax(z)
    tp = (p.sum((2, 3)) + g.sum((2, 3)) - np.abs(p - g).sum((2, 3))) / 2
    want = (1 - 2 * tp / (p.sum((2, 3)) + g.sum((2, 3)))).mean()
    np.testing.assert_allclose(L.dice_loss(z, g, soft_label=True), want, rtol=1e-12)
    assert abs(float(L.dice_loss(z, g)) - want) > 1e-3  # the hard-label overlap differs
    # p == g: a perfect score with soft_label (not with the plain overlap)
    np.testing.assert_allclose(L.dice_loss(g, g, from_logits=False, soft_label=True), 0.0, atol=1e-12)
    assert float(L.dice_loss(g, g, from_logits=False)) > 0.1
    np.testing.assert_allclose(L.dice_loss(z, t, soft_label=True), L.dice_loss(z, t), rtol=1e-12)


def smp_soft_bce(z, y, smooth_factor, ignore_index=-100):
    """segmentation_models_pytorch SoftBCEWithLogitsLoss, transcribed: targets smoothed to
    ``(1 - y) s + y (1 - s)``, torch's element-wise BCE-with-logits, ignored elements zeroed
    but counted by the mean."""
    soft = (1 - y) * smooth_factor + y * (1 - smooth_factor)
    loss = (1 - soft) * z + np.logaddexp(0, -z)
    return (loss * (y != ignore_index)).mean()


def smp_soft_ce(z, t, smooth_factor, ignore_index=-100):
    """segmentation_models_pytorch SoftCrossEntropyLoss (dim=1), transcribed: fairseq's
    label-smoothed NLL, ignored positions zeroed but counted by the mean."""
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    pad = t == ignore_index
    tt = np.where(pad, 0, t)
    nll = -np.take_along_axis(logp, tt[:, None], axis=1)[:, 0] * ~pad
    smooth = -logp.sum(1) * ~pad
    c = z.shape[1]
    return (1 - smooth_factor) * nll.mean() + smooth_factor / c * smooth.mean()


def test_smp_soft_bce_and_soft_ce_mappings():
    """smp's SoftBCEWithLogitsLoss(smooth_factor=s) is binary_cross_entropy_with_logits with
    label_smoothing=2 s (the targets y (1 - 2s) + s); SoftCrossEntropyLoss(smooth_factor=s) is cross_entropy with
    label_smoothing=s, and with ignored positions its mean divides by every position:
    reduction="sum" / t.size (docs/segmentation.md)."""
    rng = np.random.default_rng(21)
    z = rng.normal(size=(3, 2, 4, 5)) * 2
    y = rng.integers(0, 2, size=z.shape).astype(np.float64)
    s = 0.1
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits(z, y, label_smoothing=2 * s), smp_soft_bce(z, y, s),
                               rtol=1e-12)
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits(z, y * (1 - 2 * s) + s), smp_soft_bce(z, y, s),
                               rtol=1e-12)
    yi = np.where(rng.uniform(size=y.shape) < 0.2, -100.0, y)
    kept = yi != -100
    got = L.binary_cross_entropy_with_logits(z, np.where(kept, yi, 0), weight=kept, label_smoothing=2 * s)
    np.testing.assert_allclose(got, smp_soft_bce(z, yi, s), rtol=1e-12)
    zc = rng.normal(size=(3, 4, 5, 6)) * 2
    t = rng.integers(0, 4, size=(3, 5, 6))
    np.testing.assert_allclose(L.cross_entropy(zc, t, label_smoothing=s), smp_soft_ce(zc, t, s), rtol=1e-12)
    ti = np.where(rng.uniform(size=t.shape) < 0.2, -100, t)
    np.testing.assert_allclose(L.cross_entropy(zc, ti, label_smoothing=s, reduction="sum") / ti.size,
                               smp_soft_ce(zc, ti, s), rtol=1e-12)
    assert abs(float(L.cross_entropy(zc, ti, label_smoothing=s)) - smp_soft_ce(zc, ti, s)) > 1e-3


# -------------------------------------------------------------- MONAI HausdorffDTLoss ----
@pytest.mark.parametrize("kw", [{}, {"batch": True}, {"include_background": True, "alpha": 1.0}])
def test_hausdorff_dt_reproduces_monai(kw):
    """MONAI HausdorffDTLoss(softmax=True, to_onehot_y=True) computes both distance fields
    inside (from the detached prediction > 0.5); ours takes them from boundary_distance_map.
    MONAI casts the fields to float32: rtol 1e-6."""
    torch = pytest.importorskip("torch")
    HausdorffDTLoss = _monai("HausdorffDTLoss")
    z, t = seg_data_absent(spatial=(7, 8))
    tt = torch.tensor(t)
    dp = torch.tensor(L.boundary_distance_map(softmax(z) > 0.5))
    dg = torch.tensor(L.boundary_distance_map(t, num_classes=4))
    peer = HausdorffDTLoss(softmax=True, to_onehot_y=True, **kw)
    _assert_same_value_and_grad(lambda x: L.hausdorff_dt_loss(x, tt, dp, dg, **kw), lambda x: peer(x, tt[:, None]),
                                z, rtol=1e-6)
    y = torch.tensor(RNG.integers(0, 2, size=z.shape).astype(np.float64))
    dp = torch.tensor(L.boundary_distance_map(sigmoid(z) > 0.5))
    dg = torch.tensor(L.boundary_distance_map(y.numpy()))
    peer = HausdorffDTLoss(sigmoid=True, **kw)
    _assert_same_value_and_grad(lambda x: L.hausdorff_dt_loss(x, y, dp, dg, mode="multilabel", **kw),
                                lambda x: peer(x, y), z, rtol=1e-6)


def test_boundary_distance_map_brute_force_and_hausdorff_formula():
    m = np.zeros((5, 6), dtype=bool)
    m[1:4, 1:3] = True
    pts_in, pts_out = np.argwhere(m), np.argwhere(~m)
    want = np.zeros(m.shape)
    for i, j in np.ndindex(m.shape):
        other = pts_out if m[i, j] else pts_in
        want[i, j] = np.sqrt(((other - [i, j]) ** 2).sum(1)).min()
    np.testing.assert_allclose(L.boundary_distance_map(m[None, None])[0, 0], want, rtol=1e-12)
    assert np.all(L.boundary_distance_map(np.ones((1, 1, 3, 3))) == 0)  # full mask: no boundary
    # the loss: mean over pixels of (p - g)^2 (dp^a + dg^a), classes 1.. (no background)
    z, t = data(n=2, seed=12)
    p, g = softmax(z), onehot(t, 3)
    dp, dg = L.boundary_distance_map(p > 0.5), L.boundary_distance_map(t, num_classes=3)
    f = ((p - g) ** 2 * (dp ** 3 + dg ** 3))[:, 1:].mean((2, 3))
    np.testing.assert_allclose(L.hausdorff_dt_loss(z, t, dp, dg, alpha=3.0, reduction="none"), f, rtol=1e-12)
    with pytest.raises(ValueError, match="input and target_distance_maps must have the same shape"):
        L.hausdorff_dt_loss(z, t, dp, dg[:, :2])
    with pytest.raises(ValueError, match="input_distance_maps"):
        L.hausdorff_dt_loss(z, t, -dp - 1, dg)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        L.hausdorff_dt_loss(z, t, dp, dg, alpha=0.0)
    with pytest.raises(TypeError, match="target_distance_maps must have a real dtype"):
        L.hausdorff_dt_loss(z, t, dp, dg + 0j)


# ------------------------------------------------ MONAI GeneralizedWassersteinDiceLoss ----
GWDL_M = np.array([[0, 1, 1, 1], [1, 0, 0.6, 0.2], [1, 0.6, 0, 0.5], [1, 0.2, 0.5, 0]]) * 2.0


@pytest.mark.parametrize("mode", ["default", "GDL"])
def test_generalized_wasserstein_dice_reproduces_monai(mode):
    """MONAI GeneralizedWassersteinDiceLoss (its GDL alpha is float32: rtol 1e-6), values and
    gradients, with a class absent from one sample and a matrix rescaled to max 1."""
    torch = pytest.importorskip("torch")
    GWDL = _monai("GeneralizedWassersteinDiceLoss")
    z, t = seg_data_absent()
    tt, m = torch.tensor(t), torch.tensor(GWDL_M)
    peer = GWDL(dist_matrix=GWDL_M, weighting_mode=mode)
    _assert_same_value_and_grad(
        lambda x: L.generalized_wasserstein_dice_loss(x, tt, dist_matrix=m, weighting_mode=mode, smooth=1e-5),
        lambda x: peer(x, tt), z, rtol=1e-6)
    peer = GWDL(dist_matrix=GWDL_M, weighting_mode=mode, reduction="none")
    np.testing.assert_allclose(
        L.generalized_wasserstein_dice_loss(z, t, dist_matrix=GWDL_M, weighting_mode=mode, smooth=1e-5,
                                            reduction="none"),
        peer(torch.tensor(z), tt).numpy(), rtol=1e-6)


def test_generalized_wasserstein_dice_formula_default_matrix_and_errors():
    z, t = data(n=3, c=3, seed=13)
    p = softmax(z).reshape(3, 3, -1)
    tf = t.reshape(3, -1)
    m = 1 - np.eye(3)
    wmap = (m[tf] * np.moveaxis(p, 1, 2)).sum(-1)  # sum_c M[y, c] p_c, (N, S)
    alpha = (tf > 0).astype(float)
    tp = (alpha * (1 - wmap)).sum(1)
    want = 1 - 2 * tp / (2 * tp + wmap.sum(1))
    np.testing.assert_allclose(L.generalized_wasserstein_dice_loss(z, t, reduction="none"), want, rtol=1e-12)
    # batch=True with GDL: volumes and sums pooled over the batch
    g = onehot(tf, 3)  # (N, C, S)
    a = 1 / (g.sum((0, 2)) + 1)
    amap = a[tf]
    tpb = (amap * (1 - wmap)).sum()
    want = 1 - 2 * tpb / (amap * (2 - wmap)).sum()
    np.testing.assert_allclose(L.generalized_wasserstein_dice_loss(z, t, batch=True, weighting_mode="GDL"), want,
                               rtol=1e-12)
    # ignored pixels count nowhere
    ti = np.where(RNG.uniform(size=t.shape) < 0.3, 255, t)
    keep = ti != 255
    ref = [L.generalized_wasserstein_dice_loss(z[i:i + 1][..., keep[i]][..., None], ti[i:i + 1][..., keep[i]][..., None],
                                               reduction="none")[0] for i in range(3)]
    np.testing.assert_allclose(L.generalized_wasserstein_dice_loss(z, ti, ignore_index=255, reduction="none"), ref,
                               rtol=1e-12)
    with pytest.raises(ValueError, match=r"dist_matrix must have shape \(3, 3\)"):
        L.generalized_wasserstein_dice_loss(z, t, dist_matrix=np.ones((2, 2)))
    with pytest.raises(ValueError, match="dist_matrix"):
        L.generalized_wasserstein_dice_loss(z, t, dist_matrix=-np.ones((3, 3)))
    with pytest.raises(ValueError, match="weighting_mode must be one of"):
        L.generalized_wasserstein_dice_loss(z, t, weighting_mode="gdl")
    with pytest.raises(TypeError, match="dist_matrix must have a real dtype"):
        L.generalized_wasserstein_dice_loss(z, t, dist_matrix=np.ones((3, 3)) * 1j)
