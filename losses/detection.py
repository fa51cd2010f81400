r"""Bounding-box regression losses: IoU, generalised IoU, distance IoU, complete IoU.

Boxes are ``(..., 4)`` arrays in ``(x1, y1, x2, y2)`` format with ``x1 <= x2`` and
``y1 <= y2`` (torchvision.ops conventions). The formulas are torchvision.ops' (including its
``eps=1e-7``), with two changes: the default ``reduction`` is ``"mean"`` like every loss of
this library (torchvision: ``"none"``), and degenerate boxes (zero width and/or height,
identical boxes) give finite values and gradients where torchvision gives NaN.

Coordinate maxima/minima split the gradient equally between tied coordinates (as
``torch.maximum``/``torch.minimum`` do), so identical boxes have the same subgradient on every
backend. The classification head of a detector is :func:`losses.sigmoid_focal_loss`; the
box-delta regression of Fast/Faster R-CNN is :func:`losses.smooth_l1_loss` on the encoded
deltas (``beta=1/9`` in torchvision's detection references), so no separate function exists.
"""
from __future__ import annotations

import math
from typing import Literal

from . import _validate as check
from ._common import fill_doc, float_args, numel, safe_divide
from ._reduction import MEAN_OVER, group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace

#: ``mean_over=`` of the weighted losses: what a weighted ``"mean"`` divides by
MeanOver = Literal["weights", "elements"]

__all__ = [
    "box_iou_loss",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
]


def _valid_boxes(xp, w, h, name):
    """Eager-only: widths ``w = x2 - x1`` and heights ``h = y2 - y1`` are >= 0 (and no NaN)
    for every box. Inside a public call this records one device flag (read back once with the
    call's other value checks)."""
    if not check.enabled() or not check.checkable(w) or numel(w) == 0:
        return
    w, h = xp.stop_gradient(w), xp.stop_gradient(h)
    lo = xp.min(xp.minimum(w, h))  # NaN propagates through minimum and min

    def explain():
        bad = xp.logical_not(xp.logical_and(w >= 0, h >= 0))
        n_bad = int(xp.sum(xp.astype(bad, xp.int32)))
        return (f"{name} must hold valid (x1, y1, x2, y2) boxes with x2 >= x1 and y2 >= y1; got "
                f"{n_bad} invalid box(es), smallest width {float(xp.min(w))} and height {float(xp.min(h))}")

    check.record(xp, xp.logical_not(lo >= 0), explain)


def _prepare(boxes1, boxes2, weight, reduction, eps, mean_over, group):
    xp = namespace(boxes1=boxes1, boxes2=boxes2, weight=weight)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.choice(mean_over, "mean_over", MEAN_OVER)
    check.finite_number(eps, "eps", low=0)
    _, out_dtype, (b1, b2, w) = float_args(xp, boxes1, boxes2, weight, names=("boxes1", "boxes2", "weight"))
    for b, name in ((b1, "boxes1"), (b2, "boxes2")):
        if b.ndim < 1 or b.shape[-1] != 4:
            raise ValueError(f"{name} must have shape (..., 4) of (x1, y1, x2, y2) boxes, got {tuple(b.shape)}")
    check.same_shape(b1, b2, "boxes1", "boxes2")
    check.broadcastable(w, "weight", tuple(b1.shape[:-1]), "boxes1 without the last axis")
    return xp, b1, b2, w, out_dtype, float(eps), group


class _Geometry:
    """Shared terms of the IoU family for boxes ``b1`` (prediction) and ``b2`` (target); the
    eager box checks of both arguments are recorded from the widths and heights.

    ``maximum``/``minimum`` split the gradient 1/2 - 1/2 between tied coordinates (torch and
    JAX both do), so identical boxes have the same subgradient on every backend."""

    def __init__(self, xp, b1, b2, eps):
        self.xp = xp
        x1, y1, x2, y2 = xp.unstack(b1, axis=-1)
        x1g, y1g, x2g, y2g = xp.unstack(b2, axis=-1)
        self.coords = (x1, y1, x2, y2, x1g, y1g, x2g, y2g)
        self.w, self.h = x2 - x1, y2 - y1
        self.wg, self.hg = x2g - x1g, y2g - y1g
        _valid_boxes(xp, self.w, self.h, "boxes1")
        _valid_boxes(xp, self.wg, self.hg, "boxes2")
        iw = xp.minimum(x2, x2g) - xp.maximum(x1, x1g)
        ih = xp.minimum(y2, y2g) - xp.maximum(y1, y1g)
        # written so that NaN coordinates take the computed branch (DESIGN rule 5)
        apart = xp.logical_or(iw <= 0, ih <= 0)
        inter = xp.where(apart, 0.0, iw * ih)
        self.union = self.w * self.h + self.wg * self.hg - inter
        self.iou = safe_divide(xp, inter, self.union + eps, 0.0)
        self.eps = eps

    def enclosing(self):
        xp = self.xp
        x1, y1, x2, y2, x1g, y1g, x2g, y2g = self.coords
        cw = xp.maximum(x2, x2g) - xp.minimum(x1, x1g)
        ch = xp.maximum(y2, y2g) - xp.minimum(y1, y1g)
        return cw, ch

    def diou(self):
        """``1 - IoU + rho^2 / c^2`` (torchvision's ``_diou_iou_loss``)."""
        x1, y1, x2, y2, x1g, y1g, x2g, y2g = self.coords
        cw, ch = self.enclosing()
        diag = cw * cw + ch * ch + self.eps
        dx = (x2 + x1) / 2 - (x2g + x1g) / 2
        dy = (y2 + y1) / 2 - (y2g + y1g) / 2
        return 1 - self.iou + safe_divide(self.xp, dx * dx + dy * dy, diag, 0.0)


