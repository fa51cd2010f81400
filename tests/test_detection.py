"""Box losses against independent float64 NumPy transcriptions of torchvision.ops' formulas
(torchvision has no CPU build here), torch autograd of the same formulas for gradients, and
the degenerate cases where torchvision returns NaN."""
from __future__ import annotations

import math

import numpy as np
import pytest

import losses as L

RNG = np.random.default_rng(7)
EPS = 1e-7


def boxes(n=16, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 4, size=(n, 2))
    b1 = np.concatenate([xy, xy + rng.uniform(0.2, 3, size=(n, 2))], -1)
    xy = xy + rng.normal(size=(n, 2))
    b2 = np.concatenate([xy, xy + rng.uniform(0.2, 3, size=(n, 2))], -1)
    return b1, b2


# ----------------------------------------------------------- NumPy references (float64) ----
def np_inter_union(b1, b2):
    x1, y1, x2, y2 = b1.T
    x1g, y1g, x2g, y2g = b2.T
    iw = np.minimum(x2, x2g) - np.maximum(x1, x1g)
    ih = np.minimum(y2, y2g) - np.maximum(y1, y1g)
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def np_enclosing(b1, b2):
    cw = np.maximum(b1[:, 2], b2[:, 2]) - np.minimum(b1[:, 0], b2[:, 0])
    ch = np.maximum(b1[:, 3], b2[:, 3]) - np.minimum(b1[:, 1], b2[:, 1])
    return cw, ch


def np_iou_loss(b1, b2, eps=EPS):
    inter, union = np_inter_union(b1, b2)
    return 1 - inter / (union + eps)


def np_giou_loss(b1, b2, eps=EPS):
    inter, union = np_inter_union(b1, b2)
    cw, ch = np_enclosing(b1, b2)
    area_c = cw * ch
    return 1 - (inter / (union + eps) - (area_c - union) / (area_c + eps))


def np_diou_loss(b1, b2, eps=EPS):
    inter, union = np_inter_union(b1, b2)
    cw, ch = np_enclosing(b1, b2)
    c1 = (b1[:, :2] + b1[:, 2:]) / 2
    c2 = (b2[:, :2] + b2[:, 2:]) / 2
    rho2 = ((c1 - c2) ** 2).sum(-1)
    return 1 - inter / (union + eps) + rho2 / (cw ** 2 + ch ** 2 + eps)


def np_ciou_loss(b1, b2, eps=EPS):
    inter, union = np_inter_union(b1, b2)
    iou = inter / (union + eps)
    w, h = b1[:, 2] - b1[:, 0], b1[:, 3] - b1[:, 1]
    wg, hg = b2[:, 2] - b2[:, 0], b2[:, 3] - b2[:, 1]
    v = 4 / math.pi ** 2 * (np.arctan(wg / hg) - np.arctan(w / h)) ** 2
    alpha = v / (1 - iou + v + eps)
    return np_diou_loss(b1, b2, eps) + alpha * v


PAIRS = [
    (L.box_iou_loss, np_iou_loss),
    (L.generalized_box_iou_loss, np_giou_loss),
    (L.distance_box_iou_loss, np_diou_loss),
    (L.complete_box_iou_loss, np_ciou_loss),
]


