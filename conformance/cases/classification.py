import numpy as np

from ... import classification as L
from ..case import Case, Peer
from . import _peers as P

C = 5


def _logits(rng, n, scale=2.0):
    return rng.normal(size=(n, C)) * scale


def _ce(rng, n):
    return {"input": _logits(rng, n), "target": rng.integers(0, C, size=(n,))}


def _ce_ignore(rng, n):
    d = _ce(rng, n)
    d["target"][::3] = -100
    d["weight"] = rng.uniform(0.2, 2.0, size=(C,))
    return d


def _ce_all_ignored(rng, n):
    return {"input": _logits(rng, n), "target": np.full((n,), -100, dtype=np.int64)}


def _ce_spatial(rng, n):
    return {"input": rng.normal(size=(n, C, 3, 2)), "target": rng.integers(0, C, size=(n, 3, 2)).astype(np.int32)}


def _ce_extreme(rng, n):
    z = _logits(rng, n)
    z[:, 0] = 1e4
    z[1::2, 1] = -1e4
    t = rng.integers(0, C, size=(n,))
    return {"input": z, "target": t}


def _ce_probs(rng, n):
    y = rng.uniform(size=(n, C))
    return {"input": _logits(rng, n), "target": y / y.sum(1, keepdims=True), "weight": rng.uniform(0.5, 2, size=(C,))}


def _ce_seq(rng, n):
    t = rng.integers(0, 7, size=(2, n))
    t[:, -2:] = -100  # padding
    return {"input": rng.normal(size=(2, n, 7)), "target": t}


def _t(name, **kw):
    return lambda **a: getattr(P.F(), name)(**{k: v for k, v in a.items()}, **kw)


def _pw(kwargs):
    return dict(kwargs)


def _optax_int(input, target):
    return P.optax().softmax_cross_entropy_with_integer_labels(input, target).mean()


