"""Regular expressions compiled at their first use instead of at import.

Compiling is most of what importing the knowledge modules costs (a CJK character range alone is a
millisecond), and a question uses few of the patterns that reading documents needs. `lazy_compile`
gives an object used as the compiled pattern is; its first use compiles it and puts the pattern's
own methods on the object, so later calls cost what the pattern's do.
"""

from __future__ import annotations

import re
from typing import Any, cast

_ATTRIBUTES = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner",
               "pattern", "flags", "groups", "groupindex")


class _LazyPattern:
    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only until the first use has set the attributes
        if name.startswith("_"):  # (dunders, and `_source` itself when it is not set yet)
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attribute in _ATTRIBUTES:
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_compile({self._source[0]!r}, {self._source[1]!r})"


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, done when the pattern is first used."""
    return cast(re.Pattern[str], _LazyPattern(pattern, flags))
