"""Find the items that answer a question: BM25 candidates, then a re-rank on the item's fields.

Candidates come from the bigram index (text, section/title/departments, pinyin) and, for questions
that name a department, a deadline window or a phrase like 12月底前, from the structured tables.
The re-rank combines BM25, how much of the question the item covers (characters or sounds),
rapidfuzz similarity and what the question asks for (when / who / how much, region, year).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from rapidfuzz import fuzz

from knowledge import timewords
from knowledge.departments import NATIONAL_ALIASES, department_core, lists_department, split_department_query
from knowledge.intents import Question, document_words, understand, value_direction
from knowledge.models import Document, Item
from knowledge.normalize import (
    EXPANSIONS,
    bigrams,
    char_syllables,
    expansions,
    normalize,
    search_words,
    sound_bigrams,
    syllables,
    words,
)
from knowledge.regions import NATIONAL, canonical_region, find_region
from knowledge.store import KnowledgeStore

_AMOUNT = re.compile(r"\d|[一二三四五六七八九十百千万亿两半][成倍番]|[一二三四五六七八九十百千万亿两半]分之|一半|峰值|平台期|零|翻一番|全覆盖|全面")
_MONEY_AMOUNT = re.compile(r"\d(?:[\d.,]*)\s*(?:万|亿)?元")
CANDIDATES = 60
FILTERED_CANDIDATES = 200  # a filtered list with words of its own: ranked among this many matches
# A filtered list takes at most this many items and says when more match (符合的条目超过 100 条): ten
# pages of "更多" in a chat is more than anyone reads — past it, a region, department or time narrows
# the list. Finding the page costs about limit / share of the items a walk tests (store.filter_items).
LIST_LIMIT = 100
MORE_THAN_LISTED = -1
MAX_QUERY_TOKENS = 48
MAX_MATCH_TOKENS = 8  # the rarest tokens select candidates; the rest only re-rank
# …and together they match at most about this many postings: scoring them costs ~0.1 µs each (it
# was 2–3 µs in FTS5's bm25), but reading them grows with the base. Tried lower (3,000), it dropped
# the words that decide the answer: at 100k items it changed 12 of 272 top answers, mostly for the
# worse; at this size no question reaches it.
MATCH_POSTINGS = 12000
COMMON_TOKEN_SHARE = 0.02  # tokens in more than this share of items only re-rank, they do not select
GENERIC_TOKEN_SHARE = 0.2
COMMON_TOKEN_FLOOR = 50  # …but in a small knowledge base a token in up to this many items still selects
CONFIDENT_SCORE = 0.55
CONFIDENT_COVERAGE = 0.5
MAX_UNKNOWN_SHARE = 0.5
LIST_SHARE_OF_TOP = 0.7  # a topic list keeps the items scoring at least this share of the best
LIST_MAX = 30
ASSIGNMENT_REACH = 40  # a paragraph's items are looked for this many places either side of a match
FTS_WEIGHTS = (1.0, 0.5, 0.4)
SECTION_MATCH = 0.6  # a topic list: the chosen sections' headings cover this share of the question's words
SECTION_GAIN = 0.2  # …each adding at least this share
MAX_TOPIC_SECTIONS = 3
# words of a topic-list question that say "what to do", not which topic: not matched against headings
_TASK_WORDS = frozenset({"完成", "出台", "落实", "推进", "开展", "实现", "做好", "发力", "加强", "推动", "实施", "任务",
                         "工作", "事项", "举措", "措施", "事情", "部署", "政策", "主要", "重点"})
_HEADING_MARKER = re.compile(r"^(?:[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+[、是]|\d{1,2}[.．、]|[（(]\d{1,2}[）)]|第[一二三四五六七八九十百零]+[条章节])")  # body, meta (section, title, departments), sound


@dataclass
class Hit:
    item: Item
    score: float
    coverage: float = 0.0
    siblings: int = 0  # in a list: further items of the same paragraph under the same assignment
    text: str = ""  # in a list: the whole assignment's text (the paragraph), when it has siblings;
    # answers clip it around the question's words

    @property
    def shown_text(self) -> str:
        return self.text or self.item.text


@dataclass
class SearchResult:
    question: Question
    hits: list[Hit] = field(default_factory=list)
    confident: bool = False
    mode: str = "item"  # item | list | documents | not_found | greeting | help
    total: int = 0  # a list cut short: how many match in all, or MORE_THAN_LISTED (over LIST_LIMIT items)
    focus: tuple[str, ...] = ()  # the question's words the knowledge base knows, weightiest first
    documents: list[tuple[Document, int]] = field(default_factory=list)  # mode documents: each with its item count
    without_window: bool = False  # a list of what the question's other filters pass: none falls due in its window


class _OnFirstUse(Mapping[str, str]):
    """A mapping loaded when first read, not when passed on."""

    def __init__(self, load: Callable[[], Mapping[str, str]]) -> None:
        self._load = load
        self._data: Mapping[str, str] | None = None

    def _loaded(self) -> Mapping[str, str]:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


@lru_cache(maxsize=4096)
def _normalized_title(title: str) -> str:
    return normalize(title)


@dataclass(frozen=True)
class _Documents:
    """Per document id: its region, normalised title and issuer, and 文号 (when it has one)."""
    generation: int
    regions: dict[str, str]
    titles: dict[str, str]
    numbers: dict[str, str]
    issuers: dict[str, str]


class Searcher:
    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self._departments: tuple[int, dict[str, str]] | None = None
        self._docs: _Documents | None = None
        self._count: tuple[int, int] | None = None
        self._counted: tuple[tuple[int, int], list[tuple[Document, int]]] | None = None
        self._filter: tuple[tuple[int, frozenset[str]], tuple[set[str], set[str]]] | None = None
        self._places: tuple[int, tuple[str, ...]] | None = None

    # Caches below are tagged with the store's change counter read BEFORE their data, so a change
    # committed meanwhile (by any process) only makes them rebuild once more, never stick stale.

    def known_departments(self) -> dict[str, str]:
        """Department names (and national aliases) -> core, for spotting departments in questions."""
        self.store.refresh()
        return self._known_departments()

    def _known_departments(self) -> dict[str, str]:
        """known_departments as of the last refresh (a question refreshes once, at its start)."""
        generation = self.store.generation
        if self._departments is None or self._departments[0] != generation:
            names = {n: department_core(n) for n in self.store.department_names()}
            for canon, aliases in NATIONAL_ALIASES.items():
                for alias in (canon, *aliases):
                    names.setdefault(normalize(alias), department_core(canon))
            self._departments = (generation, {normalize(k): v for k, v in names.items()})
        return self._departments[1]

    def _unlisted_places(self) -> tuple[str, ...]:
        """The documents' regions that the region tables lack (a county: 石岭县), as of the last refresh."""
        generation = self.store.generation
        if self._places is None or self._places[0] != generation:
            self._places = (generation, tuple(r for r in self.store.document_regions()
                                              if r != NATIONAL and canonical_region(r) is None))
        return self._places[1]

    def _documents(self) -> _Documents:
        """What questions look up about documents; remembered until the next change."""
        generation = self.store.generation
        if self._docs is None or self._docs.generation != generation:
            docs = self.store.documents()
            self._docs = _Documents(generation, {d.doc_id: d.region for d in docs},
                                    {d.doc_id: normalize(d.title) for d in docs},
                                    {d.doc_id: d.doc_number for d in docs if d.doc_number},
                                    {d.doc_id: normalize(d.issuer) for d in docs})
        return self._docs

    def document_numbers(self) -> dict[str, str]:
        """doc id -> 文号, for questions that cite a document (国发6号文)."""
        self.store.refresh()
        return self._documents().numbers

    def _title(self, doc_id: str) -> str:
        """A document's normalised title, without reading every document's."""
        doc = self.store.get_document(doc_id)
        return _normalized_title(doc.title) if doc else ""

    def invalidate(self) -> None:
        """Nothing to do any more: every read notices changes itself (kept for older callers)."""

    def search(self, text: str, today: date, k: int = 5) -> SearchResult:
        self.store.refresh()  # a change by any process since the last question: caches rebuild
        # every document's 文号 is read only for a question that cites one: it grows with the base
        q = understand(text, today, self._known_departments(), _OnFirstUse(lambda: self._documents().numbers),
                       self._unlisted_places())
        if q.document_kind:
            docs = self._documents()
            q.kind_doc_ids = tuple(d for d, title in docs.titles.items()
                                   if q.document_kind in title and q.in_region(docs.regions[d])
                                   and (not q.issuer or _issued_by(q.issuer, docs.issuers[d], title)))
        if q.greeting or q.help:
            return SearchResult(q, mode="greeting" if q.greeting else "help")
        if q.about_documents and (about := self._about_documents(q)):
            return about
        tokens, weights = self._query(q)
        result = self._search(q, tokens, weights, k)
        if result.mode == "list":  # news openings are no tasks to list
            result.hits = [h for h in result.hits if h.item.kind != "intro"]
        result.focus = tuple(sorted((w for w, ww in weights.items() if ww.known), key=lambda w: -weights[w].weight))
        return result

    def _search(self, q: Question, tokens: list[str], weights: dict[str, WordWeight], k: int) -> SearchResult:
        if q.structured and (listed := self._filtered_list(q, tokens, weights)):
            return listed
        rows = self.store.candidates(tokens, CANDIDATES, FTS_WEIGHTS)
        if not rows:
            return SearchResult(q, mode="not_found")
        hits = self._scored(q, rows, weights)
        if not hits:
            return SearchResult(q, mode="not_found")
        if (q.wants_list or q.wants_targets) and (by_section := self._section_list(q, hits, weights)):
            if q.wants_list:
                by_section.hits += self._elsewhere(q, hits, by_section.hits, weights)[:LIST_MAX - len(by_section.hits)]
            return by_section
        top = hits[0]
        if not q.wants_list and _is_title(top.item) and len(paragraph := self._assignment(top.item)) > 1:
            top = hits[0] = Hit(top.item, top.score, top.coverage, len(paragraph) - 1, _joined(paragraph))  # the task itself
        confident = (top.score >= CONFIDENT_SCORE and top.coverage >= CONFIDENT_COVERAGE
                     and unknown_share(weights) <= MAX_UNKNOWN_SHARE and fits_question(q, top.item)
                     and not (q.wants_money and not _MONEY_AMOUNT.search(top.text or top.item.text))
                     and not (q.wants_amount and not (q.wants_targets or q.wants_who or q.wants_when)
                              and not _states_amount(top)))
        if not confident:  # (a sum of money asked, none said: 碳价多少钱一吨; a value asked, none said)
            return SearchResult(q, hits[:k], confident=False, mode="not_found")
        if q.wants_list:
            listed_hits = [h for h in hits if h.score >= top.score * LIST_SHARE_OF_TOP][:LIST_MAX]
            return SearchResult(q, listed_hits, confident=True, mode="list")
        return SearchResult(q, hits, confident=True, mode="item")

    def _about_documents(self, q: Question) -> SearchResult | None:
        """A question about the documents themselves (有哪些文件, 国发6号文是哪天发的, X方案有多少条):
        the documents it names, each with its item count; None when it names none (an item question
        that only sounds like one: 碳减排支持工具什么时候出台)."""
        if (q.about_documents != "list" and not (q.reference or q.document_kind)
                and len(document_words(q).replace("，", "")) < 4):
            return None  # names no document: no need to count every document's items
        counted = self._counted_documents()
        docs = [d for d, _ in counted]
        if q.about_documents == "list":
            chosen = [d for d in docs if q.in_region(d.region)]
        else:
            words = document_words(q)
            titles = self._documents().titles
            if q.reference or q.document_kind:
                ids = q.doc_ids if q.reference else q.kind_doc_ids
                chosen = [d for d in docs if d.doc_id in ids and _title_share(titles[d.doc_id], words) >= 0.6]
                if q.reference and not ids and not words:
                    return SearchResult(q, [], confident=False, mode="documents")  # a 文号 the knowledge base lacks
            elif len(words.replace("，", "")) >= 4:
                shares = {d.doc_id: _title_share(titles[d.doc_id], words) for d in docs if q.in_region(d.region)}
                best = max(shares.values(), default=0.0)  # the title that says the most of the words
                chosen = [d for d in docs if best >= 0.8 and shares.get(d.doc_id) == best]
            else:
                return None
            if not chosen:
                return None
        counts = {d.doc_id: n for d, n in counted}
        return SearchResult(q, [], confident=bool(chosen), mode="documents",
                            documents=[(d, counts[d.doc_id]) for d in chosen])

    def _counted_documents(self) -> list[tuple[Document, int]]:
        """Every document, newest first, with its number of active items; remembered until the next
        write (counting a large knowledge base's items takes a while)."""
        key = (self.store.generation, self.store.last_change_id())  # (a deletion changes no generation)
        if self._counted is None or self._counted[0] != key:
            counts = self.store.document_item_counts()
            self._counted = (key, [(d, counts.get(d.doc_id, 0)) for d in self.store.documents()])
        return self._counted[1]

    # ------------------------------------------------------------------ candidates

    def _query(self, q: Question) -> tuple[list[str], dict[str, WordWeight]]:
        """The selective index tokens (rarest first) and the question's weighted words."""
        core = q.unfiltered_core if q.structured else q.core  # a filtered list: the filters select, the rest ranks
        expanded = core + "，" + expansions(q.norm)
        tokens = list(dict.fromkeys(bigrams(expanded) + sound_bigrams(core)))[:MAX_QUERY_TOKENS]
        counts = self.store.token_document_counts(tokens)
        total = self._item_count()
        weights = _word_weights(core, counts, total)
        limit = max(COMMON_TOKEN_SHARE * total, COMMON_TOKEN_FLOOR)

        def rarest(grams: list[str]) -> list[str]:
            return sorted((g for g in dict.fromkeys(grams) if 0 < counts.get(g, 0) <= limit), key=lambda g: counts[g])

        # Each question word's rarest bigram first (its other wordings' too, its sound for a homophone
        # typo), so that every word can bring candidates; bigrams across words (于基, 准水) come last.
        firsts: list[str] = []
        for w, ww in weights.items():
            for form in (w, *ww.alternatives):
                firsts += rarest(bigrams(form))[:1]
            if ww.by_sound_only:
                firsts += rarest(sound_bigrams(w))[:1]
        in_words = [g for w, ww in weights.items() for form in (w, *ww.alternatives) for g in bigrams(form)]
        selective = list(dict.fromkeys(rarest(firsts) + rarest(in_words) + rarest(tokens)))
        if not selective:
            present = sorted((t for t in tokens if counts.get(t, 0)), key=lambda t: counts[t])
            selective = [t for t in present[:3] if counts[t] <= GENERIC_TOKEN_SHARE * total]  # only common words: no match
        chosen: list[str] = []
        postings = 0
        for t in selective[:MAX_MATCH_TOKENS]:  # rarest words first, until the postings budget is spent
            if chosen and postings + counts[t] > MATCH_POSTINGS:
                continue
            chosen.append(t)
            postings += counts[t]
        return chosen, weights

    def _item_count(self) -> int:
        generation = self.store.generation
        if self._count is None or self._count[0] != generation:
            self._count = (generation, max(1, self.store.count_items()))
        return self._count[1]

    def _scored(self, q: Question, rows: list[tuple[Item, float, str, str]],
                weights: dict[str, WordWeight]) -> list[Hit]:
        best = max((r[1] for r in rows), default=1.0) or 1.0
        region_words = _region_words(q, weights)
        department_words = _department_words(q, weights)
        hits = [self._score(q, item, s / best, weights, text, context,
                            (region_words if item.region in q.regions else frozenset())
                            | (department_words if department_words and self.asks_for(q, item.departments.all())
                               else frozenset()))
                for item, s, text, context in rows]
        hits.sort(key=lambda h: (-h.score, h.item.id))
        return hits

    def _filtered_list(self, q: Question, tokens: list[str], weights: dict[str, WordWeight]) -> SearchResult | None:
        """A list question with filters (department, deadline phrase or window, region): the items
        that pass them — ranked by the question's own words when it has any, else in document order."""
        if not q.core_is_only_filters and tokens:
            rows = self.store.candidates(tokens, FILTERED_CANDIDATES, FTS_WEIGHTS)
            hits = [h for h in self._scored(q, rows, weights) if self._passes_filters(q, h.item)]
            if hits and q.reference and not (q.department_names or q.window or q.deadline_phrase) \
                    and (by_section := self._section_list(q, hits, weights)):
                return by_section  # 36号文里能源体系那部分: that document's sections on the topic
            if hits:
                tasks = len({_assignment_key(h.item) for h in hits})
                # 牵头 asked: where the text makes the department lead, then where it is responsible
                leading = [h for h in hits if q.wants_lead and self.role_rank(q, h.item)[0] == 0]
                others = [h for h in hits if h not in leading]
                entries = (self._group_by_assignment(leading, weights) if leading else []) + \
                    (self._group_by_assignment(others, weights) if others else [])
                return SearchResult(q, entries[:LIST_MAX], confident=True, mode="list",
                                    total=tasks if tasks > LIST_MAX else 0)
        ids, more = self._filtered_ids(q)
        without_window = False
        if not ids and (wider := _without_window(q)) is not None:
            # 住建部今年参与了哪些任务, where its tasks fall due in other years: those, saying so
            ids, more = self._filtered_ids(wider)
            without_window = bool(ids)
        if not ids:
            return SearchResult(q, [], confident=True, mode="list")  # nothing passes: say so, no guesses
        items = self.store.get_items(ids)
        hits = [Hit(items[i], 1.0, 1.0) for i in ids if i in items]
        if q.department_names:  # those the text makes lead first, then those responsible, then support
            hits.sort(key=lambda h: self._list_rank(q, h.item))
        return SearchResult(q, self._group_by_assignment(hits), confident=True, mode="list",
                            total=MORE_THAN_LISTED if more else 0, without_window=without_window)

    def _list_rank(self, q: Question, item: Item) -> tuple[int, bool, int]:
        """A department's list: by its role (`role_rank`); in a time window, within each role, work
        due by a date in it before work that only goes on through it (12月底前完成 before 年内持续推进)."""
        role, place = self.role_rank(q, item)
        ongoing = bool(q.window and q.window_phrase) and not any(
            q.in_window(d) and not d.ongoing for d in item.deadlines)
        return role, ongoing, place

    def _filtered_ids(self, q: Question) -> tuple[list[int], bool]:
        """The ids of the items that pass a list's filters (at most LIST_LIMIT), and whether more pass.
        A department's items where it leads come first, then where it is responsible, then where it
        supports (newest document first within each): those it leads are listed however many it has."""
        exact, cores = self._department_filter(q)
        start, end = q.window or (None, None)
        tiers: tuple[tuple[str, ...], ...] = ((),)
        if exact or cores:
            tiers = (("lead",), ("responsible",)) + ((("support",),) if not q.wants_lead else ())
        ids: dict[int, None] = {}
        more = False
        for roles in tiers:
            found, more = self.store.filter_items(
                exact_departments=exact, department_cores=cores, roles=roles, deadline_phrase=q.deadline_phrase,
                due_from=start, due_to=end, regions=q.regions,
                doc_ids=q.doc_ids if q.reference else q.kind_doc_ids if q.issuer else None,
                limit=LIST_LIMIT - len(ids), started_by=q.started_by, unfinished=q.unfinished,
                soonest_first=bool(q.window))
            ids.update(dict.fromkeys(found))
            if more:  # the page is full and more pass
                break
        return list(ids), more

    def _section_list(self, q: Question, hits: list[Hit], weights: dict[str, WordWeight]) -> SearchResult | None:
        """A topic list (内蒙古交通领域的目标有哪些): the items of the sections whose headings name the
        question's topic, as few sections as cover it, in the order the question names their topics —
        children's titles for a parent section; only the goals of the asked year when a year or goals
        are asked for."""
        region_words = _region_words(q, weights)
        topic = {w: ww for w, ww in weights.items() if ww.known and w not in region_words
                 and not (q.year and w == str(q.year)) and w not in _TASK_WORDS}
        total = sum(ww.weight for ww in topic.values())
        if not topic or unknown_share(weights) > MAX_UNKNOWN_SHARE:
            return None
        sections: dict[tuple[str, str], dict[str, float]] = {}
        for h in hits:
            item = h.item
            if not item.section or not q.in_region(item.region):
                continue
            parts = item.section.split(" › ")
            for depth in range(1, len(parts) + 1):
                key = (item.doc_id, " › ".join(parts[:depth]))
                if key not in sections:
                    heading = normalize(_HEADING_MARKER.sub("", parts[depth - 1]))
                    # who leads a leaf section's work: its stated lead, else the first named responsible
                    leads = (item.departments.lead or item.departments.responsible[:1]) if depth == len(parts) else ()
                    context = normalize(" ".join((*parts[:depth - 1], *leads)))
                    sections[key] = {w: _coverage({w: ww}, heading, context) for w, ww in topic.items()}
        chosen = _choose_sections(topic, sections)
        match = sum(ww.weight * max((found[w] for found in chosen.values()), default=0.0)
                    for w, ww in topic.items()) / total
        if not chosen or match < SECTION_MATCH:
            return None
        if not q.wants_list and max((h.coverage for h in hits if not _is_title(h.item)), default=0.0) > match:
            return None  # goals asked for, but one item says it better than any heading (VOCs排放总量降幅目标)
        entries: list[Hit] = []
        for doc_id, path in chosen:
            entries += self._section_entries(q, doc_id, path)
        if not entries:
            return None
        return SearchResult(q, entries[:LIST_MAX], confident=True, mode="list",
                            total=len(entries) if len(entries) > LIST_MAX else 0)

    def _elsewhere(self, q: Question, hits: list[Hit], entries: list[Hit],
                   weights: dict[str, WordWeight]) -> list[Hit]:
        """After a topic list's sections: the items of other documents that answer the question
        about as well as the best hit (碳汇 in a plan's 碳汇 section, and in a work report). Within
        the sections' own documents their headings already said where the topic is."""
        listed = {e.item.doc_id for e in entries}
        best = hits[0].score
        others = [h for h in hits if h.score >= best * LIST_SHARE_OF_TOP and h.coverage >= CONFIDENT_COVERAGE
                  and h.item.doc_id not in listed and not _is_title(h.item) and fits_question(q, h.item)]
        return self._group_by_assignment(others, weights)

    def _section_entries(self, q: Question, doc_id: str, path: str) -> list[Hit]:
        """The entries of one section in document order: one per sub-section when it has them (its
        title item, with the sub-section's whole text), else its own items without the title; only
        the asked year's or goals if any."""
        inside = [i for i in self.store.items_of_document(doc_id) if i.section == path
                  or i.section.startswith(path + " › ")]
        children: dict[str, list[Item]] = {}
        for i in inside:
            if i.section != path:
                children.setdefault(" › ".join(i.section.split(" › ")[:path.count(" › ") + 2]), []).append(i)
        if children and not (q.year or q.wants_targets):
            return [Hit(members[0], 1.0, 1.0, len(members) - 1, _joined(members) if len(members) > 1 else "")
                    for members in children.values()]
        own = [i for i in inside if i.section == path] or inside
        own = [i for i in own if not _is_title(i)] or own
        if q.year:
            own = [i for i in own if any(d.due and (d.start or d.due).year <= q.year <= d.due.year
                                         for d in i.deadlines)]
        elif q.wants_targets:
            own = [i for i in own if i.targets or any(d.due and not d.ongoing for d in i.deadlines)]
        return [Hit(i, 1.0, 1.0) for i in own]

    def _department_filter(self, q: Question) -> tuple[set[str], set[str]]:
        """(names to match exactly, cores to match at any level) for the departments a question names;
        remembered for the question's names until the next change (every item of a list asks)."""
        key = (self.store.generation, frozenset(q.department_names))
        if self._filter is None or self._filter[0] != key:
            self._filter = (key, split_department_query(q.department_names, self._known_departments()))
        return self._filter[1]

    def role_rank(self, q: Question, item: Item) -> tuple[int, int]:
        """Where the item puts a department the question names: leading it first, then responsible
        for it (the first named before the others), then supporting it."""
        deps = item.departments
        for rank, names in enumerate((deps.lead, deps.responsible)):
            place = next((i for i, name in enumerate(names) if self.asks_for(q, (name,))), None)
            if place is not None:
                return rank, place
        return 2, 0

    def asks_for(self, q: Question, names: tuple[str, ...]) -> bool:
        """Does the item list a department the question names? 国家能源局 means exactly that one;
        能源局 or 发改委 mean that department at any level."""
        return lists_department(names, *self._department_filter(q))

    # ------------------------------------------------------------------ scoring

    def _score(self, q: Question, item: Item, lexical: float, weights: dict[str, WordWeight],
               item_norm: str, context: str, given: frozenset[str] = frozenset()) -> Hit:
        coverage = _coverage(weights, item_norm, context, given)
        similarity = fuzz.partial_ratio(q.core, item_norm, processor=None) / 100 if q.core else 0.0
        score = 0.3 * lexical + 0.45 * coverage + 0.25 * similarity
        score += self._intent_bonus(q, item)
        return Hit(item, round(score, 4), coverage)

    def _intent_bonus(self, q: Question, item: Item) -> float:
        bonus = 0.0
        if q.wants_when and item.deadlines:
            bonus += 0.08
        if q.wants_who and item.departments:
            bonus += 0.08
        if q.wants_money:
            bonus += 0.2 if _MONEY_AMOUNT.search(item.text) else 0.0
        elif q.wants_amount and item.targets:
            bonus += 0.2
            if q.direction and any(value_direction(t.comparator) == q.direction for t in item.targets):
                bonus += 0.05  # 烧煤比重要降到多少: 煤炭消费比重降至75%, before 非化石能源比重达到18%
        if q.region:
            bonus += 0.15 if item.region == q.region else 0.0 if q.in_region(item.region) else -0.3
        if q.department_names:
            if self.asks_for(q, item.departments.lead):
                bonus += 0.25 if q.wants_lead else 0.15
            elif self.asks_for(q, item.departments.responsible):
                bonus += 0.15
            elif self.asks_for(q, item.departments.support) and not q.wants_lead:
                bonus += 0.08
        if q.year and any(d.due and d.due.year == q.year for d in item.deadlines):
            bonus += 0.08
        elif q.year and not _fits_year(q.year, item):
            bonus -= 0.1  # 2030 asked: a target for 2025 of the same sentence comes after 2030's
        if q.reference:
            bonus += 0.15 if item.doc_id in q.doc_ids else -0.3
        if q.deadline_phrase and any(q.deadline_phrase in d.text for d in item.deadlines):
            bonus += 0.3
        return bonus

    def _passes_filters(self, q: Question, item: Item) -> bool:
        if not q.in_region(item.region):
            return False
        if q.reference and item.doc_id not in q.doc_ids:
            return False
        if q.issuer and item.doc_id not in q.kind_doc_ids:
            return False
        if q.deadline_phrase and not any(q.deadline_phrase in d.text for d in item.deadlines):
            return False
        if q.window and not any(q.in_window(d) for d in item.deadlines):
            return False
        if q.unfinished and item.progress == "done":
            return False
        if q.department_names:
            names = item.departments.primary() if q.wants_lead else item.departments.all()
            if not self.asks_for(q, names):
                return False
        return True

    def _group_by_assignment(self, hits: list[Hit], weights: dict[str, WordWeight] | None = None) -> list[Hit]:
        """One list entry per assignment: the items one responsibility clause governs are one task
        for that department or deadline; the entry is the paragraph's first item, with the whole
        paragraph's text. Hits from the filters alone are whole paragraphs, kept in their order.
        Hits ranked by the question's `weights` are some of a paragraph's items: entries under
        headings that name the question's words (those the document's title does not already say)
        come first, as a long paragraph has most words somewhere; the best LIST_MAX are kept and
        their paragraphs' other items fetched."""
        groups: dict[tuple, list[Hit]] = {}
        for h in hits:
            if h.item.kind == "intro":
                continue  # a news opening is no task of the list
            groups.setdefault(_assignment_key(h.item), []).append(h)
        for members in groups.values():
            members.sort(key=lambda h: h.item.seq)
        if weights:
            def rank(members: list[Hit]) -> tuple[float, float]:
                item = members[0].item
                return -round(_heading_coverage(weights, item, self._title(item.doc_id)), 1), -max(m.score for m in members)

            ranked = sorted(groups.items(), key=lambda kv: rank(kv[1]))[:LIST_MAX]
            paragraphs = [self._assignment(m[0].item) if len(key) > 1 else [m[0].item] for key, m in ranked]
            chosen = [m for _, m in ranked]
        else:
            chosen = list(groups.values())
            paragraphs = [[m.item for m in members] for members in chosen]
        return [Hit(paragraph[0], max(m.score for m in members), members[0].coverage, len(paragraph) - 1,
                    _joined(paragraph) if len(paragraph) > 1 else "")
                for members, paragraph in zip(chosen, paragraphs, strict=True)]

    def paragraph(self, item: Item) -> list[Item]:
        """The items of `item`'s paragraph: under the same section and responsibility clause, in order."""
        return self._assignment(item)

    def _assignment(self, item: Item) -> list[Item]:
        """The items next to `item` under the same section and responsibility clause, in order."""
        near = self.store.items_between(item.doc_id, item.seq - ASSIGNMENT_REACH, item.seq + ASSIGNMENT_REACH,
                                        section=item.section, clause=item.clause)
        at = next((n for n, i in enumerate(near) if i.id == item.id), None)
        if at is None:
            return [item]
        start = at  # the run of consecutive places around the item
        while start > 0 and near[start - 1].seq == near[start].seq - 1:
            start -= 1
        end = at + 1
        while end < len(near) and near[end].seq == near[end - 1].seq + 1:
            end += 1
        return near[start:end]


