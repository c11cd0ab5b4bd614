"""Start-up: a question loads only what it needs, and nothing read at start grows with the knowledge base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import TODAY

from knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
# What only other commands use: segmentation packages (the lexicon cache stands in), the importer, sqlite-utils
# (reads go to the connection), the reminders, the apps and their SDKs, asyncio and the pools.
HEAVY = ("jieba", "pypinyin", "pkg_resources", "knowledge.importer", "knowledge.documents", "knowledge.extract",
         "sqlite_utils", "reminders", "telegram", "aiohttp", "apscheduler", "dingtalk_stream", "lark_oapi", "aibot",
         "asyncio", "concurrent.futures", "importlib.resources", "bot.app", "handlers")


def test_a_cold_ask_loads_only_what_answering_needs(db_path: Path, tmp_path: Path) -> None:
    KnowledgeBase.open(str(db_path)).close()  # the first run seeds (and imports): not this one
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    script = ("import json, sys\nfrom bot.cli import main\n"
              f"code = main(['ask', '--json', '--today', '{TODAY}', '--config', {str(config)!r}, "
              "'碳减排支持工具什么时候出台，谁牵头？'])\n"
              f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\nsys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    answer, loaded = proc.stdout.splitlines()
    assert json.loads(answer)["confident"] and "人民银行" in json.loads(answer)["answer"]
    assert json.loads(loaded) == [], proc.stderr


def test_only_a_question_citing_a_document_reads_every_document(kb: KnowledgeBase, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    reads: list[int] = []
    every_document = kb.store.documents

    def counted() -> list:
        reads.append(1)
        return every_document()

    monkeypatch.setattr(kb.store, "documents", counted)
    assert kb.ask("能源领域有哪些任务", TODAY).hits  # a list: ranked by its documents' titles, read one by one
    assert reads == []
    assert kb.ask("非化石能源占能源消费比重要达到多少？", TODAY).confident
    assert reads == []
    answer = kb.ask("国发〔2021〕6号文里人民银行参与的工作", TODAY)
    assert answer.hits and reads == [1]
