"""Through the real HTTP endpoint against the fake Slack: time from a signed DM event to the
answer's chat.postMessage at 1 and at 20 concurrent askers, the ack latency of `/ospo`
commands while those answers run, in the assistant pane the time from a question to the first
"is searching…" status and to the answer, the server's peak RSS, and where the 2 cores went
during the 20-way run: CPU per answer in the server and in this process (the askers and the fake
Slack share the machine), and how many cores were busy.

    .venv/bin/python bench/slack_latency.py [--answers 200] [--alone 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import cpu_seconds, handbook_questions, memory_mb, serve_bot, summary_ms  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackkit import (  # noqa: E402
    SlackSide,
    assistant_message,
    assistant_thread_started,
    command,
    dm,
    event,
)


def ask_all(
    slack: SlackSide, fake: FakeSlack, texts: list[str], concurrency: int, tag: str
) -> tuple[list[float], float]:
    """`concurrency` askers, each sending a DM and waiting for its answer before the next (closed
    loop, as people do); latency = the answer's chat.postMessage arriving - the event sent.
    Returns the latencies and the answers per second over the run."""
    latencies: list[float] = []

    def one(n: int) -> None:
        channel = f"D{tag}{n:05d}"
        sent = time.monotonic()
        status, _ = slack.send_event(event(dm(texts[n % len(texts)], channel=channel, user=f"U{tag}{n:05d}")))
        assert status == 200, status
        answer = fake.wait_for_calls("chat.postMessage", timeout=120, where=lambda a: a.get("channel") == channel)[0]
        latencies.append(answer.at - sent)

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(texts))))
    per_second = len(texts) / (time.monotonic() - started)
    answers = [
        c for c in fake.calls if c.method == "chat.postMessage" and str(c.args.get("channel", "")).startswith(f"D{tag}")
    ]
    assert len(answers) == len(texts), f"{len(answers)} answers for {len(texts)} questions: lost or duplicated"
    return latencies, per_second


def ask_in_the_pane(slack: SlackSide, fake: FakeSlack, texts: list[str]) -> tuple[list[float], list[float]]:
    """One person at a time opens an assistant-pane thread and asks: (time to the first status,
    time to the answer), from the question's event sent."""
    timings = [pane_question(slack, fake, text, n) for n, text in enumerate(texts)]
    return [status for status, _ in timings], [answer for _, answer in timings]


def pane_question(slack: SlackSide, fake: FakeSlack, text: str, n: int) -> tuple[float, float]:
    user, channel = f"UP{n:05d}", f"DP{n:05d}"
    started, thread_ts = assistant_thread_started(user, channel)
    slack.send_event(event(started))
    fake.wait_for("assistant.threads.setSuggestedPrompts", where=lambda a: a.get("thread_ts") == thread_ts)
    sent = time.monotonic()
    assert slack.send_event(event(assistant_message(text, user, channel, thread_ts)))[0] == 200

    def first(method: str, where) -> float:
        return fake.wait_for_calls(method, timeout=120, where=where)[0].at - sent

    status = first("assistant.threads.setStatus", lambda a: a.get("thread_ts") == thread_ts)
    return status, first("chat.postMessage", lambda a: a.get("thread_ts") == thread_ts and "feedback_up" in str(a))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=200, help="questions in the concurrent run")
    parser.add_argument("--alone", type=int, default=200, help="questions asked one at a time")
    args = parser.parse_args()
    texts = handbook_questions()
    fake = FakeSlack().start()
    try:
        with serve_bot(fake) as bot:
            ready = bot.ready_seconds
            slack = SlackSide(bot.events_url)
            ask_all(slack, fake, texts[:10], 1, "W")  # warm-up
            alone, _ = ask_all(slack, fake, (texts * 10)[: args.alone], 1, "A")
            pane_status, pane_answer = ask_in_the_pane(slack, fake, texts[:50])
            acks: list[float] = []
            done = threading.Event()

            def commands() -> None:
                while not done.is_set():
                    t0 = time.monotonic()
                    status, _ = slack.send_command(command("help", fake.response_url("bench")))
                    acks.append(time.monotonic() - t0)
                    assert status == 200
                    done.wait(0.05)

            thread = threading.Thread(target=commands)
            thread.start()
            cpu_before = cpu_seconds(bot.process.pid), cpu_seconds(os.getpid()), time.monotonic()
            crowd, crowd_rate = ask_all(slack, fake, (texts * 10)[: args.answers], 20, "B")
            cpu_after = cpu_seconds(bot.process.pid), cpu_seconds(os.getpid()), time.monotonic()
            done.set()
            thread.join()
            rss_mb = memory_mb(bot.process.pid, "VmHWM")
    finally:
        fake.stop()
    table = Table(title=f"ospo-bot serve (HTTP, waitress) on the bundled handbook; ready in {ready:.1f}s")
    for column in ("measure", "n", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for name, values in (
        ("DM → answer, 1 asker", alone),
        ("assistant pane: question → first status", pane_status),
        ("assistant pane: question → answer", pane_answer),
        ("DM → answer, 20 concurrent", crowd),
        ("/ospo ack during the 20-way run", acks),
    ):
        figures = summary_ms(values)
        table.add_row(name, str(len(values)), *(f"{figures[k]:.0f}" for k in ("p50", "p95", "p99")))
    console = Console(width=120)
    console.print(table)
    console.print(f"20 concurrent askers: {crowd_rate:.0f} answers/s")
    server, here, seconds = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    console.print(
        f"CPU per answer in the 20-way run: server {1000 * server / len(crowd):.1f} ms, askers + fake Slack "
        f"{1000 * here / len(crowd):.1f} ms; {(server + here) / seconds:.2f} of {os.cpu_count()} cores busy"
    )
    console.print(f"server peak RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
