"""Dates as shoppers read them: "Friday 4 December" (the year only when it is not this year)."""

from __future__ import annotations

from datetime import date, datetime


def format_day(day: str | date | datetime | None, today: date | None = None) -> str:
    """``"2026-12-04"`` → ``"Friday 4 December"``; another year than ``today``'s adds it
    (``"Monday 4 January 2027"``); nothing (or text that is not a date) is ``"?"``."""
    if day is None or day == "":
        return "?"
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            return "?"
    if isinstance(day, datetime):
        day = day.date()
    today = today or date.today()
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"
