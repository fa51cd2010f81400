"""The docs site: docs/choosing.md, the API pages of docs/api/ and the rendered HTML.

The build test needs the ``site`` extra (``pip install -e ".[site]"``) and is skipped without
it; ``LOSSES_SITE_DIR`` points it at a site already built by ``mkdocs build --strict`` (CI
builds once and checks that build).
"""
from __future__ import annotations

import doctest
import html as html_lib
import importlib.util
import inspect
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import losses

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHOOSING = (DOCS / "choosing.md").read_text()
FAMILIES = sorted({getattr(losses, n).__module__.rsplit(".", 1)[-1] for n in losses.__all__})

sys.path.insert(0, str(DOCS / "_site"))
import griffe_rst  # noqa: E402
import make_api  # noqa: E402

# ---------------------------------------------------------------- docs/choosing.md

LINK = re.compile(r"\[`([^`]+)`\]\(([^)#]*)(?:#([^)]*))?\)")


def test_choosing_links_name_public_functions_and_their_api_anchor():
    links = LINK.findall(CHOOSING)
    assert len(links) > 100
    for name, page, anchor in links:
        assert name in losses.__all__, f"{name!r} is linked but not in losses.__all__"
        family = getattr(losses, name).__module__.rsplit(".", 1)[-1]
        assert page == f"api/{family}.md", f"{name}: links to {page}, its API page is api/{family}.md"
        assert anchor == f"losses.{family}.{name}", f"{name}: anchor #{anchor}"


def test_choosing_names_all_exist():
    # every `losses.xxx` in the text and the sessions, and every code span naming a loss
    dotted = set(re.findall(r"\blosses\.(\w+)\b(?!\.)", CHOOSING)) - {"nn", "keras"}
    for family, name in re.findall(r"\blosses\.(\w+)\.(\w+)", CHOOSING):
        assert family in FAMILIES and name in getattr(losses, family).__all__, f"losses.{family}.{name}"
    spans = {s for s in re.findall(r"`([a-z_0-9]+)`", CHOOSING) if s.endswith("_loss") or s in losses.__all__}
    unknown = sorted(n for n in dotted | spans if n not in losses.__all__)
    assert not unknown, f"docs/choosing.md names functions that do not exist: {unknown}"
    assert "cross_entropy" in spans and "kl_div" in dotted


def test_choosing_table_covers_the_tasks_of_the_guide():
    table = CHOOSING[CHOOSING.index("| task |"):CHOOSING.index("## Common mistakes")]
    for task in ("outliers", "Quantiles", "Binary", "Multi-label", "Multi-class", "Imbalanced", "Noisy",
                 "Distillation", "small batches", "large batches", "small structures", "empty masks",
                 "Detection", "CTC", "GANs", "VAEs", "RL", "Multi-task",
                 "Curriculum", "Ranking"):
        assert task in table, f"the table has no row for {task!r}"
    for row in table.strip().splitlines()[2:]:
        cells = row.strip("|").split("|")
        assert len(cells) == 3, row
        assert LINK.search(cells[1]) and LINK.search(cells[2]), f"a cell without a link: {row}"


def _sessions(text: str) -> str:
    return "\n".join(re.findall(r"```pycon\n(.*?)```", text, re.S))


