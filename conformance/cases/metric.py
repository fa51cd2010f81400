import numpy as np

from ... import metric as L
from ..case import Case, Peer
from . import _peers as P

F64_F32 = ("float64", "float32")
INF = float("inf")

# value domains checked eagerly (tests/test_edges.py)
DOMAINS = {
    "contrastive_loss": {"target": "prob"},
    "clip_loss": {"logit_scale": "positive"},
}

# bad hyper-parameter values beyond tests/test_edges.py's per-name RANGES
HYPER_RANGES = {
    "pairwise_distance": {"eps": (INF,)},
    "cosine_similarity": {"eps": (INF,)},
    "contrastive_loss": {"margin": (INF, -INF)},
    "triplet_margin_loss": {"margin": (0.0, -1.0, INF), "eps": (INF,)},
    "triplet_margin_with_distance_loss": {"margin": (0.0, -1.0, INF)},
    "batch_hard_triplet_loss": {"margin": (INF, -INF)},
    "batch_all_triplet_loss": {"margin": (INF, -INF)},
    "semi_hard_triplet_loss": {"margin": (INF, -INF)},
    "semi_hard_mining": {"margin": (INF, -INF)},
    "info_nce_loss": {"temperature": (INF,)},
    "nt_xent_loss": {"temperature": (INF,)},
    "supervised_contrastive_loss": {"temperature": (INF,)},
    "barlow_twins_loss": {"lambda_": (-1.0, INF), "eps": (INF,), "correction": (2, -1)},
    "arcface_loss": {"margin": (-1.0, 180.0, INF), "scale": (0.0, -1.0, INF)},
    "cosface_loss": {"margin": (INF,), "scale": (0.0, INF)},
    "sphereface_loss": {"margin": (0, -1), "scale": (0.0, INF)},
    "multi_similarity_loss": {"alpha": (0.0, INF), "beta": (0.0, -1.0, INF), "base": (INF,)},
    "circle_loss": {"margin": (INF,), "gamma": (0.0, INF)},
    "proxy_anchor_loss": {"margin": (INF,), "alpha": (0.0, INF)},
    "proxy_nca_loss": {"scale": (0.0, -1.0, INF)},
}


# ------------------------------------------------------------------------- generators ----
def _pair(rng, n):
    return {"x1": rng.normal(size=(n, 5)), "x2": rng.normal(size=(n, 5))}


def _pair_target(rng, n):
    d = {"x1": rng.normal(size=(n, 5)) * 0.5, "x2": rng.normal(size=(n, 5)) * 0.5}
    d["target"] = (np.arange(n) % 2).astype(np.float64)
    return d


def _pair_identical(rng, n):
    x = rng.normal(size=(n, 5))
    x[0] = 0.0
    return {"x1": x, "x2": x.copy(), "target": (np.arange(n) % 2).astype(np.float64)}


def _pair_tiny_rows(rng, n):
    # 0 < ||x|| < eps (1e-8): the clamped norm is a constant for the gradient (F.normalize),
    # where torch's cosine_similarity differentiates the norm (docs/differences.md)
    d = _pair(rng, n)
    d["x1"][0] *= 1e-10
    d["x2"][1] *= 1e-10
    return d


def _pair_zero_rows(rng, n):
    d = _pair(rng, n)
    d["x1"][0] = 0.0
    d["x2"][1] = 0.0
    d["x1"][2] = 0.0
    d["x2"][2] = 0.0
    return d


def _pair_ties(rng, n):
    """Integer differences: zero differences (p < 0: norm 0) and ties of the largest and the
    smallest |difference| (p = +-inf: the gradient is split), with eps=0. Every value is exact
    in float16, so the ties survive the cast to each dtype."""
    x2 = rng.integers(-6, 7, size=(n, 5)) * 0.5
    diff = rng.integers(-2, 3, size=(n, 5)).astype(np.float64)
    diff[:, 0] = 3.0
    diff[::2, 1] = -3.0
    return {"x1": x2 + diff, "x2": x2}


def _scalars(rng, n):
    return {"x1": np.asarray(rng.normal()), "x2": np.asarray(rng.normal())}


def _pair_same_rows(rng, n):
    x = rng.normal(size=(n, 5))
    return {"x1": x, "x2": x.copy()}


def _triplet(rng, n):
    return {"anchor": rng.normal(size=(n, 4)), "positive": rng.normal(size=(n, 4)),
            "negative": rng.normal(size=(n, 4))}


def _triplet_kink(rng, n):
    """p=1, eps=0, margin=1: margin + d_ap - d_an is exactly 0 on every row (integers)."""
    a = rng.integers(-3, 4, size=(n, 4)).astype(np.float64)
    p = a.copy()
    p[:, 0] += 1.0
    p[:, 1] -= 1.0  # d_ap = 2
    neg = a.copy()
    neg[:, 2] += 2.0
    neg[:, 3] -= 1.0  # d_an = 3
    return {"anchor": a, "positive": p, "negative": neg}


def _triplet_swap_tie(rng, n):
    """p=1, eps=0: d(a, n) == d(p, n) exactly (the swap's minimum is a tie)."""
    neg = rng.integers(-3, 4, size=(n, 4)).astype(np.float64)
    u = rng.integers(1, 4, size=(n, 4)).astype(np.float64)
    return {"anchor": neg + u, "positive": neg + u[:, ::-1], "negative": neg}


def _triplet_zero_distance(rng, n):
    a = rng.normal(size=(n, 4))
    return {"anchor": a, "positive": a.copy(), "negative": rng.normal(size=(n, 4))}


def _labels(rng, n, k=3):
    return rng.permutation(np.arange(n) % k).astype(np.int64)


def _mining(rng, n):
    return {"embeddings": rng.normal(size=(n, 4)), "labels": _labels(rng, n)}


def _mining_one_class(rng, n):
    return {"embeddings": rng.normal(size=(n, 4)), "labels": np.zeros(n, dtype=np.int64)}


