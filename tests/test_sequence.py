"""ctc_loss: values against a brute-force float64 NumPy sum over alignments, torch and optax
twins (values and gradients), reductions, layouts, infeasible sequences, errors."""
import contextlib
import itertools
import math

import numpy as np
import pytest

import losses as L


# --------------------------------------------------------------------------- references ----
def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def brute_force_nll(lp, target, blank=0):
    """-log sum over every frame labelling pi of length T with B(pi) = target (float64)."""
    T, C = lp.shape
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        if collapse(path, blank) == tuple(target):
            total += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def sample(rng, T=5, N=3, C=3, S=2, il=None, tl=None):
    lp = log_softmax(rng.normal(size=(T, N, C)))
    tg = rng.integers(1, C, size=(N, S))
    il = np.full(N, T) if il is None else np.asarray(il)
    tl = np.full(N, S) if tl is None else np.asarray(tl)
    return lp, tg, il, tl


# ------------------------------------------------------------------------- literature ----
def test_brute_force_values_every_reduction():
    rng = np.random.default_rng(0)
    lp, tg, il, tl = sample(rng, T=5, N=4, C=3, S=2, il=[5, 4, 3, 5], tl=[2, 1, 2, 0])
    tg[0] = [1, 1]  # a repeat needs a blank in between
    per = np.array([brute_force_nll(lp[: il[n], n], tg[n, : tl[n]]) for n in range(4)])
    np.testing.assert_allclose(L.ctc_loss(lp, tg, il, tl, reduction="none"), per, rtol=1e-12)
    np.testing.assert_allclose(L.ctc_loss(lp, tg, il, tl, reduction="sum"), per.sum(), rtol=1e-12)
    np.testing.assert_allclose(L.ctc_loss(lp, tg, il, tl), np.mean(per / np.maximum(tl, 1)), rtol=1e-12)


def test_uniform_emissions_count_alignments():
    # uniform p = 1/C: loss = T log C - log(number of valid alignments). "a" in T=3 frames:
    # alignments a__, _a_, __a, aa_, _aa, aaa -> 6
    C, T = 3, 3
    lp = np.full((T, 1, C), -np.log(C))
    got = L.ctc_loss(lp, np.array([[1]]), np.array([T]), np.array([1]), reduction="sum")
    assert got == pytest.approx(T * np.log(C) - np.log(6), rel=1e-14)


def test_blank_other_than_zero():
    rng = np.random.default_rng(1)
    lp = log_softmax(rng.normal(size=(5, 2, 3)))
    tg = np.array([[0, 1], [1, 1]])
    want = [brute_force_nll(lp[:, n], tg[n], blank=2) for n in range(2)]
    np.testing.assert_allclose(L.ctc_loss(lp, tg, np.array([5, 5]), np.array([2, 2]), blank=2, reduction="none"),
                               want, rtol=1e-12)


# ------------------------------------------------------------------------------ layouts ----
def test_concatenated_batch_first_and_unbatched_agree_with_padded():
    rng = np.random.default_rng(2)
    lp, tg, il, tl = sample(rng, T=7, N=3, C=4, S=3, il=[7, 6, 4], tl=[3, 1, 2])
    padded = L.ctc_loss(lp, tg, il, tl, reduction="none")
    concat = np.concatenate([tg[n, : tl[n]] for n in range(3)])
    np.testing.assert_allclose(L.ctc_loss(lp, concat, il, tl, reduction="none"), padded, rtol=1e-13)
    bf = L.ctc_loss(np.ascontiguousarray(lp.transpose(1, 0, 2)), tg, il, tl, reduction="none", batch_first=True)
    np.testing.assert_allclose(bf, padded, rtol=1e-13)
    for n in range(3):
        one = L.ctc_loss(lp[:, n], tg[n], np.array(il[n]), np.array(tl[n]), reduction="none")
        assert one.shape == ()
        assert float(one) == pytest.approx(padded[n], rel=1e-13)


def test_padding_values_are_ignored():
    rng = np.random.default_rng(3)
    lp, tg, il, tl = sample(rng, T=6, N=2, C=4, S=3, tl=[1, 2])
    junk = tg.copy()
    junk[0, 1:] = [0, 3]  # blank and arbitrary labels in the padding
    junk[1, 2] = 0
    np.testing.assert_array_equal(L.ctc_loss(lp, tg, il, tl, reduction="none"),
                                  L.ctc_loss(lp, junk, il, tl, reduction="none"))


def test_log_prob_minus_inf_is_handled():
    rng = np.random.default_rng(4)
    lp, tg, il, tl = sample(rng, T=5, N=1, C=3, S=1)
    lp[:, 0, 2] = -np.inf  # class 2 never emitted
    tg[:] = 1
    want = brute_force_nll(np.where(np.isinf(lp[:, 0]), -1e300, lp[:, 0]), [1])
    assert float(L.ctc_loss(lp, tg, il, tl, reduction="sum")) == pytest.approx(want, rel=1e-12)


