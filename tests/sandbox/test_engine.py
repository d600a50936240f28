"""The simulated Jobs service on a manual clock: lifecycles, DAGs, queues, retries, repair."""

from __future__ import annotations

import time

import pytest
from jobs_widgets.core.clock import ManualClock
from jobs_widgets.sandbox import Behaviour, Engine, JobSpec, TaskSpec
from jobs_widgets.sandbox.demo import demo_jobs
from jobs_widgets.sandbox.engine import ApiError

QUICK = {"queue_s": (1.0, 1.0), "setup_s": (10.0, 10.0), "cleanup_s": (2.0, 2.0)}


def make_engine(*specs: JobSpec, seed: int = 0) -> tuple[Engine, ManualClock]:
    clock = ManualClock()
    engine = Engine(clock, seed=seed)
    for spec in specs:
        engine.add_job(spec)
    return engine, clock


def dag_job(**kw: object) -> JobSpec:
    behaviour = Behaviour(median_s=100.0, sigma=0.0001, fail_rate=0.0, **QUICK)  # type: ignore[arg-type]
    return JobSpec(
        key="dag",
        name="dag",
        tasks=[
            TaskSpec("a", "notebook", {"notebook_path": "/a"}),
            TaskSpec("b", "python_script", {"python_file": "/b.py"}, depends_on=["a"]),
            TaskSpec("c", "sql", {"warehouse_id": "w"}, depends_on=["a"]),
            TaskSpec("d", "notebook", {"notebook_path": "/d"}, depends_on=["b", "c"]),
        ],
        behaviour=behaviour,
        history_runs=0,
        **kw,  # type: ignore[arg-type]
    )


def life(engine: Engine, run_id: int) -> tuple[str, str | None]:
    state = engine.api_get_run(run_id)["state"]
    return state["life_cycle_state"], state.get("result_state")


def test_run_goes_queued_pending_running_terminating_terminated() -> None:
    engine, clock = make_engine(dag_job())
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    seen = []
    for _ in range(300):
        state = life(engine, run_id)
        if not seen or seen[-1] != state:
            seen.append(state)
        clock.advance(0.5)
    assert [s[0] for s in seen] == ["QUEUED", "PENDING", "RUNNING", "TERMINATING", "TERMINATED"]
    assert seen[-1] == ("TERMINATED", "SUCCESS")


def test_tasks_run_as_a_dag() -> None:
    engine, clock = make_engine(dag_job())
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(11.5)  # queued 1 s + pending 10 s: now running, task a started
    tasks = {t["task_key"]: t["state"]["life_cycle_state"] for t in engine.api_get_run(run_id)["tasks"]}
    assert tasks == {"a": "RUNNING", "b": "PENDING", "c": "PENDING", "d": "PENDING"}
    clock.advance(40)  # a takes 100/3 s of the 3-weight critical path
    tasks = {t["task_key"]: t["state"]["life_cycle_state"] for t in engine.api_get_run(run_id)["tasks"]}
    assert tasks == {"a": "TERMINATED", "b": "RUNNING", "c": "RUNNING", "d": "PENDING"}
    clock.advance(1000)
    run = engine.api_get_run(run_id)
    starts = {t["task_key"]: t["start_time"] for t in run["tasks"]}
    ends = {t["task_key"]: t["end_time"] for t in run["tasks"]}
    assert starts["b"] >= ends["a"] and starts["c"] >= ends["a"]
    assert starts["d"] >= max(ends["b"], ends["c"])
    assert run["run_duration"] > 0 and run["end_time"] >= ends["d"]


