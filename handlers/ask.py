"""Questions (private messages, /ask, addressed group messages), "更多", and the item and page choices."""

from __future__ import annotations

from handlers import texts
from handlers.callbacks import Callback
from handlers.messages import Reply, say
from handlers.replies import answer_reply, item_reply
from handlers.turn import Turn
from knowledge.answer import LIST_PAGE, Answer, Line
from knowledge.dialogue import converse

MORE_WORDS = {"更多", "下一页", "more", "next"}


async def on_ask_command(turn: Turn) -> list[Reply]:
    if not turn.args:
        return [say(texts.ASK_USAGE)]
    return await on_question(turn, turn.args)


async def on_question(turn: Turn, question: str) -> list[Reply]:
    """Answer in the asker's conversation: a follow-up (谁负责？ 那内蒙古呢？) uses the last question and answer.
    Questions are logged so that /stats can show what went unanswered."""
    svc = turn.services
    question = question.strip()
    prefix: list[Line] = []
    if len(question) > texts.MAX_QUESTION_CHARS:
        question = question[: texts.MAX_QUESTION_CHARS]
        prefix.append(Line(texts.TOO_LONG_NOTE.format(n=texts.MAX_QUESTION_CHARS)))
    answer, rewritten = await svc.worker.run(converse, svc.kb, turn.state.context, question, svc.today())
    asked = rewritten or question
    if answer.mode not in ("greeting", "help"):
        top = answer.hits[0].item.id if answer.hits else None
        await svc.worker.write(svc.kb.store.log_question, asked, turn.incoming.chat_kind, answer.confident, top)
    if rewritten:
        prefix.append(Line(texts.REWRITTEN.format(question=rewritten)))
    return [list_or_answer(turn, answer, prefix)]


def list_or_answer(turn: Turn, answer: Answer, prefix: list[Line] | None = None) -> Reply:
    """The answer's reply; a list is remembered (for this person's "更多" and the chat's page choices)."""
    list_id = ""
    if answer.mode == "list" and answer.hits:
        list_id = turn.services.memory.remember_list(turn.incoming.person, answer)
    return answer_reply(answer, list_id, prefix)


async def on_more(turn: Turn) -> list[Reply]:
    """The next page of the newest list this person was given."""
    found = turn.services.memory.last_list(turn.incoming.person)
    if found is None:
        return [say(texts.NO_LIST)]
    list_id, answer = found
    if (answer.page + 1) * LIST_PAGE >= len(answer.hits):
        return [say(texts.NO_MORE)]
    answer.page += 1
    return [answer_reply(answer, list_id)]


async def on_item_choice(turn: Turn, callback: Callback) -> list[Reply]:
    svc = turn.services
    found = await svc.worker.run(svc.kb.item_with_document, callback.item_id)
    if found is None:
        return [turn.refusal(texts.ITEM_GONE)]
    item, doc = found
    return [item_reply(item, doc, svc.today())]


async def on_page_choice(turn: Turn, callback: Callback) -> list[Reply]:
    answer = turn.services.memory.chat_list((turn.incoming.app, turn.incoming.chat_id), callback.list_id)
    if answer is None or callback.page * LIST_PAGE >= max(len(answer.hits), 1):
        return [turn.refusal(texts.STALE_BUTTON)]
    answer.page = callback.page
    reply = answer_reply(answer, callback.list_id)
    reply.replace = True
    return [reply]