def test_nan_log_probs_give_nan_not_inf():
    rng = np.random.default_rng(16)
    lp, tg, il, tl = sample(rng, T=5, N=2, C=3, S=2)
    lp[2, 0, 0] = np.nan  # the blank: read by every sequence
    out = L.ctc_loss(lp, tg, il, tl, reduction="none", zero_infinity=True)
    assert np.isnan(out[0]) and np.isfinite(out[1])


# ------------------------------------------------------------------------------- torch ----
def _torch_case(seed=5, T=8, N=4, C=5, S=3, il=(8, 7, 5, 6), tl=(3, 2, 3, 0)):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    z = torch.tensor(rng.normal(size=(T, N, C)), dtype=torch.float64)
    tg = torch.tensor(rng.integers(1, C, size=(N, S)))
    return torch, z, tg, torch.tensor(il), torch.tensor(tl)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_matches_torch_values_and_gradients_after_log_softmax(reduction, concatenated):
    torch, z, tg, il, tl = _torch_case()
    F = torch.nn.functional
    targets = torch.cat([tg[n, : tl[n]] for n in range(len(tl))]) if concatenated else tg
    v = torch.linspace(0.5, 1.5, z.shape[1], dtype=torch.float64) if reduction == "none" else 1.0
    grads, vals = [], []
    for fn in (L.ctc_loss, F.ctc_loss):
        zz = z.clone().requires_grad_(True)
        out = fn(zz.log_softmax(-1), targets, il, tl, reduction=reduction)
        (g,) = torch.autograd.grad((out * v).sum(), zz)
        vals.append(out.detach())
        grads.append(g)
    torch.testing.assert_close(vals[0], vals[1], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_torch_gradient_wrt_log_probs_differs_by_exp_log_probs():
    """docs/differences.md: torch's CTC gradient wrt log_probs adds exp(log_probs) on active frames."""
    torch, z, tg, il, tl = _torch_case(seed=6)
    F = torch.nn.functional
    lp = z.log_softmax(-1)
    g = []
    for fn in (L.ctc_loss, F.ctc_loss):
        x = lp.clone().requires_grad_(True)
        fn(x, tg, il, tl, reduction="sum").backward()
        g.append(x.grad)
    active = (torch.arange(lp.shape[0])[:, None] < il[None, :])[..., None]
    torch.testing.assert_close(g[1] - g[0], lp.exp() * active, rtol=1e-12, atol=1e-12)
    # ours is the exact derivative: central differences of our own value
    x = lp.detach().clone()
    h = 1e-6
    x[2, 1, 3] += h
    up = L.ctc_loss(x, tg, il, tl, reduction="sum")
    x[2, 1, 3] -= 2 * h
    down = L.ctc_loss(x, tg, il, tl, reduction="sum")
    assert float((up - down) / (2 * h)) == pytest.approx(float(g[0][2, 1, 3]), abs=1e-7)


def test_infeasible_inf_and_no_nan_leak():
    """docs/differences.md: torch returns NaN gradients for infeasible sequences; ours are 0."""
    torch, z, tg, il, tl = _torch_case(seed=7, T=4, N=3, C=4, S=3, il=(4, 4, 4), tl=(3, 1, 2))
    tg[0] = torch.tensor([2, 2, 2])  # needs 5 frames: infeasible in 4
    F = torch.nn.functional
    lp = z.log_softmax(-1)
    x = lp.clone().requires_grad_(True)
    out = L.ctc_loss(x, tg, il, tl, reduction="none")
    assert torch.isinf(out[0]) and torch.isfinite(out[1:]).all()
    mean = L.ctc_loss(x, tg, il, tl)
    assert torch.isinf(mean)
    (g,) = torch.autograd.grad(mean, x)
    assert torch.isfinite(g).all() and (g[:, 0] == 0).all()
    # the other sequences' gradients are those of the feasible batch alone (scaled by 1/N)
    y = lp.clone().requires_grad_(True)
    ((L.ctc_loss(y[:, 1:], tg[1:], il[1:], tl[1:], reduction="none") / tl[1:]).sum() / 3).backward()
    torch.testing.assert_close(g[:, 1:], y.grad[:, 1:], rtol=1e-12, atol=1e-14)
    x2 = lp.clone().requires_grad_(True)
    F.ctc_loss(x2, tg, il, tl).backward()
    assert torch.isnan(x2.grad[:, 0]).any()  # torch leaks NaN into the infeasible rows


def test_zero_infinity_matches_torch():
    torch, z, tg, il, tl = _torch_case(seed=8, T=4, N=3, C=4, S=3, il=(4, 3, 4), tl=(3, 2, 2))
    tg[0] = torch.tensor([1, 1, 1])
    F = torch.nn.functional
    outs, grads = [], []
    for fn in (L.ctc_loss, F.ctc_loss):
        zz = z.clone().requires_grad_(True)
        out = fn(zz.log_softmax(-1), tg, il, tl, zero_infinity=True)
        out.backward()
        outs.append(out.detach())
        grads.append(zz.grad)
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)
    assert (grads[0][:, 0] == 0).all()


