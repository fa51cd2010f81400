"""The docs figures: every family page shows one, no page points at a missing image, no image is
orphaned, and each image is one that docs/make_plots.py draws (so it can be regenerated).

Fast and plot-free: the script is read as text (its FIGURES table), never run or imported.
"""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

import losses

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IMG = DOCS / "img"
NOT_FAMILIES = {"nn", "keras", "backends", "conformance"}   # front doors and infrastructure
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def _families():
    names = sorted(p.stem for p in (ROOT / "losses").glob("*.py") if not p.stem.startswith("_"))
    return [n for n in names if n not in NOT_FAMILIES]


def _images(page: pathlib.Path):
    """(alt text, target) of every Markdown image on a page."""
    return IMAGE.findall(page.read_text(encoding="utf-8"))


def _figures():
    """make_plots.FIGURES as {figure name: family page}, read from the source (no import)."""
    tree = ast.parse((DOCS / "make_plots.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FIGURES" for t in node.targets):
            out = {}
            for key, value in zip(node.value.keys, node.value.values):
                out[ast.literal_eval(key)] = ast.literal_eval(value.elts[0])
            return out
    raise AssertionError("docs/make_plots.py has no FIGURES table")


FAMILIES = _families()
PAGES = sorted(DOCS.glob("*.md"))


def test_families_are_the_library_modules():
    # the list this file checks is the library's, so a new family must bring a page and a figure
    assert "regression" in FAMILIES and "sequence" in FAMILIES
    for name in FAMILIES:
        assert hasattr(losses, name), name


@pytest.mark.parametrize("family", FAMILIES)
def test_family_page_shows_a_figure(family):
    page = DOCS / f"{family}.md"
    assert page.exists(), f"no docs page for the {family} family"
    local = [t for _, t in _images(page) if t.startswith("img/")]
    assert local, f"docs/{family}.md embeds no figure from docs/img"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_referenced_images_exist_and_have_captions(page):
    for alt, target in _images(page):
        if target.startswith(("http://", "https://")):
            continue
        assert (page.parent / target).is_file(), f"{page.name} references missing {target}"
        assert alt.strip(), f"{page.name}: image {target} has no alt text"


def test_no_orphan_images():
    referenced = set()
    for page in [*PAGES, ROOT / "README.md"]:
        if page.exists():
            referenced |= {(page.parent / t).resolve() for _, t in _images(page)}
    orphans = sorted(p.name for p in IMG.glob("*") if p.resolve() not in referenced)
    assert not orphans, f"images no page references: {orphans}"


def test_every_image_is_drawn_by_the_script_on_its_family_page():
    figures = _figures()
    on_disk = {p.stem for p in IMG.glob("*.png")}
    assert sorted(p.name for p in IMG.iterdir() if p.suffix != ".png") == []
    assert on_disk == set(figures), (
        f"not drawn by make_plots.py: {sorted(on_disk - set(figures))}; "
        f"drawn but not committed: {sorted(set(figures) - on_disk)}")
    for name, family in figures.items():
        assert family in FAMILIES, (name, family)
        targets = {t for _, t in _images(DOCS / f"{family}.md")}
        assert f"img/{name}.png" in targets, f"docs/{family}.md does not embed img/{name}.png"


@pytest.mark.parametrize("image", sorted(IMG.glob("*.png")), ids=lambda p: p.name)
def test_images_are_small_pngs(image):
    data = image.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{image.name} is not a PNG"
    assert len(data) < 150_000, f"{image.name} is {len(data)} bytes (budget 150 KB)"
