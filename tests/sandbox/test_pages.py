"""The ↗ links the sandbox hands out open its read-only run pages (over real HTTP)."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from jobs_widgets.sandbox import JobSpec, Sandbox, TaskSpec


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def get(url: str, method: str = "GET") -> Answer:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode())
    except urllib.error.HTTPError as err:
        return Answer(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read().decode())


def assert_safe_html(answer: Answer) -> None:
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in answer.body.lower()
    assert " on" not in re.sub(r">[^<]*<", "><", answer.body)  # no event-handler attributes in any tag


def cells(body: str) -> list[str]:
    """The text of every table cell, tags removed."""
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", body)]


def test_run_page_url_and_task_links_open_a_read_only_run_page(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    manual_sandbox.engine.script("etl", outcome="FAILED", fail_task="transform", duration_s=60)
    run_id = w.jobs.run_now(manual_sandbox.jobs["etl"]).response.run_id
    manual_sandbox.advance(600)
    run = w.jobs.get_run(run_id)
    job_id = manual_sandbox.jobs["etl"]
    assert run.run_page_url == f"{manual_sandbox.host}/jobs/{job_id}/runs/{run_id}"  # a path, not a #fragment

    page = get(run.run_page_url)
    assert page.status == 200
    assert_safe_html(page)
    assert f"<h1>Run {run_id} of orders-etl</h1>" in page.body
    shown = cells(page.body)
    assert "TERMINATED FAILED" in shown
    assert "(still going)" not in shown
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page.body)
    for task in run.tasks:  # every task with its state, linked to its own page
        state = f"{task.state.life_cycle_state.value} {task.state.result_state.value}"
        row = page.body.split(f'<a href="/jobs/{job_id}/runs/{task.run_id}">{task.task_key}</a>', 1)[1]
        assert cells("<td>" + row)[1] == state
        assert 'http-equiv="refresh"' not in page.body  # a finished run's page stays still

        task_page = get(task.run_page_url)
        assert task_page.status == 200
        assert_safe_html(task_page)
        assert f"Task run {task.run_id} of orders-etl" in task_page.body
        assert f'<a href="/jobs/{job_id}/runs/{run_id}">{run_id}</a>' in task_page.body
        assert state in cells(task_page.body)


def test_a_running_run_page_refreshes_itself_and_head_answers_too(manual_sandbox: Sandbox) -> None:
    w = manual_sandbox.client()
    run_id = w.jobs.run_now(manual_sandbox.jobs["etl"]).response.run_id
    manual_sandbox.advance(10)
    url = w.jobs.get_run(run_id).run_page_url
    page = get(url)
    assert page.status == 200 and "(still going)" in cells(page.body)
    assert '<meta http-equiv="refresh" content="5">' in page.body
    head = get(url, method="HEAD")
    assert head.status == 200 and head.body == "" and int(head.headers["content-length"]) > 0


def test_job_and_index_pages_link_to_the_runs(manual_sandbox: Sandbox) -> None:
    job_id = manual_sandbox.jobs["etl"]
    job = get(f"{manual_sandbox.host}/jobs/{job_id}")
    assert job.status == 200
    assert_safe_html(job)
    history = manual_sandbox.engine.runs_of("etl")
    assert f"Recent runs ({len(history)})" in job.body
    assert f'<a href="/jobs/{job_id}/runs/{history[-1].run_id}">' in job.body
    index = get(f"{manual_sandbox.host}/")
    assert index.status == 200
    for key, other in manual_sandbox.jobs.items():
        assert f'<a href="/jobs/{other}">' in index.body, key


def test_unknown_runs_and_runs_of_another_job_answer_an_html_404(manual_sandbox: Sandbox) -> None:
    etl, train = manual_sandbox.jobs["etl"], manual_sandbox.jobs["train"]
    run_of_train = manual_sandbox.engine.runs_of("train")[-1].run_id
    for path, says in [
        (f"/jobs/{etl}/runs/999999", "Run 999999 does not exist."),
        (f"/jobs/{etl}/runs/{run_of_train}", f"Run {run_of_train} is not a run of job {etl}."),
        ("/jobs/4242", "Job 4242 does not exist."),
    ]:
        page = get(manual_sandbox.host + path)
        assert page.status == 404, path
        assert_safe_html(page)
        assert says in page.body
    assert get(f"{manual_sandbox.host}/jobs/{train}/runs/{run_of_train}").status == 200


def test_api_paths_are_unchanged_and_page_views_are_not_api_requests(manual_sandbox: Sandbox) -> None:
    run = manual_sandbox.engine.runs_of("etl")[-1]
    manual_sandbox.clear_requests()
    assert get(f"{manual_sandbox.host}/jobs/{run.job.job_id}/runs/{run.run_id}").status == 200
    assert manual_sandbox.requests == []
    conn = http.client.HTTPConnection(urlsplit(manual_sandbox.host).netloc, timeout=10)
    conn.request(
        "GET",
        f"/api/2.2/jobs/runs/get?run_id={run.run_id}",
        headers={"Authorization": f"Bearer {manual_sandbox.token}"},
    )
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/json"
    assert json.loads(resp.read())["run_id"] == run.run_id
    conn.request("POST", f"/jobs/{run.job.job_id}/runs/{run.run_id}", body=b"{}")
    resp = conn.getresponse()
    assert resp.status == 404 and json.loads(resp.read())["error_code"] == "ENDPOINT_NOT_FOUND"  # read-only
    conn.close()
    page_path = f"/jobs/{run.job.job_id}/runs/{run.run_id}"
    assert [(r.method, r.endpoint) for r in manual_sandbox.requests] == [
        ("GET", "runs/get"),
        ("POST", page_path),
    ]


def test_job_data_on_the_pages_is_text_never_markup() -> None:
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    spec = JobSpec(
        key="evil",
        name=f"job {evil}",
        description=evil,
        tasks=[TaskSpec(f"t{evil}", "notebook", {"notebook_path": "/x"})],
        history_runs=0,
    )
    with Sandbox(manual=True, jobs=[spec]) as sb:
        sb.engine.script("evil", outcome="FAILED", state_message=evil, run_name=evil, duration_s=5)
        run_id = sb.engine.api_run_now({"job_id": sb.jobs["evil"], "notebook_params": {evil: evil}})["run_id"]
        sb.advance(120)
        task_run = next(iter(sb.engine.run(run_id).tasks.values())).run_id
        for path in (
            f"/jobs/{sb.jobs['evil']}/runs/{run_id}",
            f"/jobs/{sb.jobs['evil']}/runs/{task_run}",
            f"/jobs/{sb.jobs['evil']}",
            "/",
        ):
            page = get(sb.host + path)
            assert page.status == 200, path
            assert_safe_html(page)
            assert "<img" not in page.body
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.body, path
