"""``losses.conformance.check``: a user's own implementation against the library's cases.

Correct ports in torch, JAX and NumPy pass; deliberately wrong ports fail on the case that
shows their mistake (and pass the others that do not). Tuple results (the miners' index
arrays) are compared field by field.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from losses.conformance import check


def _failed(report):
    return {r.case for r in report.failures}


def _passed(report):
    return {r.case for r in report.results if r.status == "pass"}


# --------------------------------------------------------------------------- NumPy ports ----
def np_mse(input, target, reduction="mean"):
    d = (input - target) ** 2
    return d.mean() if reduction == "mean" else d.sum() if reduction == "sum" else d


def np_mse_unreduced(input, target):
    return (input - target) ** 2


def test_correct_numpy_port_passes():
    report = check(np_mse, like="mse_loss", backend="numpy")
    assert report.ok, str(report)
    assert "mse_loss[random]" in _passed(report)
    assert any(r.case.endswith("~input=nan") and r.status == "pass" for r in report.results)
    assert any(r.case.endswith("~empty") and r.status == "pass" for r in report.results)
    # the weighted cases need an argument this port does not take: skipped, with the reason
    skipped = [r for r in report.results if r.status == "skip"]
    assert skipped and all("weight" in r.message for r in skipped)


def test_unreduced_loss_where_a_mean_is_expected_fails():
    report = check(np_mse_unreduced, like="mse_loss", backend="numpy")
    assert not report.ok
    failure = next(r for r in report.failures if r.case == "mse_loss[random]")
    assert "shape" in failure.message
    # told that it computes reduction="none", the same port runs (and passes) those cases only
    unreduced = check(np_mse_unreduced, like="mse_loss", backend="numpy", kwargs={"reduction": "none"})
    assert unreduced.ok, str(unreduced)
    assert "mse_loss[none]" in _passed(unreduced) and "mse_loss[random]" not in _passed(unreduced)


# --------------------------------------------------------------------------- torch ports ----
def _torch():
    return pytest.importorskip("torch")


def test_correct_torch_port_passes():
    _torch()
    import torch.nn.functional as F

    def their_mse(prediction, truth, reduction="mean"):
        return F.mse_loss(prediction, truth, reduction=reduction)

    report = check(their_mse, like="mse_loss", backend="torch",
                   args={"prediction": "input", "truth": "target"})
    assert report.ok, str(report)
    assert any(c.startswith("gradient wrt prediction") for r in report.results for c in r.compared)


def test_focal_loss_with_alpha_on_the_negatives_fails():
    torch = _torch()
    import torch.nn.functional as F

    def focal(logits, labels, gamma=2.0, reduction="mean"):
        # the planted bug: alpha = 0.25 weighs the negatives, 0.75 the positives
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
        p_t = p * labels + (1 - p) * (1 - labels)
        loss = (0.75 * labels + 0.25 * (1 - labels)) * ce * (1 - p_t) ** gamma
        return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss

    report = check(focal, like="sigmoid_focal_loss", backend="torch",
                   args={"logits": "input", "labels": "target"}, kwargs={}, edges=False)
    assert "sigmoid_focal_loss[random]" in _failed(report)
    failure = next(r for r in report.failures if r.case == "sigmoid_focal_loss[random]")
    assert failure.message.startswith("value") and failure.max_rel_error > 1e-3
    snippet = report.reproduce()
    assert "losses.sigmoid_focal_loss(**x, **kwargs)" in snippet and "logits=x['input']" in snippet


def test_dice_averaged_over_the_batch_fails():
    torch = _torch()

    def dice_batch(input, target):
        # the planted bug: one Dice over the whole batch instead of one per sample
        p = torch.softmax(input, dim=1)
        g = torch.nn.functional.one_hot(target, input.shape[1]).movedim(-1, 1).to(p.dtype)
        dims = (0,) + tuple(range(2, p.ndim))
        inter = (p * g).sum(dims)
        score = 2 * inter / (p.sum(dims) + g.sum(dims))
        return (1 - score).mean()

    report = check(dice_batch, like="dice_loss", backend="torch", edges=False)
    assert "dice_loss[random]" in _failed(report)
    # cases whose settings the port does not take are skipped, saying which setting
    skipped = {r.case: r.message for r in report.results if r.status == "skip"}
    assert "your function takes no" in skipped["dice_loss[squared_monai]"]


# ----------------------------------------------------------------------------- JAX ports ----
def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_ce(shift):
    import jax
    import jax.numpy as jnp

    def ce(logits, labels, ignore_index=-100, reduction="mean"):
        if shift:
            logp = jax.nn.log_softmax(logits, axis=1)
        else:  # the planted bug: no max-shift, exp overflows for large logits
            logp = logits - jnp.log(jnp.sum(jnp.exp(logits), axis=1, keepdims=True))
        valid = labels != ignore_index
        safe = jnp.where(valid, labels, 0)
        picked = jnp.take_along_axis(logp, jnp.expand_dims(safe, 1), axis=1)
        nll = jnp.where(valid, -jnp.squeeze(picked, 1), 0.0)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        return nll.sum() / valid.sum()

    return ce


def test_correct_jax_port_passes():
    _jax()
    report = check(_jax_ce(shift=True), like="cross_entropy", backend="jax",
                   args={"logits": "input", "labels": "target"})
    assert report.ok, str(report)
    assert "cross_entropy[logits_1e4]" in _passed(report)


def test_softmax_cross_entropy_without_the_max_shift_fails_at_large_logits():
    _jax()
    report = check(_jax_ce(shift=False), like="cross_entropy", backend="jax",
                   args={"logits": "input", "labels": "target"}, edges=False)
    assert "cross_entropy[logits_1e4]" in _failed(report)
    assert "cross_entropy[random]" in _passed(report)


def test_triplet_loss_with_abs_has_the_wrong_gradient_at_zero():
    _jax()
    import jax.numpy as jnp

    def triplet(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        def dist(a, b):  # the planted bug: jnp.abs, whose gradient at 0 is 1 in JAX
            return jnp.sum(jnp.abs(a - b + eps) ** p, axis=-1) ** (1 / p)

        d_ap, d_an = dist(anchor, positive), dist(anchor, negative)
        if swap:
            d_an = jnp.minimum(d_an, dist(positive, negative))
        loss = jnp.maximum(d_ap - d_an + margin, 0.0)
        return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss

    report = check(triplet, like="triplet_margin_loss", backend="jax", edges=False)
    assert "triplet_margin_loss[random]" in _passed(report)
    failure = next(r for r in report.failures if r.case == "triplet_margin_loss[kink]")
    assert failure.message.startswith("gradient"), failure.message


# ------------------------------------------------------------------ tuple results: miners ----
def torch_batch_hard(embeddings, labels, distance="euclidean", normalize=False, positives="hard",
                     negatives="hard", easiest_negative=False):
    """Batch-hard mining in plain torch, from the documented semantics: per anchor the farthest
    (hard) or closest (easy) positive ``p != a`` of its class and the closest (hard) or farthest
    (easy) negative; ties pick the first index, a NaN distance is picked; where the anchor has no
    positive or no negative, ``valid`` is False and both indices are the anchor's own."""
    import torch
    import torch.nn.functional as F

    n = embeddings.shape[0]
    x = F.normalize(embeddings, dim=1, eps=1e-12) if normalize else embeddings
    if distance == "cosine":
        xn = F.normalize(x, dim=1, eps=1e-12)
        d = 1.0 - xn @ xn.T
    else:
        d = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
        d = d ** 2 if distance == "squared" else d
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(n, dtype=torch.bool)
    pos, neg = same & ~eye, ~same
    anchor = torch.arange(n)
    if n == 0:
        return anchor, anchor.clone(), anchor.clone(), torch.zeros(0, dtype=torch.bool)
    inf = torch.tensor(float("inf"), dtype=d.dtype)
    # torch.argmax / argmin return the first extreme and treat NaN as the extreme
    p = (torch.where(pos, d, -inf).argmax(1) if positives == "hard" else torch.where(pos, d, inf).argmin(1))
    hard_negative = negatives == "hard" and not easiest_negative
    q = (torch.where(neg, d, inf).argmin(1) if hard_negative else torch.where(neg, d, -inf).argmax(1))
    valid = pos.any(1) & neg.any(1)
    return anchor, torch.where(valid, p, anchor), torch.where(valid, q, anchor), valid


