"""Dates as shoppers read them, in the shop's locale (``AISLE_SHOP_LOCALE``): "Friday 4 December"
in en_GB, "Friday, December 4" in en_US, "Freitag, 4. Dezember" in de_DE; the year only when it
is not this year."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, match_skeleton

# the locale's own pattern for weekday, day and month (with the year), with the names in full
_SKELETONS = {False: "MMMEd", True: "yMMMEd"}
_ABBREVIATED = re.compile(r"(?<![ME])(MMM|E{1,3})(?![ME])")


@lru_cache(maxsize=32)
def day_pattern(locale: str, with_year: bool) -> str:
    """The CLDR pattern of ``locale`` closest to weekday-day-month(-year), names written out
    ("E d MMM" → "EEEE d MMMM"); quoted literals are left alone."""
    parsed = Locale.parse(locale)
    skeletons = parsed.datetime_skeletons
    found = match_skeleton(_SKELETONS[with_year], skeletons) or _SKELETONS[with_year]
    pattern = skeletons[found].pattern if found in skeletons else parsed.date_formats["full"].pattern
    parts = pattern.split("'")  # even parts are pattern letters, odd ones quoted text
    wide = {"MMM": "MMMM", "E": "EEEE", "EE": "EEEE", "EEE": "EEEE"}
    return "'".join(
        _ABBREVIATED.sub(lambda m: wide[m.group(1)], part) if i % 2 == 0 else part
        for i, part in enumerate(parts)
    )


@lru_cache(maxsize=1)
def shop_locale() -> str:
    """The shop's locale, read from the settings once per process (as every setting is)."""
    from common.settings import get_settings

    return get_settings().shop_locale


def format_day(day: str | date | datetime | None, today: date | None = None,
               locale: str | None = None) -> str:
    """``"2026-12-04"`` → ``"Friday 4 December"`` (en_GB); another year than ``today``'s adds it
    (``"Monday, 4 January 2027"``); nothing (or text that is not a date) is ``"?"``. ``locale``
    defaults to the shop's (settings)."""
    if day is None or day == "":
        return "?"
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            return "?"
    if isinstance(day, datetime):
        day = day.date()
    locale = locale or shop_locale()
    today = today or date.today()
    with_year = day.year != today.year
    return format_date(day, day_pattern(locale, with_year), locale=locale)