CASES = [
    Case(L.cross_entropy, _ce, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy")),
                Peer("optax.softmax_cross_entropy_with_integer_labels", "jax", _optax_int, requires="optax"))),
    Case(L.cross_entropy, _ce_ignore, {"label_smoothing": 0.1}, name="weight_ignore_smoothing", diff=("input", "weight"),
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy", label_smoothing=0.1),
                     diff=("input",)),)),
    Case(L.cross_entropy, _ce_ignore, {"reduction": "none"}, name="none_ignore",
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy", reduction="none")),)),
    Case(L.cross_entropy, _ce_all_ignored, {}, name="all_ignored", finite=False, fd=False,
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy"), grad=False),)),
    Case(L.cross_entropy, _ce_all_ignored, {"reduction": "sum"}, name="all_ignored_sum"),
    Case(L.cross_entropy, _ce_spatial, {"label_smoothing": 0.2, "reduction": "sum"}, name="spatial",
         peers=(Peer("torch.nn.functional.cross_entropy", "torch",
                     lambda input, target: P.F().cross_entropy(input, target.long(), label_smoothing=0.2, reduction="sum")),)),
    Case(L.cross_entropy, _ce_extreme, {}, name="logits_1e4", dtypes=("float64", "float32", "bfloat16"),
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy")),)),
    Case(L.cross_entropy, _ce_probs, {"label_smoothing": 0.05}, name="prob_targets", diff=("input", "target", "weight"),
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy", label_smoothing=0.05)),)),
    # mean_over="elements": sum_i w_{y_i} l_i over every position (ignored ones included) / N
    Case(L.cross_entropy, _ce_ignore, {"mean_over": "elements"}, name="weight_ignore_mean_over_elements",
         diff=("input", "weight"),
         peers=(Peer("cross_entropy(reduction='sum') / N", "torch",
                     lambda input, target, weight: P.F().cross_entropy(input, target, weight=weight, reduction="sum")
                     / target.numel(), diff=("input",)),)),
    Case(L.cross_entropy, _ce_seq, {"axis": -1}, name="sequence_axis_last",
         peers=(Peer("torch F.cross_entropy on (B, V, L)", "torch",
                     lambda input, target: P.F().cross_entropy(input.permute(0, 2, 1), target)),)),
]


def _nll(rng, n):
    z = _logits(rng, n)
    return {"input": z - np.log(np.exp(z).sum(1, keepdims=True)), "target": rng.integers(0, C, size=(n,))}


def _nll_int16(rng, n):
    d = _nll(rng, n)
    d["target"] = d["target"].astype(np.int16)  # any integer dtype
    return d


def _nll_w(rng, n):
    d = _nll(rng, n)
    d["target"][1] = -1
    d["weight"] = rng.uniform(0.2, 2.0, size=(C,))
    return d


CASES += [
    Case(L.nll_loss, _nll, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("torch.nn.functional.nll_loss", "torch",
                     lambda input, target: P.F().nll_loss(input, target.long())),)),
    Case(L.nll_loss, _nll_int16, {}, name="int16_target",
         peers=(Peer("torch.nn.functional.nll_loss", "torch",
                     lambda input, target: P.F().nll_loss(input, target.long())),)),
    Case(L.nll_loss, _nll_w, {"ignore_index": -1}, name="weight_ignore", diff=("input", "weight"),
         peers=(Peer("torch.nn.functional.nll_loss", "torch", _t("nll_loss", ignore_index=-1), diff=("input",)),)),
    Case(L.nll_loss, _nll_w, {"ignore_index": -1, "mean_over": "elements"}, name="weight_ignore_mean_over_elements",
         diff=("input", "weight"),
         peers=(Peer("nll_loss(reduction='sum') / N", "torch",
                     lambda input, target, weight: P.F().nll_loss(input, target, weight=weight, ignore_index=-1,
                                                                  reduction="sum") / target.numel(),
                     diff=("input",)),)),
    Case(L.nll_loss, _nll_w, {"ignore_index": -1, "reduction": "none"}, name="none",
         peers=(Peer("torch.nn.functional.nll_loss", "torch", _t("nll_loss", ignore_index=-1, reduction="none")),)),
]


def _probs(rng, n):
    return {"input": rng.uniform(0.02, 0.98, size=(n, 3)), "target": rng.uniform(size=(n, 3))}


def _probs_edge(rng, n):
    p = rng.uniform(0.1, 0.9, size=(n, 4))
    p[:, 0], p[:, 1] = 0.0, 1.0
    y = rng.integers(0, 2, size=(n, 4)).astype(np.float64)
    y[:, 0], y[:, 1] = 0.0, 1.0  # p exactly at the target: loss 0
    y[0, 2] = 1.0
    return {"input": p, "target": y}


def _probs_w(rng, n):
    d = _probs(rng, n)
    d["weight"] = rng.uniform(0.1, 2, size=(3,))
    return d


def _torch_w_mean(name, **kw):
    # the weight-sum mean (mean_over="weights") from torch's element-wise loss
    def peer(input, target, weight):
        l = getattr(P.F(), name)(input, target, reduction="none", **kw)
        return (l * weight).sum() / weight.expand_as(l).sum()

    return peer


def _torch_weight(name, **kw):
    # torch's own weight= (its weighted mean divides by the number of elements; torch has no
    # gradient with respect to weight)
    return Peer(f"torch.nn.functional.{name}(weight=)", "torch",
                lambda input, target, weight: getattr(P.F(), name)(input, target, weight=weight, **kw),
                diff=("input",))


CASES += [
    Case(L.binary_cross_entropy, _probs, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True,
         peers=(Peer("torch.nn.functional.binary_cross_entropy", "torch", _t("binary_cross_entropy")),)),
    Case(L.binary_cross_entropy, _probs_edge, {"reduction": "sum"}, name="p_0_and_1", fd=False, diff=(),
         peers=(Peer("torch.nn.functional.binary_cross_entropy", "torch", _t("binary_cross_entropy", reduction="sum"),
                     grad=False),)),
    Case(L.binary_cross_entropy, _probs_w, {}, name="weighted", diff=("input", "weight"),
         peers=(_torch_weight("binary_cross_entropy"),)),
    Case(L.binary_cross_entropy, _probs_w, {"mean_over": "weights"}, name="weighted_mean_over_weights",
         diff=("input", "weight"),
         peers=(Peer("binary_cross_entropy weighted (sum w l / sum w)", "torch", _torch_w_mean("binary_cross_entropy")),)),
    # Keras's binary label smoothing y (1 - eps) + eps / 2 (tests/test_classification.py: against Keras)
    Case(L.binary_cross_entropy, _probs, {"label_smoothing": 0.3}, name="label_smoothing", diff=("input", "target"),
         peers=(Peer("F.binary_cross_entropy(p, y * 0.7 + 0.15)", "torch",
                     lambda input, target: P.F().binary_cross_entropy(input, target * 0.7 + 0.15)),)),
]


def _bl(rng, n):
    return {"input": rng.normal(size=(n, 3)) * 3, "target": rng.uniform(size=(n, 3))}


def _bl_pw(rng, n):
    d = _bl(rng, n)
    d["pos_weight"] = rng.uniform(0.5, 3, size=(3,))
    d["weight"] = rng.uniform(0.5, 2, size=(n, 3))
    return d


def _bl_extreme(rng, n):
    z = rng.normal(size=(n, 4))
    z[:, 0], z[:, 1] = 1e4, -1e4
    y = rng.integers(0, 2, size=(n, 4)).astype(np.float64)
    return {"input": z, "target": y}


CASES += [
    Case(L.binary_cross_entropy_with_logits, _bl, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True,
         peers=(Peer("torch.nn.functional.binary_cross_entropy_with_logits", "torch", _t("binary_cross_entropy_with_logits")),
                Peer("optax.sigmoid_binary_cross_entropy", "jax",
                     lambda input, target: P.optax().sigmoid_binary_cross_entropy(input, target).mean(), requires="optax"))),
    Case(L.binary_cross_entropy_with_logits, _bl_pw, {"reduction": "sum"}, name="pos_weight",
         diff=("input", "pos_weight", "weight"),
         peers=(Peer("torch.nn.functional.binary_cross_entropy_with_logits", "torch",
                     _t("binary_cross_entropy_with_logits", reduction="sum"), diff=("input",)),)),
    Case(L.binary_cross_entropy_with_logits, _probs_w, {}, name="weighted", diff=("input", "weight"),
         peers=(_torch_weight("binary_cross_entropy_with_logits"),)),
    Case(L.binary_cross_entropy_with_logits, _probs_w, {"mean_over": "weights"}, name="weighted_mean_over_weights",
         diff=("input", "weight"),
         peers=(Peer("binary_cross_entropy_with_logits weighted (sum w l / sum w)", "torch",
                     _torch_w_mean("binary_cross_entropy_with_logits")),)),
    # a Python number where torch takes a tensor
    Case(L.binary_cross_entropy_with_logits, _bl, {"pos_weight": 2.5}, name="pos_weight_number",
         peers=(Peer("torch.nn.functional.binary_cross_entropy_with_logits(pos_weight=tensor)", "torch",
                     lambda input, target: P.F().binary_cross_entropy_with_logits(
                         input, target, pos_weight=P.torch().tensor(2.5, dtype=input.dtype))),)),
    Case(L.binary_cross_entropy_with_logits, _bl_extreme, {"reduction": "none"}, name="logits_1e4",
         dtypes=("float64", "float32", "bfloat16"),
         peers=(Peer("torch.nn.functional.binary_cross_entropy_with_logits", "torch",
                     _t("binary_cross_entropy_with_logits", reduction="none")),)),
    # label smoothing (Keras's convention); smp's SoftBCEWithLogitsLoss(smooth_factor=s) is eps = 2 s
    Case(L.binary_cross_entropy_with_logits, _bl, {"label_smoothing": 0.2}, name="label_smoothing",
         diff=("input", "target"),
         peers=(Peer("smp SoftBCEWithLogitsLoss(smooth_factor=0.1) formula", "torch",
                     lambda input, target: P.F().binary_cross_entropy_with_logits(
                         input, (1 - target) * 0.1 + target * (1 - 0.1))),)),
    Case(L.binary_cross_entropy_with_logits, _bl_pw, {"label_smoothing": 0.1, "reduction": "sum"},
         name="label_smoothing_pos_weight", diff=("input", "target", "pos_weight", "weight"),
         peers=(Peer("F.binary_cross_entropy_with_logits(z, y * 0.9 + 0.05, weight, pos_weight)", "torch",
                     lambda input, target, weight, pos_weight: P.F().binary_cross_entropy_with_logits(
                         input, target * 0.9 + 0.05, weight=weight, pos_weight=pos_weight, reduction="sum"),
                     diff=("input", "target")),)),
]


def _kl(rng, n):
    a, b = rng.normal(size=(n, C)), rng.uniform(size=(n, C))
    b[0, 0] = 0.0  # xlogy(0, 0) = 0
    return {"input": a - np.log(np.exp(a).sum(1, keepdims=True)), "target": b / b.sum(1, keepdims=True)}


def _kl_log(rng, n):
    a, b = rng.normal(size=(n, C)), rng.normal(size=(n, C))
    lsm = lambda z: z - np.log(np.exp(z).sum(1, keepdims=True))  # noqa: E731
    return {"input": lsm(a), "target": lsm(b)}


def _kl_interior(rng, n):
    # targets strictly inside (0, 1): every element can be moved, so the NaN/±inf variants of
    # target run (the random case holds a target exactly 0, where a move below is refused)
    d = _kl(rng, n)
    d["target"] = np.clip(d["target"], 0.01, None)
    return d


CASES += [
    Case(L.kl_div, _kl, {"reduction": "batchmean"}, diff=("input", "target"), fd=False, vmap=("input", "target"),
         dynamic=True, peers=(Peer("torch.nn.functional.kl_div", "torch", _t("kl_div", reduction="batchmean"),
                                   diff=("input",)),)),  # torch's d/dtarget is NaN at target == 0
    Case(L.kl_div, _kl, {}, name="mean", peers=(Peer("torch.nn.functional.kl_div", "torch", _t("kl_div")),)),
    Case(L.kl_div, _kl_interior, {"reduction": "none"}, name="interior_targets", diff=("input", "target"),
         peers=(Peer("torch.nn.functional.kl_div", "torch", _t("kl_div", reduction="none")),)),
    Case(L.kl_div, _kl_log, {"log_target": True, "reduction": "sum"}, name="log_target", diff=("input", "target"),
         peers=(Peer("torch.nn.functional.kl_div", "torch", _t("kl_div", log_target=True, reduction="sum")),)),
]


def _tv_focal(alpha, gamma, reduction="mean"):
    def peer(input, target):
        loss = P.torchvision_sigmoid_focal(input, target, alpha, gamma)
        return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]

    return peer


def _focal(rng, n):
    return {"input": rng.normal(size=(n, 4)) * 2, "target": rng.integers(0, 2, size=(n, 4)).astype(np.float64)}


def _focal_extreme(rng, n):
    d = _focal(rng, n)
    d["input"][:, 0] = 1e4
    d["input"][:, 1] = -1e4
    d["target"][:, 0], d["target"][:, 1] = 1.0, 0.0  # confidently right: (1 - p_t) == 0
    d["target"][0, 0] = 0.0  # confidently wrong
    return d


CASES += [
    Case(L.sigmoid_focal_loss, _focal, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("torchvision.ops.sigmoid_focal_loss formula", "torch", _tv_focal(0.25, 2.0)),
                Peer("optax.sigmoid_focal_loss", "jax",
                     lambda input, target: P.optax().sigmoid_focal_loss(input, target, alpha=0.25, gamma=2.0).mean(),
                     requires="optax"))),
    Case(L.sigmoid_focal_loss, _focal, {"alpha": -1, "gamma": 0.5, "reduction": "sum"}, name="no_alpha_gamma_half",
         peers=(Peer("torchvision.ops.sigmoid_focal_loss formula", "torch", _tv_focal(-1, 0.5, "sum")),)),
    Case(L.sigmoid_focal_loss, _focal_extreme, {"gamma": 0.5, "reduction": "sum"}, name="logits_1e4_gamma_half",
         dtypes=("float64", "float32", "bfloat16")),
    Case(L.sigmoid_focal_loss, _bl, {"gamma": 1.5}, name="soft_labels", diff=("input", "target"),
         peers=(Peer("torchvision.ops.sigmoid_focal_loss formula", "torch", _tv_focal(0.25, 1.5)),)),
]


