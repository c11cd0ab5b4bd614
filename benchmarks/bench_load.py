"""Load benchmark of the real `policybot run` process against a fake Telegram Bot API on loopback.

Not a test. Each scenario starts `policybot run` (bot.cli.main) as a subprocess with a temporary config (a
copy of a seeded database, the fake's base_url, one admin, reminders off) and drives it from this
process through the fake (tests/fake_telegram.py), which times every sendMessage it receives.
Private chats ask one question at a time from a fixed list (benchmarks/questions_own.jsonl plus
questions built from the knowledge base's item texts); a reply's latency is from pushing the update
to the fake receiving its sendMessage. Measuring starts once every chat has had an answer and the
warm-up has passed; the bot's first answer after start (the word segmenter loads then) is reported apart.

Scenarios, each with Telegram's limits ON (the fake answers 429 + retry_after past 30 messages/s
overall or 20/min per group) and with them lifted:
  chats20 / chats100   20 or 100 private chats, each asking again as soon as it is answered
  flood                5 private chats (0.2 s between questions) while a group sends 8 addressed
                       questions a second, far past its 20 replies a minute (measured from its 20th reply)
  import               the same 5 private chats while an admin imports a ~2,000-line document
                       (caption /import, then Confirm), again and again until the window ends
"Lifted" removes the fake's limits; the bot still paces itself at 28 messages/s (bot/telegram/adapter.py). The
"unpaced" rows also lift that (the subprocess runs with MESSAGES_PER_SECOND raised) to show what
the bot itself can answer.

The machine may be shared, so besides answers/s each chats row gives the bot process's CPU per answer
(from /proc, user + system) and, of that, its main thread's ("loop ms": the event loop — Telegram's
HTTP, PTB, the conversation, rendering); the rest is the store's threads (search on the readers, the
question log on the writer). One core answers at most 1000 / (CPU ms per answer) a second: the
searches run on threads, so they share one core with the loop (the GIL).

    .venv/bin/python benchmarks/bench_load.py            # every scenario, warm-up + 15 s each
    .venv/bin/python benchmarks/bench_load.py --quick    # 4 s each
    .venv/bin/python benchmarks/bench_load.py --modes on --scenarios flood --seconds 30
    .venv/bin/python benchmarks/bench_load.py --modes unpaced --scenarios chats100 --profile /tmp/prof  # py-spy

Targets (issue 14): limits on, ≥ 25 answers/s and a private chat's p99 ≤ 2 s during a flood or an
import; limits lifted (unpaced), ≥ 100 answers/s on the bundled knowledge base.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from fake_telegram import BOT_USERNAME, FakeTelegram, make_callback_update, make_message_update

from handlers import admin_texts, texts
from knowledge.seed import seed
from knowledge.store import KnowledgeStore

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 7001
GROUP_ID = -100_777
WARM_CHAT = 9_999
PROBES = 5
PROBE_PAUSE = 0.2  # seconds between a probe chat's answer and its next question
FLOOD_PER_SECOND = 8
GROUP_PER_MINUTE = 20  # Telegram's (and the fake's) limit for one group
REPLY_TIMEOUT = 60.0
IMPORT_LINES = 2000
START_TIMEOUT = 60.0
# Run the real CLI; "unpaced" raises the bot's own send pacing first (nothing else is changed).
LAUNCH = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
LAUNCH_UNPACED = "import sys, bot.telegram.adapter as t; t.MESSAGES_PER_SECOND = 100_000; t.GROUP_MESSAGES_PER_MINUTE = 10**9; " + LAUNCH.split("; ", 1)[1]


# ---------------------------------------------------------------------- the fake, timing what it receives


@dataclass
class Received:
    method: str
    params: dict
    at: float


class TimingFake(FakeTelegram):
    """The fake Bot API, with each accepted message also put in its chat's inbox, stamped on arrival."""

    def __init__(self) -> None:
        super().__init__()
        self.inbox: dict[int, asyncio.Queue[Received]] = defaultdict(asyncio.Queue)
        self.refused: Counter[int] = Counter()
        self.pauses: list[tuple[float, float]] = []  # (from, to): a 429 and the retry_after it asked for
        self.ready = asyncio.Event()

    async def _api_getUpdates(self, params: dict) -> web.Response:
        if not self.ready.is_set() and any(c.method == "setMyCommands" for c in self.calls):
            self.ready.set()  # post_init is done and the bot is polling
        return await super()._api_getUpdates(params)

    async def _api_sendMessage(self, params: dict) -> web.Response:
        return self._timed("sendMessage", params, await super()._api_sendMessage(params))

    async def _api_editMessageText(self, params: dict) -> web.Response:
        return self._timed("editMessageText", params, await super()._api_editMessageText(params))

    def _timed(self, method: str, params: dict, response: web.Response) -> web.Response:
        chat_id = int(params.get("chat_id", 0))
        if response.status == 200:
            self.inbox[chat_id].put_nowait(Received(method, params, time.monotonic()))
        else:
            self.refused[chat_id] += 1
            if response.status == 429:
                retry_after = json.loads(response.body)["parameters"]["retry_after"]  # type: ignore[arg-type]
                self.pauses.append((time.monotonic(), time.monotonic() + retry_after))
        return response


