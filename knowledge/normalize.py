"""Text normalisation and tokens shared by the index and the questions.

NFKC, traditional -> simplified, lower case, domain abbreviations to their full form, then character
bigrams (plus ASCII words) for matching and toneless pinyin bigrams for homophone typos (煤碳 ~ 煤炭).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from itertools import repeat
from operator import add

import opencc

from knowledge import lexicon as lexicon_cache
from knowledge import segmenter
from knowledge.lazyre import lazy_compile

# Abbreviations and common variants, rewritten the same way in documents and questions.
# Each maps to the form the policy documents themselves use.
REWRITES: dict[str, str] = {
    "gdp": "国内生产总值",
    "央行": "人民银行",
    "中国人民银行": "人民银行",
    "国家发改委": "国家发展改革委",
    "发改委": "发展改革委",
    "发展和改革委员会": "发展改革委",
    "工信部": "工业和信息化部",
    "住建部": "住房城乡建设部",
    "住房和城乡建设部": "住房城乡建设部",
    "人社部": "人力资源社会保障部",
    "环保部": "生态环境部",
    "卫健委": "卫生健康委",
    "两高": "高耗能高排放",
    "新能源车": "新能源汽车",
    "电动车": "新能源汽车",
    "电动汽车": "新能源汽车",
    "ccus": "碳捕集利用与封存",
    "碳捕获": "碳捕集",
    "绿电": "可再生能源电力",
    "绿色电力": "可再生能源电力",
    "vocs": "挥发性有机物",
    "碳交易": "碳排放权交易",
    "碳市场": "碳排放权交易市场",
    "双碳": "碳达峰碳中和",
    "啥": "什么",
    "煤碳": "煤炭",
    "十四五期间": "十四五时期",
    "全年持续推进": "年内持续推进",
    "十五五期间": "十五五时期",
}
# Question-side expansions: words whose documents' wording varies; the additions are searched too.
EXPANSIONS: dict[str, str] = {
    "双控": "能耗双控 能源消费双控 总量双控",
    "能耗": "能源消耗",
    "能源消耗": "能耗",
    "减排": "碳减排 节能减排",
    "充电桩": "充电设施 充换电",
    "回收": "回收利用",
    "电池": "动力电池",
    "燃煤": "煤炭",
    "储能": "新型储能",
    "碳排放": "二氧化碳排放",
    "法律": "法 法律法规",
    "考核": "评价 考核",
    "货币工具": "支持工具 货币政策工具",
    "粪便": "粪污",
    "养殖场": "畜禽 养殖",
    "公交": "公交车 公共交通",
    "步行道": "行人步道",
    "柴油车": "柴油汽车",
    "多久": "频次 频率",
    "多长时间": "频次",
    # general energy/climate vocabulary: the everyday word -> the documents' words
    "火电": "煤电 燃煤发电",
    "风能": "风电",
    "风电": "风能",
    "太阳能": "光伏",
    "光伏": "太阳能",
    "地铁": "城市轨道交通",
    "轻轨": "城市轨道交通",
    "高铁": "铁路",
    "公交车": "公共交通",
    "氢气": "氢能",
    "天然气": "燃气 气化",
    "燃油车": "燃油车船",
    "电车": "新能源汽车 纯电动",  # everyday speech: 买电车, 纯电车
    "买车": "购车 购买",
    "汽油车": "燃油车船",
    "垃圾": "生活垃圾 固体废物",
    "废水": "污水",
    "排污": "污染物排放",
    "节约用水": "节水",
    "用水": "节水 用水量",
    "植树": "国土绿化 森林",
    "森林": "碳汇",
    "新能源汽车": "新能源和清洁能源车船",
    "绿色建筑": "节能低碳建筑 绿色建筑标准",
    "建筑节能": "节能改造 建筑节能标准",
    "锅炉": "燃煤锅炉",
    "电价": "电价政策 阶梯电价",
    "补贴": "奖补 财政支持 资金支持",
    "贷款": "信贷 再贷款",
    "碳税": "碳减排相关税收政策",
    "分摊": "分担",
    "报给": "报送 上报",
    # everyday speech -> the documents' words (what staff type: 烧煤, 盖楼, 开车, 老房子)
    "烧煤": "煤炭 燃煤 煤炭消费",
    "用煤": "煤炭消费 煤炭",
    "烧油": "石油 燃油 石油消费",
    "用油": "石油消费 成品油",
    "烧气": "天然气 燃气",
    "用电": "电能 电力 用电",
    "代替": "替代",
    "换成": "替代",
    "工厂": "工业 企业",
    "厂子": "工业 企业",
    "钢厂": "钢铁 钢铁企业",
    "电厂": "发电 煤电 电厂",
    "盖楼": "新建建筑 建筑",
    "盖房子": "新建建筑 建筑",
    "房子": "建筑 住房",
    "老房子": "既有建筑 老旧小区",
    "住宅": "居住建筑 住房",
    "开车": "机动车 汽车",
    "私家车": "私人乘用车 乘用车",
    "货车": "货运车辆 重型货车",
    "出租车": "出租汽车",
    "坐公交": "公共交通",
    "骑车": "自行车 绿色出行",
    "暖气": "供暖 清洁取暖 供热",
    "取暖": "供暖 清洁取暖",
    "种树": "植树 造林 国土绿化",
    "路灯": "照明",
    "塑料袋": "塑料制品 一次性塑料",
    "快递": "快递包装 寄递",
    "电费": "电价",
    "老百姓": "居民 群众",
    "到顶": "达峰 峰值",
    "用量": "消费 消费量 使用量",
    "新盖": "新建",
    "楼顶": "屋顶",
    "打折": "优惠",
    "编好": "编制 制定",
    "机关": "公共机构 党政机关",
    "省里": "省级",  # spoken 省里/市里/区里/县里: the documents' 省级/市级…
    "市里": "市级",
    "区里": "区级",
    "县里": "县级",
    "西边": "西部", "东边": "东部", "南边": "南部", "北边": "北部",  # 内蒙古西边 is its 西部地区
    "村里": "农村", "城里": "城镇 城市", "乡下": "农村",
    "庄稼": "农作物", "玉米秆": "秸秆", "麦秆": "秸秆", "稻草": "秸秆",
    "脏水": "污水", "臭水沟": "黑臭水体", "发黑发臭": "黑臭", "水塘": "水体 坑塘",
    "火车": "铁路", "拉货": "货运 运输", "运货": "货运 运输", "坐车": "出行",
    "喷漆": "涂装 涂料", "省钱": "节约", "电动车": "新能源汽车 电动汽车",
}

_converter: opencc.OpenCC | None = None
_QUOTES = str.maketrans({"“": "", "”": "", "‘": "", "’": "", "「": "", "」": "", '"': "", "'": "", "《": "", "》": ""})
_REWRITE_RE = re.compile("|".join(sorted(map(re.escape, REWRITES), key=len, reverse=True)))
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_UNIT_RE = lazy_compile(rf"[{_CJK}]|[a-z0-9]+(?:\.[0-9]+)?|[ⅰ-ⅻ]+|%")


def _t2s(text: str) -> str:
    global _converter
    if _converter is None:
        _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


def nfkc(text: str) -> str:
    """NFKC, computed as its definition says: compatibility decomposition, then canonical
    composition. The same result, ~15 times faster on Chinese text than CPython's own NFKC,
    which composes every character by a slow table search once a full-width comma is seen."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text))


