"""Signed distance maps of segmentation masks (NumPy/SciPy; outside any differentiable path).

The boundary loss (Kervadec et al. 2019) weights each predicted probability by the signed
distance of its pixel to the ground-truth boundary. The map depends on the target only, so it
is computed once per target, on the host, with SciPy's exact Euclidean distance transform.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike


def _as_numpy(x: Any) -> np.ndarray:
    """A NumPy view/copy of ``x`` (NumPy, CPU torch tensors, JAX, array-api-strict, Dask)."""
    if hasattr(x, "detach"):  # torch: leave autograd and the device
        x = x.detach().cpu()
    if hasattr(x, "compute"):  # dask
        x = x.compute()
    try:
        return np.asarray(x)
    except TypeError:  # array-api-strict and other __dlpack__ arrays
        return np.from_dlpack(x)


def _float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a real NumPy floating dtype; anything else is a ``TypeError`` naming it."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not np.issubdtype(dt, np.floating):
        raise TypeError(f"dtype must be a real NumPy floating dtype (e.g. 'float64'), got {dtype!r}")
    return dt


def signed_distance_map(target: Any, *, num_classes: int | None = None,
                        spacing: float | Sequence[float] | None = None,
                        dtype: DTypeLike = "float64") -> np.ndarray:
    """Signed Euclidean distance of every pixel to the boundary of each class mask.

    For a class mask ``G`` (per sample and class)

    .. math::
        \\phi_G(q) = \\begin{cases} d(q, G) & q \\notin G \\\\
                     -\\big(d(q, \\bar G) - 1\\big) & q \\in G\\end{cases}

    with ``d`` the Euclidean distance (in units of ``spacing``) to the nearest pixel of the
    set: positive outside the object, ``<= 0`` inside, 0 on the inner boundary (the
    convention of the reference code of Kervadec et al. 2019). A class absent from a sample,
    and a mask covering the whole image (no boundary), give a map of zeros.

    Args:
        target: class indices of shape ``(N, *spatial)`` when ``num_classes`` is given, else
            masks of shape ``(N, C, *spatial)`` (non-zero = inside). NumPy or any array that
            converts to NumPy (CPU torch tensors, JAX, Dask, array-api-strict).
        num_classes: number of classes ``C`` for index targets (None: ``target`` holds masks).
        spacing: pixel size per spatial axis (a number or a sequence of ``len(spatial)``
            numbers), as ``scipy.ndimage.distance_transform_edt(sampling=...)``.
        dtype: a real NumPy floating dtype (or its name) of the result.

    Returns:
        A NumPy array of shape ``(N, C, *spatial)``. Convert it to your framework (e.g.
        ``torch.from_numpy``) and pass it to :func:`losses.boundary_loss`.

    Raises:
        ValueError: wrong number of dimensions, class indices outside ``[0, num_classes)``,
            bad ``spacing`` (not positive and finite), ``num_classes < 1``.
        TypeError: ``target`` of a complex (or non-numeric) dtype, or a floating target of
            class indices; ``num_classes`` not an int; ``dtype`` not a real floating dtype.
    """
    return _distance_maps(target, num_classes, spacing, dtype, signed=True)


def boundary_distance_map(target: Any, *, num_classes: int | None = None,
                          spacing: float | Sequence[float] | None = None,
                          dtype: DTypeLike = "float64") -> np.ndarray:
    """Unsigned Euclidean distance of every pixel to the other side of each class boundary.

    For a class mask ``G``: ``d(q, \bar G)`` inside (distance to the nearest pixel outside,
    >= 1) and ``d(q, G)`` outside (distance to the nearest pixel inside), i.e. the sum of the
    distance transforms of ``G`` and of its complement: MONAI's ``HausdorffDTLoss``
    ``distance_field``. An absent class and a mask covering the whole image give zeros.
    Arguments, shapes and errors as :func:`signed_distance_map`; for a prediction pass its
    thresholded masks (``probabilities > 0.5``, shape ``(N, C, *spatial)``).
    """
    return _distance_maps(target, num_classes, spacing, dtype, signed=False)


def _distance_maps(target, num_classes, spacing, dtype, *, signed):
    from scipy.ndimage import distance_transform_edt

    out_dtype = _float_dtype(dtype)
    t = _as_numpy(target)
    if not (np.issubdtype(t.dtype, np.number) or t.dtype == np.bool_) or np.issubdtype(t.dtype, np.complexfloating):
        raise TypeError(f"target must have a real dtype (integer, bool or floating), got {t.dtype}")
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
            raise TypeError(f"num_classes must be an int, got {num_classes!r}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        if t.ndim < 2:
            raise ValueError(f"target of class indices must have shape (N, *spatial), got {t.shape}")
        if not np.issubdtype(t.dtype, np.integer):
            raise TypeError(f"target of class indices must have an integer dtype, got {t.dtype}")
        if t.size and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(
                f"target must hold class indices in [0, {num_classes - 1}], got values in "
                f"[{t.min()}, {t.max()}]"
            )
        masks = t[:, None] == np.arange(num_classes).reshape((1, num_classes) + (1,) * (t.ndim - 1))
    else:
        if t.ndim < 3:
            raise ValueError(f"target masks must have shape (N, C, *spatial), got {t.shape}")
        if np.issubdtype(t.dtype, np.floating) and np.isnan(t).any():
            raise ValueError("target masks must not hold NaN (non-zero = inside, zero = outside)")
        masks = t != 0
    n_spatial = masks.ndim - 2
    if spacing is not None:
        try:
            sp = np.asarray(spacing, dtype=np.float64)
        except (TypeError, ValueError):
            sp = None
        if sp is not None and sp.ndim == 0:
            sp = np.broadcast_to(sp, (n_spatial,))
        if sp is None or isinstance(spacing, bool) or sp.shape != (n_spatial,) or not np.all(np.isfinite(sp) & (sp > 0)):
            raise ValueError(f"spacing must be a positive number or {n_spatial} positive numbers, got {spacing!r}")
        spacing = tuple(float(s) for s in sp)
    out = np.zeros(masks.shape, dtype=out_dtype)
    for idx in np.ndindex(*masks.shape[:2]):
        pos = masks[idx]
        if not pos.any() or pos.all():
            continue
        neg = ~pos
        outside = distance_transform_edt(neg, sampling=spacing)
        inside = distance_transform_edt(pos, sampling=spacing)
        out[idx] = np.where(pos, -(inside - 1.0) if signed else inside, outside)
    return out