def test_failed_task_fails_downstream_as_upstream_failed() -> None:
    engine, clock = make_engine(dag_job())
    engine.script("dag", outcome="FAILED", fail_task="b", error="KeyError: 'sku'")
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(1000)
    run = engine.api_get_run(run_id)
    results = {t["task_key"]: t["state"]["result_state"] for t in run["tasks"]}
    assert results == {"a": "SUCCESS", "b": "FAILED", "c": "SUCCESS", "d": "UPSTREAM_FAILED"}
    assert run["state"]["result_state"] == "FAILED"
    assert "KeyError: 'sku'" in run["state"]["state_message"]
    assert run["status"] == {
        "state": "TERMINATED",
        "termination_details": {
            "code": "RUN_EXECUTION_ERROR",
            "type": "CLIENT_ERROR",
            "message": run["state"]["state_message"],
        },
    }
    b = next(t for t in run["tasks"] if t["task_key"] == "b")
    output = engine.api_get_output(b["run_id"])
    assert output["error"] == "KeyError: 'sku'"
    assert "Traceback" in output["error_trace"] and output["logs"]


def test_runs_over_max_concurrent_queue_then_start() -> None:
    engine, clock = make_engine(dag_job(max_concurrent_runs=1))
    first = engine.api_run_now({"job_id": 1001})["run_id"]
    second = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(5)
    run = engine.api_get_run(second)
    assert run["state"]["life_cycle_state"] == "QUEUED"
    assert run["status"]["queue_details"]["code"] == "MAX_CONCURRENT_RUNS_REACHED"
    assert "maximum concurrent runs of 1" in run["state"]["state_message"]
    clock.advance(200)
    assert life(engine, first) == ("TERMINATED", "SUCCESS")
    assert life(engine, second)[0] in {"PENDING", "RUNNING"}
    clock.advance(200)
    assert life(engine, second) == ("TERMINATED", "SUCCESS")


def test_runs_over_max_concurrent_are_skipped_without_queue() -> None:
    engine, _ = make_engine(dag_job(max_concurrent_runs=1, queue_enabled=False))
    engine.api_run_now({"job_id": 1001})
    second = engine.api_run_now({"job_id": 1001})["run_id"]
    run = engine.api_get_run(second)
    assert run["state"]["life_cycle_state"] == "SKIPPED"
    assert run["status"]["termination_details"]["code"] == "MAX_CONCURRENT_RUNS_EXCEEDED"


def test_retries_pass_through_waiting_for_retry() -> None:
    spec = JobSpec(
        key="flaky",
        name="flaky",
        tasks=[
            TaskSpec(
                "sync", "python_script", {"python_file": "/s.py"}, max_retries=2, min_retry_interval_s=30
            )
        ],
        behaviour=Behaviour(median_s=60, sigma=0.0001, fail_rate=0.0, flaky_rate=1.0, **QUICK),  # type: ignore[arg-type]
        history_runs=0,
    )
    engine, clock = make_engine(spec)
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    lives = []
    for _ in range(300):
        run = engine.api_get_run(run_id)
        if not lives or lives[-1] != run["state"]["life_cycle_state"]:
            lives.append(run["state"]["life_cycle_state"])
        clock.advance(1)
    assert "WAITING_FOR_RETRY" in lives
    run = engine.api_get_run(run_id)
    assert run["status"]["state"] == "TERMINATED" and run["state"]["result_state"] == "SUCCESS"
    assert run["tasks"][0]["attempt_number"] == 1


def test_cancel_goes_through_terminating_to_canceled() -> None:
    engine, clock = make_engine(dag_job())
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(20)
    engine.api_cancel_run(run_id)
    run = engine.api_get_run(run_id)
    assert run["state"]["life_cycle_state"] == "TERMINATING"
    clock.advance(5)
    run = engine.api_get_run(run_id)
    assert (run["state"]["life_cycle_state"], run["state"]["result_state"]) == ("TERMINATED", "CANCELED")
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert run["status"]["termination_details"]["code"] == "USER_CANCELED"
    assert all(t["state"]["result_state"] == "CANCELED" for t in run["tasks"])
    engine.api_cancel_run(run_id)  # cancelling a finished run is a no-op, as in the real service
    assert life(engine, run_id) == ("TERMINATED", "CANCELED")


