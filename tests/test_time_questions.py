"""Questions about time: window words and deadline status relative to today, and the lists they give."""

from dataclasses import replace
from datetime import date

import pytest

from knowledge.answer import Answer, render_text, time_note
from knowledge.deadlines import deadline_status
from knowledge.intents import understand
from knowledge.models import Deadline, Item
from knowledge.search import Hit

D = date
THURSDAY = D(2021, 6, 10)


@pytest.mark.parametrize(
    ("text", "window", "status"),
    [
        ("今年到期的事项", (D(2021, 1, 1), D(2021, 12, 31)), ""),
        ("年内要办完的工作有哪些", (D(2021, 1, 1), D(2021, 12, 31)), ""),
        ("明年到期的工作", (D(2022, 1, 1), D(2022, 12, 31)), ""),
        ("年底之前还要做的事情", (THURSDAY, D(2021, 12, 31)), ""),
        ("上半年截止的事项", (D(2021, 1, 1), D(2021, 6, 30)), ""),
        ("下半年有哪些工作截止", (D(2021, 7, 1), D(2021, 12, 31)), ""),
        ("明年上半年的任务", (D(2022, 1, 1), D(2022, 6, 30)), ""),
        ("本季度到期的事项", (D(2021, 4, 1), D(2021, 6, 30)), ""),
        ("这个季度的任务", (D(2021, 4, 1), D(2021, 6, 30)), ""),
        ("下个季度截止的", (D(2021, 7, 1), D(2021, 9, 30)), ""),
        ("今年第四季度到期的工作", (D(2021, 10, 1), D(2021, 12, 31)), ""),
        ("明年一季度要完成的事项", (D(2022, 1, 1), D(2022, 3, 31)), ""),
        ("下个月有哪些事项到期", (D(2021, 7, 1), D(2021, 7, 31)), ""),
        ("这个月到期的工作", (D(2021, 6, 1), D(2021, 6, 30)), ""),
        ("下周截止的任务", (D(2021, 6, 14), D(2021, 6, 20)), ""),
        ("未来15天到期的事项", (THURSDAY, D(2021, 6, 25)), ""),
        ("未来十天有什么要交的", (THURSDAY, D(2021, 6, 20)), ""),
        ("两周内截止的工作", (THURSDAY, D(2021, 6, 24)), ""),
        ("三个月内到期的事项", (THURSDAY, D(2021, 9, 10)), ""),
        ("即将到期的事项", (THURSDAY, D(2021, 7, 10)), ""),
        ("有什么快到期了", (THURSDAY, D(2021, 7, 10)), ""),
        ("还有几天就截止的工作", (THURSDAY, D(2021, 7, 10)), ""),
        ("已经过期的事项", (None, D(2021, 6, 9)), "expired"),
        ("哪些工作还没到期", (THURSDAY, None), "pending"),
        ("尚未过期的事项", (THURSDAY, None), "pending"),
        ("进行中的工作有哪些", (THURSDAY, None), "active"),
        ("今年已过期的工作", (D(2021, 1, 1), D(2021, 6, 9)), "expired"),
        ("下半年还没到期的事项", (D(2021, 7, 1), D(2021, 12, 31)), "pending"),
        ("本月底前要完成什么", (D(2021, 6, 1), D(2021, 6, 30)), ""),
        ("下个月底前要交的", (D(2021, 7, 1), D(2021, 7, 31)), ""),
        ("年底到期的工作", (D(2021, 12, 1), D(2021, 12, 31)), ""),
        ("今天到期的事项", (THURSDAY, THURSDAY), ""),
        ("最近要到期的工作", (THURSDAY, D(2021, 7, 10)), ""),
        ("超过期限的事项", (None, D(2021, 6, 9)), "expired"),
        ("还在推进的工作", (THURSDAY, None), "active"),
        ("2025年要完成哪些工作", (D(2025, 1, 1), D(2025, 12, 31)), ""),
        ("马上要到期的是哪个", (THURSDAY, D(2021, 7, 10)), ""),
        ("最早到期的事项", (THURSDAY, None), ""),
        ("还有哪些工作没完成", (THURSDAY, None), "pending"),
        ("不到一个月就到期的任务", (THURSDAY, D(2021, 7, 10)), ""),
        ("下个月初之前要交差的", (D(2021, 6, 1), D(2021, 6, 30)), ""),
    ],
)
def test_window_words_are_dates_relative_to_today(text, window, status):
    q = understand(text, THURSDAY)
    assert (q.window, q.status) == (window, status)
    assert q.wants_list and q.structured and q.core_is_only_filters, "a time filter alone is a list"


