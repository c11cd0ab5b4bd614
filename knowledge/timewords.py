"""Time words in questions as date windows relative to today: 今年, 下半年, 本季度, 下个月, 未来N天,
即将到期, 年底前; deadline status words (已过期 / 还没到期 / 进行中); a month phrase with its year
(今年12月底前). Pure: a normalised question and today's date in, dates out.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from knowledge.deadlines import find_deadlines, month_end

Window = tuple[date | None, date | None]  # first and last due date; None: open on that side

# 30天内, 未来十天, 近两周, 三个月内: a number of days, weeks or months from today (a number in
# characters only with 未来/近 before it or 内 after it: 每一天 is none)
_RELATIVE = re.compile(r"(?P<pre>近|未来|接下来|最近|不到|不足|少于)?(?P<n>\d{1,3}|[一二两三四五六七八九十]{1,3})"
                       r"(?P<unit>天|日|周|个?星期|个月)(?P<post>内|之内|以内)?")

SOON_DAYS = 30  # 即将到期 / 快到期: due within this many days from today
_SOON = re.compile(r"(?:即将|快要?|马上|临近|就要|眼看)要?(?:到期|截止|过期)|还(?:有|剩)?(?:几|多少)天|剩(?:下)?(?:几|多少)天|"
                   r"(?:最近|近期)(?:要|就要|将|快)?(?:到期|截止)")
# Deadline status as of today; 还没过期 is checked before 过期
_STATUS = (
    ("pending", re.compile(r"(?:还|尚|仍)?(?:没有?|未)(?:到期|过期|截止|逾期|完成|办完|做完)")),
    ("expired", re.compile(r"(?:已经?)?(?:过期|逾期|超期)(?:了)?|已经?到期|已经?截止|(?:超过|过了)(?:期限|截止日期|截止时间)")),
    ("active", re.compile(r"进行中|(?:正在|还在|仍在)(?:进行|推进|实施|开展)")),
)
_SOONEST = re.compile(r"最(?:快|早|先)(?:要|就要|将)?(?:到期|截止)")  # 最早到期的: what is due next, however far
_HALF = re.compile(r"(?P<y>今年|本年|明年|去年|20\d{2}年)?(?P<h>[上下])半年")
# 2021年三季度 / 本季度 / 四季度末 (a quarter's end with no year: this year's). 三季度 alone is the documents' phrase.
_QUARTER = re.compile(r"(?P<y>今年|本年|明年|去年|20\d{2}年)第?(?P<q>[一二三四1-4])季度|"
                      r"第?(?P<q_end>[一二三四1-4])季度(?:末|底)(?:之前|前)?|(?P<rel>本|这个?|当|下个?|下一)季度?")
# 2024年底前 and 2024年年底前 are that year's; 年底前 alone what is left of this year
_YEAR_END = re.compile(r"(?:(?P<y>20\d{2})年?|今年|本年)?(?:年底|年末)(?:之前|以前|前)|到年底|今年底前?")
_YEAR_END_MONTH = re.compile(r"(?:(?P<y>20\d{2})年?|今年|本年)?(?:年底|年末)(?=到期|截止|要|完成|的)")  # 年底到期: in December
_CN_SMALL = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def small_number(s: str) -> int:
    """'3', '十', '十二', '二十', '三十' -> int (up to 99)."""
    if s.isdigit():
        return int(s)
    tens, _, ones = s.partition("十")
    if "十" not in s:
        return _CN_SMALL[s]
    return (_CN_SMALL[tens] if tens else 1) * 10 + (_CN_SMALL[ones] if ones else 0)


def _year_said(said: str | None, today: date) -> int:
    if not said or said in ("今年", "本年"):
        return today.year
    if said == "明年":
        return today.year + 1
    if said == "去年":
        return today.year - 1
    return int(said[:4])


# 7月到12月之间 / 2021年7月至9月: from the first month's start to the last one's end
_MONTH_RANGE = re.compile(r"(?:(?P<y>20\d{2})年)?(?P<a>\d{1,2}|十[一二]?|[一二三四五六七八九])月份?(?:初)?"
                          r"(?:到|至|—|-|~|～)(?P<b>\d{1,2}|十[一二]?|[一二三四五六七八九])月份?(?:底|末)?(?:之间|期间|间)?")


def window(norm: str, today: date) -> tuple[Window, str] | None:
    """A period the question names, relative to today, and the words that name it."""
    if (m := _MONTH_RANGE.search(norm)) and 1 <= (a := small_number(m["a"])) <= (b := small_number(m["b"])) <= 12:
        y = int(m["y"]) if m["y"] else today.year
        return (date(y, a, 1), month_end(y, b)), m[0]
    if m := _SOONEST.search(norm):
        return (today, None), m[0]
    if m := _SOON.search(norm):
        return (today, today + timedelta(days=SOON_DAYS)), m[0]
    if m := _HALF.search(norm):
        y = _year_said(m["y"], today)
        return ((date(y, 1, 1), date(y, 6, 30)) if m["h"] == "上" else (date(y, 7, 1), date(y, 12, 31))), m[0]
    if m := _QUARTER.search(norm):
        if m["rel"]:
            q = (today.month - 1) // 3 + (2 if m["rel"].startswith("下") else 1)
            y = today.year + (q - 1) // 4
            q = (q - 1) % 4 + 1
        else:
            y = _year_said(m["y"], today)
            said = m["q"] or m["q_end"]
            q = int(said) if said.isdigit() else "一二三四".index(said) + 1
        return (date(y, 3 * q - 2, 1), month_end(y, 3 * q)), m[0]
    if m := _YEAR_END.search(norm):  # what is left of this year; of a year named, that year's
        return ((date(int(m["y"]), 1, 1), date(int(m["y"]), 12, 31)) if m["y"] else (today, date(today.year, 12, 31))), m[0]
    if m := _YEAR_END_MONTH.search(norm):
        y = int(m["y"]) if m["y"] else today.year
        return (date(y, 12, 1), date(y, 12, 31)), m[0]
    monday = today - timedelta(days=today.weekday())
    for words, start, end in (
            (("今天", "今日"), today, today),
            (("明天", "明日"), today + timedelta(days=1), today + timedelta(days=1)),
            (("下个月初之前", "下个月初前", "下月初之前", "下月初前"),  # before next month begins: this month's
             today.replace(day=1), month_end(today.year, today.month)),
            (("下个月底前", "下个月底", "下月底前", "下月底", "下个月", "下月"), *_month_after(today)),
            (("本月底前", "本月底", "这个月底前", "这个月底", "月底前", "本月", "这个月", "当月", "这月"),
             today.replace(day=1), month_end(today.year, today.month)),
            (("下周", "下个星期", "下星期"), monday + timedelta(days=7), monday + timedelta(days=13)),
            (("本周", "这周", "这个星期", "这星期"), monday, monday + timedelta(days=6)),
            (("今年", "本年", "年内", "当年"), date(today.year, 1, 1), date(today.year, 12, 31)),
            (("明年",), date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)),
            (("去年",), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))):
        if said := next((w for w in words if w in norm), None):
            return (start, end), said
    for m in _RELATIVE.finditer(norm):
        if not ((m["n"].isdigit() and m["unit"] == "天") or m["pre"] or (m["post"] and m["unit"] != "日")):
            continue
        n = small_number(m["n"])
        if m["unit"] == "个月":
            month = today.month - 1 + n
            y, mo = today.year + month // 12, month % 12 + 1
            return (today, date(y, mo, min(today.day, month_end(y, mo).day))), m[0]
        return (today, today + timedelta(days=n * (1 if m["unit"] in "天日" else 7))), m[0]
    for d in find_deadlines(norm, None):  # 2025年前, but not 2030年前碳达峰行动方案 (a name)
        if d.due and re.fullmatch(r"(?:到|至)?\d{4}年(?:前|之前|以前|底前|底)", d.text):
            return (None, d.due), d.text
    return None


def _month_after(today: date) -> tuple[date, date]:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, month_end(first.year, first.month)


_DATED_PHRASE = re.compile(r"(?P<y>今年|本年|当年|明年|20\d{2}年)(?P<p>(?:\d{1,2}|十[一二]?|[一二三四五六七八九])月"
                           r"(?:底|末|\d{1,2}日)?(?:之前|以前|前)?)")


def dated_phrase(norm: str, today: date) -> tuple[str, tuple[date, date], str] | None:
    """A month phrase with its year (今年12月底前, 2021年6月30日前): the phrase the documents write
    (12月底前), that year as the window, and the year's words. (A range of months is a window.)"""
    if not (m := _DATED_PHRASE.search(norm)) or _MONTH_RANGE.search(norm):
        return None
    y = _year_said(m["y"], today)
    return digit_month(m["p"]), (date(y, 1, 1), date(y, 12, 31)), m[0]


def digit_month(phrase: str) -> str:
    """十二月底前 -> 12月底前, as documents write it."""
    return re.sub(r"^(十[一二]?|[一二三四五六七八九])(?=月)", lambda m: str(small_number(m[1])), phrase)


def status(norm: str) -> tuple[str, str] | None:
    """The deadline status the question asks for (pending / expired / active) and its words."""
    for status, pattern in _STATUS:
        if m := pattern.search(norm):
            return status, m[0]
    return None


def status_window(asked: str, today: date) -> Window:
    """The due dates of a status as of today: before today for expired, from today otherwise."""
    return (None, today - timedelta(days=1)) if asked == "expired" else (today, None)


def intersect(a: Window, b: Window) -> Window:
    """The days both windows cover."""
    starts = [d for d in (a[0], b[0]) if d]
    ends = [d for d in (a[1], b[1]) if d]
    return (max(starts) if starts else None), (min(ends) if ends else None)