def test_logits_1e4_finite_and_torch_equal():
    torch, z, tg, il, tl = _torch_case(seed=9, T=5, N=2, C=3, S=2, il=(5, 5), tl=(2, 1))
    z = z * 1e4
    F = torch.nn.functional
    res = []
    for fn in (L.ctc_loss, F.ctc_loss):
        zz = z.clone().requires_grad_(True)
        out = fn(zz.log_softmax(-1), tg, il, tl, reduction="sum")
        out.backward()
        res.append((out.detach(), zz.grad))
    assert torch.isfinite(res[0][0]) and torch.isfinite(res[0][1]).all()
    torch.testing.assert_close(res[0][0], res[1][0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(res[0][1], res[1][1], rtol=1e-10, atol=1e-10)


def test_float32_and_float16_dtypes():
    torch, z, tg, il, tl = _torch_case(seed=10)
    lp = z.log_softmax(-1)
    want = L.ctc_loss(lp, tg, il, tl, reduction="none")
    for dt, tol in ((torch.float32, 1e-5), (torch.float16, 1e-2), (torch.bfloat16, 5e-2)):
        got = L.ctc_loss(lp.to(dt), tg.to(torch.int32), il.to(torch.int32), tl, reduction="none")
        assert got.dtype == dt
        torch.testing.assert_close(got.double(), want, rtol=tol, atol=tol)


def test_torch_compile_matches_eager():
    torch, z, tg, il, tl = _torch_case(seed=11, T=4, N=2, C=3, S=2, il=(4, 3), tl=(2, 1))
    lp = z.log_softmax(-1)
    fn = torch.compile(lambda a, b, c, d: L.ctc_loss(a, b, c, d), fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(fn(lp, tg, il, tl), L.ctc_loss(lp, tg, il, tl), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------- JAX ----
def test_jax_jit_grad_vmap_match_numpy_and_torch():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(12)
    lp, tg, il, tl = sample(rng, T=6, N=3, C=4, S=2, il=[6, 5, 4], tl=[2, 1, 2])
    want = L.ctc_loss(lp, tg, il, tl, reduction="none")
    args = [jnp.asarray(a) for a in (lp, tg, il, tl)]
    f = jax.jit(lambda *a: L.ctc_loss(*a, reduction="none"))
    np.testing.assert_allclose(np.asarray(f(*args)), want, rtol=1e-12)
    bf = jax.vmap(lambda a, b, c, d: L.ctc_loss(a, b, c, d, reduction="none"))
    got = bf(jnp.asarray(lp.transpose(1, 0, 2)), *args[1:])
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)
    gj = jax.grad(lambda x: L.ctc_loss(x, *args[1:]))(args[0])
    torch = pytest.importorskip("torch")
    x = torch.tensor(lp, requires_grad=True)
    L.ctc_loss(x, *[torch.tensor(a) for a in (tg, il, tl)]).backward()
    np.testing.assert_allclose(np.asarray(gj), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_three_term_log_sum_exp_edges():
    # the recursion's log-sum-exp on JAX: -inf terms drop out (all three -inf give -inf, not
    # NaN), a NaN anywhere gives NaN, +inf gives +inf, finite values match NumPy's
    jnp = pytest.importorskip("jax").numpy
    from losses.backends import namespace
    from losses.sequence import _lse3

    inf, nan = math.inf, math.nan
    a = np.array([-inf, -inf, 0.0, 3.0, nan, 1.0, 1.0, inf, inf, -1e30, 2.0])
    b = np.array([-inf, 1.0, 0.0, -2.0, 1.0, nan, 1.0, 1.0, inf, -1e30, 2.0])
    c = np.array([-inf, -inf, 0.0, 5.0, 1.0, 1.0, nan, -inf, 1.0, -1e30, -inf])
    with np.errstate(invalid="ignore"):
        want = np.logaddexp(np.logaddexp(a, b), c)
    want[4:7] = nan  # NumPy's logaddexp gives NaN too; spelled out
    xp = namespace(jnp.zeros(1))
    got = np.asarray(_lse3(xp, *(jnp.asarray(v) for v in (a, b, c))))
    np.testing.assert_allclose(got, want, rtol=1e-15, equal_nan=True)
    assert np.isneginf(got[0]) and np.isnan(got[4:7]).all() and np.isposinf(got[7:9]).all()


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_jax_gradient_is_the_generic_bodys_with_non_finite_log_probs(zero_infinity):
    # JAX's hand-written gradient (custom_vjp) against torch's autodiff of the generic body:
    # every element in turn set to NaN, +inf and -inf; inactive frames (a NaN in the last
    # active frame reaches them), an empty label sequence, a repeat, an infeasible sequence
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    from losses.backends import generic_paths

    rng = np.random.default_rng(34)
    lp = log_softmax(rng.normal(size=(6, 4, 4)))
    tg, il, tl = np.array([[1, 2, 2], [3, 1, 0], [2, 3, 1], [3, 3, 3]]), np.array([6, 4, 5, 4]), np.array([3, 2, 0, 3])
    cot = np.array([0.7, -1.3, 0.4, 0.9])  # per-sequence cotangents, zeros of infeasible ones kept

    def ours(x):
        return jax.numpy.sum(L.ctc_loss(x, *map(jax.numpy.asarray, (tg, il, tl)), reduction="none",
                                        zero_infinity=zero_infinity) * cot)

    grad = jax.jit(jax.grad(ours))
    for value in (np.nan, np.inf, -np.inf):
        for index in np.ndindex(lp.shape):
            x = lp.copy()
            x[index] = value
            got = np.asarray(grad(jax.numpy.asarray(x)))
            xt = torch.tensor(x, requires_grad=True)
            with generic_paths():
                out = L.ctc_loss(xt, *map(torch.tensor, (tg, il, tl)), reduction="none", zero_infinity=zero_infinity)
            (want,) = torch.autograd.grad((out * torch.tensor(cot)).sum(), xt)
            want = want.numpy()
            msg = f"{value} at {index}"
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=msg)
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=msg)


def test_matches_optax_per_sequence():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(13)
    N, T, C, S = 3, 7, 5, 3
    logits = jnp.asarray(rng.normal(size=(N, T, C)))
    labels = jnp.asarray(rng.integers(1, C, size=(N, S)))
    il, tl = jnp.asarray([7, 6, 5]), jnp.asarray([3, 2, 3])
    logit_pad = (jnp.arange(T)[None] >= il[:, None]).astype(jnp.float64)
    label_pad = (jnp.arange(S)[None] >= tl[:, None]).astype(jnp.float64)

    def ours(z):
        return L.ctc_loss(jax.nn.log_softmax(z), labels, il, tl, reduction="none", batch_first=True)

    def theirs(z):
        return optax.ctc_loss(z, logit_pad, labels, label_pad)

    np.testing.assert_allclose(ours(logits), theirs(logits), rtol=1e-10)
    v = jnp.asarray([0.7, 1.1, 1.3])
    g1 = jax.grad(lambda z: jnp.sum(ours(z) * v))(logits)
    g2 = jax.grad(lambda z: jnp.sum(theirs(z) * v))(logits)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-10)


def test_optax_infeasible_is_finite_ours_inf():
    """docs/differences.md: optax returns a large finite value for infeasible sequences."""
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax").numpy
    logits = jnp.zeros((1, 2, 3))
    labels = jnp.asarray([[1, 1]])
    pad = jnp.zeros((1, 2))
    assert np.isfinite(float(optax.ctc_loss(logits, pad, labels, jnp.zeros((1, 2)))[0]))
    import jax

    ours = L.ctc_loss(jax.nn.log_softmax(logits), labels, jnp.asarray([2]), jnp.asarray([2]), reduction="none",
                      batch_first=True)
    assert np.isinf(float(ours[0]))


def test_dask_is_lazy_and_equal():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(14)
    lp, tg, il, tl = sample(rng, T=5, N=3, C=3, S=2, il=[5, 4, 3], tl=[2, 1, 2])
    out = L.ctc_loss(*(da.from_array(a, chunks=2) for a in (lp, tg, il, tl)), reduction="none")
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), L.ctc_loss(lp, tg, il, tl, reduction="none"), rtol=1e-13)