def _mining_all_distinct(rng, n):
    return {"embeddings": rng.normal(size=(n, 4)), "labels": np.arange(n, dtype=np.int64)}


def _mining_identical(rng, n):
    return {"embeddings": np.tile(rng.normal(size=(1, 4)), (n, 1)), "labels": _labels(rng, n)}


def _mining_duplicates(rng, n):
    """Each class is one repeated point (zero positive distances) plus a zero embedding."""
    labels = _labels(rng, n)
    centers = rng.normal(size=(3, 4)) * 2
    e = centers[labels].copy()
    e[0] = 0.0
    return {"embeddings": e, "labels": labels}


def _views(rng, n):
    return {"z1": rng.normal(size=(n, 6)), "z2": rng.normal(size=(n, 6))}


def _views_identical(rng, n):
    z = rng.normal(size=(n, 6))
    z[0] = 0.0
    return {"z1": z, "z2": z.copy()}


def _views_large(rng, n):
    z = rng.normal(size=(n, 6)) * 1e4
    return {"z1": z, "z2": z + rng.normal(size=(n, 6)) * 1e3}


def _barlow_constant(rng, n):
    d = _views(rng, n)
    d["z1"][:, 2] = 1.5  # zero-variance feature
    return d


def _nce(rng, n):
    return {"query": rng.normal(size=(n, 5)), "positive_key": rng.normal(size=(n, 5))}


def _nce_unpaired(rng, n):
    d = _nce(rng, n)
    d["negative_keys"] = rng.normal(size=(6, 5))
    return d


def _nce_paired(rng, n):
    d = _nce(rng, n)
    d["negative_keys"] = rng.normal(size=(n, 3, 5))
    return d


def _nce_zero(rng, n):
    d = _nce_unpaired(rng, n)
    d["query"][0] = 0.0
    d["positive_key"][1] = 0.0
    d["negative_keys"][2] = 0.0
    return d


def _clip(rng, n):
    return {"image_embeddings": rng.normal(size=(n, 5)), "text_embeddings": rng.normal(size=(n, 5)),
            "logit_scale": np.asarray(rng.uniform(2.0, 10.0))}


def _clip_pairs(rng, n):
    return {"image_embeddings": rng.normal(size=(n, 5)), "text_embeddings": rng.normal(size=(n, 5))}


def _clip_identical(rng, n):
    x = rng.normal(size=(n, 5))
    x[0] = 0.0
    return {"image_embeddings": x, "text_embeddings": x.copy(), "logit_scale": np.asarray(100.0)}


# ------------------------------------------------------------------------------ peers ----
def _torch_pair_twin(name, **kw):
    return Peer(f"torch.nn.functional.{name}", "torch", lambda x1, x2: getattr(P.F(), name)(x1, x2, **kw))


def _torch_triplet(**kw):
    return Peer("torch.nn.functional.triplet_margin_loss", "torch",
                lambda anchor, positive, negative: P.F().triplet_margin_loss(anchor, positive, negative, **kw))


def _hinge_embedding_peer(margin):
    # contrastive_loss(squared=False) = hinge_embedding_loss(D, 2y - 1) / 2
    def fn(x1, x2, target):
        d = P.torch().linalg.vector_norm(x1 - x2, dim=-1)
        return 0.5 * P.F().hinge_embedding_loss(d, 2 * target - 1, margin=margin)

    return Peer("torch.nn.functional.hinge_embedding_loss on distances (/2)", "torch", fn)


def _optax_triplet_eps0(anchor, positive, negative):
    return P.optax().losses.triplet_margin_loss(anchor, positive, negative, norm_degree=2, margin=1.0, eps=0.0)


def _optax_ntxent(temperature):
    def fn(z1, z2):
        jnp = P.jnp()
        n = z1.shape[0]
        labels = jnp.concatenate([jnp.arange(n), jnp.arange(n)])
        return P.optax().losses.ntxent(jnp.concatenate([z1, z2]), labels, temperature)

    return Peer("optax.losses.ntxent", "jax", fn, rtol=1e-9, atol=1e-12, requires="optax")


def _torch_info_nce(temperature, mode):
    # info-nce-pytorch's formula: F.normalize + F.cross_entropy over [positive, negatives]
    def fn(query, positive_key, negative_keys=None):
        F, torch = P.F(), P.torch()
        q, k = F.normalize(query, dim=-1), F.normalize(positive_key, dim=-1)
        if negative_keys is None:
            logits = q @ k.T
            labels = torch.arange(q.shape[0])
        else:
            nk = F.normalize(negative_keys, dim=-1)
            pos = (q * k).sum(-1, keepdim=True)
            neg = q @ nk.T if mode == "unpaired" else (q.unsqueeze(1) @ nk.transpose(-2, -1)).squeeze(1)
            logits = torch.cat([pos, neg], dim=1)
            labels = torch.zeros(q.shape[0], dtype=torch.long)
        return F.cross_entropy(logits / temperature, labels)

    return Peer("info-nce-pytorch formula (F.normalize + F.cross_entropy)", "torch", fn)


def _torch_clip(normalize=True):
    # open_clip ClipLoss: (CE(s I T^T, arange) + CE(s T I^T, arange)) / 2
    def fn(image_embeddings, text_embeddings, logit_scale):
        F, torch = P.F(), P.torch()
        i, t = image_embeddings, text_embeddings
        if normalize:
            i, t = F.normalize(i, dim=-1), F.normalize(t, dim=-1)
        logits = logit_scale * i @ t.T
        labels = torch.arange(i.shape[0])
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))

    return Peer("open_clip ClipLoss formula (F.cross_entropy)", "torch", fn)


