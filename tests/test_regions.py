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
