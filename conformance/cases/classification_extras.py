import numpy as np

from ... import classification_extras as L
from ..case import Case, Peer
from . import _peers as P


def _idx(rng, n, c=5):
    return {"input": rng.normal(size=(n, c)) * 2, "target": rng.integers(0, c, size=(n,))}


def _idx_w_ignore(rng, n, c=5):
    t = rng.integers(0, c, size=(n,))
    t[::3] = -100
    return {"input": rng.normal(size=(n, c)) * 2, "target": t, "weight": rng.uniform(0.2, 2.0, size=(c,))}


def _idx_seq(rng, n, c=4, length=3):
    return {"input": rng.normal(size=(n, c, length)), "target": rng.integers(0, c, size=(n, length))}


def _probs(rng, n, c=5):
    y = rng.uniform(size=(n, c))
    return {"input": rng.normal(size=(n, c)) * 2, "target": y / y.sum(-1, keepdims=True)}


def _onehot_last(rng, n, c=5):
    t = rng.integers(0, c, size=(n,))
    return {"input": rng.normal(size=(n, c)) * 2, "target": np.eye(c)[t]}


def _logits_1e4(rng, n, c=4):
    # one dominant logit per row (no ties between huge logits, whose rounding is ill-conditioned)
    z = rng.normal(size=(n, c))
    z[:, 0] = 1e4
    z[1::2, 1] = -1e4
    return {"input": z, "target": rng.integers(0, c, size=(n,))}


def _torch_ce(**kw):
    return Peer("torch.nn.functional.cross_entropy", "torch", lambda input, target, **a: P.F().cross_entropy(input, target, **a, **kw))


def _torch_poly1(eps, **kw):
    def fn(input, target, weight=None):
        F, torch = P.F(), P.torch()
        ce = F.cross_entropy(input, target, weight=weight, reduction="none", **kw)
        keep = target != kw.get("ignore_index", -100)
        safe = torch.where(keep, target, torch.zeros_like(target))
        pt = torch.softmax(input, 1).gather(1, safe[:, None])[:, 0]
        w = keep.to(input.dtype) if weight is None else torch.where(keep, weight[safe], torch.zeros_like(pt))
        loss = ce + w * eps * (1 - pt)
        return loss.sum() / w.sum()

    return Peer("torch cross_entropy + eps (1 - p_t)", "torch", fn)


CASES = [
    Case(L.poly1_cross_entropy, _idx, {}, vmap=("input", "target"), dynamic=True, peers=(_torch_poly1(2.0),)),
    Case(L.poly1_cross_entropy, _idx_w_ignore, {"epsilon": -0.5}, name="weight_ignore",
         peers=(_torch_poly1(-0.5),)),  # torch has no gradient wrt weight
    Case(L.poly1_cross_entropy, _idx_w_ignore, {"epsilon": 1.0, "reduction": "sum"}, name="weight_grad",
         diff=("input", "weight")),
    Case(L.poly1_cross_entropy, _idx, {"epsilon": 0.0}, name="eps0_is_ce", peers=(_torch_ce(),)),
    Case(L.poly1_cross_entropy, _probs, {"epsilon": 1.0, "axis": -1, "reduction": "none"}, name="probs_optax",
         diff=("input", "target"),
         peers=(Peer("optax.poly_loss_cross_entropy", "jax",
                     lambda input, target: P.optax().losses.poly_loss_cross_entropy(input, target, epsilon=1.0),
                     requires="optax"),)),
    Case(L.poly1_cross_entropy, _idx_seq, {"reduction": "sum"}, name="seq"),
    Case(L.poly1_cross_entropy, _logits_1e4, {"reduction": "sum"}, name="logits_1e4", fd=False,
         dtypes=("float64", "float32", "bfloat16")),
]


def _kd(rng, n, c=5):
    return {"student_logits": rng.normal(size=(n, c)) * 2, "teacher_logits": rng.normal(size=(n, c)) * 2}


def _kd_target(rng, n, c=5):
    d = _kd(rng, n, c)
    d["target"] = rng.integers(0, c, size=(n,))
    return d


def _kd_seq(rng, n, c=4, length=3):
    return {"student_logits": rng.normal(size=(n, c, length)), "teacher_logits": rng.normal(size=(n, c, length))}


def _kd_1e4(rng, n, c=4):
    s, t = rng.normal(size=(n, c)), rng.normal(size=(n, c))
    s[:, 0], s[1::2, 1] = 1e4, -1e4
    t[:, 1], t[::2, 2] = 1e4, -1e4
    return {"student_logits": s, "teacher_logits": t}


def _torch_kd(T, alpha=None):
    def fn(student_logits, teacher_logits, target=None):
        F = P.F()
        soft = F.kl_div(F.log_softmax(student_logits / T, 1), F.log_softmax(teacher_logits / T, 1),
                        reduction="batchmean", log_target=True) * T * T
        if target is None:
            return soft
        return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, target)

    return Peer("T^2 torch kl_div(batchmean) [+ cross_entropy]", "torch", fn)


