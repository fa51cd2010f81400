"""Generative losses: independent float64 NumPy formulas, TF-GAN / PyTorch-example settings,
the WGAN-GP gradient helper on torch and JAX, edge cases and errors."""
import numpy as np
import pytest

import losses as L
from losses.backends.autodiff import critic_gradients
from losses.generative import GAN_KINDS


def softplus(x):
    return np.logaddexp(x, 0.0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tf_sigmoid_ce(labels, logits, label_smoothing=0.0):
    """tf.losses.sigmoid_cross_entropy (mean): labels smoothed towards 1/2."""
    y = labels * (1 - label_smoothing) + 0.5 * label_smoothing
    return np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))


@pytest.fixture
def logits():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6,)) * 2, rng.normal(size=(5,)) * 2


# ------------------------------------------------------------------------------------ GAN ----
def test_discriminator_kinds_against_numpy(logits):
    r, f = logits
    want = {
        "minimax": np.mean(-np.log(sigmoid(r))) + np.mean(-np.log(1 - sigmoid(f))),
        "non_saturating": np.mean(-np.log(sigmoid(r))) + np.mean(-np.log(1 - sigmoid(f))),
        "wasserstein": f.mean() - r.mean(),
        "hinge": np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)),
        "least_squares": 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2),
    }
    for kind, value in want.items():
        assert float(L.gan_discriminator_loss(r, f, kind=kind)) == pytest.approx(value, rel=1e-12), kind
    assert float(L.gan_discriminator_loss(r, f, kind="hinge", reduction="sum")) == pytest.approx(
        np.sum(np.maximum(0, 1 - r)) + np.sum(np.maximum(0, 1 + f)), rel=1e-12)


def test_generator_kinds_against_numpy(logits):
    _, f = logits
    want = {
        "minimax": np.mean(np.log(1 - sigmoid(f))),
        "non_saturating": np.mean(-np.log(sigmoid(f))),
        "wasserstein": -f.mean(),
        "hinge": -f.mean(),
        "least_squares": 0.5 * np.mean((f - 1) ** 2),
    }
    for kind, value in want.items():
        assert float(L.gan_generator_loss(f, kind=kind)) == pytest.approx(value, rel=1e-12), kind
    np.testing.assert_allclose(L.gan_generator_loss(f, kind="non_saturating", reduction="none"), softplus(-f))


def test_tf_gan_settings(logits):
    """TF-GAN: modified_discriminator_loss(label_smoothing=0.25) smooths towards 1/2, i.e. the
    real target is 1 - 0.25/2: our label_smoothing=0.125 (docs/differences.md)."""
    r, f = logits
    tfgan = tf_sigmoid_ce(np.ones_like(r), r, 0.25) + tf_sigmoid_ce(np.zeros_like(f), f)
    assert float(L.gan_discriminator_loss(r, f, label_smoothing=0.125)) == pytest.approx(tfgan, rel=1e-12)
    # our default is unsmoothed: differs from TF-GAN's default
    assert float(L.gan_discriminator_loss(r, f)) != pytest.approx(tfgan, rel=1e-6)
    assert float(L.gan_discriminator_loss(r, f)) == pytest.approx(
        tf_sigmoid_ce(np.ones_like(r), r) + tf_sigmoid_ce(np.zeros_like(f), f), rel=1e-12)
    # least squares (a=0, b=c=1, the 1/2 factors of TF-GAN and Mao et al.)
    assert float(L.gan_discriminator_loss(r, f, kind="least_squares", label_smoothing=0.2)) == pytest.approx(
        0.5 * np.mean((r - 0.8) ** 2) + 0.5 * np.mean(f ** 2), rel=1e-12)


def test_gan_torch_bce_twins_values_and_gradients(logits):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    r0, f0 = (torch.tensor(a) for a in logits)
    r, f = r0.clone().requires_grad_(True), f0.clone().requires_grad_(True)
    ours = L.gan_discriminator_loss(r, f, label_smoothing=0.1)
    gr, gf = torch.autograd.grad(ours, (r, f))
    r2, f2 = r0.clone().requires_grad_(True), f0.clone().requires_grad_(True)
    theirs = F.binary_cross_entropy_with_logits(r2, torch.full_like(r2, 0.9)) + \
        F.binary_cross_entropy_with_logits(f2, torch.zeros_like(f2))
    tr, tf = torch.autograd.grad(theirs, (r2, f2))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gr, tr, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gf, tf, rtol=1e-12, atol=1e-12)


