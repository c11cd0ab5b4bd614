"""Follow-ups answered from the conversation: the previous question *and its answer*, not a rewrite of
strings alone.

  谁负责？ / 截止时间呢 / 还有谁参与   the previous answer's item again, shaped by what is asked now
  那内蒙古呢？                          the previous question for that region; national departments become the
                                        region's own (生态环境部 → 内蒙古生态环境厅 → 自治区生态环境厅)
  那2030年呢？ / 那十五五呢？ / 那发改委呢？  the previous question for that year or plan period / department
  那非化石能源呢                        that topic, asked as the previous question asked (多少 / 什么时候 / 谁),
                                        in the same region, preferring the previous answer's document
Anything else is a new question. Pure apart from the KnowledgeBase it asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from knowledge.answer import Answer
from knowledge.base import KnowledgeBase
from knowledge.intents import Question, understand
from knowledge.lazyre import lazy_compile
from knowledge.normalize import normalize
from knowledge.regions import find_region, short_name
from knowledge.search import Hit

MAX_FOLLOW_UP = 24  # characters: a longer message is a question of its own
_MARKED = lazy_compile(r"^(?:那么|那|还有|换成|如果是)|(?:呢|的呢|怎么样|如何)[?？。!！]*$")
_BODY = lazy_compile(r"^(?:那么|那|还有|再问一下|换成|如果是)?(?P<body>.*?)(?:的呢|呢|怎么样|如何)?[?？。!！，,]*$")
# What a question about the same item may say besides its question words.
_ASPECT = lazy_compile(r"那么|那|还有|其他|另外|的|呢|吗|是|要|在|截止|到|时间|期限|时限|日期|完成|出台|什么时候|何时|哪天|"
                     r"单位|部门|机构|负责|牵头|参与|配合|谁|哪些|哪个|哪家|有|目标|指标|多少|具体|内容|要求|详细|情况|进展|"
                     r"[?？。!！，,、\s]")
_YEAR = lazy_compile(r"20\d{2}年")
_PERIOD = lazy_compile(r"十[一二三四五六七八九]五(?:时期|期间|规划)?")  # a five-year plan's period
# 另一个指标呢 / 其他目标是多少: the goals of what was just answered, besides the one asked
_OTHER_TARGET = lazy_compile(r"^(?:那|那么)?(?:另一个|另外一个|另外的|另一项|其他的?|其余的?|别的|剩下的)(?:指标|目标|数字|数)"
                             r"(?:呢|是多少|多少|是什么)?[?？。]*$")
# 人民银行也参与吗 / 财政部负责吗: whether a department has a part in what was just answered
_DEPARTMENT_CHECK = lazy_compile(r"(?:参与|参加|负责|牵头|配合|有份|有没有份)(?:吗|么|没有|不)?[?？。]*$")
# National departments as a region names its own: 生态环境部 → 生态环境厅, 国家能源局 → 能源局.
_NATIONAL_TO_REGIONAL = ((lazy_compile(r"^(?:国家)?发展改革委$|^发改委$"), "发展改革委"),
                         (lazy_compile(r"^国务院国资委$"), "国资委"),
                         (lazy_compile(r"^市场监管总局$"), "市场监管局"),
                         (lazy_compile(r"^国家(?P<x>.+[局委])$"), r"\g<x>"),
                         (lazy_compile(r"^(?P<x>.+)部$"), r"\g<x>厅"))


@dataclass
class Context:
    """What a conversation said last: the question as answered (in full) and its answer."""

    question: str = ""
    answer: Answer | None = None


def regional_department(name: str) -> str | None:
    """How a region names its counterpart of a national department, or None if it has no rule."""
    for pattern, repl in _NATIONAL_TO_REGIONAL:
        if pattern.match(name):
            return pattern.sub(repl, name)
    return None


def asks_about_same_item(text: str, q: Question) -> bool:
    """谁负责？ / 截止时间呢 / 还有谁参与 / 目标是多少: an aspect of what was just answered, nothing new."""
    norm = normalize(text)
    return len(norm) <= MAX_FOLLOW_UP and not _ASPECT.sub("", norm) and not q.region and not q.department_cores


def reask(previous: str, body: str, known_departments: dict[str, str], today: date) -> str:
    """The previous question asked again about `body` (a region, year, department or topic)."""
    prev_q = understand(previous, today, known_departments)
    prev = normalize(previous)
    body_q = understand(body, today, known_departments)
    if region := find_region(body):
        if old := find_region(prev):
            prev = prev.replace(old, "").replace(short_name(old), "")
        if prev_q.reference:  # the document cited is not the other region's: 国发6号文里… → 内蒙古…
            prev = re.sub(re.escape(prev_q.reference.text) + "(?:里|中|的)?", "", prev)
        for name in sorted(prev_q.department_names, key=len, reverse=True):
            if (own := regional_department(name)) is not None:
                prev = prev.replace(name, own)
        return short_name(region) + prev
    for when in (_YEAR, _PERIOD):  # 那2030年呢 / 那十五五呢: in place of the previous one of its kind
        if m := when.search(body):
            return when.sub(m.group(0), prev, count=1) if when.search(prev) else m.group(0) + prev
    if body_q.department_names and prev_q.department_names:
        old = max(prev_q.department_names, key=len)
        return prev.replace(old, max(body_q.department_names, key=len))
    # another topic: asked as the previous question asked, in its region
    asks = "谁负责" if prev_q.wants_who else "什么时候完成" if prev_q.wants_when else \
        "目标是多少" if prev_q.wants_amount or prev_q.wants_targets else "有哪些任务" if prev_q.wants_list else ""
    region = short_name(prev_q.region) if prev_q.region else ""
    return f"{region}{body}{asks}"


def converse(kb: KnowledgeBase, context: Context, text: str, today: date, k: int = 5) -> tuple[Answer, str | None]:
    """Answer `text` as the next turn of the conversation in `context` (which it updates); also the
    question it was answered as, when that differs from the text."""
    text = text.strip()
    answer, asked = _answer(kb, context, text, today, k)
    context.question, context.answer = asked, answer
    return answer, (asked if asked != text else None)


def _answer(kb: KnowledgeBase, context: Context, text: str, today: date, k: int) -> tuple[Answer, str]:
    previous, last = context.question, context.answer
    norm = normalize(text)
    if not previous or len(norm) > MAX_FOLLOW_UP:
        return kb.ask(text, today, k), text
    known = kb.searcher.known_departments()
    q = understand(text, today, known)
    if asks_about_same_item(text, q) and (q.wants_who or q.wants_when or q.wants_amount or q.wants_lead
                                          or _MARKED.search(norm)):
        if last is not None and last.mode == "item" and last.hits:
            if q.wants_amount and not (q.wants_who or q.wants_when or last.hits[0].item.targets):
                goals = [i for i in kb.searcher.paragraph(last.hits[0].item) if i.targets]
                if goals:  # 具体目标是多少, of a task whose paragraph states its goals apart
                    return _again(last, text, today, mode="list", total=0,
                                  hits=[Hit(i, 1.0, 1.0) for i in goals]), previous
            return _again(last, text, today, hits=last.hits[:1], wants_who=q.wants_who or q.wants_lead), previous
        if (last is not None and last.mode == "list" and last.hits and (q.wants_who or q.wants_lead)
                and last.hits[0].item.departments
                and len({h.item.departments for h in last.hits}) == 1):  # who does all the listed work
            return _again(last, text, today, mode="item", total=0, hits=last.hits[:1], wants_who=True), previous
        return kb.ask(f"{previous}，{text}", today, k), f"{previous}，{text}"
    if _OTHER_TARGET.match(norm) and last is not None and last.mode == "item" and last.hits:
        item = last.hits[0].item  # 另一个指标呢: the item's other goal, else its paragraph's goals
        goals = [i for i in kb.searcher.paragraph(item) if i.targets and i.id != item.id]
        if len(item.targets) >= 2 or not goals:
            return _again(last, text, today, hits=last.hits[:1]), previous
        return _again(last, text, today, mode="list", total=0, hits=[Hit(i, 1.0, 1.0) for i in goals]), previous
    if (q.department_names and _DEPARTMENT_CHECK.search(norm) and not q.wants_list
            and last is not None and last.mode == "item" and last.hits):  # its departments, all of them
        return _again(last, text, today, hits=last.hits[:1], wants_who=True), previous
    if not _MARKED.search(norm):
        return kb.ask(text, today, k), text
    m = _BODY.match(norm)
    body = m["body"].strip("，, ") if m else ""
    if not body:
        return kb.ask(text, today, k), text
    asked = reask(previous, body, known, today)
    answer = kb.ask(asked, today, k)
    return _prefer_document(answer, last), asked


def _again(last: Answer, text: str, today: date, **changes: Any) -> Answer:
    """The last answer given again for a follow-up about it (its first page, as of today)."""
    return replace(last, question=text, today=today, page=0, **changes)


def _prefer_document(answer: Answer, last: Answer | None) -> Answer:
    """Of about equally good items, the one from the document the conversation was about comes first."""
    if last is None or not last.hits or answer.mode != "item" or len(answer.hits) < 2:
        return answer
    doc = last.hits[0].item.doc_id
    best = answer.hits[0]
    if best.item.doc_id == doc:
        return answer
    for i, hit in enumerate(answer.hits[1:], 1):
        if hit.item.doc_id == doc and hit.score >= best.score * 0.9:
            return replace(answer, hits=[hit, *answer.hits[:i], *answer.hits[i + 1:]])
    return answer
