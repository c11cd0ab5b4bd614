"""Plain data types of the reminder side: subscriptions, their filters, and what one slot sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from knowledge.departments import lists_department
from knowledge.models import Item
from knowledge.normalize import normalize
from knowledge.regions import short_name

TELEGRAM = "telegram"
WEBHOOK_CHANNELS = ("wecom", "dingtalk", "feishu")
CHANNEL_NAMES = {TELEGRAM: "Telegram", "wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}


@dataclass(frozen=True)
class SubscriptionFilter:
    """Which items a subscription follows; every part given must match (empty = all deadlines).

    A department named with its level (国家能源局, 自治区能源局) matches exactly that one; a bare name or an
    alias (能源局, 发改委) matches that department at any level, like questions do."""

    department: str = ""  # as the user wrote it, for display
    exact: tuple[str, ...] = ()
    cores: tuple[str, ...] = ()
    region: str = ""
    keyword: str = ""  # as the user wrote it; matched after normalisation

    def matches(self, item: Item) -> bool:
        if (self.exact or self.cores) and not lists_department(item.departments.all(), self.exact, self.cores):
            return False
        if self.region and item.region != self.region:
            return False
        if self.keyword:
            haystack = normalize(f"{item.text} {item.section} {item.clause}")
            if normalize(self.keyword) not in haystack:
                return False
        return True

    def describe(self) -> str:
        parts = []
        if self.department:
            parts.append(f"部门={self.department}")
        if self.region:
            parts.append(f"地区={short_name(self.region)}")
        if self.keyword:
            parts.append(f"关键词={self.keyword}")
        return "，".join(parts) or "全部截止事项"

    def to_json(self) -> str:
        return json.dumps({"department": self.department, "exact": list(self.exact), "cores": list(self.cores),
                           "region": self.region, "keyword": self.keyword}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SubscriptionFilter:
        d = json.loads(text or "{}")
        return cls(department=d.get("department", ""), exact=tuple(d.get("exact", ())),
                   cores=tuple(d.get("cores", ())), region=d.get("region", ""), keyword=d.get("keyword", ""))


@dataclass(frozen=True)
class Subscription:
    id: int
    chat_id: int | str | None  # the chat that made it (and receives it, unless it has a webhook)
    channel: str  # the chat's app (telegram, …), or the robot's platform (wecom | dingtalk | feishu)
    filter: SubscriptionFilter
    created_at: datetime  # aware
    created_by: str = ""
    webhook_url: str = ""
    secret: str = ""
    active: bool = True
    disabled_reason: str = ""

    @property
    def to_robot(self) -> bool:
        """Pushed to a group robot's webhook rather than to the chat that made it."""
        return bool(self.webhook_url)

    @property
    def destination(self) -> str:
        """Where messages go; one message per destination per slot."""
        return f"{self.channel}:{self.webhook_url}" if self.to_robot else f"{self.channel}:{self.chat_id}"

    def describe(self) -> str:
        where = f"（推送到{CHANNEL_NAMES.get(self.channel, self.channel)}机器人）" if self.to_robot else ""
        return f"#{self.id} {self.filter.describe()}{where}"


@dataclass(frozen=True)
class Notice:
    """One entry of a reminder message, recorded under its unique key.

    kind: lead (N days before a deadline) | overdue | digest (the week ahead) | moved (a deadline
    changed) | new (a new item matches)."""

    key: str
    kind: str
    subscription_id: int
    item: Item | None = None
    due: date | None = None
    lead_days: int = 0
    previous_due: date | None = None
    items: tuple[Item, ...] = ()  # a digest's items
    resent: bool = False  # its earlier sending was never confirmed (see reminders/service.py)


@dataclass
class Delivery:
    """Everything one destination gets in one slot: one message."""

    subscription: Subscription  # the destination's first subscription: channel, chat, webhook
    notices: list[Notice] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [n.key for n in self.notices]
