"""Generative-model losses: GAN objectives, the WGAN-GP gradient penalty, the R1/R2 and
path-length regularisers of StyleGAN2, VAE and perceptual losses.

The per-sample critic gradients the gradient penalty needs come from
:func:`backends.autodiff.critic_gradients` (torch and JAX); the regularisers take the
gradients the caller computed the same way. Everything here is plain array-API math.

With ``group=`` (docs/distributed.md) the batch (axis 0) is split over the members and the
``"mean"`` over the batch is the global one (``"sum"``: the global sum; ``"none"``: this
member's samples).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral
from typing import Literal, get_args

from . import _validate as check
from ._common import abs0, cast, float_args, is_number, numel, relu0, sqrt0
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .classification import binary_cross_entropy, binary_cross_entropy_with_logits
from .regression import mse_loss
from .rl import _floats, _number_or_array

__all__ = [
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
]

#: ``kind=`` of the GAN losses
GanKind = Literal["minimax", "non_saturating", "wasserstein", "hinge", "least_squares"]
GAN_KINDS: tuple[str, ...] = get_args(GanKind)
_SMOOTHABLE = ("minimax", "non_saturating", "least_squares")


def _per_sample_sum(xp, x):
    """Sum over every axis but the first (batch) one; a 1-D array is one sample. (No
    ``reshape(..., -1)``: the batch may be empty.)"""
    if x.ndim == 1:
        return xp.sum(x)
    return xp.sum(x, axis=tuple(range(1, x.ndim)))


def _array(x, name):
    """``x`` must be an array (not a Python number or a list): shapes are checked next."""
    if not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")


def _per_sample_mean(xp, x):
    """Mean over every axis but the first (batch) one; a 1-D array is one sample."""
    n = math.prod(x.shape[1:]) if x.ndim > 1 else numel(x)
    return _per_sample_sum(xp, x) / n if n else _per_sample_sum(xp, x) * float("nan")


def _squared_norms(xp, g):
    """Per-sample squared L2 norms of ``g`` over every axis but the first; a 1-D ``g`` holds
    one scalar per sample. (No ``reshape(..., -1)``: the batch may be empty.)"""
    return g * g if g.ndim == 1 else xp.sum(g * g, axis=tuple(range(1, g.ndim)))


def _check_kind(kind):
    check.choice(kind, "kind", GAN_KINDS)


@check.entry
@group_doc
def gan_discriminator_loss(real_logits: ArrayT, fake_logits: ArrayT, *, kind: GanKind = "non_saturating",
                           label_smoothing: float = 0.0, reduction: Reduction = "mean",
                           group: Group = None) -> ArrayT:
    r"""Discriminator (critic) loss of a GAN, on critic outputs (logits / scores).

    With :math:`r` the critic's outputs on real samples, :math:`f` on generated ones,
    :math:`\operatorname{sp}` = softplus and :math:`\tilde y = 1 - \varepsilon` the
    (optionally smoothed) real target:

    .. math::
        \begin{aligned}
        \text{minimax, non\_saturating:}\;& \ell = \overline{(1-\tilde y)\,r + \operatorname{sp}(-r)}
            + \overline{\operatorname{sp}(f)} \quad(\text{BCE of } r \text{ vs } \tilde y
            \text{ and of } f \text{ vs } 0)\\
        \text{wasserstein:}\;& \ell = \overline{f} - \overline{r}\\
        \text{hinge:}\;& \ell = \overline{\max(0, 1 - r)} + \overline{\max(0, 1 + f)}\\
        \text{least\_squares:}\;& \ell = \tfrac12\,\overline{(r - \tilde y)^2}
            + \tfrac12\,\overline{f^2}
        \end{aligned}

    where :math:`\overline{\cdot}` is the ``reduction`` over each batch separately (the
    real and the fake batch may have different sizes). The discriminator losses of
    "minimax" and "non_saturating" are the same (the kinds differ for the generator).
    Hinge kinks have subgradient 0 (as ``torch.nn.functional.relu``). A NaN logit makes the
    result NaN (the element's entry for ``"none"``); an empty batch gives NaN for ``"mean"``,
    0 for ``"sum"``.

    Args:
        real_logits: critic outputs on real data, any shape (usually ``(N,)`` or ``(N, 1)``).
        fake_logits: critic outputs on generated data, any shape.
        kind: ``"minimax"`` / ``"non_saturating"`` (Goodfellow et al. 2014),
            ``"wasserstein"`` (Arjovsky et al. 2017), ``"hinge"`` (Lim & Ye 2017; Miyato et
            al. 2018), ``"least_squares"`` (Mao et al. 2017, targets a=0, b=c=1).
        label_smoothing: ε in [0, 1): one-sided smoothing of the real target to ``1 - ε``
            (Salimans et al. 2016). Off by default (TF-GAN's
            ``modified_discriminator_loss`` defaults to 0.25: pass ``label_smoothing=0.25``).
            Only for the kinds with targets (minimax, non_saturating, least_squares).
        reduction: ``"mean"`` (sum of the two batch means), ``"sum"`` or ``"none"`` (the
            element-wise sum of the real and fake terms; needs equal shapes).
    {group}

    Returns:
        The loss with the promoted floating dtype of the inputs.

    Raises:
        ValueError: unknown ``kind`` or ``reduction``, ``label_smoothing`` outside [0, 1) or
            used with wasserstein/hinge, different shapes with ``reduction="none"``.
        TypeError: non-floating (or complex) inputs, non-arrays, arrays of two frameworks,
            a non-number ``label_smoothing``.

    References: Goodfellow et al. 2014, "Generative adversarial nets" (minimax,
    non-saturating); Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"; Lim & Ye 2017,
    "Geometric GAN" and Miyato et al. 2018, "Spectral normalization for generative
    adversarial networks" (hinge); Mao et al. 2017, "Least squares generative adversarial
    networks"; Salimans et al. 2016, "Improved techniques for training GANs" (one-sided
    label smoothing).

    Peer twins: TF-GAN ``modified_discriminator_loss`` (non_saturating,
    ``label_smoothing=0.25`` there by default), ``wasserstein_discriminator_loss``,
    ``least_squares_discriminator_loss``; with torch,
    ``F.binary_cross_entropy_with_logits(r, ones * (1 - ε)) +
    F.binary_cross_entropy_with_logits(f, zeros)`` (non_saturating) and
    ``F.relu(1 - r).mean() + F.relu(1 + f).mean()`` (hinge). StyleGAN2's discriminator loss
    (Karras et al. 2020; StyleGAN2-ADA ``loss_Dgen + loss_Dreal``:
    ``softplus(D(G(z))).mean() + softplus(-D(x)).mean()``, TF ``D_logistic_r1`` without its
    penalty) is the default ``kind="non_saturating"``; add :func:`r1_penalty` for its R1 term.

    Example:
        >>> import numpy as np, losses
        >>> r, f = np.array([2.0, 0.5]), np.array([-1.0, 0.5])
        >>> round(float(losses.gan_discriminator_loss(r, f)), 4)   # mean sp(-r) + mean sp(f)
        0.9442
        >>> float(losses.gan_discriminator_loss(r, f, kind="hinge"))   # 0.25 + 0.75
        1.0
        >>> float(losses.gan_discriminator_loss(r, f, kind="wasserstein"))   # mean f - mean r
        -1.5
    """
    _array(real_logits, "real_logits")
    _array(fake_logits, "fake_logits")
    xp = namespace(real_logits=real_logits, fake_logits=fake_logits)
    check.reduction(reduction)
    group = xp.check_group(group)
    _check_kind(kind)
    check.finite_number(label_smoothing, "label_smoothing", low=0, high=1, high_open=True)
    if label_smoothing and kind not in _SMOOTHABLE:
        raise ValueError(
            f"label_smoothing applies to kinds with a real target {_SMOOTHABLE}, got kind={kind!r} "
            f"with label_smoothing={label_smoothing!r}"
        )
    check.floating(xp, real_logits, "real_logits")
    check.floating(xp, fake_logits, "fake_logits")
    if reduction == "none":
        check.same_shape(real_logits, fake_logits, "real_logits", "fake_logits")
    _, out_dtype, (r, f) = float_args(xp, real_logits, fake_logits, names=("real_logits", "fake_logits"))
    y = 1.0 - float(label_smoothing)
    if kind in ("minimax", "non_saturating"):
        lr = (1.0 - y) * r + xp.softplus(-r) if label_smoothing else xp.softplus(-r)
        lf = xp.softplus(f)
    elif kind == "wasserstein":
        lr, lf = -r, f
    elif kind == "hinge":
        lr, lf = relu0(xp, 1.0 - r), relu0(xp, 1.0 + f)
    else:
        dr = r - y
        lr, lf = 0.5 * dr * dr, 0.5 * f * f
    if reduction == "none":
        return reduce(xp, lr + lf, "none", out_dtype=out_dtype)
    total = (reduce(xp, lr, reduction, out_dtype=out_dtype, group=group)
             + reduce(xp, lf, reduction, out_dtype=out_dtype, group=group))
    return xp.as_array(total)


@check.entry
@group_doc
def gan_generator_loss(fake_logits: ArrayT, *, kind: GanKind = "non_saturating",
                       reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Generator loss of a GAN, on the critic's outputs :math:`f` for generated samples.

    .. math::
        \begin{aligned}
        \text{minimax:}\;& \ell = \log(1 - \sigma(f)) = -\operatorname{sp}(f)
            \quad\text{(Goodfellow et al. 2014; saturates when } \sigma(f) \to 0)\\
        \text{non\_saturating:}\;& \ell = -\log\sigma(f) = \operatorname{sp}(-f)\\
        \text{wasserstein, hinge:}\;& \ell = -f\\
        \text{least\_squares:}\;& \ell = \tfrac12\,(f - 1)^2
        \end{aligned}

    Args:
        fake_logits: critic outputs on generated data, any shape, floating.
        kind: as in :func:`gan_discriminator_loss`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        The loss with ``fake_logits``' floating dtype.

    Raises:
        ValueError: unknown ``kind`` or ``reduction``.
        TypeError: non-floating input.

    References: Goodfellow et al. 2014, "Generative adversarial nets" (minimax,
    non-saturating); Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"; Lim & Ye 2017,
    "Geometric GAN" (hinge); Mao et al. 2017, "Least squares generative adversarial
    networks".

    Peer twins: TF-GAN ``minimax_generator_loss``, ``modified_generator_loss``
    (non_saturating), ``wasserstein_generator_loss``, ``least_squares_generator_loss``;
    torch: ``F.binary_cross_entropy_with_logits(f, ones)`` (non_saturating),
    ``-F.binary_cross_entropy_with_logits(f, zeros)`` (minimax). StyleGAN2's generator loss
    (StyleGAN2-ADA ``loss_Gmain = softplus(-gen_logits)``, then ``.mean()``; TF
    ``G_logistic_ns``) is the default ``kind="non_saturating"``; its path-length term is
    :func:`path_length_penalty`.

    Example:
        >>> import numpy as np, losses
        >>> f = np.array([-1.0, 0.5])
        >>> np.round(losses.gan_generator_loss(f, reduction="none"), 4)   # softplus(-f)
        array([1.3133, 0.4741])
        >>> losses.gan_generator_loss(f, kind="least_squares", reduction="none")
        array([2.   , 0.125])
    """
    _array(fake_logits, "fake_logits")
    xp = namespace(fake_logits=fake_logits)
    check.reduction(reduction)
    group = xp.check_group(group)
    _check_kind(kind)
    _, out_dtype, (f,) = float_args(xp, fake_logits, names=("fake_logits",))
    if kind == "minimax":
        loss = -xp.softplus(f)
    elif kind == "non_saturating":
        loss = xp.softplus(-f)
    elif kind in ("wasserstein", "hinge"):
        loss = -f
    else:
        d = f - 1.0
        loss = 0.5 * d * d
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def gradient_penalty(gradients: ArrayT, *, target: float = 1.0, one_sided: bool = False, eps: float = 0.0,
                     reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Gradient penalty of WGAN-GP (Gulrajani et al. 2017) on per-sample critic gradients.

    .. math::
        \ell_i = \big(\lVert g_i \rVert_2 - K\big)^2 \quad\text{or, one-sided,}\quad
        \ell_i = \max\big(0, \lVert g_i \rVert_2 - K\big)^2,
        \qquad \lVert g_i \rVert_2 = \sqrt{\textstyle\sum_j g_{ij}^2 + \epsilon}

    where :math:`g_i = \nabla_x D(\hat x_i)` is the critic's gradient at the interpolate
    :math:`\hat x_i = \alpha_i x_i + (1 - \alpha_i)\tilde x_i`, summed over every axis but
    the first. Compute :math:`g` with :func:`backends.autodiff.critic_gradients` (torch with
    ``create_graph=True``, or JAX); the interpolation weights :math:`\alpha` are an input
    there (no RNG in the array API). The coefficient (λ = 10 in the paper) is applied by the
    caller.

    With ``eps=0`` the norm is exact and, at a zero gradient, the value is ``K**2`` with a
    zero (sub)gradient instead of NaN (double-``where``). ``eps > 0`` reproduces the
    implementations that compute ``sqrt(sum(g**2) + eps)`` (e.g. ``eps=1e-12``). A NaN in a
    sample's gradient makes its penalty NaN; an empty batch ``(0, ...)`` gives NaN for
    ``"mean"``, 0 for ``"sum"`` and ``(0,)`` for ``"none"``.

    Args:
        gradients: per-sample gradients, shape ``(N, ...)``, floating (``(N,)`` = one scalar
            input per sample).
        target: :math:`K`, the target norm (1 in the paper), finite and >= 0.
        one_sided: penalise only norms above ``target`` (the paper's one-sided variant;
            Petzka et al. 2018, WGAN-LP).
        eps: added under the square root, finite and >= 0.
        reduction: ``"mean"`` (over the batch, as the paper) | ``"sum"`` | ``"none"`` (``(N,)``).
    {group}

    Returns:
        The penalty with ``gradients``' floating dtype.

    Raises:
        ValueError: 0-d ``gradients``, negative or infinite ``target``/``eps``, bad
            ``reduction``.
        TypeError: non-floating ``gradients``, non-number ``target``/``eps`` (NaN included),
            non-bool ``one_sided``.

    References: Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved training of
    Wasserstein GANs"; Petzka, Fischer & Lukovnicov 2018, "On the regularization of
    Wasserstein GANs" (one-sided).

    Peer twins: the reference WGAN-GP code
    ``((grad.view(N, -1).norm(2, dim=1) - 1) ** 2).mean()`` (``target=1``, ``eps=0``);
    TF-GAN ``wasserstein_gradient_penalty`` (``target=1``, ``one_sided`` as its
    ``one_sided``, ``eps=1e-10`` as its epsilon; it penalises ``(norm / K - 1)**2``, which is
    the same only for ``K = 1``).

    Example:
        >>> import numpy as np, losses
        >>> g = np.array([[0.6, 0.8], [3.0, 4.0], [0.0, 0.0]])   # norms 1, 5 and 0
        >>> losses.gradient_penalty(g, reduction="none")
        array([ 0., 16.,  1.])
        >>> losses.gradient_penalty(g, one_sided=True, reduction="none")
        array([ 0., 16.,  0.])
    """
    _array(gradients, "gradients")
    xp = namespace(gradients=gradients)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(target, "target", low=0)
    check.finite_number(eps, "eps", low=0)
    check.flag(one_sided, "one_sided")
    check.floating(xp, gradients, "gradients")
    check.ndim_at_least(gradients, 1, "gradients")
    _, out_dtype, (g,) = float_args(xp, gradients, names=("gradients",))
    sq = _squared_norms(xp, g)
    if eps:
        norm = xp.sqrt(sq + float(eps))
    else:
        norm = sqrt0(xp, sq)
    d = norm - float(target)
    if one_sided:
        d = relu0(xp, d)
    return reduce(xp, d * d, reduction, out_dtype=out_dtype, group=group)


def _interval_arg(interval):
    """``interval``: an int >= 1 (bools and other types are a ``TypeError``)."""
    if isinstance(interval, bool) or not isinstance(interval, Integral):
        raise TypeError(f"interval must be an int >= 1, got {interval!r}")
    if interval < 1:
        raise ValueError(f"interval must be an int >= 1, got {interval!r}")


def _r_penalty(gradients, gamma, interval, reduction, group):
    """``interval * gamma / 2 * ||g_i||^2`` per sample, reduced (R1 and R2 share it)."""
    _array(gradients, "gradients")
    xp = namespace(gradients=gradients)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(gamma, "gamma", low=0)
    _interval_arg(interval)
    check.floating(xp, gradients, "gradients")
    check.ndim_at_least(gradients, 1, "gradients")
    _, out_dtype, (g,) = float_args(xp, gradients, names=("gradients",))
    scale = 0.5 * float(gamma) * int(interval)
    return reduce(xp, scale * _squared_norms(xp, g), reduction, out_dtype=out_dtype, group=group)


_R_DOC = r"""{title}

    .. math::
        \ell_i = \text{interval}\cdot\frac{\gamma}{2}\,\lVert g_i \rVert_2^2,
        \qquad g_i = \nabla_x D(x)\big|_{x = {at}_i}

    the squared L2 norm of the discriminator's gradient at each {what} sample, summed over every
    axis but the first; ``"mean"`` over the batch gives :math:`\tfrac\gamma2\,
    \mathbb E\lVert\nabla D\rVert^2` (Mescheder, Geiger & Nowozin 2018, eq. {eq}). The penalty
    is a function of the *provided* gradients; compute them (keeping the graph, so the penalty
    trains the discriminator) with

    * torch: ``x = {at}.detach().requires_grad_(True)``; ``g, = torch.autograd.grad(D(x).sum(),
      x, create_graph=True)``;
    * JAX: ``g = jax.grad(lambda x: D(params, x).sum())({at})`` inside the loss that is
      differentiated w.r.t. ``params`` (or ``jax.vjp(lambda x: D(params, x), {at})[1]`` of
      ones),

    or with :func:`backends.autodiff.critic_gradients` ``(D, {at}, None, ones)``.
    Lazy regularisation (Karras et al. 2020, StyleGAN2 sec. 3.1): applying the penalty only
    every ``interval`` minibatches and multiplying it by ``interval`` keeps its weight;
    ``interval`` is that factor (StyleGAN2: 16 for R1; 1 = every minibatch). A NaN in a
    sample's gradient makes its penalty NaN; an empty batch gives NaN for ``"mean"``, 0 for
    ``"sum"`` and ``(0,)`` for ``"none"``.

    Args:
        gradients: per-sample gradients :math:`g`, shape ``(N, ...)``, floating (``(N,)`` =
            one scalar input per sample).
        gamma: γ, the weight, finite and >= 0 (StyleGAN2's default 10; its configurations
            scale it with the resolution, e.g. 0.0002 * res**2 / batch size in StyleGAN2-ADA's
            auto setting).
        interval: int >= 1, the lazy-regularisation factor the penalty is multiplied by.
        reduction: ``"mean"`` (over the batch, as the paper) | ``"sum"`` | ``"none"`` (``(N,)``).
    {group}

    Returns:
        The penalty with ``gradients``' floating dtype.

    Raises:
        ValueError: 0-d ``gradients``, negative or infinite ``gamma``, ``interval`` < 1, bad
            ``reduction``.
        TypeError: non-floating (or complex) ``gradients``, a non-array, a non-number
            ``gamma`` (NaN included), a non-int ``interval`` (bools included).

    References: Mescheder, Geiger & Nowozin 2018, "Which training methods for GANs do
    actually converge?" (eq. {eq}); Karras et al. 2020, "Analyzing and improving the image
    quality of StyleGAN" (lazy regularisation, sec. 3.1).

    Peer twins: {peer}.

    Example:
        >>> import numpy as np, losses
        >>> g = np.array([[3.0, 4.0], [0.0, 1.0]])
        >>> float(losses.{name}(g, gamma=10.0))
        65.0
    """


def r1_penalty(gradients: ArrayT, *, gamma: float = 10.0, interval: int = 1, reduction: Reduction = "mean",
               group: Group = None) -> ArrayT:
    return _r_penalty(gradients, gamma, interval, reduction, group)


def r2_penalty(gradients: ArrayT, *, gamma: float = 10.0, interval: int = 1, reduction: Reduction = "mean",
               group: Group = None) -> ArrayT:
    return _r_penalty(gradients, gamma, interval, reduction, group)


def _r_doc(**fields):
    doc = _R_DOC
    for k, v in fields.items():
        doc = doc.replace("{" + k + "}", v)
    return doc


r1_penalty.__doc__ = _r_doc(
    title="R1 regulariser (Mescheder et al. 2018; StyleGAN2): the discriminator's gradient on real data.",
    at="real", what="real", eq="9", name="r1_penalty",
    peer="StyleGAN2-ADA (PyTorch) ``r1_grads.square().sum([1, 2, 3]) * (r1_gamma / 2)`` then\n"
         "    ``.mean().mul(D_reg_interval)`` (``gamma=r1_gamma, interval=D_reg_interval``); StyleGAN2\n"
         "    (TF) ``D_logistic_r1`` (``gamma=10``, lazy interval 16); Mescheder et al.'s reference code\n"
         "    with ``reg_type='real'`` (``gamma=2 * reg_param``); R2 is the same formula on\n"
         "    generated samples (:func:`r2_penalty`)")
r2_penalty.__doc__ = _r_doc(
    title="R2 regulariser (Mescheder et al. 2018): the discriminator's gradient on generated data.",
    at="fake", what="generated", eq="10", name="r2_penalty",
    peer="Mescheder et al.'s reference code with ``reg_type='fake'`` (``reg_param`` times the\n"
         "    mean squared gradient norm on fake data: ``gamma=2 * reg_param``); R1 is the same formula on\n"
         "    real samples (:func:`r1_penalty`). Pass the generated batch detached\n"
         "    (``fake.detach()``) so only the discriminator is regularised")
r1_penalty = check.entry(group_doc(r1_penalty))
r2_penalty = check.entry(group_doc(r2_penalty))


def _path_length_setup(gradients, mean_path_length, decay, reduction, group):
    _array(gradients, "gradients")
    _number_or_array(mean_path_length, "mean_path_length")
    xp = namespace(gradients=gradients, mean_path_length=mean_path_length)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.finite_number(decay, "decay", low=0, high=1)
    check.floating(xp, gradients, "gradients")
    if is_number(mean_path_length):
        check.finite_number(mean_path_length, "mean_path_length", low=0)
    else:
        check.real_array(xp, mean_path_length, "mean_path_length")
        if mean_path_length.ndim != 0:
            raise ValueError(
                f"mean_path_length must be a number or a 0-d array (the running mean), got shape "
                f"{tuple(mean_path_length.shape)}")
    check.ndim_at_least(gradients, 1, "gradients")
    _, out_dtype, (g, a) = _floats(xp, gradients, mean_path_length, names=("gradients", "mean_path_length"))
    lengths = sqrt0(xp, _squared_norms(xp, g))
    a = a if is_number(a) else xp.stop_gradient(a)
    # the exponential moving average of the batch's mean length, held constant
    batch_mean = xp.stop_gradient(reduce(xp, lengths, "mean", group=group))
    new_mean = xp.stop_gradient(a + float(decay) * (batch_mean - a))
    return xp, out_dtype, lengths, new_mean, group


_PL_ARGS = r"""gradients: per-sample :math:`J_w^\top y`, shape ``(N, ...)``, floating (``(N,)``
            = one scalar per sample); the norm is taken over every axis but the first.
        mean_path_length: :math:`a`, the running mean before this step: a number or a 0-d
            array (a buffer; held constant), StyleGAN2 starts it at 0.
        decay: the moving average's rate in [0, 1] (StyleGAN2's ``pl_decay = 0.01``)."""


def path_length_penalty(gradients: ArrayT, mean_path_length: ArrayT | float, *, decay: float = 0.01,
                        reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Path-length regulariser of StyleGAN2 (Karras et al. 2020, eq. 4 and appendix B).

    .. math::
        \ell_i = \big(\lVert J_{w_i}^\top y_i \rVert_2 - a'\big)^2,\qquad
        a' = a + \text{decay}\,\big(\overline{\lVert J^\top y \rVert_2} - a\big)

    with :math:`y_i` random images (normal, scaled by :math:`1/\sqrt{HW}`),
    :math:`J_{w_i}^\top y_i = \nabla_w \langle g(w), y\rangle` the generator's per-sample
    Jacobian-vector product w.r.t. the latent :math:`w`, and :math:`a'` the running mean of the
    lengths after this batch's update, held constant (stop-gradient), exactly as StyleGAN2
    penalises with the updated ``pl_mean``. The norm shares :func:`gradient_penalty`'s code
    (exact square root; value :math:`a'^2` with a zero subgradient at a zero product).

    The function is pure: it returns the penalty only. Update the state with
    :func:`path_length_mean_update` on the same arguments (it returns :math:`a'`, detached)
    and pass the result as ``mean_path_length`` next time. Compute the products with

    * torch: ``y = torch.randn_like(img) / math.sqrt(H * W)``; ``g, = torch.autograd.grad(
      (img * y).sum(), ws, create_graph=True)`` (``img = G.synthesis(ws)``);
    * JAX: ``g = jax.vjp(lambda w: synthesis(params, w), ws)[1](y)[0]`` inside the loss that
      is differentiated w.r.t. ``params``.

    StyleGAN2 broadcasts :math:`w` to ``(N, num_ws, w_dim)`` and takes
    ``sqrt(g.square().sum(2).mean(1))``: pass ``g / math.sqrt(num_ws)`` for that length.
    Its weight (``pl_weight = 2``) and lazy interval (4 minibatches, multiplied in) are
    applied by the caller. A NaN in a sample's product makes the batch mean, hence
    :math:`a'` and every penalty, NaN (as in StyleGAN2); an empty batch gives NaN for
    ``"mean"``.

    Args:
        {args}
        reduction: ``"mean"`` (over the batch) | ``"sum"`` | ``"none"`` (``(N,)``).
    {group}

    Returns:
        The penalty with the promoted floating dtype of the inputs.

    Raises:
        ValueError: 0-d ``gradients``, a ``mean_path_length`` that is not 0-d, a negative or
            infinite number ``mean_path_length``, ``decay`` outside [0, 1], bad ``reduction``.
        TypeError: non-floating ``gradients``, a complex or non-array, non-number
            ``mean_path_length``, a non-number ``decay``.

    References: Karras, Laine, Aittala, Hellsten, Lehtinen & Aila 2020, "Analyzing and
    improving the image quality of StyleGAN" (eq. 4 and appendix B).

    Peer twins: StyleGAN2-ADA (PyTorch) ``pl_lengths = pl_grads.square().sum(2).mean(1).sqrt();
    pl_mean = self.pl_mean.lerp(pl_lengths.mean(), pl_decay); pl_penalty = (pl_lengths -
    pl_mean).square()`` (``gradients=pl_grads / sqrt(num_ws)``, ``decay=pl_decay``,
    ``reduction="none"``); StyleGAN2 (TF) ``G_logistic_ns_pathreg``.

    Example:
        >>> import numpy as np, losses
        >>> g = np.array([[3.0, 4.0], [0.0, 1.0]])   # lengths 5 and 1, batch mean 3
        >>> float(losses.path_length_penalty(g, 2.0, decay=0.5))   # a' = 2.5
        4.25
    """
    xp, out_dtype, lengths, new_mean, group = _path_length_setup(gradients, mean_path_length, decay,
                                                                 reduction, group)
    d = lengths - new_mean
    return reduce(xp, d * d, reduction, out_dtype=out_dtype, group=group)


