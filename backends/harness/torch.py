"""PyTorch harness: tensors from NumPy and back, autograd, torch.compile, torch.func.vmap."""
from __future__ import annotations

import numpy as np
import torch

from . import BaseHarness

_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


class Harness(BaseHarness):
    name = "torch"
    has_autodiff = True

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

    def compile_transform(self, backend=None):
        def transform(fn):
            torch._dynamo.reset()
            return self.compile(fn, backend=backend)

        return transform

    def scalarize(self, out, v):
        out64 = out.to(torch.float64)
        return (out64 * torch.as_tensor(v, dtype=torch.float64, device=out.device)).sum()

    def vmap(self, fn, in_axes):
        return torch.func.vmap(fn, in_dims=tuple(in_axes))

    def host_reads(self, fn):
        """A device-to-host read is a tensor converted to Python (``bool(t)``, ``float(t)``,
        ``int(t)``, ``.item()``, ``.tolist()``, ``.numpy()``: seen by a function mode) or a
        kernel reading a scalar back (``aten._local_scalar_dense`` outside those: seen by a
        dispatch mode). CPU tensors are read the way a device's are (``transfer_reads``):
        the count is that of the transfers the call makes on an accelerator, where each one
        waits for the queued kernels (on the CPU a value is read in place, one by one)."""
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import TorchDispatchMode

        from ..torch import transfer_reads

        state = {"reads": 0, "inside": False}

        class Conversions(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if getattr(func, "__name__", None) not in _READS:
                    return func(*args, **(kwargs or {}))
                state["reads"] += 1
                state["inside"] = True
                try:
                    return func(*args, **(kwargs or {}))
                finally:
                    state["inside"] = False

        class Scalars(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                if func is torch.ops.aten._local_scalar_dense.default and not state["inside"]:
                    state["reads"] += 1
                return func(*args, **(kwargs or {}))

        with transfer_reads(), Conversions(), Scalars():
            out = fn()
        return out, state["reads"]

    def grad_fn_names(self, out):
        """The class names of every autograd node ``out`` was computed through (which
        kernels a call used)."""
        names, seen, todo = set(), set(), [out.grad_fn]
        while todo:
            node = todo.pop()
            if node is not None and id(node) not in seen:
                seen.add(id(node))
                names.add(type(node).__name__)
                todo += [f for f, _ in node.next_functions]
        return names


#: the Tensor methods that hand values to Python
_READS = frozenset({"__bool__", "__float__", "__int__", "__index__", "__complex__", "item", "tolist",
                    "numpy", "__array__"})
