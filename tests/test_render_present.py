"""The presentation rules (jobs_widgets._present) and the golden files that bind the front end to them.

``js/src/presentation.json`` (the tables the front end reads) and
``js/tests/golden/presentation-cases.json`` (inputs with Python's answers, replayed by
``js/tests/rules.test.js``) are written from the Python rules. A rule changed on one
side only fails a test on that side: here when the files are stale, in vitest when the
JS disagrees. After changing a rule on purpose: ``JW_UPDATE_GOLDEN=1 pytest
tests/test_render_present.py``, then make ``npm test`` in js/ pass.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jobs_widgets._present import (
    IDLE_LABEL,
    LIMITS,
    SKEW_MS,
    busy_text,
    clip,
    elapsed_ms,
    eta_text,
    format_duration_ms,
    humanize,
    rules_for_js,
    safe_url,
    state_label,
    state_tone,
    trace_tail,
    trace_title,
)
from jobs_widgets._snapshot import history_snapshot, run_snapshot
from jobs_widgets.core.models import Run, RunOutput, TaskOutput
from jobs_widgets.core.states import RunState

JS = Path(__file__).resolve().parents[1] / "js"
RULES_FILE = JS / "src" / "presentation.json"
CASES_FILE = JS / "tests" / "golden" / "presentation-cases.json"

# ----------------------------------------------------------------------------- inputs
DURATIONS_MS: list[float | None] = [
    None,
    -5_000,
    0,
    999,
    1_000,
    1_500.7,
    42_000,
    59_999,
    60_000,
    65_000,
    242_000,
    252_000,
    3_599_999,
    3_600_000,
    3_959_000,
    86_399_999,
    86_400_000,
    2 * 86_400_000 + 3 * 3_600_000,
    10**12,
]
START_NOW_MS: list[tuple[int | None, int]] = [
    (1_000, 61_000),
    (1_000, 1_000),
    (1_000 + SKEW_MS, 1_000),
    (1_001 + SKEW_MS, 1_000),
    (3_600_000 * 5, 1_000),
    (None, 1_000),
    (1_714_564_680_000, 1_714_564_800_000),
]
CLIPS: list[tuple[str, int]] = [
    ("short", 10),
    ("x" * 25, 10),
    ("abc", 3),
    ("abcd", 3),
    ("abc", 1),
    ("", 5),
    ("ab\U0001f600cdef", 4),
    ("\U0001f600" * 5, 3),
    ("\U0001f600" * 3, 3),
    ("e\u0301" * 4, 5),
]
TRACES: list[str] = [
    "",
    " \n\t ",
    "a\nb",
    "Traceback:\r\n  File x\r\nValueError: bad\r\n\r\n",
    "old mac\rline 2\r",
    "\n".join(f"line {i}" for i in range(100)),
    "\n".join(f"line {i}" for i in range(60)),
    "\n".join(f"line {i}" for i in range(61)),
    "y" * 30_000,
    "\n".join(f"{i:03d} " + "z" * 500 for i in range(70)),
    "keeps\u00a0\nnbsp\u00a0",
    "sep\u2028not a line end\n\U0001f600" + "\U0001f600" * 20_000,
]
URLS: list[object] = [
    "https://example.com",
    "http://example.com/a?b=1#c",
    "  https://x.cloud.databricks.com/jobs/1/runs/2 \n",
    "HTTPS://EXAMPLE.COM/",
    "http://127.0.0.1:8080/x",
    "http://[::1]:5000/",
    "http://[::ffff:1.2.3.4]/",
    "https://a_b.example.com/",
    "https://example.com./",
    "http://1.2.3.4.",
    "https://adb-123.4.azuredatabricks.net/?o=123#job/1/run/2",
    "https://example.com:8443/ok",
    "https://e.com/" + "a" * (2048 - 14),
    "https://e.com/" + "a" * (2049 - 14),
    "javascript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://example.com/",
    "/relative/path",
    "//example.com/x",
    "example.com",
    "",
    "   ",
    "https:example.com",
    "http:\\\\example.com",
    "https://",
    "http:///x",
    "https://user:pw@example.com/",
    "https://good.example@evil.example/",
    "https://exa mple.com",
    "https://example.com/a b",
    "https://ex\u00e4mple.com/",
    "https://example.com/\u202eevil",
    "http://999.999.999.999/",
    "http://1.2.3.256/",
    "http://123/",
    "http://0x7f.1/",
    "http://example.123/",
    "http://[::1/",
    "http://[1::2::3]/",
    "http://a:99999/",
    "http://a:/",
    "http://a..b/",
    "http://%41.com/",
    "http://a.com/\x00",
    42,
    None,
]


@pytest.fixture
def utc() -> Iterator[None]:
    """Timestamps are formatted in the kernel's zone: pin it so the golden file is stable."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _panel_cases() -> list[dict[str, Any]]:
    """Snapshots a panel shows, with the clock they were taken at (the JS must show the same)."""
    now_s = 1_714_564_800.0
    start = int(now_s * 1000) - 125_000
    running = Run.from_api(
        {
            "run_id": 5225,
            "job_id": 7,
            "state": {"life_cycle_state": "RUNNING", "state_message": "In run"},
            "start_time": start,
            "trigger": "ONE_TIME",
            "tasks": [
                {"task_key": "extract", "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
                 "start_time": start, "end_time": start + 65_000},
                {"task_key": "transform", "state": {"life_cycle_state": "RUNNING"}, "start_time": start + 65_000,
                 "depends_on": [{"task_key": "extract"}]},
                {"task_key": "load", "state": {"life_cycle_state": "PENDING"},
                 "depends_on": [{"task_key": "transform"}]},
            ],
        }
    )  # fmt: skip
    failed = Run.from_api(
        {
            "run_id": 5224,
            "job_id": 7,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "Task b failed"},
            "status": {"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR"}},
            "start_time": start - 10_000_000,
            "end_time": start - 10_000_000 + 3_723_000,
            "tasks": [
                {"task_key": "b", "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED",
                 "state_message": "boom"}, "start_time": start - 10_000_000, "end_time": start - 9_000_000},
            ],
        }
    )  # fmt: skip
    canceled = Run.from_api(
        {
            "run_id": 5223,
            "job_id": 7,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "CANCELED"},
            "start_time": start - 20_000_000,
            "end_time": start - 20_000_000 + 5_000,
        }
    )
    trace = "\n".join(f"  at frame {i}" for i in range(100))
    output = RunOutput(
        5224, RunState.FAILED, (TaskOutput("b", 1, RunState.FAILED, error="E", error_trace=trace),)
    )
    history = history_snapshot([running, failed, canceled])
    return [
        {"now_ms": now_s * 1000, "run": run_snapshot(running, None, now_s), "history": history},
        {"now_ms": now_s * 1000, "run": run_snapshot(failed, output, now_s), "history": history},
        {"now_ms": now_s * 1000, "run": run_snapshot(canceled, None, now_s), "history": history},
    ]


