"""Responsible departments: parse responsibility clauses, canonicalise names, resolve aliases.

Pure functions. A national document's 发改委 is 国家发展改革委; a regional document's unprefixed
能源局 is that region's (自治区能源局), never 国家能源局.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from knowledge.lazyre import lazy_compile
from knowledge.models import Departments

# Canonical national names and the other ways people write them.
NATIONAL_ALIASES: dict[str, tuple[str, ...]] = {
    "国家发展改革委": ("发改委", "国家发改委", "发展改革委", "国家发展和改革委员会", "发展和改革委员会"),
    "人民银行": ("央行", "人行", "中国人民银行", "中央银行"),
    "工业和信息化部": ("工信部", "工业和信息化部门"),
    "住房城乡建设部": ("住建部", "住房和城乡建设部", "建设部"),
    "生态环境部": ("环保部", "生态部", "环境保护部"),
    "财政部": (),
    "人力资源社会保障部": ("人社部", "人力资源和社会保障部"),
    "农业农村部": ("农业部",),
    "商务部": (),
    "海关总署": ("海关",),
    "国家外汇局": ("外汇局", "国家外汇管理局"),
    "交通运输部": ("交通部", "交运部"),
    "国家能源局": ("能源局",),
    "国家铁路局": ("铁路局",),
    "中国民航局": ("民航局", "中国民用航空局"),
    "国家邮政局": ("邮政局",),
    "中国国家铁路集团有限公司": ("国铁集团", "中国铁路总公司", "国铁"),
    "外交部": (),
    "科技部": ("科学技术部",),
    "自然资源部": ("国土部", "国土资源部"),
    "税务总局": ("国家税务总局", "税务局"),
    "市场监管总局": ("国家市场监督管理总局", "市场监督管理总局", "国家市场监管总局"),
    "银保监会": ("中国银保监会", "银行保险监督管理委员会", "金融监管总局", "国家金融监督管理总局"),
    "证监会": ("中国证监会",),
    "国家国防科工局": ("国防科工局",),
    "国家林草局": ("林草局", "国家林业和草原局", "林业局"),
    "公安部": (),
    "中国气象局": ("气象局",),
    "水利部": (),
    "民政部": (),
    "国家卫生健康委": ("卫健委", "国家卫健委", "卫生健康委"),
    "国家乡村振兴局": ("乡村振兴局",),
    "国家统计局": ("统计局",),
    "教育部": (),
    "国务院国资委": ("国资委",),
    "国家机关事务管理局": ("国管局",),
    "司法部": (),
    "应急管理部": ("应急部",),
    "国家市场监督管理总局标准委": ("国家标准委", "标准委"),
}

# Abbreviations inside regional names: 省发改委 -> 省发展改革委.
_CORE_ALIASES = {
    "发改委": "发展改革委",
    "经信厅": "经济和信息化厅",
    "经信委": "经济和信息化委",
    "住建厅": "住房城乡建设厅",
    "住建委": "住房城乡建设委",
    "人社厅": "人力资源社会保障厅",
    "工信厅": "工业和信息化厅",
    "卫健委": "卫生健康委",
}

_ALIAS_TO_NATIONAL = {alias: canon for canon, aliases in NATIONAL_ALIASES.items() for alias in (canon, *aliases)}

_REGION_PREFIXES = ("自治区", "省", "市", "区", "县", "盟", "旗", "州", "地区")
_GOV_SUFFIX = lazy_compile(r"(?:厅|局|委|办|委员会|办公室|部|中心)$")
_QUALIFIED = lazy_compile(r"^(?:国家|中国|国务院|中共|中央|全国)|银行|集团|公司|支行|分行")
_LEAD = lazy_compile(r"^(?:请|由)?(?P<names>.+?)(?:共同)?牵头(?:推进|实施|组织实施|落实|开展)?$")
_RESPONSIBLE = lazy_compile(r"^(?:请|由)?(?P<names>.+?)(?:等(?:有关)?(?:部门|单位)?)?(?:按职责分工负责|按职责负责|分工负责|负责落实|负责)$")
_SUPPORTING = lazy_compile(r"^(?P<names>.+?)(?:等(?:有关)?(?:部门|单位)?)?(?:共同)?(?:配合|参与|协助|协同)$")
# …配合做好接网工程建设: the supporting departments, then what they do
_SUPPORTING_TO = lazy_compile(r"^(?P<names>[^，、]{2,20}(?:、[^，、]{2,20})*?)(?:配合|协助)(?:做好|推进|开展|实施|落实)")
# 根据…工作安排 / 按照…统一部署推进: a time the text ties to another schedule, kept as written.
_SCHEDULE = lazy_compile(r"^(?:根据|按照|依据|视)[^，。；]{2,30}(?:安排|部署|进度|要求|情况)(?:推进|执行|实施|完成|开展)?$")
# '（…按职责分工负责，排在第一位的为牵头单位）': the clause says its first named department leads.
_FIRST_LEADS = lazy_compile(r"(?:排在|列在|列|排)?第一(?:位|个)?的?(?:部门|单位)?(?:为|是)牵头")
# A department's own divisions (大气处, 综合科, 办公室), and a clause that names them or labels 处室.
_INTERNAL_DIVISION = lazy_compile(r"[处科室]$")
_INTERNAL_CLAUSE = lazy_compile(r"(?:处室|科室)[:：]|[\u4e00-\u9fa5]{1,6}[处科](?=[、，,；;：:\s]|牵头|配合|负责|按职责|等|$)")
_NOT_A_PREFIX = ("市场", "区域", "省级", "市级", "县级", "县域", "区级")
_TIME_WORDS = lazy_compile(r"\d|[一二三四五六七八九十]+月|底前|日前|年内|持续|半年|季度|长期")
_LOCAL_GOVERNMENTS = lazy_compile(r"^各(?:盟|市|县|旗|地区|地|级)|人民政府|行政公署|^各?(?:有关|相关)(?:部门|单位)$|^各(?:处室|科室|单位|部门|司局)$")


@dataclass(frozen=True)
class ClauseParts:
    departments: Departments
    time_parts: tuple[str, ...]
    stated_times: tuple[str, ...] = ()  # labelled time values (完成期限：…), kept even when undated


def canonical_department(name: str, region: str = "国家", prefix: str = "") -> str:
    """One canonical name. `prefix` is the regional prefix carried over from earlier in a list."""
    name = "".join(name.split()).strip("（）()")  # no white space
    name = re.sub(r"^(?:由|会同|请)", "", name)
    national = region in ("", "国家")
    if national:
        if canon := _ALIAS_TO_NATIONAL.get(name):
            # a short form is spelt out; a full name (住房和城乡建设部) stays as the document writes it
            return name if len(name) > len(canon) else canon
        return _expand_core(name)
    has_prefix = bool(_leading_prefix(name)) or bool(_QUALIFIED.search(name)) or name.startswith(region[:2])
    if not has_prefix and _GOV_SUFFIX.search(name):
        name = (prefix or region_prefix(region)) + name
    return _expand_core(name)


def _expand_core(name: str) -> str:
    for short, full in _CORE_ALIASES.items():
        if name.endswith(short):
            return name[: -len(short)] + full
    return name


def spell_out(text: str) -> str:
    """A user's text with the short forms of departments' names spelt out: 住建厅 -> 住房城乡建设厅."""
    for short, full in _CORE_ALIASES.items():
        text = text.replace(short, full)
    return text


# A department named by what it looks after (管盖房子的那个部委, 管环保的那个厅): the words for its field,
# and its name as a ministry (部委), a province's department (厅) and a bureau (局).
_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("环保|环境|生态|污染|排污", "生态环境部", "生态环境厅", "生态环境局"),
    ("盖房子?|房子|住房|建房|建筑|城建|城乡建设", "住房城乡建设部", "住房城乡建设厅", "住房城乡建设局"),
    ("交通|公路|运输|开车|修路|道路", "交通运输部", "交通运输厅", "交通运输局"),
    ("钱|财政|预算|财务", "财政部", "财政厅", "财政局"),
    ("工业|工厂|制造业?|信息化", "工业和信息化部", "工业和信息化厅", "工业和信息化局"),
    ("农业|农村|种地|种田|农牧", "农业农村部", "农牧厅", "农业农村局"),
    ("水利|治水|河湖", "水利部", "水利厅", "水利局"),
    ("能源|电力|发电|用电|煤炭", "国家能源局", "能源局", "能源局"),
    ("统计|数据统计", "国家统计局", "统计局", "统计局"),
    ("科技|科研|技术研发", "科技部", "科技厅", "科技局"),
    ("发展改革|发改|规划|项目审批|物价|价格", "国家发展改革委", "发展改革委", "发展改革委"),
    ("市场监管|质量|标准|计量", "市场监管总局", "市场监管局", "市场监管局"),
    ("税|税收|纳税", "税务总局", "税务局", "税务局"),
    ("银行|货币|贷款|信贷|金融", "人民银行", "人民银行", "人民银行"),
    ("商务|外贸|贸易|商业", "商务部", "商务厅", "商务局"),
    ("教育|学校", "教育部", "教育厅", "教育局"),
    ("国企|国有企业|国资", "国务院国资委", "国资委", "国资委"),
    ("森林|林业|草原|林草", "国家林草局", "林草局", "林草局"),
    ("自然资源|国土|土地", "自然资源部", "自然资源厅", "自然资源局"),
    ("机关|公共机构|机关事务", "国管局", "机关事务管理局", "机关事务管理局"),
)
_DESCRIBED = lazy_compile(r"管(?:理)?(?P<field>[^的，,。？?、]{1,8}?)的?(?:那个|那家|哪个|这个|那一?个)?"
                        r"(?P<level>部委|部门|部|厅|局|委员会|委)")


def name_described_departments(text: str) -> str:
    """A user's text with a department named by its field given its name: 管盖房子的那个部委 ->
    住房城乡建设部, 内蒙古管环保的那个厅 -> 内蒙古生态环境厅. Fields not in the table stay as written."""
    def named(m: re.Match[str]) -> str:
        field = m["field"]
        for words, ministry, department, bureau in _FIELDS:
            if re.fullmatch(f"(?:{words})+(?:这块|方面|这一块|工作|的事|那块)?", field):
                return department if m["level"] == "厅" else bureau if m["level"] == "局" else ministry
        return m[0]
    return _DESCRIBED.sub(named, text) if "管" in text else text


def region_prefix(region: str) -> str:
    """The word a region's own documents put before their departments: 自治区 / 省 / 市 / 州 / 盟."""
    for suffix, prefix in (("自治区", "自治区"), ("省", "省"), ("市", "市"), ("自治州", "州"), ("盟", "盟"),
                           ("地区", "地区"), ("县", "县"), ("旗", "旗"), ("区", "区")):
        if region.endswith(suffix):
            return prefix
    return ""


