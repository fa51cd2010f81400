r"""Segmentation losses: Dice family, Tversky, MCC, Lovasz, boundary and Hausdorff, Wasserstein Dice,
and CE/focal + Dice combinations.

Shared conventions (every loss of this module unless its docstring says otherwise):

* ``input``: logits (``from_logits=True``) or probabilities, shape ``(N, C, *spatial)``
  (channels first, class axis 1; use ``moveaxis`` for channels-last data).
* ``mode``: ``"multiclass"`` (softmax over the ``C`` channels, one class per pixel),
  ``"multilabel"`` (independent sigmoid per channel) or ``"binary"`` (one channel,
  ``C == 1``, sigmoid; the channel is the foreground class).
* ``target``: class indices of shape ``(N, *spatial)`` (any integer dtype; ``"multiclass"``
  and ``"binary"``), or a dense one-hot / probability target of ``input``'s shape (any dtype,
  values in [0, 1]).
* ``ignore_index``: target value whose pixels are removed (prediction and target both set
  to 0 there, as segmentation_models_pytorch does); ``None`` (default) ignores nothing.
* Overlap statistics per class are sums over the spatial axes of one sample
  (``batch=False``, "per-sample") or over the batch and the spatial axes (``batch=True``).

Empty classes: a class absent from both the target and the prediction (all sums exactly 0)
has a score of 1 and a loss of 0, with a zero (finite) gradient, whatever the smoothing.

Edges (issue #10): a NaN in any element a loss reads makes that loss NaN (ignored pixels are
silenced, not multiplied by 0); an empty batch gives NaN for ``"mean"``, 0 for ``"sum"`` and
an empty array for ``"none"``; every array argument's dtype is checked before any value
(complex anywhere is a ``TypeError`` naming it; integer/bool targets and weights are cast).
"""
from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, TypeVar, get_args

from . import _validate as check
from ._common import abs0, arange_like, cast, clamp_min1, float_args, pow0, relu0, safe_divide
from ._reduction import GROUP_ARG, gathered, group_doc, reduce
from ._typing import Array, ArrayT, Group, Reduction, ScalarReduction
from .backends import namespace
from .classification import cross_entropy, sigmoid_focal_loss

__all__ = [
    "dice_loss",
    "jaccard_loss",
    "tversky_loss",
    "focal_tversky_loss",
    "generalized_dice_loss",
    "lovasz_softmax_loss",
    "lovasz_hinge_loss",
    "boundary_loss",
    "dice_ce_loss",
    "combo_loss",
    "signed_distance_map",
    "masked_dice_loss",
    "mcc_loss",
    "dice_focal_loss",
    "hausdorff_dt_loss",
    "boundary_distance_map",
    "generalized_wasserstein_dice_loss",
]

#: ``mode=`` of the segmentation losses: which activation and which target layout.
Mode = Literal["multiclass", "multilabel", "binary"]
#: ``mode=`` of :func:`combo_loss` (sigmoid modes only).
SigmoidMode = Literal["binary", "multilabel"]
#: ``weight_type=`` of :func:`generalized_dice_loss`.
WeightType = Literal["square", "simple", "uniform"]
#: ``classes=`` of :func:`lovasz_softmax_loss`: a selection rule or explicit class indices.
Classes = Literal["present", "all"] | Sequence[int]

#: ``mean_over=`` of the class-weighted overlap losses (what a weighted "mean" divides by).
MeanOver = Literal["weights", "elements"]

_MODES = get_args(Mode)
_WEIGHT_TYPES = get_args(WeightType)
_MEAN_OVER = get_args(MeanOver)


# ------------------------------------------------------------------------------ helpers ----
def _check_ignore(ignore_index):
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
        raise TypeError(f"ignore_index must be an int or None, got {ignore_index!r}")


def _check_array(xp, x, name, fn):
    """``x`` (None allowed) is an array of a real dtype: a Python number, a list or a complex
    array is a ``TypeError`` naming ``name`` (checked before any value check)."""
    if x is None:
        return
    if isinstance(x, bool) or not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise TypeError(f"{fn}: {name} must be an array, got {type(x).__name__}")
    check.real_array(xp, x, name)


def _smooths(smooth, smooth_dr):
    check.finite_number(smooth, "smooth", low=0)
    if smooth_dr is None:
        return float(smooth), float(smooth)
    check.finite_number(smooth_dr, "smooth_dr", low=0)
    return float(smooth), float(smooth_dr)


def _flat(xp, x, lead):
    """``x`` reshaped to ``(*x.shape[:lead], prod(x.shape[lead:]))``: the flattened size comes
    from the static shape, so a size-0 axis is fine (``reshape(..., -1)`` is ambiguous there)."""
    return xp.reshape(x, tuple(x.shape[:lead]) + (math.prod(x.shape[lead:]),))


def _probabilities(xp, z, mode, from_logits, fn):
    if not from_logits:
        check.values_in(xp, z, "input", 0, 1, what=f"probabilities ({fn} with from_logits=False)")
        return z
    if mode == "multiclass":
        return xp.softmax(z, axis=1)
    return xp.sigmoid(z)


def _check_channels(input, mode, fn):
    """``input`` is ``(N, C, *spatial)`` with a channel count that fits ``mode``; returns ``C``."""
    if input.ndim < 2:
        raise ValueError(f"{fn}: input must have shape (N, C, *spatial), got {tuple(input.shape)}")
    c = input.shape[1]
    if mode == "binary" and c != 1:
        raise ValueError(f"{fn}: mode='binary' expects input of shape (N, 1, *spatial), got {tuple(input.shape)} (C={c})")
    if mode == "multiclass" and c < 2:
        raise ValueError(f"{fn}: mode='multiclass' needs at least 2 channels, got input of shape {tuple(input.shape)}; use mode='binary'")
    return c


def _target_layout(xp, input, target, mode, fn):
    """Shape and dtype of ``target``: dense (``input``'s shape, returns True) or class indices
    ``(N, *spatial)`` of an integer dtype (returns False). No value is read."""
    if tuple(target.shape) == tuple(input.shape):
        return True
    index_shape = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != index_shape:
        raise ValueError(
            f"{fn}: target must have input's shape {tuple(input.shape)} (one-hot/probabilities) or "
            f"shape {index_shape} (class indices), got {tuple(target.shape)}"
        )
    if mode == "multilabel":
        raise ValueError(
            f"{fn}: mode=multilabel needs a dense target of input's shape {tuple(input.shape)}, "
            f"got {tuple(target.shape)}"
        )
    check.integer(xp, target, "target")
    return False


def _check_class_weight_shape(weight, c, c_out, fn):
    """``weight``: None or one weight per class, ``(C,)`` or ``(C',)``."""
    if weight is None:
        return
    if weight.ndim != 1 or weight.shape[0] not in (c, c_out):
        allowed = f"({c},)" + ("" if c == c_out else f" or ({c_out},) (without background)")
        raise ValueError(f"{fn}: weight must hold one weight per class, shape {allowed}, got {tuple(weight.shape)}")


def _dense_target(xp, target, ignore_index, dtype):
    """A one-hot/probability target (checked eagerly to lie in [0, 1]) as ``dtype``, and the
    boolean mask of kept pixels (None without ``ignore_index``)."""
    keep = None
    if ignore_index is not None:
        keep = target != ignore_index
        target = xp.where(keep, target, xp.zeros_like(target))
    if target.dtype != xp.bool:
        check.values_in(xp, target, "target", 0, 1, what="one-hot labels or probabilities")
    return cast(xp, target, dtype), keep


def _one_hot1(xp, index, c, dtype):
    """One-hot ``(N, C, *spatial)`` of integer ``index`` ``(N, *spatial)``, built at axis 1
    directly (a comparison with a broadcast class grid: no ``moveaxis``, which
    ``torch.func.vmap`` cannot batch)."""
    grid = xp.astype(arange_like(xp, index, c), index.dtype)
    grid = xp.reshape(grid, (1, c) + (1,) * (index.ndim - 1))
    return cast(xp, xp.expand_dims(index, axis=1) == grid, dtype)


def _index_target(xp, target, ignore_index, mode, c, dtype):
    """Class indices ``(N, *spatial)`` as a dense ``(N, C, *spatial)`` target of ``dtype``
    (one-hot for ``"multiclass"``, the 0/1 foreground for ``"binary"``), and the
    ``(N, 1, *spatial)`` mask of kept pixels (None without ``ignore_index``)."""
    keep = None
    if ignore_index is not None:
        kept = target != ignore_index
        keep = xp.expand_dims(kept, axis=1)
        target = xp.where(kept, target, xp.zeros_like(target))
    if mode == "multiclass":
        return _one_hot1(xp, target, c, dtype), keep
    return cast(xp, xp.expand_dims(target, axis=1), dtype), keep


def _check_mask_shape(input, mask, fn):
    """``mask``: None or ``(N, 1, *spatial)`` / ``(1, 1, *spatial)`` (one weight per pixel)."""
    if mask is None:
        return
    n = input.shape[0]
    ok = (mask.ndim == input.ndim and mask.shape[1] == 1 and mask.shape[0] in (1, n)
          and tuple(mask.shape[2:]) == tuple(input.shape[2:]))
    if not ok:
        spatial = tuple(input.shape[2:])
        raise ValueError(f"{fn}: mask must have shape {(n, 1) + spatial} or {(1, 1) + spatial} "
                         f"(one weight per pixel), got {tuple(mask.shape)}")


def _seg_prepare(xp, input, target, weight, *, mode, from_logits, include_background,
                 ignore_index, fn, mask=None):
    """Checks + ``(p, g, w, out_dtype, region)``: probabilities and targets as ``(N, C', S)``.

    ``C'`` drops the background channel 0 when ``include_background`` is False (not in
    ``"binary"`` mode). ``w`` is the per-class weight of shape ``(C',)`` or None. Removed
    (``ignore_index``) pixels have ``p = g = 0`` (selected, so a non-finite prediction there
    is silenced, DESIGN rule 10). ``mask`` (``(N | 1, 1, *spatial)``, non-negative) multiplies
    ``p`` and ``g`` pixel by pixel; a 0 there is selected like a removed pixel. ``region`` is
    the flattened pixel weight (kept pixels times ``mask``, broadcastable to ``p``) or None
    when every pixel counts fully.

    Order (DESIGN rule 3): keywords, then the dtype of every array, then shapes, then values.
    """
    check.choice(mode, "mode", _MODES)
    check.flag(from_logits, "from_logits")
    check.flag(include_background, "include_background")
    _check_ignore(ignore_index)
    check.floating(xp, input, "input")
    _check_array(xp, target, "target", fn)
    _check_array(xp, weight, "weight", fn)
    _check_array(xp, mask, "mask", fn)
    c = _check_channels(input, mode, fn)
    dense = _target_layout(xp, input, target, mode, fn)
    keep_c = include_background or mode == "binary"
    c_out = c if keep_c else c - 1
    _check_class_weight_shape(weight, c, c_out, fn)
    _check_mask_shape(input, mask, fn)
    # values (eager only)
    if not dense:
        check.class_indices(xp, target, 2 if mode == "binary" else c, "target", ignore_index)
    check.nonnegative(xp, weight, "weight")
    check.nonnegative(xp, mask, "mask")
    _, out_dtype, (z, w) = float_args(xp, input, weight, names=("input", "weight"))
    p = _probabilities(xp, z, mode, from_logits, fn)
    if dense:
        g, keep = _dense_target(xp, target, ignore_index, p.dtype)
    else:
        g, keep = _index_target(xp, target, ignore_index, mode, c, p.dtype)
    region = None
    if keep is not None:
        p = xp.where(keep, p, 0.0)
        g = xp.where(keep, g, 0.0)
        region = cast(xp, keep, p.dtype)
    if mask is not None:
        m = cast(xp, mask, p.dtype)
        off = m == 0  # (a NaN weight is not 0: it goes through)
        p = xp.where(off, 0.0, p * m)
        # a one-hot target of class indices is finite: g * 0 is already the 0 the select gives
        g = g * m if not dense else xp.where(off, 0.0, g * m)
        region = m if region is None else region * m
    if not keep_c:
        p, g = p[:, 1:, ...], g[:, 1:, ...]
        if w is not None and w.shape[0] == c:
            w = w[1:]
        if region is not None and region.shape[1] == c:
            region = region[:, 1:, ...]
    if region is not None:
        region = _flat(xp, region, 2)
    return _flat(xp, p, 2), _flat(xp, g, 2), w, out_dtype, region


