"""Answer behaviour on the seed knowledge base, phrased differently from the eval's dev questions."""

from datetime import date

import pytest
from conftest import TODAY

from knowledge.answer import render_text


def top(kb, question):
    answer = kb.ask(question, TODAY)
    return answer, (answer.hits[0].item if answer.hits else None)


def test_deadline_answer_has_phrase_date_status_departments_source(kb):
    answer, item = top(kb, "设立碳减排支持工具的期限")
    text = render_text(answer)
    assert answer.confident and "设立碳减排支持工具" in item.text
    for fact in ("6月底前出台相关政策", "2021-06-30", "已过期", "牵头：人民银行", "参与：生态环境部", "国发〔2021〕6号"):
        assert fact in text


def test_traditional_characters_and_abbreviations(kb):
    _, item = top(kb, "內蒙古煤炭消費比重目標")
    assert item.text == "全区煤炭消费比重降至75%以下"
    _, item = top(kb, "单位GDP能耗降多少")
    assert "单位国内生产总值能耗降低3" in item.text


def test_homophone_typo(kb):
    _, item = top(kb, "内蒙古非化石能源消废比重")
    assert "非化石能源占能源消费比重达到18%" in item.text


def test_out_of_scope_is_not_confident_and_suggests(kb):
    for question in ("明天北京天气怎么样", "护照过期了怎么办理", "个人所得税怎么申报"):
        answer = kb.ask(question, TODAY)
        assert not answer.confident, question
        assert "没有找到" in render_text(answer)


def test_greeting(kb):
    answer = kb.ask("您好", TODAY)
    assert answer.mode == "greeting" and not answer.confident and answer.hits == []


def test_list_by_lead_department(kb):
    answer = kb.ask("央行牵头负责哪些工作", TODAY)
    assert answer.mode == "list"
    # where it leads first, then where it is responsible with no lead named; never where it only supports
    assert "人民银行" in answer.hits[0].item.departments.lead
    assert all("人民银行" in h.item.departments.primary() for h in answer.hits)
    assert any("设立碳减排支持工具" in h.item.text for h in answer.hits)


def test_list_by_deadline_phrase_newest_document_first(kb):
    answer = kb.ask("哪些任务是年内持续推进的", TODAY)
    assert answer.mode == "list" and len(answer.hits) >= 5
    assert all(any("年内持续推进" in d.text for d in h.item.deadlines) for h in answer.hits)
    assert "共找到" in render_text(answer)


def test_region_filter(kb):
    answer = kb.ask("内蒙古数据中心能效要求", TODAY)
    assert all(h.item.region == "内蒙古自治区" for h in answer.hits[:3])
    assert any("PUE" in h.item.text for h in answer.hits[:3])


def test_long_and_html_breaking_input_is_safe(kb):
    answer = kb.ask("<script>alert(1)</script> & 碳达峰" + "很" * 5000, TODAY)
    assert len(render_text(answer)) < 1500


def test_a_filter_nothing_passes_says_so_without_guessing(kb):
    answer = kb.ask("下个月到期的任务有哪些", TODAY)
    assert answer.mode == "list" and answer.hits == []
    assert "没有符合这些条件的条目" in render_text(answer)


def test_who_question_with_plural_department_word_answers_the_item_with_departments(kb):
    answer, item = top(kb, "细颗粒物和臭氧协同控制，有哪些部门参与")
    assert answer.mode == "item" and "臭氧协同控制" in item.text
    assert "参与：" in render_text(answer)


def test_yes_no_question_about_a_department_shows_that_department(kb):
    answer, item = top(kb, "细颗粒物和臭氧协同控制这项工作，气象局也参与吗")
    assert answer.mode == "item" and "臭氧协同控制" in item.text
    assert "中国气象局" in render_text(answer)


