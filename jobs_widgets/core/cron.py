"""When a job's Quartz cron schedule fires next (``settings.schedule`` of ``jobs/get``).

Databricks schedules are Quartz expressions (``sec min hour day-of-month month
day-of-week [year]``) with a ``timezone_id``. This module understands the common part
of the grammar: numbers, ``*``, ``?``, ranges, lists, steps (``0/15``, ``1-5/2``) and
month and day names. It refuses, with None rather than a guess, what it does not
model (``L``, ``W``, ``#``, both day fields restricted, an unknown time zone): the board
then shows the expression as the workspace says it, and no time.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {
    d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])
}  # Quartz: 1 = Sunday
_PART = re.compile(r"^(\*|\d+|\d+-\d+)(?:/(\d+))?$")
_BOUNDS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (1, 7))
HORIZON_DAYS = 366 * 4 + 1
"""How far ahead to look (leap days included); an expression that never fires within it has no next time."""


def _field(text: str, index: int) -> set[int] | None:
    """The values one field allows; None when it is unrestricted (``*`` or ``?``)."""
    low, high = _BOUNDS[index]
    names = _MONTHS if index == 4 else _DAYS if index == 5 else {}
    for name, value in names.items():
        text = text.replace(name, str(value))
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise ValueError(f"unsupported cron field {text!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if span == "*":
            start, end = low, high
        elif "-" in span:
            start, end = (int(x) for x in span.split("-"))
        else:
            start = int(span)
            end = high if match.group(2) else start
        if not (low <= start <= high and low <= end <= high) or start > end or step < 1:
            raise ValueError(f"cron field {text!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def next_fire(expression: str, timezone: str, after_s: float) -> float | None:
    """The first time (epoch seconds) strictly after ``after_s`` the schedule fires; None if unknown."""
    try:
        zone = ZoneInfo(timezone or "UTC")
        words = expression.upper().split()
        if len(words) not in (6, 7) or (len(words) == 7 and words[6] not in ("*", "?")):
            return None
        seconds, minutes, hours, dom, months, dow = (_field(w, i) for i, w in enumerate(words[:6]))
    except (ValueError, ZoneInfoNotFoundError):
        return None
    if dom is not None and dow is not None:
        return None  # Quartz itself refuses both; say nothing rather than guess
    start = dt.datetime.fromtimestamp(after_s, tz=zone)
    day = start.date()
    for _ in range(HORIZON_DAYS):
        quartz_dow = (day.isoweekday() % 7) + 1
        if (
            (months is None or day.month in months)
            and (dom is None or day.day in dom)
            and (dow is None or quartz_dow in dow)
        ):
            for hour in sorted(hours) if hours is not None else range(24):
                if day == start.date() and hour < start.hour:
                    continue  # already past (an ambiguous hour counts from its first occurrence)
                for minute in sorted(minutes) if minutes is not None else range(60):
                    for second in sorted(seconds) if seconds is not None else range(60):
                        local = dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
                        when = local.timestamp()
                        if when > after_s and dt.datetime.fromtimestamp(when, tz=zone).hour == hour:
                            return when  # (a time in a DST gap does not exist and is skipped)
        day += dt.timedelta(days=1)
    return None
