"""What a conformance case is.

A case = a loss, a generator of NumPy float64 inputs, the static keyword arguments, which
arguments are differentiable, and flags for the transforms and edge behaviour. The engine
(``conformance/engine.py``) runs every case over every installed backend x device x dtype x
transform and compares against the NumPy float64 result of the same loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Peer:
    """A peer library's twin of a loss, run on the same inputs (float64).

    ``fn(**arrays)`` receives the case's arrays converted to ``framework`` arrays (float64)
    and returns the peer's value (already mapped to our parameters/reduction). Its value and,
    if ``grad``, its gradient wrt the case's ``diff`` arguments must match ours to ``rtol``.
    ``requires`` names a module that must be importable (e.g. ``"optax"``), else skipped.
    ``diff`` restricts the gradient comparison to these arguments (None: the case's ``diff``),
    e.g. when the peer is not differentiable wrt a class-weight argument.
    """

    name: str
    framework: str
    fn: Callable[..., Any]
    grad: bool = True
    rtol: float = 1e-12
    atol: float = 1e-12
    requires: str | None = None
    diff: tuple | None = None


@dataclass(frozen=True)
class Case:
    """One conformance case.

    Attributes:
        loss: the public loss function.
        gen: ``gen(rng, n) -> dict`` of argument name -> NumPy array (floating arrays in
            float64: they are cast to the dtype under test; integer/bool arrays keep their
            dtype). ``n`` is the batch size (8 unless a check varies it). The loss is called
            as ``loss(**arrays, **kwargs)``.
        kwargs: static keyword arguments (hyper-parameters, ``reduction``...).
        diff: names of the arguments gradients are checked for (floating ones).
        name: variant label, unique per loss (``"random"``, ``"ignore_index"``, ``"logits_1e4"``).
        fd: compare gradients with central finite differences of NumPy float64. Set False
            for inputs on kinks or at domain boundaries (then backends are compared with
            each other and with the peers only).
        vmap: names of arguments batched along axis 0 for the per-sample vmap check
            (jax.vmap / torch.func.vmap), or None when per-sample mapping is meaningless.
        dynamic: whether ``n`` is a batch size (checked for one compile across 8..1024
            under ``torch.compile(dynamic=True)``).
        dtypes: restrict the dtypes (e.g. ``("float64", "float32")`` for inputs that
            overflow float16), or None for all of the backend's.
        tol: tolerance factor: values/gradients must agree within ``tol * eps(dtype)``
            relative (plus the same absolute, scaled by the reference's magnitude).
        finite: the value and gradient must be finite (edge cases check this on purpose).
        peers: twins in peer libraries.
        backends: restrict to these backends (None: all installed).
        costly_eager: eager JAX compiles every primitive (and a scan) per shape, seconds per
            call for a recursion such as CTC's: for such a case other than the loss's first,
            the eager JAX value and gradient checks, and eager JAX as the cross-backend
            reference of gradients checked by finite differences, are left to the slow tier
            (``jax.jit`` still checks the case in the default run).
        edge_exemptions: ``(pattern, reason)`` pairs: the NaN/±inf/empty variant checks
            whose id suffix matches the glob ``pattern`` (e.g. ``"target=inf-peer*"``,
            ``"input=nan-*-compiled"``, ``"empty-dask-*"``) are skipped with ``reason``: a
            deliberate difference, which must be listed in docs/differences.md.
    """

    loss: Callable[..., Any]
    gen: Callable[..., dict]
    kwargs: dict = field(default_factory=dict)
    diff: tuple = ("input",)
    name: str = "random"
    fd: bool = True
    vmap: tuple | None = None
    dynamic: bool = False
    dtypes: tuple | None = None
    tol: float = 64.0
    finite: bool = True
    peers: tuple = ()
    backends: tuple | None = None
    edge_exemptions: tuple = ()
    costly_eager: bool = False

    def exemption(self, suffix: str) -> str | None:
        """The reason a variant check (id suffix after ``~``) is exempt, or None."""
        from fnmatch import fnmatchcase

        for pattern, reason in self.edge_exemptions:
            if fnmatchcase(suffix, pattern):
                return reason
        return None

    @property
    def loss_name(self) -> str:
        return self.loss.__name__

    @property
    def id(self) -> str:
        return f"{self.loss_name}[{self.name}]"
