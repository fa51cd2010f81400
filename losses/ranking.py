"""Learning-to-rank losses (rax / optax conventions).

Every loss scores lists of items: ``scores`` and ``labels`` are ``(..., list_size)``, the list
axis is the last one and the leading axes index the lists. ``labels`` are graded relevance
labels (any real dtype; integer and bool labels are cast to the floating compute dtype, the
library's policy); larger is more relevant.

``where`` (rax's name) is an optional boolean mask of the valid items, broadcastable to
``scores``: lists of different lengths are padded to one ``list_size`` and the padding is
masked. Masked items are never read: a NaN or an infinity there changes nothing. ``weight``
(rax's ``weights=``; the library has one name for weights) holds per-item weights where rax
takes them.

Reductions (rax's ``reduce_fn`` = ``jnp.mean`` | ``jnp.sum`` | ``None``):

* ``"none"``: one loss per list, shape ``scores.shape[:-1]``; a list without a valid item
  gives 0. For the pairwise losses this is the sum of the list's pair losses (rax's
  ``reduce_fn=None`` returns the ``list_size**2`` pair losses; summing them over the last
  axis gives ours);
* ``"sum"``: the sum of the per-list losses (rax's ``jnp.sum``);
* ``"mean"``: rax's ``jnp.mean``: for the listwise losses the mean over the lists that hold at
  least one valid item, for the pairwise losses the mean over every valid pair of the batch.
  The mean of nothing (no valid list, no valid pair) is NaN with a zero gradient, the
  library's rule, where rax returns 0 (docs/differences.md).

With ``group=`` (docs/distributed.md) the lists are the batch, split along the first axis:
``"mean"`` divides by the global number of lists with a valid item (the global number of
valid pairs for the pairwise losses), ``"sum"`` is the global sum and ``"none"`` this
member's lists.

A NaN in a valid item's score, label or weight that the loss reads makes its list's loss NaN
(rax turns a NaN label of the pairwise and ListMLE losses into a valid or invalid pair or
a sort position instead).
"""
from __future__ import annotations

import math
import re
import textwrap

from . import _validate as check
from ._common import arange_like, fill_doc, float_args, relu0
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace

__all__ = [
    "ranking_softmax_loss",
    "poly1_softmax_loss",
    "listmle_loss",
    "pairwise_hinge_loss",
    "pairwise_logistic_loss",
    "pairwise_mse_loss",
    "approx_ndcg_loss",
    "approx_mrr_loss",
]

_LN2 = math.log(2.0)


# ------------------------------------------------------------------------------ set-up ----
def _setup(scores, labels, where, weight, reduction, group):
    """Checks and casts shared by every ranking loss.

    Returns ``(xp, out_dtype, s, y, w, valid, group)``: the scores, labels and weights (None
    or broadcast to the scores' shape, 0 at masked items) in the compute dtype, the boolean
    mask of valid items of the scores' shape and the resolved ``group``. ``valid`` is None
    when every item is valid (no ``where``, lists of at least one item): the bodies then skip
    every mask."""
    xp = namespace(scores=scores, labels=labels, where=where, weight=weight)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.floating(xp, scores, "scores")
    check.ndim_at_least(scores, 1, "scores")
    if not hasattr(labels, "shape"):
        raise TypeError(f"labels must be an array, got {type(labels).__name__}")
    check.same_shape(scores, labels, "scores", "labels")
    if where is not None:
        if not hasattr(where, "dtype") or not xp.isdtype(where.dtype, "bool"):
            raise TypeError(f"where must be a boolean array of the valid items, got "
                            f"{getattr(where, 'dtype', type(where).__name__)}")
        check.broadcastable(where, "where", scores.shape, "scores")
    if weight is not None:
        if not hasattr(weight, "shape"):
            raise TypeError(f"weight must be an array of per-item weights, got {type(weight).__name__}")
        check.broadcastable(weight, "weight", scores.shape, "scores")
    _, out_dtype, (s, y, w) = float_args(xp, scores, labels, weight, names=("scores", "labels", "weight"))
    shape = tuple(s.shape)
    if w is not None and tuple(w.shape) != shape:
        w = xp.broadcast_to(w, shape)
    if where is None:
        valid = None if shape[-1] > 0 else xp.ones_like(s, dtype=xp.bool)
    else:
        valid = where if tuple(where.shape) == shape else xp.broadcast_to(where, shape)
        w = None if w is None else _masked(xp, valid, w)
    return xp, out_dtype, s, y, w, valid, group


