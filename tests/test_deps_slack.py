"""End to end: SBOMs and lockfiles shared with a running `ospo-bot serve` (HTTP mode). The fake Slack
serves files.info and the files' url_private on loopback; Slack's side sends the file_share message
(shaped as bolt-python's captured sample), `/ospo check` and the *Request an exception* click."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.slack import ids
from bot.slack.blocks.deps import exception_form_values
from tests.conftest import bot_env, start_bot, stop_bot
from tests.fakeslack import BOT_TOKEN
from tests.slackkit import SlackSide, block_action, command, event, file_share, next_ts, view_submission

SBOMS = Path(__file__).parent / "data" / "sboms"
LIMIT_MB = 1  # the bot's OSPO_SBOM_MAX_MB: Keycloak's 2.2 MB SBOM is over it
APPROVALS, APPROVER = "C0APPROVE", "U0APPROVER"
_users = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("deps-bot")
    env = bot_env(
        folder,
        fake,
        model_name,
        OSPO_TRIAGE_CHANNEL="C0TRIAGE",
        OSPO_SBOM_MAX_MB=str(LIMIT_MB),
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_APPROVERS=APPROVER,
    )
    process, base, log = start_bot(env, folder)
    yield {"slack": SlackSide(base + "/slack/events"), "log": log, "db": Path(env["OSPO_DATA_DIR"]) / "ospo-bot.db"}
    stop_bot(process)


def new_dm() -> tuple[str, str]:
    n = next(_users)
    return f"U0D{n:05d}", f"D0D{n:05d}"


def share(bot, fake, text: str, *files: dict, user: str | None = None, channel: str | None = None) -> dict:
    if user is None:
        user, channel = new_dm()
    message = file_share(text, list(files), user, channel)
    assert bot["slack"].send_event(event(message))[0] == 200
    return message


def replies(fake, message: dict, count: int = 1) -> list[dict]:
    """The bot's messages in the shared file's thread."""
    where = lambda a: a.get("channel") == message["channel"] and a.get("thread_ts") == message["ts"]  # noqa: E731
    return fake.wait_for("chat.postMessage", count=count, where=where)


def everything(args: dict) -> str:
    blocks = args.get("blocks") or []
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return str(args.get("text") or "") + json.dumps(blocks, ensure_ascii=False)


def button_value(message: dict, action_id: str) -> str:
    blocks = message.get("blocks")
    for block in json.loads(blocks) if isinstance(blocks, str) else blocks or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button in {everything(message)}")


def test_a_shared_sbom_is_downloaded_with_the_bot_token_and_answered_in_its_thread(bot, fake):
    sbom = fake.add_file("bom.xml", (SBOMS / "cyclonedx-1.2-juice-shop-11.1.2.xml").read_bytes(), "application/xml")
    message = share(bot, fake, "can we ship this?", sbom)
    answer = replies(fake, message)[0]
    assert fake.calls_to("files.info")[-1]["file"] == sbom["id"]
    download = [c for c in fake.calls if c.method == "download" and c.args["file"] == sbom["id"]]
    assert download and download[0].token == BOT_TOKEN and download[0].ok
    text = everything(answer)
    assert "*bom.xml* (CycloneDX 1.2 XML), for *distribute*: 840 components" in text
    assert "2 need OSPO review" in text and "37 no or unknown license" in text
    assert "Needs attention (39)" in text and "…and 29 more: the whole table is in this thread." in text
    assert ids.DEPS_EXCEPTION in text
    # the whole table, every component, in the same thread
    completed = fake.wait_for("files.completeUploadExternal", where=lambda a: a.get("thread_ts") == message["ts"])
    assert completed[-1]["channel_id"] == message["channel"]
    upload = fake.calls_to("upload")[-1]["bytes"].decode()
    rows = list(csv.DictReader(io.StringIO(upload)))
    assert len(rows) == 840 and {r["verdict"] for r in rows[:39]} == {"review", "unknown"}


def test_the_use_comes_from_the_words_and_a_clean_file_is_said_to_be_allowed(bot, fake):
    lockfile = fake.add_file("bom.json", (SBOMS / "cyclonedx-1.4-laravel-7.12.0.json").read_bytes())
    message = share(bot, fake, "we only run this in our SaaS, ok?", lockfile)
    text = everything(replies(fake, message)[0])
    assert "for *saas*: 62 components" in text and "✅ Every component is allowed for saas." in text
    assert ids.DEPS_EXCEPTION not in text


def test_request_an_exception_opens_the_form_pre_filled(bot, fake):
    sbom = fake.add_file("bom.json", (SBOMS / "edge" / "cyclonedx-1.5-edge-cases.json").read_bytes())
    user, channel = new_dm()
    message = share(bot, fake, "for saas", sbom, user=user, channel=channel)
    answer = replies(fake, message)[0]
    value = button_value(answer, ids.DEPS_EXCEPTION)
    opened = len(fake.calls_to("views.open"))
    click = block_action(ids.DEPS_EXCEPTION, value, user=user, channel=channel, thread_ts=message["ts"])
    assert bot["slack"].send_interaction(click)[0] == 200
    view = fake.wait_for("views.open", count=opened + 1)[-1]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    fields = {b.get("block_id"): b.get("element", {}) for b in view["blocks"]}
    assert fields["type"]["initial_option"]["value"] == "exception"
    components = fields["components"]["initial_value"].splitlines()
    assert "pkg:generic/mongo-driver@7.0.1" in components and "named-nonsense 0.1" in components
    assert fields["use"]["initial_option"]["value"] == "saas"
    assert "SSPL-1.0" in fields["license"]["initial_value"]
    assert fields["description"]["initial_value"].startswith("From the check of bom.json: 5 components")


def test_the_exception_requested_from_a_check_sticks(bot, fake):
    """The pre-filled form submitted, approved; the same SBOM checked again: allowed, by that exception."""
    from bot.approvals import Approvals
    from bot.licenses import default_policy
    from bot.store import ThreadLocalDB

    sbom = (SBOMS / "edge" / "cyclonedx-1.6-edge-cases.xml").read_bytes()
    user, channel = new_dm()
    first = share(bot, fake, "for saas", fake.add_file("bom.xml", sbom, "application/xml"), user=user, channel=channel)
    values = exception_form_values(button_value(replies(fake, first)[0], ids.DEPS_EXCEPTION))
    assert values["components"] == "pkg:generic/mongo-driver@7.0.1\nno-license 1.0.0"
    state = {"type": {ids.APPROVAL_TYPE: {"type": "static_select", "selected_option": {"value": "exception"}}}}
    for name, value in (values | {"justification": "The analytics service needs the driver."}).items():
        if name == "type":
            continue
        element = {"type": "static_select", "selected_option": {"value": value}} if name == "use" else None
        state[name] = {ids.FIELD_VALUE: element or {"type": "plain_text_input", "value": value}}
    payload = view_submission(ids.APPROVAL_REQUEST, "", state, user=user)
    payload["view"]["id"] = f"VDEPS{next_ts()}"
    assert bot["slack"].send_interaction(payload)[0] == 200
    posted = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == APPROVALS)[-1]
    assert "_Components:_ pkg:generic/mongo-driver ==7.0.1, no-license 1.0.0 · for a year from approval" in everything(
        posted
    )
    approvals = Approvals(ThreadLocalDB(bot["db"]).get, default_policy())
    request = next(r for r in approvals.list(state="pending") if r.requester == user)
    approvals.decide(request.id, APPROVER, "approve", approvers={APPROVER})
    again = share(bot, fake, "for saas", fake.add_file("bom.xml", sbom, "application/xml"), user=user, channel=channel)
    text = everything(replies(fake, again)[0])
    assert "✅ Every component is allowed for saas." in text and "4 allowed" in text
    fake.wait_for("files.completeUploadExternal", where=lambda a: a.get("thread_ts") == again["ts"])
    rows = fake.calls_to("upload")[-1]["bytes"].decode()
    assert f"allowed,mongo-driver,7.0.1,pkg:generic/mongo-driver@7.0.1,SSPL-1.0,{request.ref}," in rows


def test_a_file_that_is_not_an_sbom_gets_what_the_bot_reads(bot, fake):
    readme = fake.add_file("notes.txt", b"Remember to update the NOTICE file.\n", "text/plain")
    picture = fake.add_file("diagram.png", b"\x89PNG\r\n\x1a\n", "image/png", pretty_type="PNG")
    message = share(bot, fake, "", readme, picture)
    texts = [everything(m) for m in replies(fake, message, count=2)]
    assert all("I can read CycloneDX, SPDX and npm lockfiles" in t for t in texts), texts
    assert "*diagram.png* is none of those" in texts[1] and "It is a PNG file." in texts[1]
    downloaded = {c.args["file"] for c in fake.calls if c.method == "download"}
    assert readme["id"] in downloaded and picture["id"] not in downloaded  # a picture is not fetched


def test_a_file_over_the_limit_is_refused_without_downloading(bot, fake):
    big = fake.add_file("bom.json", b"{}", size=50 * 1024 * 1024)
    message = share(bot, fake, "", big)
    text = everything(replies(fake, message)[0])
    assert "*bom.json* is 50 MB: more than the 1 MB I check here" in text
    assert big["id"] not in {c.args["file"] for c in fake.calls if c.method == "download"}


def test_a_file_bigger_than_slack_said_is_cut_at_the_limit(bot, fake):
    keycloak = (SBOMS / "cyclonedx-1.2-keycloak-10.0.2.json").read_bytes()
    lying = fake.add_file("bom.json", keycloak, size=1000)
    message = share(bot, fake, "", lying)
    assert "*bom.json* is over 1 MB: more than the 1 MB I check here" in everything(replies(fake, message)[0])


def test_a_download_that_fails_is_said(bot, fake):
    gone = fake.add_file("bom.json", b"{}")
    fake.fail("download", "file_not_found", where=lambda a: a["file"] == gone["id"])
    message = share(bot, fake, "", gone)
    text = everything(replies(fake, message)[0])
    assert "I couldn't get *bom.json* from Slack (HTTP 404)" in text and "files:read" in text
    fake.fail("files.info", "missing_scope")
    message = share(bot, fake, "", fake.add_file("bom.json", b"{}"))
    assert "(Slack said missing_scope)" in everything(replies(fake, message)[0])


def test_a_truncated_or_spdx_3_sbom_is_said_to_be_unreadable(bot, fake):
    data = (SBOMS / "spdx-2.3-examplemaven.spdx.json").read_bytes()
    message = share(bot, fake, "", fake.add_file("sbom.spdx.json", data[:3000]))
    assert "I couldn't check it: sbom.spdx.json is not valid JSON" in everything(replies(fake, message)[0])
    spdx3 = b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}'
    message = share(bot, fake, "", fake.add_file("sbom3.json", spdx3))
    text = everything(replies(fake, message)[0])
    assert "I couldn't check it: sbom3.json is SPDX 3, which we do not read yet; export SPDX 2.3" in text


def test_ospo_check_with_a_file_link_answers_in_a_dm(bot, fake):
    sbom = fake.add_file("sbom.spdx", (SBOMS / "spdx-2.2-example6-lib.spdx").read_bytes(), "text/plain")
    user, _ = new_dm()
    status, _ = bot["slack"].send_command(command(f"check {sbom['permalink']} internal", fake.response_url(), user))
    assert status == 200
    fake.wait_for("response", where=lambda a: "answer is in our DM" in json.dumps(a))
    started = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == user)[0]
    assert "(internal)" in started["text"]
    answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == user and a.get("thread_ts"))
    assert "(SPDX 2.2 tag-value), for *internal*: 4 components" in everything(answer[0])
    status, _ = bot["slack"].send_command(command("check", fake.response_url(), user))
    fake.wait_for("response", where=lambda a: "Share an SBOM or lockfile with me" in json.dumps(a))


def test_a_file_in_a_channel_not_addressed_to_the_bot_is_left_alone(bot, fake):
    sbom = fake.add_file("bom.json", b"{}")
    before = len(fake.calls_to("files.info"))
    message = file_share("our new lockfile", [sbom], "U0D99999", "C0ELSEWHERE")
    assert bot["slack"].send_event(event(message))[0] == 200
    # A DM sent after it: once that is answered, the channel message (sent first, cheaper) was handled.
    probe = share(bot, fake, "", fake.add_file("x.txt", b"hello", "text/plain"))
    replies(fake, probe)
    assert [c["file"] for c in fake.calls_to("files.info")[before:]] == [probe["files"][0]["id"]]
