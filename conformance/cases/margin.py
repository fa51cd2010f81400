import numpy as np

from ... import margin as L
from ..case import Case, Peer
from . import _peers as P


def _pm1(rng, shape):
    return np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)


def _scores(rng, n, c=5):
    return {"input": rng.normal(size=(n, c)) * 2, "target": _pm1(rng, (n, c))}


def _tf(name, **kw):
    """A torch.nn.functional twin called with the case's arrays by keyword."""
    return Peer(f"torch.nn.functional.{name}", "torch", lambda **a: getattr(P.F(), name)(**a, **kw))


#: torch's multi_margin_loss / multilabel_margin_loss kernels drop a NaN score (``if (z > 0)``
#: is false for NaN) and return a finite number; ours is NaN (DESIGN rule 5, docs/differences.md)
_NAN_DROPPED = (("input=nan-peer0", "torch's kernel drops NaN scores (if (z > 0)); ours propagates NaN"),)

# value domains checked eagerly (tests/test_edges.py)
DOMAINS = {
    "hinge_embedding_loss": {"target": "pm1"},
    "margin_ranking_loss": {"target": "pm1"},
    "cosine_embedding_loss": {"target": "pm1"},
    "hinge_loss": {"target": "pm1"},
    "squared_hinge_loss": {"target": "pm1"},
    "multi_margin_loss": {"target": "class"},
    "multilabel_margin_loss": {"target": "class"},
    "multiclass_hinge_loss": {"target": "class"},
}

# bad hyper-parameter values beyond tests/test_edges.py's per-name RANGES
HYPER_RANGES = {
    "multi_margin_loss": {"p": (3, 0, -1), "margin": (float("inf"),)},
    "cosine_embedding_loss": {"margin": (1.5, -2.0)},
    "cosine_similarity_loss": {"eps": (0.0, float("inf"))},
    "hinge_embedding_loss": {"margin": (float("inf"),)},
    "margin_ranking_loss": {"margin": (float("-inf"),)},
    "multiclass_hinge_loss": {"margin": (float("inf"),)},
}


# ---------------------------------------------------------------- hinge_embedding_loss
def _hel_kinks(rng, n):
    # x == margin (1.0) with y == -1: the clamp is exactly 0; x == 0 and integer distances
    x = np.tile(np.array([1.0, 0.0, 2.0, 0.5]), (n, 1))
    y = np.tile(np.array([-1.0, -1.0, -1.0, 1.0]), (n, 1))
    return {"input": x, "target": y}


CASES = [
    Case(L.hinge_embedding_loss, lambda rng, n: {"input": rng.uniform(0, 2, size=(n, 5)), "target": _pm1(rng, (n, 5))},
         {"margin": 1.2}, vmap=("input", "target"), dynamic=True, peers=(_tf("hinge_embedding_loss", margin=1.2),)),
    Case(L.hinge_embedding_loss, _scores, {"reduction": "none"}, name="none",
         peers=(_tf("hinge_embedding_loss", reduction="none"),)),
    Case(L.hinge_embedding_loss, lambda rng, n: {"input": rng.normal(size=(n, 3)), "target": rng.choice([-1, 1], size=(n, 3))},
         {"reduction": "sum"}, name="int_target", peers=(_tf("hinge_embedding_loss", reduction="sum"),)),
    Case(L.hinge_embedding_loss, _hel_kinks, {"reduction": "sum"}, name="kinks", fd=False,
         peers=(_tf("hinge_embedding_loss", reduction="sum"),)),
]

# ---------------------------------------------------------------- soft_margin_loss
CASES += [
    Case(L.soft_margin_loss, _scores, {}, vmap=("input", "target"), dynamic=True, peers=(_tf("soft_margin_loss"),)),
    Case(L.soft_margin_loss, _scores, {"reduction": "none"}, name="none", peers=(_tf("soft_margin_loss", reduction="none"),)),
    Case(L.soft_margin_loss, lambda rng, n: {"input": np.tile([1e4, -1e4, 0.0, 3.0], (n, 1)), "target": _pm1(rng, (n, 4))},
         {"reduction": "sum"}, name="logits_1e4", fd=False, dtypes=("float64", "float32", "bfloat16")),
    # torch computes log(1 + exp(-y x)) directly and overflows to inf there (docs/differences.md)
]


