# (generators return C-contiguous arrays: the engine's finite differences write through reshape)
import math

import numpy as np

from ... import segmentation as L
from ..case import Case, Peer
from . import _peers as P

C, H, W = 3, 3, 4
_c = np.ascontiguousarray
#: the per-sample vmap check maps over axis 0: a sample ``(C, H, W)`` of ``_mc`` is itself a
#: batch of ``C`` images with ``H`` classes and ``W`` pixels, and its target ``(H, W)`` has
#: the index shape ``(N, W)`` of that batch because ``H == C`` (labels in [0, C) fit both).
VMAP = ("input", "target")
assert H == C


def _mc(rng, n):
    return {"input": rng.normal(size=(n, C, H, W)) * 2, "target": rng.integers(0, C, size=(n, H, W))}


def _mc_dense(rng, n):
    t = rng.integers(0, C, size=(n, H, W))
    return {"input": rng.normal(size=(n, C, H, W)) * 2, "target": _c(np.moveaxis(np.eye(C)[t], -1, 1))}


def _mc_soft(rng, n):
    t = rng.dirichlet(np.full(C, 4.0), size=(n, H, W))
    return {"input": rng.normal(size=(n, C, H, W)) * 2, "target": _c(np.moveaxis(t, -1, 1))}


def _mc_ignore(rng, n):
    d = _mc(rng, n)
    d["target"] = np.where(rng.uniform(size=(n, H, W)) < 0.25, 255, d["target"])
    return d


def _mc_empty(rng, n):
    """Class 2 absent from the target and (exactly) from the prediction."""
    z = rng.normal(size=(n, C, H, W)) * 2
    z[:, 2] = -1e4
    return {"input": z, "target": rng.integers(0, 2, size=(n, H, W))}


def _mc_extreme(rng, n):
    z = rng.choice([-1e4, 1e4], size=(n, C, H, W)) * rng.uniform(0.5, 1.0, size=(n, C, H, W))
    return {"input": z, "target": rng.integers(0, C, size=(n, H, W))}


def _mc_probs(rng, n):
    p = rng.dirichlet(np.ones(C), size=(n, H, W))
    return {"input": _c(np.moveaxis(p, -1, 1)), "target": rng.integers(0, C, size=(n, H, W))}


def _bin(rng, n):
    return {"input": rng.normal(size=(n, 1, H, W)) * 2, "target": rng.integers(0, 2, size=(n, H, W))}


def _ml(rng, n):
    return {"input": rng.normal(size=(n, C, H, W)) * 2,
            "target": rng.integers(0, 2, size=(n, C, H, W)).astype(np.float64)}


def _weights(rng, n):
    d = _mc(rng, n)
    d["weight"] = np.array([0.5, 1.0, 2.0])
    return d


def _cl(x):
    return P.jnp().moveaxis(x, 1, -1)


def _onehot_cl(target):
    import jax

    return jax.nn.one_hot(target, C, dtype=P.jnp().float64)


def _optax_dice(smooth, alpha=0.5, beta=0.5):
    def peer(input, target):
        return P.optax().losses.dice_loss(_cl(input), _onehot_cl(target), smooth=smooth, alpha=alpha,
                                           beta=beta).mean()
    return peer


CASES = []
for loss in (L.dice_loss, L.jaccard_loss, L.tversky_loss, L.focal_tversky_loss):
    CASES += [
        Case(loss, _mc, {}, dynamic=True, vmap=VMAP),
        Case(loss, _mc_dense, {"batch": True, "include_background": False, "smooth": 0.5, "mask_absent": True,
                               "reduction": "none"}, name="dense_batch_nobg"),
        Case(loss, _mc_ignore, {"ignore_index": 255, "reduction": "sum"}, name="ignore_index"),
        Case(loss, _bin, {"mode": "binary"}, name="binary"),
        Case(loss, _ml, {"mode": "multilabel", "reduction": "none"}, name="multilabel"),
        Case(loss, _weights, {}, name="weighted", diff=("input", "weight")),
        Case(loss, _weights, {"mean_over": "elements"}, name="weighted_elements", diff=("input", "weight")),
        Case(loss, _mc_empty, {"reduction": "none"}, name="empty_class"),
        Case(loss, _mc_extreme, {"smooth": 1.0}, name="logits_1e4", fd=False),
    ]

