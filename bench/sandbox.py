"""How fast the sandbox serves ``runs/get`` through the real databricks-sdk.

Side by side in the same run with an anchor: a minimal stdlib HTTP server that answers
every request with the same canned run JSON (no routing, no auth, no simulation) --
the floor of the SDK + stdlib stack on this machine. The ratio shows what the
sandbox's simulation and checks cost on top of that floor.

Reproduce: ``python bench/sandbox.py`` (``--requests N``, ``--threads T``, ``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jobs_widgets.core.sdk import make_client
from jobs_widgets.sandbox import Sandbox


def _anchor_server(payload: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = b"{}" if self.path.startswith("/.well-known") else payload
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _measure(client: Any, run_id: int, requests: int, threads: int) -> dict[str, float]:
    for _ in range(50):  # warm up connections and caches
        client.jobs.get_run(run_id)
    per_thread = requests // threads
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = []
        for _ in range(per_thread):
            t0 = time.perf_counter()
            client.jobs.get_run(run_id)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(worker) for _ in range(threads)]:
            f.result()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--json", default="bench/results/sandbox.json")
    args = parser.parse_args()

    results: dict[str, Any] = {"machine": platform.platform(), "python": sys.version.split()[0], "rows": []}
    with Sandbox(manual=True, seed=0) as sb:
        w = sb.client()
        run_id = w.jobs.run_now(sb.jobs["etl"]).response.run_id
        sb.advance(20)
        payload = json.dumps(sb.engine.api_get_run(run_id)).encode()
        anchor = _anchor_server(payload)
        anchor_client = make_client(f"http://127.0.0.1:{anchor.server_address[1]}", "dapi-bench")
        try:
            for threads in args.threads:
                sandbox_row = _measure(w, run_id, args.requests, threads)
                anchor_row = _measure(anchor_client, run_id, args.requests, threads)
                results["rows"].append(
                    {
                        "threads": threads,
                        "sandbox": sandbox_row,
                        "anchor": anchor_row,
                        "ratio": sandbox_row["rps"] / anchor_row["rps"],
                    }
                )
        finally:
            anchor.shutdown()

    print(f"runs/get through databricks-sdk {_sdk_version()} ({args.requests} requests per cell)")
    print(
        f"{'threads':>7} | {'sandbox req/s':>13} {'p50 ms':>7} {'p95 ms':>7} | "
        f"{'anchor req/s':>12} {'p50 ms':>7} | ratio"
    )
    for row in results["rows"]:
        s, a = row["sandbox"], row["anchor"]
        print(
            f"{row['threads']:>7} | {s['rps']:>13.0f} {s['p50_ms']:>7.2f} {s['p95_ms']:>7.2f} | "
            f"{a['rps']:>12.0f} {a['p50_ms']:>7.2f} | {row['ratio']:.2f}"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out}")
    return 0


def _sdk_version() -> str:
    from databricks.sdk.version import __version__

    return str(__version__)


if __name__ == "__main__":
    raise SystemExit(main())
