"""Turn a policy document as staff receive it into metadata and clean text blocks.

Handles YAML/JSON front matter, HTML fragments, Markdown with Obsidian `==#heading==` and
`[[link|label]]`, and WeChat article text with its account chrome. Pure: text in, blocks out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import yaml

MAX_DOCUMENT_CHARS = 2_000_000


class DocumentError(ValueError):
    """The file cannot be read as a policy document; the message says why, for the user."""


@dataclass
class Block:
    text: str
    heading: bool = False


@dataclass
class RawDocument:
    blocks: list[Block]
    title: str = ""
    date: date | None = None
    url: str = ""
    issuer: str = ""
    front_matter: dict = field(default_factory=dict)
    doc_number: str = ""  # the 文号 line of the document's head

    def opening(self, chars: int = 3000) -> str:
        """The first part of the text, where a document says whose it is (我省…)."""
        out, size = [], 0
        for b in self.blocks:
            out.append(b.text)
            size += len(b.text)
            if size >= chars:
                break
        return "\n".join(out)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or GB18030; binary files are refused."""
    if not data.strip():
        raise DocumentError("文件是空的")
    if len(data) > MAX_DOCUMENT_CHARS * 4:
        raise DocumentError(f"文件太大（{len(data) // 1024} KB），上限约 {MAX_DOCUMENT_CHARS * 4 // 1024 // 1024} MB")
    if b"\x00" in data[:8192]:
        raise DocumentError("这不是文本文件（含二进制内容）")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DocumentError("无法识别文件编码（支持 UTF-8 和 GB18030）")
    controls = sum(1 for c in text[:8192] if unicodedata.category(c) == "Cc" and c not in "\r\n\t\f")
    if controls > 0.01 * min(len(text), 8192):
        raise DocumentError("这不是文本文件（含大量控制字符）")
    return text


# ---------------------------------------------------------------- front matter

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(?P<fm>.*?)\n---[ \t]*\n", re.S)


def split_front_matter(text: str) -> tuple[dict, str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m["fm"]) or {}
    except yaml.YAMLError:
        meta = {}
    return (meta if isinstance(meta, dict) else {}), text[m.end():]


def parse_date(value: object) -> date | None:
    """Front-matter dates: date objects, ISO strings, '2022-06-06 16:19:54 +0800', RFC 2822."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip()
    if m := re.match(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if m := re.match(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(s).date()
    except (TypeError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- HTML

_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6",
               "blockquote", "table", "ul", "ol", "hr", "center"}
# Never text: code, styles, templates and embedded things (their content is not the document's words).
_SKIP_TAGS = {"style", "script", "iframe", "noscript", "head", "title", "svg", "template", "object", "math"}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._buf: list[str] = []
        self._skip = 0
        self._heading = False

    def _flush(self) -> None:
        text = "".join(self._buf).strip()
        if text:
            self.blocks.append(Block(text, heading=self._heading))
        self._buf = []
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._heading = tag in _HEADING_TAGS

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


_HTML_HINT = re.compile(
    r"<(?:p|div|br|span|h[1-6]|li|table|strong|img|script|style|noscript|template|html|body|head|!doctype)\b[^>]*>",
    re.I)


def html_blocks(body: str) -> list[Block]:
    parser = _TextExtractor()
    parser.feed(body)
    parser.close()
    blocks: list[Block] = []
    for b in parser.blocks:
        for line in b.text.splitlines():
            if line.strip():
                blocks.append(Block(line, heading=b.heading))
    return blocks


# ---------------------------------------------------------------- Markdown / Obsidian / plain text

_WIKI_LINK = re.compile(r"\[\[(?P<target>[^\]|\\]*)(?:\\?\|(?P<label>[^\]]*))?\]\]")
_TRAILING_LINKS = re.compile(r"(?:\s*\[\[[^\]]*\]\])+\s*$")
_OBSIDIAN_HEADING = re.compile(r"^==\s*#+\s*(?P<h>.+?)\s*==$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<h>.+?)\s*#*$")
_MD_LINK = re.compile(r"\[(?P<label>[^\]]*)\]\((?P<url>[^)]*)\)")
_BARE_URL = re.compile(r"^<?(?P<url>https?://[^\s>]+)>?$")


def _strip_wiki_links(line: str) -> str:
    """Related-page links after a sentence are dropped; links inside a sentence keep their label."""
    if "[[" not in line:
        return line
    line = _TRAILING_LINKS.sub("", line)
    return _WIKI_LINK.sub(lambda m: (m["label"] or m["target"]).strip(), line)


# A table of tasks (Markdown pipes): | 序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 |
_TABLE_ROW = re.compile(r"^[|｜](?P<cells>.*)[|｜]$")
_TABLE_RULE = re.compile(r"^[|｜]?\s*:?-{2,}:?\s*(?:[|｜]\s*:?-{2,}:?\s*)*[|｜]?$")
_TASK_COLUMN = re.compile(r"任务|内容|事项|工作|措施|项目|目标")
_NUMBER_COLUMN = re.compile(r"^(?:序号|编号|序|号|No\.?)$", re.I)


# …or columns separated by tabs, as a table copied out of a word processor is: 序号→任务内容→牵头部门→…
_TAB_HEADER_COLUMN = re.compile(r"牵头|责任|配合|协同|协办|主办|时间|时限|期限|节点|完成")


def _cells(line: str) -> list[str] | None:
    m = _TABLE_ROW.match(line)
    return [c.strip() for c in re.split(r"[|｜]", m["cells"])] if m else None


def _tab_cells(line: str) -> list[str] | None:
    """A line's tab-separated cells (three or more), or None."""
    cells = [c.strip() for c in line.split("\t")]
    return cells if len(cells) >= 3 else None


