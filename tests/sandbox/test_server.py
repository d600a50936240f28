"""The sandbox through the real databricks-sdk over loopback HTTP, and raw HTTP for bad input."""

from __future__ import annotations

import http.client
import json
import random
import time
import types
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    InvalidParameterValue,
    InvalidState,
    NotFound,
    PermissionDenied,
    ResourceDoesNotExist,
    Unauthenticated,
)
from databricks.sdk.service import jobs as sdk_jobs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jobs_widgets.core.clock import ManualClock
from jobs_widgets.sandbox import Sandbox

from tests.sandbox.conftest import clear_faults_after


def requests_to(sb: Sandbox, endpoint: str) -> list[Any]:
    return [r for r in sb.requests if r.endpoint == endpoint]


# --------------------------------------------------------------------------- run-now
@pytest.mark.parametrize(
    ("key", "kwargs", "overriding"),
    [
        ("etl", {"notebook_params": {"date": "2026-01-01"}}, {"notebook_params": {"date": "2026-01-01"}}),
        ("flaky", {"python_params": ["--full", "1"]}, {"python_params": ["--full", "1"]}),
        ("train", {"python_named_params": {"epochs": "5"}}, {"python_named_params": {"epochs": "5"}}),
        ("jar", {"jar_params": ["x"]}, {"jar_params": ["x"]}),
        ("report", {"sql_params": {"region": "apac"}}, {"sql_params": {"region": "apac"}}),
        ("dbt", {"dbt_commands": ["dbt run"]}, {"dbt_commands": ["dbt run"]}),
    ],
)
def test_run_now_with_each_parameter_field(
    manual_sandbox: Sandbox, key: str, kwargs: dict[str, Any], overriding: dict[str, Any]
) -> None:
    w = manual_sandbox.client()
    run_id = w.jobs.run_now(manual_sandbox.jobs[key], **kwargs).response.run_id
    run = w.jobs.get_run(run_id)
    assert run.job_id == manual_sandbox.jobs[key]
    assert run.overriding_parameters.as_dict() == overriding
    assert run.state.life_cycle_state == sdk_jobs.RunLifeCycleState.QUEUED
    assert run.status.state == sdk_jobs.RunLifecycleStateV2State.QUEUED


