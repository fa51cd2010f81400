"""Figures of the loss families, for the docs pages.

    pip install -c .ci/constraints.txt -e ".[docs]"   # matplotlib + torch
    python docs/make_plots.py                          # writes every docs/img/*.png
    python docs/make_plots.py --only metric            # one family's figures (or one figure)

Every number drawn is the library's own function evaluated on torch float64 tensors; every
gradient comes from torch autograd through it (the conformance suite proves it equals JAX's
and NumPy finite differences), so a picture shows exactly what the code computes, kinks
included. Nothing here re-implements a loss: where a figure needs a derived quantity (CTC's
forward variables, a loss surface), it is assembled from calls to the library.
"""
from __future__ import annotations

import argparse
import io
import math
import pathlib
import sys

# draw this checkout's library, not whichever copy is installed
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402  (a matplotlib dependency)

import losses as L  # noqa: E402

OUT = pathlib.Path(__file__).parent / "img"
F64 = torch.float64
DPI = 100
STYLES = ["-", "--", "-.", ":"]


def _style(i):
    """Line style of the i-th curve: coinciding curves stay visible (dashes over solid)."""
    return {"ls": STYLES[i % len(STYLES)], "lw": max(3.0 - 0.3 * i, 1.2)}
X = torch.linspace(-4, 4, 801, dtype=F64)


def _zeros(x=X):
    return torch.zeros_like(x)


def _ones(x=X):
    return torch.ones_like(x)


def _two_class(fn):
    """The loss of logits ``[m, 0]`` with target class 0, as a function of the margin m."""

    def f(m):
        return fn(torch.stack([m, torch.zeros_like(m)], dim=1), torch.zeros(m.shape[0], dtype=torch.int64))

    return f


def _profile(ax_loss, ax_grad, x, items, xlabel, legend_size=7):
    """Loss and autograd gradient of each ``(label, fn)`` over the grid ``x``."""
    for i, (label, fn) in enumerate(items):
        xx = x.clone().requires_grad_(True)
        y = fn(xx)
        (g,) = torch.autograd.grad(y.sum(), xx)
        (line,) = ax_loss.plot(x, y.detach(), label=label, **_style(i))
        ax_grad.plot(x, g, color=line.get_color(), label=label, **_style(i))
    ax_loss.set_title("loss")
    ax_grad.set_title("gradient")
    for ax in (ax_loss, ax_grad):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    ax_loss.legend(fontsize=legend_size)


