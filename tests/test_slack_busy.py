"""Overload in Slack: when more questions wait for the model than OSPO_EMBED_QUEUE allows, the next
asker is told at once that the bot is busy (where the answer would have been), and the questions
already waiting are still answered. Questions filling every thread for events never hold up a
command's ack, and beyond OSPO_EMBED_QUEUE + OSPO_EMBED_BATCH_SIZE questions in progress the next is
told "busy" before it reaches the model.

The bot runs in this process (the real Bolt app behind waitress, the real WebClient, the fake Slack,
signed payloads to /slack/events), so that the test can hold the model busy and release it: the
queue fills by events, not by racing the clock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from bot.config import load_settings
from bot.search import embedder as embedder_module
from bot.slack import lanes
from bot.slack.blocks.answers import busy_text
from bot.slack.client import web_client
from bot.slack.server import Server
from bot.wiring import Core
from tests.conftest import bot_env, wait_until
from tests.fakeslack import BOT_TOKEN
from tests.slackkit import SIGNING_SECRET, TRIAGE, SlackSide, command, dm, event

WAIT = 60  # seconds: only a guard against a hang


def serve(fake, folder, model_name, **env):
    """The bot behind waitress in this process; yields {"slack": SlackSide, "core": Core}."""
    env = bot_env(
        folder,
        fake,
        model_name,
        OSPO_TRIAGE_CHANNEL=TRIAGE,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        **env,
    )
    settings = load_settings(**{name: str(value) for name, value in env.items()})
    core = Core(settings).build_all()
    core.kb.sync()
    core.kb.warm_up()
    server = Server(core, web_client(settings))
    http = server.http_server("127.0.0.1", 0)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    yield {"slack": SlackSide(f"http://127.0.0.1:{http.effective_port}/slack/events"), "core": core}
    http.close()


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    # one question may wait for the model; the next is told "busy"
    yield from serve(fake, tmp_path_factory.mktemp("busy-bot"), model_name, OSPO_EMBED_QUEUE="1")


@pytest.fixture(scope="module")
def narrow_bot(fake, tmp_path_factory, model_name):
    """Two questions in progress at most (one at the model, one waiting), and no event threads but
    theirs: two held questions fill the events' lane."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lanes, "OTHER_EVENT_THREADS", 0)
        folder = tmp_path_factory.mktemp("narrow-bot")
        yield from serve(fake, folder, model_name, OSPO_EMBED_QUEUE="1", OSPO_EMBED_BATCH_SIZE="1")


def responses(fake, text: str) -> int:
    """How many response_url posts so far said exactly `text`."""
    return sum(1 for args in fake.calls_to("response") if args.get("text") == text)


def messages_to(fake, channel: str) -> list[dict]:
    return [args for args in fake.calls_to("chat.postMessage") if args.get("channel") == channel]


def test_overload_is_told_busy_at_once_and_the_waiting_questions_are_answered(bot, fake):
    slack, batcher = bot["slack"], bot["core"].kb.index.embedder.questions
    started = batcher.batches
    with embedder_module._ENCODE_LOCK:  # the model is busy until the end of this block
        assert slack.send_event(event(dm("how do I sign off my commits?", user="U0BUSY1", channel="D0BUSY1")))[0] == 200
        wait_until(lambda: batcher.batches == started + 1, WAIT, "the first question to reach the model")
        assert slack.send_event(event(dm("is AGPL allowed in SaaS?", user="U0BUSY2", channel="D0BUSY2")))[0] == 200
        wait_until(lambda: batcher.waiting == 1, WAIT, "the second question to wait for the model")

        # The queue is full: a DM and an /ospo ask are told so, while the model is still held.
        assert slack.send_event(event(dm("can I fix a typo?", user="U0BUSY3", channel="D0BUSY3")))[0] == 200
        told = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == "D0BUSY3", timeout=WAIT)
        assert slack.send_command(command("ask can I fix a typo?", fake.response_url("busy"), user="U0BUSY4"))[0] == 200
        said = fake.wait_for("response", where=lambda a: "busy" in str(a.get("text")), timeout=WAIT)
        assert messages_to(fake, "D0BUSY1") == messages_to(fake, "D0BUSY2") == []  # still waiting

    assert [m["text"] for m in told] == [busy_text()]
    assert said[-1]["text"] == busy_text() and said[-1]["response_type"] == "ephemeral"
    assert "busy" in busy_text() and "ask again" in busy_text()
    for channel, quoted in (("D0BUSY1", "git commit -s"), ("D0BUSY2", "Affero")):
        answer = fake.wait_for("chat.postMessage", where=lambda a, c=channel: a.get("channel") == c, timeout=WAIT)
        assert quoted in str(answer[-1].get("blocks")), channel
    for channel in ("D0BUSY1", "D0BUSY2"):  # once each, and never told "busy"
        assert [busy_text() == m.get("text") for m in messages_to(fake, channel)] == [False], channel
    # The busy asker's 👀 came off again, and they got nothing but the busy reply.
    removed = fake.wait_for("reactions.remove", where=lambda a: a.get("channel") == "D0BUSY3", timeout=WAIT)
    assert removed and messages_to(fake, "D0BUSY3") == told
    assert batcher.refused == 2


