"""Reinforcement-learning losses: values against independent float64 NumPy formulas (rlax and
stable-baselines3 semantics), values and gradients against torch twins, errors, documented
differences, and the docs/rl.md examples."""
from __future__ import annotations

import contextlib
import math
import pathlib

import numpy as np
import pytest

import losses as L

RNG = np.random.default_rng(20240611)
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _torch():
    return pytest.importorskip("torch")


def _t(a, grad=False):
    torch = _torch()
    t = torch.tensor(np.asarray(a), dtype=torch.float64 if np.asarray(a).dtype.kind == "f" else torch.int64)
    return t.requires_grad_(grad) if grad else t


def _logsoftmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


# ------------------------------------------------------------------------------- td_loss ----
def _td_inputs(n=7):
    return (RNG.normal(size=n), RNG.normal(size=n), np.where(RNG.uniform(size=n) < 0.3, 0.0, 0.95),
            RNG.normal(size=n))


def test_td_loss_mse_numpy_formula():
    v, r, g, vn = _td_inputs()
    d = r + g * vn - v
    assert np.isclose(L.td_loss(v, r, g, vn), np.mean(d ** 2), rtol=1e-14)
    assert np.allclose(L.td_loss(v, r, g, vn, reduction="none"), d ** 2, rtol=1e-14)
    assert np.isclose(L.td_loss(v, r, g, vn, reduction="sum"), np.sum(d ** 2), rtol=1e-14)


def test_td_loss_huber_is_rlax_huber():
    v, r, g, vn = _td_inputs(50)
    v = v * 3
    delta = 0.7
    x = r + g * vn - v
    # rlax.huber_loss: 0.5 x^2 inside, 0.5 delta^2 + delta (|x| - delta) outside
    rlax = np.where(np.abs(x) <= delta, 0.5 * x ** 2, 0.5 * delta ** 2 + delta * (np.abs(x) - delta))
    got = L.td_loss(v, r, g, vn, criterion="huber", delta=delta, reduction="none")
    assert np.allclose(got, rlax, rtol=1e-14, atol=1e-15)


def test_difference_td_loss_mse_has_no_half():
    # rlax.l2_loss(td_error) = 0.5 * td_error**2; ours (torch mse_loss / SB3) has no 1/2
    v, r, g, vn = _td_inputs()
    td_error = r + g * vn - v
    rlax_l2 = 0.5 * td_error ** 2
    assert np.allclose(0.5 * L.td_loss(v, r, g, vn, reduction="none"), rlax_l2, rtol=1e-14)


@pytest.mark.parametrize("kind,kw", [("mse", {}), ("huber", {"delta": 0.5}), ("huber", {"delta": 1.0})])
def test_td_loss_matches_torch_values_and_grads(kind, kw):
    torch = _torch()
    F = torch.nn.functional
    v, r, g, vn = _td_inputs(9)
    v = v * 2
    args = [_t(a, True) for a in (v, r, g, vn)]
    ours = L.td_loss(*args, criterion=kind, **kw)
    target = (args[1] + args[2] * args[3]).detach()
    theirs = F.mse_loss(args[0], target) if kind == "mse" else F.huber_loss(args[0], target, **kw)
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    g1 = torch.autograd.grad(ours, args[0])[0]
    g2 = torch.autograd.grad(theirs, args[0])[0]
    assert torch.allclose(g1, g2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind,node", [("mse", "MseLossBackward0"), ("huber", "HuberLossBackward0")])
@pytest.mark.parametrize("weighted", [False, True])
def test_td_loss_runs_torch_kernel_and_equals_generic_body(kind, node, weighted):
    torch = _torch()
    from losses.conformance.engine import harness

    v, r, g, vn = _td_inputs(7)
    v[0] = r[0] + g[0] * vn[0]  # the kink d == 0
    w = np.linspace(0.0, 2.0, v.shape[0]) if weighted else None
    got = []
    for ctx in (contextlib.nullcontext, L.backends.generic_paths):
        args = [_t(a, True) for a in (v, r, g, vn)]
        with ctx():
            out = L.td_loss(*args, criterion=kind, weight=None if w is None else _t(w, False))
        got.append((out, torch.autograd.grad(out, args[0])[0], harness("torch").grad_fn_names(out)))
    (fast, g_fast, names), (generic, g_generic, generic_names) = got
    assert node in names and node not in generic_names
    assert torch.allclose(fast, generic, rtol=1e-14, atol=0) and torch.equal(g_fast, g_generic)


def test_td_loss_smooth_l1_is_sb3_dqn():
    torch = _torch()
    v, r, g, vn = _td_inputs(9)
    v = v * 3
    ours = L.td_loss(_t(v), _t(r), _t(g), _t(vn), criterion="huber", delta=1.0)
    sb3 = torch.nn.functional.smooth_l1_loss(_t(v), _t(r) + _t(g) * _t(vn))
    assert torch.allclose(ours, sb3, rtol=1e-12, atol=1e-12)


def test_td_loss_target_under_stop_gradient():
    torch = _torch()
    v, r, g, vn = (_t(a, True) for a in _td_inputs(5))
    out = L.td_loss(v, r, g, vn, reduction="sum")
    grads = torch.autograd.grad(out, [v, r, g, vn], allow_unused=True)
    assert all(x is None or torch.all(x == 0) for x in grads[1:])
    out = L.td_loss(v, r, g, vn, reduction="sum", stop_target_gradients=False)
    gv, gr, gg, gvn = torch.autograd.grad(out, [v, r, g, vn])
    d = (r + g * vn - v).detach()
    assert torch.allclose(gr, 2 * d) and torch.allclose(gvn, 2 * d * g.detach()) and torch.allclose(gv, -2 * d)


def test_td_loss_jax_stop_gradient():
    jax = pytest.importorskip("jax")
    v, r, g, vn = (jax.numpy.asarray(a) for a in _td_inputs(5))
    gvn = jax.grad(lambda x: L.td_loss(v, r, g, x))(vn)
    gv = jax.grad(lambda x: L.td_loss(x, r, g, vn))(v)
    assert np.all(np.asarray(gvn) == 0)
    assert np.allclose(np.asarray(gv), -2 * np.asarray(r + g * vn - v) / 5, rtol=1e-12)


def test_td_loss_weight_and_number_discount():
    v, r, _, vn = _td_inputs(6)
    w = RNG.uniform(0.1, 2.0, size=6)
    d = r + 0.9 * vn - v
    assert np.isclose(L.td_loss(v, r, 0.9, vn, weight=w), np.sum(w * d ** 2) / np.sum(w), rtol=1e-14)


def test_td_loss_errors():
    v, r, g, vn = _td_inputs(4)
    with pytest.raises(ValueError, match="criterion must be one of"):
        L.td_loss(v, r, g, vn, criterion="l2")
    with pytest.raises(ValueError, match="delta must be > 0"):
        L.td_loss(v, r, g, vn, criterion="huber", delta=0.0)
    with pytest.raises(ValueError, match=r"r_t of shape \(3,\) does not broadcast"):
        L.td_loss(v, r[:3], g, vn)
    with pytest.raises(TypeError, match="v_tm1 must have a real floating dtype"):
        L.td_loss(np.arange(4), r, g, vn)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.td_loss(v, r, g, vn, reduction="batchmean")
    # a number or an array, nothing else: refused with the argument's name
    for bad, got in ((None, "NoneType"), (True, "bool"), ("0.9", "str"), ([0.9], "list")):
        with pytest.raises(TypeError, match=f"discount_t must be a real number or an array, got {got}"):
            L.td_loss(v, r, bad, vn)


def test_integer_and_bool_rewards_are_cast():
    # the library's policy for integer/bool rewards (and bool discounts): accepted and cast
    v = RNG.normal(size=6)
    r_int = np.array([1, 0, -1, 2, 0, 1])
    done = np.array([False, False, True, False, True, False])
    vn = RNG.normal(size=6)
    want = np.mean((r_int + 0.9 * (~done) * vn - v) ** 2)
    assert np.isclose(L.td_loss(v, r_int, 0.9 * (~done), vn), want, rtol=1e-14)
    assert np.isclose(L.td_loss(v, r_int.astype(np.int8), ~done, vn),
                      np.mean((r_int + (~done) * vn - v) ** 2), rtol=1e-14)
    r, d, vt = _traj()
    got = L.lambda_returns(np.round(r).astype(np.int32), d, vt, lambda_=0.8)
    assert got.dtype == np.float64
    assert np.allclose(got, L.lambda_returns(np.round(r), d, vt, lambda_=0.8), rtol=1e-15)
    z, a, _ = _pg_inputs()
    adv_int = RNG.integers(-2, 3, size=len(a))
    assert np.isclose(L.policy_gradient_loss(z, a, adv_int),
                      -np.mean(_logsoftmax(z)[np.arange(len(a)), a] * adv_int), rtol=1e-14)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_complex_arguments_are_refused_by_name(backend):
    conv = (lambda x: x) if backend == "numpy" else (lambda x: _torch().as_tensor(x))
    v, r, g, vn = _td_inputs(4)
    for i, name in enumerate(("r_t", "discount_t", "v_t")):
        args = [v, r, g, vn]
        args[i + 1] = args[i + 1] + 1j
        with pytest.raises(TypeError, match=rf"{name} must have a real dtype"):
            L.td_loss(*map(conv, args))
    z, a, adv = _pg_inputs()
    with pytest.raises(TypeError, match="advantages must have a real dtype"):
        L.policy_gradient_loss(conv(z), conv(a), conv(adv + 1j))
    # dtype before value checks: out-of-range actions with complex advantages -> the TypeError
    with pytest.raises(TypeError, match="advantages must have a real dtype"):
        L.policy_gradient_loss(conv(z), conv(a + 100), conv(adv + 1j))
    with pytest.raises(TypeError, match="old_log_prob must have a real dtype"):
        L.ppo_clip_loss(conv(adv), conv(adv), old_log_prob=conv(adv + 1j))


def test_lists_and_foreign_objects_are_refused_by_name():
    v, r, g, vn = _td_inputs(4)
    with pytest.raises(TypeError, match="v_tm1 must be an array"):
        L.td_loss(v.tolist(), r, g, vn)
    with pytest.raises(TypeError, match="weight must be an array"):
        L.td_loss(v, r, g, vn, weight=[1.0] * 4)
    z, a, adv = _pg_inputs()
    with pytest.raises(TypeError, match="actions must be an array"):
        L.policy_gradient_loss(z, a.tolist(), adv)
    with pytest.raises(TypeError, match="logits must be an array"):
        L.entropy_loss(z.tolist())


def test_discounts_outside_unit_interval_are_refused_eagerly():
    v, r, g, vn = _td_inputs(4)
    with pytest.raises(ValueError, match=r"discount_t must be <= 1"):
        L.td_loss(v, r, 1.5, vn)
    with pytest.raises(ValueError, match=r"discount_t must hold values in \[0, 1\]"):
        L.td_loss(v, r, np.array([0.9, 1.5, 0.9, 0.9]), vn)
    rt, d, vt = _traj()
    bad = d.copy()
    bad[2] = -0.1
    for fn in (lambda dd: L.lambda_returns(rt, dd, vt), lambda dd: L.n_step_returns(rt, dd, vt, n=2)):
        with pytest.raises(ValueError, match=r"discount_t must hold values in \[0, 1\]"):
            fn(bad)
    bad[2] = np.nan  # NaN is refused eagerly too ...
    with pytest.raises(ValueError, match="discount_t .*got a NaN"):
        L.lambda_returns(rt, bad, vt)
    jax = pytest.importorskip("jax")
    # ... and comes out as NaN under jit, where values cannot be checked
    jr, jv = jax.numpy.asarray(rt), jax.numpy.asarray(vt)
    out = np.asarray(jax.jit(lambda dd: L.lambda_returns(jr, dd, jv))(bad))
    assert np.isnan(out[2]).all() and np.isnan(out[:2]).all() and np.isfinite(out[3:]).all()


def test_hyper_parameters_are_checked_by_name():
    v, r, g, vn = _td_inputs(4)
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match="stop_target_gradients must be a bool"):
            L.td_loss(v, r, g, vn, stop_target_gradients=bad)
    rt, d, vt = _traj()
    with pytest.raises(TypeError, match="stop_target_gradients must be a bool"):
        L.lambda_returns(rt, d, vt, stop_target_gradients=0)
    with pytest.raises(TypeError, match="lambda_ must be a real number or an array, got str"):
        L.lambda_returns(rt, d, vt, lambda_="abc")
    with pytest.raises(TypeError, match="lambda_ must be a real number"):
        L.lambda_returns(rt, d, vt, lambda_=math.nan)
    z, a, adv = _pg_inputs()
    for fn in (lambda **k: L.policy_gradient_loss(z, a, adv, **k), lambda **k: L.entropy_loss(z, **k)):
        with pytest.raises(TypeError, match="axis must be an int"):
            fn(axis=True)
        with pytest.raises(ValueError, match="axis must be an int"):
            fn(axis=7)
    values = RNG.normal(size=len(a))
    with pytest.raises(ValueError, match="value_coef must be finite"):
        L.actor_critic_loss(z, a, values, values, value_coef=math.inf)
    with pytest.raises(ValueError, match="entropy_coef must be finite"):
        L.actor_critic_loss(z, a, values, values, entropy_coef=-math.inf)
    with pytest.raises(TypeError, match="entropy_coef must be a real number"):
        L.actor_critic_loss(z, a, values, values, entropy_coef=math.nan)
    with pytest.raises(TypeError, match="normalize_advantages must be a bool"):
        L.ppo_clip_loss(adv, adv, normalize_advantages=1)