def _is_tab_header(cells: list[str]) -> bool:
    """A tab-separated header: short cells naming a task column and a department or time column,
    or a row label's column (区县, 单位…) and what the rows give (…降低目标)."""
    return all(0 < len(c) <= 24 for c in cells) and not any(_NUMBER_CELL.match(c) for c in cells) and (
        (any(_TASK_COLUMN.search(c) for c in cells) and any(_TAB_HEADER_COLUMN.search(c) for c in cells))
        or bool(_LABEL_COLUMN.match(cells[0])))


_NUMBER_CELL = re.compile(r"^[\d.%％,，\s]+$")
# The first column of a table of values by place or body: 区县 / 地区 / 单位 / 盟市 → 东江区：…目标3.0%
_LABEL_COLUMN = re.compile(r"^(?:区县|县区|县（市、区）|县市区|地区|盟市|市州|地市|设区市|城市|单位|部门|企业|园区|名称|指标|项目名称)$")


def table_row_sentence(header: list[str], row: list[str]) -> str:
    """One row of a task table as the sentence a document would write: the task, then its other
    columns as labelled fields — 推进…（牵头单位：市能源局；配合单位：市财政局；完成时限：年底前）."""
    if _LABEL_COLUMN.match(header[0]) and row and row[0]:  # 东江区：2025年能耗强度降低目标3.0%，…
        values = [f"{h}{v}" for h, v in zip(header[1:], row[1:], strict=False) if v]
        return f"{row[0]}：{'，'.join(values)}。" if values else row[0]
    task_at = next((i for i, h in enumerate(header) if _TASK_COLUMN.search(h)), None)
    fields = [f"{h}：{v}" for i, (h, v) in enumerate(zip(header, row, strict=False))
              if v and i != task_at and h and not _NUMBER_COLUMN.match(h)]
    if task_at is None or task_at >= len(row) or not row[task_at]:
        return "，".join(v for v in row if v)
    task = row[task_at].rstrip("。；;，, ")
    return f"{task}。（{'；'.join(fields)}）" if fields else f"{task}。"


