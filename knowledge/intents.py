"""Question understanding: what is asked (when / who / how much / a list), about which region,
department, deadline window or year. Pure: a question and today's date in, a Question out.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from knowledge import timewords
from knowledge.deadlines import find_deadlines
from knowledge.departments import name_described_departments, region_prefix, spell_out
from knowledge.lazyre import lazy_compile
from knowledge.models import Deadline
from knowledge.normalize import normalize
from knowledge.references import DocumentReference, cited_documents, find_reference
from knowledge.regions import NATIONAL, find_region, province_of, short_name

_WHEN = re.compile(r"什么时候|最晚|最迟|什么时间|何时|哪天|哪一天|几月|多久|多长时间|几年|多少年|截止|期限|时限|时间表|到期|deadline|几号|哪年|完成时间")
_WHO = re.compile(r"谁|哪个部门|哪些部门|哪家|哪个单位|部门|部委|牵头|负责|主管|参与|哪(?:个|些|几个)(?:司|处|局|科|厅)")
# "哪些部门/哪几个部委/哪些厅局" asks who, not for a list of items
_WHO_PLURAL = re.compile(r"(?:哪些|哪几个?|几个)(?:部门|部委|单位|机构|分支机构|司局|厅局|处室|科室|司|处|局|厅)")
# Question words typed with the wrong character of the same sound (签头 for 牵头)
_TYPOS = (("签头", "牵头"), ("千头", "牵头"), ("负则", "负责"), ("付责", "负责"), ("时侯", "时候"), ("时后", "时候"))
# 百分之三 / 百分之二十点五: a share in words, as documents write it (3%, 20.5%)
_PERCENT_IN_WORDS = lazy_compile(r"百分之(?P<n>[一二两三四五六七八九十]{1,3})(?:点(?P<f>[零一二三四五六七八九]{1,3}))?")
_DIGIT_OF = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}
_LEAD = re.compile(r"牵头|主管|主责")
_ANY_ROLE = lazy_compile(r"(?:牵头|主管)(?:或者?|和|及|、|还是)(?:参与|配合)|(?:参与|配合)(?:或者?|和|及|、|还是)(?:牵头|主管)")
_HOW_MUCH = re.compile(r"多少|几成|百分之几|比例|目标|指标|降到|降至|达到|提高到|不超过|多高|多低|(?<!哪)几个")  # 哪几个: which
_LIST = re.compile(r"有哪些|哪些|哪几(?:个)?(?:项|方面|块|条|件|领域|大)|列出|都有什么|列表|一览|各自|"
                   r"都(?:要|得|需要)?(?:干|做|搞|办)(?:啥|什么|哪些)|"
                   r"(?:包括|包含|涵盖)(?:了)?(?:什么|哪些)")
_LIST_UNLESS_ASKED = re.compile(r"清单|全部|所有")  # a list, unless the question asks when / who / how much
_GREETING = re.compile(r"^(?:你好|您好|hi|hello|hey|嗨|哈喽|在吗|在不在|早上好|下午好|晚上好|谢谢|多谢|感谢|thanks|ok|好的)[!！。.？?～~啊呀呢]*$")
_HELP = re.compile(r"^(?:帮助|help|使用说明|怎么用|你能做什么|你是谁|功能)[!！。.？?～~]*$")
_STOP = re.compile(
    r"什么时候|什么时间|何时|最晚|最迟|今年|明年|去年|本月|下个月|这个月|活儿|交差|哪一天|哪天|几月|多久|哪个部门|哪些部门|哪个单位|由谁|谁来|谁|是什么|是多少|多少|什么|"
    r"有哪些|哪些|哪几个|哪几项|哪几|几个|几项|怎么样|怎么|如何|请问|一下|这一块|这块|那一块|那块|这方面|这件事|这事儿?|"
    r"这一?部分|那一?部分|"
    r"那个|这个|这项|这些|那些|还能|可以|需要|应该|关于|"
    r"要求|情况|进展|方面|具体|现在|目前|眼下|各自|分别|干什么|干嘛|做什么|要不要|是不是|能不能|会不会|有没有|可不可以|是否|还要|也要|里面|部委|包括|包含|"
    r"按职责分工负责|分工负责|负责|牵头|哪个|时限|期限|完成时间|量化目标|目标|指标|领域|"
    r"吗|呢|吧|啊|呀|的|了|[?？!！。，,、；;：:]"
)
_YEAR = re.compile(r"(20\d{2})年")
_DOWN = re.compile(r"降|减|压缩|控制在|不超过|不高于|(?<!不)低于")
_UP = re.compile(r"提高|提升|增加|增长|扩大|上升|不低于|(?<!不)高于|(?<!不)超过|突破")
_TWO_DIGIT_YEAR = re.compile(r"(?<![\d.])([12]\d)年(?=年?底|年?末|内|前|[上下]半年|第?[一二三四1-4]季度|\d{1,2}月)")
# The asker states the day to count from: 今天是2021年6月10日, 按今天2021-06-10算, 到今天2021年6月10日
_TODAY_SAID = re.compile(r"(?:按|以|到|截至|截止到?)?(?:今天|今日|当前|现在)(?:是|为)?[,:]?"
                         r"(20\d{2})(?:年|-|/|\.)(\d{1,2})(?:月|-|/|\.)(\d{1,2})[日号]?(?:来?算|计算|为准)?")
# A department followed, in its clause, by a document's kind and 里/中 is the document's issuer, not a
# department whose work is asked: 交通运输部节能降碳方案里水运局参与的任务. Not when the words between give
# it a role or make the document its task (生态环境部牵头的方案里, 发改委要出台的办法中).
_ISSUED_DOCUMENT = re.compile(r"[^，。；？！]{0,24}?(方案|规划|意见|通知|办法|条例|纲要|计划|要点)"
                              r"(?:里|中|当中|里面|提出|要求|规定|明确)")
_NOT_ISSUING = re.compile(r"牵头|负责|参与|配合|承担|主管|分管|会同|出台|制定|编制|起草|研究")
# A document named by its kind, as in 江西方案里 / 浙江碳达峰实施方案的 (措施 and 工作 are also tasks' words)
_DOCUMENT_KIND = re.compile(r"(方案|规划|意见|通知|办法|条例|纲要|计划|要点)(?:里|中|的|是|提出|要求|规定|明确|[，,?？]|$)")
# Questions about the knowledge base's documents themselves: which there are, when one was issued,
# how many items one has.
_DOCUMENT_WORD = r"(?:政策)?(?:文件|文档|资料)"
_DOCUMENTS_LIST = re.compile(rf"(?:有|收录|收了|包含|包括|存|存了|录入|导入)了?(?:哪些|什么|多少|几|啥)[个份篇]?{_DOCUMENT_WORD}|"
                             rf"哪些{_DOCUMENT_WORD}|{_DOCUMENT_WORD}(?:列表|清单|目录|一览)|{_DOCUMENT_WORD}(?:有|都有)(?:哪些|什么|啥)")
_ISSUED_WHEN = re.compile(r"(?:什么时候|什么时间|何时|哪天|哪一天|几号|哪年|哪一年|几月|啥时候)(?:印发|发布|下发|出台|颁布|成文|公布|发文|发)|"
                          r"(?:印发|发布|下发|颁布|成文|公布|发文)(?:的)?(?:日期|时间)|(?:日期|时间)是(?:哪天|什么时候)")
_ITEM_COUNT = re.compile(r"(?:一共|总共|共)?有?(?:多少|几)(?:个)?条(?:目|任务|内容)?")
# What is left of such a question once its document is named: nothing that asks about an item
_DOCUMENT_FILLER = lazy_compile(r"知识库|库里|库中|数据库|系统|这里|这边|你们?|我们?|现在|目前|当前|都|一共|总共|共|里面?|"
                              r"那个|这个|那份|这份|那篇|是|的|了|有|可以|吗|呢|文件|文档|资料|政策|印发|发布|"
                              r"下发|出台|颁布|成文|公布|发文|发|日期|时间|条目|条|多少|几|什么|哪些|哪天|[，？?!！。]")
_LIST_NOUN = lazy_compile(r"任务|工作|事项|举措|措施|事情|部署")
_TARGETS = lazy_compile(r"目标|指标")
# (多少万 is money unless a unit follows: 多少万吨标准煤, 多少万千瓦 and 多少万辆 are amounts of other things)
_MONEY = re.compile(r"多少钱|几块钱|多少元|多少万(?:元|(?![吨千瓦平立方亩人户辆台套个座公里米度标头只家张kmw]))|"
                    r"多少资金|金额|补(?:贴|助)?多少|奖(?:励)?多少|给多少")
_ONE_VALUE = lazy_compile(r"多少|几成|百分之几|多高|多低|几类|降到|降至|提高到|不超过|是几|降幅|增幅|幅度|比例|占比|比重")
_ONE_THING = lazy_compile(r"这项|这个|该项|[吗么][?？]?$")  # one task named, or a yes/no question: not a list


@dataclass
class Question:
    raw: str
    norm: str
    core: str
    today: date  # the day deadlines are counted from: the asker's when the question states it
    wants_when: bool = False
    wants_who: bool = False
    wants_lead: bool = False
    wants_amount: bool = False
    wants_money: bool = False  # 补多少钱: a sum of money, not a target
    wants_list: bool = False
    wants_targets: bool = False  # the goals of a topic (交通领域的目标), not one value (降到多少)
    greeting: bool = False
    help: bool = False
    region: str | None = None
    department_cores: set[str] = field(default_factory=set)
    department_names: set[str] = field(default_factory=set)  # named with their level: 国家能源局
    deadline_phrase: str = ""  # a window phrase with no year: 12月底前
    window: tuple[date | None, date | None] | None = None  # a dated window: 今年, 下个月, 2025年前
    window_phrase: str = ""  # …the words that name it
    status: str = ""  # deadline status as of today: pending (还没到期) | expired (已过期) | active (进行中)
    status_phrase: str = ""  # …the words that ask for it
    started_by: date | None = None  # active: ongoing work, or a period begun by this day
    unfinished: bool = False  # a status or a window from today asked: items marked done are not listed
    year: int | None = None
    reference: DocumentReference | None = None  # a document cited by number: 国发6号文
    doc_ids: tuple[str, ...] = ()  # …the documents it names (none: the knowledge base lacks it)
    document_kind: str = ""  # a region's document named by its kind: 浙江碳达峰实施方案 -> 方案
    kind_doc_ids: tuple[str, ...] = ()  # …the documents of that region (or issuer) and kind the knowledge base has
    issuer: str = ""  # a department named as a document's issuer: 交通运输部 in 交通运输部节能降碳方案里…
    direction: str = ""  # a value asked to go down (降到多少) or up (提高到多少): "down" | "up" | ""
    about_documents: str = ""  # a question about the documents: list (有哪些文件) | date (哪天发的) | count (多少条)

    @property
    def unfiltered_core(self) -> str:
        """The core without what the filters already say: departments (also as 内蒙古生态环境厅, whose
        name is 自治区生态环境厅, or as 住建厅), deadline phrase, region."""
        rest = spell_out(self.core)
        names = sorted(self.department_names, key=len, reverse=True)
        for part in [*names, *sorted(self.department_cores, key=len, reverse=True), self.deadline_phrase,
                     self.window_phrase, self.status_phrase, self.issuer]:
            for piece in (part, *question_core(part).split("，")) if part else ():
                if piece:  # 明年下半年 is 下半年 in the core (明年 is a stop word)
                    rest = rest.replace(piece, "，")
        if self.region == NATIONAL:
            rest = _NATIONAL_WORDS.sub("，", rest)  # 全国下半年要完成的任务: the words that said the region
        if self.region:
            rest = rest.replace(self.region, "，").replace(short_name(self.region), "，")
        return re.sub(r"，+", "，", rest).strip("，")

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions whose items answer the question: a city's own and then its province's."""
        if not self.region:
            return ()
        province = province_of(self.region)
        return (self.region, province) if province else (self.region,)

    def in_region(self, region: str) -> bool:
        return not self.region or region in self.regions

    @property
    def core_is_only_filters(self) -> bool:
        """Nothing is left of the question once its filters and list words are taken out."""
        rest = _LIST_NOUN.sub("", _YEAR.sub("", self.unfiltered_core))
        rest = re.sub(r"必须|务必|需要|应当|应该|要|完成|出台|到期|截止|的|参与|负责|牵头|国务院|重点|是|有|里|中|或|和|及|，|还|尚|仍|已|了|就|"
                      r"[办做干弄搞]完?|交|[卡定落排]在|"  # 卡在年底完成的: the time is the filter
                      r"方案|文件|通知|意见|计划|要点|规划|活", "", rest)  # 江西方案里…的活: the region's document, its tasks
        return len(rest) <= 1

    def in_window(self, d: Deadline) -> bool:
        """The deadline falls in the question's window (and has begun, when 进行中 is asked)."""
        if not self.window or d.due is None:
            return False
        start, end = self.window
        return ((start is None or d.due >= start) and (end is None or d.due <= end)
                and (self.started_by is None or d.ongoing or bool(d.start and d.start <= self.started_by)))

    @property
    def structured(self) -> bool:
        """True when the question asks for the items that pass a filter on their fields."""
        return self.wants_list and bool(self.deadline_phrase or self.window or self.department_cores
                                        or self.reference)


