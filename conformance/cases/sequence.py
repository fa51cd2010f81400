"""CTC cases. Kept tiny (T <= 12, N <= 3 except the batch-size case) because the time loop
unrolls under torch.compile and the finite differences evaluate the recursion per element.

Peer gradient mapping: torch's and optax's CTC gradients wrt ``log_probs`` both contain an
extra ``exp(log_probs)`` on active frames (torch assumes log_softmax inputs; optax applies
log_softmax itself). The peers below subtract ``c - stop_gradient(c)`` with ``c`` the sum of ``logsumexp(log_probs)``
over active frames: its value is 0 (also for the NaN/inf variants, whose rows are not
normalised; 0 where ``c`` is not finite) and its gradient is exactly that term, so the mapped
peers give torch's/optax's values and the exact derivative wrt ``log_probs`` that
``ctc_loss`` returns.
"""
import dataclasses

import numpy as np

from ... import sequence as L
from ..case import Case, Peer
from . import _peers as P

C = 4


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _ctc(T=10, N=3, S=3, il=(10, 8, 6), tl=(3, 2, 1), scale=1.0, batch_first=False, labels=None):
    def gen(rng, n):
        lp = _log_softmax(rng.normal(size=(T, N, C)) * scale)
        tg = rng.integers(1, C, size=(N, S)) if labels is None else np.asarray(labels)
        out = {"log_probs": np.ascontiguousarray(lp.transpose(1, 0, 2)) if batch_first else lp,
               "targets": tg.astype(np.int64),
               "input_lengths": np.asarray(il, dtype=np.int64),
               "target_lengths": np.asarray(tl, dtype=np.int64)}
        return out

    return gen


def _concat(gen):
    def g(rng, n):
        d = gen(rng, n)
        d["targets"] = np.concatenate([d["targets"][i, :k] for i, k in enumerate(d["target_lengths"])])
        return d

    return g


def _batch(rng, n):
    """Batch size n (T=4, S=2): one compile for every n under torch.compile(dynamic=True)."""
    lp = _log_softmax(rng.normal(size=(3, n, C)))
    return {"log_probs": lp, "targets": rng.integers(1, C, size=(n, 2)),
            "input_lengths": np.full((n,), 3, dtype=np.int64), "target_lengths": rng.integers(0, 3, size=(n,))}


def _unbatched(rng, n):
    return {"log_probs": _log_softmax(rng.normal(size=(6, C))), "targets": np.array([1, 3, 3], dtype=np.int64),
            "input_lengths": np.array(5, dtype=np.int64), "target_lengths": np.array(3, dtype=np.int64)}


def _reduce_torch(torch, per, tl, reduction):
    if reduction == "mean":
        return (per / tl.clamp_min(1)).mean()
    return per.sum() if reduction == "sum" else per


def _torch_ctc(reduction="mean", zero_infinity=False, batch_first=False, blank=0):
    def peer(log_probs, targets, input_lengths, target_lengths):
        torch, F = P.torch(), P.F()
        lp = log_probs.transpose(0, 1) if batch_first else log_probs
        unbatched = lp.ndim == 2
        out = F.ctc_loss(lp, targets, input_lengths, target_lengths, blank=blank, reduction=reduction,
                         zero_infinity=zero_infinity)
        if unbatched:
            lp, il, tl = lp[:, None], input_lengths.reshape(1), target_lengths.reshape(1)
        else:
            il, tl = input_lengths, target_lengths
        active = torch.arange(lp.shape[0])[:, None] < il[None, :]
        corr = (torch.logsumexp(lp, dim=-1) * active).sum(0)
        if zero_infinity:  # torch zeroes the whole gradient of infeasible sequences
            raw = F.ctc_loss(lp.detach(), targets if not unbatched else targets[None], il, tl, blank=blank,
                             reduction="none")
            corr = torch.where(torch.isinf(raw), torch.zeros_like(corr), corr)
        corr = _reduce_torch(torch, corr, tl, reduction)
        corr = torch.where(torch.isfinite(corr), corr - corr.detach(), torch.zeros_like(corr))
        return out - (corr.reshape(()) if unbatched and reduction == "none" else corr)

    return peer


def _optax_ctc(blank=0):
    """optax on batch-first inputs, per sequence (reduction="none")."""

    def peer(log_probs, targets, input_lengths, target_lengths):
        optax, jnp = P.optax(), P.jnp()
        n, t, _ = log_probs.shape
        logit_pad = (jnp.arange(t)[None, :] >= input_lengths[:, None]).astype(log_probs.dtype)
        label_pad = (jnp.arange(targets.shape[1])[None, :] >= target_lengths[:, None]).astype(log_probs.dtype)
        per = optax.ctc_loss(log_probs, logit_pad, targets, label_pad, blank_id=blank)
        corr = jnp.sum(jax_lse(log_probs) * (1.0 - logit_pad), axis=1)
        corr = jnp.where(jnp.isfinite(corr), corr - _stop_gradient(corr), 0.0)
        return per - corr

    return peer


