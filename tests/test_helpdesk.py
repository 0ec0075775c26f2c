"""The help desk core without Slack: answers remember what they quoted; a changed or removed
section queues one notice per person; saved answers become knowledge; events dedupe. On both back ends
(PostgreSQL: its full-text search too)."""

from __future__ import annotations

import pytest

from bot.helpdesk import HelpDesk


@pytest.fixture
def make_kb(make_kb, database_env):
    """conftest's make_kb, on each back end."""
    return lambda knowledge_dir, data_dir=None, **env: make_kb(knowledge_dir, data_dir, **database_env, **env)


def desk_for(make_kb, small_kb_dir) -> HelpDesk:
    kb = make_kb(small_kb_dir)
    kb.sync()
    return HelpDesk(kb)


def test_answer_records_the_quoted_section(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("how do i sign off my commits", user="U1", channel="D1")
    row = desk.db.execute(
        "SELECT chunk_id, content_hash FROM answers WHERE question_id = ?", [reply.question_id]
    ).fetchone()
    assert row[0] == "cla/dco.md#how-to-sign-off~0" and row[1]


def test_changed_section_notifies_each_asker_once_with_the_new_text(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    desk.ask("how do i sign off my commits", user="U1")
    desk.ask("what is the DCO sign-off command", user="U1")
    desk.ask("sign off commits how", user="U2")
    desk.ask("agpl in our service?", user="U3")  # another section: not told
    path = small_kb_dir / "cla/dco.md"
    path.write_text(path.read_text().replace("git commit -s", "git commit --signoff"))
    report = desk.kb.sync()
    assert desk.queue_notices(report) == 2
    notices = desk.pending_notices()
    assert sorted(n.user for n in notices) == ["U1", "U2"]
    assert all(n.kind == "changed" and "git commit --signoff" in n.new_text for n in notices)
    assert notices[0].title == "Signing off commits with the DCO"
    for notice in notices:
        desk.notice_sent(notice.id)
    assert desk.pending_notices() == []


def test_removed_section_and_old_answers(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    old = desk.ask("agpl in a saas product?", user="U9")
    with desk.db.writing():
        desk.db.execute("UPDATE questions SET asked_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", [old.question_id])
    desk.ask("can we use AGPL software in our hosted service", user="U4")
    (small_kb_dir / "using/agpl.md").unlink()
    assert desk.queue_notices(desk.kb.sync()) == 1
    (notice,) = desk.pending_notices()
    assert notice.user == "U4" and notice.kind == "removed" and notice.new_text is None


def test_unconfident_answers_quote_nothing(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("what's for lunch", user="U1")
    assert not reply.answer.confident
    assert desk.db["answers"].count_where("question_id = ?", [reply.question_id]) == 0


def test_license_named_in_question_gets_the_policy(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    assert desk.ask("can I use SSPL code in our SaaS?").license.expression == "SSPL-1.0"
    assert desk.ask("how do i sign off my commits").license is None


def test_question_naming_two_licenses_gets_their_compatibility(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("can I use Apache-2.0 code in a GPL-2.0-only project?")
    assert reply.license.expression == "Apache-2.0"
    together = reply.compatibility
    assert together.directed and together.verdict == "incompatible" and "OSADL: No" in together.reason
    assert desk.ask("can I use SSPL code in our SaaS?").compatibility is None


def test_escalation_reply_resolve_and_save_as_knowledge(make_kb, small_kb_dir, tmp_path):
    desk = desk_for(make_kb, small_kb_dir)
    reply = desk.ask("who approves sponsorship of a conference booth?", user="U1", channel="D1")
    escalation, new = desk.escalate(reply.question_id, "U1", "D1", None)
    again, new_again = desk.escalate(reply.question_id, "U1", "D1", None)
    assert new and not new_again and again.id == escalation.id
    desk.posted_to_triage(escalation.id, "CTRIAGE", "111.222")
    assert desk.escalation(triage=("CTRIAGE", "111.222")).id == escalation.id
    desk.record_reply(escalation.id, "The Head of Open Source approves conference booth sponsorships.", "UOSPO")
    path = desk.save_as_knowledge(escalation.id, "UOSPO")
    assert path.startswith("learned/") and (desk.settings.learned_dir / path.removeprefix("learned/")).is_file()
    answer = desk.ask("who approves sponsorship of a conference booth?").answer
    assert answer.confident and answer.sources[0].path == path
    assert desk.resolve(escalation.id, "UOSPO") and not desk.resolve(escalation.id, "UOSPO")
    exported = desk.export_learned(tmp_path / "export")
    assert [p.name for p in exported] == [path.removeprefix("learned/")]


def test_an_answer_from_the_digest_is_saved_even_for_a_question_with_an_emoji(make_kb, small_kb_dir):
    """answer_and_save is the digest's one call: escalate, record the reply, save as knowledge, resolve.
    An emoji once broke the saved entry (JSON front matter wrote it as a surrogate pair, YAML read two
    halves back, and indexing the title failed); found by the Slack fuzzer."""
    desk = desk_for(make_kb, small_kb_dir)
    question = desk.ask("🙂 may I sponsor a conference booth? 𝒳", user="U1", channel="D1").question_id
    with pytest.raises(ValueError, match="Write the answer"):
        desk.answer_and_save(question, "  ", "UOSPO")
    saved = desk.answer_and_save(question, "Ask the Head of Open Source first. 🙂", "UOSPO")
    assert saved.asker == "U1" and saved.path.startswith("learned/")
    title = desk.db.execute("SELECT title FROM documents WHERE path = ?", [saved.path]).fetchone()[0]
    assert title == "🙂 may I sponsor a conference booth? 𝒳"
    escalation = desk.escalation(question_id=question)
    assert (escalation.state, escalation.answered_by) == ("resolved", "UOSPO")


def test_events_are_claimed_once(make_kb, small_kb_dir):
    desk = desk_for(make_kb, small_kb_dir)
    assert desk.claim_event("Ev1") and not desk.claim_event("Ev1") and desk.claim_event("Ev2")
