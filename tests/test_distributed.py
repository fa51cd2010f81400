"""Losses over a batch split across processes and devices (``group=``, docs/distributed.md).

Real engines, nothing mocked:

* torch.distributed with the gloo backend, 2 and 4 processes on 127.0.0.1 spawned by the test
  (one spawn per world size runs every case): each rank holds its shard of one global float64
  batch. The value on every rank must equal the single-process value on the global batch, and
  the gradient of each rank's local inputs ``factor x`` the single-process gradient rows of
  those inputs (``factor = world_size`` for a scalar loss, which every rank computes; 1 for
  ``reduction="none"``, whose shards sum to the global objective). Replicated inputs
  (``logit_scale``, class weights): the sum over the ranks of their gradients is ``factor x``
  the single-process gradient. A short ``DistributedDataParallel`` run of an embedding model
  trained with ``clip_loss(group="world")`` must reproduce the single-process parameters.
* JAX ``shard_map`` over 8 host CPU devices (one subprocess, ``XLA_FLAGS``): the value and
  ``jax.grad`` of the mapped function equal the unsharded ones.

The single-process side is the library's own ``group=None`` value, which the conformance suite
pins to peers and float64 references; CLIP and the ignore-index cross-entropy are also checked
against plain torch formulas here, and a control checks that the per-shard (``group=None``)
value of CLIP differs from the global one (so agreement is not an accident of the inputs).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import traceback
import typing
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
N = 16  # global batch: divisible by 2, 4 and 8 members
TOL = 1e-10
TIMEOUT = 240  # seconds for one spawn, then every process of it is killed
TIMEOUT_ALL = 900  # the slow tier's JAX run: one program of every case (compiled once)


# ------------------------------------------------------------------------------ cases ----
# A case: (loss name, [(array, shard axis or None for replicated, differentiable[, keyword])],
# kwargs, output axis of reduction="none" or None for a replicated output).
def _cases():
    rng = np.random.default_rng(20261201)

    def f(*shape):
        return rng.normal(size=shape)

    a, b, c = f(N, 6), f(N, 6), f(N, 6)
    labels = rng.integers(0, 4, N)
    pair = (rng.random(N) < 0.5).astype(np.float64)
    S, R = 0, None  # sharded along axis 0 / replicated
    cases = {
        "clip": ("clip_loss", [(a, S, True), (b, S, True), (np.asarray(3.5), R, True)], {}, 0),
        "clip_none": ("clip_loss", [(a, S, True), (b, S, True)], {"reduction": "none"}, 0),
        "clip_sum_raw": ("clip_loss", [(a, S, True), (b, S, True)], {"normalize": False, "reduction": "sum"}, 0),
        "nt_xent": ("nt_xent_loss", [(a, S, True), (b, S, True)], {}, 0),
        "nt_xent_sum_dirs": ("nt_xent_loss", [(a, S, True), (b, S, True)],
                             {"directions": "sum", "temperature": 0.2}, 0),
        "info_nce": ("info_nce_loss", [(a, S, True), (b, S, True)], {}, 0),
        "info_nce_queue": ("info_nce_loss", [(a, S, True), (b, S, True), (f(5, 6), R, True)], {}, 0),
        "supcon": ("supervised_contrastive_loss", [(a, S, True), (labels, S, False)], {}, 0),
        "supcon_ntxent": ("supervised_contrastive_loss", [(a, S, True), (labels, S, False)],
                          {"denominator": "negatives", "mean_over": "pairs", "temperature": 0.3}, 0),
        "barlow": ("barlow_twins_loss", [(a, S, True), (b, S, True)], {}, None),
        "barlow_mean_unbiased": ("barlow_twins_loss", [(a, S, True), (b, S, True)],
                                 {"correction": 1, "eps": 0.0, "reduction": "mean"}, None),
        "batch_hard": ("batch_hard_triplet_loss", [(a, S, True), (labels, S, False)], {}, 0),
        "batch_hard_soft_cos": ("batch_hard_triplet_loss", [(a, S, True), (labels, S, False)],
                                {"soft_margin": True, "distance": "cosine", "mean_over": "nonzero"}, 0),
        "batch_all": ("batch_all_triplet_loss", [(a, S, True), (labels, S, False)],
                      {"mean_over": "nonzero", "distance": "squared"}, 0),
        "semi_hard": ("semi_hard_triplet_loss", [(a, S, True), (labels, S, False)], {"margin": 2.0}, 0),
        "semi_hard_all": ("semi_hard_triplet_loss", [(a, S, True), (labels, S, False)],
                          {"negatives": "all", "margin": 2.0}, 0),
        "contrastive": ("contrastive_loss", [(a, S, True), (b, S, True), (pair, S, False)], {}, 0),
        "contrastive_pos_neg_nonzero": ("contrastive_loss", [(a, S, True), (b, S, True), (pair, S, False)],
                                        {"mean_over": "pos_neg_nonzero", "squared": False, "margin": 3.0}, 0),
        "triplet": ("triplet_margin_loss", [(a, S, True), (b, S, True), (c, S, True)], {"margin": 3.0}, 0),
        "triplet_distance": ("triplet_margin_with_distance_loss", [(a, S, True), (b, S, True), (c, S, True)],
                             {"margin": 3.0, "swap": True}, 0),
    }
    # cross-entropy family: the shards hold very different numbers of non-ignored targets
    logits, cls = f(N, 5, 3), rng.integers(0, 5, (N, 3))
    cls[: N // 4] = -100
    cls[0, 0] = 2
    cls[N // 2: N // 2 + 2, 1] = -100
    w5 = rng.random(5) + 0.5
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    probs = np.exp(logp)
    bce_p = 1 / (1 + np.exp(-f(N, 3)))
    bce_y = (rng.random((N, 3)) < 0.4).astype(np.float64)
    bce_w = rng.random((N, 3)) * (np.arange(N)[:, None] < N // 2)  # half the batch has weight 0
    cases.update({
        "cross_entropy_ignore": ("cross_entropy", [(logits, S, True), (cls, S, False)], {}, 0),
        "cross_entropy_weight_smooth": ("cross_entropy", [(logits, S, True), (cls, S, False), (w5, R, True, "weight")],
                                        {"label_smoothing": 0.2}, 0),
        "cross_entropy_smooth": ("cross_entropy", [(logits, S, True), (cls, S, False)], {"label_smoothing": 0.1}, 0),
        "cross_entropy_elements": ("cross_entropy", [(logits, S, True), (cls, S, False), (w5, R, True, "weight")],
                                   {"mean_over": "elements"}, 0),
        "cross_entropy_probs": ("cross_entropy", [(logits, S, True), (probs, S, False)], {}, 0),
        "cross_entropy_none": ("cross_entropy", [(logits, S, True), (cls, S, False)], {"reduction": "none"}, 0),
        "nll_weight": ("nll_loss", [(logp, S, True), (cls, S, False), (w5, R, True, "weight")], {}, 0),
        "bce_weights": ("binary_cross_entropy", [(bce_p, S, True), (bce_y, S, False), (bce_w, S, True, "weight")],
                        {"mean_over": "weights"}, 0),
        "bce_logits": ("binary_cross_entropy_with_logits",
                       [(f(N, 3), S, True), (bce_y, S, False), (bce_w, S, True, "weight"),
                        (np.asarray([1.0, 2.0, 0.5]), R, True, "pos_weight")],
                       {"mean_over": "weights"}, 0),
        "sigmoid_focal": ("sigmoid_focal_loss", [(f(N, 3), S, True), (bce_y, S, False), (bce_w, S, False, "weight")], {}, 0),
        "kl_batchmean": ("kl_div", [(logp, S, True), (probs, S, False)], {"reduction": "batchmean"}, 0),
        "kl_log_target_mean": ("kl_div", [(logp, S, True), (logp[::-1].copy(), S, True)], {"log_target": True}, 0),
        "softmax_focal": ("softmax_focal_loss", [(logits, S, True), (cls, S, False), (w5, R, False, "weight")], {}, 0),
    })
    T_, C_, S_ = 10, 5, 4
    ctc_lp = f(T_, N, C_)
    ctc_lp = ctc_lp - np.log(np.sum(np.exp(ctc_lp), axis=2, keepdims=True))
    cases["ctc"] = ("ctc_loss", [(ctc_lp, 1, True), (rng.integers(1, C_, (N, S_)), S, False),
                                 (rng.integers(7, T_ + 1, N), S, False), (rng.integers(1, S_ + 1, N), S, False)], {}, 0)
    # segmentation: batch-pooled statistics, Lovasz over the pixels of the whole batch
    seg, seg_t = f(N, 3, 6), rng.integers(0, 3, (N, 6))
    seg_t[: N // 2] = np.where(seg_t[: N // 2] == 2, 0, seg_t[: N // 2])  # class 2 only in half the batch
    seg_t[1, :2] = -1
    hinge, hinge_t = f(N, 6), rng.integers(0, 2, (N, 6))
    cw = rng.random(3) + 0.5
    cases.update({
        "dice_batch": ("dice_loss", [(seg, S, True), (seg_t, S, False)], {"batch": True, "smooth": 0.1, "ignore_index": -1}, None),
        "dice_batch_none": ("dice_loss", [(seg, S, True), (seg_t, S, False)],
                            {"batch": True, "reduction": "none", "ignore_index": -1}, None),
        "dice_batch_weighted": ("dice_loss", [(seg, S, True), (seg_t, S, False), (cw, R, False, "weight")],
                                {"batch": True, "squared_denominator": True, "mask_absent": True,
                                 "ignore_index": -1}, None),
        "dice_per_sample": ("dice_loss", [(seg, S, True), (seg_t, S, False), (cw, R, False, "weight")],
                            {"ignore_index": -1}, 0),
        "jaccard_batch": ("jaccard_loss", [(seg, S, True), (seg_t, S, False)],
                          {"batch": True, "ignore_index": -1}, None),
        "tversky_batch": ("tversky_loss", [(seg, S, True), (seg_t, S, False)],
                          {"batch": True, "ignore_index": -1}, None),
        "focal_tversky_batch": ("focal_tversky_loss", [(seg, S, True), (seg_t, S, False)],
                                {"batch": True, "ignore_index": -1}, None),
        "generalized_dice_batch": ("generalized_dice_loss", [(seg, S, True), (seg_t, S, False)],
                                   {"batch": True, "ignore_index": -1}, None),
        "generalized_dice_per_sample": ("generalized_dice_loss", [(seg, S, True), (seg_t, S, False)],
                                        {"ignore_index": -1, "smooth": 1e-3}, 0),
        "lovasz_softmax_pooled": ("lovasz_softmax_loss", [(seg, S, True), (seg_t, S, False)],
                                  {"ignore_index": -1}, None),
        "lovasz_softmax_per_image": ("lovasz_softmax_loss", [(seg, S, True), (seg_t, S, False)],
                                     {"per_image": True, "classes": "all", "ignore_index": -1}, 0),
        "lovasz_hinge_pooled": ("lovasz_hinge_loss", [(hinge, S, True), (hinge_t, S, False)],
                                {"per_image": False}, None),
        "lovasz_hinge_per_image": ("lovasz_hinge_loss", [(hinge, S, True), (hinge_t, S, False)], {}, 0),
    })
    # segmentation: masked Dice, MCC and Dice + focal (batch-pooled statistics or global means)
    seg_mask = (rng.random((N, 1, 6)) < 0.7).astype(np.float64)
    seg_dp, seg_dg = rng.random((N, 3, 6)) * 3, rng.random((N, 3, 6)) * 3  # (distance maps: any >= 0)
    cases.update({
        "masked_dice_batch": ("masked_dice_loss", [(seg, S, True), (seg_t, S, False), (seg_mask, S, False)],
                              {"batch": True, "smooth": 0.1, "ignore_index": -1}, None),
        "masked_dice_per_sample_none": ("masked_dice_loss", [(seg, S, True), (seg_t, S, False), (seg_mask, S, False)],
                                        {"reduction": "none", "ignore_index": -1}, 0),
        "mcc_batch": ("mcc_loss", [(seg, S, True), (seg_t, S, False)], {"batch": True, "ignore_index": -1}, None),
        "mcc_per_sample_weighted": ("mcc_loss", [(seg, S, True), (seg_t, S, False), (cw, R, False, "weight")],
                                    {"ignore_index": -1}, 0),
        "dice_focal_batch": ("dice_focal_loss", [(seg, S, True), (seg_t, S, False), (cw, R, False, "weight")],
                             {"batch": True, "ignore_index": -1, "alpha": 0.25, "smooth": 1e-5}, None),
        "dice_focal_sum": ("dice_focal_loss", [(seg, S, True), (seg_t, S, False)],
                           {"reduction": "sum", "gamma": 0.5, "ignore_index": -1}, None),
        "dice_focal_sum_spatial_mean": ("dice_focal_loss", [(seg, S, True), (seg_t, S, False)],
                                        {"reduction": "sum", "focal_spatial_mean": True, "ignore_index": -1}, None),
        "dice_focal_mean_spatial_mean": ("dice_focal_loss", [(seg, S, True), (seg_t, S, False)],
                                         {"focal_spatial_mean": True, "ignore_index": -1}, None),
        "hausdorff_dt_batch": ("hausdorff_dt_loss", [(seg, S, True), (seg_t, S, False), (seg_dp, S, False),
                                                     (seg_dg, S, False)], {"batch": True, "ignore_index": -1}, None),
        "hausdorff_dt_per_sample_none": ("hausdorff_dt_loss", [(seg, S, True), (seg_t, S, False), (seg_dp, S, False),
                                                               (seg_dg, S, False)],
                                         {"reduction": "none", "ignore_index": -1, "alpha": 1.0}, 0),
        "wasserstein_dice_batch_gdl": ("generalized_wasserstein_dice_loss", [(seg, S, True), (seg_t, S, False)],
                                       {"batch": True, "weighting_mode": "GDL", "ignore_index": -1}, None),
        "wasserstein_dice_per_sample": ("generalized_wasserstein_dice_loss", [(seg, S, True), (seg_t, S, False)],
                                        {"ignore_index": -1, "smooth": 1e-5}, 0),
    })
    cases.update(_weighted_mean_cases(np.random.default_rng(20261202)))
    cases.update(_ranking_sparse_ordinal_generative_cases(np.random.default_rng(20261203)))
    return cases


def _weighted_mean_cases(rng):
    """The losses whose only coupling is the ``"mean"`` normaliser (the global weight sum,
    element or kept-pixel count), the batch-pooled soft F1 and the segmentation compounds.
    Weights are 0 on most of the first shards, so the local normalisers differ."""
    def f(*shape):
        return rng.normal(size=shape)

    S, R = 0, None
    x, y = f(N, 3), f(N, 3)
    w = rng.random((N, 3)) * (np.arange(N)[:, None] >= N // 4)  # the first quarter: weight 0
    w_row = rng.random(N) * (np.arange(N) >= N // 4)
    pm1 = np.where(rng.random((N, 3)) < 0.5, -1.0, 1.0)
    b01 = (rng.random((N, 3)) < 0.4).astype(np.float64)
    cls4, scores = rng.integers(0, 4, N), f(N, 4)
    cw4, cw5 = rng.random(4) + 0.5, rng.random(5) + 0.5
    multilabel = -np.ones((N, 4), dtype=np.int64)
    multilabel[:, 0] = cls4
    multilabel[::3, 1] = (cls4[::3] + 1) % 4
    xy = rng.random((N, 2)) * 4
    boxes1 = np.concatenate([xy, xy + rng.random((N, 2)) * 3 + 0.1], axis=1)
    xy2 = xy + f(N, 2) * 0.5
    boxes2 = np.concatenate([xy2, xy2 + rng.random((N, 2)) * 3 + 0.1], axis=1)
    logits, tgt = f(N, 5, 2), rng.integers(0, 5, (N, 2))
    tgt[: N // 4, 0] = -100
    seg, seg_t = f(N, 3, 6), rng.integers(0, 3, (N, 6))
    seg_t[: N // 2] = np.where(seg_t[: N // 2] == 2, 0, seg_t[: N // 2])
    seg_t[1, :2] = -1
    bin_seg, bin_t = f(N, 1, 6), rng.integers(0, 2, (N, 6))
    probs3 = np.exp(seg) / np.sum(np.exp(seg), axis=1, keepdims=True)
    return {
        # regression: weighted means (weight sum or element count over the group)
        "mse_weighted": ("mse_loss", [(x, S, True), (y, S, True), (w, S, True, "weight")], {}, 0),
        "l1": ("l1_loss", [(x, S, True), (y, S, False)], {}, 0),
        "huber_weighted_elements": ("huber_loss", [(x, S, True), (y, S, False), (w, S, False, "weight")],
                                    {"delta": 0.5}, 0),
        "smooth_l1_none": ("smooth_l1_loss", [(x, S, True), (y, S, False)], {"reduction": "none"}, 0),
        "log_cosh_weighted": ("log_cosh_loss", [(x, S, True), (y, S, False), (w, S, False, "weight")], {}, 0),
        "quantile_sum": ("quantile_loss", [(x, S, True), (y, S, False)], {"q": 0.3, "reduction": "sum"}, 0),
        "asymmetric_mse": ("asymmetric_mse_loss", [(x, S, True), (y, S, False), (w, S, False, "weight")],
                           {"mean_over": "elements"}, 0),
        "msle": ("mean_squared_log_error", [(np.abs(x), S, True), (np.abs(y), S, False)], {}, 0),
        "mape_weighted": ("mean_absolute_percentage_error", [(x, S, True), (y, S, False), (w, S, False, "weight")],
                          {}, 0),
        # margin
        "hinge_embedding": ("hinge_embedding_loss", [(np.abs(x), S, True), (pm1, S, False)], {}, 0),
        "soft_margin": ("soft_margin_loss", [(x, S, True), (pm1, S, False)], {}, 0),
        "multilabel_soft_margin_w": ("multilabel_soft_margin_loss",
                                     [(scores, S, True), ((scores > 0).astype(np.float64), S, False),
                                      (cw4, R, True, "weight")], {"mean_over": "weights"}, 0),
        "multi_margin_w": ("multi_margin_loss", [(scores, S, True), (cls4, S, False), (cw4, R, True, "weight")],
                           {"p": 2}, 0),
        "multilabel_margin": ("multilabel_margin_loss", [(scores, S, True), (multilabel, S, False)], {}, 0),
        "margin_ranking": ("margin_ranking_loss", [(x, S, True), (y, S, True), (pm1, S, False)], {"margin": 0.3}, 0),
        "cosine_embedding": ("cosine_embedding_loss", [(x, S, True), (y, S, True), (pm1[:, 0], S, False)],
                             {"margin": 0.2}, 0),
        "cosine_similarity_w": ("cosine_similarity_loss", [(x, S, True), (y, S, True), (w_row, S, False, "weight")],
                                {}, 0),
        "hinge_w": ("hinge_loss", [(x, S, True), (b01, S, False), (w, S, False, "weight")],
                    {"target_encoding": "01"}, 0),
        "squared_hinge": ("squared_hinge_loss", [(x, S, True), (pm1, S, False)], {}, 0),
        "multiclass_hinge_w": ("multiclass_hinge_loss", [(scores, S, True), (cls4, S, False),
                                                         (w_row, S, False, "weight")], {}, 0),
        # classification extras
        "poly1_ignore_w": ("poly1_cross_entropy", [(logits, S, True), (tgt, S, False), (cw5, R, True, "weight")],
                           {}, 0),
        "distillation_target": ("distillation_loss", [(f(N, 5), S, True), (f(N, 5), S, False),
                                                      (rng.integers(0, 5, N), S, False, "target")],
                                {"temperature": 2.0, "alpha": 0.7}, 0),
        "gce_ignore": ("generalized_cross_entropy", [(logits, S, True), (tgt, S, False)], {"q": 0.5}, 0),
        "soft_f1_binary": ("soft_f1_loss", [(x, S, True), (b01, S, False)], {"from_logits": True}, None),
        "soft_f1_macro_none": ("soft_f1_loss", [(1 / (1 + np.exp(-x)), S, True), (b01, S, False)],
                               {"average": "macro", "reduction": "none"}, None),
        # detection
        "iou_w": ("box_iou_loss", [(boxes1, S, True), (boxes2, S, False), (w_row, S, False, "weight")], {}, 0),
        "giou_w_elements": ("generalized_box_iou_loss", [(boxes1, S, True), (boxes2, S, False),
                                                         (w_row, S, False, "weight")], {"mean_over": "elements"}, 0),
        "diou": ("distance_box_iou_loss", [(boxes1, S, True), (boxes2, S, True)], {}, 0),
        "ciou_w": ("complete_box_iou_loss", [(boxes1, S, True), (boxes2, S, False), (w_row, S, False, "weight")],
                   {}, 0),
        # probabilistic
        "gaussian_nll": ("gaussian_nll_loss", [(x, S, True), (y, S, False), (rng.random((N, 3)) + 0.1, S, True)],
                         {"full": True}, 0),
        "poisson_nll": ("poisson_nll_loss", [(x, S, True), (rng.poisson(2.0, (N, 3)).astype(np.float64), S, False)],
                        {}, 0),
        "poisson_nll_rate": ("poisson_nll_loss", [(np.abs(x), S, True),
                                                  (rng.poisson(2.0, (N, 3)).astype(np.float64), S, False)],
                             {"log_input": False, "full": True}, 0),
        # multitask: per-sample curriculum loss
        "super_loss": ("super_loss", [(np.abs(x), S, True)], {"tau": 0.8}, 0),
        # segmentation compounds and the boundary loss
        "dice_ce_batch": ("dice_ce_loss", [(seg, S, True), (seg_t, S, False), (rng.random(3) + 0.5, R, True,
                                                                               "ce_weight")],
                          {"batch": True, "ignore_index": -1, "smooth": 1e-5}, None),
        "dice_ce_binary_sum": ("dice_ce_loss", [(bin_seg, S, True), (bin_t, S, False)],
                               {"mode": "binary", "reduction": "sum"}, None),
        "combo": ("combo_loss", [(bin_seg, S, True), (bin_t, S, False)], {"beta": 0.7, "batch": True}, None),
        "boundary": ("boundary_loss", [(probs3, S, True), (f(N, 3, 6), S, False)], {}, 0),
    }


# ------------------------------------------- ranking, sparse, ordinal, generative ----
def _ranking_sparse_ordinal_generative_cases(rng):
    """The ranking losses (the lists are the batch: masked lists, masked items and weights make
    the shards' counts of valid lists and pairs differ), the sparse / Fenchel-Young losses,
    the ordinal losses (CORN's normaliser counts the (sample, task) pairs that enter) and the
    generative losses (means over the batch; weights 0 and ignored targets on the first shards)."""
    def f(*shape):
        return rng.normal(size=shape)

    S, R = 0, None
    first = np.arange(N) < N // 4  # the first quarter of the batch
    L = 5  # list size
    scores, grades = f(N, L), rng.integers(0, 4, (N, L)).astype(np.float64)
    where = rng.random((N, L)) < 0.8
    where[first] = False  # whole lists masked: no valid item, no valid pair
    where[N // 2, 1:] = False  # a list of one valid item: no pair
    item_w = rng.random((N, L)) + 0.2
    relevance = rng.random((N, L))  # continuous labels: no ties in ListMLE's sort
    x3, b01 = f(N, 3), (rng.random((N, 3)) < 0.4).astype(np.float64)
    w3 = rng.random((N, 3)) * ~first[:, None]
    w_row = rng.random(N) * ~first
    pm1 = np.where(rng.random((N, 3)) < 0.5, -1.0, 1.0)
    logits, cls = f(N, 5), rng.integers(0, 5, N)
    cls[first] = -100
    logits2, cls2 = f(N, 5, 2), rng.integers(0, 5, (N, 2))
    cls2[: N // 4, 0] = -100
    cw5 = rng.random(5) + 0.5
    masses = rng.random((N, 4)) * (rng.random((N, 4)) < 0.7)  # zeros: the 0 log 0 terms
    probs = rng.dirichlet(np.ones(4), N)
    masked_logits = f(N, 4)
    masked_logits[::3, 3] = -np.inf  # masked-out classes with probability 0
    probs_masked = probs.copy()
    probs_masked[::3, :3] += probs_masked[::3, 3:] / 3
    probs_masked[::3, 3] = 0.0
    levels = rng.integers(0, 5, N)
    levels[first] = 0  # CORN: these samples enter task 0 only
    coral_t = (levels[:, None] > np.arange(4)).astype(np.float64)
    grads = f(N, 2, 3)
    grads[N // 2] = 0.0  # a zero critic gradient (norm 0)
    recon = 1 / (1 + np.exp(-f(N, 6)))
    data = rng.random((N, 6))
    return {
        # ranking
        "ranking_softmax_masked_lists": ("ranking_softmax_loss", [(scores, S, True), (grades, S, False),
                                                                  (where, S, False, "where"),
                                                                  (item_w, S, True, "weight")], {}, 0),
        "poly1_softmax_masked_lists": ("poly1_softmax_loss", [(scores, S, True), (grades, S, False),
                                                              (where, S, False, "where")], {"epsilon": 0.5}, 0),
        "listmle_masked_lists": ("listmle_loss", [(scores, S, True), (relevance, S, False),
                                                  (where, S, False, "where")], {}, 0),
        "pairwise_hinge_masked": ("pairwise_hinge_loss", [(scores, S, True), (grades, S, False),
                                                          (where, S, False, "where"),
                                                          (item_w, S, True, "weight")], {}, 0),
        "pairwise_logistic_masked": ("pairwise_logistic_loss", [(scores, S, True), (grades, S, False),
                                                                (where, S, False, "where")], {}, 0),
        "pairwise_logistic_none": ("pairwise_logistic_loss", [(scores, S, True), (grades, S, False)],
                                   {"reduction": "none"}, 0),
        "pairwise_mse_masked": ("pairwise_mse_loss", [(scores, S, True), (grades, S, False),
                                                      (where, S, False, "where")], {}, 0),
        "approx_ndcg_masked": ("approx_ndcg_loss", [(scores, S, True), (grades, S, False),
                                                    (where, S, False, "where"), (item_w, S, False, "weight")],
                               {"temperature": 0.5}, 0),
        "approx_mrr_masked": ("approx_mrr_loss", [(scores, S, True), (grades, S, False),
                                                  (where, S, False, "where")], {}, 0),
        # sparse and Fenchel-Young
        "sparsemax_w": ("sparsemax_loss", [(x3, S, True), (b01, S, False), (w3, S, True, "weight")], {}, 0),
        "multiclass_sparsemax_ignore_w": ("multiclass_sparsemax_loss", [(logits * 2, S, True), (cls, S, False),
                                                                        (cw5, R, True, "weight")], {}, 0),
        "entmax15_ignore_elements": ("entmax15_loss", [(logits2, S, True), (cls2, S, False),
                                                       (cw5, R, False, "weight")], {"mean_over": "elements"}, 0),
        "entmax_bisect_ignore": ("entmax_bisect_loss", [(logits, S, True), (cls, S, False)],
                                 {"alpha": 1.3, "n_iter": 40}, 0),
        "perceptron_w": ("perceptron_loss", [(x3, S, True), (pm1, S, False), (w3, S, False, "weight")], {}, 0),
        "multiclass_perceptron_w": ("multiclass_perceptron_loss", [(logits, S, True), (rng.integers(0, 5, N), S, False),
                                                                   (w_row, S, False, "weight")], {}, 0),
        "generalized_kl": ("generalized_kl_divergence", [(f(N, 4), S, True), (masses, S, False)], {}, 0),
        "convex_kl_sum": ("convex_kl_divergence", [(f(N, 4), S, True), (masses, S, False)], {"reduction": "sum"}, 0),
        "safe_softmax_ce_masked": ("safe_softmax_cross_entropy", [(masked_logits, S, True), (probs_masked, S, False)],
                                   {}, 0),
        # ordinal
        "coral_task_weights": ("coral_loss", [(f(N, 4), S, True), (coral_t, S, False),
                                              (rng.random(4) + 0.5, R, True, "task_weights")], {}, 0),
        "corn": ("corn_loss", [(f(N, 4), S, True), (levels, S, False)], {}, 0),
        "cumulative_link_w": ("cumulative_link_loss", [(f(N), S, True), (rng.integers(0, 4, N), S, False),
                                                       (np.asarray([-1.0, 0.2, 1.5]), R, True),
                                                       (w_row, S, False, "weight")], {}, 0),
        # generative: real and fake batches of different sizes, a zero critic gradient
        "gan_discriminator_smooth": ("gan_discriminator_loss", [(f(N), S, True), (f(N, 2), S, True)],
                                     {"label_smoothing": 0.1}, 0),
        "gan_discriminator_hinge_sum": ("gan_discriminator_loss", [(f(N), S, True), (f(N, 3), S, True)],
                                        {"kind": "hinge", "reduction": "sum"}, 0),
        "gan_generator_ls": ("gan_generator_loss", [(f(N, 2), S, True)], {"kind": "least_squares"}, 0),
        "gradient_penalty_zero_row": ("gradient_penalty", [(grads, S, True)], {}, 0),
        "gaussian_kl": ("gaussian_kl_divergence", [(f(N, 4), S, True), (f(N, 4) * 0.5, S, True)], {}, 0),
        "vae_bce": ("vae_loss", [(recon, S, True), (data, S, False), (f(N, 3), S, True), (f(N, 3) * 0.5, S, True)],
                    {"beta": 0.5}, 0),
        "vae_mse_sum": ("vae_loss", [(f(N, 6), S, True), (data, S, False), (f(N, 3), S, True),
                                     (f(N, 3) * 0.5, S, True)], {"criterion": "mse", "reduction": "sum"}, 0),
        "perceptual": ("perceptual_loss", [(f(N, 2, 3), S, True), (f(N, 2, 3), S, False)],
                       {"feature_extractor": _features, "layer_weights": [1.0, 0.5]}, 0),
        # StyleGAN2 regularisers: R1/R2 on per-sample gradients with a zero row; the path-length
        # running mean is replicated and updated with the global batch's mean length
        "r1_lazy_zero_row": ("r1_penalty", [(grads, S, True)], {"gamma": 2.0, "interval": 4}, 0),
        "r2_sum": ("r2_penalty", [(grads, S, True)], {"reduction": "sum"}, 0),
        "path_length_zero_row": ("path_length_penalty", [(grads, S, True), (np.asarray(0.8), R, False)],
                                 {"decay": 0.3}, 0),
        "path_length_none": ("path_length_penalty", [(grads, S, True), (np.asarray(0.8), R, False)],
                             {"reduction": "none"}, 0),
        "path_length_mean_update": ("path_length_mean_update", [(grads, S, False), (np.asarray(0.8), R, False)],
                                    {"decay": 0.3}, None),
        # (and the label-smoothed softmax focal loss: ignored targets, class weights)
        "softmax_focal_smooth": ("softmax_focal_loss", [(logits2, S, True), (cls2, S, False), (cw5, R, True, "weight")],
                                 {"label_smoothing": 0.2, "gamma": 1.5}, 0),
    }


def _features(x):
    """A feature extractor of two maps, written once for every framework."""
    return [x, x[:, :1] * x[:, 1:]]


CASES = _cases()


# metric learning: the margin-softmax and proxy losses (class matrices replicated), the
# in-batch multi-similarity and circle losses (local anchors against the gathered batch) and
# Proxy-Anchor (per-proxy terms over the gathered batch). Labels 0 are absent from the first
# shards, so a per-shard mean would differ.
def _metric_cases(rng):
    S, R = 0, None
    e = rng.normal(size=(N, 6))
    labels = rng.integers(0, 4, N)
    labels[: N // 2] = np.where(labels[: N // 2] == 0, 1, labels[: N // 2])
    w = rng.normal(size=(4, 6))
    return {
        "arcface": ("arcface_loss", [(e, S, True), (labels, S, False), (w, R, True)], {}, 0),
        "cosface_sum": ("cosface_loss", [(e, S, True), (labels, S, False), (w, R, True)], {"reduction": "sum"}, 0),
        "sphereface": ("sphereface_loss", [(e, S, True), (labels, S, False), (w, R, True)], {}, 0),
        "multi_similarity": ("multi_similarity_loss", [(e, S, True), (labels, S, False)], {}, 0),
        "circle_nonzero": ("circle_loss", [(e, S, True), (labels, S, False)], {"mean_over": "nonzero"}, 0),
        "proxy_anchor": ("proxy_anchor_loss", [(e, S, True), (labels, S, False), (w, R, True)], {}, None),
        "proxy_nca": ("proxy_nca_loss", [(e, S, True), (labels, S, False), (w, R, True)], {}, 0),
        # the miners: each member's anchors, indices into the global batch (INDEX_OUTPUTS)
        "batch_hard_mining": ("batch_hard_mining", [(e, S, False), (labels, S, False)], {}, 0),
        "batch_easy_mining_cos": ("batch_hard_mining", [(e, S, False), (labels, S, False)],
                                  {"positives": "easy", "negatives": "easy", "distance": "cosine"}, 0),
        "semi_hard_mining": ("semi_hard_mining", [(e, S, False), (labels, S, False)], {}, 0),
        "semi_hard_mining_all": ("semi_hard_mining", [(e, S, False), (labels, S, False)],
                                 {"negatives": "all", "margin": 0.5}, 0),
    }


#: functions whose result is a tuple of index arrays, each sharded along the case's output
#: axis (each member's anchors) like a reduction="none" result, with no gradient
INDEX_OUTPUTS = frozenset({"batch_hard_mining", "semi_hard_mining"})


CASES.update(_metric_cases(np.random.default_rng(20261203)))


def _lce_cases(rng):
    """linear_cross_entropy: rows sharded, the head replicated; the first quarter of the
    targets ignored, so the local weight sums differ."""
    S, R = 0, None
    x, w, b, cw = rng.normal(size=(N, 5)), rng.normal(size=(7, 5)), rng.normal(size=(7,)), rng.random(7) + 0.5
    t = rng.integers(0, 7, N)
    t[: N // 4] = -100
    return {
        "lce_weight_ignore": ("linear_cross_entropy", [(x, S, True), (w, R, True), (t, S, False),
                                                       (b, R, True, "linear_bias"), (cw, R, True, "weight")],
                              {"chunk_size": (3, 4), "label_smoothing": 0.1}, 0),
        "lce_elements": ("linear_cross_entropy", [(x, S, True), (w, R, True), (t, S, False)],
                         {"mean_over": "elements"}, 0),
    }


CASES.update(_lce_cases(np.random.default_rng(20261204)))


# rl: batch-major losses sharded along axis 0; the time-major ones ((T, N) sequences) along
# the batch axis 1. The weights are 0 on the first quarter of the batch (unequal local
# normalisers) and the means run over the weight sum or the element count.
def _rl_cases(rng):
    w = rng.random(N) * (np.arange(N) >= N // 4)  # the first quarter: weight 0

    def f(*shape):
        return rng.normal(size=shape)

    S, B, R = 0, 1, None
    A, T = 3, 4
    q_tm1, q_t, a_tm1 = f(N, A), f(N, A), rng.integers(0, A, N)
    r_t, disc = f(N), np.where(rng.random(N) < 0.2, 0.0, 0.9)
    q = [(q_tm1, S, True), (a_tm1, S, False), (r_t, S, False), (disc, S, False)]
    probs = np.exp(f(N, A))
    probs /= probs.sum(1, keepdims=True)
    z, acts = f(N, A), rng.integers(0, A, N)
    w_tm = np.broadcast_to(w, (T, N)).copy()
    seq = [(f(T, N), B, False), (np.full((T, N), 0.95), B, False), (f(T, N), B, False)]  # r_t, discount_t, v_t
    vt = [(f(T, N), B, False), (f(T, N), B, False), (f(T, N), B, False), (np.full((T, N), 0.95), B, False),
          (np.exp(f(T, N) * 0.5), B, False)]  # v_tm1, v_t, r_t, discount_t, rho_tm1
    old = np.log(rng.uniform(0.1, 1.0, N))
    return {
        "td_w": ("td_loss", [(f(N), S, True), (r_t, S, False), (disc, S, False), (f(N), S, False),
                             (w, S, False, "weight")], {}, 0),
        "q_learning_w_huber": ("q_learning_loss", q + [(q_t, S, False), (w, S, False, "weight")],
                               {"criterion": "huber"}, 0),
        "double_q_elements": ("double_q_learning_loss", q + [(q_t, S, False), (f(N, A), S, False),
                                                            (w, S, False, "weight")], {"mean_over": "elements"}, 0),
        "sarsa_w": ("sarsa_loss", q + [(q_t, S, False), (rng.integers(0, A, N), S, False), (w, S, False, "weight")],
                    {}, 0),
        "expected_sarsa_none": ("expected_sarsa_loss", q + [(q_t, S, False), (probs, S, False)],
                                {"reduction": "none"}, 0),
        "td_lambda_w": ("td_lambda_loss", [(f(T, N), B, True)] + seq + [(w_tm, B, False, "weight")],
                        {"lambda_": 0.9}, 1),
        "pg_w": ("policy_gradient_loss", [(z, S, True), (acts, S, False), (f(N), S, False), (w, S, False, "weight")],
                 {}, 0),
        "vtrace_pg_w": ("vtrace_policy_gradient_loss", [(f(T, N, A), B, True), (rng.integers(0, A, (T, N)), B, False)]
                        + vt + [(w_tm, B, False, "weight")], {"lambda_": 0.9}, 1),
        "entropy_w": ("entropy_loss", [(z, S, True), (w, S, False, "weight")], {}, 0),
        "actor_critic_w": ("actor_critic_loss", [(z, S, True), (acts, S, False), (f(N), S, True), (f(N), S, False),
                                                 (w, S, False, "weight")], {}, 0),
        "ppo_normalized_w": ("ppo_clip_loss", [(old + 0.3 * f(N), S, True), (f(N) * 2 + 1, S, False),
                                               (old, S, False, "old_log_prob"), (w, S, False, "weight")],
                             {"normalize_advantages": True}, 0),
        "sac_critic_w": ("sac_critic_loss", [(f(N), S, True), (f(N), S, True), (r_t, S, False), (disc, S, False),
                                             (f(N), S, False), (f(N), S, False), (f(N), S, False),
                                             (w, S, False, "weight")], {"alpha": 0.3}, 0),
        "sac_actor_sum": ("sac_actor_loss", [(f(N), S, True), (f(N), S, True), (f(N), S, True)],
                          {"reduction": "sum"}, 0),
        "sac_temperature_w": ("sac_temperature_loss", [(np.asarray([0.2]), R, True), (f(N), S, False),
                                                       (w, S, False, "weight")], {"target_entropy": -1.0}, 0),
    }


CASES.update(_rl_cases(np.random.default_rng(20261203)))
#: the cases of the default run's JAX check (every case runs in the slow tier: compiling all of
#: them for 8 devices takes about a minute)
JAX_DEFAULT = ("clip", "nt_xent", "supcon", "barlow", "batch_hard", "cross_entropy_ignore",
               "dice_batch", "lovasz_softmax_pooled", "mse_weighted", "soft_f1_macro_none")
# the ranking and ordinal families: a sort over each list, CORN's count of entering pairs
JAX_DEFAULT += ("listmle_masked_lists", "corn")
JAX_DEFAULT += ("batch_hard_mining", "semi_hard_mining")


def _call(fn, arrays, args, kwargs, group):
    """``fn`` on the case's arrays (positional, or by their keyword) with ``group``."""
    pos = [x for x, a in zip(arrays, args) if len(a) == 3]
    named = {a[3]: x for x, a in zip(arrays, args) if len(a) == 4}
    return fn(*pos, **named, **kwargs, group=group)


def _shard(x, axis, rank, world):
    if axis is None:
        return x
    n = x.shape[axis] // world
    return np.take(x, np.arange(rank * n, (rank + 1) * n), axis=axis)


def _max_err(x, y):
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        return float("inf")
    return float(np.max(np.abs(x - y) / (1.0 + np.abs(y)))) if x.size else 0.0


# ------------------------------------------------------------------------ torch worker ----
def _torch_case(torch, losses, spec, rank, world, group):
    """``(value error, gradient error)`` of one case on this rank."""
    name, args, kwargs, out_axis = spec
    fn = getattr(losses, name)

    def run(arrays, grp):
        ts = [torch.tensor(x, requires_grad=a[2]) for x, a in zip(arrays, args)]
        out = _call(fn, ts, args, kwargs, grp)
        if name in INDEX_OUTPUTS:  # the fields stacked along a new first axis
            return np.stack([o.numpy() for o in out]).astype(np.float64), [None] * len(ts)
        if out.requires_grad:  # a stop-gradient result (path_length_mean_update) has no graph
            out.sum().backward()
        return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]

    ref, ref_grads = run([a[0] for a in args], None)
    val, grads = run([_shard(a[0], a[1], rank, world) for a in args], group)
    sharded = kwargs.get("reduction", "mean") == "none" or name in INDEX_OUTPUTS
    replicated_out = not sharded or out_axis is None
    want = ref if replicated_out else _shard(ref, out_axis + (name in INDEX_OUTPUTS), rank, world)
    factor = world if replicated_out else 1
    grad_err = 0.0
    for (_, ax, d, *_), g, rg in zip(args, grads, ref_grads):
        if not d:
            continue
        if ax is None:  # a replicated input: the members' gradients sum to factor x the reference
            g = torch.tensor(g)
            torch.distributed.all_reduce(g)
            g = g.numpy()
            grad_err = max(grad_err, _max_err(g, factor * rg))
        else:
            grad_err = max(grad_err, _max_err(g, factor * _shard(rg, ax, rank, world)))
    return _max_err(val, want), grad_err


def _independent_torch(torch, losses, rank, world):
    """Plain-torch formulas on the global batch vs the library's distributed values."""
    F = torch.nn.functional
    _, [(a, _, _), (b, _, _), (s, _, _)], _, _ = CASES["clip"]
    ia, tb = F.normalize(torch.tensor(a), dim=1), F.normalize(torch.tensor(b), dim=1)
    logits = float(s) * ia @ tb.T
    target = torch.arange(N)
    clip_ref = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
    sa, sb = (torch.tensor(_shard(x, 0, rank, world)) for x in (a, b))
    clip = losses.clip_loss(sa, sb, torch.tensor(s), group="world")
    local_only = losses.clip_loss(sa, sb, torch.tensor(s))
    _, [(z, _, _), (t, _, _)], _, _ = CASES["cross_entropy_ignore"]
    ce_ref = F.cross_entropy(torch.tensor(z), torch.tensor(t))
    sz, st = (torch.tensor(_shard(x, 0, rank, world)) for x in (z, t))
    ce = losses.cross_entropy(sz, st, group="world")
    return {"clip_vs_torch": _max_err(clip.numpy(), clip_ref.numpy()),
            "clip_local_differs": abs(float(local_only) - float(clip_ref)),
            "ce_vs_torch": _max_err(ce.numpy(), ce_ref.numpy()),
            "ce_local_differs": abs(float(losses.cross_entropy(sz, st)) - float(ce_ref))}


#: the mining losses on an empty batch: (name, kwargs)
EMPTY_MINING = (("batch_hard_triplet_loss", {}), ("batch_all_triplet_loss", {"mean_over": "nonzero"}),
                ("semi_hard_triplet_loss", {}), ("semi_hard_triplet_loss", {"negatives": "all"}))


def _empty_mining(torch, losses):
    """``[single-process value, group value, group gradient shape]`` of every mining loss on
    an empty batch (every rank's shard empty) per reduction."""
    out = {}
    for name, kwargs in EMPTY_MINING:
        fn = getattr(losses, name)
        for reduction in ("mean", "sum"):
            e = torch.zeros((0, 6), dtype=torch.float64, requires_grad=True)
            labels = torch.zeros(0, dtype=torch.int64)
            single = fn(e.detach(), labels, reduction=reduction, **kwargs)
            got = fn(e, labels, reduction=reduction, group="world", **kwargs)
            got.backward()
            out[f"{name} {kwargs} {reduction}"] = [float(single), float(got), list(e.grad.shape)]
    return out


def _compiled(torch, losses, rank, world):
    """``torch.compile(fullgraph=True)`` of a function calling ``cross_entropy`` and
    ``clip_loss`` with ``group="world"``: its values and gradients against the eager call
    (dynamo traces the collectives and their autograd functions, no graph break)."""
    _, [(z, _, _), (t, _, _)], _, _ = CASES["cross_entropy_ignore"]
    _, [(a, _, _), (b, _, _), (s, _, _)], _, _ = CASES["clip"]

    def fn(z, t, a, b, s):
        return losses.cross_entropy(z, t, group="world"), losses.clip_loss(a, b, s, group="world")

    def run(f):
        ts = [torch.tensor(_shard(x, 0, rank, world), requires_grad=True) for x in (z, a, b)]
        ts.insert(1, torch.tensor(_shard(t, 0, rank, world)))
        ts.append(torch.tensor(s, requires_grad=True))
        ce, clip = f(*ts)
        (ce + 2 * clip).backward()
        return [ce.detach().numpy(), clip.detach().numpy()], [x.grad.numpy() for x in ts if x.requires_grad]

    (eager_v, eager_g) = run(fn)
    # aot_eager: dynamo and AOTAutograd (forward and backward graphs), without inductor's C++
    # code generation, which the check does not need and which costs tens of CPU seconds
    compiled_v, compiled_g = run(torch.compile(fn, backend="aot_eager", fullgraph=True))
    return {"value": max(_max_err(x, y) for x, y in zip(compiled_v, eager_v)),
            "grad": max(_max_err(x, y) for x, y in zip(compiled_g, eager_g))}


def _ddp_run(torch, losses, rank, world, steps=5):
    """Parameters after ``steps`` SGD steps of a DistributedDataParallel two-tower embedding
    model (with CLIP's learnt temperature) trained with ``clip_loss(group="world")`` on this
    rank's shards, against one process trained on the global batches."""
    from torch.nn.parallel import DistributedDataParallel

    rng = np.random.default_rng(7)
    images, texts = rng.normal(size=(steps, N, 8)), rng.normal(size=(steps, N, 5))

    class TwoTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.image, self.text = torch.nn.Linear(8, 4), torch.nn.Linear(5, 4)
            self.log_scale = torch.nn.Parameter(torch.tensor(1.0))

        def forward(self, i, x):
            return self.image(i), self.text(x), self.log_scale.exp()

    def train(forward, params, group, shard):
        opt = torch.optim.SGD(params, lr=0.5)
        for t in range(steps):
            loss = losses.clip_loss(*forward(*(torch.tensor(shard(v[t])) for v in (images, texts))), group=group)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.detach().numpy().copy() for p in params]

    start = [p.detach().numpy().copy() for p in TwoTower().double().parameters()]
    single = TwoTower().double()
    want = train(single, list(single.parameters()), None, lambda v: v)
    ddp = DistributedDataParallel(TwoTower().double())
    got = train(ddp, list(ddp.parameters()), "world", lambda v: _shard(v, 0, rank, world))
    return {"ddp_params": max(_max_err(g, w) for g, w in zip(got, want)),
            "ddp_moved": min(float(np.max(np.abs(w - s))) for w, s in zip(want, start))}


