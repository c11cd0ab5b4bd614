"""Knowledge-base benchmark: import, answer latency, memory and cold start, with a plain baseline beside.

Not a test. For each size a synthetic knowledge base is generated deterministically from the bundled seed
corpus (sentences recombined across documents, provinces, departments, numbers and deadlines varied) and
imported as `policybot import` imports many files (each document atomic, several per transaction, ending
with its `optimize`); the import rate is items over the wall time of the whole import. The database is built once per size and kept in a
cache directory, keyed by size, generator version and schema (extractor version and migrations), so reruns
only measure. Then, each in its own process so the peak RSS is its own:

- PolicyBot: the frozen questions of that size (`questions_frozen.jsonl`: 10 warm-up, 300 timed, never
  regenerated) answered in one process on a copy of the database, p50 / p99 / max and peak RSS;
- baseline: a plain jieba + bm25s index (precise-mode jieba words of each active item's text, BM25 top 5)
  over the same items and the same questions, in one process after the same warm-up; build time and RSS;
- cold start: `policybot ask` as a whole process on a copy of the database (one run first seeds the bundled
  documents and is not counted), median wall time of 5 and the peak RSS of those runs; a last row does the
  same on a database holding only the bundled documents. A run that changes the database file is reported.

    .venv/bin/pip install -e '.[bench]'                       # bm25s for the baseline
    .venv/bin/python benchmarks/bench_kb.py                    # 1k, 10k, 100k and 300k items
    .venv/bin/python benchmarks/bench_kb.py --sizes 1000000    # 1M on demand (first build ~15 min idle, see README)
    .venv/bin/python benchmarks/bench_kb.py --sizes 100000 --profile /tmp/prof   # + cProfile of the answers

Cache: $POLICYBOT_BENCH_CACHE or ~/.cache/policybot-bench (`--cache-dir`); `--rebuild` rebuilds and
re-measures the import. Change GENERATOR_VERSION whenever the generator's output changes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.base import KnowledgeBase, merge_seconds
from knowledge.departments import NATIONAL_ALIASES
from knowledge.importer import EXTRACTOR_VERSION, DocumentOverrides, import_texts, prepare
from knowledge.migrations import MIGRATIONS
from knowledge.regions import PROVINCES, short_name
from knowledge.seed import bundled_documents
from knowledge.store import KnowledgeStore
from knowledge.targets import find_targets

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261121
# 1: as it was when questions_frozen.jsonl was made; 2: each document its own 文号 — version 1 numbered
# them modulo 997, so past ~1,000 documents an issuer's same-year documents shared one, and the importer
# (rightly) took them for one document updated: at 1M only 727,500 items stayed. The questions are the same.
GENERATOR_VERSION = "2"
TODAY = date(2026, 11, 21)
DEFAULT_SIZES = (1_000, 10_000, 100_000, 300_000)
K = 5
COLD_RUNS = 5
COLD_QUESTION = "非化石能源占能源消费比重要达到多少？"
QUESTIONS_FILE = Path(__file__).resolve().parent / "questions_frozen.jsonl"
TARGETS = {  # issue 15
    100_000: {"p99_ms": 10.0},
    1_000_000: {"p99_ms": 50.0, "rss_mb": 1000.0, "import_ips": 2000.0, "cold_s": 1.0},
    0: {"cold_s": 0.4, "cold_rss_mb": 100.0},  # the bundled knowledge base
}

# Provinces people ask about (台湾/香港/澳门 issue no such documents).
REGIONS = [p for p in PROVINCES if not p.startswith(("台湾", "香港", "澳门"))]
NATIONAL_SHARE = 0.12

# Provincial departments by their core name; a municipality's 厅 is a 局 (市生态环境局).
PROVINCIAL_DEPARTMENTS = (
    "发展改革委", "能源局", "工业和信息化厅", "生态环境厅", "住房城乡建设厅", "交通运输厅", "财政厅", "自然资源厅",
    "农业农村厅", "商务厅", "市场监管局", "统计局", "科技厅", "教育厅", "机关事务管理局", "国资委", "林草局", "水利厅",
    "气象局", "人力资源社会保障厅", "地方金融监管局", "应急管理厅", "税务局", "公安厅", "民政厅",
)
NATIONAL_DEPARTMENTS = tuple(NATIONAL_ALIASES)

TOPICS = (
    "碳达峰实施方案", "“十五五”节能减排综合工作方案", "能源绿色低碳转型行动方案", "工业领域碳达峰实施方案",
    "城乡建设领域碳达峰实施方案", "交通运输绿色低碳发展行动方案", "新型储能发展实施方案", "可再生能源发展规划",
    "加快推进绿色低碳循环发展的实施意见", "重点行业节能降碳改造升级实施方案", "大气污染防治攻坚行动计划",
    "公共机构节约能源资源工作方案", "农业农村减排固碳实施方案", "绿色金融支持碳达峰碳中和工作方案",
    "清洁取暖推进工作方案", "煤炭清洁高效利用行动计划", "氢能产业发展规划", "数据中心能效提升行动计划",
)
HEADINGS_MAJOR = ("总体要求", "主要目标", "重点任务", "保障措施", "组织实施", "重点工程", "政策保障")

# Deadline phrases of responsibility clauses; {y} is a year 2025–2035.
CLAUSE_DEADLINES = (
    "6月底前完成", "12月底前完成", "6月底前出台相关政策", "9月底前完成", "年内持续推进", "三季度完成", "上半年完成",
    "{y}年6月底前完成", "{y}年6月30日前完成", "{y}年底前完成", "到{y}年完成", "长期坚持", "{y}年9月30日前出台",
    "下半年完成", "“十五五”时期持续推进",
)
METRICS = (
    ("非化石能源占能源消费比重", "达到", "%", "左右"), ("煤炭消费比重", "降至", "%", "以下"),
    ("单位地区生产总值能源消耗", "比2025年下降", "%", ""), ("单位地区生产总值二氧化碳排放", "比2025年下降", "%", ""),
    ("新能源及清洁能源公交车比例", "达到", "%", ""), ("城镇新建建筑中绿色建筑面积占比", "达到", "%", ""),
    ("可再生能源发电装机占比", "达到", "%", "以上"), ("城市主城区交通绿色出行率", "达到", "%", ""),
    ("规模以上工业单位增加值能耗", "比2025年下降", "%", "以上"), ("工业固体废物综合利用率", "提高到", "%", ""),
    ("新型储能装机规模", "达到", "万千瓦", "以上"), ("清洁取暖率", "达到", "%", "以上"),
    ("森林覆盖率", "达到", "%", ""), ("铁路货运量", "比2025年增长", "%", "左右"),
    ("公共机构单位建筑面积能耗", "比2025年下降", "%", ""), ("数据中心电能利用效率", "降至", "", "以下"),
    ("秸秆综合利用率", "稳定在", "%", "以上"), ("畜禽粪污综合利用率", "达到", "%", "以上"),
)


# ---------------------------------------------------------------------------------------------- corpus


@dataclass
class Pools:
    clauses: list[str]  # comma clauses of the seed corpus's task sentences, time lead-ins removed
    headings: list[str]  # (一)-level heading titles


def seed_pools() -> Pools:
    """Sentence fragments and headings from the bundled documents, to recombine."""
    clauses: list[str] = []
    headings: set[str] = set()
    for name, text, overrides in bundled_documents():
        _, items = prepare(text, f"bundled:{name}", overrides)
        for item in items:
            for part in item.section.split(" › "):
                title = re.sub(r"^(?:[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+[、是]|\d+[.．、])", "", part)
                if 4 <= len(title) <= 20 and not re.search(r"[，。；：]", title):
                    headings.add(title)
            if item.kind == "statement" and not item.section:
                continue  # news intros: dates and people, not policy
            for c in re.split(r"[，；。]", item.text.rstrip("。；，")):
                c = c.strip("。 ：:")
                if 6 <= len(c) <= 40 and not re.search(r"[（）()《》“”]|^\d|^到\d{4}年|^[一二三四五六七八九十]+是", c) \
                        and not find_targets(c):
                    clauses.append(c)
    return Pools(sorted(set(clauses)), sorted(headings))


# ---------------------------------------------------------------------------------------------- generator


def _cn(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if n <= 10 else "十" + "一二三四五六七八九"[n - 11]


class Generator:
    """Deterministic synthetic policy documents in the seed documents' own plain-text style."""

    def __init__(self, pools: Pools, seed: int) -> None:
        self.pools = pools
        self.rng = random.Random(seed)
        self._seen: set[int] = set()  # hashes of sentences and headings made so far: no duplicates
        self._shorts = {short_name(p) for p in PROVINCES if len(short_name(p)) >= 2}
        self._short_re = re.compile("|".join(sorted(map(re.escape, self._shorts), key=len, reverse=True)))

    # ---- pieces

    def _year(self) -> int:
        return self.rng.randint(2025, 2035)

    def _localise(self, clause: str, region: str) -> str:
        """Another province's name becomes this one's; 全区/全省/全市 follows the region; numbers vary."""
        short = short_name(region) if region != "国家" else "全国"
        clause = self._short_re.sub(short, clause)
        area = {"自治区": "全区", "省": "全省", "市": "全市"}.get(_prefix(region), "全国")
        clause = re.sub(r"全[区省市国]", area, clause)
        clause = re.sub(r"20[1-3]\d年", lambda _: f"{self._year()}年", clause)
        return re.sub(r"(?<![\d.])\d{1,4}(?![\d年])", lambda m: str(self.rng.randint(2, 95)), clause)

    def _fresh(self, text: str) -> bool:
        key = hash(text)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _sentence(self, region: str) -> str:
        """2–4 comma clauses from different seed sentences, never one made before."""
        while True:
            n = self.rng.choice((2, 2, 3, 3, 4))
            parts = [self._localise(self.rng.choice(self.pools.clauses), region) for _ in range(n)]
            sentence = "，".join(parts) + "。"
            if self._fresh(sentence):
                return sentence

    def _heading(self, region: str) -> str | None:
        """An inline section title ('加强全省组织领导'), a seed heading's verb with another's object;
        None when that title was used before (the paragraph then has no title: titles are items too)."""
        a, b = self.rng.sample(self.pools.headings, 2)
        area = {"自治区": "全区", "省": "全省", "市": "全市"}.get(_prefix(region), "全国")
        qualifier = self.rng.choice(("", "", area, "重点领域", "城乡", "全面"))
        title = a[:2] + qualifier + b[2:]
        return title if 4 <= len(title) <= 24 and self._fresh(title) else None

    def _departments(self, region: str, n: int) -> list[str]:
        if region == "国家":
            return self.rng.sample(NATIONAL_DEPARTMENTS, n)
        prefix = _prefix(region)
        names = self.rng.sample(PROVINCIAL_DEPARTMENTS, n)
        if prefix == "市":
            names = [x[:-1] + "局" if x.endswith("厅") else x for x in names]
        return [prefix + x for x in names]

    def _clause(self, region: str) -> tuple[str, str]:
        """'（省发展改革委牵头，省能源局等按职责分工负责，2027年6月底前完成）' and its lead department."""
        deps = self._departments(region, self.rng.randint(1, 5))
        when = self.rng.choice(CLAUSE_DEADLINES).format(y=self._year())
        style = self.rng.random()
        if len(deps) == 1:
            body = f"{deps[0]}负责，{when}"
        elif style < 0.7:
            body = f"{deps[0]}牵头，{'、'.join(deps[1:])}等按职责分工负责，{when}"
        else:  # no 牵头: the first named leads
            body = f"{'、'.join(deps)}等按职责分工负责，{when}"
        return f"（{body}）", deps[0]

    def _targets(self, region: str) -> tuple[str, list[tuple[str, str]]]:
        """'到2030年，…达到N%，…降至M%以下。' and its (metric, sentence) pairs."""
        year = self._year()
        chosen = self.rng.sample(METRICS, self.rng.randint(2, 4))
        area = {"自治区": "全区", "省": "全省", "市": "全市"}.get(_prefix(region), "全国")
        parts: list[str] = []
        kept = []
        for metric, cmp, unit, qual in chosen:
            for _ in range(20):  # a target statement made before gets another value; else the metric is left out
                if unit == "%":
                    value: float = self.rng.randint(3, 95) if self.rng.random() < 0.5 else round(
                        self.rng.uniform(3, 95), 1)
                else:
                    value = self.rng.randint(100, 9000) if unit else round(self.rng.uniform(1.1, 1.5), 2)
                part = f"{'' if parts else area}{metric}{cmp}{value}{unit}{qual}"
                if self._fresh(part):
                    parts.append(part)
                    kept.append((metric, cmp, unit, qual))
                    break
        if not parts:  # every value of these metrics used up: an ordinary sentence instead
            return self._sentence(region), []
        sentence = f"到{year}年，" + "，".join(parts) + "。"
        return sentence, [(m[0], p) for m, p in zip(kept, parts, strict=True)]

    # ---- documents

    def document(self, index: int, items_wanted: int) -> tuple[str, DocumentOverrides, int]:
        """(text, overrides, estimated item count) of one document of about `items_wanted` items."""
        rng = self.rng
        region = "国家" if rng.random() < NATIONAL_SHARE else rng.choice(REGIONS)
        doc_date = date(rng.randint(2025, 2026), rng.randint(1, 12), rng.randint(1, 28))
        if doc_date > date(2026, 10, 31):
            doc_date = doc_date.replace(year=2025)
        topic = rng.choice(TOPICS)
        title = (f"{region}" if region != "国家" else "国务院关于印发") + f"{topic}"
        issuer = "国务院" if region == "国家" else f"{region}人民政府"
        abbrev = "国发" if region == "国家" else short_name(region)[:1] + "政发"
        doc_number = f"{abbrev}〔{doc_date.year}〕{index + 1}号"  # one per document (see GENERATOR_VERSION)

        lines = [title]
        count = 0
        majors = [HEADINGS_MAJOR[0], HEADINGS_MAJOR[1], *rng.sample(HEADINGS_MAJOR[2:], 3)]
        for mi, major in enumerate(majors, 1):
            if count >= items_wanted:
                break
            lines.append(f"{_cn(mi)}、{major}")
            if major == "总体要求":
                lines.append(self._sentence(region))
                count += 1
                continue
            if major == "主要目标":
                for _ in range(rng.randint(1, 2)):
                    sentence, targets = self._targets(region)
                    lines.append(sentence)
                    count += len(targets) or 1
                continue
            for si in range(1, rng.randint(3, 6) + 1):
                if count >= items_wanted:
                    break
                heading = self._heading(region) if rng.random() < 0.6 else None
                sentences = [self._sentence(region) for _ in range(rng.randint(1, 4))]
                clause, _lead = self._clause(region)
                if heading:  # the inline title is an item of its own, governed by the clause too
                    sentences.insert(0, heading + "。")
                lines.append(f"（{_cn(si)}）" + "".join(sentences) + clause)
                count += len(sentences)
        lines += [issuer, f"{doc_date.year}年{doc_date.month}月{doc_date.day}日"]
        overrides = DocumentOverrides(region=region, doc_number=doc_number)
        return "\n".join(lines) + "\n", overrides, count

    def documents(self, total_items: int) -> Iterator[tuple[str, str, DocumentOverrides]]:
        """(source, text, overrides) until about `total_items` items have been generated."""
        made, i = 0, 0
        while made < total_items:
            want = min(total_items - made, self.rng.randint(30, 80))
            text, overrides, n = self.document(i, want)
            made += n
            yield f"synthetic/{i:06d}.txt", text, overrides
            i += 1


