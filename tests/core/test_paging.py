"""A run with more than 100 tasks comes back whole: API 2.2 pages ``runs/get`` at 100 per array.

databricks-sdk's ``get_run`` returns one page (tools that read page one showed
incomplete runs: databricks-sdk-py #819/#867, Airflow before #72304); the gateway
follows ``next_page_token``. Through the real SDK against the sandbox, which pages
2.2 answers and answers 2.1 whole.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from jobs_widgets.core import Jobs
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

TASKS = 120


def _wide_job() -> JobSpec:
    tasks = [TaskSpec("t000", "notebook", {"notebook_path": "/w/t000"})]
    tasks += [
        TaskSpec(f"t{i:03d}", "notebook", {"notebook_path": f"/w/t{i:03d}"}, depends_on=["t000"])
        for i in range(1, TASKS)
    ]
    return JobSpec(name="wide", key="wide", tasks=tasks, behaviour=Behaviour(median_s=60.0, fail_rate=0.0))


def test_a_run_of_120_tasks_comes_back_whole() -> None:
    with Sandbox(manual=True, jobs=[_wide_job()]) as sb:
        jobs = Jobs.from_env(config={"wide": {}}, client=sb.client(), env=sb.env(), clock=sb.clock)
        with jobs:
            wide = jobs("wide")
            run_id = wide.run_now()
            sb.advance(3600)
            sb.clear_requests()
            run = wide.get_run(run_id)
            assert len(run.tasks) == TASKS and len({t.task_key for t in run.tasks}) == TASKS
            assert run.state.is_terminal and not run.failed_tasks
            pages = [r for r in sb.requests if r.endpoint == "runs/get"]
            assert len(pages) == 2 and pages[1].params.get("page_token") == "1"
            # API 2.1 (the legacy CLI's) answers whole, without a token
            request = urllib.request.Request(
                f"{sb.host}/api/2.1/jobs/runs/get?run_id={run_id}",
                headers={"Authorization": f"Bearer {sb.token}"},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:  # loopback only
                whole = json.load(answer)
            assert len(whole["tasks"]) == TASKS and "next_page_token" not in whole


def test_api_2_1_run_now_takes_a_job_id_as_a_string() -> None:
    """The legacy databricks-cli (API 2.1) sends ``"job_id": "1001"``; 2.2 keeps refusing it."""
    with Sandbox(manual=True) as sb:
        body = json.dumps({"job_id": str(sb.jobs["report"])}).encode()
        answers = {}
        for version in ("2.1", "2.2"):
            request = urllib.request.Request(
                f"{sb.host}/api/{version}/jobs/run-now",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {sb.token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # loopback only
                    answers[version] = (answer.status, json.load(answer))
            except urllib.error.HTTPError as refused:
                answers[version] = (refused.code, json.load(refused))
        assert answers["2.1"][0] == 200 and answers["2.1"][1]["run_id"] > 0
        assert answers["2.2"][0] == 400
