"""Split a document's blocks into item-sized pieces with their section path and governing clause.

Pure functions. A piece is an unrewritten span of the source: a sentence, a semicolon part, or one
target of a sentence that states several. The responsibility clause at the end of a paragraph
(`（…等按职责分工负责，12月底前完成）`) governs every piece before it in that paragraph, and a lead-in
such as `到2025年，` governs the rest of its sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.departments import (
    follow_up_kind,
    is_responsibility_clause,
    labelled_clause_start,
    names_departments,
    says_only_roles,
)
from knowledge.documents import Block
from knowledge.targets import find_targets

MAX_PIECE_CHARS = 300
MIN_PIECE_CHARS = 8

_CN_NUM = "一二三四五六七八九十"
# Heading markers, each its own kind so that nesting follows first appearance.
_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("cn_dun", re.compile(rf"^[{_CN_NUM}]+、")),
    ("cn_paren", re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    ("cn_shi", re.compile(rf"^[{_CN_NUM}]+是")),
    ("num_dot", re.compile(r"^\d{1,2}[.．、](?!\d)")),
    ("num_paren", re.compile(r"^[（(]\d{1,2}[）)]")),
    ("article", re.compile(rf"^第[{_CN_NUM}百零]+[条章节]")),
]
_MARKER_SPACE = re.compile(rf"^(\d{{1,2}}[.．、]|[{_CN_NUM}]+、|[（(][{_CN_NUM}\d]+[）)])\s+(?=[^\s\d])")
# A part of its own in a plain-text document: an annex or the embedded title of what a notice issues
# (附件：2022年重点任务清单 / 武汉市进一步促进新能源汽车消费若干措施): it closes every open section.
_PART_HEADING = re.compile(
    r"^(?:附件\d*[:：]?\s*[^。；！？]{2,40}|[^。；，！？：:、]{4,40}(?:方案|清单|措施|意见|办法|细则|计划|要点|目录|规划|安排|纲要|指南|规定)"
    r"(?:[（(][^（）()。，]{2,16}[）)])?)$"
)
# A notice's addressees (各省、自治区、直辖市人民政府，国务院各部委：) and its issuing formula
# (《…》已经省人民政府同意，现印发给你们，请认真贯彻落实。): the wrapper, not the policy.
_ADDRESSEES = re.compile(r"^各[^。；]{2,80}[：:]$")
_ISSUING_FORMULA = re.compile(r"现印发给你们|现将.{0,60}印发给你们|现予印发|请认真(?:贯彻|组织|抓好)?(?:执行|实施|落实|贯彻落实)")
# The preamble's purpose sentence (为…，制定本方案。): why the document exists, not a task.
_PURPOSE = re.compile(r"^为[^。]{4,200}(?:特|现)?制定本[\u4e00-\u9fa5]{0,6}[。]?$")
# A clause that opens with its own year (…达到30%，2030年进一步提升至60%): that year governs it.
_OWN_YEAR = re.compile(r"^(?:到|至)?(?P<year>\d{4}年)(?![度底末前内，,])")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![”’」』）)])|(?<=[。！？!?][”’」』）)])|(?<=\d\.)(?=[^\d\s])")
_TIME_LEAD = re.compile(
    r"^(?:到|至|力争|确保)?(?:\d{4}年(?:底|末|前)?|[“\"「]?十[一二三四五六七八九]五[”\"」]?(?:时期|期间|期末|末))$"
)


@dataclass(frozen=True)
class Piece:
    text: str
    section: str = ""
    clause: str = ""  # the governing responsibility/deadline clause, verbatim, with its brackets
    lead_in: str = ""  # a time lead-in such as 到2025年 that governs the piece


def short_heading(text: str) -> str:
    """A heading as shown in a section path: up to its first 。, a long one up to its first ，."""
    text = text.strip().rstrip("。：:")
    text = text.split("。")[0]
    if len(text) > 30 and "，" in text:
        text = text.split("，")[0]
    return text


def _marker_kind(text: str) -> str | None:
    return next((kind for kind, pattern in _MARKERS if pattern.match(text)), None)


def _heading_and_body(block: Block) -> tuple[str | None, str, str]:
    """(marker kind or None, heading title or '', remaining body text).

    '(八)煤炭清洁高效利用工程。立足…' has an inline title, which heads the section path and also
    stays the paragraph's first item (it names the task its clause assigns); a numbered paragraph
    with no title ('二、到2026年，…') loses only its number.
    """
    text = _MARKER_SPACE.sub(r"\1", block.text.strip())  # '1. 推进…' as '1.推进…'
    kind = _marker_kind(text)
    if block.heading:
        return kind or "heading", short_heading(text), ""
    if kind and len(text) <= 40 and not re.search(r"[。；，！？]", text):
        return kind, text, ""  # a heading line of its own: （一）能源绿色低碳转型行动
    if not kind:
        if _PART_HEADING.match(text):
            return "part", text, ""
        return None, "", text
    title, sep, _ = text.partition("。")
    if sep and len(title) <= 40 and "，" not in title:
        return kind, title, _strip_marker(text)  # the title sentence is the paragraph's first task
    return kind, "", _strip_marker(text)


def _strip_marker(text: str) -> str:
    m = next((p.match(text) for _, p in _MARKERS if p.match(text)), None)
    return text[m.end():] if m and m.end() < len(text) else text


def _find_clauses(text: str) -> list[tuple[int, int]]:
    """Spans of responsibility/deadline clauses: bracketed ones (outermost brackets only), and a
    labelled tail (…。牵头单位：…；完成时限：…。)."""
    tail = labelled_clause_start(text)
    if tail is not None:
        return [*_find_clauses(text[:tail]), (tail, len(text))]
    spans: list[tuple[int, int]] = []
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch in "（(":
            if depth == 0:
                start = i
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
            if depth == 0 and is_responsibility_clause(text[start + 1:i]):
                spans.append((start, i + 1))
    return spans


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p]


def _clauses_of(sentence: str) -> list[str]:
    """Comma/semicolon clauses, with the punctuation kept on each."""
    return [c for c in re.split(r"(?<=[，；,;])", sentence) if c]


def _pieces_of_sentence(sentence: str) -> list[tuple[str, str]]:
    """(text, lead_in) pieces of one sentence: split at '；', at a time lead-in, and between targets."""
    out: list[tuple[str, str]] = []
    lead = ""
    current: list[str] = []
    current_has_target = False

    def flush() -> None:
        nonlocal current, current_has_target
        text = "".join(current).strip().rstrip("，；,;")
        if text:
            out.append((text, lead))
        current, current_has_target = [], False

    for clause in _clauses_of(sentence):
        bare = clause.rstrip("，；,;").strip()
        if _TIME_LEAD.match(bare):
            flush()
            lead = bare
            continue
        has_target = bool(find_targets(bare))
        if lead and (own := _OWN_YEAR.match(bare)) and re.search(r"\d", bare[own.end():]):
            flush()  # a target with its own year (…，2030年进一步提升至60%) is not the lead-in's
            lead = own["year"]
        if current and (lead or (has_target and current_has_target)):
            flush()  # under a lead-in every clause is a goal of its own; elsewhere, every target is
        current.append(clause)
        current_has_target = current_has_target or has_target
        if clause.endswith(("；", ";")):
            flush()
    flush()
    return out


def _split_long(text: str) -> list[str]:
    """Cut an over-long piece at the comma nearest its middle, repeatedly."""
    if len(text) <= MAX_PIECE_CHARS:
        return [text]
    commas = [m.end() for m in re.finditer(r"[，,、]", text)]
    if not commas:
        return [text]
    cut = min(commas, key=lambda i: abs(i - len(text) / 2))
    return _split_long(text[:cut].rstrip("，,、")) + _split_long(text[cut:])


def segment(blocks: list[Block]) -> list[Piece]:
    """All pieces of a document in reading order."""
    stack: list[tuple[str, str]] = []  # (marker kind, heading title)
    pieces: list[Piece] = []
    paragraph_start = 0  # where the last paragraph's pieces begin
    own_lines = ""  # the labelled lines (责任单位：… / 完成时限：…) after that paragraph so far
    years_of: str | None = None  # the section whose year lines (2025年：达到…) the last paragraph is
    for block in blocks:
        line = block.text.strip()
        if not block.heading and labelled_clause_start(line) == 0 and pieces:
            follow_up = follow_up_kind(line)
            if follow_up == "note":  # 进展情况：滞后。… — how the task above stands: part of its text
                last = pieces[-1]
                pieces[-1] = Piece(last.text + line, last.section, last.clause, last.lead_in)
                continue
            # lines of their own, in any order, assign the paragraph before them (下步要求：… also a task
            # with a clause of its own)
            before, own_lines = own_lines, f"{own_lines}；{line}" if own_lines else line
            pieces[paragraph_start:] = [Piece(p.text, p.section, own_lines, p.lead_in) if p.clause in ("", before)
                                        else Piece(p.text, p.section, f"{p.clause}；{line}", p.lead_in) if follow_up
                                        else p for p in pieces[paragraph_start:]]
            continue
        own_lines = ""
        if _ADDRESSEES.match(line):
            continue
        kind, title, body = _heading_and_body(block)
        if kind:
            kinds = [k for k, _ in stack]
            if kind == "part":
                stack.clear()
            elif kind in kinds:
                del stack[kinds.index(kind):]
            if title:  # a numbered paragraph without a title closes its level but opens none
                stack.append((kind, short_heading(title)))
        section = " › ".join(t for _, t in stack)
        if body and stack and (year_value := _YEAR_VALUE.match(body)):
            # 七、城镇新建建筑中绿色建筑占比 / 2025年：达到100% / 2026年：…: each year's value of the
            # heading's indicator, and the lines under them one paragraph (a 责任单位 line governs all)
            indicator = _strip_marker(stack[-1][1])
            if years_of != section:
                paragraph_start, years_of = len(pieces), section
            pieces += _pieces_of_paragraph(f"{year_value['year']}，{indicator}{year_value['value']}。", section)
        elif body:
            paragraph_start, years_of = len(pieces), None
            pieces += _pieces_of_paragraph(body, section)
    return pieces


_YEAR_VALUE = re.compile(r"^(?P<year>(?:到)?\d{4}年(?:底)?)[：:]\s*(?P<value>[^。；]{1,30}?)[。；]?$")


# Roles written into a sentence rather than bracketed after it — …方案，由市发展改革委牵头，市工信局配合，
# 6月底前全部印发实施 / 请市住建局牵头，市机关事务管理局配合，于9月底前出台细则: the sentence's own clause
# runs from there to its end (the words stay in the item's text too).
# (储能电站安全管理由市应急管理局牵头，… / 该项目由市能源局牵头推进，…: 由 anywhere, before names.)
_INLINE_ROLES = re.compile(r"(?:(?:^|(?<=[，,；;：:]))请|由)(?P<names>[^，,；;。：:（）()]{2,60}?)"
                           r"(?:牵头(?:推进|实施|组织实施|落实|开展)?|"
                           r"(?:等(?:有关)?(?:部门|单位)?)?(?:按职责分工负责|分工负责|负责))(?=[，,；;。]|$)")
# A department that opens the sentence as its subject: 市统计局牵头建立…制度，市发展改革委配合，… /
# 市发展改革委会同市统计局、市生态环境局组成考核组，于…前完成… (会同: all of them, none said to lead) /
# 市发展改革委将于10月底前出台… (the one who does it, by then).
_SUBJECT_LEADS = re.compile(r"^(?P<names>[^，,；;。：:（）()]{2,40}?)牵头(?=[\u4e00-\u9fa5])")
_SUBJECT_WITH = re.compile(r"^由?(?P<names>[^，,；;。：:（）()]{2,40}?)会同(?P<others>[^，,；;。：:（）()]{2,40}?)"
                           r"(?=组织|组成|共同|联合|研究|制定|开展|建立|出台|推进|负责|[，,；;。]|$)")
_SUBJECT_WILL = re.compile(r"^(?P<names>[^，,；;。：:（）()]{2,40}?)(?:将|要|应)(?=于|在)")
_DUE_SAID = re.compile(r"底前|日前|月底|季度|年底|年内")


def _inline_clause(sentence: str) -> str:
    """The sentence's own responsibility clause, if it gives departments roles: from 请/由 to its end,
    or one made of the subject that opens it (as parse_clause reads clauses)."""
    m = next((m for m in _INLINE_ROLES.finditer(sentence) if names_departments(m["names"])), None)
    if m:
        return sentence[m.start():].rstrip("。；;，, ")
    rest = lambda m: sentence[m.end():].strip("，, ").rstrip("。；;，, ")  # noqa: E731
    if (m := _SUBJECT_LEADS.match(sentence)) and names_departments(m["names"]):
        return f"{m['names']}牵头，{rest(m)}"
    if (m := _SUBJECT_WITH.match(sentence)) and names_departments(m["names"]) and names_departments(m["others"]):
        return f"{m['names']}、{m['others']}负责，{rest(m)}"
    if (m := _SUBJECT_WILL.match(sentence)) and names_departments(m["names"]) and _DUE_SAID.search(sentence):
        return f"{m['names']}负责，{rest(m)}"
    return ""


def _pieces_of_paragraph(body: str, section: str) -> list[Piece]:
    pieces: list[Piece] = []
    cursor = 0
    spans = [*_find_clauses(body), (len(body), len(body))]
    for start, end in spans:
        sentences = [s for s in split_sentences(body[cursor:start])
                     if not (_ISSUING_FORMULA.search(s) or _PURPOSE.match(s))]
        own = [_inline_clause(s) for s in sentences]
        clauses = list(own)
        governing = body[start:end]
        for n in range(len(sentences) - 1, -1, -1):  # a sentence that opens with the roles (请…牵头，…)
            if own[n] and sentences[n].startswith(("请", "由")):  # assigns the sentences before it too
                governing = own[n]
            clauses[n] = own[n] or governing
        for sentence, clause, roles in zip(sentences, clauses, own, strict=True):
            if roles and says_only_roles(sentence):
                continue  # (its roles govern the sentences before it)
            for text, lead in _pieces_of_sentence(sentence):
                for part in _split_long(text):
                    if pieces and len(part.strip("。；，")) < MIN_PIECE_CHARS and pieces[-1].clause == clause:
                        last = pieces[-1]
                        pieces[-1] = Piece(last.text + part, last.section, last.clause, last.lead_in)
                        continue
                    pieces.append(Piece(part, section, clause, lead))
        cursor = end
    return pieces