def normalize(text: str) -> str:
    """The matching form of a text: NFKC, simplified, lower case, no quotes, abbreviations expanded."""
    text = nfkc(text or "")
    text = _t2s(text).lower().translate(_QUOTES)
    text = " ".join(text.split())  # runs of white space as one space, none at the ends
    return _REWRITE_RE.sub(lambda m: REWRITES[m.group(0)], text)


def units(norm: str) -> list[str]:
    """Characters of Chinese text, whole ASCII words and numbers, in order; punctuation dropped."""
    return _UNIT_RE.findall(norm)


def _is_cjk(u: str) -> bool:
    return len(u) == 1 and "\u3400" <= u <= "\ufaff"


_TOKEN_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:\.[0-9]+)?|[ⅰ-ⅻ]+")  # no "%": the index drops it


def bigrams(norm: str) -> list[str]:
    """Overlapping character bigrams within each run of Chinese text (a lone character stands for
    itself), plus ASCII words and numbers as they are. Punctuation and ASCII break runs."""
    out: list[str] = []
    for run in _TOKEN_RUN.findall(norm):
        if len(run) > 1 and _is_cjk(run[0]):
            out += map(add, run, run[1:])  # each character with the next
        else:
            out.append(run)
    return out


# Each Chinese character's toneless reading once looked up (at most the ~52k of SOUND_RANGE); a
# character with no reading stands for itself. Only Chinese characters are ever keys.
_SYLLABLES: dict[str, str] = {}


