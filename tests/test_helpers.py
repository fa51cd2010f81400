"""class_weights, pos_weight_from_counts, smooth_labels: formulas, peers, dtypes, errors."""
import numpy as np
import pytest

import losses as L

RNG = np.random.default_rng(7)


# ------------------------------------------------------------------ class_weights
def test_class_weights_formulas():
    n = np.array([10.0, 100.0, 1000.0, 3.0])
    c = len(n)
    inv = 1 / n
    np.testing.assert_allclose(L.class_weights(n, rescale=False), inv, rtol=1e-15)
    np.testing.assert_allclose(L.class_weights(n), inv * c / inv.sum(), rtol=1e-15)
    isq = 1 / np.sqrt(n)
    np.testing.assert_allclose(L.class_weights(n, method="inverse_sqrt"), isq * c / isq.sum(), rtol=1e-15)
    for beta in (0.9, 0.99, 0.999, 0.9999):
        # Cui et al. 2019, eq. for the class-balanced term: (1 - beta) / (1 - beta**n)
        en = (1 - beta) / (1 - beta**n)
        np.testing.assert_allclose(L.class_weights(n, method="effective_number", beta=beta, rescale=False), en,
                                   rtol=1e-12)
        np.testing.assert_allclose(L.class_weights(n, method="effective_number", beta=beta), en * c / en.sum(),
                                   rtol=1e-12)
        np.testing.assert_allclose(L.class_weights(n, method="effective_number", beta=beta).sum(), c, rtol=1e-14)
    # beta = 0: every class has effective number 1 -> equal weights
    np.testing.assert_allclose(L.class_weights(n, method="effective_number", beta=0.0), np.ones(c), rtol=1e-15)


def test_class_weights_balanced_matches_sklearn_rule():
    # sklearn's compute_class_weight("balanced") = n_samples / (n_classes * count_c), which
    # normalises to sum(w * count) = n_samples; ours sums to C: equal up to a constant factor
    counts = np.array([5.0, 20.0, 75.0])
    sk = counts.sum() / (len(counts) * counts)
    ours = L.class_weights(counts)
    np.testing.assert_allclose(ours / ours[0], sk / sk[0], rtol=1e-15)


def test_class_weights_zero_counts_and_rows():
    n = np.array([[4.0, 0.0, 1.0], [2.0, 2.0, 2.0]])
    w = L.class_weights(n)
    assert w[0, 1] == 0.0
    np.testing.assert_allclose(w[0], np.array([0.25, 0.0, 1.0]) * 3 / 1.25, rtol=1e-15)
    np.testing.assert_allclose(w[1], np.ones(3), rtol=1e-15)
    np.testing.assert_array_equal(L.class_weights(np.zeros(3)), np.zeros(3))


def test_class_weights_feed_cross_entropy():
    torch = pytest.importorskip("torch")
    counts = torch.tensor([30, 5, 65])
    w = L.class_weights(counts)
    assert w.dtype == torch.get_default_dtype()  # integer counts -> the framework's default float
    z = torch.randn(6, 3)
    t = torch.tensor([0, 1, 2, 1, 0, 2])
    np.testing.assert_allclose(L.cross_entropy(z, t, weight=w).item(),
                               torch.nn.functional.cross_entropy(z, t, weight=w).item(), rtol=1e-6)


def test_class_weights_dtypes():
    assert L.class_weights(np.array([1, 2, 3])).dtype == np.float64
    assert L.class_weights(np.array([1, 2, 3], dtype=np.float32)).dtype == np.float32
    assert L.class_weights(np.array([1, 2, 3]), dtype=np.float32).dtype == np.float32


def test_class_weights_errors():
    with pytest.raises(ValueError, match=r"method must be one of \('inverse', 'inverse_sqrt', 'effective_number'\)"):
        L.class_weights(np.ones(3), method="log")
    with pytest.raises(ValueError, match="beta must be < 1, got 1.0"):
        L.class_weights(np.ones(3), method="effective_number", beta=1.0)
    with pytest.raises(ValueError, match="counts must be non-negative, got a minimum of -1.0"):
        L.class_weights(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="counts must have at least 1 dimension"):
        L.class_weights(np.asarray(3.0))
    with pytest.raises(TypeError, match="counts must have an integer or real floating dtype, got bool"):
        L.class_weights(np.array([True, False]))


