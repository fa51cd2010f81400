"""The benchmark matrix: every public loss against its twin, on torch, JAX and NumPy.

    python benchmarks/matrix.py [--quick] [--loss NAME ...] [--size S M]
                                [--out benchmarks/results/matrix-<date>.json]
                                [--markdown docs/benchmarks.md] [--cold]
    python benchmarks/matrix.py --from benchmarks/results/matrix-<date>.json --markdown docs/benchmarks.md

For every name of ``losses.__all__`` (``SPECS`` below: inputs, static keywords, the arguments
differentiated) and its twin (``TWINS``: the ``torch.nn.functional`` function where there is
one, else a naive formula written in torch as a user would; the optax function where there is
one), at sizes S (batch 32) and M (batch 4096 x 256 / 1024 x 128 embeddings / 8 x 4 x 128 x 128
masks / 4096 boxes / CTC T=50 and T=200), in float32:

* eager torch forward+backward time, ours and the twin interleaved (medians and the
  interquartile range over the repetitions, warm-up excluded);
* peak memory of one forward+backward: the bytes allocated on top of the inputs, from the
  allocation and free events that ``torch.profiler`` (``profile_memory=True``) records for
  every CPU tensor allocation (the running sum of the events' sizes, in time order; its
  maximum is the peak). tracemalloc does not see torch's allocator and the RSS is blurred by
  the C allocator's caching, the profiler's events are exact;
* ``jax.jit(jax.value_and_grad)`` time, ours against the optax twin (interleaved);
* NumPy forward time (ours);
* host reads per eager torch call: ``aten._local_scalar_dense`` calls, counted by a
  ``TorchDispatchMode`` (every ``bool(t)``/``float(t)``/``.item()`` goes through it);
* whether the twin's value agrees with ours (float64, relative 1e-5): the row compares
  like with like.

``--cold`` measures first calls instead, each in a fresh process: an eager JAX call of ours
against the optax twin, and the first step (compile + run) of a ``torch.compile``'d small
train step with ours against the ``torch.nn.functional`` twin.

Everything runs with ``torch.set_num_threads(1)`` and XLA on one thread (flags set before
JAX is imported). The output is a JSON file (machine description, versions, every
measurement) and, with ``--markdown``, a Markdown table with ratio columns and a pass/fail
mark against the targets in ``TARGETS``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: pass/fail thresholds (ratios ours / twin)
TARGETS = {
    "F_time_M": 1.2,   # torch.nn.functional twin, fwd+bwd time at M
    "F_mem_M": 1.1,    # ... peak memory at M
    "F_time_S": 2.0,   # ... fwd+bwd time at S
    "peer_time": 1.5,  # naive peer formula, any size
    "jit_optax": 1.05,  # jax.jit value_and_grad against the optax twin
    "host_reads": 1,   # per eager torch call
}

# ----------------------------------------------------------------------------------- sizes ---
#: the dimensions each size gives the input generators. ``rows x feat``: batches of
#: per-element / per-class losses; ``emb``: (batch, dim) embeddings; ``mask``: (N, C, H, W)
#: segmentation logits; ``boxes``: number of box pairs; ``ctc``: (T, N, C, S_max);
#: ``steps``: (T, B) trajectories of the return estimators. "T" is a tiny size for tests.
SIZES: dict[str, dict[str, Any]] = {
    "T": dict(rows=4, feat=8, emb=(8, 4), mask=(1, 3, 4, 4), boxes=4, ctc=(6, 2, 5, 2), steps=(5, 3)),
    "S": dict(rows=32, feat=256, emb=(32, 128), mask=(2, 4, 16, 16), boxes=32, ctc=(50, 32, 32, 20),
              steps=(32, 32)),
    "M": dict(rows=4096, feat=256, emb=(1024, 128), mask=(8, 4, 128, 128), boxes=4096, ctc=(50, 16, 32, 20),
              steps=(256, 4096)),
    "M-T200": dict(rows=4096, feat=256, emb=(1024, 128), mask=(8, 4, 128, 128), boxes=4096,
                   ctc=(200, 16, 32, 50), steps=(256, 4096)),
}


def is_m(size: str) -> bool:
    return size.startswith("M")


# ---------------------------------------------------------------------------- input specs ---
@dataclass
class Spec:
    """How to call a loss: ``make(rng, dims) -> {name: array or number}`` (NumPy float64 for
    floating arrays, cast to float32 per backend), static ``kwargs``, the differentiated
    arguments ``diff`` (empty: forward only) and the sizes to run."""

    make: Callable[[np.random.Generator, dict], dict]
    kwargs: dict = field(default_factory=dict)
    diff: tuple = ("input",)
    sizes: tuple = ("S", "M")
    backends: tuple = ("torch", "jax", "numpy")
    dims: dict = field(default_factory=dict)  # size -> overrides of SIZES[size]

    def dims_at(self, size: str) -> dict:
        return {**SIZES[size], **self.dims.get(size, {})}


def _mat(rng, d, scale=1.0):
    return rng.normal(size=(d["rows"], d["feat"])) * scale


def _pair(rng, d):
    return {"input": _mat(rng, d), "target": _mat(rng, d)}


def _pos_pair(rng, d):
    return {"input": rng.uniform(0.1, 3.0, size=(d["rows"], d["feat"])),
            "target": rng.uniform(0.1, 3.0, size=(d["rows"], d["feat"]))}


def _probs_pair(rng, d):
    return {"input": rng.uniform(0.02, 0.98, size=(d["rows"], d["feat"])),
            "target": rng.uniform(size=(d["rows"], d["feat"]))}


def _logits_binary(rng, d):
    return {"input": _mat(rng, d, 2.0), "target": (rng.uniform(size=(d["rows"], d["feat"])) < 0.3) * 1.0}


def _logits_pm1(rng, d):
    return {"input": _mat(rng, d, 2.0), "target": np.where(rng.uniform(size=(d["rows"], d["feat"])) < 0.5, -1.0, 1.0)}


def _classes(rng, d):
    return {"input": _mat(rng, d, 2.0), "target": rng.integers(0, d["feat"], size=(d["rows"],))}


def _linear_head(rng, d):
    # features (rows, D) through a head of feat classes: the logits are never materialised
    n, dim = d["rows"], d["emb"][1]
    return {"input": rng.normal(size=(n, dim)), "linear_weight": rng.normal(size=(d["feat"], dim)) / dim ** 0.5,
            "target": rng.integers(0, d["feat"], size=(n,))}


def _log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _softmax(z, axis=-1):
    return np.exp(_log_softmax(z, axis))


def _logprob_classes(rng, d):
    a = _classes(rng, d)
    a["input"] = _log_softmax(a["input"])
    return a


def _kl(rng, d):
    return {"input": _log_softmax(_mat(rng, d)), "target": _softmax(_mat(rng, d))}


def _kd(rng, d):
    return {"student_logits": _mat(rng, d, 2.0), "teacher_logits": _mat(rng, d, 2.0)}


def _gauss(rng, d):
    a = _pair(rng, d)
    a["var"] = rng.uniform(0.2, 2.0, size=(d["rows"], d["feat"]))
    return a


def _poisson(rng, d):
    return {"input": _mat(rng, d, 0.5), "target": rng.poisson(1.5, size=(d["rows"], d["feat"])) * 1.0}


def _multilabel(rng, d):
    return {"input": _mat(rng, d, 2.0), "target": (rng.uniform(size=(d["rows"], d["feat"])) < 0.2) * 1.0}


def _mlm(rng, d):
    n, c = d["rows"], d["feat"]
    t = np.full((n, c), -1, dtype=np.int64)
    k = rng.integers(1, min(c, 8) + 1, size=n)
    for i in range(n):  # a few labels per row, then the -1 terminator
        t[i, :k[i]] = rng.permutation(c)[:k[i]]
    return {"input": _mat(rng, d), "target": t}


def _ranking(rng, d):
    return {"input1": _mat(rng, d), "input2": _mat(rng, d),
            "target": np.where(rng.uniform(size=(d["rows"], d["feat"])) < 0.5, -1.0, 1.0)}


def _cos_emb(rng, d):
    return {"input1": _mat(rng, d), "input2": _mat(rng, d),
            "target": np.where(rng.uniform(size=(d["rows"],)) < 0.5, -1.0, 1.0)}


def _emb(rng, d, k=1):
    n, e = d["emb"]
    return rng.normal(size=(n, e)) if k == 1 else [rng.normal(size=(n, e)) for _ in range(k)]


def _emb_pair(rng, d):
    x1, x2 = _emb(rng, d, 2)
    return {"x1": x1, "x2": x2}


def _emb_pair_target(rng, d):
    a = _emb_pair(rng, d)
    a["target"] = (rng.uniform(size=(d["emb"][0],)) < 0.5) * 1.0
    return a


def _triplet(rng, d):
    a, p, n = _emb(rng, d, 3)
    return {"anchor": a, "positive": p, "negative": n}


def _mining(rng, d):
    n = d["emb"][0]
    per = 4 if n < 16 else 8  # every label has several members: every anchor has positives
    return {"embeddings": _emb(rng, d), "labels": rng.permutation(np.arange(n) // per)}


def _class_matrix(rng, d, name="linear_weight"):
    """Embeddings, labels and a (C, D) class matrix with C = 64 classes."""
    n, e = d["emb"]
    return {"embeddings": _emb(rng, d), "labels": rng.integers(0, 64, size=n), name: rng.normal(size=(64, e))}


def _proxies(rng, d):
    return _class_matrix(rng, d, "proxies")


def _nce(rng, d):
    q, k = _emb(rng, d, 2)
    return {"query": q, "positive_key": q + 0.3 * k}


def _zz(rng, d):
    z1, z2 = _emb(rng, d, 2)
    return {"z1": z1, "z2": z1 + 0.5 * z2}


def _clip(rng, d):
    a, b = _emb(rng, d, 2)
    return {"image_embeddings": a, "text_embeddings": a + 0.5 * b}


def _seg(rng, d):
    n, c, h, w = d["mask"]
    return {"input": rng.normal(size=(n, c, h, w)) * 2, "target": rng.integers(0, c, size=(n, h, w))}


def _seg_masked(rng, d):
    n, c, h, w = d["mask"]
    return dict(_seg(rng, d), mask=(rng.uniform(size=(n, 1, h, w)) < 0.7).astype(np.float64))


def _seg_binary(rng, d):
    n, c, h, w = d["mask"]
    return {"input": rng.normal(size=(n, 1, h, w)) * 2, "target": rng.integers(0, 2, size=(n, h, w))}


def _seg_hinge(rng, d):
    n, c, h, w = d["mask"]
    return {"input": rng.normal(size=(n, h, w)) * 2, "target": rng.integers(0, 2, size=(n, h, w))}


def _boundary(rng, d):
    import losses

    n, c, h, w = d["mask"]
    t = rng.integers(0, c, size=(n, h, w))
    t[:, : h // 2] = 0  # some structure, so the maps are not all tiny distances
    return {"input": np.ascontiguousarray(np.moveaxis(rng.dirichlet(np.ones(c), size=(n, h, w)), -1, 1)),
            "distance_maps": losses.signed_distance_map(t, num_classes=c)}


def _hausdorff(rng, d):
    import losses

    n, c, h, w = d["mask"]
    z = rng.normal(size=(n, c, h, w)) * 2
    t = rng.integers(0, c, size=(n, h, w))
    t[:, : h // 2] = 0
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return {"input": z, "target": t, "input_distance_maps": losses.boundary_distance_map(p > 0.5),
            "target_distance_maps": losses.boundary_distance_map(t, num_classes=c)}


def _labels_map(rng, d):
    n, c, h, w = d["mask"]
    t = rng.integers(0, c, size=(n, h, w))
    t[:, : h // 2] = 0
    return {"target": t, "num_classes": c}


def _boxes(rng, d):
    n = d["boxes"]
    xy = rng.uniform(0, 4, size=(n, 2))
    b1 = np.concatenate([xy, xy + rng.uniform(0.5, 3, size=(n, 2))], axis=-1)
    b2 = b1 + rng.normal(size=(n, 4)) * 0.3
    b2[:, 2:] = np.maximum(b2[:, 2:], b2[:, :2] + 0.1)
    return {"boxes1": b1, "boxes2": b2}


def _ctc(rng, d):
    t, n, c, s = d["ctc"]
    return {"log_probs": _log_softmax(rng.normal(size=(t, n, c))), "targets": rng.integers(1, c, size=(n, s)),
            "input_lengths": np.full((n,), t), "target_lengths": rng.integers(max(1, s // 2), s + 1, size=(n,))}


def _gan(rng, d):
    return {"real_logits": rng.normal(size=(d["rows"] * d["feat"], 1)) * 2,
            "fake_logits": rng.normal(size=(d["rows"] * d["feat"], 1)) * 2}


def _gan_fake(rng, d):
    return {"fake_logits": rng.normal(size=(d["rows"] * d["feat"], 1)) * 2}


def _latent(rng, d):
    return {"mu": _mat(rng, d), "logvar": _mat(rng, d, 0.7)}


def _vae(rng, d):
    a = _latent(rng, d)
    a["input"] = rng.uniform(0.05, 0.95, size=(d["rows"], d["feat"]))
    a["target"] = rng.uniform(size=(d["rows"], d["feat"]))
    return a


def perceptual_extractor(x):
    """A fixed three-map elementwise 'network' written with the array API (every backend)."""
    from losses.backends import namespace

    xp = namespace(x)
    f = x.shape[-1]
    h1 = xp.tanh(x[..., : f // 2] - 0.5 * x[..., f // 4: f // 4 + f // 2])
    return [x, h1, h1[..., 1:] * h1[..., :-1]]


def _vec(rng, d, lo=None, hi=None):
    n = d["rows"] * d["feat"]
    return rng.normal(size=(n,)) if lo is None else rng.uniform(lo, hi, size=(n,))


def _td(rng, d):
    n = d["rows"] * d["feat"]
    return {"v_tm1": _vec(rng, d), "r_t": _vec(rng, d), "discount_t": np.where(rng.uniform(size=(n,)) < 0.2, 0.0, 0.99),
            "v_t": _vec(rng, d)}


def _traj(rng, d):
    t, b = d["steps"]
    return {"r_t": rng.normal(size=(t, b)), "discount_t": np.where(rng.uniform(size=(t, b)) < 0.1, 0.0, 0.97),
            "v_t": rng.normal(size=(t, b))}


def _pg(rng, d):
    return {"logits": _mat(rng, d, 2.0), "actions": rng.integers(0, d["feat"], size=(d["rows"],)),
            "advantages": rng.normal(size=(d["rows"],))}


def _ac(rng, d):
    a = _pg(rng, d)
    del a["advantages"]
    a["values"] = rng.normal(size=(d["rows"],))
    a["returns"] = rng.normal(size=(d["rows"],))
    return a


def _ppo(rng, d):
    old = np.log(_vec(rng, d, 0.05, 1.0))
    return {"log_prob": old + _vec(rng, d) * 0.3, "old_log_prob": old, "advantages": _vec(rng, d)}


def _q(rng, d):
    n, a = d["rows"], 18  # a replay batch of rows transitions, 18 actions (Atari)
    return {"q_tm1": rng.normal(size=(n, a)), "a_tm1": rng.integers(0, a, size=(n,)), "r_t": rng.normal(size=(n,)),
            "discount_t": np.where(rng.uniform(size=(n,)) < 0.1, 0.0, 0.99), "q_t": rng.normal(size=(n, a))}


def _q_double(rng, d):
    out = _q(rng, d)
    out["q_t_value"] = out.pop("q_t")
    out["q_t_selector"] = rng.normal(size=out["q_tm1"].shape)
    return out


def _q_sarsa(rng, d):
    out = _q(rng, d)
    out["a_t"] = rng.integers(0, out["q_tm1"].shape[1], size=(d["rows"],))
    return out


def _q_expected(rng, d):
    out = _q(rng, d)
    z = rng.normal(size=out["q_tm1"].shape)
    out["probs_a_t"] = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    return out


def _traj_td_lambda(rng, d):
    out = _traj(rng, d)
    out["v_tm1"] = rng.normal(size=out["r_t"].shape)
    return out


def _vtrace(rng, d):
    out = _traj_td_lambda(rng, d)
    out["rho_tm1"] = np.exp(rng.normal(size=out["r_t"].shape) * 0.5)
    return out


def _off_policy(rng, d):
    out = _traj(rng, d)
    out["q_t"] = rng.normal(size=out["r_t"].shape)
    out["c_t"] = np.minimum(1.0, np.exp(rng.normal(size=out["r_t"].shape) * 0.5)) * 0.9
    return out


def _off_policy_actions(rng, d):
    out = _traj(rng, d)
    del out["v_t"]
    t, b = d["steps"]
    out["q_t"] = rng.normal(size=(t, b, 18))
    out["a_t"] = rng.integers(0, 18, size=(t, b))
    out["c_t"] = np.minimum(1.0, np.exp(rng.normal(size=(t, b)) * 0.5)) * 0.9
    z = rng.normal(size=(t, b, 18))
    out["probs_a_t"] = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    return out


def _vtrace_pg(rng, d):
    out = _vtrace(rng, d)
    t, b = d["steps"]
    out["logits"] = rng.normal(size=(t, b, 18))
    out["actions"] = rng.integers(0, 18, size=(t, b))
    return out


def _sac_critic(rng, d):
    n = d["rows"] * d["feat"]
    return {"q1_tm1": rng.normal(size=(n,)), "q2_tm1": rng.normal(size=(n,)), "r_t": rng.normal(size=(n,)),
            "discount_t": np.where(rng.uniform(size=(n,)) < 0.1, 0.0, 0.99), "q1_t": rng.normal(size=(n,)),
            "q2_t": rng.normal(size=(n,)), "log_prob_t": rng.normal(size=(n,)) - 1.0}


def _sac_actor(rng, d):
    return {"log_prob": _vec(rng, d) - 1.0, "q1": _vec(rng, d), "q2": _vec(rng, d)}


def _lists(rng, d):
    """Ranking lists: ``rows`` lists of 32 items, graded labels 0..3."""
    shape = (d["rows"], 32)
    return {"scores": rng.normal(size=shape), "labels": rng.integers(0, 4, size=shape).astype(np.float64)}


def _coral(rng, d):
    y = rng.integers(0, d["feat"] + 1, size=(d["rows"],))
    return {"input": _mat(rng, d, 2.0), "target": (y[:, None] > np.arange(d["feat"])) * 1.0}


def _tasks(rng, d, *names, lo=0.05, hi=3.0):
    return {k: rng.uniform(lo, hi, size=(d["rows"], d["feat"])) for k in names}


SPECS: dict[str, Spec] = {
    # regression
    "mse_loss": Spec(_pair),
    "l1_loss": Spec(_pair),
    "huber_loss": Spec(_pair),
    "smooth_l1_loss": Spec(_pair),
    "log_cosh_loss": Spec(_pair),
    "quantile_loss": Spec(_pair, {"q": 0.9}),
    "asymmetric_mse_loss": Spec(_pair),
    "mean_squared_log_error": Spec(_pos_pair),
    "mean_absolute_percentage_error": Spec(_pos_pair),
    # classification
    "binary_cross_entropy": Spec(_probs_pair),
    "binary_cross_entropy_with_logits": Spec(_logits_binary),
    "cross_entropy": Spec(_classes),
    "nll_loss": Spec(_logprob_classes),
    "kl_div": Spec(_kl, {"reduction": "batchmean"}),
    "sigmoid_focal_loss": Spec(_logits_binary),
    "softmax_focal_loss": Spec(_classes),
    "linear_cross_entropy": Spec(_linear_head, diff=("input", "linear_weight")),
    "poly1_cross_entropy": Spec(_classes),
    "distillation_loss": Spec(_kd, {"temperature": 4.0}, diff=("student_logits",)),
    "generalized_cross_entropy": Spec(_classes),
    "soft_f1_loss": Spec(_probs_pair, {"average": "macro"}),
    # probabilistic
    "gaussian_nll_loss": Spec(_gauss, diff=("input", "var")),
    "poisson_nll_loss": Spec(_poisson),
    # margin
    "hinge_embedding_loss": Spec(_logits_pm1),
    "soft_margin_loss": Spec(_logits_pm1),
    "multilabel_soft_margin_loss": Spec(_multilabel),
    "multi_margin_loss": Spec(_classes),
    "multilabel_margin_loss": Spec(_mlm),
    "margin_ranking_loss": Spec(_ranking, diff=("input1", "input2")),
    "cosine_embedding_loss": Spec(_cos_emb, diff=("input1", "input2")),
    "cosine_similarity_loss": Spec(_pair),
    "hinge_loss": Spec(_logits_pm1),
    "squared_hinge_loss": Spec(_logits_pm1),
    "multiclass_hinge_loss": Spec(_classes),
    # helpers (not losses, but public and timed: forward, and backward where differentiable)
    "class_weights": Spec(lambda rng, d: {"counts": rng.uniform(1.0, 500.0, size=(d["feat"],))}, diff=("counts",)),
    "pos_weight_from_counts": Spec(lambda rng, d: {"n_pos": rng.uniform(1.0, 50.0, size=(d["feat"],)),
                                                   "n_neg": rng.uniform(50.0, 500.0, size=(d["feat"],))},
                                   diff=("n_pos", "n_neg")),
    "smooth_labels": Spec(lambda rng, d: {"target": _softmax(_mat(rng, d))}, {"label_smoothing": 0.1},
                          diff=("target",)),
    # metric
    "pairwise_distance": Spec(_emb_pair, diff=("x1", "x2")),
    "cosine_similarity": Spec(_emb_pair, diff=("x1", "x2")),
    "contrastive_loss": Spec(_emb_pair_target, diff=("x1", "x2")),
    "triplet_margin_loss": Spec(_triplet, diff=("anchor", "positive", "negative")),
    "triplet_margin_with_distance_loss": Spec(_triplet, diff=("anchor", "positive", "negative")),
    "batch_hard_triplet_loss": Spec(_mining, diff=("embeddings",)),
    # N^3 triplet terms (4 GB of float32 at N = 1024 for the twin alone): M is 256 x 128
    "batch_all_triplet_loss": Spec(_mining, diff=("embeddings",), dims={"M": {"emb": (256, 128)}}),
    "semi_hard_triplet_loss": Spec(_mining, diff=("embeddings",), dims={"M": {"emb": (256, 128)}}),
    # miners: index tuples, forward only
    "batch_hard_mining": Spec(_mining, diff=()),
    "semi_hard_mining": Spec(_mining, diff=(), dims={"M": {"emb": (256, 128)}}),
    "info_nce_loss": Spec(_nce, diff=("query", "positive_key")),
    "nt_xent_loss": Spec(_zz, diff=("z1", "z2")),
    "supervised_contrastive_loss": Spec(_mining, diff=("embeddings",)),
    "clip_loss": Spec(_clip, diff=("image_embeddings", "text_embeddings")),
    "barlow_twins_loss": Spec(_zz, diff=("z1", "z2")),
    "arcface_loss": Spec(_class_matrix, diff=("embeddings", "linear_weight")),
    "cosface_loss": Spec(_class_matrix, diff=("embeddings", "linear_weight")),
    "sphereface_loss": Spec(_class_matrix, diff=("embeddings", "linear_weight")),
    "multi_similarity_loss": Spec(_mining, diff=("embeddings",)),
    "circle_loss": Spec(_mining, diff=("embeddings",)),
    "proxy_anchor_loss": Spec(_proxies, diff=("embeddings", "proxies")),
    "proxy_nca_loss": Spec(_proxies, diff=("embeddings", "proxies")),
    # segmentation
    "dice_loss": Spec(_seg),
    "jaccard_loss": Spec(_seg),
    "tversky_loss": Spec(_seg),
    "focal_tversky_loss": Spec(_seg),
    "generalized_dice_loss": Spec(_seg),
    "lovasz_softmax_loss": Spec(_seg),
    "lovasz_hinge_loss": Spec(_seg_hinge),
    "boundary_loss": Spec(_boundary),
    "dice_ce_loss": Spec(_seg),
    "combo_loss": Spec(_seg_binary),
    "signed_distance_map": Spec(_labels_map, diff=(), backends=("numpy",)),
    "masked_dice_loss": Spec(_seg_masked),
    "mcc_loss": Spec(_seg),
    "dice_focal_loss": Spec(_seg),
    "hausdorff_dt_loss": Spec(_hausdorff),
    "generalized_wasserstein_dice_loss": Spec(_seg),
    "boundary_distance_map": Spec(_labels_map, diff=(), backends=("numpy",)),
    # detection
    "box_iou_loss": Spec(_boxes, diff=("boxes1",)),
    "generalized_box_iou_loss": Spec(_boxes, diff=("boxes1",)),
    "distance_box_iou_loss": Spec(_boxes, diff=("boxes1",)),
    "complete_box_iou_loss": Spec(_boxes, diff=("boxes1",)),
    # sequence
    "ctc_loss": Spec(_ctc, diff=("log_probs",), sizes=("S", "M", "M-T200")),
    # generative
    "gan_discriminator_loss": Spec(_gan, diff=("real_logits", "fake_logits")),
    "gan_generator_loss": Spec(_gan_fake, diff=("fake_logits",)),
    "gradient_penalty": Spec(lambda rng, d: {"gradients": _mat(rng, d, 0.1)}, diff=("gradients",)),
    "r1_penalty": Spec(lambda rng, d: {"gradients": _mat(rng, d, 0.1)}, {"interval": 16}, diff=("gradients",)),
    "r2_penalty": Spec(lambda rng, d: {"gradients": _mat(rng, d, 0.1)}, diff=("gradients",)),
    "path_length_penalty": Spec(lambda rng, d: {"gradients": _mat(rng, d, 0.1)}, {"mean_path_length": 0.5},
                                diff=("gradients",)),
    "path_length_mean_update": Spec(lambda rng, d: {"gradients": _mat(rng, d, 0.1)}, {"mean_path_length": 0.5},
                                    diff=()),
    "gaussian_kl_divergence": Spec(_latent, diff=("mu", "logvar")),
    "vae_loss": Spec(_vae, diff=("input", "mu", "logvar")),
    "perceptual_loss": Spec(_pair, {"feature_extractor": perceptual_extractor}, diff=("input",)),
    # rl
    "td_loss": Spec(_td, diff=("v_tm1",)),
    "q_learning_loss": Spec(_q, diff=("q_tm1",)),
    "double_q_learning_loss": Spec(_q_double, diff=("q_tm1",)),
    "sarsa_loss": Spec(_q_sarsa, diff=("q_tm1",)),
    "expected_sarsa_loss": Spec(_q_expected, diff=("q_tm1",)),
    "td_lambda_loss": Spec(_traj_td_lambda, {"lambda_": 0.95}, diff=("v_tm1",)),
    "n_step_returns": Spec(_traj, {"n": 5}, diff=("r_t", "v_t")),
    "lambda_returns": Spec(_traj, {"lambda_": 0.95}, diff=("r_t", "v_t")),
    "vtrace_returns": Spec(_vtrace, diff=("v_tm1", "v_t")),
    "general_off_policy_returns": Spec(_off_policy, diff=("q_t", "v_t")),
    "general_off_policy_returns_from_action_values": Spec(_off_policy_actions, diff=("q_t",)),
    "policy_gradient_loss": Spec(_pg, diff=("logits",)),
    "vtrace_policy_gradient_loss": Spec(_vtrace_pg, diff=("logits",)),
    "entropy_loss": Spec(lambda rng, d: {"logits": _mat(rng, d, 2.0)}, diff=("logits",)),
    "actor_critic_loss": Spec(_ac, diff=("logits", "values")),
    "ppo_clip_loss": Spec(_ppo, diff=("log_prob",)),
    "sac_critic_loss": Spec(_sac_critic, diff=("q1_tm1", "q2_tm1")),
    "sac_actor_loss": Spec(_sac_actor, diff=("log_prob", "q1", "q2")),
    "sac_temperature_loss": Spec(lambda rng, d: {"log_alpha": np.asarray([-1.0]), "log_prob": _vec(rng, d) - 1.0},
                                 {"target_entropy": -6.0}, diff=("log_alpha",)),
    # ranking
    **{name: Spec(_lists, diff=("scores",)) for name in (
        "ranking_softmax_loss", "poly1_softmax_loss", "listmle_loss", "pairwise_hinge_loss",
        "pairwise_logistic_loss", "pairwise_mse_loss", "approx_ndcg_loss", "approx_mrr_loss")},
    # multitask
    "uncertainty_weighted_loss": Spec(lambda rng, d: {"losses": rng.uniform(0.05, 3.0, size=(d["rows"], d["feat"])),
                                                      "log_vars": rng.normal(size=(d["feat"],))},
                                      diff=("losses", "log_vars")),
    "dynamic_weight_average": Spec(lambda rng, d: {"loss_history": rng.uniform(0.2, 2.0, size=(2, d["rows"], d["feat"]))},
                                   diff=()),
    "gradnorm_loss": Spec(lambda rng, d: {"grad_norms": rng.uniform(0.1, 3.0, size=(d["rows"], d["feat"])),
                                          "loss_ratios": rng.uniform(0.3, 1.0, size=(d["rows"], d["feat"]))},
                          diff=("grad_norms",)),
    "renormalize_task_weights": Spec(lambda rng, d: _tasks(rng, d, "task_weights", lo=0.1, hi=2.0),
                                     diff=("task_weights",)),
    "curriculum_weights": Spec(lambda rng, d: {"difficulty": _vec(rng, d, 0.0, 1.0)}, {"progress": 0.5}, diff=()),
    "self_paced_weights": Spec(lambda rng, d: {"losses": _vec(rng, d, 0.0, 2.0)}, {"threshold": 1.0}, diff=()),
    "super_loss": Spec(lambda rng, d: {"losses": _vec(rng, d, 0.0, 4.0)}, {"tau": math.log(4.0)}, diff=("losses",)),
    # sparse
    "sparsemax_loss": Spec(_logits_binary),
    "multiclass_sparsemax_loss": Spec(_classes),
    "entmax15_loss": Spec(_classes),
    "entmax_bisect_loss": Spec(_classes),
    "perceptron_loss": Spec(_logits_pm1),
    "multiclass_perceptron_loss": Spec(_classes),
    "generalized_kl_divergence": Spec(lambda rng, d: {"input": _mat(rng, d), "target": rng.uniform(0.0, 2.0, size=(d["rows"], d["feat"]))}),
    "convex_kl_divergence": Spec(lambda rng, d: {"input": _mat(rng, d), "target": rng.uniform(0.0, 2.0, size=(d["rows"], d["feat"]))}),
    "safe_softmax_cross_entropy": Spec(lambda rng, d: {"input": _mat(rng, d, 2.0), "target": _softmax(_mat(rng, d))}),
    # ordinal (feat - 1 binary tasks of feat levels)
    "ordinal_targets": Spec(lambda rng, d: {"levels": rng.integers(0, d["feat"], size=(d["rows"],))},
                            {"num_classes": 256}, diff=()),
    "coral_loss": Spec(_coral),
    "corn_loss": Spec(lambda rng, d: {"input": _mat(rng, d, 2.0), "target": rng.integers(0, d["feat"] + 1, size=(d["rows"],))}),
    "cumulative_link_loss": Spec(lambda rng, d: {"input": _vec(rng, d), "target": rng.integers(0, 8, size=(d["rows"] * d["feat"],)),
                                                 "cutpoints": np.linspace(-2.0, 2.0, 7)}, diff=("input", "cutpoints")),
}


# ------------------------------------------------------------------------------------ twins ---
@dataclass
class Twin:
    """The peer a loss is measured against. ``kind``: ``"F"`` (a ``torch.nn.functional``
    function), ``"peer"`` (a naive torch formula written as a user would) or ``None`` (nothing
    to compare with). ``torch(**tensors)`` and ``optax(**jax_arrays)`` receive the spec's arrays
    by name and return the value ours returns with the spec's keywords."""

    kind: str | None
    note: str
    torch: Callable | None = None
    optax: Callable | None = None


