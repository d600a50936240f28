"""A sandbox running in another process, scripted over loopback as if it were here.

The interactive demo's sandbox lives in the demo process, and ``jobs-widgets sandbox``'s
in its own; a kernel attached to either has only the address and the token. A
:class:`RemoteSandbox` offers the scripting part of :class:`~jobs_widgets.sandbox.Sandbox`
through the sandbox's ``/api/sandbox/...`` endpoints (:mod:`~jobs_widgets.sandbox.admin`)::

    sb = RemoteSandbox(os.environ["JOBS_WIDGETS_SANDBOX"], os.environ["DATABRICKS_TOKEN"])
    sb.engine.script("etl", outcome="FAILED", fail_task="transform")
    sb.faults.add("runs/get:503:0.1")
    sb.faults.clear()

Only these: the engine's records, the clock and the request log stay in the process
that owns the sandbox. ``%jobs sandbox`` returns one as ``.sandbox`` when the kernel is
attached to a sandbox started elsewhere.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from jobs_widgets.sandbox.faults import FaultRule

__all__ = ["RemoteSandbox", "SandboxUnreachableError"]

TIMEOUT_S = 10.0


class SandboxUnreachableError(ConnectionError):
    """The sandbox did not answer (it stopped, or the address is wrong)."""


class RemoteSandbox:
    """The sandbox at ``host`` (``http://127.0.0.1:<port>``), scripted with its own ``token``."""

    def __init__(self, host: str, token: str) -> None:
        if not host.startswith(("http://", "https://")):
            raise ValueError(f"a sandbox address starts with http:// or https://, not {host!r}")
        self.host = host.rstrip("/")
        self._token = token
        self.faults = RemoteFaults(self)
        self.engine = RemoteEngine(self)

    def status(self) -> dict[str, Any]:
        """``{"speed", "seed", "jobs": {key: id}, "faults": [rule, ...]}``."""
        return self.call("GET", "status")

    @property
    def jobs(self) -> dict[str, int]:
        """Job key -> job id, as :attr:`Sandbox.jobs <jobs_widgets.sandbox.Sandbox.jobs>`."""
        return {str(k): int(v) for k, v in self.status()["jobs"].items()}

    def call(self, method: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One ``/api/sandbox/<name>`` request; a refusal is a ``ValueError`` with the sandbox's message."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            f"{self.host}/api/sandbox/{name}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:  # noqa: S310 - checked in __init__
                answer: dict[str, Any] = json.loads(resp.read() or b"{}")
                return answer
        except urllib.error.HTTPError as err:
            try:
                message = str(json.loads(err.read()).get("message") or err.reason)
            except ValueError:
                message = str(err.reason)
            if err.code in {401, 403}:
                raise PermissionError(f"the sandbox at {self.host} refused: {message}") from None
            raise ValueError(message) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SandboxUnreachableError(f"cannot reach the sandbox at {self.host}: {reason}") from None

    def __repr__(self) -> str:
        return f"<RemoteSandbox at {self.host}>"


class RemoteFaults:
    """``sb.faults`` of a :class:`RemoteSandbox`: ``add``, ``clear``, ``rules``."""

    def __init__(self, sandbox: RemoteSandbox) -> None:
        self._sandbox = sandbox

    def add(self, rule: FaultRule | str) -> FaultRule:
        parsed = FaultRule.parse(rule) if isinstance(rule, str) else rule  # a bad rule fails here, as locally
        self._sandbox.call("POST", "faults", {"add": [parsed.spec()]})
        return parsed

    def clear(self) -> None:
        self._sandbox.call("POST", "faults", {"clear": True})

    @property
    def rules(self) -> list[FaultRule]:
        return [FaultRule.parse(rule) for rule in self._sandbox.status()["faults"]]


class RemoteEngine:
    """``sb.engine`` of a :class:`RemoteSandbox`: ``script`` and ``clear_scripts``."""

    def __init__(self, sandbox: RemoteSandbox) -> None:
        self._sandbox = sandbox

    def script(self, job: str | int, *, times: int = 1, **overrides: Any) -> None:
        """Decide the next ``times`` runs of ``job`` (see :meth:`Engine.script`)."""
        self._sandbox.call("POST", "script", {"job": job, "times": times, "script": overrides})

    def clear_scripts(self, job: str | int) -> None:
        """Forget the scripted runs of ``job`` not yet started."""
        self._sandbox.call("POST", "script", {"job": job, "clear": True})
