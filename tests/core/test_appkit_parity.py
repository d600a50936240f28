"""The AppKit jobs plugin's tests, ported to the Python core, plus its known gaps, fixed.

Each ported test names the AppKit test it mirrors (numbers from
``reference/appkit-jobs-plugin.md`` section 7). Everything that talks to a workspace
runs against the sandbox through the real databricks-sdk (no mocks); AppKit's mocks
of the SDK become assertions on the sandbox's request log.

=====  ==========================================================  =====================================
AppKit test (number, line)                                          here
=====  ==========================================================  =====================================
3  L99     discovers jobs from DATABRICKS_JOB_*                      test_03_discovers_named_env_jobs
4  L110    single-job DATABRICKS_JOB_ID -> "default"                 test_04_single_job_shorthand
5  L118    DATABRICKS_JOB_ID ignored when named jobs exist           test_05_job_id_ignored_with_named_jobs
6  L127    DATABRICKS_JOB_ID ignored with explicit config            test_06_job_id_ignored_with_explicit_config
7  L137    explicit config wins over env                             test_07_explicit_config_wins
8  L150    bare DATABRICKS_JOB_ skipped                              test_08_bare_prefix_skipped
9  L160    empty values skipped                                      test_09_empty_values_skipped
10 L170    suffix lower-cased                                        test_10_suffix_lower_cased
11 L180    only explicit jobs when no env matches                    test_11_only_explicit_jobs
16 L236    exports() is callable                                     test_16_jobs_is_callable
17 L245    handle has every method                                   test_17_handle_has_every_method
18 L263    unknown key throws                                        test_18_unknown_key
19 L272    DATABRICKS_JOB_ID=789 -> handle "default"                 test_19_default_handle
20 L285    runNow sends the configured job_id                        test_20_run_now_sends_configured_job_id
21 L302    no taskType: run-now fields pass through                  test_21_pass_through_without_task_type
22 L326    schema rejects bad params                                 test_22_schema_rejects
23 L344    notebook + schema -> notebook_params                      test_23_notebook_with_schema
24 L370    no schema: params accepted                                test_24_no_schema_accepts_run_now_fields
27 L434    listRuns limit clamped                                    test_27_list_runs_pages_of_at_most_25
29 L473    runAndWait yields RUNNING then TERMINATED                 test_29_run_and_wait_yields_states_in_order
35 L587    upstream status preserved                                 test_35_upstream_status_preserved
37 L623    getRun of another job -> 404                              test_37_get_run_out_of_scope
38 L636    getRunOutput of another job: output API never called      test_38_get_run_output_out_of_scope
39 L652    cancelRun of another job: cancel never called             test_39_cancel_run_out_of_scope
40 L667    matching job_id ok                                        test_40_in_scope_run
42 L713    abort after first yield: done, one status                 test_42_abort_after_first_update
43 L739    handle with asUser                                        test_43_as_user_keeps_scope_and_methods
46-49      clientConfig: params as JSON Schema                       test_46_49_params_schema
50 L865    env-only job usable                                       test_50_env_only_job
51 L873    no config, no env -> Unknown job                          test_51_nothing_configured
52 L881    multi-job: etl and ml work, other fails                   test_52_multi_job
53 L893    each job sends its own job_id                             test_53_each_job_its_own_id
57-64      mapParams table                                           test_57_64_map_params
71 L1183   user params to a job without schema/type rejected         test_71_user_params_rejected_without_schema
84/85      params must be a plain object                             test_84_85_user_params_must_be_mapping
86/87      51 keys rejected, 50 accepted                             test_86_87_key_limit
88 L1831   no params at all is fine                                  test_88_no_params
76/81      invalid run ids                                           test_76_81_invalid_run_ids
=====  ==========================================================  =====================================

Gaps fixed (reference section 8 and 9): ``test_gap_*`` below.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from jobs_widgets.core import (
    JobConfig,
    JobNotConfiguredError,
    Jobs,
    JobsApiError,
    ParamsError,
    PollPolicy,
    RunScopeError,
    RunState,
    TaskType,
    UnknownJobError,
    WaitTimeoutError,
)
from jobs_widgets.core.config import discover_jobs
from jobs_widgets.core.params import map_params
from pydantic import BaseModel

from tests.core.conftest import World

METHODS = [
    "run_now",
    "run_and_wait",
    "watch",
    "arun_and_wait",
    "awatch",
    "last_run",
    "list_runs",
    "get_run",
    "get_run_output",
    "cancel_run",
    "repair_run",
    "get_job",
    "as_user",
]


def keys(env: dict[str, str], config: dict[str, Any] | None = None) -> list[str]:
    return Jobs.from_env(config=config, env=env).keys()


# --------------------------------------------------------------------------- discovery
def test_03_discovers_named_env_jobs() -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "123", "DATABRICKS_JOB_ML": "456"})
    assert jobs.keys() == ["etl", "ml"]
    assert jobs("etl").job_id == 123 and jobs("ml").job_id == 456
    assert jobs("etl").config == JobConfig()


def test_04_single_job_shorthand() -> None:
    assert keys({"DATABRICKS_JOB_ID": "789"}) == ["default"]


def test_05_job_id_ignored_with_named_jobs() -> None:
    assert keys({"DATABRICKS_JOB_ID": "789", "DATABRICKS_JOB_ETL": "1"}) == ["etl"]


def test_06_job_id_ignored_with_explicit_config() -> None:
    assert keys({"DATABRICKS_JOB_ID": "789", "DATABRICKS_JOB_PIPELINE": "5"}, {"pipeline": {}}) == [
        "pipeline"
    ]


def test_07_explicit_config_wins() -> None:
    jobs = Jobs.from_env(
        config={"etl": JobConfig(wait_timeout=42)},
        env={"DATABRICKS_JOB_ETL": "1", "DATABRICKS_JOB_ML": "2"},
    )
    assert jobs("etl").config.wait_timeout == 42
    assert jobs("ml").config == JobConfig()


def test_08_bare_prefix_skipped() -> None:
    assert keys({"DATABRICKS_JOB_": "1", "DATABRICKS_JOB_A": "2"}) == ["a"]


def test_09_empty_values_skipped() -> None:
    env = {"DATABRICKS_JOB_EMPTY": "", "DATABRICKS_JOB_BLANK": "  ", "DATABRICKS_JOB_A": "2"}
    # Deviation: AppKit skips only "" (as we do); a blank value is a typo we report by name.
    assert keys(env) == ["blank", "a"]
    assert "DATABRICKS_JOB_BLANK" in Jobs.from_env(env=env).problems["blank"]


def test_10_suffix_lower_cased() -> None:
    assert keys({"DATABRICKS_JOB_MY_PIPELINE": "3"}) == ["my_pipeline"]


def test_11_only_explicit_jobs() -> None:
    assert keys({"OTHER": "1"}, {"custom": JobConfig(job_id=9)}) == ["custom"]


# --------------------------------------------------------------------------- handles
def test_16_jobs_is_callable() -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "1"})
    assert callable(jobs) and jobs("etl") is jobs["etl"]


def test_17_handle_has_every_method() -> None:
    handle = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "1"})("etl")
    for name in METHODS:
        assert callable(getattr(handle, name)), name
    assert (handle.key, handle.job_id) == ("etl", 1)


def test_18_unknown_key() -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "1", "DATABRICKS_JOB_ML": "2"})
    with pytest.raises(UnknownJobError, match=r'Unknown job "unknown"\. Available jobs: etl, ml'):
        jobs("unknown")
    with pytest.raises(KeyError):
        jobs["unknown"]


def test_19_default_handle() -> None:
    assert Jobs.from_env(env={"DATABRICKS_JOB_ID": "789"})("default").job_id == 789


def test_20_run_now_sends_configured_job_id(world: World) -> None:
    etl = world.jobs("etl")
    run_id = etl.run_now({"env": "dev"})
    assert world.sb.engine.run(run_id).job.job_id == world.sb.jobs["etl"]
    sent = [r for r in world.sb.requests if r.endpoint == "run-now"][-1]
    assert sent.params["job_id"] == world.sb.jobs["etl"]


def test_21_pass_through_without_task_type(world: World) -> None:
    jobs = Jobs.from_env(
        client=world.sb.client(), env={"DATABRICKS_JOB_ETL": str(world.sb.jobs["etl"])}, hub=world.hub
    )
    run_id = jobs("etl").run_now({"notebook_params": {"key": "value"}, "job_id": 999999})
    run = world.sb.engine.run(run_id)
    assert run.overriding == {"notebook_params": {"key": "value"}}
    assert run.job.job_id == world.sb.jobs["etl"]  # D3: the configured id always wins


class KeyModel(BaseModel):
    key: str


def test_22_schema_rejects(world: World) -> None:
    jobs = Jobs.from_env(
        config={"etl": JobConfig(params=KeyModel, task_type=TaskType.NOTEBOOK)},
        client=world.sb.client(),
        env=world.sb.env(),
        hub=world.hub,
    )
    with pytest.raises(ParamsError, match='Parameter validation failed for job "etl": "key"'):
        jobs("etl").run_now({"key": 42})
    assert not [r for r in world.sb.requests if r.endpoint == "run-now"]


def test_23_notebook_with_schema(world: World) -> None:
    jobs = Jobs.from_env(
        config={"etl": JobConfig(params=KeyModel, task_type=TaskType.NOTEBOOK)},
        client=world.sb.client(),
        env=world.sb.env(),
        hub=world.hub,
    )
    run_id = jobs("etl").run_now({"key": "value"})
    assert world.sb.engine.run(run_id).overriding == {"notebook_params": {"key": "value"}}


def test_24_no_schema_accepts_run_now_fields(world: World) -> None:
    jobs = Jobs.from_env(client=world.sb.client(), env=world.sb.env(), hub=world.hub)
    run_id = jobs("report").run_now({"sql_params": {"region": "apac"}, "queue": {"enabled": True}})
    assert world.sb.engine.run(run_id).overriding == {"sql_params": {"region": "apac"}}
    # Stricter than AppKit: a key that is not a run-now field is an error, not silently sent.
    with pytest.raises(ParamsError, match='"anything" is not a run-now field'):
        jobs("report").run_now({"anything": "goes"})


def test_27_list_runs_pages_of_at_most_25(world: World) -> None:
    report = world.jobs("report")
    for _ in range(40):
        report.run_now()
    world.sb.clear_requests()
    runs = report.list_runs(limit=45)
    assert len(runs) == 45
    pages = [r for r in world.sb.requests if r.endpoint == "runs/list"]
    assert [p.params["limit"] for p in pages] == ["25", "25"]
    assert [r.run_id for r in runs] == sorted((r.run_id for r in runs), reverse=True)


def test_29_run_and_wait_yields_states_in_order(world: World) -> None:
    world.sb.engine.script("report", outcome="SUCCESS", duration_s=300)
    states = [u.state for u in world.jobs("report").run_and_wait()]
    assert states[0] in {RunState.QUEUED, RunState.PENDING}
    assert RunState.RUNNING in states
    assert states[-1] is RunState.SUCCEEDED
    assert all(a != b for a, b in itertools.pairwise(states))  # D5: one update per change


def test_35_upstream_status_preserved(world: World) -> None:
    token = world.sb.add_user("bob", can_run=["report"])
    bob = world.jobs("etl").as_user(world.sb.client(token=token))
    with pytest.raises(JobsApiError) as err:
        bob.run_now({"env": "dev"})
    assert err.value.status_code == 403
    assert err.value.error_code == "PERMISSION_DENIED"
    assert "CAN_MANAGE_RUN" in str(err.value)
    assert token not in str(err.value)


# --------------------------------------------------------------------------- scope
def other_jobs_run(world: World) -> int:
    return world.jobs("train").run_now()


def test_37_get_run_out_of_scope(world: World) -> None:
    run_id = other_jobs_run(world)
    with pytest.raises(RunScopeError, match=f'Run {run_id} is not a run of job "etl"'):
        world.jobs("etl").get_run(run_id)


def test_38_get_run_output_out_of_scope(world: World) -> None:
    run_id = other_jobs_run(world)
    world.sb.clear_requests()
    with pytest.raises(RunScopeError):
        world.jobs("etl").get_run_output(run_id)
    assert not [r for r in world.sb.requests if r.endpoint == "runs/get-output"]


def test_39_cancel_run_out_of_scope(world: World) -> None:
    run_id = other_jobs_run(world)
    world.sb.clear_requests()
    with pytest.raises(RunScopeError):
        world.jobs("etl").cancel_run(run_id)
    assert not [r for r in world.sb.requests if r.endpoint == "runs/cancel"]
    assert not world.sb.engine.run(run_id).is_terminal


def test_40_in_scope_run(world: World) -> None:
    etl = world.jobs("etl")
    run_id = etl.run_now()
    assert etl.get_run(run_id).run_id == run_id


def test_42_abort_after_first_update(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    cancel = threading.Event()
    watch = world.jobs("report").run_and_wait(cancel=cancel)
    seen = [next(watch)]
    cancel.set()
    assert list(watch) == []
    assert len(seen) == 1
    assert not world.sb.engine.run(watch.run_id).is_terminal  # D6: abort never cancels by default


def test_43_as_user_keeps_scope_and_methods(world: World) -> None:
    token = world.sb.add_user("bob@example.com")
    bob = world.jobs("etl").as_user(world.sb.client(token=token))
    for name in METHODS:
        assert callable(getattr(bob, name))
    assert (bob.key, bob.job_id) == ("etl", world.sb.jobs["etl"])
    assert bob.identity != world.jobs("etl").identity
    run_id = bob.run_now({"env": "dev"})
    assert bob.get_run(run_id).creator == "bob@example.com"
    with pytest.raises(RunScopeError):
        bob.get_run(other_jobs_run(world))


def test_46_49_params_schema(world: World) -> None:
    schema = world.jobs("etl").params_schema()
    assert schema is not None and schema["type"] == "object"
    assert set(schema["properties"]) >= {"date", "env", "full_refresh"}
    nightly = world.jobs("nightly").params_schema()
    assert nightly is not None
    assert nightly["properties"]["env"]["default"] == "prod"
    assert world.jobs("dbt").params_schema() is None
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "1"})
    assert jobs("etl").params_schema() is None


def test_50_env_only_job() -> None:
    assert Jobs.from_env(env={"DATABRICKS_JOB_ETL": "5"})("etl").job_id == 5


def test_51_nothing_configured() -> None:
    with pytest.raises(UnknownJobError, match="Unknown job"):
        Jobs.from_env(env={})("etl")


def test_52_multi_job() -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "100", "DATABRICKS_JOB_ML": "200"})
    assert jobs("etl").job_id == 100 and jobs("ml").job_id == 200
    with pytest.raises(UnknownJobError, match='Unknown job "other"'):
        jobs("other")


def test_53_each_job_its_own_id(world: World) -> None:
    etl, report = world.jobs("etl").run_now(), world.jobs("report").run_now()
    assert world.sb.engine.run(etl).job.job_id == world.sb.jobs["etl"]
    assert world.sb.engine.run(report).job.job_id == world.sb.jobs["report"]


@pytest.mark.parametrize(
    ("task_type", "params", "expected"),
    [
        (TaskType.NOTEBOOK, {"key": "value", "num": 42}, {"notebook_params": {"key": "value", "num": "42"}}),
        (
            TaskType.PYTHON_WHEEL,
            {"arg1": "a", "arg2": "b"},
            {"python_named_params": {"arg1": "a", "arg2": "b"}},
        ),
        (TaskType.PYTHON_SCRIPT, {"args": ["a", "b", "c"]}, {"python_params": ["a", "b", "c"]}),
        (TaskType.SPARK_JAR, {"args": ["x", "y"]}, {"jar_params": ["x", "y"]}),
        (TaskType.SQL, {"p1": "v1", "p2": 42}, {"sql_params": {"p1": "v1", "p2": "42"}}),
        (TaskType.DBT, {}, {}),
        (
            TaskType.NOTEBOOK,
            {"a": True, "b": 123, "c": "null"},
            {"notebook_params": {"a": "true", "b": "123", "c": "null"}},
        ),
        (TaskType.JOB, {"env": "prod", "n": 2}, {"job_parameters": {"env": "prod", "n": "2"}}),
    ],
)
def test_57_64_map_params(task_type: TaskType, params: dict[str, Any], expected: dict[str, Any]) -> None:
    assert map_params(task_type, params) == expected


def test_63_dbt_rejects_params() -> None:
    with pytest.raises(ParamsError, match="dbt tasks do not accept parameters"):
        map_params(TaskType.DBT, {"x": 1})


# --------------------------------------------------------------------------- user-typed input
def test_71_user_params_rejected_without_schema(world: World) -> None:
    jobs = Jobs.from_env(client=world.sb.client(), env=world.sb.env(), hub=world.hub)
    with pytest.raises(ParamsError, match="This job does not accept parameters"):
        jobs("etl").run_user_params({"a": "1"})


@pytest.mark.parametrize("bad", [["a"], "a=1", 5, ("a", 1)])
def test_84_85_user_params_must_be_mapping(world: World, bad: Any) -> None:
    with pytest.raises(ParamsError, match="params must be a plain object"):
        world.jobs("train").run_user_params(bad)


def test_86_87_key_limit(world: World) -> None:
    train = world.jobs("train")
    with pytest.raises(ParamsError, match=r"Too many parameters \(51\)"):
        train.run_user_params({f"k{i}": str(i) for i in range(51)})
    run_id = train.run_user_params({f"k{i}": str(i) for i in range(50)})
    assert len(world.sb.engine.run(run_id).overriding["python_named_params"]) == 50


def test_88_no_params(world: World) -> None:
    assert world.jobs("train").run_user_params(None) > 0
    assert world.jobs("train").run_user_params({}) > 0


@pytest.mark.parametrize("bad", [0, -1, "12", 1.5, True, None])
def test_76_81_invalid_run_ids(bad: Any) -> None:
    handle = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "1"})("etl")
    for method in (handle.get_run, handle.cancel_run, handle.get_run_output, handle.repair_run, handle.watch):
        with pytest.raises(ParamsError, match="run_id must be a positive integer"):
            method(bad)


# --------------------------------------------------------------------------- gaps fixed
@pytest.mark.parametrize(
    "value", ["42abc", "0", "-5", "1e3", "12.9", "0x1A", "abc", "9" * 30, " 1 2 ", " 7", "7\n"]
)
def test_gap_job_ids_must_be_positive_integers(value: str) -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": value, "DATABRICKS_JOB_OK": "7"})
    assert jobs.keys() == ["etl", "ok"]  # a bad variable breaks nothing else
    assert jobs("ok").job_id == 7
    with pytest.raises(JobNotConfiguredError) as err:
        jobs("etl")
    message = str(err.value)
    assert "DATABRICKS_JOB_ETL" in message and "positive integer" in message and "\n" not in message
    assert "etl" in jobs.problems


def test_gap_keys_are_case_insensitive() -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": "1"}, config={"ML": JobConfig(job_id=2)})
    assert jobs("ETL") is jobs("etl") and jobs("Etl").job_id == 1
    assert jobs("ml").job_id == 2 and "Ml" in jobs


def test_gap_ids_come_from_the_defining_variable() -> None:
    assert Jobs.from_env(env={"DATABRICKS_JOB_DEFAULT": "5"})("default").job_id == 5
    assert Jobs.from_env(env={"DATABRICKS_JOB_etl": "6"})("etl").job_id == 6
    assert (
        Jobs.from_env(config={"pipeline": {}}, env={"DATABRICKS_JOB_pipeline": "8"})("pipeline").job_id == 8
    )


def test_gap_explicit_job_id_and_missing_id_message() -> None:
    jobs = Jobs.from_env(config={"etl": JobConfig(job_id=11), "ml": JobConfig()}, env={})
    assert jobs("etl").job_id == 11
    with pytest.raises(JobNotConfiguredError, match="Set DATABRICKS_JOB_ML=<job id>"):
        jobs("ml")
    for bad in (0, -1, True, "x1", 1.5):
        with pytest.raises(ValueError, match="job_id"):
            JobConfig(job_id=bad)


@pytest.mark.parametrize(
    ("task_type", "params", "message"),
    [
        (TaskType.NOTEBOOK, {"a": None}, 'Parameter "a" is None'),
        (TaskType.NOTEBOOK, {"a": {"b": 1}}, 'Parameter "a" must be a primitive value, got object'),
        (TaskType.SQL, {"a": [1]}, 'Parameter "a" must be a primitive value, got array'),
        (TaskType.PYTHON_SCRIPT, {"args": [{"x": 1}]}, 'Parameter "args\\[0\\]" must be a primitive'),
        (TaskType.PYTHON_SCRIPT, {"args": "abc"}, 'Parameter "args" must be an array'),
        (TaskType.SPARK_JAR, {"args": [], "other": 1}, 'unexpected parameter "other"'),
        (TaskType.JOB, {"a": float("nan")}, "finite"),
    ],
)
def test_gap_mapping_rejects_what_appkit_sends_as_garbage(
    task_type: TaskType, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParamsError, match=message):
        map_params(task_type, params)


def test_gap_writes_invalidate_cached_reads(world: World) -> None:
    report = world.jobs("report")
    before = report.last_run()
    run_id = report.run_now()
    after = report.last_run()
    assert after is not None and after.run_id == run_id
    assert before is None or before.run_id != run_id


def test_gap_no_false_deadline(world: World) -> None:
    world.sb.engine.script("report", duration_s=2 * 3600)
    final = list(world.jobs("report").run_and_wait())[-1]
    assert final.state is RunState.SUCCEEDED
    assert final.run.duration_s and final.run.duration_s > 7200


def test_gap_timeout_stops_watching_without_touching_the_run(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    watch = world.jobs("report").run_and_wait(timeout=120)
    with pytest.raises(WaitTimeoutError, match="keeps going") as err:
        list(watch)
    assert err.value.run_id == watch.run_id
    assert not world.sb.engine.run(watch.run_id).is_terminal


def test_gap_on_abort_cancel_cancels_the_remote_run(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    watch = world.jobs("report").run_and_wait(timeout=60, on_abort="cancel")
    with pytest.raises(WaitTimeoutError):
        list(watch)
    world.sb.advance(30)
    assert world.sb.engine.run(watch.run_id).result == "CANCELED"


def test_gap_auto_task_type_is_inferred_once(world: World) -> None:
    jobs = Jobs.from_env(
        config={"nightly": JobConfig(task_type=TaskType.AUTO), "train": JobConfig(task_type=TaskType.AUTO)},
        client=world.sb.client(),
        env=world.sb.env(),
        hub=world.hub,
    )
    nightly = world.sb.engine.run(jobs("nightly").run_now({"env": "dev"}))
    assert {p["name"]: p["value"] for p in nightly.job_parameters}["env"] == "dev"
    assert world.sb.engine.run(jobs("train").run_now({"epochs": 3})).overriding == {
        "python_named_params": {"epochs": "3"}
    }
    gets = [r for r in world.sb.requests if r.endpoint == "get"]
    jobs("nightly").run_now({"env": "prod"})
    assert len([r for r in world.sb.requests if r.endpoint == "get"]) == len(gets)


def test_gap_poll_policy_is_validated() -> None:
    with pytest.raises(ValueError, match="cap"):
        PollPolicy(min_interval=60, cap=30)
    with pytest.raises(ValueError, match="jitter"):
        PollPolicy(jitter=1.5)


def test_discovery_order_env_first_then_explicit() -> None:
    entries = discover_jobs(
        {"DATABRICKS_JOB_B": "2", "DATABRICKS_JOB_A": "1"}, {"z": JobConfig(job_id=3), "a": {}}
    )
    assert [e.key for e in entries.values()] == [
        "b",
        "z",
        "a",
    ]  # AppKit: {...discovered-minus-explicit, ...explicit}
