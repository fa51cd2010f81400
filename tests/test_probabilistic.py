"""Gaussian and Poisson NLL: torch parity (values and gradients), literature values, errors."""
import math

import numpy as np
import pytest

import losses as L

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(99)


def _t(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _same(ours, theirs, wrt_ours, wrt_theirs, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)
    v = torch.tensor(np.random.default_rng(0).uniform(0.5, 1.5, size=tuple(ours.shape)))
    g1 = torch.autograd.grad((ours * v).sum(), wrt_ours)
    g2 = torch.autograd.grad((theirs * v).sum(), wrt_theirs)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


# ------------------------------------------------------------------ gaussian_nll_loss
@pytest.mark.parametrize("var_shape", [(6, 3), (6,), (6, 1), (1, 3)])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gaussian_nll_matches_torch(var_shape, full, reduction):
    x, y = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    v = RNG.uniform(0.1, 2.0, size=var_shape)
    a, b, va, vb = _t(x), _t(x), _t(v), _t(v)
    _same(L.gaussian_nll_loss(a, _t(y, False), va, full=full, reduction=reduction),
          F.gaussian_nll_loss(b, _t(y, False), vb, full=full, reduction=reduction), [a, va], [b, vb])


def test_gaussian_nll_var_below_eps_is_torchs_clamp():
    # value uses max(var, eps); the gradient wrt var passes straight through the clamp (torch)
    x, y = RNG.normal(size=(4,)), RNG.normal(size=(4,))
    v = np.array([0.0, 1e-9, 1e-3, 0.5])
    a, b, va, vb = _t(x), _t(x), _t(v), _t(v)
    ours = L.gaussian_nll_loss(a, _t(y, False), va, eps=1e-4, reduction="none")
    _same(ours, F.gaussian_nll_loss(b, _t(y, False), vb, eps=1e-4, reduction="none"), [a, va], [b, vb])
    d2 = (x - y) ** 2
    vc = np.maximum(v, 1e-4)
    np.testing.assert_allclose(ours.detach().numpy(), 0.5 * (np.log(vc) + d2 / vc), rtol=1e-14)


def test_gaussian_nll_float_var_and_literature_value():
    x, y = RNG.normal(size=(5,)), RNG.normal(size=(5,))
    a, b = _t(x), _t(x)
    _same(L.gaussian_nll_loss(a, _t(y, False), 0.3, full=True, reduction="none"),
          F.gaussian_nll_loss(b, _t(y, False), 0.3, full=True, reduction="none"), [a], [b])
    # full=True is exactly the negative log-density of N(x, var) at y
    from math import log, pi

    want = 0.5 * log(2 * pi * 0.3) + (y - x) ** 2 / (2 * 0.3)
    np.testing.assert_allclose(L.gaussian_nll_loss(x, y, 0.3, full=True, reduction="none"), want, rtol=1e-14)


def test_gaussian_nll_scipy_logpdf():
    stats = pytest.importorskip("scipy.stats")
    x, y, v = RNG.normal(size=(7,)), RNG.normal(size=(7,)), RNG.uniform(0.2, 3, size=(7,))
    np.testing.assert_allclose(L.gaussian_nll_loss(x, y, v, full=True, reduction="sum"),
                               -stats.norm.logpdf(y, loc=x, scale=np.sqrt(v)).sum(), rtol=1e-13)


def test_gaussian_nll_errors():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="var must be non-negative, got a minimum of -1.0"):
        L.gaussian_nll_loss(x, x, np.full((4, 3), -1.0))
    with pytest.raises(ValueError, match="var must be >= 0, got -0.5"):
        L.gaussian_nll_loss(x, x, -0.5)
    with pytest.raises(ValueError, match=r"var of shape \(3,\) does not fit input \(4, 3\)"):
        L.gaussian_nll_loss(x, x, np.ones(3))
    with pytest.raises(ValueError, match=r"var of shape \(2, 3\) does not fit input"):
        L.gaussian_nll_loss(x, x, np.ones((2, 3)))
    with pytest.raises(ValueError, match="eps must be > 0"):
        L.gaussian_nll_loss(x, x, np.ones((4, 3)), eps=0.0)
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.gaussian_nll_loss(x, np.zeros((1, 3)), np.ones((4, 3)))
    with pytest.raises(TypeError, match="input must have a real floating dtype"):
        L.gaussian_nll_loss(np.zeros((4, 3), dtype=int), x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.gaussian_nll_loss(x, x, np.ones((4, 3)), reduction="batchmean")


def test_gaussian_nll_target_broadcast_difference():
    # docs/differences.md: torch broadcasts input against target, we require equal shapes
    x, y, v = torch.zeros(4, 3, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64)
    assert torch.isfinite(F.gaussian_nll_loss(x, y, v))
    with pytest.raises(ValueError, match="same shape"):
        L.gaussian_nll_loss(x, y, v)


def test_gaussian_nll_negative_var_skipped_under_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.zeros(3)
    out = jax.jit(lambda v: L.gaussian_nll_loss(x, x, v, reduction="none"))(jnp.asarray([1.0, 2.0, 0.5]))
    np.testing.assert_allclose(out, 0.5 * np.log([1.0, 2.0, 0.5]), rtol=1e-14)


# ------------------------------------------------------------------ poisson_nll_loss
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_poisson_nll_matches_torch(log_input, full, reduction):
    x = RNG.normal(size=(5, 4)) if log_input else RNG.uniform(0.05, 4, size=(5, 4))
    y = RNG.poisson(2.0, size=(5, 4)).astype(float)
    y[0, :3] = [0.0, 1.0, 1.5]
    a, b = _t(x), _t(x)
    _same(L.poisson_nll_loss(a, _t(y, False), log_input=log_input, full=full, reduction=reduction),
          F.poisson_nll_loss(b, _t(y, False), log_input=log_input, full=full, reduction=reduction), [a], [b])


def test_poisson_nll_eps_and_zero_rate():
    x = np.array([0.0, 0.5, 2.0])
    y = np.array([0.0, 2.0, 3.0])
    a, b = _t(x), _t(x)
    _same(L.poisson_nll_loss(a, _t(y, False), log_input=False, eps=1e-3, reduction="none"),
          F.poisson_nll_loss(b, _t(y, False), log_input=False, eps=1e-3, reduction="none"), [a], [b])


def test_poisson_nll_stirling_only_above_one_and_scipy():
    stats = pytest.importorskip("scipy.stats")
    lam = np.array([3.0, 3.0, 3.0, 20.0])
    y = np.array([0.0, 1.0, 2.0, 25.0])
    out = L.poisson_nll_loss(np.log(lam), y, full=True, reduction="none")
    stirling = np.where(y > 1, y * np.log(np.where(y > 1, y, 1)) - y + 0.5 * np.log(2 * np.pi * np.where(y > 1, y, 1)), 0)
    np.testing.assert_allclose(out, lam - y * np.log(lam) + stirling, rtol=1e-14)
    # Stirling's series: log(y!) = y log y - y + 0.5 log(2 pi y) + 1/(12 y) - ..., so full=True
    # undershoots the exact negative log-pmf by about 1/(12 y)
    gap = -stats.poisson.logpmf(25, 20.0) - out[3]
    np.testing.assert_allclose(gap, 1 / (12 * 25) - 1 / (360 * 25**3), rtol=1e-4)
    # without full: the NLL up to log(y!)
    np.testing.assert_allclose(L.poisson_nll_loss(np.log(lam), y, reduction="none"),
                               -stats.poisson.logpmf(y, lam) - np.array([math.lgamma(v + 1) for v in y]), rtol=1e-13)


def test_poisson_nll_target_gradient_finite_where_torch_is_nan():
    # docs/differences.md: the Stirling term's gradient wrt target at y = 0 is 0 here, NaN in torch
    x = np.array([0.3, -0.2])
    y = np.array([0.0, 3.0])
    ya, yb = _t(y), _t(y)
    g = torch.autograd.grad(L.poisson_nll_loss(_t(x, False), ya, full=True, reduction="sum"), ya)[0]
    assert torch.isfinite(g).all()
    # d/dy of (-y x + y log y - y + 0.5 log(2 pi y)) at y = 3
    np.testing.assert_allclose(g[1].item(), -x[1] + np.log(3.0) + 1 / 6, rtol=1e-14)
    assert g[0].item() == -x[0]
    try:
        gt = torch.autograd.grad(F.poisson_nll_loss(_t(x, False), yb, full=True, reduction="sum"), yb)[0]
    except RuntimeError:  # torch may refuse target gradients altogether
        return
    assert torch.isnan(gt[0])


def test_poisson_nll_errors():
    x = np.zeros(3)
    with pytest.raises(ValueError, match="target must be non-negative, got a minimum of -1.0"):
        L.poisson_nll_loss(x, np.array([0.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match=r"input \(a rate, log_input=False\) must be non-negative"):
        L.poisson_nll_loss(np.array([-0.1, 1.0, 1.0]), np.ones(3), log_input=False)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        L.poisson_nll_loss(x, np.ones(3), eps=-1.0)
    with pytest.raises(ValueError, match="input and target must have the same shape"):
        L.poisson_nll_loss(x, np.ones(4))


def test_negative_rate_torch_nan_we_raise():
    # docs/differences.md: torch returns NaN for a negative rate with log_input=False
    x, y = torch.tensor([-0.5], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64)
    assert torch.isnan(F.poisson_nll_loss(x, y, log_input=False))
    with pytest.raises(ValueError, match="must be non-negative"):
        L.poisson_nll_loss(x, y, log_input=False)


def test_bernoulli_nll_is_binary_cross_entropy():
    # documented equivalence instead of a separate binary_nll
    stats = pytest.importorskip("scipy.stats")
    p = RNG.uniform(0.05, 0.95, size=(6,))
    y = (RNG.uniform(size=(6,)) < 0.5).astype(float)
    want = -stats.bernoulli.logpmf(y, p)
    np.testing.assert_allclose(L.binary_cross_entropy(p, y, reduction="none"), want, rtol=1e-13)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits(z, y, reduction="none"), want, rtol=1e-12)


# ------------------------------------------------------------------ honest edges (issue 10)
def test_gaussian_nll_float16_at_1e4_computes_in_float32():
    # d = 1e4, var = 1e4: d**2 = 1e8 overflows float16, the loss (~5e3) and every gradient fit.
    # Computed in float32 inside (DESIGN rule 7): finite, and equal to the float64 values
    # rounded to float16; in pure float16 arithmetic d**2 / var**2 would be inf
    x = np.array([1e4, -1e4, 0.5])
    y = np.array([0.0, 0.0, 0.0])
    v = np.array([1e4, 2e4, 1.0])
    a, va = (torch.tensor(t, dtype=torch.float16, requires_grad=True) for t in (x, v))
    out = L.gaussian_nll_loss(a, torch.tensor(y, dtype=torch.float16), va, reduction="sum")
    assert out.dtype == torch.float16 and torch.isfinite(out)
    ga, gv = torch.autograd.grad(out, [a, va])
    assert torch.isfinite(ga).all() and torch.isfinite(gv).all()
    xh, vh = a.detach().double().numpy(), va.detach().double().numpy()
    d = xh - y
    np.testing.assert_allclose(ga.double().numpy(), (d / vh).astype(np.float16), rtol=1e-3)
    np.testing.assert_allclose(gv.double().numpy(), (0.5 * (1 / vh - d**2 / vh**2)).astype(np.float16), rtol=1e-3)
    assert out.item() == pytest.approx(np.sum(0.5 * (np.log(vh) + d**2 / vh)), rel=1e-3)


def test_gaussian_nll_nan_variance_is_nan_not_clamped():
    x = np.zeros(3)
    out = L.gaussian_nll_loss(x, x, np.array([np.nan, 1.0, 1e-9]), reduction="none")
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
    tv = F.gaussian_nll_loss(torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                             torch.tensor([np.nan, 1.0, 1e-9], dtype=torch.float64), reduction="none")
    assert torch.isnan(tv[0])


def test_poisson_negative_target_torch_computes_we_raise():
    # docs/differences.md: a Poisson count cannot be negative; torch returns a number for it
    x, y = torch.tensor([0.3], dtype=torch.float64), torch.tensor([-2.0], dtype=torch.float64)
    assert torch.isfinite(F.poisson_nll_loss(x, y))
    with pytest.raises(ValueError, match="target must be non-negative"):
        L.poisson_nll_loss(x, y)
    # a NaN count is not a negative one: it gives NaN (eagerly and under jit)
    assert np.isnan(float(L.poisson_nll_loss(np.array([0.3]), np.array([np.nan]), full=True)))


@pytest.mark.parametrize("call", [
    lambda x: L.gaussian_nll_loss(x, x, np.ones(3), full=1),
    lambda x: L.gaussian_nll_loss(x, x, np.ones(3), eps=float("nan")),
    lambda x: L.poisson_nll_loss(x, x, log_input="yes"),
    lambda x: L.poisson_nll_loss(x, x, full=None),
])
def test_flags_and_numbers_are_checked(call):
    with pytest.raises((TypeError, ValueError), match=r"\b(full|eps|log_input)\b"):
        call(np.ones(3))


def test_every_argument_dtype_is_checked_first():
    x = np.ones(3)
    with pytest.raises(TypeError, match=r"\bvar must have a real dtype"):
        L.gaussian_nll_loss(x, x, np.ones(3) + 1j)
    with pytest.raises(TypeError, match=r"\btarget must have a real dtype"):
        L.poisson_nll_loss(torch.zeros(3), torch.ones(3) + 1j)  # torch: before min()
    with pytest.raises(TypeError, match=r"\bvar must be an array"):
        L.gaussian_nll_loss(x, x, [1.0, 1.0, 1.0])


# -- torch's own kernel (backends/torch_losses/regression.py) ---------------------------------
@pytest.mark.parametrize("kw", [{}, {"log_input": False}, {"full": True}, {"reduction": "none"}])
def test_poisson_kernel_matches_the_twin(kw):
    import unittest.mock

    F = torch.nn.functional
    x = torch.rand(5, 3, dtype=torch.float64).requires_grad_()
    y = torch.poisson(torch.full((5, 3), 2.0, dtype=torch.float64))
    with unittest.mock.patch.object(F, "poisson_nll_loss", wraps=F.poisson_nll_loss) as spy:
        out = L.poisson_nll_loss(x, y, **kw)
        assert spy.call_count == 1
        # the Stirling term's target gradient is NaN at y = 0 in torch: the generic body
        L.poisson_nll_loss(x, y.clone().requires_grad_(), full=True)
        assert spy.call_count == 1
    want = F.poisson_nll_loss(x, y, **kw)
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(torch.autograd.grad(out.sum(), x)[0], torch.autograd.grad(want.sum(), x)[0])
