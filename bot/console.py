"""`policybot chat`: a console conversation with the bot over the local knowledge base."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from knowledge.answer import LIST_PAGE, Answer, render_list, render_text
from knowledge.base import KnowledgeBase
from knowledge.intents import follow_up

PROMPT = "你> "
BANNER = "PolicyBot 控制台（输入问题后回车；“更多”翻页，“退出”结束）"
QUIT_WORDS = {"退出", "exit", "quit", "q", "再见"}
MORE_WORDS = {"更多", "下一页", "more", "next"}


def run_console(kb: KnowledgeBase, *, today: date | None, tz: ZoneInfo,
                stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    print(BANNER, file=stdout)
    print(f"知识库：{kb.store.count_items()} 条，来自 {len(kb.store.documents())} 份文件。", file=stdout)
    last: Answer | None = None
    previous = ""
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        if text.lower() in MORE_WORDS:
            if last and last.mode == "list" and (last.page + 1) * LIST_PAGE < len(last.hits):
                last.page += 1
                print(render_list(last) + "\n", file=stdout)
            else:
                print("没有更多了。\n", file=stdout)
            continue
        question = text[:2000]
        rewritten = follow_up(previous, question)
        last = kb.ask(rewritten or question, today or datetime.now(tz).date())
        previous = rewritten or question
        note = f"（按“{rewritten}”回答）\n" if rewritten else ""
        print("机器人> " + note + render_text(last) + "\n", file=stdout)
        stdout.flush()
    print("再见！", file=stdout)
    return 0