def _states_amount(hit: Hit) -> bool:
    """The hit says some quantity: a target, a number, a share (一半, 三成) or a level (峰值, 零)."""
    return bool(hit.item.targets or _AMOUNT.search(hit.text or hit.item.text))


def _assignment_key(item: Item) -> tuple:
    """Items with one key are one assignment: a paragraph under one responsibility clause."""
    return (item.doc_id, item.section, item.clause) if item.clause else (item.id,)


def _issued_by(department: str, issuer: str, title: str) -> bool:
    """The document is issued by the department (alone or jointly, or by its 办公厅), as its issuer
    or its title (交通运输部关于印发…) says."""
    return department in issuer or title.startswith(department)


def _title_share(title: str, words: str) -> float:
    """The share of the words' bigrams that the (normalised) title has; no words: 1."""
    grams = [g for w in words.split("，") for g in bigrams(w)]
    return sum(g in title for g in grams) / len(grams) if grams else 1.0


def _joined(items: list[Item]) -> str:
    """Items' texts as one paragraph."""
    return "".join(i.text if i.text.endswith(("。", "；")) else i.text + "；" for i in items).rstrip("；")


def _heading_coverage(weights: dict[str, WordWeight], item: Item, title: str) -> float:
    """How much of the question the item's section headings say, leaving out what its document's
    (normalised) title says: that is the topic of every section."""
    own = {w: ww for w, ww in weights.items() if w not in title}
    return _coverage(own, _normal_heading(item.section), "") if own else 0.0


