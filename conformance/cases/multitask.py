import math

import numpy as np

from ... import multitask as L
from ..case import Case, Peer
from . import _peers as P

K = 3  # tasks


def _uw(rng, n):
    return {"losses": rng.uniform(0.05, 3.0, size=(n, K)), "log_vars": rng.normal(size=(K,))}


def _uw_task_vector(rng, n):
    return {"losses": rng.uniform(0.05, 3.0, size=(K,)), "log_vars": rng.normal(size=(K,)) * 0.5}


def _torch_widely_copied(losses, log_vars):
    torch = P.torch()
    return torch.sum(torch.exp(-log_vars) * losses + log_vars)


def _dwa(rng, n):
    return {"loss_history": rng.uniform(0.2, 2.0, size=(5, K))}


def _dwa_short(rng, n):
    return {"loss_history": rng.uniform(0.2, 2.0, size=(1, K))}


def _dwa_zero_prev(rng, n):
    h = rng.uniform(0.2, 2.0, size=(2, n, K))
    h[0, 0, 1] = 0.0
    return {"loss_history": h}


def _jax_dwa(loss_history):
    import jax

    r = loss_history[-1] / loss_history[-2]
    return K * jax.nn.softmax(r / 2.0, axis=-1)


def _gn(rng, n):
    return {"grad_norms": rng.uniform(0.1, 3.0, size=(K,)), "loss_ratios": rng.uniform(0.3, 1.0, size=(K,))}


def _gn_batched(rng, n):
    return {"grad_norms": rng.uniform(0.1, 3.0, size=(n, K)), "loss_ratios": rng.uniform(0.3, 1.0, size=(n, K))}


def _gn_kink(rng, n):
    # equal loss ratios: the target is mean(G) = 2 = G[1] (kink of |G - target|)
    return {"grad_norms": np.array([1.0, 2.0, 3.0]), "loss_ratios": np.full((K,), 0.5)}


def _torch_gradnorm(alpha):
    def peer(grad_norms, loss_ratios):
        torch = P.torch()
        g_bar = grad_norms.mean(-1, keepdim=True)
        r = loss_ratios / loss_ratios.mean(-1, keepdim=True)
        target = (g_bar * r ** alpha).detach()
        return torch.abs(grad_norms - target).sum()

    return peer


def _renorm(rng, n):
    return {"task_weights": rng.uniform(0.1, 2.0, size=(n, K))}


def _difficulty(rng, n):
    return {"difficulty": rng.uniform(0.0, 1.0, size=(n,))}


def _difficulty_progress(rng, n):
    d = _difficulty(rng, n)
    d["progress"] = np.asarray(0.6)
    return d


def _sp(rng, n):
    return {"losses": rng.uniform(0.0, 2.0, size=(n,))}


def _sl(rng, n):
    # losses around tau = log 4: easy samples below the clamp at beta = -2/e, hard ones above
    return {"losses": rng.uniform(0.0, 4.0, size=(n,))}


def _sl_zero(rng, n):
    return {"losses": np.zeros((n,))}


def _sl_large(rng, n):
    return {"losses": rng.uniform(0.0, 1.0, size=(n,)) * 1e4}


def _sl_tau_array(rng, n):
    d = _sl(rng, n)
    d["tau"] = np.asarray(1.3)
    return d


CASES = [
    Case(L.uncertainty_weighted_loss, _uw, {}, diff=("losses", "log_vars"), vmap=("losses",), dynamic=True),
    Case(L.uncertainty_weighted_loss, _uw_task_vector, {"precision_scale": 1.0, "log_var_scale": 1.0},
         name="widely_copied", diff=("losses", "log_vars"),
         peers=(Peer("sum(exp(-s) L + s)", "torch", _torch_widely_copied),)),
    Case(L.uncertainty_weighted_loss, _uw_task_vector, {"precision_scale": (0.5, 1.0, 1.0), "reduction": "none"},
         name="regression_and_classification", diff=("losses", "log_vars")),
    # weights under stop-gradient: value checks only
    Case(L.dynamic_weight_average, _dwa, {}, diff=(),
         peers=(Peer("K softmax(L(t-1) / L(t-2) / T) (JAX)", "jax", _jax_dwa),)),
    Case(L.dynamic_weight_average, _dwa_short, {"temperature": 0.5}, name="first_epochs", diff=()),
    Case(L.dynamic_weight_average, _dwa_zero_prev, {"temperature": 1.0}, name="zero_previous_loss", diff=()),
    Case(L.gradnorm_loss, _gn, {"alpha": 1.5}, diff=("grad_norms",), fd=False,
         peers=(Peer("paper formula (torch.abs, detached target)", "torch", _torch_gradnorm(1.5)),)),
    Case(L.gradnorm_loss, _gn_batched, {"alpha": 0.5, "reduction": "none"}, name="batched", diff=("grad_norms",),
         fd=False, vmap=("grad_norms", "loss_ratios"), dynamic=True),
    Case(L.gradnorm_loss, _gn_kink, {"alpha": 1.5}, name="kink", diff=("grad_norms",), fd=False,
         peers=(Peer("paper formula (torch.abs, detached target)", "torch", _torch_gradnorm(1.5)),)),
    Case(L.renormalize_task_weights, _renorm, {}, diff=("task_weights",), vmap=("task_weights",), dynamic=True),
    Case(L.renormalize_task_weights, _renorm, {"total": 1.0}, name="total_1", diff=("task_weights",)),
    Case(L.curriculum_weights, _difficulty, {"progress": 0.5}, diff=()),
    Case(L.curriculum_weights, _difficulty, {"progress": -1.0}, name="empty", diff=()),
    Case(L.curriculum_weights, _difficulty, {"progress": 0.5, "rescale": False}, name="mask", diff=()),
    Case(L.curriculum_weights, _difficulty_progress, {}, name="progress_array", diff=()),
    Case(L.self_paced_weights, _sp, {"threshold": 1.0}, diff=()),
    Case(L.self_paced_weights, _sp, {"threshold": 1.2, "regime": "linear"}, name="linear", diff=()),
    Case(L.self_paced_weights, _sp, {"threshold": 0.0}, name="none_selected", diff=()),
    Case(L.super_loss, _sl, {"tau": math.log(4.0)}, diff=("losses",), vmap=("losses",), dynamic=True),
    Case(L.super_loss, _sl, {"tau": 2.0, "lambda_": 0.25, "reduction": "none"}, name="lambda_quarter", diff=("losses",)),
    Case(L.super_loss, _sl_zero, {"tau": 1.0}, name="zero_losses_branch_point", diff=("losses",)),
    Case(L.super_loss, _sl_large, {"tau": 1.0, "reduction": "sum"}, name="large_1e4", diff=("losses",),
         dtypes=("float64", "float32")),
    Case(L.super_loss, _sl_tau_array, {}, name="tau_array", diff=("losses",)),
]

# value domains of the array arguments that are checked eagerly (tests/test_edges.py)
DOMAINS = {
    "gradnorm_loss": {"grad_norms": "nonneg", "loss_ratios": "nonneg"},
}

# bad values of hyper-parameters beyond the per-name RANGES of tests/test_edges.py
HYPER_RANGES = {
    "uncertainty_weighted_loss": {"precision_scale": (-1.0, math.inf), "log_var_scale": (-1.0, math.inf)},
    "gradnorm_loss": {"alpha": (-1.0, math.inf)},
    "super_loss": {"lambda_": (0.0, -1.0, math.inf)},
}