def _sfocal_ref(gamma, alpha=None, ignore_index=-100):
    """Lin et al. multi-class focal loss written out with log_softmax (float64 reference)."""

    def peer(input, target, weight=None):
        torch = P.torch()
        logp = torch.log_softmax(input, dim=1)
        keep = target != ignore_index
        t = torch.where(keep, target, torch.zeros_like(target))
        lpt = logp.gather(1, t[:, None]).squeeze(1)
        loss = -((1 - lpt.exp()) ** gamma) * lpt * (1.0 if alpha is None else alpha)
        w = keep.to(input.dtype) if weight is None else weight[t] * keep
        return (loss * w).sum() / w.sum()

    return peer


def _sfocal_smooth_ref(gamma, eps, alpha=None, ignore_index=-100):
    """Label-smoothed multi-class focal loss with soft targets y' = (1-eps) onehot + eps/C,
    each class with its own focal factor (Keras's categorical_focal_crossentropy)."""

    def peer(input, target, weight=None):
        torch = P.torch()
        logp = torch.log_softmax(input, dim=1)
        keep = target != ignore_index
        t = torch.where(keep, target, torch.zeros_like(target))
        n_classes = input.shape[1]
        soft = (1 - eps) * torch.nn.functional.one_hot(t, n_classes).to(input.dtype) + eps / n_classes
        cw = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
        per = -(soft * cw * (1 - logp.exp()) ** gamma * logp).sum(1) * (1.0 if alpha is None else alpha)
        w_t = cw[t] * keep
        return (per * keep).sum() / w_t.sum()

    return peer