def torch_worker(rank, world, port, out):
    import datetime

    import torch
    import torch.distributed as dist

    import losses

    torch.set_num_threads(1)
    result = {}
    try:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=world, timeout=datetime.timedelta(seconds=120))
        for key, spec in CASES.items():
            result[key] = _torch_case(torch, losses, spec, rank, world, "world")
        result["independent"] = _independent_torch(torch, losses, rank, world)
        result["ddp"] = _ddp_run(torch, losses, rank, world)
        result["empty_mining"] = _empty_mining(torch, losses)
        if world == 2:  # the default tier's run
            result["compiled"] = _compiled(torch, losses, rank, world)
        dist.barrier()
        dist.destroy_process_group()
    except Exception:  # noqa: BLE001 - reported to the test through the file
        result["error"] = traceback.format_exc()
    Path(out).write_text(json.dumps(result))


# -------------------------------------------------------------------------- jax worker ----
def jax_worker(which, out):
    import jax
    from jax.sharding import PartitionSpec as P

    import losses

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_disable_most_optimizations", True)  # compile time: the checks are numerics-only
    jnp = jax.numpy
    mesh = jax.make_mesh((8,), ("b",), axis_types=(jax.sharding.AxisType.Auto,))
    result = {}
    keys = list(CASES) if which == "all" else list(JAX_DEFAULT)
    try:
        def objective(group):
            """Every case's value and the gradient of its sum, in one program (one compile)."""
            def run(arrays):
                outs = {}
                for key in keys:
                    name, args, kwargs, out_axis = CASES[key]
                    fn, xs = getattr(losses, name), arrays[key]
                    diff = tuple(i for i, a in enumerate(args) if a[2])
                    if group is None:
                        call = lambda *v, fn=fn, args=args, kwargs=kwargs: _call(fn, v, args, kwargs, None)  # noqa: E731
                    else:
                        specs = tuple(P() if a[1] is None else P(*([None] * a[1] + ["b"])) for a in args)
                        sharded_out = ((kwargs.get("reduction", "mean") == "none" or name in INDEX_OUTPUTS)
                                       and out_axis is not None)
                        call = jax.shard_map(lambda *v, fn=fn, args=args, kwargs=kwargs: _call(fn, v, args, kwargs, group),
                                             mesh=mesh, in_specs=specs, out_specs=P("b") if sharded_out else P())
                    # (no differentiable argument: the stop-gradient path_length_mean_update)
                    grad = jax.grad(lambda *v, call=call: jnp.sum(call(*v)), argnums=diff)(*xs) if diff else ()
                    outs[key] = (call(*xs), grad)
                return outs
            return jax.jit(run)

        arrays = {key: [jnp.asarray(a[0]) for a in CASES[key][1]] for key in keys}
        ref, got = objective(None)(arrays), objective("b")(arrays)
        for key in keys:
            (rv, rg), (v, g) = ref[key], got[key]
            result[key] = (_max_err(v, rv), max((_max_err(x, y) for x, y in zip(g, rg)), default=0.0))
        # a tuple of axis names is one group: the 2 x 4 mesh flattened in row-major order
        mesh2 = jax.make_mesh((2, 4), ("h", "d"), axis_types=(jax.sharding.AxisType.Auto,) * 2)
        a, b = arrays["nt_xent"]
        mapped = jax.shard_map(lambda x, y: losses.nt_xent_loss(x, y, group=("h", "d")), mesh=mesh2,
                               in_specs=(P(("h", "d")), P(("h", "d"))), out_specs=P())
        result["axis_tuple"] = (_max_err(jax.jit(mapped)(a, b), losses.nt_xent_loss(a, b)), 0.0)
        from tests._docs import doc_blocks

        (example,) = doc_blocks("distributed.md")  # the JAX example of the docs page, on 8 devices
        exec(compile(example, "docs/distributed.md", "exec"), {})
        result["docs_example"] = (0.0, 0.0)
    except Exception:  # noqa: BLE001 - reported to the test through the file
        result["error"] = traceback.format_exc()
    Path(out).write_text(json.dumps(result))


