"""JobHandle against the sandbox through the real SDK: reads, writes, waiting and errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time

import pytest
from jobs_widgets.core import (
    Jobs,
    JobsApiError,
    JobsError,
    ParamsError,
    RunScopeError,
    RunState,
    WaitTimeoutError,
)
from jobs_widgets.core.sdk import default_client

from tests.core.conftest import World

# Runs in these tests last ~11 virtual days: virtual time runs freely while the test thread
# takes its wall-clock steps, so a shorter run could end first on a slow machine.
LONG_S = 10**6


def test_run_now_always_sends_an_idempotency_token(world: World) -> None:
    world.jobs("report").run_now()
    world.jobs("report").run_now(idempotency_token="mine-1")
    tokens = [r.params.get("idempotency_token") for r in world.sb.requests if r.endpoint == "run-now"]
    assert len(tokens) == 2 and all(tokens) and tokens[1] == "mine-1"
    assert len(set(tokens)) == 2


def test_run_now_retried_through_drops_starts_one_run(world: World) -> None:
    world.sb.faults.add("run-now:drop:0.5")
    before = len(world.sb.engine.runs_of("report"))
    ids = {world.jobs("report").run_now() for _ in range(10)}
    assert len(ids) == 10
    assert len(world.sb.engine.runs_of("report")) == before + 10


def test_get_run_output_of_a_multi_task_run_is_per_task(world: World) -> None:
    world.sb.engine.script("etl", outcome="FAILED", fail_task="transform", error="ValueError: bad row 7")
    etl = world.jobs("etl")
    final = list(etl.run_and_wait({"env": "dev"}))[-1]
    assert final.state is RunState.FAILED
    output = etl.get_run_output(final.run_id)
    assert [t.task_key for t in output.tasks] == ["ingest", "transform", "publish"]
    assert json.loads(output.task("ingest").notebook_result or "{}")["task"] == "ingest"
    assert output.error == "ValueError: bad row 7"
    assert "Traceback" in (output.task("transform").error_trace or "")
    assert output.task("publish").state is RunState.SKIPPED


def test_single_task_output_and_repair(world: World) -> None:
    world.sb.engine.script("train", outcome="FAILED", error="ConvergenceError: nope")
    train = world.jobs("train")
    final = list(train.run_and_wait())[-1]
    assert train.get_run_output(final.run_id).error == "ConvergenceError: nope"
    repair_id = train.repair_run(final.run_id)
    assert repair_id > 0
    repaired = list(train.watch(final.run_id))[-1]
    assert repaired.state is RunState.SUCCEEDED
    world.sb.engine.script("train", outcome="FAILED")
    again = list(train.run_and_wait())[-1]
    train.repair_run(again.run_id)
    world.sb.advance(5)
    with pytest.raises(JobsApiError) as err:
        train.repair_run(again.run_id)  # still running: the service refuses
    assert err.value.status_code == 400


def test_cancel_run_and_watch_it_end(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    report = world.jobs("report")
    run_id = report.run_now()
    report.cancel_run(run_id)
    states = [u.state for u in report.watch(run_id)]
    assert states[-1] is RunState.CANCELED


def test_list_runs_active_only_and_last_run(world: World) -> None:
    report = world.jobs("report")
    assert report.list_runs(active_only=True) == []
    run_id = report.run_now()
    assert [r.run_id for r in report.list_runs(active_only=True)] == [run_id]
    last = report.last_run()
    assert last is not None and last.run_id == run_id
    with pytest.raises(ParamsError, match="limit"):
        report.list_runs(0)


def test_get_job(world: World) -> None:
    job = world.jobs("nightly").get_job()
    assert job.name == "nightly-refresh"
    assert [p.name for p in job.parameters] == ["run_date", "env", "full_refresh"]
    assert job.task_types == ("notebook", "python_script", "run_job")
    calls = len([r for r in world.sb.requests if r.endpoint == "get"])
    world.jobs("nightly").get_job()
    assert len([r for r in world.sb.requests if r.endpoint == "get"]) == calls  # cached


def test_reads_are_cached_briefly_per_identity(still_world: World) -> None:
    report = still_world.jobs("report")
    report.list_runs(5)
    report.list_runs(5)
    assert len([r for r in still_world.sb.requests if r.endpoint == "runs/list"]) == 1
    still_world.clock.advance(3)
    report.list_runs(5)
    assert len([r for r in still_world.sb.requests if r.endpoint == "runs/list"]) == 2


def test_cancel_event_ends_the_wait_promptly_mid_sleep(still_world: World) -> None:
    still_world.sb.engine.script("report", duration_s=3600)
    cancel = threading.Event()
    watch = still_world.jobs("report").run_and_wait(cancel=cancel)
    assert next(watch).state in {RunState.QUEUED, RunState.PENDING}
    assert still_world.hub.wait_idle(5)  # the hub is asleep until the next poll
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.extend(watch))
    thread.start()
    time.sleep(0.1)
    started = time.perf_counter()
    cancel.set()
    thread.join(5)
    # the hub's next poll is far away in (frozen) virtual time: only the event can end it
    assert not thread.is_alive() and time.perf_counter() - started < 3.0
    assert results == []
    assert still_world.hub.wait_idle(5) and still_world.hub.watching == 0


def test_closing_a_watch_with_on_abort_cancel_cancels_the_run(world: World) -> None:
    world.sb.engine.script("report", duration_s=LONG_S)
    with world.jobs("report").run_and_wait(on_abort="cancel") as watch:
        next(watch)
    world.sb.advance(30)
    assert world.sb.engine.run(watch.run_id).result == "CANCELED"
    with pytest.raises(ParamsError, match="on_abort"):
        world.jobs("report").run_and_wait(on_abort="explode")


def test_transient_errors_degrade_but_never_fail_the_wait(world: World) -> None:
    world.sb.engine.script("report", duration_s=600)
    world.sb.faults.add("runs/get:500:0.4")  # the SDK does not retry these; the hub does
    final = list(world.jobs("report").run_and_wait())[-1]
    assert final.state is RunState.SUCCEEDED
    assert world.hub.stats.degraded_periods >= 1 and world.hub.stats.recoveries >= 1


def test_a_run_that_disappears_ends_the_wait_with_the_error(world: World) -> None:
    world.sb.engine.script("report", duration_s=LONG_S)
    report = world.jobs("report")
    watch = report.run_and_wait()
    next(watch)
    world.sb.faults.add("runs/get:404:1")  # not worth retrying: the wait ends with it
    with pytest.raises(JobsApiError) as err:
        list(watch)
    assert err.value.status_code == 404


def test_keyboard_interrupt_with_on_abort_cancel(world: World) -> None:
    """Ctrl-C while the wait blocks between updates (a real SIGINT-style interrupt of the main thread)."""
    world.sb.engine.script("report", duration_s=LONG_S)
    watch = world.jobs("report").run_and_wait(on_abort="cancel")
    while next(watch).state is not RunState.RUNNING:
        pass
    world.driver.pause()  # nothing more happens: the wait blocks until interrupted
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            next(watch)  # blocks: the run stays RUNNING for LONG_S
    finally:
        timer.cancel()
    world.driver.resume()
    world.sb.advance(30)
    assert world.sb.engine.run(watch.run_id).result == "CANCELED"


def test_async_twins(world: World) -> None:
    world.sb.engine.script("report", duration_s=300)
    report = world.jobs("report")

    async def main() -> tuple[list[RunState], list[RunState]]:
        states = [u.state async for u in report.arun_and_wait({"region": "apac"})]
        run_id = report.run_now()
        watched = [u.state async for u in report.awatch(run_id)]
        return states, watched

    states, watched = asyncio.run(main())
    assert states[-1] is RunState.SUCCEEDED and watched[-1].is_terminal


def test_async_cancel_event_and_timeout(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600, times=3)
    report = world.jobs("report")

    async def cancelled() -> int:
        cancel = asyncio.Event()
        count = 0
        async for _ in report.arun_and_wait(cancel=cancel):
            count += 1
            cancel.set()
        return count

    assert asyncio.run(cancelled()) == 1

    async def timed_out() -> None:
        async for _ in report.arun_and_wait(timeout=60, on_abort="cancel"):
            pass

    with pytest.raises(WaitTimeoutError):
        asyncio.run(timed_out())


def test_scope_error_for_async_watch(world: World) -> None:
    run_id = world.jobs("train").run_now()

    async def main() -> None:
        async for _ in world.jobs("etl").awatch(run_id):
            pass

    with pytest.raises(RunScopeError):
        asyncio.run(main())


def test_unknown_job_id_has_a_hint_naming_the_variable(world: World) -> None:
    jobs = Jobs.from_env(client=world.sb.client(), env={"DATABRICKS_JOB_GONE": "424242"}, hub=world.hub)
    with pytest.raises(JobsApiError, match="check DATABRICKS_JOB_GONE") as err:
        jobs("gone").get_job()
    assert "\n" not in str(err.value)
    with pytest.raises(JobsApiError, match="check DATABRICKS_JOB_GONE"):
        jobs("gone").run_now()


def test_wrong_token_and_missing_scope_have_hints(world: World) -> None:
    bad = Jobs.from_env(client=world.sb.client(token="dapi" + "1" * 32), env=world.sb.env(), hub=world.hub)
    with pytest.raises(JobsApiError, match="invalid or expired") as err:
        bad("etl").get_job()
    assert "1111111111" not in str(err.value) and "Config:" not in str(err.value)
    scoped = Jobs.from_env(
        client=world.sb.client(token=world.sb.add_user("app", jobs_scope=False)),
        env=world.sb.env(),
        hub=world.hub,
    )
    with pytest.raises(JobsApiError, match="jobs' API scope"):
        scoped("etl").list_runs()


def test_unreachable_host_fails_fast_with_a_clear_message() -> None:
    started = time.perf_counter()
    jobs = Jobs.from_env(
        env={"DATABRICKS_HOST": "http://127.0.0.1:9", "DATABRICKS_TOKEN": "dapi-x", "DATABRICKS_JOB_ETL": "1"}
    )
    with pytest.raises(JobsApiError, match="check DATABRICKS_HOST"):
        jobs("etl").get_job()
    assert time.perf_counter() - started < 10


def test_no_credentials_is_one_clear_error() -> None:
    with pytest.raises(JobsError, match="cannot set up Databricks credentials"):
        default_client(env={})
