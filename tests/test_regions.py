"""Regions: provinces and prefecture-level cities, in questions and in document titles."""

import pytest

from knowledge.regions import NATIONAL, canonical_region, document_region, find_region, province_of, short_name


@pytest.mark.parametrize(("text", "region"), [
    ("内蒙古煤炭消费比重", "内蒙古自治区"),
    ("内蒙十四五单位GDP能耗", "内蒙古自治区"),
    ("武汉现在买电车补多少钱", "武汉市"),
    ("吉林省的任务", "吉林省"),
    ("吉林市的任务", "吉林市"),  # the city only when written in full
    ("湖北省武汉市的充电设施", "武汉市"),  # a province then its city: the city
    ("浙江和杭州的亚运场馆", "浙江省"),
    ("恩施州的光伏", "恩施土家族苗族自治州"),
    ("宁德时代的电池", None),  # 宁德 in a company's name
    ("日照时数和大理石", None),
    ("北方地区清洁取暖", None),
])
def test_find_region(text, region):
    assert find_region(text) == region


def test_names_and_provinces():
    assert short_name("恩施土家族苗族自治州") == "恩施" and short_name("黔西南布依族苗族自治州") == "黔西南"
    assert short_name("内蒙古自治区") == "内蒙古" and short_name("兴安盟") == "兴安"
    assert province_of("武汉市") == "湖北省" and province_of("湖北省") is None
    assert canonical_region("武汉") == "武汉市" and canonical_region("全国") == NATIONAL
    assert canonical_region("恩施州") == "恩施土家族苗族自治州" and canonical_region("火星") is None


def test_document_region_from_title_and_issuer():
    assert document_region("武汉市人民政府办公厅关于印发…若干措施的通知", "") == "武汉市"
    assert document_region("关于进一步加强节能降碳工作的通知", "福建省人民政府办公厅") == "福建省"
    assert document_region("国务院关于支持赣州等原中央苏区振兴发展的若干意见", "国务院") == NATIONAL
    assert document_region("关于推进杭州湾区域绿色发展的意见", "") == "杭州市"
    assert document_region("关于做好碳达峰碳中和工作的意见", "中共中央、国务院") == NATIONAL


@pytest.mark.parametrize(
    ("title", "issuer", "body", "region"),
    [
        # a provincial department's plan with no region in its title: the body's 我省 and the province it names
        ("2021年全省水污染防治工作要点", "", "为完成国家下达江西的年度任务，结合我省实际，制定本要点。", "江西省"),
        ("2022年工作计划", "", "我市将联合南京、无锡推进…", "南京市"),
        ("关于加强草原保护的实施意见", "", "我区要统筹内蒙古东部和西部…", "内蒙古自治区"),
        # the issuer and the title come first; national bodies stay national
        ("2021年全省水污染防治工作要点", "湖南省生态环境厅", "结合我省实际，对标江西…", "湖南省"),
        ("关于做好碳达峰碳中和工作的意见", "国务院", "我省…四川…", NATIONAL),
        # no 我省: a province merely named in the text is not the document's
        ("2021年水污染防治工作要点", "", "学习浙江经验，推进流域治理。", NATIONAL),
    ],
)
def test_document_region_from_its_own_text(title, issuer, body, region):
    assert document_region(title, issuer, body) == region


def test_the_name_scan_finds_what_the_pattern_finds():
    """find_region scans for names with dictionary lookups; the compiled pattern (for long texts) agrees."""
    from pathlib import Path

    from knowledge import regions

    root = Path(__file__).resolve().parent.parent
    texts = [p.read_text(encoding="utf-8") for p in (*(root / "knowledge" / "corpus").glob("*.txt"),
                                                    *(root / "tests" / "data").rglob("*.txt"))]
    texts.append("湖北省武汉市、吉林市和吉林省，内蒙与内蒙古自治区，恩施土家族苗族自治州")
    assert len(texts) > 5
    for text in texts:
        for i in range(len(text)):
            m = regions._ANY_REGION.match(text, i)
            assert regions._name_at(text, i) == (m[0] if m else None), text[i:i + 12]
