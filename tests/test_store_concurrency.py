"""The store shared by threads and processes: `policybot import` beside a running bot, writers that
wait for the lock, caches that notice other processes' changes, work offloaded to a process."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.formats import file_text
from knowledge.importer import import_text, prepare, prepare_file
from knowledge.store import KnowledgeStore, StoreWorker

TODAY = date(2026, 11, 21)
CITIES = ["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水", "义乌"]
FACILITIES = ["充电桩", "换电站", "光伏电站", "储能电站", "加氢站"]
POLICYBOT = Path(sys.executable).with_name("policybot")


def notice(topic: str, n: int) -> str:
    return (f"关于推进{topic}建设的通知\n"
            f"一、加快推进{topic}布局。完成全省{topic}布局规划。（省能源局牵头，省发展改革委等按职责分工负责，2027年6月底前完成）\n"
            f"二、到2026年，全省{topic}达到{n}个。（省能源局负责）\n"
            "三、加强安全监管。（省市场监管局负责，年内持续推进）\n"
            f"浙江省人民政府\n2026年3月{n % 28 + 1}日\n")


def topics() -> list[str]:
    return [city + facility for city in CITIES for facility in FACILITIES]


def write_folder(folder: Path) -> list[str]:
    folder.mkdir()
    names = topics()
    for n, topic in enumerate(names):
        (folder / f"notice_{n:02d}.txt").write_text(notice(topic, n + 10), encoding="utf-8")
    return names


def config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / name}.db"\n[knowledge]\nseed_bundled = false\n', encoding="utf-8")
    return path


async def cli_import(folder: Path, cfg: Path) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = await asyncio.create_subprocess_exec(str(POLICYBOT), "import", str(folder), "--config", str(cfg),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                env=env)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


def item_rows(path: Path) -> set[tuple[str, str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return set(conn.execute("SELECT d.title, i.text, i.status, coalesce(i.deadlines, '')"
                                " FROM items i JOIN documents d USING (doc_id)").fetchall())
    finally:
        conn.close()


@pytest.mark.skipif(not POLICYBOT.exists(), reason="needs the policybot console script of this venv")
async def test_cli_import_beside_a_running_bot(tmp_path):
    folder = tmp_path / "docs"
    names = write_folder(folder)
    busy_cfg = config(tmp_path, "busy")
    store = KnowledgeStore(tmp_path / "busy.db")
    import_text(store, notice("示范园区微电网", 7), "first.txt", actor="cli")
    store.close()

    worker = StoreWorker()
    kb = await worker.run(KnowledgeBase.open, str(tmp_path / "busy.db"), seed=False)
    try:
        assert (await worker.run(kb.ask, "示范园区微电网布局规划什么时候完成", TODAY)).hits
        importing = asyncio.create_task(cli_import(folder, busy_cfg))
        asked_during = 0
        while not importing.done():
            topic = names[asked_during % len(names)]
            answer = await worker.run(kb.ask, f"{topic}布局规划什么时候完成", TODAY)
            await worker.run(kb.search_items, topic, TODAY)  # lists read the searcher's title cache
            await worker.write(kb.store.log_question, topic, "private", answer.confident, None)
            asked_during += 1
        code, out, err = importing.result()
        assert code == 0, (out[-1500:], err[-3000:])
        assert "locked" not in err and out.count("已导入") == len(names), (out[-1500:], err[-3000:])
        assert asked_during > 0

        idle_cfg = config(tmp_path, "idle")
        code, _, err = await cli_import(folder, idle_cfg)
        assert code == 0, err
        busy_rows = {r for r in item_rows(tmp_path / "busy.db") if "示范园区微电网" not in r[0]}
        assert busy_rows == item_rows(tmp_path / "idle.db") and len(busy_rows) == 4 * len(names)

        for topic in (names[0], names[31], names[-1]):  # the running bot answers on the new documents
            answer = await worker.run(kb.ask, f"{topic}布局规划什么时候完成", TODAY)
            assert answer.hits and topic in answer.hits[0].item.text, topic
            listed = await worker.run(kb.search_items, topic, TODAY)
            assert any(topic in h.item.text for h in listed.hits)
            assert all(h.item.doc_id in listed.documents for h in listed.hits)
    finally:
        await worker.run(kb.close)
        worker.shutdown()


def test_a_change_by_another_connection_refreshes_the_caches(tmp_path):
    """Another process's import (here: another store on the same file) is seen by the next question,
    and the list's title cache knows the new document."""
    path = tmp_path / "kb.db"
    kb = KnowledgeBase.open(str(path), seed=False)
    other = KnowledgeStore(path)
    try:
        import_text(kb.store, notice("杭州充电桩", 10), "a.txt")
        assert kb.search_items("杭州充电桩", TODAY).hits  # caches filled
        assert kb.searcher.document_numbers() == {}
        text = notice("宁波加氢站", 11).replace("的通知\n", "的通知\n浙发改能源〔2026〕9号\n")
        report = import_text(other, text.replace("省市场监管局", "省海洋局"), "b.txt")
        assert kb.searcher.document_numbers() == {report.doc_id: "浙发改能源〔2026〕9号"}
        assert kb.department_items("省海洋局", TODAY) is not None
        listed = kb.search_items("宁波加氢站", TODAY)
        assert listed.hits and {h.item.doc_id for h in listed.hits} == {report.doc_id}
        assert kb.item_with_document(listed.hits[0].item.id)[1].title == "关于推进宁波加氢站建设的通知"
        answer = kb.ask("宁波加氢站布局规划什么时候完成", TODAY)
        assert answer.hits and "宁波加氢站" in answer.hits[0].item.text
    finally:
        other.close()
        kb.close()