def test_questions_filling_the_event_threads_hold_up_no_command_and_the_next_question_is_told_busy(narrow_bot, fake):
    slack, batcher = narrow_bot["slack"], narrow_bot["core"].kb.index.embedder.questions
    started, refused = batcher.batches, batcher.refused
    with embedder_module._ENCODE_LOCK:  # the model is busy until the end of this block
        assert slack.send_event(event(dm("how do I sign off my commits?", user="U0LANE1", channel="D0LANE1")))[0] == 200
        wait_until(lambda: batcher.batches == started + 1, WAIT, "the first question to reach the model")
        assert slack.send_event(event(dm("is AGPL allowed in SaaS?", user="U0LANE2", channel="D0LANE2")))[0] == 200
        wait_until(lambda: batcher.waiting == 1, WAIT, "the second question to wait for the model")

        # Both event threads are taken; a command still gets its thread, its ack and its reply.
        helps, busies = responses(fake, "What ospo-bot can do"), responses(fake, busy_text())
        status, _ = slack.send_command(command("help", fake.response_url("lane-help"), user="U0LANE3"))
        assert status == 200
        fake.wait_for("response", helps + 1, WAIT, where=lambda a: a.get("text") == "What ospo-bot can do")
        # Two questions in progress: an /ospo ask is told "busy" before it reaches the model's queue.
        asked = command("ask can I fix a typo?", fake.response_url("lane-ask"), user="U0LANE4")
        assert slack.send_command(asked)[0] == 200
        said = fake.wait_for("response", busies + 1, WAIT, where=lambda a: a.get("text") == busy_text())
        assert messages_to(fake, "D0LANE1") == messages_to(fake, "D0LANE2") == []  # still waiting
        assert batcher.refused == refused  # the gate refused it, not the model's full queue

    assert said[-1]["response_type"] == "ephemeral"
    for channel, quoted in (("D0LANE1", "git commit -s"), ("D0LANE2", "Affero")):
        answer = fake.wait_for("chat.postMessage", where=lambda a, c=channel: a.get("channel") == c, timeout=WAIT)
        assert quoted in str(answer[-1].get("blocks")), channel


def test_events_take_the_event_lane_and_everything_else_the_lane_slack_waits_on():
    chosen = lanes.Lanes(SimpleNamespace(questions_at_once=1))
    try:

        def lane_of(body) -> str:
            chosen.choose(body)
            return chosen.submit(lambda: threading.current_thread().name).result(WAIT)

        assert lane_of({"type": "event_callback", "event": {"type": "message"}}).startswith("bolt-events")
        for body in ({"command": "/ospo"}, {"type": "block_actions"}, {"type": "view_submission"}, None):
            assert lane_of(body).startswith("bolt-acks"), body
        unchosen = ThreadPoolExecutor(1).submit(lambda: chosen.submit(threading.current_thread).result(WAIT))
        assert unchosen.result(WAIT).name.startswith("bolt-acks")  # a thread that never chose: Slack waits
    finally:
        chosen.shutdown()


def test_the_server_answers_while_the_process_holds_more_than_1024_files(bot, fake):
    """select() cannot wait on a socket numbered 1,024 or more; the server waits with poll()."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1400:
        pytest.skip(f"this machine allows {hard} open files; the test needs 1,400")
    if soft != resource.RLIM_INFINITY and soft < 1400:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1400, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # files and sockets of a busy process
    try:
        asked = event(dm("how do I sign off my commits?", user="U0FILES", channel="D0FILES1"))
        assert bot["slack"].send_event(asked)[0] == 200
        answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == "D0FILES1", timeout=WAIT)
        assert "git commit -s" in str(answer[-1].get("blocks"))
    finally:
        for fd in held:
            os.close(fd)