def text_blocks(body: str) -> tuple[list[Block], str]:
    """Plain text or Markdown: one block a non-empty line (a task table's row as its sentence).
    Returns the blocks and a URL if one stands alone."""
    blocks: list[Block] = []
    url = ""
    header: list[str] | None = None
    lines = [raw.strip() for raw in body.splitlines()]
    for n, line in enumerate(lines):
        if not line:
            header = None
            continue
        cells = _cells(line)
        if cells is not None and n + 1 < len(lines) and _TABLE_RULE.match(lines[n + 1]):
            header = cells  # a table starts: its header, then its rule
            continue
        if header is not None and _TABLE_RULE.match(line):
            continue
        if cells is None and (cells := _tab_cells(line)) is not None and _is_tab_header(cells):
            header = cells  # (a page's repeated header starts its rows again)
            continue
        if header is not None and cells is not None:
            if sentence := table_row_sentence(header, cells):
                blocks.append(Block(sentence))
            continue
        header = None
        if m := _BARE_URL.match(line):
            url = url or m["url"]
            continue
        if m := _OBSIDIAN_HEADING.match(line) or _MD_HEADING.match(line):
            blocks.append(Block(_strip_wiki_links(m["h"]).strip("= "), heading=True))
            continue
        line = _strip_wiki_links(line)
        if _MD_LINK.search(line) and not _MD_LINK.sub("", line).strip(" ｜|·-"):
            continue  # a line of navigation links
        line = _MD_LINK.sub(lambda m: m["label"], line).strip()
        if line:
            blocks.append(Block(line))
    return blocks, url


# ---------------------------------------------------------------- chrome

_CHROME_LINE = re.compile(
    r"^(?:责任编辑|编辑|校对|审核|来源|文章来源|本文来源|原标题)[：:]|^（?(?:文章)?来源[：:].*）?$|扫一扫|关注该公众号|"
    r"^前往[“\"]发现|^阅读原文$|^点击上方|^分享到|^收藏$|^点赞$|^在看$|尽在.{0,12}APP|^【?打印本页|^关闭窗口"
)
_CHROME_HEADER = ("微信号", "功能介绍")  # each followed by one line of account chrome
_TAIL_MARKERS = re.compile(r"往期\s*[·•]?\s*推荐|往期回顾|推荐阅读|相关阅读")
_FULL_TEXT_MARKER = re.compile(r"^\s*(?:附)?全文如下[：:]?\s*$")


def strip_chrome(blocks: list[Block]) -> list[Block]:
    """Drop account headers, footers, editor lines, "往期推荐" tails and news intros before 全文如下."""
    out: list[Block] = []
    skip_next = False
    for b in blocks:
        text = b.text.strip()
        if skip_next:
            skip_next = False
            continue
        if text in _CHROME_HEADER:
            skip_next = True
            continue
        if m := _TAIL_MARKERS.search(text):
            head = text[: m.start()].strip()
            if head:
                out.append(Block(head, b.heading))
            break
        if _FULL_TEXT_MARKER.match(text):
            out = []  # the news intro repeats the full text's targets without their departments
            continue
        if len(text) < 80 and _CHROME_LINE.search(text):
            continue
        out.append(b)
    return out


# ---------------------------------------------------------------- whole document

_SIGNATURE_DATE = re.compile(r"^(?P<y>\d{4}|[〇零一二三四五六七八九]{4})年(?P<m>\d{1,2}|十[一二]?|[一二三四五六七八九])月(?P<d>\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])日$")
_TITLE_END = re.compile(r"(?:方案|意见|通知|办法|规划|措施|决定|纲要|计划|细则|规定|条例|公告|通告|报告|要点|清单|纪要|通报|实录|答记者问)"
                        r"(?:[（(][^（）()]{2,16}[）)])?$")
