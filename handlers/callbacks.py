"""The payloads of choices (buttons), made here and checked on the way back.

Payloads are ≤ 64 bytes (Telegram's callback-data limit):
  it:<item id>              show one item in full
  pg:<list id>:<page>       another page of a list answer
  im:<token>:y|n            confirm or cancel a previewed import (admins)
  mk:<question id>          turn an unanswered question into an item (admins)
  us:<subscription id>      unsubscribe (those who manage the chat)
  sp:<page>                 another page of the chat's subscriptions
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAYLOAD = re.compile(
    r"^(?:it:(?P<item>\d{1,9})|pg:(?P<list>[0-9a-f]{6}):(?P<page>\d{1,4})"
    r"|im:(?P<token>[0-9a-f]{6}):(?P<choice>[yn])|mk:(?P<question>\d{1,9})|us:(?P<sub>\d{1,9})|sp:(?P<subpage>\d{1,3}))$"
)


@dataclass(frozen=True)
class Callback:
    kind: str  # item | page | import | make_item | unsubscribe | subscriptions
    item_id: int = 0
    list_id: str = ""
    page: int = 0
    token: str = ""
    confirm: bool = False
    question_id: int = 0


def parse_callback(data: str | None) -> Callback | None:
    """The choice's meaning, or None for data this bot never made (forged or from an old version)."""
    m = _PAYLOAD.match(data or "")
    if not m:
        return None
    if m["item"]:
        return Callback("item", item_id=int(m["item"]))
    if m["token"]:
        return Callback("import", token=m["token"], confirm=m["choice"] == "y")
    if m["sub"]:
        return Callback("unsubscribe", item_id=int(m["sub"]))
    if m["subpage"]:
        return Callback("subscriptions", page=int(m["subpage"]))
    if m["question"]:
        return Callback("make_item", question_id=int(m["question"]))
    return Callback("page", list_id=m["list"], page=int(m["page"]))


def item_payload(item_id: int) -> str:
    return f"it:{item_id}"


def page_payload(list_id: str, page: int) -> str:
    return f"pg:{list_id}:{page}"


def import_payload(token: str, confirm: bool) -> str:
    return f"im:{token}:{'y' if confirm else 'n'}"


def make_item_payload(question_id: int) -> str:
    return f"mk:{question_id}"


def unsubscribe_payload(sub_id: int) -> str:
    return f"us:{sub_id}"


def subscriptions_payload(page: int) -> str:
    return f"sp:{page}"
