"""Answers as people read them: the item, its deadline and status today, departments, source.

`Answer` holds the content; `render_text` gives the plain text that the console and `ask` show and
that the chat's HTML is rendered from; `result_dict` gives the JSON form of one item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from knowledge.deadlines import deadline_status
from knowledge.models import Deadline, Departments, Document, Item
from knowledge.search import LIST_LIMIT, MORE_THAN_LISTED, Hit, Searcher, SearchResult, clip

MAX_LEAD_SHOWN = 3
MAX_SUPPORT_SHOWN = 5
RELATED_SHOWN = 2
PARAGRAPH_SHOWN = 200  # a section title's answer shows this much of its paragraph
LIST_PAGE = 5
NOTHING_MATCHES = "没有符合这些条件的条目（部门、期限或地区）。可以放宽条件再问，或发送“帮助”。"

GREETING = (
    "您好！我是 PolicyBot，可以查询碳达峰碳中和、节能减排等政策里的任务、目标、期限和责任部门。\n"
    "例如：“碳减排支持工具什么时候出台？谁牵头？”、“内蒙古煤炭消费比重要降到多少？”、“12月底前要完成哪些任务？”"
)
HELP = (
    "直接提问即可，例如：\n"
    "· 碳减排支持工具什么时候出台？谁牵头？\n"
    "· 内蒙古煤炭消费比重要降到多少？\n"
    "· 人民银行牵头的任务有哪些？\n"
    "· 12月底前要完成哪些任务？\n"
    "回答会给出条目原文、期限及当前状态、牵头和参与部门、来源文件。"
)


@dataclass
class Answer:
    question: str
    mode: str  # item | list | documents | not_found | greeting | help
    confident: bool
    hits: list[Hit] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict)
    today: date = field(default_factory=date.today)
    page: int = 0
    asked_department: Callable[[str], bool] = lambda _: False
    wants_who: bool = False
    total: int = 0  # a list cut short: how many items matched in all
    focus: tuple[str, ...] = ()  # the question's words, weightiest first, for clipping long texts
    window: tuple[date | None, date | None] | None = None  # a list of what falls due in a window…
    status: str = ""  # …or has a status today (pending | expired | active)
    window_phrase: str = ""  # …the words that name the window (none: a status alone)
    deadline_phrase: str = ""  # a list of what a year-less phrase (12月底前) names
    without_window: bool = False  # none falls due in the window: what the other filters pass, whenever due
    asked_deadline: Callable[[Deadline], bool] | None = None  # the deadlines the question asks about
    about_documents: str = ""  # mode documents: what was asked (list | date | count)…
    documents_listed: list[tuple[Document, int]] = field(default_factory=list)  # …the documents, item counts

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def answer_question(searcher: Searcher, question: str, today: date, k: int = 5) -> Answer:
    result: SearchResult = searcher.search(question, today, k=max(k, LIST_PAGE))
    docs = searcher.store.get_documents([h.item.doc_id for h in result.hits])
    q = result.question

    def in_question(d: Deadline) -> bool:  # a deadline in the question's window, or saying its phrase
        return (not q.window or q.in_window(d)) and (not q.deadline_phrase or q.deadline_phrase in d.text)

    return Answer(question, result.mode, result.confident, result.hits, docs, q.today,  # (the day it states)
                  asked_department=lambda name: searcher.asks_for(q, (name,)), wants_who=q.wants_who,
                  total=result.total, focus=result.focus, window=q.window, status=q.status, window_phrase=q.window_phrase,
                  deadline_phrase=q.deadline_phrase, without_window=result.without_window,
                  asked_deadline=in_question if q.window or q.deadline_phrase else None,
                  about_documents=q.about_documents, documents_listed=result.documents)


# ---------------------------------------------------------------------- pieces


def format_deadline(d: Deadline, today: date, done: bool = False) -> str:
    status = deadline_status(d, today, done)
    if d.due is None:
        return f"{d.text}（{status}）"
    if d.start:
        return f"{d.text}（{d.start.isoformat()} 至 {d.due.isoformat()}，{status}）"
    if d.ongoing:
        return f"{d.text}（至 {d.due.isoformat()}，{status}）"
    return f"{d.text}（{d.due.isoformat()}，{status}）"


def format_departments(deps: Departments, asked: Callable[[str], bool] = lambda _: False,
                       support_limit: int = MAX_SUPPORT_SHOWN, lead_limit: int = MAX_LEAD_SHOWN) -> str:
    """牵头/负责/参与 by the roles the text gives (负责 where it names no lead); a long list ends with
    等N个部门 but always shows the departments asked about."""

    def names(ns: tuple[str, ...], limit: int) -> str:
        shown = list(ns[:limit]) + [n for n in ns[limit:] if asked(n)]
        return "、".join(shown) + (f"等{len(ns)}个部门" if len(ns) > len(shown) else "")

    parts = []
    if deps.lead:
        parts.append("牵头：" + names(deps.lead, lead_limit))
    if deps.responsible:
        parts.append("负责：" + names(deps.responsible, max(lead_limit, support_limit)))
    if deps.support:
        parts.append("参与：" + names(deps.support, support_limit))
    return "；".join(parts)


def format_source(doc: Document | None, section: str) -> str:
    if doc is None:
        return ""
    bits = [x for x in (doc.doc_number, doc.date.isoformat() if doc.date else "日期不详") if x]
    text = f"《{doc.title}》（{'，'.join(bits)}）"
    if section:
        text += f" › {section}"
    return text


def progress_note(item: Item) -> str:
    return {"done": "（已标记完成）", "postponed": "（已延期）"}.get(item.progress, "")


def clip_around(text: str, focus: tuple[str, ...], n: int) -> str:
    """A long text clipped to n characters around where most of the question's words are (an
    enumeration deep in a long sentence), else from its start."""
    if len(text) <= n or not focus:
        return clip(text, n)
    found = [(i, len(w), len(focus) - rank) for rank, w in enumerate(focus) for i in _positions(text, w)]
    if not found:
        return clip(text, n)
    span = n - 2

    def weight(start: int) -> int:
        return sum(v for i, length, v in found if start <= i and i + length <= start + span)

    start = max((clause_start(text, i) for i, _, _ in found), key=lambda s: (weight(s), -s))
    if start < 8 or weight(start) <= weight(0):
        return clip(text, n)
    if start > len(text) - span:  # near the end: as much before it as fits, from a clause's start
        start = clause_start(text, len(text) - span, forward=True)
    return "…" + text[start:start + span] + ("…" if start + span < len(text) else "")


_CLAUSE_END = "。；;，,、：:！!？?）)》"
CLAUSE_REACH = 30  # a snippet starts at most this many characters before the words it shows


def clause_start(text: str, i: int, forward: bool = False) -> int:
    """Where a snippet showing text[i:] starts: right after the nearest sentence or clause end
    before i (at most CLAUSE_REACH back), else at i itself, never inside a word. `forward`: the
    first clause start at or after i instead (so that the snippet still reaches the text's end)."""
    if forward:
        ends = [text.find(c, i) for c in _CLAUSE_END]
        ahead = min((e for e in ends if e >= 0 and e + 1 < len(text)), default=-1)
        return ahead + 1 if ahead >= 0 and (i == 0 or text[i - 1] not in _CLAUSE_END) else i
    back = max(text.rfind(c, max(0, i - CLAUSE_REACH), i) for c in _CLAUSE_END)
    return back + 1 if back >= 0 else i


def _positions(text: str, word: str) -> list[int]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append(i)
        i = text.find(word, i + 1)
    return out


# ---------------------------------------------------------------------- whole answers


@dataclass(frozen=True)
class Line:
    """One line of an answer; `strong` lines are emphasised where the medium allows (chat HTML)."""

    text: str
    strong: bool = False


def answer_lines(answer: Answer) -> list[Line]:
    if answer.mode == "greeting":
        return [Line(t) for t in GREETING.splitlines()]
    if answer.mode == "help":
        return [Line(t) for t in HELP.splitlines()]
    if answer.mode == "documents":
        return document_lines(answer)
    if answer.mode == "list":
        if answer.hits:
            return list_lines(answer)
        note = time_note(answer)
        return [Line(f"{note}：{NOTHING_MATCHES}" if note else NOTHING_MATCHES)]
    if answer.mode == "not_found" or not answer.hits:
        return _not_found_lines(answer)
    return _item_lines(answer)


def render_text(answer: Answer) -> str:
    return "\n".join(line.text for line in answer_lines(answer))


def render_list(answer: Answer) -> str:
    return "\n".join(line.text for line in list_lines(answer))


def item_detail_lines(item: Item, doc: Document | None, today: date, answer: Answer | None = None,
                      text: str = "") -> list[Line]:
    """The lines that describe one item: text (or the given text: a title's paragraph), deadline,
    departments, targets, source."""
    lines = [Line((text or item.text) + progress_note(item), strong=True)]
    done = item.progress == "done"
    if item.deadlines:
        lines.append(Line("期限：" + "；".join(format_deadline(d, today, done) for d in item.deadlines[:3])))
    if item.departments:
        asked = answer.asked_department if answer else (lambda _: False)
        who = bool(answer and answer.wants_who)  # asked who: every department
        every = len(item.departments.all())
        lines.append(Line(format_departments(item.departments, asked, every if who else MAX_SUPPORT_SHOWN,
                                             every if who else MAX_LEAD_SHOWN)))
    if item.targets and len(item.targets) > 1:
        lines.append(Line("目标：" + "；".join(t.describe() for t in item.targets[:4])))
    source = format_source(doc, item.section)
    if source:
        lines.append(Line("来源：" + source))
    return lines


def _item_lines(answer: Answer) -> list[Line]:
    best = answer.hits[0]
    text = clip_around(best.text, answer.focus, PARAGRAPH_SHOWN) if best.text else ""
    lines = item_detail_lines(best.item, answer.documents.get(best.item.doc_id), answer.today, answer, text)
    related = related_hits(answer)
    if related:
        lines.append(Line("相关："))
        lines += [Line("· " + one_line(h.item, answer.today, text=clip_around(h.item.text, answer.focus, 60)))
                  for h in related]
    return lines


def related_hits(answer: Answer) -> list[Hit]:
    best = answer.hits[0]
    return [h for h in answer.hits[1:] if h.score >= best.score * 0.6][:RELATED_SHOWN]


def one_line(item: Item, today: date, width: int = 60, text: str = "", deadline: Deadline | None = None) -> str:
    """#id, text, a deadline (the given one: the one a list asked about, else the first), lead."""
    line = text or clip(item.text, width)
    if deadline := deadline or item.deadline:
        line += f"（{format_deadline(deadline, today, item.progress == 'done')}）"
    for role, names in (("牵头", item.departments.lead), ("负责", item.departments.responsible)):
        if names:
            line += f" {role}：{'、'.join(names[:2])}" + (f"等{len(names)}个部门" if len(names) > 2 else "")
            break
    return f"#{item.id} {line}"


def page_hits(answer: Answer) -> list[Hit]:
    start = answer.page * LIST_PAGE
    return answer.hits[start:start + LIST_PAGE]


def list_lines(answer: Answer) -> list[Line]:
    start = answer.page * LIST_PAGE
    page = page_hits(answer)
    if answer.total == MORE_THAN_LISTED:
        found = f"符合的条目超过 {LIST_LIMIT} 条，列出前 {len(answer.hits)} 项"
    elif answer.total > len(answer.hits):
        found = f"共 {answer.total} 条符合，列出前 {len(answer.hits)} 项"
    else:
        found = f"共找到 {len(answer.hits)} 条"
    note = time_note(answer)
    if answer.without_window:  # 2026-01-01 至 2026-12-31 到期：没有。不限这一时段，共找到 5 条
        note = f"{note}：没有。不限这一时段，"
    elif note:
        note += "："
    lines = [Line(f"{note}{found}，第 {start + 1}–{start + len(page)} 条：", strong=True)]
    lines += [Line(f"{start + i + 1}. " + one_line(h.item, answer.today, 70, clip_around(h.shown_text, answer.focus, 70),
                                                   asked_deadline(answer, h.item))
                   + (f"（同段另有{h.siblings}项）" if h.siblings else "")) for i, h in enumerate(page)]
    rest = len(answer.hits) - start - len(page)
    if rest > 0:
        lines.append(Line(f"还有 {rest} 条，发送“更多”查看。"))
    return lines


STATUS_NAMES = {"pending": "尚未到期", "expired": "已过期", "active": "进行中"}


def asked_deadline(answer: Answer, item: Item) -> Deadline | None:
    """The item's first deadline that the question asks about (its window or phrase), if any."""
    if answer.asked_deadline is None:
        return None
    return next((d for d in item.deadlines if answer.asked_deadline(d)), None)


def time_note(answer: Answer) -> str:
    """What a time list covers: its window (2021-06-10 至 2021-07-10 到期) and status, or for a
    year-less phrase the year of its deadlines (均为2021年期限; the items' own dates when they differ)."""
    if answer.window:
        start, end = answer.window
        status = STATUS_NAMES.get(answer.status, "")
        if status and not answer.window_phrase:  # a status alone
            span, status = f"截至 {answer.today.isoformat()} {status}", ""
        elif start and end:
            span = f"{start.isoformat()} 到期" if start == end else f"{start.isoformat()} 至 {end.isoformat()} 到期"
        else:
            span = f"{end.isoformat()} 及以前到期" if end else f"{start.isoformat()} 及以后到期" if start else ""
        one_year = bool(start and end and start.year == end.year)
        phrase = "" if not answer.deadline_phrase else f"期限写作“{answer.deadline_phrase}”" if one_year \
            else _phrase_years(answer)
        return "，".join(x for x in (span, phrase, status) if x)
    return _phrase_years(answer)


def _phrase_years(answer: Answer) -> str:
    """Which year a year-less phrase's listed deadlines fall in: 均为2021年期限, or several."""
    if not (answer.deadline_phrase and answer.hits):
        return ""
    dues = [d.due for h in answer.hits if (d := asked_deadline(answer, h.item))]
    years = sorted({d.year for d in dues if d})
    phrase = f"“{answer.deadline_phrase}”"
    if len(years) == 1:
        return f"{phrase}均为{years[0]}年期限" + ("（另有年份未定的）" if None in dues else "")
    if years:
        return f"{phrase}分属{'、'.join(map(str, years))}年，见各条日期"
    return f"{phrase}年份未定（文件没有成文日期）"


NO_DOCUMENT = "知识库里没有这份文件。发送“有哪些文件”查看已收录的文件。"
DOCUMENTS_SHOWN = 20


def document_line(doc: Document, count: int) -> str:
    """《标题》（文号，发文机关，成文日期，地区，N条）"""
    bits = [doc.doc_number, doc.issuer, doc.date.isoformat() if doc.date else "日期不详", doc.region, f"{count}条"]
    return f"《{doc.title}》（{'，'.join(b for b in bits if b)}）"


def document_lines(answer: Answer) -> list[Line]:
    """The documents a question about documents names: the list, or when each was issued, or how
    many items each has."""
    docs = answer.documents_listed
    if not docs:
        return [Line(NO_DOCUMENT if answer.about_documents != "list" else "知识库里还没有文件（可用 import 导入）。")]
    if answer.about_documents == "list":
        lines = [Line(f"知识库里有 {len(docs)} 份文件：", strong=True)]
        lines += [Line(f"{n}. {document_line(d, c)}") for n, (d, c) in enumerate(docs[:DOCUMENTS_SHOWN], 1)]
        if len(docs) > DOCUMENTS_SHOWN:
            lines.append(Line(f"另有 {len(docs) - DOCUMENTS_SHOWN} 份未列出。"))
        return lines
    lines = []
    for doc, count in docs[:DOCUMENTS_SHOWN]:
        number = f"（{doc.doc_number}）" if doc.doc_number else ""
        rest = [f"发文机关：{doc.issuer}" if doc.issuer else "", f"地区：{doc.region}"]
        if answer.about_documents == "date":
            head = f"成文日期：{doc.date.isoformat()}" if doc.date else "文件里没有成文日期"
            rest.append(f"共{count}条")
        else:
            head = f"共 {count} 条（任务、目标等条目）"
            rest.insert(0, f"成文日期：{doc.date.isoformat()}" if doc.date else "成文日期不详")
        lines.append(Line(f"《{doc.title}》{number}{head}", strong=True))
        lines.append(Line("　" + "，".join(x for x in rest if x)))
    return lines


def suggestion_hits(answer: Answer) -> list[Hit]:
    return [h for h in answer.hits if h.coverage > 0.2][:3]


def _not_found_lines(answer: Answer) -> list[Line]:
    lines = [Line(f"抱歉，知识库里没有找到与“{clip(answer.question, 40)}”直接相关的政策条目。")]
    suggestions = suggestion_hits(answer)
    if suggestions:
        lines.append(Line("您是不是想问："))
        lines += [Line("· " + clip(h.item.text, 50) + f"（#{h.item.id}）") for h in suggestions]
    lines.append(Line("发送“帮助”查看提问方式。"))
    return lines


def result_dict(hit: Hit, doc: Document | None, today: date) -> dict:
    item = hit.item
    done = item.progress == "done"

    def deadline(d: Deadline) -> dict:
        return {**d.to_dict(), "status": deadline_status(d, today, done)}

    source = doc.to_source_dict(item.section) if doc else {"doc_id": item.doc_id, "title": "", "date": None,
                                                          "section": item.section}
    return {
        "id": item.id,
        "text": hit.shown_text,
        "score": hit.score,
        "kind": item.kind,
        "deadline": deadline(item.deadline) if item.deadline else None,
        "deadlines": [deadline(d) for d in item.deadlines],
        "departments": {"lead": list(item.departments.lead), "support": list(item.departments.support),
                        "responsible": list(item.departments.responsible)},
        "region": item.region,
        "targets": [t.to_dict() for t in item.targets],
        "progress": item.progress,
        "source": source,
    }


def document_dict(doc: Document, count: int) -> dict:
    """A document as a result of mode "documents": the result keys of an item, kind "document",
    its line as text, and its item count."""
    return {"id": doc.doc_id, "text": document_line(doc, count), "score": 1.0, "kind": "document",
            "deadline": None, "deadlines": [], "departments": {"lead": [], "support": []}, "region": doc.region,
            "targets": [], "progress": "", "source": doc.to_source_dict(), "items": count}


def answer_json(answer: Answer, k: int) -> dict:
    if answer.mode == "documents":
        results = [document_dict(d, c) for d, c in answer.documents_listed[:max(k, DOCUMENTS_SHOWN)]]
    else:
        results = [result_dict(h, answer.documents.get(h.item.doc_id), answer.today) for h in answer.hits[:k]]
    return {
        "question": answer.question,
        "answer": render_text(answer),
        "confident": answer.confident,
        "mode": answer.mode,
        "results": results,
    }


