import pytest

from knowledge.references import DocumentReference, cited_documents, find_reference


@pytest.mark.parametrize(
    ("text", "issuer", "year", "number"),
    [
        ("国发〔2021〕6号", "国发", 2021, 6),
        ("国发[2021]6号", "国发", 2021, 6),
        ("国发2021年6号文", "国发", 2021, 6),
        ("国发6号文里的任务", "国发", None, 6),
        ("内政办发〔2022〕12号", "内政办发", 2022, 12),
        ("发改环资36号文件", "发改环资", None, 36),
        ("36号文里出行这块要干啥", "", None, 36),  # the number alone
        ("楼顶装光伏 36号文提了没有", "", None, 36),  # words, then the citation
        ("第6号文", "", None, 6),
    ],
)
def test_find_reference(text, issuer, year, number):
    ref = find_reference(text)
    assert ref is not None and (ref.issuer, ref.year, ref.number) == (issuer, year, number)
    assert issuer or ref.text.startswith(str(number))  # what the question's words keep: all but the citation


@pytest.mark.parametrize("text", ["推进会是3月6号开的", "会议定在几月6号", "到2025年", "碳减排支持工具"])
def test_dates_and_plain_text_are_no_reference(text):
    assert find_reference(text) is None


def test_cites_matches_issuer_ending_number_and_year():
    printed = DocumentReference("国发〔2021〕6号", "国发", 2021, 6)
    assert DocumentReference("", "国务院国发", None, 6).cites(printed)
    assert not DocumentReference("", "国办发", None, 6).cites(printed)
    assert not DocumentReference("", "国发", 2022, 6).cites(printed)
    assert not DocumentReference("", "国发", 2021, 7).cites(printed)


def test_cited_documents():
    numbers = {"a": "国发〔2021〕6号", "b": "中发〔2021〕36号", "c": ""}
    assert cited_documents(find_reference("中发36号文"), numbers) == ("b",)
    assert cited_documents(find_reference("国发〔2020〕6号"), numbers) == ()


def test_a_citation_without_an_issuer_names_the_documents_of_its_number():
    numbers = {"a": "国发〔2021〕6号", "b": "中发〔2021〕36号", "c": "发改环资〔2021〕36号"}
    assert cited_documents(find_reference("36号文里的任务"), numbers) == ("b", "c")
    assert cited_documents(find_reference("楼顶光伏36号文提了没有"), numbers) == ("b", "c")  # no issuer's ending
    assert cited_documents(find_reference("国办发36号文"), numbers) == ()  # an issuer, and not these
