"""Per-sample critic gradients for gradient penalties (WGAN-GP), on torch and JAX.

The array API has no automatic differentiation, so this is the one framework-specific piece
of the gradient penalty: :func:`critic_gradients` returns :math:`\\nabla_x D(\\hat x)` at the
interpolates :math:`\\hat x = \\alpha x + (1 - \\alpha)\\tilde x`, and
:func:`losses.gradient_penalty` turns them into the penalty with plain array math::

    from losses.backends.autodiff import critic_gradients
    from losses import gradient_penalty

    grads = critic_gradients(critic, real, fake, alpha)      # alpha: (N,), e.g. uniform(0, 1)
    loss_d = critic_loss + 10.0 * gradient_penalty(grads)

Frameworks are imported lazily, only when their arrays show up.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ._core import framework_of

__all__ = ["critic_gradients"]

#: The array type of a call (a torch tensor or a JAX array): the gradients have the type of
#: ``real``. (``losses._typing.ArrayT`` without the bound: backends never import losses.)
ArrayT = TypeVar("ArrayT")

_AUTODIFF = ("torch", "jax")


def _interpolate(real, fake, alpha):
    if fake is None:
        if alpha is not None:
            raise ValueError("alpha needs fake: pass real, fake and alpha, or only the points x")
        return real
    if alpha is None:
        raise ValueError("interpolating real and fake needs the weights alpha (shape (N,))")
    if tuple(real.shape) != tuple(fake.shape):
        raise ValueError(
            f"real and fake must have the same shape, got real {tuple(real.shape)} and fake {tuple(fake.shape)}"
        )
    n = real.shape[0] if real.ndim else None
    ashape = tuple(alpha.shape)
    if ashape == (n,):
        alpha = alpha.reshape((n,) + (1,) * (real.ndim - 1))
    elif not (len(ashape) == real.ndim and ashape[0] == n and all(s == 1 for s in ashape[1:])):
        raise ValueError(
            f"alpha must have shape (N,) = ({n},) or ({n}, 1, ..., 1) to weight each sample of real "
            f"{tuple(real.shape)}, got {ashape}"
        )
    return alpha * real + (1 - alpha) * fake


def critic_gradients(critic: Callable[[ArrayT], ArrayT], real: ArrayT, fake: ArrayT | None = None,
                     alpha: ArrayT | None = None, *, create_graph: bool = True) -> ArrayT:
    r"""Gradients of a critic at (interpolated) inputs, one per sample.

    Returns :math:`g = \nabla_{\hat x} \sum_i D(\hat x)_i` with
    :math:`\hat x = \alpha\,\text{real} + (1 - \alpha)\,\text{fake}` (or
    :math:`\hat x = \text{real}` when ``fake`` is None). Because the critic treats samples
    independently (WGAN-GP critics use no batch normalisation), row ``i`` of ``g`` is the
    gradient of ``D(x̂_i)`` alone.

    Args:
        critic: callable mapping a batch ``(N, ...)`` to scores ``(N,)`` or ``(N, 1)`` (a
            ``torch.nn.Module``, or a JAX function closing over its parameters).
        real: real samples ``(N, ...)``, a torch tensor or JAX array (or the points x).
        fake: generated samples, same shape (optional).
        alpha: interpolation weights, shape ``(N,)`` or ``(N, 1, ..., 1)``, required with
            ``fake`` (draw them from U(0, 1) with your framework's RNG).
        create_graph: torch only: keep the graph of the gradient so the penalty can be
            backpropagated into the critic's parameters (required for WGAN-GP training).
            JAX differentiates through this function without it.

    Returns:
        The gradients, shape ``(N, ...)`` like ``real``.

    Raises:
        TypeError: arrays of a framework without automatic differentiation (NumPy,
            array-api-strict, Dask, CuPy): "needs automatic differentiation (torch or jax)";
            ``fake``/``alpha`` of another framework; a non-callable ``critic``; a non-bool
            ``create_graph``.
        ValueError: mismatched shapes of ``real``, ``fake`` and ``alpha``.
    """
    if not callable(critic):
        raise TypeError(f"critic must be callable, got {type(critic).__name__}")
    if not isinstance(create_graph, bool):
        raise TypeError(f"create_graph must be a bool, got {create_graph!r}")
    fw = framework_of(real)
    if fw not in _AUTODIFF:
        got = fw if fw is not None else type(real).__name__
        raise TypeError(
            f"critic_gradients needs automatic differentiation (torch or jax); got {got} arrays"
        )
    for other, name in ((fake, "fake"), (alpha, "alpha")):
        if other is not None and framework_of(other) != fw:
            raise TypeError(
                f"{name} must be a {fw} array like real, got {type(other).__module__}.{type(other).__qualname__}"
            )
    if fw == "torch":
        return _torch_gradients(critic, real, fake, alpha, create_graph)
    return _jax_gradients(critic, real, fake, alpha)


def _torch_gradients(critic, real, fake, alpha, create_graph):
    import torch

    x = _interpolate(real, fake, alpha)
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        scores = critic(x)
        (grads,) = torch.autograd.grad(scores.sum(), x, create_graph=create_graph)
    return grads


def _jax_gradients(critic, real, fake, alpha):
    import jax
    import jax.numpy as jnp

    def total(x):
        return jnp.sum(critic(x))

    return jax.grad(total)(_interpolate(real, fake, alpha))