def _kornia_focal_times_size(alpha, gamma):
    """``kornia.losses.focal_loss(input, target, alpha, gamma, reduction="mean")`` (its source,
    kornia 0.7: one-hot masked per-class loss ``-(1 - p)^g log p``, class 0 weighted by
    ``1 - alpha`` and the others by ``alpha``, mean over N x C x positions) times
    ``C * target.numel()``: kornia is not installed here."""

    def peer(input, target, weight):  # weight: ours, the class weights that carry alpha
        torch = P.torch()
        n_classes = input.shape[1]
        one_hot = P.F().one_hot(target, n_classes).movedim(-1, 1).to(input.dtype)
        log_p = input.log_softmax(1)
        loss = -torch.pow(1.0 - log_p.exp(), gamma) * log_p * one_hot
        alpha_fac = torch.tensor([1 - alpha] + [alpha] * (n_classes - 1), dtype=input.dtype)
        loss = alpha_fac.view([-1] + [1] * (input.ndim - 2)) * loss
        return torch.mean(loss) * (n_classes * target.numel())

    return peer


#: the class weights that carry kornia's alpha=0.25 (class 0: 1 - alpha, the others: alpha)
_KORNIA_ALPHA = np.array([0.75] + [0.25] * (C - 1))


def _ce_kornia(rng, n):
    return {"input": rng.normal(size=(n, C, 3)), "target": rng.integers(0, C, size=(n, 3)), "weight": _KORNIA_ALPHA}


