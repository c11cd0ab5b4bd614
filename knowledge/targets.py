"""Quantitative targets in policy text: metric, comparator, value, unit, qualifier, baseline.

Pure functions: '全区煤炭消费比重降至75%以下' -> Target('煤炭消费比重', '降至', '75', '%', '以下').
"""

from __future__ import annotations

import re

from knowledge.models import Target

_COMPARATORS = (
    "分别下降", "分别降低", "分别提高", "分别达到", "均达到", "均不低于", "下降到", "降低到", "提高到", "提高至", "提升到",
    "提升至", "增加到", "增长到", "降至", "降到", "下降", "降低", "减少", "提高", "提升", "增长", "增加", "达到", "超过",
    "不超过", "不高于", "不低于", "低于", "高于", "控制在", "稳定在", "保持在", "完成", "突破", "达",
)
_CMP = "|".join(sorted(_COMPARATORS, key=len, reverse=True))
_UNITS = (
    "个百分点", "万吨标准煤", "吨标准煤", "亿千瓦时", "万千瓦时", "千瓦时", "亿千瓦", "万千瓦", "千瓦", "亿平方米", "万平方米",
    "平方米", "亿立方米", "万立方米", "立方米", "亿吨", "万吨", "吨", "公里", "千米", "万辆", "辆", "万亩", "亩", "亿元",
    "万元", "元", "万个", "个", "座", "家", "倍", "类", "蒸吨", "%", "％",
)
_UNIT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_NUM = r"(?:\d+(?:\.\d+)?(?:[—\-–~～]\d+(?:\.\d+)?)?|[ⅠⅡⅢⅣⅤ]+)"
_QUAL = r"(?:以上|以下|左右|以内|上下)?"
_END = r"(?=$|[，。；、）)\s,;]|\.(?!\d)|和|或|的目标)"

# A target is a metric (any text back to the clause's start), a comparator and its values. Found
# from each comparator forward (linear in the line's length); the metric is what precedes it.
_CLAUSE_BREAK = re.compile(r"[，。；：:]")
_CMP_AT = re.compile(rf"(?=(?:{_CMP}))")
_CMP_AND_VALUES = re.compile(
    rf"(?P<cmp>{_CMP})(?P<vals>{_NUM}(?:{_UNIT})?{_QUAL}(?:、{_NUM}(?:{_UNIT})?{_QUAL})*){_END}"
)
# 完成煤电机组节能改造2000万千瓦、灵活性改造3000万千瓦: the verb comes first.
_VERB_FIRST = re.compile(
    rf"(?P<cmp>完成|新增|建成|建设|推广)(?P<metric>[^，。；、\d]{{2,20}}?)(?P<vals>{_NUM}(?:{_UNIT}){_QUAL})"
    rf"(?P<more>(?:、[^，。；、\d]{{2,20}}?{_NUM}(?:{_UNIT}){_QUAL})*){_END}"
)
_VALUE = re.compile(rf"(?P<value>{_NUM})(?P<unit>{_UNIT})?(?P<qual>{_QUAL})")
_BASELINE = re.compile(r"比(?P<base>\d{4}年(?:底|末)?)")
_LEAD_IN = re.compile(r"^(?:到|至|力争|确保)?(?:\d{4}年(?:底|末)?)?(?:，)?(?:全区|全省|全市|全国|全县|我国|各地区|各地)?")
_MAY_HAVE_TARGET = re.compile(r"[0-9０-９ⅠⅡⅢⅣⅤ]|百分之")
_CN_PERCENT = re.compile(r"百分之([〇零一二三四五六七八九十百点]+)")


def _arabic_percentages(text: str) -> str:
    """百分之三 -> 3%, so Chinese-numeral targets parse like the others."""
    if "百分之" not in text:
        return text
    import cn2an  # only needed for the rare Chinese-numeral percentage

    return _CN_PERCENT.sub(lambda m: f"{cn2an.cn2an(m[1], 'smart'):g}%", text)


def _clean_metric(metric: str) -> tuple[str, str]:
    baseline = ""
    if m := _BASELINE.search(metric):
        baseline = m["base"]
        metric = metric[: m.start()] + metric[m.end():]
    metric = _LEAD_IN.sub("", metric.strip())
    return metric.strip("，、 的"), baseline


def _unit(u: str | None) -> str:
    return "%" if u in ("%", "％") else (u or "")


def _values(vals: str) -> list[tuple[str, str, str]]:
    out = [(m["value"], _unit(m["unit"]), m["qual"] or "") for m in _VALUE.finditer(vals)]
    # '8%、8%、10%、10%以上': a unit or qualifier written once applies to the values before it
    last_unit = next((u for _, u, _ in reversed(out) if u), "")
    return [(v, u or last_unit, q) for v, u, q in out]


def find_targets(text: str, year: int | None = None) -> list[Target]:
    """Every quantitative target stated in `text`."""
    if not _MAY_HAVE_TARGET.search(text):
        return []
    text = _arabic_percentages(text)
    targets: list[Target] = []
    taken: list[tuple[int, int]] = []
    for m in _VERB_FIRST.finditer(text):
        taken.append(m.span())
        metric, baseline = _clean_metric(m["metric"])
        for v, u, q in _values(m["vals"]):
            targets.append(Target(metric, m["cmp"], v, u, q, year, baseline))
        for part in filter(None, m["more"].split("、")):
            pm = re.match(rf"(?P<metric>.+?)(?P<vals>{_NUM}(?:{_UNIT}){_QUAL})$", part)
            if pm:
                for v, u, q in _values(pm["vals"]):
                    targets.append(Target(pm["metric"], m["cmp"], v, u, q, year, baseline))
    for raw_metric, m in _comparisons(text):
        if any(s <= m.start("cmp") < e for s, e in taken):
            continue
        metric, baseline = _clean_metric(raw_metric)
        if not metric:
            continue
        values = _values(m["vals"])
        if not any(u for _, u, _ in values) and not re.search(r"[A-Za-z]|值|率|系数|强度", metric):
            continue  # a bare number after a verb is rarely a target ("完成3项")
        metrics = _split_metrics(metric, len(values)) if m["cmp"].startswith("分别") else [metric] * len(values)
        for name, (v, u, q) in zip(metrics, values, strict=False):
            targets.append(Target(name, m["cmp"], v, u, q, year, baseline))
    return targets


def _comparisons(text: str) -> list[tuple[str, re.Match[str]]]:
    """(the metric's text, the comparator-and-values match) for each comparison in `text`, left to
    right, not overlapping: the metric runs from the clause's start (or the previous comparison's
    end) to the first comparator there that values follow. Each character is looked at a bounded
    number of times, so a long unpunctuated line costs linear time."""
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]
    next_break = 0
    found: list[tuple[str, re.Match[str]]] = []
    start = 0  # where the next metric may begin
    for at in _CMP_AT.finditer(text):
        c = at.start()
        if c < start:
            continue
        while next_break < len(breaks) and breaks[next_break] < c:  # a metric never spans a clause break
            start = max(start, breaks[next_break] + 1)
            next_break += 1
        m = _CMP_AND_VALUES.match(text, c)
        if m is not None:
            found.append((text[start:c], m))
            start = m.end()
    return found


def _split_metrics(metric: str, n: int) -> list[str]:
    """'化学需氧量、氨氮排放总量' with two values -> two metrics; otherwise the whole name for each."""
    names = metric.split("、")
    return names if len(names) == n else [metric] * n