for loss in (L.dice_loss, L.jaccard_loss, L.tversky_loss):
    CASES += [
        Case(loss, _mc_ignore, {"batch": True, "mask_absent": True, "ignore_index": 255, "classes": [2, 0],
                                "log_loss": True, "reduction": "none"}, name="smp_classes_log"),
    ]
CASES.append(Case(L.dice_loss, _mc_empty, {"log_loss": True, "classes": [1, 2], "include_background": False},
                  name="log_empty_class"))

CASES += [
    Case(L.dice_loss, _mc_soft, {"soft_label": True, "smooth": 1e-5}, name="soft_label",
         diff=("input", "target")),
    Case(L.dice_loss, _mc_ignore, {"soft_label": True, "ignore_index": 255, "batch": True}, name="soft_label_hard"),
    Case(L.dice_loss, _mc, {"squared_denominator": True, "smooth": 1e-5}, name="squared_monai"),
    Case(L.dice_loss, _mc_soft, {}, name="soft_target", diff=("input", "target")),
    Case(L.dice_loss, _mc, {"smooth": 2.0}, name="optax",
         peers=(Peer("optax.losses.dice_loss(smooth=1)", "jax", _optax_dice(1.0), requires="optax"),)),
    Case(L.tversky_loss, _mc, {"alpha_fp": 0.3, "beta_fn": 0.7, "smooth": 1.0}, name="optax",
         peers=(Peer("optax.losses.dice_loss(alpha=0.3, beta=0.7)", "jax", _optax_dice(1.0, 0.3, 0.7),
                     requires="optax"),)),
    Case(L.focal_tversky_loss, _mc_probs, {"gamma": 1.5, "from_logits": False}, name="probabilities_gamma"),
]

CASES += [
    Case(L.generalized_dice_loss, _mc, {}, dynamic=True, vmap=VMAP),
    Case(L.generalized_dice_loss, _mc, {"batch": True, "weight_type": "simple", "smooth": 1e-5},
         name="batch_simple"),
    Case(L.generalized_dice_loss, _mc_empty, {"reduction": "none"}, name="empty_class"),
    Case(L.generalized_dice_loss, _mc_ignore, {"ignore_index": 255, "include_background": False,
                                               "weight_type": "uniform"}, name="ignore_nobg"),
    Case(L.generalized_dice_loss, _mc_extreme, {"smooth": 1e-5}, name="logits_1e4", fd=False),
    Case(L.generalized_dice_loss, _ml, {"mode": "multilabel"}, name="multilabel"),
]


def _lovasz_small(rng, n):
    return {"input": rng.normal(size=(n, C, 2, 3)) * 2, "target": rng.integers(0, C, size=(n, 2, 3))}


def _lovasz_ignore(rng, n):
    d = _lovasz_small(rng, n)
    d["target"] = np.where(rng.uniform(size=(n, 2, 3)) < 0.3, -1, d["target"])
    return d


def _lovasz_ties(rng, n):
    """Saturated logits: many errors exactly 0 or 1 (ties and the |.| kink)."""
    z = rng.choice([-1e4, 0.0, 1e4], size=(n, C, 2, 3))
    return {"input": z, "target": rng.integers(0, C, size=(n, 2, 3))}


CASES += [
    Case(L.lovasz_softmax_loss, _lovasz_small, {}, dynamic=True),
    Case(L.lovasz_softmax_loss, _lovasz_small, {"per_image": True, "classes": "all", "reduction": "none"},
         name="per_image_all"),
    Case(L.lovasz_softmax_loss, _lovasz_small, {"per_image": True, "classes": [0, 2]}, name="class_list"),
    Case(L.lovasz_softmax_loss, _lovasz_ignore, {"ignore_index": -1, "per_image": True}, name="ignore_index"),
    Case(L.lovasz_softmax_loss, _mc_empty, {"per_image": True, "reduction": "sum"}, name="empty_class", fd=False),
    Case(L.lovasz_softmax_loss, _lovasz_ties, {"per_image": True}, name="ties_1e4", fd=False),
    Case(L.lovasz_softmax_loss, _mc, {"per_image": True, "reduction": "none"}, name="vmap", vmap=VMAP),
]


