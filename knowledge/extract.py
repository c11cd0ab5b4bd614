"""Build structured items from pieces: deadlines, departments, targets and kind.

The same extraction serves document import and an admin's one-sentence `/add`.
"""

from __future__ import annotations

import re

from knowledge.deadlines import find_deadlines, parse_deadline
from knowledge.departments import parse_clause
from knowledge.documents import Block
from knowledge.models import Deadline, Departments, Item
from knowledge.segment import Piece, segment
from knowledge.targets import find_targets

_ACTION_START = re.compile(
    r"^(?:要|须|必须|应|各地区?|各部门|各级|有关部门|国有企业|自治区|省|市)?(?:推进|推动|加快|加强|强化|完善|健全|建立|建设|实施|"
    r"开展|制定|出台|落实|严格|严控|严禁|坚决|持续|深化|深入|大力|积极|提升|提高|优化|扩大|培育|鼓励|支持|引导|推广|研究|"
    r"设立|组织|压实|巩固|促进|发展|构建|统筹|继续|允许|增加|合理|全面|依托|探索|倡导|贯彻|确保|坚持|逐步|淘汰|修订|抓紧|编制|"
    r"完成|新建|规范|控制|实行|发挥|加大|把|将|对|以|做好|打造|瞄准|履行|维护|整合|结合|率先|着力|力争|一律|严防|禁止|不得)"
)


# A news report's opening (3月25日，国务院发布… / 日前，…印发…) and a line that only leads into what
# follows (其中涉及…相关内容：): they stay searchable as facts, but are no tasks and no list entries.
_NEWS_OPENING = re.compile(r"^(?:\d{1,2}月\d{1,2}日(?:上午|下午|晚间|晚)?|近日|日前|近期|昨日|昨天|今天|本报讯|新华社)[，,]")
_LEADS_INTO = re.compile(r"[：:]$")


def item_from_piece(piece: Piece, *, region: str, doc_year: int | None) -> Item:
    parts = parse_clause(piece.clause, region) if piece.clause else None
    deadlines: list[Deadline] = []
    if parts:
        for part in parts.time_parts:  # a labelled time with no date (根据…工作安排) stays as text
            if d := parse_deadline(part, doc_year) or (Deadline(part) if part in parts.stated_times else None):
                deadlines.append(d)
    if piece.clause and piece.clause in piece.text:  # roles written into the sentence: its times in reading
        deadlines = find_deadlines(piece.text, doc_year) + deadlines  # order (…6月底前建成，由X牵头，…到2027年…)
    else:
        deadlines += find_deadlines(piece.text, doc_year)
    if piece.lead_in:
        deadlines += find_deadlines(piece.lead_in, doc_year)
    deadlines = _dedupe(deadlines)
    target_year = next((d.due.year for d in deadlines if d.due and not d.ongoing), None)
    targets = find_targets(piece.text, target_year)
    departments = parts.departments if parts else Departments()
    intro = not piece.clause and (_NEWS_OPENING.match(piece.text) or _LEADS_INTO.search(piece.text))
    return Item(
        text=piece.text,
        kind="intro" if intro else classify(piece.text, bool(targets), bool(departments) or bool(deadlines)),
        section=piece.section,
        region=region,
        deadlines=deadlines,
        departments=departments,
        targets=targets,
        clause=piece.clause,
    )


def _dedupe(deadlines: list[Deadline]) -> list[Deadline]:
    seen: set[tuple] = set()
    out = []
    for d in deadlines:
        key = (d.due, d.start, d.ongoing) if d.due else (d.text,)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def classify(text: str, has_targets: bool, assigned: bool) -> str:
    """target when it states a quantity, task when it is assigned or phrased as an action, else statement."""
    if has_targets:
        return "target"
    if assigned or _ACTION_START.match(text):
        return "task"
    return "statement"


def extract_items(blocks: list[Block], *, region: str, doc_year: int | None) -> list[Item]:
    pieces = segment(blocks)
    items = [item_from_piece(p, region=region, doc_year=doc_year) for p in pieces]
    for seq, item in enumerate(items):
        item.seq = seq
        if seq and pieces[seq].lead_in and (pieces[seq].text.startswith(pieces[seq].lead_in)
                                            or _COMPARATOR_FIRST.match(pieces[seq].text)):
            _continue_target(item, pieces[seq], items[seq - 1])
    return items


_CONTINUATION = re.compile(r"^(?:到|至)?\d{4}年[，,]?(?:还|再|将|要|力争)?(?:进一步)?")
# …；到2027年底，达到150万千瓦: a later year's value with no metric of its own (the one before's)
_COMPARATOR_FIRST = re.compile(r"^(?:还|再|将|要|力争|进一步)*(?:达到|达|提高到|提升到|提升至|提高至|增加到|增至|降至|降到|"
                               r"降低到|下降到|下降|控制在|不超过|不低于|超过|突破)")
_NO_METRIC = re.compile(r"(?:还|再|将|要|力争|进一步)*")


def _continue_target(item: Item, piece: Piece, before: Item) -> None:
    """'…星级绿色建筑占比达到30%，2030年进一步提升至60%': the later year's target is the same metric's."""
    metric = next((t.metric for t in before.targets if t.metric), "")
    if not metric or any(not _NO_METRIC.fullmatch(t.metric) for t in item.targets):
        return  # it names a metric of its own
    year = next((d.due.year for d in item.deadlines if d.due), None)
    targets = find_targets(metric + _CONTINUATION.sub("", piece.text), year)
    if targets:
        item.targets = [t for t in targets if t.metric == metric] or item.targets
        item.kind = "target" if item.targets else item.kind


def extract_sentence(text: str, *, region: str = "国家", doc_year: int | None = None) -> list[Item]:
    """Items from an admin's sentence in the documents' own style (`/add …`)."""
    return extract_items([Block(text.strip())], region=region, doc_year=doc_year)