def _prefix(region: str) -> str:
    if region.endswith("自治区"):
        return "自治区"
    return region[-1] if region.endswith(("省", "市")) else ""


# ---------------------------------------------------------------------------------------------- helpers


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    i = (len(ordered) - 1) * p / 100
    lo, hi = int(i), min(int(i) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (i - lo)


def latency_stats(ms: list[float], cpu_ms: list[float]) -> dict:
    """Wall-clock percentiles, and the same of the CPU time the process spent (less disturbed by other
    processes on a shared machine)."""
    return {"p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2), "questions": len(ms),
            "cpu_p50_ms": round(percentile(cpu_ms, 50), 2), "cpu_p99_ms": round(percentile(cpu_ms, 99), 2)}


def frozen_questions(size: int, path: Path = QUESTIONS_FILE) -> tuple[list[str], list[str]]:
    """(warm-up, timed) questions of `size` from the frozen file."""
    sets: dict[str, list[tuple[int, str]]] = {"warmup": [], "timed": []}
    sizes = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            sizes.add(row["size"])
            if row["size"] == size:
                sets[row["set"]].append((row["n"], row["q"]))
    if not sets["timed"]:
        raise SystemExit(f"{path.name} has no questions for {size:,} items; it has {sorted(sizes)}")
    return [q for _, q in sorted(sets["warmup"])], [q for _, q in sorted(sets["timed"])]


def schema_key() -> str:
    """Changes when what the importer writes is declared to change (extractor version, migrations)."""
    names = EXTRACTOR_VERSION + "|" + "|".join(name for name, _ in MIGRATIONS)
    return hashlib.sha256(names.encode()).hexdigest()[:8]


def cache_paths(cache_dir: Path, size: int) -> tuple[Path, Path]:
    stem = f"kb-{size}-g{GENERATOR_VERSION}-s{schema_key()}"
    return cache_dir / f"{stem}.sqlite", cache_dir / f"{stem}.json"


def copy_db(src: Path, dst_dir: Path) -> Path:
    """A copy of the database, written through to the disk: its writeback would otherwise go on
    during the timed questions that follow (a 300 MB copy added 5–10 ms to the slowest)."""
    dst = dst_dir / "kb.sqlite"
    for suffix in ("", "-wal", "-shm"):
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)
            with open(str(dst) + suffix, "rb+") as f:
                os.fsync(f.fileno())
    return dst


