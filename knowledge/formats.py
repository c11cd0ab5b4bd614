"""File bytes to document text: plain text, Markdown and HTML as they are; .docx and .pdf extracted."""

from __future__ import annotations

import io
from pathlib import PurePath

from knowledge.documents import DocumentError, decode

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ""}
BINARY_SUFFIXES = {".docx", ".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | BINARY_SUFFIXES
MAX_FILE_BYTES = 5 * 1024 * 1024
# More lines (non-empty .docx paragraphs, lines of text) than any policy document has: refused
# before extraction, so a small file of countless tiny paragraphs never turns into a flood of items.
MAX_LINES = 10_000


def file_text(data: bytes, filename: str) -> str:
    """The text of a document file, or a DocumentError that says why it cannot be read."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"不支持的文件类型 {suffix}（支持 .txt .md .html .docx .pdf）")
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(f"文件太大（{len(data) // 1024} KB），上限 {MAX_FILE_BYTES // 1024 // 1024} MB")
    if not data.strip():
        raise DocumentError("文件是空的")
    if suffix == ".docx":
        return _docx_text(data)
    if suffix == ".pdf":
        return _pdf_text(data)
    return decode(data)


def _docx_text(data: bytes) -> str:
    import docx  # python-docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # untrusted bytes: the parser's own errors vary (BadZipFile, KeyError, lxml…)
        raise DocumentError(f"无法读取这个 Word 文件（{type(e).__name__}）") from None
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn

    # The paragraphs' XML read directly, each style looked up once: python-docx's `paragraph.style`
    # scans every style and `paragraph.text` runs XPath, per paragraph (minutes for many paragraphs).
    kinds = {s.style_id: (s.name or "").lower() for s in document.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_kind = (default.name or "").lower() if default is not None else ""
    pieces = {qn("w:t"): None, qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n"}
    style_of = f"{qn('w:pPr')}/{qn('w:pStyle')}"
    lines: list[str] = []
    for p in document.element.body.iterchildren(qn("w:p")):
        text = "".join((e.text or "") if (piece := pieces[e.tag]) is None else piece
                       for e in p.iter(*pieces)).strip()
        if not text:
            continue
        if len(lines) >= MAX_LINES:
            raise too_many_lines()
        style_id = p.find(style_of)
        style = kinds.get(style_id.get(qn("w:val")), default_kind) if style_id is not None else default_kind
        lines.append(("# " + text) if style.startswith(("heading", "title", "标题")) else text)
    return "\n".join(lines)


def too_many_lines() -> DocumentError:
    return DocumentError(f"文档的段落太多（超过 {MAX_LINES} 段），不像一份政策文件，未导入")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as e:  # untrusted bytes: the parser's own errors vary
        raise DocumentError(f"无法读取这个 PDF 文件（{type(e).__name__}）") from None
    text = "\n".join(pages).strip()
    if not text:
        raise DocumentError("这个 PDF 里没有可提取的文字（可能是扫描件）")
    return text