def _names_with_prefix(text: str, region: str, internal: bool = False) -> list[str]:
    """'自治区工业和信息化厅、发展改革委' -> both get 自治区; the prefix resets after '，'."""
    out: list[str] = []
    for group in re.split(r"[，,；;]", text):
        prefix = ""
        raws = [r.strip() for r in re.split(r"[、]", group) if r.strip()]
        # a department's own divisions (大气处、执法局) are named as they are, with no region's prefix
        own_divisions = internal or any(_INTERNAL_DIVISION.search(r) for r in raws)
        for raw in raws:
            if _LOCAL_GOVERNMENTS.search(raw):
                continue
            prefix = _leading_prefix(raw) or prefix
            out.append(_expand_core(raw) if own_divisions and not prefix else canonical_department(raw, region, prefix))
    return out


def _leading_prefix(name: str) -> str:
    if name.startswith(_NOT_A_PREFIX):
        return ""
    return next((p for p in _REGION_PREFIXES if name.startswith(p) and len(name) > len(p) + 1), "")


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n, None)
    return tuple(seen)


@lru_cache(maxsize=4096)
def parse_clause(clause: str, region: str = "国家") -> ClauseParts:
    """Split '人民银行牵头，生态环境部等按职责分工负责，6月底前出台相关政策' into departments by role and
    time parts. A lead only where the clause states one (牵头, 牵头单位, 第一个为牵头); with a lead the
    others are support, without one every named department is responsible (配合 stays support)."""
    lead: list[str] = []
    responsible: list[str] = []
    time_parts: list[str] = []
    stated_times: list[str] = []
    support: list[str] = []
    first_leads = False
    pending = ""  # names before a '，' that belong to the next 牵头/负责 part
    body = _LABEL_BREAK.sub("；", clause.strip().strip("（）()"))
    # a clause that names a department's own divisions (大气处, 处室) names its bureaus bare too (执法局)
    internal = bool(_INTERNAL_CLAUSE.search(body))
    for part in re.split(r"[，,；;。]", body):
        part = part.strip()
        if not part:
            continue
        if m := _LABELLED_FIELD.match(part):  # 牵头单位：… / 配合单位：… / 完成时限：…
            field, value = m["label"], m["value"].strip()
            if field in _NOTE_LABELS:
                pending = ""
            elif field in _TIME_LABELS and re.fullmatch(r"(?:无|暂无|没有|/|—+|-+)[。.]?", value):
                pending = ""  # 下步要求：无
            elif field in _TIME_LABELS:
                time_parts.append(value)
                stated_times.append(value)
            elif said := _LEAD.match(value):  # 责任部门：安全环保部牵头，人力资源部配合
                lead += _names_with_prefix(said["names"], region, internal)
            elif said := _SUPPORTING.match(value):
                support += _names_with_prefix(said["names"], region, internal)
            else:  # 责任单位：国网青崖供电公司（牵头）、市能源局 — a name marked 牵头 leads
                marked = _MARKED_LEAD.findall(value)
                lead += _names_with_prefix("、".join(marked), region, internal) if marked else []
                names = _names_with_prefix(_MARKED_LEAD.sub("", value).strip("、 "), region, internal)
                (lead if field in _LEAD_LABELS else support if field in _SUPPORT_LABELS else responsible).extend(names)
            pending = ""
        elif _FIRST_LEADS.search(part):
            first_leads = True
        elif _SCHEDULE.match(part):  # 根据…工作安排: a time as the text gives it, with no date
            time_parts.append(part)
            stated_times.append(part)
            pending = ""
        elif m := _LEAD.match(part):
            lead += _names_with_prefix(pending + m["names"], region, internal)
            pending = ""
        elif ((m := _SUPPORTING.match(part)) and not _TIME_WORDS.search(part)) or (
                (m := _SUPPORTING_TO.match(part)) and names_departments(m["names"])):  # …配合做好…
            support += _names_with_prefix(pending + m["names"], region, internal)
            pending = ""
        elif (m := _RESPONSIBLE.match(part)) and not _TIME_WORDS.search(part):
            responsible += _names_with_prefix(pending + m["names"], region, internal)
            pending = ""
        elif _TIME_WORDS.search(part):
            time_parts.append(part)
            pending = ""
        elif names_departments(part):
            pending += part + "，"
        else:
            pending = ""
    if first_leads and not lead and responsible:
        lead, responsible = responsible[:1], responsible[1:]
    lead_t = _dedupe(lead)
    if lead_t:  # after a stated lead, the others support it
        support, responsible = responsible + support, []
    support_t = tuple(n for n in _dedupe(support) if n not in lead_t)
    responsible_t = tuple(n for n in _dedupe(responsible) if n not in support_t)
    return ClauseParts(Departments(lead_t, support_t, responsible_t), tuple(time_parts), tuple(stated_times))


