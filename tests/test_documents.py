from datetime import date

import pytest

from knowledge.documents import DocumentError, decode, parse_document, title_year


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


# A notice's head in the styles real notices use: the title on one or two lines, the 文号 in any
# bracket form, the addressees (on their own line or opening the notice's paragraph), the signature
# right after the notice and before the text it issues, a publication note.
NOTICE_HEADS = [
    ("某省能源局关于印发《2023年可再生能源\n重点工作安排》的通知\n某能新〔2023〕7号\n各市能源局：\n"
     "现将《2023年可再生能源重点工作安排》印发给你们，请认真抓好落实。\n某省能源局\n2023年2月14日\n"
     "2023年可再生能源重点工作安排\n一、推进风电建设。\n",
     "某省能源局关于印发《2023年可再生能源重点工作安排》的通知", "某能新〔2023〕7号", "某省能源局", date(2023, 2, 14)),
    ("某市人民政府办公室关于印发某市绿色建筑行动方案的通知\n某政办发[2022]3号\n"
     "各区人民政府，市政府各部门：现将《某市绿色建筑行动方案》印发给你们，请认真组织实施。\n"
     "某市人民政府办公室\n2022年5月9日\n（此件公开发布）\n一、推进绿色建筑。\n",
     "某市人民政府办公室关于印发某市绿色建筑行动方案的通知", "某政办发[2022]3号", "某市人民政府办公室", date(2022, 5, 9)),
    ("国家某局关于做好2024年节能监察工作的通知\n国某节发（2024）12号\n一、开展专项监察。\n国家某局\n2024年3月1日\n",
     "国家某局关于做好2024年节能监察工作的通知", "国某节发（2024）12号", "国家某局", date(2024, 3, 1)),
]


@pytest.mark.parametrize(("text", "title", "number", "issuer", "signed"), NOTICE_HEADS)
def test_a_notices_head_is_metadata_not_text(text, title, number, issuer, signed):
    doc = parse_document(text)
    assert (doc.title, doc.issuer, doc.date) == (title, issuer, signed)
    assert doc.doc_number == number
    body = texts(doc)
    assert body[-1].endswith("。") and not any(
        t in (title, number, issuer) or t.startswith(("各", "（此件")) or ("年" in t and t.endswith("日")) for t in body)


def test_joint_signature_before_an_annex():
    doc = parse_document("关于推进某领域节能降碳的通知\n一、加快推进某事。\n二、强化保障。\n某省发展和改革委员会\n某省能源局\n"
                         "2022年1月29日\n附件：2022年重点项目清单\n1.建成某项目。\n")
    assert doc.date == date(2022, 1, 29) and doc.issuer == "某省发展和改革委员会 某省能源局"
    assert texts(doc) == ["一、加快推进某事。", "二、强化保障。", "附件：2022年重点项目清单", "1.建成某项目。"]


@pytest.mark.parametrize("issuer", ["中国人民银行 生态环境部", "某市发展和改革委员会（某市能源局）"])
def test_a_signature_at_the_end_signs_with_whatever_short_line_is_above_its_date(issuer):
    doc = parse_document(f"关于某事的通知\n一、加快推进某事。\n{issuer}\n2022年3月21日\n（此件公开发布）\n")
    assert (doc.issuer, doc.date, texts(doc)) == (issuer, date(2022, 3, 21), ["一、加快推进某事。"])


@pytest.mark.parametrize(
    ("head", "title", "issuer"),
    [
        ("某省节能降碳\n行动方案", "某省节能降碳行动方案", ""),  # a title split before its last words
        ("国务院关于印发《某领域绿色低碳发展\n行动方案》的通知", "国务院关于印发《某领域绿色低碳发展行动方案》的通知", ""),
        ("国务院办公厅\n国务院办公厅关于加快某事的通知", "国务院办公厅关于加快某事的通知", "国务院办公厅"),  # issuer above
    ],
)
def test_title_forms(head, title, issuer):
    doc = parse_document(f"{head}\n一、加快推进某事。\n")
    assert (doc.title, doc.issuer, texts(doc)) == (title, issuer, ["一、加快推进某事。"])


def test_the_issuer_line_under_a_title():
    doc = parse_document("某省2023年节能工作要点\n某省发展和改革委员会 某省能源局\n一、强化能耗双控。\n")
    assert doc.title == "某省2023年节能工作要点" and doc.issuer == "某省发展和改革委员会 某省能源局"
    assert texts(doc) == ["一、强化能耗双控。"]


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("湖南省2023年能源工作要点", 2023),
        ("关于印发《2021年全省大气污染防治工作计划》的通知", 2021),
        ("2030年前碳达峰行动方案", None),  # a target year, not the plan's
        ("滚动实施方案（2021—2022年）", None),  # a span
        ("到2025年节能减排综合工作方案", None),
        ("关于加快建设全国统一电力市场的意见", None),
    ],
)
def test_title_year(title, year):
    assert title_year(title) == year


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