# ------------------------------------------------------------------------------ errors ----
def _ok():
    rng = np.random.default_rng(15)
    return list(sample(rng, T=5, N=2, C=3, S=2))


@pytest.mark.parametrize("mutate, exc, match", [
    (lambda a: a.__setitem__(0, a[0][None]), ValueError, r"log_probs must have shape \(T, N, C\)"),
    (lambda a: a.__setitem__(0, a[0].astype(np.int64)), TypeError, "log_probs must have a real floating dtype"),
    (lambda a: a.__setitem__(1, a[1].astype(np.float64)), TypeError, "targets must hold integer"),
    (lambda a: a.__setitem__(2, a[2][:1]), ValueError, r"input_lengths must have shape \(N,\) = \(2,\)"),
    (lambda a: a.__setitem__(2, np.array([6, 5])), ValueError, r"input_lengths must hold lengths in \[0, T=5\]"),
    (lambda a: a.__setitem__(3, np.array([3, 1])), ValueError, r"target_lengths must hold lengths in \[0, S=2\]"),
    (lambda a: a.__setitem__(3, np.array([-1, 1])), ValueError, "target_lengths must hold lengths"),
    (lambda a: a.__setitem__(1, np.array([[1, 0], [2, 2]])), ValueError, "other than blank=0"),
    (lambda a: a.__setitem__(1, np.array([[1, 3], [2, 2]])), ValueError, r"labels in \[0, 2\]"),
    (lambda a: a.__setitem__(1, np.array([1, 2, 2])), ValueError, "sum\\(target_lengths\\) = 4, got 3"),
    (lambda a: a.__setitem__(1, np.ones((3, 2), dtype=np.int64)), ValueError, "padded targets must have shape"),
])
def test_errors(mutate, exc, match):
    args = _ok()
    mutate(args)
    with pytest.raises(exc, match=match):
        L.ctc_loss(*args)


