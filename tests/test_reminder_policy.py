from datetime import date

import pytest

from knowledge.models import Deadline, Departments, Item
from reminders.calendar import WorkdayCalendar
from reminders.policy import OVERDUE, due_reminders, reminders_for, send_day

CAL = WorkdayCalendar()


@pytest.mark.parametrize(
    ("due", "lead", "expected"),
    [
        (date(2026, 6, 30), 7, date(2026, 6, 23)),     # a Tuesday: as is
        (date(2026, 6, 30), 9, date(2026, 6, 18)),     # 6-21 is a Sunday and 6-19 is 端午: Thursday 6-18
        (date(2026, 10, 5), 0, date(2026, 9, 30)),     # 国庆 holiday: the last workday before it
        (date(2026, 10, 8), 0, date(2026, 10, 8)),     # the first workday after 国庆
        (date(2026, 10, 10), 0, date(2026, 10, 10)),   # 调休: a Saturday that is a workday
        (date(2026, 11, 22), 0, date(2026, 11, 20)),   # a Sunday -> Friday
        (date(2026, 11, 20), OVERDUE, date(2026, 11, 23)),  # overdue notice: next workday after the due date
    ],
)
def test_send_day(due, lead, expected):
    assert send_day(due, lead, CAL) == expected


def test_config_days_override_and_years_beyond_the_data_fall_back_to_weekdays(caplog):
    cal = WorkdayCalendar(holidays={date(2027, 1, 4)}, workdays={date(2027, 1, 9)})
    assert not cal.is_workday(date(2027, 1, 4))  # a Monday made a holiday in config
    assert cal.is_workday(date(2027, 1, 9))  # a Saturday made a workday in config
    assert cal.is_workday(date(2027, 1, 5)) and not cal.is_workday(date(2027, 1, 10))
    assert cal.missing_years == set()  # a year given days in config counts as known
    plain = WorkdayCalendar()
    assert plain.is_workday(date(2028, 1, 3)) and plain.missing_years == {2028}
    assert not any("no holiday data" in r.message for r in caplog.records)  # logged once per database, elsewhere


def item(**kw):
    defaults = dict(text="设立碳减排支持工具。", id=13, deadlines=[Deadline("6月底前出台相关政策", date(2026, 6, 30))],
                    departments=Departments(("人民银行",), ("生态环境部",)))
    return Item(**{**defaults, **kw})


def test_reminders_for_lead_days_and_done_items():
    rs = reminders_for(item(), 1, [30, 7, 1, 0], CAL)
    assert [r.lead_days for r in rs] == [30, 7, 1, 0, OVERDUE]
    assert len({r.key for r in rs}) == 5
    assert reminders_for(item(progress="done"), 1, [7], CAL) == []
    assert reminders_for(item(deadlines=[Deadline("3年内")]), 1, [7], CAL) == []


def test_missed_reminders_go_out_once_and_only_the_latest():
    rs = reminders_for(item(), 1, [30, 7, 1, 0], CAL)
    today = date(2026, 6, 25)  # down since before the 30-day (5-29) and 7-day (6-23) reminders
    due, superseded = due_reminders(rs, today, sent=set())
    assert [r.lead_days for r in due] == [7]
    assert [r.lead_days for r in superseded] == [30]
    assert due_reminders(rs, today, sent={r.key for r in due + superseded}) == ([], [])
    due, _ = due_reminders(rs, date(2026, 6, 29), sent={r.key for r in rs if r.lead_days in (30, 7)})
    assert [r.lead_days for r in due] == [1]


def test_new_subscribers_get_no_old_notices():
    rs = reminders_for(item(), 1, [30, 7, 1, 0], CAL)
    due, superseded = due_reminders(rs, date(2026, 11, 21), sent=set(), since=date(2026, 11, 20))
    assert due == [] and superseded == []