def _sums(xp, x, batch, group=None):
    """Per-sample (``(N, C')``) or batch-pooled (``(C',)``, over the whole group's batch) sums."""
    if not batch:
        return xp.sum(x, axis=2)
    out = xp.sum(x, axis=(0, 2))
    return out if group is None else xp.all_sum(out, group)


class _Overlap(NamedTuple):
    """Prepared arguments of an overlap loss: ``p``, ``g`` of shape ``(N, C', S)``, the class
    weights ``w`` (``(C',)`` or None) and the keywords that decide the pooling and the
    reduction."""

    xp: Any
    p: Any
    g: Any
    w: Any
    out_dtype: Any
    batch: bool
    mask_absent: bool
    reduction: Reduction
    mean_over: str = "weights"
    group: Any = None
    region: Any = None
    columns: Any = None
    log_loss: bool = False

    def stats(self, squared=False):
        """``(TP, sum p, sum g)`` per class (``sum p**2``, ``sum g**2`` when ``squared``)."""
        xp, p, g, batch, group = self.xp, self.p, self.g, self.batch, self.group
        tp = _sums(xp, p * g, batch, group)
        if squared:
            return tp, _sums(xp, p * p, batch, group), _sums(xp, g * g, batch, group)
        return tp, _sums(xp, p, batch, group), _sums(xp, g, batch, group)

    def finish_score(self, score):
        """:meth:`finish` of the loss of per-class scores in [0, 1]: ``1 - score``, or
        ``-log(max(score, 1e-7))`` with ``log_loss`` (segmentation_models_pytorch's clamp)."""
        if self.log_loss:
            return self.finish(-self.xp.log(clamp_min1(self.xp, score, _LOG_FLOOR)))
        return self.finish(1 - score)

    def finish(self, loss):
        """Zero the classes without target pixels (``mask_absent``), keep the ``classes``
        columns, then reduce with ``w``.

        The absent test is ``sum g <= 0`` (a NaN target sum is not absent: NaN goes through)."""
        xp, w = self.xp, self.w
        if self.mask_absent:
            absent = _sums(xp, self.g, self.batch, self.group) <= 0
            loss = xp.where(absent, xp.zeros_like(loss), loss)
        if self.columns is not None:
            loss = xp.stack([loss[..., k] for k in self.columns], axis=-1)
            if w is not None:
                w = xp.stack([w[k] for k in self.columns])
        # batch-pooled losses are already those of the whole group's batch
        return reduce(xp, loss, self.reduction, weight=w, out_dtype=self.out_dtype,
                      mean_over=self.mean_over, group=None if self.batch else self.group)


#: the smallest score ``log_loss=True`` takes the logarithm of (segmentation_models_pytorch's eps)
_LOG_FLOOR = 1e-7


def _class_columns(classes, c, mode, include_background, fn):
    """``classes`` (None or distinct channel indices of ``input``) as columns of the per-class
    loss matrix (``C'`` columns: channel 0 is not one without background)."""
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise TypeError(f"{fn}: classes must be None or a sequence of channel indices, got {classes!r}")
    items = list(classes)
    first = 0 if include_background or mode == "binary" else 1
    if (not items or len(set(items)) != len(items)
            or any(isinstance(k, bool) or not isinstance(k, int) or not first <= k < c for k in items)):
        raise ValueError(f"{fn}: classes must be a non-empty sequence of distinct channel indices in "
                         f"[{first}, {c - 1}]" + ("" if first == 0 else " (include_background=False)")
                         + f", got {classes!r}")
    return tuple(k - first for k in items)


def _overlap_inputs(fn, input, target, weight, *, mode, from_logits, batch, include_background,
                    ignore_index, reduction, mask_absent=False, mean_over="weights", group=None,
                    mask=None, classes=None, log_loss=False, **flags):
    """The argument handling shared by the overlap losses (Dice, Jaccard, Tversky, focal
    Tversky, generalised Dice): checks ``reduction``, ``mean_over`` and the bool keywords
    (``batch``, the loss's own ``flags``, ``mask_absent``), then prepares the arrays with
    :func:`_seg_prepare`.
    """
    check.reduction(reduction)
    check.choice(mean_over, "mean_over", _MEAN_OVER)
    for name, value in {"batch": batch, **flags, "mask_absent": mask_absent, "log_loss": log_loss}.items():
        check.flag(value, name)
    xp = namespace(input=input, target=target, weight=weight, mask=mask)
    group = xp.check_group(group)
    p, g, w, out_dtype, region = _seg_prepare(xp, input, target, weight, mode=mode, from_logits=from_logits,
                                              include_background=include_background,
                                              ignore_index=ignore_index, fn=fn, mask=mask)
    columns = _class_columns(classes, input.shape[1], mode, include_background, fn)
    return _Overlap(xp, p, g, w, out_dtype, batch, mask_absent, reduction, mean_over, group, region,
                    columns, log_loss)


#: the Args entries shared by the overlap losses (each used where the signature has it)
_SHARED_ARGS = """\
        input: logits (``from_logits=True``) or probabilities, shape ``(N, C, *spatial)``.
        target: class indices ``(N, *spatial)`` (integer dtype) or a one-hot/probability
            target of ``input``'s shape.
        mode: ``"multiclass"`` (softmax) | ``"multilabel"`` (sigmoid per channel) |
            ``"binary"`` (``C == 1``, sigmoid).
        from_logits: apply softmax/sigmoid to ``input`` (else ``input`` holds probabilities,
            checked eagerly to lie in [0, 1]).
        batch: pool the statistics over the batch (``(C',)`` per-class losses) instead of per
            sample (``(N, C')``).
        include_background: keep channel 0 (ignored in ``"binary"`` mode).
        weight: optional non-negative class weights, shape ``(C,)`` (or ``(C-1,)`` without
            background), an array (integer/bool weights are cast); ``"mean"`` is
            ``sum(w * l) / sum(w)`` over the loss matrix (``mean_over="weights"``).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default, the weight
            sum of the loss matrix) or ``"elements"`` (its number of entries: MONAI's
            ``weight=``). No effect without ``weight``.
        ignore_index: target value whose pixels are removed from both prediction and target.
        mask_absent: classes with no target pixel in the pooled region get loss 0 (still
            counted by the ``"mean"``), as segmentation_models_pytorch.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (the ``(N, C')`` or ``(C',)`` matrix of
            per-class losses, weighted when ``weight`` is given).
""" + GROUP_ARG + """\
            With ``batch=True`` the statistics are pooled over the whole group's batch (a
            ``(C',)`` sum over the group) and every member gets the global per-class losses.
"""

#: the Returns and Raises of the overlap losses
_SHARED_RETURNS = """
    Returns:
        A 0-d array, or the per-class loss matrix for ``reduction="none"``, in the promoted
        floating dtype of the inputs. A NaN in ``input`` or ``target`` makes the losses that
        read it NaN (ignored pixels aside); an empty batch (``N = 0``, ``batch=False``) gives
        NaN for ``"mean"``, 0 for ``"sum"`` and an empty ``(0, C')`` matrix for ``"none"``.

    Raises:
        ValueError: bad shapes (target neither ``(N, *spatial)`` nor ``input``'s shape,
            ``mode="binary"`` with ``C != 1``, bad ``weight`` shape), bad keyword values
            (negative or non-finite smoothing/weights of the formula); eagerly, class indices
            out of range, probabilities outside [0, 1] or NaN, negative weights.
        TypeError: non-floating ``input``, complex or non-array ``target``/``weight``,
            floating target of the index shape, non-bool flags, non-number hyper-parameters.
"""


_F = TypeVar("_F", bound=Callable[..., Any])
_ENTRY = re.compile(r"^        (\w+(?:\s*,\s*\w+)*)\s*:")


def _arg_entries(text: str) -> list[tuple[list[str], str]]:
    """The entries of an Args block (a line at 8 spaces naming ``name`` or ``a, b``, then its
    deeper continuation lines) as ``(names, text)`` pairs."""
    out: list[tuple[list[str], str]] = []
    for line in text.splitlines(keepends=True):
        m = _ENTRY.match(line)
        if m:
            out.append(([n.strip() for n in m.group(1).split(",")], line))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line)
    return out


_SHARED_ENTRIES = _arg_entries(_SHARED_ARGS)


def _doc(f: _F) -> _F:
    """Replace the line ``    {shared}`` of ``f``'s docstring and the function's own Args
    entries written below it (up to the first blank line) by one ``Args:`` section in the
    order of the signature (the function's own entry of an argument, else the shared one of
    :data:`_SHARED_ARGS`), followed by the shared Returns and Raises. A docstring stripped
    by ``python -OO`` is left alone."""
    doc = f.__doc__
    if not doc:
        return f
    line = "    {shared}\n"
    start = doc.index(line)
    end = doc.find("\n\n", start + len(line) - 1)
    own = _arg_entries(doc[start + len(line):end + 1])
    entries, used = [], set()
    for name in inspect.signature(f).parameters:
        for names, text in own + _SHARED_ENTRIES:
            if name in names:
                if names[0] not in used:
                    entries.append(text)
                    used.add(names[0])
                break
    f.__doc__ = doc[:start] + "    Args:\n" + "".join(entries) + _SHARED_RETURNS + doc[end + 1:]
    return f


# ---------------------------------------------------------------------------- Dice family ----
@check.entry
@_doc
def dice_loss(input: ArrayT, target: ArrayT, *, mode: Mode = "multiclass", from_logits: bool = True,
              batch: bool = False, include_background: bool = True, smooth: float = 0.0,
              smooth_dr: float | None = None, squared_denominator: bool = False,
              weight: ArrayT | None = None, ignore_index: int | None = None, mask_absent: bool = False,
              classes: Sequence[int] | None = None, log_loss: bool = False, soft_label: bool = False,
              mean_over: MeanOver = "weights", reduction: Reduction = "mean",
              group: Group = None) -> ArrayT:
    r"""Soft Dice loss (Milletari et al. 2016; Sudre et al. 2017).

    Per class ``c`` (and per sample unless ``batch=True``), with ``p`` the probabilities and
    ``g`` the one-hot target summed over the pixels:

    .. math::
        \ell_c = 1 - \frac{2\sum p_c g_c + s_{nr}}{\sum p_c^{k} + \sum g_c^{k} + s_{dr}},
        \qquad k = 2 \text{ if squared\_denominator else } 1

    ``s_nr = smooth`` and ``s_dr = smooth_dr`` (default: ``smooth``). When the denominator is
    exactly 0 (class absent from target and prediction, no smoothing) the score is 1 and the
    loss 0. Defaults follow the paper's soft Dice without smoothing, per sample, all classes.

    Empty masks: MONAI's ``1e-5`` smoothing gives a loss close to 1 for a class that is absent
    from the target but predicted with tiny probabilities; with ``smooth=0`` the loss is 1 there
    too, and exactly 0 only when the prediction is exactly empty. ``mask_absent=True`` zeroes it.

    {shared}
        smooth: numerator smoothing ``s_nr >= 0``.
        smooth_dr: denominator smoothing (None: ``smooth``).
        squared_denominator: V-Net's ``sum p^2 + sum g^2`` denominator.
        classes: None (every class) or the channel indices of ``input`` whose losses are kept
            (segmentation_models_pytorch's ``classes``; without background channel 0 is not
            one): the loss matrix has one column per listed class, in that order.
        log_loss: ``-log(max(score, 1e-7))`` instead of ``1 - score`` (smp's ``log_loss``).
        soft_label: the overlap of soft targets as MONAI 1.4+: ``TP = (sum p + sum g -
            sum |p - g|) / 2`` (equal to ``sum p g`` for 0/1 targets, and 1 for ``p == g``
            whatever the soft target); no effect with ``squared_denominator`` (where both
            forms agree).

    References: Milletari, Navab & Ahmadi, "V-Net", 3DV 2016; Sudre et al., "Generalised Dice
    overlap as a deep learning loss function for highly unbalanced segmentations", DLMIA 2017.

    Peer twins:
        Each setting below is covered by a test.

        * MONAI ``DiceLoss(softmax=True, to_onehot_y=True)`` (``smooth_nr=smooth_dr=1e-5``,
          ``batch=False``, background included): ``smooth=1e-5``; MONAI's ``squared_pred``,
          ``batch``, ``include_background`` map to the keywords of the same meaning. MONAI's
          ``weight=w`` averages ``w * l`` over all entries: ``weight=w, mean_over="elements"``.
        * segmentation_models_pytorch ``DiceLoss(mode, smooth=0)``: ``batch=True,
          mask_absent=True`` (and ``ignore_index``, ``classes``, ``log_loss``); smp clamps the
          denominator at ``eps=1e-7``.
        * MONAI ``DiceLoss(soft_label=True)``: ``soft_label=True`` (with the settings above).
        * optax ``dice_loss(predictions, targets, smooth=s)`` (channels last, softmax/sigmoid):
          ``dice_loss(moveaxis(z, -1, 1), moveaxis(t, -1, 1), smooth=2*s)`` on a one-hot target
          (optax's numerator is ``TP + s`` and its denominator ``(sum p + sum g) / 2 + s``).

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> # per class: 1 - 2 TP / (sum p + sum g) = 1 - 3.4 / 4.4 and 1 - 2.6 / 3.6
        >>> losses.dice_loss(probs, target, from_logits=False, reduction="none")
        array([[0.2273, 0.2778]])
        >>> onehot = np.eye(2)[target].transpose(0, 3, 1, 2)  # the target as probabilities
        >>> float(losses.dice_loss(onehot, target, from_logits=False))  # a perfect prediction
        0.0
    """
    s_nr, s_dr = _smooths(smooth, smooth_dr)
    check.flag(soft_label, "soft_label")
    o = _overlap_inputs("dice_loss", input, target, weight, mode=mode, from_logits=from_logits, batch=batch,
                        include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, squared_denominator=squared_denominator, mask_absent=mask_absent,
                        mean_over=mean_over, group=group, classes=classes, log_loss=log_loss)
    return o.finish_score(_dice_score(o, s_nr, s_dr, squared_denominator, soft_label and not squared_denominator))


