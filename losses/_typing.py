"""Types of the public API.

``Array`` is any array of a supported framework (NumPy, PyTorch, JAX, CuPy, Dask,
array-api-strict): something with a ``shape``, a ``dtype`` and an ``ndim``. The public
functions are generic in it (``ArrayT``): a loss of torch tensors is a torch tensor, a loss of
JAX arrays a JAX array, and type checkers and editors see that.
"""
from __future__ import annotations

from typing import Any, Literal, Protocol, TypeVar, Union

__all__ = ["Array", "ArrayT", "Reduction", "ReductionBatchmean", "ScalarReduction", "Scalar", "ArrayOrScalar", "Group"]


class Array(Protocol):
    """An array of any supported framework."""

    @property
    def shape(self) -> Any: ...

    @property
    def dtype(self) -> Any: ...

    @property
    def ndim(self) -> int: ...


#: The array type of a call: the result has the framework of the array arguments.
ArrayT = TypeVar("ArrayT", bound=Array)

#: A Python number where torch accepts a number or a tensor (targets, weights, margins).
Scalar = Union[int, float]

#: An array or a Python number.
ArrayOrScalar = Union[Array, int, float]

#: ``reduction=`` of every loss.
Reduction = Literal["mean", "sum", "none"]

#: ``reduction=`` of :func:`losses.kl_div` (torch's extra ``"batchmean"``).
ReductionBatchmean = Literal["mean", "sum", "none", "batchmean"]

#: ``reduction=`` of compound losses whose terms have different shapes (no ``"none"``).
ScalarReduction = Literal["mean", "sum"]

#: ``group=`` of the batch-coupled losses: None, ``"world"`` or a ``torch.distributed``
#: ProcessGroup (torch), a mapped axis name or a tuple of names (JAX); docs/distributed.md.
Group = Any