def jax_lse(x):
    import jax

    return jax.nn.logsumexp(x, axis=-1)


def _stop_gradient(x):
    import jax

    return jax.lax.stop_gradient(x)


def _tp(reduction="mean", rtol=1e-12, **kw):
    return Peer(f"torch.nn.functional.ctc_loss (reduction={reduction})", "torch", _torch_ctc(reduction, **kw),
                rtol=rtol, atol=rtol)


_OPTAX = Peer("optax.ctc_loss (per sequence)", "jax", _optax_ctc(), requires="optax", rtol=1e-10, atol=1e-10)
_LP = ("log_probs",)
_ALL = ("log_probs", "targets", "input_lengths", "target_lengths")
_HI = ("float64", "float32")  # low precision is covered by the first two cases

CASES = [
    # padded targets, varied input lengths, one empty target, repeats drawn at random
    Case(L.ctc_loss, _ctc(T=8, il=(8, 6, 5), tl=(3, 2, 0)), {}, diff=_LP, peers=(_tp("mean"),),
         # docs/differences.md: torch gives -inf for a +inf at the last active frame of an
         # empty label sequence (NaN at every other frame); ours is NaN wherever it is read
         edge_exemptions=(("log_probs=inf-peer0", "+inf in an empty label sequence's last frame: "
                                                  "ours NaN, torch -inf"),)),
    Case(L.ctc_loss, _ctc(T=7, il=(7, 7, 5), tl=(3, 1, 2), batch_first=True), {"reduction": "none", "batch_first": True},
         name="batch_first", diff=_LP, vmap=_ALL, peers=(_tp("none", batch_first=True), _OPTAX)),
    Case(L.ctc_loss, _concat(_ctc(T=6, il=(6, 4, 5), tl=(3, 1, 2))), {"reduction": "sum"}, name="concatenated",
         diff=_LP, dtypes=_HI, peers=(_tp("sum"),)),
    # repeated labels need a blank in between: T exactly the minimum for [1, 1, 1] (5 frames)
    Case(L.ctc_loss, _ctc(T=6, il=(5, 6, 4), tl=(3, 3, 2), labels=[[1, 1, 1], [1, 3, 2], [3, 3, 0]]),
         {"reduction": "none", "blank": 0}, name="repeats_tight", diff=_LP, dtypes=_HI, peers=(_tp("none"),)),
    Case(L.ctc_loss, _ctc(T=5, il=(5, 4, 3), tl=(3, 3, 3), labels=[[1, 2, 3], [2, 2, 2], [1, 1, 2]]),
         {"zero_infinity": True}, name="infeasible_zero_infinity", diff=_LP, dtypes=_HI,
         peers=(_tp("mean", zero_infinity=True),)),
    # infeasible sequences without zero_infinity: inf values; the gradient stays finite (0 on their rows)
    Case(L.ctc_loss, _ctc(T=5, il=(5, 4, 3), tl=(3, 3, 3), labels=[[1, 2, 3], [2, 2, 2], [1, 1, 2]]),
         {"reduction": "none"}, name="infeasible_inf", diff=_LP, dtypes=_HI, fd=False, finite=False),
    Case(L.ctc_loss, _ctc(T=5, S=2, il=(5, 5, 4), tl=(2, 1, 2), scale=1e4), {"reduction": "none"},
         name="logits_1e4", diff=_LP, dtypes=_HI, peers=(_tp("none", rtol=1e-10),)),
    Case(L.ctc_loss, _unbatched, {"reduction": "none"}, name="unbatched", diff=_LP, dtypes=_HI, peers=(_tp("none"),)),
    Case(L.ctc_loss, _batch, {"reduction": "sum"}, name="batch_size", diff=_LP, dtypes=_HI, dynamic=True),
]
# the recursion makes eager JAX slow (a compile per shape); jax.jit checks every case by default
CASES = CASES[:1] + [dataclasses.replace(c, costly_eager=True) for c in CASES[1:]]

# tests/test_edges.py: value domains of the array arguments and per-function bad hyper-parameters
DOMAINS = {"ctc_loss": {"targets": "class", "input_lengths": "nonneg", "target_lengths": "nonneg"}}
HYPER_RANGES = {"ctc_loss": {"blank": (C, 10**6)}}  # blank must be a class index in [0, C)
