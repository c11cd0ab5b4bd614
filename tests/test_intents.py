from datetime import date

import pytest

from knowledge.intents import understand

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "checks"),
    [
        ("碳减排支持工具什么时候出台？", {"wants_when": True, "wants_list": False}),
        ("人民银行牵头的任务有哪些", {"wants_lead": True, "wants_list": True}),
        ("12月底前要完成哪些任务", {"deadline_phrase": "12月底前", "wants_list": True}),
        ("内蒙古煤炭消费比重要降到多少", {"region": "内蒙古自治区", "wants_amount": True}),
        ("北方地區清潔取暖率", {"wants_amount": True}),
        ("今年到期的任务", {"window": (date(2026, 1, 1), date(2026, 12, 31))}),
        ("下个月到期的任务", {"window": (date(2026, 12, 1), date(2026, 12, 31))}),
        ("2025年前要完成的任务", {"window": (None, date(2025, 12, 31))}),
        ("30天内到期的任务", {"window": (TODAY, date(2026, 12, 21))}),
        ("哪些部门负责充电设施建设", {"wants_who": True, "wants_list": False}),
        ("新型储能由哪几个部委牵头", {"wants_who": True, "wants_list": False}),
        ("生态环境部负责的任务有哪些", {"wants_list": True}),
        ("这项工作财政部也参与吗", {"wants_who": True, "wants_list": False}),
        ("你好", {"greeting": True}),
        ("帮助", {"help": True}),
    ],
)
def test_understand(text, checks):
    q = understand(text, TODAY)
    for field, value in checks.items():
        assert getattr(q, field) == value, field


def test_question_words_are_not_content():
    assert understand("碳减排支持工具什么时候出台？谁牵头？", TODAY).core == "碳减排支持工具，出台"


def test_yes_no_and_count_words_are_not_content():
    assert understand("储能网络要不要超前布局", TODAY).core == "储能网络，超前布局"
    assert understand("抓落实要建哪几个清单", TODAY).core == "抓落实要建，清单"


def test_ascii_compound_is_one_word_and_punctuation_no_word():
    from knowledge.normalize import words
    from knowledge.search import _content_words

    assert "1+n" in words("1+n政策体系")
    assert "+" not in _content_words("1+n政策体系，包括", lambda w: 1)
    assert understand("政策体系包括哪几块", TODAY).core == "政策体系，块"


def test_region_named_department_is_the_regions_own():
    known = {"自治区发展改革委": "发展改革委", "发展改革委": "发展改革委", "省住房城乡建设厅": "住房城乡建设厅"}
    q = understand("内蒙古发改委负责的事项有哪些", TODAY, known)
    assert q.department_names == {"自治区发展改革委"} and q.region == "内蒙古自治区"
    assert q.core_is_only_filters
    assert understand("浙江省住建厅牵头哪些工作", TODAY, known).department_names == {"省住房城乡建设厅"}
    assert understand("发改委负责的事项有哪些", TODAY, known).department_names == {"发展改革委"}
    q = understand("浙江方案里住建厅牵头的活有哪些", TODAY, known)  # named short, the region's document
    assert q.department_names == {"省住房城乡建设厅"} and q.core_is_only_filters


def test_the_words_that_name_the_nation_are_its_region_filter():
    for text in ("全国下半年要完成哪些任务", "全国年内持续推进的任务有哪些", "国家层面6月底前要完成哪些任务"):
        q = understand(text, TODAY)
        assert q.region == "国家" and q.core_is_only_filters and q.wants_list, text
    assert "碳排放权交易" in understand("全国碳排放权交易市场年内要完成哪些任务", TODAY).unfiltered_core


def test_lead_or_support_asks_for_any_role():
    assert not understand("财政部牵头或者参与的事项", TODAY).wants_lead
    assert not understand("财政部参与和牵头的事项", TODAY).wants_lead
    assert understand("财政部牵头的事项", TODAY).wants_lead


def test_cited_document_is_a_filter():
    numbers = {"a": "国发〔2021〕6号", "b": "国办发〔2021〕6号", "c": "国发〔2022〕6号"}
    q = understand("国发2021年6号文里交通运输部参与的工作", TODAY, {}, numbers)
    assert q.doc_ids == ("a",) and q.wants_list and q.structured
    assert "6号" not in q.core
    assert understand("国发6号文件有哪些任务", TODAY, {}, numbers).doc_ids == ("a", "c")
    assert understand("国发〔2023〕1号有哪些任务", TODAY, {}, numbers).doc_ids == ()


def test_region_department_named_apart_from_the_region():
    known = {"省工业和信息化厅": "工业和信息化厅", "自治区工业和信息化厅": "工业和信息化厅"}
    q = understand("福建清单里工信厅牵头的任务有哪些", TODAY, known)
    assert q.department_names == {"省工业和信息化厅"} and q.region == "福建省"


def test_a_window_alone_leaves_no_words_to_rank_by():
    for text in ("未来30天内到期的任务有哪些", "下个月截止的事项有哪些", "2025年前要完成哪些任务"):
        q = understand(text, TODAY)
        assert q.window and q.window_phrase in text and q.core_is_only_filters, text
    assert not understand("未来30天内到期的光伏任务有哪些", TODAY).core_is_only_filters


