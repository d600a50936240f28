"""The example notebooks, executed by nbclient in a real kernel, outputs asserted."""

from __future__ import annotations

import ast
import itertools
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jobs_widgets.demo import DEMO_SEED, notebooks_dir, run_headless, stage_quickstart
from jobs_widgets.sandbox import Sandbox
from nbclient import NotebookClient

pytestmark = pytest.mark.slow
NOTEBOOKS = notebooks_dir()


def execute(
    name: str, tmp_path: Path, env: dict[str, str], allow_errors: bool = False
) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env={**os.environ, **env})
    return nb


def text(cell: Any) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        elif "data" in out:
            parts.extend(str(v) for k, v in out.data.items() if k in {"text/plain", "text/html"})
    return "\n".join(parts)


def by_source(nb: nbformat.NotebookNode, fragment: str) -> Any:
    return next(c for c in nb.cells if c.cell_type == "code" and fragment in c.source)


def test_notebooks_are_clean_and_valid() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
            f"{path.name} has outputs"
        )


def test_quickstart(tmp_path: Path) -> None:
    with Sandbox(speed=20, seed=DEMO_SEED) as sb:
        stage_quickstart(sb)  # as the demo does: the report run is still going when cancelled
        nb = execute("01_quickstart.ipynb", tmp_path, sb.attach_env())
        assert "Using the sandbox this kernel was started with" in text(by_source(nb, "%jobs sandbox start"))
        assert "orders-etl" in text(by_source(nb, "%jobs list")) and "<table" in text(
            by_source(nb, "%jobs list")
        )
        panel_outputs = by_source(nb, "panel = %jobs run etl").outputs
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in panel_outputs)
        assert "etl finished: Succeeded" in text(by_source(nb, "result = %jobs run etl"))
        assert '"status": "ok"' in text(by_source(nb, "%jobs output etl"))
        assert "train finished: Failed" in text(by_source(nb, "failed = %jobs run train"))
        failure = text(by_source(nb, "%jobs output train"))
        assert "ConvergenceError: loss diverged" in failure and "Traceback" in failure
        assert "Repair" in text(by_source(nb, "%jobs repair train"))
        assert "Cancel requested for report run" in text(by_source(nb, "%jobs cancel report"))
        assert any(s in text(by_source(nb, "%jobs status report")) for s in ("Canceled", "Terminating"))
        # Scripted from the kernel, over the demo sandbox's admin endpoint: a failure, then faults.
        assert "etl finished: Failed" in text(by_source(nb, "%jobs sandbox script etl"))
        faulty = by_source(nb, "%jobs sandbox fault runs/get").outputs
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in faulty)
        assert "faults" in text(by_source(nb, "%jobs sandbox fault --clear")) and sb.faults.rules == []
        # The sandbox's own record agrees with what the notebook showed.
        runs = {
            k: [r for r in sb.engine.runs_of(k) if r.trigger == "ONE_TIME"]
            for k in ("etl", "train", "report")
        }
        assert [r.result for r in runs["etl"]] == ["SUCCESS", "SUCCESS", "FAILED"]
        assert runs["etl"][2].attempts[1].spec.task_key == "transform"
        assert runs["etl"][2].attempts[1].result == "FAILED"
        assert runs["train"][0].repairs and runs["report"][0].stopping == "CANCELED"
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        panels = [m["state"] for m in state.values() if m["model_name"] == "AnyModel"]
        assert panels and all("job" in p and "run" in p for p in panels)


def test_python_api(tmp_path: Path) -> None:
    nb = execute("02_python_api.ipynb", tmp_path, {})
    assert "rejected: Parameter validation failed for job" in text(by_source(nb, "except ParamsError"))
    loop = text(by_source(nb, "for update in nightly.run_and_wait"))
    assert "Succeeded" in loop and "'env': 'prod'" in loop
    # One label per state change, ending in Succeeded. Which early state is seen first
    # (Queued lasts ~0.1 s of wall time at 20x) depends on the machine, so not asserted.
    states = ast.literal_eval(text(by_source(nb, "async for")).strip())
    assert len(states) >= 2 and states[-1] == "Succeeded", states
    assert set(states[:-1]) <= {"Queued", "Pending", "Running", "Terminating"}, states
    assert all(a != b for a, b in itertools.pairwise(states)), states  # changes only
    assert "refused: Run" in text(by_source(nb, "except RunScopeError"))


def test_real_workspace_notebook_fails_clearly_without_a_workspace(tmp_path: Path) -> None:
    env = {k: "" for k in os.environ if k.startswith("DATABRICKS_")}
    nb = execute("03_real_workspace.ipynb", tmp_path, env, allow_errors=True)
    assert "'DATABRICKS_HOST': 'missing'" in text(by_source(nb, "import os"))
    config = text(by_source(nb, "%jobs config"))
    assert "cannot set up Databricks credentials" in config and "Set DATABRICKS_HOST" in config
    assert "No jobs configured" in text(by_source(nb, "%jobs list"))
    run = text(by_source(nb, "%jobs run etl --wait"))
    assert 'Unknown job "etl"' in run and "Traceback" not in run


def test_headless_demo_prints_a_summary_of_its_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_headless(speed=20) == 0
    out = capsys.readouterr().out
    assert "Runs this demo drove:" in out
    assert "etl      run" in out and "train" in out and "ConvergenceError" in out and "CANCELED" in out


def test_run_model_tour(tmp_path: Path) -> None:
    """notebooks/04_run_model.ipynb: today's run model through the magics, on its own sandbox."""
    nb = execute("04_run_model.ipynb", tmp_path, {})
    fan = text(by_source(nb, "%jobs status fanout"))
    assert "score" in fan and "of 150 iterations failed" in fan and "/runs/" in fan
    gate = text(by_source(nb, "%jobs status gate"))
    assert "Excluded" in gate and "condition was false" in gate
    parent = text(by_source(nb, "%jobs status parent"))
    assert "%jobs status refresh" in parent
    assert "Timed out" in text(by_source(nb, "slow = %jobs run slow"))
    queued = text(by_source(nb, "%jobs status single"))
    assert "Queued" in queued
    repair = text(by_source(nb, "%jobs repair guarded"))
    assert "load and what depends on them run again, with the run's parameters" in repair
