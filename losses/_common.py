"""Small helpers shared by the losses: dtype handling, kink-defined math, class axes."""
from __future__ import annotations

from . import _validate as check


def cast(xp, x, dtype):
    return x if dtype is None or x.dtype == dtype else xp.astype(x, dtype)


def float_args(xp, first, *others, names=("input",)):
    """Cast float arguments to a common compute dtype.

    ``first`` must be real floating (``TypeError`` naming it otherwise). Each of ``others``
    (None allowed) that is floating takes part in dtype promotion; integer/bool ones are cast
    to the compute dtype. float16/bfloat16 are computed in float32 (DESIGN rule 7).

    Returns ``(compute_dtype, out_dtype, [first, *others] cast to compute_dtype)``.
    """
    check.floating(xp, first, names[0])
    float_dtypes = [first.dtype] + [
        o.dtype for o in others if o is not None and check.is_floating(xp, o)
    ]
    out_dtype = _promote_floats(xp, float_dtypes)
    compute = xp.float32 if xp.finfo(out_dtype).bits < 32 else out_dtype
    arrays = [None if a is None else cast(xp, a, compute) for a in (first, *others)]
    return compute, out_dtype, arrays


def _promote_floats(xp, dtypes):
    """Promotion among real floating dtypes: the widest; float16 with bfloat16 gives float32.

    Decided from the static dtypes alone (the namespaces' ``result_type`` falls back to a
    framework call for dtypes outside the standard, which ``torch.compile`` cannot trace).
    """
    unique = list(dict.fromkeys(dtypes))
    if len(unique) == 1:
        return unique[0]
    bits = [xp.finfo(d).bits for d in unique]
    widest = max(bits)
    if widest == 16:
        return xp.float32
    return unique[bits.index(widest)]


def relu(xp, x):
    """``max(x, 0)`` with gradient 0 at 0 on every backend."""
    return xp.where(x > 0, x, xp.zeros_like(x))


def abs0(xp, x):
    """``|x|`` with gradient 0 at 0 on every backend (``jnp.abs`` and ``torch.abs`` differ)."""
    zero = xp.zeros_like(x)
    return xp.where(x > 0, x, xp.where(x < 0, -x, zero))


def class_axis(x, axis, name="input"):
    """The class axis: torch's rule (1, or 0 for a 1-D input) when ``axis`` is None."""
    if axis is None:
        return 1 if x.ndim >= 2 else 0
    if not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an int in [{-x.ndim}, {x.ndim - 1}] for {name} of shape {tuple(x.shape)}, got {axis!r}")
    return axis % x.ndim


def log_clamped(xp, p, floor=-100.0):
    """``max(log(p), floor)`` (torch's BCE clamp) with a finite gradient at p == 0."""
    fill = xp.full_like(p, floor)
    pos = p > 0
    log_p = xp.log(xp.where(pos, p, xp.ones_like(p)))
    return xp.where(pos & (log_p > floor), log_p, fill)


def class_target(xp, input, target, axis, what, input_name="input", target_name="target",
                 class_name="class"):
    """Checks of an integer class target against logits: floating ``input`` with a class axis,
    ``target`` of ``input``'s shape without that axis and an integer dtype.

    Returns ``(axis, n_classes, target_shape)``. Value checks of the indices are separate
    (``_validate.class_indices``, eager only).
    """
    check.floating(xp, input, input_name)
    check.ndim_at_least(input, 1, input_name)
    ax = class_axis(input, axis, input_name)
    expected = tuple(s for i, s in enumerate(input.shape) if i != ax)
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{what}: {target_name} must have shape {expected} ({input_name} "
            f"{tuple(input.shape)} without the {class_name} axis {ax}), got {tuple(target.shape)}"
        )
    check.integer(xp, target, target_name)
    return ax, input.shape[ax], expected
