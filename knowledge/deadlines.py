"""Find time phrases in policy text and turn them into dates.

Pure functions. The year comes from the phrase itself, else from the document's year; when neither
is known the phrase is kept with no dates — never filled in from today's date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

from knowledge.lazyre import lazy_compile
from knowledge.models import Deadline

_CN_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

_YEAR = r"(?P<y>\d{4}|[〇零一二三四五六七八九]{4})"
_MONTH = r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?P<d>3[01]|[12]\d|0?[1-9])"
_BEFORE = r"(?:之前|以前|前)"
_PLAN = r"[“\"「]?(?P<plan>十[一二三四五六七八九])五[”\"」]?"
_TITLE_WORDS = lazy_compile(r"^[^，。；、,;：:]{0,14}?(?:方案|规划|纲要|意见|计划|目标纲要)")


def _cn_number(s: str) -> int:
    """'12', '十二', '六', '二〇二五' -> int."""
    s = s.translate(_FULLWIDTH)
    if s.isdigit():
        return int(s)
    if len(s) == 4 and all(c in _CN_DIGIT for c in s):
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    if s.startswith("十"):
        return 10 + (_CN_DIGIT[s[1]] if len(s) > 1 else 0)
    return _CN_DIGIT[s]


def month_end(year: int, month: int) -> date:
    """The last day of the month (without `calendar`, which with `locale` costs a start more than this)."""
    if not 1 <= month <= 12:
        raise ValueError(f"bad month number {month}; must be 1-12")
    return date(year, 12, 31) if month == 12 else date(year, month + 1, 1) - timedelta(days=1)


def five_year_plan(ordinal: int) -> tuple[date, date]:
    """The n-th five-year plan's years: 14 -> 2021-01-01..2025-12-31 (the 3rd began in 1966)."""
    first = 1966 + 5 * (ordinal - 3)
    return date(first, 1, 1), date(first + 4, 12, 31)


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


# Each rule: a pattern and a resolver (match, document year) -> (due, start, ongoing).
# `None` from a resolver means "a time phrase, but no date can be given" (kept as text).
Resolved = tuple[date | None, date | None, bool]


def _year_of(m: re.Match[str], doc_year: int | None) -> int | None:
    y = m.groupdict().get("y")
    if y:
        return _cn_number(y)
    if m.groupdict().get("next"):
        return doc_year + 1 if doc_year else None
    return doc_year


def _full_date(m: re.Match[str], doc_year: int | None) -> Resolved:
    y = _year_of(m, doc_year)
    return (_safe_date(y, _cn_number(m["m"]), int(m["d"])) if y else None), None, False


def _month_end(m: re.Match[str], doc_year: int | None) -> Resolved:
    y = _year_of(m, doc_year)
    return (month_end(y, _cn_number(m["m"])) if y else None), None, False


def _before_month(m: re.Match[str], doc_year: int | None) -> Resolved:
    y = _year_of(m, doc_year)
    return (date(y, _cn_number(m["m"]), 1) - timedelta(days=1) if y else None), None, False


def _year_end(m: re.Match[str], doc_year: int | None) -> Resolved:
    y = _year_of(m, doc_year)
    return (date(y, 12, 31) if y else None), None, False


def _half(m: re.Match[str], doc_year: int | None) -> Resolved:
    y = _year_of(m, doc_year)
    if not y:
        return None, None, False
    return (date(y, 6, 30) if m["h"] == "上" else date(y, 12, 31)), None, False


def _quarter(m: re.Match[str], doc_year: int | None) -> Resolved:
    y = _year_of(m, doc_year)
    if not y:
        return None, None, False
    return month_end(y, 3 * _cn_number(m["q"])), None, False


def _plan_period(m: re.Match[str], _doc_year: int | None) -> Resolved:
    start, end = five_year_plan(_cn_number(m["plan"]))
    if m.groupdict().get("tail") in ("末", "期末"):
        return end, None, False
    return end, start, False


def _year_range(m: re.Match[str], _doc_year: int | None) -> Resolved:
    return date(_cn_number(m["y2"]), 12, 31), date(_cn_number(m["y"]), 1, 1), False


def _within_year_ongoing(m: re.Match[str], doc_year: int | None) -> Resolved:
    return (date(doc_year, 12, 31) if doc_year else None), None, True


def _ongoing(_m: re.Match[str], _doc_year: int | None) -> Resolved:
    return None, None, True


def _relative(_m: re.Match[str], _doc_year: int | None) -> Resolved:
    return None, None, False


