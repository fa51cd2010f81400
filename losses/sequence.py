"""Sequence losses: connectionist temporal classification (CTC)."""
from __future__ import annotations

import functools
import math
from numbers import Integral

from . import _validate as check
from ._common import arange_like, cast, device_of, float_args, numel
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace

__all__ = ["ctc_loss"]

#: log-probability of an impossible state. A finite stand-in for -inf keeps every
#: ``logaddexp`` gradient finite (``logaddexp(-inf, -inf)`` has a NaN gradient in torch and
#: JAX); real path log-probabilities are many orders of magnitude above it.
_NEG = -1e30
#: a sequence whose best final state is below this has no feasible alignment
_FEASIBLE = -1e29
#: frameworks whose arrays live on the host: reading a value there is no device round trip


@check.entry
@group_doc
def ctc_loss(log_probs: ArrayT, targets: ArrayT, input_lengths: ArrayT, target_lengths: ArrayT, *,
             blank: int = 0, reduction: Reduction = "mean", zero_infinity: bool = False,
             batch_first: bool = False, group: Group = None) -> ArrayT:
    r"""Connectionist temporal classification loss (Graves et al., 2006).

    For each sequence :math:`n` with emissions :math:`\log p_t(c)` over :math:`T_n` frames
    and a label sequence :math:`y` of length :math:`S_n`,

    .. math::
        \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_{t=1}^{T_n} p_t(\pi_t)

    where :math:`\mathcal{B}` removes repeated labels and then blanks. It is computed by the
    forward (alpha) recursion in log space over the extended label sequence
    :math:`y' = (\varnothing, y_1, \varnothing, \dots, y_{S_n}, \varnothing)`:

    .. math::
        \alpha_t(s) = \log p_t(y'_s) + \operatorname{lse}\big(\alpha_{t-1}(s),
        \alpha_{t-1}(s-1), [y'_s \ne \varnothing \wedge y'_s \ne y'_{s-2}]\,\alpha_{t-1}(s-2)\big),
        \qquad \ell_n = -\operatorname{lse}\big(\alpha_{T_n}(2S_n), \alpha_{T_n}(2S_n - 1)\big).

    The time recursion runs through the backend's ``scan`` primitive (``jax.lax.scan`` on
    JAX, a Python loop elsewhere), so the function is traceable under ``jax.jit``,
    ``jax.vmap`` and ``torch.compile``. On JAX its gradient is written by hand
    (``jax.custom_vjp``: a reverse scan over the frames, then a matrix product with the one-hot
    extended labels), equal to the generic body's, NaNs included; being reverse-mode only, it
    has no ``jax.jvp``/``jax.jacfwd`` rule.

    On CPU PyTorch tensors (eager, outside ``torch.func`` transforms) the recursion is ATen's
    own CTC kernel with this function's semantics restored on top (same values and
    gradients as the generic scan). Concatenated 1-D targets are otherwise unpacked to
    ``(N, S)`` with ``S = max(target_lengths)`` read on host backends (NumPy,
    array-api-strict); on device backends and under tracing (jit, compile, vmap, Dask) the
    static bound ``S = len(targets)`` is used instead (same values, more work, no
    device-to-host read) — pass padded targets for the fastest compiled code.

    Args:
        log_probs: log-probabilities (e.g. ``log_softmax`` outputs), shape ``(T, N, C)``
            (``(N, T, C)`` with ``batch_first=True``) or ``(T, C)`` for one unbatched
            sequence. Real floating dtype. They are not renormalised.
        targets: integer labels, either padded ``(N, S)`` (values past ``target_lengths``
            are ignored) or the concatenation of all label sequences, shape
            ``(sum(target_lengths),)``; ``(S,)`` for an unbatched sequence. Labels must be in
            ``[0, C)`` and differ from ``blank``.
        input_lengths: integer array ``(N,)`` (``()`` or ``(1,)`` unbatched), each in
            ``[0, T]``; a list/tuple of Python ints is accepted too (as torch does) and
            becomes an int64 array on ``log_probs``' device.
        target_lengths: integer array ``(N,)`` (``()`` or ``(1,)`` unbatched), each in
            ``[0, S]``; or a list/tuple of Python ints.
        blank: index of the blank class, in ``[0, C)``.
        reduction: ``"mean"`` (batch mean of ``loss_n / max(target_length_n, 1)``, torch's
            rule), ``"sum"`` or ``"none"`` (shape ``(N,)``, ``()`` unbatched).
        zero_infinity: replace the infinite loss of infeasible sequences (no alignment fits
            in ``T_n`` frames) by 0, with a zero gradient.
        batch_first: ``log_probs`` is ``(N, T, C)`` (optax's layout) instead of torch's
            ``(T, N, C)``.
    {group}
            The batch axis ``N`` is the sharded one; ``"mean"`` is the mean over every
            sequence of the group.

    Returns:
        The loss with the floating dtype of ``log_probs`` (float16/bfloat16 computed in
        float32) on its device. Infeasible sequences give ``inf`` (0 with
        ``zero_infinity``); their gradient is 0 and never NaN, so they do not spoil the
        gradients of the other sequences of the batch. Non-finite log-probabilities follow
        torch: a NaN or a ``+inf`` (a probability above 1) that the recursion reads makes the
        sequence's loss NaN; ``-inf`` (probability 0) is an impossible emission. An empty
        batch (``N = 0``) gives NaN for ``"mean"``, 0 for ``"sum"`` and an empty ``(0,)`` for
        ``"none"`` (torch raises "log_probs tensor must not be empty").

    Raises:
        ValueError: wrong ranks or shapes, ``blank`` outside ``[0, C)``, bad ``reduction``;
            eagerly (concrete arrays only): lengths out of range, labels out of range or
            equal to ``blank``, concatenated targets whose length is not
            ``sum(target_lengths)``.
        TypeError: non-floating ``log_probs``, non-integer targets or lengths (a list of
            lengths holding anything but ints), non-arrays, arrays of two frameworks,
            non-bool ``zero_infinity``/``batch_first``.

    References: Graves, Fernández, Gomez & Schmidhuber 2006, "Connectionist temporal
    classification: labelling unsegmented sequence data with recurrent neural networks"
    (ICML); PyTorch ``CTCLoss``.

    Peer twins: ``torch.nn.functional.ctc_loss`` (same arguments; values equal; its
    gradient wrt ``log_probs`` assumes they come from ``log_softmax`` and adds
    ``exp(log_probs)``, so gradients agree after a ``log_softmax``; infeasible sequences get
    NaN gradients there), ``optax.ctc_loss(logits, logit_paddings, labels, label_paddings,
    blank_id)`` (per sequence, batch-first, applies ``log_softmax`` itself; equal to
    ``reduction="none", batch_first=True`` on feasible sequences; it returns a large finite
    value instead of ``inf`` for infeasible ones).

    Example:
        >>> # 3 frames over {blank, a}, each frame p(a) = 0.5: the label "a" has the 6 alignments
        >>> # aaa, aa-, a--, -aa, --a, -a- of probability 1/8 each, so the loss is -log(6/8)
        >>> log_probs = np.log(np.full((3, 1, 2), 0.5))
        >>> loss = losses.ctc_loss(log_probs, np.array([[1]]), np.array([3]), np.array([1]), reduction="sum")
        >>> round(float(loss), 4), round(float(-np.log(6 / 8)), 4)
        (0.2877, 0.2877)
    """
    xp, input_lengths, target_lengths = _check_arguments(
        log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity, batch_first)
    group = xp.check_group(group)
    unbatched = log_probs.ndim == 2
    log_probs, targets, input_lengths, target_lengths = _time_major(
        xp, log_probs, targets, input_lengths, target_lengths, batch_first)
    # values are read only when no argument is traced (a concrete array used inside a trace
    # becomes a tracer as soon as it is computed with)
    eager = check.concrete(log_probs, targets, input_lengths, target_lengths)
    _check_values(xp, log_probs, targets, input_lengths, target_lengths, blank,
                  eager or check.checkable(log_probs, targets, input_lengths, target_lengths))
    if log_probs.shape[1] == 0:  # an empty batch: no sequence ("mean" NaN, "sum" 0, "none" empty)
        if targets.ndim == 1 and targets.shape[0] != 0:
            raise ValueError(
                f"concatenated targets must have length sum(target_lengths) = 0 for an empty batch, "
                f"got {targets.shape[0]}"
            )
        _, out_dtype, (lp,) = float_args(xp, log_probs, names=("log_probs",))
        return _reduce_ctc(xp, xp.sum(lp, axis=(0, 2)), target_lengths, reduction, unbatched, out_dtype, group)
    _, out_dtype, (lp,) = float_args(xp, log_probs, names=("log_probs",))
    # the framework's own CTC where it gives exactly this function's results (torch on CPU)
    nll = xp.fast("ctc_loss", lp, targets, input_lengths, target_lengths, blank=blank,
                  zero_infinity=zero_infinity, checked=check.flush_pending)
    if nll is NotImplemented:
        padded, tl = _padded_targets(xp, targets, target_lengths, eager)
        ext, skip = _extended_labels(xp, padded, tl, blank)
        # the recursion with its hand-written gradient on JAX (jax.custom_vjp); the other
        # frameworks and the generic namespaces differentiate the plain recursion itself
        alpha = xp.hand_vjp(_alpha_fwd, _alpha_bwd, _plain_alpha, (lp.shape[2],), lp, ext, skip, input_lengths)
        nll = _sequence_nll(xp, alpha, tl, zero_infinity, lp, input_lengths)
    return _reduce_ctc(xp, nll, target_lengths, reduction, unbatched, out_dtype, group)


