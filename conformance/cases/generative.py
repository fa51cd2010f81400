"""Generative-model cases: GAN objectives, gradient penalty, Gaussian KL, VAE, perceptual."""
import math

import numpy as np

from ... import generative as L
from ...backends import namespace
from ..case import Case, Peer
from . import _peers as P


# ------------------------------------------------------------------------------------ GAN ----
def _away(x):
    """Move values off the hinge kinks at +-1 (low-precision rounding could land on them)."""
    return np.where(np.abs(np.abs(x) - 1) < 0.1, x + 0.3, x)


def _logits(rng, n):
    return {"real_logits": _away(rng.normal(size=(n, 1)) * 2), "fake_logits": _away(rng.normal(size=(n, 1)) * 2)}


def _fake(rng, n):
    return {"fake_logits": _away(rng.normal(size=(n, 1)) * 2)}


def _big(rng, n):
    s = np.where(rng.uniform(size=(n, 1)) < 0.5, -1e4, 1e4)
    return {"real_logits": s * rng.uniform(0.5, 1.0, size=(n, 1)), "fake_logits": -s * rng.uniform(0.5, 1.0, size=(n, 1))}


def _hinge_kinks(rng, n):
    # real exactly at 1 and fake exactly at -1 (the hinge kinks), and away from them
    r = np.resize(np.array([1.0, 0.5, 1.5, 1.0]), (n, 1))
    f = np.resize(np.array([-1.0, -0.5, -1.0, -1.5]), (n, 1))
    return {"real_logits": r, "fake_logits": f}


def _bce(F, z, y):
    return F.binary_cross_entropy_with_logits(z, y)


def _torch_disc(kind, eps=0.0):
    def peer(real_logits, fake_logits):
        torch, F = P.torch(), P.F()
        r, f = real_logits, fake_logits
        if kind in ("minimax", "non_saturating"):
            return _bce(F, r, torch.full_like(r, 1 - eps)) + _bce(F, f, torch.zeros_like(f))
        if kind == "wasserstein":
            return f.mean() - r.mean()
        if kind == "hinge":
            return F.relu(1 - r).mean() + F.relu(1 + f).mean()
        return 0.5 * F.mse_loss(r, torch.full_like(r, 1 - eps)) + 0.5 * F.mse_loss(f, torch.zeros_like(f))

    return Peer(f"torch formula ({kind})", "torch", peer)


def _torch_gen(kind):
    def peer(fake_logits):
        torch, F = P.torch(), P.F()
        f = fake_logits
        if kind == "minimax":
            return -_bce(F, f, torch.zeros_like(f))
        if kind == "non_saturating":
            return _bce(F, f, torch.ones_like(f))
        if kind in ("wasserstein", "hinge"):
            return -f.mean()
        return 0.5 * F.mse_loss(f, torch.ones_like(f))

    return Peer(f"torch formula ({kind})", "torch", peer)


_RF = ("real_logits", "fake_logits")
CASES = []
for _kind in L.GAN_KINDS:
    CASES += [
        Case(L.gan_discriminator_loss, _logits, {"kind": _kind}, name=_kind, diff=_RF, dynamic=True,
             peers=(_torch_disc(_kind),)),
        Case(L.gan_discriminator_loss, _logits, {"kind": _kind, "reduction": "none"}, name=f"{_kind}_none",
             diff=_RF, vmap=_RF),
        Case(L.gan_generator_loss, _fake, {"kind": _kind}, name=_kind, diff=("fake_logits",), dynamic=True,
             vmap=None, peers=(_torch_gen(_kind),)),
        Case(L.gan_generator_loss, _fake, {"kind": _kind, "reduction": "none"}, name=f"{_kind}_none",
             diff=("fake_logits",), vmap=("fake_logits",)),
    ]
CASES += [
    Case(L.gan_discriminator_loss, _logits, {"kind": "non_saturating", "label_smoothing": 0.25},
         name="label_smoothing", diff=_RF, peers=(_torch_disc("non_saturating", 0.25),)),
    Case(L.gan_discriminator_loss, _logits, {"kind": "least_squares", "label_smoothing": 0.1, "reduction": "sum"},
         name="least_squares_smoothing_sum", diff=_RF),
    Case(L.gan_discriminator_loss, _big, {"kind": "non_saturating"}, name="logits_1e4", diff=_RF,
         dtypes=("float64", "float32", "bfloat16")),
    Case(L.gan_generator_loss, lambda rng, n: {"fake_logits": _big(rng, n)["fake_logits"]}, {"kind": "minimax"},
         name="logits_1e4", diff=("fake_logits",), dtypes=("float64", "float32", "bfloat16")),
    Case(L.gan_discriminator_loss, _hinge_kinks, {"kind": "hinge", "reduction": "sum"}, name="hinge_kinks",
         diff=_RF, fd=False, peers=(Peer("torch relu hinge (sum)", "torch", lambda real_logits, fake_logits:
                                         P.F().relu(1 - real_logits).sum() + P.F().relu(1 + fake_logits).sum()),)),
]