def test_coverage_counts_the_region_word_for_an_item_of_that_region_and_split_words():
    from knowledge.search import WordWeight, _coverage

    weights = {"浙江": WordWeight(2.0, True), "清单": WordWeight(2.0, True)}
    assert _coverage(weights, "建立重点工作责任清单", "") == 0.5
    assert _coverage(weights, "建立重点工作责任清单", "", frozenset({"浙江"})) == 1.0
    charging = {"充电": WordWeight(1.0, True)}
    assert _coverage(charging, "适度超前的充换电网络体系", "") == 0.6
    assert _coverage(charging, "充分，电网", "") == 0.0


def test_abbreviated_pair_still_found_with_confidence(kb):
    answer, item = top(kb, "充电换电网络体系怎么建")
    assert answer.confident and "充换电网络体系" in item.text


def test_topic_list_answers_with_the_items_of_the_sections_named(kb):
    answer = kb.ask("内蒙古园区和交通物流方面2025年的目标", TODAY)
    assert answer.mode == "list" and answer.confident
    sections = {h.item.section.split(" › ")[-1] for h in answer.hits}
    assert sections == {"(二)园区节能环保提升工程", "(四)交通物流节能减排工程"}
    assert all(any(d.due and d.due.year == 2025 for d in h.item.deadlines) for h in answer.hits)
    assert [h.item.seq for h in answer.hits] == sorted(h.item.seq for h in answer.hits)


def test_topic_list_of_goals_keeps_the_goals_and_drops_the_title(kb):
    answer = kb.ask("内蒙古挥发性有机物综合整治有哪些目标", TODAY)
    assert answer.mode == "list" and len(answer.hits) == 2
    assert all(h.item.targets for h in answer.hits)


def test_topic_list_of_a_parent_section_lists_its_sub_sections(kb):
    answer = kb.ask("内蒙古节能减排有哪些重点工程", TODAY)
    texts = [h.item.text for h in answer.hits]
    assert answer.mode == "list" and len(texts) == 10
    assert texts[0] == "重点行业绿色升级工程。" and "交通物流节能减排工程。" in texts


def test_a_single_target_is_not_turned_into_a_topic_list(kb):
    answer, item = top(kb, "城市主城区绿色出行率目标")
    assert answer.mode == "item" and "绿色出行率达到65%" in item.text


def test_a_list_entry_for_a_paragraph_carries_the_whole_paragraph(kb):
    from knowledge.answer import answer_json

    answer = kb.ask("住建部参与分工的2021年任务有哪些", TODAY)
    assert answer.mode == "list" and len(answer.hits) >= 5
    texts = [r["text"] for r in answer_json(answer, 5)["results"]]
    assert any("继续加大生态环境治理力度" in t and "净土保卫战成果" in t for t in texts)
    assert all(len(t) <= 400 for t in texts)


def test_filtered_list_words_exclude_the_filters_themselves():
    from knowledge.intents import understand

    q = understand("内蒙古住建部参与的2025年节能改造任务有哪些", TODAY, {"住建部": "住房城乡建设", "住房城乡建设部": "住房城乡建设"})
    assert q.structured and "住房城乡建设部" in q.core and "住房城乡建设部" not in q.unfiltered_core
    assert "内蒙古" not in q.unfiltered_core and "节能改造" in q.unfiltered_core


def test_long_sentence_is_clipped_around_the_asked_words():
    from knowledge.answer import clip_around

    text = "统筹经济发展、能源安全、碳排放、居民生活，对标国际一流和通行规则，准确界定概念和标准，" \
           "系统分析能源消费总量、碳排放总量、能耗强度、碳排放强度四个指标，用好科技创新关键变量。"
    shown = clip_around(text, ("系统分析", "指标"), 50)
    assert "碳排放强度四个指标" in shown and shown.startswith("…") and len(shown) <= 52
    assert clip_around(text, ("统筹经济",), 50).startswith("统筹经济")
    assert clip_around("短句", ("短句",), 50) == "短句"


