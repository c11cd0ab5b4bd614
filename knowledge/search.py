"""Find the items that answer a question: FTS5 candidates, then a re-rank on the item's fields.

Candidates come from the bigram index (text, section/title/departments, pinyin) and, for questions
that name a department, a deadline window or a phrase like 12月底前, from the structured tables.
The re-rank combines BM25, how much of the question the item covers (characters or sounds),
rapidfuzz similarity and what the question asks for (when / who / how much, region, year).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from knowledge.departments import NATIONAL_ALIASES, department_core
from knowledge.intents import Question, understand
from knowledge.models import Item
from knowledge.normalize import (
    EXPANSIONS,
    bigrams,
    expansions,
    normalize,
    search_words,
    sound_bigrams,
    syllables,
    words,
)
from knowledge.store import KnowledgeStore, index_context

CANDIDATES = 150
MAX_QUERY_TOKENS = 48
COMMON_TOKEN_SHARE = 0.2  # tokens in more than this share of items only re-rank, they do not select
CONFIDENT_SCORE = 0.55
CONFIDENT_COVERAGE = 0.5
MAX_UNKNOWN_SHARE = 0.5
LIST_SHARE_OF_TOP = 0.7  # a topic list keeps the items scoring at least this share of the best
LIST_MAX = 30
FTS_WEIGHTS = (1.0, 0.5, 0.4)  # body, meta (section, title, departments), sound


@dataclass
class Hit:
    item: Item
    score: float
    coverage: float = 0.0
    siblings: int = 0  # in a list: further items of the same paragraph under the same assignment


@dataclass
class SearchResult:
    question: Question
    hits: list[Hit] = field(default_factory=list)
    confident: bool = False
    mode: str = "item"  # item | list | not_found | greeting | help


class Searcher:
    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self._departments: dict[str, str] | None = None

    def known_departments(self) -> dict[str, str]:
        """Department names (and national aliases) -> core, for spotting departments in questions."""
        if self._departments is None:
            names = {n: department_core(n) for n in self.store.department_names()}
            for canon, aliases in NATIONAL_ALIASES.items():
                for alias in (canon, *aliases):
                    names.setdefault(normalize(alias), department_core(canon))
            self._departments = {normalize(k): v for k, v in names.items()}
        return self._departments

    def invalidate(self) -> None:
        self._departments = None

    def search(self, text: str, today: date, k: int = 5) -> SearchResult:
        q = understand(text, today, self.known_departments())
        if q.greeting or q.help:
            return SearchResult(q, mode="greeting" if q.greeting else "help")
        candidates, weights = self._candidates(q)
        if not candidates:
            return SearchResult(q, mode="not_found")
        items = self.store.get_items(list(candidates))
        hits = [self._score(q, items[i], candidates[i], weights) for i in candidates if i in items]
        hits.sort(key=lambda h: (-h.score, h.item.id))
        if q.structured:
            filtered = [h for h in hits if self._passes_filters(q, h.item)]
            if filtered:
                return SearchResult(q, self._list_order(q, filtered), confident=True, mode="list")
        if not hits:
            return SearchResult(q, mode="not_found")
        top = hits[0]
        confident = (top.score >= CONFIDENT_SCORE and top.coverage >= CONFIDENT_COVERAGE
                     and unknown_share(weights) <= MAX_UNKNOWN_SHARE)
        if not confident:
            return SearchResult(q, hits[:k], confident=False, mode="not_found")
        if q.wants_list and not q.structured:
            listed = [h for h in hits if h.score >= top.score * LIST_SHARE_OF_TOP][:LIST_MAX]
            return SearchResult(q, listed, confident=True, mode="list")
        return SearchResult(q, hits, confident=True, mode="item")

    # ------------------------------------------------------------------ candidates

    def _candidates(self, q: Question) -> tuple[dict[int, float], dict[str, WordWeight]]:
        """Item id -> normalised lexical score (0..1) from the index, plus structured matches at 0;
        and the question's words with their weights."""
        found: dict[int, float] = {}
        expanded = q.core + "，" + expansions(q.norm)
        tokens = list(dict.fromkeys(bigrams(expanded) + sound_bigrams(q.core)))[:MAX_QUERY_TOKENS]
        counts = self.store.token_document_counts(tokens)
        total = max(1, self.store.count_items())
        weights = _word_weights(q.core, counts, total)
        selective = [t for t in tokens if counts.get(t, 0) and counts[t] <= COMMON_TOKEN_SHARE * total]
        if not selective:
            selective = [t for t in tokens if counts.get(t, 0)]
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in selective)
        rows = self.store.fts_candidates(match, CANDIDATES, FTS_WEIGHTS)
        best = max((s for _, s in rows), default=1.0) or 1.0
        for item_id, s in rows:
            found[item_id] = s / best
        for item_id in self._structured_ids(q):
            found.setdefault(item_id, 0.0)
        return found, weights

    def _structured_ids(self, q: Question) -> list[int]:
        ids: list[int] = []
        if q.deadline_phrase:
            ids += self.store.ids_by_deadline_text(q.deadline_phrase)
        if q.window:
            start, end = q.window
            ids += self.store.ids_due_between(start or date(1900, 1, 1), end or date(2999, 12, 31))
        if q.department_cores:
            role = "lead" if q.wants_lead else None
            ids += [i for i, _ in self.store.ids_by_department(q.department_cores, role)]
        return ids

    def asks_for(self, q: Question, names: tuple[str, ...]) -> bool:
        """Does the item list a department the question names? 国家能源局 means exactly that one;
        能源局 or 发改委 mean that department at any level."""
        for asked in q.department_names:
            core = self.known_departments().get(asked, asked)
            if core != asked:  # named with its level
                if asked in names:
                    return True
            elif any(department_core(n) == core for n in names):
                return True
        return False

    # ------------------------------------------------------------------ scoring

    def _score(self, q: Question, item: Item, lexical: float, weights: dict[str, WordWeight]) -> Hit:
        title = self.store.document_title(item.doc_id)
        item_norm = normalize(item.text)
        context = normalize(" ".join(index_context(item, title)))
        coverage = _coverage(weights, item_norm, context)
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
        if q.wants_amount and item.targets:
            bonus += 0.2
        if q.region:
            bonus += 0.15 if item.region == q.region else -0.3
        if q.department_names:
            if self.asks_for(q, item.departments.lead):
                bonus += 0.25 if q.wants_lead and "牵头" in item.clause else 0.15
            elif self.asks_for(q, item.departments.support) and not q.wants_lead:
                bonus += 0.08
        if q.year and any(d.due and d.due.year == q.year for d in item.deadlines):
            bonus += 0.08
        if q.deadline_phrase and any(q.deadline_phrase in d.text for d in item.deadlines):
            bonus += 0.3
        return bonus

    def _passes_filters(self, q: Question, item: Item) -> bool:
        if q.region and item.region != q.region:
            return False
        if q.deadline_phrase and not any(q.deadline_phrase in d.text for d in item.deadlines):
            return False
        if q.window:
            start, end = q.window
            if not any(d.due and (start is None or d.due >= start) and (end is None or d.due <= end)
                       for d in item.deadlines):
                return False
        if q.department_names:
            names = item.departments.lead if q.wants_lead else item.departments.all()
            if not self.asks_for(q, names):
                return False
        return True

    def _list_order(self, q: Question, hits: list[Hit]) -> list[Hit]:
        """A filtered list: one entry per assignment (the items a responsibility clause governs
        are one task for that department or deadline), newest document first, in document order
        unless the question has words of its own to rank by."""
        groups: dict[tuple, list[Hit]] = {}
        for h in hits:
            key = (h.item.doc_id, h.item.section, h.item.clause) if h.item.clause else (h.item.id,)
            groups.setdefault(key, []).append(h)
        entries = []
        for members in groups.values():
            first = min(members, key=lambda h: h.item.seq)
            entries.append(Hit(first.item, max(m.score for m in members), first.coverage, len(members) - 1))
        if q.core_is_only_filters:
            return sorted(entries, key=lambda h: (-self._doc_date_ordinal(h.item), h.item.seq))
        return sorted(entries, key=lambda h: (-h.score, -self._doc_date_ordinal(h.item), h.item.seq))

    def _doc_date_ordinal(self, item: Item) -> int:
        doc = self.store.get_document(item.doc_id)
        return doc.date.toordinal() if doc and doc.date else 0


