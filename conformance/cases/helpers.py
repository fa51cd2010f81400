import numpy as np

from ... import helpers as L
from ..case import Case, Peer
from . import _peers as P

# value domains checked eagerly (tests/test_edges.py)
DOMAINS = {
    "class_weights": {"counts": "nonneg"},
    "pos_weight_from_counts": {"n_pos": "nonneg", "n_neg": "nonneg"},
    "smooth_labels": {"target": "prob"},
}

# bad hyper-parameter values beyond tests/test_edges.py's per-name RANGES
HYPER_RANGES = {
    "class_weights": {"beta": (1.0, -0.1, float("inf"))},
    "smooth_labels": {"label_smoothing": (float("inf"),)},
}


def _counts(rng, n):
    return {"counts": rng.uniform(1.0, 50.0, size=(n,))}


def _counts_zero(rng, n):
    c = rng.uniform(1.0, 50.0, size=(n,))
    c[::3] = 0.0
    return {"counts": c}


def _int_counts(rng, n):
    return {"counts": rng.integers(0, 100, size=(n,))}


CASES = []
for method, kw in [("inverse", {}), ("inverse_sqrt", {}), ("effective_number", {"beta": 0.9})]:
    CASES += [
        Case(L.class_weights, _counts, dict(kw, method=method), name=f"{method}", diff=("counts",)),
        Case(L.class_weights, _counts, dict(kw, method=method, rescale=False), name=f"{method}_raw",
             diff=("counts",)),
        Case(L.class_weights, _counts_zero, dict(kw, method=method), name=f"{method}_zero_counts", diff=("counts",),
             fd=False),
    ]
# integer counts: the result has the framework's default float dtype (float32 in torch)
CASES.append(Case(L.class_weights, _int_counts, {"method": "effective_number"}, name="int_counts", diff=(),
                  dtypes=("float32",)))


def _pos_neg(rng, n):
    return {"n_pos": rng.uniform(1.0, 20.0, size=(n,)), "n_neg": rng.uniform(0.0, 200.0, size=(n,))}


def _pos_zero(rng, n):
    d = _pos_neg(rng, n)
    d["n_pos"][0] = 0.0
    return d


CASES += [
    Case(L.pos_weight_from_counts, _pos_neg, {}, diff=("n_pos", "n_neg"), vmap=("n_pos", "n_neg"), dynamic=True),
    Case(L.pos_weight_from_counts, _pos_zero, {}, name="no_positives", diff=("n_pos", "n_neg"), fd=False),
    Case(L.pos_weight_from_counts, lambda rng, n: {"n_pos": rng.integers(0, 10, size=(n,)),
                                                   "n_neg": rng.integers(0, 50, size=(n,))},
         {}, name="int_counts", diff=(), dtypes=("float32",)),
]


def _probs(rng, n, c=4):
    z = rng.normal(size=(n, c))
    return {"target": np.exp(z) / np.exp(z).sum(-1, keepdims=True)}


CASES += [
    Case(L.smooth_labels, _probs, {"label_smoothing": 0.2}, diff=("target",), vmap=("target",), dynamic=True,
         peers=(Peer("optax.smooth_labels", "jax", lambda target: P.optax().losses.smooth_labels(target, 0.2),
                     requires="optax"),)),
    Case(L.smooth_labels, lambda rng, n: {"target": rng.uniform(size=(n, 3, 2))}, {"label_smoothing": 0.3, "axis": 1},
         name="axis1", diff=("target",)),
    Case(L.smooth_labels, lambda rng, n: {"target": rng.integers(0, 5, size=(n,))},
         {"num_classes": 5, "label_smoothing": 0.1}, name="indices", diff=(), dtypes=("float32",)),
    Case(L.smooth_labels, lambda rng, n: {"target": rng.integers(0, 3, size=(n, 2))},
         {"num_classes": 3, "label_smoothing": 0.25, "axis": 1}, name="indices_axis1", diff=(), dtypes=("float32",)),
]
