"""The search index: each token's postings as packed arrays, scored with FTS5's BM25.

The index was FTS5's, whose bm25() costs ~1.3 µs for every row a query matches (it decodes each
row's position lists and looks up its size in a table): at 100k items a question matching 4,000
postings spent 4–5 ms there, most of its answer. Here a token's postings are arrays of 64-bit
entries — the item's id, its length in tokens and the token's count in each column (body, meta,
sound) — and a question scores them in C (numpy), or in Python when they are few: the same BM25
as FTS5's (k1 1.2, b 0.75, its IDF, a column's weight for each occurrence there), the same scores
to the last bit, ~0.5 ms for the same question.

Every write adds one segment of entries per token it indexes (the store keeps them); the entries of
an item removed or indexed again are masked by a mark (item id → the last segment where they are
stale) until the token's segments are merged into one without them. Nothing here reads the database.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # numpy is imported for the first question with many postings (0.1 s at start-up)
    import numpy as np

TOKEN = re.compile(r"[^\W_]+")  # what FTS5's unicode61 tokenizer makes a token of (our columns are lower case)
K1 = 1.2  # FTS5's bm25 constants
B = 0.75
COUNT_BITS = 6  # an entry: id (32 bits) | length (14) | sound count (6) | meta count (6) | body count (6)
MAX_COUNT = (1 << COUNT_BITS) - 1  # (counts and lengths past these saturate: a word 64 times in one
MAX_LENGTH = (1 << 14) - 1  # item's column, an item of 16,384 tokens — neither occurs in policy texts)
LENGTH_SHIFT = 3 * COUNT_BITS
ID_SHIFT = 32
NUMPY_FROM = 400  # a question's entries from this many on are scored by numpy (~0.2 ms), fewer in Python


class RowPostings(NamedTuple):
    """An index row's tokens counted in each of its columns: body (the item's text), meta (its
    context: section, title, departments, deadlines, metrics) and sound (the text's sounds)."""
    body: Counter[str]
    meta: Counter[str]
    sound: Counter[str]

    def tokens(self) -> set[str]:
        return self.body.keys() | self.meta.keys() | self.sound.keys()

    def length(self) -> int:
        """The row's length in tokens (FTS5's size of a row: all its columns)."""
        return self.body.total() + self.meta.total() + self.sound.total()


def token_counts(words: list[str]) -> Counter[str]:
    """Each token's count among a column's words, as FTS5's unicode61 tokenizer makes tokens of
    them: a word of letters and digits alone (most: bigrams, syllables) is one, "2.5" is two."""
    counts = Counter(words)
    if not "".join(counts).isalnum():  # (isalnum: what TOKEN matches)
        for word in [w for w in counts if not w.isalnum()]:
            n = counts.pop(word)
            for token in TOKEN.findall(word):
                counts[token] += n
    return counts


def segments(rows: Iterable[tuple[int, RowPostings, int]]) -> dict[str, bytes]:
    """Index rows (item id, postings, length) as one segment per token: its entries, packed, by
    item id. (In numpy: one write of an import has millions of tokens' counts.)"""
    import numpy as np

    tokens: list[str] = []
    counts: list[int] = []
    heads, sizes, shifts = array("Q"), array("Q"), array("Q")
    for item_id, postings, length in rows:
        head = item_id << ID_SHIFT | min(length, MAX_LENGTH) << LENGTH_SHIFT
        for shift, column in zip((0, COUNT_BITS, 2 * COUNT_BITS), postings, strict=True):
            tokens += column
            counts += column.values()
            heads.append(head)
            shifts.append(shift)
            sizes.append(len(column))
    if not tokens:
        return {}
    numbers = dict.fromkeys(tokens, 0)
    for n, token in enumerate(numbers):
        numbers[token] = n
    codes = np.fromiter(map(numbers.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    repeat = np.frombuffer(sizes, dtype=np.uint64).astype(np.int64)
    entries = np.repeat(np.frombuffer(heads, dtype=np.uint64), repeat)
    entries |= np.minimum(np.array(counts, dtype=np.uint64), MAX_COUNT) << np.repeat(
        np.frombuffer(shifts, dtype=np.uint64), repeat)
    # by token, then item: a token in several columns of an item is one entry, its counts together
    keys = codes << ID_SHIFT | entries >> ID_SHIFT
    order = np.argsort(keys)
    keys, entries = keys[order], entries[order]
    firsts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    entries = np.bitwise_or.reduceat(entries, firsts)
    ends = np.cumsum(np.bincount((keys[firsts] >> ID_SHIFT).astype(np.int64), minlength=len(numbers))).tolist()
    return {token: entries[start:end].tobytes() for token, start, end in zip(numbers, [0, *ends], ends, strict=False)}


class Marks:
    """Stale marks: item id → the last segment where that item's entries are stale (it was removed
    or indexed again since), with the arrays numpy filters by, made when first needed."""

    def __init__(self, by_id: dict[int, int]) -> None:
        self.by_id = by_id
        self.newest = max(by_id.values(), default=-1)  # entries of later segments are never stale
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The marked ids, in order, and the last stale segment of each."""
        if self._arrays is None:
            import numpy as np

            ids = np.fromiter(self.by_id.keys(), dtype=np.int64, count=len(self.by_id))
            order = np.argsort(ids)
            self._arrays = ids[order], np.fromiter(self.by_id.values(), dtype=np.int64, count=len(ids))[order]
        return self._arrays

    def live(self, parts: list[tuple[int, bytes]]) -> np.ndarray:
        """A token's segments' entries, in segment order, without the stale ones."""
        import numpy as np

        entries = np.frombuffer(parts[0][1] if len(parts) == 1 else b"".join(blob for _, blob in parts), dtype=np.uint64)
        if not self or parts[0][0] > self.newest:
            return entries
        ids = (entries >> ID_SHIFT).astype(np.int64)
        segment = np.repeat(np.array([s for s, _ in parts], dtype=np.int64), [len(blob) // 8 for _, blob in parts])
        marked, last_stale = self.arrays()
        at = np.minimum(np.searchsorted(marked, ids), len(marked) - 1)
        return entries[~((marked[at] == ids) & (last_stale[at] >= segment))]


def entry_count(parts: list[tuple[int, bytes]]) -> int:
    return sum(len(blob) for _, blob in parts) // 8


def best(tokens: list[list[tuple[int, bytes]]], marks: Marks, items: int, average_length: float,
         weights: tuple[float, float, float], limit: int) -> list[tuple[int, float]]:
    """The `limit` items scoring best for these tokens' postings (each token's segments), as FTS5's
    bm25 with these column weights would score them (but positive): (item id, score), best first,
    ties by id. `items` and `average_length`: the index's number of rows and their mean length."""
    if sum(entry_count(parts) for parts in tokens) >= NUMPY_FROM:
        return _best_numpy(tokens, marks, items, average_length, weights, limit)
    scores: dict[int, float] = {}
    marked = marks.by_id
    w_body, w_meta, w_sound = weights
    for parts in tokens:
        live = [(e >> ID_SHIFT, e) for segment, blob in parts for e in array("Q", blob)
                if not marked or marked.get(e >> ID_SHIFT, -1) < segment]
        idf = _idf(items, len(live))
        for item_id, e in live:
            f = (e & MAX_COUNT) * w_body + (e >> COUNT_BITS & MAX_COUNT) * w_meta \
                + (e >> 2 * COUNT_BITS & MAX_COUNT) * w_sound
            d = e >> LENGTH_SHIFT & MAX_LENGTH
            scores[item_id] = scores.get(item_id, 0.0) + idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * d / average_length)))
    return heapq.nsmallest(limit, scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _idf(items: int, matches: int) -> float:
    """FTS5's IDF: log((N - n + 0.5) / (n + 0.5)), a tiny positive number for a token in over half the rows."""
    idf = math.log((items - matches + 0.5) / (matches + 0.5))
    return idf if idf > 0 else 1e-6


def _best_numpy(tokens: list[list[tuple[int, bytes]]], marks: Marks, items: int, average_length: float,
                weights: tuple[float, float, float], limit: int) -> list[tuple[int, float]]:
    """`best` in numpy: the same operations in the same order, so the same scores to the last bit."""
    import numpy as np

    live = [marks.live(parts) for parts in tokens if parts]
    if not live:
        return []
    counts = [len(entries) for entries in live]
    entries = np.concatenate(live)
    idf = np.repeat(np.array([_idf(items, n) for n in counts]), counts)
    w_body, w_meta, w_sound = weights
    f = ((entries & MAX_COUNT) * w_body + (entries >> COUNT_BITS & MAX_COUNT) * w_meta
         + (entries >> 2 * COUNT_BITS & MAX_COUNT) * w_sound)
    d = entries >> LENGTH_SHIFT & MAX_LENGTH
    scores = idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * d / average_length)))
    found, at = np.unique(entries >> ID_SHIFT, return_inverse=True)
    totals = np.bincount(at, weights=scores)  # (each item's summed in token order, as above)
    if len(found) > limit:  # the `limit` best, and every item tied with the last of them, then by id
        threshold = np.partition(totals, len(totals) - limit)[len(totals) - limit]
        keep = np.nonzero(totals >= threshold)[0]
        found, totals = found[keep], totals[keep]
    order = np.lexsort((found, -totals))[:limit]
    return list(zip(found[order].tolist(), totals[order].tolist(), strict=True))
