"""Configuration: one TOML file loaded once into frozen dataclasses, checked at start.

Where it comes from: `--config FILE`, else `$POLICYBOT_CONFIG`, else `./config.toml` if present,
else built-in defaults. Unknown keys and wrong types stop the program with a message that says
how to fix them. The Telegram token may come from `$POLICYBOT_TELEGRAM_TOKEN`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    answers: AnswersConfig = field(default_factory=AnswersConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
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


_SECTIONS = {"storage": StorageConfig, "knowledge": KnowledgeConfig, "answers": AnswersConfig,
             "logging": LoggingConfig, "telegram": TelegramConfig}


def _section(name: str, cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in [{name}]: {', '.join(unknown)}; "
                          f"known keys: {', '.join(known)} (see config.example.toml)")
    values = {}
    for key, value in raw.items():
        expected = type(getattr(cls(), key))
        if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
            raise ConfigError(f"{where}: [{name}] {key} must be a {expected.__name__}, got {value!r}")
        values[key] = value
    return cls(**values)


def parse_config(data: dict, where: str = "config") -> Config:
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown table(s): {', '.join(unknown)}; known: {', '.join(_SECTIONS)}")
    sections = {name: _section(name, cls, data.get(name, {}), where) for name, cls in _SECTIONS.items()}
    config = Config(**sections, source=where)
    try:
        ZoneInfo(config.answers.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: [answers] timezone {config.answers.timezone!r} is not a known time zone "
                          "(use a name like \"Asia/Shanghai\")") from None
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in config.telegram.admins):
        raise ConfigError(f"{where}: [telegram] admins must be a list of Telegram user ids (integers), "
                          "e.g. admins = [123456789]")
    for key in ("base_url", "base_file_url"):
        url = getattr(config.telegram, key)
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: [telegram] {key} must start with http:// or https://")
    if config.answers.top_k < 1:
        raise ConfigError(f"{where}: [answers] top_k must be at least 1")
    return config


def load_config(path: str | None = None) -> Config:
    """The configuration from `path`, $POLICYBOT_CONFIG, ./config.toml, or the defaults."""
    chosen = path or os.environ.get("POLICYBOT_CONFIG")
    if not chosen and Path("config.toml").is_file():
        chosen = "config.toml"
    if not chosen:
        return Config()
    file = Path(chosen).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {file} not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}") from None
    return parse_config(data, str(file))
