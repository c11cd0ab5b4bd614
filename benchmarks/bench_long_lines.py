"""Cost of target extraction and import on long unpunctuated lines and many tiny paragraphs.

Run: .venv/bin/python benchmarks/bench_long_lines.py — prints seconds per input size; linear cost
means doubling the size roughly doubles the time.
"""

from __future__ import annotations

import contextlib
import io
import time

from knowledge.documents import DocumentError
from knowledge.formats import file_text
from knowledge.importer import prepare
from knowledge.targets import find_targets


def timed(fn, *args) -> float:
    start = time.perf_counter()
    with contextlib.suppress(DocumentError):  # refused past a cap: the time to refuse is what counts
        fn(*args)
    return time.perf_counter() - start


def docx_of_tiny_paragraphs(n: int) -> bytes:
    import copy

    import docx

    document = docx.Document()
    paragraph = document.add_paragraph("完成1%")._p
    for _ in range(n - 1):  # copies of one paragraph's XML: quick to build
        document.element.body.append(copy.deepcopy(paragraph))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# Unpunctuated lines: comparators with no values, no comparator at all, a verb-first start.
LINES = {"提高…": lambda n: "1" + "提高" * (n // 2), "推进工作…": lambda n: "1" + "推进工作" * (n // 4),
         "完成工作…": lambda n: "完成" + "工作" * (n // 2) + "1"}


def parse_docx(data: bytes) -> None:
    prepare(file_text(data, "tiny.docx"), "tiny.docx")


def main() -> None:
    for chars in (4_000, 8_000, 16_000, 32_000):
        for name, make in LINES.items():
            print(f"find_targets, {name} line of {chars:>6} chars: {timed(find_targets, make(chars)):6.3f} s")
        doc = "关于推进工作的通知\n一、" + LINES["提高…"](chars) + "。\n国务院\n2026年3月1日\n"
        print(f"prepare, a document of one {chars:>6}-char line: {timed(prepare, doc, 'long.txt'):6.3f} s")
    for n in (5_000, 19_000, 260_000):
        data = docx_of_tiny_paragraphs(n)
        print(f"file_text+prepare, .docx of {n} tiny paragraphs ({len(data) // 1024} KB): "
              f"{timed(parse_docx, data):6.3f} s")


if __name__ == "__main__":
    main()