@pytest.mark.parametrize("blank", [0, 2, 4])  # at either end of the classes or inside
@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_label_checks_for_every_blank_position(blank, lib):
    # a label is refused when it is read (within target_lengths) and is blank or outside
    # [0, C); what lies beyond target_lengths is never read
    rng = np.random.default_rng(16)
    lp = np.log(rng.dirichlet(np.ones(5), size=(6, 2)))  # T=6, N=2, C=5
    conv = (lambda a: a) if lib == "numpy" else (lambda a: pytest.importorskip("torch").as_tensor(a))
    allowed = [c for c in range(5) if c != blank]
    for bad in (blank, -1, 5, None):
        targets = np.array([[allowed[0], allowed[-1], 0], [allowed[1], 7, -3]])  # beyond lengths: junk
        if bad is not None:
            targets[1, 0] = bad
        call = lambda: L.ctc_loss(*(conv(a) for a in (lp, targets, np.array([6, 6]), np.array([2, 1]))),  # noqa: E731
                                  blank=blank)
        if bad is None:
            assert np.isfinite(float(call()))
        else:
            with pytest.raises(ValueError, match=f"other than blank={blank}"):
                call()


def test_keyword_errors():
    args = _ok()
    with pytest.raises(ValueError, match=r"blank must be an int in \[0, 2\]"):
        L.ctc_loss(*args, blank=3)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.ctc_loss(*args, reduction="batchmean")
    with pytest.raises(TypeError, match="zero_infinity must be a bool"):
        L.ctc_loss(*args, zero_infinity=1)
    with pytest.raises(TypeError, match="input_lengths given as a list/tuple must hold Python ints"):
        L.ctc_loss(args[0], args[1], [5.0, 5], args[3])
    with pytest.raises(TypeError, match="target_lengths given as a list/tuple must hold Python ints"):
        L.ctc_loss(args[0], args[1], args[2], (True, 1))
    with pytest.raises(TypeError, match="input_lengths must be an integer array"):
        L.ctc_loss(args[0], args[1], 5, args[3])
    with pytest.raises(TypeError, match="log_probs must be a floating array"):
        L.ctc_loss(args[0].tolist(), args[1], args[2], args[3])
    with pytest.raises(TypeError, match="targets must be an integer array"):
        L.ctc_loss(args[0], args[1].tolist(), args[2], args[3])
    with pytest.raises(TypeError, match="batch_first must be a bool"):
        L.ctc_loss(*args, batch_first=None)
    with pytest.raises(ValueError, match=r"unbatched input_lengths must have shape \(\) or \(1,\)"):
        L.ctc_loss(args[0][:, 0], args[1][0], args[2], args[3])


def test_mixed_frameworks_name_the_arguments():
    torch = pytest.importorskip("torch")
    lp, tg, il, tl = _ok()
    with pytest.raises(TypeError, match=r"one framework.*log_probs.*numpy.*target_lengths.*torch"):
        L.ctc_loss(lp, tg, il, torch.tensor(tl))


