"""Knowledge-base benchmark: import throughput, answer latency and peak memory at 1k / 10k / 100k items.

Not a test. Synthetic policy documents are generated deterministically from the bundled seed corpus
(sentences recombined across documents, provinces, departments, numbers and deadlines varied), so
no two items are the same and caches are not flattered. Each size runs in its own subprocess, so
the peak RSS reported is that size's alone.

    .venv/bin/python benchmarks/bench_kb.py                       # 1k, 10k and 100k items
    .venv/bin/python benchmarks/bench_kb.py --sizes 1000,10000 --questions 300
    .venv/bin/python benchmarks/bench_kb.py --sizes 100000 --profile /tmp/prof   # + cProfile dumps

Targets at 100k items (2-core machine): p99 <= 50 ms, p50 <= 10 ms, peak RSS <= 500 MB,
import >= 2,000 items/s.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.base import KnowledgeBase
from knowledge.departments import NATIONAL_ALIASES
from knowledge.importer import DocumentOverrides, import_text, prepare
from knowledge.regions import PROVINCES, short_name
from knowledge.seed import bundled_documents
from knowledge.store import KnowledgeStore
from knowledge.targets import find_targets

SEED = 20261121
TODAY = date(2026, 11, 21)
DEFAULT_SIZES = (1_000, 10_000, 100_000)
DEFAULT_QUESTIONS = 300
WARMUP = 10
K = 5
TARGETS = {"p99_ms": 50.0, "p50_ms": 10.0, "rss_mb": 500.0, "import_ips": 2_000.0}  # at 100k items

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
OUT_OF_SCOPE = (
    "医保报销比例是多少？", "公司年会什么时候开？", "个人所得税专项附加扣除怎么申报？", "今天天气怎么样？",
    "高考录取分数线是多少？", "养老金今年上调多少？", "住房公积金贷款额度最高多少？", "驾驶证到期怎么换证？",
    "幼儿园入园报名需要什么材料？", "护照办理要多久？", "失业保险金怎么领取？", "社保卡丢了怎么补办？",
    "春节放假安排是怎样的？", "房产税什么时候开征？", "出租车起步价是多少？", "新冠疫苗第四针在哪里打？",
    "大学生创业补贴有哪些？", "职称评审什么时候报名？", "居住证积分怎么计算？", "宠物狗需要办证吗？",
)
DEADLINE_QUESTIONS = (
    "6月底前要完成哪些任务？", "12月底前要完成哪些任务？", "9月底前要完成哪些任务？", "三季度要完成哪些任务？",
    "上半年要完成哪些任务？", "年内持续推进的任务有哪些？", "今年要完成哪些任务？", "明年要完成哪些任务？",
    "下半年要完成哪些任务？", "未来30天内到期的任务有哪些？",
)
ASK_SUFFIXES = ("什么时候完成？", "谁牵头？", "由哪个部门负责？", "有什么要求？", "期限是什么时候？", "", "？")
QUESTION_MIX = (("paraphrase", 0.35), ("department", 0.20), ("deadline", 0.15), ("target", 0.20), ("oos", 0.10))


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


@dataclass
class Record:
    """What a generated item looks like, for deriving questions from it."""

    kind: str  # task | target
    region: str
    text: str
    lead: str = ""
    metric: str = ""


@dataclass
class Reservoir:
    """Fixed-size uniform samples of records per kind (keeps the generator's memory flat)."""

    size: int
    rng: random.Random
    seen: dict[str, int] = field(default_factory=dict)
    kept: dict[str, list[Record]] = field(default_factory=dict)

    def offer(self, rec: Record) -> None:
        n = self.seen.get(rec.kind, 0) + 1
        self.seen[rec.kind] = n
        kept = self.kept.setdefault(rec.kind, [])
        if len(kept) < self.size:
            kept.append(rec)
        elif (j := self.rng.randrange(n)) < self.size:
            kept[j] = rec


def _cn(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if n <= 10 else "十" + "一二三四五六七八九"[n - 11]


class Generator:
    """Deterministic synthetic policy documents in the seed documents' own plain-text style."""

    def __init__(self, pools: Pools, seed: int, reservoir: Reservoir) -> None:
        self.pools = pools
        self.rng = random.Random(seed)
        self.reservoir = reservoir
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
        doc_number = f"{abbrev}〔{doc_date.year}〕{index % 997 + 1}号"

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
                    for metric, text in targets:
                        self.reservoir.offer(Record("target", region, text, metric=metric))
                continue
            for si in range(1, rng.randint(3, 6) + 1):
                if count >= items_wanted:
                    break
                heading = self._heading(region) if rng.random() < 0.6 else None
                sentences = [self._sentence(region) for _ in range(rng.randint(1, 4))]
                clause, lead = self._clause(region)
                if heading:  # the inline title is an item of its own, governed by the clause too
                    sentences.insert(0, heading + "。")
                lines.append(f"（{_cn(si)}）" + "".join(sentences) + clause)
                count += len(sentences)
                for s in sentences:
                    self.reservoir.offer(Record("task", region, s, lead=lead))
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


# ---------------------------------------------------------------------------------------------- questions


def make_questions(samples: dict[str, list[Record]], n: int, rng: random.Random) -> list[str]:
    """A fixed mix: paraphrase-ish fragments, department lists, deadline lists, targets, out of scope."""
    tasks, targets = samples.get("task", []), samples.get("target", [])
    out: list[str] = []
    for kind, share in QUESTION_MIX:
        for _ in range(round(n * share)):
            if kind == "paraphrase" and tasks:
                rec = rng.choice(tasks)
                clause = max(rec.text.rstrip("。").split("，"), key=lambda c: (len(c) > 8, rng.random()))
                span = rng.randint(6, 14)
                start = rng.randint(0, max(0, len(clause) - span))
                prefix = short_name(rec.region) if rec.region != "国家" and rng.random() < 0.4 else ""
                out.append(prefix + clause[start:start + span] + rng.choice(ASK_SUFFIXES))
            elif kind == "department" and tasks:
                rec = rng.choice(tasks)
                lead = rec.lead if rec.region == "国家" else short_name(rec.region) + rec.lead
                out.append(lead + rng.choice(("牵头的任务有哪些？", "负责哪些任务？", "牵头的工作有哪些？")))
            elif kind == "deadline":
                q = rng.choice(DEADLINE_QUESTIONS)
                if tasks and rng.random() < 0.3:
                    rec = rng.choice(tasks)
                    q = (short_name(rec.region) if rec.region != "国家" else "全国") + q
                out.append(q)
            elif kind == "target" and targets:
                rec = rng.choice(targets)
                where = short_name(rec.region) if rec.region != "国家" else "全国"
                out.append(where + rec.metric + rng.choice(("要达到多少？", "目标是多少？", "要降到多少？", "到哪年达到多少？")))
            else:
                out.append(rng.choice(OUT_OF_SCOPE))
    rng.shuffle(out)
    while len(out) < n:
        out.append(rng.choice(OUT_OF_SCOPE))
    return out[:n]


# ---------------------------------------------------------------------------------------------- one size


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    i = (len(ordered) - 1) * p / 100
    lo, hi = int(i), min(int(i) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (i - lo)


def run_size(size: int, n_questions: int, seed: int, profile_dir: Path | None, slowest: int) -> dict:
    pools = seed_pools()
    reservoir = Reservoir(size=400, rng=random.Random(seed + 1))
    gen = Generator(pools, seed + size, reservoir)
    with tempfile.TemporaryDirectory(prefix="bench_kb_") as tmp:
        store = KnowledgeStore(Path(tmp) / "kb.sqlite")
        prof = cProfile.Profile() if profile_dir else None
        import_seconds, docs = 0.0, 0
        for source, text, overrides in gen.documents(size):  # generation itself is not timed
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            import_text(store, text, source, overrides, actor="bench")
            if prof:
                prof.disable()
            import_seconds += time.perf_counter() - t0
            docs += 1
        if prof and profile_dir:
            prof.dump_stats(profile_dir / f"import_{size}.prof")
        items = store.count_items()
        rss_after_import = rss_mb()
        db_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6

        qrng = random.Random(seed + 2)
        samples = {k: sorted(v, key=lambda r: r.text) for k, v in reservoir.kept.items()}
        warmup = make_questions(samples, WARMUP, random.Random(seed + 3))
        questions = make_questions(samples, n_questions, qrng)
        del reservoir, gen, samples
        gc.collect()

        kb = KnowledgeBase(store)
        for q in warmup:
            kb.ask(q, TODAY, k=K)
        prof = cProfile.Profile() if profile_dir else None
        latencies: list[tuple[float, str, str]] = []
        modes: dict[str, int] = {}
        for q in questions:
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            answer = kb.ask(q, TODAY, k=K)
            if prof:
                prof.disable()
            latencies.append(((time.perf_counter() - t0) * 1000, q, answer.mode))
            modes[answer.mode] = modes.get(answer.mode, 0) + 1
        if prof and profile_dir:
            prof.dump_stats(profile_dir / f"ask_{size}.prof")
        kb.close()

    ms = [x[0] for x in latencies]
    return {
        "size": size, "items": items, "documents": docs, "import_s": round(import_seconds, 2),
        "import_ips": round(items / import_seconds, 1) if import_seconds else 0.0,
        "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else 0.0, "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
        "questions": len(ms), "modes": modes, "db_mb": round(db_mb, 1),
        "rss_after_import_mb": round(rss_after_import, 1), "peak_rss_mb": round(rss_mb(), 1),
        "slowest": [{"ms": round(t, 1), "q": q, "mode": m} for t, q, m in sorted(latencies, reverse=True)[:slowest]],
        "profiled": bool(profile_dir),
    }


# ---------------------------------------------------------------------------------------------- driver


def table(results: list[dict]) -> str:
    rows = ["| size | items | import items/s | p50 ms | p99 ms | max ms | peak RSS MB |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r['size']:,} | {r['items']:,} | {r['import_ips']:,.0f} | {r['p50_ms']:.1f} | "
                    f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(rows)


def verdict(r: dict) -> str:
    checks = [("p99", r["p99_ms"] <= TARGETS["p99_ms"], f"{r['p99_ms']:.1f} ≤ {TARGETS['p99_ms']:.0f} ms"),
              ("p50", r["p50_ms"] <= TARGETS["p50_ms"], f"{r['p50_ms']:.1f} ≤ {TARGETS['p50_ms']:.0f} ms"),
              ("RSS", r["peak_rss_mb"] <= TARGETS["rss_mb"], f"{r['peak_rss_mb']:.0f} ≤ {TARGETS['rss_mb']:.0f} MB"),
              ("import", r["import_ips"] >= TARGETS["import_ips"],
               f"{r['import_ips']:,.0f} ≥ {TARGETS['import_ips']:,.0f} items/s")]
    return "; ".join(f"{name} {'PASS' if ok else 'FAIL'} ({text})" for name, ok, text in checks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated item counts")
    ap.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, help="timed questions per size")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="also write cProfile dumps import_SIZE.prof / ask_SIZE.prof (timings then include overhead)")
    ap.add_argument("--slowest", type=int, default=5, help="list the N slowest questions per size")
    ap.add_argument("--json", action="store_true", help="also print each size's full result as JSON")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        result = run_size(args.worker, args.questions, args.seed, args.profile, args.slowest)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return 0

    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results = []
    for size in sizes:
        cmd = [sys.executable, __file__, "--worker", str(size), "--questions", str(args.questions),
               "--seed", str(args.seed), "--slowest", str(args.slowest)]
        if args.profile:
            cmd += ["--profile", str(args.profile)]
        print(f"… {size:,} items", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            print(proc.stdout + proc.stderr, file=sys.stderr)
            return proc.returncode or 1
        r = json.loads(line[len("RESULT "):])
        results.append(r)
        print(f"  {r['items']:,} items in {r['documents']:,} documents, import {r['import_s']} s, "
              f"db {r['db_mb']} MB, answer modes {r['modes']}", file=sys.stderr)
        for s in r["slowest"]:
            print(f"  slow: {s['ms']:>8.1f} ms  [{s['mode']}] {s['q']}", file=sys.stderr)
        if args.json:
            print(json.dumps(r, ensure_ascii=False), file=sys.stderr)
    print(table(results))
    if results and results[-1]["size"] >= 100_000:
        print(f"\nTargets at {results[-1]['size']:,}: {verdict(results[-1])}")
    if any(r["profiled"] for r in results):
        print("\n(profiled run: timings include cProfile overhead)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