def rle(text: str) -> list[list[Any]]:
    """``text`` as [[chunk, times], ...]: a character repeated 8+ times is one entry, so
    megabyte traces stay small in the file (the JS joins ``chunk.repeat(times)``)."""
    out: list[list[Any]] = []
    for char, group in itertools.groupby(text):
        times = len(list(group))
        if times >= 8:
            out.append([char, times])
        elif out and out[-1][1] == 1:
            out[-1][0] += char * times
        else:
            out.append([char * times, 1])
    return out


def golden_cases() -> dict[str, Any]:
    return {
        "about": "Written by tests/test_render_present.py from jobs_widgets/_present.py; "
        "replayed by js/tests/rules.test.js. Do not edit by hand.",
        "duration": [[ms, format_duration_ms(ms)] for ms in DURATIONS_MS],
        "live_elapsed": [
            [
                start,
                now,
                elapsed_ms(terminal=False, start_ms=start, end_ms=None, duration_ms=None, now_ms=now),
            ]
            for start, now in START_NOW_MS
        ],
        "clip": [[text, limit, clip(text, limit)] for text, limit in CLIPS],
        "trace": [[rle(text), rle(trace_tail(text))] for text in TRACES],
        "url": [[url, safe_url(url)] for url in URLS],
        "panel": _panel_cases(),
    }


def _dump(data: Any) -> str:
    """Pretty JSON, but one line per case (ASCII only, so no invisible character hides in it)."""
    if not any(isinstance(v, list) for v in data.values()):
        return json.dumps(data, indent=1, ensure_ascii=True) + "\n"
    entries = []
    for key, value in data.items():
        if isinstance(value, list):
            cases = ",\n  ".join(json.dumps(case, ensure_ascii=True) for case in value)
            entries.append(f" {json.dumps(key)}: [\n  {cases}\n ]")
        else:
            entries.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=True)}")
    return "{\n" + ",\n".join(entries) + "\n}\n"