CASES += [
    Case(L.softmax_focal_loss, _ce, {"gamma": 2.0}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("multi-class focal loss (log_softmax formula)", "torch", _sfocal_ref(2.0)),)),
    Case(L.softmax_focal_loss, _ce_ignore, {"gamma": 0.5, "alpha": 0.25}, name="weight_ignore_gamma_half",
         diff=("input", "weight"),
         peers=(Peer("multi-class focal loss (log_softmax formula)", "torch", _sfocal_ref(0.5, 0.25)),)),
    # logits of 1e4 carry an absolute rounding error of ~1e4 * eps: scale the tolerance
    Case(L.softmax_focal_loss, _ce_extreme, {"gamma": 0.5}, name="logits_1e4", dtypes=("float64", "float32", "bfloat16"),
         tol=4096.0),
    # label smoothing: every class's focal term (Keras's categorical_focal_crossentropy)
    Case(L.softmax_focal_loss, _ce, {"gamma": 2.0, "alpha": 0.25, "label_smoothing": 0.1}, name="label_smoothing",
         vmap=("input", "target"),
         peers=(Peer("label-smoothed focal loss (soft targets, log_softmax)", "torch",
                     _sfocal_smooth_ref(2.0, 0.1, 0.25)),)),
    Case(L.softmax_focal_loss, _ce_ignore, {"gamma": 1.5, "label_smoothing": 0.3}, name="label_smoothing_weight_ignore",
         diff=("input", "weight"),
         peers=(Peer("label-smoothed focal loss (soft targets, log_softmax)", "torch",
                     _sfocal_smooth_ref(1.5, 0.3)),)),
    Case(L.softmax_focal_loss, _ce_extreme, {"gamma": 0.5, "label_smoothing": 0.2}, name="label_smoothing_logits_1e4",
         dtypes=("float64", "float32", "bfloat16"), tol=4096.0),
    Case(L.softmax_focal_loss, _ce, {"gamma": 0.0}, name="gamma0_is_cross_entropy",
         peers=(Peer("torch.nn.functional.cross_entropy", "torch", _t("cross_entropy")),)),
    Case(L.softmax_focal_loss, _ce_kornia, {"gamma": 2.0, "reduction": "sum"},
         name="kornia_alpha_mapping", diff=("input",),
         peers=(Peer("kornia.losses.focal_loss formula (x C * positions)", "torch", _kornia_focal_times_size(0.25, 2.0)),)),
]


