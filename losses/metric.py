r"""Metric-learning and self-supervised losses.

Pair and triplet losses (contrastive, triplet margin), online triplet mining from
``(embeddings, labels)`` (batch-hard, batch-all, semi-hard; the miners
:func:`batch_hard_mining` and :func:`semi_hard_mining` return the selected triplets as
:class:`Triplets` index arrays, which ``indices_tuple=`` takes back), and the contrastive
self-supervised objectives (InfoNCE, NT-Xent, SupCon, CLIP, Barlow Twins), plus the small
distance helpers :func:`pairwise_distance` and :func:`cosine_similarity`.

Everything is vectorised over the batch: mining builds ``N x N`` (and, for batch-all and
semi-hard ``negatives="all"``, ``N x N x N``) distance/mask tensors and selects with
``where``/``argmax``/``argsort``; there is no Python loop over samples and no boolean indexing,
so every loss runs under ``jax.jit``/``torch.compile``. Distance matrices come from the Gram
matrix (one matmul, ``O(N^2)`` memory), semi-hard ``"closest"`` mining sorts each anchor's
negatives once (``O(N^2 log N)``).
Distances use the double-``where`` square root :func:`~losses._common.sqrt0`
(``where(s <= 0, 0, sqrt(where(s <= 0, 1, s)))``): the value and the gradient are finite, and
the gradient is 0, at zero distance; a NaN goes through.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple, get_args

from . import _validate as check
from ._common import (
    NORMALIZE_EPS,
    abs0,
    arange_like,
    cast,
    device_of,
    eye_mask,
    fill_doc,
    float_args,
    l2_norm0,
    l2_normalize,
    min_split,
    normalize_norm,
    numel,
    p_norm0,
    relu0,
    relu1,
    safe_divide,
    sqrt0,
)
from ._reduction import GROUP_ARG, gathered, global_count, global_sum, group_doc, reduce
from ._typing import ArrayT, Group, Reduction, ScalarReduction
from .backends import namespace

__all__ = [
    "pairwise_distance",
    "cosine_similarity",
    "contrastive_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "batch_hard_triplet_loss",
    "batch_all_triplet_loss",
    "semi_hard_triplet_loss",
    "batch_hard_mining",
    "semi_hard_mining",
    "info_nce_loss",
    "nt_xent_loss",
    "supervised_contrastive_loss",
    "clip_loss",
    "barlow_twins_loss",
    "arcface_loss",
    "cosface_loss",
    "sphereface_loss",
    "multi_similarity_loss",
    "circle_loss",
    "proxy_anchor_loss",
    "proxy_nca_loss",
]

#: ``distance=`` of the mining losses.
Distance = Literal["euclidean", "squared", "cosine"]
#: ``indices_tuple=``: pytorch-metric-learning's explicit triplets ``(a, p, n)`` or pairs
#: ``(a1, p, a2, n)`` (1-D integer arrays), or a miner's :class:`Triplets`.
IndicesTuple = tuple
#: ``mean_over=`` of the mining losses: what ``reduction="mean"`` divides by.
MeanOver = Literal["valid", "nonzero"]

#: ``positives=`` / ``negatives=`` of :func:`batch_hard_mining`.
Strategy = Literal["hard", "easy"]
#: ``negatives=`` of the semi-hard mining.
SemiHardNegatives = Literal["closest", "all"]

#: ``mean_over=`` of :func:`contrastive_loss`: what ``reduction="mean"`` divides by.
PairMeanOver = Literal["elements", "nonzero", "pos_neg", "pos_neg_nonzero"]

_DISTANCES = get_args(Distance)
_MEAN_OVER = get_args(MeanOver)
_PAIR_MEAN_OVER = get_args(PairMeanOver)
_STRATEGIES = get_args(Strategy)
_SEMI_HARD_NEGATIVES = get_args(SemiHardNegatives)


class Triplets(NamedTuple):
    """Mined triplets: four arrays of one shape, the output of the miners.

    ``anchor``, ``positive`` and ``negative`` hold row indices into the batch (with a
    ``group``: into the gathered global batch, whose rows are the members' shards in rank
    order), in the framework's default integer dtype; ``valid`` (bool) marks the triplets that
    were mined. Where ``valid`` is False, ``positive`` and ``negative`` hold the anchor's own
    index (a harmless in-range triplet). The shape is the miner's: ``(N,)`` for one triplet per
    anchor, ``(N, N)`` per positive pair, ``(N, N, N)`` per ``[a, p, n]``.

    pytorch-metric-learning's ``indices_tuple`` ``(a, p, n)`` is
    ``tuple(i[valid] for i in (anchor, positive, negative))`` (eager; boolean indexing);
    traceable code keeps the fixed shape and weighs each triplet's loss by ``valid``.
    """

    anchor: ArrayT
    positive: ArrayT
    negative: ArrayT
    valid: ArrayT


# ------------------------------------------------------------------------ private math ----
def _matmul_t(xp, a, b):
    """``a @ b.T`` for 2-D ``a`` and ``b``."""
    return xp.matmul(a, xp.matrix_transpose(b))


def _sum_sq(xp, x, total):
    """``total(x * x)`` (``total``: a sum over some axis) whose gradient ``2 x`` costs one
    full-size product: ``total(x * const(x))`` has the value and half the gradient, and its
    difference with its own constant (exactly 0) adds the other half."""
    half = total(x * xp.stop_gradient(x))
    return half + (half - xp.stop_gradient(half))


def _inverse_norm(xp, x):
    """``(N, 1)``: ``1 / max(||x_i||, NORMALIZE_EPS)``, so that ``x * it`` is
    :func:`~losses._common.l2_normalize` (the floor is a constant for the gradient, a zero
    row is finite) -- applied to a product of ``x`` instead of ``x`` itself."""
    s = _sum_sq(xp, x, lambda v: xp.sum(v, axis=-1, keepdims=True))
    zero = s <= 0
    n = xp.sqrt(xp.where(zero, xp.ones_like(s), s))
    return 1.0 / xp.where(zero | (n < NORMALIZE_EPS), NORMALIZE_EPS, n)


def _log1p_sum_exp(xp, t, mask, sign, shift, axis):
    """``log(1 + sum_{mask} exp(sign * t + shift))`` along ``axis`` (``sign`` +-1, ``shift``
    a number): 0 where the mask is empty, finite for any scale, shifted by ``max(0, the
    masked maximum)`` (gradient-free). The masked-out entries are set to the infinity whose
    exponential is 0 before the ``exp`` (double ``where``: no NaN gradient); a NaN goes
    through (the shift is NaN then)."""
    w = xp.where(mask, t, math.inf if sign < 0 else -math.inf)
    top = (shift - xp.min(w, axis=axis, keepdims=True) if sign < 0
           else xp.max(w, axis=axis, keepdims=True) + shift)
    m = xp.stop_gradient(xp.where(top < 0, 0.0, top))  # no member: -inf, shifted by 0
    e = xp.exp((shift - m) - w if sign < 0 else w - (m - shift))
    out = xp.log(xp.sum(e, axis=axis, keepdims=True) + xp.exp(-m)) + m
    return xp.squeeze(out, axis=axis)


def _self_mask(xp, like, n, n_all, group):
    """``(n, n_all)``: True where local row ``i`` meets its own row ``offset + i`` of the
    gathered batch (the identity matrix for ``group=None``)."""
    if group is None:
        return eye_mask(xp, like, n)
    rows = arange_like(xp, like, n) + xp.group_rank(group) * n
    return xp.expand_dims(rows, axis=1) == xp.expand_dims(arange_like(xp, like, n_all), axis=0)


def _own_columns(xp, like, n, group):
    """``(n,)``: the column of each local row's own sample in the gathered batch."""
    rows = arange_like(xp, like, n)
    return rows if group is None else rows + xp.group_rank(group) * n


def _distance_matrix(xp, e, distance, group=None, e_all=None):
    """``(N, N)`` distances between the rows of ``e`` (``O(N^2)`` memory, one matmul); with a
    ``group``, the ``(n, N)`` distances of the local rows to the gathered batch (``e_all``:
    that gathered batch, when the caller has it already).

    Euclidean and squared distances come from the Gram matrix: ``H = -2 e e^T`` (the ``-2``
    scales ``e``, exactly), ``s_ij = |e_i|^2 + |e_j|^2 + H_ij`` clamped at 0. The squared norms
    are read off the diagonal of ``H`` itself (``-H_ii / 2``, exact), so the diagonal is exactly
    0 (``2 q - 2 q``) and, as two identical rows (whose entries of ``H`` are computed by the
    same reduction), lands on the clamp: value and gradient 0. Near but distinct points lose
    relative accuracy to cancellation (about ``eps * ||e||^2`` absolute in ``s``), as every
    ``cdist``-style matmul formula does.
    """
    if distance == "cosine":
        en = l2_normalize(xp, e)
        en_all = gathered(xp, en, group) if e_all is None else l2_normalize(xp, e_all)
        return 1.0 - _matmul_t(xp, en, en_all)
    h = _matmul_t(xp, -2.0 * e, gathered(xp, e, group) if e_all is None else e_all)
    sq = -0.5 * xp.take_class(h, _own_columns(xp, h, e.shape[0], group), axis=1)  # diag, exactly
    s = (xp.expand_dims(sq, axis=1) + xp.expand_dims(gathered(xp, sq, group), axis=0)) + h
    zero = s <= 0  # the diagonal, identical rows, cancellation below 0; NaN goes through
    if distance == "squared":
        return xp.where(zero, 0.0, s)
    return xp.where(zero, 0.0, xp.sqrt(xp.where(zero, 1.0, s)))  # sqrt0, one test of s


def _pair_distance(xp, x, y, distance):
    """``(n,)`` distances of the row pairs ``(x_i, y_i)`` (the entries of
    :func:`_distance_matrix`, from the differences: exactly 0 with a zero gradient at equal
    rows)."""
    if distance == "cosine":
        return 1.0 - xp.sum(l2_normalize(xp, x) * l2_normalize(xp, y), axis=-1)
    diff = x - y
    s = xp.sum(diff * diff, axis=-1)
    return s if distance == "squared" else sqrt0(xp, s)


def _p_norm(xp, v, p, axis=-1, keepdims=False):
    """``||v||_p`` along ``axis`` for every real ``p`` that torch's ``vector_norm`` takes.

    ``p > 0``: :func:`~losses._common.p_norm0`. ``p = 0``: the number of non-zero elements
    (zero gradient). ``p = inf`` / ``-inf``: the largest / smallest ``|v_k|``, the gradient split
    evenly among ties (torch's). ``p < 0``: ``(sum |v_k|^p)^(1/p)``, which is 0 with a zero
    gradient when an element is 0 (torch's masked gradient). A NaN element gives NaN for every
    ``p`` (torch's ``p = 0`` counts it as non-zero).
    """
    if 0 < p < math.inf:
        return p_norm0(xp, v, p, axis, keepdims)
    a = abs0(xp, v)
    if p == 0:
        nonzero = xp.where(a == 0, xp.zeros_like(a), xp.ones_like(a))
        return xp.sum(xp.where(xp.isnan(a), a, nonzero), axis=axis, keepdims=keepdims)
    if p == math.inf or p == -math.inf:
        extreme = (xp.max if p > 0 else xp.min)(a, axis=axis, keepdims=True)
        hit = a == extreme  # no hit in a row holding NaN: 0 / 0 below
        total = xp.sum(xp.where(hit, a, xp.zeros_like(a)), axis=axis, keepdims=keepdims)
        return safe_divide(xp, total, xp.sum(cast(xp, hit, a.dtype), axis=axis, keepdims=keepdims))
    zero = a == 0
    s = xp.sum(xp.where(zero, xp.ones_like(a), a) ** p, axis=axis, keepdims=keepdims)
    dead = xp.logical_and(xp.any(zero, axis=axis, keepdims=keepdims), xp.logical_not(xp.isnan(s)))
    return xp.where(dead, xp.zeros_like(s), xp.where(dead, xp.ones_like(s), s) ** (1.0 / p))


def _norm_degree(p, shape, what):
    """``p`` of :func:`pairwise_distance` / :func:`triplet_margin_loss`: any real number but
    NaN, as torch; the norms without an identity (``p < 0``, ``+-inf``) need a non-empty
    feature axis (torch raises a ``RuntimeError`` there)."""
    check.real_number(p, "p")
    if (p < 0 or p == math.inf) and len(shape) >= 1 and shape[-1] == 0:
        raise ValueError(f"p={p!r} needs a non-empty last (feature) axis, got {what} of shape {tuple(shape)}")


# ------------------------------------------------------------------------ private checks ----
def _broadcast_shape(a, b, name_a, name_b):
    """The broadcast shape of ``a`` and ``b`` (both may grow; ``check.broadcastable`` only
    checks that one fits the other's shape)."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    out = []
    for i in range(max(len(sa), len(sb))):
        x = sa[len(sa) - 1 - i] if i < len(sa) else 1
        y = sb[len(sb) - 1 - i] if i < len(sb) else 1
        if x != y and 1 not in (x, y):
            raise ValueError(f"{name_a} of shape {sa} and {name_b} of shape {sb} do not broadcast together")
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(reversed(out))


def _floating(xp, x, name):
    """A required floating array argument (``check.floating`` lets an optional None through)."""
    if x is None:
        raise TypeError(f"{name} must be an array with a real floating dtype, got None")
    check.floating(xp, x, name)


def _ndim(x, n, name, what):
    if x.ndim != n:
        raise ValueError(f"{name} must be {n}-D ({what}), got shape {tuple(x.shape)}")


def _embeddings_labels(xp, embeddings, labels):
    _floating(xp, embeddings, "embeddings")
    if not (hasattr(labels, "dtype") and hasattr(labels, "shape")):
        raise TypeError(f"labels must be an array of integer class ids, got {type(labels).__name__}")
    if not check.is_integer(xp, labels):
        raise TypeError(f"labels must have an integer dtype (class ids), got dtype {labels.dtype}")
    _ndim(embeddings, 2, "embeddings", "N samples x D features")
    if labels.ndim != 1 or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"labels must have shape ({embeddings.shape[0]},) (one label per row of embeddings "
            f"{tuple(embeddings.shape)}), got {tuple(labels.shape)}"
        )


def _mining_options(margin, distance, normalize, mean_over, reduction):
    check.reduction(reduction)
    check.finite_number(margin, "margin")
    check.choice(distance, "distance", _DISTANCES)
    check.choice(mean_over, "mean_over", _MEAN_OVER)
    check.flag(normalize, "normalize")


def _label_masks(xp, e, labels, eye=None, labels_all=None):
    """``(pos, neg)``: same label and not the same row / different label, both ``(N, N)``
    (``(n, N)`` against the gathered ``labels_all``)."""
    n = labels.shape[0]
    others = labels if labels_all is None else labels_all
    same = xp.expand_dims(labels, axis=1) == xp.expand_dims(others, axis=0)
    pos = xp.logical_and(same, xp.logical_not(eye_mask(xp, e, n) if eye is None else eye))
    return pos, xp.logical_not(same)


def _mining_matrices(xp, e, labels, distance, group, e_all=None):
    """``(d, pos, neg)`` of the mining losses: the local anchors' distances to every sample
    of the (global) batch and their positive / negative masks."""
    labels_all = gathered(xp, labels, group)
    d = _distance_matrix(xp, e, distance, group, e_all)
    same = xp.expand_dims(labels, axis=1) == xp.expand_dims(labels_all, axis=0)
    # the self pairs are same-label pairs: "same and not self" is "same xor self"
    pos = xp.logical_xor(same, _self_mask(xp, e, e.shape[0], labels_all.shape[0], group))
    return d, pos, xp.logical_not(same)


# ----------------------------------------------------------- mining: the selections ----
# One implementation of each selection, shared by the miners and the mining losses. Every
# selection is an argmax/argmin/sort (no boolean indexing); a NaN distance is selected (a
# comparison with NaN is False, and argmax/argmin pick a NaN first on every backend).
def _hard_select(xp, d, pos, neg, positives, negatives):
    """``(idx_p, idx_n, valid)``, each ``(n,)``: per anchor the farthest (``"hard"``) or
    closest (``"easy"``) positive and the closest (``"hard"``) or farthest (``"easy"``)
    negative (the first index on ties), and whether the anchor has both."""
    valid = xp.logical_and(xp.any(pos, axis=1), xp.any(neg, axis=1))
    if 0 in d.shape:  # an empty batch (or no sample to pick): argmax of nothing is undefined
        empty = xp.zeros(d.shape[:1], dtype=arange_like(xp, d, 0).dtype, device=device_of(d))
        return empty, empty, valid
    if positives == "hard":
        idx_p = xp.argmax(xp.where(pos, d, -math.inf), axis=1)
    else:
        idx_p = xp.argmin(xp.where(pos, d, math.inf), axis=1)
    if negatives == "hard":
        idx_n = xp.argmin(xp.where(neg, d, math.inf), axis=1)
    else:
        idx_n = xp.argmax(xp.where(neg, d, -math.inf), axis=1)
    return idx_p, idx_n, valid


def _semi_hard_select(xp, d, pos, neg):
    """``(idx_n, valid)``, each ``(n, N)`` indexed ``[a, p]``: the FaceNet semi-hard negative
    of every pair (:func:`_semi_hard_index`) and whether ``(a, p)`` is a positive pair whose
    anchor has a negative."""
    valid = xp.logical_and(pos, xp.expand_dims(xp.any(neg, axis=1), axis=1))
    if 0 in d.shape:  # an empty batch: argmin over an empty axis is undefined
        return xp.zeros(d.shape, dtype=arange_like(xp, d, 0).dtype, device=device_of(d)), valid
    return _semi_hard_index(xp, d, neg), valid


def _semi_hard_band(xp, d, pos, neg, margin):
    """``(gap, valid)``, each ``(n, N, N)`` indexed ``[a, p, n]``: ``d_an - d_ap`` and the
    triplets with ``0 < d_an - d_ap <= margin`` (pml's ``"semihard"``; a NaN gap is in)."""
    gap = xp.expand_dims(d, axis=1) - xp.expand_dims(d, axis=2)
    band = xp.logical_not(xp.logical_or(gap <= 0, gap > margin))
    valid = xp.logical_and(xp.logical_and(xp.expand_dims(pos, axis=2), xp.expand_dims(neg, axis=1)), band)
    return gap, valid


def _triplets(xp, like, shape, valid, positive, negative, group):
    """:class:`Triplets` of ``shape`` (first axis: the local anchors), the invalid entries'
    positive and negative set to the anchor's own (global) index."""
    n = shape[0]
    anchor = arange_like(xp, like, n)
    if group is not None:
        anchor = anchor + xp.group_rank(group) * n
    anchor = xp.broadcast_to(xp.reshape(anchor, (n,) + (1,) * (len(shape) - 1)), shape)
    positive = xp.where(valid, xp.astype(positive, anchor.dtype), anchor)
    negative = xp.where(valid, xp.astype(negative, anchor.dtype), anchor)
    return Triplets(anchor, positive, negative, valid)


def _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype, group=None):
    """Reduce per-triplet (or per-anchor) losses over the ``valid`` ones.

    ``"mean"`` averages over the valid entries (``mean_over="valid"``) or over the valid
    entries with a loss > 0 (``mean_over="nonzero"``; a NaN loss counts, rule 5); with nothing
    to average in a non-empty batch the result is 0 (finite, zero gradient), as in
    pytorch-metric-learning. An empty batch (no entry at all) gives NaN, the mean of nothing;
    with a group too (the shards are equal, so an empty shard means an empty global batch,
    and every member takes this branch and its collective).
    """
    loss = xp.where(valid, loss, 0.0)
    if reduction != "mean" or numel(loss) == 0:
        return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
    count = valid if mean_over == "valid" else xp.logical_and(valid, xp.logical_not(loss <= 0))
    total = global_sum(xp, xp.where(count, loss, 0.0), group)
    out = safe_divide(xp, total, global_sum(xp, cast(xp, count, loss.dtype), group), fill=0.0)
    return xp.as_array(cast(xp, out, out_dtype))