@pytest.mark.parametrize(
    ("today", "text", "window"),
    [
        (D(2021, 12, 15), "下个月到期的事项", (D(2022, 1, 1), D(2022, 1, 31))),
        (D(2021, 12, 15), "下个季度到期的事项", (D(2022, 1, 1), D(2022, 3, 31))),
        (D(2021, 11, 30), "未来两个月到期的事项", (D(2021, 11, 30), D(2022, 1, 30))),
    ],
)
def test_windows_roll_over_the_year(today, text, window):
    assert understand(text, today).window == window


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("9月底前要完成的工作", "9月底前"), ("年内持续推进的工作有哪些", "年内持续推进"), ("三季度要完成哪些", "三季度")],
)
def test_a_year_less_document_phrase_stays_a_phrase(text, phrase):
    """A month or quarter named without a year matches the documents' own phrase, whatever their year."""
    q = understand(text, THURSDAY)
    assert q.deadline_phrase == phrase and q.window is None


@pytest.mark.parametrize(
    ("text", "phrase", "window"),
    [
        ("今年12月底前要完成哪些工作", "12月底前", (D(2021, 1, 1), D(2021, 12, 31))),
        ("明年十二月底前要做完的", "12月底前", (D(2022, 1, 1), D(2022, 12, 31))),
        ("2023年6月30日前要完成的事项", "6月30日前", (D(2023, 1, 1), D(2023, 12, 31))),
    ],
)
def test_a_month_phrase_with_its_year_is_the_documents_phrase_in_that_year(text, phrase, window):
    q = understand(text, THURSDAY)
    assert (q.deadline_phrase, q.window) == (phrase, window) and q.structured and q.core_is_only_filters


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("2024年底前要完成哪些任务", (D(2024, 1, 1), D(2024, 12, 31))),  # one 年 for the year and its end
        ("2024年年底前要完成哪些任务", (D(2024, 1, 1), D(2024, 12, 31))),
        ("年底前要完成哪些任务", (THURSDAY, D(2021, 12, 31))),
        ("哪些活是卡在23年年底完成的", (D(2023, 12, 1), D(2023, 12, 31))),
        ("2024年底要完成的任务", (D(2024, 12, 1), D(2024, 12, 31))),
    ],
)
def test_a_year_end_is_the_end_of_the_year_said(text, window):
    q = understand(text, THURSDAY)
    assert q.window == window and q.wants_list and q.core_is_only_filters, text


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("7月到12月之间到期的任务有哪些", (D(2021, 7, 1), D(2021, 12, 31))),
        ("2022年3月至5月要完成什么", (D(2022, 3, 1), D(2022, 5, 31))),
        ("四季度末要交账的任务", (D(2021, 10, 1), D(2021, 12, 31))),  # a quarter's end: that quarter, this year
    ],
)
def test_a_range_of_months_and_a_quarters_end_are_windows(text, window):
    q = understand(text, THURSDAY)
    assert q.window == window and not q.deadline_phrase and q.wants_list and q.core_is_only_filters, text


def test_a_year_less_phrase_alone_is_a_list():
    q = understand("6月底前要完成什么", THURSDAY)
    assert q.deadline_phrase == "6月底前" and q.wants_list and q.structured


def test_words_that_only_look_like_time_are_no_window():
    for text in ("每一天都要节能", "碳减排支持工具什么时候出台", "2030年前碳达峰行动方案由谁制定"):
        assert understand(text, THURSDAY).window is None, text


def test_an_item_question_with_a_soon_word_stays_an_item_question():
    q = understand("碳减排支持工具还有几天到期", THURSDAY)
    assert q.wants_when and not q.wants_list


# ---------------------------------------------------------------------- lists on the bundled knowledge base


def listed(kb, question, today):
    answer = kb.ask(question, today)
    assert answer.mode == "list", question
    return answer


def shown_deadline(answer, item):
    from knowledge.answer import asked_deadline

    return asked_deadline(answer, item)


