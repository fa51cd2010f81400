"""Helpers that build loss arguments: class weights, positive weights, smoothed labels."""
from __future__ import annotations

import math
from typing import Any, Literal, get_args

from . import _validate as check
from ._common import cast, class_axis, is_number
from ._typing import ArrayT
from .backends import namespace

__all__ = ["class_weights", "pos_weight_from_counts", "smooth_labels"]

#: ``method=`` of :func:`class_weights`
ClassWeightMethod = Literal["inverse", "inverse_sqrt", "effective_number"]


def _dtype_arg(xp, dtype):
    """``dtype=`` must be None or a real floating dtype of the namespace."""
    if dtype is None:
        return
    try:
        ok = not isinstance(dtype, bool) and bool(xp.isdtype(dtype, "real floating"))
    except Exception:  # noqa: BLE001 - each framework refuses foreign objects its own way
        ok = False
    if not ok:
        raise TypeError(f"dtype must be a real floating dtype of the arrays' framework (e.g. float32), got {dtype!r}")


def _counts_arg(xp, x, name):
    """A count argument: an array of an integer or real floating dtype (bool and complex are
    refused)."""
    if isinstance(x, bool) or not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array of counts (integer or real floating), got {type(x).__name__}")
    if not (check.is_floating(xp, x) or check.is_integer(xp, x)):
        raise TypeError(f"{name} must have an integer or real floating dtype, got {x.dtype}")


def _float_dtype(xp, x, dtype):
    """``dtype``, else ``x``'s floating dtype, else the namespace's default floating dtype."""
    if dtype is not None:
        return dtype
    if x is not None and check.is_floating(xp, x):
        return x.dtype
    try:
        return xp.__array_namespace_info__().default_dtypes()["real floating"]
    except (AttributeError, KeyError, TypeError):  # pragma: no cover - very old namespaces
        return xp.float64


@check.entry
def class_weights(counts: ArrayT, *, method: ClassWeightMethod = "inverse", beta: float = 0.999,
                  rescale: bool = True, dtype: Any = None) -> ArrayT:
    r"""Per-class weights from class frequencies, for ``weight=`` of the classification losses.

    .. math::
        w_c \propto \frac{1}{n_c}\ (\texttt{"inverse"}),\qquad
        \frac{1}{\sqrt{n_c}}\ (\texttt{"inverse\_sqrt"}),\qquad
        \frac{1 - \beta}{1 - \beta^{n_c}}\ (\texttt{"effective\_number"})

    ``"effective_number"`` is the class-balanced weighting of Cui et al. 2019 (``1 - β^n`` over
    ``1 - β`` is the effective number of samples; β -> 0 gives equal weights, β -> 1 the
    inverse frequency). With ``rescale=True`` the weights are rescaled to sum to the number
    of classes ``C`` (Cui et al.), i.e. to average 1, so the loss keeps its scale. Classes
    with a count of 0 get weight 0 (they have no samples to weigh) instead of an infinity;
    the other classes are rescaled among themselves. A NaN count makes its weight NaN, and with
    ``rescale=True`` every weight of its row (the rescaling reads it).

    Args:
        counts: number of samples per class ``n_c >= 0``, shape ``(..., C)`` (integer or
            floating); the rescaling runs over the last axis.
        method: ``"inverse"`` | ``"inverse_sqrt"`` | ``"effective_number"``.
        beta: β in [0, 1) for ``"effective_number"`` (default 0.999; Cui et al. use
            0.9 ... 0.9999).
        rescale: rescale to sum ``C`` (average 1) along the last axis.
        dtype: result dtype, a real floating dtype of ``counts``' framework. Default:
            ``counts``' dtype if floating, else the framework's default floating dtype
            (float32 in torch and JAX without x64, float64 in NumPy).

    Returns:
        The weights, shape of ``counts``, floating, on ``counts``' device.

    Raises:
        ValueError: bad ``method``, ``beta`` outside [0, 1), ``counts`` of dimension 0;
            eagerly, negative counts.
        TypeError: ``counts`` neither integer nor floating (bool, complex, not an array), a
            non-bool ``rescale``, ``dtype`` not a real floating dtype.

    References: Cui, Jia, Lin, Song & Belongie 2019, "Class-balanced loss based on effective
    number of samples" (CVPR).

    Peer twins: ``sklearn.utils.class_weight.compute_class_weight("balanced", ...)`` =
    ``method="inverse", rescale=True`` (equal up to a constant factor, see docs/helpers.md).

    Example:
        >>> import numpy as np, losses
        >>> np.round(losses.class_weights(np.array([10, 30, 60])), 4)   # 1/n_c, rescaled to sum C = 3
        array([2.    , 0.6667, 0.3333])
        >>> losses.class_weights(np.array([10, 30, 0]))    # an empty class gets weight 0
        array([2.25, 0.75, 0.  ])
    """
    if is_number(counts) or isinstance(counts, bool):
        raise TypeError(f"counts must be an array of counts (integer or real floating), got {type(counts).__name__}")
    xp = namespace(counts=counts)
    check.choice(method, "method", get_args(ClassWeightMethod))
    check.real_number(beta, "beta", low=0, high=1, high_open=True)
    check.flag(rescale, "rescale")
    _dtype_arg(xp, dtype)
    _counts_arg(xp, counts, "counts")
    check.ndim_at_least(counts, 1, "counts")
    check.nonnegative(xp, counts, "counts")
    n = cast(xp, counts, _float_dtype(xp, counts, dtype))
    # masks written so that a NaN count takes the computed branch (DESIGN rule 5)
    empty = n <= 0
    safe = xp.where(empty, 1.0, n)
    if method == "inverse":
        w = 1 / safe
    elif method == "inverse_sqrt":
        w = 1 / xp.sqrt(safe)
    elif beta == 0:
        w = xp.where(xp.isnan(safe), safe, 1.0)
    else:
        # (1 - beta) / (1 - beta**n), with beta**n = exp(n log beta)
        w = -(1 - beta) / xp.expm1(safe * math.log(beta))
    w = xp.where(empty, 0.0, w)
    if rescale:
        # one factor per row: C / sum(w), or C where every weight is 0 (0 * C keeps them 0)
        total = xp.sum(w, axis=-1, keepdims=True)
        w = w * (counts.shape[-1] / xp.where(total <= 0, 1.0, total))
    return xp.as_array(w)


