"""A notebook that uses ``%jobs``, executed by nbclient in a real kernel, outputs asserted."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.slow

CELLS = [
    "%load_ext jobs_widgets",
    "%jobs sandbox start --speed 50",
    "%jobs list",
    'r = %jobs run report -p region=apac --wait\nprint("FINAL", r.state.value, r.run.params["region"])',
    "%jobs runs report -n 2",
    "%jobs status report",
    "%jobs cancel report 1",
    "%jobs sandbox stop",
]


def run_notebook(tmp_path: Path) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.cells[6].metadata["tags"] = ["raises-exception"]  # a UsageError is expected there
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def outputs(cell: nbformat.NotebookNode, mime: str) -> str:
    found = []
    for out in cell.outputs:
        if out.output_type == "stream":
            found.append(out.text)
        elif "data" in out and mime in out.data:
            found.append(out.data[mime])
    return "\n".join(found)


def test_magics_notebook_runs_and_renders(tmp_path: Path) -> None:
    nb = run_notebook(tmp_path)
    cells = nb.cells
    assert "Sandbox started" in outputs(cells[1], "text/plain")
    listing = outputs(cells[2], "text/html")
    assert "<table" in listing and "weekly-revenue-report" in listing
    waited = cells[3]
    assert "FINAL SUCCEEDED apac" in outputs(waited, "text/plain")
    progress = outputs(waited, "text/html")
    assert "jw-progress-log" in progress and "Succeeded" in progress
    assert [o.output_type for o in waited.outputs].count("display_data") == 1  # one output, updated in place
    assert "<table" in outputs(cells[4], "text/html")
    assert "jw-state" in outputs(cells[5], "text/html")
    # IPython shows a UsageError as one stderr line, never a traceback.
    assert [o.output_type for o in cells[6].outputs] == ["stream"]
    assert cells[6].outputs[0].text == "UsageError: [404 INVALID_PARAMETER_VALUE] Run 1 does not exist.\n"
    assert "Sandbox stopped" in outputs(cells[7], "text/plain")