def test_td_loss_number_bootstrap_arguments():
    v = RNG.normal(size=5)
    d = 1.0 + 0.9 * 2.0 - v
    assert np.allclose(L.td_loss(v, 1.0, 0.9, 2.0, reduction="none"), d ** 2, rtol=1e-15)


# ---------------------------------------------------------------------- return estimators ----
def _rlax_n_step(r, d, v, n, lam):
    """rlax.n_step_bootstrapped_returns for one trajectory, transcribed with explicit loops."""
    T = len(r)
    lam = np.broadcast_to(lam, r.shape)
    out = np.empty(T)
    for t in range(T):
        # bootstrap from v[min(t + n - 1, T - 1)], then fold the window backwards
        g = v[min(t + n - 1, T - 1)]
        for i in range(n - 1, -1, -1):
            j = t + i
            if j < T:
                g = r[j] + d[j] * ((1 - lam[j]) * v[j] + lam[j] * g)
            else:  # padding: reward 0, discount 1, lambda 1, value v[-1]
                g = g
        out[t] = g
    return out


def _traj(T=7, B=None):
    shape = (T,) if B is None else (T, B)
    return (RNG.normal(size=shape), np.where(RNG.uniform(size=shape) < 0.2, 0.0, 0.97), RNG.normal(size=shape))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
@pytest.mark.parametrize("lam", [1.0, 0.6])
def test_n_step_returns_rlax_semantics(n, lam):
    r, d, v = _traj()
    got = L.n_step_returns(r, d, v, n=n, lambda_=lam)
    assert np.allclose(got, _rlax_n_step(r, d, v, n, lam), rtol=1e-13, atol=1e-14)


def test_n_step_returns_explicit_sum_and_batch_axes():
    r, d, v = _traj(6, 3)
    n = 3
    got = L.n_step_returns(r, d, v, n=n)
    for b in range(3):
        for t in range(6):
            m = min(n, 6 - t)
            disc = np.cumprod(np.concatenate([[1.0], d[t:t + m, b]]))
            want = np.sum(disc[:m] * r[t:t + m, b]) + disc[m] * v[t + m - 1, b]
            assert np.isclose(got[t, b], want, rtol=1e-13)
    assert np.allclose(L.n_step_returns(r, d, v, n=1), r + d * v, rtol=1e-15)


def test_n_step_returns_lambda_array_and_number_discount():
    r, _, v = _traj()
    lam = RNG.uniform(0, 1, size=r.shape)
    got = L.n_step_returns(r, 0.9, v, n=3, lambda_=lam)
    assert np.allclose(got, _rlax_n_step(r, np.full_like(r, 0.9), v, 3, lam), rtol=1e-13)


def _torch_n_step(r, d, v, n, lam):
    """The n-step recursion with every step's ``(1 - λ) v`` term, in torch (time axis 0)."""
    torch = _torch()
    T = r.shape[0]
    last = v[-1:].expand(n - 1, *v.shape[1:])
    v_p = torch.cat([v, last])
    r_p = torch.cat([r, torch.zeros_like(last)])
    d_p = torch.cat([d, torch.ones_like(last)])
    l_p = torch.cat([torch.full_like(v, lam), torch.ones_like(last)])
    out = v_p[n - 1:n - 1 + T]
    for i in range(n - 1, -1, -1):
        out = r_p[i:i + T] + d_p[i:i + T] * ((1 - l_p[i:i + T]) * v_p[i:i + T] + l_p[i:i + T] * out)
    return out


@pytest.mark.parametrize("lam", [1.0, 0.6])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_n_step_returns_non_finite_value_in_a_window_gives_nan(lam, bad):
    # a value a return's window reads (its bootstrap or, through (1 - λ) v, any step of it)
    # makes that return NaN; lambda_=1 included, where (1 - λ) v is 0 * v
    torch = _torch()
    r, d, v = _traj(9, 2)
    for t in (0, 3, 8):
        vb = v.copy()
        vb[t, 0] = bad
        for n in (1, 3, 5):
            with np.errstate(invalid="ignore"):  # inf * 0 where an episode ends: NaN, as meant
                got = L.n_step_returns(r, d, vb, n=n, lambda_=lam)
            if lam == 1 or np.isnan(bad):  # with lambda_=1 through 0 * v: NaN for +-inf too
                assert np.isnan(got[max(0, t - n + 1):t + 1, 0]).all()
            if np.isnan(bad):
                want = np.stack([_rlax_n_step(r[:, b], d[:, b], vb[:, b], n, lam) for b in range(2)], axis=1)
                assert np.array_equal(np.isnan(got), np.isnan(want))
                assert np.allclose(got, want, rtol=1e-13, equal_nan=True)
            # values and gradients of the explicit recursion, to the last bit where finite
            tr, tv = _t(r, True), _t(vb, True)
            ours = L.n_step_returns(tr, _t(d), tv, n=n, lambda_=lam)
            ref = _torch_n_step(tr, _t(d), tv, n, lam)
            cot = _t(RNG.normal(size=r.shape))
            g_ours = torch.autograd.grad(ours, [tr, tv], cot)
            g_ref = torch.autograd.grad(ref, [tr, tv], cot)
            assert torch.equal(torch.isnan(ours), torch.isnan(ref))
            assert torch.equal(torch.nan_to_num(ours), torch.nan_to_num(ref))
            assert torch.equal(torch.nan_to_num(torch.from_numpy(np.asarray(got))), torch.nan_to_num(ours.detach()))
            for a, b in zip(g_ours, g_ref):
                assert torch.equal(a, b)


def _sb3_gae(rewards, values, dones, last_values, last_done, gamma, lam):
    """stable-baselines3 RolloutBuffer.compute_returns_and_advantage (episode_starts form)."""
    T = len(rewards)
    episode_starts = np.concatenate([[0.0], dones[:-1]])  # step t+1 starts an episode if t ended
    adv = np.zeros_like(rewards)
    last_gae = 0.0
    for step in reversed(range(T)):
        if step == T - 1:
            next_non_terminal, next_values = 1.0 - last_done, last_values
        else:
            next_non_terminal, next_values = 1.0 - episode_starts[step + 1], values[step + 1]
        delta = rewards[step] + gamma * next_values * next_non_terminal - values[step]
        last_gae = delta + gamma * lam * next_non_terminal * last_gae
        adv[step] = last_gae
    return adv + values, adv


@pytest.mark.parametrize("lam", [0.95, 0.0, 1.0])
def test_lambda_returns_reproduce_sb3_gae(lam):
    T, gamma = 8, 0.99
    rewards, values = RNG.normal(size=T), RNG.normal(size=T)
    dones = (RNG.uniform(size=T) < 0.25).astype(np.float64)
    last_values = RNG.normal()
    returns, adv = _sb3_gae(rewards, values, dones, last_values, dones[-1], gamma, lam)
    v_next = np.concatenate([values[1:], [last_values]])
    got = L.lambda_returns(rewards, gamma * (1 - dones), v_next, lambda_=lam)
    assert np.allclose(got, returns, rtol=1e-13, atol=1e-14)
    assert np.allclose(got - values, adv, rtol=1e-13, atol=1e-14)


def test_lambda_returns_special_cases():
    r, d, v = _traj(6, 2)
    assert np.allclose(L.lambda_returns(r, d, v, lambda_=0.0), r + d * v, rtol=1e-15)
    assert np.allclose(L.lambda_returns(r, d, v, lambda_=1.0), L.n_step_returns(r, d, v, n=6), rtol=1e-13)
    lam = RNG.uniform(0.2, 1.0, size=r.shape)
    want = np.empty_like(r)
    acc = v[-1]
    for t in range(5, -1, -1):
        acc = r[t] + d[t] * ((1 - lam[t]) * v[t] + lam[t] * acc)
        want[t] = acc
    assert np.allclose(L.lambda_returns(r, d, v, lambda_=lam), want, rtol=1e-13)


def test_lambda_returns_jit_and_torch_grads():
    jax = pytest.importorskip("jax")
    torch = _torch()
    r, d, v = _traj(5, 3)
    want = L.lambda_returns(r, d, v, lambda_=0.9)
    got = jax.jit(lambda a, b, c: L.lambda_returns(a, b, c, lambda_=0.9))(r, d, v)
    assert np.allclose(np.asarray(got), want, rtol=1e-13)
    tv = _t(v, True)
    out = L.lambda_returns(_t(r), _t(d), tv, lambda_=0.9).sum()
    (gt,) = torch.autograd.grad(out, tv)
    jr, jd = jax.numpy.asarray(r), jax.numpy.asarray(d)
    gj = jax.grad(lambda x: L.lambda_returns(jr, jd, x, lambda_=0.9).sum())(jax.numpy.asarray(v))
    assert np.allclose(gt.numpy(), np.asarray(gj), rtol=1e-12, atol=1e-14)
    # stop_target_gradients: no gradient at all
    gz = jax.grad(lambda x: L.lambda_returns(jr, jd, x, stop_target_gradients=True).sum())(jax.numpy.asarray(v))
    assert np.all(np.asarray(gz) == 0)


def test_return_errors():
    r, d, v = _traj()
    with pytest.raises(ValueError, match="n must be >= 1"):
        L.n_step_returns(r, d, v, n=0)
    with pytest.raises(TypeError, match="n must be a Python int"):
        L.n_step_returns(r, d, v, n=2.0)
    with pytest.raises(ValueError, match="r_t and v_t must have the same shape"):
        L.lambda_returns(r, d, v[:-1])
    with pytest.raises(ValueError, match="time axis"):
        L.lambda_returns(r[:0], d[:0], v[:0])
    with pytest.raises(ValueError, match="lambda_ must be <= 1"):
        L.lambda_returns(r, d, v, lambda_=1.5)
    with pytest.raises(TypeError, match="lambda_ must be a real number or an array, got NoneType"):
        L.n_step_returns(r, d, v, n=2, lambda_=None)
    with pytest.raises(ValueError, match=r"lambda_ must hold values in \[0, 1\]"):
        L.n_step_returns(r, d, v, n=2, lambda_=np.full_like(r, -0.5))
    with pytest.raises(ValueError, match="discount_t must be <= 1"):
        L.lambda_returns(r, 1.5, v)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        L.lambda_returns(np.float64(1.0) + np.zeros(()), 0.9, np.zeros(()))


# ------------------------------------------------------------------------------ policies ----
def _pg_inputs(n=8, A=4):
    return RNG.normal(size=(n, A)) * 2, RNG.integers(0, A, size=n), RNG.normal(size=n)


def test_policy_gradient_numpy_formula():
    z, a, adv = _pg_inputs()
    logp = _logsoftmax(z)[np.arange(len(a)), a]
    assert np.isclose(L.policy_gradient_loss(z, a, adv), -np.mean(logp * adv), rtol=1e-14)
    w = RNG.uniform(0.0, 1.0, size=len(a))
    assert np.isclose(L.policy_gradient_loss(z, a, adv, weight=w), -np.sum(w * logp * adv) / np.sum(w), rtol=1e-13)