def _plain_alpha(ns, lp, ext, skip, input_lengths):
    """The forward variables by the generic recursion, for autodiff to differentiate."""
    return _forward(ns, _emissions(ns, lp, ext), skip, input_lengths)


# ------------------------------------------------------------------ argument checks ----
def _check_arguments(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                     zero_infinity, batch_first):
    """Every static check (types, dtypes, ranks, shapes, ``blank``); returns the namespace and
    the lengths as arrays (lists/tuples of ints, which torch accepts, become int64 arrays on
    ``log_probs``' device)."""
    if not hasattr(log_probs, "dtype") or not hasattr(log_probs, "shape"):
        raise TypeError(f"log_probs must be a floating array of shape (T, N, C), got {type(log_probs).__name__}")
    if not hasattr(targets, "dtype") or not hasattr(targets, "shape"):
        raise TypeError(
            f"targets must be an integer array of shape (N, S) or (sum(target_lengths),), got "
            f"{type(targets).__name__}"
        )
    for a, name in ((input_lengths, "input_lengths"), (target_lengths, "target_lengths")):
        if isinstance(a, (list, tuple)):
            if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in a):
                raise TypeError(f"{name} given as a list/tuple must hold Python ints, got {a!r}")
        elif not hasattr(a, "dtype") or not hasattr(a, "shape"):
            raise TypeError(
                f"{name} must be an integer array of shape (N,) or a list/tuple of ints, got {type(a).__name__}"
            )
    xp = namespace(log_probs=log_probs, targets=targets,
                   **{k: v for k, v in (("input_lengths", input_lengths), ("target_lengths", target_lengths))
                      if not isinstance(v, (list, tuple))})
    check.reduction(reduction)
    check.flag(zero_infinity, "zero_infinity")
    check.flag(batch_first, "batch_first")
    check.floating(xp, log_probs, "log_probs")
    input_lengths, target_lengths = (
        xp.asarray(list(a), dtype=xp.int64, device=device_of(log_probs)) if isinstance(a, (list, tuple)) else a
        for a in (input_lengths, target_lengths))
    for a, name in ((targets, "targets"), (input_lengths, "input_lengths"), (target_lengths, "target_lengths")):
        check.integer(xp, a, name)
    if log_probs.ndim not in (2, 3):
        raise ValueError(
            f"log_probs must have shape (T, N, C), (N, T, C) with batch_first=True, or (T, C) "
            f"unbatched, got shape {tuple(log_probs.shape)}"
        )
    unbatched = log_probs.ndim == 2
    if unbatched:
        if targets.ndim != 1:
            raise ValueError(f"unbatched log_probs (T, C) need 1-D targets (S,), got shape {tuple(targets.shape)}")
        for a, name in ((input_lengths, "input_lengths"), (target_lengths, "target_lengths")):
            if tuple(a.shape) not in ((), (1,)):
                raise ValueError(f"unbatched {name} must have shape () or (1,), got {tuple(a.shape)}")
    n_classes = log_probs.shape[-1]
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < n_classes:
        raise ValueError(f"blank must be an int in [0, {n_classes - 1}] (C = {n_classes}), got {blank!r}")
    if unbatched:  # one sequence: the shapes above are all it takes
        return xp, input_lengths, target_lengths
    n_batch = log_probs.shape[0 if batch_first else 1]
    for a, name in ((input_lengths, "input_lengths"), (target_lengths, "target_lengths")):
        if tuple(a.shape) != (n_batch,):
            raise ValueError(f"{name} must have shape (N,) = ({n_batch},), got {tuple(a.shape)}")
    if targets.ndim == 2 and targets.shape[0] != n_batch:
        raise ValueError(
            f"padded targets must have shape (N, S) with N = {n_batch}, got {tuple(targets.shape)}"
        )
    if targets.ndim not in (1, 2):
        raise ValueError(
            f"targets must have shape (N, S) or (sum(target_lengths),), got {tuple(targets.shape)}"
        )
    return xp, input_lengths, target_lengths