# torch transcription of torchvision.ops (torch.max/min split gradients at ties)
def torch_ref(name, b1, b2, eps=EPS):
    import torch

    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    xk1, yk1, xk2, yk2 = torch.max(x1, x1g), torch.max(y1, y1g), torch.min(x2, x2g), torch.min(y2, y2g)
    mask = (yk2 > yk1) & (xk2 > xk1)
    inter = torch.where(mask, (xk2 - xk1) * (yk2 - yk1), torch.zeros_like(x1))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    if name == "box_iou_loss":
        return 1 - iou
    cw = torch.max(x2, x2g) - torch.min(x1, x1g)
    ch = torch.max(y2, y2g) - torch.min(y1, y1g)
    if name == "generalized_box_iou_loss":
        return 1 - (iou - (cw * ch - union) / (cw * ch + eps))
    diou = 1 - iou + (((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2 + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2) / (
        cw ** 2 + ch ** 2 + eps)
    if name == "distance_box_iou_loss":
        return diou
    v = (4 / torch.pi ** 2) * (torch.atan((x2g - x1g) / (y2g - y1g)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou + alpha * v


# ---------------------------------------------------------------------------- values ----
@pytest.mark.parametrize("loss, ref", PAIRS)
def test_values_match_torchvision_formula(loss, ref):
    b1, b2 = boxes()
    np.testing.assert_allclose(loss(b1, b2, reduction="none"), ref(b1, b2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss(b1, b2), ref(b1, b2).mean(), rtol=1e-12)
    np.testing.assert_allclose(loss(b1, b2, reduction="sum"), ref(b1, b2).sum(), rtol=1e-12)
    w = RNG.uniform(0.1, 2, size=16)
    np.testing.assert_allclose(loss(b1, b2, weight=w), (w * ref(b1, b2)).sum() / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(loss(b1, b2, eps=0.0, reduction="none"), ref(b1, b2, eps=0.0), rtol=1e-12, atol=1e-15)


def test_literature_values():
    # IoU of two unit-offset 2x2 squares: inter 2, union 6
    b1, b2 = np.array([[0.0, 0, 2, 2]]), np.array([[1.0, 0, 3, 2]])
    np.testing.assert_allclose(L.box_iou_loss(b1, b2, eps=0), 1 - 2 / 6, rtol=1e-15)
    # GIoU: enclosing box 3x2 = 6 = union -> GIoU = IoU
    np.testing.assert_allclose(L.generalized_box_iou_loss(b1, b2, eps=0), 1 - 2 / 6, rtol=1e-15)
    # disjoint boxes: GIoU = -(|C| - |U|) / |C|
    b3 = np.array([[4.0, 0, 6, 2]])
    np.testing.assert_allclose(L.generalized_box_iou_loss(b1, b3, eps=0), 1 + (12 - 8) / 12, rtol=1e-15)
    # DIoU: centres 1 apart, enclosing diagonal^2 = 9 + 4
    np.testing.assert_allclose(L.distance_box_iou_loss(b1, b2, eps=0), 1 - 2 / 6 + 1 / 13, rtol=1e-15)
    # CIoU of same-aspect boxes = DIoU
    np.testing.assert_allclose(L.complete_box_iou_loss(b1, b2), L.distance_box_iou_loss(b1, b2), rtol=1e-15)


@pytest.mark.parametrize("loss", [p[0] for p in PAIRS])
def test_gradients_match_torch_formula(loss):
    torch = pytest.importorskip("torch")
    b1, b2 = boxes()
    b1[3] = b2[3]  # identical boxes: ties split like torch.max/min
    g = []
    for fn in (lambda a, b: loss(a, b, reduction="none"), lambda a, b: torch_ref(loss.__name__, a, b)):
        a = torch.tensor(b1, requires_grad=True)
        b = torch.tensor(b2, requires_grad=True)
        v = torch.tensor(RNG.uniform(0.5, 1.5, size=16)) if not g else g[0][2]
        (fn(a, b) * v).sum().backward()
        g.append((a.grad, b.grad, v))
    torch.testing.assert_close(g[0][0], g[1][0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g[0][1], g[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", [p[0] for p in PAIRS])
def test_degenerate_boxes_finite_value_and_gradient(loss):
    torch = pytest.importorskip("torch")
    b1, b2 = boxes(6)
    b1[0, 2] = b1[0, 0]      # zero width
    b1[1, 3] = b1[1, 1]      # zero height
    b1[2, 2:] = b1[2, :2]    # point
    b2[3] = b1[3]            # identical
    b1[4, 3] = b1[4, 1]
    b2[4] = b1[4]            # identical zero-area
    b1[5, 2:] = b1[5, :2]
    b2[5] = b1[5]            # identical points
    a = torch.tensor(b1, requires_grad=True)
    b = torch.tensor(b2, requires_grad=True)
    out = loss(a, b, reduction="none")
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    # torchvision's CIoU formula gives NaN gradients for zero-height boxes (docs/differences.md)
    if loss is L.complete_box_iou_loss:
        a2 = torch.tensor(b1, requires_grad=True)
        torch_ref(loss.__name__, a2, torch.tensor(b2)).sum().backward()
        assert not torch.isfinite(a2.grad).all()


def test_ciou_zero_height_uses_limit_angle():
    b1 = np.array([[0.0, 0, 2, 0]])          # zero height: atan(w/h) -> pi/2
    b2 = np.array([[0.0, 0, 2, 1]])
    v = 4 / math.pi ** 2 * (math.atan(2.0) - math.pi / 2) ** 2
    iou = 0.0
    alpha = v / (1 - iou + v + EPS)
    want = np_diou_loss(b1, b2)[0] + alpha * v
    np.testing.assert_allclose(L.complete_box_iou_loss(b1, b2), want, rtol=1e-12)


def test_default_reduction_is_mean_unlike_torchvision():
    b1, b2 = boxes()
    assert np.ndim(L.generalized_box_iou_loss(b1, b2)) == 0  # torchvision's default is "none"
    np.testing.assert_allclose(L.generalized_box_iou_loss(b1, b2), np_giou_loss(b1, b2).mean(), rtol=1e-12)


def test_backends_agree():
    b1, b2 = boxes()
    want = L.complete_box_iou_loss(b1, b2, reduction="none")
    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_allclose(np.asarray(L.complete_box_iou_loss(jnp.asarray(b1), jnp.asarray(b2), reduction="none")),
                               want, rtol=1e-12)
    xs = pytest.importorskip("array_api_strict")
    np.testing.assert_allclose(np.asarray(L.complete_box_iou_loss(xs.asarray(b1), xs.asarray(b2), reduction="none")),
                               want, rtol=1e-12)


def test_dtype_preserved():
    torch = pytest.importorskip("torch")
    b1, b2 = boxes()
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        out = L.distance_box_iou_loss(torch.tensor(b1, dtype=dt), torch.tensor(b2, dtype=dt))
        assert out.dtype == dt


def test_box_smooth_l1_recipe_is_smooth_l1_loss():
    torch = pytest.importorskip("torch")
    d1, d2 = RNG.normal(size=(8, 4)), RNG.normal(size=(8, 4))
    want = torch.nn.functional.smooth_l1_loss(torch.tensor(d1), torch.tensor(d2), beta=1 / 9, reduction="sum")
    np.testing.assert_allclose(L.smooth_l1_loss(d1, d2, beta=1 / 9, reduction="sum"), want.item(), rtol=1e-12)


# ----------------------------------------------------------------------------- errors ----
def test_errors():
    b1, b2 = boxes()
    bad = b1.copy()
    bad[2, 2] = bad[2, 0] - 1
    with pytest.raises(ValueError, match=r"boxes1 must hold valid \(x1, y1, x2, y2\) boxes with x2 >= x1"):
        L.generalized_box_iou_loss(bad, b2)
    bad = b2.copy()
    bad[0, 3] = bad[0, 1] - 0.5
    with pytest.raises(ValueError, match="boxes2 must hold valid"):
        L.complete_box_iou_loss(b1, bad)
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="boxes2 must hold valid"):
        L.box_iou_loss(b1, bad)
    with pytest.raises(ValueError, match=r"boxes1 must have shape \(\.\.\., 4\)"):
        L.box_iou_loss(b1[:, :3], b2[:, :3])
    with pytest.raises(ValueError, match="boxes1 and boxes2 must have the same shape"):
        L.box_iou_loss(b1, b2[:4])
    with pytest.raises(TypeError, match="boxes1 must have a real floating dtype"):
        L.box_iou_loss(b1.astype(int), b2)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.distance_box_iou_loss(b1, b2, reduction="avg")
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.distance_box_iou_loss(b1, b2, eps=-1)
    with pytest.raises(ValueError, match="weight of shape"):
        L.box_iou_loss(b1, b2, weight=np.ones(3))


def test_giou_degenerate_enclosing_box_has_bounded_gradient():
    torch = pytest.importorskip("torch")
    b = np.array([[1.0, 2.0, 4.0, 2.0]])  # identical zero-height boxes: enclosing area 0
    a = torch.tensor(b, requires_grad=True)
    out = L.generalized_box_iou_loss(a, torch.tensor(b))
    out.backward()
    assert out.item() == 1.0 and torch.all(a.grad.abs() < 10)
    # torchvision's formula: partial derivatives of size w / eps there (docs/differences.md)
    a2 = torch.tensor(b, requires_grad=True)
    torch_ref("generalized_box_iou_loss", a2, torch.tensor(b)).sum().backward()
    assert a2.grad.abs().max() > 1e6
    # in float16 ours stays finite
    a3 = torch.tensor(b, dtype=torch.float16, requires_grad=True)
    L.generalized_box_iou_loss(a3, torch.tensor(b, dtype=torch.float16)).backward()
    assert torch.isfinite(a3.grad).all()


# ------------------------------------------------------------------ issue 10: honest edges
@pytest.mark.parametrize("loss, ref", PAIRS)
def test_nan_coordinate_refused_eagerly_nan_under_jit(loss, ref):
    jax = pytest.importorskip("jax")
    b1, b2 = boxes()
    for k in range(4):
        bad = b1.copy()
        bad[5, k] = np.nan
        with pytest.raises(ValueError, match="boxes1 must hold valid"):
            loss(bad, b2)
        out = np.asarray(jax.jit(lambda a, b: loss(a, b, reduction="none"))(jax.numpy.asarray(bad), jax.numpy.asarray(b2)))
        assert np.isnan(out[5]), k
        np.testing.assert_allclose(np.delete(out, 5), np.delete(ref(b1, b2), 5), rtol=1e-12)
        bad2 = b2.copy()
        bad2[3, k] = np.nan
        out = np.asarray(jax.jit(lambda a, b: loss(a, b))(jax.numpy.asarray(b1), jax.numpy.asarray(bad2)))
        assert np.isnan(out)


@pytest.mark.parametrize("loss, ref", PAIRS)
def test_mean_over_elements_and_integer_targets(loss, ref):
    b1, b2 = boxes()
    w = RNG.uniform(0.1, 2, size=16)
    np.testing.assert_allclose(loss(b1, b2, weight=w, mean_over="elements"), (w * ref(b1, b2)).sum() / 16, rtol=1e-12)
    np.testing.assert_allclose(loss(b1, b2, weight=w, mean_over="weights"), (w * ref(b1, b2)).sum() / w.sum(),
                               rtol=1e-12)
    # integer target boxes are cast (the library's policy for integer targets)
    t = np.round(b2 * 4).astype(np.int64)
    np.testing.assert_allclose(loss(b1 * 4, t, reduction="none"), ref(b1 * 4, t.astype(np.float64)), rtol=1e-12)


def test_argument_checks_name_the_argument():
    torch = pytest.importorskip("torch")
    b1, b2 = boxes()
    for mk in (np.asarray, torch.tensor):
        with pytest.raises(TypeError, match=r"\bboxes2\b must have a real dtype"):
            L.box_iou_loss(mk(b1), mk(b2.astype(np.complex128)))
        with pytest.raises(TypeError, match=r"\bweight\b must have a real dtype"):
            L.generalized_box_iou_loss(mk(b1), mk(b2), weight=mk(np.ones(16, dtype=np.complex128)))
    with pytest.raises(TypeError, match=r"\bboxes1\b must be an array"):
        L.box_iou_loss(b1.tolist(), b2)
    with pytest.raises(TypeError, match=r"\bboxes2\b must be an array"):
        L.box_iou_loss(b1, b2.tolist())
    for bad in (np.inf, np.nan, True, "1"):
        with pytest.raises((TypeError, ValueError), match=r"\beps\b"):
            L.distance_box_iou_loss(b1, b2, eps=bad)
    with pytest.raises(ValueError, match=r"mean_over must be one of \('weights', 'elements'\)"):
        L.box_iou_loss(b1, b2, mean_over="boxes")


@pytest.mark.parametrize("loss", [p[0] for p in PAIRS])
def test_empty_batch(loss):
    torch = pytest.importorskip("torch")
    a = torch.zeros(0, 4, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(0, 4, dtype=torch.float64)
    assert torch.isnan(loss(a, b)) and loss(a, b, reduction="sum").item() == 0.0
    assert loss(a, b, reduction="none").shape == (0,)
    assert torch.isnan(loss(a, b, weight=torch.zeros(0, dtype=torch.float64), mean_over="elements"))
    g = torch.autograd.grad(loss(a, b, reduction="sum"), a)[0]
    assert g.shape == (0, 4)


def test_box_checks_are_recorded_and_switched_off():
    """The box checks cost no host read of their own (one folded read per call, none with
    ``value_checks(False)``) and still name the argument."""
    torch = pytest.importorskip("torch")
    good = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 4.0]])
    bad = torch.tensor([[0.0, 0.0, 2.0, 2.0], [3.0, 1.0, 1.0, 4.0]])
    for fn in (L.box_iou_loss, L.generalized_box_iou_loss, L.distance_box_iou_loss, L.complete_box_iou_loss):
        with pytest.raises(ValueError, match=r"boxes2 must hold valid .* 1 invalid box"):
            fn(good, bad)
        with pytest.raises(ValueError, match="boxes1 must hold valid"):
            fn(bad.clone().requires_grad_(), good)
        nan = good.clone()
        nan[0, 1] = float("nan")
        with pytest.raises(ValueError, match="boxes1 must hold valid"):
            fn(nan, good)
        with L.value_checks(False):
            assert torch.isfinite(fn(good, good))
            fn(bad, good)  # unchecked: computed, no error


def test_tied_coordinates_split_the_gradient_like_torch_maximum():
    torch = pytest.importorskip("torch")
    b = torch.tensor([[0.0, 0.0, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)
    g = torch.tensor([[0.0, 0.0, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)
    L.generalized_box_iou_loss(b, g, eps=0.0).backward()
    # identical boxes: the loss is symmetric, the tie splits the gradient equally
    torch.testing.assert_close(b.grad, g.grad)
