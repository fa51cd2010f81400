"""Generative-model losses: GAN objectives, the WGAN-GP gradient penalty, VAE and perceptual losses.

The per-sample critic gradients the gradient penalty needs come from
:func:`backends.autodiff.critic_gradients` (torch and JAX); everything here is plain
array-API math.

With ``group=`` (docs/distributed.md) the batch (axis 0) is split over the members and the
``"mean"`` over the batch is the global one (``"sum"``: the global sum; ``"none"``: this
member's samples).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, get_args

from . import _validate as check
from ._common import abs0, cast, float_args, numel, relu0, sqrt0
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .classification import binary_cross_entropy, binary_cross_entropy_with_logits
from .regression import mse_loss

__all__ = [
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gradient_penalty",
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
    Hinge kinks have subgradient 0 (as ``torch.nn.functional.relu``).

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

    A NaN logit makes the result NaN (the element's entry for ``"none"``); an empty batch
    gives NaN for ``"mean"``, 0 for ``"sum"``.

    Peer twins: TF-GAN ``modified_discriminator_loss`` (non_saturating,
    ``label_smoothing=0.25`` there by default), ``wasserstein_discriminator_loss``,
    ``least_squares_discriminator_loss``; with torch,
    ``F.binary_cross_entropy_with_logits(r, ones * (1 - ε)) +
    F.binary_cross_entropy_with_logits(f, zeros)`` (non_saturating) and
    ``F.relu(1 - r).mean() + F.relu(1 + f).mean()`` (hinge).
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

    Peer twins: TF-GAN ``minimax_generator_loss``, ``modified_generator_loss``
    (non_saturating), ``wasserstein_generator_loss``, ``least_squares_generator_loss``;
    torch: ``F.binary_cross_entropy_with_logits(f, ones)`` (non_saturating),
    ``-F.binary_cross_entropy_with_logits(f, zeros)`` (minimax).
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
    implementations that compute ``sqrt(sum(g**2) + eps)`` (e.g. ``eps=1e-12``).

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

    A NaN in a sample's gradient makes its penalty NaN; an empty batch ``(0, ...)`` gives
    NaN for ``"mean"``, 0 for ``"sum"`` and ``(0,)`` for ``"none"``.

    Peer twins: the reference WGAN-GP code
    ``((grad.view(N, -1).norm(2, dim=1) - 1) ** 2).mean()`` (``target=1``, ``eps=0``);
    TF-GAN ``wasserstein_gradient_penalty`` (``target=1``, ``one_sided`` as its
    ``one_sided``, ``eps=1e-10`` as its epsilon; it penalises ``(norm / K - 1)**2``, which is
    the same only for ``K = 1``).
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
    # per-sample squared norms; no reshape(..., -1), the batch may be empty
    sq = g * g if g.ndim == 1 else xp.sum(g * g, axis=tuple(range(1, g.ndim)))
    if eps:
        norm = xp.sqrt(sq + float(eps))
    else:
        norm = sqrt0(xp, sq)
    d = norm - float(target)
    if one_sided:
        d = relu0(xp, d)
    return reduce(xp, d * d, reduction, out_dtype=out_dtype, group=group)


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

    Peer conventions: Keras' VAE example averages the per-sample sums over the batch
    (``reduction="mean"``); code that averages over latent dimensions too divides this by
    the latent size (``mean`` of ``reduction="none"`` / D).
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

    Peer twins: the PyTorch VAE example ``loss_function`` (``reduction="sum"``,
    ``criterion="bce"``); Keras' VAE example (``reduction="mean"``, ``criterion="bce"`` with
    its image-sum of BCE).
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

    Peer twins: the usual torchvision-VGG perceptual loss
    ``sum_k w_k * F.mse_loss(vgg_k(input), vgg_k(target))`` (``criterion="mse"``,
    ``reduction="mean"``) and its ``F.l1_loss`` variant (``criterion="l1"``).
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