def _time_major(xp, log_probs, targets, input_lengths, target_lengths, batch_first):
    """The batched layout: ``log_probs`` ``(T, N, C)``, targets ``(N, S)`` or 1-D, lengths ``(N,)``."""
    if log_probs.ndim == 2:
        return (xp.expand_dims(log_probs, axis=1), xp.expand_dims(targets, axis=0),
                xp.reshape(input_lengths, (1,)), xp.reshape(target_lengths, (1,)))
    if batch_first:
        log_probs = xp.permute_dims(log_probs, (1, 0, 2))
    return log_probs, targets, input_lengths, target_lengths


def _check_values(xp, log_probs, targets, input_lengths, target_lengths, blank, checkable):
    """Eager-only value checks, recorded (``check.record``: one host read per call, none with
    value checks off): input lengths in ``[0, T]``, target lengths in ``[0, S]`` (padded
    targets) or ``[0, len(targets)]`` (concatenated ones, whose length must then be
    ``sum(target_lengths)``), labels within the target lengths in ``[0, C)`` and not ``blank``."""
    if not checkable or not check.enabled():
        return
    n_time = log_probs.shape[0]
    _check_lengths(xp, input_lengths, "input_lengths", n_time, f"T={n_time}")
    n = targets.shape[-1]
    text = f"S={n}" if targets.ndim == 2 else f"len(targets)={n}"
    _check_lengths(xp, target_lengths, "target_lengths", n, text)
    n_classes = log_probs.shape[-1]
    if targets.ndim == 1:
        if target_lengths.shape[0]:
            total = xp.sum(target_lengths)
            check.record(xp, lambda: total != n, lambda: (
                f"concatenated targets must have length sum(target_lengths) = {int(total)}, got {n}"),
                host=((total,), lambda v: v != n))
    _check_targets(xp, targets, target_lengths, blank, n_classes)