_LCE_V, _LCE_D = 7, 4


def _lce(rng, n):
    return {"input": rng.normal(size=(n, _LCE_D)), "linear_weight": rng.normal(size=(_LCE_V, _LCE_D)),
            "target": rng.integers(0, _LCE_V, size=(n,)), "linear_bias": rng.normal(size=(_LCE_V,))}


def _lce_seq(rng, n):
    t = rng.integers(0, _LCE_V, size=(2, n))
    t[:, -2:] = -100  # padding
    return {"input": rng.normal(size=(2, n, _LCE_D)), "linear_weight": rng.normal(size=(_LCE_V, _LCE_D)),
            "target": t, "weight": rng.uniform(0.2, 2.0, size=(_LCE_V,))}


def _lce_ignore(rng, n):
    d = _lce(rng, n)
    d["target"][::3] = -100
    d["weight"] = rng.uniform(0.2, 2.0, size=(_LCE_V,))
    return d


def _lce_ignore_unweighted(rng, n):
    d = _lce(rng, n)
    d["target"][::3] = -100
    del d["linear_bias"]
    return d


def _torch_lce(chunked=False, **kw):
    """``F.linear_cross_entropy`` (torch 2.13), reference path or the chunked one; (B, L, D)
    inputs flattened to (B * L, D) (torch takes 2-D inputs)."""
    def peer(input, linear_weight, target, **arrays):
        F, torch = P.F(), P.torch()
        opts = torch.nn.LinearCrossEntropyOptions() if chunked else None
        out = F.linear_cross_entropy(input.reshape(-1, input.shape[-1]), linear_weight, target.reshape(-1),
                                     options=opts, **arrays, **kw)
        return out.reshape(target.shape) if kw.get("reduction") == "none" else out

    return peer