def _hinge(rng, n):
    return {"input": rng.normal(size=(n, 2, 3)) * 2, "target": rng.integers(0, 2, size=(n, 2, 3))}


def _hinge_ignore(rng, n):
    d = _hinge(rng, n)
    d["target"] = np.where(rng.uniform(size=(n, 2, 3)) < 0.3, 255, d["target"])
    return d


def _hinge_kinks(rng, n):
    """Logits exactly on the hinge (z * s == 1) and on ties."""
    t = rng.integers(0, 2, size=(n, 2, 3))
    z = np.where(rng.uniform(size=(n, 2, 3)) < 0.5, 2.0 * t - 1, rng.choice([-3.0, 0.5, 3.0], size=(n, 2, 3)))
    return {"input": z, "target": t}


def _hinge_empty(rng, n):
    return {"input": rng.normal(size=(n, 2, 3)) * 2, "target": np.zeros((n, 2, 3), dtype=np.int64)}


CASES += [
    Case(L.lovasz_hinge_loss, _hinge, {}, vmap=("input", "target"), dynamic=True),
    Case(L.lovasz_hinge_loss, _hinge, {"per_image": False}, name="batch"),
    Case(L.lovasz_hinge_loss, _hinge, {"reduction": "none"}, name="none", vmap=("input", "target")),
    Case(L.lovasz_hinge_loss, _hinge_ignore, {"ignore_index": 255}, name="ignore_index"),
    Case(L.lovasz_hinge_loss, _hinge_kinks, {"reduction": "sum"}, name="kinks", fd=False),
    Case(L.lovasz_hinge_loss, _hinge_empty, {}, name="no_foreground"),
    Case(L.lovasz_hinge_loss, lambda rng, n: {"input": rng.choice([-1e4, 1e4], size=(n, 2, 3)),
                                              "target": rng.integers(0, 2, size=(n, 2, 3))},
         {}, name="logits_1e4", fd=False),
]


def _boundary(rng, n):
    t = rng.integers(0, C, size=(n, H, W))
    return {"input": rng.normal(size=(n, C, H, W)) * 2,
            "distance_maps": L.signed_distance_map(t, num_classes=C)}


def _boundary_probs(rng, n):
    d = _boundary(rng, n)
    d["input"] = _c(np.moveaxis(rng.dirichlet(np.ones(C), size=(n, H, W)), -1, 1))
    return d


CASES += [
    Case(L.boundary_loss, _boundary, {"from_logits": True}, dynamic=True, vmap=("input", "distance_maps")),
    Case(L.boundary_loss, _boundary_probs, {}, name="probabilities", diff=("input", "distance_maps")),
    Case(L.boundary_loss, _boundary, {"from_logits": True, "include_background": True,
                                      "reduction": "none"}, name="none_bg"),
    Case(L.boundary_loss, lambda rng, n: {"input": rng.normal(size=(n, 1, H, W)),
                                          "distance_maps": rng.normal(size=(n, 1, H, W))},
         {"from_logits": True, "mode": "binary", "reduction": "sum"}, name="binary"),
]

CASES += [
    Case(L.dice_ce_loss, _mc, {}, dynamic=True, vmap=VMAP),
    Case(L.dice_ce_loss, _mc_ignore, {"ignore_index": 255, "lambda_dice": 0.3, "lambda_ce": 2.0,
                                      "smooth": 1e-5}, name="ignore_index"),
    Case(L.dice_ce_loss, lambda rng, n: dict(_mc(rng, n), ce_weight=np.array([0.2, 1.0, 3.0])),
         {"reduction": "sum"}, name="ce_weight", diff=("input", "ce_weight")),
    Case(L.dice_ce_loss, _bin, {"mode": "binary", "batch": True}, name="binary"),
    Case(L.dice_ce_loss, _mc_extreme, {"smooth": 1.0}, name="logits_1e4", fd=False),
    Case(L.combo_loss, _bin, {}, dynamic=True),
    Case(L.combo_loss, _ml, {"mode": "multilabel", "alpha": 0.7, "beta": 0.3, "reduction": "sum"},
         name="multilabel", vmap=VMAP),
    Case(L.combo_loss, lambda rng, n: dict(_bin(rng, n), target=np.where(rng.uniform(size=(n, H, W)) < 0.3, 9,
                                                                       rng.integers(0, 2, size=(n, H, W)))),
         {"ignore_index": 9, "beta": 0.8}, name="ignore_index"),
    Case(L.combo_loss, lambda rng, n: {"input": rng.choice([-1e4, 1e4], size=(n, 1, H, W)),
                                       "target": rng.integers(0, 2, size=(n, H, W))},
         {}, name="logits_1e4", fd=False),
]