def _check_lengths(xp, lengths, name, high, high_text):
    """Recorded: ``0 <= lengths <= high`` (``high`` a Python int), read as the extrema."""
    if numel(lengths) == 0:
        return
    lo, hi = xp.extrema(lengths)
    check.record(xp, lambda: xp.logical_or(lo < 0, hi > high), lambda: (
        f"{name} must hold lengths in [0, {high_text}], got values in [{int(lo)}, {int(hi)}]"),
        host=((lo, hi), lambda a, b: a < 0 or b > high))


def _check_targets(xp, targets, target_lengths, blank, n_classes):
    """Recorded: every target label (padding excluded) is in [0, C) and is not ``blank``.

    The labels allowed are ``[first, last]`` (``[0, C)`` without ``blank`` where it is at an
    end) and, for a ``blank`` inside, not ``blank``: read as the extrema of the labels (padding
    positions hold ``first``), with a flag for a ``blank`` inside."""
    if numel(targets) == 0:
        return
    within = None
    if targets.ndim == 2:  # padded: only the labels within target_lengths
        grid = cast(xp, arange_like(xp, targets, targets.shape[1]), target_lengths.dtype)
        within = xp.expand_dims(grid, axis=0) < xp.expand_dims(target_lengths, axis=1)

    def bad_labels():
        bad = xp.logical_or(xp.logical_or(targets < 0, targets >= n_classes), targets == blank)
        return bad if within is None else xp.logical_and(within, bad)

    def explain():
        bad = bad_labels()
        vals = xp.where(bad, targets, xp.full_like(targets, blank))
        lo, hi = int(xp.min(vals)), int(xp.max(vals))
        return (f"targets must hold labels in [0, {n_classes - 1}] other than blank={blank} "
                f"(within target_lengths), got bad labels between {min(lo, hi)} and {max(lo, hi)}")

    first = 1 if blank == 0 else 0
    last = n_classes - 2 if blank == n_classes - 1 else n_classes - 1
    if first > last:  # no label is allowed (C = 1): any label read is bad
        check.record(xp, lambda: xp.any(bad_labels()), explain)
        return
    labels = targets if within is None else xp.where(within, targets, xp.full_like(targets, first))
    lo, hi = xp.extrema(labels)
    if first < blank < last:
        hit = xp.any(labels == blank)
        check.record(xp, lambda: xp.any(bad_labels()), explain,
                     host=((lo, hi, hit), lambda a, b, h: a < first or b > last or bool(h)))
    else:
        check.record(xp, lambda: xp.any(bad_labels()), explain,
                     host=((lo, hi), lambda a, b: a < first or b > last))


