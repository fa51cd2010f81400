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


def torchvision_sigmoid_focal(x, y, alpha=0.25, gamma=2.0):
    """``torchvision.ops.sigmoid_focal_loss(x, y, alpha, gamma, reduction="none")``, written
    out in torch (torchvision has no CPU build here): the formula of its source, NaN gradients
    for gamma < 1 included."""
    p = torch().sigmoid(x)
    ce = F().binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss



def monai_losses():
    import warnings

    import monai.losses as ml

    warnings.filterwarnings("ignore", module="monai")
    return ml
