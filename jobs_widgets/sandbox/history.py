"""Invented history: finished runs in a job's past, so a new sandbox has something to show.

Split from :mod:`~jobs_widgets.sandbox.simulation` (which plays them out) to keep that
module small; the runs are drawn from the job's own behaviour under the seed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from jobs_widgets.sandbox.plans import draw_plan
from jobs_widgets.sandbox.records import JobRecord, RunRecord

if TYPE_CHECKING:
    from jobs_widgets.sandbox.simulation import Simulation


def invent(sim: Simulation, job: JobRecord, now: float) -> None:
    """Finished runs in the past, drawn from the job's own behaviour.

    Roughly one every ``gap`` seconds, each started up to 40% of a gap early (drawn
    per job and run under the seed), and no two invented runs in the same second:
    the demo jobs' last runs do not all start together as exact multiples would.
    """
    count = job.spec.history_runs
    if count <= 0:
        return
    gap = max(job.spec.behaviour.median_s * 3, 3600.0)
    start = now - gap * (count + 1)
    early = random.Random(f"{sim.seed}/{job.job_id}/history-starts")
    for i in range(count):
        created = start + i * gap - early.uniform(0.0, 0.4 * gap)
        while int(created) in sim._history_seconds:  # one invented start per second, across jobs
            created -= 1.0
        sim._history_seconds.add(int(created))
        number = next(job.numbers)
        plan = draw_plan(job.spec, sim._rng(job, number), None)
        run = RunRecord(
            run_id=next(sim._run_ids),
            job=job,
            number=number,
            created=created,
            plan=plan,
            creator=job.spec.creator,
            run_name=job.spec.name,
            trigger="PERIODIC",
            admitted=True,
        )
        for spec in job.spec.tasks:
            sim._new_attempt(run, spec, attempt=0)
        sim._replay_offline(run)
        sim._runs[run.run_id] = run
        job.runs.append(run)