# ------------------------------------------------------------------ target unpacking ----
def _padded_targets(xp, targets, target_lengths, eager):
    """Padded labels ``(N, S)`` and the target lengths, both in one integer dtype."""
    padded = targets if targets.ndim == 2 else _unpack(xp, targets, target_lengths, eager)
    idt = xp.result_type(padded.dtype, target_lengths.dtype)
    return cast(xp, padded, idt), cast(xp, target_lengths, idt)


def _unpack(xp, targets, target_lengths, eager):
    """Concatenated labels ``(sum(lengths),)`` -> padded ``(N, S)`` (padding: label 0).

    ``S = max(target_lengths)`` is read where the arrays live on the host (NumPy,
    array-api-strict); elsewhere (a device, a trace) ``S = len(targets)``, a static bound
    that gives the same values without a device-to-host read."""
    total = targets.shape[0]
    n_batch = target_lengths.shape[0]
    tl = target_lengths
    if eager and n_batch and xp.on_host:
        n_labels = min(int(xp.max(tl)), total)  # bad lengths are reported by the recorded checks
    else:
        n_labels = total if n_batch else 0
    if n_labels == 0 or total == 0:
        return xp.reshape(tl, (n_batch, 1))[:, :0]
    offsets = xp.cumulative_sum(tl) - tl
    pos = _grid(xp, targets[:n_labels], axis=0)
    idx = xp.expand_dims(offsets, axis=1) + xp.expand_dims(cast(xp, pos, tl.dtype), axis=0)
    idx = xp.where(idx < total, idx, xp.zeros_like(idx))
    out = xp.take_index(targets, xp.reshape(idx, (n_batch * n_labels,)), axis=0)
    return xp.reshape(out, (n_batch, n_labels))


def _extended_labels(xp, padded, tl, blank):
    """The extended label sequences y' ``(N, L = 2S + 1)`` and where the skip s-2 -> s is allowed."""
    n_batch, n_labels = padded.shape
    valid = _grid(xp, padded[:1, :], axis=1) < xp.expand_dims(tl, axis=1)
    labels = xp.where(valid, padded, xp.full_like(padded, blank))
    last = xp.full_like(xp.reshape(tl, (n_batch, 1)), blank)
    if n_labels:
        pairs = xp.reshape(xp.stack([xp.full_like(labels, blank), labels], axis=-1), (n_batch, 2 * n_labels))
        ext = xp.concat([pairs, last], axis=1)
        # y'_{s-2} (blank before the start): the skip s-2 -> s needs y'_s != blank, y'_{s-2}
        prev2 = xp.concat([xp.full_like(pairs[:, :2], blank), ext[:, :-2]], axis=1)
    else:
        ext = prev2 = last
    return ext, xp.logical_and(ext != blank, ext != prev2)


# ----------------------------------------------------------------- forward recursion ----
def _emissions(xp, lp, ext, state_major=False):
    """The log-probabilities of y' at every frame, ``(T, N, L)`` (``(T, L, N)`` state-major), in
    one gather, as the recursion reads them."""
    n_time, n_batch, n_classes = lp.shape
    index = _grid(xp, ext[:, :1], axis=0) * n_classes + ext  # (N, L), into (T, N * C)
    if state_major:
        index = xp.permute_dims(index, (1, 0))
    emit = xp.take_index(xp.reshape(lp, (n_time, n_batch * n_classes)), xp.reshape(index, (-1,)), axis=1)
    emit = xp.reshape(emit, (n_time,) + tuple(index.shape))
    # log 0 -> the finite "impossible"; NaN stays NaN; +inf (a probability above 1) -> NaN, as
    # torch's recursion gives wherever the element is read
    impossible = xp.logical_or(emit < _NEG, _unread(xp, emit, state_major))
    emit = xp.where(emit == math.inf, xp.full_like(emit, math.nan), emit)
    return xp.where(impossible, xp.full_like(emit, _NEG), emit)


def _unread(xp, emit, state_major):
    """The first frame's states s >= 2, ``(T, 1, L)`` (``(T, L, 1)`` state-major): the first
    frame reaches only s = 0, 1, so their emissions are not read there (torch's
    initialisation)."""
    first = _grid(xp, emit[:, :1, :1], axis=0) == 0  # (T, 1, 1); T may be 0
    if state_major:
        return xp.logical_and(first, _grid(xp, emit[:1, :, :1], axis=1) >= 2)
    return xp.logical_and(first, _grid(xp, emit[:1, :1, :], axis=2) >= 2)


