"""The facts a run's state does not say (issue 15), in %jobs status and the panel's snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobs_widgets._facts import MAX_FACT_PARAMS, run_facts, waiting_verb
from jobs_widgets._render import RunSummary
from jobs_widgets._snapshot import run_snapshot
from jobs_widgets.core import Run

FIXTURES = Path(__file__).parent / "fixtures" / "runs"


def _fixture(name: str) -> Run:
    return Run.from_api(json.loads((FIXTURES / f"{name}.json").read_text()))


def _run(**fields: Any) -> Run:
    data: dict[str, Any] = {
        "run_id": 7,
        "job_id": 1001,
        "start_time": 1_767_225_600_000,
        "state": {"life_cycle_state": "RUNNING"},
        **fields,
    }
    return Run.from_api(data)


def test_who_started_a_run_and_how() -> None:
    assert dict(run_facts(_fixture("queued")))["Started"] == "One time, by ana@example.com"
    child = _run(trigger="RUN_JOB_TASK", trigger_info={"run_id": 5108})
    assert dict(run_facts(child))["Started"] == "Run job task of run 5108"


def test_the_parameters_used_are_listed_and_capped() -> None:
    assert dict(run_facts(_fixture("repaired")))["Parameters"] == "env=staging"
    many = _run(job_parameters=[{"name": f"p{i}", "value": str(i)} for i in range(MAX_FACT_PARAMS + 3)])
    line = dict(run_facts(many))["Parameters"]
    assert line.startswith("p0=0, p1=1") and line.endswith("and 3 more")


def test_a_fact_the_state_message_says_is_not_said_again() -> None:
    """The queued fixture's reason is its message: one line, not two (issue 16, point 8)."""
    run = _fixture("queued")
    text = repr(RunSummary("etl", run, now_s=1_767_226_300.0))
    assert text.count("maximum concurrent runs") == 1
    assert "Queued" not in dict(run_facts(run))
    distinct = _run(
        state={"life_cycle_state": "QUEUED", "state_message": "Waiting"},
        status={
            "state": "QUEUED",
            "queue_details": {"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": "Too many runs"},
        },
    )
    assert dict(run_facts(distinct)).get("Queued") == "Too many runs"


def test_how_a_run_ended_says_whose_side_it_came_from() -> None:
    assert dict(run_facts(_fixture("timed_out")))["Ended"] == "by the job's code or settings (client error)"
    internal = _run(
        state={"life_cycle_state": "INTERNAL_ERROR", "state_message": "boom"},
        status={
            "state": "TERMINATED",
            "termination_details": {
                "code": "DRIVER_ERROR",
                "type": "INTERNAL_ERROR",
                "message": "Driver lost",
            },
        },
    )
    assert dict(run_facts(internal))["Ended"] == "by a Databricks internal error: Driver lost"
    assert "Ended" not in dict(run_facts(_fixture("run_job_parent")))  # a plain success says nothing more


def test_repairs_are_counted_with_the_last_one_dated() -> None:
    assert dict(run_facts(_fixture("repaired")))["Repaired"] == "once, last at 2026-01-01 00:03:20 UTC"


def test_elapsed_time_is_worded_by_what_the_run_is_doing() -> None:
    assert waiting_verb(_fixture("queued")) == "waiting for"
    assert waiting_verb(_run()) == "running for"
    assert waiting_verb(_fixture("timed_out")) == "took"
    assert "Queued, waiting for 11m 40s" in repr(RunSummary("etl", _fixture("queued"), now_s=1_767_226_300.0))


def test_the_same_facts_reach_status_text_html_and_the_panel() -> None:
    run = _fixture("repaired")
    facts = run_facts(run)
    summary = RunSummary("etl", run)
    snapshot = run_snapshot(run)
    assert snapshot is not None and snapshot["facts"] == [list(f) for f in facts]
    for label, text in facts:
        assert f"  {label}: {text}" in repr(summary)
        assert f"<b>{label}:</b> {text}" in summary._repr_html_()