def _dice_score(o, s_nr, s_dr, squared, soft_label=False):
    """The per-class Dice scores of prepared arguments (1 where the denominator is 0).

    ``soft_label``: ``TP = (sum p + sum g - sum |p - g|) / 2`` (MONAI's soft-label overlap)."""
    xp = o.xp
    tp, sp, sg = o.stats(squared)
    if soft_label:
        tp = (sp + sg - _sums(xp, abs0(xp, o.p - o.g), o.batch, o.group)) / 2
    return safe_divide(xp, 2 * tp + s_nr, sp + sg + s_dr, 1.0)


@check.entry
@_doc
def masked_dice_loss(input: ArrayT, target: ArrayT, mask: ArrayT, *, mode: Mode = "multiclass",
                     from_logits: bool = True, batch: bool = False, include_background: bool = True,
                     smooth: float = 0.0, smooth_dr: float | None = None, squared_denominator: bool = False,
                     weight: ArrayT | None = None, ignore_index: int | None = None, mask_absent: bool = False,
                     mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                     group: Group = None) -> ArrayT:
    r"""Dice loss restricted to a region: :func:`dice_loss` with a per-pixel weight ``mask``.

    .. math::
        \ell_c = 1 - \frac{2\sum_i m_i p_{ic}\, m_i g_{ic} + s_{nr}}
                          {\sum_i (m_i p_{ic})^{k} + \sum_i (m_i g_{ic})^{k} + s_{dr}}

    The probabilities and the (one-hot) target are multiplied by ``mask`` pixel by pixel
    before the Dice statistics, so only the region where ``mask > 0`` contributes to the value
    and the gradient; pixels with ``mask == 0`` are removed like ignored pixels (a NaN
    prediction there is silenced). With a mask of ones it is :func:`dice_loss`.

    {shared}
        mask: non-negative pixel weights (a 0/1 region in the usual case), shape
            ``(N, 1, *spatial)`` or ``(1, 1, *spatial)`` (one mask for the whole batch);
            integer/bool masks are cast. Not differentiated in the tests (its gradient is the
            one of the product, 0 where ``mask == 0``).
        smooth, smooth_dr, squared_denominator: as :func:`dice_loss`.

    References: MONAI ``monai.losses.MaskedDiceLoss`` (Cardoso et al., "MONAI: an open-source
    framework for deep learning in healthcare", 2022); Dice as :func:`dice_loss`.

    Peer twins:
        MONAI ``MaskedDiceLoss(softmax=True)(input, onehot, mask)`` (``smooth_nr=smooth_dr=1e-5``) =
        ``masked_dice_loss(input, onehot, mask, smooth=1e-5)`` on a one-hot target; MONAI's other
        Dice keywords map as for :func:`dice_loss`. With class indices and ``to_onehot_y=True``
        MONAI multiplies the *indices* by the mask before the one-hot, so masked-out pixels become
        background pixels of the target (docs/differences.md); ours removes them from every class.
        (Covered by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> ones = np.ones((1, 1, 2, 2))
        >>> bool(np.isclose(losses.masked_dice_loss(probs, target, ones, from_logits=False),
        ...                 losses.dice_loss(probs, target, from_logits=False)))  # no region: dice_loss
        True
        >>> diagonal = np.array([[[[1, 0], [0, 1]]]])  # only the two class-0 pixels
        >>> losses.masked_dice_loss(probs, target, diagonal, from_logits=False, reduction="none")
        array([[0.0811, 1.    ]])
    """
    s_nr, s_dr = _smooths(smooth, smooth_dr)
    if mask is None:
        raise TypeError("masked_dice_loss: mask must be an array, got None (use dice_loss without a mask)")
    o = _overlap_inputs("masked_dice_loss", input, target, weight, mode=mode, from_logits=from_logits,
                        batch=batch, include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, squared_denominator=squared_denominator, mask_absent=mask_absent,
                        mean_over=mean_over, group=group, mask=mask)
    return o.finish_score(_dice_score(o, s_nr, s_dr, squared_denominator))


@check.entry
@_doc
def jaccard_loss(input: ArrayT, target: ArrayT, *, mode: Mode = "multiclass", from_logits: bool = True,
                 batch: bool = False, include_background: bool = True, smooth: float = 0.0,
                 smooth_dr: float | None = None, weight: ArrayT | None = None,
                 ignore_index: int | None = None, mask_absent: bool = False,
                 classes: Sequence[int] | None = None, log_loss: bool = False,
                 mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                 group: Group = None) -> ArrayT:
    r"""Soft Jaccard (IoU) loss.

    .. math::
        \ell_c = 1 - \frac{\sum p_c g_c + s_{nr}}{\sum p_c + \sum g_c - \sum p_c g_c + s_{dr}}

    Score 1 (loss 0) where the denominator is exactly 0 (empty class).

    {shared}
        smooth, smooth_dr: numerator / denominator smoothing (``smooth_dr=None``: ``smooth``).
        classes, log_loss: as :func:`dice_loss` (smp's ``classes``, ``log_loss``).

    References: Rahman & Wang, "Optimizing intersection-over-union in deep neural networks for
    image segmentation", ISVC 2016.

    Peer twins:
        Each setting below is covered by a test.

        * segmentation_models_pytorch ``JaccardLoss(mode, smooth=0)``: ``batch=True,
          mask_absent=True`` (and ``classes``, ``log_loss``).
        * MONAI ``DiceLoss(jaccard=True, smooth_nr=s, smooth_dr=s)``: ``smooth=s/2``
          (MONAI computes ``(2 TP + s) / (2 (sum p + sum g - TP) + s)``).

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> # per class: 1 - TP / (sum p + sum g - TP) = 1 - 1.7 / 2.7 and 1 - 1.3 / 2.3
        >>> losses.jaccard_loss(probs, target, from_logits=False, reduction="none")
        array([[0.3704, 0.4348]])
    """
    s_nr, s_dr = _smooths(smooth, smooth_dr)
    o = _overlap_inputs("jaccard_loss", input, target, weight, mode=mode, from_logits=from_logits,
                        batch=batch, include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, mask_absent=mask_absent, mean_over=mean_over, group=group,
                        classes=classes, log_loss=log_loss)
    tp, sp, sg = o.stats()
    return o.finish_score(safe_divide(o.xp, tp + s_nr, sp + sg - tp + s_dr, 1.0))


def _tversky_args(alpha_fp, beta_fn, smooth):
    """Checks ``alpha_fp, beta_fn, smooth``: finite and >= 0; returns them as floats."""
    check.finite_number(alpha_fp, "alpha_fp", low=0)
    check.finite_number(beta_fn, "beta_fn", low=0)
    check.finite_number(smooth, "smooth", low=0)
    return float(alpha_fp), float(beta_fn), float(smooth)


def _tversky_index(o, alpha_fp, beta_fn, smooth):
    """``(TP + s) / (TP + alpha_fp FP + beta_fn FN + s)`` per class; 1 where the denominator is 0."""
    tp, sp, sg = o.stats()
    fp, fn = sp - tp, sg - tp
    return safe_divide(o.xp, tp + smooth, tp + alpha_fp * fp + beta_fn * fn + smooth, 1.0)


@check.entry
@_doc
def tversky_loss(input: ArrayT, target: ArrayT, *, alpha_fp: float = 0.3, beta_fn: float = 0.7,
                 mode: Mode = "multiclass", from_logits: bool = True, batch: bool = False,
                 include_background: bool = True, smooth: float = 0.0, weight: ArrayT | None = None,
                 ignore_index: int | None = None, mask_absent: bool = False,
                 classes: Sequence[int] | None = None, log_loss: bool = False,
                 mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                 group: Group = None) -> ArrayT:
    r"""Tversky loss (Salehi, Erdogmus & Gholipour 2017).

    .. math::
        \ell_c = 1 - \frac{TP_c + s}{TP_c + \alpha_{fp}\,FP_c + \beta_{fn}\,FN_c + s},\quad
        TP_c = \textstyle\sum p_c g_c,\ FP_c = \sum p_c (1 - g_c),\ FN_c = \sum (1 - p_c) g_c

    The weights are named by what they weigh: ``alpha_fp`` multiplies the false positives,
    ``beta_fn`` the false negatives. ``alpha_fp = beta_fn = 0.5`` is the Dice loss and
    ``alpha_fp = beta_fn = 1`` the Jaccard loss (with the smoothing of this formula). Defaults
    are the paper's best setting (0.3, 0.7). Score 1 where the denominator is exactly 0.

    {shared}
        alpha_fp: weight of false positives (>= 0).
        beta_fn: weight of false negatives (>= 0).
        smooth: ``s >= 0`` added to numerator and denominator.
        classes, log_loss: as :func:`dice_loss` (smp's ``classes``, ``log_loss``).

    References: Salehi et al., "Tversky loss function for image segmentation using 3D fully
    convolutional deep networks", MLMI 2017.

    Peer twins:
        Each setting below is covered by a test.

        * optax ``dice_loss(predictions, targets, alpha=a, beta=b, smooth=s)`` (channels last,
          per sample, mean over classes): ``alpha_fp=a, beta_fn=b, smooth=s`` on
          ``moveaxis(..., -1, 1)`` inputs and a one-hot target.
        * segmentation_models_pytorch ``TverskyLoss(alpha=a, beta=b)`` (alpha on false
          positives there too): ``alpha_fp=a, beta_fn=b, batch=True, mask_absent=True`` (and
          ``classes``, ``log_loss``; smp's ``gamma`` raises the mean loss to a power, not
          reproduced).
        * Keras 3 ``keras.losses.Tversky(alpha=a, beta=b)`` (checked against the released 3.x
          source): its docstring says ``alpha`` weighs the false positives, but the code
          multiplies the false negatives ``sum(y_true * (1 - y_pred))`` by ``alpha`` and the false
          positives by ``beta``, pools every element of the batch and adds ``1e-7`` to the
          denominator only: ``alpha_fp=b, beta_fn=a, batch=True`` on probabilities
          (``from_logits=False``, ``mode="binary"``/``"multilabel"``), equal up to that ``1e-7``.
          Map by what each weight multiplies, not by its name.

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> bool(np.isclose(losses.tversky_loss(probs, target, alpha_fp=0.5, beta_fn=0.5, from_logits=False),
        ...                 losses.dice_loss(probs, target, from_logits=False)))  # alpha = beta = 1/2: Dice
        True
        >>> round(float(losses.tversky_loss(probs, target, from_logits=False)), 4)
        0.2533
    """
    a_fp, b_fn, s = _tversky_args(alpha_fp, beta_fn, smooth)
    o = _overlap_inputs("tversky_loss", input, target, weight, mode=mode, from_logits=from_logits,
                        batch=batch, include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, mask_absent=mask_absent, mean_over=mean_over, group=group,
                        classes=classes, log_loss=log_loss)
    return o.finish_score(_tversky_index(o, a_fp, b_fn, s))