# ----------------------------------------------------------------------- gradient penalty ----
def _grads(rng, n):
    return {"gradients": rng.normal(size=(n, 3, 2)) * 0.6}


def _grads_zero(rng, n):
    g = rng.normal(size=(n, 4))
    g[0] = 0.0
    g[3] = 0.0
    return {"gradients": g}


def _torch_gp(target=1.0, one_sided=False):
    def peer(gradients):
        g = gradients.reshape(gradients.shape[0], -1)
        d = g.norm(2, dim=1) - target
        if one_sided:
            d = P.F().relu(d)
        return (d ** 2).mean()

    return Peer("WGAN-GP reference ((norm - K)^2).mean()", "torch", peer)


CASES += [
    Case(L.gradient_penalty, _grads, {}, diff=("gradients",), dynamic=True, peers=(_torch_gp(),)),
    Case(L.gradient_penalty, _grads, {"one_sided": True, "target": 0.8, "reduction": "none"}, name="one_sided",
         diff=("gradients",), peers=()),
    Case(L.gradient_penalty, _grads, {"one_sided": True, "target": 0.8}, name="one_sided_mean",
         diff=("gradients",), peers=(_torch_gp(0.8, True),)),
    Case(L.gradient_penalty, _grads, {"eps": 1e-12, "reduction": "sum"}, name="eps", diff=("gradients",)),
    # zero gradients: value K^2, (sub)gradient 0 instead of NaN; central differences agree (symmetric)
    Case(L.gradient_penalty, _grads_zero, {"reduction": "none"}, name="zero_gradient", diff=("gradients",)),
    Case(L.gradient_penalty, lambda rng, n: {"gradients": rng.normal(size=(n,))}, {"target": 0.5},
         name="scalar_inputs", diff=("gradients",)),
]


# ------------------------------------------------------------ StyleGAN2 regularisers ----
def _r1_images(rng, n):
    return {"gradients": rng.normal(size=(n, 2, 3, 2)) * 0.6}


def _torch_r1(gamma=10.0, interval=1, reduction="mean"):
    """StyleGAN2-ADA: ``r1_grads.square().sum([1, 2, 3]) * (r1_gamma / 2)``, then ``.mean().mul(interval)``."""
    def peer(gradients):
        per = gradients.square().sum(tuple(range(1, gradients.ndim))) * (gamma / 2)
        return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction] * interval

    return Peer("StyleGAN2-ADA R1 formula", "torch", peer)


def _pl_grads(rng, n):
    # (N, num_ws, w_dim) products J^T y; a 0-d running mean (a buffer)
    return {"gradients": rng.normal(size=(n, 3, 4)) * 0.5, "mean_path_length": np.asarray(1.2)}


def _pl_grads_zero(rng, n):
    g = rng.normal(size=(n, 5))
    g[1] = 0.0
    return {"gradients": g, "mean_path_length": np.asarray(0.0)}


def _torch_pl(decay, reduction="mean"):
    """StyleGAN2-ADA: ``pl_mean.lerp(pl_lengths.mean(), decay)``; ``(pl_lengths - pl_mean).square()``."""
    def peer(gradients, mean_path_length):
        g = gradients.reshape(gradients.shape[0], -1)
        lengths = g.square().sum(1).sqrt()
        a = mean_path_length.detach().lerp(lengths.mean().detach(), decay)
        per = (lengths - a).square()
        return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]

    return Peer("StyleGAN2-ADA path-length formula", "torch", peer)


def _torch_pl_mean(decay):
    def peer(gradients, mean_path_length):
        lengths = gradients.reshape(gradients.shape[0], -1).square().sum(1).sqrt()
        return mean_path_length.lerp(lengths.mean(), decay).detach()

    return Peer("StyleGAN2-ADA pl_mean.lerp", "torch", peer)