@lru_cache(maxsize=4096)
def _normal_heading(section: str) -> str:
    return normalize(section)


def _is_title(item: Item) -> bool:
    """The item is its section's heading (a paragraph's title sentence: 城镇绿色节能改造工程。)."""
    return bool(item.section) and item.text.rstrip("。") == _HEADING_MARKER.sub("", item.section.split(" › ")[-1])


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(frozen=True)
class WordWeight:
    weight: float
    known: bool  # the knowledge base has the word (by characters or by sound)
    alternatives: tuple[str, ...] = ()  # the domain's other wordings (粪便 -> 粪污)
    by_sound_only: bool = False  # no item has it as written, some by sound: a homophone typo (煤碳)


def _word_weights(core: str, counts: dict[str, int], total: int) -> dict[str, WordWeight]:
    """Each content word of the question with an IDF weight (a word is as rare as its rarest bigram)."""
    def df(w: str) -> int:
        return min((counts.get(g, 0) for g in bigrams(w)), default=0)

    weights: dict[str, WordWeight] = {}
    for w in _content_words(core, df):
        alternatives = tuple(EXPANSIONS.get(w, "").split())
        sound_df = min((counts.get(g, 0) for g in sound_bigrams(w)), default=0) if not w.isascii() else 0
        dfs = [df(w), *(df(a) for a in alternatives)]
        known = any(dfs) or bool(sound_df)
        weights[w] = WordWeight(math.log(1 + total / (1 + max(dfs))), known, alternatives,
                                by_sound_only=not any(dfs) and bool(sound_df))
    return weights


