"""PyTorch runtime adapter and native fast paths (the harness side: ``harness/torch.py``)."""
from __future__ import annotations

import contextlib

import array_api_compat.torch as _xp
import torch
import torch.distributed as _dist

from ._adapter import BaseAdapter
from ._generic import check_index_like
from .collectives import gather_group


# -- native fast paths (checked against backends/_generic.py by the conformance suite) -------
def _logsumexp(ns, x, axis=-1, keepdims=False):
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def _log_softmax(ns, x, axis=-1):
    return torch.log_softmax(x, dim=axis)


def _extrema(ns, x):
    # one pass over x (amin + amax read it twice); NaN propagates as in min/max
    lo, hi = torch.aminmax(x)
    return lo, hi


#: a float64 zero per device, joined to the values read by host_scalars (eager reads only)
_F64_ZEROS: dict = {}

#: device types whose tensors live in host memory: their values are read in place, one by
#: one (a memory load each: no copy, no stream to wait for), which costs a tenth of the
#: promoting stack a transfer needs; any other device reads every value in one transfer.
#: ``transfer_reads()`` empties it (the harness counts the transfers a device call makes).
#: With value checks off, the facts a native kernel needs are read only in place.
_IN_PLACE = {"cpu"}


@contextlib.contextmanager
def transfer_reads():
    """Inside the block, CPU tensors too are read the way a device's are: every value of a
    ``host_scalars`` call in one stacked transfer (to count, or test, the device path)."""
    before = set(_IN_PLACE)
    _IN_PLACE.clear()
    try:
        yield
    finally:
        _IN_PLACE.update(before)


def _host_scalars(ns, values):
    if values[0].device.type in _IN_PLACE and all(v.device.type in _IN_PLACE for v in values):
        return [v.item() for v in values]
    # one torch.stack does the dtype promotion of the generic version's stacks and casts: with
    # a float64 zero appended, every mix of dtypes that holds a float is promoted to float64
    # (exact for these values, see the generic docstring); integers and booleans to the widest
    # integer dtype, exactly
    first = values[0].dtype
    if any(v.dtype != first for v in values):
        if any(v.is_floating_point() for v in values):
            device = values[0].device
            zero = _F64_ZEROS.get(device)
            if zero is None:
                try:
                    zero = _F64_ZEROS[device] = torch.zeros((), dtype=torch.float64, device=device)
                except (TypeError, RuntimeError):  # no float64 on this device
                    return None
            return torch.stack([*values, zero]).detach().tolist()[:-1]
    return torch.stack(values).detach().tolist()


def _softmax(ns, x, axis=-1):
    return torch.softmax(x, dim=axis)


#: above this, softplus(x) = x + log1p(exp(-x)) rounds to x in the dtype (exp(-t) is below
#: half an ulp of t): F.softplus's switch to the identity changes no value there
_SOFTPLUS_IDENTITY = {torch.float64: 40.0, torch.float32: 20.0}


def _softplus(ns, x):
    # one fused kernel and a one-pass backward (logaddexp's backward takes several), exact in
    # float32/float64 with a threshold where the identity is the rounded value
    t = _SOFTPLUS_IDENTITY.get(x.dtype)
    if t is None:
        return torch.logaddexp(x, x.new_zeros(()))
    return torch.nn.functional.softplus(x, beta=1.0, threshold=t)


def _sigmoid(ns, x):
    return torch.sigmoid(x)


def _take_class(ns, x, index, axis=-1):
    # gather wants int64 indices; one kernel, compiles once for every batch size
    axis = axis % x.ndim
    idx = index.to(torch.int64).unsqueeze(axis)
    return torch.gather(x, axis, idx).squeeze(axis)


#: from this many elements on, CPU ``argmax``/``argmin`` along an axis read ``max``/``min``'s index
_ARG_REDUCE_MIN = 2048


def _arg_reduce(arg, value):
    # torch's CPU argmax/argmin run a (value, index) reduction 1.5-8x slower than max(dim)'s
    # and min(dim)'s (1024x1024 along the last axis 1.7 ms vs 0.63 ms, 32x4x16x16 along axis 1
    # 0.97 ms vs 0.12 ms); both return the same index: the first extremum, or the first NaN
    def run(ns, x, axis=None, keepdims=False):
        # (a compiled graph keeps argmax: a test of a symbolic size would guard on it)
        if (axis is None or torch.compiler.is_compiling() or x.device.type != "cpu" or not x.is_floating_point()
                or x.numel() < _ARG_REDUCE_MIN or x.shape[axis] == 0):
            return arg(x, dim=axis, keepdim=keepdims)
        return value(x, dim=axis, keepdim=keepdims).indices

    return run


_argmax = _arg_reduce(torch.argmax, torch.max)
_argmin = _arg_reduce(torch.argmin, torch.min)


