"""The lexicon cache and the segmenter over it: jieba's words and pypinyin's readings, exactly, without
loading either package at start; the cache is built once, reused, and rebuilt when damaged or stale."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from knowledge import lexicon, segmenter
from knowledge.normalize import _lexicon, added_words, normalize, search_words, syllables, words

ROOT = Path(__file__).resolve().parents[1]
QUESTION_FILES = [ROOT / "benchmarks" / "questions_own.jsonl", ROOT / "benchmarks" / "questions_frozen.jsonl",
                  ROOT / "tests" / "data" / "unseen" / "questions.jsonl"]
DOCUMENTS = [*sorted((ROOT / "knowledge" / "corpus").glob("*.txt")),
             *sorted((ROOT / "tests" / "data").rglob("*.txt")), *sorted((ROOT / "tests" / "data").rglob("*.md"))]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _sentences() -> list[str]:
    out: list[str] = []
    for f in QUESTION_FILES:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out += _strings(json.loads(line))
    for f in DOCUMENTS:
        out += f.read_text(encoding="utf-8").splitlines()
    out += ["", " ", "碳达峰 1+n 政策\r\n体系", "ＧＤＰ增长6.5%左右，co2-eq", "煤碳消费 vocs 治理", "一二三四五六七八九十"]
    return [s for t in dict.fromkeys(out) for s in dict.fromkeys((t, normalize(t)))]


@pytest.fixture(scope="module")
def jieba_with_domain_words():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()  # not the global one: other code may use jieba as it comes
    for w in added_words():
        tokenizer.add_word(w)
    return tokenizer


def test_words_are_jiebas_on_every_question_and_document(jieba_with_domain_words) -> None:  # type: ignore[no-untyped-def]
    lex = _lexicon()
    sentences = _sentences()
    assert len(sentences) > 3000
    for s in sentences:
        expected = jieba_with_domain_words.lcut(s)
        assert segmenter.cut(s, lex) == expected, s
        assert segmenter.cut_for_search(s, lex) == jieba_with_domain_words.lcut_for_search(s), s
        for w in set(expected):
            assert segmenter.cut_for_search(w, lex) == jieba_with_domain_words.lcut_for_search(w), w


def test_normalize_words_keep_their_shape() -> None:
    assert words("1+n政策体系") == ["1+n", "政策", "体系"]
    assert "废旧" in search_words("废旧轮胎") and "轮胎" in search_words("废旧轮胎")
    assert "碳达峰" in words(normalize("推进碳达峰工作"))  # a domain word jieba's own dictionary lacks


def test_pinyin_per_character_is_pypinyins() -> None:
    from pypinyin import Style, pinyin

    lex = _lexicon()
    chars = {c for f in DOCUMENTS for c in f.read_text(encoding="utf-8")}
    chars |= {chr(cp) for cp in range(lexicon.SOUND_RANGE[0], lexicon.SOUND_RANGE[1] + 1, 7)}
    for ch in sorted(c for c in chars if lexicon.SOUND_RANGE[0] <= ord(c) <= lexicon.SOUND_RANGE[1]):
        reading = pinyin(ch, style=Style.NORMAL, heteronym=False, errors="ignore")
        assert lex.syllable(ch) == (reading[0][0] if reading else None), ch
    assert syllables("煤炭绿色") == "mei tan lv se"
    assert syllables("한국") == "한 국"  # no reading: the character itself (pypinyin's [] used to raise)
    assert lex.syllable("\ud800") is None
    batch = [*sorted(chars)[:2000], "\ud800"]
    assert lex.syllables(batch) == {c: s for c in batch if (s := lex.syllable(c))}


def test_a_texts_unknown_characters_are_looked_up_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.normalize as normalize_module

    lex = _lexicon()
    text = "推进煤炭清洁高效利用，2025年前完成。한"
    chinese = {c for c in text if "\u3400" <= c <= "\ufaff"}  # (the range syllables are kept for: 한 too)
    expected = tuple((lex.syllable(c) or c) if c in chinese else "" for c in text)
    asked: list[set[str]] = []
    real = lex.syllables

    def counted(chars: Iterable[str]) -> dict[str, str]:
        asked.append(set(chars))
        return real(chars)

    monkeypatch.setattr(normalize_module, "_SYLLABLES", {})  # nothing known yet
    monkeypatch.setattr(lex, "syllables", counted)
    assert normalize_module.char_syllables(text) == expected
    assert expected[:4] == ("tui", "jin", "mei", "tan") and expected[-1] == "한"
    assert asked == [chinese]  # one lookup, of those characters only
    assert syllables("煤炭利用") == "mei tan li yong" and len(asked) == 1  # all known: no lookup


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    directory = tmp_path_factory.mktemp("lexicon")
    words = ["碳达峰", "能耗双控"]
    lexicon.load(words, directory).close()
    return directory, words


def _copy(built: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, Path, list[str]]:
    directory, words = built
    target = tmp_path / "cache"
    shutil.copytree(directory, target)
    (path,) = target.glob("lexicon-*.sqlite")
    return target, path, words


def test_the_cache_is_built_once_and_then_reused(built, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    directory, path, words = _copy(built, tmp_path)
    assert path.name == f"lexicon-{lexicon.cache_key(words)}.sqlite"

    def no_build(*args: object) -> None:
        raise AssertionError("rebuilt")

    monkeypatch.setattr(lexicon, "build", no_build)
    monkeypatch.setattr(lexicon, "_fill", no_build)
    lex = lexicon.load(words, directory)
    assert lex.frequencies(["碳达峰", "碳达", "不在词典里的词"]) == {"碳达峰": lex.frequencies(["碳达峰"])["碳达峰"],
                                                                 "碳达": 0}
    assert lex.syllable("碳") == "tan"
    lex.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_cache_is_rebuilt(built, tmp_path, damage) -> None:  # type: ignore[no-untyped-def]
    directory, path, words = _copy(built, tmp_path)
    key = lexicon.cache_key(words)
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a database" * 100, "truncated": data[:len(data) // 2], "empty": b""}[damage])
    with pytest.raises(ValueError):
        lexicon.Lexicon.open(path, key)
    if damage != "truncated":  # (one rebuild is enough to show; each takes seconds)
        return
    lex = lexicon.load(words, directory)
    assert lex.frequencies(["碳达峰"])["碳达峰"] > 0
    lex.close()
    lexicon.Lexicon.open(path, key).close()  # whole again on disk


def test_a_cache_damaged_inside_is_rebuilt_at_the_first_lookup_that_fails(built, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    directory, path, words = _copy(built, tmp_path)
    lex = lexicon.load(words, directory)  # opens: its size and key are right
    size = path.stat().st_size
    with path.open("r+b") as f:  # every page but the first overwritten, as by a bad disk
        f.seek(4096)
        f.write(b"\xff" * (size - 4096))
    assert lex.frequencies(["碳达峰"])["碳达峰"] > 0
    assert "damaged" in caplog.text
    assert lex.syllable("碳") == "tan"
    lex.close()
    lexicon.Lexicon.open(path, lexicon.cache_key(words)).frequencies(["碳达峰"])  # whole again on disk


def test_a_cache_for_other_words_is_built_beside_and_old_ones_removed(built, tmp_path) -> None:  # type: ignore[no-untyped-def]
    directory, path, words = _copy(built, tmp_path)
    with pytest.raises(ValueError):
        lexicon.Lexicon.open(path, lexicon.cache_key([*words, "新词"]))
    lex = lexicon.load([*words, "氢能重卡"], directory)
    assert segmenter.cut("推广氢能重卡", lex)[-1] == "氢能重卡"
    lex.close()
    new = f"lexicon-{lexicon.cache_key([*words, '氢能重卡'])}.sqlite"
    assert sorted(p.name for p in directory.glob("lexicon-*.sqlite")) == sorted([path.name, new])  # kept a while
    assert not list(directory.glob(".lexicon-*"))
    month_ago = time.time() - lexicon.STALE_SECONDS - 60
    os.utime(path, (month_ago, month_ago))
    lexicon.load(words[:1], directory).close()  # a build removes the stale one, not the fresh one
    assert sorted(p.name for p in directory.glob("lexicon-*.sqlite")) == sorted(
        [new, f"lexicon-{lexicon.cache_key(words[:1])}.sqlite"])


def test_an_unwritable_cache_directory_builds_in_memory(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    lex = lexicon.load(["碳达峰"], not_a_directory)
    assert segmenter.cut("推进碳达峰", lex) == ["推进", "碳达峰"]
    assert "in memory" in caplog.text
    lex.close()
