"""Questions about the knowledge base's documents, blank input lines, and where clipped snippets start."""

from __future__ import annotations

import json
from datetime import date

import pytest

from knowledge.answer import answer_json, clause_start, clip_around, render_text

TODAY = date(2021, 6, 10)


def documents_answer(kb, question):
    answer = kb.ask(question, TODAY)
    assert answer.mode == "documents", question
    return answer, render_text(answer)


@pytest.mark.parametrize("question", ["知识库收录了哪些文件", "你这里都有什么政策文件", "文件清单"])
def test_which_documents_lists_every_document_with_its_facts(kb, question):
    answer, text = documents_answer(kb, question)
    docs = kb.store.documents()
    counts = kb.store.document_item_counts()
    assert f"{len(docs)} 份文件" in text
    for doc in docs:
        assert doc.title in text and f"{counts[doc.doc_id]}条" in text
        if doc.doc_number:
            assert doc.doc_number in text
    obj = answer_json(answer, 5)
    assert obj["mode"] == "documents" and obj["confident"]
    assert [r["id"] for r in obj["results"]] == [d.doc_id for d in docs]
    assert all(r["kind"] == "document" and r["items"] == counts[r["id"]] for r in obj["results"])
    json.dumps(obj, ensure_ascii=False)


def test_documents_of_a_region(kb):
    _, text = documents_answer(kb, "浙江有哪些文件")
    assert "1 份文件" in text and "浙江" in text and "国发" not in text


@pytest.mark.parametrize(
    ("question", "doc_number"),
    [("国发6号文哪一天印发的", "国发〔2021〕6号"), ("中发36号文件的发布日期", "中发〔2021〕36号")],
)
def test_when_a_document_cited_by_number_was_issued(kb, question, doc_number):
    doc = next(d for d in kb.store.documents() if d.doc_number == doc_number)
    answer, text = documents_answer(kb, question)
    assert [d.doc_id for d, _ in answer.documents_listed] == [doc.doc_id]
    assert f"成文日期：{doc.date.isoformat()}" in text


def test_when_a_regions_document_named_by_its_kind_was_issued(kb):
    doc = next(d for d in kb.store.documents() if d.region == "内蒙古自治区")
    _, text = documents_answer(kb, "内蒙古的实施方案啥时候发布的")
    assert doc.title in text and doc.date.isoformat() in text


@pytest.mark.parametrize("question", ["节能减排综合工作实施方案一共有几条", "国发6号文件有多少条"])
def test_how_many_items_a_document_has(kb, question):
    answer, text = documents_answer(kb, question)
    (doc, count), = answer.documents_listed
    assert count == len(kb.store.items_of_document(doc.doc_id)) and f"共 {count} 条" in text


def test_a_cited_document_the_knowledge_base_lacks_is_said_to_be_missing(kb):
    answer, text = documents_answer(kb, "国发〔2030〕9号是哪天发的")
    assert not answer.confident and "没有这份文件" in text


@pytest.mark.parametrize("question", ["碳减排支持工具什么时候出台", "国发6号文里碳减排支持工具什么时候出台",
                                      "国发6号文把任务拆成了多少项重点", "哪些文件提到了光伏"])
def test_item_questions_that_mention_documents_are_not_about_documents(kb, question):
    assert kb.ask(question, TODAY).mode != "documents"


# ---------------------------------------------------------------------- blank lines


def test_blank_stdin_lines_are_skipped_in_text_and_keep_one_json_line_per_input_line(db_path, tmp_path, capsys,
                                                                                     monkeypatch):
    import io
    import sys

    from bot.cli import main

    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n   \n碳减排支持工具什么时候出台\n"))
    assert main(["ask", "--today", "2021-06-10", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "“”" not in out and "抱歉" not in out and out.startswith("实施金融支持")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n碳减排支持工具什么时候出台\n"))
    assert main(["ask", "--json", "--today", "2021-06-10", "--config", str(config)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and lines[0]["results"] == [] and not lines[0]["confident"]
    assert lines[0]["answer"] == "请输入问题。" and lines[1]["confident"]


# ---------------------------------------------------------------------- snippets


@pytest.mark.parametrize(
    ("text", "focus"),
    [
        ("为推进各项工作部署落实，" * 4 + "新增可再生能源和原料用能不纳入能源消耗总量和强度控制，不纳入能耗单列范围，其余照旧。",
         ("能耗单列", "原料用能")),
        ("各地区要统筹做好有关工作并抓好落实" * 3 + "；鼓励建设屋顶分布式光伏和光伏建筑一体化项目，推进整县屋顶光伏开发试点。",
         ("整县屋顶光伏",)),
    ],
)
def test_a_clipped_snippet_starts_at_a_sentence_or_clause(text, focus):
    snippet = clip_around(text, focus, 40)
    assert snippet.startswith("…")
    start = text.index(snippet[1:].rstrip("…"))
    assert start == 0 or text[start - 1] in "。；，、：", snippet
    assert any(w in snippet for w in focus)


def test_a_clause_start_without_a_boundary_near_is_the_word_itself():
    text = "甲" * 50 + "光伏"
    assert clause_start(text, 50) == 50
    assert clause_start("前面，后面的话", 5) == 3


def test_a_document_named_by_title_words_is_the_title_that_says_most_of_them(kb):
    answer, text = documents_answer(kb, "碳达峰碳中和工作的意见什么时候印发")
    (doc, _), = answer.documents_listed
    assert doc.doc_number == "中发〔2021〕36号" and "2021-09-22" in text


def test_item_counts_follow_a_deletion(kb):
    from dataclasses import replace

    question = "国发6号文件有多少条"
    (doc, before), = kb.ask(question, TODAY).documents_listed
    item = kb.store.items_of_document(doc.doc_id)[0]
    kb.store.update_item(replace(item, status="deleted"), actor="test", action="delete")
    (_, after), = kb.ask(question, TODAY).documents_listed
    assert after == before - 1