def _aspect_angle(xp, w, h):
    """``atan(w / h)`` as ``atan2(w, h)``: pi/2 for zero height, pi/4 for a point box (w = h = 0)."""
    point = xp.logical_and(w <= 0, h <= 0)  # NaN sides take the atan2 branch
    one = xp.ones_like(w)
    ang = xp.atan2(xp.where(point, one, w), xp.where(point, one, h))
    return xp.where(point, xp.full_like(w, math.pi / 4), ang)


_ARGS = """
    Args:
        boxes1: predicted boxes ``(..., 4)`` as ``(x1, y1, x2, y2)``, floating.
        boxes2: target boxes, same shape (floating; integer coordinates are cast, the
            library's policy for integer targets).
        weight: optional per-box weights broadcastable to ``boxes1.shape[:-1]``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w * l) / sum(w)``) or ``"elements"`` (``sum(w * l)`` over the number of
            boxes).
        reduction: ``"mean"`` (default; torchvision's default is ``"none"``) | ``"sum"`` |
            ``"none"`` (shape ``boxes1.shape[:-1]``).
        eps: small finite number >= 0 added to denominators, as torchvision (default 1e-7).
    {group}

    Returns:
        A scalar, or the per-box losses for ``reduction="none"``, in the promoted floating
        dtype of the inputs.

    Raises:
        ValueError: last axis not 4, shapes differ, bad ``reduction``/``eps``/``mean_over``;
            eagerly, an invalid box (``x2 < x1`` or ``y2 < y1``, or NaN) in either
            argument. Under ``jit``/on Dask a NaN coordinate gives a NaN loss.
        TypeError: non-floating ``boxes1``, complex ``boxes2``/``weight``.
"""


_doc = fill_doc("{args}", _ARGS)