def _learn_syllables(text: str) -> None:
    """Look up the readings of the text's Chinese characters not yet known, in one query."""
    if new := [c for c in set(text).difference(_SYLLABLES) if _is_cjk(c)]:
        found = _lexicon().syllables(new)
        _SYLLABLES.update({c: found.get(c) or c for c in new})


def char_syllables(text: str) -> tuple[str, ...]:
    """Each character's toneless syllable (pypinyin's reading, from the lexicon cache, without its
    phrase dictionaries); "" for what is not Chinese (which `syllables` leaves out)."""
    _learn_syllables(text)
    return tuple(map(_SYLLABLES.get, text, repeat("")))


def syllables(norm: str) -> str:
    """Toneless pinyin of the Chinese characters, space-separated ('mei tan xiao fei')."""
    _learn_syllables(norm)
    return " ".join(filter(None, map(_SYLLABLES.get, norm)))


_NOT_CJK = re.compile(rf"[^{_CJK}]+")


def sound_bigrams(norm: str) -> list[str]:
    """Toneless pinyin bigrams ('meitan'), so homophone typos still meet."""
    _learn_syllables(norm)
    out: list[str] = []
    for run in _NOT_CJK.split(norm):
        syllables = list(map(_SYLLABLES.__getitem__, run))
        out += map(add, syllables, syllables[1:])
    return out


# Domain terms jieba's general dictionary splits or does not know.
DOMAIN_WORDS = (
    "碳达峰", "碳中和", "双控", "能耗双控", "两新一重", "碳汇", "碳排放权", "用能权", "排污权", "碳减排", "清洁取暖",
    "煤电", "核电", "气电", "绿电", "储能", "抽水蓄能", "新型储能", "氢能", "光伏", "风电", "充电桩", "换电站",
    "挥发性有机物", "化学需氧量", "氨氮", "氮氧化物", "超低排放", "散煤", "热电联产", "余热", "燃煤锅炉", "粪污",
    "秸秆", "数据中心", "能效", "领跑者", "国三", "柴油车", "柴油汽车", "公转铁", "多式联运", "去产能", "回头看",
    "十四五", "十五五", "十三五", "国内生产总值", "单位国内生产总值", "非化石能源", "可再生能源", "碳捕集",
)
_lexicon_loaded: lexicon_cache.Lexicon | None = None
_lexicon_lock = threading.Lock()


def added_words() -> list[str]:
    """The words added to jieba's dictionary, normalised, in the order they are added."""
    from knowledge.departments import NATIONAL_ALIASES

    return [normalize(w) for w in (*DOMAIN_WORDS, *NATIONAL_ALIASES,
                                   *(a for aliases in NATIONAL_ALIASES.values() for a in aliases))]


def _lexicon() -> lexicon_cache.Lexicon:
    """jieba's dictionary with the domain's words, and single characters' pinyin: opened on first use
    (and built into the cache the first time ever, see knowledge/lexicon.py)."""
    global _lexicon_loaded
    if _lexicon_loaded is None:
        with _lexicon_lock:
            if _lexicon_loaded is None:
                _lexicon_loaded = lexicon_cache.load(added_words())
    return _lexicon_loaded


_ASCII_COMPOUND = re.compile(r"[a-z0-9]+(?:\+[a-z0-9]+)+")  # 1+n, one word


def words(norm: str) -> list[str]:
    """Words of a (normalised) question, by jieba with the domain's terms added; 1+n stays one word."""
    out: list[str] = []
    pos = 0
    for m in [*_ASCII_COMPOUND.finditer(norm), None]:
        end = m.start() if m else len(norm)
        out += [w for w in segmenter.cut(norm[pos:end], _lexicon()) if w.strip()]
        if m:
            out.append(m.group(0))
            pos = m.end()
    return out


def search_words(word: str) -> list[str]:
    """The shorter words inside a word (jieba's search mode): 废旧轮胎 -> 废旧, 轮胎."""
    return [w for w in segmenter.cut_for_search(word, _lexicon()) if w.strip()]


def expansions(norm: str) -> str:
    """The domain's other wordings of what a question mentions, as extra search text."""
    return "，".join(add for key, add in EXPANSIONS.items() if key in norm)