# ---------------------------------------------------------------- multilabel_soft_margin_loss
def _mlsm(rng, n, c=5):
    return {"input": rng.normal(size=(n, c)) * 2, "target": (rng.uniform(size=(n, c)) < 0.4).astype(np.float64)}


def _mlsm_w(rng, n):
    d = _mlsm(rng, n)
    d["weight"] = rng.uniform(0.2, 2.0, size=(5,))
    return d


CASES += [
    Case(L.multilabel_soft_margin_loss, _mlsm, {}, vmap=("input", "target"), dynamic=True,
         peers=(_tf("multilabel_soft_margin_loss"),)),
    Case(L.multilabel_soft_margin_loss, _mlsm_w, {"reduction": "none"}, name="weighted", diff=("input", "weight"),
         peers=(_tf("multilabel_soft_margin_loss", reduction="none"),)),
    Case(L.multilabel_soft_margin_loss, _mlsm_w, {}, name="weighted_mean", diff=("input", "weight"),
         peers=(_tf("multilabel_soft_margin_loss"),)),
    # mean_over="weights": sum(w l) / sum(w) over samples and classes
    Case(L.multilabel_soft_margin_loss, _mlsm_w, {"mean_over": "weights"}, name="weighted_mean_over_weights",
         diff=("input", "weight"),
         peers=(Peer("torch.nn.functional.multilabel_soft_margin_loss(reduction='sum') * C / (N sum(weight))", "torch",
                     lambda input, target, weight: P.F().multilabel_soft_margin_loss(input, target, weight=weight,
                                                                                       reduction="sum")
                     * input.shape[-1] / (input.shape[0] * weight.sum())),)),
    # targets outside [0, 1] are accepted, as torch (the formula is linear in the target)
    Case(L.multilabel_soft_margin_loss, lambda rng, n: {"input": rng.normal(size=(n, 4)), "target": rng.uniform(-1, 2, size=(n, 4))},
         {"reduction": "none"}, name="targets_outside_01", diff=("input", "target"),
         peers=(_tf("multilabel_soft_margin_loss", reduction="none"),)),
    Case(L.multilabel_soft_margin_loss,
         lambda rng, n: {"input": np.tile([1e4, -1e4, 1e4, -1e4], (n, 1)), "target": np.tile([1.0, 0.0, 0.0, 1.0], (n, 1))},
         {"reduction": "sum"}, name="logits_1e4", fd=False, dtypes=("float64", "float32", "bfloat16"),
         peers=(_tf("multilabel_soft_margin_loss", reduction="sum"),)),
]


# ---------------------------------------------------------------- multi_margin_loss
def _mm(rng, n, c=5):
    return {"input": rng.normal(size=(n, c)), "target": rng.integers(0, c, size=(n,))}


def _mm_w(rng, n):
    d = _mm(rng, n)
    d["weight"] = rng.uniform(0.2, 2.0, size=(5,))
    return d


def _mm_kinks(rng, n):
    # integer scores: margin - x_y + x_i hits 0 exactly for margin 1
    return {"input": rng.integers(-2, 3, size=(n, 4)).astype(np.float64), "target": rng.integers(0, 4, size=(n,))}


