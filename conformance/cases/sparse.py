import numpy as np

from ... import sparse as L
from ..case import Case, Peer
from . import _peers as P

C = 5  # classes


def _entmax():
    import entmax

    return entmax


def _cls(rng, n):
    return {"input": rng.normal(size=(n, C)) * 2, "target": rng.integers(0, C, size=(n,))}


def _cls_ties(rng, n):
    # tied scores, scores exactly on the threshold (p_j = 0 at z_j = tau) and a winning target
    z = np.resize(np.array([[1.0, 1.0, 0.0, -1.0, 0.0], [2.0, 0.0, 0.0, 0.0, 0.0],
                            [0.5, 0.5, 0.5, 0.5, 0.5], [3.0, 1.0, 2.0, 2.0, -4.0]]), (n, C))
    return {"input": z, "target": np.resize(np.array([0, 1, 2, 3, 4, 2, 0]), (n,))}


def _cls_masked(rng, n):
    # masked classes (-inf logits) that are never the target, and logits of 1e4
    d = _cls(rng, n)
    d["input"][:, -1] = -np.inf
    d["target"] = np.minimum(d["target"], C - 2)
    d["input"][0, 0] = 1e4
    return d


def _entmax_peer(fn, **kw):
    """An ``entmax`` package loss (per sample) on (N, C) scores, averaged."""
    return lambda input, target: getattr(_entmax(), fn)(input, target, **kw).mean()


def _entmax_unmasked(fn):
    """The entmax loss per sample with -inf scores replaced by -1e6 (entmax's <p, z> gives
    0 * -inf = NaN there; a masked class has p = 0 either way; docs/differences.md)."""
    def peer(input, target):
        torch = P.torch()
        return getattr(_entmax(), fn)(torch.where(torch.isneginf(input), -1e6, input), target)

    return peer


def _optax_msm(input, target):
    return P.optax().losses.multiclass_sparsemax_loss(input, target).mean()


def _bin(rng, n):
    return {"input": rng.normal(size=(n, 3)) * 1.5, "target": (rng.uniform(size=(n, 3)) < 0.5).astype(np.float64)}


def _bin_kinks(rng, n):
    # (1 - 2y) z exactly at the ends of the quadratic piece (+-1) and inside
    z = np.resize(np.array([1.0, -1.0, 0.0, 0.5, 1.0, -1.0, 3.0]), (n,))
    y = np.resize(np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0]), (n,))
    return {"input": z, "target": y}


def _pm1(rng, n):
    return {"input": rng.normal(size=(n, 3)), "target": np.where(rng.uniform(size=(n, 3)) < 0.5, -1.0, 1.0)}


def _pm1_kinks(rng, n):
    return {"input": np.resize(np.array([0.0, 1.0, -2.0, 0.0]), (n,)),
            "target": np.resize(np.array([1.0, -1.0, 1.0, -1.0, 1.0]), (n,))}


def _kl(rng, n):
    return {"input": rng.normal(size=(n, C)), "target": rng.uniform(0.0, 2.0, size=(n, C))}


def _kl_zeros(rng, n):
    # zero target masses, one of them at a log-prediction of -inf
    d = _kl(rng, n)
    d["target"][:, 0] = 0.0
    d["input"][0, 0] = -np.inf
    return d


def _probs(rng, n):
    t = rng.uniform(size=(n, C))
    return {"input": rng.normal(size=(n, C)) * 2, "target": t / t.sum(axis=1, keepdims=True)}


def _probs_masked(rng, n):
    # -inf logits where the target has no mass: 0 log 0 = 0
    d = _probs(rng, n)
    d["input"][:, 1] = -np.inf
    d["target"][:, 1] = 0.0
    d["target"] /= d["target"].sum(axis=1, keepdims=True)
    return d


_OPTAX = dict(requires="optax")