def _torch_barlow(lambda_):
    # the reference: BatchNorm1d(affine=False) in training mode, c = bn(z1).T @ bn(z2) / N
    def fn(z1, z2):
        F, torch = P.F(), P.torch()
        n, d = z1.shape
        c = F.batch_norm(z1, None, None, training=True).T @ F.batch_norm(z2, None, None, training=True) / n
        on = (torch.diagonal(c) - 1).pow(2).sum()
        off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
        return on + lambda_ * off

    return Peer("facebookresearch/barlowtwins formula (F.batch_norm)", "torch", fn, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------ cases ----
CASES = [
    # helpers
    Case(L.pairwise_distance, _pair, {}, diff=("x1", "x2"), vmap=("x1", "x2"), dynamic=True,
         peers=(_torch_pair_twin("pairwise_distance"),)),
    Case(L.pairwise_distance, _pair, {"p": 1.0, "keepdim": True}, name="p1", diff=("x1", "x2"),
         peers=(_torch_pair_twin("pairwise_distance", p=1.0, keepdim=True),)),
    Case(L.pairwise_distance, _pair, {"p": 3.0}, name="p3", diff=("x1", "x2"),
         peers=(_torch_pair_twin("pairwise_distance", p=3.0),)),
    Case(L.pairwise_distance, _pair_same_rows, {"eps": 0.0}, name="zero_distance", diff=("x1", "x2"), fd=False),
    # every p torch takes: p < 0, p = 0 (a count), p = +-inf (max / min |difference|)
    Case(L.pairwise_distance, _pair, {"p": -1.0}, name="p-1", diff=("x1", "x2"),
         peers=(_torch_pair_twin("pairwise_distance", p=-1.0),)),
    Case(L.pairwise_distance, _pair, {"p": float("inf")}, name="pinf", diff=("x1", "x2"),
         peers=(_torch_pair_twin("pairwise_distance", p=float("inf")),)),
    Case(L.pairwise_distance, _pair, {"p": -float("inf"), "keepdim": True}, name="p-inf", diff=("x1", "x2"),
         peers=(_torch_pair_twin("pairwise_distance", p=-float("inf"), keepdim=True),)),
    Case(L.pairwise_distance, _pair_ties, {"p": float("inf"), "eps": 0.0}, name="pinf_ties", diff=("x1", "x2"),
         fd=False, peers=(_torch_pair_twin("pairwise_distance", p=float("inf"), eps=0.0),)),
    Case(L.pairwise_distance, _pair_ties, {"p": -2.0, "eps": 0.0}, name="p-2_zeros", diff=("x1", "x2"),
         fd=False, peers=(_torch_pair_twin("pairwise_distance", p=-2.0, eps=0.0),)),
    # p=0 counts non-zero differences: piecewise constant (zero gradient; torch's has no graph),
    # so no NaN/inf variant finds a site; tests/test_metric.py checks that a NaN gives NaN
    Case(L.pairwise_distance, _pair_ties, {"p": 0.0, "eps": 0.0}, name="p0", diff=("x1", "x2"), fd=False,
         peers=(Peer("torch.nn.functional.pairwise_distance", "torch",
                     lambda x1, x2: P.F().pairwise_distance(x1, x2, p=0.0, eps=0.0), grad=False),)),
    Case(L.pairwise_distance, _scalars, {}, name="scalars", diff=("x1", "x2"),
         peers=(_torch_pair_twin("pairwise_distance"),)),
    Case(L.cosine_similarity, _pair, {}, diff=("x1", "x2"), vmap=("x1", "x2"), dynamic=True,
         peers=(_torch_pair_twin("cosine_similarity", dim=-1),
                Peer("optax.cosine_similarity", "jax",
                     lambda x1, x2: P.optax().cosine_similarity(x1, x2, epsilon=1e-16),
                     rtol=1e-12, requires="optax"))),
    Case(L.cosine_similarity, _pair_zero_rows, {}, name="zero_vectors", diff=("x1", "x2"), fd=False,
         dtypes=F64_F32, peers=(_torch_pair_twin("cosine_similarity", dim=-1),)),
    Case(L.cosine_similarity, _pair_tiny_rows, {}, name="below_the_norm_floor", diff=("x1", "x2"), fd=False,
         dtypes=("float64",)),
    Case(L.cosine_similarity, _scalars, {"axis": 0}, name="scalars", diff=("x1", "x2"), fd=False,
         peers=(_torch_pair_twin("cosine_similarity", dim=0),)),
    Case(L.cosine_similarity, _pair, {"axis": 0, "eps": 0.0}, name="axis0_eps0", diff=("x1", "x2"),
         peers=(_torch_pair_twin("cosine_similarity", dim=0, eps=0.0),)),
    # pairs
    Case(L.contrastive_loss, _pair_target, {"margin": 2.0}, diff=("x1", "x2"),
         vmap=("x1", "x2", "target"), dynamic=True),
    Case(L.contrastive_loss, _pair_target, {"margin": 2.0, "squared": False, "reduction": "none"},
         name="unsquared", diff=("x1", "x2")),
    Case(L.contrastive_loss, _pair_target, {"margin": 2.0, "squared": False}, name="unsquared_mean",
         diff=("x1", "x2"), peers=(_hinge_embedding_peer(2.0),)),
    Case(L.contrastive_loss, _pair_identical, {"reduction": "sum"}, name="zero_distance",
         diff=("x1", "x2"), fd=False),
    # triplets
    Case(L.triplet_margin_loss, _triplet, {}, diff=("anchor", "positive", "negative"),
         vmap=("anchor", "positive", "negative"), dynamic=True, peers=(_torch_triplet(),)),
    Case(L.triplet_margin_loss, _triplet, {"margin": 0.5, "swap": True, "reduction": "none"}, name="swap",
         diff=("anchor", "positive", "negative"), peers=(_torch_triplet(margin=0.5, swap=True, reduction="none"),)),
    Case(L.triplet_margin_loss, _triplet, {"p": 1.0, "reduction": "sum"}, name="p1",
         diff=("anchor", "positive", "negative"), peers=(_torch_triplet(p=1.0, reduction="sum"),)),
    Case(L.triplet_margin_loss, _triplet, {"eps": 0.0, "reduction": "none"}, name="optax_eps0",
         diff=("anchor", "positive", "negative"),
         peers=(Peer("optax.losses.triplet_margin_loss (eps=0)", "jax", _optax_triplet_eps0, requires="optax"),)),
    Case(L.triplet_margin_loss, _triplet_kink, {"p": 1.0, "eps": 0.0, "reduction": "sum"}, name="kink",
         diff=("anchor", "positive", "negative"), fd=False,
         peers=(_torch_triplet(p=1.0, eps=0.0, reduction="sum"),)),
    Case(L.triplet_margin_loss, _triplet_swap_tie, {"p": 1.0, "eps": 0.0, "margin": 5.0, "swap": True},
         name="swap_tie", diff=("anchor", "positive", "negative"), fd=False,
         peers=(_torch_triplet(p=1.0, eps=0.0, margin=5.0, swap=True),)),
    Case(L.triplet_margin_loss, _triplet_zero_distance, {"eps": 0.0}, name="zero_distance",
         diff=("anchor", "positive", "negative"), fd=False),
    Case(L.triplet_margin_loss, _triplet, {"p": -1.0, "margin": 0.1, "reduction": "none"}, name="p-1",
         diff=("anchor", "positive", "negative"),
         peers=(_torch_triplet(p=-1.0, margin=0.1, reduction="none"),)),
    Case(L.triplet_margin_loss, _triplet, {"p": float("inf"), "swap": True}, name="pinf_swap",
         diff=("anchor", "positive", "negative"), peers=(_torch_triplet(p=float("inf"), swap=True),)),
    Case(L.triplet_margin_with_distance_loss, _triplet, {}, diff=("anchor", "positive", "negative"),
         vmap=("anchor", "positive", "negative"), dynamic=True,
         peers=(Peer("torch.nn.functional.triplet_margin_with_distance_loss", "torch",
                     lambda anchor, positive, negative: P.F().triplet_margin_with_distance_loss(
                         anchor, positive, negative)),)),
    Case(L.triplet_margin_with_distance_loss, _triplet,
         {"distance_function": lambda x, y: 1.0 - L.cosine_similarity(x, y), "margin": 0.3, "swap": True},
         name="cosine_swap", diff=("anchor", "positive", "negative"),
         peers=(Peer("torch.nn.functional.triplet_margin_with_distance_loss (cosine)", "torch",
                     lambda anchor, positive, negative: P.F().triplet_margin_with_distance_loss(
                         anchor, positive, negative,
                         distance_function=lambda x, y: 1.0 - P.F().cosine_similarity(x, y),
                         margin=0.3, swap=True)),)),
]

# online mining (no per-sample vmap: the batch is the structure). batch-all and semi-hard
# build N^3 tensors, so they are not run at the dynamic check's batch sizes up to 1024.
for loss, n3 in [(L.batch_hard_triplet_loss, False), (L.batch_all_triplet_loss, True),
                 (L.semi_hard_triplet_loss, True)]:
    CASES += [
        Case(loss, _mining, {}, diff=("embeddings",), dynamic=not n3),
        Case(loss, _mining, {"distance": "squared", "margin": 0.5, "reduction": "sum"}, name="squared",
             diff=("embeddings",)),
        Case(loss, _mining, {"distance": "cosine", "normalize": True, "margin": 0.2, "mean_over": "nonzero"},
             name="cosine_nonzero", diff=("embeddings",)),
        Case(loss, _mining, {"normalize": True, "reduction": "none"}, name="none", diff=("embeddings",)),
        Case(loss, _mining_one_class, {}, name="no_negatives", diff=("embeddings",), fd=False),
        Case(loss, _mining_all_distinct, {}, name="no_positives", diff=("embeddings",), fd=False),
        Case(loss, _mining_identical, {}, name="identical", diff=("embeddings",), fd=False),
        Case(loss, _mining_duplicates, {"reduction": "sum"}, name="zero_distances", diff=("embeddings",),
             fd=False),
    ]
CASES += [
    Case(L.batch_hard_triplet_loss, _mining, {"soft_margin": True}, name="soft_margin", diff=("embeddings",)),
    Case(L.semi_hard_triplet_loss, _mining, {"negatives": "all", "normalize": True, "margin": 0.5,
                                             "mean_over": "nonzero"}, name="pml_semihard", diff=("embeddings",)),
    Case(L.semi_hard_triplet_loss, _mining, {"negatives": "all", "reduction": "none"}, name="all_none",
         diff=("embeddings",)),
]



# miners: index tuples, compared exactly (no gradients; no per-sample vmap: the batch is the
# structure). pml returns the valid triplets only: its twins scatter them into our fixed-shape
# Triplets (invalid entries: the anchor's own index).
def _pml_triplets(a, p, n, shape, like):
    import torch

    count = shape[0]
    idx = torch.arange(count, dtype=torch.int64).reshape((count,) + (1,) * (len(shape) - 1)).expand(shape)
    anchor, positive, negative = idx.clone(), idx.clone(), idx.clone()
    valid = torch.zeros(shape, dtype=torch.bool)
    if len(shape) == 1:
        where = (a,)
    elif len(shape) == 2:
        where = (a, p)
    else:
        where = (a, p, n)
    valid[where] = True
    positive[where] = p
    negative[where] = n
    return anchor, positive, negative, valid


def _pml_hard_miner(pos="hard", neg="hard"):
    def fn(embeddings, labels):
        from pytorch_metric_learning import miners

        a, p, a2, n = miners.BatchEasyHardMiner(pos_strategy=pos, neg_strategy=neg)(embeddings, labels)
        assert bool((a == a2).all())
        return _pml_triplets(a, p, n, (embeddings.shape[0],), embeddings)

    return Peer(f"pytorch_metric_learning.miners.BatchEasyHardMiner({pos}, {neg})", "torch", fn, grad=False,
                rtol=0.0, atol=0.0, requires="pytorch_metric_learning")


def _pml_semihard_miner(margin):
    def fn(embeddings, labels):
        from pytorch_metric_learning import miners

        a, p, n = miners.TripletMarginMiner(margin=margin, type_of_triplets="semihard")(embeddings, labels)
        count = embeddings.shape[0]
        return _pml_triplets(a, p, n, (count, count, count), embeddings)

    return Peer("pytorch_metric_learning.miners.TripletMarginMiner(semihard)", "torch", fn, grad=False,
                rtol=0.0, atol=0.0, requires="pytorch_metric_learning")


CASES += [
    Case(L.batch_hard_mining, _mining, {}, diff=(), dtypes=F64_F32, dynamic=True),
    Case(L.batch_hard_mining, _mining, {"normalize": True}, name="pml", diff=(), dtypes=F64_F32,
         peers=(_pml_hard_miner(),)),
    *[Case(L.batch_hard_mining, _mining, {"normalize": True, "positives": pos, "negatives": neg},
           name=f"pml_{pos}_{neg}", diff=(), dtypes=F64_F32, peers=(_pml_hard_miner(pos, neg),))
      for pos, neg in (("easy", "hard"), ("hard", "easy"), ("easy", "easy"))],
    Case(L.batch_hard_mining, _mining, {"distance": "squared", "positives": "easy"}, name="squared",
         diff=(), dtypes=F64_F32),
    Case(L.batch_hard_mining, _mining, {"distance": "cosine", "negatives": "easy"}, name="cosine",
         diff=(), dtypes=F64_F32),
    Case(L.batch_hard_mining, _mining_one_class, {}, name="no_negatives", diff=(), dtypes=F64_F32),
    Case(L.batch_hard_mining, _mining_all_distinct, {}, name="no_positives", diff=(), dtypes=F64_F32),
    Case(L.batch_hard_mining, _mining_identical, {}, name="identical", diff=(), dtypes=F64_F32),
    Case(L.batch_hard_mining, _mining_duplicates, {}, name="zero_distances", diff=(), dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining, {}, diff=(), dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining, {"distance": "squared"}, name="squared", diff=(), dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining, {"negatives": "all", "normalize": True, "margin": 0.5}, name="pml_all",
         diff=(), dtypes=F64_F32, peers=(_pml_semihard_miner(0.5),)),
    Case(L.semi_hard_mining, _mining, {"negatives": "all", "distance": "cosine", "margin": 0.3},
         name="all_cosine", diff=(), dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining_one_class, {}, name="no_negatives", diff=(), dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining_all_distinct, {"negatives": "all"}, name="no_positives", diff=(),
         dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining_identical, {}, name="identical", diff=(), dtypes=F64_F32),
    Case(L.semi_hard_mining, _mining_duplicates, {}, name="zero_distances", diff=(), dtypes=F64_F32),
]



# explicit triplets / pairs (pml's indices_tuple): drawn among the batch's valid ones
def _mining_triplets(rng, n):
    d = _mining(rng, n)
    y = d["labels"]
    trip = [(a, p, q) for a in range(n) for p in range(n) for q in range(n)
            if p != a and y[p] == y[a] and y[q] != y[a]]
    pick = rng.permutation(len(trip))[: max(1, len(trip) // 3)] if trip else []
    a, p, q = (np.asarray([trip[i][k] for i in pick], dtype=np.int64) for k in range(3))
    d["indices_tuple"] = (a, p, q)
    return d


def _mining_pairs(rng, n):
    d = _mining(rng, n)
    y = d["labels"]
    pos = [(a, p) for a in range(n) for p in range(n) if p != a and y[p] == y[a]]
    neg = [(a, q) for a in range(n) for q in range(n) if y[q] != y[a]]
    pos = [pos[i] for i in rng.permutation(len(pos))[: max(1, len(pos) // 2)]] if pos else []
    neg = [neg[i] for i in rng.permutation(len(neg))[: max(1, len(neg) // 3)]] if neg else []
    d["indices_tuple"] = tuple(np.asarray([t[k] for t in pairs], dtype=np.int64)
                               for pairs in (pos, neg) for k in (0, 1))
    return d


def _pml_indices(cls_name, **kw):
    def fn(embeddings, labels, indices_tuple):
        from pytorch_metric_learning import losses as pml

        return getattr(pml, cls_name)(**kw)(embeddings, labels, indices_tuple)

    return Peer(f"pytorch_metric_learning.losses.{cls_name} (indices_tuple)", "torch", fn, rtol=1e-11,
                atol=1e-11, requires="pytorch_metric_learning")


# self-supervised
CASES += [
    Case(L.info_nce_loss, _nce, {}, diff=("query", "positive_key"), dynamic=True,
         peers=(_torch_info_nce(0.1, "unpaired"),)),
    Case(L.info_nce_loss, _nce_unpaired, {"temperature": 0.2}, name="unpaired",
         diff=("query", "positive_key", "negative_keys"), dynamic=True,
         peers=(_torch_info_nce(0.2, "unpaired"),)),
    Case(L.info_nce_loss, _nce_paired, {"temperature": 0.2, "negative_mode": "paired"}, name="paired",
         diff=("query", "positive_key", "negative_keys"), vmap=None,
         peers=(_torch_info_nce(0.2, "paired"),)),
    Case(L.info_nce_loss, _nce_unpaired, {"normalize": False, "temperature": 2.0, "reduction": "none"},
         name="dot_none", diff=("query", "positive_key", "negative_keys")),
    Case(L.info_nce_loss, _nce_zero, {}, name="zero_vectors", diff=("query", "positive_key", "negative_keys"),
         fd=False, dtypes=F64_F32),
    Case(L.nt_xent_loss, _views, {}, diff=("z1", "z2"), dynamic=True, peers=(_optax_ntxent(0.5),)),
    Case(L.nt_xent_loss, _views, {"temperature": 0.1, "directions": "sum", "reduction": "none"},
         name="sum_none", diff=("z1", "z2")),
    Case(L.nt_xent_loss, _views, {"temperature": 0.01}, name="temperature_0.01", diff=("z1", "z2"),
         tol=4096.0, peers=(_optax_ntxent(0.01),)),
    Case(L.nt_xent_loss, _views_identical, {"temperature": 0.01}, name="identical_views", diff=("z1", "z2"),
         fd=False, dtypes=F64_F32, tol=4096.0),
    Case(L.nt_xent_loss, _views_large, {"temperature": 0.05}, name="large_1e4", diff=("z1", "z2"),
         dtypes=F64_F32, tol=4096.0),
    Case(L.supervised_contrastive_loss, _mining, {}, diff=("embeddings",), dynamic=True),
    Case(L.supervised_contrastive_loss, _mining, {"temperature": 0.07, "base_temperature": 0.07,
                                                  "normalize": False, "reduction": "none"},
         name="reference_none", diff=("embeddings",)),
    Case(L.supervised_contrastive_loss, _mining_all_distinct, {}, name="no_positives", diff=("embeddings",),
         fd=False),
    Case(L.supervised_contrastive_loss, _mining_duplicates, {"temperature": 0.05}, name="duplicates",
         diff=("embeddings",), fd=False, dtypes=F64_F32, tol=1024.0),
    # a Python-number logit_scale first: every array argument of this case is a batch
    Case(L.clip_loss, _clip_pairs, {"logit_scale": 20.0}, name="number_scale",
         diff=("image_embeddings", "text_embeddings"),
         peers=(Peer("open_clip ClipLoss formula (F.cross_entropy), number scale", "torch",
                     lambda image_embeddings, text_embeddings: _torch_clip().fn(
                         image_embeddings, text_embeddings, 20.0)),)),
    Case(L.clip_loss, _clip, {}, diff=("image_embeddings", "text_embeddings", "logit_scale"), dynamic=True,
         peers=(_torch_clip(),)),
    Case(L.clip_loss, _clip, {"normalize": False, "reduction": "sum"}, name="unnormalized",
         diff=("image_embeddings", "text_embeddings", "logit_scale")),
    Case(L.clip_loss, _clip_identical, {"reduction": "none"}, name="identical_scale100",
         diff=("image_embeddings", "text_embeddings", "logit_scale"), fd=False, dtypes=F64_F32, tol=1024.0),
    Case(L.barlow_twins_loss, _views, {}, diff=("z1", "z2"), dynamic=True, peers=(_torch_barlow(0.0051),)),
    Case(L.barlow_twins_loss, _views, {"lambda_": 0.005, "eps": 0.0, "correction": 1, "reduction": "none"},
         name="unbiased_none", diff=("z1", "z2")),
    Case(L.barlow_twins_loss, _barlow_constant, {"eps": 0.0}, name="constant_feature", diff=("z1", "z2"),
         fd=False),
    Case(L.barlow_twins_loss, _views_identical, {"lambda_": 0.1}, name="identical_views", diff=("z1", "z2")),
]


# ------------------------------------------------------ margin softmax and proxy losses ----
N_CLASSES = 4


def _classes(rng, n, name="linear_weight"):
    return {"embeddings": rng.normal(size=(n, 5)), "labels": rng.integers(0, N_CLASSES, size=n).astype(np.int64),
            name: rng.normal(size=(N_CLASSES, 5))}


def _proxies(rng, n):
    return _classes(rng, n, "proxies")


def _classes_opposite(rng, n):
    """Embeddings near the negative of their class row: target angles beyond pi - m (ArcFace's
    second branch) and cosines near -1."""
    d = _classes(rng, n)
    d["embeddings"] = -d["linear_weight"][d["labels"]] + 0.05 * rng.normal(size=(n, 5))
    return d


def _classes_exact(rng, n):
    """Class rows along the axes and embeddings along their class row: every cosine is exactly
    1, -1 (the last two rows) or 0 in every dtype (ArcFace: the clamp and the guarded square
    root at sin = 0); a zero embedding and a zero class row."""
    w = np.zeros((N_CLASSES, 5))
    w[np.arange(3), np.arange(3)] = [3.0, -2.0, 0.5]  # class 3: the zero row
    labels = rng.integers(0, 3, size=n).astype(np.int64)
    e = w[labels] * 2.0
    e[-2:] *= -1.0
    e[0] = 0.0
    return {"embeddings": e, "labels": labels, "linear_weight": w}


def _classes_orthogonal(rng, n):
    """Target cosines exactly 0 and +-1/2: SphereFace thresholds cos(j pi / m) for m = 3, 4."""
    w = np.eye(N_CLASSES, 5)
    labels = rng.integers(0, N_CLASSES, size=n).astype(np.int64)
    e = np.zeros((n, 5))
    e[:, 4] = 1.0  # orthogonal to every class row
    e[1::3, 4] = np.sqrt(3.0)
    e[1::3, labels[1::3]] = -1.0  # cos = -1/2
    e[2::3, 4] = np.sqrt(3.0)
    e[2::3, labels[2::3]] = 1.0  # cos = 1/2
    return {"embeddings": e, "labels": labels, "linear_weight": w}


def _proxies_missing_classes(rng, n):
    d = _proxies(rng, n)
    d["labels"] = (np.arange(n) % 2).astype(np.int64)  # classes 2 and 3 have no sample
    d["embeddings"][0] = 0.0
    return d


def _pml(cls_name, param, **kw):
    """A pytorch-metric-learning loss module run on the case's arrays: its parameter ``param``
    (``W``, stored ``(D, C)``, or ``proxies``, ``(C, D)``) is the case's class matrix."""
    def fn(embeddings, labels, linear_weight=None, proxies=None):
        from pytorch_metric_learning import losses as pml
        from torch.func import functional_call

        matrix = linear_weight if proxies is None else proxies
        c, d = matrix.shape
        module = getattr(pml, cls_name)(num_classes=c, embedding_size=d, **kw).to(matrix.dtype)
        value = matrix.T if param == "W" else matrix
        return functional_call(module, {param: value}, (embeddings, labels))

    return Peer(f"pytorch_metric_learning.losses.{cls_name}", "torch", fn, rtol=1e-11, atol=1e-11,
                requires="pytorch_metric_learning")


def _pml_pairs(cls_name, **kw):
    def fn(embeddings, labels):
        from pytorch_metric_learning import losses as pml

        return getattr(pml, cls_name)(**kw)(embeddings, labels)

    return Peer(f"pytorch_metric_learning.losses.{cls_name}", "torch", fn, rtol=1e-11, atol=1e-11,
                requires="pytorch_metric_learning")


_W = ("embeddings", "linear_weight")
_PROX = ("embeddings", "proxies")
_BIG = ("float64", "float32")  # scale 64: logits of about +-64 and gradients of the same size
CASES += [
    Case(L.arcface_loss, _classes, {}, diff=_W, dynamic=True,
         peers=(_pml("ArcFaceLoss", "W"),)),
    Case(L.arcface_loss, _classes, {"margin": 60.0, "scale": 8.0, "reduction": "none"}, name="margin60_none",
         diff=_W, peers=(Peer("pytorch_metric_learning.losses.ArcFaceLoss (per sample)", "torch",
                              lambda embeddings, labels, linear_weight: _pml_rows(
                                  "ArcFaceLoss", embeddings, labels, linear_weight, margin=60.0, scale=8.0),
                              rtol=1e-11, atol=1e-11, requires="pytorch_metric_learning"),)),
    Case(L.arcface_loss, _classes_opposite, {"scale": 4.0}, name="beyond_pi_minus_m", diff=_W,
         peers=(_pml("ArcFaceLoss", "W", scale=4.0),)),
    Case(L.arcface_loss, _classes_exact, {"scale": 2.0, "reduction": "sum"}, name="cos_pm1_zero_rows", diff=_W,
         fd=False, dtypes=F64_F32),
    Case(L.cosface_loss, _classes, {}, diff=_W, dynamic=True,
         peers=(_pml("CosFaceLoss", "W"),)),
    Case(L.cosface_loss, _classes, {"margin": 0.2, "scale": 16.0, "reduction": "sum"}, name="m0.2_s16_sum",
         diff=_W, peers=(Peer("pytorch_metric_learning.losses.CosFaceLoss (sum)", "torch",
                              lambda embeddings, labels, linear_weight: _pml("CosFaceLoss", "W", margin=0.2,
                                                                             scale=16.0).fn(
                                  embeddings, labels, linear_weight) * embeddings.shape[0],
                              rtol=1e-11, atol=1e-11, requires="pytorch_metric_learning"),)),
    Case(L.cosface_loss, _classes_exact, {"scale": 2.0, "reduction": "none"}, name="zero_rows", diff=_W, fd=False,
         dtypes=F64_F32),
    Case(L.sphereface_loss, _classes, {}, diff=_W, dynamic=True,
         peers=(_pml("SphereFaceLoss", "W"),)),
    Case(L.sphereface_loss, _classes, {"margin": 3, "scale": 2.0, "reduction": "none"}, name="m3_none", diff=_W),
    Case(L.sphereface_loss, _classes_orthogonal, {}, name="thresholds", diff=_W, fd=False,
         peers=(_pml("SphereFaceLoss", "W"),)),
    Case(L.sphereface_loss, _classes_orthogonal, {"margin": 3}, name="thresholds_m3", diff=_W, fd=False,
         peers=(_pml("SphereFaceLoss", "W", margin=3),)),
    Case(L.sphereface_loss, _classes_exact, {"margin": 1, "reduction": "sum"}, name="cos_pm1_zero_rows",
         diff=_W, fd=False, dtypes=F64_F32),
    Case(L.multi_similarity_loss, _mining, {}, diff=("embeddings",), dynamic=True,
         peers=(_pml_pairs("MultiSimilarityLoss"),)),
    Case(L.multi_similarity_loss, _mining, {"alpha": 1.0, "beta": 10.0, "base": 0.2, "reduction": "none"},
         name="a1_b10_none", diff=("embeddings",)),
    Case(L.multi_similarity_loss, _mining_one_class, {"beta": 10.0}, name="no_negatives", diff=("embeddings",),
         peers=(_pml_pairs("MultiSimilarityLoss", beta=10.0),)),
    Case(L.multi_similarity_loss, _mining_duplicates, {"reduction": "sum"}, name="zero_distances",
         diff=("embeddings",), fd=False, dtypes=_BIG),
    # the circle weights alpha are constants for the gradient (stop_gradient, as pml and the
    # paper's code): the gradient is not the derivative of the value, so no finite differences
    Case(L.circle_loss, _mining, {"mean_over": "nonzero"}, diff=("embeddings",), dynamic=True, fd=False,
         peers=(_pml_pairs("CircleLoss"),)),
    Case(L.circle_loss, _mining, {"margin": 0.25, "gamma": 16.0, "reduction": "none"}, name="m0.25_g16_none",
         diff=("embeddings",), fd=False),
    Case(L.circle_loss, _mining_one_class, {"gamma": 16.0}, name="no_negatives", diff=("embeddings",), fd=False),
    Case(L.circle_loss, _mining_all_distinct, {"gamma": 16.0}, name="no_positives", diff=("embeddings",), fd=False),
    Case(L.circle_loss, _mining_duplicates, {"gamma": 16.0, "reduction": "sum"}, name="zero_distances",
         diff=("embeddings",), fd=False, dtypes=F64_F32),
    Case(L.proxy_anchor_loss, _proxies, {}, diff=_PROX, dynamic=True,
         peers=(_pml("ProxyAnchorLoss", "proxies"),)),
    Case(L.proxy_anchor_loss, _proxies, {"margin": 0.3, "alpha": 4.0, "reduction": "sum"}, name="sum", diff=_PROX),
    Case(L.proxy_anchor_loss, _proxies_missing_classes, {"alpha": 8.0}, name="missing_classes", diff=_PROX,
         fd=False, dtypes=F64_F32, peers=(_pml("ProxyAnchorLoss", "proxies", alpha=8.0),)),
    Case(L.proxy_nca_loss, _proxies, {}, diff=_PROX, dynamic=True,
         peers=(_pml("ProxyNCALoss", "proxies"),)),
    Case(L.proxy_nca_loss, _proxies, {"scale": 8.0, "reduction": "none"}, name="s8_none", diff=_PROX),
    Case(L.proxy_nca_loss, _proxies_missing_classes, {"scale": 8.0}, name="zero_embedding", diff=_PROX,
         fd=False, dtypes=F64_F32, peers=(_pml("ProxyNCALoss", "proxies", softmax_scale=8.0),)),
]


def _pml_rows(cls_name, embeddings, labels, linear_weight, **kw):
    """pml's loss of each sample on its own (its ``MeanReducer`` of one element)."""
    torch = P.torch()
    peer = _pml(cls_name, "W", **kw).fn
    return torch.stack([peer(embeddings[i:i + 1], labels[i:i + 1], linear_weight)
                        for i in range(embeddings.shape[0])])

# explicit triplets / pairs after each loss's own first case (tests/test_edges.py takes the first)
CASES += [
    Case(L.batch_all_triplet_loss, _mining_triplets, {"margin": 0.3, "normalize": True, "mean_over": "nonzero"},
         name="pml_triplets", diff=("embeddings",), peers=(_pml_indices("TripletMarginLoss", margin=0.3),)),
    Case(L.batch_all_triplet_loss, _mining_pairs, {"margin": 0.3, "normalize": True, "mean_over": "nonzero"},
         name="pml_pairs", diff=("embeddings",), peers=(_pml_indices("TripletMarginLoss", margin=0.3),)),
    Case(L.batch_all_triplet_loss, _mining_pairs, {"reduction": "none"}, name="pairs_none", diff=("embeddings",)),
    Case(L.multi_similarity_loss, _mining_pairs, {"beta": 10.0}, name="pml_pairs", diff=("embeddings",),
         peers=(_pml_indices("MultiSimilarityLoss", beta=10.0),)),
    Case(L.multi_similarity_loss, _mining_triplets, {"beta": 10.0, "reduction": "none"}, name="triplets_none",
         diff=("embeddings",)),
]


# pml's reducers as mean_over= of contrastive_loss: pml's ContrastiveLoss on the pairs (i, N + i)
# of the embeddings [x1; x2] (no normalisation), its value = 2 x ours
def _pml_contrastive(margin, mean_over):
    def fn(x1, x2, target):
        import torch
        from pytorch_metric_learning import distances, reducers
        from pytorch_metric_learning import losses as pml

        n = x1.shape[0]
        i = torch.arange(n)
        pos, neg = i[target == 1], i[target == 0]
        kw = {"reducer": reducers.MeanReducer()} if mean_over == "pos_neg" else {}
        loss = pml.ContrastiveLoss(pos_margin=0.0, neg_margin=margin,
                                   distance=distances.LpDistance(normalize_embeddings=False), **kw)
        e = torch.cat([x1, x2])
        return loss(e, torch.zeros(2 * n, dtype=torch.int64), (pos, pos + n, neg, neg + n)) / 2

    return Peer(f"pytorch_metric_learning.losses.ContrastiveLoss ({mean_over})", "torch", fn, rtol=1e-11,
                atol=1e-11, requires="pytorch_metric_learning")


CASES += [
    Case(L.contrastive_loss, _pair_target, {"margin": 2.0, "squared": False, "mean_over": m}, name=f"pml_{m}",
         diff=("x1", "x2"), peers=(_pml_contrastive(2.0, m),))
    for m in ("pos_neg", "pos_neg_nonzero")
] + [
    Case(L.contrastive_loss, _pair_target, {"margin": 1.0, "mean_over": "nonzero"}, name="nonzero",
         diff=("x1", "x2")),
    Case(L.contrastive_loss, _pair_identical, {"margin": 1.0, "mean_over": "pos_neg_nonzero"},
         name="identical_pos_neg_nonzero", diff=("x1", "x2"), fd=False),
]

CASES += [
    # multi-positive NT-Xent (optax.losses.ntxent, pml NTXentLoss): the pair's positive and the
    # negatives in the denominator, the mean over the positive pairs
    Case(L.supervised_contrastive_loss, _mining, {"temperature": 0.3, "denominator": "negatives",
                                                  "mean_over": "pairs"}, name="optax_ntxent",
         diff=("embeddings",), peers=(Peer("optax.losses.ntxent (labels)", "jax",
                                           lambda embeddings, labels: P.optax().losses.ntxent(
                                               embeddings, labels, 0.3), rtol=1e-9, atol=1e-12,
                                           requires="optax"),
                                      _pml_pairs("NTXentLoss", temperature=0.3))),
    Case(L.supervised_contrastive_loss, _mining, {"denominator": "negatives", "reduction": "none"},
         name="negatives_none", diff=("embeddings",)),
    Case(L.supervised_contrastive_loss, _mining_one_class, {"denominator": "negatives", "mean_over": "pairs"},
         name="negatives_one_class", diff=("embeddings",), fd=False),
    Case(L.supervised_contrastive_loss, _mining, {"mean_over": "pairs", "reduction": "mean"}, name="pairs",
         diff=("embeddings",)),
]
