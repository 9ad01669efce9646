"""The one date formatter: weekday, day and month, the year only when it is another year."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from common.dates import format_day

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-12-04", "Friday 4 December"),
    (date(2026, 12, 4), "Friday 4 December"),
    (datetime(2026, 3, 1, 23, 59), "Sunday 1 March"),
    ("2026-12-04T10:00:00", "Friday 4 December"),  # a timestamp: its day
    ("2027-01-04", "Monday 4 January 2027"),  # not this year: the year is said
    ("2025-11-30", "Sunday 30 November 2025"),
    (None, "?"), ("", "?"), ("soon", "?"),
])  # fmt: skip
def test_format_day(day, expected):
    assert format_day(day, TODAY) == expected
