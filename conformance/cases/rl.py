import math

import numpy as np

from ... import rl as L
from ..case import Case, Peer
from . import _peers as P

A = 4  # actions
T = 6  # time steps of the return estimators (the batch axis is the second one)


# ------------------------------------------------------------------------------ TD loss ----
def _td(rng, n):
    return {"v_tm1": rng.normal(size=(n,)), "r_t": rng.normal(size=(n,)),
            "discount_t": np.where(rng.uniform(size=(n,)) < 0.2, 0.0, 0.99), "v_t": rng.normal(size=(n,))}


def _td_weighted(rng, n):
    d = _td(rng, n)
    d["weight"] = rng.uniform(0.0, 2.0, size=(n,))
    d["weight"][0] = 0.0
    return d


def _td_interior(rng, n):
    # discounts strictly inside (0, 1): central differences in discount_t stay in its domain
    d = _td(rng, n)
    d["discount_t"] = rng.uniform(0.05, 0.95, size=(n,))
    return d


def _td_kinks(rng, n):
    # TD error exactly 0, +-delta(=1) and away from them: integer-valued values and rewards
    v = rng.integers(-3, 4, size=(n,)).astype(np.float64)
    r = rng.integers(-2, 3, size=(n,)).astype(np.float64)
    offs = np.resize(np.array([0.0, 1.0, -1.0, 0.5]), n)
    return {"v_tm1": r + v - offs, "r_t": r, "discount_t": np.ones(n), "v_t": v}


def _td_integer_rewards(rng, n):
    # integer rewards (the library's policy: accepted and cast) and bool discounts
    d = _td(rng, n)
    d["r_t"] = rng.integers(-1, 2, size=(n,))
    d["discount_t"] = rng.uniform(size=(n,)) < 0.8
    return d


def _td_target(r_t, discount_t, v_t):
    return (r_t + discount_t * v_t).detach()


def _torch_td(kind, reduction="mean", **kw):
    def peer(v_tm1, r_t, discount_t, v_t, weight=None):
        F = P.F()
        target = _td_target(r_t, discount_t, v_t)
        if weight is None:
            return getattr(F, kind)(v_tm1, target, reduction=reduction, **kw)
        per = getattr(F, kind)(v_tm1, target, reduction="none", **kw)
        return (per * weight).sum() / weight.sum()

    return peer


def _torch_td_rlax_mean(v_tm1, r_t, discount_t, v_t, weight):
    """rlax's weighted mean, mean(w l), over torch's per-transition squared error."""
    F = P.F()
    per = F.mse_loss(v_tm1, _td_target(r_t, discount_t, v_t), reduction="none")
    return (per * weight).mean()


def _torch_td_cast(v_tm1, r_t, discount_t, v_t):
    """The TD target with the integer rewards and bool discounts cast to the values' dtype."""
    F = P.F()
    target = r_t.to(v_tm1.dtype) + discount_t.to(v_tm1.dtype) * v_t
    return F.mse_loss(v_tm1, target.detach())


# ------------------------------------------------------------------------ return estimators ----
def _traj(rng, n):
    done = rng.uniform(size=(T, n)) < 0.15
    return {"r_t": rng.normal(size=(T, n)), "discount_t": np.where(done, 0.0, 0.97), "v_t": rng.normal(size=(T, n))}


def _traj_interior(rng, n):
    # discounts strictly inside (0, 1) (no episode end): the cases that differentiate with
    # respect to discount_t (central differences stay in [0, 1], which is checked eagerly)
    d = _traj(rng, n)
    d["discount_t"] = rng.uniform(0.05, 0.95, size=(T, n))
    return d


def _traj_lambda_array(rng, n):
    d = _traj_interior(rng, n)
    d["lambda_"] = rng.uniform(0.3, 1.0, size=(T, n))
    return d


def _jax_n_step(n_steps):
    """Truncated n-step return as an explicit sum (lambda = 1), written in JAX."""

    def peer(r_t, discount_t, v_t):
        jnp = P.jnp()
        rows = []
        for t in range(T):
            m = min(n_steps, T - t)
            acc, disc = jnp.zeros_like(r_t[0]), jnp.ones_like(r_t[0])
            for k in range(m):
                acc = acc + disc * r_t[t + k]
                disc = disc * discount_t[t + k]
            rows.append(acc + disc * v_t[t + m - 1])
        return jnp.stack(rows)

    return peer


