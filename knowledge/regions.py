"""China's regions a policy document can come from: the provincial-level ones and their
prefecture-level cities (地级市, 自治州, 地区, 盟) — full names, the short names people use, and
detection in titles and questions."""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.lazyre import lazy_compile

NATIONAL = "国家"

PROVINCES: tuple[str, ...] = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省",
    "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区",
    "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区",
)

# Prefecture-level divisions by province; a bare name is "<name>市".
_CITIES_BY_PROVINCE: dict[str, str] = {
    "河北省": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水",
    "山西省": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "内蒙古自治区": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 兴安盟 锡林郭勒盟 阿拉善盟",
    "辽宁省": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "吉林省": "长春 吉林 四平 辽源 通化 白山 松原 白城 延边朝鲜族自治州",
    "黑龙江省": "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化 大兴安岭地区",
    "江苏省": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁",
    "浙江省": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水",
    "安徽省": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建省": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德",
    "江西省": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "山东省": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽",
    "河南省": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 济源",
    "湖北省": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施土家族苗族自治州",
    "湖南省": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西土家族苗族自治州",
    "广东省": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮",
    "广西壮族自治区": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "海南省": "海口 三亚 三沙 儋州",
    "四川省": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 "
              "阿坝藏族羌族自治州 甘孜藏族自治州 凉山彝族自治州",
    "贵州省": "贵阳 六盘水 遵义 安顺 毕节 铜仁 黔西南布依族苗族自治州 黔东南苗族侗族自治州 黔南布依族苗族自治州",
    "云南省": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄彝族自治州 红河哈尼族彝族自治州 文山壮族苗族自治州 "
              "西双版纳傣族自治州 大理白族自治州 德宏傣族景颇族自治州 怒江傈僳族自治州 迪庆藏族自治州",
    "西藏自治区": "拉萨 日喀则 昌都 林芝 山南 那曲 阿里地区",
    "陕西省": "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛",
    "甘肃省": "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏回族自治州 甘南藏族自治州",
    "青海省": "西宁 海东 海北藏族自治州 黄南藏族自治州 海南藏族自治州 果洛藏族自治州 玉树藏族自治州 海西蒙古族藏族自治州",
    "宁夏回族自治区": "银川 石嘴山 吴忠 固原 中卫",
    "新疆维吾尔自治区": "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉回族自治州 博尔塔拉蒙古自治州 巴音郭楞蒙古自治州 阿克苏地区 "
                        "克孜勒苏柯尔克孜自治州 喀什地区 和田地区 伊犁哈萨克自治州 塔城地区 阿勒泰地区",
}

# Short names that are also ordinary words, inside common phrases or other places (日照 sunshine, 宁德
# in 宁德时代, 大理 in 大理石, 广安 in 推广安装, 朝阳 a Beijing district): a city only when written in full.
_SHORT_ONLY_IN_FULL = frozenset({
    "朝阳", "大同", "白银", "中山", "北海", "三明", "白山", "红河", "文山", "普洱", "玉树", "阿里", "山南", "海北", "海西", "海东", "黄南", "甘南",
    "海南", "吉林", "大理", "安康", "长治", "日照", "开封", "来宾", "河源", "怒江", "黑河", "宁德", "兴安", "大兴安岭", "德州", "黄山", "通化",
    "淮北", "淮南", "定西", "平凉", "武威", "新乡", "新余", "广安", "固原",
})

_ETHNIC = "土家族|苗族|朝鲜族|布依族|侗族|藏族|羌族|彝族|哈尼族|壮族|傣族|白族|景颇族|傈僳族|回族|蒙古族|柯尔克孜|哈萨克|蒙古"
_SUFFIX = re.compile(rf"^(?P<short>.+?)(?:(?:{_ETHNIC})+自治州|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|"
                     r"地区|盟|省|市)$")


def _full_name(name: str) -> str:
    return name if re.search(r"(?:自治州|地区|盟)$", name) else name + "市"


CITIES: dict[str, str] = {_full_name(name): province
                          for province, names in _CITIES_BY_PROVINCE.items() for name in names.split()}


def short_name(region: str) -> str:
    """'内蒙古自治区' -> '内蒙古', '浙江省' -> '浙江', '武汉市' -> '武汉', '恩施土家族苗族自治州' -> '恩施'."""
    m = _SUFFIX.match(region)
    return m["short"] if m and len(m["short"]) >= 2 else region


def province_of(region: str) -> str | None:
    """The province a city belongs to (武汉市 -> 湖北省); None for a province or 国家."""
    return CITIES.get(region)


