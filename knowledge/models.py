"""Plain data types shared by ingestion, storage and answering."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date


@dataclass(frozen=True)
class Deadline:
    """A time phrase as written in the document, with the dates it stands for.

    `due` is the day the work must be done by (the last day of a window); `start` is set for
    periods such as "十四五"时期 and for ongoing work; all dates stay None when the phrase names no
    resolvable date (a relative limit like 淘汰时限不超过3年, or a month in an undated document).
    """

    text: str
    due: date | None = None
    start: date | None = None
    ongoing: bool = False

    @property
    def end(self) -> date | None:
        return self.due

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "due": _iso(self.due),
            "start": _iso(self.start),
            "end": _iso(self.due),
            "ongoing": self.ongoing,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Deadline:
        return cls(
            text=d["text"],
            due=_date(d.get("due")),
            start=_date(d.get("start")),
            ongoing=bool(d.get("ongoing")),
        )


@dataclass(frozen=True)
class Target:
    """One quantitative target: 煤炭消费比重 降至 75 % 以下 (2025)."""

    metric: str
    comparator: str
    value: str
    unit: str = ""
    qualifier: str = ""
    year: int | None = None
    baseline: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Target:
        return cls(**{k: d.get(k, "") for k in ("metric", "comparator", "value", "unit", "qualifier", "baseline")},
                   year=d.get("year"))

    def describe(self) -> str:
        return f"{self.metric}{self.comparator}{self.value}{self.unit}{self.qualifier}"


@dataclass(frozen=True)
class Departments:
    """Who does the work, by the role the text gives them: `lead` only where it says 牵头 (or
    牵头单位, or that the first named leads), `support` for 配合 and the others after a stated lead,
    `responsible` for every department named with no lead stated (…等按职责分工负责), in order."""

    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    responsible: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.lead or self.support or self.responsible)

    def all(self) -> tuple[str, ...]:
        return self.lead + self.responsible + self.support

    def primary(self) -> tuple[str, ...]:
        """Those who answer for the work: the lead, else every responsible department."""
        return self.lead + self.responsible


@dataclass
class Item:
    """One task, target or statement: an unrewritten span of a document plus its parsed parts."""

    text: str
    kind: str = "statement"  # task | target | statement | intro (a news opening: no task, no list entry)
    section: str = ""
    region: str = "国家"
    deadlines: list[Deadline] = field(default_factory=list)
    departments: Departments = field(default_factory=Departments)
    targets: list[Target] = field(default_factory=list)
    clause: str = ""  # the responsibility/deadline clause that governs the item, verbatim
    doc_id: str = ""
    seq: int = 0
    id: int | None = None
    status: str = "active"  # active | deleted | retired
    progress: str = ""  # "" | done | postponed (set by admins)
    edited: bool = False

    @property
    def deadline(self) -> Deadline | None:
        return self.deadlines[0] if self.deadlines else None


@dataclass
class Document:
    doc_id: str
    source: str
    title: str
    issuer: str = ""
    doc_number: str = ""
    date: date | None = None
    region: str = "国家"
    url: str = ""
    fingerprint: str = ""

    def to_source_dict(self, section: str = "") -> dict:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "issuer": self.issuer,
            "doc_number": self.doc_number,
            "date": _iso(self.date),
            "url": self.url,
            "section": section,
        }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _date(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None
