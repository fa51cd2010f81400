import numpy as np

from ... import probabilistic as L
from ..case import Case, Peer
from . import _peers as P


def _tf(name, **kw):
    return Peer(f"torch.nn.functional.{name}", "torch", lambda **a: getattr(P.F(), name)(**a, **kw))


def _gauss(var_shape):
    def gen(rng, n):
        return {"input": rng.normal(size=(n, 3)), "target": rng.normal(size=(n, 3)),
                "var": rng.uniform(0.2, 2.0, size=var_shape(n))}

    return gen


def _gauss_small_var(rng, n):
    # var below eps and exactly 0: torch's clamp (value eps, gradient straight through)
    v = rng.uniform(0.2, 2.0, size=(n, 3))
    v[0, 0] = 0.0
    v[1, 1] = 1e-9
    v[2, 2] = 1e-3
    return {"input": rng.normal(size=(n, 3)), "target": rng.normal(size=(n, 3)), "var": v}


def _gauss_float_var(var, **kw):
    return Peer("torch.nn.functional.gaussian_nll_loss(var=float)", "torch",
                lambda input, target: P.F().gaussian_nll_loss(input, target, var, **kw))


CASES = [
    Case(L.gaussian_nll_loss, _gauss(lambda n: (n, 3)), {}, diff=("input", "target", "var"),
         vmap=("input", "target", "var"), dynamic=True, peers=(_tf("gaussian_nll_loss"),)),
    Case(L.gaussian_nll_loss, _gauss(lambda n: (n, 3)), {"full": True, "reduction": "none"}, name="full_none",
         diff=("input", "var"), peers=(_tf("gaussian_nll_loss", full=True, reduction="none"),)),
    Case(L.gaussian_nll_loss, _gauss(lambda n: (n,)), {"reduction": "sum"}, name="var_homoscedastic",
         diff=("input", "var"), peers=(_tf("gaussian_nll_loss", reduction="sum"),)),
    Case(L.gaussian_nll_loss, _gauss(lambda n: (n, 1)), {}, name="var_size1_axis", diff=("input", "var"),
         peers=(_tf("gaussian_nll_loss"),)),
    Case(L.gaussian_nll_loss, _gauss(lambda n: (1, 3)), {"eps": 1e-3}, name="var_size1_batch", diff=("input", "var"),
         peers=(_tf("gaussian_nll_loss", eps=1e-3),)),
    Case(L.gaussian_nll_loss, lambda rng, n: {"input": rng.normal(size=(n, 3)), "target": rng.normal(size=(n, 3))},
         {"var": 0.7, "full": True}, name="var_float", diff=("input", "target"), peers=(_gauss_float_var(0.7, full=True),)),
    Case(L.gaussian_nll_loss, _gauss_small_var, {"reduction": "sum"}, name="var_below_eps", fd=False,
         diff=("input", "var"), dtypes=("float64", "float32"), peers=(_tf("gaussian_nll_loss", reduction="sum"),)),
]


def _pois_log(rng, n):
    return {"input": rng.normal(size=(n, 4)), "target": rng.poisson(2.0, size=(n, 4)).astype(np.float64)}


def _pois_rate(rng, n):
    return {"input": rng.uniform(0.1, 4.0, size=(n, 4)), "target": rng.poisson(2.0, size=(n, 4)).astype(np.float64)}


def _pois_soft(rng, n):
    # real-valued targets away from the Stirling switch at 1
    t = rng.uniform(0.0, 5.0, size=(n, 4))
    t = np.where(np.abs(t - 1) < 0.05, 1.5, t)
    return {"input": rng.normal(size=(n, 4)), "target": t}


def _pois_zero_rate(rng, n):
    d = _pois_rate(rng, n)
    d["input"][0] = 0.0
    d["target"][1] = 0.0
    return d


CASES += [
    Case(L.poisson_nll_loss, _pois_log, {}, vmap=("input", "target"), dynamic=True, peers=(_tf("poisson_nll_loss"),)),
    Case(L.poisson_nll_loss, _pois_log, {"full": True, "reduction": "none"}, name="full_none",
         peers=(_tf("poisson_nll_loss", full=True, reduction="none"),)),
    Case(L.poisson_nll_loss, _pois_rate, {"log_input": False, "full": True, "reduction": "sum"}, name="rate_full",
         peers=(_tf("poisson_nll_loss", log_input=False, full=True, reduction="sum"),)),
    Case(L.poisson_nll_loss, _pois_soft, {"full": True}, name="target_grad", diff=("input", "target")),
    # a rate of exactly 0 (domain boundary: no finite differences)
    Case(L.poisson_nll_loss, _pois_zero_rate, {"log_input": False, "eps": 1e-4}, name="zero_rate", fd=False,
         dtypes=("float64", "float32"), peers=(_tf("poisson_nll_loss", log_input=False, eps=1e-4),)),
]

# tests/test_edges.py: value domains of array arguments and per-function hyper-parameter ranges
DOMAINS = {
    "gaussian_nll_loss": {"var": "nonneg"},
    # torch computes a number for negative counts; we refuse them (docs/differences.md)
    "poisson_nll_loss": {"target": "nonneg"},
}

HYPER_RANGES = {
    "gaussian_nll_loss": {"eps": (0.0,)},
}