def test_cities_are_regions_of_their_own_and_answer_with_their_province():
    q = understand("武汉的新能源汽车补贴有哪些", TODAY)
    assert q.region == "武汉市" and q.regions == ("武汉市", "湖北省")
    assert q.in_region("湖北省") and not q.in_region("湖南省") and not q.in_region("国家")
    assert understand("内蒙古煤炭消费比重", TODAY).regions == ("内蒙古自治区",)
    assert understand("推广安装屋顶光伏的要求", TODAY).region is None  # 广安 inside 推广安装 is no city


def test_a_list_word_inside_the_topic_does_not_make_a_when_question_a_list():
    assert not understand("两高项目排查、建清单的完成时限是？", TODAY).wants_list
    assert understand("两高项目清单", TODAY).wants_list
    assert understand("能源转型行动都包括啥", TODAY).wants_list
    assert understand("分了哪几个行业，各自要干啥", TODAY).wants_list


@pytest.mark.parametrize(
    ("text", "issuer", "kind", "departments"),
    [
        ("交通运输部节能降碳方案里水运局参与的任务", "交通运输部", "方案", {"水运局"}),
        ("交通运输部印发的实施方案中岸电设施改造什么时候完成", "交通运输部", "方案", set()),
        ("国家能源局工作要点提出哪些任务", "国家能源局", "要点", set()),
        # a role or a task between the department and the document: the department's work is asked
        ("生态环境部牵头的方案里有哪些任务", "", "", {"生态环境部"}),
        ("国家能源局要出台的办法中有哪些要求", "", "", {"国家能源局"}),
        ("水运局负责哪些任务", "", "", {"水运局"}),
        ("国家能源局的方案有哪些", "", "", {"国家能源局"}),  # no 里/中: which documents, not inside one
    ],
)
def test_a_department_before_a_documents_kind_is_its_issuer(text, issuer, kind, departments):
    known = {"交通运输部": "交通运输部", "水运局": "水运局", "生态环境部": "生态环境部", "国家能源局": "能源局"}
    q = understand(text, TODAY, known)
    assert (q.issuer, q.document_kind, q.department_names) == (issuer, kind, departments)
    assert q.department_cores == {known[n] for n in departments}


@pytest.mark.parametrize(("text", "amount"), [
    ("哪几个市作了交流发言", False), ("由哪几个部门负责", False), ("要建设几个示范区", True), ("比重要降到多少", True)])
def test_which_ones_is_not_how_many(text, amount):
    assert understand(text, TODAY).wants_amount is amount


@pytest.mark.parametrize(("text", "direction"), [
    ("煤炭消费比重要降到多少", "down"), ("降至", "down"), ("控制在", "down"), ("不超过", "down"),
    ("可再生能源比重要提高到多少", "up"), ("提升", "up"), ("不低于", "up"), ("达到", ""), ("目标是多少", ""),
])
def test_value_direction(text, direction):
    from knowledge.intents import value_direction

    assert value_direction(text) == direction


@pytest.mark.parametrize(("text", "listed"), [
    ("交通运输这块都要干啥", True), ("都要做什么", True), ("这项工作要干什么", False)])
def test_what_all_is_to_be_done_is_a_list(text, listed):
    assert understand(text, TODAY).wants_list is listed


@pytest.mark.parametrize(("text", "named"), [
    ("管盖房子的那个部委今年参与了哪些任务", "住房城乡建设部"),
    ("内蒙古管环保的那个厅牵头的活有哪些", "自治区生态环境厅"),
    ("管公路交通的那个部委要参与哪些任务", "交通运输部"),
    ("管钱的部门负责什么", "财政部"),
])
def test_a_department_named_by_what_it_looks_after(text, named):
    known = {"住房城乡建设部": "住房城乡建设部", "自治区生态环境厅": "生态环境厅", "交通运输部": "交通运输部",
             "财政部": "财政部"}
    assert understand(text, TODAY, known).department_names == {named}


@pytest.mark.parametrize("text", ["管理部门要加强监管吗", "尽管如此还要做什么", "管好用好资金的部门有哪些"])
def test_words_with_管_that_name_no_department(text):
    assert not understand(text, TODAY).department_names


@pytest.mark.parametrize(("text", "lead", "who", "in_core"), [
    ("农牧业节能减排工程签头的是哪几个厅局", True, True, "农牧业"),  # 签头: 牵头 typed by its sound
    ("重点行业绿色升级工程是哪些厅负责", False, True, "重点行业"),
    ("单位gdp能耗降低百分之三什么时候完成", False, False, "3%"),
])
def test_question_words_typed_wrong_and_shares_in_words(text, lead, who, in_core):
    q = understand(text, TODAY)
    assert (q.wants_lead, q.wants_who, q.wants_list) == (lead, who, False) and in_core in q.core


@pytest.mark.parametrize(("text", "money"), [
    ("补贴多少钱", True), ("奖励多少", True), ("一辆车补贴多少万", True), ("项目资金多少万元", True),
    ("以设计能耗多少万吨标准煤以上为重点", False), ("煤电机组节能改造多少万千瓦", False), ("推广多少万辆新能源车", False),
])
def test_money_is_asked_by_its_words_not_by_any_wan(text, money):
    q = understand(text, date(2021, 6, 10))
    assert q.wants_money is money and q.wants_amount
