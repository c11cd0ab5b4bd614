"""jieba's precise and search modes (`jieba.lcut`, `jieba.lcut_for_search`, HMM on) over a `Lexicon`.

The same steps as jieba 0.42 — blocks of Chinese and ASCII, the dictionary's DAG of words, the most
probable route through it, the HMM (Viterbi over B/M/E/S) for runs of single characters the dictionary
does not know — so the words are jieba's own (tests compare them on every question and document we
have), but the dictionary is looked up only for the fragments of the sentence at hand.
"""

from __future__ import annotations

import re
from math import log

from knowledge.lazyre import lazy_compile
from knowledge.lexicon import Lexicon

# jieba's own patterns: what a block is, what is skipped, and the HMM's runs and its ASCII pieces
# (the last three compiled when first needed: many questions need none of them).
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_SKIP = lazy_compile("(\r\n|\\s)", re.U)
_HMM_HAN = lazy_compile("([\u4E00-\u9FD5]+)")
_HMM_SKIP = lazy_compile("([a-zA-Z0-9]+(?:\\.\\d+)?%?)")
MIN_FLOAT = -3.14e100
_STATES = "BMES"
_PREVIOUS = {"B": "ES", "M": "MB", "S": "SE", "E": "BM"}


def cut(sentence: str, lexicon: Lexicon) -> list[str]:
    """The words of a sentence, as `jieba.lcut(sentence)` gives them with the lexicon's dictionary."""
    out: list[str] = []
    for block in _BLOCK.split(sentence):
        if not block:
            continue
        if _BLOCK.match(block):
            out += _cut_block(block, lexicon)
        else:
            for x in _SKIP.split(block):
                if _SKIP.match(x):
                    out.append(x)
                else:
                    out += list(x)
    return out


def cut_for_search(sentence: str, lexicon: Lexicon) -> list[str]:
    """As `jieba.lcut_for_search`: before each long word, the dictionary's 2- and 3-character words in it."""
    words = cut(sentence, lexicon)
    grams = {w[i:i + n] for w in words for n in (2, 3) if len(w) > n for i in range(len(w) - n + 1)}
    freq = lexicon.frequencies(grams)
    out: list[str] = []
    for w in words:
        for n in (2, 3):
            if len(w) > n:
                out += [g for i in range(len(w) - n + 1) if freq.get(g := w[i:i + n])]
        out.append(w)
    return out


def _cut_block(block: str, lexicon: Lexicon) -> list[str]:
    n = len(block)
    longest = lexicon.max_len
    freq = lexicon.frequencies(block[k:i] for k in range(n) for i in range(k + 1, min(n, k + longest) + 1))
    dag: list[list[int]] = []
    for k in range(n):  # the ends of the dictionary's words starting at k (every prefix of a word is listed)
        ends = []
        i = k
        frag = block[k]
        while i < n and frag in freq:
            if freq[frag]:
                ends.append(i)
            i += 1
            frag = block[k:i + 1]
        dag.append(ends or [k])
    route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
    logtotal = log(lexicon.total)
    for idx in range(n - 1, -1, -1):
        route[idx] = max((log(freq.get(block[idx:x + 1]) or 1) - logtotal + route[x + 1][0], x) for x in dag[idx])
    out: list[str] = []
    buf = ""
    x = 0
    while x < n:
        y = route[x][1] + 1
        word = block[x:y]
        if y - x == 1:
            buf += word
        else:
            if buf:
                out += _flush(buf, freq, lexicon)
                buf = ""
            out.append(word)
        x = y
    if buf:
        out += _flush(buf, freq, lexicon)
    return out


def _flush(buf: str, freq: dict[str, int], lexicon: Lexicon) -> list[str]:
    """A run of single characters: as it is if one character or a known word, else the HMM's words."""
    if len(buf) == 1:
        return [buf]
    if freq.get(buf):
        return list(buf)
    out: list[str] = []
    for part in _HMM_HAN.split(buf):
        if _HMM_HAN.match(part):
            out += _viterbi_words(part, lexicon)
        else:
            out += [x for x in _HMM_SKIP.split(part) if x]
    return out


def _viterbi_words(text: str, lexicon: Lexicon) -> list[str]:
    emit = lexicon.emissions(text)
    start, trans = lexicon.start, lexicon.trans

    def em(state: str, ch: str) -> float:
        p = emit[ch][_STATES.index(state)]
        return MIN_FLOAT if p is None else p

    v = [{y: start[y] + em(y, text[0]) for y in _STATES}]
    path = {y: [y] for y in _STATES}
    for t in range(1, len(text)):
        v.append({})
        new_path = {}
        for y in _STATES:
            em_p = em(y, text[t])
            prob, state = max([(v[t - 1][y0] + trans[y0].get(y, MIN_FLOAT) + em_p, y0) for y0 in _PREVIOUS[y]])
            v[t][y] = prob
            new_path[y] = [*path[state], y]
        path = new_path
    _, last = max((v[len(text) - 1][y], y) for y in "ES")
    states = path[last]
    out: list[str] = []
    begin = nexti = 0
    for i, ch in enumerate(text):
        pos = states[i]
        if pos == "B":
            begin = i
        elif pos == "E":
            out.append(text[begin:i + 1])
            nexti = i + 1
        elif pos == "S":
            out.append(ch)
            nexti = i + 1
    if nexti < len(text):
        out.append(text[nexti:])
    return out