def path_length_mean_update(gradients: ArrayT, mean_path_length: ArrayT | float, *, decay: float = 0.01,
                            group: Group = None) -> ArrayT:
    r"""The updated running mean of StyleGAN2's path lengths (for :func:`path_length_penalty`).

    .. math:: a' = a + \text{decay}\,\big(\overline{\lVert J^\top y \rVert_2} - a\big)
              = \operatorname{lerp}(a, \overline{\lVert J^\top y\rVert_2}, \text{decay})

    the exponential moving average StyleGAN2 keeps in ``pl_mean``, returned as a 0-d array
    under stop-gradient (no gradient reaches the generator through it). It is the
    :math:`a'` the penalty of the same call uses; store it and pass it back::

        penalty = losses.path_length_penalty(g, pl_mean, decay=0.01)
        pl_mean = losses.path_length_mean_update(g, pl_mean, decay=0.01)

    With ``group`` the batch mean is over the whole group's batch, so every member keeps the
    same running mean.

    Args:
        {args}
    {group}

    Returns:
        :math:`a'`, a 0-d array with the promoted floating dtype of the inputs.

    Raises:
        ValueError: as :func:`path_length_penalty`: 0-d ``gradients``, a
            ``mean_path_length`` that is not 0-d, a negative or infinite number
            ``mean_path_length``, ``decay`` outside [0, 1].
        TypeError: non-floating ``gradients``, a complex or non-array, non-number
            ``mean_path_length``, a non-number ``decay``.

    References: Karras et al. 2020, "Analyzing and improving the image quality of StyleGAN"
    (appendix B).

    Peer twins: StyleGAN2-ADA ``self.pl_mean.lerp(pl_lengths.mean(), pl_decay)`` (its
    ``pl_mean.copy_(...detach())``), StyleGAN2 (TF) ``pl_mean_var`` assignment.

    Example:
        >>> import numpy as np, losses
        >>> g = np.array([[3.0, 4.0], [0.0, 1.0]])
        >>> float(losses.path_length_mean_update(g, 2.0, decay=0.5))
        2.5
    """
    xp, out_dtype, _, new_mean, _ = _path_length_setup(gradients, mean_path_length, decay, "mean", group)
    return xp.as_array(cast(xp, new_mean, out_dtype))