def test_difference_rlax_weighted_mean():
    # rlax.policy_gradient_loss / entropy_loss return mean(w * l) (divide by T); our default is
    # sum(w l) / sum(w), and mean_over="elements" gives rlax's mean(w l)
    z, a, adv = _pg_inputs()
    w = (RNG.uniform(size=len(a)) < 0.5).astype(np.float64)
    w[0] = 1.0
    logp = _logsoftmax(z)[np.arange(len(a)), a]
    rlax_pg = np.mean(-logp * adv * w)
    assert np.isclose(L.policy_gradient_loss(z, a, adv, weight=w), rlax_pg * len(a) / w.sum(), rtol=1e-13)
    assert np.isclose(L.policy_gradient_loss(z, a, adv, weight=w, mean_over="elements"), rlax_pg, rtol=1e-13)
    assert np.isclose(L.policy_gradient_loss(z, a, adv), np.mean(-logp * adv), rtol=1e-14)  # equal without weights
    p = np.exp(_logsoftmax(z))
    rlax_ent = np.mean(np.sum(p * np.log(p), -1) * w)
    assert np.isclose(L.entropy_loss(z, weight=w), rlax_ent * len(a) / w.sum(), rtol=1e-13)
    assert np.isclose(L.entropy_loss(z, weight=w, mean_over="elements"), rlax_ent, rtol=1e-13)


def test_mean_over_elements_on_every_weighted_loss():
    # mean(w l) from independent float64 formulas, for each weighted loss of the family
    n = 7
    w = RNG.uniform(0.0, 2.0, size=n)
    v, r, g, vn = _td_inputs(n)
    td = (r + g * vn - v) ** 2
    assert np.isclose(L.td_loss(v, r, g, vn, weight=w, mean_over="elements"), np.mean(w * td), rtol=1e-14)
    assert np.isclose(L.td_loss(v, r, g, vn, weight=w), np.sum(w * td) / np.sum(w), rtol=1e-14)
    z, a, adv = _pg_inputs(n)
    values, returns = RNG.normal(size=n), RNG.normal(size=n)
    logp_all = _logsoftmax(z)
    ac = (-logp_all[np.arange(n), a] * (returns - values) + 0.5 * (returns - values) ** 2
          + 0.01 * np.sum(np.exp(logp_all) * logp_all, -1))
    got = L.actor_critic_loss(z, a, values, returns, weight=w, mean_over="elements")
    assert np.isclose(got, np.mean(w * ac), rtol=1e-13)
    assert np.isclose(L.actor_critic_loss(z, a, values, returns, weight=w), np.sum(w * ac) / w.sum(), rtol=1e-13)
    lr, adv = RNG.normal(size=n) * 0.4, RNG.normal(size=n)
    ratio = np.exp(lr)
    ppo = -np.minimum(ratio * adv, np.clip(ratio, 0.8, 1.2) * adv)
    assert np.isclose(L.ppo_clip_loss(lr, adv, weight=w, mean_over="elements"), np.mean(w * ppo), rtol=1e-13)
    # "sum" and "none" do not depend on it; a bad value is refused by name
    assert np.allclose(L.td_loss(v, r, g, vn, weight=w, mean_over="elements", reduction="none"), w * td, rtol=1e-14)
    with pytest.raises(ValueError, match="mean_over must be one of"):
        L.policy_gradient_loss(z, a, adv, weight=w, mean_over="valid")


def test_mean_over_elements_torch_values_and_grads():
    torch = _torch()
    z, a, adv = _pg_inputs(6)
    w = RNG.uniform(0.0, 2.0, size=6)
    tz = _t(z, True)
    ours = L.policy_gradient_loss(tz, _t(a), _t(adv), weight=_t(w), mean_over="elements")
    rlax = (-(torch.distributions.Categorical(logits=tz).log_prob(_t(a)) * _t(adv)) * _t(w)).mean()
    g1, g2 = torch.autograd.grad(ours, tz)[0], torch.autograd.grad(rlax, tz)[0]
    assert torch.allclose(ours, rlax, rtol=1e-13) and torch.allclose(g1, g2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_weights_may_be_python_numbers(backend):
    # td_loss(weight=2.0) raised AttributeError; a number weight is a constant weight now
    v, r, g, vn = _td_inputs(5)
    conv = (lambda x: x) if backend == "numpy" else _t
    d2 = (r + g * vn - v) ** 2
    got = L.td_loss(conv(v), conv(r), conv(g), conv(vn), weight=2.0)
    assert np.isclose(float(got), np.mean(d2), rtol=1e-14)  # sum(2 l) / sum(2)
    got = L.td_loss(conv(v), conv(r), conv(g), conv(vn), weight=2.0, mean_over="elements")
    assert np.isclose(float(got), 2 * np.mean(d2), rtol=1e-14)
    z, a, adv = _pg_inputs(5)
    got = L.policy_gradient_loss(conv(z), conv(a), conv(adv), weight=0.5, reduction="sum")
    assert np.isclose(float(got), 0.5 * np.sum(-_logsoftmax(z)[np.arange(5), a] * adv), rtol=1e-13)
    for bad, what in ((True, "bool"), ("2", "str")):
        with pytest.raises(TypeError, match=f"weight must be .*got .*{what}"):
            L.td_loss(conv(v), conv(r), conv(g), conv(vn), weight=bad)


def test_policy_gradient_torch_categorical_values_and_grads():
    torch = _torch()
    z, a, adv = _pg_inputs()
    tz, ta, tadv = _t(z, True), _t(a), _t(adv, True)
    ours = L.policy_gradient_loss(tz, ta, tadv)
    sb3 = -(torch.distributions.Categorical(logits=tz).log_prob(ta) * tadv.detach()).mean()
    assert torch.allclose(ours, sb3, rtol=1e-12, atol=1e-12)
    g1, ga = torch.autograd.grad(ours, [tz, tadv], allow_unused=True)
    (g2,) = torch.autograd.grad(sb3, [tz])
    assert torch.allclose(g1, g2, rtol=1e-12, atol=1e-12)
    assert ga is None or torch.all(ga == 0)  # advantages under stop-gradient


def test_policy_gradient_time_major_and_axis():
    z = RNG.normal(size=(3, 5, 4))
    a = RNG.integers(0, 4, size=(3, 5)).astype(np.int32)
    adv = RNG.normal(size=(3, 5))
    logp = np.take_along_axis(_logsoftmax(z), a[..., None].astype(np.int64), -1)[..., 0]
    assert np.allclose(L.policy_gradient_loss(z, a, adv, reduction="none"), -logp * adv, rtol=1e-13)
    zt = np.moveaxis(z, -1, 1)  # (3, A, 5): action axis 1
    assert np.allclose(L.policy_gradient_loss(zt, a, adv, axis=1, reduction="none"), -logp * adv, rtol=1e-13)


def test_policy_gradient_extreme_logits_finite():
    torch = _torch()
    z, a, adv = _pg_inputs()
    z[:, 0], z[1::2, 1] = 1e4, -1e4
    tz = _t(z, True)
    out = L.policy_gradient_loss(tz, _t(a), _t(adv))
    (g,) = torch.autograd.grad(out, tz)
    assert torch.isfinite(out) and torch.all(torch.isfinite(g))


def test_entropy_loss_values_and_edges():
    torch = _torch()
    z = RNG.normal(size=(6, 5)) * 2
    p = np.exp(_logsoftmax(z))
    assert np.allclose(L.entropy_loss(z, reduction="none"), np.sum(p * np.log(p), -1), rtol=1e-13)
    assert np.isclose(L.entropy_loss(np.zeros((2, 4)), reduction="sum"), -2 * math.log(4), rtol=1e-15)
    # masked actions (-inf) and +-1e4 logits: finite values and gradients, torch Categorical twin
    zm = z.copy()
    zm[::2, 1] = -np.inf
    zm[1, :] = 1e4
    zm[3, 0] = -1e4
    tz = _t(zm, True)
    ours = L.entropy_loss(tz)
    theirs = -torch.distributions.Categorical(logits=tz).entropy().mean()
    g1 = torch.autograd.grad(ours, tz)[0]
    g2 = torch.autograd.grad(theirs, tz)[0]
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert torch.all(torch.isfinite(g1)) and torch.allclose(g1, g2, rtol=1e-10, atol=1e-12)
    assert np.isclose(float(L.entropy_loss(tz.detach(), reduction="none")[1]), -math.log(5), rtol=1e-14)


def _neg_entropy_edge_logits():
    z = RNG.normal(size=(7, 5)) * 2
    z[::2, 1] = -np.inf  # masked actions
    z[1, :] = 1e4  # saturated, uniform
    z[3, 0] = -1e4  # a probability that underflows to 0 with a finite log-probability
    z[5, 2:] = -np.inf
    return z


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_entropy_custom_gradient_is_the_autodiff_gradient(reduction):
    # the written-out gradient p (log p - h) g (torch.autograd.Function) against autodiff of
    # the forward body (the generic namespace), masked and saturated rows included
    torch = _torch()
    from losses.backends import generic_paths

    z = _neg_entropy_edge_logits()
    cot = _t(RNG.normal(size=7)) if reduction == "none" else None
    grads = []
    for generic in (False, True):
        tz = _t(z, True)
        with generic_paths() if generic else contextlib.nullcontext():
            out = L.entropy_loss(tz, reduction=reduction)
        (g,) = torch.autograd.grad(out, tz, cot)
        grads.append((out.detach(), g))
    (v1, g1), (v2, g2) = grads
    assert torch.allclose(v1, v2, rtol=1e-13, atol=1e-13)
    assert torch.all(torch.isfinite(g1)) and torch.allclose(g1, g2, rtol=1e-12, atol=1e-13)


def test_entropy_custom_gradient_nan_goes_through():
    torch = _torch()
    z = RNG.normal(size=(3, 4))
    z[1, 2] = np.nan
    tz = _t(z, True)
    out = L.entropy_loss(tz, reduction="none")
    (g,) = torch.autograd.grad(out.sum(), tz)
    assert torch.isnan(out[1]) and torch.all(torch.isfinite(out[[0, 2]]))
    assert torch.all(torch.isnan(g[1])) and torch.all(torch.isfinite(g[[0, 2]]))


def test_entropy_custom_gradient_under_transforms():
    # torch.func.grad / vmap and jax.grad / jit / vmap of the custom gradient agree with the
    # generic body's autodiff gradient
    torch = _torch()
    z = _neg_entropy_edge_logits()
    from losses.backends import generic_paths

    tz = _t(z, True)
    with generic_paths():
        (want,) = torch.autograd.grad(L.entropy_loss(tz, reduction="sum"), tz)
    got = torch.func.grad(lambda x: L.entropy_loss(x, reduction="sum"))(_t(z))
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-13)
    rows = torch.func.vmap(torch.func.grad(lambda x: L.entropy_loss(x[None], reduction="sum")))(_t(z))
    assert torch.allclose(rows, want, rtol=1e-12, atol=1e-13)
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    jz = jnp.asarray(z)  # float64: the test session enables x64 (conftest)
    assert jz.dtype == jnp.float64
    g = jax.jit(jax.grad(lambda x: L.entropy_loss(x, reduction="sum")))(jz)
    assert np.allclose(np.asarray(g), want.numpy(), rtol=1e-12, atol=1e-13)
    rows = jax.vmap(jax.grad(lambda x: L.entropy_loss(x[None], reduction="sum")))(jz)
    assert np.allclose(np.asarray(rows), want.numpy(), rtol=1e-12, atol=1e-13)


def test_entropy_custom_gradient_allows_a_second_backward():
    # the written-out gradient keeps its residuals: retain_graph=True and a second backward
    # give the same gradient again
    torch = _torch()
    tz = _t(RNG.normal(size=(3, 4)), True)
    for call in (lambda: L.entropy_loss(tz),
                 lambda: L.actor_critic_loss(tz, _t(np.array([0, 1, 2])), _t(np.zeros(3)), _t(np.ones(3)))):
        tz.grad = None
        out = call()
        out.backward(retain_graph=True)
        first = tz.grad.clone()
        out.backward()
        assert torch.allclose(tz.grad, 2 * first, rtol=1e-14, atol=0)