def _torch_sb3_gae(gae_lambda):
    """stable-baselines3's RolloutBuffer.compute_returns_and_advantage loop, in torch.

    SB3's buffer holds values V(s_t) and 'dones'; with discount_t = gamma * (1 - done) and
    v_t = V(s_{t+1}) its returns (advantages + values) are lambda-returns.
    """

    def peer(r_t, discount_t, v_t):
        torch = P.torch()
        # V(s_{t+1}) = v_t[t]; V(s_0) is arbitrary (returns = advantages + values cancels it)
        values = torch.cat([torch.zeros_like(v_t[:1]), v_t[:-1]])
        last_gae = torch.zeros_like(r_t[0])
        adv = [None] * T
        for step in reversed(range(T)):
            delta = r_t[step] + discount_t[step] * v_t[step] - values[step]
            last_gae = delta + discount_t[step] * gae_lambda * last_gae
            adv[step] = last_gae
        return torch.stack(adv) + values

    return peer


# ---------------------------------------------------------------------------- policies ----
def _pg(rng, n):
    return {"logits": rng.normal(size=(n, A)) * 2, "actions": rng.integers(0, A, size=(n,)),
            "advantages": rng.normal(size=(n,))}


def _pg_weighted(rng, n):
    d = _pg(rng, n)
    d["weight"] = (rng.uniform(size=(n,)) < 0.7).astype(np.float64)
    d["weight"][0] = 1.0
    return d


def _pg_extreme(rng, n):
    d = _pg(rng, n)
    d["logits"][:, 0] = 1e4
    d["logits"][1::2, 1] = -1e4
    return d


def _pg_time_major(rng, n):
    return {"logits": rng.normal(size=(3, n, A)), "actions": rng.integers(0, A, size=(3, n)).astype(np.int32),
            "advantages": rng.normal(size=(3, n))}


def _torch_pg_rlax_mean(logits, actions, advantages, weight):
    """rlax.policy_gradient_loss's weighted mean, mean(w l), over Categorical.log_prob."""
    torch = P.torch()
    logp = torch.distributions.Categorical(logits=logits).log_prob(actions)
    return (-(logp * advantages.detach()) * weight).mean()


def _torch_pg(reduction="mean"):
    def peer(logits, actions, advantages, weight=None):
        torch = P.torch()
        logp = torch.distributions.Categorical(logits=logits).log_prob(actions)
        per = -(logp * advantages.detach())
        if weight is not None:
            return (per * weight).sum() / weight.sum()
        return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per

    return peer


def _ent(rng, n):
    return {"logits": rng.normal(size=(n, A)) * 2}


def _ent_extreme(rng, n):
    z = rng.normal(size=(n, A))
    z[:, 0] = 1e4
    z[1::2, 1] = -1e4
    z[2, :] = 1e4  # uniform, saturated
    return {"logits": z}


def _ent_masked(rng, n):
    z = rng.normal(size=(n, A))
    z[::2, 1] = -np.inf  # invalid actions
    z[1, 2:] = -np.inf
    return {"logits": z}


def _torch_entropy(logits):
    return -P.torch().distributions.Categorical(logits=logits).entropy().mean()


def _ac(rng, n, with_adv=True):
    d = _pg(rng, n)
    d["values"] = rng.normal(size=(n,))
    d["returns"] = rng.normal(size=(n,))
    if not with_adv:
        del d["advantages"]
    return d


def _torch_sb3_a2c(vf_coef, ent_coef):
    def peer(logits, actions, values, returns, advantages=None):
        torch, F = P.torch(), P.F()
        dist = torch.distributions.Categorical(logits=logits)
        if advantages is None:
            advantages = (returns - values).detach()
        policy_loss = -(advantages * dist.log_prob(actions)).mean()
        value_loss = F.mse_loss(returns, values)
        entropy_loss = -torch.mean(dist.entropy())
        return policy_loss + ent_coef * entropy_loss + vf_coef * value_loss

    return peer


def _ppo(rng, n):
    old = np.log(rng.uniform(0.05, 1.0, size=(n,)))
    return {"log_prob": old + rng.normal(size=(n,)) * 0.3, "old_log_prob": old, "advantages": rng.normal(size=(n,))}