def test_timeout_and_internal_error_outcomes() -> None:
    engine, clock = make_engine(dag_job(timeout_seconds=50))
    timed_out = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(500)
    assert life(engine, timed_out) == ("TERMINATED", "TIMEDOUT")
    engine.script("dag", outcome="INTERNAL_ERROR", fail_after_s=5)
    broken = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(500)
    run = engine.api_get_run(broken)
    assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert run["status"]["termination_details"]["code"] == "INTERNAL_ERROR"


def test_repair_reruns_failed_and_downstream_tasks() -> None:
    engine, clock = make_engine(dag_job())
    engine.script("dag", outcome="FAILED", fail_task="b")
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(1000)
    before = {t["task_key"]: t["run_id"] for t in engine.api_get_run(run_id)["tasks"]}
    with pytest.raises(ApiError) as err:
        engine.api_repair({"run_id": run_id})
    assert err.value.status == 400
    repair = engine.api_repair({"run_id": run_id, "rerun_all_failed_tasks": True})
    assert repair["repair_id"] > 0
    assert life(engine, run_id)[0] == "PENDING"
    clock.advance(1000)
    run = engine.api_get_run(run_id, include_history=True)
    after = {t["task_key"]: t["run_id"] for t in run["tasks"]}
    assert run["state"]["result_state"] == "SUCCESS"
    assert after["a"] == before["a"] and after["c"] == before["c"]
    assert after["b"] != before["b"] and after["d"] != before["d"]
    assert [r["type"] for r in run["repair_history"]] == ["ORIGINAL", "REPAIR"]
    with pytest.raises(ApiError, match="no failed tasks"):
        engine.api_repair({"run_id": run_id, "rerun_all_failed_tasks": True})


def test_repair_of_active_run_is_refused() -> None:
    engine, _ = make_engine(dag_job())
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    with pytest.raises(ApiError) as err:
        engine.api_repair({"run_id": run_id, "rerun_all_failed_tasks": True})
    assert (err.value.status, err.value.error_code) == (400, "INVALID_STATE")


def test_idempotency_token_returns_the_original_run() -> None:
    engine, _ = make_engine(dag_job(max_concurrent_runs=5))
    first = engine.api_run_now({"job_id": 1001, "idempotency_token": "abc"})
    again = engine.api_run_now({"job_id": 1001, "idempotency_token": "abc"})
    other = engine.api_run_now({"job_id": 1001, "idempotency_token": "xyz"})
    assert first == again and other["run_id"] != first["run_id"]
    assert len(engine.runs_of("dag")) == 2


def test_outcomes_depend_only_on_seed_and_run_number() -> None:
    def outcomes(seed: int, interleave: bool) -> list[tuple[str, int]]:
        specs = demo_jobs()
        engine, clock = make_engine(*specs, seed=seed)
        train = engine.job_id("train")
        for _ in range(15):
            if interleave:
                engine.api_get_run(engine.api_run_now({"job_id": engine.job_id("report")})["run_id"])
            rid = engine.api_run_now({"job_id": train})["run_id"]
            clock.advance(3600)
            engine.api_get_run(rid)
        return [(r.result or r.life, round((r.end or 0) - r.created)) for r in engine.runs_of("train")]

    assert outcomes(3, False) == outcomes(3, True)
    assert outcomes(3, False) != outcomes(4, False)