def _sb3_a2c_numpy(z, a, values, returns, adv, vf_coef, ent_coef):
    logp_all = _logsoftmax(z)
    logp = logp_all[np.arange(len(a)), a]
    entropy = -np.sum(np.exp(logp_all) * logp_all, -1)
    return -np.mean(adv * logp) + ent_coef * -np.mean(entropy) + vf_coef * np.mean((returns - values) ** 2)


def test_actor_critic_matches_sb3_a2c():
    z, a, adv = _pg_inputs()
    values, returns = RNG.normal(size=len(a)), RNG.normal(size=len(a))
    got = L.actor_critic_loss(z, a, values, returns, advantages=adv, value_coef=0.5, entropy_coef=0.0)
    assert np.isclose(got, _sb3_a2c_numpy(z, a, values, returns, adv, 0.5, 0.0), rtol=1e-13)
    got = L.actor_critic_loss(z, a, values, returns, value_coef=0.25, entropy_coef=0.05)
    assert np.isclose(got, _sb3_a2c_numpy(z, a, values, returns, returns - values, 0.25, 0.05), rtol=1e-13)


def test_actor_critic_large_logits_keep_float32_precision():
    # the log-probabilities of the actions and the entropy come from log-softmaxes of the
    # max-shifted logits: logits near 1e4 lose nothing to the magnitude in float32
    torch = _torch()
    z, a, _ = _pg_inputs()
    z = z + 1e4
    values, returns = RNG.normal(size=len(a)), RNG.normal(size=len(a))
    z32 = z.astype(np.float32).astype(np.float64)  # the float32 inputs, exactly
    want = L.actor_critic_loss(z32, a, values, returns, reduction="none")
    assert np.allclose(want, _sb3_a2c_per_step(z32, a, values, returns, 0.5, 0.01), rtol=1e-12)
    got = L.actor_critic_loss(z.astype(np.float32), a, values.astype(np.float32), returns.astype(np.float32),
                              reduction="none")
    assert got.dtype == np.float32 and np.allclose(got, want, rtol=1e-5, atol=1e-5)
    tz = torch.tensor(z, dtype=torch.float32, requires_grad=True)
    out = L.actor_critic_loss(tz, _t(a), torch.tensor(values, dtype=torch.float32),
                              torch.tensor(returns, dtype=torch.float32))
    (g,) = torch.autograd.grad(out, tz)
    tz64 = _t(z32, True)
    (g64,) = torch.autograd.grad(L.actor_critic_loss(tz64, _t(a), _t(values), _t(returns)), tz64)
    assert torch.allclose(g.double(), g64, rtol=1e-4, atol=1e-7)


def _sb3_a2c_per_step(z, a, values, returns, vf_coef, ent_coef):
    logp_all = _logsoftmax(z)
    adv = returns - values
    return (-adv * logp_all[np.arange(len(a)), a] + ent_coef * np.sum(np.exp(logp_all) * logp_all, -1)
            + vf_coef * (returns - values) ** 2)


def test_difference_actor_critic_entropy_coef_default():
    # our default entropy_coef=0.01 (A3C paper, OpenAI baselines); SB3 A2C's ent_coef default is 0.0
    z, a, adv = _pg_inputs()
    values, returns = RNG.normal(size=len(a)), RNG.normal(size=len(a))
    default = L.actor_critic_loss(z, a, values, returns, advantages=adv)
    assert np.isclose(default, _sb3_a2c_numpy(z, a, values, returns, adv, 0.5, 0.01), rtol=1e-13)
    sb3 = L.actor_critic_loss(z, a, values, returns, advantages=adv, entropy_coef=0.0)
    assert not np.isclose(default, sb3)


def test_actor_critic_gradient_flows_only_into_values_and_logits():
    torch = _torch()
    z, a, _ = _pg_inputs()
    n = len(a)
    tz, tv, tr = _t(z, True), _t(RNG.normal(size=n), True), _t(RNG.normal(size=n), True)
    out = L.actor_critic_loss(tz, _t(a), tv, tr, value_coef=0.5, entropy_coef=0.0)
    gz, gv, gr = torch.autograd.grad(out, [tz, tv, tr], allow_unused=True)
    # advantages = sg(R - V): the value gradient comes from the value term alone
    assert torch.allclose(gv, 0.5 * 2 * (tv - tr).detach() / n, rtol=1e-12)
    assert gr is None or torch.all(gr == 0)
    p = torch.softmax(tz.detach(), -1)
    onehot = torch.nn.functional.one_hot(_t(a), 4).double()
    assert torch.allclose(gz, -((tr - tv).detach()[:, None] * (onehot - p)) / n, rtol=1e-12, atol=1e-14)


def _sb3_ppo_numpy(log_prob, old, adv, clip, normalize=False):
    if normalize:
        adv = (adv - adv.mean()) / (adv.std(ddof=1) + 1e-8)
    ratio = np.exp(log_prob - old)
    return -np.mean(np.minimum(adv * ratio, adv * np.clip(ratio, 1 - clip, 1 + clip)))


def test_ppo_matches_sb3():
    n = 12
    old = np.log(RNG.uniform(0.05, 1, size=n))
    new = old + RNG.normal(size=n) * 0.4
    adv = RNG.normal(size=n)
    assert np.isclose(L.ppo_clip_loss(new, adv, old_log_prob=old), _sb3_ppo_numpy(new, old, adv, 0.2), rtol=1e-13)
    assert np.isclose(L.ppo_clip_loss(new - old, adv, clip_range=0.1), _sb3_ppo_numpy(new, old, adv, 0.1), rtol=1e-13)
    assert np.isclose(L.ppo_clip_loss(new, adv, old_log_prob=old, normalize_advantages=True),
                      _sb3_ppo_numpy(new, old, adv, 0.2, True), rtol=1e-12)


def test_difference_ppo_advantage_normalization_off_by_default():
    # SB3 PPO normalises advantages by default (normalize_advantage=True); the paper and we do not
    n = 10
    old = np.log(RNG.uniform(0.05, 1, size=n))
    new = old + RNG.normal(size=n) * 0.4
    adv = RNG.normal(size=n) * 3 + 1
    ours = L.ppo_clip_loss(new, adv, old_log_prob=old)
    assert np.isclose(ours, _sb3_ppo_numpy(new, old, adv, 0.2, normalize=False), rtol=1e-13)
    assert not np.isclose(ours, _sb3_ppo_numpy(new, old, adv, 0.2, normalize=True))


def test_ppo_rlax_ratio_form():
    # rlax.clipped_surrogate_pg_loss(prob_ratios, adv, eps) = -mean(min(r A, clip(r) A))
    ratios = RNG.uniform(0.5, 1.5, size=9)
    adv = RNG.normal(size=9)
    rlax = -np.mean(np.minimum(ratios * adv, np.clip(ratios, 0.7, 1.3) * adv))
    assert np.isclose(L.ppo_clip_loss(np.log(ratios), adv, clip_range=0.3), rlax, rtol=1e-13)


def test_ppo_subgradients_match_torch():
    torch = _torch()
    hi, lo = math.log(1.25), math.log(0.75)
    lr = np.array([hi, lo, hi, lo, 0.0, 0.6, -0.6, 0.6, -0.6])
    adv = np.array([1.0, -1.0, -1.0, 1.0, 0.5, 1.0, -1.0, -1.0, 1.0])
    tl = _t(lr, True)
    ours = L.ppo_clip_loss(tl, _t(adv), clip_range=0.25, reduction="sum")
    (g,) = torch.autograd.grad(ours, tl)
    ratio = torch.exp(tl)
    sb3 = -torch.min(_t(adv) * ratio, _t(adv) * torch.clamp(ratio, 0.75, 1.25)).sum()
    (g2,) = torch.autograd.grad(sb3, tl)
    assert torch.allclose(ours, sb3, rtol=1e-12) and torch.allclose(g, g2, rtol=1e-12, atol=1e-14)
    r = np.exp(lr)
    # on the clip boundary the gradient is active (-A r); beyond it on the clipped side, 0
    want = np.array([-r[0], r[1], r[2], -r[3], -0.5, 0.0, 0.0, r[7], -r[8]])
    assert np.allclose(g.numpy(), want, rtol=1e-12, atol=1e-15)


def test_ppo_first_epoch_ratio_one_gradient():
    jax = pytest.importorskip("jax")
    old = jax.numpy.asarray(np.log(RNG.uniform(0.1, 1, size=6)))
    adv = jax.numpy.asarray(RNG.normal(size=6))
    g = jax.grad(lambda lp: L.ppo_clip_loss(lp, adv, old_log_prob=old))(old)
    assert np.allclose(np.asarray(g), -np.asarray(adv) / 6, rtol=1e-12)
    g_old = jax.grad(lambda o: L.ppo_clip_loss(old, adv, old_log_prob=o))(old)
    assert np.all(np.asarray(g_old) == 0)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_ppo_log_ratios_of_1e4_are_finite_where_the_objective_is(dtype):
    # the naive exp(log_ratio) overflows: A >= 0 gave NaN gradients, A = 0 a NaN-prone inf * 0.
    # Expected values from the clipped objective written with the closed forms
    # -A min(rho, 1 + eps) (A >= 0) and -A max(rho, 1 - eps) (A < 0), in float64
    torch = _torch()
    lr = np.array([1e4, 1e4, -1e4, -1e4, 0.1, -0.4, 1e4])
    adv = np.array([1.5, 0.0, -0.7, 2.0, -1.0, 0.5, -1.0])
    want = np.array([-1.2 * 1.5, 0.0, 0.7 * 0.8, 0.0, np.exp(0.1), -0.5 * np.exp(-0.4), np.inf])
    want_grad = np.array([0.0, 0.0, 0.0, 0.0, np.exp(0.1), -0.5 * np.exp(-0.4), np.inf])
    tl = torch.tensor(lr, dtype=getattr(torch, dtype), requires_grad=True)
    out = L.ppo_clip_loss(tl, torch.tensor(adv, dtype=getattr(torch, dtype)), reduction="none")
    (g,) = torch.autograd.grad(out.sum(), tl)
    tol = {"float64": 1e-15, "float32": 1e-6, "float16": 1e-3}[dtype]
    assert out.dtype == tl.dtype
    assert np.allclose(out.detach().double().numpy(), want, rtol=tol, atol=tol)
    assert np.allclose(g.double().numpy(), want_grad, rtol=tol, atol=tol)
    # A < 0 with a log-ratio of 1e4 is -A e^{1e4}: the formula itself is infinite
    assert out[-1].item() == math.inf


def test_ppo_no_intermediate_overflow_where_the_product_is_finite():
    # float32: exp(88.8) overflows, 0.5 exp(88.8) = 1.84e38 does not
    torch = _torch()
    tl = torch.tensor([88.8, 88.6, 50.0], dtype=torch.float32, requires_grad=True)
    adv = torch.tensor([-0.5, -0.5, -1.0])
    out = L.ppo_clip_loss(tl, adv, reduction="none")
    (g,) = torch.autograd.grad(out.sum(), tl)
    want = 0.5 * np.exp(np.array([88.8, 88.6], dtype=np.float64))
    assert np.allclose(out[:2].detach().double().numpy(), want, rtol=1e-5)
    assert np.allclose(g[:2].double().numpy(), want, rtol=1e-5)  # d/dx (-A e^x) = -A e^x
    # ordinary ratios: the plain product, as stable-baselines3 computes it
    assert out[2].item() == (torch.exp(torch.tensor(50.0)) * 1.0).item()


def test_ppo_untaken_branches_pass_no_nan_into_gradients():
    # every branch that is not taken contributes an exact 0, even where a factor is infinite:
    # with A = -inf the gradient is the derivative of -A max(ρ, 1-ε): 0 where ρ < 1-ε, +inf above
    torch = _torch()
    lr = _t(np.log(np.array([0.5, 1.0, 1.5])), True)
    adv = _t(np.array([-np.inf, -np.inf, -np.inf]))
    out = L.ppo_clip_loss(lr, adv, reduction="none")
    (g,) = torch.autograd.grad(out.sum(), lr)
    assert torch.all(out == math.inf) and g.tolist() == [0.0, math.inf, math.inf]
    lr = _t(np.array([-3.0, 0.1, 1e4]), True)
    out = L.ppo_clip_loss(lr, _t(np.array([np.inf, np.inf, np.inf])), reduction="none")
    (g,) = torch.autograd.grad(out.sum(), lr)
    assert out.tolist() == [-math.inf, -math.inf, -math.inf] and g[0] == -math.inf and g[2] == 0


