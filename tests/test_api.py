"""The public API as users and type checkers see it: one name per concept, one default per
name (or a written reason), annotations on every public function, one return type.

The vocabulary below is the library's: a new parameter name must be added here (and to
docs/vocabulary.md) with its meaning; a second name for a concept that already has one is
refused by ``FORBIDDEN``.
"""
from __future__ import annotations

import inspect
import typing
from pathlib import Path

import numpy as np
import pytest

import losses
from losses import _typing as T

ROOT = Path(__file__).resolve().parents[1]

# name -> meaning. Positional data arguments and keyword hyper-parameters alike.
VOCABULARY = {
    # data
    "input": "predictions (logits, probabilities or values, as the function says)",
    "target": "what input is compared with (values, class indices or probabilities); "
              "gradient_penalty: the norm the gradients are pulled to; distillation_loss: "
              "optional hard class targets",
    "input1": "first input of a torch pair loss", "input2": "second input of a torch pair loss",
    "x1": "first batch of vectors (torch's distance functions, contrastive pairs)",
    "x2": "second batch of vectors",
    "z1": "embeddings of the first view (self-supervised losses)", "z2": "embeddings of the second view",
    "anchor": "triplet anchors", "positive": "triplet positives", "negative": "triplet negatives",
    "embeddings": "(N, D) embeddings of a batch",
    "labels": "(N,) integer labels of embeddings; ranking: (..., list_size) relevance labels",
    "query": "InfoNCE queries", "positive_key": "InfoNCE positive keys",
    "negative_keys": "InfoNCE negative keys",
    "image_embeddings": "CLIP image embeddings", "text_embeddings": "CLIP text embeddings",
    "logit_scale": "CLIP's inverse temperature",
    "var": "predicted variances", "boxes1": "predicted boxes (x1, y1, x2, y2)",
    "boxes2": "target boxes (x1, y1, x2, y2)", "distance_maps": "signed distance maps of the target",
    "mask": "per-pixel weights of the region a loss is restricted to (0: removed)",
    "input_distance_maps": "distance maps of the (thresholded) prediction",
    "target_distance_maps": "distance maps of the target",
    "dist_matrix": "(C, C) distances between classes (MONAI's name)",
    "weighting_mode": "class weighting of the Wasserstein Dice (MONAI's name)",
    "log_probs": "log-probabilities over classes (CTC: (T, N, C))",
    "targets": "CTC's padded or concatenated target sequences (torch's name)",
    "input_lengths": "CTC input lengths", "target_lengths": "CTC target lengths",
    "student_logits": "distillation student logits", "teacher_logits": "distillation teacher logits",
    "real_logits": "critic logits of real samples", "fake_logits": "critic logits of generated samples",
    "gradients": "per-sample gradients: the critic's at the interpolates (gradient_penalty), the "
                 "discriminator's (r1/r2_penalty), the generator's J^T y (path_length_penalty)",
    "mean_path_length": "the running mean of the path lengths (StyleGAN2's pl_mean)", "mu": "posterior means",
    "logvar": "posterior log-variances", "feature_extractor": "callable returning feature maps",
    "v_tm1": "values at t-1", "r_t": "rewards", "discount_t": "discounts", "v_t": "values at t",
    "logits": "policy logits", "actions": "integer actions", "advantages": "advantage estimates",
    "values": "value predictions", "returns": "return targets",
    "log_prob": "log-probability of the taken action (new policy)",
    "old_log_prob": "log-probability of the taken action (behaviour policy)",
    "q_tm1": "Q-values at t-1 (..., actions)", "a_tm1": "integer actions at t-1", "q_t": "Q-values at t",
    "a_t": "integer actions at t", "q_t_value": "Q-values at t that value the bootstrap action",
    "q_t_selector": "Q-values at t that select the bootstrap action", "probs_a_t": "action probabilities at t",
    "rho_tm1": "importance ratios pi/mu at t-1",
    "c_t": "off-policy traces at t (Retrace, Tree-backup, Q(lambda), importance sampling)",
    "focal_spatial_mean": "the focal term averages each (sample, channel) over its pixels first (MONAI's sum)", "clip_rho_threshold": "V-trace clip of the importance ratios",
    "clip_pg_rho_threshold": "V-trace clip of the policy-gradient ratios",
    "q1_tm1": "first critic's Q-values at t-1", "q2_tm1": "second critic's Q-values at t-1",
    "q1_t": "first target critic's Q-values at t", "q2_t": "second target critic's Q-values at t",
    "log_prob_t": "log-probability of the next action (current policy)",
    "q1": "first critic's Q-values", "q2": "second critic's Q-values",
    "log_alpha": "log of the SAC temperature", "target_entropy": "SAC's target entropy",
    "losses": "per-task or per-sample losses", "log_vars": "per-task log-variances",
    "loss_history": "per-task loss history", "grad_norms": "per-task gradient norms",
    "loss_ratios": "per-task loss ratios", "task_weights": "per-task weights",
    "difficulty": "per-sample difficulty", "progress": "the curriculum's current difficulty threshold",
    "threshold": "self-paced threshold", "counts": "class counts",
    "n_pos": "positive counts", "n_neg": "negative counts", "num_classes": "number of classes",
    "levels": "integer ordinal levels (ranks 0..K-1)", "cutpoints": "ordered cut-points of a cumulative-link model",
    # reductions and weights
    "reduction": "'mean' | 'sum' | 'none' (+ 'batchmean' in kl_div)",
    "weight": "element, sample or class weights (torch's name); None: unweighted",
    "pos_weight": "weight of positive targets (torch's name)",
    "ce_weight": "class weights of the cross-entropy term of a compound loss (MONAI's name)",
    "layer_weights": "weights of the feature layers",
    "ignore_index": "target value whose positions are ignored",
    "linear_weight": "weight (V, D) of the linear head whose logits the loss computes (torch's name); "
                     "the margin softmax losses: the (C, D) class weights",
    "proxies": "(C, D) class proxies of the proxy losses (pml's name)",
    "linear_bias": "bias (V,) of that linear head (torch's name)",
    "chunk_size": "how many rows (or (rows, classes)) of logits are computed at a time",
    "group": "the devices/processes that each hold a shard of the batch (None: local; torch: a "
             "process group or 'world'; JAX: the mapped axis name); docs/distributed.md",
    # shared hyper-parameters
    "axis": "the class (or feature) axis", "eps": "small positive number for numerical stability",
    "margin": "margin of a margin loss", "p": "norm degree (torch's name) / exponent of multi_margin_loss",
    "temperature": "softmax temperature (ranking: the temperature of the sigmoid smooth ranks)", "label_smoothing": "label smoothing amount in [0, 1]",
    "from_logits": "input holds logits (True) or probabilities (False)",
    "normalize": "L2-normalise the embeddings first",
    "rescale": "rescale the weights to average 1",
    "criterion": "the element-wise loss that compares (e.g. 'mse', 'l1', 'huber', 'bce')",
    "distance": "distance between embeddings ('euclidean', 'squared', 'cosine')",
    "distance_function": "callable distance (torch's name)",
    "stop_target_gradients": "no gradient through the bootstrap target (rlax's name)",
    "lambda_": "the λ of the paper (trade-off or trace decay)",
    "dtype": "floating dtype of a built array",
    # loss-specific (Greek/Latin letters keep their paper's meaning, see each docstring)
    "alpha": "paper's α", "beta": "paper's β", "gamma": "paper's γ (focusing exponent; r1/r2_penalty: the regulariser's weight)",
    "delta": "Huber threshold (torch's name)", "q": "paper's q (quantile or GCE exponent)",
    "tau": "paper's τ", "epsilon": "the Poly-1 coefficient ε (optax's name)",
    "alpha_fp": "Tversky weight of false positives", "beta_fn": "Tversky weight of false negatives",
    "full": "add the constant term (torch's name)", "log_input": "input holds log-rates (torch)",
    "log_target": "target holds log-probabilities (torch)", "swap": "distance swap (torch)",
    "keepdim": "keep the reduced axis (torch's name)", "blank": "CTC blank index",
    "zero_infinity": "infeasible CTC paths give 0 (torch)", "batch_first": "CTC (N, T, C) layout",
    "average": "how per-class F1 scores combine (sklearn's 'binary' | 'micro' | 'macro' ...)",
    "mean_over": "what a 'mean' divides by: the weight sum or the element count ('weights' | "
                 "'elements'); a mining loss's triplets ('valid' | 'nonzero'); contrastive pairs "
                 "('elements' | 'nonzero' | 'pos_neg' | 'pos_neg_nonzero', pml's reducers); SupCon's "
                 "anchors or positive pairs ('valid' | 'pairs')",
    "soft_margin": "softplus instead of the hinge", "negatives": "which negative a miner takes (semi-hard: 'closest' | 'all'; batch-hard: 'hard' | 'easy')",
    "positives": "which positive batch-hard mining takes ('hard' | 'easy')",
    "indices_tuple": "explicit triplets (a, p, n) or pairs (a1, p, a2, n) of row indices, or a miner's Triplets "
                     "(pytorch-metric-learning's name)",
    "negative_mode": "InfoNCE negatives shared or per query", "directions": "NT-Xent direction combination",
    "base_temperature": "SupCon's base temperature", "correction": "Bessel correction of the std",
    "denominator": "what a contrastive softmax runs over ('all' others | 'negatives' and the pair's positive)",
    "squared": "squared distances", "over_penalty": "factor on over-predictions",
    "clip_min": "clip both arguments at this minimum first", "percent": "scale by 100",
    "mode": "'binary' | 'multiclass' | 'multilabel' segmentation targets",
    "batch": "pool statistics over the batch", "include_background": "keep class 0",
    "smooth": "additive smoothing of numerator and denominator", "smooth_dr": "smoothing of the denominator",
    "squared_denominator": "squared terms in the Dice denominator (V-Net)",
    "mask_absent": "classes with no target pixel get loss 0 (still counted by the mean; smp's rule)",
    "weight_type": "generalized Dice class weighting", "classes": "which classes a loss keeps (Lovász: averages)",
    "log_loss": "-log(score) instead of 1 - score (smp's name)",
    "soft_label": "overlap formula for soft targets (MONAI's name)",
    "per_image": "compute per image, then average", "lambda_dice": "weight of the Dice term",
    "lambda_ce": "weight of the cross-entropy term", "spacing": "voxel spacing",
    "lambda_focal": "weight of the focal term",
    "kind": "GAN loss variant", "one_sided": "penalise only norms above the target",
    "n": "number of steps", "value_coef": "weight of the value loss", "entropy_coef": "weight of the entropy bonus",
    "clip_range": "PPO clipping range (SB3's name)", "normalize_advantages": "standardise the advantages",
    "precision_scale": "factor on the precision term", "log_var_scale": "factor on the log-variance term",
    "total": "sum the weights are renormalised to", "regime": "self-paced weighting regime",
    "method": "class-weight formula", "target_encoding": "targets in {-1, 1} ('pm1') or {0, 1} ('01')",
    "scores": "ranking scores (..., list_size)",
    "where": "boolean mask of the valid items of ranking lists (rax's name)",
    "n_iter": "number of iterations of a fixed-length solver (bisection)",
    "interval": "lazy regularisation: the penalty is applied every interval minibatches and multiplied by it",
    "decay": "rate of an exponential moving average (a' = a + decay (x - a))",
    "scale": "multiplier of the cosine logits of the margin softmax and proxy losses (pml's scale / softmax_scale)",
    "base": "the similarity offset of the multi-similarity loss (pml's name; the paper's λ)",
}

