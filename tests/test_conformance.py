"""The conformance checks under pytest: the same checks as ``python -m losses.conformance``, one test each."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import losses
from losses.conformance import engine
from losses.conformance.cases import all_cases

_CHECKS = engine.build_checks(include_slow=True)


@pytest.mark.parametrize(
    "check",
    [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in _CHECKS],
)
def test_conformance(check):
    try:
        check.run()
    except engine.Skip as e:
        pytest.skip(str(e))


def test_every_public_loss_has_cases():
    covered = {c.loss_name for c in all_cases()}
    missing = [name for name in losses.__all__ if name not in covered]
    assert not missing, f"public functions without conformance cases: {missing}"


def test_case_ids_are_unique():
    ids = [c.id for c in all_cases()]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate case ids: {dupes}"


def test_cupy_backend_runs_the_matrix_where_a_gpu_exists():
    """CuPy is covered by the same checks as every backend when it is available; here it is
    only reported, since the CuPy checks need a CUDA GPU."""
    from losses import backends

    if "cupy" not in backends.available_backends():
        pytest.skip("CuPy is not installed or no CUDA GPU is present: the CuPy checks are not run")
    assert any(c.backend == "cupy" for c in _CHECKS)


def test_edge_exemptions_are_documented():
    """A conformance case may exempt a NaN/inf/empty variant only for a deliberate difference
    that docs/differences.md lists (the loss is named there)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "differences.md").read_text()
    for case in all_cases():
        for pattern, reason in case.edge_exemptions:
            assert reason.strip(), (case.id, pattern)
            assert f"`{case.loss_name}" in text, f"{case.id} exempts {pattern!r} but docs/differences.md does not name {case.loss_name}"


def _children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to list child processes")
def test_sigterm_stops_every_worker_process():
    """``python -m losses.conformance -j 2`` stopped with SIGTERM leaves no process behind."""
    proc = subprocess.Popen([sys.executable, "-m", "losses.conformance", "--full", "-j", "2", "--loss", "mse_loss",
                             "--loss", "l1_loss"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers = []
    deadline = time.time() + 120
    while time.time() < deadline and len(workers) < 2:
        workers = [c for c in _children(proc.pid) if _alive(c)]
        time.sleep(0.2)
    assert len(workers) >= 2, f"the run did not start its workers: {proc.poll()}"
    time.sleep(2.0)  # workers running checks
    descendants = set(workers) | {g for w in workers for g in _children(w)}
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out[-2000:]
    assert "interrupted" in out
    time.sleep(1.0)
    survivors = [p for p in descendants | set(_children(proc.pid)) if _alive(p)]
    assert not survivors, f"processes left running after SIGTERM: {survivors}"


def test_markdown_page_names_its_command_and_counts(tmp_path, capsys):
    from losses.conformance.__main__ import main

    out = tmp_path / "matrix.md"
    assert main(["--smoke", "--loss", "mse_loss", "--backend", "numpy", "--markdown", str(out)]) == 0
    text = out.read_text()
    summary = capsys.readouterr().out.strip().splitlines()[-1]  # "N passed, 0 failed, K skipped in ..."
    n_pass = int(summary.split(" passed")[0])
    assert text.startswith("# Conformance matrix\n\nWritten by `python -m losses.conformance --loss mse_loss "
                           f"--markdown {out}` (smoke run, CPU")
    assert f": {n_pass} passed, 0 failed," in text and "\n| mse_loss |" in text