def question_core(norm: str) -> str:
    """The question without question words and fillers (they would only match noise)."""
    return re.sub(r"[，\s]+", "，", _STOP.sub("，", norm)).strip("，")


def _as_documents_name_departments(norm: str, region: str | None) -> str:
    """The question as documents name departments: short forms spelt out, and a region's name as
    its own documents' prefix: 内蒙古(自治区)发改委 is 自治区发展改革委, 浙江省住建厅 is 省住房城乡建设厅."""
    norm = spell_out(norm)
    if not region or region == NATIONAL or not (prefix := region_prefix(region)):
        return norm
    return norm.replace(region, prefix).replace(short_name(region), prefix)


_NATIONAL_WORDS = re.compile(r"全国|国家层面|中央")  # the region 国家, in a question
# 换个问题，… / 先不说内蒙古了，…: the words that turn to a new question are none of it
_NEW_TOPIC = re.compile(r"^(?:换个问题|换个话题|再问一个|另外问一下|还有个问题|问个别的|先不说[^，,。]{0,12}?了?|"
                        r"不说[^，,。]{0,12}?了)[，,。：:]")


def _typed_right(norm: str) -> str:
    """The question with its question words' sound-alike typos righted and shares in words as digits."""
    for typo, right in _TYPOS:
        norm = norm.replace(typo, right)
    if "百分之" in norm:
        norm = _PERCENT_IN_WORDS.sub(lambda m: f"{timewords.small_number(m['n'].replace('两', '二'))}"
                                     + (f".{''.join(_DIGIT_OF[c] for c in m['f'])}" if m["f"] else "") + "%", norm)
    return norm