def _start(xp, emit, skip, input_lengths):
    """What the recursion starts from: the skip term ``(N, L)`` (0 where the skip s-2 -> s is
    allowed, impossible elsewhere), the first carry ``(N, L + 2)`` (two impossible columns on
    the left so the shifts are slices; the virtual start state sits at s = 0 with
    log-probability 0 before the first frame), those two columns ``(N, 2)`` and the active
    frames ``t < T_n`` ``(T, N, 1)``."""
    zero = xp.zeros_like(skip, dtype=emit.dtype)  # (N, L); T may be 0
    neg = xp.full_like(zero, _NEG)
    skip_add = xp.where(skip, zero, neg)
    pad2 = xp.concat([neg[:, :1], neg[:, :1]], axis=1)
    carry0 = xp.concat([pad2, zero[:, :1], neg[:, 1:]], axis=1)
    t_grid = _grid(xp, emit[:, :1, 0], axis=0)  # (T, 1)
    active = t_grid < xp.expand_dims(cast(xp, input_lengths, emit.dtype), axis=0)
    return skip_add, carry0, pad2, xp.expand_dims(active, axis=2)


def _forward(xp, emit, skip, input_lengths):
    """The alpha recursion over the frames: the forward variables ``(N, L)`` after each
    sequence's last frame."""
    skip_add, carry0, pad2, active = _start(xp, emit, skip, input_lengths)
    (final, _, _), _ = xp.scan(_step_for(xp), (carry0, skip_add, pad2), (emit, active))
    return final[:, 2:]


@functools.lru_cache(maxsize=None)
def _step_for(xp):
    """The recursion step, one function object per namespace: JAX's scan caches its trace and
    compilation by the step function's identity, so eager calls do not recompile. (An
    ``lru_cache`` rather than a dict: torch.compile traces through it without guarding on a
    cache that a first traced call would fill.)"""
    def step(carry, x):
        alpha, skip_add, pad2 = carry
        e, act = x
        stay = alpha[:, 2:]
        new = xp.logaddexp(xp.logaddexp(stay, alpha[:, 1:-1]), alpha[:, :-2] + skip_add) + e
        new = xp.where(act, new, stay)
        return (xp.concat([pad2, new], axis=1), skip_add, pad2), None

    return step


# ------------------------------------------------------ JAX: the hand-written gradient ----
# The alpha recursion of ``_forward`` with the gradient of ``_emissions`` and of the scan
# written out (``jax.custom_vjp``, through the ``hand_vjp`` primitive): the forward scan keeps
# each frame's log-sum-exp of the three predecessors; the backward pass is a reverse scan that
# sends each state's cotangent back to its predecessors by the transition weights
# ``exp(alpha_{t-1}(s') - lse_t(s))``, and the emissions' gradient is a matrix product. It is
# the transpose autodiff takes of the generic body, NaNs included: a weight is NaN exactly
# where that body's is (a NaN log-sum-exp) and is multiplied in where that body multiplies
# it, by the zero cotangent of the unused step of inactive frames too. Both scans run on
# state-major arrays, ``(L, N)`` per frame: XLA compiles the shifts along the states (the
# recursion's only neighbours) much better on the major axis. The generic ``hand_vjp`` runs
# ``_plain_alpha`` (the recursion of ``_forward``), which autodiff differentiates.
def _lse3(xp, a, b, c):
    """``log(exp(a) + exp(b) + exp(c))`` elementwise with two exponentials: the largest term
    contributes ``exp(0) = 1``, the two others ``exp(x - max) <= 1``. All three -inf give -inf
    (the shift is 0 where the maximum is infinite); a NaN gives NaN (it is the maximum or one
    of the two others, whichever way the comparisons go)."""
    a_top = a > b
    hi, lo = xp.where(a_top, a, b), xp.where(a_top, b, a)
    hi_top = hi > c
    top, mid = xp.where(hi_top, hi, c), xp.where(hi_top, c, hi)
    shift = xp.where(xp.isfinite(top), top, xp.zeros_like(top))
    return top + xp.log1p(xp.exp(lo - shift) + xp.exp(mid - shift))


@functools.lru_cache(maxsize=None)
def _lse_step_for(xp):
    """``_step_for``'s recursion by :func:`_lse3` on state-major arrays, stacking each frame's
    log-sum-exp of the predecessors (before the emission is added). (Kept for the value alone
    too: XLA compiles the step faster with the log-sum-exp an output of its own.)"""
    def step(carry, x):
        alpha, skip_add, pad2 = carry  # (L + 2, N), two impossible rows first
        e, act = x
        stay = alpha[2:, :]
        lse = _lse3(xp, stay, alpha[1:-1, :], alpha[:-2, :] + skip_add)
        new = xp.where(act, lse + e, stay)
        return (xp.concat([pad2, new], axis=0), skip_add, pad2), lse

    return step