def sounds_like_in(word: str, text: str) -> bool:
    """A homophone typo of `word` occurs in `text`: same syllables, and at least one character the
    same at the same place (煤碳 ~ 煤炭, 消废 ~ 消费; but 合适 is not 和十)."""
    target = syllables(word).split()
    if not target:
        return False
    sounds, joined = _sounds_of(text)
    if "".join(target) not in joined:
        return False
    n, first = len(word), target[0]
    for i in range(len(text) - n + 1):
        if sounds[i] and sounds[i] != first:  # (the window's first syllable is not the word's)
            continue
        if [s for s in sounds[i:i + n] if s] == target and any(a == b for a, b in zip(text[i:i + n], word, strict=True)):
            return True
    return False


@lru_cache(maxsize=4096)
def _sounds_of(text: str) -> tuple[tuple[str, ...], str]:
    """Each character's syllable ("" for what is not Chinese), and all of them joined: a candidate's
    text comes back question after question, and for each word asked by its sound."""
    sounds = char_syllables(text)
    return sounds, "".join(sounds)


def _content_words(core: str, df: Callable[[str], int]) -> list[str]:
    """The question's words worth matching; a compound the knowledge base lacks (废旧轮胎) is
    replaced by its parts (废旧, 轮胎) — the longest ones: 个人所得税 is 个人 + 所得税, not also 所得."""
    out: list[str] = []
    for w in words(core):
        if (len(w) < 2 and not w.isascii()) or not re.search(r"\w", w):  # a lone character, punctuation
            continue
        if len(w) >= 3 and not w.isascii() and not df(w):
            parts = [p for p in search_words(w) if len(p) >= 2 and p != w]
            parts = [p for p in parts if not any(p != q and p in q for q in parts)]
            if parts:
                out += parts
                continue
        out.append(w)
    return list(dict.fromkeys(out))


