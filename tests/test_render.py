"""What %jobs renders: Python's presentation rules, the workspace's clock, escapes, theme colours."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from jobs_widgets._present import _TONE_VARS, TONE_MIX, Tone, state_tone, tone_style
from jobs_widgets._render import (
    JobsList,
    RunsTable,
    RunSummary,
    duration,
    job_row,
    state_html,
    tail_lines,
)
from jobs_widgets._render_output import OutputView
from jobs_widgets.core.models import Run, RunOutput, TaskOutput
from jobs_widgets.core.states import RunState

HOUR_AHEAD_S = dt.datetime.now(tz=dt.UTC).timestamp() + 3600  # a sped-up sandbox's clock


def running(start_s: float, **extra: object) -> Run:
    raw = {
        "run_id": 5225,
        "job_id": 7,
        "state": {"life_cycle_state": "RUNNING"},
        "start_time": int(start_s * 1000),
        "tasks": [
            {"task_key": "t", "state": {"life_cycle_state": "RUNNING"}, "start_time": int(start_s * 1000)}
        ],
    }
    raw.update(extra)
    return Run.from_api(raw)


def test_status_measures_a_running_run_on_the_workspace_clock() -> None:
    run = running(HOUR_AHEAD_S - 125)
    summary = RunSummary("etl", run, now_s=HOUR_AHEAD_S)
    assert summary.headline() == "etl run 5225: Running, running for 2m 05s"
    assert "2m 05s" in summary._html() and "2m 05s" in repr(summary)  # the task row too
    # Without the workspace clock the kernel's is an hour behind: no "running for 0.0s", no time at all.
    assert RunSummary("etl", run).headline() == "etl run 5225: Running"


def test_finished_runs_use_their_own_times() -> None:
    run = Run.from_api(
        {
            "run_id": 1,
            "job_id": 7,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "start_time": 1_000_000,
            "end_time": 1_065_000,
        }
    )
    for now_s in (None, 0.0, HOUR_AHEAD_S * 50):
        assert RunSummary("etl", run, now_s=now_s).headline() == "etl run 1: Succeeded, took 1m 05s"
    assert "1m 05s" in repr(RunsTable("etl", [run], now_s=HOUR_AHEAD_S))


def test_tables_take_the_workspace_clock_too() -> None:
    run = running(HOUR_AHEAD_S - 42, trigger="ONE_TIME")
    table = repr(RunsTable("etl", [run], now_s=HOUR_AHEAD_S))
    assert "42s" in table and "One time" in table
    jobs = JobsList([job_row("etl", 7, None, run, None)], now_s=HOUR_AHEAD_S)
    assert "42s" in repr(jobs)


def test_durations_read_as_in_the_panel() -> None:
    assert [duration(s) for s in (None, 0.4, 65, 3_959, 183_600)] == ["", "0s", "1m 05s", "1h 05m", "2d 03h"]


def test_hostile_text_and_links_stay_inert() -> None:
    payload = "<img src=x onerror=alert(1)>"
    run = running(HOUR_AHEAD_S, run_page_url="javascript:alert(1)")
    run = Run.from_api({**run.raw, "state": {"life_cycle_state": "RUNNING", "state_message": payload}})
    html = RunSummary(payload, run)._repr_html_()
    assert "<img" not in html and "&lt;img" in html and "javascript:" not in html
    assert "mathjax_ignore" in html
    output = RunOutput(1, RunState.FAILED, (TaskOutput(payload, 1, RunState.FAILED, error_trace=payload),))
    assert "<img" not in OutputView("etl", output)._repr_html_()


def test_traces_keep_the_same_tail_as_the_panel() -> None:
    trace = "\n".join(f"frame {i}" for i in range(500))
    assert tail_lines(trace).splitlines() == [f"frame {i}" for i in range(440, 500)]


# ----------------------------------------------------------------------------- theme colours
# JupyterLab 4's theme variables (theme-light/dark-extension) and the backgrounds an
# HTML table sits on in an output: the output area and the striped rows.
THEMES = {
    "light": {
        "bg": ["#ffffff", "#f5f5f5"],
        "text": ("#000000", 0.87),  # --jp-content-font-color1
        "--jp-success-color1": "#388e3c",
        "--jp-error-color1": "#d32f2f",
        "--jp-warn-color0": "#e65100",
        "--jp-brand-color1": "#1976d2",
    },
    "dark": {
        "bg": ["#111111", "#212121"],
        "text": ("#ffffff", 1.0),
        "--jp-success-color1": "#4caf50",
        "--jp-error-color1": "#f44336",
        "--jp-warn-color0": "#f57c00",
        "--jp-brand-color1": "#2196f3",
    },
}


def _rgb(colour: str) -> tuple[float, float, float]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def shown_colour(tone: str, text: tuple[str, float], bg: str) -> tuple[float, float, float]:
    """``color-mix(in srgb, tone P%, currentColor)`` (premultiplied), drawn over ``bg``."""
    p = TONE_MIX / 100
    text_rgb, alpha = _rgb(text[0]), text[1]
    mixed_alpha = p + (1 - p) * alpha
    mixed = [(p * t + (1 - p) * alpha * c) / mixed_alpha for t, c in zip(_rgb(tone), text_rgb, strict=True)]
    return tuple(  # type: ignore[return-value]
        round(mixed_alpha * m + (1 - mixed_alpha) * b) for m, b in zip(mixed, _rgb(bg), strict=True)
    )


@pytest.mark.parametrize("tone", sorted(_TONE_VARS))
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_state_colours_keep_4_5_to_1_in_both_themes(theme: str, tone: Tone) -> None:
    variable, fallback = _TONE_VARS[tone]
    colours = THEMES[theme]
    style = tone_style(tone)
    assert f"var({variable}, {fallback})" in style and "currentColor" in style
    for bg in colours["bg"]:  # type: ignore[union-attr]
        ratio = contrast(shown_colour(colours[variable], colours["text"], bg), _rgb(bg))  # type: ignore[arg-type]
        assert ratio >= 4.5, (theme, tone, bg, round(ratio, 2))
    # Without JupyterLab (classic notebook, exported HTML): the fallback on white, black text.
    assert contrast(shown_colour(fallback, ("#000000", 1.0), "#ffffff"), _rgb("#ffffff")) >= 4.5


def test_state_html_uses_theme_variables_not_fixed_colours() -> None:
    for state in RunState:
        html = state_html(state)
        assert f"jw-state--{state.value.lower()}" in html and state.label in html
        assert not re.search(r"color:\s*#", html)  # no fixed colour that ignores the theme
    assert "--jp-success-color1" in state_html(RunState.SUCCEEDED)
    assert "--jp-brand-color1" in state_html(RunState.RUNNING)
    assert "--jp-warn-color0" in state_html(RunState.CANCELED)
    assert state_tone(RunState.QUEUED) == "waiting" and "color" not in state_html(RunState.QUEUED)


def test_ids_states_and_times_never_wrap_in_tables_free_text_may() -> None:
    """Issue 16 point 12: at 1280 px "run id" and timestamps wrapped in %jobs runs."""
    run = running(HOUR_AHEAD_S - 42, trigger="ONE_TIME")
    html_table = RunsTable("etl", [run], now_s=HOUR_AHEAD_S)._repr_html_()
    cells = re.findall(r'<t[hd] style="([^"]*)"', html_table)
    columns = list(RunsTable.COLUMNS)
    heads, first_row = cells[: len(columns)], cells[len(columns) : 2 * len(columns)]
    assert all("nowrap" in style for style in heads)
    for column, style in zip(columns, first_row, strict=True):
        assert ("nowrap" in style) == (column != "message"), column
