"""The segmentation dictionary and single characters' pinyin, from a cache built once per install.

jieba's dictionary (with the domain's words added the way `jieba.add_word` adds them), its HMM's
character probabilities and pypinyin's reading of every single character are copied into one SQLite
file the first time they are needed (a few seconds, once). After that a process looks up only the
fragments and characters it segments, instead of loading ~120 MB of dictionaries at every start.
The file is named by a key of everything it is built from (the packages' data files, the added
words, this format), so an upgrade or a new domain word builds a new one; a damaged one is rebuilt.
Nothing is fetched: the data comes from the installed jieba and pypinyin.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from importlib.util import find_spec
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT = "1"
# Characters whose pinyin is kept: the range `normalize._is_cjk` treats as Chinese.
SOUND_RANGE = (0x3400, 0xFAFF)
_CHUNK = 500  # parameters per lookup query
_REMEMBERED = 200_000  # looked-up fragments kept in memory before the memo starts over
# Caches of other keys (an upgrade, another install sharing the directory) are removed once this old:
# never at once, or two installs sharing the directory would remove each other's at every start.
STALE_SECONDS = 30 * 86400


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/policybot, else ~/.cache/policybot."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policybot"


def _data_files() -> list[Path]:
    """The installed data the cache is built from (found without importing the packages)."""
    files = []
    for package, names in (("jieba", ("dict.txt", "finalseg/prob_emit.py", "finalseg/prob_trans.py",
                                      "finalseg/prob_start.py", "__init__.py")),
                           ("pypinyin", ("pinyin_dict.py", "phrases_dict.py", "__init__.py"))):
        spec = find_spec(package)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{package} is not installed")
        root = Path(spec.origin).parent
        files += [root / n for n in names]
    return files


def cache_key(words: Sequence[str]) -> str:
    """What the cache is built from: this format, the packages' data files (path, size, time) and
    the added words in their order (each word's frequency depends on those added before it)."""
    digest = hashlib.sha256(FORMAT.encode())
    for f in _data_files():
        st = f.stat()
        digest.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    digest.update("\0".join(words).encode())
    return digest.hexdigest()[:16]


def build(path: Path | str, words: Sequence[str], key: str) -> None:
    """Write the cache to `path` (":memory:" is not allowed here; see `Lexicon.in_memory`)."""
    conn = sqlite3.connect(str(path))
    try:
        _fill(conn, words, key)
        conn.commit()
    finally:
        conn.close()


def _fill(conn: sqlite3.Connection, words: Sequence[str], key: str) -> None:
    import jieba
    from jieba import finalseg
    from pypinyin import Style, pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for w in words:
        tokenizer.add_word(w)
    freq = tokenizer.FREQ
    conn.executescript("""
        PRAGMA journal_mode = OFF;
        PRAGMA synchronous = OFF;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE emit (ch TEXT PRIMARY KEY, b REAL, m REAL, e REAL, s REAL) WITHOUT ROWID;
        CREATE TABLE sounds (ch TEXT PRIMARY KEY, syllable TEXT NOT NULL) WITHOUT ROWID;
    """)
    conn.executemany("INSERT INTO words VALUES (?, ?)", sorted(freq.items()))
    emit = finalseg.emit_P
    chars = sorted(set().union(*(emit[s] for s in "BMES")))
    conn.executemany("INSERT INTO emit VALUES (?, ?, ?, ?, ?)",
                     [(c, *(emit[s].get(c) for s in "BMES")) for c in chars])
    # pinyin() reads a single character from these two tables only; others get no reading
    candidates = {cp for cp in pinyin_dict if SOUND_RANGE[0] <= cp <= SOUND_RANGE[1]}
    candidates |= {ord(w) for w in phrases_dict if len(w) == 1 and SOUND_RANGE[0] <= ord(w) <= SOUND_RANGE[1]}
    sounds = []
    for cp in sorted(candidates):
        reading = pinyin(chr(cp), style=Style.NORMAL, heteronym=False, errors="ignore")
        if reading and reading[0]:
            sounds.append((chr(cp), reading[0][0]))
    conn.executemany("INSERT INTO sounds VALUES (?, ?)", sounds)
    meta = {"total": str(tokenizer.total), "max_len": str(max(map(len, freq))),
            "start": json.dumps(finalseg.start_P), "trans": json.dumps(finalseg.trans_P),
            "words": str(len(freq)), "key": key}  # the key last: a file without it is incomplete
    conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))