def test_ppo_jax_huge_log_ratio_gradients_are_finite():
    jax = pytest.importorskip("jax")
    lr = jax.numpy.asarray([1e4, 1e4, -1e4, 0.1])
    adv = jax.numpy.asarray([1.0, 0.0, -1.0, 1.0])
    g = jax.jit(jax.grad(lambda x: L.ppo_clip_loss(x, adv, reduction="sum")))(lr)
    assert np.allclose(np.asarray(g), [0.0, 0.0, 0.0, -math.exp(0.1)], rtol=1e-14)


def test_entropy_loss_empty_batch():
    z = np.zeros((0, 4))
    assert np.isnan(L.entropy_loss(z)) and L.entropy_loss(z, reduction="sum") == 0
    assert L.entropy_loss(z, reduction="none").shape == (0,)
    da = pytest.importorskip("dask.array")
    out = L.entropy_loss(da.from_array(z, chunks=(1, 4)), reduction="sum")  # Dask: no max over nothing
    assert float(out.compute()) == 0.0


def test_policy_errors():
    z, a, adv = _pg_inputs(5, 3)
    with pytest.raises(ValueError, match=r"actions must hold class indices in \[0, 2\]"):
        L.policy_gradient_loss(z, np.array([0, 1, 3, 0, 1]), adv)
    with pytest.raises(TypeError, match="actions must hold integer"):
        L.policy_gradient_loss(z, a.astype(np.float64), adv)
    with pytest.raises(ValueError, match=r"actions must have shape \(5,\)"):
        L.policy_gradient_loss(z, a[:4], adv)
    with pytest.raises(ValueError, match="actions and advantages must have the same shape"):
        L.policy_gradient_loss(z, a, adv[:4])
    with pytest.raises(ValueError, match="axis must be an int"):
        L.entropy_loss(z, axis=2)
    with pytest.raises(TypeError, match="logits must have a real floating dtype"):
        L.entropy_loss(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="values must have the shape"):
        L.actor_critic_loss(z, a, adv[:3], adv)
    with pytest.raises(ValueError, match="value_coef must be >= 0"):
        L.actor_critic_loss(z, a, adv, adv, value_coef=-1.0)
    with pytest.raises(ValueError, match="clip_range must be < 1"):
        L.ppo_clip_loss(adv, adv, clip_range=1.0)
    with pytest.raises(ValueError, match="log_prob and old_log_prob must have the same shape"):
        L.ppo_clip_loss(adv, adv, old_log_prob=adv[:2])
    with pytest.raises(ValueError, match="normalize_advantages needs at least 2"):
        L.ppo_clip_loss(adv[:1], adv[:1], normalize_advantages=True)




def test_value_checks_switch_covers_the_rl_checks():
    torch = pytest.importorskip("torch")
    r = torch.ones(3, 2)
    v = torch.zeros(3, 2)
    g = torch.full((3, 2), 1.5)  # discounts outside [0, 1]
    with pytest.raises(ValueError, match=r"discount_t must hold values in \[0, 1\]"):
        L.n_step_returns(r, g, v, n=2)
    with pytest.raises(ValueError, match=r"lambda_ must hold values in \[0, 1\]"):
        L.lambda_returns(r, 0.9, v, lambda_=torch.full((3, 2), -0.5))
    with pytest.raises(ValueError, match="actions must hold class indices"):
        L.policy_gradient_loss(torch.zeros(3, 4), torch.tensor([0, 1, 4]), torch.ones(3))
    with L.value_checks(False):
        L.n_step_returns(r, g, v, n=2)
        L.td_loss(v, r, g, v)


# ----------------------------------------------------- Q-learning family against rlax ----
def _rlax():
    return pytest.importorskip("rlax")


def _q_inputs(B=9, A=4):
    q_tm1, q_t = RNG.normal(size=(B, A)) * 2, RNG.normal(size=(B, A)) * 2
    a_tm1, a_t = RNG.integers(0, A, size=B), RNG.integers(0, A, size=B)
    r = RNG.normal(size=B)
    g = np.where(RNG.uniform(size=B) < 0.3, 0.0, 0.9)
    sel = RNG.normal(size=(B, A))
    probs = np.exp(_logsoftmax(RNG.normal(size=(B, A))))
    return q_tm1, a_tm1, r, g, q_t, a_t, sel, probs


def _q_calls(name, q_tm1, a_tm1, r, g, q_t, a_t, sel, probs):
    """(our positional arguments, the rlax function, rlax's per-transition arguments)."""
    return {
        "q_learning_loss": ((q_tm1, a_tm1, r, g, q_t), "q_learning", (q_tm1, a_tm1, r, g, q_t)),
        "double_q_learning_loss": ((q_tm1, a_tm1, r, g, q_t, sel), "double_q_learning", (q_tm1, a_tm1, r, g, q_t, sel)),
        "sarsa_loss": ((q_tm1, a_tm1, r, g, q_t, a_t), "sarsa", (q_tm1, a_tm1, r, g, q_t, a_t)),
        "expected_sarsa_loss": ((q_tm1, a_tm1, r, g, q_t, probs), "expected_sarsa", (q_tm1, a_tm1, r, g, q_t, probs)),
    }[name]


Q_LOSSES = ["q_learning_loss", "double_q_learning_loss", "sarsa_loss", "expected_sarsa_loss"]


@pytest.mark.parametrize("name", Q_LOSSES)
@pytest.mark.parametrize("criterion", ["mse", "huber"])
def test_q_losses_match_rlax_values_and_jax_gradients(name, criterion):
    rlax = _rlax()
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    ours_args, rlax_name, rlax_args = _q_calls(name, *_q_inputs())
    ours_args = [jnp.asarray(a) for a in ours_args]
    kw = {"criterion": criterion, "delta": 0.7}
    fn, peer = getattr(L, name), getattr(rlax, rlax_name)
    i = 4  # the bootstrap Q-values: residual gradients with stop_target_gradients=False

    def theirs(q_tm1, boot, stop):
        args = [q_tm1, *ours_args[1:i], boot, *ours_args[i + 1:]]
        td = jax.vmap(lambda *a: peer(*a, stop_target_gradients=stop))(*args)
        return 2 * rlax.l2_loss(td) if criterion == "mse" else rlax.huber_loss(td, 0.7)

    def ours(q_tm1, boot, stop, reduction="mean"):
        return fn(q_tm1, *ours_args[1:i], boot, *ours_args[i + 1:], stop_target_gradients=stop,
                  reduction=reduction, **kw)

    @jax.jit
    def run(q, boot):
        grads = [jax.grad(f, argnums=(0, 1))(q, boot, stop) for stop in (True, False)
                 for f in (ours, lambda *a: jnp.mean(theirs(*a)))]
        return ours(q, boot, True, "none"), theirs(q, boot, True), grads

    got, want, (g_ours, g_theirs, g_ours_res, g_theirs_res) = run(ours_args[0], ours_args[i])
    assert np.allclose(np.asarray(got), np.asarray(want), rtol=1e-13, atol=1e-14)
    for a, b in zip(g_ours + g_ours_res, g_theirs + g_theirs_res):
        assert np.allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)
    assert np.count_nonzero(np.asarray(g_ours[0])) > 0 and np.count_nonzero(np.asarray(g_ours_res[1])) > 0
    assert np.all(np.asarray(g_ours[1]) == 0)  # the target is held constant by default


def test_q_learning_numpy_formulas_weights_and_torch_grads():
    torch = _torch()
    q_tm1, a_tm1, r, g, q_t, a_t, sel, probs = _q_inputs(7, 3)
    rows = np.arange(7)
    taken = q_tm1[rows, a_tm1]
    w = RNG.uniform(0, 2, size=7)
    td = {"q_learning_loss": r + g * q_t.max(1) - taken,
          "double_q_learning_loss": r + g * q_t[rows, sel.argmax(1)] - taken,
          "sarsa_loss": r + g * q_t[rows, a_t] - taken,
          "expected_sarsa_loss": r + g * (q_t * probs).sum(1) - taken}
    for name in Q_LOSSES:
        args = _q_calls(name, q_tm1, a_tm1, r, g, q_t, a_t, sel, probs)[0]
        fn = getattr(L, name)
        assert np.isclose(fn(*args, weight=w), np.sum(w * td[name] ** 2) / w.sum(), rtol=1e-13)
        assert np.isclose(fn(*args, weight=w, mean_over="elements"), np.mean(w * td[name] ** 2), rtol=1e-13)
        targs = [_t(a, i == 0) for i, a in enumerate(args)]
        out = fn(*targs, reduction="sum")
        (gq,) = torch.autograd.grad(out, targs[0])
        want = np.zeros_like(q_tm1)
        want[rows, a_tm1] = -2 * td[name]
        assert np.allclose(gq.numpy(), want, rtol=1e-12, atol=1e-14)


def test_q_learning_action_axis_and_number_bootstrap():
    q_tm1, a_tm1, r, _, q_t, *_ = _q_inputs(5, 3)
    want = L.q_learning_loss(q_tm1, a_tm1, r, 0.9, q_t, reduction="none")
    got = L.q_learning_loss(q_tm1.T.copy(), a_tm1, r, 0.9, q_t.T.copy(), axis=0, reduction="none")
    assert np.allclose(got, want, rtol=1e-15)
    assert np.allclose(want, (r + 0.9 * q_t.max(1) - q_tm1[np.arange(5), a_tm1]) ** 2, rtol=1e-13)


def test_double_q_learning_ties_pick_the_first_maximiser_and_nan_selector_gives_nan():
    q_tm1 = np.zeros((3, 3))
    value = np.array([[1.0, 5.0, 5.0], [2.0, 3.0, 4.0], [1.0, 2.0, 3.0]])
    selector = np.array([[0.0, 7.0, 7.0], [1.0, 1.0, 0.0], [0.0, np.nan, 1.0]])
    got = L.double_q_learning_loss(q_tm1, np.zeros(3, dtype=np.int64), 0.0, 1.0, value, selector, reduction="none")
    assert np.allclose(got[:2], [25.0, 4.0]) and np.isnan(got[2])  # argmax picks the first maximiser
    # q_learning: with stop_target_gradients=False the tie's gradient goes to the first maximiser
    jax = pytest.importorskip("jax")
    q_t = jax.numpy.asarray([[1.0, 3.0, 3.0]])
    grad = jax.grad(lambda x: L.q_learning_loss(jax.numpy.zeros((1, 3)), jax.numpy.asarray([0]), 0.0, 1.0, x,
                                                stop_target_gradients=False))(q_t)
    assert np.allclose(np.asarray(grad), [[0.0, 6.0, 0.0]])


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax", "array_api_strict", "dask"])
def test_double_q_learning_nan_selector_on_every_backend(backend):
    # a NaN anywhere in a selector row (before or after its maximum, next to +-inf) makes that
    # row's target NaN; the other rows are the value at the first maximiser
    from losses.backends import available_backends
    from losses.backends.harness import harness

    if backend not in available_backends():
        pytest.skip(f"{backend} not installed")
    value = np.array([[1.0, 5.0, 2.0], [2.0, 3.0, 4.0], [1.0, 2.0, 3.0], [4.0, 1.0, 0.0], [3.0, 2.0, 1.0]])
    selector = np.array([[9.0, 1.0, np.nan], [np.nan, np.inf, 0.0], [-np.inf, 0.0, np.inf], [np.inf, -np.inf, 0.0],
                         [-np.inf, -np.inf, np.nan]])
    h = harness(backend)
    args = [h.asarray(x, "float64") for x in (np.zeros((5, 3)), value, selector)]
    a = h.asarray(np.zeros(5, dtype=np.int64), None)
    got = h.to_numpy(L.double_q_learning_loss(args[0], a, 0.0, 1.0, args[1], args[2], reduction="none"))
    assert np.isnan(got[[0, 1, 4]]).all() and np.array_equal(got[[2, 3]], [9.0, 16.0])


