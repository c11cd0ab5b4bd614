from knowledge.documents import Block
from knowledge.segment import segment


def test_a_marker_line_of_its_own_is_a_heading_not_an_item():
    pieces = segment([Block("二、重点任务"), Block("（一）能源绿色低碳转型行动"),
                      Block("1.大力发展新能源。推进风电基地建设，到2025年光伏装机达到2600万千瓦。"),
                      Block("（二）节能降碳增效行动"), Block("1.全面提升节能管理能力。严格落实能耗双控制度。")])
    assert [p.text for p in pieces if "行动" in p.text] == []
    sections = {p.section for p in pieces}
    assert "二、重点任务 › （一）能源绿色低碳转型行动 › 1.大力发展新能源" in sections
    assert "二、重点任务 › （二）节能降碳增效行动 › 1.全面提升节能管理能力" in sections


def test_a_responsibility_line_assigns_the_paragraph_before_it_only():
    pieces = segment([Block("1.推动钢铁行业碳达峰。严禁新增钢铁产能。"), Block("责任单位：省工业和信息化厅、省发展改革委"),
                      Block("2.推动建材行业碳达峰。严格执行水泥产能置换。")])
    assigned = {p.text: p.clause for p in pieces}
    assert assigned["严禁新增钢铁产能。"] == "责任单位：省工业和信息化厅、省发展改革委"
    assert assigned["严格执行水泥产能置换。"] == ""


def test_labelled_tail_is_the_clause_not_an_item():
    pieces = segment([Block("3.按季度发布能耗强度预警。牵头单位：省发展改革委；配合单位：省统计局；完成时限：2022年4月底前。")])
    assert [p.text for p in pieces] == ["按季度发布能耗强度预警。"]
    assert pieces[0].clause.startswith("牵头单位：省发展改革委")


def test_a_notices_addressees_and_issuing_formula_are_no_items():
    pieces = segment([Block("各市人民政府，省人民政府各委、办、厅、局："),
                      Block("《工作安排》已经省人民政府同意，现印发给你们，请认真贯彻执行。各地要抓好落实。")])
    assert [p.text for p in pieces] == ["各地要抓好落实。"]


def test_labelled_lines_in_any_order_assign_the_paragraph_before_them():
    pieces = segment([Block("1.推行能源托管。鼓励学校采用能源费用托管。"), Block("完成时限：持续推进"),
                      Block("牵头单位：市教育局"), Block("配合单位：市财政局"),
                      Block("2.推进屋顶光伏。新建公共建筑屋顶光伏覆盖率达到50%。"),
                      Block("责任处室：能源处 完成期限：11月底")])
    assigned = {p.text: p.clause for p in pieces}
    assert assigned["鼓励学校采用能源费用托管。"] == "完成时限：持续推进；牵头单位：市教育局；配合单位：市财政局"
    assert assigned["新建公共建筑屋顶光伏覆盖率达到50%。"] == "责任处室：能源处 完成期限：11月底"
    assert not any(p.text.startswith(("完成", "牵头", "配合", "责任")) for p in pieces)


def test_a_bracketed_clause_with_labels_inside_is_one_clause():
    pieces = segment([Block("4.建设监测平台。建成能耗在线监测平台。（完成时限：2022年三季度；牵头单位：市工信局）")])
    assert [(p.text, p.clause) for p in pieces] == [
        ("建设监测平台。", "（完成时限：2022年三季度；牵头单位：市工信局）"),
        ("建成能耗在线监测平台。", "（完成时限：2022年三季度；牵头单位：市工信局）")]


def test_a_clause_governs_the_sentences_before_it_never_the_next():
    pieces = segment([Block("5.推广节能灯具。全年更换高效节能路灯2万盏以上。（市城管局负责，持续推进）开展节能宣传周活动。")])
    assigned = {p.text: p.clause for p in pieces}
    assert assigned["全年更换高效节能路灯2万盏以上。"] == "（市城管局负责，持续推进）"
    assert assigned["开展节能宣传周活动。"] == ""


def test_each_target_with_its_own_year_gets_that_year():
    pieces = segment([Block("到2025年，全市公交车新能源比例达到80%，2030年进一步提高到100%；"
                            "到2025年，充电桩达到5万个，2035年达到12万个。")])
    assert [(p.text, p.lead_in) for p in pieces] == [
        ("全市公交车新能源比例达到80%", "到2025年"), ("2030年进一步提高到100%", "2030年"),
        ("充电桩达到5万个", "到2025年"), ("2035年达到12万个。", "2035年")]


def test_purpose_sentence_and_embedded_title_are_no_items():
    pieces = segment([Block("某市节能降碳滚动实施方案（2023—2024年）"),
                      Block("为落实全市碳达峰工作部署，加快绿色低碳转型，制定本方案。"), Block("一、推进工业节能。")])
    assert [p.text for p in pieces] == ["推进工业节能。"]