# names that must not come back: each is a second name for a concept above
FORBIDDEN = {
    "weights": "weight", "stop_target_gradient": "stop_target_gradients", "lam": "lambda_",
    "clip_eps": "clip_range", "loss": "criterion", "reconstruction": "criterion",
    "pred": "input", "recon": "input", "x": "target", "smoothing": "label_smoothing",
}

# name -> the default everywhere, with exceptions {function: (default, reason)}
DEFAULTS = {
    "reduction": ("mean", {
        "barlow_twins_loss": ("sum", "the paper's objective is a sum over the correlation matrix"),
        "uncertainty_weighted_loss": ("sum", "the objective sums the weighted task losses"),
        "gradnorm_loss": ("sum", "the objective sums over tasks (Chen et al. 2018)"),
    }),
    "weight": (None, {}), "pos_weight": (None, {}), "ce_weight": (None, {}),
    "ignore_index": (-100, {f: (None, "MONAI/smp segmentation losses ignore nothing by default")
                            for f in ("dice_loss", "jaccard_loss", "tversky_loss", "focal_tversky_loss",
                                      "generalized_dice_loss", "lovasz_softmax_loss", "lovasz_hinge_loss",
                                      "dice_ce_loss", "combo_loss", "masked_dice_loss", "mcc_loss",
                                      "dice_focal_loss", "hausdorff_dt_loss",
                                      "generalized_wasserstein_dice_loss")}),
    "label_smoothing": (0.0, {"smooth_labels": (0.1, "building smoothed labels is its purpose")}),
    "from_logits": (True, {
        "boundary_loss": (False, "the reference SurfaceLoss takes softmax probabilities"),
        "soft_f1_loss": (False, "macro soft-F1 is defined on probabilities"),
    }),
    "axis": (None, {f: (-1, "rlax's convention: actions on the last axis")
                    for f in ("q_learning_loss", "double_q_learning_loss", "sarsa_loss", "expected_sarsa_loss",
                              "policy_gradient_loss", "vtrace_policy_gradient_loss", "entropy_loss",
                              "actor_critic_loss", "general_off_policy_returns_from_action_values")} | {
        "cosine_similarity": (-1, "optax's axis (docs/differences.md)"),
        "cosine_similarity_loss": (-1, "optax.cosine_distance's axis"),
        "soft_f1_loss": (-1, "(N, C) multi-label scores, classes last"),
        "smooth_labels": (-1, "one-hot labels, classes last (optax.smooth_labels)"),
    }),
    "normalize": (True, {f: (False, "TF-Addons and pml mining take the embeddings as given")
                         for f in ("batch_hard_triplet_loss", "batch_all_triplet_loss",
                                   "semi_hard_triplet_loss", "batch_hard_mining", "semi_hard_mining")}),
    "mean_over": ("weights", {
        **{f: ("valid", "the mining losses' mean is over triplets (valid or non-zero ones)")
           for f in ("batch_hard_triplet_loss", "batch_all_triplet_loss", "semi_hard_triplet_loss")},
        "circle_loss": ("valid", "the mean over the anchors with a positive and a negative"),
        "contrastive_loss": ("elements", "the mean over the pairs, as torch's hinge_embedding_loss"),
        "supervised_contrastive_loss": ("valid", "SupCon's mean over the anchors with a positive"),
        **{f: ("elements", "torch's twin divides a weighted mean by the number of elements")
           for f in ("binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss",
                     "multilabel_soft_margin_loss", "multi_margin_loss")},
    }),
    "include_background": (True, {"boundary_loss": (False, "Kervadec et al. leave the background out"),
                                  "hausdorff_dt_loss": (False, "MONAI's HausdorffDTLoss leaves the background out")}),
    "mode": ("multiclass", {"combo_loss": ("binary", "Taghanaki et al. define the binary case")}),
    "smooth": (0.0, {"combo_loss": (1.0, "the paper's smoothing")}),
    "per_image": (False, {"lovasz_hinge_loss": (True, "the reference lovasz_hinge default")}),
    "stop_target_gradients": (False, {f: (True, "rlax's default for its TD errors: a TD target is fixed")
                                      for f in ("td_loss", "q_learning_loss", "double_q_learning_loss",
                                                "sarsa_loss", "expected_sarsa_loss", "td_lambda_loss")}),
    "swap": (False, {}), "full": (False, {}), "log_target": (False, {}), "keepdim": (False, {}),
    "zero_infinity": (False, {}), "blank": (0, {}), "batch": (False, {}), "mask_absent": (False, {}),
    "dtype": (None, {"signed_distance_map": ("float64", "a NumPy/SciPy helper: float64 maps"),
                     "boundary_distance_map": ("float64", "a NumPy/SciPy helper: float64 maps")}),
    "rescale": (True, {}), "group": (None, {}),
}


