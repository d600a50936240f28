"""``%jobs output``: per task, the notebook result, error, trace and logs (text and HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from jobs_widgets._render import _Rich, esc, one_line, state_html, tail_lines, visible
from jobs_widgets.core.models import RunOutput
from jobs_widgets.core.states import RunState


@dataclass(repr=False)
class OutputView(_Rich):
    """``%jobs output``: per task, the notebook result, error, trace and logs."""

    key: str
    output: RunOutput

    def _blocks(self) -> list[tuple[str, RunState, list[tuple[str, str]]]]:
        blocks = []
        for task in self.output.tasks:
            items: list[tuple[str, str]] = []
            if task.notebook_result is not None:
                items.append(("result", visible(task.notebook_result)))
            if task.error:
                items.append(("error", visible(task.error)))
            if task.error_trace:
                items.append(("trace", tail_lines(task.error_trace)))
            if task.logs:
                items.append(("logs", tail_lines(task.logs)))
            if task.info:
                items.append(("info", visible(task.info)))
            blocks.append((task.task_key or f"run {task.run_id}", task.state, items))
        return blocks

    def _text(self) -> str:
        lines = [f"Output of {self.key} run {self.output.run_id} ({self.output.state.label})"]
        for name, state, items in self._blocks():
            lines.append(f"\n[{one_line(name)}] {state.label}")
            if not items:
                lines.append("  (no output)")
            for label, text in items:
                body = text.replace("\n", "\n    ")
                lines.append(f"  {label}: {body}" if "\n" not in text else f"  {label}:\n    {body}")
        return "\n".join(lines)

    def _html(self) -> str:
        parts = [
            f"<div><b>Output of {esc(self.key)} run {self.output.run_id}</b> ({state_html(self.output.state)})</div>"
        ]
        for name, state, items in self._blocks():
            parts.append(
                f'<div class="jw-task" style="margin-top:6px"><b>{esc(name)}</b> {state_html(state)}</div>'
            )
            if not items:
                parts.append("<div><i>no output</i></div>")
            for label, text in items:
                body = html.escape(text)
                if label in {"trace", "logs"}:
                    parts.append(
                        f"<details{' open' if label == 'trace' else ''}><summary>{label}</summary><pre>{body}</pre></details>"
                    )
                else:
                    parts.append(f"<div>{label}: <code>{body}</code></div>")
        return "".join(parts)
