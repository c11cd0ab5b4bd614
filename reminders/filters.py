"""`/subscribe` arguments -> what to follow and where to send it. Pure: names in, a request or an error out.

  /subscribe                               every deadline
  /subscribe 部门=发改委 地区=内蒙古        that department (alias-aware, any level) in that region
  /subscribe 光伏                           items mentioning a keyword
  /subscribe webhook=<robot URL> secret=…  push to a WeCom / DingTalk / Feishu robot instead (bot admins)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.departments import split_department_query
from knowledge.normalize import normalize
from knowledge.regions import canonical_region
from reminders.channels import detect_channel
from reminders.models import TELEGRAM, SubscriptionFilter

_PART = re.compile(r"^(?P<key>[^=＝:：\s]+)[=＝:：](?P<value>.*)$")
KEYS = {"部门": "department", "department": "department", "dept": "department",
        "地区": "region", "region": "region", "省份": "region",
        "关键词": "keyword", "keyword": "keyword",
        "webhook": "webhook", "secret": "secret", "密钥": "secret"}
MAX_ARGUMENTS = 400


class FilterError(ValueError):
    """The arguments can't be used; the message says why, for the user."""


@dataclass(frozen=True)
class SubscribeRequest:
    filter: SubscriptionFilter
    channel: str = TELEGRAM
    webhook_url: str = ""
    secret: str = ""


def parse_subscribe(text: str, known_departments: dict[str, str]) -> SubscribeRequest:
    """`known_departments` maps normalised department names and aliases to their core (as in questions)."""
    if len(text) > MAX_ARGUMENTS:
        raise FilterError(f"参数太长（{len(text)} 字），请精简后再试")
    values: dict[str, str] = {}
    words: list[str] = []
    for part in text.split():
        m = _PART.match(part)
        if m is None or (m["key"].lower() not in KEYS and not m["key"].lower().startswith("http")):
            words.append(part)
            continue
        if m["key"].lower().startswith("http"):  # a bare URL is a keyword only by mistake
            raise FilterError("推送到机器人请写成 webhook=<网址>")
        key = KEYS[m["key"].lower()]
        if not m["value"]:
            raise FilterError(f"“{m['key']}=”后面缺少内容")
        if key in values:
            raise FilterError(f"“{m['key']}”只能写一次")
        values[key] = m["value"]
    if words:
        if "keyword" in values:
            raise FilterError("关键词只能写一个")
        values["keyword"] = " ".join(words)
    return SubscribeRequest(
        filter=SubscriptionFilter(department=values.get("department", ""),
                                  **_department(values.get("department", ""), known_departments),
                                  region=_region(values.get("region", "")), keyword=_keyword(values.get("keyword", ""))),
        **_webhook(values.get("webhook", ""), values.get("secret", "")),
    )


def _department(name: str, known: dict[str, str]) -> dict:
    if not name:
        return {}
    norm = normalize(name)
    matches = sorted((n for n in known if n in norm), key=len, reverse=True)
    if not matches or len(matches[0]) < len(norm) - 1:
        raise FilterError(f"不认识部门“{name[:20]}”")
    exact, cores = split_department_query([matches[0]], known)
    return {"exact": tuple(exact), "cores": tuple(cores)}


def _region(name: str) -> str:
    if not name:
        return ""
    region = canonical_region(name)
    if region is None:
        raise FilterError(f"不认识地区“{name[:20]}”，请写省级地区名，如 内蒙古、浙江")
    return region


def _keyword(word: str) -> str:
    word = word.strip()
    if word and len(normalize(word)) < 2:
        raise FilterError("关键词至少两个字")
    if len(word) > 30:
        raise FilterError("关键词太长（最多 30 字）")
    return word


def _webhook(url: str, secret: str) -> dict:
    if not url:
        if secret:
            raise FilterError("secret 只用于 webhook 订阅")
        return {}
    if not url.startswith(("https://", "http://")):
        raise FilterError("webhook 网址须以 https:// 开头")
    channel = detect_channel(url)
    if channel is None:
        raise FilterError("webhook 须是企业微信、钉钉或飞书群机器人的网址")
    return {"channel": channel, "webhook_url": url, "secret": secret}