@check.entry
def pos_weight_from_counts(n_pos: ArrayT | float, n_neg: ArrayT | float, *, dtype: Any = None) -> ArrayT:
    r"""``pos_weight`` for :func:`~losses.binary_cross_entropy_with_logits`: ``n_neg / n_pos``.

    .. math:: w^{+}_c = \frac{n^{-}_c}{n^{+}_c}

    per label (the weighting torch recommends: it makes positives and negatives count
    equally). A label with no positive example gets 1 (its positive term never occurs, so any
    value is harmless; 1 avoids an infinity). A NaN count gives NaN.

    Args:
        n_pos: number of positive examples per label, shape ``(C,)`` (or any shape).
        n_neg: number of negative examples per label, broadcastable with ``n_pos``; a Python
            number is accepted for either (not both).
        dtype: result dtype, a real floating dtype of the arrays' framework (default as
            :func:`class_weights`: the floating dtype of the array arguments, else the
            framework's default floating dtype).

    Returns:
        ``n_neg / n_pos``, the broadcast shape of both, floating.

    Raises:
        ValueError: shapes that do not broadcast together; negative (or NaN) Python numbers;
            eagerly, negative counts.
        TypeError: no array argument, counts neither integer nor floating (bool, complex),
            ``dtype`` not a real floating dtype.

    References: the ``pos_weight`` recipe of the PyTorch ``BCEWithLogitsLoss`` documentation.

    Peer twins: that recipe ("if a dataset contains 100 positive and 300 negative examples
    ... pos_weight should be 3").

    Example:
        >>> import numpy as np, losses
        >>> losses.pos_weight_from_counts(np.array([100, 50, 0]), np.array([300, 50, 20]))
        array([3., 1., 1.])
    """
    xp = namespace(n_pos=n_pos, n_neg=n_neg)
    _dtype_arg(xp, dtype)
    arrays = []
    for v, name in ((n_pos, "n_pos"), (n_neg, "n_neg")):
        if is_number(v):
            check.real_number(v, name, low=0)
        else:
            _counts_arg(xp, v, name)
            arrays.append(v)
    if len(arrays) == 2:
        _broadcast_together(n_pos, n_neg, "n_pos", "n_neg")
    for v, name in ((n_pos, "n_pos"), (n_neg, "n_neg")):
        if not is_number(v):
            check.nonnegative(xp, v, name)
    floats = [a for a in arrays if check.is_floating(xp, a)]
    dt = dtype if dtype is not None else (
        xp.result_type(*floats) if len(floats) == 2 else _float_dtype(xp, floats[0] if floats else None, None))
    p = n_pos if is_number(n_pos) else cast(xp, n_pos, dt)
    q = n_neg if is_number(n_neg) else cast(xp, n_neg, dt)
    if is_number(p):
        p = xp.full_like(q, float(p))
    if is_number(q):
        q = xp.full_like(p, float(q))
    # a NaN n_pos takes the ratio's branch (DESIGN rule 5)
    none = p <= 0
    return xp.as_array(xp.where(none, 1.0, q / xp.where(none, 1.0, p)))


