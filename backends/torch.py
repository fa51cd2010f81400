"""PyTorch runtime adapter and native fast paths (the harness side: ``harness/torch.py``)."""
from __future__ import annotations

import array_api_compat.torch as _xp
import torch

from ._adapter import BaseAdapter
from ._generic import check_index_like


# -- native fast paths (checked against backends/_generic.py by the conformance suite) -------
def _logsumexp(ns, x, axis=-1, keepdims=False):
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def _log_softmax(ns, x, axis=-1):
    return torch.log_softmax(x, dim=axis)


def _softmax(ns, x, axis=-1):
    return torch.softmax(x, dim=axis)


def _softplus(ns, x):
    # F.softplus switches to the identity above a threshold (error ~2e-9); logaddexp is exact
    return torch.logaddexp(x, x.new_zeros(()))


def _sigmoid(ns, x):
    return torch.sigmoid(x)


def _take_class(ns, x, index, axis=-1):
    # gather wants int64 indices; one kernel, compiles once for every batch size
    axis = axis % x.ndim
    idx = index.to(torch.int64).unsqueeze(axis)
    return torch.gather(x, axis, idx).squeeze(axis)


def _take_along_last(ns, x, index):
    # torch.gather: one kernel, and one compile for every size under dynamic shapes
    check_index_like(x, index)
    return torch.gather(x, -1, index.to(torch.int64))


def _where(ns, cond, x1, x2):
    # torch.where itself for tensors of one dtype (the usual case: ~10x less overhead than the
    # compat wrapper); anything else goes through array-api-compat's promotion rules
    if isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor) and x1.dtype == x2.dtype:
        return torch.where(cond, x1, x2)
    return _xp.where(cond, x1, x2)


def _nll_logits(ns, x, index, axis=-1):
    # torch's fused kernel: one log-softmax saved for backward, like F.cross_entropy itself
    axis = axis % x.ndim
    if x.ndim > 1 and axis != 1:
        x = torch.movedim(x, axis, 1)
    return torch.nn.functional.cross_entropy(x, index.to(torch.int64), reduction="none")


def _unstack(ns, x, axis=0):
    # torch.unbind: one backward for all pieces, and batched under torch.func.vmap
    return tuple(torch.unbind(x, dim=axis))


# torch's own kernels have the library's subgradients: relu and abs give 0 at 0, clamp_min
# passes the gradient at 0. (At a NaN input, clamp_min and abs pass no gradient where the
# generic helpers pass one: the derivative there is undefined either way.)
def _relu0(ns, x):
    return torch.relu(x)


def _relu1(ns, x):
    return torch.clamp_min(x, 0)


def _abs0(ns, x):
    return torch.abs(x)


def _stop_gradient(ns, x):
    return x.detach()


def _lazy_types():
    out = []
    try:
        from torch._subclasses.fake_tensor import FakeTensor

        out.append(FakeTensor)
    except ImportError:  # pragma: no cover
        pass
    return tuple(out)


class Adapter(BaseAdapter):
    name = "torch"

    def __init__(self):
        self._lazy_types = _lazy_types()
        self._is_wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)

    def xp(self):
        return _xp

    def primitives(self):
        return {
            "logsumexp": _logsumexp,
            "log_softmax": _log_softmax,
            "softmax": _softmax,
            "softplus": _softplus,
            "sigmoid": _sigmoid,
            "take_class": _take_class,
            "take_along_last": _take_along_last,
            "nll_logits": _nll_logits,
            "stop_gradient": _stop_gradient,
            "relu0": _relu0,
            "relu1": _relu1,
            "abs0": _abs0,
            "where": _where,
            "unstack": _unstack,
        }

    def loss_paths(self):
        from .torch_losses import LOSS_PATHS

        return LOSS_PATHS

    def is_lazy(self, x):
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            return True
        if self._lazy_types and isinstance(x, self._lazy_types):
            return True
        if x.device.type == "meta":
            return True
        return bool(self._is_wrapped is not None and self._is_wrapped(x))