def test_correct_torch_port_of_a_miner_passes_field_by_field():
    _torch()
    report = check(torch_batch_hard, like="batch_hard_mining", backend="torch")
    assert report.ok, str(report)
    # every setting of the cases ran (the port takes all of them), NaN and empty variants too
    assert "batch_hard_mining[pml_easy_easy]" in _passed(report)
    assert "batch_hard_mining[random]~embeddings=nan" in _passed(report)
    assert "batch_hard_mining[random]~empty" in _passed(report)
    for r in report.results:
        if r.status == "pass":
            assert r.compared == ["anchor", "positive", "negative", "valid"], r
            assert r.max_rel_error is None and r.where is None  # indices and masks: exact, no error
        else:
            # cdist's distances to a row holding +-inf are inf where the library's Gram-matrix
            # distances are partly NaN (inf - inf), and a NaN distance is the one picked: a
            # difference under +-inf inputs is reported, not counted
            assert r.status == "skip" and r.case.endswith("inf"), r
            assert r.message.startswith("not counted, +-inf input: "), r.message
    # the fields may come back as a plain tuple or any namedtuple, in the library's order
    import collections

    Mined = collections.namedtuple("Mined", "a p n ok")

    def as_namedtuple(embeddings, labels):
        return Mined(*torch_batch_hard(embeddings, labels))

    assert check(as_namedtuple, like="batch_hard_mining", backend="torch", cases=["random"]).ok


