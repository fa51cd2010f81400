"""PyTorch adapter and native fast paths."""
from __future__ import annotations

import array_api_compat.torch as _xp
import numpy as np
import torch

from ._adapter import BaseAdapter

_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


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
    has_autodiff = True

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
            "nll_logits": _nll_logits,
            "stop_gradient": _stop_gradient,
            "where": _where,
            "unstack": _unstack,
        }

    def is_lazy(self, x):
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            return True
        if self._lazy_types and isinstance(x, self._lazy_types):
            return True
        if x.device.type == "meta":
            return True
        return bool(self._is_wrapped is not None and self._is_wrapped(x))

    def devices(self):
        devs = [torch.device("cpu")]
        if torch.cuda.is_available():
            devs += [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
        return devs

    def float_dtypes(self):
        return tuple(_DTYPES)

    def dtype(self, name):
        return _DTYPES[name]

    def asarray(self, a, dtype=None, device=None):
        a = np.asarray(a)
        t = torch.from_numpy(a.copy())
        if dtype is not None:
            t = t.to(_DTYPES[dtype])
        return t.to(device) if device is not None else t

    def to_numpy(self, x):
        x = x.detach().cpu()
        if x.is_floating_point() and x.dtype in (torch.float16, torch.bfloat16):
            x = x.to(torch.float64)
        return x.numpy()

    def value_and_grad(self, fn, args, argnums):
        args = list(args)
        for i in argnums:
            args[i] = args[i].detach().clone().requires_grad_(True)
        out = fn(*args)
        grads = torch.autograd.grad(out, [args[i] for i in argnums], allow_unused=True)
        grads = tuple(
            torch.zeros_like(args[i]) if g is None else g for i, g in zip(argnums, grads)
        )
        return out.detach(), grads

    def compile(self, fn, *, dynamic=False, backend=None):
        kwargs = {"fullgraph": True, "dynamic": dynamic}
        if backend is not None:
            kwargs["backend"] = backend
        return torch.compile(fn, **kwargs)

    def vmap(self, fn, in_axes):
        return torch.func.vmap(fn, in_dims=tuple(in_axes))