class Lexicon:
    """Read-only lookups in a built cache; safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.rebuild: Callable[[], sqlite3.Connection] | None = None  # once, when a lookup finds it damaged
        self._lock = threading.Lock()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        self.key = meta["key"]
        self.total = int(meta["total"])
        self.max_len = int(meta["max_len"])
        self.start: dict[str, float] = json.loads(meta["start"])
        self.trans: dict[str, dict[str, float]] = json.loads(meta["trans"])
        self._freq: dict[str, int | None] = {}
        self._emit: dict[str, tuple[float | None, ...]] = {}

    @classmethod
    def open(cls, path: Path, key: str) -> Lexicon:
        """The cache at `path` if it is complete and built for `key`; raises ValueError otherwise."""
        if not path.is_file():
            raise ValueError("missing")
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        try:
            pages = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
            if pages != path.stat().st_size:
                raise ValueError("truncated")
            lexicon = cls(conn)
            if lexicon.key != key:
                raise ValueError("built for another key")
        except (sqlite3.DatabaseError, KeyError, ValueError) as e:
            conn.close()
            raise ValueError(str(e)) from e
        return lexicon

    @classmethod
    def in_memory(cls, words: Sequence[str], key: str) -> Lexicon:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        _fill(conn, words, key)
        return cls(conn)

    def close(self) -> None:
        self._conn.close()

    def frequencies(self, fragments: Iterable[str]) -> dict[str, int]:
        """Each fragment's frequency, for those in the dictionary (0 for a prefix of a word only)."""
        memo = self._freq
        out: dict[str, int] = {}
        missing = []
        for f in set(fragments):
            if f in memo:
                if (n := memo[f]) is not None:
                    out[f] = n
            elif len(f) <= self.max_len:
                missing.append(f)
        if missing:
            found = dict(self._lookup("SELECT word, freq FROM words WHERE word IN ({})", missing))
            out.update(found)
            with self._lock:
                if len(self._freq) > _REMEMBERED:
                    self._freq = {}
                for f in missing:
                    self._freq[f] = found.get(f)
        return out

    def emissions(self, chars: Iterable[str]) -> dict[str, tuple[float | None, ...]]:
        """The HMM's log probabilities of each character as state B, M, E and S (None: never seen)."""
        wanted = set(chars)
        missing = [c for c in wanted if c not in self._emit]
        if missing:
            found = {r[0]: tuple(r[1:]) for r in self._lookup("SELECT ch, b, m, e, s FROM emit WHERE ch IN ({})",
                                                               missing)}
            with self._lock:
                for c in missing:
                    self._emit[c] = found.get(c, (None, None, None, None))
        return {c: self._emit[c] for c in wanted}

    def syllable(self, ch: str) -> str | None:
        """The toneless pinyin of a single character as pypinyin gives it, or None if it has none."""
        return self.syllables([ch]).get(ch)

    def syllables(self, chars: Iterable[str]) -> dict[str, str]:
        """The toneless pinyin of each character that has one, looked up at once."""
        # a lone surrogate (undecodable input) has no reading, nor UTF-8 to look it up with
        wanted = [c for c in set(chars) if not "\ud800" <= c <= "\udfff"]
        return dict(self._lookup("SELECT ch, syllable FROM sounds WHERE ch IN ({})", wanted)) if wanted else {}

    def _lookup(self, sql: str, keys: list[str]) -> list[tuple]:
        with self._lock:
            try:
                return self._query(sql, keys)
            except sqlite3.DatabaseError as e:  # damaged inside (opening checks only its size and key)
                if self.rebuild is None:
                    raise
                log.warning("segmentation cache damaged (%s): rebuilding it", e)
                rebuild, self.rebuild = self.rebuild, None
                old, self._conn = self._conn, rebuild()
                old.close()
                return self._query(sql, keys)

    def _query(self, sql: str, keys: list[str]) -> list[tuple]:
        out: list[tuple] = []
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            out += self._conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
        return out


def load(words: Sequence[str], directory: Path | None = None) -> Lexicon:
    """The lexicon for these added words: the cached file, built first if it is missing, stale or
    damaged; in memory (slow, logged) when the cache directory cannot be written."""
    key = cache_key(words)
    directory = directory or cache_dir()
    path = directory / f"lexicon-{key}.sqlite"
    try:
        lexicon = Lexicon.open(path, key)
    except ValueError as e:
        if path.exists():
            log.warning("segmentation cache %s unusable (%s): rebuilding it", path, e)
        else:
            log.info("building the segmentation cache %s (once: a few seconds)", path)
        try:
            _build_file(path, words, key)
            lexicon = Lexicon.open(path, key)
        except (OSError, ValueError) as e:
            log.warning("cannot keep the segmentation cache in %s (%s): building it in memory", directory, e)
            return Lexicon.in_memory(words, key)

    def rebuild() -> sqlite3.Connection:
        try:
            _build_file(path, words, key)
            return Lexicon.open(path, key)._conn
        except (OSError, ValueError):
            return Lexicon.in_memory(words, key)._conn

    lexicon.rebuild = rebuild
    return lexicon


def _build_file(path: Path, words: Sequence[str], key: str) -> None:
    """Build into a temporary file beside `path`, then put it in place in one step."""
    import tempfile  # (only to build: it is not cheap to import)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lexicon-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        build(tmp, words, key)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 is for secrets; this is shared data
        os.replace(tmp, path)  # another process building meanwhile writes the same content
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _forget_old(path.parent, keep=path)


def _forget_old(directory: Path, keep: Path) -> None:
    import time

    for old in directory.glob("lexicon-*.sqlite"):
        try:
            if old != keep and old.stat().st_mtime < time.time() - STALE_SECONDS:
                old.unlink()
        except OSError:
            pass  # gone already, or not ours to remove