# ---------------------------------------------------------------------- inputs


def seeded_database(folder: Path) -> Path:
    path = folder / "seed.db"
    store = KnowledgeStore(str(path))
    seed(store)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def question_list(db: Path, n_from_items: int = 240) -> list[str]:
    """The own benchmark questions plus questions made from item texts, shuffled with a fixed seed."""
    own = [json.loads(line)["question"] for line in (ROOT / "benchmarks" / "questions_own.jsonl").open(encoding="utf-8")
           if line.strip()]
    store = KnowledgeStore(str(db))
    try:
        items = list(store.all_items())
    finally:
        store.close()
    rng = random.Random(14)
    asks = ["谁牵头？", "什么时候完成？", "的期限是哪天？", "由哪些部门负责？", "", "进展怎么样？"]
    made = []
    for item in rng.sample(items, min(n_from_items, len(items))):
        text = item.text.strip("。；; ")
        start = rng.randrange(0, max(1, len(text) - 14))
        made.append(text[start:start + rng.randint(8, 22)] + rng.choice(asks))
    questions = own + made
    rng.shuffle(questions)
    return questions


def cycle_from(questions: list[str], offset: int) -> Iterator[str]:
    i = offset
    while True:
        yield questions[i % len(questions)]
        i += 1


def import_document(round_no: int, lines: int = IMPORT_LINES) -> bytes:
    """A task-division document: numbered task lines, each with a lead, supporting departments and a
    deadline clause. Valid and under the caps, but slow to parse (about 1.5 s on this machine)."""
    rng = random.Random(1000 + round_no)
    acts = ["推进", "加快建设", "完善", "组织实施", "制定出台", "开展", "健全", "深化"]
    topics = ["光伏发电项目", "风电基地", "充电桩网络", "绿色建筑标准", "碳排放权交易市场", "用能权交易制度",
              "工业节能改造", "煤炭清洁高效利用", "新型储能示范", "氢能产业链", "碳汇能力提升工程", "电力需求侧管理"]
    places = ["内蒙古", "浙江省", "广东省", "山西省", "河北省", "江苏省", "四川省", "甘肃省"]
    depts = ["国家发展改革委", "国家能源局", "生态环境部", "工业和信息化部", "财政部", "住房城乡建设部", "交通运输部",
             "自然资源部"]
    when = ["2027年底前完成", "6月底前出台相关政策", "年内持续推进", "2027年6月底前完成", "2028年底前建成"]
    out = [f"关于印发重点任务分工方案（第{round_no}批）的通知", ""]
    for i in range(1, lines + 1):
        lead, a, b = rng.sample(depts, 3)
        out.append(f"{i}. {rng.choice(acts)}{rng.choice(places)}{rng.choice(topics)}（第{round_no}-{i}项），"
                   f"单位产值能耗降低{rng.randint(2, 18)}%。（{lead}牵头，{a}、{b}按职责分工负责，{rng.choice(when)}）")
    return "\n".join(out).encode()