CASES += [
    Case(L.r1_penalty, _r1_images, {}, diff=("gradients",), dynamic=True, vmap=("gradients",),
         peers=(_torch_r1(),)),
    Case(L.r1_penalty, _r1_images, {"gamma": 0.5, "interval": 16, "reduction": "none"}, name="lazy_none",
         diff=("gradients",), vmap=("gradients",), peers=(_torch_r1(0.5, 16, "none"),)),
    Case(L.r1_penalty, _grads_zero, {"reduction": "sum"}, name="zero_gradient", diff=("gradients",),
         peers=(_torch_r1(reduction="sum"),)),
    Case(L.r1_penalty, lambda rng, n: {"gradients": rng.normal(size=(n,))}, {"gamma": 1.0},
         name="scalar_inputs", diff=("gradients",)),
    Case(L.r2_penalty, _r1_images, {}, diff=("gradients",), dynamic=True, vmap=("gradients",),
         peers=(_torch_r1(),)),
    Case(L.r2_penalty, _grads, {"gamma": 2.0, "interval": 4, "reduction": "sum"}, name="lazy_sum",
         diff=("gradients",), peers=(_torch_r1(2.0, 4, "sum"),)),
    # the running mean a' is held constant: the gradient is not the total derivative finite
    # differences see (fd=False); backends and the StyleGAN2-ADA formula check it
    Case(L.path_length_penalty, _pl_grads, {}, diff=("gradients",), dynamic=True, fd=False,
         peers=(_torch_pl(0.01),)),
    Case(L.path_length_penalty, _pl_grads, {"decay": 0.5, "reduction": "none"}, name="decay_none",
         diff=("gradients",), fd=False, peers=(_torch_pl(0.5, "none"),)),
    # a zero product: value a'^2, subgradient 0 (torch's sqrt gives NaN there: no peer)
    Case(L.path_length_penalty, _pl_grads_zero, {"reduction": "sum"}, name="zero_gradient",
         diff=("gradients",), fd=False),
    # decay 0: a' = a, a constant, so finite differences apply; a number as the running mean
    Case(L.path_length_penalty, lambda rng, n: {"gradients": rng.normal(size=(n, 4))},
         {"mean_path_length": 0.7, "decay": 0.0}, name="number_mean", diff=("gradients",)),
    # a' is stop-gradient: no differentiable argument; one 0-d value per batch
    Case(L.path_length_mean_update, _pl_grads, {}, diff=(), peers=(_torch_pl_mean(0.01),)),
    Case(L.path_length_mean_update, _pl_grads, {"decay": 0.3}, name="decay", diff=(),
         peers=(_torch_pl_mean(0.3),)),
]


# ------------------------------------------------------------------------------------ VAE ----
def _latent(rng, n):
    return {"mu": rng.normal(size=(n, 3)), "logvar": rng.normal(size=(n, 3)) * 0.7}


def _vae(kind):
    def gen(rng, n):
        x = rng.uniform(size=(n, 6))
        if kind == "bce":
            recon = rng.uniform(0.05, 0.95, size=(n, 6))
        else:
            recon = rng.normal(size=(n, 6))
        return {"input": recon, "target": x, **_latent(rng, n)}

    return gen


def _vae_edges(rng, n):
    # probabilities exactly 0 and 1 (log clamp), binary data, a zero-variance-free latent
    x = (rng.uniform(size=(n, 6)) < 0.5).astype(np.float64)
    recon = rng.uniform(0.1, 0.9, size=(n, 6))
    recon[:, 0], recon[:, 1] = 0.0, 1.0
    return {"input": recon, "target": x, **_latent(rng, n)}