def test_every_question_word_brings_candidates_before_bigrams_across_words(kb):
    from knowledge.intents import understand

    q = understand("能效低于基准水平的项目改造不完，多长时间内淘汰", TODAY, kb.searcher.known_departments())
    tokens, _ = kb.searcher._query(q)
    assert "淘汰" in tokens and "改造" in tokens and "于基" not in tokens
    answer = kb.ask("能效低于基准水平的项目改造不完，多长时间内淘汰", TODAY)
    assert any("淘汰时限不超过3年" in h.item.text for h in answer.hits[:3])


def test_a_goal_with_a_value_word_is_one_target_not_a_topic_list(kb):
    answer, item = top(kb, "内蒙古挥发性有机物和氨氮排放总量降幅目标")
    assert answer.mode == "item" and "排放总量比2020年分别下降" in item.text


def test_goals_of_a_section_named_by_its_title_are_listed_not_the_title(kb):
    answer = kb.ask("内蒙古城镇绿色改造目标", TODAY)
    assert answer.mode == "list"
    assert all(h.item.section.endswith("(三)城镇绿色节能改造工程") and h.item.deadlines for h in answer.hits)


def test_a_region_or_year_the_documents_do_not_cover_is_not_a_confident_answer(kb):
    covered = kb.ask("内蒙古到2025年煤炭消费比重要降到多少", TODAY)
    assert covered.confident and "75%" in render_text(covered)
    national_only = kb.ask("广东省单位国内生产总值能耗要降低多少", TODAY)
    assert not national_only.confident and national_only.hits  # the national target is a suggestion only
    other_year = kb.ask("2035年非化石能源消费比重达到多少", TODAY)  # the documents' figure is for 2025
    assert not other_year.confident


def test_regional_department_named_with_its_region_lists_whole_paragraphs(kb):
    answer = kb.ask("内蒙古生态环境厅牵头哪些事项", TODAY)
    assert answer.mode == "list" and answer.hits
    assert all("自治区生态环境厅" in h.item.departments.primary() for h in answer.hits)
    roles = [0 if "自治区生态环境厅" in h.item.departments.lead else 1 for h in answer.hits]
    assert roles == sorted(roles) and roles[0] == 0
    sections = [h.item.section for h in answer.hits]
    assert len(sections) == len(set(sections))  # one entry per paragraph
    grouped = next(h for h in answer.hits if h.siblings)
    rest = kb.store.items_between(grouped.item.doc_id, grouped.item.seq, grouped.item.seq + grouped.siblings)
    assert all(i.text in grouped.shown_text for i in rest)


def test_words_and_department_list_shows_the_paragraph_not_only_matching_sentences(kb):
    answer = kb.ask("内蒙古重点工程里自治区能源局参与哪些工作", TODAY)
    assert answer.mode == "list" and len(answer.hits) >= 3
    assert all("重点工程" in h.item.section for h in answer.hits[:3])  # the headings name the asked words
    for h in answer.hits:
        assert any(n == "自治区能源局" for n in h.item.departments.all())
        assert h.shown_text.startswith(h.item.text)


def test_cited_document_number_filters_lists_and_answers(kb):
    answer = kb.ask("国发〔2021〕6号文里人民银行参与的工作", TODAY)
    assert answer.mode == "list" and answer.hits
    assert {h.item.doc_id for h in answer.hits} == {answer.hits[0].item.doc_id}
    assert answer.documents[answer.hits[0].item.doc_id].doc_number == "国发〔2021〕6号"
    assert kb.ask("国发〔2023〕1号文里有哪些任务", TODAY).hits == []
    missing = kb.ask("国办发〔2021〕6号文 碳减排支持工具什么时候出台", TODAY)
    assert not missing.confident
    assert kb.ask("国发6号文 碳减排支持工具什么时候出台", TODAY).confident


def test_a_section_title_answer_shows_its_paragraph(kb):
    answer, item = top(kb, "内蒙古农牧业节能减排工程是哪几个厅局牵头")
    text = render_text(answer)
    assert item.text == "农牧业节能减排工程。" and answer.hits[0].siblings > 0
    assert "推广使用节油、环保农机和设备" in text  # the task itself, not only its name
    assert "自治区乡村振兴局" in text  # asked who: every lead department is named


