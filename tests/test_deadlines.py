import re
from datetime import date

import pytest

from knowledge.deadlines import deadline_status, find_deadlines, five_year_plan, parse_deadline
from knowledge.models import Deadline

D = date


@pytest.mark.parametrize(
    ("text", "doc_year", "expected"),
    [
        # (phrase as found, due, start, ongoing)
        ("6月底前出台相关政策", 2021, [("6月底前", D(2021, 6, 30), None, False)]),
        ("12月底前完成", 2021, [("12月底前", D(2021, 12, 31), None, False)]),
        ("十二月底前完成", 2021, [("十二月底前", D(2021, 12, 31), None, False)]),
        ("年底前完成", 2022, [("年底前", D(2022, 12, 31), None, False)]),
        ("年内持续推进", 2021, [("年内持续推进", D(2021, 12, 31), None, True)]),
        ("到2025年，全区", None, [("到2025年", D(2025, 12, 31), None, False)]),
        ("“十四五”时期严控煤炭消费增长", None, [("“十四五”时期", D(2025, 12, 31), D(2021, 1, 1), False)]),
        ("“十五五”时期逐步减少", None, [("“十五五”时期", D(2030, 12, 31), D(2026, 1, 1), False)]),
        ("“十四五”期末", None, [("“十四五”期末", D(2025, 12, 31), None, False)]),
        ("2030年前实现碳达峰", None, [("2030年前", D(2030, 12, 31), None, False)]),
        ("2027年6月30日前", None, [("2027年6月30日前", D(2027, 6, 30), None, False)]),
        ("2027年6月底前完成", None, [("2027年6月底前", D(2027, 6, 30), None, False)]),
        ("6月30日前", 2023, [("6月30日前", D(2023, 6, 30), None, False)]),
        ("到今年底", 2023, [("到今年底", D(2023, 12, 31), None, False)]),
        ("明年6月底前", 2023, [("明年6月底前", D(2024, 6, 30), None, False)]),
        ("上半年", 2021, [("上半年", D(2021, 6, 30), None, False)]),
        ("下半年", 2021, [("下半年", D(2021, 12, 31), None, False)]),
        ("三季度", 2021, [("三季度", D(2021, 9, 30), None, False)]),
        ("三季度出台完善分时电价机制的指导意见", 2022, [("三季度", D(2022, 9, 30), None, False)]),
        ("第一季度末", 2022, [("第一季度末", D(2022, 3, 31), None, False)]),
        ("2025年内", None, [("2025年内", D(2025, 12, 31), None, False)]),
        ("二〇二五年底前", None, [("二〇二五年底前", D(2025, 12, 31), None, False)]),
        ("2021—2025年", None, [("2021—2025年", D(2025, 12, 31), D(2021, 1, 1), False)]),
        ("持续推进", 2021, [("持续推进", None, None, True)]),
        # month ends with or without 前, quarters with their year, a bare year end (issue 13)
        ("完成期限：9月底", 2021, [("9月底", D(2021, 9, 30), None, False)]),
        ("年底完成", 2022, [("年底", D(2022, 12, 31), None, False)]),
        ("四季度", 2022, [("四季度", D(2022, 12, 31), None, False)]),
        ("2021年四季度", None, [("2021年四季度", D(2021, 12, 31), None, False)]),
        ("三季度末前完成", 2022, [("三季度末前", D(2022, 9, 30), None, False)]),
        ("2030年", None, [("2030年", D(2030, 12, 31), None, False)]),  # a lead-in that is only a year
        ("较去年底增长10%", 2022, []),
        ("上年末存量", 2022, []),
        ("每年底前报送", 2022, []),
        ("每半年末月20日前报送", 2022, []),
        ("2030年进一步提升至60%", None, []),
        # a whole time phrase naming a month (完成时限：2022年6月): by its end; a month inside a sentence is not
        ("2022年6月", None, [("2022年6月", D(2022, 6, 30), None, False)]),
        ("9月份完成", 2022, [("9月份完成", D(2022, 9, 30), None, False)]),
        ("5月份全省召开推进会议", 2022, []),  # a year inside a sentence is not a deadline by itself
        # relative limits are kept as text, with no date
        ("淘汰时限不超过3年", 2022, [("时限不超过3年", None, None, False)]),
        ("3年内完成", 2022, [("3年内", None, None, False)]),
        # unknown year stays unknown: never today's
        ("6月底前", None, [("6月底前", None, None, False)]),
        ("年内持续推进", None, [("年内持续推进", None, None, True)]),
        # impossible dates resolve to nothing
        ("2月30日前", 2021, [("2月30日前", None, None, False)]),
        # not deadlines
        ("制定2030年前碳排放达峰行动方案", 2021, []),
        ("贯彻《2030年前碳达峰行动方案》", 2021, []),
        ("比2020年下降15%", 2022, []),
        ("5月21日下午召开会议", 2021, []),
        ("", 2021, []),
        ("abc <script>", 2021, []),
    ],
)
def test_find_deadlines(text, doc_year, expected):
    found = [(d.text, d.due, d.start, d.ongoing) for d in find_deadlines(text, doc_year)]
    assert found == expected