def test_q_learning_bootstrap_is_the_row_maximum_with_ties_and_nan():
    torch = _torch()
    q_tm1 = RNG.normal(size=(4, 3))
    a_tm1 = np.array([0, 1, 2, 1])
    q_t = np.array([[1.0, 3.0, 3.0], [-0.0, 0.0, -1.0], [np.nan, 2.0, 1.0], [-np.inf, -np.inf, -2.0]])
    want = (1.0 + 0.5 * np.array([3.0, 0.0, np.nan, -2.0]) - q_tm1[np.arange(4), a_tm1]) ** 2
    for stop in (True, False):
        got = L.q_learning_loss(q_tm1, a_tm1, 1.0, 0.5, q_t, stop_target_gradients=stop, reduction="none")
        assert np.allclose(got, want, rtol=1e-15, equal_nan=True)
        tq, tn = _t(q_tm1, True), _t(q_t, True)
        out = L.q_learning_loss(tq, _t(a_tm1), 1.0, 0.5, tn, stop_target_gradients=stop, reduction="none")
        gq, gn = torch.autograd.grad(out[[0, 1, 3]].sum(), [tq, tn], allow_unused=True)
        rows = [0, 1, 3]
        wq = np.zeros_like(q_tm1)
        wq[rows, a_tm1[rows]] = -2 * (1.0 + 0.5 * np.array([3.0, 0.0, -2.0]) - q_tm1[rows, a_tm1[rows]])
        assert np.allclose(gq.numpy()[rows], wq[rows], rtol=1e-13)
        if stop:
            assert gn is None or torch.all(gn == 0)
        else:  # the tie's gradient goes to the first maximiser
            assert np.count_nonzero(gn[0].numpy()) == 1 and gn[0, 1] != 0


def test_q_losses_errors():
    q_tm1, a_tm1, r, g, q_t, a_t, sel, probs = _q_inputs(4, 3)
    with pytest.raises(ValueError, match=r"a_tm1 must have shape \(4,\)"):
        L.q_learning_loss(q_tm1, a_tm1[:3], r, g, q_t)
    with pytest.raises(ValueError, match="q_tm1 and q_t must have the same shape"):
        L.q_learning_loss(q_tm1, a_tm1, r, g, q_t[:, :2])
    with pytest.raises(ValueError, match=r"a_tm1 must hold class indices in \[0, 2\]"):
        L.q_learning_loss(q_tm1, a_tm1 + 3, r, g, q_t)
    with pytest.raises(ValueError, match=r"a_t must hold class indices in \[0, 2\]"):
        L.sarsa_loss(q_tm1, a_tm1, r, g, q_t, a_t - 5)
    with pytest.raises(TypeError, match="a_t must hold integer"):
        L.sarsa_loss(q_tm1, a_tm1, r, g, q_t, a_t.astype(np.float64))
    with pytest.raises(TypeError, match="q_t_selector must have a real floating dtype"):
        L.double_q_learning_loss(q_tm1, a_tm1, r, g, q_t, sel.astype(np.int64))
    with pytest.raises(ValueError, match=r"probs_a_t must hold values in \[0, 1\]"):
        L.expected_sarsa_loss(q_tm1, a_tm1, r, g, q_t, probs + 1.0)
    with pytest.raises(ValueError, match=r"discount_t must hold values in \[0, 1\]"):
        L.q_learning_loss(q_tm1, a_tm1, r, g + 2.0, q_t)
    with pytest.raises(ValueError, match=r"r_t of shape \(3,\) does not broadcast"):
        L.q_learning_loss(q_tm1, a_tm1, r[:3], g, q_t)
    with pytest.raises(ValueError, match="action axis 1 of q_tm1 must not be empty"):
        L.q_learning_loss(q_tm1[:, :0], a_tm1, r, g, q_t[:, :0])
    with pytest.raises(ValueError, match="criterion must be one of"):
        L.sarsa_loss(q_tm1, a_tm1, r, g, q_t, a_t, criterion="l2")
    with pytest.raises(TypeError, match="discount_t must be a real number or an array, got str"):
        L.q_learning_loss(q_tm1, a_tm1, r, "0.9", q_t)


# -------------------------------------------------------------------- TD(lambda) and returns ----
def _rlax_time_major(fn, n_time_major, *args):
    """``fn`` of one trajectory vmapped over the batch axis 1 of its first ``n_time_major``
    arguments (the rest broadcast), outputs time-major."""
    jax = pytest.importorskip("jax")
    in_axes = tuple(1 if i < n_time_major else None for i in range(len(args)))
    return jax.vmap(fn, in_axes=in_axes, out_axes=1)(*args)


def test_lambda_returns_per_step_lambda_match_rlax():
    rlax = _rlax()
    jnp = pytest.importorskip("jax.numpy")
    r, d, v = (jnp.asarray(a) for a in _traj(8, 3))
    lam = jnp.asarray(RNG.uniform(0, 1, size=(8, 3)))
    want = _rlax_time_major(rlax.lambda_returns, 4, r, d, v, lam)
    assert np.allclose(np.asarray(L.lambda_returns(r, d, v, lambda_=lam)), np.asarray(want), rtol=1e-13)
    want = _rlax_time_major(rlax.lambda_returns, 3, r, d, v, 0.7)
    assert np.allclose(np.asarray(L.lambda_returns(r, d, v, lambda_=0.7)), np.asarray(want), rtol=1e-13)


@pytest.mark.parametrize("per_step", [False, True])
def test_td_lambda_loss_matches_rlax(per_step):
    rlax = _rlax()
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    r, d, v = (jnp.asarray(a) for a in _traj(7, 4))
    v_tm1 = jnp.asarray(RNG.normal(size=(7, 4)))
    lam = jnp.asarray(RNG.uniform(0, 1, size=(7, 4))) if per_step else 0.8

    def theirs(x, stop=True):
        td = _rlax_time_major(lambda *a: rlax.td_lambda(*a, stop_target_gradients=stop), 5 if per_step else 4,
                              x, r, d, v, lam)
        return 2 * rlax.l2_loss(td)

    n = 5 if per_step else 4

    @jax.jit
    def run(v_tm1, v):
        g1 = jax.grad(lambda x: L.td_lambda_loss(x, r, d, v, lambda_=lam))(v_tm1)
        g2 = jax.grad(lambda x: jnp.mean(theirs(x)))(v_tm1)
        huber = L.td_lambda_loss(v_tm1, r, d, v, lambda_=lam, criterion="huber", delta=0.5, reduction="none")
        td = _rlax_time_major(rlax.td_lambda, n, v_tm1, r, d, v, lam)
        # the targets are held constant: no gradient reaches v_t (rlax's stop_target_gradients=True)
        gv0 = jax.grad(lambda x: L.td_lambda_loss(v_tm1, r, d, x, lambda_=lam))(v)
        gv = jax.grad(lambda x: L.td_lambda_loss(v_tm1, r, d, x, lambda_=lam, stop_target_gradients=False))(v)
        gw = jax.grad(lambda x: jnp.mean(2 * rlax.l2_loss(_rlax_time_major(
            lambda *a: rlax.td_lambda(*a, stop_target_gradients=False), n, v_tm1, r, d, x, lam))))(v)
        return theirs(v_tm1), g1, g2, huber, rlax.huber_loss(td, 0.5), gv0, gv, gw

    want, g1, g2, huber, want_huber, gv0, gv, gw = run(v_tm1, v)
    got = L.td_lambda_loss(v_tm1, r, d, v, lambda_=lam, reduction="none")  # eager
    assert np.allclose(np.asarray(got), np.asarray(want), rtol=1e-13, atol=1e-14)
    assert np.allclose(np.asarray(g1), np.asarray(g2), rtol=1e-12, atol=1e-14)
    assert np.allclose(np.asarray(huber), np.asarray(want_huber), rtol=1e-13, atol=1e-14)
    assert np.all(np.asarray(gv0) == 0)
    assert np.allclose(np.asarray(gv), np.asarray(gw), rtol=1e-12, atol=1e-14)


def test_td_lambda_loss_is_td_loss_against_lambda_returns():
    r, d, v = _traj(6, 2)
    v_tm1 = RNG.normal(size=(6, 2))
    w = RNG.uniform(0, 1, size=(6, 2))
    want = np.empty_like(r)
    acc = v[-1]
    for t in range(5, -1, -1):  # the lambda-return recursion, lambda = 0.6
        acc = r[t] + d[t] * (0.4 * v[t] + 0.6 * acc)
        want[t] = acc
    got = L.td_lambda_loss(v_tm1, r, d, v, lambda_=0.6, weight=w)
    assert np.isclose(got, np.sum(w * (want - v_tm1) ** 2) / np.sum(w), rtol=1e-13)
    assert np.isclose(L.td_lambda_loss(v_tm1, r, d, v, lambda_=0.0, reduction="sum"),
                      np.sum((r + d * v - v_tm1) ** 2), rtol=1e-13)


def test_td_lambda_loss_errors():
    r, d, v = _traj(5, 2)
    with pytest.raises(ValueError, match="r_t and v_tm1 must have the same shape"):
        L.td_lambda_loss(v[:4], r, d, v)
    with pytest.raises(TypeError, match="v_tm1 must have a real floating dtype"):
        L.td_lambda_loss(np.zeros((5, 2), dtype=np.int64), r, d, v)
    with pytest.raises(ValueError, match=r"lambda_ must hold values in \[0, 1\]"):
        L.td_lambda_loss(v, r, d, v, lambda_=np.full((5, 2), 1.5))
    with pytest.raises(ValueError, match="time axis"):
        L.td_lambda_loss(v[:0], r[:0], d[:0], v[:0])
    with pytest.raises(TypeError, match="r_t must be an array"):
        L.td_lambda_loss(v, 1.0, d, v)


# ------------------------------------------------------------------------------- V-trace ----
def _vtrace_inputs(T=7, B=3):
    r, d, v_t = _traj(T, B)
    v_tm1 = RNG.normal(size=(T, B))
    rho = np.exp(RNG.normal(size=(T, B)) * 0.8)
    return v_tm1, v_t, r, d, rho


@pytest.mark.parametrize("lam,clip", [(1.0, 1.0), (0.9, 1.5), ("array", 0.7)])
def test_vtrace_returns_match_rlax(lam, clip):
    rlax = _rlax()
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    v_tm1, v_t, r, d, rho = (jnp.asarray(a) for a in _vtrace_inputs())
    lam = jnp.asarray(RNG.uniform(0.2, 1, size=r.shape)) if lam == "array" else lam
    n = 6 if not isinstance(lam, float) else 5

    def theirs(v_tm1, v_t, stop):
        return v_tm1 + _rlax_time_major(lambda *a: rlax.vtrace(*a, clip_rho_threshold=clip, stop_target_gradients=stop),
                                        n, v_tm1, v_t, r, d, rho, lam)

    cot = jnp.asarray(RNG.normal(size=r.shape))

    def ours(a, b):
        return L.vtrace_returns(a, b, r, d, rho, lambda_=lam, clip_rho_threshold=clip)

    @jax.jit
    def run(a, b):
        # gradients of the targets themselves (rlax with stop_target_gradients=False)
        g1 = jax.grad(lambda a, b: jnp.sum(cot * ours(a, b)), (0, 1))(a, b)
        g2 = jax.grad(lambda a, b: jnp.sum(cot * theirs(a, b, False)), (0, 1))(a, b)
        return ours(a, b), theirs(a, b, True), g1, g2

    got, want, g1, g2 = run(v_tm1, v_t)
    assert np.allclose(np.asarray(got), np.asarray(want), rtol=1e-13, atol=1e-14)
    assert np.allclose(np.asarray(L.vtrace_returns(v_tm1, v_t, r, d, rho, lambda_=lam, clip_rho_threshold=clip)),
                       np.asarray(want), rtol=1e-13, atol=1e-14)  # eager
    for x, y in zip(g1, g2):
        assert np.allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-14)