path_length_penalty.__doc__ = path_length_penalty.__doc__.replace("{args}", _PL_ARGS)
path_length_mean_update.__doc__ = path_length_mean_update.__doc__.replace("{args}", _PL_ARGS)
path_length_penalty = check.entry(group_doc(path_length_penalty))
path_length_mean_update = check.entry(group_doc(path_length_mean_update))


def _kl_terms(xp, mu, logvar):
    return -0.5 * (1.0 + logvar - mu * mu - xp.exp(logvar))


@check.entry
@group_doc
def gaussian_kl_divergence(mu: ArrayT, logvar: ArrayT, *, reduction: Reduction = "mean",
                           group: Group = None) -> ArrayT:
    r"""KL divergence of a diagonal Gaussian from the standard normal (Kingma & Welling 2014).

    .. math::
        \mathrm{KL}\big(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\Vert\,\mathcal N(0, I)\big)_i
        = -\tfrac12 \sum_j \big(1 + \log\sigma_{ij}^2 - \mu_{ij}^2 - \sigma_{ij}^2\big)

    summed over the latent axes (every axis but the first) of each sample.

    Args:
        mu: means, shape ``(N, ...)``; a 1-D array is a single sample's latent vector.
        logvar: log-variances :math:`\log\sigma^2`, same shape.
        reduction: ``"mean"`` (over the batch: the per-sample KL, as the VAE objective),
            ``"sum"`` (over the batch: the PyTorch VAE example's
            ``-0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp())``) or ``"none"`` (``(N,)``).
    {group}

    Returns:
        The divergence with the promoted floating dtype of the inputs.

    Raises:
        ValueError: shapes differ, 0-d inputs, bad ``reduction``.
        TypeError: non-floating inputs, arrays of two frameworks.

    References: Kingma & Welling 2014, "Auto-encoding variational Bayes" (appendix B).

    Peer twins: the PyTorch VAE example's KLD term (``reduction="sum"``); Keras' VAE example
    averages the per-sample sums over the batch (``reduction="mean"``); code that averages
    over latent dimensions too divides this by the latent size (``mean`` of
    ``reduction="none"`` / D).

    Example:
        >>> import numpy as np, losses
        >>> losses.gaussian_kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)), reduction="none")
        array([0., 0.])
        >>> mu, logvar = np.array([[1.0, 0.0]]), np.array([[0.0, np.log(2.0)]])
        >>> np.round(losses.gaussian_kl_divergence(mu, logvar, reduction="none"), 4)   # 1/2 + (1 - log 2)/2
        array([0.6534])
    """
    _array(mu, "mu")
    _array(logvar, "logvar")
    xp = namespace(mu=mu, logvar=logvar)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.floating(xp, mu, "mu")
    check.floating(xp, logvar, "logvar")
    check.same_shape(mu, logvar, "mu", "logvar")
    check.ndim_at_least(mu, 1, "mu")
    _, out_dtype, (m, lv) = float_args(xp, mu, logvar, names=("mu", "logvar"))
    kl = _per_sample_sum(xp, _kl_terms(xp, m, lv))
    return reduce(xp, kl, reduction, out_dtype=out_dtype, group=group)