def _broadcast_together(a, b, name_a, name_b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    ok = all(x == y or x == 1 or y == 1 for x, y in zip(reversed(sa), reversed(sb)))
    if not ok:
        raise ValueError(f"{name_a} of shape {sa} and {name_b} of shape {sb} do not broadcast together")


@check.entry
def smooth_labels(target: ArrayT, num_classes: int | None = None, *, label_smoothing: float = 0.1,
                  axis: int = -1, dtype: Any = None) -> ArrayT:
    r"""Label smoothing with torch's ε/K convention.

    .. math:: y'_c = (1 - \varepsilon)\,y_c + \frac{\varepsilon}{K}

    ``target`` holds either class indices (integer; ``num_classes`` = K is then required and
    a one-hot axis is inserted at ``axis``) or class probabilities (floating; K is
    ``target.shape[axis]``). This is the target that ``cross_entropy(...,
    label_smoothing=ε)`` uses internally, so ``cross_entropy(z, smooth_labels(t, C,
    label_smoothing=ε), axis=...)`` equals ``cross_entropy(z, t, label_smoothing=ε)``.

    The ε/(K-1) variant (target class ``1 - ε``, every other class ``ε/(K-1)``, as in
    Szegedy et al.'s description and some Keras/TF code) is the same formula with
    ``label_smoothing = ε K / (K - 1)``: ``smooth_labels(t, K, label_smoothing=eps * K / (K - 1))``.

    Args:
        target: class indices (any integer dtype) or probabilities in [0, 1].
        num_classes: K, required for integer targets; for probabilities None or equal to
            ``target.shape[axis]``.
        label_smoothing: ε in [0, 1] (default 0.1).
        axis: the class axis of the result (default -1, the one-hot convention; use 1 for
            torch's ``(N, C, ...)`` layout).
        dtype: result dtype, a real floating dtype of ``target``'s framework (default: for
            integer targets the framework's default floating dtype; probabilities keep theirs).

    Returns:
        The smoothed distribution, floating, on ``target``'s device.

    Raises:
        ValueError: ``num_classes`` missing/invalid or inconsistent, ``label_smoothing``
            outside [0, 1], bad ``axis``; eagerly, indices outside ``[0, K)`` or
            probabilities outside [0, 1] (NaN included; under ``jit``/on Dask NaN stays NaN).
        TypeError: ``target`` neither integer nor floating, a bool ``axis``, ``dtype`` not a
            real floating dtype.

    References: Szegedy et al. 2016, "Rethinking the Inception architecture" (label-smoothing
    regularisation); Müller, Kornblith & Hinton 2019, "When does label smoothing help?".

    Peer twins: ``optax.losses.smooth_labels(one_hot, alpha=ε)`` (same ε/K convention, probability
    input, last axis); torch's ``label_smoothing=`` target.

    Example:
        >>> import numpy as np, losses
        >>> t = np.array([0, 2])
        >>> losses.smooth_labels(t, 3, label_smoothing=0.3)
        array([[0.8, 0.1, 0.1],
               [0.1, 0.1, 0.8]])
        >>> z = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
        >>> a = losses.cross_entropy(z, losses.smooth_labels(t, 3, label_smoothing=0.1), axis=1)
        >>> bool(np.isclose(a, losses.cross_entropy(z, t, label_smoothing=0.1)))
        True
    """
    if is_number(target) or isinstance(target, bool):
        raise TypeError(f"target must be an array of class indices or probabilities, got {type(target).__name__}")
    xp = namespace(target=target)
    check.real_number(label_smoothing, "label_smoothing", low=0, high=1)
    if isinstance(axis, bool):
        raise TypeError(f"axis must be an int, got {axis!r}")
    _dtype_arg(xp, dtype)
    eps = float(label_smoothing)
    if check.is_integer(xp, target):
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int when target holds integer class indices, "
                             f"got {num_classes!r}")
        ndim = target.ndim + 1
        if not isinstance(axis, int) or not -ndim <= axis < ndim:
            raise ValueError(f"axis must be an int in [{-ndim}, {ndim - 1}] for the result of {ndim} dimension(s), got {axis!r}")
        check.class_indices(xp, target, num_classes, "target")
        dt = _float_dtype(xp, target, dtype)
        y = xp.one_hot(target, num_classes, axis=axis % ndim, dtype=dt)
        k = num_classes
    elif check.is_floating(xp, target):
        check.ndim_at_least(target, 1, "target")
        ax = class_axis(target, axis, "target")
        k = target.shape[ax]
        if num_classes is not None and num_classes != k:
            raise ValueError(f"num_classes={num_classes!r} does not match target.shape[{axis}] = {k}")
        check.values_in(xp, target, "target", 0, 1, what="class probabilities")
        y = target if dtype is None else cast(xp, target, dtype)
    else:
        raise TypeError(f"target must hold integer class indices or floating probabilities, got dtype {target.dtype}")
    if eps == 0:
        return xp.as_array(y)
    return xp.as_array((1 - eps) * y + eps / k)