def test_vtrace_on_policy_is_lambda_returns_and_clipping_formula():
    v_tm1, v_t, r, d, rho = _vtrace_inputs(6, 2)
    # rho = 1 and the values of one trajectory (v_tm1[t + 1] = v_t[t]): the V-trace targets are
    # the lambda-returns (Espeholt et al., remark after eq. 1)
    v_seq = np.concatenate([v_tm1[:1], v_t[:-1]])
    got = L.vtrace_returns(v_seq, v_t, r, d, np.ones_like(rho), lambda_=0.8)
    assert np.allclose(got, L.lambda_returns(r, d, v_t, lambda_=0.8), rtol=1e-12)
    # the IMPALA sum written out (eq. 1 of Espeholt et al.), clip 1.0, lambda 1
    rb, c = np.minimum(rho, 1.0), np.minimum(rho, 1.0)
    want = np.empty_like(r)
    for s in range(6):
        acc, prod = 0.0, np.ones(2)
        for t in range(s, 6):
            acc = acc + prod * rb[t] * (r[t] + d[t] * v_t[t] - v_tm1[t])
            prod = prod * d[t] * c[t]
        want[s] = v_tm1[s] + acc
    assert np.allclose(L.vtrace_returns(v_tm1, v_t, r, d, rho), want, rtol=1e-13)


def test_vtrace_policy_gradient_loss_matches_rlax():
    rlax = _rlax()
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    T, B, A = 6, 3, 4
    v_tm1, v_t, r, d, rho = (jnp.asarray(a) for a in _vtrace_inputs(T, B))
    logits = jnp.asarray(RNG.normal(size=(T, B, A)))
    actions = jnp.asarray(RNG.integers(0, A, size=(T, B)))
    w = jnp.asarray((RNG.uniform(size=(T, B)) < 0.7).astype(np.float64))
    kw = {"lambda_": 0.9, "clip_rho_threshold": 1.2, "clip_pg_rho_threshold": 0.8}

    def theirs(z):
        def one(z, a, v_tm1, v_t, r, d, rho, w):
            adv = rlax.vtrace_td_error_and_advantage(v_tm1, v_t, r, d, rho, 0.9, 1.2, 0.8).pg_advantage
            return rlax.policy_gradient_loss(z, a, adv, w)
        return jnp.mean(jax.vmap(one, in_axes=1)(z, actions, v_tm1, v_t, r, d, rho, w))

    def ours(z):
        return L.vtrace_policy_gradient_loss(z, actions, v_tm1, v_t, r, d, rho, weight=w, mean_over="elements", **kw)

    @jax.jit
    def run(z, v):
        # the advantages are held constant: no gradient reaches the values
        gv = jax.grad(lambda x: L.vtrace_policy_gradient_loss(z, actions, x, v_t, r, d, rho))(v)
        return ours(z), theirs(z), jax.grad(ours)(z), jax.grad(theirs)(z), gv

    got, want, g1, g2, gv = run(logits, v_tm1)
    assert np.isclose(float(got), float(want), rtol=1e-13)
    assert np.isclose(float(ours(logits)), float(want), rtol=1e-13)  # eager
    assert np.allclose(np.asarray(g1), np.asarray(g2), rtol=1e-12, atol=1e-14)
    assert np.all(np.asarray(gv) == 0)


def test_vtrace_errors():
    v_tm1, v_t, r, d, rho = _vtrace_inputs(4, 2)
    with pytest.raises(ValueError, match="rho_tm1 must be non-negative"):
        L.vtrace_returns(v_tm1, v_t, r, d, rho - 5)
    with pytest.raises(ValueError, match="clip_rho_threshold must be > 0"):
        L.vtrace_returns(v_tm1, v_t, r, d, rho, clip_rho_threshold=0.0)
    with pytest.raises(ValueError, match="r_t and rho_tm1 must have the same shape"):
        L.vtrace_returns(v_tm1, v_t, r, d, rho[:3])
    with pytest.raises(TypeError, match="rho_tm1 must have a real floating dtype"):
        L.vtrace_returns(v_tm1, v_t, r, d, np.ones((4, 2), dtype=np.int64))
    z = RNG.normal(size=(4, 2, 3))
    with pytest.raises(ValueError, match="clip_pg_rho_threshold must be > 0"):
        L.vtrace_policy_gradient_loss(z, np.zeros((4, 2), dtype=np.int64), v_tm1, v_t, r, d, rho,
                                      clip_pg_rho_threshold=-1.0)
    with pytest.raises(ValueError, match=r"actions must hold class indices in \[0, 2\]"):
        L.vtrace_policy_gradient_loss(z, np.full((4, 2), 3), v_tm1, v_t, r, d, rho)


# --------------------------------------------------------------- general off-policy returns ----
def _off_policy_inputs(T=7, B=3, A=4):
    r, d, _ = _traj(T, B)
    q = RNG.normal(size=(T, B, A))
    a = RNG.integers(0, A, size=(T, B))
    pi = np.exp(_logsoftmax(RNG.normal(size=(T, B, A))))
    mu = np.exp(_logsoftmax(RNG.normal(size=(T, B, A))))
    ratio = np.take_along_axis(pi / mu, a[..., None], -1)[..., 0]
    return q, a, r, d, ratio, pi


@pytest.mark.parametrize("traces", ["retrace", "importance_sampling", "tree_backup", "q_lambda"])
def test_general_off_policy_returns_match_rlax(traces):
    rlax = _rlax()
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    q, a, r, d, ratio, pi = _off_policy_inputs()
    c = {"retrace": 0.9 * np.minimum(1.0, ratio), "importance_sampling": ratio,
         "tree_backup": 0.9 * np.take_along_axis(pi, a[..., None], -1)[..., 0],
         "q_lambda": np.full_like(r, 0.8)}[traces]
    q, a, r, d, c, pi = (jnp.asarray(x) for x in (q, a, r, d, c, pi))
    v, q_a = jnp.sum(pi * q, -1), jnp.take_along_axis(q, a[..., None], -1)[..., 0]
    cot = jnp.asarray(RNG.normal(size=r.shape))

    def theirs_qv(q_a, v, c, stop=False):
        return _rlax_time_major(lambda *x: rlax.general_off_policy_returns_from_q_and_v(
            *x, stop_target_gradients=stop), 5, q_a[:-1], v, r, d, c[:-1])

    def theirs_av(q, pi, c, stop=False):
        return _rlax_time_major(lambda *x: rlax.general_off_policy_returns_from_action_values(
            *x, stop_target_gradients=stop), 6, q, a, r, d, c, pi)

    def ours_qv(q_a, v, c, stop=False):
        return L.general_off_policy_returns(q_a, v, r, d, c, stop_target_gradients=stop)

    def ours_av(q, pi, c, stop=False):
        return L.general_off_policy_returns_from_action_values(q, a, r, d, c, pi, stop_target_gradients=stop)

    def grads(fn, *x):
        return jax.grad(lambda *y: jnp.sum(cot * fn(*y)), (0, 1, 2))(*x)

    @jax.jit
    def run(q, v, q_a, pi, c):
        return (ours_qv(q_a, v, c), theirs_qv(q_a, v, c), ours_av(q, pi, c), theirs_av(q, pi, c),
                grads(ours_qv, q_a, v, c), grads(theirs_qv, q_a, v, c),
                grads(ours_av, q, pi, c), grads(theirs_av, q, pi, c))

    out = run(q, v, q_a, pi, c)
    for got, want in (out[0:2], out[2:4]):
        assert np.allclose(np.asarray(got), np.asarray(want), rtol=1e-13, atol=1e-14)
    for g1, g2 in (out[4:6], out[6:8]):
        for x, y in zip(g1, g2):
            assert np.allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-14)
    # eager, and under stop-gradient (rlax's stop_target_gradients=True): values equal, no gradient
    assert np.allclose(np.asarray(ours_qv(q_a, v, c)), np.asarray(out[1]), rtol=1e-13, atol=1e-14)
    assert np.allclose(np.asarray(ours_av(q, pi, c, True)), np.asarray(theirs_av(q, pi, c, True)),
                       rtol=1e-13, atol=1e-14)
    for g in grads(lambda *x: ours_qv(*x, stop=True), q_a, v, c):
        assert np.all(np.asarray(g) == 0)


def test_general_off_policy_returns_explicit_sum_and_special_cases():
    q, a, r, d, ratio, pi = _off_policy_inputs(6, 2)
    v, q_a = (pi * q).sum(-1), np.take_along_axis(q, a[..., None], -1)[..., 0]
    c = 0.9 * np.minimum(1.0, ratio)
    # Munos et al. 2016, eq. 3 written as a sum over the steps ahead (float64 NumPy)
    T = r.shape[0]
    want = np.empty_like(r)
    for s in range(T):
        acc, prod = 0.0, np.ones(2)
        for t in range(s, T):
            corr = d[t] * c[t] * q_a[t] if t < T - 1 else 0.0
            acc = acc + prod * (r[t] + d[t] * v[t] - corr)
            prod = prod * d[t] * c[t]
        want[s] = acc
    assert np.allclose(L.general_off_policy_returns(q_a, v, r, d, c), want, rtol=1e-13)
    assert np.allclose(L.general_off_policy_returns_from_action_values(q, a, r, d, c, pi), want, rtol=1e-13)
    # the action axis may be any axis
    got = L.general_off_policy_returns_from_action_values(np.moveaxis(q, -1, 1), a, r, d, c,
                                                          np.moveaxis(pi, -1, 1), axis=1)
    assert np.allclose(got, want, rtol=1e-13)
    # c = 0: one-step targets; c = lambda with q = v: the lambda-returns (Munos et al., Table 1)
    assert np.allclose(L.general_off_policy_returns(q_a, v, r, d, np.zeros_like(c)), r + d * v, rtol=1e-14)
    lam = np.full_like(r, 0.7)
    lam_ret = np.empty_like(r)
    acc = v[-1]
    for t in range(T - 1, -1, -1):
        acc = r[t] + d[t] * ((1 - 0.7) * v[t] + 0.7 * acc)
        lam_ret[t] = acc
    assert np.allclose(L.general_off_policy_returns(v, v, r, d, lam), lam_ret, rtol=1e-13)
    # one time step; Python-number discount
    assert np.allclose(L.general_off_policy_returns(q_a[:1], v[:1], r[:1], 0.5, c[:1]), r[0] + 0.5 * v[0])


def test_general_off_policy_returns_read_elements_and_nan():
    q, a, r, d, ratio, pi = _off_policy_inputs(5, 2)
    v, q_a, c = (pi * q).sum(-1), np.take_along_axis(q, a[..., None], -1)[..., 0], np.minimum(1.0, ratio)
    base = L.general_off_policy_returns(q_a, v, r, d, c)
    # the last q_t and c_t are not read (rlax's arrays stop one step earlier)
    q2, c2 = q_a.copy(), c.copy()
    q2[-1], c2[-1] = np.nan, np.nan
    assert np.array_equal(L.general_off_policy_returns(q2, v, r, d, c2), base)
    # a NaN anywhere else makes every return that reads it NaN
    q2 = q_a.copy()
    q2[2, 0] = np.nan
    got = L.general_off_policy_returns(q2, v, r, d, np.ones_like(c))
    assert np.all(np.isnan(got[:3, 0])) and np.all(np.isfinite(got[3:, 0])) and np.all(np.isfinite(got[:, 1]))