def _masked(rng, n, shared=False):
    d = _mc(rng, n)
    d["mask"] = (rng.uniform(size=(1 if shared else n, 1, H, W)) < 0.6).astype(np.float64)
    return d


def _masked_dense(rng, n):
    d = _mc_dense(rng, n)
    d["mask"] = rng.uniform(size=(n, 1, H, W))
    return d


def _mc_empty_masked(rng, n):
    d = _mc_empty(rng, n)
    d["mask"] = np.ones((n, 1, H, W))
    d["mask"][:, :, 0] = 0.0
    return d


CASES += [
    Case(L.masked_dice_loss, _masked, {}, dynamic=True),
    Case(L.masked_dice_loss, lambda rng, n: _masked(rng, n, shared=True),
         {"batch": True, "include_background": False, "smooth": 1e-5, "reduction": "none"}, name="shared_mask_batch"),
    Case(L.masked_dice_loss, _masked_dense, {"squared_denominator": True, "smooth": 0.5}, name="soft_mask_dense",
         peers=(Peer("monai.losses.MaskedDiceLoss(softmax=True, squared_pred=True)", "torch",
                     lambda input, target, mask: P.monai_losses().MaskedDiceLoss(
                         softmax=True, squared_pred=True, smooth_nr=0.5, smooth_dr=0.5)(input, target, mask),
                     requires="monai"),)),
    Case(L.masked_dice_loss, _mc_empty_masked, {"reduction": "none"}, name="empty_class"),
    Case(L.mcc_loss, _mc, {}, dynamic=True, vmap=VMAP),
    Case(L.mcc_loss, _mc_dense, {"batch": True, "include_background": False, "eps": 0.0, "reduction": "none"},
         name="dense_batch_eps0",
         peers=(Peer("monai.losses.MCCLoss(softmax=True, batch=True, smooth_dr=0)", "torch",
                     lambda input, target: P.monai_losses().MCCLoss(
                         softmax=True, include_background=False, batch=True, smooth_dr=0.0,
                         reduction="none")(input, target), requires="monai", rtol=1e-10, atol=1e-10),)),
    Case(L.mcc_loss, _mc_ignore, {"ignore_index": 255, "reduction": "sum"}, name="ignore_index"),
    Case(L.mcc_loss, lambda rng, n: dict(_bin(rng, n), input=1 / (1 + np.exp(-_bin(rng, n)["input"]))),
         {"mode": "binary", "from_logits": False, "batch": True}, name="smp_binary_probabilities"),
    Case(L.mcc_loss, _weights, {"mean_over": "elements"}, name="weighted_elements", diff=("input", "weight")),
    Case(L.mcc_loss, _mc_empty, {"reduction": "none"}, name="empty_class"),
    Case(L.mcc_loss, _mc_extreme, {}, name="logits_1e4", fd=False),
    Case(L.dice_focal_loss, _mc, {}, dynamic=True, vmap=VMAP),
    Case(L.dice_focal_loss, _mc, {"gamma": 0.5, "alpha": 0.25, "include_background": False, "smooth": 1e-5,
                                  "lambda_dice": 0.3, "lambda_focal": 2.0}, name="alpha_gamma_nobg",
         peers=(Peer("monai.losses.DiceFocalLoss(softmax=True, to_onehot_y=True) (focal term in float32)", "torch",
                     lambda input, target: P.monai_losses().DiceFocalLoss(
                         softmax=True, to_onehot_y=True, gamma=0.5, alpha=0.25, include_background=False,
                         lambda_dice=0.3, lambda_focal=2.0)(input, target[:, None]),
                     requires="monai", rtol=1e-6, atol=1e-7),)),
    Case(L.dice_focal_loss, _mc_ignore, {"ignore_index": 255, "batch": True, "reduction": "sum"}, name="ignore_index"),
    Case(L.dice_focal_loss, _weights, {"mean_over": "elements"}, name="weighted_elements", diff=("input", "weight")),
    Case(L.dice_focal_loss, _ml, {"mode": "multilabel", "gamma": 1.0}, name="multilabel"),
    Case(L.dice_focal_loss, _mc_extreme, {"smooth": 1.0}, name="logits_1e4", fd=False),
    # MONAI's reduction="sum": the focal term averages every (sample, channel) over the pixels first
    Case(L.dice_focal_loss, _mc, {"reduction": "sum", "focal_spatial_mean": True, "smooth": 1e-5, "gamma": 1.5},
         name="monai_sum",
         peers=(Peer("monai.losses.DiceFocalLoss(softmax=True, to_onehot_y=True, reduction='sum') (focal in float32)",
                     "torch", lambda input, target: P.monai_losses().DiceFocalLoss(
                         softmax=True, to_onehot_y=True, reduction="sum", gamma=1.5)(input, target[:, None]),
                     requires="monai", rtol=1e-6, atol=1e-7),)),
    Case(L.dice_focal_loss, _mc_ignore, {"ignore_index": 255, "reduction": "sum", "focal_spatial_mean": True},
         name="spatial_mean_ignore_index"),
]

