"""Start-up and CLI failures as one line that says what to do (the traceback only with --debug)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

DEBUG_HINT = "（加 --debug 查看详情）"


def explain(exc: BaseException, database: str) -> str:
    """One line for an exception that stopped a command; `database` is the configured database path."""
    path = Path(database).expanduser()
    if isinstance(exc, sqlite3.Error):
        return _database(exc, path)
    if isinstance(exc, PermissionError):
        return f"没有权限：{exc.filename or path}（检查文件和目录的权限，或在 [storage] path 换一个可写的位置）"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename} 是一个目录，这里需要文件名"
    if isinstance(exc, OSError):
        where = f"：{exc.filename}" if exc.filename else ""
        return f"系统错误{where}：{exc.strerror or exc}{DEBUG_HINT}"
    return f"出错了：{type(exc).__name__}: {str(exc)[:300]}{DEBUG_HINT}"


def _database(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc)
    if path.is_dir():
        return (f"数据库路径 {path} 是一个目录：[storage] path 须是文件名，例如 {path / 'policybot.db'}")
    if "not a database" in text or "malformed" in text:
        return (f"数据库文件 {path} 已损坏或不是 SQLite 数据库（{text}）：从备份恢复，"
                "或把它移走后重新运行（将用内置文件重建知识库）")
    if "readonly" in text or "unable to open" in text or "disk I/O" in text:
        return f"无法读写数据库 {path}（{text}）：检查该文件和所在目录的权限，或在 [storage] path 换一个可写的位置"
    if "locked" in text or "busy" in text:
        return f"数据库 {path} 正被其他进程占用（{text}）：稍后再试"
    return f"数据库错误（{path}）：{text}{DEBUG_HINT}"