def test_history_is_drawn_from_the_jobs_behaviour() -> None:
    spec = dag_job()
    spec.history_runs = 30
    spec.behaviour = Behaviour(median_s=480, sigma=0.25, fail_rate=0.2, **QUICK)  # type: ignore[arg-type]
    engine, _ = make_engine(spec)
    page = engine.api_list_runs(
        job_id=1001,
        active_only=False,
        completed_only=True,
        limit=25,
        offset=0,
        page_token=None,
        expand_tasks=False,
        start_time_from=None,
        start_time_to=None,
        run_type=None,
    )
    runs = page["runs"]
    assert len(runs) == 25 and "next_page_token" in page
    starts = [r["start_time"] for r in runs]
    assert starts == sorted(starts, reverse=True)
    durations = sorted(
        r["execution_duration"] / 1000 for r in runs if r["state"]["result_state"] == "SUCCESS"
    )
    median = durations[len(durations) // 2]
    assert 300 < median < 700
    assert any(r["state"]["result_state"] == "FAILED" for r in runs)


def test_a_two_hour_run_completes_in_under_a_second_of_wall_time() -> None:
    spec = dag_job()
    engine, clock = make_engine(spec)
    engine.script("dag", duration_s=7200)
    started = time.perf_counter()
    run_id = engine.api_run_now({"job_id": 1001})["run_id"]
    clock.advance(7300)
    assert life(engine, run_id) == ("TERMINATED", "SUCCESS")
    assert engine.api_get_run(run_id)["execution_duration"] >= 7_200_000
    assert time.perf_counter() - started < 1.0


def test_job_parameters_are_resolved_with_defaults() -> None:
    specs = {s.key: s for s in demo_jobs()}
    engine, _ = make_engine(specs["nightly"])
    run_id = engine.api_run_now({"job_id": 1001, "job_parameters": {"env": "dev"}})["run_id"]
    params = {p["name"]: p["value"] for p in engine.api_get_run(run_id)["job_parameters"]}
    assert params == {"run_date": "{{job.start_time.iso_date}}", "env": "dev", "full_refresh": "false"}
    with pytest.raises(ApiError, match="not defined"):
        engine.api_run_now({"job_id": 1001, "job_parameters": {"nope": "1"}})
    with pytest.raises(ApiError, match="job parameters"):
        engine.api_run_now({"job_id": 1001, "notebook_params": {"a": "1"}})


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"job_id": "1001"},
        {"job_id": True},
        {"job_id": 999},
        {"job_id": 1001, "notebook_params": {"a": 1}},
        {"job_id": 1001, "python_params": "x"},
        {"job_id": 1001, "idempotency_token": "x" * 65},
        {"job_id": 1001, "only": ["nope"]},
    ],
)
def test_run_now_rejects_bad_bodies_with_invalid_parameter_value(body: dict[str, object]) -> None:
    engine, _ = make_engine(dag_job())
    with pytest.raises(ApiError) as err:
        engine.api_run_now(body)
    assert (err.value.status, err.value.error_code) == (400, "INVALID_PARAMETER_VALUE")


def test_job_specs_are_validated() -> None:
    with pytest.raises(ValueError, match="cycle"):
        JobSpec(
            name="x",
            tasks=[
                TaskSpec("a", "notebook", depends_on=["b"]),
                TaskSpec("b", "notebook", depends_on=["a"]),
            ],
        )
    with pytest.raises(ValueError, match="unknown task"):
        JobSpec(name="x", tasks=[TaskSpec("a", "notebook", depends_on=["z"])])
    with pytest.raises(ValueError, match="unknown task kind"):
        TaskSpec("a", "shell")
    with pytest.raises(ValueError, match="duplicate"):
        JobSpec(name="x", tasks=[TaskSpec("a", "notebook"), TaskSpec("a", "notebook")])


def test_demo_jobs_cover_every_task_type() -> None:
    kinds = {t.kind for spec in demo_jobs() for t in spec.tasks}
    assert kinds == {"notebook", "python_script", "python_wheel", "spark_jar", "sql", "dbt", "run_job"}
    assert any(spec.parameters for spec in demo_jobs())
    assert any(t.max_retries for spec in demo_jobs() for t in spec.tasks)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_demo_jobs_last_runs_start_at_different_times(seed: int) -> None:
    """A listing of the demo jobs shows last runs at different times, not all on one second."""
    engine, clock = make_engine(*demo_jobs(), seed=seed)
    now = clock.time()
    last_starts = []
    for key in engine.job_keys:
        history = engine.runs_of(key)
        starts = [r.created for r in history]
        assert starts == sorted(starts)  # still oldest first
        assert all(r.is_terminal and r.end is not None and r.end <= now for r in history)
        last_starts.append(int(starts[-1]))
    assert len(set(last_starts)) == len(last_starts), last_starts
    assert max(last_starts) - min(last_starts) > 60  # minutes apart, not a second