def _hausdorff(rng, n, c=C, binary=False):
    z = rng.normal(size=(n, c, H, W)) * 2
    t = rng.integers(0, 2 if binary else c, size=(n, H, W))
    p = 1 / (1 + np.exp(-z)) if binary else np.exp(z) / np.exp(z).sum(1, keepdims=True)
    dg = (L.boundary_distance_map(t[:, None]) if binary else L.boundary_distance_map(t, num_classes=c))
    return {"input": z, "target": t, "input_distance_maps": L.boundary_distance_map(p > 0.5),
            "target_distance_maps": dg}


def _hausdorff_ignore(rng, n):
    d = _hausdorff(rng, n)
    d["target"] = np.where(rng.uniform(size=(n, H, W)) < 0.25, 255, d["target"])
    return d


CASES += [
    Case(L.hausdorff_dt_loss, _hausdorff, {}, dynamic=True,
         peers=(Peer("monai.losses.HausdorffDTLoss(softmax=True, to_onehot_y=True) (its maps in float32)", "torch",
                     lambda input, target, **maps: P.monai_losses().HausdorffDTLoss(
                         softmax=True, to_onehot_y=True)(input, target[:, None]),
                     requires="monai", rtol=1e-6, atol=1e-7, diff=("input",)),)),
    Case(L.hausdorff_dt_loss, _hausdorff, {"batch": True, "include_background": True, "alpha": 1.5,
                                           "reduction": "none"}, name="batch_bg_alpha"),
    Case(L.hausdorff_dt_loss, _hausdorff_ignore, {"ignore_index": 255, "reduction": "sum"}, name="ignore_index"),
    Case(L.hausdorff_dt_loss, lambda rng, n: _hausdorff(rng, n, c=1, binary=True), {"mode": "binary"}, name="binary"),
    Case(L.hausdorff_dt_loss, lambda rng, n: dict(_hausdorff(rng, n), input=_mc_extreme(rng, n)["input"]),
         {}, name="logits_1e4", fd=False),
    Case(L.boundary_distance_map, lambda rng, n: {"target": rng.integers(0, C, size=(n, H, W))},
         {"num_classes": C}, diff=(), backends=("numpy",)),
]

_GW_M = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.4], [1.0, 0.4, 0.0]]) * 3