@check.entry
@_doc
def focal_tversky_loss(input: ArrayT, target: ArrayT, *, gamma: float = 0.75, alpha_fp: float = 0.3,
                       beta_fn: float = 0.7, mode: Mode = "multiclass", from_logits: bool = True,
                       batch: bool = False, include_background: bool = True, smooth: float = 0.0,
                       weight: ArrayT | None = None, ignore_index: int | None = None,
                       mask_absent: bool = False, mean_over: MeanOver = "weights",
                       reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Focal Tversky loss (Abraham & Khan 2019): the Tversky loss of each class to a power.

    .. math:: \ell_c = (1 - TI_c)^{\gamma}

    with :math:`TI_c` the Tversky index of :func:`tversky_loss`. The paper writes the exponent
    as :math:`1/\gamma'` with :math:`\gamma' = 4/3`: our ``gamma`` is that reciprocal, default
    0.75. The paper weighs false negatives with 0.7 and false positives with 0.3 (the
    defaults). At a perfect match (``TI = 1``) the loss is 0 with a zero gradient (the power's
    derivative is infinite there for ``gamma < 1``); the paper sums over classes, the
    ``"mean"`` here averages (``reduction="sum"`` with ``batch=True`` gives the paper's sum).

    {shared}
        gamma: finite exponent > 0 (``gamma=1`` is the Tversky loss).
        alpha_fp, beta_fn: as :func:`tversky_loss`.
        smooth: as :func:`tversky_loss`.

    References: Abraham & Khan, "A novel focal Tversky loss function with improved attention
    U-Net for lesion segmentation", ISBI 2019.

    Peer twins:
        None in torch/optax/MONAI; smp has no focal Tversky. Keras-style code that computes ``(1 -
        TI) ** (1 / gamma_paper)``: ``gamma = 1 / gamma_paper``.

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> bool(np.isclose(losses.focal_tversky_loss(probs, target, gamma=1.0, from_logits=False),
        ...                 losses.tversky_loss(probs, target, from_logits=False)))  # gamma = 1: Tversky
        True
        >>> round(float(losses.focal_tversky_loss(probs, target, from_logits=False)), 4)
        0.3555
    """
    check.finite_number(gamma, "gamma", low=0, low_open=True)
    a_fp, b_fn, s = _tversky_args(alpha_fp, beta_fn, smooth)
    o = _overlap_inputs("focal_tversky_loss", input, target, weight, mode=mode, from_logits=from_logits,
                        batch=batch, include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, mask_absent=mask_absent, mean_over=mean_over, group=group)
    d = relu0(o.xp, 1 - _tversky_index(o, a_fp, b_fn, s))
    return o.finish(d if gamma == 1 else pow0(o.xp, d, float(gamma)))


@check.entry
@group_doc
def generalized_dice_loss(input: ArrayT, target: ArrayT, *, mode: Mode = "multiclass",
                          from_logits: bool = True, batch: bool = False, include_background: bool = True,
                          weight_type: WeightType = "square", smooth: float = 0.0,
                          smooth_dr: float | None = None, ignore_index: int | None = None,
                          reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Generalised Dice loss (Sudre et al. 2017), class weights from the target volumes.

    .. math::
        \ell = 1 - \frac{2\sum_c w_c \sum_i p_{ic} g_{ic} + s_{nr}}
                        {\sum_c w_c \sum_i (p_{ic} + g_{ic}) + s_{dr}},\qquad
        w_c = 1 / \big(\textstyle\sum_i g_{ic}\big)^2

    per sample (``batch=False``, shape ``(N,)`` before the reduction) or over the batch
    (``batch=True``, a 0-d loss). ``weight_type``: ``"square"`` (Sudre, ``1/V^2``), ``"simple"``
    (``1/V``), ``"uniform"`` (1). A class absent from the target (``V = 0``) would get an
    infinite weight: it gets the largest weight of the present classes instead (as MONAI and
    NiftyNet), and all weights are 0 when no class is present (then the loss is 0 with
    ``smooth=0``: score 1 for an empty denominator). Values and gradients stay finite.

    Args:
        input, target, mode, from_logits, batch, include_background: as :func:`dice_loss`.
        weight_type: ``"square"`` | ``"simple"`` | ``"uniform"``.
        smooth, smooth_dr: numerator / denominator smoothing (``smooth_dr=None``: ``smooth``).
        ignore_index: as :func:`dice_loss`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the per-sample losses.
    {group}
            With ``batch=True`` the class volumes and overlaps are those of the whole group's
            batch.

    Returns:
        A 0-d array, or ``(N,)`` per-sample losses for ``reduction="none"`` (``batch=False``).

    Raises:
        ValueError / TypeError: as :func:`dice_loss`, and a bad ``weight_type``.

    References: Sudre et al., "Generalised Dice overlap as a deep learning loss function for
    highly unbalanced segmentations", DLMIA 2017.

    Peer twins:
        MONAI ``GeneralizedDiceLoss(softmax=True, to_onehot_y=True)`` = ``smooth=1e-5`` (MONAI's
        ``w_type``, ``batch``, ``include_background`` map to the keywords of the same meaning).
        optax's ``multiclass_generalized_dice_loss`` is a different formula (normalised weights
        ``1/(V^2 + 1e-7)`` applied to per-class Dice losses): not reproduced, see
        docs/differences.md. (Covered by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> round(float(losses.generalized_dice_loss(probs, target, from_logits=False)), 4)
        0.25
        >>> onehot = np.eye(2)[target].transpose(0, 3, 1, 2)  # the target as probabilities
        >>> float(losses.generalized_dice_loss(onehot, target, from_logits=False))  # a perfect prediction
        0.0
    """
    check.choice(weight_type, "weight_type", _WEIGHT_TYPES)
    s_nr, s_dr = _smooths(smooth, smooth_dr)
    o = _overlap_inputs("generalized_dice_loss", input, target, None, mode=mode, from_logits=from_logits,
                        batch=batch, include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, group=group)
    xp = o.xp
    tp, sp, sg = o.stats()
    absent = sg <= 0  # (a NaN volume is not absent: its NaN weight goes through)
    if weight_type == "uniform":
        w = xp.ones_like(sg)
    else:
        safe = xp.where(absent, xp.ones_like(sg), sg)
        w = 1 / (safe * safe) if weight_type == "square" else 1 / safe
        w = xp.where(absent, xp.zeros_like(w), w)
        w_max = xp.max(w, axis=-1, keepdims=True)
        w = xp.where(absent, w_max * xp.ones_like(w), w)
    num = 2 * xp.sum(w * tp, axis=-1) + s_nr
    den = xp.sum(w * (sp + sg), axis=-1) + s_dr
    return o.finish(1 - safe_divide(xp, num, den, 1.0))  # no class weights, no mask_absent


@check.entry
@_doc
def mcc_loss(input: ArrayT, target: ArrayT, *, mode: Mode = "multiclass", from_logits: bool = True,
             batch: bool = False, include_background: bool = True, eps: float = 1e-5,
             weight: ArrayT | None = None, ignore_index: int | None = None,
             mean_over: MeanOver = "weights", reduction: Reduction = "mean",
             group: Group = None) -> ArrayT:
    r"""Matthews correlation coefficient loss (Abhishek & Hamarneh 2021) on the soft confusion matrix.

    Per class ``c`` (and per sample unless ``batch=True``), with ``TP = \sum p g + \epsilon``,
    ``FP = \sum p (1 - g) + \epsilon``, ``FN = \sum (1 - p) g + \epsilon`` and
    ``TN = \sum (1 - p)(1 - g) + \epsilon`` over the kept pixels:

    .. math::
        \ell_c = 1 - \frac{TP\,TN - FP\,FN}
                          {\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}

    ``eps`` (segmentation_models_pytorch's ``1e-5``) keeps the denominator positive when every
    pixel belongs to one class. A perfect prediction (``\sum p (1-g) = \sum (1-p) g = 0``
    exactly, e.g. a class absent from both target and prediction) has loss 0 with a zero
    gradient, for any ``eps``; with ``eps=0`` a zero denominator otherwise gives an MCC of 0
    (loss 1), with finite gradients. The loss lies in [0, 2].

    {shared}
        eps: finite ``>= 0``, added to each of the four confusion entries.

    References: Abhishek & Hamarneh, "Matthews correlation coefficient loss for deep
    convolutional networks: application to skin lesion segmentation", ISBI 2021.

    Peer twins:
        Each setting below is covered by a test.

        * segmentation_models_pytorch ``MCCLoss(eps=1e-5)(y_pred, y_true)`` (binary
          probabilities, one MCC over the whole batch): ``mode="binary", from_logits=False,
          batch=True``. smp has no perfect-prediction rule: there it gives ``1 - MCC_eps``
          (about 0.5 for an image without foreground predicted empty; docs/differences.md).
        * MONAI ``MCCLoss(sigmoid=True | softmax=True, smooth_nr=0, smooth_dr=d)`` (``d`` added
          under the square root, perfect predictions 0): ``eps=0`` with ``mode`` and the
          ``batch``/``include_background`` keywords of the same meaning; equal up to ``d`` under
          the root (exactly equal for ``smooth_dr=0``).

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> round(float(losses.mcc_loss(probs, target, from_logits=False)), 4)
        0.4897
        >>> onehot = np.eye(2)[target].transpose(0, 3, 1, 2)  # the target as probabilities
        >>> float(losses.mcc_loss(onehot, target, from_logits=False))  # a perfect prediction
        0.0
    """
    check.finite_number(eps, "eps", low=0)
    e = float(eps)
    o = _overlap_inputs("mcc_loss", input, target, weight, mode=mode, from_logits=from_logits, batch=batch,
                        include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, mean_over=mean_over, group=group)
    xp, p, g = o.xp, o.p, o.g
    pg = p * g
    tp = _sums(xp, pg, o.batch, o.group)
    fp = _sums(xp, p - pg, o.batch, o.group)  # p - p g >= 0 exactly: a perfect match is exact
    fn = _sums(xp, g - pg, o.batch, o.group)
    neg = (1 - p) * (1 - g)
    tn = _sums(xp, neg if o.region is None else neg * o.region, o.batch, o.group)
    perfect = (fp <= 0) & (fn <= 0)  # (before eps: exact)
    tp, fp, fn, tn = tp + e, fp + e, fn + e, tn + e
    a, b = (tp + fp) * (tn + fn), (tp + fn) * (tn + fp)  # two factors: no overflow of the product
    bad = (a <= 0) | (b <= 0)  # (NaN is not bad: it goes through)
    one = xp.ones_like(a)
    den = xp.sqrt(xp.where(bad, one, a)) * xp.sqrt(xp.where(bad, one, b))
    mcc = xp.where(bad, xp.zeros_like(a), (tp * tn - fp * fn) / den)
    return o.finish(1 - xp.where(perfect, one, mcc))


#: ``weighting_mode=`` of :func:`generalized_wasserstein_dice_loss`.
WassersteinWeighting = Literal["default", "GDL"]


@check.entry
@group_doc
def generalized_wasserstein_dice_loss(input: ArrayT, target: ArrayT, *, dist_matrix: ArrayT | None = None,
                                      weighting_mode: WassersteinWeighting = "default", from_logits: bool = True,
                                      batch: bool = False, smooth: float = 0.0, smooth_dr: float | None = None,
                                      ignore_index: int | None = None, reduction: Reduction = "mean",
                                      group: Group = None) -> ArrayT:
    r"""Generalised Wasserstein Dice loss (Fidon et al. 2017): Dice with a distance between classes.

    With ``M`` the class distance matrix (scaled so that its largest entry is 1), the
    Wasserstein distance of pixel ``i`` between the softmax probabilities and the label is
    ``W_i = \sum_k g_{ik} \sum_c M_{kc}\, p_{ic}`` (``(M p_i)_{y_i}`` for a one-hot target), and
    per sample (or over the batch with ``batch=True``)

    .. math::
        TP = \sum_i \alpha_{y_i} (1 - W_i),\qquad
        \ell = 1 - \frac{2\,TP + s_{nr}}{D + s_{dr}},\qquad
        D = \begin{cases} 2\,TP + \sum_i W_i & \texttt{"default"} \\
                          \sum_i \alpha_{y_i} (2 - W_i) & \texttt{"GDL"} \end{cases}

    ``weighting_mode="default"`` (the paper): ``alpha = 0`` for the background class 0 and 1
    for the others; ``"GDL"``: ``alpha_c = 1 / (V_c + 1)`` with ``V_c`` the volume of class
    ``c`` in the sample (in the pooled batch with ``batch=True``), used in the denominator too.
    Score 1 (loss 0) where the denominator is exactly 0.

    Args:
        input: logits (``from_logits=True``) or probabilities, ``(N, C, *spatial)``, softmax
            over axis 1.
        target: class indices ``(N, *spatial)`` (integer dtype) or a one-hot/probability
            target of ``input``'s shape (``W`` is then the expected distance).
        dist_matrix: ``(C, C)`` non-negative distances between classes (``M[k, c]``: the cost
            of predicting ``c`` for true class ``k``, 0 on the diagonal); None: ``1 - I``
            (every mistake costs 1). Divided by its largest entry (as MONAI; an all-zero
            matrix stays 0).
        weighting_mode: ``"default"`` | ``"GDL"`` (see above).
        from_logits, batch: as :func:`dice_loss`.
        smooth, smooth_dr: numerator / denominator smoothing (``smooth_dr=None``: ``smooth``).
        ignore_index: as :func:`dice_loss` (ignored pixels have ``W = 0`` and weight 0).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the ``(N,)`` per-sample losses
            (a 0-d loss with ``batch=True``).
    {group}
            With ``batch=True`` the sums (and the ``"GDL"`` volumes) are those of the whole
            group's batch.

    Returns:
        A 0-d array, or the ``(N,)`` per-sample losses for ``reduction="none"``.

    Raises:
        ValueError: ``dist_matrix`` not ``(C, C)``, bad ``weighting_mode``; eagerly, negative
            distances, and as :func:`dice_loss`.
        TypeError: as :func:`dice_loss`; complex or non-array ``dist_matrix``.

    References: Fidon et al., "Generalised Wasserstein Dice score for imbalanced multi-class
    segmentation using holistic convolutional networks", BrainLes 2017.

    Peer twins:
        MONAI ``GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode=w)``
        (``smooth_nr=smooth_dr=1e-5``, logits in) = ``dist_matrix=M, weighting_mode=w,
        smooth=1e-5``. (Covered by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> round(float(losses.generalized_wasserstein_dice_loss(probs, target, from_logits=False)), 4)
        0.2778
        >>> onehot = np.eye(2)[target].transpose(0, 3, 1, 2)  # the target as probabilities
        >>> float(losses.generalized_wasserstein_dice_loss(onehot, target, from_logits=False))  # perfect
        0.0
    """
    fn = "generalized_wasserstein_dice_loss"
    check.choice(weighting_mode, "weighting_mode", get_args(WassersteinWeighting))
    s_nr, s_dr = _smooths(smooth, smooth_dr)
    xp = namespace(input=input, target=target, dist_matrix=dist_matrix)
    _check_array(xp, dist_matrix, "dist_matrix", fn)
    if dist_matrix is not None:
        check.floating(xp, input, "input")
        c = _check_channels(input, "multiclass", fn)
        if tuple(dist_matrix.shape) != (c, c):
            raise ValueError(f"{fn}: dist_matrix must have shape ({c}, {c}) (one distance per pair of "
                             f"classes), got {tuple(dist_matrix.shape)}")
        check.nonnegative(xp, dist_matrix, "dist_matrix")
    o = _overlap_inputs(fn, input, target, None, mode="multiclass", from_logits=from_logits, batch=batch,
                        include_background=True, ignore_index=ignore_index, reduction=reduction, group=group)
    xp, p, g = o.xp, o.p, o.g
    c = p.shape[1]
    if dist_matrix is None:
        grid = arange_like(xp, p, c)
        m = cast(xp, xp.reshape(grid, (c, 1)) != xp.reshape(grid, (1, c)), p.dtype)
    else:
        m = cast(xp, dist_matrix, p.dtype)
        m = safe_divide(xp, m, xp.max(m), 0.0)
    w_map = xp.sum(g * xp.matmul(m, p), axis=1, keepdims=True)  # (N, 1, S): sum_k g_k (M p)_k
    if weighting_mode == "default":
        alpha = cast(xp, arange_like(xp, p, c) > 0, p.dtype)
    else:  # 1 / (V + 1) per sample (or pooled)
        alpha = 1 / (_sums(xp, g, batch, o.group) + 1)
    alpha = xp.expand_dims(alpha, axis=-1)  # (C, 1) or (N, C, 1)
    a_map = xp.sum(alpha * g, axis=1, keepdims=True)  # alpha of each pixel's label
    tp = _sums(xp, a_map * (1 - w_map), batch, o.group)[..., 0]
    if weighting_mode == "default":
        den = 2 * tp + _sums(xp, w_map, batch, o.group)[..., 0]
    else:
        den = _sums(xp, a_map * (2 - w_map), batch, o.group)[..., 0]
    loss = 1 - safe_divide(xp, 2 * tp + s_nr, den + s_dr, 1.0)
    return o.finish(loss)


# -------------------------------------------------------------------------------- Lovasz ----
def _lovasz_dot(xp, errors, fg):
    """``sum_k errors_sorted[k] * grad_k`` along the last axis (Berman et al. 2018, Alg. 1).

    ``errors`` is sorted in decreasing order (stable, so ties keep their input order on every
    backend); the gradient flows through the sorted errors, ``fg`` (0/1) is a constant.
    """
    if math.prod(errors.shape) == 0:  # no pixel or no group: nothing to sort (an empty sum)
        return xp.sum(errors * xp.stop_gradient(fg), axis=-1)
    order = xp.argsort(-errors, axis=-1, stable=True)
    e = xp.take_along_last(errors, order)
    f = xp.take_along_last(fg, order)
    gts = xp.sum(f, axis=-1, keepdims=True)
    inter = gts - xp.cumulative_sum(f, axis=-1)
    union = gts + xp.cumulative_sum(1 - f, axis=-1)  # >= 1 at every position
    jac = 1 - inter / union
    grad = xp.concat([jac[..., :1], jac[..., 1:] - jac[..., :-1]], axis=-1)
    return xp.sum(e * xp.stop_gradient(grad), axis=-1)


def _check_classes(classes, c):
    if isinstance(classes, str):
        check.choice(classes, "classes", ("present", "all"))
        return classes
    try:
        items = list(classes)
    except TypeError:
        raise TypeError(f"classes must be 'present', 'all' or a sequence of class indices, got {classes!r}") from None
    if not items or any(isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < c for k in items):
        raise ValueError(f"classes must be 'present', 'all' or a non-empty sequence of class indices in [0, {c - 1}], got {classes!r}")
    return sorted(set(items))


@check.entry
@group_doc
def lovasz_softmax_loss(input: ArrayT, target: ArrayT, *, from_logits: bool = True,
                        classes: Classes = "present", per_image: bool = False,
                        ignore_index: int | None = None, reduction: Reduction = "mean",
                        group: Group = None) -> ArrayT:
    r"""Lovasz-softmax loss (Berman, Rannen Triki & Blaschko 2018).

    For each class ``c`` the pixel errors ``e_i = |[y_i = c] - p_{ic}|`` are sorted in
    decreasing order and dotted with the gradient of the Lovasz extension of the Jaccard loss
    at the sorted ground truth:

    .. math::
        \ell_c = \sum_k e_{(k)}\,\big(J_k - J_{k-1}\big),\qquad
        J_k = 1 - \frac{G - \sum_{j\le k} g_{(j)}}{G + \sum_{j\le k} (1 - g_{(j)})}

    The loss of an image (or of the whole batch with ``per_image=False``) is the mean of
    ``\ell_c`` over the selected classes: ``classes="present"`` (classes present in the target,
    a mask-weighted mean; 0 when none is), ``"all"`` or a list of class indices. Sorting uses
    ``argsort`` + the ``take_along_last`` gather primitive; the gradient flows through the
    sorted errors (ties are ordered stably, so every backend picks the same subgradient).

    Args:
        input: logits (``from_logits=True``) or probabilities, ``(N, C, *spatial)``, softmax
            over axis 1.
        target: class indices ``(N, *spatial)`` (integer dtype).
        from_logits: apply the softmax (the reference code takes probabilities:
            ``from_logits=False``).
        classes: ``"present"`` | ``"all"`` | sequence of class indices.
        per_image: compute the loss per image and reduce over images (else one loss over all
            pixels of the batch, as the paper's default).
        ignore_index: target value whose pixels are removed.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the ``(N,)`` per-image losses
            (``per_image=True``); with ``per_image=False`` the result is the single 0-d loss.
    {group}
            With ``per_image=False`` the pixels of the whole group's batch are gathered
            (``O(global batch x pixels)`` per member) and sorted together.

    Returns:
        A 0-d array, or the ``(N,)`` per-image losses for ``per_image=True,
        reduction="none"``. An empty batch (``N = 0``) has no image and, with
        ``per_image=False``, no pooled group either: ``"mean"`` is NaN, ``"sum"`` 0 and
        ``"none"`` an empty ``(0,)`` array (the reference returns an empty tensor there too).

    Raises:
        ValueError: shapes, class indices out of range (eager), bad ``classes``.
        TypeError: non-integer or complex target, non-floating ``input``, a non-bool
            ``per_image``.

    References: Berman et al., "The Lovasz-Softmax loss: a tractable surrogate for the
    optimization of the intersection-over-union measure in neural networks", CVPR 2018.

    Peer twins:
        The reference implementation ``lovasz_softmax(probas, labels, classes, per_image, ignore)``
        = ``from_logits=False`` with the same ``classes``/``per_image``/``ignore_index``. (Covered
        by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> round(float(losses.lovasz_softmax_loss(probs, target, from_logits=False)), 4)
        0.3042
        >>> onehot = np.eye(2)[target].transpose(0, 3, 1, 2)  # the target as probabilities
        >>> float(losses.lovasz_softmax_loss(onehot, target, from_logits=False))  # a perfect prediction
        0.0
    """
    check.reduction(reduction)
    check.flag(per_image, "per_image")
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.floating(xp, input, "input")
    c = _check_channels(input, "multiclass", "lovasz_softmax_loss")
    sel = _check_classes(classes, c)
    p, g, _, out_dtype, _ = _seg_prepare(xp, input, target, None, mode="multiclass", from_logits=from_logits,
                                         include_background=True, ignore_index=ignore_index,
                                         fn="lovasz_softmax_loss")
    n = input.shape[0]
    pooled = not per_image and n > 0  # one group of all pixels; none in an empty batch
    if pooled:  # the pixels of the whole group's batch, sorted together
        p, g = gathered(xp, p, group), gathered(xp, g, group)
        p = xp.reshape(xp.permute_dims(p, (1, 0, 2)), (1, c, p.shape[0] * p.shape[2]))
        g = xp.reshape(xp.permute_dims(g, (1, 0, 2)), (1, c, g.shape[0] * g.shape[2]))
    # (an empty batch keeps its (0, C, S) arrays: no group)
    # removed (ignored) pixels have p = g = 0: error 0, background, sorted last, no contribution
    e = abs0(xp, g - p)
    per_class = _lovasz_dot(xp, e, g)  # (G, C)
    if sel == "present":
        cw = cast(xp, xp.sum(g, axis=-1) > 0, per_class.dtype)
        loss = safe_divide(xp, xp.sum(cw * per_class, axis=-1), xp.sum(cw, axis=-1), fill=0.0)
    elif sel == "all":
        loss = xp.mean(per_class, axis=-1)
    else:
        loss = per_class[:, sel[0]]
        for k in sel[1:]:
            loss = loss + per_class[:, k]
        loss = loss / len(sel)
    if pooled:
        loss = xp.reshape(loss, ())
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=None if pooled else group)


@check.entry
@group_doc
def lovasz_hinge_loss(input: ArrayT, target: ArrayT, *, per_image: bool = True,
                      ignore_index: int | None = None, reduction: Reduction = "mean",
                      group: Group = None) -> ArrayT:
    r"""Binary Lovasz hinge loss (Berman, Rannen Triki & Blaschko 2018).

    With signs ``s_i = 2 y_i - 1`` and hinge errors ``e_i = 1 - z_i s_i`` sorted in decreasing
    order:

    .. math:: \ell = \sum_k \operatorname{relu0}(e_{(k)})\,\big(J_k - J_{k-1}\big)

    (``J`` as in :func:`lovasz_softmax_loss` for the foreground class). ``relu0`` has gradient
    0 at 0 (as ``torch.nn.functional.relu`` in the reference code).

    Args:
        input: logits of shape ``(N, *spatial)`` (one foreground score per pixel).
        target: binary labels of the same shape (integer, bool or floating 0/1).
        per_image: loss per image, reduced over images (the reference's default), else one
            loss over all pixels of the batch (a 0-d result).
        ignore_index: label value whose pixels are removed.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the ``(N,)`` per-image losses.
    {group}
            With ``per_image=False`` the pixels of the whole group's batch are gathered
            (``O(global batch x pixels)`` per member) and sorted together.

    Returns:
        A 0-d array, or the ``(N,)`` per-image losses for ``reduction="none"``
        (``per_image=True``). An empty batch has no image (and no pooled group with
        ``per_image=False``): ``"mean"`` NaN, ``"sum"`` 0, ``"none"`` an empty ``(0,)`` array.
        A NaN logit or label makes the loss of its image NaN.

    Raises:
        ValueError: shapes differ, input with fewer than 1 dimension; eagerly, labels other
            than 0/1 (or ``ignore_index``), NaN labels.
        TypeError: non-floating ``input``, complex or non-array ``target``, non-bool
            ``per_image``.

    References: Berman et al., CVPR 2018.

    Peer twins:
        The reference ``lovasz_hinge(logits, labels, per_image, ignore)`` with the same keywords.
        (Covered by a test.)

    Example:
        >>> z = np.array([[[2.0, -1.0], [0.5, -3.0]]])  # logits (N, H, W)
        >>> y = np.array([[[1, 0], [1, 0]]])
        >>> # hinge errors 1 - z (2y - 1) = -1, 0, 0.5, -2: only the third pixel is inside the margin
        >>> round(float(losses.lovasz_hinge_loss(z, y)), 4)
        0.25
        >>> float(losses.lovasz_hinge_loss(3 * (2 * y - 1.0), y))  # every pixel beyond the margin
        0.0
    """
    check.reduction(reduction)
    check.flag(per_image, "per_image")
    _check_ignore(ignore_index)
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.floating(xp, input, "input")
    _check_array(xp, target, "target", "lovasz_hinge_loss")
    check.ndim_at_least(input, 1, "input")
    check.same_shape(input, target, "input", "target")
    keep = None
    tt = target
    if ignore_index is not None:
        keep = target != ignore_index
        tt = xp.where(keep, target, xp.zeros_like(target))
    check.values_in(xp, tt, "target", 0, 1, what="binary labels")
    _, out_dtype, (z, y) = float_args(xp, input, tt, names=("input", "target"))
    n, pixels = z.shape[0], math.prod(z.shape[1:])
    z = xp.reshape(z, (n, pixels))
    y = xp.reshape(y, (n, pixels))
    e = 1 - z * (2 * y - 1)
    if keep is not None:
        k = xp.reshape(keep, (n, pixels))
        e = xp.where(k, e, xp.full_like(e, -1.0))  # after every positive error; relu0 -> 0
    pooled = not per_image and n > 0  # one group of all pixels (none in an empty batch)
    if pooled:  # the pixels of the whole group's batch, sorted together
        e, y = gathered(xp, e, group), gathered(xp, y, group)
        e, y = xp.reshape(e, (1, -1)), xp.reshape(y, (1, -1))
    loss = _lovasz_dot(xp, relu0(xp, e), y)
    if pooled:
        loss = xp.reshape(loss, ())
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=None if pooled else group)