CASES += [
    Case(L.multi_margin_loss, _mm, {}, vmap=("input", "target"), dynamic=True, peers=(_tf("multi_margin_loss"),),
         edge_exemptions=_NAN_DROPPED),
    Case(L.multi_margin_loss, _mm_w, {"p": 2, "margin": 0.7, "reduction": "none"}, name="p2_weighted",
         peers=(_tf("multi_margin_loss", p=2, margin=0.7, reduction="none"),), edge_exemptions=_NAN_DROPPED),
    Case(L.multi_margin_loss, _mm_w, {"p": 1, "reduction": "sum"}, name="p1_weighted_sum",
         peers=(_tf("multi_margin_loss", p=1, reduction="sum"),), edge_exemptions=_NAN_DROPPED),
    # torch divides a weighted mean by N; mean_over="weights" by the sum of the target weights
    Case(L.multi_margin_loss, _mm_w, {}, name="weighted_mean", diff=("input", "weight"),
         peers=(Peer("torch.nn.functional.multi_margin_loss", "torch",
                     lambda **a: P.F().multi_margin_loss(**a), diff=("input",)),), edge_exemptions=_NAN_DROPPED),
    Case(L.multi_margin_loss, _mm_w, {"mean_over": "weights"}, name="weighted_mean_over_weights",
         diff=("input", "weight"),
         peers=(Peer("torch.nn.functional.multi_margin_loss(reduction='sum') / sum(weight[target])", "torch",
                     lambda input, target, weight: P.F().multi_margin_loss(input, target, weight=weight, reduction="sum")
                     / weight[target].sum(), diff=("input",)),), edge_exemptions=_NAN_DROPPED),
    # torch's accepted shapes: (C,) scores with a target of shape (1,), 0-d scores (one class)
    Case(L.multi_margin_loss, lambda rng, n: {"input": rng.normal(size=(n,)), "target": rng.integers(0, n, size=(1,))},
         {"reduction": "none"}, name="vector_target1", fd=True,
         peers=(_tf("multi_margin_loss", reduction="none"),), edge_exemptions=_NAN_DROPPED),
    Case(L.multi_margin_loss, lambda rng, n: {"input": np.asarray(rng.normal()), "target": np.asarray(0)},
         {"reduction": "none"}, name="zero_d", peers=(_tf("multi_margin_loss", reduction="none"),)),
    # torch has no gradient wrt weight: checked against jax and finite differences only
    Case(L.multi_margin_loss, _mm_w, {"p": 2, "reduction": "sum"}, name="weight_grad", diff=("input", "weight")),
    Case(L.multi_margin_loss, _mm_kinks, {"reduction": "sum"}, name="kinks", fd=False,
         peers=(_tf("multi_margin_loss", reduction="sum"),), edge_exemptions=_NAN_DROPPED),
]


# ---------------------------------------------------------------- multilabel_margin_loss
def _mlm_target(rng, n, c):
    t = np.full((n, c), -1, dtype=np.int64)
    for i in range(n):
        k = int(rng.integers(0, c + 1))
        t[i, :k] = rng.permutation(c)[:k]
        if k < c:  # junk after the -1 terminator must be ignored
            t[i, k + 1:] = rng.integers(-1, c, size=c - k - 1)
    return t


def _mlm(rng, n, c=5):
    return {"input": rng.normal(size=(n, c)), "target": _mlm_target(rng, n, c)}


def _mlm_kinks(rng, n, c=4):
    return {"input": rng.integers(-2, 3, size=(n, c)).astype(np.float64), "target": _mlm_target(rng, n, c)}


CASES += [
    Case(L.multilabel_margin_loss, _mlm, {}, vmap=("input", "target"), dynamic=True,
         peers=(_tf("multilabel_margin_loss"),), edge_exemptions=_NAN_DROPPED),
    Case(L.multilabel_margin_loss, _mlm, {"reduction": "none"}, name="none",
         peers=(_tf("multilabel_margin_loss", reduction="none"),), edge_exemptions=_NAN_DROPPED),
    Case(L.multilabel_margin_loss, _mlm_kinks, {"reduction": "sum"}, name="kinks", fd=False,
         peers=(_tf("multilabel_margin_loss", reduction="sum"),), edge_exemptions=_NAN_DROPPED),
    # 0-d scores (one class) with a 0-d target, as torch accepts
    Case(L.multilabel_margin_loss, lambda rng, n: {"input": np.asarray(rng.normal()), "target": np.asarray(0)},
         {"reduction": "none"}, name="zero_d", peers=(_tf("multilabel_margin_loss", reduction="none"),)),
]


# ---------------------------------------------------------------- margin_ranking_loss
def _mr(rng, n):
    return {"input1": rng.normal(size=(n,)), "input2": rng.normal(size=(n,)), "target": _pm1(rng, (n,))}