# -------------------------------------------------------- issue 10: lists, edges, inf ----
@pytest.mark.parametrize("container", [list, tuple])
def test_lengths_as_lists_match_torch(container):
    # torch.nn.functional.ctc_loss accepts input_lengths/target_lengths as lists/tuples of ints
    torch, z, tg, il, tl = _torch_case(seed=21)
    F = torch.nn.functional
    lp = z.log_softmax(-1)
    il_l, tl_l = container(int(v) for v in il), container(int(v) for v in tl)
    for reduction in ("mean", "sum", "none"):
        want = F.ctc_loss(lp, tg, il_l, tl_l, reduction=reduction)
        torch.testing.assert_close(L.ctc_loss(lp, tg, il_l, tl_l, reduction=reduction), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(L.ctc_loss(lp.numpy(), tg.numpy(), il_l, tl_l, reduction=reduction),
                                   want.numpy(), rtol=1e-12)
    # one list, one array; concatenated targets; the unbatched form with one-element lists
    cat = torch.cat([tg[i, :k] for i, k in enumerate(tl_l)])
    torch.testing.assert_close(L.ctc_loss(lp, cat, il_l, tl, reduction="none"),
                               F.ctc_loss(lp, cat, il_l, tl_l, reduction="none"), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(L.ctc_loss(lp[:, 0], tg[0], container([il_l[0]]), container([tl_l[0]])),
                               F.ctc_loss(lp[:, 0], tg[0], container([il_l[0]]), container([tl_l[0]])),
                               rtol=1e-12, atol=1e-12)


def test_lengths_as_lists_under_jax_jit():
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(22)
    lp, tg, il, tl = sample(rng, T=6, N=3, C=4, S=2, il=[6, 5, 4], tl=[2, 1, 2])
    want = L.ctc_loss(lp, tg, il, tl, reduction="none")
    got = jax.jit(lambda x: L.ctc_loss(x, jax.numpy.asarray(tg), il.tolist(), tl.tolist(), reduction="none"))(
        jax.numpy.asarray(lp))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_non_finite_log_probs_follow_torch(zero_infinity):
    # every element in turn set to +inf, -inf and NaN; the reference is torch's own CTC:
    # -inf is an impossible emission, NaN and +inf (a probability above 1) read by the
    # recursion give NaN; elements it does not read (inactive frames, classes not in the
    # labels, states the first frame cannot reach) leave the value alone
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(23)
    lp = log_softmax(rng.normal(size=(6, 3, 4)))
    tg, il, tl = np.array([[1, 2, 2], [3, 3, 1], [1, 2, 3]]), np.array([6, 5, 4]), np.array([2, 3, 3])
    for value in (np.inf, -np.inf, np.nan):
        for index in np.ndindex(lp.shape):
            x = lp.copy()
            x[index] = value
            want = F.ctc_loss(torch.tensor(x), torch.tensor(tg), torch.tensor(il), torch.tensor(tl),
                              reduction="none", zero_infinity=zero_infinity).numpy()
            with np.errstate(invalid="ignore"):
                got = L.ctc_loss(x, tg, il, tl, reduction="none", zero_infinity=zero_infinity)
            np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True, err_msg=f"{value} at {index}")


def test_plus_inf_log_prob_is_nan_on_every_backend():
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(24)
    lp, tg, il, tl = sample(rng, T=5, N=2, C=3, S=2)
    lp[1, 0, 0] = np.inf  # a blank of sequence 0 that its alignments read
    want = torch.nn.functional.ctc_loss(*(torch.tensor(a) for a in (lp, tg, il, tl)), reduction="none")
    assert np.isnan(want[0]) and np.isfinite(want[1])
    with np.errstate(invalid="ignore"):
        outs = [L.ctc_loss(lp, tg, il, tl, reduction="none"),
                L.ctc_loss(*(torch.tensor(a) for a in (lp, tg, il, tl)), reduction="none").numpy(),
                np.asarray(jax.jit(lambda *a: L.ctc_loss(*a, reduction="none"))(
                    *(jax.numpy.asarray(a) for a in (lp, tg, il, tl))))]
    for got in outs:
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, equal_nan=True)


def test_plus_inf_in_an_empty_label_sequence_differs_from_torch_at_the_last_frame():
    # docs/differences.md: torch's CTC returns -log_alpha directly for an empty label
    # sequence, so a +inf blank at its last active frame gives -inf there (NaN at every other
    # frame, where its log-sum-exp computes inf - inf); ours is NaN at every frame
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(25)
    lp = log_softmax(rng.normal(size=(5, 2, 3)))
    tg, il, tl = np.array([[1, 2], [1, 1]]), np.array([5, 4]), np.array([2, 0])
    for t in range(4):
        x = lp.copy()
        x[t, 1, 0] = np.inf
        theirs = torch.nn.functional.ctc_loss(*(torch.tensor(a) for a in (x, tg, il, tl)), reduction="none").numpy()
        with np.errstate(invalid="ignore"):
            ours = L.ctc_loss(x, tg, il, tl, reduction="none")
        assert np.isnan(ours[1]) and ours[0] == pytest.approx(theirs[0], rel=1e-12)
        assert np.isneginf(theirs[1]) if t == 3 else np.isnan(theirs[1])


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax.numpy", "array_api_strict", "dask.array"])
def test_empty_batch(backend):
    # N = 0: "mean" is NaN (the mean of nothing), "sum" 0, "none" empty (torch raises
    # "log_probs tensor must not be empty"; docs/differences.md)
    mod = pytest.importorskip(backend)
    as_array = {"torch": lambda a: mod.tensor(a), "dask.array": lambda a: mod.from_array(a)}.get(
        backend, lambda a: mod.asarray(a))
    lp = as_array(np.zeros((3, 0, 4)))
    tg, lengths = as_array(np.zeros((0, 2), dtype=np.int64)), as_array(np.zeros((0,), dtype=np.int64))
    out = {r: np.asarray(L.ctc_loss(lp, tg, lengths, lengths, reduction=r)) for r in ("mean", "sum", "none")}
    assert np.isnan(out["mean"]) and out["mean"].shape == ()
    assert out["sum"] == 0.0 and out["sum"].shape == ()
    assert out["none"].shape == (0,)
    # concatenated targets of an empty batch are empty
    assert np.asarray(L.ctc_loss(lp, as_array(np.zeros((0,), dtype=np.int64)), lengths, lengths,
                                 reduction="sum")) == 0.0
    with pytest.raises(ValueError, match=r"sum\(target_lengths\) = 0 for an empty batch"):
        L.ctc_loss(lp, as_array(np.ones((2,), dtype=np.int64)), lengths, lengths)


