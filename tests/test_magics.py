"""``%jobs`` through a real IPython shell, against the in-process sandbox."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.completer import provisionalcompleter
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jobs_widgets._render import JobsList, KeyValues, Message, RunsTable, RunSummary
from jobs_widgets._render_output import OutputView
from jobs_widgets.core import RunState
from jobs_widgets.magics import JobsMagics, _instances


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    return InteractiveShell.instance()


@pytest.fixture
def ip(shell: InteractiveShell) -> Iterator[InteractiveShell]:
    """A shell with %jobs loaded and the sandbox started (fast clock), unloaded afterwards."""
    shell.config.pop("JobsMagics", None)  # settings made by %config in other tests
    shell.run_line_magic("load_ext", "jobs_widgets")
    shell.run_line_magic("jobs", "sandbox start --speed 100")
    yield shell
    shell.run_line_magic("unload_ext", "jobs_widgets")
    assert not any(name.startswith("DATABRICKS_JOB_") for name in os.environ)


def magic(ip: InteractiveShell) -> JobsMagics:
    return _instances[id(ip)]


def jobs(ip: InteractiveShell, line: str) -> Any:
    return ip.run_line_magic("jobs", line)


def test_list_is_the_default_and_renders_text_and_html(ip: InteractiveShell) -> None:
    result = jobs(ip, "")
    assert isinstance(result, JobsList)
    assert [row.key for row in result.rows] == ["etl", "train", "report", "nightly", "flaky", "jar", "dbt"]
    text, markup = repr(result), result._repr_html_()
    assert "orders-etl" in text and "Succeeded" in text
    assert "<table" in markup and "orders-etl" in markup and 'href="http://127.0.0.1' in markup
    assert markup.startswith('<div class="jw-result mathjax_ignore')  # remote "$...$" stays text


def test_run_wait_returns_the_final_run(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    result = jobs(ip, "run etl -p env=prod -p full_refresh=true --wait")
    assert isinstance(result, RunSummary) and result.state is RunState.SUCCEEDED
    assert result.run.params["env"] == "prod" and result.run.params["full_refresh"] == "true"
    printed = capsys.readouterr().out
    # (which intermediate states are seen depends on the sandbox's pace: not asserted)
    assert f"etl run {result.run.run_id} started; watching" in printed
    assert f"etl run {result.run.run_id}: Succeeded" in printed
    assert "Succeeded" in repr(result) and "jw-state--succeeded" in result._repr_html_()


def test_cell_magic_takes_json_params(ip: InteractiveShell) -> None:
    result = ip.run_cell_magic("jobs", "run nightly --wait", '{"env": "dev", "full_refresh": true}')
    assert result.run.params["env"] == "dev" and result.run.params["full_refresh"] == "true"
    with pytest.raises(UsageError, match="cell body is not valid JSON"):
        ip.run_cell_magic("jobs", "run nightly", "{nope")
    with pytest.raises(UsageError, match="only `%%jobs run KEY` takes a cell"):
        ip.run_cell_magic("jobs", "runs etl", "{}")


def test_params_are_coerced_by_the_model_and_rejected_clearly(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match='"max_rows"'):
        jobs(ip, "run etl -p max_rows=-3")
    with pytest.raises(UsageError, match="Input should be 'dev', 'staging' or 'prod'"):
        jobs(ip, "run etl -p env=moon")
    result = jobs(ip, 'run etl --json \'{"date": "2026-03-04", "max_rows": "10"}\' --wait')
    assert result.run.params["date"] == "2026-03-04" and result.run.params["max_rows"] == "10"


def test_run_without_wait_returns_at_once(ip: InteractiveShell) -> None:
    magic(ip).sandbox.engine.script("report", duration_s=3600)
    started = time.perf_counter()
    result = jobs(ip, "run report -p region=apac")
    # Returned while the hour-long run is still going (the first SDK import alone can take 1 s).
    assert not magic(ip).sandbox.engine.run(result.run_id).is_terminal
    assert time.perf_counter() - started < 10
    run_id = result.run_id
    assert magic(ip).sandbox.engine.run(run_id).overriding == {"sql_params": {"region": "apac"}}


def test_panel_and_watch_return_live_panels(ip: InteractiveShell) -> None:
    from jobs_widgets.widget import JobPanel

    engine = magic(ip).sandbox.engine
    panel = jobs(ip, "panel etl")
    assert isinstance(panel, JobPanel) and panel.handle.key == "etl"
    assert "has no active runs" in repr(jobs(ip, "watch report"))
    engine.script("report", duration_s=3600, times=2)
    started = [jobs(ip, "run report") for _ in range(2)]
    assert all(isinstance(p, JobPanel) for p in started)
    watched = jobs(ip, "watch report")
    assert sorted(p.run_id for p in watched) == sorted(p.run_id for p in started)
    one = jobs(ip, f"watch report {started[0].run_id}")
    assert isinstance(one, JobPanel) and one.run_id == started[0].run_id
    for p in [panel, *started, *watched, one]:
        p.close()


def test_board_returns_a_live_board_of_the_jobs(ip: InteractiveShell) -> None:
    from jobs_widgets import JobsBoard

    board = jobs(ip, "board")
    assert isinstance(board, JobsBoard) and board.feed.keys == magic(ip).jobs_registry().keys()
    some = jobs(ip, "board ETL report --interval 30")
    assert isinstance(some, JobsBoard) and some.feed.keys == ["etl", "report"]
    assert some.feed._interval == 30
    assert "Jobs board: 2 job(s)" in repr(some)
    for bad, said in (("board nope", "nope"), ("board etl --interval 0", "--interval must be a positive")):
        with pytest.raises(UsageError, match=said) as info:
            jobs(ip, bad)
        assert "\n" not in str(info.value)
    assert "--interval S" in repr(jobs(ip, "help board"))
    for b in (board, some):
        b.close()
    assert board.feed.closed and some.feed.closed


def test_runs_status_output_cancel_repair(ip: InteractiveShell) -> None:
    engine = magic(ip).sandbox.engine
    engine.script("train", outcome="FAILED", error="ConvergenceError: diverged")
    failed = jobs(ip, "run train --wait").run
    assert failed.state is RunState.FAILED

    runs = jobs(ip, "runs train -n 3")
    assert isinstance(runs, RunsTable) and len(runs) == 3 and runs.runs[0].run_id == failed.run_id
    frame = runs.to_pandas()
    assert list(frame["run_id"]) == [r.run_id for r in runs]

    status = jobs(ip, f"status train {failed.run_id}")
    assert isinstance(status, RunSummary) and "diverged" in repr(status)
    latest = jobs(ip, "status train")
    assert latest.run.run_id == failed.run_id

    output = jobs(ip, f"output train {failed.run_id}")
    assert isinstance(output, OutputView) and "ConvergenceError: diverged" in repr(output)
    assert "<details" in output._repr_html_()

    repaired = jobs(ip, f"repair train {failed.run_id}")
    assert isinstance(repaired, Message) and "Repair" in repaired.text

    engine.script("report", duration_s=3600)
    run_id = jobs(ip, "run report").run_id
    active = jobs(ip, "runs report --active")
    assert [r.run_id for r in active] == [run_id]
    cancelled = jobs(ip, f"cancel report {run_id}")
    assert "Cancel requested" in cancelled.text
    deadline = time.monotonic() + 10
    while not engine.run(run_id).is_terminal and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.run(run_id).result == "CANCELED"
    again = jobs(ip, f"cancel report {run_id}")
    assert "already ended" in again.text


def test_repair_chosen_tasks(ip: InteractiveShell) -> None:
    """``%jobs repair KEY RUN --tasks a,b``: those tasks and their dependents run again, with the
    run's parameters; an unknown task is one line naming the run's tasks, and nothing is sent."""
    sb = magic(ip).sandbox
    sb.engine.script("etl", outcome="FAILED", fail_task="transform")
    failed = jobs(ip, "run etl -p date=2024-05-01 --wait").run
    assert failed.state is RunState.FAILED
    sb.clear_requests()
    with pytest.raises(UsageError, match=r"has no task 'nope'; its tasks: ingest, transform, publish"):
        jobs(ip, f"repair etl {failed.run_id} --tasks nope")
    with pytest.raises(UsageError, match="at least one task key"):
        jobs(ip, f"repair etl {failed.run_id} --tasks ,")
    assert not [r for r in sb.requests if r.endpoint == "runs/repair"]
    done = jobs(ip, f"repair etl {failed.run_id} --tasks transform")
    assert "transform and what depends on them run again, with the run's parameters" in done.text
    (sent,) = [dict(r.params) for r in sb.requests if r.endpoint == "runs/repair"]
    assert sent["rerun_tasks"] in (["transform"], '["transform"]')
    assert str(sent["rerun_dependent_tasks"]).lower() == "true"
    assert "%jobs repair KEY RUN_ID [--tasks A,B]" in repr(jobs(ip, "help repair"))


def test_panel_takes_a_run_id(ip: InteractiveShell) -> None:
    """``%jobs panel KEY RUN_ID`` (what the panel suggests for a configured job's child run)."""
    latest = jobs(ip, "runs etl -n 2").runs[1].run_id
    panel = jobs(ip, f"panel etl {latest}")
    assert panel.run_id == latest
    panel.close()
    with pytest.raises(UsageError):
        jobs(ip, "panel etl nope")


def test_scope_is_enforced(ip: InteractiveShell) -> None:
    other = jobs(ip, "run report --wait").run.run_id
    for sub in ("status", "cancel", "output", "repair"):
        with pytest.raises(UsageError, match=f'Run {other} is not a run of job "etl"'):
            jobs(ip, f"{sub} etl {other}")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("frobnicate", "unknown subcommand 'frobnicate'"),
        ("rn etl", "Did you mean run"),
        ("run", "the following arguments are required: key"),
        ("run nope", 'Unknown job "nope". Available jobs: etl'),
        ("run etl -p novalue", "-p expects NAME=VALUE"),
        ("run etl --json '[1]'", "--json must be a JSON object"),
        ("run etl --json '{'", "--json is not valid JSON"),
        ("run etl --timeout -1 --wait", "--timeout must be a positive"),
        ("run etl --bogus", "unrecognized arguments: --bogus"),
        ("run etl 'unclosed", "cannot parse the arguments"),
        ("status etl 0", "run id must be a positive integer"),
        ("cancel etl 12x", "run id must be a positive integer"),
        ("cancel etl 99999999", "Run 99999999 does not exist"),
        ("runs etl -n 5000", "-n must be between 1 and 1000"),
        ("help nope", "no help for 'nope'"),
        ("run dbt -p a=1", "dbt tasks do not accept parameters"),
        ("run etl --timeout nan --wait", "--timeout must be a positive number of seconds"),
        ("run etl --timeout inf --wait", "--timeout must be a positive number of seconds"),
        ("run etl --json '{\"a\": NaN}'", "--json is not valid JSON (NaN is not a JSON value)"),
        ("run etl --json '{\"a\": 1e400}'", "--json is not valid JSON (1e400 is out of range)"),
        ("status etl 9223372036854775808", "run id must be a positive integer"),
        ("runs etl -n 0", "-n must be between 1 and 1000"),
        ("sandbox start --speed 0", "--speed must be a positive number"),
        ("sandbox start --speed nan", "--speed must be a positive number"),
        ("sandbox start --port 70000", "--port must be from 0 to 65535"),
        ("sandbox start --port -1", "--port must be from 0 to 65535"),
    ],
)
def test_bad_input_is_one_line_usage_error(ip: InteractiveShell, line: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        jobs(ip, line)
    assert message in str(err.value)
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)