def test_choosing_sessions_run_as_shown():
    code = _sessions(CHOOSING)
    assert code.count(">>>") >= 15
    assert not re.findall(r"```python\n", CHOOSING), "use pycon sessions (run here as doctests)"
    test = doctest.DocTestParser().get_doctest(code, {}, "docs/choosing.md", "docs/choosing.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    with np.printoptions(precision=4, suppress=True):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert runner.tries == code.count(">>>")


def test_choosing_numbers_against_independent_formulas():
    # the values the sessions print, from float64 formulas written here
    z = np.array([2.0, -1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    p = 1 / (1 + np.exp(-z))

    def bce_logits(x):
        return np.mean(np.log1p(np.exp(-x)) * y + np.log1p(np.exp(x)) * (1 - y))

    assert round(bce_logits(z), 4) == 0.3048 and round(bce_logits(p), 4) == 0.5377
    assert "0.3048" in CHOOSING and "0.5377" in CHOOSING

    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    lse = np.log(np.exp(logits).sum(1))
    ce = np.mean(lse - logits[[0, 1], [0, 2]])
    assert float(losses.cross_entropy(logits, np.eye(3)[[0, 2]])) == pytest.approx(ce, rel=1e-12)

    log_q = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    q = np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    kl = (q * (np.log(q) - log_q)).sum()
    assert round(kl / 6, 4) == 0.0328 and round(kl / 2, 4) == 0.0983   # element mean vs batchmean

    inv = 1 / np.array([900.0, 90.0, 10.0])
    assert np.allclose(np.round(3 * inv / inv.sum(), 4), [0.0297, 0.297, 2.6733])
    n_pos, n_neg = np.array([10.0, 250.0]), np.array([990.0, 750.0])
    assert np.array_equal(losses.pos_weight_from_counts(n_pos, n_neg), n_neg / n_pos)
    assert "array([99.,  3.])" in CHOOSING

    fg = 1 / (1 + np.exp(4.0))                  # softmax foreground probability of logits (4, 0)
    for pixels, expected in ((4, 0.9721), (36, 0.9651)):
        dice = 1 - 2 * pixels * fg / (64 * fg + pixels)
        assert round(dice, 4) == expected


def test_choosing_quotes_the_library_messages():
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    labels = np.array([0, 2])
    for call, kind in ((lambda: losses.cross_entropy(logits, np.eye(3, dtype=np.int64)[labels]), ValueError),
                       (lambda: losses.cross_entropy(logits, labels.astype(np.float64)), TypeError),
                       (lambda: losses.binary_cross_entropy(np.array([2.0, -1.0, 0.5]), np.ones(3)), ValueError)):
        with pytest.raises(kind) as info:
            call()
        assert f"{kind.__name__}: {info.value}" in CHOOSING


# ---------------------------------------------------------------- docs/api/

def _directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((DOCS / "api").glob("*.md")):
        for target in re.findall(r"^::: (\S+)$", path.read_text(), re.M):
            out.setdefault(target.rsplit(".", 1)[-1], []).append(f"{path.name}:{target}")
    return out


def test_every_public_function_is_on_exactly_one_api_page():
    directives = _directives()
    missing = sorted(set(losses.__all__) - set(directives))
    twice = {n: where for n, where in directives.items() if len(where) > 1}
    extra = sorted(set(directives) - set(losses.__all__))
    assert not missing, f"not on any API page: {missing}"
    assert not twice, f"on more than one API page: {twice}"
    assert not extra, f"API pages document names outside losses.__all__: {extra}"
    for name, (where,) in directives.items():
        family = getattr(losses, name).__module__.rsplit(".", 1)[-1]
        assert where == f"{family}.md:losses.{family}.{name}"


def test_api_pages_are_generated_from_the_families():
    assert sorted(make_api.FAMILIES) == FAMILIES
    for path, text in make_api.pages().items():
        assert path.exists() and path.read_text() == text, (
            f"{path.relative_to(ROOT)} is out of date: run python docs/_site/make_api.py")


def test_site_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = ["choosing.md", "differences.md", "vocabulary.md", "distributed.md", "benchmarks.md",
             "conformance.md"] + [f"{f}.md" for f in FAMILIES] + [f"api/{f}.md" for f in FAMILIES]
    for page in pages:
        assert re.search(rf":\s+{re.escape(page)}$", nav, re.M), f"{page} is not in the mkdocs.yml nav"


# ---------------------------------------------------------------- the docstring reader

def test_rewrite_math_roles_sections():
    doc = "\n".join([
        "Summary with :math:`x^2` and :func:`~losses.mse_loss`.",
        "",
        ".. math:: a = b",
        "          + c",
        "",
        "Args:",
        "    input, target: the arrays.",
        "    weight,",
        "    eps: numbers.",
        "",
        "References: a paper,",
        "and its continuation.",
        "",
        "Peer twins: ``torch.nn.functional.mse_loss``.",
        "",
        "Example:",
        "    >>> 1 + 1",
        "    2",
    ])
    out = griffe_rst.rewrite(doc)
    assert out.splitlines() == [
        "Summary with $x^2$ and `losses.mse_loss`.",
        "",
        "$$", "a = b", "+ c", "$$",
        "",
        "Args:",
        "    input: the arrays.",
        "    target: the arrays.",
        "    weight: numbers.",
        "    eps: numbers.",
        "",
        "References:",
        "    a paper,",
        "    and its continuation.",
        "",
        "Peer twins:",
        "    ``torch.nn.functional.mse_loss``.",
        "",
        "Examples:",
        "    >>> 1 + 1",
        "    2",
    ]


def test_rewrite_indented_math_block():
    doc = "S.\n\n.. math::\n    \\ell = 1\n\n    \\qquad 2\n\nText after."
    assert griffe_rst.rewrite(doc).splitlines() == ["S.", "", "$$", "\\ell = 1", "\\qquad 2", "$$", "",
                                                    "Text after."]


# ---------------------------------------------------------------- the built site

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    given = os.environ.get("LOSSES_SITE_DIR")
    if given:
        return pathlib.Path(given)
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings_handlers") is None:
        pytest.skip('the docs site needs pip install -e ".[site]"')
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def _function_html(site: pathlib.Path, family: str, name: str) -> str:
    html = (site / "api" / family / "index.html").read_text()
    start = html.index(f'id="losses.{family}.{name}"')
    end = html.find('<div class="doc doc-object doc-function">', start)
    return html[start:end if end > 0 else len(html)]


#: docstring section -> what the API page shows for it
RENDERED = {
    "Args": '<span class="doc-section-title">Parameters:</span>',
    "Returns": '<span class="doc-section-title">Returns:</span>',
    "Raises": '<span class="doc-section-title">Raises:</span>',
    "References": "<summary>References</summary>",
    "Peer twins": "<summary>Peer twins</summary>",
    "Example": '<span class="doc-section-title">Examples:</span>',
}


@pytest.mark.parametrize("family,name", [("segmentation", "dice_loss"), ("classification", "cross_entropy"),
                                         ("sequence", "ctc_loss"), ("generative", "path_length_penalty")])
def test_api_page_renders_sections_and_math(site, family, name):
    html = _function_html(site, family, name)
    doc = inspect.getdoc(getattr(losses, name))
    present = [s for s in RENDERED if re.search(rf"^{s}:", doc, re.M)]
    assert "Args" in present, present
    for section in present:  # every section of the docstring renders as a section
        assert RENDERED[section] in html, f"{name}: its {section!r} section is not rendered as one"
    assert 'class="arithmatex"' in html, f"{name}: no rendered math"
    for raw in (".. math::", ":math:`", ":func:`", "{args}", "{group}", "<p>&gt;&gt;&gt;"):
        assert raw not in html, f"{name}: {raw!r} left in the page"
    first = next(iter(inspect.signature(getattr(losses, name)).parameters))
    assert 'class="doc-signature' in html and f"<code>{first}</code>" in html


def test_site_pages(site):
    home = (site / "index.html").read_text()
    assert "Quick start" in home and 'href="choosing/"' in home
    choosing = (site / "choosing" / "index.html").read_text()
    assert 'href="../api/segmentation/#losses.segmentation.dice_loss"' in choosing
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", choosing))
    assert "ValueError: cross_entropy: target must have shape (2,)" in text
    for page in ["differences", "vocabulary", "distributed", "benchmarks", "conformance", *FAMILIES]:
        assert (site / page / "index.html").exists(), page
    assert (site / "img" / "regression.png").exists()
    assert 'class="arithmatex"' in (site / "regression" / "index.html").read_text()