def follow_up_kind(text: str) -> str:
    """A bulletin's line under a task: "note" for how it stands (进展情况：…), "next" for what is due
    next (下步要求：10月底前…), "" for any other line."""
    label = next((f for f in _FOLLOW_UP if text.startswith(f) and text[len(f):len(f) + 1] in (":", "：")), "")
    return "" if not label else "note" if label in _NOTE_LABELS else "next"


def says_only_roles(sentence: str) -> bool:
    """由市工信局牵头，市发展改革委参与。: every part of the sentence gives departments a role; nothing to do."""
    parts = [p.strip() for p in re.split(r"[，,；;。]", sentence) if p.strip()]
    return bool(parts) and all(_LEAD.match(p) or _SUPPORTING.match(p) or _RESPONSIBLE.match(p) for p in parts)


def names_departments(part: str) -> bool:
    """The text is a list of bodies' names (市生态环境局、市海洋发展局), not words like 企业."""
    names = [n for n in part.split("、") if n]
    return bool(names) and all(_GOV_SUFFIX.search(n) or re.search(r"银行|公司|集团|中心|政府|公署", n) for n in names)


# Labelled fields, as task lists print them: 牵头单位：省发展改革委；配合单位：省统计局；完成时限：4月底前.
_LEAD_LABELS = ("牵头单位", "牵头部门", "牵头处室", "主责单位", "主责部门")
_SUPPORT_LABELS = ("配合单位", "配合部门", "配合处室", "协办单位", "参与单位", "参与部门", "协同单位", "协同部门",
                   "协同处室", "协办部门")