# functions whose reduction= is not exactly "mean" | "sum" | "none"
REDUCTION_HINTS = {
    "kl_div": T.ReductionBatchmean,  # torch's "batchmean"
    "dice_ce_loss": T.ScalarReduction,  # the Dice and CE terms have different shapes
    "combo_loss": T.ScalarReduction,
    "proxy_anchor_loss": T.ScalarReduction,  # the terms are per proxy, not per sample
    "dice_focal_loss": T.ScalarReduction,
}


def _public():
    return [(name, getattr(losses, name)) for name in losses.__all__]


def test_all_is_a_literal_list_of_the_families():
    assert losses.__all__ == [n for names in losses.FAMILIES.values() for n in names]
    assert len(set(losses.__all__)) == len(losses.__all__)
    for family, names in losses.FAMILIES.items():
        module = getattr(losses, family)
        assert tuple(module.__all__) == names, family
        for n in names:
            assert getattr(module, n) is getattr(losses, n)


@pytest.mark.parametrize("name,fn", _public())
def test_parameter_names_are_the_vocabulary(name, fn):
    for p in inspect.signature(fn).parameters.values():
        assert p.name not in FORBIDDEN, f"{name}({p.name}=): the library's name is {FORBIDDEN[p.name]!r}"
        assert p.name in VOCABULARY, (
            f"{name}({p.name}=) is not in the vocabulary: add it to tests/test_api.py and "
            "docs/vocabulary.md with its meaning, or use the existing name for the concept")