def _listwise(xp, per, valid, reduction, out_dtype, group):
    """Reduce per-list losses: lists without a valid item count for nothing (weight 0);
    with a ``group``, ``"mean"`` divides by the global number of lists with a valid item."""
    if valid is None:  # every list holds an item: the plain reduction
        return reduce(xp, per, reduction, out_dtype=out_dtype, group=group)
    has_item = xp.astype(xp.any(valid, axis=-1), per.dtype)
    return reduce(xp, per, reduction, weight=has_item, out_dtype=out_dtype, group=group)


def _masked(xp, valid, x, fill=0.0):
    """``x`` where the item is valid, ``fill`` elsewhere (masked NaN/inf never reach the math)."""
    return xp.where(valid, x, fill)


def _nan_labels(xp, per, y, valid):
    """``per`` with NaN for the lists where a valid label is NaN (labels used only to sort)."""
    nan = xp.isnan(y)
    bad = xp.any(nan if valid is None else xp.logical_and(valid, nan), axis=-1)
    return xp.where(bad, math.nan, per)


def _valid_logits(xp, s, valid):
    """The scores with -inf at masked items: their log-softmax is over the valid items of each
    list (a list without a valid item holds zeros: finite, with a finite gradient)."""
    has_item = xp.any(valid, axis=-1, keepdims=True)
    fill = xp.where(has_item, -math.inf, xp.astype(has_item, s.dtype))  # -inf, or 0 in an empty list
    return xp.where(valid, s, fill)


def _gains(xp, y, w):
    """rax's default gains ``2**y - 1``, times the per-item weights."""
    g = xp.expm1(y * _LN2)
    return g if w is None else g * w


def _approx_ranks(xp, s, valid, temperature):
    """rax's smooth ranks: ``1 + sum_{j != i, j valid} sigmoid((s_j - s_i) / T)`` for each valid
    item ``i`` (a masked item's value is not its rank: the callers mask it)."""
    if valid is not None:
        s = _masked(xp, valid, s)
    diff = xp.expand_dims(s, axis=-2) + xp.expand_dims(-s, axis=-1)  # [i, j]: s_j - s_i, as a sum
    if temperature != 1.0:  # x / 1 is x
        diff = diff / temperature
    i = arange_like(xp, s, s.shape[-1])
    others = xp.expand_dims(i, axis=1) != xp.expand_dims(i, axis=0)  # j != i
    if valid is not None:
        others = xp.logical_and(others, xp.expand_dims(valid, axis=-2))
    return 1.0 + xp.sum(xp.where(others, xp.sigmoid(diff), 0.0), axis=-1)


def _temperature(temperature):
    check.real_number(temperature, "temperature", low=0, low_open=True)
    check.finite_number(temperature, "temperature", low=0, low_open=True)