_RESPONSIBLE_LABELS = ("责任单位", "责任部门", "责任处室", "责任科室", "责任主体", "主办单位")
# A bulletin's lines under a task: what is due next (下步要求：10月底前…, a time), and how it stands
# (进展情况：滞后。…, part of the task's text, no roles).
_NEXT_STEP_LABELS = ("下步要求", "下一步要求", "下步工作", "下一步工作")
_NOTE_LABELS = ("进展情况", "推进情况", "工作进展", "完成情况")
_FOLLOW_UP = (*_NEXT_STEP_LABELS, *_NOTE_LABELS)
_TIME_LABELS = ("完成时限", "完成期限", "完成时间", "时间节点", "时间安排", "时限", "期限", *_NEXT_STEP_LABELS)
_LABEL = "|".join((*_LEAD_LABELS, *_SUPPORT_LABELS, *_RESPONSIBLE_LABELS, *_TIME_LABELS, *_NOTE_LABELS))
_LABELLED_FIELD = lazy_compile(rf"^(?P<label>{_LABEL})[:：]\s*(?P<value>.+)$")
_MARKED_LEAD = lazy_compile(r"([^、，,；;：:（）()]+)[（(]牵头[）)]")
# Fields on one line separated only by spaces (责任处室：气候处　完成期限：12月底前).
_LABEL_BREAK = lazy_compile(rf"\s+(?=(?:{_LABEL})[:：])")
_CLAUSE_HINT = lazy_compile(rf"牵头|负责|配合|底前|日前|年内|持续推进|前完成|前出台|(?:{_LABEL})[:：]")
# A paragraph's labelled tail (…目标。牵头单位：…；完成时限：…。) or a line of its own (责任单位：… /
# 完成时限：…), in any order.
_LABELLED_CLAUSE = lazy_compile(rf"(?:^|(?<=[。；;！!]))\s*(?:{_LABEL})[:：]")