# ------------------------------------------------------------------ pos_weight_from_counts
def test_pos_weight_torch_docs_example_and_bce():
    torch = pytest.importorskip("torch")
    # torch.nn.BCEWithLogitsLoss docs: 100 positives and 300 negatives -> pos_weight 3
    pw = L.pos_weight_from_counts(torch.tensor([100, 50]), torch.tensor([300, 450]))
    np.testing.assert_allclose(pw.numpy(), [3.0, 9.0], rtol=1e-7)
    z = torch.randn(4, 2, dtype=torch.float64)
    y = (torch.rand(4, 2) < 0.5).to(torch.float64)
    pw = L.pos_weight_from_counts(torch.tensor([100.0, 50.0], dtype=torch.float64), torch.tensor([300.0, 450.0], dtype=torch.float64))
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits(z, y, pos_weight=pw).item(),
                               torch.nn.functional.binary_cross_entropy_with_logits(z, y, pos_weight=pw).item(),
                               rtol=1e-12)


def test_pos_weight_scalars_and_zero_positives():
    np.testing.assert_allclose(L.pos_weight_from_counts(np.array([1.0, 4.0, 0.0]), 8), [8.0, 2.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(L.pos_weight_from_counts(2, np.array([1.0, 4.0])), [0.5, 2.0], rtol=1e-15)
    with pytest.raises(ValueError, match="n_pos must be non-negative"):
        L.pos_weight_from_counts(np.array([-1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="n_neg must be >= 0"):
        L.pos_weight_from_counts(np.array([1.0]), -2)
    with pytest.raises(TypeError, match="at least one array argument"):
        L.pos_weight_from_counts(1, 2)


# ------------------------------------------------------------------ smooth_labels
def test_smooth_labels_indices_formula():
    t = np.array([0, 2, 1])
    out = L.smooth_labels(t, 4, label_smoothing=0.2)
    want = 0.8 * np.eye(4)[t] + 0.2 / 4
    np.testing.assert_allclose(out, want, rtol=1e-15)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(L.smooth_labels(t, 4, label_smoothing=0.2, axis=0), want.T, rtol=1e-15)


def test_smooth_labels_k_minus_1_variant_recipe():
    t, k, eps = np.array([1, 0]), 5, 0.1
    out = L.smooth_labels(t, k, label_smoothing=eps * k / (k - 1))
    want = np.where(np.eye(k)[t] == 1, 1 - eps, eps / (k - 1))
    np.testing.assert_allclose(out, want, rtol=1e-14)


def test_smooth_labels_reproduces_torch_label_smoothing():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = torch.randn(5, 4, 3, dtype=torch.float64)
    t = torch.randint(0, 4, (5, 3))
    y = L.smooth_labels(t, 4, label_smoothing=0.3, axis=1, dtype=torch.float64)
    np.testing.assert_allclose(L.cross_entropy(z, y).item(), F.cross_entropy(z, t, label_smoothing=0.3).item(),
                               rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(z, y).item(), F.cross_entropy(z, t, label_smoothing=0.3).item(),
                               rtol=1e-12)


def test_smooth_labels_optax_twin():
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax").numpy
    y = jnp.asarray(np.eye(4)[RNG.integers(0, 4, size=(6,))])
    np.testing.assert_allclose(L.smooth_labels(y, label_smoothing=0.15), optax.losses.smooth_labels(y, 0.15), rtol=1e-15)


def test_smooth_labels_probabilities_keep_dtype_and_eps0():
    p = RNG.uniform(size=(3, 4)).astype(np.float32)
    assert L.smooth_labels(p, label_smoothing=0.1).dtype == np.float32
    assert L.smooth_labels(p, label_smoothing=0.0) is p
    assert L.smooth_labels(np.array([1, 0]), 2).dtype == np.float64


def test_smooth_labels_errors():
    with pytest.raises(ValueError, match="num_classes must be a positive int when target holds integer class indices, got None"):
        L.smooth_labels(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 2\]"):
        L.smooth_labels(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"num_classes=5 does not match target.shape\[-1\] = 4"):
        L.smooth_labels(np.full((2, 4), 0.25), 5)
    with pytest.raises(ValueError, match=r"label_smoothing must be <= 1"):
        L.smooth_labels(np.full((2, 4), 0.25), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"target must hold class probabilities in \[0, 1\]"):
        L.smooth_labels(np.full((2, 4), 2.0))
    with pytest.raises(ValueError, match="axis must be an int in"):
        L.smooth_labels(np.array([0, 1]), 2, axis=3)
    with pytest.raises(TypeError, match="target must hold integer class indices or floating probabilities"):
        L.smooth_labels(np.array([True, False]), 2)



# ------------------------------------------------------------------ issue 10: honest edges
@pytest.mark.parametrize("method,kw", [("inverse", {}), ("inverse_sqrt", {}), ("effective_number", {"beta": 0.9}),
                                       ("effective_number", {"beta": 0.0})])
def test_class_weights_nan_count_gives_nan(method, kw):
    n = np.array([[4.0, np.nan, 1.0], [2.0, 0.0, 2.0]])
    raw = L.class_weights(n, method=method, rescale=False, **kw)
    assert np.isnan(raw[0, 1]) and np.isfinite(raw[0, [0, 2]]).all()
    assert raw[1, 1] == 0.0  # a zero count still gets weight 0
    scaled = L.class_weights(n, method=method, **kw)
    assert np.isnan(scaled[0]).all()  # the rescaling reads every count of the row
    np.testing.assert_allclose(scaled[1], L.class_weights(n[1], method=method, **kw), rtol=1e-15)


def test_pos_weight_nan_count_gives_nan():
    out = L.pos_weight_from_counts(np.array([np.nan, 2.0, 0.0]), np.array([3.0, np.nan, 5.0]))
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 1.0


def test_smooth_labels_nan_refused_eagerly_nan_under_jit():
    jax = pytest.importorskip("jax")
    p = np.array([[0.5, 0.5], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="target must hold class probabilities"):
        L.smooth_labels(p)
    out = jax.jit(lambda t: L.smooth_labels(t, label_smoothing=0.2))(jax.numpy.asarray(p))
    np.testing.assert_allclose(np.asarray(out)[0], [0.5, 0.5], rtol=1e-15)
    assert np.isnan(np.asarray(out)[1, 0]) and np.asarray(out)[1, 1] == pytest.approx(0.9)


def test_dtype_must_be_a_real_floating_dtype():
    torch = pytest.importorskip("torch")
    for fn in (lambda **k: L.class_weights(np.array([1, 2]), **k),
               lambda **k: L.pos_weight_from_counts(np.array([1, 2]), np.array([3, 4]), **k),
               lambda **k: L.smooth_labels(np.array([0, 1]), 2, **k)):
        for bad in ("int64", "bogus", np.int64, np.complex128, True, float):
            with pytest.raises(TypeError, match=r"\bdtype\b must be a real floating dtype"):
                fn(dtype=bad)
        assert fn(dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match=r"\bdtype\b must be a real floating dtype"):
        L.class_weights(torch.tensor([1, 2]), dtype=torch.int64)
    with pytest.raises(TypeError, match=r"\bdtype\b must be a real floating dtype"):
        L.class_weights(torch.tensor([1, 2]), dtype=np.float32)
    assert L.class_weights(torch.tensor([1, 2]), dtype=torch.float64).dtype == torch.float64


def test_helper_arguments_are_checked():
    torch = pytest.importorskip("torch")
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match=r"\brescale\b must be a bool"):
            L.class_weights(np.ones(3), rescale=bad)
    for counts in (np.ones(3, dtype=complex), torch.ones(3, dtype=torch.complex64)):
        with pytest.raises(TypeError, match=r"\bcounts\b must have an integer or real floating dtype"):
            L.class_weights(counts)
        with pytest.raises(TypeError, match=r"\bn_neg\b must have an integer or real floating dtype"):
            L.pos_weight_from_counts(counts.real, counts)
    with pytest.raises(TypeError, match=r"\bcounts\b must be an array"):
        L.class_weights(3)
    with pytest.raises(TypeError, match=r"\bcounts\b must be an array"):
        L.class_weights([1, 2, 3])
    with pytest.raises(TypeError, match=r"\baxis\b must be an int"):
        L.smooth_labels(np.full((2, 3), 1 / 3), axis=True)
    with pytest.raises(TypeError, match=r"\btarget\b must be an array"):
        L.smooth_labels(1, 3)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_pos_weight_mismatched_shapes_name_both_arguments(backend):
    torch = pytest.importorskip("torch")
    a, b = np.ones(8), np.ones(9)
    if backend == "torch":
        a, b = torch.tensor(a), torch.tensor(b)
    with pytest.raises(ValueError, match=r"n_pos of shape \(8,\) and n_neg of shape \(9,\) do not broadcast together"):
        L.pos_weight_from_counts(a, b)
    # broadcasting shapes are fine (as torch's division)
    out = L.pos_weight_from_counts(np.array([[1.0], [2.0]]), np.array([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(out, np.array([[2.0, 4.0, 6.0], [1.0, 2.0, 3.0]]), rtol=1e-15)


def test_pos_weight_result_dtype_is_the_floating_argument():
    torch = pytest.importorskip("torch")
    out = L.pos_weight_from_counts(torch.tensor([2, 4]), torch.tensor([3.0, 5.0], dtype=torch.float64))
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), [1.5, 1.25], rtol=1e-15)
    assert L.pos_weight_from_counts(torch.tensor([2, 4]), torch.tensor([3, 5])).dtype == torch.get_default_dtype()