# A notice's head: its 文号 line, its addressees (salutation), a publication note; none is policy.
_DOC_NUMBER_LINE = re.compile(r"^[\u4e00-\u9fa5]{1,12}\s*[〔\[［(（【]\s*\d{4}\s*[〕\]］)）】]\s*第?\s*\d{1,4}\s*号$")
_SALUTATION = re.compile(r"^(?:各|厅机关|局机关|委机关|部内|部属|省直|市直|区直|县直|全省各|全市各)[^。；！？：:]{1,100}[：:]")
_PUBLICATION_NOTE = re.compile(r"^[（(](?:此件|本件)[^（）()]{1,12}[）)]$")
# A speech's subtitle: ——2024年1月18日在云港市第十七届人民代表大会第四次会议上 (its date, and where)
_SPEECH_LINE = re.compile(r"^[—－\-]{1,2}\s*(?P<date>\d{4}年\d{1,2}月\d{1,2}日)\s*在(?P<where>.{2,40}?)(?:会议)?上$")
# The red header above a notice's 文号: 国务院办公厅文件 / 望川市人民政府办公室文件 (its issuer's name)
_RED_HEADER = re.compile(r"^(?P<issuer>[\u4e00-\u9fa5]{2,30}?)\s*文件$")
# A transcript's or minutes' labelled head: 发布单位：… / 时间：2025年9月16日上午10:00
_HEAD_ISSUER = re.compile(r"^(?:发布单位|发布机关|发文单位|发文机关|印发机关|主办单位)[：:]\s*(?P<v>[^，。；]{2,40})$")
_HEAD_DATE = re.compile(r"^(?:时间|日期|发布时间|发布日期|印发日期|成文日期|会议时间)[：:]\s*(?P<v>\d{4}年\d{1,2}月\d{1,2}日)")
_HEAD_PLACE = re.compile(r"^(?:地点|会议地点|发布地点)[：:][^。；]{0,40}$")
_PLACE = re.compile(r"^[\u4e00-\u9fa5]{2,8}?(?:省|自治区|市|县|区|旗|州|盟)")
_ORGANISATION = re.compile(r"^[\u4e00-\u9fa5]{2,30}(?:人民政府|办公厅|办公室|委员会|厅|局|委|部|院|署|总局|中心|政府|办|"
                           r"银行|协会|公司|集团)$")


def _signature_at(blocks: list[Block], i: int, at_end: bool = False) -> tuple[date | None, str, int]:
    """The signature whose date is block `i` ('国务院' / '2022年3月21日'): date, issuer, first block.
    At the document's end any short line above the date signs it; elsewhere only bodies' names do."""
    from knowledge.deadlines import _cn_number

    m = _SIGNATURE_DATE.match(blocks[i].text.strip().strip("（）()"))
    if not m:
        return None, "", -1
    try:
        d = date(_cn_number(m["y"]), _cn_number(m["m"]), _cn_chinese_day(m["d"]))
    except (ValueError, KeyError):
        return None, "", -1
    first = i  # the issuers above the date, one line each (国家发展改革委 / 国家能源局)
    while first > 0 and i - first < 4 and _is_issuer_line(blocks[first - 1].text.strip()):
        first -= 1
    above = blocks[i - 1].text.strip() if i > 0 else ""
    if first == i and at_end and above and len(above) <= 30 and not re.search(r"[。；，]", above):
        first = i - 1
    return d, " ".join(b.text.strip() for b in blocks[first:i]), first


def _is_issuer_line(text: str) -> bool:
    return bool(text) and len(text) <= 40 and not re.search(r"[。；，：:]", text) and _is_issuer(text)


def _is_issuer(text: str) -> bool:
    """'国务院', '四川省生态环境厅', '湖北省发展和改革委员会 湖北省能源局': one or more bodies' names."""
    return all(_ORGANISATION.match(part) or part in ("国务院", "中共中央") for part in text.split())


def _signature(blocks: list[Block], after: int) -> tuple[date | None, str, int, int]:
    """The signature (issuers' lines, date line): at the end, or anywhere after the salutation (block
    `after`) when the issued text or an annex follows it. Returns date, issuer and its span [a, b)."""
    for i in range(len(blocks) - 1, max(-1, len(blocks) - 4), -1):
        d, issuer, first = _signature_at(blocks, i, at_end=True)
        if d:
            return d, issuer, first, i + 1
    for i in range(max(after, 0), len(blocks)):  # the first signed date after the salutation (before an annex)
        d, issuer, first = _signature_at(blocks, i)
        if d and issuer:
            return d, issuer, first, i + 1
    return None, "", 0, 0


