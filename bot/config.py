"""Configuration: one TOML file loaded once into frozen dataclasses, checked at start.

Where it comes from: `--config FILE`, else `$POLICYBOT_CONFIG`, else `./config.toml` if present,
else built-in defaults. Unknown keys and wrong types stop the program with a message that says
how to fix them. The Telegram token may come from `$POLICYBOT_TELEGRAM_TOKEN`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # the reminders are loaded by the commands that send or show them, not by every start
    from reminders.calendar import WorkdayCalendar
    from reminders.planner import ReminderSettings


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to change."""


def default_database_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "policybot" / "policybot.db")


@dataclass(frozen=True)
class StorageConfig:
    path: str = field(default_factory=default_database_path)


@dataclass(frozen=True)
class KnowledgeConfig:
    seed_bundled: bool = True


@dataclass(frozen=True)
class AnswersConfig:
    timezone: str = "Asia/Shanghai"
    top_k: int = 5


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""
    base_file_url: str = ""
    admins: list = field(default_factory=list)
    max_import_bytes: int = 5 * 1024 * 1024
    import_timeout_seconds: int = 20


@dataclass(frozen=True)
class DingTalkConfig:
    """钉钉 Stream mode (an enterprise internal app with the robot capability)."""

    client_id: str = ""  # env POLICYBOT_DINGTALK_CLIENT_ID
    client_secret: str = ""  # env POLICYBOT_DINGTALK_CLIENT_SECRET
    robot_code: str = ""  # for pushes to groups; empty = client_id
    endpoint: str = "https://api.dingtalk.com"  # OpenAPI base; the gateway and tokens live under it
    admins: list = field(default_factory=list)  # staff ids
    sends_per_second: int = 20  # documented: 20 calls/s per app per API


@dataclass(frozen=True)
class FeishuConfig:
    """飞书 long connection (a 企业自建应用 with the bot capability)."""

    app_id: str = ""  # env POLICYBOT_FEISHU_APP_ID
    app_secret: str = ""  # env POLICYBOT_FEISHU_APP_SECRET
    domain: str = "https://open.feishu.cn"  # or https://open.larksuite.com, or a private deployment
    admins: list = field(default_factory=list)  # open_ids
    sends_per_second: int = 50  # documented: 50 messages/s per app
    sends_per_second_per_chat: int = 5  # documented: 5 messages/s per chat


@dataclass(frozen=True)
class WeComConfig:
    """企业微信 智能机器人 long connection."""

    bot_id: str = ""  # env POLICYBOT_WECOM_BOT_ID
    secret: str = ""  # env POLICYBOT_WECOM_SECRET
    ws_url: str = "wss://openws.work.weixin.qq.com"
    admins: list = field(default_factory=list)  # userids
    sends_per_second: int = 10  # not documented for the long connection: a conservative default
    sends_per_minute_per_chat: int = 20  # as WeCom's group robots


APP_SECRETS = {"dingtalk": ("client_id", "client_secret"), "feishu": ("app_id", "app_secret"),
               "wecom": ("bot_id", "secret")}


@dataclass(frozen=True)
class ConsoleConfig:
    admin: bool = True  # the person at the keyboard may use admin commands (changes logged as admin:console:<user>)


