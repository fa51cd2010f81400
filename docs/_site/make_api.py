"""Writes docs/api/<family>.md: one API-reference page per family, from ``losses.<family>.__all__``.

Run from the repository root: ``python docs/_site/make_api.py`` (``--check`` exits 1 when a
page differs from what would be written; tests/test_site.py runs the same comparison).
"""
from __future__ import annotations

import importlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
API = ROOT / "docs" / "api"

#: family module -> page title, in the order of the site's navigation
FAMILIES = {
    "regression": "Regression",
    "probabilistic": "Probabilistic",
    "classification": "Classification",
    "classification_extras": "Classification extras",
    "helpers": "Helpers",
    "margin": "Margin",
    "metric": "Metric learning and self-supervised",
    "segmentation": "Segmentation",
    "detection": "Detection",
    "sequence": "Sequence",
    "generative": "Generative",
    "rl": "Reinforcement learning",
    "multitask": "Multi-task and curriculum",
    "ranking": "Ranking",
    "sparse": "Sparse and Fenchel-Young",
    "ordinal": "Ordinal",
}


def page(family: str) -> str:
    """The Markdown of one family's API page."""
    module = importlib.import_module(f"losses.{family}")
    lines = [
        f"# {FAMILIES[family]}: API reference",
        "",
        f"Every public function of `losses.{family}`, rendered from its docstring. Formulas,",
        f"pictures and the peer settings in prose: [the {FAMILIES[family].lower()} page](../{family}.md).",
        "",
    ]
    for name in sorted(module.__all__):
        lines += [f"::: losses.{family}.{name}", ""]
    return "\n".join(lines)


def pages() -> dict[pathlib.Path, str]:
    return {API / f"{family}.md": page(family) for family in FAMILIES}


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    stale = []
    for path, text in pages().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            API.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run python docs/_site/make_api.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