def _cn_chinese_day(s: str) -> int:
    if s.isdigit():
        return int(s)
    digits = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    if "十" not in s:
        return digits[s]
    tens, _, ones = s.partition("十")
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


def _title_like(b: Block) -> bool:
    t = b.text.strip()
    return len(t) <= 60 and not re.search(r"[。；！？]", t) and (b.heading or bool(_TITLE_END.search(t)))


def _detected_title(blocks: list[Block]) -> tuple[str, int, int]:
    """A short first line that names a document (…实施方案), or a title split over two lines
    (…《…绿色低碳发展 / 行动方案》的通知), or its issuer's line and two more (望川市人民政府办公室 /
    关于印发…行动 / 重点任务清单的通知): the title and its span of blocks [a, b). A red header
    (…文件) and a 文号 line above it are passed over."""
    head = [i for i, b in enumerate(blocks[:6])
            if not (_RED_HEADER.match(b.text.strip()) or _DOC_NUMBER_LINE.match(b.text.strip()))][:3]
    for i in head:
        b = blocks[i]
        t = b.text.strip()
        nxt = blocks[i + 1].text.strip() if i + 1 < len(blocks) else ""
        if _is_issuer(t) and nxt.startswith("关于") and (title := _title_over_lines(blocks, i)):
            return title
        split = bool(nxt) and not _is_issuer(t) and (
            t.count("《") > t.count("》") or not _title_like(blocks[i + 1]) or len(nxt) < 10)
        if split and not _title_like(b) and len(t) <= 60 and not re.search(r"[。；！？，：:]", t):
            joined = t + nxt
            if len(joined) <= 100 and _TITLE_END.search(joined) and not re.search(r"[。；！？]", joined) \
                    and not _DOC_NUMBER_LINE.match(blocks[i + 1].text.strip()):
                return _unquote(joined), i, i + 2
        if _title_like(b):
            return _unquote(t), i, i + 1
    return "", -1, -1


def _title_over_lines(blocks: list[Block], i: int) -> tuple[str, int, int] | None:
    """An issuer's line at `i` and the one or two lines after it that end a title (…的通知)."""
    joined = blocks[i].text.strip()
    for end in range(i + 1, min(i + 3, len(blocks))):
        line = blocks[end].text.strip()
        if len(line) > 60 or re.search(r"[。；！？，：:]", line):
            return None
        joined += line
        if _TITLE_END.search(joined):
            return _unquote(joined), i, end + 1
    return None


def _unquote(title: str) -> str:
    return title.strip("《》") if title.startswith("《") and title.endswith("》") else title


def title_year(title: str) -> int | None:
    """The one year a title is about (湖北省2022年…行动计划), for documents whose body gives only
    months; None for a span (2021—2022年), a target year (2030年前…) or several years."""
    if re.search(r"\d{4}\s*[—–\-~至到]\s*\d{4}", title):
        return None
    years = {int(m[1]) for m in re.finditer(r"(?<![到至\d])(\d{4})年(?!前|以前|之前|后)", title)}
    return years.pop() if len(years) == 1 else None


