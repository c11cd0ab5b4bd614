"""/start, /help, /deadlines, /dept, /search: browsing the knowledge base without a question."""

from __future__ import annotations

from handlers import texts
from handlers.ask import list_or_answer
from handlers.commands import help_lines
from handlers.messages import Reply, say
from handlers.turn import Turn
from knowledge.answer import Line

DEFAULT_DAYS = 30
MAX_DAYS = 3650


async def on_start(turn: Turn) -> list[Reply]:
    return [say(texts.WELCOME)]


async def on_help(turn: Turn) -> list[Reply]:
    return [say("\n".join(help_lines(turn.is_admin)))]


async def on_deadlines(turn: Turn) -> list[Reply]:
    args = turn.args.split()
    days = DEFAULT_DAYS
    if args:
        if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_DAYS:
            return [say(texts.DEADLINES_USAGE)]
        days = int(args[0])
    svc = turn.services
    answer = await svc.worker.run(svc.kb.upcoming, svc.today(), days)
    if not answer.hits:
        return [say(texts.NO_DEADLINES.format(days=days))]
    return [list_or_answer(turn, answer, [Line(texts.DEADLINES_TITLE.format(days=days, today=svc.today()))])]


async def on_dept(turn: Turn) -> list[Reply]:
    name = turn.args[:50]
    if not name:
        return [say(texts.DEPT_USAGE)]
    svc = turn.services
    answer = await svc.worker.run(svc.kb.department_items, name, svc.today())
    if answer is None or not answer.hits:
        examples = "、".join(await svc.worker.run(svc.kb.department_examples))
        return [say(texts.UNKNOWN_DEPARTMENT.format(name=name, examples=examples))]
    return [list_or_answer(turn, answer)]


async def on_search(turn: Turn) -> list[Reply]:
    if not turn.args:
        return [say(texts.SEARCH_USAGE)]
    svc = turn.services
    answer = await svc.worker.run(svc.kb.search_items, turn.args[: texts.MAX_QUESTION_CHARS], svc.today())
    return [list_or_answer(turn, answer)]