def _save(fig, name):
    """Write ``docs/img/<name>.png`` as a 256-colour PNG (a third of the size, same look)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.png"
    buf = io.BytesIO()
    fig.savefig(buf, dpi=DPI, format="png")
    plt.close(fig)
    buf.seek(0)
    Image.open(buf).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def _profile_figure(name, xlabel, items, x=X, ylim=None, grad_ylim=None):
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    _profile(a, b, x, items, xlabel)
    if ylim is not None:
        a.set_ylim(*ylim)
    if grad_ylim is not None:
        b.set_ylim(*grad_ylim)
    fig.tight_layout()
    return _save(fig, name)


# ---------------------------------------------------------------- 1-D profiles

def fig_regression():
    z = _zeros
    return _profile_figure("regression", "residual x - y", [
        ("mse_loss", lambda x: L.mse_loss(x, z(x), reduction="none")),
        ("l1_loss", lambda x: L.l1_loss(x, z(x), reduction="none")),
        ("huber_loss(delta=1)", lambda x: L.huber_loss(x, z(x), delta=1.0, reduction="none")),
        ("smooth_l1_loss(beta=0.5)", lambda x: L.smooth_l1_loss(x, z(x), beta=0.5, reduction="none")),
        ("log_cosh_loss", lambda x: L.log_cosh_loss(x, z(x), reduction="none")),
        ("quantile_loss(q=0.8)", lambda x: L.quantile_loss(x, z(x), q=0.8, reduction="none")),
    ])


def fig_classification():
    o = _ones
    return _profile_figure("classification", "logit (margin) of the true class", [
        ("binary_cross_entropy_with_logits, y=1", lambda s: L.binary_cross_entropy_with_logits(s, o(s), reduction="none")),
        ("sigmoid_focal_loss(gamma=2), y=1", lambda s: L.sigmoid_focal_loss(s, o(s), reduction="none")),
        ("sigmoid_focal_loss(gamma=0.5), y=1", lambda s: L.sigmoid_focal_loss(s, o(s), gamma=0.5, reduction="none")),
        ("cross_entropy, 2 classes", _two_class(lambda s, t: L.cross_entropy(s, t, reduction="none"))),
        ("cross_entropy(label_smoothing=0.2)",
         _two_class(lambda s, t: L.cross_entropy(s, t, label_smoothing=0.2, reduction="none"))),
        ("softmax_focal_loss(gamma=2)", _two_class(lambda s, t: L.softmax_focal_loss(s, t, reduction="none"))),
    ])


def fig_margin():
    o = _ones
    return _profile_figure("margin", "score", [
        ("hinge_loss, y=+1", lambda s: L.hinge_loss(s, o(s), reduction="none")),
        ("squared_hinge_loss, y=+1", lambda s: L.squared_hinge_loss(s, o(s), reduction="none")),
        ("soft_margin_loss, y=+1", lambda s: L.soft_margin_loss(s, o(s), reduction="none")),
        ("margin_ranking_loss(margin=0.5), x1 - x2 = score, y=+1",
         lambda s: L.margin_ranking_loss(s, _zeros(s), o(s), margin=0.5, reduction="none")),
        ("multi_margin_loss, 2 classes (score = margin of the true class)",
         _two_class(lambda s, t: L.multi_margin_loss(s, t, reduction="none"))),
        ("multiclass_hinge_loss, 2 classes", _two_class(lambda s, t: L.multiclass_hinge_loss(s, t, reduction="none"))),
        ("hinge_embedding_loss, y=-1 (score = distance)",
         lambda s: L.hinge_embedding_loss(s, -o(s), reduction="none")),
    ], ylim=(-0.2, 6.0), grad_ylim=(-2.2, 0.3))


def fig_classification_extras():
    def soft_f1(m):
        # one positive and one negative sample with probabilities sigmoid(m), sigmoid(-m)
        # (2 samples, one label per grid point): one soft F1 per label
        logits = torch.stack([m, -m], dim=0)
        target = torch.tensor([[1.0], [0.0]], dtype=F64).expand_as(logits)
        return L.soft_f1_loss(logits, target, average="macro", from_logits=True, reduction="none")

    def distill(m):
        # the teacher puts logits [1, 0] on the two classes
        teacher = torch.tensor([[1.0, 0.0]], dtype=F64).expand(m.shape[0], 2)
        return L.distillation_loss(torch.stack([m, torch.zeros_like(m)], dim=1), teacher,
                                   temperature=2.0, reduction="none")

    return _profile_figure("classification_extras", "logit (margin) of the true class", [
        ("cross_entropy (reference)", _two_class(lambda s, t: L.cross_entropy(s, t, reduction="none"))),
        ("poly1_cross_entropy(epsilon=2)", _two_class(lambda s, t: L.poly1_cross_entropy(s, t, reduction="none"))),
        ("generalized_cross_entropy(q=0.7)",
         _two_class(lambda s, t: L.generalized_cross_entropy(s, t, q=0.7, reduction="none"))),
        ("generalized_cross_entropy(q=0.3)",
         _two_class(lambda s, t: L.generalized_cross_entropy(s, t, q=0.3, reduction="none"))),
        ("distillation_loss(T=2), teacher logits [1, 0]", distill),
        ("soft_f1_loss, logits [m, -m], labels [1, 0]", soft_f1),
    ])


def fig_probabilistic():
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.5))
    r = torch.linspace(-4, 4, 801, dtype=F64)
    _profile(axes[0], axes[1], r, [
        (f"gaussian_nll_loss, var={v:g}",
         (lambda v: lambda x: L.gaussian_nll_loss(x, _zeros(x), torch.full_like(x, v), reduction="none"))(v))
        for v in (0.25, 1.0, 4.0)
    ], "residual input - target")
    u = torch.linspace(-3, 3, 601, dtype=F64)
    _profile(axes[2], axes[3], u, [
        (f"poisson_nll_loss, target={k}",
         (lambda k: lambda x: L.poisson_nll_loss(x, torch.full_like(x, float(k)), reduction="none"))(k))
        for k in (0, 1, 3)
    ], "log-rate input (log_input=True)")
    axes[0].set_title("Gaussian NLL")
    axes[1].set_title("Gaussian NLL: gradient")
    axes[2].set_title("Poisson NLL")
    axes[3].set_title("Poisson NLL: gradient")
    fig.tight_layout()
    return _save(fig, "probabilistic")


def fig_sparse():
    def one_hot_target(fn):
        def f(m):
            logits = torch.stack([m, torch.zeros_like(m)], dim=1)
            return fn(logits, torch.tensor([[1.0, 0.0]], dtype=F64).expand_as(logits))
        return f

    return _profile_figure("sparse", "logit (margin) of the true class, 2 classes", [
        ("safe_softmax_cross_entropy", one_hot_target(lambda s, t: L.safe_softmax_cross_entropy(s, t, reduction="none"))),
        ("multiclass_sparsemax_loss", _two_class(lambda s, t: L.multiclass_sparsemax_loss(s, t, reduction="none"))),
        ("entmax15_loss", _two_class(lambda s, t: L.entmax15_loss(s, t, reduction="none"))),
        ("entmax_bisect_loss(alpha=1.25)",
         _two_class(lambda s, t: L.entmax_bisect_loss(s, t, alpha=1.25, reduction="none"))),
        ("multiclass_perceptron_loss", _two_class(lambda s, t: L.multiclass_perceptron_loss(s, t, reduction="none"))),
        ("sparsemax_loss (binary score), y=1", lambda z: L.sparsemax_loss(z, _ones(z), reduction="none")),
    ])


def fig_ordinal():
    cut = torch.tensor([-2.0, 0.0, 2.0], dtype=F64)
    eta = torch.linspace(-5, 5, 801, dtype=F64)
    items = [
        (f"cumulative_link_loss, level {k}",
         (lambda k: lambda e: L.cumulative_link_loss(e, torch.full(e.shape, k, dtype=torch.int64), cut,
                                                      reduction="none"))(k))
        for k in range(4)
    ]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    _profile(axes[0], axes[1], eta, items, "latent score η (cut-points -2, 0, 2)")
    for ax in axes[:2]:
        for c in cut:
            ax.axvline(float(c), color="0.6", lw=0.8, ls=":")
    axes[0].set_title("cumulative-link NLL")
    # CORAL: K-1 = 3 binary tasks sharing one score s, biases (2, 0, -2)
    bias = torch.tensor([2.0, 0.0, -2.0], dtype=F64)
    citems = []
    for k in range(4):
        def coral(s, k=k):
            logits = s[:, None] + bias
            target = L.ordinal_targets(torch.full(s.shape, k, dtype=torch.int64), 4, dtype=F64)
            return L.coral_loss(logits, target, reduction="none")
        citems.append((f"coral_loss, level {k}", coral))
    for label, fn in citems:
        axes[2].plot(eta, fn(eta), label=label)
    axes[2].set_title("CORAL: logits s + (2, 0, -2)")
    axes[2].set_xlabel("shared score s")
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, "ordinal")


def fig_ranking():
    gap = torch.linspace(-4, 4, 801, dtype=F64)

    def two_items(fn):
        # a list of two items, relevances (1, 0), scores (gap, 0)
        def f(g):
            scores = torch.stack([g, torch.zeros_like(g)], dim=1)
            labels = torch.tensor([[1.0, 0.0]], dtype=F64).expand_as(scores)
            return fn(scores, labels)
        return f

    names = ["ranking_softmax_loss", "poly1_softmax_loss", "listmle_loss", "pairwise_hinge_loss",
             "pairwise_logistic_loss", "pairwise_mse_loss", "approx_ndcg_loss", "approx_mrr_loss"]
    items = [(n, two_items((lambda n: lambda s, t: getattr(L, n)(s, t, reduction="none"))(n))) for n in names]
    return _profile_figure("ranking", "score gap s(relevant) - s(irrelevant)", items, x=gap,
                           ylim=(-1.2, 6.0), grad_ylim=(-2.2, 0.6))


def fig_rl():
    ratio = torch.linspace(0.2, 2.0, 721, dtype=F64)
    items = []
    for adv in (1.0, -1.0):
        for eps in (0.2,):
            def f(r, adv=adv, eps=eps):
                return L.ppo_clip_loss(torch.log(r), torch.full_like(r, adv), clip_range=eps, reduction="none")
            items.append((f"ppo_clip_loss, A = {adv:+g}, clip_range={eps}", f))

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    _profile(a, b, ratio, items, "probability ratio r = π/π_old")
    for ax in (a, b):
        ax.axvspan(0.8, 1.2, color="0.9", zorder=0)
    a.set_title("loss (= − clipped surrogate objective)")
    b.set_title("gradient w.r.t. r")
    fig.tight_layout()
    return _save(fig, "rl")


# ---------------------------------------------------------------- planes and surfaces

def _contour(ax, x, y, z, title, xlabel, ylabel, levels=15):
    cs = ax.contourf(x, y, z, levels=levels, cmap="viridis")
    ax.contour(x, y, z, levels=levels, colors="k", linewidths=0.3)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.colorbar(cs, ax=ax, shrink=0.9)


def fig_metric():
    d = torch.linspace(0, 2.5, 126, dtype=F64)
    dp, dn = torch.meshgrid(d, d, indexing="xy")   # x: anchor-positive, y: anchor-negative
    n = dp.numel()
    anchor = torch.zeros(n, 2, dtype=F64)
    pos = torch.stack([dp.reshape(-1), torch.zeros(n, dtype=F64)], dim=1)
    neg = torch.stack([torch.zeros(n, dtype=F64), dn.reshape(-1)], dim=1)
    trip = L.triplet_margin_loss(anchor, pos, neg, margin=1.0, reduction="none").reshape(dp.shape)
    ones = torch.ones(n, dtype=F64)
    con = (L.contrastive_loss(anchor, pos, ones, margin=1.0, reduction="none")
           + L.contrastive_loss(anchor, neg, 0 * ones, margin=1.0, reduction="none")).reshape(dp.shape)
    con_plain = (L.contrastive_loss(anchor, pos, ones, margin=1.0, squared=False, reduction="none")
                 + L.contrastive_loss(anchor, neg, 0 * ones, margin=1.0, squared=False, reduction="none")
                 ).reshape(dp.shape)
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9))
    xl, yl = "anchor–positive distance", "anchor–negative distance"
    _contour(axes[0], dp, dn, trip, "triplet_margin_loss(margin=1)", xl, yl)
    axes[0].plot([0, 1.5], [1, 2.5], "w--", lw=1)
    axes[0].text(0.1, 2.25, "zero loss:\nd_an ≥ d_ap + 1", color="w", fontsize=8)
    _contour(axes[1], dp, dn, con, "contrastive_loss(margin=1): pos. pair + neg. pair", xl, yl)
    _contour(axes[2], dp, dn, con_plain, "contrastive_loss(margin=1, squared=False)", xl, yl)
    fig.tight_layout()
    return _save(fig, "metric")


def fig_metric_pairs():
    # three unit embeddings: anchor e1 (label 0), a positive at cosine s_p (label 0) and a
    # negative at cosine s_n (label 1); the plotted value is the anchor's own loss. The batch
    # is coupled, so every grid point is its own batch of three, mapped with torch.func.vmap.
    s = torch.linspace(-0.98, 0.98, 99, dtype=F64)
    sp, sn = torch.meshgrid(s, s, indexing="xy")
    fp, fn_ = sp.reshape(-1), sn.reshape(-1)
    z, o = torch.zeros_like(fp), torch.ones_like(fp)
    emb = torch.stack([torch.stack([o, z, z], -1),
                       torch.stack([fp, torch.sqrt(1 - fp**2), z], -1),
                       torch.stack([fn_, z, torch.sqrt(1 - fn_**2)], -1)], dim=1)
    labels = torch.tensor([0, 0, 1])
    panels = [
        ("circle_loss(margin=0.4, gamma=80)", lambda e: L.circle_loss(e, labels, reduction="none")[0]),
        ("multi_similarity_loss(alpha=2, beta=50, base=0.5)",
         lambda e: L.multi_similarity_loss(e, labels, reduction="none")[0]),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9))
    for ax, (title, f) in zip(axes, panels):
        val = torch.func.vmap(f)(emb).reshape(sp.shape)
        _contour(ax, sp, sn, torch.log10(1 + val), f"log10(1 + {title})",
                 "cosine similarity anchor–positive s_p", "cosine similarity anchor–negative s_n", levels=12)
    # the paper's decision boundary (s_p - 1)^2 + s_n^2 = 2 m^2, drawn for reference
    t = torch.linspace(math.pi / 2, math.pi, 100, dtype=F64)
    r = math.sqrt(2) * 0.4
    axes[0].plot(1 + r * torch.cos(t), r * torch.sin(t), "w--", lw=1)
    axes[0].set_xlim(-0.98, 0.98)
    axes[0].text(-0.9, 0.8, "dashed: the paper's boundary\n(s_p − 1)² + s_n² = 2m²", color="k", fontsize=8)
    fig.tight_layout()
    return _save(fig, "metric_pairs")


def fig_segmentation():
    # 200 pixels, 50 in the target Y. A soft prediction with overlap I = sum(p*y) and size
    # S = sum(p): p = I/50 on the target pixels, (S - I)/150 on the others.
    npx, nfg = 200, 50
    ov = torch.linspace(0, 1, 101, dtype=F64)           # I / |Y|
    size = torch.linspace(0, 2, 201, dtype=F64)         # S / |Y|
    oo, ss = torch.meshgrid(ov, size, indexing="xy")
    feasible = ss >= oo
    p_fg = oo.reshape(-1, 1)
    p_bg = ((ss - oo) * nfg / (npx - nfg)).clamp(0, 1).reshape(-1, 1)   # infeasible points masked below
    b = p_fg.shape[0]
    prob = torch.cat([p_fg.expand(b, nfg), p_bg.expand(b, npx - nfg)], dim=1)[:, None, :]
    target = torch.cat([torch.ones(b, nfg, dtype=F64), torch.zeros(b, npx - nfg, dtype=F64)], dim=1)[:, None, :]
    kw = dict(mode="binary", from_logits=False, smooth=1e-6, reduction="none")
    panels = [
        ("dice_loss", L.dice_loss(prob, target, **kw)),
        ("jaccard_loss", L.jaccard_loss(prob, target, **kw)),
        ("tversky_loss(alpha_fp=0.3, beta_fn=0.7)", L.tversky_loss(prob, target, alpha_fp=0.3, beta_fn=0.7, **kw)),
        ("focal_tversky_loss(gamma=0.75)", L.focal_tversky_loss(prob, target, **kw)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for ax, (title, z) in zip(axes, panels):
        z = torch.where(feasible, z.reshape(oo.shape), torch.nan)
        _contour(ax, oo, ss, z, title, "overlap sum(p·y) / |Y|", "prediction size sum(p) / |Y|",
                 levels=torch.linspace(0, 1, 11).tolist())
        ax.plot(1, 1, "r*", ms=9, clip_on=False)
        ax.text(0.55, 0.2, "infeasible:\nsize < overlap", fontsize=8, color="0.4")
    fig.tight_layout()
    return _save(fig, "segmentation")


def fig_detection():
    target = torch.tensor([0.0, 0.0, 2.0, 2.0], dtype=F64)   # a 2x2 box centred at (1, 1)

    def boxes(dx, scale):
        cx, cy = 1.0 + dx, 1.0 + 0 * dx
        half = scale  # half-width of the predicted box (target: 1)
        return torch.stack([cx - half, cy - half, cx + half, cy + half], dim=-1)

    fns = [
        ("box_iou_loss", L.box_iou_loss),
        ("generalized_box_iou_loss", L.generalized_box_iou_loss),
        ("distance_box_iou_loss", L.distance_box_iou_loss),
        ("complete_box_iou_loss", L.complete_box_iou_loss),
        ("l1_loss, mean of 4 coords", None),
    ]

    def loss(fn, pred):
        t = target.expand_as(pred)
        if fn is None:
            return L.l1_loss(pred, t, reduction="none").mean(-1)
        return fn(pred, t, reduction="none")

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    dx = torch.linspace(-5, 5, 801, dtype=F64)
    for i, (label, fn) in enumerate(fns):
        axes[0].plot(dx, loss(fn, boxes(dx, torch.ones_like(dx))), label=label, **_style(i))
    axes[0].set_xlabel("horizontal offset of the centre (target width 2)")
    axes[0].set_title("same size, shifted")
    sc = torch.linspace(0.05, 4, 800, dtype=F64)
    for i, (label, fn) in enumerate(fns):
        axes[1].plot(sc, loss(fn, boxes(0 * sc, sc)), label=label, **_style(i))
    axes[1].set_xscale("log")
    axes[1].set_xlabel("scale of the predicted box (same centre)")
    axes[1].set_title("same centre, scaled")
    for ax in axes[:2]:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    g_dx = torch.linspace(-4, 4, 161, dtype=F64)
    g_ls = torch.linspace(math.log(0.1), math.log(4), 121, dtype=F64)
    dd, ll = torch.meshgrid(g_dx, g_ls, indexing="xy")
    z = loss(L.generalized_box_iou_loss, boxes(dd, torch.exp(ll))).reshape(dd.shape)
    _contour(axes[2], dd, torch.exp(ll), z, "generalized_box_iou_loss", "horizontal offset", "scale",
             levels=torch.linspace(0, 2, 11).tolist())
    axes[2].set_yscale("log")
    ticks = [0.1, 0.25, 0.5, 1, 2, 4]
    axes[2].set_yticks(ticks, [f"{t:g}" for t in ticks])
    axes[2].minorticks_off()
    axes[2].plot(0, 1, "r*", ms=9)
    fig.tight_layout()
    return _save(fig, "detection")


# ---------------------------------------------------------------- sequence: the CTC lattice

def _ctc_prefix_probs(log_probs, labels):
    """P_k(t) = p(labels[:k] | frames 0..t) for every t and k, from one batched ctc_loss call."""
    T = log_probs.shape[0]
    S = labels.shape[0]
    ts, ks = torch.meshgrid(torch.arange(1, T + 1), torch.arange(0, S + 1), indexing="ij")
    n = ts.numel()
    lp = log_probs[:, None, :].expand(T, n, log_probs.shape[1])
    nll = L.ctc_loss(lp, labels[None, :].expand(n, S), ts.reshape(-1), ks.reshape(-1), reduction="none")
    return torch.exp(-nll).reshape(T, S + 1)


def _ctc_alpha(log_probs, labels, blank=0):
    """Forward variables alpha_t(s) over the extended label sequence (blank, l1, blank, ...).

    P_k(t) = alpha_t(2k-1) + alpha_t(2k) (paths of k labels ending at t on label k or on the
    blank after it); alpha_t(2k) = P_k(t-1) * y_t(blank): both terms come from ctc_loss.
    """
    P = _ctc_prefix_probs(log_probs, labels)
    T, S = log_probs.shape[0], labels.shape[0]
    yb = torch.exp(log_probs[:, blank])
    alpha = torch.zeros(T, 2 * S + 1, dtype=F64)
    prev = torch.cat([torch.zeros(1, S + 1, dtype=F64), P[:-1]], dim=0)
    prev[0, 0] = 1.0                     # the empty prefix before the first frame
    alpha[:, 0::2] = prev * yb[:, None]  # ending on a blank
    alpha[:, 1::2] = P[:, 1:] - alpha[:, 2::2]
    return alpha.clamp(min=0)


def fig_sequence():
    g = torch.Generator().manual_seed(3)
    T, C = 12, 4
    labels = torch.tensor([1, 2, 2, 3])
    logits = torch.randn(T, C, generator=g, dtype=F64)
    logits[:, 0] += 1.0
    log_probs = torch.log_softmax(logits, dim=-1)
    alpha = _ctc_alpha(log_probs, labels)
    beta_rev = _ctc_alpha(torch.flip(log_probs, [0]), torch.flip(labels, [0]))
    beta = torch.flip(beta_rev, [0, 1])
    ext = torch.zeros(2 * labels.shape[0] + 1, dtype=torch.int64)
    ext[1::2] = labels
    y_ext = torch.exp(log_probs[:, ext])
    lp = log_probs.clone().requires_grad_(True)
    nll = L.ctc_loss(lp, labels, torch.tensor(T), torch.tensor(labels.shape[0]), reduction="sum")
    (grad,) = torch.autograd.grad(nll, lp)
    p = torch.exp(-nll.detach())
    gamma = alpha * beta / y_ext / p          # posterior occupancy of each lattice node
    # cross-check: the occupancy summed per class is minus the library's gradient
    per_class = torch.zeros(T, C, dtype=F64).index_add_(1, ext, gamma)
    assert torch.allclose(per_class, -grad, atol=1e-8), "CTC lattice disagrees with ctc_loss's gradient"
    assert torch.allclose(gamma.sum(1), torch.ones(T, dtype=F64), atol=1e-8)

    names = ["a", "b", "c"]
    ylab = ["∅" if s % 2 == 0 else names[int(ext[s]) - 1] for s in range(ext.shape[0])]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    im = axes[0].imshow(torch.log10(alpha.T.clamp(min=1e-12)), origin="lower", aspect="auto",
                        cmap="magma", vmin=-8, vmax=0)
    axes[0].set_title("forward variables log10 α_t(s)")
    fig.colorbar(im, ax=axes[0])
    im = axes[1].imshow(gamma.T, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    axes[1].set_title("posterior occupancy α·β / (y·p) of each node")
    fig.colorbar(im, ax=axes[1])
    for ax in axes[:2]:
        ax.set_yticks(range(len(ylab)), ylab)
        ax.set_ylabel("extended label (∅ = blank)")
        ax.set_xlabel("time frame t")
    im = axes[2].imshow((-grad).T, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    axes[2].set_yticks(range(C), ["∅"] + names)
    axes[2].set_ylabel("class")
    axes[2].set_xlabel("time frame t")
    axes[2].set_title("− ∂ ctc_loss / ∂ log_probs (target 'abbc')")
    fig.colorbar(im, ax=axes[2])
    fig.tight_layout()
    return _save(fig, "sequence")


# ---------------------------------------------------------------- generative

def fig_generative():
    d = torch.linspace(0.005, 0.995, 600, dtype=F64)    # D(G(z)) = sigmoid(fake logit)
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for i, kind in enumerate(("minimax", "non_saturating")):
        fl = torch.logit(d).requires_grad_(True)
        y = L.gan_generator_loss(fl, kind=kind, reduction="none")
        (g,) = torch.autograd.grad(y.sum(), fl)
        axes[0].plot(d, y.detach(), label=f"gan_generator_loss(kind={kind!r})", **_style(i))
        axes[1].plot(d, g, label=kind, **_style(i))
        # the fake half of the discriminator loss: subtract the real term (real logit 0)
        zero = torch.zeros_like(d)
        disc = (L.gan_discriminator_loss(zero, torch.logit(d), kind=kind, reduction="none")
                - L.gan_discriminator_loss(zero, torch.full_like(d, -40.0),
                                           kind=kind, reduction="none"))
        axes[2].plot(d, disc, label=f"gan_discriminator_loss(kind={kind!r}), fake term", **_style(i))
    axes[0].set_title("generator loss")
    axes[0].set_xlabel("D(G(z)) = sigmoid(fake logit)")
    axes[1].set_title("generator gradient w.r.t. the fake logit")
    axes[1].set_xlabel("D(G(z))")
    axes[2].set_title("discriminator loss on a fake sample")
    axes[2].set_xlabel("D(G(z))")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, "generative")


def fig_generative_critic():
    c = torch.linspace(-3, 3, 601, dtype=F64)            # raw critic output on a fake sample
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, kind in enumerate(("wasserstein", "hinge", "least_squares")):
        y = L.gan_generator_loss(c, kind=kind, reduction="none")
        zero = torch.zeros_like(c)
        disc = (L.gan_discriminator_loss(zero, c, kind=kind, reduction="none")
                - L.gan_discriminator_loss(zero, torch.full_like(c, -40.0 if kind == "hinge" else 0.0),
                                           kind=kind, reduction="none"))
        a.plot(c, y, label=f"gan_generator_loss(kind={kind!r})", **_style(i))
        b.plot(c, disc, label=f"gan_discriminator_loss(kind={kind!r}), fake term", **_style(i))
    a.set_title("generator loss")
    b.set_title("discriminator loss on a fake sample")
    for ax in (a, b):
        ax.set_xlabel("critic output on G(z)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, "generative_critic")


# ---------------------------------------------------------------- multitask

def fig_multitask():
    epochs = torch.arange(30, dtype=F64)
    # toy loss history of three tasks: fast, slow, and a task that plateaus then drops
    hist = torch.stack([
        2.0 * torch.exp(-epochs / 4) + 0.2,
        1.5 * torch.exp(-epochs / 25) + 0.1,
        1.0 - 0.6 / (1 + torch.exp(-(epochs - 18) / 1.5)),
    ], dim=1)
    w = torch.stack([L.dynamic_weight_average(hist[t - 2:t], temperature=2.0) for t in range(2, 30)])
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for k, name in enumerate(["task 1 (fast)", "task 2 (slow)", "task 3 (late drop)"]):
        (line,) = axes[0].plot(epochs, hist[:, k], label=name)
        axes[1].plot(epochs[2:], w[:, k], color=line.get_color(), label=name)
    axes[0].set_title("toy loss history")
    axes[0].set_xlabel("epoch")
    axes[0].legend(fontsize=7)
    axes[1].set_title("dynamic_weight_average(temperature=2)")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("task weight (sum = 3)")
    lo = torch.linspace(0, 4, 401, dtype=F64)
    axes[2].plot(lo, L.self_paced_weights(lo, 1.5, regime="hard"), label="self_paced_weights(1.5, 'hard')")
    axes[2].plot(lo, L.self_paced_weights(lo, 1.5, regime="linear"), label="self_paced_weights(1.5, 'linear')")
    lreq = lo.clone().requires_grad_(True)
    sl = L.super_loss(lreq, tau=1.0, reduction="none")
    (g,) = torch.autograd.grad(sl.sum(), lreq)
    axes[2].plot(lo, g, label="∂ super_loss(tau=1) / ∂ loss (its confidence σ)")
    axes[2].set_title("per-sample weights vs the sample's loss")
    axes[2].set_xlabel("per-sample loss")
    axes[2].set_ylabel("weight")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, "multitask")


# ---------------------------------------------------------------- helpers

def fig_helpers():
    counts = torch.tensor([2000.0, 500.0, 100.0, 20.0, 5.0], dtype=F64)
    methods = [("inverse", {}), ("inverse_sqrt", {}), ("effective_number", {"beta": 0.99}),
               ("effective_number", {"beta": 0.999})]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    width = 0.2
    for i, (m, kw) in enumerate(methods):
        w = L.class_weights(counts, method=m, **kw)
        label = m + "".join(f", {k}={v}" for k, v in kw.items())
        a.bar(torch.arange(5) + (i - 1.5) * width, w, width, label=label)
    a.set_xticks(range(5), [f"class {c}\nn={int(n)}" for c, n in enumerate(counts)])
    a.set_yscale("log")
    a.set_ylabel("class_weights (mean 1)")
    a.set_title("class_weights(counts, method=...)")
    a.legend(fontsize=7)
    target = torch.tensor([0, 2, 4])
    for eps in (0.0, 0.1, 0.3):
        s = L.smooth_labels(target, 5, label_smoothing=eps, dtype=F64)
        b.plot(range(5), s[1], "o-", label=f"smooth_labels(label_smoothing={eps})")
    b.set_xticks(range(5))
    b.set_xlabel("class (target = 2, 5 classes)")
    b.set_ylabel("soft target")
    b.set_title("smooth_labels")
    b.legend(fontsize=7, loc="upper left")
    for ax in (a, b):
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return _save(fig, "helpers")


# ---------------------------------------------------------------- loss landscape

def fig_landscape():
    """A line fit y = w x + b with outliers, trained by gradient descent on two losses."""
    g = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, 24, dtype=F64)
    y = 1.5 * x - 0.5 + 0.1 * torch.randn(24, generator=g, dtype=F64)
    y[[3, 9, 17]] += torch.tensor([4.0, 5.0, 4.5], dtype=F64)     # outliers
    losses_ = {
        "mse_loss": lambda pred, t: L.mse_loss(pred, t, reduction="none").mean(-1),
        "huber_loss(delta=0.5)": lambda pred, t: L.huber_loss(pred, t, delta=0.5, reduction="none").mean(-1),
    }
    W = torch.linspace(-3, 5, 161, dtype=F64)
    B = torch.linspace(-3, 3, 121, dtype=F64)
    ww, bb = torch.meshgrid(W, B, indexing="xy")
    pred = ww[..., None] * x + bb[..., None]
    start = torch.tensor([-2.5, 2.5], dtype=F64)
    paths, surfaces = {}, {}
    for name, fn in losses_.items():
        surfaces[name] = fn(pred, y.expand_as(pred))
        theta = start.clone().requires_grad_(True)
        path = [theta.detach().clone()]
        for _ in range(300):
            val = fn(theta[0] * x + theta[1], y)
            (gr,) = torch.autograd.grad(val, theta)
            with torch.no_grad():
                theta -= 0.3 * gr
            path.append(theta.detach().clone())
        paths[name] = torch.stack(path)
    fig = plt.figure(figsize=(13, 6.8))
    colors = {"mse_loss": "tab:red", "huber_loss(delta=0.5)": "tab:cyan"}
    for i, name in enumerate(losses_):
        z = surfaces[name]
        ax = fig.add_subplot(2, 3, i + 1, projection="3d")
        ax.plot_surface(ww[::4, ::4], bb[::4, ::4], z[::4, ::4], cmap="viridis", edgecolor="k", linewidth=0.15,
                        antialiased=False, rstride=1, cstride=1)
        pth = paths[name]
        pz = losses_[name](pth[:, :1] * x + pth[:, 1:], y.expand(pth.shape[0], -1))
        ax.plot(pth[:, 0], pth[:, 1], pz + 0.02 * float(z.max()), color=colors[name], lw=2)
        ax.set_xlabel("slope w")
        ax.set_ylabel("intercept b")
        ax.set_title(f"{name} surface", fontsize=10)
        ax.view_init(elev=35, azim=-60)
        ax2 = fig.add_subplot(2, 3, i + 4)
        _contour(ax2, ww, bb, torch.log10(z), f"log10 {name}, both paths", "slope w", "intercept b", levels=12)
        for other, pth2 in paths.items():
            ax2.plot(pth2[:, 0], pth2[:, 1], ".-", ms=2, lw=1, color=colors[other], label=other)
        ax2.plot(1.5, -0.5, "w*", ms=10, label="line without outliers")
        ax2.legend(fontsize=7, loc="lower right")
    ax = fig.add_subplot(2, 3, 3)
    ax.plot(x, y, "ko", ms=4, label="data (3 outliers)")
    for name, pth in paths.items():
        w_, b_ = pth[-1]
        ax.plot(x, w_ * x + b_, color=colors[name], label=f"{name}: w={float(w_):.2f}, b={float(b_):.2f}")
    ax.plot(x, 1.5 * x - 0.5, "k:", label="true line: w=1.50, b=-0.50")
    ax.set_title("fits after 300 gradient steps")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(2, 3, 6)
    for name, pth in paths.items():
        dist = torch.linalg.vector_norm(pth - torch.tensor([1.5, -0.5], dtype=F64), dim=1)
        ax.semilogy(dist, color=colors[name], label=name)
    ax.set_title("distance to the outlier-free line")
    ax.set_xlabel("gradient step")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, "landscape")


# name -> (family page, function). `--only` takes a family or a figure name.
FIGURES = {
    "regression": ("regression", fig_regression),
    "landscape": ("regression", fig_landscape),
    "classification": ("classification", fig_classification),
    "classification_extras": ("classification_extras", fig_classification_extras),
    "margin": ("margin", fig_margin),
    "metric": ("metric", fig_metric),
    "metric_pairs": ("metric", fig_metric_pairs),
    "segmentation": ("segmentation", fig_segmentation),
    "detection": ("detection", fig_detection),
    "sequence": ("sequence", fig_sequence),
    "generative": ("generative", fig_generative),
    "generative_critic": ("generative", fig_generative_critic),
    "rl": ("rl", fig_rl),
    "multitask": ("multitask", fig_multitask),
    "probabilistic": ("probabilistic", fig_probabilistic),
    "ranking": ("ranking", fig_ranking),
    "sparse": ("sparse", fig_sparse),
    "ordinal": ("ordinal", fig_ordinal),
    "helpers": ("helpers", fig_helpers),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = sorted(set(FIGURES) | {fam for fam, _ in FIGURES.values()})
    parser.add_argument("--only", action="append", choices=names, metavar="NAME",
                        help="a family (all its figures) or one figure; repeatable. Choices: " + ", ".join(names))
    args = parser.parse_args(argv)
    for name, (family, fn) in FIGURES.items():
        if args.only and name not in args.only and family not in args.only:
            continue
        print(fn())


if __name__ == "__main__":
    main()