CASES = [
    # multiclass sparsemax: the closed-form gradient p - e_y (entmax's backward, optax's autodiff)
    Case(L.multiclass_sparsemax_loss, _cls, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.losses.multiclass_sparsemax_loss", "jax", _optax_msm, **_OPTAX),
                Peer("entmax.sparsemax_loss", "torch", _entmax_peer("sparsemax_loss"), requires="entmax"))),
    Case(L.multiclass_sparsemax_loss, _cls_ties, {"reduction": "sum"}, name="ties", fd=False, dtypes=("float64",),
         peers=(Peer("entmax.sparsemax_loss", "torch", lambda input, target: _entmax().sparsemax_loss(input, target).sum(),
                     requires="entmax"),)),
    Case(L.entmax15_loss, _cls, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("entmax.entmax15_loss", "torch", _entmax_peer("entmax15_loss"), requires="entmax"),)),
    Case(L.entmax15_loss, _cls_masked, {"reduction": "none"}, name="masked_1e4", fd=False, dtypes=("float64", "float32"),
         peers=(Peer("entmax.entmax15_loss, -inf as -1e6", "torch", _entmax_unmasked("entmax15_loss"),
                     requires="entmax"),)),
    # 20 bisection steps keep the compiles short; the value is piecewise smooth in the scores
    # (each step compares), so gradients are checked against the peer's p - e_y, not differences
    Case(L.entmax_bisect_loss, _cls, {"n_iter": 20}, vmap=("input", "target"), fd=False,
         peers=(Peer("entmax.entmax_bisect_loss", "torch", _entmax_peer("entmax_bisect_loss", n_iter=20),
                     requires="entmax"),)),
    # binary sparsemax
    Case(L.sparsemax_loss, _bin, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.losses.sparsemax_loss", "jax",
                     lambda input, target: P.optax().losses.sparsemax_loss(input, target).mean(), **_OPTAX),)),
    Case(L.sparsemax_loss, _bin_kinks, {"reduction": "none"}, name="kinks", fd=False, dtypes=("float64",),
         peers=(Peer("optax.losses.sparsemax_loss", "jax",
                     lambda input, target: P.optax().losses.sparsemax_loss(input, target), **_OPTAX),)),
    # perceptrons: optax's gradient off the kinks; the kink subgradient is 0 (docs/differences.md)
    Case(L.perceptron_loss, _pm1, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.losses.perceptron_loss", "jax",
                     lambda input, target: P.optax().losses.perceptron_loss(input, target).mean(), **_OPTAX),)),
    Case(L.perceptron_loss, _pm1_kinks, {"reduction": "sum"}, name="kinks", fd=False, dtypes=("float64",),
         peers=(Peer("optax.losses.perceptron_loss (value only: jnp.maximum splits the kink)", "jax",
                     lambda input, target: P.optax().losses.perceptron_loss(input, target).sum(), grad=False,
                     **_OPTAX),)),
    Case(L.multiclass_perceptron_loss, _cls, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.losses.multiclass_perceptron_loss", "jax",
                     lambda input, target: P.optax().losses.multiclass_perceptron_loss(input, target).mean(),
                     **_OPTAX),)),
    Case(L.multiclass_perceptron_loss, _cls_ties, {"reduction": "none"}, name="ties", fd=False, dtypes=("float64",),
         peers=(Peer("optax.losses.multiclass_perceptron_loss (value only: jnp.max splits ties)", "jax",
                     lambda input, target: P.optax().losses.multiclass_perceptron_loss(input, target), grad=False,
                     **_OPTAX),)),
    # divergences and the safe cross-entropy
    Case(L.generalized_kl_divergence, _kl, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.losses.generalized_kl_divergence", "jax",
                     lambda input, target: P.optax().losses.generalized_kl_divergence(input, target).mean(),
                     **_OPTAX),)),
    Case(L.generalized_kl_divergence, _kl_zeros, {"reduction": "none"}, name="zero_targets", fd=False, dtypes=("float64",)),
    Case(L.convex_kl_divergence, _kl, {"reduction": "sum"}, vmap=("input", "target"),
         peers=(Peer("optax.losses.convex_kl_divergence", "jax",
                     lambda input, target: P.optax().losses.convex_kl_divergence(input, target).sum(), **_OPTAX),)),
    Case(L.safe_softmax_cross_entropy, _probs, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.safe_softmax_cross_entropy", "jax",
                     lambda input, target: P.optax().safe_softmax_cross_entropy(input, target).mean(), **_OPTAX),
                Peer("torch.nn.functional.cross_entropy", "torch", lambda input, target: P.F().cross_entropy(input, target)))),
    Case(L.safe_softmax_cross_entropy, _probs_masked, {"reduction": "none"}, name="masked_classes", fd=False, dtypes=("float64",),
         peers=(Peer("optax.safe_softmax_cross_entropy", "jax",
                     lambda input, target: P.optax().safe_softmax_cross_entropy(input, target), **_OPTAX),)),
]

# value domains checked eagerly (tests/test_edges.py)
DOMAINS = {
    "multiclass_sparsemax_loss": {"target": "class"},
    "entmax15_loss": {"target": "class"},
    "entmax_bisect_loss": {"target": "class"},
    "sparsemax_loss": {"target": "binary"},
    "perceptron_loss": {"target": "pm1"},
    "multiclass_perceptron_loss": {"target": "class"},
    "generalized_kl_divergence": {"target": "nonneg"},
    "convex_kl_divergence": {"target": "nonneg"},
}

# bad hyper-parameter values beyond tests/test_edges.py's per-name RANGES
HYPER_RANGES = {
    "entmax_bisect_loss": {"alpha": (1.0, 0.5, float("inf")), "n_iter": (0, -1)},
}
