"""Lazy access to peer libraries inside case definitions (imported only when a peer runs)."""
from __future__ import annotations


def F():
    import torch.nn.functional as F

    return F


def torch():
    import torch

    return torch


def optax():
    import optax

    return optax


def jnp():
    import jax.numpy as jnp

    return jnp