def _ppo_first_epoch(rng, n):
    d = _ppo(rng, n)
    d["log_prob"] = d["old_log_prob"].copy()  # ratio exactly 1
    return d


def _ppo_kinks(rng, n):
    # log-ratios whose exp is exactly 1 +- eps (eps = 0.25 is exact in binary), both signs of A
    hi, lo = math.log(1.25), math.log(0.75)
    assert math.exp(hi) == 1.25 and math.exp(lo) == 0.75
    lr = np.resize(np.array([hi, lo, 0.0, 0.5, -0.5]), n)
    adv = np.resize(np.array([1.0, -1.0, 0.7, -0.3, 2.0, 0.0, 1.5]), n)
    return {"log_prob": lr, "advantages": adv}


def _ppo_huge_log_ratios(rng, n):
    # log-ratios of +-1e4 (exp overflows in every dtype) with advantages >= 0 and < 0 where the
    # clipped objective stays finite, and ordinary ones elsewhere
    d = _ppo(rng, n)
    lr = d.pop("log_prob") - d.pop("old_log_prob")
    adv = d["advantages"]
    lr[0], adv[0] = 1e4, 1.5   # clipped at 1 + eps: -(1 + eps) A, zero gradient
    lr[1], adv[1] = 1e4, 0.0   # A = 0: 0 (the naive product is inf * 0 = NaN)
    lr[2], adv[2] = -1e4, -0.7  # clipped at 1 - eps
    lr[3], adv[3] = -1e4, 2.0  # ratio 0
    return {"log_prob": lr, "advantages": adv}


def _torch_sb3_ppo(clip_range, normalize=False):
    def peer(log_prob, advantages, old_log_prob=None, weight=None):
        torch = P.torch()
        ratio = torch.exp(log_prob - (0.0 if old_log_prob is None else old_log_prob.detach()))
        advantages = advantages.detach()
        if normalize:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss_1 = advantages * ratio
        policy_loss_2 = advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
        return -torch.min(policy_loss_1, policy_loss_2).mean()

    return peer


# ------------------------------------------------------------------- Q-learning family ----
def _q(rng, n):
    done = rng.uniform(size=(n,)) < 0.2
    return {"q_tm1": rng.normal(size=(n, A)) * 2, "a_tm1": rng.integers(0, A, size=(n,)), "r_t": rng.normal(size=(n,)),
            "discount_t": np.where(done, 0.0, 0.99), "q_t": rng.normal(size=(n, A)) * 2}


def _q_double(rng, n):
    d = _q(rng, n)
    d["q_t_value"] = d.pop("q_t")
    d["q_t_selector"] = rng.normal(size=(n, A))
    return d


def _q_sarsa(rng, n):
    d = _q(rng, n)
    d["a_t"] = rng.integers(0, A, size=(n,)).astype(np.int32)
    return d


def _q_expected(rng, n):
    d = _q(rng, n)
    z = rng.normal(size=(n, A))
    d["probs_a_t"] = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    return d


def _rlax_q(name, bootstrap=("q_t",), extra=()):
    """rlax's TD error of one transition, vmapped over the batch, as our mean squared loss
    (``2 * rlax.l2_loss``)."""

    def peer(q_tm1, a_tm1, r_t, discount_t, **rest):
        import jax
        import rlax

        args = [q_tm1, a_tm1, r_t, discount_t] + [rest[k] for k in (*bootstrap, *extra)]
        return P.jnp().mean(2 * rlax.l2_loss(jax.vmap(getattr(rlax, name))(*args)))

    return peer


def _rlax_seq(fn, n_time_major, *args):
    import jax

    in_axes = tuple(1 if i < n_time_major else None for i in range(len(args)))
    return jax.vmap(fn, in_axes=in_axes, out_axes=1)(*args)


def _traj_td_lambda(rng, n):
    d = _traj_lambda_array(rng, n)
    d["v_tm1"] = rng.normal(size=(T, n))
    return d


def _rlax_td_lambda(v_tm1, r_t, discount_t, v_t, lambda_):
    import rlax

    return P.jnp().mean(2 * rlax.l2_loss(_rlax_seq(rlax.td_lambda, 5, v_tm1, r_t, discount_t, v_t, lambda_)))