def test_filtered_list_stops_at_its_limit_and_says_more_match(kb):
    ids, more = kb.store.filter_items(deadline_phrase="12月底前", limit=2)
    assert len(ids) == 2 and more
    every, more = kb.store.filter_items(deadline_phrase="12月底前", limit=1000)
    assert not more and every[:2] == ids and len(every) > 2
    dates = [kb.store.get_document(i.doc_id).date for i in kb.store.get_items(every).values()]
    assert dates == sorted(dates, reverse=True)  # newest document first


def test_wide_and_narrow_deadline_windows_list_the_same_items(kb, monkeypatch):
    import knowledge.store as store

    window = {"due_from": date(2021, 1, 1), "due_to": date(2025, 12, 31)}
    from_matches, _ = kb.store.filter_items(**window)
    monkeypatch.setattr(store, "WALK_FROM", 1)  # every window counts as wide: walk the documents
    walked, _ = kb.store.filter_items(**window)
    assert len(from_matches) > 3 and walked == from_matches


def test_list_beyond_the_limit_says_so(kb, monkeypatch):
    import knowledge.search as search

    monkeypatch.setattr(search, "LIST_LIMIT", 2)
    assert "符合的条目超过" in render_text(kb.ask("12月底前要完成哪些任务", TODAY))


def test_a_departments_list_puts_what_it_leads_first_however_far_down(kb, monkeypatch):
    """The list stops at LIST_LIMIT items, newest document first; the items the department leads
    come first even when newer documents fill the page with items it only supports."""
    import knowledge.search as search
    from knowledge.importer import import_text

    led = ("关于推进港口岸电建设的通知\n交规划发〔2020〕3号\n一、推进港口岸电设施建设。（水运局牵头，海事局配合）\n"
           "交通运输部\n2020年1月6日\n")
    import_text(kb.store, led, "led.txt", actor="test")
    for year in (2022, 2023, 2024):
        supported = (f"关于推进船舶清洁能源应用的通知\n交规划发〔{year}〕9号\n"
                     f"一、推动船舶使用清洁能源{year}。（海事局牵头，水运局配合）\n"
                     f"二、完善船舶靠港使用岸电制度{year}。（海事局牵头，水运局配合）\n交通运输部\n{year}年3月1日\n")
        import_text(kb.store, supported, f"supported-{year}.txt", actor="test")
    monkeypatch.setattr(search, "LIST_LIMIT", 2)
    answer = kb.ask("水运局负责哪些任务", TODAY)
    assert answer.mode == "list" and answer.total == search.MORE_THAN_LISTED
    assert answer.hits[0].item.text.startswith("推进港口岸电设施建设")
    assert all("清洁能源" in h.item.text or "岸电制度" in h.item.text for h in answer.hits[1:])


def test_a_regions_document_named_by_kind_that_the_knowledge_base_lacks_is_not_answered(kb):
    lacking = kb.ask("浙江省碳达峰行动方案里对光伏有什么要求", TODAY)  # only a meeting's report from 浙江
    assert not lacking.confident and lacking.mode == "not_found"
    held = kb.ask("内蒙古节能减排方案里煤炭消费比重降到多少", TODAY)
    assert held.confident and "75%" in render_text(held)


def test_a_sum_of_money_asked_and_none_said_is_no_answer(kb):
    answer = kb.ask("全国碳市场现在碳价多少钱一吨", TODAY)  # the documents speak of the market, not its price
    assert not answer.confident


