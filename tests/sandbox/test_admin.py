"""Scripting a sandbox from another process: /api/sandbox/... and RemoteSandbox, over real HTTP."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import DatabricksError
from jobs_widgets.sandbox import RemoteSandbox, Sandbox
from jobs_widgets.sandbox.remote import SandboxUnreachableError


def remote(sb: Sandbox, token: str | None = None) -> RemoteSandbox:
    return RemoteSandbox(sb.host, token or sb.token)


def test_the_readme_scripting_works_through_a_remote_sandbox(manual_sandbox: Sandbox) -> None:
    sb, w = remote(manual_sandbox), manual_sandbox.client()
    sb.engine.script("etl", outcome="FAILED", fail_task="transform")
    run_id = w.jobs.run_now(manual_sandbox.jobs["etl"]).response.run_id
    manual_sandbox.advance(3600)
    run = w.jobs.get_run(run_id)
    assert run.state.result_state.value == "FAILED"
    assert {t.task_key: t.state.result_state.value for t in run.tasks}["transform"] == "FAILED"

    assert sb.faults.add("runs/get:404:1").kind == "404"
    assert [r.spec() for r in manual_sandbox.faults.rules] == ["runs/get:404:1"]
    with pytest.raises(DatabricksError):
        w.jobs.get_run(run_id)
    assert [r.spec() for r in sb.faults.rules] == ["runs/get:404:1"]
    sb.faults.clear()
    assert manual_sandbox.faults.rules == []
    assert w.jobs.get_run(run_id).run_id == run_id


def test_a_fault_storm_can_always_be_cleared_and_scripting_is_not_an_api_request(
    manual_sandbox: Sandbox,
) -> None:
    sb = remote(manual_sandbox)
    sb.faults.add("*:503:1")
    sb.faults.add("*:hang:1")
    manual_sandbox.clear_requests()
    status = sb.status()
    assert status["faults"] == ["*:503:1", "*:hang:1"] and status["jobs"] == manual_sandbox.jobs
    assert status["speed"] == 0.0 and status["seed"] == 0  # a manual clock
    sb.faults.clear()
    assert manual_sandbox.requests == []  # not in the Jobs API request log
    assert sb.jobs == manual_sandbox.jobs


def test_bad_scripts_and_rules_are_refused_with_the_reason(manual_sandbox: Sandbox) -> None:
    sb = remote(manual_sandbox)
    with pytest.raises(ValueError, match="unknown fault kind 'teapot'"):
        sb.faults.add("runs/get:teapot")
    with pytest.raises(ValueError, match="unknown fault kind 'teapot'"):
        sb.call("POST", "faults", {"add": ["runs/get:503", "runs/get:teapot"]})
    assert manual_sandbox.faults.rules == []  # nothing half-applied
    with pytest.raises(ValueError, match=r"The sandbox has no job 'nope'; its jobs: etl, train"):
        sb.engine.script("nope", outcome="FAILED")
    with pytest.raises(ValueError, match="outcome must be one of FAILED, INTERNAL_ERROR, SUCCESS, TIMEDOUT"):
        sb.engine.script("etl", outcome="MAYBE")
    with pytest.raises(ValueError, match="unknown script field 'colour'"):
        sb.engine.script("etl", colour="red")
    with pytest.raises(ValueError, match="duration_s must be a number of seconds"):
        sb.engine.script("etl", duration_s="soon")
    with pytest.raises(ValueError, match="Job 'etl' has no task 'nope'"):
        sb.engine.script("etl", fail_task="nope")
    sb.engine.script("etl", outcome="failed", duration_s="60", times=2)  # words, as a magic sends them
    sb.engine.clear_scripts("etl")


def test_only_the_sandbox_own_token_may_script_it(manual_sandbox: Sandbox) -> None:
    other = manual_sandbox.add_user("someone@example.com")
    with pytest.raises(PermissionError, match="Only the sandbox's own token may script it"):
        remote(manual_sandbox, other).faults.add("runs/get:503:1")
    with pytest.raises(PermissionError, match="Invalid access token"):
        remote(manual_sandbox, "dapi-not-a-token").status()
    assert manual_sandbox.faults.rules == []
    assert "dapi" not in repr(remote(manual_sandbox))


def test_a_stopped_sandbox_is_reported_as_unreachable() -> None:
    sb = Sandbox(manual=True)
    host, token = sb.start().host, sb.token
    sb.stop()
    with pytest.raises(SandboxUnreachableError, match=f"cannot reach the sandbox at {host}"):
        RemoteSandbox(host, token).status()
    with pytest.raises(ValueError, match="starts with http"):
        RemoteSandbox("file:///etc/passwd", token)