@dataclass(frozen=True)
class RemindersConfig:
    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    send_at: str = "09:00"
    lead_days: list = field(default_factory=lambda: [30, 7, 1, 0])
    overdue_notice: bool = True
    digest_weekday: str = "monday"  # "" for no weekly digest
    digest_days: int = 30
    change_notices: bool = True
    catch_up_days: int = 7
    retry_minutes: int = 10
    holidays: list = field(default_factory=list)  # "YYYY-MM-DD" days off chinese-calendar does not know
    workdays: list = field(default_factory=list)  # "YYYY-MM-DD" 调休 make-up workdays it does not know
    webhooks: list = field(default_factory=list)  # [[reminders.webhooks]] url, secret, filter

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def settings(self) -> ReminderSettings:
        from reminders.planner import ReminderSettings

        hour, minute = (int(x) for x in self.send_at.split(":"))
        weekday = WEEKDAYS.index(self.digest_weekday.lower()) if self.digest_weekday else None
        return ReminderSettings(send_at=time(hour, minute), lead_days=tuple(sorted(set(self.lead_days), reverse=True)),
                                overdue_notice=self.overdue_notice, digest_weekday=weekday,
                                digest_days=self.digest_days, change_notices=self.change_notices,
                                catch_up_days=self.catch_up_days)

    def calendar(self) -> WorkdayCalendar:
        from reminders.calendar import WorkdayCalendar

        return WorkdayCalendar(holidays=[date.fromisoformat(d) for d in self.holidays],
                               workdays=[date.fromisoformat(d) for d in self.workdays])


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    answers: AnswersConfig = field(default_factory=AnswersConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    dingtalk: DingTalkConfig = field(default_factory=DingTalkConfig)
    feishu: FeishuConfig = field(default_factory=FeishuConfig)
    wecom: WeComConfig = field(default_factory=WeComConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    source: str = "built-in defaults"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.answers.timezone)

    @property
    def telegram_token(self) -> str:
        return os.environ.get("POLICYBOT_TELEGRAM_TOKEN") or self.telegram.token

    @property
    def admin_ids(self) -> frozenset[int]:
        return frozenset(self.telegram.admins)

    def credential(self, app: str, key: str) -> str:
        """An app's credential: $POLICYBOT_<APP>_<KEY> if set, else the config file's."""
        return os.environ.get(f"POLICYBOT_{app.upper()}_{key.upper()}") or getattr(getattr(self, app), key)

    def app_on(self, app: str) -> bool:
        """An app is on when its credentials are set (Telegram: its token)."""
        if app == "telegram":
            return bool(self.telegram_token)
        return all(self.credential(app, key) for key in APP_SECRETS[app])


TYPE_NAMES = {str: "字符串", int: "整数", bool: "true 或 false", list: "列表"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Every number in the config, with its range: (table, key) -> (lowest, highest). A test keeps every
# int field of every table listed here.
RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("answers", "top_k"): (1, 100),
    ("telegram", "max_import_bytes"): (1024, 100 * 1024 * 1024),
    ("telegram", "import_timeout_seconds"): (1, 600),
    ("reminders", "digest_days"): (1, 366),
    ("reminders", "catch_up_days"): (0, 60),
    ("reminders", "retry_minutes"): (1, 1440),
    ("dingtalk", "sends_per_second"): (1, 1000),
    ("feishu", "sends_per_second"): (1, 1000),
    ("feishu", "sends_per_second_per_chat"): (1, 100),
    ("wecom", "sends_per_second"): (1, 1000),
    ("wecom", "sends_per_minute_per_chat"): (1, 6000),
}

_SECTIONS = {"storage": StorageConfig, "knowledge": KnowledgeConfig, "answers": AnswersConfig,
             "logging": LoggingConfig, "telegram": TelegramConfig, "console": ConsoleConfig,
             "dingtalk": DingTalkConfig, "feishu": FeishuConfig, "wecom": WeComConfig, "reminders": RemindersConfig}


def _section(name: str, cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}：[{name}] 须是一个表（table）")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}：[{name}] 里有不认识的键 {', '.join(unknown)}；"
                          f"可用的键：{', '.join(known)}（见 config.example.toml）")
    values = {}
    for key, value in raw.items():
        expected = type(getattr(cls(), key))
        if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
            raise ConfigError(f"{where}：[{name}] {key} 须是{TYPE_NAMES.get(expected, expected.__name__)}，现在是 {value!r}")
        values[key] = value
    return cls(**values)


