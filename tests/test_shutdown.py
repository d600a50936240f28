"""Closing the runtime ends everything at once: 20 sync waits, 5 async waits and 10 panels, within 1 s.

Real clock, the default client, the workspace answering normally: the setting of a
notebook with several cells waiting and panels open when ``%unload_ext`` runs.
"""

from __future__ import annotations

import asyncio
import threading
import time

from jobs_widgets.core import Jobs, JobsClosedError
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.widget import JobPanel

from tests.test_widget import until

LONG_S = 3600.0


def _ours(baseline: set[int]) -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.ident not in baseline and t.is_alive() and not t.name.startswith("jobs-widgets-sandbox")
    ]


def test_closing_ends_every_wait_and_panel_within_a_second() -> None:
    with Sandbox(seed=4) as sb:
        sb.engine.script("report", duration_s=LONG_S)
        baseline = {t.ident for t in threading.enumerate()}
        runtime = Runtime()
        jobs = Jobs.from_env(config=sb.config(), env=sb.env(), runtime=runtime)
        report = jobs("report")
        run_ids = [report.run_now() for _ in range(5)]
        ended: dict[str, float] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()

        def record(name: str, exc: BaseException | None) -> None:
            with lock:
                ended[name] = time.monotonic()
                if exc is not None:
                    errors.append(exc)

        def sync_wait(index: int) -> None:
            try:
                list(report.watch(run_ids[index % 5], timeout=None if index % 2 else 30))
                record(f"sync{index}", None)
            except BaseException as exc:
                record(f"sync{index}", exc)

        async def async_waits() -> None:
            async def one(index: int) -> None:
                try:
                    async for _ in report.awatch(run_ids[index]):
                        pass
                    record(f"async{index}", None)
                except BaseException as exc:
                    record(f"async{index}", exc)

            await asyncio.gather(*(one(i) for i in range(5)))

        threads = [threading.Thread(target=sync_wait, args=(i,)) for i in range(20)]
        threads.append(threading.Thread(target=asyncio.run, args=(async_waits(),)))
        for thread in threads:
            thread.start()
        panels = [JobPanel(report, run_id=run_ids[i % 5]) for i in range(10)]
        until(lambda: runtime.hub.listeners == 35, timeout=20)
        assert runtime.hub.watching == 5  # 35 listeners, one subscription per run

        closed_at = time.monotonic()
        runtime.close()
        for thread in threads:
            thread.join(2)
        until(lambda: all(p.health.get("status") == "stopped" for p in panels), timeout=2)
        panels_done = time.monotonic()

        assert len(ended) == 25 and all(not t.is_alive() for t in threads)
        assert max(ended.values()) - closed_at < 1.0
        assert panels_done - closed_at < 1.0
        assert len(errors) == 25 and all(isinstance(e, JobsClosedError) for e in errors)
        assert all("runtime was closed" in p.health["message"] and p.pending == "" for p in panels)
        for panel in panels:
            panel.close()
        deadline = time.monotonic() + 2
        while _ours(baseline) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _ours(baseline) == []