def test_a_writer_waits_for_another_writers_lock(tmp_path):
    """A transaction takes the write lock up front: a second writer (another process's import) that
    has already read waits for the first to commit instead of failing with 'database is locked'."""
    path = tmp_path / "kb.db"
    first, second = KnowledgeStore(path), KnowledgeStore(path)
    holding, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold_the_lock() -> None:
        try:
            with first.transaction():
                import_text(first, notice("杭州充电桩", 10), "a.txt")
                holding.set()
                release.wait()
        except BaseException as e:  # pragma: no cover - reported below
            failures.append(e)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait()
    waiter_done = threading.Event()

    def write_second() -> None:
        try:
            import_text(second, notice("宁波加氢站", 11), "b.txt")
        except BaseException as e:
            failures.append(e)
        waiter_done.set()

    waiter = threading.Thread(target=write_second)
    waiter.start()
    waiter_done.wait(0.3)  # time to read and reach the lock: the old deferred BEGIN failed right there
    release.set()
    holder.join()
    waiter.join()
    try:
        assert failures == []
        assert {d.title for d in second.documents()} == {"关于推进杭州充电桩建设的通知", "关于推进宁波加氢站建设的通知"}
    finally:
        first.close()
        second.close()


def test_each_thread_reads_on_its_own_connection(tmp_path):
    store = KnowledgeStore(tmp_path / "kb.db")
    seen: list[int] = []
    try:
        t = threading.Thread(target=lambda: seen.append(id(store.db.conn)))
        t.start()
        t.join()
        assert seen and seen[0] != id(store.db.conn)
        with store.transaction():  # a reader elsewhere does not see a change in progress
            import_text(store, notice("杭州充电桩", 10), "a.txt")
            t = threading.Thread(target=lambda: seen.append(store.count_items()))
            t.start()
            t.join()
        assert seen[1] == 0 and store.count_items() == 4
    finally:
        store.close()


async def test_offload_parses_in_another_process(tmp_path):
    worker = StoreWorker()
    try:
        text = await worker.offload(file_text, notice("杭州充电桩", 10).encode(), "a.txt")
        doc, items = await worker.offload(prepare, text, "a.txt")
        assert doc.title == "关于推进杭州充电桩建设的通知" and len(items) == 4
        doc, items = await worker.offload(prepare_file, notice("杭州充电桩", 10).encode(), "a.txt")
        assert doc.title == "关于推进杭州充电桩建设的通知" and len(items) == 4
        pid = await worker.offload(os.getpid)
        assert pid != os.getpid()
        with pytest.raises(ValueError, match="不支持"):  # its errors come back as they are
            await worker.offload(file_text, b"x", "a.exe")
    finally:
        worker.shutdown()


async def test_reads_do_not_queue_behind_a_write(tmp_path):
    """While a write is in progress on the writer thread, a read on a reader thread completes."""
    worker = StoreWorker()
    kb = await worker.run(KnowledgeBase.open, str(tmp_path / "kb.db"), seed=False)
    started, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with kb.store.transaction():
            import_text(kb.store, notice("杭州充电桩", 10), "a.txt")
            started.set()
            release.wait()

    try:
        writing = asyncio.ensure_future(worker.write(slow_write))
        await asyncio.get_running_loop().run_in_executor(None, started.wait)
        assert await worker.run(kb.store.count_items) == 0  # answered while the write holds the lock
        assert not writing.done()
        release.set()
        await writing
        assert await worker.run(kb.store.count_items) == 4
    finally:
        release.set()
        await worker.run(kb.close)
        worker.shutdown()


async def test_a_dead_worker_process_is_replaced():
    worker = StoreWorker()
    try:
        with pytest.raises(BrokenProcessPool):
            await worker.offload(os._exit, 3)
        assert await worker.offload(os.getpid) != os.getpid()  # a new process took its place
    finally:
        worker.shutdown()


async def test_an_answer_arrives_while_a_slow_document_is_parsed(tmp_path):
    """A document under the caps but slow to parse is prepared in the worker process while a
    question is answered: the answer comes first (the order of events, not a time)."""
    worker = StoreWorker()
    kb = await worker.run(KnowledgeBase.open, str(tmp_path / "kb.db"), seed=False)
    await worker.write(import_text, kb.store, notice("杭州充电桩", 10), "a.txt")
    try:
        assert (await worker.run(kb.ask, "杭州充电桩布局规划什么时候完成", TODAY)).hits  # warm
        slow = "关于推进充电设施建设的通知\n" + "\n".join(
            f"{n}. 完成第{n}批充电桩改造{n}个，提高充电效率到{n % 90 + 5}%。（省能源局负责，2027年底前完成）"
            for n in range(2400))
        parsing = asyncio.ensure_future(worker.offload(prepare, slow, "slow.txt"))
        answer = await worker.run(kb.ask, "杭州充电桩布局规划什么时候完成", TODAY)
        assert answer.hits and not parsing.done()
        _, items = await parsing
        assert len(items) >= 2400
    finally:
        await worker.run(kb.close)
        worker.shutdown()
