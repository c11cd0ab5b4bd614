from datetime import date

import pytest

from knowledge.documents import DocumentError, decode, parse_document


def texts(doc):
    return [b.text for b in doc.blocks]


def test_yaml_front_matter_and_html_body():
    doc = parse_document(
        "\n---\ntitle: '新闻标题'\ndate: Fri, 26 Mar 2021 09:30:00 GMT\n---\n"
        "<div><p style='x'>第一段。</p><p>第二段&amp;更多。</p><style>.a{}</style><!-- c --></div>"
    )
    assert doc.title == "新闻标题"
    assert doc.date == date(2021, 3, 26)
    assert texts(doc) == ["第一段。", "第二段&更多。"]


def test_jekyll_date_and_trailing_links():
    doc = parse_document(
        "---\nlayout: post\ntitle: \"标题\"\ndate: 2022-06-06 16:19:54 +0800\n---\n<p>正文。</p>\n\n"
        "<http://example.org/a?b=1>\n\n[返回新闻](//x.y/z.html)｜[返回首页](//x.y/)"
    )
    assert doc.date == date(2022, 6, 6)
    assert doc.url == "http://example.org/a?b=1"
    assert texts(doc) == ["正文。"]


def test_obsidian_headings_and_wiki_links():
    doc = parse_document(
        '---\n{"dg-publish":true}\n---\n==#一是推进绿色转型，强化引领。==\n'
        "1.强化规划引领。将目标融入规划。[[页面\\|标签]][[另一页\\|另一]]\n"
        "参见[[碳市场\\|全国碳市场]]建设要求。\n[[独立链接\\|独立]] [[第二\\|第二]]\n"
    )
    assert [(b.text, b.heading) for b in doc.blocks] == [
        ("一是推进绿色转型，强化引领。", True),
        ("1.强化规划引领。将目标融入规划。", False),
        ("参见全国碳市场建设要求。", False),
    ]


def test_wechat_chrome_is_dropped():
    doc = parse_document(
        "\n微信号\nzhejiangjingxin\n\n功能介绍\n您手中的浙江经信！\n正文第一句。正文第二句。往期 · 推荐◆某某会议\n"
        "前往“发现”-“看一看”浏览“朋友在看”\n\n已发送发送中微信扫一扫关注该公众号"
    )
    assert texts(doc) == ["正文第一句。正文第二句。"]
    assert doc.date is None


def test_news_intro_before_full_text_is_dropped_and_title_detected():
    doc = parse_document(
        "<p>据报道，《方案》明确，到2025年煤炭消费比重降至75%以下。</p><p><strong>全文如下：</strong></p>"
        "<p align='center'><strong>某某自治区节能减排综合工作实施方案</strong></p><p>一、总体要求</p><p>正文。</p>"
    )
    assert doc.title == "某某自治区节能减排综合工作实施方案"
    assert texts(doc) == ["一、总体要求", "正文。"]


def test_signature_gives_date_and_issuer():
    doc = parse_document("关于某事的通知\n一、加快推进某事。\n国务院\n2022年3月21日\n")
    assert doc.date == date(2022, 3, 21)
    assert doc.issuer == "国务院"
    assert texts(doc) == ["一、加快推进某事。"]


def test_editor_footer_and_source_lines_are_dropped():
    doc = parse_document("<p>正文。</p><p class='article-editor'>责任编辑：李昂 </p><p>（文章来源：某报）</p>")
    assert texts(doc) == ["正文。"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空"),
        (b"   \n\n", "空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是文本"),
        (b"\xff\xfe\x00\x00garbage\x00", "不是文本"),
    ],
)
def test_junk_files_are_refused(data, message):
    with pytest.raises(DocumentError, match=message):
        decode(data)


def test_gb18030_is_read():
    assert decode("碳达峰行动方案".encode("gb18030")) == "碳达峰行动方案"


def test_a_document_with_no_text_is_refused():
    with pytest.raises(DocumentError):
        parse_document("---\ntitle: x\n---\n<div><img src='a.png'></div>")


def test_oversized_document_is_refused():
    with pytest.raises(DocumentError, match="太长"):
        parse_document("很" * 2_000_001)
