"""`nfkc` is Unicode's NFKC (computed as compatibility decomposition + canonical composition)."""

import random
import unicodedata

from knowledge.normalize import nfkc


def test_every_character_as_unicodedata_nfkc():
    differing = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF
                 and nfkc(chr(cp)) != unicodedata.normalize("NFKC", chr(cp))]
    assert differing == []


def test_sequences_with_combining_marks_and_jamo_as_unicodedata_nfkc():
    rng = random.Random(15)
    pool = [*map(chr, range(0x20, 0x800)), *map(chr, range(0x3000, 0x3040)), *map(chr, range(0xAC00, 0xAC20)),
            *map(chr, range(0xFF00, 0xFF60)), "\u0301", "\u0308", "\u0323", "\u0344", "\u0f73", "\u1100", "\u1161",
            "\u11a8", "\u2126", "\u212b", "\u1e9b", "碳", "达", "峰", "，", "（", "）"]
    for _ in range(50_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 8)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text), ascii(text)