def test_miner_picking_the_easiest_negative_fails_naming_the_field():
    _torch()

    def easiest_negative(embeddings, labels):
        return torch_batch_hard(embeddings, labels, easiest_negative=True)

    report = check(easiest_negative, like="batch_hard_mining", backend="torch", edges=False)
    assert not report.ok
    failure = next(r for r in report.failures if r.case == "batch_hard_mining[random]")
    assert failure.message.startswith("negative: got "), failure.message
    assert "elements differ" in failure.message
    assert failure.where.startswith("negative at index (")
    # the first anchor whose negative differs
    index = int(failure.where.split("(", 1)[1].split(",")[0])
    inputs = failure.inputs
    import numpy as np

    e, y = inputs["embeddings"], inputs["labels"]
    d = np.sqrt(((e[:, None] - e[None]) ** 2).sum(-1))
    has_both = [(y == y[a]).sum() > 1 and (y != y[a]).any() for a in range(len(y))]
    first = next(a for a in range(len(y)) if has_both[a]
                 and np.argmin(np.where(y != y[a], d[a], np.inf)) != np.argmax(np.where(y != y[a], d[a], -np.inf)))
    assert index == first
    # the cases with no negative (nothing to pick) pass; the anchors' field is never wrong
    assert "batch_hard_mining[no_negatives]" in _passed(report)
    assert all(not r.message.startswith(("anchor", "positive", "valid")) for r in report.failures)


def test_miner_with_the_wrong_structure_fails_with_what_was_expected():
    torch = _torch()

    def three_fields(embeddings, labels):
        return torch_batch_hard(embeddings, labels)[:3]

    report = check(three_fields, like="batch_hard_mining", backend="torch", edges=False)
    ran = [r for r in report.results if r.status != "skip"]  # the others need distance=... etc.
    assert ran and not report.ok and len(report.failures) == len(ran)
    message = report.failures[0].message
    assert message.startswith("ValueError: your function returned a tuple of 3 arrays"), message
    assert "Triplets(anchor, positive, negative, valid), a tuple of 4 arrays" in message

    def one_array(embeddings, labels):
        return torch_batch_hard(embeddings, labels)[1]

    message = check(one_array, like="batch_hard_mining", backend="torch", cases=["random"]).failures[0].message
    assert message.startswith("TypeError: your function returned Tensor, not a tuple"), message
    assert "Triplets(anchor, positive, negative, valid)" in message

    def float_mask(embeddings, labels):
        a, p, n, valid = torch_batch_hard(embeddings, labels)
        return a, p, n, valid.to(torch.float64)

    message = check(float_mask, like="batch_hard_mining", backend="torch", cases=["random"]).failures[0].message
    assert message.startswith("valid has dtype float64, the reference bool"), message

    def a_tuple_for_one_loss(input, target):
        return ((input - target) ** 2).mean(), 0

    message = check(a_tuple_for_one_loss, like="mse_loss", backend="torch", cases=["random"]).failures[0].message
    assert message.startswith("TypeError: your function returned a tuple of 2 arrays; losses.mse_loss returns one array")


