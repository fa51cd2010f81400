import numpy as np

from ... import regression as L
from ..case import Case, Peer
from . import _peers as P


def _pair(rng, n, shape=(5,)):
    return {"input": rng.normal(size=(n, *shape)) * 2, "target": rng.normal(size=(n, *shape)) * 2}


def _weighted(rng, n, shape=(5,)):
    d = _pair(rng, n, shape)
    d["weight"] = rng.uniform(0.1, 2.0, size=(n, *shape))
    return d


def _kinks(at):
    """input - target exactly on the kinks 0, +-at (and away from them)."""

    # exact kinks need (t + at) - t == at: integer-valued targets
    def gen_exact(rng, n):
        t = rng.integers(-3, 4, size=(n, 4)).astype(np.float64)
        offs = np.array([0.0, at, -at, 0.3 * at + 0.1])
        return {"input": t + offs, "target": t}

    return gen_exact


def _torch_weighted(fn, mean_over):
    # a weighted mean from torch's element-wise loss: sum(w l) / sum(w) or sum(w l) / numel
    def peer(input, target, weight):
        total = (fn(input, target, reduction="none") * weight).sum()
        return total / (weight.sum() if mean_over == "weights" else weight.numel())

    return peer


#: the mean_over default of each torch twin with ``weight=`` (torch 2.13: mse_loss and l1_loss
#: divide by sum(weight), huber_loss by numel); smooth_l1_loss has no weight in torch
_TORCH_MEAN_OVER = {"mse_loss": "weights", "l1_loss": "weights", "huber_loss": "elements"}
_OTHER = {"weights": "elements", "elements": "weights"}


def _tw(name, **kw):
    return Peer(f"torch.nn.functional.{name}", "torch", lambda input, target: getattr(P.F(), name)(input, target, **kw))


CASES = []
for loss, tname, hyper, kink_at in [
    (L.mse_loss, "mse_loss", {}, None),
    (L.l1_loss, "l1_loss", {}, 0.0),
    (L.huber_loss, "huber_loss", {"delta": 1.5}, 1.5),
    (L.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.5}, 0.5),
]:
    CASES += [
        Case(loss, _pair, dict(hyper), diff=("input", "target"), vmap=("input", "target"),
             dynamic=True, peers=(_tw(tname, **hyper),)),
        Case(loss, _pair, dict(hyper, reduction="none"), name="none", peers=(_tw(tname, reduction="none", **hyper),)),
        Case(loss, _pair, dict(hyper, reduction="sum"), name="sum"),
    ]

    def _el(i, t, tname=tname, hyper=hyper, **k):
        return getattr(P.F(), tname)(i, t, **hyper, **k)

    default = _TORCH_MEAN_OVER.get(tname, "weights")
    # the default: torch's own weight= where it has one, else the weight-sum mean
    twin = (Peer(f"torch.nn.functional.{tname}(weight=)", "torch",
                 lambda input, target, weight, tname=tname, hyper=hyper:
                 getattr(P.F(), tname)(input, target, weight=weight, **hyper))
            if tname in _TORCH_MEAN_OVER else
            Peer(f"{tname} weighted (sum w l / sum w)", "torch", _torch_weighted(_el, "weights")))
    other = _OTHER[default]
    CASES += [
        Case(loss, _weighted, dict(hyper), name="weighted", diff=("input", "weight"), peers=(twin,)),
        Case(loss, _weighted, dict(hyper, mean_over=other), name=f"weighted_mean_over_{other}",
             diff=("input", "weight"),
             peers=(Peer(f"{tname} weighted (sum w l / {'sum w' if other == 'weights' else 'numel'})", "torch",
                         _torch_weighted(_el, other)),)),
    ]
    if kink_at is not None:
        CASES.append(Case(loss, _kinks(kink_at), dict(hyper, reduction="sum"), name="kinks", fd=False,
                          diff=("input", "target"), peers=(_tw(tname, reduction="sum", **hyper),)))