@pytest.mark.parametrize(
    ("path", "build"), [(RULES_FILE, rules_for_js), (CASES_FILE, golden_cases)], ids=["rules", "cases"]
)
def test_golden_files_are_current(path: Path, build: Any, utc: None) -> None:
    expected = _dump(build())
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current != expected and os.environ.get("JW_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        current = expected
    assert current == expected, (
        f"{path.relative_to(JS.parent)} is stale: a presentation rule changed. "
        "Run JW_UPDATE_GOLDEN=1 pytest tests/test_render_present.py, then `npm test` in js/."
    )


# ----------------------------------------------------------------------------- the rules themselves
def test_every_state_has_a_label_and_a_tone() -> None:
    table = rules_for_js()
    for state in RunState:
        assert state_label(state) == state.label == table["labels"][state.value]
        assert state_tone(state) == table["tones"][state.value]
    assert table["labels"]["IDLE"] == IDLE_LABEL
    assert state_tone(RunState.CANCELED) == "warn" and state_tone(RunState.SKIPPED) == "neutral"
    assert {state_tone(s) for s in RunState if s.is_failure} == {"error"}


@pytest.mark.parametrize(
    ("ms", "text"),
    [(65_000, "1m 05s"), (242_000, "4m 02s"), (3_959_000, "1h 05m"), (183_600_000, "2d 03h"), (999, "0s")],
)
def test_duration_format(ms: int, text: str) -> None:
    assert format_duration_ms(ms) == text
    assert format_duration_ms(float("nan")) == format_duration_ms(None) == ""


def test_elapsed_prefers_the_runs_own_times_and_is_never_negative() -> None:
    over = {"terminal": True, "start_ms": 1_000, "end_ms": 61_000}
    assert elapsed_ms(**over, duration_ms=5_000, now_ms=10**15) == 5_000  # reported duration wins
    assert elapsed_ms(**over, duration_ms=None, now_ms=None) == 60_000  # else end - start, never now
    assert elapsed_ms(terminal=True, start_ms=9, end_ms=1, duration_ms=None, now_ms=None) == 0
    going = {"terminal": False, "start_ms": 100_000, "end_ms": None, "duration_ms": None}
    assert elapsed_ms(**going, now_ms=160_000) == 60_000
    assert elapsed_ms(**going, now_ms=95_000) == 0  # a little skew: just started
    assert elapsed_ms(**going, now_ms=100_000 - SKEW_MS - 1) is None  # another clock: unknown
    assert elapsed_ms(**going, now_ms=None) is None


@given(st.text(max_size=300), st.integers(min_value=1, max_value=400))
def test_clip_bounds_and_keeps_short_text(text: str, limit: int) -> None:
    out = clip(text, limit)
    assert len(out) <= limit and (out == text or out.endswith("…"))
    assert out == text or text.startswith(out[:-1])


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=800), max_size=120))
def test_trace_tail_is_bounded_and_idempotent(lines: list[str]) -> None:
    tail = trace_tail("\n".join(lines))
    assert len(tail) <= LIMITS["trace_chars"] and tail.count("\n") < LIMITS["trace_lines"]
    assert trace_tail(tail) == tail


def test_trace_title_counts_what_was_kept() -> None:
    assert trace_title("\n".join(str(i) for i in range(500))) == "Stack trace (last 60 of 500 lines)"
    assert trace_title("one\n") == "Stack trace (1 line)"
    assert trace_title("a\r\nb") == "Stack trace (2 lines)"


def test_urls_are_http_or_https_up_to_one_limit() -> None:
    assert safe_url(" https://x.example/a ") == "https://x.example/a"
    assert safe_url("https://e.com/" + "a" * (LIMITS["url"] - 14)) is not None
    assert safe_url("https://e.com/" + "a" * (LIMITS["url"] - 13)) is None
    for bad in ("javascript:alert(1)", "java\tscript:alert(1)", "data:x", "//e.com", "https://a@b.c/"):
        assert safe_url(bad) is None, bad


def test_eta_humanize_and_busy_texts() -> None:
    assert eta_text(240_000, 300_000, 360_000) == "usually takes 4\u20136 min"
    assert eta_text(20_000, 30_000, 45_000) == "usually takes 20\u201345 s"
    assert eta_text(290_000, 300_000, 310_000) == "usually takes about 5 min"
    assert eta_text(3 * 3_600_000, 4 * 3_600_000, 4.5 * 3_600_000) == "usually takes 3\u20134.5 h"
    assert humanize("ONE_TIME") == "One time" and humanize(None) == ""
    assert busy_text("", "anything") == ""
    assert busy_text("cancel") == "Cancelling…"
    detail = "cancel of run 5225 \n — waiting for the workspace"
    assert busy_text("cancel", detail) == "cancel of run 5225 — waiting for the workspace"