def labelled_clause_start(text: str) -> int | None:
    """Where a paragraph's labelled responsibility clause begins (牵头单位：… / 责任单位：…), if it
    ends the paragraph and is short; else None."""
    if "：" not in text and ":" not in text:
        return None
    m = next((m for m in _LABELLED_CLAUSE.finditer(text) if not _inside_brackets(text, m.start())), None)
    if m is None or len(text) - m.start() > 200:
        return None
    return m.start()


def _inside_brackets(text: str, at: int) -> bool:
    """Is `at` inside a bracketed clause (（完成时限：…；牵头单位：…）)?"""
    before = text[:at]
    return before.count("（") + before.count("(") > before.count("）") + before.count(")")


def is_responsibility_clause(text: str) -> bool:
    body = text.strip().strip("（）()")
    return bool(_CLAUSE_HINT.search(body)) and len(body) <= 400


def resolve_department_query(text: str) -> set[str]:
    """Canonical national names whose name or alias occurs in a user's text (央行 -> 人民银行)."""
    return {canon for alias, canon in _ALIAS_TO_NATIONAL.items() if len(alias) >= 2 and alias in text}


def split_department_query(asked: Iterable[str], known: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """(names to match exactly, cores to match at any level) for departments a user named. A name given
    with its level (国家能源局, 自治区能源局) means exactly that one; a bare name or an alias (能源局,
    发改委) means that department at any level. `known` maps normalised names to their core."""
    exact: set[str] = set()
    cores: set[str] = set()
    for name in asked:
        core = known.get(name, name)
        if core != name and _ALIAS_TO_NATIONAL.get(name, name) == name:  # (an alias's core differs: 交通部)
            exact.add(name)
        else:
            cores.add(core)
    return exact, cores


def lists_department(names: Iterable[str], exact: Collection[str], cores: Collection[str]) -> bool:
    """Does one of an item's departments match a query split by `split_department_query`?"""
    return any(n in exact or department_core(n) in cores for n in names)


@lru_cache(maxsize=8192)
def department_core(name: str) -> str:
    """'自治区发展改革委' -> '发展改革委', '国家发展改革委' -> '发展改革委': for matching across levels
    (remembered: an import asks for the same few hundred names over and over)."""
    name = _expand_core(_ALIAS_TO_NATIONAL.get(name, name))
    prefix = _leading_prefix(name) or next((p for p in ("国家", "中国") if name.startswith(p) and len(name) > 3), "")
    return name[len(prefix):]