def test_clause_part_keeps_its_whole_wording():
    d = parse_deadline("6月底前出台相关政策", 2021)
    assert d == Deadline("6月底前出台相关政策", D(2021, 6, 30))
    assert parse_deadline("生态环境部等按职责分工负责", 2021) is None


def test_five_year_plans():
    assert five_year_plan(14) == (D(2021, 1, 1), D(2025, 12, 31))
    assert five_year_plan(15) == (D(2026, 1, 1), D(2030, 12, 31))
    assert five_year_plan(13) == (D(2016, 1, 1), D(2020, 12, 31))


@pytest.mark.parametrize(
    ("deadline", "today", "status"),
    [
        (Deadline("6月底前", D(2021, 6, 30)), D(2026, 11, 21), "已过期"),
        (Deadline("6月底前", D(2021, 6, 30)), D(2021, 6, 23), "还剩7天"),
        (Deadline("6月底前", D(2021, 6, 30)), D(2021, 6, 30), "今天到期"),
        (Deadline("“十五五”时期", D(2030, 12, 31), D(2026, 1, 1)), D(2026, 11, 21), "进行中，还剩1501天"),
        (Deadline("“十五五”时期", D(2030, 12, 31), D(2026, 1, 1)), D(2025, 11, 21), "未开始（2026-01-01起）"),
        (Deadline("6月底前", None), D(2026, 11, 21), "日期未定"),
        (Deadline("持续推进", None, ongoing=True), D(2026, 11, 21), "持续推进"),
    ],
)
def test_status(deadline, today, status):
    assert deadline_status(deadline, today) == status


def test_done_items_are_done_whatever_the_date():
    assert deadline_status(Deadline("6月底前", D(2021, 6, 30)), D(2026, 1, 1), done=True) == "已完成"


def _every_rule(text: str, doc_year: int | None) -> list[Deadline]:
    """find_deadlines with every rule tried on every text (no skipping by the words a rule needs)."""
    import knowledge.deadlines as deadlines

    unguarded = [(pattern, resolve, ("",)) for pattern, resolve, _ in deadlines._RULES]
    original, deadlines._RULES = deadlines._RULES, unguarded
    try:
        return deadlines.find_deadlines(text, doc_year)
    finally:
        deadlines._RULES = original


def test_rules_skipped_by_their_words_find_the_same():
    from pathlib import Path

    from knowledge.segment import split_sentences

    root = Path(__file__).resolve().parent.parent
    files = [*(root / "knowledge" / "corpus").glob("*.txt"), *(root / "tests" / "data").rglob("*.txt"),
             *(root / "tests" / "data").rglob("*.md")]
    texts = {part for f in files for line in f.read_text(encoding="utf-8").splitlines()
             for sentence in split_sentences(line) for part in (sentence, *re.split(r"[，；（）]", sentence)) if part}
    texts |= {"2025—2030年", "明年6月前", "下半年", "第三季度末前", "年内持续开展", "“十五五”期末", "长期坚持",
              "时限不超过3个月", "6个月内", "完成时限：2022年6月", "今年12月31日之前", "二〇二五年底前", "6月末前",
              "9月以前", "明年3月之前", "2026年第一季度"}
    assert len(texts) > 1000
    for text in sorted(texts):
        for year in (None, 2024):
            assert find_deadlines(text, year) == _every_rule(text, year), text


def test_month_end_is_the_calendars_last_day():
    import calendar

    from knowledge.deadlines import month_end

    for year in (2000, 2024, 2025, 2100, 9999):
        for month in range(1, 13):
            assert month_end(year, month) == date(year, month, calendar.monthrange(year, month)[1])
    with pytest.raises(ValueError):
        month_end(2025, 13)