_NEXT = r"(?P<next>明年|次年|翌年|下一年)"  # the year after the document's
_THIS = r"(?:今年|本年|当年)?"
# Each rule with the words one of which every match of it contains: a text with none is not searched.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], int | None], Resolved], tuple[str, ...]]] = [
    (lazy_compile(rf"{_YEAR}\s*[—–\-~至到]\s*(?P<y2>\d{{4}})年"), _year_range, ("年",)),
    (lazy_compile(rf"(?:到|至|在|于)?{_YEAR}年{_MONTH}月{_DAY}日{_BEFORE}"), _full_date, ("日",)),
    (lazy_compile(rf"(?:到|至|在|于)?(?:{_YEAR}年|{_NEXT}|{_THIS}){_MONTH}月(?:底|末){_BEFORE}?"), _month_end, ("月底", "月末")),
    (lazy_compile(rf"(?:{_YEAR}年|{_NEXT}|{_THIS}){_MONTH}月{_DAY}日{_BEFORE}"), _full_date, ("日",)),
    (lazy_compile(rf"(?:{_YEAR}年|{_NEXT}|{_THIS}){_MONTH}月{_BEFORE}"), _before_month, ("月前", "月之前", "月以前")),
    (lazy_compile(rf"(?:{_YEAR}年|{_NEXT}|今年|本年)?(?P<h>[上下])半年"), _half, ("半年",)),
    (lazy_compile(rf"(?:{_YEAR}年|{_NEXT}|今年|本年)?第?(?P<q>[一二三四1-4])季度(?:末|底)?{_BEFORE}?"), _quarter, ("季度",)),
    (lazy_compile(r"年内持续推进|年内持续开展|年内持续实施"), _within_year_ongoing, ("年内持续",)),
    (lazy_compile(rf"(?:到|至|在|于)?(?:{_YEAR}年|{_NEXT}|今年|本年)(?:底|末){_BEFORE}?|(?:到|至)?(?<![去上前往每当半])年(?:底|末){_BEFORE}?|年内"), _year_end, ("年",)),
    (lazy_compile(rf"(?:到|至|力争){_YEAR}年(?:前|之前|以前|内)?"), _year_end, ("年",)),
    (lazy_compile(rf"{_YEAR}年(?:前|之前|以前|内)"), _year_end, ("年",)),
    (lazy_compile(rf"^{_YEAR}年$"), _year_end, ("年",)),  # a time lead-in that is only a year: 2030年，…
    # a whole time phrase that names a month (完成时限：2022年6月 / 6月份完成): by that month's end
    (lazy_compile(rf"^(?:到|至|于)?(?:{_YEAR}年|{_NEXT}|{_THIS}){_MONTH}月份?(?:完成|出台|建成|印发|实施|启动|上线)?$"), _month_end, ("月",)),
    (lazy_compile(rf"{_PLAN}(?P<tail>时期|期间|期末|末|内)"), _plan_period, ("五",)),
    (lazy_compile(r"持续推进|长期坚持|持续实施|持续开展"), _ongoing, ("持续", "长期坚持")),
    (lazy_compile(r"(?:时限|期限)不超过[0-9０-９一二三四五六七八九十]+(?:个)?(?:年|月|日)|[0-9０-９一二三四五六七八九十]+(?:个)?(?:年|月)内"), _relative, ("不超过", "内")),
]


_MAY_HAVE_DEADLINE = re.compile(r"[年月期季]|持续|时限")


_ACTION_AFTER = lazy_compile(r"^(?:要|将|应)?(?:出台|完成|制定|印发|编制|发布|实现|建成|开展|启动|推出|修订)")


def _looks_like_a_name(text: str, start: int, end: int) -> bool:
    """'2030年前碳排放达峰行动方案' names a document; its year is not a deadline. ('三季度出台…意见' is a
    deadline: a verb follows it.)"""
    if not re.search(r"\d{4}年|[〇零一二三四五六七八九]{4}年", text[start:end]):
        return False
    return bool(_TITLE_WORDS.match(text[end:])) and not _ACTION_AFTER.match(text[end:])


def _inside_book_title(text: str, start: int) -> bool:
    return text.rfind("《", 0, start) > text.rfind("》", 0, start)


def find_deadlines(text: str, doc_year: int | None) -> list[Deadline]:
    """Every time phrase in `text`, in reading order, each with the dates it resolves to."""
    if not _MAY_HAVE_DEADLINE.search(text):
        return []
    candidates = [(m, resolve) for pattern, resolve, words in _RULES if any(w in text for w in words)
                  for m in pattern.finditer(text)]
    candidates.sort(key=lambda c: (c[0].start(), -len(c[0].group(0))))  # leftmost, then longest
    found: list[Deadline] = []
    taken_until = 0
    for m, resolve in candidates:
        s, e = m.span()
        if s < taken_until or _inside_book_title(text, s) or _looks_like_a_name(text, s, e):
            continue
        due, start, ongoing = resolve(m, doc_year)
        found.append(Deadline(text=m.group(0), due=due, start=start, ongoing=ongoing))
        taken_until = e
    return found


@lru_cache(maxsize=4096)
def parse_deadline(phrase: str, doc_year: int | None) -> Deadline | None:
    """A clause part such as '6月底前出台相关政策': the whole part is kept as the deadline's text
    (remembered: documents repeat their clauses' times)."""
    phrase = phrase.strip()
    found = find_deadlines(phrase, doc_year)
    if not found:
        return None
    first = found[0]
    due = first.due
    ongoing = any(d.ongoing for d in found)
    start = first.start
    if due is None:
        due = next((d.due for d in found if d.due), None)
    return Deadline(text=phrase, due=due, start=start, ongoing=ongoing)


def deadline_status(deadline: Deadline, today: date, done: bool = False) -> str:
    """已完成 / 已过期 / 今天到期 / 还剩 N 天 / 进行中 / 日期未定, as of `today`."""
    if done:
        return "已完成"
    if deadline.due is None:
        return "持续推进" if deadline.ongoing else "日期未定"
    if deadline.start and today < deadline.start:
        return f"未开始（{deadline.start.isoformat()}起）"
    days = (deadline.due - today).days
    if days < 0:
        return "已过期"
    if deadline.start or deadline.ongoing:
        return f"进行中，还剩{days}天" if days else "进行中，今天截止"
    return f"还剩{days}天" if days else "今天到期"