def _take_index(ns, x, index, axis=0):
    # index_select itself: array-api-compat's take first maps negative indices with a where
    # over the index (full passes) that indices known to be in range never need
    return torch.index_select(x, axis, index if index.dtype in (torch.int64, torch.int32) else index.to(torch.int64))


def _take_along_last(ns, x, index):
    # torch.gather: one kernel, and one compile for every size under dynamic shapes
    check_index_like(x, index)
    return torch.gather(x, -1, index.to(torch.int64))


def _where(ns, cond, x1, x2):
    # torch.where itself for tensors of one dtype (the usual case: ~10x less overhead than the
    # compat wrapper) and for a floating tensor with a Python float or int (a fill: no
    # full-size array of it, and the tensor's dtype, as the standard's scalar rule says);
    # anything else goes through array-api-compat's promotion rules
    t1, t2 = isinstance(x1, torch.Tensor), isinstance(x2, torch.Tensor)
    if t1 and t2:
        if x1.dtype == x2.dtype:
            return torch.where(cond, x1, x2)
    elif t1 or t2:
        t, v = (x1, x2) if t1 else (x2, x1)
        if type(v) in (float, int) and t.is_floating_point():
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



# -- custom gradients (backends/_generic.py custom_vjp) ----------------------------------------
class _CustomVJP(torch.autograd.Function):
    """``fwd``'s value; backward: ``bwd`` on the residuals ``fwd`` returned (tensors or None).

    Written in the ``setup_context`` form with a generated vmap rule, so that it also runs
    under ``torch.func`` transforms (``vmap``, ``grad``, ``vmap(grad(...))``). The residuals
    leave ``forward`` as extra, non-differentiable outputs (that is how the form hands them to
    ``setup_context``); ``needs`` -- which gradients the forward pass prepares -- is decided
    by the caller, before the transforms unwrap the tensors."""

    generate_vmap_rule = True

    @staticmethod
    def forward(ns, fwd, bwd, static, needs, *args):
        out, res = fwd(ns, static, needs, *args)
        # an input saved as a residual leaves as a view of itself (the form saves outputs)
        return (out, *(r.view_as(r) if r is not None and any(r is a for a in args) else r for r in res))

    @staticmethod
    def setup_context(ctx, inputs, output):
        ns, _, bwd, static, needs = inputs[:5]
        ctx.ns, ctx.bwd, ctx.static, ctx.needs, ctx.used = ns, bwd, static, needs, False
        res = output[1:]
        ctx.n_res = len(res)
        ctx.save_for_backward(*res)
        ctx.mark_non_differentiable(*(r for r in res if r is not None))
        ctx.set_materialize_grads(False)  # no zero-filled gradients for the residual outputs

    @staticmethod
    def backward(ctx, g, *_):
        if ctx.used:
            raise RuntimeError("a second backward pass through a custom gradient (retain_graph=True): its "
                               "residuals were consumed by the first; recompute the loss")
        grads = ctx.bwd(ctx.ns, ctx.static, ctx.needs, ctx.saved_tensors, g)
        ctx.used = getattr(ctx.bwd, "consumes_residuals", True)
        return (None, None, None, None, None, *grads)


def _transformed(a) -> bool:
    """Whether ``a`` is wrapped by a ``torch.func`` transform (its ``requires_grad`` then says
    nothing about whether an outer level differentiates it)."""
    if torch.compiler.is_compiling():  # traced tensors are plain ones here
        return False
    f = torch._C._functorch
    return f.is_batchedtensor(a) or f.is_gradtrackingtensor(a) or f.is_functionaltensor(a)


try:
    from torch._functorch.utils import unwrap_dead_wrappers as _unwrap_dead_wrappers

    #: the C++ apply under ``torch.autograd.Function.apply``, bound to ``_CustomVJP``
    _C_APPLY = super(torch.autograd.Function, _CustomVJP).apply
except (ImportError, AttributeError):  # pragma: no cover - other torch versions
    _C_APPLY = None


def _apply_custom_vjp(*args):
    # Function.apply first binds the arguments to forward's signature (inspect.signature: about
    # 20 us a call, more than the rest of a small loss) because setup_context is defined;
    # forward has no defaults, so outside functorch transforms and compilation the C++ apply
    # runs directly on the same arguments, as Function.apply does next
    if _C_APPLY is None or torch._C._are_functorch_transforms_active() or torch.compiler.is_compiling():
        return _CustomVJP.apply(*args)
    return _C_APPLY(*_unwrap_dead_wrappers(args))


def _custom_vjp(ns, fwd, bwd, static, *args):
    if torch.is_grad_enabled():
        # a tensor under a torch.func transform may be differentiated by an outer level even
        # where its requires_grad is False: prepare its gradient too
        needs = tuple(isinstance(a, torch.Tensor) and a.is_floating_point()
                      and (a.requires_grad or _transformed(a)) for a in args)
        if any(needs):
            return _apply_custom_vjp(ns, fwd, bwd, static, needs, *args)[0]
    return fwd(ns, static, None, *args)[0]