def _mr_kinks(rng, n):
    # -y (x1 - x2) + margin == 0 exactly for margin 0.5 (dyadic numbers)
    x2 = rng.integers(-3, 4, size=(n,)).astype(np.float64)
    y = _pm1(rng, (n,))
    return {"input1": x2 + 0.5 * y, "input2": x2, "target": y}


CASES += [
    Case(L.margin_ranking_loss, _mr, {"margin": 0.3}, diff=("input1", "input2"), vmap=("input1", "input2", "target"),
         dynamic=True, peers=(_tf("margin_ranking_loss", margin=0.3),)),
    Case(L.margin_ranking_loss, _mr, {"reduction": "none"}, name="none", diff=("input1", "input2"),
         peers=(_tf("margin_ranking_loss", reduction="none"),)),
    Case(L.margin_ranking_loss, _mr_kinks, {"margin": 0.5, "reduction": "sum"}, name="kinks", fd=False,
         diff=("input1", "input2"), peers=(_tf("margin_ranking_loss", margin=0.5, reduction="sum"),)),
]


# ---------------------------------------------------------------- cosine_embedding_loss
def _ce(rng, n, d=4):
    return {"input1": rng.normal(size=(n, d)), "input2": rng.normal(size=(n, d)), "target": _pm1(rng, (n,))}


def _ce_zero(rng, n, d=4):
    a = _ce(rng, n, d)
    a["input1"][0] = 0.0
    a["input2"][1] = 0.0
    a["input1"][2] = 0.0
    a["input2"][2] = 0.0
    return a


def _ce_kinks(rng, n):
    # orthogonal pairs with y = -1: cos == margin == 0 exactly
    e = np.eye(4)
    return {"input1": e[np.arange(n) % 4] * 2.0, "input2": e[(np.arange(n) + 1) % 4] * 3.0,
            "target": np.full((n,), -1.0)}


CASES += [
    Case(L.cosine_embedding_loss, _ce, {"margin": 0.2}, diff=("input1", "input2"), vmap=("input1", "input2", "target"),
         dynamic=True, peers=(_tf("cosine_embedding_loss", margin=0.2),)),
    Case(L.cosine_embedding_loss, _ce, {"reduction": "none", "margin": -0.3}, name="none", diff=("input1", "input2"),
         peers=(_tf("cosine_embedding_loss", reduction="none", margin=-0.3),)),
    Case(L.cosine_embedding_loss, _ce_zero, {"reduction": "sum"}, name="zero_vectors", fd=False,
         diff=("input1", "input2"), dtypes=("float64", "float32"),
         # the ~1e6 gradients at a zero vector agree with torch to rounding only
         peers=(Peer("torch.nn.functional.cosine_embedding_loss", "torch",
                     lambda **a: P.F().cosine_embedding_loss(**a, reduction="sum"), rtol=1e-8),)),
    Case(L.cosine_embedding_loss, _ce_kinks, {"reduction": "sum"}, name="kinks", fd=False,
         diff=("input1", "input2"), peers=(_tf("cosine_embedding_loss", reduction="sum"),)),
]


# ---------------------------------------------------------------- cosine_similarity_loss
def _cs(rng, n, d=4):
    return {"input": rng.normal(size=(n, d)), "target": rng.normal(size=(n, d))}


def _cs_zero(rng, n):
    a = _cs(rng, n)
    a["input"][0] = 0.0
    a["target"][1] = 0.0
    a["input"][2] = 0.0
    a["target"][2] = 0.0
    return a


def _optax_cos(**kw):
    return lambda input, target: P.optax().losses.cosine_distance(input, target, **kw).mean()


CASES += [
    Case(L.cosine_similarity_loss, _cs, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.cosine_distance", "jax", _optax_cos(), requires="optax"),
                Peer("1 - torch.nn.functional.cosine_similarity", "torch",
                     lambda input, target: (1 - P.F().cosine_similarity(input, target, dim=-1, eps=1e-8)).mean()))),
    Case(L.cosine_similarity_loss, lambda rng, n: {"input": rng.normal(size=(3, n)), "target": rng.normal(size=(3, n)),
                                                   "weight": rng.uniform(0.1, 1.0, size=(n,))},
         {"axis": 0}, name="axis0_weighted", diff=("input", "target", "weight")),
    Case(L.cosine_similarity_loss, _cs_zero, {"reduction": "none", "eps": 1e-6}, name="zero_vectors", fd=False,
         diff=("input", "target"), dtypes=("float64", "float32"),
         peers=(Peer("optax.cosine_distance(epsilon=eps)", "jax",
                     lambda input, target: P.optax().losses.cosine_distance(input, target, epsilon=1e-6), grad=False,
                     requires="optax"),)),
]


