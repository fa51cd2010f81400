"""The benchmark matrix machinery (benchmarks/matrix.py) on one tiny loss and size.

No timing assertions: only that the matrix runs, measures what it says and writes its files.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import losses

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def matrix():
    spec = importlib.util.spec_from_file_location("bench_matrix", ROOT / "benchmarks" / "matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_every_public_name_has_a_spec_and_a_twin(matrix):
    assert set(matrix.SPECS) == set(losses.__all__)
    assert set(matrix.TWINS) == set(losses.__all__)
    for name, twin in matrix.TWINS.items():
        assert twin.kind in ("F", "peer", None), name
        assert twin.note, name
        assert (twin.torch is None) == (twin.kind is None), name


def test_every_spec_calls_its_loss(matrix):
    # the generated arguments bind to the function's signature and the differentiated ones exist
    import inspect
    for name, spec in matrix.SPECS.items():
        args = spec.make(np.random.default_rng(0), spec.dims_at("T"))
        sig = inspect.signature(getattr(losses, name))
        try:
            sig.bind(**args, **spec.kwargs)
        except TypeError as e:
            raise AssertionError(f"{name}: {e}") from None
        assert set(spec.diff) <= set(args), name


def test_no_helper_is_defined_twice():
    # a second definition silently replaces the first one's callers' inputs or twins
    import ast
    import collections
    tree = ast.parse((ROOT / "benchmarks" / "matrix.py").read_text())
    names = collections.Counter(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
    assert not [n for n, k in names.items() if k > 1]


def test_one_tiny_row(matrix):
    rows = matrix.run_matrix(["mse_loss"], ["T"], {"T": 2}, memory=True,
                             use_jax=importlib.util.find_spec("jax") is not None, log=None)
    assert len(rows) == 1
    row = rows[0]
    assert "error" not in row, row.get("error")
    assert row["twin_kind"] == "F" and row["twin_agrees"] is True
    assert set(row["torch"]) == {"ours", "twin"}
    assert row["torch"]["ours"]["n"] == 2 and row["torch"]["ours"]["median"] > 0
    assert row["peak_bytes"]["twin"] > 0  # the profiler's allocation events were seen
    assert row["host_reads"] <= 1
    assert row["numpy_forward"]["median"] > 0
    if "jax_jit" in row:
        assert set(row["jax_jit"]) == {"ours", "optax"} or "jax_error" in row
    ok, why = matrix.verdict(row)
    assert ok in (True, False) and isinstance(why, list)
    table = matrix.markdown_table(rows)
    assert "| mse_loss | T | F |" in table


def test_host_reads_and_peak_bytes_count(matrix):
    import torch

    x = torch.ones(4)
    assert matrix.host_reads(lambda: float(x.sum()) + float(x.max())) == 2
    assert matrix.host_reads(lambda: x * 2) == 0
    assert matrix.peak_bytes(lambda: torch.empty(1 << 20, dtype=torch.uint8) + 1) >= 2 << 20


def test_markdown_page_keeps_its_prose(matrix, tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nprose before\n\n<!-- matrix:begin -->\nold\n<!-- matrix:end -->\n\nprose after\n")
    result = {"machine": {"date": "d", "cpu": "c", "cores": 1, "versions": {}, "git_commit": "abc"},
              "rows": [{"loss": "mse_loss", "size": "T", "twin_kind": "F", "twin": "F.mse_loss"}]}
    matrix.write_markdown(page, result, tmp_path / "m.json")
    text = page.read_text()
    assert "prose before" in text and "prose after" in text and "old" not in text
    assert "m.json" in text and "| mse_loss | T | F |" in text
    json.dumps(result)


def test_interleaved_repetitions_fill_the_budget(matrix):
    # a fast call gets up to ten times the repetitions, a slow one keeps the minimum; every
    # function of a measurement gets as many as the others
    import time

    fast = matrix.interleaved({"a": lambda: None, "b": lambda: None}, 5, budget=0.05)
    assert fast["a"]["n"] == fast["b"]["n"] == 50
    slow = matrix.interleaved({"a": lambda: time.sleep(0.01)}, 3, budget=0.001)
    assert slow["a"]["n"] == 3
    assert matrix.interleaved({"a": lambda: None}, 7)["a"]["n"] == 7
