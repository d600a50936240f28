"""How fast the large task views draw in real Chromium: the matrix and the 1000-task timeline.

    .venv/bin/python bench/task_views.py                 # 5 rounds
    .venv/bin/python bench/task_views.py --rounds 9 --json bench/results/task_views.json

Each round opens a fresh bare page (Debian ``/usr/bin/chromium``, headless) with the
built widget and measures with the Performance API (the harness is
``tests/e2e/task_view_pages.py``, shared with the browser tests that check what is
drawn):

* the matrix of 200 runs x 50 tasks: the first draw through layout, to the next frame,
  and the repaint when one task run changes state (40 updates);
* the timeline of a 1000-task run: the first draw, and a scroll step of 50 rows; side by
  side with the same timeline unwindowed (its viewport as tall as its rows, so all 1000
  rows are drawn): the anchor the windowing is measured against.

Reported as medians over rounds, and as ratios: to the anchor where there is one, else
to the budget (200 ms for a first draw, one 60 Hz frame, 16.7 ms, for an update).
The machine is shared: read the spread, not one number.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROME_ARGS  # noqa: E402
from tests.e2e.task_view_pages import matrix_page, timeline_page  # noqa: E402

FIRST_DRAW_BUDGET_MS = 200.0
FRAME_MS = 1000 / 60


def _round(page: Any) -> dict[str, float]:
    matrix = matrix_page(page)
    windowed = timeline_page(page)
    unwindowed = timeline_page(page, unwindowed=True)
    return {
        "matrix_draw_ms": matrix["render"],
        "matrix_to_frame_ms": matrix["renderToFrame"],
        "matrix_repaint_ms": statistics.median(matrix["repaints"]),
        "timeline_draw_ms": windowed["render"],
        "timeline_rows_in_dom": windowed["inDom"],
        "timeline_scroll_ms": statistics.median(windowed["scrolls"]),
        "anchor_timeline_draw_ms": unwindowed["render"],
        "anchor_timeline_rows_in_dom": unwindowed["inDom"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the medians and every round here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
    rounds = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROME_ARGS)
        try:
            for _ in range(args.rounds):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                try:
                    rounds.append(_round(page))
                finally:
                    page.close()
        finally:
            browser.close()
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    spread = {k: (min(r[k] for r in rounds), max(r[k] for r in rounds)) for k in rounds[0]}
    lines = [
        ("matrix 200x50: first draw", "matrix_draw_ms", FIRST_DRAW_BUDGET_MS, "budget 200 ms"),
        ("matrix 200x50: to the next frame", "matrix_to_frame_ms", FIRST_DRAW_BUDGET_MS, "budget 200 ms"),
        ("matrix 200x50: one cell changes", "matrix_repaint_ms", FRAME_MS, "one frame"),
        ("timeline 1000: first draw", "timeline_draw_ms", med["anchor_timeline_draw_ms"], "unwindowed"),
        ("timeline 1000: a 50-row scroll", "timeline_scroll_ms", FRAME_MS, "one frame"),
    ]
    print(f"{args.rounds} rounds, medians (min-max); ratio < 1 is better than what it is compared with")
    print(f"{'what':36} {'ms':>8} {'min-max':>15} {'ratio':>7}  compared with")
    for label, key, anchor, name in lines:
        low, high = spread[key]
        print(f"{label:36} {med[key]:8.1f} {low:7.1f}-{high:<7.1f} {med[key] / anchor:7.2f}  {name}")
    print(
        f"timeline 1000, unwindowed (anchor): first draw {med['anchor_timeline_draw_ms']:.1f} ms; "
        f"rows in the DOM {med['timeline_rows_in_dom']:.0f} windowed vs {med['anchor_timeline_rows_in_dom']:.0f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"medians": med, "rounds": rounds}, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