def _alpha_fwd(xp, static, needs, lp, ext, skip, input_lengths):
    """``custom_vjp`` forward: the forward variables after each sequence's last frame
    ``(N, L)``; residuals for the backward pass when a gradient is wanted."""
    emit = _emissions(xp, lp, ext, state_major=True)  # (T, L, N)
    skip_add, carry0, pad2, active = _start(xp, emit, skip, input_lengths)
    active = xp.permute_dims(active, (0, 2, 1))  # (T, 1, N)
    skip_add = xp.permute_dims(skip_add, (1, 0))
    init = (xp.permute_dims(carry0, (1, 0)), skip_add, xp.permute_dims(pad2, (1, 0)))
    (final, _, _), lse = xp.scan(_lse_step_for(xp), init, (emit, active))
    final = final[2:, :]
    res = None if needs is None else (lp, ext, emit, lse, final, skip_add, active)
    return xp.permute_dims(final, (1, 0)), res


def _alpha_bwd(xp, static, needs, res, g):
    """``custom_vjp`` backward: the gradient wrt ``log_probs`` of the cotangent ``g`` ``(N, L)``
    of the final forward variables (the integer and bool arguments get None)."""
    lp, ext, emit, lse, final, skip_add, active = res
    if lp.shape[0] == 0:
        return xp.zeros_like(lp), None, None, None
    g = xp.permute_dims(g, (1, 0)) + _inactive_spill(xp, final, skip_add, active)
    # step t receives frame t + 1's log-sum-exp and activity in the carry (none after the last
    # frame: an inactive one) and the forward variables after frame t, lse_t + e_t, where frame
    # t + 1 is active (frame t is then active too)
    carry0 = (g, xp.zeros_like(g), xp.zeros_like(active[0, ...]), skip_add)
    _, d_emit = xp.scan(_back_step_for(xp), carry0, (lse, emit, active), reverse=True)
    # d_emit[t]: the cotangent of the emissions of frame t (0 on inactive frames), onto the
    # log-probabilities where the emissions are the log-probabilities themselves. Whether an
    # emission is replaced depends on its frame and state (the first frame's unread states) and
    # on its class's log-probability (log 0, +inf): the latter is a factor common to every
    # state of a class, applied after the sum over the states
    d_emit = xp.where(_unread(xp, emit, True), xp.zeros_like(d_emit), d_emit)
    d_lp = _emission_grad(xp, xp.permute_dims(d_emit, (2, 0, 1)), ext, lp.shape[2])
    replaced = xp.logical_or(lp < _NEG, lp == math.inf)
    return xp.where(replaced, xp.zeros_like(d_lp), d_lp), None, None, None


def _inactive_spill(xp, final, skip_add, active):
    """What the inactive frames add to the cotangent of the last active frame's forward
    variables ``(L, N)``: each multiplies the zero cotangent of its unused step by that step's
    weights, NaN where the step's log-sum-exp is NaN -- at s where one of lse(s), lse(s + 1),
    lse(s + 2) is, the same for every inactive frame (they all read the final variables).
    Zero for sequences without inactive frames."""
    neg = xp.full_like(final[:2, :], _NEG)
    padded = xp.concat([neg, final], axis=0)
    lse = _lse3(xp, final, padded[1:-1, :], padded[:-2, :] + skip_add)
    zero = xp.zeros_like(final[:2, :])
    ahead = lse + xp.concat([lse[1:, :], zero[:1, :]], axis=0) + xp.concat([lse[2:, :], zero], axis=0)[:lse.shape[0], :]
    some = xp.logical_not(active[-1, ...])  # (1, N): the last frame is inactive
    return xp.where(some, 0.0 * ahead, xp.zeros_like(ahead))  # 0 * finite = 0, 0 * NaN = NaN