@pytest.mark.parametrize(
    ("question", "today", "start", "end"),
    [
        ("马上到期的事项", D(2021, 6, 10), D(2021, 6, 10), D(2021, 7, 10)),
        ("到年底前还有哪些工作", D(2021, 6, 10), D(2021, 6, 10), D(2021, 12, 31)),
        ("下半年截止的工作有哪些", D(2021, 3, 1), D(2021, 7, 1), D(2021, 12, 31)),
        ("明年到期的工作", D(2020, 5, 1), D(2021, 1, 1), D(2021, 12, 31)),
        ("2025年前要完成的工作有哪些", D(2021, 6, 10), None, D(2025, 12, 31)),
    ],
)
def test_a_window_list_has_only_its_window_soonest_first_and_says_the_window(kb, question, today, start, end):
    answer = listed(kb, question, today)
    assert answer.hits
    dues = []
    for h in answer.hits:
        d = shown_deadline(answer, h.item)
        assert d and d.due and (start is None or d.due >= start) and d.due <= end, h.item.text
        dues.append((d.due, d.ongoing))
    assert dues == sorted(dues), "soonest first; on one day dated work before ongoing work"
    note = f"{start.isoformat()} 至 {end.isoformat()} 到期" if start else f"{end.isoformat()} 及以前到期"
    assert render_text(answer).startswith(note)


def test_the_list_shows_the_deadline_in_the_window_not_the_first(kb):
    answer = listed(kb, "下半年截止的工作有哪些", D(2021, 6, 10))
    tool = next(h for h in answer.hits if "碳减排支持工具" in h.item.text)
    assert "年内持续推进（至 2021-12-31" in render_text(answer) and tool.item.deadlines[0].text.startswith("6月底前")


@pytest.mark.parametrize(
    ("question", "today", "wanted"),
    [
        ("已经过期的工作", D(2021, 7, 5), lambda s: s == "已过期"),
        ("还没到期的事项有哪些", D(2021, 7, 5), lambda s: s != "已过期"),
        ("进行中的工作有哪些", D(2021, 7, 5), lambda s: s.startswith("进行中")),
    ],
)
def test_a_status_list_has_only_that_status_today(kb, question, today, wanted):
    answer = listed(kb, question, today)
    assert answer.hits
    for h in answer.hits:
        d = shown_deadline(answer, h.item)
        assert d and wanted(deadline_status(d, today)), (h.item.text, d)
    assert render_text(answer).startswith(f"截至 {today.isoformat()}")


def test_an_expired_list_before_anything_expired_says_nothing_matches(kb):
    answer = listed(kb, "哪些任务已经逾期了", D(2021, 3, 1))
    assert answer.hits == [] and "没有符合" in render_text(answer)


def test_work_marked_done_is_not_listed_as_due_soon(kb):
    answer = listed(kb, "马上到期的事项", D(2021, 6, 10))
    item = answer.hits[0].item
    kb.store.update_item(replace(item, progress="done"), actor="test", action="done")
    again = listed(kb, "马上到期的事项", D(2021, 6, 10))
    assert item.id not in [h.item.id for h in again.hits]


def test_a_phrase_with_its_year_lists_that_years_items_and_says_both(kb):
    answer = listed(kb, "2021年12月底前要完成哪些工作", D(2021, 6, 10))
    assert answer.hits and all(shown_deadline(answer, h.item).due == D(2021, 12, 31) for h in answer.hits)
    assert render_text(answer).startswith("2021-01-01 至 2021-12-31 到期，期限写作“12月底前”")
    assert listed(kb, "2022年12月底前要完成哪些工作", D(2021, 6, 10)).hits == []


def test_a_year_less_phrase_list_says_the_year(kb):
    answer = listed(kb, "12月底前有哪些工作要完成", D(2021, 6, 10))
    assert answer.hits and "均为2021年期限" in render_text(answer)


def _hit(text, due):
    return Hit(Item(text=text, deadlines=[Deadline("9月底前完成", due=due)], id=len(text)), 1.0)


def test_a_phrase_list_over_several_years_says_so():
    base = dict(question="9月底前要完成的", mode="list", confident=True, deadline_phrase="9月底前",
                asked_deadline=lambda d: "9月底前" in d.text)
    mixed = Answer(**base, hits=[_hit("甲", D(2021, 9, 30)), _hit("乙乙", D(2022, 9, 30))])
    assert time_note(mixed) == "“9月底前”分属2021、2022年，见各条日期"
    one = Answer(**base, hits=[_hit("甲", D(2022, 9, 30)), _hit("乙乙", D(2022, 9, 30))])
    assert time_note(one) == "“9月底前”均为2022年期限"
    undated = Answer(**base, hits=[_hit("甲", None)])
    assert "年份未定" in time_note(undated)


