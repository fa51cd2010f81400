"""torch kernels for the sequence family: CTC through ATen's own ``_ctc_loss``.

``ctc_loss`` (see ``losses/sequence.py``) hands over time-major, promoted arguments and gets
back the per-sequence negative log-likelihoods with the library's policy; the reduction stays
in the generic body. ATen's forward (alpha) and backward (beta) recursions run in C++; the
library's semantics are restored on top of them, each at the cost of a few element-wise ops:

* gradient wrt ``log_probs``: ATen returns ``exp(log_probs) - posterior`` (it assumes
  ``log_softmax`` inputs); the exact derivative is ``-posterior``, recovered from ATen's
  backward for a unit cotangent and renormalised per frame (the posteriors of an active
  frame sum to 1), which restores full accuracy for path log-probabilities of order 1e4;
* infeasible sequences (``nll > 1e29``, the generic body's threshold): value ``inf`` (0 with
  ``zero_infinity``), gradient 0 (ATen's ``zero_infinity`` backward, whatever the flag);
* a ``+inf`` log-probability read by an empty label sequence: ATen gives ``-inf``, the
  library NaN; a sequence whose loss is NaN has a NaN gradient on all its active frames;
* elements that are not finite (``log 0`` masks, unread NaN/``+inf``) get a zero gradient
  where ATen's formula computes ``-inf - (-inf)``, except on the active frames of a NaN
  sequence;
* an empty label sequence over zero frames gives ``+0``, not ATen's ``-0``.

CPU tensors outside ``torch.func`` transforms and ``torch.compile`` tracing only; everything
else keeps the generic scan.
"""
from __future__ import annotations

import math

import torch

#: the generic body's feasibility threshold: a best path below ``-1e29`` is infeasible
_INFEASIBLE_NLL = 1e29


class _NativeCTC(torch.autograd.Function):
    """Per-sequence CTC negative log-likelihood ``(N,)`` with the library's semantics."""

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        nll, log_alpha = torch._ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, True)
        infeasible = nll > _INFEASIBLE_NLL
        out = nll.masked_fill(nll == -math.inf, math.nan)
        out.masked_fill_(infeasible, 0.0 if zero_infinity else math.inf).add_(0.0)  # -0 -> +0
        ctx.blank = blank
        ctx.save_for_backward(log_probs, targets, input_lengths, target_lengths, nll, log_alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        log_probs, targets, input_lengths, target_lengths, nll, log_alpha, out = ctx.saved_tensors
        nan_seq = torch.isnan(out)
        feasible = nll <= _INFEASIBLE_NLL  # False for NaN too
        # ATen's backward for a unit cotangent: exp(log_probs) - posterior on active frames (0 on
        # inactive frames and infeasible sequences; NaN on the active frames of NaN sequences)
        unit = feasible.to(log_probs.dtype).masked_fill_(nan_seq, math.nan)
        raw = torch.ops.aten._ctc_loss_backward.Tensor(
            unit, log_probs, targets, input_lengths, target_lengths, nll, log_alpha, ctx.blank, True)
        post = torch.exp(log_probs, out=torch.empty_like(raw)).sub_(raw)  # ATen's (T, N, C) layout
        # non-finite log-probabilities (log 0 masks, unread NaN/inf): no gradient; in a NaN
        # sequence the factor below is NaN on active frames, so they stay NaN (0 * NaN)
        post.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
        # the posteriors of a frame sum to 1: renormalising restores the accuracy ATen's
        # exp(log_alpha + log_beta + nll - log_probs) loses when the path log-probabilities
        # are large (e.g. logits of 1e4)
        norm = post.sum(dim=2, keepdim=True)
        frames = torch.arange(log_probs.shape[0], device=log_probs.device)
        use = (frames[:, None] < input_lengths.to(frames.dtype)[None, :]) & (feasible | nan_seq)[None, :]
        zero = torch.zeros((), dtype=log_probs.dtype, device=log_probs.device)
        factor = torch.where(use[:, :, None], grad_out.neg()[None, :, None] / norm, zero)
        factor.masked_fill_((use & nan_seq[None, :])[:, :, None], math.nan)
        return post.mul_(factor), None, None, None, None, None


def _transformed(*tensors) -> bool:
    if torch.compiler.is_compiling():
        return True
    try:
        if torch._C._are_functorch_transforms_active():
            return True
    except AttributeError:  # pragma: no cover - older torch
        pass
    return any(torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors)


def ctc_loss(ns, log_probs, targets, input_lengths, target_lengths, *, blank, zero_infinity, checked):
    """Per-sequence negative log-likelihoods ``(N,)`` of time-major ``log_probs`` ``(T, N, C)``
    (float32/float64), padded ``(N, S)`` or concatenated 1-D ``targets`` and ``(N,)`` lengths.
    ``checked()`` reads the call's value checks first: ATen's kernel does not check the labels
    and would read out of bounds at a bad one."""
    tensors = (log_probs, targets, input_lengths, target_lengths)
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        return NotImplemented
    if log_probs.dtype not in (torch.float32, torch.float64) or log_probs.shape[0] == 0 \
            or any(t.device.type != "cpu" for t in tensors) or _transformed(*tensors):
        return NotImplemented
    if targets.dtype not in (torch.int32, torch.int64):
        targets = targets.to(torch.int64)
    checked()
    return _NativeCTC.apply(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)


LOSS_PATHS = {"ctc_loss": ctc_loss}
