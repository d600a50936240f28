"""Which task runs next and how a run ends: ``run_if`` rules, condition gates, leaf results.

Kept apart from the event loop (:mod:`~jobs_widgets.sandbox.simulation`) so the rules a
real workspace applies can be read in one place, as databricks-sdk's ``RunIf``,
``ConditionTask`` and ``RunResultState`` docstrings describe them:

- a task whose dependency is a condition task with another outcome, or an EXCLUDED
  task, is ``EXCLUDED`` (its branch is skipped; that is not a failure);
- otherwise its ``run_if`` decides whether it runs or ends ``UPSTREAM_FAILED``;
- a run whose leaf tasks all succeeded after some other task failed ends
  ``SUCCESS_WITH_FAILURES``, not ``FAILED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from jobs_widgets.sandbox.records import TaskRun

#: Results that count as a failure for ``run_if`` (the task ran, or would have, and did not succeed).
_FAILED = frozenset({"FAILED", "TIMEDOUT", "UPSTREAM_FAILED", "INTERNAL_ERROR", "CANCELED"})
_FINE = frozenset({"SUCCESS", "SUCCESS_WITH_FAILURES", "EXCLUDED"})


def excluded(task: TaskRun, deps: Mapping[str, TaskRun]) -> bool:
    """True when ``task`` sits on a skipped branch: a gate chose the other way, or a dependency was."""
    for key, dep in deps.items():
        wanted = task.spec.outcomes.get(key)
        if dep.result == "EXCLUDED":
            return True
        if wanted is not None and dep.outcome != wanted:
            return True
    return False


def runs(run_if: str, results: Iterable[str | None]) -> bool:
    """Whether a task with ``run_if`` runs once its dependencies ended with ``results``."""
    done = [r for r in results if r != "EXCLUDED"]
    failed = [r for r in done if r in _FAILED]
    ok = [r for r in done if r in _FINE]
    if run_if == "ALL_DONE":
        return True
    if run_if == "NONE_FAILED":
        return not failed
    if run_if == "AT_LEAST_ONE_SUCCESS":
        return bool(ok)
    if run_if == "ALL_FAILED":
        return bool(done) and len(failed) == len(done)
    if run_if == "AT_LEAST_ONE_FAILED":
        return bool(failed)
    return not failed  # ALL_SUCCESS


def condition_outcome(settings: Mapping[str, object], job_parameters: Iterable[Mapping[str, str]]) -> str:
    """``"true"`` or ``"false"``: the condition task's ``op`` over ``left`` and ``right``.

    ``{{job.parameters.NAME}}`` in an operand is the run's job parameter; both operands
    compare as numbers when both are numbers, else as text (as the workspace does).
    """

    parameters = {p["name"]: p.get("value", "") for p in job_parameters}

    def operand(name: str) -> str:
        text = str(settings.get(name, ""))
        for key, value in parameters.items():
            text = text.replace("{{job.parameters.%s}}" % key, value)  # noqa: UP031 - braces in the text
        return text

    left, right = operand("left"), operand("right")
    try:
        a: float | str = float(left)
        b: float | str = float(right)
    except ValueError:
        a, b = left, right
    op = str(settings.get("op", "EQUAL_TO"))
    table = {
        "EQUAL_TO": a == b,
        "NOT_EQUAL": a != b,
        "GREATER_THAN": a > b,  # type: ignore[operator]
        "GREATER_THAN_OR_EQUAL": a >= b,  # type: ignore[operator]
        "LESS_THAN": a < b,  # type: ignore[operator]
        "LESS_THAN_OR_EQUAL": a <= b,  # type: ignore[operator]
    }
    return "true" if table[op] else "false"


def run_result(tasks: Iterable[TaskRun]) -> str | None:
    """SUCCESS / SUCCESS_WITH_FAILURES when the run's leaves came out fine, else None (it failed).

    A leaf is a task no other task depends on; EXCLUDED leaves count as fine.
    """
    tasks = list(tasks)
    needed = {d for t in tasks for d in t.spec.depends_on}
    leaves = [t for t in tasks if t.spec.task_key not in needed]
    if any(t.result not in _FINE for t in leaves):
        return None
    return "SUCCESS" if all(t.result in _FINE for t in tasks) else "SUCCESS_WITH_FAILURES"
