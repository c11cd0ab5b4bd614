"""Shared fixtures: a seeded knowledge base built once per session and copied for each test."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.seed import seed
from knowledge.store import KnowledgeStore

TODAY = date(2026, 11, 21)


@pytest.fixture(scope="session")
def seeded_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    store = KnowledgeStore(path)
    seed(store)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def db_path(seeded_db_file: Path, tmp_path: Path) -> Path:
    path = tmp_path / "kb.db"
    shutil.copy(seeded_db_file, path)
    return path


@pytest.fixture
def kb(db_path: Path):
    base = KnowledgeBase.open(str(db_path))
    yield base
    base.close()


@pytest.fixture
def store(tmp_path: Path):
    s = KnowledgeStore(tmp_path / "empty.db")
    yield s
    s.close()


def items_containing(kb: KnowledgeBase, fragment: str):
    return [i for i in kb.store.all_items() if fragment in i.text]


@pytest.fixture
async def fake():
    """The fake Telegram Bot API on loopback."""
    from fake_telegram import FakeTelegram

    server = FakeTelegram()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def bot(fake, db_path):
    """The real Application polling the fake Bot API."""
    from bot_harness import running_bot

    async with running_bot(fake, db_path) as app:
        yield app
