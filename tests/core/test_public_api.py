"""``jobs_widgets.core.__all__`` is the public contract, and nothing else is public there (as httpx checks)."""

from __future__ import annotations

import types

import jobs_widgets.core as core

CONTRACT = {
    # docs/architecture.md section 3: the registry, handles, configuration, errors, models, policies, clocks.
    "Jobs", "JobHandle", "JobConfig", "TaskType", "PollPolicy",
    "Run", "RunUpdate", "RunOutput", "RunState", "JobInfo", "JobParameter", "TaskInfo", "TaskOutput", "TaskRun",
    "RunWatch", "AsyncRunWatch",
    "JobsError", "UnknownJobError", "JobNotConfiguredError", "ParamsError", "RunScopeError",
    "WaitTimeoutError", "JobsApiError", "JobsClosedError",
    "Clock", "SystemClock", "ScaledClock", "ManualClock",
}  # fmt: skip


def test_all_is_the_contract_sorted() -> None:
    assert set(core.__all__) == CONTRACT
    assert core.__all__ == sorted(core.__all__, key=str.casefold)


def test_every_public_name_in_the_namespace_is_in_all() -> None:
    public = {
        name
        for name, value in vars(core).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert public == set(core.__all__), public ^ set(core.__all__)


def test_internals_live_in_their_modules() -> None:
    from jobs_widgets.core.eta import Eta
    from jobs_widgets.core.hub import Hub, get_hub
    from jobs_widgets.core.params import map_params

    for name in ("Hub", "get_hub", "shutdown_hub", "Eta", "map_params", "Health"):
        assert not hasattr(core, name), name
    assert Hub and get_hub and Eta and map_params
