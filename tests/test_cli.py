"""The ``jobs-widgets`` command line, run as a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from jobs_widgets.cli import main
from jobs_widgets.core.sdk import make_client
from jobs_widgets.sandbox.faults import KINDS


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs_widgets", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def read_exports(proc: subprocess.Popen[str], count: int, deadline_s: float = 30.0) -> dict[str, str]:
    assert proc.stdout is not None
    exports: dict[str, str] = {}
    deadline = time.monotonic() + deadline_s
    while len(exports) < count and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"export (\w+)=(\S+)", line)
        if match:
            exports[match.group(1)] = match.group(2)
    return exports


def test_sandbox_command_prints_exports_serves_and_stops_on_interrupt() -> None:
    faults = ["runs/get:503:0.0", "runs/get:hang:0.0", "runs/get:drip:0.0:0.5", "*:reset:0.0"]
    proc = start("sandbox", "--speed", "10", "--seed", "3", *(f"--fault={f}" for f in faults))
    try:
        exports = read_exports(proc, 9)
        assert set(exports) >= {
            "DATABRICKS_HOST",
            "DATABRICKS_TOKEN",
            "DATABRICKS_JOB_ETL",
            "DATABRICKS_JOB_DBT",
        }
        w = make_client(exports["DATABRICKS_HOST"], exports["DATABRICKS_TOKEN"])
        job = w.jobs.get(int(exports["DATABRICKS_JOB_ETL"]))
        assert job.settings.name == "orders-etl"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_a_sandbox_in_another_process_is_scripted_with_its_address_and_token() -> None:
    from databricks.sdk.errors import NotFound
    from jobs_widgets.sandbox import RemoteSandbox

    proc = start("sandbox", "--speed", "10")
    try:
        exports = read_exports(proc, 11)
        sb = RemoteSandbox(exports["JOBS_WIDGETS_SANDBOX"], exports["DATABRICKS_TOKEN"])
        w = make_client(exports["DATABRICKS_HOST"], exports["DATABRICKS_TOKEN"])
        sb.engine.script("etl", run_name="scripted from afar")
        run_id = w.jobs.run_now(int(exports["DATABRICKS_JOB_ETL"])).response.run_id
        assert w.jobs.get_run(run_id).run_name == "scripted from afar"
        sb.faults.add("runs/get:404:1")
        with pytest.raises(NotFound):
            w.jobs.get_run(run_id)
        assert sb.status()["faults"] == ["runs/get:404:1"]
        sb.faults.clear()
        assert w.jobs.get_run(run_id).run_id == run_id
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_sandbox_command_rejects_bad_fault_specs() -> None:
    proc = start("sandbox", "--fault", "runs/get:teapot")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "unknown fault kind 'teapot'" in err
    assert "Traceback" not in err


def test_sandbox_help_documents_every_fault_kind(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sandbox", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for kind in sorted(KINDS):
        assert kind in help_text
    for example in ("runs/get:hang:0.1", "runs/get:drip:1", "'*:reset:0.05'"):
        assert example in help_text


@pytest.mark.slow
def test_scripted_demo_tells_its_story() -> None:
    proc = start("demo", "--scripted", "--speed", "20")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "TERMINATED SUCCESS" in out
    assert "ConvergenceError" in out
    assert "TERMINATED CANCELED" in out
