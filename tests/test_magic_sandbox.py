"""``%jobs sandbox``: --fault, fault, script, and --speed next to a sandbox the kernel was started with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jobs_widgets.sandbox import RemoteSandbox, Sandbox


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    """A shell with %jobs loaded and no sandbox yet; unloaded afterwards (which stops its sandbox)."""
    shell = InteractiveShell.instance()
    shell.config.pop("JobsMagics", None)
    shell.run_line_magic("load_ext", "jobs_widgets")
    yield shell
    shell.run_line_magic("unload_ext", "jobs_widgets")


@pytest.fixture
def demo_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox "of another process" (the demo's), and a kernel environment that names it."""
    with Sandbox(speed=100, seed=1) as sb:
        for name, value in sb.attach_env().items():
            monkeypatch.setenv(name, value)
        yield sb


def jobs(ip: InteractiveShell, line: str) -> Any:
    return ip.run_line_magic("jobs", line)


def item(info: Any, name: str) -> str:
    return dict(info.items)[name]


def test_start_with_faults_and_scripted_runs_in_process(ip: InteractiveShell) -> None:
    info = jobs(ip, "sandbox start --speed 100 --fault runs/get:404:0 --fault '*:429:0:2'")
    assert isinstance(info.sandbox, Sandbox)
    assert item(info, "faults") == "runs/get:404:0, *:429:0:2"
    assert [r.spec() for r in info.sandbox.faults.rules] == ["runs/get:404:0", "*:429:0:2"]

    said = jobs(ip, "sandbox script train outcome=failed fail_task=train_model duration_s=30")
    assert repr(said) == "The next run of train: outcome=FAILED, fail_task=train_model, duration_s=30."
    assert jobs(ip, "run train --wait").state.label == "Failed"
    assert jobs(ip, "run train -p learning_rate=0.01 --wait").state.label == "Succeeded"  # only the next

    assert item(jobs(ip, "sandbox fault runs/list:503:0.5"), "faults") == (
        "runs/get:404:0, *:429:0:2, runs/list:503:0.5"
    )
    assert item(jobs(ip, "sandbox fault --clear"), "faults") == "none"
    assert info.sandbox.faults.rules == []


def test_start_with_the_run_model_jobs(ip: InteractiveShell) -> None:
    """``--run-model``: the jobs of today's run model are configured in this kernel too."""
    info = jobs(ip, "sandbox start --speed 100 --run-model")
    assert isinstance(info.sandbox, Sandbox)
    listed = {row.key for row in jobs(ip, "list").rows}
    assert {"etl", "fanout", "gate", "guarded", "refresh", "parent", "wide", "slow", "single"} <= listed
    done = jobs(ip, "run gate --wait")
    assert done.run.state.is_terminal
    assert "--run-model" in repr(jobs(ip, "help sandbox"))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("sandbox start --fault runs/get:teapot", "unknown fault kind 'teapot'"),
        ("sandbox fault runs/get:503", "the sandbox is not running: %jobs sandbox start"),
        ("sandbox script etl outcome=FAILED", "the sandbox is not running"),
        ("sandbox start now", "%jobs sandbox start takes no 'now'"),
    ],
)
def test_bad_sandbox_lines_are_one_line_errors(ip: InteractiveShell, line: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        jobs(ip, line)
    assert "DATABRICKS_HOST" not in os.environ  # nothing started


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("sandbox script nope outcome=FAILED", "the sandbox has no job 'nope'; its jobs: etl, train"),
        ("sandbox script etl colour=red", "unknown script field 'colour'"),
        ("sandbox script etl outcome", "expected FIELD=VALUE, got 'outcome'"),
        ("sandbox script etl", "what should the run do?"),
        ("sandbox script etl outcome=MAYBE", "outcome must be one of FAILED, INTERNAL_ERROR"),
        ("sandbox script etl fail_task=nope", "the job has no task 'nope'"),
        ("sandbox script etl outcome=FAILED --times 0", "--times must be from 1 to 1000"),
        ("sandbox fault '*:teapot'", "unknown fault kind 'teapot'"),
    ],
)
def test_bad_scripts_and_rules_say_what_is_wrong(ip: InteractiveShell, line: str, says: str) -> None:
    jobs(ip, "sandbox start --speed 100")
    with pytest.raises(UsageError, match=says):
        jobs(ip, line)


def test_the_demo_sandbox_is_scripted_from_the_kernel(ip: InteractiveShell, demo_sandbox: Sandbox) -> None:
    info = jobs(ip, "sandbox start --fault runs/get:503:0.2")
    assert info.items[0] == ("host", f"{demo_sandbox.host} (started outside this kernel)")
    assert repr(info).startswith("Using the sandbox this kernel was started with")
    assert isinstance(info.sandbox, RemoteSandbox)
    assert [r.spec() for r in demo_sandbox.faults.rules] == ["runs/get:503:0.2"]
    assert item(info, "faults") == "runs/get:503:0.2"

    jobs(ip, "sandbox script report run_name=scripted-from-the-kernel")
    run = jobs(ip, "run report --wait").run
    assert demo_sandbox.engine.run(run.run_id).run_name == "scripted-from-the-kernel"

    info.sandbox.engine.script("etl", outcome="FAILED", fail_task="transform")  # the README's lines
    assert jobs(ip, "run etl --wait").state.label == "Failed"
    jobs(ip, "sandbox fault --clear")
    assert demo_sandbox.faults.rules == []


def test_speed_next_to_the_demo_sandbox_says_it_starts_a_private_one(
    ip: InteractiveShell, demo_sandbox: Sandbox
) -> None:
    info = jobs(ip, "sandbox start --speed 50")
    assert repr(info).startswith(
        "Started a private sandbox at 50x (--speed); this kernel no longer uses the one it was started "
        f"with ({demo_sandbox.host}), which keeps running"
    )
    assert isinstance(info.sandbox, Sandbox) and info.sandbox.host != demo_sandbox.host
    assert os.environ["DATABRICKS_HOST"] == info.sandbox.host
    again = jobs(ip, "sandbox start --speed 10 --fault runs/get:404:0")
    assert repr(again).startswith(
        "Sandbox already running; added 1 fault rule; --speed 10 not applied "
        "(%jobs sandbox stop, then start, to change it)"
    )
    jobs(ip, "sandbox stop")
    assert os.environ["DATABRICKS_HOST"] == demo_sandbox.host  # restored
    assert repr(jobs(ip, "sandbox start")).startswith("Using the sandbox this kernel was started with")