def test_a_window_page_is_the_start_of_the_whole_window_soonest_first(kb):
    window = {"due_from": D(2021, 1, 1), "due_to": D(2025, 12, 31), "soonest_first": True}
    every, more = kb.store.filter_items(**window, limit=1000)
    assert not more and len(every) > 3
    page, more = kb.store.filter_items(**window, limit=3)
    assert page == every[:3] and more
    items = kb.store.get_items(every)

    def first_due(i):
        return min((d.due, d.ongoing) for d in items[i].deadlines if d.due and D(2021, 1, 1) <= d.due <= D(2025, 12, 31))

    assert [first_due(i) for i in every] == sorted(first_due(i) for i in every)


def test_a_year_less_phrase_with_a_status_says_both(kb):
    answer = listed(kb, "12月底前还没到期的工作", D(2021, 6, 10))
    text = render_text(answer)
    assert answer.hits and text.startswith("截至 2021-06-10 尚未到期，“12月底前”均为2021年期限")
    assert listed(kb, "12月底前还没到期的工作", D(2022, 1, 5)).hits == []


@pytest.mark.parametrize(("text", "today", "window"), [
    ("今天是2021年6月10日，这个月底前要出台的政策有哪些", D(2021, 6, 10), (D(2021, 6, 1), D(2021, 6, 30))),
    ("按今天2021-06-10算，下半年到期的任务", D(2021, 6, 10), (D(2021, 7, 1), D(2021, 12, 31))),
    ("到今天2021年6月10日还没到期的任务有哪些", D(2021, 6, 10), (D(2021, 6, 10), None)),
    ("今天是2021年2月30日，本月到期的任务", D(2026, 11, 30), (D(2026, 11, 1), D(2026, 11, 30))),  # no such day
])
def test_a_day_the_question_states_is_today_for_it(text, today, window):
    q = understand(text, D(2026, 11, 30))
    assert (q.today, q.window) == (today, window)
    assert q.deadline_phrase == ""  # the stated day is no deadline phrase (6月10日)


def test_an_answer_counts_days_from_the_day_the_question_states(kb):
    answer = kb.ask("今天是2021年6月10日，碳减排支持工具什么时候出台", D(2026, 11, 30))
    assert answer.today == D(2021, 6, 10) and "还剩20天" in render_text(answer)


def test_a_departments_list_whose_items_fall_due_in_other_years_says_so_and_lists_them(kb):
    later = D(2026, 12, 1)
    answer = listed(kb, "住建部今年参与了哪些任务", later)
    everything = listed(kb, "住建部参与了哪些任务", later)
    assert answer.hits and [h.item.id for h in answer.hits] == [h.item.id for h in everything.hits]
    assert answer.confident and all(shown_deadline(answer, h.item) is None for h in answer.hits)
    assert render_text(answer).startswith("2026-01-01 至 2026-12-31 到期：没有。不限这一时段，共找到")
    # a status asked stays: none of its items is still to come
    assert listed(kb, "住建部今年还没到期的任务", later).hits == []
    # in its own year the window holds, and says nothing of other years
    in_2021 = listed(kb, "住建部今年参与了哪些任务", D(2021, 6, 10))
    assert in_2021.hits and "不限这一时段" not in render_text(in_2021)
    assert all(shown_deadline(in_2021, h.item).due.year == 2021 for h in in_2021.hits)
    # no department named: an empty window stays empty
    assert listed(kb, "明年到期的工作", later).hits == []


def test_a_departments_time_list_puts_work_due_by_a_date_before_work_that_goes_on(kb):
    answer = listed(kb, "发改委年底前到期的任务", D(2021, 6, 10))
    due = [shown_deadline(answer, h.item) for h in answer.hits]
    assert all(due) and any(d.ongoing for d in due) and any(not d.ongoing for d in due)
    ranks = [kb.searcher.role_rank(kb.searcher.search("发改委年底前到期的任务", D(2021, 6, 10)).question, h.item)[0]
             for h in answer.hits]
    keys = [(rank, d.ongoing) for rank, d in zip(ranks, due, strict=True)]
    assert keys == sorted(keys)  # within a role, 12月底前完成 before 年内持续推进
    assert "北方地区清洁取暖率达到70" in " ".join(h.item.text for h in answer.hits[:5])  # (发改委 named second)