def _names() -> dict[str, str]:
    """Every way a region is written -> its full name. Provinces come last so that they win a tie
    (吉林 is the province; the city is 吉林市)."""
    names: dict[str, str] = {}
    for city in CITIES:
        names[city] = city
        if (short := short_name(city)) not in _SHORT_ONLY_IN_FULL:
            names[short] = city
    for province in PROVINCES:
        names[province] = names[short_name(province)] = province
    names["内蒙"] = "内蒙古自治区"  # as often said as 内蒙古
    return names


_BY_NAME = _names()
_LENGTHS = sorted({len(n) for n in _BY_NAME}, reverse=True)
# The same names as one pattern, longest first (at one position 吉林市 beats 吉林, 内蒙古自治区 beats 内蒙古),
# for long texts; compiling it costs more than a question's whole search, which `_name_at` does.
_ANY_REGION = lazy_compile("|".join(sorted(map(re.escape, _BY_NAME), key=len, reverse=True)))


def _name_at(text: str, i: int) -> str | None:
    """The longest region name that starts at `text[i]`, as `_ANY_REGION.match(text, i)` finds it."""
    for n in _LENGTHS:
        if (name := text[i:i + n]) in _BY_NAME:
            return name
    return None


@lru_cache(maxsize=4096)
def find_region(text: str) -> str | None:
    """The first region named in `text` (full or short name; a province or a city), as its full name."""
    for i in range(len(text)):
        if name := _name_at(text, i):
            found = _BY_NAME[name]
            if (city := _name_at(text, i + len(name))) and CITIES.get(_BY_NAME[city]) == found:
                return _BY_NAME[city]  # 湖北省武汉市: the city
            return found
    return None


def canonical_region(name: str) -> str | None:
    """A user's region word to its full name; 国家/全国/中央 -> 国家; unknown -> None."""
    name = name.strip()
    if name in ("国家", "全国", "中央", "国务院"):
        return NATIONAL
    return _BY_NAME.get(name) or _BY_NAME.get(short_name(name)) or _BY_NAME.get(name.removesuffix("州"))  # 恩施州


_NATIONAL_ISSUER = lazy_compile(r"^(?:中共中央|国务院|全国|国家|中华人民共和国|最高人民|中国人民银行|[^省市区州县]{2,8}(?:部|总局|委员会))")


def document_region(title: str, issuer: str, body: str = "") -> str:
    """Where a document comes from: the region its title starts with (武汉市人民政府办公厅关于…), else
    its signature's (issuer's) region, else national when title or issuer is a national body
    (国务院关于支持赣州… is national), else the first region the title names, else the region its
    text calls its own (我省 … 四川), else national."""
    if name := _name_at(title, 0):
        return _BY_NAME[name]
    if found := find_region(issuer):
        return found
    if _NATIONAL_ISSUER.match(title) or _NATIONAL_ISSUER.match(issuer):
        return NATIONAL
    return find_region(title) or own_region(body) or unlisted_place(title, issuer, body) or NATIONAL


_OWN = lazy_compile(r"[我本](省|自治区|区|市|州)")
# A place the tables lack — a county, a district, a city not listed — named at the start of the issuer
# or the title: 石岭县人民政府 / 嘉禾市2023年…分工方案.
_PLACE_AT_START = lazy_compile(r"[\u4e00-\u9fa5]{2,4}?[省市县区旗]")
# an issuer that is the place's government (a company named after it is not: its 安全环保部 is its own)
_GOVERNMENT = lazy_compile(r"(?:人民政府|政府)(?:办公厅|办公室|新闻办公室)?$")


def unlisted_place(title: str, issuer: str, body: str) -> str | None:
    """The place the issuer or the title starts with when the text speaks of it as its own (全县,
    我市, 本区 …), or whose government issues it (望川市人民政府办公室): a region of its own, with no
    province known."""
    for text, issues in ((issuer, True), (title, False)):
        if (m := _PLACE_AT_START.match(text)) and (
                re.search(f"[全我本]{m[0][-1]}", body) or (issues and _GOVERNMENT.search(text))):
            return m[0]
    return None


def own_region(text: str) -> str | None:
    """The region a text speaks of as its own: 我省 with the province it names (…国家下达四川的…)."""
    if not (m := _OWN.search(text)):
        return None
    ending = {"区": "自治区", "州": "州"}.get(m[1], m[1])
    return next((_BY_NAME[r[0]] for r in _ANY_REGION.finditer(text) if _BY_NAME[r[0]].endswith(ending)), None)