def understand(text: str, today: date, known_departments: Mapping[str, str] | None = None,
               document_numbers: Mapping[str, str] | None = None, places: Collection[str] = ()) -> Question:
    """Parse a question. `known_departments` maps department names (and aliases) to their core,
    `document_numbers` doc ids to their 文号; `places` are regions the documents name that the
    region tables lack (石岭县), found in a question by their name with or without 县/市."""
    norm = _TWO_DIGIT_YEAR.sub(r"20\1年", normalize(text)[:500])  # 23年年底 is 2023年年底
    norm = name_described_departments(_NEW_TOPIC.sub("", _typed_right(norm)))  # 管环保的那个厅 is the 生态环境厅
    norm, today = _today_said(norm, today)
    reference = find_reference(norm)
    q = Question(raw=text, norm=norm, core=question_core(norm.replace(reference.text, "，") if reference else norm),
                 today=today)
    if reference:
        q.reference = reference
        q.doc_ids = cited_documents(reference, document_numbers or {})
    q.greeting = bool(_GREETING.match(norm))
    q.help = bool(_HELP.match(norm))
    q.wants_when = bool(_WHEN.search(norm))
    q.wants_who = bool(_WHO.search(norm))
    q.wants_lead = bool(_LEAD.search(norm)) and not _ANY_ROLE.search(norm)
    q.wants_amount = bool(_HOW_MUCH.search(norm)) or bool(re.search(r"(?:率|比重|占比|强度)$", q.core))
    q.wants_list = bool(_LIST.search(_WHO_PLURAL.sub("", norm))) or bool(
        _LIST_UNLESS_ASKED.search(norm) and not (q.wants_when or q.wants_who or q.wants_amount))
    q.direction = value_direction(norm) if q.wants_amount else ""
    q.wants_money = bool(_MONEY.search(norm))
    q.wants_amount = q.wants_amount or q.wants_money
    q.wants_targets = q.wants_amount and bool(_TARGETS.search(norm)) and not _ONE_VALUE.search(norm)
    if _NATIONAL_WORDS.search(norm):
        q.region = NATIONAL
    q.region = find_region(norm) or q.region or _named_place(norm, places)
    departments = known_departments or {}
    named = _as_documents_name_departments(norm, q.region)
    prefix = region_prefix(q.region) if q.region and q.region != NATIONAL else ""

    def named_in_question(name: str) -> bool:  # 福建…工信厅 names 省工业和信息化厅
        if name in named:
            return True
        return bool(prefix) and name.startswith(prefix) and len(name) - len(prefix) >= 3 and name[len(prefix):] in named

    for name in sorted((n for n in departments if len(n) >= 3 and named_in_question(n)), key=len, reverse=True):
        if any(name in longer for longer in q.department_names):
            continue  # 能源局 inside 国家能源局
        q.department_names.add(name)
        q.department_cores.add(departments[name])
    if issued := _issuer(named, q.department_names, prefix):
        q.issuer, q.document_kind = issued
        q.department_names.discard(q.issuer)
        q.department_cores = {departments[n] for n in q.department_names}
    if dated := timewords.dated_phrase(norm, today):  # 今年12月底前: the documents' phrase, in that year
        q.deadline_phrase, q.window, q.window_phrase = dated
    else:
        phrase = next((re.sub(r"^(?:到|至|在|于)", "", d.text) for d in find_deadlines(norm, None)
                       if d.due is None and (d.ongoing or re.search(r"月|季度|半年|年底|年内", d.text))
                       and not re.search(r"\d{4}", d.text)), "")
        said = timewords.window(norm, today)
        if said and not (phrase and said[1] in phrase and len(phrase) > len(said[1])):  # 年内持续推进: a phrase
            q.window, q.window_phrase = said
        else:
            q.deadline_phrase = timewords.digit_month(phrase)
    if asked := timewords.status(norm):
        q.status, q.status_phrase = asked
        q.window = timewords.intersect(q.window or (None, None), timewords.status_window(q.status, today))
        q.started_by = today if q.status == "active" else None
    q.unfinished = bool(q.status) or bool(q.window and q.window[0] == today)
    has_filter = bool(q.deadline_phrase or q.window or q.department_cores or q.reference)
    said_time = re.sub("|".join(re.escape(p) for p in (q.window_phrase, q.status_phrase, q.deadline_phrase) if p)
                       or "^$", "，",
                       re.sub(r"什么[?？]?$", "", norm))  # …要完成什么 is no yes/no question
    if has_filter and _LIST_NOUN.search(q.core) and not (q.wants_when or q.wants_amount or _ONE_THING.search(said_time)):
        q.wants_list = True  # 国家能源局负责的2021年任务 / 年内持续推进的工作
    if (q.window or q.deadline_phrase) and q.core_is_only_filters \
            and not (q.wants_who or q.wants_amount or _ONE_THING.search(said_time)):
        q.wants_list = True  # 快到期的 / 已过期的有哪些 / 6月底前要完成什么: nothing but the time
    if m := _YEAR.search(norm):
        q.year = int(m[1])
        if q.wants_list and not (q.window or q.deadline_phrase) and q.core_is_only_filters:  # 2025年要完成哪些任务
            q.window, q.window_phrase = (date(q.year, 1, 1), date(q.year, 12, 31)), m[0]
    if q.region and q.region != NATIONAL and not q.issuer and (m := _DOCUMENT_KIND.search(norm)):
        q.document_kind = m[1]
    q.about_documents = _about_documents(q)
    return q