# ---------------------------------------------------------------------- the bot under test


def _cpu(stat: str) -> float:
    try:
        fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Bot:
    proc: asyncio.subprocess.Process
    profile: Path | None = None  # where py-spy writes collapsed stacks of the thread holding the GIL
    spy: asyncio.subprocess.Process | None = None

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) the bot process has used so far, and of that its main thread's (the
        event loop: Telegram, the conversation; search runs on the store's reader threads); 0 where
        /proc is not there."""
        return _cpu(f"/proc/{self.proc.pid}/stat"), _cpu(f"/proc/{self.proc.pid}/task/{self.proc.pid}/stat")

    async def start_profile(self) -> None:
        if self.profile is None:
            return
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.spy = await asyncio.create_subprocess_exec(
            spy, "record", "--threads", "--gil", "--format", "raw", "-o", str(self.profile), "-p", str(self.proc.pid),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def stop_profile(self) -> None:
        if self.spy is not None and self.spy.returncode is None:
            self.spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(self.spy.wait(), 30)


@contextlib.asynccontextmanager
async def policybot(fake: TimingFake, db: Path, folder: Path, *, unpaced: bool, profile: Path | None = None):
    """`policybot run` as a subprocess pointed at the fake; stopped with SIGTERM (then killed) on exit."""
    config = folder / "bench.toml"
    config.write_text(
        f'[storage]\npath = "{db}"\n'
        f'[telegram]\ntoken = "{fake.token}"\nbase_url = "{fake.base_url}"\nbase_file_url = "{fake.base_file_url}"\n'
        f"admins = [{ADMIN_ID}]\n"
        "[reminders]\nenabled = false\n", encoding="utf-8")
    log = (folder / "bot.log").open("w")
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYBOT_TELEGRAM_TOKEN", "POLICYBOT_CONFIG")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH_UNPACED if unpaced else LAUNCH, "run", "--config", str(config),
        cwd=str(ROOT), env=env, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL)
    try:
        try:
            await asyncio.wait_for(fake.ready.wait(), START_TIMEOUT)
        except TimeoutError:
            raise RuntimeError("policybot run did not start:\n" + (folder / "bot.log").read_text()[-3000:]) from None
        bot = Bot(proc, profile)
        try:
            yield bot
        finally:
            await bot.stop_profile()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


# ---------------------------------------------------------------------- load


@dataclass
class Sample:
    chat_id: int
    pushed: float
    answered: float
    error: bool

    @property
    def latency(self) -> float:
        return self.answered - self.pushed


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    lost: int = 0  # questions with no answer within REPLY_TIMEOUT
    extra: int = 0  # messages to a private chat beyond one per question
    notes: list[str] = field(default_factory=list)
    first_answer: float = 0.0  # seconds to the first answer after start
    previews: list[tuple[float, float]] = field(default_factory=list)  # (from, to) of each import's parse
    confirms: list[tuple[float, float]] = field(default_factory=list)  # ... and of applying it


async def private_chat(fake: TimingFake, chat_id: int, questions: Iterator[str], stop: asyncio.Event,
                       pause: float, load: Load) -> None:
    """One person asking, one question at a time, until `stop`."""
    inbox = fake.inbox[chat_id]
    while not stop.is_set():
        pushed = time.monotonic()
        fake.push_update(make_message_update(next(questions), chat_id, chat_id))
        try:
            got = await asyncio.wait_for(inbox.get(), REPLY_TIMEOUT)
        except TimeoutError:
            load.lost += 1
            return
        load.samples.append(Sample(chat_id, pushed, got.at, texts.ERROR in str(got.params.get("text", ""))))
        if pause:
            await asyncio.sleep(pause)


async def group_flood(fake: TimingFake, questions: Iterator[str], stop: asyncio.Event, per_second: float) -> int:
    """A group asking the bot (addressed, /ask@bot) `per_second` times a second until `stop`."""
    pushed = 0
    while not stop.is_set():
        fake.push_update(make_message_update(f"/ask@{BOT_USERNAME} {next(questions)}", GROUP_ID, 5000 + pushed % 7))
        pushed += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1 / per_second)
    return pushed


async def admin_imports(fake: TimingFake, until: float, load: Load) -> None:
    """Import a large document (caption /import, then Confirm) again and again until `until`."""
    inbox = fake.inbox[ADMIN_ID]
    round_no = 0
    while time.monotonic() < until:
        round_no += 1
        data = import_document(round_no)
        file_id = f"bench-doc-{round_no}"
        fake.add_file(file_id, data)
        document = {"file_id": file_id, "file_unique_id": file_id, "file_name": f"任务分工{round_no}.txt",
                    "file_size": len(data)}
        t0 = time.monotonic()
        fake.push_update(make_message_update("", ADMIN_ID, ADMIN_ID, document=document, caption="/import"))
        preview = await asyncio.wait_for(inbox.get(), REPLY_TIMEOUT)
        t1 = time.monotonic()
        confirm = _button(preview.params, admin_texts.CONFIRM)
        if confirm is None:
            load.notes.append(f"import {round_no}: no Confirm button: {str(preview.params.get('text'))[:120]}")
            return
        fake.push_update(make_callback_update(confirm, ADMIN_ID, ADMIN_ID))
        done = await asyncio.wait_for(inbox.get(), REPLY_TIMEOUT)
        t2 = time.monotonic()
        load.previews.append((t0, t1))
        load.confirms.append((t1, t2))
        summary = str(done.params.get("text", "")).replace("\n", " ")[:60]
        load.notes.append(f"import {round_no} ({len(data) // 1024} KB): preview {t1 - t0:.1f} s, "
                          f"confirm {t2 - t1:.1f} s — {summary}")


async def _all_answered(load: Load, chats: int) -> None:
    while len({s.chat_id for s in load.samples}) < chats:
        await asyncio.sleep(0.05)


async def _replies(fake: TimingFake, chat_id: int, count: int) -> None:
    while fake.inbox[chat_id].qsize() < count:
        await asyncio.sleep(0.05)


def _button(params: dict, label: str) -> str | None:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == label:
                return button.get("callback_data")
    return None


# ---------------------------------------------------------------------- one scenario


@dataclass
class Result:
    mode: str
    scenario: str
    chats: int
    window: float
    load: Load
    cpu: float = 0.0  # the bot process's CPU seconds in the window
    loop_cpu: float = 0.0  # ... of its main thread (the event loop)
    own_cpu: float = 0.0  # this process's (the fake Bot API and the load), for comparison
    group_pushed: int = 0
    group_answered: int = 0
    refused: int = 0
    pauses: list[tuple[float, float]] = field(default_factory=list)

    def measured(self, start: float) -> list[Sample]:
        return [s for s in self.load.samples if s.pushed >= start]


async def run_scenario(mode: str, scenario: str, db_seed: Path, questions: list[str],
                       warmup: float, seconds: float, profile: Path | None) -> tuple[Result, list[Sample], float]:
    fake = TimingFake()
    fake.flood_control = mode == "on"
    await fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            folder = Path(tmp)
            db = folder / "kb.db"
            shutil.copy(db_seed, db)
            out = profile / f"{mode}-{scenario}.txt" if profile else None
            try:
                async with policybot(fake, db, folder, unpaced=mode == "unpaced", profile=out) as bot:
                    return await _drive(fake, bot, mode, scenario, questions, warmup, seconds)
            finally:
                if profile:  # keep the bot's log beside its profile
                    shutil.copy(folder / "bot.log", profile / f"{mode}-{scenario}.log")
    finally:
        await fake.close()


async def _drive(fake: TimingFake, bot: Bot, mode: str, scenario: str, questions: list[str],
                 warmup: float, seconds: float) -> tuple[Result, list[Sample], float]:
    load = Load()
    stop = asyncio.Event()
    pushed = time.monotonic()  # the first answer after start pays for loading the word segmenter
    fake.push_update(make_message_update(questions[0], WARM_CHAT, WARM_CHAT))
    first = await asyncio.wait_for(fake.inbox[WARM_CHAT].get(), REPLY_TIMEOUT)
    load.first_answer = first.at - pushed
    await bot.start_profile()
    chats = {"chats20": 20, "chats100": 100}.get(scenario, PROBES)
    pause = 0.0 if scenario.startswith("chats") else PROBE_PAUSE
    workers = [asyncio.create_task(private_chat(fake, 10_000 + n, cycle_from(questions, 37 * n), stop, pause, load))
               for n in range(chats)]
    flood = None
    if scenario == "flood":
        flood = asyncio.create_task(group_flood(fake, cycle_from(questions, 11), stop, FLOOD_PER_SECOND))
    with contextlib.suppress(TimeoutError):  # steady state: every chat answered once, then the warm-up
        await asyncio.wait_for(_all_answered(load, chats), REPLY_TIMEOUT)
    await asyncio.sleep(warmup)
    if flood is not None:  # measure once the group has had its 20 replies of this minute
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_replies(fake, GROUP_ID, GROUP_PER_MINUTE), REPLY_TIMEOUT)
    start, (cpu_start, loop_start), own_start = time.monotonic(), bot.cpu_seconds(), time.process_time()
    if scenario == "import":
        await admin_imports(fake, start + seconds, load)  # the window lasts until the last import is applied
    else:
        await asyncio.sleep(seconds)
    end, (cpu, loop_cpu), own = time.monotonic(), bot.cpu_seconds(), time.process_time() - own_start
    cpu, loop_cpu = cpu - cpu_start, loop_cpu - loop_start
    await bot.stop_profile()
    stop.set()
    await asyncio.gather(*workers)
    pushed = await flood if flood else 0
    await asyncio.sleep(0.3)  # let a stray extra message arrive
    load.extra = sum(fake.inbox[10_000 + n].qsize() for n in range(chats))
    result = Result(mode, scenario, chats, end - start, load, cpu=cpu, loop_cpu=loop_cpu, own_cpu=own, group_pushed=pushed,
                    group_answered=fake.inbox[GROUP_ID].qsize(), refused=sum(fake.refused.values()),
                    pauses=fake.pauses)
    answered_in_window = sum(1 for s in load.samples if start <= s.answered <= end)
    return result, result.measured(start), answered_in_window / (end - start)


# ---------------------------------------------------------------------- report


SLOW = 1.0  # seconds: an answer slower than this is looked into


def slow_answers(samples: list[Sample], load: Load, pauses: list[tuple[float, float]]) -> str:
    """How many answers were slow, and what else was going on while they waited."""
    slow = [s for s in samples if s.latency > SLOW]
    if not slow:
        return f"no answer slower than {SLOW:g} s"

    def overlaps(s: Sample, spans: list[tuple[float, float]]) -> bool:
        return any(a < s.answered and s.pushed < b for a, b in spans)

    parts = [f"{len(slow)} of {len(samples)} answers slower than {SLOW:g} s"]
    if pauses:
        parts.append(f"{sum(overlaps(s, pauses) for s in slow)} overlapped a 429's retry_after")
    if load.previews:
        parts.append(f"{sum(overlaps(s, load.previews) for s in slow)} overlapped a preview (parse)")
        parts.append(f"{sum(overlaps(s, load.confirms) for s in slow)} overlapped a Confirm (apply)")
    return ", ".join(parts)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(-(-p * len(ordered) // 100)) - 1))]


def verdict(mode: str, scenario: str, rate: float, p99: float) -> tuple[str, str]:
    """The issue's target for this row, and PASS/FAIL ('' where there is no target)."""
    chats = scenario.startswith("chats")
    if mode == "on" and chats:
        return "≥ 25/s", "PASS" if rate >= 25 else "FAIL"
    if mode == "on":
        return "p99 ≤ 2 s", "PASS" if p99 <= 2.0 else "FAIL"
    if mode == "unpaced" and chats:
        return "≥ 100/s", "PASS" if rate >= 100 else "FAIL"
    if mode == "lifted" and chats:
        return "(bot paces 28/s)", ""
    return "", ""