def _split_head(blocks: list[Block]) -> tuple[list[Block], str, date | None, str, str]:
    """Take a document's head apart: title (one or two lines), 文号, issuer lines, salutation,
    publication note and signature. Returns the remaining blocks, title, date, issuer and 文号."""
    blocks = list(blocks)
    title, t_start, t_end = _detected_title(blocks)
    drop: set[int] = set(range(t_start, t_end)) if t_start >= 0 else set()
    salutation = -1
    head_issuer, head_date = "", None
    for i, b in enumerate(blocks[:8]):
        text = b.text.strip()
        beside_title = i == t_end or i == t_start - 1  # 国务院办公厅 above the title, or the issuers under it
        if (m := _RED_HEADER.match(text)) and i < max(t_start, 1) and _is_issuer(m["issuer"]):
            drop.add(i)
            head_issuer = m["issuer"]
        elif _DOC_NUMBER_LINE.match(text) or (beside_title and _is_issuer(text) and len(text) <= 60):
            drop.add(i)
        elif (m := _HEAD_ISSUER.match(text)) and salutation < 0:
            drop.add(i)
            head_issuer = head_issuer or m["v"].strip()
        elif (m := _HEAD_DATE.match(text)) and salutation < 0:
            drop.add(i)
            head_date = head_date or parse_date(m["v"])
        elif _HEAD_PLACE.match(text) and salutation < 0:
            drop.add(i)
        elif salutation < 0 and _SALUTATION.match(text) and not b.heading:
            salutation = i
            if re.search(r"[：:]$", text):
                drop.add(i)
            else:  # 各…：现将《…》印发给你们 — the addressees head the notice's one paragraph
                blocks[i] = Block(re.split(r"[：:]", text, maxsplit=1)[1], b.heading)
    issuer_line = next((blocks[i].text.strip() for i in sorted(drop) if not t_start <= i < t_end and i != salutation
                        and _is_issuer(blocks[i].text.strip())), "")
    number = next((re.sub(r"\s+", "", blocks[i].text) for i in sorted(drop)
                   if _DOC_NUMBER_LINE.match(blocks[i].text.strip())), "")
    sig_date, issuer, sig_start, sig_end = _signature(blocks, salutation + 1 if salutation >= 0 else max(t_end, 0))
    drop |= set(range(sig_start, sig_end))
    for i, blk in enumerate(blocks[:6]):
        if m := _SPEECH_LINE.match(blk.text.strip()):  # a report given at a congress: its day, and by
            drop.add(i)                                  # the government of the place it met in
            sig_date = sig_date or parse_date(m["date"])
            if not issuer and "政府工作报告" in title and (place := _PLACE.match(m["where"])):
                issuer = place[0] + "人民政府"
    drop |= {i for i, blk in enumerate(blocks) if _PUBLICATION_NOTE.match(blk.text.strip())}
    return [blk for i, blk in enumerate(blocks) if i not in drop], title, sig_date or head_date, \
        issuer or issuer_line or head_issuer, number


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_document(text: str) -> RawDocument:
    """Metadata and clean blocks from a document's text, whatever of the supported formats it is in."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise DocumentError(f"文档太长（{len(text)} 字），上限 {MAX_DOCUMENT_CHARS} 字")
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_FULL_WIDTH_DIGITS)  # ２０２４年 is 2024年
    meta, body = split_front_matter(text)
    url = ""
    if _HTML_HINT.search(body):
        html_part = re.sub(r"^\s*<?https?://\S+>?\s*$", "", body, flags=re.M)
        if m := re.search(r"^\s*<?(https?://[^\s>]+)>?\s*$", body, flags=re.M):
            url = m[1]
        blocks = [Block(_strip_wiki_links(b.text), b.heading) for b in html_blocks(html_part)]
        blocks = [b for b in blocks if not (_MD_LINK.search(b.text) and not _MD_LINK.sub("", b.text).strip(" ｜|·-"))]
    else:
        blocks, url = text_blocks(body)
    blocks = [Block(re.sub(r"\s+", " ", b.text).strip(), b.heading) for b in strip_chrome(blocks)]
    blocks = [b for b in blocks if b.text]
    blocks, title, sig_date, issuer, doc_number = _split_head(blocks)
    if not blocks:
        raise DocumentError("文档里没有可用的正文")
    fm_title = str(meta.get("title") or "").strip()
    return RawDocument(
        blocks=blocks,
        title=title or fm_title,
        date=sig_date or parse_date(meta.get("date")),
        url=url or str(meta.get("url") or meta.get("source") or ""),
        issuer=issuer,
        front_matter=meta,
        doc_number=doc_number,
    )
