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