#: torch's chunked backward accumulates ``(p - y) @ W`` with BLAS, which may skip a zero factor
#: of an infinite head weight: +-inf there, where autodiff of the forward gives NaN (0 * inf)
_LCE_BLAS = (("linear_weight=*inf-torch-fast", "BLAS may skip 0 * inf: +-inf instead of NaN "
              "(docs/differences.md)"),)

CASES += [
    Case(L.linear_cross_entropy, _lce, {"chunk_size": (4, 4)}, diff=("input", "linear_weight", "linear_bias"),
         peers=(Peer("torch.nn.functional.linear_cross_entropy", "torch", _torch_lce()),
                Peer("torch.nn.functional.linear_cross_entropy(options=LinearCrossEntropyOptions())", "torch",
                     _torch_lce(chunked=True), rtol=1e-10, atol=1e-10)), edge_exemptions=_LCE_BLAS),
    # the default chunking holds every logit in one chunk: torch's F.linear + F.cross_entropy
    Case(L.linear_cross_entropy, _lce_ignore_unweighted, {"label_smoothing": 0.1}, name="one_chunk_smoothing_ignore",
         diff=("input", "linear_weight"),
         peers=(Peer("torch.nn.functional.linear_cross_entropy", "torch", _torch_lce(label_smoothing=0.1)),)),
    Case(L.linear_cross_entropy, _lce, {"mean_over": "elements", "reduction": "mean"}, name="one_chunk_bias",
         diff=("input", "linear_weight", "linear_bias")),
    Case(L.linear_cross_entropy, _lce_seq, {"label_smoothing": 0.1, "reduction": "none", "chunk_size": 8},
         name="sequence_weight_smoothing_none", diff=("input", "linear_weight", "weight"), costly_eager=True,
         edge_exemptions=_LCE_BLAS,
         vmap=("input", "target"),
         peers=(Peer("torch.nn.functional.linear_cross_entropy", "torch",
                     _torch_lce(label_smoothing=0.1, reduction="none"), diff=("input", "linear_weight")),)),
    Case(L.linear_cross_entropy, _lce_ignore, {"reduction": "sum"}, name="weight_ignore_sum",
         diff=("input", "linear_weight", "weight"), dtypes=("float64", "float32", "bfloat16"), costly_eager=True,
         edge_exemptions=_LCE_BLAS,
         peers=(Peer("torch.nn.functional.linear_cross_entropy(options=LinearCrossEntropyOptions())", "torch",
                     _torch_lce(chunked=True, reduction="sum"), rtol=1e-10, atol=1e-10,
                     diff=("input", "linear_weight")),)),
]

# tests/test_edges.py: value domains of array arguments and per-function hyper-parameter ranges
DOMAINS = {
    "binary_cross_entropy": {"input": "prob", "target": "prob"},
    "binary_cross_entropy_with_logits": {"target": "prob"},
    "cross_entropy": {"target": "class"},
    "nll_loss": {"target": "class"},
    "kl_div": {"target": "nonneg"},
    "sigmoid_focal_loss": {"target": "prob"},
    "softmax_focal_loss": {"target": "class"},
    "linear_cross_entropy": {"target": "class"},
}

HYPER_RANGES = {
    "sigmoid_focal_loss": {"alpha": (1.5, float("inf"))},
    "softmax_focal_loss": {"label_smoothing": (-0.1, 1.5)},
}