def test_empty_batch_gradient_is_finite():
    torch = pytest.importorskip("torch")
    lp = torch.zeros((3, 0, 4), dtype=torch.float64, requires_grad=True)
    empty = torch.zeros((0,), dtype=torch.int64)
    (g,) = torch.autograd.grad(L.ctc_loss(lp, torch.zeros((0, 2), dtype=torch.int64), empty, empty,
                                          reduction="sum"), lp)
    assert g.shape == (3, 0, 4)


def test_zero_frames():
    # T = 0: the empty label sequence has probability 1 (loss 0), any other is infeasible
    # (inf, 0 with zero_infinity); torch raises for an empty log_probs
    lp = np.zeros((0, 3, 4))
    tg, il, tl = np.ones((3, 1), dtype=np.int64), np.zeros(3, dtype=np.int64), np.array([0, 1, 0])
    out = L.ctc_loss(lp, tg, il, tl, reduction="none")
    assert out.tolist() == [0.0, np.inf, 0.0]
    assert L.ctc_loss(lp, tg, il, tl, reduction="none", zero_infinity=True).tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------- native fast path ----
def _grad_fn_names(out):
    from losses.backends.harness import harness

    return harness("torch").grad_fn_names(out)


@pytest.mark.parametrize("layout", ["padded", "concatenated", "batch_first", "unbatched"])
def test_torch_cpu_uses_the_native_kernel_and_matches_the_generic_body(layout):
    torch = pytest.importorskip("torch")
    from losses.backends import generic_paths

    rng = np.random.default_rng(30)
    lp, tg, il, tl = sample(rng, T=7, N=3, C=4, S=3, il=[7, 5, 4], tl=[3, 0, 2])
    lp[2, 0, 3] = -np.inf  # a log-0 mask: zero gradient there, as the generic body gives
    args = [torch.tensor(a) for a in (lp, tg, il, tl)]
    kw = {"reduction": "none"}
    if layout == "concatenated":
        args[1] = torch.cat([args[1][n, : tl[n]] for n in range(3)])
    elif layout == "batch_first":
        args[0], kw["batch_first"] = args[0].transpose(0, 1).contiguous(), True
    elif layout == "unbatched":
        args = [args[0][:, 0], args[1][0], args[2][0], args[3][0]]
    results = []
    for generic in (False, True):
        x = args[0].clone().requires_grad_(True)
        with generic_paths() if generic else contextlib.nullcontext():
            out = L.ctc_loss(x, *args[1:], **kw)
        names = _grad_fn_names(out)
        assert ("_NativeCTCBackward" in names) != generic, names
        (g,) = torch.autograd.grad((out * torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype)
                                    .reshape(out.shape)).sum(), x)
        results.append((out.detach(), g))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-13, atol=1e-13)


def test_native_kernel_gradient_accuracy_with_huge_logits():
    # ATen's posterior exp(log_alpha + log_beta + nll - log_probs) loses digits when path
    # log-probabilities are ~1e4; the fast path renormalises each frame's posteriors
    torch = pytest.importorskip("torch")
    from losses.backends import generic_paths

    rng = np.random.default_rng(31)
    lp, tg, il, tl = sample(rng, T=5, N=2, C=4, S=2)
    lp = log_softmax(rng.normal(size=lp.shape) * 1e4)
    grads = []
    for generic in (False, True):
        x = torch.tensor(lp, requires_grad=True)
        with generic_paths() if generic else contextlib.nullcontext():
            L.ctc_loss(x, torch.tensor(tg), torch.tensor(il), torch.tensor(tl), reduction="sum").backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-13, atol=1e-13)


def test_native_kernel_not_used_where_it_does_not_apply():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(32)
    lp, tg, il, tl = sample(rng, T=5, N=2, C=4, S=2)
    args = [torch.tensor(a) for a in (lp, tg, il, tl)]
    # torch.func transforms keep the generic scan (ATen's CTC has no batching rule)
    per = torch.func.vmap(lambda x, t, i, k: L.ctc_loss(x, t, i, k, reduction="none"), in_dims=(1, 0, 0, 0))(*args)
    torch.testing.assert_close(per, L.ctc_loss(*args, reduction="none"), rtol=1e-12, atol=1e-12)
    # zero frames: ATen refuses an empty log_probs, the generic body defines the result
    out = L.ctc_loss(torch.zeros((0, 2, 4), dtype=torch.float64, requires_grad=True), args[1],
                     torch.zeros(2, dtype=torch.int64), torch.tensor([0, 1]), reduction="none")
    assert "_NativeCTCBackward" not in _grad_fn_names(out) and out.tolist() == [0.0, math.inf]


def test_one_host_read_and_none_with_checks_off():
    torch = pytest.importorskip("torch")
    from losses.backends.harness import harness

    rng = np.random.default_rng(33)
    lp, tg, il, tl = sample(rng, T=6, N=3, C=4, S=3, il=[6, 5, 4], tl=[3, 1, 2])
    concat = np.concatenate([tg[n, : tl[n]] for n in range(3)])
    for targets in (tg, concat):
        args = [torch.tensor(a) for a in (lp, targets, il, tl)]
        for enabled, most in ((True, 1), (False, 0)):
            with L.value_checks(enabled):
                _, reads = harness("torch").host_reads(lambda: L.ctc_loss(*args))
            assert reads <= most, (targets.ndim, enabled, reads)