def _torch_kl(mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum()


def _torch_vae(beta=1.0):
    def peer(input, target, mu, logvar):
        return P.F().binary_cross_entropy(input, target, reduction="sum") + beta * _torch_kl(mu, logvar)

    return Peer("PyTorch VAE example (BCE sum + KLD)", "torch", peer)


_VAE_DIFF = ("input", "mu", "logvar")
_VAE_ALL = ("input", "target", "mu", "logvar")
CASES += [
    Case(L.gaussian_kl_divergence, _latent, {}, diff=("mu", "logvar"), dynamic=True,
         peers=(Peer("torch formula (per-sample sum, batch mean)", "torch",
                     lambda mu, logvar: _torch_kl(mu, logvar) / mu.shape[0]),)),
    Case(L.gaussian_kl_divergence, _latent, {"reduction": "none"}, name="none", diff=("mu", "logvar"),
         vmap=("mu", "logvar")),
    Case(L.gaussian_kl_divergence, _latent, {"reduction": "sum"}, name="sum", diff=("mu", "logvar"),
         peers=(Peer("PyTorch VAE example KLD", "torch", _torch_kl),)),
    Case(L.vae_loss, _vae("bce"), {"reduction": "sum"}, name="bce_sum", diff=_VAE_DIFF, peers=(_torch_vae(),)),
    Case(L.vae_loss, _vae("bce"), {"beta": 4.0}, name="beta4", diff=_VAE_DIFF, dynamic=True),
    Case(L.vae_loss, _vae("bce"), {"reduction": "none"}, name="none", diff=_VAE_DIFF, vmap=_VAE_ALL),
    Case(L.vae_loss, _vae("logits"), {"criterion": "bce_logits"}, name="bce_logits", diff=_VAE_DIFF,
         peers=(Peer("torch BCE-with-logits sum + KLD, batch mean", "torch", lambda input, target, mu, logvar:
                     (P.F().binary_cross_entropy_with_logits(input, target, reduction="sum") + _torch_kl(mu, logvar))
                     / input.shape[0]),)),
    Case(L.vae_loss, _vae("mse"), {"criterion": "mse", "beta": 0.5}, name="mse", diff=_VAE_DIFF + ("target",),
         peers=(Peer("torch MSE sum + 0.5 KLD, batch mean", "torch", lambda input, target, mu, logvar:
                     (P.F().mse_loss(input, target, reduction="sum") + 0.5 * _torch_kl(mu, logvar)) / input.shape[0]),)),
    Case(L.vae_loss, _vae_edges, {"reduction": "sum"}, name="probs_0_1", diff=_VAE_DIFF, fd=False,
         peers=(Peer("PyTorch VAE example (BCE sum + KLD)", "torch", lambda input, target, mu, logvar:
                     P.F().binary_cross_entropy(input, target, reduction="sum") + _torch_kl(mu, logvar), grad=False),)),
]


# ----------------------------------------------------------------------------- perceptual ----
def tiny_extractor(x):
    """A fixed three-map 'network' written with the array API (works on every backend)."""
    xp = namespace(x)
    h1 = xp.tanh(x[..., :4] - 0.5 * x[..., 2:6])
    h2 = h1[..., 1:] * h1[..., :-1]
    return [x, h1, h2]


def _images(rng, n):
    return {"input": rng.normal(size=(n, 6)), "target": rng.normal(size=(n, 6))}


def _images_equal(rng, n):
    t = rng.normal(size=(n, 6))
    p = t.copy()
    p[::2] += rng.normal(size=p[::2].shape)
    return {"input": p, "target": t}


def _torch_perc(weights, fn):
    def peer(input, target):
        F = P.F()
        return sum(w * getattr(F, fn)(a, b) for w, a, b in zip(weights, tiny_extractor(input), tiny_extractor(target)))

    return Peer(f"sum_k w_k F.{fn}(phi_k(input), phi_k(target))", "torch", peer)


_W = (1.0, 0.5, 2.0)
CASES += [
    Case(L.perceptual_loss, _images, {"feature_extractor": tiny_extractor, "layer_weights": _W},
         diff=("input", "target"), dynamic=True, peers=(_torch_perc(_W, "mse_loss"),)),
    Case(L.perceptual_loss, _images, {"feature_extractor": tiny_extractor, "criterion": "l1"}, name="l1",
         diff=("input", "target"), peers=(_torch_perc((1.0, 1.0, 1.0), "l1_loss"),)),
    Case(L.perceptual_loss, _images, {"feature_extractor": tiny_extractor, "reduction": "none"}, name="none",
         diff=("input", "target"), vmap=("input", "target")),
    # identical inputs on half the rows: l1 kink at 0 (subgradient 0, as F.l1_loss)
    Case(L.perceptual_loss, _images_equal, {"feature_extractor": tiny_extractor, "criterion": "l1",
                                            "reduction": "sum"}, name="identical_l1", diff=("input", "target"),
         fd=False, peers=(Peer("F.l1_loss sum over maps (sum reduction)", "torch", lambda input, target: sum(
             P.F().l1_loss(a, b, reduction="sum") / a[0].numel() for a, b in
             zip(tiny_extractor(input), tiny_extractor(target)))),)),
]

# tests/test_edges.py: value domains of the array arguments and per-function bad hyper-parameters
DOMAINS = {"vae_loss": {"input": "prob", "target": "prob"}}  # the first case's criterion is "bce"
HYPER_RANGES = {
    "gan_discriminator_loss": {"label_smoothing": (1.0, math.inf)},
    "gradient_penalty": {"target": (-1.0, math.inf), "eps": (math.inf,)},
    "vae_loss": {"beta": (-1.0, math.inf)},
    "r1_penalty": {"gamma": (-1.0, math.inf), "interval": (0, -3)},
    "r2_penalty": {"gamma": (-1.0, math.inf), "interval": (0,)},
    "path_length_penalty": {"decay": (-0.1, 1.5, math.inf)},
    "path_length_mean_update": {"decay": (-0.1, 1.5)},
}
