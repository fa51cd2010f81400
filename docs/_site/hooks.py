"""MkDocs hooks of the docs site: the README is the home page; known docstring defects.

The README links to the docs pages as ``docs/<page>.md`` (right on GitHub, from the
repository root); on the site the home page sits inside docs/, so those links lose the prefix.
A family page's link to a repository file outside docs/ (``../benchmarks/results/...``) points
at nothing on the site: it becomes the file's path as code.
"""
from __future__ import annotations

import logging
import pathlib
import re

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent


def known_warnings() -> list[str]:
    lines = (HERE / "known_warnings.txt").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


class KnownDocstringDefects(logging.Filter):
    """Turns the warnings listed in known_warnings.txt into INFO records (strict mode counts
    warnings only); every other warning still fails the strict build."""

    def __init__(self) -> None:
        super().__init__()
        self.known = known_warnings()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            message = record.getMessage()
            hit = next((k for k in self.known if message.endswith(k)), None)
            if hit is not None:
                self.seen.add(hit)
                record.levelno, record.levelname = logging.INFO, "INFO"
                record.msg, record.args = "known docstring defect: " + message, ()
        return True


_FILTER = KnownDocstringDefects()


def on_config(config):
    logger = logging.getLogger("mkdocs.plugins.griffe")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return config


def home_page() -> str:
    text = (ROOT / "README.md").read_text()
    text = re.sub(r"\]\(docs/([^)]*)\)", r"](\1)", text)
    return text.replace("[docs/]()", "`docs/` (the Families pages of this site)")


OUTSIDE = re.compile(r"\[([^\]]+)\]\((\.\./)+([^)#\s]+)[^)]*\)")


def on_page_markdown(markdown, page, config, files):
    """A link from a docs page to a repository file outside docs/ becomes its path as code."""
    return OUTSIDE.sub(lambda m: f"{m.group(1)} (`{m.group(3)}` in the repository)", markdown)


def on_files(files, config):
    files.append(File.generated(config, "index.md", content=home_page()))
    return files
