import functools

import numpy as np

from ... import ranking as L
from ..case import Case, Peer
from . import _peers as P

LIST = 5  # items per list (the batch axis n counts lists)


def _lists(rng, n):
    """Scores and graded labels (0..3, ties likely) of n lists."""
    return {"scores": rng.normal(size=(n, LIST)) * 1.5,
            "labels": rng.integers(0, 4, size=(n, LIST)).astype(np.float64)}


def _padded(rng, n):
    """Lists of lengths 5, 2, 4, 0 (all masked), 3, ... padded to 5 items, per-item weights;
    integer labels (cast, the library's policy)."""
    d = _lists(rng, n)
    lengths = np.resize(np.array([5, 2, 4, 0, 3]), n)
    d["where"] = np.arange(LIST) < lengths[:, None]
    d["weight"] = rng.uniform(0.2, 2.0, size=(n, LIST))
    d["labels"] = d["labels"].astype(np.int32)
    return d


def _padded_unweighted(rng, n):
    d = _padded(rng, n)
    del d["weight"]
    return d


def _kinks(rng, n):
    # integer scores: pairwise hinge margins s_i - s_j exactly 1 (the kink) and 0
    d = _lists(rng, n)
    d["scores"] = rng.integers(-2, 3, size=(n, LIST)).astype(np.float64)
    return d


def _rax(fn_name, reduce="mean", pairwise=False, approx=None, **kw):
    """rax's twin as the user writes it, on JAX arrays (``where``/``weights`` passed through),
    under one ``jax.jit`` (rax op by op compiles each of its primitives: many seconds)."""
    compiled = {}

    def peer(scores, labels, where=None, weight=None):
        import jax

        if "fn" not in compiled:
            compiled["fn"] = jax.jit(body)
        return compiled["fn"](scores, labels, where, weight)

    def body(scores, labels, where, weight):
        import jax
        import rax

        jnp = P.jnp()
        extra = dict(kw)
        if where is not None:
            extra["where"] = where
        if weight is not None:
            extra["weights"] = weight
        reduce_fn = None if reduce == "none" else getattr(jnp, reduce)
        labels = labels.astype(scores.dtype)
        if approx is not None:  # rax.approx_t12n(metric, temperature), its body (jax.util is gone)
            def step(x):
                return jax.nn.sigmoid(x / approx)
            metric = getattr(rax, fn_name)
            out = -metric(scores, labels, rank_fn=functools.partial(rax.utils.approx_ranks, step_fn=step),
                          cutoff_fn=functools.partial(rax.utils.approx_cutoff, step_fn=step),
                          reduce_fn=reduce_fn, **extra)
        else:
            out = getattr(rax, fn_name)(scores, labels, reduce_fn=reduce_fn, **extra)
        return jnp.sum(out, axis=-1) if pairwise and reduce == "none" else out

    return peer


def _optax_softmax(scores, labels, where=None, weight=None):
    return P.optax().losses.ranking_softmax_loss(scores, labels.astype(scores.dtype), where=where, weights=weight)


# the mean of nothing: rax gives 0, ours NaN (docs/differences.md); the padded cases keep one
# valid list, so rax's and our means agree on them
_V = ("scores", "labels")
_VW = ("scores", "labels", "where", "weight")
_S = ("scores",)


def _peer(name, *args, **kw):
    return Peer(f"rax.{name}", "jax", _rax(name, *args, **kw), requires="rax", rtol=1e-11, atol=1e-12)


CASES = [
    Case(L.ranking_softmax_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True,
         peers=(Peer("optax.losses.ranking_softmax_loss", "jax", _optax_softmax, requires="optax",
                     rtol=1e-11, atol=1e-12),
                _peer("softmax_loss"))),
    Case(L.ranking_softmax_loss, _padded, {"reduction": "none"}, name="padded_weighted", diff=_S,
         peers=(_peer("softmax_loss", "none"),)),
    Case(L.poly1_softmax_loss, _lists, {"epsilon": 0.5}, diff=_S, vmap=_V, dynamic=True,
         peers=(_peer("poly1_softmax_loss", epsilon=0.5),)),
    Case(L.poly1_softmax_loss, _padded, {"reduction": "sum"}, name="padded_weighted", diff=_S,
         peers=(_peer("poly1_softmax_loss", "sum"),)),
    Case(L.listmle_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True, peers=(_peer("listmle_loss"),)),
    Case(L.listmle_loss, _padded_unweighted, {"reduction": "none"}, name="padded", diff=_S,
         peers=(_peer("listmle_loss", "none"),)),
    Case(L.pairwise_hinge_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True,
         peers=(_peer("pairwise_hinge_loss", pairwise=True),)),
    Case(L.pairwise_hinge_loss, _padded, {"reduction": "none"}, name="padded_weighted", diff=_S,
         peers=(_peer("pairwise_hinge_loss", "none", pairwise=True),)),
    Case(L.pairwise_hinge_loss, _kinks, {"reduction": "sum"}, name="kinks", diff=_S, fd=False,
         peers=(_peer("pairwise_hinge_loss", "sum", pairwise=True),)),
    Case(L.pairwise_logistic_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True,
         peers=(_peer("pairwise_logistic_loss", pairwise=True),)),
    Case(L.pairwise_logistic_loss, _padded, {"reduction": "sum"}, name="padded_weighted", diff=_S,
         peers=(_peer("pairwise_logistic_loss", "sum", pairwise=True),)),
    Case(L.pairwise_mse_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True,
         peers=(_peer("pairwise_mse_loss", pairwise=True),)),
    Case(L.pairwise_mse_loss, _padded, {"reduction": "none"}, name="padded_weighted", diff=_S,
         peers=(_peer("pairwise_mse_loss", "none", pairwise=True),)),
    Case(L.approx_ndcg_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True,
         peers=(_peer("ndcg_metric", approx=1.0),)),
    Case(L.approx_ndcg_loss, _padded, {"temperature": 0.5, "reduction": "none"}, name="padded_weighted", diff=_S,
         peers=(_peer("ndcg_metric", "none", approx=0.5),)),
    Case(L.approx_mrr_loss, _lists, {}, diff=_S, vmap=_V, dynamic=True,
         peers=(_peer("mrr_metric", approx=1.0),)),
    Case(L.approx_mrr_loss, _padded_unweighted, {"temperature": 0.5, "reduction": "sum"}, name="padded", diff=_S,
         peers=(_peer("mrr_metric", "sum", approx=0.5),)),
]

# bad values of hyper-parameters beyond the per-name RANGES of tests/test_edges.py
HYPER_RANGES = {
    "poly1_softmax_loss": {"epsilon": (float("inf"),)},
}