@functools.lru_cache(maxsize=None)
def _back_step_for(xp):
    """One reverse step on state-major arrays: the cotangent of the forward variables after
    frame t + 1 -> after frame t (inactive frames pass it through), and the cotangent of frame
    t's emissions."""
    def step(carry, x):
        cot, lse_next, act_next, skip_add = carry
        lse, e, act = x
        after = lse + e  # the forward variables after frame t (before frame t + 1)
        zero = xp.zeros_like(cot[:2, :])
        # weight of the transition s' -> s at frame t + 1, at s' (where the cotangent goes):
        # s -> s, s + 1 -> s (its s - 1 term), s + 2 -> s (its skip term)
        w_stay = xp.exp(after - lse_next)
        w_next = xp.exp(after[:-1, :] - lse_next[1:, :])
        w_skip = xp.exp(after[:-2, :] + skip_add[2:, :] - lse_next[2:, :])
        back = (cot * w_stay + xp.concat([cot[1:, :] * w_next, zero[:1, :]], axis=0)
                + xp.concat([cot[2:, :] * w_skip, zero], axis=0)[:cot.shape[0], :])
        cot = xp.where(act_next, back, cot)
        return (cot, lse, act, skip_add), xp.where(act, cot, xp.zeros_like(cot))

    return step


def _emission_grad(xp, d_emit, ext, n_classes):
    """The gradient wrt ``log_probs`` ``(T, N, C)`` of that of the emissions, given batch-major
    ``(N, T, L)``: ``sum_s d_emit[n, t, s] [y'_{n,s} = c]``, a batched product with the one-hot
    ``y'`` (a matrix product where the gather's transpose would be a scatter). Its NaNs are put
    where the scatter puts them, on the classes of the NaN states only: the product of the NaN
    indicators says where (the product of the values would spread them to every class of the
    frame, 0 * NaN)."""
    one_hot = xp.one_hot(ext, n_classes, dtype=d_emit.dtype)  # (N, L, C)
    nan = xp.isnan(d_emit)
    total = xp.matmul(xp.where(nan, xp.zeros_like(d_emit), d_emit), one_hot, precision="highest")
    hits = xp.matmul(cast(xp, nan, d_emit.dtype), one_hot, precision="highest")
    return xp.permute_dims(xp.where(hits > 0, xp.full_like(total, math.nan), total), (1, 0, 2))


# ------------------------------------------------------------------------- reduction ----
def _sequence_nll(xp, alpha, tl, zero_infinity, lp, input_lengths):
    """Per-sequence ``-log p(y | x)`` from the last label or the trailing blank (states
    ``2 S_n`` and ``2 S_n - 1``); ``inf`` (0 with ``zero_infinity``) where no alignment fits.

    A sequence whose loss is NaN gets a NaN gradient on every element of its active frames
    (torch's rule), whichever of them the recursion happened to read."""
    s_grid = _grid(xp, alpha[:1, :], axis=1)
    two_tl = xp.expand_dims(2 * cast(xp, tl, alpha.dtype), axis=1)
    ends = xp.logical_or(s_grid == two_tl, s_grid == two_tl - 1)
    loglik = xp.logsumexp(xp.where(ends, alpha, xp.full_like(alpha, _NEG)), axis=1)
    infeasible = loglik < _FEASIBLE  # NaN inputs stay NaN
    fill = 0.0 if zero_infinity else math.inf
    nll = xp.where(infeasible, xp.full_like(loglik, fill), 0.0 - loglik)  # (0 - 0 is +0)
    # value: + 0 (NaN sequences are NaN already); gradient: NaN on the NaN sequences' active
    # frames, exactly 0 elsewhere (the unselected branch of a where gets no gradient)
    nan_seq = xp.isnan(nll)
    t_grid = _grid(xp, lp[:, :1, 0], axis=0)  # (T, 1)
    mask = xp.logical_and(t_grid < xp.expand_dims(cast(xp, input_lengths, t_grid.dtype), axis=0),
                          xp.expand_dims(nan_seq, axis=0))
    k = xp.expand_dims(xp.where(mask, xp.full_like(t_grid, math.nan), xp.zeros_like(t_grid)), axis=2)
    spread = xp.where(xp.expand_dims(mask, axis=2), lp * xp.stop_gradient(k), xp.zeros_like(lp))
    return nll + xp.sum(spread, axis=(0, 2))


def _reduce_ctc(xp, nll, tl, reduction, unbatched, out_dtype, group):
    """torch's reduction: ``"mean"`` is the batch mean of ``nll_n / max(S_n, 1)``."""
    if reduction == "mean":
        nll = nll / cast(xp, xp.clip(tl, min=1), nll.dtype)
    if unbatched and reduction == "none":
        nll = xp.reshape(nll, ())
    return reduce(xp, nll, reduction, out_dtype=out_dtype, group=group)


def _grid(xp, like, axis):
    """``0, 1, ..., n-1`` along ``axis`` with ``like``'s shape, dtype and device."""
    return xp.cumulative_sum(xp.ones_like(like), axis=axis) - 1