@pytest.mark.parametrize("name,fn", _public())
def test_defaults_are_the_vocabulary_defaults(name, fn):
    for p in inspect.signature(fn).parameters.values():
        if p.name not in DEFAULTS or p.default is inspect.Parameter.empty:
            continue
        default, exceptions = DEFAULTS[p.name]
        want = exceptions[name][0] if name in exceptions else default
        assert p.default == want and type(p.default) is type(want), (
            f"{name}({p.name}={p.default!r}): the vocabulary default is {want!r}")


def test_default_exceptions_name_real_functions():
    for pname, (_, exceptions) in DEFAULTS.items():
        for fname in exceptions:
            assert pname in inspect.signature(getattr(losses, fname)).parameters, (pname, fname)


def test_hyper_parameters_are_keyword_only():
    data_like = {"logit_scale", "negative_keys", "num_classes"}  # optional data arguments
    for name, fn in _public():
        for p in inspect.signature(fn).parameters.values():
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not inspect.Parameter.empty:
                assert p.name in data_like, f"{name}: {p.name} should be keyword-only"


def test_vocabulary_is_documented():
    text = (ROOT / "docs" / "vocabulary.md").read_text()
    missing = [n for n in VOCABULARY if f"`{n}`" not in text]
    assert not missing, f"docs/vocabulary.md does not list {missing}"
    for pname, (_, exceptions) in DEFAULTS.items():
        for fname in exceptions:
            assert f"`{fname}`" in text, f"docs/vocabulary.md does not give the reason for {fname}({pname}=)"


