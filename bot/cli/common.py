"""What every command shares: the consoles, settings and the core (or a plain-words exit), the
start-up checks, the progress bar, and bringing the knowledge base up to date."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.search.knowledge_base import KnowledgeBase
    from bot.wiring import Core

out = Console(highlight=False, soft_wrap=True)  # no hard wraps: output stays greppable
err = Console(stderr=True, highlight=False, soft_wrap=True)


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    setup_logging(settings.log_level, settings.secrets)
    return settings


def core_or_exit(settings: Settings | None = None) -> Core:
    """The bot's parts (bot.wiring) for this command; a license policy that cannot be read ends the
    command here, saying what is wrong with it."""
    from bot.wiring import Core

    core = Core(settings or settings_or_exit())
    try:
        core.policy  # noqa: B018 (read now, so that a broken file is said before any work)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    return core


def setup_problems(settings: Settings, serving: bool = False) -> list[str]:
    """What stops `ask`, `kb` and `serve` before the slow part (importing torch, loading the model):
    a model path that is not a model, a knowledge folder we cannot read, and for serving one
    without markdown. Cheap: file checks only."""
    from bot.config import embedding_model_problem
    from bot.search.knowledge_base import knowledge_problems

    model = embedding_model_problem(settings.embedding_model)
    return ([model] if model else []) + knowledge_problems(settings, need_documents=serving)


def check_setup_or_exit(settings: Settings) -> None:
    problems = setup_problems(settings)
    if problems:
        raise click.ClickException("\n  ".join(["Cannot start:", *problems]))


@contextmanager
def setup_errors_end_the_command():
    """A model that fails to load, a knowledge folder that turns unreadable or a policy file that
    cannot be read ends the command with its message (what to set or fix), not a traceback."""
    from bot.search.embedder import ModelError
    from bot.search.knowledge_base import KnowledgeFolderError

    try:
        yield
    except (ModelError, KnowledgeFolderError, ConfigError) as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def progress_bar(description: str, after: float = 0.0):
    """A progress callback for long work, drawn on stderr; silent when there is nothing to do, and
    until `after` seconds have passed (a check that takes a moment draws no bar)."""
    started = time.monotonic()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if task is None and time.monotonic() - started < after:
                return
            if task is None:
                task = progress.add_task(description, total=total)
            progress.update(task, completed=done)

        yield update


def fresh_knowledge(core: Core, kb: KnowledgeBase | None = None) -> KnowledgeBase:
    """The knowledge base (core.kb, or kb) brought up to date when its folder changed: a progress bar
    while it indexes, skipped files said, and a DM queued for everyone quoted a section that changed."""
    kb = kb or core.kb
    with progress_bar("Indexing the knowledge base") as update, setup_errors_end_the_command():
        report = kb.ensure_fresh(update)
    if report:
        print_problems(report)
        core.desk.queue_notices(report)
        if report.embedded or report.removed:
            err.print(
                f"[dim]Index brought up to date: {report.added} added, {report.updated} "
                f"updated, {report.removed} removed ({report.seconds:.1f}s).[/dim]"
            )
    if not kb.db["documents"].count:
        err.print(
            f"[yellow]The knowledge base is empty: no markdown files in {core.settings.knowledge_dir}. "
            "Add some, or set OSPO_KNOWLEDGE_DIR to your handbook folder.[/yellow]"
        )
    return kb


def print_problems(report) -> None:
    for path, problem in report.problems:
        err.print(f"[yellow]skipped {escape(path)}: {escape(problem)}[/yellow]")


def write_file(path: Path, data: str | bytes, newline: str | None = None) -> None:
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline=newline)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None
