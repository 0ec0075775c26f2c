"""Learning from use: a 👍 makes the question "asked as" evidence for the section that answered it, a
👎 takes it back, a few votes cannot pull in a section the knowledge base does not bring up itself,
and learned evidence never makes an answer confident."""

from __future__ import annotations

import threading

from bot.helpdesk import HelpDesk
from bot.search import embedder as embedder_module
from bot.search.knowledge_base import KnowledgeBase
from tests.conftest import wait_until, write_docs

SIGN_OFF = "cla/dco.md#how-to-sign-off"


def desk_for(make_kb, small_kb_dir) -> HelpDesk:
    kb = make_kb(small_kb_dir)
    kb.sync()
    return HelpDesk(kb)


def test_a_thumbs_up_teaches_the_question_and_a_thumbs_down_takes_it_back(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("how do i sign off my commits", user="U1")
    assert reply.answer.confident
    desk.feedback(reply.question_id, "U1", 1)
    rows = list(desk.db.query("SELECT section_id, phrasing, user FROM learned_phrasings"))
    assert rows == [{"section_id": SIGN_OFF, "phrasing": "how do i sign off my commits", "user": "U1"}]
    desk.feedback(reply.question_id, "U1", 1)  # the same vote again teaches nothing new
    assert desk.kb.learning.count() == 1
    desk.feedback(reply.question_id, "U2", -1)
    assert desk.kb.learning.count() == 0
    assert desk.kb.learning.vectors.count() == 0


def test_an_unsure_answer_teaches_nothing(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("what's for lunch", user="U1")
    desk.feedback(reply.question_id, "U1", 1)
    assert desk.kb.learning.count() == 0


def test_learned_phrasings_rerank_only_sections_the_knowledge_base_brings_up(tmp_path, make_kb):
    # More sections than a search takes from each half, so that some are not candidates.
    docs = {
        f"filler/topic-{n}.md": f"# Topic {n}\n\n## Part {n}\n\nGardening note {n} about tomatoes and soil {n}.\n"
        for n in range(110)
    }
    docs["cla/dco.md"] = "# DCO\n\n## How to sign off\n\nUse git commit -s so each commit carries a sign-off line.\n"
    kb = make_kb(write_docs(tmp_path / "knowledge", docs))
    kb.sync()
    question = "which watering schedule keeps tomato seedlings alive"
    before = [d.path for d in kb.search(question, k=200).documents]
    assert "cla/dco.md" not in before  # not a candidate: neither half brings it up

    for n in range(5):  # a few votes for an unrelated section, on questions just like this one
        kb.learning.add("cla/dco.md#how-to-sign-off", f"{question} {n}", question_id=n, user=f"U{n}")
    after = [d.path for d in kb.search(question, k=200).documents]
    assert after == before


def test_learned_evidence_moves_the_ranking_but_not_the_confidence(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    question = "where does my trailer line go"
    before = kb.ask(question, record=False)
    kb.learning.add(SIGN_OFF, question, question_id=1, user="U1")
    after = kb.search(question, k=3)
    top = after.documents[0].best
    assert top.id == SIGN_OFF and top.learned_similarity > 0.99
    again = kb.ask(question, record=False)
    assert again.why["signals"]["asked_similarity"] == before.why["signals"]["asked_similarity"]
    assert again.why["signals"]["similarity"] == before.why["signals"]["similarity"]

    alone = KnowledgeBase(kb.settings, index=kb.index, learned=False)  # as `kb eval` measures
    assert alone.search(question, k=3).documents[0].best.learned_similarity is None


def test_what_another_process_learns_or_takes_back_is_seen_by_the_next_question(make_kb, small_kb_dir):
    """Learned phrasings are searched in a copy held in memory (bot/search/nearest.py), taken again
    when another process (another replica) learns one or takes one back."""
    serving = make_kb(small_kb_dir)
    serving.sync()
    question = "where does my trailer line go"
    serving.learning.add("contributing/trivial.md#what-counts-as-trivial", "what counts as trivial", question_id=7)
    assert serving.search(question, k=3).documents[0].best.learned_similarity is None  # the copy is made

    voting = make_kb(small_kb_dir)  # another process, the same data
    voting.learning.add(SIGN_OFF, question, question_id=1, user="U1")
    assert serving.search(question, k=3).documents[0].best.learned_similarity > 0.99
    voting.learning.forget(question_id=1)
    assert serving.search(question, k=3).documents[0].best.learned_similarity is None


def test_two_thumbs_up_at_once_teach_the_question_once_without_an_error(make_kb, small_kb_dir):
    """Both check "not known yet", then wait for the model (held busy here, as under load): the second
    to write must find the first's row, not fail on the unique index (bench/load.py found it)."""
    kb = make_kb(small_kb_dir)
    kb.sync()
    batcher = kb.index.embedder.questions
    taught: list[bool] = []
    votes = [
        threading.Thread(target=lambda: taught.append(kb.learning.add(SIGN_OFF, "how to sign off?"))) for _ in "ab"
    ]
    with embedder_module._ENCODE_LOCK:
        votes[0].start()
        wait_until(lambda: batcher.batches == 1, 60, "the first vote to reach the model")
        votes[1].start()
        wait_until(lambda: batcher.waiting == 1, 60, "the second vote to wait for the model")
    for vote in votes:
        vote.join(60)
    assert sorted(taught) == [False, True]
    assert kb.learning.count() == 1 and kb.learning.vectors.count() == 1


def test_at_most_twenty_phrasings_per_section_the_newest_kept(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir)
    kb.sync()
    for n in range(25):
        kb.learning.add(SIGN_OFF, f"sign off question number {n}", question_id=n)
    phrasings = [r[0] for r in kb.db.execute("SELECT phrasing FROM learned_phrasings ORDER BY id")]
    assert len(phrasings) == 20 and phrasings[0] == "sign off question number 5"
    assert kb.learning.vectors.count() == 20


def test_a_saved_answer_carries_its_question_as_asked_as(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("can contractors sign our corporate CLA", user="U1")
    escalation, _ = desk.escalate(reply.question_id, "U1", "D1", "1.0")
    desk.record_reply(escalation.id, "Contractors sign their own ICLA; ask ospo@example.com.", "UOSPO")
    path = desk.save_as_knowledge(escalation.id, "UOSPO")
    (row,) = desk.db.execute("SELECT id FROM chunks WHERE path = ? AND kind = 'asked'", [path]).fetchall()
    assert row[0].endswith("~q0")
    text = desk.kb.section_text(f"{path}#top")
    assert "asked as" not in text and text.startswith("Contractors sign their own ICLA")
