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

These are not fast paths: the generic namespaces (``generic_paths``) keep them. The native
ones live with their framework's adapter (``backends/torch.py``, ``backends/jax.py``).
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


def gather_group(ns, x, group):
    """``all_gather``'s checks, shared by the native versions: the resolved group (None: no
    collective), and ``x`` must have a batch axis."""
    group = ns.check_group(group)
    if group is not None and x.ndim == 0:
        raise ValueError("all_gather needs an array with a batch axis, got a 0-d array")
    return group


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