@pytest.mark.parametrize("error", [TypeError("boom"), ValueError("boom"), AttributeError("boom")])
def test_our_own_bugs_keep_their_traceback(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Only the core's JobsError and explicit bad input become one-line UsageErrors."""
    from jobs_widgets.core import JobHandle

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(JobHandle, "list_runs", broken)
    with pytest.raises(type(error), match="boom") as raised:
        jobs(ip, "runs etl")
    assert not isinstance(raised.value, UsageError)
    monkeypatch.setattr(JobHandle, "get_job", broken)  # in one row of `%jobs list`: not a table cell
    with pytest.raises(type(error), match="boom"):
        jobs(ip, "list")


def test_core_errors_become_one_line(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobs_widgets.core import JobHandle, ParamsError

    def refuse(*args: object, **kwargs: object) -> None:
        raise ParamsError("limit is\n  wrong", key="limit")  # a ValueError too, but the core's

    monkeypatch.setattr(JobHandle, "list_runs", refuse)
    with pytest.raises(UsageError) as raised:
        jobs(ip, "runs etl")
    assert str(raised.value) == "limit is wrong" and raised.value.__cause__ is None


def test_bad_settings_are_refused_in_one_line(ip: InteractiveShell) -> None:
    for name, value in [("wait_timeout", float("nan")), ("poll_cap", 0.0), ("runs_limit", 0)]:
        with pytest.raises(UsageError, match=f"{name} must be"):
            setattr(magic(ip), name, value)


def test_the_registry_follows_new_job_variables(ip: InteractiveShell) -> None:
    assert "extra" not in [row.key for row in jobs(ip, "list").rows]
    os.environ["DATABRICKS_JOB_EXTRA"] = os.environ["DATABRICKS_JOB_ETL"]
    try:
        assert "extra" in [row.key for row in jobs(ip, "list").rows]
    finally:
        del os.environ["DATABRICKS_JOB_EXTRA"]


def test_jobs_without_a_task_type_take_no_user_params(ip: InteractiveShell) -> None:
    magic(ip).stop_sandbox()
    from jobs_widgets.sandbox import Sandbox

    with Sandbox(speed=100) as sb:
        os.environ.update(sb.env())
        try:
            with pytest.raises(UsageError, match="This job does not accept parameters"):
                jobs(ip, "run etl -p a=1")
            ip.run_line_magic("config", "JobsMagics.default_task_type = 'auto'")
            panel = jobs(ip, "run train -p epochs=3")
            panel.close()
            assert sb.engine.run(panel.run_id).overriding == {"python_named_params": {"epochs": "3"}}
        finally:
            ip.run_line_magic("config", "JobsMagics.default_task_type = ''")
            for name in sb.env():
                os.environ.pop(name, None)


def test_var_expansion_in_line_magics(ip: InteractiveShell) -> None:
    ip.user_ns["key"] = "report"
    ip.user_ns["count"] = 2
    result = ip.run_cell("r = %jobs runs $key -n {count}")
    assert result.success
    assert ip.user_ns["r"].key == "report" and len(ip.user_ns["r"]) == 2


def test_config_settings(ip: InteractiveShell) -> None:
    ip.run_line_magic("config", "JobsMagics.runs_limit = 4")
    try:
        assert len(jobs(ip, "runs etl")) == 4
    finally:
        ip.run_line_magic("config", "JobsMagics.runs_limit = 20")
    ip.run_line_magic("config", "JobsMagics.poll_cap = 12")
    try:
        runtime = magic(ip)._sandbox_runtime
        assert runtime is not None and runtime.hub.policy.cap == 12
        shown = jobs(ip, "config")
        assert isinstance(shown, KeyValues) and ("poll cap", "12 s") in shown.items
    finally:
        ip.run_line_magic("config", "JobsMagics.poll_cap = 30")
    with pytest.raises(Exception, match="default_task_type must be one of"):
        magic(ip).default_task_type = "fortran"
    text = repr(jobs(ip, "config"))
    assert "host" in text and magic(ip).sandbox.token not in text


def test_poll_settings_reach_a_sandbox_started_after_them(ip: InteractiveShell) -> None:
    """Finding 7: `%config JobsMagics.poll_cap=10` was not applied to the hub `%jobs sandbox start` made."""
    jobs(ip, "sandbox stop")
    ip.run_line_magic("config", "JobsMagics.poll_cap = 10")
    try:
        jobs(ip, "sandbox start --speed 100")
        runtime = magic(ip)._sandbox_runtime
        assert runtime is not None and runtime.hub.policy.cap == 10
        assert ("poll cap", "10 s") in jobs(ip, "config").items
        from jobs_widgets.core.hub import get_hub

        assert get_hub().policy.cap == 10  # the process-wide runtime follows the same setting
        ip.run_line_magic("config", "JobsMagics.poll_mode = 'background'")
        assert (
            runtime.hub.policy.mode == "background"
            and ("poll mode", "background") in jobs(ip, "config").items
        )
        with pytest.raises(Exception, match="poll_mode must be"):
            magic(ip).poll_mode = "turbo"
    finally:
        ip.run_line_magic("config", "JobsMagics.poll_cap = 30")


def test_status_measures_a_running_run_on_the_workspace_clock(ip: InteractiveShell) -> None:
    """Finding 9: "running for 0.0s" on a sped-up sandbox (the kernel's clock was used)."""
    magic(ip).sandbox.engine.script("report", duration_s=36_000)
    jobs(ip, "run report")
    time.sleep(0.6)  # 60 s of the sandbox's time at 100x
    headline = repr(jobs(ip, "status report")).splitlines()[0]
    assert "Running, running for " in headline
    elapsed = headline.rsplit("running for ", 1)[1]
    assert elapsed.endswith("s") and not elapsed.startswith("0"), headline


def test_help_documents_every_subcommand(ip: InteractiveShell) -> None:
    text = repr(jobs(ip, "help"))
    for sub in (
        "list",
        "run",
        "runs",
        "status",
        "watch",
        "cancel",
        "output",
        "repair",
        "panel",
        "board",
        "sandbox",
        "config",
    ):
        assert f"%jobs {sub}" in text
    assert "--on-interrupt" in text and "e.g." in text
    doc = ip.find_line_magic("jobs").__doc__
    assert doc is not None and "%jobs run KEY" in doc
    assert "--wait" in repr(jobs(ip, "help run"))


def complete(ip: InteractiveShell, line: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(line, len(line))]


def test_completion(ip: InteractiveShell) -> None:
    assert complete(ip, "%jobs ru") == ["run", "runs"]
    assert complete(ip, "%jobs run e") == ["etl"]
    assert complete(ip, "%jobs status E") == ["etl"]
    assert "--wait" in complete(ip, "%jobs run etl --w")
    assert complete(ip, "%jobs sandbox s") == ["start", "stop", "status", "script"]
    assert complete(ip, "%jobs sandbox script e") == ["etl"]
    assert complete(ip, "%%jobs run r") == ["report"]
    run_id = jobs(ip, "run report --wait").run.run_id
    assert str(run_id) in complete(ip, "%jobs cancel report ")


def test_sandbox_status_and_stop_restore_the_environment(ip: InteractiveShell) -> None:
    status = jobs(ip, "sandbox status")
    assert ("clock", "100x real time") in status.items
    assert "already running" in repr(jobs(ip, "sandbox start"))
    assert "stopped" in repr(jobs(ip, "sandbox stop"))
    assert "DATABRICKS_HOST" not in os.environ
    assert "not running" in repr(jobs(ip, "sandbox status"))
    jobs(ip, "sandbox start --speed 100")


def test_unload_leaves_no_threads(shell: InteractiveShell) -> None:
    baseline = {t.ident for t in threading.enumerate()}
    shell.run_line_magic("load_ext", "jobs_widgets")
    shell.run_line_magic("jobs", "sandbox start --speed 100")
    shell.run_line_magic("jobs", "run etl --wait")
    shell.run_line_magic("unload_ext", "jobs_widgets")
    with pytest.raises(UsageError):
        shell.run_line_magic("jobs", "list")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [
            t for t in threading.enumerate() if t.ident not in baseline and t.name != "jobs-widgets-prewarm"
        ]
        if not extra:
            break
        time.sleep(0.05)
    assert extra == [], extra


def _interrupt_main_when(ready: Callable[[], bool], timeout: float = 30) -> threading.Thread:
    """Ctrl-C the main thread once ``ready()`` (not after a fixed time: a slow start must not be hit)."""
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        deadline = time.monotonic() + timeout
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=fire)
    thread.start()
    return thread


@pytest.mark.parametrize("mode", ["detach", "cancel"])
def test_wait_interrupted_detaches_or_cancels(
    ip: InteractiveShell, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = magic(ip).sandbox.engine
    engine.script("report", duration_s=36_000)
    runtime = magic(ip)._sandbox_runtime
    assert runtime is not None
    hub = runtime.hub
    assert hub is not None
    firing = _interrupt_main_when(lambda: hub.watching > 0)  # the wait has begun
    result = jobs(ip, f"run report --wait --on-interrupt {mode}")
    firing.join()
    run_id = result.run.run_id
    if mode == "detach":
        assert "keeps going" in (result.note or "")
        assert not engine.run(run_id).is_terminal
    else:
        assert "cancel requested" in (result.note or "")
        deadline = time.monotonic() + 10
        while not engine.run(run_id).is_terminal and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.run(run_id).result == "CANCELED"
    assert "Interrupted" in capsys.readouterr().out


def test_wait_timeout_detaches(ip: InteractiveShell) -> None:
    magic(ip).sandbox.engine.script("report", duration_s=36_000)
    result = jobs(ip, "run report --wait --timeout 60")
    assert "Stopped watching after 60 s" in (result.note or "")
    assert not magic(ip).sandbox.engine.run(result.run.run_id).is_terminal


_WORDS = st.sampled_from(
    [
        "run",
        "runs",
        "status",
        "cancel",
        "output",
        "repair",
        "list",
        "config",
        "help",
        "watch",
        "panel",
        "sandbox",
        "etl",
        "report",
        "ETL",
        "nope",
        "-p",
        "a=1",
        "env=prod",
        "--json",
        "{}",
        "[]",
        "'",
        '"',
        "--wait",
        "--timeout",
        "0.01",
        "-n",
        "3",
        "-1",
        "99999999",
        "5001",
        "--active",
        "--on-interrupt",
        "cancel",
        "status",
        "stop",
        "$x",
        "{y}",
        "--speed",
        "0",
        "nan",
        "inf",
        "--port",
        "70000",
        "1e400",
        "9223372036854775808",
    ]
)
_LINES = st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=6).map(" ".join)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(line=_LINES)
def test_random_arguments_only_raise_usage_errors(ip: InteractiveShell, line: str) -> None:
    if "sandbox" in line and "stop" in line:
        line = line.replace("stop", "status")
    try:
        jobs(ip, line)
    except UsageError as exc:
        assert "\n" not in str(exc).strip() or str(exc).startswith("%jobs")