@check.entry
@group_doc
@_doc
def box_iou_loss(boxes1: ArrayT, boxes2: ArrayT, *, weight: ArrayT | None = None,
                 mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                 eps: float = 1e-7, group: Group = None) -> ArrayT:
    r"""IoU loss: one minus the intersection over union of paired boxes.

    .. math:: \ell = 1 - \frac{|B \cap B^{gt}|}{|B \cup B^{gt}| + \varepsilon}

    Zero-area boxes give IoU 0 (loss 1) with a finite gradient. The gradient is 0 for
    disjoint boxes: prefer :func:`generalized_box_iou_loss` or the distance variants.

    {args}
    References: Yu et al., "UnitBox: an advanced object detection network", ACM MM 2016.

    Peer twins: torchvision has no IoU *loss*; ``1 - torchvision.ops.box_iou(b1, b2).diag()``
    (``box_iou`` has no ``eps``) equals ``box_iou_loss(b1, b2, eps=0, reduction="none")``
    for boxes of non-zero union.

    Example:
        >>> b = np.array([[0.0, 0.0, 2.0, 2.0]])
        >>> float(losses.box_iou_loss(b, b, eps=0.0))  # identical boxes
        0.0
        >>> round(float(losses.box_iou_loss(b, np.array([[1.0, 0.0, 3.0, 2.0]]))), 4)  # IoU 1/3
        0.6667
    """
    xp, b1, b2, w, out_dtype, eps, group = _prepare(boxes1, boxes2, weight, reduction, eps, mean_over, group)
    loss = 1 - _Geometry(xp, b1, b2, eps).iou
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_doc
def generalized_box_iou_loss(boxes1: ArrayT, boxes2: ArrayT, *, weight: ArrayT | None = None,
                             mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                             eps: float = 1e-7, group: Group = None) -> ArrayT:
    r"""Generalised IoU loss (Rezatofighi et al. 2019).

    .. math::
        \ell = 1 - \mathrm{IoU} + \frac{|C| - |B \cup B^{gt}|}{|C| + \varepsilon}

    with ``C`` the smallest box enclosing both. Values in [0, 2]; informative gradients for
    disjoint boxes. Finite value and gradient for zero-area and identical boxes: when the
    enclosing box itself has zero area the penalty term is 0 with a zero gradient
    (torchvision's ``eps`` there gives partial derivatives of size ``1/eps``).

    {args}
    References: Rezatofighi et al., "Generalized intersection over union: a metric and a loss
    for bounding box regression", CVPR 2019.

    Peer twins: ``torchvision.ops.generalized_box_iou_loss(b1, b2, reduction, eps)``
    (``reduction="none"`` there by default).

    Example:
        >>> b = np.array([[0.0, 0.0, 1.0, 1.0]])
        >>> far = np.array([[2.0, 0.0, 3.0, 1.0]])  # disjoint: IoU 0, enclosing box of area 3
        >>> round(float(losses.generalized_box_iou_loss(b, far, eps=0.0)), 4)  # 1 - 0 + (3 - 2) / 3
        1.3333
    """
    xp, b1, b2, w, out_dtype, eps, group = _prepare(boxes1, boxes2, weight, reduction, eps, mean_over, group)
    geo = _Geometry(xp, b1, b2, eps)
    cw, ch = geo.enclosing()
    area_c = cw * ch
    # a degenerate enclosing box (both boxes on one line or point) has no penalty and a zero
    # gradient (the eps-regularised ratio would have partials of size 1/eps there)
    flat = area_c <= 0  # a NaN area takes the ratio's branch
    penalty = safe_divide(xp, area_c - geo.union, xp.where(flat, 0.0, area_c + eps), 0.0)
    loss = 1 - geo.iou + penalty
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_doc
def distance_box_iou_loss(boxes1: ArrayT, boxes2: ArrayT, *, weight: ArrayT | None = None,
                          mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                          eps: float = 1e-7, group: Group = None) -> ArrayT:
    r"""Distance IoU loss (Zheng et al. 2020).

    .. math:: \ell = 1 - \mathrm{IoU} + \frac{\rho^2(b, b^{gt})}{c^2 + \varepsilon}

    with ``rho`` the distance between the box centres and ``c`` the diagonal of the enclosing
    box. Finite value and gradient for zero-area and identical boxes.

    {args}
    References: Zheng et al., "Distance-IoU loss: faster and better learning for bounding box
    regression", AAAI 2020.

    Peer twins: ``torchvision.ops.distance_box_iou_loss(b1, b2, reduction, eps)``.

    Example:
        >>> b = np.array([[0.0, 0.0, 1.0, 1.0]])
        >>> far = np.array([[2.0, 0.0, 3.0, 1.0]])  # centres 2 apart, enclosing diagonal^2 = 10
        >>> round(float(losses.distance_box_iou_loss(b, far, eps=0.0)), 4)  # 1 - 0 + 4 / 10
        1.4
    """
    xp, b1, b2, w, out_dtype, eps, group = _prepare(boxes1, boxes2, weight, reduction, eps, mean_over, group)
    loss = _Geometry(xp, b1, b2, eps).diou()
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_doc
def complete_box_iou_loss(boxes1: ArrayT, boxes2: ArrayT, *, weight: ArrayT | None = None,
                          mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                          eps: float = 1e-7, group: Group = None) -> ArrayT:
    r"""Complete IoU loss (Zheng et al. 2020): DIoU plus an aspect-ratio consistency term.

    .. math::
        \ell = \ell_{DIoU} + \alpha v,\quad
        v = \frac{4}{\pi^2}\Big(\arctan\frac{w^{gt}}{h^{gt}} - \arctan\frac{w}{h}\Big)^2,\quad
        \alpha = \frac{v}{1 - \mathrm{IoU} + v + \varepsilon}

    ``alpha`` is a constant for the gradient (stop-gradient), as in the paper and torchvision.
    ``arctan(w/h)`` is computed as ``atan2(w, h)``, so a zero-height box has angle pi/2 with a
    finite gradient (torchvision divides by ``h`` and returns NaN gradients), and a point box
    (``w = h = 0``) has angle pi/4 with a zero gradient.

    {args}
    References: Zheng et al., "Distance-IoU loss: faster and better learning for bounding box
    regression", AAAI 2020.

    Peer twins: ``torchvision.ops.complete_box_iou_loss(b1, b2, reduction, eps)`` (equal for
    boxes of positive height).

    Example:
        >>> b = np.array([[0.0, 0.0, 2.0, 2.0]])
        >>> float(losses.complete_box_iou_loss(b, b, eps=0.0))  # identical boxes
        0.0
        >>> wide = np.array([[0.0, 0.0, 4.0, 2.0]])  # same corner, twice as wide: IoU 1/2
        >>> round(float(losses.complete_box_iou_loss(b, wide)), 4)
        0.5532
    """
    xp, b1, b2, w, out_dtype, eps, group = _prepare(boxes1, boxes2, weight, reduction, eps, mean_over, group)
    geo = _Geometry(xp, b1, b2, eps)
    dang = _aspect_angle(xp, geo.wg, geo.hg) - _aspect_angle(xp, geo.w, geo.h)
    v = (4 / math.pi**2) * dang * dang
    alpha = xp.stop_gradient(safe_divide(xp, v, 1 - geo.iou + v + eps, 0.0))
    loss = geo.diou() + alpha * v
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)