def test_a_document_named_by_its_issuer_keeps_the_list_to_its_items(kb):
    from knowledge.importer import import_text

    transport = ("交通运输部关于印发《交通运输领域节能降碳实施方案》的通知\n交规划发〔2022〕9号\n"
                 "1. 推进港口岸电设施建设。推动主要港口专业化泊位岸电覆盖率提升。（水运局、国家能源局按职责分工负责）\n"
                 "2. 推动船舶使用清洁能源。9月底前出台内河船舶靠港使用岸电管理办法。（水运局、海事局按职责分工负责，9月底前完成）\n"
                 "交通运输部\n2022年1月24日\n")
    planning = ("国家发展改革委关于印发《港航绿色发展行动方案》的通知\n发改基础〔2022〕77号\n"
                "一、推进内河高等级航道整治。（水运局、国家发展改革委按职责分工负责，12月底前完成）\n"
                "国家发展改革委\n2022年3月1日\n")
    import_text(kb.store, transport, "transport.txt", actor="test")
    import_text(kb.store, planning, "planning.txt", actor="test")

    def listed(question: str) -> list[str]:
        answer = kb.ask(question, TODAY)
        assert answer.mode == "list", question
        return [h.item.text for h in answer.hits]

    by_transport = listed("交通运输部节能降碳方案里水运局负责的任务")
    assert len(by_transport) == 2 and not any("航道" in t for t in by_transport)
    assert [t for t in listed("国家发展改革委方案里水运局负责的任务")] == ["推进内河高等级航道整治。"]
    assert len(listed("水运局负责哪些任务")) == 3  # no document named: all of them


@pytest.mark.parametrize(("question", "fragment"), [
    ("内蒙古烧煤的比重要降到多少", "煤炭消费比重降至75%"),  # 烧煤: 煤炭
    ("北方冬天暖气清洁化的比例目标是多少", "清洁取暖率达到70"),  # 暖气: 供暖, 清洁取暖
    ("盖楼要执行什么节能标准", "新建建筑"),  # 盖楼: 新建建筑
    ("石油用量啥时候到顶", "石油消费"),  # 用量: 消费, 到顶: 峰值
    ("楼顶装光伏 36号文提了没有", "屋顶光伏"),  # 楼顶: 屋顶; 36号文 cited with no issuer
])
def test_everyday_words_find_the_documents_wording(kb, question, fragment):
    answer = kb.ask(question, TODAY)
    assert answer.confident and fragment in answer.hits[0].item.text


@pytest.mark.parametrize(("question", "confident"), [
    ("碳减排支持工具的利率是多少", False),  # a value asked; the item about the tool states none
    ("北方地区清洁取暖率目标是多少", True),  # …states 70%
    ("石油消费控制目标是多少", True),  # …a level: 峰值平台期
    ("碳减排支持工具由哪几个部门负责", True),  # 哪几个 asks who, not how many
])
def test_a_value_asked_is_answered_only_by_an_item_that_states_one(kb, question, confident):
    assert kb.ask(question, TODAY).confident is confident


def test_a_value_asked_to_fall_prefers_a_falling_target(kb):
    # both items speak of 比重 and 能源消费; the question asks what goes down
    top = kb.ask("内蒙那边2025年烧煤占能源消费的比重要降到多少", TODAY).hits[0].item
    assert "煤炭消费比重降至75%" in top.text


def test_a_cited_documents_section_named_by_its_topic_is_listed_whole(kb):
    answer = kb.ask("中发36号文能源体系那部分有哪些重点任务", TODAY)
    assert answer.mode == "list" and len(answer.hits) >= 5
    assert all("能源体系" in h.item.section for h in answer.hits)
    # one entry per sub-section, in the document's order — not items ranked by the question's words
    sections = [h.item.section for h in answer.hits]
    assert len(set(sections)) == len(sections) and [h.item.seq for h in answer.hits] == sorted(h.item.seq for h in answer.hits)


def test_a_department_asked_by_its_alias_is_found_under_its_full_name(kb):
    answer = kb.ask("两新一重建设涉及的部门里有没有国铁集团", TODAY)
    assert answer.confident and "两新一重" in answer.hits[0].item.text
    assert "中国国家铁路集团有限公司" in render_text(answer)  # (the department asked is always shown)