#: ``criterion=`` of :func:`vae_loss`: the reconstruction term
VaeCriterion = Literal["bce", "bce_logits", "mse"]
VAE_CRITERIA: tuple[str, ...] = get_args(VaeCriterion)


@check.entry
@group_doc
def vae_loss(input: ArrayT, target: ArrayT, mu: ArrayT, logvar: ArrayT, *, beta: float = 1.0,
             criterion: VaeCriterion = "bce", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Negative ELBO of a VAE (Kingma & Welling 2014) with the β-VAE weight (Higgins et al. 2017).

    .. math:: \ell_i = \sum_j \operatorname{rec}(\hat x_{ij}, x_{ij})
              + \beta\,\mathrm{KL}\big(q(z \mid x_i)\,\Vert\,\mathcal N(0, I)\big)

    with :math:`\hat x` = ``input`` (the reconstruction), :math:`x` = ``target`` (the data),
    the KL of :func:`gaussian_kl_divergence` and the reconstruction term ``criterion``
    summed over every axis but the first:

    * ``"bce"``: ``input`` holds Bernoulli means (sigmoid outputs) in [0, 1]:
      :math:`-x\log\hat x - (1-x)\log(1-\hat x)`, logs clamped at -100 like
      ``torch.nn.functional.binary_cross_entropy``;
    * ``"bce_logits"``: ``input`` holds decoder logits (numerically stable form);
    * ``"mse"``: squared error :math:`(\hat x - x)^2` (a unit-variance Gaussian decoder up to
      a factor 2 and a constant: halve the result and ``beta`` for the exact Gaussian NLL).

    Args:
        input: decoder output (the reconstruction), shape ``(N, ...)`` (1-D: a single sample).
        target: data, same shape as ``input``; in [0, 1] for the ``bce`` criteria (checked
            eagerly).
        mu, logvar: encoder outputs, shape ``(N, ...)`` with the same ``N`` (1-D with 1-D
            ``input``).
        beta: weight of the KL term, finite and >= 0 (1 = the VAE; > 1 = β-VAE).
        criterion: the reconstruction term, ``"bce"`` | ``"bce_logits"`` | ``"mse"``.
        reduction: ``"mean"`` (over the batch) | ``"sum"`` (the PyTorch VAE example's
            ``F.binary_cross_entropy(input, target, reduction="sum") + KLD``) | ``"none"``
            (``(N,)``).
    {group}

    Returns:
        The loss with the promoted floating dtype of the inputs.

    Raises:
        ValueError: shape mismatches, unknown ``criterion``, negative or infinite ``beta``,
            bad ``reduction``; eagerly (concrete arrays only), ``target`` (or probability
            ``input``) outside [0, 1] or NaN for the bce criteria.
        TypeError: non-floating ``input``/``mu``/``logvar``, a complex or non-array
            ``target`` (integer and bool data are accepted and cast), arrays of two
            frameworks. Every dtype is checked before any value.

    References: Kingma & Welling 2014, "Auto-encoding variational Bayes"; Higgins et al.
    2017, "β-VAE: learning basic visual concepts with a constrained variational framework".

    Peer twins: the PyTorch VAE example ``loss_function`` (``reduction="sum"``,
    ``criterion="bce"``); Keras' VAE example (``reduction="mean"``, ``criterion="bce"`` with
    its image-sum of BCE).

    Example:
        >>> import numpy as np, losses
        >>> x = np.array([[0.0, 1.0], [1.0, 1.0]]); mu = logvar = np.zeros((2, 3))
        >>> x_hat = np.array([[0.2, 0.9], [0.7, 0.6]])
        >>> np.round(losses.vae_loss(x_hat, x, mu, logvar, reduction="none"), 4)   # -log 0.8 - log 0.9, ...
        array([0.3285, 0.8675])
        >>> losses.vae_loss(x, x, np.ones((2, 3)), logvar, criterion="mse", reduction="none")
        array([1.5, 1.5])
    """
    for a, name in ((input, "input"), (target, "target"), (mu, "mu"), (logvar, "logvar")):
        _array(a, name)
    xp = namespace(input=input, target=target, mu=mu, logvar=logvar)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.choice(criterion, "criterion", VAE_CRITERIA)
    check.finite_number(beta, "beta", low=0)
    # every argument's dtype before any value check; integer/bool data (target) are cast
    check.floating(xp, input, "input")
    check.real_array(xp, target, "target")
    check.floating(xp, mu, "mu")
    check.floating(xp, logvar, "logvar")
    check.same_shape(input, target, "input", "target")
    check.same_shape(mu, logvar, "mu", "logvar")
    check.ndim_at_least(input, 1, "input")
    check.ndim_at_least(mu, 1, "mu")
    if (input.ndim == 1) != (mu.ndim == 1) or (input.ndim > 1 and input.shape[0] != mu.shape[0]):
        raise ValueError(
            f"input and mu must both be batched with the same batch size N (first axis) or both be "
            f"single 1-D samples, got input {tuple(input.shape)} and mu {tuple(mu.shape)}"
        )
    # the reconstruction term is the library's own element-wise loss (its value checks --
    # ``target`` and probability ``input`` in [0, 1] -- and, on torch, its native kernel);
    # "sum"/"mean" reduce it in one pass without the per-element array (with a group: the
    # per-sample losses, reduced over the group's batch)
    _, out_dtype, (p, y, m, lv) = float_args(xp, input, target, mu, logvar,
                                             names=("input", "target", "mu", "logvar"))
    rec_loss = {"bce": binary_cross_entropy, "bce_logits": binary_cross_entropy_with_logits,
                "mse": mse_loss}[criterion]
    if reduction == "none" or group is not None:
        loss = _per_sample_sum(xp, rec_loss(p, y, reduction="none"))
        if beta:
            loss = loss + float(beta) * _per_sample_sum(xp, _kl_terms(xp, m, lv))
        return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
    loss = rec_loss(p, y, reduction="sum")
    if beta:
        loss = loss + float(beta) * xp.sum(_kl_terms(xp, m, lv))
    if reduction == "mean":  # the mean over the batch of the per-sample sums
        n = p.shape[0] if p.ndim > 1 else 1
        loss = loss / n if n else loss * float("nan")
    return xp.as_array(cast(xp, loss, out_dtype))


def _as_list(features, which):
    if isinstance(features, (list, tuple)):
        return list(features)
    if hasattr(features, "shape") and hasattr(features, "dtype"):
        return [features]
    raise TypeError(
        f"feature_extractor must return a list/tuple of feature maps (or one array), got "
        f"{type(features).__name__} for {which}"
    )


#: ``criterion=`` of :func:`perceptual_loss`: the element-wise comparison of feature maps
PerceptualCriterion = Literal["mse", "l1"]


@check.entry
@group_doc
def perceptual_loss(input: ArrayT, target: ArrayT,
                    feature_extractor: Callable[[ArrayT], Sequence[ArrayT] | ArrayT], *,
                    layer_weights: Sequence[float] | None = None, criterion: PerceptualCriterion = "mse",
                    reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Perceptual (feature reconstruction) loss (Johnson et al. 2016).

    .. math:: \ell_i = \sum_k w_k\, \frac{1}{|\phi_k|} \sum_j
              d\big(\phi_k(\hat y)_{ij}, \phi_k(y)_{ij}\big), \qquad
              d(a, b) = (a - b)^2 \ \text{or}\ |a - b|

    with :math:`\hat y` = ``input`` and :math:`y` = ``target``: the per-sample mean
    ``criterion`` :math:`d` of each feature map :math:`\phi_k` (over its :math:`|\phi_k|`
    non-batch elements), weighted and summed over the maps. No weights are downloaded:
    ``feature_extractor`` is your callable (e.g. a frozen VGG slice returning the
    activations of a few layers). The extractor is applied to ``target`` as well; wrap it or
    pass precomputed features through it if they should not be differentiated.

    Args:
        input: predicted images/signals, shape ``(N, ...)``.
        target: same shape.
        feature_extractor: callable ``f(x) -> list of arrays`` of shapes ``(N, ...)`` (one
            array is read as a one-element list), same framework as ``x``.
        layer_weights: one finite Python number >= 0 per feature map (default: all 1).
        criterion: the element-wise comparison of the feature maps, ``"mse"`` | ``"l1"``
            (subgradient 0 at equal features).
        reduction: ``"mean"`` (over the batch) | ``"sum"`` | ``"none"`` (``(N,)``).
    {group}

    Returns:
        The loss with the promoted floating dtype of the feature maps.

    Raises:
        ValueError: shape mismatch of the inputs or of corresponding feature maps, a feature
            map whose first axis is not ``N``, wrong number of ``layer_weights``, a negative
            or infinite weight, no feature maps, bad ``criterion``/``reduction``.
        TypeError: non-floating ``input``, complex or non-array ``target``, non-callable
            extractor, extractor output that is not arrays (or complex feature maps),
            ``layer_weights`` that is not a sequence of real numbers.

    References: Johnson, Alahi & Fei-Fei 2016, "Perceptual losses for real-time style
    transfer and super-resolution".

    Peer twins: the usual torchvision-VGG perceptual loss
    ``sum_k w_k * F.mse_loss(vgg_k(input), vgg_k(target))`` (``criterion="mse"``,
    ``reduction="mean"``) and its ``F.l1_loss`` variant (``criterion="l1"``).

    Example:
        >>> import numpy as np, losses
        >>> features = lambda x: [x, x * x]   # two "feature maps"
        >>> a, b = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [0.0, 1.0]])
        >>> losses.perceptual_loss(a, b, features, reduction="none")   # mean(0, 1) + mean(0, 9)
        array([5., 0.])
        >>> float(losses.perceptual_loss(a, a, features))   # identical images
        0.0
    """
    _array(input, "input")
    _array(target, "target")
    xp = namespace(input=input, target=target)
    check.reduction(reduction)
    group = xp.check_group(group)
    check.choice(criterion, "criterion", get_args(PerceptualCriterion))
    check.floating(xp, input, "input")
    check.real_array(xp, target, "target")  # it only goes through the extractor
    check.same_shape(input, target, "input", "target")
    check.ndim_at_least(input, 1, "input")
    if not callable(feature_extractor):
        raise TypeError(f"feature_extractor must be callable, got {type(feature_extractor).__name__}")
    fp = _as_list(feature_extractor(input), "input")
    ft = _as_list(feature_extractor(target), "target")
    if not fp or len(fp) != len(ft):
        raise ValueError(
            f"feature_extractor must return the same non-zero number of feature maps for input and "
            f"target, got {len(fp)} and {len(ft)}"
        )
    if layer_weights is None:
        weights = [1.0] * len(fp)
    else:
        if isinstance(layer_weights, (str, bytes)) or not isinstance(layer_weights, Iterable):
            raise TypeError(
                f"layer_weights must be a sequence of numbers (one per feature map), got "
                f"{type(layer_weights).__name__}"
            )
        weights = list(layer_weights)
        if len(weights) != len(fp):
            raise ValueError(
                f"layer_weights must have one weight per feature map ({len(fp)}), got {len(weights)}"
            )
        for k, w in enumerate(weights):
            check.finite_number(w, f"layer_weights[{k}]", low=0)
    batch = input.shape[0] if input.ndim > 1 else None
    terms, dtypes, out_dtypes = [], [], []
    for k, (a, b, w) in enumerate(zip(fp, ft, weights)):
        check.same_shape(a, b, f"features[{k}] of input", f"features[{k}] of target")
        if batch is not None and (a.ndim < 1 or a.shape[0] != batch):
            raise ValueError(
                f"feature map {k} must keep the batch axis first (N = {batch}), got shape {tuple(a.shape)}"
            )
        compute, dt, (a, b) = float_args(xp, a, b, names=(f"features[{k}] of input", f"features[{k}] of target"))
        d = a - b
        dist = d * d if criterion == "mse" else abs0(xp, d)
        term = xp.mean(xp.reshape(dist, (numel(dist),))) if batch is None else _per_sample_mean(xp, dist)
        terms.append(term * float(w) if w != 1 else term)
        dtypes.append(compute)
        out_dtypes.append(dt)
    compute = xp.result_type(*dtypes) if len(dtypes) > 1 else dtypes[0]
    out_dtype = xp.result_type(*out_dtypes) if len(out_dtypes) > 1 else out_dtypes[0]
    total = terms[0] if terms[0].dtype == compute else xp.astype(terms[0], compute)
    for term in terms[1:]:
        total = total + (term if term.dtype == compute else xp.astype(term, compute))
    return reduce(xp, total, reduction, out_dtype=out_dtype, group=group)
