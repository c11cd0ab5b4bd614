"""The planner with an injected clock: lead days, holidays and 调休, the digest, catch-up after
downtime, done and postponed items, change notices, one delivery per destination, resends."""

from datetime import date, timedelta

from reminder_fixtures import at, make_item, make_subscription

from reminders.calendar import WorkdayCalendar
from reminders.models import SubscriptionFilter
from reminders.planner import DeadlineChange, NewItem, ReminderSettings, as_of, collect, digest_day, plan

CAL = WorkdayCalendar()
NO_DIGEST = ReminderSettings(digest_weekday=None, change_notices=False)


def run(now, items, subs=None, recorded=None, settings=NO_DIGEST, **kw):
    candidates = collect(now, settings, CAL, subs or [make_subscription()], items, **kw)
    return plan(candidates, recorded or {})


def kinds(result):
    return sorted((n.kind, n.lead_days) for d in result.deliveries for n in d.notices)


def test_the_slot_of_a_day_starts_at_send_at():
    assert as_of(at("2026-06-23", "08:59"), NO_DIGEST) == date(2026, 6, 22)
    assert as_of(at("2026-06-23", "09:00"), NO_DIGEST) == date(2026, 6, 23)


def test_lead_days_go_out_on_their_day_and_not_before():
    item = make_item(due=date(2026, 6, 30))  # Tuesday
    assert kinds(run(at("2026-06-23"), [item])) == [("lead", 7)]
    assert run(at("2026-06-23", "08:30"), [item]).deliveries == []  # before today's slot
    assert kinds(run(at("2026-06-29"), [item])) == [("lead", 1)]
    assert kinds(run(at("2026-06-30"), [item])) == [("lead", 0)]
    assert kinds(run(at("2026-07-01"), [item])) == [("overdue", -1)]


def test_a_reminder_on_a_holiday_goes_out_the_workday_before_and_tiaoxiu_saturdays_count():
    national_day = make_item(due=date(2026, 10, 7))  # 国庆: 10-01..10-07 off
    first = run(at("2026-09-30"), [national_day])
    assert kinds(first) == [("lead", 0)]  # 10-07 and 10-06 are off: the last workday before 国庆
    sent = {k: "sent" for d in first.deliveries for k in d.keys} | {n.key: s for n, s in first.quiet}
    assert run(at("2026-10-06"), [national_day], recorded=sent).deliveries == []
    tiaoxiu = make_item(due=date(2026, 10, 17))  # lead 7 -> 10-10, a 调休 Saturday workday
    assert kinds(run(at("2026-10-10"), [tiaoxiu])) == [("lead", 7)]


def test_reminders_falling_on_one_day_send_only_the_nearest():
    national_day = make_item(due=date(2026, 10, 7))  # 7, 1 and 0 days before all fall on 9-30
    result = run(at("2026-09-30"), [national_day])
    assert kinds(result) == [("lead", 0)]
    assert sorted((n.lead_days, state) for n, state in result.quiet) == [(1, "superseded"), (7, "superseded")]


def test_catch_up_after_downtime_sends_the_latest_missed_reminder_once():
    item = make_item(due=date(2026, 6, 30))
    result = run(at("2026-06-25", "10:00"), [item])  # down since before the 6-23 (7 days) reminder
    assert kinds(result) == [("lead", 7)]
    sent = {k: "sent" for d in result.deliveries for k in d.keys}
    assert run(at("2026-06-25", "10:10"), [item], recorded=sent).deliveries == []
    long_down = run(at("2026-07-20"), [item])  # the overdue notice (7-1) is older than catch_up_days
    assert long_down.deliveries == []


def test_new_subscribers_get_no_old_notices_and_done_items_none_at_all():
    item = make_item(due=date(2026, 6, 30))
    late = make_subscription(created="2026-06-24")
    assert run(at("2026-06-25"), [item], subs=[late]).deliveries == []
    done = make_item(due=date(2026, 6, 30), progress="done")
    assert run(at("2026-06-23"), [done]).deliveries == []


