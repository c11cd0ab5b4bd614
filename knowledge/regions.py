"""China's provincial-level regions: full names, the short names people use, detection in text."""

from __future__ import annotations

NATIONAL = "国家"

PROVINCES: tuple[str, ...] = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省",
    "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区",
    "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区",
)


def short_name(region: str) -> str:
    """'内蒙古自治区' -> '内蒙古', '浙江省' -> '浙江', '广西壮族自治区' -> '广西'."""
    for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市"):
        if region.endswith(suffix) and len(region) > len(suffix):
            return region[: -len(suffix)]
    return region


_BY_SHORT = {short_name(p): p for p in PROVINCES}


def find_region(text: str) -> str | None:
    """The first provincial region named in `text` (full or short name), as its full name."""
    best: tuple[int, str] | None = None
    for short, full in _BY_SHORT.items():
        i = text.find(short)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, full)
    return best[1] if best else None


def canonical_region(name: str) -> str | None:
    """A user's region word to its full name; 国家/全国/中央 -> 国家; unknown -> None."""
    name = name.strip()
    if name in ("国家", "全国", "中央", "国务院"):
        return NATIONAL
    if name in PROVINCES:
        return name
    return _BY_SHORT.get(short_name(name))