# -------------------------------------------------------------------------------- V-trace ----
def _vtrace(rng, n):
    d = _traj(rng, n)
    d["v_tm1"] = rng.normal(size=(T, n))
    d["rho_tm1"] = np.exp(rng.normal(size=(T, n)) * 0.7)
    return d


def _vtrace_interior(rng, n):
    d = _vtrace(rng, n)
    d["discount_t"] = rng.uniform(0.05, 0.95, size=(T, n))
    d["lambda_"] = rng.uniform(0.3, 0.95, size=(T, n))
    return d


def _vtrace_kinks(rng, n):
    # importance ratios exactly at the clip thresholds (1.0 and 1.5) and away from them
    d = _vtrace(rng, n)
    d["rho_tm1"] = np.resize(np.array([1.0, 1.5, 0.5, 2.0, 1.0, 0.25]), (T, n)).astype(np.float64)
    return d


def _rlax_vtrace(clip=1.0):
    def peer(v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_=1.0):
        import jax
        import rlax

        n = 6 if hasattr(lambda_, "shape") else 5
        return jax.jit(lambda *a: a[0] + _rlax_seq(
            lambda *b: rlax.vtrace(*b, clip_rho_threshold=clip, stop_target_gradients=False), n, *a))(
                v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_)

    return peer


def _off_policy(rng, n):
    # traces of importance-sampling size (some above 1)
    d = _traj(rng, n)
    d["q_t"] = rng.normal(size=(T, n))
    d["c_t"] = np.exp(rng.normal(size=(T, n)) * 0.7) * 0.9
    return d


def _off_policy_interior(rng, n):
    d = _off_policy(rng, n)
    d["discount_t"] = rng.uniform(0.05, 0.95, size=(T, n))
    return d


def _off_policy_actions(rng, n):
    d = _traj(rng, n)
    del d["v_t"]
    d["q_t"] = rng.normal(size=(T, n, A))
    d["a_t"] = rng.integers(0, A, size=(T, n))
    d["c_t"] = np.minimum(1.0, np.exp(rng.normal(size=(T, n)) * 0.7)) * 0.9
    logits = rng.normal(size=(T, n, A))
    d["probs_a_t"] = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return d


def _rlax_off_policy(q_t, v_t, r_t, discount_t, c_t):
    import jax
    import rlax

    return jax.jit(lambda q, v, r, g, c: _rlax_seq(
        rlax.general_off_policy_returns_from_q_and_v, 5, q[:-1], v, r, g, c[:-1]))(q_t, v_t, r_t, discount_t, c_t)


def _rlax_off_policy_actions(q_t, a_t, r_t, discount_t, c_t, probs_a_t):
    import jax
    import rlax

    return jax.jit(lambda *a: _rlax_seq(rlax.general_off_policy_returns_from_action_values, 6, *a))(
        q_t, a_t, r_t, discount_t, c_t, probs_a_t)


def _vtrace_pg(rng, n):
    d = _vtrace(rng, n)
    d["logits"] = rng.normal(size=(T, n, A)) * 2
    d["actions"] = rng.integers(0, A, size=(T, n))
    return d


def _rlax_vtrace_pg(lam, clip, clip_pg):
    def peer(logits, actions, v_tm1, v_t, r_t, discount_t, rho_tm1):
        import jax
        import rlax

        def one(z, a, v_tm1, v_t, r, d, rho):
            adv = rlax.vtrace_td_error_and_advantage(v_tm1, v_t, r, d, rho, lam, clip, clip_pg).pg_advantage
            return rlax.policy_gradient_loss(z, a, adv, P.jnp().ones_like(r))

        # jitted: eager rlax dispatches every operation of the vmapped scan one by one
        return jax.jit(lambda *a: P.jnp().mean(jax.vmap(one, in_axes=1)(*a)))(
            logits, actions, v_tm1, v_t, r_t, discount_t, rho_tm1)

    return peer


# ------------------------------------------------------------------------------------ SAC ----
def _sac_critic(rng, n):
    done = rng.uniform(size=(n,)) < 0.2
    return {"q1_tm1": rng.normal(size=(n,)), "q2_tm1": rng.normal(size=(n,)), "r_t": rng.normal(size=(n,)),
            "discount_t": np.where(done, 0.0, 0.99), "q1_t": rng.normal(size=(n,)), "q2_t": rng.normal(size=(n,)),
            "log_prob_t": rng.normal(size=(n,)) - 1.0}


