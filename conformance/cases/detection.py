"""Box-regression losses. The peers are torchvision.ops' formulas written out in torch
(torchvision has no CPU build here): same operations, same eps, float64."""
import numpy as np

from ... import detection as L
from ..case import Case, Peer
from . import _peers as P


def _boxes(rng, n, shift=1.0):
    xy = rng.uniform(0, 4, size=(n, 2))
    wh = rng.uniform(0.5, 3, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=-1)


def _pair(rng, n):
    b1 = _boxes(rng, n)
    b2 = b1 + rng.normal(size=(n, 4)) * 0.3
    b2[:, 2:] = np.maximum(b2[:, 2:], b2[:, :2] + 0.1)
    return {"boxes1": b1, "boxes2": b2}


def _disjoint(rng, n):
    b1 = _boxes(rng, n)
    b2 = _boxes(rng, n) + 10.0
    return {"boxes1": b1, "boxes2": b2}


def _identical(rng, n):
    b = _boxes(rng, n)
    return {"boxes1": b, "boxes2": b.copy()}


def _degenerate(rng, n):
    """Zero width, zero height, point boxes, identical zero-area boxes."""
    b1, b2 = _boxes(rng, n), _boxes(rng, n)
    b1[0, 2] = b1[0, 0]          # zero width
    b1[1, 3] = b1[1, 1]          # zero height
    b1[2, 2:] = b1[2, :2]        # point
    b2[3, 3] = b2[3, 1]          # target of zero height
    b1[4, 2:] = b1[4, :2]
    b2[4] = b1[4]                # identical points
    b1[5, 3] = b1[5, 1]
    b2[5] = b1[5]                # identical zero-height boxes
    return {"boxes1": b1, "boxes2": b2}


def _weighted(rng, n):
    d = _pair(rng, n)
    d["weight"] = rng.uniform(0.1, 2.0, size=(n,))
    return d


# -- torchvision.ops formulas (torchvision/ops/giou_loss.py, diou_loss.py, ciou_loss.py) ----
def _tv_inter_union(b1, b2):
    T = P.torch()
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    xkis1, ykis1 = T.max(x1, x1g), T.max(y1, y1g)
    xkis2, ykis2 = T.min(x2, x2g), T.min(y2, y2g)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    inter = T.where(mask, (xkis2 - xkis1) * (ykis2 - ykis1), T.zeros_like(x1))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def tv_giou(b1, b2, eps=1e-7):
    T = P.torch()
    inter, union = _tv_inter_union(b1, b2)
    iou = inter / (union + eps)
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    area_c = (T.max(x2, x2g) - T.min(x1, x1g)) * (T.max(y2, y2g) - T.min(y1, y1g))
    return 1 - (iou - (area_c - union) / (area_c + eps))


def tv_diou(b1, b2, eps=1e-7):
    T = P.torch()
    inter, union = _tv_inter_union(b1, b2)
    iou = inter / (union + eps)
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    diag = (T.max(x2, x2g) - T.min(x1, x1g)) ** 2 + (T.max(y2, y2g) - T.min(y1, y1g)) ** 2 + eps
    cent = ((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2 + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2
    return 1 - iou + cent / diag, iou


def tv_ciou(b1, b2, eps=1e-7):
    T = P.torch()
    diou, iou = tv_diou(b1, b2, eps)
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    v = (4 / (T.pi ** 2)) * T.pow(T.atan((x2g - x1g) / (y2g - y1g)) - T.atan((x2 - x1) / (y2 - y1)), 2)
    with T.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou + alpha * v


def tv_iou(b1, b2, eps=1e-7):
    inter, union = _tv_inter_union(b1, b2)
    return 1 - inter / (union + eps)


_TV = {
    L.box_iou_loss: ("1 - inter/(union+eps) (torchvision _loss_inter_union)", tv_iou),
    L.generalized_box_iou_loss: ("torchvision.ops.generalized_box_iou_loss formula", tv_giou),
    L.distance_box_iou_loss: ("torchvision.ops.distance_box_iou_loss formula", lambda a, b: tv_diou(a, b)[0]),
    L.complete_box_iou_loss: ("torchvision.ops.complete_box_iou_loss formula", tv_ciou),
}


def _peer(loss, reduce="mean", grad=True):
    name, fn = _TV[loss]

    def peer(boxes1, boxes2, weight=None):
        out = fn(boxes1, boxes2)
        if weight is not None:
            return (out * weight).sum() / weight.sum()
        return {"mean": out.mean(), "sum": out.sum(), "none": out}[reduce]

    return Peer(name, "torch", peer, grad=grad)


CASES = []
for loss in _TV:
    # CIoU's alpha is under stop-gradient: its gradient is not the derivative of its value
    fd = loss is not L.complete_box_iou_loss
    CASES += [
        Case(loss, _pair, {}, diff=("boxes1", "boxes2"), vmap=("boxes1", "boxes2"), dynamic=True, fd=fd,
             peers=(_peer(loss),)),
        Case(loss, _pair, {"reduction": "none"}, name="none", diff=("boxes1",), fd=fd, peers=(_peer(loss, "none"),)),
        Case(loss, _disjoint, {"reduction": "sum"}, name="disjoint", diff=("boxes1", "boxes2"), fd=fd,
             peers=(_peer(loss, "sum"),)),
        Case(loss, _identical, {"reduction": "none"}, name="identical", diff=("boxes1", "boxes2"), fd=False,
             peers=(_peer(loss, "none"),)),
        Case(loss, _degenerate, {"reduction": "none"}, name="zero_area", diff=("boxes1", "boxes2"), fd=False),
        Case(loss, _weighted, {}, name="weighted", diff=("boxes1", "weight"), fd=fd, peers=(_peer(loss),)),
    ]
