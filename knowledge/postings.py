"""The search tokens' postings as packed arrays, and FTS5's BM25 computed over them.

FTS5's bm25() costs ~1.3 µs for every row a query matches (it decodes each row's position lists
and looks up its size in a table): at 100k items a question matching 4,000 postings spent 4–5 ms
there, most of its answer. Here a token's postings are arrays of 64-bit entries — the item's id,
its length in tokens and the token's count in each column (body, meta, sound) — and a question
scores them in C (numpy), or in Python when they are few: the same BM25 as FTS5's (k1 1.2, b 0.75,
its IDF, a column's weight for each occurrence there), ~0.5 ms for the same question.

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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

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
NUMPY_FROM = 2000  # a question's entries from this many on are scored by numpy, fewer in Python

# A row's postings: token -> its three column counts packed (body | meta << 6 | sound << 12).
RowPostings = dict[str, int]


def column_counts(column: str) -> Counter[str]:
    """Each token's count in one indexed column's text (as FTS5 tokenizes it)."""
    return Counter(TOKEN.findall(column))


def row_postings(body: Counter[str], meta: Counter[str], sound: Counter[str]) -> tuple[RowPostings, int]:
    """An index row's postings from its columns' token counts, and its length in tokens (FTS5's
    size of the row: all columns)."""
    packed = {t: min(n, MAX_COUNT) for t, n in body.items()}
    for shift, counts in ((COUNT_BITS, meta), (2 * COUNT_BITS, sound)):
        for t, n in counts.items():
            packed[t] = packed.get(t, 0) | min(n, MAX_COUNT) << shift
    return packed, body.total() + meta.total() + sound.total()


def segments(rows: Iterable[tuple[int, RowPostings, int]]) -> dict[str, bytes]:
    """Index rows (item id, postings, length) as one segment per token: its entries, packed, in
    the rows' order. (Grouped in numpy: an import's write has millions of a row's tokens.)"""
    import numpy as np

    tokens: list[str] = []
    counts: list[int] = []
    heads, sizes = array("Q"), array("Q")
    for item_id, postings, length in rows:
        tokens += postings
        counts += postings.values()
        heads.append(item_id << ID_SHIFT | min(length, MAX_LENGTH) << LENGTH_SHIFT)
        sizes.append(len(postings))
    if not tokens:
        return {}
    numbers = dict.fromkeys(tokens, 0)
    for n, token in enumerate(numbers):
        numbers[token] = n
    codes = np.fromiter(map(numbers.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    entries = np.repeat(np.frombuffer(heads, dtype=np.uint64), np.frombuffer(sizes, dtype=np.uint64).astype(np.int64))
    entries |= np.array(counts, dtype=np.uint64)
    entries = entries[np.argsort(codes, kind="stable")]
    ends = np.cumsum(np.bincount(codes, minlength=len(numbers))).tolist()
    return {token: entries[start:end].tobytes() for token, start, end in zip(numbers, [0, *ends], ends, strict=False)}


def merged(parts: list[tuple[int, bytes]], stale: Mapping[int, int]) -> bytes:
    """A token's segments (segment number, entries) as one, without the entries stale in theirs."""
    if not stale:
        return b"".join(blob for _, blob in parts)
    import numpy as np

    stale_ids, stale_segments = _marks(stale)
    return b"".join(_live(np.frombuffer(blob, dtype=np.uint64), segment, stale_ids, stale_segments).tobytes()
                    for segment, blob in parts)


def _marks(stale: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The stale marks as two arrays, by item id: ids, and the last segment where each is stale."""
    import numpy as np

    ids = np.fromiter(stale.keys(), dtype=np.int64, count=len(stale))
    order = np.argsort(ids)
    return ids[order], np.fromiter(stale.values(), dtype=np.int64, count=len(stale))[order]


def _live(entries: np.ndarray, segment: int, stale_ids: np.ndarray, stale_segments: np.ndarray) -> np.ndarray:
    """The entries of one segment that no mark makes stale."""
    import numpy as np

    ids = (entries >> ID_SHIFT).astype(np.int64)
    at = np.minimum(np.searchsorted(stale_ids, ids), len(stale_ids) - 1)
    return entries[~((stale_ids[at] == ids) & (stale_segments[at] >= segment))]


def entry_count(parts: list[tuple[int, bytes]]) -> int:
    return sum(len(blob) for _, blob in parts) // 8


def best(tokens: list[list[tuple[int, bytes]]], stale: Mapping[int, int], items: int, average_length: float,
         weights: tuple[float, float, float], limit: int) -> list[tuple[int, float]]:
    """The `limit` items scoring best for these tokens' postings (each token's segments), as FTS5's
    bm25 with these column weights would score them (but positive): (item id, score), best first,
    ties by id. `items` and `average_length`: the index's number of rows and their mean length."""
    if sum(entry_count(parts) for parts in tokens) >= NUMPY_FROM:
        return _best_numpy(tokens, stale, items, average_length, weights, limit)
    scores: dict[int, float] = {}
    w_body, w_meta, w_sound = weights
    for parts in tokens:
        live = [(e >> ID_SHIFT, e) for segment, blob in parts for e in array("Q", blob)
                if not stale or stale.get(e >> ID_SHIFT, -1) < segment]
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


def _best_numpy(tokens: list[list[tuple[int, bytes]]], stale: Mapping[int, int], items: int, average_length: float,
                weights: tuple[float, float, float], limit: int) -> list[tuple[int, float]]:
    """`best` in numpy: the same operations in the same order, so the same scores to the last bit."""
    import numpy as np

    marks = _marks(stale) if stale else None
    ids_parts, score_parts = [], []
    w_body, w_meta, w_sound = weights
    for parts in tokens:
        live = []
        for segment, blob in parts:
            entries = np.frombuffer(blob, dtype=np.uint64)
            live.append(_live(entries, segment, *marks) if marks else entries)
        if not live:
            continue
        entries = np.concatenate(live) if len(live) > 1 else live[0]
        idf = _idf(items, len(entries))
        f = ((entries & MAX_COUNT).astype(np.float64) * w_body
             + (entries >> COUNT_BITS & MAX_COUNT).astype(np.float64) * w_meta
             + (entries >> 2 * COUNT_BITS & MAX_COUNT).astype(np.float64) * w_sound)
        d = (entries >> LENGTH_SHIFT & MAX_LENGTH).astype(np.float64)
        ids_parts.append((entries >> ID_SHIFT).astype(np.int64))
        score_parts.append(idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * d / average_length))))
    if not ids_parts:
        return []
    found, at = np.unique(np.concatenate(ids_parts), return_inverse=True)
    totals = np.bincount(at, weights=np.concatenate(score_parts))  # (summed in token order, as above)
    if len(found) > limit:  # the `limit` best, and every item tied with the last of them, then by id
        threshold = np.partition(totals, len(totals) - limit)[len(totals) - limit]
        keep = np.nonzero(totals >= threshold)[0]
        found, totals = found[keep], totals[keep]
    order = np.lexsort((found, -totals))[:limit]
    return list(zip(found[order].tolist(), totals[order].tolist(), strict=True))