# ------------------------------------------------------------------------------ listwise ----
@check.entry
@group_doc
def ranking_softmax_loss(scores: ArrayT, labels: ArrayT, *, where: ArrayT | None = None,
                         weight: ArrayT | None = None, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Softmax (listwise cross-entropy) ranking loss (ListNet's top-one form).

    .. math:: \ell(s, y) = -\sum_{i \text{ valid}} w_i\, y_i \log \frac{e^{s_i}}{\sum_{j \text{ valid}} e^{s_j}}

    The labels are used as they are (not normalised to a distribution), as in rax and optax.
    The log-softmax is shifted by the list maximum: finite for scores of any magnitude.

    Args:
        scores: item scores ``(..., list_size)``, floating.
        labels: relevance labels, the shape of ``scores`` (integer/bool labels are cast).
        where: optional boolean mask of valid items, broadcastable to ``scores``.
        weight: optional per-item weights (rax's ``weights=``), broadcastable to ``scores``;
            they multiply the labels.
        reduction: ``"mean"`` (over the lists with a valid item) | ``"sum"`` | ``"none"``
            (per list).
    {group}

    Returns:
        A scalar, or the per-list losses ``scores.shape[:-1]`` for ``"none"``.

    Raises:
        ValueError: shapes that differ or do not broadcast, bad ``reduction``.
        TypeError: non-floating ``scores``, complex labels or weights, a non-boolean
            ``where``, mixed array frameworks.

    References: Cao et al. 2007, "Learning to Rank: From Pairwise Approach to Listwise
    Approach" (ListNet); Bruch et al. 2019, "An Analysis of the Softmax Cross Entropy Loss
    for Learning-to-Rank with Binary Relevance".

    Peer twins: ``rax.softmax_loss(scores, labels, where=, weights=, reduce_fn=)`` and
    ``optax.losses.ranking_softmax_loss(logits, labels, where=, weights=, reduce_fn=)``
    with ``reduce_fn=jnp.mean`` / ``jnp.sum`` / ``None`` for ``"mean"`` / ``"sum"`` /
    ``"none"`` (the mean of no valid list: rax and optax give 0, ours NaN).

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[2.0, 1.0, 3.0]]); y = np.array([[1.0, 0.0, 0.0]])
        >>> print(f"{float(losses.ranking_softmax_loss(s, y)):.6f}")
        1.407606
    """
    xp, out_dtype, s, y, w, valid, group = _setup(scores, labels, where, weight, reduction, group)
    yw = y if w is None else y * w
    if valid is None:
        per = -xp.sum(yw * xp.log_softmax(s, axis=-1), axis=-1)
    else:  # a masked item's term is 0 (its log-probability is -inf, its label unread)
        logp = _masked(xp, valid, xp.log_softmax(_valid_logits(xp, s, valid), axis=-1))
        per = -xp.sum(_masked(xp, valid, yw) * logp, axis=-1)
    return _listwise(xp, per, valid, reduction, out_dtype, group)


@check.entry
@group_doc
def poly1_softmax_loss(scores: ArrayT, labels: ArrayT, *, epsilon: float = 1.0, where: ArrayT | None = None,
                       weight: ArrayT | None = None, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Poly-1 softmax ranking loss: the softmax loss plus ε times one minus the target probability.

    .. math::
        \ell(s, y) = \ell_{\text{softmax}}(s, y) + \epsilon\,(1 - p_t), \qquad
        p_t = \sum_{i \text{ valid}} \frac{w_i y_i}{\sum_{j \text{ valid}} w_j y_j}\,
              \frac{e^{s_i}}{\sum_{j \text{ valid}} e^{s_j}}

    A list whose (weighted) labels sum to 0 uses the uniform distribution over its valid items
    (rax's ``normalize_probabilities``); a list without a valid item gives 0.

    Args:
        scores: item scores ``(..., list_size)``, floating.
        labels: relevance labels, the shape of ``scores``.
        epsilon: the Poly-1 coefficient ε, a finite real number (default 1, rax's).
        where: optional boolean mask of valid items, broadcastable to ``scores``.
        weight: optional per-item weights (rax's ``weights=``), broadcastable to ``scores``.
        reduction: ``"mean"`` (over the lists with a valid item) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-list losses for ``"none"``.

    Raises:
        ValueError: shape mismatches, an infinite ``epsilon``, bad ``reduction``.
        TypeError: non-floating ``scores``, a non-number ``epsilon``, a non-boolean ``where``.

    References: Leng et al. 2022, "PolyLoss: A Polynomial Expansion Perspective of
    Classification Loss Functions".

    Peer twins: ``rax.poly1_softmax_loss(scores, labels, epsilon=, where=, weights=,
    reduce_fn=)`` (the mean of no valid list: rax 0, ours NaN).

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[2.0, 1.0, 3.0]]); y = np.array([[1.0, 0.0, 0.0]])
        >>> print(f"{float(losses.poly1_softmax_loss(s, y, epsilon=0.5)):.6f}")
        1.785242
    """
    check.finite_number(epsilon, "epsilon")
    xp, out_dtype, s, y, w, valid, group = _setup(scores, labels, where, weight, reduction, group)
    yw = y if w is None else y * w
    if valid is None:
        z, count = s, float(s.shape[-1])
        logp = xp.log_softmax(z, axis=-1)
        ce = -xp.sum(yw * logp, axis=-1)
    else:
        yw = _masked(xp, valid, yw)
        z = _valid_logits(xp, s, valid)
        logp = xp.log_softmax(z, axis=-1)
        ce = -xp.sum(yw * _masked(xp, valid, logp), axis=-1)
        count = xp.sum(xp.astype(valid, s.dtype), axis=-1, keepdims=True)
        count = xp.where(count == 0, float(s.shape[-1]), count)
    total = xp.sum(yw, axis=-1, keepdims=True)
    nonzero = total != 0
    dist = xp.where(nonzero, yw / xp.where(nonzero, total, 1.0), 1.0 / count)
    p = xp.softmax(z, axis=-1)
    if valid is None:
        pt = xp.sum(dist * p, axis=-1)
    else:
        pt = xp.sum(dist * _masked(xp, valid, p), axis=-1)
        pt = xp.where(xp.any(valid, axis=-1), pt, 1.0)
    per = ce + epsilon * (1.0 - pt)
    return _listwise(xp, per, valid, reduction, out_dtype, group)


def _suffix_logsumexp(xp, x):
    """``log(sum_{j >= k} exp(x_j))`` along the last axis by ``ceil(log2(L))`` doubling steps
    of ``logaddexp`` (an associative scan: stable for any magnitude, no loop over the list)."""
    n = x.shape[-1]
    floor = xp.finfo(x.dtype).min
    acc, step = x, 1
    while step < n:
        tail = xp.full_like(acc[..., :step], floor)
        acc = xp.logaddexp(acc, xp.concat([acc[..., step:], tail], axis=-1))
        step *= 2
    return acc


@check.entry
@group_doc
def listmle_loss(scores: ArrayT, labels: ArrayT, *, where: ArrayT | None = None,
                 reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""ListMLE: the negative Plackett-Luce log-likelihood of the order the labels induce.

    .. math::
        \ell(s, y) = -\sum_{k=1}^{n} \Big(s_{\pi(k)} - \log \sum_{m \ge k} e^{s_{\pi(m)}}\Big)

    with ``π`` the valid items sorted by decreasing label; ties keep their order in the list
    (a stable sort, rax without ``key``: permute the items beforehand for a random
    tie-break). The suffix log-sum-exps are an associative ``logaddexp`` scan in
    ``O(L log L)``: finite for scores of any magnitude. A NaN in a valid label gives NaN.

    Args:
        scores: item scores ``(..., list_size)``, floating.
        labels: relevance labels, the shape of ``scores``.
        where: optional boolean mask of valid items, broadcastable to ``scores``.
        reduction: ``"mean"`` (over the lists with a valid item) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-list losses for ``"none"``.

    Raises:
        ValueError: shape mismatches, bad ``reduction``.
        TypeError: non-floating ``scores``, a non-boolean ``where``.

    References: Xia et al. 2008, "Listwise Approach to Learning to Rank: Theory and
    Algorithm".

    Peer twins: ``rax.listmle_loss(scores, labels, where=, reduce_fn=)`` (``key=None``; the
    mean of no valid list: rax 0, ours NaN).

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[2.0, 1.0, 3.0]]); y = np.array([[1.0, 0.0, 2.0]])
        >>> print(f"{float(losses.listmle_loss(s, y)):.6f}")
        0.720868
    """
    xp, out_dtype, s, y, _, valid, group = _setup(scores, labels, where, None, reduction, group)
    if math.prod(s.shape) == 0:  # nothing to sort (Dask cannot sort an empty array)
        return _listwise(xp, xp.sum(s, axis=-1), valid, reduction, out_dtype, group)
    if valid is None:  # every item valid: one stable sort by decreasing label
        x = xp.take_along_last(s, xp.argsort(-y, axis=-1, stable=True))
        per = -xp.sum(x - _suffix_logsumexp(xp, x), axis=-1)
        return _listwise(xp, _nan_labels(xp, per, y, valid), valid, reduction, out_dtype, group)
    # lexicographic order (valid first, then decreasing label), stable: two stable sorts
    by_label = xp.argsort(_masked(xp, valid, -y), axis=-1, stable=True)
    invalid = xp.take_along_last(xp.astype(xp.logical_not(valid), s.dtype), by_label)
    order = xp.take_along_last(by_label, xp.argsort(invalid, axis=-1, stable=True))
    s_sorted = xp.take_along_last(s, order)
    v_sorted = xp.take_along_last(xp.astype(valid, s.dtype), order) > 0
    x = _masked(xp, v_sorted, s_sorted, xp.finfo(s.dtype).min)
    lse = _suffix_logsumexp(xp, x)
    per = -xp.sum(_masked(xp, v_sorted, x - lse), axis=-1)
    return _listwise(xp, _nan_labels(xp, per, y, valid), valid, reduction, out_dtype, group)


# ------------------------------------------------------------------------------ pairwise ----
def _pairwise(scores, labels, where, weight, reduction, pair_loss, group, all_pairs=False):
    """rax's ``pairwise_loss``: pairs ``(i, j)`` of valid items with ``y_i > y_j`` (every pair
    with ``all_pairs``), each weighted by ``weight_i``; per-list sums, a per-pair mean (over
    the valid pairs of the global batch with a ``group``).

    A pair that does not count (not ``y_i > y_j``, a masked item, a zero weight) adds exactly
    0, even where its loss is not finite. The pair grid is built once: the weights apply to
    the per-item sums of the pair losses, and a valid label or weight that is not finite
    (which makes a label difference or a weighted term of the list NaN) makes its list NaN,
    and the gradient at each of its valid items, through one per-list term."""
    xp, out_dtype, s, y, w, valid, group = _setup(scores, labels, where, weight, reduction, group)
    n = s.shape[-1]
    if valid is not None:  # masked items never reach the arithmetic
        s, y = _masked(xp, valid, s), _masked(xp, valid, y)
    # [i, j]: s_j - s_i, which is -(s_i - s_j) exactly; a sum, whose backward negates a list
    # where a difference's would negate the grid
    nsd = xp.expand_dims(-s, axis=-1) + xp.expand_dims(s, axis=-2)
    nan = None  # per list: 0, or NaN where a valid label (not all_pairs) or weight is not finite
    if all_pairs:
        yd = xp.expand_dims(y, axis=-1) - xp.expand_dims(y, axis=-2)
        per_pair = pair_loss(xp, nsd, yd)
        if valid is None:
            rows = xp.sum(per_pair, axis=-1)
        else:  # the i side is masked below
            rows = xp.sum(xp.where(xp.expand_dims(valid, axis=-2), per_pair, 0.0), axis=-1)
    else:
        # y_i > y_j among valid items, one comparison: a masked item is -inf as i, +inf as j.
        # A NaN label compares false; the list's NaN comes from ``nan``
        yi, yj = y, y
        if valid is not None:
            yi, yj = xp.where(valid, y, -math.inf), xp.where(valid, y, math.inf)
        above = xp.expand_dims(yi, axis=-1) > xp.expand_dims(yj, axis=-2)
        rows = xp.sum(xp.where(above, pair_loss(xp, nsd, None), 0.0), axis=-1)
        nan = xp.sum(y * 0.0, axis=-1, keepdims=True)  # NaN iff some valid label is NaN or +-inf
    count = None
    if reduction == "mean":  # the number of valid pairs (NaN with a label that is not finite)
        if not all_pairs:
            count = xp.sum(xp.sum(xp.astype(above, s.dtype), axis=-1), axis=-1) + nan[..., 0]
        elif valid is None:
            count = xp.full_like(rows[..., 0], float(n * n))
        else:
            n_valid = xp.sum(xp.astype(valid, s.dtype), axis=-1)
            count = n_valid * n_valid
    if w is not None:
        per = xp.sum(xp.where(w == 0, 0.0, w * rows), axis=-1)  # a zero weight: its pairs add 0
        w_nan = xp.sum(w * 0.0, axis=-1, keepdims=True)  # NaN iff some valid weight is NaN or +-inf
        nan = w_nan if nan is None else nan + w_nan
    else:
        per = xp.sum(rows if valid is None or not all_pairs else xp.where(valid, rows, 0.0), axis=-1)
    if nan is not None:  # NaN in those lists, with a NaN gradient at each valid item
        per = per + xp.where(xp.isnan(nan), nan * xp.sum(s, axis=-1, keepdims=True), 0.0)[..., 0]
    return reduce(xp, per, reduction, norm=count, out_dtype=out_dtype, group=group)


_PAIRWISE_DOC = """
{pairs}

    Args:
        scores: item scores ``(..., list_size)``, floating.
        labels: relevance labels, the shape of ``scores``.
        where: optional boolean mask of valid items, broadcastable to ``scores``.
        weight: optional per-item weights (rax's ``weights=``), broadcastable to ``scores``.
        reduction: ``"mean"`` (over the valid pairs of the batch: rax's ``jnp.mean``) |
            ``"sum"`` | ``"none"`` (per list: the sum of its pair losses).
    {{group}}

    Returns:
        A scalar, or the per-list losses ``scores.shape[:-1]`` for ``"none"``.

    Raises:
        ValueError: shapes that differ or do not broadcast, bad ``reduction``.
        TypeError: non-floating ``scores``, complex labels or weights, a non-boolean
            ``where``, mixed array frameworks.

"""


def _pair_doc(pairs, rax_name, empty_is_zero=True):
    """The shared parts of the pairwise docstrings (placeholders ``{pairwise}`` and
    ``{rax_twin}``, rax's function of that name)."""
    twin = (f"    Peer twins: ``rax.{rax_name}(scores, labels, where=, weights=, reduce_fn=)``\n"
            "    (``reduce_fn=None`` gives the pair losses: sum them over the last axis for ``\"none\"``"
            + (";\n    a batch without a valid pair: rax 0, ours NaN).\n" if empty_is_zero else ").\n"))
    text = ("Pairs ``(i, j)`` of valid items of one list; each pair's loss is weighted by the weight of "
            "its first item (rax's pair weighting). " + pairs)
    # wrapped at the docstrings' width, never inside a ``literal``
    text = re.sub(r"``[^`]*``", lambda m: m.group(0).replace(" ", "\0"), text)
    prose = textwrap.fill(text, width=92, initial_indent="    ", subsequent_indent="    ",
                          break_on_hyphens=False).replace("\0", " ")
    shared = fill_doc("{pairwise}", _PAIRWISE_DOC.format(pairs=prose).lstrip("\n"))
    peer = fill_doc("{rax_twin}", twin)
    return lambda f: group_doc(shared(peer(f)))


# The pair losses of s_i - s_j given its negation ``nsd`` (1 - x is 1 + (-x) exactly, and
# (x - y)**2 is (-x + y)**2) and the label difference ``yd = y_i - y_j``.
def _hinge(xp, nsd, yd):
    return relu0(xp, 1.0 + nsd)


def _logistic(xp, nsd, yd):
    return xp.softplus(nsd)


def _squared(xp, nsd, yd):
    d = nsd + yd
    return d * d


@_pair_doc("Only the pairs with ``y_i > y_j`` count (a tie is no pair). The subgradient at "
           "the kink ``s_i - s_j = 1`` is 0 (``jax.nn.relu``'s, as rax).", "pairwise_hinge_loss")
@check.entry
def pairwise_hinge_loss(scores: ArrayT, labels: ArrayT, *, where: ArrayT | None = None,
                        weight: ArrayT | None = None, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Pairwise hinge ranking loss (RankSVM).

    .. math:: \ell(s, y) = \sum_{i, j} [y_i > y_j]\, w_i \max(0, 1 - (s_i - s_j))

    {pairwise}
    References: Herbrich et al. 1999, "Support Vector Learning for Ordinal Regression";
    Joachims 2002, "Optimizing Search Engines using Clickthrough Data".

    {rax_twin}

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[0.5, 1.0, 0.0]]); y = np.array([[1.0, 0.0, 0.0]])
        >>> print(float(losses.pairwise_hinge_loss(s, y, reduction="sum")))
        2.0
    """
    return _pairwise(scores, labels, where, weight, reduction, _hinge, group)


@_pair_doc("Only the pairs with ``y_i > y_j`` count (a tie is no pair). ``softplus`` as "
           "``logaddexp``: finite for score differences of any magnitude.", "pairwise_logistic_loss")
@check.entry
def pairwise_logistic_loss(scores: ArrayT, labels: ArrayT, *, where: ArrayT | None = None,
                           weight: ArrayT | None = None, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Pairwise logistic ranking loss (RankNet).

    .. math:: \ell(s, y) = \sum_{i, j} [y_i > y_j]\, w_i \log\big(1 + e^{-(s_i - s_j)}\big)

    {pairwise}
    References: Burges et al. 2005, "Learning to Rank using Gradient Descent" (RankNet).

    {rax_twin}

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[0.0, 0.0]]); y = np.array([[1.0, 0.0]])
        >>> print(f"{float(losses.pairwise_logistic_loss(s, y)):.6f}")
        0.693147
    """
    return _pairwise(scores, labels, where, weight, reduction, _logistic, group)


@_pair_doc("Every ordered pair of valid items counts, ``i = j`` included (rax's pair set: a "
           "list of ``n`` valid items has ``n**2`` pairs in the mean).", "pairwise_mse_loss",
           empty_is_zero=False)
@check.entry
def pairwise_mse_loss(scores: ArrayT, labels: ArrayT, *, where: ArrayT | None = None,
                      weight: ArrayT | None = None, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Pairwise squared-error ranking loss: score differences regress label differences.

    .. math:: \ell(s, y) = \sum_{i, j} w_i \big((y_i - y_j) - (s_i - s_j)\big)^2

    {pairwise}
    References: Qin et al. 2021, "Are Neural Rankers still Outperformed by Gradient Boosted
    Decision Trees?" (pairwise regression objectives); rax's definition.

    {rax_twin}

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[1.0, 0.0]]); y = np.array([[2.0, 0.0]])
        >>> print(float(losses.pairwise_mse_loss(s, y)))
        0.5
    """
    return _pairwise(scores, labels, where, weight, reduction, _squared, group, all_pairs=True)


# -------------------------------------------------------------------- smooth-rank metrics ----
@check.entry
@group_doc
def approx_ndcg_loss(scores: ArrayT, labels: ArrayT, *, temperature: float = 1.0, where: ArrayT | None = None,
                     weight: ArrayT | None = None, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Approximate NDCG loss: minus the NDCG of the smooth (sigmoid) ranks.

    .. math::
        \hat r_i = 1 + \sum_{j \ne i} \sigma\!\Big(\frac{s_j - s_i}{T}\Big), \qquad
        \ell = -\frac{\sum_i g_i / \log_2(1 + \hat r_i)}{\mathrm{IDCG}}, \qquad
        g_i = w_i\,(2^{y_i} - 1)

    over the valid items, with IDCG the DCG of the valid gains sorted in decreasing order at
    the exact ranks (an IDCG of 0 is taken as 1: a list without a relevant item gives 0).
    rax's defaults: gains ``2**y - 1``, discount ``1 / log2(1 + rank)``, no cutoff. The
    smooth ranks hold ``list_size**2`` sigmoids per list.

    Args:
        scores: item scores ``(..., list_size)``, floating.
        labels: relevance labels, the shape of ``scores``.
        temperature: the sigmoid temperature T > 0 (rax's ``approx_t12n``, default 1).
        where: optional boolean mask of valid items, broadcastable to ``scores``.
        weight: optional per-item weights (rax's ``weights=``) multiplying the gains,
            broadcastable to ``scores``.
        reduction: ``"mean"`` (over the lists with a valid item) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-list losses (in [-1, 0] for labels >= 0) for ``"none"``.

    Raises:
        ValueError: shape mismatches, a ``temperature`` that is not > 0 and finite, bad
            ``reduction``.
        TypeError: non-floating ``scores``, a non-number ``temperature``, a non-boolean
            ``where``.

    References: Qin et al. 2010, "A General Approximation Framework for Direct Optimization
    of Information Retrieval Measures"; Järvelin & Kekäläinen 2002 (NDCG).

    Peer twins: ``rax.approx_t12n(rax.ndcg_metric, temperature=)(scores, labels, where=,
    weights=, reduce_fn=)`` (the mean of no valid list: rax 0, ours NaN).

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[-1.0, 1.0, 0.0]]); y = np.array([[0.0, 0.0, 1.0]])
        >>> print(f"{float(losses.approx_ndcg_loss(s, y)):.6f}")
        -0.630930
    """
    _temperature(temperature)
    xp, out_dtype, s, y, w, valid, group = _setup(scores, labels, where, weight, reduction, group)
    n = s.shape[-1]
    pos = arange_like(xp, s, n)
    disc = _LN2 / xp.log1p(xp.astype(pos, s.dtype) + 1.0)
    rank = _approx_ranks(xp, s, valid, float(temperature))
    if valid is None:
        g = _gains(xp, y, w)
        dcg = xp.sum(g * _LN2 / xp.log1p(rank), axis=-1)
        idcg = xp.sum(-xp.sort(-g, axis=-1) * disc, axis=-1)  # the gains in decreasing order
    else:
        g = _gains(xp, _masked(xp, valid, y), w)  # w is 0 at masked items
        dcg = xp.sum(_masked(xp, valid, g * _LN2 / xp.log1p(rank)), axis=-1)
        # ideal DCG: the valid gains in decreasing order at ranks 1..n (masked ones sort last)
        ideal_g = -xp.sort(_masked(xp, valid, -g, math.inf), axis=-1)
        n_valid = xp.sum(xp.astype(valid, xp.int64), axis=-1, keepdims=True)
        first = xp.astype(pos, xp.int64) < n_valid
        idcg = xp.sum(_masked(xp, first, ideal_g) * disc, axis=-1)
    idcg = xp.where(idcg == 0, 1.0, idcg)
    return _listwise(xp, -dcg / idcg, valid, reduction, out_dtype, group)


@check.entry
@group_doc
def approx_mrr_loss(scores: ArrayT, labels: ArrayT, *, temperature: float = 1.0, where: ArrayT | None = None,
                    reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Approximate MRR loss: minus the reciprocal smooth rank of the best-placed relevant item.

    .. math::
        \hat r_i = 1 + \sum_{j \ne i} \sigma\!\Big(\frac{s_j - s_i}{T}\Big), \qquad
        \ell = -\max_{i:\ y_i \ge 1} \frac{1}{\hat r_i}

    over the valid items (rax's relevance: ``label >= 1``; a list without a relevant item
    gives 0). The gradient flows through the first maximising item. A NaN in a valid label
    or score gives NaN.

    Args:
        scores: item scores ``(..., list_size)``, floating.
        labels: relevance labels, the shape of ``scores``.
        temperature: the sigmoid temperature T > 0 (rax's ``approx_t12n``, default 1).
        where: optional boolean mask of valid items, broadcastable to ``scores``.
        reduction: ``"mean"`` (over the lists with a valid item) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-list losses (in [-1, 0]) for ``"none"``.

    Raises:
        ValueError: shape mismatches, a ``temperature`` that is not > 0 and finite, bad
            ``reduction``.
        TypeError: non-floating ``scores``, a non-number ``temperature``, a non-boolean
            ``where``.

    References: Qin et al. 2010, "A General Approximation Framework for Direct Optimization
    of Information Retrieval Measures"; Voorhees 1999 (MRR).

    Peer twins: ``rax.approx_t12n(rax.mrr_metric, temperature=)(scores, labels, where=,
    reduce_fn=)`` (the mean of no valid list: rax 0, ours NaN).

    Example:
        >>> import numpy as np, losses
        >>> s = np.array([[0.0, 1.0, 3.0, 2.0]]); y = np.array([[0.0, 0.0, 1.0, 2.0]])
        >>> print(f"{float(losses.approx_mrr_loss(s, y)):.6f}")
        -0.696587
    """
    _temperature(temperature)
    xp, out_dtype, s, y, _, valid, group = _setup(scores, labels, where, None, reduction, group)
    y0 = y if valid is None else _masked(xp, valid, y)
    relevant = xp.where(y0 >= 1, 1.0, xp.where(y0 < 1, 0.0, y0))  # NaN stays NaN
    rank = _approx_ranks(xp, s, valid, float(temperature))
    v = relevant / rank if valid is None else _masked(xp, valid, relevant / rank)
    if s.shape[-1] == 0:
        best = xp.sum(v, axis=-1)
    else:  # the first maximum carries the gradient; 0 * sum(v) lets a NaN through
        best = xp.take_class(v, xp.argmax(v, axis=-1), axis=-1) + 0.0 * xp.sum(v, axis=-1)
    return _listwise(xp, -best, valid, reduction, out_dtype, group)
