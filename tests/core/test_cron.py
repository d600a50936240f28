"""Next fire times of Quartz cron schedules, in their time zone; None for what is not modelled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from jobs_widgets.core.cron import next_fire


def at(text: str, zone: str = "UTC") -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        ("0 0 2 * * ?", "UTC", "2026-03-10 01:00:00", "2026-03-10 02:00:00"),
        ("0 0 2 * * ?", "UTC", "2026-03-10 02:00:00", "2026-03-11 02:00:00"),  # strictly after
        ("0 0 2 * * ?", "Europe/Paris", "2026-03-10 01:00:00", "2026-03-10 02:00:00"),
        ("0 0/15 * * * ?", "UTC", "2026-03-10 10:07:30", "2026-03-10 10:15:00"),
        (
            "0 30 9 ? * MON-FRI",
            "America/New_York",
            "2026-03-13 10:00:00",
            "2026-03-16 09:30:00",
        ),  # Fri -> Mon
        ("0 0 6 1 JAN,JUL ?", "UTC", "2026-03-10 00:00:00", "2026-07-01 06:00:00"),
        ("0 0 0 29 2 ?", "UTC", "2026-03-01 00:00:00", "2028-02-29 00:00:00"),  # the next leap day
        ("30 * * * * ?", "UTC", "2026-03-10 23:59:40", "2026-03-11 00:00:30"),
        (
            "0 30 2 * * ?",
            "Europe/Paris",
            "2026-03-29 00:00:00",
            "2026-03-30 02:30:00",
        ),  # 02:30 does not exist
    ],
)
def test_next_fire(expression: str, zone: str, after: str, expected: str) -> None:
    assert next_fire(expression, zone, at(after, zone)) == at(expected, zone)


@pytest.mark.parametrize(
    ("expression", "zone"),
    [
        ("0 0 2 L * ?", "UTC"),  # last day of month: not modelled
        ("0 0 2 ? * 6#3", "UTC"),  # third Friday: not modelled
        ("0 0 2 1 * MON", "UTC"),  # both day fields restricted
        ("0 0 25 * * ?", "UTC"),  # out of range
        ("0 0 2 * *", "UTC"),  # too few fields
        ("0 0 2 * * ? 2030", "UTC"),  # a year field
        ("0 0 2 * * ?", "Mars/Olympus"),  # unknown zone
        ("0 0 2 31 2 ?", "UTC"),  # never
    ],
)
def test_what_is_not_modelled_has_no_next_time(expression: str, zone: str) -> None:
    assert next_fire(expression, zone, at("2026-03-10 00:00:00")) is None