HEADER = (f"{'limits':<8} {'scenario':<9} {'chats':>5} {'answers':>7} {'answers/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'errors':>6} {'lost':>4} {'429s':>5} {'bot CPU':>7} {'fake CPU':>8} {'CPU ms/ans':>10} {'loop ms':>7}  target")


def table_row(result: Result, samples: list[Sample], rate: float) -> tuple[str, str]:
    latencies = [s.latency for s in samples]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    target, mark = verdict(result.mode, result.scenario, rate, p99)
    # CPU per answer only where answering is all the bot does
    answers = max(1, rate * result.window)
    chats = result.scenario.startswith("chats")
    per_answer = f"{1000 * result.cpu / answers:.1f}" if chats else ""
    loop_per_answer = f"{1000 * result.loop_cpu / answers:.1f}" if chats else ""
    line = (f"{result.mode:<8} {result.scenario:<9} {result.chats:>5} {len(samples):>7} {rate:>9.1f} "
            f"{p50 * 1000:>7.0f} {p99 * 1000:>7.0f} {max(latencies, default=0) * 1000:>7.0f} "
            f"{sum(s.error for s in samples):>6} {result.load.lost:>4} {result.refused:>5} "
            f"{result.cpu / result.window:>7.0%} {result.own_cpu / result.window:>8.0%} {per_answer:>10} {loop_per_answer:>7}  {target} {mark}")
    return line, mark


