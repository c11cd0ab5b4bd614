"""One message being handled: who sent it where, the services, and the words after its command."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import texts
from handlers.messages import Incoming, Reply, say
from handlers.services import Services
from handlers.state import PersonState


@dataclass
class Turn:
    services: Services
    incoming: Incoming
    args: str = ""  # the text after the command, stripped

    @property
    def state(self) -> PersonState:
        return self.services.memory.person(self.incoming.person)

    @property
    def is_admin(self) -> bool:
        return self.services.is_admin(self.incoming.app, self.incoming.sender_id)

    @property
    def actor(self) -> str:
        """Who made a change, in the change log (Telegram's form predates the other apps)."""
        app, sender = self.incoming.app, self.incoming.sender_id
        return f"admin:{sender}" if app == "telegram" else f"admin:{app}:{sender}"

    def refusal(self, text: str) -> Reply:
        """A refusal: a pop-up for a pressed choice, else a message."""
        reply = say(text)
        reply.alert = self.incoming.choice is not None
        return reply

    def not_admin(self) -> list[Reply] | None:
        """None for a bot admin; else the polite refusal to send."""
        return None if self.is_admin else [self.refusal(texts.NOT_ADMIN)]
