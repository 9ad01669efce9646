"""The one date formatter: weekday, day and month in the shop's locale, the year only when it is
another year."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from common.dates import format_day, shop_locale
from common.settings import SettingsError, get_settings

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-12-04", "Friday 4 December"),
    (date(2026, 12, 4), "Friday 4 December"),
    (datetime(2026, 3, 1, 23, 59), "Sunday 1 March"),
    ("2026-12-04T10:00:00", "Friday 4 December"),  # a timestamp: its day
    ("2027-01-04", "Monday, 4 January 2027"),  # not this year: the year is said
    ("2025-11-30", "Sunday, 30 November 2025"),
    (None, "?"), ("", "?"), ("soon", "?"),
])  # fmt: skip
def test_format_day(day, expected):
    assert format_day(day, TODAY, locale="en_GB") == expected


@pytest.mark.parametrize(("locale", "this_year", "next_year"), [
    ("en_US", "Friday, December 4", "Monday, January 4, 2027"),
    ("de_DE", "Freitag, 4. Dezember", "Montag, 4. Januar 2027"),
    ("fr_FR", "vendredi 4 décembre", "lundi 4 janvier 2027"),
])  # fmt: skip
def test_the_locale_orders_and_names_the_parts(locale, this_year, next_year):
    assert format_day("2026-12-04", TODAY, locale=locale) == this_year
    assert format_day("2027-01-04", TODAY, locale=locale) == next_year


def test_the_shops_locale_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("AISLE_SHOP_LOCALE", "en_US")
    shop_locale.cache_clear()  # the settings are read once per process: this test is a new one
    try:
        assert format_day("2026-12-04", TODAY) == "Friday, December 4"
    finally:
        shop_locale.cache_clear()
    monkeypatch.setenv("AISLE_SHOP_LOCALE", "xx_NOWHERE")
    with pytest.raises(SettingsError, match="AISLE_SHOP_LOCALE"):
        get_settings()