def _prepare_embeddings(xp, embeddings, normalize):
    _, out_dtype, (e,) = float_args(xp, embeddings, names=("embeddings",))
    if normalize:
        e = l2_normalize(xp, e)
    return e, out_dtype


_MINING_ARGS = f"""
    Args:
        embeddings: ``(N, D)`` floating embeddings.
        labels: ``(N,)`` integer class ids (any integer dtype). Samples with the same id form
            positive pairs; a sample never pairs with itself.
        margin: the margin ``m`` (any finite real number; default 1.0).
        distance: ``"euclidean"`` (default), ``"squared"`` (squared Euclidean) or
            ``"cosine"`` (``1 - cos``). Euclidean distances have a finite value and a zero
            gradient at zero distance; no ``eps`` is added to the differences.
        normalize: L2-normalise the embeddings first (``x / max(||x||, {NORMALIZE_EPS:g})``,
            as ``torch.nn.functional.normalize``). Default False.
"""

_MINING_TAIL = f"""\
        mean_over: what ``reduction="mean"`` divides by: ``"valid"`` (default, the paper's
            mean over every valid term) or ``"nonzero"`` (only the terms with a loss > 0:
            pytorch-metric-learning's ``AvgNonZeroReducer``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``. The mean of no valid term is 0 (not
            NaN) with a zero gradient: a batch without positives does not poison training.
            An empty batch (``N = 0``) gives NaN for ``"mean"``, 0 for ``"sum"`` and an empty
            array for ``"none"``. A NaN in an embedding makes every term that reads it NaN: the
            NaN is selected by the mining comparisons (it is never dropped as "not harder").
{GROUP_ARG}"""

_MINING_RAISES = """
    Raises:
        ValueError: embeddings not 2-D, labels not of shape ``(N,)``, an infinite ``margin``,
            bad ``distance``, ``mean_over`` or ``reduction``.
        TypeError: non-floating embeddings, non-integer labels, non-real ``margin``, non-bool
            ``normalize``.
"""


def _mining_doc(f):
    f = fill_doc("{mining}", _MINING_ARGS)(fill_doc("{mining_tail}", _MINING_TAIL)(f))
    return fill_doc("{mining_raises}", _MINING_RAISES)(f)