def parse_config(data: dict, where: str = "config") -> Config:
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{where}：不认识的表 {', '.join(unknown)}；可用的表：{', '.join(_SECTIONS)}")
    sections = {name: _section(name, cls, data.get(name, {}), where) for name, cls in _SECTIONS.items()}
    config = Config(**sections, source=where)
    try:
        ZoneInfo(config.answers.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}：[answers] timezone {config.answers.timezone!r} 不是已知的时区"
                          "（请写 \"Asia/Shanghai\" 这样的名称）") from None
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in config.telegram.admins):
        raise ConfigError(f"{where}：[telegram] admins 须是 Telegram 用户 id（整数）的列表，"
                          "例如 admins = [123456789]")
    for key in ("base_url", "base_file_url"):
        url = getattr(config.telegram, key)
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}：[telegram] {key} 须以 http:// 或 https:// 开头")
    for table, key, schemes in (("dingtalk", "endpoint", ("https://", "http://")),
                                ("feishu", "domain", ("https://", "http://")),
                                ("wecom", "ws_url", ("wss://", "ws://"))):
        if not getattr(getattr(config, table), key).startswith(schemes):
            raise ConfigError(f"{where}：[{table}] {key} 须以 {' 或 '.join(schemes)} 开头")
    for table in APP_SECRETS:
        admins = getattr(config, table).admins
        if not all(isinstance(a, str) and a for a in admins):
            raise ConfigError(f"{where}：[{table}] admins 须是用户 id（字符串）的列表，例如 admins = [\"user123\"]")
    for (table, key), (low, high) in RANGES.items():
        value = getattr(getattr(config, table), key)
        if not low <= value <= high:
            raise ConfigError(f"{where}：[{table}] {key} 须在 {low} 到 {high} 之间，现在是 {value}")
    if config.logging.level.upper() not in LOG_LEVELS:
        raise ConfigError(f"{where}：[logging] level 须是 {', '.join(LOG_LEVELS)} 之一，"
                          f"现在是 {config.logging.level!r}")
    _check_reminders(config.reminders, where)
    return config


def _check_reminders(r: RemindersConfig, where: str) -> None:
    def fail(message: str) -> ConfigError:
        return ConfigError(f"{where}：[reminders] {message}")

    try:
        ZoneInfo(r.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"timezone {r.timezone!r} 不是已知的时区（请写 \"Asia/Shanghai\" 这样的名称）") from None
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", r.send_at):
        raise fail(f"send_at 须是 \"09:00\" 这样的时刻，现在是 {r.send_at!r}")
    if not r.lead_days or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 366
                                  for d in r.lead_days):
        raise fail("lead_days 须是 0 到 366 之间的整天数列表，例如 [30, 7, 1, 0]")
    if r.digest_weekday and r.digest_weekday.lower() not in WEEKDAYS:
        raise fail(f"digest_weekday 须是 {', '.join(WEEKDAYS)} 之一，或 \"\"（不发周报）")
    for key in ("holidays", "workdays"):
        for day in getattr(r, key):
            try:
                date.fromisoformat(day)
            except (TypeError, ValueError):
                raise fail(f"{key} 须是 \"2027-01-01\" 这样的日期，现在有 {day!r}") from None
    for hook in r.webhooks:
        if not isinstance(hook, dict) or set(hook) - {"url", "secret", "filter"} or not isinstance(hook.get("url"), str):
            raise fail("每个 [[reminders.webhooks]] 须有 url = \"…\"，可选 secret 和 filter")
        if not hook["url"].startswith(("https://", "http://")):
            raise fail(f"webhook url 须以 https:// 开头，现在是 {hook['url'][:60]!r}")


def load_config(path: str | None = None) -> Config:
    """The configuration from `path`, $POLICYBOT_CONFIG, ./config.toml, or the defaults."""
    chosen = path or os.environ.get("POLICYBOT_CONFIG")
    if not chosen and Path("config.toml").is_file():
        chosen = "config.toml"
    if not chosen:
        return Config()
    import tomllib  # (only when there is a file to read)

    file = Path(chosen).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {file}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}：不是有效的 TOML（{e}）") from None
    return parse_config(data, str(file))