def _named_place(norm: str, places: Collection[str]) -> str | None:
    for place in sorted(places, key=len, reverse=True):
        if place in norm or (len(place) >= 3 and place[:-1] in norm):  # 石岭县 or 石岭
            return place
    return None


def value_direction(text: str) -> str:
    """"down" when the words make a value fall (降到, 降至, 减少, 控制在, 不超过), "up" when rise (提高,
    提升, 增加, 不低于); "" when neither or both. Of a question, or of a target's comparator."""
    down, up = bool(_DOWN.search(text)), bool(_UP.search(text))
    return "down" if down and not up else "up" if up and not down else ""


def _today_said(norm: str, today: date) -> tuple[str, date]:
    """The question without a statement of the day to count from, and that day (else `today`; also
    when the stated day does not exist: 2021年2月30日)."""
    if not (m := _TODAY_SAID.search(norm)):
        return norm, today
    with contextlib.suppress(ValueError):
        today = date(int(m[1]), int(m[2]), int(m[3]))
    return norm[:m.start()] + "," + norm[m.end():], today


def _issuer(named: str, department_names: set[str], prefix: str) -> tuple[str, str] | None:
    """(department, document kind) when a department the question names is the issuer of the document
    it points at, as written in `named` (the question as documents name departments)."""
    for name in sorted(department_names, key=len, reverse=True):
        written = name if name in named else name[len(prefix):]
        for m in re.finditer(re.escape(written), named):
            if (d := _ISSUED_DOCUMENT.match(named, m.end())) and not _NOT_ISSUING.search(d[0]):
                return name, d[1]
    return None


def _about_documents(q: Question) -> str:
    """list / date / count when the question asks about documents rather than their items."""
    if _DOCUMENTS_LIST.search(q.norm) and not document_words(q):
        return "list"
    if _ISSUED_WHEN.search(q.norm):
        return "date"
    if _ITEM_COUNT.search(q.norm):
        return "count"
    return ""


def document_words(q: Question) -> str:
    """The words of a question about documents that name one (by its title): 节能减排综合工作实施方案
    in 节能减排综合工作实施方案有多少条; empty when the question names none but its region or 文号."""
    rest = q.norm.replace(q.reference.text, "，") if q.reference else q.norm
    if q.region:
        rest = rest.replace(q.region, "，").replace(short_name(q.region), "，")
    rest = _DOCUMENT_FILLER.sub("，", _ITEM_COUNT.sub("，", _ISSUED_WHEN.sub("，", _DOCUMENTS_LIST.sub("，", rest))))
    return re.sub(r"，+", "，", rest).strip("，")