def row_notes(result: Result, samples: list[Sample]) -> list[str]:
    name = f"{result.mode} {result.scenario}"
    notes = []
    if result.scenario == "flood":
        notes.append(f"{name}: the group pushed {result.group_pushed} questions and got {result.group_answered} "
                     f"answers in {result.window:.1f} s")
    if result.scenario in ("flood", "import"):
        notes.append(f"{name}: " + slow_answers(samples, result.load, result.pauses))
    if result.load.extra:
        notes.append(f"{name}: {result.load.extra} message(s) beyond one per question")
    return notes + [f"{name}: {n}" for n in result.load.notes]


def dump(path: Path, result: Result, samples: list[Sample]) -> None:
    t0 = min((s.pushed for s in samples), default=0.0)
    with path.open("a", encoding="utf-8") as out:
        for s in samples:
            out.write(json.dumps({"mode": result.mode, "scenario": result.scenario, "chat": s.chat_id,
                                  "pushed": round(s.pushed - t0, 3), "latency": round(s.latency, 3)}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run: 1 s warm-up and 4 s per scenario")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per scenario (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load after every chat's first answer, before measuring (default 3)")
    parser.add_argument("--modes", default="on,lifted,unpaced", help="on, lifted, unpaced (comma-separated)")
    parser.add_argument("--scenarios", default="chats20,chats100,flood,import")
    parser.add_argument("--dump", type=Path, metavar="FILE", help="write every measured answer as a JSON line")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record each bot process with py-spy (collapsed stacks, per thread) into DIR, "
                             "with the bot's log beside it")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup = 4.0, 1.0
    modes = [m for m in args.modes.split(",") if m]
    scenarios = [s for s in args.scenarios.split(",") if s]
    if not set(modes) <= {"on", "lifted", "unpaced"} or not set(scenarios) <= {"chats20", "chats100", "flood", "import"}:
        parser.error("unknown mode or scenario")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    failed, notes, first_answers = False, [], []
    with tempfile.TemporaryDirectory(prefix="bench-load-seed-") as tmp:
        db_seed = seeded_database(Path(tmp))
        questions = question_list(db_seed)
        print(f"{len(questions)} questions; {args.warmup:g} s warm-up + {args.seconds:g} s per scenario; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(HEADER)
        print("-" * len(HEADER), flush=True)
        for mode in modes:
            for scenario in scenarios:
                result, samples, rate = asyncio.run(run_scenario(mode, scenario, db_seed, questions,
                                                                 args.warmup, args.seconds, args.profile))
                line, mark = table_row(result, samples, rate)
                print(line, flush=True)
                if args.dump:
                    dump(args.dump, result, samples)
                failed |= mark == "FAIL" or result.load.lost > 0
                notes += row_notes(result, samples)
                first_answers.append(result.load.first_answer)
    print(f"  first answer after start: {min(first_answers):.1f}–{max(first_answers):.1f} s")
    for note in notes:
        print("  " + note)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
