"""Chinese workdays: public holidays and 调休 make-up workdays from chinese-calendar, plus days an
admin adds in config. Beyond the years chinese-calendar knows, weekdays count; the years met without
data are collected, and `warn_missing_years` logs each once per database (not once per run)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

import chinese_calendar

log = logging.getLogger(__name__)
WARNED_SETTING = "calendar_warned_years"  # settings key: years already warned about, comma-separated


def last_known_year() -> int:
    """The latest year chinese-calendar has the State Council's holiday arrangement for."""
    return max(chinese_calendar.holidays).year


class WorkdayCalendar:
    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.configured_years = frozenset(d.year for d in self.holidays | self.workdays)
        self.missing_years: set[int] = set()  # years asked about that neither source knows

    def knows(self, year: int) -> bool:
        """Whether the year's holidays are known (from chinese-calendar or from config)."""
        return year <= last_known_year() or year in self.configured_years

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self.configured_years:
                self.missing_years.add(day.year)
            return day.weekday() < 5

    def workday_on_or_before(self, day: date) -> date:
        """The day itself if it is a workday, else the last workday before it."""
        for _ in range(60):
            if self.is_workday(day):
                return day
            day -= timedelta(days=1)
        return day


class Settings(Protocol):
    def get_setting(self, key: str) -> str | None: ...
    def set_setting(self, key: str, value: str) -> None: ...


def warned_years(settings: Settings) -> set[int]:
    return {int(y) for y in (settings.get_setting(WARNED_SETTING) or "").split(",") if y.strip().isdigit()}


def warn_missing_years(calendar: WorkdayCalendar, settings: Settings) -> list[int]:
    """Log a warning for each year the calendar met without data, once per database (remembered in
    its settings); returns the years warned about now. The caller commits."""
    new = sorted(calendar.missing_years - warned_years(settings))
    if not new:
        return []
    for year in new:
        log.warning("chinese-calendar has no holiday data for %s: weekends only; add holidays and 调休 "
                    "workdays under [reminders] holidays / workdays (this warning is shown once)", year)
    settings.set_setting(WARNED_SETTING, ",".join(str(y) for y in sorted(warned_years(settings) | set(new))))
    return new


def calendar_note(calendar: WorkdayCalendar, day: date) -> str:
    """A line for a reminder sent on a day whose year the calendar does not know, else ""."""
    if calendar.knows(day.year):
        return ""
    return (f"注：{day.year}年的法定节假日安排尚未收录，提醒日按周末推算（节假日和调休未计入），"
            "如遇节假日请以实际安排为准。")
