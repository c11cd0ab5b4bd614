"""Document numbers (文号): 国发〔2021〕6号 in a document's head, and the ways people cite one —
国发6号文, 国发2021年6号文, 国发[2021]6号. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from knowledge.lazyre import lazy_compile

# As printed: issuer, bracketed year, number (国发〔2021〕6号, 内政办发〔2022〕12号).
DOC_NUMBER = lazy_compile(r"[\u4e00-\u9fa5]{1,10}[〔\[［(（]\d{4}[〕\]］)）]\d{1,4}号")

# As cited: the issuer's characters, an optional year (bracketed or 2021年), the number; a bare
# "X6号" counts only when it reads like a document (…发/办/函/字 6号, or 6号文).
_CITED = re.compile(
    r"(?P<issuer>[\u4e00-\u9fa5]{0,10}?)(?P<gap>\s*)"
    r"(?:[〔\[［(（](?P<year>\d{4})[〕\]］)）]|(?P<year2>\d{4})年?)?\s*"
    r"(?P<number>\d{1,4})\s*号(?P<doc>文件|文)?"
)
_ISSUER_END = lazy_compile(r"[发办函字规令]$")


@dataclass(frozen=True)
class DocumentReference:
    text: str  # as written in the question
    issuer: str
    year: int | None
    number: int

    def cites(self, other: DocumentReference) -> bool:
        """Does this citation name the document numbered `other`? The issuers must agree at their
        end (国务院国发 ~ 国发, but not 国办发 ~ 国发); years only when both give one."""
        short, long = sorted((self.issuer, other.issuer), key=len)
        return (self.number == other.number and long.endswith(short)
                and (self.year is None or other.year is None or self.year == other.year))


def find_reference(text: str) -> DocumentReference | None:
    """The first document number cited in `text`, or None (3月6号 is a date, not a document)."""
    for m in _CITED.finditer(text):
        year = m["year"] or m["year2"]
        if not (m["year"] or m["doc"] or _ISSUER_END.search(m["issuer"])):
            continue
        if m["gap"] or len(m["issuer"]) == 1:  # 楼顶装光伏 36号文: the words before are no issuer
            start = m.start("gap") + len(m["gap"])
            return DocumentReference(text[start:m.end()], "", int(year) if year else None, int(m["number"]))
        return DocumentReference(m.group(0), m["issuer"], int(year) if year else None, int(m["number"]))
    return None


def cited_documents(reference: DocumentReference, numbers: Mapping[str, str]) -> tuple[str, ...]:
    """The ids of the documents (doc_id -> document number) that `reference` cites; when none does
    and what stands before the number reads like no issuer (楼顶光伏36号文), those of that number."""
    def citing(ref: DocumentReference) -> tuple[str, ...]:
        return tuple(doc_id for doc_id, number in numbers.items() if (printed := _printed(number)) and ref.cites(printed))

    cited = citing(reference)
    if cited or not reference.issuer or _ISSUER_END.search(reference.issuer):
        return cited
    return citing(DocumentReference(reference.text, "", reference.year, reference.number))


@lru_cache(maxsize=4096)
def _printed(number: str) -> DocumentReference | None:
    """A document's own number, parsed once."""
    return find_reference(number) if number else None
