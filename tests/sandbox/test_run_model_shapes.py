"""Every field the sandbox sends is one databricks-sdk's generated dataclasses know.

The sandbox's answers (``runs/get`` of runs and task runs, with history, while queued
and when done; ``runs/get-output``; ``jobs/get``) go through the installed SDK's
``Run`` / ``RunOutput`` / ``Job`` ``from_dict`` and ``as_dict``: a field the SDK drops
is one a real workspace does not send (an invented name, or one in the wrong place),
so drift from the SDK's spec fails here, for the run-model jobs and the classic ones.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from databricks.sdk.service import jobs as sdk_jobs
from jobs_widgets.sandbox import Sandbox


def _lost(sent: Any, kept: Any, path: str = "") -> list[str]:
    """The paths in ``sent`` that ``kept`` (the SDK's round trip) no longer has."""
    out: list[str] = []
    if isinstance(sent, dict):
        for key, value in sent.items():
            if value is None or value in ([], {}):  # the SDK's as_dict leaves nulls and empties out
                continue
            if not isinstance(kept, dict) or key not in kept:
                out.append(f"{path}.{key}")
            else:
                out += _lost(value, kept[key], f"{path}.{key}")
    elif isinstance(sent, list) and isinstance(kept, list):
        for a, b in zip(sent, kept, strict=True):
            out += _lost(a, b, f"{path}[]")
    return out


def _get(sb: Sandbox, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{sb.host}{path}", headers={"Authorization": f"Bearer {sb.token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # loopback only
        body: dict[str, Any] = json.load(answer)
    return body


def test_runs_outputs_and_jobs_are_shaped_as_the_sdk_describes_them() -> None:
    with Sandbox(manual=True, run_model=True) as sb:
        client = sb.client()
        sb.engine.script("guarded", outcome="FAILED", fail_task="load")
        ids = [client.jobs.run_now(job_id=job_id).run_id for job_id in sb.jobs.values()]
        queued = client.jobs.run_now(job_id=sb.jobs["single"]).run_id
        sb.advance(30)
        lost: list[str] = []
        body = _get(sb, f"/api/2.2/jobs/runs/get?run_id={queued}")
        assert body["status"]["queue_details"]["code"] == "MAX_CONCURRENT_RUNS_REACHED"
        lost += _lost(body, sdk_jobs.Run.from_dict(body).as_dict(), "queued")
        sb.advance(3600)
        client.jobs.repair_run(run_id=ids[list(sb.jobs).index("guarded")], rerun_all_failed_tasks=True)
        sb.advance(3600)
        for run_id in ids:
            body = _get(sb, f"/api/2.2/jobs/runs/get?run_id={run_id}&include_history=true")
            lost += _lost(body, sdk_jobs.Run.from_dict(body).as_dict(), f"run {run_id}")
            for task in body["tasks"]:
                one = _get(sb, f"/api/2.2/jobs/runs/get?run_id={task['run_id']}")
                lost += _lost(one, sdk_jobs.Run.from_dict(one).as_dict(), f"task run {task['run_id']}")
                out = _get(sb, f"/api/2.2/jobs/runs/get-output?run_id={task['run_id']}")
                lost += _lost(out, sdk_jobs.RunOutput.from_dict(out).as_dict(), f"output {task['run_id']}")
        for job_id in sb.jobs.values():
            job = _get(sb, f"/api/2.2/jobs/get?job_id={job_id}")
            lost += _lost(job, sdk_jobs.Job.from_dict(job).as_dict(), f"job {job_id}")
        assert lost == [], lost
        repaired = _get(
            sb, f"/api/2.2/jobs/runs/get?run_id={ids[list(sb.jobs).index('guarded')]}&include_history=true"
        )
        assert [r["type"] for r in repaired["repair_history"]] == ["ORIGINAL", "REPAIR"]
