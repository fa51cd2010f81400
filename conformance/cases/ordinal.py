import numpy as np

from ... import ordinal as L
from ..case import Case, Peer
from . import _peers as P

K = 5  # levels


def _coral():
    import coral_pytorch.dataset
    import coral_pytorch.losses

    return coral_pytorch


def _levels(rng, n):
    return {"levels": rng.integers(0, K, size=(n,))}


def _coral_args(rng, n):
    y = rng.integers(0, K, size=(n,))
    return {"input": rng.normal(size=(n, K - 1)) * 2, "target": (y[:, None] > np.arange(K - 1)).astype(np.float64)}


def _coral_weighted(rng, n):
    d = _coral_args(rng, n)
    d["task_weights"] = rng.uniform(0.2, 2.0, size=(K - 1,))
    return d


def _corn_args(rng, n):
    y = rng.integers(0, K, size=(n,))
    y[0] = 0  # a sample that enters one task only
    return {"input": rng.normal(size=(n, K - 1)) * 2, "target": y}


def _clm(rng, n):
    return {"input": rng.normal(size=(n,)) * 2, "target": rng.integers(0, K, size=(n,)),
            "cutpoints": np.array([-2.0, -0.5, 0.3, 1.7])}


def _clm_far(rng, n):
    # scores far outside the cut-points (probabilities that underflow a naive difference)
    d = _clm(rng, n)
    d["input"][::2] = 60.0
    d["input"][1::2] = -60.0
    d["target"][:] = np.resize(np.array([K - 1, 0, 0, K - 1, 2]), (n,))
    d["weight"] = rng.uniform(0.5, 1.5, size=(n,))
    return d


def _torch_clm(input, target, cutpoints, weight=None):
    """-log(sigma(theta_y - eta) - sigma(theta_{y-1} - eta)), written out in torch."""
    torch = P.torch()
    inf = torch.full((1,), float("inf"), dtype=cutpoints.dtype)
    padded = torch.cat([-inf, cutpoints, inf])
    loss = -torch.log(torch.sigmoid(padded[target + 1] - input) - torch.sigmoid(padded[target] - input))
    return loss.mean() if weight is None else (loss * weight).sum() / weight.sum()


def _torch_clm_log(input, target, cutpoints, weight):
    """The same likelihood in log space through logsigmoid (finite far from the cut-points)."""
    torch, F = P.torch(), P.F()
    inf = torch.full((1,), float("inf"), dtype=cutpoints.dtype)
    padded = torch.cat([-inf, cutpoints, inf])
    lo, hi = padded[target], padded[target + 1]
    log_p = F.logsigmoid(hi - input) + F.logsigmoid(input - lo) + torch.log(-torch.expm1(-(hi - lo)))
    return (-log_p * weight).sum() / weight.sum()


CASES = [
    Case(L.ordinal_targets, _levels, {"num_classes": K}, diff=(), vmap=("levels",),
         peers=(Peer("coral_pytorch.dataset.levels_from_labelbatch", "torch",
                     lambda levels: _coral().dataset.levels_from_labelbatch(levels, K, dtype=P.torch().float64),
                     grad=False, requires="coral_pytorch"),)),
    Case(L.coral_loss, _coral_args, {}, vmap=("input", "target"), dynamic=True,
         peers=(Peer("coral_pytorch.losses.coral_loss", "torch",
                     lambda input, target: _coral().losses.coral_loss(input, target), requires="coral_pytorch"),)),
    Case(L.coral_loss, _coral_weighted, {"reduction": "none"}, name="task_weights", diff=("input", "task_weights"),
         dtypes=("float64", "float32"),
         peers=(Peer("coral_pytorch.losses.coral_loss(importance_weights)", "torch",
                     lambda input, target, task_weights: _coral().losses.coral_loss(
                         input, target, importance_weights=task_weights, reduction=None),
                     requires="coral_pytorch"),)),
    Case(L.corn_loss, _corn_args, {}, vmap=None, dynamic=True,
         peers=(Peer("coral_pytorch.losses.corn_loss", "torch",
                     lambda input, target: _coral().losses.corn_loss(input, target, K), requires="coral_pytorch"),)),
    Case(L.cumulative_link_loss, _clm, {}, diff=("input", "cutpoints"), vmap=("input", "target"), dynamic=True,
         peers=(Peer("sigmoid-difference likelihood (torch)", "torch", _torch_clm),)),
    Case(L.cumulative_link_loss, _clm_far, {}, name="far_scores_weighted", diff=("input", "cutpoints", "weight"),
         dtypes=("float64", "float32"),
         peers=(Peer("log-space likelihood (torch logsigmoid)", "torch", _torch_clm_log),)),
]

# value domains checked eagerly (tests/test_edges.py)
DOMAINS = {
    "ordinal_targets": {"levels": "class"},
    "coral_loss": {"target": "prob"},
    "corn_loss": {"target": "class"},
    "cumulative_link_loss": {"target": "class"},
}