@dataclass(frozen=True)
class WordWeight:
    weight: float
    known: bool  # the knowledge base has the word (by characters or by sound)
    alternatives: tuple[str, ...] = ()  # the domain's other wordings (粪便 -> 粪污)


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
        weights[w] = WordWeight(math.log(1 + total / (1 + max(dfs))), known, alternatives)
    return weights


def sounds_like_in(word: str, text: str) -> bool:
    """A homophone typo of `word` occurs in `text`: same syllables, and at least one character the
    same at the same place (煤碳 ~ 煤炭, 消废 ~ 消费; but 合适 is not 和十)."""
    target = syllables(word).split()
    if not target or "".join(target) not in syllables(text).replace(" ", ""):
        return False
    n = len(word)
    for i in range(len(text) - n + 1):
        window = text[i:i + n]
        if syllables(window).split() == target and any(a == b for a, b in zip(window, word, strict=True)):
            return True
    return False


def _content_words(core: str, df: Callable[[str], int]) -> list[str]:
    """The question's words worth matching; a compound the knowledge base lacks (废旧电池) is
    replaced by its parts (废旧, 电池)."""
    out: list[str] = []
    for w in words(core):
        if w == "，" or (len(w) < 2 and not w.isascii()) or not w.strip("，,"):
            continue
        if len(w) >= 3 and not w.isascii() and not df(w):
            parts = [p for p in search_words(w) if len(p) >= 2 and p != w]
            if parts:
                out += parts
                continue
        out.append(w)
    return list(dict.fromkeys(out))


def unknown_share(weights: dict[str, WordWeight]) -> float:
    """How much of the question (by weight) the knowledge base has never seen: 医保、报销、年会."""
    total = sum(w.weight for w in weights.values())
    return sum(w.weight for w in weights.values() if not w.known) / total if total else 1.0


def _coverage(weights: dict[str, WordWeight], text: str, context: str) -> float:
    """IDF-weighted share of the question's known words found in the item: in its text, its context
    (section, title, departments), by sound (homophone typos) or, partly, by shared bigrams."""
    known = {w: ww for w, ww in weights.items() if ww.known}
    if not known:
        return 0.0
    hay_grams = set(bigrams(text)) | set(bigrams(context))

    def match(w: str) -> float:
        if w in text:
            return 1.0
        if w in context:
            return 0.7
        if len(w) > 1 and not w.isascii() and sounds_like_in(w, text):
            return 0.8
        grams = bigrams(w)
        return 0.5 * sum(g in hay_grams for g in grams) / len(grams) if len(grams) > 1 else 0.0

    got = sum(ww.weight * max(match(a) for a in (w, *ww.alternatives)) for w, ww in known.items())
    return got / sum(ww.weight for ww in known.values())