def _t_path_length(gradients, pl_mean, decay=0.01):
    lengths = gradients.square().sum(1).sqrt()
    new_mean = (pl_mean + decay * (lengths.mean() - pl_mean)).detach()
    return (lengths - new_mean).square().mean(), new_mean


def _F():
    import torch.nn.functional as F

    return F


def _T():
    import torch

    return torch


def _ox():
    import optax

    return optax


def _jnp():
    import jax.numpy as jnp

    return jnp


def _gather(logits_like, target):
    return logits_like.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def _onehot_nchw(t, c):
    return _F().one_hot(t, c).permute(0, 3, 1, 2).to(_T().float32 if t.dtype != _T().float64 else t.dtype)


def _seg_sums(x, t):
    """Softmax probabilities and per-(sample, class) TP, sum p, sum y (the usual soft-overlap sums)."""
    p = x.softmax(1)
    y = _onehot_nchw(t, x.shape[1]).to(x.dtype)
    return (p * y).sum((2, 3)), p.sum((2, 3)), y.sum((2, 3))


def _t_dice(input, target):
    tp, sp, sy = _seg_sums(input, target)
    return (1 - 2 * tp / (sp + sy)).mean()


def _t_jaccard(input, target):
    tp, sp, sy = _seg_sums(input, target)
    return (1 - tp / (sp + sy - tp)).mean()