def test_gan_logits_1e4_finite():
    torch = pytest.importorskip("torch")
    r = torch.tensor([1e4, -1e4], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([-1e4, 1e4], dtype=torch.float64, requires_grad=True)
    for kind in L.generative.GAN_KINDS:
        d = L.gan_discriminator_loss(r, f, kind=kind)
        g = L.gan_generator_loss(f, kind=kind)
        grads = torch.autograd.grad(d + g, (r, f))
        assert torch.isfinite(d) and torch.isfinite(g) and all(torch.isfinite(x).all() for x in grads), kind
    assert float(L.gan_discriminator_loss(r, f)) == pytest.approx(1e4, rel=1e-12)  # (0 + 1e4)/2 + (0 + 1e4)/2


def test_hinge_kink_subgradient_zero():
    torch = pytest.importorskip("torch")
    r = torch.tensor([1.0, 0.5], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([-1.0, -0.5], dtype=torch.float64, requires_grad=True)
    L.gan_discriminator_loss(r, f, kind="hinge", reduction="sum").backward()
    assert r.grad.tolist() == [0.0, -1.0] and f.grad.tolist() == [0.0, 1.0]


def test_gan_errors(logits):
    r, f = logits
    with pytest.raises(ValueError, match="kind must be one of"):
        L.gan_discriminator_loss(r, f, kind="relativistic")
    with pytest.raises(ValueError, match="kind must be one of"):
        L.gan_generator_loss(f, kind="ns")
    with pytest.raises(ValueError, match="label_smoothing applies to kinds with a real target"):
        L.gan_discriminator_loss(r, f, kind="wasserstein", label_smoothing=0.1)
    with pytest.raises(ValueError, match="label_smoothing must be < 1"):
        L.gan_discriminator_loss(r, f, label_smoothing=1.0)
    with pytest.raises(ValueError, match="real_logits and fake_logits must have the same shape"):
        L.gan_discriminator_loss(r, f, reduction="none")
    with pytest.raises(TypeError, match="real_logits must have a real floating dtype"):
        L.gan_discriminator_loss(np.arange(3), f)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.gan_generator_loss(f, reduction="batchmean")


# ----------------------------------------------------------------------- gradient penalty ----
def test_gradient_penalty_against_numpy():
    rng = np.random.default_rng(1)
    g = rng.normal(size=(5, 3, 4))
    norms = np.sqrt((g.reshape(5, -1) ** 2).sum(1))
    assert float(L.gradient_penalty(g)) == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-12)
    np.testing.assert_allclose(L.gradient_penalty(g, target=2.0, one_sided=True, reduction="none"),
                               np.maximum(norms - 2, 0) ** 2, rtol=1e-12)
    # TF-GAN wasserstein_gradient_penalty(target=1, epsilon=1e-10): sqrt(sum g^2 + eps)
    tfgan = np.mean((np.sqrt((g.reshape(5, -1) ** 2).sum(1) + 1e-10) / 1.0 - 1.0) ** 2)
    assert float(L.gradient_penalty(g, eps=1e-10)) == pytest.approx(tfgan, rel=1e-12)
    # docs/differences.md: TF-GAN penalises (norm / K - 1)^2, the same only for K = 1
    tfgan_k2 = np.mean((norms / 2.0 - 1.0) ** 2)
    assert float(L.gradient_penalty(g, target=2.0)) == pytest.approx(4 * tfgan_k2, rel=1e-12)
    assert float(L.gradient_penalty(g, target=2.0)) != pytest.approx(tfgan_k2, rel=1e-3)
    assert float(L.gradient_penalty(g[:, 0, 0])) == pytest.approx(np.mean((np.abs(g[:, 0, 0]) - 1) ** 2), rel=1e-12)


def test_gradient_penalty_zero_gradient_finite():
    for fw in ("torch", "jax"):
        mod = pytest.importorskip(fw)
        g = np.zeros((3, 4))
        g[1] = [3.0, 4.0, 0.0, 0.0]
        if fw == "torch":
            x = mod.tensor(g, requires_grad=True)
            val = L.gradient_penalty(x, reduction="sum")
            (grad,) = mod.autograd.grad(val, x)
            grad = grad.numpy()
        else:
            import jax

            val, grad = jax.value_and_grad(lambda a: L.gradient_penalty(a, reduction="sum"))(jax.numpy.asarray(g))
            grad = np.asarray(grad)
        assert float(val) == pytest.approx(1 + 16 + 1)
        assert np.all(np.isfinite(grad)) and np.all(grad[[0, 2]] == 0)
        np.testing.assert_allclose(grad[1], 2 * (5 - 1) * np.array([3, 4, 0, 0]) / 5, rtol=1e-12)


def test_gradient_penalty_nan_goes_through():
    g = np.ones((3, 4))
    g[1, 2] = np.nan
    out = L.gradient_penalty(g, reduction="none")
    assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]]))
    assert np.isnan(L.gradient_penalty(g))


def test_gradient_penalty_errors():
    with pytest.raises(ValueError, match="target must be >= 0"):
        L.gradient_penalty(np.ones((2, 2)), target=-1.0)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.gradient_penalty(np.ones((2, 2)), eps=-1e-12)
    with pytest.raises(TypeError, match="one_sided must be a bool"):
        L.gradient_penalty(np.ones((2, 2)), one_sided="yes")
    with pytest.raises(ValueError, match="gradients must have at least 1 dimension"):
        L.gradient_penalty(np.float64(1.0) * np.ones(()))
    with pytest.raises(TypeError, match="gradients must have a real floating dtype"):
        L.gradient_penalty(np.ones((2, 2), dtype=np.int64))


# ------------------------------------------------------------------- critic_gradients ----
W = np.array([0.3, -0.7, 0.5, 1.1])


def _interp_np(real, fake, alpha):
    return alpha[:, None] * real + (1 - alpha[:, None]) * fake


def _grad_np(x):
    # D(x) = tanh(x @ W)  ->  dD/dx = (1 - tanh^2) W
    return (1 - np.tanh(x @ W) ** 2)[:, None] * W[None, :]


def _data():
    rng = np.random.default_rng(2)
    return rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.uniform(size=(5,))


def test_critic_gradients_torch_create_graph():
    torch = pytest.importorskip("torch")
    real, fake, alpha = _data()
    w = torch.tensor(W, requires_grad=True)

    def critic(x):
        return torch.tanh(x @ w)

    g = critic_gradients(critic, torch.tensor(real), torch.tensor(fake), torch.tensor(alpha))
    np.testing.assert_allclose(g.detach().numpy(), _grad_np(_interp_np(real, fake, alpha)), rtol=1e-12)
    assert g.requires_grad  # create_graph: the penalty reaches the critic's parameters
    L.gradient_penalty(g).backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()
    g2 = critic_gradients(critic, torch.tensor(real), create_graph=False)
    assert not g2.requires_grad
    np.testing.assert_allclose(g2.numpy(), _grad_np(real), rtol=1e-12)


def test_critic_gradients_jax_matches_torch_through_the_penalty():
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    jnp = jax.numpy
    real, fake, alpha = _data()

    def penalty_j(w):
        g = critic_gradients(lambda x: jnp.tanh(x @ w), jnp.asarray(real), jnp.asarray(fake), jnp.asarray(alpha))
        return L.gradient_penalty(g)

    val_j, dw_j = jax.jit(jax.value_and_grad(penalty_j))(jnp.asarray(W))
    w = torch.tensor(W, requires_grad=True)
    g = critic_gradients(lambda x: torch.tanh(x @ w), torch.tensor(real), torch.tensor(fake), torch.tensor(alpha))
    val_t = L.gradient_penalty(g)
    val_t.backward()
    assert float(val_j) == pytest.approx(float(val_t), rel=1e-12)
    np.testing.assert_allclose(np.asarray(dw_j), w.grad.numpy(), rtol=1e-10)
    norms = np.linalg.norm(_grad_np(_interp_np(real, fake, alpha)), axis=1)
    assert float(val_j) == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict", "dask.array"])
def test_critic_gradients_needs_autodiff(backend):
    mod = pytest.importorskip(backend)
    x = mod.asarray(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"needs automatic differentiation \(torch or jax\)"):
        critic_gradients(lambda z: z, x)


def test_critic_gradients_shape_errors():
    torch = pytest.importorskip("torch")
    real = torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"alpha must have shape \(N,\) = \(3,\)"):
        critic_gradients(lambda z: z.sum(1), real, real, torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="real and fake must have the same shape"):
        critic_gradients(lambda z: z.sum(1), real, real[:2], torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="needs the weights alpha"):
        critic_gradients(lambda z: z.sum(1), real, real)
    with pytest.raises(TypeError, match="fake must be a torch array"):
        critic_gradients(lambda z: z.sum(1), real, np.ones((3, 2)), torch.ones(3))