# ------------------------------------------------------------------------------- spawn ----
def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(argvs, env_extra, timeout=TIMEOUT):
    """Run one process per argv (``python -m tests.test_distributed ...``) and return the JSON
    each wrote; every process is killed when the spawn runs over ``timeout`` seconds."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo",
               **env_extra)
    with tempfile.TemporaryDirectory() as tmp:
        outs = [str(Path(tmp) / f"{i}.json") for i in range(len(argvs))]
        procs = [subprocess.Popen([sys.executable, "-m", "tests.test_distributed", *argv, out], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for argv, out in zip(argvs, outs)]
        logs = []
        try:
            for p in procs:
                logs.append(p.communicate(timeout=timeout)[0].decode(errors="replace"))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            for p in procs:
                p.communicate()
            pytest.fail(f"distributed run exceeded {timeout} s and was killed")
        results = []
        for out, log in zip(outs, logs):
            assert Path(out).exists(), f"a worker wrote no result:\n{log[-3000:]}"
            r = json.loads(Path(out).read_text())
            assert "error" not in r, r["error"] + log[-2000:]
            results.append(r)
        return results


def _check_cases(results, label, keys=tuple(CASES)):
    bad = []
    for rank, r in enumerate(results):
        for key in keys:
            v, g = r[key]
            if not (v < TOL and g < TOL):
                bad.append(f"{label} rank {rank} {key}: value error {v:.3g}, gradient error {g:.3g}")
    assert not bad, "\n".join(bad)


@pytest.fixture(scope="module", params=[pytest.param(2, id="gloo2"),
                                        pytest.param(4, id="gloo4", marks=pytest.mark.slow)])
def torch_results(request):
    pytest.importorskip("torch")
    world = request.param
    port = _free_port()
    return world, _spawn([["torch", str(r), str(world), str(port)] for r in range(world)], {})


def test_torch_values_and_gradients_equal_the_global_batch(torch_results):
    world, results = torch_results
    _check_cases(results, f"gloo world={world}")


def test_torch_matches_plain_torch_formulas(torch_results):
    _, results = torch_results
    for r in results:
        assert r["independent"]["clip_vs_torch"] < TOL
        assert r["independent"]["clip_local_differs"] > 1e-3  # the per-shard objective is another one
        assert r["independent"]["ce_vs_torch"] < TOL
        assert r["independent"]["ce_local_differs"] > 1e-3


def test_ddp_training_reproduces_single_process(torch_results):
    _, results = torch_results
    for r in results:
        assert r["ddp"]["ddp_moved"] > 1e-3  # the parameters did move in 5 steps
        assert r["ddp"]["ddp_params"] < 1e-9


def test_mining_on_an_empty_global_batch_is_the_mean_of_nothing(torch_results):
    """Every rank's shard empty: ``"mean"`` is NaN (the mean of nothing, as the
    single-process call), ``"sum"`` 0, the gradient an empty one; not a finite 0."""
    _, results = torch_results
    for r in results:
        for key, (single, got, grad_shape) in r["empty_mining"].items():
            if key.endswith("mean"):
                assert np.isnan(single) and np.isnan(got), (key, single, got)
            else:
                assert single == got == 0.0, (key, single, got)
            assert grad_shape == [0, 6], key


def test_torch_compile_traces_the_collectives(torch_results):
    world, results = torch_results
    if world != 2:
        pytest.skip("checked in the 2-process run")
    for r in results:
        assert r["compiled"]["value"] < TOL and r["compiled"]["grad"] < TOL, r["compiled"]


@pytest.mark.parametrize("which", [pytest.param("default", id="default-cases"),
                                   pytest.param("all", id="all-cases", marks=pytest.mark.slow)])
def test_jax_shard_map_values_and_gradients_equal_unsharded(which):
    pytest.importorskip("jax")
    (r,) = _spawn([["jax", which]], {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"},
                  TIMEOUT_ALL if which == "all" else TIMEOUT)
    _check_cases([r], "jax shard_map x8", tuple(CASES) if which == "all" else JAX_DEFAULT)
    v, _ = r["axis_tuple"]
    assert v < TOL
    assert "docs_example" in r


# --------------------------------------------------------------- which losses take it ----
def _functions_with_group():
    import inspect

    import losses

    return {n for n in losses.__all__ if "group" in inspect.signature(getattr(losses, n)).parameters}


def test_docs_list_every_function_with_group():
    import re

    page = (ROOT / "docs" / "distributed.md").read_text()
    block = re.search(r"<!-- group-list -->\n(.*?)<!-- /group-list -->", page, re.S)
    assert block, "docs/distributed.md lost its <!-- group-list --> block"
    listed = re.findall(r"`(\w+)`", block.group(1))
    assert len(listed) == len(set(listed))
    assert set(listed) == _functions_with_group(), (
        f"missing from the page: {sorted(_functions_with_group() - set(listed))}; "
        f"listed without group=: {sorted(set(listed) - _functions_with_group())}")


def test_every_function_with_group_has_a_distributed_case():
    assert _functions_with_group() <= {spec[0] for spec in CASES.values()}


# ------------------------------------------------------------------- group validation ----
def test_every_function_with_group_checks_it_on_numpy():
    """Each function of CASES (its first case, NumPy arrays) refuses a group, also with
    ``reduction="none"``, which calls no collective: every body checks its ``group``."""
    import losses

    seen = set()
    for name, args, kwargs, _ in CASES.values():
        if name in seen:
            continue
        seen.add(name)
        # where "none" is a reduction of the function (not of the scalar-reduction losses nor
        # of the running-mean update, which has no reduction)
        hint = typing.get_type_hints(getattr(losses, name)).get("reduction")
        if hint is not None and "none" in typing.get_args(hint):
            kwargs = {**kwargs, "reduction": "none"}
        with pytest.raises(ValueError, match="group= must be None for numpy"):
            _call(getattr(losses, name), [a[0] for a in args], args, kwargs, "world")
    assert seen == _functions_with_group()


def test_group_must_be_none_without_collectives():
    import losses

    x = np.ones((4, 3))
    for bad in ("world", ("b",), object()):
        with pytest.raises(ValueError, match="group= must be None for numpy"):
            losses.clip_loss(x, x, group=bad)
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(ValueError, match="group= must be None for array_api_strict"):
        losses.nt_xent_loss(strict.asarray(x), strict.asarray(x), group="world")
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="Dask arrays are already global"):
        losses.barlow_twins_loss(da.asarray(x), da.asarray(x), group="world")


def test_torch_group_validation():
    torch = pytest.importorskip("torch")
    import losses

    x = torch.ones(4, 3)
    with pytest.raises(TypeError, match="group must be None, 'world' or a torch.distributed ProcessGroup"):
        losses.clip_loss(x, x, group=3)
    with pytest.raises(ValueError, match="group must be None, 'world'"):
        losses.clip_loss(x, x, group="everyone")
    if not torch.distributed.is_initialized():
        with pytest.raises(ValueError, match="needs an initialised default process group"):
            losses.clip_loss(x, x, group="world")


def test_jax_group_validation():
    jax = pytest.importorskip("jax")
    import losses

    x = jax.numpy.ones((4, 3))
    with pytest.raises(TypeError, match="mapped axis name"):
        losses.clip_loss(x, x, group=3)
    with pytest.raises(TypeError, match="mapped axis name"):
        losses.clip_loss(x, x, group=())
    with pytest.raises(ValueError, match="axis name 'b' is not bound"):
        losses.clip_loss(x, x, group="b")


if __name__ == "__main__":
    kind, *rest = sys.argv[1:]
    if kind == "torch":
        torch_worker(int(rest[0]), int(rest[1]), int(rest[2]), rest[3])
    else:
        jax_worker(rest[0], rest[1])
