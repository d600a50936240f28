"""The ``jobs-widgets`` command: run the sandbox, or the demo.

``jobs-widgets sandbox [--port P] [--speed S] [--seed N] [--fault SPEC ...]``
    Start the embedded workspace, print the ``export`` lines that point a shell (and
    any notebook started from it) at it, and serve until interrupted. ``SPEC`` is
    ``ENDPOINT:KIND[:P[:ARG]]`` (see :mod:`jobs_widgets.sandbox.faults`).

``jobs-widgets demo [--headless | --scripted] [--speed S] [--no-browser]``
    The guided tour (see :mod:`jobs_widgets.demo`); Ctrl-C, SIGTERM or SIGHUP stop it
    and everything it started.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence


def _sandbox(args: argparse.Namespace) -> int:
    from jobs_widgets.sandbox import Sandbox

    try:
        sb = Sandbox(speed=args.speed, seed=args.seed, port=args.port, faults=args.fault or ())
    except ValueError as exc:
        print(f"jobs-widgets sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        sb.start()
    except OSError as exc:
        print(f"jobs-widgets sandbox: cannot listen on port {args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(f"# jobs_widgets sandbox at {sb.host} (speed {args.speed:g}, seed {args.seed}); Ctrl-C to stop")
        for name, value in sb.attach_env().items():
            print(f"export {name}={shlex.quote(value)}")
        print(
            "# kernels started from here: %jobs sandbox start attaches; %jobs sandbox fault/script change it"
        )
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    print("# sandbox stopped", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from jobs_widgets.demo import main as demo_main

    return demo_main(
        headless=args.headless, speed=args.speed, scripted=args.scripted, open_browser=not args.no_browser
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobs-widgets", description="Databricks Lakeflow Jobs in the notebook."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sandbox = sub.add_parser("sandbox", help="serve the embedded local workspace")
    sandbox.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    sandbox.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    sandbox.add_argument("--seed", type=int, default=0, help="seed for job histories, outcomes and faults")
    sandbox.add_argument(
        "--fault",
        action="append",
        metavar="ENDPOINT:KIND[:P[:ARG]]",
        help=(
            "inject a fault with probability P (default 1) on ENDPOINT (or *), repeatable; KIND: "
            "403 404 500 502 503 504, 429 (ARG: Retry-After s), latency (ARG: delay s), "
            "drop (close unanswered), reset (TCP reset), hang (never answer), "
            "drip (ARG: s per byte, default 1); e.g. runs/get:503:0.1, '*:429:0.05:2', "
            "runs/get:hang:0.1, runs/get:drip:1, '*:reset:0.05'"
        ),
    )
    sandbox.set_defaults(func=_sandbox)

    demo = sub.add_parser("demo", help="the guided tour on the embedded sandbox")
    demo.add_argument(
        "--headless", action="store_true", help="run the tour without a browser and print a summary"
    )
    demo.add_argument(
        "--scripted", action="store_true", help="drive the sandbox with the SDK only (no notebook)"
    )
    demo.add_argument(
        "--speed", type=float, help="simulated seconds per real second (default: 1, or 20 with --headless)"
    )
    demo.add_argument(
        "--no-browser", action="store_true", help="serve JupyterLab without opening a browser (print its URL)"
    )
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.speed is not None and args.speed <= 0:
        parser.error("--speed must be positive")
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