def _torch_sb3_sac_critic(alpha):
    """stable-baselines3 SAC.train's critic loss (rewards + (1 - dones) gamma (...))."""

    def peer(q1_tm1, q2_tm1, r_t, discount_t, q1_t, q2_t, log_prob_t):
        torch, F = P.torch(), P.F()
        with torch.no_grad():
            next_q = torch.min(torch.stack([q1_t, q2_t], 1), dim=1).values - alpha * log_prob_t
            target = r_t + discount_t * next_q
        return 0.5 * sum(F.mse_loss(q, target) for q in (q1_tm1, q2_tm1))

    return peer


def _sac_actor(rng, n):
    return {"log_prob": rng.normal(size=(n,)) - 1.0, "q1": rng.normal(size=(n,)), "q2": rng.normal(size=(n,))}


def _sac_actor_ties(rng, n):
    d = _sac_actor(rng, n)
    d["q2"][::2] = d["q1"][::2]  # ties: the gradient goes to q1, as torch.min(dim)'s first index
    return d


def _torch_sb3_sac_actor(alpha):
    def peer(log_prob, q1, q2):
        torch = P.torch()
        min_qf_pi = torch.min(torch.stack([q1, q2], 1), dim=1).values
        return (alpha * log_prob - min_qf_pi).mean()

    return peer


def _sac_temperature(rng, n):
    return {"log_alpha": np.asarray([math.log(0.3)]), "log_prob": rng.normal(size=(n,)) - 1.0}


def _torch_sb3_sac_temperature(target_entropy):
    def peer(log_alpha, log_prob):
        return -(log_alpha * (log_prob + target_entropy).detach()).mean()

    return peer


_V = ("v_tm1", "r_t", "discount_t", "v_t")