def _addmm(ns, acc, a, b):
    # in place where autograd does not record it (inside a custom gradient's forward/backward)
    if acc is None:
        return torch.matmul(a, b)
    if (torch.is_grad_enabled() and (acc.requires_grad or a.requires_grad or b.requires_grad)) or any(
            map(_transformed, (acc, a, b))):
        return torch.addmm(acc, a, b)
    return acc.addmm_(a, b)


def _scale_consumed(ns, x, g):
    # in place where autograd does not record it (a custom gradient's residual, used once)
    if (torch.is_grad_enabled() and (x.requires_grad or g.requires_grad)) or _transformed(x) or _transformed(g):
        return x * g
    return x.mul_(g)


# -- collectives (backends/collectives.py): torch.distributed, gradients summed over the group --
def _check_group(ns, group):
    if group is None:
        return None
    if isinstance(group, str):
        if group != "world":
            raise ValueError(f"group must be None, 'world' or a torch.distributed ProcessGroup, got {group!r}")
        if not (_dist.is_available() and _dist.is_initialized()):
            raise ValueError("group='world' needs an initialised default process group "
                             "(torch.distributed.init_process_group)")
        return _dist.group.WORLD
    if _dist.is_available() and isinstance(group, _dist.ProcessGroup):
        return group
    raise TypeError("group must be None, 'world' or a torch.distributed ProcessGroup, got "
                    f"{type(group).__module__}.{type(group).__qualname__}")


def _sum_over_group(x, group):
    out = x.contiguous().clone()
    _dist.all_reduce(out, op=_dist.ReduceOp.SUM, group=group)
    return out


def _gather_over_group(x, group):
    parts = [torch.empty_like(x) for _ in range(_dist.get_world_size(group))]
    _dist.all_gather(parts, x.contiguous(), group=group)
    return torch.cat(parts, dim=0)


class _AllGather(torch.autograd.Function):
    """The members' ``x`` along axis 0; backward: the gradients summed over the group, this
    member's rows."""

    @staticmethod
    def forward(ctx, x, group):
        ctx.group, ctx.n, ctx.rank = group, x.shape[0], _dist.get_rank(group)
        return _gather_over_group(x, group)

    @staticmethod
    def backward(ctx, g):
        start = ctx.rank * ctx.n
        return _sum_over_group(g, ctx.group)[start:start + ctx.n], None


class _AllSum(torch.autograd.Function):
    """The members' ``x`` summed; backward: the gradients summed over the group."""

    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        return _sum_over_group(x, group)

    @staticmethod
    def backward(ctx, g):
        return _sum_over_group(g, ctx.group), None


def _differentiable(x):
    return x.requires_grad and torch.is_grad_enabled()


def _all_gather(ns, x, group):
    group = gather_group(ns, x, group)
    if group is None:
        return x
    return _AllGather.apply(x, group) if _differentiable(x) else _gather_over_group(x, group)


def _all_sum(ns, x, group):
    group = ns.check_group(group)
    if group is None:
        return x
    return _AllSum.apply(x, group) if _differentiable(x) else _sum_over_group(x, group)


def _group_rank(ns, group):
    group = ns.check_group(group)
    return 0 if group is None else _dist.get_rank(group)


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

    def reads_in_place(self, x):
        return x.device.type in _IN_PLACE

    def primitives(self):
        return {
            "logsumexp": _logsumexp,
            "log_softmax": _log_softmax,
            "softmax": _softmax,
            "softplus": _softplus,
            "sigmoid": _sigmoid,
            "take_class": _take_class,
            "take_index": _take_index,
            "gathers_checked": self._gathers_checked,
            "argmax": _argmax,
            "argmin": _argmin,
            "take_along_last": _take_along_last,
            "nll_logits": _nll_logits,
            "stop_gradient": _stop_gradient,
            "relu0": _relu0,
            "relu1": _relu1,
            "abs0": _abs0,
            "where": _where,
            "unstack": _unstack,
            "custom_vjp": _custom_vjp,
            "addmm": _addmm,
            "scale_consumed": _scale_consumed,
            "extrema": _extrema,
            "host_scalars": _host_scalars,
        }

    def loss_paths(self):
        from .torch_losses import LOSS_PATHS

        return LOSS_PATHS

    def collectives(self):
        return {"check_group": _check_group, "all_gather": _all_gather, "all_sum": _all_sum,
                "group_rank": _group_rank}

    def _gathers_checked(self, ns, x):
        # _take_class's CPU gather raises "index ... is out of bounds", F.nll_loss's and
        # F.cross_entropy's CPU kernels "Target ... is out of bounds" (CUDA's are device-side
        # asserts); a traced or functorch-wrapped tensor is not eager
        return x.device.type == "cpu" and not self.is_lazy(x)

    def is_lazy(self, x):
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            return True
        if self._lazy_types and isinstance(x, self._lazy_types):
            return True
        if x.is_meta:
            return True
        return bool(self._is_wrapped is not None and self._is_wrapped(x))
