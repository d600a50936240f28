"""Property tests: env discovery and parameter mapping never fail in undocumented ways."""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jobs_widgets.core import JobConfig, JobNotConfiguredError, Jobs, ParamsError, TaskType, UnknownJobError
from jobs_widgets.core.params import check_user_params, map_params, prepare_run_fields
from pydantic import BaseModel

_names = st.text(alphabet=string.ascii_letters + string.digits + "_-. ", min_size=0, max_size=12)
_values = st.one_of(
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    st.text(max_size=12),
    st.sampled_from(["42abc", "0", "-5", "1e3", " 7", "007", "", "  ", "9223372036854775808"]),
)
_env = st.dictionaries(
    st.one_of(_names.map(lambda n: "DATABRICKS_JOB_" + n), st.just("DATABRICKS_JOB_ID"), _names),
    _values,
    max_size=8,
)


@settings(max_examples=300)
@given(env=_env, lookup=_names)
def test_discovery_only_raises_documented_errors(env: dict[str, str], lookup: str) -> None:
    jobs = Jobs.from_env(env=env)
    keys = jobs.keys()
    assert len(keys) == len({k.lower() for k in keys})
    for key in [*keys, lookup]:
        try:
            handle = jobs(key)
        except (UnknownJobError, JobNotConfiguredError) as exc:
            assert "\n" not in str(exc)
            continue
        assert handle.job_id > 0
        # The id came, digit for digit, from one of the job variables.
        sources = [v for n, v in env.items() if n.startswith("DATABRICKS_JOB_")]
        assert any(v.isascii() and v.isdigit() and int(v) == handle.job_id for v in sources)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_params = st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), _json, max_size=6)


@settings(max_examples=400)
@given(task_type=st.sampled_from([t for t in TaskType if t is not TaskType.AUTO]), params=_params)
def test_mapping_only_raises_params_error(task_type: TaskType, params: dict[Any, Any]) -> None:
    try:
        fields = map_params(task_type, params)
    except ParamsError as exc:
        assert "\n" not in str(exc)
        return
    for value in fields.values():
        items = value.values() if isinstance(value, dict) else value
        assert all(isinstance(v, str) for v in items)


class Typed(BaseModel):
    when: dt.date
    count: int = 1
    flag: bool = False
    note: str | None = None


@settings(max_examples=300)
@given(
    params=st.one_of(
        _params,
        st.dictionaries(st.sampled_from(["when", "count", "flag", "note"]), st.text(max_size=12), max_size=4),
        st.lists(st.integers()),
        st.text(),
    )
)
def test_user_input_through_a_model_only_raises_params_error(params: Any) -> None:
    config = JobConfig(task_type=TaskType.NOTEBOOK, params=Typed)
    try:
        checked = check_user_params(params, config, job_key="etl")
        fields = prepare_run_fields(config, checked, job_key="etl", task_type=TaskType.NOTEBOOK)
    except ParamsError as exc:
        assert "\n" not in str(exc)
        return
    notebook = fields["notebook_params"]
    assert set(notebook) >= {"when", "count", "flag"}
    assert notebook["flag"] in {"true", "false"}
    dt.date.fromisoformat(notebook["when"])


def test_model_coerces_strings_from_user_input() -> None:
    config = JobConfig(task_type=TaskType.NOTEBOOK, params=Typed)
    fields = prepare_run_fields(
        config,
        {"when": "2026-02-03", "count": "7", "flag": "yes"},
        job_key="etl",
        task_type=TaskType.NOTEBOOK,
    )
    assert fields == {"notebook_params": {"when": "2026-02-03", "count": "7", "flag": "true"}}