def test_general_off_policy_returns_errors():
    q, a, r, d, ratio, pi = _off_policy_inputs(4, 2, 3)
    v, q_a = (pi * q).sum(-1), np.take_along_axis(q, a[..., None], -1)[..., 0]
    with pytest.raises(ValueError, match="c_t must be non-negative"):
        L.general_off_policy_returns(q_a, v, r, d, ratio - 5)
    with pytest.raises(ValueError, match="r_t and q_t must have the same shape"):
        L.general_off_policy_returns(q_a[:3], v, r, d, ratio)  # rlax's length T-1 is refused
    with pytest.raises(TypeError, match="c_t must have a real floating dtype"):
        L.general_off_policy_returns(q_a, v, r, d, np.ones((4, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="discount_t"):
        L.general_off_policy_returns(q_a, v, r, 1.5, ratio)
    fn = L.general_off_policy_returns_from_action_values
    with pytest.raises(ValueError, match=r"a_t must hold class indices in \[0, 2\]"):
        fn(q, np.full((4, 2), 3), r, d, ratio, pi)
    with pytest.raises(ValueError, match="probs_a_t"):
        fn(q, a, r, d, ratio, pi + 1.0)
    with pytest.raises(ValueError, match="c_t must be non-negative"):
        fn(q, a, r, d, -ratio, pi)
    with pytest.raises(ValueError, match="q_t and probs_a_t must have the same shape"):
        fn(q, a, r, d, ratio, pi[..., :2])
    with pytest.raises(ValueError, match="a_t and c_t must have the same shape"):
        fn(q, a, r, d, ratio[:3], pi)
    with pytest.raises(TypeError, match="a_t"):
        fn(q, a.astype(np.float64), r, d, ratio, pi)
    with pytest.raises(ValueError, match="time axis"):
        fn(q[:0], a[:0], r[:0], d[:0], ratio[:0], pi[:0])


# ----------------------------------------------------------------------------------- SAC ----
def _sac_inputs(B=8):
    return {k: RNG.normal(size=B) for k in ("q1", "q2", "next_q1", "next_q2", "next_log_prob", "rewards")} | {
        "dones": (RNG.uniform(size=B) < 0.3).astype(np.float64)}


def _sb3_sac_critic(x, gamma, ent_coef):
    """stable-baselines3 SAC.train's critic loss, in float64 NumPy."""
    next_q = np.minimum(x["next_q1"], x["next_q2"]) - ent_coef * x["next_log_prob"]
    target = x["rewards"] + (1 - x["dones"]) * gamma * next_q
    return 0.5 * sum(np.mean((q - target) ** 2) for q in (x["q1"], x["q2"])), target


def test_sac_critic_loss_is_sb3s():
    torch = _torch()
    x = _sac_inputs()
    want, target = _sb3_sac_critic(x, 0.99, 0.3)
    args = (x["q1"], x["q2"], x["rewards"], 0.99 * (1 - x["dones"]), x["next_q1"], x["next_q2"], x["next_log_prob"])
    assert np.isclose(L.sac_critic_loss(*args, alpha=0.3), want, rtol=1e-13)
    assert np.isclose(L.sac_critic_loss(*args, alpha=np.asarray(0.3)), want, rtol=1e-13)
    targs = [_t(a, True) for a in args]
    out = L.sac_critic_loss(*targs, alpha=0.3)
    grads = torch.autograd.grad(out, targs, allow_unused=True)
    n = len(target)
    assert np.allclose(grads[0].numpy(), (x["q1"] - target) / n, rtol=1e-12)
    assert np.allclose(grads[1].numpy(), (x["q2"] - target) / n, rtol=1e-12)
    assert all(g is None or torch.all(g == 0) for g in grads[2:])  # the target is constant


def test_sac_critic_loss_reductions_weights_and_nan():
    torch = _torch()
    x = _sac_inputs()
    n = len(x["q1"])
    args = [x["q1"], x["q2"], x["rewards"], 0.99 * (1 - x["dones"]), x["next_q1"], x["next_q2"], x["next_log_prob"]]
    y = args[2] + args[3] * (np.minimum(args[4], args[5]) - 0.2 * args[6])
    per = 0.5 * ((args[0] - y) ** 2 + (args[1] - y) ** 2)
    w = RNG.uniform(0, 2, size=n)
    assert np.allclose(L.sac_critic_loss(*args, reduction="none"), per, rtol=1e-14)
    assert np.isclose(L.sac_critic_loss(*args, reduction="sum"), per.sum(), rtol=1e-14)
    assert np.isclose(L.sac_critic_loss(*args, weight=w), np.sum(w * per) / w.sum(), rtol=1e-14)
    assert np.isclose(L.sac_critic_loss(*args, weight=w, mean_over="elements"), np.mean(w * per), rtol=1e-14)
    assert np.allclose(L.sac_critic_loss(*args, weight=w, reduction="none"), w * per, rtol=1e-14)
    targs = [_t(a, i < 2) for i, a in enumerate(args)]
    for red, scale in (("sum", 1.0), ("mean", 1.0 / n)):
        g1, g2 = torch.autograd.grad(L.sac_critic_loss(*targs, reduction=red), targs[:2])
        assert np.allclose(g1.numpy(), (args[0] - y) * scale, rtol=1e-13)
        assert np.allclose(g2.numpy(), (args[1] - y) * scale, rtol=1e-13)
    # a NaN in either target critic or in a Q-value makes that transition (and the mean) NaN
    for k in (0, 1, 4, 5, 6):
        bad = [a.copy() for a in args]
        bad[k][2] = np.nan
        out = L.sac_critic_loss(*bad, reduction="none")
        assert np.isnan(out[2]) and np.all(np.isfinite(np.delete(out, 2)))
        assert np.isnan(L.sac_critic_loss(*bad))


def test_sac_actor_and_temperature_losses_are_sb3s():
    torch = _torch()
    x = _sac_inputs()
    lp, q1, q2 = x["next_log_prob"], x["q1"], x["q2"]
    assert np.isclose(L.sac_actor_loss(lp, q1, q2, alpha=0.4), np.mean(0.4 * lp - np.minimum(q1, q2)), rtol=1e-13)
    tl, t1, t2 = _t(lp, True), _t(q1, True), _t(q2, True)
    out = L.sac_actor_loss(tl, t1, t2, alpha=0.4)
    g_lp, g1, g2 = torch.autograd.grad(out, [tl, t1, t2])
    n = len(lp)
    assert np.allclose(g_lp.numpy(), 0.4 / n) and np.allclose(g1.numpy(), -(q1 <= q2).astype(float) / n)
    assert np.allclose(g2.numpy(), -(q2 < q1).astype(float) / n)
    # ties: the gradient goes to q1; NaN in either critic gives NaN
    tie = L.sac_actor_loss(_t([0.0, 0.0]), _t([1.0, np.nan]), _t([1.0, 2.0]), reduction="none")
    assert tie[0].item() == -1.0 and math.isnan(tie[1].item())
    tq = _t([1.0], True)
    (gt,) = torch.autograd.grad(L.sac_actor_loss(_t([0.0]), tq, _t([1.0])), tq)
    assert gt.item() == -1.0
    # temperature: SB3's -(log_ent_coef * (log_prob + target_entropy).detach()).mean()
    log_alpha = torch.tensor([math.log(0.4)], dtype=torch.float64, requires_grad=True)
    out = L.sac_temperature_loss(log_alpha, tl, target_entropy=-2.0)
    want = -(math.log(0.4) * (lp - 2.0)).mean()
    assert math.isclose(out.item(), want, rel_tol=1e-13)
    ga, gl = torch.autograd.grad(out, [log_alpha, tl], allow_unused=True)
    assert math.isclose(ga.item(), -np.mean(lp - 2.0), rel_tol=1e-12)
    assert gl is None or torch.all(gl == 0)


def test_sac_jax_gradients_and_alpha_held_constant():
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    x = {k: jnp.asarray(v) for k, v in _sac_inputs().items()}
    ga = jax.grad(lambda a: L.sac_actor_loss(x["next_log_prob"], x["q1"], x["q2"], alpha=a))(jnp.asarray(0.5))
    assert float(ga) == 0.0
    g = jax.grad(lambda la: L.sac_temperature_loss(la, x["next_log_prob"], target_entropy=-1.0))(jnp.asarray(0.1))
    assert np.isclose(float(g), -float(jnp.mean(x["next_log_prob"] - 1.0)), rtol=1e-12)


def test_sac_errors():
    x = _sac_inputs(4)
    args = (x["q1"], x["q2"], x["rewards"], 0.9, x["next_q1"], x["next_q2"], x["next_log_prob"])
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        L.sac_critic_loss(*args, alpha=-0.1)
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        L.sac_actor_loss(x["q1"], x["q1"], x["q2"], alpha=np.asarray(-0.1))
    with pytest.raises(ValueError, match="q1_tm1 and q2_tm1 must have the same shape"):
        L.sac_critic_loss(x["q1"], x["q2"][:3], *args[2:])
    with pytest.raises(ValueError, match="discount_t must be <= 1"):
        L.sac_critic_loss(*args[:3], 1.5, *args[4:])
    with pytest.raises(ValueError, match="log_prob and q2 must have the same shape"):
        L.sac_actor_loss(x["q1"], x["q1"], x["q2"][:2])
    with pytest.raises(ValueError, match="target_entropy must be finite"):
        L.sac_temperature_loss(np.asarray(0.0), x["q1"], target_entropy=-math.inf)
    with pytest.raises(TypeError, match="target_entropy must be a real number"):
        L.sac_temperature_loss(np.asarray(0.0), x["q1"], target_entropy="auto")
    with pytest.raises(ValueError, match="log_alpha of shape"):
        L.sac_temperature_loss(np.zeros(3), x["q1"], target_entropy=-1.0)


# ------------------------------------------------------- documented differences (new losses) ----
def test_difference_q_and_td_lambda_losses_mse_has_no_half():
    # rlax.l2_loss(td_error) = 0.5 td_error^2; criterion="mse" is td_error^2, as td_loss
    q_tm1, a_tm1, r, g, q_t, *_ = _q_inputs(6, 3)
    td = r + g * q_t.max(1) - q_tm1[np.arange(6), a_tm1]
    assert np.allclose(0.5 * L.q_learning_loss(q_tm1, a_tm1, r, g, q_t, reduction="none"), 0.5 * td ** 2, rtol=1e-14)
    assert np.allclose(L.q_learning_loss(q_tm1, a_tm1, r, g, q_t, reduction="none"), td ** 2, rtol=1e-14)
    rt, d, v = _traj(5, 2)
    v_tm1 = RNG.normal(size=(5, 2))
    td = L.lambda_returns(rt, d, v, lambda_=0.0) - v_tm1
    assert np.allclose(L.td_lambda_loss(v_tm1, rt, d, v, lambda_=0.0, reduction="none"), td ** 2, rtol=1e-14)


def test_difference_vtrace_clip_subgradient_at_the_threshold():
    # min(clip, rho) at rho == clip: gradient 1 (torch clamp); jnp.minimum in rlax.vtrace gives 1/2
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    v_tm1, v_t, r = jnp.asarray([[0.5]]), jnp.asarray([[2.0]]), jnp.asarray([[1.0]])
    delta = 1.0 + 0.9 * 2.0 - 0.5
    g = jax.grad(lambda rho: L.vtrace_returns(v_tm1, v_t, r, 0.9, rho, clip_rho_threshold=1.5).sum())
    assert np.isclose(float(g(jnp.asarray([[1.5]]))[0, 0]), delta, rtol=1e-14)
    assert np.isclose(float(g(jnp.asarray([[1.4]]))[0, 0]), delta, rtol=1e-14)
    assert float(g(jnp.asarray([[1.6]]))[0, 0]) == 0.0
    rlax = _rlax()
    g_rlax = jax.grad(lambda rho: rlax.vtrace(v_tm1[:, 0], v_t[:, 0], r[:, 0], jnp.asarray([0.9]), rho,
                                              clip_rho_threshold=1.5, stop_target_gradients=False).sum())
    assert np.isclose(float(g_rlax(jnp.asarray([1.5]))[0]), 0.5 * delta, rtol=1e-14)


def test_difference_vtrace_returns_are_differentiable_by_default():
    # like lambda_returns / n_step_returns; rlax.vtrace holds the targets constant by default
    jax, jnp = pytest.importorskip("jax"), pytest.importorskip("jax.numpy")
    v_tm1, v_t, r, d, rho = (jnp.asarray(a) for a in _vtrace_inputs(4, 2))
    g = jax.grad(lambda x: L.vtrace_returns(v_tm1, x, r, d, rho).sum())(v_t)
    assert np.count_nonzero(np.asarray(g)) > 0
    g = jax.grad(lambda x: L.vtrace_returns(v_tm1, x, r, d, rho, stop_target_gradients=True).sum())(v_t)
    assert np.all(np.asarray(g) == 0)


def test_difference_sac_alpha_default():
    # alpha=0.2 (the usual fixed temperature); SB3 learns it (ent_coef="auto", initial value 1.0)
    x = _sac_inputs(6)
    lp, q1, q2 = x["next_log_prob"], x["q1"], x["q2"]
    default = L.sac_actor_loss(lp, q1, q2)
    assert np.isclose(default, np.mean(0.2 * lp - np.minimum(q1, q2)), rtol=1e-14)
    assert not np.isclose(default, np.mean(1.0 * lp - np.minimum(q1, q2)))
