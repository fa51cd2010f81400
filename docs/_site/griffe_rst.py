"""Griffe extension for the docs site: reads the library's docstrings as the site renders them.

The docstrings are written for ``help()`` and the doctest contract (tests/test_docstrings.py):
Google-style sections with reStructuredText inline markup. mkdocstrings renders Markdown, so
this extension rewrites a copy of each public function's docstring (the source is untouched):

- ``.. math::`` blocks become ``$$ ... $$`` display math and ``:math:`x``` inline ``$x$``
  (rendered by ``pymdownx.arithmatex`` and MathJax);
- ``:func:`name``` / ``:meth:`` / ``:class:`` roles become code spans;
- ``References:`` and ``Peer twins:`` with their text on the header line become sections
  with an indented body (griffe renders them as titled blocks), ``Example:`` is read as
  griffe's ``Examples`` section (its ``>>>`` lines become highlighted Python sessions);
- an ``Args:`` entry naming several arguments (``target, weight: ...``) becomes one entry
  per argument with the same description.
"""
from __future__ import annotations

import importlib
import inspect
import re
import sys
from typing import Any

try:
    import griffe

    _Extension: type = griffe.Extension
except ImportError:  # the rewrite itself needs no griffe (tests/test_site.py runs it without)
    griffe = None
    _Extension = object

INLINE_SECTIONS = ("References", "Peer twins")
HEADER = re.compile(r"^(\s*)(%s):\s*(\S.*)$" % "|".join(re.escape(s) for s in INLINE_SECTIONS))
ROLE = re.compile(r":(?:func|meth|class|attr|mod|obj|data):`~?([^`]+)`")
MATH_ROLE = re.compile(r":math:`([^`]+)`")
MATH = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
MULTI_ARG = re.compile(r"^(\s+)(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)+)\s*(\([^)]*\))?\s*:\s*(.*)$")
SECTION = re.compile(r"^(\s*)([A-Z][\w ]*):\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _math_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = MATH.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        pad, first = m.group(1), m.group(2)
        body = [first] if first else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(pad)):
            if not lines[i].strip():  # a blank line ends the block unless more body follows
                if i + 1 < len(lines) and lines[i + 1].strip() and _indent(lines[i + 1]) > len(pad) and body:
                    body.append("")
                    i += 1
                    continue
                break
            body.append(lines[i].strip())
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += [pad + "$$"] + [pad + b for b in body if b] + [pad + "$$"]
        if i < len(lines) and lines[i].strip():
            out.append("")
    return out


def _inline_sections(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = HEADER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        pad, name, text = m.groups()
        out += [f"{pad}{name}:", f"{pad}    {text}"]
        i += 1
        while i < len(lines) and lines[i].strip() and not SECTION.match(lines[i]) and not HEADER.match(lines[i]):
            out.append(f"{pad}    {lines[i].strip()}" if _indent(lines[i]) <= len(pad) else "    " + lines[i])
            i += 1
    return out


WRAPPED_NAMES = re.compile(r"^(\s+)(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*,\s*$")


def _join_wrapped_names(lines: list[str]) -> list[str]:
    """``a, b,`` / ``c: text`` (a list of names wrapped before its colon) -> ``a, b, c: text``."""
    out: list[str] = []
    for line in lines:
        prev = WRAPPED_NAMES.match(out[-1]) if out else None
        if prev and line.strip() and _indent(line) == len(prev.group(1)):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return out


def _split_args(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_args = False
    lines = _join_wrapped_names(lines)
    for line in lines:
        s = SECTION.match(line)
        if s:
            in_args = s.group(2) == "Args"
        m = MULTI_ARG.match(line) if in_args else None
        if not m:
            out.append(line)
            continue
        pad, names, kind, desc = m.groups()
        for name in (n.strip() for n in names.split(",")):
            out.append(f"{pad}{name}{' ' + kind if kind else ''}: {desc}")
    return out


def rewrite(doc: str) -> str:
    """The site's reading of one docstring (see the module docstring)."""
    doc = MATH_ROLE.sub(lambda m: f"${m.group(1)}$", doc)
    doc = ROLE.sub(lambda m: f"`{m.group(1)}`", doc)
    lines = _math_blocks(doc.splitlines())
    lines = _inline_sections(lines)
    lines = _split_args(lines)
    lines = [re.sub(r"^(\s*)Example:\s*$", r"\1Examples:", line) for line in lines]
    return "\n".join(lines)


def runtime_docstring(module: str, name: str) -> str | None:
    """The docstring ``help()`` shows: some are completed at import (shared ``Args:`` text)."""
    importlib.import_module("losses")  # loads the families, and nothing that needs a framework
    obj = getattr(sys.modules.get(module), name, None)  # only modules `import losses` loaded
    return inspect.getdoc(obj) if callable(obj) else None


class RstToMarkdown(_Extension):
    """Signatures come from the source (griffe's static reading keeps ``Literal[...]``),
    docstrings from the imported function, rewritten by :func:`rewrite`."""

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        if func.docstring is None or func.parent is None or not func.parent.is_module:
            return
        doc = runtime_docstring(func.module.path, func.name)
        if doc is not None:
            func.docstring.value = rewrite(doc)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """A public function the source rebinds (``f = check.entry(f)``) reads as an attribute
        to a static reader: take it from the imported module instead (its signature and
        docstring are the wrapped function's)."""
        if pkg.name != "losses":
            return
        families = set(getattr(importlib.import_module("losses"), "__all__", ()))
        for module in pkg.modules.values():
            runtime = sys.modules.get(module.path)  # the families `import losses` loads
            if module.is_alias or not inspect.ismodule(runtime) or not families & set(getattr(runtime, "__all__", ())):
                continue
            rebound = [n for n in getattr(runtime, "__all__", ()) if n in module.members
                       and not module.members[n].is_alias and not module.members[n].is_function]
            if not rebound:
                continue
            inspected = griffe.inspect(module.path, filepath=module.filepath)
            for name in rebound:
                func = inspected[name]
                func.lineno, func.endlineno = module.members[name].lineno, module.members[name].endlineno
                if func.docstring is not None:
                    func.docstring.value = rewrite(func.docstring.value)
                module.set_member(name, func)