CASES += [
    Case(L.distillation_loss, _kd, {"temperature": 4.0}, diff=("student_logits", "teacher_logits"),
         vmap=("student_logits", "teacher_logits"), dynamic=True, peers=(_torch_kd(4.0),)),
    Case(L.distillation_loss, _kd_target, {"temperature": 2.0, "alpha": 0.3}, name="hard_target",
         diff=("student_logits", "teacher_logits"), peers=(_torch_kd(2.0, 0.3),)),
    Case(L.distillation_loss, _kd_seq, {"temperature": 0.5, "reduction": "none"}, name="seq_none",
         diff=("student_logits", "teacher_logits")),
    # values ~1e5 built from logits of 1e4 / T: a few more roundings than one eps per element.
    # float64 only: in float32 log-probabilities of ~-3e3 carry absolute errors of ulp(3e3) ~ 2e-4,
    # which the gradient inherits (finiteness in float32 is a unit test)
    # the gradients here are differences of log-probability gaps of size ~7e3 that cancel to 0:
    # a compiled program (eager JAX runs one) rounds them to a few ulp of 7e3, ~1e-12
    Case(L.distillation_loss, _kd_1e4, {"temperature": 3.0, "reduction": "sum"}, name="logits_1e4", fd=False,
         diff=("student_logits", "teacher_logits"), dtypes=("float64",), tol=2.0 ** 14),
]


def _gce_keras(q):
    # the Keras-style one-hot implementation: (1 - sum(y * softmax(z), -1) ** q) / q
    def fn(input, target):
        torch = P.torch()
        return ((1 - (target * torch.softmax(input, -1)).sum(-1) ** q) / q)

    return Peer("Keras-style (1 - sum(y * softmax) ** q) / q", "torch", fn)


CASES += [
    Case(L.generalized_cross_entropy, _idx, {}, vmap=("input", "target"), dynamic=True),
    Case(L.generalized_cross_entropy, _idx_w_ignore, {"q": 0.4}, name="weight_ignore", diff=("input", "weight")),
    Case(L.generalized_cross_entropy, _idx, {"q": 0.0}, name="q0_is_ce", peers=(_torch_ce(),)),
    Case(L.generalized_cross_entropy, _idx, {"q": 1.0, "reduction": "none"}, name="q1_mae"),
    Case(L.generalized_cross_entropy, _onehot_last, {"q": 0.7, "axis": -1, "reduction": "none"}, name="onehot_keras",
         peers=(_gce_keras(0.7),)),
    Case(L.generalized_cross_entropy, _probs, {"q": 0.5, "axis": -1}, name="probs", diff=("input", "target")),
    Case(L.generalized_cross_entropy, _idx_seq, {"reduction": "sum"}, name="seq"),
    Case(L.generalized_cross_entropy, _logits_1e4, {"reduction": "sum"}, name="logits_1e4", fd=False,
         dtypes=("float64", "float32", "bfloat16")),
]


def _f1(rng, n, c=4):
    return {"input": rng.uniform(0.05, 0.95, size=(n, c)), "target": (rng.uniform(size=(n, c)) < 0.5).astype(np.float64)}


def _f1_empty(rng, n, c=4):
    d = _f1(rng, n, c)
    d["target"][:, 0] = 0.0
    d["input"][:, 0] = 0.0  # an empty class: no positives, no predicted mass
    d["target"][:, 1] = 0.0  # no positives, some predicted mass
    return d


def _macro_soft_f1_tf(input, target):
    # Maiza's macro_soft_f1 (TensorFlow) transcribed to torch: eps 1e-16, sums over axis 0
    tp = (input * target).sum(0)
    fp = (input * (1 - target)).sum(0)
    fn = ((1 - input) * target).sum(0)
    return (1 - 2 * tp / (2 * tp + fn + fp + 1e-16)).mean()


CASES += [
    # 0/1 targets sit on the boundary of their domain: no finite differences wrt target there
    Case(L.soft_f1_loss, _f1, {}, dynamic=True),
    Case(L.soft_f1_loss, _f1, {"average": "macro"}, name="macro",
         peers=(Peer("macro_soft_f1 (Maiza 2019)", "torch", _macro_soft_f1_tf),)),
    Case(L.soft_f1_loss, _f1, {"average": "macro", "reduction": "none"}, name="macro_none"),
    Case(L.soft_f1_loss, lambda rng, n: {"input": rng.normal(size=(n, 3)) * 3, "target": rng.uniform(size=(n, 3))},
         {"from_logits": True, "average": "macro", "axis": 1, "eps": 1e-7}, name="logits_soft_labels",
         diff=("input", "target")),
    Case(L.soft_f1_loss, _f1_empty, {"average": "macro", "reduction": "none"}, name="empty_class", fd=False),
    Case(L.soft_f1_loss, lambda rng, n: {"input": np.zeros((n, 2)), "target": np.zeros((n, 2))}, {"eps": 0.0},
         name="all_empty_eps0", fd=False),
]


# tests/test_edges.py: value domains of array arguments and per-function hyper-parameter ranges
DOMAINS = {
    "poly1_cross_entropy": {"target": "class"},
    "generalized_cross_entropy": {"target": "class"},
    "soft_f1_loss": {"input": "prob", "target": "prob"},
}

HYPER_RANGES = {
    "poly1_cross_entropy": {"epsilon": (-2.0, float("inf"))},
    "generalized_cross_entropy": {"q": (-0.1, 1.5)},
}