CASES = [
    # td_loss: the target is under stop-gradient, so only v_tm1 is checked against finite differences
    Case(L.td_loss, _td, {}, diff=("v_tm1",), vmap=_V, dynamic=True,
         peers=(Peer("F.mse_loss(v_tm1, target.detach())", "torch", _torch_td("mse_loss")),)),
    Case(L.td_loss, _td, {"criterion": "huber", "delta": 0.5}, name="huber", diff=("v_tm1",), vmap=_V,
         peers=(Peer("F.huber_loss(v_tm1, target.detach())", "torch", _torch_td("huber_loss", delta=0.5)),)),
    Case(L.td_loss, _td_kinks, {"criterion": "huber", "reduction": "none"}, name="huber_kinks", fd=False,
         diff=("v_tm1",), peers=(Peer("F.huber_loss", "torch", _torch_td("huber_loss", reduction="none")),
                                 Peer("F.smooth_l1_loss (SB3 DQN)", "torch", _torch_td("smooth_l1_loss", reduction="none")))),
    Case(L.td_loss, _td_weighted, {"reduction": "mean"}, name="weighted", diff=("v_tm1",),
         peers=(Peer("sum(w mse) / sum(w)", "torch", _torch_td("mse_loss")),)),
    Case(L.td_loss, _td_weighted, {"mean_over": "elements"}, name="weighted_rlax_mean", diff=("v_tm1",),
         peers=(Peer("rlax mean(w l) of F.mse_loss(reduction='none')", "torch", _torch_td_rlax_mean),)),
    Case(L.td_loss, _td_integer_rewards, {}, name="integer_rewards", diff=("v_tm1",),
         peers=(Peer("F.mse_loss with the target cast", "torch", _torch_td_cast),)),
    Case(L.td_loss, _td_interior, {"stop_target_gradients": False, "reduction": "sum"}, name="residual_gradient",
         diff=_V),
    # Q-learning family: batched one-step TD errors of rlax, targets under stop-gradient (the
    # Huber, weighted and residual-gradient variants against rlax: tests/test_rl.py)
    Case(L.q_learning_loss, _q, {}, diff=("q_tm1",), vmap=("q_tm1", "a_tm1", "r_t", "discount_t", "q_t"),
         dynamic=True, peers=(Peer("rlax.q_learning (vmapped), 2 l2_loss", "jax", _rlax_q("q_learning"),
                                   requires="rlax"),)),
    Case(L.q_learning_loss, _q, {"stop_target_gradients": False, "reduction": "sum"}, name="residual_gradient",
         diff=("q_tm1", "q_t")),
    Case(L.double_q_learning_loss, _q_double, {}, diff=("q_tm1",), dynamic=True,
         peers=(Peer("rlax.double_q_learning (vmapped)", "jax",
                     _rlax_q("double_q_learning", bootstrap=("q_t_value", "q_t_selector")), requires="rlax"),)),
    Case(L.sarsa_loss, _q_sarsa, {}, diff=("q_tm1",), dynamic=True,
         peers=(Peer("rlax.sarsa (vmapped)", "jax", _rlax_q("sarsa", extra=("a_t",)), requires="rlax"),)),
    Case(L.expected_sarsa_loss, _q_expected, {}, diff=("q_tm1",), dynamic=True,
         peers=(Peer("rlax.expected_sarsa (vmapped)", "jax", _rlax_q("expected_sarsa", bootstrap=("q_t", "probs_a_t")),
                     requires="rlax"),)),
    # TD(lambda): time-major (T, n), the lambda-returns of lambda_returns as targets
    Case(L.td_lambda_loss, _traj_td_lambda, {}, diff=("v_tm1",), dynamic=True,
         peers=(Peer("rlax.td_lambda (vmapped over axis 1), 2 l2_loss", "jax", _rlax_td_lambda, requires="rlax"),)),
    # return estimators: time-major (T, n), full gradients (no stop-gradient by default); the
    # discount gradient on interior discounts (episode ends have discount 0, the edge of its domain)
    Case(L.n_step_returns, _traj, {"n": 3}, diff=("r_t", "v_t"), dynamic=True,
         peers=(Peer("truncated n-step sum (JAX)", "jax", _jax_n_step(3)),)),
    Case(L.n_step_returns, _traj_interior, {"n": 1}, name="n1", diff=("r_t", "discount_t", "v_t"),
         peers=(Peer("r + discount * v", "torch", lambda r_t, discount_t, v_t: r_t + discount_t * v_t),)),
    Case(L.n_step_returns, _traj, {"n": 10}, name="n_longer_than_T", diff=("r_t", "v_t"),
         peers=(Peer("truncated n-step sum (JAX)", "jax", _jax_n_step(10)),)),
    Case(L.n_step_returns, _traj_lambda_array, {"n": 4}, name="lambda_array",
         diff=("r_t", "discount_t", "v_t", "lambda_")),
    Case(L.lambda_returns, _traj, {"lambda_": 0.95}, diff=("r_t", "v_t"), dynamic=True,
         peers=(Peer("stable-baselines3 GAE returns (torch loop)", "torch", _torch_sb3_gae(0.95)),)),
    Case(L.lambda_returns, _traj, {"lambda_": 1.0}, name="monte_carlo", diff=("r_t", "v_t"),
         peers=(Peer("n-step with n >= T (JAX)", "jax", _jax_n_step(T)),)),
    Case(L.lambda_returns, _traj_lambda_array, {}, name="lambda_array", diff=("r_t", "discount_t", "v_t", "lambda_")),
    Case(L.vtrace_returns, _vtrace, {}, diff=("v_tm1", "v_t", "r_t", "rho_tm1"), dynamic=True,
         peers=(Peer("v_tm1 + rlax.vtrace (vmapped over axis 1)", "jax", _rlax_vtrace(), requires="rlax"),)),
    Case(L.vtrace_returns, _vtrace_interior, {"clip_rho_threshold": 1.5}, name="lambda_array",
         diff=("v_tm1", "v_t", "r_t", "discount_t", "rho_tm1", "lambda_"),
         peers=(Peer("v_tm1 + rlax.vtrace", "jax", _rlax_vtrace(1.5), requires="rlax"),)),
    Case(L.vtrace_returns, _vtrace_kinks, {"clip_rho_threshold": 1.5}, name="clip_kinks", fd=False,
         diff=("v_tm1", "rho_tm1")),
    # general off-policy returns (Munos et al. 2016): the last q_t and c_t are not read
    Case(L.general_off_policy_returns, _off_policy, {}, diff=("q_t", "v_t", "r_t", "c_t"), dynamic=True,
         peers=(Peer("rlax.general_off_policy_returns_from_q_and_v (vmapped over axis 1)", "jax",
                     _rlax_off_policy, requires="rlax"),)),
    Case(L.general_off_policy_returns, _off_policy_interior, {}, name="discount_interior",
         diff=("q_t", "v_t", "r_t", "discount_t", "c_t"),
         peers=(Peer("rlax.general_off_policy_returns_from_q_and_v", "jax", _rlax_off_policy, requires="rlax"),)),
    Case(L.general_off_policy_returns_from_action_values, _off_policy_actions, {},
         diff=("q_t", "r_t", "c_t", "probs_a_t"), dynamic=True,
         peers=(Peer("rlax.general_off_policy_returns_from_action_values (vmapped over axis 1)", "jax",
                     _rlax_off_policy_actions, requires="rlax"),)),
    # policy gradient: advantages under stop-gradient
    Case(L.policy_gradient_loss, _pg, {}, diff=("logits",), vmap=("logits", "actions", "advantages"), dynamic=True,
         peers=(Peer("SB3 A2C policy loss (Categorical.log_prob)", "torch", _torch_pg()),)),
    Case(L.policy_gradient_loss, _pg_weighted, {}, name="weighted", diff=("logits",),
         peers=(Peer("sum(w l) / sum(w)", "torch", _torch_pg()),)),
    Case(L.policy_gradient_loss, _pg_weighted, {"mean_over": "elements"}, name="weighted_rlax_mean",
         diff=("logits",), peers=(Peer("rlax.policy_gradient_loss mean(w l)", "torch", _torch_pg_rlax_mean),)),
    Case(L.policy_gradient_loss, _pg_extreme, {"reduction": "sum"}, name="logits_1e4", diff=("logits",),
         dtypes=("float64", "float32"), peers=(Peer("Categorical.log_prob", "torch", _torch_pg("sum")),)),
    Case(L.policy_gradient_loss, _pg_time_major, {"reduction": "none"}, name="time_major", diff=("logits",),
         peers=(Peer("Categorical.log_prob", "torch", _torch_pg("none")),)),
    Case(L.vtrace_policy_gradient_loss, _vtrace_pg, {"lambda_": 0.9, "clip_pg_rho_threshold": 0.8},
         diff=("logits",), dynamic=True,
         peers=(Peer("rlax.policy_gradient_loss of vtrace_td_error_and_advantage", "jax",
                     _rlax_vtrace_pg(0.9, 1.0, 0.8), requires="rlax"),)),
    Case(L.entropy_loss, _ent, {}, diff=("logits",), vmap=("logits",), dynamic=True,
         peers=(Peer("-Categorical.entropy().mean()", "torch", _torch_entropy),)),
    Case(L.entropy_loss, _ent_extreme, {}, name="logits_1e4", diff=("logits",), dtypes=("float64", "float32"),
         peers=(Peer("-Categorical.entropy().mean()", "torch", _torch_entropy),)),
    Case(L.entropy_loss, _ent_masked, {}, name="masked_actions", diff=("logits",), fd=False,
         peers=(Peer("-Categorical.entropy().mean()", "torch", _torch_entropy),)),
    Case(L.actor_critic_loss, _ac, {"value_coef": 0.5, "entropy_coef": 0.01}, diff=("logits", "values"),
         vmap=("logits", "actions", "values", "returns", "advantages"), dynamic=True,
         peers=(Peer("SB3 A2C loss", "torch", _torch_sb3_a2c(0.5, 0.01)),)),
    # advantages = returns - values under stop-gradient: NumPy finite differences see through it
    Case(L.actor_critic_loss, lambda rng, n: _ac(rng, n, with_adv=False), {"value_coef": 0.25, "entropy_coef": 0.0},
         name="implicit_advantages", diff=("logits", "values"), fd=False,
         peers=(Peer("SB3 A2C loss", "torch", _torch_sb3_a2c(0.25, 0.0)),)),
    Case(L.ppo_clip_loss, _ppo, {}, diff=("log_prob",), vmap=("log_prob", "old_log_prob", "advantages"), dynamic=True,
         peers=(Peer("SB3 PPO policy loss", "torch", _torch_sb3_ppo(0.2)),)),
    Case(L.ppo_clip_loss, _ppo_first_epoch, {"clip_range": 0.1}, name="ratio_one", diff=("log_prob",),
         peers=(Peer("SB3 PPO policy loss", "torch", _torch_sb3_ppo(0.1)),)),
    Case(L.ppo_clip_loss, _ppo_kinks, {"clip_range": 0.25}, name="clip_kinks", diff=("log_prob",), fd=False,
         dtypes=("float64",),
         peers=(Peer("SB3 PPO policy loss (torch.clamp subgradient)", "torch", _torch_sb3_ppo(0.25)),)),
    Case(L.ppo_clip_loss, _ppo_huge_log_ratios, {"reduction": "none"}, name="log_ratio_1e4", diff=("log_prob",)),
    Case(L.ppo_clip_loss, _ppo, {"normalize_advantages": True, "clip_range": 0.15}, name="normalized",
         diff=("log_prob",), peers=(Peer("SB3 PPO normalize_advantage=True", "torch", _torch_sb3_ppo(0.15, True)),)),
    # SAC (stable-baselines3): the critic target and alpha are held constant
    Case(L.sac_critic_loss, _sac_critic, {"alpha": 0.3}, diff=("q1_tm1", "q2_tm1"),
         vmap=tuple(_sac_critic(np.random.default_rng(0), 1)), dynamic=True,
         peers=(Peer("SB3 SAC critic_loss", "torch", _torch_sb3_sac_critic(0.3)),)),
    Case(L.sac_actor_loss, _sac_actor, {"alpha": 0.2}, diff=("log_prob", "q1", "q2"), vmap=("log_prob", "q1", "q2"),
         dynamic=True, peers=(Peer("SB3 SAC actor_loss", "torch", _torch_sb3_sac_actor(0.2)),)),
    Case(L.sac_actor_loss, _sac_actor_ties, {"alpha": 0.5, "reduction": "sum"}, name="ties", fd=False,
         diff=("log_prob", "q1", "q2")),
    Case(L.sac_temperature_loss, _sac_temperature, {"target_entropy": -2.0}, diff=("log_alpha",), dynamic=True,
         peers=(Peer("SB3 SAC ent_coef_loss", "torch", _torch_sb3_sac_temperature(-2.0)),)),
]


