"""Scope, malformed configuration, and secrets: the promises a job monitor must keep."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jobs_widgets.core import JobConfig, Jobs, RunScopeError, TaskType
from jobs_widgets.core.hub import Hub
from jobs_widgets.sandbox import Sandbox

WRITES_AND_OUTPUTS = {"runs/cancel", "runs/repair", "runs/get-output", "runs/cancel-all", "run-now"}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(speed=50, seed=2) as sandbox:
        yield sandbox


def _jobs(sb: Sandbox, hub: Hub) -> Jobs:
    return Jobs.from_env(config=sb.config(), client=sb.client(), env=sb.env(), hub=hub, clock=sb.clock)


# ----------------------------------------------------------------------------- scope
def test_every_run_id_method_refuses_other_jobs_runs_before_any_write(sb: Sandbox) -> None:
    hub = Hub(clock=sb.clock)
    jobs = _jobs(sb, hub)
    sb.engine.script("train", duration_s=36_000)  # still running when the test ends, however slow
    other = jobs("train").run_now()
    etl = jobs("etl")
    sb.clear_requests()

    calls = {
        "get_run": lambda: etl.get_run(other),
        "get_run_output": lambda: etl.get_run_output(other),
        "cancel_run": lambda: etl.cancel_run(other),
        "repair_run": lambda: etl.repair_run(other),
        "watch": lambda: list(etl.watch(other)),
    }
    for call in calls.values():
        with pytest.raises(RunScopeError):
            call()

    async def awatch() -> None:
        async for _ in etl.awatch(other):
            pass

    with pytest.raises(RunScopeError):
        asyncio.run(awatch())
    sent = {r.endpoint for r in sb.requests}
    assert sent <= {"runs/get"}, sent  # only the look-up that proves the run is not etl's
    assert not sb.engine.run(other).is_terminal
    hub.shutdown()


def test_panel_and_magic_commands_keep_the_scope(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobs_widgets.widget import JobPanel

    hub = Hub(clock=sb.clock)
    jobs = _jobs(sb, hub)
    sb.engine.script("train", duration_s=36_000)  # still running when the test ends, however slow
    other = jobs("train").run_now()
    panel = JobPanel(jobs("etl"))
    panel.wait_idle()
    sb.clear_requests()
    for kind in ("cancel", "repair"):
        panel._on_frontend_msg(panel, {"kind": kind, "run_id": other}, [])
        panel.wait_idle()
        assert "is not a run of job" in panel.error
    panel.close()

    for name, value in sb.env().items():
        monkeypatch.setenv(name, value)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jobs_widgets")
    try:
        for sub in ("status", "cancel", "output", "repair", "watch"):
            with pytest.raises(UsageError, match="is not a run of job"):
                shell.run_line_magic("jobs", f"{sub} etl {other}")
    finally:
        shell.run_line_magic("unload_ext", "jobs_widgets")
    assert not {r.endpoint for r in sb.requests} & WRITES_AND_OUTPUTS
    assert not sb.engine.run(other).is_terminal
    hub.shutdown()


@pytest.mark.parametrize(
    ("key", "config"),
    [
        ("etl", JobConfig()),  # pass-through of run-now fields
        ("etl", JobConfig(task_type=TaskType.NOTEBOOK)),
        ("train", JobConfig(task_type=TaskType.PYTHON_WHEEL)),
        ("nightly", JobConfig(task_type=TaskType.AUTO)),
        ("report", JobConfig(task_type=TaskType.SQL)),
    ],
)
def test_job_ids_in_params_never_override_the_configured_job(
    sb: Sandbox, key: str, config: JobConfig
) -> None:
    hub = Hub(clock=sb.clock)
    jobs = Jobs.from_env(config={key: config}, client=sb.client(), env=sb.env(), hub=hub, clock=sb.clock)
    other_id = sb.jobs["dbt"]
    params = {"job_id": other_id} if config.task_type is None else {"job_id": str(other_id), "env": "dev"}
    if key == "nightly":
        params = {"env": "dev"}
    run_id = jobs(key).run_now(params)
    assert sb.engine.run(run_id).job.job_id == sb.jobs[key]
    assert sb.engine.runs_of("dbt")[-1].trigger != "ONE_TIME"
    hub.shutdown()


# ----------------------------------------------------------------------------- malformed configuration
class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>not databricks</html>"  # every path, well-known probe included
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def html_host() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_malformed_configuration_gives_one_clear_message_fast(
    sb: Sandbox, html_host: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jobs_widgets")
    cases = [
        (
            {"DATABRICKS_HOST": sb.host, "DATABRICKS_TOKEN": sb.token, "DATABRICKS_JOB_ETL": "42abc"},
            "list",
            "DATABRICKS_JOB_ETL='42abc' is not a valid job id",
        ),
        (
            {"DATABRICKS_HOST": sb.host, "DATABRICKS_TOKEN": sb.token, "DATABRICKS_JOB_ETL": "0"},
            "run etl",
            "expected a positive integer",
        ),
        (
            {"DATABRICKS_HOST": html_host, "DATABRICKS_TOKEN": "dapi-x", "DATABRICKS_JOB_ETL": "1"},
            "run etl",
            "did not answer like a Databricks workspace",
        ),
        (
            {"DATABRICKS_HOST": sb.host, "DATABRICKS_TOKEN": "dapi" + "9" * 32, "DATABRICKS_JOB_ETL": "1001"},
            "runs etl",
            "DATABRICKS_TOKEN is invalid or expired",
        ),
        (
            {
                "DATABRICKS_HOST": "http://127.0.0.1:9",
                "DATABRICKS_TOKEN": "dapi-x",
                "DATABRICKS_JOB_ETL": "1",
            },
            "runs etl",
            "check DATABRICKS_HOST",
        ),
        (
            {
                "DATABRICKS_HOST": "https://jobs-widgets-test.invalid",
                "DATABRICKS_TOKEN": "dapi-x",
                "DATABRICKS_JOB_ETL": "1",
            },
            "runs etl",
            "check DATABRICKS_HOST",
        ),
        ({"DATABRICKS_JOB_ETL": "1"}, "runs etl", "cannot set up Databricks credentials"),
    ]
    try:
        for env, line, message in cases:
            for name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
                monkeypatch.delenv(name)
            monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/cfg")
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            started = time.perf_counter()
            if line == "list":  # the listing shows the broken job's problem in its row
                text = repr(shell.run_line_magic("jobs", line)).splitlines()[-1]
            else:
                with pytest.raises(UsageError) as err:
                    shell.run_line_magic("jobs", line)
                text = str(err.value)
            took = time.perf_counter() - started
            assert message in text, (line, text)
            assert "\n" not in text and "Traceback" not in text and took < 10, (line, took)
            warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
            assert warnings == [], line  # ...and nothing else (no SDK warning beside it)
            caplog.clear()
        # ...and the notebook stays usable.
        for name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("JOBS_WIDGETS_DEMO_SPEED", "50")
        shell.run_line_magic("jobs", "sandbox start")
        assert "orders-etl" in repr(shell.run_line_magic("jobs", "list"))
    finally:
        shell.run_line_magic("unload_ext", "jobs_widgets")


# ----------------------------------------------------------------------------- secrets
_TOKEN = re.compile(r"dapi[0-9a-f]{8,}")


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_no_token_anywhere_a_user_can_see(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Widget states, reprs, HTML, DEBUG logs, error messages and executed notebooks: 0 tokens."""
    import nbformat
    from jobs_widgets.demo import notebooks_dir
    from jobs_widgets.widget import JobPanel
    from nbclient import NotebookClient

    seen: list[str] = []
    handler = _Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with Sandbox(speed=50, seed=1) as sb:
            secret = sb.token
            scoped = sb.add_user("app", jobs_scope=False)
            for name, value in sb.env().items():
                monkeypatch.setenv(name, value)
            shell = InteractiveShell.instance()
            shell.run_line_magic("load_ext", "jobs_widgets")
            shell.run_line_magic("config", "JobsMagics.default_task_type = 'auto'")
            try:
                for line in (
                    "list",
                    "config",
                    "run etl --wait",
                    "runs etl -n 3",
                    "status etl",
                    "sandbox status",
                    "help",
                ):
                    result = shell.run_line_magic("jobs", line)
                    seen += [repr(result), getattr(result, "_repr_html_", lambda: "")()]
                failed = shell.run_line_magic("jobs", "run train -p learning_rate=5 --wait")
                seen.append(repr(shell.run_line_magic("jobs", f"output train {failed.run.run_id}")))
                panel = shell.run_line_magic("jobs", "panel train")
                panel.wait_idle()
                seen += [json.dumps(panel.get_state(), default=str), repr(panel), panel._html_snapshot()]
                panel.close()
                for token in (scoped, "dapi" + "a" * 32):
                    monkeypatch.setenv("DATABRICKS_TOKEN", token)
                    with pytest.raises(UsageError) as err:
                        shell.run_line_magic("jobs", "runs etl")
                    seen.append(str(err.value))
                monkeypatch.setenv("DATABRICKS_TOKEN", secret)
            finally:
                shell.run_line_magic("config", "JobsMagics.default_task_type = ''")
                shell.run_line_magic("unload_ext", "jobs_widgets")
            hub = Hub(clock=sb.clock)
            jobs = Jobs.from_env(
                config=sb.config(), client=sb.client(), env=sb.env(), hub=hub, clock=sb.clock
            )
            direct = JobPanel(jobs("etl"))
            direct.wait_idle()
            seen.append(json.dumps(direct.get_state(), default=str))
            direct.close()
            hub.shutdown()
            nb = nbformat.read(notebooks_dir() / "01_quickstart.ipynb", as_version=4)
            NotebookClient(
                nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
            ).execute(env={**os.environ, **sb.attach_env()})
            seen.append(nbformat.writes(nb))
            seen.append(repr(sb))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    seen += handler.lines
    everything = "\n".join(seen)
    assert len(handler.lines) > 50 and len(everything) > 10_000  # the scan saw real material
    assert secret not in everything and scoped not in everything
    assert _TOKEN.findall(everything) == []