def fits_question(q: Question, item: Item) -> bool:
    """An item from another region or document, or about other years, than the question names is a
    suggestion at best: 广东 asked, only national or 内蒙古 items found; 2035 asked, the items speak of
    2025; 国发〔2022〕1号 asked, which the knowledge base lacks."""
    if not q.in_region(item.region):
        return False
    if q.reference and item.doc_id not in q.doc_ids:
        return False
    if q.document_kind and item.doc_id not in q.kind_doc_ids:
        return False  # 浙江碳达峰实施方案 asked; only a meeting's report found
    return q.year is None or _fits_year(q.year, item)


def _fits_year(year: int, item: Item) -> bool:
    years = {t.year for t in item.targets} | {d.due.year for d in item.deadlines if d.due}
    spans = any(d.start and d.due and d.start.year <= year <= d.due.year for d in item.deadlines)
    return spans or year in years or str(year) in item.text or str(year) in item.section


def _choose_sections(topic: dict[str, WordWeight],
                     sections: dict[tuple[str, str], dict[str, float]]) -> dict[tuple[str, str], dict[str, float]]:
    """The fewest sections whose headings cover the topic's words, greedily, each adding at least
    SECTION_GAIN of it: {(doc id, path): coverage of each word}, in the order the question names
    their words (充电设施 … 支持政策). Sub-sections that match alike (钢铁/有色金属/建材行业 under
    工业领域) are chosen as their parent; a section inside another chosen one is left to its parent."""
    sections = dict(sections)
    total = sum(ww.weight for ww in topic.values())
    chosen: dict[tuple[str, str], dict[str, float]] = {}
    covered = dict.fromkeys(topic, 0.0)

    def gain(key: tuple[str, str]) -> tuple[float, int]:
        return (sum(topic[w].weight * max(0.0, c - covered[w]) for w, c in sections[key].items()),
                -key[1].count(" › "))  # on a tie the parent, whose children all match

    while sections and len(chosen) < MAX_TOPIC_SECTIONS:
        key = max(sections, key=gain)
        if gain(key)[0] < SECTION_GAIN * total:
            break
        alike = [k for k in sections if k != key and _parent(k) == _parent(key)
                 and all(abs(c - sections[key][w]) < 0.05 for w, c in sections[k].items())]
        found = {w: max(sections[k][w] for k in (key, *alike)) for w in topic}
        for k in (key, *alike):
            del sections[k]
        if alike and _parent(key)[1]:
            key = _parent(key)
            sections.pop(key, None)
        chosen[key] = found
        covered = {w: max(c, found[w]) for w, c in covered.items()}
    order = list(topic)
    kept = [k for k in chosen if not any(o[0] == k[0] and k[1].startswith(o[1] + " › ") for o in chosen)]
    kept.sort(key=lambda k: min((order.index(w) for w, c in chosen[k].items() if c >= 0.5), default=len(order)))
    return {k: chosen[k] for k in kept}