# ------------------------------------------------------------------------ docs examples ----
def test_docs_example_torch():
    torch = pytest.importorskip("torch")
    # --- docs/sequence.md: PyTorch ---
    import torch
    import torch.nn.functional as F
    from losses import ctc_loss

    T, N, C, S = 50, 4, 20, 10
    logits = torch.randn(T, N, C, dtype=torch.float64, requires_grad=True)
    log_probs = logits.log_softmax(-1)
    targets = torch.randint(1, C, (N, S))
    input_lengths = torch.full((N,), T)
    target_lengths = torch.randint(1, S + 1, (N,))
    loss = ctc_loss(log_probs, targets, input_lengths, target_lengths)
    loss.backward()
    ref = F.ctc_loss(log_probs, targets, input_lengths, target_lengths)
    # --- end ---
    torch.testing.assert_close(loss, ref, rtol=1e-10, atol=1e-10)
    assert torch.isfinite(logits.grad).all()


def test_docs_example_jax():
    jax = pytest.importorskip("jax")
    # --- docs/sequence.md: JAX ---
    import jax
    import jax.numpy as jnp
    from losses import ctc_loss

    key_logits, key_labels = jax.random.split(jax.random.PRNGKey(0))
    N, T, C, S = 4, 50, 20, 10
    logits = jax.random.normal(key_logits, (N, T, C))
    labels = jax.random.randint(key_labels, (N, S), 1, C)
    input_lengths = jnp.full((N,), T)
    label_lengths = jnp.asarray([10, 7, 3, 9])

    @jax.jit
    def loss_fn(logits):
        log_probs = jax.nn.log_softmax(logits)
        return ctc_loss(log_probs, labels, input_lengths, label_lengths, batch_first=True)

    loss, grads = jax.value_and_grad(loss_fn)(logits)
    # --- end ---
    assert np.isfinite(float(loss)) and bool(jnp.all(jnp.isfinite(grads)))


def test_docs_code_blocks_are_the_tested_examples():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    md = re.findall(r"```python\n(.*?)```", (root / "docs" / "sequence.md").read_text(), re.S)
    src = pathlib.Path(__file__).read_text()
    tested = ["\n".join(line[4:] for line in m.group(1).splitlines()).rstrip() + "\n" for m in
              re.finditer(r"    # --- docs/sequence.md[^\n]*---\n(.*?)    # --- end ---", src, re.S)]
    assert md == tested


def test_nan_loss_sequence_has_nan_gradient_on_its_active_frames_as_torch():
    torch = pytest.importorskip("torch")
    from losses.backends import generic_paths

    rng = np.random.default_rng(33)
    lp = torch.log_softmax(torch.tensor(rng.normal(size=(6, 2, 4))), -1)
    lp[2, 0, 0] = math.nan  # the blank of an active frame of sequence 0
    tg, il, tl = torch.tensor([[1, 2], [3, 1]]), torch.tensor([5, 6]), torch.tensor([2, 2])
    peer = None
    for path in ("torch", "fast", "generic"):
        x = lp.clone().requires_grad_(True)
        with generic_paths() if path == "generic" else contextlib.nullcontext():
            f = torch.nn.functional.ctc_loss if path == "torch" else L.ctc_loss
            out = f(x, tg, il, tl, reduction="none")
        (g,) = torch.autograd.grad(out.sum(), x)
        assert torch.isnan(out[0]) and torch.isfinite(out[1]), path
        assert torch.isnan(g[:5, 0]).all() and torch.all(g[5:, 0] == 0), path  # frames past il
        assert torch.isfinite(g[:, 1]).all(), path
        if peer is None:
            peer = (out[1].detach(), g[:, 1])
        else:  # the feasible sequence agrees with torch after log_softmax
            torch.testing.assert_close(out[1].detach(), peer[0], rtol=1e-12, atol=1e-12)


def test_torch_kernel_never_sees_bad_labels_or_lengths():
    # the native kernel reads log_probs at the labels without checking them: the call's value
    # checks are read before it runs, so a wild label is a ValueError, not a wild read
    torch = pytest.importorskip("torch")
    lp = torch.randn(6, 2, 5, dtype=torch.float64).log_softmax(-1)
    good = torch.tensor([[1, 2], [3, 4]])
    for targets, lengths, match in [(torch.tensor([[1, 2**40], [3, 4]]), [6, 6], "labels in"),
                                    (torch.tensor([[1, -(2**40)], [3, 4]]), [6, 6], "labels in"),
                                    (good, [6, 2**30], "input_lengths")]:
        with pytest.raises(ValueError, match=match):
            L.ctc_loss(lp, targets, torch.tensor(lengths), torch.tensor([2, 2]))
