"""Collectives of the batch-coupled losses (DESIGN rule 12): ``group=`` and the primitives
``check_group``, ``all_gather``, ``all_sum`` and ``group_rank``.

A *group* is the set of processes (PyTorch) or mapped devices (JAX) that each hold one shard
of a batch; every member holds the same number of samples. ``group=None`` means "this call
sees the whole batch": the collectives are the identity and ``group_rank`` is 0, so a loss
written with them computes exactly its single-process value.

* ``all_gather(x, group)``: the members' ``x`` concatenated along axis 0, in rank order.
* ``all_sum(x, group)``: the element-wise sum of the members' ``x``.
* ``group_rank(group)``: this member's index in the group (its shard starts at
  ``group_rank * local_batch`` of the gathered batch).

Gradients. PyTorch: both collectives have a backward that sums the incoming gradients over the
group (``all_reduce``) and returns this member's part. Every member computes the same global
objective ``L``, so each member's local inputs receive ``world_size * dL/dx`` -- the gradient
that ``DistributedDataParallel``'s averaging over ``world_size`` members turns back into the
single-process gradient. JAX: ``lax.all_gather``/``lax.psum`` inside ``shard_map``/``pmap``,
whose transposes make ``jax.grad`` of the mapped function the unsharded gradient.

These are not fast paths: the generic namespaces (``generic_paths``) keep them.
"""
from __future__ import annotations


def _generic_check_group(ns, group):
    if group is not None:
        raise ValueError(
            f"group= must be None for {ns.framework} arrays (one process holds the whole batch"
            + ("; Dask arrays are already global" if ns.framework == "dask" else "")
            + f"), got {group!r}"
        )
    return None


def _local(ns, x, group):
    """The generic collective: the group is one member, this call."""
    ns.check_group(group)
    return x


def _rank0(ns, group):
    ns.check_group(group)
    return 0


GENERIC = {
    "check_group": _generic_check_group,
    "all_gather": _local,
    "all_sum": _local,
    "group_rank": _rank0,
}


# --------------------------------------------------------------------------------- torch ----
def torch_collectives():
    import torch
    import torch.distributed as dist

    def check_group(ns, group):
        if group is None:
            return None
        if isinstance(group, str):
            if group != "world":
                raise ValueError(f"group must be None, 'world' or a torch.distributed ProcessGroup, got {group!r}")
            if not (dist.is_available() and dist.is_initialized()):
                raise ValueError("group='world' needs an initialised default process group "
                                 "(torch.distributed.init_process_group)")
            return dist.group.WORLD
        if dist.is_available() and isinstance(group, dist.ProcessGroup):
            return group
        raise TypeError(f"group must be None, 'world' or a torch.distributed ProcessGroup, got "
                        f"{type(group).__module__}.{type(group).__qualname__}")

    def _sum_over_group(g, group):
        g = g.contiguous().clone()
        dist.all_reduce(g, op=dist.ReduceOp.SUM, group=group)
        return g

    class _AllGather(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, group):
            ctx.group, ctx.n = group, x.shape[0]
            ctx.rank = dist.get_rank(group)
            parts = [torch.empty_like(x) for _ in range(dist.get_world_size(group))]
            dist.all_gather(parts, x.contiguous(), group=group)
            return torch.cat(parts, dim=0)

        @staticmethod
        def backward(ctx, g):
            start = ctx.rank * ctx.n
            return _sum_over_group(g, ctx.group)[start:start + ctx.n], None

    class _AllSum(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, group):
            ctx.group = group
            return _sum_over_group(x, group)

        @staticmethod
        def backward(ctx, g):
            return _sum_over_group(g, ctx.group), None

    def _differentiable(x):
        return x.requires_grad and torch.is_grad_enabled()

    def all_gather(ns, x, group):
        group = ns.check_group(group)
        if group is None:
            return x
        if x.ndim == 0:
            raise ValueError("all_gather needs an array with a batch axis, got a 0-d array")
        if _differentiable(x):
            return _AllGather.apply(x, group)
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size(group))]
        dist.all_gather(parts, x.contiguous(), group=group)
        return torch.cat(parts, dim=0)

    def all_sum(ns, x, group):
        group = ns.check_group(group)
        if group is None:
            return x
        return _AllSum.apply(x, group) if _differentiable(x) else _sum_over_group(x, group)

    def group_rank(ns, group):
        group = ns.check_group(group)
        return 0 if group is None else dist.get_rank(group)

    return {"check_group": check_group, "all_gather": all_gather, "all_sum": all_sum,
            "group_rank": group_rank}


# ----------------------------------------------------------------------------------- jax ----
def jax_collectives():
    import inspect

    import jax

    invariant = {"to": "invarying"} if "to" in inspect.signature(jax.lax.all_gather).parameters else {}

    def check_group(ns, group):
        if group is None:
            return None
        names = group if isinstance(group, tuple) else (group,)
        if not names or not all(isinstance(n, str) for n in names):
            raise TypeError("group must be None, a mapped axis name (str) or a tuple of axis names "
                            f"(shard_map/pmap), got {group!r}")
        for n in names:
            try:
                jax.lax.axis_size(n)
            except NameError:
                raise ValueError(f"group={group!r}: axis name {n!r} is not bound here; call the loss "
                                 "inside shard_map/pmap over that axis") from None
        return group

    def all_gather(ns, x, group):
        group = ns.check_group(group)
        if group is None:
            return x
        if x.ndim == 0:
            raise ValueError("all_gather needs an array with a batch axis, got a 0-d array")
        # the gathered batch is the same on every member ("invarying", where JAX types it), so a
        # loss computed from it alone is replicated -- shard_map's out_specs=P() accepts it
        return jax.lax.all_gather(x, group, axis=0, tiled=True, **invariant)

    def all_sum(ns, x, group):
        group = ns.check_group(group)
        return x if group is None else jax.lax.psum(x, group)

    def group_rank(ns, group):
        group = ns.check_group(group)
        return 0 if group is None else jax.lax.axis_index(group)

    return {"check_group": check_group, "all_gather": all_gather, "all_sum": all_sum,
            "group_rank": group_rank}