# ------------------------------------------------------------------------------------ VAE ----
def kl_np(mu, logvar):
    return -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=-1)


def test_gaussian_kl_against_numpy_and_closed_form():
    rng = np.random.default_rng(3)
    mu, lv = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(L.gaussian_kl_divergence(mu, lv, reduction="none"), kl_np(mu, lv), rtol=1e-12)
    assert float(L.gaussian_kl_divergence(mu, lv)) == pytest.approx(kl_np(mu, lv).mean(), rel=1e-12)
    assert float(L.gaussian_kl_divergence(mu, lv, reduction="sum")) == pytest.approx(kl_np(mu, lv).sum(), rel=1e-12)
    # KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2)/2 - 1/2 for one dimension
    m, s = 0.7, 1.8
    closed = np.log(1 / s) + (s ** 2 + m ** 2) / 2 - 0.5
    assert float(L.gaussian_kl_divergence(np.array([m]), np.array([2 * np.log(s)]))) == pytest.approx(closed, rel=1e-12)
    assert float(L.gaussian_kl_divergence(np.zeros((2, 5)), np.zeros((2, 5)))) == 0.0
    # conv-shaped latents: sum over every non-batch axis
    mu4, lv4 = rng.normal(size=(2, 3, 2, 2)), rng.normal(size=(2, 3, 2, 2))
    np.testing.assert_allclose(L.gaussian_kl_divergence(mu4, lv4, reduction="none"),
                               kl_np(mu4.reshape(2, -1), lv4.reshape(2, -1)), rtol=1e-12)


def _vae_data():
    rng = np.random.default_rng(4)
    return (rng.uniform(0.05, 0.95, size=(4, 6)), (rng.uniform(size=(4, 6)) < 0.5).astype(np.float64),
            rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))


def test_vae_pytorch_example_setting():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    recon, x, mu, lv = (torch.tensor(a, requires_grad=True) for a in _vae_data())
    ours = L.vae_loss(recon, x, mu, lv, reduction="sum")
    # the PyTorch VAE example's loss_function
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
    theirs = bce + kld
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    g1 = torch.autograd.grad(ours, (recon, mu, lv))
    g2 = torch.autograd.grad(theirs, (recon, mu, lv))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_vae_criteria_and_beta_against_numpy():
    recon, x, mu, lv = _vae_data()
    bce = -(x * np.log(recon) + (1 - x) * np.log(1 - recon)).sum(1)
    np.testing.assert_allclose(L.vae_loss(recon, x, mu, lv, beta=4.0, reduction="none"), bce + 4 * kl_np(mu, lv),
                               rtol=1e-12)
    z = np.log(recon) - np.log1p(-recon)
    np.testing.assert_allclose(L.vae_loss(z, x, mu, lv, criterion="bce_logits"), np.mean(bce + kl_np(mu, lv)),
                               rtol=1e-12)
    np.testing.assert_allclose(L.vae_loss(recon, x, mu, lv, criterion="mse", beta=0.0),
                               np.mean(((recon - x) ** 2).sum(1)), rtol=1e-12)
    one = L.vae_loss(recon[0], x[0], mu[0], lv[0], reduction="none")
    assert one.shape == () and float(one) == pytest.approx(bce[0] + kl_np(mu, lv)[0], rel=1e-12)


def test_vae_probabilities_0_and_1_finite():
    torch = pytest.importorskip("torch")
    recon = torch.tensor([[0.0, 1.0, 0.5]], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64)
    mu = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    out = L.vae_loss(recon, x, mu, mu, reduction="sum")
    out.backward()
    assert float(out) == pytest.approx(np.log(2), rel=1e-12)
    assert torch.isfinite(recon.grad).all()


def test_vae_and_perceptual_take_torch_argument_names():
    recon, x, mu, lv = _vae_data()
    assert float(L.vae_loss(input=recon, target=x, mu=mu, logvar=lv, criterion="mse")) == pytest.approx(
        float(L.vae_loss(recon, x, mu, lv, criterion="mse")), rel=1e-15)
    p, t = recon[:, :4], x[:, :4]
    assert float(L.perceptual_loss(input=p, target=t, feature_extractor=tiny_np, criterion="l1")) == \
        pytest.approx(float(L.perceptual_loss(p, t, tiny_np, criterion="l1")), rel=1e-15)


def test_gan_discriminator_loss_numpy_results_are_arrays(logits):
    r, f = logits
    for reduction in ("mean", "sum"):
        out = L.gan_discriminator_loss(r, f, reduction=reduction)
        assert type(out) is np.ndarray and out.shape == ()


def test_vae_errors():
    recon, x, mu, lv = _vae_data()
    with pytest.raises(ValueError, match="criterion must be one of"):
        L.vae_loss(recon, x, mu, lv, criterion="l1")
    with pytest.raises(ValueError, match="beta must be >= 0"):
        L.vae_loss(recon, x, mu, lv, beta=-1.0)
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.vae_loss(recon, x[:, :3], mu, lv)
    with pytest.raises(ValueError, match="same batch size N"):
        L.vae_loss(recon, x, mu[:3], lv[:3])
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        L.vae_loss(recon, x * 2, mu, lv)
    with pytest.raises(ValueError, match=r"input must hold probabilities in \[0, 1\]"):
        L.vae_loss(recon + 1, x, mu, lv)
    with pytest.raises(ValueError, match="mu and logvar must have the same shape"):
        L.gaussian_kl_divergence(mu, lv[:, :1])
    with pytest.raises(TypeError, match="logvar must have a real floating dtype"):
        L.gaussian_kl_divergence(mu, np.ones((4, 2), dtype=np.int64))


# ----------------------------------------------------------------------------- perceptual ----
WF = np.array([[0.5, -1.0, 0.2], [0.3, 0.8, -0.6], [1.0, 0.1, 0.4], [-0.2, 0.7, 0.9]])


def tiny_np(x):
    h = np.tanh(x @ WF)
    return [x, h, h[:, :2] * h[:, 1:]]


def test_perceptual_against_numpy():
    rng = np.random.default_rng(5)
    p, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    w = [1.0, 0.5, 2.0]
    want_none = sum(wk * ((a - b) ** 2).mean(axis=1) for wk, a, b in zip(w, tiny_np(p), tiny_np(t)))
    np.testing.assert_allclose(L.perceptual_loss(p, t, tiny_np, layer_weights=w, reduction="none"), want_none,
                               rtol=1e-12)
    assert float(L.perceptual_loss(p, t, tiny_np, layer_weights=w)) == pytest.approx(want_none.mean(), rel=1e-12)
    want_l1 = sum(np.abs(a - b).mean() for a, b in zip(tiny_np(p), tiny_np(t)))
    assert float(L.perceptual_loss(p, t, tiny_np, criterion="l1")) == pytest.approx(want_l1, rel=1e-12)
    assert float(L.perceptual_loss(p, p, tiny_np)) == 0.0


