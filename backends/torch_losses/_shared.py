"""Helpers shared by the torch kernels of every family."""
from __future__ import annotations


def cast_to(out, out_dtype):
    """``out`` in the loss's output dtype (the kernels compute in the promoted dtype)."""
    return out if out_dtype is None or out.dtype == out_dtype else out.to(out_dtype)