# ---------------------------------------------------------------- hinge_loss / squared_hinge_loss
def _hinge01(rng, n):
    return {"input": rng.normal(size=(n, 4)) * 2, "target": (rng.uniform(size=(n, 4)) < 0.5).astype(np.float64)}


def _hinge_kinks(rng, n):
    y = _pm1(rng, (n, 4))
    return {"input": y * np.array([1.0, 0.5, 2.0, -1.0]), "target": y}


def _hinge_w(rng, n):
    d = _scores(rng, n, 4)
    d["weight"] = rng.uniform(0.1, 2.0, size=(n, 4))
    return d


CASES += [
    Case(L.hinge_loss, _scores, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.hinge_loss", "jax", lambda input, target: P.optax().losses.hinge_loss(input, target).mean(),
                     requires="optax"),)),
    Case(L.hinge_loss, _hinge01, {"target_encoding": "01", "reduction": "none"}, name="encoding01"),
    Case(L.hinge_loss, _hinge_w, {}, name="weighted", diff=("input", "weight")),
    Case(L.hinge_loss, _hinge_kinks, {"reduction": "sum"}, name="kinks", fd=False,
         peers=(Peer("optax.hinge_loss (value only: jnp.maximum splits the kink)", "jax",
                     lambda input, target: P.optax().losses.hinge_loss(input, target).sum(), grad=False, requires="optax"),)),
    Case(L.squared_hinge_loss, _scores, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.hinge_loss ** 2", "jax", lambda input, target: (P.optax().losses.hinge_loss(input, target) ** 2).mean(),
                     requires="optax"),)),
    Case(L.squared_hinge_loss, _hinge01, {"target_encoding": "01", "reduction": "none"}, name="encoding01"),
    Case(L.squared_hinge_loss, _hinge_w, {"reduction": "sum"}, name="weighted", diff=("input", "weight")),
    Case(L.squared_hinge_loss, _hinge_kinks, {"reduction": "sum"}, name="kinks", fd=False),
]


# ---------------------------------------------------------------- multiclass_hinge_loss
def _mch_negative(rng, n):
    # every non-target score negative (Keras' categorical_hinge is wrong there)
    x = -rng.uniform(0.5, 3.0, size=(n, 4))
    t = rng.integers(0, 4, size=(n,))
    x[np.arange(n), t] = rng.normal(size=(n,))
    return {"input": x, "target": t}


def _mch_seq(rng, n):
    return {"input": rng.normal(size=(n, 4, 3)), "target": rng.integers(0, 4, size=(n, 3)),
            "weight": rng.uniform(0.1, 2.0, size=(n, 3))}


CASES += [
    Case(L.multiclass_hinge_loss, _mm, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.losses.multiclass_hinge_loss", "jax",
                     lambda input, target: P.optax().losses.multiclass_hinge_loss(input, target).mean(),
                     requires="optax"),)),
    Case(L.multiclass_hinge_loss, _mch_negative, {"reduction": "none"}, name="negative_scores",
         peers=(Peer("optax.losses.multiclass_hinge_loss", "jax",
                     lambda input, target: P.optax().losses.multiclass_hinge_loss(input, target), requires="optax"),)),
    Case(L.multiclass_hinge_loss, _mch_seq, {"margin": 0.5}, name="seq_weighted", diff=("input", "weight")),
    Case(L.multiclass_hinge_loss, _mm_kinks, {"reduction": "sum"}, name="kinks_and_ties", fd=False),
    Case(L.multiclass_hinge_loss, lambda rng, n: {"input": rng.normal(size=(n, 5)), "target": rng.integers(0, 5, size=(n,))},
         {"axis": -1, "margin": 2.0, "reduction": "sum"}, name="axis_last"),
]
