import pytest

from knowledge.departments import canonical_department, department_core, parse_clause


@pytest.mark.parametrize(
    ("clause", "region", "lead", "support", "responsible", "time_parts"),
    [
        ("（人民银行牵头，生态环境部等按职责分工负责，6月底前出台相关政策，年内持续推进）", "国家",
         ["人民银行"], ["生态环境部"], [], ["6月底前出台相关政策", "年内持续推进"]),
        # no lead stated: every named department is responsible, in order
        ("（国家发展改革委、国家能源局、财政部、市场监管总局等按职责分工负责，12月底前完成）", "国家",
         [], [], ["国家发展改革委", "国家能源局", "财政部", "市场监管总局"], ["12月底前完成"]),
        ("（发改委牵头，央行、工信部、住建部配合）", "国家",
         ["国家发展改革委"], ["人民银行", "工业和信息化部", "住房城乡建设部"], [], []),
        # regional: the 自治区 prefix carries through a 、 list; 能源局 is the region's, not 国家能源局
        ("(自治区能源局、生态环境厅、工业和信息化厅、住房城乡建设厅、市场监管局等按职责分工负责)", "内蒙古自治区",
         [], [], ["自治区能源局", "自治区生态环境厅", "自治区工业和信息化厅", "自治区住房城乡建设厅", "自治区市场监管局"], []),
        ("(自治区发展改革委、工业和信息化厅、生态环境厅、能源局牵头，自治区市场监管局、地方金融监管局，"
         "人民银行呼和浩特中心支行、内蒙古银保监局等按职责分工负责)", "内蒙古自治区",
         ["自治区发展改革委", "自治区工业和信息化厅", "自治区生态环境厅", "自治区能源局"],
         ["自治区市场监管局", "自治区地方金融监管局", "人民银行呼和浩特中心支行", "内蒙古银保监局"], [], []),
        # local governments "负责落实" are not departments
        ("(自治区工业和信息化厅、大数据中心等按职责分工负责，各盟行政公署、市人民政府，各旗县级人民政府负责落实)",
         "内蒙古自治区", [], [], ["自治区工业和信息化厅", "自治区大数据中心"], []),
        ("(自治区生态环境厅负责)", "内蒙古自治区", [], [], ["自治区生态环境厅"], []),
        ("（省能源局牵头，省发改委等按职责分工负责，2027年6月底前完成）", "浙江省",
         ["省能源局"], ["省发展改革委"], [], ["2027年6月底前完成"]),
        # 配合 without a stated lead: support; the others responsible
        ("（水运局负责，海事局配合，9月底前完成）", "国家", [], ["海事局"], ["水运局"], ["9月底前完成"]),
        # the clause says its first named department leads
        ("（省能源局、省农业农村厅按职责分工负责，排在第一位的为牵头单位）", "湖南省",
         ["省能源局"], ["省农业农村厅"], [], []),
        # a provincial centre that leads is a unit of its own, named whole
        ("（省气候中心牵头，减排处配合，完成期限：6月底）", "江西省", ["省气候中心"], ["减排处"], [], ["6月底"]),
        # a department's own divisions get no region prefix (执法局 here is the department's bureau)
        ("（责任部门：污防处、执法局，完成期限：全年持续开展）", "江西省", [], [], ["污防处", "执法局"], ["全年持续开展"]),
        # fields on one line separated by spaces, in any order
        ("完成期限：10月底　责任处室：监测处", "江西省", [], [], ["监测处"], ["10月底"]),
        ("完成时限：持续推进；牵头单位：市机关事务局；配合单位：市财政局", "厦门市",
         ["市机关事务局"], ["市财政局"], [], ["持续推进"]),
        # a time the text ties to another schedule: kept as written
        ("（综合处负责，按照全省统一部署推进）", "江西省", [], [], ["综合处"], ["按照全省统一部署推进"]),
        ("（时间节点：2023年12月；主责单位：市住建局）", "厦门市", ["市住建局"], [], [], ["2023年12月"]),
        ("（含电力）", "国家", [], [], [], []),
        ("", "国家", [], [], [], []),
    ],
)
def test_parse_clause(clause, region, lead, support, responsible, time_parts):
    parts = parse_clause(clause, region)
    assert list(parts.departments.lead) == lead
    assert list(parts.departments.support) == support
    assert list(parts.departments.responsible) == responsible
    assert list(parts.time_parts) == time_parts


@pytest.mark.parametrize(
    ("name", "region", "canonical"),
    [
        ("发改委", "国家", "国家发展改革委"),
        ("国家发改委", "国家", "国家发展改革委"),
        ("央行", "国家", "人民银行"),
        ("中国人民银行", "国家", "中国人民银行"),  # a full name stays as the document writes it
        ("住房和城乡建设部", "国家", "住房和城乡建设部"),
        ("工信部", "国家", "工业和信息化部"),
        ("住建部", "国家", "住房城乡建设部"),
        ("能源局", "国家", "国家能源局"),
        ("能源局", "内蒙古自治区", "自治区能源局"),
        ("发改委", "浙江省", "省发展改革委"),
        ("内蒙古银保监局", "内蒙古自治区", "内蒙古银保监局"),
    ],
)
def test_canonical_department(name, region, canonical):
    assert canonical_department(name, region) == canonical


def test_core_matches_across_levels():
    assert department_core("国家发展改革委") == department_core("自治区发展改革委") == "发展改革委"
    assert department_core("市场监管总局") == "市场监管总局"


def test_labelled_fields():
    parts = parse_clause("牵头单位：省发展改革委、省机关事务管理局；配合单位：省生态环境厅；完成时限：2022年6月底前。", "福建省")
    assert parts.departments.lead == ("省发展改革委", "省机关事务管理局")
    assert parts.departments.support == ("省生态环境厅",)
    assert parts.time_parts == ("2022年6月底前",)
    parts = parse_clause("（责任单位：市商务局、市财政局，各区人民政府）", "湖北省")
    assert parts.departments.lead == () and parts.departments.responsible == ("市商务局", "市财政局")


def test_an_alias_asks_for_the_department_under_its_full_name(kb):
    from datetime import date

    from knowledge.departments import lists_department, split_department_query

    known = kb.searcher.known_departments()
    assert lists_department(["中国国家铁路集团有限公司"], *split_department_query(["国铁集团"], known))
    assert lists_department(["交通运输部"], *split_department_query(["交通部"], known))
    for alias, full in (("交通部", "交通运输部"), ("国铁集团", "中国国家铁路集团有限公司")):
        by_alias = kb.ask(f"{alias}参与的任务有哪些", date(2026, 12, 1))
        by_name = kb.ask(f"{full}参与的任务有哪些", date(2026, 12, 1))
        assert by_alias.hits and [h.item.id for h in by_alias.hits] == [h.item.id for h in by_name.hits]
