"""`policybot chat`: the console adapter. A conversation with the bot over the local knowledge base,
with every command an ordinary user has; choices are numbered lines answered with their number, and
files (/export, /ics) are saved in the current folder. Admin commands act as the local operator."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.services import CONSOLE, close_services, console_user, open_services, start_upkeep
from bot.text_choices import NumberedChoices, numbered_lines
from handlers.core import Conversation, split_command
from handlers.messages import PRIVATE, Choice, Incoming, IncomingFile, OutFile, Reply

PROMPT = "你> "
BANNER = "PolicyBot 控制台（输入问题后回车；/help 查看命令；“更多”翻页；输入选项前的数字选择；“退出”结束）"
QUIT_WORDS = {"退出", "exit", "quit", "q", "再见"}
MAX_LINE = 2000


def render(replies: list[Reply], folder: Path) -> tuple[str, list[Choice]]:
    """Plain text of the replies, with their choices numbered from 1; files are saved in `folder`."""
    out: list[str] = []
    for reply in replies:
        if reply.lines:
            out.append(reply.text)
        if reply.file is not None:
            out.append(f"已保存文件：{save(reply.file, folder)}" + (f"（{reply.file.caption}）" if reply.file.caption else ""))
    lines, choices = numbered_lines(replies)
    return "\n".join(out + [f"  {line}" for line in lines]), choices


def save(file: OutFile, folder: Path) -> Path:
    """Write the file without overwriting: name.ext, name-2.ext, …"""
    path = folder / Path(file.name).name
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{Path(file.name).stem}-{n}{Path(file.name).suffix}"
    path.write_bytes(file.data)
    return path


def local_file(text: str) -> IncomingFile | None:
    """`/import PATH`: the console reads a local file as if it had been sent with the command."""
    command = split_command(text)
    if command is None or command[0] != "import" or not command[1]:
        return None
    path = Path(command[1]).expanduser()
    if not path.is_file():
        return None

    async def fetch() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return IncomingFile(path.name, path.stat().st_size, fetch)


def run_console(config: Config, *, today: date | None, stdin: TextIO | None = None,
                stdout: TextIO | None = None, folder: Path | None = None) -> int:
    return asyncio.run(converse(config, today, stdin or sys.stdin, stdout or sys.stdout, folder or Path.cwd()))


async def converse(config: Config, today: date | None, stdin: TextIO, stdout: TextIO, folder: Path) -> int:
    services = await open_services(config, today=today)
    start_upkeep(services)
    try:
        conversation = Conversation(services)
        interactive = stdin.isatty()
        items = await services.worker.run(services.kb.store.count_items)
        documents = await services.worker.run(services.kb.store.documents)
        print(BANNER, file=stdout)
        print(f"知识库：{items} 条，来自 {len(documents)} 份文件。", file=stdout)
        user = console_user()
        shown = NumberedChoices()
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            text = line.strip()[:MAX_LINE]
            if not text:
                continue
            if text.lower() in QUIT_WORDS:
                break
            chosen = shown.payload(user, text)
            incoming = Incoming(app=CONSOLE, chat_id="local", chat_kind=PRIVATE, sender_id=user,
                                text="" if chosen else text, addressed=True, choice=chosen, file=local_file(text))

            async def send(replies: list[Reply]) -> None:
                body, choices = render(replies, folder)
                shown.remember(user, choices)
                print("机器人> " + body + "\n", file=stdout)
                stdout.flush()

            await conversation.handle(incoming, send)
    finally:
        await close_services(services)
    print("再见！", file=stdout)
    return 0
