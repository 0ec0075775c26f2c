"""The knowledge base as the rest of the bot sees it: sync, search, ask, record."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from bot.config import Settings
from bot.search.answer import MAX_QUESTION_CHARS, Answer, Source, build_answer
from bot.search.confidence import Confidence
from bot.search.documents import knowledge_files
from bot.search.index import Index, Progress, SyncReport
from bot.search.learning import Learning
from bot.search.quote import Quote, quote_section
from bot.search.retrieve import Retriever, SearchResult
from bot.store import now

log = logging.getLogger(__name__)

# How long a count of the vector store that answered may stand in for one that is slow to come: a
# busy server is not an outage, and a hung one is reported degraded after this long.
RECENT_COUNT_SECONDS = 30.0


class KnowledgeFolderError(RuntimeError):
    """The knowledge folder cannot be read; the message names the folder and the fix."""


def unreadable_folder(root: Path) -> str | None:
    """What stops us listing root or a folder below it (hidden ones are never read), or None.
    A folder that cannot be listed looks empty to a scan: syncing then would drop its documents."""
    errors: list[OSError] = []
    for _, folders, _ in os.walk(root, onerror=errors.append):
        folders[:] = [f for f in folders if not f.startswith(".")]
    if not errors:
        return None
    error = errors[0]
    return (
        f"cannot read {error.filename} in OSPO_KNOWLEDGE_DIR ({error.strerror or error}): give the user running "
        f"ospo-bot read access to it (e.g. chmod -R a+rX {root}), or point OSPO_KNOWLEDGE_DIR at a readable folder"
    )


def knowledge_problems(settings: Settings, need_documents: bool) -> list[str]:
    """What makes the knowledge folder unusable, one line each with the fix. need_documents: a
    folder without markdown counts (serving an empty knowledge base would answer nothing)."""
    unreadable = unreadable_folder(settings.knowledge_dir)
    if unreadable:
        return [unreadable]
    if need_documents and not knowledge_files(settings.knowledge_dir):
        return [
            f"OSPO_KNOWLEDGE_DIR ({settings.knowledge_dir}) holds no markdown files, so the bot could answer "
            "nothing: add the handbook's .md files there, or point OSPO_KNOWLEDGE_DIR at the folder that has them"
        ]
    return []


class VectorLook:
    """One count of the vector store, on a thread of its own (health checks wait for it a while)."""

    def __init__(self, index: Index):
        self.count: int | None = None
        self.error: Exception | None = None
        self.finished = 0.0  # time.monotonic() when it answered
        self.done = threading.Event()
        self._index = index
        threading.Thread(target=self._run, name="health-vectors", daemon=True).start()

    def _run(self) -> None:
        try:
            self.count = self._index.vectors.count()
        except Exception as error:
            self.error = error
        finally:
            self.finished = time.monotonic()
            self.done.set()


class KnowledgeBase:
    def __init__(self, settings: Settings, index: Index | None = None, mode: str = "hybrid", learned: bool = True):
        """learned: search with the phrasings learned from use too (off: the knowledge base alone, as
        `kb eval` measures it)."""
        self.settings = settings
        self.index = index or Index(settings)
        self.learning = Learning(self.index)
        self.retriever = Retriever(self.index, mode=mode, learning=self.learning if learned else None)
        self.confidence = Confidence(settings.confidence_threshold, settings.keyword_confidence_threshold)
        self._health_lock = threading.Lock()
        self._looking: VectorLook | None = None  # health's latest count of the vector store
        self._counted: VectorLook | None = None  # the latest count that answered, if the last one did

    @property
    def db(self):
        return self.index.db  # one connection per thread

    def sync(self, progress: Progress | None = None) -> SyncReport:
        self.check_readable()
        return self.index.sync(progress)

    def ensure_fresh(self, progress: Progress | None = None) -> SyncReport | None:
        """Sync only when the folder changed since the last sync (a cheap hash check)."""
        self.check_readable()
        if self.index.is_stale():
            return self.index.sync(progress)
        return None

    def check_readable(self) -> None:
        """Refuse to sync from a folder we cannot fully list: its documents would leave the index."""
        problem = unreadable_folder(self.settings.knowledge_dir)
        if problem:
            raise KnowledgeFolderError(problem)

    def warm_up(self) -> None:
        """Load the model (for questions too) and open the vector store now rather than on the first question."""
        self.index.embedder.warm_up()
        self.index.vectors.count()

    def health(self, within: float | None = None) -> dict:
        """Counts, and whether dense search is reachable (without it answers come from keyword
        search only: "degraded"). Cheap enough for a health check. within: seconds to wait for the
        vector store (None: as long as it takes), after which it counts as unreachable."""
        vectors = self._vector_count(within)
        return {
            "documents": self.db["documents"].count,
            "chunks": self.db["chunks"].count,
            "vectors": vectors,
            "degraded": vectors is None,
        }

    def _vector_count(self, within: float | None) -> int | None:
        """The vector store's count, or None when it fails or takes longer than `within`. A probe must
        answer within its own timeout (Kubernetes: 1 s), and a Chroma server that hangs would hold each
        probe, and an HTTP thread with it, for CHROMA_TIMEOUT_SECONDS; so the count runs on a thread of
        its own, one at a time: the probes that come while it still waits wait for that same count.
        A store that is slow rather than gone (a count over `within`, on a busy server) would fail every
        probe; so a count that answered within RECENT_COUNT_SECONDS stands in for the one still coming."""
        with self._health_lock:
            looking = self._looking
            if looking is None or looking.done.is_set():
                if looking is not None:
                    self._counted = looking if looking.error is None else None
                looking = self._looking = VectorLook(self.index)
            counted = self._counted
        if not looking.done.wait(within):
            if counted is not None and time.monotonic() - counted.finished <= RECENT_COUNT_SECONDS:
                return counted.count
            log.warning("health: the vector store did not answer within %s s; reported as degraded", within)
            return None
        if looking.error is not None:  # chromadb raises many kinds; all mean "not reachable now"
            log.warning("vector store unavailable (%s): answering from keyword search", looking.error)
        return looking.count

    def search(self, question: str, k: int = 5) -> SearchResult:
        return self.retriever.search(clean_question(question), k=k)

    def ask(
        self,
        question: str,
        *,
        user: str | None = None,
        channel: str | None = None,
        source: str = "cli",
        record: bool = True,
    ) -> Answer:
        question = clean_question(question)
        result = self.retriever.search(question, k=1 + 2)
        documents = (
            {
                row["path"]: row
                for row in self.db.query(
                    f"SELECT path, url, updated FROM documents WHERE path IN ({','.join('?' * len(result.documents))})",
                    [d.path for d in result.documents],
                )
            }
            if result.documents
            else {}
        )
        answer = build_answer(result, self.confidence, documents, self.section_text)
        if record:
            self.record(answer, user=user, channel=channel, source=source)
        return answer

    def section_text(self, section_id: str) -> str | None:
        """The text a quote of this section is taken from (markdown), or None if it is gone."""
        row = self.db.execute("SELECT text FROM sections WHERE id = ?", [section_id]).fetchone()
        return row[0] if row else None

    def section_quote(self, section_id: str) -> tuple[Source, Quote] | None:
        """A section on its own (a candidate the asker chose to see): where it is and its quote, or
        None if it is no longer in the knowledge base."""
        row = self.db.execute(
            "SELECT s.path, s.title, s.heading, s.anchor, s.text, d.url, d.updated FROM sections s "
            "JOIN documents d ON d.path = s.path WHERE s.id = ?",
            [section_id],
        ).fetchone()
        if row is None:
            return None
        path, title, heading, anchor, text, url, updated = row
        return Source(path, title, heading, anchor, 0.0, url, updated), quote_section(text)

    def record(self, answer: Answer, *, user: str | None, channel: str | None, source: str) -> int:
        top = answer.sources[0] if answer.sources else None
        with self.db.writing():
            return (
                self.db["questions"]
                .insert(
                    {
                        "asked_at": now(),
                        "user": user,
                        "channel": channel,
                        "question": answer.question,
                        "confident": int(answer.confident),
                        "top_score": top.score if top else None,
                        "top_path": top.path if top else None,
                        "source": source,
                    }
                )
                .last_pk
            )


def clean_question(question: str) -> str:
    question = " ".join(question.split())
    if not question:
        raise ValueError("the question is empty: ask something, e.g. 'do I need approval to fix a typo?'")
    return question[:MAX_QUESTION_CHARS]