# ------------------------------------------------------------------------------------ CLI ----
def _cli_env():
    """The environment of a command-line run: it imports the package these tests import."""
    import os
    from pathlib import Path

    import losses

    root = str(Path(losses.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def test_command_line_reports_and_exits_with_the_status(tmp_path):
    (tmp_path / "myloss.py").write_text(textwrap.dedent('''
        def mse(input, target, reduction="mean"):
            d = (input - target) ** 2
            return d.mean() if reduction == "mean" else d.sum() if reduction == "sum" else d

        def mse_wrong(input, target):
            return ((input - target) ** 2).sum()
    '''))
    out = tmp_path / "report.json"
    ok = subprocess.run([sys.executable, "-m", "losses.conformance", "check", "myloss:mse", "--like", "mse_loss",
                         "--backend", "numpy", "--json", str(out)], capture_output=True, text=True, cwd=tmp_path, env=_cli_env(),
                        timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS  mse_loss[random]" in ok.stdout
    data = json.loads(out.read_text())
    assert data["ok"] is True and any(c["case"] == "mse_loss[random]" for c in data["cases"])
    bad = subprocess.run([sys.executable, "-m", "losses.conformance", "check", "myloss:mse_wrong", "--like",
                          "mse_loss", "--backend", "numpy", "--no-edges"], capture_output=True, text=True,
                         cwd=tmp_path, env=_cli_env(), timeout=300)
    assert bad.returncode == 1
    assert "FAIL  mse_loss[random]" in bad.stdout and "Reproduce the first failure" in bad.stdout
    # the snippet runs as printed and shows the disagreement
    snippet = bad.stdout.split("Reproduce the first failure:", 1)[1]
    run = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, cwd=tmp_path, env=_cli_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(None, 1) for line in run.stdout.strip().splitlines())
    assert float(lines["ours"]) != pytest.approx(float(lines["theirs"]))


def test_command_line_checks_a_miner_and_writes_the_json_report(tmp_path):
    _torch()
    import inspect

    (tmp_path / "mymine.py").write_text("import torch\n\n\n" + inspect.getsource(torch_batch_hard) + textwrap.dedent('''

        def wrong(embeddings, labels):
            return torch_batch_hard(embeddings, labels, easiest_negative=True)
    '''))
    out = tmp_path / "report.json"
    ok = subprocess.run([sys.executable, "-m", "losses.conformance", "check", "mymine:torch_batch_hard", "--like",
                         "batch_hard_mining", "--backend", "torch", "--no-edges", "--json", str(out)],
                        capture_output=True, text=True, cwd=tmp_path, env=_cli_env(), timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS  batch_hard_mining[random]" in ok.stdout
    data = json.loads(out.read_text())
    assert data["ok"] is True
    assert all(c["compared"] == ["anchor", "positive", "negative", "valid"] for c in data["cases"])
    bad = subprocess.run([sys.executable, "-m", "losses.conformance", "check", "mymine:wrong", "--like",
                          "batch_hard_mining", "--backend", "torch", "--no-edges", "--json", str(out)],
                         capture_output=True, text=True, cwd=tmp_path, env=_cli_env(), timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL  batch_hard_mining[random]" in bad.stdout and "negative: got" in bad.stdout
    case = next(c for c in json.loads(out.read_text())["cases"] if c["case"] == "batch_hard_mining[random]")
    assert case["status"] == "fail" and case["where"].startswith("negative at index (")
    assert case["message"].startswith("negative: got ")


def test_check_refuses_unknown_losses_and_backends():
    with pytest.raises(ValueError, match="like must name"):
        check(np_mse, like="not_a_loss")
    with pytest.raises(ValueError, match="backend"):
        check(np_mse, like="mse_loss", backend="tensorflow")


def test_readme_example_runs_and_finds_the_planted_bug():
    _torch()
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("## Check your own implementation", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    report = scope["report"]
    assert not report.ok and "sigmoid_focal_loss[random]" in _failed(report)