def _parent(section: tuple[str, str]) -> tuple[str, str]:
    """(doc id, path) of a section's parent; the path is empty for a top-level section."""
    return section[0], section[1].rpartition(" › ")[0]


def unknown_share(weights: dict[str, WordWeight]) -> float:
    """How much of the question (by weight) the knowledge base has never seen: 医保、报销、年会."""
    total = sum(w.weight for w in weights.values())
    return sum(w.weight for w in weights.values() if not w.known) / total if total else 1.0


def _without_window(q: Question) -> Question | None:
    """The question without its time window (a status asked stays), when it names the window in
    words and a department whose items to list; else None (2022年12月底前要完成哪些工作: none)."""
    if not (q.window and q.window_phrase and q.department_names):
        return None
    if q.status:  # 今年还没到期的: those not yet due, whenever
        return replace(q, window=timewords.status_window(q.status, q.today), window_phrase="")
    return replace(q, window=None, window_phrase="", unfinished=False)


def _region_words(q: Question, weights: dict[str, WordWeight]) -> frozenset[str]:
    """The question's words that name its region (内蒙古, 浙江省): an item of that region has them."""
    if not q.region or q.region == NATIONAL:
        return frozenset()
    return frozenset(w for w in weights if find_region(w) in q.regions)


def _department_words(q: Question, weights: dict[str, WordWeight]) -> frozenset[str]:
    """The question's words that name a department it asks about (国铁, 集团 of 国铁集团): an item that
    lists that department — under whatever name (中国国家铁路集团有限公司) — has them."""
    names = [normalize(name) for name in q.department_names]
    return frozenset(w for w in weights if any(w in name for name in names))