# ----------------------------------------------------------------------------- helpers ----
@check.entry
def pairwise_distance(x1: ArrayT, x2: ArrayT, *, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> ArrayT:
    r"""p-norm distance between corresponding rows (``torch.nn.functional.pairwise_distance``).

    .. math:: d_i = \Big(\sum_k |x_{1,ik} - x_{2,ik} + \varepsilon|^p\Big)^{1/p}

    The norm is taken over the last axis; ``x1`` and ``x2`` broadcast against each other (0-d
    inputs are vectors of one element, as in torch). With ``eps=0`` the distance of identical
    rows is exactly 0 with a zero gradient (the double-``where`` square root); the default
    ``eps=1e-6`` is torch's bias.

    Args:
        x1, x2: floating arrays ``(..., D)`` broadcastable against each other.
        p: the norm degree, any real number as torch (default 2): ``p > 0`` the p-norm,
            ``p = inf`` / ``-inf`` the largest / smallest ``|difference|`` (gradient split
            evenly among ties), ``p = 0`` the number of non-zero differences (zero gradient),
            ``p < 0`` the same power formula (0, with a zero gradient, when a difference is 0).
        eps: added to the difference before the norm, >= 0 (default 1e-6, as torch).
        keepdim: keep the reduced last axis with size 1.

    Returns:
        Distances of the broadcast shape without the last axis (with it when ``keepdim``),
        in the promoted floating dtype of the inputs.

    Raises:
        ValueError: shapes that do not broadcast, ``eps < 0`` or not finite, an empty last
            axis with ``p < 0`` or ``p = +-inf``.
        TypeError: non-floating inputs, ``p`` not a real number (NaN included), non-bool
            ``keepdim``.

    Peer twins: ``torch.nn.functional.pairwise_distance(x1, x2, p, eps, keepdim)`` (value
    and gradient; torch also takes ``eps < 0``, and its ``p=0`` counts a NaN difference as
    non-zero); ``scipy.spatial.distance.minkowski`` row by row with ``eps=0``.

    Example:
        >>> import numpy as np, losses
        >>> x1 = np.array([[0.0, 0.0], [1.0, 1.0]]); x2 = np.array([[3.0, 4.0], [1.0, 1.0]])
        >>> np.round(losses.pairwise_distance(x1, x2, eps=0.0), 4)  # a 3-4-5 triangle; identical rows
        array([5., 0.])
    """
    xp = namespace(x1=x1, x2=x2)
    check.finite_number(eps, "eps", low=0)
    check.flag(keepdim, "keepdim")
    _floating(xp, x1, "x1")
    _floating(xp, x2, "x2")
    shape = _broadcast_shape(x1, x2, "x1", "x2")
    _norm_degree(p, shape, "the broadcast of x1 and x2")
    _, out_dtype, (a, b) = float_args(xp, x1, x2, names=("x1", "x2"))
    out = xp.fast("pairwise_distance", a, b, p, eps, keepdim, out_dtype)
    if out is not NotImplemented:
        return out
    diff = a - b + eps
    if not shape:  # 0-d inputs: a vector of one element (torch); keepdim keeps the 0-d shape
        return xp.as_array(cast(xp, _p_norm(xp, xp.reshape(diff, (1,)), p, axis=0), out_dtype))
    d = _p_norm(xp, diff, p, axis=-1, keepdims=keepdim)
    return xp.as_array(cast(xp, d, out_dtype))


@check.entry
def cosine_similarity(x1: ArrayT, x2: ArrayT, *, axis: int = -1, eps: float = 1e-8) -> ArrayT:
    r"""Cosine similarity along ``axis``, finite (value and gradient) at zero vectors.

    .. math:: s = \frac{x_1}{\max(\lVert x_1\rVert_2, \varepsilon)} \cdot
                  \frac{x_2}{\max(\lVert x_2\rVert_2, \varepsilon)}

    A zero vector has similarity 0 with everything; its gradient is
    ``x_2 / (eps * max(||x_2||, eps))`` (torch's value there). The clamped norm is a
    constant for the gradient, as in ``torch.nn.functional.normalize``.

    Args:
        x1, x2: floating arrays broadcastable against each other; 0-d inputs (broadcast shape
            ``()``) are vectors of one element, as in torch (``axis`` 0 or -1).
        axis: the feature axis (default -1; torch's default is ``dim=1``, the same axis for
            2-D inputs).
        eps: norm floor >= 0 (default 1e-8, as torch). With ``eps=0`` a zero vector gives
            NaN (0 / 0), as in torch.

    Returns:
        The similarity, of the broadcast shape without ``axis``, in [-1, 1].

    Raises:
        ValueError: shapes that do not broadcast, ``axis`` out of range, ``eps < 0`` or not
            finite.
        TypeError: non-floating inputs, ``axis`` not an int.

    Peer twins: ``torch.nn.functional.cosine_similarity(x1, x2, dim=axis, eps=eps)``
    (value; gradient equal wherever no norm is below ``eps`` and at exactly zero vectors —
    see docs/differences.md); ``optax.cosine_similarity(x1, x2, epsilon=eps**2)`` (value).

    Example:
        >>> import numpy as np, losses
        >>> x1 = np.array([[1.0, 0.0], [1.0, 1.0]]); x2 = np.array([[0.0, 1.0], [2.0, 2.0]])
        >>> np.round(losses.cosine_similarity(x1, x2), 4)  # orthogonal; parallel
        array([0., 1.])
    """
    xp = namespace(x1=x1, x2=x2)
    check.finite_number(eps, "eps", low=0)
    _floating(xp, x1, "x1")
    _floating(xp, x2, "x2")
    shape = _broadcast_shape(x1, x2, "x1", "x2")
    ndim = max(len(shape), 1)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be an int in [{-ndim}, {ndim - 1}] for the broadcast shape {shape}, got {axis!r}")
    _, out_dtype, (a, b) = float_args(xp, x1, x2, names=("x1", "x2"))
    if tuple(a.shape) != tuple(b.shape):
        a, b = xp.broadcast_arrays(a, b)
    if not shape:  # 0-d inputs: vectors of one element (torch)
        a, b = xp.reshape(a, (1,)), xp.reshape(b, (1,))
    # the normalised vectors' dot product, with one division per vector pair
    n = normalize_norm(xp, a, eps, axis=axis) * normalize_norm(xp, b, eps, axis=axis)
    s = xp.sum(a * b, axis=axis) / xp.squeeze(n, axis=axis)
    return xp.as_array(cast(xp, s, out_dtype))


# -------------------------------------------------------------------------- pair losses ----
@check.entry
@group_doc
def contrastive_loss(x1: ArrayT, x2: ArrayT, target: ArrayT, *, margin: float = 1.0,
                     squared: bool = True, mean_over: PairMeanOver = "elements",
                     reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Contrastive loss on pairs (Hadsell, Chopra & LeCun 2006), ``target=1`` = similar.

    With the Euclidean distance ``D = ||x_1 - x_2||_2``:

    .. math::
        \ell = \tfrac12\big[y\,D^2 + (1 - y)\,\max(0, m - D)^2\big]
        \quad(\texttt{squared=True}),\qquad
        \ell = \tfrac12\big[y\,D + (1 - y)\,\max(0, m - D)\big]
        \quad(\texttt{squared=False})

    The paper's label convention is inverted (its ``Y=0`` is "similar"); here ``y=1``
    marks a similar pair, as in TF-Addons. ``D`` has no ``eps`` bias: at ``x1 == x2`` the
    value is ``(1-y) m^2 / 2`` with a zero gradient (the subgradient of ``D`` at 0 is 0).
    A label of exactly 0 selects the hinge term only (``0 * D`` is never formed), so an
    infinite distance of a dissimilar pair gives 0, as ``hinge_embedding_loss``; a NaN
    embedding gives NaN.

    Args:
        x1, x2: ``(..., D)`` floating embeddings of the two members of each pair (same shape).
        target: ``x1.shape[:-1]`` labels in [0, 1] (1 = similar, 0 = dissimilar; bool,
            integer or floating; soft labels interpolate).
        margin: ``m``, a finite real number (default 1.0).
        squared: square the distance and the hinge (the paper, default) or not.
        mean_over: what ``reduction="mean"`` divides by (pytorch-metric-learning's reducers):
            ``"elements"`` (default: the mean over the pairs; pml's ``MeanReducer`` of one
            loss), ``"nonzero"`` (over the pairs with a loss > 0: pml's
            ``AvgNonZeroReducer``), ``"pos_neg"`` (the mean of the similar pairs' terms
            ``y D^2 / 2`` plus the mean of the dissimilar pairs' terms
            ``(1 - y) max(0, m - D)^2 / 2``, weighted by ``y`` and ``1 - y``: pml's
            ``ContrastiveLoss`` with ``MeanReducer``, which reduces its ``pos_loss`` and
            ``neg_loss`` apart and adds them) or ``"pos_neg_nonzero"`` (each of the two over
            its terms > 0: pml's ``ContrastiveLoss`` default, ``AvgNonZeroReducer``). A mean
            over no term is 0 (pml's); an empty batch gives NaN.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        The pair losses (shape ``x1.shape[:-1]``) for ``"none"``, else a scalar.

    Raises:
        ValueError: shapes differ, an infinite ``margin``, bad ``reduction``; eagerly,
            targets outside [0, 1].
        TypeError: non-floating embeddings, a complex ``target``, non-real ``margin``,
            non-bool ``squared``.

    References: Hadsell, Chopra & LeCun 2006, "Dimensionality Reduction by Learning an
    Invariant Mapping" (CVPR).

    Peer twins:
        * TF-Addons ``tfa.losses.contrastive_loss(y, D, margin)`` (squared terms without the
          1/2) = ``2 * contrastive_loss(x1, x2, y, margin=m)``.
        * ``torch.nn.functional.hinge_embedding_loss(D, 2y - 1, margin=m)`` =
          ``2 * contrastive_loss(x1, x2, y, margin=m, squared=False)``.
        * pytorch-metric-learning ``ContrastiveLoss(pos_margin=0, neg_margin=m)(e, labels,
          (a1, p, a2, n))`` (explicit pairs; its default ``LpDistance`` normalises ``e``) =
          ``2 * contrastive_loss(x1, x2, y, margin=m, squared=False,
          mean_over="pos_neg_nonzero")`` with ``x1 = ê[concat(a1, a2)]``, ``x2 =
          ê[concat(p, n)]``, ``y = [1]*len(a1) + [0]*len(a2)`` (``ê``: the normalised
          embeddings); with ``reducer=MeanReducer()``: ``mean_over="pos_neg"``.

    Example:
        >>> import numpy as np, losses
        >>> x1 = np.array([[0.0, 0.0], [0.0, 0.0]]); x2 = np.array([[3.0, 4.0], [0.3, 0.4]])
        >>> np.round(losses.contrastive_loss(x1, x2, np.array([1, 0]), reduction="none"), 4)
        array([12.5  ,  0.125])
    """
    xp = namespace(x1=x1, x2=x2, target=target)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(margin, "margin")
    check.flag(squared, "squared")
    check.choice(mean_over, "mean_over", _PAIR_MEAN_OVER)
    _floating(xp, x1, "x1")
    _floating(xp, x2, "x2")
    if not (hasattr(target, "dtype") and hasattr(target, "shape")):
        raise TypeError(f"target must be an array of pair labels, got {type(target).__name__}")
    check.ndim_at_least(x1, 1, "x1")
    check.same_shape(x1, x2, "x1", "x2")
    if tuple(target.shape) != tuple(x1.shape[:-1]):
        raise ValueError(
            f"target must have shape {tuple(x1.shape[:-1])} (x1 {tuple(x1.shape)} without its "
            f"last, feature axis), got {tuple(target.shape)}"
        )
    _, out_dtype, (a, b, y) = float_args(xp, x1, x2, target, names=("x1", "x2", "target"))
    if not xp.isdtype(target.dtype, "bool"):  # bools are in [0, 1]; strict has no min on bool
        check.values_in(xp, target, "target", 0, 1, what="pair labels")
    diff = a - b
    s = xp.sum(diff * diff, axis=-1)
    d = sqrt0(xp, s)
    hinge = relu0(xp, margin - d)
    pull = s if squared else d
    pull = xp.where(y == 0, 0.0, y * pull)  # y = 0: no 0 * inf (torch's select)
    push = (1 - y) * (hinge * hinge if squared else hinge)
    loss = 0.5 * (pull + push)
    if reduction != "mean" or mean_over == "elements" or numel(loss) == 0:
        return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
    if mean_over == "nonzero":
        out = _nonzero_mean(xp, loss, group)
    elif mean_over == "pos_neg":
        out = (safe_divide(xp, global_sum(xp, 0.5 * pull, group), global_sum(xp, y, group), fill=0.0)
               + safe_divide(xp, global_sum(xp, 0.5 * push, group), global_sum(xp, 1 - y, group), fill=0.0))
    else:
        out = _nonzero_mean(xp, 0.5 * pull, group) + _nonzero_mean(xp, 0.5 * push, group)
    return xp.as_array(cast(xp, out, out_dtype))


def _nonzero_mean(xp, terms, group):
    """The mean of the terms > 0 (a NaN term counts, rule 5); 0 when there is none (pml's
    ``AvgNonZeroReducer``)."""
    count = xp.logical_not(terms <= 0)
    total = global_sum(xp, xp.where(count, terms, 0.0), group)
    return safe_divide(xp, total, global_sum(xp, cast(xp, count, terms.dtype), group), fill=0.0)


# ----------------------------------------------------------------------- triplet losses ----
def _triplet_shapes(xp, anchor, positive, negative):
    _floating(xp, anchor, "anchor")
    _floating(xp, positive, "positive")
    _floating(xp, negative, "negative")
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise ValueError(
            "anchor, positive and negative must all be 1-D (D,) or all 2-D (N, D), got "
            f"anchor {tuple(anchor.shape)}, positive {tuple(positive.shape)}, negative {tuple(negative.shape)}"
        )
    check.same_shape(anchor, positive, "anchor", "positive")
    check.same_shape(anchor, negative, "anchor", "negative")


def _row_distance(xp, x, y, p, eps):
    """``||x - y + eps||_p`` over the last axis: the framework's ``pairwise_distance`` kernel
    where it has one for ``p``, else :func:`_p_norm`."""
    d = xp.fast("pairwise_distance", x, y, p, eps, False, None)
    return _p_norm(xp, x - y + eps, p) if d is NotImplemented else d


def _triplet_combine(xp, d_ap, d_an, d_pn, margin, reduction, out_dtype, group):
    if d_pn is not None:
        d_an = min_split(xp, d_an, d_pn)
    loss = relu1(xp, margin + d_ap - d_an)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def triplet_margin_loss(anchor: ArrayT, positive: ArrayT, negative: ArrayT, *, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Triplet margin loss (Balntas et al. 2016), ``torch.nn.functional`` semantics.

    .. math:: \ell_i = \max\big(0,\ m + d(a_i, p_i) - d(a_i, n_i)\big),\qquad
              d(x, y) = \lVert x - y + \varepsilon\rVert_p

    With ``swap=True`` (the distance swap of Balntas et al.) the negative distance is
    ``min(d(a, n), d(p, n))``. Subgradients are torch's: 1 at the hinge's kink
    (``clamp_min``), 1/2 to each side of a tie in the swap's minimum.

    Args:
        anchor, positive, negative: floating ``(N, D)`` or ``(D,)``, all the same shape.
        margin: ``m`` > 0 and finite (torch's requirement; default 1.0).
        p: norm degree, any real number as torch (default 2; see :func:`pairwise_distance`
            for ``p <= 0`` and ``+-inf``). ``p=1`` is the L1 distance ``sum |x - y + eps|``
            (optax's ``norm_degree=1`` omits the absolute value).
        eps: added to the differences, as torch (default 1e-6), >= 0; 0 is allowed and safe.
        swap: use the distance swap.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` (or ``()``) losses for ``"none"``, else a scalar.

    Raises:
        ValueError: shapes differ or are not 1-/2-D, ``margin <= 0`` or infinite, ``eps < 0``
            or infinite, an empty feature axis with ``p < 0`` or ``+-inf``, bad ``reduction``.
        TypeError: non-floating inputs, non-real ``margin``/``p``/``eps``, non-bool ``swap``.

    References: Balntas, Riba, Ponsa & Mikolajczyk 2016, "Learning local feature descriptors
    with triplets and shallow convolutional neural networks" (BMVC; the distance swap).

    Peer twins: ``torch.nn.functional.triplet_margin_loss`` (same arguments: value and
    gradient). ``optax.losses.triplet_margin_loss(a, p, n, norm_degree=2, margin=m, eps=0)``
    = ``triplet_margin_loss(a, p, n, margin=m, eps=0, reduction="none")`` (optax puts
    ``eps`` inside the root instead: ``(sum d^p + eps)^(1/p)``).

    Example:
        >>> import numpy as np, losses
        >>> a = np.array([[0.0, 0.0], [0.0, 0.0]]); p = np.array([[0.0, 1.0], [0.0, 1.0]])
        >>> n = np.array([[0.0, 3.0], [0.0, 1.5]])  # beyond the margin; inside it
        >>> np.round(losses.triplet_margin_loss(a, p, n, eps=0.0, reduction="none"), 4)
        array([0. , 0.5])
    """
    xp = namespace(anchor=anchor, positive=positive, negative=negative)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(margin, "margin", low=0, low_open=True)
    check.finite_number(eps, "eps", low=0)
    check.flag(swap, "swap")
    _triplet_shapes(xp, anchor, positive, negative)
    _norm_degree(p, anchor.shape, "anchor")
    _, out_dtype, (a, pos, neg) = float_args(xp, anchor, positive, negative,
                                             names=("anchor", "positive", "negative"))
    d_ap = _row_distance(xp, a, pos, p, eps)
    d_an = _row_distance(xp, a, neg, p, eps)
    d_pn = _row_distance(xp, pos, neg, p, eps) if swap else None
    return _triplet_combine(xp, d_ap, d_an, d_pn, margin, reduction, out_dtype, group)


@check.entry
@group_doc
def triplet_margin_with_distance_loss(anchor: ArrayT, positive: ArrayT, negative: ArrayT, *,
                                      distance_function: Callable[[ArrayT, ArrayT], ArrayT] | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Triplet margin loss with a custom distance (``torch.nn.functional`` semantics).

    .. math:: \ell_i = \max\big(0,\ m + d(a_i, p_i) - d(a_i, n_i)\big)

    Args:
        anchor, positive, negative: floating ``(N, D)`` or ``(D,)``, all the same shape.
        distance_function: ``f(x, y) -> (N,)`` distances written with array-API operations
            (it receives the arrays in the compute dtype). Default: :func:`pairwise_distance`
            (Euclidean with torch's ``eps=1e-6``). E.g. ``lambda x, y: 1 -
            cosine_similarity(x, y)``.
        margin: ``m`` > 0 and finite (torch's requirement; default 1.0).
        swap: negative distance ``min(d(a, n), d(p, n))``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` losses for ``"none"``, else a scalar.

    Raises:
        ValueError: ``margin <= 0`` or infinite, shapes differ, bad ``reduction``.
        TypeError: ``distance_function`` not callable, non-floating inputs, non-bool ``swap``.

    References: Balntas et al. 2016 (the triplet margin loss and its distance swap);
    ``torch.nn.functional.triplet_margin_with_distance_loss`` (its definition and arguments).

    Peer twins: ``torch.nn.functional.triplet_margin_with_distance_loss`` (the same
    ``distance_function`` written for torch tensors; value and gradient).

    Example:
        >>> import numpy as np, losses
        >>> a = np.array([[0.0, 0.0], [0.0, 0.0]]); p = np.array([[0.0, 1.0], [0.0, 1.0]])
        >>> n = np.array([[0.0, 3.0], [0.0, 1.5]])
        >>> l1 = lambda x, y: losses.pairwise_distance(x, y, p=1.0, eps=0.0)
        >>> np.round(losses.triplet_margin_with_distance_loss(a, p, n, distance_function=l1,
        ...                                                   reduction="none"), 4)
        array([0. , 0.5])
    """
    xp = namespace(anchor=anchor, positive=positive, negative=negative)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(margin, "margin", low=0, low_open=True)
    check.flag(swap, "swap")
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"distance_function must be callable or None, got {distance_function!r}")
    _triplet_shapes(xp, anchor, positive, negative)
    _, out_dtype, (a, pos, neg) = float_args(xp, anchor, positive, negative,
                                             names=("anchor", "positive", "negative"))
    dist = pairwise_distance if distance_function is None else distance_function
    d_ap, d_an = dist(a, pos), dist(a, neg)
    d_pn = dist(pos, neg) if swap else None
    return _triplet_combine(xp, d_ap, d_an, d_pn, margin, reduction, out_dtype, group)


# ------------------------------------------------------------------------ online mining ----
@check.entry
@_mining_doc
def batch_hard_triplet_loss(embeddings: ArrayT, labels: ArrayT, *, margin: float = 1.0,
                            distance: Distance = "euclidean", normalize: bool = False,
                            soft_margin: bool = False, mean_over: MeanOver = "valid",
                            reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Batch-hard triplet loss (Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss").

    For every anchor ``a``: the farthest positive and the closest negative in the batch,

    .. math:: \ell_a = \max\big(0,\ m + \max_{p:\,y_p = y_a,\,p \ne a} d_{ap}
              - \min_{n:\,y_n \ne y_a} d_{an}\big)

    (``soft_margin=True``: ``softplus(d_ap - d_an)``, the paper's soft margin, no ``m``).
    Anchors without a positive or without a negative are not valid and contribute nothing.
    The hardest samples are picked with ``argmax``/``argmin`` (the first one on ties), and the
    gradient flows through the picked distances only. The hinge's subgradient at 0 is 0.
    {mining}
        soft_margin: ``softplus(d_ap - d_an)`` instead of the hinge (no ``margin``).
    {mining_tail}

    Returns:
        ``(N,)`` per-anchor losses (0 for invalid anchors) for ``"none"``, else a scalar.
    {mining_raises}

    References: Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss for Person
    Re-Identification" (batch-hard, soft margin).

    Peer twins:
        * TF-Addons ``triplet_hard_loss(y, x, margin=m, soft=s, distance_metric="L2")`` =
          ``batch_hard_triplet_loss(x, y, margin=m, soft_margin=s)`` when every anchor has a
          positive and a negative (TF-Addons averages over all anchors and uses a hardest
          positive distance of 0 for anchors without positives; ``"squared-L2"``:
          ``distance="squared"``; ``"angular"``: ``distance="cosine"``).
        * pytorch-metric-learning ``TripletMarginLoss(margin=m)`` with
          ``BatchHardMiner()`` (defaults: ``LpDistance(normalize_embeddings=True)``,
          ``AvgNonZeroReducer``) = ``batch_hard_triplet_loss(x, y, margin=m,
          normalize=True, mean_over="nonzero")``.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 5.0]])
        >>> y = np.array([0, 0, 0, 1, 1])
        >>> np.round(losses.batch_hard_triplet_loss(x, y, reduction="none"), 4)  # 1 + max d_ap - min d_an
        array([2.    , 0.7639, 0.3944, 2.    , 0.    ])
        >>> round(float(losses.batch_hard_triplet_loss(x, y)), 4)
        1.0317
    """
    xp = namespace(embeddings=embeddings, labels=labels)
    _mining_options(margin, distance, normalize, mean_over, reduction)
    group = xp.check_group(group)
    check.flag(soft_margin, "soft_margin")
    _embeddings_labels(xp, embeddings, labels)
    e, out_dtype = _prepare_embeddings(xp, embeddings, normalize)
    # The selection reads constant distances; the two picked distances of each anchor are
    # computed again from the picked rows (an O(N D) backward, no (N, N) graph).
    e_all = gathered(xp, e, group)
    d, pos, neg = _mining_matrices(xp, xp.stop_gradient(e), labels, distance, group, xp.stop_gradient(e_all))
    idx_p, idx_n, valid = _hard_select(xp, d, pos, neg, "hard", "hard")
    if 0 in d.shape:  # an empty batch: nothing to take
        d_ap = d_an = xp.sum(e, axis=1)
    else:
        d_ap = _pair_distance(xp, e, xp.take(e_all, idx_p, axis=0), distance)
        d_an = _pair_distance(xp, e, xp.take(e_all, idx_n, axis=0), distance)
    loss = xp.softplus(d_ap - d_an) if soft_margin else relu0(xp, margin + d_ap - d_an)
    return _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype, group)


@check.entry
@_mining_doc
def batch_all_triplet_loss(embeddings: ArrayT, labels: ArrayT, *, margin: float = 1.0,
                           distance: Distance = "euclidean", normalize: bool = False,
                           mean_over: MeanOver = "valid", reduction: Reduction = "mean",
                           group: Group = None, indices_tuple: IndicesTuple | None = None) -> ArrayT:
    r"""Batch-all triplet loss (Hermans et al. 2017): every valid triplet of the batch.

    .. math:: \ell_{apn} = \max(0,\ m + d_{ap} - d_{an}),\qquad
              y_p = y_a,\ p \ne a,\ y_n \ne y_a

    ``mean_over="valid"`` is the paper's "BA" (mean over all valid triplets);
    ``mean_over="nonzero"`` is "BA≠0" (mean over the triplets with a positive loss), the
    reducer of pytorch-metric-learning and of the widely used TensorFlow implementation
    (``num_positive_triplets``). Memory: ``N^3`` losses.

    ``indices_tuple`` (pytorch-metric-learning's explicit triplets or pairs) replaces the
    triplets of the batch by the given ones, taken as they are (the labels are not
    consulted, as in pml): ``(a, p, n)`` triplets, ``(a1, p, a2, n)`` pairs (every positive
    pair ``(a1_i, p_i)`` with every negative pair ``(a2_j, n_j)`` of the same anchor, pml's
    ``convert_to_triplets``) or the :class:`Triplets` of a miner (its ``valid`` entries).
    {mining}
    {mining_tail}
        indices_tuple: ``None`` (default: every valid triplet), a tuple ``(a, p, n)`` or
            ``(a1, p, a2, n)`` of 1-D integer row indices (the arrays of a tuple of the same
            length; ``a1``/``p`` and ``a2``/``n`` in pairs), in ``[0, N)`` (checked eagerly),
            or the :class:`Triplets` of :func:`batch_hard_mining` / :func:`semi_hard_mining`.
            Not with a ``group``.

    Returns:
        ``(N, N, N)`` losses indexed ``[a, p, n]`` (0 for invalid triplets) for
        ``"none"``, else a scalar. With ``indices_tuple``: ``(T,)`` per given triplet
        (``(P, Q)`` indexed ``[i, j]`` for pairs, 0 where ``a1_i != a2_j``; the shape of the
        :class:`Triplets`, 0 where not valid). The mean of no triplet is 0 (as pml's).
    {mining_raises}

    References: Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss for Person
    Re-Identification" (batch-all, "BA" and "BA≠0").

    Peer twins:
        * pytorch-metric-learning ``TripletMarginLoss(margin=m)`` with no miner (all
          triplets; ``LpDistance(normalize_embeddings=True)``, ``AvgNonZeroReducer``) =
          ``batch_all_triplet_loss(x, y, margin=m, normalize=True, mean_over="nonzero")``.
        * Hermans et al. "BA" = the default; "BA≠0" = ``mean_over="nonzero"``.
        * pml ``TripletMarginLoss(margin=m)(x, y, indices_tuple)`` (a miner's output or
          explicit triplets/pairs) = ``batch_all_triplet_loss(x, y, margin=m, normalize=True,
          mean_over="nonzero", indices_tuple=indices_tuple)``; pml's ``MeanReducer`` is
          ``mean_over="valid"``.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 5.0]])
        >>> y = np.array([0, 0, 0, 1, 1])
        >>> round(float(losses.batch_all_triplet_loss(x, y)), 4)
        0.4065
        >>> far = np.array([[0.0, 0.0], [0.0, 0.1], [5.0, 0.0], [5.0, 0.1]])  # classes far apart
        >>> float(losses.batch_all_triplet_loss(far, np.array([0, 0, 1, 1])))
        0.0
    """
    xp = namespace(embeddings=embeddings, labels=labels, **_index_arrays(indices_tuple))
    _mining_options(margin, distance, normalize, mean_over, reduction)
    group = xp.check_group(group)
    _embeddings_labels(xp, embeddings, labels)
    if indices_tuple is not None:
        if group is not None:
            raise ValueError("indices_tuple= with a group= is not supported: the indices of each member's "
                             "shard would have to be global; mine with group= and pass indices_tuple=None")
        idx = _check_indices_tuple(xp, indices_tuple, embeddings.shape[0])
    e, out_dtype = _prepare_embeddings(xp, embeddings, normalize)
    d, pos, neg = _mining_matrices(xp, e, labels, distance, group)
    if indices_tuple is not None:
        return _given_triplets(xp, d, idx, margin, reduction, mean_over, out_dtype)
    d_ap = xp.expand_dims(d, axis=2)
    d_an = xp.expand_dims(d, axis=1)
    loss = relu0(xp, margin + d_ap - d_an)
    valid = xp.logical_and(xp.expand_dims(pos, axis=2), xp.expand_dims(neg, axis=1))
    return _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype, group)


def _index_arrays(indices_tuple) -> dict:
    """The arrays of an ``indices_tuple`` by name, for the namespace (nothing if not arrays)."""
    if not isinstance(indices_tuple, (tuple, list)):
        return {}
    return {f"indices_tuple[{k}]": x for k, x in enumerate(indices_tuple) if hasattr(x, "shape")}


def _check_indices_tuple(xp, indices_tuple, n):
    """The checked ``indices_tuple``: ``("triplets", a, p, n_, valid)`` (flattened
    :class:`Triplets`, or ``valid=None`` for a plain triplet tuple) or ``("pairs", a1, p, a2,
    n_)``. Shapes and dtypes always; the range ``[0, n)`` eagerly (folded value checks)."""
    if isinstance(indices_tuple, Triplets):
        fields = tuple(indices_tuple)
        for name, x in zip(Triplets._fields, fields):
            if not (hasattr(x, "shape") and hasattr(x, "dtype")):
                raise TypeError(f"indices_tuple.{name} must be an array, got {type(x).__name__}")
        if len({tuple(x.shape) for x in fields}) != 1:
            raise ValueError(f"indices_tuple (Triplets) fields must have one shape, got "
                             f"{[tuple(x.shape) for x in fields]}")
        if not xp.isdtype(fields[3].dtype, "bool"):
            raise TypeError(f"indices_tuple.valid must be a bool array, got dtype {fields[3].dtype}")
        size = numel(fields[0])
        flat = [xp.reshape(x, (size,)) for x in fields]
        arrays, names = flat[:3], [f"indices_tuple.{k}" for k in Triplets._fields[:3]]
    else:
        if not isinstance(indices_tuple, (tuple, list)) or len(indices_tuple) not in (3, 4):
            raise TypeError("indices_tuple must be None, a tuple (a, p, n) of triplet indices, a tuple "
                            "(a1, p, a2, n) of pair indices or a miner's Triplets, got "
                            f"{type(indices_tuple).__name__}"
                            + (f" of length {len(indices_tuple)}" if isinstance(indices_tuple, (tuple, list)) else ""))
        arrays, names = list(indices_tuple), [f"indices_tuple[{k}]" for k in range(len(indices_tuple))]
        for name, x in zip(names, arrays):
            if not (hasattr(x, "shape") and hasattr(x, "dtype")):
                raise TypeError(f"{name} must be an array of row indices, got {type(x).__name__}")
            if x.ndim != 1:
                raise ValueError(f"{name} must be 1-D, got shape {tuple(x.shape)}")
        groups = [(0, 1, 2)] if len(arrays) == 3 else [(0, 1), (2, 3)]
        for g in groups:
            if len({arrays[k].shape[0] for k in g}) != 1:
                raise ValueError(f"{', '.join(names[k] for k in g)} must have the same length, got "
                                 f"{[arrays[k].shape[0] for k in g]}")
    for name, x in zip(names, arrays):
        if not check.is_integer(xp, x):
            raise TypeError(f"{name} must have an integer dtype (row indices), got dtype {x.dtype}")
    for name, x in zip(names, arrays):
        check.values_in(xp, x, name, 0, n - 1, what=f"row indices of embeddings (N = {n})")
    if isinstance(indices_tuple, Triplets):
        return ("triplets", *arrays, flat[3])
    if len(arrays) == 3:
        return ("triplets", *arrays, None)
    return ("pairs", *arrays)


def _pick(xp, d, rows, cols):
    """``d[rows[i], cols[i]]`` for 1-D index arrays (gathers ``O(len(rows) N)``)."""
    return xp.take_class(xp.take(d, rows, axis=0), cols, axis=1)


def _given_triplets(xp, d, idx, margin, reduction, mean_over, out_dtype):
    """The triplet hinge over an ``indices_tuple`` (see :func:`batch_all_triplet_loss`)."""
    if idx[0] == "triplets":
        _, a, p, n, valid = idx
        loss = relu0(xp, margin + _pick(xp, d, a, p) - _pick(xp, d, a, n))
        if valid is None:
            valid = xp.ones(loss.shape, dtype=xp.bool, device=device_of(loss))
    else:
        _, a1, p, a2, n = idx
        d_ap, d_an = _pick(xp, d, a1, p), _pick(xp, d, a2, n)
        loss = relu0(xp, margin + xp.expand_dims(d_ap, axis=1) - xp.expand_dims(d_an, axis=0))
        valid = xp.expand_dims(a1, axis=1) == xp.expand_dims(a2, axis=0)
    if reduction == "mean" and numel(loss) == 0:  # no triplet given: 0, as pml (not NaN)
        return xp.as_array(cast(xp, xp.sum(d) * 0.0, out_dtype))
    return _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype)


def _pair_masks(xp, idx, n, like):
    """``(pos, neg)``: the ``(n, n)`` masks of the pairs of a checked ``indices_tuple``
    (triplets give their ``(a, p)`` and ``(a, n)`` pairs, pml's ``convert_to_pairs``), built
    by one-hot products (``O(P n)`` memory, no scatter)."""
    if idx[0] == "triplets":
        _, a, p, q, valid = idx
        a1, a2, w = a, a, valid
    else:
        _, a1, p, a2, q = idx
        w = None
    cols = arange_like(xp, like, n)

    def mask(rows_i, cols_i):
        r = cast(xp, xp.expand_dims(rows_i, axis=1) == xp.expand_dims(cols, axis=0), like.dtype)
        c = cast(xp, xp.expand_dims(cols_i, axis=1) == xp.expand_dims(cols, axis=0), like.dtype)
        if w is not None:
            r = r * xp.expand_dims(cast(xp, w, like.dtype), axis=1)
        return xp.matmul(xp.matrix_transpose(r), c) > 0

    return mask(a1, p), mask(a2, q)


def _semi_hard_index(xp, d, neg):
    """``[a, p]``: the index of ``a``'s closest negative farther than ``d[a, p]``, else of its
    farthest negative (first index on ties, as ``argmin``/``argmax``) -- in ``O(N^2 log N)``.

    Each anchor's negative distances are sorted once; the number ``c`` of negatives at most
    ``d_ap`` (a ``searchsorted``) comes from one stable sort of the row's negatives together
    with its queries ``d[a, :]`` (negatives first at ties), and the answer is the ``c``-th
    sorted negative. A NaN negative distance of ``a`` is picked for every pair of ``a`` (a
    comparison with NaN is False, so it is always "farther"); a NaN ``d_ap`` counts no
    negative below it (every negative is farther).
    """
    n = d.shape[1]
    inf = xp.full_like(d, math.inf)
    nan = xp.isnan(d)
    key = xp.where(xp.logical_or(xp.logical_not(neg), nan), inf, d)  # [a, n]: negatives only
    order = xp.argsort(key, axis=1, stable=True)  # sorted negatives of each anchor
    query = xp.where(nan, -inf, d)  # [a, p]
    both = xp.argsort(xp.concat([key, query], axis=1), axis=1, stable=True)  # [a, 2N]
    neg_i = xp.astype(neg, xp.int64)
    is_neg = xp.concat([neg_i, xp.zeros_like(neg_i)], axis=1)
    below = xp.cumulative_sum(xp.take_along_last(is_neg, both), axis=1)  # negatives up to here
    rank = xp.argsort(both, axis=1, stable=True)  # the sorted position of each entry
    count = xp.take_along_last(below, rank)[:, n:]  # [a, p]: negatives with d_an <= d_ap
    found = count < xp.sum(neg_i, axis=1, keepdims=True)  # a negative farther than d_ap
    closest = xp.take_along_last(order, xp.astype(xp.where(found, count, xp.zeros_like(count)), order.dtype))
    farthest = xp.argmax(xp.where(neg, d, -inf), axis=1, keepdims=True)
    nan_neg = xp.logical_and(neg, nan)
    first_nan = xp.argmax(xp.astype(nan_neg, xp.int8), axis=1, keepdims=True)
    idx = xp.where(found, closest, xp.astype(farthest, closest.dtype))
    return xp.where(xp.any(nan_neg, axis=1, keepdims=True), xp.astype(first_nan, idx.dtype), idx)


@check.entry
@_mining_doc
def semi_hard_triplet_loss(embeddings: ArrayT, labels: ArrayT, *, margin: float = 1.0,
                           distance: Distance = "euclidean", normalize: bool = False,
                           negatives: SemiHardNegatives = "closest",
                           mean_over: MeanOver = "valid", reduction: Reduction = "mean",
                           group: Group = None) -> ArrayT:
    r"""Semi-hard triplet loss (Schroff, Kalenichenko & Philbin 2015, FaceNet).

    ``negatives="closest"`` (default; FaceNet / TF-Addons ``triplet_semihard_loss``): for
    every positive pair ``(a, p)`` the negative is the closest one *farther than the
    positive*, ``n* = argmin {d_an : y_n != y_a, d_an > d_ap}``; when there is none, the
    farthest negative of ``a``. One loss per positive pair:

    .. math:: \ell_{ap} = \max(0,\ m + d_{ap} - d_{a n^*})

    ``negatives="all"`` (pytorch-metric-learning's ``TripletMarginMiner(type_of_triplets=
    "semihard")``): every triplet with ``0 < d_an - d_ap <= m``, no fallback.

    Pairs whose anchor has no negative are not valid. The selection uses ``argmin``/``argmax``
    (first index on ties); gradients flow through the selected distances. The hinge's
    subgradient at 0 is 0.
    {mining}
        negatives: ``"closest"`` or ``"all"`` (see above).
    {mining_tail}

    Returns:
        For ``"none"``: ``(N, N)`` losses indexed ``[a, p]`` (``"closest"``) or ``(N, N, N)``
        indexed ``[a, p, n]`` (``"all"``), 0 where not valid; else a scalar.
    {mining_raises}

    References: Schroff, Kalenichenko & Philbin 2015, "FaceNet: A Unified Embedding for Face
    Recognition and Clustering" (CVPR; semi-hard negatives).

    Peer twins:
        * TF-Addons ``triplet_semihard_loss(y, x, margin=m, distance_metric="L2")`` =
          ``semi_hard_triplet_loss(x, y, margin=m)`` when every anchor has a negative
          (``"squared-L2"``: ``distance="squared"``, ``"angular"``: ``distance="cosine"``).
        * pytorch-metric-learning ``TripletMarginLoss(margin=m)`` with
          ``TripletMarginMiner(margin=m, type_of_triplets="semihard")`` (default distance and
          reducer) = ``semi_hard_triplet_loss(x, y, margin=m, normalize=True,
          negatives="all", mean_over="nonzero")``.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 5.0]])
        >>> y = np.array([0, 0, 0, 1, 1])
        >>> round(float(losses.semi_hard_triplet_loss(x, y)), 4)
        0.1941
    """
    xp = namespace(embeddings=embeddings, labels=labels)
    _mining_options(margin, distance, normalize, mean_over, reduction)
    group = xp.check_group(group)
    check.choice(negatives, "negatives", _SEMI_HARD_NEGATIVES)
    _embeddings_labels(xp, embeddings, labels)
    e, out_dtype = _prepare_embeddings(xp, embeddings, normalize)
    d, pos, neg = _mining_matrices(xp, e, labels, distance, group)
    # The comparisons are written so that a NaN distance is selected (a comparison with NaN
    # is False): a NaN is never dropped as "not semi-hard" (rule 5).
    if negatives == "all":
        gap, valid = _semi_hard_band(xp, d, pos, neg, margin)
        loss = relu0(xp, margin - gap)
        return _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype, group)
    idx_n, valid = _semi_hard_select(xp, d, pos, neg)
    d_sn = d if 0 in d.shape else xp.take_along_last(d, idx_n)  # an empty batch: nothing to take
    loss = relu0(xp, margin + d - d_sn)
    return _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype, group)


_MINER_ARGS = """
    Args:
        embeddings: ``(N, D)`` floating embeddings.
        labels: ``(N,)`` integer class ids (any integer dtype). Samples with the same id form
            positive pairs; a sample never pairs with itself.
"""

_MINER_DISTANCE = f"""\
        distance: ``"euclidean"`` (default), ``"squared"`` (squared Euclidean) or
            ``"cosine"`` (``1 - cos``), the distances of the mining losses.
        normalize: L2-normalise the embeddings first (``x / max(||x||, {NORMALIZE_EPS:g})``).
            Default False; pytorch-metric-learning's default ``LpDistance`` normalises.
"""

_MINER_GROUP = """\
        group: as the mining losses' ``group`` (``None``: this call sees the whole batch;
            torch: a process group or ``"world"``; JAX: the mapped axis name): each member
            mines its own anchors against the gathered global batch, and the indices point
            into that global batch (the members' shards in rank order).
"""


def _miner_doc(f):
    return fill_doc("{miner_args}", _MINER_ARGS)(fill_doc("{miner_distance}", _MINER_DISTANCE)(f))


_miner_group_doc = fill_doc("{miner_group}", _MINER_GROUP)


def _miner_inputs(xp, embeddings, labels, distance, normalize, group):
    """``(d, pos, neg, group)``: the checked inputs' distance matrix and label masks."""
    check.choice(distance, "distance", _DISTANCES)
    check.flag(normalize, "normalize")
    group = xp.check_group(group)
    _embeddings_labels(xp, embeddings, labels)
    e, _ = _prepare_embeddings(xp, embeddings, normalize)
    d, pos, neg = _mining_matrices(xp, e, labels, distance, group)
    return d, pos, neg, group


@check.entry
@_miner_group_doc
@_miner_doc
def batch_hard_mining(embeddings: ArrayT, labels: ArrayT, *, distance: Distance = "euclidean",
                      normalize: bool = False, positives: Strategy = "hard", negatives: Strategy = "hard",
                      group: Group = None) -> Triplets:
    r"""One triplet per anchor: its hardest (or easiest) positive and negative in the batch.

    With ``P_a = \{p \ne a : y_p = y_a\}`` and ``N_a = \{n : y_n \ne y_a\}``:

    .. math:: p^*_a = \operatorname{argmax}_{p \in P_a} d_{ap}\ (\texttt{"hard"}),\quad
              \operatorname{argmin}_{p \in P_a} d_{ap}\ (\texttt{"easy"});\qquad
              n^*_a = \operatorname{argmin}_{n \in N_a} d_{an}\ (\texttt{"hard"}),\quad
              \operatorname{argmax}_{n \in N_a} d_{an}\ (\texttt{"easy"})

    The selection of :func:`batch_hard_triplet_loss` (which is ``positives="hard",
    negatives="hard"``), as index arrays, so that the mined triplets can feed any triplet
    loss: ``triplet_margin_loss(x[t.anchor], x[t.positive], x[t.negative],
    reduction="none")`` weighted by ``t.valid``. An anchor is valid when it has a positive
    and a negative. Ties pick the first index; a NaN distance is picked (NaN goes through to
    the loss computed on the triplet). The indices carry no gradient.
    {miner_args}
    {miner_distance}
        positives: ``"hard"`` (default: the farthest positive) or ``"easy"`` (the closest).
        negatives: ``"hard"`` (default: the closest negative) or ``"easy"`` (the farthest).
    {miner_group}

    Returns:
        :class:`Triplets` ``(anchor, positive, negative, valid)`` of shape ``(N,)``:
        ``anchor`` is ``arange(N)`` (the global row index with a ``group``); where ``valid``
        is False, ``positive`` and ``negative`` are the anchor's index.

    Raises:
        ValueError: embeddings not 2-D, labels not of shape ``(N,)``, bad ``distance``,
            ``positives`` or ``negatives``.
        TypeError: non-floating embeddings, non-integer labels, non-bool ``normalize``.

    References: Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss for Person
    Re-Identification" (batch-hard); pytorch-metric-learning ``BatchEasyHardMiner``.

    Peer twins: pytorch-metric-learning ``BatchHardMiner()(x, y)`` (its default
    ``LpDistance(normalize_embeddings=True)``) returns ``(a, p, n)`` =
    ``t.anchor[t.valid], t.positive[t.valid], t.negative[t.valid]`` of
    ``t = batch_hard_mining(x, y, normalize=True)``; ``BatchEasyHardMiner(pos_strategy=P,
    neg_strategy=Q)`` returns ``(a, p, a, n)`` of the same triplets with ``positives=P,
    negatives=Q`` (``"hard"`` or ``"easy"``), when no two distances of a row tie.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 5.0]])
        >>> t = losses.batch_hard_mining(x, np.array([0, 0, 0, 1, 1]))
        >>> t.positive.tolist(), t.negative.tolist(), t.valid.tolist()
        ([2, 2, 0, 4, 3], [3, 3, 3, 0, 0], [True, True, True, True, True])
    """
    xp = namespace(embeddings=embeddings, labels=labels)
    check.choice(positives, "positives", _STRATEGIES)
    check.choice(negatives, "negatives", _STRATEGIES)
    d, pos, neg, group = _miner_inputs(xp, embeddings, labels, distance, normalize, group)
    d = xp.stop_gradient(d)
    idx_p, idx_n, valid = _hard_select(xp, d, pos, neg, positives, negatives)
    return _triplets(xp, d, tuple(valid.shape), valid, idx_p, idx_n, group)


@check.entry
@_miner_group_doc
@_miner_doc
def semi_hard_mining(embeddings: ArrayT, labels: ArrayT, *, margin: float = 1.0,
                     distance: Distance = "euclidean", normalize: bool = False,
                     negatives: SemiHardNegatives = "closest", group: Group = None) -> Triplets:
    r"""Semi-hard triplets: negatives farther than the positive (FaceNet), as index arrays.

    ``negatives="closest"`` (FaceNet / TF-Addons): for every positive pair ``(a, p)`` the
    closest negative farther than the positive, else the farthest negative of ``a``;
    ``negatives="all"`` (pytorch-metric-learning ``TripletMarginMiner(type_of_triplets=
    "semihard")``): every triplet in the band

    .. math:: n^*_{ap} = \operatorname{argmin}\{d_{an} : y_n \ne y_a,\ d_{an} > d_{ap}\}
              \quad\text{or}\quad 0 < d_{an} - d_{ap} \le m

    The selection of :func:`semi_hard_triplet_loss` (one implementation). ``"closest"``
    sorts each anchor's negatives once (``O(N^2 log N)``); ``"all"`` is an ``(N, N, N)``
    mask. Ties pick the first index; a NaN distance is selected (for ``"closest"``, a NaN
    negative distance of ``a`` is the negative of every pair of ``a``; for ``"all"``, a
    triplet with a NaN gap is in the band). The indices carry no gradient.
    {miner_args}
        margin: the band's width ``m`` for ``negatives="all"`` (any finite real number;
            default 1.0; ``"closest"`` does not use it).
    {miner_distance}
        negatives: ``"closest"`` (default) or ``"all"``.
    {miner_group}

    Returns:
        :class:`Triplets` ``(anchor, positive, negative, valid)``: of shape ``(N, N)``
        indexed ``[a, p]`` for ``"closest"`` (valid: ``p`` is a positive of ``a`` and ``a``
        has a negative), ``(N, N, N)`` indexed ``[a, p, n]`` for ``"all"`` (valid: a
        semi-hard triplet). Where ``valid`` is False, ``positive`` and ``negative`` are the
        anchor's index.

    Raises:
        ValueError: embeddings not 2-D, labels not of shape ``(N,)``, an infinite ``margin``,
            bad ``distance`` or ``negatives``.
        TypeError: non-floating embeddings, non-integer labels, non-real ``margin``, non-bool
            ``normalize``.

    References: Schroff, Kalenichenko & Philbin 2015, "FaceNet" (semi-hard negatives);
    TF-Addons ``triplet_semihard_loss``; pytorch-metric-learning ``TripletMarginMiner``.

    Peer twins: pytorch-metric-learning ``TripletMarginMiner(margin=m,
    type_of_triplets="semihard")(x, y)`` returns ``(a, p, n)`` = the entries of
    ``t = semi_hard_mining(x, y, margin=m, normalize=True, negatives="all")`` where
    ``t.valid`` (in the same row-major order). TF-Addons' ``triplet_semihard_loss`` uses the
    ``"closest"`` negatives.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 3.0]])
        >>> t = losses.semi_hard_mining(x, np.array([0, 0, 1, 1]))
        >>> t.negative[0].tolist(), t.valid[0].tolist()
        ([0, 2, 0, 0], [False, True, False, False])
    """
    xp = namespace(embeddings=embeddings, labels=labels)
    check.finite_number(margin, "margin")
    check.choice(negatives, "negatives", _SEMI_HARD_NEGATIVES)
    d, pos, neg, group = _miner_inputs(xp, embeddings, labels, distance, normalize, group)
    d = xp.stop_gradient(d)
    if negatives == "all":
        _, valid = _semi_hard_band(xp, d, pos, neg, margin)
        shape = tuple(valid.shape)
        cols = arange_like(xp, d, shape[1])
        positive = xp.broadcast_to(xp.reshape(cols, (1, shape[1], 1)), shape)
        negative = xp.broadcast_to(xp.reshape(cols, (1, 1, shape[1])), shape)
        return _triplets(xp, d, shape, valid, positive, negative, group)
    idx_n, valid = _semi_hard_select(xp, d, pos, neg)
    shape = tuple(valid.shape)
    positive = xp.broadcast_to(xp.reshape(arange_like(xp, d, shape[1]), (1, shape[1])), shape)
    return _triplets(xp, d, shape, valid, positive, idx_n, group)


# ------------------------------------------------------------ self-supervised / InfoNCE ----
def _temperature(value, name="temperature"):
    check.finite_number(value, name, low=0, low_open=True)
    return float(value)


@check.entry
@group_doc
def info_nce_loss(query: ArrayT, positive_key: ArrayT, negative_keys: ArrayT | None = None, *,
                  temperature: float = 0.1, negative_mode: Literal["unpaired", "paired"] = "unpaired",
                  normalize: bool = True, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""InfoNCE (van den Oord et al. 2018, CPC; He et al. 2020, MoCo).

    With ``s(u, v) = u^\top v / \tau`` on L2-normalised vectors (``normalize=True``):

    .. math:: \ell_i = -\log\frac{e^{s(q_i, k_i^+)}}{e^{s(q_i, k_i^+)} + \sum_j e^{s(q_i, k_j^-)}}

    Negatives: ``negative_keys`` of shape ``(M, D)`` shared by every query
    (``negative_mode="unpaired"``, a MoCo queue) or ``(N, M, D)`` per query
    (``"paired"``). Without ``negative_keys`` the other positive keys of the batch are the
    negatives (in-batch negatives: a cross-entropy over ``q k^T / tau`` with the diagonal as
    target). Computed with ``logsumexp``: finite at any temperature.

    Args:
        query: ``(N, D)`` floating.
        positive_key: ``(N, D)``.
        negative_keys: optional ``(M, D)`` or ``(N, M, D)`` (see ``negative_mode``).
        temperature: ``tau`` > 0 (default 0.1).
        negative_mode: ``"unpaired"`` (default) or ``"paired"``.
        normalize: L2-normalise query and keys (default True, as MoCo/CPC implementations
            with cosine scores); False uses raw dot products.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}
            In-batch negatives are the positive keys of the whole group's batch; given
            ``negative_keys`` are used as they are (a MoCo queue is the same on every member).

    Returns:
        ``(N,)`` per-query losses for ``"none"``, else a scalar.

    Raises:
        ValueError: shapes, ``temperature <= 0``, bad ``negative_mode``/``reduction``.
        TypeError: non-floating inputs, non-real ``temperature``, non-bool ``normalize``.

    References: van den Oord, Li & Vinyals 2018, "Representation Learning with Contrastive
    Predictive Coding"; He, Fan, Wu, Xie & Girshick 2020, "Momentum Contrast for Unsupervised
    Visual Representation Learning" (CVPR).

    Peer twins: the ``info-nce-pytorch`` package's ``info_nce(query, positive_key,
    negative_keys, temperature, reduction, negative_mode)`` (same arguments, same value);
    MoCo's loss = ``info_nce_loss(q, k, queue, temperature=0.07)`` (normalised q, k, queue).

    Example:
        >>> import numpy as np, losses
        >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])  # each key equals its query, the other is orthogonal
        >>> round(float(losses.info_nce_loss(q, q, temperature=1.0)), 4)  # log(1 + e^-1)
        0.3133
    """
    xp = namespace(query=query, positive_key=positive_key, negative_keys=negative_keys)
    check.reduction(reduction)
    group = xp.check_group(group)
    t = _temperature(temperature)
    check.choice(negative_mode, "negative_mode", ("unpaired", "paired"))
    check.flag(normalize, "normalize")
    _floating(xp, query, "query")
    _floating(xp, positive_key, "positive_key")
    _ndim(query, 2, "query", "N queries x D features")
    check.same_shape(query, positive_key, "query", "positive_key")
    if negative_keys is not None:
        check.floating(xp, negative_keys, "negative_keys")
        n, dim = query.shape
        if negative_mode == "unpaired":
            ok = negative_keys.ndim == 2 and negative_keys.shape[1] == dim
            want = f"(M, {dim})"
        else:
            ok = negative_keys.ndim == 3 and tuple(negative_keys.shape[::2]) == (n, dim)
            want = f"({n}, M, {dim})"
        if not ok:
            raise ValueError(
                f"negative_keys must have shape {want} for negative_mode={negative_mode!r} and "
                f"query {tuple(query.shape)}, got {tuple(negative_keys.shape)}"
            )
    _, out_dtype, (q, k, nk) = float_args(xp, query, positive_key, negative_keys,
                                          names=("query", "positive_key", "negative_keys"))
    if normalize:
        q, k = l2_normalize(xp, q), l2_normalize(xp, k)
        nk = None if nk is None else l2_normalize(xp, nk)
    pos = xp.sum(q * k, axis=-1) / t
    if nk is None:
        logits = _matmul_t(xp, q, gathered(xp, k, group)) / t
    else:
        if negative_mode == "unpaired":
            neg = _matmul_t(xp, q, nk) / t
        else:
            neg = xp.sum(xp.expand_dims(q, axis=1) * nk, axis=-1) / t
        logits = xp.concat([xp.expand_dims(pos, axis=1), neg], axis=1)
    loss = xp.logsumexp(logits, axis=1) - pos
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def nt_xent_loss(z1: ArrayT, z2: ArrayT, *, temperature: float = 0.5,
                 directions: Literal["mean", "sum"] = "mean", reduction: Reduction = "mean",
                 group: Group = None) -> ArrayT:
    r"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020).

    The ``2N`` views ``z = [z_1; z_2]`` are L2-normalised, ``s_{ij} = z_i^\top z_j / \tau``,
    and for each view ``i`` with its partner ``j(i)`` (the other view of the same sample):

    .. math:: \ell_i = -s_{i, j(i)} + \log\sum_{k \ne i} e^{s_{ik}}

    The self-similarity is excluded with a ``where`` to ``-inf`` and the ``logsumexp`` is
    max-shifted: no overflow at ``tau=0.01`` in float32. Per pair ``k``:
    ``directions="mean"`` gives ``(l_k + l_{k+N}) / 2`` (the paper's
    ``L = 1/(2N) sum_k [l(2k-1, 2k) + l(2k, 2k-1)]`` for ``"mean"``);
    ``directions="sum"`` gives ``l_k + l_{k+N}`` (the SimCLR reference code, which adds the
    batch means of both directions, ``loss_a + loss_b``).

    Args:
        z1, z2: ``(N, D)`` floating projections of the two augmented views (row k of each is
            the same sample).
        temperature: ``tau`` > 0 (default 0.5).
        directions: ``"mean"`` (default) or ``"sum"`` of the two directions.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the N pairs.
    {group}
            The negatives are the ``2N - 2`` other views of the whole group's batch.

    Returns:
        ``(N,)`` per-pair losses for ``"none"``, else a scalar.

    Raises:
        ValueError: ``z1``/``z2`` not 2-D of the same shape, ``temperature <= 0``, bad
            ``directions``/``reduction``.
        TypeError: non-floating inputs.

    References: Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for Contrastive
    Learning of Visual Representations" (ICML; SimCLR).

    Peer twins:
        * ``optax.losses.ntxent(concat([z1, z2]), concat([arange(N), arange(N)]), tau)``,
          pytorch-metric-learning ``NTXentLoss(temperature=tau)`` with the same labels, and
          lightly ``NTXentLoss(temperature=tau)`` = ``nt_xent_loss(z1, z2,
          temperature=tau)`` (``directions="mean"``).
        * SimCLR reference (``add_contrastive_loss``, ``tf.losses.softmax_cross_entropy`` of
          both directions summed) = ``nt_xent_loss(z1, z2, temperature=tau,
          directions="sum")``.
        * Several positives per label (``optax.losses.ntxent(embeddings, labels, tau)`` with
          any labels): :func:`supervised_contrastive_loss` with ``denominator="negatives",
          mean_over="pairs"``.

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[1.0, 0.0], [0.0, 1.0]])  # two identical views of two orthogonal samples
        >>> round(float(losses.nt_xent_loss(z, z, temperature=1.0)), 4)  # log(e + 2) - 1
        0.5514
    """
    xp = namespace(z1=z1, z2=z2)
    check.reduction(reduction)
    group = xp.check_group(group)
    t = _temperature(temperature)
    check.choice(directions, "directions", ("mean", "sum"))
    _floating(xp, z1, "z1")
    _floating(xp, z2, "z2")
    _ndim(z1, 2, "z1", "N samples x D features")
    check.same_shape(z1, z2, "z1", "z2")
    _, out_dtype, (a, b) = float_args(xp, z1, z2, names=("z1", "z2"))
    n = a.shape[0]
    if n == 0:  # an empty batch: no pairs (Dask cannot multiply the empty concatenation)
        return reduce(xp, xp.sum(a * b, axis=-1), reduction, out_dtype=out_dtype, group=group)
    z = l2_normalize(xp, xp.concat([a, b], axis=0))
    zt = z / t  # the temperature scales the (2N, D) rows, not the (2N, 2N) similarities
    if group is None:
        sim = _matmul_t(xp, zt, z)
        eye = eye_mask(xp, z, 2 * n)
    else:  # the local views against the gathered [all first views; all second views]
        z1_all, z2_all = xp.all_gather(z[:n, ...], group), xp.all_gather(z[n:, ...], group)
        sim = _matmul_t(xp, zt, xp.concat([z1_all, z2_all], axis=0))
        first = _self_mask(xp, z, n, z1_all.shape[0], group)
        off = xp.zeros_like(first)
        eye = xp.concat([xp.concat([first, off], axis=1), xp.concat([off, first], axis=1)], axis=0)
    lse = xp.logsumexp(xp.where(eye, -math.inf, sim), axis=1)
    pos = xp.sum(zt[:n, ...] * z[n:, ...], axis=-1)
    loss = (lse[:n] - pos) + (lse[n:] - pos)
    if directions == "mean":
        loss = 0.5 * loss
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def supervised_contrastive_loss(embeddings: ArrayT, labels: ArrayT, *, temperature: float = 0.1,
                                base_temperature: float | None = None, normalize: bool = True,
                                denominator: Literal["all", "negatives"] = "all",
                                mean_over: Literal["valid", "pairs"] = "valid",
                                reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Supervised contrastive loss, SupCon ``L_out`` (Khosla et al. 2020), multi-positive.

    With ``s_{ij} = z_i^\top z_j / \tau`` (L2-normalised ``z``), the positives
    ``P(i) = \{p \ne i : y_p = y_i\}`` and ``A(i) = \{a \ne i\}``:

    .. math:: \ell_i = -\frac{\tau}{\tau_b}\,\frac{1}{|P(i)|}\sum_{p \in P(i)}
              \Big(s_{ip} - \log\sum_{a \in A(i)} e^{s_{ia}}\Big)

    (``tau / tau_b = 1`` unless ``base_temperature`` is given).

    ``denominator="negatives"`` is the multi-positive NT-Xent of optax's ``ntxent`` and
    pytorch-metric-learning's ``NTXentLoss``: each positive pair's softmax is over that
    positive and the anchor's negatives ``N(i) = \{n : y_n \ne y_i\}`` only (the other
    positives are left out), ``\log\sum_{a \in A(i)}`` becoming
    ``\log\big(e^{s_{ip}} + \sum_{n \in N(i)} e^{s_{in}}\big)``; with
    ``mean_over="pairs"`` every positive pair weighs the same in the mean (optax's and pml's
    mean over the positive pairs). With two views and labels ``[0..N-1, 0..N-1]`` it is
    :func:`nt_xent_loss`. Anchors without positives have no loss: ``"mean"`` averages over the anchors with at least one positive and is 0
    (zero gradient) when there are none in a non-empty batch; an empty batch gives NaN.
    Multi-view batches ``(B, V, D)``: pass ``features.reshape(B * V, D)`` with each label
    repeated ``V`` times in a row (``repeat(labels, V)``).

    Args:
        embeddings: ``(N, D)`` floating.
        labels: ``(N,)`` integer class ids.
        temperature: ``tau`` > 0 (default 0.1, the paper's best; the reference code uses 0.07).
        base_temperature: ``tau_b`` > 0 of the reference code's ``tau / tau_b`` scaling, or
            None (no scaling, the paper).
        normalize: L2-normalise the embeddings (default True, as the paper's projection
            head; the reference code expects normalised features).
        denominator: ``"all"`` (default, SupCon's ``A(i)``: every other sample) or
            ``"negatives"`` (each positive pair's own positive and the negatives: NT-Xent,
            optax ``ntxent``, pml ``NTXentLoss``).
        mean_over: what ``reduction="mean"`` divides by: ``"valid"`` (default, SupCon: the
            mean over the anchors with a positive) or ``"pairs"`` (over the positive pairs:
            each anchor's loss weighted by its number of positives ``|P(i)|``; optax, pml).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` per-anchor losses (the mean over the anchor's positives; 0 for anchors
        without positives) for ``"none"``, else a scalar.

    Raises:
        ValueError: shapes, ``temperature``/``base_temperature <= 0``, bad ``reduction``.
        TypeError: non-floating embeddings, non-integer labels, non-real temperatures,
            non-bool ``normalize``.

    References: Khosla, Teterwak, Wang, Sarna, Tian, Isola, Maschinot, Liu & Krishnan 2020,
    "Supervised Contrastive Learning" (NeurIPS; ``L_out``).

    Peer twins:
        * Reference ``SupConLoss(temperature=t, base_temperature=b, contrast_mode="all")``
          on normalised features (every anchor has a positive) =
          ``supervised_contrastive_loss(x, y, temperature=t, base_temperature=b)``; when
          some anchors have no positive, the reference counts them as 0 in its mean:
          ``supervised_contrastive_loss(..., reduction="none").mean()``.
        * pytorch-metric-learning ``SupConLoss(temperature=t)`` (AvgNonZeroReducer over
          anchors) = ``supervised_contrastive_loss(x, y, temperature=t)`` when the batch has a
          negative pair (at least two labels). A batch of one label has none: pml returns 0
          there (its loss needs positive *and* negative pairs), ours is the SupCon value of
          the paper (every other sample is a positive and in the denominator).
        * optax ``optax.losses.ntxent(x, y, temperature=t)`` and pml ``NTXentLoss(
          temperature=t)(x, y)`` = ``supervised_contrastive_loss(x, y, temperature=t,
          denominator="negatives", mean_over="pairs")`` (value and gradient) when the batch
          has a positive pair (optax: NaN without one, ours 0).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
        >>> round(float(losses.supervised_contrastive_loss(z, np.array([0, 0, 1, 1]),
        ...                                                temperature=1.0)), 4)  # log(e + 2) - 1
        0.5514
    """
    xp = namespace(embeddings=embeddings, labels=labels)
    check.reduction(reduction)
    group = xp.check_group(group)
    t = _temperature(temperature)
    scale = 1.0 if base_temperature is None else t / _temperature(base_temperature, "base_temperature")
    check.flag(normalize, "normalize")
    check.choice(denominator, "denominator", ("all", "negatives"))
    check.choice(mean_over, "mean_over", ("valid", "pairs"))
    _embeddings_labels(xp, embeddings, labels)
    e, out_dtype = _prepare_embeddings(xp, embeddings, normalize)
    labels_all = gathered(xp, labels, group)
    eye = _self_mask(xp, e, e.shape[0], labels_all.shape[0], group)
    sim = _matmul_t(xp, e, gathered(xp, e, group)) / t
    pos, neg = _label_masks(xp, e, labels, eye, labels_all)
    if denominator == "all":
        sim = xp.where(eye, xp.full_like(sim, -math.inf), sim)
        log_prob = sim - xp.logsumexp(sim, axis=1, keepdims=True)
    else:  # per pair: log(e^{s_ip} + sum_n e^{s_in}); no negative: the positive alone (0)
        some = xp.any(neg, axis=1, keepdims=True)
        neg_lse = xp.expand_dims(_masked_lse(xp, sim, neg), axis=1)
        neg_lse = xp.where(some, neg_lse, xp.full_like(neg_lse, -math.inf))
        log_prob = sim - xp.logaddexp(sim, neg_lse)
    n_pos = xp.sum(cast(xp, pos, e.dtype), axis=1)
    total = xp.sum(xp.where(pos, log_prob, 0.0), axis=1)
    loss = -scale * safe_divide(xp, total, n_pos, fill=0.0)
    valid = n_pos > 0
    if mean_over == "pairs" and reduction == "mean" and numel(loss) > 0:  # weights |P(i)|
        out = safe_divide(xp, global_sum(xp, -scale * total, group), global_sum(xp, n_pos, group), fill=0.0)
        return xp.as_array(cast(xp, out, out_dtype))
    return _mining_reduce(xp, loss, valid, reduction, "valid", out_dtype, group)


@check.entry
@group_doc
def clip_loss(image_embeddings: ArrayT, text_embeddings: ArrayT, logit_scale: ArrayT | float = 1 / 0.07,
              *, normalize: bool = True, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""CLIP's symmetric contrastive loss (Radford et al. 2021).

    With L2-normalised embeddings and ``L = s\, I T^\top`` (``s = logit_scale``):

    .. math:: \ell_k = \tfrac12\Big[\big(\operatorname{lse}_j L_{kj} - L_{kk}\big)
              + \big(\operatorname{lse}_i L_{ik} - L_{kk}\big)\Big]

    the mean of the image-to-text and text-to-image cross-entropies with the matching pair
    (the diagonal) as target.

    Args:
        image_embeddings, text_embeddings: ``(N, D)`` floating, row k of each is a pair.
        logit_scale: the multiplier ``s`` of the logits: a Python number > 0 or a 0-d
            floating array (differentiable; CLIP learns ``t`` and passes ``s = exp(t)``).
            Default ``1/0.07`` (CLIP's initialisation).
        normalize: L2-normalise the embeddings (default True, as CLIP); False uses the
            embeddings as given (e.g. already normalised).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the N pairs.
    {group}
            Each member computes the logits of its own pairs against the gathered batch
            (open_clip's ``local_loss=True, gather_with_grad=True``: ``O(n N)`` logits, no
            ``N x N`` matrix); a ``logit_scale`` array is replicated, its gradient on each
            member is ``world_size`` times that member's share.

    Returns:
        ``(N,)`` per-pair losses for ``"none"``, else a scalar.

    Raises:
        ValueError: shapes, non-positive ``logit_scale`` (eagerly for arrays), bad
            ``reduction``.
        TypeError: non-floating inputs (``logit_scale`` included), non-bool ``normalize``.

    References: Radford et al. 2021, "Learning Transferable Visual Models From Natural
    Language Supervision" (ICML; CLIP).

    Peer twins: open_clip ``ClipLoss()(image_features, text_features, logit_scale)`` on
    normalised features = ``clip_loss(i, t, logit_scale, normalize=False)`` (or
    ``normalize=True`` on raw features); Hugging Face ``CLIPModel`` loss likewise.

    Example:
        >>> import numpy as np, losses
        >>> e = np.array([[1.0, 0.0], [0.0, 1.0]])  # matching pairs, the others orthogonal
        >>> round(float(losses.clip_loss(e, e, 1.0)), 4)  # log(1 + e^-1)
        0.3133
    """
    is_number = isinstance(logit_scale, (int, float)) and not isinstance(logit_scale, bool)
    if not is_number and not (hasattr(logit_scale, "shape") and hasattr(logit_scale, "dtype")):
        raise TypeError(f"logit_scale must be a positive number or a 0-d floating array, got {logit_scale!r}")
    xp = namespace(image_embeddings=image_embeddings, text_embeddings=text_embeddings,
                   logit_scale=logit_scale)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.flag(normalize, "normalize")
    _floating(xp, image_embeddings, "image_embeddings")
    _floating(xp, text_embeddings, "text_embeddings")
    _ndim(image_embeddings, 2, "image_embeddings", "N pairs x D features")
    check.same_shape(image_embeddings, text_embeddings, "image_embeddings", "text_embeddings")
    scale_arr = None
    if is_number:
        check.finite_number(logit_scale, "logit_scale", low=0, low_open=True)
    else:
        check.floating(xp, logit_scale, "logit_scale")
        if logit_scale.ndim != 0:
            raise ValueError(f"logit_scale must be a scalar (0-d array), got shape {tuple(logit_scale.shape)}")
        scale_arr = logit_scale
    _, out_dtype, (a, b, s) = float_args(xp, image_embeddings, text_embeddings, scale_arr,
                                         names=("image_embeddings", "text_embeddings", "logit_scale"))
    if scale_arr is not None:
        check.greater_than(xp, logit_scale, "logit_scale", 0)
    if s is None:
        s = float(logit_scale)
    if normalize:
        a, b = l2_normalize(xp, a), l2_normalize(xp, b)
    diag = s * xp.sum(a * b, axis=-1)
    if group is None:
        logits = s * _matmul_t(xp, a, b)
        image_lse, text_lse = xp.logsumexp(logits, axis=1), xp.logsumexp(logits, axis=0)
    else:  # this member's rows (images) and columns (texts) of the global logits
        image_lse = xp.logsumexp(s * _matmul_t(xp, a, xp.all_gather(b, group)), axis=1)
        text_lse = xp.logsumexp(s * _matmul_t(xp, b, xp.all_gather(a, group)), axis=1)
    loss = 0.5 * ((image_lse - diag) + (text_lse - diag))
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def barlow_twins_loss(z1: ArrayT, z2: ArrayT, *, lambda_: float = 0.0051, eps: float = 1e-5,
                      correction: Literal[0, 1] = 0, reduction: Reduction = "sum",
                      group: Group = None) -> ArrayT:
    r"""Barlow Twins redundancy-reduction loss (Zbontar et al. 2021).

    Each feature is standardised over the batch, ``\hat z = (z - \mu) / \sqrt{\sigma^2 +
    \varepsilon}``, the cross-correlation is ``C = \hat z_1^\top \hat z_2 / N`` and

    .. math:: \mathcal L = \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2

    The default (biased variance, ``eps=1e-5``) is the reference code's
    ``BatchNorm1d(affine=False)`` in training mode. A constant feature (zero variance, with
    ``eps=0``) is standardised to 0 with a finite gradient (double ``where``).

    An empty batch (``N = 0``) has no cross-correlation and so no terms: ``"sum"`` is 0,
    ``"mean"`` NaN and ``"none"`` an empty ``(0, 0)`` array, with zero gradients (the
    library's empty-batch rule).

    Args:
        z1, z2: ``(N, D)`` floating projections of the two views, ``N > correction`` (or
            ``N = 0``).
        lambda_: weight of the off-diagonal (redundancy) terms, >= 0 (default 0.0051).
        eps: added to the variance (default 1e-5, BatchNorm's), >= 0.
        correction: degrees-of-freedom correction of the variance: 0 (biased, default, the
            reference) or 1 (unbiased, ``torch.std``'s default).
        reduction: ``"sum"`` (default, the loss above), ``"mean"`` (over the ``D^2`` terms) or
            ``"none"`` (the ``(D, D)`` matrix of weighted terms).
    {group}
            The batch statistics and the cross-correlation are those of the whole group's
            batch (``D``-sized and ``D x D`` sums over the group, as the reference code's
            ``all_reduce``); every member gets the global loss, ``"none"`` the global terms.

    Returns:
        A scalar, or the ``(D, D)`` terms for ``"none"`` (``(0, 0)`` for an empty batch).

    Raises:
        ValueError: shapes, ``0 < N <= correction``, negative or infinite ``lambda_``/``eps``,
            bad ``correction``/``reduction``.
        TypeError: non-floating inputs, a ``correction`` that is not the int 0 or 1.

    References: Zbontar, Jing, Misra, LeCun & Deny 2021, "Barlow Twins: Self-Supervised
    Learning via Redundancy Reduction" (ICML).

    Peer twins:
        * Reference ``BarlowTwins`` (facebookresearch/barlowtwins) = the defaults.
        * MONAI ``BarlowTwinsLoss(lambd=l)`` and lightly ``BarlowTwinsLoss(lambda_param=l)``
          standardise with the unbiased std and no eps: ``barlow_twins_loss(z1, z2,
          lambda_=l, eps=0, correction=1)`` (a different value from the reference's: the
          standardised features are scaled by ``sqrt((N-1)/N)``).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])  # uncorrelated features
        >>> float(losses.barlow_twins_loss(z, z, eps=0.0))  # identical views: C is the identity
        0.0
    """
    xp = namespace(z1=z1, z2=z2)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(lambda_, "lambda_", low=0)
    check.finite_number(eps, "eps", low=0)
    if isinstance(correction, bool) or not isinstance(correction, int):
        raise TypeError(f"correction must be the int 0 or 1, got {correction!r}")
    check.choice(correction, "correction", (0, 1))
    _floating(xp, z1, "z1")
    _floating(xp, z2, "z2")
    _ndim(z1, 2, "z1", "N samples x D features")
    check.same_shape(z1, z2, "z1", "z2")
    n = z1.shape[0]
    if group is None and 0 < n <= correction:
        raise ValueError(f"barlow_twins_loss needs a batch of more than {correction} sample(s) (correction={correction}), got N={n}")
    _, out_dtype, (a, b) = float_args(xp, z1, z2, names=("z1", "z2"))
    if n == 0:  # no samples, no correlation: the reduction of no terms
        return reduce(xp, a[:, :0] * b[:, :0], reduction, out_dtype=out_dtype)  # (local) terms

    def batch_sum(v):  # over the samples of the whole batch
        return xp.sum(v, axis=0, keepdims=True) if group is None else xp.all_sum(xp.sum(v, axis=0, keepdims=True), group)

    n_all = global_count(xp, a, n, group)

    def centre(z):  # (z - mean, 1 / sqrt(var + eps)): the standardised z is their product
        # The mean is a constant for the gradient: the loss depends on z only through the
        # centred c, whose gradient has zero column sums already (c1^T c2 and sum(c^2) are
        # taken over centred columns), so the mean's backward would add 0 (rounding aside).
        c = z - xp.stop_gradient(batch_sum(z)) / n_all
        # sum(c^2) with its gradient 2c from one full-size product: sum(c * const(c)) has the
        # value and half the gradient, its difference with its constant (exactly 0) the other half
        half = batch_sum(c * xp.stop_gradient(c))
        v = (half + (half - xp.stop_gradient(half))) / (n_all - correction) + eps
        dead = v <= 0  # a constant feature with eps = 0 -> 0; double where: a finite gradient
        return c, xp.where(dead, 0.0, xp.where(dead, 1.0, v) ** -0.5)

    # C = diag(s1) (c1^T c2) diag(s2) / N: the (1, D) scales meet the (D, D) product, not the
    # (N, D) features (one full-size product and its backward fewer per view)
    (c1, s1), (c2, s2) = centre(a), centre(b)
    corr = xp.matmul(xp.matrix_transpose(c1), c2)
    corr = (corr if group is None else xp.all_sum(corr, group)) * (xp.matrix_transpose(s1) * (s2 / n_all))
    dim = corr.shape[0]
    eye = eye_mask(xp, corr, dim)
    if reduction == "none" or dim == 0:
        terms = xp.where(eye, (1.0 - corr) ** 2, lambda_ * corr * corr)
        return reduce(xp, terms, reduction, out_dtype=out_dtype)
    # the off-diagonal sum is the sum of all squares minus the diagonal's: no (D, D) select
    # of the terms (nor its backward)
    diag = xp.sum(xp.where(eye, corr, 0.0), axis=1)
    total = xp.sum((1.0 - diag) ** 2) + lambda_ * (xp.sum(corr ** 2) - xp.sum(diag ** 2))
    return xp.as_array(cast(xp, total if reduction == "sum" else total / (dim * dim), out_dtype))


# ------------------------------------------------------------ margin-based softmax losses ----
def _class_matrix(xp, embeddings, labels, matrix, name):
    """Checks of ``(embeddings, labels, matrix)``: ``matrix`` is ``(C, D)`` with ``D`` the
    embeddings' feature size; eagerly, the labels lie in ``[0, C)``."""
    _embeddings_labels(xp, embeddings, labels)
    _floating(xp, matrix, name)
    if matrix.ndim != 2 or matrix.shape[1] != embeddings.shape[1] or matrix.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (C, {embeddings.shape[1]}) with C >= 1 (one row per class, "
            f"the feature size of embeddings {tuple(embeddings.shape)}), got {tuple(matrix.shape)}"
        )
    check.class_indices(xp, labels, matrix.shape[0], name="labels")


def _scale(value, name="scale"):
    check.finite_number(value, name, low=0, low_open=True)
    return float(value)


def _clamp_unit(xp, c):
    """``c`` clamped to ``[-1, 1]`` (gradient 1 inside and at the bounds, 0 outside, as
    ``torch.clamp``); a NaN goes through."""
    return xp.where(c > 1, xp.ones_like(c), xp.where(c < -1, -xp.ones_like(c), c))


def _margin_softmax(xp, embeddings, labels, linear_weight, target_logit, scale, reduction, group,
                    norm_scaled=False):
    """Cross-entropy over ``scale * cos(x_i, W_c)`` with the target class's cosine replaced by
    ``target_logit(cos_target)`` (the margin): ``lse_c(logits') - logits'_{y_i}``.

    ``norm_scaled``: the logits are also multiplied by ``||x_i||`` (SphereFace)."""
    group = xp.check_group(group)
    _, out_dtype, (e, w) = float_args(xp, embeddings, linear_weight, names=("embeddings", "linear_weight"))
    cos = _matmul_t(xp, l2_normalize(xp, e), l2_normalize(xp, w))  # (N, C)
    c_t = xp.take_class(cos, labels, axis=1)  # (N,)
    psi = target_logit(c_t)
    factor = scale * l2_norm0(xp, e, axis=-1) if norm_scaled else scale
    hit = xp.expand_dims(labels, axis=1) == xp.expand_dims(arange_like(xp, cos, cos.shape[1]), axis=0)
    fac = xp.expand_dims(factor, axis=1) if norm_scaled else factor
    logits = fac * xp.where(hit, xp.expand_dims(psi, axis=1), cos)
    loss = xp.logsumexp(logits, axis=1) - factor * psi
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


_MARGIN_SOFTMAX_ARGS = """
    Args:
        embeddings: ``(N, D)`` floating embeddings (L2-normalised inside).
        labels: ``(N,)`` integer class ids in ``[0, C)`` (any integer dtype).
        linear_weight: ``(C, D)`` floating class weights, one row per class (L2-normalised
            inside; differentiable). pytorch-metric-learning keeps them as the module
            parameter ``loss.W`` of shape ``(D, C)``: pass ``loss.W.T``.
"""

_MARGIN_SOFTMAX_RAISES = """
    Raises:
        ValueError: embeddings not 2-D, labels not of shape ``(N,)``, the class matrix
            (``linear_weight`` or ``proxies``) not ``(C, D)`` with ``C >= 1``, a bad
            hyper-parameter (see Args), bad ``reduction``; eagerly, labels outside ``[0, C)``.
        TypeError: non-floating embeddings or class matrix, non-integer labels, non-real
            hyper-parameters (``sphereface_loss``: a ``margin`` that is not an int).
"""

_margin_softmax_doc = fill_doc("{margin_args}", _MARGIN_SOFTMAX_ARGS)
_margin_softmax_raises = fill_doc("{margin_raises}", _MARGIN_SOFTMAX_RAISES)


@check.entry
@group_doc
@_margin_softmax_raises
@_margin_softmax_doc
def arcface_loss(embeddings: ArrayT, labels: ArrayT, linear_weight: ArrayT, *, margin: float = 28.6,
                 scale: float = 64.0, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""ArcFace, the additive angular margin loss (Deng et al. 2019).

    As pytorch-metric-learning's ``ArcFaceLoss``.
    With ``\cos\theta_{ic}`` the cosine between the normalised embedding ``x_i`` and the
    normalised class row ``W_c``, and ``m`` the margin in radians:

    .. math:: \ell_i = -\log\frac{e^{s\,\psi(\theta_{i y_i})}}{e^{s\,\psi(\theta_{i y_i})}
              + \sum_{c \ne y_i} e^{s \cos\theta_{ic}}},\qquad
              \psi(\theta) = \begin{cases}\cos(\theta + m) & \theta \le \pi - m\\
              \cos\theta - m \sin m & \text{otherwise}\end{cases}

    The second branch keeps the target logit decreasing in ``theta`` beyond ``pi - m``
    (pml's and insightface's rule). ``cos(theta + m)`` is computed as
    ``cos(theta) cos(m) - sin(theta) sin(m)`` with ``sin(theta) = sqrt(1 - cos^2)`` (the
    target cosine clamped to ``[-1, 1]`` first) through the double-``where`` square root: no
    ``acos``, so the gradient is finite everywhere, and it is 0 through ``sin(theta)`` at
    ``cos = +-1`` exactly (where pml's ``acos`` gives an infinite or NaN gradient).
    {margin_args}
        margin: the angular margin in **degrees**, in ``[0, 180)`` (default 28.6, pml's;
            the paper's ``m = 0.5`` radians is 28.65 degrees).
        scale: the logit scale ``s`` > 0 (default 64, the paper's and pml's).
        reduction: ``"mean"`` (over the N samples, pml's ``MeanReducer``) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` per-sample losses for ``"none"``, else a scalar.
    {margin_raises}

    References: Deng, Guo, Xue & Zafeiriou 2019, "ArcFace: Additive Angular Margin Loss for
    Deep Face Recognition" (CVPR).

    Peer twins: pytorch-metric-learning ``ArcFaceLoss(num_classes=C, embedding_size=D,
    margin=m, scale=s)(embeddings, labels)`` = ``arcface_loss(embeddings, labels, loss.W.T,
    margin=m, scale=s)`` (value and gradients of both arrays; pml has no weight regulariser by
    default).

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [0.0, 2.0]]); w = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(losses.arcface_loss(x, np.array([0, 1]), w, margin=0.0, scale=1.0)), 4)
        0.3133
    """
    xp = namespace(embeddings=embeddings, labels=labels, linear_weight=linear_weight)
    check.reduction(reduction)
    check.finite_number(margin, "margin", low=0, high=180, high_open=True)
    s = _scale(scale)
    _class_matrix(xp, embeddings, labels, linear_weight, "linear_weight")
    m = math.radians(margin)
    cos_m, sin_m, threshold = math.cos(m), math.sin(m), -math.cos(m)  # cos(pi - m) = -cos(m)

    def target_logit(c):
        c = _clamp_unit(xp, c)
        sin = sqrt0(xp, 1.0 - c * c)
        # theta <= pi - m  <=>  cos(theta) >= cos(pi - m); a NaN takes the first branch (NaN too)
        return xp.where(c < threshold, c - m * sin_m, c * cos_m - sin * sin_m)

    return _margin_softmax(xp, embeddings, labels, linear_weight, target_logit, s, reduction, group)


@check.entry
@group_doc
@_margin_softmax_raises
@_margin_softmax_doc
def cosface_loss(embeddings: ArrayT, labels: ArrayT, linear_weight: ArrayT, *, margin: float = 0.35,
                 scale: float = 64.0, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""CosFace, the large margin cosine loss (Wang et al. 2018).

    As pytorch-metric-learning's ``CosFaceLoss``:

    .. math:: \ell_i = -\log\frac{e^{s(\cos\theta_{i y_i} - m)}}{e^{s(\cos\theta_{i y_i} - m)}
              + \sum_{c \ne y_i} e^{s \cos\theta_{ic}}}

    with ``\cos\theta_{ic}`` the cosine between the normalised embedding ``x_i`` and the
    normalised class row ``W_c``.
    {margin_args}
        margin: the cosine margin ``m``, a finite real number (default 0.35, pml's and the
            paper's).
        scale: the logit scale ``s`` > 0 (default 64, the paper's and pml's).
        reduction: ``"mean"`` (over the N samples, pml's ``MeanReducer``) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` per-sample losses for ``"none"``, else a scalar.
    {margin_raises}

    References: Wang, Wang, Zhou, Ji, Gong, Zhou, Li & Liu 2018, "CosFace: Large Margin Cosine
    Loss for Deep Face Recognition" (CVPR).

    Peer twins: pytorch-metric-learning ``CosFaceLoss(num_classes=C, embedding_size=D,
    margin=m, scale=s)(embeddings, labels)`` = ``cosface_loss(embeddings, labels, loss.W.T,
    margin=m, scale=s)`` (value and gradients of both arrays).

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [0.0, 2.0]]); w = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(losses.cosface_loss(x, np.array([0, 1]), w, margin=0.0, scale=1.0)), 4)
        0.3133
    """
    xp = namespace(embeddings=embeddings, labels=labels, linear_weight=linear_weight)
    check.reduction(reduction)
    check.finite_number(margin, "margin")
    s = _scale(scale)
    _class_matrix(xp, embeddings, labels, linear_weight, "linear_weight")
    m = float(margin)
    return _margin_softmax(xp, embeddings, labels, linear_weight, lambda c: c - m, s, reduction, group)


@check.entry
@group_doc
@_margin_softmax_raises
@_margin_softmax_doc
def sphereface_loss(embeddings: ArrayT, labels: ArrayT, linear_weight: ArrayT, *, margin: int = 4,
                    scale: float = 1.0, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""SphereFace, the angular softmax (A-Softmax) loss (Liu et al. 2017).

    As pytorch-metric-learning's ``SphereFaceLoss``.
    With ``\theta_{ic}`` the angle between ``x_i`` and the normalised class row ``W_c`` and an
    integer margin ``m``:

    .. math:: \ell_i = -\log\frac{e^{s\lVert x_i\rVert\,\psi(\theta_{i y_i})}}
              {e^{s\lVert x_i\rVert\,\psi(\theta_{i y_i})}
              + \sum_{c \ne y_i} e^{s\lVert x_i\rVert \cos\theta_{ic}}},\qquad
              \psi(\theta) = (-1)^k \cos(m\theta) - 2k,\quad
              k = \lfloor \theta m / \pi \rfloor

    ``cos(m theta)`` is the Chebyshev polynomial of the cosine,
    ``sum_n (-1)^n binom(m, 2n) cos^(m-2n) (1 - cos^2)^n`` (the paper's equation 7; no
    ``acos``, so the gradient is finite everywhere), and ``k`` counts the thresholds
    ``cos(j pi / m)``, j = 1..m, at or above the target cosine (clamped to ``[-1, 1]``):
    ``psi`` is continuous, so a cosine at a threshold gives the same value and gradient on
    either side. The class rows are normalised; the embeddings' norms stay in the logits.
    {margin_args}
        margin: the integer angular multiplier ``m`` >= 1 (default 4, the paper's and pml's).
        scale: an extra logit scale ``s`` > 0 (default 1, pml's).
        reduction: ``"mean"`` (over the N samples, pml's ``MeanReducer``) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` per-sample losses for ``"none"``, else a scalar.
    {margin_raises}

    References: Liu, Wen, Yu, Li, Raj & Song 2017, "SphereFace: Deep Hypersphere Embedding for
    Face Recognition" (CVPR).

    Peer twins: pytorch-metric-learning ``SphereFaceLoss(num_classes=C, embedding_size=D,
    margin=m, scale=s)(embeddings, labels)`` = ``sphereface_loss(embeddings, labels,
    loss.W.T, margin=m, scale=s)`` (value and gradients of both arrays; pml truncates a
    non-integer margin with ``int``, here it is a ``TypeError``).

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [0.0, 2.0]]); w = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(losses.sphereface_loss(x, np.array([0, 1]), w, margin=1)), 4)
        0.2201
    """
    xp = namespace(embeddings=embeddings, labels=labels, linear_weight=linear_weight)
    check.reduction(reduction)
    if isinstance(margin, bool) or not isinstance(margin, int):
        raise TypeError(f"margin must be an int >= 1 (the angular multiplier), got {margin!r}")
    if margin < 1:
        raise ValueError(f"margin must be an int >= 1 (the angular multiplier), got {margin!r}")
    s = _scale(scale)
    _class_matrix(xp, embeddings, labels, linear_weight, "linear_weight")
    terms = [((-1) ** n * math.comb(margin, 2 * n), margin - 2 * n, n) for n in range(margin // 2 + 1)]
    thresholds = [math.cos(j * math.pi / margin) for j in range(1, margin + 1)]

    def target_logit(c):
        sin2 = 1.0 - c * c
        cos_mt = sum(coef * (c ** power if power else 1.0) * (sin2 ** n if n else 1.0)
                     for coef, power, n in terms)
        cc = _clamp_unit(xp, xp.stop_gradient(c))
        k = sum(cast(xp, cc <= t, c.dtype) for t in thresholds)
        sign = 1.0 - 2.0 * (k - 2.0 * xp.floor(0.5 * k))  # (-1)^k
        return sign * cos_mt - 2.0 * k

    return _margin_softmax(xp, embeddings, labels, linear_weight, target_logit, s, reduction, group,
                           norm_scaled=True)


# ------------------------------------------------------------------- pair-weighting losses ----
def _cosine_pairs(xp, embeddings, labels, group=None):
    """``(sim, pos, neg, out_dtype)``: the ``(N, N)`` cosine similarities of the normalised
    embeddings and the positive (same label, not the same row) / negative masks; with a
    ``group``, the local anchors' ``(n, N)`` rows against the gathered batch."""
    e, out_dtype = _prepare_embeddings(xp, embeddings, True)
    labels_all = gathered(xp, labels, group)
    eye = _self_mask(xp, e, e.shape[0], labels_all.shape[0], group)
    sim = _matmul_t(xp, e, gathered(xp, e, group))
    pos, neg = _label_masks(xp, e, labels, eye, labels_all)
    return sim, pos, neg, out_dtype


def _masked_lse(xp, z, mask, add_one=False):
    """Row-wise ``log(sum_{mask} exp(z))`` (``log(1 + ...)`` with ``add_one``, 0 for an empty
    row). Without ``add_one`` an empty row gives a finite placeholder (the caller masks it):
    its entries are replaced by zeros first (double ``where``), so no gradient is NaN."""
    ninf = xp.full_like(z, -math.inf)
    if add_one:
        zero = xp.zeros((z.shape[0], 1), dtype=z.dtype, device=device_of(z))
        return xp.logsumexp(xp.concat([xp.where(mask, z, ninf), zero], axis=1), axis=1)
    some = xp.any(mask, axis=1, keepdims=True)
    keep = xp.logical_or(mask, xp.logical_not(some))
    return xp.logsumexp(xp.where(keep, xp.where(some, z, xp.zeros_like(z)), ninf), axis=1)


@check.entry
@group_doc
def multi_similarity_loss(embeddings: ArrayT, labels: ArrayT, *, alpha: float = 2.0, beta: float = 50.0,
                          base: float = 0.5, reduction: Reduction = "mean", group: Group = None,
                          indices_tuple: IndicesTuple | None = None) -> ArrayT:
    r"""Multi-similarity loss (Wang et al. 2019) over every pair of the batch.

    As pytorch-metric-learning's ``MultiSimilarityLoss``.
    With ``S_{ij}`` the cosine similarity of the normalised embeddings, ``P_i`` the other
    samples of ``i``'s class and ``N_i`` the samples of other classes:

    .. math:: \ell_i = \frac{1}{\alpha}\log\Big(1 + \sum_{p \in P_i} e^{-\alpha (S_{ip} - \lambda)}\Big)
              + \frac{1}{\beta}\log\Big(1 + \sum_{n \in N_i} e^{\beta (S_{in} - \lambda)}\Big)

    (``lambda = base``). The paper also mines the pairs first (its hard-pair selection with
    ``epsilon = 0.1``); pml keeps that in the separate ``MultiSimilarityMiner``, and the
    loss here, as pml's loss without a miner, uses every pair. An anchor without positives
    (or negatives) has a zero term for them. Computed with ``logsumexp``: finite at any
    ``alpha``/``beta``.

    Args:
        embeddings: ``(N, D)`` floating embeddings (L2-normalised inside).
        labels: ``(N,)`` integer class ids (any integer dtype).
        alpha: the positive scale ``alpha`` > 0 (default 2, the paper's and pml's).
        beta: the negative scale ``beta`` > 0 (default 50, the paper's and pml's).
        base: the similarity offset ``lambda`` of the paper, finite (default 0.5, pml's name
            and default; the paper uses 1 for some datasets).
        reduction: ``"mean"`` (over the N anchors, pml's ``MeanReducer``) | ``"sum"`` |
            ``"none"``. An empty batch gives NaN for ``"mean"``.
    {group}
        indices_tuple: ``None`` (default: every pair of the batch) or pml's explicit pairs
            ``(a1, p, a2, n)`` (positive pairs ``(a1_i, p_i)``, negative pairs
            ``(a2_j, n_j)``), triplets ``(a, p, n)`` (their ``(a, p)`` and ``(a, n)`` pairs) or
            a miner's :class:`Triplets` (its valid entries): 1-D integer row indices in
            ``[0, N)`` (checked eagerly), taken as given (the labels are not consulted). Not
            with a ``group``.

    Returns:
        ``(N,)`` per-anchor losses for ``"none"``, else a scalar.

    Raises:
        ValueError: embeddings not 2-D, labels not of shape ``(N,)``, non-positive or
            infinite ``alpha``/``beta``, infinite ``base``, bad ``reduction``.
        TypeError: non-floating embeddings, non-integer labels, non-real hyper-parameters.

    References: Wang, Han, Huang, Dong & Scott 2019, "Multi-Similarity Loss with General Pair
    Weighting for Deep Metric Learning" (CVPR).

    Peer twins: pytorch-metric-learning ``MultiSimilarityLoss(alpha=a, beta=b,
    base=l)(embeddings, labels)`` (no miner) = ``multi_similarity_loss(embeddings, labels,
    alpha=a, beta=b, base=l)`` (value and gradient). With a ``MultiSimilarityMiner`` pml
    computes the same terms over the mined pairs only: ``MultiSimilarityLoss(...)(x, y,
    miner(x, y))`` = ``multi_similarity_loss(x, y, ..., indices_tuple=miner(x, y))``.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> round(float(losses.multi_similarity_loss(x, np.array([0, 0, 1]), alpha=1.0, beta=1.0)), 4)
        0.8969
    """
    xp = namespace(embeddings=embeddings, labels=labels, **_index_arrays(indices_tuple))
    check.reduction(reduction)
    a = _scale(alpha, "alpha")
    b = _scale(beta, "beta")
    check.finite_number(base, "base")
    _embeddings_labels(xp, embeddings, labels)
    group = xp.check_group(group)
    if indices_tuple is not None and group is not None:
        raise ValueError("indices_tuple= with a group= is not supported: the indices of each member's "
                         "shard would have to be global; pass indices_tuple=None")
    idx = None if indices_tuple is None else _check_indices_tuple(xp, indices_tuple, embeddings.shape[0])
    sim, pos, neg, out_dtype = _cosine_pairs(xp, embeddings, labels, group)
    if idx is not None:
        pos, neg = _pair_masks(xp, idx, embeddings.shape[0], sim)
    pos_term = _masked_lse(xp, -a * (sim - base), pos, add_one=True) / a
    neg_term = _masked_lse(xp, b * (sim - base), neg, add_one=True) / b
    return reduce(xp, pos_term + neg_term, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def circle_loss(embeddings: ArrayT, labels: ArrayT, *, margin: float = 0.4, gamma: float = 80.0,
                mean_over: MeanOver = "valid", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Circle loss with class-level labels (Sun et al. 2020).

    As pytorch-metric-learning's ``CircleLoss``.
    With ``S_{ij}`` the cosine similarity of the normalised embeddings, ``P_i`` / ``N_i``
    the positives / negatives of anchor ``i``, ``O_p = 1 + m``, ``O_n = -m``,
    ``\Delta_p = 1 - m``, ``\Delta_n = m``:

    .. math:: \ell_i = \operatorname{softplus}\Big(
              \log\sum_{n \in N_i} e^{\gamma\,\alpha_{in}(S_{in} - \Delta_n)}
              + \log\sum_{p \in P_i} e^{-\gamma\,\alpha_{ip}(S_{ip} - \Delta_p)}\Big),\quad
              \alpha_{ip} = [O_p - S_{ip}]_+,\ \alpha_{in} = [S_{in} - O_n]_+

    The weights ``alpha`` are constants for the gradient (the paper's reference code and pml
    detach them). An anchor without a positive or without a negative is not valid: its
    loss is 0 and it is left out of the mean.

    Args:
        embeddings: ``(N, D)`` floating embeddings (L2-normalised inside).
        labels: ``(N,)`` integer class ids (any integer dtype).
        margin: the relaxation margin ``m``, finite (default 0.4, pml's and Keras's; the
            paper's fine-grained retrieval setting).
        gamma: the scale ``gamma`` > 0 (default 80).
        mean_over: ``"valid"`` (default: the mean over the valid anchors) or ``"nonzero"``
            (over the valid anchors with a loss > 0: pml's ``AvgNonZeroReducer``; the two
            differ only where a softplus underflows to 0).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``. The mean of no valid anchor is 0
            with a zero gradient; an empty batch gives NaN.
    {group}

    Returns:
        ``(N,)`` per-anchor losses (0 for invalid anchors) for ``"none"``, else a scalar.

    Raises:
        ValueError: embeddings not 2-D, labels not of shape ``(N,)``, infinite ``margin``,
            non-positive or infinite ``gamma``, bad ``mean_over``/``reduction``.
        TypeError: non-floating embeddings, non-integer labels, non-real hyper-parameters.

    References: Sun, Cheng, Zhang, Zhang, Zheng, Wang & Wei 2020, "Circle Loss: A Unified
    Perspective of Pair Similarity Optimization" (CVPR).

    Peer twins:
        * pytorch-metric-learning ``CircleLoss(m=m, gamma=g)(embeddings, labels)`` =
          ``circle_loss(embeddings, labels, margin=m, gamma=g, mean_over="nonzero")``
          (value and gradient; pml's ``torch.nn.Softplus`` returns its input above 20, an
          absolute difference below ``exp(-20) = 2.1e-9`` per anchor there).
        * Keras 3 ``keras.losses.Circle(gamma=80, margin=0.4)`` (and ``keras.losses.circle``)
          on L2-normalised embeddings (Keras does not normalise them) gives the same
          per-sample values as ``reduction="none"``, and its default mean (over the non-zero
          per-sample losses) is ``mean_over="nonzero"``; Keras differentiates through the
          weights ``alpha``, so its gradient differs (docs/differences.md).

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
        >>> y = np.array([0, 0, 1])  # anchor 2 has no positive: 0, left out of the mean
        >>> np.round(losses.circle_loss(x, y, gamma=1.0, reduction="none"), 4)
        array([0.6163, 0.9617, 0.    ])
        >>> round(float(losses.circle_loss(x, y, gamma=1.0)), 4)
        0.789
    """
    xp = namespace(embeddings=embeddings, labels=labels)
    check.reduction(reduction)
    check.finite_number(margin, "margin")
    g = _scale(gamma, "gamma")
    check.choice(mean_over, "mean_over", _MEAN_OVER)
    _embeddings_labels(xp, embeddings, labels)
    group = xp.check_group(group)
    sim, pos, neg, out_dtype = _cosine_pairs(xp, embeddings, labels, group)
    m = float(margin)
    fixed = xp.stop_gradient(sim)
    z_pos = -g * relu0(xp, (1.0 + m) - fixed) * (sim - (1.0 - m))
    z_neg = g * relu0(xp, fixed + m) * (sim - m)
    valid = xp.logical_and(xp.any(pos, axis=1), xp.any(neg, axis=1))
    loss = xp.softplus(_masked_lse(xp, z_pos, pos) + _masked_lse(xp, z_neg, neg))
    return _mining_reduce(xp, loss, valid, reduction, mean_over, out_dtype, group)


# --------------------------------------------------------------------------- proxy losses ----
_PROXY_ARGS = """
    Args:
        embeddings: ``(N, D)`` floating embeddings (L2-normalised inside).
        labels: ``(N,)`` integer class ids in ``[0, C)`` (any integer dtype).
        proxies: ``(C, D)`` floating class proxies, one row per class (L2-normalised inside;
            differentiable). pytorch-metric-learning keeps them as the module parameter
            ``loss.proxies`` of the same shape ``(C, D)``: pass it as it is.
"""

_proxy_doc = fill_doc("{proxy_args}", _PROXY_ARGS)


@check.entry
@group_doc
@_margin_softmax_raises
@_proxy_doc
def proxy_anchor_loss(embeddings: ArrayT, labels: ArrayT, proxies: ArrayT, *, margin: float = 0.1,
                      alpha: float = 32.0, reduction: ScalarReduction = "mean", group: Group = None) -> ArrayT:
    r"""Proxy-Anchor loss (Kim et al. 2020), as pytorch-metric-learning's ``ProxyAnchorLoss``.

    Each proxy ``p`` is an anchor. With ``s(x, p)`` the cosine similarity, ``X_p^+`` the
    samples of ``p``'s class, ``X_p^-`` the others and ``P^+`` the proxies with at least one
    sample in the batch (``P``: all ``C`` proxies):

    .. math:: \mathcal L = \frac{1}{|P^+|}\sum_{p \in P^+}
              \log\Big(1 + \sum_{x \in X_p^+} e^{-\alpha (s(x, p) - \delta)}\Big)
              + \frac{1}{|P|}\sum_{p \in P}
              \log\Big(1 + \sum_{x \in X_p^-} e^{\alpha (s(x, p) + \delta)}\Big)

    The terms are per proxy, not per sample, so there is no ``reduction="none"`` (and no
    per-sample Keras loss).
    {proxy_args}
        margin: the margin ``delta``, finite (default 0.1, the paper's and pml's).
        alpha: the scale ``alpha`` > 0 (default 32, the paper's and pml's).
        reduction: ``"mean"`` (default: the loss above, pml's ``DivisorReducer``) or
            ``"sum"`` (the sum of all ``C`` positive and ``C`` negative proxy terms). An empty
            batch gives NaN for ``"mean"`` (pml: 0) and 0 for ``"sum"``.
    {group}

    Returns:
        A scalar.
    {margin_raises}

    References: Kim, Kim, Cho & Kwak 2020, "Proxy Anchor Loss for Deep Metric Learning" (CVPR);
    the reference code Proxy-Anchor-CVPR2020.

    Peer twins: pytorch-metric-learning ``ProxyAnchorLoss(num_classes=C, embedding_size=D,
    margin=d, alpha=a)(embeddings, labels)`` = ``proxy_anchor_loss(embeddings, labels,
    loss.proxies, margin=d, alpha=a)`` (value and gradients of both arrays). The reference
    code (Proxy-Anchor-CVPR2020) is the same formula.

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]); p = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(losses.proxy_anchor_loss(x, np.array([0, 1]), p, margin=0.0, alpha=1.0)), 4)
        1.0064
    """
    xp = namespace(embeddings=embeddings, labels=labels, proxies=proxies)
    check.reduction(reduction, ("mean", "sum"))
    check.finite_number(margin, "margin")
    a = _scale(alpha, "alpha")
    _class_matrix(xp, embeddings, labels, proxies, "proxies")
    group = xp.check_group(group)
    _, out_dtype, (e, p) = float_args(xp, embeddings, proxies, names=("embeddings", "proxies"))
    # the terms are per proxy, over every sample: with a group, over the gathered batch
    # (O(global batch x D) per member; each member computes the global value)
    e, labels = gathered(xp, e, group), gathered(xp, labels, group)
    # (N, C) cosines: the embeddings' inverse norms scale the product, not the (N, D) rows
    cos = _matmul_t(xp, e, l2_normalize(xp, p)) * _inverse_norm(xp, e)
    hit = xp.expand_dims(labels, axis=1) == xp.expand_dims(arange_like(xp, cos, cos.shape[1]), axis=0)
    if cos.shape[0] == 0:  # no sample: every term is log(1 + 0) (a maximum over nothing has no value)
        pos_term = neg_term = xp.sum(cos, axis=0)
    else:  # (C,): 0 without samples; alpha * cos is shared, the margins are the shifts
        t = a * cos
        pos_term = _log1p_sum_exp(xp, t, hit, -1, a * margin, axis=0)
        neg_term = _log1p_sum_exp(xp, t, xp.logical_not(hit), 1, a * margin, axis=0)
    if reduction == "sum":
        out = xp.sum(pos_term) + xp.sum(neg_term)
    else:
        with_pos = xp.sum(cast(xp, xp.any(hit, axis=0), cos.dtype))
        out = safe_divide(xp, xp.sum(pos_term), with_pos) + xp.mean(neg_term)
    return xp.as_array(cast(xp, out, out_dtype))


@check.entry
@group_doc
@_margin_softmax_raises
@_proxy_doc
def proxy_nca_loss(embeddings: ArrayT, labels: ArrayT, proxies: ArrayT, *, scale: float = 1.0,
                   reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Proxy-NCA loss (Movshovitz-Attias et al. 2017).

    As pytorch-metric-learning's ``ProxyNCALoss``:
    A softmax over the negative squared Euclidean distances between the normalised
    embedding and the normalised proxies, with the sample's own class as the target:

    .. math:: \ell_i = -\log\frac{e^{-s\,\lVert \hat x_i - \hat p_{y_i}\rVert^2}}
              {\sum_{c} e^{-s\,\lVert \hat x_i - \hat p_c\rVert^2}}

    (the denominator over all proxies, pml's form; the paper's leaves the true proxy out).
    Computed as a log-softmax: finite at any ``scale``. Squared distances come from the Gram
    matrix, clamped at 0.
    {proxy_args}
        scale: the logit scale ``s`` > 0 (default 1: pml's ``softmax_scale``).
        reduction: ``"mean"`` (over the N samples, pml's ``MeanReducer``) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        ``(N,)`` per-sample losses for ``"none"``, else a scalar.
    {margin_raises}

    References: Movshovitz-Attias, Toshev, Leung, Ioffe & Singh 2017, "No Fuss Distance Metric
    Learning using Proxies" (ICCV).

    Peer twins: pytorch-metric-learning ``ProxyNCALoss(num_classes=C, embedding_size=D,
    softmax_scale=s)(embeddings, labels)`` = ``proxy_nca_loss(embeddings, labels,
    loss.proxies, scale=s)`` (value and gradients of both arrays) while no probability
    underflows to 0; pml drops such a sample from its mean (its ``-log`` would be infinite),
    here its loss is finite and counted (docs/differences.md).

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]); p = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(losses.proxy_nca_loss(x, np.array([0, 1]), p)), 4)
        0.1269
    """
    xp = namespace(embeddings=embeddings, labels=labels, proxies=proxies)
    check.reduction(reduction)
    s = _scale(scale)
    _class_matrix(xp, embeddings, labels, proxies, "proxies")
    group = xp.check_group(group)
    _, out_dtype, (e, p) = float_args(xp, embeddings, proxies, names=("embeddings", "proxies"))
    e, p = l2_normalize(xp, e), l2_normalize(xp, p)
    sq = (xp.expand_dims(xp.sum(e * e, axis=1), axis=1) + xp.expand_dims(xp.sum(p * p, axis=1), axis=0)
          - 2.0 * _matmul_t(xp, e, p))
    logits = -s * xp.where(sq <= 0, 0.0, sq)  # NaN goes through
    loss = xp.logsumexp(logits, axis=1) - xp.take_class(logits, labels, axis=1)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
