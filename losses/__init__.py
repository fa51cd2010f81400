"""losses: classic deep-learning loss functions written once against the Python array API.

Every function accepts NumPy, PyTorch, JAX, CuPy, Dask or array-api-strict arrays and returns
an array of the same framework, dtype and device. No array framework is imported here.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import (  # the family modules themselves
    classification,
    classification_extras,
    detection,
    generative,
    helpers,
    margin,
    metric,
    multitask,
    ordinal,
    probabilistic,
    ranking,
    regression,
    rl,
    segmentation,
    sequence,
    sparse,
)

# not a loss: the switch for the eager value checks (``with losses.value_checks(False): ...``)
from ._validate import value_checks as value_checks
from .classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    linear_cross_entropy,
    nll_loss,
    sigmoid_focal_loss,
    softmax_focal_loss,
)
from .classification_extras import (
    distillation_loss,
    generalized_cross_entropy,
    poly1_cross_entropy,
    soft_f1_loss,
)
from .detection import (
    box_iou_loss,
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
)
from .generative import (
    gan_discriminator_loss,
    gan_generator_loss,
    gaussian_kl_divergence,
    gradient_penalty,
    path_length_mean_update,
    path_length_penalty,
    perceptual_loss,
    r1_penalty,
    r2_penalty,
    vae_loss,
)
from .helpers import class_weights, pos_weight_from_counts, smooth_labels
from .margin import (
    cosine_embedding_loss,
    cosine_similarity_loss,
    hinge_embedding_loss,
    hinge_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multiclass_hinge_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    squared_hinge_loss,
)
from .metric import (
    arcface_loss,
    barlow_twins_loss,
    batch_all_triplet_loss,
    batch_hard_mining,
    batch_hard_triplet_loss,
    circle_loss,
    clip_loss,
    contrastive_loss,
    cosface_loss,
    cosine_similarity,
    info_nce_loss,
    multi_similarity_loss,
    nt_xent_loss,
    pairwise_distance,
    proxy_anchor_loss,
    proxy_nca_loss,
    semi_hard_mining,
    semi_hard_triplet_loss,
    sphereface_loss,
    supervised_contrastive_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .multitask import (
    curriculum_weights,
    dynamic_weight_average,
    gradnorm_loss,
    renormalize_task_weights,
    self_paced_weights,
    super_loss,
    uncertainty_weighted_loss,
)
from .ordinal import coral_loss, corn_loss, cumulative_link_loss, ordinal_targets
from .probabilistic import gaussian_nll_loss, poisson_nll_loss
from .ranking import (
    approx_mrr_loss,
    approx_ndcg_loss,
    listmle_loss,
    pairwise_hinge_loss,
    pairwise_logistic_loss,
    pairwise_mse_loss,
    poly1_softmax_loss,
    ranking_softmax_loss,
)
from .regression import (
    asymmetric_mse_loss,
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mean_absolute_percentage_error,
    mean_squared_log_error,
    mse_loss,
    quantile_loss,
    smooth_l1_loss,
)
from .rl import (
    actor_critic_loss,
    double_q_learning_loss,
    entropy_loss,
    expected_sarsa_loss,
    general_off_policy_returns,
    general_off_policy_returns_from_action_values,
    lambda_returns,
    n_step_returns,
    policy_gradient_loss,
    ppo_clip_loss,
    q_learning_loss,
    sac_actor_loss,
    sac_critic_loss,
    sac_temperature_loss,
    sarsa_loss,
    td_lambda_loss,
    td_loss,
    vtrace_policy_gradient_loss,
    vtrace_returns,
)
from .segmentation import (
    boundary_distance_map,
    boundary_loss,
    combo_loss,
    dice_ce_loss,
    dice_focal_loss,
    dice_loss,
    focal_tversky_loss,
    generalized_dice_loss,
    generalized_wasserstein_dice_loss,
    hausdorff_dt_loss,
    jaccard_loss,
    lovasz_hinge_loss,
    lovasz_softmax_loss,
    masked_dice_loss,
    mcc_loss,
    signed_distance_map,
    tversky_loss,
)
from .sequence import ctc_loss
from .sparse import (
    convex_kl_divergence,
    entmax15_loss,
    entmax_bisect_loss,
    generalized_kl_divergence,
    multiclass_perceptron_loss,
    multiclass_sparsemax_loss,
    perceptron_loss,
    safe_softmax_cross_entropy,
    sparsemax_loss,
)


def __getattr__(name: str):
    # the framework front doors import their framework, so only when first used
    if name in ("nn", "keras"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: family module -> its public functions, in documentation order
FAMILIES: dict[str, tuple[str, ...]] = {
    module.__name__.rpartition(".")[2]: tuple(module.__all__)
    for module in (regression, classification, classification_extras, probabilistic, margin, helpers,
                   metric, segmentation, detection, sequence, generative, rl, multitask, ranking,
                   sparse, ordinal)
}

__all__ = [
    # regression
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "log_cosh_loss",
    "quantile_loss",
    "asymmetric_mse_loss",
    "mean_squared_log_error",
    "mean_absolute_percentage_error",
    # classification
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "linear_cross_entropy",
    # classification_extras
    "poly1_cross_entropy",
    "distillation_loss",
    "generalized_cross_entropy",
    "soft_f1_loss",
    # probabilistic
    "gaussian_nll_loss",
    "poisson_nll_loss",
    # margin
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "margin_ranking_loss",
    "cosine_embedding_loss",
    "cosine_similarity_loss",
    "hinge_loss",
    "squared_hinge_loss",
    "multiclass_hinge_loss",
    # helpers
    "class_weights",
    "pos_weight_from_counts",
    "smooth_labels",
    # metric
    "pairwise_distance",
    "cosine_similarity",
    "contrastive_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "batch_hard_triplet_loss",
    "batch_all_triplet_loss",
    "semi_hard_triplet_loss",
    "batch_hard_mining",
    "semi_hard_mining",
    "info_nce_loss",
    "nt_xent_loss",
    "supervised_contrastive_loss",
    "clip_loss",
    "barlow_twins_loss",
    "arcface_loss",
    "cosface_loss",
    "sphereface_loss",
    "multi_similarity_loss",
    "circle_loss",
    "proxy_anchor_loss",
    "proxy_nca_loss",
    # segmentation
    "dice_loss",
    "jaccard_loss",
    "tversky_loss",
    "focal_tversky_loss",
    "generalized_dice_loss",
    "lovasz_softmax_loss",
    "lovasz_hinge_loss",
    "boundary_loss",
    "dice_ce_loss",
    "combo_loss",
    "signed_distance_map",
    "masked_dice_loss",
    "mcc_loss",
    "dice_focal_loss",
    "hausdorff_dt_loss",
    "boundary_distance_map",
    "generalized_wasserstein_dice_loss",
    # detection
    "box_iou_loss",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
    # sequence
    "ctc_loss",
    # generative
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gradient_penalty",
    "r1_penalty",
    "r2_penalty",
    "path_length_penalty",
    "path_length_mean_update",
    "gaussian_kl_divergence",
    "vae_loss",
    "perceptual_loss",
    # rl
    "td_loss",
    "q_learning_loss",
    "double_q_learning_loss",
    "sarsa_loss",
    "expected_sarsa_loss",
    "td_lambda_loss",
    "n_step_returns",
    "lambda_returns",
    "vtrace_returns",
    "general_off_policy_returns",
    "general_off_policy_returns_from_action_values",
    "policy_gradient_loss",
    "vtrace_policy_gradient_loss",
    "entropy_loss",
    "actor_critic_loss",
    "ppo_clip_loss",
    "sac_critic_loss",
    "sac_actor_loss",
    "sac_temperature_loss",
    # multitask
    "uncertainty_weighted_loss",
    "dynamic_weight_average",
    "gradnorm_loss",
    "renormalize_task_weights",
    "curriculum_weights",
    "self_paced_weights",
    "super_loss",
    # ranking
    "ranking_softmax_loss",
    "poly1_softmax_loss",
    "listmle_loss",
    "pairwise_hinge_loss",
    "pairwise_logistic_loss",
    "pairwise_mse_loss",
    "approx_ndcg_loss",
    "approx_mrr_loss",
    # sparse
    "sparsemax_loss",
    "multiclass_sparsemax_loss",
    "entmax15_loss",
    "entmax_bisect_loss",
    "perceptron_loss",
    "multiclass_perceptron_loss",
    "generalized_kl_divergence",
    "convex_kl_divergence",
    "safe_softmax_cross_entropy",
    # ordinal
    "ordinal_targets",
    "coral_loss",
    "corn_loss",
    "cumulative_link_loss",
]