def test_run_now_with_job_parameters(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    run_id = w.jobs.run_now(manual_sandbox.jobs["nightly"], job_parameters={"env": "dev"}).response.run_id
    run = w.jobs.get_run(run_id)
    assert {p.name: p.value for p in run.job_parameters} == {
        "run_date": "{{job.start_time.iso_date}}",
        "env": "dev",
        "full_refresh": "false",
    }


def test_get_run_has_tasks_with_their_own_run_ids_and_both_state_shapes(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    run_id = w.jobs.run_now(manual_sandbox.jobs["etl"]).response.run_id
    manual_sandbox.advance(20)
    run = w.jobs.get_run(run_id)
    assert [t.task_key for t in run.tasks] == ["ingest", "transform", "publish"]
    task_ids = {t.run_id for t in run.tasks}
    assert len(task_ids) == 3 and run_id not in task_ids
    for item in [run, *run.tasks]:
        assert item.state is not None and item.state.life_cycle_state is not None
        assert item.status is not None and item.status.state is not None
    assert run.tasks[0].notebook_task.notebook_path == "/Workspace/etl/ingest"
    assert run.run_page_url.startswith(manual_sandbox.host)
    # A task run id can be looked up on its own.
    task = w.jobs.get_run(run.tasks[0].run_id)
    assert task.job_id == manual_sandbox.jobs["etl"]


def test_sdk_waiter_completes_against_the_sandbox(
    manual_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_now(...).result()``: the SDK's own waiter, its clock patched to the sandbox's."""
    clock = manual_sandbox.clock
    assert isinstance(clock, ManualClock)
    fake_time = types.SimpleNamespace(time=clock.time, sleep=clock.advance)
    monkeypatch.setattr(sdk_jobs, "time", fake_time)
    monkeypatch.setattr(sdk_jobs, "random", random.Random(0))
    w = manual_sandbox.client()
    manual_sandbox.engine.script("train", outcome="SUCCESS", duration_s=600)
    run = w.jobs.run_now(manual_sandbox.jobs["train"]).result()
    assert run.state.life_cycle_state == sdk_jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == sdk_jobs.RunResultState.SUCCESS
    assert len(requests_to(manual_sandbox, "runs/get")) > 5


def test_sdk_waiter_returns_a_cancelled_run(manual_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = manual_sandbox.clock
    assert isinstance(clock, ManualClock)
    monkeypatch.setattr(sdk_jobs, "time", types.SimpleNamespace(time=clock.time, sleep=clock.advance))
    w = manual_sandbox.client()
    run_id = w.jobs.run_now(manual_sandbox.jobs["report"]).response.run_id
    run = w.jobs.cancel_run(run_id).result()
    assert run.state.result_state == sdk_jobs.RunResultState.CANCELED


# --------------------------------------------------------------------------- runs/list
def test_list_runs_pages_with_page_tokens(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    job_id = manual_sandbox.jobs["report"]
    for _ in range(40):
        w.jobs.run_now(job_id)
    manual_sandbox.clear_requests()
    runs = list(w.jobs.list_runs(job_id=job_id, limit=10))
    assert len(runs) == 40 + 12  # 12 invented history runs
    assert len({r.run_id for r in runs}) == len(runs)
    starts = [r.start_time for r in runs]
    assert starts == sorted(starts, reverse=True)
    pages = requests_to(manual_sandbox, "runs/list")
    assert len(pages) == 6
    assert "page_token" not in pages[0].params and all("page_token" in p.params for p in pages[1:])


def test_list_runs_active_only_and_completed_only(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    job_id = manual_sandbox.jobs["etl"]
    active = {w.jobs.run_now(job_id).response.run_id for _ in range(2)}
    listed_active = {r.run_id for r in w.jobs.list_runs(job_id=job_id, active_only=True)}
    assert listed_active == active
    completed = list(w.jobs.list_runs(job_id=job_id, completed_only=True, expand_tasks=True))
    assert len(completed) == 12
    assert all(r.state.life_cycle_state == sdk_jobs.RunLifeCycleState.TERMINATED for r in completed)
    assert all(len(r.tasks) == 3 for r in completed)
    with pytest.raises(InvalidParameterValue):
        list(w.jobs.list_runs(job_id=job_id, active_only=True, completed_only=True))


def test_list_runs_limit_over_25_is_rejected(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    with pytest.raises(InvalidParameterValue, match="between 1 and 25"):
        list(w.jobs.list_runs(job_id=manual_sandbox.jobs["etl"], limit=26))


# --------------------------------------------------------------------------- cancel
def test_cancel_shows_terminating_then_canceled(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    run_id = w.jobs.run_now(manual_sandbox.jobs["etl"]).response.run_id
    manual_sandbox.advance(15)
    w.jobs.cancel_run(run_id)
    assert w.jobs.get_run(run_id).state.life_cycle_state == sdk_jobs.RunLifeCycleState.TERMINATING
    manual_sandbox.advance(10)
    run = w.jobs.get_run(run_id)
    assert run.state.life_cycle_state == sdk_jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == sdk_jobs.RunResultState.CANCELED
    assert run.status.termination_details.code == sdk_jobs.TerminationCodeCode.USER_CANCELED


def test_cancel_all_runs_of_a_job(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    ids = [w.jobs.run_now(manual_sandbox.jobs["etl"]).response.run_id for _ in range(3)]
    other = w.jobs.run_now(manual_sandbox.jobs["report"]).response.run_id
    w.jobs.cancel_all_runs(job_id=manual_sandbox.jobs["etl"])
    manual_sandbox.advance(10)
    assert all(w.jobs.get_run(i).state.result_state == sdk_jobs.RunResultState.CANCELED for i in ids)
    assert w.jobs.get_run(other).state.result_state is None


# --------------------------------------------------------------------------- output
def test_get_run_output_single_task_multi_task_and_task_run_ids(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    sb = manual_sandbox
    sb.engine.script("train", outcome="FAILED", error="ConvergenceError: nope")
    train = w.jobs.run_now(sb.jobs["train"]).response.run_id
    etl = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    sb.advance(3600)
    single = w.jobs.get_run_output(train)
    assert single.error == "ConvergenceError: nope"
    assert "ConvergenceError" in single.error_trace
    assert single.metadata.run_id == train
    with pytest.raises(InvalidParameterValue, match="multiple tasks"):
        w.jobs.get_run_output(etl)
    for task in w.jobs.get_run(etl).tasks:
        out = w.jobs.get_run_output(task.run_id)
        assert json.loads(out.notebook_output.result)["task"] == task.task_key


def test_unknown_ids_are_databricks_errors(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    with pytest.raises(ResourceDoesNotExist, match="Run 424242 does not exist"):
        w.jobs.get_run(424242)
    with pytest.raises(ResourceDoesNotExist, match="Job 999 does not exist"):
        w.jobs.get(999)
    with pytest.raises(InvalidParameterValue, match="Job 999 does not exist"):
        w.jobs.run_now(999)
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        w.jobs.cancel_run(424242)


# --------------------------------------------------------------------------- jobs
def test_get_and_list_jobs(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    job = w.jobs.get(manual_sandbox.jobs["etl"])
    assert job.settings.name == "orders-etl"
    assert [t.task_key for t in job.settings.tasks] == ["ingest", "transform", "publish"]
    assert job.settings.tasks[1].depends_on[0].task_key == "ingest"
    nightly = w.jobs.get(manual_sandbox.jobs["nightly"])
    assert [p.name for p in nightly.settings.parameters] == ["run_date", "env", "full_refresh"]
    jobs = list(w.jobs.list(limit=3))
    assert sorted(j.job_id for j in jobs) == sorted(manual_sandbox.jobs.values())


# --------------------------------------------------------------------------- repair
def test_repair_through_the_sdk(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    sb = manual_sandbox
    sb.engine.script("etl", outcome="FAILED", fail_task="transform")
    run_id = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    sb.advance(3600)
    assert w.jobs.get_run(run_id).state.result_state == sdk_jobs.RunResultState.FAILED
    repair = w.jobs.repair_run(run_id, rerun_all_failed_tasks=True)
    assert repair.response.repair_id
    sb.advance(3600)
    assert not w.jobs.get_run(run_id).repair_history  # only with include_history, as a workspace answers
    run = w.jobs.get_run(run_id, include_history=True)
    assert run.state.result_state == sdk_jobs.RunResultState.SUCCESS
    assert len(run.repair_history) == 2
    with pytest.raises(InvalidParameterValue):
        w.jobs.repair_run(run_id, rerun_all_failed_tasks=True)
    active = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    with pytest.raises(InvalidState):
        w.jobs.repair_run(active, rerun_all_failed_tasks=True)


# --------------------------------------------------------------------------- idempotency
def test_idempotency_token_returns_the_same_run(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    job_id = manual_sandbox.jobs["etl"]
    first = w.jobs.run_now(job_id, idempotency_token="tok-1").response.run_id
    second = w.jobs.run_now(job_id, idempotency_token="tok-1").response.run_id
    assert first == second
    assert len([r for r in manual_sandbox.engine.runs_of("etl") if r.token == "tok-1"]) == 1


# --------------------------------------------------------------------------- faults
def test_429_with_retry_after_is_retried_by_the_sdk(manual_sandbox: Sandbox) -> None:
    sb = manual_sandbox
    sb.faults.add("runs/get:429:1:7")
    w = sb.client(instant_retries=True, retry_timeout_seconds=30)
    run_id = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    clear_faults_after(sb, "runs/get", 2)  # the way a rate limit lifts
    assert w.jobs.get_run(run_id).run_id == run_id
    statuses = [r.status for r in requests_to(sb, "runs/get")]
    assert statuses == [429, 429, 200]
    assert w.config.clock.time() >= 14  # the SDK slept Retry-After (7 s) twice, in its own clock


def test_503_is_retried_and_a_dropped_connection_survived(manual_sandbox: Sandbox) -> None:
    sb = manual_sandbox
    w = sb.client(instant_retries=True)
    rule = sb.faults.add("runs/get:503:1")
    run_id = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    clear_faults_after(sb, "runs/get")
    assert w.jobs.get_run(run_id).run_id == run_id
    assert [r.status for r in requests_to(sb, "runs/get")] == [503, 200]
    assert rule.kind == "503"

    # A dropped connection after run-now did its work: the SDK retries with the same
    # idempotency token and gets the same run; no duplicate run is started.
    sb.faults.add("run-now:drop:1")
    before = len(sb.engine.runs_of("report"))
    clear_faults_after(sb, "run-now")
    run = w.jobs.run_now(sb.jobs["report"], idempotency_token="drop-1").response.run_id
    assert len(sb.engine.runs_of("report")) == before + 1
    assert [r.status for r in requests_to(sb, "run-now")][-2:] == [0, 200]
    assert sb.engine.run(run).token == "drop-1"


def test_fault_injection_is_deterministic_under_a_seed() -> None:
    def pattern(seed: int) -> list[str | None]:
        with Sandbox(manual=True, seed=seed, faults=["*:503:0.3"]) as sb:
            for _ in range(40):
                sb.faults.decide("runs/get")
            return [str(sb.faults.decide("runs/get")) for _ in range(20)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)


def test_an_endpoints_faults_do_not_depend_on_other_endpoints_traffic() -> None:
    """16 threads interleave differently every time; run-now must still meet the same faults."""

    def run_now_faults(other_requests_between: int) -> list[str | None]:
        with Sandbox(manual=True, seed=3, faults=["*:drop:0.2", "runs/get:503:0.3"]) as sb:
            seen = []
            for _ in range(30):
                for _ in range(other_requests_between):
                    sb.faults.decide("runs/get")
                rule = sb.faults.decide("run-now")
                seen.append(rule.kind if rule else None)
            return seen

    alone = run_now_faults(0)
    assert "drop" in alone and None in alone
    assert run_now_faults(1) == alone == run_now_faults(5)


def test_latency_fault_delays_the_answer(manual_sandbox: Sandbox) -> None:
    manual_sandbox.faults.add("get:latency:1:0.3")
    w = manual_sandbox.client()
    started = time.perf_counter()
    w.jobs.get(manual_sandbox.jobs["etl"])
    assert time.perf_counter() - started >= 0.3


# --------------------------------------------------------------------------- auth
def test_auth_no_token_401_wrong_token_403_missing_scope_403(manual_sandbox: Sandbox) -> None:
    sb = manual_sandbox
    status, body = raw(sb, "GET", "/api/2.2/jobs/list", token=None)
    assert status == 401 and body["error_code"] == "UNAUTHENTICATED"
    wrong = sb.client(token="dapi" + "0" * 32)
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        wrong.jobs.get(sb.jobs["etl"])
    scoped = sb.client(token=sb.add_user("app", jobs_scope=False))
    with pytest.raises(PermissionDenied, match="required scopes: jobs"):
        scoped.jobs.get(sb.jobs["etl"])
    limited = sb.client(token=sb.add_user("bob", can_run=["report"]))
    limited.jobs.run_now(sb.jobs["report"])
    with pytest.raises(PermissionDenied, match="Manage Run"):
        limited.jobs.run_now(sb.jobs["etl"])
    assert isinstance(Unauthenticated("x"), Exception)


def test_both_api_versions_and_the_metadata_endpoint(manual_sandbox: Sandbox) -> None:
    for version in ("2.1", "2.2"):
        status, body = raw(
            manual_sandbox, "GET", f"/api/{version}/jobs/get?job_id={manual_sandbox.jobs['etl']}"
        )
        assert status == 200 and body["settings"]["name"] == "orders-etl"
    status, body = raw(manual_sandbox, "GET", "/.well-known/databricks-config", token=None)
    assert (status, body) == (200, {})


# --------------------------------------------------------------------------- bad input
def raw(
    sb: Sandbox,
    method: str,
    path: str,
    body: bytes | None = None,
    token: str | None = "default",
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    hdrs = dict(headers or {})
    if token == "default":
        token = sb.token
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/api/2.2/jobs/run-now", b"{not json", 400, "MALFORMED_REQUEST"),
        ("POST", "/api/2.2/jobs/run-now", b"[1, 2]", 400, "MALFORMED_REQUEST"),
        ("POST", "/api/2.2/jobs/run-now", b'{"job_id": "abc"}', 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/api/2.2/jobs/run-now", b'{"job_id": 1.5}', 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/api/2.2/jobs/run-now", b"\xff\xfe", 400, "MALFORMED_REQUEST"),
        ("GET", "/api/2.2/jobs/runs/get?run_id=abc", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/get", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/get?run_id=777777", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/list?limit=26", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/list?limit=0", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/list?active_only=maybe", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/list?page_token=%%%", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/get?job_id=-1", None, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/api/2.2/jobs/runs/cancel", b'{"run_id": null}', 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/api/2.2/jobs/runs/repair", b'{"run_id": 1}', 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/runs/get-output?run_id=1", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.2/jobs/nope", None, 404, "ENDPOINT_NOT_FOUND"),
        ("DELETE", "/api/2.2/jobs/runs/get", None, 404, "ENDPOINT_NOT_FOUND"),
        ("GET", "/api/2.0/jobs/list", None, 404, "ENDPOINT_NOT_FOUND"),
    ],
)
def test_bad_input_gets_databricks_shaped_errors(
    manual_sandbox: Sandbox, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    got_status, got = raw(manual_sandbox, method, path, body)
    assert got_status == status
    assert set(got) == {"error_code", "message"} and got["error_code"] == code
    assert "Traceback" not in got["message"]


def test_oversized_and_truncated_bodies_do_not_hang(manual_sandbox: Sandbox) -> None:
    status, body = raw(
        manual_sandbox, "POST", "/api/2.2/jobs/run-now", b"{}", headers={"Content-Length": "99999999"}
    )
    assert status == 400 and body["error_code"] == "MALFORMED_REQUEST"
    # Still serving normal requests afterwards.
    assert raw(manual_sandbox, "GET", "/api/2.2/jobs/list")[0] == 200


_ENDPOINTS = [
    "run-now",
    "runs/get",
    "runs/list",
    "runs/cancel",
    "runs/cancel-all",
    "runs/get-output",
    "runs/repair",
    "get",
    "list",
]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_bodies = st.one_of(
    st.binary(max_size=200),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(
            [
                "job_id",
                "run_id",
                "limit",
                "notebook_params",
                "idempotency_token",
                "rerun_all_failed_tasks",
                "job_parameters",
                "only",
            ]
        ),
        _json_values,
        max_size=5,
    ).map(lambda v: json.dumps(v).encode()),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    endpoint=st.sampled_from(_ENDPOINTS),
    query=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#"), max_size=40
    ),
    body=_bodies,
)
def test_random_requests_get_json_answers_and_the_server_keeps_serving(
    manual_sandbox: Sandbox, method: str, endpoint: str, query: str, body: bytes
) -> None:
    status, answer = raw(manual_sandbox, method, f"/api/2.2/jobs/{endpoint}?{query}", body)
    assert isinstance(answer, dict)
    if status != 200:
        assert 400 <= status < 500, answer
        assert set(answer) == {"error_code", "message"}
    assert raw(manual_sandbox, "GET", "/api/2.2/jobs/list")[0] == 200


def test_clients_are_isolated_from_user_configuration(
    manual_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    cfg = tmp_path / ".databrickscfg"
    cfg.write_text("[DEFAULT]\nhost = https://real.cloud.databricks.com\ntoken = dapiREAL\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "DEFAULT")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "x")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "y")
    monkeypatch.setenv("DATABRICKS_HOST", "https://real.cloud.databricks.com")
    w = manual_sandbox.client()
    assert isinstance(w, WorkspaceClient)
    assert w.config.host == manual_sandbox.host and w.config.auth_type == "pat"
    assert w.jobs.get(manual_sandbox.jobs["etl"]).job_id == manual_sandbox.jobs["etl"]
    assert isinstance(NotFound("x"), Exception)
