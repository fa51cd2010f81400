import numpy as np

from ... import regression as L
from ..case import Case, Peer
from . import _peers as P


def _pair(rng, n, shape=(5,)):
    return {"input": rng.normal(size=(n, *shape)) * 2, "target": rng.normal(size=(n, *shape)) * 2}


def _weighted(rng, n):
    d = _pair(rng, n)
    d["weight"] = rng.uniform(0.1, 2.0, size=(n, 5))
    return d


def _kinks(at):
    """input - target exactly on the kinks 0, +-at (and away from them)."""

    # exact kinks need (t + at) - t == at: integer-valued targets
    def gen_exact(rng, n):
        t = rng.integers(-3, 4, size=(n, 4)).astype(np.float64)
        offs = np.array([0.0, at, -at, 0.3 * at + 0.1])
        return {"input": t + offs, "target": t}

    return gen_exact


def _torch_weighted(fn):
    # torch divides weighted means by numel; ours by sum(weight) (docs/differences.md)
    def peer(input, target, weight):
        return (fn(input, target, reduction="none") * weight).sum() / weight.sum()

    return peer


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
        Case(loss, _weighted, dict(hyper), name="weighted", diff=("input", "weight"),
             peers=(Peer(f"{tname} weighted (sum w l / sum w)", "torch",
                         _torch_weighted(lambda i, t, tname=tname, hyper=hyper, **k: getattr(P.F(), tname)(i, t, **hyper, **k))),)),
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
