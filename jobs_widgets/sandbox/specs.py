"""What a simulated job is: its settings (as the Jobs API shows them) and its behaviour.

Settings are what ``jobs/get`` returns; behaviour is what the simulation draws from
(run-time distribution, failure rate, flakiness) so a job has a realistic history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Our short task kinds -> the Jobs API settings field that carries them.
TASK_FIELDS: dict[str, str] = {
    "notebook": "notebook_task",
    "python_script": "spark_python_task",
    "python_wheel": "python_wheel_task",
    "spark_jar": "spark_jar_task",
    "sql": "sql_task",
    "dbt": "dbt_task",
    "run_job": "run_job_task",
    "condition": "condition_task",
    "pipeline": "pipeline_task",
    "for_each": "for_each_task",
}
_CONDITION_OPS = frozenset(
    {"EQUAL_TO", "NOT_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"}
)
_RUN_IF = frozenset(
    {"ALL_SUCCESS", "ALL_DONE", "NONE_FAILED", "AT_LEAST_ONE_SUCCESS", "ALL_FAILED", "AT_LEAST_ONE_FAILED"}
)


@dataclass
class TaskSpec:
    """One task of a job: its key, kind, Jobs API settings, and DAG edges."""

    task_key: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    #: Share of the run's duration this task takes (relative to the critical path).
    weight: float = 1.0
    max_retries: int = 0
    min_retry_interval_s: float = 15.0
    timeout_seconds: int = 0
    run_if: str = "ALL_SUCCESS"
    #: Dependencies on condition tasks: task key -> the outcome ("true"/"false") this task needs.
    outcomes: dict[str, str] = field(default_factory=dict)
    #: A run_job task that starts a real run of its job here (see sandbox.childruns).
    starts_child: bool = False

    def __post_init__(self) -> None:
        if self.kind not in TASK_FIELDS:
            raise ValueError(f"unknown task kind {self.kind!r}; expected one of {sorted(TASK_FIELDS)}")
        if self.run_if not in _RUN_IF:
            raise ValueError(f"unknown run_if {self.run_if!r}; expected one of {sorted(_RUN_IF)}")
        for key, outcome in self.outcomes.items():
            if key not in self.depends_on or outcome not in {"true", "false"}:
                raise ValueError(f"outcome of {key!r} must be 'true' or 'false' on a task it depends on")

    def as_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"task_key": self.task_key, TASK_FIELDS[self.kind]: dict(self.settings)}
        if self.depends_on:
            body["depends_on"] = [self.edge(k) for k in self.depends_on]
        if self.max_retries:
            body["max_retries"] = self.max_retries
            body["min_retry_interval_millis"] = int(self.min_retry_interval_s * 1000)
        if self.timeout_seconds:
            body["timeout_seconds"] = self.timeout_seconds
        if self.run_if != "ALL_SUCCESS":
            body["run_if"] = self.run_if
        return body

    def edge(self, key: str) -> dict[str, str]:
        """A ``depends_on`` entry: the task key, and the outcome a condition dependency must have."""
        edge = {"task_key": key}
        if key in self.outcomes:
            edge["outcome"] = self.outcomes[key]
        return edge


@dataclass
class Behaviour:
    """How runs of a job behave, drawn per run from a seeded random source."""

    #: Median run time in seconds (the running phase, across the DAG's critical path).
    median_s: float = 300.0
    #: Spread of the lognormal run-time distribution (0.25: predictable, 0.6: erratic).
    sigma: float = 0.3
    #: Probability that a run fails (one task fails at a random moment).
    fail_rate: float = 0.05
    #: Probability that a task attempt fails but has retries left and is retried.
    flaky_rate: float = 0.0
    #: Seconds a run shows QUEUED before it starts (when a slot is free).
    queue_s: tuple[float, float] = (1.0, 3.0)
    #: Seconds spent PENDING (cluster start) before RUNNING.
    setup_s: tuple[float, float] = (5.0, 20.0)
    #: Seconds spent TERMINATING (cleanup) at the end.
    cleanup_s: tuple[float, float] = (1.0, 4.0)
    #: Errors a failing task reports: (error, last line of the trace).
    errors: tuple[tuple[str, str], ...] = (
        ("ValueError: invalid literal for int() with base 10: 'N/A'", "ValueError"),
        ("Py4JJavaError: An error occurred while calling o412.save", "Py4JJavaError"),
    )


@dataclass
class JobSpec:
    """A simulated job: settings for ``jobs/get`` plus behaviour for its runs."""

    name: str
    tasks: list[TaskSpec]
    key: str | None = None
    job_id: int | None = None
    parameters: list[dict[str, str]] = field(default_factory=list)
    max_concurrent_runs: int = 1
    queue_enabled: bool = True
    timeout_seconds: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    behaviour: Behaviour = field(default_factory=Behaviour)
    creator: str = "demo@example.com"
    #: How many finished runs to invent in the past, so the job has a history.
    history_runs: int = 12
    #: Deterministic failures: a run whose parameter ``name`` is above ``threshold``
    #: fails with ``error`` (e.g. a training job with too high a learning rate).
    fails_above: dict[str, tuple[float, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = [t.task_key for t in self.tasks]
        if not keys:
            raise ValueError("a job needs at least one task")
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate task keys in {keys}")
        for task in self.tasks:
            for dep in task.depends_on:
                if dep not in keys:
                    raise ValueError(f"task {task.task_key!r} depends on unknown task {dep!r}")
        self._check_acyclic()
        self._check_nested()

    def _check_nested(self) -> None:
        """Bad for-each or condition settings fail here, in one line, not mid-run."""
        from jobs_widgets.sandbox import foreach  # it builds on these specs

        for task in self.tasks:
            if task.kind == "for_each":
                foreach.inputs(task.settings)
                foreach.nested_spec(task.settings)
            if task.kind == "condition" and task.settings.get("op") not in _CONDITION_OPS:
                raise ValueError(
                    f"condition task {task.task_key!r} needs op, one of {sorted(_CONDITION_OPS)}"
                )

    def _check_acyclic(self) -> None:
        deps = {t.task_key: list(t.depends_on) for t in self.tasks}
        done: set[str] = set()
        visiting: set[str] = set()

        def visit(key: str) -> None:
            if key in done:
                return
            if key in visiting:
                raise ValueError(f"task dependencies form a cycle through {key!r}")
            visiting.add(key)
            for dep in deps[key]:
                visit(dep)
            visiting.discard(key)
            done.add(key)

        for key in deps:
            visit(key)

    def task(self, key: str) -> TaskSpec:
        for task in self.tasks:
            if task.task_key == key:
                return task
        raise KeyError(key)

    def settings_api(self) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "name": self.name,
            "format": "MULTI_TASK",
            "max_concurrent_runs": self.max_concurrent_runs,
            "timeout_seconds": self.timeout_seconds,
            "queue": {"enabled": self.queue_enabled},
            "tasks": [t.as_api() for t in self.tasks],
        }
        if self.parameters:
            settings["parameters"] = [dict(p) for p in self.parameters]
        if self.tags:
            settings["tags"] = dict(self.tags)
        if self.description:
            settings["description"] = self.description
        return settings
