"""PyTorch's own kernels for whole losses (``torch.nn.functional``), one module per family.

Each entry ``fn(ns, *args, **kwargs)`` takes the arguments the loss's generic body receives
after validation and promotion, and returns the result or ``NotImplemented`` when the torch
kernel's semantics do not cover that argument combination (then the generic body runs).
The conformance suite runs every case of a registered loss both ways -- values in float64 and
float32, gradients, NaN/inf variants -- so a kernel here can never change a result.
"""
from __future__ import annotations

from . import classification, margin, metric, regression, sequence

LOSS_PATHS: dict = {}
for _module in (regression, classification, margin, metric, sequence):
    LOSS_PATHS.update(_module.LOSS_PATHS)