@pytest.mark.parametrize("name,fn", _public())
def test_every_public_function_is_annotated(name, fn):
    hints = typing.get_type_hints(fn)
    assert "return" in hints, f"{name} has no return annotation"
    for p in inspect.signature(fn).parameters.values():
        assert p.name in hints, f"{name}({p.name}) has no annotation"
    if "reduction" in hints:
        want = REDUCTION_HINTS.get(name, T.Reduction)
        assert hints["reduction"] == want, f"{name}: reduction is annotated {hints['reduction']}"


def _first_cases():
    from losses.conformance.cases import all_cases

    seen = {}
    for case in all_cases():
        seen.setdefault(case.loss_name, case)
    return list(seen.values())


@pytest.mark.parametrize("case", _first_cases(), ids=lambda c: c.loss_name)
def test_numpy_results_are_arrays_not_scalars(case):
    """The array API's answer: 0-d arrays, never NumPy scalars (``float(loss)`` gives a
    Python number, e.g. for ``json.dumps``)."""
    rng = np.random.default_rng(0)
    allowed = typing.get_args(REDUCTION_HINTS.get(case.loss_name, T.Reduction))
    for reduction in allowed:
        kwargs = dict(case.kwargs)
        if "reduction" in inspect.signature(case.loss).parameters:
            kwargs["reduction"] = reduction
        elif reduction != "mean":
            continue
        out = case.loss(**case.gen(rng, 8), **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        for o in outs:
            assert type(o) is np.ndarray, f"{case.loss_name}(reduction={reduction!r}) returned {type(o)}"


def test_every_family_is_four_files():
    """One family = the module, its conformance cases, its tests and its docs page."""
    for family in losses.FAMILIES:
        for path in (f"losses/{family}.py", f"conformance/cases/{family}.py", f"tests/test_{family}.py",
                     f"docs/{family}.md"):
            assert (ROOT / path).is_file(), f"family {family!r} has no {path}"
    # not families: the command line and the framework front doors (losses.nn, losses.keras)
    modules = {p.stem for p in (ROOT / "losses").glob("[a-z]*.py")} - {"__main__", "nn", "keras"}
    assert modules == set(losses.FAMILIES), f"modules that are not families: {modules - set(losses.FAMILIES)}"


def test_readme_table_names_each_function_by_its_family_module():
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].strip("`") in losses.__all__:
            rows[cells[0].strip("`")] = cells[1]
    for family, names in losses.FAMILIES.items():
        for n in names:
            assert rows.get(n) == family, f"README lists {n} under {rows.get(n)!r}, its module is {family!r}"


def test_import_losses_imports_neither_torch_nor_keras():
    """The framework front doors load their framework only when used (losses.nn, losses.keras)."""
    import subprocess
    import sys

    code = ("import sys, losses\n"
            "print(sorted(m for m in ('torch', 'keras', 'jax', 'tensorflow') if m in sys.modules))\n"
            "losses.nn.MSELoss\n"
            "print(sorted(m for m in ('torch', 'keras') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    if out.returncode and "losses[torch]" in out.stderr:
        pytest.skip("torch is not installed")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["[]", "['torch']"]


@pytest.mark.parametrize("front_door,framework,extra", [("nn", "torch", "losses[torch]"), ("keras", "keras", "losses[keras]")])
def test_front_door_without_its_framework_names_the_extra(front_door, framework, extra):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] == {framework!r}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import losses\n"
        "try:\n"
        f"    import losses.{front_door}\n"
        "except ImportError as err:\n"
        "    print('ERR', err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ERR") and extra in out.stdout
