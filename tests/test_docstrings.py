"""One docstring contract for every public function (``losses.__all__``).

Layout (what ``help()`` and the rendered API reference show), in this order:

    summary line
    (prose and ``.. math::``)
    Args:         every parameter of the signature, one entry each, nothing else
    Returns:
    Raises:       exception entries only (``ValueError: ...``), optional
    References:   optional for helpers, required for losses (functions with ``reduction``)
    Peer twins:   the peer functions / settings that reproduce it, optional
    Example:      at least one runnable ``>>>`` example, run here as a doctest

A section header is a line of its own at the docstring's indentation (``References:`` and
``Peer twins:`` may carry their text on the same line).
"""
from __future__ import annotations

import doctest
import inspect
import re

import numpy as np
import pytest

import losses

ORDER = ("Args", "Returns", "Raises", "References", "Peer twins", "Example")
#: headers with inline text allowed after the colon
INLINE = ("References", "Peer twins")
#: other spellings of these sections, which the contract replaces
VARIANTS = re.compile(r"^(Arguments|Parameters|Return|Returns?\s+\S.*|Raise|Reference|Peer settings.*|Peers?"
                      r"|Peer twin|Examples|Notes?|Usage)\s*:", re.IGNORECASE)
HEADER = re.compile(r"^(%s)\s*:(.*)$" % "|".join(re.escape(s) for s in ORDER))
EXCEPTION = re.compile(r"^[A-Z]\w*(Error|Exception|Warning)(\s*(/|,|or)\s*[A-Z]\w*(Error|Exception|Warning))*\s*:")
ARG = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(\([^)]*\))?\s*:")

NAMES = sorted(losses.__all__)


def _function(name):
    return getattr(losses, name)


def sections(doc: str) -> dict[str, list[str]]:
    """``{header: body lines (dedented)}``, plus ``"_summary"`` and ``"_order"``."""
    lines = doc.splitlines()
    out: dict = {"_summary": lines[0] if lines else "", "_order": [], "_variants": []}
    current = None
    for line in lines[1:]:
        m = HEADER.match(line)
        if m:
            current = m.group(1)
            out["_order"].append(current)
            out[current] = [m.group(2).strip()] if m.group(2).strip() else []
            continue
        if line and not line[0].isspace() and VARIANTS.match(line):
            out["_variants"].append(line)
        if current is not None:
            if line and not line[0].isspace():  # prose at column 0 ends a section
                if current in INLINE and out[current] and out[current][-1] != "":
                    out[current].append(line)  # continued inline text
                    continue
                current = None
                continue
            out[current].append(line[4:] if line.startswith("    ") else line.strip())
    return out


def _entries(body: list[str]) -> list[str]:
    return [line for line in body if line and not line[0].isspace()]


@pytest.mark.parametrize("name", NAMES)
def test_sections_in_order(name):
    fn = _function(name)
    doc = inspect.getdoc(fn)
    assert doc, f"{name}: no docstring"
    s = sections(doc)
    assert s["_summary"].strip().endswith((".", ")")), f"{name}: the summary line is one sentence"
    assert not s["_variants"], f"{name}: non-standard section headers {s['_variants']} (use {ORDER})"
    order = s["_order"]
    assert len(order) == len(set(order)), f"{name}: a section appears twice: {order}"
    assert order == sorted(order, key=ORDER.index), f"{name}: sections out of order: {order}, expected {ORDER}"
    for required in ("Args", "Returns", "Example"):
        if required == "Args" and not inspect.signature(fn).parameters:
            continue
        assert required in order, f"{name}: no {required!r} section"
    if "reduction" in inspect.signature(fn).parameters:
        assert "References" in order, f"{name}: a loss names its reference (paper or peer source)"
    math = doc.find(".. math::")
    if math >= 0 and "Args" in order:
        assert math < doc.find("\nArgs:"), f"{name}: the math comes before Args"


@pytest.mark.parametrize("name", NAMES)
def test_raises_lists_only_exceptions(name):
    fn = _function(name)
    body = sections(inspect.getdoc(fn)).get("Raises", [])
    for entry in _entries(body):
        assert EXCEPTION.match(entry), f"{name}: 'Raises:' entry is not an exception: {entry!r}"


@pytest.mark.parametrize("name", NAMES)
def test_every_argument_documented(name):
    fn = _function(name)
    params = [p for p in inspect.signature(fn).parameters]
    body = sections(inspect.getdoc(fn)).get("Args", [])
    documented: list[str] = []
    for entry in _entries(body):
        m = ARG.match(entry)
        assert m, f"{name}: 'Args:' entry does not start with an argument name: {entry!r}"
        documented += [a.strip().lstrip("*") for a in m.group(1).split(",")]
    missing = [p for p in params if p not in documented]
    extra = [a for a in documented if a not in params]
    assert not missing, f"{name}: arguments not documented under 'Args:': {missing}"
    assert not extra, f"{name}: 'Args:' documents names not in the signature: {extra}"
    assert len(documented) == len(set(documented)), f"{name}: an argument is documented twice"


@pytest.mark.parametrize("name", NAMES)
def test_examples_run(name):
    fn = _function(name)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(inspect.getdoc(fn), {"losses": losses, "np": np}, name, None, 0)
    assert test.examples, f"{name}: no runnable '>>>' example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.printoptions(precision=4, suppress=True):
        runner.run(test, out=lambda s: None)
    result = runner.summarize(verbose=False)
    if result.failed:  # run again to show the failing example
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        with np.printoptions(precision=4, suppress=True):
            runner.run(parser.get_doctest(inspect.getdoc(fn), {"losses": losses, "np": np}, name, None, 0),
                       out=report.append)
        pytest.fail(f"{name}: {result.failed} example(s) failed\n" + "".join(report))


def test_contract_parser_on_a_sample():
    # the parser itself: a known-good and a known-bad docstring
    good = inspect.cleandoc('''Squared error.

        .. math:: \\ell = (x - y)^2

        Args:
            input: predictions.
            target, weight: targets and weights.

        Returns:
            The loss.

        Raises:
            ValueError: bad shapes.
                more text.

        References: a paper.

        Peer twins: ``torch.nn.functional.mse_loss``.

        Example:
            >>> 1 + 1
            2
        ''')
    s = sections(good)
    assert s["_order"] == list(ORDER) and not s["_variants"]
    assert _entries(s["Args"]) == ["input: predictions.", "target, weight: targets and weights."]
    assert _entries(s["Raises"]) == ["ValueError: bad shapes."]
    bad = sections("X.\n\nRaises:\n    smooth: a keyword.\n\nPeer settings:\n    ...\n")
    assert not EXCEPTION.match(_entries(bad["Raises"])[0])
    assert bad["_variants"] == ["Peer settings:"]