def test_filters_choose_items_per_subscription_and_a_chat_gets_one_delivery():
    pboc = make_item(1, due=date(2026, 6, 30))
    nea = make_item(2, due=date(2026, 6, 30), text="推进煤电机组节能改造。", lead=("自治区能源局",), support=(),
                    region="内蒙古自治区")
    by_region = make_subscription(1, chat_id=-100, flt=SubscriptionFilter(region="内蒙古自治区"))
    by_dept = make_subscription(2, chat_id=-100, flt=SubscriptionFilter(department="央行", cores=("人民银行",)))
    other = make_subscription(3, chat_id=-200, flt=SubscriptionFilter(department="国家能源局", exact=("国家能源局",)))
    result = run(at("2026-06-23"), [pboc, nea], subs=[by_region, by_dept, other])
    assert len(result.deliveries) == 1  # -200 follows 国家能源局 only, not 自治区能源局
    (delivery,) = result.deliveries
    assert delivery.subscription.chat_id == -100
    assert sorted(n.item.id for n in delivery.notices) == [1, 2]


def test_keyword_filter_is_normalised():
    item = make_item(text="完善北方地区清洁取暖价格政策。")
    flt = SubscriptionFilter(keyword="清潔取暖")  # traditional characters
    assert flt.matches(item)
    assert not SubscriptionFilter(keyword="光伏").matches(item)


def test_a_crash_after_claiming_sends_again_marked_as_resent():
    item = make_item(due=date(2026, 6, 30))
    first = run(at("2026-06-23"), [item])
    claimed = {k: "sending" for d in first.deliveries for k in d.keys}
    again = run(at("2026-06-23", "09:10"), [item], recorded=claimed)
    assert [n.resent for d in again.deliveries for n in d.notices] == [True]


def test_weekly_digest_lists_the_next_30_days_once_a_week():
    settings = ReminderSettings(change_notices=False)
    soon = make_item(1, due=date(2026, 12, 10))
    later = make_item(2, due=date(2027, 2, 1))
    monday = at("2026-11-23")
    result = run(monday, [soon, later], settings=settings)
    (digest,) = [n for d in result.deliveries for n in d.notices if n.kind == "digest"]
    assert [i.id for i in digest.items] == [1]
    assert digest.key == f"d:1:{date(2026, 11, 23).isoformat()}"
    tuesday = run(at("2026-11-24"), [soon], settings=settings, recorded={digest.key: "sent"})
    assert [n.kind for d in tuesday.deliveries for n in d.notices] == []


def test_digest_day_moves_past_a_holiday_monday_and_an_empty_digest_is_recorded_quietly():
    assert digest_day(date(2026, 10, 7), 0, CAL) == date(2026, 10, 8)  # 国庆 week: Thursday 10-08
    assert digest_day(date(2026, 11, 25), 0, CAL) == date(2026, 11, 23)
    result = run(at("2026-11-23"), [], settings=ReminderSettings(change_notices=False))
    assert result.deliveries == [] and [s for _, s in result.quiet] == ["empty"]


def test_change_notices_for_moved_deadlines_and_new_items_that_match():
    settings = ReminderSettings(digest_weekday=None)
    moved_item = make_item(1, due=date(2026, 9, 30), progress="postponed")
    change = DeadlineChange(77, at("2026-06-22", "15:00"), moved_item, date(2026, 6, 30), date(2026, 9, 30))
    fresh = NewItem(make_item(2, due=date(2026, 12, 31), text="建立碳排放统计核算制度。"), at("2026-06-22", "16:00"))
    wrong_region = NewItem(make_item(3, due=date(2026, 12, 31), region="浙江省"), at("2026-06-22", "16:00"))
    sub = make_subscription(flt=SubscriptionFilter(region="国家"))
    result = run(at("2026-06-23"), [], subs=[sub], settings=settings, changes=[change],
                 new_items=[fresh, wrong_region])
    notices = [n for d in result.deliveries for n in d.notices]
    assert [(n.kind, n.item.id, n.key) for n in notices] == [("moved", 1, "m:77:1"), ("new", 2, "n:2:1")]
    assert notices[0].previous_due == date(2026, 6, 30)
    newer = make_subscription(2, chat_id=-300, created="2026-06-23")  # subscribed after the changes
    assert run(at("2026-06-23"), [], subs=[newer], settings=settings, changes=[change],
               new_items=[fresh]).deliveries == []


def test_a_postponed_item_reminds_on_its_new_deadline():
    item = make_item(due=date(2026, 9, 30), progress="postponed", phrase="延期至2026年9月30日")
    assert run(at("2026-06-23"), [item]).deliveries == []
    assert kinds(run(at("2026-09-23") - timedelta(hours=0), [item])) == [("lead", 7)]