def _t_tversky(input, target, gamma=1.0):
    tp, sp, sy = _seg_sums(input, target)
    return ((1 - tp / (tp + 0.3 * (sp - tp) + 0.7 * (sy - tp))) ** gamma).mean()


def _t_gdice(input, target):
    tp, sp, sy = _seg_sums(input, target)
    w = 1 / sy ** 2  # MONAI GeneralizedDiceLoss, w_type="square", batch=False
    return (1 - 2 * (w * tp).sum(1) / (w * (sp + sy)).sum(1)).mean()


def _lovasz_grad(gt_sorted):
    """Berman et al.'s reference ``lovasz_grad`` (LovaszSoftmax repository, PyTorch)."""
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    jaccard[1:] = jaccard[1:] - jaccard[:-1]
    return jaccard


def _t_lovasz_softmax(input, target):
    """The reference ``lovasz_softmax_flat`` (classes="present", per_image=False)."""
    torch = _T()
    c = input.shape[1]
    probas = input.softmax(1).permute(0, 2, 3, 1).reshape(-1, c)
    labels = target.reshape(-1)
    out = []
    for k in range(c):
        fg = (labels == k).to(probas.dtype)
        if fg.sum() == 0:
            continue
        errors = (fg - probas[:, k]).abs()
        errors_sorted, perm = torch.sort(errors, 0, descending=True)
        out.append(torch.dot(errors_sorted, _lovasz_grad(fg[perm])))
    return torch.stack(out).mean()


def _t_lovasz_hinge(input, target):
    """The reference ``lovasz_hinge`` (per_image=True): a Python loop over the images."""
    torch = _T()
    out = []
    for x, t in zip(input, target):
        x, t = x.reshape(-1), t.reshape(-1).to(x.dtype)
        errors = 1.0 - x * (2.0 * t - 1.0)
        errors_sorted, perm = torch.sort(errors, dim=0, descending=True)
        out.append(torch.dot(_F().relu(errors_sorted), _lovasz_grad(t[perm])))
    return torch.stack(out).mean()


def _t_masked_dice(input, target, mask):
    """Dice of the masked softmax probabilities and one-hot target (MONAI's MaskedDiceLoss)."""
    p = input.softmax(1) * mask
    y = _onehot_nchw(target, input.shape[1]).to(input.dtype) * mask
    tp = (p * y).sum((2, 3))
    return (1 - 2 * tp / (p.sum((2, 3)) + y.sum((2, 3)))).mean()


def _t_mcc(input, target, eps=1e-5):
    """1 - MCC of the soft confusion matrix per sample and class, eps on each entry."""
    tp, sp, sy = _seg_sums(input, target)
    fp, fn = sp - tp, sy - tp
    tn = input.shape[2] * input.shape[3] - sp - sy + tp
    tp, fp, fn, tn = tp + eps, fp + eps, fn + eps, tn + eps
    return (1 - (tp * tn - fp * fn) / ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).sqrt()).mean()


def _t_dice_focal(input, target):
    """Dice (softmax) + the mean sigmoid focal loss (gamma 2) of every channel vs the one-hot target."""
    F = _F()
    y = _onehot_nchw(target, input.shape[1]).to(input.dtype)
    bce = F.binary_cross_entropy_with_logits(input, y, reduction="none")
    p = input.sigmoid()
    one_m_pt = y * (1 - p) + (1 - y) * p
    return _t_dice(input, target) + (one_m_pt ** 2 * bce).mean()


def _t_hausdorff(input, target, input_distance_maps, target_distance_maps):
    """MONAI HausdorffDTLoss with the fields given: mean (p - g)^2 (dp^2 + dg^2) over classes 1.."""
    p = input.softmax(1)
    y = _onehot_nchw(target, input.shape[1]).to(input.dtype)
    f = (p - y) ** 2 * (input_distance_maps ** 2 + target_distance_maps ** 2)
    return f[:, 1:].mean()


def _t_wasserstein_dice(input, target):
    """MONAI GeneralizedWassersteinDiceLoss formula with M = 1 - I, default weighting."""
    p = input.softmax(1).flatten(2)
    c = input.shape[1]
    y = target.flatten(1)
    m = 1 - _T().eye(c, dtype=input.dtype)
    wmap = (m[y] * p.transpose(1, 2)).sum(-1)
    alpha = (y > 0).to(input.dtype)
    tp = (alpha * (1 - wmap)).sum(1)
    return (1 - 2 * tp / (2 * tp + wmap.sum(1))).mean()


def _t_combo(input, target):
    """Taghanaki et al.'s combo (binary): 0.5 weighted BCE + 0.5 Dice loss (smooth 1), per sample."""
    F = _F()
    y = target.unsqueeze(1).to(input.dtype)
    p = input.sigmoid()
    bce = -(0.5 * y * F.logsigmoid(input) + 0.5 * (1 - y) * F.logsigmoid(-input)).mean()
    dice = 1 - (2 * (p * y).sum((1, 2, 3)) + 1) / (p.sum((1, 2, 3)) + y.sum((1, 2, 3)) + 1)
    return 0.5 * bce + 0.5 * dice.mean()


def _box_parts(b1, b2):
    """torchvision.ops._box_iou_loss / _diou_iou_loss, written out (no torchvision here)."""
    torch = _T()
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    xkis1, ykis1 = torch.max(x1, x1g), torch.max(y1, y1g)
    xkis2, ykis2 = torch.min(x2, x2g), torch.min(y2, y2g)
    inter = (xkis2 - xkis1).clamp(min=0) * (ykis2 - ykis1).clamp(min=0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + 1e-7)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    return iou, union, (xc1, yc1, xc2, yc2), (x1, y1, x2, y2, x1g, y1g, x2g, y2g)


def _t_iou(boxes1, boxes2):
    return (1 - _box_parts(boxes1, boxes2)[0]).mean()


def _t_giou(boxes1, boxes2):
    iou, union, (xc1, yc1, xc2, yc2), _ = _box_parts(boxes1, boxes2)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return (1 - (iou - (area_c - union) / (area_c + 1e-7))).mean()


def _diou_terms(boxes1, boxes2):
    iou, _, (xc1, yc1, xc2, yc2), (x1, y1, x2, y2, x1g, y1g, x2g, y2g) = _box_parts(boxes1, boxes2)
    diag = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + 1e-7
    dist = ((x1 + x2) / 2 - (x1g + x2g) / 2) ** 2 + ((y1 + y2) / 2 - (y1g + y2g) / 2) ** 2
    return iou, dist / diag, (x1, y1, x2, y2, x1g, y1g, x2g, y2g)


def _t_diou(boxes1, boxes2):
    iou, pen, _ = _diou_terms(boxes1, boxes2)
    return (1 - iou + pen).mean()