# value domains of the array arguments that are checked eagerly (tests/test_edges.py)
DOMAINS = {
    "td_loss": {"discount_t": "prob"},
    "q_learning_loss": {"a_tm1": "class", "discount_t": "prob"},
    "double_q_learning_loss": {"a_tm1": "class", "discount_t": "prob"},
    "sarsa_loss": {"a_tm1": "class", "a_t": "class", "discount_t": "prob"},
    "expected_sarsa_loss": {"a_tm1": "class", "discount_t": "prob", "probs_a_t": "prob"},
    "td_lambda_loss": {"discount_t": "prob", "lambda_": "prob"},
    "vtrace_returns": {"discount_t": "prob", "lambda_": "prob", "rho_tm1": "nonneg"},
    "vtrace_policy_gradient_loss": {"actions": "class", "discount_t": "prob", "rho_tm1": "nonneg"},
    "sac_critic_loss": {"discount_t": "prob"},
    "n_step_returns": {"discount_t": "prob", "lambda_": "prob"},
    "lambda_returns": {"discount_t": "prob", "lambda_": "prob"},
    "general_off_policy_returns": {"discount_t": "prob", "c_t": "nonneg"},
    "general_off_policy_returns_from_action_values": {"a_t": "class", "discount_t": "prob", "c_t": "nonneg",
                                                      "probs_a_t": "prob"},
    "policy_gradient_loss": {"actions": "class"},
    "actor_critic_loss": {"actions": "class"},
}

# bad values of hyper-parameters beyond the per-name RANGES of tests/test_edges.py
HYPER_RANGES = {
    "td_lambda_loss": {"lambda_": (-0.1, 1.5)},
    "vtrace_returns": {"lambda_": (-0.1, 1.5), "clip_rho_threshold": (0.0, -1.0)},
    "vtrace_policy_gradient_loss": {"lambda_": (-0.1, 1.5), "clip_rho_threshold": (0.0, -1.0),
                                    "clip_pg_rho_threshold": (0.0, -1.0)},
    "sac_critic_loss": {"alpha": (-0.1,)},
    "sac_actor_loss": {"alpha": (-0.1,)},
    "n_step_returns": {"lambda_": (-0.1, 1.5)},
    "lambda_returns": {"lambda_": (-0.1, 1.5)},
    "actor_critic_loss": {"value_coef": (-1.0,)},
    "ppo_clip_loss": {"clip_range": (1.0, 1.5)},
}