def _split_match(word: str, text: str) -> bool:
    """A two-character word written with one character between its two (充电 in 充换电, 节能 in 节水能)."""
    if len(word) != 2 or word.isascii():
        return False
    i = text.find(word[0])
    while 0 <= i < len(text) - 2:
        if text[i + 2] == word[1] and text[i + 1] not in "，。；、,;：:":
            return True
        i = text.find(word[0], i + 1)
    return False


@lru_cache(maxsize=4096)
def _gram_set(text: str) -> frozenset[str]:
    """A candidate's bigrams: the same items come back question after question."""
    return frozenset(bigrams(text))


def _coverage(weights: dict[str, WordWeight], text: str, context: str, given: frozenset[str] = frozenset()) -> float:
    """IDF-weighted share of the question's known words found in the item: in its text, its context
    (section, title, departments, deadlines), by sound (homophone typos) or, partly, by shared bigrams
    or a character between (充电 ~ 充换电). `given` words count as found (the item's region)."""
    total = 0.0
    got = 0.0
    for w, ww in weights.items():
        if not ww.known:
            continue
        total += ww.weight
        if w in given:
            got += ww.weight
            continue
        best = 0.0
        for a in (w, *ww.alternatives):
            if a in text:
                best = 1.0
                break
            if a in context:
                best = max(best, 0.7)
            elif ww.by_sound_only and a is w and sounds_like_in(a, text):
                best = max(best, 0.8)
            elif best < 0.6 and _split_match(a, text):
                best = 0.6
            elif best < 0.5 and len(a) > 2:
                text_grams, context_grams = _gram_set(text), _gram_set(context)
                grams = bigrams(a)
                best = max(best, 0.5 * sum(g in text_grams or g in context_grams for g in grams) / len(grams))
        got += ww.weight * best
    return got / total if total else 0.0