CASES += [
    Case(L.generalized_wasserstein_dice_loss, _mc, {}, dynamic=True, vmap=VMAP),
    Case(L.generalized_wasserstein_dice_loss, lambda rng, n: dict(_mc(rng, n), dist_matrix=_GW_M),
         {"weighting_mode": "GDL", "smooth": 1e-5, "reduction": "none"}, name="gdl_matrix",
         peers=(Peer("monai.losses.GeneralizedWassersteinDiceLoss(weighting_mode='GDL') (alpha in float32)", "torch",
                     lambda input, target, dist_matrix: P.monai_losses().GeneralizedWassersteinDiceLoss(
                         dist_matrix=dist_matrix, weighting_mode="GDL", reduction="none")(input, target),
                     requires="monai", rtol=1e-6, atol=1e-7),)),
    Case(L.generalized_wasserstein_dice_loss, lambda rng, n: dict(_mc_ignore(rng, n), dist_matrix=_GW_M),
         {"ignore_index": 255, "batch": True}, name="ignore_batch"),
    Case(L.generalized_wasserstein_dice_loss, _mc_soft, {"weighting_mode": "GDL", "batch": True}, name="soft_target",
         diff=("input", "target")),
    Case(L.generalized_wasserstein_dice_loss, _mc_empty, {"reduction": "none"}, name="empty_class"),
    Case(L.generalized_wasserstein_dice_loss, _mc_extreme, {"smooth": 1e-5}, name="logits_1e4", fd=False),
]

# the NumPy/SciPy helper of boundary_loss: not differentiable, NumPy in and out
CASES += [
    Case(L.signed_distance_map, lambda rng, n: {"target": rng.integers(0, C, size=(n, H, W))},
         {"num_classes": C}, diff=(), backends=("numpy",)),
    Case(L.signed_distance_map, lambda rng, n: {"target": rng.integers(0, 2, size=(n, 2, H, W))},
         {"spacing": (1.0, 0.5)}, name="masks_spacing", diff=(), backends=("numpy",)),
]


# ------------------------------------------------------------- tables of tests/test_edges.py ----
_OVERLAP = ("dice_loss", "jaccard_loss", "tversky_loss", "focal_tversky_loss")
#: array arguments whose values are checked eagerly (probability inputs are checked only with
#: from_logits=False, which the first cases do not use)
DOMAINS = {
    **{f: {"target": "class", "weight": "nonneg"} for f in _OVERLAP},
    "generalized_dice_loss": {"target": "class"},
    "lovasz_softmax_loss": {"target": "class"},
    "lovasz_hinge_loss": {"target": "class"},  # {0, 1} labels: indices of 2 classes
    "dice_ce_loss": {"target": "class", "weight": "nonneg", "ce_weight": "nonneg"},
    "combo_loss": {"target": "class"},
    "masked_dice_loss": {"target": "class", "mask": "nonneg"},
    "mcc_loss": {"target": "class", "weight": "nonneg"},
    "dice_focal_loss": {"target": "class", "weight": "nonneg"},
    "hausdorff_dt_loss": {"target": "class", "input_distance_maps": "nonneg", "target_distance_maps": "nonneg"},
    "generalized_wasserstein_dice_loss": {"target": "class"},
}
_TVERSKY = {"alpha_fp": (-0.1, math.inf), "beta_fn": (-0.1, math.inf)}
#: bad hyper-parameter values beyond test_edges.RANGES
HYPER_RANGES = {
    **{f: {"smooth": (math.inf,)} for f in ("dice_loss", "jaccard_loss", "generalized_dice_loss",
                                            "dice_ce_loss", "combo_loss")},
    "tversky_loss": {"smooth": (math.inf,), **_TVERSKY},
    "focal_tversky_loss": {"smooth": (math.inf,), "gamma": (0.0, math.inf), **_TVERSKY},
    "dice_ce_loss": {"smooth": (math.inf,), "lambda_dice": (-1.0, math.inf), "lambda_ce": (-1.0, math.inf)},
    "combo_loss": {"smooth": (math.inf,), "alpha": (-0.1, 1.5), "beta": (-0.1, 1.5)},
    "masked_dice_loss": {"smooth": (math.inf,), "smooth_dr": (-1.0, math.inf)},
    "mcc_loss": {"eps": (-1e-5, math.inf)},
    "dice_focal_loss": {"smooth": (math.inf,), "lambda_dice": (-1.0, math.inf), "lambda_focal": (-1.0, math.inf),
                        "gamma": (-1.0, math.inf), "alpha": (-0.1, 1.5)},
    "hausdorff_dt_loss": {"alpha": (0.0, -1.0, math.inf)},
    "generalized_wasserstein_dice_loss": {"smooth": (math.inf,), "smooth_dr": (-1.0,)},
}