# ------------------------------------------------------------------------------ boundary ----
@check.entry
@group_doc
def boundary_loss(input: ArrayT, distance_maps: ArrayT, *, from_logits: bool = False,
                  mode: Mode = "multiclass", include_background: bool = False,
                  reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Boundary loss (Kervadec et al. 2019): probabilities weighted by signed distances.

    .. math:: \ell = \frac{1}{|\Omega|\,C'} \sum_{c}\sum_{q \in \Omega} \phi_c(q)\, p_c(q)

    with ``phi_c`` the signed distance map of class ``c``'s ground truth (negative inside,
    positive outside; see :func:`signed_distance_map`, computed outside the differentiable
    path). The loss is linear in the probabilities; it is usually combined with a regional
    loss (``dice_loss``) whose weight decreases during training.

    Args:
        input: probabilities (default, as the reference) or logits with ``from_logits=True``,
            shape ``(N, C, *spatial)``.
        distance_maps: signed distance maps of the same shape (floating; integer maps are
            cast).
        from_logits: apply softmax (``mode="multiclass"``) or sigmoid first.
        mode: ``"multiclass"`` | ``"multilabel"`` | ``"binary"`` (which activation).
        include_background: include channel 0 (default False: the reference applies the loss
            to the foreground classes, ``idc=[1]`` for a two-class problem).
        reduction: ``"mean"`` (the reference's mean over pixels and classes) | ``"sum"`` |
            ``"none"`` (the element-wise products, shape ``(N, C', *spatial)``).
    {group}

    Returns:
        A 0-d array, or the ``(N, C', *spatial)`` products for ``reduction="none"``. A NaN
        in either argument makes the products that read it NaN; an empty batch gives NaN for
        ``"mean"``, 0 for ``"sum"``, an empty array for ``"none"``.

    Raises:
        ValueError: shapes differ, ``mode="binary"`` with ``C != 1``; eagerly, probabilities
            outside [0, 1] or NaN (``from_logits=False``).
        TypeError: non-floating ``input``, complex or non-array ``distance_maps``, non-bool
            flags.

    References: Kervadec et al., "Boundary loss for highly unbalanced segmentation", MIDL 2019.

    Peer twins:
        The reference ``SurfaceLoss(idc=[1, ..., C-1])`` = ``include_background=False`` on softmax
        probabilities; ``idc=[0, ..., C-1]`` = ``include_background=True``. (Covered by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> phi = losses.signed_distance_map(target, num_classes=2)  # (N, C, H, W)
        >>> round(float(losses.boundary_loss(probs, phi)), 4)  # foreground class 1 only
        0.075
    """
    check.reduction(reduction)
    check.choice(mode, "mode", _MODES)
    check.flag(from_logits, "from_logits")
    check.flag(include_background, "include_background")
    xp = namespace(input=input, distance_maps=distance_maps)
    group = xp.check_group(group)
    check.floating(xp, input, "input")
    _check_array(xp, distance_maps, "distance_maps", "boundary_loss")
    check.ndim_at_least(input, 2, "input")
    check.same_shape(input, distance_maps, "input", "distance_maps")
    c = input.shape[1]
    if mode == "binary" and c != 1:
        raise ValueError(f"boundary_loss: mode='binary' expects input of shape (N, 1, *spatial), got {tuple(input.shape)}")
    _, out_dtype, (z, phi) = float_args(xp, input, distance_maps, names=("input", "distance_maps"))
    p = _probabilities(xp, z, mode, from_logits, "boundary_loss")
    if not include_background and mode != "binary":
        if c < 2:
            raise ValueError("boundary_loss: include_background=False needs at least 2 channels")
        p, phi = p[:, 1:, ...], phi[:, 1:, ...]
    return reduce(xp, p * phi, reduction, out_dtype=out_dtype, group=group)


@check.entry
def signed_distance_map(target: Array, *, num_classes: int | None = None,
                        spacing: float | Sequence[float] | None = None, dtype: Any = "float64") -> Array:
    """Signed distance maps for :func:`boundary_loss` (NumPy/SciPy, not differentiable).

    See :func:`backends.distance_maps.signed_distance_map` for the definition: positive
    distance outside each class mask, ``-(d - 1)`` inside (0 on the inner boundary), zeros for
    an absent class. Needs SciPy.

    Args:
        target: class indices ``(N, *spatial)`` with ``num_classes``, or masks
            ``(N, C, *spatial)`` (non-zero = inside).
        num_classes: number of classes ``C`` for index targets (None: ``target`` holds masks).
        spacing: pixel size per spatial axis (a number or one per spatial axis), as
            ``scipy.ndimage.distance_transform_edt(sampling=...)``.
        dtype: a NumPy float dtype (or its name) of the result.

    Returns:
        A NumPy array ``(N, C, *spatial)``.

    Raises:
        ValueError: bad shapes, out-of-range indices or a bad ``spacing``.

    References: the signed distance of the reference code of Kervadec et al. 2019
    ("Boundary loss for highly unbalanced segmentation", MIDL).

    Example:
        >>> losses.signed_distance_map(np.array([[0, 1, 1, 1, 0]]), num_classes=2) + 0.0  # (N, C, W)
        array([[[ 0.,  1.,  2.,  1.,  0.],
                [ 1.,  0., -1.,  0.,  1.]]])
    """
    from .backends.distance_maps import signed_distance_map as _sdm

    return _sdm(target, num_classes=num_classes, spacing=spacing, dtype=dtype)


@check.entry
def boundary_distance_map(target: Array, *, num_classes: int | None = None,
                          spacing: float | Sequence[float] | None = None, dtype: Any = "float64") -> Array:
    """Unsigned distance maps for :func:`hausdorff_dt_loss` (NumPy/SciPy, not differentiable).

    See :func:`backends.distance_maps.boundary_distance_map`: inside each class mask the
    distance to the nearest pixel outside, outside it the distance to the nearest pixel inside
    (MONAI's ``HausdorffDTLoss`` distance field), zeros for an absent class or a full mask.
    Needs SciPy.

    Args:
        target: class indices ``(N, *spatial)`` with ``num_classes``, or masks
            ``(N, C, *spatial)`` (a prediction's: ``probabilities > 0.5``).
        num_classes, spacing, dtype: as :func:`signed_distance_map`.

    Returns:
        A NumPy array ``(N, C, *spatial)``.

    Raises:
        ValueError: as :func:`signed_distance_map`.

    References: MONAI ``HausdorffDTLoss``'s distance field (Karimi & Salcudean 2019).

    Example:
        >>> losses.boundary_distance_map(np.array([[0, 1, 1, 1, 0]]), num_classes=2)  # (N, C, W)
        array([[[1., 1., 2., 1., 1.],
                [1., 1., 2., 1., 1.]]])
    """
    from .backends.distance_maps import boundary_distance_map as _bdm

    return _bdm(target, num_classes=num_classes, spacing=spacing, dtype=dtype)


@check.entry
@group_doc
def hausdorff_dt_loss(input: ArrayT, target: ArrayT, input_distance_maps: ArrayT, target_distance_maps: ArrayT, *,
                      alpha: float = 2.0, mode: Mode = "multiclass", from_logits: bool = True, batch: bool = False,
                      include_background: bool = False, ignore_index: int | None = None,
                      reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Hausdorff distance loss from distance transforms (Karimi & Salcudean 2019, "HD-DT").

    Per class ``c`` (and per sample unless ``batch=True``), a mean over the pixels:

    .. math::
        \ell_c = \frac{1}{|\Omega|} \sum_{q \in \Omega} \big(p_c(q) - g_c(q)\big)^2
                 \big(d_{p,c}(q)^{\alpha} + d_{g,c}(q)^{\alpha}\big)

    with ``d_p`` and ``d_g`` the unsigned distance maps of the thresholded prediction
    (``p > 0.5`` per channel) and of the target (see :func:`boundary_distance_map`): errors
    far from either boundary weigh most. Both maps are **precomputed inputs** (NumPy/SciPy,
    outside the differentiable path, as :func:`boundary_loss`'s map): the target's once per
    target, the prediction's at every step from the detached probabilities; the gradient flows
    through ``p`` only in the usual use. An absent or full mask has a zero map (its pixels
    do not count).

    Args:
        input: logits (``from_logits=True``) or probabilities, shape ``(N, C, *spatial)``.
        target: as :func:`dice_loss` (class indices or a dense one-hot/probability target).
        input_distance_maps: ``boundary_distance_map(p > 0.5)`` of the current prediction,
            shape ``(N, C, *spatial)`` (all channels; non-negative).
        target_distance_maps: ``boundary_distance_map`` of the target, the same shape.
        alpha: finite exponent ``> 0`` of the distances (the paper's and MONAI's 2).
        mode, from_logits, batch: as :func:`dice_loss` (``batch=True`` averages over the
            batch and the pixels: ``(C',)`` per-class losses).
        include_background: keep channel 0 (default False, MONAI's).
        ignore_index: as :func:`dice_loss`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (the ``(N, C')`` or ``(C',)`` matrix).
    {group}
            With ``batch=True`` the per-class means are over the whole group's batch.

    Returns:
        A 0-d array, or the per-class loss matrix for ``reduction="none"``. A NaN in any
        input makes the losses that read it NaN; an empty batch gives NaN for ``"mean"``.

    Raises:
        ValueError: shapes (the distance maps must have ``input``'s shape), bad ``alpha``;
            eagerly, negative distances, and as :func:`dice_loss`.
        TypeError: as :func:`dice_loss`; complex or non-array distance maps.

    References: Karimi & Salcudean, "Reducing the Hausdorff distance in medical image
    segmentation with convolutional neural networks", IEEE TMI 2019.

    Peer twins:
        MONAI ``HausdorffDTLoss(alpha=a, softmax=True, to_onehot_y=True)`` = ``alpha=a`` with the
        maps from :func:`boundary_distance_map` (``sigmoid=True``: ``mode="multilabel"``; its
        ``include_background`` and ``batch`` map to the keywords of the same meaning). (Covered by a
        test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> probs = np.stack([p0, 1 - p0])[None]  # probabilities (N, C, H, W) = (1, 2, 2, 2)
        >>> target = np.array([[[0, 1], [1, 0]]])  # class indices (N, H, W)
        >>> onehot = np.eye(2)[target].transpose(0, 3, 1, 2)  # the target as probabilities
        >>> d_target = losses.boundary_distance_map(target, num_classes=2)
        >>> d_pred = losses.boundary_distance_map(probs > 0.5)  # masks of the thresholded prediction
        >>> round(float(losses.hausdorff_dt_loss(probs, target, d_pred, d_target, from_logits=False)), 4)
        0.15
        >>> float(losses.hausdorff_dt_loss(onehot, target, d_target, d_target, from_logits=False))  # perfect
        0.0
    """
    check.finite_number(alpha, "alpha", low=0, low_open=True)
    fn = "hausdorff_dt_loss"
    xp = namespace(input=input, target=target, input_distance_maps=input_distance_maps,
                   target_distance_maps=target_distance_maps)
    for name, d in (("input_distance_maps", input_distance_maps), ("target_distance_maps", target_distance_maps)):
        _check_array(xp, d, name, fn)
    check.floating(xp, input, "input")
    for name, d in (("input_distance_maps", input_distance_maps), ("target_distance_maps", target_distance_maps)):
        check.same_shape(input, d, "input", name)
    o = _overlap_inputs(fn, input, target, None, mode=mode, from_logits=from_logits, batch=batch,
                        include_background=include_background, ignore_index=ignore_index,
                        reduction=reduction, group=group)
    check.nonnegative(xp, input_distance_maps, "input_distance_maps")
    check.nonnegative(xp, target_distance_maps, "target_distance_maps")
    xp, p, g = o.xp, o.p, o.g
    keep_c = include_background or mode == "binary"
    maps = []
    for d in (input_distance_maps, target_distance_maps):
        d = cast(xp, d, p.dtype)
        if not keep_c:
            d = d[:, 1:, ...]
        maps.append(_flat(xp, d, 2))
    a = float(alpha)
    dist = pow0(xp, maps[0], a) + pow0(xp, maps[1], a)
    err = p - g
    total = _sums(xp, err * err * dist, batch, o.group)
    if batch:
        count = _sums(xp, xp.ones_like(p[:, :1, :]), True, o.group)
        loss = safe_divide(xp, total, count)
    else:
        loss = total / p.shape[2] if p.shape[2] else total * float("nan")
    return o.finish(loss)


# ------------------------------------------------------------------------- combinations ----
@check.entry
@group_doc
def dice_ce_loss(input: ArrayT, target: ArrayT, *, mode: Mode = "multiclass", lambda_dice: float = 1.0,
                 lambda_ce: float = 1.0, ce_weight: ArrayT | None = None, batch: bool = False,
                 include_background: bool = True, smooth: float = 0.0, smooth_dr: float | None = None,
                 squared_denominator: bool = False, weight: ArrayT | None = None,
                 ignore_index: int | None = None, reduction: ScalarReduction = "mean",
                 group: Group = None) -> ArrayT:
    r"""Cross-entropy (softmax) or binary cross-entropy (sigmoid) plus the Dice loss, on logits.

    .. math:: \ell = \lambda_{dice}\,\mathrm{Dice}(z, y) + \lambda_{ce}\,\mathrm{CE}(z, y)

    ``"multiclass"``: :func:`losses.cross_entropy` (class indices or probabilities, class
    weights ``ce_weight``, ``ignore_index``); ``"binary"``/``"multilabel"``:
    the binary cross-entropy on logits of :func:`losses.binary_cross_entropy_with_logits`
    (torch's element-wise formula), averaged over the kept pixels (all elements without
    ``ignore_index``). The Dice term is :func:`dice_loss` with the Dice keywords.

    Args:
        input: logits ``(N, C, *spatial)``.
        target: as :func:`dice_loss`.
        mode: ``"multiclass"`` (softmax cross-entropy) | ``"multilabel"`` | ``"binary"``
            (binary cross-entropy on logits), the Dice term's ``mode`` too.
        lambda_dice, lambda_ce: finite non-negative weights of the two terms.
        ce_weight: optional per-class weights of the cross-entropy, shape ``(C,)``
            (``"multiclass"`` only).
        batch, include_background, smooth, smooth_dr, squared_denominator, weight: Dice
            keywords, as :func:`dice_loss`.
        ignore_index: as :func:`dice_loss`; it also applies to the CE.
        reduction: ``"mean"`` | ``"sum"``: how each term is reduced before the weighted sum
            (``"none"`` is refused: the two terms have different shapes).
    {group}
            Both terms are those of the whole group's batch (the Dice term pooled over it with
            ``batch=True``, else its mean; the CE/BCE mean over the group's kept pixels).

    Returns:
        A 0-d array in the promoted floating dtype of the inputs.

    Raises:
        ValueError / TypeError: as :func:`dice_loss` and :func:`losses.cross_entropy`.

    References: Isensee et al., "nnU-Net", Nature Methods 2021 (Dice + CE).

    Peer twins:
        MONAI ``DiceCELoss(softmax=True, to_onehot_y=True, lambda_dice=a, lambda_ce=b)`` =
        ``smooth=1e-5, lambda_dice=a, lambda_ce=b``. (Covered by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> z = np.log(np.stack([p0, 1 - p0]))[None]  # logits (N, C, H, W) whose softmax is (p0, 1 - p0)
        >>> target = np.array([[[0, 1], [1, 0]]])
        >>> bool(np.isclose(losses.dice_ce_loss(z, target),
        ...                 losses.dice_loss(z, target) + losses.cross_entropy(z, target)))
        True
        >>> round(float(losses.dice_ce_loss(z, target)), 4)
        0.5515
    """
    check.reduction(reduction, ("mean", "sum"))
    check.choice(mode, "mode", _MODES)
    check.finite_number(lambda_dice, "lambda_dice", low=0)
    check.finite_number(lambda_ce, "lambda_ce", low=0)
    _check_ignore(ignore_index)
    xp = namespace(input=input, target=target, ce_weight=ce_weight, weight=weight)
    group = xp.check_group(group)
    _check_array(xp, ce_weight, "ce_weight", "dice_ce_loss")  # (its dtype before any value check)
    if mode != "multiclass" and ce_weight is not None:
        raise ValueError(f"dice_ce_loss: ce_weight applies to mode='multiclass' only, got mode={mode!r}")
    d = dice_loss(input, target, mode=mode, from_logits=True, batch=batch,
                  include_background=include_background, smooth=smooth, smooth_dr=smooth_dr,
                  squared_denominator=squared_denominator, weight=weight, ignore_index=ignore_index,
                  reduction=reduction, group=group)
    if mode == "multiclass":
        ii = -100 if ignore_index is None else ignore_index
        ce = cross_entropy(input, target, weight=ce_weight, ignore_index=ii, reduction=reduction, group=group)
    else:
        ce = _bce_term(xp, input, target, ignore_index, None, reduction, group)
    return xp.as_array(lambda_dice * d + lambda_ce * ce)


@check.entry
@group_doc
def dice_focal_loss(input: ArrayT, target: ArrayT, *, mode: Mode = "multiclass", lambda_dice: float = 1.0,
                    lambda_focal: float = 1.0, gamma: float = 2.0, alpha: float | None = None,
                    batch: bool = False, include_background: bool = True, smooth: float = 0.0,
                    smooth_dr: float | None = None, squared_denominator: bool = False,
                    weight: ArrayT | None = None, mean_over: MeanOver = "weights",
                    ignore_index: int | None = None, reduction: ScalarReduction = "mean",
                    focal_spatial_mean: bool = False, group: Group = None) -> ArrayT:
    r"""Dice loss plus the sigmoid focal loss of every channel, on logits (MONAI's DiceFocalLoss).

    .. math::
        \ell = \lambda_{dice}\,\mathrm{Dice}(z, y)
             + \lambda_{focal}\,\operatorname{mean}_{n,c,i}\ \alpha_t\,(1 - p_t)^{\gamma}\,
               \mathrm{BCE}(z_{nci}, y_{nci})

    The Dice term is :func:`dice_loss` (softmax in ``"multiclass"`` mode, sigmoid otherwise)
    with the Dice keywords. The focal term is :func:`losses.sigmoid_focal_loss` of each
    channel's logit against the dense (one-hot) target, in every mode: MONAI's weighting,
    whose focal loss applies a sigmoid per channel even when its Dice term uses the softmax.
    ``alpha=None`` (default, MONAI's) disables the α balance; ``alpha=a`` weighs the positives
    of every channel by ``a`` and the negatives by ``1 - a``. ``include_background=False``
    drops channel 0 from both terms. The class weights ``weight`` weigh both terms (the Dice
    losses per class, the focal losses of each channel); with ``ignore_index`` the focal term
    averages over the kept pixels' channels (a weight 0 elsewhere).

    Args:
        input: logits ``(N, C, *spatial)``.
        target: as :func:`dice_loss`.
        mode: ``"multiclass"`` | ``"multilabel"`` | ``"binary"``, the Dice term's activation.
        lambda_dice, lambda_focal: finite non-negative weights of the two terms.
        gamma: focusing parameter ``>= 0`` of the focal term.
        alpha: None or a balance in [0, 1] of the focal term.
        batch, include_background, smooth, smooth_dr, squared_denominator: Dice keywords.
        weight: optional non-negative class weights ``(C,)`` (or ``(C-1,)`` without
            background) of both terms.
        mean_over: what a weighted ``"mean"`` of each term divides by (``"weights"``: the
            weight sum; ``"elements"``: the number of entries, MONAI's ``weight=``).
        ignore_index: target value whose pixels are removed from both terms.
        reduction: ``"mean"`` | ``"sum"``: how each term is reduced before the weighted sum
            (``"none"`` is refused: the two terms have different shapes).
        focal_spatial_mean: the focal term first averages each sample's channel over its
            (kept) spatial positions, then ``reduction`` reduces the ``(N, C)`` means (a bool;
            default False: ``reduction`` over every element). With ``reduction="sum"`` this is
            MONAI's ``FocalLoss(reduction="sum")``; a channel without kept pixels gives 0.
    {group}
            Both terms are those of the whole group's batch (the Dice term pooled over it with
            ``batch=True``, else its mean; the focal mean over the group's elements).

    Returns:
        A 0-d array in the promoted floating dtype of the inputs.

    Raises:
        ValueError / TypeError: as :func:`dice_loss` and :func:`losses.sigmoid_focal_loss`,
            bad ``lambda_dice``/``lambda_focal``/``gamma``/``alpha``.

    References: Lin et al., "Focal loss for dense object detection", ICCV 2017; Zhu et al.,
    "AnatomyNet", Medical Physics 2019 (Dice + focal); Dice as :func:`dice_loss`.

    Peer twins:
        MONAI ``DiceFocalLoss(softmax=True | sigmoid=True, to_onehot_y=True, lambda_dice=a,
        lambda_focal=b, gamma=g)`` = ``smooth=1e-5, lambda_dice=a, lambda_focal=b, gamma=g``
        (``mode="multiclass"`` for ``softmax=True``, ``"multilabel"`` with a dense target for
        ``sigmoid=True``); MONAI's ``alpha``, ``batch``, ``include_background``, ``squared_pred``
        map to the keywords of the same meaning, its ``weight=w`` to ``weight=w,
        mean_over="elements"``, its ``reduction="sum"`` (whose focal term averages over the
        pixels first, then sums) to ``reduction="sum", focal_spatial_mean=True``. For soft
        targets the focal term follows
        torchvision's ``p_t = y p + (1-y)(1-p)`` (MONAI's formula is written for 0/1 targets).
        (Covered by a test.)

    Example:
        >>> p0 = np.array([[0.8, 0.3], [0.4, 0.9]])
        >>> z = np.log(np.stack([p0, 1 - p0]))[None]  # logits (N, C, H, W) whose softmax is (p0, 1 - p0)
        >>> target = np.array([[[0, 1], [1, 0]]])
        >>> bool(np.isclose(losses.dice_focal_loss(z, target, lambda_focal=0.0), losses.dice_loss(z, target)))
        True
        >>> round(float(losses.dice_focal_loss(z, target)), 4)
        0.4019
    """
    check.reduction(reduction, ("mean", "sum"))
    check.flag(focal_spatial_mean, "focal_spatial_mean")
    check.choice(mode, "mode", _MODES)
    check.finite_number(lambda_dice, "lambda_dice", low=0)
    check.finite_number(lambda_focal, "lambda_focal", low=0)
    check.finite_number(gamma, "gamma", low=0)
    if alpha is not None:
        check.finite_number(alpha, "alpha", low=0, high=1)
    _check_ignore(ignore_index)
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    # every check of input, target and weight runs here first
    d = dice_loss(input, target, mode=mode, from_logits=True, batch=batch,
                  include_background=include_background, smooth=smooth, smooth_dr=smooth_dr,
                  squared_denominator=squared_denominator, weight=weight, mean_over=mean_over,
                  ignore_index=ignore_index, reduction=reduction, group=group)
    z, y, w, keep = _focal_terms(xp, input, target, weight, mode, include_background, ignore_index)
    a = -1.0 if alpha is None else float(alpha)
    if focal_spatial_mean:
        f = _focal_spatial_mean(xp, z, y, w, keep, a, float(gamma), reduction, group)
    else:
        f = sigmoid_focal_loss(z, y, alpha=a, gamma=float(gamma), weight=w, mean_over=mean_over, reduction=reduction,
                               group=group)
    return xp.as_array(float(lambda_dice) * d + float(lambda_focal) * f)


def _focal_spatial_mean(xp, z, y, w, keep, alpha, gamma, reduction, group):
    """The focal term of :func:`dice_focal_loss` with ``focal_spatial_mean=True``: the
    element losses (weighted by ``w``) of each ``(n, c)`` averaged over the kept spatial
    positions (``keep``, None: all), then ``reduction`` over ``(N, C)``. No kept position: 0
    (MONAI divides by the count clamped at eps), by a double where."""
    _, out_dtype, (zc,) = float_args(xp, z, names=("input",))  # float16: float32 sums
    per = sigmoid_focal_loss(zc, y, alpha=alpha, gamma=gamma, weight=w, reduction="none")
    axes = tuple(range(2, per.ndim))
    if not axes:  # (N, C): one position per channel (an ignored one has weight 0)
        return reduce(xp, per, reduction, out_dtype=out_dtype, group=group)
    total = xp.sum(per, axis=axes)
    if keep is None:
        count = xp.full_like(total, float(math.prod(per.shape[2:])))
    else:
        count = xp.broadcast_to(xp.sum(cast(xp, keep, per.dtype), axis=axes), total.shape)
    some = count > 0
    mean = xp.where(some, total / xp.where(some, count, xp.ones_like(count)), xp.zeros_like(total))
    return reduce(xp, mean, reduction, out_dtype=out_dtype, group=group)


def _focal_terms(xp, input, target, weight, mode, include_background, ignore_index):
    """Logits, dense 0/1 (or soft) target, element weights (None: all 1) and the kept
    positions (None without ``ignore_index``; broadcastable to the logits) of
    :func:`dice_focal_loss`'s focal term, channels ``C'`` (the checks ran in :func:`dice_loss`)."""
    c = input.shape[1]
    dense = tuple(target.shape) == tuple(input.shape)
    keep = None
    if ignore_index is not None:
        keep = target != ignore_index
        target = xp.where(keep, target, xp.zeros_like(target))
        if not dense:
            keep = xp.expand_dims(keep, axis=1)
    if dense:
        y = target
    elif mode == "multiclass":
        y = _one_hot1(xp, target, c, input.dtype)
    else:
        y = xp.expand_dims(target, axis=1)
    w = None if keep is None else cast(xp, keep, input.dtype)
    z = input
    if not (include_background or mode == "binary"):
        z, y = z[:, 1:, ...], y[:, 1:, ...]
        if w is not None and w.shape[1] == c:
            w, keep = w[:, 1:, ...], keep[:, 1:, ...]
        if weight is not None and weight.shape[0] == c:
            weight = weight[1:]
    if weight is not None:
        cw = xp.reshape(weight, (1, weight.shape[0]) + (1,) * (input.ndim - 2))
        w = cw if w is None else w * cast(xp, cw, w.dtype)
    return z, y, w, keep


def _bce_term(xp, input, target, ignore_index, beta, reduction, group):
    """BCE on logits against a binary/multilabel target (indices or dense), averaged over the
    kept pixels: torch's ``(1 - y) z + softplus(-z)`` (``beta=None``), or the Combo loss's
    ``beta y softplus(-z) + (1 - beta)(1 - y) softplus(z)``. (The checks of ``input`` and
    ``target`` ran in :func:`dice_loss` first.)"""
    if tuple(target.shape) == tuple(input.shape):
        y = target
    else:
        y = xp.expand_dims(target, axis=1)
    w = None
    if ignore_index is not None:
        w = y != ignore_index
        y = xp.where(w, y, xp.zeros_like(y))
    _, out_dtype, (z, yy) = float_args(xp, input, y, names=("input", "target"))
    if beta is None:
        loss = (1 - yy) * z + xp.softplus(-z)
    else:
        loss = beta * yy * xp.softplus(-z) + (1 - beta) * (1 - yy) * xp.softplus(z)
    wf = None if w is None else cast(xp, w, z.dtype)
    return reduce(xp, loss, reduction, weight=wf, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def combo_loss(input: ArrayT, target: ArrayT, *, alpha: float = 0.5, beta: float = 0.5,
               mode: SigmoidMode = "binary", smooth: float = 1.0, batch: bool = False,
               include_background: bool = True, ignore_index: int | None = None,
               reduction: ScalarReduction = "mean", group: Group = None) -> ArrayT:
    r"""Combo loss (Taghanaki et al. 2019): weighted binary cross-entropy plus Dice loss.

    .. math::
        \ell = \alpha\,\Big(-\frac1M\sum_i \beta\,y_i\log p_i + (1-\beta)(1-y_i)\log(1-p_i)\Big)
             + (1 - \alpha)\,\mathrm{DiceLoss}_{s}(p, y)

    on sigmoid probabilities (``"binary"``/``"multilabel"``), computed from the logits with
    ``softplus`` (finite for any logit). ``beta < 0.5`` penalises false positives more, ``> 0.5``
    false negatives. The paper subtracts the Dice *coefficient* instead of adding the Dice loss:
    its value is ours minus ``1 - alpha`` (same gradient). The Dice term is :func:`dice_loss`
    with ``smooth`` (the paper's ``S = 1``) and the Dice keywords.

    Args:
        input: logits ``(N, C, *spatial)`` (``C == 1`` for ``"binary"``).
        target: binary labels ``(N, *spatial)`` (``"binary"``) or a dense 0/1 target of
            ``input``'s shape.
        alpha: weight of the cross-entropy term in [0, 1].
        beta: weight of positives in the cross-entropy, in [0, 1] (``beta=0.5`` is half the
            usual BCE).
        mode: ``"binary"`` | ``"multilabel"``.
        smooth, batch, include_background, ignore_index: Dice keywords, as :func:`dice_loss`.
        reduction: ``"mean"`` | ``"sum"`` (each term reduced this way, then combined;
            ``"none"`` is refused).
    {group}
            Both terms are those of the whole group's batch (as :func:`dice_ce_loss`).

    Returns:
        A 0-d array in the promoted floating dtype of the inputs.

    Raises:
        ValueError: ``mode="multiclass"``, bad ``alpha``/``beta``, shapes as :func:`dice_loss`.

    References: Taghanaki et al., "Combo loss: handling input and output imbalance in
    multi-organ segmentation", Computerized Medical Imaging and Graphics 2019.

    Peer twins:
        No torch/optax/MONAI twin; tested against an independent formula.

    Example:
        >>> z = np.array([[[[2.0, -1.0], [0.5, -3.0]]]])  # logits (N, 1, H, W)
        >>> y = np.array([[[1, 0], [1, 0]]])  # binary labels (N, H, W)
        >>> # alpha = 1: the cross-entropy term alone, with beta = 1/2 half the usual BCE
        >>> bool(np.isclose(losses.combo_loss(z, y, alpha=1.0),
        ...                 0.5 * losses.binary_cross_entropy_with_logits(z[:, 0], y)))
        True
        >>> round(float(losses.combo_loss(z, y)), 4)
        0.1445
    """
    check.reduction(reduction, ("mean", "sum"))
    check.choice(mode, "mode", ("binary", "multilabel"))
    check.real_number(alpha, "alpha", low=0, high=1)
    check.real_number(beta, "beta", low=0, high=1)
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    d = dice_loss(input, target, mode=mode, from_logits=True, batch=batch,
                  include_background=include_background, smooth=smooth, ignore_index=ignore_index,
                  reduction=reduction, group=group)
    ce = _bce_term(xp, input, target, ignore_index, float(beta), reduction, group)
    return xp.as_array(float(alpha) * ce + (1 - float(alpha)) * d)
