"""Chinese workdays: public holidays and 调休 make-up workdays from chinese-calendar, plus days an
admin adds in config. Beyond the years chinese-calendar knows, weekdays count, with one warning a year."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)


class WorkdayCalendar:
    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self._warned: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("chinese-calendar has no holiday data for %s: weekends only; add holidays and 调休 "
                            "workdays under [reminders] holidays / workdays", day.year)
            return day.weekday() < 5

    def workday_on_or_before(self, day: date) -> date:
        """The day itself if it is a workday, else the last workday before it."""
        for _ in range(60):
            if self.is_workday(day):
                return day
            day -= timedelta(days=1)
        return day