def db_state(path: Path) -> tuple:
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(path.parent.iterdir()) if p.name.startswith(path.name))


# ---------------------------------------------------------------------------------------------- workers


def build_db(size: int, seed: int, out: Path) -> dict:
    """Generate `size` items to a file, then import them into `out`, timing the whole import."""
    t0 = time.perf_counter()
    gen = Generator(seed_pools(), seed + size)
    with tempfile.TemporaryDirectory(prefix="bench_kb_gen_") as tmp:
        docs_file = Path(tmp) / "docs.jsonl"
        with docs_file.open("w", encoding="utf-8") as f:
            for source, text, o in gen.documents(size):
                f.write(json.dumps([source, text, o.region, o.doc_number], ensure_ascii=False) + "\n")
        del gen
        gc.collect()
        generate_s = time.perf_counter() - t0
        rss_generate = rss_mb()

        store = KnowledgeStore(out)
        docs, done, marks = 0, 0, []
        c0, t0 = _cpu_s(), time.perf_counter()
        with docs_file.open(encoding="utf-8") as f:
            documents = ((text, source, DocumentOverrides(region=region, doc_number=doc_number))
                         for source, text, region, doc_number in map(json.loads, f))
            # as `policybot import` imports several files: the next ones extracted in a worker process
            for report in import_texts(store, documents, actor="bench"):
                if isinstance(report, Exception):
                    raise report
                docs += 1
                done += len(report.added) + len(report.updated) + report.kept
                marks.append((time.perf_counter() - t0, done))
        store.optimize(merge_seconds(time.perf_counter() - t0))  # as `policybot import` ends
        import_s, import_cpu_s = time.perf_counter() - t0, _cpu_s() - c0  # (the worker process's CPU too)
        items = store.count_items()
        store.close()
    # the rate over the last tenth of the import: does it slow down as the base grows?
    tail = [m for m in marks if m[1] >= 0.9 * items]
    last = (items - tail[0][1]) / (import_s - tail[0][0]) if tail and import_s > tail[0][0] else None
    return {
        "size": size, "items": items, "documents": docs, "generate_s": round(generate_s, 1),
        "import_s": round(import_s, 1), "import_ips": round(items / import_s, 1),
        "import_cpu_s": round(import_cpu_s, 1), "import_ips_cpu": round(items / import_cpu_s, 1),
        "import_ips_last_tenth": round(last, 1) if last else None,
        "db_mb": round(sum(p.stat().st_size for p in out.parent.iterdir() if p.name.startswith(out.name)) / 1e6, 1),
        "rss_generate_mb": round(rss_generate, 1), "rss_import_mb": round(rss_mb(), 1),
        "generator_version": GENERATOR_VERSION, "schema_key": schema_key(), "seed": seed,
        "commit": _git_commit(), "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _cpu_s() -> float:
    """CPU time of this process and of its ended child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _git_commit() -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "knowledge"], capture_output=True, text=True)
    return proc.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def ask_run(size: int, db: Path, profile_dir: Path | None, slowest: int) -> dict:
    """PolicyBot on a copy of the database: warm-up, then the timed questions, one process."""
    warmup, questions = frozen_questions(size)
    with tempfile.TemporaryDirectory(prefix="bench_kb_ask_") as tmp:
        kb = KnowledgeBase(KnowledgeStore(copy_db(db, Path(tmp))))
        for q in warmup:
            kb.ask(q, TODAY, k=K)
        prof = cProfile.Profile() if profile_dir else None
        latencies: list[tuple[float, str, str]] = []
        cpu: list[float] = []
        modes: dict[str, int] = {}
        for q in questions:
            c0, t0 = time.process_time(), time.perf_counter()
            if prof:
                prof.enable()
            answer = kb.ask(q, TODAY, k=K)
            if prof:
                prof.disable()
            latencies.append(((time.perf_counter() - t0) * 1000, q, answer.mode))
            cpu.append((time.process_time() - c0) * 1000)
            modes[answer.mode] = modes.get(answer.mode, 0) + 1
        if prof and profile_dir:
            prof.dump_stats(profile_dir / f"ask_{size}.prof")
        kb.close()
    return {**latency_stats([x[0] for x in latencies], cpu), "modes": modes, "peak_rss_mb": round(rss_mb(), 1),
            "slowest": [{"ms": round(t, 1), "q": q, "mode": m} for t, q, m in sorted(latencies, reverse=True)[:slowest]]}


_PUNCT = re.compile(r"^[\W_]+$")


def baseline_run(size: int, db: Path) -> dict:
    """jieba (precise mode) + bm25s over the active items' text; BM25 top K per question."""
    import bm25s
    import jieba

    warmup, questions = frozen_questions(size)
    with tempfile.TemporaryDirectory(prefix="bench_kb_bm25_") as tmp:
        store = KnowledgeStore(copy_db(db, Path(tmp)))  # the cache is never opened for writing
        texts = [item.text for item in store.all_items()]
        store.close()
    gc.collect()
    jieba.initialize()
    rss_loaded = rss_mb()

    vocab: dict[str, int] = {}

    def ids(text: str, grow: bool) -> list[int]:
        out = []
        for w in jieba.lcut(text):
            if w.isspace() or _PUNCT.match(w):
                continue
            if w not in vocab:
                if not grow:
                    continue
                vocab[w] = len(vocab)
            out.append(vocab[w])
        return out

    t0 = time.perf_counter()
    corpus_ids = [ids(t, True) for t in texts]
    tokenize_s = time.perf_counter() - t0
    retriever = bm25s.BM25()
    retriever.index((corpus_ids, vocab), show_progress=False)
    build_s = time.perf_counter() - t0
    del corpus_ids
    gc.collect()

    def search(q: str) -> int:
        q_ids = ids(q, False)
        if not q_ids:
            return 0
        found, _scores = retriever.retrieve([q_ids], k=min(K, len(texts)), show_progress=False, n_threads=1)
        return len(found[0])

    for q in warmup:
        search(q)
    ms, cpu = [], []
    for q in questions:
        c0, t0 = time.process_time(), time.perf_counter()
        search(q)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {**latency_stats(ms, cpu), "items": len(texts), "tokenize_s": round(tokenize_s, 1),
            "build_s": round(build_s, 1), "vocab": len(vocab), "rss_loaded_mb": round(rss_loaded, 1),
            "peak_rss_mb": round(rss_mb(), 1), "bm25s": bm25s.__version__}


def policybot_command() -> list[str]:
    script = Path(sys.executable).parent / "policybot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def cold_start(db: Path | None, runs: int = COLD_RUNS) -> dict:
    """`policybot ask` as a whole process: one seeding run, then `runs` timed runs; wall and peak RSS each."""
    with tempfile.TemporaryDirectory(prefix="bench_kb_cold_") as tmp:
        path = copy_db(db, Path(tmp)) if db else Path(tmp) / "kb.sqlite"
        config = Path(tmp) / "config.toml"
        config.write_text(f'[storage]\npath = "{path}"\n', encoding="utf-8")
        cmd = [*policybot_command(), "ask", "--config", str(config), "--today", TODAY.isoformat(),
               "-k", str(K), COLD_QUESTION]
        # as an installed package starts: with its modules' bytecode cached (pip compiles it at install;
        # the seeding run writes it here, for the modules changed since, where the environment forbade it)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        seed_s, _, seed_rss = _timed_process(cmd, env)
        before = db_state(path)
        walls, cpus, rss = [], [], []
        for _ in range(runs):
            wall, cpu, peak = _timed_process(cmd, env)
            walls.append(wall)
            cpus.append(cpu)
            rss.append(peak)
        changed = db_state(path) != before
    return {"cold_s": round(statistics.median(walls), 3), "cold_runs_s": [round(w, 3) for w in walls],
            "cold_cpu_s": round(statistics.median(cpus), 3),
            "cold_rss_mb": round(max(rss), 1), "cold_rss_median_mb": round(statistics.median(rss), 1),
            "seed_run_s": round(seed_s, 2), "seed_run_rss_mb": round(seed_rss, 1), "db_changed_by_ask": changed}


def _timed_process(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one process, which must succeed with an answer."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode or not out.read().strip():
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------- driver


def worker(argv: list[str]) -> int:
    """Entry of a measuring subprocess: prints one RESULT line of JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("job", choices=("build", "ask", "baseline"))
    ap.add_argument("size", type=int)
    ap.add_argument("db", type=Path)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--slowest", type=int, default=5)
    a = ap.parse_args(argv)
    if a.job == "build":
        result = build_db(a.size, a.seed, a.db)
    elif a.job == "ask":
        result = ask_run(a.size, a.db, a.profile, a.slowest)
    else:
        result = baseline_run(a.size, a.db)
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


def run_worker(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"worker {args} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    return json.loads(line[len("RESULT "):])


def ensure_db(size: int, cache_dir: Path, seed: int, rebuild: bool) -> tuple[Path, dict]:
    """The cached database of `size` items and its build figures, built now if missing."""
    db, meta_file = cache_paths(cache_dir, size)
    if seed != SEED:
        db, meta_file = db.with_stem(db.stem + f"-seed{seed}"), meta_file.with_stem(meta_file.stem + f"-seed{seed}")
    if meta_file.exists() and db.exists() and not rebuild:
        return db, {**json.loads(meta_file.read_text(encoding="utf-8")), "cached": True}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in (meta_file, db, Path(f"{db}-wal"), Path(f"{db}-shm")):  # no stale journal beside a new build
        old.unlink(missing_ok=True)
    building = cache_dir / f"building-{size}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        meta = run_worker("build", str(size), str(building / "kb.sqlite"), "--seed", str(seed))
        for p in building.iterdir():  # kb.sqlite (and a leftover -wal) → the cache's names
            os.replace(p, str(db) + p.name[len("kb.sqlite"):])
        meta_file.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return db, {**meta, "cached": False}


def _f(r: dict | None, key: str, fmt: str = ".1f", scale: float = 1.0, cpu: str = "") -> str:
    """A cell; with `cpu`, the CPU-time figure follows in brackets."""
    if not r or r.get(key) is None:
        return "–"
    cell = format(r[key] / scale if scale != 1 else r[key], fmt)
    return f"{cell} ({format(r[cpu], fmt)})" if cpu and r.get(cpu) is not None else cell


def table(rows: list[dict]) -> str:
    out = ["| size | items | import items/s (per CPU-s) | import min | p50 ms (cpu) | p99 ms (cpu) | max ms | RSS MB "
           "| bm25s p50 (cpu) | bm25s p99 (cpu) | bm25s build s | bm25s RSS MB | cold ask s (cpu) | cold RSS MB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b, a, bl, c = r.get("build"), r.get("ask"), r.get("baseline"), r.get("cold")
        cells = [f"{r['size']:,}" if r["size"] else "bundled KB", _f(b, "items", ","), _f(b, "import_ips", ",.0f", cpu="import_ips_cpu"),
                 _f(b, "import_s", ".1f", 60), _f(a, "p50_ms", cpu="cpu_p50_ms"), _f(a, "p99_ms", cpu="cpu_p99_ms"), _f(a, "max_ms"),
                 _f(a, "peak_rss_mb", ".0f"), _f(bl, "p50_ms", cpu="cpu_p50_ms"), _f(bl, "p99_ms", cpu="cpu_p99_ms"), _f(bl, "build_s"),
                 _f(bl, "peak_rss_mb", ".0f"), _f(c, "cold_s", ".2f", cpu="cold_cpu_s"), _f(c, "cold_rss_mb", ".0f")]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def verdicts(rows: list[dict]) -> list[str]:
    """Issue 15's bars, for the rows this run has."""
    lines = []
    for r in rows:
        bars = TARGETS.get(r["size"])
        if not bars:
            continue
        a, b, c, bl = r.get("ask") or {}, r.get("build") or {}, r.get("cold") or {}, r.get("baseline")
        checks = []
        if "p99_ms" in bars and a:
            checks.append(("p99", a["p99_ms"] <= bars["p99_ms"], f"{a['p99_ms']:.1f} ≤ {bars['p99_ms']:.0f} ms"))
        if r["size"] == 100_000 and a and bl:
            checks.append(("p50 vs bm25s", a["p50_ms"] <= bl["p50_ms"], f"{a['p50_ms']:.1f} ≤ {bl['p50_ms']:.1f} ms"))
        if "rss_mb" in bars and a:
            checks.append(("RSS", a["peak_rss_mb"] <= bars["rss_mb"], f"{a['peak_rss_mb']:.0f} ≤ {bars['rss_mb']:.0f} MB"))
        if "import_ips" in bars and b:
            checks.append(("import", b["import_ips"] >= bars["import_ips"],
                           f"{b['import_ips']:,.0f} ≥ {bars['import_ips']:,.0f} items/s"))
        if "cold_s" in bars and c:
            checks.append(("cold ask", c["cold_s"] <= bars["cold_s"], f"{c['cold_s']:.2f} ≤ {bars['cold_s']} s"))
        if "cold_rss_mb" in bars and c:
            checks.append(("cold RSS", c["cold_rss_mb"] <= bars["cold_rss_mb"],
                           f"{c['cold_rss_mb']:.0f} ≤ {bars['cold_rss_mb']:.0f} MB"))
        if checks:
            label = f"{r['size']:,} items" if r["size"] else "bundled KB"
            lines.append(f"{label}: " + "; ".join(f"{n} {'PASS' if ok else 'FAIL'} ({t})" for n, ok, t in checks))
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                    help="comma-separated item counts, each one of the frozen file's (1M only when asked)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--cache-dir", type=Path,
                    default=Path(os.environ.get("POLICYBOT_BENCH_CACHE") or Path.home() / ".cache" / "policybot-bench"))
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached databases (re-measures the import)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the jieba + bm25s column")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start `policybot ask` runs")
    ap.add_argument("--profile", type=Path, metavar="DIR", help="also write cProfile dumps ask_SIZE.prof")
    ap.add_argument("--slowest", type=int, default=5, help="list the N slowest questions per size")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write every figure of the run as JSON")
    args = ap.parse_args(argv)

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    for size in sizes:
        frozen_questions(size)  # fail before building anything
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for size in sizes:
        row: dict = {"size": size}
        rows.append(row)
        t0 = time.perf_counter()
        log(f"… {size:,} items: database")
        db, row["build"] = ensure_db(size, args.cache_dir, args.seed, args.rebuild)
        b = row["build"]
        log(f"  {db} ({'cached, built ' + b['built_at'] + ' at ' + b['commit'] if b['cached'] else 'built now'}): "
            f"{b['items']:,} items in {b['documents']:,} documents, generated in {b['generate_s']} s, imported in "
            f"{b['import_s']} s ({b['import_ips']:,.0f} items/s, last tenth {b['import_ips_last_tenth']}; "
            f"CPU {b.get('import_cpu_s')} s, {b.get('import_ips_cpu')} items/CPU-s), "
            f"import RSS {b['rss_import_mb']:.0f} MB, db {b['db_mb']} MB")
        log("  PolicyBot")
        extra = ["--slowest", str(args.slowest)] + (["--profile", str(args.profile)] if args.profile else [])
        row["ask"] = a = run_worker("ask", str(size), str(db), *extra)
        log(f"  answer modes {a['modes']}")
        for s in a["slowest"]:
            log(f"  slow: {s['ms']:>8.1f} ms  [{s['mode']}] {s['q']}")
        if not args.no_baseline:
            log("  jieba + bm25s")
            row["baseline"] = bl = run_worker("baseline", str(size), str(db))
            log(f"  bm25s {bl['bm25s']}: {bl['items']:,} items, vocabulary {bl['vocab']:,}, tokenized in "
                f"{bl['tokenize_s']} s, built in {bl['build_s']} s, RSS {bl['peak_rss_mb']:.0f} MB")
        if not args.no_cold:
            log("  cold `policybot ask`")
            row["cold"] = c = cold_start(db)
            log(f"  cold runs {c['cold_runs_s']} s (seeding run {c['seed_run_s']} s), RSS ≤ {c['cold_rss_mb']:.0f} MB"
                + (", DATABASE CHANGED by a timed run" if c["db_changed_by_ask"] else ""))
        log(f"  {size:,} done in {time.perf_counter() - t0:.0f} s")
    if not args.no_cold:
        log("… bundled knowledge base: cold `policybot ask`")
        row = {"size": 0, "cold": cold_start(None)}
        c = row["cold"]
        log(f"  cold runs {c['cold_runs_s']} s (first run, seeding: {c['seed_run_s']} s, {c['seed_run_rss_mb']:.0f} MB)"
            + (", DATABASE CHANGED by a timed run" if c["db_changed_by_ask"] else ""))
        rows.append(row)

    print(table(rows))
    cached = [r["build"] for r in rows if r.get("build", {}).get("cached")]
    if cached:
        print("Import figures from the cache: " + "; ".join(
            f"{b['size']:,} built {b['built_at']} at {b['commit']}" for b in cached))
    for line in verdicts(rows):
        print(line)
    if any(r.get("cold", {}).get("db_changed_by_ask") for r in rows):
        print("A timed `policybot ask` changed the database file (something was rebuilt or written at start).")
    if args.profile:
        print("\n(profiled run: PolicyBot timings include cProfile overhead)")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