CASES += [
    Case(L.smooth_l1_loss, _pair, {"beta": 0.0}, name="beta0", peers=(_tw("smooth_l1_loss", beta=0.0),)),
    Case(L.log_cosh_loss, _pair, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True,
         peers=(Peer("optax.log_cosh", "jax", lambda input, target: P.optax().log_cosh(input, target).mean(),
                     requires="optax"),)),
    Case(L.log_cosh_loss, lambda rng, n: {"input": rng.normal(size=(n, 3)) * 1e4, "target": rng.normal(size=(n, 3))},
         {"reduction": "sum"}, name="large_1e4", dtypes=("float64", "float32", "bfloat16")),
    Case(L.log_cosh_loss, _weighted, {}, name="weighted", diff=("input", "weight")),
    Case(L.quantile_loss, _pair, {"q": 0.8}, diff=("input", "target"), vmap=("input", "target"), dynamic=True),
    Case(L.quantile_loss, _kinks(0.0), {"q": 0.3, "reduction": "none"}, name="kinks", fd=False),
    Case(L.quantile_loss, _weighted, {"q": 0.1}, name="weighted", diff=("input", "weight")),
]


def _reg(rng, n):
    return _pair(rng, n, (4,))


def _reg_w(rng, n):
    return _weighted(rng, n, (4,))


def _reg_ties(rng, n):
    t = rng.integers(-3, 4, size=(n, 4)).astype(np.float64)
    return {"input": t + np.array([0.0, 0.5, -0.5, 0.0]), "target": t}


def _pos(rng, n):
    return {"input": rng.uniform(0.0, 5.0, size=(n, 4)), "target": rng.uniform(0.0, 5.0, size=(n, 4))}


def _clip(rng, n):
    d = _reg(rng, n)
    d["input"] = np.abs(d["input"])
    d["input"][:, 0] = -0.5  # below the Keras clip
    d["target"][:, 1] = 1e-7  # exactly at it
    return d


def _mape_zero(rng, n):
    d = _reg(rng, n)
    d["target"][:, 0] = 0.0
    d["target"][:, 1] = 1e-9
    return d


CASES += [
    Case(L.asymmetric_mse_loss, _reg, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True),
    Case(L.asymmetric_mse_loss, _reg, {"over_penalty": 1.0}, name="penalty1_is_mse",
         peers=(Peer("torch.nn.functional.mse_loss", "torch", lambda input, target: P.F().mse_loss(input, target)),)),
    Case(L.asymmetric_mse_loss, _reg_w, {"over_penalty": 0.25, "reduction": "sum"}, name="weighted",
         diff=("input", "weight")),
    Case(L.asymmetric_mse_loss, _reg_ties, {"over_penalty": 3.0, "reduction": "none"}, name="kinks",
         diff=("input", "target"), fd=False),
    Case(L.mean_squared_log_error, _pos, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True),
    Case(L.mean_squared_log_error, _reg_w, {"clip_min": 1e-7}, name="keras_clip_weighted", diff=("input", "weight")),
    # exactly on the clip only in float64 (rounding 1e-7 to float32 moves it off the kink)
    Case(L.mean_squared_log_error, _clip, {"clip_min": 1e-7, "reduction": "none"}, name="clip_kinks",
         diff=("input", "target"), fd=False, dtypes=("float64",)),
    Case(L.mean_absolute_percentage_error, _reg, {}, diff=("input", "target"), vmap=("input", "target"), dynamic=True),
    Case(L.mean_absolute_percentage_error, _reg_w, {"percent": False, "eps": 2.220446049250313e-16},
         name="sklearn_weighted", diff=("input", "weight")),
    Case(L.mean_absolute_percentage_error, _mape_zero, {"reduction": "sum"}, name="zero_target",
         dtypes=("float64", "float32")),
    # zero targets give values ~1e9 (|d| / 1e-7): beyond float16's range
    Case(L.mean_absolute_percentage_error, _reg_ties, {"reduction": "none"}, name="kinks", fd=False,
         diff=("input", "target"), dtypes=("float64", "float32")),
]

# tests/test_edges.py: no array argument of a regression loss has a value domain beyond
# mean_squared_log_error's "> -1" (not one of the shared domains; its own unit test checks it)
DOMAINS = {}

HYPER_RANGES = {
    "smooth_l1_loss": {"beta": (-1.0, float("inf"))},
    "huber_loss": {"delta": (float("inf"),)},
    "quantile_loss": {"q": (-0.1, 1.5)},
    "asymmetric_mse_loss": {"over_penalty": (-1.0,)},
    "mean_absolute_percentage_error": {"eps": (0.0,)},
}