def _t_ciou(boxes1, boxes2):
    torch = _T()
    iou, pen, (x1, y1, x2, y2, x1g, y1g, x2g, y2g) = _diou_terms(boxes1, boxes2)
    v = (4 / math.pi ** 2) * (torch.atan((x2g - x1g) / (y2g - y1g)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + 1e-7)
    return (1 - iou + pen + alpha * v).mean()


def _t_label_pairs(embeddings, labels):
    """The cdist matrix, its size, the same-label mask and the positive-pair mask (no self pairs)."""
    torch = _T()
    d = torch.cdist(embeddings, embeddings)
    n = d.shape[0]
    same = labels[:, None] == labels[None, :]
    return torch, d, n, same, same & ~torch.eye(n, dtype=torch.bool)


def _t_semi_hard(embeddings, labels):
    """FaceNet semi-hard mining as a user writes it from TF-Addons: all (a, p) pairs, the
    closest negative farther than the positive, else the farthest negative; O(N^3) masks."""
    torch, d, n, same, pos = _t_label_pairs(embeddings, labels)
    neg = ~same
    dap = d.unsqueeze(2)  # (a, p, 1)
    dan = d.unsqueeze(1)  # (a, 1, n)
    semi = neg.unsqueeze(1) & (dan > dap)
    big = d.max().detach() + 1
    closest = torch.where(semi, dan, big).min(2).values
    farthest = torch.where(neg, d, -big).max(1, keepdim=True).values.expand(n, n)
    chosen = torch.where(semi.any(2), closest, farthest)
    loss = (d - chosen + 1.0).clamp(min=0)
    return loss[pos].mean()


def _t_batch_hard_mining(embeddings, labels):
    """Batch-hard mining as a user writes it: masked max / min of the cdist matrix."""
    torch, d, n, same, pos = _t_label_pairs(embeddings, labels)
    inf = torch.full_like(d, float("inf"))
    p = torch.where(pos, d, -inf).argmax(1)
    q = torch.where(~same, d, inf).argmin(1)
    valid = pos.any(1) & (~same).any(1)
    a = torch.arange(n)
    return a, torch.where(valid, p, a), torch.where(valid, q, a), valid


def _t_semi_hard_mining(embeddings, labels):
    """FaceNet semi-hard negatives per positive pair with (N, N, N) masks (as _t_semi_hard)."""
    torch, d, n, same, pos = _t_label_pairs(embeddings, labels)
    neg = ~same
    semi = neg.unsqueeze(1) & (d.unsqueeze(1) > d.unsqueeze(2))  # [a, p, n]
    inf = float("inf")
    closest = torch.where(semi, d.unsqueeze(1), inf).argmin(2)
    farthest = torch.where(neg, d, -inf).argmax(1, keepdim=True).expand(n, n)
    chosen = torch.where(semi.any(2), closest, farthest)
    valid = pos & neg.any(1, keepdim=True)
    a = torch.arange(n)[:, None].expand(n, n)
    p = torch.arange(n)[None, :].expand(n, n)
    return a, torch.where(valid, p, a), torch.where(valid, chosen, a), valid


def _t_batch_all(embeddings, labels):
    """Batch-all triplet loss as commonly written: every valid (a, p, n) in an (N, N, N)
    tensor, mean over the valid triplets (Hermans et al.'s "BA")."""
    torch, d, n, same, pos = _t_label_pairs(embeddings, labels)
    valid = pos.unsqueeze(2) & (~same).unsqueeze(1)
    t = (d.unsqueeze(2) - d.unsqueeze(1) + 1.0).clamp(min=0) * valid
    return t.sum() / valid.sum()


def _t_batch_hard(embeddings, labels):
    torch = _T()
    d = torch.cdist(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    hardest_pos = (d * same).max(1).values
    hardest_neg = torch.where(same, d.max().detach() + 1, d).min(1).values
    return (hardest_pos - hardest_neg + 1.0).clamp(min=0).mean()


def _t_margin_softmax(embeddings, labels, linear_weight, kind):
    """ArcFace / CosFace / SphereFace as their papers' code: F.normalize, acos, F.cross_entropy."""
    torch, F = _T(), _F()
    cos = F.normalize(embeddings, dim=1) @ F.normalize(linear_weight, dim=1).T
    onehot = F.one_hot(labels, cos.shape[1]).bool()
    if kind == "arc":
        m = math.radians(28.6)
        theta = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
        target = torch.where(theta <= math.pi - m, torch.cos(theta + m), cos - m * math.sin(m))
        return F.cross_entropy(64.0 * torch.where(onehot, target, cos), labels)
    if kind == "cos":
        return F.cross_entropy(64.0 * torch.where(onehot, cos - 0.35, cos), labels)
    theta = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    k = torch.floor(theta * 4 / math.pi).detach()
    target = (-1.0) ** k * torch.cos(4 * theta) - 2 * k
    return F.cross_entropy(embeddings.norm(dim=1, keepdim=True) * torch.where(onehot, target, cos), labels)


def _t_pair_masks(embeddings, labels):
    torch, F = _T(), _F()
    z = F.normalize(embeddings, dim=1)
    s = z @ z.T
    same = labels[:, None] == labels[None, :]
    return s, same & ~torch.eye(len(labels), dtype=torch.bool), ~same


def _t_multi_similarity(embeddings, labels):
    torch = _T()
    s, pos, neg = _t_pair_masks(embeddings, labels)
    ninf = torch.tensor(-torch.inf, dtype=s.dtype)
    zero = torch.zeros(len(labels), 1, dtype=s.dtype)
    lp = torch.logsumexp(torch.cat([torch.where(pos, -2.0 * (s - 0.5), ninf), zero], 1), 1) / 2.0
    ln = torch.logsumexp(torch.cat([torch.where(neg, 50.0 * (s - 0.5), ninf), zero], 1), 1) / 50.0
    return (lp + ln).mean()


def _t_circle(embeddings, labels):
    torch = _T()
    s, pos, neg = _t_pair_masks(embeddings, labels)
    ap = torch.relu(1.4 - s.detach())
    an = torch.relu(s.detach() + 0.4)
    lp = torch.logsumexp(torch.where(pos, -80.0 * ap * (s - 0.6), -torch.inf), 1)
    ln = torch.logsumexp(torch.where(neg, 80.0 * an * (s - 0.4), -torch.inf), 1)
    return _F().softplus(lp + ln).mean()


def _t_proxy_anchor(embeddings, labels, proxies):
    torch, F = _T(), _F()
    cos = F.normalize(embeddings, dim=1) @ F.normalize(proxies, dim=1).T
    onehot = F.one_hot(labels, proxies.shape[0]).to(cos.dtype)
    pos = torch.log1p((torch.exp(-32.0 * (cos - 0.1)) * onehot).sum(0))
    neg = torch.log1p((torch.exp(32.0 * (cos + 0.1)) * (1 - onehot)).sum(0))
    return pos.sum() / (onehot.sum(0) > 0).sum() + neg.mean()


def _t_proxy_nca(embeddings, labels, proxies):
    F = _F()
    d2 = _T().cdist(F.normalize(embeddings, dim=1), F.normalize(proxies, dim=1)) ** 2
    return F.cross_entropy(-d2, labels)


def _t_supcon(embeddings, labels, t=0.1):
    """Khosla et al.'s SupConLoss (one view, base_temperature = temperature)."""
    torch = _T()
    z = _F().normalize(embeddings, dim=1)
    logits = z @ z.T / t
    n = z.shape[0]
    not_self = ~torch.eye(n, dtype=torch.bool)
    mask = (labels[:, None] == labels[None, :]) & not_self
    log_prob = logits - torch.logsumexp(logits.masked_fill(~not_self, -torch.inf), dim=1, keepdim=True)
    return -((mask * log_prob).sum(1) / mask.sum(1)).mean()


def _t_ntxent(z1, z2, t=0.5):
    """SimCLR's NT-Xent: 2N views, cross-entropy of each against its partner."""
    torch = _T()
    z = _F().normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = (z @ z.T / t).fill_diagonal_(-torch.inf)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return _F().cross_entropy(sim, target)


def _o_ntxent(z1, z2):
    jnp = _jnp()
    n = z1.shape[0]
    return _ox().losses.ntxent(jnp.concatenate([z1, z2]), jnp.concatenate([jnp.arange(n)] * 2), temperature=0.5)


def _t_barlow(z1, z2, lam=0.0051):
    """facebookresearch/barlowtwins: batch-normalised cross-correlation."""
    torch = _T()
    F = _F()
    n = z1.shape[0]
    c = F.batch_norm(z1, None, None, training=True).T @ F.batch_norm(z2, None, None, training=True) / n
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lam * off


def _t_n_step(r_t, discount_t, v_t, n=5):
    """rlax ``n_step_bootstrapped_returns`` as a user ports it: a loop over the n steps."""
    torch = _T()
    t = r_t.shape[0]
    v_pad = torch.cat([v_t, v_t[-1:].expand(n - 1, -1)]) if n > 1 else v_t
    r_pad = torch.cat([r_t, torch.zeros_like(r_t[:n - 1])])
    d_pad = torch.cat([discount_t, torch.ones_like(discount_t[:n - 1])])
    targets = v_pad[n - 1:n - 1 + t]
    for i in reversed(range(n)):
        targets = r_pad[i:i + t] + d_pad[i:i + t] * targets
    return targets


def _t_lambda(r_t, discount_t, v_t, lam=0.95):
    """rlax ``lambda_returns`` as a reverse Python loop over time."""
    torch = _T()
    g = v_t[-1]
    out = []
    for i in reversed(range(r_t.shape[0])):
        g = r_t[i] + discount_t[i] * ((1 - lam) * v_t[i] + lam * g)
        out.append(g)
    return torch.stack(out[::-1])


def _t_vtrace(v_tm1, v_t, r_t, discount_t, rho_tm1, clip=1.0):
    """rlax ``vtrace`` (lambda 1) as a reverse Python loop over time, plus ``v_tm1``."""
    torch = _T()
    td = rho_tm1.clamp(max=clip) * (r_t + discount_t * v_t - v_tm1)
    c = rho_tm1.clamp(max=1.0)
    acc, out = torch.zeros_like(v_tm1[0]), []
    for i in reversed(range(r_t.shape[0])):
        acc = td[i] + discount_t[i] * c[i] * acc
        out.append(acc)
    return v_tm1 + torch.stack(out[::-1])


def _t_off_policy(q_t, v_t, r_t, discount_t, c_t):
    """rlax ``general_off_policy_returns_from_q_and_v`` as a reverse Python loop over time."""
    torch = _T()
    acc = r_t[-1] + discount_t[-1] * v_t[-1]
    out = [acc]
    for i in reversed(range(r_t.shape[0] - 1)):
        acc = r_t[i] + discount_t[i] * (v_t[i] - c_t[i] * q_t[i] + c_t[i] * acc)
        out.append(acc)
    return torch.stack(out[::-1])


def _t_vtrace_pg(logits, actions, v_tm1, v_t, r_t, discount_t, rho_tm1):
    """IMPALA's policy-gradient loss with V-trace advantages (all clips 1, lambda 1)."""
    torch = _T()
    with torch.no_grad():
        vs = _t_vtrace(v_tm1, v_t, r_t, discount_t, rho_tm1)
        nxt = torch.cat([vs[1:], v_t[-1:]])
        adv = rho_tm1.clamp(max=1.0) * (r_t + discount_t * nxt - v_tm1)
    return -(_gather(logits.log_softmax(-1), actions) * adv).mean()


def _t_sac_critic(q1_tm1, q2_tm1, r_t, discount_t, q1_t, q2_t, log_prob_t, alpha=0.2):
    F = _F()
    with _T().no_grad():
        target = r_t + discount_t * (_T().min(q1_t, q2_t) - alpha * log_prob_t)
    return 0.5 * (F.mse_loss(q1_tm1, target) + F.mse_loss(q2_tm1, target))


def _t_super(losses):
    """SuperLoss reference: sigma from scipy's Lambert W on the host (held constant)."""
    import scipy.special

    torch = _T()
    tau, lam = math.log(4.0), 1.0
    beta = ((losses.detach() - tau) / lam).cpu().double().numpy()
    y = 0.5 * np.maximum(-2 / math.e + 1e-12, beta)  # just inside the branch point (NaN on it)
    sigma = torch.from_numpy(np.exp(-scipy.special.lambertw(y).real)).to(losses.dtype)
    return ((losses - tau) * sigma + lam * torch.log(sigma) ** 2).mean()


def _t_vae(input, target, mu, logvar):
    """The PyTorch VAE example (BCE sum + KLD), divided by the batch size."""
    kld = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum()
    return (_F().binary_cross_entropy(input, target, reduction="sum") + kld) / input.shape[0]


def _t_perceptual(input, target):
    return sum(_F().mse_loss(a, b) for a, b in zip(perceptual_extractor(input), perceptual_extractor(target)))


def _t_ctc(log_probs, targets, input_lengths, target_lengths):
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths)


def _o_ctc(log_probs, targets, input_lengths, target_lengths):
    jnp = _jnp()
    t, n, _ = log_probs.shape
    s = targets.shape[1]
    logit_pad = (jnp.arange(t)[None, :] >= input_lengths[:, None]).astype(log_probs.dtype)
    label_pad = (jnp.arange(s)[None, :] >= target_lengths[:, None]).astype(log_probs.dtype)
    per = _ox().ctc_loss(jnp.moveaxis(log_probs, 0, 1), logit_pad, targets, label_pad)
    return (per / target_lengths).mean()


def _o_dice_nchw(alpha, beta):
    def fn(input, target):
        import jax

        jnp = _jnp()
        c = input.shape[1]
        x = jnp.moveaxis(input, 1, -1).reshape(input.shape[0], -1, c)
        y = jax.nn.one_hot(target.reshape(target.shape[0], -1), c, dtype=input.dtype)
        return _ox().losses.dice_loss(x, y, smooth=0.0, alpha=alpha, beta=beta, axis=1).mean()

    return fn


TWINS: dict[str, Twin] = {
    # ---- regression: same elementwise formulas, mean over all elements
    "mse_loss": Twin("F", "F.mse_loss", lambda input, target: _F().mse_loss(input, target),
                     lambda input, target: _ox().squared_error(input, target).mean()),
    "l1_loss": Twin("F", "F.l1_loss", lambda input, target: _F().l1_loss(input, target)),
    "huber_loss": Twin("F", "F.huber_loss(delta=1)", lambda input, target: _F().huber_loss(input, target),
                       lambda input, target: _ox().huber_loss(input, target, delta=1.0).mean()),
    "smooth_l1_loss": Twin("F", "F.smooth_l1_loss(beta=1)", lambda input, target: _F().smooth_l1_loss(input, target)),
    "log_cosh_loss": Twin("peer", "log(cosh(x - y)).mean() (overflows for |x - y| > 89, ours does not)",
                          lambda input, target: _T().log(_T().cosh(input - target)).mean(),
                          lambda input, target: _ox().log_cosh(input, target).mean()),
    "quantile_loss": Twin("peer", "pinball max(q e, (q - 1) e), e = target - input",
                          lambda input, target: _T().maximum(0.9 * (target - input), -0.1 * (target - input)).mean()),
    "asymmetric_mse_loss": Twin("peer", "where(input > target, 2, 1) * (input - target)^2",
                                lambda input, target: (_T().where(input > target, 2.0, 1.0)
                                                       * (input - target) ** 2).mean()),
    "mean_squared_log_error": Twin("peer", "(log1p(input) - log1p(target))^2",
                                   lambda input, target: ((_T().log1p(input) - _T().log1p(target)) ** 2).mean()),
    "mean_absolute_percentage_error": Twin("peer", "100 |input - target| / max(|target|, eps) (sklearn)",
                                           lambda input, target: ((input - target).abs()
                                                                  / target.abs().clamp(min=1e-7)).mean() * 100),
    # ---- classification
    "binary_cross_entropy": Twin("F", "F.binary_cross_entropy (logs clamped at -100)",
                                 lambda input, target: _F().binary_cross_entropy(input, target)),
    "binary_cross_entropy_with_logits": Twin(
        "F", "F.binary_cross_entropy_with_logits",
        lambda input, target: _F().binary_cross_entropy_with_logits(input, target),
        lambda input, target: _ox().sigmoid_binary_cross_entropy(input, target).mean()),
    "cross_entropy": Twin("F", "F.cross_entropy (class indices)", lambda input, target: _F().cross_entropy(input, target),
                          lambda input, target: _ox().softmax_cross_entropy_with_integer_labels(input, target).mean()),
    "nll_loss": Twin("F", "F.nll_loss on log-probabilities", lambda input, target: _F().nll_loss(input, target)),
    "kl_div": Twin("F", "F.kl_div(reduction='batchmean'), input log-probabilities",
                   lambda input, target: _F().kl_div(input, target, reduction="batchmean"),
                   lambda input, target: _ox().kl_divergence(input, target).mean()),
    "sigmoid_focal_loss": Twin("peer", "torchvision.ops.sigmoid_focal_loss formula (alpha .25, gamma 2), mean",
                               lambda input, target: _tv_focal(input, target),
                               lambda input, target: _ox().sigmoid_focal_loss(input, target, alpha=0.25).mean()),
    "softmax_focal_loss": Twin("peer", "-(1 - p_t)^2 log p_t from log_softmax + gather",
                               lambda input, target: _sfocal(input, target)),
    "linear_cross_entropy": Twin("F", "F.linear_cross_entropy (torch 2.13, reference path)",
                                 lambda input, linear_weight, target: _F().linear_cross_entropy(
                                     input, linear_weight, target)),
    "poly1_cross_entropy": Twin("peer", "F.cross_entropy(none) + 2 (1 - p_t)",
                                lambda input, target: (_F().cross_entropy(input, target, reduction="none")
                                                       + 2 * (1 - _gather(input.softmax(-1), target))).mean(),
                                lambda input, target: _ox().losses.poly_loss_cross_entropy(
                                    input, _onehot_j(target, input), epsilon=2.0).mean()),
    "distillation_loss": Twin("peer", "T^2 F.kl_div(log_softmax(s/T), softmax(t/T), batchmean) (Hinton)",
                              lambda student_logits, teacher_logits: 16.0 * _F().kl_div(
                                  (student_logits / 4).log_softmax(-1), (teacher_logits / 4).softmax(-1),
                                  reduction="batchmean")),
    "generalized_cross_entropy": Twin("peer", "(1 - p_t^q) / q, q = 0.7 (Zhang & Sabuncu)",
                                      lambda input, target: ((1 - _gather(input.softmax(-1), target) ** 0.7) / 0.7).mean()),
    "soft_f1_loss": Twin("peer", "macro soft-F1: 1 - 2TP / (2TP + FP + FN) per label, mean",
                         lambda input, target: (1 - 2 * (input * target).sum(0) / (
                             2 * (input * target).sum(0) + (input * (1 - target)).sum(0)
                             + ((1 - input) * target).sum(0) + 1e-16)).mean()),
    # ---- probabilistic
    "gaussian_nll_loss": Twin("F", "F.gaussian_nll_loss (eps 1e-6, full=False)",
                              lambda input, target, var: _F().gaussian_nll_loss(input, target, var)),
    "poisson_nll_loss": Twin("F", "F.poisson_nll_loss(log_input=True)",
                             lambda input, target: _F().poisson_nll_loss(input, target)),
    # ---- margin
    "hinge_embedding_loss": Twin("F", "F.hinge_embedding_loss", lambda input, target: _F().hinge_embedding_loss(input, target)),
    "soft_margin_loss": Twin("F", "F.soft_margin_loss", lambda input, target: _F().soft_margin_loss(input, target)),
    "multilabel_soft_margin_loss": Twin("F", "F.multilabel_soft_margin_loss",
                                        lambda input, target: _F().multilabel_soft_margin_loss(input, target)),
    "multi_margin_loss": Twin("F", "F.multi_margin_loss (drops NaN scores, ours propagates them)",
                              lambda input, target: _F().multi_margin_loss(input, target)),
    "multilabel_margin_loss": Twin("F", "F.multilabel_margin_loss (-1-terminated label lists)",
                                   lambda input, target: _F().multilabel_margin_loss(input, target)),
    "margin_ranking_loss": Twin("F", "F.margin_ranking_loss",
                                lambda input1, input2, target: _F().margin_ranking_loss(input1, input2, target)),
    "cosine_embedding_loss": Twin("F", "F.cosine_embedding_loss",
                                  lambda input1, input2, target: _F().cosine_embedding_loss(input1, input2, target)),
    "cosine_similarity_loss": Twin("peer", "1 - F.cosine_similarity(dim=-1, eps=1e-8), mean",
                                   lambda input, target: (1 - _F().cosine_similarity(input, target, dim=-1, eps=1e-8)).mean(),
                                   lambda input, target: _ox().losses.cosine_distance(input, target).mean()),
    "hinge_loss": Twin("peer", "clamp(1 - y x, min=0), y in {-1, 1}",
                       lambda input, target: (1 - input * target).clamp(min=0).mean(),
                       lambda input, target: _ox().losses.hinge_loss(input, target).mean()),
    "squared_hinge_loss": Twin("peer", "clamp(1 - y x, min=0)^2",
                               lambda input, target: (1 - input * target).clamp(min=0).pow(2).mean(),
                               lambda input, target: (_ox().losses.hinge_loss(input, target) ** 2).mean()),
    "multiclass_hinge_loss": Twin("peer", "Crammer-Singer max_j(x_j + [j != y]) - x_y",
                                  lambda input, target: ((input + 1 - _F().one_hot(target, input.shape[-1]).to(input.dtype))
                                                         .max(-1).values - _gather(input, target)).mean(),
                                  lambda input, target: _ox().losses.multiclass_hinge_loss(input, target).mean()),
    # ---- helpers
    "class_weights": Twin("peer", "1 / counts rescaled to sum C", lambda counts: (1 / counts) * counts.shape[0]
                          / (1 / counts).sum()),
    "pos_weight_from_counts": Twin("peer", "n_neg / n_pos", lambda n_pos, n_neg: n_neg / n_pos),
    "smooth_labels": Twin("peer", "(1 - a) y + a / C", lambda target: 0.9 * target + 0.1 / target.shape[-1],
                          lambda target: _ox().smooth_labels(target, 0.1)),
    # ---- metric
    "pairwise_distance": Twin("F", "F.pairwise_distance (eps 1e-6 added to the difference)",
                              lambda x1, x2: _F().pairwise_distance(x1, x2)),
    "cosine_similarity": Twin("F", "F.cosine_similarity(dim=-1)", lambda x1, x2: _F().cosine_similarity(x1, x2, dim=-1),
                              lambda x1, x2: _ox().losses.cosine_similarity(x1, x2)),
    "contrastive_loss": Twin("peer", "Hadsell: 0.5 [y D^2 + (1 - y) relu(m - D)^2], D = (x1 - x2).norm(dim=-1)",
                             lambda x1, x2, target: (0.5 * (target * (x1 - x2).norm(dim=-1) ** 2 + (1 - target)
                                                     * (1 - (x1 - x2).norm(dim=-1)).clamp(min=0) ** 2)).mean()),
    "triplet_margin_loss": Twin("F", "F.triplet_margin_loss",
                                lambda anchor, positive, negative: _F().triplet_margin_loss(anchor, positive, negative),
                                lambda anchor, positive, negative: _ox().losses.triplet_margin_loss(
                                    anchor, positive, negative).mean()),
    "triplet_margin_with_distance_loss": Twin(
        "F", "F.triplet_margin_with_distance_loss (pairwise_distance)",
        lambda anchor, positive, negative: _F().triplet_margin_with_distance_loss(anchor, positive, negative)),
    "batch_hard_triplet_loss": Twin("peer", "torch.cdist, hardest positive / negative per anchor (Hermans)",
                                    lambda embeddings, labels: _t_batch_hard(embeddings, labels)),
    "batch_all_triplet_loss": Twin("peer", "torch.cdist, (N, N, N) triplet tensor, mean over positive terms",
                                   lambda embeddings, labels: _t_batch_all(embeddings, labels)),
    "semi_hard_triplet_loss": Twin("peer", "torch.cdist, (N, N, N) semi-hard masks (FaceNet / TF-Addons)",
                                   lambda embeddings, labels: _t_semi_hard(embeddings, labels)),
    "batch_hard_mining": Twin("peer", "torch.cdist, masked argmax / argmin per anchor (pml BatchHardMiner's)",
                              lambda embeddings, labels: _t_batch_hard_mining(embeddings, labels)),
    "semi_hard_mining": Twin("peer", "torch.cdist, (N, N, N) semi-hard masks, argmin of the farther negatives",
                             lambda embeddings, labels: _t_semi_hard_mining(embeddings, labels)),
    "info_nce_loss": Twin("peer", "F.normalize, q k^T / 0.1, F.cross_entropy(arange) (in-batch negatives)",
                          lambda query, positive_key: _F().cross_entropy(
                              _F().normalize(query, dim=-1) @ _F().normalize(positive_key, dim=-1).T / 0.1,
                              _T().arange(query.shape[0]))),
    "nt_xent_loss": Twin("peer", "SimCLR NT-Xent: F.normalize, 2N x 2N similarities, F.cross_entropy",
                         lambda z1, z2: _t_ntxent(z1, z2), lambda z1, z2: _o_ntxent(z1, z2)),
    "supervised_contrastive_loss": Twin("peer", "SupConLoss (Khosla et al. reference), one view",
                                        lambda embeddings, labels: _t_supcon(embeddings, labels)),
    "arcface_loss": Twin("peer", "F.normalize, acos, cos(theta + m) at the target, F.cross_entropy (insightface)",
                         lambda embeddings, labels, linear_weight: _t_margin_softmax(
                             embeddings, labels, linear_weight, "arc")),
    "cosface_loss": Twin("peer", "F.normalize, cos - m at the target, F.cross_entropy",
                         lambda embeddings, labels, linear_weight: _t_margin_softmax(
                             embeddings, labels, linear_weight, "cos")),
    "sphereface_loss": Twin("peer", "F.normalize, acos, (-1)^k cos(m theta) - 2k, ||x|| logits, F.cross_entropy",
                            lambda embeddings, labels, linear_weight: _t_margin_softmax(
                                embeddings, labels, linear_weight, "sphere")),
    "multi_similarity_loss": Twin("peer", "N x N cosine similarities, masked logsumexp with a zero column",
                                  lambda embeddings, labels: _t_multi_similarity(embeddings, labels)),
    "circle_loss": Twin("peer", "N x N cosine similarities, detached weights, masked logsumexp, softplus",
                        lambda embeddings, labels: _t_circle(embeddings, labels)),
    "proxy_anchor_loss": Twin("peer", "N x C cosines, one-hot masks, log1p of masked exp sums (reference code)",
                              lambda embeddings, labels, proxies: _t_proxy_anchor(embeddings, labels, proxies)),
    "proxy_nca_loss": Twin("peer", "torch.cdist of normalized vectors squared, F.cross_entropy",
                           lambda embeddings, labels, proxies: _t_proxy_nca(embeddings, labels, proxies)),
    "clip_loss": Twin("peer", "open_clip ClipLoss: scale * normalized logits, mean of the two F.cross_entropy",
                      lambda image_embeddings, text_embeddings: _clip_peer(image_embeddings, text_embeddings)),
    "barlow_twins_loss": Twin("peer", "facebookresearch/barlowtwins (F.batch_norm, cross-correlation)",
                              lambda z1, z2: _t_barlow(z1, z2)),
    # ---- segmentation (logits (N, C, H, W), class-index targets; per-sample, per-class means)
    "dice_loss": Twin("peer", "1 - 2|X.Y| / (|X| + |Y|) per sample and class, softmax + F.one_hot",
                      _t_dice, _o_dice_nchw(0.5, 0.5)),
    "jaccard_loss": Twin("peer", "1 - |X.Y| / (|X| + |Y| - |X.Y|) per sample and class", _t_jaccard),
    "tversky_loss": Twin("peer", "1 - TP / (TP + .3 FP + .7 FN) per sample and class", _t_tversky,
                         _o_dice_nchw(0.3, 0.7)),
    "focal_tversky_loss": Twin("peer", "(1 - Tversky index)^0.75 per sample and class",
                               lambda input, target: _t_tversky(input, target, 0.75)),
    "generalized_dice_loss": Twin("peer", "MONAI GeneralizedDiceLoss formula (w = 1 / |Y|^2), per sample", _t_gdice),
    "lovasz_softmax_loss": Twin("peer", "Berman's reference lovasz_softmax (a sort per class, Python loop)",
                                _t_lovasz_softmax),
    "lovasz_hinge_loss": Twin("peer", "Berman's reference lovasz_hinge (per_image: a loop over the images)",
                              _t_lovasz_hinge),
    "boundary_loss": Twin("peer", "Kervadec: mean(p[:, 1:] * dist[:, 1:])",
                          lambda input, distance_maps: (input[:, 1:] * distance_maps[:, 1:]).mean()),
    "dice_ce_loss": Twin("peer", "Dice loss (as dice_loss) + F.cross_entropy",
                         lambda input, target: _t_dice(input, target) + _F().cross_entropy(input, target)),
    "combo_loss": Twin("peer", "0.5 beta-weighted BCE (logsigmoid) + 0.5 Dice loss (smooth 1)", _t_combo),
    "signed_distance_map": Twin(None, "NumPy/SciPy only (scipy.ndimage distance transforms): nothing to compare"),
    "masked_dice_loss": Twin("peer", "MONAI MaskedDiceLoss formula: Dice of mask * softmax and mask * one-hot",
                             _t_masked_dice),
    "mcc_loss": Twin("peer", "1 - MCC of the soft confusion matrix per sample and class (eps 1e-5 per entry)", _t_mcc),
    "dice_focal_loss": Twin("peer", "MONAI DiceFocalLoss formula: softmax Dice + sigmoid focal per channel",
                            _t_dice_focal),
    "hausdorff_dt_loss": Twin("peer", "MONAI HausdorffDTLoss formula with the distance fields given",
                              _t_hausdorff),
    "boundary_distance_map": Twin(None, "NumPy/SciPy only (scipy.ndimage distance transforms): nothing to compare"),
    "generalized_wasserstein_dice_loss": Twin("peer", "MONAI GeneralizedWassersteinDiceLoss formula (M = 1 - I)",
                                              _t_wasserstein_dice),
    # ---- detection (xyxy boxes)
    "box_iou_loss": Twin("peer", "1 - IoU (torchvision box-loss formulas written out)", _t_iou),
    "generalized_box_iou_loss": Twin("peer", "torchvision.ops.generalized_box_iou_loss formula", _t_giou),
    "distance_box_iou_loss": Twin("peer", "torchvision.ops.distance_box_iou_loss formula", _t_diou),
    "complete_box_iou_loss": Twin("peer", "torchvision.ops.complete_box_iou_loss formula", _t_ciou),
    # ---- sequence
    "ctc_loss": Twin("F", "F.ctc_loss (mean over target lengths, then batch)", _t_ctc, _o_ctc),
    # ---- generative
    "gan_discriminator_loss": Twin("peer", "BCE-with-logits(real, 1) + BCE-with-logits(fake, 0)",
                                   lambda real_logits, fake_logits: _F().binary_cross_entropy_with_logits(
                                       real_logits, _T().ones_like(real_logits))
                                   + _F().binary_cross_entropy_with_logits(fake_logits, _T().zeros_like(fake_logits))),
    "gan_generator_loss": Twin("peer", "BCE-with-logits(fake, 1) (non-saturating)",
                               lambda fake_logits: _F().binary_cross_entropy_with_logits(
                                   fake_logits, _T().ones_like(fake_logits))),
    "gradient_penalty": Twin("peer", "WGAN-GP ((g.norm(2, dim=1) - 1)^2).mean()",
                             lambda gradients: ((gradients.flatten(1).norm(2, dim=1) - 1) ** 2).mean()),
    "r1_penalty": Twin("peer", "StyleGAN2-ADA g.square().sum(1) * (gamma / 2), .mean() * interval",
                       lambda gradients: (gradients.square().sum(1) * 5.0).mean() * 16),
    "r2_penalty": Twin("peer", "g.square().sum(1) * (gamma / 2), .mean()",
                       lambda gradients: (gradients.square().sum(1) * 5.0).mean()),
    "path_length_penalty": Twin("peer", "StyleGAN2-ADA (lengths - pl_mean.lerp(lengths.mean(), 0.01)).square().mean()",
                                lambda gradients: _t_path_length(gradients, 0.5)[0]),
    "path_length_mean_update": Twin("peer", "StyleGAN2-ADA pl_mean.lerp(lengths.mean(), 0.01)",
                                    lambda gradients: _t_path_length(gradients, 0.5)[1]),
    "gaussian_kl_divergence": Twin("peer", "-0.5 sum(1 + logvar - mu^2 - exp(logvar)) per sample, batch mean",
                                   lambda mu, logvar: (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()),
    "vae_loss": Twin("peer", "PyTorch VAE example (BCE sum + KLD) / batch", _t_vae),
    "perceptual_loss": Twin("peer", "sum_k F.mse_loss(phi_k(input), phi_k(target))", _t_perceptual),
    # ---- rl
    "td_loss": Twin("F", "F.mse_loss(v_tm1, (r_t + discount_t v_t).detach())",
                    lambda v_tm1, r_t, discount_t, v_t: _F().mse_loss(v_tm1, (r_t + discount_t * v_t).detach())),
    "q_learning_loss": Twin("peer", "DQN: F.mse_loss(q.gather(a), (r + discount q_next.max(1)).detach())",
                            lambda q_tm1, a_tm1, r_t, discount_t, q_t: _F().mse_loss(
                                _gather(q_tm1, a_tm1), (r_t + discount_t * q_t.max(-1).values).detach())),
    "double_q_learning_loss": Twin("peer", "Double DQN: the target network's Q at the online argmax",
                                   lambda q_tm1, a_tm1, r_t, discount_t, q_t_value, q_t_selector: _F().mse_loss(
                                       _gather(q_tm1, a_tm1), (r_t + discount_t * _gather(
                                           q_t_value, q_t_selector.argmax(-1))).detach())),
    "sarsa_loss": Twin("peer", "F.mse_loss(q.gather(a), (r + discount q_next.gather(a_next)).detach())",
                       lambda q_tm1, a_tm1, r_t, discount_t, q_t, a_t: _F().mse_loss(
                           _gather(q_tm1, a_tm1), (r_t + discount_t * _gather(q_t, a_t)).detach())),
    "expected_sarsa_loss": Twin("peer", "F.mse_loss(q.gather(a), (r + discount (q_next * probs).sum(-1)).detach())",
                                lambda q_tm1, a_tm1, r_t, discount_t, q_t, probs_a_t: _F().mse_loss(
                                    _gather(q_tm1, a_tm1), (r_t + discount_t * (q_t * probs_a_t).sum(-1)).detach())),
    "td_lambda_loss": Twin("peer", "F.mse_loss(v_tm1, lambda returns (reverse loop).detach())",
                           lambda v_tm1, r_t, discount_t, v_t: _F().mse_loss(v_tm1, _t_lambda(r_t, discount_t,
                                                                                              v_t).detach())),
    "n_step_returns": Twin("peer", "rlax n-step bootstrapped returns, a loop over n", _t_n_step),
    "lambda_returns": Twin("peer", "rlax lambda returns, a reverse loop over time", _t_lambda),
    "vtrace_returns": Twin("peer", "rlax vtrace as a reverse Python loop over time", _t_vtrace),
    "general_off_policy_returns": Twin("peer", "rlax general_off_policy_returns_from_q_and_v as a reverse loop",
                                       _t_off_policy),
    "general_off_policy_returns_from_action_values": Twin(
        "peer", "(probs * q).sum(-1), q.gather(a), then the reverse loop",
        lambda q_t, a_t, r_t, discount_t, c_t, probs_a_t: _t_off_policy(
            _gather(q_t, a_t), (probs_a_t * q_t).sum(-1), r_t, discount_t, c_t)),
    "vtrace_policy_gradient_loss": Twin("peer", "IMPALA pg loss: V-trace advantages by a reverse loop",
                                        lambda **kw: _t_vtrace_pg(**kw)),
    "policy_gradient_loss": Twin("peer", "-(log_softmax.gather(actions) * advantages.detach()).mean()",
                                 lambda logits, actions, advantages: -(_gather(logits.log_softmax(-1), actions)
                                                                      * advantages.detach()).mean()),
    "entropy_loss": Twin("peer", "(softmax * log_softmax).sum(-1).mean() (negative entropy)",
                         lambda logits: (logits.softmax(-1) * logits.log_softmax(-1)).sum(-1).mean()),
    "actor_critic_loss": Twin("peer", "SB3 A2C: pg + 0.5 F.mse_loss(returns, values) - 0.01 entropy",
                              lambda logits, actions, values, returns: _a2c(logits, actions, values, returns)),
    "ppo_clip_loss": Twin("peer", "SB3 PPO: -min(r A, clamp(r, .8, 1.2) A).mean()",
                          lambda log_prob, old_log_prob, advantages: _ppo_peer(log_prob, old_log_prob, advantages)),
    "sac_critic_loss": Twin("peer", "SB3 SAC critic_loss: 0.5 sum F.mse_loss(q, target) over both critics",
                            lambda **kw: _t_sac_critic(**kw)),
    "sac_actor_loss": Twin("peer", "SB3 SAC actor_loss: (0.2 log_prob - min(q1, q2)).mean()",
                           lambda log_prob, q1, q2: (0.2 * log_prob - _T().min(q1, q2)).mean()),
    "sac_temperature_loss": Twin("peer", "SB3 SAC ent_coef_loss: -(log_alpha (log_prob + H).detach()).mean()",
                                 lambda log_alpha, log_prob: -(log_alpha * (log_prob - 6.0).detach()).mean()),
    # ---- ranking (torch: the formula as a user writes it; JAX: rax / optax)
    "ranking_softmax_loss": Twin("peer", "-(labels * log_softmax(scores)).sum(-1).mean(); optax ranking_softmax_loss",
                                 lambda scores, labels: -(labels * scores.log_softmax(-1)).sum(-1).mean(),
                                 lambda scores, labels: _ox().losses.ranking_softmax_loss(scores, labels)),
    "poly1_softmax_loss": Twin("peer", "softmax loss + (1 - pt); rax.poly1_softmax_loss",
                               lambda scores, labels: _t_poly1(scores, labels),
                               lambda scores, labels: _rax().poly1_softmax_loss(scores, labels)),
    "listmle_loss": Twin("peer", "sort by labels, logcumsumexp of the flipped scores; rax.listmle_loss",
                         lambda scores, labels: _t_listmle(scores, labels),
                         lambda scores, labels: _rax().listmle_loss(scores, labels)),
    "pairwise_hinge_loss": Twin("peer", "relu(1 - (s_i - s_j)) over y_i > y_j, pair mean; rax",
                                lambda scores, labels: _t_pairs(scores, labels, lambda d: (1 - d).relu()),
                                lambda scores, labels: _rax().pairwise_hinge_loss(scores, labels)),
    "pairwise_logistic_loss": Twin("peer", "softplus(-(s_i - s_j)) over y_i > y_j, pair mean; rax",
                                   lambda scores, labels: _t_pairs(scores, labels, lambda d: _F().softplus(-d)),
                                   lambda scores, labels: _rax().pairwise_logistic_loss(scores, labels)),
    "pairwise_mse_loss": Twin("peer", "((s_i - s_j) - (y_i - y_j))^2 over all pairs, mean; rax",
                              lambda scores, labels: ((scores[:, :, None] - scores[:, None, :])
                                                      - (labels[:, :, None] - labels[:, None, :])).square().mean(),
                              lambda scores, labels: _rax().pairwise_mse_loss(scores, labels)),
    "approx_ndcg_loss": Twin("peer", "-NDCG at sigmoid ranks (rax.approx_t12n(ndcg_metric))",
                             lambda scores, labels: _t_approx_ndcg(scores, labels)),
    "approx_mrr_loss": Twin("peer", "-max relevant 1/sigmoid rank (rax.approx_t12n(mrr_metric))",
                            lambda scores, labels: _t_approx_mrr(scores, labels)),
    # ---- multitask
    "uncertainty_weighted_loss": Twin("peer", "Kendall et al.: sum(0.5 exp(-s) L + 0.5 s)",
                                      lambda losses, log_vars: (0.5 * _T().exp(-log_vars) * losses
                                                                + 0.5 * log_vars).sum()),
    "dynamic_weight_average": Twin("peer", "K softmax(L(t-1) / L(t-2) / T)",
                                   lambda loss_history: loss_history.shape[-1] * (
                                       loss_history[-1] / loss_history[-2] / 2.0).softmax(-1)),
    "gradnorm_loss": Twin("peer", "GradNorm: sum |G - mean(G) (L / mean L)^alpha| with a detached target",
                          lambda grad_norms, loss_ratios: (grad_norms - (
                              grad_norms.mean(-1, keepdim=True)
                              * (loss_ratios / loss_ratios.mean(-1, keepdim=True)) ** 1.5).detach()).abs().sum()),
    "renormalize_task_weights": Twin("peer", "K w / w.sum(-1)",
                                     lambda task_weights: task_weights.shape[-1] * task_weights
                                     / task_weights.sum(-1, keepdim=True)),
    "curriculum_weights": Twin("peer", "m = (d <= p); N m / m.sum()",
                               lambda difficulty: (difficulty <= 0.5).to(difficulty.dtype) * difficulty.numel()
                               / (difficulty <= 0.5).sum()),
    "self_paced_weights": Twin("peer", "(losses < threshold) as float", lambda losses: (losses < 1.0).to(losses.dtype)),
    "super_loss": Twin("peer", "SuperLoss reference: scipy.special.lambertw on the host", _t_super),
    # ---- sparse: the entmax package (torch) and optax
    "sparsemax_loss": Twin("peer", "sparse_plus((1 - 2y) x) (jax.nn.sparse_plus in torch)",
                           lambda input, target: _t_sparse_plus((1 - 2 * target) * input).mean(),
                           lambda input, target: _ox().losses.sparsemax_loss(input, target).mean()),
    "multiclass_sparsemax_loss": Twin("peer", "entmax.sparsemax_loss (sort, closed-form backward)",
                                      lambda input, target: _entmax().sparsemax_loss(input, target).mean(),
                                      lambda input, target: _ox().losses.multiclass_sparsemax_loss(input, target).mean()),
    "entmax15_loss": Twin("peer", "entmax.entmax15_loss (sort, closed-form backward)",
                          lambda input, target: _entmax().entmax15_loss(input, target).mean()),
    "entmax_bisect_loss": Twin("peer", "entmax.entmax_bisect_loss (alpha 1.5, 50 bisection steps)",
                               lambda input, target: _entmax().entmax_bisect_loss(input, target).mean()),
    "perceptron_loss": Twin("peer", "clamp(-y x, min=0), y in {-1, 1}",
                            lambda input, target: (-input * target).clamp(min=0).mean(),
                            lambda input, target: _ox().losses.perceptron_loss(input, target).mean()),
    "multiclass_perceptron_loss": Twin("peer", "x.max(-1) - x_y",
                                       lambda input, target: (input.max(-1).values - _gather(input, target)).mean(),
                                       lambda input, target: _ox().losses.multiclass_perceptron_loss(input, target).mean()),
    "generalized_kl_divergence": Twin("peer", "sum(xlogy(t, t) - t z + exp(z) - t, -1)",
                                      lambda input, target: (_T().xlogy(target, target) - target * input
                                                             + input.exp() - target).sum(-1).mean(),
                                      lambda input, target: _ox().losses.generalized_kl_divergence(input, target).mean()),
    "convex_kl_divergence": Twin("peer", "sum(xlogy(t, t) - t z + exp(z) - t, -1)",
                                 lambda input, target: (_T().xlogy(target, target) - target * input
                                                        + input.exp() - target).sum(-1).mean(),
                                 lambda input, target: _ox().losses.convex_kl_divergence(input, target).mean()),
    "safe_softmax_cross_entropy": Twin("F", "F.cross_entropy (probability targets)",
                                       lambda input, target: _F().cross_entropy(input, target),
                                       lambda input, target: _ox().safe_softmax_cross_entropy(input, target).mean()),
    # ---- ordinal: coral-pytorch
    "ordinal_targets": Twin("peer", "coral_pytorch.dataset.levels_from_labelbatch (a Python loop)",
                            lambda levels: _coral_pt().dataset.levels_from_labelbatch(levels, 256)),
    "coral_loss": Twin("peer", "coral_pytorch.losses.coral_loss",
                       lambda input, target: _coral_pt().losses.coral_loss(input, target)),
    "corn_loss": Twin("peer", "coral_pytorch.losses.corn_loss (boolean-mask loop over the tasks)",
                      lambda input, target: _coral_pt().losses.corn_loss(input, target, input.shape[-1] + 1)),
    "cumulative_link_loss": Twin("peer", "-log(sigmoid(theta_y - eta) - sigmoid(theta_{y-1} - eta))",
                                 lambda input, target, cutpoints: _t_cumulative_link(input, target, cutpoints)),
}


def _entmax():
    import entmax

    return entmax


def _coral_pt():
    import coral_pytorch.dataset
    import coral_pytorch.losses

    return coral_pytorch


def _t_sparse_plus(u):
    return _T().where(u <= -1, 0.0, _T().where(u >= 1, u, (u + 1) ** 2 / 4))


def _t_cumulative_link(input, target, cutpoints):
    torch = _T()
    inf = torch.full((1,), float("inf"), dtype=cutpoints.dtype)
    padded = torch.cat([-inf, cutpoints, inf])
    return -torch.log(torch.sigmoid(padded[target + 1] - input) - torch.sigmoid(padded[target] - input)).mean()


def _tv_focal(x, y, alpha=0.25, gamma=2.0):
    p = x.sigmoid()
    ce = _F().binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    return ((alpha * y + (1 - alpha) * (1 - y)) * ce * (1 - p_t) ** gamma).mean()


def _sfocal(x, t, gamma=2.0):
    lp = _gather(x.log_softmax(-1), t)
    return (-(1 - lp.exp()) ** gamma * lp).mean()


def _onehot_j(t, x):
    import jax

    return jax.nn.one_hot(t, x.shape[-1], dtype=x.dtype)


def _clip_peer(a, b, scale=1 / 0.07):
    F = _F()
    logits = scale * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    labels = _T().arange(a.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def _a2c(logits, actions, values, returns):
    F = _F()
    adv = (returns - values).detach()
    logp = logits.log_softmax(-1)
    entropy = -(logp.exp() * logp).sum(-1)
    return -(adv * _gather(logp, actions)).mean() + 0.5 * F.mse_loss(returns, values) - 0.01 * entropy.mean()


def _rax():
    import rax

    return rax


def _t_poly1(scores, labels):
    logp = scores.log_softmax(-1)
    ce = -(labels * logp).sum(-1)
    dist = labels / labels.sum(-1, keepdim=True)
    dist = _T().where(labels.sum(-1, keepdim=True) != 0, dist, _T().full_like(labels, 1.0 / labels.shape[-1]))
    return (ce + 1.0 - (dist * logp.exp()).sum(-1)).mean()


def _t_listmle(scores, labels):
    order = _T().sort(-labels, dim=-1, stable=True).indices
    s = scores.gather(-1, order)
    lse = _T().logcumsumexp(s.flip(-1), dim=-1).flip(-1)
    return -(s - lse).sum(-1).mean()


def _t_pairs(scores, labels, pair_loss):
    valid = (labels[:, :, None] - labels[:, None, :]) > 0
    loss = pair_loss(scores[:, :, None] - scores[:, None, :])
    return (loss * valid).sum() / valid.sum()


def _t_approx_ranks(scores):
    n = scores.shape[-1]
    sig = (scores[:, None, :] - scores[:, :, None]).sigmoid() * (1 - _T().eye(n, dtype=scores.dtype))
    return 1 + sig.sum(-1)


def _t_approx_ndcg(scores, labels):
    gains = 2 ** labels - 1
    dcg = (gains / _T().log2(1 + _t_approx_ranks(scores))).sum(-1)
    ideal = gains.sort(-1, descending=True).values
    idcg = (ideal / _T().log2(_T().arange(2, labels.shape[-1] + 2, dtype=scores.dtype))).sum(-1)
    return -(dcg / _T().where(idcg == 0, _T().ones_like(idcg), idcg)).mean()


def _t_approx_mrr(scores, labels):
    return -((labels >= 1) / _t_approx_ranks(scores)).amax(-1).mean()


def _ppo_peer(log_prob, old_log_prob, advantages):
    ratio = (log_prob - old_log_prob).exp()
    return -_T().min(advantages * ratio, advantages * ratio.clamp(0.8, 1.2)).mean()


# ---------------------------------------------------------------------------- measurement ---
def _stats(ts: list[float]) -> dict:
    if len(ts) >= 2:
        q = statistics.quantiles(ts, n=4)
        q1, q3 = q[0], q[2]
    else:
        q1 = q3 = ts[0]
    return {"median": statistics.median(ts), "q1": q1, "q3": q3, "n": len(ts)}


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int, warmup: int = 2,
                budget: float | None = None) -> dict[str, dict]:
    """Times of each function, run in turn per repetition (load changes hit all of them).

    ``repeat`` repetitions, or with ``budget`` (seconds) as many as fill it, between
    ``repeat`` and ``10 * repeat`` (the last warm-up round times one repetition): fast calls
    get the repetitions that make their medians decisive."""
    for _ in range(warmup):
        t0 = time.perf_counter()
        for fn in fns.values():
            fn()
        one = time.perf_counter() - t0
    if budget:
        repeat = max(repeat, min(10 * repeat, int(budget / max(one, 1e-9))))
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: _stats(v) for k, v in times.items()}


def _to_torch(arrays: dict, diff: tuple, dtype_name: str = "float32") -> dict:
    import torch

    out = {}
    for k, v in arrays.items():
        if isinstance(v, np.ndarray):
            t = torch.from_numpy(np.ascontiguousarray(v))
            if t.is_floating_point():
                t = t.to(getattr(torch, dtype_name))
            if k in diff:
                t.requires_grad_(True)
            out[k] = t
        else:
            out[k] = v
    return out


def _to_numpy(arrays: dict) -> dict:
    return {k: (v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
            for k, v in arrays.items()}


def _to_jax(arrays: dict) -> dict:
    import jax.numpy as jnp

    return {k: (jnp.asarray(v.astype(np.float32) if v.dtype.kind == "f" else v) if isinstance(v, np.ndarray) else v)
            for k, v in arrays.items()}


def _torch_step(fn: Callable, args: dict, diff: tuple) -> Callable[[], Any]:
    leaves = [args[k] for k in diff if k in args]

    def step():
        out = fn(**args)
        if leaves:
            (out if out.ndim == 0 else out.sum()).backward()
            for t in leaves:
                t.grad = None
        return out

    return step


def peak_bytes(step: Callable[[], Any]) -> int:
    """Peak bytes allocated on top of what exists, during one call of ``step``: the running
    sum of the CPU allocation (+) and free (-) events the torch profiler records."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())
    cur = peak = 0
    for e in events:
        cur += e.nbytes()
        peak = max(peak, cur)
    return peak


def host_reads(fn: Callable[[], Any]) -> int:
    """``aten._local_scalar_dense`` calls (device-to-host reads) during ``fn()``."""
    from losses.backends.harness import harness

    return harness("torch").host_reads(fn)[1]


def _host64(x) -> np.ndarray:
    """A result as float64 NumPy (a tuple of index arrays, as the miners return: stacked)."""
    if isinstance(x, tuple):
        return np.stack([_host64(f) for f in x])
    return np.asarray(x.detach().double() if hasattr(x, "detach") else x, dtype=np.float64)


def _scalar(x) -> float:
    a = _host64(x)
    return float(a.sum()) if a.ndim else float(a)


def _agrees(name: str, spec: Spec, twin: Twin, arrays: dict) -> bool | None:
    """Twin's value vs ours in float64 (torch): the comparison is of the same quantity."""
    import losses

    if twin.torch is None or "torch" not in spec.backends:
        return None
    args = _to_torch(arrays, (), "float64")
    ours = getattr(losses, name)(**args, **spec.kwargs)
    theirs = twin.torch(**args)
    a, b = _host64(ours), _host64(theirs)
    return bool(a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True))


def measure(name: str, size: str, repeat: int, *, memory: bool = True, use_jax: bool = True,
            use_numpy: bool = True, seed: int = 0, budget: float | None = None) -> dict:
    """Every measurement of one loss at one size (a dict for the JSON file); ``repeat`` and
    ``budget`` as :func:`interleaved`'s."""
    import torch

    import losses

    spec, twin = SPECS[name], TWINS[name]
    fn = getattr(losses, name)
    arrays = spec.make(np.random.default_rng(seed), spec.dims_at(size))
    row: dict[str, Any] = {"loss": name, "size": size, "twin_kind": twin.kind, "twin": twin.note,
                           "shapes": {k: list(v.shape) for k, v in arrays.items() if isinstance(v, np.ndarray)},
                           "backward": bool(spec.diff)}
    try:
        row["twin_agrees"] = _agrees(name, spec, twin, arrays)
    except Exception as e:  # a twin that cannot run these inputs is reported, not fatal
        row["twin_agrees"] = None
        row["twin_error"] = f"{type(e).__name__}: {e}"[:300]

    if "torch" in spec.backends:
        targs = _to_torch(arrays, spec.diff)
        ours_step = _torch_step(lambda **a: fn(**a, **spec.kwargs), targs, spec.diff)
        fns = {"ours": ours_step}
        if twin.torch is not None and "twin_error" not in row:
            fns["twin"] = _torch_step(twin.torch, targs, spec.diff)
        row["torch"] = interleaved(fns, repeat, budget=budget)
        with torch.no_grad():
            row["host_reads"] = host_reads(lambda: fn(**_to_torch(arrays, ()), **spec.kwargs))
        if memory:
            row["peak_bytes"] = {k: peak_bytes(f) for k, f in fns.items()}
    use_jax = use_jax and "jax" in spec.backends
    if use_numpy and "numpy" in spec.backends:
        nargs = _to_numpy(arrays)
        row["numpy_forward"] = interleaved({"ours": lambda: fn(**nargs, **spec.kwargs)}, repeat,
                                           budget=budget)["ours"]
    if use_jax:
        try:
            row["jax_jit"] = _jax_times(name, spec, twin, arrays, repeat, budget)
        except Exception as e:
            row["jax_error"] = f"{type(e).__name__}: {e}"[:300]
    return row


def _jax_value_and_grad(f: Callable, jargs: dict, diff: tuple):
    import jax

    # every array is an argument of the compiled function, as in a training step (a closed-over
    # array is a constant XLA may fold: a target turned into a constant mask, say); the
    # differentiated ones first. Numbers and strings stay Python values.
    names = [*diff, *(k for k, v in jargs.items() if k not in diff and isinstance(v, jax.Array))]
    static = {k: v for k, v in jargs.items() if k not in names}
    leaves = tuple(jargs[k] for k in names)

    def loss(*xs):
        out = f(**static, **dict(zip(names, xs)))
        return out if isinstance(out, tuple) or not out.ndim else out.sum()

    g = jax.jit(jax.value_and_grad(loss, argnums=tuple(range(len(diff)))) if diff else loss)
    return lambda: jax.block_until_ready(g(*leaves))


def _jax_times(name, spec, twin, arrays, repeat, budget=None):
    import losses

    jargs = _to_jax(arrays)
    fn = getattr(losses, name)
    fns = {"ours": _jax_value_and_grad(lambda **a: fn(**a, **spec.kwargs), jargs, spec.diff)}
    if twin.optax is not None:
        fns["optax"] = _jax_value_and_grad(twin.optax, jargs, spec.diff)
    return interleaved(fns, repeat, budget=budget)


# ------------------------------------------------------------------------------ cold mode ---
def _cold_child(name: str, which: str, size: str) -> float:
    """In a fresh process: seconds of the first call (``which``: jax-ours, jax-optax,
    compile-ours, compile-twin)."""
    import losses

    spec, twin = SPECS[name], TWINS[name]
    arrays = spec.make(np.random.default_rng(0), spec.dims_at(size))
    if which.startswith("jax"):
        import jax

        jargs = _to_jax(arrays)
        f = (lambda **a: getattr(losses, name)(**a, **spec.kwargs)) if which == "jax-ours" else twin.optax
        t0 = time.perf_counter()
        jax.block_until_ready(f(**jargs))
        return time.perf_counter() - t0
    import torch

    targs = _to_torch(arrays, ())
    first = spec.diff[0]
    param = torch.nn.Parameter(targs[first].clone())
    opt = torch.optim.SGD([param], lr=1e-3)
    f = (lambda **a: getattr(losses, name)(**a, **spec.kwargs)) if which == "compile-ours" else twin.torch

    def loss_of(p):
        return f(**{**targs, first: p * 1.0})

    compiled = torch.compile(loss_of, fullgraph=True)

    t0 = time.perf_counter()
    opt.zero_grad()
    out = compiled(param)
    (out if out.ndim == 0 else out.sum()).backward()
    opt.step()
    return time.perf_counter() - t0


def cold(names: list[str], size: str = "S") -> list[dict]:
    rows = []
    for name in names:
        twin = TWINS[name]
        kinds = ["jax-ours"] + (["jax-optax"] if twin.optax else [])
        if twin.kind == "F" and SPECS[name].diff:
            kinds += ["compile-ours", "compile-twin"]
        row: dict[str, Any] = {"loss": name, "size": size}
        for which in kinds:
            # an empty compile cache per child: the second of two identical graphs would
            # otherwise be read from the first one's on-disk inductor/AOT cache
            with tempfile.TemporaryDirectory() as cache:
                env = {**_child_env(), "TORCHINDUCTOR_CACHE_DIR": cache,
                       "JAX_COMPILATION_CACHE_DIR": os.path.join(cache, "jax")}
                res = subprocess.run([sys.executable, __file__, "--cold-child", name, which, size],
                                     capture_output=True, text=True, env=env)
            try:
                row[which] = float(res.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                row[which] = None
                row[f"{which}_error"] = (res.stderr.strip().splitlines() or ["?"])[-1][:300]
        rows.append(row)
        print(_cold_line(row), flush=True)
    return rows


def _cold_line(r):
    def s(k):
        return "-" if r.get(k) is None else f"{r[k]:.3f}s"

    return (f"{r['loss']:<34} jax first call ours {s('jax-ours')} optax {s('jax-optax')} | "
            f"torch.compile step ours {s('compile-ours')} F {s('compile-twin')}")


# ------------------------------------------------------------------------------ reporting ---
def _ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def verdict(row: dict) -> tuple[bool | None, list[str]]:
    """Pass/fail of a row against ``TARGETS`` and the reasons of a failure."""
    fails, checked = [], False
    t = row.get("torch", {})
    time_ratio = _ratio(t.get("ours", {}).get("median"), t.get("twin", {}).get("median"))
    if time_ratio is not None and row.get("twin_kind"):
        checked = True
        if row["twin_kind"] == "F":
            lim = TARGETS["F_time_M"] if is_m(row["size"]) else TARGETS["F_time_S"]
        else:
            lim = TARGETS["peer_time"]
        if time_ratio > lim:
            fails.append(f"time {time_ratio:.2f}x > {lim}")
    mem = row.get("peak_bytes", {})
    mem_ratio = _ratio(mem.get("ours"), mem.get("twin"))
    if row.get("twin_kind") == "F" and is_m(row["size"]) and mem_ratio is not None:
        checked = True
        if mem_ratio > TARGETS["F_mem_M"]:
            fails.append(f"memory {mem_ratio:.2f}x > {TARGETS['F_mem_M']}")
    j = row.get("jax_jit", {})
    jit_ratio = _ratio(j.get("ours", {}).get("median"), j.get("optax", {}).get("median"))
    if jit_ratio is not None:
        checked = True
        if jit_ratio > TARGETS["jit_optax"]:
            fails.append(f"jit {jit_ratio:.2f}x > {TARGETS['jit_optax']}")
    if row.get("host_reads") is not None:
        checked = True
        if row["host_reads"] > TARGETS["host_reads"]:
            fails.append(f"{row['host_reads']} host reads")
    return (not fails) if checked else None, fails


def _fmt_ms(x):
    return "" if x is None else (f"{x * 1e3:.3g}" if x * 1e3 < 100 else f"{x * 1e3:.0f}")


def _fmt_r(x):
    return "" if x is None else f"{x:.2f}x"


def markdown_table(rows: list[dict]) -> str:
    head = ("| loss | size | twin | torch fwd+bwd ours (ms) | twin (ms) | ratio [IQR] | peak mem ratio "
            "| jit ours (ms) | jit / optax | NumPy fwd (ms) | host reads | agrees | pass |")
    out = [head, "|" + "|".join(["---"] * 13) + "|"]
    for r in rows:
        t = r.get("torch", {})
        o, w = t.get("ours"), t.get("twin")
        ratio = _ratio(o and o["median"], w and w["median"])
        spread = ""
        if ratio is not None and w["median"]:
            spread = f" [{o['q1'] / w['median']:.2f}-{o['q3'] / w['median']:.2f}]"
        mem = r.get("peak_bytes", {})
        j = r.get("jax_jit", {})
        ok, why = verdict(r)
        mark = "-" if ok is None else ("pass" if ok else "FAIL: " + "; ".join(why))
        twin = {"F": "F", "peer": "peer", None: "none"}[r.get("twin_kind")]
        agrees = {True: "yes", False: "no", None: ""}[r.get("twin_agrees")]
        out.append("| " + " | ".join([
            r["loss"], r["size"], twin, _fmt_ms(o and o["median"]), _fmt_ms(w and w["median"]),
            ("" if ratio is None else f"{ratio:.2f}x{spread}"), _fmt_r(_ratio(mem.get("ours"), mem.get("twin"))),
            _fmt_ms(j.get("ours", {}).get("median")),
            _fmt_r(_ratio(j.get("ours", {}).get("median"), j.get("optax", {}).get("median"))),
            _fmt_ms(r.get("numpy_forward", {}).get("median")), str(r.get("host_reads", "")), agrees, mark,
        ]) + " |")
    return "\n".join(out) + "\n"


def cold_table(rows: list[dict]) -> str:
    out = ["| loss | size | JAX eager first call ours (s) | optax (s) | torch.compile first step ours (s) | F twin (s) |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        def s(k):
            return "" if r.get(k) is None else f"{r[k]:.2f}"

        out.append(f"| {r['loss']} | {r['size']} | {s('jax-ours')} | {s('jax-optax')} | {s('compile-ours')} "
                   f"| {s('compile-twin')} |")
    return "\n".join(out) + "\n"


def machine() -> dict:
    import importlib.metadata as md

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for pkg in ("numpy", "torch", "jax", "jaxlib", "optax", "scipy", "dask", "array-api-strict"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True,
                                    text=True).stdout.strip())
    except OSError:
        commit, dirty = None, None
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions, "torch_threads": torch.get_num_threads(),
            "xla_flags": os.environ.get("XLA_FLAGS"), "git_commit": commit, "git_dirty": dirty,
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def _child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(k, "1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def single_thread() -> None:
    """One thread for torch and XLA (call before JAX is imported)."""
    for k, v in _child_env().items():
        if k != "PYTHONPATH":
            os.environ.setdefault(k, v)
    import torch

    torch.set_num_threads(1)


def run_matrix(names: list[str], sizes: list[str], repeat: dict[str, int], *, memory: bool = True,
               use_jax: bool = True, use_numpy: bool = True, log=print, budget: float | None = None) -> list[dict]:
    rows = []
    for name in names:
        todo = [z for z in ("T",) + SPECS[name].sizes
                if any(z == s or (s == "M" and is_m(z)) for s in sizes)]
        for size in todo:
            t0 = time.perf_counter()
            try:
                row = measure(name, size, repeat.get(size[0], repeat.get(size, 20)), memory=memory,
                              use_jax=use_jax, use_numpy=use_numpy, budget=budget)
            except Exception as e:
                row = {"loss": name, "size": size, "twin_kind": TWINS[name].kind, "twin": TWINS[name].note,
                       "error": f"{type(e).__name__}: {e}"[:300]}
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
            if log:
                log(_line(row))
    return rows


def _line(r):
    if "error" in r:
        return f"{r['loss']:<34} {r['size']:<7} ERROR {r['error']}"
    if "torch" not in r:
        return f"{r['loss']:<34} {r['size']:<7} NumPy forward {_fmt_ms(r.get('numpy_forward', {}).get('median'))} ms"
    t = r["torch"]
    ratio = _ratio(t["ours"]["median"], t.get("twin", {}).get("median"))
    mem = r.get("peak_bytes", {})
    ok, why = verdict(r)
    return (f"{r['loss']:<34} {r['size']:<7} torch {_fmt_ms(t['ours']['median']):>7} ms  x{_fmt_r(ratio):>7}  "
            f"mem {_fmt_r(_ratio(mem.get('ours'), mem.get('twin'))):>6}  reads {r.get('host_reads')}  "
            f"agrees {r.get('twin_agrees')}  {'' if ok is None else ('pass' if ok else 'FAIL ' + '; '.join(why))}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="size S only, 20 repetitions (< 5 minutes)")
    p.add_argument("--loss", nargs="+", metavar="NAME", help="only these losses")
    p.add_argument("--size", nargs="+", choices=["T", "S", "M"], help="sizes (default S M; --quick: S)")
    p.add_argument("--repeat", type=int, help="repetitions per measurement, fixed (default S 200, M 20, "
                   "raised to fill --budget; --quick 20)")
    p.add_argument("--budget", type=float, default=0.4, help="seconds a measurement's repetitions may fill, up to "
                   "10x the default repetitions (default 0.4; not with --quick or --repeat)")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--no-jax", action="store_true")
    p.add_argument("--cold", action="store_true", help="first-call times, each in a fresh process")
    p.add_argument("--out", metavar="JSON", help="default benchmarks/results/matrix-<date>.json")
    p.add_argument("--markdown", metavar="MD", help="write the Markdown page (e.g. docs/benchmarks.md)")
    p.add_argument("--from", dest="source", metavar="JSON",
                   help="write --markdown from this results file instead of running")
    p.add_argument("--cold-child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.source:
        if not args.markdown:
            p.error("--from needs --markdown")
        write_markdown(Path(args.markdown), json.loads(Path(args.source).read_text()), Path(args.source))
        print(f"wrote {args.markdown}")
        return 0
    single_thread()
    import warnings

    # JAX without x64 truncates int64 requests to int32: advisory, not a finding of the run
    warnings.filterwarnings("ignore", message="Explicitly requested dtype")
    if args.cold_child:
        print(_cold_child(*args.cold_child))
        return 0
    import losses

    names = args.loss or [n for n in losses.__all__ if n in SPECS]
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        p.error(f"no spec for {unknown}")
    sizes = args.size or (["S"] if args.quick else ["S", "M"])
    repeat = {"T": 3, "S": 20 if args.quick else 200, "M": 20}
    budget = None if args.quick or args.repeat else args.budget
    if args.repeat:
        repeat = {k: args.repeat for k in repeat}
    t0 = time.perf_counter()
    result: dict[str, Any] = {"machine": machine(), "targets": TARGETS, "quick": args.quick,
                              "repeat": repeat, "budget": budget, "sizes": {k: SIZES[k] for k in SIZES if k != "T"}}
    if args.cold:
        result["cold"] = cold(names)
    else:
        result["rows"] = run_matrix(names, sizes, repeat, memory=not args.no_memory, use_jax=not args.no_jax,
                                    budget=budget)
    result["seconds"] = time.perf_counter() - t0
    out = Path(args.out or ROOT / "benchmarks" / "results"
               / f"matrix{'-cold' if args.cold else ''}-{datetime.date.today().isoformat()}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {out} ({result['seconds']:.0f} s)")
    if args.markdown:
        write_markdown(Path(args.markdown), result, out)
        print(f"wrote {args.markdown}")
    return 0


def write_markdown(path: Path, result: dict, source: Path) -> None:
    """The docs page: the prose (where the numbers come from) and the generated table."""
    try:
        src = source.resolve().relative_to(ROOT)
    except ValueError:
        src = source
    m = result["machine"]
    table = cold_table(result["cold"]) if "cold" in result else markdown_table(result["rows"])
    begin, end = "<!-- matrix:begin -->", "<!-- matrix:end -->"
    generated = (f"{begin}\nGenerated by `python benchmarks/matrix.py` from `{src}` "
                 f"({m['date']}, {m['cpu']}, {m['cores']} cores, torch {m['versions'].get('torch')}, "
                 f"jax {m['versions'].get('jax')}, optax {m['versions'].get('optax')}, commit "
                 f"{(m.get('git_commit') or '?')[:10]}{' + local changes' if m.get('git_dirty') else ''}"
                 f"{', quick run' if result.get('quick') else ''}).\n\n{table}{end}")
    if path.exists() and begin in path.read_text():
        text = path.read_text()
        pre, rest = text.split(begin, 1)
        post = rest.split(end, 1)[1] if end in rest else ""
        path.write_text(pre + generated + post)
    else:
        path.write_text(f"# Benchmarks\n\n{generated}\n")


if __name__ == "__main__":
    sys.exit(main())