def test_perceptual_torch_feature_extractor_twin():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    wf = torch.tensor(WF)

    def extractor(x):  # a frozen "network": the usual VGG-slice loss has this form
        h = torch.tanh(x @ wf)
        return [x, h, h[:, :2] * h[:, 1:]]

    rng = np.random.default_rng(6)
    p = torch.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    t = torch.tensor(rng.normal(size=(3, 4)))
    ours = L.perceptual_loss(p, t, extractor, layer_weights=[1.0, 0.5, 2.0])
    theirs = sum(w * F.mse_loss(a, b) for w, a, b in zip([1.0, 0.5, 2.0], extractor(p), extractor(t)))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    (g1,) = torch.autograd.grad(ours, p)
    (g2,) = torch.autograd.grad(theirs, p)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-12)
    # identical inputs under l1: zero subgradient, like F.l1_loss
    q = t.clone().requires_grad_(True)
    L.perceptual_loss(q, t, extractor, criterion="l1").backward()
    assert (q.grad == 0).all()


def test_perceptual_errors():
    p = np.ones((2, 4))
    with pytest.raises(ValueError, match=r"layer_weights must have one weight per feature map \(3\), got 2"):
        L.perceptual_loss(p, p, tiny_np, layer_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="criterion must be one of"):
        L.perceptual_loss(p, p, tiny_np, criterion="cosine")
    with pytest.raises(TypeError, match="feature_extractor must be callable"):
        L.perceptual_loss(p, p, "vgg16")
    with pytest.raises(TypeError, match="must return a list/tuple of feature maps"):
        L.perceptual_loss(p, p, lambda x: {"a": x})
    with pytest.raises(ValueError, match="same non-zero number of feature maps"):
        L.perceptual_loss(p, p, lambda x: [])
    with pytest.raises(ValueError, match="must keep the batch axis first"):
        L.perceptual_loss(p, p, lambda x: [x.reshape(-1)])
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.perceptual_loss(p, p[:1], tiny_np)


# -------------------------------------------------------- issue 10: dtypes, edges, NaN ----
EMPTY_BACKENDS = ["numpy", "torch", "jax.numpy", "array_api_strict", "dask.array"]


def _as(backend):
    mod = pytest.importorskip(backend)
    if backend == "torch":
        return mod.tensor
    return mod.from_array if backend == "dask.array" else mod.asarray


def _empty_rule(fn):
    """An empty batch: "mean" NaN, "sum" 0, "none" empty: (0,) for per-sample losses, the
    element shape (0, ...) for the element-wise GAN losses (DESIGN rule 10)."""
    out = {r: np.asarray(fn(r)) for r in ("mean", "sum", "none")}
    assert out["mean"].shape == () and np.isnan(out["mean"])
    assert out["sum"].shape == () and out["sum"] == 0.0
    assert out["none"].shape[:1] == (0,) and out["none"].size == 0
    return out


@pytest.mark.parametrize("backend", EMPTY_BACKENDS)
def test_empty_batches(backend):
    a = _as(backend)
    g = a(np.zeros((0, 3, 2)))  # several feature axes: no reshape(..., -1) on a size-0 batch
    _empty_rule(lambda r: L.gradient_penalty(g, reduction=r))
    _empty_rule(lambda r: L.gradient_penalty(g, one_sided=True, eps=1e-12, reduction=r))
    _empty_rule(lambda r: L.gaussian_kl_divergence(g, g, reduction=r))
    p = a(np.full((0, 2, 3), 0.5))
    _empty_rule(lambda r: L.vae_loss(p, p, g, g, reduction=r))
    assert _empty_rule(lambda r: L.gradient_penalty(g, reduction=r))["none"].shape == (0,)
    _empty_rule(lambda r: L.perceptual_loss(p, p, lambda x: [x, x[:, :1, ...]], reduction=r))
    f = a(np.zeros((0, 1)))
    for kind in GAN_KINDS:
        _empty_rule(lambda r: L.gan_generator_loss(f, kind=kind, reduction=r))
        _empty_rule(lambda r: L.gan_discriminator_loss(f, f, kind=kind, reduction=r))


def test_empty_batch_gradients_are_finite():
    torch = pytest.importorskip("torch")
    g = torch.zeros((0, 3, 2), dtype=torch.float64, requires_grad=True)
    for fn in (lambda: L.gradient_penalty(g, reduction="sum"), lambda: L.gaussian_kl_divergence(g, g, reduction="sum")):
        (grad,) = torch.autograd.grad(fn(), g)
        assert grad.shape == (0, 3, 2)


def test_per_sample_sums_over_several_axes_against_numpy():
    # the per-sample sums take every non-batch axis at once (no reshape(..., -1))
    rng = np.random.default_rng(30)
    g, mu, lv = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 2, 3)) * 0.5
    norms = np.sqrt((g ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(L.gradient_penalty(g, reduction="none"), (norms - 1) ** 2, rtol=1e-12)
    want = -0.5 * (1 + lv - mu ** 2 - np.exp(lv)).sum(axis=(1, 2))
    np.testing.assert_allclose(L.gaussian_kl_divergence(mu, lv, reduction="none"), want, rtol=1e-12)


def test_vae_dtypes_are_checked_before_values():
    torch = pytest.importorskip("torch")
    recon, x, mu, lv = (torch.tensor(a) for a in _vae_data())
    # complex data used to reach the [0, 1] check first (torch: NotImplementedError in min)
    with pytest.raises(TypeError, match="target must have a real dtype"):
        L.vae_loss(recon, x.to(torch.complex128), mu, lv)
    with pytest.raises(TypeError, match="mu must have a real floating dtype"):
        L.vae_loss(recon, x, mu.to(torch.complex128), lv)
    with pytest.raises(TypeError, match="logvar must have a real floating dtype"):
        L.vae_loss(recon, x, mu, lv.to(torch.int64))
    with pytest.raises(TypeError, match="target must be an array"):
        L.vae_loss(recon, 1.0, mu, lv)
    with pytest.raises(TypeError, match=r"one framework.*input.*numpy.*target.*torch"):
        L.vae_loss(recon.numpy(), x, mu.numpy(), lv.numpy())
    # integer and bool data are accepted and cast (the library's policy for targets)
    want = L.vae_loss(recon, x, mu, lv)
    torch.testing.assert_close(L.vae_loss(recon, x.to(torch.int64), mu, lv), want, rtol=0, atol=0)
    torch.testing.assert_close(L.vae_loss(recon, x.to(torch.bool), mu, lv), want, rtol=0, atol=0)


def test_vae_nan_is_refused_eagerly_and_propagates_under_jit():
    jax = pytest.importorskip("jax")
    recon, x, mu, lv = _vae_data()
    bad = recon.copy()
    bad[1, 2] = np.nan
    # eagerly the probabilities are checked (torch's binary_cross_entropy refuses NaN too)
    with pytest.raises(ValueError, match="input must hold probabilities in .*, got a NaN"):
        L.vae_loss(bad, x, mu, lv)
    jnp = jax.numpy
    out = jax.jit(lambda p: L.vae_loss(p, jnp.asarray(x), jnp.asarray(mu), jnp.asarray(lv), reduction="none"))(
        jnp.asarray(bad))
    assert np.isnan(out[1]) and np.all(np.isfinite(np.asarray(out)[[0, 2, 3]]))
    # no value check on logits / latents: NaN goes through
    z = np.log(recon) - np.log1p(-recon)
    z[2, 0] = np.nan
    assert np.isnan(L.vae_loss(z, x, mu, lv, criterion="bce_logits", reduction="none")[2])
    m = mu.copy()
    m[3, 1] = np.nan
    assert np.isnan(L.vae_loss(recon, x, m, lv, reduction="none")).tolist() == [False, False, False, True]


def test_gan_nan_goes_through_every_kind(logits):
    r, f = logits
    f = f.copy()
    f[2] = np.nan
    for kind in GAN_KINDS:
        assert np.isnan(L.gan_generator_loss(f, kind=kind)), kind
        assert np.isnan(L.gan_discriminator_loss(r, f, kind=kind)), kind
        none = L.gan_discriminator_loss(r[:5], f, kind=kind, reduction="none")
        assert np.isnan(none).tolist() == [False, False, True, False, False], kind


def test_hyper_parameters_are_checked():
    g = np.ones((2, 2))
    recon, x, mu, lv = _vae_data()
    r = np.ones(3)
    cases = [
        (lambda: L.gradient_penalty(g, target=np.inf), ValueError, "target must be finite"),
        (lambda: L.gradient_penalty(g, target=np.nan), TypeError, "target must be a real number"),
        (lambda: L.gradient_penalty(g, eps=np.inf), ValueError, "eps must be finite"),
        (lambda: L.gradient_penalty(g, one_sided=1), TypeError, "one_sided must be a bool"),
        (lambda: L.vae_loss(recon, x, mu, lv, beta=np.inf), ValueError, "beta must be finite"),
        (lambda: L.vae_loss(recon, x, mu, lv, beta="1"), TypeError, "beta must be a real number"),
        (lambda: L.gan_discriminator_loss(r, r, label_smoothing=np.nan), TypeError, "label_smoothing must be a real"),
        (lambda: L.gan_discriminator_loss(r, r, label_smoothing=True), TypeError, "label_smoothing must be a real"),
        (lambda: L.perceptual_loss(g, g, tiny_np_2, layer_weights=2.0), TypeError, "layer_weights must be a sequence"),
        (lambda: L.perceptual_loss(g, g, tiny_np_2, layer_weights="ab"), TypeError, "layer_weights must be a sequence"),
        (lambda: L.perceptual_loss(g, g, tiny_np_2, layer_weights=[1.0, -1.0]), ValueError,
         r"layer_weights\[1\] must be >= 0"),
        (lambda: L.perceptual_loss(g, g, tiny_np_2, layer_weights=[1.0, np.inf]), ValueError,
         r"layer_weights\[1\] must be finite"),
        (lambda: L.perceptual_loss(g, g, tiny_np_2, layer_weights=[None, 1.0]), TypeError,
         r"layer_weights\[0\] must be a real number"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()


def tiny_np_2(x):
    return [x, np.tanh(x)]


def test_perceptual_dtypes_and_arrays_are_named():
    p = np.ones((2, 4))
    with pytest.raises(TypeError, match="input must have a real floating dtype"):
        L.perceptual_loss(p.astype(np.complex128), p, tiny_np)
    with pytest.raises(TypeError, match="input must have a real floating dtype"):
        L.perceptual_loss(p.astype(np.int64), p, tiny_np)
    with pytest.raises(TypeError, match="target must have a real dtype"):
        L.perceptual_loss(p, p.astype(np.complex128), tiny_np)
    with pytest.raises(TypeError, match="target must be an array"):
        L.perceptual_loss(p, p.tolist(), tiny_np)
    q = p * 2
    with pytest.raises(TypeError, match=r"features\[1\] of target must have a real dtype"):
        L.perceptual_loss(p, q, lambda x: [x, x.astype(np.complex128) if x is q else x])
    # integer images go through the extractor (which decides what to do with them)
    ints = np.arange(8).reshape(2, 4)
    got = L.perceptual_loss(p, ints, lambda x: [x.astype(np.float64)], reduction="none")
    np.testing.assert_allclose(got, ((p - ints) ** 2).mean(axis=1), rtol=1e-15)


def test_gan_and_penalty_name_their_arrays(logits):
    r, f = logits
    with pytest.raises(TypeError, match="real_logits must be an array"):
        L.gan_discriminator_loss(r.tolist(), f)
    with pytest.raises(TypeError, match="fake_logits must be an array"):
        L.gan_discriminator_loss(r, f.tolist())
    with pytest.raises(TypeError, match="fake_logits must be an array"):
        L.gan_generator_loss(None)
    with pytest.raises(TypeError, match="fake_logits must have a real floating dtype"):
        L.gan_discriminator_loss(r, f.astype(np.complex128))
    with pytest.raises(TypeError, match="gradients must be an array"):
        L.gradient_penalty([[1.0, 2.0]])
    with pytest.raises(TypeError, match="mu must be an array"):
        L.gaussian_kl_divergence(None, f)


def test_critic_gradients_argument_errors():
    torch = pytest.importorskip("torch")
    real = torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match="critic must be callable"):
        critic_gradients("critic", real)
    with pytest.raises(TypeError, match="create_graph must be a bool"):
        critic_gradients(lambda z: z.sum(1), real, create_graph=1)
    # an empty batch gives empty gradients
    assert critic_gradients(lambda z: z.sum(1), real[:0], real[:0], torch.ones(0, dtype=torch.float64)).shape == (0, 2)


# ------------------------------------------------------------- StyleGAN2 regularisers ----
def test_stylegan2_logistic_losses_are_the_non_saturating_kind(logits):
    """StyleGAN2(-ADA): D = softplus(D(G(z))).mean() + softplus(-D(x)).mean(), G =
    softplus(-D(G(z))).mean(), written here with log1p/exp in float64."""
    r, f = logits

    def sp(x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    assert float(L.gan_discriminator_loss(r, f)) == pytest.approx(sp(f).mean() + sp(-r).mean(), rel=1e-13)
    assert float(L.gan_generator_loss(f)) == pytest.approx(sp(-f).mean(), rel=1e-13)
    np.testing.assert_allclose(L.gan_generator_loss(f, reduction="none"), sp(-f), rtol=1e-13)


def test_r1_r2_against_numpy():
    rng = np.random.default_rng(3)
    g = rng.normal(size=(6, 2, 3, 4))
    sq = (g.reshape(6, -1) ** 2).sum(1)
    for fn in (L.r1_penalty, L.r2_penalty):
        assert float(fn(g)) == pytest.approx(10.0 / 2 * sq.mean(), rel=1e-13)  # StyleGAN2's gamma = 10
        # lazy regularisation: every 16 minibatches, times 16 (StyleGAN2-ADA's .mean().mul(16))
        assert float(fn(g, gamma=0.5, interval=16)) == pytest.approx(0.25 * sq.mean() * 16, rel=1e-13)
        np.testing.assert_allclose(fn(g, gamma=2.0, reduction="none"), sq, rtol=1e-13)
        assert float(fn(g, reduction="sum")) == pytest.approx(5 * sq.sum(), rel=1e-13)
        assert float(fn(g[:, 0, 0, 0], gamma=4.0)) == pytest.approx(2 * np.mean(g[:, 0, 0, 0] ** 2), rel=1e-13)
    np.testing.assert_array_equal(L.r1_penalty(g, interval=4), L.r2_penalty(g, interval=4))


def _tanh_critic_grad(x, w):
    """d/dx sum tanh(x @ w) = (1 - tanh(x @ w)^2) w^T, per sample."""
    return (1 - np.tanh(x @ w) ** 2)[:, None] * w[None, :]


def test_r1_torch_autograd_and_jax_grad_reach_the_discriminator():
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(4)
    real, w0 = rng.normal(size=(7, 3)), rng.normal(size=(3,))
    want = 5.0 * np.mean((_tanh_critic_grad(real, w0) ** 2).sum(1)) * 16
    # torch: torch.autograd.grad(..., create_graph=True)
    w = torch.tensor(w0, requires_grad=True)
    x = torch.tensor(real).requires_grad_(True)
    (g,) = torch.autograd.grad(torch.tanh(x @ w).sum(), x, create_graph=True)
    val_t = L.r1_penalty(g, interval=16)
    val_t.backward()
    assert float(val_t.detach()) == pytest.approx(want, rel=1e-12)
    # JAX: jax.grad w.r.t. the inputs inside the loss differentiated w.r.t. the parameters

    def penalty(wj):
        gj = jax.grad(lambda xj: jnp.sum(jnp.tanh(xj @ wj)))(jnp.asarray(real))
        return L.r1_penalty(gj, interval=16)

    val_j, dw_j = jax.jit(jax.value_and_grad(penalty))(jnp.asarray(w0))
    assert float(val_j) == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(np.asarray(dw_j), w.grad.numpy(), rtol=1e-10)
    # central differences of the float64 formula w.r.t. the discriminator's weights
    h = 1e-6
    fd = [(5.0 * 16 * np.mean((_tanh_critic_grad(real, w0 + h * e) ** 2).sum(1))
           - 5.0 * 16 * np.mean((_tanh_critic_grad(real, w0 - h * e) ** 2).sum(1))) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(w.grad.numpy(), fd, rtol=1e-6)


def _stylegan2_pl(pl_grads, pl_mean, decay):
    """StyleGAN2-ADA's path-length step in float64 NumPy: lengths over (N, num_ws, w_dim)."""
    lengths = np.sqrt((pl_grads ** 2).sum(2).mean(1))
    new_mean = pl_mean + decay * (lengths.mean() - pl_mean)  # torch.lerp
    return (lengths - new_mean) ** 2, new_mean


def test_path_length_penalty_against_stylegan2():
    rng = np.random.default_rng(5)
    num_ws = 6
    pl = rng.normal(size=(4, num_ws, 5))
    pen, new_mean = _stylegan2_pl(pl, 0.9, 0.01)
    g = pl / np.sqrt(num_ws)  # StyleGAN2 averages the squared norms over the broadcast w's
    np.testing.assert_allclose(L.path_length_penalty(g, 0.9, reduction="none"), pen, rtol=1e-13)
    assert float(L.path_length_penalty(g, np.asarray(0.9))) == pytest.approx(pen.mean(), rel=1e-13)
    assert float(L.path_length_penalty(g, 0.9, reduction="sum")) == pytest.approx(pen.sum(), rel=1e-13)
    assert float(L.path_length_mean_update(g, 0.9)) == pytest.approx(new_mean, rel=1e-14)
    # the running mean over several minibatches, starting at 0 (StyleGAN2's initial pl_mean)
    a_lib, a_ref = np.asarray(0.0), 0.0
    for step in range(5):
        pl = rng.normal(size=(4, num_ws, 5)) * (1 + step)
        pen, a_ref_next = _stylegan2_pl(pl, a_ref, 0.3)
        got = L.path_length_penalty(pl / np.sqrt(num_ws), a_lib, decay=0.3, reduction="none")
        np.testing.assert_allclose(got, pen, rtol=1e-12)
        a_lib, a_ref = L.path_length_mean_update(pl / np.sqrt(num_ws), a_lib, decay=0.3), a_ref_next
        assert float(a_lib) == pytest.approx(a_ref, rel=1e-13)
    assert a_lib.shape == ()
    # decay 0 keeps the mean; decay 1 replaces it with the batch's mean length
    lengths = np.linalg.norm(pl.reshape(4, -1), axis=1)
    assert float(L.path_length_mean_update(pl, 2.0, decay=0.0)) == 2.0
    assert float(L.path_length_mean_update(pl, 2.0, decay=1.0)) == pytest.approx(lengths.mean(), rel=1e-14)


def test_path_length_gradients_hold_the_mean_constant():
    """torch and JAX: the penalty's gradient is 2 (|g| - a') g / |g| with a' constant (the
    StyleGAN2-ADA code detaches pl_mean); the updated mean has no gradient at all."""
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(6)
    g0 = rng.normal(size=(5, 4))
    g0[2] = 0.0  # a zero product: subgradient 0, not NaN
    lengths = np.linalg.norm(g0, axis=1)
    a_new = 0.7 + 0.2 * (lengths.mean() - 0.7)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.where(lengths[:, None] > 0, 2 * (lengths - a_new)[:, None] * g0 / lengths[:, None], 0.0)
    g = torch.tensor(g0, requires_grad=True)
    a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    L.path_length_penalty(g, a, decay=0.2, reduction="sum").backward()
    np.testing.assert_allclose(g.grad.numpy(), want, rtol=1e-12, atol=1e-15)
    assert a.grad is None or float(a.grad) == 0.0
    new = L.path_length_mean_update(g, a, decay=0.2)
    assert not new.requires_grad and float(new) == pytest.approx(a_new, rel=1e-14)
    jg = jax.grad(lambda x: L.path_length_penalty(x, 0.7, decay=0.2, reduction="sum"))(jax.numpy.asarray(g0))
    np.testing.assert_allclose(np.asarray(jg), want, rtol=1e-12, atol=1e-15)
    ju = jax.grad(lambda x: L.path_length_mean_update(x, 0.7, decay=0.2))(jax.numpy.asarray(g0))
    np.testing.assert_array_equal(np.asarray(ju), 0.0)


def test_stylegan2_regularisers_nan_and_empty():
    g = np.ones((3, 2))
    g[1, 0] = np.nan
    r1 = L.r1_penalty(g, reduction="none")
    assert np.isnan(r1[1]) and np.isfinite(r1[[0, 2]]).all()
    assert np.isnan(L.path_length_penalty(g, 1.0, reduction="none")).all()  # the batch mean is NaN
    assert np.isnan(L.path_length_mean_update(g, 1.0))
    assert np.isnan(L.path_length_penalty(np.ones((2, 2)), np.asarray(np.nan)))
    empty = np.ones((0, 3))
    for fn in (L.r1_penalty, L.r2_penalty, lambda x, **k: L.path_length_penalty(x, 1.0, **k)):
        assert np.isnan(fn(empty)) and float(fn(empty, reduction="sum")) == 0.0
        assert fn(empty, reduction="none").shape == (0,)
    assert np.isnan(L.path_length_mean_update(empty, 1.0))  # the mean of nothing


def test_stylegan2_regulariser_errors():
    g = np.ones((3, 2))
    for fn in (L.r1_penalty, L.r2_penalty):
        with pytest.raises(ValueError, match="gamma"):
            fn(g, gamma=-1.0)
        with pytest.raises(ValueError, match="gamma"):
            fn(g, gamma=float("inf"))
        with pytest.raises(TypeError, match="gamma"):
            fn(g, gamma=float("nan"))
        with pytest.raises(ValueError, match=r"interval must be an int >= 1, got 0"):
            fn(g, interval=0)
        for bad in (True, 2.0, "4"):
            with pytest.raises(TypeError, match="interval must be an int"):
                fn(g, interval=bad)
        with pytest.raises(TypeError, match="gradients"):
            fn(np.ones((3, 2), dtype=np.int64))
        with pytest.raises(TypeError, match="gradients must be an array"):
            fn([[1.0, 2.0]])
        with pytest.raises(ValueError, match="gradients"):
            fn(np.asarray(1.0))
        with pytest.raises(ValueError, match="reduction"):
            fn(g, reduction="batchmean")
    for fn in (L.path_length_penalty, L.path_length_mean_update):
        for bad in (-0.1, 1.5, float("inf")):
            with pytest.raises(ValueError, match="decay"):
                fn(g, 0.0, decay=bad)
        with pytest.raises(TypeError, match="decay"):
            fn(g, 0.0, decay=None)
        with pytest.raises(ValueError, match=r"mean_path_length must be a number or a 0-d array.*\(2,\)"):
            fn(g, np.ones(2))
        with pytest.raises(ValueError, match="mean_path_length"):
            fn(g, -1.0)
        with pytest.raises(ValueError, match="mean_path_length"):
            fn(g, float("inf"))
        for bad in ("0", None, [0.0], True):
            with pytest.raises(TypeError, match="mean_path_length"):
                fn(g, bad)
        with pytest.raises(TypeError, match="mean_path_length"):
            fn(g, np.asarray(1.0 + 0j))
        with pytest.raises(TypeError, match="gradients"):
            fn(g.astype(np.complex128), 0.0)


# ------------------------------------------------------------------------ docs examples ----
def test_docs_example_wgan_gp_torch():
    torch = pytest.importorskip("torch")
    # --- docs/generative.md: WGAN-GP with PyTorch ---
    import torch
    from losses.backends.autodiff import critic_gradients
    from losses import gan_discriminator_loss, gan_generator_loss, gradient_penalty

    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    generator = torch.nn.Linear(4, 2)
    real = torch.randn(32, 2)
    fake = generator(torch.randn(32, 4))

    # critic step: Wasserstein loss + 10 * gradient penalty at random interpolates
    alpha = torch.rand(32)
    grads = critic_gradients(critic, real, fake.detach(), alpha)  # create_graph=True
    loss_d = gan_discriminator_loss(critic(real), critic(fake.detach()), kind="wasserstein") \
        + 10.0 * gradient_penalty(grads)
    loss_d.backward()

    # generator step
    loss_g = gan_generator_loss(critic(fake), kind="wasserstein")
    loss_g.backward()
    # --- end ---
    assert all(torch.isfinite(p.grad).all() for p in critic.parameters())
    assert all(torch.isfinite(p.grad).all() for p in generator.parameters())


def test_docs_example_wgan_gp_jax():
    jax = pytest.importorskip("jax")
    # --- docs/generative.md: WGAN-GP with JAX ---
    import jax
    import jax.numpy as jnp
    from losses.backends.autodiff import critic_gradients
    from losses import gan_discriminator_loss, gradient_penalty

    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {"w": jax.random.normal(k1, (2,)), "b": jnp.zeros(())}
    real = jax.random.normal(k2, (32, 2))
    fake = real + 1.0
    alpha = jax.random.uniform(k3, (32,))

    def critic(params, x):
        return jnp.tanh(x @ params["w"] + params["b"])

    @jax.jit
    def critic_loss(params):
        d = lambda x: critic(params, x)  # noqa: E731
        grads = critic_gradients(d, real, fake, alpha)
        return gan_discriminator_loss(d(real), d(fake), kind="wasserstein") + 10.0 * gradient_penalty(grads)

    loss, dparams = jax.value_and_grad(critic_loss)(params)
    # --- end ---
    assert np.isfinite(float(loss)) and all(np.all(np.isfinite(v)) for v in jax.tree_util.tree_leaves(dparams))


def test_docs_example_stylegan2_torch():
    torch = pytest.importorskip("torch")
    # --- docs/generative.md: StyleGAN2 regularisers with PyTorch ---
    import math
    import torch
    from losses import gan_discriminator_loss, gan_generator_loss, path_length_mean_update, \
        path_length_penalty, r1_penalty

    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 1))
    mapping = torch.nn.Linear(8, 3 * 16)                 # z -> w, broadcast to num_ws = 3 layers
    synthesis = torch.nn.Linear(3 * 16, 2 * 4 * 4)       # ws -> a 2 x 4 x 4 "image"
    real = torch.randn(8, 2, 4, 4)
    pl_mean = torch.zeros(())                            # StyleGAN2's running mean starts at 0

    # discriminator step with lazy R1 (this is a step where i % 16 == 0)
    x = real.detach().requires_grad_(True)
    real_logits = D(x)
    (r1_grads,) = torch.autograd.grad(real_logits.sum(), x, create_graph=True)
    fake = synthesis(mapping(torch.randn(8, 8))).reshape(8, 2, 4, 4)
    loss_d = gan_discriminator_loss(real_logits, D(fake.detach())) + r1_penalty(r1_grads, gamma=10.0, interval=16)
    loss_d.backward()

    # generator step with lazy path-length regularisation (every 4 steps, weight 2)
    ws = mapping(torch.randn(8, 8)).reshape(8, 3, 16)
    img = synthesis(ws.reshape(8, -1)).reshape(8, 2, 4, 4)
    y = torch.randn_like(img) / math.sqrt(4 * 4)
    (pl_grads,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
    g = pl_grads / math.sqrt(3)                          # StyleGAN2's mean over the num_ws layers
    loss_g = gan_generator_loss(D(img)) + 2.0 * 4 * path_length_penalty(g, pl_mean)
    pl_mean = path_length_mean_update(g, pl_mean)        # the new running mean, detached
    loss_g.backward()
    # --- end ---
    assert all(torch.isfinite(p.grad).all() for p in D.parameters())
    assert all(torch.isfinite(p.grad).all() for p in (*mapping.parameters(), *synthesis.parameters()))
    assert not pl_mean.requires_grad and pl_mean.shape == () and float(pl_mean) > 0


def test_docs_example_vae_and_perceptual():
    # --- docs/generative.md: VAE and perceptual (NumPy) ---
    import numpy as np
    from losses import gaussian_kl_divergence, perceptual_loss, vae_loss

    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(8, 784)) < 0.3).astype(np.float64)   # binarised images
    recon = rng.uniform(0.01, 0.99, size=(8, 784))               # decoder's Bernoulli means
    mu, logvar = rng.normal(size=(8, 20)), rng.normal(size=(8, 20)) * 0.1
    elbo_loss = vae_loss(recon, x, mu, logvar, beta=1.0)          # per-sample negative ELBO
    kl = gaussian_kl_divergence(mu, logvar)

    weights = rng.normal(size=(784, 32)) / 28.0

    def features(images):                                         # any frozen network
        h1 = np.tanh(images @ weights)
        return [h1, np.tanh(h1 @ weights[:32, :16])]

    perc = perceptual_loss(recon, x, features, layer_weights=[1.0, 0.5])
    # --- end ---
    assert float(elbo_loss) > float(kl) > 0 and float(perc) > 0


def test_docs_code_blocks_are_the_tested_examples():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    md = re.findall(r"```python\n(.*?)```", (root / "docs" / "generative.md").read_text(), re.S)
    src = pathlib.Path(__file__).read_text()
    tested = ["\n".join(line[4:] for line in m.group(1).splitlines()).rstrip() + "\n" for m in
              re.finditer(r"    # --- docs/generative.md[^\n]*---\n(.*?)    # --- end ---", src, re.S)]
    assert md == tested


def _graph_names(t):
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        f = stack.pop()
        if f is None or f in seen:
            continue
        seen.add(f)
        names.add(type(f).__name__)
        stack.extend(g for g, _ in f.next_functions)
    return names


def test_vae_reconstruction_is_the_librarys_elementwise_loss():
    """The reconstruction term is ``mse_loss``/``binary_cross_entropy*`` (their native kernel on
    torch where one is registered); "sum"/"mean" reduce it without a per-sample array and
    agree with the per-sample sums of ``reduction="none"``."""
    torch = pytest.importorskip("torch")
    from losses.backends import generic_paths
    recon, x, mu, lv = (torch.tensor(a) for a in _vae_data())
    z = torch.logit(recon)
    for inp, crit, peer in ((recon, "bce", lambda: L.binary_cross_entropy(recon, x, reduction="sum")),
                            (z, "bce_logits", lambda: L.binary_cross_entropy_with_logits(z, x, reduction="sum")),
                            (z, "mse", lambda: L.mse_loss(z, x, reduction="sum"))):
        per = L.vae_loss(inp, x, mu, lv, criterion=crit, reduction="none")
        total = L.vae_loss(inp, x, mu, lv, criterion=crit, reduction="sum")
        torch.testing.assert_close(total, per.sum(), rtol=1e-12, atol=0)
        torch.testing.assert_close(L.vae_loss(inp, x, mu, lv, criterion=crit), per.mean(), rtol=1e-12, atol=0)
        torch.testing.assert_close(L.vae_loss(inp, x, mu, lv, criterion=crit, beta=0.0, reduction="sum"), peer(),
                                   rtol=0, atol=0)
    # the mse kernel is registered on torch: vae_loss runs it, the generic namespace does not
    p = z.clone().requires_grad_()
    assert "MseLossBackward0" in _graph_names(L.vae_loss(p, x, mu, lv, criterion="mse", reduction="sum"))
    with generic_paths():
        assert "MseLossBackward0" not in _graph_names(L.vae_loss(p, x, mu, lv, criterion="mse", reduction="sum"))


def test_vae_empty_batch_and_single_sample_rules():
    torch = pytest.importorskip("torch")
    e = torch.zeros(0, 5, dtype=torch.float64)
    m = torch.zeros(0, 2, dtype=torch.float64)
    assert torch.isnan(L.vae_loss(e, e, m, m))
    assert float(L.vae_loss(e, e, m, m, reduction="sum")) == 0.0
    recon, x, mu, lv = (torch.tensor(a) for a in _vae_data())
    one = L.vae_loss(recon[0], x[0], mu[0], lv[0])
    torch.testing.assert_close(one, L.vae_loss(recon[:1], x[:1], mu[:1], lv[:1]), rtol=1e-12, atol=0)
